//! One master's replica of the replicated log (upstream `src/log/replica.cpp`).
//!
//! A replica is the *acceptor* of multi-Paxos. It holds one promise for the
//! whole log (the metadata's `promised`) and, for each position, the
//! [`Action`] written there: the proposal it promised for that position, the
//! proposal that performed it, and whether it is known to be chosen
//! (`learned`).
//!
//! ```text
//!   PromiseRequest{proposal}            implicit: proposal > promised ? ACCEPT{position = end} : REJECT{promised}
//!   PromiseRequest{proposal, position}  explicit: proposal > that position's promise ? ACCEPT{action held} : REJECT
//!   WriteRequest{proposal, position}    proposal >= the promise ? store the action, ACCEPT : REJECT{promise}
//!   LearnedMessage{action}              store it as chosen (no reply)
//!   RecoverRequest                      RecoverResponse{VOTING, begin, end}
//! ```
//!
//! # The disk
//!
//! Upstream keeps a replica in LevelDB under the master's `--work_dir` and
//! answers only after the record is written with `sync = true`, so a crash
//! never forgets a promise. Here the records live in a [`Disk`] the world
//! hands every incarnation of one master (a killed master restarted by a
//! fault finds its log again), and each persisting answer is held for
//! [`DISK_WRITE`] after the previous write finished: the writes of one
//! replica are sequential, as LevelDB's log is. What is not modelled: a crash
//! between the write and its fsync (the record is in the [`Disk`] at once).
//!
//! Every replica starts VOTING with an empty log, as after
//! `mesos-log initialize` (upstream's auto-initialisation of a fresh
//! cluster, EMPTY → STARTING → VOTING, is left out).

use mesocosm_proto::internal::log::{
    Action, LearnedMessage, PromiseRequest, PromiseResponse, RecoverResponse, WriteRequest, WriteResponse, action,
    metadata, promise_response, write_response,
};
use mesocosm_sim::{Msg, SimTime};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// How long one replica's synchronous LevelDB write takes: 10 ms.
///
/// Why 10 ms: each promise and write is one LevelDB `Put` with `sync = true`
/// (`src/log/leveldb.cpp`), i.e. one fsync, which costs about a disk rotation
/// on the spinning disks Mesos clusters of the NSDI'11 era ran on (8.3 ms at
/// 7200 rpm) and 1–10 ms on commodity SSDs; 10 ms is the round figure at the
/// slow end. A quorum write then costs a link round trip plus 10 ms.
pub const DISK_WRITE: Duration = Duration::from_millis(10);

/// What a replica has persisted: its promise and its actions by position.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Stored {
    /// The metadata's `promised`: the highest implicit promise made.
    pub promised: u64,
    /// Every position this replica holds.
    pub actions: BTreeMap<u64, Action>,
}

impl Stored {
    /// The last position held (0 when empty).
    pub fn end(&self) -> u64 {
        self.actions.keys().next_back().copied().unwrap_or(0)
    }

    /// The chosen action at `position`, if this replica learned it.
    pub fn learned(&self, position: u64) -> Option<&Action> {
        self.actions.get(&position).filter(|a| a.learned == Some(true))
    }
}

/// A replica's storage, shared by the incarnations of one master (its
/// `--work_dir`): a restarted master finds what its predecessor persisted.
#[derive(Clone, Debug, Default)]
pub struct Disk(Arc<Mutex<Stored>>);

impl PartialEq for Disk {
    /// The same disk, not equal contents.
    fn eq(&self, other: &Disk) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Disk {
    /// A fresh, empty disk.
    pub fn new() -> Disk {
        Disk::default()
    }

    /// Read (or change) what is stored.
    pub fn lock(&self) -> MutexGuard<'_, Stored> {
        // A poisoned lock means a step panicked; the world reports that panic.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The acceptor. See the module docs.
#[derive(Debug)]
pub struct Replica {
    disk: Disk,
    /// When the disk finishes the writes queued so far.
    busy_until: SimTime,
}

impl Replica {
    /// A replica over `disk`.
    pub fn new(disk: Disk) -> Replica {
        Replica { disk, busy_until: SimTime::ZERO }
    }

    /// The storage.
    pub fn disk(&self) -> &Disk {
        &self.disk
    }

    /// A persisting step: the time its answer may leave (after the queued
    /// writes and this one).
    fn persist(&mut self, now: SimTime) -> SimTime {
        let done = self.busy_until.max(now).after(DISK_WRITE);
        self.busy_until = done;
        done
    }

    /// Handle one message of the log protocol; the reply (if any) and when it
    /// may be sent (`now`, or after a disk write).
    pub fn receive(&mut self, now: SimTime, msg: &Msg) -> Option<(SimTime, Msg)> {
        match msg {
            Msg::LogPromise(r) => Some(self.promise(now, r)),
            Msg::LogWrite(r) => self.write(now, r),
            Msg::LogLearned(m) => {
                self.learn(m);
                self.persist(now);
                None
            }
            Msg::LogRecover(_) => {
                let st = self.disk.lock();
                let begin = st.actions.keys().next().copied().unwrap_or(0);
                let r = RecoverResponse {
                    status: metadata::Status::Voting as i32,
                    begin: Some(begin),
                    end: Some(st.end()),
                };
                Some((now, r.into()))
            }
            _ => None,
        }
    }

    fn promise(&mut self, now: SimTime, r: &PromiseRequest) -> (SimTime, Msg) {
        let reject = |promised: u64| PromiseResponse {
            okay: false,
            r#type: Some(promise_response::Type::Reject as i32),
            proposal: promised,
            position: None,
            action: None,
        };
        let mut st = self.disk.lock();
        let Some(position) = r.position else {
            // Implicit: a promise for every position.
            if r.proposal <= st.promised {
                return (now, reject(st.promised).into());
            }
            st.promised = r.proposal;
            let end = st.end();
            drop(st);
            let at = self.persist(now);
            let ok = PromiseResponse {
                okay: true,
                r#type: Some(promise_response::Type::Accept as i32),
                proposal: r.proposal,
                position: Some(end),
                action: None,
            };
            return (at, ok.into());
        };
        // Explicit: a promise for one position, answered with what it holds.
        let held = st.actions.get(&position).cloned();
        let promised = held.as_ref().map_or(st.promised, |a| a.promised);
        if r.proposal <= promised {
            return (now, reject(promised).into());
        }
        let mut a = held.clone().unwrap_or(Action { position, ..Default::default() });
        a.promised = r.proposal;
        st.actions.insert(position, a);
        drop(st);
        let at = self.persist(now);
        let ok = PromiseResponse {
            okay: true,
            r#type: Some(promise_response::Type::Accept as i32),
            proposal: r.proposal,
            position: held.is_none().then_some(position),
            action: held,
        };
        (at, ok.into())
    }

    fn write(&mut self, now: SimTime, r: &WriteRequest) -> Option<(SimTime, Msg)> {
        let mut st = self.disk.lock();
        let held = st.actions.get(&r.position).cloned();
        let promised = held.as_ref().map_or(st.promised, |a| a.promised);
        if r.proposal < promised {
            let no = WriteResponse {
                okay: false,
                r#type: Some(write_response::Type::Reject as i32),
                proposal: promised,
                position: r.position,
            };
            return Some((now, no.into()));
        }
        if held.as_ref().is_some_and(|a| a.learned == Some(true)) {
            // Upstream ignores a write to a learned position: its value is
            // chosen and cannot change.
            return None;
        }
        let a = Action {
            position: r.position,
            promised,
            performed: Some(r.proposal),
            learned: r.learned,
            r#type: Some(r.r#type),
            nop: r.nop,
            append: r.append.clone(),
            truncate: r.truncate,
        };
        st.actions.insert(r.position, a);
        drop(st);
        let at = self.persist(now);
        let ok = WriteResponse {
            okay: true,
            r#type: Some(write_response::Type::Accept as i32),
            proposal: r.proposal,
            position: r.position,
        };
        Some((at, ok.into()))
    }

    fn learn(&mut self, m: &LearnedMessage) {
        let mut a = m.action.clone();
        a.learned = Some(true);
        self.disk.lock().actions.insert(a.position, a);
    }
}

/// The bytes of an APPEND action, if `a` is one.
pub fn appended(a: &Action) -> Option<&[u8]> {
    (a.r#type == Some(action::Type::Append as i32)).then_some(())?;
    a.append.as_ref().map(|x| x.bytes.as_slice())
}
