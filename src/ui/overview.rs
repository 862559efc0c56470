//! The overview of a run of several targets: a summary line, then one row per target, those
//! not on their primary first. Enter opens the selected target's full dashboard.
//!
//! ```text
//!  failover-watch ● LIVE  12 targets  every 1s  LiteLLM 1.83.14  2 proxies        14:02:11
//! ┌ Targets · ↑/↓ select · Enter open · / filter ──────────────────────────────────────────┐
//! │ 12 targets: 9 on their primary · 2 on a fallback · 1 down                              │
//! │     TARGET     NOW        RECENT           AVAIL      p50      FOR PRIMARY      LAST CHANGE │
//! │ ▶ ! qwen-72b   ◆ FALLBACK ●●●●●●✗◆◆◆◆◆◆    98.3%    41 ms      52s ◔ cooling    14:01:02 F… │
//! │                                                                                           │
//! │   ! llama3     ✗ DOWN     ●●●●●●●✗✗✗✗✗✗    91.0%        –      12s × failing    14:01:40 O… │
//! │                                                                                           │
//! │     mistral    ● PRIMARY  ●●●●●●●●●●●●●     100%    23 ms    3m 1s ▪ up         –           │
//! │ ↓ 3 more below                                                                          │
//! └────────────────────────────────────────────────────────────────────────────────────────┘
//!  ↑/↓ select  enter open  / filter  q quit  space pause  m marker  ? help
//! ```
//!
//! NOW is said in words beside its glyph, never by colour alone. `!` marks a row whose target
//! changed in the last minute. Where every row fits twice, a blank line parts them. The
//! PRIMARY column (the primary's own state) shows when a target has its lane on. Narrow screens drop the last transition, then the primary's own
//! state, the time in the state, p50 and availability, in that order; the strip of recent
//! requests takes the room left.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use super::dashboard::CHANGED_FOR;
use super::timeline::{self, ERROR_GLYPH, FALLBACK_GLYPH, PRIMARY_GLYPH, UNKNOWN_GLYPH};
use super::{Theme, View, footer, header};
use crate::probe::TargetId;
use crate::state::{Monitor, Serving, TransitionKind};
use crate::text::format::{fit_columns, latency, span_compact};

/// The narrowest name column, and the widest.
const NAME_MIN: usize = 10;
const NAME_MAX: usize = 28;
/// The narrowest strip of recent requests, and the widest.
const RECENT_MIN: usize = 8;
const RECENT_MAX: usize = 40;

/// The whole screen: the header, the overview, the footer.
pub fn render_screen(frame: &mut Frame, area: Rect, view: &View) {
    if area.height < 3 {
        render(frame, area, view);
        return;
    }
    let header_area = Rect { height: 1, ..area };
    let footer_area = Rect {
        y: area.y + area.height - 1,
        height: 1,
        ..area
    };
    let body = Rect {
        y: area.y + 1,
        height: area.height - 2,
        ..area
    };
    header::render(frame, header_area, view);
    render(frame, body, view);
    footer::render(frame, footer_area, view);
}

/// A column of the table, in the order they give way on a narrow screen (the last first).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Column {
    Availability,
    P50,
    For,
    Primary,
    Last,
}

impl Column {
    const ALL: [Column; 5] = [
        Column::Availability,
        Column::P50,
        Column::For,
        Column::Primary,
        Column::Last,
    ];

    fn width(self) -> usize {
        match self {
            Column::Availability => 7,
            Column::P50 => 9,
            Column::For => 8,
            Column::Primary => 12,
            Column::Last => 18,
        }
    }

    fn title(self) -> &'static str {
        match self {
            Column::Availability => "  AVAIL",
            Column::P50 => "      p50",
            Column::For => "     FOR",
            Column::Primary => "PRIMARY",
            Column::Last => "LAST CHANGE",
        }
    }
}

/// Where each column goes at a given width.
struct Widths {
    name: usize,
    recent: usize,
    columns: Vec<Column>,
}

/// The mark (4) and NOW (11); each optional column takes a space more than its width.
const FIXED: usize = 4 + 11;

/// The columns that fit in `room`, the lane's only when a target has its lane on.
fn widths(room: usize, longest_name: usize, lane: bool) -> Widths {
    let name = longest_name.clamp(NAME_MIN, NAME_MAX) + 1;
    let mut used = FIXED + NAME_MIN + 1 + RECENT_MIN;
    let mut columns = Vec::new();
    for column in Column::ALL {
        if column == Column::Primary && !lane {
            continue;
        }
        if used + column.width() < room {
            used += column.width() + 1;
            columns.push(column);
        }
    }
    // What is left widens the name to its longest, then the strip.
    let spare = room.saturating_sub(used);
    let name_extra = (name - NAME_MIN - 1).min(spare);
    let recent = (RECENT_MIN + spare - name_extra).min(RECENT_MAX);
    Widths {
        name: NAME_MIN + 1 + name_extra,
        recent,
        columns,
    }
}

/// The overview pane.
pub fn render(frame: &mut Frame, area: Rect, view: &View) {
    let t = &view.theme;
    let Some(overview) = &view.dashboard.overview else {
        return;
    };
    let block = Block::bordered()
        .title(Span::styled(
            " Targets · ↑/↓ select · Enter open · / filter ",
            t.title,
        ))
        .border_style(t.border);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let names = view.dashboard.info.names();
    let rows = overview.rows(view.watch, &names);
    let width = inner.width as usize;
    let longest = rows
        .iter()
        .map(|id| names.get(id.index()).map_or(0, |n| n.chars().count()))
        .max()
        .unwrap_or(0);
    let lane = view
        .dashboard
        .info
        .targets
        .iter()
        .any(|t| t.lane.mode.is_on());
    let widths = widths(width.saturating_sub(1), longest, lane);

    let mut lines = vec![summary(view, rows.len(), names.len(), overview)];
    let mut titles = vec![Span::styled(
        format!(
            "{}{}{:<11}",
            " ".repeat(4),
            fit_columns("TARGET", widths.name),
            "NOW"
        ),
        t.muted,
    )];
    // The strip's newest request is on its right edge: its title too.
    let recent_width = widths.recent;
    titles.push(Span::styled(
        format!("{:>recent_width$}", "RECENT"),
        t.muted,
    ));
    for column in &widths.columns {
        titles.push(Span::styled(
            format!(" {}", fit_columns(column.title(), column.width())),
            t.muted,
        ));
    }
    lines.push(Line::from(titles));

    let room = (inner.height as usize).saturating_sub(lines.len());
    let selected_at = overview.selected_row(&rows);
    let (visible, first) = window(rows.len(), room, selected_at);
    // A blank line between rows where they all fit so: easier to follow across a room.
    let spaced = rows.len() * 2 <= room;
    for (i, id) in rows.iter().enumerate().skip(first).take(visible) {
        if spaced && i > 0 {
            lines.push(Line::default());
        }
        let selected = selected_at == i;
        lines.push(row(view, *id, &names, &widths, selected));
    }
    if visible < rows.len() {
        let above = first;
        let below = rows.len() - first - visible;
        let mut said = Vec::new();
        if above > 0 {
            said.push(format!("↑ {above} more above"));
        }
        if below > 0 {
            said.push(format!("↓ {below} more below"));
        }
        lines.push(Line::from(Span::styled(
            format!(" {}", said.join(" · ")),
            t.muted,
        )));
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

/// How many rows show in `room` lines, and the first shown, so that the row at `selected` is
/// in view; a line is kept to say how many are hidden when they do not all fit.
fn window(rows: usize, room: usize, selected: usize) -> (usize, usize) {
    if rows <= room {
        return (rows, 0);
    }
    let visible = room.saturating_sub(1);
    let first = (selected + 1).saturating_sub(visible);
    (visible, first)
}

/// The line on top: how many targets serve from their primary, a fallback, nothing.
fn summary<'a>(view: &View, listed: usize, all: usize, overview: &super::Overview) -> Line<'a> {
    let t = &view.theme;
    let totals = view.watch.totals();
    let mut spans = vec![
        Span::styled(format!(" {all} targets: "), t.text),
        Span::styled(format!("{} on their primary", totals.on_primary), t.primary),
        Span::styled(" · ", t.muted),
        Span::styled(format!("{} on a fallback", totals.on_fallback), t.fallback),
        Span::styled(" · ", t.muted),
        Span::styled(format!("{} down", totals.down), t.error),
    ];
    if totals.waiting > 0 {
        spans.push(Span::styled(
            format!(" · {} waiting", totals.waiting),
            t.muted,
        ));
    }
    if overview.filtering || !overview.filter.is_empty() {
        let cursor = if overview.filtering { "▏" } else { "" };
        spans.push(Span::styled("   filter: ", t.marker));
        spans.push(Span::styled(format!("{}{cursor}", overview.filter), t.text));
        spans.push(Span::styled(format!("  ({listed} of {all})"), t.muted));
    }
    Line::from(spans)
}

/// NOW in a word beside its glyph, and its style.
fn now_look(t: &Theme, serving: &Serving) -> (String, Style) {
    match serving {
        Serving::Unknown => (format!("{UNKNOWN_GLYPH} WAITING"), t.in_flight),
        Serving::Primary { .. } => (format!("{PRIMARY_GLYPH} PRIMARY"), t.primary),
        Serving::Fallback { .. } => (format!("{FALLBACK_GLYPH} FALLBACK"), t.fallback),
        Serving::Down => (format!("{ERROR_GLYPH} DOWN"), t.error),
    }
}

/// One target's row.
fn row<'a>(view: &View, id: TargetId, names: &[&str], widths: &Widths, selected: bool) -> Line<'a> {
    let t = &view.theme;
    let monitor = view.watch.target(id);
    let name = names.get(id.index()).copied().unwrap_or("");
    let last = monitor.transitions().iter().last();
    let changed = last.is_some_and(|tr| view.data_now.saturating_sub(tr.at) < CHANGED_FOR);
    let mark = format!(
        " {}{} ",
        if selected { "▶" } else { " " },
        if changed { "!" } else { " " }
    );
    let mut name_style = if changed {
        t.text.add_modifier(Modifier::BOLD)
    } else {
        t.text
    };
    if selected {
        name_style = name_style.add_modifier(Modifier::REVERSED);
    }
    let (now, now_style) = now_look(t, monitor.serving());
    let mut spans = vec![
        Span::styled(mark, t.key),
        Span::styled(fit_columns(name, widths.name - 1), name_style),
        Span::raw(" "),
        Span::styled(fit_columns(&now, 11), now_style),
    ];
    spans.extend(recent(view, monitor, widths.recent));
    for column in &widths.columns {
        spans.push(Span::raw(" "));
        spans.push(cell(view, monitor, *column));
    }
    Line::from(spans)
}

/// The last requests' glyphs, newest on the right, as the timeline draws them.
fn recent<'a>(view: &View, monitor: &Monitor, width: usize) -> Vec<Span<'a>> {
    let mut glyphs: Vec<Span> = monitor
        .history()
        .iter()
        .rev()
        .take(width)
        .map(|entry| {
            let (glyph, style) = timeline::glyph(view, entry.verdict);
            Span::styled(glyph, style)
        })
        .collect();
    glyphs.reverse();
    let pad = width - glyphs.len();
    let mut spans = vec![Span::raw(" ".repeat(pad))];
    spans.extend(glyphs);
    spans
}

fn cell<'a>(view: &View, monitor: &Monitor, column: Column) -> Span<'a> {
    let t = &view.theme;
    let width = column.width();
    let right = |text: String, style: Style| Span::styled(format!("{text:>width$}"), style);
    match column {
        Column::Availability => match monitor.counters().availability_percent() {
            Some(p) if p >= 99.95 => right("100%".to_owned(), t.text),
            Some(p) => right(format!("{p:.1}%"), t.text),
            None => right("–".to_owned(), t.muted),
        },
        Column::P50 => match monitor.latency().all.percentiles() {
            Some(l) => right(latency(l.p50), t.text),
            None => right("–".to_owned(), t.muted),
        },
        Column::For => match monitor.serving().kind() {
            Some(_) => {
                let (since, _) = monitor.serving_since();
                right(span_compact(view.data_now.saturating_sub(since)), t.text)
            }
            None => right("–".to_owned(), t.muted),
        },
        Column::Primary => match monitor.primary().state().kind() {
            Some(kind) => {
                let (glyph, style) = timeline::lane_look(t, kind);
                Span::styled(
                    fit_columns(&format!("{glyph} {}", kind.as_str()), width),
                    style,
                )
            }
            None => Span::styled(fit_columns("–", width), t.muted),
        },
        Column::Last => match monitor.transitions().iter().last() {
            Some(tr) => {
                let word = match tr.kind {
                    TransitionKind::Failover => "FAILOVER",
                    TransitionKind::Recovery => "RECOVERY",
                    TransitionKind::Outage => "OUTAGE",
                    TransitionKind::Restored => "RESTORED",
                };
                let style = match tr.kind {
                    TransitionKind::Outage => t.error,
                    TransitionKind::Failover => t.fallback,
                    _ => t.primary,
                };
                Span::styled(
                    fit_columns(&format!("{} {word}", view.wall.hms(tr.at)), width),
                    style,
                )
            }
            None => Span::styled(fit_columns("–", width), t.muted),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn narrow_screens_drop_the_last_columns_first_and_the_strip_takes_what_is_left() {
        let all = widths(118, 12, true);
        assert_eq!(all.columns.len(), 5);
        assert_eq!(all.name, 13);
        assert!(!widths(118, 12, false).columns.contains(&Column::Primary));
        let at80 = widths(78, 12, true);
        assert!(at80.columns.len() < 5 && !at80.columns.contains(&Column::Last));
        let used = |w: &Widths| {
            FIXED + w.name + w.recent + w.columns.iter().map(|c| c.width() + 1).sum::<usize>()
        };
        assert!(used(&at80) <= 78, "{}", used(&at80));
        assert!(at80.recent >= RECENT_MIN);
        let tiny = widths(30, 40, true);
        assert!(tiny.columns.is_empty());
        assert_eq!(tiny.name, NAME_MIN + 1);
    }

    #[test]
    fn the_window_keeps_the_selected_row_in_view_and_a_line_for_the_hidden() {
        assert_eq!(window(5, 10, 4), (5, 0));
        assert_eq!(window(20, 10, 0), (9, 0));
        assert_eq!(window(20, 10, 8), (9, 0));
        assert_eq!(window(20, 10, 9), (9, 1));
        assert_eq!(window(20, 10, 19), (9, 11));
    }
}
