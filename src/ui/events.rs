//! Transition events and markers, newest first: time, request number, from → to, how long
//! the previous state lasted, failed requests during the switch, and the lag after a marker.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use super::View;
use unicode_width::UnicodeWidthStr;

use crate::state::{Marker, ServingKind, Transition, TransitionKind};
use crate::text::format::{fit_words, marker_name, span, wrap_within};

enum Entry<'a> {
    Transition(&'a Transition),
    Marker(&'a Marker),
}

pub fn render(frame: &mut Frame, area: Rect, view: &View) {
    let t = &view.theme;
    let m = view.monitor;
    let block = Block::bordered()
        .title(Span::styled(" Transitions ", t.title))
        .border_style(t.border);
    let inner = block.inner(area);
    frame.render_widget(block, area);

    let mut entries: Vec<(std::time::Duration, Entry)> = m
        .transitions()
        .iter()
        .map(|tr| (tr.at, Entry::Transition(tr)))
        .chain(m.markers().iter().map(|mk| (mk.at, Entry::Marker(mk))))
        .collect();
    entries.sort_by_key(|e| std::cmp::Reverse(e.0));
    if entries.is_empty() {
        let hint = "No transition yet. m marks a moment (\"scaled down now\").";
        let columns = (inner.width as usize).saturating_sub(1);
        let lines: Vec<Line> = wrap_within(hint, columns, inner.height as usize)
            .into_iter()
            .map(|line| Line::from(Span::styled(format!(" {line}"), t.muted)))
            .collect();
        frame.render_widget(Paragraph::new(lines), inner);
        return;
    }
    let mut lines: Vec<Line> = Vec::new();
    for (at, entry) in &entries {
        let time = Span::styled(format!(" {} ", view.wall.hms(*at)), t.muted);
        match entry {
            Entry::Marker(mk) => {
                let name = marker_name(mk.id, mk.label.as_deref());
                let room = (inner.width as usize).saturating_sub(time.width() + "MARKER ".len());
                lines.push(Line::from(vec![
                    time,
                    Span::styled(format!("MARKER {}", fit_words(&name, room)), t.marker),
                    Span::styled(format!("  after request #{}", mk.after_seq), t.muted),
                ]));
            }
            Entry::Transition(tr) => {
                let room = (inner.width as usize).saturating_sub(time.width());
                let (headline, details, lag) = transition(view, tr, room);
                lines.push(Line::from([vec![time], headline].concat()));
                // Why the primary was away, or how long LiteLLM held it back.
                let why = match (&tr.cause, tr.primary_cooldown) {
                    (Some(cause), _) => Some(cause.clone()),
                    (None, Some(held)) => Some(format!("{} in LiteLLM's cooldown", span(held))),
                    (None, None) => None,
                };
                if let Some(why) = why {
                    let why = fit_words(&format!("  {why}"), inner.width as usize);
                    lines.push(Line::from(Span::styled(why, t.text)));
                }
                let details = Line::from(details);
                // The lag after the marker on a line of its own rather than cut off.
                match lag {
                    Some(lag) => {
                        let separator = Span::styled(" · ", lag.style);
                        let joined = details.width() + separator.width() + lag.width();
                        if joined > inner.width as usize {
                            lines.push(details);
                            lines.push(Line::from(vec![Span::raw("  "), lag]));
                        } else {
                            lines.push(Line::from([details.spans, vec![separator, lag]].concat()));
                        }
                    }
                    None => lines.push(details),
                }
            }
        }
        if lines.len() >= inner.height as usize {
            break;
        }
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

/// A transition's headline in `room` columns, what it cost (for the line under it), and how
/// long after a marker it came.
fn transition<'a>(
    view: &View,
    tr: &'a Transition,
    room: usize,
) -> (Vec<Span<'a>>, Vec<Span<'a>>, Option<Span<'a>>) {
    let t = &view.theme;
    let style = match tr.to {
        ServingKind::Primary => t.primary,
        ServingKind::Fallback => t.fallback,
        ServingKind::Down => t.error,
    };
    let word = match tr.kind {
        TransitionKind::Failover => "FAILOVER",
        TransitionKind::Recovery => "RECOVERY",
        TransitionKind::Outage => "OUTAGE",
        TransitionKind::Restored => "RESTORED",
    };
    let from = tr.from_model.as_deref().unwrap_or("nothing");
    let to = tr.to_model.as_deref().unwrap_or("nothing");
    let seq = format!("#{} ", tr.seq);
    let word = format!("{word:<8} ");
    // Long model names are cut at a word's end, never mid-name without a mark.
    let models = fit_words(
        &format!("{from} → {to}"),
        room.saturating_sub(seq.width() + word.width()),
    );
    let headline = vec![
        Span::styled(seq, t.muted),
        Span::styled(word, style),
        Span::styled(models, t.text),
    ];
    let mut spans = vec![Span::styled(
        format!(
            "  {} {}",
            span(tr.previous),
            tr.from_model
                .as_deref()
                .map_or("down".to_owned(), |m| format!("on {m}"))
        ),
        t.muted,
    )];
    let failed = format!(" · {} failed", tr.failed_during);
    spans.push(Span::styled(
        failed,
        if tr.failed_during > 0 {
            t.error
        } else {
            t.muted
        },
    ));
    let lag = tr.after_marker.as_ref().map(|lag| {
        let marker = marker_name(lag.marker, lag.label.as_deref());
        Span::styled(format!("{} after {marker}", span(lag.lag)), t.marker)
    });
    (headline, spans, lag)
}
