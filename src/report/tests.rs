//! The report's computation on hand-made steps: the fault and the other facts, the phases and
//! their counts, the durations, the budgets; and what each format makes of untrusted text.

use std::time::Duration;

use super::*;
use crate::output::TargetInfo;
use crate::probe::event::Failure;
use crate::probe::{Lane, ProbeEvent, ProbeReport, Route};
use crate::tests::{answered, direct_answer, run_info, sent, served, wall};

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

/// A run written by hand: requests and direct probes, each sent at a time and answered a
/// latency later, and markers; steps in time order, as a record gives them.
#[derive(Default)]
struct Script {
    steps: Vec<(Duration, Input)>,
    requests: u64,
    directs: u64,
}

impl Script {
    /// A request sent at `at` seconds: `P` served by the primary, `F` by the fallback, `E`
    /// failed (connection refused), answered `ms` later; fallback answers say LiteLLM
    /// attempted one fallback.
    fn request(&mut self, at: f64, ms: f64, what: char) -> &mut Self {
        self.requests += 1;
        let latency = Duration::from_secs_f64(ms / 1000.0);
        let report = match what {
            'P' => served(Role::Primary, "llama-fp8", "Hi.", latency),
            'F' => ProbeReport {
                route: Route {
                    attempted_fallbacks: Some(1),
                    ..Route::default()
                },
                ..served(Role::Fallback, "ollama/llama3", "Hello!", latency)
            },
            'E' => ProbeReport::failed(
                latency,
                Failure {
                    kind: ErrorKind::Connect,
                    message: "Connection refused".to_owned(),
                },
            ),
            other => panic!("no answer {other}"),
        };
        let seq = self.requests;
        self.push(secs(at), sent(Lane::Normal, seq, secs(at)));
        self.push(
            secs(at) + latency,
            answered(Lane::Normal, seq, secs(at), report),
        );
        self
    }

    /// Requests one a second from `from` to `to` seconds (both sent), 20 ms each.
    fn requests(&mut self, from: u32, to: u32, what: char) -> &mut Self {
        for at in from..=to {
            self.request(f64::from(at), 20.0, what);
        }
        self
    }

    /// Direct probes one a second from `from` to `to`: `up`, `failing` or `cooling`.
    fn directs(&mut self, from: u32, to: u32, what: &str) -> &mut Self {
        for at in from..=to {
            self.directs += 1;
            let at = secs(f64::from(at) + 0.001);
            let event = direct_answer(self.directs, at, what);
            let ProbeEvent::Answered(outcome) = &event else {
                unreachable!("an answer")
            };
            let answered_at = outcome.answered_at();
            self.push(at, sent(Lane::Direct, self.directs, at));
            self.push(answered_at, event);
        }
        self
    }

    fn mark(&mut self, at: f64, label: &str) -> &mut Self {
        let input = Input::Mark {
            at: secs(at),
            after_seq: None,
            label: Some(label.to_owned()),
        };
        self.steps.push((secs(at), input));
        self
    }

    fn push(&mut self, at: Duration, event: ProbeEvent) {
        self.steps.push((at, Input::Probe(event)));
    }

    fn report(&self, end: f64, budgets: Budgets) -> Report {
        compute(self.run(end), &budgets, None)
    }

    fn run(&self, end: f64) -> Run {
        let mut steps = self.steps.clone();
        // Stable: what happened at the same moment keeps the order it was written in.
        steps.sort_by_key(|(at, _)| *at);
        Run {
            file: "hand-made.jsonl".to_owned(),
            info: {
                let mut info = run_info(false);
                info.targets[0].lane.mode = if self.directs > 0 {
                    crate::probe::DirectMode::Probe
                } else {
                    crate::probe::DirectMode::Off
                };
                info
            },
            wall: wall(),
            steps,
            end: secs(end),
            damage: None,
            run: 1,
            runs: 1,
            others_moved: None,
        }
    }
}

/// The primary down from 10 s (two requests refused, then the fallback), back at 19.5 s; its
/// direct probes failing, then in cooldown until 21 s. One request a second, 20 ms each, but
/// the one sent at 9 s: answered 600 ms later, after the drill's marker, a request of the
/// baseline all the same.
fn drill(marked: bool) -> Script {
    let mut script = Script::default();
    script
        .requests(0, 8, 'P')
        .request(9.0, 600.0, 'P')
        .requests(10, 11, 'E')
        .requests(12, 21, 'F')
        .requests(22, 29, 'P')
        .directs(0, 9, "up")
        .directs(10, 11, "failing")
        .directs(12, 20, "cooling")
        .directs(21, 29, "up");
    if marked {
        script.mark(9.5, DRILL_DOWN).mark(19.5, DRILL_UP);
    }
    script
}

/// Each fact of a kind: its moment in seconds, and its request.
fn facts(report: &Report, key: &str) -> Vec<(f64, Option<u64>)> {
    report
        .timeline
        .iter()
        .filter(|f| f.what.key() == key)
        .map(|f| ((f.at.as_secs_f64() * 1000.0).round() / 1000.0, f.seq))
        .collect()
}

fn lapse(lapse: Option<Lapse>) -> Option<f64> {
    lapse.map(|l| (l.secs() * 1000.0).round() / 1000.0)
}

/// (phase, from, to, requests, primary, fallback, failed)
type PhaseRow = (Phase, f64, f64, u64, u64, u64, u64);

fn phases(report: &Report) -> Vec<PhaseRow> {
    let s = |d: Duration| (d.as_secs_f64() * 1000.0).round() / 1000.0;
    report
        .phases
        .iter()
        .map(|p| {
            let c = &p.counts;
            (
                p.phase,
                s(p.from),
                s(p.to),
                c.requests,
                c.primary,
                c.fallback,
                c.failed,
            )
        })
        .collect()
}

#[test]
fn a_drill_s_markers_cut_the_phases_and_time_the_facts() {
    let report = drill(true).report(30.0, Budgets::default());
    assert_eq!(report.fault, Some(secs(9.5)));
    assert_eq!(facts(&report, "fault"), [(9.5, None)]);
    // Request #11, sent at 10 s, refused.
    assert_eq!(facts(&report, "first_failed_or_slow"), [(10.02, Some(11))]);
    assert_eq!(facts(&report, "failover"), [(12.02, Some(13))]);
    assert_eq!(facts(&report, "up"), [(19.5, None)]);
    // Direct probe #22, sent at 21.001 s.
    assert_eq!(facts(&report, "primary_alone"), [(21.021, Some(22))]);
    assert_eq!(facts(&report, "recovery"), [(22.02, Some(23))]);
    // The primary's own changes after the fault: failing, cooldown, answering.
    let changes: Vec<_> = report
        .timeline
        .iter()
        .filter_map(|f| match &f.what {
            What::Primary { to, .. } => Some(*to),
            _ => None,
        })
        .collect();
    assert_eq!(
        changes,
        [
            PrimaryKind::Failing,
            PrimaryKind::CoolingDown,
            PrimaryKind::Up
        ]
    );
    let d = report.durations;
    assert_eq!(lapse(d.to_failover), Some(2.52));
    assert_eq!(lapse(d.on_fallback), Some(10.0));
    assert_eq!(lapse(d.to_recovery), Some(2.52));
    assert_eq!(lapse(d.cooldown_lag), Some(0.999));
    use Phase::*;
    assert_eq!(
        phases(&report),
        [
            (Baseline, 0.0, 9.5, 10, 10, 0, 0),
            (Down, 9.5, 19.5, 10, 0, 8, 2),
            // Sent at 20, 21 and 22 s: the last one before its own answer, the recovery.
            (Recovering, 19.5, 22.02, 3, 1, 2, 0),
            (Settled, 22.02, 30.0, 7, 7, 0, 0),
        ]
    );
    let whole = &report.whole;
    assert_eq!((whole.requests, whole.failed), (30, 2));
    assert_eq!(whole.by_error.get(&ErrorKind::Connect), Some(&2));
    // LiteLLM's own count: one attempted fallback per fallback answer; one cooldown.
    assert_eq!(report.litellm.attempted_fallbacks, Some(10));
    assert_eq!(report.phases[1].counts.litellm_fallbacks, Some(8));
    assert_eq!(report.litellm.cooldowns, Some(1));
    assert_eq!(report.verdict(), Verdict::NoBudgets);
}

#[test]
fn without_markers_the_fault_and_the_up_are_inferred() {
    let report = drill(false).report(30.0, Budgets::default());
    // The request that began the trouble: #11, sent at 10 s.
    assert_eq!(report.fault, Some(secs(10.0)));
    assert_eq!(facts(&report, "fault"), [(10.0, Some(11))]);
    let Some(What::Fault(FaultFound::Inferred(Bad::Failed { kind, .. }))) =
        report.timeline.first().map(|f| &f.what)
    else {
        panic!("{:?}", report.timeline.first())
    };
    assert_eq!(*kind, ErrorKind::Connect);
    // The primary's own state turned up: the up, and the primary alone, the same answer.
    assert_eq!(facts(&report, "up"), [(21.021, Some(22))]);
    assert_eq!(facts(&report, "primary_alone"), [(21.021, Some(22))]);
    assert_eq!(facts(&report, "recovery"), [(22.02, Some(23))]);
    let d = report.durations;
    assert_eq!(lapse(d.to_failover), Some(2.02));
    assert_eq!(lapse(d.cooldown_lag), Some(0.999));
    use Phase::*;
    assert_eq!(
        phases(&report),
        [
            (Baseline, 0.0, 10.0, 10, 10, 0, 0),
            (Down, 10.0, 21.021, 12, 0, 10, 2),
            (Recovering, 21.021, 22.02, 1, 1, 0, 0),
            (Settled, 22.02, 30.0, 7, 7, 0, 0),
        ]
    );
}

#[test]
fn a_hung_primary_s_slow_answers_start_the_fault_before_the_failover() {
    let mut script = Script::default();
    script.requests(0, 9, 'P');
    // Sent at 10 s, served by the fallback 30 s later: slow; the next ones too, and the
    // failover is shown by a quick fallback answer that arrives first.
    script.request(10.0, 30_000.0, 'F');
    script.request(11.0, 30_000.0, 'F');
    script.request(12.0, 50.0, 'F');
    script.requests(13, 50, 'P');
    let report = script.report(60.0, Budgets::default());
    assert_eq!(report.fault, Some(secs(10.0)));
    assert_eq!(facts(&report, "failover"), [(12.05, Some(13))]);
    // The first slow one, as it arrived: #11, 30 s after it was sent.
    assert_eq!(facts(&report, "first_failed_or_slow"), [(40.0, Some(11))]);
    let Some(What::FirstBad(Bad::Slow { latency, role })) = report
        .timeline
        .iter()
        .find(|f| f.what.key() == "first_failed_or_slow")
        .map(|f| &f.what)
    else {
        panic!("{:?}", report.timeline)
    };
    assert_eq!((*latency, *role), (secs(30.0), Role::Fallback));
    // Traffic back with the first good primary answer after the trouble; the late, slow
    // fallback answers change nothing.
    assert_eq!(facts(&report, "recovery"), [(13.02, Some(14))]);
    assert_eq!(lapse(report.durations.to_failover), Some(2.05));
    assert_eq!(report.whole.slow, 2);
}

#[test]
fn a_run_without_trouble_is_one_baseline_and_its_fault_budgets_are_not_measured() {
    let mut script = Script::default();
    script.requests(0, 19, 'P').mark(5.0, "coffee");
    let budgets = Budgets {
        max_failed: Some(0),
        max_failover: Some(secs(5.0)),
        max_recovery: Some(secs(5.0)),
        min_availability: Some(100.0),
        others_steady: false,
    };
    let report = script.report(20.0, budgets);
    assert_eq!(report.fault, None);
    assert_eq!(
        phases(&report),
        [(Phase::Baseline, 0.0, 20.0, 20, 20, 0, 0)]
    );
    assert_eq!(facts(&report, "marker"), [(5.0, None)]);
    let statuses: Vec<_> = report.budgets.iter().map(|j| j.status).collect();
    use Status::*;
    assert_eq!(statuses, [Pass, NotMeasured, NotMeasured, Pass]);
    assert_eq!(report.verdict(), Verdict::Held);
    assert_eq!(
        report.verdict_text(),
        "PASS: 2 of 4 budgets held, 2 not measured"
    );
    // Without direct probes LiteLLM's cooldowns are not recorded; without the header, its
    // fallbacks neither.
    assert_eq!(report.litellm.cooldowns, None);
    assert_eq!(report.litellm.attempted_fallbacks, None);
    assert_eq!(
        litellm_count(report.litellm.attempted_fallbacks),
        "not recorded"
    );
}

#[test]
fn budgets_pass_and_fail_on_their_figures() {
    let judge = |budgets: Budgets| {
        let report = drill(true).report(30.0, budgets);
        let statuses: Vec<_> = report
            .budgets
            .iter()
            .map(|j| {
                let value = j.value.map(|v| (v * 1000.0).round() / 1000.0);
                (j.budget.key(), j.status, value)
            })
            .collect();
        (statuses, report.verdict())
    };
    let within = Budgets {
        max_failed: Some(2),
        max_failover: Some(secs(2.52)),
        max_recovery: Some(secs(3.0)),
        min_availability: Some(93.0),
        others_steady: false,
    };
    let (statuses, verdict) = judge(within);
    use Status::*;
    assert_eq!(
        statuses,
        [
            ("max_failed", Pass, Some(2.0)),
            ("max_failover", Pass, Some(2.52)),
            ("max_recovery", Pass, Some(2.52)),
            ("min_availability", Pass, Some(93.333)),
        ]
    );
    assert_eq!(verdict, Verdict::Held);
    let beyond = Budgets {
        max_failed: Some(1),
        max_failover: Some(secs(2.5)),
        max_recovery: Some(secs(2.5)),
        min_availability: Some(94.0),
        others_steady: false,
    };
    let (statuses, verdict) = judge(beyond);
    assert!(statuses.iter().all(|(_, s, _)| *s == Fail), "{statuses:?}");
    assert_eq!(verdict, Verdict::Broken(4));
}

#[test]
fn a_fault_never_failed_over_or_recovered_breaks_its_budgets() {
    let mut script = Script::default();
    script
        .requests(0, 9, 'P')
        .mark(9.5, DRILL_DOWN)
        .requests(10, 19, 'E')
        .mark(15.0, DRILL_UP);
    let budgets = Budgets {
        max_failover: Some(secs(60.0)),
        max_recovery: Some(secs(60.0)),
        ..Budgets::default()
    };
    let report = script.report(20.0, budgets);
    let figures: Vec<_> = report
        .budgets
        .iter()
        .map(|j| (j.status, j.figure.as_str()))
        .collect();
    assert_eq!(
        figures,
        [
            (Status::Fail, "never: no fallback answer after the fault"),
            (Status::Fail, "never: no primary answer after the up"),
        ]
    );
    assert_eq!(report.verdict_text(), "FAIL: 2 of 2 budgets broken");
    // Down from the fault to the up, recovering after it: never settled.
    let names: Vec<_> = report.phases.iter().map(|p| p.phase).collect();
    assert_eq!(names, [Phase::Baseline, Phase::Down, Phase::Recovering]);
    assert_eq!(report.phases[1].counts.failed, 5);
    assert_eq!(report.phases[2].counts.failed, 5);
}

#[test]
fn the_figure_bins_a_long_run_and_keeps_a_mark_per_request_below_the_bound() {
    let mut short = Script::default();
    short.requests(0, 99, 'P');
    let report = short.report(100.0, Budgets::default());
    assert_eq!(report.chart.marks.as_ref().map(Vec::len), Some(100));
    let svg = svg::figure_svg(&report);
    assert_eq!(svg.matches("class=\"mark primary\"").count(), 100);
    assert!(!svg.contains("bins of"), "{svg}");

    let mut long = Script::default();
    for i in 0..(chart::MAX_MARKS as u32 + 500) {
        long.request(
            f64::from(i) * 0.5,
            10.0,
            if i % 97 == 0 { 'E' } else { 'P' },
        );
    }
    let report = long.report(
        f64::from(chart::MAX_MARKS as u32 + 500) * 0.5,
        Budgets::default(),
    );
    assert_eq!(report.chart.marks, None);
    let counted: u32 = report.chart.bins.iter().map(|b| b.total()).sum();
    assert_eq!(u64::from(counted), report.whole.requests);
    let svg = svg::figure_svg(&report);
    assert_eq!(svg.matches("class=\"mark ").count(), 0);
    assert!(svg.contains("2500 requests drawn in 400 bins"), "{svg}");
    // Bounded: a bar per bin and kind at most.
    assert!(svg.matches("<rect class=\"bin ").count() <= 3 * chart::BINS);
}

#[test]
fn untrusted_text_is_escaped_in_every_format() {
    let nasty = "<script>alert(1)</script> | *x* [l](http://e) & \"q\" 'a' `c`";
    let mut script = drill(true);
    script.mark(3.0, nasty);
    let mut report = script.report(30.0, Budgets::default());
    report.setup.info.targets[0].primary = nasty.to_owned();
    let html = html::render(&report);
    assert!(!html.contains("<script"), "raw markup in the HTML");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!html.contains("'a'") && !html.contains("\"q\""));
    let markdown = markdown::render(&report);
    assert!(markdown.contains(r"\<script\>alert(1)\</script\> \| \*x\* \[l\](http://e) \& "));
    // Every table row keeps its number of cells: no `|` from the record splits one.
    for table in markdown.split("\n\n").filter(|b| b.starts_with('|')) {
        let cells = |line: &str| line.replace(r"\|", "").matches('|').count();
        let first = cells(table.lines().next().unwrap());
        assert!(table.lines().all(|l| cells(l) == first), "{table}");
    }
    let junit = junit::render(&report);
    assert!(!junit.contains("<script"));
    let json: serde_json::Value = serde_json::from_str(&json::render(&report)).unwrap();
    assert_eq!(json["setup"]["primary"], nasty);
    let marker = json["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["event"] == "marker")
        .unwrap();
    assert_eq!(marker["label"], nasty);
}

#[test]
fn a_drill_s_setup_is_shown_and_its_texts_cleaned() {
    let setup: DrillSetup = serde_json::from_str(
        r#"{"router": "fallbacks llama-fp8 → llama3; cooldown_time 10s",
            "commands": [{"step": "down", "command": "oc scale --replicas=0",
                          "exit_status": 0, "output": "scaled\u001b[31m red"}],
            "ended": "interrupted\u001b[2J: the up command ran"}"#,
    )
    .unwrap();
    let setup = setup.cleaned();
    assert_eq!(setup.commands[0].output, "scaled red");
    assert_eq!(
        setup.ended.as_deref(),
        Some("interrupted: the up command ran")
    );
    let mut report = drill(true).report(30.0, Budgets::default());
    report.setup.drill = Some(setup);
    let text = text::render(&report);
    let row = |name: &str, value: &str| {
        text.lines()
            .any(|l| l.trim_start().starts_with(name) && l.ends_with(value))
    };
    assert!(
        row(
            "router (drill)",
            " fallbacks llama-fp8 → llama3; cooldown_time 10s"
        ),
        "{text}"
    );
    assert!(
        row("drill down", " oc scale --replicas=0 → exit 0: scaled red"),
        "{text}"
    );
    // How the drill ended is said under the verdict and in the setup.
    assert!(
        text.lines().nth(3) == Some("drill: interrupted: the up command ran"),
        "{text}"
    );
    assert!(
        row("drill ended", " interrupted: the up command ran"),
        "{text}"
    );
    let json: serde_json::Value = serde_json::from_str(&json::render(&report)).unwrap();
    assert_eq!(json["setup"]["drill"]["commands"][0]["exit_status"], 0);
    assert_eq!(
        json["setup"]["drill"]["ended"],
        "interrupted: the up command ran"
    );
    let unknown = serde_json::from_str::<DrillSetup>(r#"{"routr": "x"}"#);
    assert!(unknown.is_err(), "a misspelt field is refused");
}

/// A record of two targets reports on one: by default the first, as if watched alone; the
/// other's steps do not reach it.
#[test]
fn a_record_of_two_targets_reports_on_the_one_asked() {
    let alone = drill(true).run(40.0);
    let mut two = alone.clone();
    let mut steady = Script::default();
    steady.requests(0, 39, 'E');
    let mut other: Vec<(Duration, Input)> = steady.run(40.0).steps;
    for (_, input) in &mut other {
        if let Input::Probe(event) = input {
            *event = event.clone().retargeted(crate::probe::TargetId(1));
        }
    }
    two.steps.extend(other);
    two.steps.sort_by_key(|(at, _)| *at);
    let second = TargetInfo {
        name: "failing".into(),
        ..two.info.targets[0].clone()
    };
    two.info.targets.push(second);
    let text = |run: Run| render(&compute(run, &Budgets::default(), None), ReportFormat::Text);
    assert_eq!(
        text(two.clone().of_target(None).unwrap()),
        text(alone.clone())
    );
    assert_eq!(
        text(two.clone().of_target(Some("llama-fp8")).unwrap()),
        text(alone)
    );
    let failing = two.clone().of_target(Some("failing")).unwrap();
    assert_eq!(failing.info.targets.len(), 1);
    assert!(text(failing).contains("failed"));
    let missing = two.of_target(Some("nope")).unwrap_err();
    assert!(
        missing.contains("no target nope (it has: llama-fp8, failing)"),
        "{missing}"
    );
}

/// Of a record of several targets, the others' changes of who serves them are a budget of
/// their own (a drill's `--only-target`): none is a pass, any is a failure; a record of one
/// target cannot measure it.
#[test]
fn the_other_targets_changes_are_a_budget() {
    let alone = drill(true).run(40.0);
    let mut mover = Script::default();
    mover.requests(0, 9, 'P').requests(10, 20, 'F');
    let mut two = alone.clone();
    for (at, mut input) in mover.run(40.0).steps {
        if let Input::Probe(event) = input {
            input = Input::Probe(event.retargeted(crate::probe::TargetId(1)));
        }
        two.steps.push((at, input));
    }
    two.steps.sort_by_key(|(at, _)| *at);
    two.info.targets.push(TargetInfo {
        name: "mover".into(),
        ..two.info.targets[0].clone()
    });
    let steady = Budgets {
        others_steady: true,
        ..Budgets::default()
    };
    let judged = |run: Run| {
        let report = compute(run, &steady, None);
        let judged = report.budgets[0].clone();
        (judged.figure, judged.status)
    };
    assert_eq!(
        judged(two.clone().of_target(None).unwrap()),
        ("1 transition".to_owned(), Status::Fail)
    );
    // Reported on the mover, the other is the drilled one: its outage, its return on the
    // fallback and its recovery are three changes.
    assert_eq!(
        judged(two.clone().of_target(Some("mover")).unwrap()),
        ("3 transitions".to_owned(), Status::Fail)
    );
    assert_eq!(judged(alone.clone()).1, Status::NotMeasured);
    // Without the mover's failover, a pass.
    let mut quiet = two.clone();
    quiet.steps.retain(|(_, input)| match input {
        Input::Probe(event) => event.target() == crate::probe::TargetId(0),
        _ => true,
    });
    assert_eq!(
        judged(quiet.of_target(None).unwrap()),
        ("0 transitions".to_owned(), Status::Pass)
    );
}
