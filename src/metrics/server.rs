//! The metrics endpoint: `GET /metrics` (the Prometheus text format, or OpenMetrics when the
//! scraper asks for it) and `GET /healthz` (200 while the schedule ticks, 503 when it stopped).
//!
//! It runs on a thread of its own, so that no number of scrapes can hold up the probes: the
//! schedule and the owner of the state keep their thread.

use std::collections::VecDeque;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use prometheus_client::encoding::{prometheus_text, text};
use prometheus_client::registry::Registry;
use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::AbortHandle;
use tokio::time::Sleep;

use super::Health;
use crate::clock::SessionClock;

/// What the endpoint serves: the registry the owner updates, and its liveness.
#[derive(Clone)]
pub struct Exporter {
    registry: Arc<Registry>,
    health: Arc<Health>,
    clock: SessionClock,
}

impl Exporter {
    pub(super) fn new(registry: Registry, health: Arc<Health>, clock: SessionClock) -> Self {
        Self {
            registry: Arc::new(registry),
            health,
            clock,
        }
    }

    /// The metrics as a scrape gets them, OpenMetrics or the Prometheus text format, and
    /// their content type.
    pub fn encode(&self, openmetrics: bool) -> Result<(String, &'static str), std::fmt::Error> {
        let mut body = String::new();
        if openmetrics {
            text::encode(&mut body, &self.registry)?;
            Ok((
                body,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
            ))
        } else {
            prometheus_text::encode(&mut body, &self.registry)?;
            Ok((body, prometheus_text::CONTENT_TYPE))
        }
    }

    /// Whether the schedule ticks.
    pub fn alive(&self) -> bool {
        self.health.alive(self.clock.now())
    }
}

/// The endpoint while it serves; it stops when dropped.
pub struct Server {
    stop: Option<oneshot::Sender<()>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Serves `exporter` on `addr`, on a thread of its own, until the endpoint is dropped; raises
/// the process's limit of open files first, and serves as many connections at once as that
/// limit spares (a sixteenth of it, from [`MIN_CONNECTIONS`] to [`MAX_CONNECTIONS`]).
pub fn serve(addr: SocketAddr, exporter: Exporter) -> io::Result<Server> {
    let limit = raise_open_files_limit();
    let cap = limit.map_or(MAX_CONNECTIONS, |limit| {
        usize::try_from(limit / 16)
            .unwrap_or(MAX_CONNECTIONS)
            .clamp(MIN_CONNECTIONS, MAX_CONNECTIONS)
    });
    serve_on(std::net::TcpListener::bind(addr)?, exporter, cap)
}

/// Serves on a listener bound already (by a test, on a free port), at most `cap` connections
/// at once.
fn serve_on(listener: std::net::TcpListener, exporter: Exporter, cap: usize) -> io::Result<Server> {
    listener.set_nonblocking(true)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let (stop, stopped) = oneshot::channel::<()>();
    let app = Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(healthz))
        .with_state(exporter);
    std::thread::Builder::new()
        .name("metrics".to_owned())
        .spawn(move || {
            // Open connections are dropped with the runtime, when the thread ends.
            runtime.block_on(async move {
                match TcpListener::from_std(listener) {
                    Ok(listener) => {
                        tokio::select! {
                            _ = stopped => {}
                            () = accept(listener, app, cap) => {}
                        }
                    }
                    Err(error) => tracing::error!(%error, "the metrics endpoint stopped"),
                }
            });
        })?;
    Ok(Server { stop: Some(stop) })
}

/// Connections served at once, at the least and at the most. Without a cap, idle connections
/// to the port took every descriptor the process may open (1,024 by a common default), and the
/// probes failed for want of them: an outage that never happened. At the cap the oldest
/// connection is closed for the newest, whatever it is doing, so `/healthz` gets in; and the
/// exporter holds that many descriptors and a few more (its listener, its runtime's). The cap
/// is a sixteenth of the open-files limit: 64 under 1,024 files, 512 under the usual far
/// higher limits. The price under a tight limit: more clients than the cap at once, each
/// slower to send its request than the next ones are to connect, close one another (200
/// scrapers in one Python process, `scrape-storm.sh`, under 1,024 files). Sparing the young
/// instead (for the 100 ms such a storm needs) slowed the accepts so that a flood kept
/// `/healthz` waiting past a second.
const MIN_CONNECTIONS: usize = 64;
const MAX_CONNECTIONS: usize = 512;
/// Time a connection has to send a complete request head, from its start or from its last
/// answer: an idle or half-sent connection is closed after it. hyper's timer runs whenever a
/// head is awaited, so this is also how long a kept-alive connection may idle.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(2);
/// Time a connection may go with no byte read or written: it ends a client that stopped
/// reading its answers, which the head's timer does not see (hyper waits to write, not for a
/// head).
const IDLE_TIMEOUT: Duration = Duration::from_secs(10);
/// Pause after the listener could not accept (out of descriptors, say): retrying at once would
/// spin, as the connection stays in the queue.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// Accepts connections for ever, at most `cap` open, the oldest closed for a new one at the
/// cap.
async fn accept(listener: TcpListener, app: Router, cap: usize) {
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT);
    let mut oldest_first: VecDeque<AbortHandle> = VecDeque::with_capacity(cap);
    let mut failing = false;
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(error) if gone_before_accepted(&error) => continue,
            Err(error) => {
                if !failing {
                    tracing::warn!(%error, "the metrics endpoint cannot accept connections");
                }
                failing = true;
                tokio::time::sleep(ACCEPT_BACKOFF).await;
                continue;
            }
        };
        failing = false;
        oldest_first.retain(|connection| !connection.is_finished());
        if oldest_first.len() >= cap
            && let Some(oldest) = oldest_first.pop_front()
        {
            oldest.abort();
        }
        let connection = http.serve_connection(
            TokioIo::new(IdleLimited::new(stream)),
            TowerToHyperService::new(app.clone()),
        );
        let task = tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%error, "a metrics connection ended");
            }
        });
        oldest_first.push_back(task.abort_handle());
        // The new connection (and the closing of the oldest) before the next accept: in a
        // flood, a connection accepted is served before newer ones can push it out.
        tokio::task::yield_now().await;
    }
}

/// Whether an accept failed for the one connection (it went away in the queue), not for the
/// listener.
fn gone_before_accepted(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionRefused
    )
}

/// Raises the soft limit of open files to the hard one, where it is lower (a soft 1,024 under
/// a far higher hard limit is common): descriptors in reserve for the probes. The limit now
/// (`None`: no limit).
fn raise_open_files_limit() -> Option<u64> {
    let Rlimit { current, maximum } = getrlimit(Resource::Nofile);
    // `None` is no limit; the soft limit is never above the hard one.
    if current.is_none() || current == maximum {
        return current;
    }
    match setrlimit(
        Resource::Nofile,
        Rlimit {
            current: maximum,
            maximum,
        },
    ) {
        Ok(()) => {
            tracing::info!(
                from = current,
                to = maximum,
                "raised the limit of open files"
            );
            maximum
        }
        Err(error) => {
            tracing::debug!(%error, "cannot raise the limit of open files");
            current
        }
    }
}

/// A connection that fails once no byte moved either way for [`IDLE_TIMEOUT`].
struct IdleLimited {
    stream: TcpStream,
    deadline: Pin<Box<Sleep>>,
}

impl IdleLimited {
    fn new(stream: TcpStream) -> Self {
        Self {
            stream,
            deadline: Box::pin(tokio::time::sleep(IDLE_TIMEOUT)),
        }
    }

    /// Passes on `done`, a read's or a write's result, pushing the deadline back; while it is
    /// pending, fails it once the deadline has passed.
    fn watch<T>(&mut self, done: Poll<io::Result<T>>, cx: &mut Context<'_>) -> Poll<io::Result<T>> {
        if done.is_ready() {
            let later = tokio::time::Instant::now() + IDLE_TIMEOUT;
            self.deadline.as_mut().reset(later);
            return done;
        }
        match self.deadline.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "idle for too long",
            ))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl AsyncRead for IdleLimited {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let done = Pin::new(&mut self.stream).poll_read(cx, buf);
        self.watch(done, cx)
    }
}

impl AsyncWrite for IdleLimited {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let done = Pin::new(&mut self.stream).poll_write(cx, buf);
        self.watch(done, cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let done = Pin::new(&mut self.stream).poll_write_vectored(cx, bufs);
        self.watch(done, cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let done = Pin::new(&mut self.stream).poll_flush(cx);
        self.watch(done, cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let done = Pin::new(&mut self.stream).poll_shutdown(cx);
        self.watch(done, cx)
    }
}

async fn metrics(State(exporter): State<Exporter>, headers: HeaderMap) -> Response {
    let openmetrics = headers
        .get(header::ACCEPT)
        .and_then(|accept| accept.to_str().ok())
        .is_some_and(|accept| accept.contains("application/openmetrics-text"));
    match exporter.encode(openmetrics) {
        Ok((body, content_type)) => ([(header::CONTENT_TYPE, content_type)], body).into_response(),
        Err(error) => {
            tracing::error!(%error, "cannot encode the metrics");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

async fn healthz(State(exporter): State<Exporter>) -> (StatusCode, &'static str) {
    if exporter.alive() {
        (StatusCode::OK, "ok\n")
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "the probe schedule has not ticked for two intervals\n",
        )
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::time::{Instant, timeout, timeout_at};

    use super::*;
    use crate::clock::{RunClock, SessionClock};
    use crate::metrics::Metrics;
    use crate::tests::{run_info, wall};

    /// The endpoint on a free port of 127.0.0.1, alive for two minutes (a 60 s interval).
    fn serving() -> (Server, SocketAddr) {
        let mut info = run_info(false);
        info.targets[0].interval = Duration::from_secs(60);
        let clock = SessionClock::Run(RunClock::starting_at(wall()));
        let (_metrics, exporter) = Metrics::new(&info, clock);
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        (serve_on(listener, exporter, MIN_CONNECTIONS).unwrap(), addr)
    }

    /// The status of `GET /healthz` on a connection of its own.
    async fn healthz(addr: SocketAddr) -> io::Result<u16> {
        let mut stream = TcpStream::connect(addr).await?;
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .await?;
        let mut answer = String::new();
        stream.read_to_string(&mut answer).await?;
        Ok(answer
            .split_whitespace()
            .nth(1)
            .and_then(|status| status.parse().ok())
            .unwrap_or(0))
    }

    /// A connection that asked `/healthz` once, had its answer and stays open: accepted, for
    /// sure, when this returns.
    async fn kept_alive(addr: SocketAddr) -> TcpStream {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let mut answer = Vec::new();
        while !answer.ends_with(b"ok\n") {
            let mut chunk = [0; 512];
            let n = stream.read(&mut chunk).await.unwrap();
            assert!(n > 0, "closed before its answer");
            answer.extend_from_slice(&chunk[..n]);
        }
        stream
    }

    /// Whether the server closed `stream` by `deadline` (an end of file, or a reset).
    async fn closed_by(stream: &mut TcpStream, deadline: Instant) -> bool {
        timeout_at(deadline, stream.read_to_end(&mut Vec::new()))
            .await
            .is_ok()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn healthz_answers_through_a_flood_of_idle_and_half_sent_connections() {
        let (_endpoint, addr) = serving();
        let mut flood = Vec::new();
        for n in 0..300 {
            let mut stream = TcpStream::connect(addr).await.unwrap();
            if n % 3 == 0 {
                stream
                    .write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
                    .await
                    .unwrap();
            }
            flood.push(stream);
        }
        let asked = Instant::now();
        // A second on a quiet machine (tests/bench/metrics-flood.sh); bounded generously here,
        // where other tests share the cores: without the cap it never answers.
        let status = timeout(Duration::from_secs(5), healthz(addr))
            .await
            .expect("/healthz answers through the flood")
            .unwrap();
        assert_eq!(status, 200);
        // Every one closed by the server: the oldest at the cap, the last ones once their
        // head is late.
        let deadline = asked + HEADER_READ_TIMEOUT + Duration::from_secs(2);
        for (n, stream) in flood.iter_mut().enumerate() {
            assert!(
                closed_by(stream, deadline).await,
                "connection {n} still open"
            );
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn at_the_cap_the_oldest_connection_is_closed_for_a_new_one() {
        let (_endpoint, addr) = serving();
        let mut open = Vec::new();
        for _ in 0..MIN_CONNECTIONS {
            open.push(kept_alive(addr).await);
        }
        let _newest = kept_alive(addr).await;
        // Closed at once (well before its head timer of 2 s strikes); the next oldest stays.
        let soon = Instant::now() + Duration::from_millis(1500);
        assert!(closed_by(&mut open[0], soon).await, "the oldest still open");
        let mut byte = [0; 1];
        let second = timeout(Duration::from_millis(100), open[1].read(&mut byte)).await;
        assert!(second.is_err(), "the second oldest closed too: {second:?}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_client_that_reads_no_answer_is_closed_once_idle() {
        let (_endpoint, addr) = serving();
        // Asks for far more than the buffers hold, with a small window, and reads nothing:
        // the server's writes stop, and no head is awaited to time out.
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.set_recv_buffer_size(4096).unwrap();
        let mut stream = socket.connect(addr).await.unwrap();
        let asked = Instant::now();
        let requests = b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n".repeat(2000);
        stream.write_all(&requests).await.unwrap();
        // Reading, the one way to see the end, would let the server write again: the
        // connection is looked at once its limit has passed. Closed, it holds only what came
        // before; open, it answers on and waits a head before it ends.
        tokio::time::sleep_until(asked + IDLE_TIMEOUT + Duration::from_secs(2)).await;
        let soon = Instant::now() + Duration::from_millis(500);
        assert!(closed_by(&mut stream, soon).await, "still open");
    }
}
