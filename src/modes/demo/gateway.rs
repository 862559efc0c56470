//! The simulated gateway's HTTP edge: LiteLLM's proxy endpoints on loopback, answering as the
//! real proxy does, with every routing decision left to the pure [`Router`] and every call to
//! a deployment answered by the [`Stage`] in memory.
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
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures::stream;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::errors::{self, CallFailure, RouteError};
use super::router::{self, Calls, Moment, Routed, Router};
use super::settings::{FailurePolicy, GatewaySettings, Release, seconds_as_configured};
use super::stage::{Answer, Stage};
use crate::litellm::headers;

/// `created` of every model in `GET /v1/models`, as LiteLLM reports it.
const MODELS_CREATED: u64 = 1_677_610_602;

/// State the handlers share.
struct Shared {
    router: Mutex<Router>,
    settings: GatewaySettings,
    stage: Stage,
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
    /// Serves `settings` on a free loopback port, its deployments played by `stage`.
    pub async fn start(settings: GatewaySettings, stage: Stage) -> std::io::Result<Self> {
        let shared = Arc::new(Shared {
            router: Mutex::new(Router::new(settings.clone())),
            settings,
            stage,
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
            .route("/router/settings", get(router_settings))
            .route("/health", get(health))
            .route("/metrics/", get(metrics))
            .route("/metrics", get(metrics_moved))
            .route("/fallback/{group}", get(fallback_of))
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

/// `GET /v1/models`; `?include_metadata=true` adds each group's fallbacks, as LiteLLM does.
async fn models(State(shared): State<Arc<Shared>>, uri: axum::http::Uri) -> Response {
    let metadata = uri
        .query()
        .is_some_and(|q| q.split('&').any(|pair| pair == "include_metadata=true"));
    let router = &shared.settings.router;
    let data: Vec<Value> = shared
        .settings
        .groups()
        .into_iter()
        .map(|g| {
            let mut model = json!({"id": g, "object": "model", "created": MODELS_CREATED, "owned_by": "openai"});
            if metadata {
                let fallbacks = router.fallbacks_of(g).unwrap_or_default();
                model["metadata"] = json!({"fallbacks": fallbacks});
            }
            model
        })
        .collect();
    Json(json!({"data": data, "object": "list"})).into_response()
}

/// `GET /router/settings`: the router's settings as configured, in LiteLLM's shape (the
/// fields a watcher reads; LiteLLM lists more).
async fn router_settings(State(shared): State<Arc<Shared>>) -> Response {
    let router = &shared.settings.router;
    let number = |d: Duration| -> Value {
        serde_json::from_str(&seconds_as_configured(d)).unwrap_or(Value::Null)
    };
    let fallbacks = router.fallbacks.as_ref().map(|list| {
        list.iter()
            .map(|f| json!({ f.from.clone(): f.to }))
            .collect::<Vec<_>>()
    });
    let allowed_fails = match router.policy {
        FailurePolicy::AllowedFails(n) => n,
        FailurePolicy::FailureRate => crate::litellm::defaults::ALLOWED_FAILS,
    };
    let current = json!({
        "routing_strategy": "simple-shuffle", "num_retries": router.num_retries,
        "timeout": number(router.timeout), "max_fallbacks": router.max_fallbacks,
        "fallbacks": fallbacks, "allowed_fails": allowed_fails,
        "cooldown_time": number(router.cooldown), "retry_policy": null, "disable_cooldowns": null,
    });
    Json(json!({"fields": [], "current_values": current})).into_response()
}

/// `GET /health?model=GROUP`: each of the group's deployments called directly, as LiteLLM's
/// health check does it: through the stage, never the router, so no failure is counted and no
/// cooldown is in the way. 1.106 answers 503 when none is healthy.
async fn health(State(shared): State<Arc<Shared>>, uri: axum::http::Uri) -> Response {
    let group = uri.query().and_then(|q| {
        q.split('&')
            .find_map(|pair| pair.strip_prefix("model="))
            .map(str::to_owned)
    });
    let settings = &shared.settings;
    let timeout = settings.router.timeout;
    let mut healthy = Vec::new();
    let mut unhealthy = Vec::new();
    for (index, deployment) in settings.deployments.iter().enumerate() {
        if group.as_deref().is_some_and(|g| g != deployment.group) {
            continue;
        }
        let entry = json!({"model": deployment.model, "model_id": deployment.id});
        let called = if deployment.missing_api_key {
            Err(errors::missing_api_key(settings.release))
        } else {
            let called = shared.stage.call(index, timeout).await;
            called.map_err(|failure| {
                errors::exception(deployment, &failure, timeout, settings.release)
            })
        };
        match called {
            Ok(_) => healthy.push(entry),
            Err(error) => {
                let mut entry = entry;
                entry["error"] = json!(format!("{}\nstack trace: (simulated)", error.text()));
                entry["exception_status"] = json!(error.status);
                unhealthy.push(entry);
            }
        }
    }
    let status = match settings.release {
        Release::V1_106 if group.is_some() && healthy.is_empty() => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::OK,
    };
    let body = json!({
        "healthy_endpoints": healthy, "unhealthy_endpoints": unhealthy,
        "healthy_count": healthy.len(), "unhealthy_count": unhealthy.len(),
    });
    (status, Json(body)).into_response()
}

/// `GET /metrics/`: LiteLLM's Prometheus metrics of what the router did (the series its
/// `prometheus` callback writes that failover-watch reads).
async fn metrics(State(shared): State<Arc<Shared>>) -> Response {
    let text = shared.router().metrics_exposition();
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response()
}

/// `GET /metrics`: LiteLLM mounts its metrics app at `/metrics/`, and Starlette redirects.
async fn metrics_moved() -> Response {
    (
        StatusCode::TEMPORARY_REDIRECT,
        [(axum::http::header::LOCATION, "/metrics/")],
    )
        .into_response()
}

/// `GET /fallback/GROUP`: its general fallbacks, or LiteLLM's 404.
async fn fallback_of(State(shared): State<Arc<Shared>>, Path(group): Path<String>) -> Response {
    match shared.settings.router.fallbacks_of(&group) {
        Some(to) => {
            Json(json!({"model": group, "fallback_models": to, "fallback_type": "general"}))
                .into_response()
        }
        None => {
            let error = format!("No general fallbacks configured for model '{group}'");
            (
                StatusCode::NOT_FOUND,
                Json(json!({"detail": {"error": error}})),
            )
                .into_response()
        }
    }
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
    let started = Instant::now();
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
    let stream = request.get("stream").and_then(Value::as_bool) == Some(true);
    let fallbacks = request.get("disable_fallbacks").and_then(Value::as_bool) != Some(true);
    let mut calls = Upstreams { shared: &shared };
    match router::drive(&shared.router, group, fallbacks, &mut calls).await {
        Err(error) => failure(&shared, &call_id, &error),
        Ok((served, (answer, call_took))) => {
            // 1.83's duration covers the call that served; 1.106's the whole request.
            let took = match shared.settings.release {
                Release::V1_83 => call_took,
                Release::V1_106 => started.elapsed(),
            };
            let reply = Reply {
                shared: &shared,
                call_id: &call_id,
                requested: &requested,
                served,
                took,
            };
            if stream {
                reply.stream(answer.text)
            } else {
                reply.complete(&answer)
            }
        }
    }
}

/// The deployments as the router calls them: the stage's answers, each with the time it took
/// (all that `x-litellm-response-duration-ms` covers).
struct Upstreams<'a> {
    shared: &'a Shared,
}

impl Calls for Upstreams<'_> {
    type Answer = (Answer, Duration);

    fn now(&self) -> Moment {
        self.shared.now()
    }

    async fn call(
        &mut self,
        deployment: usize,
        timeout: Duration,
    ) -> Result<(Answer, Duration), CallFailure> {
        let started = Instant::now();
        let answer = self.shared.stage.call(deployment, timeout).await?;
        Ok((answer, started.elapsed()))
    }

    async fn wait(&mut self, pause: Duration) {
        tokio::time::sleep(pause).await;
    }
}

/// The proxy's error answer.
fn failure(shared: &Shared, call_id: &str, error: &RouteError) -> Response {
    let mut headers = HeaderMap::new();
    add(&mut headers, headers::CALL_ID, call_id);
    add(&mut headers, headers::RESPONSE_COST, "0");
    add(&mut headers, headers::KEY_SPEND, "0.0");
    if error.extendable {
        let timeout = seconds_as_configured(shared.settings.router.timeout);
        add(&mut headers, headers::TIMEOUT, &timeout);
    }
    if let Some(after) = error.retry_after {
        add(&mut headers, "retry-after", &after.as_secs().to_string());
    }
    let status = StatusCode::from_u16(error.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
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
    served: Routed,
    /// What `x-litellm-response-duration-ms` covers.
    took: Duration,
}

impl Reply<'_> {
    fn deployment(&self) -> &super::settings::DeploymentConfig {
        &self.shared.settings.deployments[self.served.deployment]
    }

    /// Headers on every successful answer, streams included.
    fn common_headers(&self) -> HeaderMap {
        let d = self.deployment();
        let mut headers = HeaderMap::new();
        add(&mut headers, headers::CALL_ID, self.call_id);
        add(&mut headers, headers::MODEL_ID, &d.id);
        if let Some(base) = &d.api_base {
            add(&mut headers, headers::MODEL_API_BASE, base);
        }
        let release = self.shared.settings.release;
        add(&mut headers, headers::VERSION, release.version());
        if release == Release::V1_106 {
            add(&mut headers, headers::MODEL_NAME, &d.model);
        }
        add(&mut headers, headers::KEY_SPEND, "0.0");
        let ms = format!("{:.3}", self.took.as_secs_f64() * 1000.0);
        add(&mut headers, headers::RESPONSE_DURATION_MS, &ms);
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

    /// The headers that tell who served: on every answer but 1.83's streams.
    fn routing_headers(&self, headers: &mut HeaderMap) {
        add(headers, headers::MODEL_GROUP, &self.deployment().group);
        let retries = self.served.attempted_retries.to_string();
        add(headers, headers::ATTEMPTED_RETRIES, &retries);
        if self.served.attempted_retries > 0 {
            let max = self.shared.settings.router.num_retries.to_string();
            add(headers, headers::MAX_RETRIES, &max);
        }
        let fallbacks = self.served.attempted_fallbacks.to_string();
        add(headers, headers::ATTEMPTED_FALLBACKS, &fallbacks);
    }

    fn complete(&self, answer: &Answer) -> Response {
        let (prompt_tokens, completion_tokens) = (answer.prompt_tokens, answer.completion_tokens);
        let mut headers = self.common_headers();
        self.routing_headers(&mut headers);
        let body = json!({
            "id": format!("chatcmpl-{}", self.shared.uuid()),
            "created": unix_now(),
            "model": self.body_model(),
            "object": "chat.completion",
            "choices": [{"finish_reason": "stop", "index": 0, "message": {"content": answer.text, "role": "assistant"}}],
            "usage": {
                "completion_tokens": completion_tokens,
                "prompt_tokens": prompt_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        });
        (headers, Json(body)).into_response()
    }

    /// Server-sent events as LiteLLM streams: on 1.83 every chunk names the requested model,
    /// whoever served, and no header tells the group; on 1.106 the chunks name the group that
    /// served, and the headers say it as a normal answer's do. The text comes in two pieces,
    /// then a chunk with the finish reason.
    fn stream(&self, text: &str) -> Response {
        let mut headers = self.common_headers();
        let model = match self.shared.settings.release {
            Release::V1_83 => self.requested,
            Release::V1_106 => {
                self.routing_headers(&mut headers);
                &self.deployment().group
            }
        };
        add(
            &mut headers,
            "content-type",
            "text/event-stream; charset=utf-8",
        );
        let id = format!("chatcmpl-{}", self.shared.uuid());
        let created = unix_now();
        let chunk = |choice: Value| {
            let chunk = json!({
                "id": id, "created": created, "model": model,
                "object": "chat.completion.chunk", "choices": [choice],
            });
            format!("data: {chunk}\n\n")
        };
        let half = text
            .char_indices()
            .nth(text.chars().count() / 2)
            .map_or(text.len(), |(i, _)| i);
        let (first, second) = text.split_at(half);
        let events = [
            chunk(json!({"index": 0, "delta": {"content": first, "role": "assistant"}})),
            chunk(json!({"index": 0, "delta": {"content": second}})),
            chunk(json!({"finish_reason": "stop", "index": 0, "delta": {}})),
            "data: [DONE]\n\n".to_owned(),
        ];
        let body = stream::iter(events.map(|event| Ok::<_, Infallible>(Bytes::from(event))));
        (headers, Body::from_stream(body)).into_response()
    }
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
