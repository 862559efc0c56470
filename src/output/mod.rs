//! The outputs: everything that tells a run as it happens besides the dashboard. Each is one
//! file and one [`Output`]: the text story (`text`), JSON lines (`jsonl`), the record
//! (`record`), the metrics; the run builds its list in one place (`run::outputs`) and tells
//! every one the same things in the same order. What an output writes goes through a
//! [`Pipe`], so that no reader can stop the owner of the state.
//!
//! ```text
//!  owner loop ── Told ──▶ Outputs ──▶ TextStory ─▶ Pipe ─▶ stdout
//!                                 ├─▶ JsonLines ─▶ Pipe ─▶ stdout
//!                                 ├─▶ Recorder  ─▶ Pipe ─▶ --record file
//!                                 └─▶ Metrics   ─▶ atomics ◀─ GET /metrics
//! ```

mod jsonl;
pub mod pipe;
mod record;
pub mod schema;
mod text;

use std::io;
use std::time::Duration;

pub use jsonl::JsonLines;
pub use pipe::{Overflow, Pipe};
pub use record::Recorder;
pub use text::TextStory;

use crate::state::{Told, Watch};

/// What a run is watching, for headers and banners: its targets, in their order (a
/// [`TargetId`](crate::probe::TargetId) is a place in it; never empty), and what they share.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunInfo {
    pub targets: Vec<TargetInfo>,
    /// Talking to the built-in simulated gateway (`demo`), not a real proxy.
    pub simulated: bool,
    /// Consecutive failed requests that make the state DOWN.
    pub down_after: u32,
    /// Playing a record back: its file name.
    pub replay: Option<String>,
}

/// One target of a run: a primary group behind a proxy, and how it is probed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TargetInfo {
    /// What the outputs call it: the primary group, prefixed by the proxy's host when the run
    /// watches several proxies, or the name the targets file gives.
    pub name: String,
    pub url: String,
    pub primary: String,
    /// The expected fallback model group, when given.
    pub fallback: Option<String>,
    pub interval: Duration,
    pub timeout: Duration,
    pub stream: bool,
    /// How the primary's own lane is watched, and what the router said of its cooldowns.
    pub lane: crate::state::LaneConfig,
}

impl RunInfo {
    /// The first target: the whole run when it watches one.
    pub fn first(&self) -> &TargetInfo {
        &self.targets[0]
    }

    /// The target `id` names (the first for an id the run does not have).
    pub fn target(&self, id: crate::probe::TargetId) -> &TargetInfo {
        self.targets.get(id.index()).unwrap_or(self.first())
    }

    /// The targets' names, in the run's order.
    pub fn names(&self) -> Vec<&str> {
        self.targets.iter().map(|t| t.name.as_str()).collect()
    }

    /// Watching more than one target: the outputs name each.
    pub fn many(&self) -> bool {
        self.targets.len() > 1
    }

    /// The state's settings of each target, as the run line gives them: a replay or a report
    /// reads the run as it ran.
    /// The state's settings of each target. With several, each keeps a shorter history
    /// ([`MANY_HISTORY`] requests: still a timeline as wide as a wide terminal), so that a
    /// hundred targets stay within tens of MiB.
    pub fn monitors(&self) -> Vec<crate::state::MonitorConfig> {
        let one = crate::state::MonitorConfig::default();
        let history = match self.many() {
            true => MANY_HISTORY.min(one.history),
            false => one.history,
        };
        self.targets
            .iter()
            .map(|target| crate::state::MonitorConfig {
                timeout: target.timeout,
                down_after: self.down_after,
                lane: target.lane,
                history,
                ..one.clone()
            })
            .collect()
    }
}

/// The requests each target of several keeps in its history.
pub const MANY_HISTORY: usize = 256;

/// One output of a run: told what the run is, every thing the state took in order, and the
/// end.
pub trait Output {
    fn begin(&mut self, info: &RunInfo) -> io::Result<()>;
    /// Called after `told` was applied to `watch`.
    fn tell(&mut self, told: &Told, watch: &Watch) -> io::Result<()>;
    /// Told each thing the moment the state takes it, not once a transition's explanation
    /// came (the metrics: what is true now, not a story to tell in order). A story output
    /// waits, at most a couple of seconds, so that its failover line names its cause.
    fn live(&self) -> bool {
        false
    }
    /// The end of the run at `now`: the summary.
    fn end(&mut self, watch: &Watch, now: Duration) -> io::Result<()>;
    /// Why the output stopped while the run goes on (the record), the first time it is
    /// asked after it did.
    fn untold_failure(&mut self) -> Option<String> {
        None
    }
    /// Finishes writing, once the run is over: what it could not write (to be said), or why
    /// the run failed for it (the record cut short).
    fn close(&mut self) -> Result<Option<String>, String> {
        Ok(None)
    }
}

/// Where the text outputs write: stdout behind a [`Pipe`], or a buffer in tests. Closing it
/// tells what could not be written.
pub trait Finish: io::Write {
    fn finish(&mut self) -> Option<String> {
        None
    }
}

impl Finish for Pipe {
    fn finish(&mut self) -> Option<String> {
        stdout_losses(self)
    }
}

impl Finish for Vec<u8> {}
impl Finish for &mut Vec<u8> {}

/// How the outputs closed: what to say, and why the run failed, if it did.
#[derive(Debug, Default)]
pub struct Closed {
    pub said: Vec<String>,
    pub failure: Option<String>,
}

/// Every output of a run, told in the order they were listed.
#[derive(Default)]
pub struct Outputs {
    list: Vec<Box<dyn Output>>,
}

impl Outputs {
    pub fn new(list: Vec<Box<dyn Output>>) -> Self {
        Self { list }
    }

    /// One more output, told after those before it.
    pub fn push(&mut self, output: Box<dyn Output>) {
        self.list.push(output);
    }

    pub fn begin(&mut self, info: &RunInfo) -> io::Result<()> {
        self.each(|output| output.begin(info))
    }

    /// Tells the story outputs (in the outbox's order).
    pub fn tell(&mut self, told: &Told, watch: &Watch) -> io::Result<()> {
        self.each(|output| match output.live() {
            false => output.tell(told, watch),
            true => Ok(()),
        })
    }

    /// Tells the live outputs (the moment the state took it).
    pub fn tell_live(&mut self, told: &Told, watch: &Watch) -> io::Result<()> {
        self.each(|output| match output.live() {
            true => output.tell(told, watch),
            false => Ok(()),
        })
    }

    /// Tells every output: what the shell found, which nothing waits for.
    pub fn tell_all(&mut self, told: &Told, watch: &Watch) -> io::Result<()> {
        self.each(|output| output.tell(told, watch))
    }

    pub fn end(&mut self, watch: &Watch, now: Duration) -> io::Result<()> {
        self.each(|output| output.end(watch, now))
    }

    /// Why an output stopped while the run goes on, once each.
    pub fn untold_failures(&mut self) -> Vec<String> {
        self.list
            .iter_mut()
            .filter_map(|output| output.untold_failure())
            .collect()
    }

    /// Finishes every output.
    pub fn close(&mut self) -> Closed {
        let mut closed = Closed::default();
        for output in &mut self.list {
            match output.close() {
                Ok(said) => closed.said.extend(said),
                Err(why) => closed.failure = closed.failure.or(Some(why)),
            }
        }
        closed
    }

    /// Every output is told, whatever another's trouble; the first error is returned.
    fn each(&mut self, mut step: impl FnMut(&mut dyn Output) -> io::Result<()>) -> io::Result<()> {
        let mut first = Ok(());
        for output in &mut self.list {
            if let Err(error) = step(output.as_mut())
                && first.is_ok()
            {
                first = Err(error);
            }
        }
        first
    }
}

/// How long the end of a run waits for what stdout has not taken yet.
pub const STDOUT_WAIT: Duration = Duration::from_secs(2);
/// Chunks (a line, or a block of the story) waiting for stdout before they are dropped.
pub const STDOUT_QUEUE: usize = 4096;

/// Stdout behind a [`Pipe`]: a reader that does not keep up loses lines, counted. A closed
/// stdout (`>&-`, found when the process started) is an error, as a full one is.
pub fn stdout_pipe() -> io::Result<Pipe> {
    if crate::sys::stdout_was_closed() {
        return Err(io::Error::other(
            "stdout is closed: nothing to write the output on (--output none writes nothing)",
        ));
    }
    Pipe::spawn("stdout", io::stdout(), STDOUT_QUEUE, Overflow::Drop)
}

/// What closing a stdout pipe tells the user, if anything was lost.
pub fn stdout_losses(pipe: &mut Pipe) -> Option<String> {
    let closed = pipe.close(STDOUT_WAIT);
    let mut said = Vec::new();
    if closed.dropped > 0 {
        said.push(format!(
            "{} blocks of output were dropped: stdout was not read in time",
            closed.dropped
        ));
    }
    if closed.unfinished {
        said.push("the end of the output could not be written: stdout is not read".to_owned());
    }
    (!said.is_empty()).then(|| said.join("; "))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::state::{MonitorConfig, Notice, NoticeKind};

    /// A notice is told by every output after the event that brought it, whichever lane's
    /// answer that was.
    #[test]
    fn a_notice_is_told_after_the_answer_that_brought_it_on_either_lane() {
        let watch = Watch::new(vec![MonitorConfig::default()]);
        let notice = Notice {
            at: Duration::from_secs(1),
            kind: NoticeKind::RouterTimeout,
            message: "the proxy waits 30 s for a model".to_owned(),
        };
        for event in [
            crate::tests::direct_answer(1, Duration::ZERO, "up"),
            crate::probe::ProbeEvent::Answered(Box::new(crate::probe::ProbeOutcome {
                target: crate::probe::TargetId(0),
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
            let mut watch = watch.clone();
            let mut told = watch.apply(event.into());
            told.push(Told::Notice {
                target: None,
                notice: notice.clone(),
            });
            let (mut text, mut lines) = (Vec::new(), Vec::new());
            {
                let mut story = TextStory::new(&mut text, crate::tests::wall(), false);
                let mut json = JsonLines::new(&mut lines, crate::tests::wall());
                for told in &told {
                    story.tell(told, &watch).unwrap();
                    json.tell(told, &watch).unwrap();
                }
            }
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
