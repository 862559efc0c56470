//! What switches the simulated deployments' faults: the script, played once or in a loop, and
//! the demo's keys on the dashboard. Every switch is told: in the status lines the dashboard
//! shows, in the log, and on stderr when no dashboard owns the terminal.

use std::time::Duration;

use ratatui::crossterm::event::KeyCode;
use tokio::sync::{mpsc, watch};
use tokio::time::{Instant, sleep_until};

use super::script::{Cue, Script, fault_name, target_name};
use super::stage::{Fault, Side, Stage};
use crate::ui::{Action, Binding, ModeAction, ModeKeys, ModeStatus};

/// The demo's keys: lower case aims at the primary, capitals at the fallback.
pub const KEYS: ModeKeys = ModeKeys {
    footer_title: "demo",
    help_title: "Demo (simulated gateway)",
    bindings: &[
        Binding {
            keys: &[
                (KeyCode::Char('k'), switch(Side::Primary, Fault::Down)),
                (KeyCode::Char('K'), switch(Side::Fallback, Fault::Down)),
            ],
            footer: Some(("k/K", "down")),
            footer_paused: None,
            help: (
                "k  K",
                "take the primary / fallback down (connection refused)",
            ),
            beside_mode: false,
        },
        Binding {
            keys: &[
                (KeyCode::Char('e'), switch(Side::Primary, Fault::Error)),
                (KeyCode::Char('E'), switch(Side::Fallback, Fault::Error)),
            ],
            footer: Some(("e/E", "500")),
            footer_paused: None,
            help: ("e  E", "make the primary / fallback answer HTTP 500"),
            beside_mode: false,
        },
        Binding {
            keys: &[
                (KeyCode::Char('h'), switch(Side::Primary, Fault::Hang)),
                (KeyCode::Char('H'), switch(Side::Fallback, Fault::Hang)),
            ],
            footer: Some(("h/H", "hang")),
            footer_paused: None,
            help: ("h  H", "make the primary / fallback hang"),
            beside_mode: false,
        },
        Binding {
            keys: &[
                (KeyCode::Char('u'), switch(Side::Primary, Fault::Up)),
                (KeyCode::Char('U'), switch(Side::Fallback, Fault::Up)),
            ],
            footer: Some(("u/U", "up")),
            footer_paused: None,
            help: ("u  U", "bring the primary / fallback back up"),
            beside_mode: false,
        },
    ],
};

/// The demo's key action that switches `target` to `fault`.
const fn switch(target: Side, fault: Fault) -> Action {
    Action::Mode(ModeAction::new((target as u16) << 8 | fault as u16))
}

/// The switch a demo key's action stands for.
pub fn switch_of(action: ModeAction) -> Option<(Side, Fault)> {
    [Side::Primary, Side::Fallback]
        .into_iter()
        .flat_map(|t| Fault::ALL.into_iter().map(move |f| (t, f)))
        .find(|(t, f)| (*t as u16) << 8 | *f as u16 == action.code())
}

/// What made a switch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum By {
    Script,
    Key,
    /// A looping script starting a new pass, with everything up.
    Loop,
}

impl By {
    fn as_str(self) -> &'static str {
        match self {
            By::Script => "script",
            By::Key => "key",
            By::Loop => "loop",
        }
    }
}

/// How the faults are driven.
#[derive(Clone, Debug)]
pub struct Direction {
    pub script: Option<Script>,
    /// The length of a pass when the script loops.
    pub pass: Option<Duration>,
    /// Tell each switch on stderr (not with the dashboard, which owns the terminal).
    pub narrate: bool,
}

/// Plays the script and applies the demo's keys; every switch updates the status it sends.
pub struct Director {
    stage: Stage,
    direction: Direction,
    primary: Fault,
    fallback: Fault,
    status: watch::Sender<ModeStatus>,
    /// When the current pass of the script began.
    pass_start: Instant,
    /// The next cue of the pass.
    next: usize,
}

impl Director {
    /// Takes over `stage`, applying the cues due at once (`@0s`) before the run starts.
    pub fn open(stage: Stage, direction: Direction) -> (Self, watch::Receiver<ModeStatus>) {
        let (status, seen) = watch::channel(ModeStatus::default());
        let mut director = Self {
            stage,
            direction,
            primary: Fault::Up,
            fallback: Fault::Up,
            status,
            pass_start: Instant::now(),
            next: 0,
        };
        while let Some(cue) = director.cues().get(director.next).copied()
            && cue.at.is_zero()
        {
            director.switch(cue.target, cue.fault, By::Script);
            director.next += 1;
        }
        director.report();
        (director, seen)
    }

    fn cues(&self) -> &[Cue] {
        self.direction.script.as_ref().map_or(&[][..], Script::cues)
    }

    /// Plays the rest of the script and applies the key `presses` until aborted.
    pub async fn run(mut self, mut presses: Option<mpsc::UnboundedReceiver<ModeAction>>) {
        loop {
            let due = match self.cues().get(self.next) {
                Some(cue) => Some(self.pass_start + cue.at),
                None => self.direction.pass.map(|pass| self.pass_start + pass),
            };
            tokio::select! {
                () = sleep_until(due.unwrap_or(self.pass_start)), if due.is_some() => {
                    if let Some(cue) = self.cues().get(self.next).copied() {
                        self.switch(cue.target, cue.fault, By::Script);
                        self.next += 1;
                    } else {
                        for target in [Side::Primary, Side::Fallback] {
                            self.switch(target, Fault::Up, By::Loop);
                        }
                        self.pass_start += self.direction.pass.unwrap_or_default();
                        self.next = 0;
                    }
                }
                press = recv(presses.as_mut()), if presses.is_some() => match press {
                    Some(action) => {
                        if let Some((target, fault)) = switch_of(action) {
                            self.switch(target, fault, By::Key);
                        }
                    }
                    None => presses = None,
                },
                else => std::future::pending::<()>().await,
            }
            self.report();
        }
    }

    fn report(&self) {
        let condition = |fault: Fault| match fault {
            Fault::Up => "up",
            Fault::Down => "down",
            Fault::Error => "500",
            Fault::Hang => "hang",
            Fault::Slow => "slow",
        };
        let fallback = match self.stage.has(Side::Fallback) {
            true => condition(self.fallback),
            false => "none",
        };
        let footer = format!("primary {} · fallback {fallback}", condition(self.primary));
        let mut banner = format!("simulated {footer}");
        if self.direction.script.is_some() {
            let next = self.cues().get(self.next).map(ToString::to_string);
            banner.push_str(&format!(" · {}", progress(next, self.direction.pass)));
        }
        self.status.send_replace(ModeStatus {
            banner,
            footer,
            ..ModeStatus::default()
        });
    }

    /// Applies one switch, unless a new pass finds the target up already, and tells it.
    /// Without a fallback group, the fallback's switches do nothing.
    fn switch(&mut self, target: Side, fault: Fault, by: By) {
        let current = match target {
            Side::Primary => &mut self.primary,
            Side::Fallback => &mut self.fallback,
        };
        if (by == By::Loop && *current == Fault::Up) || !self.stage.has(target) {
            return;
        }
        *current = fault;
        self.stage.set(target, fault);
        let (target, by) = (target_name(target), by.as_str());
        tracing::info!(target, fault = fault_name(fault), by, "demo switch");
        if self.direction.narrate {
            let time = chrono::Local::now().format("%H:%M:%S");
            eprintln!("[{time}] demo: {target} {} ({by})", what(fault));
        }
    }
}

/// A fault as the narration tells it.
fn what(fault: Fault) -> &'static str {
    match fault {
        Fault::Up => "up",
        Fault::Down => "down (connection refused)",
        Fault::Error => "answering HTTP 500",
        Fault::Hang => "hanging",
        Fault::Slow => "slow (answers after 2s)",
    }
}

/// The script's progress as the banner shows it.
pub fn progress(next: Option<String>, pass: Option<Duration>) -> String {
    let lap = pass.map(|p| format!(" (loop every {})", humantime::format_duration(p)));
    format!(
        "{}{}",
        next.map_or_else(|| "done".to_owned(), |cue| format!("next {cue}")),
        lap.unwrap_or_default()
    )
}

async fn recv(presses: Option<&mut mpsc::UnboundedReceiver<ModeAction>>) -> Option<ModeAction> {
    presses?.recv().await
}
