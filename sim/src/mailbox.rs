//! Mailboxes: where the network puts what it delivers to an actor.
//!
//! Every running actor has one mailbox, an unbounded queue its host reads one
//! [`Delivery`] at a time. Both transports end here: memory puts a message in
//! the mailbox the moment its link wakes; gRPC puts it there from the
//! receiver's tonic server (or the subscriber's stream reader, or the asker's
//! client), and lands its [`Carry`](crate::transit::Carry) on the way.
//!
//! [`Mailboxes`] is the handle both the world and the gRPC transport hold. It
//! also keeps what a transport must know about a *process* behind a name:
//!
//! - its **incarnation**: how many times the name was started, since a
//!   restarted actor is a new process, so a cached gRPC connection to the old
//!   one is dead and is dialled again;
//! - the tasks it **owns** (its host, its server, its stream readers), which die
//!   with it, as a process's threads do.
//!
//! ```text
//!  world::spawn ─open──▶ Mailboxes ◀──deliver── world (memory transport, disconnects, exits)
//!  world::exit  ─close─▶           ◀──deliver── grpc (servers, stream readers, clients)
//! ```

use crate::actor::{ActorId, Input, Refusal};
use crate::arrivals::Arrivals;
use crate::msg::Msg;
use crate::transit::Transit;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

/// What the network hands an actor's host.
#[derive(Debug)]
pub(crate) enum Delivery {
    Message {
        from: ActorId,
        msg: Box<Msg>,
    },
    /// A call whose caller waits for the receiver's answer: `None` accepted, or
    /// the receiver's [`Refusal`] (gRPC's unary scheduler calls).
    Call {
        from: ActorId,
        msg: Box<Msg>,
        answer: oneshot::Sender<Option<Refusal>>,
    },
    Disconnected {
        peer: ActorId,
    },
    Exited {
        actor: ActorId,
        status: i32,
    },
    Refused {
        peer: ActorId,
        kind: &'static str,
        refusal: Refusal,
    },
}

/// Where a host sends the answer to the call it is handling, if the caller waits.
pub(crate) type Answer = Option<oneshot::Sender<Option<Refusal>>>;

impl Delivery {
    /// Whom it comes from: the sender, the peer that went away or refused, the child that exited.
    pub(crate) fn from(&self) -> &ActorId {
        match self {
            Delivery::Message { from, .. } | Delivery::Call { from, .. } => from,
            Delivery::Disconnected { peer } | Delivery::Refused { peer, .. } => peer,
            Delivery::Exited { actor, .. } => actor,
        }
    }

    pub(crate) fn into_input<T>(self) -> (Input<T>, Answer) {
        match self {
            Delivery::Message { from, msg } => (Input::Message { from, msg: *msg }, None),
            Delivery::Call { from, msg, answer } => (Input::Message { from, msg: *msg }, Some(answer)),
            Delivery::Disconnected { peer } => (Input::Disconnected { peer }, None),
            Delivery::Exited { actor, status } => (Input::Exited { actor, status }, None),
            Delivery::Refused { peer, kind, refusal } => (Input::Refused { peer, kind, refusal }, None),
        }
    }
}

/// The running actors' mailboxes, incarnations and tasks; cheap to clone.
#[derive(Clone)]
pub(crate) struct Mailboxes {
    books: Arc<Mutex<Books>>,
    /// The messages in transit towards these mailboxes (gRPC).
    pub(crate) transit: Arc<Transit>,
    /// What each actor is still owed by the network (both transports).
    pub(crate) arrivals: Arc<Arrivals>,
}

#[derive(Default)]
struct Books {
    open: BTreeMap<ActorId, mpsc::UnboundedSender<Delivery>>,
    /// How many times each actor has been started.
    incarnations: BTreeMap<ActorId, u64>,
    /// Tasks that belong to an actor and die with it (its host, its server, its stream readers).
    owned: BTreeMap<ActorId, Vec<JoinHandle<()>>>,
}

impl Mailboxes {
    /// No mailboxes yet, for a world whose transport does (`grpc`) or does not
    /// carry messages in transit.
    pub(crate) fn new(grpc: bool) -> Mailboxes {
        Mailboxes { books: Arc::default(), transit: Arc::new(Transit::new(grpc)), arrivals: Arc::default() }
    }

    fn books(&self) -> MutexGuard<'_, Books> {
        // The world runs on one thread; a poisoned lock means a task panicked,
        // which is already a bug being reported.
        self.books.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A new incarnation of `id` starts: its mailbox opens (replacing any
    /// earlier one), and the receiving end goes to its host.
    pub(crate) fn open(&self, id: &ActorId) -> mpsc::UnboundedReceiver<Delivery> {
        let (tx, rx) = mpsc::unbounded_channel();
        let mut books = self.books();
        books.open.insert(id.clone(), tx);
        *books.incarnations.entry(id.clone()).or_insert(0) += 1;
        rx
    }

    /// `id` stopped: its mailbox closes (its host, if still reading, sees the end).
    pub(crate) fn close(&self, id: &ActorId) {
        self.books().open.remove(id);
    }

    /// Put `d` in `to`'s mailbox, if `to` is running.
    pub(crate) fn deliver(&self, to: &ActorId, d: Delivery) {
        let books = self.books();
        if let Some(mb) = books.open.get(to) {
            let _ = mb.send(d);
        }
    }

    /// True while `id` is running.
    pub(crate) fn is_open(&self, id: &ActorId) -> bool {
        self.books().open.contains_key(id)
    }

    /// Every running actor, by name.
    pub(crate) fn running(&self) -> Vec<ActorId> {
        self.books().open.keys().cloned().collect()
    }

    /// How many times `id` has been started (0: never).
    pub(crate) fn incarnation(&self, id: &ActorId) -> u64 {
        self.books().incarnations.get(id).copied().unwrap_or(0)
    }

    /// Whether the `incarnation` of `id` is not the one running now: nothing
    /// runs under its name, or a restart does.
    pub(crate) fn is_past(&self, id: &ActorId, incarnation: u64) -> bool {
        let books = self.books();
        !books.open.contains_key(id) || books.incarnations.get(id).copied().unwrap_or(0) != incarnation
    }

    /// `task` belongs to `id` and dies with it.
    pub(crate) fn own(&self, id: &ActorId, task: JoinHandle<()>) {
        self.books().owned.entry(id.clone()).or_default().push(task);
    }

    /// The tasks `id` owned, oldest first, to abort now that it has exited.
    pub(crate) fn take_owned(&self, id: &ActorId) -> Vec<JoinHandle<()>> {
        self.books().owned.remove(id).unwrap_or_default()
    }
}
