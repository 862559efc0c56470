//! Demo mode: the real dashboard and outputs against a simulated LiteLLM gateway that runs
//! in-process on loopback, in front of in-process mock deployments whose faults keys and
//! scripts switch.
//!
//! The gateway behaves like LiteLLM 1.83.14 as recorded. Its decisions are a pure core
//! (`settings`, `config_file`, `router`, `errors`, `script`); the edges around it are thin:
//! `gateway` (the proxy's HTTP endpoints), `upstream` (calls to the mocks), `stage` (the mocks
//! and their faults), `run` (the command).

mod args;
pub mod config_file;
pub mod errors;
pub mod gateway;
pub mod router;
mod run;
mod script;
pub mod settings;
mod stage;
mod upstream;

pub use args::{Chosen, DEMO_HELP, DemoArgs};
pub use run::run;
