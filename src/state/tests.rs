//! Table-driven tests of the core over scripted sequences of answers.

use std::time::Duration;

use super::*;
use crate::probe::event::Failure;
use crate::probe::{ErrorKind, Evidence, Lane, ProbeReport, Route, Served, TargetId};
use crate::tests::{answered, sent};

const PRIMARY: &str = "llama-fp8";
const FALLBACK: &str = "ollama/llama3";

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

/// An answer to request `seq`, sent at `seq - 1` seconds, answered 20 ms later.
fn answer(seq: u64, result: &str) -> ProbeEvent {
    answer_at(seq, secs((seq - 1) as f64), secs(0.02), result)
}

fn answer_at(seq: u64, sent_at: Duration, latency: Duration, result: &str) -> ProbeEvent {
    let served = |role, model: &str| {
        Ok(Served {
            role,
            model: model.to_owned(),
            evidence: Evidence::ModelGroupHeader,
            reply: "Hi.".to_owned(),
        })
    };
    let result = match result {
        "P" => served(Role::Primary, PRIMARY),
        "F" => served(Role::Fallback, FALLBACK),
        "G" => served(Role::Fallback, "gpt-4o-mini"),
        "E" => Err(Failure {
            kind: ErrorKind::Http,
            message: "litellm.InternalServerError".to_owned(),
        }),
        // The proxy's rate limit for the key: no model asked.
        "R" => Err(rate_limited()),
        other => panic!("unknown answer {other}"),
    };
    let status = match &result {
        Ok(_) => 200,
        Err(f) if f.kind == ErrorKind::RateLimited => 429,
        Err(_) => 500,
    };
    let report = ProbeReport {
        latency,
        status: Some(status),
        route: Route::default(),
        ttft: None,
        result,
    };
    answered(Lane::Normal, seq, sent_at, report)
}

/// The failure the prober makes of LiteLLM's own rate limit (its parallel_request_limiter).
fn rate_limited() -> Failure {
    crate::probe::http_failure(
        429,
        "LiteLLM Rate Limit Handler for rate limit type = key. Crossed TPM / RPM / Max Parallel \
         Request Limit. current rpm: 1, rpm limit: 1",
        true,
    )
}

/// Runs a script of answers given as letters, one request a second, in order.
fn run(script: &str) -> (Monitor, Vec<Transition>) {
    let mut monitor = Monitor::new(MonitorConfig::default());
    let mut transitions = Vec::new();
    for (i, letter) in script.split_whitespace().enumerate() {
        let seq = i as u64 + 1;
        monitor.apply(&sent(Lane::Normal, seq, secs(i as f64)));
        if let Some(t) = monitor.apply(&answer(seq, letter)).transition {
            transitions.push(t);
        }
    }
    (monitor, transitions)
}

/// (kind, seq, from, to, failed_during)
type Expected = (TransitionKind, u64, ServingKind, ServingKind, u64);

#[test]
fn scripted_sequences_give_the_expected_transitions() {
    use ServingKind::{Down, Fallback as Fb, Primary as Pr};
    use TransitionKind::*;
    let cases: &[(&str, &[Expected])] = &[
        ("P P P P", &[]),
        (
            "P P F F F P P",
            &[(Failover, 3, Pr, Fb, 0), (Recovery, 6, Fb, Pr, 0)],
        ),
        (
            "P E F F P",
            &[(Failover, 3, Pr, Fb, 1), (Recovery, 5, Fb, Pr, 0)],
        ),
        ("P E P", &[]),
        (
            "P E E E P",
            &[(Outage, 3, Pr, Down, 2), (Restored, 5, Down, Pr, 3)],
        ),
        (
            "F F E E F",
            &[(Outage, 4, Fb, Down, 2), (Restored, 5, Down, Fb, 2)],
        ),
        ("E E E P P", &[(Restored, 4, Down, Pr, 3)]),
        ("F F F", &[]),
        // The proxy's rate limit for the key says nothing of who serves: never an outage,
        // never a failover, and it neither breaks nor extends a run of failures.
        ("P R R R P", &[]),
        ("F R R F", &[]),
        ("P R F", &[(Failover, 3, Pr, Fb, 0)]),
        (
            "P E R E P",
            &[(Outage, 4, Pr, Down, 2), (Restored, 5, Down, Pr, 2)],
        ),
        // Another deployment or model on the fallback side (a group of two deployments, a
        // gateway naming each answer anew) is no failover.
        (
            "P F G F P",
            &[(Failover, 2, Pr, Fb, 0), (Recovery, 5, Fb, Pr, 0)],
        ),
        (
            "P E E P E E F",
            &[
                (Outage, 3, Pr, Down, 2),
                (Restored, 4, Down, Pr, 2),
                (Outage, 6, Pr, Down, 2),
                (Restored, 7, Down, Fb, 2),
            ],
        ),
    ];
    for (script, expected) in cases {
        let (_, transitions) = run(script);
        let got: Vec<Expected> = transitions
            .iter()
            .map(|t| (t.kind, t.seq, t.from, t.to, t.failed_during))
            .collect();
        assert_eq!(&got, expected, "script {script:?}");
    }
}

#[test]
fn counters_follow_every_answer() {
    let (monitor, _) = run("P P F E F G P E");
    let c = monitor.counters();
    assert_eq!(
        (c.total, c.succeeded, c.failed, c.primary, c.fallback),
        (8, 6, 2, 3, 3)
    );
    assert_eq!((c.failovers, c.recoveries, c.outages), (1, 1, 0));
    assert_eq!(c.by_model.get(PRIMARY), Some(&3));
    assert_eq!(c.by_model.get(FALLBACK), Some(&2));
    assert_eq!(c.by_model.get("gpt-4o-mini"), Some(&1));
    assert_eq!(c.by_error.get(&ErrorKind::Http), Some(&2));
    assert_eq!(c.availability_percent(), Some(75.0));
    assert_eq!(monitor.latency().all.percentiles().unwrap().count, 6);
    assert_eq!(
        monitor
            .latency()
            .by_model()
            .find(|(m, _)| *m == FALLBACK)
            .unwrap()
            .1
            .count,
        2
    );
}

#[test]
fn transitions_carry_times_models_and_previous_duration() {
    let (monitor, transitions) = run("P P P F F P");
    let failover = &transitions[0];
    assert_eq!(failover.from_model.as_deref(), Some(PRIMARY));
    assert_eq!(failover.to_model.as_deref(), Some(FALLBACK));
    // Request 4 was sent at 3 s and answered 20 ms later; the primary state began with the
    // answer to request 1 (0.02 s).
    assert_eq!(failover.at, secs(3.02));
    assert_eq!(failover.previous, secs(3.0));
    let recovery = &transitions[1];
    assert_eq!(recovery.previous, secs(2.0));
    assert_eq!(
        monitor.serving(),
        &Serving::Primary {
            model: PRIMARY.into()
        }
    );
    assert_eq!(monitor.serving_since(), (secs(5.02), 6));
    assert_eq!(monitor.transitions().len(), 2);
}

#[test]
fn the_state_follows_the_latest_sent_request_when_answers_arrive_out_of_order() {
    let mut monitor = Monitor::new(MonitorConfig::default());
    for seq in 1..=5 {
        monitor.apply(&sent(Lane::Normal, seq, secs((seq - 1) as f64)));
    }
    assert_eq!(monitor.in_flight().len(), 5);
    let mut kinds = Vec::new();
    for event in [
        answer(1, "P"),
        answer(3, "F"),
        answer(2, "P"), // late: answered after request 3 was applied
        answer(4, "F"),
        answer(5, "P"),
    ] {
        if let Some(t) = monitor.apply(&event).transition {
            kinds.push((t.kind, t.seq));
        }
    }
    assert_eq!(
        kinds,
        [(TransitionKind::Failover, 3), (TransitionKind::Recovery, 5)]
    );
    let late: Vec<u64> = monitor
        .history()
        .iter()
        .filter(|r| r.late)
        .map(|r| r.seq)
        .collect();
    assert_eq!(late, [2]);
    let order: Vec<u64> = monitor.history().iter().map(|r| r.seq).collect();
    assert_eq!(order, [1, 2, 3, 4, 5]);
    assert_eq!(monitor.counters().primary, 3);
    assert!(monitor.in_flight().is_empty());
}

#[test]
fn a_hung_request_answering_late_does_not_flip_the_state_back() {
    // Request 2 hangs for 30 s and is then served by the fallback; requests 3..=6 were sent
    // meanwhile and answered by the primary again.
    let mut monitor = Monitor::new(MonitorConfig::default());
    let mut transitions = Vec::new();
    let mut feed = |m: &mut Monitor, e: ProbeEvent| {
        if let Some(t) = m.apply(&e).transition {
            transitions.push(t.kind);
        }
    };
    for seq in 1..=7 {
        feed(
            &mut monitor,
            sent(Lane::Normal, seq, secs((seq - 1) as f64)),
        );
    }
    feed(&mut monitor, answer(1, "P"));
    for seq in 3..=6 {
        feed(&mut monitor, answer(seq, "P"));
    }
    feed(&mut monitor, answer_at(2, secs(1.0), secs(30.07), "F"));
    assert!(transitions.is_empty(), "{transitions:?}");
    assert_eq!(monitor.counters().fallback, 1);
    assert_eq!(monitor.serving().kind(), Some(ServingKind::Primary));
}

#[test]
fn a_hung_primary_answered_in_order_is_a_failover_at_the_time_of_the_answer() {
    let mut monitor = Monitor::new(MonitorConfig::default());
    monitor.apply(&answer(1, "P"));
    let t = monitor
        .apply(&answer_at(2, secs(2.0), secs(30.07), "F"))
        .transition
        .expect("failover");
    assert_eq!(t.kind, TransitionKind::Failover);
    assert_eq!(t.at, secs(32.07));
}

#[test]
fn a_marker_is_reported_by_the_next_transition_only() {
    let mut monitor = Monitor::new(MonitorConfig::default());
    monitor.apply(&sent(Lane::Normal, 1, secs(0.0)));
    monitor.apply(&answer(1, "P"));
    let marker_id = monitor.mark(secs(0.5), None, None).id;
    assert_eq!(monitor.markers().last().unwrap().after_seq, 1);
    assert!(monitor.pending_marker.is_some());
    let failover = monitor.apply(&answer(2, "F")).transition.unwrap();
    assert_eq!(
        failover.after_marker,
        Some(MarkerLag {
            marker: marker_id,
            lag: secs(0.52),
            label: None,
        })
    );
    assert!(monitor.pending_marker.is_none());
    let recovery = monitor.apply(&answer(3, "P")).transition.unwrap();
    assert_eq!(recovery.after_marker, None);
}

#[test]
fn skips_and_abandoned_probes_are_counted() {
    let mut monitor = Monitor::new(MonitorConfig::default());
    monitor.apply(&sent(Lane::Normal, 1, secs(0.0)));
    monitor.apply(&ProbeEvent::Skipped {
        target: TargetId::default(),
        lane: Lane::Normal,
        at: secs(1.0),
        in_flight: 1,
    });
    monitor.apply(&ProbeEvent::Abandoned {
        target: TargetId::default(),
        lane: Lane::Normal,
        seq: 1,
        sent_at: secs(0.0),
        at: secs(2.0),
    });
    let c = monitor.counters();
    assert_eq!((c.skipped, c.abandoned, c.total), (1, 1, 0));
    assert!(monitor.in_flight().is_empty());
}

#[test]
fn reset_clears_the_shown_counts_but_keeps_the_story_and_the_whole_run() {
    let (mut monitor, _) = run("P E F F");
    let whole = monitor.counters().clone();
    monitor.reset_counters(secs(10.0));
    let shown = monitor.since_reset();
    assert_eq!(shown.counters, Counters::default());
    assert!(shown.latency.all.percentiles().is_none());
    assert_eq!(shown.since, secs(10.0));
    // The summaries and --fail-on-error still see the whole run.
    assert_eq!(monitor.counters(), &whole);
    assert_eq!((whole.total, whole.failed, whole.failovers), (4, 1, 1));
    assert_eq!(monitor.latency().all.percentiles().unwrap().count, 3);
    assert!(!monitor.primary_never_served());
    assert_eq!(monitor.history().len(), 4);
    assert_eq!(monitor.transitions().len(), 1);
    assert_eq!(monitor.serving().kind(), Some(ServingKind::Fallback));
    // Counting goes on in both.
    let (mut monitor, _) = run("P F");
    monitor.reset_counters(secs(10.0));
    monitor.apply(&ProbeEvent::Skipped {
        target: TargetId::default(),
        lane: Lane::Normal,
        at: secs(11.0),
        in_flight: 10,
    });
    assert_eq!(monitor.since_reset().counters.skipped, 1);
    assert_eq!(monitor.counters().skipped, 1);
}

#[test]
fn the_primary_never_serving_is_noticed() {
    assert!(run("F F F").0.primary_never_served());
    assert!(!run("F P F").0.primary_never_served());
    assert!(!run("E E").0.primary_never_served());
}

#[test]
fn a_long_run_stays_bounded() {
    let mut monitor = Monitor::new(MonitorConfig {
        history: 64,
        events: 8,
        ..MonitorConfig::default()
    });
    for seq in 1..=20_000u64 {
        let letter = if (seq / 10) % 2 == 0 { "P" } else { "F" };
        monitor.apply(&sent(Lane::Normal, seq, secs(seq as f64)));
        monitor.apply(&answer(seq, letter));
        if seq % 100 == 0 {
            monitor.mark(secs(seq as f64), None, None);
        }
    }
    assert_eq!(monitor.history().len(), 64);
    assert_eq!(monitor.transitions().len(), 8);
    assert_eq!(monitor.markers().len(), 8);
    assert_eq!(monitor.counters().total, 20_000);
    assert_eq!(monitor.counters().failovers, 1000);
    assert!(monitor.in_flight().is_empty());
}

#[test]
fn a_long_reply_is_cut_in_the_history() {
    let mut monitor = Monitor::new(MonitorConfig::default());
    let mut event = answer(1, "P");
    if let ProbeEvent::Answered(o) = &mut event
        && let Ok(served) = &mut o.report.result
    {
        // Made safe to print by the prober (or the record's reader) already: only cut here.
        served.reply = format!("Hi{}", "!".repeat(1000));
    }
    monitor.apply(&event);
    let text = &monitor.history().last().unwrap().text;
    assert!(text.starts_with("Hi!!!"));
    assert_eq!(text.chars().count(), ENTRY_TEXT_CHARS);
    assert!(text.ends_with('…'));
}

#[test]
fn a_run_that_starts_down_counts_an_outage() {
    let (monitor, transitions) = run("E E E P");
    let kinds: Vec<_> = transitions.iter().map(|t| t.kind).collect();
    // No state before DOWN to tell an outage transition from, but the outage is counted.
    assert_eq!(kinds, [TransitionKind::Restored]);
    let c = monitor.counters();
    assert_eq!((c.outages, c.restorations), (1, 1));
    // Staying down is one outage, not one per failed request.
    assert_eq!(run("E E E E").0.counters().outages, 1);
    assert_eq!(run("E").0.counters().outages, 0);
}

/// An answer whose headers said `version` and the router timeout `router`.
fn telling(seq: u64, result: &str, version: Option<&str>, router: Option<f64>) -> ProbeEvent {
    let mut event = answer(seq, result);
    if let ProbeEvent::Answered(o) = &mut event {
        o.report.route.version = version.map(str::to_owned);
        o.report.route.router_timeout = router.map(secs);
    }
    event
}

#[test]
fn a_router_timeout_the_client_would_cut_is_told_once() {
    let mut monitor = Monitor::new(MonitorConfig {
        timeout: secs(30.0),
        ..MonitorConfig::default()
    });
    assert_eq!(
        monitor.apply(&telling(1, "E", None, Some(10.0))).notice,
        None
    );
    let notice = monitor
        .apply(&telling(2, "E", None, Some(30.0)))
        .notice
        .unwrap();
    assert_eq!(notice.kind, NoticeKind::RouterTimeout);
    assert_eq!(notice.at, secs(1.02));
    assert!(
        notice
            .message
            .starts_with("the proxy waits 30 s for a model; --timeout 30s")
    );
    // Once: not again for later answers, a late one included.
    assert_eq!(
        monitor.apply(&telling(4, "E", None, Some(30.0))).notice,
        None
    );
    assert_eq!(
        monitor.apply(&telling(3, "E", None, Some(45.0))).notice,
        None
    );
    assert_eq!(monitor.notices().len(), 1);
    // At the default limit the same proxy is no cause for concern.
    let mut monitor = Monitor::new(MonitorConfig::default());
    assert_eq!(
        monitor.apply(&telling(1, "E", None, Some(30.0))).notice,
        None
    );
}

#[test]
fn the_proxys_release_is_the_last_one_it_named() {
    let mut monitor = Monitor::new(MonitorConfig::default());
    assert_eq!(monitor.litellm_version(), None);
    monitor.apply(&telling(1, "P", Some("1.83.14"), None));
    // Errors carry no version: the last one named stays.
    monitor.apply(&telling(2, "E", None, Some(30.0)));
    assert_eq!(monitor.litellm_version(), Some("1.83.14"));
    monitor.apply(&telling(3, "P", Some("1.106.12"), None));
    assert_eq!(monitor.litellm_version(), Some("1.106.12"));
}

/// A direct probe's answer: `seq` sent at `sent` seconds, answered 20 ms later.
fn direct(seq: u64, sent: f64, what: &str) -> ProbeEvent {
    crate::tests::direct_answer(seq, secs(sent), what)
}

/// Applies direct answers, one a second from 0, and returns the kinds it changed to.
fn lane(monitor: &mut Monitor, script: &[&str]) -> Vec<Option<PrimaryKind>> {
    script
        .iter()
        .enumerate()
        .map(|(i, what)| {
            let applied = monitor.apply(&direct(i as u64 + 1, i as f64, what));
            applied.primary.map(|c| c.to.kind().unwrap())
        })
        .collect()
}

#[test]
fn the_primarys_own_state_goes_up_failing_cooling_down_and_up_again() {
    use PrimaryKind::*;
    let mut monitor = Monitor::new(MonitorConfig::default());
    let script = ["up", "up", "failing", "failing", "cooling", "cooling", "up"];
    let changes = lane(&mut monitor, &script);
    assert_eq!(
        changes,
        [
            Some(Up),
            None,
            Some(Failing),
            None,
            Some(CoolingDown),
            None,
            Some(Up)
        ]
    );
    let primary = monitor.primary();
    // Up from 0.02 s to 2 s (when the probe that found it failing left), failing to 4.02 s,
    // cooling down to 6.02 s.
    let now = secs(10.0);
    assert_eq!(primary.time_in(Up, now), secs(1.98) + secs(10.0 - 6.02));
    assert_eq!(primary.time_in(Failing, now), secs(2.02));
    assert_eq!(primary.time_in(CoolingDown, now), secs(2.0));
    assert_eq!(
        primary.first_failure(),
        Some(
            "litellm.InternalServerError: InternalServerError: OpenAIException - Connection error."
        )
    );
    assert_eq!(primary.answered().direct, 7);
    assert_eq!(primary.cooldown_ended_after(secs(5.0)), Some(secs(2.0)));
    assert_eq!(primary.cooldown_ended_after(secs(7.0)), None);
}

#[test]
fn the_next_try_counts_from_the_last_failure_seen() {
    let mut monitor = Monitor::new(MonitorConfig::default());
    lane(&mut monitor, &["failing", "failing", "cooling", "cooling"]);
    let PrimaryState::CoolingDown(cooldown) = monitor.primary().state() else {
        panic!("{:?}", monitor.primary().state());
    };
    // The last failure answered at 1.02 s; LiteLLM's cooldown is 10 s from it.
    assert_eq!(cooldown.next_try, Some(secs(11.02)));
    assert_eq!(cooldown.configured, Some(secs(10.0)));
    assert_eq!(cooldown.api_bases, ["http://llama-fp8-predictor:8080/v1"]);
    // Without a failure seen (the watcher started during a cooldown), from the first 429:
    // a bound, not a guess of when it began.
    let mut monitor = Monitor::new(MonitorConfig::default());
    lane(&mut monitor, &["cooling"]);
    let PrimaryState::CoolingDown(cooldown) = monitor.primary().state() else {
        panic!();
    };
    assert_eq!(cooldown.next_try, Some(secs(10.02)));
}

#[test]
fn a_late_direct_answer_does_not_move_the_primarys_state_back() {
    let mut monitor = Monitor::new(MonitorConfig::default());
    monitor.apply(&direct(2, 1.0, "up"));
    // Probe 1 (sent first) answers last: kept in the lane, but the state stays up.
    let applied = monitor.apply(&direct(1, 0.0, "failing"));
    assert_eq!(applied.primary, None);
    assert_eq!(monitor.primary().state(), &PrimaryState::Up);
    assert_eq!(monitor.primary().history().len(), 2);
    // Its failure still counts as the last one seen for a cooldown's estimate.
    monitor.apply(&direct(3, 2.0, "cooling"));
    let PrimaryState::CoolingDown(cooldown) = monitor.primary().state() else {
        panic!();
    };
    assert_eq!(cooldown.next_try, Some(secs(10.02)));
}

#[test]
fn a_proxy_that_refuses_direct_probes_is_told_once_and_for_good() {
    for refusal in ["refused", "by-fallback"] {
        let mut monitor = Monitor::new(MonitorConfig::default());
        let changes = lane(&mut monitor, &["up", refusal, "up", "failing"]);
        assert_eq!(
            changes,
            [
                Some(PrimaryKind::Up),
                Some(PrimaryKind::Refused),
                None,
                None
            ],
            "{refusal}"
        );
        let PrimaryState::Refused { message } = monitor.primary().state() else {
            panic!();
        };
        assert!(
            message.contains("disable_fallbacks"),
            "{refusal}: {message}"
        );
    }
}

#[test]
fn a_hung_primary_timed_out_by_the_router_is_failing_not_refusing() {
    let mut monitor = Monitor::new(MonitorConfig::default());
    let changes = lane(&mut monitor, &["up", "router-timeout", "up"]);
    assert_eq!(
        changes,
        [
            Some(PrimaryKind::Up),
            Some(PrimaryKind::Failing),
            Some(PrimaryKind::Up)
        ]
    );
    assert_eq!(
        monitor.primary().first_failure(),
        Some("litellm.Timeout: Connection timed out after 30.0 seconds.")
    );
}

#[test]
fn a_failover_names_its_cause_and_a_recovery_the_cooldown_whichever_answer_comes_first() {
    let send = |monitor: &mut Monitor, seq: u64| {
        for lane in [Lane::Normal, Lane::Direct] {
            monitor.apply(&sent(lane, seq, secs((seq - 1) as f64)));
        }
    };
    for direct_first in [true, false] {
        let mut monitor = Monitor::new(MonitorConfig::default());
        let script = [
            ("P", "up"),
            ("F", "failing"),
            ("F", "cooling"),
            ("F", "cooling"),
            ("P", "up"),
        ];
        for (i, (normal, own)) in script.iter().enumerate() {
            let seq = i as u64 + 1;
            send(&mut monitor, seq);
            let answers = [answer(seq, normal), direct(seq, (seq - 1) as f64, own)];
            let order: Vec<&ProbeEvent> = if direct_first {
                answers.iter().rev().collect()
            } else {
                answers.iter().collect()
            };
            for event in order {
                monitor.apply(event);
            }
        }
        let transitions: Vec<&Transition> = monitor.transitions().iter().collect();
        assert_eq!(transitions[0].kind, TransitionKind::Failover);
        assert_eq!(
            transitions[0].cause.as_deref(),
            Some("primary: Connection error."),
            "direct first: {direct_first}"
        );
        assert_eq!(transitions[1].kind, TransitionKind::Recovery);
        assert_eq!(transitions[1].cause, None);
        let held = transitions[1]
            .primary_cooldown
            .expect("the cooldown it lasted");
        assert!((secs(1.9)..=secs(2.1)).contains(&held), "{held:?}");
    }
}

/// A monitor whose lane is quiet, with LiteLLM's `allowed_fails: 1` and 10 s cooldown known.
fn quiet() -> Monitor {
    Monitor::new(MonitorConfig {
        lane: LaneConfig {
            mode: crate::probe::DirectMode::Quiet,
            failures_to_cool: Some(2),
            cooldown: Some(secs(10.0)),
        },
        ..MonitorConfig::default()
    })
}

/// LiteLLM's health check of the primary, sent at `sent`: what a direct probe would say.
fn health(seq: u64, sent: f64, what: &str) -> ProbeEvent {
    let ProbeEvent::Answered(mut outcome) = direct(seq, sent, what) else {
        unreachable!()
    };
    outcome.lane = Lane::Health;
    ProbeEvent::Answered(outcome)
}

/// Request `seq` sent at `at` seconds and answered as `letter` 20 ms later.
fn request(monitor: &mut Monitor, seq: u64, at: f64, letter: &str) -> Applied {
    monitor.apply(&sent(Lane::Normal, seq, secs(at)));
    monitor.apply(&answer_at(seq, secs(at), secs(0.02), letter))
}

#[test]
fn the_quiet_lane_asks_the_health_check_for_the_cause_and_one_direct_probe_into_the_cooldown() {
    let mut monitor = quiet();
    request(&mut monitor, 1, 0.0, "P");
    request(&mut monitor, 2, 1.0, "P");
    // Nothing is asked while the primary serves.
    assert_eq!(monitor.lane_wanted(secs(1.5)), None);
    let failover = request(&mut monitor, 3, 2.0, "F");
    assert_eq!(
        failover.transition.as_ref().map(|t| t.kind),
        Some(TransitionKind::Failover)
    );
    assert!(
        failover.awaits_lane,
        "the failover waits for the health check"
    );
    // The health check at once, and not asked twice.
    assert_eq!(monitor.lane_wanted(secs(2.02)), Some(Lane::Health));
    assert_eq!(monitor.lane_wanted(secs(2.02)), None);
    monitor.apply(&sent(Lane::Health, 1, secs(2.03)));
    let told = monitor.apply(&health(1, 2.03, "failing"));
    let change = told.primary.expect("the primary is failing");
    assert_eq!(
        (change.lane, change.to.kind()),
        (Lane::Health, Some(PrimaryKind::Failing))
    );
    let explained = told.explains.expect("the failover explained");
    assert_eq!(
        explained.cause.as_deref(),
        Some("primary: Connection error.")
    );
    // The second answer away from the primary started LiteLLM's cooldown (allowed_fails 1):
    // one direct probe meets it, which LiteLLM does not count.
    request(&mut monitor, 4, 3.0, "F");
    assert_eq!(monitor.lane_wanted(secs(3.02)), Some(Lane::Direct));
    monitor.apply(&sent(Lane::Direct, 1, secs(3.03)));
    let told = monitor.apply(&direct(1, 3.03, "cooling"));
    let PrimaryState::CoolingDown(cooldown) = told.primary.unwrap().to else {
        panic!("{:?}", monitor.primary().state());
    };
    // From the request that started it, answered at 3.02 s: the router's 10 s.
    assert_eq!(cooldown.next_try, Some(secs(13.02)));
    assert!(!cooldown.next_try_at_latest);
    // Confirmed once: more requests away ask no more direct probes; the health check again
    // only after five seconds.
    request(&mut monitor, 5, 4.0, "F");
    request(&mut monitor, 6, 5.0, "F");
    assert_eq!(monitor.lane_wanted(secs(5.02)), None);
    assert_eq!(monitor.lane_wanted(secs(7.03)), Some(Lane::Health));
    monitor.apply(&sent(Lane::Health, 2, secs(7.03)));
    // The deployment answers its health check, but LiteLLM holds it back until 13.02 s; a
    // health check still failing changes nothing either.
    let told = monitor.apply(&health(2, 7.03, "up"));
    assert_eq!(told.primary, None);
    monitor.apply(&sent(Lane::Health, 3, secs(8.0)));
    assert_eq!(monitor.apply(&health(3, 8.0, "failing")).primary, None);
    assert!(matches!(
        monitor.primary().state(),
        PrimaryState::CoolingDown(_)
    ));
    // A request the primary serves again: it is up, and LiteLLM held it back from the
    // cooldown's sighting (3.05 s) until then.
    let recovery = request(&mut monitor, 7, 13.5, "P");
    let change = recovery.primary.expect("up again");
    assert_eq!((change.lane, change.seq), (Lane::Normal, 7));
    assert_eq!(change.to, PrimaryState::Up);
    let transition = recovery.transition.unwrap();
    assert_eq!(transition.kind, TransitionKind::Recovery);
    assert_eq!(transition.primary_cooldown, Some(secs(13.52) - secs(3.05)));
    assert!(!recovery.awaits_lane, "a recovery has nothing to wait for");
    assert_eq!(monitor.primary().answered().health, 3);
    assert_eq!(monitor.primary().answered().direct, 1);
}

#[test]
fn a_health_check_the_proxy_never_answered_says_nothing_of_the_primary() {
    let mut monitor = quiet();
    request(&mut monitor, 1, 0.0, "F");
    assert_eq!(monitor.lane_wanted(secs(0.02)), Some(Lane::Health));
    monitor.apply(&sent(Lane::Health, 1, secs(0.03)));
    let report = ProbeReport {
        latency: secs(0.001),
        status: None,
        route: Route::default(),
        ttft: None,
        result: Err(Failure {
            kind: ErrorKind::Connect,
            message: "LiteLLM's health check: Connection refused (os error 111)".to_owned(),
        }),
    };
    let told = monitor.apply(&crate::tests::answered(Lane::Health, 1, secs(0.03), report));
    assert_eq!(told.primary, None);
    assert_eq!(monitor.primary().state(), &PrimaryState::Unknown);
}

#[test]
fn without_the_routers_settings_the_quiet_lane_sends_no_direct_probe() {
    // allowed_fails unknown (a key that may not read the router's settings, or a failure-rate
    // policy): nothing says when the requests started a cooldown, and a guess would count.
    let mut monitor = Monitor::new(MonitorConfig::default());
    for seq in 1..=7 {
        request(&mut monitor, seq, seq as f64, "F");
        let wanted = monitor.lane_wanted(secs(seq as f64 + 0.02));
        assert_ne!(wanted, Some(Lane::Direct), "request {seq}");
        if let Some(lane) = wanted {
            monitor.apply(&sent(lane, seq, secs(seq as f64 + 0.03)));
            monitor.apply(&health(seq, seq as f64 + 0.03, "failing"));
        }
    }
    assert_eq!(
        monitor.primary().answered().health,
        2,
        "at 1 s and 7 s: five seconds apart"
    );
}

#[test]
fn in_the_probe_lane_requests_do_not_move_the_primarys_state() {
    let mut monitor = Monitor::new(MonitorConfig {
        lane: LaneConfig {
            mode: crate::probe::DirectMode::Probe,
            ..LaneConfig::default()
        },
        ..MonitorConfig::default()
    });
    monitor.apply(&sent(Lane::Direct, 1, secs(0.0)));
    monitor.apply(&direct(1, 0.0, "failing"));
    let served = request(&mut monitor, 1, 1.0, "P");
    assert_eq!(served.primary, None);
    assert_eq!(
        monitor.lane_wanted(secs(2.0)),
        None,
        "probe mode asks nothing"
    );
    assert!(matches!(
        monitor.primary().state(),
        PrimaryState::Failing { .. }
    ));
}

#[test]
fn back_to_back_cooldowns_are_one_wait() {
    let mut monitor = Monitor::new(MonitorConfig::default());
    // Cooling down from 1.02 s to 3.02 s, failing again as the cooldown ended, cooling down
    // from 4.02 s to 6.02 s: LiteLLM held the primary back for 5 s, not 2 and not 4.
    let script = [
        "failing", "cooling", "cooling", "failing", "cooling", "cooling", "up",
    ];
    lane(&mut monitor, &script);
    assert_eq!(
        monitor.primary().cooldown_ended_after(secs(0.0)),
        Some(secs(5.0))
    );
    // Only the cooldowns of the away period asked about.
    assert_eq!(
        monitor.primary().cooldown_ended_after(secs(3.5)),
        Some(secs(2.0))
    );
}

#[test]
fn a_hang_is_not_up_and_names_the_cooldown_it_started() {
    let mut monitor = Monitor::new(MonitorConfig {
        lane: LaneConfig {
            mode: crate::probe::DirectMode::Probe,
            ..LaneConfig::default()
        },
        ..MonitorConfig::default()
    });
    request(&mut monitor, 1, 0.0, "P");
    monitor.apply(&sent(Lane::Direct, 1, secs(0.0)));
    monitor.apply(&direct(1, 0.0, "up"));
    // A direct probe sent at 10 s, held by the hung primary until the router gave up at 13 s.
    monitor.apply(&sent(Lane::Direct, 2, secs(10.0)));
    let ProbeEvent::Answered(mut timed_out) = direct(2, 10.0, "router-timeout") else {
        unreachable!()
    };
    timed_out.report.latency = secs(3.0);
    let failing = monitor
        .apply(&ProbeEvent::Answered(timed_out))
        .primary
        .unwrap();
    assert_eq!(failing.at, secs(10.0), "failing from when the probe left");
    // The cooldown that failure started: a direct probe meets it, then the requests go to
    // the fallback.
    monitor.apply(&sent(Lane::Direct, 3, secs(13.1)));
    monitor.apply(&direct(3, 13.1, "cooling"));
    let failover = request(&mut monitor, 2, 13.5, "F");
    let cause = failover.transition.unwrap().cause.unwrap();
    assert!(
        cause.starts_with("primary: litellm.Timeout")
            && cause.ends_with(", then in LiteLLM cooldown"),
        "{cause}"
    );
    // Up until the hung probe left, not while it hung.
    assert_eq!(
        monitor.primary().time_in(PrimaryKind::Up, secs(20.0)),
        secs(9.98)
    );
}

#[test]
fn a_failing_health_check_does_not_move_the_next_try() {
    // LiteLLM counts the requests' failures, not its health check's: the cooldown runs from
    // the second request away (allowed_fails 1), whatever the health check said after it.
    let mut monitor = quiet();
    request(&mut monitor, 1, 0.0, "F");
    request(&mut monitor, 2, 1.0, "F");
    monitor.apply(&sent(Lane::Health, 1, secs(1.5)));
    monitor.apply(&health(1, 1.5, "failing"));
    monitor.apply(&sent(Lane::Direct, 1, secs(1.6)));
    monitor.apply(&direct(1, 1.6, "cooling"));
    let PrimaryState::CoolingDown(cooldown) = monitor.primary().state() else {
        panic!("{:?}", monitor.primary().state());
    };
    assert_eq!(cooldown.next_try, Some(secs(11.02)));
}

#[test]
fn the_proxys_rate_limit_for_the_key_is_counted_as_such_and_moves_nothing() {
    let (monitor, _) = run("P R R R");
    let c = monitor.counters();
    assert_eq!((c.total, c.failed, c.outages), (4, 3, 0));
    assert_eq!(c.by_error.get(&ErrorKind::RateLimited), Some(&3));
    assert!(matches!(monitor.serving(), Serving::Primary { .. }));

    // The quiet lane does not count it as a failure LiteLLM counted: no direct probe into a
    // cooldown it did not start.
    let mut monitor = quiet();
    request(&mut monitor, 1, 0.0, "P");
    for seq in 2..=5 {
        request(&mut monitor, seq, seq as f64, "R");
        assert_eq!(monitor.lane_wanted(secs(seq as f64 + 0.02)), None, "{seq}");
    }

    // A direct probe it refused: the line says refused, the primary's state is untold.
    let mut monitor = Monitor::new(MonitorConfig::default());
    lane(&mut monitor, &["up"]);
    monitor.apply(&sent(Lane::Direct, 2, secs(1.0)));
    let report = ProbeReport {
        latency: secs(0.01),
        status: Some(429),
        route: Route::default(),
        ttft: None,
        result: Err(rate_limited()),
    };
    let told = monitor.apply(&crate::tests::answered(Lane::Direct, 2, secs(1.0), report));
    assert_eq!(told.primary, None);
    assert_eq!(told.observed, Some(PrimaryKind::Refused));
    assert_eq!(monitor.primary().state(), &PrimaryState::Up);
}

/// Each target's quiet lane is asked at its own events: the one away wants its health check,
/// asked of it; another target's event asks nothing of it.
#[test]
fn a_targets_lane_is_asked_at_its_own_events() {
    let steady = quiet();
    let mut away = quiet();
    request(&mut away, 1, 0.0, "F");
    let mut watch = Watch::of_all(vec![steady, away]);
    assert!(watch.lane_wanted(Some(TargetId(0)), secs(0.02)).is_empty());
    assert_eq!(
        watch.lane_wanted(Some(TargetId(1)), secs(0.02)),
        [(TargetId(1), Lane::Health)]
    );
    // Asked once: not again until it is answered.
    assert!(watch.lane_wanted(None, secs(0.03)).is_empty());
}
