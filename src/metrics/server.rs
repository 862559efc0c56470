//! The metrics endpoint: `GET /metrics` (the Prometheus text format, or OpenMetrics when the
//! scraper asks for it) and `GET /healthz` (200 while the schedule ticks, 503 when it stopped).
//!
//! It runs on a thread of its own, so that no number of scrapes can hold up the probes: the
//! schedule and the owner of the state keep their thread.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use prometheus_client::encoding::{prometheus_text, text};
use prometheus_client::registry::Registry;
use std::io;

use tokio::net::TcpListener;
use tokio::sync::oneshot;

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
pub struct Endpoint {
    stop: Option<oneshot::Sender<()>>,
}

impl Drop for Endpoint {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Serves `exporter` on `addr`, on a thread of its own, until the endpoint is dropped.
pub fn serve(addr: SocketAddr, exporter: Exporter) -> io::Result<Endpoint> {
    let listener = std::net::TcpListener::bind(addr)?;
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
            runtime.block_on(async move {
                let served = match TcpListener::from_std(listener) {
                    Ok(listener) => {
                        let stopped = async {
                            let _ = stopped.await;
                        };
                        axum::serve(listener, app)
                            .with_graceful_shutdown(stopped)
                            .await
                    }
                    Err(error) => Err(error),
                };
                if let Err(error) = served {
                    tracing::error!(%error, "the metrics endpoint stopped");
                }
            });
        })?;
    Ok(Endpoint { stop: Some(stop) })
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
