//! The process's own edges: its logs, its exit status, the signals it takes, the terminal it
//! draws on, and the API key it holds.

pub mod exit;
pub mod logging;
pub mod secret;
pub mod signals;
pub mod tui;
