//! What the HTML report's figure draws, kept bounded however long the run: one mark per
//! request up to [`MAX_MARKS`], else the requests counted in [`BINS`] bins of equal time; the
//! primary's own lane as segments, up to [`MAX_SEGMENTS`] changes.

use std::time::Duration;

use crate::probe::Verdict;
use crate::state::PrimaryKind;

/// Requests drawn one mark each; a longer run is drawn in bins.
pub const MAX_MARKS: usize = 2000;
/// Bins across the figure when the requests are binned.
pub const BINS: usize = 400;
/// Changes of the primary's own state drawn; the rest are said to be left out.
pub const MAX_SEGMENTS: usize = 4000;

/// One request: when it left, how long it took, who served it (`None`: never answered).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Mark {
    pub seq: u64,
    pub sent_at: Duration,
    pub latency: Duration,
    pub verdict: Option<Verdict>,
}

/// The requests sent in one bin of time.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Bin {
    pub primary: u32,
    pub fallback: u32,
    /// Failed or never answered.
    pub failed: u32,
    /// The slowest answer's latency.
    pub max_latency: Duration,
}

impl Bin {
    pub fn total(&self) -> u32 {
        self.primary + self.fallback + self.failed
    }
}

/// The primary's own state from `from` on (to the next segment, or the run's end).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Segment {
    pub from: Duration,
    pub kind: PrimaryKind,
}

/// The figure's data.
#[derive(Clone, Debug)]
pub struct Chart {
    pub length: Duration,
    /// Every request, while there are at most [`MAX_MARKS`]; `None` beyond (then draw `bins`).
    pub marks: Option<Vec<Mark>>,
    pub bins: Vec<Bin>,
    pub requests: u64,
    pub lane: Vec<Segment>,
    /// More changes of the primary's state than drawn.
    pub lane_cut: bool,
    /// The fastest and the slowest answer, for the latency scale.
    pub fastest: Duration,
    pub slowest: Duration,
}

impl Chart {
    pub fn new(length: Duration) -> Self {
        Self {
            // A run of zero length still has a width to draw in.
            length: length.max(Duration::from_millis(1)),
            marks: Some(Vec::new()),
            bins: vec![Bin::default(); BINS],
            requests: 0,
            lane: Vec::new(),
            lane_cut: false,
            fastest: Duration::MAX,
            slowest: Duration::ZERO,
        }
    }

    /// How long one bin lasts.
    pub fn bin_width(&self) -> Duration {
        self.length / BINS as u32
    }

    pub fn request(&mut self, mark: Mark) {
        self.requests += 1;
        let index = (mark.sent_at.as_secs_f64() / self.length.as_secs_f64() * BINS as f64) as usize;
        let bin = &mut self.bins[index.min(BINS - 1)];
        match mark.verdict {
            Some(Verdict::Primary) => bin.primary += 1,
            Some(Verdict::Fallback) => bin.fallback += 1,
            Some(Verdict::Error) | None => bin.failed += 1,
        }
        if mark.verdict.is_some() {
            bin.max_latency = bin.max_latency.max(mark.latency);
            self.fastest = self.fastest.min(mark.latency);
            self.slowest = self.slowest.max(mark.latency);
        }
        if let Some(marks) = &mut self.marks {
            if marks.len() < MAX_MARKS {
                marks.push(mark);
            } else {
                self.marks = None;
            }
        }
    }

    pub fn primary(&mut self, from: Duration, kind: PrimaryKind) {
        if self.lane.len() < MAX_SEGMENTS {
            self.lane.push(Segment { from, kind });
        } else {
            self.lane_cut = true;
        }
    }

    /// When segment `index` ends: the next one's start, or the run's end.
    pub fn segment_end(&self, index: usize) -> Duration {
        self.lane.get(index + 1).map_or(self.length, |s| s.from)
    }
}
