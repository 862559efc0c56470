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
//! #12 at 14:01:02`) with the last error under it. Under the details, where rows are left:
//! why (the primary's lane), LiteLLM's own word (its metrics: `LiteLLM: llama-fp8 complete
//! outage · 2 cooldowns · 14 fallbacks`), a warning, the mode's line.

use ratatui::Frame;
use ratatui::layout::{Alignment, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use super::{View, font};
use crate::litellm::errors::cause;
use crate::state::{PrimaryState, Serving};
use crate::text::format::{fit_parts, span, wrap_within};

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
    let width = inner.width as usize;
    let parts = detail_parts(view, model);
    let mut lines: Vec<Line> = Vec::new();
    if big {
        for row in font::render(word) {
            lines.push(Line::from(Span::styled(row, style)));
        }
        lines.push(Line::from(fit_detail(view, &parts, width)));
    } else {
        // One line for the state, so a small banner still has room for why it is DOWN.
        let headline = Span::styled(format!("▶ {word}  "), style);
        let room = width.saturating_sub(headline.width());
        lines.push(Line::from(
            [vec![headline], fit_detail(view, &parts, room)].concat(),
        ));
    }
    if let Some(reason) = reason(view)
        && (inner.height as usize) > lines.len()
    {
        let parts: Vec<&str> = reason.split(SEPARATOR).collect();
        let line = fit_parts(&parts, SEPARATOR, width);
        lines.push(Line::from(Span::styled(line, t.text)));
    }
    let mode_line = view
        .dashboard
        .mode
        .as_ref()
        .map(|mode| mode.status.banner.as_str())
        .filter(|line| !line.is_empty());
    // LiteLLM's own word beside the watcher's, where a row is left (the mode's line kept).
    if let Some(now) = m.proxy().now()
        && (inner.height as usize) > lines.len() + usize::from(mode_line.is_some())
    {
        let mut parts = now.parts(&view.target.primary);
        parts[0] = format!("LiteLLM: {}", parts[0]);
        let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
        let line = fit_parts(&parts, SEPARATOR, width);
        lines.push(Line::from(Span::styled(line, t.muted)));
    }
    if let Some(warning) = warning(view) {
        // On as many rows as it needs and the banner has, the mode's line kept.
        let rows = (inner.height as usize)
            .saturating_sub(lines.len())
            .saturating_sub(usize::from(mode_line.is_some()))
            .max(usize::from(inner.height as usize > lines.len()));
        for line in wrap_within(&format!("⚠ {warning}"), width, rows) {
            lines.push(Line::from(Span::styled(line, t.fallback)));
        }
    }
    if let Some(mode_line) = mode_line
        && (inner.height as usize) > lines.len()
    {
        let parts: Vec<&str> = mode_line.split(SEPARATOR).collect();
        let line = fit_parts(&parts, SEPARATOR, width);
        lines.push(Line::from(Span::styled(line, t.marker)));
    }
    frame.render_widget(Paragraph::new(lines).alignment(Alignment::Center), inner);
}

/// Between the parts of a line of details.
const SEPARATOR: &str = " · ";

/// What the state is about, most important first: the model (or the failures), for how long,
/// since which request.
fn detail_parts(view: &View, model: Option<&str>) -> Vec<(String, Style)> {
    let t = &view.theme;
    let m = view.monitor;
    let (since, seq) = m.serving_since();
    let how_long = format!("for {}", span(view.data_now.saturating_sub(since)));
    let since = format!("since #{seq} at {}", view.wall.hms(since));
    let lead = match m.serving() {
        Serving::Unknown => return vec![("no answer yet".to_owned(), t.muted)],
        Serving::Down => Some((
            format!("{} failed in a row", m.consecutive_errors()),
            t.error,
        )),
        Serving::Primary { .. } | Serving::Fallback { .. } => {
            model.map(|model| (model.to_owned(), t.text))
        }
    };
    lead.into_iter()
        .chain([(how_long, t.text), (since, t.text)])
        .collect()
}

/// As many of the parts as fit whole in `columns`, separated by dots.
fn fit_detail<'a>(view: &View, parts: &[(String, Style)], columns: usize) -> Vec<Span<'a>> {
    let texts: Vec<&str> = parts.iter().map(|(text, _)| text.as_str()).collect();
    let fitted = fit_parts(&texts, SEPARATOR, columns);
    let mut spans = Vec::new();
    let mut rest = fitted.as_str();
    for (i, (text, style)) in parts.iter().enumerate() {
        if rest.is_empty() {
            break;
        }
        if i > 0 {
            spans.push(Span::styled(SEPARATOR, view.theme.muted));
            rest = rest.strip_prefix(SEPARATOR).unwrap_or(rest);
        }
        // The last part shown may have been cut.
        let shown = if rest.starts_with(text.as_str()) {
            text.as_str()
        } else {
            rest
        };
        spans.push(Span::styled(shown.to_owned(), *style));
        rest = &rest[shown.len()..];
    }
    spans
}

/// Why the state is what it is, as the primary's own state (the direct probes) tells, in
/// words a room can read.
fn reason(view: &View) -> Option<String> {
    let m = view.monitor;
    let away = matches!(m.serving(), Serving::Fallback { .. } | Serving::Down);
    match (m.primary().state(), away) {
        (PrimaryState::Failing { message, .. }, true) => {
            Some(format!("primary failing: {}", cause(message)))
        }
        (PrimaryState::CoolingDown(cooldown), true) => {
            let next = match cooldown.next_try {
                Some(at) if at > view.data_now => {
                    let left = at - view.data_now;
                    // Its start unseen (before the run, or before the failures the watcher
                    // saw): the latest it can be.
                    let how = if cooldown.next_try_at_latest {
                        "within "
                    } else {
                        "in ~"
                    };
                    format!(
                        "next try {how}{} s",
                        left.as_secs() + u64::from(left.subsec_nanos() > 0)
                    )
                }
                Some(_) => "next try any moment".to_owned(),
                None => "next try when the cooldown ends".to_owned(),
            };
            Some(format!("primary in LiteLLM cooldown{SEPARATOR}{next}"))
        }
        (PrimaryState::Up, true) => {
            Some("primary answers, traffic returns on LiteLLM's next pick".to_owned())
        }
        (PrimaryState::Failing { .. } | PrimaryState::CoolingDown(_), false)
            if matches!(m.serving(), Serving::Primary { .. }) =>
        {
            Some("primary serves, but its direct probes fail".to_owned())
        }
        _ => None,
    }
}

/// What the banner should warn about, if anything.
fn warning(view: &View) -> Option<String> {
    let m = view.monitor;
    if m.primary_never_served() && m.counters().fallback >= 3 {
        return Some(format!(
            "{} has not served once: check its deployment (LiteLLM's openai/ needs an api_key)",
            view.target.primary
        ));
    }
    if let Serving::Down = m.serving()
        && let Some(last) = m.history().iter().rev().find(|r| r.error_kind.is_some())
    {
        return Some(last.text.clone());
    }
    m.notices().last().map(|n| n.message.clone())
}
