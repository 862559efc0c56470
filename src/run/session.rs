//! A run's session: where its inputs come from (the schedule started as a task, or a
//! replay's player), its clock, its controls, and how one input is applied.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::clock::{RunClock, SessionClock};
use crate::control::MarkRequest;
use crate::output::Told;
use crate::probe::{Controls, Probe, ProbeEvent, Schedule, schedule};
use crate::state::{Applied, Monitor, PrimaryKind, PrimaryState};

/// Inputs in flight between their source and the owner; a slow owner slows the source,
/// never grows memory.
const EVENT_QUEUE: usize = 256;

/// What the owner of the state applies, in the order it comes.
#[derive(Debug)]
pub enum Input {
    Probe(ProbeEvent),
    /// A marker dropped at `at`, after request `after_seq` when that is known (a key pressed
    /// before the label was typed, a record); its number goes back to whoever asked.
    Mark {
        at: Duration,
        after_seq: Option<u64>,
        label: Option<String>,
        answer: Option<oneshot::Sender<u32>>,
    },
    /// The dashboard's counters start afresh (`r`).
    ResetCounters {
        at: Duration,
    },
    /// The time between probes is `every` from `at` on (`+`/`-`, a record).
    Interval {
        at: Duration,
        every: Duration,
    },
    /// The whole state starts over: a replay stepping back plays the run again.
    Restart,
}

impl Input {
    /// A marker `failover-watch mark` asked for, dropped now (`at`).
    pub fn asked(mark: MarkRequest, at: Duration) -> Self {
        Self::Mark {
            at,
            after_seq: None,
            label: mark.label,
            answer: Some(mark.answer),
        }
    }
}

impl From<ProbeEvent> for Input {
    fn from(event: ProbeEvent) -> Self {
        Self::Probe(event)
    }
}

/// A running source of inputs, seen from the owner of the state.
pub struct Session {
    pub clock: SessionClock,
    pub events: mpsc::Receiver<Input>,
    pub controls: Controls,
    source: JoinHandle<()>,
}

impl Session {
    /// Starts the schedule on `clock` (started now: [`RunClock::start`]).
    pub fn start<P: Probe>(prober: Arc<P>, schedule: Schedule, clock: RunClock) -> Self {
        let (controls, inputs) = schedule::controls(&schedule);
        let (tx, events) = mpsc::channel(EVENT_QUEUE);
        let source = tokio::spawn(schedule::run(prober, clock, schedule, inputs, tx));
        Self {
            clock: SessionClock::Run(clock),
            events,
            controls,
            source,
        }
    }

    /// A session fed by `source`, which sends on the returned sender and ends when told to
    /// stop through the controls.
    pub fn fed<F>(clock: SessionClock, controls: Controls, source: F) -> Self
    where
        F: FnOnce(mpsc::Sender<Input>) -> JoinHandle<()>,
    {
        let (tx, events) = mpsc::channel(EVENT_QUEUE);
        Self {
            clock,
            events,
            controls,
            source: source(tx),
        }
    }

    /// Waits for the source once its channel has closed.
    pub async fn finish(self) {
        if let Err(error) = self.source.await {
            tracing::error!(%error, "the source of the run ended abnormally");
        }
    }
}

/// Applies one input to the state; what the outputs are to be told of it.
pub fn apply(monitor: &mut Monitor, controls: &Controls, input: Input) -> Option<Told> {
    match input {
        Input::Probe(event) => {
            let applied = apply_event(monitor, controls, &event);
            Some(Told::Probe(event, Box::new(applied)))
        }
        Input::Mark {
            at,
            after_seq,
            label,
            answer,
        } => {
            let marker = monitor.mark(at, after_seq, label).clone();
            tracing::info!(
                marker = marker.id,
                label = marker.label.as_deref(),
                "marker dropped"
            );
            if let Some(answer) = answer {
                let _ = answer.send(marker.id);
            }
            Some(Told::Marker(marker))
        }
        Input::ResetCounters { at } => {
            monitor.reset_counters(at);
            Some(Told::Reset(at))
        }
        Input::Interval { at, every } => {
            controls.set_interval(every);
            tracing::info!(interval = ?every, "interval changed");
            Some(Told::Interval { at, every })
        }
        Input::Restart => {
            monitor.restart();
            None
        }
    }
}

/// Applies one probe event to the state, logs a transition (the log's story of a long run),
/// and stops the direct lane when the proxy refuses it.
fn apply_event(monitor: &mut Monitor, controls: &Controls, event: &ProbeEvent) -> Applied {
    let applied = monitor.apply(event);
    if let Some(notice) = &applied.notice {
        tracing::warn!(kind = ?notice.kind, "{}", notice.message);
    }
    if let Some(change) = &applied.primary {
        tracing::info!(
            from = change.from.map(PrimaryKind::as_str),
            to = change.to.kind().map(PrimaryKind::as_str),
            message = change.to.message(),
            "the primary's own state changed"
        );
        if let PrimaryState::Refused { .. } = change.to {
            controls.stop_direct();
        }
    }
    if let Some(t) = &applied.transition {
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
    applied
}
