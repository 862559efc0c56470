//! The owner loop of the headless outputs (text, JSON lines): every event applied, then
//! printed; the first signal ends the run gracefully, a second at once.

use std::io;

use tokio::sync::mpsc;

use tokio::time::Instant;

use super::outbox::Outbox;
use super::session::{Session, apply};
use crate::clock::{RunClock, until};
use crate::output::{Recorder, RunInfo, Sink};
use crate::probe::Stop;
use crate::state::Monitor;

/// Runs to the end; returns when the summary is written.
pub async fn run(
    mut session: Session,
    monitor: &mut Monitor,
    sink: &mut dyn Sink,
    recorder: &mut Recorder,
    info: &RunInfo,
    signals: &mut mpsc::UnboundedReceiver<&'static str>,
) -> io::Result<()> {
    sink.begin(info)?;
    recorder.begin(info);
    let mut stops = 0;
    let mut outbox = Outbox::default();
    loop {
        let ready = tokio::select! {
            event = session.events.recv() => {
                let Some(event) = event else { break };
                let applied = apply(monitor, &session.controls, &event);
                outbox.push(event, applied, monitor, Instant::now())
            }
            () = until(outbox.due()) => outbox.release(monitor).into_iter().collect(),
            Some(signal) = signals.recv() => {
                stops += 1;
                tracing::info!(signal, "stopping");
                session.controls.stop(if stops == 1 { Stop::Graceful } else { Stop::Now });
                Vec::new()
            }
        };
        for (event, applied) in ready {
            recorder.event(&event, &applied, monitor);
            let told = sink
                .event(&event, &applied, monitor)
                .and_then(|()| tell_record_failure(recorder, monitor, sink, &session.clock));
            if let Err(error) = told {
                session.controls.stop(Stop::Now);
                return Err(error);
            }
        }
    }
    if let Some((event, applied)) = outbox.release(monitor) {
        recorder.event(&event, &applied, monitor);
        sink.event(&event, &applied, monitor)?;
    }
    let now = session.clock.now();
    let clock = session.clock;
    session.finish().await;
    recorder.end(monitor, now);
    tell_record_failure(recorder, monitor, sink, &clock)?;
    sink.end(monitor, now)
}

/// A record that cannot be written is said at once: on stderr, and as a notice.
fn tell_record_failure(
    recorder: &mut Recorder,
    monitor: &mut Monitor,
    sink: &mut dyn Sink,
    clock: &RunClock,
) -> io::Result<()> {
    let Some(why) = recorder.untold_failure() else {
        return Ok(());
    };
    eprintln!("failover-watch: warning: {why}");
    match monitor.record_failed(why, clock.now()) {
        Some(notice) => sink.notice(&notice),
        None => Ok(()),
    }
}
