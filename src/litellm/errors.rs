//! LiteLLM's error texts and what they mean: the cause inside its long messages, the
//! deployments its cooldown answer lists, the usual misconfigurations and their fixes.

use std::time::Duration;

/// LiteLLM's message cut to its cause: `litellm.InternalServerError: InternalServerError:
/// OpenAIException - Connection error.` is `Connection error.`.
pub fn cause(message: &str) -> &str {
    let message = message
        .split_once(". Received Model Group=")
        .map_or(message, |(cause, _)| cause);
    let message = message
        .split_once(" LiteLLM: model group ")
        .map_or(message, |(cause, _)| cause);
    if !message.starts_with("litellm.") {
        return message.trim();
    }
    message
        .split_once(" - ")
        .map_or(message, |(_, cause)| cause)
        .trim()
}

/// LiteLLM without a database says this of a wrong key.
pub fn wrong_key(message: &str) -> bool {
    message.contains("No connected db")
}

/// LiteLLM's answer for a model group it does not have.
pub fn unknown_group(message: &str) -> bool {
    message.contains("Invalid model name")
}

/// The cooldown list and the configured cooldown of LiteLLM's "No deployments available"
/// message: `Try again in 10 seconds. ... cooldown_list=['027a...']`.
pub fn cooldown_of(message: &str) -> Option<(Vec<String>, Option<Duration>)> {
    if !message.contains("No deployments available") {
        return None;
    }
    let cooldown = message
        .split_once("Try again in ")
        .and_then(|(_, rest)| rest.split_once(" second"))
        .and_then(|(secs, _)| secs.trim().parse::<f64>().ok())
        .and_then(crate::clock::duration::from_secs);
    let list = message
        .split_once("cooldown_list=[")
        .and_then(|(_, rest)| rest.split_once(']'))
        .map(|(list, _)| list)
        .unwrap_or_default();
    let ids = list
        .split(',')
        .map(|id| id.trim().trim_matches(|c| c == '\'' || c == '"').to_owned())
        .filter(|id| !id.is_empty())
        .collect();
    Some((ids, cooldown))
}

/// What LiteLLM's error for the primary means, and what to do: the usual causes.
pub fn diagnose(message: &str) -> (Option<String>, &'static str) {
    let has = |words: &[&str]| words.iter().any(|w| message.contains(w));
    if has(&["api_key client option must be set", "Missing credentials"]) {
        return (
            Some("the primary fails inside LiteLLM for want of an api_key".to_owned()),
            "give the primary's deployment `api_key: \"none\"` (any string; LiteLLM's openai/ \
             provider wants one even for a server without keys) in the proxy's config, or set \
             OPENAI_API_KEY in the proxy's environment",
        );
    }
    if has(&[
        "Connection error",
        "Cannot connect to host",
        "Connection refused",
    ]) {
        return (
            Some(format!(
                "LiteLLM cannot connect to the primary's model server: {}",
                cause(message)
            )),
            "start the model server, or fix the deployment's api_base (the proxy must reach it)",
        );
    }
    if has(&["NotFoundError", "does not exist", "model_not_found", "404"]) {
        return (
            Some(format!(
                "the primary's model server does not know the model LiteLLM asks for: {}",
                cause(message)
            )),
            "fix the model name after the provider prefix in litellm_params.model",
        );
    }
    if has(&["AuthenticationError", "Incorrect API key", "401"]) {
        return (
            Some(format!(
                "the primary's model server refused LiteLLM's credentials: {}",
                cause(message)
            )),
            "check the deployment's api_key",
        );
    }
    if has(&["Timeout", "timed out"]) {
        return (
            Some(format!(
                "the primary did not answer within the router's timeout: {}",
                cause(message)
            )),
            "is the model server overloaded or hung?",
        );
    }
    // The model server answered, badly; LiteLLM relayed what it said (as seen on 1.83.14 and
    // 1.106.12: `RateLimitError ... - <its body>`, `Expecting value: line 1 column 1`).
    if has(&["RateLimitError"]) {
        return (
            Some(format!(
                "the primary's model server answered 429 (rate limited), LiteLLM relayed it: {}",
                cause(message)
            )),
            "the model server limits its rate: raise its limit or lower the traffic; LiteLLM \
             skips it for its Retry-After",
        );
    }
    if has(&[
        "Expecting value",
        "JSONDecodeError",
        "Invalid JSON",
        "not valid JSON",
    ]) {
        return (
            Some(format!(
                "the primary's model server answered something that is not JSON, LiteLLM \
                 relayed it: {}",
                cause(message)
            )),
            "is the deployment's api_base a chat completions server (its /v1)?",
        );
    }
    if has(&[
        "ServiceUnavailableError",
        "InternalServerError",
        "BadGatewayError",
        "APIError",
    ]) {
        return (
            Some(format!(
                "the primary's model server answered with an error, LiteLLM relayed it: {}",
                cause(message)
            )),
            "look in the model server's log: it fails, not LiteLLM",
        );
    }
    (None, "look in the proxy's log for the primary's error")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn litellms_cooldown_answer_lists_its_deployments() {
        let message = "No deployments available for selected model, Try again in 10 seconds. \
                       All deployments for selected model are in cooldown. Passed \
                       model=llama-fp8. pre-call-checks=False, cooldown_list=['027a', 'b1c2']";
        assert_eq!(
            cooldown_of(message),
            Some((
                vec!["027a".to_owned(), "b1c2".to_owned()],
                Some(Duration::from_secs(10))
            ))
        );
        assert_eq!(cooldown_of("litellm.InternalServerError: boom"), None);
    }
}

#[cfg(test)]
mod diagnose_tests {
    use super::*;

    /// The model server's own failures, as both releases relay them.
    #[test]
    fn an_upstream_that_answers_badly_is_named_as_the_cause() {
        for (message, said) in [
            (
                "litellm.RateLimitError: RateLimitError: OpenAIException - mock upstream: \
                 injected rate limit",
                "answered 429 (rate limited), LiteLLM relayed it: mock upstream: injected rate limit",
            ),
            (
                "litellm.InternalServerError: InternalServerError: OpenAIException - Expecting \
                 value: line 1 column 1 (char 0)",
                "answered something that is not JSON",
            ),
            (
                "litellm.ServiceUnavailableError: ServiceUnavailableError: OpenAIException - \
                 mock upstream: injected service unavailable",
                "answered with an error, LiteLLM relayed it: mock upstream: injected service",
            ),
            (
                "litellm.InternalServerError: InternalServerError: OpenAIException - mock \
                 upstream: injected internal server error",
                "answered with an error, LiteLLM relayed it",
            ),
        ] {
            let found = diagnose(message).0.expect(message);
            assert!(found.contains(said), "{found}");
        }
    }

    #[test]
    fn the_usual_causes_are_explained() {
        let (said, fix) = diagnose(
            "litellm.AuthenticationError: AuthenticationError: OpenAIException - The api_key \
             client option must be set either by passing api_key to the client or by setting \
             the OPENAI_API_KEY environment variable",
        );
        assert_eq!(
            said.as_deref(),
            Some("the primary fails inside LiteLLM for want of an api_key")
        );
        assert!(fix.contains("api_key: \"none\""));
        let (said, _) = diagnose(
            "litellm.InternalServerError: InternalServerError: OpenAIException - Missing \
             credentials. Please pass an `api_key`",
        );
        assert!(said.unwrap().contains("want of an api_key"));
        let (said, fix) = diagnose(
            "litellm.InternalServerError: InternalServerError: OpenAIException - Connection error.",
        );
        assert_eq!(
            said.as_deref(),
            Some("LiteLLM cannot connect to the primary's model server: Connection error.")
        );
        assert!(fix.contains("api_base"));
        assert_eq!(diagnose("something else").0, None);
    }
}
