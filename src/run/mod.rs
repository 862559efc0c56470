//! A run from its start to its summary: the schedule started as a task ([`Session`]), and the
//! single owner of the state it feeds, in the dashboard's loop or the headless outputs' loop.
//! This is where every command's run goes through: watching a proxy and the demo alike.

pub mod dashboard;
mod headless;
mod mode;
mod outbox;
mod session;

use std::io::{self, Write};
use std::sync::Arc;

use color_eyre::eyre::{Result, WrapErr, eyre};
use ratatui::crossterm::event::EventStream;
use tokio::sync::mpsc;

use dashboard::Inputs;
pub use mode::ModeLink;
pub use session::Session;

use crate::cli::OutputFormat;
use crate::clock::RunClock;
use crate::config::Plan;
use crate::exit::{self, Ended};
use crate::output::{JsonLines, Recorder, Sink, TextStory};
use crate::probe::Probe;
use crate::signals;
use crate::state::Monitor;
use crate::tui;
use crate::ui::Dashboard;

/// Runs the schedule of `plan` against `prober`, in its output, to the end of the run; a mode
/// lends the dashboard its keys and status.
pub async fn execute<P: Probe>(
    plan: &Plan,
    prober: Arc<P>,
    mode: Option<ModeLink>,
) -> Result<Ended> {
    let mut signals = signals::listen();
    let clock = RunClock::start();
    let wall = clock.wall();
    let mut recorder = match &plan.record {
        Some(path) => Recorder::to_file(path, wall).map_err(|error| {
            exit::usage(format!("cannot write --record {}: {error}", path.display()))
        })?,
        None => Recorder::off(),
    };
    let session = Session::start(prober, plan.schedule.clone(), clock);
    let mut monitor = Monitor::new(plan.monitor.clone());
    let result = match plan.output {
        OutputFormat::Tui => {
            on_terminal(
                plan,
                session,
                &mut monitor,
                &mut recorder,
                &mut signals,
                mode,
            )
            .await
        }
        OutputFormat::Jsonl | OutputFormat::Text => {
            let stdout = io::stdout().lock();
            let mut sink: Box<dyn Sink> = match plan.output {
                OutputFormat::Jsonl => Box::new(JsonLines::new(stdout, wall)),
                _ => Box::new(TextStory::new(stdout, wall, plan.color)),
            };
            let info = &plan.info;
            headless::run(
                session,
                &mut monitor,
                sink.as_mut(),
                &mut recorder,
                info,
                &mut signals,
            )
            .await
        }
    };
    finish(plan, &monitor, result, recorder.failure())
}

/// The dashboard on the real terminal, then, once the screen is restored, the same summary
/// as the text output.
async fn on_terminal(
    plan: &Plan,
    session: Session,
    monitor: &mut Monitor,
    recorder: &mut Recorder,
    signals: &mut mpsc::UnboundedReceiver<&'static str>,
    mode: Option<ModeLink>,
) -> io::Result<()> {
    let wall = session.clock.wall();
    let (mut terminal, restore) = tui::enter()?;
    let mut view = Dashboard::new(plan.info.clone(), plan.theme);
    let inputs = Inputs {
        terminal: EventStream::new(),
        signals,
        mode,
    };
    let ended = dashboard::run(&mut terminal, session, monitor, &mut view, inputs, recorder).await;
    drop(terminal);
    drop(restore);
    let end = ended?;
    TextStory::new(io::stdout().lock(), wall, plan.color).end(monitor, end)
}

/// How a finished run went.
fn finish(
    plan: &Plan,
    monitor: &Monitor,
    result: io::Result<()>,
    record_failure: Option<&str>,
) -> Result<Ended> {
    let counters = monitor.counters();
    tracing::info!(
        total = counters.total,
        failed = counters.failed,
        failovers = counters.failovers,
        "run ended"
    );
    match result {
        // The reader went away (`| head`): nothing left to tell.
        Err(error) if error.kind() == io::ErrorKind::BrokenPipe => {}
        other => other.wrap_err("cannot write the output")?,
    }
    let _ = io::stdout().flush();
    // The record was asked for: a record that stopped short fails the run.
    if let Some(why) = record_failure {
        return Err(eyre!("{why}"));
    }
    // A probe never answered is no better than a failed one.
    if plan.fail_on_error && (counters.failed > 0 || counters.abandoned > 0) {
        Ok(Ended::Failed)
    } else {
        Ok(Ended::Clean)
    }
}
