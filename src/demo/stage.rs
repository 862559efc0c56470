//! The simulated deployments, one in-process mock each, and what switches their faults: the
//! dashboard's demo keys and the script, played once or in a loop.

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio::time::{Instant, sleep_until};

use super::script::{Script, fault_name, target_name};
use super::settings::GatewaySettings;
use crate::mock::{Api, MockConfig, MockServer, Mode};
use crate::tui::DemoRequest;
use crate::ui::{DemoFault, DemoStatus, DemoTarget};

/// The replies the seed's example output shows.
const PRIMARY_REPLY: &str = "Hi.";
const FALLBACK_REPLY: &str = "Hello!";

/// The mocks behind the simulated gateway, and the fault each target group plays.
pub struct Cast {
    mocks: Vec<MockServer>,
    /// Each mock's model group.
    groups: Vec<String>,
    primary: String,
    fallback: Option<String>,
    primary_fault: DemoFault,
    fallback_fault: DemoFault,
}

impl Cast {
    /// Starts one mock per deployment on free loopback ports, all up.
    pub async fn start(
        settings: &GatewaySettings,
        primary: &str,
        fallback: Option<&str>,
    ) -> io::Result<Self> {
        let mut mocks = Vec::with_capacity(settings.deployments.len());
        for d in &settings.deployments {
            let config = MockConfig {
                api: if d.provider.is_ollama() {
                    Api::Ollama
                } else {
                    Api::Openai
                },
                model: d.upstream_model().to_owned(),
                reply: if d.group == primary {
                    PRIMARY_REPLY
                } else {
                    FALLBACK_REPLY
                }
                .to_owned(),
                mode: Mode::Ok,
            };
            mocks
                .push(MockServer::start(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), config).await?);
        }
        Ok(Self {
            mocks,
            groups: settings
                .deployments
                .iter()
                .map(|d| d.group.clone())
                .collect(),
            primary: primary.to_owned(),
            fallback: fallback.map(str::to_owned),
            primary_fault: DemoFault::Up,
            fallback_fault: DemoFault::Up,
        })
    }

    /// Where each deployment is really served, in model-list order.
    pub fn urls(&self) -> Vec<String> {
        self.mocks.iter().map(MockServer::url).collect()
    }

    /// Switches every deployment of the target's group to `fault`. Without a fallback group,
    /// the fallback's faults do nothing.
    pub async fn apply(&mut self, target: DemoTarget, fault: DemoFault) -> io::Result<()> {
        let group = match target {
            DemoTarget::Primary => self.primary.clone(),
            DemoTarget::Fallback => match &self.fallback {
                Some(group) => group.clone(),
                None => return Ok(()),
            },
        };
        for (mock, _) in self
            .mocks
            .iter_mut()
            .zip(&self.groups)
            .filter(|(_, g)| **g == group)
        {
            match fault {
                DemoFault::Down => {
                    mock.stop();
                    mock.stopped().await;
                }
                other => {
                    mock.restart().await?;
                    mock.set_mode(match other {
                        DemoFault::Error => Mode::Error500,
                        DemoFault::Hang => Mode::Hang,
                        DemoFault::Slow => Mode::Slow {
                            delay: Mode::DEFAULT_SLOW,
                        },
                        _ => Mode::Ok,
                    });
                }
            }
        }
        match target {
            DemoTarget::Primary => self.primary_fault = fault,
            DemoTarget::Fallback => self.fallback_fault = fault,
        }
        Ok(())
    }

    /// What the dashboard's footer shows.
    pub fn status(&self, script: Option<String>) -> DemoStatus {
        DemoStatus {
            primary: condition(self.primary_fault).to_owned(),
            fallback: match self.fallback {
                Some(_) => condition(self.fallback_fault).to_owned(),
                None => "none".to_owned(),
            },
            script,
        }
    }
}

/// A fault as the footer names a deployment's condition.
fn condition(fault: DemoFault) -> &'static str {
    match fault {
        DemoFault::Up => "up",
        DemoFault::Down => "down",
        DemoFault::Error => "500",
        DemoFault::Hang => "hang",
        DemoFault::Slow => "slow",
    }
}

/// A fault as the narration tells it.
fn what(fault: DemoFault) -> &'static str {
    match fault {
        DemoFault::Up => "up",
        DemoFault::Down => "down (connection refused)",
        DemoFault::Error => "answering HTTP 500",
        DemoFault::Hang => "hanging",
        DemoFault::Slow => "slow (answers after 2s)",
    }
}

/// What made a switch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum By {
    Script,
    Key,
    /// A looping script starting a new pass, with everything up.
    Loop,
}

impl By {
    fn as_str(self) -> &'static str {
        match self {
            By::Script => "script",
            By::Key => "key",
            By::Loop => "loop",
        }
    }
}

/// How the faults are driven.
pub struct Direction {
    pub script: Option<Script>,
    /// The length of a pass when the script loops.
    pub pass: Option<Duration>,
    /// Tell each switch on stderr (not with the dashboard, which owns the terminal).
    pub narrate: bool,
}

/// Plays the script and applies demo keys; every switch updates the status it sends.
pub struct Director {
    cast: Cast,
    direction: Direction,
    status: watch::Sender<DemoStatus>,
    /// When the current pass of the script began.
    pass_start: Instant,
    /// The next cue of the pass.
    next: usize,
}

impl Director {
    /// Takes over `cast`, applying the cues due at once (`@0s`) before the run starts.
    pub async fn open(cast: Cast, direction: Direction, status: watch::Sender<DemoStatus>) -> Self {
        let mut director = Self {
            cast,
            direction,
            status,
            pass_start: Instant::now(),
            next: 0,
        };
        while let Some(cue) = director.cues().get(director.next).copied()
            && cue.at.is_zero()
        {
            director.switch(cue.target, cue.fault, By::Script).await;
            director.next += 1;
        }
        director.report();
        director
    }

    fn cues(&self) -> &[super::script::Cue] {
        self.direction.script.as_ref().map_or(&[][..], Script::cues)
    }

    /// Plays the rest of the script and applies `keys` until aborted.
    pub async fn run(mut self, mut keys: Option<mpsc::UnboundedReceiver<DemoRequest>>) {
        loop {
            let due = match self.cues().get(self.next) {
                Some(cue) => Some(self.pass_start + cue.at),
                None => self.direction.pass.map(|pass| self.pass_start + pass),
            };
            tokio::select! {
                () = sleep_until(due.unwrap_or(self.pass_start)), if due.is_some() => {
                    if let Some(cue) = self.cues().get(self.next).copied() {
                        self.switch(cue.target, cue.fault, By::Script).await;
                        self.next += 1;
                    } else {
                        for target in [DemoTarget::Primary, DemoTarget::Fallback] {
                            self.switch(target, DemoFault::Up, By::Loop).await;
                        }
                        self.pass_start += self.direction.pass.unwrap_or_default();
                        self.next = 0;
                    }
                }
                request = recv(keys.as_mut()), if keys.is_some() => match request {
                    Some((target, fault)) => self.switch(target, fault, By::Key).await,
                    None => keys = None,
                },
                else => std::future::pending::<()>().await,
            }
            self.report();
        }
    }

    fn report(&self) {
        let progress = self.direction.script.as_ref().map(|_| {
            let next = self.cues().get(self.next).map(ToString::to_string);
            progress(next, self.direction.pass)
        });
        self.status.send_replace(self.cast.status(progress));
    }

    /// Applies one switch, unless a new pass finds the target up already, and tells it.
    async fn switch(&mut self, target: DemoTarget, fault: DemoFault, by: By) {
        let current = match target {
            DemoTarget::Primary => self.cast.primary_fault,
            DemoTarget::Fallback => self.cast.fallback_fault,
        };
        if by == By::Loop && current == DemoFault::Up {
            return;
        }
        let result = self.cast.apply(target, fault).await;
        let (target_text, by) = (target_name(target), by.as_str());
        match &result {
            Ok(()) => tracing::info!(
                target = target_text,
                fault = fault_name(fault),
                by,
                "demo switch"
            ),
            Err(error) => tracing::warn!(%error, target = target_text, "demo switch failed"),
        }
        if self.direction.narrate {
            let time = chrono::Local::now().format("%H:%M:%S");
            match result {
                Ok(()) => eprintln!("[{time}] demo: {target_text} {} ({by})", what(fault)),
                Err(error) => {
                    eprintln!("[{time}] demo: cannot bring the {target_text} back: {error}")
                }
            }
        }
    }
}

/// The script's progress as the footer shows it.
pub fn progress(next: Option<String>, pass: Option<Duration>) -> String {
    let lap = pass.map(|p| format!(" (loop every {})", humantime::format_duration(p)));
    format!(
        "{}{}",
        next.map_or_else(|| "done".to_owned(), |cue| format!("next {cue}")),
        lap.unwrap_or_default()
    )
}

async fn recv(keys: Option<&mut mpsc::UnboundedReceiver<DemoRequest>>) -> Option<DemoRequest> {
    keys?.recv().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_reads_well() {
        assert_eq!(
            progress(Some("primary-up@20s".into()), None),
            "next primary-up@20s"
        );
        assert_eq!(
            progress(None, Some(Duration::from_secs(36))),
            "done (loop every 36s)"
        );
    }
}
