//! The dashboard in demo mode, time paused: the demo's keys reach its director, which switches
//! the simulated deployments, and the condition it reports back shows as it changes.

use std::time::Duration;

use ratatui::crossterm::event::KeyCode;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::modes::demo::config_file::{seed, several};
use crate::modes::demo::director::{Direction, Director, GROUP_KEYS, KEYS};
use crate::modes::demo::errors::CallFailure;
use crate::modes::demo::stage::{Fault, Side, Stage};
use crate::output::TargetInfo;
use crate::probe::{Lane, Probe, ProbeReport, Role};
use crate::run::ModeLink;
use crate::tests::{key, run_dashboard, run_info, served};
use crate::ui::ModeKeys;

/// The demo's director over `stage`, no script, its keys (`keys`) lent to the dashboard: the
/// mode's link, and the director's task.
fn directed(stage: &Stage, keys: &'static ModeKeys) -> (ModeLink, JoinHandle<()>) {
    let direction = Direction {
        script: None,
        pass: None,
        narrate: false,
    };
    let (director, status) = Director::open(stage.clone(), direction);
    let (presses, received) = mpsc::unbounded_channel();
    let director = tokio::spawn(director.run(Some(received)));
    let mode = ModeLink {
        keys,
        presses,
        status,
    };
    (mode, director)
}

struct AlwaysPrimary;

impl Probe for AlwaysPrimary {
    async fn probe(&self, _lane: Lane) -> ProbeReport {
        served(Role::Primary, "llama-fp8", "Hi.", Duration::from_millis(5))
    }
}

#[tokio::test(start_paused = true)]
async fn demo_keys_switch_the_deployments_and_their_condition_shows_live() {
    let stage = Stage::watching(&seed(), vec![("llama-fp8".into(), Some("llama3".into()))]);
    let (mode, director) = directed(&stage, &KEYS);
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

/// The overview of three watched groups: a digit chooses the group, then `k` takes its
/// primary down (the overview's selection stays: its keys are the arrows).
#[tokio::test(start_paused = true)]
async fn on_the_overview_a_digit_chooses_the_group_the_demo_keys_act_on() {
    let settings = several(3);
    let watched: Vec<(String, Option<String>)> = settings
        .watched_primaries()
        .iter()
        .map(|p| {
            (
                (*p).to_owned(),
                settings.first_fallback(p).map(str::to_owned),
            )
        })
        .collect();
    let stage = Stage::watching(&settings, watched.clone());
    let (mode, director) = directed(&stage, &GROUP_KEYS);
    let mut info = run_info(true);
    let first = info.targets[0].clone();
    info.targets = watched
        .iter()
        .map(|(primary, fallback)| TargetInfo {
            name: primary.clone(),
            primary: primary.clone(),
            fallback: fallback.clone(),
            ..first.clone()
        })
        .collect();
    let keys = [
        (1.5, key(KeyCode::Char('2'))),
        (2.0, key(KeyCode::Char('k'))),
        (2.5, key(KeyCode::Char('7'))),
        (3.0, key(KeyCode::Char('E'))),
        (3.5, key(KeyCode::Char('q'))),
    ];
    let ran = run_dashboard(AlwaysPrimary, info, (200, 40), &keys, Some(mode)).await;
    director.abort();

    // Group 2's primary only; 7 chose nothing (three groups), so E hit group 2's fallback.
    assert_eq!(stage.fault_in(1, Side::Primary), Some(Fault::Down));
    assert_eq!(stage.fault_in(1, Side::Fallback), Some(Fault::Error));
    for group in [0, 2] {
        for side in [Side::Primary, Side::Fallback] {
            assert_eq!(
                stage.fault_in(group, side),
                Some(Fault::Up),
                "{group} {side:?}"
            );
        }
    }
    let overview = ran.dashboard.overview.as_ref().expect("the overview");
    assert_eq!(
        (overview.selected, overview.open),
        (None, None),
        "k neither moved the selection nor opened a target"
    );
    let screen = ran.screen.terminal.backend().to_string();
    assert!(
        screen.contains("group 2 qwen-72b: primary down · fallback 500"),
        "the footer names the chosen group: {screen}"
    );
    let (_, first) = &ran.screen.frames[0];
    assert!(
        first.contains("group 1 llama-fp8: primary up · fallback up"),
        "{first}"
    );
    assert!(first.contains("1-9 group"), "{first}");
}
