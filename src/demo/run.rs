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
use super::stage::{Cast, Direction, Director, progress};
use crate::app::{self, DemoLink, usage_error};
use crate::cli::{OutputFormat, ProbeArgs};
use crate::config::{Plan, Surroundings};
use crate::probe::{Endpoint, HttpProber};
use crate::sanitize::clean;
use crate::ui::DemoTarget;

/// Longest refusal printed, and longest name from the config in the introduction.
const REASON_CHARS: usize = 500;
const NAME_CHARS: usize = 100;
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
        let router_timeout = settings
            .deployments
            .iter()
            .filter(|d| d.group == primary)
            .filter_map(|d| d.timeout)
            .chain([settings.router.timeout])
            .max()
            .unwrap_or(settings.router.timeout);
        let pass = script.as_ref().map(|s| {
            s.pass(
                settings.router.cooldown,
                args.probe.interval,
                router_timeout,
            )
        });

        let mut probe = args.probe.clone();
        probe.primary.clone_from(&primary);
        if probe.fallback.is_none() {
            probe.fallback.clone_from(&fallback);
        }
        if !args.chosen.timeout {
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
        // The reason may quote the config file: no controls reach the terminal.
        Err(reason) => return usage_error(&clean(&reason, REASON_CHARS)),
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
    let director = Director::open(cast, direction, status).await;
    let director = tokio::spawn(director.run(setup.dashboard.then_some(keys)));
    let link = setup.dashboard.then_some(DemoLink {
        requests,
        status: status_seen,
    });
    let code = app::execute(&plan, prober, link).await;
    director.abort();
    drop(gateway);
    code
}

/// Says on stderr what is simulated and what will happen, for a headless run. Names from
/// the config are cleaned of controls.
fn introduce(setup: &Setup, url: &str) {
    let name = |text: &str| clean(text, NAME_CHARS);
    let r = &setup.settings.router;
    eprintln!(
        "demo: simulated LiteLLM gateway on {url}: {} → {}; num_retries {}, timeout {}, {}, \
         cooldown_time {}",
        name(&setup.primary),
        name(setup.fallback.as_deref().unwrap_or("no fallback")),
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
        let consequence = if d.group == setup.primary {
            "so every request falls back"
        } else {
            "so a fallback to it fails"
        };
        eprintln!(
            "demo: warning: {} ({}) has no api_key: LiteLLM fails it before sending anything, \
             {consequence} (give it api_key: \"none\")",
            name(&d.group),
            name(&d.model)
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

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, FromArgMatches};

    use super::*;
    use crate::cli::{Cli, Command};
    use crate::demo::Chosen;

    /// `failover-watch demo ARGS` resolved, as the binary does it.
    fn setup(args: &[&str], config: Option<&str>, terminal: bool) -> Result<Setup, String> {
        let argv = ["failover-watch", "demo"]
            .into_iter()
            .chain(args.iter().copied());
        let matches = Cli::command()
            .try_get_matches_from(argv)
            .map_err(|e| e.to_string())?;
        let Ok(Cli {
            command: Some(Command::Demo(mut demo)),
            ..
        }) = Cli::from_arg_matches(&matches)
        else {
            return Err("not a demo command".to_owned());
        };
        if let Some(sub) = matches.subcommand_matches("demo") {
            demo.chosen = Chosen::from_matches(sub);
        }
        Setup::new(&demo, config, false, terminal)
    }

    const SECS: fn(u64) -> Duration = Duration::from_secs;

    #[test]
    fn headless_without_a_script_plays_the_built_in_story_once() {
        let s = setup(&["--output", "text"], None, true).unwrap();
        assert!(!s.dashboard);
        assert_eq!(s.script.as_ref().unwrap().to_string(), script::BUILT_IN);
        // 20 s to the last cue, 10 s of cooldown, two 3 s intervals.
        assert_eq!(s.pass, Some(SECS(36)));
        assert_eq!(s.probe.duration, Some(SECS(36)));
        assert_eq!(s.primary, "llama-fp8");
        assert_eq!(s.probe.fallback.as_deref(), Some("llama3"));
        // The router's timeout (30 s) and a margin.
        assert_eq!(s.probe.timeout, SECS(35));
        // Without a terminal, text is the default output: the same story.
        assert_eq!(
            setup(&[], None, false).unwrap().probe.duration,
            Some(SECS(36))
        );
    }

    #[test]
    fn the_user_s_choices_stand() {
        let s = setup(
            &["--output", "jsonl", "--count", "5", "--timeout", "9s"],
            None,
            false,
        )
        .unwrap();
        assert_eq!(s.probe.duration, None);
        assert_eq!(s.probe.timeout, SECS(9));
        let s = setup(
            &[
                "--output",
                "jsonl",
                "--duration",
                "1m",
                "--script",
                "primary-error@2s",
            ],
            None,
            false,
        )
        .unwrap();
        assert_eq!(s.probe.duration, Some(SECS(60)));
        assert_eq!(s.script.unwrap().to_string(), "primary-error@2s");
        let s = setup(&["--router-timeout", "2s", "--cooldown", "1s"], None, false).unwrap();
        assert_eq!(s.probe.timeout, SECS(7));
        assert_eq!(s.settings.router.cooldown, SECS(1));
        assert_eq!(s.pass, Some(SECS(27)));
    }

    #[test]
    fn the_dashboard_waits_for_keys_unless_a_script_or_loop_is_asked_for() {
        let s = setup(&[], None, true).unwrap();
        assert!(s.dashboard);
        assert_eq!((s.script, s.probe.duration), (None, None));
        let s = setup(&["--loop"], None, true).unwrap();
        assert_eq!(s.script.unwrap().to_string(), script::BUILT_IN);
        assert_eq!(s.probe.duration, None);
        // A looping headless run goes on until stopped.
        let s = setup(&["--loop", "--output", "jsonl"], None, false).unwrap();
        assert!(s.repeat);
        assert_eq!(s.probe.duration, None);
    }

    #[test]
    fn the_primary_is_the_config_s_group_with_a_fallback_unless_named() {
        let config = "model_list:\n  - {model_name: solo, litellm_params: {model: openai/solo, api_key: x}}\n  - {model_name: main, litellm_params: {model: openai/main, api_key: x}}\n  - {model_name: spare, litellm_params: {model: ollama/spare}}\nrouter_settings: {fallbacks: [{main: [spare]}]}\n";
        let with = |args: &[&str]| {
            let args: Vec<&str> = ["--config", "x.yaml"].iter().chain(args).copied().collect();
            setup(&args, Some(config), false)
        };
        let s = with(&[]).unwrap();
        assert_eq!(
            (s.primary.as_str(), s.fallback.as_deref()),
            ("main", Some("spare"))
        );
        assert_eq!(s.probe.primary, "main");
        let s = with(&["--primary", "solo"]).unwrap();
        assert_eq!((s.primary.as_str(), s.fallback), ("solo", None));
        assert!(
            with(&["--primary", "llama-fp8"])
                .unwrap_err()
                .contains("(it has: solo, main, spare)")
        );
        let error = with(&["--primary", "solo", "--script", "fallback-down@1s"]).unwrap_err();
        assert!(
            error.contains("aims at the fallback, but solo has no fallbacks"),
            "{error}"
        );
        let error = setup(&["--config", "x.yaml"], Some("model_list: 3"), false).unwrap_err();
        assert_eq!(error, "--config x.yaml: model_list must be a list");
    }
}
