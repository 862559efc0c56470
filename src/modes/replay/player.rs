//! The replay's player: sends a record's steps to the owner of the state at the moment they
//! happened (or faster, or at once), and moves through the run on the mode's keys: pause,
//! a request back or forth, the previous or next transition, faster or slower. Stepping back
//! starts the state over and plays it again up to there (the core is pure: the same steps
//! make the same state).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use super::record::Record;
use crate::clock::{Playhead, until};
use crate::probe::schedule::ControlInputs;
use crate::probe::{Lane, ProbeEvent};
use crate::state::{Input, Told, Watch};
use crate::text::format::span;
use crate::ui::{Action, ModeAction, ModeStatus};

/// The replay's own actions, bound to its keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u16)]
pub enum Move {
    PlayPause,
    RequestBack,
    RequestForward,
    TransitionBack,
    TransitionForward,
    Faster,
    Slower,
}

impl Move {
    /// The dashboard's action that hands this move back.
    pub const fn key(self) -> Action {
        Action::Mode(ModeAction::new(self as u16))
    }

    /// The move an action of the replay's keys stands for.
    fn of(action: ModeAction) -> Option<Self> {
        Self::ALL.into_iter().find(|m| *m as u16 == action.code())
    }

    const ALL: [Move; 7] = [
        Move::PlayPause,
        Move::RequestBack,
        Move::RequestForward,
        Move::TransitionBack,
        Move::TransitionForward,
        Move::Faster,
        Move::Slower,
    ];
}

/// The fastest and slowest a replay plays, by `--speed` or its keys.
pub const FASTEST: f64 = 64.0;
pub const SLOWEST: f64 = 1.0 / 64.0;

/// A record's steps, with where its requests and transitions are.
#[derive(Debug)]
pub struct Timeline {
    pub steps: Vec<(Duration, Input)>,
    /// The index of each normal request's answer.
    requests: Vec<usize>,
    /// The index of each step that made a transition.
    transitions: Vec<usize>,
    pub end: Duration,
    pub file: String,
}

impl Timeline {
    /// Finds the requests and, through the state itself, the transitions.
    pub fn new(record: Record) -> Self {
        let mut watch = Watch::new(record.info.monitors());
        let mut requests = Vec::new();
        let mut transitions = Vec::new();
        for (i, (_, input)) in record.steps.iter().enumerate() {
            if let Input::Probe(ProbeEvent::Answered(outcome)) = input
                && outcome.lane == Lane::Normal
            {
                requests.push(i);
            }
            let made_transition = watch
                .apply(input.clone())
                .iter()
                .any(|told| matches!(told, Told::Request(request) if request.transition.is_some()));
            if made_transition {
                transitions.push(i);
            }
        }
        Self {
            steps: record.steps,
            requests,
            transitions,
            end: record.end,
            file: record.info.replay.clone().unwrap_or_default(),
        }
    }

    fn at(&self, next: usize) -> Duration {
        next.checked_sub(1)
            .map_or(Duration::ZERO, |i| self.steps[i].0)
    }
}

/// How the player goes.
#[derive(Clone, Copy, Debug)]
pub struct Pace {
    /// Run time per real time, at first.
    pub speed: f64,
    /// Every step at once, then the end (the headless outputs' `--instant`).
    pub instant: bool,
    /// Stays at the end until told to stop (the dashboard), or ends the run there.
    pub hold_at_end: bool,
}

pub struct Player {
    timeline: Arc<Timeline>,
    /// The next step to send.
    next: usize,
    playhead: watch::Sender<Playhead>,
    speed: f64,
    running: bool,
    status: watch::Sender<ModeStatus>,
}

impl Player {
    pub fn new(
        timeline: Arc<Timeline>,
        speed: f64,
        playhead: watch::Sender<Playhead>,
        status: watch::Sender<ModeStatus>,
    ) -> Self {
        Self {
            timeline,
            next: 0,
            playhead,
            speed,
            running: true,
            status,
        }
    }

    /// Plays until the end (or, holding there, until told to stop).
    pub async fn play(
        mut self,
        pace: Pace,
        events: mpsc::Sender<Input>,
        mut presses: mpsc::UnboundedReceiver<ModeAction>,
        mut controls: ControlInputs,
    ) {
        if pace.instant {
            let steps = self.timeline.steps.len();
            self.send_until(steps, &events).await;
            self.place(self.timeline.end, false);
            return;
        }
        self.place(Duration::ZERO, true);
        loop {
            let now = self.playhead.borrow().now();
            let due = self.timeline.steps[self.next..]
                .iter()
                .take_while(|(at, _)| *at <= now)
                .count();
            if !self.send_until(self.next + due, &events).await {
                return;
            }
            let at_end = self.next == self.timeline.steps.len() && now >= self.timeline.end;
            if at_end && self.running {
                self.place(self.timeline.end, false);
                if !pace.hold_at_end {
                    return;
                }
            }
            self.tell();
            let wake = self.running.then(|| self.wake_at());
            tokio::select! {
                () = until(wake) => {}
                Some(action) = presses.recv() => {
                    if let Some(step) = Move::of(action)
                        && !self.go(step, &events).await
                    {
                        return;
                    }
                }
                () = controls.stopped() => return,
            }
        }
    }

    /// When the next step (or the end) comes at this speed.
    fn wake_at(&self) -> Instant {
        let target = self
            .timeline
            .steps
            .get(self.next)
            .map_or(self.timeline.end, |(at, _)| *at);
        let head = *self.playhead.borrow();
        let ahead = target.saturating_sub(head.now());
        Instant::now() + ahead.div_f64(self.speed)
    }

    /// Sends the steps up to `to`; false once the owner is gone.
    async fn send_until(&mut self, to: usize, events: &mpsc::Sender<Input>) -> bool {
        while self.next < to {
            let input = self.timeline.steps[self.next].1.clone();
            if events.send(input).await.is_err() {
                return false;
            }
            self.next += 1;
        }
        true
    }

    /// Carries out a key; false once the owner is gone.
    async fn go(&mut self, step: Move, events: &mpsc::Sender<Input>) -> bool {
        let t = self.timeline.clone();
        let target = match step {
            Move::PlayPause => {
                let now = self.playhead.borrow().now();
                if !self.running && self.next == t.steps.len() && now >= t.end {
                    // At the end, play starts the run over.
                    return self.seek(0, true, events).await;
                }
                self.place(now, !self.running);
                return true;
            }
            Move::Faster | Move::Slower => {
                let now = self.playhead.borrow().now();
                self.speed = match step {
                    Move::Faster => (self.speed * 2.0).min(FASTEST),
                    _ => (self.speed / 2.0).max(SLOWEST),
                };
                self.place(now, self.running);
                return true;
            }
            // Just after the answer of the request before the last one shown.
            Move::RequestBack => {
                let shown = t.requests.partition_point(|&i| i < self.next);
                shown.checked_sub(2).map_or(0, |k| t.requests[k] + 1)
            }
            Move::RequestForward => {
                let shown = t.requests.partition_point(|&i| i < self.next);
                t.requests.get(shown).map_or(t.steps.len(), |&i| i + 1)
            }
            // The last transition before where the replay is (not the one it shows now).
            Move::TransitionBack => {
                let before = t.transitions.partition_point(|&i| i + 1 < self.next);
                before.checked_sub(1).map_or(0, |k| t.transitions[k] + 1)
            }
            Move::TransitionForward => {
                let shown = t.transitions.partition_point(|&i| i < self.next);
                t.transitions.get(shown).map_or(t.steps.len(), |&i| i + 1)
            }
        };
        self.seek(target, false, events).await
    }

    /// Shows the run just after step `to`, paused (or playing on).
    async fn seek(&mut self, to: usize, running: bool, events: &mpsc::Sender<Input>) -> bool {
        if to < self.next {
            if events.send(Input::Restart).await.is_err() {
                return false;
            }
            self.next = 0;
        }
        if !self.send_until(to, events).await {
            return false;
        }
        self.place(self.timeline.at(to), running);
        true
    }

    fn place(&mut self, at: Duration, running: bool) {
        self.running = running;
        self.playhead.send_replace(Playhead {
            at,
            since: Instant::now(),
            speed: if running { self.speed } else { 0.0 },
        });
        self.tell();
    }

    /// The mode's status: where the replay is, in the header, the banner and the footer.
    fn tell(&self) {
        let t = &self.timeline;
        let shown = t.requests.partition_point(|&i| i < self.next);
        let state = if self.running { "▶" } else { "❚❚" };
        let speed = if self.speed == 1.0 {
            String::new()
        } else {
            format!(" ×{}", self.speed)
        };
        let position = format!("request {shown} of {}", t.requests.len());
        let at = span(self.playhead.borrow().now());
        self.status.send_replace(ModeStatus {
            header: format!(
                " {state} REPLAY{speed} {} · #{shown}/{} ",
                t.file,
                t.requests.len()
            ),
            banner: format!("replay of {} · {position} · {at} in", t.file),
            footer: format!("{state} {position}"),
            paused: !self.running,
        });
    }
}
