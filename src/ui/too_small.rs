//! What the dashboard shows in a terminal under its minimum size.

use ratatui::Frame;
use ratatui::layout::{Alignment, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::View;
use super::layout::{MIN_HEIGHT, MIN_WIDTH};
use crate::state::Serving;

pub fn render(frame: &mut Frame, area: Rect, view: &View) {
    let t = &view.theme;
    let (word, style) = match view.monitor.serving() {
        Serving::Unknown => ("WAITING", t.in_flight),
        Serving::Primary { .. } => ("PRIMARY", t.primary),
        Serving::Fallback { .. } => ("FALLBACK", t.fallback),
        Serving::Down => ("DOWN", t.error),
    };
    let lines = vec![
        Line::from(Span::styled(word, style)),
        Line::from(Span::styled(
            format!(
                "terminal too small (need {MIN_WIDTH}×{MIN_HEIGHT}, have {}×{})",
                area.width, area.height
            ),
            t.muted,
        )),
    ];
    let top = area.height.saturating_sub(lines.len() as u16) / 2;
    let inner = Rect::new(area.x, area.y + top, area.width, area.height - top);
    frame.render_widget(
        Paragraph::new(lines)
            .alignment(Alignment::Center)
            .wrap(Wrap { trim: true }),
        inner,
    );
}
