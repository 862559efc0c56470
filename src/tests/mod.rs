//! In-crate tests that span modules: the prober against recorded answers, the schedule, the
//! dashboard (snapshots and its loop), the demo's router and gateway. The recorded-answer
//! server is shared with the binary's black-box tests in `tests/`.

#[path = "../../tests/common/mod.rs"]
mod replay;

pub use replay::*;

mod check;
mod dashboard;
mod dashboard_loop;
mod demo;
mod many;
mod metrics;
mod playback;
mod prober;
mod schedule;

use std::io;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, FixedOffset, Utc};
use futures::StreamExt;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use tokio::sync::mpsc;

use crate::clock::{RunClock, WallClock};
use crate::output::{Outputs, RunInfo, TargetInfo};
use crate::probe::event::{Cooling, Failure};
use crate::probe::{
    DirectMode, ErrorKind, Evidence, Lane, Probe, ProbeEvent, ProbeOutcome, ProbeReport, Role,
    Route, Schedule, Served, TargetId,
};
use crate::run::dashboard::DashboardFront;
use crate::run::owner::{self, Inputs};
use crate::run::{ModeLink, Session};
use crate::state::{LaneConfig, Monitor, Watch};
use crate::sys::tui::Screen;
use crate::ui::{Dashboard, ThemeName};

impl Screen for Terminal<TestBackend> {
    fn show(&mut self, draw: &mut dyn FnMut(&mut ratatui::Frame)) -> io::Result<()> {
        self.draw(|frame| draw(frame))
            .map(|_| ())
            .map_err(|never| match never {})
    }
}

/// The wall clock of every pinned run: 14:00:00 UTC when it starts.
pub fn wall() -> WallClock {
    let origin = DateTime::parse_from_rfc3339("2026-11-23T14:00:00Z")
        .unwrap()
        .with_timezone(&Utc);
    WallClock::new(origin, FixedOffset::east_opt(0).unwrap())
}

/// A session on the pinned wall clock.
pub fn start_session<P: Probe>(prober: P, schedule: Schedule) -> Session {
    Session::start(
        vec![(Arc::new(prober), schedule)],
        RunClock::starting_at(wall()),
    )
}

/// A report of an answer served by `role` as `model`, after `latency`.
pub fn served(role: Role, model: &str, reply: &str, latency: Duration) -> ProbeReport {
    ProbeReport {
        latency,
        status: Some(200),
        route: Route::default(),
        ttft: None,
        result: Ok(served_by(role, model, reply)),
    }
}

/// A direct probe's answer, `seq` sent at `sent_at` and answered 20 ms later: `up`,
/// `by-fallback` (the proxy fell back despite `disable_fallbacks`), `failing` (LiteLLM's
/// connection error), `cooling` (its cooldown 429, 10 s), `refused` (400) or `router-timeout`
/// (408).
pub fn direct_answer(seq: u64, sent_at: Duration, what: &str) -> ProbeEvent {
    let failure = |status, message: &str| {
        let failure = Failure {
            kind: ErrorKind::Http,
            message: message.to_owned(),
        };
        (Err(failure), Some(status))
    };
    let mut route = Route::default();
    let (result, status) = match what {
        "up" => (Ok(served_by(Role::Primary, "llama-fp8", "Hi.")), Some(200)),
        "by-fallback" => (
            Ok(served_by(Role::Fallback, "ollama/llama3", "Hello!")),
            Some(200),
        ),
        "failing" => failure(
            500,
            "litellm.InternalServerError: InternalServerError: OpenAIException - Connection error.",
        ),
        "cooling" => {
            route.cooling = Some(Cooling {
                ids: vec!["027a60b4976e".to_owned()],
                api_bases: vec!["http://llama-fp8-predictor:8080/v1".to_owned()],
                cooldown: Some(Duration::from_secs(10)),
            });
            failure(
                429,
                "No deployments available for selected model, Try again in 10 seconds.",
            )
        }
        "refused" => failure(400, "disable_fallbacks is not allowed for this key"),
        "router-timeout" => failure(
            408,
            "litellm.Timeout: Connection timed out after 30.0 seconds.",
        ),
        other => panic!("no direct answer {other:?}"),
    };
    let report = ProbeReport {
        latency: Duration::from_millis(20),
        status,
        route,
        ttft: None,
        result,
    };
    answered(Lane::Direct, seq, sent_at, report)
}

/// Probe `seq` of the one target's `lane` leaving at `at`.
pub fn sent(lane: Lane, seq: u64, at: Duration) -> ProbeEvent {
    ProbeEvent::Sent {
        target: TargetId::default(),
        lane,
        seq,
        at,
    }
}

/// Probe `seq` of the one target's `lane`, sent at `sent_at`, answered with `report`.
pub fn answered(lane: Lane, seq: u64, sent_at: Duration, report: ProbeReport) -> ProbeEvent {
    ProbeEvent::Answered(Box::new(ProbeOutcome {
        target: TargetId::default(),
        lane,
        seq,
        sent_at,
        report,
    }))
}

fn served_by(role: Role, model: &str, reply: &str) -> Served {
    Served {
        role,
        model: model.to_owned(),
        evidence: Evidence::ModelGroupHeader,
        reply: reply.to_owned(),
    }
}

/// The seed's proxy on its default port, probed every second.
pub fn run_info(simulated: bool) -> RunInfo {
    RunInfo {
        targets: vec![TargetInfo {
            name: "llama-fp8".into(),
            url: "http://127.0.0.1:4000".into(),
            primary: "llama-fp8".into(),
            fallback: Some("llama3".into()),
            interval: Duration::from_secs(1),
            timeout: Duration::from_secs(30),
            stream: false,
            lane: LaneConfig {
                mode: DirectMode::Off,
                ..LaneConfig::default()
            },
        }],
        simulated,
        down_after: 2,
        replay: None,
    }
}

/// A schedule every `interval`, with the defaults' timeout and in-flight limit, no end and a
/// one-second grace.
pub fn schedule(interval: Duration) -> Schedule {
    Schedule {
        target: TargetId::default(),
        interval,
        timeout: Duration::from_secs(30),
        max_in_flight: 10,
        count: None,
        duration: None,
        grace: Duration::from_secs(1),
        direct: DirectMode::Off,
        proxy_metrics: false,
        offset: Duration::ZERO,
        floor: Duration::ZERO,
    }
}

/// A key press as the terminal sends it.
pub fn key(code: KeyCode) -> Event {
    Event::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

/// A screen that keeps every frame it is shown.
pub struct Filmstrip {
    pub terminal: Terminal<TestBackend>,
    /// When each frame was drawn (time since the start) and what it showed.
    pub frames: Vec<(Duration, String)>,
    started: tokio::time::Instant,
}

impl Screen for Filmstrip {
    fn show(&mut self, draw: &mut dyn FnMut(&mut ratatui::Frame)) -> io::Result<()> {
        self.terminal.show(draw)?;
        let at = self.started.elapsed();
        self.frames.push((at, self.terminal.backend().to_string()));
        Ok(())
    }
}

/// A whole dashboard run with time paused: what it ended with.
pub struct Ran {
    pub end: Duration,
    pub monitor: Monitor,
    pub dashboard: Dashboard,
    pub screen: Filmstrip,
}

/// Runs the dashboard's loop at `width`×`height` against `prober` every second, pressing
/// `keys` at their times (seconds from the start), a mode lending its keys if given; to the
/// end of the run (a quit key among `keys`). Call with tokio's clock paused.
pub async fn run_dashboard<P: Probe>(
    prober: P,
    info: RunInfo,
    (width, height): (u16, u16),
    keys: &[(f64, Event)],
    mode: Option<ModeLink>,
) -> Ran {
    let session = start_session(prober, schedule(Duration::from_secs(1)));
    drive_dashboard(
        session,
        info,
        (width, height),
        keys,
        mode,
        Outputs::default(),
    )
    .await
}

/// Runs the dashboard's loop over `session` as [`run_dashboard`] does, telling `outputs`
/// (closed when it returns).
pub async fn drive_dashboard(
    session: Session,
    info: RunInfo,
    (width, height): (u16, u16),
    keys: &[(f64, Event)],
    mode: Option<ModeLink>,
    mut outputs: Outputs,
) -> Ran {
    let mut watch = Watch::new(info.monitors());
    let dashboard = Dashboard::new(info.clone(), ThemeName::Dark);
    let screen = Filmstrip {
        terminal: Terminal::new(TestBackend::new(width, height)).unwrap(),
        frames: Vec::new(),
        started: tokio::time::Instant::now(),
    };
    let (presses, pressed) = futures::channel::mpsc::unbounded();
    let keys = keys.to_vec();
    tokio::spawn(async move {
        let start = tokio::time::Instant::now();
        for (at, event) in keys {
            tokio::time::sleep_until(start + Duration::from_secs_f64(at)).await;
            presses.unbounded_send(event).unwrap();
        }
    });
    let (_signal, mut signals) = mpsc::unbounded_channel();
    let (_marks_tx, marks) = mpsc::channel(1);
    let inputs = Inputs {
        signals: &mut signals,
        marks: Ok(marks),
    };
    let mut front = DashboardFront::new(screen, pressed.map(Ok), dashboard, mode);
    let end = owner::run(session, &mut watch, &mut outputs, &mut front, &info, inputs)
        .await
        .unwrap();
    let closed = outputs.close();
    assert_eq!(closed.failure, None, "an output failed");
    let (screen, dashboard) = front.into_parts();
    Ran {
        end,
        monitor: watch.target(TargetId::default()).clone(),
        dashboard,
        screen,
    }
}
