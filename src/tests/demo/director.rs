//! The demo's `director`.

use std::time::Duration;

use crate::modes::demo::director::*;
use crate::modes::demo::stage::Side;
use ratatui::crossterm::event::KeyCode;

use crate::ui::Action;

#[test]
fn progress_reads_well() {
    assert_eq!(
        progress(Some("primary-up@20s".into()), None),
        "next primary-up@20s"
    );
    assert_eq!(
        progress(None, Some(Duration::from_secs(36))),
        "done (loop every 36s)"
    );
}

#[test]
fn every_key_switches_what_its_help_says() {
    for binding in KEYS.bindings {
        let switches: Vec<_> = binding
            .keys
            .iter()
            .map(|(code, action)| match action {
                Action::Mode(action) => (*code, switch_of(*action).expect("a switch")),
                other => panic!("{other:?} is not the demo's"),
            })
            .collect();
        // Lower case aims at the primary, capitals at the fallback, with the same fault.
        let [(lower, (first, fault)), (upper, (second, same))] = switches[..] else {
            panic!("{binding:?}");
        };
        assert_eq!(
            (first, second, fault),
            (Side::Primary, Side::Fallback, same),
            "{binding:?}"
        );
        assert!(
            matches!((lower, upper), (KeyCode::Char(l), KeyCode::Char(u)) if u == l.to_ascii_uppercase())
        );
        assert!(binding.help.1.contains("primary / fallback"), "{binding:?}");
    }
}

#[test]
fn with_several_groups_a_digit_chooses_one_and_the_switches_stay_the_same() {
    let (choose, switches) = GROUP_KEYS.bindings.split_first().unwrap();
    assert_eq!(switches.len(), KEYS.bindings.len());
    for (with_groups, alone) in switches.iter().zip(KEYS.bindings) {
        assert_eq!(with_groups.keys, alone.keys);
    }
    let chosen: Vec<(KeyCode, Option<usize>)> = choose
        .keys
        .iter()
        .map(|(code, action)| match action {
            Action::Mode(action) => (*code, choice_of(*action)),
            other => panic!("{other:?} is not the demo's"),
        })
        .collect();
    let expected: Vec<(KeyCode, Option<usize>)> = (1..=9)
        .map(|n| (KeyCode::Char(char::from(b'0' + n as u8)), Some(n)))
        .collect();
    assert_eq!(chosen, expected);
    // No switch reads as a choice, nor a choice as a switch.
    for binding in KEYS.bindings {
        for (_, action) in binding.keys {
            let Action::Mode(action) = action else {
                panic!()
            };
            assert_eq!(choice_of(*action), None);
        }
    }
    for (_, action) in choose.keys {
        let Action::Mode(action) = action else {
            panic!()
        };
        assert_eq!(switch_of(*action), None);
    }
}
