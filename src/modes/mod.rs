//! Modes of a run that lend the dashboard keys and status through its one extension point
//! ([`crate::run::ModeLink`]): the demo's simulated gateway, a record played back, a drill.

pub mod demo;
pub mod drill;
pub mod replay;
