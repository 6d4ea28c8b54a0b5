//! The agent's side of reliable status updates: the glue between the executors,
//! the master and the [`StatusUpdateManager`](crate::status_updates::StatusUpdateManager)
//! (`Slave::statusUpdate`, `Slave::forward`, `Slave::statusUpdateAcknowledgement`
//! in `src/slave/slave.cpp`).
//!
//! The manager is a pure data structure that decides *what* to forward and when
//! to retry; this module turns its decisions into messages and timers:
//!
//! ```text
//!   executor UPDATE ─┐
//!   agent's own ─────┴▶ status_update ─▶ manager.update ─▶ Forward ─▶ StatusUpdateMessage
//!   update (TASK_FAILED, TASK_LOST…)                                  + Timer::RetryStatusUpdate
//!   Timer::RetryStatusUpdate ─▶ manager.retry ─▶ Forward again (backoff doubled)
//!   StatusUpdateAcknowledgement ─▶ manager.acknowledge ─▶ ACKNOWLEDGED to the executor,
//!                                  the stream's next update forwarded, a terminated
//!                                  executor removed once nothing waits
//! ```
//!
//! An update is stamped with the agent's id and, for the agent's own updates
//! (source AGENT), a uuid derived from the agent's name, its start and a counter,
//! so a restarted agent never repeats one.

use super::{Agent, ExecutorState, Timer};
use crate::status_updates::{Action, StreamKey};
use mesocosm_sim::Outbox;
use mesocosm_sim::proto::mesos::v1::{ExecutorId, FrameworkId, TaskId, TaskState, TaskStatus, task_status};
use mesocosm_sim::proto::{executor, internal};

impl Agent {
    /// An executor's UPDATE call (`Http::executor` → `Slave::statusUpdate`): the
    /// task's latest state is recorded and the update handed to the manager.
    pub(super) fn on_executor_update(&mut self, key: (String, String), call: executor::Call, out: &mut Outbox<Timer>) {
        let Some(update) = call.update else { return };
        let mut status = update.status;
        let tid = status.task_id.value.clone();
        let terminating = self.frameworks.get(&key.0).is_none_or(|f| f.terminating);
        let Some(record) = self.executors.get_mut(&key).and_then(|e| e.tasks.get_mut(&tid)) else {
            // Only an executor's own tasks have streams here; an update from
            // an executor of an earlier agent run (or for a task it was never
            // given) has nobody to acknowledge it.
            out.note_with(|| format!("ignored update for unknown task {tid} of executor {}", key.1));
            return;
        };
        if terminating {
            // `Slave::statusUpdate`: "Ignoring status update … for terminating
            // framework": it will never acknowledge.
            out.note_with(|| format!("ignored update for task {tid}: framework is terminating"));
            return;
        }
        record.state = status.state();
        status.agent_id = self.id.clone();
        status.executor_id = Some(call.executor_id.clone());
        self.status_update(&call.framework_id, Some(call.executor_id), status, out);
    }

    /// A status update the agent itself makes (source AGENT).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn agent_update(
        &mut self,
        fid: &str,
        eid: Option<&str>,
        task: &str,
        state: TaskState,
        reason: task_status::Reason,
        message: &str,
        out: &mut Outbox<Timer>,
    ) {
        let uuid = self.next_uuid();
        let executor_id = eid.map(|e| ExecutorId { value: e.to_string() });
        if let Some(eid) = eid
            && let Some(record) =
                self.executors.get_mut(&(fid.to_string(), eid.to_string())).and_then(|e| e.tasks.get_mut(task))
        {
            record.state = state;
        }
        let status = TaskStatus {
            task_id: TaskId { value: task.to_string() },
            state: state as i32,
            message: Some(message.to_string()),
            source: Some(task_status::Source::Agent as i32),
            reason: Some(reason as i32),
            agent_id: self.id.clone(),
            executor_id: executor_id.clone(),
            timestamp: Some(out.now().as_secs_f64()),
            uuid: Some(uuid),
            ..Default::default()
        };
        self.status_update(&FrameworkId { value: fid.to_string() }, executor_id, status, out);
    }

    /// Hand an update to the status update manager (forwarding it if it is the head).
    fn status_update(
        &mut self,
        fid: &FrameworkId,
        eid: Option<ExecutorId>,
        status: TaskStatus,
        out: &mut Outbox<Timer>,
    ) {
        let update = internal::StatusUpdate {
            framework_id: fid.clone(),
            executor_id: eid,
            slave_id: self.id.clone(),
            timestamp: out.now().as_secs_f64(),
            uuid: status.uuid.clone(),
            latest_state: None,
            status,
        };
        if let Some(action) = self.updates.update(update) {
            self.act(action, out);
        }
    }

    /// Carry out the manager's decision (`Slave::forward`): send the update to
    /// the master, and arm its retry.
    pub(super) fn act(&mut self, action: Action, out: &mut Outbox<Timer>) {
        let Action::Forward { update, retry_after, generation } = action;
        let stream = (update.framework_id.value.clone(), update.status.task_id.value.clone());
        let uuid = update.uuid.clone().unwrap_or_default();
        self.send_to_master(internal::StatusUpdateMessage { update, pid: None }, out);
        out.set_timer(retry_after, Timer::RetryStatusUpdate { stream, uuid, generation });
    }

    /// [`Timer::RetryStatusUpdate`] fired: the manager resends the head if it is
    /// still unacknowledged and this is the stream's latest forward
    /// (`TaskStatusUpdateManagerProcess::timeout`).
    pub(super) fn retry_status_update(
        &mut self,
        stream: StreamKey,
        uuid: Vec<u8>,
        generation: u64,
        out: &mut Outbox<Timer>,
    ) {
        if let Some(action) = self.updates.retry(&stream, &uuid, generation) {
            out.note_with(|| format!("no acknowledgement for task {}'s update; retrying", stream.1));
            self.act(action, out);
        }
    }

    pub(super) fn on_ack(&mut self, m: internal::StatusUpdateAcknowledgementMessage, out: &mut Outbox<Timer>) {
        let stream = (m.framework_id.value.clone(), m.task_id.value.clone());
        let (matched, next) = self.updates.acknowledge(&stream, &m.uuid);
        if matched {
            // Tell the executor its update is safe (the command executor waits for
            // this before it exits after a terminal update).
            if let Some((_, ex)) = self.executor_of_task(&stream.0, &stream.1)
                && ex.subscribed
                && ex.state != ExecutorState::Terminated
            {
                out.send(
                    &ex.actor,
                    executor::Event {
                        r#type: Some(executor::event::Type::Acknowledged as i32),
                        acknowledged: Some(executor::event::Acknowledged { task_id: m.task_id.clone(), uuid: m.uuid }),
                        ..Default::default()
                    },
                );
            }
        }
        if let Some(action) = next {
            self.act(action, out);
        }
        if matched {
            // A terminated executor leaves once its last update is acknowledged.
            if let Some((key, ex)) = self.executor_of_task(&stream.0, &stream.1)
                && ex.state == ExecutorState::Terminated
            {
                let key = key.clone();
                self.remove_executor_if_done(&key, out);
            }
        }
    }
}
