//! The options resolved and checked into what a run needs, in one order: the built-in
//! defaults, then a configuration file's values (a [`Layer`]: the demo's LiteLLM config), then
//! the environment, then the command line (clap reads those two). Every refusal is a usage
//! error with a one-line reason.

use std::path::Path;

use color_eyre::eyre::Result;

use crate::cli::{ProbeArgs, ProxyArgs, TargetArgs, ThemeArg, WatchArgs};
use crate::output::RunInfo;
use crate::probe::{Endpoint, ProbeSettings, ProxyMetrics, Schedule, TargetId};
pub use crate::run::plan::{DEFAULT_TIMEOUT, Layer, OutputFormat, Plan, Show};
use crate::state::{LaneConfig, MonitorConfig};
use crate::sys::exit::usage;
use crate::sys::secret::ApiKey;
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

/// What every request asks of which proxy, resolved.
#[derive(Clone, Debug)]
pub struct Target {
    pub probe: ProbeSettings,
    /// The fallback group, when given.
    pub fallback: Option<String>,
}

/// The proxy's endpoint and the key to it (from the environment `env` or a file).
fn reach(
    proxy: &ProxyArgs,
    env: impl Fn(&str) -> Option<String>,
) -> Result<(Endpoint, Option<ApiKey>)> {
    let endpoint = Endpoint::parse(&proxy.url).map_err(usage)?;
    let key = ApiKey::load(proxy.api_key_file.as_deref(), env).map_err(usage)?;
    Ok((endpoint, key))
}

impl Target {
    /// The proxy of `proxy` (its key from the environment `env` or a file) asked as `args`
    /// say.
    pub fn of_proxy(
        proxy: &ProxyArgs,
        args: &TargetArgs,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self> {
        let (endpoint, key) = reach(proxy, env)?;
        Self::new(args, endpoint, key, &Layer::default())
    }

    pub fn new(
        args: &TargetArgs,
        endpoint: Endpoint,
        key: Option<ApiKey>,
        layer: &Layer,
    ) -> Result<Self> {
        let primary = args
            .primary
            .clone()
            .or_else(|| layer.primary.clone())
            .unwrap_or_else(|| DEFAULT_PRIMARY.to_owned())
            .trim()
            .to_owned();
        if primary.is_empty() {
            return Err(usage("--primary must name a model group"));
        }
        let fallback = args
            .fallback
            .clone()
            .or_else(|| layer.fallback.clone())
            .map(|f| f.trim().to_owned())
            .filter(|f| !f.is_empty());
        let timeout = args.timeout.or(layer.timeout).unwrap_or(DEFAULT_TIMEOUT);
        Ok(Self {
            probe: ProbeSettings {
                endpoint,
                key,
                primary,
                prompt: args.prompt.clone(),
                max_tokens: args.max_tokens,
                stream: args.stream,
                timeout,
                proxy_metrics: ProxyMetrics::Off,
            },
            fallback,
        })
    }
}

impl Plan {
    /// A plan for watching a real proxy.
    pub fn watch(
        args: &WatchArgs,
        env: impl Fn(&str) -> Option<String>,
        surroundings: Surroundings,
    ) -> Result<Self> {
        let (endpoint, key) = reach(&args.proxy, env)?;
        Self::new(
            &args.probe,
            endpoint,
            key,
            &Layer::default(),
            false,
            surroundings,
        )
    }

    /// A plan for any endpoint, the simulated gateway included, over the values of `layer`.
    pub fn new(
        args: &ProbeArgs,
        endpoint: Endpoint,
        key: Option<ApiKey>,
        layer: &Layer,
        simulated: bool,
        surroundings: Surroundings,
    ) -> Result<Self> {
        let Target {
            mut probe,
            fallback,
        } = Target::new(&args.target, endpoint, key, layer)?;
        probe.proxy_metrics = args.proxy_metrics.clone();
        let output = surroundings.checked_output(args.output, &args.log_file)?;
        let timeout = probe.timeout;
        let max_in_flight = usize::try_from(args.max_in_flight)
            .map_err(|_| usage("--max-in-flight is too large"))?;
        let schedule = Schedule {
            target: TargetId::default(),
            interval: args.interval,
            timeout,
            max_in_flight,
            count: args.count,
            duration: args.duration.or(layer.duration),
            grace: Schedule::default_grace(timeout),
            direct: args.direct,
            proxy_metrics: probe.proxy_metrics != ProxyMetrics::Off,
        };
        let monitor = MonitorConfig {
            down_after: args.down_after,
            timeout,
            ..MonitorConfig::default()
        };
        let info = RunInfo {
            url: probe.endpoint.root().to_owned(),
            primary: probe.primary.clone(),
            fallback,
            interval: args.interval,
            timeout,
            stream: probe.stream,
            simulated,
            lane: LaneConfig {
                mode: args.direct,
                ..LaneConfig::default()
            },
            down_after: args.down_after,
            replay: None,
        };
        Ok(Self {
            probe,
            schedule,
            show: Show {
                monitor,
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
        let plan = Plan::watch(
            &cli.watch,
            |_| None,
            Surroundings {
                stdout_is_terminal: tty,
                no_color: false,
            },
        );
        plan.map_err(|e| e.to_string())
    }

    #[test]
    fn defaults_follow_the_seed() {
        let p = plan(&[], false).unwrap();
        assert_eq!(p.probe.primary, "llama-fp8");
        assert_eq!(p.probe.endpoint.api_base(), "http://127.0.0.1:4000/v1");
        assert_eq!(p.schedule.interval, std::time::Duration::from_secs(3));
        assert_eq!(p.schedule.timeout, std::time::Duration::from_secs(60));
        assert_eq!(p.schedule.max_in_flight, 10);
        assert_eq!(p.probe.max_tokens, 10);
        assert_eq!(p.probe.prompt, "Say hi");
        assert_eq!(p.show.output, OutputFormat::Text);
        assert!(!p.show.color);
        assert!(p.probe.key.is_none());
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
}
