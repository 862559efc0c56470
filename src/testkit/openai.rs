//! The OpenAI-compatible mock: what LiteLLM's `openai/` provider calls.

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

use super::{Fault, KillSwitch, Shared, apply_mode, pieces, unix_now};

/// Pause between two streamed chunks, so a stream takes visible time.
const CHUNK_PAUSE: Duration = Duration::from_millis(5);

pub fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/v1/chat/completions", post(chat))
        .route("/chat/completions", post(chat))
        .route("/v1/models", get(models))
        .route("/models", get(models))
}

fn error_body(status: u16, message: &str) -> Value {
    json!({"error": {"message": message, "type": "server_error", "param": null, "code": status.to_string()}})
}

async fn models(
    State(shared): State<Arc<Shared>>,
    kill: Option<Extension<KillSwitch>>,
) -> Response {
    if let Fault::Respond(response) = apply_mode(&shared, kill.as_deref(), error_body).await {
        return response;
    }
    Json(json!({
        "object": "list",
        "data": [{"id": shared.config.model, "object": "model", "created": 0, "owned_by": "mock"}],
    }))
    .into_response()
}

async fn chat(
    State(shared): State<Arc<Shared>>,
    kill: Option<Extension<KillSwitch>>,
    body: Bytes,
) -> Response {
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return (
            StatusCode::BAD_REQUEST,
            Json(error_body(400, "the body is not JSON")),
        )
            .into_response();
    };
    if let Fault::Respond(response) = apply_mode(&shared, kill.as_deref(), error_body).await {
        return response;
    }
    let n = shared.completions.fetch_add(1, Ordering::Relaxed) + 1;
    let id = format!("chatcmpl-mock-{n}");
    let model = shared.config.model.clone();
    let reply = shared.config.reply.clone();
    if request.get("stream").and_then(Value::as_bool) == Some(true) {
        return stream(id, model, &reply);
    }
    Json(json!({
        "id": id,
        "object": "chat.completion",
        "created": unix_now(),
        "model": model,
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": reply},
            "finish_reason": "stop",
        }],
        "usage": {"prompt_tokens": 10, "completion_tokens": 2, "total_tokens": 12},
    }))
    .into_response()
}

/// Server-sent events: a role chunk with the first piece, the other piece, a finish chunk,
/// then `[DONE]`.
fn stream(id: String, model: String, reply: &str) -> Response {
    let created = unix_now();
    let chunk = |delta: Value, finish: Option<&str>| {
        let chunk = json!({
            "id": id, "object": "chat.completion.chunk", "created": created, "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        });
        format!("data: {chunk}\n\n")
    };
    let mut events = Vec::new();
    for (i, piece) in pieces(reply).into_iter().enumerate() {
        let delta = if i == 0 {
            json!({"role": "assistant", "content": piece})
        } else {
            json!({"content": piece})
        };
        events.push(chunk(delta, None));
    }
    events.push(chunk(json!({}), Some("stop")));
    events.push("data: [DONE]\n\n".to_owned());
    let body = futures::stream::iter(events).then(|event| async move {
        tokio::time::sleep(CHUNK_PAUSE).await;
        Ok::<_, Infallible>(Bytes::from(event))
    });
    (
        [
            ("content-type", "text/event-stream"),
            ("cache-control", "no-cache"),
        ],
        Body::from_stream(body),
    )
        .into_response()
}
