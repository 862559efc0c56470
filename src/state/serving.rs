//! Who is serving now, and the transitions between serving states.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The serving state as the latest answers show it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Serving {
    /// No answer yet.
    Unknown,
    Primary {
        model: String,
    },
    Fallback {
        model: String,
    },
    /// Consecutive failed requests, as many as `down_after`.
    Down,
}

impl Serving {
    pub fn kind(&self) -> Option<ServingKind> {
        match self {
            Serving::Unknown => None,
            Serving::Primary { .. } => Some(ServingKind::Primary),
            Serving::Fallback { .. } => Some(ServingKind::Fallback),
            Serving::Down => Some(ServingKind::Down),
        }
    }

    pub fn model(&self) -> Option<&str> {
        match self {
            Serving::Primary { model } | Serving::Fallback { model } => Some(model),
            Serving::Unknown | Serving::Down => None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ServingKind {
    Primary,
    Fallback,
    Down,
}

impl ServingKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ServingKind::Primary => "primary",
            ServingKind::Fallback => "fallback",
            ServingKind::Down => "down",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TransitionKind {
    /// Away from the primary.
    Failover,
    /// Back to the primary from a fallback.
    Recovery,
    /// Nothing answers any more.
    Outage,
    /// Something answers again after an outage.
    Restored,
}

impl TransitionKind {
    pub const ALL: [TransitionKind; 4] = [
        TransitionKind::Failover,
        TransitionKind::Recovery,
        TransitionKind::Outage,
        TransitionKind::Restored,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TransitionKind::Failover => "failover",
            TransitionKind::Recovery => "recovery",
            TransitionKind::Outage => "outage",
            TransitionKind::Restored => "restored",
        }
    }

    /// The kind of move from one known state to a different one; `None` when nothing changed.
    /// Who serves is the side (primary, fallback, nobody): another model or deployment on the
    /// same side (a group of several deployments, a gateway naming each answer anew) is a
    /// detail of the state, never a move.
    pub fn between(from: &Serving, to: &Serving) -> Option<TransitionKind> {
        match (from, to) {
            (Serving::Unknown, _) | (_, Serving::Unknown) => None,
            (Serving::Down, Serving::Down) => None,
            (Serving::Primary { .. }, Serving::Primary { .. }) => None,
            (Serving::Fallback { .. }, Serving::Fallback { .. }) => None,
            (Serving::Primary { .. }, Serving::Fallback { .. }) => Some(TransitionKind::Failover),
            (Serving::Fallback { .. }, Serving::Primary { .. }) => Some(TransitionKind::Recovery),
            (_, Serving::Down) => Some(TransitionKind::Outage),
            (Serving::Down, _) => Some(TransitionKind::Restored),
        }
    }
}

/// A change of serving state, with what it cost.
#[derive(Clone, Debug, PartialEq)]
pub struct Transition {
    /// When the answer that showed it arrived.
    pub at: Duration,
    /// The request that showed it.
    pub seq: u64,
    pub kind: TransitionKind,
    pub from: ServingKind,
    pub to: ServingKind,
    pub from_model: Option<String>,
    pub to_model: Option<String>,
    /// How long the previous state lasted.
    pub previous: Duration,
    /// Failed requests between the last success before the switch and this answer.
    pub failed_during: u64,
    /// How long after the pending marker this came, if one was dropped.
    pub after_marker: Option<MarkerLag>,
    /// Why the primary was away, as its own state told (failovers and outages).
    pub cause: Option<String>,
    /// How long LiteLLM held the primary in cooldown before a recovery.
    pub primary_cooldown: Option<Duration>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MarkerLag {
    pub marker: u32,
    pub lag: Duration,
    pub label: Option<String>,
}

/// A moment the user marked ("scaled down now").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Marker {
    pub id: u32,
    pub at: Duration,
    /// The last request sent before the marker, to place it on the timeline.
    pub after_seq: u64,
    /// What the moment was ("scaled to 0"), when told.
    pub label: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn primary() -> Serving {
        Serving::Primary {
            model: "llama-fp8".into(),
        }
    }
    fn fallback(model: &str) -> Serving {
        Serving::Fallback {
            model: model.into(),
        }
    }

    #[test]
    fn kinds_of_moves() {
        use TransitionKind::*;
        let cases = [
            (Serving::Unknown, primary(), None),
            (Serving::Unknown, Serving::Down, None),
            (primary(), primary(), None),
            (primary(), fallback("ollama/llama3"), Some(Failover)),
            (fallback("ollama/llama3"), primary(), Some(Recovery)),
            // Another deployment of the fallback: the same side.
            (fallback("a"), fallback("b"), None),
            (fallback("a"), fallback("a"), None),
            (primary(), Serving::Down, Some(Outage)),
            (fallback("a"), Serving::Down, Some(Outage)),
            (Serving::Down, primary(), Some(Restored)),
            (Serving::Down, fallback("a"), Some(Restored)),
            (Serving::Down, Serving::Down, None),
        ];
        for (from, to, expected) in cases {
            assert_eq!(
                TransitionKind::between(&from, &to),
                expected,
                "{from:?} -> {to:?}"
            );
        }
    }
}
