//! Logs go through tracing to a file, never to the terminal (a dashboard may own it).
//!
//! At the default level only the run's life and its transitions are logged, so a week-long
//! run writes little; `FAILOVER_WATCH_LOG=debug` adds one line per probe.

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};

use color_eyre::eyre::{Result, WrapErr, eyre};
use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::EnvFilter;

/// Our own life and transitions, other crates' warnings; not async-openai's, which repeats
/// the whole error body of every failed request (a week of outage would fill the disk).
const DEFAULT_FILTER: &str = "warn,async_openai=error,failover_watch=info";

/// `$XDG_STATE_HOME/failover-watch/failover-watch.log`, else
/// `~/.local/state/failover-watch/failover-watch.log`, else the temporary directory.
pub fn default_log_file() -> PathBuf {
    let state_dir = std::env::var_os("XDG_STATE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|v| !v.is_empty())
                .map(|home| PathBuf::from(home).join(".local").join("state"))
        })
        .unwrap_or_else(std::env::temp_dir);
    state_dir.join("failover-watch").join("failover-watch.log")
}

/// Starts logging to `path` (appending). Keep the guard alive until the end of `main`: it
/// flushes the last lines.
pub fn init(path: &Path) -> Result<WorkerGuard> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .wrap_err_with(|| format!("cannot create {}", dir.display()))?;
    }
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .wrap_err_with(|| format!("cannot write {}", path.display()))?;
    let (writer, guard) = tracing_appender::non_blocking(file);
    let filter = EnvFilter::try_from_env("FAILOVER_WATCH_LOG")
        .unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(false)
        .with_target(false)
        .try_init()
        .map_err(|e| eyre!("cannot start logging: {e}"))?;
    Ok(guard)
}
