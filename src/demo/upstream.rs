//! Calls from the simulated gateway to its deployments (the in-process mocks), as LiteLLM's
//! providers make them: `openai/` posts `/v1/chat/completions`, `ollama/` `/api/generate`,
//! `ollama_chat/` `/api/chat`. Answers come back as text pieces; failures as [`CallFailure`]s.

use std::time::Duration;

use futures::stream::{self, BoxStream, StreamExt};
use reqwest::header::{CONTENT_TYPE, RETRY_AFTER};
use serde_json::{Value, json};
use tokio::time::Instant;

use super::errors::CallFailure;
use super::settings::{Deployment, Provider};

/// Longest answer body or stream line read from a deployment.
const BODY_LIMIT: usize = 1 << 20;

/// Where a deployment is really served, and how to talk to it.
#[derive(Clone, Debug)]
pub struct Upstream {
    /// The mock's root URL.
    pub url: String,
    pub provider: Provider,
    /// The model name the upstream knows (`llama3`).
    pub model: String,
}

impl Upstream {
    pub fn new(deployment: &Deployment, url: String) -> Self {
        Self {
            url,
            provider: deployment.provider,
            model: deployment.upstream_model().to_owned(),
        }
    }
}

/// What the client asked for.
#[derive(Clone, Debug)]
pub struct Ask {
    pub messages: Value,
    pub max_tokens: Option<u64>,
    pub stream: bool,
}

/// A piece of a streamed answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Piece {
    Text(String),
    Finished,
}

/// A deployment's successful answer.
pub enum Answer {
    /// A whole answer.
    Complete {
        text: String,
        prompt_tokens: u64,
        completion_tokens: u64,
    },
    /// A stream, read as the client reads the gateway's.
    Stream(BoxStream<'static, Piece>),
}

/// Calls `upstream` within `timeout` (for a stream: until it starts answering).
pub async fn call(
    http: &reqwest::Client,
    upstream: &Upstream,
    ask: &Ask,
    timeout: Duration,
) -> Result<Answer, CallFailure> {
    let started = Instant::now();
    let timed_out = || CallFailure::TimedOut {
        after: started.elapsed(),
    };
    let request = http
        .post(request_url(upstream))
        .json(&request_body(upstream, ask));
    let response = match tokio::time::timeout(timeout, request.send()).await {
        Err(_) => return Err(timed_out()),
        Ok(Err(error)) => return Err(transport_failure(&error, started)),
        Ok(Ok(response)) => response,
    };
    let status = response.status();
    if !status.is_success() {
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let left = timeout.saturating_sub(started.elapsed());
        let body = match tokio::time::timeout(left, read_limited(response)).await {
            Err(_) => return Err(timed_out()),
            Ok(body) => body.map_err(|e| transport_failure(&e, started))?,
        };
        return Err(CallFailure::Status {
            status: status.as_u16(),
            body: String::from_utf8_lossy(&body).into_owned(),
            retry_after,
        });
    }
    if ask.stream {
        return Ok(Answer::Stream(stream_pieces(upstream.provider, response)));
    }
    let left = timeout.saturating_sub(started.elapsed());
    let body = match tokio::time::timeout(left, read_limited(response)).await {
        Err(_) => return Err(timed_out()),
        Ok(body) => body.map_err(|e| transport_failure(&e, started))?,
    };
    let json: Value = serde_json::from_slice(&body).map_err(|_| CallFailure::NotJson)?;
    Ok(complete_answer(upstream.provider, &json))
}

fn request_url(upstream: &Upstream) -> String {
    let path = match upstream.provider {
        Provider::OpenaiCompatible => "/v1/chat/completions",
        Provider::Ollama => "/api/generate",
        Provider::OllamaChat => "/api/chat",
    };
    format!("{}{path}", upstream.url)
}

fn request_body(upstream: &Upstream, ask: &Ask) -> Value {
    match upstream.provider {
        Provider::OpenaiCompatible => {
            let mut body =
                json!({"model": upstream.model, "messages": ask.messages, "stream": ask.stream});
            if let Some(n) = ask.max_tokens {
                body["max_tokens"] = json!(n);
            }
            body
        }
        Provider::Ollama => {
            json!({"model": upstream.model, "prompt": prompt(&ask.messages), "stream": ask.stream})
        }
        Provider::OllamaChat => {
            json!({"model": upstream.model, "messages": ask.messages, "stream": ask.stream})
        }
    }
}

/// The messages' text, one per line, as a prompt for `/api/generate`.
fn prompt(messages: &Value) -> String {
    messages
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m.get("content"))
        .map(|c| c.as_str().map_or_else(|| c.to_string(), str::to_owned))
        .collect::<Vec<_>>()
        .join("\n")
}

fn transport_failure(error: &reqwest::Error, started: Instant) -> CallFailure {
    if error.is_timeout() {
        CallFailure::TimedOut {
            after: started.elapsed(),
        }
    } else if error.is_connect() {
        CallFailure::Refused
    } else {
        CallFailure::Disconnected
    }
}

async fn read_limited(mut response: reqwest::Response) -> Result<Vec<u8>, reqwest::Error> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        let room = BODY_LIMIT.saturating_sub(body.len());
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if room <= chunk.len() {
            break;
        }
    }
    Ok(body)
}

fn complete_answer(provider: Provider, json: &Value) -> Answer {
    let text_at = |pointer: &str| {
        json.pointer(pointer)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned()
    };
    let count_at = |pointer: &str| json.pointer(pointer).and_then(Value::as_u64).unwrap_or(0);
    match provider {
        Provider::OpenaiCompatible => Answer::Complete {
            text: text_at("/choices/0/message/content"),
            prompt_tokens: count_at("/usage/prompt_tokens"),
            completion_tokens: count_at("/usage/completion_tokens"),
        },
        Provider::Ollama | Provider::OllamaChat => Answer::Complete {
            text: if provider == Provider::Ollama {
                text_at("/response")
            } else {
                text_at("/message/content")
            },
            prompt_tokens: count_at("/prompt_eval_count"),
            completion_tokens: count_at("/eval_count"),
        },
    }
}

/// The pieces of a streamed answer: SSE from an OpenAI-compatible upstream, NDJSON from
/// Ollama. An OpenAI-compatible answer that is not SSE gives no text at all, only the end
/// (what LiteLLM streams when the upstream answers garbage).
fn stream_pieces(provider: Provider, response: reqwest::Response) -> BoxStream<'static, Piece> {
    let is_sse = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/event-stream"));
    if provider == Provider::OpenaiCompatible && !is_sse {
        return stream::iter([Piece::Finished]).boxed();
    }
    let lines = lines(response.bytes_stream());
    let pieces = lines
        .map(move |line| line_pieces(provider, &line))
        .take_while(|pieces| std::future::ready(pieces.is_some()))
        .flat_map(|pieces| stream::iter(pieces.unwrap_or_default()));
    // One `Finished` at most, always last, even if the upstream never said it was done.
    stream::unfold(
        (pieces.boxed(), false),
        |(mut pieces, finished)| async move {
            if finished {
                return None;
            }
            match pieces.next().await {
                Some(Piece::Finished) | None => Some((Piece::Finished, (pieces, true))),
                Some(text) => Some((text, (pieces, false))),
            }
        },
    )
    .boxed()
}

/// The pieces in one line of the upstream's stream; `None` once the stream is over.
fn line_pieces(provider: Provider, line: &str) -> Option<Vec<Piece>> {
    let line = line.trim();
    let json = match provider {
        Provider::OpenaiCompatible => {
            let Some(data) = line.strip_prefix("data:") else {
                return Some(Vec::new());
            };
            let data = data.trim();
            if data == "[DONE]" {
                return None;
            }
            data
        }
        Provider::Ollama | Provider::OllamaChat => line,
    };
    if json.is_empty() {
        return Some(Vec::new());
    }
    let Ok(value) = serde_json::from_str::<Value>(json) else {
        return None;
    };
    let (text, done) = match provider {
        Provider::OpenaiCompatible => (
            value.pointer("/choices/0/delta/content"),
            value
                .pointer("/choices/0/finish_reason")
                .is_some_and(|r| !r.is_null()),
        ),
        Provider::Ollama => (value.get("response"), value["done"] == true),
        Provider::OllamaChat => (value.pointer("/message/content"), value["done"] == true),
    };
    let mut pieces = Vec::new();
    if let Some(text) = text.and_then(Value::as_str).filter(|t| !t.is_empty()) {
        pieces.push(Piece::Text(text.to_owned()));
    }
    if done {
        pieces.push(Piece::Finished);
    }
    Some(pieces)
}

/// Splits a byte stream into lines; a line longer than [`BODY_LIMIT`] ends it.
fn lines<S>(bytes: S) -> BoxStream<'static, String>
where
    S: futures::Stream<Item = Result<bytes::Bytes, reqwest::Error>> + Send + 'static,
{
    stream::unfold(
        (bytes.boxed(), Vec::<u8>::new(), false),
        |(mut bytes, mut buffer, mut ended)| async move {
            loop {
                if let Some(end) = buffer.iter().position(|b| *b == b'\n') {
                    let line: Vec<u8> = buffer.drain(..=end).collect();
                    let line = String::from_utf8_lossy(&line).into_owned();
                    return Some((line, (bytes, buffer, ended)));
                }
                if ended || buffer.len() > BODY_LIMIT {
                    if buffer.is_empty() || buffer.len() > BODY_LIMIT {
                        return None;
                    }
                    let line = String::from_utf8_lossy(&buffer).into_owned();
                    buffer.clear();
                    return Some((line, (bytes, buffer, true)));
                }
                match bytes.next().await {
                    Some(Ok(chunk)) => buffer.extend_from_slice(&chunk),
                    Some(Err(_)) | None => ended = true,
                }
            }
        },
    )
    .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_lines_become_pieces() {
        let openai = Provider::OpenaiCompatible;
        assert_eq!(
            line_pieces(
                openai,
                r#"data: {"choices":[{"delta":{"role":"assistant","content":"Hi"},"finish_reason":null}]}"#
            ),
            Some(vec![Piece::Text("Hi".into())])
        );
        assert_eq!(
            line_pieces(
                openai,
                r#"data: {"choices":[{"delta":{},"finish_reason":"stop"}]}"#
            ),
            Some(vec![Piece::Finished])
        );
        assert_eq!(line_pieces(openai, "data: [DONE]"), None);
        assert_eq!(line_pieces(openai, ": keep-alive"), Some(vec![]));
        assert_eq!(
            line_pieces(Provider::Ollama, r#"{"response":"Hel","done":false}"#),
            Some(vec![Piece::Text("Hel".into())])
        );
        assert_eq!(
            line_pieces(Provider::Ollama, r#"{"response":"","done":true}"#),
            Some(vec![Piece::Finished])
        );
        assert_eq!(
            line_pieces(
                Provider::OllamaChat,
                r#"{"message":{"content":"lo!"},"done":false}"#
            ),
            Some(vec![Piece::Text("lo!".into())])
        );
        assert_eq!(line_pieces(Provider::Ollama, "<html>"), None);
    }

    #[test]
    fn generate_gets_a_prompt_and_chat_the_messages() {
        let ask = Ask {
            messages: json!([{"role": "user", "content": "Say hi"}]),
            max_tokens: Some(10),
            stream: false,
        };
        let up = |provider| Upstream {
            url: "http://127.0.0.1:1".into(),
            provider,
            model: "llama3".into(),
        };
        assert_eq!(
            request_body(&up(Provider::Ollama), &ask),
            json!({"model": "llama3", "prompt": "Say hi", "stream": false})
        );
        assert_eq!(
            request_url(&up(Provider::OllamaChat)),
            "http://127.0.0.1:1/api/chat"
        );
        assert_eq!(
            request_body(&up(Provider::OpenaiCompatible), &ask)["max_tokens"],
            json!(10)
        );
    }
}
