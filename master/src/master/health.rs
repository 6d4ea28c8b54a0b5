//! Agents leaving: a broken connection, pings and their timeouts, removal
//! (unreachable or gone), and exited executors (`Master::disconnect`,
//! `SlaveObserver`, `markUnreachable`, `removeSlave` in `src/master/master.cpp`).

use super::{Master, OfferNo, Removal, Timer, event, master_status, update_event};
use crate::history::MasterEvent;
use mesocosm_proto::scheduler::event::Type as EventType;
use mesocosm_proto::v1::TaskState;
use mesocosm_proto::v1::task_status::Reason;
use mesocosm_proto::{Resources, internal, scheduler, v1};
use mesocosm_sim::{ActorId, Outbox};

impl Master {
    /// `Master::exited` for an agent → `disconnect(Slave*)`: tasks of
    /// frameworks that do not checkpoint are lost at once, the agent is
    /// deactivated and its offers rescinded, and it has
    /// `agent_reregister_timeout` to come back before it is marked unreachable.
    /// The observer keeps pinging (with `connected=false`).
    pub(super) fn agent_disconnected(&mut self, aid: &str, out: &mut Outbox<Timer>) {
        let now = out.now();
        let Some(agent) = self.agents.get_mut(aid) else { return };
        if !agent.connected {
            // Mesos ignores duplicate exited events for a disconnected agent (MESOS-675).
            return;
        }
        agent.connected = false;
        let epoch = agent.epoch;
        let hostname = agent.info.hostname.clone();
        let tasks: Vec<(String, String)> = agent.tasks.iter().cloned().collect();
        let executors: Vec<(String, String)> = agent.executors.keys().cloned().collect();
        let offers: Vec<OfferNo> = agent.offers.iter().copied().collect();
        self.record(now, MasterEvent::AgentDisconnected { agent_id: aid.to_string(), hostname: hostname.clone() });
        // `removeFramework(Slave*, Framework*)` for every framework whose
        // FrameworkInfo.checkpoint is false (Spark leaves it unset, and
        // spark.mesos.checkpoint defaults to false): its tasks there are
        // TASK_LOST, REASON_AGENT_DISCONNECTED, and its executors removed.
        let checkpoints = |m: &Master, fid: &str| m.frameworks.get(fid).is_some_and(|f| f.info.checkpoint());
        let mut lost = 0;
        for (fid, tid) in tasks {
            if checkpoints(self, &fid) {
                continue;
            }
            let Some(task) = self.frameworks.get(&fid).and_then(|f| f.tasks.get(&tid)) else { continue };
            let mut status = master_status(
                now,
                &task.info.task_id,
                Some(aid),
                TaskState::TaskLost,
                Reason::AgentDisconnected,
                format!("Agent {hostname} disconnected"),
            );
            status.executor_id = task.info.executor.as_ref().map(|e| e.executor_id.clone());
            let terminal = task.state.is_terminal();
            self.forget_task(&fid, &tid, now);
            if !terminal {
                lost += 1;
                self.send_to_framework(&fid, update_event(status), out);
                if let Some(a) = self.agents.get_mut(aid) {
                    a.lost_at_disconnect.insert((fid, tid));
                }
            }
        }
        for (fid, eid) in executors {
            if !checkpoints(self, &fid) {
                self.forget_executor(aid, &fid, &eid, now);
            }
        }
        // `deactivate(Slave*)`: no more offers of it, and the outstanding ones rescinded.
        self.alloc.deactivate_agent(aid);
        for oid in offers {
            self.rescind(oid, out);
        }
        out.set_timer(self.cfg.agent_reregister_timeout, Timer::ReregisterTimeout { agent: aid.to_string(), epoch });
        out.note_with(|| {
            format!(
                "agent {hostname} disconnected: deactivated, {lost} task(s) of non-checkpointing frameworks lost; \
                 unreachable unless it re-registers within {:?}",
                self.cfg.agent_reregister_timeout
            )
        });
    }

    pub(super) fn new_epoch(&mut self) -> u64 {
        self.next_epoch += 1;
        self.next_epoch - 1
    }

    pub(super) fn ping(&mut self, aid: &str, out: &mut Outbox<Timer>) {
        let Some(a) = self.agents.get_mut(aid) else { return };
        a.pinged = true;
        // Why `connected`: SlaveObserver::ping sends the master's view, and an
        // agent told `connected=false` re-registers at once (one-way partitions).
        out.send(&a.actor, internal::PingSlaveMessage { connected: a.connected });
        out.set_timer(self.cfg.agent_ping_timeout, Timer::PingTimeout { agent: aid.to_string(), epoch: a.epoch });
    }

    pub(super) fn ping_timeout(&mut self, aid: &str, epoch: u64, out: &mut Outbox<Timer>) {
        let max = self.cfg.max_agent_ping_timeouts;
        let Some(a) = self.agents.get_mut(aid) else { return };
        if a.epoch != epoch {
            return;
        }
        // SlaveObserver::timeout: a ping still unanswered is a miss.
        if a.pinged {
            a.misses += 1;
            let (host, misses) = (a.info.hostname.clone(), a.misses);
            out.note_with(|| format!("agent {host} missed pong {misses}/{max}"));
            if misses >= max {
                self.remove_agent(aid, Removal::Unreachable, out);
                return;
            }
        }
        self.ping(aid, out);
    }

    /// `markUnreachable` / `removeSlave` → `__removeSlave`: the agent leaves
    /// the allocator; its tasks are TASK_UNREACHABLE (PARTITION_AWARE frameworks,
    /// which keep them, if it is only unreachable), TASK_GONE (PARTITION_AWARE,
    /// removed for good) or TASK_LOST (the others), reason REASON_AGENT_REMOVED,
    /// source MASTER, best-effort (the master never retries its own updates);
    /// its offers are rescinded; every connected framework gets FAILURE{agent_id}
    /// (`LostSlaveMessage`, "agent lost").
    pub(super) fn remove_agent(&mut self, aid: &str, removal: Removal, out: &mut Outbox<Timer>) {
        let now = out.now();
        let Some(mut agent) = self.agents.remove(aid) else { return };
        if self.agent_by_actor.get(&agent.actor).map(String::as_str) == Some(aid) {
            self.agent_by_actor.remove(&agent.actor);
        }
        let host = agent.info.hostname.clone();
        self.persist_removal(&agent.info, removal.unreachable(), out);
        let why = match removal {
            Removal::Unreachable => "health check timed out".to_string(),
            Removal::ReregisterTimeout => format!(
                "agent_reregister_timeout expired (did not re-register within {:?})",
                self.cfg.agent_reregister_timeout
            ),
            Removal::Unregistered => "agent unregistered".to_string(),
            Removal::Replaced => "a new agent registered at the same address".to_string(),
        };
        self.removed.insert(aid.to_string());
        if removal.unreachable() {
            self.unreachable.insert(aid.to_string());
        }
        self.alloc.remove_agent(aid);
        for (fid, tid) in &agent.tasks {
            let Some(fw) = self.frameworks.get_mut(fid) else { continue };
            let Some(task) = fw.tasks.get_mut(tid) else { continue };
            if task.state.is_terminal() {
                // Already over; its ack can no longer reach the agent.
                fw.tasks.remove(tid);
                continue;
            }
            let state = match (removal.unreachable(), fw.partition_aware) {
                (_, false) => TaskState::TaskLost,
                (true, true) => TaskState::TaskUnreachable,
                (false, true) => TaskState::TaskGone,
            };
            let mut status = master_status(
                now,
                &task.info.task_id,
                Some(aid),
                state,
                Reason::AgentRemoved,
                format!("Agent {host} removed: {why}"),
            );
            status.executor_id = task.info.executor.as_ref().map(|e| e.executor_id.clone());
            if state == TaskState::TaskUnreachable {
                status.unreachable_time = Some(v1::TimeInfo {
                    nanoseconds: i64::try_from(now.micros()).unwrap_or(i64::MAX).saturating_mul(1000),
                });
                // A partition-aware framework's task stays known (it may come back).
                task.state = state;
                task.resources = Resources::new();
                task.latest = Some(status.clone());
            } else {
                fw.tasks.remove(tid);
            }
            self.send_to_framework(fid, update_event(status), out);
        }
        // Offers on the agent are rescinded (the allocator already forgot the agent).
        for oid in std::mem::take(&mut agent.offers) {
            self.rescind(oid, out);
        }
        // LostSlaveMessage → FAILURE{agent_id} to every connected framework.
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
        let event = if removal.unreachable() {
            MasterEvent::AgentUnreachable { agent_id: aid.to_string(), hostname: host.clone(), reason: why.clone() }
        } else {
            MasterEvent::AgentRemoved { agent_id: aid.to_string(), hostname: host.clone(), reason: why.clone() }
        };
        self.record(now, event);
        out.note(match removal {
            Removal::Unreachable => format!(
                "agent {host} unreachable after {} missed pongs ({:?}); removed from the allocator, its tasks lost",
                self.cfg.max_agent_ping_timeouts,
                self.cfg.agent_ping_timeout.saturating_mul(self.cfg.max_agent_ping_timeouts)
            ),
            _ => format!("agent {host} removed: {why}"),
        });
    }

    pub(super) fn exited_executor(
        &mut self,
        from: ActorId,
        m: internal::ExitedExecutorMessage,
        out: &mut Outbox<Timer>,
    ) {
        let Some(aid) = self.agent_by_actor.get(&from).cloned() else { return };
        let fid = m.framework_id.value.clone();
        let eid = m.executor_id.value.clone();
        let held = self.agents.get_mut(&aid).and_then(|a| {
            let r = a.executors.remove(&(fid.clone(), eid.clone()))?;
            a.used.subtract(&r);
            Some(r)
        });
        match held {
            Some(r) => {
                self.alloc.recover(out.now(), &fid, &aid, &r, None);
                // `Master::exitedExecutor` forwards the exit: FAILURE{agent, executor, status}.
                let mut e = event(EventType::Failure);
                e.failure = Some(scheduler::event::Failure {
                    agent_id: Some(m.slave_id.clone()),
                    executor_id: Some(m.executor_id.clone()),
                    status: Some(m.status),
                });
                self.send_to_framework(&fid, e, out);
            }
            None => {
                // Why no FAILURE: this is a command executor, which the agent
                // generates for a command task and the master never tracks; Mesos's
                // agent does not even report its exit (slave.cpp `executorTerminated`).
                out.note_with(|| {
                    format!(
                        "executor {eid} of {} exited with status {} on {}; a command executor, so no FAILURE event",
                        self.fw_name(&fid),
                        m.status,
                        self.host(&aid)
                    )
                });
            }
        }
    }
}
