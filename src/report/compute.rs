//! The report computed from a run's steps, through the same core as the live run.
//!
//! Two passes over the steps, each through its own [`Watch`]: the first finds the moments that
//! cut the run into phases and are only known once seen (a drill's markers, else the request
//! that began the trouble, known only when a failover or a failure follows it); the second
//! folds every fact the core tells into bounded counters, histograms and the figure's data.
//! Pure: no clock, no I/O.

use std::collections::BTreeMap;
use std::time::Duration;

use hdrhistogram::Histogram;

use super::budget::Facts;
use super::{
    Bad, Budgets, Chart, Counts, DRILL_DOWN, DRILL_UP, DrillSetup, Durations, Fact, FaultFound,
    Lapse, LitellmCounts, Phase, PhaseCounts, Report, Run, ServedModel, Setup, Source, UpFound,
    What, chart::Mark,
};
use crate::clock::WallClock;
use crate::probe::{Lane, ProbeEvent, ProbeOutcome, Role, TargetId, Verdict};
use crate::state::{
    DirectTold, Input, Marker, MonitorConfig, Notice, PrimaryChange, PrimaryKind, RequestTold,
    Told, TransitionKind, Watch,
};

/// Primary changes and markers kept for the timeline; more are counted, not listed.
const MAX_FACTS: usize = 100;
/// Requests judged in the first pass, looking back from the trigger.
const MAX_JUDGED: usize = 4096;
/// Served models listed one by one; more are pooled under [`OTHER_MODELS`].
const MAX_MODELS: usize = 16;
const OTHER_MODELS: &str = "(other models)";

/// The report of `run`, judged by `budgets`, with a drill's setup when one ran it.
pub fn compute(run: Run, budgets: &Budgets, drill: Option<DrillSetup>) -> Report {
    let configs = run.info.monitors();
    let others_moved = run.others_moved;
    let anchors = anchors(&run.steps, &configs);
    let mut fold = Fold::new(anchors, run.end, run.info.first().lane.mode.is_on());
    let mut watch = Watch::new(configs);
    for (_, input) in run.steps {
        for told in watch.apply(input) {
            fold.tell(&told);
        }
    }
    let litellm_version = watch
        .target(TargetId::default())
        .litellm_version()
        .map(str::to_owned);
    let source = Source {
        file: run.file,
        run: run.run,
        runs: run.runs,
        damage: run.damage,
    };
    let setup = Setup {
        info: run.info,
        litellm_version,
        drill,
        models: Vec::new(),
        interval_changes: 0,
        notices: Vec::new(),
    };
    fold.finish(source, setup, run.wall, budgets, others_moved)
}

/// The moments known only once the whole run was seen.
#[derive(Clone, Debug, Default, PartialEq)]
struct Anchors {
    fault: Option<Fault>,
    /// The drill's `drill: up` marker after the fault: when it came, and its number.
    up_marker: Option<(Duration, u32)>,
}

#[derive(Clone, Debug, PartialEq)]
struct Fault {
    at: Duration,
    seq: Option<u64>,
    found: FaultFound,
}

/// The first pass: the drill's markers, else the start of the trouble that led to the first
/// failover or failed request (its trigger): the earliest sent of the unbroken run of failed,
/// slow or fallback answers, in sending order, that ends with the trigger. Requests sent
/// before the trigger may answer after it (a hung primary's): they are waited for.
fn anchors(steps: &[(Duration, Input)], configs: &[MonitorConfig]) -> Anchors {
    let mut watch = Watch::new(configs.to_vec());
    let mut slow = SlowRule::default();
    let mut drill_down: Option<Fault> = None;
    let mut up_marker = None;
    let mut judged: BTreeMap<u64, (Duration, Option<Bad>)> = BTreeMap::new();
    let mut trigger: Option<u64> = None;
    for (_, input) in steps {
        for told in watch.apply(input.clone()) {
            match told {
                Told::Marker(Marker { id, at, label, .. }) => match label.as_deref() {
                    Some(DRILL_DOWN) if drill_down.is_none() => {
                        drill_down = Some(Fault {
                            at,
                            seq: None,
                            found: FaultFound::Marker { id },
                        });
                    }
                    Some(DRILL_UP) if up_marker.is_none() && drill_down.is_some() => {
                        up_marker = Some((at, id));
                    }
                    _ => {}
                },
                Told::Request(told) => {
                    let bad = slow.judge(&told.outcome);
                    let seq = told.outcome.seq;
                    if trigger.is_none_or(|t| seq < t) {
                        judged.insert(seq, (told.outcome.sent_at, bad));
                        if judged.len() > MAX_JUDGED {
                            judged.pop_first();
                        }
                    }
                    let failed = told.outcome.report.result.is_err();
                    if trigger.is_none() && (failover(&told) || failed) {
                        trigger = Some(seq);
                    }
                }
                _ => {}
            }
        }
    }
    match drill_down {
        Some(fault) => Anchors {
            fault: Some(fault),
            up_marker,
        },
        None => Anchors {
            fault: trigger.and_then(|t| start_of_trouble(&judged, t)),
            up_marker: None,
        },
    }
}

/// The earliest request of the unbroken run of bad answers, by number, that ends with
/// `trigger` (a request never answered breaks it).
fn start_of_trouble(
    judged: &BTreeMap<u64, (Duration, Option<Bad>)>,
    trigger: u64,
) -> Option<Fault> {
    let mut start = None;
    let mut expected = trigger;
    for (seq, (sent, bad)) in judged.range(..=trigger).rev() {
        let Some(bad) = bad else { break };
        if *seq != expected {
            break;
        }
        start = Some(Fault {
            at: *sent,
            seq: Some(*seq),
            found: FaultFound::Inferred(bad.clone()),
        });
        expected = seq.saturating_sub(1);
    }
    start
}

fn failover(told: &RequestTold) -> bool {
    told.transition
        .as_ref()
        .is_some_and(|t| t.kind == TransitionKind::Failover)
}

/// A served answer is slow when it took at least [`SlowRule::FACTOR`] times the median of the
/// primary's good answers before it, and at least [`SlowRule::FLOOR`]: a hung primary's
/// requests that the fallback finally serves, a primary getting slow before it fails. Learned
/// as the answers come, the same in both passes.
pub(super) struct SlowRule {
    primary: Histogram<u64>,
    median: Option<Duration>,
    since_median: u32,
}

impl Default for SlowRule {
    fn default() -> Self {
        Self {
            primary: Histogram::new(3).expect("valid histogram precision"),
            median: None,
            since_median: 0,
        }
    }
}

impl SlowRule {
    const FACTOR: u32 = 5;
    const FLOOR: Duration = Duration::from_secs(1);
    /// Good answers needed before anything is slow.
    const MIN_SAMPLES: u64 = 5;
    /// Good answers between two readings of the median (reading it walks the histogram).
    const REFRESH: u32 = 16;

    /// What was wrong with an answer, if anything; a good primary answer is learned from.
    pub(super) fn judge(&mut self, outcome: &ProbeOutcome) -> Option<Bad> {
        let latency = outcome.latency();
        let served = match &outcome.report.result {
            Err(failure) => {
                return Some(Bad::Failed {
                    kind: failure.kind,
                    message: failure.message.clone(),
                });
            }
            Ok(served) => served,
        };
        let slow = self
            .median
            .is_some_and(|median| latency >= Self::FLOOR && latency >= median * Self::FACTOR);
        if slow {
            return Some(Bad::Slow {
                latency,
                role: served.role,
            });
        }
        if served.role == Role::Fallback {
            return Some(Bad::ByFallback {
                model: served.model.clone(),
            });
        }
        self.learn(latency);
        None
    }

    fn learn(&mut self, latency: Duration) {
        let micros = u64::try_from(latency.as_micros())
            .unwrap_or(u64::MAX)
            .max(1);
        let _ = self.primary.record(micros.min(3_600_000_000));
        self.since_median += 1;
        if self.primary.len() >= Self::MIN_SAMPLES
            && (self.median.is_none() || self.since_median >= Self::REFRESH)
        {
            self.median = Some(Duration::from_micros(self.primary.value_at_quantile(0.5)));
            self.since_median = 0;
        }
    }
}

/// The second pass: every fact the core tells, folded as it comes.
struct Fold {
    anchors: Anchors,
    direct: bool,
    slow: SlowRule,
    /// The primary's return: the drill's marker, else its own state turning up after the
    /// fault.
    up: Option<Fact>,
    /// Whether `up` cuts the phases (it came before the recovery).
    up_cuts: bool,
    first_bad: Option<Fact>,
    failover: Option<Fact>,
    alone: Option<Fact>,
    recovery: Option<Fact>,
    /// A failed, slow or fallback answer came after the fault.
    trouble_seen: bool,
    /// Primary changes and markers.
    others: Vec<Fact>,
    left_out: u64,
    phases: [Counts; 4],
    whole: Counts,
    litellm: LitellmCounts,
    models: BTreeMap<String, (Role, u64)>,
    interval_changes: u64,
    notices: Vec<Notice>,
    chart: Chart,
}

impl Fold {
    fn new(anchors: Anchors, end: Duration, direct: bool) -> Self {
        let up = anchors.up_marker.map(|(at, id)| Fact {
            at,
            seq: None,
            what: What::Up(UpFound::Marker { id }),
        });
        Self {
            up_cuts: up.is_some(),
            up,
            anchors,
            direct,
            slow: SlowRule::default(),
            first_bad: None,
            failover: None,
            alone: None,
            recovery: None,
            trouble_seen: false,
            others: Vec::new(),
            left_out: 0,
            phases: Default::default(),
            whole: Counts::default(),
            litellm: LitellmCounts::default(),
            models: BTreeMap::new(),
            interval_changes: 0,
            notices: Vec::new(),
            chart: Chart::new(end),
        }
    }

    fn fault_at(&self) -> Option<Duration> {
        self.anchors.fault.as_ref().map(|f| f.at)
    }

    /// The phase of a request sent at `sent`; every boundary it is compared with was seen
    /// before any answer to a request sent after it.
    fn phase_of(&self, sent: Duration) -> Phase {
        match self.fault_at() {
            Some(fault) if sent >= fault => {}
            _ => return Phase::Baseline,
        }
        if self.recovery.as_ref().is_some_and(|r| sent >= r.at) {
            Phase::Settled
        } else if self.up_cuts && self.up.as_ref().is_some_and(|u| sent >= u.at) {
            Phase::Recovering
        } else {
            Phase::Down
        }
    }

    fn counts(&mut self, phase: Phase) -> [&mut Counts; 2] {
        let index = Phase::ALL.iter().position(|p| *p == phase).unwrap_or(0);
        [&mut self.phases[index], &mut self.whole]
    }

    fn tell(&mut self, told: &Told) {
        if let Some(change) = told.primary_change() {
            self.primary_change(change);
        }
        match told {
            Told::Request(told) => self.request(told),
            Told::Direct(told) => self.direct(told),
            Told::Proxy(told) => {
                if let Some(now) = &told.now {
                    self.litellm.metrics = Some(now.since_start);
                }
            }
            Told::Marker(marker) => {
                let drill = match self.anchors.fault.as_ref().map(|f| &f.found) {
                    Some(FaultFound::Marker { id }) if *id == marker.id => true,
                    _ => self
                        .anchors
                        .up_marker
                        .is_some_and(|(_, id)| id == marker.id),
                };
                if !drill {
                    self.other(Fact {
                        at: marker.at,
                        seq: None,
                        what: What::Marker {
                            id: marker.id,
                            label: marker.label.clone(),
                        },
                    });
                }
            }
            Told::Probe(ProbeEvent::Abandoned {
                lane: Lane::Normal,
                seq,
                sent_at,
                at,
                ..
            }) => {
                let phase = self.phase_of(*sent_at);
                self.counts(phase)
                    .into_iter()
                    .for_each(|c| c.abandoned += 1);
                self.chart.request(Mark {
                    seq: *seq,
                    sent_at: *sent_at,
                    latency: at.saturating_sub(*sent_at),
                    verdict: None,
                });
            }
            Told::Notice { notice, .. } => self.notices.push(notice.clone()),
            Told::Interval { .. } => self.interval_changes += 1,
            Told::Probe(_) | Told::Reset { .. } => {}
        }
    }

    fn request(&mut self, told: &RequestTold) {
        let outcome = &told.outcome;
        let (sent, at, latency, seq) = (
            outcome.sent_at,
            outcome.answered_at(),
            outcome.latency(),
            outcome.seq,
        );
        let bad = self.slow.judge(outcome);
        let verdict = outcome.report.verdict();
        let phase = self.phase_of(sent);
        let attempted = outcome.report.route.attempted_fallbacks;
        for counts in self.counts(phase) {
            counts.requests += 1;
            match &outcome.report.result {
                Ok(served) => {
                    match served.role {
                        Role::Primary => counts.primary += 1,
                        Role::Fallback => counts.fallback += 1,
                    }
                    counts.latency.record(&served.model, latency);
                }
                Err(failure) => {
                    counts.failed += 1;
                    *counts.by_error.entry(failure.kind).or_default() += 1;
                }
            }
            if matches!(bad, Some(Bad::Slow { .. })) {
                counts.slow += 1;
            }
            if let Some(n) = attempted {
                *counts.litellm_fallbacks.get_or_insert(0) += u64::from(n);
            }
        }
        if let Some(n) = attempted {
            self.litellm.answers_with_header += 1;
            *self.litellm.attempted_fallbacks.get_or_insert(0) += u64::from(n);
            if n > 0 {
                self.litellm.answers_with_fallbacks += 1;
            }
        }
        if let Ok(served) = &outcome.report.result {
            let known =
                self.models.len() < MAX_MODELS - 1 || self.models.contains_key(&served.model);
            let key = if known {
                served.model.clone()
            } else {
                OTHER_MODELS.to_owned()
            };
            self.models.entry(key).or_insert((served.role, 0)).1 += 1;
        }
        self.chart.request(Mark {
            seq,
            sent_at: sent,
            latency,
            verdict: Some(verdict),
        });
        if self.fault_at().is_none_or(|fault| at < fault) {
            return;
        }
        let fact = |what| Fact {
            at,
            seq: Some(seq),
            what,
        };
        if self.first_bad.is_none()
            && let Some(bad @ (Bad::Failed { .. } | Bad::Slow { .. })) = &bad
        {
            self.first_bad = Some(fact(What::FirstBad(bad.clone())));
        }
        let model = || outcome.report.model().unwrap_or_default().to_owned();
        if self.failover.is_none() && verdict == Verdict::Fallback {
            self.failover = Some(fact(What::Failover { model: model() }));
        }
        // Back through the proxy: after the drill's up; else a good answer after the trouble
        // began. A late answer was sent before the state it would tell.
        let back = match (&self.up, self.anchors.up_marker) {
            (Some(up), Some(_)) => at >= up.at,
            _ => self.trouble_seen && bad.is_none(),
        };
        if self.recovery.is_none() && verdict == Verdict::Primary && back && !told.late {
            self.recovery = Some(fact(What::Recovery { model: model() }));
        }
        self.trouble_seen |= bad.is_some();
    }

    fn direct(&mut self, told: &DirectTold) {
        let at = told.outcome.answered_at();
        let seq = Some(told.outcome.seq);
        if let Some(cooldown) = told
            .outcome
            .report
            .route
            .cooling
            .as_ref()
            .and_then(|c| c.cooldown)
        {
            self.litellm.cooldown_time = Some(cooldown);
        }
        if self.alone.is_none()
            && told.observed == PrimaryKind::Up
            && self.up.as_ref().is_some_and(|up| at >= up.at)
        {
            self.alone = Some(Fact {
                at,
                seq,
                what: What::PrimaryAlone,
            });
        }
    }

    /// A change of the primary's own state, whichever answer showed it (a request the
    /// primary served again, in the quiet lane).
    fn primary_change(&mut self, change: &PrimaryChange) {
        let Some(to) = change.to.kind() else {
            return;
        };
        let seq = Some(change.seq);
        self.chart.primary(change.at, to);
        if to == PrimaryKind::CoolingDown {
            *self.litellm.cooldowns.get_or_insert(0) += 1;
        }
        let after_fault = self.fault_at().is_some_and(|fault| change.at >= fault);
        if after_fault || self.fault_at().is_none() {
            self.other(Fact {
                at: change.at,
                seq,
                what: What::Primary {
                    from: change.from,
                    to,
                    message: change.to.message().map(str::to_owned),
                },
            });
        }
        if to == PrimaryKind::Up && after_fault && self.up.is_none() {
            self.up = Some(Fact {
                at: change.at,
                seq,
                what: What::Up(UpFound::PrimaryState),
            });
            self.up_cuts = self.recovery.is_none();
        }
    }

    /// A primary change or a marker, kept while there is room.
    fn other(&mut self, fact: Fact) {
        if self.others.len() < MAX_FACTS {
            self.others.push(fact);
        } else {
            self.left_out += 1;
        }
    }

    /// The report, `setup` completed with what the run showed.
    fn finish(
        mut self,
        source: Source,
        setup: Setup,
        wall: WallClock,
        budgets: &Budgets,
        others_moved: Option<u64>,
    ) -> Report {
        let end = self.chart.length;
        let fault = self.anchors.fault.clone();
        let lapse = |from: &Option<Fact>, to: &Option<Fact>| match (from, to) {
            (Some(from), Some(to)) => Some(Lapse {
                from: from.at,
                to: to.at,
            }),
            _ => None,
        };
        let fault_fact = fault.as_ref().map(|f| Fact {
            at: f.at,
            seq: f.seq,
            what: What::Fault(f.found.clone()),
        });
        let durations = Durations {
            to_failover: lapse(&fault_fact, &self.failover),
            on_fallback: lapse(&self.failover, &self.recovery).filter(|l| l.to >= l.from),
            cooldown_lag: lapse(&self.alone, &self.recovery),
            to_recovery: lapse(&self.up, &self.recovery),
        };
        let phases = self.phases(end);
        let facts = Facts {
            fault: fault.is_some(),
            up: self.up.is_some(),
            others_moved,
        };
        let judged = budgets.judge(&self.whole, &durations, facts);
        if self.direct {
            self.litellm.cooldowns.get_or_insert(0);
        }
        let mut timeline: Vec<Fact> = [
            fault_fact,
            self.first_bad,
            self.failover,
            self.up,
            self.alone,
            self.recovery,
        ]
        .into_iter()
        .flatten()
        .chain(self.others)
        .collect();
        // Stable: facts of the same moment keep the order above.
        timeline.sort_by_key(|f| f.at);
        let mut models: Vec<ServedModel> = self
            .models
            .into_iter()
            .map(|(model, (role, requests))| ServedModel {
                model,
                role,
                requests,
            })
            .collect();
        models.sort_by(|a, b| b.requests.cmp(&a.requests).then(a.model.cmp(&b.model)));
        let setup = Setup {
            models,
            interval_changes: self.interval_changes,
            notices: self.notices,
            ..setup
        };
        Report {
            source,
            setup,
            wall,
            length: end,
            fault: fault.map(|f| f.at),
            timeline,
            left_out: self.left_out,
            durations,
            phases,
            whole: self.whole,
            litellm: self.litellm,
            budgets: judged,
            chart: self.chart,
        }
    }

    /// The phases the run went through, each with its span: only those whose start was seen.
    fn phases(&mut self, end: Duration) -> Vec<PhaseCounts> {
        let fault = self.fault_at();
        let up = self.up.as_ref().filter(|_| self.up_cuts).map(|u| u.at);
        let recovery = self.recovery.as_ref().map(|r| r.at);
        let starts = [Some(Duration::ZERO), fault, up, recovery];
        let mut phases = Vec::new();
        for (index, phase) in Phase::ALL.into_iter().enumerate() {
            let Some(from) = starts[index] else { continue };
            if index > 0 && fault.is_none() {
                continue;
            }
            let to = starts[index + 1..].iter().flatten().next().copied();
            phases.push(PhaseCounts {
                phase,
                from,
                to: to.unwrap_or(end).max(from),
                counts: std::mem::take(&mut self.phases[index]),
            });
        }
        phases
    }
}
