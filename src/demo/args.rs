//! `failover-watch demo`'s command line: the watching options, plus what to simulate.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use clap::parser::{ArgMatches, ValueSource};

use crate::cli::{ProbeArgs, positive_duration};

pub const DEMO_HELP: &str = "\
Keys (dashboard):
  k / K   take the primary / fallback down (connection refused)
  e / E   make it answer HTTP 500
  h / H   make it hang (requests wait for the router's timeout)
  u / U   bring it back up

Scripts:
  --script \"primary-down@10s,primary-up@40s\": TARGET-ACTION@TIME steps, TIME from the start
  (10s, 1m30s, 2.5). TARGET: primary, fallback. ACTION: down (connection refused), error
  (HTTP 500), hang, slow (answers after 2 s), up.

Defaults without a terminal (--output text or jsonl):
  Without --script the built-in one runs: primary-down@5s,primary-up@20s. Without --duration
  or --count (and without --loop) the run ends after one pass of the script: its last step,
  then the router timeout if a step hangs, the cooldown and two intervals for the recovery
  to show (36 s with the seed's settings).

--loop:
  The script (the built-in one if none is given) starts over after each pass, with every
  deployment brought back up first. A pass lasts the last step's time plus the router
  timeout (if a step hangs), the cooldown and two probe intervals, rounded up to a whole
  second.

Simulated gateway:
  LiteLLM 1.83.14's proxy on 127.0.0.1 (a free port), its router's rules (fallbacks,
  num_retries, timeout, allowed_fails, cooldown_time, Retry-After), headers, stream quirks and
  error messages. Every deployment is served by an in-process mock: openai/ (and any other
  prefix) by an OpenAI-compatible one, ollama/ and ollama_chat/ by an Ollama one; api_base
  values are only reported. Nothing leaves 127.0.0.1.
  Without --primary the config's first group with a fallback is watched. Without --timeout
  the client waits the router's timeout plus 5 s, to see what the gateway does when its own
  timeout strikes.";

#[derive(Debug, Clone, Args)]
pub struct DemoArgs {
    /// A LiteLLM config to simulate: a proxy config file, or a Helm values.yaml with it under
    /// litellm.config. [default: the seed's: llama-fp8 (openai/) falling back to llama3
    /// (ollama/), num_retries 0, timeout 30, allowed_fails 1, cooldown_time 10]
    #[arg(long, env = "FAILOVER_WATCH_DEMO_CONFIG", value_name = "PATH")]
    pub config: Option<PathBuf>,

    /// Faults at times from the start, e.g. "primary-down@10s,primary-up@40s" (see below).
    #[arg(long, env = "FAILOVER_WATCH_DEMO_SCRIPT", value_name = "STEPS")]
    pub script: Option<String>,

    /// Play the script over and over, for a kiosk (see below).
    #[arg(long = "loop", env = "FAILOVER_WATCH_DEMO_LOOP", value_parser = clap::builder::BoolishValueParser::new())]
    pub repeat: bool,

    /// The router's cooldown_time: how long a deployment is skipped once it failed too often.
    #[arg(long, env = "FAILOVER_WATCH_DEMO_COOLDOWN", value_name = "DURATION", value_parser = positive_duration)]
    pub cooldown: Option<Duration>,

    /// The router's allowed_fails: failures within a cooldown_time before a cooldown (3,
    /// LiteLLM's default, means its failure-rate policy instead).
    #[arg(long, env = "FAILOVER_WATCH_DEMO_ALLOWED_FAILS", value_name = "N")]
    pub allowed_fails: Option<u32>,

    /// The router's num_retries: retries in the same group before its fallbacks.
    #[arg(long, env = "FAILOVER_WATCH_DEMO_NUM_RETRIES", value_name = "N")]
    pub num_retries: Option<u32>,

    /// The router's timeout: the limit of one call to one deployment.
    #[arg(long, env = "FAILOVER_WATCH_DEMO_ROUTER_TIMEOUT", value_name = "DURATION", value_parser = positive_duration)]
    pub router_timeout: Option<Duration>,

    #[command(flatten)]
    pub probe: ProbeArgs,

    /// Which watching options the user set; filled from the parsed command line.
    #[arg(skip)]
    pub chosen: Chosen,
}

/// Which of the shared watching options were set (by flag or environment), which clap's
/// derive cannot tell from their defaults: the demo picks its own defaults for the others.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Chosen {
    pub primary: bool,
    pub timeout: bool,
}

impl Chosen {
    /// From the `demo` subcommand's matches.
    pub fn from_matches(matches: &ArgMatches) -> Self {
        let given = |id: &str| {
            matches!(
                matches.value_source(id),
                Some(ValueSource::CommandLine | ValueSource::EnvVariable)
            )
        };
        Self {
            primary: given("primary"),
            timeout: given("timeout"),
        }
    }
}
