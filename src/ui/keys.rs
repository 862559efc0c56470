//! The one table of keys: each binding says which keys do what, and how the footer and the
//! help name it. The lookup, the footer and the help overlay all read it, so a key cannot be
//! added in one place and forgotten in another.
//!
//! A mode (the demo, say) brings a table of its own ([`ModeKeys`]): its keys come before the
//! dashboard's, its footer entries after the ones the dashboard keeps beside a mode, and its
//! help under its own title. The dashboard does not know what a mode's actions mean: each is
//! the mode's own value, coded as a [`ModeAction`] that the dashboard hands back untouched.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

/// What a key asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Quit,
    TogglePause,
    LongerInterval,
    ShorterInterval,
    ResetCounters,
    Mark,
    ToggleHelp,
    CloseHelp,
    CycleTheme,
    /// The overview of many targets: the selection up or down, the selected target's full
    /// dashboard opened, typing a filter; back from a target's dashboard to the overview.
    SelectUp,
    SelectDown,
    Open,
    Filter,
    Back,
    /// One of the mode's own actions, for the mode to carry out.
    Mode(ModeAction),
}

/// A mode's action as the dashboard carries it: a code the mode made from its own action type
/// and reads back into it (never a position in a table).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ModeAction(u16);

impl ModeAction {
    pub const fn new(code: u16) -> Self {
        Self(code)
    }

    pub const fn code(self) -> u16 {
        self.0
    }
}

/// One line of a key table.
#[derive(Debug)]
pub struct Binding {
    /// The keys and what each does (`k` and `K` may aim at different targets).
    pub keys: &'static [(KeyCode, Action)],
    /// The footer's name for the keys and what they do; `None` keeps it out of the footer.
    pub footer: Option<(&'static str, &'static str)>,
    /// What they do while paused, where that differs (`space resume`, `space play`).
    pub footer_paused: Option<&'static str>,
    /// The help's name for the keys, and what they do in a sentence.
    pub help: (&'static str, &'static str),
    /// Stays in the footer when a mode adds keys of its own (the rest are in the help).
    pub beside_mode: bool,
}

/// A mode's own keys.
#[derive(Debug)]
pub struct ModeKeys {
    /// Before the mode's keys in the footer (`demo:`).
    pub footer_title: &'static str,
    /// The title of the mode's section in the help.
    pub help_title: &'static str,
    pub bindings: &'static [Binding],
}

/// The dashboard's own keys.
pub const DASHBOARD: [Binding; 7] = [
    Binding {
        keys: &[
            (KeyCode::Char('q'), Action::Quit),
            (KeyCode::Esc, Action::Quit),
        ],
        footer: Some(("q", "quit")),
        footer_paused: None,
        help: (
            "q  Esc  Ctrl-C",
            "quit and print the summary (Esc closes this help first)",
        ),
        beside_mode: true,
    },
    Binding {
        keys: &[
            (KeyCode::Char(' '), Action::TogglePause),
            (KeyCode::Char('p'), Action::TogglePause),
        ],
        footer: Some(("space", "pause")),
        footer_paused: Some("resume"),
        help: ("space", "pause the display; probing and counting go on"),
        beside_mode: true,
    },
    Binding {
        keys: &[
            (KeyCode::Char('+'), Action::LongerInterval),
            (KeyCode::Char('='), Action::LongerInterval),
            (KeyCode::Char('-'), Action::ShorterInterval),
            (KeyCode::Char('_'), Action::ShorterInterval),
        ],
        footer: Some(("+/-", "interval")),
        footer_paused: None,
        help: ("+  -", "longer / shorter interval between probes"),
        beside_mode: false,
    },
    Binding {
        keys: &[(KeyCode::Char('r'), Action::ResetCounters)],
        footer: Some(("r", "reset")),
        footer_paused: None,
        help: ("r", "reset the counters and latency statistics shown"),
        beside_mode: false,
    },
    Binding {
        keys: &[(KeyCode::Char('m'), Action::Mark)],
        footer: Some(("m", "marker")),
        footer_paused: None,
        help: (
            "m",
            "drop a marker (\"scaled down now\"): the next\ntransition says how long after the \
             marker it came",
        ),
        beside_mode: true,
    },
    Binding {
        keys: &[(KeyCode::Char('t'), Action::CycleTheme)],
        footer: Some(("t", "theme")),
        footer_paused: None,
        help: ("t", "next theme: dark, light, mono"),
        beside_mode: false,
    },
    Binding {
        keys: &[
            (KeyCode::Char('?'), Action::ToggleHelp),
            (KeyCode::Char('h'), Action::ToggleHelp),
        ],
        footer: Some(("?", "help")),
        footer_paused: None,
        help: ("?", "open or close this help"),
        beside_mode: true,
    },
];

/// The overview's keys, before the dashboard's while it shows (a run of several targets).
pub const OVERVIEW: [Binding; 4] = [
    Binding {
        // Arrows only: `k` is the demo's (take the primary down), on the overview too.
        keys: &[(KeyCode::Up, Action::SelectUp)],
        footer: Some(("↑/↓", "select")),
        footer_paused: None,
        help: ("↑", "select the target above"),
        beside_mode: true,
    },
    Binding {
        keys: &[(KeyCode::Down, Action::SelectDown)],
        footer: None,
        footer_paused: None,
        help: ("↓", "select the target below"),
        beside_mode: true,
    },
    Binding {
        keys: &[(KeyCode::Enter, Action::Open)],
        footer: Some(("enter", "open")),
        footer_paused: None,
        help: ("Enter", "open the selected target's full dashboard"),
        beside_mode: true,
    },
    Binding {
        keys: &[(KeyCode::Char('/'), Action::Filter)],
        footer: Some(("/", "filter")),
        footer_paused: None,
        help: (
            "/",
            "show only the targets whose name holds what is typed (Enter keeps it, Esc clears it)",
        ),
        beside_mode: true,
    },
];

/// A target's dashboard opened from the overview: Esc goes back to it.
pub const OPENED: [Binding; 1] = [Binding {
    keys: &[
        (KeyCode::Esc, Action::Back),
        (KeyCode::Backspace, Action::Back),
    ],
    footer: Some(("esc", "overview")),
    footer_paused: None,
    help: ("Esc", "back to the overview of every target (q quits)"),
    beside_mode: true,
}];

/// Ctrl-C: quits whatever else the keys are doing.
pub fn is_interrupt(key: KeyEvent) -> bool {
    key.kind == KeyEventKind::Press
        && key.modifiers.contains(KeyModifiers::CONTROL)
        && matches!(key.code, KeyCode::Char('c' | 'C'))
}

/// Whether a mode binds every key of a dashboard binding (a replay's space and `+`/`-`): the
/// footer and the help then leave the dashboard's out.
pub fn overridden(binding: &Binding, mode: Option<&ModeKeys>) -> bool {
    mode.is_some_and(|mode| {
        binding.keys.iter().all(|(code, _)| {
            mode.bindings
                .iter()
                .any(|b| b.keys.iter().any(|(own, _)| own == code))
        })
    })
}

/// Maps a key press to an action: Ctrl-C quits; Esc closes an open help; then the keys of what
/// the screen shows (`view`: the overview's, an opened target's), the mode's, the dashboard's.
pub fn action_for(
    key: KeyEvent,
    view: &[Binding],
    mode: Option<&ModeKeys>,
    help_open: bool,
) -> Option<Action> {
    if key.kind != KeyEventKind::Press {
        return None;
    }
    if key.modifiers.contains(KeyModifiers::CONTROL) {
        return is_interrupt(key).then_some(Action::Quit);
    }
    if help_open && key.code == KeyCode::Esc {
        return Some(Action::CloseHelp);
    }
    view.iter()
        .chain(mode.into_iter().flat_map(|m| m.bindings))
        .chain(&DASHBOARD)
        .flat_map(|b| b.keys)
        .find(|(code, _)| *code == key.code)
        .map(|(_, action)| *action)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn press(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn keys_map_to_actions() {
        let cases = [
            (press(KeyCode::Char('q')), Some(Action::Quit)),
            (
                KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL),
                Some(Action::Quit),
            ),
            (press(KeyCode::Esc), Some(Action::Quit)),
            (press(KeyCode::Char(' ')), Some(Action::TogglePause)),
            (press(KeyCode::Char('+')), Some(Action::LongerInterval)),
            (press(KeyCode::Char('-')), Some(Action::ShorterInterval)),
            (press(KeyCode::Char('r')), Some(Action::ResetCounters)),
            (press(KeyCode::Char('m')), Some(Action::Mark)),
            (press(KeyCode::Char('?')), Some(Action::ToggleHelp)),
            (press(KeyCode::Char('h')), Some(Action::ToggleHelp)),
            (press(KeyCode::Char('t')), Some(Action::CycleTheme)),
            (press(KeyCode::Char('k')), None),
            (press(KeyCode::Char('x')), None),
        ];
        for (key, expected) in cases {
            assert_eq!(action_for(key, &[], None, false), expected, "{key:?}");
        }
        assert_eq!(
            action_for(press(KeyCode::Esc), &[], None, true),
            Some(Action::CloseHelp)
        );
        assert_eq!(
            action_for(press(KeyCode::Char('q')), &[], None, true),
            Some(Action::Quit)
        );
        let mut release = press(KeyCode::Char('q'));
        release.kind = KeyEventKind::Release;
        assert_eq!(action_for(release, &[], None, false), None);
    }

    #[test]
    fn a_modes_keys_come_first() {
        const MODE: ModeKeys = ModeKeys {
            footer_title: "test",
            help_title: "Test",
            bindings: &[Binding {
                keys: &[
                    (KeyCode::Char('h'), Action::Mode(ModeAction::new(7))),
                    (KeyCode::Char('H'), Action::Mode(ModeAction::new(9))),
                ],
                footer: Some(("h/H", "hang")),
                footer_paused: None,
                help: ("h  H", "hang"),
                beside_mode: false,
            }],
        };
        let shift = |c| KeyEvent::new(KeyCode::Char(c), KeyModifiers::SHIFT);
        assert_eq!(
            action_for(shift('h'), &[], Some(&MODE), false),
            Some(Action::Mode(ModeAction::new(7)))
        );
        assert_eq!(
            action_for(shift('H'), &[], Some(&MODE), false),
            Some(Action::Mode(ModeAction::new(9)))
        );
        assert_eq!(
            action_for(shift('?'), &[], Some(&MODE), false),
            Some(Action::ToggleHelp)
        );
        assert_eq!(
            action_for(shift('q'), &[], Some(&MODE), false),
            Some(Action::Quit)
        );
    }

    #[test]
    fn every_key_is_bound_once_in_a_table() {
        for table in [&DASHBOARD[..], &OVERVIEW, &OPENED] {
            let codes: Vec<KeyCode> = table
                .iter()
                .flat_map(|b| b.keys.iter().map(|(c, _)| *c))
                .collect();
            for (i, code) in codes.iter().enumerate() {
                assert!(!codes[i + 1..].contains(code), "{code:?} bound twice");
            }
        }
    }

    #[test]
    fn the_screens_keys_come_before_the_dashboards() {
        assert_eq!(
            action_for(press(KeyCode::Esc), &OPENED, None, false),
            Some(Action::Back)
        );
        assert_eq!(
            action_for(press(KeyCode::Esc), &OPENED, None, true),
            Some(Action::CloseHelp)
        );
        assert_eq!(
            action_for(press(KeyCode::Esc), &OVERVIEW, None, false),
            Some(Action::Quit)
        );
        for (code, action) in [
            (KeyCode::Up, Action::SelectUp),
            (KeyCode::Down, Action::SelectDown),
            (KeyCode::Enter, Action::Open),
            (KeyCode::Char('/'), Action::Filter),
        ] {
            assert_eq!(
                action_for(press(code), &OVERVIEW, None, false),
                Some(action)
            );
            assert_eq!(action_for(press(code), &[], None, false), None);
        }
        // `k` and `j` select nothing: the demo's `k` takes the primary down on the overview.
        for code in [KeyCode::Char('k'), KeyCode::Char('j')] {
            assert_eq!(action_for(press(code), &OVERVIEW, None, false), None);
        }
    }
}
