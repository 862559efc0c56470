//! The headers LiteLLM's answers carry (`x-litellm-*`), and what an answer's headers tell:
//! who served it, after how many fallbacks, which release, the router's timeout. Read by the
//! prober, written by the demo's simulated gateway.

use std::time::Duration;

use reqwest::header::HeaderMap;

/// The model group that served (normal answers; streams too from 1.106).
pub const MODEL_GROUP: &str = "x-litellm-model-group";
/// The deployment that served, as `/model/info` names it (`model_info.id`).
pub const MODEL_ID: &str = "x-litellm-model-id";
/// The api_base of the deployment that served.
pub const MODEL_API_BASE: &str = "x-litellm-model-api-base";
/// How many fallbacks the router tried before this answer.
pub const ATTEMPTED_FALLBACKS: &str = "x-litellm-attempted-fallbacks";
/// How many retries in the same group before this answer.
pub const ATTEMPTED_RETRIES: &str = "x-litellm-attempted-retries";
/// The retries the router allows (`num_retries`).
pub const MAX_RETRIES: &str = "x-litellm-max-retries";
/// The deployment's model (`ollama/llama3`; 1.106 and later).
pub const MODEL_NAME: &str = "x-litellm-model-name";
/// The proxy's LiteLLM release (on successful answers).
pub const VERSION: &str = "x-litellm-version";
/// The router's limit for one call to a model (on errors).
pub const TIMEOUT: &str = "x-litellm-timeout";
/// The proxy's id of the call.
pub const CALL_ID: &str = "x-litellm-call-id";
/// What the call cost, by the proxy's price map.
pub const RESPONSE_COST: &str = "x-litellm-response-cost";
/// What the key has spent.
pub const KEY_SPEND: &str = "x-litellm-key-spend";
/// The proxy's time for the call that succeeded (not the failed ones before it).
pub const RESPONSE_DURATION_MS: &str = "x-litellm-response-duration-ms";

/// The `x-litellm-*` headers of an answer, as far as they were present.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Route {
    pub model_group: Option<String>,
    pub model_id: Option<String>,
    pub api_base: Option<String>,
    pub attempted_fallbacks: Option<u32>,
    pub attempted_retries: Option<u32>,
    /// `x-litellm-model-name`: the deployment's model (`ollama/llama3`; 1.106 and later).
    pub model_name: Option<String>,
    /// `x-litellm-version`: the proxy's LiteLLM release (on successful answers).
    pub version: Option<String>,
    /// `x-litellm-timeout`: the router's limit for one call to a model (on errors).
    pub router_timeout: Option<Duration>,
    /// What the router's "No deployments available" answer said (a 429's body).
    pub cooling: Option<Cooling>,
    /// Why the proxy's deployments (`GET /model/info`) could not be read when this answer
    /// needed them to be attributed.
    pub lookup_failure: Option<String>,
}

/// The deployments LiteLLM holds in cooldown, as its 429 lists them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Cooling {
    /// `cooldown_list`: the deployments' ids.
    pub ids: Vec<String>,
    /// Their api_bases, from `/model/info`, where known.
    pub api_bases: Vec<String>,
    /// The configured cooldown ("Try again in 10 seconds"), not the time left.
    pub cooldown: Option<Duration>,
}

/// LiteLLM's routing headers; values that are not text are treated as absent.
pub fn route_from_headers(headers: &HeaderMap) -> Route {
    let text = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(|v| crate::text::sanitize::clean(v, 200))
            .filter(|v| !v.is_empty())
    };
    let number = |name: &str| text(name).and_then(|v| v.parse::<u32>().ok());
    let seconds = text(TIMEOUT)
        .and_then(|v| v.parse::<f64>().ok())
        .and_then(crate::clock::duration::from_secs);
    Route {
        model_group: text(MODEL_GROUP),
        model_id: text(MODEL_ID),
        api_base: text(MODEL_API_BASE),
        attempted_fallbacks: number(ATTEMPTED_FALLBACKS),
        attempted_retries: number(ATTEMPTED_RETRIES),
        model_name: text(MODEL_NAME),
        version: text(VERSION),
        router_timeout: seconds,
        ..Route::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderMap;

    #[test]
    fn reads_litellm_routing_headers() {
        let mut headers = HeaderMap::new();
        headers.insert("x-litellm-model-group", "llama3".parse().unwrap());
        headers.insert("x-litellm-model-id", "3f7c".parse().unwrap());
        headers.insert(
            "x-litellm-model-api-base",
            "http://127.0.0.1:11434".parse().unwrap(),
        );
        headers.insert("x-litellm-attempted-fallbacks", "1".parse().unwrap());
        headers.insert("x-litellm-attempted-retries", "zero".parse().unwrap());
        headers.insert("x-litellm-model-name", "ollama/llama3".parse().unwrap());
        headers.insert("x-litellm-version", "1.106.12".parse().unwrap());
        headers.insert("x-litellm-timeout", "30.0".parse().unwrap());
        let route = route_from_headers(&headers);
        assert_eq!(route.model_group.as_deref(), Some("llama3"));
        assert_eq!(route.model_id.as_deref(), Some("3f7c"));
        assert_eq!(route.api_base.as_deref(), Some("http://127.0.0.1:11434"));
        assert_eq!(route.attempted_fallbacks, Some(1));
        assert_eq!(route.attempted_retries, None);
        assert_eq!(route.model_name.as_deref(), Some("ollama/llama3"));
        assert_eq!(route.version.as_deref(), Some("1.106.12"));
        assert_eq!(
            route.router_timeout,
            Some(std::time::Duration::from_secs(30))
        );
        assert_eq!(route_from_headers(&HeaderMap::new()), Route::default());
    }
}
