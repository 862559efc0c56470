//! Parse, set up, dispatch.

use std::path::Path;
use std::process::ExitCode;

use clap::FromArgMatches;
use color_eyre::eyre::WrapErr;
use failover_watch::cli::{Cli, Command, DemoSubcommand};
use failover_watch::commands as app;
use failover_watch::sys::{exit, logging};

fn main() -> ExitCode {
    failover_watch::sys::check_stdout();
    let cli = Cli::from_arg_matches(&app::command().get_matches()).unwrap_or_else(|e| e.exit());
    if let Err(report) = color_eyre::install() {
        eprintln!("failover-watch: {report}");
    }
    exit::watch_panics();
    // One thread: everything here waits on the network or a timer. With worker threads,
    // every probe and every event handed to the owner loop woke another thread (8 context
    // switches a probe instead of 3), most of the CPU a probe cost.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .wrap_err("cannot start the async runtime");
    let runtime = match runtime {
        Ok(runtime) => runtime,
        Err(report) => return exit::status(Err(report)),
    };
    let result = match cli.command {
        Some(Command::MockUpstream(args)) => runtime.block_on(app::mock_upstream(args)),
        Some(Command::Check(args)) => {
            let _log_guard = start_logging(&args.log_file);
            runtime.block_on(app::check(*args))
        }
        Some(Command::Drill(args)) => {
            let _log_guard = start_logging(&args.probe.log_file);
            runtime.block_on(app::drill(*args))
        }
        Some(Command::Replay(args)) => {
            let _log_guard = start_logging(&args.log_file);
            runtime.block_on(app::replay(args))
        }
        Some(Command::Report(args)) => app::report(args),
        Some(Command::Mark(args)) => runtime.block_on(app::mark(args)),
        Some(Command::Completions(args)) => app::completions(args.shell),
        Some(Command::Man) => app::man(),
        Some(Command::Demo(args)) => {
            let log_file = match &args.rehearsal {
                Some(DemoSubcommand::Drill(drill)) => &drill.probe.log_file,
                None => &args.probe.log_file,
            };
            let _log_guard = start_logging(log_file);
            runtime.block_on(app::demo(*args))
        }
        None => {
            let _log_guard = start_logging(&cli.watch.probe.log_file);
            runtime.block_on(app::watch(cli.watch))
        }
    };
    exit::status(result)
}

/// Logging; a log file that cannot be written is not a reason to stop.
fn start_logging(log_file: &Path) -> Option<tracing_appender::non_blocking::WorkerGuard> {
    match logging::init(log_file) {
        Ok(guard) => Some(guard),
        Err(report) => {
            eprintln!("failover-watch: warning: no log file ({report:#}); going on without logs");
            None
        }
    }
}
