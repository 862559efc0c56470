//! A run from its start to its summary: the schedule started as a task ([`Session`]), the
//! outputs listed in one place ([`outputs`]), and the single owner of the state ([`owner`])
//! with its front, the dashboard's or none. This is where every command's run goes through:
//! watching a proxy, the demo and a replay alike.

pub mod dashboard;
mod mode;
mod outbox;
pub mod owner;
pub mod plan;
mod session;

use std::io;
use std::sync::Arc;

use color_eyre::eyre::{Result, WrapErr, eyre};
use ratatui::crossterm::event::EventStream;
use tokio::sync::mpsc;

pub use mode::ModeLink;
pub use session::{Lead, Session};

use crate::clock::{RunClock, SessionClock};
use crate::control::{self, MarkRequest};
use crate::metrics::{self, Metrics};
use crate::output::{JsonLines, Output, Outputs, Recorder, TextStory, stdout_pipe};
use crate::probe::Probe;
use crate::state::Watch;
use crate::sys::exit::{self, Ended};
use crate::sys::{signals, tui};
use crate::ui::Dashboard;
use dashboard::DashboardFront;
use owner::{Headless, Inputs};
use plan::{OutputFormat, Plan, Show};

/// Runs the schedules of `plan`'s targets, each against its prober, in its output, to the end of the run; a mode
/// lends the dashboard its keys and status. `failover-watch mark` reaches it through a
/// control socket while it runs.
pub async fn execute<P: Probe>(
    plan: &Plan,
    probers: Vec<Arc<P>>,
    mode: Option<ModeLink>,
) -> Result<Ended> {
    let clock = RunClock::start();
    // Every output is set up (the record opened) before the first probe leaves.
    let listed = outputs(&plan.show, &SessionClock::Run(clock))?;
    let session = Session::start(plan.schedules(probers), clock);
    drive_live(&plan.show, session, listed, mode).await
}

/// Drives a live `session` (the schedule's) to its end as [`drive`] does, `failover-watch
/// mark` reaching it through a control socket while it runs.
pub async fn drive_live(
    show: &Show,
    session: Session,
    listed: Listed,
    mode: Option<ModeLink>,
) -> Result<Ended> {
    let (marks_tx, marks) = mpsc::channel(8);
    let (socket, marks) = match control::listen(marks_tx) {
        Ok(socket) => (Some(socket), Ok(marks)),
        Err(error) => {
            // The run goes on; only `failover-watch mark` cannot reach it: said on the
            // dashboard (or stderr) and in the outputs, not only in the log.
            tracing::warn!(%error, "no control socket: `failover-watch mark` cannot reach this run");
            let why = format!("`failover-watch mark` cannot reach this run: {error}");
            (None, Err(why))
        }
    };
    let ended = drive(show, session, listed, mode, marks).await;
    drop(socket);
    ended
}

/// The outputs `show` asks for, besides the dashboard, in one list: the story or the JSON
/// lines on stdout, the record, the metrics (and their endpoint, served while it is kept).
/// A new output is one more line here.
pub fn outputs(show: &Show, clock: &SessionClock) -> Result<Listed> {
    let wall = clock.wall();
    let mut list: Vec<Box<dyn Output>> = Vec::new();
    match show.output {
        OutputFormat::Text => list.push(Box::new(TextStory::new(stdout()?, wall, show.color))),
        OutputFormat::Jsonl => list.push(Box::new(JsonLines::new(stdout()?, wall))),
        OutputFormat::Tui | OutputFormat::None => {}
    }
    if let Some(path) = &show.record {
        let recorder = Recorder::to_file(path, wall).map_err(|error| {
            exit::usage(format!("cannot write --record {}: {error}", path.display()))
        })?;
        list.push(Box::new(recorder));
    }
    let mut endpoint = None;
    if let Some(addr) = show.metrics_listen {
        let (collected, exporter) = Metrics::new(&show.info, clock.clone());
        let served = metrics::serve(addr, exporter).map_err(|error| {
            exit::usage(format!("cannot listen on --metrics-listen {addr}: {error}"))
        })?;
        tracing::info!(%addr, "serving metrics");
        list.push(Box::new(collected));
        endpoint = Some(served);
    }
    Ok(Listed {
        outputs: Outputs::new(list),
        endpoint,
    })
}

/// A run's outputs, and the metrics endpoint while the run lasts.
pub struct Listed {
    outputs: Outputs,
    endpoint: Option<metrics::Server>,
}

impl Listed {
    /// One more output, a mode's own (the drill's watch of its budgets), told after the others.
    pub fn add(&mut self, output: Box<dyn Output>) {
        self.outputs.push(output);
    }
}

fn stdout() -> Result<crate::output::Pipe> {
    stdout_pipe().wrap_err("cannot start writing to stdout")
}

/// Drives `session` to its end in the output `show` asks for, telling `listed`.
pub async fn drive(
    show: &Show,
    session: Session,
    listed: Listed,
    mode: Option<ModeLink>,
    marks: Result<mpsc::Receiver<MarkRequest>, String>,
) -> Result<Ended> {
    let Listed {
        mut outputs,
        endpoint,
    } = listed;
    let mut signals = signals::listen();
    let wall = session.clock.wall();
    // The targets as the run line says them: one source for the state and the outputs.
    let mut watch = Watch::new(show.info.monitors());
    let inputs = Inputs {
        signals: &mut signals,
        marks,
    };
    let info = &show.info;
    let result = match show.output {
        OutputFormat::Tui => {
            let ended = async {
                let (terminal, restore) = tui::enter()?;
                let dashboard = Dashboard::new(info.clone(), show.theme);
                let mut front = DashboardFront::new(terminal, EventStream::new(), dashboard, mode);
                let ended =
                    owner::run(session, &mut watch, &mut outputs, &mut front, info, inputs).await;
                drop(front);
                drop(restore);
                ended
            }
            .await;
            // Once the screen is restored: the same summary as the text output.
            ended.and_then(|end| {
                let mut story = TextStory::new(stdout_pipe()?, wall, show.color).of(info);
                story.end(&watch, end)?;
                Ok(story.close().ok().flatten())
            })
        }
        _ => owner::run(
            session,
            &mut watch,
            &mut outputs,
            &mut Headless,
            info,
            inputs,
        )
        .await
        .map(|_| None),
    };
    let closed = outputs.close();
    drop(endpoint);
    let said = result.as_ref().ok().cloned().flatten();
    for line in closed.said.into_iter().chain(said) {
        eprintln!("failover-watch: warning: {line}");
    }
    finish(show, &watch, result.map(|_| ()), closed.failure)
}

/// How a finished run went.
fn finish(
    show: &Show,
    watch: &Watch,
    result: io::Result<()>,
    output_failure: Option<String>,
) -> Result<Ended> {
    let counters = watch.target(Default::default()).counters();
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
    // The record was asked for: a record that stopped short fails the run.
    if let Some(why) = output_failure {
        return Err(eyre!("{why}"));
    }
    // A probe never answered is no better than a failed one.
    if show.fail_on_error && (counters.failed > 0 || counters.abandoned > 0) {
        Ok(Ended::Failed)
    } else {
        Ok(Ended::Clean)
    }
}
