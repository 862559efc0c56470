//! What the probes found out, as the schedule tells it: who served each, how fast, or why it
//! failed; every event keyed by the target it belongs to.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::litellm::prometheus::ProxyReading;
pub use crate::litellm::{Cooling, Route};

/// Which of the run's targets (a proxy and its primary group) a thing belongs to: its place in
/// the run's list of targets, from 0.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TargetId(pub u16);

impl TargetId {
    pub fn index(self) -> usize {
        usize::from(self.0)
    }
}

/// Which stream of probes: the requests to the primary group, which LiteLLM may serve from a
/// fallback; the direct probes of the primary (`disable_fallbacks`), which tell its own state
/// and count in LiteLLM's failure tally; LiteLLM's health check of the primary
/// (`GET /health?model=`), which calls it without counting.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Lane {
    #[default]
    Normal,
    Direct,
    Health,
}

impl Lane {
    pub const ALL: [Lane; 3] = [Lane::Normal, Lane::Direct, Lane::Health];

    /// Whether it asks the primary on its own (the primary's lane), not through the proxy's
    /// routing.
    pub fn is_primary_lane(self) -> bool {
        self != Lane::Normal
    }
}

/// How the primary's own state is watched (`--direct`).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum DirectMode {
    /// LiteLLM's health check for the cause, direct probes only where they meet LiteLLM's
    /// cooldown (free): nothing counts in LiteLLM's failure tally but the requests themselves.
    #[default]
    #[value(alias = "on", alias = "true", alias = "yes", alias = "1")]
    Quiet,
    /// A direct probe beside every request: the primary's state every tick, each failure
    /// counted by LiteLLM (its cooldown starts a tick earlier and is re-armed at its end).
    Probe,
    /// No lane: only the requests.
    #[value(alias = "false", alias = "no", alias = "0")]
    Off,
}

impl DirectMode {
    pub fn as_str(self) -> &'static str {
        match self {
            DirectMode::Quiet => "quiet",
            DirectMode::Probe => "probe",
            DirectMode::Off => "off",
        }
    }

    pub fn is_on(self) -> bool {
        self != DirectMode::Off
    }
}

/// Which side of the failover pair answered a probe.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Primary,
    Fallback,
}

/// A probe's result as every output names it: who served, or that it failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Primary,
    Fallback,
    Error,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Primary => "primary",
            Verdict::Fallback => "fallback",
            Verdict::Error => "error",
        }
    }
}

/// The evidence an attribution rests on, strongest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Evidence {
    /// `x-litellm-model-group` / `x-litellm-attempted-fallbacks` (normal answers).
    ModelGroupHeader,
    /// `x-litellm-model-id` / `x-litellm-model-api-base` looked up in `GET /model/info`
    /// (streams, whose chunks always name the requested model).
    Deployment,
    /// Only the body's `model`, for gateways that send no LiteLLM headers.
    BodyModel,
    /// LiteLLM's health check of the group (`GET /health?model=`).
    HealthCheck,
}

/// A successful answer and who served it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Served {
    pub role: Role,
    /// The served model as the proxy names it (`llama-fp8`, `ollama/llama3`).
    pub model: String,
    pub evidence: Evidence,
    /// The reply, already made safe to print.
    pub reply: String,
}

/// How a probe failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum ErrorKind {
    /// No complete answer within `--timeout`.
    Timeout,
    /// The proxy could not be reached (refused, unreachable, DNS).
    Connect,
    /// The connection broke before a complete answer.
    Reset,
    /// The server answered with something that is not HTTP (a bad status line or header, a
    /// head too large).
    Protocol,
    /// The proxy answered with a non-2xx status.
    Http,
    /// A 2xx answer that is not a chat completion.
    Decode,
    /// A streamed answer that broke or carried an error event.
    Stream,
    /// The proxy's own rate limit for the key (or its user, team, …) refused the request
    /// before any model was asked: says nothing of the primary or the fallback, never a
    /// failover or an outage.
    #[serde(rename = "rate_limited")]
    RateLimited,
}

impl ErrorKind {
    pub const ALL: [ErrorKind; 8] = [
        ErrorKind::Timeout,
        ErrorKind::Connect,
        ErrorKind::Reset,
        ErrorKind::Protocol,
        ErrorKind::Http,
        ErrorKind::Decode,
        ErrorKind::Stream,
        ErrorKind::RateLimited,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Timeout => "timeout",
            ErrorKind::Connect => "connect",
            ErrorKind::Reset => "reset",
            ErrorKind::Protocol => "protocol",
            ErrorKind::Http => "http",
            ErrorKind::Decode => "decode",
            ErrorKind::Stream => "stream",
            ErrorKind::RateLimited => "rate_limited",
        }
    }
}

/// A failed probe: its kind and a message already made safe to print.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    pub kind: ErrorKind,
    pub message: String,
}

impl Failure {
    /// What failed, in a word or two: `HTTP 500` for an answer with a status, else the kind.
    pub fn label(&self, status: Option<u16>) -> String {
        match (self.kind, status) {
            (ErrorKind::Http, Some(status)) => format!("HTTP {status}"),
            (kind, _) => kind.as_str().to_owned(),
        }
    }
}

/// What a prober reports for one request; the schedule adds the number and the times.
#[derive(Clone, Debug, PartialEq)]
pub struct ProbeReport {
    /// Client-side time from sending to the complete answer (or the failure), measured by
    /// the prober so that bookkeeping after the answer does not count.
    pub latency: Duration,
    pub status: Option<u16>,
    pub route: Route,
    /// Time to the first token of a streamed answer.
    pub ttft: Option<Duration>,
    pub result: Result<Served, Failure>,
}

impl ProbeReport {
    /// Who served, or that it failed: decided here, read by every output.
    pub fn verdict(&self) -> Verdict {
        match &self.result {
            Ok(served) => match served.role {
                Role::Primary => Verdict::Primary,
                Role::Fallback => Verdict::Fallback,
            },
            Err(_) => Verdict::Error,
        }
    }

    /// The model that served, if one did.
    pub fn model(&self) -> Option<&str> {
        self.result
            .as_ref()
            .ok()
            .map(|served| served.model.as_str())
    }

    /// The failure, if it failed.
    pub fn failure(&self) -> Option<&Failure> {
        self.result.as_ref().err()
    }

    /// The proxy's rate limit for the key refused it: no model was asked, so it tells nothing
    /// of who serves (the prober decided it: [`ErrorKind::RateLimited`]).
    pub fn rate_limited(&self) -> bool {
        self.failure()
            .is_some_and(|f| f.kind == ErrorKind::RateLimited)
    }

    pub fn failed(latency: Duration, failure: Failure) -> Self {
        Self {
            latency,
            status: None,
            route: Route::default(),
            ttft: None,
            result: Err(failure),
        }
    }
}

/// One answered probe.
#[derive(Clone, Debug, PartialEq)]
pub struct ProbeOutcome {
    pub target: TargetId,
    pub lane: Lane,
    /// Probes are numbered from 1 in the order they were sent, in each lane.
    pub seq: u64,
    /// When it was sent, as an offset from the start of the run.
    pub sent_at: Duration,
    pub report: ProbeReport,
}

impl ProbeOutcome {
    pub fn latency(&self) -> Duration {
        self.report.latency
    }

    pub fn answered_at(&self) -> Duration {
        self.sent_at + self.report.latency
    }
}

/// Everything the schedule tells the owner of the state, in the order it happened.
#[derive(Clone, Debug, PartialEq)]
pub enum ProbeEvent {
    /// A probe left.
    Sent {
        target: TargetId,
        lane: Lane,
        seq: u64,
        at: Duration,
    },
    /// A probe came back, in whatever order answers arrive.
    Answered(Box<ProbeOutcome>),
    /// A tick passed without a probe because `--max-in-flight` probes were unanswered.
    Skipped {
        target: TargetId,
        lane: Lane,
        at: Duration,
        in_flight: usize,
    },
    /// A probe still unanswered when the run ended.
    Abandoned {
        target: TargetId,
        lane: Lane,
        seq: u64,
        sent_at: Duration,
        at: Duration,
    },
    /// LiteLLM's own metrics, read at `at` (`--proxy-metrics`): what they say of the primary
    /// group, or why they could not be read.
    ProxyView {
        target: TargetId,
        at: Duration,
        reading: Result<ProxyReading, String>,
    },
}

impl ProbeEvent {
    /// The target the probe belongs to.
    pub fn target(&self) -> TargetId {
        match self {
            ProbeEvent::Sent { target, .. }
            | ProbeEvent::Skipped { target, .. }
            | ProbeEvent::Abandoned { target, .. }
            | ProbeEvent::ProxyView { target, .. } => *target,
            ProbeEvent::Answered(outcome) => outcome.target,
        }
    }

    /// The same event, of target `to` (a report of one target of many renumbers it first).
    pub fn retargeted(mut self, to: TargetId) -> Self {
        match &mut self {
            ProbeEvent::Sent { target, .. }
            | ProbeEvent::Skipped { target, .. }
            | ProbeEvent::Abandoned { target, .. }
            | ProbeEvent::ProxyView { target, .. } => *target = to,
            ProbeEvent::Answered(outcome) => outcome.target = to,
        }
        self
    }
}
