//! In-crate tests that span modules: the prober against recorded answers, the schedule, the
//! dashboard (snapshots and its loop), the demo's router and gateway. The recorded-answer
//! server is shared with the binary's black-box tests in `tests/`.

#[path = "../../tests/common/mod.rs"]
mod replay;

pub use replay::*;

mod dashboard;
mod dashboard_loop;
mod demo_dashboard;
mod demo_gateway;
mod demo_router;
mod prober;
mod schedule;

/// A report of an answer served by `role` as `model`, after `latency`.
pub fn served(
    role: crate::probe::Role,
    model: &str,
    reply: &str,
    latency: std::time::Duration,
) -> crate::probe::ProbeReport {
    use crate::probe::{Evidence, ProbeReport, Route, Served};
    ProbeReport {
        latency,
        status: Some(200),
        route: Route::default(),
        ttft: None,
        result: Ok(Served {
            role,
            model: model.into(),
            evidence: Evidence::ModelGroupHeader,
            reply: reply.into(),
        }),
    }
}

/// The seed's proxy on its default port, probed every second.
pub fn run_info(simulated: bool) -> crate::output::RunInfo {
    crate::output::RunInfo {
        url: "http://127.0.0.1:4000".into(),
        primary: "llama-fp8".into(),
        fallback: Some("llama3".into()),
        interval: std::time::Duration::from_secs(1),
        timeout: std::time::Duration::from_secs(30),
        stream: false,
        simulated,
    }
}

/// A schedule every `interval`, with the defaults' timeout and in-flight limit, no end and a
/// one-second grace.
pub fn schedule(interval: std::time::Duration) -> crate::probe::Schedule {
    crate::probe::Schedule {
        interval,
        timeout: std::time::Duration::from_secs(30),
        max_in_flight: 10,
        count: None,
        duration: None,
        grace: std::time::Duration::from_secs(1),
    }
}
