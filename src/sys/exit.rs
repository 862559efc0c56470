//! One exit-status policy for every command: 0 when a run ends as asked, 1 when it failed
//! (`--fail-on-error` and a failed or unanswered probe, or an error while running, with its
//! report), 2 for bad usage or configuration, with a one-line reason.

use std::fmt;
use std::process::ExitCode;

use color_eyre::eyre::Report;

/// Bad usage or configuration: said in one line, exit status 2.
#[derive(Debug)]
pub struct Usage(pub String);

impl fmt::Display for Usage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Usage {}

/// A report of bad usage or configuration.
pub fn usage(reason: impl Into<String>) -> Report {
    Report::new(Usage(reason.into()))
}

/// How a run that went to its end went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ended {
    Clean,
    /// `--fail-on-error` and a probe failed or was never answered.
    Failed,
}

/// Says what went wrong, if anything, on stderr, and gives the exit status.
pub fn status(result: Result<Ended, Report>) -> ExitCode {
    match result {
        Ok(Ended::Clean) => ExitCode::SUCCESS,
        Ok(Ended::Failed) => ExitCode::FAILURE,
        Err(report) => match report.chain().find_map(|e| e.downcast_ref::<Usage>()) {
            Some(usage) => {
                eprintln!("failover-watch: error: {usage}");
                ExitCode::from(2)
            }
            None => {
                eprintln!("failover-watch: error: {}", chain(&report));
                ExitCode::FAILURE
            }
        },
    }
}

/// A report on one line: the context, then each cause (`cannot start the demo: cannot bind
/// 127.0.0.1:0: address in use`).
fn chain(report: &Report) -> String {
    report
        .chain()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(": ")
}

#[cfg(test)]
mod tests {
    use color_eyre::eyre::WrapErr;

    use super::*;

    #[test]
    fn usage_is_told_apart_and_causes_are_chained() {
        let io = std::io::Error::other("address in use");
        let report = Err::<(), _>(io)
            .wrap_err("cannot bind 127.0.0.1:0")
            .wrap_err("cannot start the demo")
            .unwrap_err();
        assert_eq!(
            chain(&report),
            "cannot start the demo: cannot bind 127.0.0.1:0: address in use"
        );
        assert!(!report.chain().any(|e| e.is::<Usage>()));
        let wrapped = Err::<(), _>(usage("bad")).wrap_err("context").unwrap_err();
        assert!(wrapped.chain().any(|e| e.is::<Usage>()));
    }
}
