//! What the simulated gateway simulates: its deployments and its router's settings. Pure.
//!
//! The values come from the seed's configuration or a LiteLLM config file
//! (read by `config_file`), then the demo's flags ([`RouterOverrides`]).

use std::time::Duration;

use serde_json::{Map, Value};

pub use crate::litellm::Release;
use sha2::{Digest, Sha256};

pub use crate::litellm::defaults;

/// Which API a deployment's provider speaks, from the prefix of its `model`: LiteLLM words
/// their failures differently.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Provider {
    /// `openai/` and every other prefix.
    OpenaiCompatible,
    /// `ollama/` and `ollama_chat/`.
    Ollama,
}

impl Provider {
    pub fn of(model: &str) -> Self {
        match model.split_once('/').map(|(prefix, _)| prefix) {
            Some("ollama" | "ollama_chat") => Provider::Ollama,
            _ => Provider::OpenaiCompatible,
        }
    }
}

/// One deployment of the model list.
#[derive(Clone, Debug, PartialEq)]
pub struct DeploymentConfig {
    /// `model_name`: the model group.
    pub group: String,
    /// `litellm_params.model`, the provider string (`ollama/llama3`).
    pub model: String,
    pub provider: Provider,
    pub api_base: Option<String>,
    /// `model_info.id`, LiteLLM's stable hash of the deployment unless the config sets one.
    pub id: String,
    /// An OpenAI-compatible deployment with no `api_key` (and no `OPENAI_API_KEY` around the
    /// proxy) is failed by LiteLLM before anything is sent.
    pub missing_api_key: bool,
    /// `litellm_params.cooldown_time`, which beats everything else.
    pub cooldown: Option<Duration>,
    /// `litellm_params.timeout`, which beats the router's.
    pub timeout: Option<Duration>,
    /// `litellm_params` as `GET /model/info` shows them (no `api_key`).
    pub shown_params: Map<String, Value>,
}

/// How the router decides that a failing deployment needs a cooldown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailurePolicy {
    /// `allowed_fails` set to something else than LiteLLM's default: the failure after this
    /// many within `cooldown_time` of each other starts a cooldown.
    AllowedFails(u32),
    /// LiteLLM's default: cooldown on a rate limit or a high failure rate per minute, which a
    /// group of one deployment practically never reaches.
    FailureRate,
}

impl FailurePolicy {
    /// The policy LiteLLM picks for a router `allowed_fails` (if set) and the global
    /// `litellm.allowed_fails` (which `litellm_settings` may change).
    pub fn from_allowed_fails(router: Option<u32>, global: u32) -> Self {
        match router {
            Some(n) if n != global => FailurePolicy::AllowedFails(n),
            _ => FailurePolicy::FailureRate,
        }
    }
}

/// `fallbacks: [{"llama-fp8": ["llama3"]}]`, one entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fallback {
    /// A model group, or `*` for every group without its own entry.
    pub from: String,
    pub to: Vec<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct RouterSettings {
    pub num_retries: u32,
    /// The limit of one call to one deployment.
    pub timeout: Duration,
    pub policy: FailurePolicy,
    pub cooldown: Duration,
    /// `None` when the config sets no fallbacks at all (LiteLLM words its errors differently).
    pub fallbacks: Option<Vec<Fallback>>,
    pub max_fallbacks: u32,
}

impl RouterSettings {
    /// The fallback groups of `group`: its own entry, else the `*` entry.
    pub fn fallbacks_of(&self, group: &str) -> Option<&[String]> {
        let fallbacks = self.fallbacks.as_deref()?;
        fallbacks
            .iter()
            .find(|f| f.from == group)
            .or_else(|| fallbacks.iter().find(|f| f.from == "*"))
            .map(|f| f.to.as_slice())
    }
}

/// The demo's flags that replace the config's router settings.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RouterOverrides {
    pub cooldown: Option<Duration>,
    pub allowed_fails: Option<u32>,
    pub num_retries: Option<u32>,
    pub timeout: Option<Duration>,
}

/// Everything the simulated gateway serves.
#[derive(Clone, Debug, PartialEq)]
pub struct GatewaySettings {
    pub deployments: Vec<DeploymentConfig>,
    pub router: RouterSettings,
    /// The LiteLLM release played.
    pub release: Release,
}

impl GatewaySettings {
    pub fn apply(&mut self, overrides: RouterOverrides) {
        let router = &mut self.router;
        if let Some(cooldown) = overrides.cooldown {
            router.cooldown = cooldown;
        }
        if let Some(n) = overrides.allowed_fails {
            router.policy = FailurePolicy::from_allowed_fails(Some(n), defaults::ALLOWED_FAILS);
        }
        if let Some(n) = overrides.num_retries {
            router.num_retries = n;
        }
        if let Some(timeout) = overrides.timeout {
            router.timeout = timeout;
        }
    }

    /// The model groups, in the order the model list first names them.
    pub fn groups(&self) -> Vec<&str> {
        let mut groups: Vec<&str> = Vec::new();
        for d in &self.deployments {
            if !groups.contains(&d.group.as_str()) {
                groups.push(&d.group);
            }
        }
        groups
    }

    pub fn has_group(&self, group: &str) -> bool {
        self.deployments.iter().any(|d| d.group == group)
    }

    /// The group a demo watches when none is named: the first with a fallback.
    pub fn default_primary(&self) -> Option<&str> {
        self.groups()
            .into_iter()
            .find(|g| self.first_fallback(g).is_some())
    }

    /// The groups a demo watches when none is named: each with fallbacks of its own (not
    /// only `*`'s), in the model list's order; else the default primary.
    pub fn watched_primaries(&self) -> Vec<&str> {
        let own = |g: &str| {
            self.router
                .fallbacks
                .iter()
                .flatten()
                .any(|f| f.from == g && f.to.iter().any(|to| to != g))
        };
        let groups: Vec<&str> = self.groups().into_iter().filter(|g| own(g)).collect();
        match groups.is_empty() {
            true => self.default_primary().into_iter().collect(),
            false => groups,
        }
    }

    /// The first fallback group of `primary`, the one the demo's fallback keys aim at.
    pub fn first_fallback(&self, primary: &str) -> Option<&str> {
        self.router
            .fallbacks_of(primary)?
            .iter()
            .map(String::as_str)
            .find(|g| *g != primary)
    }
}

/// LiteLLM's deployment id: SHA-256 of the group name and every `litellm_params` key and
/// value, in the config's order (`Router._generate_model_id`).
pub fn deployment_id(group: &str, params: &[(String, String)]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(group.as_bytes());
    for (key, value) in params {
        hasher.update(key.as_bytes());
        hasher.update(value.as_bytes());
    }
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Seconds as LiteLLM prints a configured number: `10` for a whole number, else `2.5`.
pub fn seconds_as_configured(duration: Duration) -> String {
    let secs = duration.as_secs_f64();
    if secs.fract() == 0.0 {
        format!("{}", duration.as_secs())
    } else {
        format!("{secs}")
    }
}

/// Seconds as Python prints a float: `30.0`, `2.5`.
pub fn seconds_as_float(duration: Duration) -> String {
    let secs = duration.as_secs_f64();
    if secs.fract() == 0.0 {
        format!("{secs:.1}")
    } else {
        format!("{secs}")
    }
}
