//! `failover-watch report FILE`: reads the record (and a drill's setup), has the report
//! computed, writes it in the format asked. Exit status 0 when every budget held (or none was
//! given), 1 when one broke, 2 when the record or the drill's setup cannot be read (a damaged
//! record's report is written first, up to where it was cut) or the report cannot be written.

use std::io::{Read, Write};
use std::path::Path;

use color_eyre::eyre::{Result, WrapErr};

use crate::report::{self, DrillSetup, ReportArgs, Run, Verdict};
use crate::sys::exit::{Ended, usage};

/// The largest drill setup read: commands and their output, cut short by the drill.
const MAX_DRILL_BYTES: u64 = 1 << 20;

pub fn report(args: ReportArgs) -> Result<Ended> {
    let wanted = args.run.map(|n| usize::try_from(n).unwrap_or(usize::MAX));
    let record = super::replay::read(&args.file, wanted)?;
    let drill = args.drill.as_deref().map(read_drill).transpose()?;
    let damage = record.damage.clone();
    let targets = record.info.targets.len();
    let run = run_of(args.file.display().to_string(), record)
        .of_target(args.target.as_deref())
        .map_err(usage)?;
    if targets > 1 && args.target.is_none() {
        eprintln!(
            "failover-watch report: the record watched {targets} targets: this is {}'s report \
             (--target NAME for another's)",
            crate::text::sanitize::clean(&run.info.first().name, 100)
        );
    }
    let computed = report::compute(run, &args.budgets.budgets(), drill);
    let document = report::render(&computed, args.format);
    match &args.out {
        Some(path) => std::fs::write(path, &document)
            .map_err(|error| usage(format!("cannot write {}: {error}", path.display())))?,
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout
                .write_all(document.as_bytes())
                .and_then(|()| stdout.flush())
                .wrap_err("cannot write to stdout")?;
        }
    }
    if let Some(damage) = damage {
        return Err(usage(damage));
    }
    Ok(match computed.verdict() {
        Verdict::Broken(_) => Ended::Failed,
        Verdict::NoBudgets | Verdict::Held => Ended::Clean,
    })
}

/// The run `record`, read from `file` (as the user named it), holds: what a report is of.
pub(super) fn run_of(file: String, record: crate::modes::replay::Record) -> Run {
    Run {
        file,
        info: record.info,
        wall: record.wall,
        steps: record.steps,
        end: record.end,
        damage: record.damage,
        run: record.run,
        runs: record.runs,
        others_moved: None,
    }
}

/// A drill's setup from a JSON file (docs/report.md), its texts cleaned.
fn read_drill(path: &Path) -> Result<DrillSetup> {
    let shown = path.display();
    let file = std::fs::File::open(path)
        .map_err(|error| usage(format!("cannot read the drill's setup {shown}: {error}")))?;
    let mut text = String::new();
    file.take(MAX_DRILL_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(|error| usage(format!("cannot read the drill's setup {shown}: {error}")))?;
    if text.len() as u64 > MAX_DRILL_BYTES {
        return Err(usage(format!(
            "the drill's setup {shown} is over {} KiB",
            MAX_DRILL_BYTES / 1024
        )));
    }
    let setup: DrillSetup = serde_json::from_str(&text)
        .map_err(|error| usage(format!("the drill's setup {shown} is not one: {error}")))?;
    Ok(setup.cleaned())
}
