//! The bottom line: the keys, from the key table. With a mode, its status comes first (on a
//! narrow screen it is what must show), then the dashboard's keys kept beside a mode, then the
//! mode's own. An entry that does not fit is left out whole, with those after it (the help
//! has them all); none is cut.
//!
//! ```text
//!  q quit  space pause  +/- interval  r reset  m marker  t theme  ? help
//!  primary down · fallback up  │ q quit  space pause  m marker  ? help  │ demo: k/K down  …
//! ```

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::View;
use super::keys::{Binding, DASHBOARD, overridden};
use crate::text::format::fit_words;

pub fn render(frame: &mut Frame, area: Rect, view: &View) {
    let t = &view.theme;
    let mut line = Footer::new(area.width as usize);
    let mode_keys = view.dashboard.mode.as_ref().map(|m| m.keys);
    let entries = |bindings: &'static [Binding], beside_mode: bool| {
        bindings
            .iter()
            .filter(move |b| !beside_mode || b.beside_mode)
            // The dashboard's keys a mode takes over are the mode's to show.
            .filter(move |b| !beside_mode || !overridden(b, mode_keys))
            .filter_map(|b| b.footer)
            .map(|(keys, what)| {
                vec![
                    Span::styled(keys, t.key),
                    Span::styled(format!(" {what}  "), t.muted),
                ]
            })
    };
    if let Some(prompt) = &view.dashboard.label {
        // Typing a marker's label: the line is the prompt.
        line.push(vec![
            Span::styled("marker label: ", t.marker),
            Span::styled(format!("{}▏", prompt.text), t.text),
            Span::styled("  Enter drop it  Esc no label", t.muted),
        ]);
        frame.render_widget(Paragraph::new(Line::from(line.spans)), area);
        return;
    }
    match &view.dashboard.mode {
        None => line.push_all(entries(&DASHBOARD, false)),
        Some(mode) => {
            let status = format!("{}  │ ", mode.status.footer);
            let status = fit_words(&status, line.room());
            line.push(vec![Span::styled(status, t.marker)]);
            line.push_all(entries(&DASHBOARD, true));
            // The mode's title goes with its first key, or not at all.
            let title = Span::styled(format!("│ {}: ", mode.keys.footer_title), t.muted);
            let mut mode_entries = entries(mode.keys.bindings, false);
            if let Some(first) = mode_entries.next()
                && line.push([vec![title], first].concat())
            {
                line.push_all(mode_entries);
            }
        }
    }
    frame.render_widget(Paragraph::new(Line::from(line.spans)), area);
}

/// A line filled with whole entries while they fit.
struct Footer {
    spans: Vec<Span<'static>>,
    columns: usize,
    used: usize,
    full: bool,
}

impl Footer {
    fn new(columns: usize) -> Self {
        Self {
            spans: vec![Span::styled(" ", Style::new())],
            columns,
            used: 1,
            full: false,
        }
    }

    fn room(&self) -> usize {
        self.columns.saturating_sub(self.used)
    }

    /// Adds `entry` if it fits (its trailing spaces may fall off the edge); once one does not,
    /// none after it is added.
    fn push(&mut self, entry: Vec<Span<'static>>) -> bool {
        let width: usize = entry.iter().map(Span::width).sum();
        let trailing = entry
            .last()
            .map_or(0, |s| s.content.len() - s.content.trim_end().len());
        if self.full || self.used + width - trailing > self.columns {
            self.full = true;
            return false;
        }
        self.used += width;
        self.spans.extend(entry);
        true
    }

    fn push_all(&mut self, entries: impl Iterator<Item = Vec<Span<'static>>>) {
        for entry in entries {
            self.push(entry);
        }
    }
}
