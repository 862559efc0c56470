//! The command line. Every option can also come from an environment variable.

pub mod config;
pub mod targets;

pub use crate::modes::demo::{DemoArgs, GatewayArgs};
pub use crate::modes::drill::DrillArgs;
pub use crate::report::ReportArgs;
pub use crate::run::plan::OutputFormat;

use std::path::PathBuf;
use std::time::Duration;

use std::net::SocketAddr;

use clap::builder::BoolishValueParser;
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::clock::duration;
use crate::testkit::{Api, MODES_HELP, Mode};

const KEYS_HELP: &str = "\
API key:
  Read from LITELLM_API_KEY, else OPENAI_API_KEY, or from --api-key-file. No flag takes the
  key itself (it would show in `ps`). A proxy without a master key needs none. The key is
  never printed, logged or recorded.

Exit status:
  0 when the run ends (Ctrl-C, SIGTERM, --count, --duration); 1 with --fail-on-error when a
  request failed or was never answered; 2 for bad usage or configuration.

Environment:
  Every option can come from the variable shown; switches take 1/0, true/false, yes/no, on/off.";

#[derive(Debug, Parser)]
#[command(
    name = "failover-watch",
    version,
    about = "Shows, live, which model really serves the requests sent through a LiteLLM proxy: \
             the primary, its fallback, or nothing.",
    after_help = KEYS_HELP,
    args_conflicts_with_subcommands = true,
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    #[command(flatten)]
    pub watch: WatchArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a mock upstream model server (OpenAI or Ollama API) whose faults can be switched
    /// while it runs, for tests and rehearsals behind a real LiteLLM proxy.
    #[command(after_help = MOCK_HELP)]
    MockUpstream(MockArgs),

    /// Check a proxy before going on stage or into maintenance: reachable, key accepted,
    /// the primary group's deployments, who serves a request, the primary and the fallback on
    /// their own, the router's timeout. Exit 0 when the primary serves and the fallback
    /// answers, 1 when something is wrong (with the fix), 2 when it could not check.
    Check(Box<CheckArgs>),

    /// Run the dashboard against a simulated LiteLLM gateway built in, whose deployments keys
    /// and scripts take down and bring back: rehearse anywhere, no proxy needed.
    Demo(Box<DemoCommand>),

    /// Run a failover drill against a real proxy: check it, watch a baseline, take the primary
    /// down (--down COMMAND, or by hand), hold, bring it back (--up COMMAND), watch it settle,
    /// then report, judged by budgets. Exit 0 when every budget held, 1 when one broke, 2 when
    /// the drill could not run, 3 when the up command failed, 130 when interrupted (after the
    /// up command).
    #[command(after_help = DRILL_HELP)]
    Drill(Box<DrillCommand>),

    /// Play a record (`--record FILE`, or `--output jsonl`) back on the same dashboard, or as
    /// the text story or JSON lines: at its own pace, faster, or at once.
    Replay(ReplayArgs),

    /// Report on a record (a run's, or a drill's): the timeline relative to the fault, the
    /// time to fail over and to recover, the requests by phase, and budgets judged PASS or
    /// FAIL, as text, Markdown, JSON, JUnit or one self-contained HTML page. Exit 0 when
    /// every budget held, 1 when one broke, 2 when the record cannot be read.
    Report(ReportArgs),

    /// Drop a marker ("scaled to 0") on the timeline of the failover-watch runs of this user,
    /// from a script: `failover-watch mark "scale down" && oc scale ... --replicas=0`.
    Mark(MarkArgs),

    /// Print the completion script for a shell: `source <(failover-watch completions bash)`,
    /// or save it where the shell looks (see the docs' install steps).
    Completions(CompletionsArgs),

    /// Print the manual page (roff): `failover-watch man | man -l -`, or save it as
    /// `failover-watch.1` in a man directory.
    Man,
}

/// `completions`: which shell.
#[derive(Debug, Clone, Args)]
pub struct CompletionsArgs {
    #[arg(value_enum)]
    pub shell: Shell,
}

/// The shells completions are written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
}

/// `replay`: which record, how fast, in which output.
#[derive(Debug, Clone, Args)]
pub struct ReplayArgs {
    /// The record: JSON lines written by `--record` or `--output jsonl`.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,

    /// Play this many times faster than the run went, from 1/64 (0.015625) to 64 (`+`/`-`
    /// change it in the dashboard).
    #[arg(long, default_value_t = 1.0, value_name = "FACTOR", value_parser = speed)]
    pub speed: f64,

    /// Which run of the file to play, from 1, when several were recorded into it (`--record`
    /// appends). [default: the last]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub run: Option<u64>,

    /// Everything at once, then the summary: for the text story and JSON lines.
    #[arg(long)]
    pub instant: bool,

    /// `tui`: the dashboard; `text`: the story (a handout for a report); `jsonl`: the lines
    /// again; `none`: nothing but the exit status (2 for a damaged record: a check).
    /// [default: tui when stdout is a terminal, else text]
    #[arg(long, value_enum)]
    pub output: Option<OutputFormat>,

    /// The dashboard's colours. [default: dark, mono when NO_COLOR is set]
    #[arg(long, env = "FAILOVER_WATCH_THEME", value_enum)]
    pub theme: Option<ThemeArg>,

    /// Write logs here; `-` for stderr (in a container). They never go to the dashboard.
    #[arg(long, env = "FAILOVER_WATCH_LOG_FILE", value_name = "PATH", default_value_os_t = crate::sys::logging::default_log_file())]
    pub log_file: PathBuf,
}

/// A replay's speed: a factor from its slowest to its fastest.
fn speed(text: &str) -> Result<f64, String> {
    let factor: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a number"))?;
    if (crate::modes::replay::SLOWEST..=crate::modes::replay::FASTEST).contains(&factor) {
        Ok(factor)
    } else {
        Err("the speed is a factor from 1/64 (0.015625) to 64".to_owned())
    }
}

/// `mark`: the label, and which run.
#[derive(Debug, Clone, Args)]
pub struct MarkArgs {
    /// What happens now ("scaled to 0"); none for an unlabelled marker.
    #[arg(value_name = "LABEL")]
    pub label: Option<String>,

    /// Only the run of this process id, when several run.
    #[arg(long, value_name = "PID")]
    pub to: Option<u32>,
}

/// `demo`: what to simulate, and how to watch it; or a drill rehearsed on it.
#[derive(Debug, Clone, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct DemoCommand {
    #[command(subcommand)]
    pub rehearsal: Option<DemoSubcommand>,

    #[command(flatten)]
    pub demo: DemoArgs,

    #[command(flatten)]
    pub probe: ProbeArgs,
}

/// What the demo rehearses.
#[derive(Debug, Clone, Subcommand)]
pub enum DemoSubcommand {
    /// Rehearse a drill on the simulated gateway: `failover-watch drill`, the simulated
    /// primary taken down and brought back by the steps (after --down and --up, when given:
    /// rehearse the commands too).
    #[command(after_help = DRILL_HELP)]
    Drill(Box<DemoDrillCommand>),
}

/// `demo drill`: the drill, the gateway it plays on, how to watch it.
#[derive(Debug, Clone, Args)]
pub struct DemoDrillCommand {
    #[command(flatten)]
    pub drill: DrillArgs,

    #[command(flatten)]
    pub gateway: GatewayArgs,

    #[command(flatten)]
    pub probe: ProbeArgs,
}

/// `drill`: the drill, the proxy, how to watch it.
#[derive(Debug, Clone, Args)]
pub struct DrillCommand {
    #[command(flatten)]
    pub drill: DrillArgs,

    #[command(flatten)]
    pub proxy: ProxyArgs,

    #[command(flatten)]
    pub targets: TargetsArgs,

    #[command(flatten)]
    pub probe: ProbeArgs,
}

const DRILL_HELP: &str = "\
Steps:
  check (a problem stops the drill unless --force), the baseline, the down command (marked
  \"drill: down\" at its end), the hold, the up command (marked \"drill: up\" at its end), the
  settle; then the report of the record (--record, by default drill-PRIMARY-TIME.jsonl here).
  The up command runs whenever the down command ran: on success, on a budget broken with
  --abort-on-breach, on Ctrl-C or a signal, on the watch's own error. Commands run with
  `sh -c` in a process group of their own, without the key in their environment (unless
  --pass-key), cut after --command-timeout; their output is kept (64 KiB each) and redacted.

Exit status:
  0 every budget held; 1 a budget broke; 2 the drill could not run (check, the down command,
  bad usage); 3 the up command failed: the primary may be left down; 130 interrupted, after
  the up command. The reason is said in one line on stderr.";

const MOCK_HELP: &str = "\
Control (same port):
  GET  /__mock          mode and request counts
  POST /__mock/mode     body: the new mode, e.g. `curl -d 500 http://127.0.0.1:PORT/__mock/mode`
For \"connection refused\", stop the process.";

#[derive(Debug, Clone, Args)]
pub struct MockArgs {
    /// The API to speak: openai or ollama.
    #[arg(long, env = "MOCK_UPSTREAM_API")]
    pub api: Api,

    /// Address to listen on (port 0 picks a free one; the address is printed once ready).
    #[arg(long, env = "MOCK_UPSTREAM_LISTEN", default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,

    /// The model name the mock reports.
    #[arg(long, env = "MOCK_UPSTREAM_MODEL")]
    pub model: String,

    /// The text of every reply.
    #[arg(long, env = "MOCK_UPSTREAM_REPLY", default_value = "Hi.")]
    pub reply: String,

    /// The fault to start with.
    #[arg(long, env = "MOCK_UPSTREAM_MODE", default_value = "ok", help = format!("The fault to start with: {MODES_HELP}"))]
    pub mode: Mode,
}

/// Watching a proxy: where it is, and how to probe it.
#[derive(Debug, Clone, Args)]
pub struct WatchArgs {
    #[command(flatten)]
    pub proxy: ProxyArgs,

    #[command(flatten)]
    pub targets: TargetsArgs,

    #[command(flatten)]
    pub probe: ProbeArgs,
}

/// More targets than `--primary` names: every group with a fallback, or a file of them.
#[derive(Debug, Clone, Default, Args)]
pub struct TargetsArgs {
    /// Watch every model group of the proxy that has a fallback, each a target (as
    /// `GET /router/settings` names them; where the key may not read them, every group of the
    /// model list, said once).
    #[arg(long, env = "FAILOVER_WATCH_ALL_GROUPS", value_parser = BoolishValueParser::new(), conflicts_with = "targets")]
    pub all_groups: bool,

    /// Watch the targets this TOML file lists, on one proxy or several: a `[[target]]` table
    /// each with `url` and `primary`, and, as they choose, `name`, `fallback`, `api_key_env`
    /// or `api_key_file`, `interval`, `timeout`, `stream`, `direct` (the options' meanings;
    /// what a target leaves out, the options say).
    #[arg(long, env = "FAILOVER_WATCH_TARGETS", value_name = "FILE")]
    pub targets: Option<PathBuf>,
}

/// `check`: the proxy, what to ask it, and how to tell the result.
#[derive(Debug, Clone, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub proxy: ProxyArgs,

    #[command(flatten)]
    pub target: TargetArgs,

    #[command(flatten)]
    pub targets: TargetsArgs,

    /// `text`: a line per check, with the fix where something is wrong (each line led by the
    /// target's name when there are several); `json`: one object.
    #[arg(
        long,
        env = "FAILOVER_WATCH_CHECK_OUTPUT",
        value_enum,
        default_value = "text"
    )]
    pub output: CheckOutput,

    /// Write logs here; `-` for stderr (in a container). They never go to the dashboard.
    #[arg(long, env = "FAILOVER_WATCH_LOG_FILE", value_name = "PATH", default_value_os_t = crate::sys::logging::default_log_file())]
    pub log_file: PathBuf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CheckOutput {
    Text,
    Json,
}

/// Where the proxy is and how to reach it.
#[derive(Debug, Clone, Args)]
pub struct ProxyArgs {
    /// The LiteLLM proxy: its root, `/v1` or `/v1/chat/completions`, with `http://` or `https://`.
    #[arg(
        long,
        env = "FAILOVER_WATCH_URL",
        default_value = "http://127.0.0.1:4000"
    )]
    pub url: String,

    /// Read the API key from this file (its first line, trimmed).
    #[arg(long, env = "FAILOVER_WATCH_API_KEY_FILE", value_name = "PATH")]
    pub api_key_file: Option<PathBuf>,
}

/// What every request asks, and how long it may take.
#[derive(Debug, Clone, Args)]
pub struct TargetArgs {
    /// The primary model group: the `model` of every request; repeat it (or separate by
    /// commas) to watch several groups of the proxy, each a target. [default: llama-fp8]
    #[arg(
        long,
        env = "FAILOVER_WATCH_PRIMARY",
        value_name = "MODEL",
        value_delimiter = ','
    )]
    pub primary: Vec<String>,

    /// The fallback model group you expect (with one primary): shown, and asked on its own by
    /// `check`.
    #[arg(long, env = "FAILOVER_WATCH_FALLBACK", value_name = "MODEL")]
    pub fallback: Option<String>,

    /// Limit for one request, from sending to the complete answer, from 1ms to 1h. Above the
    /// proxy's router timeout (30 s in the usual setups), a hung primary's requests show as
    /// slow fallbacks rather than timeouts. [default: 60s]
    #[arg(long, env = "FAILOVER_WATCH_TIMEOUT", value_name = "DURATION", value_parser = duration::wait)]
    pub timeout: Option<Duration>,

    /// The prompt of every request.
    #[arg(long, env = "FAILOVER_WATCH_PROMPT", default_value = "Say hi")]
    pub prompt: String,

    /// `max_tokens` of every request.
    #[arg(long, env = "FAILOVER_WATCH_MAX_TOKENS", default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub max_tokens: u32,

    /// Stream the answers (SSE) and measure the time to the first token.
    #[arg(long, env = "FAILOVER_WATCH_STREAM", value_parser = BoolishValueParser::new())]
    pub stream: bool,
}

/// How to probe and what to print; shared by watching a proxy and the demo.
#[derive(Debug, Clone, Args)]
pub struct ProbeArgs {
    #[command(flatten)]
    pub target: TargetArgs,

    /// Time between two probes, from 1ms to 1h (`3s`, `500ms`, `1m`; a bare number is
    /// seconds). Probes leave on this schedule whether or not earlier ones have answered.
    #[arg(long, env = "FAILOVER_WATCH_INTERVAL", default_value = "3s", value_name = "DURATION", value_parser = duration::wait)]
    pub interval: Duration,

    /// How to watch the primary's own state (why traffic left it, LiteLLM's cooldown, when it
    /// answers again). `quiet`: LiteLLM's health check (`GET /health?model=`, which does not
    /// count in LiteLLM's failure tally) while the primary is away, and a direct probe only
    /// once the requests must have started LiteLLM's cooldown (it meets the cooldown: free);
    /// recovery times as without the lane. `probe`: a direct probe (`disable_fallbacks`)
    /// beside every request, each failure counted by LiteLLM (its cooldown starts a tick
    /// earlier and is renewed at its end while the primary is still down), for gateways
    /// without a health check. `off`: the requests only. (`on` is `quiet`.)
    #[arg(
        long,
        env = "FAILOVER_WATCH_DIRECT",
        default_value = "quiet",
        value_name = "MODE",
        value_enum
    )]
    pub direct: crate::probe::DirectMode,

    /// LiteLLM's own metrics, read beside the probes (at most every 5 s) and shown next to the
    /// watcher's view: the state LiteLLM gives the primary's deployments, the cooldowns and
    /// fallbacks it counted. `auto`: the proxy's `/metrics/`, tried once (a proxy without
    /// LiteLLM's Prometheus callback is said once); `off`; or the URL of its metrics (a
    /// separate metrics port).
    #[arg(
        long,
        env = "FAILOVER_WATCH_PROXY_METRICS",
        default_value = "auto",
        value_name = "auto|off|URL",
        value_parser = proxy_metrics
    )]
    pub proxy_metrics: crate::probe::ProxyMetrics,

    /// Send this many probes, wait for their answers, then end.
    #[arg(long, env = "FAILOVER_WATCH_COUNT", value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub count: Option<u64>,

    /// End after this long (`10m`, `2h`).
    #[arg(long, env = "FAILOVER_WATCH_DURATION", value_name = "DURATION", value_parser = duration::positive)]
    pub duration: Option<Duration>,

    /// The most requests a second the run may send one proxy: over its targets, a probe a
    /// tick, a direct probe beside each with `--direct probe`, and with `--direct quiet` at
    /// most LiteLLM's health check every 5 s while the primary is away (each a real
    /// completion). A plan over it is refused, naming the interval that fits; `+` on the
    /// dashboard stops there. [default: no cap]
    #[arg(long, env = "FAILOVER_WATCH_MAX_RATE", value_name = "RPS", value_parser = max_rate)]
    pub max_rate: Option<f64>,

    /// Unanswered probes allowed at once; a tick that finds this many is skipped and reported.
    #[arg(long, env = "FAILOVER_WATCH_MAX_IN_FLIGHT", default_value_t = 10, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=1000))]
    pub max_in_flight: u64,

    /// Consecutive failed requests after which the state is DOWN (an outage).
    #[arg(long, env = "FAILOVER_WATCH_DOWN_AFTER", default_value_t = 2, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub down_after: u32,

    /// `tui`: the live dashboard; `text`: the story line by line; `jsonl`: one JSON object per
    /// line; `none`: nothing (a service that exports `--metrics-listen`). [default: tui when
    /// stdout is a terminal, else text]
    #[arg(long, env = "FAILOVER_WATCH_OUTPUT", value_enum)]
    pub output: Option<OutputFormat>,

    /// Serve Prometheus metrics (`GET /metrics`) and liveness (`GET /healthz`) on this
    /// address: `127.0.0.1:9464`, `localhost:9464` (this machine only), `:9464` or
    /// `0.0.0.0:9464` (every interface: in a container), `[::1]:9464`.
    #[arg(long, env = "FAILOVER_WATCH_METRICS_LISTEN", value_name = "ADDR", value_parser = listen_address)]
    pub metrics_listen: Option<std::net::SocketAddr>,

    /// The dashboard's colours (`t` cycles them live). [default: dark, mono when NO_COLOR is set]
    #[arg(long, env = "FAILOVER_WATCH_THEME", value_enum)]
    pub theme: Option<ThemeArg>,

    /// Also append the run as JSON lines to this file, whatever the output (a record of a
    /// dashboard session).
    #[arg(long, env = "FAILOVER_WATCH_RECORD", value_name = "PATH")]
    pub record: Option<PathBuf>,

    /// Write logs here; `-` for stderr (in a container). They never go to the dashboard.
    #[arg(long, env = "FAILOVER_WATCH_LOG_FILE", value_name = "PATH", default_value_os_t = crate::sys::logging::default_log_file())]
    pub log_file: PathBuf,

    /// Exit with status 1 when any request failed or was never answered.
    #[arg(long, env = "FAILOVER_WATCH_FAIL_ON_ERROR", value_parser = BoolishValueParser::new())]
    pub fail_on_error: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ThemeArg {
    Dark,
    Light,
    Mono,
}

/// An address to listen on: `HOST:PORT` with an IP address, `localhost:PORT` (loopback) or
/// `:PORT` (every interface, as Prometheus writes it).
fn listen_address(text: &str) -> Result<SocketAddr, String> {
    let text = text.trim();
    let with_host = match text.strip_prefix(':') {
        Some(port) => format!("0.0.0.0:{port}"),
        None => match text.strip_prefix("localhost:") {
            Some(port) => format!("127.0.0.1:{port}"),
            None => text.to_owned(),
        },
    };
    with_host.parse().map_err(|_| {
        format!(
            "{text:?} is not an address to listen on: give IP:PORT (127.0.0.1:9464), \
             localhost:PORT or :PORT (every interface)"
        )
    })
}

/// `--max-rate`: requests a second, a positive number (`0.5`, `20`).
fn max_rate(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(rate) if rate.is_finite() && rate > 0.0 => Ok(rate),
        _ => Err(format!(
            "{text:?} is not a rate: give requests a second, a positive number (0.5, 20)"
        )),
    }
}

/// `--proxy-metrics`: `auto`, `off` (or a switch's no), or an `http(s)://` URL.
fn proxy_metrics(value: &str) -> Result<crate::probe::ProxyMetrics, String> {
    use crate::probe::ProxyMetrics;
    match value.trim() {
        "auto" | "on" | "true" | "yes" | "1" => Ok(ProxyMetrics::Auto),
        "off" | "false" | "no" | "0" => Ok(ProxyMetrics::Off),
        url => match reqwest::Url::parse(url) {
            Ok(parsed) if matches!(parsed.scheme(), "http" | "https") => {
                Ok(ProxyMetrics::At(parsed.to_string()))
            }
            _ => Err(format!(
                "{url:?} is not auto, off or an http(s):// URL of LiteLLM's metrics"
            )),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_listen_address_takes_the_usual_forms() {
        let ok = |text: &str| listen_address(text).unwrap().to_string();
        assert_eq!(ok("127.0.0.1:9464"), "127.0.0.1:9464");
        assert_eq!(ok("localhost:9464"), "127.0.0.1:9464");
        assert_eq!(ok(":9464"), "0.0.0.0:9464");
        assert_eq!(ok("[::1]:9464"), "[::1]:9464");
        for wrong in ["9464", "host:9464", ":", "localhost", "127.0.0.1:99999"] {
            assert!(
                listen_address(wrong).unwrap_err().contains("IP:PORT"),
                "{wrong}"
            );
        }
    }

    #[test]
    fn an_interval_is_from_a_millisecond_to_an_hour() {
        let wait = duration::wait;
        assert_eq!(wait("1ms"), Ok(Duration::from_millis(1)));
        assert_eq!(wait("1h"), Ok(Duration::from_secs(3600)));
        for wrong in ["1us", "0.0001", "0", "61m", "10y", "1e300"] {
            let error = wait(wrong).unwrap_err();
            assert!(error.contains("from 1ms to 1h"), "{wrong}: {error}");
        }
    }

    #[test]
    fn the_command_line_is_consistent() {
        crate::commands::command().debug_assert();
    }
}
