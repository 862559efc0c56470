//! failover-watch: who really serves the requests sent through a LiteLLM proxy.
//!
//! Outcomes flow one way: the [`probe`] schedule sends requests and streams [`probe::ProbeEvent`]s
//! over a channel to the single owner of the [`state::Monitor`], a pure state machine; outputs
//! ([`output`]) only read that state.

pub mod app;
pub mod cli;
pub mod clock;
pub mod config;
pub mod demo;
pub mod logging;
pub mod mock;
pub mod output;
pub mod probe;
pub mod run;
pub mod sanitize;
pub mod secret;
pub mod signals;
pub mod state;
pub mod tui;
pub mod ui;

#[cfg(test)]
mod tests;
