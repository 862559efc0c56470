//! The router's settings as the proxy states them, instead of guessed from its errors:
//! `GET /router/settings` (the master key's to read) gives the fallbacks, `allowed_fails`,
//! `cooldown_time`, `num_retries` and the router's `timeout` as configured; a key that may not
//! read it still learns the fallbacks from `GET /v1/models?include_metadata=true`.
//! Read once by `check`, the watcher's lane, and the discovery of a proxy's groups.

use std::collections::BTreeMap;
use std::time::Duration;

use reqwest::header::AUTHORIZATION;
use serde_json::Value;

use crate::clock::duration::from_secs;
use crate::sys::secret::ApiKey;
use crate::text::sanitize::clean;

/// What LiteLLM does with `allowed_fails` of 3 (its default) or unset: a failure-rate policy
/// that never cools a group of one deployment on 5xx, 429 or timeouts.
const DEFAULT_ALLOWED_FAILS: u32 = super::defaults::ALLOWED_FAILS;

/// Where the settings were read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// `GET /router/settings`: everything below as configured.
    RouterSettings,
    /// `GET /v1/models?include_metadata=true`: the fallbacks only (the key may not read the
    /// router's settings).
    ModelsMetadata,
}

/// The router's settings, as far as the proxy told them.
#[derive(Clone, Debug, PartialEq)]
pub struct RouterSettings {
    pub source: Source,
    /// Each model group's fallback groups, in the configured order.
    pub fallbacks: BTreeMap<String, Vec<String>>,
    pub allowed_fails: Option<u32>,
    pub cooldown_time: Option<Duration>,
    pub num_retries: Option<u32>,
    /// The router's limit for one call to one deployment.
    pub timeout: Option<Duration>,
    /// `disable_cooldowns: true`: failing deployments are never skipped.
    pub cooldowns_disabled: bool,
}

impl RouterSettings {
    /// The answer of `GET /router/settings`.
    pub fn from_router_settings(body: &[u8]) -> Result<Self, String> {
        let body: Value = serde_json::from_slice(body).map_err(|e| format!("not JSON: {e}"))?;
        let values = body
            .get("current_values")
            .ok_or("no current_values in the answer")?;
        let number = |name: &str| values.get(name).and_then(Value::as_f64);
        let count = |name: &str| number(name).and_then(|n| u32::try_from(n as u64).ok());
        Ok(Self {
            source: Source::RouterSettings,
            fallbacks: fallbacks(values.get("fallbacks")),
            allowed_fails: count("allowed_fails"),
            cooldown_time: number("cooldown_time").and_then(from_secs),
            num_retries: count("num_retries"),
            timeout: number("timeout").and_then(from_secs),
            cooldowns_disabled: values.get("disable_cooldowns") == Some(&Value::Bool(true)),
        })
    }

    /// The answer of `GET /v1/models?include_metadata=true`: each model's fallbacks.
    pub fn from_models_metadata(body: &[u8]) -> Result<Self, String> {
        let body: Value = serde_json::from_slice(body).map_err(|e| format!("not JSON: {e}"))?;
        let models = body
            .get("data")
            .and_then(Value::as_array)
            .ok_or("no data in the answer")?;
        let fallbacks = models
            .iter()
            .filter_map(|model| {
                let id = model.get("id")?.as_str()?;
                let to = names(model.pointer("/metadata/fallbacks")?);
                (!to.is_empty()).then(|| (clean(id, 200), to))
            })
            .collect();
        Ok(Self {
            source: Source::ModelsMetadata,
            fallbacks,
            allowed_fails: None,
            cooldown_time: None,
            num_retries: None,
            timeout: None,
            cooldowns_disabled: false,
        })
    }

    /// The fallback groups configured for `group`.
    pub fn fallbacks_of(&self, group: &str) -> &[String] {
        self.fallbacks.get(group).map_or(&[], Vec::as_slice)
    }

    /// How many failures of one deployment start its cooldown, when LiteLLM counts them
    /// (`allowed_fails` set, and not its default of 3, which means a failure-rate policy).
    pub fn failures_to_cool(&self) -> Option<u32> {
        self.allowed_fails
            .filter(|n| *n != DEFAULT_ALLOWED_FAILS && !self.cooldowns_disabled)
            .map(|n| n + 1)
    }

    /// The settings in one line, as configured: `fallbacks llama-fp8 → llama3; allowed_fails
    /// 1, cooldown_time 10s, num_retries 0, timeout 30s`.
    pub fn describe(&self, group: &str) -> String {
        let to = self.fallbacks_of(group);
        let mut said = vec![if to.is_empty() {
            format!("no fallback for {group}")
        } else {
            format!("fallbacks {group} → {}", to.join(", "))
        }];
        let secs = |d: Duration| humantime::format_duration(d).to_string();
        let mut values = Vec::new();
        if let Some(n) = self.allowed_fails {
            let rule = match self.failures_to_cool() {
                Some(nth) => format!(" (a cooldown at the {})", ordinal(nth)),
                None if n == DEFAULT_ALLOWED_FAILS => {
                    " (LiteLLM's default: a failure-rate policy)".to_owned()
                }
                None => String::new(),
            };
            values.push(format!("allowed_fails {n}{rule}"));
        }
        if self.cooldowns_disabled {
            values.push("cooldowns disabled".to_owned());
        } else if let Some(d) = self.cooldown_time {
            values.push(format!("cooldown_time {}", secs(d)));
        }
        if let Some(n) = self.num_retries {
            values.push(format!("num_retries {n}"));
        }
        if let Some(d) = self.timeout {
            values.push(format!("timeout {}", secs(d)));
        }
        if !values.is_empty() {
            said.push(values.join(", "));
        }
        said.join("; ")
    }
}

/// `2nd`, `3rd`, `11th`.
fn ordinal(n: u32) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix} failure")
}

/// `[{"llama-fp8": ["llama3"]}, ...]`, the shape LiteLLM keeps them in.
fn fallbacks(value: Option<&Value>) -> BTreeMap<String, Vec<String>> {
    let mut found = BTreeMap::new();
    for entry in value.and_then(Value::as_array).into_iter().flatten() {
        for (from, to) in entry.as_object().into_iter().flatten() {
            found.insert(clean(from, 200), names(to));
        }
    }
    found
}

fn names(value: &Value) -> Vec<String> {
    value
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(|name| clean(name, 200))
        .collect()
}

/// Reads the router's settings from the proxy at `root`: `/router/settings` with the master
/// key; with another key (LiteLLM answers 401 or 403), the fallbacks from `/v1/models`. Why
/// not, otherwise.
pub async fn read(
    http: &reqwest::Client,
    root: &str,
    key: Option<&ApiKey>,
    limit: Duration,
) -> Result<RouterSettings, String> {
    let get = |path: &str| {
        let mut request = http.get(format!("{root}{path}")).timeout(limit);
        if let Some(key) = key {
            request = request.header(AUTHORIZATION, key.bearer());
        }
        request.send()
    };
    let failed = |path: &str, error: reqwest::Error| {
        format!(
            "GET {path}: {}",
            clean(&crate::text::format::innermost_cause(&error), 200)
        )
    };
    let response = get("/router/settings")
        .await
        .map_err(|e| failed("/router/settings", e))?;
    let status = response.status().as_u16();
    let body = response
        .bytes()
        .await
        .map_err(|e| failed("/router/settings", e))?;
    match status {
        200 => RouterSettings::from_router_settings(&body)
            .map_err(|why| format!("GET /router/settings: {why}")),
        401 | 403 => {
            let path = "/v1/models?include_metadata=true";
            let response = get(path).await.map_err(|e| failed(path, e))?;
            let status = response.status().as_u16();
            let body = response.bytes().await.map_err(|e| failed(path, e))?;
            if status != 200 {
                return Err(format!(
                    "the key may not read /router/settings (HTTP {status} for {path} too)"
                ));
            }
            RouterSettings::from_models_metadata(&body).map_err(|why| format!("GET {path}: {why}"))
        }
        status => Err(format!("GET /router/settings answered HTTP {status}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_router_settings_are_read_as_configured() {
        let body = br#"{"fields": [], "current_values": {"fallbacks": [{"llama-fp8": ["llama3"]}],
            "allowed_fails": 1, "cooldown_time": 10, "num_retries": 0, "timeout": 30,
            "disable_cooldowns": null, "redis_password": "not for us"}}"#;
        let settings = RouterSettings::from_router_settings(body).unwrap();
        assert_eq!(settings.fallbacks_of("llama-fp8"), ["llama3"]);
        assert_eq!(settings.fallbacks_of("llama3"), [] as [String; 0]);
        assert_eq!(settings.failures_to_cool(), Some(2));
        assert_eq!(settings.cooldown_time, Some(Duration::from_secs(10)));
        assert_eq!(
            settings.describe("llama-fp8"),
            "fallbacks llama-fp8 → llama3; allowed_fails 1 (a cooldown at the 2nd failure), \
             cooldown_time 10s, num_retries 0, timeout 30s"
        );
        // LiteLLM's defaults, nothing configured: no counting rule, no fallback.
        let body = br#"{"current_values": {"fallbacks": null, "allowed_fails": 3,
            "cooldown_time": 5, "num_retries": 2, "timeout": 6000.0}}"#;
        let settings = RouterSettings::from_router_settings(body).unwrap();
        assert_eq!(settings.failures_to_cool(), None);
        assert!(
            settings
                .describe("g")
                .starts_with("no fallback for g; allowed_fails 3 (LiteLLM")
        );
        assert!(RouterSettings::from_router_settings(b"<html>").is_err());
    }

    #[test]
    fn another_key_learns_the_fallbacks_from_the_models_metadata() {
        let body = br#"{"data": [{"id": "llama-fp8", "metadata": {"fallbacks": ["llama3"]}},
            {"id": "llama3", "metadata": {"fallbacks": []}}, {"id": "other"}]}"#;
        let settings = RouterSettings::from_models_metadata(body).unwrap();
        assert_eq!(settings.source, Source::ModelsMetadata);
        assert_eq!(settings.fallbacks_of("llama-fp8"), ["llama3"]);
        assert!(settings.fallbacks_of("llama3").is_empty());
        assert_eq!(
            settings.describe("llama-fp8"),
            "fallbacks llama-fp8 → llama3"
        );
    }
}
