//! The demo: its pure core (config files, settings, script, LiteLLM's error wording), its
//! router against the real proxy's recorded timelines, its gateway over HTTP against recorded
//! answers, and its mode on the dashboard.

mod config_file;
mod dashboard;
mod director;
mod errors;
mod gateway;
mod router;
mod script;
mod settings;
mod stage;
