//! The Ollama-API mock: what LiteLLM's `ollama/` (`/api/generate`) and `ollama_chat/`
//! (`/api/chat`) providers call.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Extension, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures::StreamExt;
use serde_json::{Value, json};

use super::{Fault, KillSwitch, Shared, apply_mode, pieces};

const CHUNK_PAUSE: Duration = Duration::from_millis(5);

pub fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/api/generate", post(generate))
        .route("/api/chat", post(chat))
        .route("/api/tags", get(tags))
        .route("/api/show", post(show))
        .route("/", get(|| async { "Ollama is running" }))
}

fn error_body(_status: u16, message: &str) -> Value {
    json!({ "error": message })
}

fn created_at() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
}

/// The counters Ollama puts on its last message.
fn done_fields(object: &mut Value) {
    let extra = json!({
        "done": true, "done_reason": "stop",
        "total_duration": 12_000_000, "load_duration": 1_000_000,
        "prompt_eval_count": 11, "prompt_eval_duration": 4_000_000,
        "eval_count": 3, "eval_duration": 6_000_000,
    });
    if let (Some(target), Some(extra)) = (object.as_object_mut(), extra.as_object()) {
        target.extend(extra.clone());
    }
}

/// Parses the request and applies the fault mode; `Err` is the response to send instead.
async fn admit(shared: &Shared, kill: Option<&KillSwitch>, body: &[u8]) -> Result<bool, Response> {
    let Ok(request) = serde_json::from_slice::<Value>(body) else {
        return Err((
            StatusCode::BAD_REQUEST,
            Json(error_body(400, "invalid JSON")),
        )
            .into_response());
    };
    if let Fault::Respond(response) = apply_mode(shared, kill, error_body).await {
        return Err(response);
    }
    shared.completions.fetch_add(1, Ordering::Relaxed);
    // Ollama streams unless told not to.
    Ok(request
        .get("stream")
        .and_then(Value::as_bool)
        .unwrap_or(true))
}

async fn generate(
    State(shared): State<Arc<Shared>>,
    kill: Option<Extension<KillSwitch>>,
    body: Bytes,
) -> Response {
    complete(
        &shared,
        kill.as_deref(),
        &body,
        |text| json!({ "response": text }),
    )
    .await
}

async fn chat(
    State(shared): State<Arc<Shared>>,
    kill: Option<Extension<KillSwitch>>,
    body: Bytes,
) -> Response {
    complete(
        &shared,
        kill.as_deref(),
        &body,
        |text| json!({ "message": {"role": "assistant", "content": text} }),
    )
    .await
}

/// Answers `/api/generate` or `/api/chat`, which differ only in where the text goes
/// (`carry`): one JSON answer, or NDJSON pieces closed by a `done` line.
async fn complete(
    shared: &Shared,
    kill: Option<&KillSwitch>,
    body: &[u8],
    carry: fn(&str) -> Value,
) -> Response {
    let streamed = match admit(shared, kill, body).await {
        Ok(streamed) => streamed,
        Err(response) => return response,
    };
    let line = |text: &str| {
        let mut line = json!({"model": shared.config.model, "created_at": created_at()});
        if let (Some(line), Value::Object(text)) = (line.as_object_mut(), carry(text)) {
            line.extend(text);
        }
        line
    };
    let reply = &shared.config.reply;
    if !streamed {
        let mut answer = line(reply);
        done_fields(&mut answer);
        return Json(answer).into_response();
    }
    let mut lines: Vec<Value> = pieces(reply)
        .iter()
        .map(|piece| {
            let mut part = line(piece);
            part["done"] = Value::Bool(false);
            part
        })
        .collect();
    let mut last = line("");
    done_fields(&mut last);
    lines.push(last);
    ndjson(lines)
}

fn ndjson(lines: Vec<Value>) -> Response {
    let body = futures::stream::iter(lines).then(|line| async move {
        tokio::time::sleep(CHUNK_PAUSE).await;
        Ok::<_, Infallible>(Bytes::from(format!("{line}\n")))
    });
    (
        [("content-type", "application/x-ndjson")],
        Body::from_stream(body),
    )
        .into_response()
}

async fn tags(State(shared): State<Arc<Shared>>, kill: Option<Extension<KillSwitch>>) -> Response {
    if let Fault::Respond(response) = apply_mode(&shared, kill.as_deref(), error_body).await {
        return response;
    }
    let name = format!("{}:latest", shared.config.model);
    Json(json!({"models": [{
        "name": name, "model": name, "modified_at": "2026-01-01T00:00:00Z",
        "size": 4_661_224_676u64, "digest": "sha256:mock",
        "details": {"format": "gguf", "family": "llama", "parameter_size": "8.0B", "quantization_level": "Q4_0"},
    }]}))
    .into_response()
}

async fn show(State(shared): State<Arc<Shared>>, kill: Option<Extension<KillSwitch>>) -> Response {
    if let Fault::Respond(response) = apply_mode(&shared, kill.as_deref(), error_body).await {
        return response;
    }
    Json(json!({
        "modelfile": format!("FROM {}", shared.config.model),
        "parameters": "",
        "template": "{{ .Prompt }}",
        "details": {"format": "gguf", "family": "llama", "parameter_size": "8.0B", "quantization_level": "Q4_0"},
        "model_info": {"general.architecture": "llama", "llama.context_length": 8192},
        "capabilities": ["completion"],
    }))
    .into_response()
}
