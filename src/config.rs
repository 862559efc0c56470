//! The command line resolved and checked into what a run needs. Every refusal is a one-line
//! reason; the caller exits with status 2.

use std::path::PathBuf;

use crate::cli::{OutputFormat, ProbeArgs, ThemeArg, WatchArgs};
use crate::output::RunInfo;
use crate::probe::{Endpoint, ProbeSettings, Schedule};
use crate::secret::ApiKey;
use crate::state::MonitorConfig;
use crate::ui::ThemeName;

/// Everything a run needs, checked.
#[derive(Clone, Debug)]
pub struct Plan {
    pub probe: ProbeSettings,
    pub schedule: Schedule,
    pub monitor: MonitorConfig,
    pub info: RunInfo,
    pub output: OutputFormat,
    /// Colour in the text output.
    pub color: bool,
    /// The dashboard's first theme.
    pub theme: ThemeName,
    pub log_file: PathBuf,
    /// A JSON lines copy of the run (`--record`).
    pub record: Option<PathBuf>,
    pub fail_on_error: bool,
}

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

impl Plan {
    /// A plan for watching a real proxy.
    pub fn watch(
        args: &WatchArgs,
        env: impl Fn(&str) -> Option<String>,
        surroundings: Surroundings,
    ) -> Result<Self, String> {
        let endpoint = Endpoint::parse(&args.url)?;
        let key = ApiKey::load(args.api_key_file.as_deref(), env)?;
        Self::new(&args.probe, endpoint, key, false, surroundings)
    }

    /// A plan for any endpoint, the simulated gateway included.
    pub fn new(
        args: &ProbeArgs,
        endpoint: Endpoint,
        key: Option<ApiKey>,
        simulated: bool,
        surroundings: Surroundings,
    ) -> Result<Self, String> {
        if args.primary.trim().is_empty() {
            return Err("--primary must name a model group".to_owned());
        }
        if args.output == Some(OutputFormat::Tui) && !surroundings.stdout_is_terminal {
            return Err(
                "the dashboard needs a terminal: use --output text or --output jsonl".to_owned(),
            );
        }
        let max_in_flight = usize::try_from(args.max_in_flight)
            .map_err(|_| "--max-in-flight is too large".to_owned())?;
        let schedule = Schedule {
            interval: args.interval,
            timeout: args.timeout,
            max_in_flight,
            count: args.count,
            duration: args.duration,
            grace: Schedule::default_grace(args.timeout),
        };
        let mut monitor = MonitorConfig::new(args.primary.trim());
        monitor.down_after = args.down_after;
        let info = RunInfo {
            url: endpoint.root().to_owned(),
            primary: args.primary.trim().to_owned(),
            fallback: args.fallback.clone().filter(|f| !f.trim().is_empty()),
            interval: args.interval,
            timeout: args.timeout,
            stream: args.stream,
            simulated,
        };
        let output = args.output.unwrap_or(if surroundings.stdout_is_terminal {
            OutputFormat::Tui
        } else {
            OutputFormat::Text
        });
        Ok(Self {
            probe: ProbeSettings {
                endpoint,
                key,
                primary: args.primary.trim().to_owned(),
                prompt: args.prompt.clone(),
                max_tokens: args.max_tokens,
                stream: args.stream,
                timeout: args.timeout,
            },
            schedule,
            monitor,
            info,
            output,
            color: surroundings.stdout_is_terminal && !surroundings.no_color,
            theme: match args.theme {
                Some(ThemeArg::Dark) => ThemeName::Dark,
                Some(ThemeArg::Light) => ThemeName::Light,
                Some(ThemeArg::Mono) => ThemeName::Mono,
                None if surroundings.no_color => ThemeName::Mono,
                None => ThemeName::Dark,
            },
            log_file: args.log_file.clone(),
            record: args.record.clone(),
            fail_on_error: args.fail_on_error,
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
        Plan::watch(
            &cli.watch,
            |_| None,
            Surroundings {
                stdout_is_terminal: tty,
                no_color: false,
            },
        )
    }

    #[test]
    fn defaults_follow_the_seed() {
        let p = plan(&[], false).unwrap();
        assert_eq!(p.probe.primary, "llama-fp8");
        assert_eq!(p.probe.endpoint.api_base(), "http://127.0.0.1:4000/v1");
        assert_eq!(p.schedule.interval, std::time::Duration::from_secs(3));
        assert_eq!(p.schedule.timeout, std::time::Duration::from_secs(30));
        assert_eq!(p.schedule.max_in_flight, 10);
        assert_eq!(p.probe.max_tokens, 10);
        assert_eq!(p.probe.prompt, "Say hi");
        assert_eq!(p.output, OutputFormat::Text);
        assert!(!p.color);
        assert!(p.probe.key.is_none());
        assert_eq!(plan(&[], true).unwrap().output, OutputFormat::Tui);
        assert!(plan(&[], true).unwrap().color);
    }

    #[test]
    fn bad_configuration_is_refused_with_a_reason() {
        assert!(
            plan(&["--url", "not a url"], false)
                .unwrap_err()
                .contains("invalid --url")
        );
        assert!(
            plan(&["--interval", "0s"], false)
                .unwrap_err()
                .contains("more than zero")
        );
        assert!(
            plan(&["--api-key-file", "/nonexistent/key"], false)
                .unwrap_err()
                .contains("cannot read the API key file")
        );
        assert!(
            plan(&["--primary", " "], false)
                .unwrap_err()
                .contains("--primary")
        );
    }
}
