//! The control socket: a running watcher (dashboard or headless) takes labelled markers from
//! outside, so that a script can put the moment of its change on the timeline:
//! `failover-watch mark "scale down" && oc scale ... --replicas=0`.
//!
//! Each watcher listens on `<pid>.sock` in a folder that is the user's alone:
//! `$XDG_RUNTIME_DIR/failover-watch/`, else `/tmp/failover-watch-<uid>/`.
//! One request per connection, one JSON line each way:
//!
//! ```text
//!   failover-watch mark "scale down"          watcher <pid>
//!   --------------------------------          ---------------------------------------------
//!   connect DIR/<pid>.sock       ---------->  accept: a task per connection, 2 s at most
//!   {"mark":"scale down"}\n      ---------->  label cleaned -> MarkRequest -> owner of the state
//!                                                                   drops marker 3, answers 3
//!   {"marker":3}\n               <----------  (or {"error":"..."}: bad request, owner gone)
//! ```
//!
//! The watcher's side is [`listen`]: the owner of the state receives [`MarkRequest`]s in its
//! loop, drops each marker and answers its number. The `mark` command's side is [`mark`]: it
//! reaches every running watcher of the user, or the one of `--to <pid>`, and removes the
//! sockets left behind by watchers that are gone.

mod client;
mod folder;
mod server;

use std::io;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};

use crate::text::sanitize;

pub use client::{label_as_kept, mark};
pub use server::{MarkRequest, listen};

/// The longest a connection lasts, on either side: neither a stuck client nor a stuck watcher
/// holds the other.
const EXCHANGE_TIMEOUT: Duration = Duration::from_secs(2);

/// How long a request stays good: the watcher drops the marker only within it, and answers
/// before the client gives up ([`EXCHANGE_TIMEOUT`]). Dropping and answering are one
/// decision: a watcher stopped (`SIGSTOP`) or busy past it drops nothing and says so.
const ANSWER_TIMEOUT: Duration = Duration::from_millis(1500);

/// The longest line either side reads, its newline not counted: a request is a label.
const MAX_LINE_BYTES: usize = 4096;

/// The longest label kept, in characters: it has to fit on the dashboard's timeline.
const MAX_LABEL_CHARS: usize = 120;

/// `{"mark":"label","deadline_ms":1765000000000}` or `{"mark":null}`: the deadline, in
/// milliseconds since the Unix epoch, is when the request stops being good (absent: the
/// watcher's [`ANSWER_TIMEOUT`] from when it reads it).
#[derive(Debug, Serialize, Deserialize)]
struct Request {
    mark: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    deadline_ms: Option<u64>,
}

/// Now, in milliseconds since the Unix epoch: the one clock both sides of a socket share.
fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// `{"marker":3}` or `{"error":"..."}`.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Reply {
    Marker(u32),
    Error(String),
}

/// A label as shown: on one line, without controls or escape sequences, trimmed, at most
/// [`MAX_LABEL_CHARS`] characters; nothing left means no label.
fn clean_label(raw: &str) -> Option<String> {
    let label = sanitize::clean(raw, MAX_LABEL_CHARS);
    (!label.is_empty()).then_some(label)
}

/// Reads one line, or up to the end of the stream; `None` when it is longer than
/// [`MAX_LINE_BYTES`], which are all that is read of it.
async fn read_line(reader: impl AsyncRead + Unpin) -> io::Result<Option<Vec<u8>>> {
    let mut line = Vec::new();
    let mut limited = BufReader::new(reader.take(MAX_LINE_BYTES as u64 + 1));
    limited.read_until(b'\n', &mut line).await?;
    if line.last() == Some(&b'\n') {
        line.pop();
        return Ok(Some(line));
    }
    Ok((line.len() <= MAX_LINE_BYTES).then_some(line))
}

/// Writes `message` as one JSON line (JSON escapes any line break inside it).
async fn write_line(
    mut writer: impl AsyncWrite + Unpin,
    message: &impl Serialize,
) -> io::Result<()> {
    let mut line = serde_json::to_vec(message)?;
    line.push(b'\n');
    writer.write_all(&line).await?;
    writer.flush().await
}

#[cfg(test)]
mod tests;
