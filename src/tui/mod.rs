//! The dashboard's shell: one loop where the probe events, the terminal's events, a slow tick
//! and the signals meet, feeding the single owner of the state and drawing only when
//! something changed (at most [`MAX_FPS`] frames a second).

pub mod terminal;

use std::io;
use std::time::Duration;

use futures::{Stream, StreamExt};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::Event;
use tokio::sync::{mpsc, watch};
use tokio::time::{Instant, MissedTickBehavior, sleep_until};

use crate::output::Recorder;
use crate::output::format::interval;
use crate::run::{self, Session};
use crate::state::Monitor;
use crate::ui::{self, Action, Dashboard, DemoFault, DemoStatus, DemoTarget, step_interval};

pub const MAX_FPS: u32 = 15;
/// Clocks and ages move once a second.
const TICK: Duration = Duration::from_secs(1);

/// Somewhere frames can be drawn: the real terminal, or a test backend.
pub trait Screen {
    fn show(&mut self, draw: &mut dyn FnMut(&mut ratatui::Frame)) -> io::Result<()>;
}

impl Screen for Terminal<TestBackend> {
    fn show(&mut self, draw: &mut dyn FnMut(&mut ratatui::Frame)) -> io::Result<()> {
        self.draw(|frame| draw(frame))
            .map(|_| ())
            .map_err(|never| match never {})
    }
}

/// A demo key's request to the simulated gateway.
pub type DemoRequest = (DemoTarget, DemoFault);

/// The dashboard's link to a simulated gateway: where demo keys go, and the simulated
/// deployments' condition as it changes (keys and scripts change it).
#[derive(Debug)]
pub struct DemoLink {
    pub requests: mpsc::UnboundedSender<DemoRequest>,
    pub status: watch::Receiver<DemoStatus>,
}

/// Where the loop's inputs come from.
pub struct Inputs<'a, E> {
    /// The terminal's events (keys, resizes).
    pub terminal: E,
    pub signals: &'a mut mpsc::UnboundedReceiver<&'static str>,
    /// The simulated gateway, in demo mode.
    pub demo: Option<DemoLink>,
}

/// Runs the dashboard until the run ends (quit key, signal, `--count`, `--duration`).
pub async fn run<S, E>(
    screen: &mut S,
    mut session: Session,
    monitor: &mut Monitor,
    dashboard: &mut Dashboard,
    mut inputs: Inputs<'_, E>,
    recorder: &mut Recorder,
) -> io::Result<Duration>
where
    S: Screen,
    E: Stream<Item = io::Result<Event>> + Unpin,
{
    let frame_gap = Duration::from_secs(1) / MAX_FPS;
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let mut dirty = true;
    let mut last_frame: Option<Instant> = None;
    let mut stops = 0;
    let mut terminal_open = true;
    let (demo_requests, mut demo_status) = inputs.demo.map(|d| (d.requests, d.status)).unzip();
    recorder.begin(&dashboard.info);

    loop {
        let now = Instant::now();
        let next_frame = last_frame.map_or(now, |at| at + frame_gap);
        if dirty && next_frame <= now {
            let at = session.clock.now();
            let wall = session.clock.wall();
            screen.show(&mut |frame| ui::draw(frame, monitor, dashboard, wall, at))?;
            last_frame = Some(now);
            dirty = false;
        }
        tokio::select! {
            event = session.events.recv() => match event {
                Some(event) => {
                    run::apply(monitor, recorder, &event);
                    dirty = true;
                }
                None => break,
            },
            input = inputs.terminal.next(), if terminal_open => match input {
                Some(Ok(Event::Key(key))) => {
                    let Some(action) = ui::action_for(key, dashboard.demo.is_some(), dashboard.help) else {
                        continue;
                    };
                    let now = session.clock.now();
                    if action == Action::Quit {
                        stops += 1;
                        stop(&session, dashboard, monitor, stops, now);
                    } else {
                        act(action, &session, monitor, dashboard, demo_requests.as_ref(), now);
                    }
                    dirty = true;
                }
                Some(Ok(Event::Resize(..))) => dirty = true,
                Some(Ok(_)) => {}
                Some(Err(error)) => return Err(error),
                None => terminal_open = false,
            },
            Some(signal) = inputs.signals.recv() => {
                tracing::info!(signal, "stopping");
                stops += 1;
                stop(&session, dashboard, monitor, stops, session.clock.now());
                dirty = true;
            }
            Some(status) = demo_changed(demo_status.as_mut()) => {
                dashboard.demo = Some(status);
                dirty = true;
            }
            _ = tick.tick() => dirty = true,
            () = sleep_until(next_frame), if dirty => {}
        }
    }
    let end = session.clock.now();
    session.finish().await;
    recorder.end(monitor, end);
    Ok(end)
}

/// The simulated deployments' condition once it changes; `None` outside demo mode or once
/// the gateway is gone (the branch then waits for the next loop).
async fn demo_changed(status: Option<&mut watch::Receiver<DemoStatus>>) -> Option<DemoStatus> {
    let status = status?;
    status.changed().await.ok()?;
    Some(status.borrow_and_update().clone())
}

/// The first quit stops sending and waits a short grace for answers in flight; the second
/// quits at once.
fn stop(
    session: &Session,
    dashboard: &mut Dashboard,
    monitor: &Monitor,
    stops: u32,
    now: Duration,
) {
    use crate::probe::Stop;
    let waiting = monitor.in_flight().len();
    if stops == 1 && waiting > 0 {
        session.controls.stop(Stop::Graceful);
        dashboard.say(
            format!("stopping: waiting for {waiting} in flight (q again: quit now)"),
            now,
        );
    } else {
        session.controls.stop(Stop::Now);
    }
}

/// Applies a key's action (all but quitting).
fn act(
    action: Action,
    session: &Session,
    monitor: &mut Monitor,
    dashboard: &mut Dashboard,
    demo: Option<&mpsc::UnboundedSender<DemoRequest>>,
    now: Duration,
) {
    match action {
        Action::Quit => {}
        Action::TogglePause => dashboard.toggle_pause(monitor, now),
        Action::LongerInterval | Action::ShorterInterval => {
            let next = step_interval(dashboard.interval, action == Action::LongerInterval);
            if next != dashboard.interval {
                dashboard.interval = next;
                session.controls.set_interval(next);
                tracing::info!(interval = ?next, "interval changed");
            }
            dashboard.say(format!("interval {}", interval(next)), now);
        }
        Action::ResetCounters => {
            monitor.reset_counters(now);
            dashboard.say("counters reset", now);
        }
        Action::Mark => {
            let id = monitor.mark(now).id;
            tracing::info!(marker = id, "marker dropped");
            dashboard.say(format!("marker {id} dropped"), now);
        }
        Action::ToggleHelp => dashboard.help = !dashboard.help,
        Action::CloseHelp => dashboard.help = false,
        Action::CycleTheme => {
            dashboard.theme = dashboard.theme.next();
            dashboard.say(format!("theme {}", dashboard.theme.as_str()), now);
        }
        Action::Demo(target, fault) => {
            if let Some(demo) = demo {
                let _ = demo.send((target, fault));
            }
        }
    }
}
