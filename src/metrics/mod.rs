//! The client's view as Prometheus metrics (`--metrics-listen`): another consumer of what the
//! owner of the state tells its outputs, like the record. The owner updates the metrics as
//! inputs are applied; scrapes read them (counters and gauges are atomics, families take a
//! read lock), so a scrape never waits for the owner, nor the owner for a scrape. Every series
//! of a target carries its name (`target`), every target's from the start: the label's values
//! are the run's targets, never what a server sent.
//!
//! ```text
//!  owner loop ──Told──▶ Metrics::tell ──▶ registry (atomics) ◀── GET /metrics (server.rs)
//!                                      └▶ Health (last input of each target) ◀── GET /healthz
//! ```

mod server;

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::time::Duration;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, NoLabelSet};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};

pub use server::{Exporter, Server, serve};

use crate::clock::SessionClock;
use crate::output::{Output, RunInfo};
use crate::probe::{Endpoint, ErrorKind, ProbeEvent, ProbeOutcome, TargetId};
use crate::state::{Monitor, PrimaryKind, ServingKind, Told, TransitionKind, Watch};

/// Request durations, from 5 ms to a minute.
const DURATION_BUCKETS: [f64; 14] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0,
];
/// Distinct `model` label values, over all the targets; the rest are counted as one (a proxy
/// naming a new model in every answer cannot grow the series count).
const MODELS: usize = 16;
const OTHER_MODELS: &str = "(other)";

/// Every series of a target carries its name: the `target` label's values are the run's
/// targets, fixed at the start, never something a server sent.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Target {
    target: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultModel {
    target: String,
    result: &'static str,
    model: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct State {
    target: String,
    state: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Kind {
    target: String,
    kind: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct InfoLabels {
    target: String,
    /// The proxy's host and port (`litellm:4000`), to group the targets of one proxy.
    proxy: String,
    url: String,
    primary: String,
    fallback: String,
    litellm_version: String,
    version: &'static str,
}

/// The metrics of one run, updated by the owner of the state.
pub struct Metrics {
    requests: Family<ResultModel, Counter>,
    durations: Family<ResultModel, Histogram, fn() -> Histogram>,
    serving: Family<State, Gauge>,
    transitions: Family<Kind, Counter>,
    in_flight: Family<Target, Gauge>,
    skipped: Family<Target, Counter>,
    errors: Family<Kind, Counter>,
    primary: Family<State, Gauge>,
    info: Family<InfoLabels, Gauge>,
    /// The info series of each target, in the run's order (its `target` is the target's name).
    targets: Vec<InfoLabels>,
    models: HashSet<String>,
    time_in_state: Arc<TimeInState>,
    health: Arc<Health>,
}

/// Whether the schedules tick: for each target, the moment of its last input, against its
/// interval now (`+` and `-` change them all).
#[derive(Debug)]
pub struct Health {
    targets: Vec<Beat>,
}

#[derive(Debug)]
struct Beat {
    last_input_us: AtomicU64,
    interval_us: AtomicU64,
}

impl Health {
    /// Alive while every target had an input within two of its intervals and five seconds
    /// (every tick sends a probe, or says why it did not): one schedule stopped is a run that
    /// no longer watches that target.
    pub fn alive(&self, now: Duration) -> bool {
        self.targets.iter().all(|beat| {
            let last = Duration::from_micros(beat.last_input_us.load(Ordering::Relaxed));
            let interval = Duration::from_micros(beat.interval_us.load(Ordering::Relaxed));
            now.saturating_sub(last) <= interval * 2 + Duration::from_secs(5)
        })
    }

    /// The time between probes now, of every target (`+` and `-`).
    fn interval(&self, every: Duration) {
        for beat in &self.targets {
            beat.interval_us.store(micros(every), Ordering::Relaxed);
        }
    }

    /// An input now, of one target, or of the whole run (`None`: a marker, say).
    fn input(&self, target: Option<usize>, now: Duration) {
        let now = micros(now);
        match target.and_then(|i| self.targets.get(i)) {
            Some(beat) => beat.last_input_us.store(now, Ordering::Relaxed),
            None => {
                for beat in &self.targets {
                    beat.last_input_us.store(now, Ordering::Relaxed);
                }
            }
        }
    }
}

/// `failover_watch_state_seconds_total`: the time each target spent in each serving state, the
/// current one counted up to the scrape.
#[derive(Debug)]
struct TimeInState {
    clock: SessionClock,
    targets: Vec<StateClock>,
}

#[derive(Debug)]
struct StateClock {
    target: String,
    /// The current state (an index into `SERVING`), or `NONE` before the first answer.
    current: AtomicU8,
    since_us: AtomicU64,
    totals_us: [AtomicU64; 3],
}

const SERVING: [ServingKind; 3] = [
    ServingKind::Primary,
    ServingKind::Fallback,
    ServingKind::Down,
];
const NONE: u8 = u8::MAX;

impl StateClock {
    fn new(target: &str) -> Self {
        Self {
            target: target.to_owned(),
            current: AtomicU8::new(NONE),
            since_us: AtomicU64::new(0),
            totals_us: Default::default(),
        }
    }

    /// Enters `state`, which began `at`, if it is a new one; whether it was.
    fn enter(&self, state: ServingKind, at: Duration) -> bool {
        let index = SERVING.iter().position(|s| *s == state).unwrap_or(0) as u8;
        if self.current.load(Ordering::Relaxed) == index {
            return false;
        }
        let previous = self.current.swap(index, Ordering::Relaxed);
        let at_us = micros(at);
        let since = self.since_us.swap(at_us, Ordering::Relaxed);
        if let Some(total) = self.totals_us.get(usize::from(previous)) {
            total.fetch_add(at_us.saturating_sub(since), Ordering::Relaxed);
        }
        true
    }
}

impl Collector for TimeInState {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let known: Vec<(&StateClock, u8)> = self
            .targets
            .iter()
            .map(|clock| (clock, clock.current.load(Ordering::Relaxed)))
            .filter(|(_, current)| *current != NONE)
            .collect();
        if known.is_empty() {
            return Ok(());
        }
        let now = micros(self.clock.now());
        let mut family = encoder.encode_descriptor(
            "failover_watch_state",
            "Time the requests were served by each side (or nobody), since the watcher started.",
            Some(&Unit::Seconds),
            MetricType::Counter,
        )?;
        for (clock, current) in known {
            let since = clock.since_us.load(Ordering::Relaxed);
            for (i, state) in SERVING.iter().enumerate() {
                let mut total = clock.totals_us[i].load(Ordering::Relaxed);
                if i == usize::from(current) {
                    total += now.saturating_sub(since);
                }
                let seconds = total as f64 / 1e6;
                let labels = State {
                    target: clock.target.clone(),
                    state: state.as_str(),
                };
                family
                    .encode_family(&labels)?
                    .encode_counter::<NoLabelSet, _, u64>(&seconds, None)?;
            }
        }
        Ok(())
    }
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

/// The proxy's host and port in its URL (`http://litellm:4000` is `litellm:4000`); the URL as
/// it is where it is not one (a record's, say).
fn proxy_of(url: &str) -> String {
    Endpoint::parse(url).map_or_else(|_| url.to_owned(), |endpoint| endpoint.host().to_owned())
}

impl Metrics {
    /// The metrics of a run, registered in a registry for the exporter; `clock` times the
    /// current state up to each scrape. Every target's series that count from the start are
    /// there at once, at 0: a target nothing has happened to yet still shows.
    pub fn new(info: &RunInfo, clock: SessionClock) -> (Self, Exporter) {
        let mut registry = Registry::default();
        let metrics = Self {
            requests: Family::default(),
            durations: Family::new_with_constructor(|| Histogram::new(DURATION_BUCKETS)),
            serving: Family::default(),
            transitions: Family::default(),
            in_flight: Family::default(),
            skipped: Family::default(),
            errors: Family::default(),
            primary: Family::default(),
            info: Family::default(),
            targets: info
                .targets
                .iter()
                .map(|target| InfoLabels {
                    target: target.name.clone(),
                    proxy: proxy_of(&target.url),
                    url: target.url.clone(),
                    primary: target.primary.clone(),
                    fallback: target.fallback.clone().unwrap_or_default(),
                    litellm_version: String::new(),
                    version: env!("CARGO_PKG_VERSION"),
                })
                .collect(),
            models: HashSet::new(),
            time_in_state: Arc::new(TimeInState {
                clock,
                targets: info
                    .targets
                    .iter()
                    .map(|target| StateClock::new(&target.name))
                    .collect(),
            }),
            health: Arc::new(Health {
                targets: info
                    .targets
                    .iter()
                    .map(|target| Beat {
                        last_input_us: AtomicU64::new(0),
                        interval_us: AtomicU64::new(micros(target.interval)),
                    })
                    .collect(),
            }),
        };
        metrics.register(&mut registry);
        for labels in &metrics.targets {
            metrics.info.get_or_create(labels).set(1);
            let target = Target {
                target: labels.target.clone(),
            };
            let _ = metrics.in_flight.get_or_create(&target);
            let _ = metrics.skipped.get_or_create(&target);
            // At 0 from the start: Prometheus's increase() cannot count a series' first
            // sample, so a counter born at 1 would hide the first failover from an alert.
            for kind in TransitionKind::ALL {
                let _ = metrics.transitions.get_or_create(&Kind {
                    target: labels.target.clone(),
                    kind: kind.as_str(),
                });
            }
            for kind in ErrorKind::ALL {
                let _ = metrics.errors.get_or_create(&Kind {
                    target: labels.target.clone(),
                    kind: kind.as_str(),
                });
            }
        }
        let clock = metrics.time_in_state.clock.clone();
        let exporter = Exporter::new(registry, metrics.health.clone(), clock);
        (metrics, exporter)
    }

    fn register(&self, registry: &mut Registry) {
        registry.register(
            "failover_watch_requests",
            "Probes answered, by target, who served them (or error) and the model that did",
            self.requests.clone(),
        );
        registry.register_with_unit(
            "failover_watch_request_duration",
            "Time from sending a probe to its whole answer, measured by the client",
            Unit::Seconds,
            self.durations.clone(),
        );
        registry.register(
            "failover_watch_serving",
            "1 for who serves each target's requests now: primary, fallback or down",
            self.serving.clone(),
        );
        registry.register(
            "failover_watch_transitions",
            "Changes of who serves: failover, recovery, outage, restored",
            self.transitions.clone(),
        );
        registry.register(
            "failover_watch_in_flight",
            "Probes sent and not yet answered",
            self.in_flight.clone(),
        );
        registry.register(
            "failover_watch_skipped_ticks",
            "Ticks without a probe because too many were in flight",
            self.skipped.clone(),
        );
        registry.register(
            "failover_watch_errors",
            "Failed probes by kind",
            self.errors.clone(),
        );
        registry.register(
            "failover_watch_primary_state",
            "1 for the primary's own state from its direct probes: up, failing, cooling_down, \
             refused",
            self.primary.clone(),
        );
        registry.register(
            "failover_watch_info",
            "Each target: its proxy, its primary and fallback groups, LiteLLM's release, the \
             watcher's own",
            self.info.clone(),
        );
        registry.register_collector(Box::new(self.time_in_state.clone()));
    }

    /// The index of a target's series: the first for an id the run does not have, as the
    /// state reads it (a record names no other).
    fn slot(&self, id: TargetId) -> usize {
        if id.index() < self.targets.len() {
            id.index()
        } else {
            0
        }
    }

    /// Updates the metrics with one thing the owner applied, now (by the run's clock): the
    /// series of the target it belongs to, from that target's state.
    fn update(&mut self, told: &Told, watch: &Watch) {
        let now = self.time_in_state.clock.now();
        let target = told.target();
        self.health.input(target.map(|id| self.slot(id)), now);
        let Some(id) = target else {
            // What belongs to the moment: only `+` and `-` change something here.
            if let Told::Interval { every, .. } = told {
                self.health.interval(*every);
            }
            return;
        };
        let slot = self.slot(id);
        let monitor = watch.target(id);
        let name = self.targets[slot].target.clone();
        match told {
            Told::Notice { .. } | Told::Proxy(_) => return,
            // Of no target: above.
            Told::Marker(_) | Told::Reset { .. } | Told::Interval { .. } => return,
            Told::Probe(ProbeEvent::Skipped { .. }) => {
                self.skipped
                    .get_or_create(&Target {
                        target: name.clone(),
                    })
                    .inc();
            }
            Told::Direct(_) => {}
            Told::Request(told) => {
                self.answered(slot, &told.outcome, monitor);
                if let Some(t) = &told.transition {
                    let kind = Kind {
                        target: name.clone(),
                        kind: t.kind.as_str(),
                    };
                    self.transitions.get_or_create(&kind).inc();
                }
            }
            Told::Probe(_) => {}
        }
        if told.primary_change().is_some() {
            self.primary_state(&name, monitor);
        }
        self.in_flight
            .get_or_create(&Target { target: name })
            .set(monitor.in_flight().len() as i64);
        if let Some(version) = monitor.litellm_version()
            && version != self.targets[slot].litellm_version
        {
            self.info.remove(&self.targets[slot]);
            self.targets[slot].litellm_version = version.to_owned();
            self.info.get_or_create(&self.targets[slot]).set(1);
        }
    }

    fn answered(&mut self, slot: usize, outcome: &ProbeOutcome, monitor: &Monitor) {
        let target = &self.targets[slot].target;
        let report = &outcome.report;
        if let Some(failure) = report.failure() {
            let kind = Kind {
                target: target.clone(),
                kind: failure.kind.as_str(),
            };
            self.errors.get_or_create(&kind).inc();
        }
        let model = report
            .model()
            .map_or_else(String::new, |model| model_label(&mut self.models, model));
        let labels = ResultModel {
            target: target.clone(),
            result: report.verdict().as_str(),
            model,
        };
        self.requests.get_or_create(&labels).inc();
        self.durations
            .get_or_create(&labels)
            .observe(outcome.latency().as_secs_f64());
        if let Some(state) = monitor.serving().kind()
            && self.time_in_state.targets[slot].enter(state, monitor.serving_since().0)
        {
            for s in SERVING {
                let value = i64::from(s == state);
                self.serving
                    .get_or_create(&State {
                        target: target.clone(),
                        state: s.as_str(),
                    })
                    .set(value);
            }
        }
    }

    fn primary_state(&self, target: &str, monitor: &Monitor) {
        let Some(now) = monitor.primary().state().kind() else {
            return;
        };
        for kind in PrimaryKind::ALL {
            let value = i64::from(kind == now);
            self.primary
                .get_or_create(&State {
                    target: target.to_owned(),
                    state: kind.as_str(),
                })
                .set(value);
        }
    }
}

/// The model's label: its name while fewer than [`MODELS`] were seen (by any target), else one
/// for all the others.
fn model_label(models: &mut HashSet<String>, model: &str) -> String {
    if models.contains(model) {
        return model.to_owned();
    }
    if models.len() < MODELS - 1 {
        models.insert(model.to_owned());
        return model.to_owned();
    }
    OTHER_MODELS.to_owned()
}

/// The metrics are an output like the others: updated as the state takes each thing, read by
/// scrapes on the exporter's own thread.
impl Output for Metrics {
    fn begin(&mut self, _info: &RunInfo) -> std::io::Result<()> {
        Ok(())
    }

    fn tell(&mut self, told: &Told, watch: &Watch) -> std::io::Result<()> {
        self.update(told, watch);
        Ok(())
    }

    /// A gauge says what is true now: a failover shows at once, not when its cause came.
    fn live(&self) -> bool {
        true
    }

    fn end(&mut self, _watch: &Watch, _now: Duration) -> std::io::Result<()> {
        Ok(())
    }
}
