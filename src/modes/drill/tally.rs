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
use crate::probe::{TargetId, Verdict};
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
    /// The target drilled, and whether the run watches others beside it (`--only-target`).
    pub drilled: TargetId,
    pub with_others: bool,
    /// Changes of who serves the targets not drilled.
    pub others_moved: u64,
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
            // Another target's answer: only a change of who serves it counts.
            Told::Request(request) if request.outcome.target != self.drilled => {
                self.others_moved += u64::from(request.transition.is_some());
            }
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
            others_moved: self.with_others.then_some(self.others_moved),
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
    /// The output of a drill of `drilled` (`with_others`: among several targets), and where
    /// its tally is seen.
    pub fn new(drilled: TargetId, with_others: bool) -> (Self, watch::Receiver<Tally>) {
        let tally = Tally {
            drilled,
            with_others,
            ..Tally::default()
        };
        let (seen, receiver) = watch::channel(tally);
        let observer = Self { tally, seen };
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::event::Failure;
    use crate::probe::{ErrorKind, Lane, ProbeReport, Role};
    use crate::state::{Input, MonitorConfig};
    use crate::tests::{answered, sent, served};

    const MS: fn(u64) -> Duration = Duration::from_millis;

    /// Request `seq` sent at `sent` ms, answered `latency` ms later: `P`, `F` or `E`.
    fn request(seq: u64, sent_ms: u64, latency: u64, result: &str) -> [Input; 2] {
        let report = match result {
            "P" => served(Role::Primary, "llama-fp8", "Hi.", MS(latency)),
            "F" => served(Role::Fallback, "ollama/llama3", "Hello!", MS(latency)),
            _ => ProbeReport::failed(
                MS(latency),
                Failure {
                    kind: ErrorKind::Connect,
                    message: "refused".to_owned(),
                },
            ),
        };
        [
            sent(Lane::Normal, seq, MS(sent_ms)).into(),
            answered(Lane::Normal, seq, MS(sent_ms), report).into(),
        ]
    }

    fn mark(at_ms: u64, label: &str) -> [Input; 1] {
        [Input::Mark {
            at: MS(at_ms),
            after_seq: None,
            label: Some(label.to_owned()),
        }]
    }

    /// The tally of `inputs`, through the core as the live run goes.
    fn tally(inputs: impl IntoIterator<Item = Input>) -> Tally {
        let mut watch = Watch::new(vec![MonitorConfig::default()]);
        let mut tally = Tally::default();
        for input in inputs {
            for told in watch.apply(input) {
                tally.tell(&told);
            }
        }
        tally
    }

    #[test]
    fn the_failover_and_the_recovery_count_from_the_drills_markers_by_arrival() {
        let inputs = [
            // A marker that is not the drill's, and an up before any down: not the drill's.
            mark(100, "scale down").to_vec(),
            mark(200, DRILL_UP).to_vec(),
            request(1, 0, 20, "P").to_vec(),
            // Served by the fallback before the down: not the failover.
            request(2, 1000, 20, "F").to_vec(),
            mark(2000, DRILL_DOWN).to_vec(),
            // Sent before the down, answered after it by the fallback: the failover.
            request(3, 1990, 30, "F").to_vec(),
            request(4, 3000, 20, "E").to_vec(),
            mark(5000, DRILL_UP).to_vec(),
            request(5, 5500, 20, "P").to_vec(),
            request(6, 6000, 20, "P").to_vec(),
        ];
        let t = tally(inputs.into_iter().flatten());
        assert_eq!(
            t,
            Tally {
                answered: 6,
                failed: 1,
                down_at: Some(MS(2000)),
                up_at: Some(MS(5000)),
                failover_at: Some(MS(2020)),
                recovery_at: Some(MS(5520)),
                ..Tally::default()
            }
        );
        // A primary answer after the up, late (a later request answered first), is no
        // recovery: it was sent while the primary was still away.
        let [sent_3, answer_3] = request(3, 1500, 1600, "P");
        let [sent_4, answer_4] = request(4, 2500, 20, "F");
        let inputs = [
            mark(0, DRILL_DOWN).to_vec(),
            request(1, 100, 20, "F").to_vec(),
            request(2, 1000, 20, "F").to_vec(),
            vec![sent_3],
            mark(2000, DRILL_UP).to_vec(),
            vec![sent_4, answer_4, answer_3],
        ];
        let t = tally(inputs.into_iter().flatten());
        assert_eq!((t.answered, t.recovery_at), (4, None), "{t:?}");
    }

    #[test]
    fn a_budget_breaks_for_good_only_once_nothing_can_mend_it() {
        let budgets = Budgets {
            max_failed: Some(1),
            max_failover: Some(MS(1000)),
            max_recovery: Some(MS(2000)),
            min_availability: Some(99.9),
            others_steady: false,
        };
        let down = Tally {
            answered: 10,
            failed: 1,
            down_at: Some(MS(5000)),
            ..Tally::default()
        };
        // One failure of ten: within its budget; availability is judged at the end only.
        assert_eq!(down.broken(&budgets, MS(5500)), None);
        assert_eq!(
            down.next_break(&budgets),
            Some(MS(6000) + Duration::from_micros(1))
        );
        // The failover budget holds at its limit and breaks just after it.
        assert_eq!(down.broken(&budgets, MS(6000)), None);
        assert_eq!(
            down.broken(&budgets, MS(6100)).as_deref(),
            Some("fault → first fallback answer ≤ 1.00 s: none yet after 1.10 s")
        );
        let failed_over = Tally {
            failover_at: Some(MS(5400)),
            ..down
        };
        assert_eq!(failed_over.broken(&budgets, MS(60_000)), None);
        assert_eq!(failed_over.next_break(&budgets), None);
        let two_failed = Tally {
            failed: 2,
            ..failed_over
        };
        assert_eq!(
            two_failed.broken(&budgets, MS(5500)).as_deref(),
            Some("failed requests ≤ 1: 2")
        );
        let up = Tally {
            up_at: Some(MS(10_000)),
            ..failed_over
        };
        assert_eq!(
            up.next_break(&budgets),
            Some(MS(12_000) + Duration::from_micros(1))
        );
        assert!(
            up.broken(&budgets, MS(12_001))
                .unwrap()
                .starts_with("up → first primary")
        );
        // A failover that came too late breaks with its figure.
        let late = Tally {
            failover_at: Some(MS(6500)),
            ..down
        };
        assert_eq!(
            late.broken(&budgets, MS(7000)).as_deref(),
            Some("fault → first fallback answer ≤ 1.00 s: 1.50 s")
        );
    }

    /// Among several targets, the tally counts the drilled one's answers only, and every
    /// change of who serves another: the budget that the others stay put breaks at the first.
    #[test]
    fn among_several_targets_the_others_only_count_their_changes() {
        let of_target = |inputs: [Input; 2], target: u16| {
            inputs.map(|input| match input {
                Input::Probe(event) => Input::Probe(event.retargeted(TargetId(target))),
                other => other,
            })
        };
        let mut watch = Watch::new(vec![MonitorConfig::default(); 2]);
        let (mut observer, seen) = Observer::new(TargetId(1), true);
        let inputs = [
            of_target(request(1, 0, 20, "P"), 0),
            of_target(request(1, 100, 20, "P"), 1),
            of_target(request(2, 1000, 20, "F"), 0),
            of_target(request(2, 1100, 20, "P"), 1),
        ];
        for input in inputs.into_iter().flatten() {
            for told in watch.apply(input) {
                observer.tell(&told, &watch).unwrap();
            }
        }
        let t = *seen.borrow();
        assert_eq!((t.answered, t.others_moved), (2, 1), "{t:?}");
        let budgets = Budgets {
            others_steady: true,
            ..Budgets::default()
        };
        assert_eq!(
            t.broken(&budgets, MS(1200)).as_deref(),
            Some("the other targets' changes of who serves = 0: 1 transition")
        );
        let alone = Tally::default();
        assert_eq!(alone.broken(&budgets, MS(1200)), None);
    }
}
