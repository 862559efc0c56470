//! The demo's `director`.

use std::time::Duration;

use crate::modes::demo::director::*;
use crate::modes::demo::stage::Target;
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
    let actions: Vec<usize> = KEYS
        .bindings
        .iter()
        .flat_map(|b| b.keys.iter())
        .filter_map(|(_, action)| match action {
            Action::Mode(n) => Some(*n),
            _ => None,
        })
        .collect();
    assert_eq!(actions, (0..SWITCHES.len()).collect::<Vec<_>>());
    for (binding, pair) in KEYS.bindings.iter().zip(SWITCHES.chunks(2)) {
        assert_eq!(
            (pair[0].0, pair[1].0, pair[0].1),
            (Target::Primary, Target::Fallback, pair[1].1),
            "{binding:?}"
        );
    }
}
