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
use tokio::time::Instant;

use crate::litellm::{Route, route_from_headers};

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
