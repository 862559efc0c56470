//! What the drill watches for its budgets while it runs: the failed requests, the drill's own
//! markers, the first fallback answer after the down and the first primary answer after the
//! up, as the core told them. Pure ([`Tally`]); [`Observer`] is the output that keeps it and
//! hands each change to the conductor, at once (a live output: no story waits on it).
//!
//! The budgets are judged by the report's own code ([`Budgets::judge`]), over what is known
//! so far: a duration not reached yet counts as the time waited, so it breaks its budget the
//! moment it is over. Availability is only judged at the end (it can always recover).

use std::io;
use std::time::Duration;

use tokio::sync::watch;

use crate::output::{Output, RunInfo};
use crate::probe::Verdict;
use crate::report::{
    Budget, Budgets, Counts, DRILL_DOWN, DRILL_UP, Durations, Facts, Lapse, Status,
};
use crate::state::{Told, Watch};
use crate::text::format;

/// The drill's run, as far as its budgets go.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    pub answered: u64,
    pub failed: u64,
    /// The drill's `drill: down` marker (the fault), and its `drill: up` after it.
    pub down_at: Option<Duration>,
    pub up_at: Option<Duration>,
    /// The first fallback answer after the fault.
    pub failover_at: Option<Duration>,
    /// The first primary answer through the proxy after the up.
    pub recovery_at: Option<Duration>,
}

impl Tally {
    /// Takes in what the core told, as the report reads it: by the answers' arrival.
    pub fn tell(&mut self, told: &Told) {
        match told {
            Told::Marker(marker) => match marker.label.as_deref() {
                Some(DRILL_DOWN) if self.down_at.is_none() => self.down_at = Some(marker.at),
                Some(DRILL_UP) if self.up_at.is_none() && self.down_at.is_some() => {
                    self.up_at = Some(marker.at);
                }
                _ => {}
            },
            Told::Request(request) => {
                let at = request.outcome.answered_at();
                let after = |moment: Option<Duration>| moment.is_some_and(|m| at >= m);
                self.answered += 1;
                match request.outcome.report.verdict() {
                    Verdict::Error => self.failed += 1,
                    Verdict::Fallback if self.failover_at.is_none() && after(self.down_at) => {
                        self.failover_at = Some(at);
                    }
                    Verdict::Primary
                        if self.recovery_at.is_none() && after(self.up_at) && !request.late =>
                    {
                        self.recovery_at = Some(at);
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }

    /// The first budget broken for good at `now`, whatever comes after, in a line.
    pub fn broken(&self, budgets: &Budgets, now: Duration) -> Option<String> {
        let live = Budgets {
            min_availability: None,
            ..*budgets
        };
        let whole = Counts {
            requests: self.answered,
            failed: self.failed,
            ..Counts::default()
        };
        let so_far = |from: Option<Duration>, to: Option<Duration>| {
            from.map(|from| Lapse {
                from,
                to: to.unwrap_or(now.max(from)),
            })
        };
        let durations = Durations {
            to_failover: so_far(self.down_at, self.failover_at),
            to_recovery: so_far(self.up_at, self.recovery_at),
            ..Durations::default()
        };
        let facts = Facts {
            fault: self.down_at.is_some(),
            up: self.up_at.is_some(),
        };
        let judged = live.judge(&whole, &durations, facts);
        let broken = judged.into_iter().find(|j| j.status == Status::Fail)?;
        let waiting = |since: Option<Duration>| {
            let waited = now.saturating_sub(since.unwrap_or(now));
            format!("none yet after {}", format::latency(waited))
        };
        let figure = match broken.budget {
            Budget::MaxFailover(_) if self.failover_at.is_none() => waiting(self.down_at),
            Budget::MaxRecovery(_) if self.recovery_at.is_none() => waiting(self.up_at),
            _ => broken.figure,
        };
        Some(format!("{}: {figure}", broken.budget.text()))
    }

    /// When a duration not reached yet breaks its budget, if nothing comes first.
    pub fn next_break(&self, budgets: &Budgets) -> Option<Duration> {
        let due = |from: Option<Duration>, reached: Option<Duration>, max: Option<Duration>| {
            match (from, reached, max) {
                // Broken just after the limit: the budget holds at it.
                (Some(from), None, Some(max)) => Some(
                    from.saturating_add(max)
                        .saturating_add(Duration::from_micros(1)),
                ),
                _ => None,
            }
        };
        [
            due(self.down_at, self.failover_at, budgets.max_failover),
            due(self.up_at, self.recovery_at, budgets.max_recovery),
        ]
        .into_iter()
        .flatten()
        .min()
    }
}

/// The output that keeps the drill's [`Tally`] and hands each change to the conductor.
pub struct Observer {
    tally: Tally,
    seen: watch::Sender<Tally>,
}

impl Observer {
    /// The output, and where its tally is seen.
    pub fn new() -> (Self, watch::Receiver<Tally>) {
        let (seen, receiver) = watch::channel(Tally::default());
        let observer = Self {
            tally: Tally::default(),
            seen,
        };
        (observer, receiver)
    }
}

impl Output for Observer {
    fn begin(&mut self, _: &RunInfo) -> io::Result<()> {
        Ok(())
    }

    fn tell(&mut self, told: &Told, _: &Watch) -> io::Result<()> {
        let before = self.tally;
        self.tally.tell(told);
        if self.tally != before {
            self.seen.send_replace(self.tally);
        }
        Ok(())
    }

    fn live(&self) -> bool {
        true
    }

    fn end(&mut self, _: &Watch, _: Duration) -> io::Result<()> {
        Ok(())
    }
}
