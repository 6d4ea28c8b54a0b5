//! The leading master's coordinator of the replicated log (upstream
//! `src/log/coordinator.cpp`, `src/log/catchup.cpp`): the *proposer* of
//! multi-Paxos.
//!
//! ```text
//!   elect ──PromiseRequest{p} to all──▶ quorum ACCEPT ─▶ index = max end
//!     │  a REJECT{q}: p = q, try again with q + 1 (`LogStorage::start` retries)
//!     ▼
//!   fill each position ≤ index the local replica has not learned:
//!     PromiseRequest{p+1, position} to all ─▶ an answer holding the learned
//!     value: LearnedMessage to all; else a quorum ACCEPT ─▶ the value
//!     performed by the highest proposal (or a NOP) ─▶ WriteRequest ─▶ quorum
//!     ACCEPT ─▶ LearnedMessage to all
//!     ▼
//!   elected at index ──append(bytes)──▶ WriteRequest{p, index+1} to all
//!     ─▶ quorum ACCEPT: chosen ─▶ LearnedMessage to all; index + 1
//!     a REJECT: demoted (another coordinator promised higher)
//! ```
//!
//! Why a quorum of *all* replicas, the coordinator's own included: Paxos's
//! safety is that any two quorums meet, so a value a quorum accepted is seen
//! by the next coordinator's promise phase, which must then write it again
//! (the fill) before it writes anything new. A minority therefore can never
//! write: its coordinator waits for answers that do not come, and the
//! registrar's timeouts turn that wait into the master's abort.
//!
//! The coordinator sends each message once (upstream's `Network::broadcast`);
//! a message lost to a fault is not retried here either.

use super::replica::{Disk, Stored};
use mesocosm_proto::internal::log::{
    Action, LearnedMessage, PromiseRequest, PromiseResponse, WriteRequest, WriteResponse, action, promise_response,
    write_response,
};
use mesocosm_sim::{ActorId, Msg};
use std::collections::{BTreeMap, BTreeSet};

/// What the coordinator tells its owner.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    /// Elected: every position up to `index` is chosen and learned locally.
    Elected { index: u64 },
    /// The append at `position` is chosen.
    Appended { position: u64 },
    /// A replica promised a higher proposal: this coordinator may not write.
    Demoted { proposal: u64 },
}

#[derive(Debug)]
enum State {
    Idle,
    /// Implicit promise phase: who accepted, and their ends.
    Electing {
        accepted: BTreeMap<ActorId, u64>,
    },
    /// Explicit promise for one missing position on the way to `index`.
    FillPromise {
        position: u64,
        index: u64,
        accepted: BTreeMap<ActorId, Option<Action>>,
    },
    /// Writing the fill's value at `position`.
    FillWrite {
        action: Action,
        index: u64,
        acks: BTreeSet<ActorId>,
    },
    Elected,
    /// An append in flight.
    Writing {
        action: Action,
        acks: BTreeSet<ActorId>,
    },
    Demoted,
}

/// The proposer. See the module docs.
#[derive(Debug)]
pub struct Coordinator {
    replicas: Vec<ActorId>,
    quorum: usize,
    /// The local replica's storage, for the positions it already learned.
    local: Disk,
    proposal: u64,
    index: u64,
    state: State,
}

type Sends = Vec<(ActorId, Msg)>;

impl Coordinator {
    /// A coordinator writing to `replicas` (its own included), needing
    /// `quorum` of them.
    pub fn new(replicas: Vec<ActorId>, quorum: usize, local: Disk) -> Coordinator {
        Coordinator { replicas, quorum, local, proposal: 0, index: 0, state: State::Idle }
    }

    /// The proposal number in use.
    pub fn proposal(&self) -> u64 {
        self.proposal
    }

    /// The last chosen position this coordinator knows.
    pub fn index(&self) -> u64 {
        self.index
    }

    /// True once elected and not writing.
    pub fn ready(&self) -> bool {
        matches!(self.state, State::Elected)
    }

    fn all(&self, msg: impl Into<Msg>) -> Sends {
        let msg = msg.into();
        self.replicas.iter().map(|r| (r.clone(), msg.clone())).collect()
    }

    /// Start (or restart) the election: an implicit promise with a proposal
    /// above anything this replica promised (`proposal = max(proposal,
    /// promised) + 1`, as upstream).
    pub fn elect(&mut self) -> Sends {
        let promised = self.local.lock().promised;
        self.proposal = self.proposal.max(promised) + 1;
        self.state = State::Electing { accepted: BTreeMap::new() };
        self.all(PromiseRequest { proposal: self.proposal, position: None })
    }

    /// Append `bytes` at the next position. Only when [`Coordinator::ready`].
    pub fn append(&mut self, bytes: Vec<u8>) -> Sends {
        assert!(self.ready(), "append before the coordinator is elected, or while it writes");
        let action = Action {
            position: self.index + 1,
            promised: self.proposal,
            performed: Some(self.proposal),
            learned: None,
            r#type: Some(action::Type::Append as i32),
            append: Some(action::Append { bytes, cksum: None }),
            ..Default::default()
        };
        let sends = self.all(write_of(&action, self.proposal));
        self.state = State::Writing { action, acks: BTreeSet::new() };
        sends
    }

    /// A replica's answer.
    pub fn receive(&mut self, from: &ActorId, msg: &Msg) -> (Sends, Option<Event>) {
        match msg {
            Msg::LogPromised(r) => self.promised(from, r),
            Msg::LogWritten(r) => self.written(from, r),
            _ => (Vec::new(), None),
        }
    }

    fn promised(&mut self, from: &ActorId, r: &PromiseResponse) -> (Sends, Option<Event>) {
        let rejected = r.r#type == Some(promise_response::Type::Reject as i32);
        match &mut self.state {
            State::Electing { accepted } => {
                if rejected {
                    // Lost this round; retry above the promise we met.
                    self.proposal = self.proposal.max(r.proposal);
                    return (self.elect(), None);
                }
                if r.proposal != self.proposal {
                    return (Vec::new(), None);
                }
                accepted.insert(from.clone(), r.position.unwrap_or(0));
                if accepted.len() < self.quorum {
                    return (Vec::new(), None);
                }
                let index = accepted.values().copied().max().unwrap_or(0);
                self.fill_from(1, index)
            }
            State::FillPromise { position, index, accepted } => {
                if rejected {
                    return self.demote(r.proposal);
                }
                // An answer about an earlier position (a late replica) is stale.
                let about = r.action.as_ref().map(|a| a.position).or(r.position);
                if r.proposal != self.proposal + 1 || about != Some(*position) {
                    return (Vec::new(), None);
                }
                if let Some(a) = r.action.as_ref().filter(|a| a.learned == Some(true)) {
                    // Already chosen: no need to hear a quorum or write it
                    // again (`FillProcess` stops at a learned action); every
                    // replica is told, which also catches up the lagging ones.
                    let (next, index) = (*position + 1, *index);
                    let mut sends = self.learned(a.clone());
                    let (more, event) = self.fill_from(next, index);
                    sends.extend(more);
                    return (sends, event);
                }
                accepted.insert(from.clone(), r.action.clone());
                if accepted.len() < self.quorum {
                    return (Vec::new(), None);
                }
                // The value a quorum may have chosen: the one performed by the
                // highest proposal; none performed means nothing was chosen,
                // so a NOP fills the hole (`src/log/catchup.cpp`).
                let chosen =
                    accepted.values().flatten().filter(|a| a.performed.is_some()).max_by_key(|a| a.performed).cloned();
                let p = self.proposal + 1;
                let mut action = chosen.unwrap_or(Action {
                    position: *position,
                    r#type: Some(action::Type::Nop as i32),
                    nop: Some(action::Nop { tombstone: None }),
                    ..Default::default()
                });
                action.position = *position;
                action.promised = p;
                action.performed = Some(p);
                action.learned = None;
                let index = *index;
                let sends = self.all(write_of(&action, p));
                self.state = State::FillWrite { action, index, acks: BTreeSet::new() };
                (sends, None)
            }
            _ => (Vec::new(), None),
        }
    }

    fn written(&mut self, from: &ActorId, r: &WriteResponse) -> (Sends, Option<Event>) {
        let rejected = r.r#type == Some(write_response::Type::Reject as i32);
        match &mut self.state {
            State::FillWrite { action, index, acks } if r.position == action.position => {
                if rejected {
                    return self.demote(r.proposal);
                }
                acks.insert(from.clone());
                if acks.len() < self.quorum {
                    return (Vec::new(), None);
                }
                let (action, index) = (action.clone(), *index);
                let next = action.position + 1;
                let mut sends = self.learned(action);
                let (more, event) = self.fill_from(next, index);
                sends.extend(more);
                (sends, event)
            }
            State::Writing { action, acks } if r.position == action.position => {
                if rejected {
                    return self.demote(r.proposal);
                }
                acks.insert(from.clone());
                if acks.len() < self.quorum {
                    return (Vec::new(), None);
                }
                let action = action.clone();
                self.index = action.position;
                self.state = State::Elected;
                (self.learned(action.clone()), Some(Event::Appended { position: action.position }))
            }
            _ => (Vec::new(), None),
        }
    }

    /// Tell every replica `action` is chosen.
    fn learned(&self, mut action: Action) -> Sends {
        action.learned = Some(true);
        self.all(LearnedMessage { action })
    }

    /// Fill the first position in `from..=index` the local replica has not
    /// learned, or finish the election if there is none.
    fn fill_from(&mut self, from: u64, index: u64) -> (Sends, Option<Event>) {
        let missing = {
            let st: std::sync::MutexGuard<'_, Stored> = self.local.lock();
            (from..=index).find(|p| st.learned(*p).is_none())
        };
        match missing {
            None => {
                self.index = index;
                self.state = State::Elected;
                (Vec::new(), Some(Event::Elected { index }))
            }
            Some(position) => {
                // Upstream's catch-up promises with proposal + 1: the implicit
                // promise already holds `proposal` on these replicas.
                let sends = self.all(PromiseRequest { proposal: self.proposal + 1, position: Some(position) });
                self.state = State::FillPromise { position, index, accepted: BTreeMap::new() };
                (sends, None)
            }
        }
    }

    fn demote(&mut self, proposal: u64) -> (Sends, Option<Event>) {
        self.state = State::Demoted;
        (Vec::new(), Some(Event::Demoted { proposal }))
    }
}

/// The WriteRequest that writes `a` with proposal `p`.
fn write_of(a: &Action, p: u64) -> WriteRequest {
    WriteRequest {
        proposal: p,
        position: a.position,
        learned: None,
        r#type: a.r#type.unwrap_or(action::Type::Nop as i32),
        nop: a.nop,
        append: a.append.clone(),
        truncate: a.truncate,
    }
}
