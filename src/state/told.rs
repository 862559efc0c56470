//! What the outputs are told, in the order the state took it: each fact as the core decided it
//! (who served, the transition and its cause, what a direct answer says of the primary), so
//! that no output works a fact out again or reaches back into the state to complete it.

use std::time::Duration;

use super::{Marker, Notice, PrimaryChange, PrimaryKind, ProxyNow, Transition};
use crate::litellm::prometheus::ProxyReading;
use crate::probe::{ProbeEvent, ProbeOutcome, TargetId};

#[derive(Clone, Debug, PartialEq)]
pub enum Told {
    /// A probe left, a tick was skipped (too many in flight), or a probe was abandoned when
    /// the run ended: the schedule's event as it came (never an answer: those are below).
    Probe(ProbeEvent),
    /// A request answered: who served it, and the transition it showed.
    Request(Box<RequestTold>),
    /// The primary's lane answered (a direct probe, LiteLLM's health check): what it says of
    /// the primary's own state.
    Direct(Box<DirectTold>),
    /// LiteLLM's own metrics changed: the reading (kept in the record for a replay) and what
    /// LiteLLM says now.
    Proxy(Box<ProxyTold>),
    /// Something told once: about a target (a router timeout, say), or about the whole run
    /// (the record cannot be written).
    Notice {
        target: Option<TargetId>,
        notice: Notice,
    },
    /// A marker dropped (a key, `failover-watch mark`, a record): the moment, on every target.
    Marker(Marker),
    /// The dashboard's counters started afresh (`r`): kept in the record for a replay.
    Reset { at: Duration },
    /// The time between probes changed (`+`/`-`): kept in the record for a replay.
    Interval { at: Duration, every: Duration },
}

/// A request's answer, and what it changed.
#[derive(Clone, Debug, PartialEq)]
pub struct RequestTold {
    pub outcome: ProbeOutcome,
    /// Answered after a later request had already answered.
    pub late: bool,
    pub transition: Option<Transition>,
    /// The transition's explanation is coming from the primary's lane (its tick's direct
    /// probe, the health check asked for it).
    pub awaits_lane: bool,
    /// The primary's own state changed (the quiet lane: it served this request again).
    pub change: Option<PrimaryChange>,
}

/// A direct probe's answer, and what it says of the primary.
#[derive(Clone, Debug, PartialEq)]
pub struct DirectTold {
    pub outcome: ProbeOutcome,
    /// What this answer says of the primary on its own.
    pub observed: PrimaryKind,
    /// When LiteLLM will try the primary again, from this answer on (estimated, in a
    /// cooldown).
    pub retry_in: Option<Duration>,
    /// The primary's own state changed.
    pub change: Option<PrimaryChange>,
    /// The transition of this answer's tick, as it stands once the answer said why.
    pub explains: Option<Transition>,
    /// The lane runs otherwise from now on (no health check here: direct probes).
    pub lane_mode: Option<crate::probe::DirectMode>,
}

/// LiteLLM's own metrics, read and changed, or found unreadable (the first time).
#[derive(Clone, Debug, PartialEq)]
pub struct ProxyTold {
    pub target: TargetId,
    pub at: Duration,
    /// As read: what a replay reads again.
    pub reading: Result<ProxyReading, String>,
    /// What LiteLLM says now, when it was read.
    pub now: Option<ProxyNow>,
}

impl Told {
    /// The change of the primary's own state this tells, whichever answer showed it.
    pub fn primary_change(&self) -> Option<&PrimaryChange> {
        match self {
            Told::Request(told) => told.change.as_ref(),
            Told::Direct(told) => told.change.as_ref(),
            _ => None,
        }
    }

    /// The target it belongs to; `None` for what belongs to the moment (markers, resets,
    /// interval changes, notices about the run).
    pub fn target(&self) -> Option<TargetId> {
        match self {
            Told::Probe(event) => Some(event.target()),
            Told::Request(told) => Some(told.outcome.target),
            Told::Direct(told) => Some(told.outcome.target),
            Told::Proxy(told) => Some(told.target),
            Told::Notice { target, .. } => *target,
            Told::Marker(_) | Told::Reset { .. } | Told::Interval { .. } => None,
        }
    }
}
