//! `failover-watch demo drill` (and `drill --dry-run`) as a user or CI runs it, without a
//! terminal, against the built-in simulated gateway: a drill that passes, one that breaks a
//! budget (exit 1, the JUnit's failure), one aborted on the breach, one interrupted with
//! SIGINT in its hold (the up command ran, exit 130, the report says so), one whose down
//! command fails (exit 2, the up command ran all the same), one whose up command fails (exit
//! 3), one `check` stops; the commands' environment and output. Each run is bounded in time.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

use common::{Scratch, clean_command, text};

const BIN: &str = env!("CARGO_BIN_EXE_failover-watch");
/// The longest any drill here may take before it counts as hung.
const LIMIT: Duration = Duration::from_secs(60);
/// A short drill on the simulated gateway: a request every 200 ms, a 1 s cooldown, one second
/// of baseline and of hold, two of settle, nothing on stdout but the report.
const SHORT: &str =
    "--interval 200ms --cooldown 1s --baseline 1s --hold 1s --settle 2s --output none";

struct Ran {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    took: Duration,
}

impl Ran {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("{e}: {}", self.stdout))
    }

    /// The last line on stderr: the drill's verdict and exit status.
    fn last_line(&self) -> &str {
        self.stderr.lines().last().unwrap_or_default()
    }
}

/// `demo drill ARGS` (the short drill's options, but those `args` give) started in the
/// scratch folder, with a clean environment and `env` on top of it, no terminal.
fn start(scratch: &Scratch, args: &[&str], env: &[(&str, &str)]) -> Child {
    let mut all = vec!["demo", "drill"];
    let short: Vec<&str> = SHORT.split_whitespace().collect();
    for pair in short.chunks(2) {
        if !args.contains(&pair[0]) {
            all.extend(pair);
        }
    }
    all.extend(args);
    clean_command(BIN, scratch, &all)
        .envs(env.iter().copied())
        .current_dir(&scratch.0)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Runs `demo drill ARGS` to its end (or kills it at [`LIMIT`] and fails).
fn drill(scratch: &Scratch, args: &[&str], env: &[(&str, &str)]) -> Ran {
    let started = Instant::now();
    let mut child = start(scratch, args, env);
    let stderr = read_all(child.stderr.take().unwrap());
    finish(child, stderr, started)
}

fn finish(mut child: Child, stderr: mpsc::Receiver<String>, started: Instant) -> Ran {
    let stdout = read_all(child.stdout.take().unwrap());
    let stdout = match stdout.recv_timeout(LIMIT) {
        Ok(text) => text,
        Err(_) => {
            let _ = child.kill();
            panic!("the drill still runs after {LIMIT:?}");
        }
    };
    let code = child.wait().unwrap().code();
    Ran {
        code,
        stdout,
        stderr: stderr.recv_timeout(LIMIT).unwrap_or_default(),
        took: started.elapsed(),
    }
}

/// Reads a pipe to its end on a thread: the end comes when the process exits.
fn read_all(mut pipe: impl Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut text = String::new();
        let _ = pipe.read_to_string(&mut text);
        let _ = tx.send(text);
    });
    rx
}

/// The drill's record in `dir`: the one file named for the drill.
fn record(dir: &Path) -> Option<PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            name.starts_with("drill-llama-fp8-") && name.ends_with(".jsonl")
        })
}

/// The commands of a JSON report's drill setup, by step.
fn command<'a>(report: &'a Value, step: &str) -> &'a Value {
    let commands = report["setup"]["drill"]["commands"].as_array().unwrap();
    let found = commands.iter().find(|c| c["step"] == step);
    found.unwrap_or_else(|| panic!("no {step} command in {commands:?}"))
}

fn event<'a>(report: &'a Value, name: &str) -> Option<&'a Value> {
    report["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["event"] == name)
}

#[test]
fn a_drill_that_holds_its_budgets_exits_0_with_its_report_and_record() {
    let scratch = Scratch::new("drill-pass");
    let ran = drill(
        &scratch,
        &[
            "--down",
            "echo scaled to 0; touch down.ran",
            "--up",
            "echo scaled to 1; touch up.ran",
            "--max-failed",
            "0",
            "--max-failover",
            "1s",
            "--max-recovery",
            "2s",
            "--min-availability",
            "100",
            "--format",
            "json",
            "--report",
            "report.json",
        ],
        &[],
    );
    assert_eq!(ran.code, Some(0), "{}", ran.stderr);
    assert_eq!(
        ran.last_line(),
        "failover-watch: drill passed: 4 budgets held (exit 0)"
    );
    let report = ran.json();
    assert_eq!(report["verdict"], "pass", "{}", ran.stdout);
    let file = std::fs::read_to_string(scratch.0.join("report.json")).unwrap();
    assert_eq!(file, ran.stdout, "--report writes what stdout shows");
    assert!(scratch.0.join("down.ran").exists() && scratch.0.join("up.ran").exists());
    let drill = &report["setup"]["drill"];
    assert_eq!(drill["ended"], "completed");
    assert!(
        drill["router"]
            .as_str()
            .unwrap()
            .starts_with("fallbacks llama-fp8 → llama3; allowed_fails 1"),
        "{drill}"
    );
    assert_eq!(command(&report, "down")["exit_status"], 0);
    assert_eq!(command(&report, "down")["output"], "scaled to 0");
    assert_eq!(command(&report, "up")["output"], "scaled to 1");
    // The fault and the up are the drill's markers; the simulated primary went down and came
    // back between them.
    assert_eq!(event(&report, "fault").unwrap()["found"], "marker");
    assert_eq!(event(&report, "up").unwrap()["found"], "marker");
    assert!(event(&report, "failover").is_some() && event(&report, "recovery").is_some());
    assert!(report["whole"]["fallback"].as_u64().unwrap() > 0);
    assert_eq!(report["whole"]["failed"], 0);
    // The record is the drill's, named for it: reported again, it tells the same story.
    let record = record(&scratch.0).expect("the drill's record");
    let again = clean_command(BIN, &scratch, &["report", "--format", "json"])
        .arg(&record)
        .output()
        .unwrap();
    let again: Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(again["fault_at"], report["fault_at"]);
    assert_eq!(again["durations"], report["durations"]);
    assert!(
        ran.stderr.contains("drill: hold: llama-fp8 down for 1s"),
        "{}",
        ran.stderr
    );
}

#[test]
fn a_broken_budget_exits_1_with_a_junit_failure_and_can_abort_the_drill() {
    let scratch = Scratch::new("drill-budget");
    // Traffic comes back only after LiteLLM's cooldown: never within a millisecond.
    let args = [
        "--max-failed",
        "0",
        "--max-recovery",
        "1ms",
        "--format",
        "junit",
    ];
    let ran = drill(&scratch, &args, &[]);
    assert_eq!(ran.code, Some(1), "{}", ran.stderr);
    assert_eq!(
        ran.last_line(),
        "failover-watch: drill failed: 1 of 2 budgets broken (exit 1)"
    );
    let junit = &ran.stdout;
    assert!(
        junit.contains(
            r#"<testsuite name="failover-watch report: llama-fp8 → llama3" tests="2" failures="1""#
        ),
        "{junit}"
    );
    let broken = junit
        .split("<testcase ")
        .find(|case| case.contains(r#"name="max_recovery: "#))
        .unwrap();
    assert!(broken.contains(r#"<failure type="budget""#), "{broken}");
    let held = junit
        .split("<testcase ")
        .find(|case| case.contains(r#"name="max_failed: "#))
        .unwrap();
    assert!(!held.contains("<failure"), "{held}");

    // With --abort-on-breach, the drill stops as soon as the recovery is overdue: long
    // before its 30 s of settle.
    let scratch = Scratch::new("drill-abort");
    let args = [
        "--settle",
        "30s",
        "--max-recovery",
        "100ms",
        "--abort-on-breach",
        "--format",
        "json",
    ];
    let ran = drill(&scratch, &args, &[]);
    assert_eq!(ran.code, Some(1), "{}", ran.stderr);
    assert!(ran.took < Duration::from_secs(20), "{:?}", ran.took);
    let ended = ran.json()["setup"]["drill"]["ended"].clone();
    assert!(
        ended
            .as_str()
            .unwrap()
            .starts_with("aborted on a broken budget (--abort-on-breach: up → first primary answer ≤ 100 ms: none yet after"),
        "{ended}"
    );
    assert!(
        ran.last_line().ends_with("; aborted (exit 1)"),
        "{}",
        ran.stderr
    );
}

#[test]
fn sigint_in_the_hold_brings_the_primary_back_then_exits_130() {
    let scratch = Scratch::new("drill-sigint");
    let started = Instant::now();
    let args = [
        "--hold",
        "30s",
        "--down",
        "true",
        "--up",
        "sleep 0.5; echo restored; touch up.ran",
        "--format",
        "json",
    ];
    let mut child = start(&scratch, &args, &[]);
    // The hold begins once the down command ended: said on stderr.
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut seen = String::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        seen.push_str(&line);
        seen.push('\n');
        if line.contains("drill: hold:") {
            break;
        }
    }
    assert!(seen.contains("drill: hold:"), "{seen}");
    let sent = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let (tx, rest) = mpsc::channel();
    std::thread::spawn(move || {
        let rest: Vec<String> = lines.map_while(Result::ok).collect();
        let _ = tx.send(rest.join("\n"));
    });
    let ran = finish(child, rest, started);
    assert_eq!(ran.code, Some(130), "{seen}{}", ran.stderr);
    assert!(ran.took < Duration::from_secs(20), "{:?}", ran.took);
    assert!(scratch.0.join("up.ran").exists(), "the up command ran");
    assert!(
        ran.stderr.contains("drill: interrupted: restoring"),
        "{}",
        ran.stderr
    );
    assert_eq!(
        ran.last_line(),
        "failover-watch: drill interrupted (Ctrl-C, a signal or q); the up command ran (exit 0) (exit 130)"
    );
    let report = ran.json();
    assert_eq!(
        report["setup"]["drill"]["ended"],
        "interrupted (Ctrl-C, a signal or q); the up command ran (exit 0)"
    );
    assert_eq!(command(&report, "up")["output"], "restored");
    // The watch went on through the restore: its marker is in the record.
    assert_eq!(event(&report, "up").unwrap()["found"], "marker");
}

#[test]
fn a_failing_down_command_exits_2_and_the_up_command_still_runs() {
    let scratch = Scratch::new("drill-down-fails");
    let args = [
        "--down",
        "echo quota exceeded >&2; exit 7",
        "--up",
        "touch up.ran",
        "--format",
        "json",
    ];
    let ran = drill(&scratch, &args, &[]);
    assert_eq!(ran.code, Some(2), "{}", ran.stderr);
    assert!(scratch.0.join("up.ran").exists(), "the up command ran");
    assert_eq!(
        ran.last_line(),
        "failover-watch: drill: the down command failed (exit 7): the drill could not run; the up command ran (exit 0) (exit 2)"
    );
    let report = ran.json();
    let down = command(&report, "down");
    assert_eq!(
        (&down["exit_status"], &down["output"]),
        (&Value::from(7), &Value::from("quota exceeded"))
    );
    assert_eq!(command(&report, "up")["exit_status"], 0);
    // The simulated primary follows the command: it never went down.
    assert_eq!(report["whole"]["fallback"], 0, "{}", ran.stdout);
    assert!(event(&report, "fault").is_none());
}

#[test]
fn a_failing_up_command_exits_3_loudest() {
    let scratch = Scratch::new("drill-up-fails");
    let args = [
        "--down",
        "true",
        "--up",
        "echo forbidden; exit 1",
        "--max-failed",
        "0",
    ];
    let ran = drill(&scratch, &args, &[]);
    assert_eq!(ran.code, Some(3), "{}", ran.stderr);
    assert_eq!(
        ran.last_line(),
        "failover-watch: THE RESTORE FAILED: the up command failed (exit 1): the primary may be left down (exit 3)"
    );
    assert!(
        ran.stdout
            .contains("drill: THE RESTORE FAILED: the up command failed (exit 1)"),
        "{}",
        ran.stdout
    );
    assert!(
        ran.stdout
            .contains("echo forbidden; exit 1 → exit 1: forbidden"),
        "{}",
        ran.stdout
    );
}

#[test]
fn the_commands_run_without_the_key_unless_asked_and_what_they_print_is_redacted() {
    const KEY: &str = "sk-drill-env-secret-4711";
    let env = [("LITELLM_API_KEY", KEY), ("FAILOVER_WATCH_THEME", "mono")];
    let scratch = Scratch::new("drill-env");
    let args = [
        "--down",
        "env > env.txt",
        "--up",
        "echo key=$LITELLM_API_KEY",
        "--format",
        "json",
    ];
    let ran = drill(&scratch, &args, &env);
    assert_eq!(ran.code, Some(0), "{}", ran.stderr);
    let seen = std::fs::read_to_string(scratch.0.join("env.txt")).unwrap();
    assert!(seen.contains("PATH="), "{seen}");
    for name in ["LITELLM_API_KEY", "FAILOVER_WATCH_"] {
        assert!(
            !seen.contains(name),
            "{name} in the command's environment:\n{seen}"
        );
    }
    assert_eq!(command(&ran.json(), "up")["output"], "key=");

    let scratch = Scratch::new("drill-pass-key");
    let mut args = args.to_vec();
    args.push("--pass-key");
    let ran = drill(&scratch, &args, &env);
    assert_eq!(ran.code, Some(0), "{}", ran.stderr);
    let seen = std::fs::read_to_string(scratch.0.join("env.txt")).unwrap();
    assert!(seen.contains("FAILOVER_WATCH_THEME=mono"), "{seen}");
    // What the command printed is the report's; the key in it is not.
    assert_eq!(command(&ran.json(), "up")["output"], "key=[API key]");
    assert!(!ran.stdout.contains(KEY) && !ran.stderr.contains(KEY));
    let record = std::fs::read_to_string(record(&scratch.0).unwrap()).unwrap();
    assert!(!record.contains(KEY));
}

#[test]
fn check_stops_a_drill_on_a_problem_unless_forced() {
    let scratch = Scratch::new("drill-check");
    // The seed's config verbatim: the primary has no api_key, so every request falls back.
    let config = scratch.file(
        "seed.yaml",
        "model_list:\n  - model_name: llama3\n    litellm_params: {model: ollama/llama3, api_base: http://ollama:11434}\n  - model_name: llama-fp8\n    litellm_params: {model: openai/llama-fp8, api_base: http://llama-fp8:8080/v1}\nrouter_settings: {fallbacks: [{llama-fp8: [llama3]}], allowed_fails: 1, cooldown_time: 1}\n",
    );
    let config = config.display().to_string();
    let args = [
        "--config",
        &config,
        "--down",
        "touch down.ran",
        "--up",
        "touch up.ran",
    ];
    let ran = drill(&scratch, &args, &[]);
    assert_eq!(ran.code, Some(2), "{}", ran.stderr);
    assert!(
        ran.stderr.contains("✗ request   served by the fallback"),
        "{}",
        ran.stderr
    );
    assert!(
        ran.last_line()
            .starts_with("failover-watch: error: the drill did not start: check found"),
        "{}",
        ran.stderr
    );
    assert!(!scratch.0.join("down.ran").exists() && record(&scratch.0).is_none());

    let mut args = args.to_vec();
    args.push("--force");
    let ran = drill(&scratch, &args, &[]);
    assert_eq!(ran.code, Some(0), "{}", ran.stderr);
    assert!(
        ran.stderr.contains("drilling all the same (--force)"),
        "{}",
        ran.stderr
    );
    assert!(scratch.0.join("up.ran").exists());
}

#[test]
fn a_dry_run_prints_the_plan_and_runs_nothing() {
    let scratch = Scratch::new("drill-dry-run");
    let out = clean_command(
        BIN,
        &scratch,
        &[
            "drill",
            "--dry-run",
            "--url",
            "http://127.0.0.1:9",
            "--down",
            "touch down.ran",
            "--up",
            "touch up.ran",
            "--hold",
            "45s",
            "--max-failover",
            "30s",
        ],
    )
    .current_dir(&scratch.0)
    .output()
    .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let plan = text(&out.stdout);
    for line in [
        "drill plan (dry run: nothing is checked, run or recorded)",
        "  proxy      http://127.0.0.1:9",
        "  down       sh -c 'touch down.ran'",
        "  hold       45s from the down step's end",
        "  budgets    fault → first fallback answer ≤ 30.0 s",
    ] {
        assert!(plan.lines().any(|l| l == line), "no {line:?} in:\n{plan}");
    }
    let entries: Vec<_> = std::fs::read_dir(&scratch.0).unwrap().collect();
    // Only the log's folder: no record, no command's file.
    assert!(
        entries
            .iter()
            .all(|e| e.as_ref().unwrap().file_name() == "run.log"),
        "{entries:?}"
    );
}

/// Among several targets a drill names the one it takes down (`--only-target`), and plans the
/// others' steadiness as a budget; without it, or with a name it does not watch, it refuses.
#[test]
fn a_drill_among_several_targets_takes_one_down_and_the_others_must_stay() {
    let scratch = Scratch::new("drill-only-target");
    let dry = |extra: &[&str]| {
        let mut args = vec![
            "drill",
            "--dry-run",
            "--url",
            "http://127.0.0.1:9",
            "--primary",
            "llama-fp8,qwen-72b",
        ];
        args.extend(extra);
        clean_command(BIN, &scratch, &args)
            .current_dir(&scratch.0)
            .output()
            .unwrap()
    };
    let none = dry(&[]);
    assert_eq!(none.status.code(), Some(2));
    assert!(
        text(&none.stderr).contains("give --only-target NAME (one of: llama-fp8, qwen-72b)"),
        "{}",
        text(&none.stderr)
    );
    let wrong = dry(&["--only-target", "mistral"]);
    assert_eq!(wrong.status.code(), Some(2));
    assert!(text(&wrong.stderr).contains("--only-target mistral: no such target"));
    let planned = dry(&["--only-target", "qwen-72b"]);
    assert_eq!(planned.status.code(), Some(0), "{}", text(&planned.stderr));
    let plan = text(&planned.stdout);
    for line in [
        "  target     qwen-72b among 2 targets: the others are watched and must not move",
        "  budgets    the other targets' changes of who serves = 0",
    ] {
        assert!(plan.lines().any(|l| l == line), "no {line:?} in:\n{plan}");
    }
    assert!(plan.contains("qwen-72b → its fallback"), "{plan}");
}

/// A drill of one target among two on the simulated gateway, end to end: the report is of the
/// drilled target alone, and the others' steadiness passes (nothing moved them).
#[test]
fn a_drill_among_two_targets_reports_the_drilled_one_and_judges_the_other() {
    let scratch = Scratch::new("drill-among-two");
    // The gateway: the demo's, headless, its script moving nothing while the drill runs.
    let mut gateway = clean_command(
        BIN,
        &scratch,
        &[
            "demo",
            "--output",
            "none",
            "--duration",
            "50s",
            "--script",
            "primary-up@45s",
        ],
    )
    .stdin(Stdio::null())
    .stdout(Stdio::null())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    let mut said = BufReader::new(gateway.stderr.take().unwrap());
    let mut line = String::new();
    // "demo: simulated LiteLLM gateway on http://127.0.0.1:PORT: llama-fp8 → …"
    let url = loop {
        line.clear();
        assert_ne!(said.read_line(&mut line).unwrap(), 0, "the demo ended");
        if let Some(at) = line.find("http://127.0.0.1:") {
            let word = line[at..].split_whitespace().next().unwrap();
            break word.trim_end_matches(':').to_owned();
        }
    };
    let started = Instant::now();
    let out = clean_command(
        BIN,
        &scratch,
        &[
            "drill",
            "--url",
            &url,
            "--primary",
            "llama-fp8,llama3",
            "--only-target",
            "llama-fp8",
            "--interval",
            "200ms",
            "--baseline",
            "1s",
            "--hold",
            "1s",
            "--settle",
            "1s",
            "--down",
            "true",
            "--up",
            "true",
            "--output",
            "none",
            "--format",
            "json",
            "--force",
        ],
    )
    .current_dir(&scratch.0)
    .stdin(Stdio::null())
    .output()
    .unwrap();
    let _ = gateway.kill();
    let _ = gateway.wait();
    assert!(started.elapsed() < LIMIT);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let budgets = report["budgets"].as_array().unwrap();
    let steady = budgets
        .iter()
        .find(|b| b["budget"] == "others_steady")
        .unwrap_or_else(|| panic!("{budgets:?}"));
    assert_eq!(steady["status"], "pass", "{steady}");
    assert_eq!(steady["figure_text"], "0 transitions", "{steady}");
    assert_eq!(
        report["setup"]["primary"], "llama-fp8",
        "{}",
        report["setup"]
    );
}
