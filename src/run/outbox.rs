//! What the outputs (and the record) are told, in order. A failover or a recovery shown by a
//! request waits a little for the direct probe sent on the same tick: its answer, which often
//! comes a moment later, tells why the primary was away or how long LiteLLM held it back.
//! What comes meanwhile (a late answer of an older probe, the next tick) waits behind it, so
//! the outputs keep the order the state took things in.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::time::Instant;

use crate::output::Told;
use crate::probe::{Lane, ProbeEvent};
use crate::state::Monitor;

/// The longest a transition waits for the direct probe of its tick.
const WAIT: Duration = Duration::from_secs(2);

/// One answer held back, with what applying it changed, and what came after it.
struct Held {
    told: Told,
    /// When its tick's direct probe was sent: the answer it waits for.
    tick: Duration,
    until: Instant,
    after: VecDeque<Told>,
}

#[derive(Default)]
pub struct Outbox {
    held: Option<Held>,
}

impl Outbox {
    /// An applied input; what may be told now, in order.
    pub fn push(&mut self, told: Told, monitor: &Monitor, now: Instant) -> Vec<Told> {
        if let Some(held) = &mut self.held {
            // The direct probe of the held answer's tick: it completes what it explains.
            let explains = matches!(&told, Told::Probe(ProbeEvent::Answered(outcome), _)
                if outcome.lane == Lane::Direct && outcome.sent_at == held.tick);
            held.after.push_back(told);
            return if explains {
                self.release(monitor)
            } else {
                Vec::new()
            };
        }
        if let Told::Probe(ProbeEvent::Answered(outcome), applied) = &told
            && outcome.lane == Lane::Normal
            && applied.transition.is_some()
            && monitor
                .primary()
                .in_flight()
                .values()
                .any(|sent| *sent == outcome.sent_at)
        {
            let tick = outcome.sent_at;
            self.held = Some(Held {
                told,
                tick,
                until: now + WAIT,
                after: VecDeque::new(),
            });
            return Vec::new();
        }
        vec![told]
    }

    /// When what is held must be told, whatever else happens.
    pub fn due(&self) -> Option<Instant> {
        self.held.as_ref().map(|held| held.until)
    }

    /// Forgets what is held: the state it belonged to started over.
    pub fn clear(&mut self) {
        self.held = None;
    }

    /// Tells what is held, with what the state now knows about its transition, and what
    /// came after it.
    pub fn release(&mut self, monitor: &Monitor) -> Vec<Told> {
        let Some(held) = self.held.take() else {
            return Vec::new();
        };
        let mut told = held.told;
        if let Told::Probe(_, applied) = &mut told
            && let Some(transition) = &mut applied.transition
            && let Some(stored) = monitor
                .transitions()
                .iter()
                .rev()
                .find(|t| t.seq == transition.seq && t.kind == transition.kind)
        {
            transition.cause.clone_from(&stored.cause);
            transition.primary_cooldown = stored.primary_cooldown;
        }
        std::iter::once(told).chain(held.after).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::outcome::Failure;
    use crate::probe::{ErrorKind, Evidence, ProbeOutcome, ProbeReport, Role, Route, Served};
    use crate::state::MonitorConfig;

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
            lane,
            seq,
            at: Duration::from_secs(at),
        }
    }

    #[test]
    fn a_held_failover_waits_for_its_own_ticks_direct_answer_not_a_late_older_one() {
        let mut monitor = Monitor::new(MonitorConfig::default());
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
            let applied = monitor.apply(&event);
            told.extend(outbox.push(Told::Probe(event, Box::new(applied)), &monitor, now));
        }
        assert!(outbox.due().is_none(), "nothing held any more");
        let order: Vec<(Lane, u64, bool)> = told
            .iter()
            .filter_map(|t| match t {
                Told::Probe(ProbeEvent::Answered(o), applied) => {
                    Some((o.lane, o.seq, applied.transition.is_some()))
                }
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
            Told::Probe(_, applied) => applied.transition.as_ref()?.cause.clone(),
            _ => None,
        });
        assert_eq!(cause.as_deref(), Some("primary: Connection error."));
    }
}
