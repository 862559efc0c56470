//! What the simulated gateway simulates: its deployments and its router's settings. Pure.
//!
//! The values come from the seed's configuration or a LiteLLM config file
//! ([`super::config_file`]), then the demo's flags ([`RouterOverrides`]).

use std::time::Duration;

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// The LiteLLM release whose behaviour is simulated (and reported in `x-litellm-version`).
pub const LITELLM_VERSION: &str = "1.83.14";

/// LiteLLM's defaults for what a config leaves out.
pub mod defaults {
    use std::time::Duration;

    /// `openai.DEFAULT_MAX_RETRIES`, used when neither settings section sets `num_retries`.
    pub const NUM_RETRIES: u32 = 2;
    /// `litellm.request_timeout`.
    pub const TIMEOUT: Duration = Duration::from_secs(6000);
    /// `DEFAULT_COOLDOWN_TIME_SECONDS`.
    pub const COOLDOWN: Duration = Duration::from_secs(5);
    /// `litellm.allowed_fails`: a router whose `allowed_fails` equals it uses the failure-rate
    /// policy instead of counting failures.
    pub const ALLOWED_FAILS: u32 = 3;
    /// `ROUTER_MAX_FALLBACKS`.
    pub const MAX_FALLBACKS: u32 = 5;
}

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
pub struct Deployment {
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
    pub deployments: Vec<Deployment>,
    pub router: RouterSettings,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_litellms_hashes() {
        // The ids of `captures/08d-model-info.http`, for `config/config.yaml`.
        let params = |list: &[(&str, &str)]| -> Vec<(String, String)> {
            list.iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect()
        };
        assert_eq!(
            deployment_id(
                "llama3",
                &params(&[
                    ("model", "ollama/llama3"),
                    ("api_base", "http://127.0.0.1:11434")
                ])
            ),
            "3f7c3b226644bb7ac4c85dedcc2f01c6e0ed1114cd22e5cbadd527c2f0e480a3"
        );
        assert_eq!(
            deployment_id(
                "llama-fp8",
                &params(&[
                    ("model", "openai/llama-fp8"),
                    ("api_base", "http://127.0.0.1:18080/v1"),
                    ("api_key", "none")
                ])
            ),
            "027a60b4976e264d7fe2dc8bd46356c9813c78f0a33bc4c8116136f5a9739210"
        );
    }

    #[test]
    fn flags_beat_the_config_and_the_default_allowed_fails_means_the_failure_rate_policy() {
        let mut s = crate::demo::config_file::seed();
        s.apply(RouterOverrides {
            cooldown: Some(Duration::from_millis(1500)),
            allowed_fails: Some(3),
            num_retries: Some(2),
            timeout: Some(Duration::from_secs(5)),
        });
        assert_eq!(s.router.cooldown, Duration::from_millis(1500));
        assert_eq!(s.router.policy, FailurePolicy::FailureRate);
        assert_eq!(s.router.num_retries, 2);
        assert_eq!(s.router.timeout, Duration::from_secs(5));
        s.apply(RouterOverrides {
            allowed_fails: Some(0),
            ..RouterOverrides::default()
        });
        assert_eq!(s.router.policy, FailurePolicy::AllowedFails(0));
    }

    #[test]
    fn numbers_print_like_litellms() {
        assert_eq!(seconds_as_configured(Duration::from_secs(10)), "10");
        assert_eq!(seconds_as_configured(Duration::from_millis(2500)), "2.5");
        assert_eq!(seconds_as_float(Duration::from_secs(30)), "30.0");
        assert_eq!(seconds_as_float(Duration::from_millis(200)), "0.2");
    }

    #[test]
    fn providers_from_prefixes() {
        assert_eq!(Provider::of("ollama/llama3"), Provider::Ollama);
        assert_eq!(Provider::of("ollama_chat/llama3"), Provider::Ollama);
        assert_eq!(Provider::of("openai/x"), Provider::OpenaiCompatible);
        assert_eq!(Provider::of("hosted_vllm/x"), Provider::OpenaiCompatible);
        assert_eq!(Provider::of("gpt-4o"), Provider::OpenaiCompatible);
    }
}
