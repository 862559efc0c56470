//! The `mark` command's side: the request sent to every running watcher of the user, or to one.

use std::fs;
use std::io;
use std::path::Path;

use futures::future::join_all;
use tokio::net::UnixStream;
use tokio::time::{Instant, timeout_at};

use super::folder::{self, Reach, Socket, default_dir};
use super::{
    ANSWER_TIMEOUT, EXCHANGE_TIMEOUT, Reply, Request, clean_label, read_line, unix_ms, write_line,
};
use crate::text::sanitize;

/// A watcher that took the marker: its pid and the marker's number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delivered {
    pub pid: u32,
    pub marker: u32,
}

/// How one watcher took the request.
enum Outcome {
    Delivered(u32),
    /// Its watcher is gone: the socket file was left behind.
    Stale,
    Failed(String),
}

/// Drops a marker labelled `label` on every watcher of the user in [`default_dir`], or on the
/// one of process `to`; the watchers reached, or why none was.
pub async fn mark(label: Option<&str>, to: Option<u32>) -> Result<Vec<Delivered>, String> {
    mark_in(&default_dir(), label, to).await
}

/// The label as every watcher keeps it and `mark` says it: cleaned, cut, or none.
pub fn label_as_kept(label: Option<&str>) -> Option<String> {
    label.and_then(clean_label)
}

/// [`mark`] for the watchers listening in `dir`. The sockets of watchers that are gone are
/// removed on the way.
pub async fn mark_in(
    dir: &Path,
    label: Option<&str>,
    to: Option<u32>,
) -> Result<Vec<Delivered>, String> {
    let sockets = match folder::check_private(dir).and_then(|()| folder::sockets(dir)) {
        Ok(sockets) => sockets,
        Err(error) if error.kind() == io::ErrorKind::NotFound => Vec::new(),
        Err(error) => return Err(error.to_string()),
    };
    if sockets.is_empty() {
        return Err(format!(
            "no failover-watch is running for this user (no socket in {})",
            dir.display()
        ));
    }
    let targets: Vec<&Socket> = sockets
        .iter()
        .filter(|socket| to.is_none_or(|pid| socket.pid == pid))
        .collect();
    if let Some(pid) = to
        && targets.is_empty()
    {
        let names: Vec<String> = sockets
            .iter()
            .map(|socket| format!("{}.sock", socket.pid))
            .collect();
        return Err(format!(
            "no failover-watch with pid {pid} is running (sockets in {}: {})",
            dir.display(),
            names.join(", ")
        ));
    }
    // Cleaned here too, so that a long label is cut rather than refused. Good until a moment
    // before this side gives up, so that the watcher drops it only if it can still say so.
    let request = Request {
        mark: label_as_kept(label),
        deadline_ms: Some(unix_ms() + u64::try_from(ANSWER_TIMEOUT.as_millis()).unwrap_or(0)),
    };
    let outcomes = join_all(targets.iter().map(|socket| deliver(socket, &request))).await;

    let mut delivered = Vec::new();
    let mut failures = Vec::new();
    for (socket, outcome) in targets.iter().zip(outcomes) {
        match outcome {
            Outcome::Delivered(marker) => delivered.push(Delivered {
                pid: socket.pid,
                marker,
            }),
            Outcome::Stale => {
                let _ = fs::remove_file(&socket.path);
            }
            Outcome::Failed(why) => failures.push(format!("pid {}: {why}", socket.pid)),
        }
    }
    if !delivered.is_empty() {
        return Ok(delivered);
    }
    if !failures.is_empty() {
        return Err(format!(
            "no failover-watch took the marker: {}",
            failures.join("; ")
        ));
    }
    Err(match to {
        Some(pid) => format!(
            "no failover-watch with pid {pid} is running (its socket in {} was left behind; removed)",
            dir.display()
        ),
        None => format!(
            "no failover-watch is running for this user (only sockets left behind in {}; removed)",
            dir.display()
        ),
    })
}

/// One exchange, within [`EXCHANGE_TIMEOUT`] from connecting to the reply.
async fn deliver(socket: &Socket, request: &Request) -> Outcome {
    let deadline = Instant::now() + EXCHANGE_TIMEOUT;
    let too_late = || Outcome::Failed(format!("no answer within {} s", EXCHANGE_TIMEOUT.as_secs()));
    let mut stream = match folder::connect(socket, deadline).await {
        Err(Reach::Stale) => return Outcome::Stale,
        Err(Reach::TimedOut) => return too_late(),
        Err(Reach::Failed(error)) => return Outcome::Failed(format!("cannot connect: {error}")),
        Ok(stream) => stream,
    };
    match timeout_at(deadline, ask(&mut stream, request)).await {
        Err(_) => too_late(),
        Ok(Err(error)) => Outcome::Failed(error.to_string()),
        Ok(Ok(Reply::Marker(marker))) => Outcome::Delivered(marker),
        Ok(Ok(Reply::Error(why))) => Outcome::Failed(sanitize::clean(&why, 200)),
    }
}

async fn ask(stream: &mut UnixStream, request: &Request) -> io::Result<Reply> {
    write_line(&mut *stream, request).await?;
    let line = read_line(&mut *stream)
        .await?
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "answer too long"))?;
    if line.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "closed without an answer",
        ));
    }
    serde_json::from_slice(&line).map_err(|error| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("unreadable answer: {error}"),
        )
    })
}
