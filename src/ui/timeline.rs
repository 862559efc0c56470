//! The timeline: one cell per request in send order, newest on the right, with a glyph and a
//! colour per result; transitions (▲) are marked under the request that showed them, markers
//! (M) under the last request sent before them, and
//! requests still in flight show with their age.
//!
//! ```text
//! ┌ Timeline · one cell per request, newest right ─────── 2 in flight, oldest 12s ┐
//! │ ●●●●●●●●◆◆◆◆◆◆◆◆◆◆●●●●●●✗✗●●●◌◌                                               │
//! │         ▲M         ▲     ▲ ▲                                                  │
//! │ in flight: #31 12s · #32 9s                                                   │
//! └───────────────────────────────────────────────────────────────────────────────┘
//! ```

use std::collections::BTreeMap;
use std::time::Duration;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};
use unicode_width::UnicodeWidthStr;

use super::{Theme, View};
use crate::probe::Verdict;
use crate::state::{PrimaryKind, ServingKind};
use crate::text::format::span_compact;

pub const PRIMARY_GLYPH: &str = "●";
pub const FALLBACK_GLYPH: &str = "◆";
pub const ERROR_GLYPH: &str = "✗";
pub const IN_FLIGHT_GLYPH: &str = "◌";
pub const UNKNOWN_GLYPH: &str = "·";
pub const TRANSITION_GLYPH: &str = "▲";
pub const MARKER_GLYPH: &str = "M";
/// The primary's own lane (direct probes).
pub const LANE_UP_GLYPH: &str = "▪";
pub const LANE_FAILING_GLYPH: &str = "×";
pub const LANE_COOLING_GLYPH: &str = "◔";
pub const LANE_REFUSED_GLYPH: &str = "-";

/// The glyph and style of each result.
pub fn glyph(view: &View, verdict: Verdict) -> (&'static str, Style) {
    let t = &view.theme;
    match verdict {
        Verdict::Primary => (PRIMARY_GLYPH, t.primary),
        Verdict::Fallback => (FALLBACK_GLYPH, t.fallback),
        Verdict::Error => (ERROR_GLYPH, t.error),
    }
}

pub fn render(frame: &mut Frame, area: Rect, view: &View) {
    let t = &view.theme;
    let m = view.monitor;
    let in_flight = m.in_flight();
    let block = Block::bordered()
        .title(title(view, area.width.saturating_sub(2) as usize))
        .border_style(t.border);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if inner.width < 2 || inner.height == 0 {
        return;
    }

    let width = inner.width as usize - 1;
    let last = m.last_sent_seq();
    let first = last.saturating_sub(width as u64 - 1).max(1);
    let answered: BTreeMap<u64, Verdict> = m
        .history()
        .iter()
        .rev()
        .take_while(|r| r.seq >= first)
        .map(|r| (r.seq, r.verdict))
        .collect();
    let transitions: BTreeMap<u64, ServingKind> = m
        .transitions()
        .iter()
        .filter(|tr| tr.seq >= first)
        .map(|tr| (tr.seq, tr.to))
        .collect();
    // A marker sits under the last request sent before it.
    let markers: BTreeMap<u64, u32> = m
        .markers()
        .iter()
        .filter(|mk| mk.after_seq >= first)
        .map(|mk| (mk.after_seq, mk.id))
        .collect();

    let mut cells = vec![Span::raw(" ")];
    let mut notes = vec![Span::raw(" ")];
    if last > 0 {
        for seq in first..=last {
            cells.push(match (answered.get(&seq), in_flight.contains_key(&seq)) {
                (Some(verdict), _) => {
                    let (g, style) = glyph(view, *verdict);
                    Span::styled(g, style)
                }
                (None, true) => Span::styled(IN_FLIGHT_GLYPH, t.in_flight),
                (None, false) => Span::styled(UNKNOWN_GLYPH, t.muted),
            });
            notes.push(if let Some(to) = transitions.get(&seq) {
                let style = match to {
                    ServingKind::Primary => t.primary,
                    ServingKind::Fallback => t.fallback,
                    ServingKind::Down => t.error,
                };
                Span::styled(TRANSITION_GLYPH, style)
            } else if markers.contains_key(&seq) {
                Span::styled(MARKER_GLYPH, t.marker)
            } else {
                Span::raw(" ")
            });
        }
    }
    let mut lines = vec![Line::from(cells)];
    let lane = view.target.lane.mode.is_on();
    if lane {
        lines.push(lane_line(view, first, last));
    }
    lines.push(Line::from(notes));
    if inner.height as usize > lines.len() {
        lines.push(in_flight_line(view, in_flight, inner.width as usize));
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

/// The primary's lane: under each request, what the lane found of the primary when it was
/// sent (its tick's direct probe, or the quiet lane's probe sent since).
fn lane_line<'a>(view: &View, first: u64, last: u64) -> Line<'a> {
    let t = &view.theme;
    let m = view.monitor;
    // A lane probe sits under the last request sent at or before it (a direct probe of
    // `--direct probe` leaves on the same tick as its request).
    let ticks: BTreeMap<Duration, u64> = m
        .history()
        .iter()
        .rev()
        .take_while(|r| r.seq >= first)
        .map(|r| (r.sent_at, r.seq))
        .chain(m.in_flight().iter().map(|(seq, sent)| (*sent, *seq)))
        .collect();
    let lane = m.primary();
    let mut under: BTreeMap<u64, Span<'a>> = BTreeMap::new();
    let tick_of = |sent: Duration| ticks.range(..=sent).next_back().map(|(_, seq)| *seq);
    for record in lane.history().iter() {
        if let Some(seq) = tick_of(record.sent_at) {
            under.insert(seq, lane_glyph(view, record.kind));
        }
    }
    for sent in lane.in_flight().values() {
        if let Some(seq) = tick_of(*sent) {
            under.insert(seq, Span::styled(IN_FLIGHT_GLYPH, t.in_flight));
        }
    }
    let mut cells = vec![Span::raw(" ")];
    if last > 0 {
        cells.extend((first..=last).map(|seq| under.remove(&seq).unwrap_or(Span::raw(" "))));
    }
    Line::from(cells)
}

/// The glyph and style of the primary's own state.
pub fn lane_look(t: &Theme, kind: PrimaryKind) -> (&'static str, Style) {
    match kind {
        PrimaryKind::Up => (LANE_UP_GLYPH, t.primary),
        PrimaryKind::Failing => (LANE_FAILING_GLYPH, t.error),
        PrimaryKind::CoolingDown => (LANE_COOLING_GLYPH, t.fallback),
        PrimaryKind::Refused => (LANE_REFUSED_GLYPH, t.muted),
    }
}

fn lane_glyph<'a>(view: &View, kind: PrimaryKind) -> Span<'a> {
    let (glyph, style) = lane_look(&view.theme, kind);
    Span::styled(glyph, style)
}

/// A glyph of the timeline: its look, its word in the legend, and what the help says of it.
pub struct Glyph {
    pub glyph: &'static str,
    pub style: Style,
    pub word: &'static str,
    pub meaning: &'static str,
}

/// The timeline's glyphs, in the legend's order.
pub fn glyphs(t: &Theme) -> [Glyph; 6] {
    let glyph = |glyph, style, word, meaning| Glyph {
        glyph,
        style,
        word,
        meaning,
    };
    [
        glyph(PRIMARY_GLYPH, t.primary, "primary", "served by the primary"),
        glyph(
            FALLBACK_GLYPH,
            t.fallback,
            "fallback",
            "served by a fallback",
        ),
        glyph(
            ERROR_GLYPH,
            t.error,
            "failed",
            "failed (and a full-height bar in the latency chart)",
        ),
        glyph(
            IN_FLIGHT_GLYPH,
            t.in_flight,
            "in flight",
            "sent, no answer yet (probes leave on schedule anyway)",
        ),
        glyph(
            TRANSITION_GLYPH,
            t.text,
            "transition",
            "a transition: failover, recovery, outage, restored",
        ),
        glyph(MARKER_GLYPH, t.marker, "marker", "a marker you dropped"),
    ]
}

/// What the glyphs mean: whole entries, the most needed first where not all fit, shown in
/// their usual order.
fn legend<'a>(view: &View, columns: usize) -> Line<'a> {
    let t = &view.theme;
    let entry = |glyph: &'static str, style: Style, word: &'static str| {
        vec![
            Span::styled(glyph, style),
            Span::styled(format!(" {word}  "), t.muted),
        ]
    };
    // (importance, spans), in the order shown.
    let mut entries: Vec<_> = [0, 1, 2, 5, 4, 6]
        .into_iter()
        .zip(glyphs(t))
        .map(|(importance, g)| (importance, entry(g.glyph, g.style, g.word)))
        .collect();
    if view.target.lane.mode.is_on() {
        let mut lane = vec![Span::styled("│ primary alone: ", t.muted)];
        for (kind, word) in [
            (PrimaryKind::Up, " up "),
            (PrimaryKind::Failing, " failing "),
            (PrimaryKind::CoolingDown, " cooldown"),
        ] {
            lane.push(lane_glyph(view, kind));
            lane.push(Span::styled(word, t.muted));
        }
        entries.push((3, lane));
    }
    let width = |spans: &[Span]| spans.iter().map(Span::width).sum::<usize>();
    let trailing = |spans: &[Span]| {
        spans
            .last()
            .map_or(0, |s| s.content.len() - s.content.trim_end().len())
    };
    let mut by_importance: Vec<usize> = (0..entries.len()).collect();
    by_importance.sort_by_key(|&i| entries[i].0);
    let mut shown = vec![false; entries.len()];
    // The line's width with these entries; the last one's trailing spaces may fall off the edge.
    let line_width = |shown: &[bool]| {
        let kept: Vec<&Vec<Span>> = entries
            .iter()
            .zip(shown)
            .filter_map(|((_, spans), &on)| on.then_some(spans))
            .collect();
        let all: usize = kept.iter().map(|spans| width(spans)).sum();
        1 + all - kept.last().map_or(0, |spans| trailing(spans))
    };
    for i in by_importance {
        shown[i] = true;
        shown[i] = line_width(&shown) <= columns;
    }
    let mut spans = vec![Span::raw(" ")];
    for (i, (_, entry)) in entries.into_iter().enumerate() {
        if shown[i] {
            spans.extend(entry);
        }
    }
    Line::from(spans)
}

/// The title, with what is in flight and the ticks skipped: the long words where they fit,
/// shorter ones where not, never a word cut.
fn title<'a>(view: &View, columns: usize) -> Line<'a> {
    let t = &view.theme;
    let m = view.monitor;
    let in_flight = m.in_flight();
    let oldest = in_flight.values().next().map(|sent| {
        let age = span_compact(view.data_now.saturating_sub(*sent));
        (
            format!(" {} in flight, oldest {age} ", in_flight.len()),
            format!(" {} in flight ", in_flight.len()),
        )
    });
    // Ticks skipped at --max-in-flight leave no cell: say so, or they would pass unseen.
    let skipped = m.since_reset().counters.skipped;
    let skipped = (skipped > 0).then(|| {
        (
            format!(" {skipped} skipped: too many in flight "),
            format!(" {skipped} skipped "),
        )
    });
    let name = [
        " Timeline · one cell per request, newest right ",
        " Timeline ",
    ];
    let pick = |long: bool, of: &Option<(String, String)>| {
        of.as_ref()
            .map(|(l, s)| if long { l.clone() } else { s.clone() })
            .unwrap_or_default()
    };
    // From the longest title to the shortest; the first that fits.
    let choices = [
        (name[0], true, true),
        (name[1], true, true),
        (name[1], false, true),
        (name[1], false, false),
    ];
    // The long name from 80 columns on only: narrower, the cells are what counts.
    let first = if columns + 2 >= 80 { 0 } else { 1 };
    let (name, long_flight, long_skip) = choices[first..]
        .iter()
        .copied()
        .find(|(name, f, s)| {
            name.width() + pick(*f, &oldest).width() + pick(*s, &skipped).width() <= columns
        })
        .unwrap_or(choices[3]);
    Line::from(vec![
        Span::styled(name, t.title),
        Span::styled(pick(long_flight, &oldest), t.in_flight),
        Span::styled(pick(long_skip, &skipped), t.error),
    ])
}

fn in_flight_line<'a>(
    view: &View,
    in_flight: &BTreeMap<u64, Duration>,
    columns: usize,
) -> Line<'a> {
    let t = &view.theme;
    if in_flight.is_empty() {
        return legend(view, columns);
    }
    let mut spans = vec![Span::styled(" in flight: ", t.in_flight)];
    for (i, (seq, sent)) in in_flight.iter().enumerate() {
        if i > 0 {
            spans.push(Span::styled(" · ", t.muted));
        }
        spans.push(Span::styled(
            format!(
                "#{seq} {}",
                span_compact(view.data_now.saturating_sub(*sent))
            ),
            t.text,
        ));
    }
    Line::from(spans)
}
