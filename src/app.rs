//! The commands, as the binary dispatches them: each sets up its edges (prober, outputs,
//! signals) around the shared run loop and returns the exit status.

use std::io::{self, Write};
use std::process::ExitCode;
use std::sync::Arc;

use ratatui::crossterm::event::EventStream;
use tokio::sync::mpsc;

use crate::cli::{MockArgs, OutputFormat};
use crate::config::Plan;
use crate::demo::DemoArgs;
use crate::mock::{MockConfig, MockServer};
use crate::output::{JsonLines, Recorder, Sink, TextStory};
use crate::probe::{HttpProber, Probe, Stop};
use crate::run::{self, Session};
use crate::signals;
use crate::state::Monitor;
pub use crate::tui::DemoLink;
use crate::tui::{self, Inputs};
use crate::ui::Dashboard;

/// Bad usage or configuration.
pub const EXIT_USAGE: u8 = 2;

pub fn usage_error(reason: &str) -> ExitCode {
    eprintln!("failover-watch: error: {reason}");
    ExitCode::from(EXIT_USAGE)
}

/// Watches the proxy of `plan` until the run ends, in the chosen output.
pub async fn watch(plan: Plan) -> ExitCode {
    let prober = match HttpProber::new(plan.probe.clone()) {
        Ok(prober) => Arc::new(prober),
        Err(reason) => return usage_error(&reason),
    };
    tracing::info!(url = %plan.info.url, primary = %plan.info.primary, "watching");
    execute(&plan, prober, None).await
}

/// Runs the schedule of `plan` against `prober`, with its output, to the end of the run.
pub async fn execute<P: Probe>(plan: &Plan, prober: Arc<P>, demo: Option<DemoLink>) -> ExitCode {
    let mut signals = signals::listen();
    let session = Session::start(prober, plan.schedule.clone());
    let wall = session.clock.wall();
    let mut monitor = Monitor::new(plan.monitor.clone());
    let mut recorder = match &plan.record {
        Some(path) => match Recorder::to_file(path, wall) {
            Ok(recorder) => recorder,
            Err(error) => {
                session.controls.stop(Stop::Now);
                return usage_error(&format!(
                    "cannot write --record {}: {error}",
                    path.display()
                ));
            }
        },
        None => Recorder::off(),
    };
    let result = match plan.output {
        OutputFormat::Tui => {
            dashboard(
                plan,
                session,
                &mut monitor,
                &mut recorder,
                &mut signals,
                demo,
            )
            .await
        }
        OutputFormat::Jsonl | OutputFormat::Text => {
            let stdout = io::stdout().lock();
            let mut sink: Box<dyn Sink> = match plan.output {
                OutputFormat::Jsonl => Box::new(JsonLines::new(stdout, wall)),
                _ => Box::new(TextStory::new(stdout, wall, plan.color)),
            };
            run::headless(
                session,
                &mut monitor,
                sink.as_mut(),
                &mut recorder,
                &plan.info,
                &mut signals,
            )
            .await
        }
    };
    finish(plan, &monitor, result)
}

/// The dashboard on the real terminal, then, once the screen is restored, the same summary
/// as the text output.
async fn dashboard(
    plan: &Plan,
    session: Session,
    monitor: &mut Monitor,
    recorder: &mut Recorder,
    signals: &mut mpsc::UnboundedReceiver<&'static str>,
    demo: Option<DemoLink>,
) -> io::Result<()> {
    let wall = session.clock.wall();
    let (mut terminal, restore) = tui::terminal::enter()?;
    let mut view = Dashboard::new(plan.info.clone(), plan.theme);
    view.demo = demo.as_ref().map(|link| link.status.borrow().clone());
    let inputs = Inputs {
        terminal: EventStream::new(),
        signals,
        demo,
    };
    let ended = tui::run(&mut terminal, session, monitor, &mut view, inputs, recorder).await;
    drop(terminal);
    drop(restore);
    let end = ended?;
    TextStory::new(io::stdout().lock(), wall, plan.color).end(monitor, end)
}

/// The exit status of a finished run.
fn finish(plan: &Plan, monitor: &Monitor, result: io::Result<()>) -> ExitCode {
    let counters = monitor.counters();
    tracing::info!(
        total = counters.total,
        failed = counters.failed,
        failovers = counters.failovers,
        "run ended"
    );
    match result {
        Ok(()) => {}
        // The reader went away (`| head`): nothing left to tell.
        Err(error) if error.kind() == io::ErrorKind::BrokenPipe => {}
        Err(error) => {
            let _ = writeln!(
                io::stderr(),
                "failover-watch: cannot write the output: {error}"
            );
            return ExitCode::FAILURE;
        }
    }
    // A probe never answered is no better than a failed one.
    if plan.fail_on_error && (counters.failed > 0 || counters.abandoned > 0) {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// Runs the dashboard (or a headless output) against the simulated gateway of `demo`.
pub async fn demo(args: DemoArgs) -> ExitCode {
    crate::demo::run(args).await
}

/// Serves a mock upstream until SIGINT, SIGTERM or SIGHUP.
pub async fn mock_upstream(args: MockArgs) -> ExitCode {
    let config = MockConfig {
        api: args.api,
        model: args.model,
        reply: args.reply,
        mode: args.mode,
    };
    let server = match MockServer::start(args.listen, config).await {
        Ok(server) => server,
        Err(error) => return usage_error(&format!("cannot listen on {}: {error}", args.listen)),
    };
    let mut signals = signals::listen();
    let mut stdout = io::stdout().lock();
    let _ = writeln!(stdout, "listening on {}", server.url());
    let _ = stdout.flush();
    drop(stdout);
    signals.recv().await;
    ExitCode::SUCCESS
}
