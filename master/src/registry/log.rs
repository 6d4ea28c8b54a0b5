//! One master's end of the replicated log: its [`Replica`] and, while it
//! leads, its [`Coordinator`], wired to the outbox.
//!
//! Upstream a master's coordinator reaches its own replica through
//! libprocess like any other (a local message); here the two are called
//! directly, in the same step, and the local replica's answer waits for its
//! disk write on a [`Timer::Disk`] like every other replica's. Everything to
//! another master travels as a real `mesos.internal.log` message, so faults
//! (drops, partitions) apply to it.

use super::Timer;
use super::coordinator::{Coordinator, Event};
use super::replica::{Disk, Replica};
use mesocosm_sim::{ActorId, Msg, Outbox, SimTime};
use std::collections::VecDeque;

/// A replica and, on the leader, a coordinator. See the module docs.
#[derive(Debug)]
pub struct ReplicatedLog {
    me: ActorId,
    replicas: Vec<ActorId>,
    quorum: usize,
    replica: Replica,
    coordinator: Option<Coordinator>,
    /// Answers waiting for their disk write: when, to whom, what.
    held: VecDeque<(SimTime, ActorId, Msg)>,
}

impl ReplicatedLog {
    /// `me`'s replica over `disk`, one of `replicas` (a quorum of `quorum`).
    pub fn new(me: ActorId, replicas: Vec<ActorId>, quorum: usize, disk: Disk) -> ReplicatedLog {
        ReplicatedLog { me, replicas, quorum, replica: Replica::new(disk), coordinator: None, held: VecDeque::new() }
    }

    /// The replica's storage.
    pub fn disk(&self) -> &Disk {
        self.replica.disk()
    }

    /// The coordinator, once [`ReplicatedLog::elect`] made one.
    pub fn coordinator(&self) -> Option<&Coordinator> {
        self.coordinator.as_ref()
    }

    /// Become the writer: a coordinator runs its election.
    pub fn elect<T: From<Timer>>(&mut self, out: &mut Outbox<T>) -> Vec<Event> {
        let disk = self.replica.disk().clone();
        let c = self.coordinator.insert(Coordinator::new(self.replicas.clone(), self.quorum, disk));
        let sends = c.elect();
        self.dispatch(sends, out)
    }

    /// Append `bytes` (the coordinator must be ready).
    pub fn append<T: From<Timer>>(&mut self, bytes: Vec<u8>, out: &mut Outbox<T>) -> Vec<Event> {
        let Some(c) = self.coordinator.as_mut() else { return Vec::new() };
        let sends = c.append(bytes);
        self.dispatch(sends, out)
    }

    /// A log message from another master: requests go to the replica,
    /// answers to the coordinator.
    pub fn on_message<T: From<Timer>>(&mut self, from: &ActorId, msg: &Msg, out: &mut Outbox<T>) -> Vec<Event> {
        match msg {
            Msg::LogPromised(_) | Msg::LogWritten(_) => {
                let Some(c) = self.coordinator.as_mut() else { return Vec::new() };
                let (sends, event) = c.receive(from, msg);
                let mut events: Vec<Event> = event.into_iter().collect();
                events.extend(self.dispatch(sends, out));
                events
            }
            _ => {
                self.deliver_to_replica(from, msg, out);
                Vec::new()
            }
        }
    }

    /// [`Timer::Disk`]: send the answers whose writes are done.
    pub fn on_disk<T: From<Timer>>(&mut self, out: &mut Outbox<T>) -> Vec<Event> {
        let now = out.now();
        let mut events = Vec::new();
        while self.held.front().is_some_and(|(at, _, _)| *at <= now) {
            let Some((_, to, msg)) = self.held.pop_front() else { break };
            if to == self.me {
                let me = self.me.clone();
                if let Some(c) = self.coordinator.as_mut() {
                    let (sends, event) = c.receive(&me, &msg);
                    events.extend(event);
                    events.extend(self.dispatch(sends, out));
                }
            } else {
                out.send(&to, msg);
            }
        }
        events
    }

    fn deliver_to_replica<T: From<Timer>>(&mut self, from: &ActorId, msg: &Msg, out: &mut Outbox<T>) {
        let now = out.now();
        if let Some((at, reply)) = self.replica.receive(now, msg) {
            // Answers leave in the order their writes finish (a rejection,
            // which writes nothing, may overtake them, as upstream's does).
            let i = self.held.partition_point(|(t, _, _)| *t <= at);
            self.held.insert(i, (at, from.clone(), reply));
            out.set_timer_at(at, Timer::Disk.into());
        }
    }

    fn dispatch<T: From<Timer>>(&mut self, sends: Vec<(ActorId, Msg)>, out: &mut Outbox<T>) -> Vec<Event> {
        for (to, msg) in sends {
            if to == self.me {
                let me = self.me.clone();
                self.deliver_to_replica(&me, &msg, out);
            } else {
                out.send(&to, msg);
            }
        }
        // The local replica's answers come back through `on_disk`.
        Vec::new()
    }
}
