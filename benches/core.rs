//! How fast the pure core and the drawing are, and that the state does not grow: run with
//! `cargo bench --bench core`. Figures go into BENCHMARKS.md.

use std::hint::black_box;
use std::time::{Duration, Instant};

use chrono::{DateTime, FixedOffset, Utc};
use failover_watch::{
    Dashboard, DirectMode, Evidence, Lane, LaneConfig, Monitor, MonitorConfig, ProbeEvent,
    ProbeOutcome, ProbeReport, Role, Route, RunInfo, Served, TargetId, TargetInfo, ThemeName,
    WallClock, Watch, draw,
};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

/// The events of request `seq`: sent, then answered (primary, with a fallback stretch every
/// 1000 requests so transitions happen).
fn events(seq: u64) -> [ProbeEvent; 2] {
    let at = Duration::from_millis(seq * 3000);
    let fallback = (seq / 1000) % 2 == 1;
    let (role, model) = if fallback {
        (Role::Fallback, "ollama/llama3")
    } else {
        (Role::Primary, "llama-fp8")
    };
    [
        ProbeEvent::Sent {
            target: TargetId::default(),
            lane: Lane::Normal,
            seq,
            at,
        },
        ProbeEvent::Answered(Box::new(ProbeOutcome {
            target: TargetId::default(),
            lane: Lane::Normal,
            seq,
            sent_at: at,
            report: ProbeReport {
                latency: Duration::from_micros(20_000 + (seq % 97) * 300),
                status: Some(200),
                route: Route::default(),
                ttft: None,
                result: Ok(Served {
                    role,
                    model: model.into(),
                    evidence: Evidence::ModelGroupHeader,
                    reply: "Hi.".into(),
                }),
            },
        })),
    ]
}

/// `cargo bench` passes `--bench`; `cargo test --all-targets` runs this too, unoptimised:
/// then a few rounds only, to show it still runs, without the figures' cost.
fn measured() -> bool {
    std::env::args().any(|arg| arg == "--bench")
}

fn main() {
    // The state: a week at the default 3 s interval is ~200,000 requests; apply a million.
    let mut monitor = Monitor::new(MonitorConfig::default());
    let n = if measured() { 1_000_000u64 } else { 20_000 };
    let prepared: Vec<[ProbeEvent; 2]> = (1..=10_000).map(events).collect();
    let started = Instant::now();
    for seq in 1..=n {
        let [sent, answered] = if seq <= 10_000 {
            prepared[seq as usize - 1].clone()
        } else {
            events(seq)
        };
        black_box(monitor.apply(&sent));
        black_box(monitor.apply(&answered));
    }
    let elapsed = started.elapsed();
    println!(
        "state: {n} requests applied in {:.2} s ({:.0} ns per request, event building included)",
        elapsed.as_secs_f64(),
        elapsed.as_nanos() as f64 / n as f64
    );
    println!(
        "state: history {} of {} kept, transitions {} kept of {} seen",
        monitor.history().len(),
        monitor.history().capacity(),
        monitor.transitions().len(),
        monitor.counters().failovers + monitor.counters().recoveries
    );

    // Drawing: one full frame at three sizes.
    let wall = WallClock::new(
        DateTime::parse_from_rfc3339("2026-11-23T14:00:00Z")
            .unwrap()
            .with_timezone(&Utc),
        FixedOffset::east_opt(0).unwrap(),
    );
    let info = RunInfo {
        targets: vec![TargetInfo {
            name: "llama-fp8".into(),
            url: "http://127.0.0.1:4000".into(),
            primary: "llama-fp8".into(),
            fallback: Some("llama3".into()),
            interval: Duration::from_secs(3),
            timeout: Duration::from_secs(30),
            stream: false,
            lane: LaneConfig {
                mode: DirectMode::Off,
                ..LaneConfig::default()
            },
        }],
        simulated: false,
        down_after: 2,
        replay: None,
    };
    let dashboard = Dashboard::new(info.clone(), ThemeName::Dark);
    let now = Duration::from_millis(n * 3000);
    let watch = Watch::of(monitor);
    frames("draw:", &watch, &dashboard, wall, now);

    // The overview of 100 targets, each with its history full.
    let many = RunInfo {
        targets: (0..100)
            .map(|i| TargetInfo {
                name: format!("group-{i}"),
                ..info.targets[0].clone()
            })
            .collect(),
        ..info
    };
    let mut watch = Watch::new(many.monitors());
    let each = if measured() { 2_000 } else { 300 };
    for seq in 1..=each {
        for target in 0..100u16 {
            for event in events(seq) {
                watch.apply(with_target(event, target).into());
            }
        }
    }
    let dashboard = Dashboard::new(many, ThemeName::Dark);
    frames(
        "draw overview of 100 targets:",
        &watch,
        &dashboard,
        wall,
        now,
    );
}

/// `event` of `target`.
fn with_target(event: ProbeEvent, target: u16) -> ProbeEvent {
    match event {
        ProbeEvent::Sent { lane, seq, at, .. } => ProbeEvent::Sent {
            target: TargetId(target),
            lane,
            seq,
            at,
        },
        ProbeEvent::Answered(mut outcome) => {
            outcome.target = TargetId(target);
            ProbeEvent::Answered(outcome)
        }
        other => other,
    }
}

/// Frames of `dashboard` over `watch` drawn at three sizes, the time of one said.
fn frames(what: &str, watch: &Watch, dashboard: &Dashboard, wall: WallClock, now: Duration) {
    for (w, h) in [(80, 24), (120, 40), (250, 80)] {
        let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
        let frames = if measured() { 2000 } else { 10 };
        let started = Instant::now();
        for i in 0..frames {
            terminal
                .draw(|frame| draw(frame, watch, dashboard, wall, now + Duration::from_secs(i)))
                .unwrap();
        }
        let per_frame = started.elapsed() / frames as u32;
        println!("{what} {w}x{h} frame in {} µs", per_frame.as_micros());
    }
}
