//! The lines of the JSON lines output and of the record (`--record`), one schema read and
//! written by the same types: the outputs build them from what they are told, a replay reads
//! them back (`modes::replay::record`). The fields documented in docs/outputs.md stay; more
//! may be added.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{RunInfo, TargetInfo};
use crate::clock::WallClock;
use crate::litellm::prometheus::{DeploymentReading, DeploymentState, ProxyReading};
use crate::probe::{
    DirectMode, ErrorKind, Evidence, Lane, ProbeEvent, ProbeOutcome, Route, Verdict,
};
use crate::state::{
    DirectTold, Marker, Monitor, Notice, NoticeKind, Percentiles, PrimaryChange, PrimaryKind,
    PrimaryState, ProxyTold, RequestTold, ServingKind, Told, Transition, TransitionKind, Watch,
};
use crate::text::format::{millis, seconds};

/// The version of the record's lines a replay reads; raised when a line changes so that an
/// older replay cannot read it the same way. 2: the run line's `direct` names the lane's mode
/// (`quiet`, `probe`, `off`; version 1 said `true` for probe), `health` and `proxy_view` lines.
pub const RECORD_VERSION: u32 = 2;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Line {
    Run(RunLine),
    Request(RequestLine),
    Transition(TransitionLine),
    Skip(SkipLine),
    Abandoned(AbandonedLine),
    Notice(NoticeLine),
    Direct(DirectLine),
    /// LiteLLM's health check of the primary (the quiet lane): the same fields as a direct
    /// probe's.
    Health(DirectLine),
    Primary(PrimaryLine),
    /// LiteLLM's own metrics, when what they say changed.
    #[serde(rename = "proxy_view")]
    ProxyView(ProxyViewLine),
    Marker(MarkerLine),
    Reset(ResetLine),
    Interval(IntervalLine),
    Summary(Box<SummaryLine>),
    /// After the summaries of a run of several targets: their sums.
    Totals(TotalsLine),
    /// A line a later failover-watch added: read past.
    #[serde(other)]
    Unknown,
}

/// The lines that tell `told`, in order (none for a probe that left), each naming its target
/// as `names` (the run's targets, in order) call it.
pub fn lines(told: &Told, wall: &WallClock, names: &[String]) -> Vec<Line> {
    let name = told
        .target()
        .map(|target| names.get(target.index()).cloned().unwrap_or_default());
    let mut lines = untargeted_lines(told, wall);
    if let Some(name) = name {
        for line in &mut lines {
            line.set_target(&name);
        }
    }
    lines
}

impl Line {
    /// Names the target the line belongs to, if it is a line that belongs to one.
    fn set_target(&mut self, name: &str) {
        let target = match self {
            Line::Request(l) => &mut l.target,
            Line::Transition(l) => &mut l.target,
            Line::Skip(l) => &mut l.target,
            Line::Abandoned(l) => &mut l.target,
            Line::Direct(l) | Line::Health(l) => &mut l.target,
            Line::Primary(l) => &mut l.target,
            Line::ProxyView(l) => &mut l.target,
            Line::Summary(l) => &mut l.target,
            Line::Notice(l) => {
                l.target = Some(name.to_owned());
                return;
            }
            Line::Run(_)
            | Line::Marker(_)
            | Line::Reset(_)
            | Line::Interval(_)
            | Line::Totals(_)
            | Line::Unknown => return,
        };
        name.clone_into(target);
    }

    /// The target a line names, if any (empty in a version-1 record: the first).
    pub fn target(&self) -> Option<&str> {
        match self {
            Line::Request(l) => Some(&l.target),
            Line::Transition(l) => Some(&l.target),
            Line::Skip(l) => Some(&l.target),
            Line::Abandoned(l) => Some(&l.target),
            Line::Direct(l) | Line::Health(l) => Some(&l.target),
            Line::Primary(l) => Some(&l.target),
            Line::ProxyView(l) => Some(&l.target),
            Line::Summary(l) => Some(&l.target),
            Line::Notice(l) => l.target.as_deref(),
            Line::Run(_)
            | Line::Marker(_)
            | Line::Reset(_)
            | Line::Interval(_)
            | Line::Totals(_)
            | Line::Unknown => None,
        }
    }
}

fn untargeted_lines(told: &Told, wall: &WallClock) -> Vec<Line> {
    let change = told
        .primary_change()
        .map(|change| Line::Primary(PrimaryLine::new(change, wall)));
    match told {
        Told::Probe(
            ProbeEvent::Sent { .. } | ProbeEvent::Answered(_) | ProbeEvent::ProxyView { .. },
        ) => Vec::new(),
        Told::Request(told) => {
            let request = Line::Request(RequestLine::new(told, wall));
            let transition = told
                .transition
                .as_ref()
                .map(|t| Line::Transition(TransitionLine::new(t, wall)));
            std::iter::once(request)
                .chain(change)
                .chain(transition)
                .collect()
        }
        Told::Direct(told) => {
            let line = DirectLine::new(told, wall);
            let direct = match told.outcome.lane {
                Lane::Health => Line::Health(line),
                _ => Line::Direct(line),
            };
            std::iter::once(direct).chain(change).collect()
        }
        Told::Probe(ProbeEvent::Skipped {
            lane,
            at,
            in_flight,
            ..
        }) => vec![Line::Skip(SkipLine {
            target: String::new(),
            at: wall.rfc3339(*at),
            in_flight: *in_flight,
            lane: *lane,
        })],
        Told::Probe(ProbeEvent::Abandoned {
            lane,
            seq,
            sent_at,
            at,
            ..
        }) => vec![Line::Abandoned(AbandonedLine {
            target: String::new(),
            seq: *seq,
            sent_at: wall.rfc3339(*sent_at),
            waited_ms: millis(at.saturating_sub(*sent_at)),
            lane: *lane,
        })],
        Told::Proxy(told) => vec![Line::ProxyView(ProxyViewLine::new(told, wall))],
        Told::Notice { notice, .. } => vec![Line::Notice(NoticeLine::new(notice, wall))],
        Told::Marker(marker) => vec![Line::Marker(MarkerLine::new(marker, wall))],
        Told::Reset { at } => vec![Line::Reset(ResetLine {
            at: wall.rfc3339(*at),
        })],
        Told::Interval { at, every } => vec![Line::Interval(IntervalLine {
            at: wall.rfc3339(*at),
            interval_ms: millis(*every),
        })],
    }
}

/// The first line: what the run watched and how, all a replay needs to draw it again.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunLine {
    pub record_version: u32,
    /// The failover-watch that wrote it.
    #[serde(default)]
    pub tool_version: String,
    pub started_at: String,
    /// The local time's offset from UTC then, for the clock a replay shows.
    pub utc_offset_secs: i32,
    pub url: String,
    pub primary: String,
    pub fallback: Option<String>,
    pub interval_ms: f64,
    pub timeout_ms: f64,
    pub down_after: u32,
    pub stream: bool,
    pub simulated: bool,
    /// How the primary's lane was watched: `quiet`, `probe`, `off` (a version-1 record's
    /// `true` reads as `probe`, `false` as `off`).
    #[serde(deserialize_with = "direct_mode")]
    pub direct: DirectMode,
    /// The router's `allowed_fails` + 1 and `cooldown_time`, where the proxy told them: how
    /// the quiet lane read the run.
    #[serde(default)]
    pub failures_to_cool: Option<u32>,
    #[serde(default)]
    pub cooldown_secs: Option<f64>,
    /// Every target of the run, in order; the line's own fields above are the first's. A
    /// record from before several targets has none: its one target is the line's.
    #[serde(default)]
    pub targets: Vec<TargetLine>,
}

/// One target of a run, as the run line names it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TargetLine {
    pub name: String,
    pub url: String,
    pub primary: String,
    pub fallback: Option<String>,
    pub interval_ms: f64,
    pub timeout_ms: f64,
    pub stream: bool,
    #[serde(deserialize_with = "direct_mode")]
    pub direct: DirectMode,
    #[serde(default)]
    pub failures_to_cool: Option<u32>,
    #[serde(default)]
    pub cooldown_secs: Option<f64>,
}

impl TargetLine {
    fn new(target: &TargetInfo) -> Self {
        Self {
            name: target.name.clone(),
            url: target.url.clone(),
            primary: target.primary.clone(),
            fallback: target.fallback.clone(),
            interval_ms: millis(target.interval),
            timeout_ms: millis(target.timeout),
            stream: target.stream,
            direct: target.lane.mode,
            failures_to_cool: target.lane.failures_to_cool,
            cooldown_secs: target.lane.cooldown.map(seconds),
        }
    }
}

impl RunLine {
    /// The run's targets, in order: those the line lists, else the line's own one.
    pub fn target_lines(&self) -> Vec<TargetLine> {
        if !self.targets.is_empty() {
            return self.targets.clone();
        }
        vec![TargetLine {
            name: self.primary.clone(),
            url: self.url.clone(),
            primary: self.primary.clone(),
            fallback: self.fallback.clone(),
            interval_ms: self.interval_ms,
            timeout_ms: self.timeout_ms,
            stream: self.stream,
            direct: self.direct,
            failures_to_cool: self.failures_to_cool,
            cooldown_secs: self.cooldown_secs,
        }]
    }
}

fn direct_lane() -> Lane {
    Lane::Direct
}

/// `--direct` as a run line says it: its mode, or a version-1 record's switch.
fn direct_mode<'de, D: serde::Deserializer<'de>>(from: D) -> Result<DirectMode, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Said {
        Switch(bool),
        Mode(DirectMode),
    }
    Ok(match Said::deserialize(from)? {
        Said::Switch(true) => DirectMode::Probe,
        Said::Switch(false) => DirectMode::Off,
        Said::Mode(mode) => mode,
    })
}

impl RunLine {
    pub fn new(info: &RunInfo, wall: &WallClock) -> Self {
        Self {
            record_version: RECORD_VERSION,
            tool_version: env!("CARGO_PKG_VERSION").to_owned(),
            started_at: wall.rfc3339(Duration::ZERO),
            utc_offset_secs: wall.local_offset().local_minus_utc(),
            url: info.first().url.clone(),
            primary: info.first().primary.clone(),
            fallback: info.first().fallback.clone(),
            interval_ms: millis(info.first().interval),
            timeout_ms: millis(info.first().timeout),
            down_after: info.down_after,
            stream: info.first().stream,
            simulated: info.simulated,
            direct: info.first().lane.mode,
            failures_to_cool: info.first().lane.failures_to_cool,
            cooldown_secs: info.first().lane.cooldown.map(seconds),
            targets: info.targets.iter().map(TargetLine::new).collect(),
        }
    }
}

/// A marker dropped: by `m`, by `failover-watch mark`, by a demo's script.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MarkerLine {
    pub id: u32,
    pub at: String,
    pub after_seq: u64,
    pub label: Option<String>,
}

impl MarkerLine {
    pub fn new(marker: &Marker, wall: &WallClock) -> Self {
        Self {
            id: marker.id,
            at: wall.rfc3339(marker.at),
            after_seq: marker.after_seq,
            label: marker.label.clone(),
        }
    }
}

/// The dashboard's counters started afresh (`r`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResetLine {
    pub at: String,
}

/// The time between probes changed (`+`/`-`): from `at` on, one every `interval_ms`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IntervalLine {
    pub at: String,
    pub interval_ms: f64,
}

/// What a probe's route said that only a replay needs (absent when the proxy said nothing).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RouteExtras {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub litellm_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub router_timeout_secs: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lookup_failure: Option<String>,
}

impl RouteExtras {
    fn new(route: &Route) -> Self {
        Self {
            litellm_version: route.version.clone(),
            router_timeout_secs: route.router_timeout.map(|d| d.as_secs_f64()),
            lookup_failure: route.lookup_failure.clone(),
        }
    }
}

/// One answered direct probe: what it says of the primary's own state.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DirectLine {
    /// The target it belongs to (a version-1 record's lines name none: the first).
    #[serde(default)]
    pub target: String,
    pub seq: u64,
    pub sent_at: String,
    pub latency_ms: f64,
    pub state: PrimaryKind,
    pub status: Option<u16>,
    /// LiteLLM's message (failing, refused, cooling down).
    pub message: Option<String>,
    /// The deployments LiteLLM holds in cooldown.
    pub cooldown_ids: Option<Vec<String>>,
    /// When LiteLLM will try the primary again, estimated, from this answer on.
    pub retry_in_ms: Option<f64>,
    /// Who answered (`fallback`: the proxy ignored `disable_fallbacks`), the model, the
    /// error's kind, and the cooldown as the router's answer gave it: for a replay.
    pub result: Verdict,
    pub model: Option<String>,
    pub error_kind: Option<ErrorKind>,
    pub cooldown_api_bases: Option<Vec<String>>,
    pub cooldown_secs: Option<f64>,
    #[serde(flatten)]
    pub route: RouteExtras,
}

impl DirectLine {
    pub fn new(told: &DirectTold, wall: &WallClock) -> Self {
        let outcome = &told.outcome;
        let report = &outcome.report;
        let cooling = report.route.cooling.as_ref();
        Self {
            target: String::new(),
            seq: outcome.seq,
            sent_at: wall.rfc3339(outcome.sent_at),
            latency_ms: millis(outcome.latency()),
            state: told.observed,
            status: report.status,
            message: report.failure().map(|f| f.message.clone()),
            cooldown_ids: cooling.map(|c| c.ids.clone()),
            retry_in_ms: told.retry_in.map(millis),
            result: report.verdict(),
            model: report.model().map(str::to_owned),
            error_kind: report.failure().map(|f| f.kind),
            cooldown_api_bases: cooling.map(|c| c.api_bases.clone()),
            cooldown_secs: cooling.and_then(|c| c.cooldown).map(|d| d.as_secs_f64()),
            route: RouteExtras::new(&report.route),
        }
    }
}

/// LiteLLM's own metrics of the primary group: what they say now, what its counters added
/// since the watcher's first reading, and the totals as read (a replay reads them again).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProxyViewLine {
    /// The target it belongs to (a version-1 record's lines name none: the first).
    #[serde(default)]
    pub target: String,
    pub at: String,
    /// Why the metrics could not be read (then nothing else is said).
    pub error: Option<String>,
    /// The group's worst deployment's state; `null` where LiteLLM exports none.
    pub state: Option<DeploymentState>,
    pub deployments: Vec<ProxyDeploymentLine>,
    pub cooldowns: Option<u64>,
    pub fallbacks: Option<u64>,
    pub fallbacks_in_cooldown: Option<u64>,
    pub failed_fallbacks: Option<u64>,
    pub totals: ProxyTotals,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProxyDeploymentLine {
    pub model_id: String,
    pub api_base: Option<String>,
    pub state: DeploymentState,
}

/// LiteLLM's counters as read, since the proxy started; `null` where not exported.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ProxyTotals {
    pub cooldowns: Option<f64>,
    pub fallbacks: Option<f64>,
    pub fallbacks_in_cooldown: Option<f64>,
    pub failed_fallbacks: Option<f64>,
}

impl ProxyViewLine {
    pub fn new(told: &ProxyTold, wall: &WallClock) -> Self {
        let counts = told
            .now
            .as_ref()
            .map(|now| now.since_start)
            .unwrap_or_default();
        let (error, reading) = match &told.reading {
            Ok(reading) => (None, Some(reading)),
            Err(why) => (Some(why.clone()), None),
        };
        Self {
            target: String::new(),
            at: wall.rfc3339(told.at),
            error,
            state: reading.and_then(ProxyReading::state),
            deployments: reading
                .map(|r| {
                    r.deployments
                        .iter()
                        .map(|d| ProxyDeploymentLine {
                            model_id: d.model_id.clone(),
                            api_base: d.api_base.clone(),
                            state: d.state,
                        })
                        .collect()
                })
                .unwrap_or_default(),
            cooldowns: counts.cooldowns,
            fallbacks: counts.fallbacks,
            fallbacks_in_cooldown: counts.fallbacks_in_cooldown,
            failed_fallbacks: counts.failed_fallbacks,
            totals: reading.map_or_else(ProxyTotals::default, |r| ProxyTotals {
                cooldowns: r.cooldowns,
                fallbacks: r.fallbacks,
                fallbacks_in_cooldown: r.fallbacks_in_cooldown,
                failed_fallbacks: r.failed_fallbacks,
            }),
        }
    }

    /// The reading this line was made of, as a replay takes it again.
    pub fn reading(&self) -> Result<ProxyReading, String> {
        if let Some(why) = &self.error {
            return Err(why.clone());
        }
        Ok(ProxyReading {
            deployments: self
                .deployments
                .iter()
                .map(|d| DeploymentReading {
                    model_id: d.model_id.clone(),
                    api_base: d.api_base.clone(),
                    state: d.state,
                })
                .collect(),
            cooldowns: self.totals.cooldowns,
            fallbacks: self.totals.fallbacks,
            fallbacks_in_cooldown: self.totals.fallbacks_in_cooldown,
            failed_fallbacks: self.totals.failed_fallbacks,
        })
    }
}

/// A change of the primary's own state.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PrimaryLine {
    /// The target it belongs to (a version-1 record's lines name none: the first).
    #[serde(default)]
    pub target: String,
    pub at: String,
    /// What showed it: `direct`, `health`, or `normal` (a request the primary served again,
    /// in the quiet lane); `seq` is that probe's number. Version 1 had direct probes only.
    #[serde(default = "direct_lane")]
    pub lane: Lane,
    pub seq: u64,
    pub from: Option<PrimaryKind>,
    pub to: PrimaryKind,
    pub message: Option<String>,
    /// Cooling down: the deployments' api_bases, the configured cooldown, and when LiteLLM
    /// will try the primary again (estimated).
    pub api_bases: Option<Vec<String>>,
    pub cooldown_secs: Option<f64>,
    pub next_try: Option<String>,
    /// The cooldown's start was not seen (it began before the run, or before the failures
    /// the watcher saw): `next_try` is the latest it can be.
    #[serde(default)]
    pub next_try_at_latest: bool,
}

impl PrimaryLine {
    pub fn new(change: &PrimaryChange, wall: &WallClock) -> Self {
        let cooldown = match &change.to {
            PrimaryState::CoolingDown(cooldown) => Some(cooldown),
            _ => None,
        };
        Self {
            target: String::new(),
            at: wall.rfc3339(change.at),
            lane: change.lane,
            seq: change.seq,
            from: change.from,
            to: change.to.kind().unwrap_or(PrimaryKind::Failing),
            message: change.to.message().map(str::to_owned),
            api_bases: cooldown.map(|c| c.api_bases.clone()),
            cooldown_secs: cooldown.and_then(|c| c.configured).map(seconds),
            next_try: cooldown.and_then(|c| c.next_try).map(|at| wall.rfc3339(at)),
            next_try_at_latest: cooldown.is_some_and(|c| c.next_try_at_latest),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RequestLine {
    /// The target it belongs to (a version-1 record's lines name none: the first).
    #[serde(default)]
    pub target: String,
    pub seq: u64,
    pub sent_at: String,
    pub latency_ms: f64,
    pub ttft_ms: Option<f64>,
    pub result: Verdict,
    pub model: Option<String>,
    pub model_group: Option<String>,
    pub api_base: Option<String>,
    pub attempted_fallbacks: Option<u32>,
    pub status: Option<u16>,
    pub error_kind: Option<ErrorKind>,
    pub error: Option<String>,
    pub reply: Option<String>,
    /// `x-litellm-model-id`, the deployment that answered.
    pub model_id: Option<String>,
    /// What the attribution rests on.
    pub evidence: Option<Evidence>,
    /// Answered after a later request had already answered.
    #[serde(default)]
    pub late: bool,
    #[serde(flatten)]
    pub route: RouteExtras,
}

impl RequestLine {
    pub fn new(told: &RequestTold, wall: &WallClock) -> Self {
        let outcome: &ProbeOutcome = &told.outcome;
        let report = &outcome.report;
        let served = report.result.as_ref().ok();
        Self {
            target: String::new(),
            seq: outcome.seq,
            sent_at: wall.rfc3339(outcome.sent_at),
            latency_ms: millis(outcome.latency()),
            ttft_ms: report.ttft.map(millis),
            result: report.verdict(),
            model: report.model().map(str::to_owned),
            model_group: report.route.model_group.clone(),
            api_base: report.route.api_base.clone(),
            attempted_fallbacks: report.route.attempted_fallbacks,
            status: report.status,
            error_kind: report.failure().map(|f| f.kind),
            error: report.failure().map(|f| f.message.clone()),
            reply: served.map(|s| s.reply.clone()),
            model_id: report.route.model_id.clone(),
            evidence: served.map(|s| s.evidence),
            late: told.late,
            route: RouteExtras::new(&report.route),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TransitionLine {
    /// The target it belongs to (a version-1 record's lines name none: the first).
    #[serde(default)]
    pub target: String,
    pub at: String,
    pub seq: u64,
    pub kind: TransitionKind,
    pub from: ServingKind,
    pub to: ServingKind,
    pub from_model: Option<String>,
    pub to_model: Option<String>,
    pub previous_secs: f64,
    /// Failed requests between the last success before the switch and this one.
    pub failed_during: u64,
    /// Seconds since the last marker, when one was dropped before this transition; which
    /// marker, and its label.
    pub after_marker_secs: Option<f64>,
    pub after_marker: Option<u32>,
    pub after_marker_label: Option<String>,
    /// Why the primary was away, as its own state told.
    pub cause: Option<String>,
    /// How long LiteLLM held the primary in cooldown before a recovery.
    pub primary_cooldown_secs: Option<f64>,
}

impl TransitionLine {
    pub fn new(t: &Transition, wall: &WallClock) -> Self {
        Self {
            target: String::new(),
            at: wall.rfc3339(t.at),
            seq: t.seq,
            kind: t.kind,
            from: t.from,
            to: t.to,
            from_model: t.from_model.clone(),
            to_model: t.to_model.clone(),
            previous_secs: seconds(t.previous),
            failed_during: t.failed_during,
            after_marker_secs: t.after_marker.as_ref().map(|m| seconds(m.lag)),
            after_marker: t.after_marker.as_ref().map(|m| m.marker),
            after_marker_label: t.after_marker.as_ref().and_then(|m| m.label.clone()),
            cause: t.cause.clone(),
            primary_cooldown_secs: t.primary_cooldown.map(seconds),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SkipLine {
    /// The target it belongs to (a version-1 record's lines name none: the first).
    #[serde(default)]
    pub target: String,
    pub at: String,
    pub in_flight: usize,
    pub lane: Lane,
}

/// Something told once about the run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NoticeLine {
    /// The target it is about; `null` for what holds for the whole run.
    #[serde(default)]
    pub target: Option<String>,
    pub at: String,
    pub kind: NoticeKind,
    pub message: String,
}

impl NoticeLine {
    pub fn new(notice: &Notice, wall: &WallClock) -> Self {
        Self {
            target: None,
            at: wall.rfc3339(notice.at),
            kind: notice.kind,
            message: notice.message.clone(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AbandonedLine {
    /// The target it belongs to (a version-1 record's lines name none: the first).
    #[serde(default)]
    pub target: String,
    pub seq: u64,
    pub sent_at: String,
    pub waited_ms: f64,
    pub lane: Lane,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
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

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ModelLine {
    pub requests: u64,
    pub latency_ms: LatencyLine,
}

/// The last line: the whole run's figures. A replay reads only its duration (every field has a
/// default when read).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SummaryLine {
    /// The target it sums up.
    pub target: String,
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
    pub errors: BTreeMap<String, u64>,
    pub primary_never_served: bool,
    /// The LiteLLM release the proxy said it runs (`x-litellm-version`), if it did.
    pub litellm_version: Option<String>,
    /// The primary's own figures, from its lane (absent when it sent nothing).
    pub primary_lane: Option<PrimaryLaneLine>,
    /// LiteLLM's own metrics over the run (absent when none was read).
    #[serde(default)]
    pub proxy_view: Option<ProxyViewSummary>,
}

/// The primary's own state over the run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PrimaryLaneLine {
    pub direct_probes: u64,
    /// LiteLLM's health checks of the primary (the quiet lane); none in a version-1 record.
    #[serde(default)]
    pub health_checks: u64,
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
        let answered = lane.answered();
        (answered.total() + c.direct_abandoned > 0).then(|| Self {
            direct_probes: answered.direct,
            health_checks: answered.health,
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
            target: String::new(),
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
            errors: c
                .by_error
                .iter()
                .map(|(k, n)| (k.as_str().to_owned(), *n))
                .collect(),
            primary_never_served: monitor.primary_never_served(),
            litellm_version: monitor.litellm_version().map(str::to_owned),
            primary_lane: PrimaryLaneLine::new(monitor, now),
            proxy_view: ProxyViewSummary::new(monitor),
        }
    }
}

/// The sums of a run of several targets, and where each target ended.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TotalsLine {
    pub targets: usize,
    /// Targets served by their primary, by a fallback, down (or not answered yet) at the end.
    pub on_primary: usize,
    pub on_fallback: usize,
    pub down: usize,
    pub sent: u64,
    pub total: u64,
    pub succeeded: u64,
    pub failed: u64,
    pub failovers: u64,
    pub recoveries: u64,
    pub outages: u64,
    pub duration_secs: f64,
}

impl TotalsLine {
    pub fn new(watch: &Watch, now: Duration) -> Self {
        let t = watch.totals();
        Self {
            targets: t.targets,
            on_primary: t.on_primary,
            on_fallback: t.on_fallback,
            down: t.down + t.waiting,
            sent: t.sent,
            total: t.total,
            succeeded: t.succeeded,
            failed: t.failed,
            failovers: t.failovers,
            recoveries: t.recoveries,
            outages: t.outages,
            duration_secs: seconds(now),
        }
    }
}

/// What LiteLLM's metrics counted over the run, beside what the watcher saw.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProxyViewSummary {
    /// The group's state at the last reading.
    pub state: Option<DeploymentState>,
    /// Added since the first reading; `null` where the proxy does not export it.
    pub cooldowns: Option<u64>,
    pub fallbacks: Option<u64>,
    pub fallbacks_in_cooldown: Option<u64>,
    pub failed_fallbacks: Option<u64>,
    /// What the proxy does not export.
    pub missing: Vec<String>,
    /// The watcher's own fallback answers from the first reading to the last.
    pub client_fallbacks: u64,
    /// Where LiteLLM's count and the watcher's do not agree, in words.
    pub disagreement: Option<String>,
}

impl ProxyViewSummary {
    fn new(monitor: &Monitor) -> Option<Self> {
        let view = monitor.proxy();
        let now = view.now()?;
        let c = now.since_start;
        Some(Self {
            state: now.state,
            cooldowns: c.cooldowns,
            fallbacks: c.fallbacks,
            fallbacks_in_cooldown: c.fallbacks_in_cooldown,
            failed_fallbacks: c.failed_fallbacks,
            missing: now.missing().into_iter().map(str::to_owned).collect(),
            client_fallbacks: view.client_fallbacks_since(),
            disagreement: view.disagreement(),
        })
    }
}
