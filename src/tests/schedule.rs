//! The fixed schedule, with tokio's clock paused: probes leave on time whatever the upstream
//! does, and nothing sent is ever lost from the record.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::probe::{Lane, Probe, ProbeEvent, ProbeReport, Role, Schedule, Stop};
use crate::run::Session;
use crate::state::Input;
use tokio::time::Instant;

/// A prober whose n-th probe (from 1) takes `delay(n)` and then serves from the primary.
struct Scripted<F> {
    calls: AtomicU64,
    delay: F,
}

impl<F: Fn(u64) -> Duration + Send + Sync + 'static> Probe for Scripted<F> {
    async fn probe(&self, _lane: Lane) -> ProbeReport {
        let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        let started = Instant::now();
        tokio::time::sleep((self.delay)(n)).await;
        super::served(
            Role::Primary,
            "llama-fp8",
            &format!("answer {n}"),
            started.elapsed(),
        )
    }
}

fn scripted(delay: impl Fn(u64) -> Duration + Send + Sync + 'static) -> impl Probe {
    Scripted {
        calls: AtomicU64::new(0),
        delay,
    }
}

const HUNG: Duration = Duration::from_secs(3600);

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

fn schedule(interval: f64) -> Schedule {
    Schedule {
        max_in_flight: 100,
        grace: secs(5.0),
        ..super::schedule(secs(interval))
    }
}

async fn collect(mut session: Session) -> Vec<ProbeEvent> {
    let mut events = Vec::new();
    while let Some(input) = session.events.recv().await {
        match input {
            Input::Probe(event) => events.push(event),
            other => panic!("a schedule sends probe events only: {other:?}"),
        }
    }
    session.finish().await;
    events
}

/// A run's events sorted by kind, each as the tests look at it.
#[derive(Default)]
struct ByKind {
    /// `(seq, at)` of each probe sent.
    sent: Vec<(u64, Duration)>,
    /// `(seq, latency, succeeded)` of each answer, in the order they came.
    answered: Vec<(u64, Duration, bool)>,
    /// `(at, in_flight)` of each tick skipped.
    skipped: Vec<(Duration, usize)>,
    /// `(seq, at)` of each probe abandoned.
    abandoned: Vec<(u64, Duration)>,
}

/// Sorts `events` by kind, in the order they came.
fn by_kind(events: &[ProbeEvent]) -> ByKind {
    let mut kinds = ByKind::default();
    for event in events {
        match event {
            ProbeEvent::Sent { seq, at, .. } => kinds.sent.push((*seq, *at)),
            ProbeEvent::Answered(o) => {
                let answer = (o.seq, o.latency(), o.report.result.is_ok());
                kinds.answered.push(answer);
            }
            ProbeEvent::Skipped { at, in_flight, .. } => kinds.skipped.push((*at, *in_flight)),
            ProbeEvent::Abandoned { seq, at, .. } => kinds.abandoned.push((*seq, *at)),
            ProbeEvent::ProxyView { .. } => panic!("these probers read no metrics"),
        }
    }
    kinds
}

#[tokio::test(start_paused = true)]
async fn probes_leave_on_schedule_while_the_upstream_hangs_and_time_out_at_the_limit() {
    let mut plan = schedule(1.0);
    plan.timeout = secs(30.5);
    plan.duration = Some(secs(40.2));
    let events = collect(super::start_session(scripted(|_| HUNG), plan)).await;
    let kinds = by_kind(&events);

    assert_eq!(kinds.sent.len(), 41, "one probe a second for 40.2 s");
    for (i, (seq, at)) in kinds.sent.iter().enumerate() {
        assert_eq!(*seq, i as u64 + 1);
        assert_eq!(*at, secs(i as f64), "probe {seq} left late");
    }
    // Each hung probe fails at the timeout, in send order, while later ones keep leaving.
    // The run ends at 40.2 s plus a 5 s grace: probes sent at 0..=14 s time out by then.
    assert_eq!(kinds.answered.len(), 15);
    for (i, (seq, latency, ok)) in kinds.answered.iter().enumerate() {
        assert_eq!(*seq, i as u64 + 1);
        assert_eq!(*latency, secs(30.5));
        assert!(!ok);
    }
    assert_eq!(
        kinds.abandoned.len(),
        41 - 15,
        "the rest is reported abandoned, not lost"
    );
    // The timeout of probe 1 (at 30.5 s) came after probe 31 left.
    let first_answer = events
        .iter()
        .position(|e| matches!(e, ProbeEvent::Answered(_)))
        .unwrap();
    let sent_before: usize = events[..first_answer]
        .iter()
        .filter(|e| matches!(e, ProbeEvent::Sent { .. }))
        .count();
    assert_eq!(sent_before, 31);
}

#[tokio::test(start_paused = true)]
async fn the_end_gives_unanswered_probes_a_grace_then_reports_them_abandoned() {
    let mut plan = schedule(1.0);
    plan.duration = Some(secs(3.5));
    plan.grace = secs(2.0);
    // Probe 2 answers within the grace; the others hang.
    let events = collect(super::start_session(
        scripted(|n| if n == 2 { secs(4.0) } else { HUNG }),
        plan,
    ))
    .await;
    let kinds = by_kind(&events);
    assert_eq!(kinds.sent.len(), 4);
    assert_eq!(kinds.answered, [(2, secs(4.0), true)]);
    assert_eq!(
        kinds.abandoned,
        [(1, secs(5.5)), (3, secs(5.5)), (4, secs(5.5))],
        "every unanswered probe is accounted for at the end of the grace"
    );
}

#[tokio::test(start_paused = true)]
async fn a_full_house_skips_the_tick_and_says_so() {
    let mut plan = schedule(1.0);
    plan.max_in_flight = 3;
    plan.duration = Some(secs(5.5));
    plan.grace = secs(0.5);
    let kinds = by_kind(&collect(super::start_session(scripted(|_| HUNG), plan)).await);
    assert_eq!(kinds.sent.len(), 3);
    assert_eq!(
        kinds.skipped,
        [(secs(3.0), 3), (secs(4.0), 3), (secs(5.0), 3)]
    );
}

#[tokio::test(start_paused = true)]
async fn answers_are_reported_in_the_order_they_arrive() {
    let mut plan = schedule(1.0);
    plan.count = Some(4);
    // Probe 2 takes 1.5 s: it answers after probe 3 (sent at 2 s) and before 4 (at 3 s).
    let events = collect(super::start_session(
        scripted(|n| if n == 2 { secs(1.5) } else { secs(0.01) }),
        plan,
    ))
    .await;
    let order: Vec<u64> = by_kind(&events).answered.iter().map(|a| a.0).collect();
    assert_eq!(order, [1, 3, 2, 4]);
}

#[tokio::test(start_paused = true)]
async fn a_count_waits_for_its_answers() {
    let mut plan = schedule(1.0);
    plan.count = Some(3);
    plan.grace = secs(1.0);
    let started = Instant::now();
    let kinds = by_kind(&collect(super::start_session(scripted(|_| secs(10.0)), plan)).await);
    assert_eq!(kinds.sent.len(), 3);
    assert_eq!(kinds.answered.len(), 3);
    assert!(kinds.abandoned.is_empty());
    assert_eq!(
        started.elapsed(),
        secs(12.0),
        "the last probe left at 2 s and took 10 s"
    );
}

#[tokio::test(start_paused = true)]
async fn stopping_gracefully_waits_the_grace_and_stopping_now_does_not() {
    for (how, expected_end) in [(Stop::Graceful, secs(2.5 + 5.0)), (Stop::Now, secs(2.5))] {
        let session = super::start_session(scripted(|_| HUNG), schedule(1.0));
        let started = Instant::now();
        tokio::time::sleep(secs(2.5)).await;
        session.controls.stop(how);
        let kinds = by_kind(&collect(session).await);
        assert_eq!(started.elapsed(), expected_end, "{how:?}");
        assert_eq!(kinds.sent.len(), 3, "{how:?}");
        assert_eq!(kinds.abandoned.len(), 3, "{how:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn the_interval_can_change_while_running() {
    let mut plan = schedule(1.0);
    plan.duration = Some(secs(4.2));
    let session = super::start_session(scripted(|_| secs(0.01)), plan);
    tokio::time::sleep(secs(2.2)).await;
    session.controls.set_interval(secs(0.5));
    let events = collect(session).await;
    let times: Vec<Duration> = by_kind(&events).sent.iter().map(|s| s.1).collect();
    assert_eq!(
        times,
        [0.0, 1.0, 2.0, 2.5, 3.0, 3.5, 4.0].map(secs),
        "after the change, ticks follow the new interval from the last tick"
    );
}

#[tokio::test(start_paused = true)]
async fn a_duration_on_a_tick_sends_no_probe_at_its_end() {
    let mut plan = schedule(1.0);
    plan.duration = Some(secs(8.0));
    let events = collect(super::start_session(scripted(|_| secs(0.01)), plan)).await;
    let times: Vec<Duration> = by_kind(&events).sent.iter().map(|s| s.1).collect();
    assert_eq!(times, (0..8).map(|s| secs(s as f64)).collect::<Vec<_>>());
}
