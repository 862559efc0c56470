//! `failover-watch drill`: a failover drill against a real proxy (or, under `demo drill`, the
//! demo's simulated gateway), from the check before it to the report after it.
//!
//! ```text
//!  check ─▶ baseline ─▶ down ─▶ hold ─▶ up ─▶ settle ─▶ report
//!                        │ "drill: down"    │ "drill: up"       (markers on the timeline)
//!  the up step runs whenever the down step ran: a budget broken (--abort-on-breach),
//!  Ctrl-C, a signal, `q`, the watch's own error
//! ```
//!
//! The decisions are a pure core: `plan` (the options resolved, the dry run), `course` (which
//! step comes next), `tally` (what the budgets have seen so far), `status` (what the drill
//! says). The edges are thin: `shell` runs a step's command, `conductor` carries the course
//! out over the run it leads (through a [`crate::run::Lead`]: markers in, the run's end out).
//! The drill plugs into the dashboard as a mode: a status line and one key; the dashboard
//! knows no drill.

mod conductor;
mod course;
mod options;
mod plan;
mod shell;
mod status;
mod tally;

use ratatui::crossterm::event::KeyCode;

pub use conductor::{Conducted, Conductor};
pub use course::Ending;
pub use options::DrillArgs;
pub use plan::{DrillPlan, Steps};
pub use shell::Taken;
pub use status::ending_said;
pub use tally::Observer;

use crate::ui::{Action, Binding, ModeAction, ModeKeys};

/// The drill's key action: the next step now (the baseline, the hold or the settle cut short).
const NEXT: ModeAction = ModeAction::new(1);

/// The drill's keys.
pub const KEYS: ModeKeys = ModeKeys {
    footer_title: "drill",
    help_title: "Drill",
    bindings: &[Binding {
        keys: &[(KeyCode::Char('n'), Action::Mode(NEXT))],
        footer: Some(("n", "next step")),
        footer_paused: None,
        help: (
            "n",
            "the next step now: end the baseline, the hold or the settle early",
        ),
        beside_mode: false,
    }],
};
