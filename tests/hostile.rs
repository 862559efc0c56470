//! The binary against a hostile server: the key echoed in every place an answer can carry
//! text, escape sequences and forged log lines, bytes that are not HTTP, a head too large,
//! connections closed early, hangs, a `/model/info` that hangs or lies. Whatever comes, the
//! run ends cleanly, every probe is accounted for, and neither the key nor a control
//! character reaches the screen, the record or the log.

mod common;

use std::process::Output;

use common::hostile::{Act, Hostile};
use common::{Scratch, clean_command, json_lines, text};

const BIN: &str = env!("CARGO_BIN_EXE_failover-watch");
const KEY: &str = "sk-hostile-echo-3141";

struct Case {
    name: &'static str,
    chat: Act,
    model_info: Act,
    stream: bool,
    /// The outcome every probe must have: `primary`, `fallback` or an error kind.
    expected: &'static str,
}

fn cases() -> Vec<Case> {
    let case = |name, chat, model_info, stream, expected| Case {
        name,
        chat,
        model_info,
        stream,
        expected,
    };
    vec![
        case(
            "echo-200",
            Act::EchoEverywhere,
            Act::Hang,
            false,
            "fallback",
        ),
        case("echo-500", Act::EchoError(500), Act::Hang, false, "http"),
        case("echo-401", Act::EchoError(401), Act::Hang, false, "http"),
        case(
            "echo-html-502",
            Act::EchoHtml(502),
            Act::Hang,
            false,
            "http",
        ),
        case(
            "not-http",
            Act::Raw("SSH-2.0-OpenSSH_9.6\r\n"),
            Act::Hang,
            false,
            "protocol",
        ),
        case(
            "bad-header",
            Act::Raw("HTTP/1.1 200 OK\r\nno colon\r\n\r\n"),
            Act::Hang,
            true,
            "protocol",
        ),
        case(
            "head-too-large",
            Act::HeadTooLarge,
            Act::Hang,
            false,
            "protocol",
        ),
        case("closed-early", Act::CloseEarly, Act::Hang, false, "reset"),
        case(
            "closed-mid-body",
            Act::CloseMidBody,
            Act::Hang,
            false,
            "reset",
        ),
        case("hang", Act::Hang, Act::Hang, false, "timeout"),
        case(
            "stream-then-hang",
            Act::StreamThenHang,
            Act::Hang,
            true,
            "timeout",
        ),
        case(
            "broken-json",
            Act::Raw("HTTP/1.1 200 OK\r\ncontent-length: 7\r\n\r\n{\"id\":1"),
            Act::Hang,
            false,
            "decode",
        ),
        case("model-info-hangs", Act::Stream, Act::Hang, true, "primary"),
        case(
            "model-info-echoes",
            Act::Stream,
            Act::EchoError(500),
            true,
            "primary",
        ),
        case(
            "model-info-garbage",
            Act::Stream,
            Act::Raw("HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n<html"),
            true,
            "primary",
        ),
    ]
}

fn run(scratch: &Scratch, url: &str, stream: bool, output: &str, record: &str) -> Output {
    let mut command = clean_command(BIN, scratch, &["--url", url, "--count", "2"]);
    command
        .args(["--interval", "100ms", "--timeout", "1s"])
        .args(["--output", output, "--record", record])
        .args(stream.then_some("--stream"))
        .env("LITELLM_API_KEY", KEY)
        .env("FAILOVER_WATCH_LOG", "trace")
        .env("FAILOVER_WATCH_DIRECT", "off");
    command.output().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_a_hostile_server_sends_leaks_the_key_forges_a_line_or_loses_a_probe() {
    for case in cases() {
        let scratch = Scratch::new(&format!("hostile-{}", case.name));
        let server = Hostile::start(case.chat, case.model_info).await;
        let url = server.url();
        let record = scratch.0.join("record.jsonl");
        let record_arg = record.to_str().unwrap().to_owned();
        let stream = case.stream;
        let (out, log, _scratch) = tokio::task::spawn_blocking(move || {
            let out = run(&scratch, &url, stream, "text", &record_arg);
            let log = std::fs::read_to_string(scratch.log());
            (out, log, scratch)
        })
        .await
        .unwrap();
        let name = case.name;
        assert_eq!(out.status.code(), Some(0), "{name}: {}", text(&out.stderr));
        let log = log.expect("the run's log (FAILOVER_WATCH_LOG=trace)");
        let record_text = std::fs::read_to_string(&record).unwrap();
        let shown = [
            ("stdout", text(&out.stdout)),
            ("stderr", text(&out.stderr)),
            ("log", log.clone()),
            ("record", record_text.clone()),
        ];
        for (place, shown) in &shown {
            assert!(
                !shown.contains(KEY),
                "{name}: the key reached the {place}:\n{shown}"
            );
            let control = shown.chars().find(|c| c.is_control() && *c != '\n');
            assert_eq!(
                control, None,
                "{name}: a control character in the {place}:\n{shown}"
            );
        }
        // A server's text never starts a line of the log that looks like ours.
        for (place, shown) in [("log", &log), ("stdout", &text(&out.stdout))] {
            assert!(
                !shown.lines().any(|l| l.starts_with("2026-01-01T00:00:00Z")),
                "{name}: a forged line in the {place}:\n{shown}"
            );
        }

        let lines = json_lines(&record_text);
        let requests: Vec<&serde_json::Value> =
            lines.iter().filter(|l| l["type"] == "request").collect();
        assert_eq!(requests.len(), 2, "{name}: {record_text}");
        for request in &requests {
            let outcome = match request["result"].as_str().unwrap() {
                "error" => request["error_kind"].as_str().unwrap(),
                served => served,
            };
            assert_eq!(outcome, case.expected, "{name}: {request}");
        }
        let summary = lines.last().unwrap();
        assert_eq!(summary["type"], "summary", "{name}");
        assert_eq!(summary["sent"], 2, "{name}: {summary}");

        match name {
            "stream-then-hang" => {
                for request in &requests {
                    assert_eq!(request["status"], 200, "{name}: {request}");
                    assert!(request["ttft_ms"].as_f64().unwrap() < 1000.0, "{request}");
                    assert_eq!(request["error"], "no answer within 1s", "{request}");
                }
            }
            "model-info-hangs" | "model-info-echoes" | "model-info-garbage" => {
                // The stream came at once: the look-up's trouble is said, once, and the
                // probe's own time and outcome stay.
                let notices: Vec<_> = lines
                    .iter()
                    .filter(|l| l["type"] == "notice" && l["kind"] == "deployments_unread")
                    .collect();
                assert_eq!(notices.len(), 1, "{name}: {record_text}");
                for request in &requests {
                    assert!(
                        request["latency_ms"].as_f64().unwrap() < 1000.0,
                        "{request}"
                    );
                }
                let story = text(&out.stdout);
                assert!(
                    story.contains("[!] cannot read the proxy's deployments"),
                    "{name}: {story}"
                );
            }
            "echo-html-502" => {
                for request in &requests {
                    let error = request["error"].as_str().unwrap();
                    assert!(error.starts_with("an HTML page: [API key]"), "{error}");
                }
            }
            _ => {}
        }
        assert!(server.requests() >= 2, "{name}");
    }
}

/// `check` against a proxy whose every answer echoes the key: in a group's name, in an
/// `api_base` with credentials, in its release, with escape sequences around it. Neither the
/// text nor the JSON output, stderr nor the log shows the key or a control character.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_never_shows_the_key_a_proxy_echoes() {
    const MODEL_INFO: &str = r#"{"data": [
        {"model_name": "llama-fp8", "model_info": {"id": "dep-1"},
         "litellm_params": {"model": "openai/llama-fp8\u001b[2J",
                            "api_base": "http://user:{key}@gpu:8080/v1"}},
        {"model_name": "Bearer {key}\u001b]52;c;b3duZWQ=\u0007", "model_info": {"id": "dep-2"},
         "litellm_params": {"model": "ollama/llama3"}}]}"#;
    let server = Hostile::routed(
        vec![
            ("/health/liveliness", Act::Json(200, r#""I'm alive!""#)),
            (
                "/health/readiness",
                Act::Json(
                    200,
                    r#"{"status": "healthy", "litellm_version": "{key}\u001b[31m"}"#,
                ),
            ),
            (
                "/v1/models",
                Act::Json(200, r#"{"data": [{"id": "Bearer {key}"}]}"#),
            ),
            ("/model/info", Act::Json(200, MODEL_INFO)),
        ],
        Act::EchoEverywhere,
    )
    .await;
    let url = server.url();
    let runs = tokio::task::spawn_blocking(move || {
        let mut runs = Vec::new();
        for (primary, output) in [
            ("llama-fp8", "text"),
            ("llama-fp8", "json"),
            ("no-such-group", "text"),
            ("no-such-group", "json"),
        ] {
            let scratch = Scratch::new(&format!("hostile-check-{primary}-{output}"));
            let mut command = clean_command(BIN, &scratch, &["check", "--url", &url]);
            command
                .args(["--primary", primary, "--fallback", "llama3"])
                .args(["--timeout", "1s", "--output", output])
                .env("LITELLM_API_KEY", KEY)
                .env("FAILOVER_WATCH_LOG", "trace");
            let out = command.output().unwrap();
            let log = std::fs::read_to_string(scratch.log()).unwrap_or_default();
            runs.push((format!("{primary} {output}"), out, log));
        }
        runs
    })
    .await
    .unwrap();
    for (name, out, log) in runs {
        let stdout = text(&out.stdout);
        // The findings were made, from what the server said.
        assert!(stdout.contains("primary"), "{name}: {stdout}");
        if name.starts_with("llama-fp8") {
            assert!(
                stdout.contains("http://user:[API key]@gpu:8080/v1"),
                "{name}: {stdout}"
            );
        } else {
            assert!(
                stdout.contains("(it has: llama-fp8, Bearer [API key]"),
                "{name}: {stdout}"
            );
        }
        for (place, shown) in [
            ("stdout", stdout),
            ("stderr", text(&out.stderr)),
            ("log", log),
        ] {
            assert!(
                !shown.contains(KEY),
                "{name}: the key reached the {place}:\n{shown}"
            );
            let control = shown.chars().find(|c| c.is_control() && *c != '\n');
            assert_eq!(
                control, None,
                "{name}: a control character in the {place}:\n{shown}"
            );
        }
    }
}

/// A proxy whose health check this key may not call (401): the quiet lane says so once, as
/// a notice, and probes the primary directly from then on.
#[tokio::test(flavor = "multi_thread")]
async fn a_health_check_the_key_may_not_call_turns_the_lane_to_direct_probes() {
    const BY_FALLBACK: &str = r#"{"id": "c1", "object": "chat.completion", "created": 1,
        "model": "ollama/llama3", "choices": [{"index": 0, "finish_reason": "stop",
        "message": {"role": "assistant", "content": "Hello!"}}]}"#;
    let server = Hostile::routed(
        vec![
            (
                "/health?",
                Act::Json(
                    401,
                    r#"{"error": {"message": "Authentication Error", "code": "401"}}"#,
                ),
            ),
            (
                "/router/settings",
                Act::Json(401, r#"{"error": {"message": "no"}}"#),
            ),
            ("/model/info", Act::Json(200, r#"{"data": []}"#)),
            ("/v1/chat/completions", Act::Json(200, BY_FALLBACK)),
        ],
        Act::Json(404, r#"{"detail": "Not Found"}"#),
    )
    .await;
    let url = server.url();
    let out = tokio::task::spawn_blocking(move || {
        let scratch = Scratch::new("hostile-health-401");
        clean_command(BIN, &scratch, &["--url", &url, "--primary", "llama-fp8"])
            .args(["--interval", "200ms", "--count", "4", "--output", "jsonl"])
            .env("LITELLM_API_KEY", KEY)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let lines = json_lines(&text(&out.stdout));
    let of = |kind: &str| lines.iter().filter(|l| l["type"] == kind).count();
    let notices: Vec<_> = lines
        .iter()
        .filter(|l| l["type"] == "notice" && l["kind"] == "health_unavailable")
        .collect();
    assert_eq!(notices.len(), 1, "{}", text(&out.stdout));
    assert!(
        notices[0]["message"]
            .as_str()
            .unwrap()
            .contains("(HTTP 401)"),
        "{}",
        notices[0]
    );
    // The health check was asked once; then a direct probe beside the requests (which this
    // server answers from the fallback too: the lane then stops, refused).
    // Kept (a replay derives the notice again from it), asked once.
    let health: Vec<_> = lines.iter().filter(|l| l["type"] == "health").collect();
    assert_eq!(health.len(), 1, "{}", text(&out.stdout));
    assert_eq!(health[0]["status"], 401);
    assert!(of("direct") >= 1, "{}", text(&out.stdout));
    let refused = lines
        .iter()
        .find(|l| l["type"] == "primary" && l["to"] == "refused")
        .expect("the direct probe found disable_fallbacks ignored");
    assert!(
        refused["message"]
            .as_str()
            .unwrap()
            .contains("ignores disable_fallbacks"),
        "{refused}"
    );
}

/// The proxy's own rate limit for the key (LiteLLM's parallel_request_limiter_v3 words, the key
/// echoed where its hash goes): said as such by the watcher and by `check`, never a failover
/// or an outage, never a verdict on the primary, and the key never shown.
#[tokio::test]
async fn the_proxys_rate_limit_for_the_key_is_said_as_such() {
    const LIMITED: &str = r#"{"error":{"message":"Rate limit exceeded for api_key: {key}. Limit type: requests. Current limit: 1, Remaining: 0. Limit resets at: 2026-12-07 02:31:00 UTC","type":"None","param":"None","code":"429"}}"#;
    let server = Hostile::routed(
        vec![
            ("/health/liveliness", Act::Json(200, r#""I'm alive!""#)),
            (
                "/v1/models",
                Act::Json(200, r#"{"data": [{"id": "llama-fp8"}]}"#),
            ),
        ],
        Act::Json(429, LIMITED),
    )
    .await;
    let url = server.url();
    let (watched, checked) = tokio::task::spawn_blocking(move || {
        let scratch = Scratch::new("hostile-rate-limited-watch");
        let mut watch = clean_command(BIN, &scratch, &["--url", &url]);
        watch
            .args(["--count", "4", "--interval", "50ms", "--output", "jsonl"])
            .args([
                "--direct",
                "off",
                "--proxy-metrics",
                "off",
                "--down-after",
                "2",
            ])
            .env("LITELLM_API_KEY", KEY);
        let scratch = Scratch::new("hostile-rate-limited-check");
        let mut check = clean_command(BIN, &scratch, &["check", "--url", &url]);
        check
            .args(["--timeout", "2s", "--output", "json"])
            .env("LITELLM_API_KEY", KEY);
        (watch.output().unwrap(), check.output().unwrap())
    })
    .await
    .unwrap();
    let stdout = text(&watched.stdout);
    assert!(!stdout.contains(KEY), "{stdout}");
    let lines = json_lines(&stdout);
    let requests: Vec<&serde_json::Value> =
        lines.iter().filter(|l| l["type"] == "request").collect();
    assert_eq!(requests.len(), 4, "{stdout}");
    for request in &requests {
        assert_eq!(request["error_kind"], "rate_limited", "{request}");
        let error = request["error"].as_str().unwrap();
        assert!(
            error.starts_with("the proxy's rate limit for this key (Rate limit exceeded")
                && error.ends_with("): not a failover"),
            "{error}"
        );
    }
    assert!(
        !lines.iter().any(|l| l["type"] == "transition"),
        "no outage: {stdout}"
    );
    let summary = lines.iter().find(|l| l["type"] == "summary").unwrap();
    assert_eq!(summary["outages"], 0, "{summary}");
    assert_eq!(summary["errors"]["rate_limited"], 4, "{summary}");
    assert_eq!(watched.status.code(), Some(0), "{}", text(&watched.stderr));

    let said = text(&checked.stdout);
    assert!(!said.contains(KEY), "{said}");
    let report: serde_json::Value = serde_json::from_str(&said).unwrap();
    let alone = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == "alone")
        .unwrap_or_else(|| panic!("{said}"));
    assert!(
        alone["message"]
            .as_str()
            .unwrap()
            .starts_with("not checked: the proxy's rate limit for this key"),
        "{said}"
    );
    assert_eq!(checked.status.code(), Some(1), "{said}");
}
