//! The bottom line: the keys, from the key table. With a mode, its status comes first (on a
//! narrow screen it is what must show), then the screen's keys (the overview's), the
//! dashboard's keys kept beside a mode, then the mode's own. Where they do not all fit, the dashboard's give way first (the marker, pause,
//! help, then quit), so that a mode's keys stay readable at 80 columns; an entry that does not
//! fit is left out whole, with those after it (the help has them all); none is cut. While the
//! display (or the mode) is paused, its pause key says what it does then: `space resume`.
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

/// The dashboard's keys beside a mode, in the order they give way when room is short.
const GIVE_WAY: [&str; 4] = ["m", "space", "?", "q"];

pub fn render(frame: &mut Frame, area: Rect, view: &View) {
    let t = &view.theme;
    let columns = area.width as usize;
    let mut line = Footer::new(columns);
    let mode_keys = view.dashboard.mode.as_ref().map(|m| m.keys);
    let mode_paused = view
        .dashboard
        .mode
        .as_ref()
        .is_some_and(|m| m.status.paused);
    let dashboard_paused = view.dashboard.paused.is_some();
    let entry = move |b: &Binding, paused: bool| {
        let (keys, what) = b.footer?;
        let what = b.footer_paused.filter(|_| paused).unwrap_or(what);
        Some(vec![
            Span::styled(keys, t.key),
            Span::styled(format!(" {what}  "), t.muted),
        ])
    };
    let beside_mode = |b: &&Binding| b.beside_mode && !overridden(b, mode_keys);
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
    if view
        .dashboard
        .overview
        .as_ref()
        .is_some_and(|o| o.filtering)
    {
        line.push(vec![
            Span::styled("filter: ", t.marker),
            Span::styled("type a part of a name  ", t.text),
            Span::styled("Enter keep it  Esc clear it", t.muted),
        ]);
        frame.render_widget(Paragraph::new(Line::from(line.spans)), area);
        return;
    }
    // The keys of what the screen shows (the overview's, an opened target's) come first, after
    // a mode's status.
    let screen = view.dashboard.screen_keys();
    let screen_entries = screen.iter().filter_map(|b| entry(b, dashboard_paused));
    match &view.dashboard.mode {
        None => {
            line.push_all(screen_entries);
            line.push_all(DASHBOARD.iter().filter_map(|b| entry(b, dashboard_paused)));
        }
        Some(mode) => {
            let status = format!("{}  │ ", mode.status.footer);
            let status = fit_words(&status, line.room());
            line.push(vec![Span::styled(status, t.marker)]);
            line.push_all(screen_entries);
            let mut mode_entries: Vec<_> = mode
                .keys
                .bindings
                .iter()
                .filter_map(|b| entry(b, mode_paused))
                .collect();
            let mut own: Vec<&Binding> = DASHBOARD.iter().filter(beside_mode).collect();
            let room = line.room();
            let width = |entries: &[Vec<Span>]| -> usize {
                entries.iter().flatten().map(Span::width).sum()
            };
            // "│ demo: " before the mode's keys.
            let title_width = mode.keys.footer_title.chars().count() + 4;
            for key in GIVE_WAY {
                let own_entries: Vec<_> = own
                    .iter()
                    .filter_map(|b| entry(b, dashboard_paused))
                    .collect();
                if width(&own_entries) + title_width + width(&mode_entries) <= room + 2 {
                    break;
                }
                own.retain(|b| b.footer.is_none_or(|(keys, _)| keys != key));
            }
            // The mode's title goes with its first key, after a bar when the dashboard's keys
            // come before it.
            if let Some(first) = mode_entries.first_mut() {
                let bar = if own.is_empty() { "" } else { "│ " };
                let title = format!("{bar}{}: ", mode.keys.footer_title);
                first.insert(0, Span::styled(title, t.muted));
            }
            line.push_all(own.iter().filter_map(|b| entry(b, dashboard_paused)));
            line.push_all(mode_entries.into_iter());
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
