//! What the outputs (and the record) are told, in order. A failover or a recovery shown by a
//! request waits a little for the primary's lane: the direct probe sent on the same tick
//! (`--direct probe`), or the health check the quiet lane asks as the primary goes away. Its
//! answer, which often comes a moment later, tells why the primary was away or how long
//! LiteLLM held it back; a lane probe sent before the request cannot tell it. The
//! state says which transitions wait ([`RequestTold::awaits_lane`]) and completes them
//! ([`DirectTold::explains`]); the outbox only holds and releases. What comes meanwhile for
//! the same target (a late answer of an older probe, the next tick), or for the whole run,
//! waits behind it, so the outputs keep the order the state took things in; other targets'
//! answers go on.
//!
//! [`RequestTold::awaits_lane`]: crate::state::RequestTold
//! [`DirectTold::explains`]: crate::state::DirectTold

use std::time::Duration;

use tokio::time::Instant;

use crate::probe::TargetId;
use crate::state::Told;

/// The longest a transition waits for the lane's answer.
const WAIT: Duration = Duration::from_secs(2);

/// One answer held back, and what came after it.
struct Held {
    told: Told,
    target: TargetId,
    /// When the request was sent: a lane probe sent since answers for it.
    request_sent: Duration,
    until: Instant,
    after: Vec<Told>,
}

#[derive(Default)]
pub struct Outbox {
    /// In the order they were held.
    held: Vec<Held>,
}

impl Outbox {
    /// What may be told now of `told`, in order.
    pub fn push(&mut self, told: Told, now: Instant) -> Vec<Told> {
        let target = told.target();
        if let Told::Direct(direct) = &told
            && let Some(i) = self.held.iter().position(|held| {
                held.target == direct.outcome.target && direct.outcome.sent_at >= held.request_sent
            })
        {
            // The direct probe of a held answer's tick: it completes what it explains.
            let explains = direct.explains.clone();
            let mut held = self.held.remove(i);
            if let (Told::Request(request), Some(explained)) = (&mut held.told, explains)
                && let Some(transition) = &mut request.transition
                && (transition.seq, transition.kind) == (explained.seq, explained.kind)
            {
                *transition = explained;
            }
            held.after.push(told);
            return released(held);
        }
        let behind = match target {
            Some(target) => self.held.iter_mut().find(|held| held.target == target),
            // What belongs to the whole run waits behind the last held answer.
            None => self.held.last_mut(),
        };
        if let Some(held) = behind {
            held.after.push(told);
            return Vec::new();
        }
        if let Told::Request(request) = &told
            && request.awaits_lane
        {
            self.held.push(Held {
                target: request.outcome.target,
                request_sent: request.outcome.sent_at,
                until: now + WAIT,
                told,
                after: Vec::new(),
            });
            return Vec::new();
        }
        vec![told]
    }

    /// When the first held answer must be told, whatever else happens.
    pub fn due(&self) -> Option<Instant> {
        self.held.iter().map(|held| held.until).min()
    }

    /// Tells what has waited long enough (`now`), as the state told it.
    pub fn release_due(&mut self, now: Instant) -> Vec<Told> {
        let (due, waiting) = std::mem::take(&mut self.held)
            .into_iter()
            .partition::<Vec<_>, _>(|held| held.until <= now);
        self.held = waiting;
        due.into_iter().flat_map(released).collect()
    }

    /// Tells everything held: the run is over.
    pub fn release_all(&mut self) -> Vec<Told> {
        std::mem::take(&mut self.held)
            .into_iter()
            .flat_map(released)
            .collect()
    }

    /// Forgets what is held: the state it belonged to started over.
    pub fn clear(&mut self) {
        self.held.clear();
    }
}

fn released(held: Held) -> Vec<Told> {
    std::iter::once(held.told).chain(held.after).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::event::Failure;
    use crate::probe::{
        ErrorKind, Evidence, Lane, ProbeEvent, ProbeOutcome, ProbeReport, Role, Route, Served,
    };
    use crate::state::{MonitorConfig, Watch};

    fn answer(lane: Lane, seq: u64, sent: u64, result: Result<Role, &str>) -> ProbeEvent {
        let (result, status) = match result {
            Ok(role) => (
                Ok(Served {
                    role,
                    model: "m".into(),
                    evidence: Evidence::ModelGroupHeader,
                    reply: String::new(),
                }),
                Some(200),
            ),
            Err(message) => (
                Err(Failure {
                    kind: ErrorKind::Http,
                    message: message.into(),
                }),
                Some(500),
            ),
        };
        ProbeEvent::Answered(Box::new(ProbeOutcome {
            target: TargetId::default(),
            lane,
            seq,
            sent_at: Duration::from_secs(sent),
            report: ProbeReport {
                latency: Duration::from_millis(20),
                status,
                route: Route::default(),
                ttft: None,
                result,
            },
        }))
    }

    fn sent(lane: Lane, seq: u64, at: u64) -> ProbeEvent {
        ProbeEvent::Sent {
            target: TargetId::default(),
            lane,
            seq,
            at: Duration::from_secs(at),
        }
    }

    #[test]
    fn a_held_failover_waits_for_its_own_ticks_direct_answer_not_a_late_older_one() {
        let mut watch = Watch::new(vec![MonitorConfig::default()]);
        let mut outbox = Outbox::default();
        let now = Instant::now();
        let mut told = Vec::new();
        let events = [
            sent(Lane::Direct, 1, 0),
            sent(Lane::Normal, 1, 0),
            answer(Lane::Normal, 1, 0, Ok(Role::Primary)),
            sent(Lane::Direct, 2, 1),
            sent(Lane::Normal, 2, 1),
            // The failover, held for the direct probe of its tick...
            answer(Lane::Normal, 2, 1, Ok(Role::Fallback)),
            // ...not released by an older direct probe answering late...
            answer(
                Lane::Direct,
                1,
                0,
                Err("litellm.Timeout: Connection timed out"),
            ),
            // ...but by its own, which tells why.
            answer(
                Lane::Direct,
                2,
                1,
                Err(
                    "litellm.InternalServerError: InternalServerError: OpenAIException - Connection error.",
                ),
            ),
        ];
        for event in events {
            for applied in watch.apply(event.into()) {
                told.extend(outbox.push(applied, now));
            }
        }
        assert!(outbox.due().is_none(), "nothing held any more");
        let order: Vec<(Lane, u64, bool)> = told
            .iter()
            .filter_map(|t| match t {
                Told::Request(r) => Some((Lane::Normal, r.outcome.seq, r.transition.is_some())),
                Told::Direct(d) => Some((Lane::Direct, d.outcome.seq, false)),
                _ => None,
            })
            .collect();
        assert_eq!(
            order,
            [
                (Lane::Normal, 1, false),
                (Lane::Normal, 2, true),
                (Lane::Direct, 1, false),
                (Lane::Direct, 2, false)
            ],
            "told in the order the state took them"
        );
        let cause = told.iter().find_map(|t| match t {
            Told::Request(r) => r.transition.as_ref()?.cause.clone(),
            _ => None,
        });
        assert_eq!(cause.as_deref(), Some("primary: Connection error."));
    }
}
