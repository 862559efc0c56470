//! The metrics as a scrape sees them, fed what the owner of the state tells its outputs.

use std::time::Duration;

use super::{answered, run_info, sent, served, wall};
use crate::clock::{RunClock, SessionClock};
use crate::metrics::{Exporter, Metrics};
use crate::output::Output;
use crate::probe::event::Failure;
use crate::probe::{ErrorKind, Lane, ProbeEvent, ProbeReport, Role};
use crate::state::{MonitorConfig, Told, Watch};

struct Fed {
    watch: Watch,
    metrics: Metrics,
    exporter: Exporter,
    seq: u64,
}

impl Fed {
    fn new() -> Self {
        let clock = SessionClock::Run(RunClock::starting_at(wall()));
        let (metrics, exporter) = Metrics::new(&run_info(false), clock);
        Self {
            watch: Watch::new(vec![MonitorConfig::default()]),
            metrics,
            exporter,
            seq: 0,
        }
    }

    fn feed(&mut self, event: ProbeEvent) {
        for told in self.watch.apply(event.into()) {
            self.metrics.tell(&told, &self.watch).unwrap();
        }
    }

    /// One request a second, answered by `report`, of the normal or the direct lane.
    fn answer(&mut self, lane: Lane, report: ProbeReport) {
        if lane == Lane::Normal {
            self.seq += 1;
        }
        let sent_at = Duration::from_secs(self.seq);
        self.feed(sent(lane, self.seq, sent_at));
        self.feed(answered(lane, self.seq, sent_at, report));
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
    assert!(!before.contains("failover_watch_serving{"), "{before}");
    assert!(
        !before.contains("failover_watch_primary_state{"),
        "{before}"
    );
    assert!(before.contains(
        "failover_watch_info{url=\"http://127.0.0.1:4000\",primary=\"llama-fp8\",\
         fallback=\"llama3\",litellm_version=\"\",version=\""
    ));
    // Counters of kinds are there at 0 from the start: increase() sees their first rise.
    assert_samples(
        &before,
        &[
            ("failover_watch_transitions_total{kind=\"failover\"}", 0.0),
            ("failover_watch_transitions_total{kind=\"restored\"}", 0.0),
            ("failover_watch_errors_total{kind=\"timeout\"}", 0.0),
            ("failover_watch_errors_total{kind=\"protocol\"}", 0.0),
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
                "failover_watch_requests_total{result=\"primary\",model=\"llama-fp8\"}",
                3.0,
            ),
            (
                "failover_watch_requests_total{result=\"fallback\",model=\"ollama/llama3\"}",
                2.0,
            ),
            ("failover_watch_serving{state=\"fallback\"}", 1.0),
            ("failover_watch_serving{state=\"primary\"}", 0.0),
            ("failover_watch_serving{state=\"down\"}", 0.0),
            ("failover_watch_transitions_total{kind=\"failover\"}", 1.0),
            (
                "failover_watch_request_duration_seconds_bucket{result=\"primary\",\
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
            ("failover_watch_serving{state=\"down\"}", 1.0),
            ("failover_watch_serving{state=\"fallback\"}", 0.0),
            ("failover_watch_transitions_total{kind=\"outage\"}", 1.0),
            ("failover_watch_errors_total{kind=\"http\"}", 1.0),
            ("failover_watch_errors_total{kind=\"timeout\"}", 1.0),
            (
                "failover_watch_requests_total{result=\"error\",model=\"\"}",
                2.0,
            ),
            ("failover_watch_in_flight", 0.0),
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
            ("failover_watch_primary_state{state=\"failing\"}", 1.0),
            ("failover_watch_primary_state{state=\"up\"}", 0.0),
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
        .filter(|l| l.starts_with("failover_watch_requests_total{"))
        .count();
    assert_eq!(series, 16, "{scrape}");
    assert_samples(
        &scrape,
        &[(
            "failover_watch_requests_total{result=\"fallback\",model=\"(other)\"}",
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
        "failover_watch_state_seconds_total{state=\"primary\"}",
    );
    assert_eq!(primary, Some(3.97), "{scrape}");
    assert_samples(
        &scrape,
        &[(
            "failover_watch_state_seconds_total{state=\"fallback\"}",
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
