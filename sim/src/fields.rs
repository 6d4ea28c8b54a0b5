//! What a scenario can say about a message: its kind and a few named fields.
//!
//! Scenario faults and expectations name messages by [`Msg::kind`] (`ACCEPT`,
//! `UPDATE`, `RegisterExecutor`, `PongSlaveMessage`…) and filter them by fields
//! (`refuse_seconds = 120`, `state = "TASK_LOST"`, `reason = "REASON_AGENT_REMOVED"`).
//! This module is the one list of both, so the scenario checker can reject an
//! unknown kind or field with the list of known ones, and the runner can read
//! the same fields it validated.

use crate::msg::Msg;
use crate::proto::mesos::v1::{self as v1, executor, scheduler};

/// The names of the messages that are not Call/Event envelopes.
const MESSAGE_KINDS: &[&str] = &[
    "RegisterSlaveMessage",
    "ReregisterSlaveMessage",
    "UnregisterSlaveMessage",
    "SlaveRegisteredMessage",
    "SlaveReregisteredMessage",
    "RunTaskMessage",
    "KillTaskMessage",
    "StatusUpdateMessage",
    "StatusUpdateAcknowledgementMessage",
    "PingSlaveMessage",
    "PongSlaveMessage",
    "ShutdownFrameworkMessage",
    "ShutdownExecutorMessage",
    "ExitedExecutorMessage",
    "ShutdownMessage",
    "RetrieveSparkAppConfig",
    "SparkAppConfig",
    "RegisterExecutor",
    "RegisterExecutorResponse",
    "LaunchedExecutor",
    "LaunchTask",
    "KillTask",
    "StatusUpdate",
    "StopExecutor",
    "Shutdown",
    "RemoveExecutor",
    "Heartbeat",
    "HeartbeatResponse",
];

/// Every kind a message can have, sorted.
pub fn kinds() -> Vec<&'static str> {
    let mut all: Vec<&'static str> = MESSAGE_KINDS.to_vec();
    // The Call/Event types are the upstream enums' names; walk their values.
    for i in 0..64 {
        all.extend(scheduler::call::Type::try_from(i).ok().map(|t| t.as_str_name()));
        all.extend(scheduler::event::Type::try_from(i).ok().map(|t| t.as_str_name()));
        all.extend(executor::call::Type::try_from(i).ok().map(|t| t.as_str_name()));
        all.extend(executor::event::Type::try_from(i).ok().map(|t| t.as_str_name()));
    }
    all.retain(|k| *k != "UNKNOWN");
    all.sort_unstable();
    all.dedup();
    all
}

/// Whether `kind` names some message.
pub fn is_kind(kind: &str) -> bool {
    kinds().contains(&kind)
}

/// The fields a scenario may filter messages of `kind` by.
pub fn field_names(kind: &str) -> &'static [&'static str] {
    match kind {
        "ACCEPT" => &["framework_id", "offers", "tasks", "refuse_seconds"],
        "DECLINE" => &["framework_id", "offers", "refuse_seconds"],
        "SUBSCRIBE" => &["framework_id", "name", "failover_timeout"],
        "SUBSCRIBED" => &["framework_id"],
        "OFFERS" => &["offers", "hostname"],
        "RESCIND" => &["offer_id"],
        "UPDATE" | "StatusUpdateMessage" => &["state", "reason", "source", "task_id", "message"],
        "FAILURE" => &["agent_id", "executor_id", "status"],
        "ERROR" => &["message"],
        "REVIVE" | "SUPPRESS" | "TEARDOWN" | "ACKNOWLEDGE" | "KILL" => &["framework_id"],
        "RunTaskMessage" => &["framework_id", "task_id"],
        "KillTaskMessage" => &["framework_id", "task_id"],
        "ShutdownFrameworkMessage" => &["framework_id"],
        "PingSlaveMessage" => &["connected"],
        "ReregisterSlaveMessage" => &["agent_id", "tasks"],
        "RegisterExecutor" => &["executor_id", "hostname", "cores"],
        "RegisterExecutorResponse" => &["success", "failure"],
        _ => &[],
    }
}

impl Msg {
    /// The task status this message carries, if it is a status update
    /// (scheduler UPDATE event, executor UPDATE call, StatusUpdateMessage).
    pub fn task_status(&self) -> Option<&v1::TaskStatus> {
        match self {
            Msg::SchedulerEvent(e) => e.update.as_ref().map(|u| &u.status),
            Msg::ExecutorCall(c) => c.update.as_ref().map(|u| &u.status),
            Msg::StatusUpdate(m) => Some(&m.update.status),
            _ => None,
        }
    }

    /// The value of field `name` (one of [`field_names`] for this kind), as text.
    /// Numbers are written so that `120` and `120.0` compare equal numerically.
    pub fn field(&self, name: &str) -> Option<String> {
        if let Some(st) = self.task_status() {
            return match name {
                "state" => Some(st.state().as_str_name().to_string()),
                "reason" => st.reason.map(|_| st.reason().as_str_name().to_string()),
                "source" => st.source.map(|_| st.source().as_str_name().to_string()),
                "task_id" => Some(st.task_id.value.clone()),
                "message" => st.message.clone(),
                _ => None,
            };
        }
        match self {
            Msg::SchedulerCall(c) => match (name, c.r#type()) {
                ("framework_id", _) => c.framework_id.as_ref().map(|f| f.value.clone()),
                ("offers", scheduler::call::Type::Accept) => c.accept.as_ref().map(|a| a.offer_ids.len().to_string()),
                ("offers", scheduler::call::Type::Decline) => c.decline.as_ref().map(|d| d.offer_ids.len().to_string()),
                ("tasks", _) => c.accept.as_ref().map(|a| {
                    { a.operations.iter().filter_map(|o| o.launch.as_ref()).map(|l| l.task_infos.len()).sum::<usize>() }
                        .to_string()
                }),
                // No filters means the master's default, Filters.refuse_seconds = 5.
                ("refuse_seconds", scheduler::call::Type::Accept) => {
                    c.accept.as_ref().map(|a| a.filters.as_ref().map_or(5.0, |f| f.refuse_seconds()).to_string())
                }
                ("refuse_seconds", scheduler::call::Type::Decline) => {
                    c.decline.as_ref().map(|d| d.filters.as_ref().map_or(5.0, |f| f.refuse_seconds()).to_string())
                }
                ("name", _) => c.subscribe.as_ref().map(|s| s.framework_info.name.clone()),
                ("failover_timeout", _) => {
                    c.subscribe.as_ref().map(|s| s.framework_info.failover_timeout().to_string())
                }
                _ => None,
            },
            Msg::SchedulerEvent(e) => match name {
                "framework_id" => e.subscribed.as_ref().map(|s| s.framework_id.value.clone()),
                "offers" => e.offers.as_ref().map(|o| o.offers.len().to_string()),
                "hostname" => e
                    .offers
                    .as_ref()
                    .map(|o| o.offers.iter().map(|o| o.hostname.as_str()).collect::<Vec<_>>().join(",")),
                "offer_id" => e.rescind.as_ref().map(|r| r.offer_id.value.clone()),
                "agent_id" => e.failure.as_ref().and_then(|f| f.agent_id.as_ref()).map(|a| a.value.clone()),
                "executor_id" => e.failure.as_ref().and_then(|f| f.executor_id.as_ref()).map(|x| x.value.clone()),
                "status" => e.failure.as_ref().and_then(|f| f.status).map(|s| s.to_string()),
                "message" => e.error.as_ref().map(|er| er.message.clone()),
                _ => None,
            },
            Msg::RunTask(m) => match name {
                "framework_id" => m.framework.id.as_ref().map(|f| f.value.clone()),
                "task_id" => Some(m.task.task_id.value.clone()),
                _ => None,
            },
            Msg::KillTask(m) => match name {
                "framework_id" => Some(m.framework_id.value.clone()),
                "task_id" => Some(m.task_id.value.clone()),
                _ => None,
            },
            Msg::ShutdownFramework(m) => (name == "framework_id").then(|| m.framework_id.value.clone()),
            Msg::PingSlave(m) => (name == "connected").then(|| m.connected.to_string()),
            Msg::ReregisterSlave(m) => match name {
                "agent_id" => m.slave.id.as_ref().map(|a| a.value.clone()),
                "tasks" => Some(m.tasks.len().to_string()),
                _ => None,
            },
            Msg::RegisterExecutor(m) => match name {
                "executor_id" => Some(m.executor_id.clone()),
                "hostname" => Some(m.hostname.clone()),
                "cores" => Some(m.cores.to_string()),
                _ => None,
            },
            Msg::RegisterExecutorResponse(m) => match name {
                "success" => Some(m.success.to_string()),
                "failure" => Some(m.failure.clone()),
                _ => None,
            },
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_cover_envelopes_and_messages() {
        for k in ["ACCEPT", "DECLINE", "OFFERS", "UPDATE", "RESCIND", "RegisterExecutor", "PongSlaveMessage"] {
            assert!(is_kind(k), "{k}");
        }
        assert!(!is_kind("Accept"));
        assert!(!is_kind("UNKNOWN"));
    }

    #[test]
    fn decline_without_filters_reads_the_master_default() {
        let m = Msg::SchedulerCall(scheduler::Call {
            r#type: Some(scheduler::call::Type::Decline as i32),
            decline: Some(scheduler::call::Decline { offer_ids: vec![], filters: None }),
            ..Default::default()
        });
        assert_eq!(m.field("refuse_seconds").as_deref(), Some("5"));
        assert_eq!(m.field("offers").as_deref(), Some("0"));
    }
}
