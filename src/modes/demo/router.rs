//! LiteLLM's router, simulated: deployment choice, retries, fallbacks, failure counts and
//! cooldowns. Pure: no I/O, no clock; every moment is passed in as the time since the gateway
//! started, and calls to deployments are made by the caller.
//!
//! A request is walked by [`drive`]: it asks its [`Calls`] to call deployments, wait out
//! back-offs and tell the time, and keeps what outlives a request (cooldowns, failure counts)
//! in the shared [`Router`]. The gateway's calls are played in memory; the tests' run on a
//! clock of their own.
//!
//! The rules, from `router.py` and `router_utils/cooldown_handlers.py` of LiteLLM 1.83.14:
//! - A failure runs the cooldown logic only if it needs one ([`RouteError::needs_cooldown`])
//!   and its cooldown time is not zero. The cooldown time is the deployment's
//!   `cooldown_time`, else the router's.
//! - With `allowed_fails` set (to anything but LiteLLM's default 3), the failure that makes the
//!   count exceed it starts a cooldown; a failure within it is counted, and the count is
//!   forgotten `cooldown_time` after the last one. Otherwise the failure-rate policy applies.
//! - Deployments in cooldown are not chosen. A group with none left fails with "No deployments
//!   available" (a 429), which also goes to the fallbacks.
//! - A failed call is retried `num_retries` times while its group has a deployment left,
//!   after a back-off; then the group's fallback groups are tried in order, each with its own
//!   fallbacks, up to `max_fallbacks` deep.

use std::pin::Pin;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use super::errors::{
    self, CallFailure, RouteError, after_fallbacks, missing_api_key, no_deployments,
    no_fallback_for, without_fallbacks,
};
use super::metrics::{self, GatewayMetrics};
use super::settings::{DeploymentConfig, FailurePolicy, GatewaySettings, Release, RouterSettings};

/// Time since the gateway started.
pub type Moment = Duration;

/// How long LiteLLM's per-minute success and failure counts live after their last change.
const MINUTE: Duration = Duration::from_secs(60);
/// The failure-rate policy's thresholds (`cooldown_handlers.py`).
const FAILURE_RATE_PERCENT: f64 = 0.5;
const FAILURE_RATE_MINIMUM_REQUESTS: u32 = 5;
const SINGLE_DEPLOYMENT_FAILURE_REQUESTS: u32 = 1000;
/// Retry back-off: `INITIAL_RETRY_DELAY` doubling up to `MAX_RETRY_DELAY` (LiteLLM adds up to
/// 0.75 s of random jitter, left out here so the simulation is reproducible).
const INITIAL_RETRY_DELAY: Duration = Duration::from_millis(500);
const MAX_RETRY_DELAY: Duration = Duration::from_secs(8);

/// A count that LiteLLM keeps in an in-memory cache with a time to live.
#[derive(Clone, Copy, Debug, Default)]
struct Expiring {
    value: u32,
    /// The count is gone once this moment has passed.
    until: Moment,
}

impl Expiring {
    fn get(self, now: Moment) -> u32 {
        if now > self.until { 0 } else { self.value }
    }

    fn set(&mut self, value: u32, now: Moment, ttl: Duration) {
        *self = Self {
            value,
            until: now + ttl,
        };
    }

    fn increment(&mut self, now: Moment, ttl: Duration) {
        self.set(self.get(now).saturating_add(1), now, ttl);
    }
}

/// What the router remembers about one deployment.
#[derive(Clone, Copy, Debug, Default)]
struct Health {
    /// In cooldown up to this moment, for this cooldown time (quoted in errors).
    cooldown: Option<(Moment, Duration)>,
    /// `failed_calls`, for the allowed-fails policy.
    fails: Expiring,
    /// Failures and successes "this minute", for the failure-rate policy.
    minute_fails: Expiring,
    minute_successes: Expiring,
}

/// The router's state shared by every request.
#[derive(Clone, Debug)]
pub struct Router {
    settings: RouterSettings,
    deployments: Vec<DeploymentConfig>,
    /// Model group names, in model-list order.
    groups: Vec<String>,
    /// Each deployment's group, as an index into `groups`.
    group_of: Vec<usize>,
    health: Vec<Health>,
    /// Per group, how many picks were made: the next healthy deployment is chosen in turn.
    turns: Vec<usize>,
    release: Release,
    /// What LiteLLM's Prometheus callback would have counted.
    metrics: GatewayMetrics,
}

impl Router {
    pub fn new(settings: GatewaySettings) -> Self {
        let groups: Vec<String> = settings.groups().into_iter().map(str::to_owned).collect();
        let group_of = settings
            .deployments
            .iter()
            .map(|d| groups.iter().position(|g| *g == d.group).unwrap_or(0))
            .collect();
        Self {
            health: vec![Health::default(); settings.deployments.len()],
            turns: vec![0; groups.len()],
            release: settings.release,
            metrics: GatewayMetrics::default(),
            settings: settings.router,
            deployments: settings.deployments,
            groups,
            group_of,
        }
    }

    pub fn group_index(&self, name: &str) -> Option<usize> {
        self.groups.iter().position(|g| g == name)
    }

    /// The limit of one call to `deployment`.
    pub fn timeout_of(&self, deployment: usize) -> Duration {
        self.deployments[deployment]
            .timeout
            .unwrap_or(self.settings.timeout)
    }

    pub fn in_cooldown(&self, deployment: usize, now: Moment) -> bool {
        self.health[deployment]
            .cooldown
            .is_some_and(|(until, _)| now <= until)
    }

    fn members(&self, group: usize) -> impl Iterator<Item = usize> + '_ {
        (0..self.deployments.len()).filter(move |d| self.group_of[*d] == group)
    }

    fn healthy(&self, group: usize, now: Moment) -> Vec<usize> {
        self.members(group)
            .filter(|d| !self.in_cooldown(*d, now))
            .collect()
    }

    /// Chooses a deployment of `group` not in cooldown, in turn.
    fn pick(&mut self, group: usize, now: Moment) -> Result<usize, RouteError> {
        let healthy = self.healthy(group, now);
        if healthy.is_empty() {
            return Err(self.no_deployments(group, now));
        }
        let turn = self.turns[group];
        self.turns[group] = turn.wrapping_add(1);
        Ok(healthy[turn % healthy.len()])
    }

    fn no_deployments(&self, group: usize, now: Moment) -> RouteError {
        let cooling = |d: &usize| self.in_cooldown(*d, now);
        let shortest = self
            .members(group)
            .filter(cooling)
            .filter_map(|d| self.health[d].cooldown.map(|(_, time)| time))
            .min()
            .unwrap_or(self.settings.cooldown);
        let listed: Vec<&str> = (0..self.deployments.len())
            .filter(cooling)
            .map(|d| self.deployments[d].id.as_str())
            .collect();
        no_deployments(&self.groups[group], shortest, &listed, self.release)
    }

    fn record_success(&mut self, deployment: usize, now: Moment) {
        self.metrics.succeeded(deployment);
        self.health[deployment]
            .minute_successes
            .increment(now, MINUTE);
    }

    /// LiteLLM's Prometheus metrics of what the router did, as text.
    pub fn metrics_exposition(&self) -> String {
        self.metrics.exposition(&self.deployments)
    }

    /// `deployment_callback_on_failure`: counts the failure and starts a cooldown if due.
    fn record_failure(&mut self, deployment: usize, error: &RouteError, now: Moment) {
        let cooldown_time = self.deployments[deployment]
            .cooldown
            .unwrap_or(self.settings.cooldown);
        let single = self.members(self.group_of[deployment]).count() == 1;
        let counting_window = self.settings.cooldown;
        let policy = self.settings.policy;
        self.metrics.failed(deployment);
        let health = &mut self.health[deployment];
        health.minute_fails.increment(now, MINUTE);
        if cooldown_time.is_zero() || !error.needs_cooldown() {
            return;
        }
        let cool = match policy {
            FailurePolicy::AllowedFails(allowed) => {
                let fails = health.fails.get(now).saturating_add(1);
                if fails > allowed {
                    true
                } else {
                    health.fails.set(fails, now, counting_window);
                    false
                }
            }
            FailurePolicy::FailureRate => {
                let fails = health.minute_fails.get(now);
                let total = fails + health.minute_successes.get(now);
                let rate = f64::from(fails) / f64::from(total.max(1));
                (rate >= 1.0 && total >= SINGLE_DEPLOYMENT_FAILURE_REQUESTS)
                    || (rate > FAILURE_RATE_PERCENT
                        && total >= FAILURE_RATE_MINIMUM_REQUESTS
                        && !single)
                    || !should_retry(error.status)
            }
        };
        if cool {
            health.cooldown = Some((now + cooldown_time, cooldown_time));
            self.metrics.cooled_down(deployment, error.status);
        }
    }

    /// A call to `deployment` of `group` (attempt `attempt`) failed with `error` at `now`:
    /// counted, and the pause before the next attempt if the router retries it.
    fn failed(
        &mut self,
        group: usize,
        deployment: usize,
        attempt: u32,
        error: &RouteError,
        now: Moment,
    ) -> Option<Duration> {
        self.record_failure(deployment, error, now);
        let members = self.members(group).count();
        let retryable = match error.status {
            401 => members > 1,
            403 => true,
            status => should_retry(status),
        };
        if self.settings.num_retries == 0 || !retryable || self.healthy(group, now).is_empty() {
            return None;
        }
        Some(if members > 1 {
            Duration::ZERO
        } else {
            INITIAL_RETRY_DELAY
                .saturating_mul(1 << attempt.min(8))
                .min(MAX_RETRY_DELAY)
        })
    }

    /// The fallback groups of `group`, as the config names them.
    fn fallback_names(&self, group: usize) -> Vec<String> {
        let names = self.settings.fallbacks_of(&self.groups[group]);
        names.unwrap_or_default().to_vec()
    }
}

/// `litellm._should_retry`: 408, 409, 429 and 5xx.
fn should_retry(status: u16) -> bool {
    matches!(status, 408 | 409 | 429) || status >= 500
}

/// Who served a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Routed {
    pub deployment: usize,
    /// `x-litellm-attempted-fallbacks`: fallback groups of the requested one entered.
    pub attempted_fallbacks: u32,
    /// `x-litellm-attempted-retries`: retries in the group that served.
    pub attempted_retries: u32,
}

/// What walks a request for the router: calls deployments, waits out back-offs, and tells the
/// time. The gateway does it for real; tests do it on a clock of their own.
pub trait Calls: Send {
    /// A deployment's answer.
    type Answer: Send;
    /// The time since the gateway started.
    fn now(&self) -> Moment;
    fn call(
        &mut self,
        deployment: usize,
        timeout: Duration,
    ) -> impl Future<Output = Result<Self::Answer, CallFailure>> + Send;
    fn wait(&mut self, pause: Duration) -> impl Future<Output = ()> + Send;
}

/// Walks one request for `group` to its end through `router` (locked only between steps,
/// never across a call): who served it and their answer, or LiteLLM's error. Without
/// `fallbacks` (a request with `disable_fallbacks`), the group's own error is the answer.
pub async fn drive<C: Calls>(
    router: &Mutex<Router>,
    group: usize,
    fallbacks: bool,
    calls: &mut C,
) -> Result<(Routed, C::Answer), RouteError> {
    let mut walk = Walk {
        router,
        calls,
        attempted_fallbacks: 0,
    };
    if fallbacks {
        walk.group(group, 0, true).await
    } else {
        walk.attempts(group).await
    }
}

type Outcome<A> = Result<(Routed, A), RouteError>;

/// One request's way through the router.
struct Walk<'a, C> {
    router: &'a Mutex<Router>,
    calls: &'a mut C,
    attempted_fallbacks: u32,
}

impl<C: Calls> Walk<'_, C> {
    fn router(&self) -> MutexGuard<'_, Router> {
        self.router.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Tries `group`, entered at fallback depth `depth`, then its fallbacks.
    fn group(
        &mut self,
        group: usize,
        depth: u32,
        requested: bool,
    ) -> Pin<Box<dyn Future<Output = Outcome<C::Answer>> + Send + '_>> {
        Box::pin(async move {
            match self.attempts(group).await {
                Ok(served) => Ok(served),
                Err(error) => self.fall_back(group, depth, requested, error).await,
            }
        })
    }

    /// Calls deployments of `group` as the router picks them, retrying as it allows: the
    /// answer, or the group's last error.
    async fn attempts(&mut self, group: usize) -> Outcome<C::Answer> {
        let mut attempt = 0;
        loop {
            let now = self.calls.now();
            let deployment = self.router().pick(group, now)?;
            let (timeout, missing_key, release) = {
                let router = self.router();
                let missing_key = router.deployments[deployment].missing_api_key;
                (router.timeout_of(deployment), missing_key, router.release)
            };
            let error = if missing_key {
                missing_api_key(release)
            } else {
                match self.calls.call(deployment, timeout).await {
                    Ok(answer) => {
                        let now = self.calls.now();
                        self.router().record_success(deployment, now);
                        let served = Routed {
                            deployment,
                            attempted_fallbacks: self.attempted_fallbacks,
                            attempted_retries: attempt,
                        };
                        return Ok((served, answer));
                    }
                    Err(failure) => {
                        let router = self.router();
                        let deployment = &router.deployments[deployment];
                        errors::exception(deployment, &failure, timeout, release)
                    }
                }
            };
            let now = self.calls.now();
            let Some(pause) = self
                .router()
                .failed(group, deployment, attempt, &error, now)
            else {
                return Err(error);
            };
            self.calls.wait(pause).await;
            let retries = self.router().settings.num_retries;
            if attempt >= retries {
                return Err(RouteError {
                    retried: Some(retries),
                    ..error
                });
            }
            attempt += 1;
        }
    }

    /// `group` failed with `error`: on to its fallbacks in turn, each with its own, until one
    /// serves; else the error as LiteLLM words it after its fallbacks.
    async fn fall_back(
        &mut self,
        group: usize,
        depth: u32,
        requested: bool,
        error: RouteError,
    ) -> Outcome<C::Answer> {
        let fallbacks = {
            let router = self.router();
            let name = &router.groups[group];
            let (settings, release) = (&router.settings, router.release);
            match (&settings.fallbacks, settings.fallbacks_of(name)) {
                (None, _) => return Err(without_fallbacks(error, name, release)),
                (Some(all), None) => return Err(no_fallback_for(error, name, all, release)),
                (Some(_), Some(_)) if depth >= settings.max_fallbacks => {
                    let names = router.fallback_names(group);
                    let last = error.clone();
                    return Err(after_fallbacks(error, name, &names, &last, release));
                }
                (Some(_), Some(fallbacks)) => fallbacks
                    .iter()
                    .filter_map(|g| router.group_index(g))
                    .filter(|g| *g != group)
                    .collect::<Vec<_>>(),
            }
        };
        let mut depth = depth;
        let mut last = None;
        for fallback in fallbacks {
            depth += 1;
            if requested {
                self.attempted_fallbacks = depth;
            }
            let served = self.group(fallback, depth, false).await;
            let mut router = self.router();
            let names = (
                router.groups[group].clone(),
                router.groups[fallback].clone(),
            );
            match served {
                Ok(served) => {
                    // LiteLLM's class of the error that sent it here: the router's own when
                    // the group was cooling down.
                    let class = match error.extendable {
                        false => metrics::IN_COOLDOWN.to_owned(),
                        true => error
                            .message
                            .strip_prefix("litellm.")
                            .and_then(|m| m.split(':').next())
                            .map_or("Openai.APIError".to_owned(), |c| format!("Openai.{c}")),
                    };
                    router.metrics.fell_back(&names.0, &names.1, &class);
                    return Ok(served);
                }
                Err(error) => {
                    router.metrics.fallback_failed(&names.0, &names.1);
                    last = Some(error);
                }
            }
        }
        let last = last.unwrap_or_else(|| error.clone());
        let router = self.router();
        let names = router.fallback_names(group);
        Err(after_fallbacks(
            error,
            &router.groups[group],
            &names,
            &last,
            router.release,
        ))
    }
}
