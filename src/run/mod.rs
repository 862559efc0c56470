//! A run from its start to its summary: the schedule started as a task ([`Session`]), and the
//! single owner of the state it feeds, in the dashboard's loop or the headless outputs' loop.
//! This is where every command's run goes through: watching a proxy and the demo alike.

pub mod dashboard;
mod headless;
mod mode;
mod outbox;
mod session;
mod taps;

use std::io::{self, Write};
use std::sync::Arc;

use color_eyre::eyre::{Result, WrapErr, eyre};
use ratatui::crossterm::event::EventStream;
use tokio::sync::mpsc;

pub use mode::ModeLink;
pub use session::{Input, Session};
pub use taps::Taps;

use crate::cli::OutputFormat;
use crate::cli::config::{Plan, Show};
use crate::clock::{RunClock, WallClock};
use crate::control::{self, MarkRequest};
use crate::metrics::{self, Metrics};
use crate::output::{JsonLines, Recorder, Silent, Sink, TextStory};
use crate::probe::Probe;
use crate::state::Monitor;
use crate::sys::exit::{self, Ended};
use crate::sys::signals;
use crate::sys::tui;
use crate::ui::Dashboard;

/// Runs the schedule of `plan` against `prober`, in its output, to the end of the run; a mode
/// lends the dashboard its keys and status. `failover-watch mark` reaches it through a
/// control socket while it runs.
pub async fn execute<P: Probe>(
    plan: &Plan,
    prober: Arc<P>,
    mode: Option<ModeLink>,
) -> Result<Ended> {
    let show = &plan.show;
    let clock = RunClock::start();
    let recorder = recorder(show, clock.wall())?;
    let (marks_tx, marks) = mpsc::channel(8);
    let socket = match control::listen(marks_tx) {
        Ok(socket) => Some(socket),
        Err(error) => {
            // The run goes on; only `failover-watch mark` cannot reach it.
            tracing::warn!(%error, "no control socket: `failover-watch mark` cannot reach this run");
            None
        }
    };
    let session = Session::start(prober, plan.schedule.clone(), clock);
    let ended = drive(show, session, recorder, mode, marks).await;
    drop(socket);
    ended
}

/// The record of `show`, if one is asked for, its lines timed from `wall`.
fn recorder(show: &Show, wall: WallClock) -> Result<Recorder> {
    Ok(match &show.record {
        Some(path) => Recorder::to_file(path, wall).map_err(|error| {
            exit::usage(format!("cannot write --record {}: {error}", path.display()))
        })?,
        None => Recorder::off(),
    })
}

/// Drives `session` to its end in the output `show` asks for: the single owner of the state,
/// telling `recorder` and, when asked for, the metrics endpoint.
pub async fn drive(
    show: &Show,
    session: Session,
    recorder: Recorder,
    mode: Option<ModeLink>,
    marks: mpsc::Receiver<MarkRequest>,
) -> Result<Ended> {
    let mut signals = signals::listen();
    let wall = session.clock.wall();
    let mut monitor = Monitor::new(show.monitor.clone());
    let mut taps = Taps::from(recorder);
    let mut endpoint = None;
    if let Some(addr) = show.metrics_listen {
        let (collected, exporter) = Metrics::new(&show.info, session.clock.clone());
        let served = metrics::serve(addr, exporter).map_err(|error| {
            exit::usage(format!("cannot listen on --metrics-listen {addr}: {error}"))
        })?;
        taps = taps.with_metrics(collected);
        tracing::info!(%addr, "serving metrics");
        endpoint = Some(served);
    }
    let result = match show.output {
        OutputFormat::Tui => {
            let inputs = dashboard::Inputs {
                terminal: EventStream::new(),
                signals: &mut signals,
                mode,
                marks,
            };
            on_terminal(show, session, &mut monitor, &mut taps, inputs).await
        }
        OutputFormat::Jsonl | OutputFormat::Text | OutputFormat::None => {
            let stdout = io::stdout().lock();
            let mut sink: Box<dyn Sink> = match show.output {
                OutputFormat::Jsonl => Box::new(JsonLines::new(stdout, wall)),
                OutputFormat::None => Box::new(Silent),
                _ => Box::new(TextStory::new(stdout, wall, show.color)),
            };
            let inputs = headless::Inputs {
                signals: &mut signals,
                marks,
            };
            let info = &show.info;
            headless::run(
                session,
                &mut monitor,
                sink.as_mut(),
                &mut taps,
                info,
                inputs,
            )
            .await
        }
    };
    drop(endpoint);
    finish(show, &monitor, result, taps.recorder.failure())
}

/// The dashboard on the real terminal, then, once the screen is restored, the same summary
/// as the text output.
async fn on_terminal<E>(
    show: &Show,
    session: Session,
    monitor: &mut Monitor,
    taps: &mut Taps,
    inputs: dashboard::Inputs<'_, E>,
) -> io::Result<()>
where
    E: futures::Stream<Item = io::Result<ratatui::crossterm::event::Event>> + Unpin,
{
    let wall = session.clock.wall();
    let (mut terminal, restore) = tui::enter()?;
    let mut view = Dashboard::new(show.info.clone(), show.theme);
    let ended = dashboard::run(&mut terminal, session, monitor, &mut view, inputs, taps).await;
    drop(terminal);
    drop(restore);
    let end = ended?;
    TextStory::new(io::stdout().lock(), wall, show.color).end(monitor, end)
}

/// How a finished run went.
fn finish(
    show: &Show,
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
    if show.fail_on_error && (counters.failed > 0 || counters.abandoned > 0) {
        Ok(Ended::Failed)
    } else {
        Ok(Ended::Clean)
    }
}
