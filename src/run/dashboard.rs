//! The dashboard as the owner's front: the terminal's keys and resizes, a mode's status and
//! keys, a slow tick for the clocks; it draws only when something changed, at most
//! [`MAX_FPS`] frames a second.

use std::io;
use std::time::Duration;

use futures::{Stream, StreamExt};
use ratatui::crossterm::event::{Event, KeyEvent};
use tokio::sync::{mpsc, watch};
use tokio::time::{Instant, Interval, MissedTickBehavior, sleep_until};

use super::mode::ModeLink;
use super::owner::{Asked, Front};
use crate::clock::SessionClock;
use crate::probe::Stop;
use crate::state::{Input, Watch};
use crate::sys::tui::Screen;
use crate::text::format::interval;
use crate::ui::{
    self, Action, Dashboard, LabelPrompt, ModeAction, ModeStatus, ModeView, Typed, step_interval,
};

pub const MAX_FPS: u32 = 15;
/// Clocks and ages move once a second.
const TICK: Duration = Duration::from_secs(1);

/// The dashboard on a screen, fed the terminal's events `E`.
pub struct DashboardFront<S, E> {
    screen: S,
    terminal: E,
    terminal_open: bool,
    pub dashboard: Dashboard,
    presses: Option<mpsc::UnboundedSender<ModeAction>>,
    mode_status: Option<watch::Receiver<ModeStatus>>,
    tick: Interval,
    dirty: bool,
    last_frame: Option<Instant>,
    /// The marker being applied was typed here (not read from a record).
    typed_marker: bool,
}

/// What woke the dashboard.
pub enum Woke {
    Terminal(Option<io::Result<Event>>),
    Mode(ModeStatus),
    ModeGone,
    Tick,
    Frame,
}

impl<S: Screen, E: Stream<Item = io::Result<Event>> + Unpin> DashboardFront<S, E> {
    /// `dashboard` on `screen`, a mode lending it keys and status if given.
    pub fn new(screen: S, terminal: E, mut dashboard: Dashboard, mode: Option<ModeLink>) -> Self {
        let (presses, mode_status) = match mode {
            Some(link) => {
                dashboard.mode = Some(ModeView {
                    keys: link.keys,
                    status: link.status.borrow().clone(),
                });
                (Some(link.presses), Some(link.status))
            }
            None => (None, None),
        };
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(MissedTickBehavior::Skip);
        Self {
            screen,
            terminal,
            terminal_open: true,
            dashboard,
            presses,
            mode_status,
            tick,
            dirty: true,
            last_frame: None,
            typed_marker: false,
        }
    }

    /// The screen and what the dashboard ended with.
    #[cfg(test)]
    pub fn into_parts(self) -> (S, Dashboard) {
        (self.screen, self.dashboard)
    }

    /// When the next frame may be drawn: at once, or a frame's gap after the last.
    fn next_frame(&self) -> Option<Instant> {
        let gap = Duration::from_secs(1) / MAX_FPS;
        self.last_frame.map(|at| at + gap)
    }

    /// A key press: typed into a marker's label while one is asked for (Ctrl-C still quits),
    /// else looked up in the key table and carried out on the dashboard.
    fn press(&mut self, key: KeyEvent, watch: &Watch, now: Duration) -> Asked {
        let dashboard = &mut self.dashboard;
        if let Some(prompt) = &mut dashboard.label {
            if ui::is_interrupt(key) {
                dashboard.label = None;
                return Asked::Quit;
            }
            return match prompt.type_key(key) {
                Typed::Editing => Asked::Nothing,
                Typed::Done(label) => {
                    // Of several targets, each numbers its own requests: the marker sits after
                    // each one's last request sent.
                    let after_seq = (!dashboard.info.many()).then_some(prompt.after_seq);
                    let at = prompt.at;
                    dashboard.label = None;
                    self.typed_marker = true;
                    Asked::Input(Input::Mark {
                        at,
                        after_seq,
                        label,
                    })
                }
            };
        }
        if dashboard.overview.as_ref().is_some_and(|o| o.filtering) {
            if ui::is_interrupt(key) {
                return Asked::Quit;
            }
            dashboard.type_filter(key);
            return Asked::Nothing;
        }
        let mode_keys = dashboard.mode.as_ref().map(|m| m.keys);
        let screen = dashboard.screen_keys();
        let Some(action) = ui::action_for(key, screen, mode_keys, dashboard.help) else {
            return Asked::Nothing;
        };
        let monitor = watch.target(dashboard.shown());
        match action {
            Action::Quit => return Asked::Quit,
            Action::Mode(action) => {
                if let Some(presses) = &self.presses {
                    let _ = presses.send(action);
                }
            }
            Action::ResetCounters => {
                dashboard.say("counters reset", now);
                return Asked::Input(Input::ResetCounters { at: now });
            }
            Action::Mark => {
                dashboard.label = Some(LabelPrompt::new(now, monitor.last_sent_seq()));
            }
            Action::TogglePause => dashboard.toggle_pause(watch, now),
            Action::SelectUp | Action::SelectDown => {
                dashboard.step_selection(watch, action == Action::SelectDown);
            }
            Action::Open => dashboard.open_selected(watch),
            Action::Back => {
                if let Some(overview) = dashboard.overview.as_mut() {
                    overview.open = None;
                }
            }
            Action::Filter => {
                if let Some(overview) = dashboard.overview.as_mut() {
                    overview.filtering = true;
                }
            }
            Action::LongerInterval | Action::ShorterInterval => {
                let next = step_interval(dashboard.interval, action == Action::LongerInterval);
                dashboard.say(format!("interval {}", interval(next)), now);
                if next != dashboard.interval {
                    return Asked::Input(Input::Interval {
                        at: now,
                        every: next,
                    });
                }
            }
            Action::ToggleHelp => dashboard.help = !dashboard.help,
            Action::CloseHelp => dashboard.help = false,
            Action::CycleTheme => {
                dashboard.theme = dashboard.theme.next();
                dashboard.say(format!("theme {}", dashboard.theme.as_str()), now);
            }
        }
        Asked::Nothing
    }
}

impl<S: Screen, E: Stream<Item = io::Result<Event>> + Unpin> Front for DashboardFront<S, E> {
    type Event = Woke;

    async fn next(&mut self) -> Woke {
        let next_frame = self.next_frame().unwrap_or_else(Instant::now);
        tokio::select! {
            input = self.terminal.next(), if self.terminal_open => Woke::Terminal(input),
            status = mode_changed(self.mode_status.as_mut()), if self.mode_status.is_some() => {
                status.map_or(Woke::ModeGone, Woke::Mode)
            }
            _ = self.tick.tick() => Woke::Tick,
            () = sleep_until(next_frame), if self.dirty => Woke::Frame,
        }
    }

    fn handle(&mut self, woke: Woke, watch: &Watch, now: Duration) -> io::Result<Asked> {
        self.dirty = true;
        Ok(match woke {
            Woke::Terminal(Some(Ok(Event::Key(key)))) => self.press(key, watch, now),
            Woke::Terminal(Some(Ok(_))) => Asked::Nothing,
            Woke::Terminal(Some(Err(error))) => return Err(error),
            Woke::Terminal(None) => {
                self.terminal_open = false;
                Asked::Nothing
            }
            Woke::Mode(status) => {
                if let Some(mode) = &mut self.dashboard.mode {
                    mode.status = status;
                }
                Asked::Nothing
            }
            Woke::ModeGone => {
                self.mode_status = None;
                Asked::Nothing
            }
            Woke::Tick | Woke::Frame => Asked::Nothing,
        })
    }

    fn show(&mut self, watch: &Watch, clock: &SessionClock) -> io::Result<()> {
        let now = Instant::now();
        if !self.dirty || self.next_frame().is_some_and(|next| next > now) {
            return Ok(());
        }
        let (at, wall) = (clock.now(), clock.wall());
        let dashboard = &self.dashboard;
        self.screen
            .show(&mut |frame| ui::draw(frame, watch, dashboard, wall, at))?;
        self.last_frame = Some(now);
        self.dirty = false;
        Ok(())
    }

    fn applied(&mut self, input: &Input, now: Duration) {
        self.dirty = true;
        let dashboard = &mut self.dashboard;
        match input {
            Input::Restart => {
                // A replay plays the run again from its start: nothing shown is kept.
                dashboard.paused = None;
                dashboard.interval = dashboard.info.first().interval;
            }
            Input::Interval { every, .. } => dashboard.interval = *every,
            Input::Mark { label, .. } => {
                let name = label
                    .as_deref()
                    .map_or("marker".to_owned(), |l| format!("marker \"{l}\""));
                // `m` in a replay marks what is shown, in this replay only.
                let kept = match std::mem::take(&mut self.typed_marker) {
                    true if dashboard.info.replay.is_some() => " (this replay only: not saved)",
                    _ => "",
                };
                dashboard.say(format!("{name} dropped{kept}"), now);
            }
            Input::Probe(_) | Input::ResetCounters { .. } => {}
        }
    }

    /// The first quit stops sending and waits a short grace for the requests in flight; with
    /// none, or at the second, it quits at once.
    fn stopping(&mut self, stops: u32, waiting: usize, now: Duration) -> Stop {
        self.dirty = true;
        if stops == 1 && waiting > 0 {
            self.dashboard.say(
                format!("stopping: waiting for {waiting} in flight (q again: quit now)"),
                now,
            );
            Stop::Graceful
        } else {
            Stop::Now
        }
    }

    /// Shown on the screen as a notice; said on stderr once the screen is restored.
    fn warn(&mut self, _message: &str) {
        self.dirty = true;
    }
}

/// The mode's status once it changes; `None` once the mode is gone.
async fn mode_changed(status: Option<&mut watch::Receiver<ModeStatus>>) -> Option<ModeStatus> {
    let status = status?;
    status.changed().await.ok()?;
    Some(status.borrow_and_update().clone())
}
