//! LiteLLM's exceptions as its providers, router and proxy word them, for the faults the demo
//! can play. Pure.
//!
//! The wording was recorded from LiteLLM 1.83.14 on loopback. Two facts drive the router:
//! `ollama/` reports every failure as `litellm.APIConnectionError`, which never starts a
//! cooldown; `openai/` maps a refused or reset connection to a 500, which does.

use std::time::Duration;

use serde_json::{Value, json};

use super::settings::{Deployment, Provider, seconds_as_configured, seconds_as_float};

/// What went wrong with one call to one deployment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallFailure {
    /// Connection refused: the deployment is down.
    Refused,
    /// The connection closed before an answer (taken down while it hung).
    Disconnected,
    /// No answer within the router's timeout.
    TimedOut { after: Duration },
    /// An HTTP 500 with this body.
    ServerError { body: String },
}

/// The proxy's `error.type`: `null` for LiteLLM's exceptions, the text `"None"` for the
/// router's own "No deployments available".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorType {
    Null,
    NoneText,
}

/// An exception on its way through the router, and in the end the proxy's error answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteError {
    pub status: u16,
    pub error_type: ErrorType,
    pub message: String,
    /// LiteLLM's own exceptions have a `message` that the fallback logic extends; the
    /// router's "No deployments available" error has none and passes through unchanged.
    pub extendable: bool,
    /// Retries made before giving up, which Python's `str()` of the exception mentions.
    pub retried: Option<u32>,
}

impl RouteError {
    fn litellm(status: u16, message: String) -> Self {
        Self {
            status,
            error_type: ErrorType::Null,
            message,
            extendable: true,
            retried: None,
        }
    }

    /// The exception as Python's `str()` prints it (nested messages quote it so).
    pub fn text(&self) -> String {
        match self.retried {
            Some(n) if n > 0 => format!(
                "{} LiteLLM Retried: {n} times, LiteLLM Max Retries: {n}",
                self.message
            ),
            _ => self.message.clone(),
        }
    }

    /// `_is_cooldown_required`: not for a connection error of LiteLLM's own, nor for a 4xx
    /// other than 429, 401, 408 and 404.
    pub fn needs_cooldown(&self) -> bool {
        if self.text().contains("APIConnectionError") {
            return false;
        }
        !(400..500).contains(&self.status) || matches!(self.status, 429 | 401 | 408 | 404)
    }

    /// The proxy's JSON body for this error.
    pub fn body(&self) -> Value {
        let (error_type, param) = match self.error_type {
            ErrorType::Null => (Value::Null, Value::Null),
            ErrorType::NoneText => (json!("None"), json!("None")),
        };
        json!({"error": {
            "message": self.message,
            "type": error_type,
            "param": param,
            "code": self.status.to_string(),
        }})
    }
}

/// The exception LiteLLM raises for a failed call to `deployment`.
pub fn exception(deployment: &Deployment, failure: &CallFailure, timeout: Duration) -> RouteError {
    match deployment.provider {
        Provider::Ollama => ollama_exception(deployment, failure, timeout),
        Provider::OpenaiCompatible => openai_exception(deployment, failure, timeout),
    }
}

fn openai_exception(
    deployment: &Deployment,
    failure: &CallFailure,
    timeout: Duration,
) -> RouteError {
    let server_error = |detail: &str| {
        RouteError::litellm(
            500,
            format!("litellm.InternalServerError: InternalServerError: OpenAIException - {detail}"),
        )
    };
    match failure {
        CallFailure::Refused | CallFailure::Disconnected => server_error("Connection error."),
        CallFailure::TimedOut { after } => RouteError::litellm(
            408,
            format!(
                "litellm.Timeout: APITimeoutError - Request timed out. Error_str: Request timed \
                 out. - timeout value={}, time taken={} seconds\n\nDeployment Info: \
                 request_timeout: None\ntimeout: {}",
                seconds_as_float(timeout),
                python_round(*after, 2),
                deployment
                    .timeout
                    .map_or_else(|| "None".to_owned(), seconds_as_configured),
            ),
        ),
        // The OpenAI client quotes an error body's `error.message`, else the raw text.
        CallFailure::ServerError { body } => {
            let message = serde_json::from_str::<Value>(body)
                .ok()
                .and_then(|v| v.pointer("/error/message")?.as_str().map(str::to_owned));
            server_error(message.as_deref().unwrap_or(body))
        }
    }
}

fn ollama_exception(
    deployment: &Deployment,
    failure: &CallFailure,
    timeout: Duration,
) -> RouteError {
    let detail = match failure {
        CallFailure::Refused => {
            let (host, port) = host_and_port(deployment.api_base.as_deref());
            format!(
                "Cannot connect to host {host}:{port} ssl:<ssl.SSLContext object at \
                 0x7f82c6cab140> [Connect call failed ('{host}', {port})]"
            )
        }
        CallFailure::Disconnected => "Server disconnected".to_owned(),
        CallFailure::TimedOut { after } => format!(
            "litellm.Timeout: Connection timed out. Timeout passed={}, time taken={} seconds",
            seconds_as_float(timeout),
            python_round(*after, 3)
        ),
        CallFailure::ServerError { body } => body.clone(),
    };
    RouteError::litellm(
        500,
        format!("litellm.APIConnectionError: OllamaException - {detail}"),
    )
}

/// `api_base`'s host and port as aiohttp names them (Ollama's default when unset).
fn host_and_port(api_base: Option<&str>) -> (String, u16) {
    api_base
        .and_then(|base| reqwest::Url::parse(base).ok())
        .and_then(|url| Some((url.host_str()?.to_owned(), url.port_or_known_default()?)))
        .unwrap_or_else(|| ("localhost".to_owned(), 11434))
}

/// LiteLLM's failure before sending anything: an OpenAI-compatible deployment without a key.
pub fn missing_api_key() -> RouteError {
    RouteError::litellm(
        401,
        "litellm.AuthenticationError: AuthenticationError: OpenAIException - The api_key client \
         option must be set either by passing api_key to the client or by setting the \
         OPENAI_API_KEY environment variable"
            .to_owned(),
    )
}

/// The router's error when every deployment of `group` is cooling down.
pub fn no_deployments(group: &str, cooldown: Duration, cooldown_list: &[&str]) -> RouteError {
    RouteError {
        status: 429,
        error_type: ErrorType::NoneText,
        message: format!(
            "No deployments available for selected model, Try again in {} seconds. Passed \
             model={group}. pre-call-checks=False, cooldown_list={}",
            seconds_as_configured(cooldown),
            python_list(cooldown_list)
        ),
        extendable: false,
        retried: None,
    }
}

/// A group failed and the config has no fallbacks at all.
pub fn without_fallbacks(mut error: RouteError, group: &str) -> RouteError {
    if error.extendable {
        error.message.push_str(&format!(
            ". Received Model Group={group}\nAvailable Model Group Fallbacks=None"
        ));
    }
    error
}

/// A group failed and the fallbacks name none for it. `all_fallbacks` is the config's list
/// as Python prints it.
pub fn no_fallback_for(mut error: RouteError, group: &str, all_fallbacks: &str) -> RouteError {
    if !error.extendable {
        return error;
    }
    error.message.push_str(&format!(
        "No fallback model group found for original model_group={group}. Fallbacks={all_fallbacks}"
    ));
    let fallback_error = error.text();
    after_fallbacks(error, group, "None", &fallback_error)
}

/// A group failed, and so did its fallbacks (`fallback_error` is the last one's text).
pub fn after_fallbacks(
    mut error: RouteError,
    group: &str,
    fallbacks: &str,
    fallback_error: &str,
) -> RouteError {
    if error.extendable {
        error.message.push_str(&format!(
            ". Received Model Group={group}\nAvailable Model Group Fallbacks={fallbacks}"
        ));
        if !fallback_error.is_empty() {
            error
                .message
                .push_str(&format!("\nError doing the fallback: {fallback_error}"));
        }
    }
    error
}

/// A Python list of names, as `repr()` writes it: `['llama3']` (names with quotes or
/// controls in them are not quoted as Python would).
pub fn python_list<S: AsRef<str>>(items: &[S]) -> String {
    let items: Vec<String> = items.iter().map(|s| format!("'{}'", s.as_ref())).collect();
    format!("[{}]", items.join(", "))
}

/// Seconds rounded as Python's `round(x, digits)` prints them: `30.0`, `3.01`.
pub fn python_round(duration: Duration, digits: usize) -> String {
    let fixed = format!("{:.*}", digits, duration.as_secs_f64());
    let trimmed = fixed.trim_end_matches('0');
    if trimmed.ends_with('.') {
        format!("{trimmed}0")
    } else {
        trimmed.to_owned()
    }
}
