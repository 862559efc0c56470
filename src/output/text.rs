//! The seed's story, line by line: a header box, one block per answer, a banner at every
//! switch, and the summary box at the end (`Demo Summary` for the demo, `Failover Watch
//! Summary` for a real proxy).

use std::io::{self, Write};
use std::time::Duration;

use super::{Finish, Output, RunInfo};
use crate::clock::WallClock;
use crate::litellm::errors::cause;
use crate::probe::{DirectMode, Lane, ProbeEvent, ProbeOutcome, Role, TargetId};
use crate::state::{
    Marker, Monitor, Notice, PrimaryChange, PrimaryKind, PrimaryState, Told, Transition,
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
    /// The primary group, as LiteLLM's view names it.
    primary_group: String,
}

impl<W: Finish> TextStory<W> {
    /// `color`: only when stdout is a terminal and `NO_COLOR` is unset (decided by the caller).
    pub fn new(out: W, wall: WallClock, color: bool) -> Self {
        Self {
            out,
            wall,
            palette: Palette { on: color },
            title: SUMMARY,
            primary_group: String::new(),
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

    fn banner(&mut self, t: &Transition) -> io::Result<()> {
        let p = self.palette;
        let from = t.from_model.as_deref().unwrap_or("nothing");
        let to = t.to_model.as_deref().unwrap_or("nothing");
        let headline = match t.kind {
            TransitionKind::Failover => format!("[!] FAILOVER DETECTED: {from} → {to}"),
            TransitionKind::Recovery => format!("[!] RECOVERY DETECTED: {from} → {to}"),
            TransitionKind::Outage => format!("[!] OUTAGE: {from} → nothing is answering"),
            TransitionKind::Restored => format!("[!] RESTORED: nothing → {to}"),
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
    fn primary(&mut self, change: &PrimaryChange) -> io::Result<()> {
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
            "[{}] Primary's own state: {what}",
            self.wall.hms(change.at)
        )?;
        writeln!(self.out)
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
        let head = format!("[{}] Request #{}:", self.wall.hms(o.sent_at), o.seq);
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
        self.primary_group = info.first().primary.clone();
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
        let fallback = match &info.first().fallback {
            Some(model) => format!("{model} (expected, from the proxy's fallbacks)"),
            None => "whatever the proxy's fallbacks route to".to_owned(),
        };
        let how_to_test = if info.simulated {
            "[*] To test failover: the demo's script, or its keys on the dashboard, take the primary down"
        } else {
            "[*] To test failover: scale the primary down in another terminal"
        };
        writeln!(self.out, "{RULE}")?;
        writeln!(self.out, "{title}")?;
        writeln!(self.out, "{RULE}")?;
        writeln!(self.out, "  Proxy: {}", info.first().url)?;
        writeln!(self.out, "  Primary Model: {}", info.first().primary)?;
        writeln!(self.out, "  Fallback Model: {fallback}")?;
        writeln!(
            self.out,
            "  Request Interval: {}",
            interval(info.first().interval)
        )?;
        writeln!(
            self.out,
            "  Requests: {}, timeout {}",
            if info.first().stream {
                "streamed"
            } else {
                "normal"
            },
            interval(info.first().timeout)
        )?;
        match info.first().lane.mode {
            DirectMode::Quiet => writeln!(
                self.out,
                "  Primary's lane: quiet (LiteLLM's health check while it is away; a direct probe \
                 only into LiteLLM's cooldown)"
            )?,
            DirectMode::Probe => writeln!(
                self.out,
                "  Direct probes: on (the primary alone, disable_fallbacks: its own state)"
            )?,
            DirectMode::Off => {}
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
                Some(change) => self.primary(change)?,
                None => return Ok(()),
            },
            Told::Proxy(told) => match &told.now {
                Some(now) => writeln!(
                    self.out,
                    "[{}] LiteLLM's view (its metrics): {}",
                    self.wall.hms(told.at),
                    now.parts(&self.primary_group).join(" · ")
                )?,
                // The notice says it.
                None => return Ok(()),
            },
            Told::Request(told) => {
                if let Some(t) = &told.transition {
                    self.banner(t)?;
                }
                self.request(&told.outcome, told.late)?;
                if let Some(change) = &told.change {
                    self.primary(change)?;
                }
            }
            Told::Probe(ProbeEvent::Skipped { at, in_flight, .. }) => {
                writeln!(
                    self.out,
                    "[{}] {}",
                    self.wall.hms(*at),
                    self.palette.yellow(&format!(
                        "Tick skipped: {in_flight} requests still in flight (--max-in-flight)"
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
                    "[{}] {what} #{seq}: … NO ANSWER  (abandoned at exit after {})",
                    self.wall.hms(*sent_at),
                    span(at.saturating_sub(*sent_at))
                )?;
                writeln!(self.out)?;
            }
            Told::Notice { notice, .. } => self.notice(notice)?,
            Told::Marker(marker) => self.marker(marker)?,
            Told::Reset { .. } | Told::Interval { .. } => return Ok(()),
        }
        self.out.flush()
    }

    fn end(&mut self, watch: &Watch, now: Duration) -> io::Result<()> {
        self.summary(watch.target(TargetId::default()), now)
    }

    fn close(&mut self) -> Result<Option<String>, String> {
        Ok(self.out.finish())
    }
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

    fn notice(&mut self, notice: &Notice) -> io::Result<()> {
        let line = format!("[!] {}", notice.message);
        writeln!(
            self.out,
            "[{}] {}",
            self.wall.hms(notice.at),
            self.palette.yellow(&line)
        )?;
        writeln!(self.out)
    }

    /// The summary of the run that ended at `now`.
    pub fn summary(&mut self, monitor: &Monitor, now: Duration) -> io::Result<()> {
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
        writeln!(self.out, "{}", self.title)?;
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
                now.parts(&self.primary_group).join(" · ")
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
