//! The simulated gateway's router (the pure core) against the real LiteLLM 1.83.14's recorded
//! failover timelines (`fixtures/scenarios`: recorded against that proxy, the last one with
//! this project's watcher), made with the proxy config
//! `fixtures/scenarios/config.yaml`: every recorded request must be served by the same
//! deployment, after as many fallbacks.

use std::sync::Mutex;
use std::time::Duration;

use serde_json::Value;

use super::{RELEASES, recorded_json, recorded_settings};
use crate::modes::demo::config_file;
use crate::modes::demo::errors::{CallFailure, RouteError};
use crate::modes::demo::router::{self, Calls, Moment, Routed, Router};
use crate::modes::demo::settings::{GatewaySettings, Release, RouterOverrides};
use crate::tests::fixture;

/// How long a call that is not hanging takes: answers and failures on loopback took 5-80 ms
/// in the recordings.
const CALL: Duration = Duration::from_millis(30);

/// The recording's setup: the seed's config pointed at loopback mocks, on LiteLLM 1.83.14 (the
/// release of the recorded timelines).
fn recorded_setup() -> GatewaySettings {
    recorded_settings(Release::V1_83)
}

/// What the deployments of a group do at a moment.
type Conditions<'a> = dyn Fn(&str, Duration) -> Condition + Sync + 'a;

/// What a deployment does when called.
#[derive(Clone, Debug)]
enum Condition {
    Up,
    Failing(CallFailure),
    Hanging,
}

/// Every deployment refuses the connection, as a killed upstream does.
fn all_refused(_group: &str, _at: Duration) -> Condition {
    Condition::Failing(CallFailure::Refused)
}

fn mock_500() -> CallFailure {
    CallFailure::ServerError {
        body: r#"{"error":{"message":"mock 500: injected fault"}}"#.into(),
    }
}

/// The deployments on a clock of the test's own: each call takes [`CALL`] (a hung one the
/// router's timeout), each back-off its pause, and what a call does is what `condition` says
/// for the deployment's group at that moment. Every call and wait is written down.
struct Stage<'a> {
    now: Moment,
    groups: Vec<String>,
    condition: &'a Conditions<'a>,
    trace: Vec<String>,
}

impl Calls for Stage<'_> {
    type Answer = ();

    fn now(&self) -> Moment {
        self.now
    }

    async fn call(&mut self, deployment: usize, timeout: Duration) -> Result<(), CallFailure> {
        let group = &self.groups[deployment];
        self.trace.push(format!("call {group}"));
        match (self.condition)(group, self.now) {
            Condition::Up => {
                self.now += CALL;
                Ok(())
            }
            Condition::Failing(failure) => {
                self.now += CALL;
                Err(failure)
            }
            Condition::Hanging => {
                self.now += timeout;
                Err(CallFailure::TimedOut { after: timeout })
            }
        }
    }

    async fn wait(&mut self, pause: Duration) {
        self.trace.push(format!("wait {pause:?}"));
        self.now += pause;
    }
}

/// One request through the router from `at`, the deployments behaving as `condition` says
/// at each call. Returns the outcome, when it came, and what the router did on the way.
fn walk(
    router: &Mutex<Router>,
    settings: &GatewaySettings,
    group: &str,
    at: Duration,
    condition: &Conditions<'_>,
) -> (Result<Routed, RouteError>, Duration, Vec<String>) {
    let group = router.lock().unwrap().group_index(group).unwrap();
    let mut stage = Stage {
        now: at,
        groups: settings
            .deployments
            .iter()
            .map(|d| d.group.clone())
            .collect(),
        condition,
        trace: Vec::new(),
    };
    // Every call and wait of the stage is ready at once: one poll drives the walk to its end.
    let result = futures::executor::block_on(router::drive(router, group, true, &mut stage));
    (result.map(|(served, ())| served), stage.now, stage.trace)
}

/// [`walk`] on the recorded setup's router, outcome and time only.
fn request(
    router: &Mutex<Router>,
    group: &str,
    at: Duration,
    condition: &Conditions<'_>,
) -> (Result<Routed, RouteError>, Duration) {
    let (result, end, _) = walk(router, &recorded_setup(), group, at, condition);
    (result, end)
}

/// A recorded timeline: faults of the primary and requests, in seconds from the start.
struct Timeline {
    faults: Vec<(f64, Condition)>,
    requests: Vec<Recorded>,
}

struct Recorded {
    sent: f64,
    wall: f64,
    model_id: String,
    attempted_fallbacks: Option<u32>,
}

impl Timeline {
    fn load(name: &str) -> Self {
        let lines: Vec<Value> = fixture(&format!("scenarios/{name}.jsonl"))
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let start = lines[0]["ts"].as_f64().unwrap();
        let mut faults = Vec::new();
        let mut requests = Vec::new();
        for line in &lines {
            let at = line["ts"].as_f64().unwrap() - start;
            match line["event"].as_str() {
                Some("primary-killed") => {
                    faults.push((at, Condition::Failing(CallFailure::Refused)))
                }
                Some("primary-mode-500") => faults.push((at, Condition::Failing(mock_500()))),
                Some("primary-mode-hang") => faults.push((at, Condition::Hanging)),
                Some("primary-restarted" | "primary-mode-ok") => faults.push((at, Condition::Up)),
                Some(_) => {}
                None => requests.push(Recorded {
                    sent: at,
                    wall: line["wall_s"].as_f64().unwrap(),
                    model_id: line["model_id"].as_str().unwrap().to_owned(),
                    attempted_fallbacks: line["attempted_fallbacks"]
                        .as_str()
                        .map(|n| n.parse().unwrap()),
                }),
            }
        }
        faults.sort_by(|a, b| a.0.total_cmp(&b.0));
        requests.sort_by(|a, b| a.sent.total_cmp(&b.sent));
        Self { faults, requests }
    }

    fn primary_at(&self, at: Duration) -> Condition {
        self.faults
            .iter()
            .rev()
            .find(|(t, _)| *t <= at.as_secs_f64())
            .map_or(Condition::Up, |(_, c)| c.clone())
    }

    /// Replays the requests through the simulated router; every one must match.
    fn replay(&self, name: &str) -> Vec<(Routed, Duration)> {
        let setup = recorded_setup();
        let router = Mutex::new(Router::new(setup.clone()));
        let condition = |group: &str, at: Duration| match group {
            "llama-fp8" => self.primary_at(at),
            _ => Condition::Up,
        };
        let mut results = Vec::new();
        for (i, recorded) in self.requests.iter().enumerate() {
            let at = Duration::from_secs_f64(recorded.sent);
            let (result, end) = request(&router, "llama-fp8", at, &condition);
            let served = result.unwrap_or_else(|e| panic!("{name} #{i}: {}", e.message));
            let deployment = &setup.deployments[served.deployment];
            assert_eq!(
                deployment.id, recorded.model_id,
                "{name} #{i} sent at {:.2}s: served by {}, recorded otherwise",
                recorded.sent, deployment.group
            );
            if let Some(n) = recorded.attempted_fallbacks {
                assert_eq!(served.attempted_fallbacks, n, "{name} #{i}");
            }
            let took = (end - at).as_secs_f64();
            assert!(
                (took - recorded.wall).abs() < 0.25,
                "{name} #{i}: took {took:.2}s, recorded {:.2}s",
                recorded.wall
            );
            results.push((served, at));
        }
        results
    }
}

const PRIMARY: usize = 1;

/// The send times of the first fallback answer and of the first primary answer after it.
fn failover_and_recovery(results: &[(Routed, Duration)]) -> (f64, f64) {
    let failover = results
        .iter()
        .position(|(s, _)| s.deployment != PRIMARY)
        .expect("a failover");
    let recovery = results[failover..]
        .iter()
        .find(|(s, _)| s.deployment == PRIMARY)
        .expect("a recovery");
    (results[failover].1.as_secs_f64(), recovery.1.as_secs_f64())
}

#[test]
fn killed_primary_fails_over_at_once_and_recovers_only_after_the_cooldown() {
    for name in ["03a-scenario-kill", "03d-scenario-kill-stream"] {
        let timeline = Timeline::load(name);
        let results = timeline.replay(name);
        let killed = timeline.faults[0].0;
        let restored = timeline.faults[1].0;
        let (failover, recovery) = failover_and_recovery(&results);
        // The first request after the kill is already served by the fallback.
        assert!(failover > killed && failover - killed < 1.0, "{name}");
        // Restored at ~20 s, but the primary was cooling down (10 s) from its last failure
        // at ~18 s: back 8-9 s after the restore, not at once.
        assert!(
            recovery - restored > 8.0,
            "{name}: back {:.1}s after",
            recovery - restored
        );
    }
}

#[test]
fn a_primary_answering_500_is_treated_like_a_dead_one() {
    Timeline::load("03b-scenario-500").replay("03b-scenario-500");
}

#[test]
fn a_primary_back_while_not_cooling_down_serves_the_next_request() {
    let name = "03e-scenario-kill-restore-after-12s";
    let timeline = Timeline::load(name);
    let results = timeline.replay(name);
    let (_, recovery) = failover_and_recovery(&results);
    assert!(recovery - timeline.faults[1].0 < 1.0);
}

#[test]
fn a_hanging_primary_polled_one_at_a_time_costs_the_router_timeout_every_time() {
    let name = "03c-scenario-hang";
    let results = Timeline::load(name).replay(name);
    // Two requests each waited 30 s for the timeout, then the fallback served them; their
    // failures came 30 s apart, so the count (kept 10 s) never reached a cooldown.
    let hung: Vec<_> = results
        .iter()
        .filter(|(s, _)| s.deployment != PRIMARY)
        .collect();
    assert_eq!(hung.len(), 2);
}

/// The deployments on tokio's clock (paused in the tests): a call to the hanging primary takes
/// the router's timeout, any other [`CALL`].
struct Clocked {
    start: tokio::time::Instant,
}

impl Calls for Clocked {
    type Answer = ();

    fn now(&self) -> Moment {
        self.start.elapsed()
    }

    async fn call(&mut self, deployment: usize, timeout: Duration) -> Result<(), CallFailure> {
        if deployment == PRIMARY {
            tokio::time::sleep(timeout).await;
            Err(CallFailure::TimedOut { after: timeout })
        } else {
            tokio::time::sleep(CALL).await;
            Ok(())
        }
    }

    async fn wait(&mut self, pause: Duration) {
        tokio::time::sleep(pause).await;
    }
}

#[tokio::test(start_paused = true)]
async fn hanging_requests_piling_up_put_the_primary_in_cooldown() {
    let router = Mutex::new(Router::new(recorded_setup()));
    let group = router.lock().unwrap().group_index("llama-fp8").unwrap();
    let start = tokio::time::Instant::now();
    let request = |after: Duration| {
        let router = &router;
        async move {
            tokio::time::sleep(after).await;
            let result = router::drive(router, group, true, &mut Clocked { start }).await;
            (result.map(|(served, ())| served), start.elapsed())
        }
    };
    // Three requests at once, all stuck on the hanging primary for the router's 30 s, each
    // then served by the fallback.
    let ms = Duration::from_millis;
    let (a, b, c) = tokio::join!(request(ms(0)), request(ms(100)), request(ms(200)));
    for (i, (served, end)) in [a, b, c].into_iter().enumerate() {
        let served = served.unwrap();
        assert_eq!(
            (served.deployment, served.attempted_fallbacks),
            (0, 1),
            "#{i}"
        );
        assert_eq!(end, ms(30_000 + 100 * i as u64) + CALL, "#{i}");
    }
    // The failures came 0.1 s apart: the second put the primary in cooldown.
    assert!(
        router
            .lock()
            .unwrap()
            .in_cooldown(PRIMARY, Duration::from_secs(31))
    );
    // Now a request goes straight to the fallback, without waiting.
    let (served, end) = request(Duration::from_secs(31) - start.elapsed()).await;
    assert_eq!(served.unwrap().deployment, 0);
    assert_eq!(end, Duration::from_secs(31) + CALL);
}

#[test]
fn both_down_gives_litellms_500_twice_then_its_429() {
    // Three requests 0.35 s apart with both upstreams refused, on each release.
    for release in RELEASES {
        let router = Mutex::new(Router::new(recorded_settings(release)));
        let bodies: Vec<Value> = [0, 356, 712]
            .into_iter()
            .map(|ms| {
                let at = Duration::from_millis(ms);
                let (result, _) = request(&router, "llama-fp8", at, &all_refused);
                result.unwrap_err().body()
            })
            .collect();
        let recorded = |name| recorded_json(release, name);
        assert_eq!(bodies[0], recorded("06a-both-refused.http"), "{release:?}");
        assert_eq!(bodies[1], recorded("06a-both-refused.http"), "{release:?}");
        assert_eq!(
            bodies[2],
            recorded("06a3-both-refused-third.http"),
            "{release:?}"
        );
    }
}

#[test]
fn without_fallbacks_the_primarys_error_says_so() {
    for release in RELEASES {
        let mut setup = recorded_settings(release);
        setup.router.fallbacks = None;
        let router = Mutex::new(Router::new(setup.clone()));
        let (result, _, _) = walk(&router, &setup, "llama-fp8", Duration::ZERO, &all_refused);
        let recorded = recorded_json(release, "12b-nofallback-primary-refused.http");
        assert_eq!(result.unwrap_err().body(), recorded, "{release:?}");
    }
}

#[test]
fn retries_wait_a_growing_back_off_then_fall_back() {
    let mut setup = recorded_setup();
    setup.apply(RouterOverrides {
        num_retries: Some(2),
        allowed_fails: Some(5),
        ..RouterOverrides::default()
    });
    let router = Mutex::new(Router::new(setup.clone()));
    let primary_fails = |group: &str, _: Duration| match group {
        "llama-fp8" => Condition::Failing(mock_500()),
        _ => Condition::Up,
    };
    let (result, _, trace) = walk(&router, &setup, "llama-fp8", Duration::ZERO, &primary_fails);
    let served = result.unwrap();
    assert_eq!((served.deployment, served.attempted_fallbacks), (0, 1));
    // LiteLLM sleeps after the last retry too before giving up (jitter left out).
    assert_eq!(
        trace,
        [
            "call llama-fp8",
            "wait 500ms",
            "call llama-fp8",
            "wait 1s",
            "call llama-fp8",
            "wait 2s",
            "call llama3"
        ]
    );
}

#[test]
fn an_ollama_fallback_never_cools_down_but_an_openai_one_does() {
    let router = Mutex::new(Router::new(recorded_setup()));
    for i in 0..5u64 {
        let at = Duration::from_millis(100 * i);
        let (result, _) = request(&router, "llama-fp8", at, &all_refused);
        assert!(result.is_err(), "both are down");
    }
    assert!(
        router
            .lock()
            .unwrap()
            .in_cooldown(PRIMARY, Duration::from_millis(500))
    );
    assert!(
        !router
            .lock()
            .unwrap()
            .in_cooldown(0, Duration::from_millis(500))
    );
}

#[test]
fn the_default_failure_rate_policy_never_cools_a_lone_deployment_down() {
    let mut setup = recorded_setup();
    setup.apply(RouterOverrides {
        allowed_fails: Some(3),
        ..RouterOverrides::default()
    });
    let router = Mutex::new(Router::new(setup));
    let down = |g: &str, _: Duration| match g {
        "llama-fp8" => Condition::Failing(CallFailure::Refused),
        _ => Condition::Up,
    };
    for i in 0..50u64 {
        let (result, _) = request(&router, "llama-fp8", Duration::from_millis(100 * i), &down);
        assert_eq!(result.unwrap().deployment, 0);
        assert!(
            !router
                .lock()
                .unwrap()
                .in_cooldown(PRIMARY, Duration::from_millis(100 * i + 50))
        );
    }
}

#[test]
fn a_verbatim_seed_never_reaches_the_primary() {
    // captures/00a: no api_key on an openai/ deployment, and no OPENAI_API_KEY around.
    let config = fixture("scenarios/config.yaml").replace("api_key: \"none\"", "");
    let router = Mutex::new(Router::new(config_file::parse(&config, false).unwrap()));
    let mut calls = Vec::new();
    for i in 0..3u64 {
        let (result, _) = request(&router, "llama-fp8", Duration::from_secs(i), &|g, _| {
            assert_ne!(g, "llama-fp8", "the primary must never be called");
            Condition::Up
        });
        calls.push(result.unwrap().deployment);
    }
    assert_eq!(calls, [0, 0, 0]);
}

/// Recorded with `failover-watch --output jsonl` against the real proxy (the e2e runner's
/// config: the seed's, router timeout 30 s, cooldown 10 s), probing every second: both
/// upstreams killed 2.43 s after the first probe, the fallback restarted at 5.44 s, the
/// primary at 20.44 s.
#[test]
fn both_down_then_the_fallback_back_first_matches_the_recording() {
    let lines: Vec<Value> = fixture("scenarios/both-down-fallback-back-first.jsonl")
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|l: &Value| l["type"] == "request")
        .collect();
    let sent = |l: &Value| {
        chrono::DateTime::parse_from_rfc3339(l["sent_at"].as_str().unwrap())
            .unwrap()
            .timestamp_micros() as f64
            / 1e6
    };
    let start = sent(&lines[0]);
    let router = Mutex::new(Router::new(recorded_setup()));
    let condition = |group: &str, at: Duration| {
        let at = at.as_secs_f64();
        let back = if group == "llama-fp8" { 20.44 } else { 5.44 };
        if (2.43..back).contains(&at) {
            Condition::Failing(CallFailure::Refused)
        } else {
            Condition::Up
        }
    };
    let mut story = Vec::new();
    for line in &lines {
        let at = Duration::from_secs_f64(sent(line) - start);
        let (result, _) = request(&router, "llama-fp8", at, &condition);
        let simulated = match result {
            Ok(served) if served.deployment == PRIMARY => "primary".to_owned(),
            Ok(_) => "fallback".to_owned(),
            Err(error) => format!("error {}", error.status),
        };
        let recorded = match line["result"].as_str().unwrap() {
            "error" => format!("error {}", line["status"]),
            result => result.to_owned(),
        };
        story.push((line["seq"].as_u64().unwrap(), recorded, simulated));
    }
    for (seq, recorded, simulated) in &story {
        assert_eq!(recorded, simulated, "#{seq}: {story:?}");
    }
    // What the recording shows: two 500s, LiteLLM's own 429 while the primary cools down and
    // the fallback is still down, the fallback at once when it is back (it was never put in
    // cooldown), the primary once its cooldown is over.
    let recorded: Vec<&str> = story.iter().map(|s| s.1.as_str()).collect();
    assert_eq!(recorded[3..6], ["error 500", "error 500", "error 429"]);
    assert_eq!(recorded[6], "fallback");
    assert_eq!(recorded.last(), Some(&"primary"));
}
