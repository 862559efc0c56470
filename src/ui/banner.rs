//! NOW SERVING: the state in words, big enough for the back of the room, with the model and
//! how long it has been so.
//!
//! ```text
//! ┌ NOW SERVING ───────────────────────────────────────┐
//! │ ████  ████  ███ █   █  ███  ████  █   █             │
//! │ █   █ █   █  █  ██ ██ █   █ █   █  █ █              │
//! │ ████  ████   █  █ █ █ █████ ████    █               │
//! │ █     █  █   █  █   █ █   █ █  █    █               │
//! │ █     █   █ ███ █   █ █   █ █   █   █               │
//! │ llama-fp8 · for 3m 12s · since #57 at 14:01:02      │
//! └─────────────────────────────────────────────────────┘
//! ```
//!
//! Where the big letters do not fit, one line (`▶ DOWN  3 failed in a row · for 8.0 s · since
//! #12 at 14:01:02`) with the last error under it.

use ratatui::Frame;
use ratatui::layout::{Alignment, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use super::{View, font};
use crate::output::format::span;
use crate::state::Serving;

pub fn render(frame: &mut Frame, area: Rect, view: &View) {
    let t = &view.theme;
    let m = view.monitor;
    let (word, style, model) = match m.serving() {
        Serving::Unknown => ("WAITING", t.in_flight, None),
        Serving::Primary { model } => ("PRIMARY", t.primary, Some(model.as_str())),
        Serving::Fallback { model } => ("FALLBACK", t.fallback, Some(model.as_str())),
        Serving::Down => ("DOWN", t.error, None),
    };
    let block = Block::bordered()
        .title(Span::styled(" NOW SERVING ", t.title))
        .border_style(
            style.patch(Style::new().remove_modifier(ratatui::style::Modifier::REVERSED)),
        );
    let inner = block.inner(area);
    frame.render_widget(block, area);

    let big = inner.height as usize > font::HEIGHT && inner.width as usize >= font::width(word) + 2;
    let detail = detail_line(view, model);
    let mut lines: Vec<Line> = Vec::new();
    if big {
        for row in font::render(word) {
            lines.push(Line::from(Span::styled(row, style)));
        }
        lines.push(detail);
    } else {
        // One line for the state, so a small banner still has room for why it is DOWN.
        let headline = Span::styled(format!("▶ {word}  "), style);
        lines.push(Line::from([vec![headline], detail.spans].concat()));
    }
    if let Some(warning) = warning(view)
        && (inner.height as usize) > lines.len()
    {
        lines.push(Line::from(Span::styled(format!("⚠ {warning}"), t.fallback)));
    }
    if let Some(demo) = &view.dashboard.demo
        && (inner.height as usize) > lines.len()
    {
        let mut stage = format!(
            "simulated primary {} · fallback {}",
            demo.primary, demo.fallback
        );
        if let Some(script) = &demo.script {
            stage.push_str(&format!(" · {script}"));
        }
        lines.push(Line::from(Span::styled(stage, t.marker)));
    }
    frame.render_widget(Paragraph::new(lines).alignment(Alignment::Center), inner);
}

fn detail_line<'a>(view: &View, model: Option<&'a str>) -> Line<'a> {
    let t = &view.theme;
    let m = view.monitor;
    let (since, seq) = m.serving_since();
    let how_long = format!(
        "for {} · since #{seq} at {}",
        span(view.data_now.saturating_sub(since)),
        view.wall.hms(since)
    );
    let mut spans = Vec::new();
    match m.serving() {
        Serving::Unknown => {
            spans.push(Span::styled("no answer yet", t.muted));
        }
        Serving::Down => {
            spans.push(Span::styled(
                format!("{} failed in a row · ", m.consecutive_errors()),
                t.error,
            ));
            spans.push(Span::styled(how_long, t.text));
        }
        Serving::Primary { .. } | Serving::Fallback { .. } => {
            if let Some(model) = model {
                spans.push(Span::styled(model, t.text));
                spans.push(Span::styled(" · ", t.muted));
            }
            spans.push(Span::styled(how_long, t.text));
        }
    }
    Line::from(spans)
}

/// What the banner should warn about, if anything.
fn warning(view: &View) -> Option<String> {
    let m = view.monitor;
    if m.primary_never_served() && m.counters().fallback >= 3 {
        return Some(format!(
            "{} has not served once: check its deployment (LiteLLM's openai/ needs an api_key)",
            view.dashboard.info.primary
        ));
    }
    if let Serving::Down = m.serving() {
        let last = m.history().iter().rev().find(|r| r.error_kind.is_some())?;
        return Some(last.text.clone());
    }
    None
}
