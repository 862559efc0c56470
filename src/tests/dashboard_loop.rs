//! The dashboard's loop driven by scripted answers and keys, with time paused and the wall
//! clock pinned: one data path from the schedule through the state to the screen, every key
//! doing its job, and the whole run's frames snapshotted.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use ratatui::crossterm::event::KeyCode;

use super::{key, run_dashboard, run_info, served};
use crate::probe::{Lane, Probe, ProbeReport, Role};
use crate::state::TransitionKind;
use crate::ui::ThemeName;

/// Probes 1-5 and 11 on are served by the primary, 6-10 by the fallback, in 10 ms.
pub struct Scripted(pub AtomicU64);

impl Probe for Scripted {
    async fn probe(&self, _lane: Lane) -> ProbeReport {
        let n = self.0.fetch_add(1, Ordering::SeqCst) + 1;
        tokio::time::sleep(Duration::from_millis(10)).await;
        let (role, model) = if (6..=10).contains(&n) {
            (Role::Fallback, "ollama/llama3")
        } else {
            (Role::Primary, "llama-fp8")
        };
        served(role, model, "Hi.", Duration::from_millis(10))
    }
}

/// Keys at given moments: (seconds from start, key).
pub fn keys() -> Vec<(f64, ratatui::crossterm::event::Event)> {
    use KeyCode::{Backspace, Char, Enter, Esc};
    // A marker, labelled as it is typed, a key every 0.1 s from 2.5 s (a slip undone on the
    // way); for the moment `m` was pressed.
    let label = [
        Char('m'),
        Char('d'),
        Char('n'),
        Backspace,
        Char('o'),
        Char('w'),
        Char('n'),
        Enter,
    ];
    let typed = (25..)
        .zip(label)
        .map(|(tenths, code)| (f64::from(tenths) / 10.0, code));
    let later = [
        (4.5, Char('+')),
        (12.5, Char(' ')),
        (13.5, Char(' ')),
        (16.5, Char('?')),
        (17.0, Esc),
        (17.5, Char('t')),
        (18.5, Char('r')),
        (20.5, Char('q')),
    ];
    typed
        .chain(later)
        .map(|(at, code)| (at, key(code)))
        .collect()
}

#[tokio::test(start_paused = true)]
async fn scripted_answers_and_keys_tell_the_story_on_screen() {
    let prober = Scripted(AtomicU64::new(0));
    let ran = run_dashboard(prober, run_info(false), (120, 40), &keys(), None).await;
    let (monitor, dashboard) = (&ran.monitor, &ran.dashboard);

    // q at 20.5 s with nothing in flight ends at once.
    assert_eq!(ran.end, Duration::from_millis(20_500));
    // '+' made the interval 2 s from the tick at 4 s: probes at 0..=4, then 6, 8, ... 20.
    assert_eq!(dashboard.interval, Duration::from_secs(2));
    assert_eq!(monitor.last_sent_seq(), 13);
    // 'r' at 18.5 s: the dashboard counts afresh (the probe of 20 s), the run does not.
    assert_eq!(monitor.counters().total, 13);
    assert_eq!(monitor.since_reset().counters.total, 1);
    let transitions: Vec<_> = monitor.transitions().iter().collect();
    assert_eq!(transitions.len(), 2);
    assert_eq!(
        (transitions[0].kind, transitions[0].seq),
        (TransitionKind::Failover, 6)
    );
    assert_eq!(
        (transitions[1].kind, transitions[1].seq),
        (TransitionKind::Recovery, 11)
    );
    // The marker at 2.5 s; the failover's answer at 6.01 s.
    let lag = transitions[0]
        .after_marker
        .as_ref()
        .expect("the marker is reported");
    assert_eq!(lag.lag, Duration::from_millis(3510));
    assert_eq!(lag.label.as_deref(), Some("down"));
    assert!(transitions[1].after_marker.is_none());
    // Esc closed the help instead of quitting; t moved to the light theme; the pause ended.
    assert!(!dashboard.help);
    assert_eq!(dashboard.theme, ThemeName::Light);
    assert!(dashboard.paused.is_none());

    let screen_text = ran.screen.terminal.backend().to_string();
    for expected in [
        "RECOVERY",
        "FAILOVER",
        "3.5 s after M1 \"down\"",
        "every 2s",
        "Counters · since 14:00:18",
        "requests       1",
    ] {
        assert!(
            screen_text.contains(expected),
            "missing {expected:?}:\n{screen_text}"
        );
    }
    // Drawn when something changed and once a second, not continuously: 13 answers, 13
    // sends, 16 keys and 21 ticks over 20.5 s.
    let frames = ran.screen.frames.len();
    assert!((20..=70).contains(&frames), "{frames} frames in 20.5 s");
}

/// The whole run, frame by frame, on the pinned clock: the last frame of every second, and
/// the frame after each key.
#[tokio::test(start_paused = true)]
async fn the_whole_run_frame_by_frame() {
    let prober = Scripted(AtomicU64::new(0));
    let ran = run_dashboard(prober, run_info(false), (80, 24), &keys(), None).await;
    let frames = &ran.screen.frames;
    let mut strip = String::new();
    let mut last_second = None;
    for (i, (at, frame)) in frames.iter().enumerate() {
        let second = at.as_secs();
        let last_of_its_second = frames
            .get(i + 1)
            .is_none_or(|(next, _)| next.as_secs() != second);
        if last_of_its_second && last_second != Some(second) {
            last_second = Some(second);
            strip.push_str(&format!("--- {:.2} s\n{frame}\n", at.as_secs_f64()));
        }
    }
    insta::assert_snapshot!("whole-run-80x24", strip);
}
