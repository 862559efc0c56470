//! The bottom line: the keys.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::View;

pub const KEYS: [(&str, &str); 7] = [
    ("q", "quit"),
    ("space", "pause"),
    ("+/-", "interval"),
    ("r", "reset"),
    ("m", "marker"),
    ("t", "theme"),
    ("?", "help"),
];

/// In demo mode the footer makes room for the demo keys: the others are in the help.
const KEYS_IN_DEMO: [(&str, &str); 4] = [
    ("q", "quit"),
    ("space", "pause"),
    ("m", "marker"),
    ("?", "help"),
];

pub const DEMO_KEYS: [(&str, &str); 4] = [
    ("k/K", "down"),
    ("e/E", "500"),
    ("h/H", "hang"),
    ("u/U", "up"),
];

pub fn render(frame: &mut Frame, area: Rect, view: &View) {
    let t = &view.theme;
    let key = |key: &str, what: &str| {
        [
            Span::styled(key.to_owned(), t.key),
            Span::styled(format!(" {what}  "), t.muted),
        ]
    };
    let mut spans = vec![Span::raw(" ")];
    match &view.dashboard.demo {
        None => spans.extend(KEYS.iter().flat_map(|(k, w)| key(k, w))),
        Some(demo) => {
            // The deployments' condition first: on a narrow screen it is what must show.
            spans.push(Span::styled(
                format!("primary {} · fallback {}  │ ", demo.primary, demo.fallback),
                t.marker,
            ));
            spans.extend(KEYS_IN_DEMO.iter().flat_map(|(k, w)| key(k, w)));
            spans.push(Span::styled("│ demo: ", t.muted));
            spans.extend(DEMO_KEYS.iter().flat_map(|(k, w)| key(k, w)));
        }
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}
