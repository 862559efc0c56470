//! A hostile server of our own, on raw TCP so that it can answer what no HTTP library would
//! send: the key it was given echoed in every place an answer carries text, escape sequences,
//! bytes that are not HTTP, a head too large, a connection closed early, a hang, a stream that
//! stops after its first tokens, a `/model/info` that hangs or lies.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the server does with one request; `{key}` in a text is replaced by the bearer token
/// the request carried.
#[derive(Clone, Debug)]
pub enum Act {
    /// A 200 chat completion whose LiteLLM headers, body model and reply all echo the key,
    /// the reply with escape sequences and forged lines in it.
    EchoEverywhere,
    /// A status and a JSON error body echoing the key, with a forged log line in it.
    EchoError(u16),
    /// An HTML error page whose title echoes the key.
    EchoHtml(u16),
    /// These bytes, then the connection closed.
    Raw(&'static str),
    /// A head larger than any client accepts.
    HeadTooLarge,
    /// The request read, the connection closed without a byte.
    CloseEarly,
    /// A head announcing more body than comes, then the connection closed.
    CloseMidBody,
    /// Nothing, until the client gives up.
    Hang,
    /// A LiteLLM stream of one chunk (with `x-litellm-model-id`), complete.
    Stream,
    /// A LiteLLM stream's head and first chunk, then nothing.
    StreamThenHang,
    /// A status and this JSON body, `{key}` in it replaced by the key.
    Json(u16, &'static str),
}

pub struct Hostile {
    pub addr: SocketAddr,
    requests: Arc<AtomicUsize>,
}

/// What the server does for the paths that start with each prefix (the first that matches),
/// and for every other path.
#[derive(Clone, Debug)]
struct Routes {
    paths: Vec<(&'static str, Act)>,
    otherwise: Act,
}

impl Routes {
    fn act(&self, path: &str) -> &Act {
        self.paths
            .iter()
            .find(|(prefix, _)| path.starts_with(prefix))
            .map_or(&self.otherwise, |(_, act)| act)
    }
}

impl Hostile {
    /// Answers `POST .../chat/completions` with `chat` and `GET /model/info` with
    /// `model_info`, every time.
    pub async fn start(chat: Act, model_info: Act) -> Self {
        Self::routed(vec![("/model/info", model_info)], chat).await
    }

    /// Answers the paths that start with each prefix of `paths` with its act, any other
    /// with `otherwise`.
    pub async fn routed(paths: Vec<(&'static str, Act)>, otherwise: Act) -> Self {
        let routes = Routes { paths, otherwise };
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(AtomicUsize::new(0));
        let counted = requests.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let routes = routes.clone();
                let counted = counted.clone();
                tokio::spawn(async move {
                    let _ = serve(socket, &routes, &counted).await;
                });
            }
        });
        Self { addr, requests }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Requests read so far, of any path.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

async fn serve(
    mut socket: TcpStream,
    routes: &Routes,
    requests: &AtomicUsize,
) -> std::io::Result<()> {
    loop {
        let Some((path, key)) = read_request(&mut socket).await? else {
            return Ok(());
        };
        requests.fetch_add(1, Ordering::SeqCst);
        if !act_on(&mut socket, routes.act(&path), &key).await? {
            return Ok(());
        }
    }
}

/// Reads one request; its path and bearer token. `None` once the client closed.
async fn read_request(socket: &mut TcpStream) -> std::io::Result<Option<(String, String)>> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if socket.read(&mut byte).await? == 0 {
            return Ok(None);
        }
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let header = |name: &str| {
        head.lines().find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
        })
    };
    let length: usize = header("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    socket.read_exact(&mut body).await?;
    let path = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
    let key = header("authorization")
        .and_then(|v| v.strip_prefix("Bearer ").map(str::to_owned))
        .unwrap_or_default();
    Ok(Some((path, key)))
}

/// Does `act`; whether the connection stays open for another request.
async fn act_on(socket: &mut TcpStream, act: &Act, key: &str) -> std::io::Result<bool> {
    let json_head = |status: u16, length: usize| {
        format!(
            "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {length}\r\n"
        )
    };
    match act {
        Act::EchoEverywhere => {
            let body = serde_json::json!({
                "id": key, "object": "chat.completion", "model": key,
                "choices": [{"index": 0, "finish_reason": "stop", "message": {
                    "role": "assistant",
                    "content": format!("{key}\u{1b}[2J\u{1b}]0;owned\u{7}\r\n2026-01-01T00:00:00Z INFO forged"),
                }}],
            })
            .to_string();
            let mut head = json_head(200, body.len());
            for name in [
                "x-litellm-model-group",
                "x-litellm-model-id",
                "x-litellm-model-api-base",
                "x-litellm-model-name",
                "x-litellm-version",
            ] {
                head.push_str(&format!("{name}: Bearer {key}\r\n"));
            }
            write(socket, &format!("{head}\r\n{body}")).await?;
            Ok(true)
        }
        Act::EchoError(status) => {
            let message = format!(
                "bad token Bearer {key}\n2026-01-01T00:00:00Z  INFO failover_watch: forged\u{1b}[31m"
            );
            let body =
                serde_json::json!({"error": {"message": message, "code": status}}).to_string();
            write(
                socket,
                &format!("{}\r\n{body}", json_head(*status, body.len())),
            )
            .await?;
            Ok(true)
        }
        Act::EchoHtml(status) => {
            let body = format!("<html><head><title>{key} \u{1b}[5m</title></head></html>");
            let head = format!(
                "HTTP/1.1 {status} X\r\ncontent-type: text/html\r\ncontent-length: {}\r\n\r\n",
                body.len()
            );
            write(socket, &format!("{head}{body}")).await?;
            Ok(true)
        }
        Act::Raw(bytes) => {
            write(socket, bytes).await?;
            Ok(false)
        }
        Act::Json(status, body) => {
            let body = body.replace("{key}", key);
            write(
                socket,
                &format!("{}\r\n{body}", json_head(*status, body.len())),
            )
            .await?;
            Ok(true)
        }
        Act::HeadTooLarge => {
            let filler = "a".repeat(1 << 20);
            let _ = write(
                socket,
                &format!("HTTP/1.1 200 OK\r\nx-filler: {filler}\r\n\r\n"),
            )
            .await;
            Ok(false)
        }
        Act::CloseEarly => Ok(false),
        Act::CloseMidBody => {
            write(socket, &format!("{}\r\n{{\"id\":", json_head(200, 500))).await?;
            Ok(false)
        }
        Act::Hang => {
            std::future::pending::<()>().await;
            Ok(false)
        }
        Act::Stream | Act::StreamThenHang => {
            let head = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\
                        transfer-encoding: chunked\r\nx-litellm-model-id: dep-1\r\n\r\n";
            write(socket, head).await?;
            let chunk = |text: &str| format!("{:x}\r\n{text}\r\n", text.len());
            let first = "data: {\"model\":\"llama-fp8\",\"choices\":[{\"index\":0,\
                         \"delta\":{\"content\":\"Hi\"},\"finish_reason\":null}]}\n\n";
            write(socket, &chunk(first)).await?;
            if matches!(act, Act::StreamThenHang) {
                std::future::pending::<()>().await;
            }
            let last = "data: {\"model\":\"llama-fp8\",\"choices\":[{\"index\":0,\
                        \"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n";
            write(socket, &format!("{}0\r\n\r\n", chunk(last))).await?;
            Ok(true)
        }
    }
}

async fn write(socket: &mut TcpStream, text: &str) -> std::io::Result<()> {
    socket.write_all(text.as_bytes()).await?;
    socket.flush().await
}
