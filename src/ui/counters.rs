//! Running counters in two columns: requests, ok, failed, who served, transitions,
//! availability, latency percentiles, and probes in flight.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use super::View;
use crate::text::format::latency;

/// The narrowest a label and its value can be.
const MIN_CELL: usize = 18;

pub fn render(frame: &mut Frame, area: Rect, view: &View) {
    let t = &view.theme;
    let m = view.monitor;
    let shown = m.since_reset();
    let c = &shown.counters;
    let title = if shown.since.is_zero() {
        " Counters ".to_owned()
    } else {
        format!(" Counters · since {} ", view.wall.hms(shown.since))
    };
    let block = Block::bordered()
        .title(Span::styled(title, t.title))
        .border_style(t.border);
    let inner = block.inner(area);
    frame.render_widget(block, area);

    let p = shown.latency.all.percentiles();
    let ms = |d: Option<std::time::Duration>| d.map_or("–".to_owned(), latency);
    let availability = c
        .availability_percent()
        .map_or("–".to_owned(), |a| format!("{a:.1}%"));
    let failed_style = if c.failed > 0 { t.error } else { t.text };
    let cells: [(&str, String, Style); 12] = [
        ("requests", c.sent().to_string(), t.text),
        ("in flight", m.in_flight().len().to_string(), t.in_flight),
        ("ok", c.succeeded.to_string(), t.text),
        ("failed", c.failed.to_string(), failed_style),
        ("primary", c.primary.to_string(), t.primary),
        ("fallback", c.fallback.to_string(), t.fallback),
        ("failovers", c.failovers.to_string(), t.text),
        ("recoveries", c.recoveries.to_string(), t.text),
        ("outages", c.outages.to_string(), t.text),
        ("available", availability, t.text),
        ("p50", ms(p.map(|p| p.p50)), t.text),
        ("p95", ms(p.map(|p| p.p95)), t.text),
    ];
    let rows = inner.height as usize;
    // Two cells a line when all six lines fit, else as many as the width allows; what does
    // not fit is dropped from the end (the cells go from most to least important).
    let fit_width = (inner.width as usize / MIN_CELL).clamp(1, 4);
    let per_line = if rows >= 6 {
        2.min(fit_width)
    } else {
        cells.len().div_ceil(rows.max(1)).clamp(2, 4).min(fit_width)
    };
    let column = (inner.width as usize / per_line).max(1);
    let lines: Vec<Line> = cells
        .chunks(per_line)
        .take(rows)
        .map(|chunk| {
            let mut spans = Vec::new();
            for (label, value, style) in chunk {
                // " label ....... value  ": the value right-aligned, two spaces before the next.
                let used = 1 + label.chars().count() + value.chars().count() + 2;
                let pad = column.saturating_sub(used).max(1);
                spans.push(Span::styled(
                    format!(" {label}{}", " ".repeat(pad)),
                    t.muted,
                ));
                spans.push(Span::styled(format!("{value}  "), *style));
            }
            Line::from(spans)
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
}
