//! A run: the schedule started as a task, and the owner loop that applies its events to the
//! state and hands them to an output.

use std::io;
use std::sync::Arc;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::clock::RunClock;
use crate::output::{Recorder, RunInfo, Sink};
use crate::probe::{Controls, Probe, ProbeEvent, Schedule, Stop, schedule};
use crate::state::{Applied, Monitor};

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
    pub fn start<P: Probe>(prober: Arc<P>, schedule: Schedule) -> Self {
        let clock = RunClock::start();
        let (controls, inputs) = schedule::controls(schedule.interval);
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

/// The owner loop for the headless outputs: every event applied, then printed; the first
/// signal ends the run gracefully, a second at once. Returns when the summary is written.
pub async fn headless(
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
    loop {
        tokio::select! {
            event = session.events.recv() => {
                let Some(event) = event else { break };
                let applied = apply(monitor, recorder, &event);
                if let Err(error) = sink.event(&event, &applied, monitor) {
                    session.controls.stop(Stop::Now);
                    return Err(error);
                }
            }
            Some(signal) = signals.recv() => {
                stops += 1;
                tracing::info!(signal, "stopping");
                session.controls.stop(if stops == 1 { Stop::Graceful } else { Stop::Now });
            }
        }
    }
    let now = session.clock.now();
    session.finish().await;
    recorder.end(monitor, now);
    sink.end(monitor, now)
}

/// Applies one probe event to the state, records it, and logs a transition (the log's
/// story of a long run).
pub fn apply(monitor: &mut Monitor, recorder: &mut Recorder, event: &ProbeEvent) -> Applied {
    let applied = monitor.apply(event);
    recorder.event(event, &applied, monitor);
    if let Some(t) = &applied.transition {
        tracing::info!(
            kind = t.kind.as_str(),
            seq = t.seq,
            from = t.from_model.as_deref().unwrap_or(t.from.as_str()),
            to = t.to_model.as_deref().unwrap_or(t.to.as_str()),
            previous_secs = t.previous.as_secs_f64(),
            failed_during = t.failed_during,
            "transition"
        );
    }
    applied
}
