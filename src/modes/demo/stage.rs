//! The simulated deployments, in memory: the fault each one plays (switched by the demo's keys
//! and script) and how a call to it goes. The gateway asks here instead of calling a server.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::{Instant, sleep};

use super::errors::CallFailure;
use super::settings::{GatewaySettings, Provider};

/// How long a slow deployment takes to answer.
pub const SLOW: Duration = Duration::from_secs(2);

/// What a deployment does when called.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Answers.
    Up,
    /// Refuses the connection; a call it holds is cut.
    Down,
    /// Answers HTTP 500.
    Error,
    /// Holds the call until the router gives up.
    Hang,
    /// Answers after [`SLOW`].
    Slow,
}

impl Fault {
    pub const ALL: [Fault; 5] = [
        Fault::Up,
        Fault::Down,
        Fault::Error,
        Fault::Hang,
        Fault::Slow,
    ];
}

/// Which deployments a key or a script step aims at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    Primary,
    Fallback,
}

/// A deployment's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    pub text: &'static str,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
}

/// The replies the seed's example output shows.
const PRIMARY_REPLY: &str = "Hi.";
const FALLBACK_REPLY: &str = "Hello!";

/// A watched primary group and its (first) fallback group, which the keys and the script
/// switch.
pub type Pair = (String, Option<String>);

/// The deployments of the model list and the fault each plays; cheap to clone, shared by the
/// gateway and whoever switches the faults.
#[derive(Clone, Debug)]
pub struct Stage {
    faults: Arc<watch::Sender<Vec<Fault>>>,
    providers: Vec<Provider>,
    /// Each deployment's model group.
    groups: Vec<String>,
    /// The watched groups, in the order of the run's targets (the first is group 1).
    watched: Vec<Pair>,
}

impl Stage {
    /// Every deployment up, the primaries of `watched` watched.
    pub fn watching(settings: &GatewaySettings, watched: Vec<Pair>) -> Self {
        let deployments = &settings.deployments;
        Self {
            faults: Arc::new(watch::Sender::new(vec![Fault::Up; deployments.len()])),
            providers: deployments.iter().map(|d| d.provider).collect(),
            groups: deployments.iter().map(|d| d.group.clone()).collect(),
            watched,
        }
    }

    /// The watched primaries and their fallbacks.
    pub fn watched(&self) -> &[Pair] {
        &self.watched
    }

    /// Switches the first watched group's primary or fallback to `fault`.
    pub fn set(&self, target: Side, fault: Fault) {
        self.set_in(0, target, fault);
    }

    /// Switches every deployment of watched group `group`'s primary or fallback to `fault`
    /// (nothing without such a group).
    pub fn set_in(&self, group: usize, target: Side, fault: Fault) {
        let Some(name) = self.name(group, target) else {
            return;
        };
        self.faults.send_modify(|faults| {
            for (f, g) in faults.iter_mut().zip(&self.groups) {
                if g == name {
                    *f = fault;
                }
            }
        });
    }

    /// The fault watched group `group`'s primary or fallback plays, if it has one.
    pub fn fault_in(&self, group: usize, target: Side) -> Option<Fault> {
        let name = self.name(group, target)?;
        let faults = self.faults.borrow();
        self.groups
            .iter()
            .position(|g| g == name)
            .map(|deployment| faults[deployment])
    }

    fn name(&self, group: usize, target: Side) -> Option<&str> {
        let (primary, fallback) = self.watched.get(group)?;
        match target {
            Side::Primary => Some(primary),
            Side::Fallback => fallback.as_deref(),
        }
    }

    /// A call to `deployment`, which the router gives up on after `timeout`.
    pub async fn call(&self, deployment: usize, timeout: Duration) -> Result<Answer, CallFailure> {
        let started = Instant::now();
        let mut faults = self.faults.subscribe();
        let fault = faults.borrow_and_update()[deployment];
        let held = match fault {
            Fault::Up => return Ok(self.answer(deployment)),
            Fault::Down => return Err(CallFailure::Refused),
            Fault::Error => return Err(self.server_error(deployment)),
            Fault::Slow if SLOW <= timeout => SLOW,
            Fault::Slow | Fault::Hang => timeout,
        };
        let taken_down = faults.wait_for(|faults| faults[deployment] == Fault::Down);
        tokio::select! {
            () = sleep(held) => match fault {
                Fault::Slow if held == SLOW => Ok(self.answer(deployment)),
                _ => Err(CallFailure::TimedOut { after: started.elapsed() }),
            },
            _ = taken_down => Err(CallFailure::Disconnected),
        }
    }

    fn answer(&self, deployment: usize) -> Answer {
        let group = &self.groups[deployment];
        let text = match self.watched.iter().any(|(primary, _)| primary == group) {
            true => PRIMARY_REPLY,
            false => FALLBACK_REPLY,
        };
        // The usage the project's mock upstreams report.
        let (prompt_tokens, completion_tokens) = match self.providers[deployment] {
            Provider::OpenaiCompatible => (10, 2),
            Provider::Ollama => (11, 3),
        };
        Answer {
            text,
            prompt_tokens,
            completion_tokens,
        }
    }

    /// An injected 500, worded as each provider's server words it.
    fn server_error(&self, deployment: usize) -> CallFailure {
        let message = "injected internal server error";
        let body = match self.providers[deployment] {
            Provider::OpenaiCompatible => {
                serde_json::json!({"error": {"message": message, "type": "server_error"}})
            }
            Provider::Ollama => serde_json::json!({ "error": message }),
        };
        CallFailure::ServerError {
            body: body.to_string(),
        }
    }
}
