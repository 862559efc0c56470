//! The binary as a user runs it: usage errors, exit codes, endings, and the key kept secret.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Output, Stdio};

use common::{Hung, ReplayServer, Scratch, capture, clean_command, json_lines, refused_addr, text};

const BIN: &str = env!("CARGO_BIN_EXE_failover-watch");

/// The binary with a clean environment: no key, no colour preference, logs in `scratch`, no
/// direct probes.
fn command(scratch: &Scratch, args: &[&str]) -> Command {
    let mut command = clean_command(BIN, scratch, args);
    command
        .env("XDG_STATE_HOME", &scratch.0)
        // A recorded proxy answers in the order of its recording: no second lane of probes
        // taking turns, unless a test asks for it.
        .env("FAILOVER_WATCH_DIRECT", "off");
    command
}

fn run(scratch: &Scratch, args: &[&str]) -> Output {
    command(scratch, args).output().unwrap()
}

/// The recorded proxy: the primary answers the first request, the fallback every later one.
async fn failing_over_proxy() -> ReplayServer {
    let chat = vec![
        capture("01b-primary-ok.http"),
        capture("02a-primary-refused-1st.http"),
    ];
    ReplayServer::start(chat, None).await
}

#[test]
fn bad_configuration_exits_2_with_a_one_line_reason() {
    let scratch = Scratch::new("cli-usage");
    let cases: &[(&[&str], &str)] = &[
        (&["--interval", "0"], "from 1ms to 1h"),
        (&["--url", "nonsense"], "invalid --url"),
        (
            &["--api-key-file", "/nonexistent/key"],
            "cannot read the API key file",
        ),
        (&["--output", "html"], "invalid value 'html'"),
        (&["--max-in-flight", "0"], "--max-in-flight"),
        (&["--interval", "1us"], "from 1ms to 1h"),
        (&["--duration", "11years"], "too long"),
        (
            &["--url", "http://me:pw@127.0.0.1:4000"],
            "no user or password",
        ),
        (&["--stream", "--url", "ftp://x"], "invalid --url"),
        (&["--no-such-flag"], "unexpected argument"),
    ];
    for (args, reason) in cases {
        let out = run(&scratch, args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = text(&out.stderr);
        assert!(stderr.contains(reason), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
    let out = run(&scratch, &["--url", "ftp://x"]);
    assert_eq!(
        text(&out.stderr).lines().count(),
        1,
        "one line: {}",
        text(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn never_answered_probes_fail_a_strict_run() {
    let scratch = Scratch::new("cli-hung");
    let hung = Hung::start();
    let url = hung.url();
    let args = [
        "--url",
        &url,
        "--duration",
        "1s",
        "--interval",
        "300ms",
        // Longer than the 5 s grace: the probes end the run unanswered, not timed out.
        "--timeout",
        "10s",
        "--output",
        "jsonl",
    ];
    let out = tokio::task::spawn_blocking({
        let mut strict = command(&scratch, &args);
        // A switch from the environment, written as people write them.
        strict.env("FAILOVER_WATCH_FAIL_ON_ERROR", "yes");
        move || strict.output().unwrap()
    })
    .await
    .unwrap();
    let lines = json_lines(&text(&out.stdout));
    let summary = lines.last().unwrap();
    assert_eq!(summary["failed"], 0, "{}", text(&out.stdout));
    let abandoned = summary["abandoned"].as_u64().unwrap();
    assert!(abandoned >= 3, "{summary}");
    // Every probe sent is accounted for, and told in the order it was sent.
    assert_eq!(summary["total"], 0);
    assert_eq!(summary["sent"].as_u64(), Some(abandoned));
    let told: Vec<u64> = lines
        .iter()
        .filter(|l| l["type"] == "abandoned" && l["lane"] == "normal")
        .map(|l| l["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(told, (1..=abandoned).collect::<Vec<_>>());
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));

    // The text story counts them in its total.
    let text_args: Vec<&str> = args[..args.len() - 2]
        .iter()
        .copied()
        .chain(["--output", "text"])
        .collect();
    let story = tokio::task::spawn_blocking({
        let mut cmd = command(&scratch, &text_args);
        move || cmd.output().unwrap()
    })
    .await
    .unwrap();
    let story = text(&story.stdout);
    let unanswered = story
        .lines()
        .find_map(|l| l.strip_prefix("  • Unanswered at exit: "))
        .expect(&story);
    assert_ne!(unanswered, "0");
    assert!(
        story.contains(&format!("  • Total requests: {unanswered}\n")),
        "{story}"
    );
}

#[test]
fn help_names_every_environment_variable_the_key_sources_and_the_log_location() {
    let scratch = Scratch::new("cli-help");
    let out = run(&scratch, &["--help"]);
    assert!(out.status.success());
    let help = text(&out.stdout);
    for needle in [
        "FAILOVER_WATCH_URL",
        "FAILOVER_WATCH_INTERVAL",
        "FAILOVER_WATCH_OUTPUT",
        "LITELLM_API_KEY",
        "OPENAI_API_KEY",
        "--api-key-file",
        "--fail-on-error",
        "mock-upstream",
        "failover-watch.log",
    ] {
        assert!(help.contains(needle), "--help lacks {needle}");
    }
}

#[test]
fn an_unreachable_proxy_is_reported_per_request_and_the_run_still_ends_cleanly() {
    let scratch = Scratch::new("cli-refused");
    let url = format!("http://{}", refused_addr());
    let args = [
        "--url",
        &url,
        "--count",
        "2",
        "--interval",
        "100ms",
        "--output",
        "jsonl",
    ];
    let out = run(&scratch, &args);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let lines = json_lines(&text(&out.stdout));
    let requests: Vec<_> = lines.iter().filter(|l| l["type"] == "request").collect();
    assert_eq!(requests.len(), 2);
    for r in &requests {
        assert_eq!(r["result"], "error");
        assert_eq!(r["error_kind"], "connect");
        assert!(r["error"].as_str().unwrap().contains("cannot connect"));
    }
    let summary = lines.last().unwrap();
    assert_eq!(summary["type"], "summary");
    assert_eq!(summary["failed"], 2);

    let mut strict = args.to_vec();
    strict.push("--fail-on-error");
    assert_eq!(run(&scratch, &strict).status.code(), Some(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_key_is_never_printed_nor_logged() {
    let scratch = Scratch::new("cli-secret");
    let server = ReplayServer::start(vec![capture("09a-no-auth-header.http")], None).await;
    let key_file = scratch.0.join("key");
    std::fs::write(&key_file, "sk-file-secret-42\n").unwrap();
    let url = server.url();
    for format in ["text", "jsonl"] {
        let mut cmd = command(
            &scratch,
            &[
                "--url",
                &url,
                "--count",
                "2",
                "--interval",
                "50ms",
                "--output",
                format,
            ],
        );
        cmd.env("LITELLM_API_KEY", "sk-env-secret-17")
            .env("FAILOVER_WATCH_LOG", "trace");
        let out = cmd.output().unwrap();
        assert!(out.status.success());
        let mut file_cmd = command(
            &scratch,
            &[
                "--url",
                &url,
                "--count",
                "1",
                "--output",
                format,
                "--api-key-file",
            ],
        );
        file_cmd.arg(&key_file).env("FAILOVER_WATCH_LOG", "trace");
        let file_out = file_cmd.output().unwrap();
        assert!(file_out.status.success());
        let log = std::fs::read_to_string(scratch.log()).unwrap_or_default();
        assert!(!log.is_empty(), "trace logging wrote nothing");
        for shown in [
            &out.stdout,
            &out.stderr,
            &file_out.stdout,
            &file_out.stderr,
            log.as_bytes(),
        ] {
            let shown = text(shown);
            assert!(
                !shown.contains("sk-env-secret-17"),
                "{format}: the env key leaked"
            );
            assert!(
                !shown.contains("sk-file-secret-42"),
                "{format}: the file key leaked"
            );
        }
    }
    // ...though it was sent.
    let sent: Vec<_> = server
        .received()
        .into_iter()
        .filter_map(|r| r.authorization)
        .collect();
    assert!(sent.contains(&"Bearer sk-env-secret-17".to_owned()));
    assert!(sent.contains(&"Bearer sk-file-secret-42".to_owned()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_text_story_reads_like_the_seeds_without_colour_off_a_terminal() {
    let scratch = Scratch::new("cli-story");
    let server = ReplayServer::start(
        vec![
            capture("01b-primary-ok.http"),
            capture("02a-primary-refused-1st.http"),
            capture("02a-primary-refused-1st.http"),
            capture("01b-primary-ok.http"),
        ],
        None,
    )
    .await;
    let url = server.url();
    let out = run(
        &scratch,
        &["--url", &url, "--count", "4", "--interval", "50ms"],
    );
    assert!(out.status.success());
    let story = text(&out.stdout);
    assert!(!story.contains('\u{1b}'), "no colour off a terminal");
    let expected_in_order = [
        "LiteLLM Failover Watch",
        "  Primary Model: llama-fp8",
        "Request #1: ✓ PRIMARY",
        "           Model: llama-fp8",
        "           Response: Hi.",
        "[!] FAILOVER DETECTED: llama-fp8 → ollama/llama3",
        "Request #2: ✓ FALLBACK",
        "           Model: ollama/llama3",
        "           Response: Hello!",
        "Request #3: ✓ FALLBACK",
        "[!] RECOVERY DETECTED: ollama/llama3 → llama-fp8",
        "Request #4: ✓ PRIMARY",
        "Failover Watch Summary",
        "  • Total requests: 4",
        "  • Successful: 4",
        "  • Failed: 0",
        "  • Failover: ✓ Detected and handled",
    ];
    let mut rest = story.as_str();
    for needle in expected_in_order {
        let at = rest
            .find(needle)
            .unwrap_or_else(|| panic!("missing or out of order: {needle:?} in\n{story}"));
        rest = &rest[at + needle.len()..];
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_ends_the_run_with_the_summary_and_status_0() {
    let scratch = Scratch::new("cli-sigterm");
    let server = ReplayServer::start(vec![capture("01b-primary-ok.http")], None).await;
    let url = server.url();
    let mut child = command(
        &scratch,
        &["--url", &url, "--interval", "100ms", "--output", "jsonl"],
    )
    .stdout(Stdio::piped())
    .spawn()
    .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    assert!(first.contains("\"type\":\"run\""), "{first}");
    // A request answered (the lane's notices and LiteLLM's view may come before it).
    let mut lines = 0;
    loop {
        first.clear();
        stdout.read_line(&mut first).unwrap();
        lines += 1;
        if first.contains("\"type\":\"request\"") {
            break;
        }
        assert!(lines < 10 && !first.is_empty(), "no request line: {first}");
    }
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let rest: Vec<String> = stdout.lines().map(Result::unwrap).collect();
    let exit = child.wait().unwrap();
    assert_eq!(exit.code(), Some(0));
    let summary: serde_json::Value = serde_json::from_str(rest.last().unwrap()).unwrap();
    assert_eq!(summary["type"], "summary");
    assert!(summary["total"].as_u64().unwrap() >= 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn record_keeps_the_json_lines_whatever_the_output() {
    let scratch = Scratch::new("cli-record");
    let server = failing_over_proxy().await;
    let record = scratch.0.join("run.jsonl");
    let url = server.url();
    let record_arg = record.to_str().unwrap();
    let args = [
        "--url",
        &url,
        "--count",
        "3",
        "--interval",
        "50ms",
        "--record",
        record_arg,
        // This mock has no LiteLLM metrics: the line saying so is not what is tested here.
        "--proxy-metrics",
        "off",
    ];
    let out = run(&scratch, &args);
    assert!(out.status.success());
    assert!(
        text(&out.stdout).contains("Failover Watch Summary"),
        "the text output is unchanged"
    );
    let lines = json_lines(&std::fs::read_to_string(&record).unwrap());
    let kinds: Vec<&str> = lines.iter().map(|l| l["type"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "run",
            "request",
            "request",
            "transition",
            "request",
            "summary"
        ]
    );
    assert_eq!(lines[3]["kind"], "failover");

    let out = run(
        &scratch,
        &[
            "--url",
            &url,
            "--count",
            "1",
            "--record",
            "/nonexistent/dir/x",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("cannot write --record /nonexistent/dir/x"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_that_cannot_be_written_is_said_at_once_and_fails_the_run() {
    let scratch = Scratch::new("cli-record-full");
    let server = ReplayServer::start(vec![capture("01b-primary-ok.http")], None).await;
    let url = server.url();
    let args = [
        "--url",
        &url,
        "--count",
        "2",
        "--interval",
        "50ms",
        "--output",
        "jsonl",
        "--record",
        "/dev/full",
    ];
    let out = run(&scratch, &args);
    assert_eq!(
        out.status.code(),
        Some(1),
        "a record cut short fails the run"
    );
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("cannot write the record /dev/full")
            && stderr.contains("recording stopped"),
        "{stderr}"
    );
    let stdout = text(&out.stdout);
    let kinds: Vec<String> = stdout
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["type"].to_string())
        .collect();
    // The run goes on: the notice among the lines, every request, the summary last.
    assert!(kinds.contains(&"\"notice\"".to_owned()), "{stdout}");
    assert_eq!(kinds.iter().filter(|k| *k == "\"request\"").count(), 2);
    assert_eq!(kinds.last().map(String::as_str), Some("\"summary\""));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proxy_on_this_machine_is_reached_directly_whatever_http_proxy_says() {
    let scratch = Scratch::new("cli-http-proxy");
    let server = ReplayServer::start(vec![capture("01b-primary-ok.http")], None).await;
    let dead_proxy = format!("http://{}", refused_addr());
    let url = server.url();
    let out = command(
        &scratch,
        &["--url", &url, "--count", "1", "--output", "jsonl"],
    )
    .env("HTTP_PROXY", &dead_proxy)
    .env("http_proxy", &dead_proxy)
    .env("ALL_PROXY", &dead_proxy)
    .output()
    .unwrap();
    assert!(out.status.success());
    let first: serde_json::Value =
        serde_json::from_str(text(&out.stdout).lines().nth(1).unwrap()).unwrap();
    assert_eq!(first["result"], "primary", "{first}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_router_timeout_as_long_as_the_clients_is_told_once_and_the_release_summed_up() {
    let scratch = Scratch::new("cli-router-timeout");
    // LiteLLM 1.83.14's answers: a success (it names its release), then failures that say the
    // router waits 30 s for a model.
    let proxy = || {
        ReplayServer::start(
            vec![
                capture("01b-primary-ok.http"),
                capture("06a-both-refused.http"),
            ],
            None,
        )
    };
    let watch = |url: &str, output: &str| {
        let args = [
            "--url",
            url,
            "--count",
            "4",
            "--interval",
            "50ms",
            "--timeout",
            "30s",
            "--output",
            output,
            "--proxy-metrics",
            "off",
        ];
        run(&scratch, &args)
    };
    let server = proxy().await;
    let out = watch(&server.url(), "jsonl");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let lines = json_lines(&text(&out.stdout));
    let notices: Vec<_> = lines.iter().filter(|l| l["type"] == "notice").collect();
    assert_eq!(notices.len(), 1, "{lines:?}");
    assert_eq!(notices[0]["kind"], "router_timeout");
    assert_eq!(
        notices[0]["message"],
        "the proxy waits 30 s for a model; --timeout 30s will cut its fallback answers off"
    );
    assert_eq!(lines.last().unwrap()["litellm_version"], "1.83.14");
    // The log says it too; the text story once, and its summary names the release.
    let log = std::fs::read_to_string(scratch.log()).unwrap();
    assert_eq!(
        log.matches("the proxy waits 30 s for a model").count(),
        1,
        "{log}"
    );
    let server = proxy().await;
    let url = server.url();
    let story = text(&watch(&url, "text").stdout);
    assert_eq!(
        story.matches("[!] the proxy waits 30 s").count(),
        1,
        "{story}"
    );
    assert!(story.contains("  • LiteLLM: 1.83.14"), "{story}");
    // At the default limit (60 s) nothing is wrong.
    let quiet = text(
        &run(
            &scratch,
            &["--url", &url, "--count", "2", "--interval", "50ms"],
        )
        .stdout,
    );
    assert!(!quiet.contains("the proxy waits"), "{quiet}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_exports_metrics_prometheus_accepts_and_logs_to_stderr() {
    let scratch = Scratch::new("cli-metrics");
    let server = failing_over_proxy().await;
    let addr = refused_addr();
    let url = server.url();
    let listen = addr.to_string();
    let child = command(
        &scratch,
        &[
            "--url",
            &url,
            "--interval",
            "100ms",
            "--duration",
            "3s",
            "--output",
            "none",
            "--metrics-listen",
            &listen,
            "--log-file",
            "-",
        ],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    let get = |path: &'static str| http_get(addr, path);
    // Up once it answers /healthz; the run lasts 3 s, the wait at most as long.
    let mut healthy = false;
    for _ in 0..60 {
        if let Ok((status, _)) = get("/healthz").await {
            healthy = status == 200;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(healthy, "/healthz never answered 200");
    // The failover shows once the second recorded answer (the fallback's) came.
    let mut scrape = String::new();
    for _ in 0..40 {
        scrape = get("/metrics").await.unwrap().1;
        if scrape
            .contains("failover_watch_transitions_total{target=\"llama-fp8\",kind=\"failover\"} 1")
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    for expected in [
        "failover_watch_requests_total{target=\"llama-fp8\",result=\"primary\",model=\"llama-fp8\"} 1",
        "failover_watch_serving{target=\"llama-fp8\",state=\"fallback\"} 1",
        "failover_watch_serving{target=\"llama-fp8\",state=\"primary\"} 0",
        "failover_watch_transitions_total{target=\"llama-fp8\",kind=\"failover\"} 1",
        "# TYPE failover_watch_request_duration_seconds histogram",
        "failover_watch_info{target=\"llama-fp8\",proxy=\"127.0.0.1:",
    ] {
        assert!(scrape.contains(expected), "{expected} in\n{scrape}");
    }
    // What Prometheus itself would say of the scrape, where promtool is installed (CI).
    if let Ok(mut promtool) = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        use std::io::Write;
        promtool
            .stdin
            .take()
            .unwrap()
            .write_all(scrape.as_bytes())
            .unwrap();
        let checked = promtool.wait_with_output().unwrap();
        assert!(
            checked.status.success(),
            "promtool: {}{}",
            text(&checked.stdout),
            text(&checked.stderr)
        );
    }
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "", "--output none prints nothing");
    let log = text(&out.stderr);
    assert!(log.contains("INFO serving metrics"), "{log}");
    // Gone with the run.
    assert!(get("/healthz").await.is_err());
}

/// `GET path` on `addr`: the status and the body (HTTP/1.1, the connection closed after).
async fn http_get(addr: std::net::SocketAddr, path: &str) -> std::io::Result<(u16, String)> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await?;
    let status = answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = answer
        .split_once("\r\n\r\n")
        .map_or(String::new(), |(_, body)| body.to_owned());
    Ok((status, body))
}

/// Completions and the manual page come from the same definitions as the options: bash
/// completes subcommands, options and their values from the script it sources; zsh and fish
/// get theirs; the manual page renders with `man` and names every subcommand and variable.
#[test]
fn completions_complete_and_the_manual_page_renders() {
    let scratch = Scratch::new("cli-completions");
    // What bash offers for the words typed so far (the last one being completed).
    let offered = |words: &str| -> Vec<String> {
        let script = format!(
            "source <('{BIN}' completions bash) || exit 9
             words=({words}); COMP_WORDS=(\"${{words[@]}}\"); COMP_CWORD=$((${{#words[@]}} - 1))
             [[ $words == *' ' ]] && COMP_CWORD=${{#words[@]}}
             fn=$(complete -p failover-watch | sed -n 's/.*-F \\([^ ]*\\).*/\\1/p')
             \"$fn\" failover-watch \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\"
             printf '%s\\n' \"${{COMPREPLY[@]}}\""
        );
        let out = Command::new("bash").args(["-c", &script]).output().unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stdout).lines().map(str::to_owned).collect()
    };
    assert!(offered("failover-watch re").contains(&"replay".to_owned()));
    assert!(offered("failover-watch dr").contains(&"drill".to_owned()));
    assert!(offered("failover-watch --out").contains(&"--output".to_owned()));
    let values = offered("failover-watch --output ''");
    for value in ["tui", "text", "jsonl", "none"] {
        assert!(values.contains(&value.to_owned()), "{values:?}");
    }
    let zsh = run(&scratch, &["completions", "zsh"]);
    assert!(text(&zsh.stdout).starts_with("#compdef failover-watch"));
    let fish = run(&scratch, &["completions", "fish"]);
    assert!(text(&fish.stdout).contains("complete -c failover-watch"));
    assert_eq!(
        run(&scratch, &["completions", "tcsh"]).status.code(),
        Some(2)
    );

    let man = run(&scratch, &["man"]);
    assert!(man.status.success());
    let page = scratch.0.join("failover-watch.1");
    std::fs::write(&page, &man.stdout).unwrap();
    let shown = Command::new("man")
        .args(["-l", "-P", "cat"])
        .arg(&page)
        .env("MANWIDTH", "100")
        .output()
        .expect("man is needed for this test (tests/setup.sh installs it)");
    assert!(shown.status.success(), "{}", text(&shown.stderr));
    let shown = text(&shown.stdout);
    for expected in [
        "SYNOPSIS",
        "failover-watch-replay",
        "failover-watch-drill",
        "FAILOVER_WATCH_URL",
        "--metrics-listen",
    ] {
        assert!(
            shown.contains(expected),
            "{expected} not in the page:\n{shown}"
        );
    }
}

/// A reader that never reads (stdout into a pipe nobody drains) never stops the watcher: the
/// probes keep their schedule, the record keeps growing, `/healthz` keeps answering; what
/// stdout could not take is dropped and counted at the end.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_stdout_never_stops_the_probes_the_record_or_the_metrics() {
    let scratch = Scratch::new("cli-stalled-stdout");
    let record = scratch.0.join("run.jsonl");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let listen = format!("127.0.0.1:{port}");
    let args = [
        "demo",
        "--output",
        "text",
        "--interval",
        "10ms",
        "--duration",
        "8s",
    ];
    let child = command(&scratch, &args)
        .args([
            "--record",
            record.to_str().unwrap(),
            "--metrics-listen",
            &listen,
        ])
        // Nobody reads it: the pipe's 64 KiB fill within a few seconds of the story.
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let addr: std::net::SocketAddr = listen.parse().unwrap();
    // 400 requests of the story are ~80 KiB: stdout stopped taking lines well before.
    let before = recorded_at_least(&record, 400).await;
    let (status, _) = http_get(addr, "/healthz").await.unwrap();
    assert_eq!(status, 200, "/healthz while stdout is stalled");
    recorded_at_least(&record, before + 50).await;
    let (status, _) = http_get(addr, "/healthz").await.unwrap();
    assert_eq!(status, 200);
    // Stdout stays unread to the end: the watcher ends anyway, and says what it could not
    // write.
    let (status, stderr) = tokio::task::spawn_blocking(move || {
        let mut child = child;
        let unread = child.stdout.take();
        let mut stderr = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
        let status = child.wait().unwrap();
        drop(unread);
        (status, stderr)
    })
    .await
    .unwrap();
    assert!(status.success(), "{status:?}: {stderr}");
    assert!(
        stderr.contains("stdout is not read") || stderr.contains("stdout was not read in time"),
        "{stderr}"
    );
    // Nothing lost from the record: every probe of 8 s at 10 ms, and the summary.
    let lines = json_lines(&std::fs::read_to_string(&record).unwrap());
    let requests = lines.iter().filter(|l| l["type"] == "request").count();
    assert!(requests > 600, "{requests} requests in the record");
    assert_eq!(lines.last().unwrap()["type"], "summary");
    assert_eq!(lines.last().unwrap()["total"], requests);
}

/// The requests of the record at `path` once it holds at least `n` (polled: nothing else
/// tells; bounded).
async fn recorded_at_least(path: &std::path::Path, n: usize) -> usize {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let count = text.matches(r#""type":"request""#).count();
        if count >= n {
            return count;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the record stopped at {count}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// A closed stdout (`>&-`) fails the run as a full one does, instead of every line vanishing.
#[test]
fn a_closed_stdout_fails_the_run() {
    let scratch = Scratch::new("cli-closed-stdout");
    let url = format!("http://{}", refused_addr());
    let script =
        format!("'{BIN}' --url {url} --count 1 --interval 50ms >&-; echo \"status $?\" >&2");
    let out = Command::new("bash")
        .args(["-c", &script])
        .env("FAILOVER_WATCH_LOG_FILE", scratch.log())
        .output()
        .unwrap();
    let stderr = text(&out.stderr);
    assert!(stderr.contains("stdout is closed"), "{stderr}");
    assert!(stderr.contains("status 1"), "{stderr}");
}

/// When the mark socket cannot be opened (a control folder others can write in), the run goes
/// on and says so: on stderr and as a notice in what it writes, not only in the log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_mark_cannot_reach_says_so() {
    use std::os::unix::fs::PermissionsExt;
    let scratch = Scratch::new("cli-mark-unavailable");
    let folder = scratch.0.join("failover-watch");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::set_permissions(&folder, std::fs::Permissions::from_mode(0o777)).unwrap();
    let server = failing_over_proxy().await;
    let url = server.url();
    let out = command(
        &scratch,
        &["--url", &url, "--count", "1", "--output", "jsonl"],
    )
    .env("XDG_RUNTIME_DIR", &scratch.0)
    .output()
    .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("`failover-watch mark` cannot reach this run"),
        "{stderr}"
    );
    assert!(
        stderr.contains("group or others can write in it"),
        "{stderr}"
    );
    let lines = json_lines(&text(&out.stdout));
    let notice = lines
        .iter()
        .find(|l| l["type"] == "notice")
        .expect("a notice line");
    assert_eq!(notice["kind"], "mark_unavailable");
}
