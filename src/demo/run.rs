//! The `demo` command: the simulated gateway and its deployments started on loopback, the
//! real prober and outputs pointed at it, keys and script switching faults, until the run ends.

use std::io::Read;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch};

use super::args::DemoArgs;
use super::config_file;
use super::gateway::Gateway;
use super::script::{self, Script};
use super::settings::{FailurePolicy, GatewaySettings, RouterOverrides};
use super::stage::{Cast, Direction, direct, progress};
use crate::app::{self, DemoLink, usage_error};
use crate::cli::{OutputFormat, ProbeArgs};
use crate::config::{Plan, Surroundings};
use crate::probe::{Endpoint, HttpProber};
use crate::ui::DemoTarget;

/// Largest config file read.
const CONFIG_LIMIT: u64 = 4 << 20;
/// How much longer than the router's timeout the client waits, unless `--timeout` is given:
/// enough to see what the gateway does when its own timeout strikes.
const CLIENT_TIMEOUT_MARGIN: Duration = Duration::from_secs(5);

/// A demo run, resolved and checked before anything starts.
#[derive(Clone, Debug)]
pub struct Setup {
    pub settings: GatewaySettings,
    pub primary: String,
    pub fallback: Option<String>,
    pub script: Option<Script>,
    /// The length of one pass of the script.
    pub pass: Option<Duration>,
    pub repeat: bool,
    /// The watching options, with the demo's defaults filled in.
    pub probe: ProbeArgs,
    pub dashboard: bool,
}

impl Setup {
    /// Resolves `args` with the config file's text (if any). Pure; the reason of a refusal is
    /// one line.
    pub fn new(
        args: &DemoArgs,
        config: Option<&str>,
        openai_key_in_env: bool,
        stdout_is_terminal: bool,
    ) -> Result<Self, String> {
        let mut settings = match (config, &args.config) {
            (Some(text), Some(path)) => config_file::parse(text, openai_key_in_env)
                .map_err(|e| format!("--config {}: {e}", path.display()))?,
            _ => GatewaySettings::seed(),
        };
        settings.apply(RouterOverrides {
            cooldown: args.cooldown,
            allowed_fails: args.allowed_fails,
            num_retries: args.num_retries,
            timeout: args.router_timeout,
        });
        let primary = if args.chosen.primary {
            args.probe.primary.trim().to_owned()
        } else {
            settings
                .default_primary()
                .or_else(|| settings.groups().first().copied())
                .unwrap_or_default()
                .to_owned()
        };
        if !settings.has_group(&primary) {
            return Err(format!(
                "--primary {primary:?} is not a model group of the config (it has: {})",
                settings.groups().join(", ")
            ));
        }
        let fallback = settings.first_fallback(&primary).map(str::to_owned);
        let dashboard = args
            .probe
            .output
            .map_or(stdout_is_terminal, |o| o == OutputFormat::Tui);

        let script = match &args.script {
            Some(text) => Some(Script::parse(text)?),
            None if args.repeat || !dashboard => Some(Script::parse(script::BUILT_IN)?),
            None => None,
        };
        if fallback.is_none()
            && script
                .as_ref()
                .is_some_and(|s| s.aims_at(DemoTarget::Fallback))
        {
            return Err(format!(
                "--script aims at the fallback, but {primary} has no fallbacks in the config"
            ));
        }
        let pass = script
            .as_ref()
            .map(|s| s.pass(settings.router.cooldown, args.probe.interval));

        let mut probe = args.probe.clone();
        probe.primary.clone_from(&primary);
        if probe.fallback.is_none() {
            probe.fallback.clone_from(&fallback);
        }
        if !args.chosen.timeout {
            let router_timeout = settings
                .deployments
                .iter()
                .filter(|d| d.group == primary)
                .filter_map(|d| d.timeout)
                .chain([settings.router.timeout])
                .max()
                .unwrap_or(settings.router.timeout);
            probe.timeout = router_timeout.saturating_add(CLIENT_TIMEOUT_MARGIN);
        }
        if !dashboard && !args.repeat && probe.duration.is_none() && probe.count.is_none() {
            probe.duration = pass;
        }
        Ok(Self {
            settings,
            primary,
            fallback,
            script,
            pass,
            repeat: args.repeat,
            probe,
            dashboard,
        })
    }
}

/// Runs a demo to its end; the exit status is the run's (2 for bad usage).
pub async fn run(args: DemoArgs) -> ExitCode {
    let surroundings = Surroundings::detect();
    let config = match args.config.as_deref().map(read_config).transpose() {
        Ok(config) => config,
        Err(reason) => return usage_error(&reason),
    };
    let openai_key_in_env = std::env::var_os("OPENAI_API_KEY").is_some_and(|v| !v.is_empty());
    let setup = match Setup::new(
        &args,
        config.as_deref(),
        openai_key_in_env,
        surroundings.stdout_is_terminal,
    ) {
        Ok(setup) => setup,
        Err(reason) => return usage_error(&reason),
    };
    let cast = match Cast::start(&setup.settings, &setup.primary, setup.fallback.as_deref()).await {
        Ok(cast) => cast,
        Err(error) => return failure(&format!("cannot start the simulated deployments: {error}")),
    };
    let gateway = match Gateway::start(setup.settings.clone(), cast.urls()).await {
        Ok(gateway) => gateway,
        Err(error) => return failure(&format!("cannot start the simulated gateway: {error}")),
    };
    let plan = match Endpoint::parse(&gateway.url())
        .and_then(|endpoint| Plan::new(&setup.probe, endpoint, None, true, surroundings))
    {
        Ok(plan) => plan,
        Err(reason) => return usage_error(&reason),
    };
    let prober = match HttpProber::new(plan.probe.clone()) {
        Ok(prober) => Arc::new(prober),
        Err(reason) => return failure(&reason),
    };

    let pass = setup.pass.filter(|_| setup.repeat);
    let first_cue = setup
        .script
        .as_ref()
        .and_then(|s| s.cues().first().map(ToString::to_string));
    let (status, status_seen) =
        watch::channel(cast.status(setup.script.as_ref().map(|_| progress(first_cue, pass))));
    let (requests, keys) = mpsc::unbounded_channel();
    if !setup.dashboard {
        introduce(&setup, &gateway.url());
    }
    let direction = Direction {
        script: setup.script.clone(),
        pass,
        narrate: !setup.dashboard,
    };
    let director = tokio::spawn(direct(
        cast,
        direction,
        setup.dashboard.then_some(keys),
        status,
    ));
    let link = setup.dashboard.then_some(DemoLink {
        requests,
        status: status_seen,
    });
    let code = app::execute(&plan, prober, link).await;
    director.abort();
    drop(gateway);
    code
}

/// Says on stderr what is simulated and what will happen, for a headless run.
fn introduce(setup: &Setup, url: &str) {
    let r = &setup.settings.router;
    eprintln!(
        "demo: simulated LiteLLM gateway on {url}: {} → {}; num_retries {}, timeout {}, {}, \
         cooldown_time {}",
        setup.primary,
        setup.fallback.as_deref().unwrap_or("no fallback"),
        r.num_retries,
        humantime::format_duration(r.timeout),
        match r.policy {
            FailurePolicy::AllowedFails(n) => format!("allowed_fails {n}"),
            FailurePolicy::FailureRate => "failure-rate cooldowns".to_owned(),
        },
        humantime::format_duration(r.cooldown),
    );
    if let Some(script) = &setup.script {
        let ending = match (setup.repeat, setup.probe.duration, setup.probe.count) {
            (true, _, _) => " (looping)".to_owned(),
            (false, Some(d), None) => format!(", ending after {}", humantime::format_duration(d)),
            _ => String::new(),
        };
        eprintln!("demo: script {script}{ending}");
    }
    for d in setup
        .settings
        .deployments
        .iter()
        .filter(|d| d.missing_api_key)
    {
        eprintln!(
            "demo: warning: {} ({}) has no api_key: LiteLLM fails it before sending anything, \
             so every request falls back (give it api_key: \"none\")",
            d.group, d.model
        );
    }
}

fn read_config(path: &Path) -> Result<String, String> {
    let cannot = |e: std::io::Error| format!("--config {}: cannot read it: {e}", path.display());
    let file = std::fs::File::open(path).map_err(cannot)?;
    let mut text = String::new();
    file.take(CONFIG_LIMIT + 1)
        .read_to_string(&mut text)
        .map_err(cannot)?;
    if text.len() as u64 > CONFIG_LIMIT {
        return Err(format!("--config {}: larger than 4 MiB", path.display()));
    }
    Ok(text)
}

fn failure(reason: &str) -> ExitCode {
    eprintln!("failover-watch: error: {reason}");
    ExitCode::FAILURE
}
