//! `failover-watch report` as a user runs it: on a scripted demo's record and on a copy of it
//! with a drill's markers, in every format, each checked against what the record says (the
//! JSON field by field, the JUnit and the HTML with a strict XML parser, the Markdown's table
//! rows); the HTML loaded in a real browser (headless Chromium), its figure counted mark by
//! mark and a screenshot kept and checked; a long record drawn in bins; exit statuses 0, 1, 2.
//! The documents and the screenshot are kept under the target's test folder
//! (`target/tmp/report-cli/`).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use chrono::{DateTime, Duration as Span, Utc};
use serde_json::{Value, json};

use common::{Scratch, clean_command, json_lines, text};

const BIN: &str = env!("CARGO_BIN_EXE_failover-watch");

fn report(scratch: &Scratch, args: &[&str]) -> Output {
    let mut all = vec!["report"];
    all.extend(args);
    clean_command(BIN, scratch, &all).output().unwrap()
}

/// Where the documents a test makes are kept after it: the target's folder for tests.
fn artefacts(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("report-cli")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn time(text: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text.as_str().unwrap())
        .unwrap()
        .with_timezone(&Utc)
}

fn secs(span: Span) -> f64 {
    span.num_microseconds().unwrap() as f64 / 1e6
}

/// `python3 tests/report/check.py ARGS`, its output parsed as JSON when it is.
fn check(args: &[&str]) -> String {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/report/check.py");
    let out = Command::new("python3")
        .arg(script)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "check.py {args:?}: {}",
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// The record with a marker line inserted at `after_start` into the run, among the lines in
/// the order a record keeps them (each where its moment falls).
fn with_marker(record: &str, id: u32, after_start: Span, label: &str) -> String {
    let lines: Vec<&str> = record.lines().collect();
    let run: Value = serde_json::from_str(lines[0]).unwrap();
    let at = time(&run["started_at"]) + after_start;
    let moment = |line: &Value| match (line.get("sent_at"), line.get("at")) {
        (Some(sent), _) => {
            time(sent) + Span::microseconds((line["latency_ms"].as_f64().unwrap() * 1000.0) as i64)
        }
        (None, Some(at)) => time(at),
        (None, None) => DateTime::<Utc>::MAX_UTC,
    };
    let place = lines[1..]
        .iter()
        .position(|l| moment(&serde_json::from_str(l).unwrap()) >= at)
        .map_or(lines.len(), |i| i + 1);
    let marker = json!({
        "type": "marker", "id": id, "after_seq": 0, "label": label,
        "at": at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
    });
    let mut out: Vec<String> = lines.iter().map(|l| (*l).to_owned()).collect();
    out.insert(place, marker.to_string());
    out.join("\n") + "\n"
}

/// What the record says, read from its lines.
struct Recorded {
    lines: Vec<Value>,
}

impl Recorded {
    fn all(&self, kind: &str) -> Vec<Value> {
        self.lines
            .iter()
            .filter(|l| l["type"] == kind)
            .cloned()
            .collect()
    }
    fn one(&self, kind: &str) -> Value {
        self.all(kind).remove(0)
    }
    fn transition(&self, kind: &str) -> Value {
        self.all("transition")
            .into_iter()
            .find(|t| t["kind"] == kind)
            .unwrap_or_else(|| panic!("no {kind} in the record"))
    }
    fn request(&self, seq: &Value) -> Value {
        self.all("request")
            .into_iter()
            .find(|r| r["seq"] == *seq)
            .unwrap()
    }
}

/// The report's JSON checked against the record: the setup, the whole run, the requests of
/// each phase counted again from the request lines, LiteLLM's counts, the failover and the
/// recovery as the record's transitions tell them, the primary's changes after the fault.
fn check_json(report: &Value, record: &Recorded) {
    assert_eq!(report["report_version"], 1);
    let run = record.one("run");
    let summary = record.one("summary");
    let setup = &report["setup"];
    for (field, from) in [
        ("proxy", "url"),
        ("primary", "primary"),
        ("fallback", "fallback"),
        ("interval_ms", "interval_ms"),
        ("timeout_ms", "timeout_ms"),
        ("down_after", "down_after"),
        ("direct", "direct"),
        ("stream", "stream"),
        ("simulated", "simulated"),
    ] {
        assert_eq!(setup[field], run[from], "setup.{field}");
    }
    assert_eq!(time(&setup["started_at"]), time(&run["started_at"]));
    assert_eq!(setup["litellm_version"], summary["litellm_version"]);
    assert_eq!(setup["duration_secs"], summary["duration_secs"]);
    let whole = &report["whole"];
    for (field, from) in [
        ("requests", "total"),
        ("primary", "primary"),
        ("fallback", "fallback"),
        ("failed", "failed"),
        ("unanswered", "abandoned"),
    ] {
        assert_eq!(whole[field], summary[from], "whole.{field}");
    }
    assert_eq!(
        whole["availability_percent"],
        summary["availability_percent"]
    );
    let requests = record.all("request");
    let slowest = requests
        .iter()
        .filter(|r| r["result"] != "error")
        .map(|r| r["latency_ms"].as_f64().unwrap())
        .fold(0.0, f64::max);
    let max = whole["latency_ms"]["max"].as_f64().unwrap();
    assert!((max - slowest).abs() <= slowest * 0.002, "{max} {slowest}");
    let attempted: u64 = requests
        .iter()
        .filter_map(|r| r["attempted_fallbacks"].as_u64())
        .sum();
    assert_eq!(report["litellm"]["attempted_fallbacks"], attempted);
    let cooldowns = record
        .all("primary")
        .iter()
        .filter(|p| p["to"] == "cooling_down")
        .count();
    assert_eq!(report["litellm"]["cooldowns"], cooldowns);

    // Every request in the phase its sending falls in, counted again.
    let phases = report["phases"].as_array().unwrap();
    let mut total = 0;
    for phase in phases {
        let (from, to) = (time(&phase["from"]), time(&phase["to"]));
        let last = phase == phases.last().unwrap();
        let inside: Vec<&Value> = requests
            .iter()
            .filter(|r| {
                let sent = time(&r["sent_at"]);
                sent >= from && (sent < to || last)
            })
            .collect();
        let count = |result: &str| inside.iter().filter(|r| r["result"] == result).count();
        let name = &phase["phase"];
        assert_eq!(phase["requests"], inside.len(), "{name}");
        assert_eq!(phase["primary"], count("primary"), "{name}");
        assert_eq!(phase["fallback"], count("fallback"), "{name}");
        assert_eq!(phase["failed"], count("error"), "{name}");
        total += inside.len();
    }
    assert_eq!(total, requests.len());

    // The failover and the recovery: the record's transitions, the same requests.
    let timeline = report["timeline"].as_array().unwrap();
    let event = |name: &str| {
        timeline
            .iter()
            .find(|e| e["event"] == name)
            .unwrap_or_else(|| panic!("no {name} in {timeline:?}"))
    };
    let failover = record.transition("failover");
    assert_eq!(event("failover")["seq"], failover["seq"]);
    assert_eq!(time(&event("failover")["at"]), time(&failover["at"]));
    let recovery = record.transition("recovery");
    assert_eq!(event("recovery")["seq"], recovery["seq"]);
    assert_eq!(time(&event("recovery")["at"]), time(&recovery["at"]));
    let fault = time(&report["fault_at"]);
    assert_eq!(time(&event("fault")["at"]), fault);
    let to_failover = secs(time(&failover["at"]) - fault);
    let figure = report["durations"]["failover_secs"].as_f64().unwrap();
    assert!(
        (figure - to_failover).abs() < 0.001,
        "{figure} {to_failover}"
    );
    let on_fallback = secs(time(&recovery["at"]) - time(&failover["at"]));
    let figure = report["durations"]["on_fallback_secs"].as_f64().unwrap();
    assert!(
        (figure - on_fallback).abs() < 0.001,
        "{figure} {on_fallback}"
    );

    // The primary's own changes from the fault on, as the record's `primary` lines.
    let changes: Vec<(DateTime<Utc>, Value)> = record
        .all("primary")
        .into_iter()
        .filter(|p| time(&p["at"]) >= fault)
        .map(|p| (time(&p["at"]), p["to"].clone()))
        .collect();
    let told: Vec<(DateTime<Utc>, Value)> = timeline
        .iter()
        .filter(|e| e["event"] == "primary")
        .map(|e| (time(&e["at"]), e["to"].clone()))
        .collect();
    assert!(!changes.is_empty());
    assert_eq!(told, changes);
}

#[test]
fn a_run_and_a_drill_report_in_every_format() {
    let scratch = Scratch::new("report-cli");
    let kept = artefacts("demo");
    let record_path = kept.join("run.jsonl");
    let demo = clean_command(
        BIN,
        &scratch,
        &[
            "demo",
            "--output",
            "jsonl",
            "--record",
            record_path.to_str().unwrap(),
            "--script",
            "primary-down@2s,primary-up@6s",
            "--interval",
            "200ms",
            "--duration",
            "14s",
            "--cooldown",
            "2s",
        ],
    )
    .output()
    .unwrap();
    assert!(demo.status.success(), "{}", text(&demo.stderr));
    let recorded = std::fs::read_to_string(&record_path).unwrap();
    let record = Recorded {
        lines: json_lines(&recorded),
    };
    let path = record_path.to_str().unwrap();

    // The plain run: the fault inferred, every budget held: exit 0.
    let out = report(
        &scratch,
        &[
            path,
            "--format",
            "json",
            "--max-failed",
            "0",
            "--max-failover",
            "5s",
            "--min-availability",
            "99.5",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let plain: Value = serde_json::from_slice(&out.stdout).unwrap();
    check_json(&plain, &record);
    let failover = record.transition("failover");
    let fault = &plain["timeline"][0];
    assert_eq!(
        (&fault["event"], &fault["found"]),
        (&json!("fault"), &json!("inferred"))
    );
    // No request failed: the fault is the sending of the first request the fallback served.
    assert_eq!(fault["seq"], failover["seq"]);
    assert_eq!(
        time(&plain["fault_at"]),
        time(&record.request(&failover["seq"])["sent_at"])
    );
    let statuses: Vec<&Value> = plain["budgets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| &b["status"])
        .collect();
    assert_eq!(statuses, [&json!("pass"); 3]);
    assert_eq!(plain["verdict"], "pass");

    // The drill: markers just before the failover's request left and before the recovery's.
    let run_start = time(&record.one("run")["started_at"]);
    let down =
        time(&record.request(&failover["seq"])["sent_at"]) - run_start - Span::milliseconds(100);
    let recovery = record.transition("recovery");
    let up =
        time(&record.request(&recovery["seq"])["sent_at"]) - run_start - Span::milliseconds(50);
    let drilled = with_marker(
        &with_marker(&recorded, 1, down, "drill: down"),
        2,
        up,
        "drill: up",
    );
    let drill_path = kept.join("drill.jsonl");
    std::fs::write(&drill_path, &drilled).unwrap();
    let drill = drill_path.to_str().unwrap();
    let drill_record = Recorded {
        lines: json_lines(&drilled),
    };
    let budgets = [
        "--max-failed",
        "0",
        "--max-recovery",
        "1ms",
        "--max-failover",
        "1h",
    ];
    let run = |format: &str| {
        let mut args = vec![drill, "--format", format];
        args.extend(budgets);
        let out = report(&scratch, &args);
        // The recovery took more than a millisecond: a budget broke.
        assert_eq!(
            out.status.code(),
            Some(1),
            "{format}: {}",
            text(&out.stderr)
        );
        text(&out.stdout)
    };

    let json: Value = serde_json::from_str(&run("json")).unwrap();
    check_json(&json, &drill_record);
    assert_eq!(time(&json["fault_at"]), run_start + down);
    let event = |name: &str| {
        json["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["event"] == name)
            .unwrap()
            .clone()
    };
    assert_eq!(
        (
            event("fault")["found"].clone(),
            event("fault")["marker"].clone()
        ),
        (json!("marker"), json!(1))
    );
    assert_eq!(event("up")["marker"], 2);
    assert_eq!(time(&event("up")["at"]), run_start + up);
    let phases: Vec<&Value> = json["phases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| &p["phase"])
        .collect();
    assert_eq!(phases, ["baseline", "down", "recovering", "settled"]);
    let recovery_secs = json["durations"]["recovery_secs"].as_f64().unwrap();
    let expected = secs(time(&recovery["at"]) - (run_start + up));
    assert!(
        (recovery_secs - expected).abs() < 0.001,
        "{recovery_secs} {expected}"
    );
    let judged: Vec<(Value, Value)> = json["budgets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| (b["budget"].clone(), b["status"].clone()))
        .collect();
    assert_eq!(
        judged,
        [
            (json!("max_failed"), json!("pass")),
            (json!("max_failover"), json!("pass")),
            (json!("max_recovery"), json!("fail")),
        ]
    );
    assert_eq!(json["verdict"], "fail");

    let text_report = run("text");
    assert!(
        text_report.contains("verdict: FAIL: 1 of 3 budgets broken"),
        "{text_report}"
    );
    assert!(text_report.contains("fault injected"), "{text_report}");
    assert!(
        text_report.contains("marker M1 \"drill: down\""),
        "{text_report}"
    );

    // Markdown: the tables' rows, cell by cell.
    let markdown = run("markdown");
    std::fs::write(kept.join("drill.md"), &markdown).unwrap();
    let rows = |first: &str| -> Vec<Vec<String>> {
        markdown
            .lines()
            .filter(|l| l.starts_with('|'))
            .map(|l| {
                l.trim_matches('|')
                    .split(" | ")
                    .map(|c| c.trim().to_owned())
                    .collect::<Vec<_>>()
            })
            .filter(|cells| cells[0] == first)
            .collect()
    };
    assert_eq!(rows("✅ PASS").len(), 2, "{markdown}");
    assert_eq!(
        rows("❌ FAIL"),
        [[
            "❌ FAIL",
            "up → first primary answer ≤ 1.0 ms",
            json["budgets"][2]["figure_text"].as_str().unwrap()
        ]]
    );
    for phase in json["phases"]
        .as_array()
        .unwrap()
        .iter()
        .chain([&json["whole"]])
    {
        let name = phase["phase"].as_str().unwrap_or("whole run");
        let row = rows(name).remove(0);
        assert_eq!(row[3], phase["requests"].to_string(), "{name}: {row:?}");
        assert_eq!(row[4], phase["primary"].to_string(), "{name}: {row:?}");
        assert_eq!(row[5], phase["fallback"].to_string(), "{name}: {row:?}");
    }

    // JUnit, parsed: one test case per budget, a failure for the broken one.
    let junit = run("junit");
    let junit_path = kept.join("drill.xml");
    std::fs::write(&junit_path, &junit).unwrap();
    let parsed: Value =
        serde_json::from_str(&check(&["junit", junit_path.to_str().unwrap()])).unwrap();
    assert_eq!(
        parsed["suite"],
        json!({"tests": 3, "failures": 1, "errors": 0, "skipped": 0})
    );
    let cases: Vec<(Value, Value)> = parsed["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["name"].clone(), c["failure"].clone()))
        .collect();
    assert_eq!(
        cases,
        [
            (json!("max_failed: failed requests ≤ 0"), json!(false)),
            (
                json!("max_failover: fault → first fallback answer ≤ 1h 00m"),
                json!(false)
            ),
            (
                json!("max_recovery: up → first primary answer ≤ 1.0 ms"),
                json!(true)
            ),
        ]
    );
    assert!(parsed["out"].as_str().unwrap().contains("verdict: FAIL"));

    // HTML: well-formed, then in a real browser.
    let html = run("html");
    let html_path = kept.join("drill.html");
    std::fs::write(&html_path, &html).unwrap();
    assert_eq!(check(&["xml", html_path.to_str().unwrap()]).trim(), "html");
    for external in [
        "<script", "<link", "<img", "@import", "src=", "href=", "url(http",
    ] {
        assert!(!html.contains(external), "the page reaches out: {external}");
    }
    let requests = drill_record.all("request").len() + drill_record.all("abandoned").len();
    let dom = browser(&scratch, &html_path, &["--dump-dom"]);
    assert_eq!(chart_marks(&text(&dom.stdout)), requests);
    let screenshot = kept.join("drill.png");
    let shot = browser(
        &scratch,
        &html_path,
        &[
            &format!("--screenshot={}", screenshot.display()),
            "--window-size=1280,900",
        ],
    );
    assert!(screenshot.exists(), "no screenshot: {}", text(&shot.stderr));
    // Not blank: many colours, among them the primary's and the fallback's marks.
    let pixels: Value = serde_json::from_str(&check(&[
        "png",
        screenshot.to_str().unwrap(),
        "0072b2",
        "e69f00",
    ]))
    .unwrap();
    assert_eq!(
        (pixels["width"].as_u64(), pixels["height"].as_u64()),
        (Some(1280), Some(900))
    );
    assert!(pixels["colours"].as_u64().unwrap() > 50, "{pixels}");
    assert!(
        pixels["found"]["0072b2"].as_u64().unwrap() > 100,
        "{pixels}"
    );
    assert!(
        pixels["found"]["e69f00"].as_u64().unwrap() > 100,
        "{pixels}"
    );
}

/// Headless Chromium on `page`, offline and in a profile of its own, bounded in time.
fn browser(scratch: &Scratch, page: &Path, args: &[&str]) -> Output {
    let chromium = std::env::var_os("PATH")
        .and_then(|path| {
            std::env::split_paths(&path)
                .map(|dir| dir.join("chromium"))
                .find(|candidate| candidate.exists())
        })
        .expect("chromium is missing: tests/setup.sh installs it (Debian package chromium)");
    let profile = scratch.0.join("chromium-profile");
    let out = Command::new("timeout")
        .arg("60")
        .arg(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap();
    assert!(out.status.success(), "chromium: {}", text(&out.stderr));
    out
}

/// The request marks in the page's figure, as the browser built it.
fn chart_marks(dom: &str) -> usize {
    let start = dom.find("class=\"chart\"").expect("the figure in the DOM");
    let end = start + dom[start..].find("</svg>").expect("the figure's end");
    dom[start..end].matches("class=\"mark ").count()
}

#[test]
fn a_long_record_is_drawn_in_bins() {
    let scratch = Scratch::new("report-long");
    let kept = artefacts("long");
    // 5000 requests a second apart, the fallback serving from 2000 s to 2300 s.
    let start = DateTime::parse_from_rfc3339("2026-11-23T14:00:00Z")
        .unwrap()
        .with_timezone(&Utc);
    let at = |secs: f64| {
        (start + Span::microseconds((secs * 1e6) as i64))
            .to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
    };
    let mut lines = vec![json!({
        "type": "run", "record_version": 1, "started_at": at(0.0), "utc_offset_secs": 0,
        "url": "http://litellm.example:4000", "primary": "llama-fp8", "fallback": "llama3",
        "interval_ms": 1000.0, "timeout_ms": 60000.0, "down_after": 2, "stream": false,
        "simulated": false, "direct": false,
    })];
    for seq in 1..=5000u64 {
        let sent = (seq - 1) as f64;
        let (result, model) = if (2000.0..2300.0).contains(&sent) {
            ("fallback", "ollama/llama3")
        } else {
            ("primary", "llama-fp8")
        };
        lines.push(json!({
            "type": "request", "seq": seq, "sent_at": at(sent), "latency_ms": 20.0 + (seq % 5) as f64,
            "result": result, "model": model, "status": 200, "late": false,
        }));
    }
    let record = lines
        .iter()
        .map(Value::to_string)
        .collect::<Vec<_>>()
        .join("\n")
        + "\n";
    let path = kept.join("long.jsonl");
    std::fs::write(&path, record).unwrap();
    let html_path = kept.join("long.html");
    let out = report(
        &scratch,
        &[
            path.to_str().unwrap(),
            "--format",
            "html",
            "-o",
            html_path.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let html = std::fs::read_to_string(&html_path).unwrap();
    assert!(html.len() < 250_000, "{} bytes", html.len());
    assert_eq!(check(&["xml", html_path.to_str().unwrap()]).trim(), "html");
    assert_eq!(chart_marks(&html), 0);
    assert!(
        html.contains("5000 requests drawn in 400 bins of 12.5 s"),
        "no note of the bins"
    );
    let out = report(&scratch, &[path.to_str().unwrap(), "--format", "json"]);
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["whole"]["requests"], 5000);
    assert_eq!(json["whole"]["fallback"], 300);
    assert_eq!(time(&json["fault_at"]), start + Span::seconds(2000));
}

#[test]
fn what_cannot_be_read_exits_2() {
    let scratch = Scratch::new("report-exit");
    let not_a_record = scratch.file("notes.txt", "hello\n");
    let out = report(&scratch, &[not_a_record.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("this is not a failover-watch record"));
    let out = report(&scratch, &[scratch.0.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("it is a folder"),
        "{}",
        text(&out.stderr)
    );

    // A record whose last line was cut: reported up to it, said, exit 2.
    let run = r#"{"type":"run","record_version":1,"started_at":"2026-11-23T14:00:00Z","utc_offset_secs":0,"url":"http://127.0.0.1:4000","primary":"llama-fp8","fallback":"llama3","interval_ms":1000.0,"timeout_ms":60000.0,"down_after":2,"stream":false,"simulated":false,"direct":false}"#;
    let request = |seq: u32| {
        format!(
            r#"{{"type":"request","seq":{seq},"sent_at":"2026-11-23T14:00:0{seq}Z","latency_ms":20.0,"result":"primary","model":"llama-fp8","status":200,"late":false}}"#
        )
    };
    let whole = format!("{run}\n{}\n{}\n", request(1), request(2));
    let cut = scratch.file("cut.jsonl", &whole[..whole.len() - 30]);
    let out = report(&scratch, &[cut.to_str().unwrap(), "--max-failed", "0"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("line 3 is cut short"),
        "{}",
        text(&out.stderr)
    );
    assert!(
        text(&out.stdout).contains("damaged record: "),
        "{}",
        text(&out.stdout)
    );

    // The same record whole: a budget held, exit 0 (a broken one's 1: see above); bad
    // budgets and drill setups are refused.
    let good = scratch.file("good.jsonl", &whole);
    let out = report(&scratch, &[good.to_str().unwrap(), "--max-failed", "0"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let out = report(
        &scratch,
        &[good.to_str().unwrap(), "--min-availability", "100.1"],
    );
    assert_eq!(
        out.status.code(),
        Some(2),
        "a percentage over 100 is refused"
    );
    let drill = scratch.file("drill.json", r#"{"comands": []}"#);
    let out = report(
        &scratch,
        &[good.to_str().unwrap(), "--drill", drill.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("unknown field `comands`"),
        "{}",
        text(&out.stderr)
    );
}
