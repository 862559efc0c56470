//! The fixed schedule: a probe leaves every interval whether or not earlier ones have
//! answered, so a hung primary (30 s per request) never freezes the story.
//!
//! Probes are numbered in send order and answer in any order. At most `max_in_flight` are
//! unanswered at once; a tick that finds the limit reached is skipped and reported. When the
//! run ends, unanswered probes get a grace period, then are reported as abandoned.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio::task::{Id, JoinSet};
use tokio::time::{Instant, sleep_until};

use super::errors::timeout_failure;
use super::outcome::{ProbeEvent, ProbeOutcome, ProbeReport};
use crate::clock::RunClock;

/// Sends one request and reports what came back. Implemented by the HTTP prober and by
/// scripted probers in tests.
pub trait Probe: Send + Sync + 'static {
    fn probe(&self) -> impl Future<Output = ProbeReport> + Send;
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Schedule {
    pub interval: Duration,
    /// Limit for one probe, from sending to the complete answer.
    pub timeout: Duration,
    pub max_in_flight: usize,
    /// Send this many probes, wait for their answers, then end.
    pub count: Option<u64>,
    /// End this long after the start.
    pub duration: Option<Duration>,
    /// How long unanswered probes are waited for when the run ends by time or by signal.
    pub grace: Duration,
}

impl Schedule {
    /// The grace unanswered probes get at the end: short, and never beyond the timeout.
    pub fn default_grace(timeout: Duration) -> Duration {
        timeout.min(Duration::from_secs(5))
    }
}

/// How to end a run early.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// Stop sending; wait the grace period for unanswered probes.
    Graceful,
    /// Stop sending and abandon unanswered probes at once.
    Now,
}

/// The owner's handle on a running schedule.
#[derive(Debug)]
pub struct Controls {
    interval: watch::Sender<Duration>,
    stop: watch::Sender<Option<Stop>>,
}

impl Controls {
    pub fn set_interval(&self, interval: Duration) {
        self.interval.send_replace(interval);
    }

    pub fn stop(&self, how: Stop) {
        self.stop.send_replace(Some(how));
    }
}

/// The schedule's side of the controls.
#[derive(Debug)]
pub struct ControlInputs {
    interval: watch::Receiver<Duration>,
    stop: watch::Receiver<Option<Stop>>,
}

pub fn controls(interval: Duration) -> (Controls, ControlInputs) {
    let (interval_tx, interval_rx) = watch::channel(interval);
    let (stop_tx, stop_rx) = watch::channel(None);
    (
        Controls {
            interval: interval_tx,
            stop: stop_tx,
        },
        ControlInputs {
            interval: interval_rx,
            stop: stop_rx,
        },
    )
}

/// Runs the schedule until it ends; closing `events` (by returning) tells the owner so.
pub async fn run<P: Probe>(
    prober: Arc<P>,
    clock: RunClock,
    schedule: Schedule,
    mut inputs: ControlInputs,
    events: mpsc::Sender<ProbeEvent>,
) {
    let mut tasks = JoinSet::new();
    let mut in_flight: HashMap<Id, (u64, Duration)> = HashMap::new();
    let mut seq = 0u64;
    let mut interval = *inputs.interval.borrow_and_update();
    let mut next_tick = Instant::now();
    let mut last_tick = next_tick;
    let deadline = schedule.duration.map(|d| clock.instant_at(d));
    let mut stop = *inputs.stop.borrow_and_update();

    while stop.is_none() && schedule.count.is_none_or(|n| seq < n) {
        tokio::select! {
            () = sleep_until(next_tick) => {
                last_tick = next_tick;
                next_tick += interval;
                // Fell behind (a stalled process): restart the grid rather than burst.
                let now = Instant::now();
                if next_tick <= now {
                    next_tick = now + interval;
                }
                let at = clock.now();
                if tasks.len() >= schedule.max_in_flight {
                    let skipped = ProbeEvent::Skipped { at, in_flight: tasks.len() };
                    if events.send(skipped).await.is_err() {
                        return;
                    }
                    continue;
                }
                seq += 1;
                if events.send(ProbeEvent::Sent { seq, at }).await.is_err() {
                    return;
                }
                let task = probe_task(prober.clone(), seq, at, clock, schedule.timeout, events.clone());
                let handle = tasks.spawn(task);
                in_flight.insert(handle.id(), (seq, at));
            }
            Some(done) = tasks.join_next_with_id(), if !tasks.is_empty() => {
                reap(done, &mut in_flight, &events, &clock).await;
            }
            () = until(deadline) => break,
            Ok(()) = inputs.interval.changed() => {
                interval = *inputs.interval.borrow_and_update();
                next_tick = (last_tick + interval).max(Instant::now());
            }
            Ok(()) = inputs.stop.changed() => {
                stop = *inputs.stop.borrow_and_update();
            }
        }
    }

    // A count ends when its answers are in (each bounded by the timeout); time and signals
    // end after a short grace.
    let mut grace_end = match (stop, schedule.count) {
        (None, Some(n)) if seq >= n => None,
        _ => Some(Instant::now() + schedule.grace),
    };
    while !tasks.is_empty() && stop != Some(Stop::Now) {
        tokio::select! {
            Some(done) = tasks.join_next_with_id() => {
                reap(done, &mut in_flight, &events, &clock).await;
            }
            () = until(grace_end) => break,
            Ok(()) = inputs.stop.changed() => {
                stop = *inputs.stop.borrow_and_update();
                grace_end = grace_end.or(Some(Instant::now() + schedule.grace));
            }
        }
    }
    tasks.abort_all();
    while let Some(done) = tasks.join_next_with_id().await {
        reap(done, &mut in_flight, &events, &clock).await;
    }
}

/// Sleeps until `deadline`, or forever without one.
async fn until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

/// Forgets a finished probe task; one that did not finish by itself is reported abandoned.
async fn reap(
    done: Result<(Id, ()), tokio::task::JoinError>,
    in_flight: &mut HashMap<Id, (u64, Duration)>,
    events: &mpsc::Sender<ProbeEvent>,
    clock: &RunClock,
) {
    let id = match &done {
        Ok((id, ())) => *id,
        Err(error) => error.id(),
    };
    let Some((seq, sent_at)) = in_flight.remove(&id) else {
        return;
    };
    if let Err(error) = done {
        if error.is_panic() {
            tracing::error!(seq, "a probe panicked");
        }
        let abandoned = ProbeEvent::Abandoned {
            seq,
            sent_at,
            at: clock.now(),
        };
        let _ = events.send(abandoned).await;
    }
}

async fn probe_task<P: Probe>(
    prober: Arc<P>,
    seq: u64,
    sent_at: Duration,
    clock: RunClock,
    timeout: Duration,
    events: mpsc::Sender<ProbeEvent>,
) {
    let report = match tokio::time::timeout(timeout, prober.probe()).await {
        Ok(report) => report,
        Err(_) => ProbeReport::failed(
            clock.now().saturating_sub(sent_at),
            timeout_failure(timeout),
        ),
    };
    let outcome = ProbeOutcome {
        seq,
        sent_at,
        report,
    };
    tracing::debug!(seq, latency = ?outcome.latency(), ok = outcome.report.result.is_ok(), "probe answered");
    let _ = events.send(ProbeEvent::Answered(Box::new(outcome))).await;
}
