//! The pure core: probe events in, serving state, transitions, counters and history out.
//!
//! No I/O and no clock: every event carries its time, and operations that need "now" take it
//! as an argument. Everything kept is bounded (rings, histograms, capped maps).
//!
//! Answers may arrive out of order (a hung request answers 30 s after later ones). Each answer
//! is counted, but only an answer to a request sent after the last one applied may move the
//! serving state: the state always reflects the most recently *sent* answered request.

mod counters;
mod input;
mod latency;
mod notice;
mod primary;
mod proxy_view;
mod ring;
mod serving;
mod told;
mod watch;

use std::collections::BTreeMap;
use std::time::Duration;

pub use counters::Counters;
pub use input::Input;
pub use latency::{LatencyStats, Percentiles};
pub use notice::{Notice, NoticeKind};
pub use primary::{
    HEALTH_EVERY, LaneConfig, PrimaryChange, PrimaryKind, PrimaryLane, PrimaryState, observe,
};
pub use proxy_view::{ProxyCounts, ProxyNow, ProxyView};
pub use ring::Ring;
pub use serving::{Marker, MarkerLag, Serving, ServingKind, Transition, TransitionKind};
pub use told::{DirectTold, ProxyTold, RequestTold, Told};
pub use watch::{Totals, Watch};

use crate::litellm::errors::cause;
use crate::probe::{ErrorKind, Lane, ProbeEvent, ProbeOutcome, Role, Verdict};

/// One answered request as the history keeps it.
#[derive(Clone, Debug, PartialEq)]
pub struct HistoryEntry {
    pub seq: u64,
    pub sent_at: Duration,
    pub latency: Duration,
    pub ttft: Option<Duration>,
    pub verdict: Verdict,
    pub model: Option<String>,
    pub status: Option<u16>,
    pub error_kind: Option<ErrorKind>,
    /// The reply or the error message, safe to print and cut to a bounded length.
    pub text: String,
    /// Answered after a later request had already been applied.
    pub late: bool,
}

/// Sizes and thresholds of the core.
#[derive(Clone, Debug)]
pub struct MonitorConfig {
    /// The client's limit for one request (`--timeout`), to compare the proxy's with.
    pub timeout: Duration,
    /// Consecutive failed requests that make the state DOWN.
    pub down_after: u32,
    /// Requests kept for the timeline and the recent list.
    pub history: usize,
    /// Transitions and markers kept for the events pane.
    pub events: usize,
    /// How the primary's own lane runs, and what the router's settings say of cooldowns.
    pub lane: LaneConfig,
}

impl Default for MonitorConfig {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(60),
            down_after: 2,
            history: 1024,
            events: 256,
            lane: LaneConfig::default(),
        }
    }
}

/// How far back a failure may have started a cooldown whose length no one said: LiteLLM's
/// counting window.
const COOLDOWN_UNSAID: Duration = Duration::from_secs(60);

/// Longest reply or error text kept per history entry.
const ENTRY_TEXT_CHARS: usize = 300;

/// The single owner of everything the outputs show.
#[derive(Clone, Debug)]
pub struct Monitor {
    config: MonitorConfig,
    serving: Serving,
    /// When the current serving state began, and the request that showed it.
    serving_since: Duration,
    serving_since_seq: u64,
    last_applied_seq: u64,
    last_sent_seq: u64,
    consecutive_errors: u32,
    errors_since_success: u64,
    /// The whole run: what the summaries and the exit status tell.
    run: Tally,
    /// Since the last reset (`r`): what the dashboard's counters show.
    shown: Tally,
    history: Ring<HistoryEntry>,
    transitions: Ring<Transition>,
    markers: Ring<Marker>,
    next_marker: u32,
    pending_marker: Option<Marker>,
    in_flight: BTreeMap<u64, Duration>,
    /// The LiteLLM release the proxy last said it runs.
    litellm_version: Option<String>,
    /// Told once each, in the order they came (one of each kind at most).
    notices: Vec<Notice>,
    /// The primary's own state, from its lane.
    primary: PrimaryLane,
    /// The last request applied was served by the primary.
    last_by_primary: Option<bool>,
    /// LiteLLM's own view of the primary group, from its metrics.
    proxy: ProxyView,
}

/// Counts and latency statistics from `since` on.
#[derive(Clone, Debug, Default)]
pub struct Tally {
    pub counters: Counters,
    pub latency: LatencyStats,
    /// The run's start, or the last reset.
    pub since: Duration,
}

/// What applying one event changed: every fact the outputs tell of it, decided here.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Applied {
    pub transition: Option<Transition>,
    /// The answer came after a later request had already been applied.
    pub late: bool,
    /// A transition whose explanation is coming: its tick's direct probe is in flight, or the
    /// quiet lane is asking LiteLLM's health check; that answer will tell why the primary was
    /// away (or how long LiteLLM held it back).
    pub awaits_lane: bool,
    /// Something this answer showed for the first time.
    pub notice: Option<Notice>,
    /// What a direct answer says of the primary, and when LiteLLM will try it again (a
    /// cooldown's estimate, from the answer on).
    pub observed: Option<PrimaryKind>,
    pub retry_in: Option<Duration>,
    /// A change of the primary's own state (a lane's answer; in the quiet lane, a request the
    /// primary served again).
    pub primary: Option<PrimaryChange>,
    /// The transition of a direct answer's tick, completed by what the answer said.
    pub explains: Option<Transition>,
    /// The lane runs otherwise from now on (LiteLLM's health check is not available: direct
    /// probes).
    pub lane_mode: Option<crate::probe::DirectMode>,
    /// What LiteLLM's own metrics say now, when it changed.
    pub proxy: Option<ProxyNow>,
}

impl Monitor {
    pub fn new(config: MonitorConfig) -> Self {
        Self {
            serving: Serving::Unknown,
            serving_since: Duration::ZERO,
            serving_since_seq: 0,
            last_applied_seq: 0,
            last_sent_seq: 0,
            consecutive_errors: 0,
            errors_since_success: 0,
            run: Tally::default(),
            shown: Tally::default(),
            history: Ring::new(config.history),
            transitions: Ring::new(config.events),
            markers: Ring::new(config.events),
            next_marker: 1,
            pending_marker: None,
            in_flight: BTreeMap::new(),
            litellm_version: None,
            notices: Vec::new(),
            primary: PrimaryLane::new(config.lane),
            last_by_primary: None,
            proxy: ProxyView::default(),
            config,
        }
    }

    pub fn apply(&mut self, event: &ProbeEvent) -> Applied {
        match event {
            ProbeEvent::Sent { lane, seq, at, .. } if lane.is_primary_lane() => {
                self.primary.sent(*lane, *seq, *at);
                Applied::default()
            }
            ProbeEvent::Sent { seq, at, .. } => {
                self.in_flight.insert(*seq, *at);
                self.last_sent_seq = self.last_sent_seq.max(*seq);
                Applied::default()
            }
            ProbeEvent::Skipped { lane, .. } => {
                // The requests' skips are counted; a direct probe's has its own `skip` line.
                if *lane == Lane::Normal {
                    self.tallies().for_each(|t| t.counters.skipped += 1);
                }
                Applied::default()
            }
            ProbeEvent::Abandoned { lane, seq, .. } if lane.is_primary_lane() => {
                self.primary.abandoned(*lane, *seq);
                self.tallies()
                    .for_each(|t| t.counters.direct_abandoned += 1);
                Applied::default()
            }
            ProbeEvent::Abandoned { seq, .. } => {
                self.in_flight.remove(seq);
                self.tallies().for_each(|t| t.counters.abandoned += 1);
                Applied::default()
            }
            ProbeEvent::Answered(outcome) if primary::health_unavailable(outcome) => {
                // No health check for this key or gateway: direct probes, which count.
                self.primary.abandoned(outcome.lane, outcome.seq);
                self.primary.set_mode(crate::probe::DirectMode::Probe);
                let status = outcome.report.status.unwrap_or_default();
                let notice =
                    self.tell_once(notice::health_unavailable(status, outcome.answered_at()));
                Applied {
                    notice,
                    observed: Some(PrimaryKind::Refused),
                    lane_mode: Some(crate::probe::DirectMode::Probe),
                    ..Applied::default()
                }
            }
            ProbeEvent::Answered(outcome) if outcome.lane.is_primary_lane() => {
                let notice = self.learn(outcome);
                let primary = self.primary.apply(outcome);
                // A probe the proxy's rate limit refused: refused, the primary's state untold.
                let unknown = if outcome.report.rate_limited() {
                    PrimaryKind::Refused
                } else {
                    PrimaryKind::Failing
                };
                let observed = observe(outcome.lane, &outcome.report)
                    .kind()
                    .unwrap_or(unknown);
                let retry_in = match (self.primary.state(), &outcome.report.route.cooling) {
                    (PrimaryState::CoolingDown(cooldown), Some(_)) => cooldown
                        .next_try
                        .map(|next| next.saturating_sub(outcome.answered_at())),
                    _ => None,
                };
                // Whether or not the primary's state changed: the answer of a transition's
                // own tick tells why (failing before, failing still).
                let explains = self.explain_transition(outcome.sent_at);
                Applied {
                    notice,
                    observed: Some(observed),
                    retry_in,
                    primary,
                    explains,
                    ..Applied::default()
                }
            }
            ProbeEvent::Answered(outcome) => self.apply_answer(outcome),
            ProbeEvent::ProxyView {
                at,
                reading: Ok(reading),
                ..
            } => {
                let client_fallbacks = self.run.counters.fallback;
                let proxy = self.proxy.read(*at, reading, client_fallbacks).cloned();
                Applied {
                    proxy,
                    ..Applied::default()
                }
            }
            ProbeEvent::ProxyView {
                at,
                reading: Err(why),
                ..
            } => Applied {
                notice: self.tell_once(notice::proxy_metrics_unavailable(why, *at)),
                ..Applied::default()
            },
        }
    }

    fn apply_answer(&mut self, outcome: &ProbeOutcome) -> Applied {
        self.in_flight.remove(&outcome.seq);
        let late = outcome.seq < self.last_applied_seq;
        let record = self.count(outcome, late);
        self.history.insert_ordered_by(record, |r| r.seq);
        let notice = self.learn(outcome);
        if late {
            return Applied {
                late,
                notice,
                ..Applied::default()
            };
        }
        self.last_applied_seq = outcome.seq;
        // The proxy's rate limit for the key refused it before any model was asked: counted
        // and kept as what it is, but it moves nothing (no failed request towards DOWN, none
        // the quiet lane counts as LiteLLM's).
        if outcome.report.rate_limited() {
            return Applied {
                notice,
                ..Applied::default()
            };
        }
        let at = outcome.answered_at();
        let by_primary =
            matches!(&outcome.report.result, Ok(served) if served.role == Role::Primary);
        self.last_by_primary = Some(by_primary);
        let primary = self.primary.request_answered(by_primary, outcome.seq, at);
        let next = match &outcome.report.result {
            Ok(served) => {
                self.consecutive_errors = 0;
                match served.role {
                    Role::Primary => Serving::Primary {
                        model: served.model.clone(),
                    },
                    Role::Fallback => Serving::Fallback {
                        model: served.model.clone(),
                    },
                }
            }
            Err(_) => {
                self.consecutive_errors = self.consecutive_errors.saturating_add(1);
                self.errors_since_success += 1;
                if self.consecutive_errors >= self.config.down_after {
                    Serving::Down
                } else {
                    return Applied {
                        notice,
                        primary,
                        ..Applied::default()
                    };
                }
            }
        };
        let transition = self.move_to(next, at, outcome.seq);
        if outcome.report.result.is_ok() {
            self.errors_since_success = 0;
        }
        // Its explanation is coming: the direct probe of its tick (`--direct probe`), or the
        // health check the quiet lane asks at once when the primary goes away.
        let awaits_lane = transition
            .as_ref()
            .is_some_and(|t| match self.primary.mode() {
                crate::probe::DirectMode::Probe => self
                    .primary
                    .in_flight()
                    .values()
                    .any(|sent| *sent == outcome.sent_at),
                crate::probe::DirectMode::Quiet => {
                    matches!(t.kind, TransitionKind::Failover | TransitionKind::Outage)
                        && !matches!(self.primary.state(), PrimaryState::Refused { .. })
                }
                crate::probe::DirectMode::Off => false,
            });
        Applied {
            transition,
            late,
            awaits_lane,
            notice,
            primary,
            ..Applied::default()
        }
    }

    /// What an answer tells about the proxy itself: its release, and a router timeout the
    /// client's would cut off (a notice, the first time).
    fn learn(&mut self, outcome: &ProbeOutcome) -> Option<Notice> {
        let route = &outcome.report.route;
        if let Some(version) = &route.version
            && self.litellm_version.as_ref() != Some(version)
        {
            self.litellm_version = Some(version.clone());
        }
        let at = outcome.answered_at();
        let candidates = [
            route
                .router_timeout
                .and_then(|router| notice::router_timeout(router, self.config.timeout, at)),
            route
                .lookup_failure
                .as_deref()
                .map(|why| notice::deployments_unread(why, at)),
        ];
        // One a time; another that holds is told with a later answer.
        candidates
            .into_iter()
            .flatten()
            .find_map(|new| self.tell_once(new))
    }

    /// `notice`, kept, unless one of its kind was told already.
    pub(super) fn tell_once(&mut self, notice: Notice) -> Option<Notice> {
        if self.notices.iter().any(|told| told.kind == notice.kind) {
            return None;
        }
        self.notices.push(notice.clone());
        Some(notice)
    }

    /// Counts an answer and returns its history record.
    fn count(&mut self, outcome: &ProbeOutcome, late: bool) -> HistoryEntry {
        let report = &outcome.report;
        let (verdict, model, error_kind, text) = match &report.result {
            Ok(served) => {
                self.tallies().for_each(|t| {
                    t.counters.count_success(served.role, &served.model);
                    t.latency.record(&served.model, outcome.latency());
                });
                (
                    report.verdict(),
                    Some(served.model.clone()),
                    None,
                    &served.reply,
                )
            }
            Err(failure) => {
                self.tallies()
                    .for_each(|t| t.counters.count_failure(failure.kind));
                (Verdict::Error, None, Some(failure.kind), &failure.message)
            }
        };
        HistoryEntry {
            seq: outcome.seq,
            sent_at: outcome.sent_at,
            latency: outcome.latency(),
            ttft: report.ttft,
            verdict,
            model,
            status: report.status,
            error_kind,
            // Already clean (the prober's, or a record's, cleaned when read): only cut.
            text: crate::text::sanitize::cut(text, ENTRY_TEXT_CHARS),
            late,
        }
    }

    fn move_to(&mut self, next: Serving, at: Duration, seq: u64) -> Option<Transition> {
        let kind = TransitionKind::between(&self.serving, &next);
        let transition = match (kind, self.serving.kind(), next.kind()) {
            (Some(kind), Some(from), Some(to)) => {
                let (cause, primary_cooldown) = self.primary_account(kind, self.serving_since, at);
                let transition = Transition {
                    at,
                    seq,
                    kind,
                    from,
                    to,
                    from_model: self.serving.model().map(str::to_owned),
                    to_model: next.model().map(str::to_owned),
                    previous: at.saturating_sub(self.serving_since),
                    failed_during: self.errors_since_success,
                    cause,
                    primary_cooldown,
                    after_marker: self.pending_marker.take().map(|m| MarkerLag {
                        marker: m.id,
                        lag: at.saturating_sub(m.at),
                        label: m.label,
                    }),
                };
                self.tallies().for_each(|t| {
                    let c = &mut t.counters;
                    match kind {
                        TransitionKind::Failover => c.failovers += 1,
                        TransitionKind::Recovery => c.recoveries += 1,
                        TransitionKind::Outage => c.outages += 1,
                        TransitionKind::Restored => c.restorations += 1,
                    }
                });
                self.transitions.push(transition.clone());
                Some(transition)
            }
            // A run that starts DOWN has no state before to tell a transition from, but it is
            // an outage all the same.
            (None, None, Some(ServingKind::Down)) => {
                self.tallies().for_each(|t| t.counters.outages += 1);
                None
            }
            _ => None,
        };
        let state_changed = self.serving.kind() != next.kind() || transition.is_some();
        if state_changed {
            self.serving_since = at;
            self.serving_since_seq = seq;
        }
        self.serving = next;
        transition
    }

    /// Drops a marker ("scaled down now"), labelled or not, after request `after_seq` (the
    /// last one sent so far when not known); the next transition reports how long after it
    /// came.
    pub fn mark(&mut self, at: Duration, after_seq: Option<u64>, label: Option<String>) -> &Marker {
        let marker = Marker {
            id: self.next_marker,
            at,
            after_seq: after_seq.unwrap_or(self.last_sent_seq),
            label,
        };
        self.next_marker += 1;
        self.pending_marker = Some(marker.clone());
        self.markers.push(marker);
        self.markers.last().expect("just pushed")
    }

    /// Forgets the whole run: a replay that steps back plays it again from its start.
    pub fn restart(&mut self) {
        *self = Self::new(self.config.clone());
    }

    /// Starts the dashboard's counters and latency statistics afresh; the whole run's, the
    /// serving state, the history and the transitions are kept.
    pub fn reset_counters(&mut self, at: Duration) {
        self.shown = Tally {
            since: at,
            ..Tally::default()
        };
    }

    fn tallies(&mut self) -> impl Iterator<Item = &mut Tally> {
        [&mut self.run, &mut self.shown].into_iter()
    }

    pub fn serving(&self) -> &Serving {
        &self.serving
    }

    /// When the current serving state began, and the request that showed it.
    pub fn serving_since(&self) -> (Duration, u64) {
        (self.serving_since, self.serving_since_seq)
    }

    /// The whole run's counts.
    pub fn counters(&self) -> &Counters {
        &self.run.counters
    }

    /// The whole run's latencies.
    pub fn latency(&self) -> &LatencyStats {
        &self.run.latency
    }

    /// Counts and latencies since the last reset, for the dashboard.
    pub fn since_reset(&self) -> &Tally {
        &self.shown
    }

    /// Answered requests, ordered by number, oldest first.
    pub fn history(&self) -> &Ring<HistoryEntry> {
        &self.history
    }

    pub fn transitions(&self) -> &Ring<Transition> {
        &self.transitions
    }

    pub fn markers(&self) -> &Ring<Marker> {
        &self.markers
    }

    /// Unanswered requests: number and when each was sent.
    pub fn in_flight(&self) -> &BTreeMap<u64, Duration> {
        &self.in_flight
    }

    pub fn consecutive_errors(&self) -> u32 {
        self.consecutive_errors
    }

    pub fn last_sent_seq(&self) -> u64 {
        self.last_sent_seq
    }

    /// A transition shown by a request sent at or before a lane probe that answered later
    /// (the direct probe of its tick, the health check asked for it): the primary's own state
    /// now says why it left (a failover, an outage), or how long LiteLLM held it back (a
    /// recovery). The transition as it now stands, when this answer came for it (an older
    /// probe answering late explains nothing).
    fn explain_transition(&mut self, lane_sent: Duration) -> Option<Transition> {
        let last = self.transitions.last()?;
        let for_it = self
            .history
            .iter()
            .rev()
            .find(|r| r.seq == last.seq)
            .is_some_and(|r| r.sent_at <= lane_sent);
        if !for_it {
            return None;
        }
        let explained = match last.kind {
            TransitionKind::Recovery => last.primary_cooldown.is_some(),
            TransitionKind::Failover | TransitionKind::Outage => last.cause.is_some(),
            TransitionKind::Restored => true,
        };
        if !explained {
            let (cause, held) =
                self.primary_account(last.kind, last.at.saturating_sub(last.previous), last.at);
            if let Some(last) = self.transitions.last_mut() {
                last.cause = last.cause.take().or(cause);
                last.primary_cooldown = last.primary_cooldown.or(held);
            }
        }
        self.transitions.last().cloned()
    }

    /// What the primary's own state tells of a transition of `kind` at `at` from a state that
    /// began `since`: why the primary is away (a failover, an outage), how long LiteLLM held it
    /// back (a recovery).
    fn primary_account(
        &self,
        kind: TransitionKind,
        since: Duration,
        at: Duration,
    ) -> (Option<String>, Option<Duration>) {
        let held = match kind {
            TransitionKind::Recovery => self.primary.cooldown_ended_after(since),
            _ => None,
        };
        (self.primary_cause(kind, at), held)
    }

    /// Why the primary is away, as its own state tells at a failover or an outage at `at`:
    /// in a cooldown, the failure that started it where the lane saw it (a hung primary's
    /// timeout answers after the cooldown began).
    fn primary_cause(&self, kind: TransitionKind, at: Duration) -> Option<String> {
        if !matches!(kind, TransitionKind::Failover | TransitionKind::Outage) {
            return None;
        }
        match self.primary.state() {
            PrimaryState::Failing { message, .. } => Some(format!("primary: {}", cause(message))),
            PrimaryState::CoolingDown(cooldown) => {
                let window = cooldown.configured.unwrap_or(COOLDOWN_UNSAID);
                Some(match self.primary.failure_within(window, at) {
                    Some(message) => {
                        format!("primary: {}, then in LiteLLM cooldown", cause(message))
                    }
                    None => "primary in LiteLLM cooldown".to_owned(),
                })
            }
            _ => None,
        }
    }

    /// The quiet lane's probe worth sending at `now`, if any (see [`PrimaryLane::wanted`]).
    pub fn lane_wanted(&mut self, now: Duration) -> Option<Lane> {
        let away = self.last_by_primary == Some(false);
        self.primary.wanted(away, now)
    }

    /// The primary's own state, from its lane.
    pub fn primary(&self) -> &PrimaryLane {
        &self.primary
    }

    /// LiteLLM's own view of the primary group, from its metrics.
    pub fn proxy(&self) -> &ProxyView {
        &self.proxy
    }

    /// The LiteLLM release the proxy last said it runs (`x-litellm-version`).
    pub fn litellm_version(&self) -> Option<&str> {
        self.litellm_version.as_deref()
    }

    /// What was told once about the run, oldest first.
    pub fn notices(&self) -> &[Notice] {
        &self.notices
    }

    /// The primary answered nothing while the fallback answered: worth explaining, since a
    /// misconfigured primary (see the README) looks exactly like this.
    pub fn primary_never_served(&self) -> bool {
        let c = &self.run.counters;
        c.primary == 0 && c.fallback > 0
    }
}

#[cfg(test)]
mod tests;
