//! A drill's command, run: `sh -c COMMAND` in a process group of its own (Ctrl-C at the
//! terminal does not reach it, and its timeout kills everything it started), without the
//! watcher's key in its environment unless asked, what it printed kept (bounded) and cleaned
//! as every text shown is. The drill's one edge that starts processes.

use std::ffi::OsStr;
use std::os::unix::process::ExitStatusExt;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::Command;
use tokio::time::{Instant, sleep_until};

use super::course::Done;
use crate::sys::secret::KEY_ENV_VARS;
use crate::text::sanitize::clean;

/// The most of a command's output kept (stdout and stderr together, as they came).
pub const OUTPUT_LIMIT: usize = 64 * 1024;
/// How long the output is still read once the command ended: a process it left running in
/// the background may hold the pipes open for ever.
const DRAIN: Duration = Duration::from_millis(500);

/// A step as it was taken: how it went, and its command if it has one (the demo's
/// simulated primary and a person need none).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Taken {
    pub done: Done,
    pub command: Option<Ran>,
}

/// A command as it ran.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ran {
    pub done: Done,
    /// Its exit status; none when a signal ended it, its timeout struck or it never started.
    pub exit_status: Option<i32>,
    /// What it printed, cleaned and cut to [`OUTPUT_LIMIT`] (a note says so).
    pub output: String,
    pub took: Duration,
    /// How it ended without an exit status: it could not start, timed out, a signal.
    pub note: Option<String>,
}

impl Ran {
    /// How it ended, in a few words: `exit 0`, `timed out after 5m`, `could not start: …`.
    pub fn said(&self) -> String {
        match (&self.note, self.exit_status) {
            (Some(note), _) => note.clone(),
            (None, Some(code)) => format!("exit {code}"),
            (None, None) => "no exit status".to_owned(),
        }
    }
}

/// Runs `command` with `sh -c`, for `timeout` at most; the key's variables and the
/// watcher's own (`FAILOVER_WATCH_*`) are taken out of its environment unless `pass_key`.
pub async fn run(command: &str, timeout: Duration, pass_key: bool) -> Ran {
    let started = Instant::now();
    let mut shell = Command::new("sh");
    shell
        .arg("-c")
        .arg(command)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    if !pass_key {
        for (name, _) in std::env::vars_os() {
            if is_secret(&name) {
                shell.env_remove(name);
            }
        }
    }
    let mut child = match shell.spawn() {
        Ok(child) => child,
        Err(error) => {
            return Ran {
                done: Done::NotStarted,
                exit_status: None,
                output: String::new(),
                took: started.elapsed(),
                note: Some(clean(&format!("could not start: {error}"), 300)),
            };
        }
    };
    let group = child.id();
    let mut printed = Printed::default();
    let mut out = child.stdout.take();
    let mut err = child.stderr.take();
    let deadline = started + timeout;
    // The output read as it comes while the command runs (a full pipe would stall it).
    let status = tokio::select! {
        status = wait(&mut child, deadline) => status,
        () = printed.read(&mut out, &mut err, None) => wait(&mut child, deadline).await,
    };
    let timed_out = status.is_none() && Instant::now() >= deadline;
    if timed_out {
        kill_group(group);
        let _ = child.wait().await;
    }
    // What is left in the pipes, unless something the command started keeps them open.
    printed
        .read(&mut out, &mut err, Some(Instant::now() + DRAIN))
        .await;
    let took = started.elapsed();
    let (done, exit_status, note) = match status {
        Some(status) if status.success() => (Done::Succeeded, Some(0), None),
        Some(status) => (Done::Failed, status.code(), ended_by_signal(status)),
        None if timed_out => (
            Done::Failed,
            None,
            Some(format!(
                "timed out after {}: its process group was killed",
                humantime::format_duration(timeout)
            )),
        ),
        None => (
            Done::Failed,
            None,
            Some("its end could not be read".to_owned()),
        ),
    };
    Ran {
        done,
        exit_status,
        output: printed.text(),
        took,
        note,
    }
}

/// The command's exit status, unless it is still running at `deadline` (or cannot be read).
async fn wait(child: &mut tokio::process::Child, deadline: Instant) -> Option<ExitStatus> {
    tokio::select! {
        status = child.wait() => status.ok(),
        () = sleep_until(deadline) => None,
    }
}

/// A variable a command gets only with `--pass-key`: the key's, or the watcher's own.
fn is_secret(name: &OsStr) -> bool {
    let name = name.to_string_lossy();
    KEY_ENV_VARS.contains(&name.as_ref()) || name.starts_with("FAILOVER_WATCH_")
}

fn ended_by_signal(status: ExitStatus) -> Option<String> {
    status
        .signal()
        .map(|signal| format!("ended by signal {signal}"))
}

/// Kills every process of the command's group.
fn kill_group(group: Option<u32>) {
    let pid = group
        .and_then(|id| i32::try_from(id).ok())
        .and_then(rustix::process::Pid::from_raw);
    if let Some(pid) = pid {
        let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
    }
}

/// What a command printed, its first [`OUTPUT_LIMIT`] bytes kept, the rest counted.
#[derive(Debug, Default)]
struct Printed {
    kept: Vec<u8>,
    more: u64,
}

impl Printed {
    fn take(&mut self, bytes: &[u8]) {
        let room = OUTPUT_LIMIT
            .saturating_sub(self.kept.len())
            .min(bytes.len());
        self.kept.extend_from_slice(&bytes[..room]);
        self.more += (bytes.len() - room) as u64;
    }

    /// Reads both pipes as they come until both end (or `until`).
    async fn read<O, E>(&mut self, out: &mut Option<O>, err: &mut Option<E>, until: Option<Instant>)
    where
        O: AsyncRead + Unpin,
        E: AsyncRead + Unpin,
    {
        let mut out_buf = [0u8; 8192];
        let mut err_buf = [0u8; 8192];
        while out.is_some() || err.is_some() {
            tokio::select! {
                read = read_some(out.as_mut(), &mut out_buf) => match read {
                    Some(n) => self.take(&out_buf[..n]),
                    None => *out = None,
                },
                read = read_some(err.as_mut(), &mut err_buf) => match read {
                    Some(n) => self.take(&err_buf[..n]),
                    None => *err = None,
                },
                () = sleep_until(until.unwrap_or_else(Instant::now)), if until.is_some() => return,
            }
        }
    }

    /// The output on one line, cleaned, with a note when it was cut.
    fn text(&self) -> String {
        let text = clean(&String::from_utf8_lossy(&self.kept), OUTPUT_LIMIT);
        match self.more {
            0 => text,
            more => format!("{text} [output cut at 64 KiB: {more} more bytes]"),
        }
    }
}

/// The next bytes of a pipe; `None` at its end (or for a pipe already closed: never ready).
async fn read_some<R: AsyncRead + Unpin>(pipe: Option<&mut R>, buf: &mut [u8]) -> Option<usize> {
    match pipe {
        Some(pipe) => match pipe.read(buf).await {
            Ok(0) | Err(_) => None,
            Ok(n) => Some(n),
        },
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LONG: Duration = Duration::from_secs(20);

    #[tokio::test]
    async fn a_command_s_status_and_output_are_kept_cleaned() {
        let ran = run(
            "printf 'scaled\\033[31m red\\n'; echo warned >&2",
            LONG,
            false,
        )
        .await;
        assert_eq!(
            (ran.done, ran.exit_status, ran.note),
            (Done::Succeeded, Some(0), None)
        );
        // Both streams, as they came; controls gone, lines joined.
        assert!(
            ["scaled red warned", "warned scaled red"].contains(&ran.output.as_str()),
            "{}",
            ran.output
        );
        let ran = run("exit 7", LONG, false).await;
        assert_eq!((ran.done, ran.exit_status), (Done::Failed, Some(7)));
        assert_eq!(ran.said(), "exit 7");
        let ran = run("kill -TERM $$", LONG, false).await;
        assert_eq!((ran.done, ran.exit_status), (Done::Failed, None));
        assert_eq!(ran.said(), "ended by signal 15");
    }

    #[tokio::test]
    async fn a_key_the_process_holds_is_blanked_out_of_the_output() {
        crate::sys::secret::blank_out("sk-drill-shell-secret");
        let ran = run("echo token=sk-drill-shell-secret", LONG, false).await;
        assert_eq!(ran.output, "token=[API key]");
    }

    #[tokio::test]
    async fn the_output_is_cut_at_64_kib_with_a_note() {
        let ran = run("head -c 70000 /dev/zero | tr '\\000' a", LONG, false).await;
        assert_eq!(ran.done, Done::Succeeded);
        let (kept, note) = ran.output.split_once(' ').unwrap();
        assert_eq!(kept, "a".repeat(OUTPUT_LIMIT));
        assert_eq!(note, "[output cut at 64 KiB: 4464 more bytes]");
    }

    #[tokio::test]
    async fn a_timeout_kills_everything_the_command_started() {
        let dir = std::env::temp_dir().join(format!("fw-shell-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let pid_file = dir.join("pid");
        let command = format!("sleep 30 & echo $! > {}; sleep 30", pid_file.display());
        let started = Instant::now();
        let ran = run(&command, Duration::from_millis(300), false).await;
        assert!(started.elapsed() < Duration::from_secs(5));
        assert_eq!((ran.done, ran.exit_status), (Done::Failed, None));
        assert_eq!(
            ran.note.as_deref(),
            Some("timed out after 300ms: its process group was killed")
        );
        let pid = std::fs::read_to_string(&pid_file).unwrap();
        let proc = std::path::PathBuf::from(format!("/proc/{}", pid.trim()));
        // Killed with its group (a zombie until its parent, reparented, reaps it).
        let alive =
            || std::fs::read_to_string(proc.join("stat")).is_ok_and(|stat| !stat.contains(") Z "));
        let deadline = Instant::now() + Duration::from_secs(5);
        while alive() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(!alive(), "the background sleep outlived the timeout");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn a_process_left_in_the_background_does_not_hold_the_step() {
        let started = Instant::now();
        let ran = run("sleep 3 & echo started", LONG, false).await;
        assert_eq!(
            (ran.done, ran.output.as_str()),
            (Done::Succeeded, "started")
        );
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
    }
}
