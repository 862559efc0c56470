//! The options resolved and checked into what a run needs, in one order: the built-in
//! defaults, then a configuration file's values (a [`Layer`]: the demo's LiteLLM config), then
//! the environment, then the command line (clap reads those two). Every refusal is a usage
//! error with a one-line reason.

use std::path::Path;
use std::time::Duration;

use color_eyre::eyre::Result;

use crate::cli::targets::{MAX_TARGETS, TargetSpec, names, read_file};
use crate::cli::{ProbeArgs, ProxyArgs, TargetArgs, TargetsArgs, ThemeArg};
use crate::output::{RunInfo, TargetInfo};
use crate::probe::{DirectMode, Endpoint, ProbeSettings, ProxyMetrics, Schedule, TargetId};
pub use crate::run::plan::{DEFAULT_TIMEOUT, Layer, OutputFormat, Plan, Show, TargetPlan};
use crate::state::{HEALTH_EVERY, LaneConfig};
use crate::sys::exit::usage;
use crate::sys::secret::ApiKey;
use crate::text::format::interval;
use crate::ui::ThemeName;

/// The primary model group when none is named.
pub const DEFAULT_PRIMARY: &str = "llama-fp8";

/// What the process can tell about where it runs.
#[derive(Clone, Copy, Debug)]
pub struct Surroundings {
    pub stdout_is_terminal: bool,
    /// `NO_COLOR` set to anything but the empty string.
    pub no_color: bool,
}

impl Surroundings {
    pub fn detect() -> Self {
        use std::io::IsTerminal;
        Self {
            stdout_is_terminal: std::io::stdout().is_terminal(),
            no_color: std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()),
        }
    }
}

/// What every request of one target asks of which proxy, resolved.
#[derive(Clone, Debug)]
pub struct Target {
    pub probe: ProbeSettings,
    /// The fallback group, when given.
    pub fallback: Option<String>,
}

/// The proxy's endpoint and the key to it (from the environment `env` or a file).
pub fn reach(
    proxy: &ProxyArgs,
    env: impl Fn(&str) -> Option<String>,
) -> Result<(Endpoint, Option<ApiKey>)> {
    let endpoint = Endpoint::parse(&proxy.url).map_err(usage)?;
    let key = ApiKey::load(proxy.api_key_file.as_deref(), env).map_err(usage)?;
    Ok((endpoint, key))
}

/// The targets the options name: the targets file's, else each `--primary` on the proxy of
/// `proxy` (its key from the environment `env` or a file).
pub fn target_specs(
    proxy: &ProxyArgs,
    args: &TargetArgs,
    targets: &TargetsArgs,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Vec<TargetSpec>> {
    let (endpoint, key) = reach(proxy, &env)?;
    if let Some(file) = &targets.targets {
        if !args.primary.is_empty() || args.fallback.is_some() {
            return Err(usage(
                "--targets lists the targets: their primary and fallback go in the file",
            ));
        }
        return read_file(file, env, &key);
    }
    specs_on(args, &endpoint, &key, &Layer::default())
}

/// A target for each `--primary` on `endpoint` (else each of the layer's, else the default
/// group).
fn specs_on(
    args: &TargetArgs,
    endpoint: &Endpoint,
    key: &Option<ApiKey>,
    layer: &Layer,
) -> Result<Vec<TargetSpec>> {
    let named: Vec<(String, Option<String>)> = if !args.primary.is_empty() {
        args.primary
            .iter()
            .map(|p| (p.trim().to_owned(), None))
            .collect()
    } else if !layer.targets.is_empty() {
        layer.targets.clone()
    } else {
        vec![(DEFAULT_PRIMARY.to_owned(), None)]
    };
    if named.iter().any(|(primary, _)| primary.is_empty()) {
        return Err(usage("--primary must name a model group"));
    }
    let given = args
        .fallback
        .as_deref()
        .map(str::trim)
        .filter(|f| !f.is_empty());
    if named.len() > 1 && given.is_some() {
        return Err(usage(
            "--fallback names the fallback of one primary: for several, a targets file (--targets)",
        ));
    }
    Ok(named
        .into_iter()
        .map(|(primary, fallback)| {
            let fallback = given.map(str::to_owned).or(fallback);
            TargetSpec::on(endpoint, key, primary, fallback)
        })
        .collect())
}

impl Target {
    /// The target `spec` names, what it leaves out as `args` (then `layer`) say.
    pub fn of_spec(spec: TargetSpec, args: &TargetArgs, layer: &Layer) -> Self {
        let timeout = spec
            .timeout
            .or(args.timeout)
            .or(layer.timeout)
            .unwrap_or(DEFAULT_TIMEOUT);
        Self {
            probe: ProbeSettings {
                endpoint: spec.endpoint,
                key: spec.key,
                primary: spec.primary,
                prompt: args.prompt.clone(),
                max_tokens: args.max_tokens,
                stream: spec.stream.unwrap_or(args.stream),
                timeout,
                proxy_metrics: ProxyMetrics::Off,
            },
            fallback: spec.fallback,
        }
    }
}

impl Plan {
    /// A plan for any endpoint, the simulated gateway included, over the values of `layer`.
    pub fn new(
        args: &ProbeArgs,
        endpoint: Endpoint,
        key: Option<ApiKey>,
        layer: &Layer,
        simulated: bool,
        surroundings: Surroundings,
    ) -> Result<Self> {
        let specs = specs_on(&args.target, &endpoint, &key, layer)?;
        Self::of_specs(args, specs, layer, simulated, surroundings)
    }

    /// A plan for `specs`, each target's schedule in its slot of the interval (a proxy sees an
    /// even rate, see [`spread`]), what they leave out as `args` (then `layer`) say.
    pub fn of_specs(
        args: &ProbeArgs,
        specs: Vec<TargetSpec>,
        layer: &Layer,
        simulated: bool,
        surroundings: Surroundings,
    ) -> Result<Self> {
        let output = surroundings.checked_output(args.output, &args.log_file)?;
        let max_in_flight = usize::try_from(args.max_in_flight)
            .map_err(|_| usage("--max-in-flight is too large"))?;
        // Every way of naming targets comes through here: --all-groups' discovery too.
        if specs.len() > MAX_TARGETS {
            return Err(usage(format!(
                "{} targets: at most {MAX_TARGETS} (each costs requests to a real model)",
                specs.len()
            )));
        }
        let names = names(&specs).map_err(usage)?;
        let proxies_differ = specs
            .iter()
            .any(|s| s.endpoint.root() != specs[0].endpoint.root());
        if proxies_differ && matches!(args.proxy_metrics, ProxyMetrics::At(_)) {
            return Err(usage(
                "--proxy-metrics URL names one proxy's metrics: with several proxies, auto or off",
            ));
        }
        let count = specs.len();
        let mut targets = Vec::with_capacity(count);
        let mut infos = Vec::with_capacity(count);
        for (i, (spec, name)) in specs.into_iter().zip(names).enumerate() {
            let interval = spec.interval.unwrap_or(args.interval);
            let direct = spec.direct.unwrap_or(args.direct);
            let Target {
                mut probe,
                fallback,
            } = Target::of_spec(spec, &args.target, layer);
            probe.proxy_metrics = args.proxy_metrics.clone();
            let id = TargetId(u16::try_from(i).map_err(|_| usage("too many targets"))?);
            let schedule = Schedule {
                target: id,
                interval,
                timeout: probe.timeout,
                max_in_flight,
                count: args.count,
                duration: args.duration.or(layer.duration),
                grace: Schedule::default_grace(probe.timeout),
                direct,
                proxy_metrics: probe.proxy_metrics != ProxyMetrics::Off,
                offset: spread(interval, i, count),
                floor: Duration::ZERO,
            };
            infos.push(TargetInfo {
                name,
                url: probe.endpoint.root().to_owned(),
                primary: probe.primary.clone(),
                fallback,
                interval,
                timeout: probe.timeout,
                stream: probe.stream,
                lane: LaneConfig {
                    mode: direct,
                    ..LaneConfig::default()
                },
            });
            targets.push(TargetPlan { probe, schedule });
        }
        cap_rate(&mut targets, args.max_rate)?;
        let info = RunInfo {
            targets: infos,
            simulated,
            down_after: args.down_after,
            replay: None,
        };
        Ok(Self {
            targets,
            show: Show {
                info,
                output,
                color: surroundings.color(),
                theme: surroundings.theme(args.theme),
                record: args.record.clone(),
                metrics_listen: args.metrics_listen,
                fail_on_error: args.fail_on_error,
            },
        })
    }
}

/// Requests a second one target sends its proxy at `interval`, the lane as `direct` runs: a
/// probe a tick; with `probe` a direct probe beside it; with `quiet` at most LiteLLM's health
/// check (a completion of the primary's) every [`HEALTH_EVERY`] while the primary is away,
/// and never more than one a tick.
fn rate(interval: Duration, direct: DirectMode) -> f64 {
    let tick = 1.0 / interval.as_secs_f64();
    match direct {
        DirectMode::Off => tick,
        DirectMode::Probe => 2.0 * tick,
        DirectMode::Quiet => tick + 1.0 / interval.max(HEALTH_EVERY).as_secs_f64(),
    }
}

/// The shortest interval at which targets with these lanes, all at that interval, send their
/// proxy at most `cap` requests a second; in whole milliseconds, rounded up.
fn fitting_interval(lanes: &[DirectMode], cap: f64) -> Duration {
    let ticks: f64 = lanes
        .iter()
        .map(|lane| if *lane == DirectMode::Probe { 2.0 } else { 1.0 })
        .sum();
    let quiet = lanes.iter().filter(|l| **l == DirectMode::Quiet).count() as f64;
    let every = HEALTH_EVERY.as_secs_f64();
    // Under HEALTH_EVERY the quiet lanes add a constant; from it on, one more a tick each.
    let below = cap - quiet / every;
    let secs = if below > 0.0 && ticks / below <= every {
        ticks / below
    } else {
        (ticks + quiet) / cap
    };
    Duration::from_millis((secs * 1000.0).ceil() as u64)
}

/// `--max-rate`: each proxy's planned rate (its targets' [`rate`]s) within `cap`, else a usage
/// error naming the proxy, its rate and the interval that fits; each schedule's floor for `+`
/// the interval that fits its proxy.
fn cap_rate(targets: &mut [TargetPlan], cap: Option<f64>) -> Result<()> {
    let Some(cap) = cap else {
        return Ok(());
    };
    let mut proxies: Vec<String> = Vec::new();
    for target in targets.iter() {
        let root = target.probe.endpoint.root();
        if !proxies.iter().any(|p| p == root) {
            proxies.push(root.to_owned());
        }
    }
    for proxy in proxies {
        let on = |t: &TargetPlan| t.probe.endpoint.root() == proxy;
        let lanes: Vec<DirectMode> = targets
            .iter()
            .filter(|t| on(t))
            .map(|t| t.schedule.direct)
            .collect();
        let planned: f64 = targets
            .iter()
            .filter(|t| on(t))
            .map(|t| rate(t.schedule.interval, t.schedule.direct))
            .sum();
        let fits = fitting_interval(&lanes, cap);
        // A hair over, from the sum's rounding, is within.
        if planned > cap * (1.0 + 1e-9) {
            let count = match lanes.len() {
                1 => "its target".to_owned(),
                n => format!("its {n} targets"),
            };
            return Err(usage(format!(
                "--max-rate {cap}: {count} would send {proxy} {planned:.2} requests a second \
                 (a probe a tick, the primary's lane included): give --interval {} or more \
                 (each target), fewer targets, or a higher --max-rate",
                interval(fits)
            )));
        }
        for target in targets.iter_mut().filter(|t| on(t)) {
            target.schedule.floor = fits;
        }
    }
    Ok(())
}

/// The closest two moments at which targets tick may be: a tenth of a second.
const TICK_SLOT: Duration = Duration::from_millis(100);

/// When the `index`-th of `count` targets first ticks: the interval is cut into even slots, as
/// many as the targets but at most one per [`TICK_SLOT`], and the targets are dealt out among
/// them in order. Targets that share a slot are sent together: a burst costs one wake-up, on
/// code and data still in the caches (100 targets at 1 s cost a third of the CPU they cost
/// 10 ms apart, BENCHMARKS.md), and a proxy still sees an even rate at that grain.
fn spread(interval: Duration, index: usize, count: usize) -> Duration {
    let count = count.max(1) as u128;
    let slots = (interval.as_nanos() / TICK_SLOT.as_nanos()).clamp(1, count);
    let slot = index as u128 * slots / count;
    let (Ok(slots), Ok(slot)) = (u32::try_from(slots), u32::try_from(slot)) else {
        return Duration::ZERO;
    };
    interval / slots * slot
}

impl Surroundings {
    /// Colour in the text output: on a terminal, unless `NO_COLOR`.
    pub fn color(self) -> bool {
        self.stdout_is_terminal && !self.no_color
    }

    /// The dashboard's first theme: the one asked for, else mono under `NO_COLOR`, else dark.
    pub fn theme(self, asked: Option<ThemeArg>) -> ThemeName {
        match asked {
            Some(ThemeArg::Dark) => ThemeName::Dark,
            Some(ThemeArg::Light) => ThemeName::Light,
            Some(ThemeArg::Mono) => ThemeName::Mono,
            None if self.no_color => ThemeName::Mono,
            None => ThemeName::Dark,
        }
    }

    /// The output asked for (else as [`Self::output`] chooses), if it can be had: the dashboard
    /// needs a terminal, and logs on stderr would write over it.
    pub fn checked_output(
        self,
        asked: Option<OutputFormat>,
        log_file: &Path,
    ) -> Result<OutputFormat> {
        if asked == Some(OutputFormat::Tui) && !self.stdout_is_terminal {
            return Err(usage(
                "the dashboard needs a terminal: use --output text or --output jsonl",
            ));
        }
        let output = self.output(asked);
        if output == OutputFormat::Tui && log_file == Path::new(crate::sys::logging::STDERR) {
            return Err(usage(
                "--log-file - would write over the dashboard: give a file, or another --output",
            ));
        }
        Ok(output)
    }

    /// The output asked for, else the dashboard on a terminal and the text story elsewhere.
    pub fn output(self, asked: Option<OutputFormat>) -> OutputFormat {
        asked.unwrap_or(if self.stdout_is_terminal {
            OutputFormat::Tui
        } else {
            OutputFormat::Text
        })
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::cli::Cli;

    fn plan(args: &[&str], tty: bool) -> Result<Plan, String> {
        let cli =
            Cli::try_parse_from(std::iter::once("failover-watch").chain(args.iter().copied()))
                .map_err(|e| e.to_string())?;
        let watch = &cli.watch;
        let specs = target_specs(&watch.proxy, &watch.probe.target, &watch.targets, |_| None)
            .map_err(|e| e.to_string())?;
        let surroundings = Surroundings {
            stdout_is_terminal: tty,
            no_color: false,
        };
        Plan::of_specs(&watch.probe, specs, &Layer::default(), false, surroundings)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn defaults_follow_the_seed() {
        let p = plan(&[], false).unwrap();
        assert_eq!(p.targets[0].probe.primary, "llama-fp8");
        assert_eq!(
            p.targets[0].probe.endpoint.api_base(),
            "http://127.0.0.1:4000/v1"
        );
        assert_eq!(
            p.targets[0].schedule.interval,
            std::time::Duration::from_secs(3)
        );
        assert_eq!(
            p.targets[0].schedule.timeout,
            std::time::Duration::from_secs(60)
        );
        assert_eq!(p.targets[0].schedule.max_in_flight, 10);
        assert_eq!(p.targets[0].probe.max_tokens, 10);
        assert_eq!(p.targets[0].probe.prompt, "Say hi");
        assert_eq!(p.show.output, OutputFormat::Text);
        assert!(!p.show.color);
        assert!(p.targets[0].probe.key.is_none());
        assert_eq!(plan(&[], true).unwrap().show.output, OutputFormat::Tui);
        assert!(plan(&[], true).unwrap().show.color);
    }

    #[test]
    fn bad_configuration_is_refused_with_a_reason() {
        for (args, reason) in [
            (["--url", "not a url"], "invalid --url"),
            (["--interval", "0s"], "from 1ms to 1h"),
            (
                ["--api-key-file", "/nonexistent/key"],
                "cannot read the API key file",
            ),
            (["--primary", " "], "--primary"),
        ] {
            let error = plan(&args, false).unwrap_err();
            assert!(error.contains(reason), "{args:?}: {error}");
        }
    }

    /// Several primaries are several targets, spread across the interval; past the cap, the
    /// plan is refused however the targets were named.
    #[test]
    fn several_primaries_are_targets_spread_across_the_interval_up_to_the_cap() {
        let p = plan(
            &["--primary", "a,b", "--primary", "c", "--interval", "3s"],
            false,
        )
        .unwrap();
        let targets: Vec<(&str, Duration)> = p
            .targets
            .iter()
            .map(|t| (t.probe.primary.as_str(), t.schedule.offset))
            .collect();
        let s = Duration::from_secs;
        assert_eq!(targets, [("a", s(0)), ("b", s(1)), ("c", s(2))]);
        let names: Vec<String> = (0..=MAX_TARGETS).map(|i| format!("g{i}")).collect();
        let error = plan(&["--primary", &names.join(",")], false).unwrap_err();
        assert!(error.contains("1001 targets: at most 1000"), "{error}");
        let error = plan(&["--primary", "a,a"], false).unwrap_err();
        assert!(error.contains("a"), "{error}");
        let error = plan(&["--primary", "a,b", "--fallback", "x"], false).unwrap_err();
        assert!(error.contains("--fallback"), "{error}");
    }

    /// Targets share slots at most [`TICK_SLOT`] apart, dealt out evenly, in order.
    #[test]
    fn targets_tick_in_slots_a_tenth_of_a_second_apart_at_the_closest() {
        let ms = Duration::from_millis;
        let offsets = |interval: u64, count: usize| -> Vec<Duration> {
            (0..count).map(|i| spread(ms(interval), i, count)).collect()
        };
        // Few enough: each its own even share of the interval.
        assert_eq!(offsets(1000, 4), [ms(0), ms(250), ms(500), ms(750)]);
        // 100 at 1 s: 10 slots of 10.
        let hundred = offsets(1000, 100);
        for (i, offset) in hundred.iter().enumerate() {
            assert_eq!(*offset, ms(100 * (i as u64 / 10)), "target {i}");
        }
        // 15 at 1 s: 10 slots of one or two, in order, none left empty.
        let fifteen = offsets(1000, 15);
        assert!(fifteen.is_sorted(), "{fifteen:?}");
        let mut slots = fifteen.clone();
        slots.dedup();
        assert_eq!(slots, (0..10).map(|k| ms(100 * k)).collect::<Vec<_>>());
        // A short interval: one slot; a long one: every target its own.
        assert_eq!(offsets(50, 3), [ms(0); 3]);
        assert_eq!(offsets(10_000, 100)[99], ms(9_900));
        assert_eq!(spread(ms(1000), 0, 0), ms(0));
    }

    /// `--max-rate`: a plan over it is refused with the proxy, its rate and the interval that
    /// fits; one within it gives each schedule that interval as its floor.
    #[test]
    fn max_rate_refuses_a_plan_over_it_and_floors_the_intervals() {
        let over = |args: &[&str]| plan(args, false).unwrap_err();
        let error = over(&["--max-rate", "1", "--interval", "500ms", "--direct", "off"]);
        assert_eq!(
            error,
            "--max-rate 1: its target would send http://127.0.0.1:4000 2.00 requests a second \
             (a probe a tick, the primary's lane included): give --interval 1s or more (each \
             target), fewer targets, or a higher --max-rate"
        );
        // The quiet lane's health check (one a 5 s at most) counts: 3 × (1/3 + 1/5) > 1.
        let error = over(&["--primary", "a,b,c", "--max-rate", "1"]);
        assert!(error.contains("its 3 targets would send"), "{error}");
        assert!(error.contains(" 1.60 requests a second"), "{error}");
        assert!(error.contains("give --interval 6s or more"), "{error}");
        // At the interval it names, it fits: 3 × (1/6 + 1/6) = 1.
        let fits = plan(
            &["--primary", "a,b,c", "--max-rate", "1", "--interval", "6s"],
            false,
        )
        .unwrap();
        assert!(
            fits.targets
                .iter()
                .all(|t| t.schedule.floor == Duration::from_secs(6))
        );
        // A direct probe a tick doubles the rate.
        assert!(
            over(&["--max-rate", "1.5", "--interval", "1s", "--direct", "probe"])
                .contains("2.00 requests a second")
        );
        let fits = plan(
            &["--max-rate", "2", "--interval", "1s", "--direct", "probe"],
            false,
        )
        .unwrap();
        assert_eq!(fits.targets[0].schedule.floor, Duration::from_secs(1));
        // Under 5 s the quiet lane adds its health check: 1/0.5 + 0.2 = 2.2.
        let fits = plan(&["--max-rate", "2.2", "--interval", "500ms"], false).unwrap();
        assert_eq!(fits.targets[0].schedule.floor, Duration::from_millis(500));
        // Without it, no floor.
        let free = plan(&["--interval", "1ms"], false).unwrap();
        assert_eq!(free.targets[0].schedule.floor, Duration::ZERO);
        for wrong in ["0", "fast", "inf", "NaN"] {
            let error = over(&["--max-rate", wrong]);
            assert!(error.contains("is not a rate"), "{wrong}: {error}");
        }
    }

    /// The cap is per proxy: the targets of another proxy do not count against it.
    #[test]
    fn max_rate_counts_each_proxy_apart() {
        let cli = Cli::try_parse_from([
            "failover-watch",
            "--max-rate",
            "1.5",
            "--interval",
            "1s",
            "--direct",
            "off",
        ])
        .unwrap();
        let on = |url: &str, primary: &str| {
            TargetSpec::on(
                &Endpoint::parse(url).unwrap(),
                &None,
                primary.to_owned(),
                None,
            )
        };
        let surroundings = Surroundings {
            stdout_is_terminal: false,
            no_color: false,
        };
        let plan = |specs| {
            Plan::of_specs(
                &cli.watch.probe,
                specs,
                &Layer::default(),
                false,
                surroundings,
            )
            .map_err(|e| e.to_string())
        };
        // One target on each of two proxies, and one more on the first after the other's.
        let one_each = plan(vec![on("http://a:4000", "p"), on("http://b:4000", "p")]).unwrap();
        assert!(
            one_each
                .targets
                .iter()
                .all(|t| t.schedule.floor == Duration::from_millis(667))
        );
        let error = plan(vec![
            on("http://a:4000", "p"),
            on("http://b:4000", "p"),
            on("http://a:4000", "q"),
        ])
        .unwrap_err();
        assert!(
            error.starts_with("--max-rate 1.5: its 2 targets would send http://a:4000 2.00"),
            "{error}"
        );
    }
}
