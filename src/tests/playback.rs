//! A record played back: the same state, the same dashboard, the same lines as the run that
//! was recorded; damaged records refused with the line and the reason; the player's keys.

use std::sync::atomic::AtomicU64;
use std::time::Duration;

use ratatui::buffer::Buffer;
use ratatui::crossterm::event::KeyCode;

use super::dashboard_loop::{Scripted, keys};
use super::{Ran, Scratch, drive_dashboard, key, run_info, schedule, start_session};
use crate::modes::replay::record::{self, Record};
use crate::modes::replay::{Pace, play};
use crate::output::schema::SummaryLine;
use crate::output::{Outputs, Recorder};
use crate::state::Input;
use crate::ui;

/// A live run of the scripted proxy with the dashboard loop's keys (a labelled marker, a
/// pause, an interval change, a reset), recorded; and the record read back.
async fn recorded_run(scratch: &Scratch) -> (Ran, Record) {
    let path = scratch.0.join("run.jsonl");
    let recorder = Recorder::to_file(&path, super::wall()).unwrap();
    let session = start_session(
        Scripted(AtomicU64::new(0)),
        schedule(Duration::from_secs(1)),
    );
    let outputs = Outputs::new(vec![Box::new(recorder)]);
    let live = drive_dashboard(session, run_info(false), (120, 40), &keys(), None, outputs).await;
    let bytes = std::fs::read(&path).unwrap();
    let record = record::read(bytes.as_slice(), "run.jsonl").unwrap();
    (live, record)
}

/// The text of `area` of a buffer, row by row.
fn text_of(buffer: &Buffer, area: ratatui::layout::Rect) -> String {
    let mut text = String::new();
    for y in area.top()..area.bottom() {
        for x in area.left()..area.right() {
            text.push_str(buffer[(x, y)].symbol());
        }
        text.push('\n');
    }
    text
}

#[tokio::test(start_paused = true)]
async fn a_replay_ends_on_the_dashboard_the_live_run_ended_on() {
    let scratch = Scratch::new("playback-dashboard");
    let (live, record) = recorded_run(&scratch).await;
    assert_eq!(record.end, live.end, "the record ends when the run did");
    assert!(record.damage.is_none());

    let pace = Pace {
        speed: 1.0,
        instant: false,
        hold_at_end: true,
    };
    let info = record.info.clone();
    let end = record.end;
    // '+' at 4.5 s is in the record, as the time it was pressed and the interval it chose.
    let intervals: Vec<_> = record
        .steps
        .iter()
        .filter_map(|(_, step)| match step {
            Input::Interval { at, every } => Some((*at, *every)),
            _ => None,
        })
        .collect();
    assert_eq!(
        intervals,
        [(Duration::from_millis(4500), Duration::from_secs(2))]
    );
    let (session, mode) = play(record, pace);
    // Played at its own pace, held at the end, quit a second later.
    let quit = [(end.as_secs_f64() + 1.0, key(KeyCode::Char('q')))];
    let off = Outputs::default();
    let replayed = drive_dashboard(session, info, (120, 40), &quit, Some(mode), off).await;

    // The same state: the interval the run ended with, the whole run's summary, and what
    // the dashboard counts since `r`.
    assert_eq!(replayed.dashboard.interval, live.dashboard.interval);
    let summary = |ran: &Ran| serde_json::to_value(SummaryLine::new(&ran.monitor, end)).unwrap();
    assert_eq!(summary(&replayed), summary(&live));
    assert_eq!(
        replayed.monitor.since_reset().counters,
        live.monitor.since_reset().counters
    );
    assert_eq!(
        replayed.monitor.markers().last().unwrap().label.as_deref(),
        Some("down")
    );
    // The same banner, counters and transitions on the screen.
    let areas = ui::layout::areas(ratatui::layout::Rect::new(0, 0, 120, 40), false).unwrap();
    let live_screen = live.screen.terminal.backend().buffer();
    let replay_screen = replayed.screen.terminal.backend().buffer();
    for (pane, area) in [
        ("banner", areas.banner),
        ("counters", areas.counters.unwrap()),
        ("transitions", areas.events.unwrap()),
        ("timeline", areas.timeline.unwrap()),
    ] {
        // The replay's position has a line of its own in the banner: set aside, with the
        // blank lines.
        let shown = |screen| {
            text_of(screen, area)
                .lines()
                .filter(|l| !l.contains("replay of") && !l.trim_matches(['│', ' ']).is_empty())
                .collect::<Vec<_>>()
                .join("\n")
        };
        assert_eq!(
            shown(replay_screen),
            shown(live_screen),
            "the {pane} differs"
        );
    }
    insta::assert_snapshot!("replay-end-120x40", replayed.screen.terminal.backend());
}

#[tokio::test(start_paused = true)]
async fn keys_step_through_requests_and_transitions_and_back() {
    let scratch = Scratch::new("playback-keys");
    let (live, record) = recorded_run(&scratch).await;
    let transitions: Vec<u64> = live.monitor.transitions().iter().map(|t| t.seq).collect();
    assert_eq!(transitions, [6, 11]);
    let pace = Pace {
        speed: 1.0,
        instant: false,
        hold_at_end: true,
    };
    let info = record.info.clone();
    let (session, mode) = play(record, pace);
    // Paused at once, then: the next transition, one request on, one back, one back again,
    // the next transition twice, the previous one.
    let steps = [
        (0.1, key(KeyCode::Char(' '))),
        (0.2, key(KeyCode::Char(']'))),
        (0.3, key(KeyCode::Right)),
        (0.4, key(KeyCode::Left)),
        (0.5, key(KeyCode::Left)),
        (0.6, key(KeyCode::Char(']'))),
        (0.7, key(KeyCode::Char(']'))),
        (0.8, key(KeyCode::Char('['))),
        (0.9, key(KeyCode::Char('q'))),
    ];
    let off = Outputs::default();
    let ran = drive_dashboard(session, info, (120, 40), &steps, Some(mode), off).await;
    // Where each key left the replay: the last request shown, from the frames' footers.
    let shown: Vec<String> = ran
        .screen
        .frames
        .iter()
        .filter_map(|(_, frame)| {
            let footer = frame.lines().last()?;
            let start = footer.find("request ")? + "request ".len();
            Some(footer[start..].split_whitespace().next()?.to_owned())
        })
        .fold(Vec::new(), |mut seen, n| {
            if seen.last() != Some(&n) {
                seen.push(n);
            }
            seen
        });
    // 6 (the failover), 7, 6, 5, 6 (the failover again), 11 (the recovery), 6.
    let after_pause = shown
        .iter()
        .skip_while(|n| *n != "6")
        .cloned()
        .collect::<Vec<_>>();
    assert_eq!(
        after_pause,
        ["6", "7", "6", "5", "6", "11", "6"],
        "{shown:?}"
    );
    // The header's interval is the one of the moment shown: '+' was pressed between
    // requests 5 and 6, so stepping back to 5 shows the first interval again.
    let every = |request: &str| -> Vec<&str> {
        let mut seen: Vec<&str> = ran
            .screen
            .frames
            .iter()
            .filter(|(_, frame)| {
                let footer = frame.lines().last().unwrap_or_default();
                footer.contains(&format!("request {request} "))
            })
            .filter_map(|(_, frame)| {
                let header = frame.lines().next()?;
                header.split("every ").nth(1)?.split_whitespace().next()
            })
            .collect();
        seen.dedup();
        seen
    };
    assert_eq!(every("5"), ["1s"]);
    assert_eq!(every("6"), ["2s"]);
}

#[test]
fn damaged_records_are_refused_with_the_line_and_why() {
    let run = r#"{"type":"run","record_version":1,"tool_version":"0.1.0","started_at":"2026-11-23T14:00:00.000000Z","utc_offset_secs":0,"url":"http://127.0.0.1:4000","primary":"llama-fp8","fallback":"llama3","interval_ms":1000.0,"timeout_ms":30000.0,"down_after":2,"stream":false,"simulated":false,"direct":false}"#;
    let request = r#"{"type":"request","seq":1,"sent_at":"2026-11-23T14:00:00.000000Z","latency_ms":20.0,"ttft_ms":null,"result":"primary","model":"llama-fp8","model_group":"llama-fp8","api_base":null,"attempted_fallbacks":0,"status":200,"error_kind":null,"error":null,"reply":"Hi.","model_id":null,"evidence":"model_group_header","late":false}"#;
    let read = |text: &[u8]| record::read(text, "r.jsonl").map(|_| ()).unwrap_err().0;
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (Vec::new(), "r.jsonl is empty: no record to replay"),
        (
            b"\n \n\t\n  ".to_vec(),
            "r.jsonl is empty: no record to replay",
        ),
        (
            format!("\n{run}\n").into_bytes(),
            "r.jsonl: line 1 is not JSON",
        ),
        (
            vec![0x89, b'P', b'N', b'G', 0, 0xff, b'\n'],
            "r.jsonl: line 1 it is not text: this is not a failover-watch record",
        ),
        (
            format!("{request}\n").into_bytes(),
            "r.jsonl: line 1 is not the run's line",
        ),
        (
            format!("{run}\n{request}\nnot json at all\n{request}\n").into_bytes(),
            "r.jsonl: line 3: is not JSON: expected ident at line 1 column 2",
        ),
        (
            format!("{run}\n{}\n", request.replace(r#""latency_ms":20.0,"#, "")).into_bytes(),
            "r.jsonl: line 2: is not a line of a record: missing field `latency_ms`",
        ),
        (
            format!(
                "{}\n",
                run.replace(r#""record_version":1"#, r#""record_version":9"#)
            )
            .into_bytes(),
            "r.jsonl: line 1 is a record_version 9 record, from a newer failover-watch",
        ),
    ];
    for (bytes, expected) in cases {
        let message = read(&bytes);
        assert!(
            message.starts_with(expected),
            "{message:?}\nexpected {expected:?}"
        );
    }

    // A record cut in its last line plays up to the line before, and says so.
    let cut = format!("{run}\n{request}\n{}", &request[..60]);
    let record = record::read(cut.as_bytes(), "r.jsonl").unwrap();
    assert_eq!(
        record
            .damage
            .as_deref()
            .map(|d| d.split(" (").next().unwrap()),
        Some("r.jsonl: line 3 is cut short")
    );
    assert!(record.damage.unwrap().ends_with("replayed up to line 2"));
    // Sent, then answered: one request.
    assert_eq!(record.steps.len(), 2);
    assert_eq!(record.end, Duration::from_millis(20));
}
