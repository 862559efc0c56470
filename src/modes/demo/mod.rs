//! Demo mode: the real dashboard and outputs against a simulated LiteLLM gateway that runs
//! in-process on loopback, its deployments played in memory and switched by keys and scripts.
//!
//! The gateway behaves like LiteLLM 1.106.12 or 1.83.14 (`--litellm`) as recorded. Its decisions
//! are a pure core (`settings`, `config_file`, `router`, `errors`, `script`, and `setup` but
//! for reading the config file and introducing the run on stderr); the edges around it are
//! thin: `gateway` (the proxy's HTTP endpoints), `stage` (the deployments and their faults),
//! `director` (keys and script). It plugs into the dashboard as a mode: keys and status lines.

pub mod config_file;
pub mod director;
pub mod errors;
pub mod gateway;
mod help;
mod metrics;
mod options;
pub mod router;
pub mod script;
pub mod settings;
mod setup;
pub mod stage;

use std::time::Duration;

use color_eyre::eyre::{Result, WrapErr};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

pub use help::help;
pub use options::{DemoArgs, GatewayArgs};
pub use settings::GatewaySettings;
pub use setup::{Given, Setup, read_settings};

use setup::introduce;

use crate::run::ModeLink;
use director::{Direction, Director, GROUP_KEYS, KEYS};
use gateway::Gateway;
use stage::Stage;

/// The simulated gateway and what drives its faults, until dropped.
pub struct Running {
    gateway: Gateway,
    stage: Stage,
    director: Option<JoinHandle<()>>,
}

impl Running {
    /// Starts the gateway of `setup`, every deployment up.
    pub async fn start(setup: &Setup) -> Result<Self> {
        let stage = Stage::watching(&setup.settings, setup.groups.clone());
        let gateway = Gateway::start(setup.settings.clone(), stage.clone())
            .await
            .wrap_err("cannot start the simulated gateway")?;
        Ok(Self {
            gateway,
            stage,
            director: None,
        })
    }

    pub fn url(&self) -> String {
        self.gateway.url()
    }

    /// The simulated deployments for a rehearsed drill to switch (it drives the primary
    /// itself, no script nor key does), after telling on stderr what is simulated when no
    /// dashboard owns the terminal.
    pub fn rehearse(&self, setup: &Setup) -> Stage {
        if !setup.dashboard {
            introduce(setup, &self.url(), None);
        }
        self.stage.clone()
    }

    /// Starts switching faults as `setup` says: without the dashboard, after telling on
    /// stderr what is simulated (the run ending after `ends_after`); with it, through the mode
    /// returned, which lends the dashboard the demo's keys and status.
    pub fn direct(&mut self, setup: &Setup, ends_after: Option<Duration>) -> Option<ModeLink> {
        if !setup.dashboard {
            introduce(setup, &self.url(), ends_after);
        }
        let direction = Direction {
            script: setup.script.clone(),
            pass: setup.pass.filter(|_| setup.repeat),
            narrate: !setup.dashboard,
        };
        let (director, status) = Director::open(self.stage.clone(), direction);
        let (link, presses) = if setup.dashboard {
            let (presses, received) = mpsc::unbounded_channel();
            let keys = match setup.groups.len() {
                1 => &KEYS,
                _ => &GROUP_KEYS,
            };
            let link = ModeLink {
                keys,
                presses,
                status,
            };
            (Some(link), Some(received))
        } else {
            (None, None)
        };
        self.director = Some(tokio::spawn(director.run(presses)));
        link
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(director) = &self.director {
            director.abort();
        }
    }
}
