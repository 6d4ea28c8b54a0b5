//! An actor's inbox: what landed in its mailbox, in the world's order.
//!
//! The mailbox is a queue in landing order, and landing order at one instant
//! is the transport's (memory: the order the runtime polls the links; gRPC:
//! the task hops each call takes). The host moves what landed into its inbox,
//! stamped with the instant it landed, and takes the next input from there:
//! the earliest instant first, then by sender name, then each sender's in the
//! order they landed (a link is FIFO). At the current instant it takes one only
//! once nothing is still owed from a sender named before it (see
//! `crate::arrivals`), so both transports hand the core the same sequence.

use crate::actor::ActorId;
use crate::arrivals::Arrivals;
use crate::mailbox::Delivery;
use crate::time::SimTime;
use std::collections::BTreeMap;

/// Landed deliveries, by (instant landed, sender, landing number).
#[derive(Default)]
pub(super) struct Inbox {
    landed: BTreeMap<(SimTime, ActorId, u64), Delivery>,
    count: u64,
}

impl Inbox {
    /// `d` landed at `now`.
    pub(super) fn land(&mut self, now: SimTime, d: Delivery) {
        self.landed.insert((now, d.from().clone(), self.count), d);
        self.count += 1;
    }

    pub(super) fn is_empty(&self) -> bool {
        self.landed.is_empty()
    }

    /// The next delivery in the world's order, if `me` may handle it now: it
    /// landed before `now`, or nothing due for `me` by `now` from a sender
    /// named before its own is still on its way.
    pub(super) fn next(&mut self, arrivals: &Arrivals, me: &ActorId, now: SimTime) -> Option<Delivery> {
        let ((at, from, _), _) = self.landed.first_key_value()?;
        if *at == now && arrivals.awaiting_before(me, now, Some(from)) {
            return None;
        }
        self.first()
    }

    /// The next delivery in the world's order, whatever is still on its way.
    pub(super) fn first(&mut self) -> Option<Delivery> {
        self.landed.pop_first().map(|(_, d)| d)
    }
}
