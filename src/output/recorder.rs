//! `--record PATH`: a copy of the run as JSON lines in a file, whatever the output, so an
//! operator watching the dashboard for hours keeps the whole story. A write error is logged
//! and ends the recording, never the run.

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{JsonLines, RunInfo, Sink};
use crate::clock::WallClock;
use crate::probe::ProbeEvent;
use crate::state::{Applied, Monitor};

#[derive(Default)]
pub struct Recorder {
    lines: Option<JsonLines<BufWriter<File>>>,
    path: PathBuf,
    /// Why the recording stopped, and whether that was told yet.
    failure: Option<(String, bool)>,
}

impl Recorder {
    /// No recording.
    pub fn off() -> Self {
        Self::default()
    }

    /// Appends to `path`, creating it if needed.
    pub fn to_file(path: &Path, wall: WallClock) -> io::Result<Self> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        Ok(Self {
            lines: Some(JsonLines::new(BufWriter::new(file), wall)),
            path: path.to_owned(),
            failure: None,
        })
    }

    /// Why the recording stopped, if it did.
    pub fn failure(&self) -> Option<&str> {
        self.failure.as_ref().map(|(why, _)| why.as_str())
    }

    /// Why the recording stopped, the first time it is asked after it did.
    pub fn untold_failure(&mut self) -> Option<String> {
        match &mut self.failure {
            Some((why, told)) if !*told => {
                *told = true;
                Some(why.clone())
            }
            _ => None,
        }
    }

    pub fn begin(&mut self, info: &RunInfo) {
        self.write(|lines| lines.begin(info));
    }

    pub fn event(&mut self, event: &ProbeEvent, applied: &Applied, monitor: &Monitor) {
        self.write(|lines| lines.event(event, applied, monitor));
    }

    pub fn end(&mut self, monitor: &Monitor, now: Duration) {
        self.write(|lines| lines.end(monitor, now));
    }

    fn write(&mut self, step: impl FnOnce(&mut JsonLines<BufWriter<File>>) -> io::Result<()>) {
        if let Some(lines) = &mut self.lines
            && let Err(error) = step(lines)
        {
            tracing::error!(%error, "the --record file cannot be written: recording stopped");
            let why = format!(
                "cannot write the record {}: {error}; recording stopped",
                self.path.display()
            );
            self.failure = Some((why, false));
            self.lines = None;
        }
    }
}
