//! What the owner of the state applies, in the order it comes: probe events, and what a person
//! (or a record played back) asks for. The one input type, live and replayed alike.

use std::time::Duration;

use crate::probe::ProbeEvent;

#[derive(Clone, Debug, PartialEq)]
pub enum Input {
    Probe(ProbeEvent),
    /// A marker dropped at `at`, after request `after_seq` when that is known (a key pressed
    /// before the label was typed, a record).
    Mark {
        at: Duration,
        after_seq: Option<u64>,
        label: Option<String>,
    },
    /// The dashboard's counters start afresh (`r`).
    ResetCounters {
        at: Duration,
    },
    /// The time between probes is `every` from `at` on (`+`/`-`, a record).
    Interval {
        at: Duration,
        every: Duration,
    },
    /// The whole state starts over: a replay stepping back plays the run again.
    Restart,
}

impl From<ProbeEvent> for Input {
    fn from(event: ProbeEvent) -> Self {
        Self::Probe(event)
    }
}
