//! Running counts of what happened in a run.

use std::collections::BTreeMap;

use crate::probe::{ErrorKind, Role};
use crate::state::latency::{MAX_MODELS, OTHER_MODELS};

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// Answered probes.
    pub total: u64,
    pub succeeded: u64,
    pub failed: u64,
    pub primary: u64,
    pub fallback: u64,
    pub failovers: u64,
    pub recoveries: u64,
    pub outages: u64,
    pub restorations: u64,
    /// Ticks without a probe because too many were in flight.
    pub skipped: u64,
    /// Probes still unanswered when the run ended.
    pub abandoned: u64,
    /// Direct probes still unanswered when the run ended.
    pub direct_abandoned: u64,
    /// Successful answers per served model (capped like the latency map).
    pub by_model: BTreeMap<String, u64>,
    /// Failed answers per kind.
    pub by_error: BTreeMap<ErrorKind, u64>,
}

impl Counters {
    pub fn count_success(&mut self, role: Role, model: &str) {
        self.total += 1;
        self.succeeded += 1;
        match role {
            Role::Primary => self.primary += 1,
            Role::Fallback => self.fallback += 1,
        }
        let key = if self.by_model.contains_key(model) || self.by_model.len() < MAX_MODELS - 1 {
            model
        } else {
            OTHER_MODELS
        };
        *self.by_model.entry(key.to_owned()).or_default() += 1;
    }

    pub fn count_failure(&mut self, kind: ErrorKind) {
        self.total += 1;
        self.failed += 1;
        *self.by_error.entry(kind).or_default() += 1;
    }

    /// Every probe sent and done with: answered, or abandoned when the run ended.
    pub fn sent(&self) -> u64 {
        self.total + self.abandoned
    }

    /// Share of answered probes that succeeded, in percent; `None` before the first answer.
    pub fn availability_percent(&self) -> Option<f64> {
        (self.total > 0).then(|| self.succeeded as f64 * 100.0 / self.total as f64)
    }
}
