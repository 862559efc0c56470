//! Where each pane goes at a given terminal size. Panes are given rows in a fixed order of
//! importance, so a smaller terminal drops the least important first.

use ratatui::layout::Rect;

/// Below this the dashboard says the terminal is too small.
pub const MIN_WIDTH: u16 = 44;
pub const MIN_HEIGHT: u16 = 12;
/// From this width, counters sit beside the banner and the two lists side by side.
const WIDE: u16 = 100;
/// Width of the counters beside the banner.
const COUNTERS_WIDTH: u16 = 40;

const BANNER_COMPACT: u16 = 4;
const BANNER_BIG: u16 = 9;
const TIMELINE_MIN: u16 = 4;
const TIMELINE_FULL: u16 = 5;
const COUNTERS_NARROW: u16 = 5;
const SPARKLINE_MIN: u16 = 4;
const SPARKLINE_FULL: u16 = 7;
const LIST_MIN: u16 = 4;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Areas {
    pub header: Rect,
    pub banner: Rect,
    pub counters: Option<Rect>,
    pub timeline: Option<Rect>,
    pub sparkline: Option<Rect>,
    pub events: Option<Rect>,
    pub recent: Option<Rect>,
    pub footer: Option<Rect>,
}

/// The panes for `area`, or `None` when it is under the minimum. With the primary's `lane`
/// (direct probes), the timeline has a row more for it, and a big banner a line more.
pub fn areas(area: Rect, lane: bool) -> Option<Areas> {
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        return None;
    }
    let wide = area.width >= WIDE;
    let mut left = area.height - 1 - BANNER_COMPACT;

    // Rows in order of importance.
    let mut take = |rows: u16| {
        if left >= rows {
            left -= rows;
            rows
        } else {
            0
        }
    };
    let lane_row = u16::from(lane);
    let mut timeline = take(TIMELINE_MIN + lane_row);
    let counters = if wide { 0 } else { take(COUNTERS_NARROW) };
    let footer = take(1);
    let lists = take(LIST_MIN);
    let mut sparkline = take(SPARKLINE_MIN);
    let recent_narrow = if wide || lists == 0 {
        0
    } else {
        take(LIST_MIN)
    };
    // What is left makes panes bigger, in the same order.
    let mut banner = BANNER_COMPACT;
    if left >= BANNER_BIG - BANNER_COMPACT {
        banner = BANNER_BIG;
        left -= BANNER_BIG - BANNER_COMPACT;
        // With the primary's lane, a line for why the state is what it is.
        if lane && left > 0 {
            banner += 1;
            left -= 1;
        }
    }
    if timeline > 0 && left > 0 {
        timeline = TIMELINE_FULL + lane_row;
        left -= 1;
    }
    // A second line for a warning too long for one.
    if banner > BANNER_COMPACT && left > 0 {
        banner += 1;
        left -= 1;
    }
    if sparkline > 0 {
        let grow = (SPARKLINE_FULL - SPARKLINE_MIN).min(left);
        sparkline += grow;
        left -= grow;
    }
    let lists = if lists > 0 { lists + left } else { 0 };

    let mut y = area.y;
    let mut row = |height: u16| {
        let rect = Rect::new(area.x, y, area.width, height);
        y += height;
        rect
    };
    let header = row(1);
    let banner_row = row(banner);
    let (banner, counters) = if wide {
        let (b, c) = split_columns(banner_row, banner_row.width - COUNTERS_WIDTH);
        (b, Some(c))
    } else {
        (banner_row, (counters > 0).then(|| row(counters)))
    };
    let timeline = (timeline > 0).then(|| row(timeline));
    let sparkline = (sparkline > 0).then(|| row(sparkline));
    let (events, recent) = if lists == 0 {
        (None, None)
    } else if wide {
        let (e, r) = split_columns(row(lists), area.width / 2);
        (Some(e), Some(r))
    } else if recent_narrow > 0 {
        let both = lists + recent_narrow;
        let events_rows = both / 2;
        (Some(row(events_rows)), Some(row(both - events_rows)))
    } else {
        (Some(row(lists)), None)
    };
    let footer = (footer > 0).then(|| Rect::new(area.x, area.y + area.height - 1, area.width, 1));
    Some(Areas {
        header,
        banner,
        counters,
        timeline,
        sparkline,
        events,
        recent,
        footer,
    })
}

fn split_columns(rect: Rect, left_width: u16) -> (Rect, Rect) {
    let left = Rect::new(rect.x, rect.y, left_width, rect.height);
    let right = Rect::new(
        rect.x + left_width,
        rect.y,
        rect.width - left_width,
        rect.height,
    );
    (left, right)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(width: u16, height: u16) -> Areas {
        areas(Rect::new(0, 0, width, height), false).expect("big enough")
    }

    #[test]
    fn every_pane_at_100_by_30_and_up() {
        for (w, h) in [(100, 30), (120, 40), (250, 80)] {
            let a = at(w, h);
            // Big letters, the details and two lines of a warning.
            assert_eq!(a.banner.height, BANNER_BIG + 1, "{w}x{h}");
            let lane = areas(Rect::new(0, 0, w, h), true).unwrap();
            assert_eq!(
                lane.banner.height,
                BANNER_BIG + 2,
                "{w}x{h}: and the reason"
            );
            for (name, pane) in [
                ("counters", a.counters),
                ("timeline", a.timeline),
                ("sparkline", a.sparkline),
                ("events", a.events),
                ("recent", a.recent),
                ("footer", a.footer),
            ] {
                assert!(pane.is_some(), "{name} missing at {w}x{h}");
            }
        }
    }

    #[test]
    fn at_80_by_24_the_story_panes_stay() {
        let a = at(80, 24);
        assert!(a.counters.is_some() && a.timeline.is_some() && a.events.is_some());
        assert!(a.footer.is_some());
        assert!(a.sparkline.is_some());
    }

    #[test]
    fn panes_are_dropped_in_order_and_never_overlap_or_overflow() {
        for w in MIN_WIDTH..=160 {
            for h in MIN_HEIGHT..=60 {
                let area = Rect::new(0, 0, w, h);
                let a = areas(area, (w + h) % 2 == 0).unwrap();
                let panes: Vec<Rect> = [
                    Some(a.header),
                    Some(a.banner),
                    a.counters,
                    a.timeline,
                    a.sparkline,
                    a.events,
                    a.recent,
                    a.footer,
                ]
                .into_iter()
                .flatten()
                .collect();
                for (i, p) in panes.iter().enumerate() {
                    assert!(
                        area.contains(p.as_position()) && p.bottom() <= h && p.right() <= w,
                        "{w}x{h}: {p:?} outside"
                    );
                    for q in &panes[i + 1..] {
                        assert!(!p.intersects(*q), "{w}x{h}: {p:?} overlaps {q:?}");
                    }
                }
                // The timeline goes after nothing but the banner; the recent list goes first.
                assert!(a.timeline.is_some(), "{w}x{h}");
                if a.recent.is_some() {
                    assert!(a.events.is_some() && a.footer.is_some(), "{w}x{h}");
                }
                if a.sparkline.is_some() {
                    assert!(a.events.is_some(), "{w}x{h}");
                }
            }
        }
    }

    #[test]
    fn under_the_minimum_there_is_no_layout() {
        assert!(areas(Rect::new(0, 0, MIN_WIDTH - 1, 40), false).is_none());
        assert!(areas(Rect::new(0, 0, 200, MIN_HEIGHT - 1), true).is_none());
    }
}
