//! Everything watched: the state of each target, fed every input in order. The single owner
//! of the run holds one; each input applied comes back as what the outputs are to be told.

use std::time::Duration;

use super::{
    Applied, DirectTold, Input, Monitor, MonitorConfig, Notice, NoticeKind, ProxyTold, RequestTold,
    ServingKind, Told,
};
use crate::probe::{Lane, ProbeEvent, TargetId};

#[derive(Clone, Debug)]
pub struct Watch {
    targets: Vec<Monitor>,
}

/// Where the targets stand and what they counted, summed: the overview's summary line, the
/// text story's totals and the JSON lines' `totals` read it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    pub targets: usize,
    /// Targets served by their primary, by a fallback, down, not answered yet, now.
    pub on_primary: usize,
    pub on_fallback: usize,
    pub down: usize,
    pub waiting: usize,
    pub sent: u64,
    pub total: u64,
    pub succeeded: u64,
    pub failed: u64,
    pub failovers: u64,
    pub recoveries: u64,
    pub outages: u64,
}

impl Watch {
    /// A target for each config, in order (one at least), each starting with nothing known.
    pub fn new(configs: Vec<MonitorConfig>) -> Self {
        let mut targets: Vec<Monitor> = configs.into_iter().map(Monitor::new).collect();
        if targets.is_empty() {
            targets.push(Monitor::new(MonitorConfig::default()));
        }
        Self { targets }
    }

    /// A watch of the one target `monitor` is (tests and benchmarks built on a monitor).
    pub fn of(monitor: Monitor) -> Self {
        Self::of_all(vec![monitor])
    }

    /// A watch of the targets `monitors` are, in order (one at least).
    pub fn of_all(monitors: Vec<Monitor>) -> Self {
        match monitors.is_empty() {
            true => Self::new(Vec::new()),
            false => Self { targets: monitors },
        }
    }

    /// Every target's state, in the run's order.
    pub fn targets(&self) -> impl ExactSizeIterator<Item = (TargetId, &Monitor)> {
        self.targets
            .iter()
            .enumerate()
            .map(|(i, monitor)| (TargetId(i as u16), monitor))
    }

    /// The state of one target (the first for an unknown one: a record names no other).
    pub fn target(&self, id: TargetId) -> &Monitor {
        self.targets.get(id.index()).unwrap_or(&self.targets[0])
    }

    /// Every target's standing and counts, summed.
    pub fn totals(&self) -> Totals {
        let mut totals = Totals {
            targets: self.targets.len(),
            ..Totals::default()
        };
        for monitor in &self.targets {
            match monitor.serving().kind() {
                Some(ServingKind::Primary) => totals.on_primary += 1,
                Some(ServingKind::Fallback) => totals.on_fallback += 1,
                Some(ServingKind::Down) => totals.down += 1,
                None => totals.waiting += 1,
            }
            let c = monitor.counters();
            totals.sent += c.sent();
            totals.total += c.total;
            totals.succeeded += c.succeeded;
            totals.failed += c.failed;
            totals.failovers += c.failovers;
            totals.recoveries += c.recoveries;
            totals.outages += c.outages;
        }
        totals
    }

    fn target_mut(&mut self, id: TargetId) -> &mut Monitor {
        let index = if id.index() < self.targets.len() {
            id.index()
        } else {
            0
        };
        &mut self.targets[index]
    }

    /// The quiet lane's probes worth sending now, each for its target (asked once each): of
    /// `only` the target an input was about (each target's lane asked at its own events, as
    /// if it were watched alone; the cost does not grow with the targets), else of every one.
    pub fn lane_wanted(&mut self, only: Option<TargetId>, now: Duration) -> Vec<(TargetId, Lane)> {
        if let Some(target) = only.filter(|t| t.index() < self.targets.len()) {
            let lane = self.targets[target.index()].lane_wanted(now);
            return lane.map(|lane| (target, lane)).into_iter().collect();
        }
        self.targets
            .iter_mut()
            .enumerate()
            .filter_map(|(i, m)| Some((TargetId(i as u16), m.lane_wanted(now)?)))
            .collect()
    }

    /// Probes of every target still unanswered.
    pub fn in_flight(&self) -> usize {
        self.targets.iter().map(|m| m.in_flight().len()).sum()
    }

    /// Applies one input; what the outputs are to be told of it, in order (a notice after the
    /// answer that brought it).
    pub fn apply(&mut self, input: Input) -> Vec<Told> {
        match input {
            Input::Probe(event) => {
                let applied = self.target_mut(event.target()).apply(&event);
                told_of(event, applied)
            }
            Input::Mark {
                at,
                after_seq,
                label,
            } => {
                let mut marker = None;
                for monitor in &mut self.targets {
                    marker = Some(monitor.mark(at, after_seq, label.clone()).clone());
                }
                marker.map(Told::Marker).into_iter().collect()
            }
            Input::ResetCounters { at } => {
                self.targets.iter_mut().for_each(|m| m.reset_counters(at));
                vec![Told::Reset { at }]
            }
            Input::Interval { at, every } => vec![Told::Interval { at, every }],
            Input::Restart => {
                self.targets.iter_mut().for_each(Monitor::restart);
                Vec::new()
            }
        }
    }

    /// What the shell found about the whole run (the record cannot be written, `mark` cannot
    /// reach it): a notice on every target, told once of its kind.
    pub fn shell_notice(
        &mut self,
        kind: NoticeKind,
        message: String,
        at: Duration,
    ) -> Option<Told> {
        let notice = Notice { at, kind, message };
        let mut told = None;
        for monitor in &mut self.targets {
            told = monitor.tell_once(notice.clone()).or(told);
        }
        told.map(|notice| Told::Notice {
            target: None,
            notice,
        })
    }
}

/// What the outputs are told of a probe event and what applying it changed.
fn told_of(event: ProbeEvent, applied: Applied) -> Vec<Told> {
    let target = event.target();
    let told = match event {
        ProbeEvent::Answered(outcome) if outcome.lane.is_primary_lane() => {
            Some(Told::Direct(Box::new(DirectTold {
                outcome: *outcome,
                observed: applied.observed.unwrap_or(super::PrimaryKind::Failing),
                retry_in: applied.retry_in,
                change: applied.primary,
                explains: applied.explains,
                lane_mode: applied.lane_mode,
            })))
        }
        ProbeEvent::Answered(outcome) => Some(Told::Request(Box::new(RequestTold {
            outcome: *outcome,
            late: applied.late,
            transition: applied.transition,
            awaits_lane: applied.awaits_lane,
            change: applied.primary,
        }))),
        // LiteLLM's view, told when it changed, or the first time it could not be read.
        ProbeEvent::ProxyView { at, reading, .. } => {
            let worth = applied.proxy.is_some() || (reading.is_err() && applied.notice.is_some());
            worth.then(|| {
                Told::Proxy(Box::new(ProxyTold {
                    target,
                    at,
                    reading,
                    now: applied.proxy,
                }))
            })
        }
        other => Some(Told::Probe(other)),
    };
    let notice = applied.notice.map(|notice| Told::Notice {
        target: Some(target),
        notice,
    });
    told.into_iter().chain(notice).collect()
}
