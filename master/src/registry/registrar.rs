//! The registrar (upstream `src/master/registrar.cpp`,
//! `src/master/registry_operations.cpp`): the leading master's view of the
//! [`Registry`], read once from the replicated log when it is elected and
//! written back whole after every batch of operations.
//!
//! ```text
//!   recover ──elect + fill (registry_fetch_timeout, 1 min)──▶ the last snapshot
//!      │        (or an empty Registry on a fresh log)
//!      ▼
//!   Recover(MasterInfo) stored ──▶ Outcome::Recovered(registry)
//!      ▼
//!   apply(op) ─▶ queued; if no store is in flight, every queued op is applied
//!   to a copy, and the copy is appended as one SNAPSHOT (registry_store_timeout,
//!   20 s) ─▶ Outcome::Applied(each op and whether it succeeded)
//! ```
//!
//! Why batches: upstream keeps at most one store in flight (`updating`) and
//! applies everything queued meanwhile in the next one, so a burst of agent
//! registrations costs one log write, not one each.
//!
//! A fetch or store that does not finish in its timeout, or a coordinator
//! demoted by a newer one, is [`Outcome::Failed`]: the registrar is then
//! unusable and upstream's master exits (`Master::_recover`, and each
//! registry callback's `CHECK`). A minority of masters cannot write, so a
//! leader cut off from the others aborts after at most 20 s.

use super::Timer;
use super::coordinator::Event;
use super::log::ReplicatedLog;
use super::replica::appended;
use mesocosm_proto::internal::Registry;
use mesocosm_proto::internal::registry::{self as reg};
use mesocosm_proto::internal::state::{Entry, Operation as StateOp, operation};
use mesocosm_proto::v1;
use mesocosm_sim::ids::uuid_from;
use mesocosm_sim::{ActorId, Msg, Outbox};
use prost::Message;
use std::collections::VecDeque;
use std::time::Duration;

/// The state variable the registrar stores its Registry in.
const REGISTRY: &str = "registry";

/// One registry operation (`registry_operations.hpp`).
#[derive(Clone, Debug, PartialEq)]
pub enum Operation {
    /// Persist the leader's MasterInfo (the first store after a fetch).
    Recover(v1::MasterInfo),
    /// A new agent. Fails if it was already admitted.
    AdmitSlave(v1::AgentInfo),
    /// An admitted agent becomes unreachable at `time`.
    MarkSlaveUnreachable(v1::AgentInfo, v1::TimeInfo),
    /// An unreachable (or unknown) agent is admitted again.
    MarkSlaveReachable(v1::AgentInfo),
    /// An admitted or unreachable agent is gone for good.
    MarkSlaveGone(v1::AgentId, v1::TimeInfo),
    /// An admitted agent is removed (it unregistered).
    RemoveSlave(v1::AgentInfo),
}

impl Operation {
    /// Apply to `r`: `Ok(true)` if it changed it, `Ok(false)` if not, or why
    /// it cannot apply (upstream's `perform`; the op then yields `false`).
    pub fn perform(&self, r: &mut Registry) -> Result<bool, String> {
        let slaves = &mut r.slaves.get_or_insert_with(Default::default).slaves;
        let admitted = |s: &Vec<reg::Slave>, id: &v1::AgentId| s.iter().position(|x| x.info.id.as_ref() == Some(id));
        match self {
            Operation::Recover(info) => {
                r.master = Some(reg::Master { info: info.clone() });
                Ok(true)
            }
            Operation::AdmitSlave(info) => {
                let id = agent_id(info);
                if admitted(slaves, &id).is_some() {
                    return Err("Agent already admitted".into());
                }
                slaves.push(reg::Slave { info: info.clone() });
                Ok(true)
            }
            Operation::MarkSlaveUnreachable(info, time) => {
                let id = agent_id(info);
                let Some(i) = admitted(slaves, &id) else { return Err("Agent not yet admitted".into()) };
                slaves.remove(i);
                let u = r.unreachable.get_or_insert_with(Default::default);
                u.slaves.push(reg::UnreachableSlave { id, timestamp: *time });
                Ok(true)
            }
            Operation::MarkSlaveReachable(info) => {
                let id = agent_id(info);
                if admitted(slaves, &id).is_some() {
                    return Ok(false);
                }
                slaves.push(reg::Slave { info: info.clone() });
                // An unknown agent is allowed back too (upstream warns).
                if let Some(u) = r.unreachable.as_mut() {
                    u.slaves.retain(|s| s.id != id);
                }
                Ok(true)
            }
            Operation::MarkSlaveGone(id, time) => {
                let gone = r.gone.get_or_insert_with(Default::default);
                if gone.slaves.iter().any(|g| &g.id == id) {
                    return Err(format!("Agent {} already marked as gone", id.value));
                }
                let found = match admitted(slaves, id) {
                    Some(i) => {
                        slaves.remove(i);
                        true
                    }
                    None => r.unreachable.as_mut().is_some_and(|u| {
                        let before = u.slaves.len();
                        u.slaves.retain(|s| &s.id != id);
                        u.slaves.len() < before
                    }),
                };
                if !found {
                    return Err(format!("Failed to find agent {}", id.value));
                }
                let gone = r.gone.get_or_insert_with(Default::default);
                gone.slaves.push(reg::GoneSlave { id: id.clone(), timestamp: *time });
                Ok(true)
            }
            Operation::RemoveSlave(info) => {
                let Some(i) = admitted(slaves, &agent_id(info)) else { return Err("Agent not yet admitted".into()) };
                slaves.remove(i);
                Ok(true)
            }
        }
    }
}

fn agent_id(info: &v1::AgentInfo) -> v1::AgentId {
    info.id.clone().unwrap_or_default()
}

/// What the registrar tells the master.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// The registry as recovered (with this master's MasterInfo stored).
    Recovered(Box<Registry>),
    /// A batch is stored: each operation and whether it applied.
    Applied(Vec<(Operation, bool)>),
    /// The registrar failed; the master must abort with this message.
    Failed(String),
}

#[derive(Debug, PartialEq)]
enum Phase {
    /// Not leading: the replica answers, nothing is read or written.
    Idle,
    Fetching,
    /// The Recover(MasterInfo) store of a fresh fetch.
    Recovering,
    Ready,
    Failed,
}

/// The registrar's timeouts.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Timeouts {
    /// `--registry_fetch_timeout` (1 min).
    pub fetch: Duration,
    /// `--registry_store_timeout` (20 s).
    pub store: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts { fetch: Duration::from_secs(60), store: Duration::from_secs(20) }
    }
}

/// The registrar. See the module docs.
#[derive(Debug)]
pub struct Registrar {
    log: ReplicatedLog,
    timeouts: Timeouts,
    phase: Phase,
    registry: Registry,
    /// Stores so far (names the store timeout and the entry's uuid).
    stores: u64,
    queue: VecDeque<Operation>,
    /// The store in flight: its operations with their results, and the
    /// registry it writes.
    in_flight: Option<(Vec<(Operation, bool)>, Registry)>,
}

impl Registrar {
    /// A registrar over `log`.
    pub fn new(log: ReplicatedLog, timeouts: Timeouts) -> Registrar {
        Registrar {
            log,
            timeouts,
            phase: Phase::Idle,
            registry: Registry::default(),
            stores: 0,
            queue: VecDeque::new(),
            in_flight: None,
        }
    }

    /// The registry as last stored.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The log underneath.
    pub fn log(&self) -> &ReplicatedLog {
        &self.log
    }

    /// True once recovered and not failed.
    pub fn ready(&self) -> bool {
        self.phase == Phase::Ready
    }

    /// `Registrar::recover`: fetch the registry (elect, fill) within
    /// `registry_fetch_timeout`, then store `info` in it.
    pub fn recover<T: From<Timer>>(&mut self, info: v1::MasterInfo, out: &mut Outbox<T>) -> Vec<Outcome> {
        if self.phase != Phase::Idle {
            return Vec::new();
        }
        self.phase = Phase::Fetching;
        self.queue.push_front(Operation::Recover(info));
        out.set_timer(self.timeouts.fetch, Timer::FetchTimeout.into());
        let events = self.log.elect(out);
        self.on_events(events, out)
    }

    /// `Registrar::apply`: queue `op`; stored with the next batch.
    pub fn apply<T: From<Timer>>(&mut self, op: Operation, out: &mut Outbox<T>) -> Vec<Outcome> {
        if self.phase == Phase::Failed {
            return Vec::new();
        }
        self.queue.push_back(op);
        if self.phase == Phase::Ready && self.in_flight.is_none() {
            self.update(out);
        }
        Vec::new()
    }

    /// A `mesos.internal.log` message.
    pub fn on_message<T: From<Timer>>(&mut self, from: &ActorId, msg: &Msg, out: &mut Outbox<T>) -> Vec<Outcome> {
        let events = self.log.on_message(from, msg, out);
        self.on_events(events, out)
    }

    /// One of the registrar's timers.
    pub fn on_timer<T: From<Timer>>(&mut self, t: Timer, out: &mut Outbox<T>) -> Vec<Outcome> {
        match t {
            Timer::Disk => {
                let events = self.log.on_disk(out);
                self.on_events(events, out)
            }
            Timer::FetchTimeout if self.phase == Phase::Fetching => self.fail(format!(
                "Failed to recover registrar: Failed to perform fetch within {}",
                stringify(self.timeouts.fetch)
            )),
            Timer::StoreTimeout { store } if store == self.stores && self.in_flight.is_some() => {
                let what = format!("Failed to perform store within {}", stringify(self.timeouts.store));
                self.fail(self.store_failure(&what))
            }
            _ => Vec::new(),
        }
    }

    fn store_failure(&self, why: &str) -> String {
        if self.phase == Phase::Recovering {
            format!("Failed to recover registrar: Failed to persist MasterInfo: {why}")
        } else {
            format!("Failed to update registry: {why}")
        }
    }

    fn fail(&mut self, message: String) -> Vec<Outcome> {
        self.phase = Phase::Failed;
        self.in_flight = None;
        self.queue.clear();
        vec![Outcome::Failed(message)]
    }

    fn on_events<T: From<Timer>>(&mut self, events: Vec<Event>, out: &mut Outbox<T>) -> Vec<Outcome> {
        let mut outcomes = Vec::new();
        for e in events {
            match e {
                Event::Elected { index } if self.phase == Phase::Fetching => match self.read(index) {
                    Ok(r) => {
                        self.registry = r;
                        self.phase = Phase::Recovering;
                        self.update(out);
                    }
                    Err(why) => return self.fail(format!("Failed to recover registrar: {why}")),
                },
                Event::Appended { .. } => {
                    let Some((ops, updated)) = self.in_flight.take() else { continue };
                    self.registry = updated;
                    if self.phase == Phase::Recovering {
                        self.phase = Phase::Ready;
                        outcomes.push(Outcome::Recovered(Box::new(self.registry.clone())));
                        // The Recover op is not the master's to hear about.
                        let rest: Vec<_> = ops.into_iter().skip(1).collect();
                        if !rest.is_empty() {
                            outcomes.push(Outcome::Applied(rest));
                        }
                    } else {
                        outcomes.push(Outcome::Applied(ops));
                    }
                    if !self.queue.is_empty() {
                        self.update(out);
                    }
                }
                Event::Demoted { .. } => {
                    // Upstream's writer returns no position; LogStorage's store
                    // then yields none, which the registrar calls a version mismatch.
                    let failure = match self.phase {
                        Phase::Fetching => "Failed to recover registrar: coordinator demoted".to_string(),
                        _ => self.store_failure("version mismatch"),
                    };
                    outcomes.extend(self.fail(failure));
                    return outcomes;
                }
                Event::Elected { .. } => {}
            }
        }
        outcomes
    }

    /// The registry in the last snapshot at or before `index` (a fresh log
    /// holds none: an empty Registry).
    fn read(&self, index: u64) -> Result<Registry, String> {
        let st = self.log.disk().lock();
        for p in (1..=index).rev() {
            let Some(bytes) = st.learned(p).and_then(appended) else { continue };
            let op = StateOp::decode(bytes).map_err(|e| format!("bad state operation at {p}: {e}"))?;
            let Some(snap) = op.snapshot.filter(|_| op.r#type == operation::Type::Snapshot as i32) else { continue };
            if snap.entry.name == REGISTRY {
                return Registry::decode(snap.entry.value.as_slice()).map_err(|e| e.to_string());
            }
        }
        Ok(Registry::default())
    }

    /// `RegistrarProcess::update`: every queued op on a copy, one store.
    fn update<T: From<Timer>>(&mut self, out: &mut Outbox<T>) {
        if self.queue.is_empty() || self.in_flight.is_some() {
            return;
        }
        let mut updated = self.registry.clone();
        let ops: Vec<(Operation, bool)> = self
            .queue
            .drain(..)
            .map(|op| {
                let ok = op.perform(&mut updated).is_ok();
                (op, ok)
            })
            .collect();
        self.stores += 1;
        let uuid = uuid_from(&[REGISTRY.as_bytes(), &self.stores.to_le_bytes()]).to_vec();
        let entry = Entry { name: REGISTRY.to_string(), uuid, value: updated.encode_to_vec() };
        let op = StateOp {
            r#type: operation::Type::Snapshot as i32,
            snapshot: Some(operation::Snapshot { entry }),
            diff: None,
            expunge: None,
        };
        self.in_flight = Some((ops, updated));
        out.set_timer(self.timeouts.store, Timer::StoreTimeout { store: self.stores }.into());
        let events = self.log.append(op.encode_to_vec(), out);
        debug_assert!(events.is_empty(), "an append completes only on answers");
    }
}

/// A duration as Mesos's `stringify(Duration)` writes it (`20secs`, `1mins`).
pub fn stringify(d: Duration) -> String {
    let s = d.as_secs_f64();
    let (v, unit) = if s >= 86400.0 {
        (s / 86400.0, "days")
    } else if s >= 3600.0 {
        (s / 3600.0, "hrs")
    } else if s >= 60.0 {
        (s / 60.0, "mins")
    } else if s >= 1.0 {
        (s, "secs")
    } else {
        (s * 1000.0, "ms")
    };
    format!("{v}{unit}")
}
