//! Latency per request on a log scale, aligned with the timeline above it: the bar's colour
//! says who served, a failed request is a full-height error bar, a request in flight a gap.

use std::collections::BTreeMap;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Sparkline, SparklineBar};

use super::View;
use crate::probe::Verdict;
use crate::state::HistoryEntry;
use crate::text::format::latency;

/// Log-scale height of a latency: 1 ms and 30 s stay on the same chart.
fn height(record: &HistoryEntry) -> u64 {
    let ms = record.latency.as_secs_f64() * 1000.0;
    ((ms + 1.0).log10() * 1000.0).round() as u64 + 1
}

pub fn render(frame: &mut Frame, area: Rect, view: &View) {
    let t = &view.theme;
    let m = view.monitor;
    let block_area = area;
    let width = (block_area.width as usize).saturating_sub(3).max(1);
    let last = m.last_sent_seq();
    let first = last.saturating_sub(width as u64 - 1).max(1);
    let records: BTreeMap<u64, &HistoryEntry> = m
        .history()
        .iter()
        .rev()
        .take_while(|r| r.seq >= first)
        .map(|r| (r.seq, r))
        .collect();
    let ok = records.values().filter(|r| r.verdict != Verdict::Error);
    let slowest = ok.clone().map(|r| r.latency).max();
    // At least a second of scale, so ordinary jitter does not look like a spike.
    let max = ok
        .map(|r| height(r))
        .max()
        .unwrap_or(0)
        .max(((1000.0f64 + 1.0).log10() * 1000.0) as u64 + 1);
    let bars: Vec<SparklineBar> = if last == 0 {
        Vec::new()
    } else {
        (first..=last)
            .map(|seq| match records.get(&seq) {
                Some(r) if r.verdict == Verdict::Error => SparklineBar::from(max).style(t.error),
                Some(r) => SparklineBar::from(height(r)).style(t.verdict(r.verdict)),
                None => SparklineBar::from(None),
            })
            .collect()
    };
    let mut title = vec![Span::styled(
        if area.width >= 80 {
            " Latency · log scale, aligned with the timeline "
        } else {
            " Latency (log) "
        },
        t.title,
    )];
    if let Some(slowest) = slowest {
        title.push(Span::styled(
            format!(" slowest {} ", latency(slowest)),
            t.muted,
        ));
    }
    let block = Block::bordered()
        .title(Line::from(title))
        .border_style(t.border);
    let inner = block.inner(block_area);
    frame.render_widget(block, block_area);
    // One column in, like the timeline's cells.
    let bars_area = Rect::new(
        inner.x.saturating_add(1).min(inner.right()),
        inner.y,
        inner.width.saturating_sub(1),
        inner.height,
    );
    frame.render_widget(
        Sparkline::default()
            .data(bars)
            .max(max)
            .absent_value_symbol(" "),
        bars_area,
    );
}
