//! A run's session: where its inputs come from (the schedule started as a task, or a replay's
//! player), its clock and its controls.

use std::sync::Arc;

use tokio::sync::mpsc;
use tokio::task::{JoinHandle, JoinSet};

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
    /// Starts the schedules of a run's targets on `clock` (started now: [`RunClock::start`]),
    /// each with its prober, their events on one channel.
    pub fn start<P: Probe>(targets: Vec<(Arc<P>, Schedule)>, clock: RunClock) -> Self {
        let schedules: Vec<Schedule> = targets.iter().map(|(_, s)| s.clone()).collect();
        let (controls, inputs) = schedule::controls(&schedules);
        let (tx, events) = mpsc::channel(EVENT_QUEUE);
        let mut runs = JoinSet::new();
        for ((prober, schedule), inputs) in targets.into_iter().zip(inputs) {
            runs.spawn(schedule::run(prober, clock, schedule, inputs, tx.clone()));
        }
        // The channel closes when the last schedule ends.
        drop(tx);
        let source = tokio::spawn(async move {
            while let Some(ended) = runs.join_next().await {
                if let Err(error) = ended {
                    tracing::error!(%error, "a target's schedule ended abnormally");
                }
            }
        });
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
