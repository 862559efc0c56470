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
    assert_eq!(lines[0]["record_version"], 1);
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
