//! `--script`: faults switched at set times from the start, e.g.
//! `primary-down@10s,primary-up@40s`, or in a watched group named first:
//! `qwen-72b:primary-down@5s`. Pure.

use std::fmt;
use std::time::Duration;

use super::stage::{Fault, Side};

/// The story a headless demo tells when given no script: a failover, then a recovery once the
/// primary is back and its cooldown is over.
pub const BUILT_IN: &str = "primary-down@5s,primary-up@20s";

const TARGETS: &str = "primary or fallback";
const ACTIONS: &str = "down, error, hang, slow or up";

/// One step: a fault switched on a target at a time from the start.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cue {
    pub at: Duration,
    /// The watched primary group whose target it switches; `None`: the first.
    pub group: Option<String>,
    pub target: Side,
    pub fault: Fault,
}

impl fmt::Display for Cue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Seconds, as the script is written: `20s`, `2.5s`.
        let millis = self.at.as_millis();
        let at = match millis % 1000 {
            0 => format!("{}s", millis / 1000),
            _ => format!("{}s", (millis as f64) / 1000.0),
        };
        if let Some(group) = &self.group {
            write!(f, "{group}:")?;
        }
        write!(
            f,
            "{}-{}@{at}",
            target_name(self.target),
            fault_name(self.fault)
        )
    }
}

pub fn target_name(target: Side) -> &'static str {
    match target {
        Side::Primary => "primary",
        Side::Fallback => "fallback",
    }
}

pub fn fault_name(fault: Fault) -> &'static str {
    match fault {
        Fault::Down => "down",
        Fault::Error => "error",
        Fault::Hang => "hang",
        Fault::Slow => "slow",
        Fault::Up => "up",
    }
}

/// The cues in time order (cues at the same time keep their written order).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Script {
    cues: Vec<Cue>,
}

impl Script {
    /// Parses `TARGET-ACTION@TIME,...`; the reason names the step at fault.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut cues = text
            .split(',')
            .map(str::trim)
            .filter(|step| !step.is_empty())
            .map(|step| cue(step).map_err(|reason| format!("--script step {step:?}: {reason}")))
            .collect::<Result<Vec<_>, _>>()?;
        if cues.is_empty() {
            return Err(
                "--script has no steps (write them like primary-down@10s,primary-up@40s)"
                    .to_owned(),
            );
        }
        cues.sort_by_key(|c| c.at);
        Ok(Self { cues })
    }

    pub fn cues(&self) -> &[Cue] {
        &self.cues
    }

    /// The groups the cues name, each once, in the order first named.
    pub fn groups(&self) -> Vec<&str> {
        let mut groups: Vec<&str> = Vec::new();
        for group in self.cues.iter().filter_map(|c| c.group.as_deref()) {
            if !groups.contains(&group) {
                groups.push(group);
            }
        }
        groups
    }

    /// How long one pass of the script takes: to its last cue, then, when a cue hangs a
    /// deployment, the router timeout (requests hung until the last cue fail only then), the
    /// cooldown (LiteLLM only tries a recovered primary once it is over) and two intervals
    /// (for the next probe to see it), rounded up to a whole second. A looping demo starts
    /// over after it.
    pub fn pass(
        &self,
        cooldown: Duration,
        interval: Duration,
        router_timeout: Duration,
    ) -> Duration {
        let last = self.cues.last().map_or(Duration::ZERO, |c| c.at);
        let hung = if self.cues.iter().any(|c| c.fault == Fault::Hang) {
            router_timeout
        } else {
            Duration::ZERO
        };
        let pass = last
            .saturating_add(hung)
            .saturating_add(cooldown)
            .saturating_add(interval.saturating_mul(2));
        let whole = pass.as_secs() + u64::from(pass.subsec_nanos() > 0);
        Duration::from_secs(whole)
    }
}

impl fmt::Display for Script {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, cue) in self.cues.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{cue}")?;
        }
        Ok(())
    }
}

fn cue(step: &str) -> Result<Cue, String> {
    let Some((what, time)) = step.rsplit_once('@') else {
        return Err("no time (write it like primary-down@10s)".to_owned());
    };
    // A group name may hold a colon itself: the target follows the last.
    let (group, what) = match what.rsplit_once(':') {
        Some((group, _)) if group.trim().is_empty() => {
            return Err(
                "no group before the colon (write it like qwen-72b:primary-down@5s)".to_owned(),
            );
        }
        Some((group, what)) => (Some(group.trim().to_owned()), what),
        None => (None, what),
    };
    let Some((target, action)) = what.trim().split_once('-') else {
        return Err(format!(
            "expected TARGET-ACTION before the @ (TARGET: {TARGETS}; ACTION: {ACTIONS})"
        ));
    };
    let target = match target.trim().to_ascii_lowercase().as_str() {
        "primary" => Side::Primary,
        "fallback" => Side::Fallback,
        other => return Err(format!("unknown target {other:?} ({TARGETS})")),
    };
    let fault = match action.trim().to_ascii_lowercase().as_str() {
        "down" => Fault::Down,
        "error" => Fault::Error,
        "hang" => Fault::Hang,
        "slow" => Fault::Slow,
        "up" => Fault::Up,
        other => return Err(format!("unknown action {other:?} ({ACTIONS})")),
    };
    Ok(Cue {
        at: offset(time.trim())?,
        group,
        target,
        fault,
    })
}

/// A time from the start: `10s`, `1m30s`, `2.5` (seconds), `0`.
fn offset(text: &str) -> Result<Duration, String> {
    crate::clock::duration::parse(text)
        .map_err(|_| format!("bad time {text:?} (write it like 10s, 1m30s or 2.5)"))
}
