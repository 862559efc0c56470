//! The single owner of the state, for every run: the dashboard's and the headless ones. It
//! takes the session's inputs, the markers asked from outside and the signals, and what its
//! front (the dashboard's keys, or nothing) asks; applies each to the state; and tells the
//! outputs what the state said, in order, through the outbox. Nothing blocking runs here:
//! outputs write through pipes, the dashboard draws a few frames a second at most.

use std::future::Future;
use std::io;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;

use super::outbox::Outbox;
use super::session::Session;
use crate::clock::{SessionClock, until};
use crate::control::MarkRequest;
use crate::output::{Outputs, RunInfo};
use crate::probe::{Controls, DirectMode, Stop};
use crate::state::{Input, NoticeKind, PrimaryKind, PrimaryState, Told, Watch};

/// What the owner's front (the dashboard, or nothing) adds to a run: its own events, what it
/// makes of them, and the screen.
pub trait Front {
    type Event;

    /// Waits for the front's next event; never comes for a front without any.
    fn next(&mut self) -> impl Future<Output = Self::Event>;
    /// What an event asks of the owner.
    fn handle(&mut self, event: Self::Event, watch: &Watch, now: Duration) -> io::Result<Asked>;
    /// Shows the state, when something changed and a frame is due.
    fn show(&mut self, watch: &Watch, clock: &SessionClock) -> io::Result<()>;
    /// An input is about to be applied.
    fn applied(&mut self, input: &Input, now: Duration);
    /// The run is asked to stop for the `stops`-th time, `waiting` requests unanswered: how.
    fn stopping(&mut self, stops: u32, waiting: usize, now: Duration) -> Stop;
    /// An output stopped while the run goes on (the record).
    fn warn(&mut self, message: &str);
}

/// What a front's event asks of the owner.
pub enum Asked {
    Nothing,
    Quit,
    Input(Input),
}

/// A run without a screen: its outputs are all it shows.
pub struct Headless;

impl Front for Headless {
    type Event = std::convert::Infallible;

    fn next(&mut self) -> impl Future<Output = Self::Event> {
        std::future::pending()
    }

    fn handle(&mut self, event: Self::Event, _: &Watch, _: Duration) -> io::Result<Asked> {
        match event {}
    }

    fn show(&mut self, _: &Watch, _: &SessionClock) -> io::Result<()> {
        Ok(())
    }

    fn applied(&mut self, _: &Input, _: Duration) {}

    /// The first signal waits a grace for the answers in flight, a second ends at once.
    fn stopping(&mut self, stops: u32, _waiting: usize, _now: Duration) -> Stop {
        if stops == 1 {
            Stop::Graceful
        } else {
            Stop::Now
        }
    }

    fn warn(&mut self, message: &str) {
        eprintln!("failover-watch: warning: {message}");
    }
}

/// Where the owner's inputs come from, besides the session and the front.
pub struct Inputs<'a> {
    pub signals: &'a mut mpsc::UnboundedReceiver<&'static str>,
    /// Markers asked for from outside (`failover-watch mark`), or why none can be.
    pub marks: Result<mpsc::Receiver<MarkRequest>, String>,
}

/// What woke the owner.
enum Woke<E> {
    Input(Input),
    Ended,
    Due,
    Mark(MarkRequest),
    Signal(&'static str),
    Front(E),
}

/// Runs `session` to its end; returns the moment it ended, once the outputs were told it.
pub async fn run<F: Front>(
    mut session: Session,
    watch: &mut Watch,
    outputs: &mut Outputs,
    front: &mut F,
    info: &RunInfo,
    inputs: Inputs<'_>,
) -> io::Result<Duration> {
    outputs.begin(info)?;
    let mut marks = match inputs.marks {
        Ok(marks) => marks,
        Err(why) => {
            front.warn(&why);
            let at = session.clock.now();
            if let Some(notice) = watch.shell_notice(NoticeKind::MarkUnavailable, why, at) {
                outputs.tell_all(&notice, watch)?;
            }
            mpsc::channel(1).1
        }
    };
    let mut stops = 0;
    let mut outbox = Outbox::default();
    loop {
        front.show(watch, &session.clock)?;
        let woke = tokio::select! {
            input = session.events.recv() => input.map_or(Woke::Ended, Woke::Input),
            () = until(outbox.due()) => Woke::Due,
            Some(mark) = marks.recv() => Woke::Mark(mark),
            Some(signal) = inputs.signals.recv() => Woke::Signal(signal),
            event = front.next() => Woke::Front(event),
        };
        let now = session.clock.now();
        let (input, mut answer) = match woke {
            Woke::Input(input) => (input, None),
            Woke::Ended => break,
            Woke::Due => {
                let due = outbox.release_due(Instant::now());
                tell(due, watch, outputs, front, &session)?;
                continue;
            }
            // Dropped only while the asker still waits: dropping and answering are one decision.
            Woke::Mark(mark) if Instant::now() > mark.deadline => {
                tracing::warn!("a marker asked too late was not dropped");
                continue;
            }
            Woke::Mark(mark) => {
                let input = Input::Mark {
                    at: now,
                    after_seq: None,
                    label: mark.label,
                };
                (input, Some(mark.answer))
            }
            Woke::Signal(signal) => {
                tracing::info!(signal, "stopping");
                stops += 1;
                let how = front.stopping(stops, watch.in_flight(), now);
                session.controls.stop(how);
                continue;
            }
            Woke::Front(event) => match front.handle(event, watch, now)? {
                Asked::Nothing => continue,
                Asked::Quit => {
                    stops += 1;
                    let how = front.stopping(stops, watch.in_flight(), now);
                    session.controls.stop(how);
                    continue;
                }
                Asked::Input(input) => (input, None),
            },
        };
        let input = match input {
            // A replay plays the run again from its start: nothing held is told.
            Input::Restart => {
                outbox.clear();
                Input::Restart
            }
            // As set: never shorter than `--max-rate` allows.
            Input::Interval { at, every } => {
                let every = session.controls.set_interval(every);
                tracing::info!(interval = ?every, "interval changed");
                Input::Interval { at, every }
            }
            other => other,
        };
        front.applied(&input, now);
        let about = match &input {
            Input::Probe(event) => Some(event.target()),
            _ => None,
        };
        for told in watch.apply(input) {
            act(&told, &session.controls);
            if let (Told::Marker(marker), Some(answer)) = (&told, answer.take()) {
                let _ = answer.send(marker.id);
            }
            if let Err(error) = outputs.tell_live(&told, watch) {
                session.controls.stop(Stop::Now);
                return Err(error);
            }
            let ready = outbox.push(told, Instant::now());
            tell(ready, watch, outputs, front, &session)?;
        }
        // The quiet lane's probes, asked of the schedule as soon as the state wants them.
        for (target, lane) in watch.lane_wanted(about, session.clock.now()) {
            session.controls.probe_now(target, lane);
        }
    }
    let held = outbox.release_all();
    tell(held, watch, outputs, front, &session)?;
    let end = session.clock.end();
    session.finish().await;
    outputs.end(watch, end)?;
    Ok(end)
}

/// Tells the outputs; an output that fails ends the run at once, one that stops while the run
/// goes on (the record) is told as a notice and a warning.
fn tell<F: Front>(
    ready: Vec<Told>,
    watch: &mut Watch,
    outputs: &mut Outputs,
    front: &mut F,
    session: &Session,
) -> io::Result<()> {
    for told in ready {
        if let Err(error) = outputs.tell(&told, watch) {
            session.controls.stop(Stop::Now);
            return Err(error);
        }
        for why in outputs.untold_failures() {
            front.warn(&why);
            let at = session.clock.now();
            if let Some(notice) = watch.shell_notice(NoticeKind::RecordFailed, why, at) {
                outputs.tell_all(&notice, watch)?;
            }
        }
    }
    Ok(())
}

/// What the shell does of what the state said: the log's story of a long run, and no more
/// direct probes once the proxy refuses them.
fn act(told: &Told, controls: &Controls) {
    if let Some(change) = told.primary_change() {
        tracing::info!(
            from = change.from.map(PrimaryKind::as_str),
            to = change.to.kind().map(PrimaryKind::as_str),
            message = change.to.message(),
            "the primary's own state changed"
        );
        if let (PrimaryState::Refused { .. }, Some(target)) = (&change.to, told.target()) {
            controls.set_direct(target, DirectMode::Off);
        }
    }
    match told {
        Told::Notice { notice, .. } => {
            tracing::warn!(kind = ?notice.kind, "{}", notice.message);
        }
        Told::Direct(direct) => {
            if let Some(mode) = direct.lane_mode {
                tracing::warn!(
                    mode = mode.as_str(),
                    "the primary's lane changes how it probes"
                );
                controls.set_direct(direct.outcome.target, mode);
            }
        }
        Told::Request(request) => {
            if let Some(t) = &request.transition {
                tracing::info!(
                    kind = t.kind.as_str(),
                    seq = t.seq,
                    from = t.from_model.as_deref().unwrap_or(t.from.as_str()),
                    to = t.to_model.as_deref().unwrap_or(t.to.as_str()),
                    previous_secs = t.previous.as_secs_f64(),
                    failed_during = t.failed_during,
                    cause = t.cause.as_deref(),
                    "transition"
                );
            }
        }
        Told::Marker(marker) => {
            tracing::info!(
                marker = marker.id,
                label = marker.label.as_deref(),
                "marker dropped"
            );
        }
        _ => {}
    }
}
