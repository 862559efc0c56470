//! The drill's own options, on the command line under `failover-watch drill` and
//! `failover-watch demo drill`.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use clap::builder::BoolishValueParser;

use crate::clock::duration;
use crate::report::{BudgetArgs, ReportFormat};

/// How the drill takes the primary down and brings it back, when, and what it is judged by.
#[derive(Debug, Clone, Args)]
pub struct DrillArgs {
    /// Of several targets (`--primary A,B`, `--targets FILE`, `--all-groups`), the one the
    /// down command takes down, by name; the others are watched beside it and must not move
    /// (a budget: a change of who serves one of them breaks the drill).
    #[arg(long, env = "FAILOVER_WATCH_DRILL_ONLY_TARGET", value_name = "NAME")]
    pub only_target: Option<String>,

    /// The shell command that takes the primary down, run with `sh -c` once the baseline is
    /// over, e.g. 'kubectl scale deploy/llama-fp8 --replicas=0'. Without --down and --up, a
    /// person does the steps: the drill says when, and marks the moments.
    #[arg(
        long,
        env = "FAILOVER_WATCH_DRILL_DOWN",
        value_name = "COMMAND",
        requires = "up"
    )]
    pub down: Option<String>,

    /// The shell command that brings the primary back, run with `sh -c` after --hold. It runs
    /// whenever the down command ran: on success, a budget broken (--abort-on-breach), Ctrl-C
    /// or a signal, or the watch's own error.
    #[arg(
        long,
        env = "FAILOVER_WATCH_DRILL_UP",
        value_name = "COMMAND",
        requires = "down"
    )]
    pub up: Option<String>,

    /// How long to watch before taking the primary down.
    #[arg(long, env = "FAILOVER_WATCH_DRILL_BASELINE", default_value = "10s", value_name = "DURATION", value_parser = duration::parse)]
    pub baseline: Duration,

    /// How long the primary stays down: from the down command's end to the up command.
    #[arg(long, env = "FAILOVER_WATCH_DRILL_HOLD", default_value = "30s", value_name = "DURATION", value_parser = duration::parse)]
    pub hold: Duration,

    /// How long to watch after the up command's end (keep it above the router's
    /// cooldown_time to see the traffic come back).
    #[arg(long, env = "FAILOVER_WATCH_DRILL_SETTLE", default_value = "30s", value_name = "DURATION", value_parser = duration::parse)]
    pub settle: Duration,

    /// The longest a command may run, from 1ms to 1h; then its process group is killed and the
    /// step counts as failed.
    #[arg(long, env = "FAILOVER_WATCH_DRILL_COMMAND_TIMEOUT", default_value = "5m", value_name = "DURATION", value_parser = duration::wait)]
    pub command_timeout: Duration,

    /// Leave the key (LITELLM_API_KEY, OPENAI_API_KEY) and the FAILOVER_WATCH_* variables in
    /// the commands' environment; they are taken out otherwise.
    #[arg(long, env = "FAILOVER_WATCH_DRILL_PASS_KEY", value_parser = BoolishValueParser::new())]
    pub pass_key: bool,

    /// Drill even when `check` finds a problem with the proxy.
    #[arg(long, env = "FAILOVER_WATCH_DRILL_FORCE", value_parser = BoolishValueParser::new())]
    pub force: bool,

    /// Stop the drill as soon as a budget is broken for good (--max-failed exceeded, no
    /// failover or recovery within its budget): the up command runs at once.
    #[arg(long, env = "FAILOVER_WATCH_DRILL_ABORT_ON_BREACH", value_parser = BoolishValueParser::new())]
    pub abort_on_breach: bool,

    /// Print the plan and exit 0: nothing is checked, run or recorded.
    #[arg(long)]
    pub dry_run: bool,

    #[command(flatten)]
    pub budgets: BudgetArgs,

    /// The report at the end, on stdout: `text`, `markdown`, `json`, `junit` or `html` (see
    /// `failover-watch report`).
    #[arg(
        long,
        env = "FAILOVER_WATCH_DRILL_FORMAT",
        value_enum,
        default_value = "text"
    )]
    pub format: ReportFormat,

    /// Also write the report to this file.
    #[arg(long, env = "FAILOVER_WATCH_DRILL_REPORT", value_name = "PATH")]
    pub report: Option<PathBuf>,
}
