//! The fault a mock upstream plays, switchable while it runs.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// How a mock answers chat and generate requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Normal answers.
    Ok,
    /// HTTP 500 with an error body.
    Error500,
    /// HTTP 503 with an error body.
    Unavailable503,
    /// HTTP 429 with `Retry-After` in seconds.
    RateLimited { retry_after_secs: u32 },
    /// Never answers (the request is held until the client gives up).
    Hang,
    /// Normal answers after a delay.
    Slow { delay: Duration },
    /// HTTP 200 with a body that is not JSON.
    Garbage,
    /// Closes the connection without answering.
    Reset,
}

pub const MODES_HELP: &str = "ok, 500, 503, 429[=SECS], hang, slow[=DURATION], garbage, reset";

impl Mode {
    pub const DEFAULT_SLOW: Duration = Duration::from_secs(2);
}

impl FromStr for Mode {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim().to_ascii_lowercase();
        let (name, arg) = match text.split_once('=') {
            Some((name, arg)) => (name.trim(), Some(arg.trim())),
            None => (text.as_str(), None),
        };
        let no_arg = |mode| match arg {
            None => Ok(mode),
            Some(_) => Err(format!("mode {name} takes no value")),
        };
        match name {
            "ok" => no_arg(Mode::Ok),
            "500" => no_arg(Mode::Error500),
            "503" => no_arg(Mode::Unavailable503),
            "hang" => no_arg(Mode::Hang),
            "garbage" => no_arg(Mode::Garbage),
            "reset" => no_arg(Mode::Reset),
            "429" => Ok(Mode::RateLimited {
                retry_after_secs: match arg {
                    Some(secs) => secs
                        .parse()
                        .map_err(|_| format!("429={secs}: Retry-After must be whole seconds"))?,
                    None => 1,
                },
            }),
            "slow" => Ok(Mode::Slow {
                delay: match arg {
                    Some(d) => {
                        crate::clock::duration::positive(d).map_err(|e| format!("slow={d}: {e}"))?
                    }
                    None => Mode::DEFAULT_SLOW,
                },
            }),
            other => Err(format!("unknown mode {other:?} (one of: {MODES_HELP})")),
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Mode::Ok => f.write_str("ok"),
            Mode::Error500 => f.write_str("500"),
            Mode::Unavailable503 => f.write_str("503"),
            Mode::RateLimited { retry_after_secs } => write!(f, "429={retry_after_secs}"),
            Mode::Hang => f.write_str("hang"),
            Mode::Slow { delay } => write!(
                f,
                "slow={}",
                humantime::format_duration(Duration::from_millis(delay.as_millis() as u64))
            ),
            Mode::Garbage => f.write_str("garbage"),
            Mode::Reset => f.write_str("reset"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_mode_round_trips_through_its_name() {
        for text in [
            "ok",
            "500",
            "503",
            "429=1",
            "429=7",
            "hang",
            "slow=2s",
            "slow=150ms",
            "garbage",
            "reset",
        ] {
            let mode: Mode = text.parse().unwrap();
            assert_eq!(mode.to_string(), text);
        }
        assert_eq!(
            "429".parse(),
            Ok(Mode::RateLimited {
                retry_after_secs: 1
            })
        );
        assert_eq!(
            "SLOW".parse(),
            Ok(Mode::Slow {
                delay: Mode::DEFAULT_SLOW
            })
        );
        assert!(
            "teapot"
                .parse::<Mode>()
                .unwrap_err()
                .contains("unknown mode")
        );
        assert!("ok=1".parse::<Mode>().is_err());
        assert!("429=soon".parse::<Mode>().is_err());
    }
}
