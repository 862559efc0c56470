//! Failed probes sorted into kinds, with a short message a person can act on.

use std::error::Error as _;
use std::time::Duration;

use async_openai::error::OpenAIError;
use serde_json::Value;

use super::event::{ErrorKind, Failure};
use crate::litellm;
use crate::text::sanitize::clean;

/// Longest error message kept (LiteLLM's own run to about 900 characters).
pub const MESSAGE_CHARS: usize = 1000;
/// Longest excerpt of a body that is not what was expected.
const EXCERPT_CHARS: usize = 120;

/// Sorts an async-openai error, knowing the status the service saw (if any answer came),
/// whether a key went with the request and the probe's timeout.
pub fn classify(
    error: &OpenAIError,
    status: Option<u16>,
    key_sent: bool,
    timeout: Duration,
) -> Failure {
    let non_2xx = status.filter(|s| !(200..300).contains(s));
    if let Some(status) = non_2xx {
        let message = match error {
            // 5xx: the raw body; 4xx: LiteLLM's parsed message.
            OpenAIError::ApiError(api) => body_message(&api.api_error.message),
            // A 4xx body that is not `{"error":{...}}` (an HTML page, say).
            OpenAIError::JSONDeserialize(_, body) => body_message(body),
            other => transport_message(other),
        };
        return http_failure(status, &message, key_sent);
    }
    match error {
        OpenAIError::Reqwest(e) => transport_failure(e, timeout),
        OpenAIError::JSONDeserialize(_, body) => Failure {
            kind: ErrorKind::Decode,
            message: format!("the answer is not a chat completion: {}", excerpt(body)),
        },
        OpenAIError::StreamError(e) => Failure {
            kind: ErrorKind::Stream,
            message: clean(&format!("the stream broke: {e}"), MESSAGE_CHARS),
        },
        OpenAIError::ApiError(api) => Failure {
            kind: ErrorKind::Http,
            message: body_message(&api.api_error.message),
        },
        other => Failure {
            kind: ErrorKind::Reset,
            message: transport_message(other),
        },
    }
}

/// A failure for a non-2xx status, with a hint for the statuses people meet first, put first
/// so that a cut message still shows it. A 429 of the proxy's own rate limit for the key is
/// its own kind, said as such: never the primary or the fallback failing.
pub fn http_failure(status: u16, message: &str, key_sent: bool) -> Failure {
    if status == 429 && own_rate_limit(message) {
        return Failure {
            kind: ErrorKind::RateLimited,
            message: clean(
                &format!("the proxy's rate limit for this key ({message}): not a failover"),
                MESSAGE_CHARS,
            ),
        };
    }
    let hint = match status {
        401 if key_sent => Some("the proxy refused the key"),
        401 => Some("the proxy wants a key: set LITELLM_API_KEY or use --api-key-file"),
        403 => Some("the key may not use this model"),
        400 if litellm::errors::wrong_key(message) => Some(
            "the proxy rejected the key (LiteLLM without a database says this for a wrong key)",
        ),
        400 if litellm::errors::unknown_group(message) => {
            Some("the proxy has no such model group: check --primary")
        }
        404 => Some("check --url: is this a LiteLLM proxy?"),
        300..=399 => Some("a redirect, not followed: check --url"),
        _ => None,
    };
    let message = match hint {
        Some(hint) if hint.ends_with('?') => format!("{hint} {message}"),
        Some(hint) => format!("{hint}. {message}"),
        None => message.to_owned(),
    };
    Failure {
        kind: ErrorKind::Http,
        message: clean(&message, MESSAGE_CHARS),
    }
}

/// Whether a 429's message is the LiteLLM proxy's own limit on the key, its user, team or
/// end user (its rate-limit hooks, refusing before the router asks any model), as opposed to
/// the router's cooldown ("No deployments available …") or a model's own 429 relayed
/// ("litellm.RateLimitError: …"). The proxy sends a hook's text as the message verbatim, so
/// each is matched at the start; the texts are those of 1.83.14 and 1.106.12:
/// `parallel_request_limiter.py` ("LiteLLM Rate Limit Handler for rate limit type = …",
/// "Max parallel request limit reached …"), `parallel_request_limiter_v3.py` ("Rate limit
/// exceeded for api_key: …") and `dynamic_rate_limiter.py` ("Key=… over available RPM=…").
fn own_rate_limit(message: &str) -> bool {
    const STARTS: [&str; 3] = [
        "LiteLLM Rate Limit Handler for rate limit type",
        "Max parallel request limit reached",
        "Rate limit exceeded for ",
    ];
    let message = message.trim_start();
    STARTS.iter().any(|start| message.starts_with(start))
        || (message.starts_with("Key=")
            && (message.contains(" over available TPM=")
                || message.contains(" over available RPM=")))
}

pub fn timeout_failure(timeout: Duration) -> Failure {
    Failure {
        kind: ErrorKind::Timeout,
        message: format!(
            "no answer within {}",
            humantime::format_duration(Duration::from_millis(timeout.as_millis() as u64))
        ),
    }
}

fn transport_failure(error: &reqwest::Error, timeout: Duration) -> Failure {
    let cause = root_cause(error);
    // A connect timeout is a connection that could not be made, not a late answer.
    let (kind, message) = if error.is_connect() {
        (
            ErrorKind::Connect,
            format!("cannot connect to the proxy: {cause}"),
        )
    } else if error.is_timeout() {
        return timeout_failure(timeout);
    } else if speaks_no_http(error) {
        (
            ErrorKind::Protocol,
            format!("the answer is not valid HTTP: {cause}"),
        )
    } else {
        (ErrorKind::Reset, format!("the connection broke: {cause}"))
    };
    Failure {
        kind,
        message: clean(&message, MESSAGE_CHARS),
    }
}

/// Whether the server sent something that is not HTTP (a bad status line or header, a head too
/// large), as opposed to a connection that closed or broke.
fn speaks_no_http(error: &reqwest::Error) -> bool {
    let mut source = error.source();
    while let Some(inner) = source {
        if let Some(hyper) = inner.downcast_ref::<hyper::Error>() {
            return hyper.is_parse() || hyper.is_parse_status() || hyper.is_parse_too_large();
        }
        source = inner.source();
    }
    false
}

fn transport_message(error: &OpenAIError) -> String {
    match error {
        OpenAIError::Reqwest(e) => root_cause(e),
        other => clean(&other.to_string(), MESSAGE_CHARS),
    }
}

/// The innermost cause, cleaned for a message.
pub fn root_cause(error: &reqwest::Error) -> String {
    clean(&innermost_cause(error), MESSAGE_CHARS)
}

pub use crate::text::format::innermost_cause;

/// The message in an error body: LiteLLM's `{"error":{"message":...}}`, other common JSON
/// shapes, an HTML page's title, or an excerpt of whatever came.
pub fn body_message(body: &str) -> String {
    let trimmed = body.trim();
    if trimmed.is_empty() {
        return "(empty body)".to_owned();
    }
    if let Ok(json) = serde_json::from_str::<Value>(trimmed) {
        let message = json
            .pointer("/error/message")
            .or_else(|| json.get("error"))
            .or_else(|| json.get("detail"))
            .or_else(|| json.get("message"));
        if let Some(message) = message {
            let text = match message {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            return clean(&text, MESSAGE_CHARS);
        }
    }
    if looks_like_html(trimmed) {
        return match html_title(trimmed) {
            Some(title) => format!("an HTML page: {}", clean(&title, EXCERPT_CHARS)),
            None => format!("an HTML page: {}", excerpt(trimmed)),
        };
    }
    clean(trimmed, MESSAGE_CHARS)
}

/// A short, safe excerpt of a body, quoted.
pub fn excerpt(body: &str) -> String {
    let text = clean(body, EXCERPT_CHARS);
    if text.is_empty() {
        "(empty body)".to_owned()
    } else {
        format!("{text:?}")
    }
}

fn looks_like_html(body: &str) -> bool {
    let head: String = body
        .chars()
        .take(200)
        .collect::<String>()
        .to_ascii_lowercase();
    head.starts_with("<!doctype html") || head.contains("<html") || head.contains("<head")
}

fn html_title(body: &str) -> Option<String> {
    let lower = body.to_ascii_lowercase();
    let start = lower.find("<title>")? + "<title>".len();
    let end = start + lower[start..].find("</title>")?;
    body.get(start..end).map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn litellm_error_bodies_give_their_message() {
        let body = r#"{"error":{"message":"litellm.InternalServerError: boom\nAvailable Model Group Fallbacks=['llama3']","type":null,"param":null,"code":"500"}}"#;
        assert_eq!(
            body_message(body),
            "litellm.InternalServerError: boom Available Model Group Fallbacks=['llama3']"
        );
        assert_eq!(body_message(r#"{"detail":"Not Found"}"#), "Not Found");
        assert_eq!(body_message(r#"{"error":"quota"}"#), "quota");
    }

    #[test]
    fn html_pages_are_named_by_their_title() {
        let page = "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>";
        assert_eq!(body_message(page), "an HTML page: 502 Bad Gateway");
        assert!(body_message("<html><body>oops</body></html>").starts_with("an HTML page: \""));
    }

    #[test]
    fn plain_and_empty_bodies() {
        assert_eq!(body_message("upstream down"), "upstream down");
        assert_eq!(body_message("  "), "(empty body)");
        assert_eq!(excerpt("not json\u{1b}[31m"), "\"not json\"");
    }

    #[test]
    fn hints_for_the_usual_mistakes() {
        let f = http_failure(401, "Authentication Error, No api key passed in.", false);
        assert_eq!(f.kind, ErrorKind::Http);
        assert!(
            f.message
                .starts_with("the proxy wants a key: set LITELLM_API_KEY"),
            "{}",
            f.message
        );
        let f = http_failure(
            401,
            "Authentication Error, Invalid proxy server token.",
            true,
        );
        assert!(
            f.message
                .starts_with("the proxy refused the key. Authentication"),
            "{}",
            f.message
        );
        let f = http_failure(400, "No connected db.", true);
        assert!(f.message.contains("rejected the key"), "{}", f.message);
        let f = http_failure(500, "boom", true);
        assert_eq!(f.message, "boom");
        let f = http_failure(404, "(empty body)", true);
        assert_eq!(
            f.message,
            "check --url: is this a LiteLLM proxy? (empty body)"
        );
    }

    /// The bodies LiteLLM 1.83.14 and 1.106.12 send for the proxy's own limits, as their
    /// rate-limit hooks word them (the ProxyException body: the hook's detail as the message).
    #[test]
    fn the_proxys_own_rate_limit_is_its_own_kind() {
        let bodies = [
            // parallel_request_limiter.py, a key over its rpm_limit (both releases).
            r#"{"error":{"message":"LiteLLM Rate Limit Handler for rate limit type = key. Crossed TPM / RPM / Max Parallel Request Limit. current rpm: 1, rpm limit: 1, current tpm: 12, tpm limit: 9223372036854775807, current max_parallel_requests: 0, max_parallel_requests: 9223372036854775807","type":"None","param":"None","code":"429"}}"#,
            // Its limit set to 0 (1.106.12 words it; 1.83.14 the same after "reached ").
            r#"{"error":{"message":"Max parallel request limit reached Crossed TPM / RPM / Max Parallel Request Limit. Hit limit for key. Current limits: max_parallel_requests: 0, tpm_limit: 100, rpm_limit: 100","type":"rate_limit_error","param":null,"code":"429"}}"#,
            // parallel_request_limiter_v3.py (the default limiter), the key's hash named.
            r#"{"error":{"message":"Rate limit exceeded for api_key: 88dc28d0f030c55ed4ab77ed8faf098196cb1c05df778539800c9f1243fe6b4b. Limit type: requests. Current limit: 1, Remaining: 0. Limit resets at: 2026-12-07 02:31:00 UTC","type":"None","param":"None","code":"429"}}"#,
            r#"{"error":{"message":"Rate limit exceeded for team: t-1. Limit type: tokens. Current limit: 100, Remaining: 0. Limit resets at: 2026-12-07 02:31:00 UTC","type":"None","param":"None","code":"429"}}"#,
            // dynamic_rate_limiter.py, its detail {"error": …}.
            r#"{"error":{"message":"Key=88dc28d0 over available RPM=0. Model RPM=10, Active keys=3","type":"None","param":"None","code":"429"}}"#,
        ];
        for body in bodies {
            let f = http_failure(429, &body_message(body), true);
            assert_eq!(f.kind, ErrorKind::RateLimited, "{body}");
            assert!(
                f.message
                    .starts_with("the proxy's rate limit for this key (")
                    && f.message.ends_with("): not a failover"),
                "{}",
                f.message
            );
        }
        // The router's cooldown (a capture of 1.83.14, d08-direct-cooling-5s-later) and a model's own 429 relayed
        // are the primary's state, not the key's limit.
        for body in [
            r#"{"error":{"message":"No deployments available for selected model, Try again in 10 seconds. Passed model=llama-fp8. pre-call-checks=False, cooldown_list=['027a60b4976e264d7fe2dc8bd46356c9813c78f0a33bc4c8116136f5a9739210']","type":"None","param":"None","code":"429"}}"#,
            r#"{"error":{"message":"litellm.RateLimitError: RateLimitError: OpenAIException - Rate limit exceeded for requests. Received Model Group=llama-fp8","type":null,"param":null,"code":"429"}}"#,
        ] {
            assert_eq!(
                http_failure(429, &body_message(body), true).kind,
                ErrorKind::Http
            );
        }
        // The same words under another status are not the limiter's.
        let text = "Rate limit exceeded for api_key: x";
        assert_eq!(http_failure(500, text, true).kind, ErrorKind::Http);
    }

    #[test]
    fn a_timeout_names_the_limit() {
        assert_eq!(
            timeout_failure(Duration::from_millis(1500)).message,
            "no answer within 1s 500ms"
        );
    }
}
