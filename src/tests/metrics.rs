//! The metrics as a scrape sees them, fed what the owner of the state tells its outputs.

use std::time::Duration;

use super::{answered, run_info, sent, served, wall};
use crate::clock::{RunClock, SessionClock};
use crate::metrics::{Exporter, Metrics};
use crate::output::{Output, RunInfo, TargetInfo};
use crate::probe::event::Failure;
use crate::probe::{ErrorKind, Lane, ProbeEvent, ProbeReport, Role, TargetId};
use crate::state::{MonitorConfig, Told, Watch};

struct Fed {
    watch: Watch,
    metrics: Metrics,
    exporter: Exporter,
    /// The last request sent, by target.
    seq: Vec<u64>,
}

/// The first target (`llama-fp8` on 127.0.0.1:4000), and a second on another proxy, without a
/// fallback given.
const A: TargetId = TargetId(0);
const B: TargetId = TargetId(1);

fn two_targets() -> RunInfo {
    let mut info = run_info(false);
    info.targets.push(TargetInfo {
        name: "proxy-b:4000/qwen".into(),
        url: "http://proxy-b:4000".into(),
        primary: "qwen".into(),
        fallback: None,
        ..info.targets[0].clone()
    });
    info
}

impl Fed {
    fn new() -> Self {
        Self::of(&run_info(false))
    }

    fn of(info: &RunInfo) -> Self {
        let clock = SessionClock::Run(RunClock::starting_at(wall()));
        let (metrics, exporter) = Metrics::new(info, clock);
        Self {
            watch: Watch::new(vec![MonitorConfig::default(); info.targets.len()]),
            metrics,
            exporter,
            seq: vec![0; info.targets.len()],
        }
    }

    fn feed(&mut self, event: ProbeEvent) {
        for told in self.watch.apply(event.into()) {
            self.metrics.tell(&told, &self.watch).unwrap();
        }
    }

    /// One request a second of the first target, answered by `report`, of the normal or the
    /// direct lane.
    fn answer(&mut self, lane: Lane, report: ProbeReport) {
        self.answer_of(A, lane, report);
    }

    /// The same, of `target`.
    fn answer_of(&mut self, target: TargetId, lane: Lane, report: ProbeReport) {
        let seq = &mut self.seq[target.index()];
        if lane == Lane::Normal {
            *seq += 1;
        }
        let seq = *seq;
        let sent_at = Duration::from_secs(seq);
        let mut event = sent(lane, seq, sent_at);
        if let ProbeEvent::Sent { target: of, .. } = &mut event {
            *of = target;
        }
        self.feed(event);
        let mut event = answered(lane, seq, sent_at, report);
        if let ProbeEvent::Answered(outcome) = &mut event {
            outcome.target = target;
        }
        self.feed(event);
    }

    fn scrape(&self) -> String {
        self.exporter.encode(false).unwrap().0
    }
}

fn ok(role: Role, model: &str) -> ProbeReport {
    served(role, model, "Hi.", Duration::from_millis(30))
}

fn failed(kind: ErrorKind, status: Option<u16>) -> ProbeReport {
    ProbeReport {
        status,
        result: Err(Failure {
            kind,
            message: "boom".into(),
        }),
        ..served(Role::Primary, "", "", Duration::from_millis(270))
    }
}

/// The value of the sample `name{labels}`, if scraped.
fn sample(scrape: &str, series: &str) -> Option<f64> {
    scrape
        .lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

/// Asserts that `scrape` has each `(series, value)` sample.
#[track_caller]
fn assert_samples(scrape: &str, expected: &[(&str, f64)]) {
    for &(series, value) in expected {
        assert_eq!(sample(scrape, series), Some(value), "{series}");
    }
}

#[test]
fn a_failover_and_an_outage_are_counted_as_the_state_tells_them() {
    let mut fed = Fed::new();
    let before = fed.scrape();
    // Nothing known yet: no state, no primary lane; the watcher's own info is there.
    assert!(
        !before.contains("failover_watch_serving{target=\"llama-fp8\","),
        "{before}"
    );
    assert!(
        !before.contains("failover_watch_primary_state{target=\"llama-fp8\","),
        "{before}"
    );
    assert!(before.contains(
        "failover_watch_info{target=\"llama-fp8\",proxy=\"127.0.0.1:4000\",\
         url=\"http://127.0.0.1:4000\",primary=\"llama-fp8\",fallback=\"llama3\",\
         litellm_version=\"\",version=\""
    ));
    // Counters of kinds are there at 0 from the start: increase() sees their first rise.
    assert_samples(
        &before,
        &[
            (
                "failover_watch_transitions_total{target=\"llama-fp8\",kind=\"failover\"}",
                0.0,
            ),
            (
                "failover_watch_transitions_total{target=\"llama-fp8\",kind=\"restored\"}",
                0.0,
            ),
            (
                "failover_watch_errors_total{target=\"llama-fp8\",kind=\"timeout\"}",
                0.0,
            ),
            (
                "failover_watch_errors_total{target=\"llama-fp8\",kind=\"protocol\"}",
                0.0,
            ),
        ],
    );

    for _ in 0..3 {
        fed.answer(Lane::Normal, ok(Role::Primary, "llama-fp8"));
    }
    fed.answer(Lane::Normal, ok(Role::Fallback, "ollama/llama3"));
    fed.answer(Lane::Normal, ok(Role::Fallback, "ollama/llama3"));
    assert_samples(
        &fed.scrape(),
        &[
            (
                "failover_watch_requests_total{target=\"llama-fp8\",result=\"primary\",model=\"llama-fp8\"}",
                3.0,
            ),
            (
                "failover_watch_requests_total{target=\"llama-fp8\",result=\"fallback\",model=\"ollama/llama3\"}",
                2.0,
            ),
            (
                "failover_watch_serving{target=\"llama-fp8\",state=\"fallback\"}",
                1.0,
            ),
            (
                "failover_watch_serving{target=\"llama-fp8\",state=\"primary\"}",
                0.0,
            ),
            (
                "failover_watch_serving{target=\"llama-fp8\",state=\"down\"}",
                0.0,
            ),
            (
                "failover_watch_transitions_total{target=\"llama-fp8\",kind=\"failover\"}",
                1.0,
            ),
            (
                "failover_watch_request_duration_seconds_bucket{target=\"llama-fp8\",result=\"primary\",\
                 model=\"llama-fp8\",le=\"0.05\"}",
                3.0,
            ),
        ],
    );

    // Two failures in a row: DOWN, an outage, errors by kind.
    fed.answer(Lane::Normal, failed(ErrorKind::Http, Some(500)));
    fed.answer(Lane::Normal, failed(ErrorKind::Timeout, None));
    assert_samples(
        &fed.scrape(),
        &[
            (
                "failover_watch_serving{target=\"llama-fp8\",state=\"down\"}",
                1.0,
            ),
            (
                "failover_watch_serving{target=\"llama-fp8\",state=\"fallback\"}",
                0.0,
            ),
            (
                "failover_watch_transitions_total{target=\"llama-fp8\",kind=\"outage\"}",
                1.0,
            ),
            (
                "failover_watch_errors_total{target=\"llama-fp8\",kind=\"http\"}",
                1.0,
            ),
            (
                "failover_watch_errors_total{target=\"llama-fp8\",kind=\"timeout\"}",
                1.0,
            ),
            (
                "failover_watch_requests_total{target=\"llama-fp8\",result=\"error\",model=\"\"}",
                2.0,
            ),
            ("failover_watch_in_flight{target=\"llama-fp8\"}", 0.0),
        ],
    );
}

#[test]
fn the_primarys_own_state_and_the_proxys_release_appear_once_known() {
    let mut fed = Fed::new();
    fed.answer(Lane::Normal, ok(Role::Primary, "llama-fp8"));
    let mut direct = failed(ErrorKind::Http, Some(500));
    direct.route.version = Some("1.106.12".into());
    fed.answer(Lane::Direct, direct);
    let scrape = fed.scrape();
    assert_samples(
        &scrape,
        &[
            (
                "failover_watch_primary_state{target=\"llama-fp8\",state=\"failing\"}",
                1.0,
            ),
            (
                "failover_watch_primary_state{target=\"llama-fp8\",state=\"up\"}",
                0.0,
            ),
        ],
    );
    // One info series, with the release the proxy named.
    assert_eq!(
        scrape.matches("failover_watch_info{").count(),
        1,
        "{scrape}"
    );
    assert!(scrape.contains("litellm_version=\"1.106.12\""));
}

#[test]
fn a_proxy_naming_a_new_model_in_every_answer_gets_sixteen_series_at_most() {
    let mut fed = Fed::new();
    for n in 0..40 {
        fed.answer(Lane::Normal, ok(Role::Fallback, &format!("model-{n}")));
    }
    let scrape = fed.scrape();
    let series = scrape
        .lines()
        .filter(|l| l.starts_with("failover_watch_requests_total{target=\"llama-fp8\","))
        .count();
    assert_eq!(series, 16, "{scrape}");
    assert_samples(
        &scrape,
        &[(
            "failover_watch_requests_total{target=\"llama-fp8\",result=\"fallback\",model=\"(other)\"}",
            25.0,
        )],
    );
}

#[tokio::test(start_paused = true)]
async fn time_in_each_state_counts_the_current_one_up_to_the_scrape() {
    let mut fed = Fed::new();
    fed.answer(Lane::Normal, ok(Role::Primary, "llama-fp8"));
    // The first answer (sent at 1 s, 30 ms) made the state PRIMARY at 1.03 s of the run.
    tokio::time::advance(Duration::from_secs(5)).await;
    let scrape = fed.scrape();
    let primary = sample(
        &scrape,
        "failover_watch_state_seconds_total{target=\"llama-fp8\",state=\"primary\"}",
    );
    assert_eq!(primary, Some(3.97), "{scrape}");
    assert_samples(
        &scrape,
        &[(
            "failover_watch_state_seconds_total{target=\"llama-fp8\",state=\"fallback\"}",
            0.0,
        )],
    );
    // The promise of liveness: an input within two intervals and five seconds.
    assert!(fed.exporter.alive());
    tokio::time::advance(Duration::from_secs(3)).await;
    assert!(
        !fed.exporter.alive(),
        "8 s without an input at a 1 s interval"
    );
    // `+` to a minute (at 8 s of the run): the promise follows the interval now.
    let longer = Told::Interval {
        at: Duration::from_secs(8),
        every: Duration::from_secs(60),
    };
    fed.metrics.tell(&longer, &fed.watch).unwrap();
    tokio::time::advance(Duration::from_secs(100)).await;
    assert!(fed.exporter.alive(), "100 s after at a 60 s interval");
    tokio::time::advance(Duration::from_secs(30)).await;
    assert!(!fed.exporter.alive(), "130 s after at a 60 s interval");
}

#[test]
fn every_target_shows_from_the_start_with_its_own_info_series() {
    let fed = Fed::of(&two_targets());
    let scrape = fed.scrape();
    // One info series per target, its proxy's host beside the URL; nothing else yet names a
    // target but the run's.
    assert_eq!(
        scrape.matches("failover_watch_info{").count(),
        2,
        "{scrape}"
    );
    assert!(scrape.contains(
        "failover_watch_info{target=\"proxy-b:4000/qwen\",proxy=\"proxy-b:4000\",\
         url=\"http://proxy-b:4000\",primary=\"qwen\",fallback=\"\",litellm_version=\"\","
    ));
    for target in ["llama-fp8", "proxy-b:4000/qwen"] {
        assert_samples(
            &scrape,
            &[
                (
                    &format!(
                        "failover_watch_transitions_total{{target=\"{target}\",kind=\"failover\"}}"
                    ),
                    0.0,
                ),
                (
                    &format!("failover_watch_errors_total{{target=\"{target}\",kind=\"timeout\"}}"),
                    0.0,
                ),
                (
                    &format!("failover_watch_skipped_ticks_total{{target=\"{target}\"}}"),
                    0.0,
                ),
                (
                    &format!("failover_watch_in_flight{{target=\"{target}\"}}"),
                    0.0,
                ),
            ],
        );
    }
    let targets: std::collections::BTreeSet<&str> = scrape
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| Some(l.split_once("target=\"")?.1.split_once('"')?.0))
        .collect();
    assert_eq!(
        targets.into_iter().collect::<Vec<_>>(),
        ["llama-fp8", "proxy-b:4000/qwen"]
    );
    // Every sample names its target (the metrics of the whole run are per target too).
    let unlabelled: Vec<&str> = scrape
        .lines()
        .filter(|l| l.starts_with("failover_watch_") && !l.contains("target=\""))
        .collect();
    assert!(unlabelled.is_empty(), "{unlabelled:?}");
}

#[test]
fn one_targets_failover_and_outage_move_its_series_alone() {
    let mut fed = Fed::of(&two_targets());
    let b = "proxy-b:4000/qwen";
    for _ in 0..3 {
        fed.answer_of(A, Lane::Normal, ok(Role::Primary, "llama-fp8"));
        fed.answer_of(B, Lane::Normal, ok(Role::Primary, "qwen"));
    }
    // A fails over; B's primary keeps serving.
    fed.answer_of(A, Lane::Normal, ok(Role::Fallback, "ollama/llama3"));
    fed.answer_of(B, Lane::Normal, ok(Role::Primary, "qwen"));
    let scrape = fed.scrape();
    assert_samples(
        &scrape,
        &[
            (
                "failover_watch_serving{target=\"llama-fp8\",state=\"fallback\"}",
                1.0,
            ),
            (
                "failover_watch_serving{target=\"llama-fp8\",state=\"primary\"}",
                0.0,
            ),
            (
                &format!("failover_watch_serving{{target=\"{b}\",state=\"primary\"}}"),
                1.0,
            ),
            (
                &format!("failover_watch_serving{{target=\"{b}\",state=\"fallback\"}}"),
                0.0,
            ),
            (
                "failover_watch_transitions_total{target=\"llama-fp8\",kind=\"failover\"}",
                1.0,
            ),
            (
                &format!("failover_watch_transitions_total{{target=\"{b}\",kind=\"failover\"}}"),
                0.0,
            ),
            (
                "failover_watch_requests_total{target=\"llama-fp8\",result=\"primary\",model=\"llama-fp8\"}",
                3.0,
            ),
            (
                "failover_watch_requests_total{target=\"llama-fp8\",result=\"fallback\",model=\"ollama/llama3\"}",
                1.0,
            ),
            (
                &format!(
                    "failover_watch_requests_total{{target=\"{b}\",result=\"primary\",model=\"qwen\"}}"
                ),
                4.0,
            ),
        ],
    );
    assert!(
        !scrape.contains(&format!("target=\"{b}\",result=\"fallback\"")),
        "{scrape}"
    );

    // B goes DOWN: its outage and its errors; A still on its fallback, no error of A's.
    fed.answer_of(B, Lane::Normal, failed(ErrorKind::Http, Some(500)));
    fed.answer_of(B, Lane::Normal, failed(ErrorKind::Timeout, None));
    fed.feed(ProbeEvent::Skipped {
        target: B,
        lane: Lane::Normal,
        at: Duration::from_secs(7),
        in_flight: 10,
    });
    let scrape = fed.scrape();
    assert_samples(
        &scrape,
        &[
            (
                &format!("failover_watch_serving{{target=\"{b}\",state=\"down\"}}"),
                1.0,
            ),
            (
                &format!("failover_watch_transitions_total{{target=\"{b}\",kind=\"outage\"}}"),
                1.0,
            ),
            (
                &format!("failover_watch_errors_total{{target=\"{b}\",kind=\"http\"}}"),
                1.0,
            ),
            (
                &format!("failover_watch_errors_total{{target=\"{b}\",kind=\"timeout\"}}"),
                1.0,
            ),
            (
                &format!("failover_watch_skipped_ticks_total{{target=\"{b}\"}}"),
                1.0,
            ),
            (
                "failover_watch_serving{target=\"llama-fp8\",state=\"fallback\"}",
                1.0,
            ),
            (
                "failover_watch_serving{target=\"llama-fp8\",state=\"down\"}",
                0.0,
            ),
            (
                "failover_watch_transitions_total{target=\"llama-fp8\",kind=\"outage\"}",
                0.0,
            ),
            (
                "failover_watch_errors_total{target=\"llama-fp8\",kind=\"http\"}",
                0.0,
            ),
            (
                "failover_watch_skipped_ticks_total{target=\"llama-fp8\"}",
                0.0,
            ),
        ],
    );
}

#[test]
fn a_targets_primary_state_and_release_are_its_own() {
    let mut fed = Fed::of(&two_targets());
    fed.answer_of(A, Lane::Normal, ok(Role::Primary, "llama-fp8"));
    fed.answer_of(B, Lane::Normal, ok(Role::Primary, "qwen"));
    let mut direct = failed(ErrorKind::Http, Some(500));
    direct.route.version = Some("1.106.12".into());
    fed.answer_of(B, Lane::Direct, direct);
    let scrape = fed.scrape();
    assert_samples(
        &scrape,
        &[
            (
                "failover_watch_primary_state{target=\"proxy-b:4000/qwen\",state=\"failing\"}",
                1.0,
            ),
            (
                "failover_watch_primary_state{target=\"proxy-b:4000/qwen\",state=\"up\"}",
                0.0,
            ),
        ],
    );
    assert!(
        !scrape.contains("failover_watch_primary_state{target=\"llama-fp8\""),
        "{scrape}"
    );
    // Still one info series per target; the release on B's alone.
    let info: Vec<&str> = scrape
        .lines()
        .filter(|l| l.starts_with("failover_watch_info{"))
        .collect();
    assert_eq!(info.len(), 2, "{scrape}");
    for line in info {
        let named = line.contains("litellm_version=\"1.106.12\"");
        assert_eq!(
            named,
            line.contains("target=\"proxy-b:4000/qwen\""),
            "{line}"
        );
    }
}

#[test]
fn a_target_name_is_escaped_in_its_label() {
    let mut info = run_info(false);
    info.targets[0].name = "a\"b\\c\nd".into();
    let fed = Fed::of(&info);
    let scrape = fed.scrape();
    assert!(
        scrape.contains("failover_watch_in_flight{target=\"a\\\"b\\\\c\\nd\"} 0"),
        "{scrape}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_target_whose_schedule_went_quiet_makes_the_run_unhealthy() {
    let mut fed = Fed::of(&two_targets());
    fed.answer_of(A, Lane::Normal, ok(Role::Primary, "llama-fp8"));
    fed.answer_of(B, Lane::Normal, ok(Role::Primary, "qwen"));
    // 6 s on, A still ticks, B said nothing since the start: beyond its 1 s interval twice and
    // 5 s.
    tokio::time::advance(Duration::from_secs(6)).await;
    assert!(fed.exporter.alive());
    tokio::time::advance(Duration::from_secs(2)).await;
    fed.answer_of(A, Lane::Normal, ok(Role::Primary, "llama-fp8"));
    assert!(!fed.exporter.alive(), "B quiet for 8 s at a 1 s interval");
    fed.answer_of(B, Lane::Normal, ok(Role::Primary, "qwen"));
    assert!(fed.exporter.alive());
    // Time in each state, by target.
    let scrape = fed.scrape();
    assert_samples(
        &scrape,
        &[
            (
                "failover_watch_state_seconds_total{target=\"proxy-b:4000/qwen\",state=\"fallback\"}",
                0.0,
            ),
            (
                "failover_watch_state_seconds_total{target=\"llama-fp8\",state=\"down\"}",
                0.0,
            ),
        ],
    );
    assert_eq!(
        scrape
            .matches("failover_watch_state_seconds_total{")
            .count(),
        6,
        "{scrape}"
    );
}
