//! Test helpers shared by the binary's tests and the crate's own: the real proxy's recorded
//! answers (`fixtures/captures`) replayed byte for byte by a local server, a server that never
//! answers, and scratch directories.
#![allow(dead_code)]

pub mod hostile;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use tokio::net::TcpListener;

/// One recorded answer: status, headers and raw body.
#[derive(Clone, Debug)]
pub struct Capture {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// Loads `tests/fixtures/captures/NAME`, an answer of LiteLLM 1.83.14.
pub fn capture(name: &str) -> Capture {
    capture_in("captures", name)
}

/// The text of `tests/fixtures/PATH`.
pub fn fixture(path: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(path);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// Loads `tests/fixtures/DIR/NAME` (the `.http` format of the recordings: `#---` comment
/// lines, a status line, headers, a blank line, the body, a closing `#--- curl:`).
pub fn capture_in(dir: &str, name: &str) -> Capture {
    let text = fixture(&format!("{dir}/{name}"));
    let mut lines = text.split('\n').skip_while(|l| l.starts_with("#---"));
    let status_line = lines.next().expect("a status line");
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status code");
    let mut headers = Vec::new();
    for line in lines.by_ref() {
        let line = line.trim_end_matches('\r');
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':').expect("a header line");
        let name = name.trim().to_ascii_lowercase();
        // Framing is the replaying server's business.
        if name != "content-length" && name != "transfer-encoding" {
            headers.push((name, value.trim().to_owned()));
        }
    }
    let rest: Vec<&str> = lines.collect();
    let end = rest
        .iter()
        .rposition(|l| l.starts_with("#--- curl:"))
        .unwrap_or(rest.len());
    let mut body = rest[..end].join("\n");
    // The capture tool adds one line break after a body that had none.
    if !headers
        .iter()
        .any(|(n, v)| n == "content-type" && v.starts_with("text/event-stream"))
    {
        body = body.trim_end_matches('\n').to_owned();
    }
    Capture {
        status,
        headers,
        body: body.into_bytes(),
    }
}

/// A request the replay server received.
#[derive(Clone, Debug)]
pub struct Received {
    pub method: String,
    pub path: String,
    pub authorization: Option<String>,
    pub body: String,
}

#[derive(Default)]
struct Script {
    chat: Vec<Capture>,
    next_chat: usize,
    model_info: Option<Capture>,
    received: Vec<Received>,
}

/// Serves recorded answers in order (the last one repeats) to `POST /v1/chat/completions`,
/// and a recorded `GET /model/info`.
pub struct ReplayServer {
    pub addr: SocketAddr,
    script: Arc<Mutex<Script>>,
}

impl ReplayServer {
    pub async fn start(chat: Vec<Capture>, model_info: Option<Capture>) -> Self {
        let script = Arc::new(Mutex::new(Script {
            chat,
            model_info,
            ..Script::default()
        }));
        let app = Router::new().fallback(replay).with_state(script.clone());
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { addr, script }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn received(&self) -> Vec<Received> {
        self.script.lock().unwrap().received.clone()
    }

    pub fn chat_requests(&self) -> usize {
        self.received()
            .iter()
            .filter(|r| r.path.ends_with("/chat/completions"))
            .count()
    }
}

async fn replay(State(script): State<Arc<Mutex<Script>>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, 1 << 20)
        .await
        .unwrap_or_default();
    let capture = {
        let mut script = script.lock().unwrap();
        script.received.push(Received {
            method: parts.method.to_string(),
            path: parts.uri.path().to_owned(),
            authorization: parts
                .headers
                .get("authorization")
                .map(|v| v.to_str().unwrap_or("").to_owned()),
            body: String::from_utf8_lossy(&body).into_owned(),
        });
        match parts.uri.path() {
            "/v1/chat/completions" if !script.chat.is_empty() => {
                let i = script.next_chat.min(script.chat.len() - 1);
                script.next_chat += 1;
                Some(script.chat[i].clone())
            }
            "/model/info" => script.model_info.clone(),
            _ => None,
        }
    };
    match capture {
        Some(capture) => respond(&capture),
        None => Response::builder()
            .status(StatusCode::NOT_FOUND)
            .body(Body::from("{\"detail\":\"Not Found\"}"))
            .unwrap(),
    }
}

pub fn respond(capture: &Capture) -> Response {
    let mut response = Response::builder()
        .status(capture.status)
        .body(Body::from(capture.body.clone()))
        .unwrap();
    for (name, value) in &capture.headers {
        response.headers_mut().append(
            HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_str(value).unwrap(),
        );
    }
    response
}

/// A free loopback port with nothing listening on it (for "connection refused").
pub fn refused_addr() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    addr
}

/// A server that takes connections and never answers: a hung upstream, until dropped.
pub struct Hung {
    listener: std::net::TcpListener,
}

impl Hung {
    pub fn start() -> Self {
        // Connections wait in the listen queue, never accepted, never answered.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        Self { listener }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.listener.local_addr().unwrap())
    }
}

/// The binary at `bin` run with `args` in a clean environment: `PATH` only, its log in
/// `scratch`.
pub fn clean_command(bin: &str, scratch: &Scratch, args: &[&str]) -> std::process::Command {
    let mut command = std::process::Command::new(bin);
    command
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("FAILOVER_WATCH_LOG_FILE", scratch.log());
    command
}

/// Output as text, whatever bytes came.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// JSON lines, each parsed (a line that is not JSON fails the test, named).
pub fn json_lines(text: &str) -> Vec<serde_json::Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// A scratch directory for one test, removed when dropped.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("fw-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    /// A file in the directory with `text` in it.
    pub fn file(&self, name: &str, text: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    pub fn log(&self) -> PathBuf {
        self.0.join("run.log")
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
