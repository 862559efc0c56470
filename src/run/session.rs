//! A run's session: where its inputs come from (the schedule started as a task, or a replay's
//! player), its clock and its controls; and, for a run a drill leads, the drill's hold on it
//! ([`Lead`]).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::{JoinHandle, JoinSet};

use crate::clock::{RunClock, SessionClock};
use crate::probe::{Controls, Probe, Schedule, Stop, schedule};
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
        Self::led(targets, clock).0
    }

    /// Starts the schedules as [`Self::start`] does, for a mode that leads the run (a drill):
    /// the run lasts until the [`Lead`] returned is dropped, as well as until the schedules
    /// end, so that what the drill does after a signal (its restore) is still watched.
    pub fn led<P: Probe>(targets: Vec<(Arc<P>, Schedule)>, clock: RunClock) -> (Self, Lead) {
        let schedules: Vec<Schedule> = targets.iter().map(|(_, s)| s.clone()).collect();
        let (controls, inputs) = schedule::controls(&schedules);
        let (tx, events) = mpsc::channel(EVENT_QUEUE);
        let lead = Lead {
            clock,
            inputs: tx.clone(),
            controls: controls.clone(),
        };
        let mut runs = JoinSet::new();
        for ((prober, schedule), inputs) in targets.into_iter().zip(inputs) {
            runs.spawn(schedule::run(prober, clock, schedule, inputs, tx.clone()));
        }
        // The channel closes when the last schedule ends (and the lead is dropped).
        drop(tx);
        let source = tokio::spawn(async move {
            while let Some(ended) = runs.join_next().await {
                if let Err(error) = ended {
                    tracing::error!(%error, "a target's schedule ended abnormally");
                }
            }
        });
        let session = Self {
            clock: SessionClock::Run(clock),
            events,
            controls,
            source,
        };
        (session, lead)
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

/// A drill's hold on the run it leads: its markers go in beside the schedule's events, it ends
/// the run when it is done, and it sees the run asked to stop (a signal, `q`) or its owner gone.
#[derive(Debug)]
pub struct Lead {
    pub clock: RunClock,
    inputs: mpsc::Sender<Input>,
    controls: Controls,
}

impl Lead {
    /// The run's time now.
    pub fn now(&self) -> Duration {
        self.clock.now()
    }

    /// Drops a marker labelled `label` now; nothing happens once the owner is gone.
    pub async fn mark(&self, label: &str) {
        let mark = Input::Mark {
            at: self.clock.now(),
            after_seq: None,
            label: Some(label.to_owned()),
        };
        let _ = self.inputs.send(mark).await;
    }

    /// Ends the run: no new probe, the answers in flight waited for a grace. The run's owner
    /// ends once this lead is dropped too.
    pub fn end(&self) {
        self.controls.stop(Stop::Graceful);
    }

    /// Waits until the run is asked to stop from elsewhere: a signal, `q` on the dashboard.
    pub async fn stop_asked(&self) {
        self.controls.stop_asked().await;
    }

    /// Waits until the owner of the run is gone (its run failed).
    pub async fn owner_gone(&self) {
        self.inputs.closed().await;
    }
}
