//! Messages in transit on the gRPC transport, so both transports give one trace.
//!
//! Memory delivers a message the moment its link wakes; gRPC takes a few more
//! task hops (encode, HTTP/2, decode) at the same virtual instant. Each message
//! gRPC carries holds a [`Carry`] from its link's wake until the [`Leg`] that puts
//! it in a mailbox lands it, and a host fires a timer only once nothing is in
//! transit (`World::settled`), as memory would already have delivered it.
//!
//! ```text
//!  link wakes ─carry()─▶ hand_over(from, to, leg) ─▶ … the leg's task hops … ─▶ take_carry(from, to, leg) ─▶ drop: landed
//! ```
//!
//! [`Transit`] is the book of carries: it knows nothing of the world or of
//! tonic, only which leg of which message is still on its way.

use crate::actor::ActorId;
use crate::arrivals::Expected;
use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::{Notify, oneshot};

/// How many messages are in transit, and a bell that rings when the last lands.
#[derive(Default)]
pub(crate) struct InTransit {
    count: AtomicU64,
    landed: Notify,
}

/// One message in transit: from its link's wake at an instant until it lands in
/// its receiver's mailbox (or is lost), on the gRPC transport. Dropping it lands it.
pub(crate) struct Carry {
    in_transit: Arc<InTransit>,
    /// Told when this one message lands (see [`Carry::watch`]).
    watcher: Option<oneshot::Sender<()>>,
    /// Its receiver's expectation of it, which goes when it lands (see `crate::arrivals`).
    expected: Option<Expected>,
}

impl Carry {
    /// A bell for this one message's landing: it rings when the carry drops,
    /// wherever that happens (the leg that lands it, or the book forgetting an
    /// exited actor's messages). A link uses it to go on with its next message
    /// as soon as this one is in its receiver's mailbox, without waiting for
    /// the rest of its call (an ask's reply).
    pub(crate) fn watch(&mut self) -> oneshot::Receiver<()> {
        let (tx, rx) = oneshot::channel();
        self.watcher = Some(tx);
        rx
    }

    /// The carry holds its message's [`Expected`] from now: the receiver stops
    /// expecting it when it lands or is lost, as the carry drops.
    pub(crate) fn hold(&mut self, expected: Option<Expected>) {
        self.expected = expected;
    }
}

impl Drop for Carry {
    fn drop(&mut self) {
        // Landed (or lost): its receiver no longer expects it.
        drop(self.expected.take());
        if let Some(w) = self.watcher.take() {
            let _ = w.send(());
        }
        if self.in_transit.count.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.in_transit.landed.notify_waiters();
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

/// The messages in transit and the legs they wait on.
pub(crate) struct Transit {
    /// Only gRPC has messages in transit; memory delivers at once.
    carries_messages: bool,
    in_transit: Arc<InTransit>,
    /// Keyed by (sender, receiver, leg), oldest first; the leg that lands one takes it.
    waiting: Mutex<BTreeMap<(ActorId, ActorId, Leg), VecDeque<Carry>>>,
}

impl Transit {
    /// The book for a world whose transport is gRPC (`carries_messages`) or memory.
    pub(crate) fn new(carries_messages: bool) -> Transit {
        Transit { carries_messages, in_transit: Arc::default(), waiting: Mutex::default() }
    }

    fn waiting(&self) -> MutexGuard<'_, BTreeMap<(ActorId, ActorId, Leg), VecDeque<Carry>>> {
        // The world runs on one thread; a poisoned lock means a task panicked,
        // which is already a bug being reported.
        self.waiting.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// gRPC: a message is in transit from now until its [`Carry`] drops. Memory
    /// delivers at once and needs none.
    pub(crate) fn carry(&self) -> Option<Carry> {
        if !self.carries_messages {
            return None;
        }
        self.in_transit.count.fetch_add(1, Ordering::AcqRel);
        Some(Carry { in_transit: self.in_transit.clone(), watcher: None, expected: None })
    }

    /// Hand a message's carry to the leg that will land it.
    pub(crate) fn hand_over(&self, from: &ActorId, to: &ActorId, leg: Leg, carry: Option<Carry>) {
        if let Some(c) = carry {
            self.waiting().entry((from.clone(), to.clone(), leg)).or_default().push_back(c);
        }
    }

    /// The oldest carry waiting on `leg` from `from` to `to` (dropping it lands the message).
    pub(crate) fn take_carry(&self, from: &ActorId, to: &ActorId, leg: Leg) -> Option<Carry> {
        let mut waiting = self.waiting();
        let key = (from.clone(), to.clone(), leg);
        let q = waiting.get_mut(&key)?;
        let c = q.pop_front();
        if q.is_empty() {
            waiting.remove(&key);
        }
        c
    }

    /// Land every message still waiting on `leg` from `from` to `to` (the leg ended).
    pub(crate) fn land_all(&self, from: &ActorId, to: &ActorId, leg: Leg) {
        let gone = self.waiting().remove(&(from.clone(), to.clone(), leg));
        drop(gone);
    }

    /// `id` exited: what was in transit to it will never land, and what it was
    /// answering neither, so all of it lands (is lost) now.
    pub(crate) fn forget(&self, id: &ActorId) {
        self.waiting().retain(|(from, to, _), _| from != id && to != id);
    }

    /// How many messages are in transit now.
    pub(crate) fn count(&self) -> u64 {
        self.in_transit.count.load(Ordering::Acquire)
    }

    /// Rings when the last message in transit lands (enable the future before
    /// checking [`Transit::count`] again, or a landing in between is missed).
    pub(crate) fn landed(&self) -> tokio::sync::futures::Notified<'_> {
        self.in_transit.landed.notified()
    }
}
