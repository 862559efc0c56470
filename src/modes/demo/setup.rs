//! A demo run resolved before anything starts: the LiteLLM config to simulate, the script, and
//! the defaults the demo gives the watching options the user left out (a [`Layer`] under the
//! environment and the command line). Pure, but for reading the config file and introducing
//! the run on stderr ([`introduce`]).

use std::io::Read;
use std::path::Path;
use std::time::Duration;

use color_eyre::eyre::Result;

use super::DemoArgs;
use super::config_file;
use super::script::{self, Script};
use super::settings::{FailurePolicy, GatewaySettings, RouterOverrides};
use super::stage::{Pair, Side};
use crate::run::plan::{DEFAULT_TIMEOUT, Layer};
use crate::sys::exit::usage;
use crate::text::sanitize::clean;

/// Longest refusal printed, and longest name from the config in the introduction.
const REASON_CHARS: usize = 500;
const NAME_CHARS: usize = 100;
/// Largest config file read.
const CONFIG_LIMIT: u64 = 4 << 20;
/// How much longer than a router timeout over the default the client waits, unless `--timeout`
/// is given: enough to see what the gateway does when its own timeout strikes.
const CLIENT_TIMEOUT_MARGIN: Duration = Duration::from_secs(5);

/// What the user chose among the watching options, which the demo's defaults depend on.
#[derive(Clone, Copy, Debug)]
pub struct Given<'a> {
    /// `--primary`, if given.
    pub primary: Option<&'a str>,
    pub interval: Duration,
    /// The dashboard, not a headless output.
    pub dashboard: bool,
    /// `--duration` or `--count` ends the run.
    pub ends: bool,
    /// A drill drives the primary itself: no script plays unless asked for.
    pub driven: bool,
}

/// A demo run, resolved and checked.
#[derive(Clone, Debug)]
pub struct Setup {
    pub settings: GatewaySettings,
    /// The watched primary groups, each with its first fallback, in the targets' order.
    pub groups: Vec<Pair>,
    pub script: Option<Script>,
    /// The length of one pass of the script.
    pub pass: Option<Duration>,
    pub repeat: bool,
    pub dashboard: bool,
    /// The demo's defaults for the watching options.
    pub layer: Layer,
}

/// The config of `--config` (without one, the built-in example of `groups` groups: the
/// seed's for one). `openai_key_in_env`: whether the proxy would find `OPENAI_API_KEY`, which
/// stands in for a missing `api_key`.
pub fn read_settings(
    path: Option<&Path>,
    groups: u8,
    openai_key_in_env: bool,
) -> Result<GatewaySettings> {
    let Some(path) = path else {
        return Ok(config_file::several(groups));
    };
    let cannot =
        |e: std::io::Error| usage(format!("--config {}: cannot read it: {e}", path.display()));
    let file = std::fs::File::open(path).map_err(cannot)?;
    let mut text = String::new();
    file.take(CONFIG_LIMIT + 1)
        .read_to_string(&mut text)
        .map_err(cannot)?;
    if text.len() as u64 > CONFIG_LIMIT {
        return Err(usage(format!(
            "--config {}: larger than 4 MiB",
            path.display()
        )));
    }
    // The reason may quote the file: no controls reach the terminal.
    config_file::parse(&text, openai_key_in_env).map_err(|reason| {
        usage(clean(
            &format!("--config {}: {reason}", path.display()),
            REASON_CHARS,
        ))
    })
}

impl Setup {
    /// Resolves `args` over `settings`; the reason of a refusal is one line.
    pub fn new(
        args: &DemoArgs,
        mut settings: GatewaySettings,
        given: Given,
    ) -> Result<Self, String> {
        let gateway = &args.gateway;
        settings.release = gateway.litellm;
        settings.apply(RouterOverrides {
            cooldown: gateway.cooldown,
            allowed_fails: gateway.allowed_fails,
            num_retries: gateway.num_retries,
            timeout: gateway.router_timeout,
        });
        // Named, or a drill's (which drives one primary): one group; else every group
        // with fallbacks of its own.
        let primaries: Vec<String> = match given.primary {
            Some(primary) => vec![primary.trim().to_owned()],
            None if given.driven => settings
                .default_primary()
                .into_iter()
                .map(str::to_owned)
                .collect(),
            None => settings
                .watched_primaries()
                .into_iter()
                .map(str::to_owned)
                .collect(),
        };
        // No group with a fallback: the first group, which falls back to nothing.
        let primaries = match primaries.is_empty() {
            true => settings
                .groups()
                .into_iter()
                .take(1)
                .map(str::to_owned)
                .collect(),
            false => primaries,
        };
        if let Some(primary) = primaries.iter().find(|p| !settings.has_group(p)) {
            return Err(clean(
                &format!(
                    "--primary {primary:?} is not a model group of the config (it has: {})",
                    settings.groups().join(", ")
                ),
                REASON_CHARS,
            ));
        }
        let groups: Vec<Pair> = primaries
            .into_iter()
            .map(|p| {
                let fallback = settings.first_fallback(&p).map(str::to_owned);
                (p, fallback)
            })
            .collect();
        let script = match &args.script {
            Some(text) => Some(Script::parse(text)?),
            None if !given.driven && (args.repeat || !given.dashboard) => {
                Some(Script::parse(script::BUILT_IN)?)
            }
            None => None,
        };
        if let Some(script) = &script {
            check_script(script, &groups)?;
        }
        let router_timeout = settings
            .deployments
            .iter()
            .filter(|d| groups.iter().any(|(p, _)| *p == d.group))
            .filter_map(|d| d.timeout)
            .chain([settings.router.timeout])
            .max()
            .unwrap_or(settings.router.timeout);
        let pass = script
            .as_ref()
            .map(|s| s.pass(settings.router.cooldown, given.interval, router_timeout));
        let layer = Layer {
            targets: groups.clone(),
            timeout: Some(router_timeout.saturating_add(CLIENT_TIMEOUT_MARGIN))
                .filter(|timeout| *timeout > DEFAULT_TIMEOUT),
            duration: pass.filter(|_| !given.dashboard && !args.repeat && !given.ends),
        };
        Ok(Self {
            settings,
            groups,
            script,
            pass,
            repeat: args.repeat,
            dashboard: given.dashboard,
            layer,
        })
    }
}

/// Whether every group `script` names is watched, and every fallback it aims at is there.
fn check_script(script: &Script, groups: &[Pair]) -> Result<(), String> {
    let watched = || {
        groups
            .iter()
            .map(|(p, _)| p.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    if let Some(unknown) = script
        .groups()
        .into_iter()
        .find(|g| !groups.iter().any(|(p, _)| p == g))
    {
        return Err(clean(
            &format!(
                "--script names {unknown:?}, which is not a watched primary group (watched: {})",
                watched()
            ),
            REASON_CHARS,
        ));
    }
    let without = script
        .cues()
        .iter()
        .filter(|c| c.target == Side::Fallback)
        .filter_map(|c| {
            let group = c.group.as_deref().unwrap_or(&groups[0].0);
            groups.iter().find(|(p, f)| p == group && f.is_none())
        })
        .next();
    if let Some((primary, _)) = without {
        return Err(clean(
            &format!("--script aims at the fallback, but {primary} has no fallbacks in the config"),
            REASON_CHARS,
        ));
    }
    Ok(())
}

/// Says on stderr what is simulated and what will happen, for a headless run. Names from
/// the config are cleaned of controls.
pub(super) fn introduce(setup: &Setup, url: &str, ends_after: Option<Duration>) {
    let name = |text: &str| clean(text, NAME_CHARS);
    let r = &setup.settings.router;
    let groups: Vec<String> = setup
        .groups
        .iter()
        .map(|(primary, fallback)| {
            format!(
                "{} → {}",
                name(primary),
                name(fallback.as_deref().unwrap_or("no fallback"))
            )
        })
        .collect();
    eprintln!(
        "demo: simulated LiteLLM gateway on {url}: {}; num_retries {}, timeout {}, {}, \
         cooldown_time {}",
        groups.join(", "),
        r.num_retries,
        humantime::format_duration(r.timeout),
        match r.policy {
            FailurePolicy::AllowedFails(n) => format!("allowed_fails {n}"),
            FailurePolicy::FailureRate => "failure-rate cooldowns".to_owned(),
        },
        humantime::format_duration(r.cooldown),
    );
    if let Some(script) = &setup.script {
        let ending = match (setup.repeat, ends_after) {
            (true, _) => " (looping)".to_owned(),
            (false, Some(d)) => format!(", ending after {}", humantime::format_duration(d)),
            (false, None) => String::new(),
        };
        eprintln!("demo: script {script}{ending}");
    }
    for d in setup
        .settings
        .deployments
        .iter()
        .filter(|d| d.missing_api_key)
    {
        let consequence = if setup.groups.iter().any(|(p, _)| *p == d.group) {
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
