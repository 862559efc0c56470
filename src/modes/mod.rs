//! Modes of a run that lend the dashboard keys and status through its one extension point
//! ([`crate::run::ModeLink`]): the demo's simulated gateway, and a record played back.

pub mod demo;
pub mod replay;
