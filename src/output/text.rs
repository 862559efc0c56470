//! The seed's story, line by line: a header box, one block per answer, a banner at every
//! switch, and the summary box at the end (`Demo Summary` for the demo, `Failover Watch
//! Summary` for a real proxy).

use std::io::{self, Write};
use std::time::Duration;

use super::{Finish, Output, RunInfo, TargetInfo};
use crate::clock::WallClock;
use crate::litellm::errors::cause;
use crate::probe::{DirectMode, Lane, ProbeEvent, ProbeOutcome, Role, TargetId};
use crate::state::{
    Marker, Monitor, Notice, PrimaryChange, PrimaryKind, PrimaryState, Told, Totals, Transition,
    TransitionKind, Watch,
};
use crate::text::format::{interval, latency, marker_name, plural, span};
use crate::text::sanitize::cut;

const RULE: &str = "======================================================================";
const DASHES: &str = "----------------------------------------------------------------------";
const BANG: &str = "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!";
/// The summary's title for a real proxy, and for the demo's simulated gateway.
const SUMMARY: &str = "Failover Watch Summary";
const DEMO_SUMMARY: &str = "Demo Summary";
/// Replies and errors are cut to this many characters in the story.
const TEXT_CHARS: usize = 200;

/// ANSI styles, or nothing when colour is off.
#[derive(Clone, Copy)]
struct Palette {
    on: bool,
}

impl Palette {
    fn paint(self, code: &str, text: &str) -> String {
        if self.on {
            format!("\u{1b}[{code}m{text}\u{1b}[0m")
        } else {
            text.to_owned()
        }
    }
    fn green(self, t: &str) -> String {
        self.paint("1;32", t)
    }
    fn yellow(self, t: &str) -> String {
        self.paint("1;33", t)
    }
    fn red(self, t: &str) -> String {
        self.paint("1;31", t)
    }
    fn dim(self, t: &str) -> String {
        self.paint("2", t)
    }
}

pub struct TextStory<W: Write> {
    out: W,
    wall: WallClock,
    palette: Palette,
    /// The summary's title: what the run watched.
    title: &'static str,
    /// Each target's primary group, as LiteLLM's view names it.
    primary_groups: Vec<String>,
    /// Each target's name, said on its lines when the run watches several.
    names: Vec<String>,
}

impl<W: Finish> TextStory<W> {
    /// `color`: only when stdout is a terminal and `NO_COLOR` is unset (decided by the caller).
    pub fn new(out: W, wall: WallClock, color: bool) -> Self {
        Self {
            out,
            wall,
            palette: Palette { on: color },
            title: SUMMARY,
            primary_groups: Vec::new(),
            names: Vec::new(),
        }
    }

    /// The story of the run `info` describes: its summary named for a demo or a real proxy.
    pub fn of(mut self, info: &RunInfo) -> Self {
        self.title = if info.simulated {
            DEMO_SUMMARY
        } else {
            SUMMARY
        };
        self
    }

    /// `on NAME` when the run watches several targets, nothing with one (the seed's lines).
    fn on(&self, target: TargetId) -> String {
        match self.names.get(target.index()) {
            Some(name) if self.names.len() > 1 => format!(" on {name}"),
            _ => String::new(),
        }
    }

    /// The primary group of `target`, as LiteLLM's view names it.
    fn group(&self, target: TargetId) -> &str {
        self.primary_groups
            .get(target.index())
            .map_or("", String::as_str)
    }

    fn banner(&mut self, t: &Transition, target: TargetId) -> io::Result<()> {
        let p = self.palette;
        let from = t.from_model.as_deref().unwrap_or("nothing");
        let to = t.to_model.as_deref().unwrap_or("nothing");
        let on = self.on(target);
        let headline = match t.kind {
            TransitionKind::Failover => format!("[!] FAILOVER DETECTED{on}: {from} → {to}"),
            TransitionKind::Recovery => format!("[!] RECOVERY DETECTED{on}: {from} → {to}"),
            TransitionKind::Outage => format!("[!] OUTAGE{on}: {from} → nothing is answering"),
            TransitionKind::Restored => format!("[!] RESTORED{on}: nothing → {to}"),
        };
        let mut details = vec![format!(
            "{} after {} {}",
            t.kind.as_str(),
            span(t.previous),
            match t.from_model.as_deref() {
                Some(model) => format!("on {model}"),
                None => "down".to_owned(),
            }
        )];
        details.push(match t.failed_during {
            0 => "no failed request".to_owned(),
            1 => "1 failed request".to_owned(),
            n => format!("{n} failed requests"),
        });
        if let Some(m) = &t.after_marker {
            let marker = marker_name(m.marker, m.label.as_deref());
            details.push(format!("{} after {marker}", span(m.lag)));
        }
        let paint = |s: &str| match t.kind {
            TransitionKind::Outage => p.red(s),
            _ => p.yellow(s),
        };
        writeln!(self.out, "{}", paint(BANG))?;
        writeln!(self.out, "{}", paint(&headline))?;
        writeln!(self.out, "    {}", details.join(", "))?;
        if let Some(cause) = &t.cause {
            writeln!(self.out, "    cause: {}", cut(cause, TEXT_CHARS))?;
        }
        if let Some(cooldown) = t.primary_cooldown {
            writeln!(
                self.out,
                "    the primary was in LiteLLM's cooldown for {}",
                span(cooldown)
            )?;
        }
        writeln!(self.out, "{}", paint(BANG))?;
        writeln!(self.out)
    }

    /// A line when the primary's own state changes.
    fn primary(&mut self, change: &PrimaryChange, target: TargetId) -> io::Result<()> {
        let p = self.palette;
        let what = match &change.to {
            PrimaryState::Unknown => return Ok(()),
            PrimaryState::Up => p.green("UP, it answers"),
            PrimaryState::Failing { message, .. } => {
                p.red(&format!("FAILING: {}", cut(cause(message), TEXT_CHARS)))
            }
            PrimaryState::CoolingDown(cooldown) => {
                let mut said = "IN LITELLM'S COOLDOWN".to_owned();
                if let Some(configured) = cooldown.configured {
                    said.push_str(&format!(" ({})", interval(configured)));
                }
                if let Some(next) = cooldown.next_try {
                    let how = if cooldown.next_try_at_latest {
                        "by"
                    } else {
                        "~"
                    };
                    said.push_str(&format!(", next try {how}{}", self.wall.hms(next)));
                }
                p.yellow(&said)
            }
            PrimaryState::Refused { message } => p.yellow(&format!(
                "direct probes refused, no more are sent: {}",
                cut(message, TEXT_CHARS)
            )),
        };
        writeln!(
            self.out,
            "[{}] Primary's own state{}: {what}",
            self.wall.hms(change.at),
            self.on(target)
        )?;
        writeln!(self.out)
    }

    /// The header's lines of the one target a run watches, as the seed has them.
    fn target_header(&mut self, target: &TargetInfo) -> io::Result<()> {
        let fallback = match &target.fallback {
            Some(model) => format!("{model} (expected, from the proxy's fallbacks)"),
            None => "whatever the proxy's fallbacks route to".to_owned(),
        };
        writeln!(self.out, "  Proxy: {}", target.url)?;
        writeln!(self.out, "  Primary Model: {}", target.primary)?;
        writeln!(self.out, "  Fallback Model: {fallback}")?;
        writeln!(
            self.out,
            "  Request Interval: {}",
            interval(target.interval)
        )?;
        writeln!(
            self.out,
            "  Requests: {}, timeout {}",
            if target.stream { "streamed" } else { "normal" },
            interval(target.timeout)
        )?;
        match target.lane.mode {
            DirectMode::Quiet => writeln!(
                self.out,
                "  Primary's lane: quiet (LiteLLM's health check while it is away; a direct probe \
                 only into LiteLLM's cooldown)"
            ),
            DirectMode::Probe => writeln!(
                self.out,
                "  Direct probes: on (the primary alone, disable_fallbacks: its own state)"
            ),
            DirectMode::Off => Ok(()),
        }
    }

    fn request(&mut self, o: &ProbeOutcome, late: bool) -> io::Result<()> {
        let p = self.palette;
        let mut timing = latency(o.latency());
        if let Some(ttft) = o.report.ttft {
            timing.push_str(&format!(", first token {}", latency(ttft)));
        }
        if late {
            timing.push_str(", answered after later requests");
        }
        let head = format!(
            "[{}] Request #{}{}:",
            self.wall.hms(o.sent_at),
            o.seq,
            self.on(o.target)
        );
        match &o.report.result {
            Ok(served) => {
                let verdict = match served.role {
                    Role::Primary => p.green("✓ PRIMARY"),
                    Role::Fallback => p.yellow("✓ FALLBACK"),
                };
                let reply = cut(&served.reply, TEXT_CHARS);
                let reply = if reply.is_empty() {
                    "(empty)".to_owned()
                } else {
                    reply
                };
                writeln!(
                    self.out,
                    "{head} {verdict}  {}",
                    p.dim(&format!("({timing})"))
                )?;
                writeln!(self.out, "           Model: {}", served.model)?;
                writeln!(self.out, "           Response: {reply}")?;
            }
            Err(failure) => {
                let what = failure.label(o.report.status);
                writeln!(
                    self.out,
                    "{head} {}  {}",
                    p.red("✗ FAILED"),
                    p.dim(&format!("({timing})"))
                )?;
                writeln!(
                    self.out,
                    "           Error: {what}: {}",
                    cut(&failure.message, TEXT_CHARS)
                )?;
            }
        }
        writeln!(self.out)
    }
}

impl<W: Finish> Output for TextStory<W> {
    fn begin(&mut self, info: &RunInfo) -> io::Result<()> {
        self.primary_groups = info.targets.iter().map(|t| t.primary.clone()).collect();
        self.names = info.targets.iter().map(|t| t.name.clone()).collect();
        self.title = if info.simulated {
            DEMO_SUMMARY
        } else {
            SUMMARY
        };
        let title = if info.simulated {
            "LiteLLM Failover Demo (simulated gateway)"
        } else {
            "LiteLLM Failover Watch"
        };
        let how_to_test = if info.simulated {
            "[*] To test failover: the demo's script, or its keys on the dashboard, take the primary down"
        } else {
            "[*] To test failover: scale the primary down in another terminal"
        };
        writeln!(self.out, "{RULE}")?;
        writeln!(self.out, "{title}")?;
        writeln!(self.out, "{RULE}")?;
        match info.targets.as_slice() {
            [one] => self.target_header(one)?,
            many => {
                writeln!(self.out, "  Targets: {}", many.len())?;
                for target in many {
                    writeln!(self.out, "    {}", target_line(target))?;
                }
            }
        }
        if let Some(file) = &info.replay {
            let started = self.wall.origin().format("%Y-%m-%d %H:%M:%S UTC");
            writeln!(self.out, "  Replay of: {file} (recorded from {started})")?;
        }
        writeln!(self.out, "{RULE}")?;
        writeln!(self.out)?;
        if info.replay.is_none() {
            writeln!(self.out, "[*] Sending requests to primary model...")?;
            writeln!(self.out, "{how_to_test}")?;
            writeln!(self.out, "[*] Press Ctrl+C to stop")?;
            writeln!(self.out)?;
        }
        writeln!(self.out, "{DASHES}")?;
        self.out.flush()
    }

    fn tell(&mut self, told: &Told, _watch: &Watch) -> io::Result<()> {
        let target = told.target().unwrap_or_default();
        match told {
            Told::Probe(
                ProbeEvent::Sent { .. }
                | ProbeEvent::Answered(_)
                | ProbeEvent::ProxyView { .. }
                | ProbeEvent::Skipped {
                    lane: Lane::Direct | Lane::Health,
                    ..
                },
            ) => return Ok(()),
            Told::Direct(told) => match &told.change {
                Some(change) => self.primary(change, target)?,
                None => return Ok(()),
            },
            Told::Proxy(told) => match &told.now {
                Some(now) => writeln!(
                    self.out,
                    "[{}] LiteLLM's view{} (its metrics): {}",
                    self.wall.hms(told.at),
                    self.on(target),
                    now.parts(self.group(target)).join(" · ")
                )?,
                // The notice says it.
                None => return Ok(()),
            },
            Told::Request(told) => {
                if let Some(t) = &told.transition {
                    self.banner(t, target)?;
                }
                self.request(&told.outcome, told.late)?;
                if let Some(change) = &told.change {
                    self.primary(change, target)?;
                }
            }
            Told::Probe(ProbeEvent::Skipped { at, in_flight, .. }) => {
                writeln!(
                    self.out,
                    "[{}] {}",
                    self.wall.hms(*at),
                    self.palette.yellow(&format!(
                        "Tick skipped{}: {in_flight} requests still in flight (--max-in-flight)",
                        self.on(target)
                    ))
                )?;
                writeln!(self.out)?;
            }
            Told::Probe(ProbeEvent::Abandoned {
                lane,
                seq,
                sent_at,
                at,
                ..
            }) => {
                let what = match lane {
                    Lane::Normal => "Request",
                    Lane::Direct => "Direct probe",
                    Lane::Health => "Health check",
                };
                writeln!(
                    self.out,
                    "[{}] {what} #{seq}{}: … NO ANSWER  (abandoned at exit after {})",
                    self.wall.hms(*sent_at),
                    self.on(target),
                    span(at.saturating_sub(*sent_at))
                )?;
                writeln!(self.out)?;
            }
            Told::Notice { notice, target } => {
                let on = target.map(|t| self.on(t)).unwrap_or_default();
                self.notice(notice, &on)?
            }
            Told::Marker(marker) => self.marker(marker)?,
            Told::Reset { .. } | Told::Interval { .. } => return Ok(()),
        }
        self.out.flush()
    }

    fn end(&mut self, watch: &Watch, now: Duration) -> io::Result<()> {
        for (target, monitor) in watch.targets() {
            self.summary_of(monitor, target, now)?;
        }
        match watch.targets().len() {
            1 => Ok(()),
            _ => self.totals(&watch.totals(), now),
        }
    }

    fn close(&mut self) -> Result<Option<String>, String> {
        Ok(self.out.finish())
    }
}

/// One target of many in the header: its name, groups, proxy and schedule.
fn target_line(target: &TargetInfo) -> String {
    let fallback = target.fallback.as_deref().unwrap_or("its fallbacks");
    let lane = match target.lane.mode {
        DirectMode::Quiet => ", quiet lane",
        DirectMode::Probe => ", direct probes",
        DirectMode::Off => "",
    };
    format!(
        "{}: {} → {fallback} at {}, every {}, timeout {}{}{lane}",
        target.name,
        target.primary,
        target.url,
        interval(target.interval),
        interval(target.timeout),
        if target.stream { ", streamed" } else { "" },
    )
}

impl<W: Finish> TextStory<W> {
    fn marker(&mut self, marker: &Marker) -> io::Result<()> {
        let name = marker_name(marker.id, marker.label.as_deref());
        writeln!(
            self.out,
            "[{}] {}",
            self.wall.hms(marker.at),
            self.palette.yellow(&format!(
                "MARKER {name}  (after request #{})",
                marker.after_seq
            ))
        )?;
        writeln!(self.out)
    }

    /// A notice, `on` its target when the run watches several.
    fn notice(&mut self, notice: &Notice, on: &str) -> io::Result<()> {
        let line = match on {
            "" => format!("[!] {}", notice.message),
            on => format!("[!]{on}: {}", notice.message),
        };
        writeln!(
            self.out,
            "[{}] {}",
            self.wall.hms(notice.at),
            self.palette.yellow(&line)
        )?;
        writeln!(self.out)
    }

    /// The sums over the targets of a run that ended at `now`, after their summaries.
    fn totals(&mut self, t: &Totals, now: Duration) -> io::Result<()> {
        writeln!(self.out)?;
        writeln!(self.out, "{RULE}")?;
        writeln!(self.out, "{}: all {} targets", self.title, t.targets)?;
        writeln!(self.out, "{RULE}")?;
        writeln!(
            self.out,
            "  • At the end: {} on their primary, {} on a fallback, {} down or not answered",
            t.on_primary,
            t.on_fallback,
            t.down + t.waiting
        )?;
        writeln!(self.out, "  • Total requests: {}", t.sent)?;
        writeln!(self.out, "  • Successful: {}", t.succeeded)?;
        writeln!(self.out, "  • Failed: {}", t.failed)?;
        writeln!(
            self.out,
            "  • Failovers: {}, recoveries: {}, outages: {}",
            t.failovers, t.recoveries, t.outages
        )?;
        writeln!(self.out, "  • Duration: {}", span(now))?;
        writeln!(self.out, "{RULE}")?;
        self.out.flush()
    }

    /// The summary of `target` in the run that ended at `now` (one block of many: named in its
    /// title).
    fn summary_of(&mut self, monitor: &Monitor, target: TargetId, now: Duration) -> io::Result<()> {
        let c = monitor.counters();
        let p = self.palette;
        let failover = if c.failovers > 0 && c.failed == 0 {
            p.green("✓ Detected and handled")
        } else if c.failovers > 0 {
            p.yellow(&format!(
                "✓ Detected ({} requests failed in the run)",
                c.failed
            ))
        } else if monitor.primary_never_served() {
            p.yellow("⚠ The primary never served: every answer came from the fallback")
        } else if c.outages > 0 {
            p.yellow("– Not observed: the service went down instead")
        } else {
            "– Not observed".to_owned()
        };
        writeln!(self.out)?;
        writeln!(self.out, "{RULE}")?;
        match self.names.get(target.index()) {
            Some(name) if self.names.len() > 1 => writeln!(self.out, "{}: {name}", self.title)?,
            _ => writeln!(self.out, "{}", self.title)?,
        }
        writeln!(self.out, "{RULE}")?;
        writeln!(self.out, "  • Total requests: {}", c.sent())?;
        writeln!(self.out, "  • Successful: {}", c.succeeded)?;
        writeln!(self.out, "  • Failed: {}", c.failed)?;
        writeln!(self.out, "  • Failover: {failover}")?;
        writeln!(
            self.out,
            "  • Served by primary: {}, by fallback: {}",
            c.primary, c.fallback
        )?;
        for (model, n) in &c.by_model {
            writeln!(self.out, "      {model}: {n}")?;
        }
        writeln!(
            self.out,
            "  • Failovers: {}, recoveries: {}, outages: {}, restored: {}",
            c.failovers, c.recoveries, c.outages, c.restorations
        )?;
        if let Some(l) = monitor.latency().all.percentiles() {
            writeln!(
                self.out,
                "  • Latency: p50 {}, p95 {}, p99 {}, max {}",
                latency(l.p50),
                latency(l.p95),
                latency(l.p99),
                latency(l.max)
            )?;
        }
        if c.skipped > 0 {
            writeln!(
                self.out,
                "  • Skipped ticks (too many in flight): {}",
                c.skipped
            )?;
        }
        if c.abandoned > 0 {
            writeln!(self.out, "  • Unanswered at exit: {}", c.abandoned)?;
        }
        writeln!(self.out, "  • Duration: {}", span(now))?;
        if let Some(version) = monitor.litellm_version() {
            writeln!(self.out, "  • LiteLLM: {version}")?;
        }
        let lane = monitor.primary();
        let answered = lane.answered();
        if answered.total() > 0 {
            let mut asked = Vec::new();
            if answered.health > 0 {
                asked.push(plural(answered.health, "health check", "health checks"));
            }
            if answered.direct > 0 {
                asked.push(plural(answered.direct, "direct probe", "direct probes"));
            }
            writeln!(
                self.out,
                "  • Primary's own state ({}): up {}, failing {}, in cooldown {}",
                asked.join(", "),
                span(lane.time_in(PrimaryKind::Up, now)),
                span(lane.time_in(PrimaryKind::Failing, now)),
                span(lane.time_in(PrimaryKind::CoolingDown, now)),
            )?;
            if let Some(first) = lane.first_failure() {
                writeln!(self.out, "      first failure: {}", cut(first, TEXT_CHARS))?;
            }
        }
        let proxy = monitor.proxy();
        if let Some(now) = proxy.now() {
            writeln!(
                self.out,
                "  • LiteLLM's view (its metrics, since the first reading): {}",
                now.parts(self.group(target)).join(" · ")
            )?;
            let missing = now.missing();
            if !missing.is_empty() {
                writeln!(self.out, "      not exported: {}", missing.join(", "))?;
            }
            if let Some(said) = proxy.disagreement() {
                writeln!(self.out, "      {said}")?;
            }
        }
        writeln!(self.out, "{RULE}")?;
        if monitor.primary_never_served() {
            writeln!(self.out)?;
            writeln!(
                self.out,
                "Note: if the primary is up, check its deployment in the proxy's config. LiteLLM's"
            )?;
            writeln!(
                self.out,
                "openai/ provider needs an api_key (any string will do for a key-less server);"
            )?;
            writeln!(
                self.out,
                "without one it never calls the primary and every request falls back."
            )?;
        }
        self.out.flush()
    }
}
