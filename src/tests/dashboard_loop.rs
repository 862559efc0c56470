//! The dashboard's loop driven by scripted answers and keys, with time paused and the wall
//! clock pinned: one data path from the schedule through the state to the screen, every key
//! doing its job, and the whole run's frames snapshotted.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use ratatui::crossterm::event::KeyCode;

use super::{drive_dashboard, key, run_dashboard, run_info, schedule, served};
use crate::clock::RunClock;
use crate::output::Outputs;
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

/// Serves every probe as `role` would, in 10 ms.
struct Serves(Role);

impl Probe for Serves {
    async fn probe(&self, _lane: Lane) -> ProbeReport {
        tokio::time::sleep(Duration::from_millis(10)).await;
        let model = match self.0 {
            Role::Primary => "llama-fp8",
            Role::Fallback => "ollama/llama3",
        };
        served(self.0, model, "Hi.", Duration::from_millis(10))
    }
}

/// Three targets, `beta` served by its fallback: the overview lists it first; ↓ and Enter open
/// `alpha`'s dashboard, Esc comes back, `/` filters to `gamma`, Enter opens it.
#[tokio::test(start_paused = true)]
async fn the_overview_is_driven_by_its_keys() {
    use KeyCode::{Char, Down, Enter, Esc};
    let mut info = run_info(false);
    let seed = info.targets[0].clone();
    info.targets = ["alpha", "beta", "gamma"]
        .map(|name| crate::output::TargetInfo {
            name: name.into(),
            primary: name.into(),
            ..seed.clone()
        })
        .to_vec();
    let targets = [Role::Primary, Role::Fallback, Role::Primary]
        .into_iter()
        .enumerate()
        .map(|(i, role)| {
            let mut schedule = schedule(Duration::from_secs(1));
            schedule.target = crate::probe::TargetId(i as u16);
            (std::sync::Arc::new(Serves(role)), schedule)
        })
        .collect();
    let session = crate::run::Session::start(targets, RunClock::starting_at(super::wall()));
    let keys: Vec<_> = [
        (2.5, Down),
        (2.7, Enter),
        (3.5, Esc),
        (4.5, Char('/')),
        (4.6, Char('g')),
        (4.7, Enter),
        (5.5, Enter),
        (6.5, Char('q')),
    ]
    .into_iter()
    .map(|(at, code)| (at, key(code)))
    .collect();
    let ran = drive_dashboard(session, info, (120, 40), &keys, None, Outputs::default()).await;
    let shown_at = |at: f64| {
        let at = Duration::from_secs_f64(at);
        ran.screen
            .frames
            .iter()
            .rev()
            .find(|(when, _)| *when <= at)
            .map(|(_, frame)| frame.clone())
            .unwrap()
    };
    let overview = shown_at(2.4);
    assert!(
        overview.contains("3 targets: 2 on their primary · 1 on a fallback"),
        "{overview}"
    );
    let first_row = overview.lines().find(|l| l.contains("▶")).unwrap();
    assert!(
        first_row.contains("beta") && first_row.contains("◆ FALLBACK"),
        "{overview}"
    );
    let opened = shown_at(3.4);
    assert!(
        opened.contains("alpha: alpha → llama3") && opened.contains("NOW SERVING"),
        "{opened}"
    );
    let back = shown_at(4.4);
    assert!(
        back.contains("3 targets:") && !back.contains("NOW SERVING"),
        "{back}"
    );
    let filtered = shown_at(5.4);
    assert!(filtered.contains("filter: g  (1 of 3)"), "{filtered}");
    assert!(
        !filtered.contains(" alpha ") && !filtered.contains(" beta "),
        "{filtered}"
    );
    let gamma = shown_at(6.4);
    assert!(gamma.contains("gamma: gamma → llama3"), "{gamma}");
    assert_eq!(ran.dashboard.shown(), crate::probe::TargetId(2));
}
