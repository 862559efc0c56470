//! The demo's own options, on the command line under `failover-watch demo` (the simulated
//! gateway's under `failover-watch demo drill` too).

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use crate::litellm::Release;

/// What the demo simulates, and how its faults are switched.
#[derive(Debug, Clone, Args)]
pub struct DemoArgs {
    #[command(flatten)]
    pub gateway: GatewayArgs,

    /// Faults at times from the start, e.g. "primary-down@10s,primary-up@40s" (see below).
    #[arg(long, env = "FAILOVER_WATCH_DEMO_SCRIPT", value_name = "STEPS")]
    pub script: Option<String>,

    /// Simulate N primary groups (1 to 9), each with its own fallback, and watch them all: a
    /// built-in config (llama-fp8 → llama3, qwen-72b → qwen-7b, mistral-large →
    /// mistral-small, then group-4 → group-4-small...). Digits choose the group the keys act
    /// on; a script step may name one (qwen-72b:primary-down@5s).
    #[arg(long, env = "FAILOVER_WATCH_DEMO_GROUPS", value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u8).range(1..=9), conflicts_with = "config")]
    pub groups: u8,

    /// Play the script over and over, for a kiosk (see below).
    #[arg(long = "loop", env = "FAILOVER_WATCH_DEMO_LOOP", value_parser = clap::builder::BoolishValueParser::new())]
    pub repeat: bool,
}

/// The simulated gateway: the config it plays and the router settings over it (the demo's
/// and a rehearsed drill's).
#[derive(Debug, Clone, Args)]
pub struct GatewayArgs {
    /// A LiteLLM config to simulate: a proxy config file, or a Helm values.yaml with it under
    /// litellm.config. [default: the seed's: llama-fp8 (openai/) falling back to llama3
    /// (ollama/), num_retries 0, timeout 30, allowed_fails 1, cooldown_time 10]
    #[arg(long, env = "FAILOVER_WATCH_DEMO_CONFIG", value_name = "PATH")]
    pub config: Option<PathBuf>,

    /// The router's cooldown_time: how long a deployment is skipped once it failed too often.
    #[arg(long, env = "FAILOVER_WATCH_DEMO_COOLDOWN", value_name = "DURATION", value_parser = crate::clock::duration::wait)]
    pub cooldown: Option<Duration>,

    /// The router's allowed_fails: failures within a cooldown_time before a cooldown (3,
    /// LiteLLM's default, means its failure-rate policy instead).
    #[arg(long, env = "FAILOVER_WATCH_DEMO_ALLOWED_FAILS", value_name = "N", value_parser = clap::value_parser!(u32).range(0..=1000))]
    pub allowed_fails: Option<u32>,

    /// The router's num_retries: retries in the same group before its fallbacks.
    #[arg(long, env = "FAILOVER_WATCH_DEMO_NUM_RETRIES", value_name = "N", value_parser = clap::value_parser!(u32).range(0..=100))]
    pub num_retries: Option<u32>,

    /// The router's timeout: the limit of one call to one deployment.
    #[arg(long, env = "FAILOVER_WATCH_DEMO_ROUTER_TIMEOUT", value_name = "DURATION", value_parser = crate::clock::duration::wait)]
    pub router_timeout: Option<Duration>,

    /// The LiteLLM release to play: its headers, stream chunks and error messages.
    #[arg(
        long,
        env = "FAILOVER_WATCH_DEMO_LITELLM",
        value_enum,
        default_value = "1.106",
        value_name = "RELEASE"
    )]
    pub litellm: Release,
}
