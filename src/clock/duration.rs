//! Durations as people write them: `3s`, `500ms`, `1m 30s`, or a bare number of seconds. The
//! one parser behind the command line, the demo's scripts and LiteLLM config files. Pure.

use std::time::Duration;

/// The longest duration anything takes: beyond it, deadlines would overflow the clock.
pub const LONGEST: Duration = Duration::from_secs(10 * 365 * 24 * 3600);

/// A duration above zero and at most ten years: `3s`, `500ms`, `1m 30s`, or a bare number of
/// seconds.
pub fn positive(text: &str) -> Result<Duration, String> {
    let duration = parse(text)?;
    if duration.is_zero() {
        return Err("must be more than zero".to_owned());
    }
    Ok(duration)
}

/// The longest wait the options take for one thing (an interval, a timeout, a cooldown): more
/// is a mistake, not a setting.
pub const LONGEST_WAIT: Duration = Duration::from_secs(3600);

/// An interval or a limit for one thing: from a millisecond to an hour, written as for
/// [`positive`].
pub fn wait(text: &str) -> Result<Duration, String> {
    let range = "must be from 1ms to 1h";
    match parse(text) {
        Ok(duration) if duration >= Duration::from_millis(1) && duration <= LONGEST_WAIT => {
            Ok(duration)
        }
        Ok(_) => Err(range.to_owned()),
        Err(e) if e.starts_with("is too long") => Err(range.to_owned()),
        Err(e) => Err(format!("{e}; it {range}")),
    }
}

/// A duration of zero or more and at most ten years, written as for [`positive`].
pub fn parse(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let duration = match text.parse::<f64>() {
        Ok(secs) if secs >= 0.0 => from_secs(secs).ok_or("is too long (at most 10 years)")?,
        Ok(_) => return Err("must be a positive duration".to_owned()),
        Err(_) => {
            humantime::parse_duration(text).map_err(|e| format!("{e} (try 3s, 500ms or 1m)"))?
        }
    };
    if duration > LONGEST {
        return Err("is too long (at most 10 years)".to_owned());
    }
    Ok(duration)
}

/// A number of seconds (as a config file gives it) as a duration, if it is one: finite, not
/// negative, at most ten years.
pub fn from_secs(secs: f64) -> Option<Duration> {
    Duration::try_from_secs_f64(secs)
        .ok()
        .filter(|d| *d <= LONGEST)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_in_human_form_or_bare_seconds() {
        assert_eq!(positive("3s"), Ok(Duration::from_secs(3)));
        assert_eq!(positive("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(positive("1m 30s"), Ok(Duration::from_secs(90)));
        assert_eq!(positive("2.5"), Ok(Duration::from_millis(2500)));
        assert!(positive("0").unwrap_err().contains("more than zero"));
        assert!(positive("0s").unwrap_err().contains("more than zero"));
        assert_eq!(parse("0"), Ok(Duration::ZERO));
        assert!(positive("-1").is_err());
        assert!(positive("soon").unwrap_err().contains("try 3s"));
        // Beyond what a clock can add: refused, not a panic or an overflowed deadline.
        for huge in ["1e20", "inf", "NaN", "10000000000000000000s", "11years"] {
            assert!(positive(huge).is_err(), "{huge}");
        }
        assert_eq!(positive("7days"), Ok(Duration::from_secs(7 * 24 * 3600)));
        assert_eq!(from_secs(2.5), Some(Duration::from_millis(2500)));
        for bad in [-1.0, f64::NAN, f64::INFINITY, 1e12] {
            assert_eq!(from_secs(bad), None, "{bad}");
        }
    }
}
