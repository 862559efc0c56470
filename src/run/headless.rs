//! The owner loop of the headless outputs (text, JSON lines): every input applied, then
//! printed; the first signal ends the run gracefully, a second at once.

use std::io;

use tokio::sync::mpsc;
use tokio::time::Instant;

use super::outbox::Outbox;
use super::session::{Input, Session, apply};
use super::taps::Taps;
use crate::clock::{SessionClock, until};
use crate::control::MarkRequest;
use crate::output::{RunInfo, Sink, Told, tell};
use crate::probe::Stop;
use crate::state::Monitor;

/// Where the loop's inputs come from, besides the session.
pub struct Inputs<'a> {
    pub signals: &'a mut mpsc::UnboundedReceiver<&'static str>,
    /// Markers asked for from outside (`failover-watch mark`).
    pub marks: mpsc::Receiver<MarkRequest>,
}

/// Runs to the end; returns when the summary is written.
pub async fn run(
    mut session: Session,
    monitor: &mut Monitor,
    sink: &mut dyn Sink,
    taps: &mut Taps,
    info: &RunInfo,
    mut inputs: Inputs<'_>,
) -> io::Result<()> {
    sink.begin(info)?;
    taps.begin(info);
    let mut stops = 0;
    let mut outbox = Outbox::default();
    loop {
        let input = tokio::select! {
            input = session.events.recv() => {
                let Some(input) = input else { break };
                input
            }
            () = until(outbox.due()) => {
                let held = outbox.release(monitor);
                tell_all(held, monitor, sink, taps, &session)?;
                continue;
            }
            Some(mark) = inputs.marks.recv() => Input::asked(mark, session.clock.now()),
            Some(signal) = inputs.signals.recv() => {
                stops += 1;
                tracing::info!(signal, "stopping");
                session.controls.stop(if stops == 1 { Stop::Graceful } else { Stop::Now });
                continue;
            }
        };
        if let Input::Restart = input {
            outbox.clear();
        }
        let Some(told) = apply(monitor, &session.controls, input) else {
            continue;
        };
        let ready = outbox.push(told, monitor, Instant::now());
        tell_all(ready, monitor, sink, taps, &session)?;
    }
    let held = outbox.release(monitor);
    tell_all(held, monitor, sink, taps, &session)?;
    let now = session.clock.end();
    let clock = session.clock.clone();
    session.finish().await;
    taps.end(monitor, now);
    tell_record_failure(taps, monitor, sink, &clock)?;
    sink.end(monitor, now)
}

/// Tells the record and the output; a failed output ends the run at once.
fn tell_all(
    ready: impl IntoIterator<Item = Told>,
    monitor: &mut Monitor,
    sink: &mut dyn Sink,
    taps: &mut Taps,
    session: &Session,
) -> io::Result<()> {
    for told in ready {
        taps.tell(&told, monitor);
        let told = tell(sink, &told, monitor)
            .and_then(|()| tell_record_failure(taps, monitor, sink, &session.clock));
        if let Err(error) = told {
            session.controls.stop(Stop::Now);
            return Err(error);
        }
    }
    Ok(())
}

/// A record that cannot be written is said at once: on stderr, and as a notice.
fn tell_record_failure(
    taps: &mut Taps,
    monitor: &mut Monitor,
    sink: &mut dyn Sink,
    clock: &SessionClock,
) -> io::Result<()> {
    let Some(why) = taps.untold_failure() else {
        return Ok(());
    };
    eprintln!("failover-watch: warning: {why}");
    match monitor.record_failed(why, clock.now()) {
        Some(notice) => sink.notice(&notice),
        None => Ok(()),
    }
}
