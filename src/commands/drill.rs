//! `failover-watch drill` and `failover-watch demo drill`: the drill's glue. The options
//! resolved (the watcher's own, and the drill's), `check` before the fault, the run led by the
//! drill's conductor, then the report of its record with what the drill knows (the router's
//! settings, its commands and how they ended), and the exit status said in one line.

use std::io::Write;
use std::sync::Arc;

use chrono::Local;
use color_eyre::eyre::{Result, WrapErr};

use super::check;
use super::{demo_plan, demo_settings, demo_setup, learn_routers, probers};
use crate::cli::config::{Surroundings, Target};
use crate::cli::{DemoDrillCommand, DrillArgs, DrillCommand, OutputFormat, ProbeArgs};
use crate::clock::{RunClock, SessionClock};
use crate::modes::demo::stage::Stage;
use crate::modes::demo::{self, DemoArgs};
use crate::modes::drill::{
    Conducted, Conductor, DrillPlan, Ending, Observer, Steps, Taken, ending_said,
};
use crate::probe::{Probe, TargetId};
use crate::report::{self, DrillCommand as Command, DrillSetup, Report, Verdict};
use crate::run::plan::{Layer, Plan};
use crate::run::{self, Session};
use crate::sys::exit::{Ended, usage};
use crate::sys::secret::{KEY_ENV_VARS, blank_out};
use crate::text::sanitize::clean;

/// A drill against the proxy `args` name.
pub async fn drill(args: DrillCommand) -> Result<Ended> {
    refuse_run_ends(&args.probe)?;
    let specs = super::named_targets(&args.proxy, &args.probe.target, &args.targets).await?;
    let mut plan = Plan::of_specs(
        &args.probe,
        specs,
        &Layer::default(),
        false,
        Surroundings::detect(),
    )?;
    let drill = resolve(&args.drill, &mut plan, false)?;
    if args.drill.dry_run {
        return dry_run(&drill, &plan);
    }
    let router = preflight(&plan, &drill).await?;
    let probers = probers(&plan)?;
    learn_routers(&mut plan, &probers).await;
    lead(plan, probers, drill, router, None).await
}

/// A drill rehearsed on the demo's simulated gateway: its steps switch the simulated primary.
pub async fn rehearse(args: DemoDrillCommand) -> Result<Ended> {
    refuse_run_ends(&args.probe)?;
    let surroundings = Surroundings::detect();
    let settings = demo_settings(&args.gateway, 1)?;
    let demo_args = DemoArgs {
        gateway: args.gateway.clone(),
        groups: 1,
        script: None,
        repeat: false,
    };
    let setup = demo_setup(&demo_args, &args.probe, settings, surroundings, true)?;
    let running = demo::Running::start(&setup).await?;
    let mut plan = demo_plan(&args.probe, &setup, &running.url(), surroundings)?;
    let drill = resolve(&args.drill, &mut plan, true)?;
    if args.drill.dry_run {
        return dry_run(&drill, &plan);
    }
    let stage = running.rehearse(&setup);
    let router = preflight(&plan, &drill).await?;
    let probers = probers(&plan)?;
    learn_routers(&mut plan, &probers).await;
    let ended = lead(plan, probers, drill, router, Some(stage)).await;
    drop(running);
    ended
}

/// The drill `args` ask for over `plan`, which records where the drill does.
fn resolve(args: &DrillArgs, plan: &mut Plan, simulated: bool) -> Result<DrillPlan> {
    let names = plan.show.info.names();
    let listed = || clean(&names.join(", "), 300);
    let index = match (&args.only_target, names.len()) {
        (None, 1) => 0,
        (None, _) => {
            return Err(usage(format!(
                "a drill of several targets takes one down: give --only-target NAME (one of: {})",
                listed()
            )));
        }
        (Some(name), _) => names.iter().position(|n| n == name).ok_or_else(|| {
            usage(format!(
                "--only-target {}: no such target (the targets: {})",
                clean(name, 100),
                listed()
            ))
        })?,
    };
    let record = plan.show.record.as_deref();
    let primary = &plan.targets[index].probe.primary;
    let mut drill =
        DrillPlan::new(args, record, primary, simulated, Local::now()).map_err(usage)?;
    drill.target = TargetId(index as u16);
    if names.len() > 1 {
        // The others must not move: a budget the drill always has among several targets.
        drill.among = Some(names[index].to_owned());
        drill.budgets.others_steady = true;
    }
    plan.show.record = Some(drill.record.clone());
    // A command may print a key the environment holds: blanked out of what it printed.
    if drill.pass_key {
        for name in KEY_ENV_VARS {
            if let Some(value) = std::env::var_os(name) {
                blank_out(&value.to_string_lossy());
            }
        }
    }
    Ok(drill)
}

/// The run's own ends are the drill's: refused when given.
fn refuse_run_ends(probe: &ProbeArgs) -> Result<()> {
    if probe.count.is_some() || probe.duration.is_some() {
        return Err(usage(
            "a drill ends when its steps are done: --count and --duration are not for it \
             (--baseline, --hold and --settle time it)",
        ));
    }
    if probe.fail_on_error {
        return Err(usage(
            "a drill is judged by its budgets: instead of --fail-on-error, give --max-failed 0",
        ));
    }
    Ok(())
}

fn dry_run(drill: &DrillPlan, plan: &Plan) -> Result<Ended> {
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(drill.describe(&plan.show.info).as_bytes())
        .and_then(|()| stdout.flush())
        .wrap_err("cannot write to stdout")?;
    Ok(Ended::Clean)
}

/// `check` of the proxy before the fault, its lines on stderr: a problem stops the drill
/// unless forced; one it cannot check, always. The router's settings as the proxy stated
/// them, for the report.
async fn preflight(plan: &Plan, drill: &DrillPlan) -> Result<Option<String>> {
    let force = drill.force;
    let info = plan.show.info.target(drill.target);
    let url = clean(&info.url, 300);
    eprintln!("drill: checking {url} first");
    let target = Target {
        probe: plan.targets[drill.target.index()].probe.clone(),
        fallback: info.fallback.clone(),
    };
    let checked = check::preflight(&target).await?;
    if !checked.checked {
        return Err(usage(format!(
            "the drill did not start: {url} could not be checked"
        )));
    }
    if !checked.ok {
        let problems = checked
            .checks
            .iter()
            .filter(|c| c.status == check::Status::Problem)
            .count();
        let said = match problems {
            1 => "1 problem".to_owned(),
            n => format!("{n} problems"),
        };
        if !force {
            return Err(usage(format!(
                "the drill did not start: check found {said} (above); fix it, or give \
                 --force to drill anyway"
            )));
        }
        eprintln!("drill: check found {said}: drilling all the same (--force)");
    }
    Ok(checked.router)
}

/// Leads the run of `plan` through the drill, then reports on its record.
async fn lead<P: Probe>(
    plan: Plan,
    probers: Vec<Arc<P>>,
    drill: DrillPlan,
    router: Option<String>,
    stage: Option<Stage>,
) -> Result<Ended> {
    eprintln!("drill: recording to {}", drill.record.display());
    let clock = RunClock::start();
    let mut listed = run::outputs(&plan.show, &SessionClock::Run(clock))?;
    let (observer, tally) = Observer::new(drill.target, drill.among.is_some());
    listed.add(Box::new(observer));
    let (session, lead) = Session::led(plan.schedules(probers), clock);
    let dashboard = plan.show.output == OutputFormat::Tui;
    let primary = plan.targets[drill.target.index()].probe.primary.clone();
    let (conductor, link) = Conductor::new(lead, drill.clone(), &primary, stage, tally, dashboard);
    let conducting = tokio::spawn(conductor.run());
    let watched = run::drive_live(&plan.show, session, listed, link).await;
    // The conductor brings the primary back before it ends, whatever ended the watch.
    let conducted = conducting
        .await
        .wrap_err("the drill's conductor stopped abnormally: the up command may not have run")?;
    let report = report_of(&drill, router, &conducted);
    let written = report.as_ref().ok().map(|report| write(report, &drill));
    let (ended, line) = outcome(&conducted, &watched, report.as_ref(), written);
    eprintln!("failover-watch: {line} (exit {})", ended.code());
    Ok(ended)
}

/// The report of the drill's record, with what the drill knows; or why there is none.
fn report_of(
    drill: &DrillPlan,
    router: Option<String>,
    conducted: &Conducted,
) -> Result<Report, String> {
    let record = super::replay::read(&drill.record, None).map_err(|e| format!("{e:#}"))?;
    let commands = [("down", &conducted.down), ("up", &conducted.up)]
        .into_iter()
        .filter_map(|(step, taken)| command(step, taken.as_ref()?, &drill.steps))
        .collect();
    let setup = DrillSetup {
        router,
        commands,
        ended: Some(said(conducted)),
    };
    let run = super::report::run_of(drill.record.display().to_string(), record)
        .of_target(drill.among.as_deref())?;
    Ok(report::compute(run, &drill.budgets, Some(setup)))
}

/// A step's command as the report shows it, if the step had one.
fn command(step: &str, taken: &Taken, steps: &Steps) -> Option<Command> {
    let ran = taken.command.as_ref()?;
    let commands = steps.commands.as_ref()?;
    let text = match step {
        "down" => &commands.down,
        _ => &commands.up,
    };
    let output = match &ran.note {
        Some(note) => format!("[{note}] {}", ran.output).trim_end().to_owned(),
        None => ran.output.clone(),
    };
    Some(Command {
        step: step.to_owned(),
        command: clean(text, 500),
        exit_status: ran.exit_status,
        output,
    })
}

/// Writes the report on stdout, and to `--report`; why it could not be, if it could not.
fn write(report: &Report, drill: &DrillPlan) -> Result<(), String> {
    let document = report::render(report, drill.format);
    let mut stdout = std::io::stdout().lock();
    let on_stdout = stdout
        .write_all(document.as_bytes())
        .and_then(|()| stdout.flush())
        .map_err(|error| format!("cannot write the report to stdout: {error}"));
    drop(stdout);
    let in_file = match &drill.report {
        Some(path) => std::fs::write(path, &document)
            .map_err(|error| format!("cannot write the report to {}: {error}", path.display())),
        None => Ok(()),
    };
    on_stdout.and(in_file)
}

/// How the drill ended, in words.
fn said(conducted: &Conducted) -> String {
    ending_said(
        &conducted.ending,
        conducted.down.as_ref(),
        conducted.up.as_ref(),
    )
}

/// The exit status and its line: the restore failed (3) before an interrupt (130) before a
/// drill that could not run (2) before a budget broken (1).
fn outcome(
    conducted: &Conducted,
    watched: &Result<Ended>,
    report: Result<&Report, &String>,
    written: Option<Result<(), String>>,
) -> (Ended, String) {
    let said = said(conducted);
    match &conducted.ending {
        Ending::RestoreFailed => return (Ended::RestoreFailed, said),
        Ending::Interrupted => return (Ended::Interrupted, format!("drill {said}")),
        Ending::DownFailed => return (Ended::NotRun, format!("drill: {said}")),
        Ending::WatchFailed | Ending::Completed | Ending::Aborted(_) => {}
    }
    if let Err(error) = watched {
        return (
            Ended::NotRun,
            format!("drill could not run: the watch failed: {error:#}; {said}"),
        );
    }
    if conducted.ending == Ending::WatchFailed {
        return (Ended::NotRun, format!("drill could not run: {said}"));
    }
    let report = match report {
        Ok(report) => report,
        Err(why) => return (Ended::NotRun, format!("drill {said}, but no report: {why}")),
    };
    if let Some(Err(why)) = written {
        return (Ended::NotRun, format!("drill {said}, but {why}"));
    }
    if let Ending::Aborted(why) = &conducted.ending {
        return (
            Ended::Failed,
            format!("drill failed: budget broken: {why}; aborted"),
        );
    }
    match report.verdict() {
        Verdict::Broken(_) => (
            Ended::Failed,
            format!("drill failed: {}", report.verdict_words()),
        ),
        Verdict::Held => (
            Ended::Clean,
            format!("drill passed: {}", report.verdict_words()),
        ),
        Verdict::NoBudgets => (Ended::Clean, "drill completed: no budgets given".to_owned()),
    }
}
