//! What a run needs, resolved and checked (by `cli::config` from the options, by a replay from
//! its record): what to probe and when, and how to show it.

use std::sync::Arc;

use std::path::PathBuf;
use std::time::Duration;

use crate::output::RunInfo;
use crate::probe::{ProbeSettings, Schedule};
use crate::ui::ThemeName;

/// The limit of one request when none is given: above LiteLLM's usual router timeout (30 s in
/// the common setups), so that a hung primary's fallback answers are seen, not cut off.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// Values a configuration file supplies for the options the user left out.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Layer {
    /// The targets it names: each primary group and its expected fallback.
    pub targets: Vec<(String, Option<String>)>,
    pub timeout: Option<Duration>,
    pub duration: Option<Duration>,
}

/// Everything a run needs, checked: its targets, each probed on its own schedule, in the
/// order their [`TargetId`](crate::probe::TargetId)s number them.
#[derive(Clone, Debug)]
pub struct Plan {
    pub targets: Vec<TargetPlan>,
    pub show: Show,
}

/// What one target's probes ask, and when they leave.
#[derive(Clone, Debug)]
pub struct TargetPlan {
    pub probe: ProbeSettings,
    pub schedule: Schedule,
}

impl Plan {
    /// Each target's schedule beside its prober (`probers` in the targets' order).
    pub fn schedules<P>(&self, probers: Vec<Arc<P>>) -> Vec<(Arc<P>, Schedule)> {
        probers
            .into_iter()
            .zip(&self.targets)
            .map(|(prober, target)| (prober, target.schedule.clone()))
            .collect()
    }
}

/// How a run shows itself, whatever feeds it (a proxy, the demo, a record).
#[derive(Clone, Debug)]
pub struct Show {
    pub info: RunInfo,
    pub output: OutputFormat,
    /// Colour in the text output.
    pub color: bool,
    /// The dashboard's first theme.
    pub theme: ThemeName,
    /// A JSON lines copy of the run (`--record`).
    pub record: Option<PathBuf>,
    /// Where to serve the metrics (`--metrics-listen`).
    pub metrics_listen: Option<std::net::SocketAddr>,
    pub fail_on_error: bool,
}

/// How a run is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    Tui,
    Text,
    Jsonl,
    /// Nothing on stdout: a service that only exports metrics (or only records).
    None,
}
