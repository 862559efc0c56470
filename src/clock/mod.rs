//! The run's clock.
//!
//! Every moment in a run is an offset from its start ([`Duration`]), so the core is fed time
//! instead of reading it, and tests can drive it with tokio's paused clock. Wall-clock times
//! are derived from an offset only at the output edge, through [`WallClock`].

pub mod duration;

use std::time::Duration;

use chrono::{DateTime, FixedOffset, Local, SecondsFormat, SubsecRound, Utc};

/// Reads the monotonic clock (tokio's, so tests can pause it) relative to the start of the run.
#[derive(Clone, Copy, Debug)]
pub struct RunClock {
    start: tokio::time::Instant,
    wall: WallClock,
    /// Follow the local UTC offset as it changes (the real clock), or keep the one given
    /// (tests that pin whole runs).
    follows_local_offset: bool,
}

impl RunClock {
    /// Starts the run now, remembering the wall-clock time and the local UTC offset.
    pub fn start() -> Self {
        let now = Local::now();
        let origin = now.with_timezone(&Utc);
        // Whole microseconds, like every time the run records: a replay finds them exactly.
        let origin = origin.trunc_subsecs(6);
        Self {
            start: tokio::time::Instant::now(),
            wall: WallClock::new(origin, *now.offset()),
            follows_local_offset: true,
        }
    }

    /// Starts the run now on the monotonic clock, at the wall-clock time `wall` gives, which
    /// never changes its offset: whole runs pinned in tests.
    #[cfg(test)]
    pub fn starting_at(wall: WallClock) -> Self {
        Self {
            start: tokio::time::Instant::now(),
            wall,
            follows_local_offset: false,
        }
    }

    /// Time elapsed since the start of the run, in whole microseconds (what the outputs
    /// keep, so that a replay finds the same moments).
    pub fn now(&self) -> Duration {
        whole_micros(self.start.elapsed())
    }

    /// The instant at which a run offset falls, for timers.
    pub fn instant_at(&self, offset: Duration) -> tokio::time::Instant {
        self.start + offset
    }

    /// The wall clock, with the local UTC offset as it is now (it changes with daylight
    /// saving time during a long run).
    pub fn wall(&self) -> WallClock {
        if !self.follows_local_offset {
            return self.wall;
        }
        WallClock {
            local_offset: *Local::now().offset(),
            ..self.wall
        }
    }
}

/// Where a replay is: the moment of the run it shows, and whether (and how fast) it moves.
#[derive(Clone, Copy, Debug)]
pub struct Playhead {
    /// The run's moment at `since`.
    pub at: Duration,
    pub since: tokio::time::Instant,
    /// Run time per real time; 0 when paused.
    pub speed: f64,
}

impl Playhead {
    pub fn now(&self) -> Duration {
        whole_micros(self.at + self.since.elapsed().mul_f64(self.speed))
    }
}

/// The clock a session runs on: the real one, or a replay's playhead.
#[derive(Clone, Debug)]
pub enum SessionClock {
    Run(RunClock),
    Playback {
        playhead: tokio::sync::watch::Receiver<Playhead>,
        wall: WallClock,
    },
}

impl SessionClock {
    pub fn now(&self) -> Duration {
        match self {
            Self::Run(clock) => clock.now(),
            Self::Playback { playhead, .. } => playhead.borrow().now(),
        }
    }

    pub fn wall(&self) -> WallClock {
        match self {
            Self::Run(clock) => clock.wall(),
            Self::Playback { wall, .. } => *wall,
        }
    }

    /// The end of the run at `now`, in whole milliseconds (what the summary says), so that a
    /// replay ends at the same moment.
    pub fn end(&self) -> Duration {
        let now = self.now();
        let millis = now.as_nanos().div_ceil(1_000_000);
        Duration::from_millis(u64::try_from(millis).unwrap_or(u64::MAX))
    }
}

/// `d` cut to whole microseconds.
pub fn whole_micros(d: Duration) -> Duration {
    Duration::new(d.as_secs(), d.subsec_micros() * 1000)
}

/// Sleeps until `deadline`, or forever without one: a `select!` branch that may be off.
pub async fn until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

/// Turns run offsets into wall-clock times. Pure: the origin and the local offset are fixed
/// when the run starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WallClock {
    origin: DateTime<Utc>,
    local_offset: FixedOffset,
}

impl WallClock {
    pub fn new(origin: DateTime<Utc>, local_offset: FixedOffset) -> Self {
        Self {
            origin,
            local_offset,
        }
    }

    pub fn at(&self, offset: Duration) -> DateTime<Utc> {
        self.origin + chrono::Duration::from_std(offset).unwrap_or(chrono::Duration::MAX)
    }

    /// RFC 3339 in UTC with microseconds, as in the JSON lines.
    pub fn rfc3339(&self, offset: Duration) -> String {
        self.at(offset).to_rfc3339_opts(SecondsFormat::Micros, true)
    }

    /// When the run started.
    pub fn origin(&self) -> DateTime<Utc> {
        self.origin
    }

    pub fn local_offset(&self) -> FixedOffset {
        self.local_offset
    }

    /// Local `HH:MM:SS`, as the seed's script prints it.
    pub fn hms(&self, offset: Duration) -> String {
        self.at(offset)
            .with_timezone(&self.local_offset)
            .format("%H:%M:%S")
            .to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_offsets_to_utc_and_local_time() {
        let origin = DateTime::parse_from_rfc3339("2026-11-23T20:55:29.150Z")
            .unwrap()
            .with_timezone(&Utc);
        let wall = WallClock::new(origin, FixedOffset::east_opt(3600).unwrap());
        let offset = Duration::from_millis(61_250);
        assert_eq!(wall.rfc3339(offset), "2026-11-23T20:56:30.400000Z");
        assert_eq!(wall.hms(offset), "21:56:30");
    }
}
