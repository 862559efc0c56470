//! Demo mode: the real dashboard and outputs against a simulated LiteLLM gateway that runs
//! in-process on loopback, in front of in-process mock deployments whose faults keys and
//! scripts switch.
//!
//! The gateway behaves like LiteLLM 1.83.14 as recorded (`settings`, `router`, `errors`: a pure
//! core); the HTTP edge around it is thin (`gateway`, `upstream`).

pub mod config_file;
pub mod errors;
pub mod router;
pub mod settings;
