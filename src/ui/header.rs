//! The top line: what is watched, how often, the proxy's LiteLLM release, LIVE or PAUSED (or
//! a mode's own word: the replay's position), and the clock.

use ratatui::Frame;
use ratatui::layout::{Alignment, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::View;
use crate::text::format::interval;

pub fn render(frame: &mut Frame, area: Rect, view: &View) {
    let t = &view.theme;
    let d = view.dashboard;
    let mut right = Vec::new();
    if let Some(message) = d.status(view.now) {
        right.push(Span::styled(format!("{message}  "), t.marker));
    }
    right.push(Span::styled(view.wall.hms(view.now), t.text));
    right.push(Span::raw(" "));
    let right = Line::from(right);

    let target = view.target;
    let fallback = target.fallback.as_deref().unwrap_or("fallback");
    let mut left = vec![Span::styled(" failover-watch ", t.title)];
    if d.info.simulated {
        left.push(Span::styled(" SIMULATED ", t.simulated));
        left.push(Span::raw(" "));
    }
    match &d.paused {
        Some(p) => {
            let new = view.live_answers.saturating_sub(p.watch.totals().total);
            left.push(Span::styled(format!(" ❚❚ PAUSED · {new} new "), t.paused));
        }
        None => match d.mode.as_ref().filter(|m| !m.status.header.is_empty()) {
            Some(mode) => left.push(Span::styled(mode.status.header.clone(), t.paused)),
            None => left.push(Span::styled("● LIVE", t.live)),
        },
    }
    let version = view
        .monitor
        .litellm_version()
        .map(|v| format!("  LiteLLM {v}"));
    let details = match d.showing_overview() {
        true => {
            let targets = &d.info.targets;
            let mut proxies: Vec<&str> = targets.iter().map(|t| t.url.as_str()).collect();
            proxies.sort_unstable();
            proxies.dedup();
            let proxies = match proxies.as_slice() {
                [one] => format!("  {one}"),
                many => format!("  {} proxies", many.len()),
            };
            [
                Some(format!("  {} targets", targets.len())),
                Some(format!("  every {}", interval(d.interval))),
                version,
                Some(proxies),
            ]
        }
        // A target of several opened: named first.
        false if d.overview.is_some() => [
            Some(format!(
                "  {}: {} → {fallback}",
                target.name, target.primary
            )),
            Some(format!("  every {}", interval(d.interval))),
            version,
            Some(format!("  {}", target.url)),
        ],
        false => [
            Some(format!("  {} → {fallback}", target.primary)),
            Some(format!("  every {}", interval(d.interval))),
            version,
            Some(format!("  {}", target.url)),
        ],
    };
    // Keep what fits beside the clock, most useful first.
    let mut used: usize = left.iter().map(|s| s.width()).sum::<usize>() + right.width();
    for detail in details.into_iter().flatten() {
        // Terminal columns, not characters: a wide character in a model name takes two.
        let detail = Span::styled(detail, t.text);
        let width = detail.width();
        if used + width < area.width as usize {
            used += width;
            left.push(detail);
        }
    }
    frame.render_widget(Paragraph::new(Line::from(left)), area);
    frame.render_widget(Paragraph::new(right).alignment(Alignment::Right), area);
}
