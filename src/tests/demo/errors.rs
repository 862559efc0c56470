//! The demo's `errors`.

use std::time::Duration;

use serde_json::json;

use crate::modes::demo::config_file::seed;
use crate::modes::demo::errors::*;
use crate::modes::demo::settings::Release::{self, V1_83, V1_106};

#[test]
fn provider_wording() {
    let s = seed();
    let (ollama, openai) = (&s.deployments[0], &s.deployments[1]);
    let t = Duration::from_secs(30);
    let refused = exception(openai, &CallFailure::Refused, t, V1_83);
    assert_eq!(
        refused.message,
        "litellm.InternalServerError: InternalServerError: OpenAIException - Connection error."
    );
    assert_eq!(refused.status, 500);
    assert!(refused.needs_cooldown());

    let down = exception(ollama, &CallFailure::Refused, t, V1_83);
    assert_eq!(
        down.message,
        "litellm.APIConnectionError: OllamaException - Cannot connect to host ollama:11434 \
         ssl:<ssl.SSLContext object at 0x7f82c6cab140> [Connect call failed ('ollama', 11434)]"
    );
    assert!(!down.needs_cooldown(), "Ollama failures never cool down");

    let openai500 = CallFailure::ServerError {
        body: r#"{"error":{"message":"injected internal server error","type":"server_error"}}"#
            .into(),
    };
    assert_eq!(
        exception(openai, &openai500, t, V1_83).message,
        "litellm.InternalServerError: InternalServerError: OpenAIException - injected internal server error"
    );
    let ollama500 = CallFailure::ServerError {
        body: r#"{"error":"injected internal server error"}"#.into(),
    };
    assert_eq!(
        exception(ollama, &ollama500, t, V1_83).message,
        r#"litellm.APIConnectionError: OllamaException - {"error":"injected internal server error"}"#
    );

    let hang = exception(
        openai,
        &CallFailure::TimedOut {
            after: Duration::from_millis(3010),
        },
        Duration::from_secs(3),
        V1_83,
    );
    assert_eq!(hang.status, 408);
    assert!(hang.message.starts_with(
        "litellm.Timeout: APITimeoutError - Request timed out. Error_str: Request timed out. - timeout value=3.0, time taken=3.01 seconds\n\nDeployment Info: request_timeout: None\ntimeout: None"
    ));
    assert!(hang.needs_cooldown(), "a timeout (408) cools down");
}

/// Both upstreams refused: the errors of the primary and of its fallback (which has no
/// fallback of its own), as the router nests them, with the recording's api_bases.
fn outage(release: Release) -> RouteError {
    let mut s = seed();
    s.deployments[0].api_base = Some("http://127.0.0.1:11434".into());
    let (ollama, openai) = (&s.deployments[0], &s.deployments[1]);
    let t = Duration::from_secs(30);
    let fallbacks = s.router.fallbacks.clone().unwrap();
    let inner = no_fallback_for(
        exception(ollama, &CallFailure::Refused, t, release),
        "llama3",
        &fallbacks,
        release,
    );
    after_fallbacks(
        exception(openai, &CallFailure::Refused, t, release),
        "llama-fp8",
        &["llama3".to_owned()],
        &inner,
        release,
    )
}

#[test]
fn the_recorded_outage_message() {
    let recorded = "litellm.InternalServerError: InternalServerError: OpenAIException - Connection error.. Received Model Group=llama-fp8\nAvailable Model Group Fallbacks=['llama3']\nError doing the fallback: litellm.APIConnectionError: OllamaException - Cannot connect to host 127.0.0.1:11434 ssl:<ssl.SSLContext object at 0x7f82c6cab140> [Connect call failed ('127.0.0.1', 11434)]No fallback model group found for original model_group=llama3. Fallbacks=[{'llama-fp8': ['llama3']}]. Received Model Group=llama3\nAvailable Model Group Fallbacks=None\nError doing the fallback: litellm.APIConnectionError: OllamaException - Cannot connect to host 127.0.0.1:11434 ssl:<ssl.SSLContext object at 0x7f82c6cab140> [Connect call failed ('127.0.0.1', 11434)]No fallback model group found for original model_group=llama3. Fallbacks=[{'llama-fp8': ['llama3']}]";
    let outer = outage(V1_83);
    assert_eq!(outer.message, recorded);
    assert_eq!(
        outer.body(),
        json!({"error": {"message": recorded, "type": null, "param": null, "code": "500"}})
    );
    // 1.106 says it in sentences, hides the host, and types the error.
    let recorded = "litellm.InternalServerError: InternalServerError: OpenAIException - Connection error.\n\nLiteLLM: model group 'llama-fp8' failed with the error above. Fallback to llama3 also failed: litellm.APIConnectionError: OllamaException - Cannot connect to host REDACTED:11434 ssl:<ssl.SSLContext object at 0x7fab02c199a0> [Connect call failed ('REDACTED', 11434)]";
    assert_eq!(
        outage(V1_106).body(),
        json!({"error": {"message": recorded, "type": "internal_server_error", "param": null, "code": "500"}})
    );
}

#[test]
fn the_routers_own_error_passes_through_unchanged() {
    let e = no_deployments("llama-fp8", Duration::from_secs(10), &["027a"], V1_83);
    assert_eq!(
        e.message,
        "No deployments available for selected model, Try again in 10 seconds. Passed model=llama-fp8. pre-call-checks=False, cooldown_list=['027a']"
    );
    let fallbacks = seed().router.fallbacks.unwrap();
    let groups = ["llama3".to_owned()];
    assert_eq!(
        after_fallbacks(e.clone(), "llama-fp8", &groups, &e, V1_83),
        e
    );
    assert_eq!(
        no_fallback_for(e.clone(), "llama-fp8", &fallbacks, V1_83),
        e
    );
    assert_eq!(without_fallbacks(e.clone(), "llama-fp8", V1_83), e);
    assert_eq!(
        e.body(),
        json!({"error": {"message": e.message, "type": "None", "param": "None", "code": "429"}})
    );
    assert_eq!(e.retry_after, None);
    // 1.106 says why, types it, and says when to try again in a header.
    let e = no_deployments("llama-fp8", Duration::from_secs(10), &["027a"], V1_106);
    assert_eq!(
        e.body(),
        json!({"error": {
            "message": "No deployments available for selected model, Try again in 10 seconds. All deployments for selected model are in cooldown. Passed model=llama-fp8. pre-call-checks=False, cooldown_list=['027a']",
            "type": "all_deployments_in_cooldown", "param": null, "code": "429"}})
    );
    assert_eq!(e.retry_after, Some(Duration::from_secs(10)));
}

#[test]
fn without_fallbacks_each_release_says_so_its_way() {
    let s = seed();
    let t = Duration::from_secs(30);
    let refused = |release| exception(&s.deployments[1], &CallFailure::Refused, t, release);
    assert_eq!(
        without_fallbacks(refused(V1_83), "llama-fp8", V1_83).message,
        "litellm.InternalServerError: InternalServerError: OpenAIException - Connection error.. Received Model Group=llama-fp8\nAvailable Model Group Fallbacks=None"
    );
    assert_eq!(
        without_fallbacks(refused(V1_106), "llama-fp8", V1_106).message,
        "litellm.InternalServerError: InternalServerError: OpenAIException - Connection error.\n\nLiteLLM: model group 'llama-fp8' failed with the error above. No fallback was attempted."
    );
    // An Ollama 500 is an internal server error on 1.106, and so starts a cooldown there.
    let body = r#"{"error":"mock 500: injected fault"}"#.to_owned();
    let ollama500 = exception(
        &s.deployments[0],
        &CallFailure::ServerError { body },
        t,
        V1_106,
    );
    assert_eq!(
        ollama500.message,
        r#"litellm.InternalServerError: OllamaException - {"error": "mock 500: injected fault"}"#
    );
    assert!(ollama500.needs_cooldown());
}

#[test]
fn retries_show_in_the_text_only() {
    let mut e = missing_api_key(V1_83);
    e.retried = Some(2);
    assert!(
        e.text()
            .ends_with(" LiteLLM Retried: 2 times, LiteLLM Max Retries: 2")
    );
    assert!(!e.message.contains("Retried"));
}

#[test]
fn python_forms() {
    assert_eq!(python_list(&["x", "y"]), "['x', 'y']");
    assert_eq!(python_list::<&str>(&[]), "[]");
    assert_eq!(python_round(Duration::from_millis(30_000), 2), "30.0");
    assert_eq!(python_round(Duration::from_millis(3_001), 3), "3.001");
    assert_eq!(python_round(Duration::from_millis(3_100), 2), "3.1");
}
