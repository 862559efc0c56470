//! The simulated gateway's HTTP edge: LiteLLM's proxy endpoints on loopback, answering as the
//! real proxy does (`captures/`), with every routing decision left to the pure [`Router`].
//!
//! `POST /v1/chat/completions` (JSON and SSE), `GET /model/info`, `GET /v1/models`,
//! `GET /health/liveliness`. No key is needed.

use std::collections::hash_map::RandomState;
use std::convert::Infallible;
use std::hash::BuildHasher;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures::StreamExt;
use futures::stream::{self, BoxStream};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::errors::{ErrorType, RouteError};
use super::router::{Router, Served, Step, Walk};
use super::settings::{GatewaySettings, LITELLM_VERSION, seconds_as_configured};
use super::upstream::{self, Answer, Ask, Piece, Upstream};

/// `created` of every model in `GET /v1/models`, as LiteLLM reports it.
const MODELS_CREATED: u64 = 1_677_610_602;

/// State the handlers share.
struct Shared {
    router: Mutex<Router>,
    settings: GatewaySettings,
    upstreams: Vec<Upstream>,
    http: reqwest::Client,
    started: Instant,
    requests: AtomicU64,
    ids: RandomState,
}

impl Shared {
    fn router(&self) -> MutexGuard<'_, Router> {
        self.router.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn now(&self) -> Duration {
        self.started.elapsed()
    }

    /// A fresh id in UUID form, like LiteLLM's call ids.
    fn uuid(&self) -> String {
        let n = self.requests.fetch_add(1, Ordering::Relaxed);
        let (a, b) = (self.ids.hash_one((n, 0)), self.ids.hash_one((n, 1)));
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            0x8000 | (b >> 48) & 0x3fff,
            b & 0xffff_ffff_ffff
        )
    }
}

/// A running simulated gateway; it stops when dropped.
pub struct Gateway {
    addr: SocketAddr,
    server: JoinHandle<()>,
}

impl Gateway {
    /// Serves `settings` on a free loopback port; deployment `i` is really served at
    /// `upstream_urls[i]`.
    pub async fn start(
        settings: GatewaySettings,
        upstream_urls: Vec<String>,
    ) -> std::io::Result<Self> {
        // reqwest is built without a default TLS provider; plain HTTP still needs one set.
        // Another part of the process may have installed one already; either is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
        // Loopback only: no proxy from the environment. A fresh connection per call, so that
        // a deployment just taken down refuses it instead of breaking a pooled one.
        let http = reqwest::Client::builder()
            .no_proxy()
            .pool_max_idle_per_host(0)
            .build()
            .map_err(std::io::Error::other)?;
        let upstreams = settings
            .deployments
            .iter()
            .zip(upstream_urls)
            .map(|(d, url)| Upstream::new(d, url))
            .collect();
        let shared = Arc::new(Shared {
            router: Mutex::new(Router::new(settings.clone())),
            settings,
            upstreams,
            http,
            started: Instant::now(),
            requests: AtomicU64::new(0),
            ids: RandomState::new(),
        });
        let routes = axum::Router::new()
            .route("/v1/chat/completions", post(chat))
            .route("/chat/completions", post(chat))
            .route("/model/info", get(model_info))
            .route("/v1/model/info", get(model_info))
            .route("/v1/models", get(models))
            .route("/models", get(models))
            .route("/health/liveliness", get(alive))
            .route("/health/liveness", get(alive))
            .fallback(not_found)
            .with_state(shared);
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let server = tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, routes).await {
                tracing::error!(%error, "the simulated gateway stopped");
            }
        });
        tracing::info!(%addr, "simulated gateway listening");
        Ok(Self { addr, server })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn alive() -> Response {
    Json("I'm alive!").into_response()
}

async fn not_found() -> Response {
    (StatusCode::NOT_FOUND, Json(json!({"detail": "Not Found"}))).into_response()
}

async fn models(State(shared): State<Arc<Shared>>) -> Response {
    let data: Vec<Value> = shared
        .settings
        .groups()
        .into_iter()
        .map(|g| json!({"id": g, "object": "model", "created": MODELS_CREATED, "owned_by": "openai"}))
        .collect();
    Json(json!({"data": data, "object": "list"})).into_response()
}

async fn model_info(State(shared): State<Arc<Shared>>) -> Response {
    let data: Vec<Value> = shared
        .settings
        .deployments
        .iter()
        .map(|d| {
            let provider = d.model.split_once('/').map_or("openai", |(p, _)| p);
            json!({
                "model_name": d.group,
                "litellm_params": d.shown_params,
                "model_info": {"id": d.id, "db_model": false, "key": d.model, "litellm_provider": provider, "mode": "chat"},
            })
        })
        .collect();
    Json(json!({"data": data})).into_response()
}

/// A 400 as the proxy words it for a request it cannot route.
fn bad_request(message: String) -> Response {
    let body =
        json!({"error": {"message": message, "type": "None", "param": "None", "code": "400"}});
    (StatusCode::BAD_REQUEST, Json(body)).into_response()
}

async fn chat(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let call_id = shared.uuid();
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return bad_request("the request body is not JSON".to_owned());
    };
    let requested = request["model"].as_str().unwrap_or_default().to_owned();
    let Some(group) = shared.router().group_index(&requested) else {
        return bad_request(format!(
            "/chat/completions: Invalid model name passed in model={requested}. Call `/v1/models` to view available models for your key."
        ));
    };
    let ask = Ask {
        messages: request.get("messages").cloned().unwrap_or(json!([])),
        max_tokens: request.get("max_tokens").and_then(Value::as_u64),
        stream: request.get("stream").and_then(Value::as_bool) == Some(true),
    };

    let (mut walk, mut step) = Walk::start(&mut shared.router(), group, shared.now());
    let mut answer = None;
    loop {
        step = match step {
            Step::Call {
                deployment,
                timeout,
            } => {
                let started = Instant::now();
                let result =
                    upstream::call(&shared.http, &shared.upstreams[deployment], &ask, timeout)
                        .await;
                let reported = result.map(|served| answer = Some((served, started.elapsed())));
                walk.answered(&mut shared.router(), shared.now(), reported)
            }
            Step::Wait(pause) => {
                tokio::time::sleep(pause).await;
                walk.waited(&mut shared.router(), shared.now())
            }
            Step::Done(Err(error)) => return failure(&shared, &call_id, &error),
            Step::Done(Ok(served)) => {
                // A walk is only done with a success right after a call answered.
                let Some((answer, took)) = answer.take() else {
                    return failure(&shared, &call_id, &lost_answer());
                };
                let reply = Reply {
                    shared: &shared,
                    call_id: &call_id,
                    requested: &requested,
                    served,
                    took,
                };
                return match answer {
                    Answer::Complete {
                        text,
                        prompt_tokens,
                        completion_tokens,
                    } => reply.complete(&text, prompt_tokens, completion_tokens),
                    Answer::Stream(pieces) => reply.stream(pieces),
                };
            }
        };
    }
}

/// The error for a success without an answer, which the walk's contract rules out.
fn lost_answer() -> RouteError {
    RouteError {
        status: 500,
        error_type: ErrorType::Null,
        message: "the simulated gateway lost the answer it was given".to_owned(),
        extendable: false,
        retry_after: None,
        retried: None,
    }
}

/// The proxy's error answer.
fn failure(shared: &Shared, call_id: &str, error: &RouteError) -> Response {
    let mut headers = HeaderMap::new();
    add(&mut headers, "x-litellm-call-id", call_id);
    add(&mut headers, "x-litellm-response-cost", "0");
    add(&mut headers, "x-litellm-key-spend", "0.0");
    if error.extendable {
        let timeout = seconds_as_configured(shared.router().settings().timeout);
        add(&mut headers, "x-litellm-timeout", &timeout);
    }
    let status = StatusCode::from_u16(error.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, headers, Json(error.body())).into_response()
}

fn add(headers: &mut HeaderMap, name: &'static str, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        headers.insert(HeaderName::from_static(name), value);
    }
}

/// A successful answer, with the headers the real proxy sends.
struct Reply<'a> {
    shared: &'a Shared,
    call_id: &'a str,
    requested: &'a str,
    served: Served,
    /// The serving call's own time (all that `x-litellm-response-duration-ms` covers).
    took: Duration,
}

impl Reply<'_> {
    fn deployment(&self) -> &super::settings::Deployment {
        &self.shared.settings.deployments[self.served.deployment]
    }

    /// Headers on every successful answer, streams included.
    fn common_headers(&self) -> HeaderMap {
        let d = self.deployment();
        let mut headers = HeaderMap::new();
        add(&mut headers, "x-litellm-call-id", self.call_id);
        add(&mut headers, "x-litellm-model-id", &d.id);
        if let Some(base) = &d.api_base {
            add(&mut headers, "x-litellm-model-api-base", base);
        }
        add(&mut headers, "x-litellm-version", LITELLM_VERSION);
        add(&mut headers, "x-litellm-key-spend", "0.0");
        let ms = format!("{:.3}", self.took.as_secs_f64() * 1000.0);
        add(&mut headers, "x-litellm-response-duration-ms", &ms);
        headers
    }

    /// The body's `model`: the requested alias when its group served, else the provider
    /// string of the deployment that did (`ollama/llama3`).
    fn body_model(&self) -> &str {
        let d = self.deployment();
        if d.group == self.requested && self.served.attempted_fallbacks == 0 {
            self.requested
        } else {
            &d.model
        }
    }

    fn complete(&self, text: &str, prompt_tokens: u64, completion_tokens: u64) -> Response {
        let mut headers = self.common_headers();
        add(
            &mut headers,
            "x-litellm-model-group",
            &self.deployment().group,
        );
        let retries = self.served.attempted_retries.to_string();
        add(&mut headers, "x-litellm-attempted-retries", &retries);
        if self.served.attempted_retries > 0 {
            let max = self.shared.router().settings().num_retries.to_string();
            add(&mut headers, "x-litellm-max-retries", &max);
        }
        let fallbacks = self.served.attempted_fallbacks.to_string();
        add(&mut headers, "x-litellm-attempted-fallbacks", &fallbacks);
        let body = json!({
            "id": format!("chatcmpl-{}", self.shared.uuid()),
            "created": unix_now(),
            "model": self.body_model(),
            "object": "chat.completion",
            "choices": [{"finish_reason": "stop", "index": 0, "message": {"content": text, "role": "assistant"}}],
            "usage": {
                "completion_tokens": completion_tokens,
                "prompt_tokens": prompt_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        });
        (headers, Json(body)).into_response()
    }

    /// Server-sent events whose chunks all name the requested model, whoever served, and no
    /// model-group or attempted-* headers: how LiteLLM streams.
    fn stream(&self, pieces: BoxStream<'static, Piece>) -> Response {
        let mut headers = self.common_headers();
        add(
            &mut headers,
            "content-type",
            "text/event-stream; charset=utf-8",
        );
        let id = format!("chatcmpl-{}", self.shared.uuid());
        let model = self.requested.to_owned();
        let created = unix_now();
        let mut first = true;
        let events = pieces
            .map(move |piece| {
                let choice = match piece {
                    Piece::Text(text) if std::mem::take(&mut first) => {
                        json!({"index": 0, "delta": {"content": text, "role": "assistant"}})
                    }
                    Piece::Text(text) => json!({"index": 0, "delta": {"content": text}}),
                    Piece::Finished => json!({"finish_reason": "stop", "index": 0, "delta": {}}),
                };
                let chunk = json!({
                    "id": id, "created": created, "model": model,
                    "object": "chat.completion.chunk", "choices": [choice],
                });
                format!("data: {chunk}\n\n")
            })
            .chain(stream::iter(["data: [DONE]\n\n".to_owned()]))
            .map(|event| Ok::<_, Infallible>(Bytes::from(event)));
        (headers, Body::from_stream(events)).into_response()
    }
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
