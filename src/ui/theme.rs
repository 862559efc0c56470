//! Colour themes. A state is never told by colour alone: every one also has a word and a
//! glyph, so the mono theme (and `NO_COLOR`) loses nothing but colour.

use ratatui::style::{Color, Modifier, Style};

use crate::probe::Verdict;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ThemeName {
    Dark,
    Light,
    Mono,
}

impl ThemeName {
    pub fn next(self) -> Self {
        match self {
            ThemeName::Dark => ThemeName::Light,
            ThemeName::Light => ThemeName::Mono,
            ThemeName::Mono => ThemeName::Dark,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ThemeName::Dark => "dark",
            ThemeName::Light => "light",
            ThemeName::Mono => "mono",
        }
    }
}

/// Every style the panes use. The 16 ANSI colours only: they survive tmux and projectors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Theme {
    pub name: ThemeName,
    /// Under everything: the terminal's own colours, or the light theme's paper, so that it
    /// reads the same on a dark terminal.
    pub base: Style,
    pub text: Style,
    pub muted: Style,
    pub border: Style,
    pub title: Style,
    pub primary: Style,
    pub fallback: Style,
    pub error: Style,
    pub in_flight: Style,
    pub marker: Style,
    pub live: Style,
    pub paused: Style,
    pub simulated: Style,
    pub key: Style,
}

impl Theme {
    pub fn new(name: ThemeName) -> Self {
        let plain = Style::new();
        let bold = Style::new().add_modifier(Modifier::BOLD);
        match name {
            ThemeName::Dark => Self {
                name,
                base: plain,
                text: plain,
                muted: Style::new().fg(Color::DarkGray),
                border: Style::new().fg(Color::DarkGray),
                title: bold.fg(Color::Cyan),
                primary: bold.fg(Color::Green),
                fallback: bold.fg(Color::Yellow),
                error: bold.fg(Color::Red),
                in_flight: Style::new().fg(Color::Cyan),
                marker: bold.fg(Color::Magenta),
                live: bold.fg(Color::Green),
                paused: bold.fg(Color::Black).bg(Color::Yellow),
                simulated: bold.fg(Color::Black).bg(Color::Magenta),
                key: bold.fg(Color::Cyan),
            },
            // Black on bright white; grey labels dark enough for a washed-out projector.
            ThemeName::Light => Self {
                name,
                base: Style::new().fg(Color::Black).bg(Color::White),
                text: Style::new().fg(Color::Black),
                muted: Style::new().fg(Color::DarkGray),
                border: Style::new().fg(Color::DarkGray),
                title: bold.fg(Color::Blue),
                primary: bold.fg(Color::Green),
                fallback: bold.fg(Color::Magenta),
                error: bold.fg(Color::Red),
                in_flight: Style::new().fg(Color::Blue),
                marker: bold.fg(Color::Blue),
                live: bold.fg(Color::Green),
                paused: bold.fg(Color::White).bg(Color::Magenta),
                simulated: bold.fg(Color::White).bg(Color::Blue),
                key: bold.fg(Color::Blue),
            },
            ThemeName::Mono => Self {
                name,
                base: plain,
                text: plain,
                muted: Style::new().add_modifier(Modifier::DIM),
                border: plain,
                title: bold,
                primary: bold,
                fallback: bold.add_modifier(Modifier::ITALIC),
                error: bold.add_modifier(Modifier::REVERSED),
                in_flight: Style::new().add_modifier(Modifier::DIM),
                marker: bold.add_modifier(Modifier::UNDERLINED),
                live: bold,
                paused: bold.add_modifier(Modifier::REVERSED),
                simulated: bold.add_modifier(Modifier::REVERSED),
                key: bold,
            },
        }
    }

    pub fn verdict(&self, verdict: Verdict) -> Style {
        match verdict {
            Verdict::Primary => self.primary,
            Verdict::Fallback => self.fallback,
            Verdict::Error => self.error,
        }
    }
}
