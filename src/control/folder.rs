//! The folder of the sockets, one `<pid>.sock` per running watcher, and the user's alone:
//! anyone else who could write in it could plant a socket that answers in a watcher's stead.

use std::fs::{self, DirBuilder};
use std::io;
use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::path::{Path, PathBuf};

use futures::future::join_all;
use tokio::net::UnixStream;
use tokio::time::{Instant, timeout_at};

use super::EXCHANGE_TIMEOUT;

/// `$XDG_RUNTIME_DIR/failover-watch/`, else `/tmp/failover-watch-<uid>/`: the same for every
/// process of the user, whatever its environment's temporary directory.
pub fn default_dir() -> PathBuf {
    let runtime_dir = std::env::var_os("XDG_RUNTIME_DIR")
        .map(PathBuf::from)
        .filter(|dir| dir.is_absolute());
    match runtime_dir {
        Some(dir) => dir.join("failover-watch"),
        None => {
            // Without a user id the folder's check refuses whatever is there, with the reason.
            let user = own_uid().map_or_else(|_| "unknown".to_owned(), |uid| uid.to_string());
            PathBuf::from(format!("/tmp/failover-watch-{user}"))
        }
    }
}

/// Our user id: the owner of our own `/proc` entry (no libc needed).
fn own_uid() -> io::Result<u32> {
    fs::metadata("/proc/self")
        .map(|meta| meta.uid())
        .map_err(|error| {
            io::Error::new(
                error.kind(),
                format!("cannot tell our user id from /proc/self: {error}"),
            )
        })
}

/// Makes `dir` (0700) if it is missing, then checks that it is ours alone.
pub fn create_private(dir: &Path) -> io::Result<()> {
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|error| {
            io::Error::new(
                error.kind(),
                format!("cannot create {}: {error}", dir.display()),
            )
        })?;
    check_private(dir)
}

/// Refuses a folder that is not ours, that others can write in, or that is a symbolic link
/// (anyone can leave one in `/tmp`).
pub fn check_private(dir: &Path) -> io::Result<()> {
    let refuse = |why: String| {
        Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!("refusing to use {}: {why}", dir.display()),
        ))
    };
    let meta = fs::symlink_metadata(dir).map_err(|error| at(dir, error))?;
    if meta.file_type().is_symlink() {
        return refuse("it is a symbolic link".to_owned());
    }
    if !meta.is_dir() {
        return refuse("it is not a folder".to_owned());
    }
    let uid = own_uid()?;
    if meta.uid() != uid {
        return refuse(format!(
            "it belongs to user {}, not to us ({uid})",
            meta.uid()
        ));
    }
    if meta.mode() & 0o022 != 0 {
        return refuse(format!(
            "group or others can write in it (mode {:o}); chmod 700 it",
            meta.mode() & 0o777
        ));
    }
    Ok(())
}

/// `error` with the path it happened at (an operating system's own message names none).
fn at(path: &Path, error: io::Error) -> io::Error {
    io::Error::new(error.kind(), format!("{}: {error}", path.display()))
}

/// A watcher's socket, as found in the folder.
#[derive(Debug)]
pub struct Socket {
    pub pid: u32,
    pub path: PathBuf,
}

/// Where the watcher of process `pid` listens.
pub fn socket_path(dir: &Path, pid: u32) -> PathBuf {
    dir.join(format!("{pid}.sock"))
}

/// The sockets in `dir`, by pid; files not named `<pid>.sock` are not ours and left alone.
pub fn sockets(dir: &Path) -> io::Result<Vec<Socket>> {
    let mut found = Vec::new();
    for entry in fs::read_dir(dir).map_err(|error| at(dir, error))? {
        let entry = entry.map_err(|error| at(dir, error))?;
        if let Some(pid) = entry.file_name().to_str().and_then(pid_of) {
            found.push(Socket {
                pid,
                path: entry.path(),
            });
        }
    }
    found.sort_by_key(|socket| socket.pid);
    Ok(found)
}

/// The pid in a socket's file name: digits only (`u32::from_str` would take `+12` too).
fn pid_of(file_name: &str) -> Option<u32> {
    let digits = file_name.strip_suffix(".sock")?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok().filter(|&pid| pid != 0)
}

/// Whether process `pid` still exists.
pub fn process_alive(pid: u32) -> bool {
    Path::new("/proc").join(pid.to_string()).exists()
}

/// A connection error that means no watcher is behind the socket file any more.
pub fn nobody_listens(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionRefused | io::ErrorKind::NotFound
    )
}

/// Removes the sockets of watchers that are gone, but ours: their process has ended, or nothing
/// listens any more (a watcher that was killed). A busy or slow one is kept.
pub async fn remove_stale(dir: &Path) -> io::Result<()> {
    let mut sockets = sockets(dir)?;
    sockets.retain(|socket| socket.pid != std::process::id());
    let stale = join_all(sockets.iter().map(is_stale)).await;
    for (socket, stale) in sockets.iter().zip(stale) {
        if stale {
            tracing::debug!(path = %socket.path.display(), "stale control socket removed");
            let _ = fs::remove_file(&socket.path);
        }
    }
    Ok(())
}

async fn is_stale(socket: &Socket) -> bool {
    let deadline = Instant::now() + EXCHANGE_TIMEOUT;
    matches!(connect(socket, deadline).await, Err(Reach::Stale))
}

/// Why a watcher's socket could not be reached.
pub enum Reach {
    /// Its process has ended, or nothing listens any more: left behind.
    Stale,
    /// Not connected by the deadline: busy or slow, not gone.
    TimedOut,
    Failed(io::Error),
}

/// A connection to the watcher behind `socket`, by `deadline`.
pub async fn connect(socket: &Socket, deadline: Instant) -> Result<UnixStream, Reach> {
    if !process_alive(socket.pid) {
        return Err(Reach::Stale);
    }
    match timeout_at(deadline, UnixStream::connect(&socket.path)).await {
        Err(_) => Err(Reach::TimedOut),
        Ok(Err(error)) if nobody_listens(&error) => Err(Reach::Stale),
        Ok(Err(error)) => Err(Reach::Failed(error)),
        Ok(Ok(stream)) => Ok(stream),
    }
}
