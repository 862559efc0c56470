//! `failover-watch demo` as a user (or CI) runs it without a terminal: the whole story from
//! start to summary, against the built-in simulated gateway. Each run is bounded in time.

use std::io::Read;
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

mod common;

use common::{Scratch, clean_command, json_lines};

const BIN: &str = env!("CARGO_BIN_EXE_failover-watch");
/// The longest any run here may take before it counts as hung.
const LIMIT: Duration = Duration::from_secs(60);

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    /// The JSON lines of the output.
    fn lines(&self) -> Vec<Value> {
        json_lines(&self.stdout)
    }

    fn requests(&self) -> Vec<Value> {
        self.of_type("request")
    }

    fn of_type(&self, kind: &str) -> Vec<Value> {
        self.lines()
            .into_iter()
            .filter(|l| l["type"] == kind)
            .collect()
    }
}

/// Runs `demo ARGS` with a clean environment and no terminal, to its end (or kills it at
/// [`LIMIT`] and fails).
fn demo(scratch: &Scratch, args: &[&str]) -> Run {
    let mut child = clean_command(BIN, scratch, &["demo"])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = read_in_background(&mut child, true);
    let stderr = read_in_background(&mut child, false);
    let stdout = match stdout.recv_timeout(LIMIT) {
        Ok(text) => text,
        Err(_) => {
            let _ = child.kill();
            panic!("demo {args:?} still running after {LIMIT:?}");
        }
    };
    let code = child.wait().unwrap().code();
    Run {
        code,
        stdout,
        stderr: stderr.recv_timeout(LIMIT).unwrap_or_default(),
    }
}

/// Runs `demo` with the arguments of `line` (see [`words`]), which must end it with status 0.
fn demo_ok(scratch: &Scratch, line: &str) -> Run {
    let run = demo(scratch, &words(line));
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    run
}

/// Arguments written as one line (none of them has a space).
fn words(line: &str) -> Vec<&str> {
    line.split_whitespace().collect()
}

/// Reads stdout (or stderr) to its end on a thread: the end comes when the process exits.
fn read_in_background(child: &mut Child, stdout: bool) -> mpsc::Receiver<String> {
    let mut pipe: Box<dyn Read + Send> = if stdout {
        Box::new(child.stdout.take().unwrap())
    } else {
        Box::new(child.stderr.take().unwrap())
    };
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut text = String::new();
        let _ = pipe.read_to_string(&mut text);
        let _ = tx.send(text);
    });
    rx
}

fn transitions(run: &Run) -> Vec<String> {
    run.of_type("transition")
        .iter()
        .map(|t| t["kind"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn a_scripted_demo_fails_over_recovers_and_ends_with_no_failed_request() {
    let scratch = Scratch::new("demo-scripted");
    let run = demo_ok(
        &scratch,
        "--output jsonl --interval 200ms --cooldown 1s --script primary-down@1s,primary-up@2s",
    );
    // One pass: the last step (2 s) + the cooldown (1 s) + two intervals, rounded up: 4 s.
    assert!(run.stderr.contains("ending after 4s"), "{}", run.stderr);
    assert_eq!(
        transitions(&run),
        ["failover", "recovery"],
        "{}",
        run.stdout
    );
    let requests = run.requests();
    assert!(
        requests.iter().all(|r| r["result"] != "error"),
        "{}",
        run.stdout
    );
    let fallback: Vec<_> = requests
        .iter()
        .filter(|r| r["result"] == "fallback")
        .collect();
    assert!(!fallback.is_empty());
    for r in &fallback {
        assert_eq!(r["model"], "ollama/llama3");
        assert_eq!(r["model_group"], "llama3");
        assert_eq!(r["attempted_fallbacks"], 1);
        assert_eq!(r["api_base"], "http://ollama:11434");
        assert_eq!(r["evidence"], "model_group_header");
    }
    assert_eq!(requests.last().unwrap()["result"], "primary");
    let summary = &run.of_type("summary")[0];
    assert_eq!(summary["failed"], 0);
    assert_eq!(summary["failovers"], 1);
    assert_eq!(summary["recoveries"], 1);
    // The script's switches are told on stderr.
    assert!(
        run.stderr
            .contains("demo: primary down (connection refused) (script)"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("demo: primary up (script)"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_hang_script_lasts_until_the_hung_requests_and_the_recovery_are_told() {
    let scratch = Scratch::new("demo-hang");
    // A pass: 3 s to the last cue + the 2 s router timeout + 1 s cooldown + two 200 ms
    // intervals, rounded up: 7 s. The requests hung until 3 s come back from the fallback
    // by 5 s; the cooldown their failures started is over by 6 s.
    let run = demo_ok(
        &scratch,
        "--output jsonl --interval 200ms --cooldown 1s --router-timeout 2s --script primary-hang@1s,primary-up@3s",
    );
    assert!(run.stderr.contains("ending after 7s"), "{}", run.stderr);
    let kinds = transitions(&run);
    assert_eq!(
        kinds.first().map(String::as_str),
        Some("failover"),
        "{}",
        run.stdout
    );
    assert_eq!(
        kinds.last().map(String::as_str),
        Some("recovery"),
        "{}",
        run.stdout
    );
    let summary = &run.of_type("summary")[0];
    assert_eq!(summary["failed"], 0, "{}", run.stdout);
    assert_eq!(summary["abandoned"], 0, "{}", run.stdout);
    // The hung requests were answered by the fallback after the router timeout.
    assert!(
        run.requests()
            .iter()
            .any(|r| r["result"] == "fallback" && r["latency_ms"].as_f64().unwrap() >= 2000.0),
        "{}",
        run.stdout
    );
}

#[test]
fn streamed_answers_from_the_fallback_are_seen_as_the_fallbacks() {
    let scratch = Scratch::new("demo-stream");
    // 1.83's streams carry no model group, the deployment map tells; 1.106's say it.
    for (release, group, evidence) in [
        ("1.83", Value::Null, "deployment"),
        ("1.106", Value::from("llama3"), "model_group_header"),
    ] {
        let run = demo_ok(
            &scratch,
            &format!(
                "--litellm {release} --output jsonl --stream --interval 200ms --cooldown 1s \
                 --script primary-down@1s,primary-up@2s"
            ),
        );
        assert_eq!(
            transitions(&run),
            ["failover", "recovery"],
            "{}",
            run.stdout
        );
        let requests = run.requests();
        let fallback: Vec<_> = requests
            .iter()
            .filter(|r| r["result"] == "fallback")
            .collect();
        assert!(!fallback.is_empty(), "{}", run.stdout);
        for r in fallback {
            assert_eq!(r["model_group"], group, "{release}");
            assert_eq!(r["evidence"], evidence, "{release}");
            assert_eq!(r["model"], "ollama/llama3");
            assert_eq!(r["reply"], "Hello!");
            assert!(r["ttft_ms"].is_number());
        }
        let summary = run.of_type("summary").pop().unwrap();
        assert!(
            summary["litellm_version"]
                .as_str()
                .is_some_and(|v| v.starts_with(&format!("{release}."))),
            "{summary}"
        );
    }
}

#[test]
fn an_outage_shows_litellms_error_and_fail_on_error_reports_it() {
    let scratch = Scratch::new("demo-outage");
    let run = demo(
        &scratch,
        &words(
            "--litellm 1.83 --direct off --output jsonl --interval 200ms --count 12 --fail-on-error --script fallback-down@0s,primary-down@1s",
        ),
    );
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    let requests = run.requests();
    assert_eq!(requests[0]["result"], "primary", "{}", run.stdout);
    let errors: Vec<_> = requests.iter().filter(|r| r["result"] == "error").collect();
    assert!(errors.len() >= 4, "{}", run.stdout);
    // The first two failures reach both deployments: LiteLLM's 500, the fallback's error in it.
    for first in &errors[..2] {
        assert_eq!(first["status"], 500);
        let message = first["error"].as_str().unwrap();
        for part in [
            "litellm.InternalServerError: InternalServerError: OpenAIException - Connection error.",
            "Received Model Group=llama-fp8",
            "Available Model Group Fallbacks=['llama3']",
            "Error doing the fallback: litellm.APIConnectionError: OllamaException - Cannot connect to host ollama:11434",
            "No fallback model group found for original model_group=llama3",
        ] {
            assert!(message.contains(part), "{part:?} not in {message}");
        }
    }
    // Then the primary cools down: the router's own 429.
    let later = errors[2];
    assert_eq!(later["status"], 429);
    let message = later["error"].as_str().unwrap();
    assert!(
        message.starts_with("No deployments available for selected model, Try again in 10 seconds. Passed model=llama-fp8"),
        "{message}"
    );
    assert_eq!(transitions(&run), ["outage"]);

    // 1.106 words it otherwise.
    let run = demo(
        &scratch,
        &words(
            "--direct off --output jsonl --interval 200ms --count 12 --script fallback-down@0s,primary-down@1s",
        ),
    );
    let errors: Vec<_> = run
        .requests()
        .into_iter()
        .filter(|r| r["result"] == "error")
        .collect();
    assert!(errors.len() >= 3, "{}", run.stdout);
    assert!(
        errors[0]["error"].as_str().unwrap().contains(
            "Connection error. LiteLLM: model group 'llama-fp8' failed with the error above. \
         Fallback to llama3 also failed: litellm.APIConnectionError: OllamaException - Cannot \
         connect to host REDACTED:11434"
        ),
        "{}",
        errors[0]
    );
    assert!(
        errors[2]["error"]
            .as_str()
            .unwrap()
            .contains("All deployments for selected model are in cooldown."),
        "{}",
        errors[2]
    );

    // The text summary tells an outage, not a failover.
    let run = demo(
        &scratch,
        &words(
            "--output text --interval 200ms --count 8 --script fallback-down@0s,primary-down@0.5s",
        ),
    );
    let text = &run.stdout;
    assert!(
        text.contains("  • Failover: – Not observed: the service went down instead"),
        "{text}"
    );
    assert!(
        text.contains("  • Failovers: 0, recoveries: 0, outages: 1, restored: 0"),
        "{text}"
    );
}

const PLAIN_CONFIG: &str = r#"
model_list:
  - model_name: big
    litellm_params:
      model: openai/big-model
      api_base: http://gpu-1:8000/v1
      api_key: "none"
  - model_name: small
    litellm_params:
      model: ollama_chat/small-model
      api_base: http://cpu-1:11434
router_settings:
  num_retries: 0
  timeout: 30
  allowed_fails: 1
  cooldown_time: 1
litellm_settings:
  fallbacks:
    - "big": ["small"]
"#;

#[test]
fn a_config_file_plain_or_helm_style_is_what_gets_simulated() {
    let scratch = Scratch::new("demo-config");
    let helm = format!(
        "litellm:\n  config:\n{}",
        PLAIN_CONFIG
            .lines()
            .map(|l| format!("    {l}\n"))
            .collect::<String>()
    );
    for (name, text) in [
        ("plain.yaml", PLAIN_CONFIG.to_owned()),
        ("values.yaml", helm),
    ] {
        let config = scratch.file(name, &text);
        let run = demo(
            &scratch,
            &[
                "--config",
                config.to_str().unwrap(),
                "--output",
                "jsonl",
                "--interval",
                "200ms",
                "--script",
                "primary-down@1s,primary-up@2s",
            ],
        );
        assert_eq!(run.code, Some(0), "{name}: {}", run.stderr);
        // --primary defaults to the group with fallbacks.
        let requests = run.requests();
        let first = &requests[0];
        assert_eq!(first["result"], "primary", "{name}");
        assert_eq!(first["model"], "big");
        assert_eq!(first["api_base"], "http://gpu-1:8000/v1");
        let fallback = requests
            .iter()
            .find(|r| r["result"] == "fallback")
            .expect(name);
        assert_eq!(fallback["model"], "ollama_chat/small-model");
        assert_eq!(fallback["model_group"], "small");
        assert_eq!(fallback["api_base"], "http://cpu-1:11434");
        assert_eq!(transitions(&run), ["failover", "recovery"], "{name}");
        assert!(run.stderr.contains("big → small"), "{}", run.stderr);
    }
}

#[test]
fn bad_scripts_and_configs_exit_2_with_a_one_line_reason() {
    let scratch = Scratch::new("demo-usage");
    let broken = scratch.file("broken.yaml", "model_list: [{model_name: a}]\n");
    let broken = broken.to_str().unwrap();
    let cases: &[(&[&str], &str)] = &[
        (
            &["--script", "primary-sideways@3s"],
            "unknown action \"sideways\"",
        ),
        (&["--script", "primary-down"], "no time"),
        (&["--script", ","], "no steps"),
        (&["--config", "/nonexistent/litellm.yaml"], "cannot read it"),
        (&["--config", broken], "model_list[0]: a: no litellm_params"),
        (
            &["--primary", "nope"],
            "\"nope\" is not a model group of the config (it has: llama3, llama-fp8)",
        ),
        (
            &["--primary", "llama3", "--script", "fallback-down@1s"],
            "aims at the fallback, but llama3 has no fallbacks",
        ),
        (&["--output", "tui"], "the dashboard needs a terminal"),
    ];
    for (args, reason) in cases {
        let run = demo(&scratch, args);
        assert_eq!(run.code, Some(2), "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains(reason), "{args:?}: {}", run.stderr);
        assert_eq!(run.stderr.lines().count(), 1, "{args:?}: {}", run.stderr);
        assert!(run.stdout.is_empty(), "{args:?}");
    }
}

#[test]
fn without_a_script_or_duration_the_text_demo_tells_the_built_in_story_and_ends() {
    let scratch = Scratch::new("demo-default");
    // The built-in script: primary down at 5 s, up at 20 s; one pass (+ the cooldown and two
    // intervals) then the end.
    let run = demo_ok(&scratch, "--output text --interval 500ms --cooldown 1s");
    assert!(run.stderr.contains("ending after 22s"), "{}", run.stderr);
    let text = &run.stdout;
    assert!(text.starts_with(&"=".repeat(70)), "{text}");
    assert!(text.contains("LiteLLM Failover Demo (simulated gateway)"));
    assert!(
        text.contains("[!] FAILOVER DETECTED: llama-fp8 → ollama/llama3"),
        "{text}"
    );
    assert!(
        text.contains("[!] RECOVERY DETECTED: ollama/llama3 → llama-fp8"),
        "{text}"
    );
    assert!(text.contains("  • Failed: 0"), "{text}");
    assert!(
        text.contains("  • Failover: ✓ Detected and handled"),
        "{text}"
    );
    assert!(
        run.stderr
            .contains("script primary-down@5s,primary-up@20s, ending after 22s"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_looping_script_tells_the_story_again_every_pass() {
    let scratch = Scratch::new("demo-loop");
    // A pass: 1 s to the last cue + 1 s cooldown + two 200 ms intervals, rounded up: 3 s.
    let run = demo_ok(
        &scratch,
        "--output jsonl --interval 200ms --cooldown 1s --loop --duration 8.8s --script primary-down@0.5s,primary-up@1s",
    );
    let kinds = transitions(&run);
    // Passes start at 0, 3 and 6 s: three failovers, each followed by its recovery.
    assert_eq!(
        kinds,
        [
            "failover", "recovery", "failover", "recovery", "failover", "recovery"
        ],
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("(looping)"), "{}", run.stderr);
    assert_eq!(
        run.stderr.matches("demo: primary down").count(),
        3,
        "{}",
        run.stderr
    );
}

#[test]
fn the_primarys_own_lane_tells_why_and_when_it_comes_back() {
    let scratch = Scratch::new("demo-lane");
    // A cooldown of 7.5 intervals: it ends between two ticks, never between the direct probe
    // and the request of one tick (were it a whole number of intervals, the request could find
    // the primary back while its tick's direct probe still found it cooling down, and the
    // recovery would have no cooldown to tell).
    let run = demo_ok(
        &scratch,
        "--direct probe --output jsonl --interval 400ms --cooldown 3s --script primary-down@2s,primary-up@3s",
    );
    // The direct probes' own story, in order.
    let direct = run.of_type("direct");
    let mut states: Vec<&str> = direct
        .iter()
        .map(|d| d["state"].as_str().unwrap())
        .collect();
    states.dedup();
    assert_eq!(
        states,
        ["up", "failing", "cooling_down", "up"],
        "{}",
        run.stdout
    );
    let failing = direct.iter().find(|d| d["state"] == "failing").unwrap();
    assert_eq!(failing["status"], 500);
    assert!(
        failing["message"]
            .as_str()
            .unwrap()
            .ends_with("Connection error."),
        "{failing}"
    );
    let cooling = direct
        .iter()
        .find(|d| d["state"] == "cooling_down")
        .unwrap();
    assert_eq!(cooling["status"], 429);
    assert_eq!(cooling["cooldown_ids"].as_array().unwrap().len(), 1);
    assert!(
        cooling["retry_in_ms"].as_f64().unwrap() <= 3000.0,
        "{cooling}"
    );
    // The estimated next try is within one interval of when the primary was really tried:
    // the sending of the first direct probe that found it up again (its answer's arrival
    // would add the machine's load to the figure).
    let changes = run.of_type("primary");
    let to_cooling = changes.iter().find(|c| c["to"] == "cooling_down").unwrap();
    let back = changes.iter().rfind(|c| c["to"] == "up").unwrap();
    let back_probe = direct.iter().find(|d| d["seq"] == back["seq"]).unwrap();
    let secs = |at: &Value| {
        chrono::DateTime::parse_from_rfc3339(at.as_str().unwrap())
            .unwrap()
            .timestamp_millis() as f64
            / 1000.0
    };
    let estimate = secs(&to_cooling["next_try"]);
    let real = secs(&back_probe["sent_at"]);
    assert!(
        (real - estimate).abs() <= 0.4 + 0.25,
        "estimated {estimate}, tried again at {real}"
    );
    assert_eq!(to_cooling["cooldown_secs"], 3.0);
    // The failover names its cause; the recovery how long LiteLLM held the primary back.
    let transitions = run.of_type("transition");
    assert_eq!(transitions[0]["kind"], "failover");
    assert_eq!(transitions[0]["cause"], "primary: Connection error.");
    assert_eq!(transitions[1]["kind"], "recovery");
    let held = transitions[1]["primary_cooldown_secs"].as_f64().unwrap();
    assert!((2.5..=4.0).contains(&held), "{held}");
    let summary = run.of_type("summary").pop().unwrap();
    let lane = &summary["primary_lane"];
    assert!(lane["cooling_down_secs"].as_f64().unwrap() > 2.0, "{lane}");
    assert!(
        lane["first_failure"]
            .as_str()
            .unwrap()
            .contains("Connection error.")
    );
}

#[test]
fn a_primary_without_api_key_says_so_on_its_lane() {
    let scratch = Scratch::new("demo-nokey");
    let config = scratch.file(
        "seed.yaml",
        "model_list:\n  - model_name: llama3\n    litellm_params: {model: ollama/llama3, api_base: http://ollama:11434}\n  - model_name: llama-fp8\n    litellm_params: {model: openai/llama-fp8, api_base: http://llama-fp8-predictor:8080/v1}\nrouter_settings:\n  fallbacks: [{llama-fp8: [llama3]}]\n  num_retries: 0\n  timeout: 30\n  allowed_fails: 1\n  cooldown_time: 10\n",
    );
    for (release, words_of_it) in [
        ("1.83", "The api_key client option must be set"),
        ("1.106", "Missing credentials. Please pass an `api_key`"),
    ] {
        let args = format!(
            "--direct probe --litellm {release} --config {} --output jsonl --interval 200ms --count 3",
            config.display()
        );
        let run = demo_ok(&scratch, &args);
        let first = &run.of_type("direct")[0];
        assert_eq!(first["state"], "failing", "{release}: {first}");
        assert_eq!(first["status"], 500);
        assert!(
            first["message"].as_str().unwrap().contains(words_of_it),
            "{release}: {first}"
        );
        assert!(run.requests().iter().all(|r| r["result"] == "fallback"));
    }
}

#[test]
fn the_quiet_lane_names_the_cause_meets_the_cooldown_once_and_counts_nothing() {
    let scratch = Scratch::new("demo-quiet");
    // Down for two requests (allowed_fails 1: the second starts the cooldown), back long
    // before LiteLLM's 6 s cooldown ends: the health check finds it answering while the
    // requests still go to the fallback.
    let run = demo_ok(
        &scratch,
        "--output jsonl --interval 400ms --cooldown 6s --script primary-down@1s,primary-up@2s",
    );
    assert_eq!(run.of_type("run")[0]["direct"], "quiet");
    // The cause, from LiteLLM's health check (which LiteLLM does not count as a failure).
    let health = run.of_type("health");
    assert_eq!(health[0]["state"], "failing", "{}", run.stdout);
    assert!(
        health[0]["message"]
            .as_str()
            .unwrap()
            .ends_with("Connection error."),
        "{}",
        health[0]
    );
    // One direct probe, once the requests themselves started the cooldown: it meets it.
    let direct = run.of_type("direct");
    assert_eq!(direct.len(), 1, "{}", run.stdout);
    assert_eq!(direct[0]["state"], "cooling_down");
    assert_eq!(direct[0]["status"], 429);
    // The second health check (five seconds on) finds the deployment answering; the state
    // stays in LiteLLM's cooldown, which still holds it back.
    assert_eq!(health.len(), 2, "{}", run.stdout);
    assert_eq!(health[1]["state"], "up");
    let changes = run.of_type("primary");
    let story: Vec<(&str, &str)> = changes
        .iter()
        .map(|c| (c["lane"].as_str().unwrap(), c["to"].as_str().unwrap()))
        .collect();
    assert_eq!(
        story,
        [
            ("health", "failing"),
            ("direct", "cooling_down"),
            ("normal", "up")
        ]
    );
    let transitions = run.of_type("transition");
    assert_eq!(transitions[0]["kind"], "failover");
    assert_eq!(transitions[0]["cause"], "primary: Connection error.");
    assert_eq!(transitions[1]["kind"], "recovery");
    // The request that showed the primary up again is the recovery's.
    assert_eq!(changes[2]["seq"], transitions[1]["seq"]);
    let held = transitions[1]["primary_cooldown_secs"].as_f64().unwrap();
    assert!((5.0..=7.0).contains(&held), "{held}");
    let lane = &run.of_type("summary")[0]["primary_lane"];
    assert_eq!(lane["health_checks"], 2);
    assert_eq!(lane["direct_probes"], 1);
    assert_eq!(run.of_type("summary")[0]["failed"], 0);
    // LiteLLM's own word (the gateway's metrics, read every 5 s): healthy at the start, in
    // complete outage with one cooldown during it, and the fallbacks it counted are the ones
    // this watcher was served.
    let views = run.of_type("proxy_view");
    assert_eq!(views[0]["state"], "healthy", "{}", run.stdout);
    assert_eq!(views[0]["cooldowns"], 0);
    let outage = views
        .iter()
        .find(|v| v["state"] == "complete_outage")
        .expect("a reading during the cooldown");
    assert_eq!(outage["cooldowns"], 1);
    let summary = &run.of_type("summary")[0]["proxy_view"];
    assert_eq!(
        summary["fallbacks"], summary["client_fallbacks"],
        "{summary}"
    );
    assert!(summary["fallbacks"].as_u64().unwrap() > 0);
    assert_eq!(summary["disagreement"], Value::Null);
    assert_eq!(summary["missing"], serde_json::json!([]));
}

#[test]
fn a_blip_the_requests_alone_ride_out_costs_no_cooldown_in_the_quiet_lane() {
    let scratch = Scratch::new("demo-blip");
    // Down for one request: with allowed_fails 1, LiteLLM cools the primary down only if
    // something else fails on it meanwhile. A direct probe beside each request is that
    // something; the quiet lane's health check is not.
    let blip = "--output jsonl --interval 400ms --cooldown 3s --duration 6s \
                --script primary-down@1s,primary-up@1.5s";
    let back_after = |mode: &str| {
        let run = demo_ok(&scratch, &format!("--direct {mode} {blip}"));
        let transitions = run.of_type("transition");
        assert_eq!(transitions.len(), 2, "{mode}: {}", run.stdout);
        let at = |t: &Value| {
            chrono::DateTime::parse_from_rfc3339(t["at"].as_str().unwrap())
                .unwrap()
                .timestamp_millis()
        };
        (
            (at(&transitions[1]) - at(&transitions[0])) as f64 / 1000.0,
            transitions[1]["primary_cooldown_secs"].clone(),
        )
    };
    let (quiet, quiet_held) = back_after("quiet");
    let (probe, probe_held) = back_after("probe");
    assert!(quiet < 1.0, "quiet: back after {quiet} s");
    assert_eq!(quiet_held, Value::Null);
    assert!(probe >= 2.5, "probe: back after {probe} s");
    assert!(probe_held.as_f64().unwrap() >= 2.0, "{probe_held}");
}

/// `demo --groups 3`: three targets, one per primary group; the script's steps take down the
/// primary of the group they name (group 1 when they name none), and only that target fails
/// over and recovers while the others keep their primary.
#[test]
fn with_three_groups_only_the_group_the_script_takes_down_fails_over() {
    let scratch = Scratch::new("demo-groups");
    for (script, down, fallback) in [
        ("primary-down@1s,primary-up@2s", "llama-fp8", "llama3"),
        (
            "qwen-72b:primary-down@1s,qwen-72b:primary-up@2s",
            "qwen-72b",
            "qwen-7b",
        ),
    ] {
        let run = demo_ok(
            &scratch,
            &format!(
                "--groups 3 --output jsonl --interval 200ms --cooldown 1s --duration 5s \
                 --script {script}"
            ),
        );
        assert!(
            run.stderr
                .contains("llama-fp8 → llama3, qwen-72b → qwen-7b, mistral-large → mistral-small"),
            "{}",
            run.stderr
        );
        assert!(
            run.stderr.contains(&format!(
                "demo: {down} primary down (connection refused) (script)"
            )),
            "{}",
            run.stderr
        );
        let transitions: Vec<(String, String)> = run
            .of_type("transition")
            .iter()
            .map(|t| (t["target"].to_string(), t["kind"].to_string()))
            .collect();
        let quoted = |s: &str| format!("\"{s}\"");
        assert_eq!(
            transitions,
            [
                (quoted(down), quoted("failover")),
                (quoted(down), quoted("recovery"))
            ],
            "{}",
            run.stdout
        );
        let requests = run.requests();
        for target in ["llama-fp8", "qwen-72b", "mistral-large"] {
            let own: Vec<&Value> = requests.iter().filter(|r| r["target"] == target).collect();
            assert!(own.len() >= 10, "{target}: {} requests", own.len());
            assert!(own.iter().all(|r| r["result"] != "error"), "{}", run.stdout);
            let fell_back: Vec<&&Value> =
                own.iter().filter(|r| r["result"] == "fallback").collect();
            if target == down {
                assert!(!fell_back.is_empty(), "{target} fell back");
                assert!(fell_back.iter().all(|r| r["model_group"] == fallback));
            } else {
                assert!(
                    fell_back.is_empty(),
                    "{target} kept its primary: {}",
                    run.stdout
                );
                assert!(own.iter().all(|r| r["model_group"] == target));
            }
        }
        let summaries = run.of_type("summary");
        assert_eq!(summaries.len(), 3, "{}", run.stdout);
        for summary in summaries {
            let failovers = u64::from(summary["target"] == down);
            assert_eq!(summary["failovers"], failovers, "{summary}");
            assert_eq!(summary["failed"], 0, "{summary}");
        }
    }
}
