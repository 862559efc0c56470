//! The real prober: one chat completion through async-openai per probe, attributed from the
//! proxy's own evidence.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Once};
use std::time::Duration;

use async_openai::Client;
use async_openai::config::Config;
use async_openai::error::OpenAIError;
use color_eyre::eyre::{Result, WrapErr};
use futures::StreamExt;
use reqwest::header::{AUTHORIZATION, HeaderMap};
use secrecy::SecretString;
use serde_json::{Value, json};
use tokio::sync::Mutex;
use tokio::time::Instant;

use super::attribution::attribute;
use super::capture::{Captured, CapturingService, capture};
use super::endpoint::Endpoint;
use super::errors::{self, MESSAGE_CHARS};
use super::event::{Cooling, ErrorKind, Evidence, Failure, Lane, ProbeReport, Role, Route, Served};
use super::schedule::{PROXY_METRICS_EVERY, Probe};
use crate::litellm::health::Health;
use crate::litellm::model_info::Deployments;
use crate::litellm::prometheus::{GroupSeries, MAX_LINE, ProxyReading, Reader};
use crate::sys::secret::ApiKey;
use crate::text::sanitize::clean;

/// Longest reply kept from one answer.
const REPLY_CHARS: usize = 1000;
/// `/model/info` is asked again for an unknown deployment at most this often.
const DEPLOYMENTS_REFRESH: Duration = Duration::from_secs(10);
/// The most reading the router's settings may take before the run starts.
const SETTINGS_TIMEOUT: Duration = Duration::from_secs(3);
/// The most a `/model/info` look-up may take: it holds back the attribution of an answer
/// that has already arrived, so it has its own bound, apart from the probe's timeout.
const DEPLOYMENTS_TIMEOUT: Duration = Duration::from_secs(5);
/// The most reading LiteLLM's metrics may take, and the most of them read: a busy proxy
/// labels its series by key and client, thousands of lines.
const PROXY_METRICS_TIMEOUT: Duration = Duration::from_secs(5);
const PROXY_METRICS_BYTES: usize = 32 << 20;

/// What to ask and how.
#[derive(Clone, Debug)]
pub struct ProbeSettings {
    pub endpoint: Endpoint,
    pub key: Option<ApiKey>,
    /// The primary model group: the `model` of every request.
    pub primary: String,
    pub prompt: String,
    pub max_tokens: u32,
    pub stream: bool,
    /// Also the idle limit between two reads of an answer.
    pub timeout: Duration,
    /// Where LiteLLM's own metrics are read.
    pub proxy_metrics: ProxyMetrics,
}

/// Where LiteLLM's own metrics are read (`--proxy-metrics`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum ProxyMetrics {
    /// The proxy's `/metrics/`, tried once: a proxy that does not export them is said once.
    #[default]
    Auto,
    Off,
    /// This URL (LiteLLM's separate metrics port, say), read every time.
    At(String),
}

/// async-openai's view of the proxy: our base and key only, nothing from `OPENAI_*` variables.
#[derive(Clone, Debug)]
struct ProxyConfig {
    api_base: String,
    key: Option<ApiKey>,
    no_key: SecretString,
}

impl Config for ProxyConfig {
    fn headers(&self) -> HeaderMap {
        let mut headers = HeaderMap::new();
        if let Some(key) = &self.key {
            headers.insert(AUTHORIZATION, key.bearer());
        }
        headers
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.api_base, path)
    }

    fn query(&self) -> Vec<(&str, &str)> {
        Vec::new()
    }

    fn api_base(&self) -> &str {
        &self.api_base
    }

    fn api_key(&self) -> &SecretString {
        self.key.as_ref().map_or(&self.no_key, ApiKey::secret)
    }
}

struct DeploymentCache {
    deployments: Arc<Deployments>,
    fetched_at: Option<Instant>,
    /// Why the last look-up failed, until one succeeds.
    failure: Option<String>,
}

/// The deployment map as far as it is known, and why it is not better known.
struct Lookup {
    deployments: Arc<Deployments>,
    failure: Option<String>,
}

/// LiteLLM's metrics as last read for every group of a proxy's targets.
struct MetricsCache {
    url: String,
    read_at: Option<Instant>,
    /// A reading per group of [`ProxyShare::groups`], in its order, or why none came.
    readings: std::result::Result<Vec<ProxyReading>, String>,
}

/// What the targets of one proxy (with one key and one timeout) share: the HTTP client and its
/// kept-alive connections, the deployment map, and LiteLLM's metrics, read once for all of
/// their groups rather than once a target.
pub struct ProxyShare {
    http: reqwest::Client,
    /// The primary groups of the targets that share it.
    groups: Vec<String>,
    deployments: Mutex<DeploymentCache>,
    metrics: Mutex<MetricsCache>,
}

impl ProxyShare {
    pub fn new(http: reqwest::Client, groups: Vec<String>) -> Arc<Self> {
        Arc::new(Self {
            http,
            groups,
            deployments: Mutex::new(DeploymentCache {
                deployments: Arc::new(Deployments::default()),
                fetched_at: None,
                failure: None,
            }),
            metrics: Mutex::new(MetricsCache {
                url: String::new(),
                read_at: None,
                readings: Ok(Vec::new()),
            }),
        })
    }
}

pub struct HttpProber {
    client: Client<ProxyConfig>,
    settings: ProbeSettings,
    /// The body of a normal probe, and of a direct one (no fallbacks).
    request: Value,
    direct: Value,
    share: Arc<ProxyShare>,
    /// `--proxy-metrics auto` found none for this target's group: not asked again.
    proxy_metrics_gave_up: AtomicBool,
}

/// A reqwest client that applies our timeouts; async-openai applies none. HTTP proxies from
/// the environment (`HTTP_PROXY`...) are used, except for a proxy on this machine.
pub fn http_client(timeout: Duration, endpoint: &Endpoint) -> Result<reqwest::Client> {
    static PROVIDER: Once = Once::new();
    PROVIDER.call_once(|| {
        // Another part of the process may have installed one already; either is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
    let mut builder = reqwest::Client::builder()
        .connect_timeout(timeout.min(Duration::from_secs(10)))
        .read_timeout(timeout)
        // A redirect is reported, not followed: the probe must tell what the proxy answered.
        .redirect(reqwest::redirect::Policy::none())
        // One HTTP request per probe: no retry of a refused HTTP/2 stream either, and so no
        // copy of every request kept for one.
        .retry(reqwest::retry::never().max_retries_per_request(0))
        .user_agent(concat!("failover-watch/", env!("CARGO_PKG_VERSION")));
    if endpoint.is_loopback() {
        builder = builder.no_proxy();
        // Plain HTTP, straight to this machine, no redirect followed: no TLS will ever be
        // spoken, so the system's certificates are not loaded (all of them are read and
        // parsed when the client is built: milliseconds of CPU at every start).
        if endpoint.is_plain_http() {
            builder = builder.tls_certs_only([]);
        }
    }
    builder.build().wrap_err("cannot set up the HTTP client")
}

impl HttpProber {
    /// A prober of its own proxy.
    pub fn new(settings: ProbeSettings) -> Result<Self> {
        let http = http_client(settings.timeout, &settings.endpoint)?;
        let share = ProxyShare::new(http, vec![settings.primary.clone()]);
        Self::sharing(settings, share)
    }

    /// A prober on what it shares with the other targets of its proxy: one kept-alive
    /// connection pool, one deployment map, one reading of the metrics.
    pub fn sharing(settings: ProbeSettings, share: Arc<ProxyShare>) -> Result<Self> {
        let http = &share.http;
        let config = ProxyConfig {
            api_base: settings.endpoint.api_base(),
            key: settings.key.clone(),
            no_key: SecretString::from(String::new()),
        };
        // `build` shares our client (`with_config` would build a second, unused one, loading
        // the system's certificates once more); `with_http_service` replaces the retrying
        // executor: one HTTP request per probe.
        let client = Client::build(http.clone(), config)
            .with_http_service(CapturingService::new(http.clone()));
        let mut request = json!({
            "model": settings.primary,
            "messages": [{"role": "user", "content": settings.prompt}],
            "max_tokens": settings.max_tokens,
        });
        if settings.stream {
            request["stream"] = Value::Bool(true);
        }
        let mut direct = request.clone();
        direct["disable_fallbacks"] = Value::Bool(true);
        Ok(Self {
            client,
            settings,
            request,
            direct,
            share,
            proxy_metrics_gave_up: AtomicBool::new(false),
        })
    }

    /// The failure of an async-openai call.
    fn classify(&self, error: &OpenAIError, status: Option<u16>) -> Failure {
        let key_sent = self.settings.key.is_some();
        errors::classify(error, status, key_sent, self.settings.timeout)
    }

    async fn probe_once(&self, request: &Value, started: Instant) -> ProbeReport {
        let chat = self.client.chat();
        let deadline = started + self.settings.timeout;
        let call = chat.create_byot::<_, Value>(request.clone());
        let (result, captured) = capture(call, deadline).await;
        let heard = Heard::new(started, captured, None);
        let body = match result {
            Some(Ok(body)) => body,
            Some(Err(error)) => {
                let failure = self.classify(&error, heard.status);
                return heard.failed(failure);
            }
            None => return heard.failed(errors::timeout_failure(self.settings.timeout)),
        };
        match completion_text(&body) {
            Ok(reply) => {
                let model = body.get("model").and_then(Value::as_str);
                self.served(heard, model, &reply).await
            }
            Err(failure) => heard.failed(failure),
        }
    }

    async fn probe_stream(&self, request: &Value, started: Instant) -> ProbeReport {
        let chat = self.client.chat();
        let deadline = started + self.settings.timeout;
        let call = chat.create_stream_byot::<_, Value>(request.clone());
        let (result, captured) = capture(call, deadline).await;
        let status = captured.as_ref().map(|c| c.status);
        let timed_out = || errors::timeout_failure(self.settings.timeout);
        let mut stream = match result {
            Some(Ok(stream)) => stream,
            Some(Err(error)) => {
                let failure = self.classify(&error, status);
                return Heard::new(started, captured, None).failed(failure);
            }
            None => return Heard::new(started, captured, None).failed(timed_out()),
        };
        let mut reply = String::new();
        let mut model: Option<String> = None;
        let mut ttft = None;
        let mut chunks = 0u64;
        let mut finished = false;
        loop {
            // What was seen before the deadline (status, first token) stays in the report.
            let item = match tokio::time::timeout_at(deadline, stream.next()).await {
                Ok(Some(item)) => item,
                Ok(None) => break,
                Err(_) => return Heard::new(started, captured, ttft).failed(timed_out()),
            };
            let chunk = match item {
                Ok(chunk) => chunk,
                Err(error) => {
                    let mut failure = self.classify(&error, status);
                    if failure.kind == ErrorKind::Decode {
                        failure.kind = ErrorKind::Stream;
                    }
                    return Heard::new(started, captured, ttft).failed(failure);
                }
            };
            // A lenient chunk type would swallow an in-stream error event: look for it.
            if let Some(error) = chunk.get("error") {
                let failure = Failure {
                    kind: ErrorKind::Stream,
                    message: format!(
                        "error event in the stream: {}",
                        errors::body_message(&json!({ "error": error }).to_string())
                    ),
                };
                return Heard::new(started, captured, ttft).failed(failure);
            }
            chunks += 1;
            finished |= chunk
                .pointer("/choices/0/finish_reason")
                .is_some_and(|reason| !reason.is_null());
            if model.is_none() {
                model = chunk
                    .get("model")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
            }
            let content = chunk
                .pointer("/choices/0/delta/content")
                .and_then(Value::as_str)
                .unwrap_or("");
            if !content.is_empty() {
                ttft.get_or_insert_with(|| started.elapsed());
                if reply.len() < REPLY_CHARS * 4 {
                    reply.push_str(content);
                }
            }
        }
        let heard = Heard::new(started, captured, ttft);
        // A stream ends with a chunk that gives its finish_reason (LiteLLM's always do, even
        // around an upstream's garbage): without one, the answer was cut or was no stream.
        if !finished {
            return heard.failed(Failure {
                kind: ErrorKind::Stream,
                message: if chunks == 0 {
                    "no event stream came back (no chunk before the answer ended)".to_owned()
                } else {
                    format!("the stream ended after {chunks} chunks without a finish_reason")
                },
            });
        }
        self.served(heard, model.as_deref(), &reply).await
    }

    /// Attributes a successful answer (after its latency was taken: a deployment look-up
    /// here must not count as the proxy's time).
    async fn served(&self, mut heard: Heard, body_model: Option<&str>, reply: &str) -> ProbeReport {
        let route = &heard.route;
        let deployments = if route.model_group.is_none()
            && (route.model_id.is_some() || route.api_base.is_some())
        {
            let lookup = self.deployments_knowing(route.model_id.as_slice()).await;
            heard.route.lookup_failure = lookup.failure;
            lookup.deployments
        } else {
            Arc::new(Deployments::default())
        };
        let route = &heard.route;
        let body_model = body_model.map(|m| clean(m, 200));
        let Some(who) = attribute(
            &self.settings.primary,
            route,
            body_model.as_deref(),
            &deployments,
        ) else {
            return heard.failed(Failure {
                kind: ErrorKind::Decode,
                message: "the answer does not say who served it: no x-litellm headers and no \
                          model in the body"
                    .to_owned(),
            });
        };
        ProbeReport {
            latency: heard.latency,
            status: heard.status,
            route: heard.route,
            ttft: heard.ttft,
            result: Ok(Served {
                role: who.role,
                model: who.model,
                evidence: who.evidence,
                reply: clean(reply, REPLY_CHARS),
            }),
        }
    }

    /// The deployment map, fetched again (at most every so often) unless it knows `ids`:
    /// fetched on first need, and when an answer names a deployment it does not know (the
    /// proxy's config may have changed).
    async fn deployments_knowing(&self, ids: &[String]) -> Lookup {
        let mut cache = self.share.deployments.lock().await;
        let known = !ids.is_empty() && ids.iter().all(|id| cache.deployments.by_id(id).is_some());
        let stale = cache
            .fetched_at
            .is_none_or(|at| at.elapsed() >= DEPLOYMENTS_REFRESH);
        if !known && stale {
            cache.fetched_at = Some(Instant::now());
            match self.fetch_deployments().await {
                Ok(deployments) => {
                    tracing::info!(count = deployments.len(), "read the proxy's deployments");
                    cache.deployments = Arc::new(deployments);
                    cache.failure = None;
                }
                Err(error) => {
                    tracing::warn!(%error, "cannot read the proxy's deployments");
                    cache.failure = Some(error);
                }
            }
        }
        Lookup {
            deployments: cache.deployments.clone(),
            failure: if known { None } else { cache.failure.clone() },
        }
    }

    /// The model groups of the proxy's model list (`GET /model/info`), in its order.
    pub async fn model_groups(&self) -> std::result::Result<Vec<String>, String> {
        let deployments = self.fetch_deployments().await?;
        Ok(deployments
            .groups()
            .into_iter()
            .map(str::to_owned)
            .collect())
    }

    async fn fetch_deployments(&self) -> std::result::Result<Deployments, String> {
        let mut request = self
            .share
            .http
            .get(self.settings.endpoint.model_info())
            .timeout(DEPLOYMENTS_TIMEOUT);
        if let Some(key) = &self.settings.key {
            request = request.header(AUTHORIZATION, key.bearer());
        }
        let failed = |error: reqwest::Error| {
            if error.is_timeout() {
                // The client's read limit (`--timeout`) holds here too.
                let limit = DEPLOYMENTS_TIMEOUT.min(self.settings.timeout);
                let limit = errors::timeout_failure(limit).message;
                format!("GET /model/info: {limit}")
            } else {
                format!("GET /model/info: {}", errors::root_cause(&error))
            }
        };
        let response = request.send().await.map_err(failed)?;
        let status = response.status();
        let body = response.bytes().await.map_err(failed)?;
        if !status.is_success() {
            return Err(format!(
                "GET /model/info answered {status}: {}",
                errors::body_message(&String::from_utf8_lossy(&body))
            ));
        }
        Deployments::from_model_info(&body).map_err(|e| format!("GET /model/info: {e}"))
    }

    /// LiteLLM's metrics of the primary group: the proxy's last reading, shared by its
    /// targets, while it is younger than half the time between two reads of one target (so
    /// that each target's own reads are fresh, and one read serves them all).
    async fn primary_metrics(&self, url: &str) -> std::result::Result<ProxyReading, String> {
        let mut cache = self.share.metrics.lock().await;
        let fresh = cache.url == url
            && cache
                .read_at
                .is_some_and(|at| at.elapsed() < PROXY_METRICS_EVERY / 2);
        if !fresh {
            cache.readings = self.read_proxy_metrics(url).await;
            cache.read_at = Some(Instant::now());
            url.clone_into(&mut cache.url);
        }
        let readings = cache.readings.as_ref().map_err(Clone::clone)?;
        let reading = self
            .share
            .groups
            .iter()
            .position(|group| *group == self.settings.primary)
            .and_then(|i| readings.get(i))
            .cloned()
            .unwrap_or_default();
        let nothing = reading.deployments.is_empty()
            && reading.cooldowns.is_none()
            && reading.fallbacks.is_none()
            && reading.failed_fallbacks.is_none();
        if nothing {
            return Err(format!("{url} has none of LiteLLM's deployment metrics"));
        }
        Ok(reading)
    }

    /// LiteLLM's metrics of every group of the proxy's targets, read from `url` in one pass.
    async fn read_proxy_metrics(
        &self,
        url: &str,
    ) -> std::result::Result<Vec<ProxyReading>, String> {
        let known = {
            let cache = self.share.deployments.lock().await;
            cache.fetched_at.map(|_| cache.deployments.clone())
        };
        let deployments = match known {
            Some(deployments) => deployments,
            None => self.deployments_knowing(&[]).await.deployments,
        };
        let groups: Vec<GroupSeries> = self
            .share
            .groups
            .iter()
            .map(|group| GroupSeries {
                group: group.clone(),
                deployments: deployments
                    .in_group(group)
                    .into_iter()
                    .map(|d| {
                        // LiteLLM labels a call with the model past its provider.
                        let called = d.model.split_once('/').map_or(d.model.as_str(), |(_, m)| m);
                        (d.id.clone(), (called.to_owned(), d.api_base.clone()))
                    })
                    .collect(),
            })
            .collect();
        let mut request = self
            .share
            .http
            .get(url)
            .timeout(PROXY_METRICS_TIMEOUT.min(self.settings.timeout));
        if let Some(key) = &self.settings.key {
            request = request.header(AUTHORIZATION, key.bearer());
        }
        let failed = |error: reqwest::Error| errors::root_cause(&error);
        let mut response = request.send().await.map_err(failed)?;
        let status = response.status();
        if !status.is_success() {
            let body = response.bytes().await.unwrap_or_default();
            let said = errors::body_message(&String::from_utf8_lossy(&body));
            return Err(clean(&format!("{url} answered {status}: {said}"), 300));
        }
        let mut readers: Vec<Reader> = groups.iter().map(Reader::new).collect();
        let mut pending: Vec<u8> = Vec::new();
        let mut read = 0;
        while let Some(chunk) = response.chunk().await.map_err(failed)? {
            read += chunk.len();
            if read > PROXY_METRICS_BYTES {
                return Err(format!(
                    "{url} is longer than {} MiB: not read",
                    PROXY_METRICS_BYTES >> 20
                ));
            }
            pending.extend_from_slice(&chunk);
            let complete = pending
                .iter()
                .rposition(|b| *b == b'\n')
                .map_or(0, |i| i + 1);
            for line in pending[..complete].split(|b| *b == b'\n') {
                if let Ok(line) = std::str::from_utf8(line) {
                    let line = line.trim_end_matches('\r');
                    readers.iter_mut().for_each(|reader| reader.line(line));
                }
            }
            pending.drain(..complete);
            if pending.len() > MAX_LINE {
                // A line longer than any sample: skipped to its end.
                pending.clear();
            }
        }
        if let Ok(line) = std::str::from_utf8(&pending) {
            readers.iter_mut().for_each(|reader| reader.line(line));
        }
        Ok(readers.into_iter().map(Reader::finish).collect())
    }

    /// The router's "No deployments available" answer: which deployments cool down (mapped to
    /// their api_base through `/model/info`) and for how long the config says.
    async fn cooling(&self, report: &mut ProbeReport) {
        let Err(failure) = &report.result else {
            return;
        };
        if report.status != Some(429) {
            return;
        }
        let Some((ids, cooldown)) = crate::litellm::errors::cooldown_of(&failure.message) else {
            return;
        };
        let deployments = self.deployments_knowing(&ids).await.deployments;
        let api_bases = ids
            .iter()
            .filter_map(|id| deployments.by_id(id)?.api_base.clone())
            .collect();
        report.route.cooling = Some(Cooling {
            ids,
            api_bases,
            cooldown,
        });
    }
}

impl HttpProber {
    /// The router's settings as the proxy states them (see [`crate::litellm::settings`]).
    pub async fn router_settings(
        &self,
    ) -> std::result::Result<crate::litellm::settings::RouterSettings, String> {
        let root = self.settings.endpoint.root();
        crate::litellm::settings::read(
            &self.share.http,
            root,
            self.settings.key.as_ref(),
            SETTINGS_TIMEOUT,
        )
        .await
    }

    /// LiteLLM's health check of the primary group (`GET /health?model=`): it calls each
    /// deployment directly, so a failing one is not counted in the router's tally. Served by
    /// the primary when every deployment is healthy; else LiteLLM's error for the first that
    /// is not.
    async fn probe_health(&self, started: Instant) -> ProbeReport {
        let mut url =
            match reqwest::Url::parse(&format!("{}/health", self.settings.endpoint.root())) {
                Ok(url) => url,
                Err(error) => {
                    let failure = Failure {
                        kind: ErrorKind::Decode,
                        message: format!("no health check URL: {error}"),
                    };
                    return Heard::new(started, None, None).failed(failure);
                }
            };
        url.query_pairs_mut()
            .append_pair("model", &self.settings.primary);
        let mut request = self.share.http.get(url).timeout(self.settings.timeout);
        if let Some(key) = &self.settings.key {
            request = request.header(AUTHORIZATION, key.bearer());
        }
        let answer = async {
            let response = request.send().await?;
            let status = response.status().as_u16();
            Ok::<_, reqwest::Error>((status, response.bytes().await?))
        };
        let (status, body) = match answer.await {
            Ok(answer) => answer,
            Err(error) if error.is_timeout() => {
                let failure = errors::timeout_failure(self.settings.timeout);
                return Heard::new(started, None, None).failed(failure);
            }
            Err(error) => {
                let failure = Failure {
                    kind: if error.is_connect() {
                        ErrorKind::Connect
                    } else {
                        ErrorKind::Reset
                    },
                    message: format!("LiteLLM's health check: {}", errors::root_cause(&error)),
                };
                return Heard::new(started, None, None).failed(failure);
            }
        };
        let heard = Heard {
            latency: started.elapsed(),
            status: Some(status),
            route: Route::default(),
            ttft: None,
        };
        if !matches!(status, 200 | 503) {
            let message = errors::body_message(&String::from_utf8_lossy(&body));
            let key_sent = self.settings.key.is_some();
            return heard.failed(errors::http_failure(status, &message, key_sent));
        }
        match Health::parse(&body) {
            Ok(health) => match (health.trouble(), health.healthy.first()) {
                (None, Some(model)) => ProbeReport {
                    latency: heard.latency,
                    status: heard.status,
                    route: heard.route,
                    ttft: None,
                    result: Ok(Served {
                        role: Role::Primary,
                        model: model.clone(),
                        evidence: Evidence::HealthCheck,
                        reply: String::new(),
                    }),
                },
                (Some(trouble), _) => heard.failed(Failure {
                    kind: ErrorKind::Http,
                    message: trouble,
                }),
                (None, None) => heard.failed(Failure {
                    kind: ErrorKind::Decode,
                    message: format!(
                        "LiteLLM's health check lists no deployment of {}",
                        self.settings.primary
                    ),
                }),
            },
            Err(why) => heard.failed(Failure {
                kind: ErrorKind::Decode,
                message: format!("LiteLLM's health check: {why}"),
            }),
        }
    }
}

impl Probe for HttpProber {
    /// A look-up of `/model/info`, and the wait for another probe's.
    const ATTRIBUTION_TIME: Duration = DEPLOYMENTS_TIMEOUT.saturating_mul(2);

    async fn probe(&self, lane: Lane) -> ProbeReport {
        let started = Instant::now();
        let request = match lane {
            Lane::Normal => &self.request,
            Lane::Direct => &self.direct,
            Lane::Health => {
                let mut report = self.probe_health(started).await;
                if let Some(key) = &self.settings.key {
                    redact(&mut report, key);
                }
                return report;
            }
        };
        let mut report = if self.settings.stream {
            self.probe_stream(request, started).await
        } else {
            self.probe_once(request, started).await
        };
        self.cooling(&mut report).await;
        if let Some(key) = &self.settings.key {
            redact(&mut report, key);
        }
        report
    }

    async fn proxy_view(&self) -> Option<std::result::Result<ProxyReading, String>> {
        let url = match &self.settings.proxy_metrics {
            ProxyMetrics::Off => return None,
            ProxyMetrics::Auto => format!("{}/metrics/", self.settings.endpoint.root()),
            ProxyMetrics::At(url) => url.clone(),
        };
        if self.proxy_metrics_gave_up.load(Ordering::Relaxed) {
            return None;
        }
        let reading = self.primary_metrics(&url).await;
        if reading.is_err() && self.settings.proxy_metrics == ProxyMetrics::Auto {
            self.proxy_metrics_gave_up.store(true, Ordering::Relaxed);
        }
        Some(reading)
    }
}

/// Blanks out the key wherever the server echoed it into what gets shown and recorded.
fn redact(report: &mut ProbeReport, key: &ApiKey) {
    let route = &mut report.route;
    for text in [
        &mut route.model_group,
        &mut route.model_id,
        &mut route.api_base,
        &mut route.model_name,
        &mut route.version,
        &mut route.lookup_failure,
    ]
    .into_iter()
    .flatten()
    .chain(
        route
            .cooling
            .iter_mut()
            .flat_map(|c| c.ids.iter_mut().chain(&mut c.api_bases)),
    ) {
        key.redact(text);
    }
    match &mut report.result {
        Ok(served) => {
            key.redact(&mut served.model);
            key.redact(&mut served.reply);
        }
        Err(failure) => key.redact(&mut failure.message),
    }
}

/// The reply text of a chat completion, or why the body is not one.
fn completion_text(body: &Value) -> std::result::Result<String, Failure> {
    if let Some(error) = body.get("error") {
        return Err(Failure {
            kind: ErrorKind::Decode,
            message: format!(
                "an error in a successful answer: {}",
                errors::body_message(&json!({ "error": error }).to_string())
            ),
        });
    }
    let Some(choice) = body.pointer("/choices/0") else {
        return Err(Failure {
            kind: ErrorKind::Decode,
            message: format!(
                "the answer has no choices: {}",
                errors::excerpt(&body.to_string())
            ),
        });
    };
    Ok(choice
        .pointer("/message/content")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned())
}

/// What came back of one request, timed when the answer was complete.
struct Heard {
    latency: Duration,
    status: Option<u16>,
    route: Route,
    ttft: Option<Duration>,
}

impl Heard {
    fn new(started: Instant, captured: Option<Captured>, ttft: Option<Duration>) -> Self {
        let (status, route) = match captured {
            Some(c) => (Some(c.status), c.route),
            None => (None, Route::default()),
        };
        Self {
            latency: started.elapsed(),
            status,
            route,
            ttft,
        }
    }

    fn failed(self, mut failure: Failure) -> ProbeReport {
        failure.message = clean(&failure.message, MESSAGE_CHARS);
        ProbeReport {
            latency: self.latency,
            status: self.status,
            route: self.route,
            ttft: self.ttft,
            result: Err(failure),
        }
    }
}
