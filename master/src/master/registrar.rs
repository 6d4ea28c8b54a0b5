//! The master's use of the registry when there are several masters
//! (`MasterConfig::registry`): what it persists and what an elected master
//! recovers (`Master::_recover`, `recoveredSlavesTimeout`, `_registerSlave`,
//! `markUnreachable` in `src/master/master.cpp`).
//!
//! ```text
//!   elected ─▶ Registrar::recover (fetch ≤ 1 min, MasterInfo stored ≤ 20 s)
//!     │          RegisterSlave / ReregisterSlave are dropped meanwhile
//!     │          ("master is not yet recovered"): agents retry
//!     ▼
//!   recovered: the registry's admitted agents are `recovered` (not offered,
//!   reconciliation about their tasks answers nothing), its unreachable ones
//!   unreachable; agent_reregister_timeout (10 min) starts
//!     ▼
//!   RegisterSlave ─▶ AdmitSlave stored ─▶ SlaveRegisteredMessage
//!   ReregisterSlave of an unreachable or unknown agent ─▶ MarkSlaveReachable
//!   stored ─▶ admitted with its tasks (a recovered agent needs no write)
//!     ▼
//!   10 min later: more than recovery_agent_removal_limit (100%) of the
//!   registry's agents still silent ─▶ abort; else each silent agent, one per
//!   agent_removal_rate_limit slot (none: all at once) ─▶ MarkSlaveUnreachable
//!   stored ─▶ unreachable, FAILURE{agent_id} to every connected framework
//! ```
//!
//! A failed registry operation (fetch or store timed out, coordinator
//! demoted) makes the master exit with status 1, as upstream's does: a
//! master that cannot persist must not lead.
//!
//! Where this differs: removals other than the recovery's (health check
//! timed out, agent_reregister_timeout of a disconnected agent, an agent
//! unregistering or replaced) change the books at once and are persisted
//! after, not before; `agent_removal_rate_limit` paces only the recovery's
//! removals.

use super::{Master, Timer, event};
use crate::history::MasterEvent;
use crate::registry::log::ReplicatedLog;
use crate::registry::registrar::{Operation, Outcome, Registrar, Timeouts, stringify};
use crate::registry::replica::Disk;
use mesocosm_proto::scheduler::event::Type as EventType;
use mesocosm_proto::{internal, scheduler, v1};
use mesocosm_sim::msg::short_id;
use mesocosm_sim::{ActorId, Msg, Outbox};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::Duration;

/// The replicated log a master holds (`--registry=replicated_log`, `--quorum`).
#[derive(Clone, Debug, PartialEq)]
pub struct RegistryConfig {
    /// Every master, this one included: the log's replicas.
    pub replicas: Vec<ActorId>,
    /// `--quorum`: replicas that must hold an entry (more than half).
    pub quorum: usize,
    /// This master's replica storage (its `--work_dir`), kept across restarts.
    pub disk: Disk,
    /// `--registry_fetch_timeout` and `--registry_store_timeout`.
    pub timeouts: Timeouts,
    /// Leads from Start, until ZooKeeper's election decides who leads.
    pub leader_at_start: bool,
}

/// `--agent_removal_rate_limit`: `permits` removals per `per` (`1/20mins`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RemovalRate {
    pub permits: u32,
    pub per: Duration,
}

impl RemovalRate {
    /// The spacing of removals (libprocess's `RateLimiter` grants one permit
    /// each `per / permits`, the first at once).
    pub fn interval(self) -> Duration {
        self.per / self.permits.max(1)
    }
}

/// The master's registry state. See the module docs.
#[derive(Debug)]
pub(super) struct Persisted {
    registrar: Registrar,
    /// Agents waiting for their AdmitSlave: id → who registered, and its info.
    admitting: BTreeMap<String, (ActorId, v1::AgentInfo)>,
    /// Agents waiting for their MarkSlaveReachable: id → who re-registered, and how.
    readmitting: BTreeMap<String, (ActorId, internal::ReregisterSlaveMessage)>,
    /// The admitted agents of the recovered registry, by id.
    recovered_infos: BTreeMap<String, v1::AgentInfo>,
    /// Recovered agents waiting for a removal slot.
    to_remove: VecDeque<String>,
    /// Recovered agents whose MarkSlaveUnreachable is being stored.
    marking: BTreeSet<String>,
    aborted: bool,
}

impl Persisted {
    pub(super) fn new(me: ActorId, cfg: &RegistryConfig) -> Persisted {
        let log = ReplicatedLog::new(me, cfg.replicas.clone(), cfg.quorum, cfg.disk.clone());
        Persisted {
            registrar: Registrar::new(log, cfg.timeouts),
            admitting: BTreeMap::new(),
            readmitting: BTreeMap::new(),
            recovered_infos: BTreeMap::new(),
            to_remove: VecDeque::new(),
            marking: BTreeSet::new(),
            aborted: false,
        }
    }
}

impl From<crate::registry::Timer> for Timer {
    fn from(t: crate::registry::Timer) -> Timer {
        Timer::Registry(t)
    }
}

fn time_info(now: mesocosm_sim::SimTime) -> v1::TimeInfo {
    v1::TimeInfo { nanoseconds: i64::try_from(now.micros()).unwrap_or(i64::MAX).saturating_mul(1000) }
}

fn aid_of(info: &v1::AgentInfo) -> String {
    info.id.as_ref().map(|i| i.value.clone()).unwrap_or_default()
}

impl Master {
    /// The registry this master recovered and writes, if it has one.
    pub fn registry(&self) -> Option<&internal::Registry> {
        self.persisted.as_ref().map(|p| p.registrar.registry())
    }

    /// True while an elected master with a registry has not recovered it:
    /// agents' (re-)registrations are dropped (they retry).
    pub(super) fn registry_recovering(&self) -> bool {
        self.persisted.as_ref().is_some_and(|p| !p.registrar.ready())
    }

    /// `Master::recover`: fetch the registry (from `elected`).
    pub(super) fn recover_registry(&mut self, out: &mut Outbox<Timer>) {
        let info = self.info.clone();
        let Some(p) = self.persisted.as_mut() else { return };
        let outcomes = p.registrar.recover(info, out);
        out.note("elected: recovering the registry from the replicated log");
        self.registry_outcomes(outcomes, out);
    }

    /// A `mesos.internal.log` message: every master's replica answers, the
    /// leader's coordinator hears the answers.
    pub(super) fn registry_message(&mut self, from: ActorId, msg: Msg, out: &mut Outbox<Timer>) {
        let Some(p) = self.persisted.as_mut() else {
            out.note_with(|| format!("master holds no log replica; ignores {} from {from}", msg.kind()));
            return;
        };
        let outcomes = p.registrar.on_message(&from, &msg, out);
        self.registry_outcomes(outcomes, out);
    }

    pub(super) fn registry_timer(&mut self, t: crate::registry::Timer, out: &mut Outbox<Timer>) {
        let Some(p) = self.persisted.as_mut() else { return };
        let outcomes = p.registrar.on_timer(t, out);
        self.registry_outcomes(outcomes, out);
    }

    /// An agent (actor `from`) whose admission is being stored retried: drop it
    /// (`slaves.registering`).
    pub(super) fn registering(&self, from: &ActorId, out: &mut Outbox<Timer>) -> bool {
        let Some(p) = self.persisted.as_ref() else { return false };
        let busy = p.admitting.values().any(|(a, _)| a == from);
        if busy {
            out.note_with(|| format!("ignoring RegisterSlave from {from}: its admission is being stored"));
        }
        busy
    }

    /// `Master::registerSlave` with a registry: store AdmitSlave first; the
    /// agent hears SlaveRegisteredMessage once it is stored. False without a
    /// registry (the caller admits at once).
    pub(super) fn admitting(&mut self, from: &ActorId, info: &v1::AgentInfo, out: &mut Outbox<Timer>) -> bool {
        let Some(p) = self.persisted.as_mut() else { return false };
        p.admitting.insert(aid_of(info), (from.clone(), info.clone()));
        let outcomes = p.registrar.apply(Operation::AdmitSlave(info.clone()), out);
        self.registry_outcomes(outcomes, out);
        true
    }

    /// `Master::reregisterSlave` of an agent this master does not have: one
    /// recovered from the registry is admitted at once (it is in the
    /// registry); an unreachable or unknown one after MarkSlaveReachable is
    /// stored. False when the caller should readmit now.
    pub(super) fn readmitting(
        &mut self,
        from: &ActorId,
        aid: &str,
        m: &internal::ReregisterSlaveMessage,
        out: &mut Outbox<Timer>,
    ) -> bool {
        if self.recovered.contains(aid) {
            return false;
        }
        let Some(p) = self.persisted.as_mut() else { return false };
        if p.readmitting.contains_key(aid) {
            return true;
        }
        p.readmitting.insert(aid.to_string(), (from.clone(), m.clone()));
        let mut info = m.slave.clone();
        info.id = Some(v1::AgentId { value: aid.to_string() });
        let outcomes = p.registrar.apply(Operation::MarkSlaveReachable(info), out);
        self.registry_outcomes(outcomes, out);
        true
    }

    /// Persist a removal the books already made (see the module docs).
    pub(super) fn persist_removal(&mut self, info: &v1::AgentInfo, unreachable: bool, out: &mut Outbox<Timer>) {
        let now = out.now();
        let Some(p) = self.persisted.as_mut() else { return };
        let op = if unreachable {
            Operation::MarkSlaveUnreachable(info.clone(), time_info(now))
        } else {
            Operation::RemoveSlave(info.clone())
        };
        let outcomes = p.registrar.apply(op, out);
        self.registry_outcomes(outcomes, out);
    }

    fn registry_outcomes(&mut self, outcomes: Vec<Outcome>, out: &mut Outbox<Timer>) {
        for o in outcomes {
            match o {
                Outcome::Recovered(r) => self.registry_recovered(&r, out),
                Outcome::Applied(ops) => {
                    for (op, ok) in ops {
                        self.registry_applied(op, ok, out);
                    }
                }
                Outcome::Failed(message) => self.abort(&message, out),
            }
        }
    }

    /// Upstream's `EXIT(EXIT_FAILURE)`: the master process ends.
    pub(super) fn abort(&mut self, message: &str, out: &mut Outbox<Timer>) {
        if let Some(p) = self.persisted.as_mut() {
            if p.aborted {
                return;
            }
            p.aborted = true;
        }
        out.note_with(|| format!("master aborts: {message}"));
        self.record(out.now(), MasterEvent::Aborted { reason: message.to_string() });
        out.exit(1);
    }

    /// `Master::_recover`: admitted agents become `recovered`, unreachable
    /// ones unreachable; agent_reregister_timeout starts.
    fn registry_recovered(&mut self, r: &internal::Registry, out: &mut Outbox<Timer>) {
        let Some(p) = self.persisted.as_mut() else { return };
        for s in r.slaves.iter().flat_map(|s| &s.slaves) {
            let aid = aid_of(&s.info);
            p.recovered_infos.insert(aid.clone(), s.info.clone());
            self.recovered.insert(aid);
        }
        for u in r.unreachable.iter().flat_map(|u| &u.slaves) {
            self.unreachable.insert(u.id.value.clone());
            self.removed.insert(u.id.value.clone());
        }
        let (admitted, unreachable) = (p.recovered_infos.len(), self.unreachable.len());
        out.set_timer(self.cfg.agent_reregister_timeout, Timer::RecoveredTimeout);
        out.note_with(|| {
            format!(
                "recovered the registry: {admitted} admitted agent(s), each with {:?} to re-register; {unreachable} \
                 unreachable",
                self.cfg.agent_reregister_timeout
            )
        });
    }

    fn registry_applied(&mut self, op: Operation, ok: bool, out: &mut Outbox<Timer>) {
        let Some(p) = self.persisted.as_mut() else { return };
        match op {
            Operation::AdmitSlave(info) => {
                let aid = aid_of(&info);
                let Some((from, info)) = p.admitting.remove(&aid) else { return };
                if ok {
                    self.admitted(from, aid, info, out);
                } else {
                    // Upstream CHECKs this cannot happen (ids are fresh).
                    self.abort(&format!("Failed to admit agent {aid}: already admitted"), out);
                }
            }
            Operation::MarkSlaveReachable(info) => {
                let aid = aid_of(&info);
                if let Some((from, m)) = p.readmitting.remove(&aid) {
                    self.readmit(from, &aid, m, out);
                }
            }
            Operation::MarkSlaveUnreachable(info, _) => {
                let aid = aid_of(&info);
                if p.marking.remove(&aid) {
                    self.recovered_unreachable(&aid, &info.hostname, out);
                }
            }
            Operation::Recover(_) | Operation::MarkSlaveGone(..) | Operation::RemoveSlave(_) => {}
        }
    }

    /// `Master::recoveredSlavesTimeout` with a registry: the removal limit,
    /// then the silent agents, paced by the rate limit.
    pub(super) fn recovered_slaves_timeout(&mut self, out: &mut Outbox<Timer>) {
        let Some(p) = self.persisted.as_mut() else { return };
        let total = p.recovered_infos.len();
        let silent = self.recovered.len();
        if total == 0 || silent == 0 {
            return;
        }
        let share = silent as f64 / total as f64;
        let limit = self.cfg.recovery_agent_removal_limit;
        if share > limit {
            let ids: Vec<&str> = self.recovered.iter().map(|a| short_id(a)).collect();
            let message = format!(
                "Post-recovery agent removal limit exceeded! After {} there were {silent} ({}%) agents recovered \
                 from the registry that did not reregister: {ids:?}; the configured removal limit is {}%",
                stringify(self.cfg.agent_reregister_timeout),
                share * 100.0,
                limit * 100.0
            );
            self.abort(&message, out);
            return;
        }
        p.to_remove = self.recovered.iter().cloned().collect();
        match self.cfg.agent_removal_rate_limit {
            None => {
                while !self.persisted.as_ref().is_some_and(|p| p.to_remove.is_empty()) {
                    self.next_recovery_removal(out);
                }
            }
            Some(_) => self.next_recovery_removal(out),
        }
    }

    /// One removal slot: the next silent agent, if it is still silent (a slot
    /// is spent even on one that came back meanwhile, as upstream acquires a
    /// permit per agent up front).
    pub(super) fn next_recovery_removal(&mut self, out: &mut Outbox<Timer>) {
        let now = out.now();
        let Some(p) = self.persisted.as_mut() else { return };
        let Some(aid) = p.to_remove.pop_front() else { return };
        if let Some(rate) = self.cfg.agent_removal_rate_limit
            && !p.to_remove.is_empty()
        {
            out.set_timer(rate.interval(), Timer::RecoveryRemoval);
        }
        if !self.recovered.contains(&aid) {
            out.note_with(|| format!("agent {} re-registered in the interim; not marked unreachable", short_id(&aid)));
            return;
        }
        let Some(info) = p.recovered_infos.get(&aid).cloned() else { return };
        p.marking.insert(aid);
        let outcomes = p.registrar.apply(Operation::MarkSlaveUnreachable(info, time_info(now)), out);
        self.registry_outcomes(outcomes, out);
    }

    /// `_markUnreachable(duringMasterFailover)`: unreachable, and every
    /// connected framework gets FAILURE{agent_id} (`sendSlaveLost`).
    fn recovered_unreachable(&mut self, aid: &str, hostname: &str, out: &mut Outbox<Timer>) {
        if !self.recovered.remove(aid) {
            return;
        }
        self.unreachable.insert(aid.to_string());
        self.removed.insert(aid.to_string());
        let reason =
            format!("did not reregister within {} after master failover", stringify(self.cfg.agent_reregister_timeout));
        for fw in self.frameworks.values().filter(|f| f.active) {
            let mut e = event(EventType::Failure);
            e.failure = Some(scheduler::event::Failure {
                agent_id: Some(v1::AgentId { value: aid.to_string() }),
                executor_id: None,
                status: None,
            });
            if let Some(actor) = &fw.actor {
                out.send(actor, e);
            }
        }
        out.note_with(|| format!("agent {hostname} marked unreachable: {reason}"));
        self.record(
            out.now(),
            MasterEvent::AgentUnreachable { agent_id: aid.to_string(), hostname: hostname.to_string(), reason },
        );
    }
}
