//! Agents joining: registration, re-registration of a known agent, readmission
//! of an unreachable or removed one, and recovering the frameworks and tasks a
//! re-registering agent reports (`Master::registerSlave`/`reregisterSlave` in
//! `src/master/master.cpp`).

use super::{
    Agent, Framework, Master, Removal, Task, Timer, allocation_role, has_capability, is_partition_aware, master_status,
    update_event,
};
use crate::history::{AgentPrior, MasterEvent};
use mesocosm_proto::v1::TaskState;
use mesocosm_proto::v1::framework_info::capability::Type as Capability;
use mesocosm_proto::v1::task_status::Reason;
use mesocosm_proto::{Resources, internal, v1};
use mesocosm_sim::msg::short_id;
use mesocosm_sim::{ActorId, Outbox, SimTime};
use std::collections::{BTreeMap, BTreeSet};

impl Master {
    pub(super) fn slave_registered(&self, aid: &str) -> internal::SlaveRegisteredMessage {
        internal::SlaveRegisteredMessage {
            slave_id: v1::AgentId { value: aid.to_string() },
            connection: Some(self.connection()),
        }
    }

    pub(super) fn connection(&self) -> internal::MasterSlaveConnection {
        let total = self.cfg.agent_ping_timeout.saturating_mul(self.cfg.max_agent_ping_timeouts);
        internal::MasterSlaveConnection { total_ping_timeout_seconds: Some(total.as_secs_f64()) }
    }

    pub(super) fn register_slave(&mut self, from: ActorId, m: internal::RegisterSlaveMessage, out: &mut Outbox<Timer>) {
        if let Some(aid) = self.agent_by_actor.get(&from).cloned() {
            if self.agents.get(&aid).is_some_and(|a| a.connected) {
                // Why re-send: the agent retries RegisterSlave until it hears back
                // (`doReliableRegistration`); Mesos answers a retry from an admitted
                // agent with the same SlaveRegisteredMessage.
                out.send(&from, self.slave_registered(&aid));
                return;
            }
            // Why remove: a disconnected agent registering afresh from the same
            // address failed its recovery; `Master::registerSlave` removes the
            // old one ("a new agent registered at the same address") and admits
            // the new one.
            self.remove_agent(&aid, Removal::Replaced, out);
        }
        if self.registering(&from, out) {
            return;
        }
        let aid = format!("{}-S{}", self.cfg.id, self.next_agent);
        self.next_agent += 1;
        let mut info = m.slave;
        info.id = Some(v1::AgentId { value: aid.clone() });
        // With a registry, the agent is answered once AdmitSlave is stored.
        if self.admitting(&from, &info, out) {
            return;
        }
        self.admitted(from, aid, info, out);
    }

    /// `Master::_registerSlave`: the agent is admitted; reply, observe, offer.
    pub(super) fn admitted(&mut self, from: ActorId, aid: String, info: v1::AgentInfo, out: &mut Outbox<Timer>) {
        let total = Resources::from_protos(&info.resources);
        out.send(&from, self.slave_registered(&aid));
        out.note_with(|| format!("agent {} registered as {} with [{total}]", info.hostname, short_id(&aid)));
        let hostname = info.hostname.clone();
        self.alloc.add_agent(&aid, total.clone());
        let epoch = self.new_epoch();
        self.agents.insert(aid.clone(), Agent::new(from.clone(), info, total, epoch));
        self.agent_by_actor.insert(from, aid.clone());
        self.record(out.now(), MasterEvent::AgentRegistered { agent_id: aid.clone(), hostname });
        // SlaveObserver::initialize pings at once, then every agent_ping_timeout.
        self.ping(&aid, out);
        // `addSlave` triggers an allocation of that agent only.
        self.trigger(Some(&aid), out);
    }

    pub(super) fn slave_reregistered(
        &self,
        aid: &str,
        reconciliations: Vec<internal::ReconcileTasksMessage>,
    ) -> internal::SlaveReregisteredMessage {
        internal::SlaveReregisteredMessage {
            slave_id: v1::AgentId { value: aid.to_string() },
            reconciliations,
            connection: Some(self.connection()),
        }
    }

    /// `Master::reregisterSlave`: a known agent reconnects
    /// ([`Master::reregister_known`]); any other is (re-)admitted with what it
    /// reports ([`Master::readmit`]).
    pub(super) fn reregister_slave(
        &mut self,
        from: ActorId,
        m: internal::ReregisterSlaveMessage,
        out: &mut Outbox<Timer>,
    ) {
        let Some(aid) = m.slave.id.as_ref().map(|i| i.value.clone()).filter(|v| !v.is_empty()) else {
            out.note_with(|| format!("master ignores ReregisterSlave from {from} without an agent id"));
            return;
        };
        match self.agents.get(&aid) {
            Some(a) if a.info.hostname != m.slave.hostname => {
                // Why refuse: maintenance is per machine, so Mesos does not let a
                // known agent come back as another host (`reregisterSlave`).
                let message = "Agent attempted to re-register with different IP / hostname".to_string();
                out.send(&from, internal::ShutdownMessage { message: Some(message) });
            }
            Some(_) => self.reregister_known(from, &aid, m, out),
            None => {
                if !self.readmitting(&from, &aid, &m, out) {
                    self.readmit(from, &aid, m, out);
                }
            }
        }
    }

    /// A registered agent re-registers: reply, reconcile its tasks and
    /// executors with the master's (`Master::reconcile(Slave*, …)`), reactivate
    /// it if it was disconnected, and restart its observer.
    pub(super) fn reregister_known(
        &mut self,
        from: ActorId,
        aid: &str,
        m: internal::ReregisterSlaveMessage,
        out: &mut Outbox<Timer>,
    ) {
        let now = out.now();
        let agent = self.agents.get_mut(aid).expect("checked by the caller");
        let was = if agent.connected { AgentPrior::Connected } else { AgentPrior::Disconnected };
        let old_actor = std::mem::replace(&mut agent.actor, from.clone());
        let lost_at_disconnect = std::mem::take(&mut agent.lost_at_disconnect);
        let known_tasks = agent.tasks.clone();
        let known_executors: Vec<(String, String)> = agent.executors.keys().cloned().collect();
        let hostname = agent.info.hostname.clone();
        if old_actor != from && self.agent_by_actor.get(&old_actor).map(String::as_str) == Some(aid) {
            self.agent_by_actor.remove(&old_actor);
        }
        self.agent_by_actor.insert(from.clone(), aid.to_string());
        let reported: BTreeSet<(String, String)> =
            m.tasks.iter().map(|t| (t.framework_id.value.clone(), t.task_id.value.clone())).collect();
        // Tasks the master has and the agent did not list: a RunTask the agent
        // never got, or one that crossed this message (it was sent before the
        // RunTask arrived: a slow or stale ReregisterSlaveMessage). Only the
        // agent can tell which, so the master asks it
        // (`Master::reconcileKnownSlave`): SlaveReregisteredMessage carries them
        // as `reconciliations`, and the agent answers TASK_LOST (TASK_DROPPED if
        // PARTITION_AWARE), REASON_RECONCILIATION, for each it does not know.
        // The master keeps the task until that update arrives.
        let mut reconciliations: BTreeMap<&str, internal::ReconcileTasksMessage> = BTreeMap::new();
        let mut forgotten = Vec::new();
        for (fid, tid) in known_tasks.difference(&reported) {
            let Some(fw) = self.frameworks.get(fid) else { continue };
            let Some(task) = fw.tasks.get(tid) else { continue };
            if task.state.is_terminal() {
                // The framework already has a terminal state and the agent has
                // forgotten the task, so its acknowledgement can go nowhere.
                forgotten.push((fid.clone(), tid.clone()));
                continue;
            }
            let reconcile = reconciliations.entry(fid).or_insert_with(|| internal::ReconcileTasksMessage {
                framework_id: v1::FrameworkId { value: fid.clone() },
                statuses: Vec::new(),
                framework: Some(fw.info.clone()),
            });
            // Why the master's view of the state: the agent ignores it, but
            // Mesos sends it "since it might be useful in the future".
            reconcile.statuses.push(v1::TaskStatus {
                task_id: task.info.task_id.clone(),
                agent_id: Some(v1::AgentId { value: aid.to_string() }),
                state: task.state as i32,
                source: Some(v1::task_status::Source::Master as i32),
                message: Some("Reconciliation request".to_string()),
                reason: Some(Reason::Reconciliation as i32),
                timestamp: Some(now.as_secs_f64()),
                ..Default::default()
            });
        }
        let reconciliations: Vec<internal::ReconcileTasksMessage> = reconciliations.into_values().collect();
        for (fid, tid) in forgotten {
            self.forget_task(&fid, &tid, now);
        }
        // `reconcileKnownSlave` sends SlaveReregisteredMessage before anything else.
        out.send(&from, self.slave_reregistered(aid, reconciliations));

        // Executors the master has and the agent does not are removed
        // (`reconcile`: "possibly unknown to the agent").
        let reported_executors: BTreeSet<(String, String)> = m
            .executor_infos
            .iter()
            .filter_map(|e| Some((e.framework_id.as_ref()?.value.clone(), e.executor_id.value.clone())))
            .collect();
        for (fid, eid) in known_executors {
            if !reported_executors.contains(&(fid.clone(), eid.clone())) {
                self.forget_executor(aid, &fid, &eid, now);
            }
        }
        // Tasks the agent has and the master does not.
        let mut shut_down = BTreeSet::new();
        for t in &m.tasks {
            let key = (t.framework_id.value.clone(), t.task_id.value.clone());
            if known_tasks.contains(&key) {
                continue;
            }
            let fid = &key.0;
            if self.completed.contains(fid) {
                // `reconcile`: an agent that re-registers with a completed
                // framework is told to shut it down (the message was lost).
                if shut_down.insert(fid.clone()) {
                    let m = internal::ShutdownFrameworkMessage { framework_id: t.framework_id.clone() };
                    out.send(&from, m);
                }
            } else if lost_at_disconnect.contains(&key) {
                // Why kill: this master told the framework the task was LOST when
                // the agent disconnected; like the tasks in `killedTasks` that
                // `reconcile` finds still alive, it is killed now.
                if !TaskState::try_from(t.state).is_ok_and(TaskState::is_terminal) {
                    let m = internal::KillTaskMessage {
                        framework_id: t.framework_id.clone(),
                        task_id: t.task_id.clone(),
                        kill_policy: None,
                    };
                    out.send(&from, m);
                }
            } else {
                // Why not adopt it: Mesos assumes a known agent has no task its
                // master does not ("slave removes task -> master removes task",
                // `reconcileKnownSlave`) and adds none here. A stale message can
                // still list a task that has ended and been forgotten since;
                // adopting it would hold its resources forever.
                out.note_with(|| {
                    format!(
                        "agent {} lists task {} of framework {} that this master does not know; not added",
                        short_id(aid),
                        t.task_id.value,
                        short_id(fid)
                    )
                });
            }
        }
        let agent = self.agents.get_mut(aid).expect("still registered");
        if !agent.connected {
            // Reactivated after reconciliation, so the allocator's next offer
            // of the agent includes what reconciliation freed (`reregisterSlave`).
            agent.connected = true;
            self.alloc.activate_agent(aid);
        }
        // A new observer: fresh miss count, and the disconnected agent's
        // pending agent_reregister_timeout goes stale with the old epoch.
        agent.epoch = self.next_epoch;
        self.next_epoch += 1;
        agent.misses = 0;
        self.record(now, MasterEvent::AgentReregistered { agent_id: aid.to_string(), hostname: hostname.clone(), was });
        out.note_with(|| format!("agent {hostname} re-registered (it was {was})"));
        self.ping(aid, out);
    }

    /// An agent this master does not have re-registers: one it marked
    /// unreachable or removed (a healed partition), or one it never knew (this
    /// master is a failed-over one). `Master::__reregisterSlave` admits it with
    /// every task and executor it reports, except those of frameworks this
    /// master has completed, which are shut down on it.
    ///
    /// Why nothing else is shut down: since Mesos 1.5 (MESOS-7215, "Do not
    /// kill non-partition-aware tasks upon agent reregistration") the tasks of
    /// non-PARTITION_AWARE frameworks keep running, and the master sends each
    /// connected framework the task's latest state again, source MASTER,
    /// REASON_AGENT_REREGISTERED ("Unreachable agent re-reregistered", or
    /// "Unknown agent reregistered"): e.g. TASK_RUNNING after the TASK_LOST it
    /// got when the agent became unreachable. Mesos skips those updates only for
    /// an agent it recovered from its registry; mesocosm models no registry (as
    /// `--registry=in_memory`, which a failed-over master starts empty), so a
    /// failed-over master sends them too, to frameworks that have re-subscribed.
    pub(super) fn readmit(
        &mut self,
        from: ActorId,
        aid: &str,
        m: internal::ReregisterSlaveMessage,
        out: &mut Outbox<Timer>,
    ) {
        let now = out.now();
        if let Some(other) = self.agent_by_actor.get(&from).cloned() {
            // The same address now speaks for another agent id: the old one is
            // gone ("a new agent registered at the same address").
            self.remove_agent(&other, Removal::Replaced, out);
        }
        // A recovered agent is back: reconciliations about it are answered again.
        let was_recovered = self.recovered.remove(aid);
        let was_removed = self.removed.remove(aid);
        let was = if self.unreachable.remove(aid) {
            AgentPrior::Unreachable
        } else if was_removed {
            AgentPrior::Removed
        } else if was_recovered && self.persisted.is_some() {
            // Gated on the registry: only a master that recovered one knows
            // the agent as admitted (a single master's in-place restart
            // keeps its older model, which re-admits it as unknown).
            AgentPrior::Recovered
        } else {
            AgentPrior::Unknown
        };
        let mut info = m.slave.clone();
        info.id = Some(v1::AgentId { value: aid.to_string() });
        let total = Resources::from_protos(&info.resources);
        let hostname = info.hostname.clone();
        self.alloc.add_agent(aid, total.clone());
        let epoch = self.new_epoch();
        self.agents.insert(aid.to_string(), Agent::new(from.clone(), info, total, epoch));
        self.agent_by_actor.insert(from.clone(), aid.to_string());

        // Every task but those of completed frameworks is recovered, and its
        // latest state forwarded (dropped for a framework that is unknown or
        // not connected: `send_to_framework`).
        let completed_now = self.completed.clone();
        let completed = |fid: &str| completed_now.iter().any(|c| c == fid);
        let tasks: Vec<v1::Task> = m.tasks.iter().filter(|t| !completed(&t.framework_id.value)).cloned().collect();
        self.recover_frameworks(&m.frameworks, &tasks, now);
        let message = if was == AgentPrior::Unreachable {
            "Unreachable agent re-reregistered"
        } else {
            "Unknown agent reregistered"
        };
        for t in &tasks {
            self.adopt_task(aid, t);
            // Why no update for a recovered agent's tasks: `__reregisterSlave`
            // sends "… agent reregistered" updates only for an agent that was
            // not in the registry; after a failover the frameworks re-subscribe
            // and learn their tasks' states by reconciliation.
            if was == AgentPrior::Recovered {
                continue;
            }
            let state = TaskState::try_from(t.state).unwrap_or(TaskState::TaskStaging);
            let mut status =
                master_status(now, &t.task_id, Some(aid), state, Reason::AgentReregistered, message.into());
            status.executor_id.clone_from(&t.executor_id);
            self.send_to_framework(&t.framework_id.value, update_event(status), out);
        }
        out.send(&from, self.slave_reregistered(aid, Vec::new()));

        // Frameworks the master completed (removed while the agent was away)
        // are shut down there: the agent missed the ShutdownFrameworkMessage.
        let framework_ids: BTreeSet<&str> = m
            .frameworks
            .iter()
            .filter_map(|f| f.id.as_ref().map(|i| i.value.as_str()))
            .chain(m.tasks.iter().map(|t| t.framework_id.value.as_str()))
            .chain(m.executor_infos.iter().filter_map(|e| e.framework_id.as_ref().map(|f| f.value.as_str())))
            .collect();
        let shut_down: BTreeSet<String> =
            framework_ids.into_iter().filter(|fid| completed(fid)).map(str::to_string).collect();
        for fid in &shut_down {
            let m = internal::ShutdownFrameworkMessage { framework_id: v1::FrameworkId { value: fid.clone() } };
            out.send(&from, m);
        }
        for e in &m.executor_infos {
            let Some(fid) = e.framework_id.as_ref().map(|f| f.value.clone()) else { continue };
            if shut_down.contains(&fid) || !self.frameworks.contains_key(&fid) {
                continue;
            }
            let r = Resources::from_protos(&e.resources);
            let agent = self.agents.get_mut(aid).expect("just added");
            agent.used.add(&r);
            agent.executors.insert((fid.clone(), e.executor_id.value.clone()), r.clone());
            self.alloc.allocate_used(&fid, aid, &r);
        }
        self.record(now, MasterEvent::AgentReregistered { agent_id: aid.to_string(), hostname: hostname.clone(), was });
        out.note_with(|| {
            if was == AgentPrior::Recovered {
                // Upstream's words (`Master::_reregisterSlave`).
                return format!(
                    "Re-admitting recovered agent {aid} at {from}({hostname}) with {} task(s), recovered \
                     (no updates: its frameworks reconcile){}",
                    tasks.len(),
                    if shut_down.is_empty() {
                        String::new()
                    } else {
                        format!("; shutting down {} completed framework(s) on it", shut_down.len())
                    }
                );
            }
            format!(
                "agent {hostname} re-registered as {} (it was {was}) with {} task(s), recovered and their latest \
                 state sent to their frameworks{}",
                short_id(aid),
                tasks.len(),
                if shut_down.is_empty() {
                    String::new()
                } else {
                    format!("; shutting down {} completed framework(s) on it", shut_down.len())
                }
            )
        });
        self.ping(aid, out);
        // `addSlave` triggers an allocation of that agent only.
        self.trigger(Some(aid), out);
    }

    /// `frameworks.recovered`: frameworks of reported tasks that this master
    /// does not know are added inactive, from the FrameworkInfo the agent
    /// reports (or, if it reports none, known only by id), until they
    /// re-subscribe. Why no failover timer: Mesos arms none for them either
    /// (failover_timeout does not survive a master failover, MESOS-4659).
    pub(super) fn recover_frameworks(&mut self, reported: &[v1::FrameworkInfo], tasks: &[v1::Task], now: SimTime) {
        for t in tasks {
            let fid = &t.framework_id.value;
            if self.frameworks.contains_key(fid) || self.completed.contains(fid) {
                continue;
            }
            let info = reported
                .iter()
                .find(|f| f.id.as_ref().is_some_and(|i| i.value == *fid))
                .cloned()
                .unwrap_or_else(|| v1::FrameworkInfo { id: Some(t.framework_id.clone()), ..Default::default() });
            let partition_aware = is_partition_aware(&info);
            let name = info.name.clone();
            let role = allocation_role(&info);
            self.frameworks.insert(
                fid.clone(),
                Framework {
                    actor: None,
                    info,
                    active: false,
                    partition_aware,
                    epoch: 0,
                    tasks: BTreeMap::new(),
                    offers: BTreeSet::new(),
                },
            );
            self.alloc.add_framework(fid, &role, false);
            self.alloc.set_gpu_resources(fid, has_capability(&self.frameworks[fid].info, Capability::GpuResources));
            self.record(now, MasterEvent::FrameworkRecovered { framework_id: fid.clone(), name });
        }
    }

    /// Track a task a (re-)registering agent reports (`Slave::addTask`): a
    /// partition-aware task the master kept as TASK_UNREACHABLE comes back to
    /// life; any other becomes known. A live task's resources are charged to
    /// its framework. The framework must be known (see `recover_frameworks`).
    pub(super) fn adopt_task(&mut self, aid: &str, t: &v1::Task) {
        let fid = t.framework_id.value.clone();
        let tid = t.task_id.value.clone();
        let state = TaskState::try_from(t.state).unwrap_or(TaskState::TaskStaging);
        let resources = Resources::from_protos(&t.resources);
        let Some(fw) = self.frameworks.get_mut(&fid) else { return };
        let latest = t.statuses.last().cloned();
        let task = fw.tasks.entry(tid.clone()).or_insert_with(|| Task {
            info: v1::TaskInfo {
                name: t.name.clone(),
                task_id: t.task_id.clone(),
                agent_id: t.agent_id.clone(),
                resources: t.resources.clone(),
                ..Default::default()
            },
            agent: aid.to_string(),
            state,
            resources: Resources::new(),
            latest: None,
            update_state: None,
            update_uuid: None,
            launched_from: None,
        });
        task.agent = aid.to_string();
        task.state = state;
        task.latest = latest.or(task.latest.take());
        task.update_state = t.status_update_state.and_then(|s| TaskState::try_from(s).ok());
        task.update_uuid = t.status_update_uuid.clone();
        task.resources = if state.is_terminal() { Resources::new() } else { resources };
        let charged = task.resources.clone();
        let agent = self.agents.get_mut(aid).expect("the caller registered it");
        agent.tasks.insert((fid.clone(), tid));
        agent.used.add(&charged);
        self.alloc.allocate_used(&fid, aid, &charged);
    }
}
