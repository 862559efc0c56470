//! The demo's `config_file`.

use std::time::Duration;

use serde_norway::Value;

use crate::modes::demo::config_file::*;
use crate::modes::demo::settings::{FailurePolicy, Provider, defaults};

const PLAIN: &str = r#"
model_list:
  - model_name: llama3
    litellm_params:
      model: ollama/llama3
      api_base: http://127.0.0.1:11434
  - model_name: llama-fp8
    litellm_params:
      model: openai/llama-fp8
      api_base: http://127.0.0.1:18080/v1
      api_key: "none"
router_settings:
  num_retries: 0
  timeout: 30
  allowed_fails: 1
  cooldown_time: 10
litellm_settings:
  fallbacks:
    - "llama-fp8": ["llama3"]
"#;

#[test]
fn the_seed_parses_into_the_recorded_setup() {
    let seed = seed();
    assert_eq!(seed.groups(), ["llama3", "llama-fp8"]);
    assert_eq!(seed.default_primary(), Some("llama-fp8"));
    assert_eq!(seed.first_fallback("llama-fp8"), Some("llama3"));
    let r = &seed.router;
    assert_eq!(r.num_retries, 0);
    assert_eq!(r.timeout, Duration::from_secs(30));
    assert_eq!(r.policy, FailurePolicy::AllowedFails(1));
    assert_eq!(r.cooldown, Duration::from_secs(10));
    assert_eq!(seed.deployments[0].provider, Provider::Ollama);
    assert!(!seed.deployments[1].missing_api_key);
}

#[test]
fn a_plain_config_with_fallbacks_under_litellm_settings() {
    let s = parse(PLAIN, false).unwrap();
    assert_eq!(s.groups(), ["llama3", "llama-fp8"]);
    assert_eq!(s.router.fallbacks_of("llama-fp8").unwrap(), ["llama3"]);
    assert_eq!(s.router.fallbacks_of("llama3"), None);
    assert_eq!(
        s.deployments[1].id,
        "027a60b4976e264d7fe2dc8bd46356c9813c78f0a33bc4c8116136f5a9739210"
    );
    assert!(!s.deployments[1].shown_params.contains_key("api_key"));
    assert_eq!(s.deployments[1].shown_params["model"], "openai/llama-fp8");
}

#[test]
fn defaults_for_what_the_config_leaves_out() {
    let s = parse(
        "model_list:\n  - model_name: a\n    litellm_params: {model: openai/a}\n",
        false,
    )
    .unwrap();
    assert_eq!(s.router.num_retries, defaults::NUM_RETRIES);
    assert_eq!(s.router.timeout, defaults::TIMEOUT);
    assert_eq!(s.router.cooldown, defaults::COOLDOWN);
    assert_eq!(s.router.policy, FailurePolicy::FailureRate);
    assert_eq!(s.router.fallbacks, None);
    assert!(s.deployments[0].missing_api_key);
    assert!(
        !parse(
            "model_list:\n  - model_name: a\n    litellm_params: {model: openai/a}\n",
            true
        )
        .unwrap()
        .deployments[0]
            .missing_api_key
    );
    // Recorded for openai/ only: other providers are not failed for it.
    assert!(
        !parse(
            "model_list:\n  - model_name: b\n    litellm_params: {model: bedrock/b}\n",
            false
        )
        .unwrap()
        .deployments[0]
            .missing_api_key
    );
}

#[test]
fn the_global_allowed_fails_is_what_the_routers_is_compared_with() {
    let config = |router: &str, global: &str| {
        format!(
            "model_list:\n  - model_name: a\n    litellm_params: {{model: openai/a}}\n\
             router_settings: {{{router}}}\nlitellm_settings: {{{global}}}\n"
        )
    };
    let policy = |r: &str, g: &str| parse(&config(r, g), false).unwrap().router.policy;
    assert_eq!(
        policy("allowed_fails: 1", ""),
        FailurePolicy::AllowedFails(1)
    );
    assert_eq!(policy("allowed_fails: 3", ""), FailurePolicy::FailureRate);
    assert_eq!(
        policy("allowed_fails: 1", "allowed_fails: 1"),
        FailurePolicy::FailureRate
    );
    assert_eq!(
        policy("allowed_fails: 3", "allowed_fails: 1"),
        FailurePolicy::AllowedFails(3)
    );
}

#[test]
fn bad_configs_get_one_line_reasons() {
    let cases = [
        ("{", "not valid YAML"),
        ("a: 1", "no model_list"),
        ("model_list: 3", "model_list must be a list"),
        ("model_list: []", "model_list is empty"),
        (
            "model_list: [{model_name: a}]",
            "model_list[0]: a: no litellm_params",
        ),
        (
            "model_list: [{model_name: a, litellm_params: {}}]",
            "no litellm_params.model",
        ),
        (
            "model_list: [{model_name: a, litellm_params: {model: x}}]\nrouter_settings: {fallbacks: [{a: [b]}]}",
            "name \"b\", which is not a model_name",
        ),
        (
            "model_list: [{model_name: a, litellm_params: {model: x}}]\nrouter_settings: {fallbacks: [a]}",
            "each entry must map",
        ),
        (
            "model_list: [{model_name: a, litellm_params: {model: x}}]\nrouter_settings: {num_retries: -1}",
            "num_retries must be a whole number",
        ),
        (
            "model_list: [{model_name: a, litellm_params: {model: x}}]\nrouter_settings: {timeout: soon}",
            "timeout must be a number of seconds",
        ),
        (
            "model_list: [{model_name: a, litellm_params: {model: x}}]\nrouter_settings: {timeout: 0}",
            "more than zero",
        ),
        (
            "model_list: [{model_name: a, litellm_params: {model: x}}]\nrouter_settings: [1]",
            "router_settings must be a mapping",
        ),
    ];
    for (config, reason) in cases {
        let error = parse(config, false).unwrap_err();
        assert!(error.contains(reason), "{config:?}: {error}");
        assert!(!error.contains('\n'), "{error}");
    }
}

#[test]
fn numbers_as_text_and_a_star_fallback() {
    let s = parse(
        "model_list:\n  - {model_name: a, litellm_params: {model: openai/a, api_key: k}}\n  - {model_name: b, litellm_params: {model: ollama/b}}\n\
         router_settings:\n  timeout: \"2.5\"\n  num_retries: \"1\"\n  fallbacks: [{\"*\": b}]\n",
        false,
    )
    .unwrap();
    assert_eq!(s.router.timeout, Duration::from_millis(2500));
    assert_eq!(s.router.num_retries, 1);
    assert_eq!(s.router.fallbacks_of("a").unwrap(), ["b"]);
    assert_eq!(s.default_primary(), Some("a"));
    // A `*` fallback alone names no primary of its own: the demo watches the default one.
    assert_eq!(s.watched_primaries(), ["a"]);
    assert_eq!(python_str(&Value::from(2.0)), "2.0");
    assert_eq!(python_str(&Value::Bool(true)), "True");
}

#[test]
fn the_example_of_several_groups_gives_each_primary_its_own_fallback() {
    assert_eq!(several(1), seed());
    let three = several(3);
    assert_eq!(
        three.watched_primaries(),
        ["llama-fp8", "qwen-72b", "mistral-large"]
    );
    for (primary, fallback) in [
        ("llama-fp8", "llama3"),
        ("qwen-72b", "qwen-7b"),
        ("mistral-large", "mistral-small"),
    ] {
        assert_eq!(three.first_fallback(primary), Some(fallback));
    }
    let (r, seed_r) = (&three.router, seed().router);
    assert_eq!(
        (r.num_retries, r.timeout, r.policy, r.cooldown),
        (
            seed_r.num_retries,
            seed_r.timeout,
            seed_r.policy,
            seed_r.cooldown
        )
    );
    assert!(three.deployments.iter().all(|d| !d.missing_api_key));
    let nine = several(MAX_GROUPS);
    assert_eq!(nine.watched_primaries().len(), 9);
    assert_eq!(nine.watched_primaries()[8], "group-9");
    assert_eq!(nine.first_fallback("group-4"), Some("group-4-small"));
    assert_eq!(nine.deployments.len(), 18);
    assert_eq!(seed().watched_primaries(), ["llama-fp8"]);
}
