//! Messages in transit on the gRPC transport, so both transports give one trace.
//!
//! Memory delivers a message the moment its link wakes; gRPC takes a few more
//! task hops (encode, HTTP/2, decode) at the same virtual instant. Each message
//! gRPC carries holds a [`Carry`] from its link's wake until the [`Leg`] that puts
//! it in a mailbox lands it, and a host fires a timer only once nothing is in
//! transit ([`World::settled`]), as memory would already have delivered it.

use crate::actor::ActorId;
use crate::world::{Transport, World};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// Messages the gRPC transport carries right now (see the module doc).
#[derive(Default)]
pub(crate) struct InTransit {
    pub(crate) count: std::sync::atomic::AtomicU64,
    pub(crate) landed: tokio::sync::Notify,
}

/// One message in transit: from its link's wake at an instant until it lands in
/// its receiver's mailbox (or is lost), on the gRPC transport. Dropping it lands it.
pub(crate) struct Carry(Arc<InTransit>);

impl Drop for Carry {
    fn drop(&mut self) {
        if self.0.count.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.landed.notify_waiters();
        }
    }
}

/// Which leg of the gRPC transport a [`Carry`] waits on: the receiver's server
/// (a call), the asker's client (an ask's reply), the subscriber's stream reader
/// (an event or the stream's end), the caller's client (a refusal).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Leg {
    Call,
    Reply,
    Event,
    Answer,
}

impl World {
    /// gRPC: a message is in transit from now until its [`Carry`] drops. Memory
    /// delivers at once and needs none.
    pub(crate) fn carry(&self) -> Option<Carry> {
        if self.shared.transport != Transport::Grpc {
            return None;
        }
        self.shared.in_transit.count.fetch_add(1, Ordering::AcqRel);
        Some(Carry(self.shared.in_transit.clone()))
    }

    /// Hand a message's carry to the leg that will land it.
    pub(crate) fn hand_over(&self, from: &ActorId, to: &ActorId, leg: Leg, carry: Option<Carry>) {
        if let Some(c) = carry {
            self.state().carries.entry((from.clone(), to.clone(), leg)).or_default().push_back(c);
        }
    }

    /// The oldest carry waiting on `leg` from `from` to `to` (dropping it lands the message).
    pub(crate) fn take_carry(&self, from: &ActorId, to: &ActorId, leg: Leg) -> Option<Carry> {
        let mut st = self.state();
        let key = (from.clone(), to.clone(), leg);
        let q = st.carries.get_mut(&key)?;
        let c = q.pop_front();
        if q.is_empty() {
            st.carries.remove(&key);
        }
        c
    }

    /// Land every message still waiting on `leg` from `from` to `to` (the leg ended).
    pub(crate) fn land_all(&self, from: &ActorId, to: &ActorId, leg: Leg) {
        let gone = self.state().carries.remove(&(from.clone(), to.clone(), leg));
        drop(gone);
    }

    /// Wait until no message is in transit (at once on the memory transport). A
    /// host calls it before firing a timer. Should a carry never drop (a bug),
    /// it waits no longer than the instant, and says so as an invariant violation.
    pub(crate) async fn settled(&self, me: &ActorId) {
        let t = &self.shared.in_transit;
        if t.count.load(Ordering::Acquire) == 0 {
            return;
        }
        let give_up = self.now().after(Duration::from_micros(1));
        loop {
            let landed = t.landed.notified();
            tokio::pin!(landed);
            landed.as_mut().enable();
            if t.count.load(Ordering::Acquire) == 0 {
                return;
            }
            tokio::select! { biased;
                _ = landed => {}
                _ = self.sleep_until(give_up) => {
                    let n = t.count.load(Ordering::Acquire);
                    self.violation(me, format!("{n} message(s) stayed in transit past their instant (a transport bug)"));
                    return;
                }
            }
        }
    }
}
