//! One exit-status policy for every command: 0 when a run ends as asked, 1 when it failed
//! (`--fail-on-error` and a failed or unanswered probe, or an error while running, with its
//! report), 2 for bad usage or configuration, with a one-line reason, 101 after a panic
//! anywhere (a task's too, which tokio would otherwise swallow). A drill adds 2 when it could
//! not run, 3 when it could not restore what it took down, 130 when it was interrupted.

use std::fmt;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

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
    /// `--fail-on-error` and a probe failed or was never answered; a drill's budget broken.
    Failed,
    /// A drill could not run as planned (its down command failed, its watch stopped), said
    /// already: exit status 2, as bad usage.
    NotRun,
    /// A drill's restore (its up command) failed: the system may be left down. Exit status 3.
    RestoreFailed,
    /// Interrupted (Ctrl-C, a signal), after what had to be done was done: exit status 130.
    Interrupted,
}

impl Ended {
    /// The exit status it stands for.
    pub fn code(self) -> u8 {
        match self {
            Ended::Clean => 0,
            Ended::Failed => 1,
            Ended::NotRun => 2,
            Ended::RestoreFailed => 3,
            Ended::Interrupted => 130,
        }
    }
}

/// A panic happened somewhere in the process.
static PANICKED: AtomicBool = AtomicBool::new(false);

/// Remembers every panic from now on, on any thread, whatever hook reports it: the exit
/// status says it (call after the other hooks are installed; later ones chain to it).
pub fn watch_panics() {
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        PANICKED.store(true, Ordering::SeqCst);
        report(info);
    }));
}

/// Says what went wrong, if anything, on stderr, and gives the exit status.
pub fn status(result: Result<Ended, Report>) -> ExitCode {
    if PANICKED.load(Ordering::SeqCst) {
        eprintln!("failover-watch: error: a panic happened (a bug: see the log); exit status 101");
        return ExitCode::from(101);
    }
    match result {
        Ok(ended) => ExitCode::from(ended.code()),
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

    /// A panic on another thread (a task's, which tokio swallows) still fails the process.
    #[test]
    fn a_panic_anywhere_exits_101() {
        watch_panics();
        let panicked = std::thread::spawn(|| panic!("a task's bug")).join();
        assert!(panicked.is_err());
        assert_eq!(status(Ok(Ended::Clean)), ExitCode::from(101));
    }
}
