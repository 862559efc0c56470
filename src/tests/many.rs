//! A run of several targets in the text story and the JSON lines: each line names its target,
//! a failover is one target's, the summary has a block per target and the totals.

use std::time::Duration;

use crate::output::{JsonLines, Output, RunInfo, TargetInfo};
use crate::probe::{Lane, ProbeEvent, ProbeOutcome, Role, TargetId};
use crate::state::Watch;

use super::{run_info, served, wall};

/// Two targets on one proxy: `qwen-72b` (falling back to `qwen-7b`) and the seed's.
fn two_targets() -> RunInfo {
    let mut info = run_info(false);
    let seed = info.targets[0].clone();
    info.targets.insert(
        0,
        TargetInfo {
            name: "qwen-72b".into(),
            primary: "qwen-72b".into(),
            fallback: Some("qwen-7b".into()),
            ..seed
        },
    );
    info
}

fn answer(target: u16, seq: u64, at_ms: u64, role: Role, model: &str) -> ProbeEvent {
    ProbeEvent::Answered(Box::new(ProbeOutcome {
        target: TargetId(target),
        lane: Lane::Normal,
        seq,
        sent_at: Duration::from_millis(at_ms),
        report: served(role, model, "Hi.", Duration::from_millis(20)),
    }))
}

/// The text story and the JSON lines of a run in which `qwen-72b` alone fails over.
fn told() -> (String, Vec<serde_json::Value>) {
    let info = two_targets();
    let mut watch = Watch::new(info.monitors());
    let (mut text, mut lines) = (Vec::new(), Vec::new());
    {
        let mut story = crate::output::TextStory::new(&mut text, wall(), false).of(&info);
        let mut json = JsonLines::new(&mut lines, wall());
        story.begin(&info).unwrap();
        json.begin(&info).unwrap();
        let events = [
            answer(0, 1, 0, Role::Primary, "qwen-72b"),
            answer(1, 1, 500, Role::Primary, "llama-fp8"),
            answer(0, 2, 1000, Role::Fallback, "qwen-7b"),
            answer(1, 2, 1500, Role::Primary, "llama-fp8"),
        ];
        for event in events {
            for told in watch.apply(event.into()) {
                story.tell(&told, &watch).unwrap();
                json.tell(&told, &watch).unwrap();
            }
        }
        let now = Duration::from_secs(2);
        story.end(&watch, now).unwrap();
        json.end(&watch, now).unwrap();
    }
    let lines = String::from_utf8(lines)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    (String::from_utf8(text).unwrap(), lines)
}

#[test]
fn the_story_names_the_target_of_each_line_and_sums_the_targets() {
    let (text, _) = told();
    assert!(
        text.contains(
            "  Targets: 2\n    qwen-72b: qwen-72b → qwen-7b at http://127.0.0.1:4000, every 1s"
        ),
        "{text}"
    );
    assert!(
        text.contains("[!] FAILOVER DETECTED on qwen-72b: qwen-72b → qwen-7b"),
        "{text}"
    );
    assert_eq!(text.matches("DETECTED").count(), 1, "{text}");
    assert!(
        text.contains("Request #2 on llama-fp8: ✓ PRIMARY"),
        "{text}"
    );
    assert!(
        text.contains("Request #2 on qwen-72b: ✓ FALLBACK"),
        "{text}"
    );
    for title in ["qwen-72b", "llama-fp8", "all 2 targets"] {
        assert!(
            text.contains(&format!("Failover Watch Summary: {title}\n")),
            "{text}"
        );
    }
    assert!(
        text.contains("At the end: 1 on their primary, 1 on a fallback, 0 down or not answered"),
        "{text}"
    );
    let totals = &text[text.find("all 2 targets").unwrap()..];
    assert!(
        totals.contains("Total requests: 4") && totals.contains("Failovers: 1,"),
        "{text}"
    );
}

#[test]
fn every_json_line_of_a_target_names_it_and_the_totals_close_the_run() {
    let (_, lines) = told();
    let of = |kind: &str| -> Vec<&serde_json::Value> {
        lines.iter().filter(|l| l["type"] == kind).collect()
    };
    let targets: Vec<&str> = of("request")
        .iter()
        .map(|l| l["target"].as_str().unwrap())
        .collect();
    assert_eq!(targets, ["qwen-72b", "llama-fp8", "qwen-72b", "llama-fp8"]);
    let transitions = of("transition");
    assert_eq!(transitions.len(), 1, "{lines:?}");
    assert_eq!(transitions[0]["target"], "qwen-72b");
    let summaries: Vec<&str> = of("summary")
        .iter()
        .map(|l| l["target"].as_str().unwrap())
        .collect();
    assert_eq!(summaries, ["qwen-72b", "llama-fp8"]);
    let totals = of("totals");
    assert_eq!(totals.len(), 1, "{lines:?}");
    assert_eq!(
        (
            &totals[0]["targets"],
            &totals[0]["on_primary"],
            &totals[0]["on_fallback"]
        ),
        (&2.into(), &1.into(), &1.into())
    );
}

#[test]
fn each_of_several_targets_keeps_a_shorter_history() {
    let one = run_info(false).monitors();
    let two = two_targets().monitors();
    assert_eq!(one[0].history, 1024);
    assert_eq!(
        two.iter().map(|m| m.history).collect::<Vec<_>>(),
        [crate::output::MANY_HISTORY; 2]
    );
    let mut watch = Watch::new(two);
    for seq in 1..=300 {
        let at = seq * 1000;
        watch.apply(answer(1, seq, at, Role::Primary, "llama-fp8").into());
    }
    assert_eq!(watch.target(TargetId(1)).history().len(), 256);
}
