//! The latest requests, newest first: number, time, result, model, latency, reply excerpt.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use super::View;
use super::timeline::{IN_FLIGHT_GLYPH, glyph};
use crate::probe::Verdict;
use crate::text::format::{fit_columns, fit_words, latency, span_compact};

pub fn render(frame: &mut Frame, area: Rect, view: &View) {
    let t = &view.theme;
    let m = view.monitor;
    let block = Block::bordered()
        .title(Span::styled(" Recent requests ", t.title))
        .border_style(t.border);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let rows = inner.height as usize;
    // The send time where a short reply ("Hi.", "Hello!") still fits beside it.
    let time = |at| {
        if inner.width >= 54 {
            format!("{} ", view.wall.hms(at))
        } else {
            String::new()
        }
    };

    let mut lines: Vec<(u64, Line)> = m
        .in_flight()
        .iter()
        .rev()
        .take(rows)
        .map(|(seq, sent)| {
            let line = Line::from(vec![
                Span::styled(format!(" #{seq:<4} {}", time(*sent)), t.muted),
                Span::styled(format!("{IN_FLIGHT_GLYPH} WAITING  "), t.in_flight),
                Span::styled(
                    format!("for {}", span_compact(view.data_now.saturating_sub(*sent))),
                    t.in_flight,
                ),
            ]);
            (*seq, line)
        })
        .collect();
    lines.extend(m.history().iter().rev().take(rows).map(|r| {
        let (g, style) = glyph(view, r.verdict);
        let word = match r.verdict {
            Verdict::Primary => "PRIMARY ",
            Verdict::Fallback => "FALLBACK",
            Verdict::Error => "FAILED  ",
        };
        let what = match (r.verdict, r.status, r.error_kind) {
            (Verdict::Error, Some(status), _) if !(200..300).contains(&status) => {
                format!("HTTP {status}")
            }
            (Verdict::Error, _, Some(kind)) => kind.as_str().to_owned(),
            _ => r.model.clone().unwrap_or_default(),
        };
        let late = if r.late { " (late)" } else { "" };
        let mut spans = vec![
            Span::styled(format!(" #{:<4} {}", r.seq, time(r.sent_at)), t.muted),
            Span::styled(format!("{g} {word} "), style),
            Span::styled(format!("{} ", fit_columns(&what, 13)), t.text),
            Span::styled(format!("{:>7}{late} ", latency(r.latency)), t.muted),
        ];
        // The reply or the error in what is left, cut at a word's end.
        let used: usize = spans.iter().map(Span::width).sum();
        let room = (inner.width as usize).saturating_sub(used);
        spans.push(Span::styled(
            fit_words(&r.text, room),
            if r.verdict == Verdict::Error {
                t.error
            } else {
                t.text
            },
        ));
        let line = Line::from(spans);
        (r.seq, line)
    }));
    lines.sort_by_key(|l| std::cmp::Reverse(l.0));
    let lines: Vec<Line> = lines.into_iter().take(rows).map(|(_, l)| l).collect();
    frame.render_widget(Paragraph::new(lines), inner);
}
