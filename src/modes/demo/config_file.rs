//! A LiteLLM config file read into [`GatewaySettings`]: a proxy config (keys at the top
//! level) or a Helm `values.yaml` with the config under `litellm.config`. Pure: the caller
//! reads the file. Every refusal is a one-line reason.
//!
//! Read: `model_list` (`model_name`, `litellm_params.model`, `api_base`, `api_key`,
//! `cooldown_time`, `timeout`, `model_info.id`); `router_settings` (`fallbacks`,
//! `num_retries`, `timeout`, `allowed_fails`, `cooldown_time`, `max_fallbacks`);
//! `litellm_settings` (`fallbacks`, `num_retries`, `request_timeout`, `allowed_fails`).
//! Anything else is ignored.

use std::time::Duration;

use serde_norway::{Mapping, Value};

use super::settings::{
    DeploymentConfig, FailurePolicy, Fallback, GatewaySettings, Provider, Release, RouterSettings,
    defaults, deployment_id,
};

/// The seed's Helm `values.yaml`, with the one change the recordings needed: an `api_key` on
/// the primary (without one LiteLLM never calls an `openai/` deployment).
pub const SEED_CONFIG: &str = r#"
litellm:
  config:
    model_list:
      - model_name: llama3
        litellm_params:
          model: ollama/llama3
          api_base: http://ollama:11434
      - model_name: llama-fp8
        litellm_params:
          model: openai/llama-fp8
          api_base: http://llama-fp8-predictor:8080/v1
          api_key: "none"
    router_settings:
      fallbacks:
        - "llama-fp8": ["llama3"]
      num_retries: 0
      timeout: 30
      allowed_fails: 1
      cooldown_time: 10
"#;

/// The seed's configuration.
pub fn seed() -> GatewaySettings {
    match parse(SEED_CONFIG, false) {
        Ok(settings) => settings,
        // The constant is checked by a unit test.
        Err(reason) => unreachable!("the seed's configuration is invalid: {reason}"),
    }
}

/// The most groups the built-in example of several groups has (`demo --groups`).
pub const MAX_GROUPS: u8 = 9;

/// The primary groups of the built-in example of several groups, each with its fallback;
/// after these, `group-4 → group-4-small` and so on.
const NAMED_GROUPS: [(&str, &str); 3] = [
    ("llama-fp8", "llama3"),
    ("qwen-72b", "qwen-7b"),
    ("mistral-large", "mistral-small"),
];

/// The built-in example of `n` primary groups (1 to [`MAX_GROUPS`]), each an `openai/`
/// deployment falling back to a group of its own on `ollama/`, under the seed's router
/// settings; one group is the seed's config itself.
pub fn several(n: u8) -> GatewaySettings {
    if n <= 1 {
        return seed();
    }
    let mut models = String::new();
    let mut fallbacks = String::new();
    for i in 0..usize::from(n.min(MAX_GROUPS)) {
        let (primary, fallback) = match NAMED_GROUPS.get(i) {
            Some((p, f)) => ((*p).to_owned(), (*f).to_owned()),
            None => (format!("group-{}", i + 1), format!("group-{}-small", i + 1)),
        };
        for (group, model, api_base, key) in [
            (&fallback, "ollama", "http://ollama:11434".to_owned(), ""),
            (
                &primary,
                "openai",
                format!("http://{primary}-predictor:8080/v1"),
                ", api_key: \"none\"",
            ),
        ] {
            models.push_str(&format!(
                "  - model_name: {group}\n    litellm_params: {{model: {model}/{group}, \
                 api_base: \"{api_base}\"{key}}}\n"
            ));
        }
        fallbacks.push_str(&format!("    - {primary}: [{fallback}]\n"));
    }
    let text = format!(
        "model_list:\n{models}router_settings:\n  fallbacks:\n{fallbacks}  num_retries: 0\n  \
         timeout: 30\n  allowed_fails: 1\n  cooldown_time: 10\n"
    );
    match parse(&text, false) {
        Ok(settings) => settings,
        // Every size is checked by a unit test.
        Err(reason) => unreachable!("the example of {n} groups is invalid: {reason}"),
    }
}

/// Parses a config. `openai_key_in_env`: whether the proxy would find `OPENAI_API_KEY`, which
/// stands in for a missing `api_key`.
pub fn parse(text: &str, openai_key_in_env: bool) -> Result<GatewaySettings, String> {
    let root: Value =
        serde_norway::from_str(text).map_err(|e| one_line(&format!("not valid YAML: {e}")))?;
    let config = find_config(&root)?;
    let deployments = model_list(config, openai_key_in_env)?;
    let router_settings = section(config, "router_settings")?;
    let litellm_settings = section(config, "litellm_settings")?;
    let setting = |key: &str| router_settings.and_then(|s| s.get(key));
    let global = |key: &str| litellm_settings.and_then(|s| s.get(key));

    let fallbacks = match (setting("fallbacks"), global("fallbacks")) {
        (Some(list), _) => Some(fallbacks(list, "router_settings.fallbacks")?),
        (None, Some(list)) => Some(fallbacks(list, "litellm_settings.fallbacks")?),
        (None, None) => None,
    };
    let num_retries = match (setting("num_retries"), global("num_retries")) {
        (Some(n), _) => count(n, "router_settings.num_retries")?,
        (None, Some(n)) => count(n, "litellm_settings.num_retries")?,
        (None, None) => defaults::NUM_RETRIES,
    };
    let timeout = match (setting("timeout"), global("request_timeout")) {
        (Some(t), _) => seconds(t, "router_settings.timeout")?,
        (None, Some(t)) => seconds(t, "litellm_settings.request_timeout")?,
        (None, None) => defaults::TIMEOUT,
    };
    let router_allowed_fails = setting("allowed_fails")
        .map(|n| count(n, "router_settings.allowed_fails"))
        .transpose()?;
    // `litellm_settings.allowed_fails` changes LiteLLM's global default, which the router's
    // own value is compared with to pick the policy.
    let global_allowed_fails = global("allowed_fails")
        .map(|n| count(n, "litellm_settings.allowed_fails"))
        .transpose()?
        .unwrap_or(defaults::ALLOWED_FAILS);
    let cooldown = setting("cooldown_time")
        .map(|t| seconds(t, "router_settings.cooldown_time"))
        .transpose()?
        .filter(|t| !t.is_zero())
        .unwrap_or(defaults::COOLDOWN);
    let max_fallbacks = setting("max_fallbacks")
        .map(|n| count(n, "router_settings.max_fallbacks"))
        .transpose()?
        .unwrap_or(defaults::MAX_FALLBACKS);
    if timeout.is_zero() {
        return Err("the router timeout must be more than zero".to_owned());
    }

    let settings = GatewaySettings {
        release: Release::default(),
        deployments,
        router: RouterSettings {
            num_retries,
            timeout,
            policy: FailurePolicy::from_allowed_fails(router_allowed_fails, global_allowed_fails),
            cooldown,
            fallbacks,
            max_fallbacks,
        },
    };
    check_fallback_groups(&settings)?;
    Ok(settings)
}

/// The proxy config: the document itself, or `litellm.config` of Helm values.
fn find_config(root: &Value) -> Result<&Value, String> {
    if root.get("model_list").is_some() {
        return Ok(root);
    }
    match root.get("litellm").and_then(|l| l.get("config")) {
        Some(config) if config.get("model_list").is_some() => Ok(config),
        _ => Err("no model_list at the top level or under litellm.config".to_owned()),
    }
}

fn section<'a>(config: &'a Value, name: &str) -> Result<Option<&'a Mapping>, String> {
    match config.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Mapping(m)) => Ok(Some(m)),
        Some(_) => Err(format!("{name} must be a mapping")),
    }
}

fn model_list(config: &Value, openai_key_in_env: bool) -> Result<Vec<DeploymentConfig>, String> {
    let Some(list) = config.get("model_list").and_then(Value::as_sequence) else {
        return Err("model_list must be a list".to_owned());
    };
    if list.is_empty() {
        return Err("model_list is empty".to_owned());
    }
    list.iter()
        .enumerate()
        .map(|(i, entry)| {
            deployment(entry, openai_key_in_env).map_err(|e| format!("model_list[{i}]: {e}"))
        })
        .collect()
}

fn deployment(entry: &Value, openai_key_in_env: bool) -> Result<DeploymentConfig, String> {
    let group = entry
        .get("model_name")
        .and_then(scalar_text)
        .filter(|g| !g.trim().is_empty())
        .ok_or("no model_name")?;
    let Some(params) = entry.get("litellm_params").and_then(Value::as_mapping) else {
        return Err(format!("{group}: no litellm_params"));
    };
    let model = params
        .get("model")
        .and_then(Value::as_str)
        .filter(|m| !m.trim().is_empty())
        .ok_or_else(|| format!("{group}: no litellm_params.model"))?
        .to_owned();
    let api_base = match params.get("api_base") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            v.as_str()
                .ok_or_else(|| format!("{group}: api_base must be a string"))?
                .to_owned(),
        ),
    };
    let has_key = params.get("api_key").is_some_and(|k| !k.is_null());
    let provider = Provider::of(&model);
    let mut hashed = Vec::new();
    let mut shown = serde_json::Map::new();
    for (key, value) in params {
        let key =
            scalar_text(key).ok_or_else(|| format!("{group}: a litellm_params key is not text"))?;
        hashed.push((key.clone(), python_str(value)));
        if key != "api_key" {
            let json = serde_json::to_value(value).map_err(|e| format!("{group}: {key}: {e}"))?;
            shown.insert(key, json);
        }
    }
    let id = match entry.get("model_info").and_then(|i| i.get("id")) {
        Some(id) => {
            scalar_text(id).ok_or_else(|| format!("{group}: model_info.id must be text"))?
        }
        None => deployment_id(&group, &hashed),
    };
    let optional_seconds = |key: &str| {
        params
            .get(key)
            .filter(|v| !v.is_null())
            .map(|v| seconds(v, &format!("{group}: litellm_params.{key}")))
            .transpose()
    };
    Ok(DeploymentConfig {
        // Recorded for LiteLLM's openai/ provider only; other providers find their
        // credentials elsewhere.
        missing_api_key: model.starts_with("openai/") && !has_key && !openai_key_in_env,
        cooldown: optional_seconds("cooldown_time")?,
        timeout: optional_seconds("timeout")?.filter(|t| !t.is_zero()),
        group,
        model,
        provider,
        api_base,
        id,
        shown_params: shown,
    })
}

/// `[{"llama-fp8": ["llama3"]}, ...]`.
fn fallbacks(list: &Value, name: &str) -> Result<Vec<Fallback>, String> {
    let shape = || format!("{name}: each entry must map a model group to a list of model groups");
    let Some(entries) = list.as_sequence() else {
        return Err(shape());
    };
    entries
        .iter()
        .map(|entry| {
            let map = entry
                .as_mapping()
                .filter(|m| m.len() == 1)
                .ok_or_else(shape)?;
            let (from, to) = map.iter().next().ok_or_else(shape)?;
            let from = scalar_text(from).ok_or_else(shape)?;
            let to = match to {
                Value::Sequence(groups) => groups
                    .iter()
                    .map(|g| scalar_text(g).ok_or_else(shape))
                    .collect::<Result<Vec<_>, _>>()?,
                other => vec![scalar_text(other).ok_or_else(shape)?],
            };
            Ok(Fallback { from, to })
        })
        .collect()
}

fn check_fallback_groups(settings: &GatewaySettings) -> Result<(), String> {
    for fallback in settings.router.fallbacks.iter().flatten() {
        let known = |g: &str| settings.has_group(g);
        if fallback.from != "*" && !known(&fallback.from) {
            return Err(format!(
                "fallbacks name {:?}, which is not a model_name of the model_list",
                fallback.from
            ));
        }
        if let Some(unknown) = fallback.to.iter().find(|g| !known(g)) {
            return Err(format!(
                "fallbacks of {:?} name {unknown:?}, which is not a model_name of the model_list",
                fallback.from
            ));
        }
    }
    Ok(())
}

/// A whole number, as a number or as text (`"3"`).
fn count(value: &Value, name: &str) -> Result<u32, String> {
    let n = match value {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    };
    n.and_then(|n| u32::try_from(n).ok())
        .ok_or_else(|| format!("{name} must be a whole number of 0 or more"))
}

/// Seconds, as a number or as text (`"30"`, `0.5`).
fn seconds(value: &Value, name: &str) -> Result<Duration, String> {
    let secs = match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    };
    secs.and_then(crate::clock::duration::from_secs)
        .ok_or_else(|| format!("{name} must be a number of seconds"))
}

/// Text of a scalar key or name (`model_name: 8` is the group "8").
fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A value as Python's `str()` prints it, for the deployment id.
pub fn python_str(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => "None".to_owned(),
        Value::Bool(true) => "True".to_owned(),
        Value::Bool(false) => "False".to_owned(),
        Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => i.to_string(),
            (None, Some(f)) if f.fract() == 0.0 && f.abs() < 1e16 => format!("{f:.1}"),
            _ => n.to_string(),
        },
        // Lists and mappings rarely appear in litellm_params; JSON is close to Python's form.
        other => serde_json::to_string(other).unwrap_or_default(),
    }
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
