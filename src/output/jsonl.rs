//! JSON lines: one object per line, each handed to the writer whole, the summary last. The record
//! (`--record`) is the same lines in a file.

use std::io::{self, Write};
use std::time::Duration;

use super::schema::{self, Line, RunLine, SummaryLine, TotalsLine};
use super::{Finish, Output, RunInfo};
use crate::clock::WallClock;
use crate::state::{Told, Watch};

pub struct JsonLines<W: Write> {
    out: W,
    wall: WallClock,
    /// The run's targets, as every line names them.
    names: Vec<String>,
}

impl<W: Finish> JsonLines<W> {
    pub fn new(out: W, wall: WallClock) -> Self {
        Self {
            out,
            wall,
            names: Vec::new(),
        }
    }

    fn write(&mut self, line: &Line) -> io::Result<()> {
        serde_json::to_writer(&mut self.out, line)?;
        self.out.write_all(b"\n")?;
        self.out.flush()
    }

    /// What it writes to.
    pub fn inner(&mut self) -> &mut W {
        &mut self.out
    }
}

impl<W: Finish> Output for JsonLines<W> {
    fn begin(&mut self, info: &RunInfo) -> io::Result<()> {
        self.names = info.targets.iter().map(|t| t.name.clone()).collect();
        let wall = self.wall;
        self.write(&Line::Run(RunLine::new(info, &wall)))
    }

    fn tell(&mut self, told: &Told, _watch: &Watch) -> io::Result<()> {
        let wall = self.wall;
        for line in schema::lines(told, &wall, &self.names) {
            self.write(&line)?;
        }
        Ok(())
    }

    /// A summary per target, in the run's order; with several, their totals last.
    fn end(&mut self, watch: &Watch, now: Duration) -> io::Result<()> {
        for (id, monitor) in watch.targets() {
            let mut summary = SummaryLine::new(monitor, now);
            summary.target = self.names.get(id.index()).cloned().unwrap_or_default();
            self.write(&Line::Summary(Box::new(summary)))?;
        }
        if watch.targets().len() > 1 {
            self.write(&Line::Totals(TotalsLine::new(watch, now)))?;
        }
        Ok(())
    }

    fn close(&mut self) -> Result<Option<String>, String> {
        Ok(self.out.finish())
    }
}
