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

use std::sync::Arc;
use std::time::Duration;

use ratatui::crossterm::event::KeyCode;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use crate::clock::{Playhead, SessionClock};
use crate::probe::schedule;
use crate::run::{ModeLink, Session};
use crate::ui::{Binding, ModeKeys, ModeStatus};
pub use player::{FASTEST, Pace, SLOWEST};
use player::{Move, Player, Timeline};
pub use record::Record;

/// The replay's keys, each bound to one of its moves.
pub const KEYS: ModeKeys = ModeKeys {
    footer_title: "replay",
    help_title: "Replay",
    bindings: &[
        Binding {
            keys: &[
                (KeyCode::Char(' '), Move::PlayPause.key()),
                (KeyCode::Char('p'), Move::PlayPause.key()),
            ],
            footer: Some(("space", "pause")),
            footer_paused: Some("play"),
            help: (
                "space",
                "play or pause the replay (at the end: play it again)",
            ),
            beside_mode: false,
        },
        Binding {
            keys: &[
                (KeyCode::Left, Move::RequestBack.key()),
                (KeyCode::Right, Move::RequestForward.key()),
            ],
            footer: Some(("←/→", "request")),
            footer_paused: None,
            help: ("←  →", "one request back / forward (the replay pauses)"),
            beside_mode: false,
        },
        Binding {
            keys: &[
                (KeyCode::Char('['), Move::TransitionBack.key()),
                (KeyCode::Char(']'), Move::TransitionForward.key()),
            ],
            footer: Some(("[/]", "transition")),
            footer_paused: None,
            help: ("[  ]", "the previous / next transition (the replay pauses)"),
            beside_mode: false,
        },
        Binding {
            keys: &[
                (KeyCode::Char('+'), Move::Faster.key()),
                (KeyCode::Char('='), Move::Faster.key()),
                (KeyCode::Char('-'), Move::Slower.key()),
                (KeyCode::Char('_'), Move::Slower.key()),
            ],
            footer: Some(("+/-", "speed")),
            footer_paused: None,
            help: ("+  -", "twice as fast / half as fast"),
            beside_mode: false,
        },
    ],
};

/// A session that plays `record` at `pace`, and the mode that lends the dashboard the
/// player's keys and position.
pub fn play(record: Record, pace: Pace) -> (Session, ModeLink) {
    let wall = record.wall;
    let timeline = Arc::new(Timeline::new(record));
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
