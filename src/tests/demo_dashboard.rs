//! The dashboard in demo mode, time paused: demo keys reach the simulated gateway, and the
//! condition it reports back shows in the footer as it changes.

use std::sync::Arc;
use std::time::Duration;


use crate::output::Recorder;
use crate::probe::{Probe, ProbeReport, Role};
use crate::run::Session;
use crate::state::{Monitor, MonitorConfig};
use crate::tui::{self, DemoLink, Inputs};
use crate::ui::{Dashboard, DemoFault, DemoStatus, DemoTarget, ThemeName};
use futures::StreamExt;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use tokio::sync::{mpsc, watch};

struct AlwaysPrimary;

impl Probe for AlwaysPrimary {
    async fn probe(&self) -> ProbeReport {
        super::served(Role::Primary, "llama-fp8", "Hi.", Duration::from_millis(5))
    }
}

fn status(primary: &str, fallback: &str) -> DemoStatus {
    DemoStatus {
        primary: primary.into(),
        fallback: fallback.into(),
        script: Some("next primary-up@20s".into()),
    }
}

fn key(c: char) -> Event {
    Event::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

#[tokio::test(start_paused = true)]
async fn demo_keys_reach_the_gateway_and_its_condition_shows_live() {
    let info = super::run_info(true);
    let schedule = super::schedule(Duration::from_secs(1));
    let session = Session::start(Arc::new(AlwaysPrimary), schedule);
    let mut monitor = Monitor::new(MonitorConfig::new("llama-fp8"));
    let mut dashboard = Dashboard::new(info, ThemeName::Mono);
    dashboard.demo = Some(status("up", "up"));
    let mut terminal = Terminal::new(TestBackend::new(200, 40)).unwrap();

    // The gateway's side: switches what the keys ask for and reports the new condition.
    let (requests, mut asked) = mpsc::unbounded_channel();
    let (condition, seen) = watch::channel(status("up", "up"));
    let gateway = tokio::spawn(async move {
        let mut received = Vec::new();
        while let Some((target, fault)) = asked.recv().await {
            received.push((target, fault));
            let (primary, fallback) = match (target, fault) {
                (DemoTarget::Primary, DemoFault::Down) => ("down", "up"),
                _ => ("down", "hang"),
            };
            condition.send_replace(status(primary, fallback));
        }
        received
    });

    let script = [(1.5, key('k')), (2.5, key('H')), (3.5, key('q'))];
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
        demo: Some(DemoLink {
            requests,
            status: seen,
        }),
    };
    let mut recorder = Recorder::off();
    let end = tui::run(
        &mut terminal,
        session,
        &mut monitor,
        &mut dashboard,
        inputs,
        &mut recorder,
    )
    .await
    .unwrap();
    assert_eq!(end, Duration::from_millis(3500));

    // The keys went to the gateway, lowercase for the primary, capitals for the fallback.
    let received = gateway.await.unwrap();
    assert_eq!(
        received,
        [
            (DemoTarget::Primary, DemoFault::Down),
            (DemoTarget::Fallback, DemoFault::Hang)
        ]
    );
    // What it reported back is what the dashboard shows now.
    assert_eq!(dashboard.demo, Some(status("down", "hang")));
    let screen = terminal.backend().to_string();
    assert!(
        screen.contains(" primary down · fallback hang  │ q quit"),
        "the footer leads with the deployments' condition: {screen}"
    );
    assert!(
        screen.contains("simulated primary down · fallback hang · next primary-up@20s"),
        "the banner tells the whole stage: {screen}"
    );
}
