//! What the drill says of itself: its status lines on the dashboard (the phase and the time
//! left, what the watch has seen of the failover and the recovery, a budget broken), the
//! lines it tells on stderr without the dashboard, and how it ended, for the report. Pure.

use std::time::Duration;

use super::course::{Course, Ending, Phase};
use super::plan::Steps;
use super::shell::{Ran, Taken};
use super::tally::Tally;
use crate::report::Lapse;
use crate::text::format;
use crate::ui::ModeStatus;

/// What the status lines are made of.
pub struct View<'a> {
    pub course: &'a Course,
    pub tally: &'a Tally,
    pub steps: &'a Steps,
    /// The primary group, cleaned.
    pub primary: &'a str,
}

/// The time left until `until`, in whole seconds rounded up: `21s`, `1m05s`.
fn left(until: Duration, now: Duration) -> String {
    let remaining = until.saturating_sub(now) + Duration::from_nanos(999_999_999);
    format::span_compact(Duration::from_secs(remaining.as_secs()))
}

fn lapse(from: Option<Duration>, to: Option<Duration>) -> Option<String> {
    Some(
        Lapse {
            from: from?,
            to: to?,
        }
        .text(),
    )
}

/// The drill's status lines at `now`: the header's (in place of LIVE), the banner's, the
/// footer's.
pub fn status(view: &View, now: Duration) -> ModeStatus {
    let (course, tally, primary) = (view.course, view.tally, view.primary);
    let by_hand = view.steps.by_hand();
    let time_left = course.until().map(|until| left(until, now));
    let next = time_left.clone().unwrap_or_default();
    let restoring = course.cut().is_some();
    let (header, story) = match course.phase() {
        Phase::Baseline => (
            format!("DRILL baseline · down in {next}"),
            match by_hand {
                true => format!("take {primary} down by hand in {next}: the drill marks it"),
                false => format!("baseline · {primary} goes down in {next}"),
            },
        ),
        Phase::Down if restoring => (
            "DRILL restoring".to_owned(),
            format!("restoring: the down step ends first, then {primary} is brought back"),
        ),
        Phase::Down => (
            "DRILL down: running".to_owned(),
            format!("taking {primary} down: {}", view.steps.down_said(primary)),
        ),
        Phase::Hold => {
            let failover = match lapse(tally.down_at, tally.failover_at) {
                Some(after) => format!("failed over after {after}"),
                None => "no fallback answer yet".to_owned(),
            };
            let down = match by_hand {
                true => format!("take {primary} down now, by hand"),
                false => format!("{primary} down"),
            };
            (
                format!("DRILL hold · up in {next}"),
                format!("{down} · {failover} · back up in {next}"),
            )
        }
        Phase::Up if restoring => (
            "DRILL restoring".to_owned(),
            format!(
                "restoring: bringing {primary} back ({})",
                view.steps.up_said(primary)
            ),
        ),
        Phase::Up => (
            "DRILL up: running".to_owned(),
            format!("bringing {primary} back: {}", view.steps.up_said(primary)),
        ),
        Phase::Settle => {
            let recovery = match lapse(tally.up_at, tally.recovery_at) {
                Some(after) => format!("back on the primary after {after}"),
                None => "not back on the primary yet".to_owned(),
            };
            let up = match by_hand {
                true => format!("bring {primary} back now, by hand"),
                false => format!("{primary} back up"),
            };
            (
                format!("DRILL settle · ends in {next}"),
                format!("{up} · {recovery} · ends in {next}"),
            )
        }
        Phase::Over => ("DRILL over".to_owned(), "over".to_owned()),
    };
    let mut banner = format!("drill: {story}");
    if let Some(breach) = course.breach() {
        banner.push_str(&format!(" · budget broken: {breach}"));
    }
    let footer = match time_left {
        Some(left) => format!("drill {} {left}", course.phase().as_str()),
        None => format!("drill {}", course.phase().as_str()),
    };
    ModeStatus {
        header: format!(" {header} "),
        banner,
        footer,
        paused: false,
    }
}

/// A step's command as it ended, in a line: `exit 0 after 1.20 s: deployment scaled`.
pub fn ran_said(ran: &Ran) -> String {
    let output = match ran.output.is_empty() {
        true => String::new(),
        false => format!(": {}", format::fit_words(&ran.output, 200)),
    };
    format!("{} after {}{output}", ran.said(), format::latency(ran.took))
}

/// How the drill ended, in the report's words; `down` and `up` are its steps, if they were
/// taken.
pub fn ending_said(ending: &Ending, down: Option<&Taken>, up: Option<&Taken>) -> String {
    let restored = match up.map(|up| &up.command) {
        Some(Some(ran)) => format!("the up command ran ({})", ran.said()),
        Some(None) => "the primary was brought back".to_owned(),
        None => "nothing was taken down".to_owned(),
    };
    match ending {
        Ending::Completed => "completed".to_owned(),
        Ending::Aborted(why) => {
            format!("aborted on a broken budget (--abort-on-breach: {why}); {restored}")
        }
        Ending::Interrupted => format!("interrupted (Ctrl-C, a signal or q); {restored}"),
        Ending::DownFailed => {
            let how = match down.and_then(|down| down.command.as_ref()) {
                Some(ran) => format!("the down command failed ({})", ran.said()),
                None => "the down step failed".to_owned(),
            };
            format!("{how}: the drill could not run; {restored}")
        }
        Ending::WatchFailed => format!("the watch failed under the drill; {restored}"),
        Ending::RestoreFailed => {
            let how = match up.and_then(|up| up.command.as_ref()) {
                Some(ran) => format!("the up command failed ({})", ran.said()),
                None => "the up step failed".to_owned(),
            };
            format!("THE RESTORE FAILED: {how}: the primary may be left down")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modes::drill::course::{Done, Event, Timings};
    use crate::modes::drill::plan::Commands;

    const S: fn(u64) -> Duration = Duration::from_secs;

    fn course() -> Course {
        let timings = Timings {
            baseline: S(10),
            hold: S(30),
            settle: S(20),
        };
        let mut course = Course::new(timings, false);
        course.start(S(0));
        course
    }

    fn lines(course: &Course, tally: &Tally, steps: &Steps, now: Duration) -> [String; 3] {
        let view = View {
            course,
            tally,
            steps,
            primary: "llama-fp8",
        };
        let status = status(&view, now);
        [status.header, status.banner, status.footer]
    }

    #[test]
    fn the_status_says_the_phase_the_time_left_and_what_the_watch_saw() {
        let commands = Steps {
            commands: Some(Commands {
                down: "scale 0".to_owned(),
                up: "scale 1".to_owned(),
            }),
            simulated: false,
        };
        let mut c = course();
        let mut tally = Tally::default();
        // The time left is rounded up to whole seconds.
        assert_eq!(
            lines(&c, &tally, &commands, Duration::from_millis(500)),
            [
                " DRILL baseline · down in 10s ",
                "drill: baseline · llama-fp8 goes down in 10s",
                "drill baseline 10s",
            ]
        );
        c.on(Event::TimeUp, S(10));
        assert_eq!(
            lines(&c, &tally, &commands, S(10))[..2],
            [
                " DRILL down: running ",
                "drill: taking llama-fp8 down: sh -c 'scale 0'"
            ]
        );
        c.on(Event::StepDone(Done::Succeeded), S(11));
        tally.down_at = Some(S(11));
        assert_eq!(
            lines(&c, &tally, &commands, S(11))[1],
            "drill: llama-fp8 down · no fallback answer yet · back up in 30s"
        );
        tally.failover_at = Some(Duration::from_millis(11_800));
        c.on(Event::Breach("failed requests ≤ 0: 1".to_owned()), S(13));
        assert_eq!(
            lines(&c, &tally, &commands, S(13))[1],
            "drill: llama-fp8 down · failed over after 800 ms · back up in 28s · budget broken: \
             failed requests ≤ 0: 1"
        );
        c.on(Event::Stopped, S(14));
        assert_eq!(
            lines(&c, &tally, &commands, S(14))[..2],
            [
                " DRILL restoring ",
                "drill: restoring: bringing llama-fp8 back (sh -c 'scale 1') · budget broken: \
                 failed requests ≤ 0: 1"
            ]
        );
    }

    #[test]
    fn a_person_is_told_what_to_do_and_when() {
        let by_hand = Steps {
            commands: None,
            simulated: false,
        };
        let mut c = course();
        let tally = Tally::default();
        assert_eq!(
            lines(&c, &tally, &by_hand, S(3))[1],
            "drill: take llama-fp8 down by hand in 7s: the drill marks it"
        );
        c.on(Event::TimeUp, S(10));
        c.on(Event::StepDone(Done::Succeeded), S(10));
        assert_eq!(
            lines(&c, &tally, &by_hand, S(10))[1],
            "drill: take llama-fp8 down now, by hand · no fallback answer yet · back up in 30s"
        );
        c.on(Event::TimeUp, S(40));
        c.on(Event::StepDone(Done::Succeeded), S(40));
        assert_eq!(
            lines(&c, &tally, &by_hand, S(45))[1],
            "drill: bring llama-fp8 back now, by hand · not back on the primary yet · ends in 15s"
        );
    }
}
