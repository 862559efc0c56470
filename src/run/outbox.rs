//! What the outputs (and the record) are told, in order. A failover or a recovery shown by a
//! request waits a little for the direct probe sent on the same tick: its answer, which often
//! comes a moment later, tells why the primary was away or how long LiteLLM held it back.

use std::time::Duration;

use tokio::time::Instant;

use crate::probe::{Lane, ProbeEvent};
use crate::state::{Applied, Monitor};

/// The longest a transition waits for the direct probe of its tick.
const WAIT: Duration = Duration::from_secs(2);

/// One event held back, with what applying it changed.
struct Held {
    event: ProbeEvent,
    applied: Applied,
    until: Instant,
}

#[derive(Default)]
pub struct Outbox {
    held: Option<Held>,
}

impl Outbox {
    /// An applied event; what may be told now, in order.
    pub fn push(
        &mut self,
        event: ProbeEvent,
        applied: Applied,
        monitor: &Monitor,
        now: Instant,
    ) -> Vec<(ProbeEvent, Applied)> {
        let mut ready = Vec::new();
        if let ProbeEvent::Answered(outcome) = &event
            && outcome.lane == Lane::Normal
            && applied.transition.is_some()
            && monitor
                .primary()
                .in_flight()
                .values()
                .any(|sent| *sent == outcome.sent_at)
        {
            ready.extend(self.release(monitor));
            self.held = Some(Held {
                event,
                applied,
                until: now + WAIT,
            });
            return ready;
        }
        // Anything else is told after what is held (in the order it happened); a direct
        // probe's answer first completes what it explains.
        ready.extend(self.release(monitor));
        ready.push((event, applied));
        ready
    }

    /// When what is held must be told, whatever else happens.
    pub fn due(&self) -> Option<Instant> {
        self.held.as_ref().map(|held| held.until)
    }

    /// Tells what is held, with what the state now knows about its transition.
    pub fn release(&mut self, monitor: &Monitor) -> Option<(ProbeEvent, Applied)> {
        let Held {
            event, mut applied, ..
        } = self.held.take()?;
        if let Some(transition) = &mut applied.transition
            && let Some(stored) = monitor
                .transitions()
                .iter()
                .rev()
                .find(|t| t.seq == transition.seq && t.kind == transition.kind)
        {
            transition.cause.clone_from(&stored.cause);
            transition.primary_cooldown = stored.primary_cooldown;
        }
        Some((event, applied))
    }
}
