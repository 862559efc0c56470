//! The HTTP service under async-openai: one request per call (no retries), and the status and
//! `x-litellm-*` headers of every answer captured for the call that made it.
//!
//! async-openai retries 429, 5xx and connect errors three times unless its HTTP service is
//! replaced, and it exposes no response headers: this service does both jobs. What it sees is
//! stored in a task-local slot that [`capture`] opens around one call; the service future is
//! polled inside the caller's task, so concurrent probes never see each other's headers.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use async_openai::error::OpenAIError;
use async_openai::middleware::HttpRequestFactory;
use reqwest::header::HeaderMap;
use tokio::time::Instant;

use super::event::Route;

/// What the service saw of an answer before its body was read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Captured {
    pub status: u16,
    pub route: Route,
}

tokio::task_local! {
    static SLOT: RefCell<Option<Captured>>;
}

/// Runs one async-openai call until `deadline` and returns its output (`None` when the
/// deadline came first) and what the service captured during it, in either case.
pub async fn capture<F: Future>(
    call: F,
    deadline: Instant,
) -> (Option<F::Output>, Option<Captured>) {
    SLOT.scope(RefCell::new(None), async move {
        let output = tokio::time::timeout_at(deadline, call).await.ok();
        let captured = SLOT.with(|slot| slot.borrow_mut().take());
        (output, captured)
    })
    .await
}

/// A tower service that sends each request exactly once with the given client.
#[derive(Clone, Debug)]
pub struct CapturingService {
    http: reqwest::Client,
}

impl CapturingService {
    pub fn new(http: reqwest::Client) -> Self {
        Self { http }
    }
}

type ResponseFuture = Pin<Box<dyn Future<Output = Result<reqwest::Response, OpenAIError>> + Send>>;

impl tower::Service<HttpRequestFactory> for CapturingService {
    type Response = reqwest::Response;
    type Error = OpenAIError;
    type Future = ResponseFuture;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, factory: HttpRequestFactory) -> Self::Future {
        let http = self.http.clone();
        Box::pin(async move {
            let request = factory.build().await?;
            let response = http.execute(request).await.map_err(OpenAIError::Reqwest)?;
            let captured = Captured {
                status: response.status().as_u16(),
                route: route_from_headers(response.headers()),
            };
            // Outside `capture` (no slot) there is nobody to tell.
            let _ = SLOT.try_with(|slot| *slot.borrow_mut() = Some(captured));
            Ok(response)
        })
    }
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
    let seconds = text("x-litellm-timeout")
        .and_then(|v| v.parse::<f64>().ok())
        .and_then(crate::clock::duration::from_secs);
    Route {
        model_group: text("x-litellm-model-group"),
        model_id: text("x-litellm-model-id"),
        api_base: text("x-litellm-model-api-base"),
        attempted_fallbacks: number("x-litellm-attempted-fallbacks"),
        attempted_retries: number("x-litellm-attempted-retries"),
        model_name: text("x-litellm-model-name"),
        version: text("x-litellm-version"),
        router_timeout: seconds,
        ..Route::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
