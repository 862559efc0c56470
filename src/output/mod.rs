//! Headless outputs: the seed's text story and JSON lines. Both are fed the same events and
//! read the same state as the dashboard.

pub mod format;
mod jsonl;
mod recorder;
pub mod records;
mod text;

use std::io;
use std::time::Duration;

pub use jsonl::JsonLines;
pub use recorder::Recorder;
pub use text::TextStory;

use crate::probe::ProbeEvent;
use crate::state::{Applied, Monitor, Notice};

/// What a run is watching, for headers and banners.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunInfo {
    pub url: String,
    pub primary: String,
    /// The expected fallback model group, when given.
    pub fallback: Option<String>,
    pub interval: Duration,
    pub timeout: Duration,
    pub stream: bool,
    /// Talking to the built-in simulated gateway (`demo`), not a real proxy.
    pub simulated: bool,
    /// Direct probes of the primary beside the others.
    pub direct: bool,
}

/// An output that prints a run as it happens.
pub trait Sink {
    fn begin(&mut self, info: &RunInfo) -> io::Result<()>;
    /// Called after `event` was applied to `monitor`.
    fn event(&mut self, event: &ProbeEvent, applied: &Applied, monitor: &Monitor)
    -> io::Result<()>;
    /// Something told once about the run that no probe event brought (the record failing).
    fn notice(&mut self, notice: &Notice) -> io::Result<()>;
    /// The end of the run at `now`: the summary.
    fn end(&mut self, monitor: &Monitor, now: Duration) -> io::Result<()>;
}
