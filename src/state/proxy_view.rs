//! LiteLLM's own view of the primary group, from its Prometheus metrics, beside the
//! watcher's: the state it gives the group's deployments, and what its counters added since
//! the watcher's first reading (they run from the proxy's start and count every client). A
//! counter that goes back means the proxy restarted: what it had counted is carried. Pure.

use std::time::Duration;

use crate::litellm::prometheus::{DeploymentReading, DeploymentState, ProxyReading};

/// One of LiteLLM's counters, as added since the first reading.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Counter {
    /// The first reading's total (0 after a restart).
    base: f64,
    last: f64,
    /// What earlier lives of the proxy counted since the first reading.
    carried: f64,
}

impl Counter {
    fn start(total: f64) -> Self {
        Self {
            base: total,
            last: total,
            carried: 0.0,
        }
    }

    fn read(&mut self, total: f64) {
        if total < self.last {
            self.carried += self.last - self.base;
            self.base = 0.0;
        }
        self.last = total;
    }

    fn added(&self) -> u64 {
        (self.carried + self.last - self.base).max(0.0).round() as u64
    }
}

/// LiteLLM's counters since the watcher's first reading; `None` where the proxy does not
/// export the family.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProxyCounts {
    pub cooldowns: Option<u64>,
    pub fallbacks: Option<u64>,
    pub fallbacks_in_cooldown: Option<u64>,
    pub failed_fallbacks: Option<u64>,
}

/// What LiteLLM says now, as the outputs show it.
#[derive(Clone, Debug, PartialEq)]
pub struct ProxyNow {
    /// When it was read.
    pub at: Duration,
    /// The group's state: its worst deployment's.
    pub state: Option<DeploymentState>,
    pub deployments: Vec<DeploymentReading>,
    pub since_start: ProxyCounts,
}

impl ProxyNow {
    /// What LiteLLM says, in parts (most important first) for a line: the group's state, the
    /// cooldowns and fallbacks it counted since the watcher started.
    pub fn parts(&self, group: &str) -> Vec<String> {
        let c = &self.since_start;
        let plural =
            |n: u64, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        let mut parts = vec![match self.state {
            Some(state) => format!("{group} {}", state.words()),
            None => format!("{group}: no state exported"),
        }];
        if let Some(n) = c.cooldowns {
            parts.push(plural(n, "cooldown", "cooldowns"));
        }
        if let Some(n) = c.fallbacks {
            let mut said = plural(n, "fallback", "fallbacks");
            if let Some(cooling) = c.fallbacks_in_cooldown.filter(|k| *k > 0) {
                said.push_str(&format!(" ({cooling} in cooldown)"));
            }
            parts.push(said);
        }
        if let Some(n) = c.failed_fallbacks.filter(|n| *n > 0) {
            parts.push(plural(n, "failed fallback", "failed fallbacks"));
        }
        parts
    }

    /// The families the proxy does not export, by what they count.
    pub fn missing(&self) -> Vec<&'static str> {
        let c = &self.since_start;
        [
            (self.state.is_none(), "deployment state"),
            (c.cooldowns.is_none(), "cooldowns"),
            (c.fallbacks.is_none(), "fallbacks"),
            (c.failed_fallbacks.is_none(), "failed fallbacks"),
        ]
        .into_iter()
        .filter_map(|(missing, what)| missing.then_some(what))
        .collect()
    }
}

#[derive(Clone, Debug, Default)]
pub struct ProxyView {
    counters: [Option<Counter>; 4],
    now: Option<ProxyNow>,
    /// The watcher's own fallback answers when LiteLLM was first read, and last read: its
    /// count and LiteLLM's are compared over the same span.
    client_fallbacks_at_start: u64,
    client_fallbacks_at_last: u64,
}

impl ProxyView {
    /// Takes a reading at `at`, when the watcher had seen `client_fallbacks` fallback answers:
    /// what LiteLLM says now, if it changed.
    pub fn read(
        &mut self,
        at: Duration,
        reading: &ProxyReading,
        client_fallbacks: u64,
    ) -> Option<&ProxyNow> {
        if self.now.is_none() {
            self.client_fallbacks_at_start = client_fallbacks;
        }
        self.client_fallbacks_at_last = client_fallbacks;
        let totals = [
            reading.cooldowns,
            reading.fallbacks,
            reading.fallbacks_in_cooldown,
            reading.failed_fallbacks,
        ];
        let first = self.now.is_none();
        for (counter, total) in self.counters.iter_mut().zip(totals) {
            match (counter.as_mut(), total) {
                (Some(counter), Some(total)) => counter.read(total),
                (None, Some(total)) if first => *counter = Some(Counter::start(total)),
                // A counter's series appear with its first event: all of it since.
                (None, Some(total)) => {
                    let mut counter_since = Counter::start(0.0);
                    counter_since.read(total);
                    *counter = Some(counter_since);
                }
                // A family that stops being exported keeps what it counted.
                (_, None) => {}
            }
        }
        let added = |i: usize| self.counters[i].map(|c| c.added());
        let now = ProxyNow {
            at,
            state: reading.state(),
            deployments: reading.deployments.clone(),
            since_start: ProxyCounts {
                cooldowns: added(0),
                fallbacks: added(1),
                fallbacks_in_cooldown: added(2),
                failed_fallbacks: added(3),
            },
        };
        let changed = self.now.as_ref().is_none_or(|was| {
            (&was.state, &was.deployments, &was.since_start)
                != (&now.state, &now.deployments, &now.since_start)
        });
        self.now = Some(now);
        changed.then_some(()).and(self.now.as_ref())
    }

    pub fn now(&self) -> Option<&ProxyNow> {
        self.now.as_ref()
    }

    /// Where LiteLLM's count of fallbacks and the watcher's own fallback answers, from the
    /// first reading to the last, do not agree: how, in words.
    pub fn disagreement(&self) -> Option<String> {
        let counted = self.now.as_ref()?.since_start.fallbacks?;
        let seen = self.client_fallbacks_since();
        match counted.cmp(&seen) {
            std::cmp::Ordering::Equal => None,
            std::cmp::Ordering::Greater => Some(format!(
                "this watcher saw {seen} fallback answers; LiteLLM counted {} more fallbacks \
                 (other clients, or answers on their way at a reading)",
                counted - seen
            )),
            std::cmp::Ordering::Less => Some(format!(
                "this watcher saw {seen} fallback answers; LiteLLM counted {} fewer (a worker \
                 that does not export, or answers on their way at a reading)",
                seen - counted
            )),
        }
    }

    /// The watcher's fallback answers from the first reading to the last.
    pub fn client_fallbacks_since(&self) -> u64 {
        self.client_fallbacks_at_last
            .saturating_sub(self.client_fallbacks_at_start)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reading(state: u8, cooldowns: f64, fallbacks: Option<f64>) -> ProxyReading {
        ProxyReading {
            deployments: vec![DeploymentReading {
                model_id: "a82c".to_owned(),
                api_base: None,
                state: [
                    DeploymentState::Healthy,
                    DeploymentState::PartialOutage,
                    DeploymentState::CompleteOutage,
                ][usize::from(state)],
            }],
            cooldowns: Some(cooldowns),
            fallbacks,
            fallbacks_in_cooldown: fallbacks.map(|_| 0.0),
            failed_fallbacks: None,
        }
    }

    #[test]
    fn counters_count_from_the_first_reading_and_through_a_restart() {
        let mut view = ProxyView::default();
        let secs = Duration::from_secs;
        let first = view.read(secs(0), &reading(0, 7.0, Some(40.0)), 3).cloned();
        assert_eq!(first.unwrap().since_start.cooldowns, Some(0));
        // Nothing new: nothing to tell.
        assert!(
            view.read(secs(5), &reading(0, 7.0, Some(40.0)), 3)
                .is_none()
        );
        let now = view
            .read(secs(10), &reading(2, 8.0, Some(52.0)), 13)
            .unwrap();
        assert_eq!(now.state, Some(DeploymentState::CompleteOutage));
        assert_eq!(now.since_start.cooldowns, Some(1));
        assert_eq!(now.since_start.fallbacks, Some(12));
        assert_eq!(now.missing(), ["failed fallbacks"]);
        // The proxy restarted: its counters begin again, what they had counted stays.
        let now = view
            .read(secs(20), &reading(0, 1.0, Some(2.0)), 15)
            .unwrap();
        assert_eq!(now.since_start.cooldowns, Some(2));
        assert_eq!(now.since_start.fallbacks, Some(14));
        assert_eq!(
            view.disagreement(),
            Some(
                "this watcher saw 12 fallback answers; LiteLLM counted 2 more fallbacks (other \
                 clients, or answers on their way at a reading)"
                    .to_owned()
            )
        );
        view.read(secs(25), &reading(0, 1.0, Some(2.0)), 17);
        assert_eq!(view.disagreement(), None);
    }

    #[test]
    fn a_counter_whose_series_appear_later_counts_from_zero() {
        let mut view = ProxyView::default();
        let none = ProxyReading {
            cooldowns: None,
            ..reading(0, 0.0, None)
        };
        view.read(Duration::ZERO, &none, 0);
        let now = view
            .read(Duration::from_secs(5), &reading(2, 1.0, Some(9.0)), 9)
            .unwrap();
        assert_eq!(now.since_start.cooldowns, Some(1));
        assert_eq!(now.since_start.fallbacks, Some(9));
    }
}
