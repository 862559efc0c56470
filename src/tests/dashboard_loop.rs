//! The dashboard's loop driven by scripted answers and keys, with time paused: one data path
//! from the schedule through the state to the screen, and every key doing its job.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;


use crate::output::Recorder;
use crate::probe::{Probe, ProbeReport, Role};
use crate::run::Session;
use crate::state::{Monitor, MonitorConfig, TransitionKind};
use crate::tui::{self, Inputs, Screen};
use crate::ui::{Dashboard, ThemeName};
use futures::StreamExt;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use tokio::sync::mpsc;

/// Probes 1-5 and 11 on are served by the primary, 6-10 by the fallback, in 10 ms.
struct Scripted(AtomicU64);

impl Probe for Scripted {
    async fn probe(&self) -> ProbeReport {
        let n = self.0.fetch_add(1, Ordering::SeqCst) + 1;
        tokio::time::sleep(Duration::from_millis(10)).await;
        let (role, model) = if (6..=10).contains(&n) {
            (Role::Fallback, "ollama/llama3")
        } else {
            (Role::Primary, "llama-fp8")
        };
        super::served(role, model, "Hi.", Duration::from_millis(10))
    }
}

/// Counts the frames drawn.
struct Counting {
    terminal: Terminal<TestBackend>,
    frames: u32,
}

impl Screen for Counting {
    fn show(&mut self, draw: &mut dyn FnMut(&mut ratatui::Frame)) -> std::io::Result<()> {
        self.frames += 1;
        self.terminal.show(draw)
    }
}

fn key(code: KeyCode) -> Event {
    Event::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

#[tokio::test(start_paused = true)]
async fn scripted_answers_and_keys_tell_the_story_on_screen() {
    let info = super::run_info(false);
    let schedule = super::schedule(Duration::from_secs(1));
    let session = Session::start(Arc::new(Scripted(AtomicU64::new(0))), schedule);
    let mut monitor = Monitor::new(MonitorConfig::new("llama-fp8"));
    let mut dashboard = Dashboard::new(info, ThemeName::Dark);
    let mut screen = Counting {
        terminal: Terminal::new(TestBackend::new(120, 40)).unwrap(),
        frames: 0,
    };

    // Keys at given moments: (seconds from start, key).
    let script = [
        (2.5, key(KeyCode::Char('m'))),
        (4.5, key(KeyCode::Char('+'))),
        (12.5, key(KeyCode::Char(' '))),
        (13.5, key(KeyCode::Char(' '))),
        (16.5, key(KeyCode::Char('?'))),
        (17.0, key(KeyCode::Esc)),
        (17.5, key(KeyCode::Char('t'))),
        (18.5, key(KeyCode::Char('r'))),
        (20.5, key(KeyCode::Char('q'))),
    ];
    let (keys, pressed) = futures::channel::mpsc::unbounded();
    tokio::spawn(async move {
        let start = tokio::time::Instant::now();
        for (at, event) in script {
            tokio::time::sleep_until(start + Duration::from_secs_f64(at)).await;
            keys.unbounded_send(event).unwrap();
        }
    });
    let (_signal, mut signals) = mpsc::unbounded_channel();
    let inputs = Inputs {
        terminal: pressed.map(Ok),
        signals: &mut signals,
        demo: None,
    };
    let mut recorder = Recorder::off();
    let end = tui::run(
        &mut screen,
        session,
        &mut monitor,
        &mut dashboard,
        inputs,
        &mut recorder,
    )
    .await
    .unwrap();

    // q at 20.5 s with nothing in flight ends at once.
    assert_eq!(end, Duration::from_millis(20_500));
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
        .expect("the marker is reported")
        .lag;
    assert_eq!(lag, Duration::from_millis(3510));
    assert!(transitions[1].after_marker.is_none());
    // Esc closed the help instead of quitting; t moved to the light theme; the pause ended.
    assert!(!dashboard.help);
    assert_eq!(dashboard.theme, ThemeName::Light);
    assert!(dashboard.paused.is_none());

    let screen_text = screen.terminal.backend().to_string();
    for expected in [
        "RECOVERY",
        "FAILOVER",
        "3.5 s after M1",
        "every 2s",
        "Counters · since ",
        "requests       1",
    ] {
        assert!(
            screen_text.contains(expected),
            "missing {expected:?}:\n{screen_text}"
        );
    }
    // Drawn when something changed and once a second, not continuously: 13 answers, 13
    // sends, 9 keys and 21 ticks over 20.5 s.
    assert!(
        (20..=70).contains(&screen.frames),
        "{} frames in 20.5 s",
        screen.frames
    );
}
