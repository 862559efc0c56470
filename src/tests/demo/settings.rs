//! The demo's `settings`.

use std::time::Duration;

use crate::modes::demo::settings::*;

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
    let mut s = crate::modes::demo::config_file::seed();
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
