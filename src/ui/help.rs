//! The help overlay: every key, from the key table, and what the timeline's glyphs mean.
//!
//! ```text
//! ┌ Help · ? or Esc to close ─────────────────────────────────────┐
//! │ Keys                                                          │
//! │ q  Esc  Ctrl-C  quit and print the summary (Esc closes this…  │
//! │ Demo (simulated gateway)                                      │
//! │ k  K            take the primary / fallback down              │
//! │                                                               │
//! │ Timeline                                                      │
//! │ ●               served by the primary                         │
//! └───────────────────────────────────────────────────────────────┘
//! ```
//!
//! Where that does not fit, a compact form: each key with its footer word, and the glyphs on
//! as few lines as they take, never a word cut in two.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use super::View;
use super::keys::{Binding, DASHBOARD, overridden};
use super::timeline;
use crate::state::PrimaryKind;
use crate::text::format::wrap_words;

/// The widest the overlay gets, and the column the key names take.
const WIDTH: u16 = 96;
const KEY_COLUMN: usize = 16;

pub fn render(frame: &mut Frame, area: Rect, view: &View) {
    let t = &view.theme;
    let width = WIDTH.min(area.width);
    let inner_width = width.saturating_sub(2) as usize;
    let room = area.height.saturating_sub(2) as usize;
    let mut lines = full(view, inner_width);
    if lines.len() > room {
        lines = compact(view, inner_width);
    }
    let height = (lines.len() as u16 + 2).min(area.height);
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

/// The glyphs of the timeline (and of the primary's lane), their style, what they mean, and
/// their word in the legend.
fn glyphs(view: &View) -> Vec<(&'static str, Style, &'static str, &'static str)> {
    let t = &view.theme;
    let mut glyphs: Vec<_> = timeline::glyphs(t)
        .into_iter()
        .map(|g| (g.glyph, g.style, g.meaning, g.word))
        .collect();
    if view.target.lane.mode.is_on() {
        for (kind, meaning, word) in [
            (
                PrimaryKind::Up,
                "under a request: the primary alone (a direct probe) answered",
                "primary up",
            ),
            (
                PrimaryKind::Failing,
                "the primary alone failed inside LiteLLM",
                "primary failing",
            ),
            (
                PrimaryKind::CoolingDown,
                "LiteLLM holds the primary in its cooldown",
                "primary in cooldown",
            ),
        ] {
            let (glyph, style) = timeline::lane_look(t, kind);
            glyphs.push((glyph, style, meaning, word));
        }
    }
    glyphs
}

/// The sections of key bindings: the dashboard's (but those a mode takes over), then the
/// mode's under its title.
fn sections(view: &View) -> Vec<(&'static str, Vec<&'static Binding>)> {
    let mode = view.dashboard.mode.as_ref().map(|m| m.keys);
    let own = DASHBOARD.iter().filter(|b| !overridden(b, mode)).collect();
    let mut sections = Vec::new();
    let screen = view.dashboard.screen_keys();
    if !screen.is_empty() {
        sections.push(("Targets", screen.iter().collect()));
    }
    sections.push(("Keys", own));
    if let Some(mode) = mode {
        sections.push((mode.help_title, mode.bindings.iter().collect()));
    }
    sections
}

/// One line per key and per glyph, their sentences wrapped beside them.
fn full<'a>(view: &View, width: usize) -> Vec<Line<'a>> {
    let t = &view.theme;
    let text_width = width.saturating_sub(KEY_COLUMN + 1).max(1);
    let mut lines = Vec::new();
    let entry = |lines: &mut Vec<Line<'a>>, key: Span<'a>, what: &str, style: Style| {
        let blank = Span::raw(" ".repeat(KEY_COLUMN + 1));
        for (i, text) in wrap_words(what, text_width).into_iter().enumerate() {
            let first = if i == 0 { key.clone() } else { blank.clone() };
            lines.push(Line::from(vec![first, Span::styled(text, style)]));
        }
    };
    for (title, bindings) in sections(view) {
        lines.push(Line::from(Span::styled(format!(" {title}"), t.title)));
        for b in bindings {
            let (keys, what) = b.help;
            let key = Span::styled(format!(" {keys:<KEY_COLUMN$}"), t.key);
            entry(&mut lines, key, what, t.text);
        }
    }
    lines.push(Line::raw(""));
    lines.push(Line::from(Span::styled(" Timeline", t.title)));
    for (glyph, style, what, _) in glyphs(view) {
        let key = Span::styled(format!(" {glyph:<KEY_COLUMN$}"), style);
        entry(&mut lines, key, what, t.text);
    }
    lines
}

/// Each key with its footer word, and each glyph with its word, flowed on as few lines as
/// they take.
fn compact<'a>(view: &View, width: usize) -> Vec<Line<'a>> {
    let t = &view.theme;
    let mut lines = Vec::new();
    for (title, bindings) in sections(view) {
        lines.push(Line::from(Span::styled(format!(" {title}"), t.title)));
        let items = bindings.iter().filter_map(|b| {
            let (keys, what) = b.footer?;
            Some(vec![
                Span::styled(keys, t.key),
                Span::styled(format!(" {what}"), t.text),
            ])
        });
        lines.extend(flow(items, width));
    }
    lines.push(Line::from(Span::styled(" Timeline", t.title)));
    let items = glyphs(view).into_iter().map(|(glyph, style, _, word)| {
        vec![
            Span::styled(glyph, style),
            Span::styled(format!(" {word}"), t.text),
        ]
    });
    lines.extend(flow(items, width));
    lines
}

/// Items (a few spans each) on lines of `width` columns, two spaces apart, none cut in two.
fn flow<'a>(items: impl Iterator<Item = Vec<Span<'a>>>, width: usize) -> Vec<Line<'a>> {
    let mut lines = Vec::new();
    let mut line: Vec<Span> = vec![Span::raw(" ")];
    let mut used = 1;
    for item in items {
        let item_width: usize = item.iter().map(Span::width).sum();
        if used > 1 && used + 2 + item_width > width {
            lines.push(Line::from(std::mem::replace(
                &mut line,
                vec![Span::raw(" ")],
            )));
            used = 1;
        }
        if used > 1 {
            line.push(Span::raw("  "));
            used += 2;
        }
        used += item_width;
        line.extend(item);
    }
    if used > 1 {
        lines.push(Line::from(line));
    }
    lines
}
