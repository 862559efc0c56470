//! A run's session: where its inputs come from (the schedule started as a task, or a replay's
//! player), its clock and its controls.

use std::sync::Arc;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::clock::{RunClock, SessionClock};
use crate::probe::{Controls, Probe, Schedule, schedule};
use crate::state::Input;

/// Inputs in flight between their source and the owner; a slow owner slows the source,
/// never grows memory.
const EVENT_QUEUE: usize = 256;

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
