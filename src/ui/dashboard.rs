//! The dashboard's own state (what the user toggled) and what the keys do to it. Pure: time is
//! passed in, and actions that reach beyond the view are returned to the shell.

use std::time::Duration;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::theme::ThemeName;
use crate::output::RunInfo;
use crate::state::Monitor;

/// Intervals `+` and `-` step through.
pub const INTERVAL_STEPS: [Duration; 11] = [
    Duration::from_millis(250),
    Duration::from_millis(500),
    Duration::from_secs(1),
    Duration::from_secs(2),
    Duration::from_secs(3),
    Duration::from_secs(5),
    Duration::from_secs(10),
    Duration::from_secs(15),
    Duration::from_secs(30),
    Duration::from_secs(60),
    Duration::from_secs(300),
];

/// How long a status message stays in the header.
const STATUS_FOR: Duration = Duration::from_secs(4);

/// A fault the demo keys switch on a simulated deployment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DemoFault {
    /// Connection refused.
    Down,
    /// HTTP 500.
    Error,
    /// Never answers.
    Hang,
    /// Answers, slowly.
    Slow,
    /// Back to normal.
    Up,
}

/// Which simulated deployment a demo key aims at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DemoTarget {
    Primary,
    Fallback,
}

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
    Demo(DemoTarget, DemoFault),
}

/// Maps a key press to an action. Demo keys only count in demo mode; Esc closes the help
/// when it is open, and quits otherwise.
pub fn action_for(key: KeyEvent, demo: bool, help_open: bool) -> Option<Action> {
    if key.kind != KeyEventKind::Press {
        return None;
    }
    if key.modifiers.contains(KeyModifiers::CONTROL) {
        return matches!(key.code, KeyCode::Char('c' | 'C')).then_some(Action::Quit);
    }
    let action = match key.code {
        KeyCode::Char('q') => Action::Quit,
        KeyCode::Esc if help_open => Action::CloseHelp,
        KeyCode::Esc => Action::Quit,
        KeyCode::Char(' ') | KeyCode::Char('p') => Action::TogglePause,
        KeyCode::Char('+') | KeyCode::Char('=') => Action::LongerInterval,
        KeyCode::Char('-') | KeyCode::Char('_') => Action::ShorterInterval,
        KeyCode::Char('r') => Action::ResetCounters,
        KeyCode::Char('m') => Action::Mark,
        KeyCode::Char('?') => Action::ToggleHelp,
        KeyCode::Char('h') if !demo => Action::ToggleHelp,
        KeyCode::Char('t') => Action::CycleTheme,
        KeyCode::Char(c) if demo => {
            let target = if c.is_ascii_uppercase() {
                DemoTarget::Fallback
            } else {
                DemoTarget::Primary
            };
            let fault = match c.to_ascii_lowercase() {
                'k' => DemoFault::Down,
                'e' => DemoFault::Error,
                'h' => DemoFault::Hang,
                'u' => DemoFault::Up,
                _ => return None,
            };
            Action::Demo(target, fault)
        }
        _ => return None,
    };
    Some(action)
}

/// The next interval up or down the steps from `current`.
pub fn step_interval(current: Duration, longer: bool) -> Duration {
    if longer {
        INTERVAL_STEPS
            .iter()
            .copied()
            .find(|s| *s > current)
            .unwrap_or(current)
    } else {
        INTERVAL_STEPS
            .iter()
            .rev()
            .copied()
            .find(|s| *s < current)
            .unwrap_or(current)
    }
}

/// A frozen copy of the state while the display is paused.
#[derive(Clone, Debug)]
pub struct Paused {
    pub at: Duration,
    pub monitor: Box<Monitor>,
}

/// A simulated deployment's condition, shown in demo mode.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DemoStatus {
    pub primary: String,
    pub fallback: String,
    /// The scripted scenario, if one runs.
    pub script: Option<String>,
}

#[derive(Clone, Debug)]
pub struct Dashboard {
    pub info: RunInfo,
    /// The probe interval now (it can change live).
    pub interval: Duration,
    pub theme: ThemeName,
    pub help: bool,
    pub paused: Option<Paused>,
    /// A short message and when it was set.
    status: Option<(String, Duration)>,
    pub demo: Option<DemoStatus>,
}

impl Dashboard {
    pub fn new(info: RunInfo, theme: ThemeName) -> Self {
        Self {
            interval: info.interval,
            info,
            theme,
            help: false,
            paused: None,
            status: None,
            demo: None,
        }
    }

    pub fn say(&mut self, message: impl Into<String>, now: Duration) {
        self.status = Some((message.into(), now));
    }

    /// The status message, while it is fresh.
    pub fn status(&self, now: Duration) -> Option<&str> {
        self.status
            .as_ref()
            .filter(|(_, at)| now.saturating_sub(*at) < STATUS_FOR)
            .map(|(m, _)| m.as_str())
    }

    /// When the status message should disappear, for the shell's redraw timer.
    pub fn status_expires(&self) -> Option<Duration> {
        self.status.as_ref().map(|(_, at)| *at + STATUS_FOR)
    }

    pub fn toggle_pause(&mut self, monitor: &Monitor, now: Duration) {
        self.paused = match self.paused.take() {
            Some(_) => None,
            None => Some(Paused {
                at: now,
                monitor: Box::new(monitor.clone()),
            }),
        };
    }
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
            (press(KeyCode::Char('t')), Some(Action::CycleTheme)),
            (press(KeyCode::Char('k')), None),
            (press(KeyCode::Char('x')), None),
        ];
        for (key, expected) in cases {
            assert_eq!(action_for(key, false, false), expected, "{key:?}");
        }
        assert_eq!(
            action_for(press(KeyCode::Esc), false, true),
            Some(Action::CloseHelp)
        );
        assert_eq!(
            action_for(press(KeyCode::Char('q')), false, true),
            Some(Action::Quit)
        );
        assert_eq!(
            action_for(press(KeyCode::Char('h')), false, false),
            Some(Action::ToggleHelp)
        );
        let mut release = press(KeyCode::Char('q'));
        release.kind = KeyEventKind::Release;
        assert_eq!(action_for(release, false, false), None);
    }

    #[test]
    fn demo_keys_aim_lowercase_at_the_primary_and_capitals_at_the_fallback() {
        use DemoFault::*;
        use DemoTarget::*;
        let cases = [
            ('k', Primary, Down),
            ('e', Primary, Error),
            ('h', Primary, Hang),
            ('u', Primary, Up),
            ('K', Fallback, Down),
            ('E', Fallback, Error),
            ('H', Fallback, Hang),
            ('U', Fallback, Up),
        ];
        for (c, target, fault) in cases {
            let key = KeyEvent::new(KeyCode::Char(c), KeyModifiers::SHIFT);
            assert_eq!(
                action_for(key, true, false),
                Some(Action::Demo(target, fault)),
                "{c}"
            );
        }
    }

    #[test]
    fn interval_steps() {
        let s = Duration::from_secs;
        assert_eq!(step_interval(s(3), true), s(5));
        assert_eq!(step_interval(s(3), false), s(2));
        assert_eq!(step_interval(Duration::from_millis(2500), false), s(2));
        assert_eq!(
            step_interval(Duration::from_millis(250), false),
            Duration::from_millis(250)
        );
        assert_eq!(step_interval(s(300), true), s(300));
    }
}
