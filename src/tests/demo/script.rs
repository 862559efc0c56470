//! The demo's `script`.

use std::time::Duration;

use crate::modes::demo::script::*;
use crate::modes::demo::stage::{Fault, Side};

#[test]
fn steps_are_read_and_sorted_by_time() {
    let s = Script::parse(" fallback-down@40s , primary-down@10s,primary-UP@1m,primary-hang@0")
        .unwrap();
    let cues: Vec<String> = s.cues().iter().map(Cue::to_string).collect();
    assert_eq!(
        cues,
        [
            "primary-hang@0s",
            "primary-down@10s",
            "fallback-down@40s",
            "primary-up@60s"
        ]
    );
    assert_eq!(s.cues()[2].target, Side::Fallback);
    assert!(s.groups().is_empty());
    assert_eq!(
        s.to_string(),
        "primary-hang@0s,primary-down@10s,fallback-down@40s,primary-up@60s"
    );
    let slow = Script::parse("primary-slow@2.5,primary-error@3s").unwrap();
    assert_eq!(slow.cues()[0].at, Duration::from_millis(2500));
    assert_eq!(slow.cues()[0].to_string(), "primary-slow@2.5s");
    assert_eq!(slow.cues()[1].fault, Fault::Error);
    assert!(slow.cues().iter().all(|c| c.target == Side::Primary));
    assert!(Script::parse(BUILT_IN).is_ok());
}

#[test]
fn a_step_may_name_its_group_before_a_colon() {
    let s = Script::parse("qwen-72b:primary-down@5s, ns:model:fallback-error@2s,primary-up@9s")
        .unwrap();
    let groups: Vec<Option<&str>> = s.cues().iter().map(|c| c.group.as_deref()).collect();
    assert_eq!(groups, [Some("ns:model"), Some("qwen-72b"), None]);
    assert_eq!(s.cues()[0].target, Side::Fallback);
    assert_eq!(s.groups(), ["ns:model", "qwen-72b"]);
    assert_eq!(
        s.to_string(),
        "ns:model:fallback-error@2s,qwen-72b:primary-down@5s,primary-up@9s"
    );
    let error = Script::parse(":primary-down@5s").unwrap_err();
    assert!(error.contains("no group before the colon"), "{error}");
}

#[test]
fn bad_steps_are_named_with_the_reason() {
    let cases = [
        ("", "no steps"),
        (" , ", "no steps"),
        ("primary-down", "\"primary-down\": no time"),
        ("primary@3s", "expected TARGET-ACTION"),
        (
            "secondary-down@3s",
            "unknown target \"secondary\" (primary or fallback)",
        ),
        (
            "primary-sideways@3s",
            "unknown action \"sideways\" (down, error, hang, slow or up)",
        ),
        ("primary-down@soon", "bad time \"soon\""),
        ("primary-down@-3", "bad time \"-3\""),
        ("primary-down@3s,primary-up", "\"primary-up\": no time"),
    ];
    for (text, reason) in cases {
        let error = Script::parse(text).unwrap_err();
        assert!(error.contains(reason), "{text:?}: {error}");
        assert!(error.starts_with("--script"), "{error}");
    }
}

#[test]
fn a_pass_lasts_until_the_recovery_can_be_seen() {
    let s = Script::parse(BUILT_IN).unwrap();
    let secs = Duration::from_secs;
    assert_eq!(s.pass(secs(10), secs(3), secs(30)), secs(36));
    assert_eq!(
        s.pass(secs(1), Duration::from_millis(200), secs(30)),
        secs(22)
    );
    let short = Script::parse("primary-down@1s,primary-up@3s").unwrap();
    assert_eq!(
        short.pass(secs(1), Duration::from_millis(200), secs(30)),
        secs(5)
    );
    // A request hung just before the last cue fails a router timeout later.
    let hang = Script::parse("primary-hang@5s,primary-up@20s").unwrap();
    assert_eq!(hang.pass(secs(10), secs(3), secs(30)), secs(66));
}
