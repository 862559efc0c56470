//! What switches the simulated deployments' faults: the script, played once or in a loop, and
//! the demo's keys on the dashboard. Every switch is told: in the status lines the dashboard
//! shows, in the log, and on stderr when no dashboard owns the terminal.

use std::time::Duration;

use ratatui::crossterm::event::KeyCode;
use tokio::sync::{mpsc, watch};
use tokio::time::{Instant, sleep_until};

use super::script::{Cue, Script, fault_name, target_name};
use super::stage::{Fault, Side, Stage};
use crate::text::sanitize::clean;
use crate::ui::{Action, Binding, ModeAction, ModeKeys, ModeStatus};

/// Longest group name the status lines and the narration show.
const NAME_CHARS: usize = 40;

/// The demo's keys: lower case aims at the primary, capitals at the fallback.
pub const KEYS: ModeKeys = ModeKeys {
    footer_title: "demo",
    help_title: "Demo (simulated gateway)",
    bindings: &[DOWN, ERROR, HANG, UP],
};

/// The demo's keys when it watches several groups (`--groups`): a digit chooses the group the
/// others act on.
pub const GROUP_KEYS: ModeKeys = ModeKeys {
    footer_title: "demo",
    help_title: "Demo (simulated gateway)",
    bindings: &[CHOOSE, DOWN, ERROR, HANG, UP],
};

/// The digits, each choosing a group.
const CHOOSE: Binding = Binding {
    keys: &[
        (KeyCode::Char('1'), choose(1)),
        (KeyCode::Char('2'), choose(2)),
        (KeyCode::Char('3'), choose(3)),
        (KeyCode::Char('4'), choose(4)),
        (KeyCode::Char('5'), choose(5)),
        (KeyCode::Char('6'), choose(6)),
        (KeyCode::Char('7'), choose(7)),
        (KeyCode::Char('8'), choose(8)),
        (KeyCode::Char('9'), choose(9)),
    ],
    footer: Some(("1-9", "group")),
    footer_paused: None,
    help: (
        "1 … 9",
        "choose the group the keys below act on (demo --groups)",
    ),
    beside_mode: false,
};

/// k K: the chosen group's primary / fallback down (connection refused).
const DOWN: Binding = Binding {
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
};

/// e E: the chosen group's primary / fallback answering HTTP 500.
const ERROR: Binding = Binding {
    keys: &[
        (KeyCode::Char('e'), switch(Side::Primary, Fault::Error)),
        (KeyCode::Char('E'), switch(Side::Fallback, Fault::Error)),
    ],
    footer: Some(("e/E", "500")),
    footer_paused: None,
    help: ("e  E", "make the primary / fallback answer HTTP 500"),
    beside_mode: false,
};

/// h H: the chosen group's primary / fallback hanging.
const HANG: Binding = Binding {
    keys: &[
        (KeyCode::Char('h'), switch(Side::Primary, Fault::Hang)),
        (KeyCode::Char('H'), switch(Side::Fallback, Fault::Hang)),
    ],
    footer: Some(("h/H", "hang")),
    footer_paused: None,
    help: ("h  H", "make the primary / fallback hang"),
    beside_mode: false,
};

/// u U: the chosen group's primary / fallback back up.
const UP: Binding = Binding {
    keys: &[
        (KeyCode::Char('u'), switch(Side::Primary, Fault::Up)),
        (KeyCode::Char('U'), switch(Side::Fallback, Fault::Up)),
    ],
    footer: Some(("u/U", "up")),
    footer_paused: None,
    help: ("u  U", "bring the primary / fallback back up"),
    beside_mode: false,
};

/// The demo's key action that switches `target` to `fault`.
const fn switch(target: Side, fault: Fault) -> Action {
    Action::Mode(ModeAction::new((target as u16) << 8 | fault as u16))
}

/// The code of the choice of group `n` (from 1), apart from every switch's.
const CHOICE: u16 = 1 << 12;

const fn choose(n: u16) -> Action {
    Action::Mode(ModeAction::new(CHOICE | n))
}

/// The group (from 1) a demo key's action chooses.
pub fn choice_of(action: ModeAction) -> Option<usize> {
    let n = action.code().checked_sub(CHOICE)?;
    (1..=9).contains(&n).then_some(usize::from(n))
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
    /// The watched group the keys act on (from 0).
    chosen: usize,
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
            chosen: 0,
            status,
            pass_start: Instant::now(),
            next: 0,
        };
        while let Some(cue) = director.cues().get(director.next).cloned()
            && cue.at.is_zero()
        {
            director.play(&cue);
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
                    if let Some(cue) = self.cues().get(self.next).cloned() {
                        self.play(&cue);
                        self.next += 1;
                    } else {
                        for group in 0..self.stage.watched().len() {
                            for target in [Side::Primary, Side::Fallback] {
                                self.switch(group, target, Fault::Up, By::Loop);
                            }
                        }
                        self.pass_start += self.direction.pass.unwrap_or_default();
                        self.next = 0;
                    }
                }
                press = recv(presses.as_mut()), if presses.is_some() => match press {
                    Some(action) => self.press(action),
                    None => presses = None,
                },
                else => std::future::pending::<()>().await,
            }
            self.report();
        }
    }

    /// A demo key: a digit chooses a watched group, the rest switch the chosen one's.
    fn press(&mut self, action: ModeAction) {
        if let Some(n) = choice_of(action) {
            if n <= self.stage.watched().len() {
                self.chosen = n - 1;
            }
        } else if let Some((target, fault)) = switch_of(action) {
            self.switch(self.chosen, target, fault, By::Key);
        }
    }

    /// A cue of the script, in the group it names (the first without a name).
    fn play(&mut self, cue: &Cue) {
        let group = cue.group.as_deref().map_or(0, |name| {
            let watched = self.stage.watched();
            // The setup checked that the script names watched groups only.
            watched.iter().position(|(p, _)| p == name).unwrap_or(0)
        });
        self.switch(group, cue.target, cue.fault, By::Script);
    }

    fn report(&self) {
        let condition = |group: usize, target: Side| match self.stage.fault_in(group, target) {
            Some(fault) => condition(fault),
            None => "none",
        };
        let stage = |group: usize| {
            format!(
                "primary {} · fallback {}",
                condition(group, Side::Primary),
                condition(group, Side::Fallback)
            )
        };
        let watched = self.stage.watched();
        let (footer, mut banner) = if watched.len() > 1 {
            let chosen = self.chosen;
            let footer = format!(
                "group {} {}: {}",
                chosen + 1,
                clean(&watched[chosen].0, NAME_CHARS),
                stage(chosen)
            );
            // The banner names every group off its normal, after the chosen one.
            let others: Vec<String> = (0..watched.len())
                .filter(|g| *g != chosen)
                .filter(|g| {
                    [Side::Primary, Side::Fallback]
                        .into_iter()
                        .any(|t| self.stage.fault_in(*g, t).is_some_and(|f| f != Fault::Up))
                })
                .map(|g| {
                    format!(
                        "{} {}: {}",
                        g + 1,
                        clean(&watched[g].0, NAME_CHARS),
                        stage(g)
                    )
                })
                .collect();
            let mut banner = format!("simulated {footer}");
            if !others.is_empty() {
                banner.push_str(&format!(" · also {}", others.join(" · ")));
            }
            (footer, banner)
        } else {
            let footer = stage(0);
            (footer.clone(), format!("simulated {footer}"))
        };
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

    /// Applies one switch in watched group `group`, unless a new pass finds the target up
    /// already, and tells it. Without a fallback group, the fallback's switches do nothing.
    fn switch(&mut self, group: usize, target: Side, fault: Fault, by: By) {
        let Some(current) = self.stage.fault_in(group, target) else {
            return;
        };
        if by == By::Loop && current == Fault::Up {
            return;
        }
        self.stage.set_in(group, target, fault);
        let name = clean(&self.stage.watched()[group].0, NAME_CHARS);
        let (target, by) = (target_name(target), by.as_str());
        tracing::info!(group = %name, target, fault = fault_name(fault), by, "demo switch");
        if self.direction.narrate {
            let time = chrono::Local::now().format("%H:%M:%S");
            let whose = match self.stage.watched().len() {
                1 => String::new(),
                _ => format!("{name} "),
            };
            eprintln!("[{time}] demo: {whose}{target} {} ({by})", what(fault));
        }
    }
}

/// A fault as the status lines tell it.
fn condition(fault: Fault) -> &'static str {
    match fault {
        Fault::Up => "up",
        Fault::Down => "down",
        Fault::Error => "500",
        Fault::Hang => "hang",
        Fault::Slow => "slow",
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
