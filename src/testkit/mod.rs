//! Mock upstream model servers: an OpenAI-compatible one and an Ollama-API one, each with a
//! fault mode switchable while it runs. LiteLLM stands in front of them in the end-to-end
//! tests and in rehearsals.
//!
//! Control, on the same port: `GET /__mock` (mode and request counts) and
//! `POST /__mock/mode` with a mode as the body (`ok`, `500`, `503`, `429[=SECS]`, `hang`,
//! `slow[=DURATION]`, `garbage`, `reset`). For "connection refused", stop the process.

mod mode;
mod ollama;
mod openai;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio::task::{JoinHandle, JoinSet};
use tower::ServiceExt;

pub use mode::{MODES_HELP, Mode};

/// Which API a mock speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Api {
    /// `POST /v1/chat/completions` (JSON and SSE), `GET /v1/models`.
    Openai,
    /// `POST /api/generate` and `/api/chat` (JSON and NDJSON), `GET /api/tags`, `POST /api/show`.
    Ollama,
}

impl std::str::FromStr for Api {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.trim().to_ascii_lowercase().as_str() {
            "openai" => Ok(Api::Openai),
            "ollama" => Ok(Api::Ollama),
            other => Err(format!("unknown API {other:?} (openai or ollama)")),
        }
    }
}

#[derive(Clone, Debug)]
pub struct MockConfig {
    pub api: Api,
    /// The model name the mock reports.
    pub model: String,
    pub reply: String,
    pub mode: Mode,
}

/// How long a hanging request is held before the mock gives up on it itself.
const HANG_LIMIT: Duration = Duration::from_secs(3600);

/// State shared by the handlers of one mock.
#[derive(Debug)]
pub struct Shared {
    config: MockConfig,
    mode: Mutex<Mode>,
    requests: AtomicU64,
    completions: AtomicU64,
}

impl Shared {
    fn mode(&self) -> Mode {
        *self.mode.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Request counts, for tests and the control endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Stats {
    /// Requests to the model endpoints, whatever the mode did with them (control requests
    /// are not counted).
    pub requests: u64,
    /// Chat and generate requests answered normally (not failed, hung or reset by the mode).
    pub completions: u64,
}

/// Closes the connection a request came on, for the `reset` mode.
#[derive(Clone, Debug, Default)]
struct KillSwitch(Arc<Notify>);

/// A running mock upstream; it stops (refusing connections) when dropped.
pub struct MockServer {
    addr: SocketAddr,
    accept: JoinHandle<()>,
}

impl MockServer {
    /// Listens on `listen` (port 0 for a free one) and serves until dropped.
    pub async fn start(listen: SocketAddr, config: MockConfig) -> std::io::Result<Self> {
        let listener = TcpListener::bind(listen).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            mode: Mutex::new(config.mode),
            config,
            requests: AtomicU64::new(0),
            completions: AtomicU64::new(0),
        });
        let accept = tokio::spawn(accept_loop(listener, shared));
        Ok(Self { addr, accept })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

fn stats(shared: &Shared) -> Stats {
    Stats {
        requests: shared.requests.load(Ordering::Relaxed),
        completions: shared.completions.load(Ordering::Relaxed),
    }
}

/// Accepts connections; aborting it drops the listener and, with the join set, every
/// connection it serves.
async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    let router = router(shared);
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    connections.spawn(serve_connection(stream, router.clone()));
                }
                Err(error) => {
                    tracing::warn!(%error, "mock upstream: accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

async fn serve_connection(stream: TcpStream, router: Router) {
    let kill = KillSwitch::default();
    let killed = kill.0.clone();
    let service = tower::service_fn(move |mut request: Request<hyper::body::Incoming>| {
        request.extensions_mut().insert(kill.clone());
        router.clone().oneshot(request.map(axum::body::Body::new))
    });
    let connection = hyper::server::conn::http1::Builder::new()
        .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
    tokio::select! {
        _ = connection => {}
        () = killed.notified() => {}
    }
}

fn router(shared: Arc<Shared>) -> Router {
    let api = match shared.config.api {
        Api::Openai => openai::routes(),
        Api::Ollama => ollama::routes(),
    };
    Router::new()
        .route("/__mock", get(control_status))
        .route(
            "/__mock/mode",
            get(control_status)
                .post(control_set_mode)
                .put(control_set_mode),
        )
        .merge(api)
        .with_state(shared)
}

async fn control_status(State(shared): State<Arc<Shared>>) -> Response {
    axum::Json(serde_json::json!({
        "api": match shared.config.api { Api::Openai => "openai", Api::Ollama => "ollama" },
        "model": shared.config.model,
        "mode": shared.mode().to_string(),
        "stats": stats(&shared),
    }))
    .into_response()
}

async fn control_set_mode(State(shared): State<Arc<Shared>>, body: String) -> Response {
    let text = serde_json::from_str::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v.get("mode").and_then(|m| m.as_str()).map(str::to_owned))
        .unwrap_or(body);
    match text.parse::<Mode>() {
        Ok(mode) => {
            *shared.mode.lock().unwrap_or_else(|e| e.into_inner()) = mode;
            tracing::info!(%mode, "mock upstream: mode switched");
            axum::Json(serde_json::json!({ "mode": mode.to_string() })).into_response()
        }
        Err(error) => (StatusCode::BAD_REQUEST, error).into_response(),
    }
}

/// What a model endpoint does for the current mode, before answering normally.
enum Fault {
    /// Answer normally (after the delay of `slow`, already waited).
    None,
    /// Answer with this response instead.
    Respond(Response),
}

/// Applies the current mode to a model request. `error_body` shapes an error for the API.
async fn apply_mode(
    shared: &Shared,
    kill: Option<&KillSwitch>,
    error_body: fn(u16, &str) -> serde_json::Value,
) -> Fault {
    shared.requests.fetch_add(1, Ordering::Relaxed);
    let error = |status: StatusCode, message: &str| {
        (status, axum::Json(error_body(status.as_u16(), message))).into_response()
    };
    match shared.mode() {
        Mode::Ok => Fault::None,
        Mode::Slow { delay } => {
            tokio::time::sleep(delay).await;
            Fault::None
        }
        Mode::Error500 => Fault::Respond(error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "mock upstream: injected internal server error",
        )),
        Mode::Unavailable503 => Fault::Respond(error(
            StatusCode::SERVICE_UNAVAILABLE,
            "mock upstream: injected service unavailable",
        )),
        Mode::RateLimited { retry_after_secs } => {
            let mut response = error(
                StatusCode::TOO_MANY_REQUESTS,
                "mock upstream: injected rate limit",
            );
            response
                .headers_mut()
                .insert("retry-after", retry_after_secs.into());
            Fault::Respond(response)
        }
        Mode::Hang => {
            tokio::time::sleep(HANG_LIMIT).await;
            Fault::Respond(error(StatusCode::GATEWAY_TIMEOUT, "mock upstream: hung"))
        }
        Mode::Garbage => Fault::Respond(
            (
                StatusCode::OK,
                [("content-type", "application/json")],
                "<html><body>this is not JSON {{{</body></html>",
            )
                .into_response(),
        ),
        Mode::Reset => {
            if let Some(kill) = kill {
                kill.0.notify_one();
            }
            std::future::pending::<()>().await;
            Fault::None
        }
    }
}

/// The reply split into pieces for streaming, so a stream has several content chunks.
fn pieces(reply: &str) -> Vec<String> {
    let split = reply
        .char_indices()
        .nth(reply.chars().count() / 2)
        .map_or(reply.len(), |(i, _)| i);
    let (a, b) = reply.split_at(split);
    [a, b]
        .into_iter()
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect()
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::pieces;

    #[test]
    fn replies_split_in_two_pieces_on_char_boundaries() {
        assert_eq!(pieces("Hello!"), ["Hel", "lo!"]);
        assert_eq!(pieces("Hi"), ["H", "i"]);
        assert_eq!(pieces("é✓"), ["é", "✓"]);
        assert_eq!(pieces("x"), ["x"]);
        assert!(pieces("").is_empty());
    }
}
