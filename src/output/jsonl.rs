//! JSON lines: one object per line, flushed per line, the summary last.

use std::io::{self, Write};
use std::time::Duration;

use super::records::{
    AbandonedLine, DirectLine, IntervalLine, Line, MarkerLine, NoticeLine, PrimaryLine,
    RequestLine, ResetLine, RunLine, SkipLine, SummaryLine, TransitionLine,
};
use super::{RunInfo, Sink};
use crate::clock::WallClock;
use crate::probe::{Lane, ProbeEvent};
use crate::state::{Applied, Marker, Monitor, Notice};
use crate::text::format::millis;

pub struct JsonLines<W: Write> {
    out: W,
    wall: WallClock,
}

impl<W: Write> JsonLines<W> {
    pub fn new(out: W, wall: WallClock) -> Self {
        Self { out, wall }
    }

    fn write(&mut self, line: &Line<'_>) -> io::Result<()> {
        serde_json::to_writer(&mut self.out, line)?;
        self.out.write_all(b"\n")?;
        self.out.flush()
    }
}

impl<W: Write> Sink for JsonLines<W> {
    fn begin(&mut self, info: &RunInfo) -> io::Result<()> {
        let wall = self.wall;
        self.write(&Line::Run(RunLine::new(info, &wall)))
    }

    fn event(
        &mut self,
        event: &ProbeEvent,
        applied: &Applied,
        monitor: &Monitor,
    ) -> io::Result<()> {
        let wall = self.wall;
        match event {
            ProbeEvent::Sent { .. } => Ok(()),
            ProbeEvent::Answered(outcome) if outcome.lane == Lane::Direct => {
                let line = DirectLine::new(outcome, monitor.primary(), &wall);
                self.write(&Line::Direct(line))?;
                match &applied.primary {
                    Some(change) => self.write(&Line::Primary(PrimaryLine::new(change, &wall))),
                    None => Ok(()),
                }
            }
            ProbeEvent::Answered(outcome) => {
                self.write(&Line::Request(RequestLine::new(
                    outcome,
                    applied.late,
                    &wall,
                )))?;
                match &applied.transition {
                    Some(t) => self.write(&Line::Transition(TransitionLine::new(t, &wall))),
                    None => Ok(()),
                }
            }
            ProbeEvent::Skipped {
                lane,
                at,
                in_flight,
            } => self.write(&Line::Skip(SkipLine {
                at: wall.rfc3339(*at),
                in_flight: *in_flight,
                lane: *lane,
            })),
            ProbeEvent::Abandoned {
                lane,
                seq,
                sent_at,
                at,
            } => self.write(&Line::Abandoned(AbandonedLine {
                seq: *seq,
                sent_at: wall.rfc3339(*sent_at),
                waited_ms: millis(at.saturating_sub(*sent_at)),
                lane: *lane,
            })),
        }
    }

    fn marker(&mut self, marker: &Marker) -> io::Result<()> {
        let wall = self.wall;
        self.write(&Line::Marker(MarkerLine::new(marker, &wall)))
    }

    fn reset(&mut self, at: Duration) -> io::Result<()> {
        let at = self.wall.rfc3339(at);
        self.write(&Line::Reset(ResetLine { at }))
    }

    fn interval(&mut self, at: Duration, every: Duration) -> io::Result<()> {
        let at = self.wall.rfc3339(at);
        self.write(&Line::Interval(IntervalLine {
            at,
            interval_ms: millis(every),
        }))
    }

    fn notice(&mut self, notice: &Notice) -> io::Result<()> {
        let wall = self.wall;
        self.write(&Line::Notice(NoticeLine::new(notice, &wall)))
    }

    fn end(&mut self, monitor: &Monitor, now: Duration) -> io::Result<()> {
        self.write(&Line::Summary(SummaryLine::new(monitor, now)))
    }
}
