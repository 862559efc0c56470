//! LiteLLM's exceptions as its providers, router and proxy word them, for the faults the demo
//! can play. Pure.
//!
//! The wording was recorded from LiteLLM 1.83.14 and 1.106.12 on loopback; where they differ,
//! each release has its own. Two facts drive the router: `ollama/` reports a refused or broken
//! connection as `litellm.APIConnectionError`, which never starts a cooldown (1.83 says so of
//! every Ollama failure); `openai/` maps a refused or reset connection to a 500, which does.

use std::time::Duration;

use serde_json::{Value, json};

use super::settings::{
    DeploymentConfig, Fallback, Provider, Release, seconds_as_configured, seconds_as_float,
};

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

/// The proxy's `error.type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorType {
    /// `null`: LiteLLM's exceptions on 1.83.
    Null,
    /// The text `"None"`: the router's own "No deployments available" on 1.83.
    NoneText,
    /// `"internal_server_error"`: a 500 on 1.106.
    Internal,
    /// `"all_deployments_in_cooldown"`: the router's own 429 on 1.106.
    Cooldown,
}

/// An exception on its way through the router, and in the end the proxy's error answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteError {
    /// The exception's status, which the router's rules read.
    pub status: u16,
    /// The status the proxy answers with (a missing key's 401 is answered as a 500).
    pub code: u16,
    pub error_type: ErrorType,
    pub message: String,
    /// The exception's own message, before the fallback logic extended it (1.106 quotes a
    /// failed fallback's so).
    pub cause: String,
    /// LiteLLM's own exceptions have a `message` that the fallback logic extends; the
    /// router's "No deployments available" error has none and passes through unchanged.
    pub extendable: bool,
    /// Retries made before giving up, which Python's `str()` of the exception mentions.
    pub retried: Option<u32>,
    /// The `retry-after` header of the answer (1.106's cooldown 429).
    pub retry_after: Option<Duration>,
}

impl RouteError {
    fn litellm(status: u16, message: String, release: Release) -> Self {
        let error_type = match (release, status) {
            (Release::V1_106, 500) => ErrorType::Internal,
            _ => ErrorType::Null,
        };
        Self {
            status,
            code: status,
            error_type,
            cause: message.clone(),
            message,
            extendable: true,
            retried: None,
            retry_after: None,
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
            ErrorType::Internal => (json!("internal_server_error"), Value::Null),
            ErrorType::Cooldown => (json!("all_deployments_in_cooldown"), Value::Null),
        };
        json!({"error": {
            "message": self.message,
            "type": error_type,
            "param": param,
            "code": self.code.to_string(),
        }})
    }
}

/// The exception LiteLLM raises for a failed call to `deployment`.
pub fn exception(
    deployment: &DeploymentConfig,
    failure: &CallFailure,
    timeout: Duration,
    release: Release,
) -> RouteError {
    match deployment.provider {
        Provider::Ollama => ollama_exception(deployment, failure, timeout, release),
        Provider::OpenaiCompatible => openai_exception(deployment, failure, timeout, release),
    }
}

fn openai_exception(
    deployment: &DeploymentConfig,
    failure: &CallFailure,
    timeout: Duration,
    release: Release,
) -> RouteError {
    let server_error = |detail: &str| {
        RouteError::litellm(
            500,
            format!("litellm.InternalServerError: InternalServerError: OpenAIException - {detail}"),
            release,
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
            release,
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
    deployment: &DeploymentConfig,
    failure: &CallFailure,
    timeout: Duration,
    release: Release,
) -> RouteError {
    let detail = match failure {
        CallFailure::Refused => {
            let (host, port) = host_and_port(deployment.api_base.as_deref());
            // 1.106 hides the host; each recording has its own object address.
            let (host, object) = match release {
                Release::V1_83 => (host, "0x7f82c6cab140"),
                Release::V1_106 => ("REDACTED".to_owned(), "0x7fab02c199a0"),
            };
            format!(
                "Cannot connect to host {host}:{port} ssl:<ssl.SSLContext object at {object}> \
                 [Connect call failed ('{host}', {port})]"
            )
        }
        CallFailure::Disconnected => "Server disconnected".to_owned(),
        CallFailure::TimedOut { after } => format!(
            "litellm.Timeout: Connection timed out. Timeout passed={}, time taken={} seconds",
            seconds_as_float(timeout),
            python_round(*after, 3)
        ),
        // 1.106 reports an Ollama 500 as what it is, its body as Python's json.dumps writes it.
        CallFailure::ServerError { body } if release == Release::V1_106 => {
            let body = serde_json::from_str::<Value>(body)
                .map_or_else(|_| body.clone(), |v| python_json(&v));
            return RouteError::litellm(
                500,
                format!("litellm.InternalServerError: OllamaException - {body}"),
                release,
            );
        }
        CallFailure::ServerError { body } => body.clone(),
    };
    RouteError::litellm(
        500,
        format!("litellm.APIConnectionError: OllamaException - {detail}"),
        release,
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
pub fn missing_api_key(release: Release) -> RouteError {
    match release {
        Release::V1_83 => RouteError {
            code: 500,
            ..RouteError::litellm(
                401,
                "litellm.AuthenticationError: AuthenticationError: OpenAIException - The api_key \
                 client option must be set either by passing api_key to the client or by \
                 setting the OPENAI_API_KEY environment variable"
                    .to_owned(),
                release,
            )
        },
        Release::V1_106 => RouteError::litellm(
            500,
            "litellm.InternalServerError: InternalServerError: OpenAIException - Missing \
             credentials. Please pass an `api_key`, `workload_identity`, `admin_api_key`, or set \
             the `OPENAI_API_KEY` or `OPENAI_ADMIN_KEY` environment variable."
                .to_owned(),
            release,
        ),
    }
}

/// The router's error when every deployment of `group` is cooling down.
pub fn no_deployments(
    group: &str,
    cooldown: Duration,
    cooldown_list: &[&str],
    release: Release,
) -> RouteError {
    let (said, error_type, retry_after) = match release {
        Release::V1_83 => ("", ErrorType::NoneText, None),
        Release::V1_106 => (
            " All deployments for selected model are in cooldown.",
            ErrorType::Cooldown,
            Some(cooldown),
        ),
    };
    let message = format!(
        "No deployments available for selected model, Try again in {} seconds.{said} Passed \
         model={group}. pre-call-checks=False, cooldown_list={}",
        seconds_as_configured(cooldown),
        python_list(cooldown_list)
    );
    RouteError {
        status: 429,
        code: 429,
        error_type,
        cause: message.clone(),
        message,
        extendable: false,
        retried: None,
        retry_after,
    }
}

/// 1.106's words after a group failed: `model group 'G' failed with the error above...`.
fn failed_group(group: &str, rest: &str) -> String {
    format!("\n\nLiteLLM: model group '{group}' failed with the error above{rest}")
}

/// A group failed and the config has no fallbacks at all.
pub fn without_fallbacks(mut error: RouteError, group: &str, release: Release) -> RouteError {
    if error.extendable {
        error.message.push_str(&match release {
            Release::V1_83 => {
                format!(". Received Model Group={group}\nAvailable Model Group Fallbacks=None")
            }
            Release::V1_106 => failed_group(group, ". No fallback was attempted."),
        });
    }
    error
}

/// A group failed and the config's `fallbacks` name none for it.
pub fn no_fallback_for(
    mut error: RouteError,
    group: &str,
    fallbacks: &[Fallback],
    release: Release,
) -> RouteError {
    if !error.extendable {
        return error;
    }
    match release {
        Release::V1_83 => {
            let entries: Vec<String> = fallbacks
                .iter()
                .map(|f| format!("{{'{}': {}}}", f.from, python_list(&f.to)))
                .collect();
            error.message.push_str(&format!(
                "No fallback model group found for original model_group={group}. Fallbacks=[{}]",
                entries.join(", ")
            ));
            let fallback_error = error.clone();
            after_fallbacks(error, group, &[], &fallback_error, release)
        }
        Release::V1_106 => {
            let configured: Vec<&str> = fallbacks.iter().map(|f| f.from.as_str()).collect();
            error.message.push_str(&failed_group(
                group,
                &format!(
                    " and no fallback model group was found for it, so the request was not \
                     retried on another model. Fallbacks are configured for: {}. Add a \
                     fallbacks entry for that model group (Router fallbacks or proxy \
                     router_settings.fallbacks) to retry on another model.",
                    configured.join(", ")
                ),
            ));
            error
        }
    }
}

/// A group failed, and so did its fallback groups `fallbacks` (`last` the last one's error).
pub fn after_fallbacks(
    mut error: RouteError,
    group: &str,
    fallbacks: &[String],
    last: &RouteError,
    release: Release,
) -> RouteError {
    if !error.extendable {
        return error;
    }
    match release {
        Release::V1_83 => {
            let names = if fallbacks.is_empty() {
                "None".to_owned()
            } else {
                python_list(fallbacks)
            };
            error.message.push_str(&format!(
                ". Received Model Group={group}\nAvailable Model Group Fallbacks={names}\nError \
                 doing the fallback: {}",
                last.text()
            ));
        }
        Release::V1_106 => error.message.push_str(&failed_group(
            group,
            &format!(
                ". Fallback to {} also failed: {}",
                fallbacks.join(", "),
                last.cause
            ),
        )),
    }
    error
}

/// A JSON value as Python's `json.dumps` writes it: `{"error": "..."}`.
fn python_json(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let entries: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{}: {}", Value::from(k.as_str()), python_json(v)))
                .collect();
            format!("{{{}}}", entries.join(", "))
        }
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(python_json).collect();
            format!("[{}]", items.join(", "))
        }
        other => other.to_string(),
    }
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
