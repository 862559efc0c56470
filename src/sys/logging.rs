//! Logs go through tracing to a file, never to the terminal (a dashboard may own it).
//!
//! At the default level only the run's life and its transitions are logged, so a week-long
//! run writes little; `FAILOVER_WATCH_LOG=debug` adds one line per probe.
//!
//! Every line, whichever crate writes it, goes through one writer that blanks out the API key
//! and escapes control characters: a server's text can neither show the key nor forge lines.
//! The file is the user's alone (0600, in a 0700 folder when we make it).

use std::fs::{DirBuilder, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use color_eyre::eyre::{Result, WrapErr, eyre};
use tracing_appender::non_blocking::{NonBlocking, NonBlockingBuilder, WorkerGuard};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

use crate::sys::secret::redact_known;

/// Our own life and transitions, other crates' warnings; not async-openai's, which repeats
/// the whole error body of every failed request (a week of outage would fill the disk).
const DEFAULT_FILTER: &str = "warn,async_openai=error,failover_watch=info";

/// Lines waiting for the log's writer thread before new ones are dropped. The queue is
/// allocated and written whole at start: tracing-appender's default (128,000 lines, 4 MB, a
/// thousand page faults) was most of the start-up's CPU, for a log that writes a few lines
/// a run, or one a probe at debug level.
const BUFFERED_LINES: usize = 4096;

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

/// Where logs go to stderr instead of a file (a container's log collector reads it there).
pub const STDERR: &str = "-";

/// Starts logging to `path` (appending), or to stderr for `-`. Keep the guard alive until the
/// end of `main`: it flushes the last lines.
pub fn init(path: &Path) -> Result<WorkerGuard> {
    let (writer, guard) = if path == Path::new(STDERR) {
        NonBlockingBuilder::default()
            .buffered_lines_limit(BUFFERED_LINES)
            .finish(std::io::stderr())
    } else {
        NonBlockingBuilder::default()
            .buffered_lines_limit(BUFFERED_LINES)
            .finish(open(path)?)
    };
    let writer = SafeLines(writer);
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

/// The log file, the user's alone: 0600, in a 0700 folder when we make it. Only the default
/// log's folder is made; a folder `--log-file` names must exist (a typo never makes folders
/// at the root).
fn open(path: &Path) -> Result<std::fs::File> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if path == default_log_file() {
            DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .wrap_err_with(|| format!("cannot create {}", dir.display()))?;
        } else if !dir.is_dir() {
            return Err(eyre!(
                "cannot write {}: the folder {} does not exist",
                path.display(),
                dir.display()
            ));
        }
    }
    OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)
        .wrap_err_with(|| format!("cannot write {}", path.display()))
}

/// Makes writers that make every line safe: the key blanked out, controls escaped.
#[derive(Clone)]
struct SafeLines(NonBlocking);

impl<'a> MakeWriter<'a> for SafeLines {
    type Writer = SafeLine<NonBlocking>;

    fn make_writer(&'a self) -> Self::Writer {
        SafeLine(self.0.clone())
    }
}

/// Writes one formatted line (tracing writes each event whole) made safe.
struct SafeLine<W>(W);

impl<W: Write> Write for SafeLine<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        self.0.write_all(safe(&text).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

/// A log line with the key blanked out and every control character escaped but the line's
/// own end.
fn safe(text: &str) -> String {
    let text = redact_known(text);
    let (body, end) = match text.strip_suffix('\n') {
        Some(body) => (body, "\n"),
        None => (text.as_ref(), ""),
    };
    let mut line = String::with_capacity(body.len() + 1);
    for c in body.chars() {
        if c.is_control() {
            line.extend(c.escape_default());
        } else {
            line.push(c);
        }
    }
    line.push_str(end);
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::secret::ApiKey;

    #[test]
    fn a_line_cannot_show_the_key_nor_forge_another() {
        let _key = ApiKey::new("sk-logged-secret-77").unwrap();
        let line = "WARN Server error: 500 - {\"auth\":\"Bearer sk-logged-secret-77\"}\n\
                    2026-12-02T00:00:00Z INFO forged\r\u{1b}[2J\n";
        let written = safe(line);
        assert!(!written.contains("sk-logged-secret-77"), "{written}");
        assert!(written.contains("Bearer [API key]"));
        assert_eq!(written.matches('\n').count(), 1, "{written}");
        assert!(written.ends_with('\n'));
        assert!(
            written.contains("\\n2026-12-02T00:00:00Z INFO forged\\r\\u{1b}[2J"),
            "{written}"
        );
    }
}
