//! `report`'s options, on the command line under `failover-watch report`.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};

use super::Budgets;
use crate::clock::duration;

/// Which record, which budgets, which format.
#[derive(Debug, Clone, Args)]
pub struct ReportArgs {
    /// The record: JSON lines written by `--record` or `--output jsonl`.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,

    /// `text`: for the terminal; `markdown`: to paste in a ticket; `json`: a stable schema
    /// (report_version); `junit`: one test case per budget, for CI; `html`: one
    /// self-contained page with the timeline drawn.
    #[arg(
        long,
        env = "FAILOVER_WATCH_REPORT_FORMAT",
        value_enum,
        default_value = "text"
    )]
    pub format: ReportFormat,

    /// Write the report to this file instead of stdout.
    #[arg(long, short = 'o', value_name = "PATH")]
    pub out: Option<PathBuf>,

    /// Which run of the file, from 1, when several were recorded into it. [default: the last]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub run: Option<u64>,

    /// Which target of a record of several, by its name (as the record's lines name it).
    /// [default: the first]
    #[arg(long, value_name = "NAME")]
    pub target: Option<String>,

    #[command(flatten)]
    pub budgets: BudgetArgs,

    /// A drill's setup to show (JSON: the router's settings as the proxy stated them, the
    /// commands with their exit status and output; see docs/report.md), for a drill run by a
    /// script.
    #[arg(long, value_name = "FILE")]
    pub drill: Option<PathBuf>,
}

/// The budgets a run is judged by: `report`'s, and a drill's.
#[derive(Debug, Clone, Args)]
pub struct BudgetArgs {
    /// Budget: at most this many failed requests in the run.
    #[arg(long, value_name = "N")]
    pub max_failed: Option<u64>,

    /// Budget: at most this long from the fault (a drill's: its down command's end) to the
    /// first fallback answer (`30s`).
    #[arg(long, value_name = "DURATION", value_parser = duration::parse)]
    pub max_failover: Option<Duration>,

    /// Budget: at most this long from the up (a drill's: its up command's end) to the first
    /// primary answer through the proxy.
    #[arg(long, value_name = "DURATION", value_parser = duration::parse)]
    pub max_recovery: Option<Duration>,

    /// Budget: at least this share of the answered requests served, in percent (`99.5`).
    #[arg(long, value_name = "PCT", value_parser = percent)]
    pub min_availability: Option<f64>,

    /// Budget: of a record of several targets, the ones not reported on (a drill's: not
    /// drilled) never change who serves them.
    #[arg(long)]
    pub others_steady: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Text,
    Markdown,
    Json,
    Junit,
    Html,
}

impl BudgetArgs {
    pub fn budgets(&self) -> Budgets {
        Budgets {
            max_failed: self.max_failed,
            max_failover: self.max_failover,
            max_recovery: self.max_recovery,
            min_availability: self.min_availability,
            others_steady: self.others_steady,
        }
    }
}

/// A percentage from 0 to 100, `%` allowed.
fn percent(text: &str) -> Result<f64, String> {
    let number = text.trim().trim_end_matches('%').trim();
    match number.parse::<f64>() {
        Ok(p) if (0.0..=100.0).contains(&p) => Ok(p),
        _ => Err(format!("{text:?} is not a percentage from 0 to 100")),
    }
}
