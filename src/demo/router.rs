//! LiteLLM's router, simulated: deployment choice, retries, fallbacks, failure counts and
//! cooldowns. Pure: no I/O, no clock; every moment is passed in as the time since the gateway
//! started, and calls to deployments are made by the caller.
//!
//! A request is a [`Walk`]: the caller asks it what to do next ([`Step`]), does it (calls a
//! deployment, waits a back-off) and reports back, until the walk is done. The shared
//! [`Router`] keeps what outlives a request: cooldowns and failure counts.
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

use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use super::errors::{
    self, CallFailure, RouteError, after_fallbacks, missing_api_key, no_deployments,
    no_fallback_for, python_list, without_fallbacks,
};
use super::settings::{Deployment, FailurePolicy, GatewaySettings, RouterSettings};

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
    deployments: Vec<Deployment>,
    /// Model group names, in model-list order.
    groups: Vec<String>,
    /// Each deployment's group, as an index into `groups`.
    group_of: Vec<usize>,
    health: Vec<Health>,
    /// Per group, how many picks were made: the next healthy deployment is chosen in turn.
    turns: Vec<usize>,
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
            settings: settings.router,
            deployments: settings.deployments,
            groups,
            group_of,
        }
    }

    pub fn settings(&self) -> &RouterSettings {
        &self.settings
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
        no_deployments(&self.groups[group], shortest, &listed)
    }

    fn record_success(&mut self, deployment: usize, now: Moment) {
        self.health[deployment]
            .minute_successes
            .increment(now, MINUTE);
    }

    /// `deployment_callback_on_failure`: counts the failure and starts a cooldown if due.
    fn record_failure(&mut self, deployment: usize, error: &RouteError, now: Moment) {
        let cooldown_time = self.deployments[deployment]
            .cooldown
            .unwrap_or(self.settings.cooldown);
        let single = self.members(self.group_of[deployment]).count() == 1;
        let counting_window = self.settings.cooldown;
        let policy = self.settings.policy;
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
        }
    }

    /// The fallback groups of `group` as Python prints them: `['llama3']`.
    fn fallback_names(&self, group: usize) -> String {
        python_list(
            self.settings
                .fallbacks_of(&self.groups[group])
                .unwrap_or_default(),
        )
    }

    /// The config's fallbacks as Python prints them: `[{'llama-fp8': ['llama3']}]`.
    fn fallbacks_text(&self) -> String {
        let entries: Vec<String> = self
            .settings
            .fallbacks
            .iter()
            .flatten()
            .map(|f| format!("{{'{}': {}}}", f.from, python_list(&f.to)))
            .collect();
        format!("[{}]", entries.join(", "))
    }
}

/// `litellm._should_retry`: 408, 409, 429 and 5xx.
fn should_retry(status: u16) -> bool {
    matches!(status, 408 | 409 | 429) || status >= 500
}

/// Who served a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Served {
    pub deployment: usize,
    /// `x-litellm-attempted-fallbacks`: fallback groups tried at the first level.
    pub attempted_fallbacks: u32,
    /// `x-litellm-attempted-retries`: retries in the group that served.
    pub attempted_retries: u32,
}

/// What the caller does next for a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// Call this deployment with this limit, then report with [`Walk::answered`].
    Call {
        deployment: usize,
        timeout: Duration,
    },
    /// Wait this long (a retry's back-off), then report with [`Walk::waited`].
    Wait(Duration),
    /// The request is answered, or fails with LiteLLM's error.
    Done(Result<Served, RouteError>),
}

/// One model group being tried, within a request.
#[derive(Clone, Debug)]
struct Level {
    group: usize,
    /// LiteLLM's `fallback_depth` when this group was entered.
    depth: u32,
    stage: Stage,
}

#[derive(Clone, Debug)]
enum Stage {
    /// Choosing a deployment for this attempt (0: the first call, then retries).
    Choose { attempt: u32 },
    /// Waiting for a call's answer.
    Calling { deployment: usize, attempt: u32 },
    /// Waiting out a back-off, then making attempt `next`, or giving up with `error`.
    Backoff {
        wait: Duration,
        next: Option<u32>,
        error: RouteError,
    },
    /// Trying the fallback groups in turn; `depth` grows with each one tried.
    FallingBack {
        error: RouteError,
        groups: Vec<usize>,
        next: usize,
        depth: u32,
        last: Option<RouteError>,
    },
    /// The request is over (only ever the first level's stage).
    Finished(Result<Served, RouteError>),
}

const NEVER_EMPTY: &str = "a walk keeps its first level";

/// One request's way through the router. Asked again, it repeats its pending step.
#[derive(Clone, Debug)]
pub struct Walk {
    /// The requested group first, then the fallback groups being tried; never empty, and at
    /// most `max_fallbacks + 1` deep.
    levels: Vec<Level>,
}

impl Walk {
    /// Starts a request for `group` (a valid index), returning the first step.
    pub fn start(router: &mut Router, group: usize, now: Moment) -> (Self, Step) {
        let mut walk = Self {
            levels: vec![Level {
                group,
                depth: 0,
                stage: Stage::Choose { attempt: 0 },
            }],
        };
        let step = walk.run(router, now);
        (walk, step)
    }

    /// Reports the answer of the call of the last [`Step::Call`].
    pub fn answered(
        &mut self,
        router: &mut Router,
        now: Moment,
        answer: Result<(), CallFailure>,
    ) -> Step {
        let Some(Level {
            stage:
                Stage::Calling {
                    deployment,
                    attempt,
                },
            ..
        }) = self.levels.last()
        else {
            return self.run(router, now);
        };
        let (deployment, attempt) = (*deployment, *attempt);
        match answer {
            Ok(()) => {
                router.record_success(deployment, now);
                let served = self.served(deployment, attempt);
                self.finish(Ok(served))
            }
            Err(failure) => {
                let error = errors::exception(
                    &router.deployments[deployment],
                    &failure,
                    router.timeout_of(deployment),
                );
                self.attempt_failed(router, now, deployment, attempt, error)
            }
        }
    }

    /// Reports that the wait of the last [`Step::Wait`] is over.
    pub fn waited(&mut self, router: &mut Router, now: Moment) -> Step {
        if let Some(level) = self.levels.last_mut()
            && let Stage::Backoff { next, error, .. } = &level.stage
        {
            match *next {
                Some(attempt) => level.stage = Stage::Choose { attempt },
                None => {
                    let mut error = error.clone();
                    error.retried = Some(router.settings.num_retries);
                    return self.group_failed(router, now, error);
                }
            }
        }
        self.run(router, now)
    }

    fn served(&self, deployment: usize, attempt: u32) -> Served {
        let attempted_fallbacks = match self.levels.first() {
            Some(Level {
                stage: Stage::FallingBack { depth, .. },
                ..
            }) => *depth,
            _ => 0,
        };
        Served {
            deployment,
            attempted_fallbacks,
            attempted_retries: attempt,
        }
    }

    /// Ends the request.
    fn finish(&mut self, result: Result<Served, RouteError>) -> Step {
        self.levels.truncate(1);
        if let Some(first) = self.levels.first_mut() {
            first.stage = Stage::Finished(result.clone());
        }
        Step::Done(result)
    }

    /// Advances until the caller has something to do.
    fn run(&mut self, router: &mut Router, now: Moment) -> Step {
        loop {
            let level = self.levels.last_mut().expect(NEVER_EMPTY);
            match &mut level.stage {
                Stage::Choose { attempt } => {
                    let attempt = *attempt;
                    match router.pick(level.group, now) {
                        Ok(d) if router.deployments[d].missing_api_key => {
                            return self.attempt_failed(router, now, d, attempt, missing_api_key());
                        }
                        Ok(deployment) => {
                            level.stage = Stage::Calling {
                                deployment,
                                attempt,
                            };
                            return Step::Call {
                                deployment,
                                timeout: router.timeout_of(deployment),
                            };
                        }
                        Err(error) => return self.group_failed(router, now, error),
                    }
                }
                Stage::FallingBack {
                    groups,
                    next,
                    depth,
                    ..
                } if *next < groups.len() => {
                    let group = groups[*next];
                    *next += 1;
                    if group == level.group {
                        continue;
                    }
                    *depth += 1;
                    let depth = *depth;
                    self.levels.push(Level {
                        group,
                        depth,
                        stage: Stage::Choose { attempt: 0 },
                    });
                }
                Stage::FallingBack { error, last, .. } => {
                    let fallback_error = last.as_ref().unwrap_or(error).text();
                    let group = level.group;
                    let error = error.clone();
                    let error = after_fallbacks(
                        error,
                        &router.groups[group],
                        &router.fallback_names(group),
                        &fallback_error,
                    );
                    if let Some(step) = self.finish_level(error) {
                        return step;
                    }
                }
                // Waiting for the caller: the pending step again.
                Stage::Calling { deployment, .. } => {
                    let deployment = *deployment;
                    return Step::Call {
                        deployment,
                        timeout: router.timeout_of(deployment),
                    };
                }
                Stage::Backoff { wait, .. } => return Step::Wait(*wait),
                Stage::Finished(result) => return Step::Done(result.clone()),
            }
        }
    }

    /// A call failed: count it, then retry after a back-off or give the group up.
    fn attempt_failed(
        &mut self,
        router: &mut Router,
        now: Moment,
        deployment: usize,
        attempt: u32,
        error: RouteError,
    ) -> Step {
        router.record_failure(deployment, &error, now);
        let retries = router.settings.num_retries;
        let level = self.levels.last_mut().expect(NEVER_EMPTY);
        let members = router.members(level.group).count();
        let healthy = router.healthy(level.group, now).len();
        let retryable = match error.status {
            401 => members > 1,
            403 => true,
            status => should_retry(status),
        };
        if retries == 0 || !retryable || healthy == 0 {
            return self.group_failed(router, now, error);
        }
        let wait = if members > 1 {
            Duration::ZERO
        } else {
            INITIAL_RETRY_DELAY
                .saturating_mul(1 << attempt.min(8))
                .min(MAX_RETRY_DELAY)
        };
        level.stage = Stage::Backoff {
            wait,
            next: (attempt < retries).then_some(attempt + 1),
            error,
        };
        Step::Wait(wait)
    }

    /// The group of the last level failed with `error`: on to its fallbacks, or up.
    fn group_failed(&mut self, router: &mut Router, now: Moment, error: RouteError) -> Step {
        let level = self.levels.last_mut().expect(NEVER_EMPTY);
        let name = &router.groups[level.group];
        let error = match router.settings.fallbacks {
            None => without_fallbacks(error, name),
            Some(_) => match router.settings.fallbacks_of(name) {
                None => no_fallback_for(error, name, &router.fallbacks_text()),
                Some(_) if level.depth >= router.settings.max_fallbacks => {
                    let text = error.text();
                    let names = router.fallback_names(level.group);
                    after_fallbacks(error, name, &names, &text)
                }
                Some(fallbacks) => {
                    level.stage = Stage::FallingBack {
                        error,
                        groups: fallbacks
                            .iter()
                            .filter_map(|g| router.group_index(g))
                            .collect(),
                        next: 0,
                        depth: level.depth,
                        last: None,
                    };
                    return self.run(router, now);
                }
            },
        };
        match self.finish_level(error) {
            Some(step) => step,
            None => self.run(router, now),
        }
    }

    /// Ends the last level with `error`: the request's error, or the latest failure of the
    /// level below, which goes on to its next fallback.
    fn finish_level(&mut self, error: RouteError) -> Option<Step> {
        if self.levels.len() <= 1 {
            return Some(self.finish(Err(error)));
        }
        self.levels.pop();
        if let Some(Level {
            stage: Stage::FallingBack { last, .. },
            ..
        }) = self.levels.last_mut()
        {
            *last = Some(error);
        }
        None
    }
}

/// What walks a request for the router: calls deployments, waits out back-offs, and tells the
/// time. The gateway does it for real; tests do it on a clock of their own.
pub trait Calls {
    /// A deployment's answer.
    type Answer;
    /// The time since the gateway started.
    fn now(&self) -> Moment;
    fn call(
        &mut self,
        deployment: usize,
        timeout: Duration,
    ) -> impl Future<Output = Result<Self::Answer, CallFailure>> + Send;
    fn wait(&mut self, pause: Duration) -> impl Future<Output = ()> + Send;
}

/// Walks one request for `group` to its end through `router` (locked only between steps):
/// who served it and their answer, or LiteLLM's error.
pub async fn drive<C: Calls + Send>(
    router: &Mutex<Router>,
    group: usize,
    calls: &mut C,
) -> Result<(Served, C::Answer), RouteError>
where
    C::Answer: Send,
{
    let lock = || -> MutexGuard<'_, Router> { router.lock().unwrap_or_else(|e| e.into_inner()) };
    let (mut walk, mut step) = Walk::start(&mut lock(), group, calls.now());
    let mut answer = None;
    loop {
        step = match step {
            Step::Call {
                deployment,
                timeout,
            } => {
                let result = calls.call(deployment, timeout).await;
                let reported = result.map(|a| answer = Some(a));
                walk.answered(&mut lock(), calls.now(), reported)
            }
            Step::Wait(pause) => {
                calls.wait(pause).await;
                walk.waited(&mut lock(), calls.now())
            }
            Step::Done(result) => {
                let served = result?;
                // A walk is only done with a success right after a call answered.
                let answer = answer.ok_or_else(errors::lost_answer)?;
                return Ok((served, answer));
            }
        };
    }
}
