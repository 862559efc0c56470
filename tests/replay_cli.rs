//! `failover-watch replay` and `failover-watch mark` as a user runs them: a scripted demo
//! recorded while a script marks it, played back line for line and as the same story; damaged
//! records refused with exit status 2.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Output, Stdio};

use common::{Scratch, clean_command, json_lines, text};

const BIN: &str = env!("CARGO_BIN_EXE_failover-watch");

/// The binary in a clean environment, its control socket in `scratch`.
fn command(scratch: &Scratch, args: &[&str]) -> Command {
    let mut command = clean_command(BIN, scratch, args);
    command.env("XDG_RUNTIME_DIR", &scratch.0);
    command
}

#[test]
fn a_marked_demo_run_replays_line_for_line_and_as_the_same_story() {
    let scratch = Scratch::new("replay-cli");
    let record = scratch.0.join("run.jsonl");
    let mut live = command(
        &scratch,
        &[
            "demo",
            "--output",
            "text",
            "--script",
            "primary-down@3s,primary-up@6s",
            "--interval",
            "250ms",
            "--duration",
            "20s",
            "--record",
            record.to_str().unwrap(),
        ],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::null())
    .spawn()
    .unwrap();
    // The first answer says the run (and its control socket) is up: mark it from outside.
    let mut story = BufReader::new(live.stdout.take().unwrap());
    let mut live_text = String::new();
    while !live_text.contains("Request #1:") {
        assert_ne!(story.read_line(&mut live_text).unwrap(), 0, "{live_text}");
    }
    let marked = command(&scratch, &["mark", "kill primary"])
        .output()
        .unwrap();
    assert!(marked.status.success(), "{}", text(&marked.stderr));
    assert_eq!(
        text(&marked.stdout),
        format!(
            "marker M1 \"kill primary\" dropped in failover-watch {}\n",
            live.id()
        )
    );
    std::io::Read::read_to_string(&mut story, &mut live_text).unwrap();
    assert!(live.wait().unwrap().success());
    // The socket is gone with the run: nobody to mark now.
    let nobody = command(&scratch, &["mark", "late"]).output().unwrap();
    assert_eq!(nobody.status.code(), Some(1));
    assert!(text(&nobody.stderr).contains("no failover-watch is running"));

    let recorded = std::fs::read_to_string(&record).unwrap();
    let lines = json_lines(&recorded);
    assert_eq!(lines[0]["type"], "run");
    assert_eq!(lines[0]["record_version"], 2);
    let marker = lines.iter().find(|l| l["type"] == "marker").unwrap();
    assert_eq!(marker["label"], "kill primary");
    let failover = lines
        .iter()
        .find(|l| l["type"] == "transition" && l["kind"] == "failover")
        .expect(&recorded);
    assert_eq!(failover["after_marker"], 1);
    assert_eq!(failover["after_marker_label"], "kill primary");
    assert!(
        live_text.contains("after M1 \"kill primary\""),
        "{live_text}"
    );

    // The JSON lines again, field by field, timings included.
    let replayed = command(
        &scratch,
        &[
            "replay",
            record.to_str().unwrap(),
            "--output",
            "jsonl",
            "--instant",
        ],
    )
    .output()
    .unwrap();
    assert!(replayed.status.success(), "{}", text(&replayed.stderr));
    let again = json_lines(&text(&replayed.stdout));
    assert_eq!(again.len(), lines.len());
    for (was, is) in lines.iter().zip(&again) {
        assert_eq!(is, was);
    }

    // The story again, as the live run told it (a line says it is a replay).
    let handout = command(
        &scratch,
        &[
            "replay",
            record.to_str().unwrap(),
            "--output",
            "text",
            "--instant",
        ],
    )
    .output()
    .unwrap();
    assert!(handout.status.success(), "{}", text(&handout.stderr));
    let handout = text(&handout.stdout);
    assert!(
        handout.contains("  Replay of: run.jsonl (recorded from "),
        "{handout}"
    );
    let body = |story: &str| story[story.find("\n---").unwrap()..].to_owned();
    assert_eq!(body(&handout), body(&live_text));
}

#[test]
fn damaged_records_exit_2_with_the_line_and_why() {
    let scratch = Scratch::new("replay-damaged");
    let run = |name: &str, bytes: &[u8]| -> Output {
        let path = scratch.0.join(name);
        std::fs::write(&path, bytes).unwrap();
        command(
            &scratch,
            &["replay", path.to_str().unwrap(), "--output", "text"],
        )
        .output()
        .unwrap()
    };
    let cases: [(&str, &[u8], &str); 4] = [
        (
            "empty.jsonl",
            b"",
            "empty.jsonl is empty: no record to replay",
        ),
        (
            "binary.jsonl",
            b"\x7fELF\x02\x01\x01\0\0\xff\n",
            "line 1 it is not text",
        ),
        (
            "garbage.jsonl",
            b"{\"type\":\"run\"\n",
            "line 1 is not JSON: EOF while parsing",
        ),
        (
            "old.jsonl",
            b"{\"type\":\"request\",\"seq\":1}\n",
            "line 1 is not the run's line",
        ),
    ];
    for (name, bytes, expected) in cases {
        let out = run(name, bytes);
        assert_eq!(out.status.code(), Some(2), "{name}");
        let stderr = text(&out.stderr);
        assert!(stderr.contains(expected), "{name}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    let missing = command(&scratch, &["replay", "/nonexistent/run.jsonl"])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
    assert!(text(&missing.stderr).contains("cannot read /nonexistent/run.jsonl"));
    let instant_dashboard = command(
        &scratch,
        &["replay", "x.jsonl", "--output", "tui", "--instant"],
    )
    .output()
    .unwrap();
    assert_eq!(instant_dashboard.status.code(), Some(2));
    // The dashboard asked for where there is no terminal: said, as for a live run.
    let record = scratch.0.join("old.jsonl");
    let no_terminal = command(
        &scratch,
        &["replay", record.to_str().unwrap(), "--output", "tui"],
    )
    .output()
    .unwrap();
    assert_eq!(no_terminal.status.code(), Some(2));
    assert!(
        text(&no_terminal.stderr).contains("the dashboard needs a terminal"),
        "{}",
        text(&no_terminal.stderr)
    );
}

/// A record is untrusted input: a line with no end (`/dev/zero`) or of a hundred megabytes is
/// damage, found within a bounded read; numbers out of range are refused before anything is
/// read; nothing panics.
#[test]
fn unbounded_lines_and_out_of_range_numbers_exit_2_without_a_panic() {
    let scratch = Scratch::new("replay-bounds");
    let zero = command(&scratch, &["replay", "/dev/zero", "--output", "text"])
        .output()
        .unwrap();
    assert_eq!(zero.status.code(), Some(2), "{}", text(&zero.stderr));
    assert!(
        text(&zero.stderr).contains("/dev/zero: line 1 is longer than 256 KiB"),
        "{}",
        text(&zero.stderr)
    );
    let huge = scratch.0.join("huge.jsonl");
    let mut line = br#"{"type":"run","url":""#.to_vec();
    line.resize(100 << 20, b'x');
    std::fs::write(&huge, &line).unwrap();
    let out = command(
        &scratch,
        &["replay", huge.to_str().unwrap(), "--output", "text"],
    )
    .output()
    .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("line 1 is longer than 256 KiB"));
    for speed in ["1e-300", "0.0000001", "0", "-1", "65", "NaN", "inf"] {
        let out = command(
            &scratch,
            &["replay", "/dev/null", &format!("--speed={speed}")],
        )
        .output()
        .unwrap();
        assert_eq!(out.status.code(), Some(2), "--speed {speed}");
        let stderr = text(&out.stderr);
        assert!(
            stderr.contains("from 1/64 (0.015625) to 64") || stderr.contains("not a number"),
            "{stderr}"
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

/// The run line of a record started at 14:00:00 UTC, and lines of its run.
fn record_of(lines: &[serde_json::Value]) -> String {
    let run = serde_json::json!({"type":"run","record_version":1,"tool_version":"0.1.0",
        "started_at":"2026-11-23T14:00:00.000000Z","utc_offset_secs":0,
        "url":"http://127.0.0.1:4000","primary":"llama-fp8","fallback":"llama3",
        "interval_ms":1000.0,"timeout_ms":30000.0,"down_after":2,"stream":false,
        "simulated":false,"direct":false});
    std::iter::once(&run)
        .chain(lines)
        .map(|l| format!("{l}\n"))
        .collect()
}

fn request(seq: u64, model: &str, reply: &str) -> serde_json::Value {
    serde_json::json!({"type":"request","seq":seq,
        "sent_at":format!("2026-11-23T14:00:{seq:02}.000000Z"),"latency_ms":20.0,"ttft_ms":null,
        "result":"primary","model":model,"model_group":"llama-fp8","api_base":null,
        "attempted_fallbacks":0,"status":200,"error_kind":null,"error":null,"reply":reply,
        "model_id":null,"evidence":"model_group_header","late":false})
}

/// Escape sequences and line breaks read from a record never reach the replay's story: no
/// clipboard write, no cleared screen, no forged line.
#[test]
fn escape_sequences_in_a_record_never_reach_the_replays_text() {
    let scratch = Scratch::new("replay-hostile");
    let path = scratch.0.join("hostile.jsonl");
    let marker = serde_json::json!({"type":"marker","id":1,"at":"2026-11-23T14:00:01.500000Z",
        "after_seq":1,"label":"down\u{1b}]52;c;b3duZWQ=\u{7}\n[20:00:00] Request #99: ✓ PRIMARY"});
    let hostile = request(
        2,
        "llama-fp8\u{1b}[2J",
        "Hi\r\n[20:00:00] Request #99: forged\u{1b}[31m",
    );
    std::fs::write(
        &path,
        record_of(&[request(1, "llama-fp8", "Hi."), marker, hostile]),
    )
    .unwrap();
    let out = command(
        &scratch,
        &[
            "replay",
            path.to_str().unwrap(),
            "--output",
            "text",
            "--instant",
        ],
    )
    .output()
    .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let story = text(&out.stdout);
    let control = story.chars().find(|c| c.is_control() && *c != '\n');
    assert_eq!(control, None, "{story:?}");
    assert!(!story.contains("b3duZWQ"), "{story}");
    assert!(
        !story
            .lines()
            .any(|l| l.starts_with("[20:00:00] Request #99")),
        "a forged line: {story}"
    );
    assert!(
        story.contains("MARKER M1 \"down [20:00:00] Request #99"),
        "{story}"
    );
}

/// Two runs recorded into one file (`--record` appends) stay playable: the last by default,
/// said, and any other with `--run N`; a probe told twice in one run is damage.
#[test]
fn a_record_holding_two_runs_plays_either() {
    let scratch = Scratch::new("replay-two-runs");
    let path = scratch.0.join("two.jsonl");
    let first = record_of(&[request(1, "llama-fp8", "first run")]);
    let second = record_of(&[
        request(1, "llama-fp8", "second run"),
        request(2, "llama-fp8", "still second"),
    ]);
    std::fs::write(&path, format!("{first}{second}")).unwrap();
    let play = |extra: &[&str]| {
        let mut args = vec![
            "replay",
            path.to_str().unwrap(),
            "--output",
            "text",
            "--instant",
        ];
        args.extend_from_slice(extra);
        command(&scratch, &args).output().unwrap()
    };
    let last = play(&[]);
    assert!(last.status.success(), "{}", text(&last.stderr));
    assert!(text(&last.stdout).contains("still second"));
    assert!(!text(&last.stdout).contains("first run"));
    assert!(text(&last.stderr).contains("holds 2 runs: playing the last (run 2)"));
    let first_run = play(&["--run", "1"]);
    assert!(first_run.status.success());
    assert!(text(&first_run.stdout).contains("first run"));
    assert!(!text(&first_run.stdout).contains("second run"));
    let none = play(&["--run", "3"]);
    assert_eq!(none.status.code(), Some(2));
    assert!(text(&none.stderr).contains("holds 2 runs: there is no run 3"));

    let twice = scratch.0.join("twice.jsonl");
    std::fs::write(
        &twice,
        record_of(&[request(1, "a", "x"), request(1, "a", "y")]),
    )
    .unwrap();
    let out = command(
        &scratch,
        &["replay", twice.to_str().unwrap(), "--output", "text"],
    )
    .output()
    .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("line 3: request #1 a second time"),
        "{}",
        text(&out.stderr)
    );
}
