//! Parse, set up, dispatch.

use std::process::ExitCode;

use std::path::Path;

use clap::{CommandFactory, FromArgMatches};
use failover_watch::app;
use failover_watch::cli::{Cli, Command};
use failover_watch::config::{Plan, Surroundings};
use failover_watch::demo::Chosen;
use failover_watch::logging;

fn main() -> ExitCode {
    let matches = Cli::command().get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("failover-watch: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match cli.command {
        Some(Command::MockUpstream(args)) => runtime.block_on(app::mock_upstream(args)),
        Some(Command::Demo(mut args)) => {
            if let Some(demo) = matches.subcommand_matches("demo") {
                args.chosen = Chosen::from_matches(demo);
            }
            let _log_guard = start_logging(&args.probe.log_file);
            runtime.block_on(app::demo(*args))
        }
        None => {
            let env = |name: &str| std::env::var(name).ok();
            let plan = match Plan::watch(&cli.watch, env, Surroundings::detect()) {
                Ok(plan) => plan,
                Err(reason) => return app::usage_error(&reason),
            };
            let _log_guard = start_logging(&plan.log_file);
            runtime.block_on(app::watch(plan))
        }
    }
}

/// Logging and error reports; a log file that cannot be written is not a reason to stop.
fn start_logging(log_file: &Path) -> Option<tracing_appender::non_blocking::WorkerGuard> {
    if let Err(report) = color_eyre::install() {
        eprintln!("failover-watch: {report}");
    }
    match logging::init(log_file) {
        Ok(guard) => Some(guard),
        Err(reason) => {
            eprintln!("failover-watch: warning: no log file ({reason}); going on without logs");
            None
        }
    }
}
