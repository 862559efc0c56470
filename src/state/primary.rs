//! The primary's own state, from its lane: LiteLLM's health check of it (`GET /health`, which
//! does not count in LiteLLM's failure tally) and the direct probes (`disable_fallbacks`, which
//! do, unless they meet LiteLLM's cooldown): whether it answers, fails inside LiteLLM, or is
//! held in LiteLLM's cooldown, and when LiteLLM will try it again. And, for the quiet lane,
//! which of its probes is worth sending now (see [`PrimaryLane::wanted`]). Pure: time is
//! passed in.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::Ring;
use crate::probe::{DirectMode, ErrorKind, Lane, ProbeOutcome, ProbeReport, Role};

/// Lane answers kept for the dashboard's lane.
const HISTORY: usize = 1024;
/// Cooldowns remembered, to tell how long the primary was held back in all before traffic
/// came back (back-to-back cooldowns are one wait).
const COOLDOWNS: usize = 16;
/// While the primary is away, LiteLLM's health check of it at most this often: each is a real
/// completion on each of the group's deployments.
pub const HEALTH_EVERY: Duration = Duration::from_secs(5);

/// How the lane is run and what LiteLLM's router says of its cooldowns, where the proxy told.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LaneConfig {
    pub mode: DirectMode,
    /// The failure of one deployment that starts its cooldown (`allowed_fails` + 1), where
    /// LiteLLM counts them.
    pub failures_to_cool: Option<u32>,
    /// `cooldown_time`, as the router's settings say.
    pub cooldown: Option<Duration>,
}

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
    /// When LiteLLM will try the primary again: the failure that started the cooldown, plus
    /// the cooldown.
    pub next_try: Option<Duration>,
    /// The cooldown's start was not seen (it began before the failures the lane saw, or
    /// before the run): `next_try` is the latest it can be.
    pub next_try_at_latest: bool,
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
    /// When it began: the arrival of the answer that showed it, or, for a failure, when the
    /// probe that found it left (the primary was failing then).
    pub at: Duration,
    /// What showed it: a direct probe, a health check, or (in the quiet lane) a request the
    /// primary served.
    pub lane: Lane,
    pub seq: u64,
    pub from: Option<PrimaryKind>,
    pub to: PrimaryState,
}

/// One answer of the lane, as it keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirectRecord {
    pub lane: Lane,
    pub seq: u64,
    pub sent_at: Duration,
    pub kind: PrimaryKind,
}

/// What the lane found, over the run.
#[derive(Clone, Debug)]
pub struct PrimaryLane {
    config: LaneConfig,
    state: PrimaryState,
    since: Duration,
    /// When the last answer applied was sent: an older one does not move the state back.
    last_applied_sent: Option<Duration>,
    /// The last time the lane, or a request's answer, showed the primary failing: LiteLLM's
    /// cooldown counts from a failure.
    last_failure: Option<Duration>,
    /// Time spent in each state, closed periods only.
    times: BTreeMap<PrimaryKind, Duration>,
    first_failure: Option<String>,
    /// LiteLLM's words the last time the lane saw the primary fail, and when: what started a
    /// cooldown the lane then meets (an answer that took a router timeout comes late).
    last_failure_said: Option<(Duration, String)>,
    /// The cooldowns seen end, each (its start, its end).
    cooldowns: Ring<(Duration, Duration)>,
    history: Ring<DirectRecord>,
    in_flight: BTreeMap<(Lane, u64), Duration>,
    /// Lane answers applied: direct probes, health checks.
    answered: Answered,
    /// The quiet lane's bookkeeping.
    quiet: Quiet,
}

/// The lane's answers, by kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Answered {
    pub direct: u64,
    pub health: u64,
}

impl Answered {
    pub fn total(self) -> u64 {
        self.direct + self.health
    }
}

/// What the quiet lane keeps to decide its next probe.
#[derive(Clone, Debug, Default)]
struct Quiet {
    /// Requests answered away from the primary (fallback, failure) in a row, since the primary
    /// last served one or since the cooldown seen ended: LiteLLM counts their failures.
    away_in_a_row: u32,
    /// A direct probe confirmed the cooldown those requests must have started.
    cooling_confirmed: bool,
    /// When the last health check was sent (or asked for).
    last_health: Option<Duration>,
    /// A probe was asked for and has not left yet.
    asked: bool,
}

impl PrimaryLane {
    pub fn new(config: LaneConfig) -> Self {
        Self {
            config,
            state: PrimaryState::Unknown,
            since: Duration::ZERO,
            last_applied_sent: None,
            last_failure: None,
            times: BTreeMap::new(),
            first_failure: None,
            last_failure_said: None,
            cooldowns: Ring::new(COOLDOWNS),
            history: Ring::new(HISTORY),
            in_flight: BTreeMap::new(),
            answered: Answered::default(),
            quiet: Quiet::default(),
        }
    }
}

/// What a lane's answer says of the primary, before what was known is taken into account
/// (a cooldown's next try is not estimated here). A health check never sees LiteLLM's
/// cooldown: it asks the primary itself; one the proxy did not answer at all, or that the
/// proxy's rate limit for the key refused, says nothing of the primary (`Unknown`).
pub fn observe(lane: Lane, report: &ProbeReport) -> PrimaryState {
    // Nor does one the proxy's rate limit for the key refused: no model was asked.
    if (lane == Lane::Health && report.status.is_none() && report.result.is_err())
        || report.rate_limited()
    {
        return PrimaryState::Unknown;
    }
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
                next_try_at_latest: false,
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

/// Whether LiteLLM's health check is not there for this key or gateway (not allowed, not
/// found): the lane falls back to direct probes.
pub fn health_unavailable(outcome: &ProbeOutcome) -> bool {
    outcome.lane == Lane::Health && matches!(outcome.report.status, Some(401 | 403 | 404 | 405))
}

impl PrimaryLane {
    pub fn sent(&mut self, lane: Lane, seq: u64, at: Duration) {
        self.in_flight.insert((lane, seq), at);
        self.quiet.asked = false;
        if lane == Lane::Health {
            self.quiet.last_health = Some(at);
        }
    }

    pub fn abandoned(&mut self, lane: Lane, seq: u64) {
        self.in_flight.remove(&(lane, seq));
    }

    /// The lane now runs as `mode` (LiteLLM's health check is not available: direct probes).
    pub fn set_mode(&mut self, mode: DirectMode) {
        self.config.mode = mode;
    }

    pub fn mode(&self) -> DirectMode {
        self.config.mode
    }

    /// A request's answer, as the quiet lane counts them: served by the primary, or not (a
    /// failure LiteLLM counted, unless the primary was cooling down already). The quiet lane
    /// sends nothing while the primary serves: a request it serves is what shows it up again
    /// (the change), the end of a cooldown included.
    pub fn request_answered(
        &mut self,
        by_primary: bool,
        seq: u64,
        at: Duration,
    ) -> Option<PrimaryChange> {
        if by_primary {
            self.quiet = Quiet {
                last_health: self.quiet.last_health,
                ..Quiet::default()
            };
            let away = matches!(
                self.state,
                PrimaryState::Failing { .. } | PrimaryState::CoolingDown(_)
            );
            if self.config.mode != DirectMode::Quiet || !away {
                return None;
            }
            return self.change_to(PrimaryState::Up, Lane::Normal, seq, at);
        }
        // After the cooldown the lane saw, the requests try the primary again and count anew.
        if let PrimaryState::CoolingDown(cooldown) = &self.state
            && cooldown.next_try.is_some_and(|next| at >= next)
            && self.quiet.cooling_confirmed
        {
            self.quiet.cooling_confirmed = false;
            self.quiet.away_in_a_row = 0;
        }
        self.quiet.away_in_a_row = self.quiet.away_in_a_row.saturating_add(1);
        // Without failing direct probes, the requests' failures are where LiteLLM's cooldown
        // counts from: up to the one that must have started it (later ones found it running).
        let starting = self
            .config
            .failures_to_cool
            .map_or(self.quiet.away_in_a_row == 1, |n| {
                self.quiet.away_in_a_row <= n
            });
        if self.config.mode == DirectMode::Quiet && !self.quiet.cooling_confirmed && starting {
            self.last_failure = Some(self.last_failure.map_or(at, |last| last.max(at)));
        }
        None
    }

    /// The probe of the quiet lane worth sending at `now`, if any (marked asked: it is not
    /// asked again before it left). `away`: the requests are not served by the primary.
    ///
    /// - LiteLLM's health check while the primary is away, at once and then every
    ///   [`HEALTH_EVERY`]: the primary's own error (the cause of the failover) and the moment
    ///   it answers again, without counting in LiteLLM's tally;
    /// - one direct probe once the requests themselves must have started LiteLLM's cooldown
    ///   (`allowed_fails` + 1 of them away in a row): it meets the cooldown, which costs the
    ///   primary nothing, and tells its deployments and LiteLLM's cooldown time.
    pub fn wanted(&mut self, away: bool, now: Duration) -> Option<Lane> {
        if self.config.mode != DirectMode::Quiet
            || self.quiet.asked
            || matches!(self.state, PrimaryState::Refused { .. })
            || !self.in_flight.is_empty()
        {
            return None;
        }
        let cooled = self
            .config
            .failures_to_cool
            .is_some_and(|n| self.quiet.away_in_a_row >= n);
        let wanted = if away && cooled && !self.quiet.cooling_confirmed {
            Lane::Direct
        } else if away
            && self
                .quiet
                .last_health
                .is_none_or(|last| now.saturating_sub(last) >= HEALTH_EVERY)
        {
            Lane::Health
        } else {
            return None;
        };
        self.quiet.asked = true;
        Some(wanted)
    }

    /// Applies a lane answer; the change of state it shows, if any. An answer to a probe sent
    /// before the last one applied is kept, but does not move the state back.
    pub fn apply(&mut self, outcome: &ProbeOutcome) -> Option<PrimaryChange> {
        self.in_flight.remove(&(outcome.lane, outcome.seq));
        match outcome.lane {
            Lane::Health => self.answered.health += 1,
            _ => self.answered.direct += 1,
        }
        let at = outcome.answered_at();
        let mut next = observe(outcome.lane, &outcome.report);
        let kind = next.kind()?;
        let record = DirectRecord {
            lane: outcome.lane,
            seq: outcome.seq,
            sent_at: outcome.sent_at,
            kind,
        };
        self.history.insert_ordered_by(record, |r| r.sent_at);
        if kind == PrimaryKind::Failing {
            // LiteLLM's cooldown counts from a failure it counted: a health check's is not.
            if outcome.lane == Lane::Direct {
                self.last_failure = Some(self.last_failure.map_or(at, |last| last.max(at)));
            }
            if self.first_failure.is_none() {
                self.first_failure = next.message().map(str::to_owned);
            }
            if let Some(message) = next.message() {
                self.last_failure_said = Some((at, message.to_owned()));
            }
        }
        if self
            .last_applied_sent
            .is_some_and(|last| outcome.sent_at < last)
            || matches!(self.state, PrimaryState::Refused { .. })
        {
            return None;
        }
        // Whether its deployment answers its health check or not, LiteLLM's cooldown holds the
        // primary back from the requests: it stays cooling down until LiteLLM tries it again.
        if let PrimaryState::CoolingDown(cooldown) = &self.state
            && outcome.lane == Lane::Health
            && cooldown.next_try.is_some_and(|next_try| at < next_try)
        {
            return None;
        }
        self.last_applied_sent = Some(outcome.sent_at);
        if let PrimaryState::CoolingDown(cooldown) = &mut next {
            self.quiet.cooling_confirmed = true;
            // The router's settings say it exactly; its answer says the configured time too.
            cooldown.configured = self.config.cooldown.or(cooldown.configured);
            (cooldown.next_try, cooldown.next_try_at_latest) = match &self.state {
                // The same cooldown: the estimate made when it began stands.
                PrimaryState::CoolingDown(current) => {
                    (current.next_try, current.next_try_at_latest)
                }
                _ => {
                    let seen = self.last_failure.filter(|f| {
                        cooldown
                            .configured
                            .is_some_and(|c| at.saturating_sub(*f) <= c)
                    });
                    // Unseen, it began at the latest now: LiteLLM tries again at the latest a
                    // cooldown from now.
                    (
                        cooldown.configured.map(|c| seen.unwrap_or(at) + c),
                        seen.is_none(),
                    )
                }
            };
        }
        // The primary was failing when the probe that found it left: an answer that took a
        // router timeout (a hang) does not count its wait as up, nor as the cooldown it ended.
        let began = match kind {
            PrimaryKind::Failing => outcome.sent_at.min(at).max(self.since),
            _ => at,
        };
        self.change_to(next, outcome.lane, outcome.seq, began)
    }

    /// Moves to `next`, shown by `lane`'s answer `seq` at `at`: the change, if it is one.
    fn change_to(
        &mut self,
        next: PrimaryState,
        lane: Lane,
        seq: u64,
        at: Duration,
    ) -> Option<PrimaryChange> {
        let from = self.state.kind();
        if from == next.kind() {
            // The same state (LiteLLM's latest words kept): no change to tell.
            self.state = next;
            return None;
        }
        if let Some(from) = from {
            let lasted = at.saturating_sub(self.since);
            *self.times.entry(from).or_default() += lasted;
            if from == PrimaryKind::CoolingDown {
                self.cooldowns.push((self.since, at));
            }
        }
        self.state = next.clone();
        self.since = at;
        Some(PrimaryChange {
            at,
            lane,
            seq,
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

    /// LiteLLM's words the last time the lane saw the primary fail, if that was within
    /// `window` of `now`.
    pub fn failure_within(&self, window: Duration, now: Duration) -> Option<&str> {
        self.last_failure_said
            .as_ref()
            .filter(|(at, _)| now.saturating_sub(*at) <= window)
            .map(|(_, message)| message.as_str())
    }

    /// LiteLLM's words the first time the primary was seen failing.
    pub fn first_failure(&self) -> Option<&str> {
        self.first_failure.as_deref()
    }

    /// How long LiteLLM held the primary back, from the first to the end of the last of the
    /// cooldowns that ended after `after`, if any did: back-to-back cooldowns (the primary
    /// still down when the first ended, failing once, cooled down again) are one wait.
    pub fn cooldown_ended_after(&self, after: Duration) -> Option<Duration> {
        let ended_after = || self.cooldowns.iter().filter(|(_, ended)| *ended >= after);
        let began = ended_after().map(|(began, _)| *began).min()?;
        let ended = ended_after().map(|(_, ended)| *ended).max()?;
        Some(ended.saturating_sub(began)).filter(|held| !held.is_zero())
    }

    /// The lane's answers, in the order they were sent, oldest first.
    pub fn history(&self) -> &Ring<DirectRecord> {
        &self.history
    }

    /// The lane's probes unanswered: lane and number, and when each was sent.
    pub fn in_flight(&self) -> &BTreeMap<(Lane, u64), Duration> {
        &self.in_flight
    }

    /// The lane's answers, of each kind.
    pub fn answered(&self) -> Answered {
        self.answered
    }
}
