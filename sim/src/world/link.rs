//! Links: one FIFO queue and task per ordered actor pair, and the connections they carry.
//!
//! [`World::send`] puts a message on the link `from → to`; the link's task
//! delivers its queue in order, each item its link's latency after it was sent,
//! as one libprocess TCP connection delivers a peer's messages in order. The
//! latency is drawn once per link ([`Latency::of_link`](crate::latency::Latency::of_link)),
//! unless a fault overrides it.
//!
//! A link carries three kinds of item ([`LinkItem`]): a message; the close of
//! the sender's end of a *connection* (one opened by SUBSCRIBE, agent
//! registration or RegisterExecutor, see [`Msg::opens_connection`]), which the
//! receiver learns only after what was sent before it; and, on gRPC, a reply
//! the network lost, which fails the asker's pending call in link order.
//!
//! On arrival, memory puts a message straight in the mailbox; gRPC hands it to
//! the link's [`Peer`], its lazily dialled tonic connection.

use super::{State, Transport, World};
use crate::actor::{ActorId, Refusal};
use crate::arrivals::{Arrivals, Expected};
use crate::failure::RunFailure;
use crate::grpc::{Peer, TransportRefusal};
use crate::mailbox::Delivery;
use crate::msg::Msg;
use crate::time::SimTime;
use crate::transit::{Carry, Leg};
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// What a link task carries. What reaches the receiver's mailbox is expected
/// by it from the moment it is queued until it lands or is lost: the item
/// carries its number in [`Arrivals`] (8 bytes: a link's queue grows in blocks
/// of 32 items, so the item's size is memory per link), and the link task
/// makes it an [`Expected`] guard when it takes the item.
pub(super) enum LinkItem {
    /// A message, which incarnation of its sender sent it, and its arrival's number.
    Msg(SimTime, Box<Msg>, u64, u64),
    /// The sender's end of its connection with the receiver closed: tell the receiver.
    Close(SimTime, u64),
    /// A reply the network lost: the asker's pending gRPC call fails, in link order.
    LostReply(SimTime),
}

impl LinkItem {
    fn sent(&self) -> SimTime {
        match self {
            LinkItem::Msg(t, _, _, _) | LinkItem::Close(t, _) | LinkItem::LostReply(t) => *t,
        }
    }
}

/// The sending end of one link: its queue, and what its receiver must expect.
#[derive(Clone)]
pub(super) struct Link {
    tx: mpsc::UnboundedSender<LinkItem>,
    from: ActorId,
    to: ActorId,
    latency: Duration,
    arrivals: Arc<Arrivals>,
}

impl Link {
    /// The receiver expects an item queued at `sent` a latency later; its number.
    pub(super) fn expect(&self, sent: SimTime) -> u64 {
        self.arrivals.expect(&self.from, &self.to, sent.after(self.latency))
    }

    /// Queue a message sent at `sent` by `incarnation` of the sender.
    pub(super) fn msg(&self, sent: SimTime, msg: Box<Msg>, incarnation: u64) {
        self.msg_expected(sent, msg, incarnation, self.expect(sent));
    }

    /// Queue a message whose arrival was expected earlier (one a fault held back).
    pub(super) fn msg_expected(&self, sent: SimTime, msg: Box<Msg>, incarnation: u64, expected: u64) {
        let _ = self.tx.send(LinkItem::Msg(sent, msg, incarnation, expected));
    }

    /// Queue the close of the sender's end of its connection.
    pub(super) fn close(&self, sent: SimTime) {
        let _ = self.tx.send(LinkItem::Close(sent, self.expect(sent)));
    }

    /// Queue the loss of a reply (nothing reaches the receiver's mailbox).
    pub(super) fn lost_reply(&self, sent: SimTime) {
        let _ = self.tx.send(LinkItem::LostReply(sent));
    }
}

impl World {
    /// The latency of the link `from → to`: a fault's override, else the world's.
    pub fn link_latency(&self, from: &ActorId, to: &ActorId) -> Duration {
        let st = self.state();
        self.latency_in(&st, from, to)
    }

    fn latency_in(&self, st: &State, from: &ActorId, to: &ActorId) -> Duration {
        let latency = st.faults.link_latency(from, to).unwrap_or(self.shared.latency);
        latency.of_link(self.shared.seed, from.as_str(), to.as_str())
    }

    /// Close `from`'s connection with `peer`: `peer` learns it once everything
    /// `from` sent before has arrived.
    pub fn disconnect(&self, from: &ActorId, peer: &ActorId) {
        let now = self.now();
        let mut st = self.state();
        st.connections.remove(&(from.clone(), peer.clone()));
        st.connections.remove(&(peer.clone(), from.clone()));
        self.link(&mut st, from, peer).close(now);
    }

    /// A network fault that breaks the open connection between `a` and `b`
    /// (both learn it, each after what the other sent before). No-op if they
    /// are not connected; returns whether they were.
    pub fn break_connection(&self, a: &ActorId, b: &ActorId) -> bool {
        let now = self.now();
        let mut st = self.state();
        let was = st.connections.remove(&(a.clone(), b.clone())).is_some()
            | st.connections.remove(&(b.clone(), a.clone())).is_some();
        if was {
            self.link(&mut st, a, b).close(now);
            self.link(&mut st, b, a).close(now);
        }
        was
    }

    pub(super) fn link(&self, st: &mut State, from: &ActorId, to: &ActorId) -> Link {
        if let Some(link) = st.links.get(&(from.clone(), to.clone())) {
            return link.clone();
        }
        let (tx, rx) = mpsc::unbounded_channel();
        let latency = self.latency_in(st, from, to);
        let arrivals = self.shared.mailboxes.arrivals.clone();
        let link = Link { tx, from: from.clone(), to: to.clone(), latency, arrivals };
        st.links.insert((from.clone(), to.clone()), link.clone());
        // Not owned by `from`: like bytes already in a socket buffer, what a
        // process sent before it exited still arrives.
        tokio::spawn(link_task(self.clone(), from.clone(), to.clone(), latency, rx));
        link
    }

    /// The transport itself refused a message from `from` to `to`: the run fails naming it.
    fn refused(&self, from: ActorId, to: ActorId, refused: TransportRefusal) {
        let (kind, status) = (refused.kind.to_string(), refused.status);
        self.fail(RunFailure::Transport { at: self.now(), from, to, kind, status });
    }

    /// `to` runs no process to take `msg`, a request to a listening port: its
    /// host refuses the connection and the sender learns it as the request's
    /// answer (`Input::Refused`), as a client's connect() fails with
    /// ECONNREFUSED. Decided here, before either transport carries it, so
    /// both give the same trace; the answer arrives as the request would have.
    fn connection_refused(&self, from: &ActorId, to: &ActorId, msg: &Msg) {
        let refusal = Refusal::ConnectionRefused(format!("{to} is not running"));
        let now = self.now();
        self.state().trace.refusal(now, to, from, msg.kind(), &refusal);
        self.deliver(from, Delivery::Refused { peer: to.clone(), kind: msg.kind(), refusal });
    }

    /// Whether the incarnation of `id` that sent a message is gone: it exited,
    /// and either nothing runs under its name or a restart runs there now.
    fn sender_gone(&self, id: &ActorId, incarnation: u64) -> bool {
        let exited = self.state().exits.contains_key(id);
        exited && self.shared.mailboxes.is_past(id, incarnation)
    }
}

/// gRPC: `carry` holds `expected` until the item lands; memory: it is handed back
/// to drop when the item is in the mailbox.
fn hold(carry: &mut Option<Carry>, expected: Expected) -> Option<Expected> {
    match carry {
        Some(c) => {
            c.hold(Some(expected));
            None
        }
        None => Some(expected),
    }
}

/// One link's task: deliver its queue in order, each item `latency` after it was sent.
async fn link_task(
    world: World,
    from: ActorId,
    to: ActorId,
    latency: Duration,
    mut rx: mpsc::UnboundedReceiver<LinkItem>,
) {
    let mut peer = Peer::default();
    // Items taken off the queue early (gRPC), each with its carry if it was due.
    let mut ahead: VecDeque<(LinkItem, Option<Carry>)> = VecDeque::new();
    loop {
        let (item, carry) = match ahead.pop_front() {
            Some(next) => next,
            None => match rx.recv().await {
                Some(item) => (item, None),
                None => break,
            },
        };
        let due = item.sent().after(latency);
        if due > world.now() {
            world.sleep_until(due).await;
        }
        let transit = &world.shared.mailboxes.transit;
        let mut carry = carry.or_else(|| transit.carry());
        if world.transport() == Transport::Grpc {
            // Memory delivers everything due on this link now in one go: with
            // gRPC it is all in transit from now, though the calls go one by one.
            while let Ok(next) = rx.try_recv() {
                ahead.push_back((next, None));
            }
            let now = world.now();
            for (next, c) in ahead.iter_mut() {
                if next.sent().after(latency) > now {
                    break;
                }
                if c.is_none() {
                    *c = transit.carry();
                }
            }
        }
        match item {
            // Memory: `expected` drops once the item is in the mailbox (or lost)
            // at the end of its arm; gRPC: the carry holds it until it lands.
            LinkItem::Msg(sent, msg, incarnation, n) => {
                let expected = world.shared.mailboxes.arrivals.held(&from, &to, sent.after(latency), n);
                let _expected = hold(&mut carry, expected);
                if msg.needs_listener() && !world.shared.mailboxes.is_open(&to) {
                    world.connection_refused(&from, &to, &msg);
                    continue;
                }
                if msg.opens_connection() && world.sender_gone(&from, incarnation) {
                    // Why not deliver it: a message that opens a connection (an
                    // HTTP SUBSCRIBE, a libprocess registration, Spark's
                    // RegisterExecutor) travels on its sender's socket, which
                    // closed when the sender exited. Delivered, it would leave the
                    // receiver a subscriber nobody is behind (e.g. a framework
                    // holding offers for ever); Mesos removes such a framework as
                    // soon as the closed stream is noticed (`Master::exited`).
                    world.event(
                        &to,
                        &format!(
                            "{} from {from} arrives after its sender exited: the connection it opens is already \
                             closed, so {to} never takes it",
                            msg.kind()
                        ),
                    );
                    continue;
                }
                if msg.opens_connection() {
                    world.state().connections.insert((to.clone(), from.clone()), ());
                }
                match world.transport() {
                    Transport::Memory => world.deliver(&to, Delivery::Message { from: from.clone(), msg }),
                    // Boxed so a link task's future stays small: inlined, every
                    // gRPC call's state machine would be copied into each spawn.
                    Transport::Grpc => {
                        // An ask's reply comes back after the link moved on: a
                        // refusal then fails the run from the ask's own task.
                        let (w, f, t) = (world.clone(), from.clone(), to.clone());
                        let late = move |refused| w.refused(f, t, refused);
                        let delivered = Box::pin(peer.deliver(&world.shared.net, &from, &to, msg, carry, late)).await;
                        if let Err(refused) = delivered {
                            world.refused(from.clone(), to.clone(), refused);
                        }
                    }
                }
            }
            LinkItem::Close(sent, n) => {
                let expected = world.shared.mailboxes.arrivals.held(&from, &to, sent.after(latency), n);
                let _expected = hold(&mut carry, expected);
                let stream = world.shared.net.take_stream(&from, &to);
                match (world.transport(), stream) {
                    // Dropping the stream's sender ends the subscriber's stream; its
                    // reader then reports the disconnect (and lands the carry).
                    (Transport::Grpc, Some(stream)) => {
                        transit.hand_over(&from, &to, Leg::Event, carry);
                        drop(stream)
                    }
                    _ => world.deliver(&to, Delivery::Disconnected { peer: from.clone() }),
                }
            }
            LinkItem::LostReply(_) => {
                // Dropping the waiting sender fails the asker's unary call.
                world.shared.net.lose_reply(&from, &to);
            }
        }
    }
}
