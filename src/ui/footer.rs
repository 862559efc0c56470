//! The bottom line: the keys, from the key table. With a mode, its status comes first (on a
//! narrow screen it is what must show), then the dashboard's keys kept beside a mode, then the
//! mode's own.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::View;
use super::keys::{Binding, DASHBOARD};

pub fn render(frame: &mut Frame, area: Rect, view: &View) {
    let t = &view.theme;
    let entries = |bindings: &'static [Binding], beside_mode: bool| {
        bindings
            .iter()
            .filter(move |b| !beside_mode || b.beside_mode)
            .filter_map(|b| b.footer)
            .flat_map(|(keys, what)| {
                [
                    Span::styled(keys, t.key),
                    Span::styled(format!(" {what}  "), t.muted),
                ]
            })
    };
    let mut spans = vec![Span::raw(" ")];
    match &view.dashboard.mode {
        None => spans.extend(entries(&DASHBOARD, false)),
        Some(mode) => {
            spans.push(Span::styled(
                format!("{}  │ ", mode.status.footer),
                t.marker,
            ));
            spans.extend(entries(&DASHBOARD, true));
            spans.push(Span::styled(
                format!("│ {}: ", mode.keys.footer_title),
                t.muted,
            ));
            spans.extend(entries(mode.keys.bindings, false));
        }
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}
