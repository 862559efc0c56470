//! The drill's course, pure: which step comes next, given what happened and when. The
//! conductor carries the orders out and feeds back what came of them; time is passed in.
//!
//! ```text
//!  Baseline ─time─▶ Down ─done─▶ Hold ─time─▶ Up ─done─▶ Settle ─time─▶ Over
//!                     │  failed ─────────────▶ Up ─done─▶ Over
//!  a stop (signal, q), the watch's failure, a budget broken (--abort-on-breach):
//!  before Down: Over at once; from Down on: Up as soon as the down step is done, then Over
//! ```
//!
//! Once the down step ran at all, the up step always runs: that is the drill's promise.

use std::time::Duration;

use crate::report::{DRILL_DOWN, DRILL_UP};

/// Where the drill is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Watching before the fault.
    Baseline,
    /// The down step under way (its command running).
    Down,
    /// The primary held down.
    Hold,
    /// The up step under way.
    Up,
    /// Watching after the up.
    Settle,
    /// Nothing more to do.
    Over,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Baseline => "baseline",
            Phase::Down => "down",
            Phase::Hold => "hold",
            Phase::Up => "up",
            Phase::Settle => "settle",
            Phase::Over => "over",
        }
    }
}

/// How long each wait lasts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timings {
    pub baseline: Duration,
    pub hold: Duration,
    pub settle: Duration,
}

/// How a step went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Done {
    Succeeded,
    /// It ran and failed (a status other than 0, a signal, the command timeout).
    Failed,
    /// It could not even start: nothing was changed.
    NotStarted,
}

/// What happened, as the conductor tells the course.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// The current wait is over (or the next step was asked for now).
    TimeUp,
    /// The step under way is done.
    StepDone(Done),
    /// The run was asked to stop: a signal, `q` on the dashboard.
    Stopped,
    /// The owner of the run is gone: the watch failed.
    WatchFailed,
    /// A budget is broken for good, in a line.
    Breach(String),
}

/// What the conductor is to do, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Order {
    /// Take the primary down: start the down step.
    Down,
    /// Bring the primary back: start the up step.
    Up,
    /// Drop one of the drill's markers ([`DRILL_DOWN`], [`DRILL_UP`]).
    Mark(&'static str),
    /// The drill is over: end the run.
    End,
}

/// How the drill ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ending {
    /// Every step done, every wait waited.
    Completed,
    /// A budget broke and `--abort-on-breach` cut the drill short.
    Aborted(String),
    /// A signal or `q` stopped it.
    Interrupted,
    /// The down step failed or could not start.
    DownFailed,
    /// The watch failed under the drill.
    WatchFailed,
    /// The up step failed: the primary may be left down.
    RestoreFailed,
}

/// The drill's course from its start to its end.
#[derive(Clone, Debug)]
pub struct Course {
    timings: Timings,
    abort_on_breach: bool,
    phase: Phase,
    /// When the current wait ends.
    until: Option<Duration>,
    /// Why the drill stops short, once it must: it ends as soon as the primary is back.
    cut: Option<Ending>,
    /// The first budget broken, aborting or not: the status says it.
    breach: Option<String>,
    ended: Option<Ending>,
}

impl Course {
    pub fn new(timings: Timings, abort_on_breach: bool) -> Self {
        Self {
            timings,
            abort_on_breach,
            phase: Phase::Baseline,
            until: None,
            cut: None,
            breach: None,
            ended: None,
        }
    }

    /// The baseline starts at `now`.
    pub fn start(&mut self, now: Duration) {
        self.wait(Phase::Baseline, self.timings.baseline, now);
    }

    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// When the current wait ends, if the drill is waiting.
    pub fn until(&self) -> Option<Duration> {
        self.until
    }

    /// Why the drill is being cut short, if it is (the status says "restoring").
    pub fn cut(&self) -> Option<&Ending> {
        self.cut.as_ref()
    }

    pub fn breach(&self) -> Option<&str> {
        self.breach.as_deref()
    }

    /// How it ended, once it is over.
    pub fn ended(&self) -> Option<&Ending> {
        self.ended.as_ref()
    }

    /// Takes in what happened at `now`; returns what to do.
    pub fn on(&mut self, event: Event, now: Duration) -> Vec<Order> {
        if self.phase == Phase::Over {
            return Vec::new();
        }
        match event {
            Event::TimeUp => self.time_up(),
            Event::StepDone(done) => self.step_done(done, now),
            Event::Stopped => self.stop(Ending::Interrupted),
            Event::WatchFailed => self.stop(Ending::WatchFailed),
            Event::Breach(why) => {
                let first = self.breach.is_none();
                self.breach.get_or_insert_with(|| why.clone());
                match self.abort_on_breach && first {
                    true => self.stop(Ending::Aborted(why)),
                    false => Vec::new(),
                }
            }
        }
    }

    fn time_up(&mut self) -> Vec<Order> {
        match self.phase {
            Phase::Baseline => self.step(Phase::Down, Order::Down),
            Phase::Hold => self.step(Phase::Up, Order::Up),
            Phase::Settle => self.over(Ending::Completed),
            // A step under way is waited for.
            Phase::Down | Phase::Up | Phase::Over => Vec::new(),
        }
    }

    fn step_done(&mut self, done: Done, now: Duration) -> Vec<Order> {
        match (self.phase, done) {
            (Phase::Down, Done::NotStarted) => {
                // Nothing was changed: nothing to bring back.
                let ending = self.cut.take().unwrap_or(Ending::DownFailed);
                self.over(ending)
            }
            (Phase::Down, Done::Failed) => {
                self.cut.get_or_insert(Ending::DownFailed);
                self.step(Phase::Up, Order::Up)
            }
            (Phase::Down, Done::Succeeded) => {
                let mut orders = vec![Order::Mark(DRILL_DOWN)];
                match self.cut {
                    Some(_) => orders.extend(self.step(Phase::Up, Order::Up)),
                    None => self.wait(Phase::Hold, self.timings.hold, now),
                }
                orders
            }
            (Phase::Up, done) => {
                let mut orders = vec![Order::Mark(DRILL_UP)];
                match (done, self.cut.take()) {
                    (Done::Failed | Done::NotStarted, _) => {
                        orders.extend(self.over(Ending::RestoreFailed));
                    }
                    (Done::Succeeded, Some(ending)) => orders.extend(self.over(ending)),
                    (Done::Succeeded, None) => self.wait(Phase::Settle, self.timings.settle, now),
                }
                orders
            }
            // No step is under way: nothing to take in.
            _ => Vec::new(),
        }
    }

    /// The drill must stop short for `why`: at once before the fault, after bringing the
    /// primary back from it on.
    fn stop(&mut self, why: Ending) -> Vec<Order> {
        if self.cut.is_some() {
            return Vec::new();
        }
        match self.phase {
            Phase::Baseline | Phase::Settle => self.over(why),
            Phase::Hold => {
                self.cut = Some(why);
                self.step(Phase::Up, Order::Up)
            }
            // The step under way finishes first.
            Phase::Down | Phase::Up => {
                self.cut = Some(why);
                Vec::new()
            }
            Phase::Over => Vec::new(),
        }
    }

    fn wait(&mut self, phase: Phase, length: Duration, now: Duration) {
        self.phase = phase;
        self.until = Some(now.saturating_add(length));
    }

    fn step(&mut self, phase: Phase, order: Order) -> Vec<Order> {
        self.phase = phase;
        self.until = None;
        vec![order]
    }

    fn over(&mut self, ending: Ending) -> Vec<Order> {
        self.phase = Phase::Over;
        self.until = None;
        self.ended = Some(ending);
        vec![Order::End]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: fn(u64) -> Duration = Duration::from_secs;

    fn course(abort_on_breach: bool) -> Course {
        let timings = Timings {
            baseline: S(10),
            hold: S(30),
            settle: S(20),
        };
        let mut course = Course::new(timings, abort_on_breach);
        course.start(S(0));
        course
    }

    /// Feeds `events` (each at its moment), collecting every order.
    fn run(course: &mut Course, events: &[(u64, Event)]) -> Vec<Order> {
        events
            .iter()
            .flat_map(|(at, event)| course.on(event.clone(), S(*at)))
            .collect()
    }

    const DONE: Event = Event::StepDone(Done::Succeeded);

    #[test]
    fn a_drill_goes_down_holds_comes_back_and_settles() {
        let mut c = course(false);
        assert_eq!((c.phase(), c.until()), (Phase::Baseline, Some(S(10))));
        assert_eq!(c.on(Event::TimeUp, S(10)), [Order::Down]);
        assert_eq!((c.phase(), c.until()), (Phase::Down, None));
        assert_eq!(c.on(DONE, S(12)), [Order::Mark(DRILL_DOWN)]);
        // The hold counts from the down command's end.
        assert_eq!((c.phase(), c.until()), (Phase::Hold, Some(S(42))));
        assert_eq!(c.on(Event::TimeUp, S(42)), [Order::Up]);
        assert_eq!(c.on(DONE, S(43)), [Order::Mark(DRILL_UP)]);
        assert_eq!((c.phase(), c.until()), (Phase::Settle, Some(S(63))));
        assert_eq!(c.on(Event::TimeUp, S(63)), [Order::End]);
        assert_eq!(c.ended(), Some(&Ending::Completed));
        // Over is over.
        assert!(c.on(Event::Stopped, S(64)).is_empty());
    }

    #[test]
    fn once_the_down_step_ran_the_up_step_always_runs() {
        let cases: [(&[(u64, Event)], Ending); 5] = [
            // Interrupted during the hold: up at once, then over.
            (
                &[
                    (10, Event::TimeUp),
                    (11, DONE),
                    (15, Event::Stopped),
                    (16, DONE),
                ],
                Ending::Interrupted,
            ),
            // Interrupted while the down command runs: it finishes, then up.
            (
                &[
                    (10, Event::TimeUp),
                    (10, Event::Stopped),
                    (11, DONE),
                    (12, DONE),
                ],
                Ending::Interrupted,
            ),
            // The down command failed: up all the same.
            (
                &[
                    (10, Event::TimeUp),
                    (11, Event::StepDone(Done::Failed)),
                    (12, DONE),
                ],
                Ending::DownFailed,
            ),
            // The watch failed during the hold.
            (
                &[
                    (10, Event::TimeUp),
                    (11, DONE),
                    (15, Event::WatchFailed),
                    (16, DONE),
                ],
                Ending::WatchFailed,
            ),
            // The up command failed after an interrupt: the loudest wins.
            (
                &[
                    (10, Event::TimeUp),
                    (11, DONE),
                    (15, Event::Stopped),
                    (16, Event::StepDone(Done::Failed)),
                ],
                Ending::RestoreFailed,
            ),
        ];
        for (events, ending) in cases {
            let mut c = course(false);
            let orders = run(&mut c, events);
            assert_eq!(
                orders.iter().filter(|o| **o == Order::Up).count(),
                1,
                "{events:?}: {orders:?}"
            );
            assert_eq!(orders.last(), Some(&Order::End), "{events:?}");
            assert_eq!(c.ended(), Some(&ending), "{events:?}");
        }
    }

    #[test]
    fn before_the_down_step_ran_nothing_is_brought_back() {
        for (events, ending) in [
            (vec![(3, Event::Stopped)], Ending::Interrupted),
            (
                vec![(10, Event::TimeUp), (10, Event::StepDone(Done::NotStarted))],
                Ending::DownFailed,
            ),
        ] {
            let mut c = course(false);
            let orders = run(&mut c, &events);
            assert!(!orders.contains(&Order::Up), "{orders:?}");
            assert_eq!(c.ended(), Some(&ending));
        }
    }

    #[test]
    fn a_breach_aborts_only_when_asked_and_is_remembered_either_way() {
        let breach = || Event::Breach("failed requests ≤ 0: 2".to_owned());
        let mut c = course(false);
        run(&mut c, &[(10, Event::TimeUp), (11, DONE)]);
        assert!(c.on(breach(), S(15)).is_empty());
        assert_eq!(
            (c.phase(), c.breach()),
            (Phase::Hold, Some("failed requests ≤ 0: 2"))
        );

        let mut c = course(true);
        run(&mut c, &[(10, Event::TimeUp), (11, DONE)]);
        assert_eq!(c.on(breach(), S(15)), [Order::Up]);
        assert_eq!(c.on(DONE, S(16)), [Order::Mark(DRILL_UP), Order::End]);
        assert!(matches!(c.ended(), Some(Ending::Aborted(why)) if why.contains("≤ 0")));
        // In the settle, a breach ends the drill at once.
        let mut c = course(true);
        run(
            &mut c,
            &[
                (10, Event::TimeUp),
                (11, DONE),
                (41, Event::TimeUp),
                (42, DONE),
            ],
        );
        assert_eq!(c.on(breach(), S(45)), [Order::End]);
    }
}
