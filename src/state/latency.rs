//! Latency distributions in HDR histograms: constant memory however long the run.

use std::collections::BTreeMap;
use std::time::Duration;

use hdrhistogram::Histogram;

/// Up to an hour, in microseconds, with three significant figures.
const MAX_MICROS: u64 = 3_600_000_000;
/// Distinct served models tracked one by one; more are pooled (a misbehaving gateway could
/// otherwise grow the map without bound).
pub const MAX_MODELS: usize = 16;
pub const OTHER_MODELS: &str = "(other models)";

/// p50, p95, p99 and max of a distribution.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Percentiles {
    pub p50: Duration,
    pub p95: Duration,
    pub p99: Duration,
    pub max: Duration,
    pub count: u64,
}

#[derive(Clone, Debug)]
pub struct LatencyHistogram(Histogram<u64>);

impl Default for LatencyHistogram {
    /// Starts small and grows with the largest latency recorded (up to `MAX_MICROS`): the
    /// percentiles are the same as with the whole hour allocated up front, but a run no
    /// longer zeroes 180 KB per histogram (four at start, two per new model) before its
    /// first answer.
    fn default() -> Self {
        Self(Histogram::new(3).expect("valid histogram precision"))
    }
}

impl LatencyHistogram {
    pub fn record(&mut self, latency: Duration) {
        let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        // Within the bounds, so the only error left is a size beyond `usize` (not at an hour).
        let _ = self.0.record(micros.clamp(1, MAX_MICROS));
    }

    /// `None` until something was recorded.
    pub fn percentiles(&self) -> Option<Percentiles> {
        if self.0.is_empty() {
            return None;
        }
        let at = |q: f64| Duration::from_micros(self.0.value_at_quantile(q));
        Some(Percentiles {
            p50: at(0.50),
            p95: at(0.95),
            p99: at(0.99),
            max: Duration::from_micros(self.0.max()),
            count: self.0.len(),
        })
    }
}

/// Latency of successful answers: overall, and per served model.
#[derive(Clone, Debug, Default)]
pub struct LatencyStats {
    pub all: LatencyHistogram,
    by_model: BTreeMap<String, LatencyHistogram>,
}

impl LatencyStats {
    pub fn record(&mut self, model: &str, latency: Duration) {
        self.all.record(latency);
        let key = if self.by_model.contains_key(model) || self.by_model.len() < MAX_MODELS - 1 {
            model
        } else {
            OTHER_MODELS
        };
        self.by_model
            .entry(key.to_owned())
            .or_default()
            .record(latency);
    }

    pub fn by_model(&self) -> impl Iterator<Item = (&str, Percentiles)> {
        self.by_model
            .iter()
            .filter_map(|(model, h)| Some((model.as_str(), h.percentiles()?)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_follow_the_recorded_values() {
        let mut h = LatencyHistogram::default();
        assert_eq!(h.percentiles(), None);
        for ms in 1..=100 {
            h.record(Duration::from_millis(ms));
        }
        let p = h.percentiles().unwrap();
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        assert!((ms(p.p50) - 50.0).abs() < 0.1, "{p:?}");
        assert!((ms(p.p95) - 95.0).abs() < 0.1, "{p:?}");
        assert!((ms(p.p99) - 99.0).abs() < 0.1, "{p:?}");
        assert!((ms(p.max) - 100.0).abs() < 0.1, "{p:?}");
        assert_eq!(p.count, 100);
    }

    #[test]
    fn growing_histograms_answer_as_the_fully_allocated_one() {
        let mut grown = LatencyHistogram::default();
        let mut full = Histogram::<u64>::new_with_bounds(1, MAX_MICROS, 3).unwrap();
        let micros = [
            1, 7, 950, 1_234, 12_345, 99_999, 2_500_000, 31_000_000, MAX_MICROS,
        ];
        for (i, &us) in micros.iter().cycle().take(500).enumerate() {
            let us = us + i as u64 % 3;
            grown.record(Duration::from_micros(us));
            full.saturating_record(us.clamp(1, MAX_MICROS));
        }
        let at = |q: f64| Duration::from_micros(full.value_at_quantile(q));
        let expected = Percentiles {
            p50: at(0.50),
            p95: at(0.95),
            p99: at(0.99),
            max: Duration::from_micros(full.max()),
            count: full.len(),
        };
        assert_eq!(grown.percentiles(), Some(expected));
    }

    #[test]
    fn huge_and_zero_latencies_are_clamped_not_lost() {
        let mut h = LatencyHistogram::default();
        h.record(Duration::ZERO);
        h.record(Duration::from_secs(100_000));
        assert_eq!(h.percentiles().unwrap().count, 2);
    }

    #[test]
    fn models_beyond_the_cap_are_pooled() {
        let mut stats = LatencyStats::default();
        for i in 0..40 {
            stats.record(&format!("model-{i}"), Duration::from_millis(10));
        }
        assert_eq!(stats.by_model().count(), MAX_MODELS);
        assert_eq!(
            stats
                .by_model()
                .find(|(m, _)| *m == OTHER_MODELS)
                .unwrap()
                .1
                .count,
            40 - (MAX_MODELS as u64 - 1)
        );
        assert_eq!(stats.all.percentiles().unwrap().count, 40);
    }
}
