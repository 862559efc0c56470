//! The serialisable shapes of the JSON lines output, apart from the internal state. The
//! fields documented in the README stay; more may be added.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

use super::RunInfo;
use crate::clock::WallClock;
use crate::probe::{ErrorKind, Evidence, Lane, ProbeOutcome, Route};
use crate::state::{
    Marker, Monitor, Notice, NoticeKind, Percentiles, PrimaryChange, PrimaryKind, PrimaryLane,
    PrimaryState, ServingKind, Transition, TransitionKind, Verdict, observe,
};
use crate::text::format::{millis, seconds};

/// The version of the record's lines a replay reads; raised when a line changes so that an
/// older replay cannot read it the same way.
pub const RECORD_VERSION: u32 = 1;

#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Line<'a> {
    Run(RunLine<'a>),
    Request(RequestLine<'a>),
    Transition(TransitionLine<'a>),
    Skip(SkipLine),
    Abandoned(AbandonedLine),
    Notice(NoticeLine<'a>),
    Direct(DirectLine<'a>),
    Primary(PrimaryLine<'a>),
    Marker(MarkerLine<'a>),
    Reset(ResetLine),
    Interval(IntervalLine),
    Summary(SummaryLine),
}

/// The first line: what the run watched and how, all a replay needs to draw it again.
#[derive(Debug, Serialize)]
pub struct RunLine<'a> {
    pub record_version: u32,
    /// The failover-watch that wrote it.
    pub tool_version: &'static str,
    pub started_at: String,
    /// The local time's offset from UTC then, for the clock a replay shows.
    pub utc_offset_secs: i32,
    pub url: &'a str,
    pub primary: &'a str,
    pub fallback: Option<&'a str>,
    pub interval_ms: f64,
    pub timeout_ms: f64,
    pub down_after: u32,
    pub stream: bool,
    pub simulated: bool,
    pub direct: bool,
}

impl<'a> RunLine<'a> {
    pub fn new(info: &'a RunInfo, wall: &WallClock) -> Self {
        Self {
            record_version: RECORD_VERSION,
            tool_version: env!("CARGO_PKG_VERSION"),
            started_at: wall.rfc3339(Duration::ZERO),
            utc_offset_secs: wall.local_offset().local_minus_utc(),
            url: &info.url,
            primary: &info.primary,
            fallback: info.fallback.as_deref(),
            interval_ms: millis(info.interval),
            timeout_ms: millis(info.timeout),
            down_after: info.down_after,
            stream: info.stream,
            simulated: info.simulated,
            direct: info.direct,
        }
    }
}

/// A marker dropped: by `m`, by `failover-watch mark`, by a demo's script.
#[derive(Debug, Serialize)]
pub struct MarkerLine<'a> {
    pub id: u32,
    pub at: String,
    pub after_seq: u64,
    pub label: Option<&'a str>,
}

impl<'a> MarkerLine<'a> {
    pub fn new(marker: &'a Marker, wall: &WallClock) -> Self {
        Self {
            id: marker.id,
            at: wall.rfc3339(marker.at),
            after_seq: marker.after_seq,
            label: marker.label.as_deref(),
        }
    }
}

/// The dashboard's counters started afresh (`r`).
#[derive(Debug, Serialize)]
pub struct ResetLine {
    pub at: String,
}

/// The time between probes changed (`+`/`-`): from `at` on, one every `interval_ms`.
#[derive(Debug, Serialize)]
pub struct IntervalLine {
    pub at: String,
    pub interval_ms: f64,
}

/// What a probe's route said that only a replay needs (absent when the proxy said nothing).
#[derive(Debug, Default, Serialize)]
pub struct RouteExtras<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub litellm_version: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub router_timeout_secs: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lookup_failure: Option<&'a str>,
}

impl<'a> RouteExtras<'a> {
    fn new(route: &'a Route) -> Self {
        Self {
            litellm_version: route.version.as_deref(),
            router_timeout_secs: route.router_timeout.map(|d| d.as_secs_f64()),
            lookup_failure: route.lookup_failure.as_deref(),
        }
    }
}

/// One answered direct probe: what it says of the primary's own state.
#[derive(Debug, Serialize)]
pub struct DirectLine<'a> {
    pub seq: u64,
    pub sent_at: String,
    pub latency_ms: f64,
    pub state: PrimaryKind,
    pub status: Option<u16>,
    /// LiteLLM's message (failing, refused, cooling down).
    pub message: Option<&'a str>,
    /// The deployments LiteLLM holds in cooldown.
    pub cooldown_ids: Option<&'a [String]>,
    /// When LiteLLM will try the primary again, estimated, from this answer on.
    pub retry_in_ms: Option<f64>,
    /// Who answered (`fallback`: the proxy ignored `disable_fallbacks`), the model, the
    /// error's kind, and the cooldown as the router's answer gave it: for a replay.
    pub result: Verdict,
    pub model: Option<&'a str>,
    pub error_kind: Option<ErrorKind>,
    pub cooldown_api_bases: Option<&'a [String]>,
    pub cooldown_secs: Option<f64>,
    #[serde(flatten)]
    pub route: RouteExtras<'a>,
}

impl<'a> DirectLine<'a> {
    /// `lane` is the primary's state once the answer was applied (for the estimated retry).
    pub fn new(outcome: &'a ProbeOutcome, lane: &PrimaryLane, wall: &WallClock) -> Self {
        let report = &outcome.report;
        let state = observe(report);
        let message = match &report.result {
            Err(failure) => Some(failure.message.as_str()),
            Ok(_) => None,
        };
        let next_try = match lane.state() {
            PrimaryState::CoolingDown(cooldown) => cooldown.next_try,
            _ => None,
        };
        let cooling = report.route.cooling.as_ref();
        let (result, model, error_kind) = match &report.result {
            Ok(served) => (
                Verdict::from(served.role),
                Some(served.model.as_str()),
                None,
            ),
            Err(failure) => (Verdict::Error, None, Some(failure.kind)),
        };
        Self {
            seq: outcome.seq,
            sent_at: wall.rfc3339(outcome.sent_at),
            latency_ms: millis(outcome.latency()),
            state: state.kind().unwrap_or(PrimaryKind::Failing),
            status: report.status,
            message,
            cooldown_ids: cooling.map(|c| c.ids.as_slice()),
            retry_in_ms: cooling
                .and(next_try)
                .map(|next| millis(next.saturating_sub(outcome.answered_at()))),
            result,
            model,
            error_kind,
            cooldown_api_bases: cooling.map(|c| c.api_bases.as_slice()),
            cooldown_secs: cooling.and_then(|c| c.cooldown).map(|d| d.as_secs_f64()),
            route: RouteExtras::new(&report.route),
        }
    }
}

/// A change of the primary's own state.
#[derive(Debug, Serialize)]
pub struct PrimaryLine<'a> {
    pub at: String,
    pub seq: u64,
    pub from: Option<PrimaryKind>,
    pub to: PrimaryKind,
    pub message: Option<&'a str>,
    /// Cooling down: the deployments' api_bases, the configured cooldown, and when LiteLLM
    /// will try the primary again (estimated).
    pub api_bases: Option<&'a [String]>,
    pub cooldown_secs: Option<f64>,
    pub next_try: Option<String>,
}

impl<'a> PrimaryLine<'a> {
    pub fn new(change: &'a PrimaryChange, wall: &WallClock) -> Self {
        let cooldown = match &change.to {
            PrimaryState::CoolingDown(cooldown) => Some(cooldown),
            _ => None,
        };
        Self {
            at: wall.rfc3339(change.at),
            seq: change.seq,
            from: change.from,
            to: change.to.kind().unwrap_or(PrimaryKind::Failing),
            message: change.to.message(),
            api_bases: cooldown.map(|c| c.api_bases.as_slice()),
            cooldown_secs: cooldown.and_then(|c| c.configured).map(seconds),
            next_try: cooldown.and_then(|c| c.next_try).map(|at| wall.rfc3339(at)),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct RequestLine<'a> {
    pub seq: u64,
    pub sent_at: String,
    pub latency_ms: f64,
    pub ttft_ms: Option<f64>,
    pub result: Verdict,
    pub model: Option<&'a str>,
    pub model_group: Option<&'a str>,
    pub api_base: Option<&'a str>,
    pub attempted_fallbacks: Option<u32>,
    pub status: Option<u16>,
    pub error_kind: Option<ErrorKind>,
    pub error: Option<&'a str>,
    pub reply: Option<&'a str>,
    /// `x-litellm-model-id`, the deployment that answered.
    pub model_id: Option<&'a str>,
    /// What the attribution rests on.
    pub evidence: Option<Evidence>,
    /// Answered after a later request had already answered.
    pub late: bool,
    #[serde(flatten)]
    pub route: RouteExtras<'a>,
}

impl<'a> RequestLine<'a> {
    pub fn new(outcome: &'a ProbeOutcome, late: bool, wall: &WallClock) -> Self {
        let report = &outcome.report;
        let (result, model, evidence, reply, error_kind, error) = match &report.result {
            Ok(served) => (
                Verdict::from(served.role),
                Some(served.model.as_str()),
                Some(served.evidence),
                Some(served.reply.as_str()),
                None,
                None,
            ),
            Err(failure) => (
                Verdict::Error,
                None,
                None,
                None,
                Some(failure.kind),
                Some(failure.message.as_str()),
            ),
        };
        Self {
            seq: outcome.seq,
            sent_at: wall.rfc3339(outcome.sent_at),
            latency_ms: millis(outcome.latency()),
            ttft_ms: report.ttft.map(millis),
            result,
            model,
            model_group: report.route.model_group.as_deref(),
            api_base: report.route.api_base.as_deref(),
            attempted_fallbacks: report.route.attempted_fallbacks,
            status: report.status,
            error_kind,
            error,
            reply,
            model_id: report.route.model_id.as_deref(),
            evidence,
            late,
            route: RouteExtras::new(&report.route),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct TransitionLine<'a> {
    pub at: String,
    pub seq: u64,
    pub kind: TransitionKind,
    pub from: ServingKind,
    pub to: ServingKind,
    pub from_model: Option<&'a str>,
    pub to_model: Option<&'a str>,
    pub previous_secs: f64,
    /// Failed requests between the last success before the switch and this one.
    pub failed_during: u64,
    /// Seconds since the last marker, when one was dropped before this transition; which
    /// marker, and its label.
    pub after_marker_secs: Option<f64>,
    pub after_marker: Option<u32>,
    pub after_marker_label: Option<&'a str>,
    /// Why the primary was away, as its own state told.
    pub cause: Option<&'a str>,
    /// How long LiteLLM held the primary in cooldown before a recovery.
    pub primary_cooldown_secs: Option<f64>,
}

impl<'a> TransitionLine<'a> {
    pub fn new(t: &'a Transition, wall: &WallClock) -> Self {
        Self {
            at: wall.rfc3339(t.at),
            seq: t.seq,
            kind: t.kind,
            from: t.from,
            to: t.to,
            from_model: t.from_model.as_deref(),
            to_model: t.to_model.as_deref(),
            previous_secs: seconds(t.previous),
            failed_during: t.failed_during,
            after_marker_secs: t.after_marker.as_ref().map(|m| seconds(m.lag)),
            after_marker: t.after_marker.as_ref().map(|m| m.marker),
            after_marker_label: t.after_marker.as_ref().and_then(|m| m.label.as_deref()),
            cause: t.cause.as_deref(),
            primary_cooldown_secs: t.primary_cooldown.map(seconds),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct SkipLine {
    pub at: String,
    pub in_flight: usize,
    pub lane: Lane,
}

/// Something told once about the run.
#[derive(Debug, Serialize)]
pub struct NoticeLine<'a> {
    pub at: String,
    pub kind: NoticeKind,
    pub message: &'a str,
}

impl<'a> NoticeLine<'a> {
    pub fn new(notice: &'a Notice, wall: &WallClock) -> Self {
        Self {
            at: wall.rfc3339(notice.at),
            kind: notice.kind,
            message: &notice.message,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct AbandonedLine {
    pub seq: u64,
    pub sent_at: String,
    pub waited_ms: f64,
    pub lane: Lane,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct LatencyLine {
    pub p50: Option<f64>,
    pub p95: Option<f64>,
    pub p99: Option<f64>,
    pub max: Option<f64>,
}

impl From<Option<Percentiles>> for LatencyLine {
    fn from(p: Option<Percentiles>) -> Self {
        Self {
            p50: p.map(|p| millis(p.p50)),
            p95: p.map(|p| millis(p.p95)),
            p99: p.map(|p| millis(p.p99)),
            max: p.map(|p| millis(p.max)),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct ModelLine {
    pub requests: u64,
    pub latency_ms: LatencyLine,
}

#[derive(Debug, Serialize)]
pub struct SummaryLine {
    /// Every probe sent: `total` answered plus `abandoned`.
    pub sent: u64,
    /// Answered probes.
    pub total: u64,
    pub succeeded: u64,
    pub failed: u64,
    pub primary: u64,
    pub fallback: u64,
    pub failovers: u64,
    pub recoveries: u64,
    pub outages: u64,
    pub skipped: u64,
    pub duration_secs: f64,
    /// Successful answers only.
    pub latency_ms: LatencyLine,
    pub restorations: u64,
    pub abandoned: u64,
    pub availability_percent: Option<f64>,
    pub models: BTreeMap<String, ModelLine>,
    pub errors: BTreeMap<&'static str, u64>,
    pub primary_never_served: bool,
    /// The LiteLLM release the proxy said it runs (`x-litellm-version`), if it did.
    pub litellm_version: Option<String>,
    /// The primary's own figures, from the direct probes (absent without them).
    pub primary_lane: Option<PrimaryLaneLine>,
}

/// The primary's own state over the run.
#[derive(Debug, Serialize)]
pub struct PrimaryLaneLine {
    pub direct_probes: u64,
    pub up_secs: f64,
    pub failing_secs: f64,
    pub cooling_down_secs: f64,
    /// The proxy refused direct probes: why.
    pub refused: Option<String>,
    /// LiteLLM's words the first time the primary failed.
    pub first_failure: Option<String>,
    pub abandoned: u64,
}

impl PrimaryLaneLine {
    fn new(monitor: &Monitor, now: Duration) -> Option<Self> {
        let lane = monitor.primary();
        let c = monitor.counters();
        (lane.answered() + c.direct_abandoned > 0).then(|| Self {
            direct_probes: lane.answered(),
            up_secs: seconds(lane.time_in(PrimaryKind::Up, now)),
            failing_secs: seconds(lane.time_in(PrimaryKind::Failing, now)),
            cooling_down_secs: seconds(lane.time_in(PrimaryKind::CoolingDown, now)),
            refused: match lane.state() {
                PrimaryState::Refused { message } => Some(message.clone()),
                _ => None,
            },
            first_failure: lane.first_failure().map(str::to_owned),
            abandoned: c.direct_abandoned,
        })
    }
}

impl SummaryLine {
    /// `now` is the end of the run, counted from its start: a summary covers the whole run,
    /// whatever the dashboard's `r` reset.
    pub fn new(monitor: &Monitor, now: Duration) -> Self {
        let c = monitor.counters();
        Self {
            sent: c.sent(),
            total: c.total,
            succeeded: c.succeeded,
            failed: c.failed,
            primary: c.primary,
            fallback: c.fallback,
            failovers: c.failovers,
            recoveries: c.recoveries,
            outages: c.outages,
            skipped: c.skipped,
            duration_secs: seconds(now),
            latency_ms: monitor.latency().all.percentiles().into(),
            restorations: c.restorations,
            abandoned: c.abandoned,
            availability_percent: c
                .availability_percent()
                .map(|p| (p * 1000.0).round() / 1000.0),
            models: monitor
                .latency()
                .by_model()
                .map(|(model, p)| {
                    let line = ModelLine {
                        requests: c.by_model.get(model).copied().unwrap_or(p.count),
                        latency_ms: Some(p).into(),
                    };
                    (model.to_owned(), line)
                })
                .collect(),
            errors: c.by_error.iter().map(|(k, n)| (k.as_str(), *n)).collect(),
            primary_never_served: monitor.primary_never_served(),
            litellm_version: monitor.litellm_version().map(str::to_owned),
            primary_lane: PrimaryLaneLine::new(monitor, now),
        }
    }
}
