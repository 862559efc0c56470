//! What is worth saying once about a run, not about one request: each kind is told the first
//! time it holds, on every output.

use std::time::Duration;

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    /// The proxy waits at least as long for a model as the client waits for the proxy: its
    /// fallback answers after a hung primary would be cut off as timeouts.
    RouterTimeout,
    /// The `--record` file cannot be written: the recording stopped.
    RecordFailed,
    /// The proxy's deployments (`GET /model/info`) cannot be read: streams are attributed by
    /// the model their chunks name.
    DeploymentsUnread,
    /// The control socket could not be opened: `failover-watch mark` cannot reach the run.
    MarkUnavailable,
    /// LiteLLM's health check is not there for this key or gateway: the primary's lane uses
    /// direct probes, which count in LiteLLM's failure tally.
    HealthUnavailable,
    /// LiteLLM's own metrics (`--proxy-metrics`) cannot be read: only the watcher's view.
    ProxyMetricsUnavailable,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    /// When the answer that showed it arrived.
    pub at: Duration,
    pub kind: NoticeKind,
    pub message: String,
}

/// The notice that LiteLLM's metrics cannot be read, and why.
pub fn proxy_metrics_unavailable(why: &str, at: Duration) -> Notice {
    Notice {
        at,
        kind: NoticeKind::ProxyMetricsUnavailable,
        message: format!(
            "LiteLLM's own metrics cannot be read ({why}): only the watcher's view is shown \
             (the proxy exports them with callbacks: [\"prometheus\"]; --proxy-metrics off not \
             to ask)"
        ),
    }
}

/// The notice that LiteLLM's health check answered `status`: the lane falls back to direct
/// probes, and what that costs.
pub fn health_unavailable(status: u16, at: Duration) -> Notice {
    Notice {
        at,
        kind: NoticeKind::HealthUnavailable,
        message: format!(
            "LiteLLM's health check is not available to this key or proxy (HTTP {status}): the \
             primary's lane uses direct probes, which count in LiteLLM's failure tally (its \
             cooldown may start a tick earlier and be renewed at its end while the primary is \
             still down); --direct off for recovery times without them"
        ),
    }
}

/// The notice that a stream could not be attributed through the proxy's deployments.
pub fn deployments_unread(why: &str, at: Duration) -> Notice {
    Notice {
        at,
        kind: NoticeKind::DeploymentsUnread,
        message: format!(
            "cannot read the proxy's deployments ({why}): streams are attributed by the model \
             their chunks name, which LiteLLM 1.83 sets to the primary even after a fallback"
        ),
    }
}

/// The notice for a router timeout `router` that is not below the client's `timeout`.
pub fn router_timeout(router: Duration, timeout: Duration, at: Duration) -> Option<Notice> {
    (router >= timeout).then(|| Notice {
        at,
        kind: NoticeKind::RouterTimeout,
        message: format!(
            "the proxy waits {} for a model; --timeout {} will cut its fallback answers off",
            seconds(router),
            // As the option is written: `30s`, `1m`.
            humantime::format_duration(Duration::from_millis(timeout.as_millis() as u64))
        ),
    })
}

/// `30 s`, `2.5 s`.
fn seconds(d: Duration) -> String {
    let secs = d.as_secs_f64();
    if secs.fract() == 0.0 {
        format!("{} s", d.as_secs())
    } else {
        format!("{secs} s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_router_timeout_at_or_over_the_clients_is_told() {
        let s = Duration::from_secs;
        let notice = router_timeout(s(30), s(30), s(5)).unwrap();
        assert_eq!(
            notice.message,
            "the proxy waits 30 s for a model; --timeout 30s will cut its fallback answers off"
        );
        assert!(router_timeout(s(30), s(60), s(5)).is_none());
        assert!(router_timeout(Duration::from_millis(2500), s(2), s(5)).is_some());
    }
}
