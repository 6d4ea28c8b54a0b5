//! Arrivals: what the network still owes each actor, so the world, not the
//! transport, orders what an actor handles at one instant.
//!
//! With one latency on every link, several senders' messages reach a receiver
//! at the same virtual instant. Memory puts each in the mailbox when its link
//! wakes, in whatever order the runtime polls the links; gRPC carries each
//! through its own number of task hops (a first call dials a connection, an
//! event goes down a stream), so they land in another order. The world's rule
//! is the one a trace can state: **at one instant, an actor handles what
//! arrived by sender name, and each sender's messages in the order they were
//! sent** (a link is FIFO, as one libprocess socket is).
//!
//! To keep that rule a host must know, before it handles a message from
//! `agent-3`, that nothing from `agent-1` due at this instant is still on its
//! way. So every item put on a link is *expected* from that moment: an
//! [`Expected`] holds its entry (due instant, sender) in the receiver's book
//! until it lands in the mailbox or is lost, wherever that happens (memory:
//! when its link delivers it; gRPC: when its [`Carry`](crate::transit::Carry)
//! drops).
//!
//! ```text
//!  World::send ─expect(from, to, due)─▶ Arrivals ◀─awaiting_before(me, now, from)── host
//!        link item ──…latency…──▶ lands (or is lost) ─▶ Expected drops: entry gone, hosts told
//! ```

use crate::actor::ActorId;
use crate::time::SimTime;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::Notify;

/// One expected arrival at its due instant: from whom, and a unique number.
type Entry = (ActorId, u64);

/// What one receiver is owed, by due instant, then by (sender, number).
///
/// Grouped by instant so that "is anything due by now from a sender named
/// before X still on its way" reads only the first (smallest) sender of each
/// due instant, not every entry: at 10,000 agents the master is owed thousands
/// of messages at one instant, and a scan of them per handled message was 20%
/// of a run (measured with perf, session 25).
type Owed = BTreeMap<SimTime, BTreeSet<Entry>>;

/// What each actor is still owed by the network, by receiver.
#[derive(Default)]
pub(crate) struct Arrivals {
    book: Mutex<BTreeMap<ActorId, Owed>>,
    next: AtomicU64,
    /// Rings when an entry goes (a message landed or was lost).
    changed: Notify,
}

/// An item on a link, expected by its receiver until this drops.
pub(crate) struct Expected {
    arrivals: Arc<Arrivals>,
    to: ActorId,
    due: SimTime,
    entry: Entry,
}

impl Drop for Expected {
    fn drop(&mut self) {
        {
            let mut book = self.arrivals.book();
            if let Some(owed) = book.get_mut(&self.to) {
                if let Some(at) = owed.get_mut(&self.due) {
                    at.remove(&self.entry);
                    if at.is_empty() {
                        owed.remove(&self.due);
                    }
                }
                if owed.is_empty() {
                    book.remove(&self.to);
                }
            }
        }
        self.arrivals.changed.notify_waiters();
    }
}

impl Arrivals {
    fn book(&self) -> MutexGuard<'_, BTreeMap<ActorId, Owed>> {
        // The world runs on one thread; a poisoned lock means a task panicked,
        // which is already a bug being reported.
        self.book.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// `to` expects an item from `from`, due at `due`, from now until the
    /// [`Expected`] that [`Arrivals::held`] makes of the returned number drops
    /// (a link queues the number, 8 bytes, rather than the guard).
    pub(crate) fn expect(&self, from: &ActorId, to: &ActorId, due: SimTime) -> u64 {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        self.book().entry(to.clone()).or_default().entry(due).or_default().insert((from.clone(), n));
        n
    }

    /// The guard of an arrival [`Arrivals::expect`] numbered `n`: it goes when this drops.
    pub(crate) fn held(self: &Arc<Self>, from: &ActorId, to: &ActorId, due: SimTime, n: u64) -> Expected {
        Expected { arrivals: self.clone(), to: to.clone(), due, entry: (from.clone(), n) }
    }

    /// Whether something due for `me` by `now` from a sender named before
    /// `from` (any sender, with `None`) has yet to land. Entries due later than
    /// `now` are not looked at; of each instant due by `now` (the current one,
    /// and the few earlier ones held behind a call on their link) only the
    /// sender named first is: if it is not named before `from`, none is.
    pub(crate) fn awaiting_before(&self, me: &ActorId, now: SimTime, from: Option<&ActorId>) -> bool {
        let book = self.book();
        let Some(owed) = book.get(me) else { return false };
        owed.range(..=now).filter_map(|(_, at)| at.first()).any(|(sender, _)| from.is_none_or(|f| sender < f))
    }

    /// Rings when any expected item lands or is lost (create it before checking
    /// [`Arrivals::awaiting_before`], or a change in between is missed).
    pub(crate) fn changed(&self) -> tokio::sync::futures::Notified<'_> {
        self.changed.notified()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_arrival_is_awaited_until_it_drops_and_only_by_its_due_instant() {
        let a = Arc::new(Arrivals::default());
        let (r, s1, s2) = (ActorId::new("r"), ActorId::new("agent-1"), ActorId::new("agent-2"));
        let e = a.held(&s1, &r, SimTime(10), a.expect(&s1, &r, SimTime(10)));
        assert!(!a.awaiting_before(&r, SimTime(9), None), "not due yet");
        assert!(a.awaiting_before(&r, SimTime(10), None));
        assert!(a.awaiting_before(&r, SimTime(10), Some(&s2)), "agent-1 goes before agent-2");
        assert!(!a.awaiting_before(&r, SimTime(10), Some(&s1)), "nor before itself");
        assert!(!a.awaiting_before(&s1, SimTime(10), None), "only its receiver waits");
        drop(e);
        assert!(!a.awaiting_before(&r, SimTime(10), None), "landed");
    }

    #[test]
    fn each_due_instant_is_judged_by_its_first_sender() {
        let a = Arc::new(Arrivals::default());
        let r = ActorId::new("master");
        let id = |n: u32| ActorId::new(format!("agent-{n}"));
        let hold = |s: &ActorId, due: u64| a.held(s, &r, SimTime(due), a.expect(s, &r, SimTime(due)));
        // One held behind a call since an earlier instant, several at this one, one due later.
        let earlier = hold(&id(7), 5);
        let two = hold(&id(2), 10);
        let five = hold(&id(5), 10);
        let _later = hold(&id(1), 11);
        assert!(a.awaiting_before(&r, SimTime(10), Some(&id(3))), "agent-2 is due before agent-3");
        assert!(!a.awaiting_before(&r, SimTime(10), Some(&id(2))), "nothing named before agent-2 is due");
        drop(two);
        assert!(!a.awaiting_before(&r, SimTime(10), Some(&id(3))), "agent-5 and agent-7 come after agent-3");
        assert!(a.awaiting_before(&r, SimTime(10), Some(&id(6))), "agent-5 at this instant");
        drop(five);
        assert!(a.awaiting_before(&r, SimTime(10), Some(&id(8))), "agent-7, held since an earlier instant");
        drop(earlier);
        assert!(!a.awaiting_before(&r, SimTime(10), None), "agent-1 is due only later");
        assert!(a.awaiting_before(&r, SimTime(11), None));
    }
}
