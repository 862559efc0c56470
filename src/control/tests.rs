//! The control socket on real Unix sockets, each test in a folder of its own.

use std::fs;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::client::{Delivered, mark_in};
use super::folder::{default_dir, socket_path};
use super::server::{ControlSocket, listen_in};
use super::*;

/// A folder of its own (0700, as a watcher would make it), removed at the end.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let path = std::env::temp_dir().join(format!(
            "fw-control-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = fs::remove_dir_all(&path);
        fs::DirBuilder::new().mode(0o700).create(&path).unwrap();
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// Runs `test` in a folder of its own, bounded: a hang fails it instead of holding the suite.
async fn in_a_folder(test: impl AsyncFnOnce(&Path)) {
    let dir = TempDir::new();
    tokio::time::timeout(Duration::from_secs(10), test(&dir.0))
        .await
        .expect("the test took more than 10 s");
}

/// An owner that answers 1, 2, 3... and, once every sender is gone, the labels it was given.
fn owner() -> (mpsc::Sender<MarkRequest>, JoinHandle<Vec<Option<String>>>) {
    let (marks, mut requests) = mpsc::channel::<MarkRequest>(4);
    let answering = tokio::spawn(async move {
        let mut labels = Vec::new();
        while let Some(request) = requests.recv().await {
            labels.push(request.label);
            let _ = request.answer.send(labels.len() as u32);
        }
        labels
    });
    (marks, answering)
}

/// A watcher listening in `dir` for an [`owner`]: its socket (the owner's labels come once it
/// is dropped) and the owner.
fn listening(dir: &Path) -> (ControlSocket, JoinHandle<Vec<Option<String>>>) {
    let (marks, answering) = owner();
    (listen_in(dir, marks).unwrap(), answering)
}

/// Sends `line` as is and returns the raw reply line. Only the line: after a request it did not
/// read to its end, the watcher's close resets the connection.
async fn exchange_raw(socket: &Path, line: &[u8]) -> String {
    let mut stream = UnixStream::connect(socket).await.unwrap();
    stream.write_all(line).await.unwrap();
    let mut reply = String::new();
    BufReader::new(stream).read_line(&mut reply).await.unwrap();
    reply
}

/// Where this process listens in `dir`.
fn own_socket(dir: &Path) -> PathBuf {
    socket_path(dir, std::process::id())
}

fn me(marker: u32) -> Vec<Delivered> {
    vec![Delivered {
        pid: std::process::id(),
        marker,
    }]
}

/// The socket file `name` in `dir`, made as a killed watcher leaves it: nothing listens on it
/// any more.
fn left_behind(dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(name);
    drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
    assert!(path.exists());
    path
}

#[tokio::test]
async fn a_mark_reaches_the_owner_and_comes_back_with_its_number() {
    in_a_folder(async |dir| {
        let (socket, answering) = listening(dir);
        assert!(own_socket(dir).exists());

        assert_eq!(mark_in(dir, Some("scale down"), None).await, Ok(me(1)));
        let to_me = Some(std::process::id());
        assert_eq!(mark_in(dir, None, to_me).await, Ok(me(2)));
        assert_eq!(mark_in(dir, Some("  \n "), None).await, Ok(me(3)));

        drop(socket);
        let labels = answering.await.unwrap();
        assert_eq!(labels, [Some("scale down".to_owned()), None, None]);
    })
    .await;
}

#[test]
fn labels_are_one_clean_line_of_at_most_120_characters() {
    assert_eq!(
        clean_label("  \u{1b}[31mscale\u{1b}[0m\tdown\r\n").as_deref(),
        Some("scale down")
    );
    assert_eq!(clean_label("\u{1b}]0;title\u{7}\u{1b}[2J\u{0}"), None);
    assert_eq!(clean_label(""), None);
    for long in ["x".repeat(500), "é".repeat(500), "你好".repeat(250)] {
        let label = clean_label(&long).unwrap();
        assert_eq!(label.chars().count(), MAX_LABEL_CHARS);
        assert!(long.starts_with(label.trim_end_matches('…')));
    }
}

#[tokio::test]
async fn the_watcher_cleans_the_label_whoever_sends_it() {
    in_a_folder(async |dir| {
        let (socket, answering) = listening(dir);

        let raw = r#"{"mark":"\u001b[2J\u001b[Hwiped \u202eevil\n"}"#;
        let reply = exchange_raw(&own_socket(dir), format!("{raw}\n").as_bytes()).await;
        assert_eq!(reply, "{\"marker\":1}\n");
        let long = "é".repeat(500);
        assert_eq!(mark_in(dir, Some(&long), None).await, Ok(me(2)));

        drop(socket);
        let labels = answering.await.unwrap();
        assert_eq!(labels[0].as_deref(), Some("wiped evil"));
        let cut = labels[1].as_deref().unwrap();
        assert_eq!(cut.chars().count(), MAX_LABEL_CHARS);
    })
    .await;
}

#[tokio::test]
async fn a_pid_that_is_not_there_is_said_with_the_sockets_that_are() {
    in_a_folder(async |dir| {
        let (_socket, _answering) = listening(dir);

        let error = mark_in(dir, Some("x"), Some(4_000_000)).await.unwrap_err();
        assert_eq!(
            error,
            format!(
                "no failover-watch with pid 4000000 is running (sockets in {}: {}.sock)",
                dir.display(),
                std::process::id()
            )
        );
    })
    .await;
}

#[tokio::test]
async fn without_a_socket_nobody_is_running() {
    in_a_folder(async |dir| {
        fs::write(dir.join("notes.txt"), "not a socket").unwrap();
        let expected = format!(
            "no failover-watch is running for this user (no socket in {})",
            dir.display()
        );
        assert_eq!(mark_in(dir, None, None).await, Err(expected));

        let missing = dir.join("never-made");
        let error = mark_in(&missing, None, Some(12)).await.unwrap_err();
        assert!(error.starts_with("no failover-watch is running"), "{error}");
        assert!(!missing.exists(), "the client makes no folder");
    })
    .await;
}

#[tokio::test]
async fn a_socket_left_behind_is_skipped_and_removed() {
    in_a_folder(async |dir| {
        // Process 1 is alive: only the refused connection tells that the socket is stale.
        let stale = left_behind(dir, "1.sock");
        let error = mark_in(dir, Some("x"), None).await.unwrap_err();
        assert!(error.starts_with("no failover-watch is running"), "{error}");
        assert!(!stale.exists());

        let (_socket, _answering) = listening(dir);
        // Answered: the watcher's own look for stale sockets is behind us.
        assert_eq!(mark_in(dir, None, None).await, Ok(me(1)));
        left_behind(dir, "1.sock");
        assert_eq!(mark_in(dir, Some("x"), None).await, Ok(me(2)));
        assert!(!stale.exists());

        left_behind(dir, "1.sock");
        let error = mark_in(dir, None, Some(1)).await.unwrap_err();
        assert!(
            error.starts_with("no failover-watch with pid 1 is running"),
            "{error}"
        );
        assert!(!stale.exists());
    })
    .await;
}

#[tokio::test]
async fn listening_removes_the_sockets_of_watchers_that_are_gone_and_only_those() {
    in_a_folder(async |dir| {
        let refused = left_behind(dir, "1.sock");
        // No process can have this pid (the most Linux allows is 2^22).
        let dead = left_behind(dir, &format!("{}.sock", u32::MAX));
        let parent = std::os::unix::process::parent_id();
        let alive = dir.join(format!("{parent}.sock"));
        let _alive_listener = std::os::unix::net::UnixListener::bind(&alive).unwrap();
        let others = [dir.join("notes.txt"), dir.join("+7.sock")];
        for other in &others {
            fs::write(other, "").unwrap();
        }

        // Left by an earlier process that had our pid.
        left_behind(dir, &format!("{}.sock", std::process::id()));

        let (_socket, _answering) = listening(dir);
        // The watcher looks for stale sockets before it accepts: answered, it is done.
        let reply = exchange_raw(&own_socket(dir), b"{\"mark\":null}\n").await;
        assert_eq!(reply, "{\"marker\":1}\n");
        assert!(!refused.exists());
        assert!(!dead.exists());
        assert!(alive.exists());
        assert!(others.iter().all(|other| other.exists()));
        assert!(own_socket(dir).exists());
    })
    .await;
}

#[tokio::test]
async fn a_bad_request_gets_an_error_and_the_watcher_keeps_serving() {
    in_a_folder(async |dir| {
        let (_socket, _answering) = listening(dir);
        let path = own_socket(dir);
        // Sends nothing: must hold nobody else.
        let _stuck = UnixStream::connect(&path).await.unwrap();

        let mut long = vec![b'x'; MAX_LINE_BYTES + 1];
        long.push(b'\n');
        let reply = exchange_raw(&path, &long).await;
        assert_eq!(reply, "{\"error\":\"request longer than 4096 bytes\"}\n");

        let reply = exchange_raw(&path, b"mark please\n").await;
        assert!(reply.starts_with("{\"error\":\"not a request"), "{reply}");

        // Without its newline, up to the end of the stream.
        let mut stream = UnixStream::connect(&path).await.unwrap();
        stream.write_all(br#"{"mark":"at eof"}"#).await.unwrap();
        stream.shutdown().await.unwrap();
        let mut reply = String::new();
        stream.read_to_string(&mut reply).await.unwrap();
        assert_eq!(reply, "{\"marker\":1}\n");

        assert_eq!(mark_in(dir, Some("still here"), None).await, Ok(me(2)));
    })
    .await;
}

#[tokio::test]
async fn an_owner_gone_or_silent_is_an_error_not_a_hang() {
    in_a_folder(async |dir| {
        let (marks, requests) = mpsc::channel::<MarkRequest>(1);
        drop(requests);
        let gone = listen_in(dir, marks).unwrap();
        let error = mark_in(dir, None, None).await.unwrap_err();
        assert!(error.ends_with("the watcher is shutting down"), "{error}");
        drop(gone);

        // Takes the request but never answers: the watcher gives up first and says so.
        let (marks, mut requests) = mpsc::channel::<MarkRequest>(1);
        let _silent = listen_in(dir, marks).unwrap();
        let (error, request) = tokio::join!(mark_in(dir, None, None), requests.recv());
        let error = error.unwrap_err();
        assert!(
            error.ends_with("did not answer in time: no marker dropped"),
            "{error}"
        );
        drop(request);
    })
    .await;
}

/// Dropping a marker and answering are one decision: a request read after its deadline (a
/// watcher stopped with SIGSTOP, then resumed) never reaches the owner, and says so.
#[tokio::test]
async fn a_request_read_too_late_drops_no_marker_and_says_so() {
    in_a_folder(async |dir| {
        let (marks, answering) = owner();
        let socket = listen_in(dir, marks).unwrap();
        let stale = format!(
            r#"{{"mark":"late","deadline_ms":{}}}"#,
            super::unix_ms() - 1
        );
        let reply = exchange_raw(&own_socket(dir), format!("{stale}\n").as_bytes()).await;
        assert!(reply.contains("too late"), "{reply}");
        assert!(reply.contains("no marker dropped"), "{reply}");
        // A request still good is taken, as before.
        let good = format!(
            r#"{{"mark":"ok","deadline_ms":{}}}"#,
            super::unix_ms() + 1000
        );
        let reply = exchange_raw(&own_socket(dir), format!("{good}\n").as_bytes()).await;
        assert_eq!(reply.trim(), r#"{"marker":1}"#);
        drop(socket);
        assert_eq!(answering.await.unwrap(), [Some("ok".to_owned())]);
    })
    .await;
}

#[tokio::test]
async fn the_socket_is_private_and_removed_when_dropped() {
    in_a_folder(async |dir| {
        let folder = dir.join("made").join("here");
        let (socket, _answering) = listening(&folder);
        let path = own_socket(&folder);
        let mode = |path: &Path| fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&folder), 0o700);
        assert_eq!(mode(&path), 0o600);

        drop(socket);
        assert!(!path.exists());
        assert_eq!(
            mark_in(&folder, None, None).await.unwrap_err(),
            format!(
                "no failover-watch is running for this user (no socket in {})",
                folder.display()
            )
        );
    })
    .await;
}

#[tokio::test]
async fn a_folder_others_can_write_in_or_a_link_is_refused() {
    in_a_folder(async |dir| {
        let shared = dir.join("shared");
        fs::DirBuilder::new().mode(0o700).create(&shared).unwrap();
        fs::set_permissions(&shared, fs::Permissions::from_mode(0o770)).unwrap();
        let (marks, _answering) = owner();
        let error = listen_in(&shared, marks.clone()).unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::PermissionDenied);
        assert!(
            error
                .to_string()
                .ends_with("group or others can write in it (mode 770); chmod 700 it"),
            "{error}"
        );
        let error = mark_in(&shared, None, None).await.unwrap_err();
        assert!(error.starts_with("refusing to use"), "{error}");

        let link = dir.join("link");
        std::os::unix::fs::symlink(dir, &link).unwrap();
        let error = listen_in(&link, marks).unwrap_err();
        assert!(
            error.to_string().ends_with("it is a symbolic link"),
            "{error}"
        );
    })
    .await;
}

#[test]
fn the_default_folder_is_the_users_own() {
    let dir = default_dir();
    let name = dir.file_name().unwrap().to_string_lossy().into_owned();
    assert!(name.starts_with("failover-watch"), "{}", dir.display());
    assert!(dir.is_absolute());
}
