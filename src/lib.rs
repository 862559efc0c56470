//! failover-watch: who really serves the requests sent through a LiteLLM proxy.
//!
//! Outcomes flow one way: the schedule (`probe`) sends requests and streams [`ProbeEvent`]s
//! over a channel to the single owner of the [`Monitor`], a pure state machine; the dashboard
//! ([`draw`]) and the other outputs only read that state.
//!
//! The public surface is what the binary dispatches to (`cli`, `commands`, `sys`) and
//! the pure core, for the benchmarks: events in, state, frames out. Everything else is the
//! crate's own.

pub mod cli;
mod clock;
pub mod commands;
mod control;
mod litellm;
mod metrics;
mod modes;
mod output;
mod probe;
mod report;
mod run;
mod state;
pub mod sys;
mod testkit;
mod text;
mod ui;

pub use clock::WallClock;
pub use output::{RunInfo, TargetInfo};
pub use probe::{
    DirectMode, Evidence, Lane, ProbeEvent, ProbeOutcome, ProbeReport, Role, Route, Served,
    TargetId,
};
pub use state::{LaneConfig, Monitor, MonitorConfig, Watch};
pub use ui::{Dashboard, ThemeName, draw};

#[cfg(test)]
mod tests;
