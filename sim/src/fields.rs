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
    // ZooKeeper: client requests (their jute body's name; `ping` and
    // `closeSession` are header-only), server replies, and ZAB's packets.
    "ConnectRequest",
    "CreateRequest",
    "DeleteRequest",
    "ExistsRequest",
    "GetDataRequest",
    "GetChildren2Request",
    "ping",
    "closeSession",
    "ConnectResponse",
    "CreateResponse",
    "ExistsResponse",
    "GetDataResponse",
    "GetChildren2Response",
    "WatcherEvent",
    "ReplyHeader",
    "REQUEST",
    "PROPOSAL",
    "ACK",
    "COMMIT",
    "PING",
    "NEWLEADER",
    "FOLLOWERINFO",
    "UPTODATE",
    "DIFF",
    "TRUNC",
    "LEADERINFO",
    "ACKEPOCH",
    // Fast Leader Election's vote, on the election port.
    "Notification",
    // Spark's REST submission protocol (spark-submit in cluster mode ↔ the dispatcher).
    "CreateSubmissionRequest",
    "CreateSubmissionResponse",
    "KillSubmissionRequest",
    "KillSubmissionResponse",
    "SubmissionStatusRequest",
    "SubmissionStatusResponse",
    "ErrorResponse",
    // The masters' replicated log (upstream `src/messages/log.proto`).
    "PromiseRequest",
    "PromiseResponse",
    "WriteRequest",
    "WriteResponse",
    "LearnedMessage",
    "RecoverRequest",
    "RecoverResponse",
];

/// What a scenario can check of the TaskInfo in a RunTaskMessage: enough to
/// see the executor Spark built (resources, command, container) without
/// reading the trace.
const RUN_TASK_FIELDS: &[&str] = &[
    "framework_id",
    "task_id",
    "name",
    "cpus",
    "mem",
    "gpus",
    "ports",
    "command",
    "uris",
    "labels",
    "container_type",
    "docker_image",
    "force_pull_image",
    "docker_network",
    "port_mappings",
    "docker_parameters",
    "volumes",
    "mesos_image",
    "network_name",
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
        "SUBSCRIBE" => &["framework_id", "name", "failover_timeout", "role", "principal", "capabilities", "checkpoint"],
        "SUBSCRIBED" => &["framework_id"],
        "OFFERS" => &["offers", "hostname"],
        "RESCIND" => &["offer_id"],
        "UPDATE" | "StatusUpdateMessage" => &["state", "reason", "source", "task_id", "message"],
        "FAILURE" => &["agent_id", "executor_id", "status"],
        "ERROR" => &["message"],
        "REVIVE" | "SUPPRESS" | "TEARDOWN" | "ACKNOWLEDGE" => &["framework_id"],
        "KILL" => &["framework_id", "task_id"],
        "RunTaskMessage" => RUN_TASK_FIELDS,
        "KillTaskMessage" => &["framework_id", "task_id"],
        "ShutdownFrameworkMessage" => &["framework_id"],
        "PingSlaveMessage" => &["connected"],
        "ReregisterSlaveMessage" => &["agent_id", "tasks"],
        "RegisterExecutor" => &["executor_id", "hostname", "cores"],
        "RegisterExecutorResponse" => &["success", "failure"],
        "CreateSubmissionRequest" => &["appResource", "mainClass", "app_name"],
        "CreateSubmissionResponse" | "KillSubmissionResponse" => &["submissionId", "success", "message"],
        "KillSubmissionRequest" | "SubmissionStatusRequest" => &["submissionId"],
        "SubmissionStatusResponse" => &["submissionId", "success", "driverState", "message"],
        "ErrorResponse" => &["message"],
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
                #[allow(deprecated)] // FrameworkInfo.role is deprecated upstream; Spark 3.5 sets it.
                ("role", _) => c.subscribe.as_ref().map(|s| s.framework_info.role().to_string()),
                ("principal", _) => c.subscribe.as_ref().and_then(|s| s.framework_info.principal.clone()),
                ("checkpoint", _) => c.subscribe.as_ref().map(|s| s.framework_info.checkpoint().to_string()),
                ("capabilities", _) => c.subscribe.as_ref().map(|s| {
                    let names: Vec<&str> =
                        s.framework_info.capabilities.iter().map(|k| k.r#type().as_str_name()).collect();
                    names.join(",")
                }),
                ("task_id", _) => c.kill.as_ref().map(|k| k.task_id.value.clone()),
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
                _ => task_info_field(&m.task, name),
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
            // The REST messages' fields by their JSON names; an unset Boolean reads as false.
            Msg::CreateSubmissionRequest(r) => match name {
                "appResource" => Some(r.app_resource.clone()),
                "mainClass" => Some(r.main_class.clone()),
                "app_name" => r.spark_properties.get("spark.app.name").cloned(),
                _ => None,
            },
            Msg::CreateSubmissionResponse(r) => match name {
                "submissionId" => r.submission_id.clone(),
                "success" => Some(r.success.unwrap_or(false).to_string()),
                "message" => r.message.clone(),
                _ => None,
            },
            Msg::KillSubmissionResponse(r) => match name {
                "submissionId" => Some(r.submission_id.clone()),
                "success" => Some(r.success.unwrap_or(false).to_string()),
                "message" => r.message.clone(),
                _ => None,
            },
            Msg::KillSubmissionRequest(r) => (name == "submissionId").then(|| r.submission_id.clone()),
            Msg::SubmissionStatusRequest(r) => (name == "submissionId").then(|| r.submission_id.clone()),
            Msg::SubmissionStatusResponse(r) => match name {
                "submissionId" => Some(r.submission_id.clone()),
                "success" => Some(r.success.unwrap_or(false).to_string()),
                "driverState" => r.driver_state.clone(),
                "message" => r.message.clone(),
                _ => None,
            },
            Msg::RestErrorResponse(r) => (name == "message").then(|| r.message.clone()),
            _ => None,
        }
    }
}

/// A [`RUN_TASK_FIELDS`] field of a TaskInfo, as text. Lists are joined with
/// `,` in the TaskInfo's order; absent parts read as nothing (the field does
/// not match any value).
fn task_info_field(t: &v1::TaskInfo, name: &str) -> Option<String> {
    let scalar = |n: &str| {
        let v: f64 =
            t.resources.iter().filter(|r| r.name == n).filter_map(|r| r.scalar.as_ref()).map(|s| s.value).sum();
        t.resources.iter().any(|r| r.name == n).then(|| v.to_string())
    };
    let join = |items: Vec<String>| (!items.is_empty()).then(|| items.join(","));
    let container = t.container.as_ref();
    let docker = container.and_then(|c| c.docker.as_ref());
    match name {
        "task_id" => Some(t.task_id.value.clone()),
        "name" => Some(t.name.clone()),
        "cpus" | "mem" | "gpus" => scalar(name),
        "ports" => join(
            t.resources
                .iter()
                .filter(|r| r.name == "ports")
                .filter_map(|r| r.ranges.as_ref())
                .flat_map(|rs| rs.range.iter().map(|r| format!("{}-{}", r.begin, r.end)))
                .collect(),
        ),
        "command" => t.command.as_ref().and_then(|c| c.value.clone()),
        "uris" => join(
            t.command
                .as_ref()
                .map(|c| {
                    c.uris.iter().map(|u| format!("{}{}", u.value, if u.cache() { " (cached)" } else { "" })).collect()
                })
                .unwrap_or_default(),
        ),
        "labels" => join(
            t.labels
                .as_ref()
                .map(|l| l.labels.iter().map(|l| format!("{}:{}", l.key, l.value.as_deref().unwrap_or(""))).collect())
                .unwrap_or_default(),
        ),
        "container_type" => container.map(|c| c.r#type().as_str_name().to_string()),
        "docker_image" => docker.map(|d| d.image.clone()),
        "force_pull_image" => docker.map(|d| d.force_pull_image().to_string()),
        "docker_network" => docker.map(|d| d.network().as_str_name().to_string()),
        "port_mappings" => join(
            docker
                .map(|d| {
                    d.port_mappings
                        .iter()
                        .map(|p| {
                            format!("{}:{}/{}", p.host_port, p.container_port, p.protocol.as_deref().unwrap_or("tcp"))
                        })
                        .collect()
                })
                .unwrap_or_default(),
        ),
        "docker_parameters" => join(
            docker.map(|d| d.parameters.iter().map(|p| format!("{}={}", p.key, p.value)).collect()).unwrap_or_default(),
        ),
        "volumes" => join(
            container
                .map(|c| {
                    c.volumes
                        .iter()
                        .map(|v| {
                            let mode = if v.mode() == v1::volume::Mode::Ro { "ro" } else { "rw" };
                            match &v.host_path {
                                Some(h) => format!("{h}:{}:{mode}", v.container_path),
                                None => format!("{}:{mode}", v.container_path),
                            }
                        })
                        .collect()
                })
                .unwrap_or_default(),
        ),
        "mesos_image" => container
            .and_then(|c| c.mesos.as_ref())
            .and_then(|m| m.image.as_ref())
            .and_then(|i| i.docker.as_ref())
            .map(|d| d.name.clone()),
        "network_name" => {
            join(container.map(|c| c.network_infos.iter().filter_map(|n| n.name.clone()).collect()).unwrap_or_default())
        }
        _ => None,
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
        let m = Msg::from(scheduler::Call {
            r#type: Some(scheduler::call::Type::Decline as i32),
            decline: Some(scheduler::call::Decline { offer_ids: vec![], filters: None }),
            ..Default::default()
        });
        assert_eq!(m.field("refuse_seconds").as_deref(), Some("5"));
        assert_eq!(m.field("offers").as_deref(), Some("0"));
    }

    #[test]
    fn run_task_fields_show_the_executor_spark_built() {
        use v1::container_info::{DockerInfo, Type, docker_info};
        let task = v1::TaskInfo {
            name: "pi 0".into(),
            task_id: v1::TaskId { value: "0".into() },
            resources: crate::proto::Resources::scalar_of("cpus", 4.0).to_protos(),
            container: Some(v1::ContainerInfo {
                r#type: Type::Docker as i32,
                volumes: vec![v1::Volume {
                    container_path: "/data".into(),
                    host_path: Some("/mnt/data".into()),
                    mode: v1::volume::Mode::Ro as i32,
                    ..Default::default()
                }],
                docker: Some(DockerInfo {
                    image: "spark:3.5".into(),
                    force_pull_image: Some(true),
                    port_mappings: vec![docker_info::PortMapping {
                        host_port: 8080,
                        container_port: 80,
                        protocol: None,
                    }],
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        };
        let m = Msg::from(crate::proto::internal::RunTaskMessage { task, ..Default::default() });
        let f = |n: &str| m.field(n);
        assert_eq!(f("name").as_deref(), Some("pi 0"));
        assert_eq!(f("cpus").as_deref(), Some("4"));
        assert_eq!(f("mem"), None, "no mem resource");
        assert_eq!(f("container_type").as_deref(), Some("DOCKER"));
        assert_eq!(f("docker_image").as_deref(), Some("spark:3.5"));
        assert_eq!(f("force_pull_image").as_deref(), Some("true"));
        assert_eq!(f("docker_network").as_deref(), Some("HOST"), "the proto default");
        assert_eq!(f("port_mappings").as_deref(), Some("8080:80/tcp"));
        assert_eq!(f("volumes").as_deref(), Some("/mnt/data:/data:ro"));
        assert_eq!(f("docker_parameters"), None);
        for n in RUN_TASK_FIELDS {
            assert!(field_names("RunTaskMessage").contains(n));
        }
    }
}
