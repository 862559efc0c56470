//! The dashboard's owner loop: the probe events, the terminal's events, a slow tick, the
//! signals and a mode's status meet here, feeding the single owner of the state and drawing
//! only when something changed (at most [`MAX_FPS`] frames a second).

use std::io;
use std::time::Duration;

use futures::{Stream, StreamExt};
use ratatui::crossterm::event::{Event, KeyEvent};
use tokio::sync::{mpsc, watch};
use tokio::time::{Instant, MissedTickBehavior, sleep_until};

use super::mode::ModeLink;
use super::outbox::Outbox;
use super::session::{Input, Session, apply};
use super::taps::Taps;
use crate::clock::until;
use crate::control::MarkRequest;
use crate::probe::Stop;
use crate::state::Monitor;
use crate::sys::tui::Screen;
use crate::text::format::interval;
use crate::ui::{self, Action, Dashboard, LabelPrompt, ModeStatus, ModeView, Typed, step_interval};

pub const MAX_FPS: u32 = 15;
/// Clocks and ages move once a second.
const TICK: Duration = Duration::from_secs(1);

/// Where the loop's inputs come from.
pub struct Inputs<'a, E> {
    /// The terminal's events (keys, resizes).
    pub terminal: E,
    pub signals: &'a mut mpsc::UnboundedReceiver<&'static str>,
    /// The mode lending the dashboard keys and status lines, if any.
    pub mode: Option<ModeLink>,
    /// Markers asked for from outside (`failover-watch mark`).
    pub marks: mpsc::Receiver<MarkRequest>,
}

/// Runs the dashboard until the run ends (quit key, signal, `--count`, `--duration`); returns
/// when it ended.
pub async fn run<S, E>(
    screen: &mut S,
    mut session: Session,
    monitor: &mut Monitor,
    dashboard: &mut Dashboard,
    mut inputs: Inputs<'_, E>,
    taps: &mut Taps,
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
    let (presses, mut mode_status) = match inputs.mode {
        Some(link) => {
            dashboard.mode = Some(ModeView {
                keys: link.keys,
                status: link.status.borrow().clone(),
            });
            (Some(link.presses), Some(link.status))
        }
        None => (None, None),
    };
    taps.begin(&dashboard.info);
    let mut outbox = Outbox::default();

    loop {
        if let Some(why) = taps.untold_failure() {
            // Said on the screen now; on stderr once the screen is restored.
            let _ = monitor.record_failed(why, session.clock.now());
            dirty = true;
        }
        let now = Instant::now();
        let next_frame = last_frame.map_or(now, |at| at + frame_gap);
        if dirty && next_frame <= now {
            let at = session.clock.now();
            let wall = session.clock.wall();
            screen.show(&mut |frame| ui::draw(frame, monitor, dashboard, wall, at))?;
            last_frame = Some(now);
            dirty = false;
        }
        let input = tokio::select! {
            input = session.events.recv() => match input {
                Some(input) => input,
                None => break,
            },
            () = until(outbox.due()) => {
                for told in outbox.release(monitor) {
                    taps.tell(&told, monitor);
                }
                continue;
            }
            Some(mark) = inputs.marks.recv() => Input::asked(mark, session.clock.now()),
            input = inputs.terminal.next(), if terminal_open => {
                dirty = true;
                let key = match input {
                    Some(Ok(Event::Key(key))) => key,
                    Some(Ok(_)) => continue,
                    Some(Err(error)) => return Err(error),
                    None => {
                        terminal_open = false;
                        continue;
                    }
                };
                let now = session.clock.now();
                match press(key, monitor, dashboard, now) {
                    Pressed::Quit => {
                        stops += 1;
                        stop(&session, dashboard, monitor, stops, now);
                        continue;
                    }
                    Pressed::Mode(n) => {
                        if let Some(presses) = &presses {
                            let _ = presses.send(n);
                        }
                        continue;
                    }
                    Pressed::Input(input) => input,
                    Pressed::Done => continue,
                }
            }
            Some(signal) = inputs.signals.recv() => {
                tracing::info!(signal, "stopping");
                stops += 1;
                stop(&session, dashboard, monitor, stops, session.clock.now());
                dirty = true;
                continue;
            }
            Some(status) = mode_changed(mode_status.as_mut()) => {
                if let Some(mode) = &mut dashboard.mode {
                    mode.status = status;
                }
                dirty = true;
                continue;
            }
            _ = tick.tick() => {
                dirty = true;
                continue;
            }
            () = sleep_until(next_frame), if dirty => continue,
        };
        match &input {
            Input::Restart => {
                // A replay plays the run again from its start: nothing shown is kept.
                outbox.clear();
                dashboard.paused = None;
                dashboard.interval = dashboard.info.interval;
            }
            Input::Interval { every, .. } => dashboard.interval = *every,
            Input::Mark { label, .. } => {
                let name = label
                    .as_deref()
                    .map_or("marker".to_owned(), |l| format!("marker \"{l}\""));
                dashboard.say(format!("{name} dropped"), session.clock.now());
            }
            Input::Probe(_) | Input::ResetCounters { .. } => {}
        }
        if let Some(told) = apply(monitor, &session.controls, input) {
            for told in outbox.push(told, monitor, Instant::now()) {
                taps.tell(&told, monitor);
            }
        }
        dirty = true;
    }
    for told in outbox.release(monitor) {
        taps.tell(&told, monitor);
    }
    let end = session.clock.end();
    session.finish().await;
    taps.end(monitor, end);
    Ok(end)
}

/// The mode's status once it changes; `None` without a mode or once the mode is gone (the
/// branch then waits for the next loop).
async fn mode_changed(status: Option<&mut watch::Receiver<ModeStatus>>) -> Option<ModeStatus> {
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

/// What a key press asks of the loop.
enum Pressed {
    Quit,
    /// The mode's action of this number.
    Mode(usize),
    /// Something for the state (a marker, a counters reset, a new interval).
    Input(Input),
    /// Done on the dashboard alone.
    Done,
}

/// A key press: typed into a marker's label while one is asked for (Ctrl-C still quits),
/// else looked up in the key table and carried out on the dashboard.
fn press(key: KeyEvent, monitor: &Monitor, dashboard: &mut Dashboard, now: Duration) -> Pressed {
    if let Some(prompt) = &mut dashboard.label {
        if ui::is_interrupt(key) {
            dashboard.label = None;
            return Pressed::Quit;
        }
        return match prompt.type_key(key) {
            Typed::Editing => Pressed::Done,
            Typed::Done(label) => {
                let (at, after_seq) = (prompt.at, Some(prompt.after_seq));
                dashboard.label = None;
                Pressed::Input(Input::Mark {
                    at,
                    after_seq,
                    label,
                    answer: None,
                })
            }
        };
    }
    let mode_keys = dashboard.mode.as_ref().map(|m| m.keys);
    let Some(action) = ui::action_for(key, mode_keys, dashboard.help) else {
        return Pressed::Done;
    };
    match action {
        Action::Quit => Pressed::Quit,
        Action::Mode(n) => Pressed::Mode(n),
        Action::ResetCounters => {
            dashboard.say("counters reset", now);
            Pressed::Input(Input::ResetCounters { at: now })
        }
        Action::Mark => {
            dashboard.label = Some(LabelPrompt::new(now, monitor.last_sent_seq()));
            Pressed::Done
        }
        Action::TogglePause => {
            dashboard.toggle_pause(monitor, now);
            Pressed::Done
        }
        Action::LongerInterval | Action::ShorterInterval => {
            let next = step_interval(dashboard.interval, action == Action::LongerInterval);
            dashboard.say(format!("interval {}", interval(next)), now);
            if next == dashboard.interval {
                return Pressed::Done;
            }
            Pressed::Input(Input::Interval {
                at: now,
                every: next,
            })
        }
        Action::ToggleHelp => {
            dashboard.help = !dashboard.help;
            Pressed::Done
        }
        Action::CloseHelp => {
            dashboard.help = false;
            Pressed::Done
        }
        Action::CycleTheme => {
            dashboard.theme = dashboard.theme.next();
            dashboard.say(format!("theme {}", dashboard.theme.as_str()), now);
            Pressed::Done
        }
    }
}
