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
//!
//! LiteLLM's own metrics (`--proxy-metrics`) are read beside the probes, on a tick, one read
//! at a time, at most every [`PROXY_METRICS_EVERY`].

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
use crate::litellm::prometheus::ProxyReading;

/// Sends one request of a lane and reports what came back. Implemented by the HTTP prober and
/// by scripted probers in tests.
pub trait Probe: Send + Sync + 'static {
    /// The most a prober may take after the timeout to tell who served an answer that came
    /// in time (a look-up of its own): the schedule cuts a probe off only after both.
    const ATTRIBUTION_TIME: Duration = Duration::ZERO;

    fn probe(&self, lane: Lane) -> impl Future<Output = ProbeReport> + Send;

    /// LiteLLM's own metrics of the primary group, where this prober reads them
    /// (`--proxy-metrics`): `None` when it does not (or gave up).
    fn proxy_view(&self) -> impl Future<Output = Option<Result<ProxyReading, String>>> + Send {
        std::future::ready(None)
    }
}

/// LiteLLM's metrics are read at most this often (and at most once a tick): a busy proxy's
/// page is large.
pub const PROXY_METRICS_EVERY: Duration = Duration::from_secs(5);

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
    /// Read LiteLLM's own metrics beside the probes.
    pub proxy_metrics: bool,
    /// The first tick comes this long after the start: the targets of a run tick spread
    /// across the interval in slots at least a tenth of a second apart, so that a proxy sees
    /// an even rate.
    pub offset: Duration,
    /// The shortest interval the owner may set (`+`): what its proxy's `--max-rate` allows
    /// (zero without).
    pub floor: Duration,
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

/// The owner's handle on the running schedules of a run, one per target (and a drill's, which
/// ends the run it leads).
#[derive(Clone, Debug)]
pub struct Controls {
    targets: Arc<[TargetControls]>,
}

/// The handle on one target's schedule.
#[derive(Debug)]
struct TargetControls {
    interval: watch::Sender<Duration>,
    /// The shortest interval this target may be set to.
    floor: Duration,
    stop: watch::Sender<Option<Stop>>,
    direct: watch::Sender<DirectMode>,
    now: mpsc::UnboundedSender<Lane>,
}

impl Controls {
    /// Every target's interval (`+`/`-`), each never shorter than its floor (its proxy's
    /// `--max-rate`); the first target's as set (what the run says it is).
    pub fn set_interval(&self, interval: Duration) -> Duration {
        let mut first = None;
        for target in self.targets.iter() {
            let set = interval.max(target.floor);
            target.interval.send_replace(set);
            first.get_or_insert(set);
        }
        first.unwrap_or(interval)
    }

    pub fn stop(&self, how: Stop) {
        for target in self.targets.iter() {
            target.stop.send_replace(Some(how));
        }
    }

    /// Probes `target`'s primary lane from now on as `mode` says (the proxy refuses direct
    /// probes: off; it has no health check: probe).
    pub fn set_direct(&self, target: TargetId, mode: DirectMode) {
        if let Some(target) = self.targets.get(target.index()) {
            target.direct.send_replace(mode);
        }
    }

    /// Waits until the run is asked to stop (a signal, `q`), by whoever holds the controls.
    pub async fn stop_asked(&self) {
        // Every target is told to stop at once: the first one's word is the run's.
        if let Some(first) = self.targets.first() {
            let _ = first.stop.subscribe().wait_for(Option::is_some).await;
        }
    }

    /// Sends one probe of `target`'s `lane` at once, outside the ticks (the quiet lane's).
    pub fn probe_now(&self, target: TargetId, lane: Lane) {
        if let Some(target) = self.targets.get(target.index()) {
            let _ = target.now.send(lane);
        }
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

/// Controls for the schedules of a run, and each schedule's side, in the same order.
pub fn controls(schedules: &[Schedule]) -> (Controls, Vec<ControlInputs>) {
    let (targets, inputs): (Vec<TargetControls>, Vec<ControlInputs>) = schedules
        .iter()
        .map(|schedule| controls_with(schedule.interval, schedule.direct, schedule.floor))
        .unzip();
    (
        Controls {
            targets: targets.into(),
        },
        inputs,
    )
}

/// Controls for a source other than a schedule (a replay): only stopping means anything.
pub fn controls_alone() -> (Controls, ControlInputs) {
    let (target, inputs) = controls_with(Duration::from_secs(1), DirectMode::Off, Duration::ZERO);
    (
        Controls {
            targets: Arc::new([target]),
        },
        inputs,
    )
}

fn controls_with(
    interval: Duration,
    direct: DirectMode,
    floor: Duration,
) -> (TargetControls, ControlInputs) {
    let (interval_tx, interval_rx) = watch::channel(interval);
    let (stop_tx, stop_rx) = watch::channel(None);
    let (direct_tx, direct_rx) = watch::channel(direct);
    let (now_tx, now_rx) = mpsc::unbounded_channel();
    (
        TargetControls {
            interval: interval_tx,
            floor,
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
    let mut next_tick = Instant::now() + schedule.offset;
    let mut last_tick = next_tick;
    let deadline = schedule.duration.map(|d| clock.instant_at(d));
    let mut stop = *inputs.stop.borrow_and_update();

    let target = schedule.target;
    // LiteLLM's metrics: one read at a time, the first at the first tick.
    let mut proxy_reads = JoinSet::new();
    let mut proxy_next = next_tick;
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
                if schedule.proxy_metrics && proxy_reads.is_empty() && now >= proxy_next {
                    proxy_next = now + interval.max(PROXY_METRICS_EVERY);
                    proxy_reads.spawn(proxy_task(prober.clone(), target, clock, events.clone()));
                }
            }
            Some(_) = proxy_reads.join_next(), if !proxy_reads.is_empty() => {}
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

/// Reads LiteLLM's metrics once and tells what they said, if the prober reads them.
async fn proxy_task<P: Probe, E: From<ProbeEvent>>(
    prober: Arc<P>,
    target: TargetId,
    clock: RunClock,
    events: mpsc::Sender<E>,
) {
    if let Some(reading) = prober.proxy_view().await {
        let at = clock.now();
        let _ = events
            .send(
                ProbeEvent::ProxyView {
                    target,
                    at,
                    reading,
                }
                .into(),
            )
            .await;
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// `+` never sets a target's interval under its floor (its proxy's `--max-rate`); the
    /// interval said is the first target's as set.
    #[test]
    fn set_interval_stops_at_each_targets_floor() {
        let schedule = |floor_ms| Schedule {
            floor: Duration::from_millis(floor_ms),
            ..crate::tests::schedule(Duration::from_secs(3))
        };
        let (controls, inputs) = controls(&[schedule(1000), schedule(0)]);
        assert_eq!(
            controls.set_interval(Duration::from_millis(250)),
            Duration::from_secs(1)
        );
        let set: Vec<Duration> = inputs.iter().map(|i| *i.interval.borrow()).collect();
        assert_eq!(set, [Duration::from_secs(1), Duration::from_millis(250)]);
        assert_eq!(
            controls.set_interval(Duration::from_secs(2)),
            Duration::from_secs(2)
        );
        assert_eq!(*inputs[0].interval.borrow(), Duration::from_secs(2));
    }
}
