//! `--script`: faults switched at set times from the start, e.g.
//! `primary-down@10s,primary-up@40s`. Pure.

use std::fmt;
use std::time::Duration;

use super::stage::{Fault, Target};

/// The story a headless demo tells when given no script: a failover, then a recovery once the
/// primary is back and its cooldown is over.
pub const BUILT_IN: &str = "primary-down@5s,primary-up@20s";

const TARGETS: &str = "primary or fallback";
const ACTIONS: &str = "down, error, hang, slow or up";

/// One step: a fault switched on a target at a time from the start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cue {
    pub at: Duration,
    pub target: Target,
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
        write!(
            f,
            "{}-{}@{at}",
            target_name(self.target),
            fault_name(self.fault)
        )
    }
}

pub fn target_name(target: Target) -> &'static str {
    match target {
        Target::Primary => "primary",
        Target::Fallback => "fallback",
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

    pub fn aims_at(&self, target: Target) -> bool {
        self.cues.iter().any(|c| c.target == target)
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
    let Some((target, action)) = what.trim().split_once('-') else {
        return Err(format!(
            "expected TARGET-ACTION before the @ (TARGET: {TARGETS}; ACTION: {ACTIONS})"
        ));
    };
    let target = match target.trim().to_ascii_lowercase().as_str() {
        "primary" => Target::Primary,
        "fallback" => Target::Fallback,
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
        target,
        fault,
    })
}

/// A time from the start: `10s`, `1m30s`, `2.5` (seconds), `0`.
fn offset(text: &str) -> Result<Duration, String> {
    crate::duration::parse(text)
        .map_err(|_| format!("bad time {text:?} (write it like 10s, 1m30s or 2.5)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_read_and_sorted_by_time() {
        let s = Script::parse(" fallback-down@40s , primary-down@10s,primary-UP@1m,primary-hang@0")
            .unwrap();
        let cues: Vec<String> = s.cues().iter().map(Cue::to_string).collect();
        assert_eq!(
            cues,
            [
                "primary-hang@0s",
                "primary-down@10s",
                "fallback-down@40s",
                "primary-up@60s"
            ]
        );
        assert!(s.aims_at(Target::Fallback));
        assert_eq!(
            s.to_string(),
            "primary-hang@0s,primary-down@10s,fallback-down@40s,primary-up@60s"
        );
        let slow = Script::parse("primary-slow@2.5,primary-error@3s").unwrap();
        assert_eq!(slow.cues()[0].at, Duration::from_millis(2500));
        assert_eq!(slow.cues()[0].to_string(), "primary-slow@2.5s");
        assert_eq!(slow.cues()[1].fault, Fault::Error);
        assert!(!slow.aims_at(Target::Fallback));
        assert!(Script::parse(BUILT_IN).is_ok());
    }

    #[test]
    fn bad_steps_are_named_with_the_reason() {
        let cases = [
            ("", "no steps"),
            (" , ", "no steps"),
            ("primary-down", "\"primary-down\": no time"),
            ("primary@3s", "expected TARGET-ACTION"),
            (
                "secondary-down@3s",
                "unknown target \"secondary\" (primary or fallback)",
            ),
            (
                "primary-sideways@3s",
                "unknown action \"sideways\" (down, error, hang, slow or up)",
            ),
            ("primary-down@soon", "bad time \"soon\""),
            ("primary-down@-3", "bad time \"-3\""),
            ("primary-down@3s,primary-up", "\"primary-up\": no time"),
        ];
        for (text, reason) in cases {
            let error = Script::parse(text).unwrap_err();
            assert!(error.contains(reason), "{text:?}: {error}");
            assert!(error.starts_with("--script"), "{error}");
        }
    }

    #[test]
    fn a_pass_lasts_until_the_recovery_can_be_seen() {
        let s = Script::parse(BUILT_IN).unwrap();
        let secs = Duration::from_secs;
        assert_eq!(s.pass(secs(10), secs(3), secs(30)), secs(36));
        assert_eq!(
            s.pass(secs(1), Duration::from_millis(200), secs(30)),
            secs(22)
        );
        let short = Script::parse("primary-down@1s,primary-up@3s").unwrap();
        assert_eq!(
            short.pass(secs(1), Duration::from_millis(200), secs(30)),
            secs(5)
        );
        // A request hung just before the last cue fails a router timeout later.
        let hang = Script::parse("primary-hang@5s,primary-up@20s").unwrap();
        assert_eq!(hang.pass(secs(10), secs(3), secs(30)), secs(66));
    }
}
