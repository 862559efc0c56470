//! `failover-watch replay FILE`: a record played back through the same core, on the same
//! dashboard or outputs, as the run was seen live.

use std::path::Path;

use color_eyre::eyre::Result;
use tokio::sync::mpsc;

use crate::cli::config::Surroundings;
use crate::cli::{OutputFormat, ReplayArgs};
use crate::modes::replay::{Pace, Record, play, record};
use crate::run;
use crate::run::plan::Show;
use crate::sys::exit::{Ended, usage};

/// Plays the record `args` name in the output it asks for.
pub async fn replay(args: ReplayArgs) -> Result<Ended> {
    let surroundings = Surroundings::detect();
    let output = surroundings.checked_output(args.output, &args.log_file)?;
    if args.instant && output == OutputFormat::Tui {
        return Err(usage(
            "--instant is for --output text or jsonl: the dashboard plays at a pace",
        ));
    }
    let run = args.run.map(|n| usize::try_from(n).unwrap_or(usize::MAX));
    let record = read(&args.file, run)?;
    if record.runs > 1 && args.run.is_none() {
        eprintln!(
            "failover-watch: {} holds {} runs: playing the last (run {}); --run N plays another",
            args.file.display(),
            record.runs,
            record.run
        );
    }
    let damage = record.damage.clone();
    let show = Show {
        info: record.info.clone(),
        output,
        color: surroundings.color(),
        theme: surroundings.theme(args.theme),
        record: None,
        metrics_listen: None,
        fail_on_error: false,
    };
    let pace = Pace {
        speed: args.speed,
        instant: args.instant,
        hold_at_end: output == OutputFormat::Tui,
    };
    let (session, mode) = play(record, pace);
    let mode = (output == OutputFormat::Tui).then_some(mode);
    let listed = run::outputs(&show, &session.clock)?;
    // No one marks a replay from outside: the markers are the record's.
    let (_, marks) = mpsc::channel(1);
    let ended = run::drive(&show, session, listed, mode, Ok(marks)).await?;
    match damage {
        // Played up to where it was cut; the record is still damaged: said once, here.
        Some(damage) => Err(usage(damage)),
        None => Ok(ended),
    }
}

/// Run `run` (the last when `None`) of the record at `path`, or why it cannot be played; its
/// messages name the path as it was given.
pub(super) fn read(path: &Path, run: Option<usize>) -> Result<Record> {
    let shown = path.display().to_string();
    let file = std::fs::File::open(path)
        .map_err(|error| usage(format!("cannot read {shown}: {error}")))?;
    if file.metadata().is_ok_and(|m| m.is_dir()) {
        return Err(usage(format!("cannot read {shown}: it is a folder")));
    }
    let input = std::io::BufReader::with_capacity(1 << 16, file);
    let mut record =
        record::read_run(input, &shown, run).map_err(|error| usage(error.to_string()))?;
    // The header names the file; the messages name the path as given.
    let name = path
        .file_name()
        .map_or(shown, |n| n.to_string_lossy().into_owned());
    record.info.replay = Some(name);
    Ok(record)
}
