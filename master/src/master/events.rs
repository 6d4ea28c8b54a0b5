//! Builders for the scheduler events and task statuses the master sends.

use mesocosm_proto::scheduler::event::Type as EventType;
use mesocosm_proto::v1::TaskState;
use mesocosm_proto::v1::task_status::{Reason, Source};
use mesocosm_proto::{scheduler, v1};
use mesocosm_sim::SimTime;

pub(super) fn event(ty: EventType) -> scheduler::Event {
    scheduler::Event { r#type: Some(ty as i32), ..Default::default() }
}

pub(super) fn error_event(message: &str) -> scheduler::Event {
    let mut e = event(EventType::Error);
    e.error = Some(scheduler::event::Error { message: message.to_string() });
    e
}

pub(super) fn update_event(status: v1::TaskStatus) -> scheduler::Event {
    let mut e = event(EventType::Update);
    e.update = Some(scheduler::event::Update { status });
    e
}

/// A status update the master itself generates (`protobuf::createStatusUpdate`
/// with source MASTER and no uuid, so the framework does not acknowledge it).
pub(super) fn master_status(
    now: SimTime,
    task_id: &v1::TaskId,
    agent_id: Option<&str>,
    state: TaskState,
    reason: Reason,
    message: String,
) -> v1::TaskStatus {
    v1::TaskStatus {
        task_id: task_id.clone(),
        state: state as i32,
        message: Some(message),
        source: Some(Source::Master as i32),
        reason: Some(reason as i32),
        agent_id: agent_id.map(|a| v1::AgentId { value: a.to_string() }),
        timestamp: Some(now.as_secs_f64()),
        ..Default::default()
    }
}
