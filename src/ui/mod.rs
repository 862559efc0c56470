//! The dashboard, drawn as a pure function of the state into a frame. One pane per file.
//!
//! ```text
//! ┌────────────────────────────────────────────────────────────────────────────────────┐
//! │ failover-watch ● LIVE  llama-fp8 → llama3  every 3s  http://127.0.0.1:4000  14:02:11 │ header
//! ├ NOW SERVING ───────────────────────────────────┬ Counters ──────────────────────────┤
//! │ ████  ████  ███ █   █  ███  ████  █   █          │ requests   120  in flight      2  │
//! │ █   █ █   █  █  ██ ██ █   █ █   █  █ █           │ ok         118  failed         2  │ banner
//! │ ████  ████   █  █ █ █ █████ ████    █            │ primary     90  fallback      28  │ + counters
//! │ █     █  █   █  █   █ █   █ █  █    █            │ failovers    1  recoveries     1  │
//! │ █     █   █ ███ █   █ █   █ █   █   █            │ outages      0  available  98.3%  │
//! │ llama-fp8 · for 3m 12s · since #57 at 14:01:02   │ p50      23 ms  p95       80 ms   │
//! ├ Timeline ────────────────────────────────────────┴───────────────────────────────────┤
//! │ ●●●●●●●●◆◆◆◆◆◆◆◆◆◆●●●●●●✗✗●●●◌◌                                                      │ timeline
//! │         ▲M         ▲     ▲ ▲                                                         │
//! ├ Latency ────────────────────────────────────────────────────────────────────────────┤
//! │ ▁▁▂▁▁▁▁█▃▂▂▁▁▁▁▁███▁▁                                                                │ sparkline
//! ├ Transitions ──────────────────────────────┬ Recent requests ─────────────────────────┤
//! │ 14:01:02 #23 FAILOVER llama-fp8 → ollama… │ #120 14:02:11 ● PRIMARY  llama-fp8 23 ms │ events, recent
//! └───────────────────────────────────────────┴──────────────────────────────────────────┘
//!  q quit  space pause  +/- interval  r reset  m marker  t theme  ? help                  footer
//! ```
//!
//! Narrower than 100 columns, the counters go under the banner and the lists one above the
//! other; shorter terminals drop the recent list, then the sparkline, then the transitions,
//! and use a one-line banner (see [`layout`]). Under 44×12 only the state and a "terminal too
//! small" line remain.

mod banner;
mod counters;
mod dashboard;
mod events;
mod font;
mod footer;
mod header;
mod help;
mod keys;
pub mod layout;
mod overview;
mod recent;
mod sparkline;
pub mod theme;
mod timeline;
mod too_small;

use std::time::Duration;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::widgets::Block;

pub use dashboard::{Dashboard, LabelPrompt, ModeStatus, ModeView, Overview, Typed, step_interval};
#[cfg(test)]
pub use keys::DASHBOARD;
pub use keys::{Action, Binding, ModeAction, ModeKeys, action_for, is_interrupt};
pub use theme::{Theme, ThemeName};

use crate::clock::WallClock;
use crate::output::TargetInfo;
use crate::state::{Monitor, Watch};

/// Draws one pane into its area.
type Pane = fn(&mut Frame, Rect, &View);

/// What one frame shows.
pub struct View<'a> {
    /// The state drawn: live, or the copy frozen when the display was paused.
    pub watch: &'a Watch,
    /// The target shown (the first of a run of one), its state and what it is.
    pub monitor: &'a Monitor,
    pub target: &'a TargetInfo,
    pub dashboard: &'a Dashboard,
    pub theme: Theme,
    pub wall: WallClock,
    /// The moment the state is drawn at (when paused, the moment of the pause).
    pub data_now: Duration,
    /// The real moment, for the clock.
    pub now: Duration,
    /// Answers counted by the live state (to tell how many arrived during a pause).
    pub live_answers: u64,
}

/// Draws the whole dashboard. `live` is the state as it is now; when the display is paused,
/// the frozen copy is drawn instead.
pub fn draw(
    frame: &mut Frame,
    live: &Watch,
    dashboard: &Dashboard,
    wall: WallClock,
    now: Duration,
) {
    let (watch, data_now) = match &dashboard.paused {
        Some(p) => (p.watch.as_ref(), p.at),
        None => (live, now),
    };
    let shown = dashboard.shown();
    let view = View {
        watch,
        monitor: watch.target(shown),
        target: dashboard.info.target(shown),
        dashboard,
        theme: Theme::new(dashboard.theme),
        wall,
        data_now,
        now,
        live_answers: live.totals().total,
    };
    let area = frame.area();
    frame.render_widget(Block::new().style(view.theme.base), area);
    if dashboard.showing_overview() {
        overview::render_screen(frame, area, &view);
        if dashboard.help {
            help::render(frame, area, &view);
        }
        return;
    }
    let Some(areas) = layout::areas(area, view.target.lane.mode.is_on()) else {
        too_small::render(frame, area, &view);
        return;
    };
    header::render(frame, areas.header, &view);
    banner::render(frame, areas.banner, &view);
    let panes: [(Option<Rect>, Pane); 6] = [
        (areas.counters, counters::render),
        (areas.timeline, timeline::render),
        (areas.sparkline, sparkline::render),
        (areas.events, events::render),
        (areas.recent, recent::render),
        (areas.footer, footer::render),
    ];
    for (area, render) in panes {
        if let Some(area) = area {
            render(frame, area, &view);
        }
    }
    if dashboard.help {
        help::render(frame, area, &view);
    }
}
