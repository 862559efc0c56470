//! `failover-watch replay FILE`: a record played back through the same core, on the same
//! dashboard or outputs, as the run was seen live. The record is read line by line, its steps
//! all kept to step through ([`record`]); a player sends its steps at their moments
//! ([`player`]); the dashboard gets the player's keys and position through its one extension
//! point, a mode.
//!
//! ```text
//!  failover-watch  ▶ REPLAY ×2 run.jsonl · #57/240   llama-fp8 → llama3 …     14:02:10
//!  ┌ NOW SERVING ──────────────────────────────────┐
//!  │ …                                             │
//!  │ replay of run.jsonl · request 57 of 240 · 57 s in │
//!  └───────────────────────────────────────────────┘
//!   ▶ request 57 of 240  │ q quit  r reset  ? help  │ replay: space play  ←/→ request …
//! ```

mod player;
pub mod record;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use color_eyre::eyre::Result;
use ratatui::crossterm::event::KeyCode;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use crate::cli::config::{Show, Surroundings};
use crate::cli::{OutputFormat, ReplayArgs};
use crate::clock::{Playhead, SessionClock};
use crate::output::Recorder;
use crate::probe::schedule;
use crate::run::{self, ModeLink, Session};
use crate::state::MonitorConfig;
use crate::sys::exit::{Ended, usage};
use crate::ui::{Action, Binding, ModeKeys, ModeStatus};
pub use player::Pace;
use player::{Player, Timeline};
use record::Record;

/// The replay's keys; each action's number is its place in [`Move::ALL`].
pub const KEYS: ModeKeys = ModeKeys {
    footer_title: "replay",
    help_title: "Replay",
    bindings: &[
        Binding {
            keys: &[
                (KeyCode::Char(' '), Action::Mode(0)),
                (KeyCode::Char('p'), Action::Mode(0)),
            ],
            footer: Some(("space", "play")),
            help: (
                "space",
                "play or pause the replay (at the end: play it again)",
            ),
            beside_mode: false,
        },
        Binding {
            keys: &[
                (KeyCode::Left, Action::Mode(1)),
                (KeyCode::Right, Action::Mode(2)),
            ],
            footer: Some(("←/→", "request")),
            help: ("←  →", "one request back / forward (the replay pauses)"),
            beside_mode: false,
        },
        Binding {
            keys: &[
                (KeyCode::Char('['), Action::Mode(3)),
                (KeyCode::Char(']'), Action::Mode(4)),
            ],
            footer: Some(("[/]", "transition")),
            help: ("[  ]", "the previous / next transition (the replay pauses)"),
            beside_mode: false,
        },
        Binding {
            keys: &[
                (KeyCode::Char('+'), Action::Mode(5)),
                (KeyCode::Char('='), Action::Mode(5)),
                (KeyCode::Char('-'), Action::Mode(6)),
                (KeyCode::Char('_'), Action::Mode(6)),
            ],
            footer: Some(("+/-", "speed")),
            help: ("+  -", "twice as fast / half as fast"),
            beside_mode: false,
        },
    ],
};

/// Plays the record `args` name in the output it asks for.
pub async fn replay(args: ReplayArgs) -> Result<Ended> {
    let surroundings = Surroundings::detect();
    let output = surroundings.checked_output(args.output, &args.log_file)?;
    if args.instant && output == OutputFormat::Tui {
        return Err(usage(
            "--instant is for --output text or jsonl: the dashboard plays at a pace",
        ));
    }
    let record = read(&args.file)?;
    if let Some(damage) = &record.damage {
        eprintln!("failover-watch: {damage}");
    }
    let damage = record.damage.clone();
    let show = Show {
        monitor: MonitorConfig {
            timeout: record.info.timeout,
            down_after: record.info.down_after,
            ..MonitorConfig::default()
        },
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
    let (session, mode) = play(record, show.monitor.clone(), pace);
    let mode = (output == OutputFormat::Tui).then_some(mode);
    // No one marks a replay from outside: the markers are the record's.
    let (_, marks) = mpsc::channel(1);
    let ended = run::drive(&show, session, Recorder::off(), mode, marks).await?;
    match damage {
        // Played up to where it was cut; the record is still damaged.
        Some(damage) => Err(usage(damage)),
        None => Ok(ended),
    }
}

/// A session that plays `record` at `pace`, and the mode that lends the dashboard the
/// player's keys and position.
pub fn play(record: Record, config: MonitorConfig, pace: Pace) -> (Session, ModeLink) {
    let wall = record.wall;
    let timeline = Arc::new(Timeline::new(record, config));
    let (playhead_tx, playhead) = watch::channel(Playhead {
        at: Duration::ZERO,
        since: Instant::now(),
        speed: 0.0,
    });
    let (status_tx, status) = watch::channel(ModeStatus::default());
    let (presses_tx, presses) = mpsc::unbounded_channel();
    let player = Player::new(timeline, pace.speed, playhead_tx, status_tx);
    let (controls, control_inputs) = schedule::controls_alone();
    let clock = SessionClock::Playback { playhead, wall };
    let session = Session::fed(clock, controls, |events| {
        tokio::spawn(player.play(pace, events, presses, control_inputs))
    });
    let mode = ModeLink {
        keys: &KEYS,
        presses: presses_tx,
        status,
    };
    (session, mode)
}

/// The record at `path`, or why it cannot be played.
fn read(path: &Path) -> Result<record::Record> {
    let name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let file = std::fs::File::open(path)
        .map_err(|error| usage(format!("cannot read {}: {error}", path.display())))?;
    let input = std::io::BufReader::with_capacity(1 << 16, file);
    record::read(input, &name).map_err(|error| usage(error.to_string()))
}
