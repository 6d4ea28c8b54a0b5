//! Tasks after launch: status updates from agents relayed to schedulers, and
//! the calls about tasks (KILL, RECONCILE, ACKNOWLEDGE).

use super::{Master, Task, Timer, master_status, state_name, update_event};
use mesocosm_proto::v1::TaskState;
use mesocosm_proto::v1::task_status::Reason;
use mesocosm_proto::{internal, scheduler, v1};
use mesocosm_sim::msg::short_id;
use mesocosm_sim::{ActorId, Outbox};

impl Master {
    pub(super) fn status_update(&mut self, from: ActorId, m: internal::StatusUpdateMessage, out: &mut Outbox<Timer>) {
        let Some(aid) = self.agent_by_actor.get(&from).cloned() else {
            out.note_with(|| format!("master ignores a status update from unregistered {from}"));
            return;
        };
        let now = out.now();
        let upd = m.update;
        let fid = upd.framework_id.value.clone();
        let mut status = upd.status.clone();
        if status.uuid.is_none() {
            status.uuid = upd.uuid.clone();
        }
        let reported = status.state();
        // The agent forwards the head of the task's stream, and `latest_state`
        // tells the master where the task really is (`Master::updateTask`).
        let latest = upd.latest_state.and_then(|s| TaskState::try_from(s).ok()).unwrap_or(reported);
        let Some(fw) = self.frameworks.get_mut(&fid) else {
            out.note_with(|| format!("master drops an update for unknown framework {}", short_id(&fid)));
            return;
        };
        let tid = status.task_id.value.clone();
        let mut freed = None;
        if let Some(task) = fw.tasks.get_mut(&tid) {
            let was_terminal = task.state.is_terminal();
            task.state = latest;
            task.latest = Some(status.clone());
            task.update_state = Some(reported);
            task.update_uuid = status.uuid.clone();
            if !was_terminal && latest.is_terminal() {
                freed = Some(std::mem::take(&mut task.resources));
            }
            if reported.is_terminal() && status.uuid.is_none() {
                // Nothing will acknowledge it, so the task is done with.
                fw.tasks.remove(&tid);
                if let Some(a) = self.agents.get_mut(&aid) {
                    a.tasks.remove(&(fid.clone(), tid.clone()));
                }
            }
        }
        if let Some(r) = freed {
            if let Some(a) = self.agents.get_mut(&aid) {
                a.used.subtract(&r);
            }
            // A finished task's resources come back without a filter and without
            // triggering a cycle (MESOS-3078): the next periodic cycle offers them.
            self.alloc.recover(now, &fid, &aid, &r, None);
            out.note_with(|| {
                format!(
                    "task {tid} of {} is {}; [{r}] on {} free again",
                    self.fw_name(&fid),
                    state_name(latest),
                    self.host(&aid)
                )
            });
        }
        self.send_to_framework(&fid, update_event(status), out);
    }

    pub(super) fn kill(&mut self, fid: &str, k: &scheduler::call::Kill, out: &mut Outbox<Timer>) {
        let fw = &self.frameworks[fid];
        match fw.tasks.get(&k.task_id.value) {
            Some(task) => match self.agents.get(&task.agent) {
                Some(a) => {
                    let m = internal::KillTaskMessage {
                        framework_id: v1::FrameworkId { value: fid.to_string() },
                        task_id: k.task_id.clone(),
                        kill_policy: k.kill_policy,
                    };
                    out.send(&a.actor, m);
                }
                None => out.note_with(|| format!("cannot kill task {}: its agent is not registered", k.task_id.value)),
            },
            None => {
                // `Master::kill` of an unknown task performs explicit reconciliation.
                let t = scheduler::call::reconcile::Task { task_id: k.task_id.clone(), agent_id: k.agent_id.clone() };
                self.reconcile(fid, &scheduler::call::Reconcile { tasks: vec![t] }, out);
            }
        }
    }

    /// `Master::reconcile`: implicit (no tasks) answers every task the master
    /// knows; explicit answers each named task, as `Master::reconcileTasks`
    /// (master.cpp) does, with TASK_LOST for frameworks that are not PARTITION_AWARE.
    pub(super) fn reconcile(&self, fid: &str, r: &scheduler::call::Reconcile, out: &mut Outbox<Timer>) {
        let now = out.now();
        let fw = &self.frameworks[fid];
        let known = |t: &Task| {
            let mut s = master_status(
                now,
                &t.info.task_id,
                Some(&t.agent),
                t.state,
                Reason::Reconciliation,
                "Reconciliation: Latest task state".to_string(),
            );
            if let Some(l) = &t.latest {
                s.executor_id = l.executor_id.clone();
                s.unreachable_time = l.unreachable_time;
            }
            s
        };
        let mut replies = Vec::new();
        if r.tasks.is_empty() {
            replies.extend(fw.tasks.values().map(known));
        } else {
            for q in &r.tasks {
                if let Some(t) = fw.tasks.get(&q.task_id.value) {
                    replies.push(known(t));
                    continue;
                }
                let agent = q.agent_id.as_ref().map(|a| a.value.as_str());
                if let Some(a) = agent.filter(|a| self.recovered.contains(*a)) {
                    // `Master::reconcileTasks` case 2: unknown task on an agent
                    // recovered from the registry that has not re-registered:
                    // no answer yet; the agent's re-registration (or its
                    // recovered-agent timeout) will tell.
                    out.note_with(|| {
                        format!(
                            "dropping the reconciliation of task {}: agent {} (recovered) has not re-registered",
                            q.task_id.value,
                            short_id(a)
                        )
                    });
                    continue;
                }
                let state = match agent {
                    Some(a) if self.agents.contains_key(a) => TaskState::TaskGone,
                    Some(a) if self.unreachable.contains(a) => TaskState::TaskUnreachable,
                    _ => TaskState::TaskUnknown,
                };
                let state = if fw.partition_aware { state } else { TaskState::TaskLost };
                replies.push(master_status(
                    now,
                    &q.task_id,
                    agent,
                    state,
                    Reason::Reconciliation,
                    "Reconciliation: Task is unknown".to_string(),
                ));
            }
        }
        for s in replies {
            self.send_to_framework(fid, update_event(s), out);
        }
    }

    pub(super) fn acknowledge(&mut self, fid: &str, a: &scheduler::call::Acknowledge, out: &mut Outbox<Timer>) {
        let aid = a.agent_id.value.clone();
        let Some(actor) = self.agents.get(&aid).map(|x| x.actor.clone()) else {
            out.note_with(|| {
                format!(
                    "cannot forward the ack of task {} to agent {}: agent is not registered",
                    a.task_id.value,
                    short_id(&aid)
                )
            });
            return;
        };
        let fw = self.frameworks.get_mut(fid).expect("subscribed");
        let tid = a.task_id.value.clone();
        // Acknowledging the terminal update is what lets the master forget a task.
        let done = fw.tasks.get(&tid).is_some_and(|t| {
            t.update_uuid.as_deref() == Some(a.uuid.as_slice()) && t.update_state.is_some_and(TaskState::is_terminal)
        });
        if done {
            fw.tasks.remove(&tid);
            if let Some(x) = self.agents.get_mut(&aid) {
                x.tasks.remove(&(fid.to_string(), tid));
            }
        }
        out.send(
            &actor,
            internal::StatusUpdateAcknowledgementMessage {
                slave_id: a.agent_id.clone(),
                framework_id: v1::FrameworkId { value: fid.to_string() },
                task_id: a.task_id.clone(),
                uuid: a.uuid.clone(),
            },
        );
    }
}
