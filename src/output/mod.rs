//! Headless outputs: the seed's text story and JSON lines. Both are fed the same events and
//! read the same state as the dashboard.

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
use crate::state::{Applied, Marker, Monitor, Notice};

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
    /// Consecutive failed requests that make the state DOWN.
    pub down_after: u32,
    /// Playing a record back: its file name.
    pub replay: Option<String>,
}

/// What the outputs are told, in the order it was applied to the state.
#[derive(Clone, Debug)]
pub enum Told {
    /// A probe event and what applying it changed (boxed: it is most of the size).
    Probe(ProbeEvent, Box<Applied>),
    /// A marker dropped (a key, the `mark` command, a replay).
    Marker(Marker),
    /// The dashboard's counters started afresh (`r`): kept in the record for a replay.
    Reset(Duration),
    /// The time between probes changed (`+`/`-`): kept in the record for a replay.
    Interval { at: Duration, every: Duration },
}

/// Tells `sink` one thing, after it was applied to `monitor`.
pub fn tell(sink: &mut dyn Sink, told: &Told, monitor: &Monitor) -> io::Result<()> {
    match told {
        Told::Probe(event, applied) => {
            sink.event(event, applied, monitor)?;
            match &applied.notice {
                Some(notice) => sink.notice(notice),
                None => Ok(()),
            }
        }
        Told::Marker(marker) => sink.marker(marker),
        Told::Reset(at) => sink.reset(*at),
        Told::Interval { at, every } => sink.interval(*at, *every),
    }
}

/// No output: a run that only exports its metrics (`--output none`), or only records.
pub struct Silent;

impl Sink for Silent {
    fn begin(&mut self, _info: &RunInfo) -> io::Result<()> {
        Ok(())
    }

    fn event(&mut self, _: &ProbeEvent, _: &Applied, _: &Monitor) -> io::Result<()> {
        Ok(())
    }

    fn notice(&mut self, _notice: &Notice) -> io::Result<()> {
        Ok(())
    }

    fn marker(&mut self, _marker: &Marker) -> io::Result<()> {
        Ok(())
    }

    fn end(&mut self, _monitor: &Monitor, _now: Duration) -> io::Result<()> {
        Ok(())
    }
}

/// An output that prints a run as it happens.
pub trait Sink {
    fn begin(&mut self, info: &RunInfo) -> io::Result<()>;
    /// Called after `event` was applied to `monitor`.
    fn event(&mut self, event: &ProbeEvent, applied: &Applied, monitor: &Monitor)
    -> io::Result<()>;
    /// Something told once about the run: after the event that brought it, or on its own
    /// (the record failing).
    fn notice(&mut self, notice: &Notice) -> io::Result<()>;
    fn marker(&mut self, marker: &Marker) -> io::Result<()>;
    /// Only the record keeps it.
    fn reset(&mut self, _at: Duration) -> io::Result<()> {
        Ok(())
    }
    /// Only the record keeps it.
    fn interval(&mut self, _at: Duration, _every: Duration) -> io::Result<()> {
        Ok(())
    }
    /// The end of the run at `now`: the summary.
    fn end(&mut self, monitor: &Monitor, now: Duration) -> io::Result<()>;
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::state::{MonitorConfig, NoticeKind};

    /// A notice is told by every output after the event that brought it, whichever lane's
    /// answer that was.
    #[test]
    fn a_notice_is_told_after_the_answer_that_brought_it_on_either_lane() {
        let monitor = Monitor::new(MonitorConfig::default());
        let notice = Notice {
            at: Duration::from_secs(1),
            kind: NoticeKind::RouterTimeout,
            message: "the proxy waits 30 s for a model".to_owned(),
        };
        for event in [
            crate::tests::direct_answer(1, Duration::ZERO, "up"),
            ProbeEvent::Answered(Box::new(crate::probe::ProbeOutcome {
                lane: crate::probe::Lane::Normal,
                seq: 1,
                sent_at: Duration::ZERO,
                report: crate::tests::served(
                    crate::probe::Role::Primary,
                    "llama-fp8",
                    "Hi.",
                    Duration::from_millis(20),
                ),
            })),
        ] {
            let applied = Applied {
                notice: Some(notice.clone()),
                ..Applied::default()
            };
            let told = Told::Probe(event, Box::new(applied));
            let (mut text, mut lines) = (Vec::new(), Vec::new());
            let mut story = TextStory::new(&mut text, crate::tests::wall(), false);
            tell(&mut story, &told, &monitor).unwrap();
            let mut json = JsonLines::new(&mut lines, crate::tests::wall());
            tell(&mut json, &told, &monitor).unwrap();
            let text = String::from_utf8(text).unwrap();
            let lines = String::from_utf8(lines).unwrap();
            assert!(
                text.trim_end()
                    .ends_with("[!] the proxy waits 30 s for a model"),
                "{text}"
            );
            let last = lines.lines().last().unwrap();
            assert!(last.starts_with(r#"{"type":"notice""#), "{lines}");
        }
    }
}
