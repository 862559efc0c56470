//! The watcher's side: a socket that turns each request into a [`MarkRequest`] for the owner of
//! the state, and its answer into the reply.

use std::fs::{self, Permissions};
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio::time::timeout;

use super::folder::{self, default_dir};
use super::{
    ANSWER_TIMEOUT, EXCHANGE_TIMEOUT, MAX_LINE_BYTES, Reply, Request, clean_label, read_line,
    unix_ms, write_line,
};

/// After a failed accept (out of file descriptors...), so as not to spin on it.
const ACCEPT_RETRY_PAUSE: Duration = Duration::from_millis(100);

/// A labelled marker asked for from outside; the owner of the state drops it, if it takes it
/// before `deadline`, and answers its number on `answer` (nothing after the deadline: the
/// client hears it was not dropped).
#[derive(Debug)]
pub struct MarkRequest {
    /// Already cleaned: one line, no controls, at most 120 characters.
    pub label: Option<String>,
    pub deadline: tokio::time::Instant,
    pub answer: oneshot::Sender<u32>,
}

/// The socket of this process, listening until dropped; dropping it removes the file.
#[derive(Debug)]
pub struct ControlSocket {
    path: PathBuf,
    accepting: JoinHandle<()>,
}

impl Drop for ControlSocket {
    fn drop(&mut self) {
        self.accepting.abort();
        let _ = fs::remove_file(&self.path);
    }
}

/// Listens in [`default_dir`]; each request is sent on `marks`. Call it within the runtime.
pub fn listen(marks: mpsc::Sender<MarkRequest>) -> io::Result<ControlSocket> {
    listen_in(&default_dir(), marks)
}

/// Listens in `dir` (made 0700 if missing, refused if others could write in it); each request
/// is sent on `marks`. Call it within the runtime.
pub fn listen_in(dir: &Path, marks: mpsc::Sender<MarkRequest>) -> io::Result<ControlSocket> {
    folder::create_private(dir)?;
    let path = folder::socket_path(dir, std::process::id());
    // No other process has our pid: a file of that name is left from one that had it.
    let _ = fs::remove_file(&path);
    let listener = UnixListener::bind(&path).map_err(|error| {
        io::Error::new(
            error.kind(),
            format!("cannot listen at {}: {error}", path.display()),
        )
    })?;
    if let Err(error) = fs::set_permissions(&path, Permissions::from_mode(0o600)) {
        drop(listener);
        let _ = fs::remove_file(&path);
        return Err(io::Error::new(
            error.kind(),
            format!("cannot make {} private: {error}", path.display()),
        ));
    }
    tracing::info!(path = %path.display(), "control socket listening");
    let accepting = tokio::spawn(accept(dir.to_owned(), listener, marks));
    Ok(ControlSocket { path, accepting })
}

/// Removes the sockets of watchers that are gone, then accepts until aborted; each connection
/// in its own task, so that none holds another. Connections wait in the backlog meanwhile.
async fn accept(dir: PathBuf, listener: UnixListener, marks: mpsc::Sender<MarkRequest>) {
    if let Err(error) = folder::remove_stale(&dir).await {
        tracing::warn!(%error, dir = %dir.display(), "cannot look for stale control sockets");
    }
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                tokio::spawn(serve(stream, marks.clone()));
            }
            Err(error) => {
                tracing::warn!(%error, "control socket: cannot accept a connection");
                tokio::time::sleep(ACCEPT_RETRY_PAUSE).await;
            }
        }
    }
}

/// One request, one reply, within [`EXCHANGE_TIMEOUT`]; a client that sends nothing is dropped
/// without one.
async fn serve(mut stream: UnixStream, marks: mpsc::Sender<MarkRequest>) {
    let _ = timeout(EXCHANGE_TIMEOUT, async {
        let reply = answer(&mut stream, &marks).await;
        // The client may be gone already: nobody to tell.
        let _ = write_line(&mut stream, &reply).await;
    })
    .await;
}

async fn answer(stream: &mut UnixStream, marks: &mpsc::Sender<MarkRequest>) -> Reply {
    let line = match read_line(stream).await {
        Ok(Some(line)) => line,
        Ok(None) => return Reply::Error(format!("request longer than {MAX_LINE_BYTES} bytes")),
        Err(error) => return Reply::Error(format!("cannot read the request: {error}")),
    };
    let request: Request = match serde_json::from_slice(&line) {
        Ok(request) => request,
        Err(error) => {
            return Reply::Error(format!(
                r#"not a request ({error}); expected {{"mark":"label"}} or {{"mark":null}}"#
            ));
        }
    };
    let left = match request.deadline_ms {
        Some(deadline) => Duration::from_millis(deadline.saturating_sub(unix_ms())),
        None => ANSWER_TIMEOUT,
    };
    if left.is_zero() {
        return Reply::Error(
            "the request came too late (the watcher was stopped or busy): no \
                             marker dropped"
                .to_owned(),
        );
    }
    let deadline = tokio::time::Instant::now() + left;
    let (answer, answered) = oneshot::channel();
    let asked = MarkRequest {
        label: request.mark.as_deref().and_then(clean_label),
        deadline,
        answer,
    };
    // The owner answers at once or not at all: a moment past the deadline for the answer to
    // come back.
    let marker = tokio::time::timeout_at(deadline + ANSWER_TRAVEL, async {
        if marks.send(asked).await.is_err() {
            return Err("the watcher is shutting down");
        }
        answered
            .await
            .map_err(|_| "the watcher took it too late (stopped or busy): no marker dropped")
    })
    .await;
    match marker {
        Ok(Ok(marker)) => Reply::Marker(marker),
        Ok(Err(why)) => Reply::Error(why.to_owned()),
        Err(_) => Reply::Error("the watcher did not answer in time: no marker dropped".into()),
    }
}

/// How long an answer the owner gave at its deadline may take to come back.
const ANSWER_TRAVEL: Duration = Duration::from_millis(100);
