//! The help overlay: every key, and what the glyphs mean.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use super::View;
use super::timeline::{
    ERROR_GLYPH, FALLBACK_GLYPH, IN_FLIGHT_GLYPH, MARKER_GLYPH, PRIMARY_GLYPH, TRANSITION_GLYPH,
};

/// Each text fits beside its key in an 80-column terminal.
const KEYS: [(&str, &str); 8] = [
    (
        "q  Esc  Ctrl-C",
        "quit and print the summary (Esc closes this help first)",
    ),
    ("space", "pause the display; probing and counting go on"),
    ("+  -", "longer / shorter interval between probes"),
    ("r", "reset the counters and latency statistics shown"),
    ("m", "drop a marker (\"scaled down now\"): the next"),
    ("", "transition says how long after the marker it came"),
    ("t", "next theme: dark, light, mono"),
    ("?", "open or close this help"),
];

const DEMO_KEYS: [(&str, &str); 4] = [
    (
        "k  K",
        "take the primary / fallback down (connection refused)",
    ),
    ("e  E", "make the primary / fallback answer HTTP 500"),
    ("h  H", "make the primary / fallback hang"),
    ("u  U", "bring the primary / fallback back up"),
];

pub fn render(frame: &mut Frame, area: Rect, view: &View) {
    let t = &view.theme;
    let mut lines = vec![Line::from(Span::styled(" Keys", t.title))];
    let key_line = |key: &str, what: &str| {
        Line::from(vec![
            Span::styled(format!(" {key:<16}"), t.key),
            Span::styled(what.to_owned(), t.text),
        ])
    };
    lines.extend(KEYS.iter().map(|(k, w)| key_line(k, w)));
    if view.dashboard.demo.is_some() {
        lines.push(Line::from(Span::styled(
            " Demo (simulated gateway)",
            t.title,
        )));
        lines.extend(DEMO_KEYS.iter().map(|(k, w)| key_line(k, w)));
    }
    lines.push(Line::raw(""));
    lines.push(Line::from(Span::styled(" Timeline", t.title)));
    for (glyph, style, what) in [
        (PRIMARY_GLYPH, t.primary, "served by the primary"),
        (FALLBACK_GLYPH, t.fallback, "served by a fallback"),
        (
            ERROR_GLYPH,
            t.error,
            "failed (and a full-height bar in the latency chart)",
        ),
        (
            IN_FLIGHT_GLYPH,
            t.in_flight,
            "sent, no answer yet (probes leave on schedule anyway)",
        ),
        (
            TRANSITION_GLYPH,
            t.text,
            "a transition: failover, recovery, outage, restored",
        ),
        (MARKER_GLYPH, t.marker, "a marker you dropped"),
    ] {
        lines.push(Line::from(vec![
            Span::raw(" "),
            Span::styled(format!("{glyph:<16}"), style),
            Span::styled(what, t.text),
        ]));
    }
    let height = (lines.len() as u16 + 2).min(area.height);
    let width = 96.min(area.width);
    let popup = Rect::new(
        area.x + (area.width - width) / 2,
        area.y + (area.height - height) / 2,
        width,
        height,
    );
    let block = Block::bordered()
        .title(Span::styled(" Help · ? or Esc to close ", t.title))
        .border_style(t.title);
    frame.render_widget(Clear, popup);
    frame.render_widget(Paragraph::new(lines).block(block).style(t.base), popup);
}
