//! The primary's own state, from the direct probes (`disable_fallbacks`): whether it answers,
//! fails inside LiteLLM, or is held in LiteLLM's cooldown, and when LiteLLM will try it again.
//! Pure: time is passed in.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::Ring;
use crate::probe::{ErrorKind, ProbeOutcome, ProbeReport, Role};

/// Direct probes kept for the dashboard's lane.
const HISTORY: usize = 1024;

/// The primary's own state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PrimaryState {
    /// No direct answer yet (or the lane is off).
    Unknown,
    /// A direct probe was served by the primary.
    Up,
    /// LiteLLM's error for the primary.
    Failing { kind: ErrorKind, message: String },
    /// LiteLLM skips the primary until its cooldown ends.
    CoolingDown(Cooldown),
    /// The proxy does not honour direct probes; the lane stopped.
    Refused { message: String },
}

/// A cooldown as the direct probes saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cooldown {
    /// The deployments LiteLLM lists, by id.
    pub ids: Vec<String>,
    /// Their api_bases, where `/model/info` told them.
    pub api_bases: Vec<String>,
    /// The configured cooldown, as LiteLLM's message gives it.
    pub configured: Option<Duration>,
    /// When LiteLLM will try the primary again: the last failure seen, plus the cooldown.
    pub next_try: Option<Duration>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum PrimaryKind {
    Up,
    Failing,
    CoolingDown,
    Refused,
}

impl PrimaryKind {
    pub const ALL: [PrimaryKind; 4] = [
        PrimaryKind::Up,
        PrimaryKind::Failing,
        PrimaryKind::CoolingDown,
        PrimaryKind::Refused,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PrimaryKind::Up => "up",
            PrimaryKind::Failing => "failing",
            PrimaryKind::CoolingDown => "cooling_down",
            PrimaryKind::Refused => "refused",
        }
    }
}

impl PrimaryState {
    pub fn kind(&self) -> Option<PrimaryKind> {
        match self {
            PrimaryState::Unknown => None,
            PrimaryState::Up => Some(PrimaryKind::Up),
            PrimaryState::Failing { .. } => Some(PrimaryKind::Failing),
            PrimaryState::CoolingDown(_) => Some(PrimaryKind::CoolingDown),
            PrimaryState::Refused { .. } => Some(PrimaryKind::Refused),
        }
    }

    /// LiteLLM's words for it, where there are some.
    pub fn message(&self) -> Option<&str> {
        match self {
            PrimaryState::Failing { message, .. } | PrimaryState::Refused { message } => {
                Some(message)
            }
            _ => None,
        }
    }
}

/// A change of the primary's own state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrimaryChange {
    /// When the direct answer that showed it arrived.
    pub at: Duration,
    /// The direct probe that showed it.
    pub seq: u64,
    pub from: Option<PrimaryKind>,
    pub to: PrimaryState,
}

/// One answered direct probe, as the lane keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirectRecord {
    pub seq: u64,
    pub sent_at: Duration,
    pub kind: PrimaryKind,
}

/// What the direct probes found, over the run.
#[derive(Clone, Debug)]
pub struct PrimaryLane {
    state: PrimaryState,
    since: Duration,
    last_applied_seq: u64,
    /// The last time a direct probe saw the primary fail: LiteLLM's cooldown counts from a
    /// failure.
    last_failure: Option<Duration>,
    /// Time spent in each state, closed periods only.
    times: BTreeMap<PrimaryKind, Duration>,
    first_failure: Option<String>,
    /// How long the last cooldown lasted, once it ended.
    last_cooldown: Option<(Duration, Duration)>,
    history: Ring<DirectRecord>,
    in_flight: BTreeMap<u64, Duration>,
    /// Direct probes answered.
    answered: u64,
}

impl Default for PrimaryLane {
    fn default() -> Self {
        Self {
            state: PrimaryState::Unknown,
            since: Duration::ZERO,
            last_applied_seq: 0,
            last_failure: None,
            times: BTreeMap::new(),
            first_failure: None,
            last_cooldown: None,
            history: Ring::new(HISTORY),
            in_flight: BTreeMap::new(),
            answered: 0,
        }
    }
}

/// What a direct answer says of the primary, before what was known is taken into account
/// (a cooldown's next try is not estimated here).
pub fn observe(report: &ProbeReport) -> PrimaryState {
    match &report.result {
        Ok(served) if served.role == Role::Primary => PrimaryState::Up,
        Ok(served) => PrimaryState::Refused {
            message: format!(
                "a direct probe was served by {}: the proxy ignores disable_fallbacks",
                served.model
            ),
        },
        Err(failure) => match (&report.route.cooling, report.status) {
            (Some(cooling), _) => PrimaryState::CoolingDown(Cooldown {
                ids: cooling.ids.clone(),
                api_bases: cooling.api_bases.clone(),
                configured: cooling.cooldown,
                next_try: None,
            }),
            // The proxy will not take a direct probe (no key for it, no such field); a 408 (the
            // router's timeout) or a 429 without a cooldown list is the primary failing.
            (None, Some(status @ (400 | 401 | 403 | 404 | 405 | 422))) => PrimaryState::Refused {
                message: format!(
                    "the proxy refused a direct probe (HTTP {status}): {}",
                    failure.message
                ),
            },
            _ => PrimaryState::Failing {
                kind: failure.kind,
                message: failure.message.clone(),
            },
        },
    }
}

impl PrimaryLane {
    pub fn sent(&mut self, seq: u64, at: Duration) {
        self.in_flight.insert(seq, at);
    }

    pub fn abandoned(&mut self, seq: u64) {
        self.in_flight.remove(&seq);
    }

    /// Applies a direct answer; the change of state it shows, if any. An answer to a probe
    /// sent before the last one applied is kept, but does not move the state back.
    pub fn apply(&mut self, outcome: &ProbeOutcome) -> Option<PrimaryChange> {
        self.in_flight.remove(&outcome.seq);
        self.answered += 1;
        let at = outcome.answered_at();
        let mut next = observe(&outcome.report);
        let kind = next.kind()?;
        let record = DirectRecord {
            seq: outcome.seq,
            sent_at: outcome.sent_at,
            kind,
        };
        self.history.insert_ordered_by(record, |r| r.seq);
        if kind == PrimaryKind::Failing {
            self.last_failure = Some(self.last_failure.map_or(at, |last| last.max(at)));
            if self.first_failure.is_none() {
                self.first_failure = next.message().map(str::to_owned);
            }
        }
        if outcome.seq < self.last_applied_seq || matches!(self.state, PrimaryState::Refused { .. })
        {
            return None;
        }
        self.last_applied_seq = outcome.seq;
        if let PrimaryState::CoolingDown(cooldown) = &mut next {
            cooldown.next_try = match &self.state {
                // The same cooldown: the estimate made when it began stands.
                PrimaryState::CoolingDown(current) => current.next_try,
                _ => {
                    let from = self.last_failure.filter(|f| {
                        cooldown
                            .configured
                            .is_some_and(|c| at.saturating_sub(*f) <= c)
                    });
                    let from = from.unwrap_or(at);
                    cooldown.configured.map(|c| from + c)
                }
            };
        }
        let from = self.state.kind();
        if from == Some(kind) {
            // The same state (LiteLLM's latest words kept): no change to tell.
            self.state = next;
            return None;
        }
        if let Some(from) = from {
            let lasted = at.saturating_sub(self.since);
            *self.times.entry(from).or_default() += lasted;
            if from == PrimaryKind::CoolingDown {
                self.last_cooldown = Some((lasted, at));
            }
        }
        self.state = next.clone();
        self.since = at;
        Some(PrimaryChange {
            at,
            seq: outcome.seq,
            from,
            to: next,
        })
    }

    pub fn state(&self) -> &PrimaryState {
        &self.state
    }

    /// How long the primary spent in each state up to `now`.
    pub fn time_in(&self, kind: PrimaryKind, now: Duration) -> Duration {
        let closed = self.times.get(&kind).copied().unwrap_or_default();
        match self.state.kind() {
            Some(current) if current == kind => closed + now.saturating_sub(self.since),
            _ => closed,
        }
    }

    /// LiteLLM's words the first time the primary was seen failing.
    pub fn first_failure(&self) -> Option<&str> {
        self.first_failure.as_deref()
    }

    /// How long the last cooldown lasted, if it ended after `after`.
    pub fn cooldown_ended_after(&self, after: Duration) -> Option<Duration> {
        self.last_cooldown
            .filter(|(_, ended)| *ended >= after)
            .map(|(lasted, _)| lasted)
    }

    /// Answered direct probes, ordered by number, oldest first.
    pub fn history(&self) -> &Ring<DirectRecord> {
        &self.history
    }

    pub fn in_flight(&self) -> &BTreeMap<u64, Duration> {
        &self.in_flight
    }

    pub fn answered(&self) -> u64 {
        self.answered
    }
}
