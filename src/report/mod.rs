//! `failover-watch report FILE`: what a recorded run (a plain one, or a drill's) says, in one
//! document: the setup, the timeline of facts relative to the fault, the durations derived from
//! it, the requests by phase, LiteLLM's own counts, the budgets and the verdict.
//!
//! The record's steps go through the same core as the live run ([`crate::state::Watch`]), so
//! the report never disagrees with the dashboard; what the core tells is folded into bounded
//! counters and histograms ([`compute`]), then rendered per format, each in its own file.
//! Pure: the command (`commands::report`) reads the file and writes the document.
//!
//! ```text
//!  steps ─▶ Watch ─Told─▶ compute (phases, facts, chart) ─▶ Report ─▶ text | markdown | json
//!                                                                     junit | html (+ svg)
//! ```

mod args;
mod budget;
mod chart;
mod compute;
mod html;
mod json;
mod junit;
mod markdown;
mod svg;
mod text;
mod xml;

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;

pub use args::{BudgetArgs, ReportArgs, ReportFormat};
pub use budget::{Budget, Budgets, Facts, Judged, Status, Verdict};
pub use chart::Chart;
pub use compute::compute;

use crate::clock::WallClock;
use crate::output::RunInfo;
use crate::probe::{ErrorKind, Role};
use crate::state::{Input, LatencyStats, Notice, Percentiles, PrimaryKind};
use crate::text::format;

/// The report in `format`.
pub fn render(report: &Report, format: ReportFormat) -> String {
    match format {
        ReportFormat::Text => text::render(report),
        ReportFormat::Markdown => markdown::render(report),
        ReportFormat::Json => json::render(report),
        ReportFormat::Junit => junit::render(report),
        ReportFormat::Html => html::render(report),
    }
}

/// The label of the marker a drill drops as it takes the primary down.
pub const DRILL_DOWN: &str = "drill: down";
/// The label of the marker a drill drops as it brings the primary back.
pub const DRILL_UP: &str = "drill: up";

/// The version of the JSON report's schema (docs/report.md); raised when a field changes
/// meaning or goes, not when one is added.
pub const REPORT_VERSION: u32 = 1;

/// One run of a record, as read: what the report is computed from.
#[derive(Clone, Debug)]
pub struct Run {
    /// The file as the user named it.
    pub file: String,
    pub info: RunInfo,
    pub wall: WallClock,
    pub steps: Vec<(Duration, Input)>,
    /// When the run ended.
    pub end: Duration,
    /// Why the record ends early, if it does (a line cut short).
    pub damage: Option<String>,
    /// Which run of the file, from 1, and how many it holds.
    pub run: usize,
    pub runs: usize,
    /// Of a record of several targets reported one at a time: the others' transitions.
    pub others_moved: Option<u64>,
}

impl Run {
    /// The run of the one target named `name` (by default the first), as if it had been
    /// watched alone: a report is of one target. Markers, resets and intervals are every
    /// target's and stay.
    pub fn of_target(mut self, name: Option<&str>) -> Result<Self, String> {
        let names = self.info.names();
        let index = match name {
            None => 0,
            Some(name) => names.iter().position(|n| *n == name).ok_or_else(|| {
                format!(
                    "the record has no target {name} (it has: {})",
                    crate::text::sanitize::clean(&names.join(", "), 300)
                )
            })?,
        };
        if self.info.targets.len() == 1 {
            return Ok(self);
        }
        let chosen = crate::probe::TargetId(index as u16);
        let mut watch = crate::state::Watch::new(self.info.monitors());
        let mut moved = 0;
        for (_, input) in &self.steps {
            for told in watch.apply(input.clone()) {
                if let crate::state::Told::Request(request) = told
                    && request.transition.is_some()
                    && request.outcome.target != chosen
                {
                    moved += 1;
                }
            }
        }
        self.others_moved = Some(moved);
        self.steps.retain(|(_, input)| match input {
            Input::Probe(event) => event.target() == chosen,
            _ => true,
        });
        for (_, input) in &mut self.steps {
            if let Input::Probe(event) = input {
                *event = event.clone().retargeted(crate::probe::TargetId::default());
            }
        }
        self.info.targets = vec![self.info.targets.swap_remove(index)];
        Ok(self)
    }
}

/// What a drill adds to its report: the router's settings as the proxy stated them, and the
/// commands it ran. A drill run outside failover-watch hands it over as a JSON file
/// (`report --drill FILE`, docs/report.md).
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DrillSetup {
    /// The router's settings in the proxy's words, e.g. `fallbacks llama-fp8 → llama3;
    /// allowed_fails 1, cooldown_time 10s` (as `check` states them).
    #[serde(default)]
    pub router: Option<String>,
    /// The commands the drill ran, in order.
    #[serde(default)]
    pub commands: Vec<DrillCommand>,
    /// How the drill ended, in its words: `completed`, `interrupted (SIGINT) …`, `aborted: …`.
    #[serde(default)]
    pub ended: Option<String>,
}

impl DrillSetup {
    /// Its texts made safe to print, as a record's are: it comes from a file.
    pub fn cleaned(self) -> Self {
        let clean = |text: &str, chars| crate::text::sanitize::clean(text, chars);
        Self {
            router: self.router.map(|r| clean(&r, 500)),
            commands: self
                .commands
                .into_iter()
                .map(|c| DrillCommand {
                    step: clean(&c.step, 40),
                    command: clean(&c.command, 500),
                    exit_status: c.exit_status,
                    output: clean(&c.output, 2000),
                })
                .collect(),
            ended: self.ended.map(|e| clean(&e, 500)),
        }
    }
}

/// One command a drill ran: what, and how it ended.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DrillCommand {
    /// The drill's step: `down`, `up`, or another word of the drill's.
    pub step: String,
    pub command: String,
    /// Its exit status; none when a signal ended it or it never ran.
    #[serde(default)]
    pub exit_status: Option<i32>,
    /// What it printed (the drill keeps it short).
    #[serde(default)]
    pub output: String,
}

/// Which record, and whether it was whole.
#[derive(Clone, Debug, PartialEq)]
pub struct Source {
    pub file: String,
    pub run: usize,
    pub runs: usize,
    pub damage: Option<String>,
}

/// What was watched, and how.
#[derive(Clone, Debug)]
pub struct Setup {
    pub info: RunInfo,
    /// The release the proxy last named (`x-litellm-version`).
    pub litellm_version: Option<String>,
    /// The models that answered, with whose side they served and how often.
    pub models: Vec<ServedModel>,
    /// Interval changes during the run (`+`/`-` on the dashboard).
    pub interval_changes: u64,
    /// What the core told once about the run.
    pub notices: Vec<Notice>,
    pub drill: Option<DrillSetup>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ServedModel {
    pub model: String,
    pub role: Role,
    pub requests: u64,
}

/// One fact of the timeline: when it was seen (an answer's arrival, a marker's moment), the
/// request or direct probe that showed it, and what it is.
#[derive(Clone, Debug, PartialEq)]
pub struct Fact {
    pub at: Duration,
    pub seq: Option<u64>,
    pub what: What,
}

#[derive(Clone, Debug, PartialEq)]
pub enum What {
    /// The moment the fault was injected, and how it is known.
    Fault(FaultFound),
    /// The first request after the fault that failed or was slow.
    FirstBad(Bad),
    /// The first answer the fallback served after the fault.
    Failover { model: String },
    /// A change of the primary's own state (the direct probes).
    Primary {
        from: Option<PrimaryKind>,
        to: PrimaryKind,
        message: Option<String>,
    },
    /// The primary brought back, and how it is known.
    Up(UpFound),
    /// The first direct probe the primary answered after it was back.
    PrimaryAlone,
    /// The first answer the primary served through the proxy after it was back.
    Recovery { model: String },
    /// Another marker of the record.
    Marker { id: u32, label: Option<String> },
}

/// How the fault's moment is known.
#[derive(Clone, Debug, PartialEq)]
pub enum FaultFound {
    /// The drill's `drill: down` marker.
    Marker { id: u32 },
    /// No such marker: inferred from the request that began the trouble (its sending).
    Inferred(Bad),
}

/// How the primary's return is known.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum UpFound {
    /// The drill's `drill: up` marker.
    Marker { id: u32 },
    /// No such marker: the primary's own state turned up (a direct probe).
    PrimaryState,
}

/// What was wrong with a request.
#[derive(Clone, Debug, PartialEq)]
pub enum Bad {
    Failed {
        kind: ErrorKind,
        message: String,
    },
    /// Served, but slow next to the primary's usual latency (see [`compute::SlowRule`]).
    Slow {
        latency: Duration,
        role: Role,
    },
    /// Served by the fallback (the start of a failover).
    ByFallback {
        model: String,
    },
}

impl What {
    /// The fact's name in the JSON report.
    pub fn key(&self) -> &'static str {
        match self {
            What::Fault(_) => "fault",
            What::FirstBad(_) => "first_failed_or_slow",
            What::Failover { .. } => "failover",
            What::Primary { .. } => "primary",
            What::Up(_) => "up",
            What::PrimaryAlone => "primary_alone",
            What::Recovery { .. } => "recovery",
            What::Marker { .. } => "marker",
        }
    }

    /// The fact as people call it.
    pub fn title(&self) -> String {
        match self {
            What::Fault(_) => "fault injected".to_owned(),
            What::FirstBad(_) => "first failed or slow request".to_owned(),
            What::Failover { .. } => "failover: first fallback answer".to_owned(),
            What::Primary { to, .. } => format!("primary's own state: {}", primary_word(*to)),
            What::Up(_) => "up: primary brought back".to_owned(),
            What::PrimaryAlone => "primary answering alone".to_owned(),
            What::Recovery { .. } => "recovery: first primary answer".to_owned(),
            What::Marker { .. } => "marker".to_owned(),
        }
    }

    /// What the record says of it, in a line; `seq` is its request or direct probe.
    pub fn detail(&self, seq: Option<u64>) -> String {
        let request = seq.map_or(String::new(), |s| format!("#{s} "));
        match self {
            What::Fault(FaultFound::Marker { id }) => format!("marker M{id} \"{DRILL_DOWN}\""),
            What::Fault(FaultFound::Inferred(bad)) => {
                format!("inferred: request {request}sent then, {}", bad.said())
            }
            What::FirstBad(bad) => format!("request {request}{}", bad.said()),
            What::Failover { model } => format!("request {request}served by {model}"),
            What::Primary { from, message, .. } => {
                let from = from.map_or("first direct answer".to_owned(), |f| {
                    format!("was {}", primary_word(f))
                });
                match message {
                    Some(message) => format!("direct probe {request}{from}: {message}"),
                    None => format!("direct probe {request}{from}"),
                }
            }
            What::Up(UpFound::Marker { id }) => format!("marker M{id} \"{DRILL_UP}\""),
            What::Up(UpFound::PrimaryState) => {
                "inferred: the primary's own state turned up".to_owned()
            }
            What::PrimaryAlone => format!("direct probe {request}served by the primary"),
            What::Recovery { model } => format!("request {request}served by {model}"),
            What::Marker { id, label } => format::marker_name(*id, label.as_deref()),
        }
    }
}

impl Bad {
    /// In a few words: `failed (connect): Connection refused`, `slow: 31.2 s`.
    pub fn said(&self) -> String {
        match self {
            Bad::Failed { kind, message } if message.is_empty() => {
                format!("failed ({})", kind.as_str())
            }
            Bad::Failed { kind, message } => format!("failed ({}): {message}", kind.as_str()),
            Bad::Slow { latency, role } => {
                let side = match role {
                    Role::Primary => "the primary",
                    Role::Fallback => "the fallback",
                };
                format!("slow: {} (served by {side})", format::latency(*latency))
            }
            Bad::ByFallback { model } => format!("served by the fallback ({model})"),
        }
    }
}

/// The primary's own state as people say it.
pub fn primary_word(kind: PrimaryKind) -> &'static str {
    match kind {
        PrimaryKind::Up => "answering",
        PrimaryKind::Failing => "failing",
        PrimaryKind::CoolingDown => "in LiteLLM's cooldown",
        PrimaryKind::Refused => "direct probes refused",
    }
}

/// The time between two facts; negative when the second came first (traffic back before a
/// direct probe saw the primary alone).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Lapse {
    pub from: Duration,
    pub to: Duration,
}

impl Lapse {
    pub fn secs(self) -> f64 {
        self.to.as_secs_f64() - self.from.as_secs_f64()
    }

    /// `0.41 s`, `−0.20 s`, `3m 12s`.
    pub fn text(self) -> String {
        if self.to >= self.from {
            figure(self.to - self.from)
        } else {
            format!("−{}", figure(self.from - self.to))
        }
    }
}

/// A duration as the report shows it: `23 ms`, `1.25 s`, `3m 12s`.
pub fn figure(d: Duration) -> String {
    if d < Duration::from_secs(60) {
        format::latency(d)
    } else {
        format::span(d)
    }
}

/// The durations derived from the timeline; each `None` when one of its ends was not seen.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Durations {
    /// Fault → first fallback answer.
    pub to_failover: Option<Lapse>,
    /// First fallback answer → first primary answer again.
    pub on_fallback: Option<Lapse>,
    /// Primary answering alone → first primary answer through the proxy.
    pub cooldown_lag: Option<Lapse>,
    /// Up → first primary answer through the proxy.
    pub to_recovery: Option<Lapse>,
}

/// One duration for the tables: its JSON key, its name, what it spans, its figure.
pub struct DurationRow {
    pub key: &'static str,
    pub name: &'static str,
    pub spans: &'static str,
    pub lapse: Option<Lapse>,
}

impl Durations {
    pub fn rows(&self) -> [DurationRow; 4] {
        [
            DurationRow {
                key: "failover",
                name: "time to fail over",
                spans: "fault → first fallback answer",
                lapse: self.to_failover,
            },
            DurationRow {
                key: "on_fallback",
                name: "time on the fallback",
                spans: "first fallback answer → first primary answer",
                lapse: self.on_fallback,
            },
            DurationRow {
                key: "recovery",
                name: "time to recover",
                spans: "up → first primary answer through the proxy",
                lapse: self.to_recovery,
            },
            DurationRow {
                key: "cooldown_lag",
                name: "cooldown lag",
                spans: "primary answering alone → traffic back",
                lapse: self.cooldown_lag,
            },
        ]
    }
}

/// The phases of a run, cut by the fault, the up and the recovery.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
    /// Before the fault.
    Baseline,
    /// From the fault to the up.
    Down,
    /// From the up to the recovery.
    Recovering,
    /// After the recovery.
    Settled,
}

impl Phase {
    pub const ALL: [Phase; 4] = [
        Phase::Baseline,
        Phase::Down,
        Phase::Recovering,
        Phase::Settled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Baseline => "baseline",
            Phase::Down => "down",
            Phase::Recovering => "recovering",
            Phase::Settled => "settled",
        }
    }
}

/// Requests sent in a span of the run: who served them, what failed, how fast.
#[derive(Clone, Debug, Default)]
pub struct Counts {
    /// Answered requests.
    pub requests: u64,
    pub primary: u64,
    pub fallback: u64,
    pub failed: u64,
    pub by_error: BTreeMap<ErrorKind, u64>,
    /// Served, but slow.
    pub slow: u64,
    /// Sent and never answered before the run ended.
    pub abandoned: u64,
    /// Latency of the successful answers.
    pub latency: LatencyStats,
    /// LiteLLM's own count: the sum of `x-litellm-attempted-fallbacks`, when an answer
    /// carried it.
    pub litellm_fallbacks: Option<u64>,
}

impl Counts {
    /// Successful answers' share of the answered, in percent.
    pub fn availability(&self) -> Option<f64> {
        (self.requests > 0)
            .then(|| (self.primary + self.fallback) as f64 * 100.0 / self.requests as f64)
    }

    pub fn percentiles(&self) -> Option<Percentiles> {
        self.latency.all.percentiles()
    }

    /// `timeout 3, http 1`, or `none`.
    pub fn errors_text(&self) -> String {
        if self.by_error.is_empty() {
            return "none".to_owned();
        }
        self.by_error
            .iter()
            .map(|(kind, n)| format!("{} {n}", kind.as_str()))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// One phase: its span and its requests.
#[derive(Clone, Debug)]
pub struct PhaseCounts {
    pub phase: Phase,
    pub from: Duration,
    pub to: Duration,
    pub counts: Counts,
}

/// What LiteLLM itself said it did, where the record has it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LitellmCounts {
    /// The sum of `x-litellm-attempted-fallbacks` over the answers that carried it; `None`
    /// when none did.
    pub attempted_fallbacks: Option<u64>,
    /// Answers that carried the header, and those that said a fallback was attempted.
    pub answers_with_header: u64,
    pub answers_with_fallbacks: u64,
    /// Times the primary entered LiteLLM's cooldown, as its direct answers stated; `None`
    /// without direct probes.
    pub cooldowns: Option<u64>,
    /// The cooldown LiteLLM stated in its answers, when it did.
    pub cooldown_time: Option<Duration>,
    /// LiteLLM's own metrics over the run (`--proxy-metrics`), from its first reading: `None`
    /// when none was recorded.
    pub metrics: Option<crate::state::ProxyCounts>,
}

/// Everything the report says, computed once; every format renders this.
#[derive(Clone, Debug)]
pub struct Report {
    pub source: Source,
    pub setup: Setup,
    pub wall: WallClock,
    /// How long the run lasted.
    pub length: Duration,
    /// The fault's moment, from which the timeline counts.
    pub fault: Option<Duration>,
    /// The facts in time order.
    pub timeline: Vec<Fact>,
    /// Facts left out of the timeline to keep it bounded (primary changes, markers).
    pub left_out: u64,
    pub durations: Durations,
    pub phases: Vec<PhaseCounts>,
    /// The whole run.
    pub whole: Counts,
    pub litellm: LitellmCounts,
    pub budgets: Vec<Judged>,
    pub chart: Chart,
}

impl Report {
    pub fn verdict(&self) -> Verdict {
        Verdict::of(&self.budgets)
    }

    /// A moment relative to the fault (`T+1.25 s`, `T−3.0 s`), or to the start without one
    /// (`+1.25 s`).
    pub fn relative(&self, at: Duration) -> String {
        let (base, prefix) = match self.fault {
            Some(fault) => (fault, "T"),
            None => (Duration::ZERO, ""),
        };
        if at == base && self.fault.is_some() {
            "T".to_owned()
        } else if at >= base {
            format!("{prefix}+{}", figure(at - base))
        } else {
            format!("{prefix}−{}", figure(base - at))
        }
    }

    /// Seconds from the fault (from the start without one), signed.
    pub fn relative_secs(&self, at: Duration) -> f64 {
        at.as_secs_f64() - self.fault.unwrap_or_default().as_secs_f64()
    }

    /// The title every format starts with.
    pub fn title(&self) -> String {
        let fallback = self
            .setup
            .info
            .first()
            .fallback
            .as_deref()
            .map_or(String::new(), |f| format!(" → {f}"));
        format!(
            "failover-watch report: {}{fallback}",
            self.setup.info.first().primary
        )
    }

    /// The verdict in a line: `PASS: 3 budgets held`.
    pub fn verdict_text(&self) -> String {
        match self.verdict() {
            Verdict::NoBudgets => self.verdict_words(),
            Verdict::Held => format!("PASS: {}", self.verdict_words()),
            Verdict::Broken(_) => format!("FAIL: {}", self.verdict_words()),
        }
    }

    /// The verdict's words, without PASS or FAIL (a badge says it).
    pub fn verdict_words(&self) -> String {
        let total = self.budgets.len();
        let plural = if total == 1 { "" } else { "s" };
        let unmeasured = self
            .budgets
            .iter()
            .filter(|j| j.status == Status::NotMeasured)
            .count();
        match self.verdict() {
            Verdict::NoBudgets => "no budgets given".to_owned(),
            Verdict::Held if unmeasured == 0 => format!("{total} budget{plural} held"),
            Verdict::Held => format!(
                "{} of {total} budget{plural} held, {unmeasured} not measured",
                total - unmeasured
            ),
            Verdict::Broken(n) => format!("{n} of {total} budget{plural} broken"),
        }
    }

    /// The run in a line: `run 1 of 1 of run.jsonl, 14.0 s from 2026-11-23 14:00:00 UTC`.
    pub fn run_text(&self) -> String {
        let start = self
            .wall
            .origin()
            .with_timezone(&self.wall.local_offset())
            .format("%Y-%m-%d %H:%M:%S %:z");
        format!(
            "{} (run {} of {}), {} from {start}",
            self.source.file,
            self.source.run,
            self.source.runs,
            figure(self.length)
        )
    }
}

/// A percentage as the tables show it: `99.5 %`, or `—`.
pub fn percent(value: Option<f64>) -> String {
    value.map_or("—".to_owned(), |v| format!("{v:.1} %"))
}

/// The p50, p95 and max of a phase's successful answers, or dashes.
pub fn latencies(p: Option<Percentiles>) -> [String; 3] {
    match p {
        Some(p) => [
            format::latency(p.p50),
            format::latency(p.p95),
            format::latency(p.max),
        ],
        None => ["—".to_owned(), "—".to_owned(), "—".to_owned()],
    }
}

/// LiteLLM's count as the tables show it.
pub fn litellm_count(count: Option<u64>) -> String {
    count.map_or("not recorded".to_owned(), |n| n.to_string())
}

#[cfg(test)]
mod tests;
