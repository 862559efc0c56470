//! `--record PATH`: a copy of the run as JSON lines in a file, whatever the output, so an
//! operator watching the dashboard for hours keeps the whole story. Written on a thread of its
//! own (a slow disk never holds the probes up); a write error, or a disk that falls far
//! behind, is logged and ends the recording, never the run.

use std::fs::OpenOptions;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{JsonLines, Output, Overflow, Pipe, RunInfo};
use crate::clock::WallClock;
use crate::state::{Told, Watch};

/// Lines waiting for the disk before the recording is given up: minutes of a busy run.
const QUEUE: usize = 1 << 16;
/// How long the end of a run waits for the disk to take what is queued.
const CLOSE_WAIT: Duration = Duration::from_secs(10);

pub struct Recorder {
    lines: Option<JsonLines<Pipe>>,
    path: PathBuf,
    /// Why the recording stopped, and whether that was told yet.
    failure: Option<(String, bool)>,
}

impl Recorder {
    /// Appends to `path`, creating it if needed; a run cut short before leaves its last line
    /// unfinished, so this run starts on a line of its own.
    pub fn to_file(path: &Path, wall: WallClock) -> io::Result<Self> {
        let mut file = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(path)?;
        if ends_unfinished(&mut file)? {
            file.write_all(b"\n")?;
        }
        let pipe = Pipe::spawn("record", BufWriter::new(file), QUEUE, Overflow::Fail)?;
        Ok(Self {
            lines: Some(JsonLines::new(pipe, wall)),
            path: path.to_owned(),
            failure: None,
        })
    }

    fn write(&mut self, step: impl FnOnce(&mut JsonLines<Pipe>) -> io::Result<()>) {
        if let Some(lines) = &mut self.lines
            && let Err(error) = step(lines)
        {
            self.stopped(&error.to_string());
        }
    }

    fn stopped(&mut self, error: &str) {
        tracing::error!(%error, "the --record file cannot be written: recording stopped");
        let why = format!(
            "cannot write the record {}: {error}; recording stopped",
            self.path.display()
        );
        self.failure = Some((why, false));
        if let Some(mut lines) = self.lines.take() {
            lines.inner().close(Duration::ZERO);
        }
    }
}

/// Whether `file` holds something whose last line has no line break.
fn ends_unfinished(file: &mut std::fs::File) -> io::Result<bool> {
    use std::io::{Read, Seek, SeekFrom};
    if file.metadata()?.len() == 0 {
        return Ok(false);
    }
    file.seek(SeekFrom::End(-1))?;
    let mut last = [0u8];
    file.read_exact(&mut last)?;
    Ok(last[0] != b'\n')
}

/// Never fails the run: its trouble is told once through [`Output::untold_failure`].
impl Output for Recorder {
    fn begin(&mut self, info: &RunInfo) -> io::Result<()> {
        self.write(|lines| lines.begin(info));
        Ok(())
    }

    fn tell(&mut self, told: &Told, watch: &Watch) -> io::Result<()> {
        self.write(|lines| lines.tell(told, watch));
        Ok(())
    }

    fn end(&mut self, watch: &Watch, now: Duration) -> io::Result<()> {
        self.write(|lines| lines.end(watch, now));
        Ok(())
    }

    fn untold_failure(&mut self) -> Option<String> {
        match &mut self.failure {
            Some((why, told)) if !*told => {
                *told = true;
                Some(why.clone())
            }
            _ => None,
        }
    }

    /// Waits for the disk to take every line; a record cut short fails the run.
    fn close(&mut self) -> Result<Option<String>, String> {
        if let Some(mut lines) = self.lines.take() {
            let pipe = lines.inner();
            let closed = pipe.close(CLOSE_WAIT);
            let error = pipe.flush().err();
            match (closed.unfinished, error) {
                (true, _) => self.stopped("the disk did not take the last lines in time"),
                (false, Some(error)) if error.kind() != io::ErrorKind::BrokenPipe => {
                    self.stopped(&error.to_string());
                }
                _ => {}
            }
        }
        match &self.failure {
            Some((why, _)) => Err(why.clone()),
            None => Ok(None),
        }
    }
}
