//! A run's session: the schedule started as a task, its events and controls as the owner of
//! the state sees them, and how one event is applied.

use std::sync::Arc;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::clock::RunClock;
use crate::probe::{Controls, Probe, ProbeEvent, Schedule, schedule};
use crate::state::{Applied, Monitor, PrimaryKind, PrimaryState};

/// Probe events in flight between the schedule and the owner; a slow owner slows the
/// probes' reporting, never grows memory.
const EVENT_QUEUE: usize = 256;

/// A running schedule, seen from the owner of the state.
pub struct Session {
    pub clock: RunClock,
    pub events: mpsc::Receiver<ProbeEvent>,
    pub controls: Controls,
    poller: JoinHandle<()>,
}

impl Session {
    /// Starts the schedule on `clock` (started now: [`RunClock::start`]).
    pub fn start<P: Probe>(prober: Arc<P>, schedule: Schedule, clock: RunClock) -> Self {
        let (controls, inputs) = schedule::controls(&schedule);
        let (tx, events) = mpsc::channel(EVENT_QUEUE);
        let poller = tokio::spawn(schedule::run(prober, clock, schedule, inputs, tx));
        Self {
            clock,
            events,
            controls,
            poller,
        }
    }

    /// Waits for the schedule task once its channel has closed.
    pub async fn finish(self) {
        if let Err(error) = self.poller.await {
            tracing::error!(%error, "the probe schedule ended abnormally");
        }
    }
}

/// Applies one probe event to the state, logs a transition (the log's story of a long run),
/// and stops the direct lane when the proxy refuses it.
pub fn apply(monitor: &mut Monitor, controls: &Controls, event: &ProbeEvent) -> Applied {
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
