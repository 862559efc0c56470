//! A drill resolved before anything starts: how its steps are carried out, its timings and
//! budgets, where it records; and the plan as `--dry-run` prints it. Pure.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Local};
use clap::ValueEnum;

use super::DrillArgs;
use super::course::Timings;
use crate::output::RunInfo;
use crate::probe::TargetId;
use crate::report::{Budgets, ReportFormat};
use crate::text::format;
use crate::text::sanitize::clean;

/// The longest a command is shown in the plan and the status lines.
const COMMAND_CHARS: usize = 300;

/// The shell commands of the two steps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Commands {
    pub down: String,
    pub up: String,
}

/// How the steps are carried out: shell commands, the demo's simulated primary, both (a
/// rehearsal of the commands), or neither: a person, told when.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Steps {
    pub commands: Option<Commands>,
    pub simulated: bool,
}

impl Steps {
    /// A person does the steps: the drill says when and marks the moments.
    pub fn by_hand(&self) -> bool {
        self.commands.is_none() && !self.simulated
    }

    /// The down step in words.
    pub fn down_said(&self, primary: &str) -> String {
        self.said(primary, |c| &c.down, "down")
    }

    /// The up step in words.
    pub fn up_said(&self, primary: &str) -> String {
        self.said(primary, |c| &c.up, "back up")
    }

    fn said(&self, primary: &str, command: fn(&Commands) -> &String, word: &str) -> String {
        let simulated = format!("the simulated {primary} {word}");
        match (&self.commands, self.simulated) {
            (Some(commands), false) => format!("sh -c {}", quoted(command(commands))),
            (Some(commands), true) => {
                format!("sh -c {}, then {simulated}", quoted(command(commands)))
            }
            (None, true) => simulated,
            (None, false) => format!("by hand: {primary} {word} (the drill says when)"),
        }
    }
}

/// A command as the plan shows it: cleaned of controls, in quotes.
fn quoted(command: &str) -> String {
    format!("'{}'", clean(command, COMMAND_CHARS))
}

/// Everything a drill needs besides what it watches, checked.
#[derive(Clone, Debug)]
pub struct DrillPlan {
    pub steps: Steps,
    pub timings: Timings,
    pub command_timeout: Duration,
    pub pass_key: bool,
    pub force: bool,
    pub abort_on_breach: bool,
    pub budgets: Budgets,
    pub format: ReportFormat,
    /// Where the report is written besides stdout.
    pub report: Option<PathBuf>,
    /// Where the run is recorded (the report is computed from it).
    pub record: PathBuf,
    /// The target drilled, and its name when the run watches others beside it.
    pub target: TargetId,
    pub among: Option<String>,
}

impl DrillPlan {
    /// The drill `args` ask for, on the simulated gateway when `simulated`; the record goes to
    /// `record`, else to a file named for the drill and `started` in the current folder.
    pub fn new(
        args: &DrillArgs,
        record: Option<&Path>,
        primary: &str,
        simulated: bool,
        started: DateTime<Local>,
    ) -> Result<Self, String> {
        let commands = match (&args.down, &args.up) {
            (Some(down), Some(up)) => {
                if down.trim().is_empty() || up.trim().is_empty() {
                    return Err("--down and --up must each name a command".to_owned());
                }
                Some(Commands {
                    down: down.clone(),
                    up: up.clone(),
                })
            }
            (None, None) => None,
            // clap asks for both; the environment may give one.
            _ => {
                return Err(
                    "--down and --up go together: the drill always brings back what it took \
                     down"
                        .to_owned(),
                );
            }
        };
        Ok(Self {
            steps: Steps {
                commands,
                simulated,
            },
            timings: Timings {
                baseline: args.baseline,
                hold: args.hold,
                settle: args.settle,
            },
            command_timeout: args.command_timeout,
            pass_key: args.pass_key,
            force: args.force,
            abort_on_breach: args.abort_on_breach,
            budgets: args.budgets.budgets(),
            format: args.format,
            report: args.report.clone(),
            record: record.map_or_else(|| default_record(primary, started), Path::to_owned),
            target: TargetId::default(),
            among: None,
        })
    }

    /// The plan in lines, as `--dry-run` prints it.
    pub fn describe(&self, info: &RunInfo) -> String {
        let mut out = String::new();
        let line = |out: &mut String, name: &str, value: &str| {
            let _ = writeln!(out, "  {name:<10} {value}");
        };
        let _ = writeln!(
            out,
            "drill plan (dry run: nothing is checked, run or recorded)"
        );
        let simulated = info.simulated;
        let targets = info.targets.len();
        let info = info.target(self.target);
        let fallback = info.fallback.as_deref().unwrap_or("its fallback");
        let proxy = match simulated {
            true => format!("{} (the demo's simulated gateway)", info.url),
            false => info.url.clone(),
        };
        line(&mut out, "proxy", &clean(&proxy, COMMAND_CHARS));
        line(
            &mut out,
            "watch",
            &clean(
                &format!(
                    "{} → {fallback}, a request every {}, timeout {}",
                    info.primary,
                    format::interval(info.interval),
                    format::interval(info.timeout)
                ),
                COMMAND_CHARS,
            ),
        );
        let check = match self.force {
            true => {
                "failover-watch check first; its problems are said, and the drill goes on (--force)"
            }
            false => {
                "failover-watch check first; a problem stops the drill (--force drills anyway)"
            }
        };
        if targets > 1 {
            let others = format!(
                "{} among {targets} targets: the others are watched and must not move",
                clean(&info.name, 100)
            );
            line(&mut out, "target", &others);
        }
        line(&mut out, "check", check);
        let t = &self.timings;
        let primary = clean(&info.primary, 100);
        line(
            &mut out,
            "baseline",
            &format!("watch for {}", format::interval(t.baseline)),
        );
        line(&mut out, "down", &self.steps.down_said(&primary));
        line(
            &mut out,
            "hold",
            &format!("{} from the down step's end", format::interval(t.hold)),
        );
        line(&mut out, "up", &self.steps.up_said(&primary));
        line(
            &mut out,
            "settle",
            &format!(
                "watch for {} from the up step's end",
                format::interval(t.settle)
            ),
        );
        if self.steps.commands.is_some() {
            let environment = match self.pass_key {
                true => "the key and FAILOVER_WATCH_* left in their environment (--pass-key)",
                false => "without the key nor FAILOVER_WATCH_* in their environment",
            };
            line(
                &mut out,
                "commands",
                &format!(
                    "each cut after {}, {environment}; the up command runs whenever the down \
                     command ran",
                    format::interval(self.command_timeout)
                ),
            );
        }
        let budgets: Vec<String> = self.budgets.given().into_iter().map(|b| b.text()).collect();
        let abort = match self.abort_on_breach {
            true => "; a budget broken for good stops the drill (--abort-on-breach)",
            false => "",
        };
        line(
            &mut out,
            "budgets",
            &match budgets.is_empty() {
                true => "none given".to_owned(),
                false => format!("{}{abort}", budgets.join("; ")),
            },
        );
        line(&mut out, "record", &self.record.display().to_string());
        let format = self
            .format
            .to_possible_value()
            .map_or(String::new(), |v| v.get_name().to_owned());
        let report = match &self.report {
            Some(path) => format!("{format} on stdout and in {}", path.display()),
            None => format!("{format} on stdout"),
        };
        line(&mut out, "report", &report);
        out
    }
}

/// `drill-llama-fp8-20261123-140000.jsonl`: the primary (anything but letters, digits, `.`,
/// `_` and `-` made a `-`) and the drill's start, in the current folder.
pub fn default_record(primary: &str, started: DateTime<Local>) -> PathBuf {
    let name: String = primary
        .chars()
        .take(60)
        .map(|c| match c {
            c if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') => c,
            _ => '-',
        })
        .collect();
    let name = name.trim_start_matches('.');
    PathBuf::from(format!(
        "drill-{name}-{}.jsonl",
        started.format("%Y%m%d-%H%M%S")
    ))
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Line {
        #[command(flatten)]
        drill: DrillArgs,
    }

    fn plan(args: &[&str]) -> Result<DrillPlan, String> {
        let line = Line::try_parse_from(std::iter::once("drill").chain(args.iter().copied()))
            .map_err(|e| e.to_string())?;
        let started = Local.with_ymd_and_hms(2026, 11, 23, 14, 5, 9).unwrap();
        DrillPlan::new(&line.drill, None, "openai/gpt 4", false, started)
    }

    #[test]
    fn the_record_is_named_for_the_drill_and_its_start() {
        let p = plan(&[]).unwrap();
        assert_eq!(
            p.record,
            PathBuf::from("drill-openai-gpt-4-20261123-140509.jsonl")
        );
        assert!(p.steps.by_hand());
        assert_eq!(
            (p.timings.baseline, p.timings.hold, p.timings.settle),
            (
                Duration::from_secs(10),
                Duration::from_secs(30),
                Duration::from_secs(30)
            )
        );
        assert_eq!(p.command_timeout, Duration::from_secs(300));
        let started = Local.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap();
        assert_eq!(
            default_record("../../etc/x", started),
            PathBuf::from("drill--..-etc-x-20260102-030405.jsonl")
        );
    }

    #[test]
    fn commands_come_in_pairs_and_say_what_they_do() {
        let p = plan(&[
            "--down",
            "kubectl scale --replicas=0",
            "--up",
            "kubectl scale --replicas=1",
        ])
        .unwrap();
        assert_eq!(
            p.steps.down_said("llama-fp8"),
            "sh -c 'kubectl scale --replicas=0'"
        );
        let rehearsed = Steps {
            simulated: true,
            ..p.steps.clone()
        };
        assert_eq!(
            rehearsed.up_said("llama-fp8"),
            "sh -c 'kubectl scale --replicas=1', then the simulated llama-fp8 back up"
        );
        assert!(plan(&["--down", "x"]).unwrap_err().contains("--up"));
        assert!(
            plan(&["--down", " ", "--up", "y"])
                .unwrap_err()
                .contains("must each name")
        );
        assert!(plan(&["--hold", "soon"]).is_err());
    }
}
