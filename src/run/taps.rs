//! What every run feeds besides its screen or stdout: the record (`--record`) and the
//! metrics (`--metrics-listen`), told the same things in the same order as the outputs.

use std::time::Duration;

use crate::metrics::Metrics;
use crate::output::{Recorder, RunInfo, Told};
use crate::state::Monitor;

pub struct Taps {
    pub recorder: Recorder,
    metrics: Option<Metrics>,
}

impl From<Recorder> for Taps {
    fn from(recorder: Recorder) -> Self {
        Self {
            recorder,
            metrics: None,
        }
    }
}

impl Taps {
    /// Also updates `metrics`.
    pub fn with_metrics(mut self, metrics: Metrics) -> Self {
        self.metrics = Some(metrics);
        self
    }

    pub fn begin(&mut self, info: &RunInfo) {
        self.recorder.begin(info);
    }

    pub fn tell(&mut self, told: &Told, monitor: &Monitor) {
        self.recorder.tell(told, monitor);
        if let Some(metrics) = &mut self.metrics {
            metrics.tell(told, monitor);
        }
    }

    pub fn end(&mut self, monitor: &Monitor, now: Duration) {
        self.recorder.end(monitor, now);
    }

    /// Why the record stopped, the first time it is asked after it did.
    pub fn untold_failure(&mut self) -> Option<String> {
        self.recorder.untold_failure()
    }
}
