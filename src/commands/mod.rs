//! The commands, as the binary dispatches them: each resolves its options, sets up its edges
//! (prober, simulated gateway, mock server) and hands the run to [`crate::run`]. Errors come
//! back as reports; [`crate::sys::exit`] turns them into the exit status.

pub mod check;
mod drill;
mod replay;
mod report;

use std::io::{self, Write};
use std::sync::Arc;
use std::time::Duration;

use color_eyre::eyre::{Result, WrapErr, eyre};

use crate::cli::config::{Surroundings, reach, target_specs};
use crate::cli::targets::TargetSpec;
use crate::cli::{
    CheckArgs, Cli, DemoArgs, DemoCommand, DemoSubcommand, DrillCommand, MarkArgs, MockArgs,
    OutputFormat, ProbeArgs, ProxyArgs, ReplayArgs, ReportArgs, Shell, TargetArgs, TargetsArgs,
    WatchArgs,
};
use crate::control;
use crate::modes::demo::{self, GatewayArgs, Given, Setup};
use crate::probe::{Endpoint, HttpProber, ProbeSettings, ProxyMetrics, ProxyShare};
use crate::run;
use crate::run::plan::{DEFAULT_TIMEOUT, Layer, Plan};
use crate::sys::exit::{Ended, usage};
use crate::sys::signals;
use crate::testkit::{MockConfig, MockServer};
use crate::text::format::marker_name;

/// The command line, the demo's help (its keys come from its key table) included.
pub fn command() -> clap::Command {
    use clap::CommandFactory;
    Cli::command().mut_subcommand("demo", |demo| demo.after_help(demo::help()))
}

/// Watches the targets `args` name until the run ends, in the chosen output.
pub async fn watch(args: WatchArgs) -> Result<Ended> {
    let surroundings = Surroundings::detect();
    let specs = named_targets(&args.proxy, &args.probe.target, &args.targets).await?;
    let mut plan = Plan::of_specs(&args.probe, specs, &Layer::default(), false, surroundings)?;
    let probers = probers(&plan)?;
    learn_routers(&mut plan, &probers).await;
    for target in &plan.show.info.targets {
        tracing::info!(target = %target.name, url = %target.url, primary = %target.primary, "watching");
    }
    run::execute(&plan, probers, None).await
}

/// A prober for each target of `plan`, in order; the targets of one proxy (with one key and
/// one timeout) share an HTTP client and its kept-alive connections, the deployment map and
/// the reading of LiteLLM's metrics ([`ProxyShare`]).
fn probers(plan: &Plan) -> Result<Vec<Arc<HttpProber>>> {
    /// What the targets that share a [`ProxyShare`] have in common.
    fn share_of(probe: &ProbeSettings) -> (&str, Option<&str>, Duration) {
        use secrecy::ExposeSecret;
        let key = probe.key.as_ref().map(|key| key.secret().expose_secret());
        (probe.endpoint.root(), key, probe.timeout)
    }
    let mut shares: Vec<(_, Arc<ProxyShare>)> = Vec::new();
    let mut probers = Vec::with_capacity(plan.targets.len());
    for target in &plan.targets {
        let probe = &target.probe;
        let which = share_of(probe);
        let share = match shares.iter().find(|(k, _)| *k == which) {
            Some((_, share)) => share.clone(),
            None => {
                let groups = plan
                    .targets
                    .iter()
                    .filter(|other| share_of(&other.probe) == which)
                    .map(|other| other.probe.primary.clone())
                    .collect();
                let client = crate::probe::http_client(probe.timeout, &probe.endpoint)?;
                let share = ProxyShare::new(client, groups);
                shares.push((which, share.clone()));
                share
            }
        };
        probers.push(Arc::new(HttpProber::sharing(probe.clone(), share)?));
    }
    Ok(probers)
}

/// The targets the options name, however they name them (`--primary` repeated, `--targets
/// FILE`, or `--all-groups`, asked of the proxy): `watch`, `check` and `drill` alike.
pub(crate) async fn named_targets(
    proxy: &ProxyArgs,
    target: &TargetArgs,
    targets: &TargetsArgs,
) -> Result<Vec<TargetSpec>> {
    let env = |name: &str| std::env::var(name).ok();
    match targets.all_groups {
        true => all_groups(proxy, target, env).await,
        false => target_specs(proxy, target, targets, env),
    }
}

/// Every model group of the proxy `proxy` names that has a fallback, each a target with its
/// first fallback expected: as the router's settings name them (or, for a key that may not read
/// them, the models' metadata); else every group of its model list, said once.
async fn all_groups(
    proxy: &ProxyArgs,
    target: &TargetArgs,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Vec<TargetSpec>> {
    if !target.primary.is_empty() || target.fallback.is_some() {
        return Err(usage(
            "--all-groups finds the primaries and their fallbacks: no --primary or --fallback with it",
        ));
    }
    let (endpoint, key) = reach(proxy, env)?;
    let settings = ProbeSettings {
        endpoint: endpoint.clone(),
        key: key.clone(),
        primary: String::new(),
        prompt: String::new(),
        max_tokens: 1,
        stream: false,
        timeout: target.timeout.unwrap_or(DEFAULT_TIMEOUT),
        proxy_metrics: ProxyMetrics::Off,
    };
    let prober = HttpProber::new(settings)?;
    let specs: Vec<TargetSpec> = match prober.router_settings().await {
        Ok(router) if !router.fallbacks.is_empty() => router
            .fallbacks
            .iter()
            .map(|(group, to)| TargetSpec::on(&endpoint, &key, group.clone(), to.first().cloned()))
            .collect(),
        other => {
            let why = match other {
                Ok(_) => "they name none".to_owned(),
                Err(why) => why,
            };
            let groups = prober.model_groups().await.map_err(|e| {
                usage(format!(
                    "--all-groups: neither the proxy's fallbacks ({why}) nor its model list ({e}) can be read"
                ))
            })?;
            let said = format!(
                "the proxy's fallbacks are not known ({why}): watching every group of its model list"
            );
            eprintln!("failover-watch: {said}");
            tracing::warn!("{said}");
            groups
                .into_iter()
                .map(|group| TargetSpec::on(&endpoint, &key, group, None))
                .collect()
        }
    };
    if specs.is_empty() {
        return Err(usage("--all-groups: the proxy lists no model group"));
    }
    Ok(specs)
}

/// What the router's settings say of cooldowns, where the key may read them, read once per
/// proxy for the targets on it whose lane is on: the quiet lane sends a direct probe only once
/// the requests must have started the cooldown, and LiteLLM's next try is the exact cooldown
/// from its start. Otherwise both are inferred from the answers, as said in the log.
async fn learn_routers(plan: &mut Plan, probers: &[Arc<HttpProber>]) {
    let mut read: Vec<(String, Option<crate::litellm::settings::RouterSettings>)> = Vec::new();
    for (i, target) in plan.targets.iter().enumerate() {
        if !target.schedule.direct.is_on() {
            continue;
        }
        let root = target.probe.endpoint.root().to_owned();
        let settings = match read.iter().find(|(r, _)| *r == root) {
            Some((_, settings)) => settings.clone(),
            None => {
                let settings = match probers[i].router_settings().await {
                    Ok(settings) => Some(settings),
                    Err(why) => {
                        tracing::info!(%why, proxy = %root, "the router's settings are not known: inferred");
                        None
                    }
                };
                read.push((root, settings.clone()));
                settings
            }
        };
        if let Some(settings) = settings {
            let lane = &mut plan.show.info.targets[i].lane;
            lane.failures_to_cool = settings.failures_to_cool();
            lane.cooldown = settings.cooldown_time;
            tracing::info!(settings = %settings.describe(&target.probe.primary), "the router's settings");
        }
    }
}

/// Checks a proxy once: one line per check, the fix where something is wrong.
pub async fn check(args: CheckArgs) -> Result<Ended> {
    crate::commands::check::check(args).await
}

/// Runs the dashboard (or a headless output) against the simulated gateway `args` describe,
/// or rehearses a drill on it (`demo drill`).
pub async fn demo(args: DemoCommand) -> Result<Ended> {
    if let Some(DemoSubcommand::Drill(args)) = args.rehearsal {
        return drill::rehearse(*args).await;
    }
    let surroundings = Surroundings::detect();
    let settings = demo_settings(&args.demo.gateway, args.demo.groups)?;
    let setup = demo_setup(&args.demo, &args.probe, settings, surroundings, false)?;
    let mut running = demo::Running::start(&setup).await?;
    let mut plan = demo_plan(&args.probe, &setup, &running.url(), surroundings)?;
    let probers = probers(&plan)?;
    learn_routers(&mut plan, &probers).await;
    let schedule = &plan.targets[0].schedule;
    let ends_after = schedule.duration.filter(|_| schedule.count.is_none());
    let mode = running.direct(&setup, ends_after);
    run::execute(&plan, probers, mode).await
}

/// The config the simulated gateway plays (without `--config`, the built-in example of
/// `groups` groups: the seed's for one).
fn demo_settings(gateway: &GatewayArgs, groups: u8) -> Result<demo::GatewaySettings> {
    let openai_key_in_env = std::env::var_os("OPENAI_API_KEY").is_some_and(|v| !v.is_empty());
    demo::read_settings(gateway.config.as_deref(), groups, openai_key_in_env)
}

/// The demo resolved over `settings` from what the user gave; `driven` by a drill, which
/// switches the primary itself.
fn demo_setup(
    demo: &DemoArgs,
    probe: &ProbeArgs,
    settings: demo::GatewaySettings,
    surroundings: Surroundings,
    driven: bool,
) -> Result<Setup> {
    let given = Given {
        primary: probe.target.primary.first().map(String::as_str),
        interval: probe.interval,
        dashboard: surroundings.output(probe.output) == OutputFormat::Tui,
        ends: probe.duration.is_some() || probe.count.is_some(),
        driven,
    };
    Setup::new(demo, settings, given).map_err(usage)
}

/// The plan of a demo run against the gateway at `url`: the demo's defaults under the user's.
fn demo_plan(
    probe: &ProbeArgs,
    setup: &Setup,
    url: &str,
    surroundings: Surroundings,
) -> Result<Plan> {
    let endpoint = Endpoint::parse(url).map_err(usage)?;
    Plan::new(probe, endpoint, None, &setup.layer, true, surroundings)
}

/// Runs a failover drill against the proxy `args` name: check, baseline, down, hold, up,
/// settle, report.
pub async fn drill(args: DrillCommand) -> Result<Ended> {
    drill::drill(args).await
}

/// Plays a record back.
pub async fn replay(args: ReplayArgs) -> Result<Ended> {
    replay::replay(args).await
}

/// Reports on a record: its timeline, durations, phases and budgets, in the format asked.
pub fn report(args: ReportArgs) -> Result<Ended> {
    report::report(args)
}

/// Drops a marker on the timeline of the runs of this user (or of the one `--to` names).
pub async fn mark(args: MarkArgs) -> Result<Ended> {
    let label = args
        .label
        .as_deref()
        .map(str::trim)
        .filter(|l| !l.is_empty());
    let delivered = control::mark(label, args.to)
        .await
        .map_err(|why| eyre!(why))?;
    // Said as the watchers keep it: cleaned and cut.
    let label = control::label_as_kept(label);
    let mut stdout = io::stdout().lock();
    for d in delivered {
        let name = marker_name(d.marker, label.as_deref());
        writeln!(stdout, "marker {name} dropped in failover-watch {}", d.pid)
            .wrap_err("cannot write to stdout")?;
    }
    Ok(Ended::Clean)
}

/// Prints the completion script for `shell`, from the same definitions as the options.
pub fn completions(shell: Shell) -> Result<Ended> {
    let mut command = command();
    let name = command.get_name().to_owned();
    let mut out = Vec::new();
    match shell {
        Shell::Bash => {
            clap_complete::generate(clap_complete::Shell::Bash, &mut command, name, &mut out)
        }
        Shell::Zsh => {
            clap_complete::generate(clap_complete::Shell::Zsh, &mut command, name, &mut out)
        }
        Shell::Fish => {
            clap_complete::generate(clap_complete::Shell::Fish, &mut command, name, &mut out)
        }
    }
    write_out(&out)
}

/// Prints the manual page, from the same definitions as the options and `--help`.
pub fn man() -> Result<Ended> {
    let mut out = Vec::new();
    clap_mangen::Man::new(command())
        .render(&mut out)
        .wrap_err("cannot render the manual page")?;
    write_out(&out)
}

fn write_out(bytes: &[u8]) -> Result<Ended> {
    let mut stdout = io::stdout().lock();
    stdout
        .write_all(bytes)
        .and_then(|()| stdout.flush())
        .wrap_err("cannot write to stdout")?;
    Ok(Ended::Clean)
}

/// Serves a mock upstream until SIGINT, SIGTERM or SIGHUP.
pub async fn mock_upstream(args: MockArgs) -> Result<Ended> {
    let config = MockConfig {
        api: args.api,
        model: args.model,
        reply: args.reply,
        mode: args.mode,
    };
    let server = MockServer::start(args.listen, config)
        .await
        .map_err(|error| usage(format!("cannot listen on {}: {error}", args.listen)))?;
    let mut signals = signals::listen();
    let mut stdout = io::stdout().lock();
    writeln!(stdout, "listening on {}", server.url())
        .and_then(|()| stdout.flush())
        .wrap_err("cannot write to stdout")?;
    drop(stdout);
    signals.recv().await;
    Ok(Ended::Clean)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use clap::Parser;

    use super::*;
    use crate::cli::{Cli, Command};

    const SECS: fn(u64) -> Duration = Duration::from_secs;
    const BUILT_IN: &str = "primary-down@5s,primary-up@20s";

    /// `failover-watch demo ARGS` resolved as the binary does it, `config` written to a file
    /// for `--config`.
    fn resolve(args: &[&str], config: Option<&str>, terminal: bool) -> Result<(Setup, Plan)> {
        /// A folder of this call's own, removed with it.
        struct Folder(std::path::PathBuf);
        impl Drop for Folder {
            fn drop(&mut self) {
                let _ = std::fs::remove_dir_all(&self.0);
            }
        }
        static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let call = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir =
            Folder(std::env::temp_dir().join(format!("fw-app-{}-{call}", std::process::id())));
        std::fs::create_dir_all(&dir.0)?;
        let path = dir.0.join("config.yaml");
        let mut argv = vec!["failover-watch", "demo"];
        argv.extend(args);
        let path_text = path.display().to_string();
        if let Some(config) = config {
            std::fs::write(&path, config)?;
            argv.extend(["--config", &path_text]);
        }
        let Some(Command::Demo(demo)) = Cli::try_parse_from(argv)?.command else {
            unreachable!("a demo command");
        };
        let surroundings = Surroundings {
            stdout_is_terminal: terminal,
            no_color: false,
        };
        let settings =
            demo::read_settings(demo.demo.gateway.config.as_deref(), demo.demo.groups, false)?;
        let setup = demo_setup(&demo.demo, &demo.probe, settings, surroundings, false)?;
        let plan = demo_plan(&demo.probe, &setup, "http://127.0.0.1:1", surroundings)?;
        Ok((setup, plan))
    }

    fn script(setup: &Setup) -> Option<String> {
        setup.script.as_ref().map(ToString::to_string)
    }

    #[test]
    fn headless_without_a_script_plays_the_built_in_story_once() {
        let (s, plan) = resolve(&["--output", "text"], None, true).unwrap();
        assert!(!s.dashboard);
        assert_eq!(script(&s).as_deref(), Some(BUILT_IN));
        // 20 s to the last cue, 10 s of cooldown, two 3 s intervals.
        assert_eq!(s.pass, Some(SECS(36)));
        assert_eq!(plan.targets[0].schedule.duration, Some(SECS(36)));
        assert_eq!(plan.targets[0].probe.primary, "llama-fp8");
        assert_eq!(plan.show.info.first().fallback.as_deref(), Some("llama3"));
        // Over the router's timeout (30 s): the default.
        assert_eq!(plan.targets[0].schedule.timeout, SECS(60));
        assert!(plan.show.info.simulated);
        // Without a terminal, text is the default output: the same story.
        let (_, plan) = resolve(&[], None, false).unwrap();
        assert_eq!(plan.targets[0].schedule.duration, Some(SECS(36)));
    }

    #[test]
    fn the_user_s_choices_stand() {
        let args = ["--output", "jsonl", "--count", "5", "--timeout", "9s"];
        let (_, plan) = resolve(&args, None, false).unwrap();
        assert_eq!(plan.targets[0].schedule.duration, None);
        assert_eq!(plan.targets[0].schedule.timeout, SECS(9));
        let args = [
            "--output",
            "jsonl",
            "--duration",
            "1m",
            "--script",
            "primary-error@2s",
        ];
        let (s, plan) = resolve(&args, None, false).unwrap();
        assert_eq!(plan.targets[0].schedule.duration, Some(SECS(60)));
        assert_eq!(script(&s).as_deref(), Some("primary-error@2s"));
        let args = ["--router-timeout", "2s", "--cooldown", "1s"];
        let (s, plan) = resolve(&args, None, false).unwrap();
        assert_eq!(plan.targets[0].schedule.timeout, SECS(60));
        // A router timeout over the default: the client waits longer than the router.
        let (_, plan) = resolve(&["--router-timeout", "90s"], None, false).unwrap();
        assert_eq!(plan.targets[0].schedule.timeout, SECS(95));
        assert_eq!(s.settings.router.cooldown, SECS(1));
        assert_eq!(s.pass, Some(SECS(27)));
        let args = ["--primary", "llama3", "--fallback", "other"];
        let (_, plan) = resolve(&args, None, false).unwrap();
        assert_eq!(plan.targets[0].probe.primary, "llama3");
        assert_eq!(plan.show.info.first().fallback.as_deref(), Some("other"));
    }

    #[test]
    fn the_dashboard_waits_for_keys_unless_a_script_or_loop_is_asked_for() {
        let (s, plan) = resolve(&[], None, true).unwrap();
        assert!(s.dashboard);
        assert_eq!(
            (script(&s), plan.targets[0].schedule.duration),
            (None, None)
        );
        let (s, plan) = resolve(&["--loop"], None, true).unwrap();
        assert_eq!(script(&s).as_deref(), Some(BUILT_IN));
        assert_eq!(plan.targets[0].schedule.duration, None);
        // A looping headless run goes on until stopped.
        let (s, plan) = resolve(&["--loop", "--output", "jsonl"], None, false).unwrap();
        assert!(s.repeat);
        assert_eq!(plan.targets[0].schedule.duration, None);
    }

    #[test]
    fn the_primary_is_the_config_s_group_with_a_fallback_unless_named() {
        let config = "model_list:\n  - {model_name: solo, litellm_params: {model: openai/solo, api_key: x}}\n  - {model_name: main, litellm_params: {model: openai/main, api_key: x}}\n  - {model_name: spare, litellm_params: {model: ollama/spare}}\nrouter_settings: {fallbacks: [{main: [spare]}]}\n";
        let with = |args: &[&str]| resolve(args, Some(config), false).map_err(|e| e.to_string());
        let (s, plan) = with(&[]).unwrap();
        assert_eq!(s.groups, [("main".to_owned(), Some("spare".to_owned()))]);
        assert_eq!(plan.targets[0].probe.primary, "main");
        let (s, _) = with(&["--primary", "solo"]).unwrap();
        assert_eq!(s.groups, [("solo".to_owned(), None)]);
        let error = with(&["--primary", "llama-fp8"]).unwrap_err();
        assert!(error.contains("(it has: solo, main, spare)"), "{error}");
        let error = with(&["--primary", "solo", "--script", "fallback-down@1s"]).unwrap_err();
        assert!(
            error.contains("aims at the fallback, but solo has no fallbacks"),
            "{error}"
        );
        let error = resolve(&[], Some("model_list: 3"), false).unwrap_err();
        assert!(
            error
                .to_string()
                .ends_with(".yaml: model_list must be a list"),
            "{error}"
        );
        assert!(error.chain().any(|e| e.is::<crate::sys::exit::Usage>()));
    }

    #[test]
    fn groups_3_watches_three_primaries_each_with_its_fallback() {
        let (s, plan) = resolve(&["--groups", "3", "--output", "jsonl"], None, false).unwrap();
        let targets: Vec<(&str, &str, Option<&str>)> = plan
            .show
            .info
            .targets
            .iter()
            .map(|t| (t.name.as_str(), t.primary.as_str(), t.fallback.as_deref()))
            .collect();
        assert_eq!(
            targets,
            [
                ("llama-fp8", "llama-fp8", Some("llama3")),
                ("qwen-72b", "qwen-72b", Some("qwen-7b")),
                ("mistral-large", "mistral-large", Some("mistral-small")),
            ]
        );
        assert_eq!(plan.targets.len(), 3);
        assert_eq!(s.groups.len(), 3);
        // The built-in story, on group 1, and its one pass for every target.
        assert_eq!(script(&s).as_deref(), Some(BUILT_IN));
        assert!(
            plan.targets
                .iter()
                .all(|t| t.schedule.duration == Some(SECS(36)))
        );
        // A script may name a watched group, no other.
        let args = ["--groups", "3", "--script", "qwen-72b:fallback-down@1s"];
        let (s, _) = resolve(&args, None, false).unwrap();
        assert_eq!(
            s.script.unwrap().cues()[0].group.as_deref(),
            Some("qwen-72b")
        );
        let args = ["--groups", "2", "--script", "mistral-large:primary-down@1s"];
        let error = resolve(&args, None, false).unwrap_err().to_string();
        assert!(
            error.contains("\"mistral-large\", which is not a watched primary group (watched: llama-fp8, qwen-72b)"),
            "{error}"
        );
        // --primary narrows the watch to one group of the example.
        let (s, plan) = resolve(&["--groups", "3", "--primary", "qwen-72b"], None, false).unwrap();
        assert_eq!(
            s.groups,
            [("qwen-72b".to_owned(), Some("qwen-7b".to_owned()))]
        );
        assert_eq!(plan.targets.len(), 1);
        for bad in [&["--groups", "0"][..], &["--groups", "10"]] {
            assert!(resolve(bad, None, false).is_err(), "{bad:?}");
        }
        let error = resolve(&["--groups", "2"], Some("model_list: []"), false).unwrap_err();
        assert!(error.to_string().contains("cannot be used with"), "{error}");
    }

    #[test]
    fn a_config_with_several_primaries_watches_them_all() {
        let config = "model_list:\n  - {model_name: a, litellm_params: {model: openai/a, api_key: x}}\n  - {model_name: b, litellm_params: {model: openai/b, api_key: x}}\n  - {model_name: c, litellm_params: {model: ollama/c}}\nrouter_settings: {fallbacks: [{b: [c]}, {a: [c]}]}\n";
        let (s, plan) = resolve(&[], Some(config), false).unwrap();
        let c = Some("c".to_owned());
        assert_eq!(s.groups, [("a".to_owned(), c.clone()), ("b".to_owned(), c)]);
        let primaries: Vec<&str> = plan
            .targets
            .iter()
            .map(|t| t.probe.primary.as_str())
            .collect();
        assert_eq!(primaries, ["a", "b"]);
    }
}
