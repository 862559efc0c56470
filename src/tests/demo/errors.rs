//! The demo's `errors`.

use std::time::Duration;

use serde_json::json;

use crate::demo::config_file::seed;
use crate::demo::errors::*;

#[test]
fn provider_wording() {
    let s = seed();
    let (ollama, openai) = (&s.deployments[0], &s.deployments[1]);
    let t = Duration::from_secs(30);
    let refused = exception(openai, &CallFailure::Refused, t);
    assert_eq!(
        refused.message,
        "litellm.InternalServerError: InternalServerError: OpenAIException - Connection error."
    );
    assert_eq!(refused.status, 500);
    assert!(refused.needs_cooldown());

    let down = exception(ollama, &CallFailure::Refused, t);
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
        exception(openai, &openai500, t).message,
        "litellm.InternalServerError: InternalServerError: OpenAIException - injected internal server error"
    );
    let ollama500 = CallFailure::ServerError {
        body: r#"{"error":"injected internal server error"}"#.into(),
    };
    assert_eq!(
        exception(ollama, &ollama500, t).message,
        r#"litellm.APIConnectionError: OllamaException - {"error":"injected internal server error"}"#
    );

    let hang = exception(
        openai,
        &CallFailure::TimedOut {
            after: Duration::from_millis(3010),
        },
        Duration::from_secs(3),
    );
    assert_eq!(hang.status, 408);
    assert!(hang.message.starts_with(
        "litellm.Timeout: APITimeoutError - Request timed out. Error_str: Request timed out. - timeout value=3.0, time taken=3.01 seconds\n\nDeployment Info: request_timeout: None\ntimeout: None"
    ));
    assert!(hang.needs_cooldown(), "a timeout (408) cools down");
}

#[test]
fn the_recorded_outage_message() {
    // The real proxy's answer with both upstreams refused, with the recording's api_bases.
    let mut s = seed();
    s.deployments[0].api_base = Some("http://127.0.0.1:11434".into());
    let (ollama, openai) = (&s.deployments[0], &s.deployments[1]);
    let t = Duration::from_secs(30);
    let fallbacks = "[{'llama-fp8': ['llama3']}]";
    let inner = no_fallback_for(
        exception(ollama, &CallFailure::Refused, t),
        "llama3",
        fallbacks,
    );
    let outer = after_fallbacks(
        exception(openai, &CallFailure::Refused, t),
        "llama-fp8",
        &python_list(&["llama3"]),
        &inner.text(),
    );
    let recorded = "litellm.InternalServerError: InternalServerError: OpenAIException - Connection error.. Received Model Group=llama-fp8\nAvailable Model Group Fallbacks=['llama3']\nError doing the fallback: litellm.APIConnectionError: OllamaException - Cannot connect to host 127.0.0.1:11434 ssl:<ssl.SSLContext object at 0x7f82c6cab140> [Connect call failed ('127.0.0.1', 11434)]No fallback model group found for original model_group=llama3. Fallbacks=[{'llama-fp8': ['llama3']}]. Received Model Group=llama3\nAvailable Model Group Fallbacks=None\nError doing the fallback: litellm.APIConnectionError: OllamaException - Cannot connect to host 127.0.0.1:11434 ssl:<ssl.SSLContext object at 0x7f82c6cab140> [Connect call failed ('127.0.0.1', 11434)]No fallback model group found for original model_group=llama3. Fallbacks=[{'llama-fp8': ['llama3']}]";
    assert_eq!(outer.message, recorded);
    assert_eq!(
        outer.body(),
        json!({"error": {"message": recorded, "type": null, "param": null, "code": "500"}})
    );
}

#[test]
fn the_routers_own_error_passes_through_unchanged() {
    let e = no_deployments("llama-fp8", Duration::from_secs(10), &["027a"]);
    assert_eq!(
        e.message,
        "No deployments available for selected model, Try again in 10 seconds. Passed model=llama-fp8. pre-call-checks=False, cooldown_list=['027a']"
    );
    assert_eq!(
        after_fallbacks(e.clone(), "llama-fp8", "['llama3']", "x"),
        e
    );
    assert_eq!(no_fallback_for(e.clone(), "llama-fp8", "[]"), e);
    assert_eq!(without_fallbacks(e.clone(), "llama-fp8"), e);
    assert_eq!(
        e.body(),
        json!({"error": {"message": e.message, "type": "None", "param": "None", "code": "429"}})
    );
}

#[test]
fn retries_show_in_the_text_only() {
    let mut e = missing_api_key();
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
