//! The drill's conductor: the edge that carries the course's orders out (the steps, the
//! markers, the end of the run) and feeds back what came of them: the steps' ends, the
//! timers, a stop asked of the run, the watch's failure, a budget broken, the `n` key. It
//! talks to the run's owner only through its [`Lead`] (markers in, the run's end out) and sees
//! the state only through the [`Tally`] the drill's output hands it.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio::time::{MissedTickBehavior, sleep_until};

use super::course::{Course, Done, Ending, Event, Order, Phase};
use super::plan::DrillPlan;
use super::shell::{self, Taken};
use super::status::{self, View};
use super::tally::Tally;
use super::{KEYS, NEXT};
use crate::modes::demo::stage::{Fault, Side, Stage};
use crate::run::{Lead, ModeLink};
use crate::text::sanitize::clean;
use crate::ui::{ModeAction, ModeStatus};

/// How often the status lines are refreshed (the time left moves).
const TICK: Duration = Duration::from_secs(1);

/// What the drill did, for its report and its exit status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conducted {
    pub down: Option<Taken>,
    pub up: Option<Taken>,
    pub ending: Ending,
}

/// A step under way.
type Step = Pin<Box<dyn Future<Output = Taken> + Send>>;

/// Conducts one drill over the run its [`Lead`] holds.
pub struct Conductor {
    lead: Lead,
    plan: DrillPlan,
    /// The primary group, cleaned for the status lines and stderr.
    primary: String,
    /// The demo's simulated deployments, switched by the steps.
    stage: Option<Stage>,
    tally: watch::Receiver<Tally>,
    status: watch::Sender<ModeStatus>,
    presses: Option<mpsc::UnboundedReceiver<ModeAction>>,
    /// Tell each step on stderr (no dashboard owns the terminal).
    narrate: bool,
}

impl Conductor {
    /// The conductor of `plan` over `lead`'s run; with `dashboard`, the mode that lends the
    /// dashboard its status and key.
    pub fn new(
        lead: Lead,
        plan: DrillPlan,
        primary: &str,
        stage: Option<Stage>,
        tally: watch::Receiver<Tally>,
        dashboard: bool,
    ) -> (Self, Option<ModeLink>) {
        let (status, seen) = watch::channel(ModeStatus::default());
        let (link, presses) = match dashboard {
            true => {
                let (presses, received) = mpsc::unbounded_channel();
                let link = ModeLink {
                    keys: &KEYS,
                    presses,
                    status: seen,
                };
                (Some(link), Some(received))
            }
            false => (None, None),
        };
        let conductor = Self {
            lead,
            plan,
            primary: clean(primary, 100),
            stage,
            tally,
            status,
            presses,
            narrate: !dashboard,
        };
        (conductor, link)
    }

    /// Runs the drill to its end; the run ends once this returns (its lead dropped).
    pub async fn run(mut self) -> Conducted {
        let mut course = Course::new(self.plan.timings, self.plan.abort_on_breach);
        course.start(self.lead.now());
        self.say(&format!(
            "baseline: watching for {} before the down step",
            humantime::format_duration(self.plan.timings.baseline)
        ));
        let mut step: Option<Step> = None;
        let (mut down, mut up) = (None, None);
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(MissedTickBehavior::Skip);
        let (mut stop_seen, mut gone_seen, mut watching) = (false, false, true);
        // The moment a budget breaks with time, once its timer went off.
        let mut broke_at = None;
        loop {
            self.show(&course);
            let until = course.until().map(|u| self.lead.clock.instant_at(u));
            let budgets = self.plan.budgets;
            let breaks = self
                .tally
                .borrow()
                .next_break(&budgets)
                .filter(|b| course.breach().is_none() && broke_at != Some(*b));
            let break_timer = breaks.map(|b| self.lead.clock.instant_at(b));
            let event = tokio::select! {
                // The owner gone first: its failure also asks the run to stop.
                biased;
                () = self.lead.owner_gone(), if !gone_seen => {
                    gone_seen = true;
                    Some(Event::WatchFailed)
                }
                taken = next(&mut step), if step.is_some() => {
                    step = None;
                    let done = taken.done;
                    self.step_said(&course, &taken);
                    match course.phase() {
                        Phase::Down => down = Some(taken),
                        _ => up = Some(taken),
                    }
                    Some(Event::StepDone(done))
                }
                () = self.lead.stop_asked(), if !stop_seen => {
                    stop_seen = true;
                    Some(Event::Stopped)
                }
                () = sleep_until(until.unwrap_or_else(tokio::time::Instant::now)), if until.is_some() => {
                    Some(Event::TimeUp)
                }
                changed = self.tally.changed(), if watching => match changed {
                    Ok(()) => self.breach(&course),
                    // The output is gone with the run: nothing more to watch.
                    Err(_) => {
                        watching = false;
                        None
                    }
                },
                () = sleep_until(break_timer.unwrap_or_else(tokio::time::Instant::now)), if break_timer.is_some() => {
                    broke_at = breaks;
                    self.breach(&course)
                }
                press = recv(self.presses.as_mut()), if self.presses.is_some() => match press {
                    Some(action) if action == NEXT => Some(Event::TimeUp),
                    Some(_) => None,
                    None => {
                        self.presses = None;
                        None
                    }
                },
                _ = tick.tick() => None,
            };
            let Some(event) = event else { continue };
            self.event_said(&event, &course);
            for order in course.on(event, self.lead.now()) {
                match order {
                    Order::Down => {
                        if !self.plan.steps.by_hand() {
                            self.say(&format!(
                                "down: {}",
                                self.plan.steps.down_said(&self.primary)
                            ));
                        }
                        step = Some(self.step(Fault::Down));
                    }
                    Order::Up => {
                        if !self.plan.steps.by_hand() {
                            self.say(&format!("up: {}", self.plan.steps.up_said(&self.primary)));
                        }
                        step = Some(self.step(Fault::Up));
                    }
                    Order::Mark(label) => self.lead.mark(label).await,
                    Order::End => {
                        let ending = course.ended().cloned().unwrap_or(Ending::Completed);
                        self.show(&course);
                        self.say(&format!(
                            "over: {}",
                            status::ending_said(&ending, down.as_ref(), up.as_ref())
                        ));
                        self.lead.end();
                        return Conducted { down, up, ending };
                    }
                }
            }
        }
    }

    /// The first budget broken for good, as an event, unless one was already.
    fn breach(&self, course: &Course) -> Option<Event> {
        if course.breach().is_some() {
            return None;
        }
        let why = self
            .tally
            .borrow()
            .broken(&self.plan.budgets, self.lead.now())?;
        Some(Event::Breach(why))
    }

    /// The step that switches the primary to `fault` (down, or up): its command if it has
    /// one, then the simulated primary when its command (if any) succeeded.
    fn step(&self, fault: Fault) -> Step {
        let command = self.plan.steps.commands.as_ref().map(|c| match fault {
            Fault::Down => c.down.clone(),
            _ => c.up.clone(),
        });
        let (timeout, pass_key) = (self.plan.command_timeout, self.plan.pass_key);
        let stage = self.stage.clone();
        Box::pin(async move {
            let ran = match &command {
                Some(command) => Some(shell::run(command, timeout, pass_key).await),
                None => None,
            };
            let done = ran.as_ref().map_or(Done::Succeeded, |r| r.done);
            if let (Some(stage), Done::Succeeded) = (&stage, done) {
                stage.set(Side::Primary, fault);
            }
            Taken { done, command: ran }
        })
    }

    fn show(&self, course: &Course) {
        let tally = *self.tally.borrow();
        let view = View {
            course,
            tally: &tally,
            steps: &self.plan.steps,
            primary: &self.primary,
        };
        let now = status::status(&view, self.lead.now());
        self.status.send_if_modified(|shown| {
            let changed = *shown != now;
            *shown = now;
            changed
        });
    }

    /// Tells how a step ended.
    fn step_said(&self, course: &Course, taken: &Taken) {
        let phase = course.phase();
        let step = phase.as_str();
        match &taken.command {
            Some(ran) => self.say(&format!("{step}: {}", status::ran_said(ran))),
            None if self.plan.steps.by_hand() => {
                let what = match phase {
                    Phase::Down => "take it down",
                    _ => "bring it back",
                };
                self.say(&format!(
                    "NOW {what}: {} (the drill marks this moment \"drill: {step}\")",
                    self.primary
                ));
            }
            None => {}
        }
        if taken.done != Done::Succeeded || course.cut().is_some() {
            return;
        }
        let timings = &self.plan.timings;
        match phase {
            Phase::Down => self.say(&format!(
                "hold: {} down for {}",
                self.primary,
                humantime::format_duration(timings.hold)
            )),
            Phase::Up => self.say(&format!(
                "settle: watching for {}",
                humantime::format_duration(timings.settle)
            )),
            _ => {}
        }
    }

    /// Tells what stops the drill short, and what it does then.
    fn event_said(&self, event: &Event, course: &Course) {
        let restoring = matches!(course.phase(), Phase::Down | Phase::Hold | Phase::Up);
        let then = match restoring {
            true => format!(
                ": restoring (the up step runs whatever happens{})",
                match self.plan.steps.commands {
                    Some(_) => format!(
                        "; its command is cut after {}",
                        humantime::format_duration(self.plan.command_timeout)
                    ),
                    None => String::new(),
                }
            ),
            false => String::new(),
        };
        match event {
            Event::Stopped => self.say(&format!("interrupted{then}")),
            Event::WatchFailed => self.say(&format!("the watch failed{then}")),
            Event::Breach(why) => match self.plan.abort_on_breach {
                true => self.say(&format!("budget broken: {why}; aborting{then}")),
                false => self.say(&format!("budget broken: {why}")),
            },
            Event::TimeUp | Event::StepDone(_) => {}
        }
    }

    /// A line on stderr, timed, when no dashboard owns the terminal; the log either way.
    fn say(&self, line: &str) {
        tracing::info!("drill: {line}");
        if self.narrate {
            let time = chrono::Local::now().format("%H:%M:%S");
            eprintln!("[{time}] drill: {line}");
        }
    }
}

/// The step under way's end.
async fn next(step: &mut Option<Step>) -> Taken {
    match step {
        Some(step) => step.await,
        None => std::future::pending().await,
    }
}

async fn recv(presses: Option<&mut mpsc::UnboundedReceiver<ModeAction>>) -> Option<ModeAction> {
    presses?.recv().await
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;
    use std::sync::Arc;

    use super::*;
    use crate::clock::RunClock;
    use crate::modes::drill::course::Timings;
    use crate::modes::drill::plan::{Commands, Steps};
    use crate::modes::drill::tally::Observer;
    use crate::probe::TargetId;
    use crate::probe::{Lane, Probe, ProbeReport, Role, Stop};
    use crate::report::{Budgets, ReportFormat};
    use crate::run::Session;
    use crate::tests::{schedule, served};

    struct AlwaysPrimary;

    impl Probe for AlwaysPrimary {
        async fn probe(&self, _lane: Lane) -> ProbeReport {
            served(Role::Primary, "llama-fp8", "Hi.", Duration::from_millis(5))
        }
    }

    /// A drill whose commands touch `down.ran` and `up.ran` in `dir` (the down one after
    /// `down_takes`), on a session nobody drives: its conductor, the session (its owner, for
    /// the test), the drill's status as the dashboard would see it.
    fn drill(
        dir: &std::path::Path,
        down_takes: &str,
    ) -> (Conductor, Session, watch::Receiver<ModeStatus>) {
        let plan = DrillPlan {
            steps: Steps {
                commands: Some(Commands {
                    down: format!("sleep {down_takes}; touch {}/down.ran", dir.display()),
                    up: format!("touch {}/up.ran", dir.display()),
                }),
                simulated: false,
            },
            timings: Timings {
                baseline: Duration::ZERO,
                hold: Duration::from_secs(30),
                settle: Duration::from_secs(30),
            },
            command_timeout: Duration::from_secs(20),
            pass_key: false,
            force: false,
            abort_on_breach: false,
            budgets: Budgets::default(),
            format: ReportFormat::Text,
            report: None,
            record: PathBuf::from("unused.jsonl"),
            target: TargetId::default(),
            among: None,
        };
        // Probes an hour apart: the events nobody reads stay few.
        let (session, lead) = Session::led(
            vec![(Arc::new(AlwaysPrimary), schedule(Duration::from_secs(3600)))],
            RunClock::start(),
        );
        // No output tells the tally here: the conductor watches it no more once it is gone.
        let (observer, tally) = Observer::new(TargetId::default(), false);
        drop(observer);
        let (conductor, link) = Conductor::new(lead, plan, "llama-fp8", None, tally, true);
        (conductor, session, link.unwrap().status)
    }

    async fn phase_shown(status: &mut watch::Receiver<ModeStatus>, header: &str) {
        let shown = status.wait_for(|s| s.header.contains(header));
        tokio::time::timeout(Duration::from_secs(10), shown)
            .await
            .unwrap_or_else(|_| panic!("no {header:?} shown"))
            .unwrap();
    }

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("fw-conductor-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[tokio::test]
    async fn the_watch_failing_in_the_hold_brings_the_primary_back() {
        let dir = scratch("gone");
        let (conductor, session, mut status) = drill(&dir, "0");
        let conducting = tokio::spawn(conductor.run());
        phase_shown(&mut status, "DRILL hold").await;
        // The owner of the run is gone, as when its run fails.
        drop(session);
        let conducted = tokio::time::timeout(Duration::from_secs(10), conducting)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(conducted.ending, Ending::WatchFailed);
        assert_eq!(conducted.up.map(|up| up.done), Some(Done::Succeeded));
        assert!(dir.join("up.ran").exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn a_stop_during_the_down_command_waits_for_it_then_brings_the_primary_back() {
        let dir = scratch("stop");
        let (conductor, session, mut status) = drill(&dir, "0.3");
        let conducting = tokio::spawn(conductor.run());
        phase_shown(&mut status, "DRILL down: running").await;
        session.controls.stop(Stop::Graceful);
        phase_shown(&mut status, "DRILL restoring").await;
        let conducted = tokio::time::timeout(Duration::from_secs(10), conducting)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(conducted.ending, Ending::Interrupted);
        assert_eq!(conducted.down.map(|d| d.done), Some(Done::Succeeded));
        assert!(dir.join("down.ran").exists() && dir.join("up.ran").exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
