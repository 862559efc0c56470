//! The dashboard in demo mode, time paused: the demo's keys reach its director, which switches
//! the simulated deployments, and the condition it reports back shows as it changes.

use std::time::Duration;

use ratatui::crossterm::event::KeyCode;
use tokio::sync::mpsc;

use crate::modes::demo::config_file::seed;
use crate::modes::demo::director::{Direction, Director, KEYS};
use crate::modes::demo::errors::CallFailure;
use crate::modes::demo::stage::Stage;
use crate::probe::{Lane, Probe, ProbeReport, Role};
use crate::run::ModeLink;
use crate::tests::{key, run_dashboard, run_info, served};

struct AlwaysPrimary;

impl Probe for AlwaysPrimary {
    async fn probe(&self, _lane: Lane) -> ProbeReport {
        served(Role::Primary, "llama-fp8", "Hi.", Duration::from_millis(5))
    }
}

#[tokio::test(start_paused = true)]
async fn demo_keys_switch_the_deployments_and_their_condition_shows_live() {
    let stage = Stage::new(&seed(), "llama-fp8", Some("llama3"));
    let direction = Direction {
        script: None,
        pass: None,
        narrate: false,
    };
    let (director, status) = Director::open(stage.clone(), direction);
    let (presses, received) = mpsc::unbounded_channel();
    let director = tokio::spawn(director.run(Some(received)));
    let mode = ModeLink {
        keys: &KEYS,
        presses,
        status,
    };
    let shift = |c| key(KeyCode::Char(c));
    let keys = [
        (1.5, key(KeyCode::Char('k'))),
        (2.5, shift('H')),
        (3.5, shift('q')),
    ];
    let ran = run_dashboard(AlwaysPrimary, run_info(true), (200, 40), &keys, Some(mode)).await;
    director.abort();
    assert_eq!(ran.end, Duration::from_millis(3500));

    // Lower case went to the primary, the capital to the fallback.
    let (fallback, primary) = (0, 1);
    let limit = Duration::from_millis(10);
    assert_eq!(stage.call(primary, limit).await, Err(CallFailure::Refused));
    assert_eq!(
        stage.call(fallback, limit).await,
        Err(CallFailure::TimedOut { after: limit })
    );
    let screen = ran.screen.terminal.backend().to_string();
    assert!(
        screen.contains(" primary down · fallback hang  │ q quit  space pause  m marker  ? help  │ demo: k/K down"),
        "the footer leads with the deployments' condition: {screen}"
    );
    assert!(
        screen.contains("simulated primary down · fallback hang"),
        "the banner tells the whole stage: {screen}"
    );
    // Before the first key, both were up.
    let (_, first) = &ran.screen.frames[0];
    assert!(
        first.contains("simulated primary up · fallback up"),
        "{first}"
    );
}
