//! The fixed schedule: a probe leaves every interval whether or not earlier ones have
//! answered, so a hung primary (30 s per request) never freezes the story.
//!
//! Probes are numbered in send order and answer in any order. At most `max_in_flight` are
//! unanswered at once; a tick that finds the limit reached is skipped and reported. When the
//! run ends, unanswered probes get a grace period, then are reported as abandoned.
//!
//! The primary's lane has probes of its own, numbered and limited apart: with `--direct probe`
//! every tick also sends a direct probe of the primary; the quiet lane (`--direct quiet`)
//! sends one (a direct probe, or LiteLLM's health check) only when the owner asks for it
//! ([`Controls::probe_now`]). The owner stops the lane when the proxy refuses it.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio::task::{Id, JoinSet};
use tokio::time::{Instant, sleep_until};

use super::errors::timeout_failure;
use super::event::{DirectMode, Lane, ProbeEvent, ProbeOutcome, ProbeReport, TargetId};
use crate::clock::{RunClock, until, whole_micros};

/// Sends one request of a lane and reports what came back. Implemented by the HTTP prober and
/// by scripted probers in tests.
pub trait Probe: Send + Sync + 'static {
    /// The most a prober may take after the timeout to tell who served an answer that came
    /// in time (a look-up of its own): the schedule cuts a probe off only after both.
    const ATTRIBUTION_TIME: Duration = Duration::ZERO;

    fn probe(&self, lane: Lane) -> impl Future<Output = ProbeReport> + Send;
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Schedule {
    /// The target whose probes these are.
    pub target: TargetId,
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
    /// How the primary's own lane is probed.
    pub direct: DirectMode,
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

/// The owner's handle on a running schedule (and a drill's, which ends the run it leads).
#[derive(Clone, Debug)]
pub struct Controls {
    interval: watch::Sender<Duration>,
    stop: watch::Sender<Option<Stop>>,
    direct: watch::Sender<DirectMode>,
    now: mpsc::UnboundedSender<Lane>,
}

impl Controls {
    pub fn set_interval(&self, interval: Duration) {
        self.interval.send_replace(interval);
    }

    pub fn stop(&self, how: Stop) {
        self.stop.send_replace(Some(how));
    }

    /// Waits until the run is asked to stop (a signal, `q`), by whoever holds the controls.
    pub async fn stop_asked(&self) {
        let _ = self.stop.subscribe().wait_for(Option::is_some).await;
    }

    /// Probes the primary's lane from now on as `mode` says (the proxy refuses direct probes:
    /// off; it has no health check: probe).
    pub fn set_direct(&self, mode: DirectMode) {
        self.direct.send_replace(mode);
    }

    /// Sends one probe of `lane` at once, outside the ticks (the quiet lane's).
    pub fn probe_now(&self, lane: Lane) {
        let _ = self.now.send(lane);
    }
}

/// The schedule's side of the controls.
#[derive(Debug)]
pub struct ControlInputs {
    interval: watch::Receiver<Duration>,
    stop: watch::Receiver<Option<Stop>>,
    direct: watch::Receiver<DirectMode>,
    now: mpsc::UnboundedReceiver<Lane>,
}

impl ControlInputs {
    /// Waits until the owner asks to stop (or is gone): for a source other than the schedule.
    pub async fn stopped(&mut self) {
        let _ = self.stop.wait_for(Option::is_some).await;
    }
}

pub fn controls(schedule: &Schedule) -> (Controls, ControlInputs) {
    controls_with(schedule.interval, schedule.direct)
}

/// Controls for a source other than a schedule (a replay): only stopping means anything.
pub fn controls_alone() -> (Controls, ControlInputs) {
    controls_with(Duration::from_secs(1), DirectMode::Off)
}

fn controls_with(interval: Duration, direct: DirectMode) -> (Controls, ControlInputs) {
    let (interval_tx, interval_rx) = watch::channel(interval);
    let (stop_tx, stop_rx) = watch::channel(None);
    let (direct_tx, direct_rx) = watch::channel(direct);
    let (now_tx, now_rx) = mpsc::unbounded_channel();
    (
        Controls {
            interval: interval_tx,
            stop: stop_tx,
            direct: direct_tx,
            now: now_tx,
        },
        ControlInputs {
            interval: interval_rx,
            stop: stop_rx,
            direct: direct_rx,
            now: now_rx,
        },
    )
}

/// A probe that left: its target, lane, number and moment.
#[derive(Clone, Copy, Debug)]
struct Sent {
    target: TargetId,
    lane: Lane,
    seq: u64,
    at: Duration,
}

/// One lane's probes: numbered, and counted while in flight.
#[derive(Default)]
struct LaneState {
    seq: u64,
    in_flight: usize,
}

/// Runs the schedule until it ends; closing `events` (by returning) tells the owner so.
pub async fn run<P: Probe, E: From<ProbeEvent> + Send + 'static>(
    prober: Arc<P>,
    clock: RunClock,
    schedule: Schedule,
    mut inputs: ControlInputs,
    events: mpsc::Sender<E>,
) {
    let mut tasks = JoinSet::new();
    let mut in_flight: HashMap<Id, Sent> = HashMap::new();
    let mut lanes = [
        LaneState::default(),
        LaneState::default(),
        LaneState::default(),
    ];
    let mut interval = *inputs.interval.borrow_and_update();
    let mut next_tick = Instant::now();
    let mut last_tick = next_tick;
    let deadline = schedule.duration.map(|d| clock.instant_at(d));
    let mut stop = *inputs.stop.borrow_and_update();

    let target = schedule.target;
    let send = async |lane: Lane,
                      at: Duration,
                      lanes: &mut [LaneState; 3],
                      tasks: &mut JoinSet<()>,
                      in_flight: &mut HashMap<Id, Sent>,
                      events: &mpsc::Sender<E>|
           -> Result<(), ()> {
        let state = &mut lanes[lane as usize];
        if state.in_flight >= schedule.max_in_flight {
            let skipped = ProbeEvent::Skipped {
                target,
                lane,
                at,
                in_flight: state.in_flight,
            };
            return events.send(skipped.into()).await.map_err(|_| ());
        }
        state.seq += 1;
        state.in_flight += 1;
        let seq = state.seq;
        let event = ProbeEvent::Sent {
            target,
            lane,
            seq,
            at,
        };
        events.send(event.into()).await.map_err(|_| ())?;
        let sent = Sent {
            target,
            lane,
            seq,
            at,
        };
        let task = probe_task(
            prober.clone(),
            sent,
            clock,
            schedule.timeout,
            events.clone(),
        );
        let handle = tasks.spawn(task);
        in_flight.insert(handle.id(), sent);
        Ok(())
    };
    while stop.is_none() && schedule.count.is_none_or(|n| lanes[0].seq < n) {
        tokio::select! {
            () = sleep_until(next_tick) => {
                // A tick at the end of the run sends nothing, whichever branch woke first:
                // `--duration 8s` at 1 s is 8 probes.
                if deadline.is_some_and(|end| next_tick >= end) {
                    break;
                }
                last_tick = next_tick;
                next_tick += interval;
                // Fell behind (a stalled process): restart the grid rather than burst.
                let now = Instant::now();
                if next_tick <= now {
                    next_tick = now + interval;
                }
                let at = clock.now();
                let direct = *inputs.direct.borrow_and_update();
                // The direct probe first: it fails faster than a probe that falls back, so the
                // primary's own state is usually known when the failover shows.
                let lanes_now: &[Lane] = match direct {
                    DirectMode::Probe => &[Lane::Direct, Lane::Normal],
                    DirectMode::Quiet | DirectMode::Off => &[Lane::Normal],
                };
                for &lane in lanes_now {
                    let sent = send(lane, at, &mut lanes, &mut tasks, &mut in_flight, &events).await;
                    if sent.is_err() {
                        return;
                    }
                }
            }
            Some(lane) = inputs.now.recv() => {
                // The quiet lane's probe, now; none once the lane is off.
                if *inputs.direct.borrow() != DirectMode::Off {
                    let at = clock.now();
                    if send(lane, at, &mut lanes, &mut tasks, &mut in_flight, &events).await.is_err() {
                        return;
                    }
                }
            }
            Some(done) = tasks.join_next_with_id(), if !tasks.is_empty() => {
                reap(done, &mut in_flight, &mut lanes, &events, &clock).await;
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
        (None, Some(n)) if lanes[0].seq >= n => None,
        _ => Some(Instant::now() + schedule.grace),
    };
    while !tasks.is_empty() && stop != Some(Stop::Now) {
        tokio::select! {
            Some(done) = tasks.join_next_with_id() => {
                reap(done, &mut in_flight, &mut lanes, &events, &clock).await;
            }
            () = until(grace_end) => break,
            Ok(()) = inputs.stop.changed() => {
                stop = *inputs.stop.borrow_and_update();
                grace_end = grace_end.or(Some(Instant::now() + schedule.grace));
            }
        }
    }
    tasks.abort_all();
    // Told in the order they were sent, not the order they were stopped in.
    let mut abandoned = Vec::new();
    while let Some(done) = tasks.join_next_with_id().await {
        abandoned.extend(forget(done, &mut in_flight, &mut lanes, &clock));
    }
    abandoned.sort_by_key(|event| match event {
        ProbeEvent::Abandoned { lane, seq, .. } => (*seq, *lane as u8),
        _ => (0, 0),
    });
    for event in abandoned {
        let _ = events.send(event.into()).await;
    }
}

/// Forgets a finished probe task and tells it abandoned if it did not finish by itself.
async fn reap<E: From<ProbeEvent>>(
    done: Result<(Id, ()), tokio::task::JoinError>,
    in_flight: &mut HashMap<Id, Sent>,
    lanes: &mut [LaneState; 3],
    events: &mpsc::Sender<E>,
    clock: &RunClock,
) {
    if let Some(abandoned) = forget(done, in_flight, lanes, clock) {
        let _ = events.send(abandoned.into()).await;
    }
}

/// Forgets a finished probe task; one that did not finish by itself is abandoned.
fn forget(
    done: Result<(Id, ()), tokio::task::JoinError>,
    in_flight: &mut HashMap<Id, Sent>,
    lanes: &mut [LaneState; 3],
    clock: &RunClock,
) -> Option<ProbeEvent> {
    let id = match &done {
        Ok((id, ())) => *id,
        Err(error) => error.id(),
    };
    let sent = in_flight.remove(&id)?;
    lanes[sent.lane as usize].in_flight -= 1;
    let error = done.err()?;
    if error.is_panic() {
        tracing::error!(seq = sent.seq, lane = ?sent.lane, "a probe panicked");
    }
    Some(ProbeEvent::Abandoned {
        target: sent.target,
        lane: sent.lane,
        seq: sent.seq,
        sent_at: sent.at,
        at: clock.now(),
    })
}

async fn probe_task<P: Probe, E: From<ProbeEvent>>(
    prober: Arc<P>,
    sent: Sent,
    clock: RunClock,
    timeout: Duration,
    events: mpsc::Sender<E>,
) {
    let Sent {
        target,
        lane,
        seq,
        at: sent_at,
    } = sent;
    let limit = timeout + P::ATTRIBUTION_TIME;
    let report = match tokio::time::timeout(limit, prober.probe(lane)).await {
        Ok(report) => report,
        Err(_) => ProbeReport::failed(
            clock.now().saturating_sub(sent_at),
            timeout_failure(timeout),
        ),
    };
    // Whole microseconds, like every time of the run (see `RunClock::now`).
    let report = ProbeReport {
        latency: whole_micros(report.latency),
        ttft: report.ttft.map(whole_micros),
        ..report
    };
    let outcome = ProbeOutcome {
        target,
        lane,
        seq,
        sent_at,
        report,
    };
    tracing::debug!(seq, ?lane, latency = ?outcome.latency(), ok = outcome.report.result.is_ok(), "probe answered");
    let _ = events
        .send(ProbeEvent::Answered(Box::new(outcome)).into())
        .await;
}
