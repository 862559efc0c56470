//! The metrics port under a flood, as the bug report had it: 1,200 idle connections to a
//! watcher allowed 1,024 open files. No probe may fail for want of descriptors (an outage that
//! never happened), and `/healthz` keeps answering. The watcher is the real binary; the proxy
//! answers each probe on a connection of its own, so every probe needs a new descriptor.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout, timeout_at};

mod common;

use common::{ReplayServer, Scratch, capture, clean_command, json_lines, refused_addr};

const BIN: &str = env!("CARGO_BIN_EXE_failover-watch");
/// Connections of the flood: more than the watcher may open files.
const FLOOD: usize = 1200;
/// The longest the watcher may take to start, or to end after its `--duration`.
const LIMIT: Duration = Duration::from_secs(30);

/// The recorded proxy's answer from the primary to every probe, each on a connection of its
/// own (`connection: close`).
async fn closing_proxy() -> ReplayServer {
    let mut answer = capture("01b-primary-ok.http");
    answer.headers.push(("connection".into(), "close".into()));
    ReplayServer::start(vec![answer], None).await
}

/// A watcher under `limits` (a `ulimit` command) probing `proxy` every 100 ms for `duration`,
/// its metrics on `addr`, its lines sent to the receiver as they come.
fn watcher(
    scratch: &Scratch,
    limits: &str,
    proxy: &ReplayServer,
    addr: SocketAddr,
    duration: &str,
) -> (Child, mpsc::Receiver<String>) {
    let shell = format!("{limits} && exec \"$0\" \"$@\"");
    let url = proxy.url();
    let listen = addr.to_string();
    let mut child = clean_command(
        "sh",
        scratch,
        &[
            "-c",
            &shell,
            BIN,
            "--url",
            &url,
            "--duration",
            duration,
            "--interval",
            "100ms",
            "--direct",
            "off",
            "--output",
            "jsonl",
            "--metrics-listen",
            &listen,
        ],
    )
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::null())
    .spawn()
    .unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let (lines, received) = mpsc::channel();
    std::thread::spawn(move || {
        for line in stdout.lines().map_while(Result::ok) {
            let _ = lines.send(line);
        }
    });
    (child, received)
}

/// Waits for the watcher's first line, its run: the metrics port is bound by then.
fn started(lines: &mpsc::Receiver<String>) -> String {
    lines
        .recv_timeout(LIMIT)
        .expect("the watcher printed nothing")
}

/// The status of `GET /healthz` on a connection of its own.
async fn healthz(addr: SocketAddr) -> std::io::Result<u16> {
    let mut stream = TcpStream::connect(addr).await?;
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await?;
    Ok(answer
        .split_whitespace()
        .nth(1)
        .and_then(|status| status.parse().ok())
        .unwrap_or(0))
}

/// Asserts `/healthz` answers 200, within a few seconds (a second on a quiet machine, see
/// tests/bench/metrics-flood.sh; other tests share the cores here; without the fix it never
/// answers).
async fn healthz_answers(addr: SocketAddr, when: &str) {
    let status = timeout(Duration::from_secs(5), healthz(addr))
        .await
        .unwrap_or_else(|_| panic!("/healthz did not answer within 5 s {when}"));
    assert_eq!(status.unwrap(), 200, "/healthz {when}");
}

/// The soft limit of open files raised to the hard one, for the flood's own connections.
fn allow_open_files(wanted: u64) {
    let limit = getrlimit(Resource::Nofile);
    if limit.current.is_some() && limit.current != limit.maximum {
        let raised = Rlimit {
            current: limit.maximum,
            ..limit
        };
        setrlimit(Resource::Nofile, raised).unwrap();
    }
    let allowed = getrlimit(Resource::Nofile).current;
    assert!(
        allowed.is_none_or(|n| n >= wanted),
        "this test opens {wanted} files; the hard limit allows {allowed:?}"
    );
}

/// The soft and hard limits of open files of process `pid`.
fn open_files_limits(pid: u32) -> (String, String) {
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).unwrap();
    let line = limits
        .lines()
        .find(|line| line.starts_with("Max open files"))
        .unwrap();
    let mut values = line["Max open files".len()..].split_whitespace();
    (
        values.next().unwrap().to_owned(),
        values.next().unwrap().to_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_idle_connections_fails_no_probe_and_healthz_answers() {
    allow_open_files(FLOOD as u64 + 100);
    let scratch = Scratch::new("metrics-flood");
    let proxy = closing_proxy().await;
    let addr = refused_addr();
    let (mut child, lines) = watcher(&scratch, "ulimit -n 1024", &proxy, addr, "7s");
    started(&lines);
    healthz_answers(addr, "before the flood").await;

    // Idle connections, every third a request head that never ends.
    let mut flood = Vec::with_capacity(FLOOD);
    let connecting = async {
        for n in 0..FLOOD {
            let mut stream = TcpStream::connect(addr)
                .await
                .unwrap_or_else(|error| panic!("connection {n} of the flood: {error}"));
            if n % 3 == 0 {
                stream
                    .write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
                    .await
                    .unwrap();
            }
            flood.push(stream);
            if n == FLOOD / 2 {
                healthz_answers(addr, "halfway through the flood").await;
            }
        }
    };
    timeout(LIMIT, connecting)
        .await
        .expect("the flood connects");
    let flooded = Instant::now();
    healthz_answers(addr, "with the flood open").await;
    // All of them closed by the watcher: the oldest at its cap, the rest when their request
    // head is two seconds late.
    let deadline = flooded + Duration::from_secs(5);
    for (n, stream) in flood.iter_mut().enumerate() {
        let closed = timeout_at(deadline, stream.read_to_end(&mut Vec::new())).await;
        assert!(
            closed.is_ok(),
            "connection {n} still open 5 s after the flood"
        );
    }

    let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    assert!(status.success(), "{status}");
    let output: String = lines.iter().map(|line| line + "\n").collect();
    let log = std::fs::read_to_string(scratch.log()).unwrap_or_default();
    assert!(!log.contains("Too many open files"), "{log}");
    let summary = json_lines(&output).pop().expect("a summary");
    assert_eq!(summary["type"], "summary", "{output}");
    assert_eq!(summary["failed"], 0, "{output}");
    assert_eq!(summary["outages"], 0, "{output}");
    assert!(summary["total"].as_u64() > Some(30), "{output}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serving_metrics_raises_the_soft_limit_of_open_files_to_the_hard_one() {
    let scratch = Scratch::new("metrics-nofile");
    let proxy = closing_proxy().await;
    let addr = refused_addr();
    let (mut child, lines) = watcher(&scratch, "ulimit -S -n 256", &proxy, addr, "1s");
    started(&lines);
    let (soft, hard) = open_files_limits(child.id());
    assert_eq!(soft, hard);
    let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    assert!(status.success(), "{status}");
}
