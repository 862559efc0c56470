//! The demo's `stage`.

use std::time::Duration;

use tokio::time::{Instant, sleep};

use crate::modes::demo::config_file::seed;
use crate::modes::demo::errors::CallFailure;
use crate::modes::demo::stage::*;

#[tokio::test(start_paused = true)]
async fn calls_play_the_faults_switched_on_their_target() {
    let stage = Stage::new(&seed(), "llama-fp8", Some("llama3"));
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
    assert!(stage.has(Side::Fallback));
}
