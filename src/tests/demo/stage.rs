//! The demo's `stage`.

use std::time::Duration;

use tokio::time::{Instant, sleep};

use crate::modes::demo::config_file::{seed, several};
use crate::modes::demo::errors::CallFailure;
use crate::modes::demo::stage::*;

#[tokio::test(start_paused = true)]
async fn calls_play_the_faults_switched_on_their_target() {
    let stage = Stage::watching(&seed(), vec![("llama-fp8".into(), Some("llama3".into()))]);
    let (fallback, primary) = (0, 1);
    let limit = Duration::from_secs(30);
    assert_eq!(stage.call(primary, limit).await.unwrap().text, "Hi.");
    stage.set(Side::Primary, Fault::Down);
    assert_eq!(stage.call(primary, limit).await, Err(CallFailure::Refused));
    assert_eq!(stage.call(fallback, limit).await.unwrap().text, "Hello!");
    stage.set(Side::Primary, Fault::Error);
    assert!(matches!(
        stage.call(primary, limit).await,
        Err(CallFailure::ServerError { .. })
    ));

    // A slow answer comes after two seconds, or the router gives up first.
    stage.set(Side::Primary, Fault::Slow);
    let started = Instant::now();
    assert!(stage.call(primary, limit).await.is_ok());
    assert_eq!(started.elapsed(), SLOW);
    let short = Duration::from_secs(1);
    assert_eq!(
        stage.call(primary, short).await,
        Err(CallFailure::TimedOut { after: short })
    );

    // A hung call waits for the router's timeout, or is cut when its deployment goes down.
    stage.set(Side::Primary, Fault::Hang);
    assert_eq!(
        stage.call(primary, limit).await,
        Err(CallFailure::TimedOut { after: limit })
    );
    let hung = tokio::spawn({
        let stage = stage.clone();
        async move { stage.call(primary, limit).await }
    });
    sleep(Duration::from_secs(3)).await;
    stage.set(Side::Primary, Fault::Down);
    assert_eq!(hung.await.unwrap(), Err(CallFailure::Disconnected));
    assert_eq!(stage.fault_in(0, Side::Fallback), Some(Fault::Up));
    assert_eq!(stage.fault_in(1, Side::Primary), None);
}

#[tokio::test(start_paused = true)]
async fn a_switch_in_one_group_leaves_the_others_serving_their_primary() {
    let settings = several(3);
    let groups: Vec<&str> = settings
        .deployments
        .iter()
        .map(|d| d.group.as_str())
        .collect();
    let deployment = |group: &str| groups.iter().position(|g| *g == group).unwrap();
    let watched = ["llama-fp8", "qwen-72b", "mistral-large"]
        .iter()
        .map(|p| {
            (
                (*p).to_owned(),
                settings.first_fallback(p).map(str::to_owned),
            )
        })
        .collect();
    let stage = Stage::watching(&settings, watched);
    let limit = Duration::from_secs(30);
    stage.set_in(1, Side::Primary, Fault::Down);
    assert_eq!(
        stage.call(deployment("qwen-72b"), limit).await,
        Err(CallFailure::Refused)
    );
    assert_eq!(stage.fault_in(1, Side::Primary), Some(Fault::Down));
    for primary in ["llama-fp8", "mistral-large"] {
        let answer = stage.call(deployment(primary), limit).await.unwrap();
        assert_eq!(answer.text, "Hi.", "{primary} still serves");
    }
    for fallback in ["llama3", "qwen-7b", "mistral-small"] {
        let answer = stage.call(deployment(fallback), limit).await.unwrap();
        assert_eq!(answer.text, "Hello!", "{fallback}");
    }
    assert_eq!(stage.fault_in(0, Side::Primary), Some(Fault::Up));
    // The fallback of the chosen group only; `set` is the first group's.
    stage.set_in(2, Side::Fallback, Fault::Error);
    assert!(
        stage
            .call(deployment("mistral-small"), limit)
            .await
            .is_err()
    );
    assert!(stage.call(deployment("qwen-7b"), limit).await.is_ok());
    stage.set(Side::Primary, Fault::Hang);
    assert_eq!(stage.fault_in(0, Side::Primary), Some(Fault::Hang));
    assert_eq!(stage.fault_in(2, Side::Primary), Some(Fault::Up));
}
