//! Every message that crosses an actor boundary, as one closed enum.
//!
//! [`Msg`] is what cores put in their outbox and what the network carries. Each
//! variant wraps one real protobuf message; [`Msg::proto_name`] is its
//! fully-qualified protobuf name, [`Msg::kind`] the Call/Event type (e.g. `ACCEPT`)
//! or message name, [`Msg::summary`] one human line for the timeline, and
//! [`Msg::encode`]/[`Msg::decode`] its exact bytes. The trace is built from these
//! four, so anything the timeline shows can be decoded with standard protobuf tools.

use crate::proto::Resources;
use crate::proto::internal::log;
use crate::proto::mesos::v1::{self as v1, executor, scheduler};
use crate::proto::zk_codes;
use crate::proto::{internal, sparkrest, sparkrpc, zookeeper};
use prost::Message;
use std::fmt::Write;

/// The type a variant stores: the message itself, or a box of it for the
/// variants marked `[boxed]`.
macro_rules! stored {
    ($ty:ty) => { $ty };
    ($ty:ty, boxed) => { Box<$ty> };
}

/// Wrap a message into what its variant stores (see [`stored`]).
macro_rules! store {
    ($m:expr) => {
        $m
    };
    ($m:expr, boxed) => {
        Box::new($m)
    };
}

macro_rules! messages {
    ($( $(#[$doc:meta])* $variant:ident($ty:ty) $([$boxed:ident])? = $name:literal, )*) => {
        /// One message between two actors.
        ///
        /// Why some variants are boxed: a `Msg` moves through every outbox,
        /// link queue, mailbox and core input, and an enum is as large as its
        /// largest variant. Unboxed, `executor::Event` (a LAUNCH carries a whole
        /// TaskInfo, FrameworkInfo and ExecutorInfo) made every message 2 KB,
        /// so each small PING, ACK or Spark heartbeat was a 2 KB copy at every
        /// hop. The variants over ~100 bytes live behind a box; `Msg::from`
        /// (and so an outbox's `send`) boxes them, so a core builds messages
        /// exactly as before.
        #[derive(Clone, Debug, PartialEq)]
        pub enum Msg {
            $( $(#[$doc])* $variant(stored!($ty $(, $boxed)?)), )*
        }

        impl Msg {
            /// The fully-qualified protobuf message name, e.g. `mesos.v1.scheduler.Call`.
            pub fn proto_name(&self) -> &'static str {
                match self { $( Msg::$variant(_) => $name, )* }
            }

            /// The exact protobuf encoding.
            pub fn encode(&self) -> Vec<u8> {
                match self { $( Msg::$variant(m) => m.encode_to_vec(), )* }
            }

            /// Decode bytes of the message named `proto_name` (as written in a trace).
            pub fn decode(proto_name: &str, bytes: &[u8]) -> Result<Msg, DecodeError> {
                match proto_name {
                    $( $name => <$ty>::decode(bytes).map(Msg::from).map_err(|e| DecodeError::Bytes(proto_name.to_string(), e)), )*
                    other => Err(DecodeError::UnknownMessage(other.to_string())),
                }
            }
        }

        $( impl From<$ty> for Msg { fn from(m: $ty) -> Msg { Msg::$variant(store!(m $(, $boxed)?)) } } )*
    };
}

/// Why bytes did not decode into a [`Msg`].
#[derive(Debug)]
pub enum DecodeError {
    /// No message of that name crosses actor boundaries.
    UnknownMessage(String),
    /// The bytes are not a valid encoding of that message.
    Bytes(String, prost::DecodeError),
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DecodeError::UnknownMessage(n) => write!(f, "unknown message `{n}`"),
            DecodeError::Bytes(n, e) => write!(f, "bytes are not a valid `{n}`: {e}"),
        }
    }
}

impl std::error::Error for DecodeError {}

messages! {
    /// Framework → master: the v1 scheduler API.
    SchedulerCall(scheduler::Call) [boxed] = "mesos.v1.scheduler.Call",
    /// Master → framework, on the SUBSCRIBE stream.
    SchedulerEvent(scheduler::Event) [boxed] = "mesos.v1.scheduler.Event",
    /// Executor → agent: the v1 executor API.
    ExecutorCall(executor::Call) [boxed] = "mesos.v1.executor.Call",
    /// Agent → executor, on the executor's SUBSCRIBE stream.
    ExecutorEvent(executor::Event) [boxed] = "mesos.v1.executor.Event",
    RegisterSlave(internal::RegisterSlaveMessage) [boxed] = "mesos.internal.RegisterSlaveMessage",
    ReregisterSlave(internal::ReregisterSlaveMessage) [boxed] = "mesos.internal.ReregisterSlaveMessage",
    UnregisterSlave(internal::UnregisterSlaveMessage) = "mesos.internal.UnregisterSlaveMessage",
    SlaveRegistered(internal::SlaveRegisteredMessage) = "mesos.internal.SlaveRegisteredMessage",
    SlaveReregistered(internal::SlaveReregisteredMessage) = "mesos.internal.SlaveReregisteredMessage",
    RunTask(internal::RunTaskMessage) [boxed] = "mesos.internal.RunTaskMessage",
    KillTask(internal::KillTaskMessage) = "mesos.internal.KillTaskMessage",
    StatusUpdate(internal::StatusUpdateMessage) [boxed] = "mesos.internal.StatusUpdateMessage",
    StatusUpdateAck(internal::StatusUpdateAcknowledgementMessage) = "mesos.internal.StatusUpdateAcknowledgementMessage",
    PingSlave(internal::PingSlaveMessage) = "mesos.internal.PingSlaveMessage",
    PongSlave(internal::PongSlaveMessage) = "mesos.internal.PongSlaveMessage",
    ShutdownFramework(internal::ShutdownFrameworkMessage) = "mesos.internal.ShutdownFrameworkMessage",
    ShutdownExecutor(internal::ShutdownExecutorMessage) = "mesos.internal.ShutdownExecutorMessage",
    ExitedExecutor(internal::ExitedExecutorMessage) = "mesos.internal.ExitedExecutorMessage",
    Shutdown(internal::ShutdownMessage) = "mesos.internal.ShutdownMessage",
    /// Executor → driver (ask; answered by SparkAppConfig).
    RetrieveSparkAppConfig(sparkrpc::RetrieveSparkAppConfig) = "spark.scheduler.cluster.RetrieveSparkAppConfig",
    SparkAppConfig(sparkrpc::SparkAppConfig) = "spark.scheduler.cluster.SparkAppConfig",
    /// Executor → driver (ask; answered by RegisterExecutorResponse).
    RegisterExecutor(sparkrpc::RegisterExecutor) [boxed] = "spark.scheduler.cluster.RegisterExecutor",
    RegisterExecutorResponse(sparkrpc::RegisterExecutorResponse) = "spark.scheduler.cluster.RegisterExecutorResponse",
    LaunchedExecutor(sparkrpc::LaunchedExecutor) = "spark.scheduler.cluster.LaunchedExecutor",
    LaunchTask(sparkrpc::LaunchTask) = "spark.scheduler.cluster.LaunchTask",
    SparkKillTask(sparkrpc::KillTask) = "spark.scheduler.cluster.KillTask",
    SparkStatusUpdate(sparkrpc::StatusUpdate) = "spark.scheduler.cluster.StatusUpdate",
    StopExecutor(sparkrpc::StopExecutor) = "spark.scheduler.cluster.StopExecutor",
    SparkShutdown(sparkrpc::Shutdown) = "spark.scheduler.cluster.Shutdown",
    RemoveExecutor(sparkrpc::RemoveExecutor) = "spark.scheduler.cluster.RemoveExecutor",
    /// Executor → driver's HeartbeatReceiver (ask; answered by HeartbeatResponse).
    Heartbeat(sparkrpc::Heartbeat) = "spark.scheduler.cluster.Heartbeat",
    HeartbeatResponse(sparkrpc::HeartbeatResponse) = "spark.scheduler.cluster.HeartbeatResponse",
    /// ZooKeeper client → server: a request frame (header + body).
    ZkRequest(zookeeper::ClientRequest) [boxed] = "zookeeper.ClientRequest",
    /// ZooKeeper server → client: a reply frame, a ping's answer or a watch notification.
    ZkReply(zookeeper::ServerReply) [boxed] = "zookeeper.ServerReply",
    /// ZooKeeper server ↔ server: ZAB's quorum packets.
    ZkQuorum(zookeeper::QuorumPacket) = "zookeeper.QuorumPacket",
    /// ZooKeeper server ↔ server: a Fast Leader Election notification (a vote).
    ZkVote(zookeeper::Notification) = "zookeeper.Notification",
    /// spark-submit → dispatcher: `POST /v1/submissions/create`.
    CreateSubmissionRequest(sparkrest::CreateSubmissionRequest) [boxed] = "spark.deploy.rest.CreateSubmissionRequest",
    /// Dispatcher → client: the create's answer.
    CreateSubmissionResponse(sparkrest::CreateSubmissionResponse) = "spark.deploy.rest.CreateSubmissionResponse",
    /// Client → dispatcher: `POST /v1/submissions/kill/<id>`.
    KillSubmissionRequest(sparkrest::KillSubmissionRequest) = "spark.deploy.rest.KillSubmissionRequest",
    KillSubmissionResponse(sparkrest::KillSubmissionResponse) = "spark.deploy.rest.KillSubmissionResponse",
    /// Client → dispatcher: `GET /v1/submissions/status/<id>`.
    SubmissionStatusRequest(sparkrest::SubmissionStatusRequest) = "spark.deploy.rest.SubmissionStatusRequest",
    SubmissionStatusResponse(sparkrest::SubmissionStatusResponse) [boxed] = "spark.deploy.rest.SubmissionStatusResponse",
    /// Dispatcher → client: a request it could not take (HTTP 400).
    RestErrorResponse(sparkrest::ErrorResponse) = "spark.deploy.rest.ErrorResponse",
    /// Replicated log, coordinator → replica: promise (implicit, or for one position).
    LogPromise(log::PromiseRequest) = "mesos.internal.log.PromiseRequest",
    /// Replicated log, replica → coordinator.
    LogPromised(log::PromiseResponse) [boxed] = "mesos.internal.log.PromiseResponse",
    /// Replicated log, coordinator → replica: write an action at a position.
    LogWrite(log::WriteRequest) [boxed] = "mesos.internal.log.WriteRequest",
    /// Replicated log, replica → coordinator.
    LogWritten(log::WriteResponse) = "mesos.internal.log.WriteResponse",
    /// Replicated log, coordinator → every replica: an action is chosen.
    LogLearned(log::LearnedMessage) [boxed] = "mesos.internal.log.LearnedMessage",
    /// Replicated log, replica → replicas: which positions do you hold?
    LogRecover(log::RecoverRequest) = "mesos.internal.log.RecoverRequest",
    /// Replicated log, replica → the replica that asked.
    LogRecovered(log::RecoverResponse) = "mesos.internal.log.RecoverResponse",
}

impl Msg {
    /// The Call/Event type for the four Mesos API envelopes (`ACCEPT`, `OFFERS`,
    /// `UPDATE`…), else the message's own name (`RunTaskMessage`, `RegisterExecutor`).
    pub fn kind(&self) -> &'static str {
        match self {
            Msg::SchedulerCall(c) => c.r#type().as_str_name(),
            Msg::SchedulerEvent(e) => e.r#type().as_str_name(),
            Msg::ExecutorCall(c) => c.r#type().as_str_name(),
            Msg::ExecutorEvent(e) => e.r#type().as_str_name(),
            Msg::ZkRequest(r) => zk_request_kind(r),
            Msg::ZkReply(r) => zk_reply_kind(r),
            Msg::ZkQuorum(p) => zk_codes::packet::name(p.r#type),
            other => {
                let name = other.proto_name();
                name.rsplit('.').next().unwrap_or(name)
            }
        }
    }

    /// For an ask (a Spark RPC that waits for a reply), the proto name of its reply.
    pub fn reply_name(&self) -> Option<&'static str> {
        match self {
            Msg::RetrieveSparkAppConfig(_) => Some("spark.scheduler.cluster.SparkAppConfig"),
            Msg::RegisterExecutor(_) => Some("spark.scheduler.cluster.RegisterExecutorResponse"),
            Msg::Heartbeat(_) => Some("spark.scheduler.cluster.HeartbeatResponse"),
            _ => None,
        }
    }

    /// True for a scheduler or executor SUBSCRIBE, which opens an event stream.
    pub fn is_subscribe(&self) -> bool {
        match self {
            Msg::SchedulerCall(c) => c.r#type() == scheduler::call::Type::Subscribe,
            Msg::ExecutorCall(c) => c.r#type() == executor::call::Type::Subscribe,
            _ => false,
        }
    }

    /// True for a message that opens a *connection* between its sender and
    /// receiver, whose end each side learns of as `Input::Disconnected`: the
    /// scheduler and executor SUBSCRIBE (an HTTP stream), agent registration (the
    /// master `link()`s to the agent and the agent to the master, as libprocess
    /// does) and Spark's RegisterExecutor (the executor's RPC connection to the
    /// driver, whose loss Spark reports as "disassociated").
    pub fn opens_connection(&self) -> bool {
        self.is_subscribe()
            || matches!(self, Msg::RegisterSlave(_) | Msg::ReregisterSlave(_) | Msg::RegisterExecutor(_))
            // A ZooKeeper client's TCP connection to its server: each side
            // learns of its loss (ClientCnxn then tries the next server).
            || matches!(self, Msg::ZkRequest(r) if r.connect.is_some())
            // A learner's TCP connection to its leader's quorum port (2888),
            // which Learner.connectToLeader opens and FOLLOWERINFO starts: a
            // follower whose leader's process dies sees the socket close and
            // goes LOOKING at once, without waiting syncLimit. In an ensemble
            // already running when the simulation starts, the connections
            // exist before any FOLLOWERINFO: the pings they carry stand for them.
            || matches!(self, Msg::ZkQuorum(p) if matches!(p.r#type, zk_codes::packet::FOLLOWERINFO | zk_codes::packet::PING))
    }

    /// True for the request half of a Spark `ask` (its reply comes back on the
    /// receiver's link, see [`Msg::is_reply`]); the sender does not wait for the
    /// reply before its next message, as Spark's `RpcEndpointRef.ask` returns a
    /// future at once.
    pub fn is_ask(&self) -> bool {
        matches!(self, Msg::RetrieveSparkAppConfig(_) | Msg::RegisterExecutor(_) | Msg::Heartbeat(_))
    }

    /// True for a request to a listening port that a stopped process cannot
    /// take: Spark's REST submission requests (HTTP to the dispatcher's 7077).
    /// Sent to an actor that is not running, the world refuses the connection
    /// at once ([`crate::Refusal::ConnectionRefused`]) instead of letting it
    /// vanish, as the dispatcher's host would answer a connect() with a reset.
    pub fn needs_listener(&self) -> bool {
        matches!(
            self,
            Msg::CreateSubmissionRequest(_) | Msg::KillSubmissionRequest(_) | Msg::SubmissionStatusRequest(_)
        )
            // A ZooKeeper learner's connect() to its leader's quorum port (2888).
            || matches!(self, Msg::ZkQuorum(p) if p.r#type == zk_codes::packet::FOLLOWERINFO)
    }

    /// True for the reply half of an ask.
    pub fn is_reply(&self) -> bool {
        matches!(self, Msg::SparkAppConfig(_) | Msg::RegisterExecutorResponse(_) | Msg::HeartbeatResponse(_))
    }

    /// One human line describing the message, for the timeline and the trace.
    pub fn summary(&self) -> String {
        let mut s = String::new();
        // Writing to a String cannot fail.
        let _ = self.write_summary(&mut s);
        s
    }

    fn write_summary(&self, s: &mut String) -> std::fmt::Result {
        match self {
            Msg::SchedulerCall(c) => {
                if let Some(fid) = &c.framework_id {
                    write!(s, "framework {} ", short_id(&fid.value))?;
                }
                match c.r#type() {
                    scheduler::call::Type::Subscribe => {
                        if let Some(sub) = &c.subscribe {
                            let fi = &sub.framework_info;
                            write!(
                                s,
                                "name={:?} user={} role={} failover_timeout={}s",
                                fi.name,
                                fi.user,
                                fi.role(),
                                fi.failover_timeout()
                            )?;
                            if let Some(id) = &fi.id {
                                write!(s, " id={}", id.value)?;
                            }
                        }
                    }
                    scheduler::call::Type::Accept => {
                        if let Some(a) = &c.accept {
                            write!(s, "offers=[{}]", ids(a.offer_ids.iter().map(|o| o.value.as_str())))?;
                            for op in &a.operations {
                                write!(s, " {}", op.r#type().as_str_name())?;
                                if let Some(l) = &op.launch {
                                    for t in &l.task_infos {
                                        write!(
                                            s,
                                            " task {} {:?} [{}]",
                                            t.task_id.value,
                                            t.name,
                                            Resources::from_protos(&t.resources)
                                        )?;
                                    }
                                }
                            }
                            if let Some(f) = &a.filters {
                                write!(s, " refuse_seconds={}", f.refuse_seconds())?;
                            }
                        }
                    }
                    scheduler::call::Type::Decline => {
                        if let Some(d) = &c.decline {
                            write!(s, "offers=[{}]", ids(d.offer_ids.iter().map(|o| o.value.as_str())))?;
                            match &d.filters {
                                Some(f) => write!(s, " refuse_seconds={}", f.refuse_seconds())?,
                                None => write!(s, " (no filters: master default refuse_seconds=5)")?,
                            }
                        }
                    }
                    scheduler::call::Type::Acknowledge => {
                        if let Some(a) = &c.acknowledge {
                            write!(s, "task {} uuid={}", a.task_id.value, hex8(&a.uuid))?;
                        }
                    }
                    scheduler::call::Type::Kill => {
                        if let Some(k) = &c.kill {
                            write!(s, "task {}", k.task_id.value)?;
                        }
                    }
                    scheduler::call::Type::Revive => {
                        if let Some(r) = c.revive.as_ref().filter(|r| !r.roles.is_empty()) {
                            write!(s, "roles={:?}", r.roles)?;
                        }
                    }
                    _ => {}
                }
            }
            Msg::SchedulerEvent(e) => match e.r#type() {
                scheduler::event::Type::Subscribed => {
                    if let Some(sub) = &e.subscribed {
                        write!(
                            s,
                            "framework_id={} heartbeat_interval={}s",
                            sub.framework_id.value,
                            sub.heartbeat_interval_seconds.unwrap_or(0.0)
                        )?;
                    }
                }
                scheduler::event::Type::Offers => {
                    if let Some(o) = &e.offers {
                        write!(s, "{} offer{}:", o.offers.len(), if o.offers.len() == 1 { "" } else { "s" })?;
                        for (i, offer) in o.offers.iter().enumerate() {
                            if i > 0 {
                                s.push(',');
                            }
                            write!(
                                s,
                                " {} on {} [{}]",
                                short_id(&offer.id.value),
                                offer.hostname,
                                Resources::from_protos(&offer.resources)
                            )?;
                        }
                    }
                }
                scheduler::event::Type::Rescind => {
                    if let Some(r) = &e.rescind {
                        write!(s, "offer {}", short_id(&r.offer_id.value))?;
                    }
                }
                scheduler::event::Type::Update => {
                    if let Some(u) = &e.update {
                        status_line(s, &u.status)?;
                    }
                }
                scheduler::event::Type::Failure => {
                    if let Some(f) = &e.failure {
                        if let Some(a) = &f.agent_id {
                            write!(s, "agent {}", short_id(&a.value))?;
                        }
                        if let Some(x) = &f.executor_id {
                            write!(s, " executor {} status={}", x.value, f.status.unwrap_or(0))?;
                        }
                    }
                }
                scheduler::event::Type::Error => {
                    if let Some(er) = &e.error {
                        write!(s, "{:?}", er.message)?;
                    }
                }
                _ => {}
            },
            Msg::ExecutorCall(c) => {
                write!(s, "executor {}", c.executor_id.value)?;
                if let Some(u) = &c.update {
                    s.push(' ');
                    status_line(s, &u.status)?;
                }
            }
            Msg::ExecutorEvent(e) => match e.r#type() {
                executor::event::Type::Subscribed => {
                    if let Some(sub) = &e.subscribed {
                        write!(s, "executor {} on {}", sub.executor_info.executor_id.value, sub.agent_info.hostname)?;
                    }
                }
                executor::event::Type::Launch => {
                    if let Some(l) = &e.launch {
                        write!(s, "task {} [{}]", l.task.task_id.value, Resources::from_protos(&l.task.resources))?;
                    }
                }
                executor::event::Type::Kill => {
                    if let Some(k) = &e.kill {
                        write!(s, "task {}", k.task_id.value)?;
                    }
                }
                executor::event::Type::Acknowledged => {
                    if let Some(a) = &e.acknowledged {
                        write!(s, "task {} uuid={}", a.task_id.value, hex8(&a.uuid))?;
                    }
                }
                _ => {}
            },
            Msg::RegisterSlave(m) => {
                write!(s, "hostname={} resources=[{}]", m.slave.hostname, Resources::from_protos(&m.slave.resources))?
            }
            Msg::ReregisterSlave(m) => write!(s, "hostname={} tasks={}", m.slave.hostname, m.tasks.len())?,
            Msg::SlaveRegistered(m) => write!(
                s,
                "agent_id={} total_ping_timeout={}s",
                m.slave_id.value,
                m.connection.as_ref().and_then(|c| c.total_ping_timeout_seconds).unwrap_or(0.0)
            )?,
            Msg::SlaveReregistered(m) => write!(s, "agent_id={}", m.slave_id.value)?,
            Msg::UnregisterSlave(m) => write!(s, "agent_id={}", m.slave_id.value)?,
            Msg::RunTask(m) => {
                write!(
                    s,
                    "framework {:?} task {} [{}]",
                    m.framework.name,
                    m.task.task_id.value,
                    Resources::from_protos(&m.task.resources)
                )?;
                if m.launch_executor == Some(true) {
                    s.push_str(" launch_executor");
                }
            }
            Msg::KillTask(m) => write!(s, "task {}", m.task_id.value)?,
            Msg::StatusUpdate(m) => {
                status_line(s, &m.update.status)?;
                if let Some(u) = &m.update.uuid {
                    write!(s, " uuid={}", hex8(u))?;
                }
            }
            Msg::StatusUpdateAck(m) => write!(s, "task {} uuid={}", m.task_id.value, hex8(&m.uuid))?,
            Msg::PingSlave(m) => write!(s, "connected={}", m.connected)?,
            Msg::PongSlave(_) => {}
            Msg::ShutdownFramework(m) => write!(s, "framework {}", short_id(&m.framework_id.value))?,
            Msg::ShutdownExecutor(m) => {
                if let Some(e) = &m.executor_id {
                    write!(s, "executor {}", e.value)?;
                }
            }
            Msg::ExitedExecutor(m) => write!(s, "executor {} status={}", m.executor_id.value, m.status)?,
            Msg::Shutdown(m) => {
                if let Some(t) = &m.message {
                    write!(s, "{t:?}")?;
                }
            }
            Msg::RetrieveSparkAppConfig(m) => write!(s, "resource_profile_id={}", m.resource_profile_id)?,
            Msg::SparkAppConfig(m) => write!(s, "{} spark.* properties", m.spark_properties.len())?,
            Msg::RegisterExecutor(m) => write!(s, "executor {} on {} cores={}", m.executor_id, m.hostname, m.cores)?,
            Msg::RegisterExecutorResponse(m) => {
                if m.success {
                    s.push_str("true");
                } else {
                    write!(s, "failure: {}", m.failure)?;
                }
            }
            Msg::LaunchedExecutor(m) => write!(s, "executor {}", m.executor_id)?,
            Msg::LaunchTask(m) => match sparkrpc::TaskDescription::decode(m.data.as_slice()) {
                Ok(d) => write!(s, "task {} ({}) on executor {}", d.task_id, d.name, d.executor_id)?,
                Err(_) => write!(s, "{} bytes", m.data.len())?,
            },
            Msg::SparkKillTask(m) => write!(s, "task {} on executor {}", m.task_id, m.executor)?,
            Msg::SparkStatusUpdate(m) => {
                write!(s, "task {} {} on executor {}", m.task_id, m.state().as_str_name(), m.executor_id)?
            }
            Msg::StopExecutor(_) => {}
            Msg::SparkShutdown(m) => write!(s, "exit_code={}", m.exit_code)?,
            Msg::RemoveExecutor(m) => write!(s, "executor {}: {}", m.executor_id, m.reason)?,
            Msg::Heartbeat(m) => write!(s, "executor {}", m.executor_id)?,
            Msg::HeartbeatResponse(m) => write!(s, "reregister_block_manager={}", m.reregister_block_manager)?,
            Msg::ZkRequest(r) => zk_request_line(s, r)?,
            Msg::ZkReply(r) => zk_reply_line(s, r)?,
            Msg::ZkQuorum(p) => write!(s, "zxid={:#x} {} bytes", p.zxid, p.data.len())?,
            Msg::ZkVote(n) => write!(
                s,
                "{} sid={} votes leader={} zxid={:#x} peerEpoch={} electionEpoch={}",
                zk_codes::server_state::name(n.state),
                n.sid,
                n.leader,
                n.zxid,
                n.peer_epoch,
                n.election_epoch
            )?,
            Msg::CreateSubmissionRequest(r) => {
                write!(s, "{} {} {} spark properties", r.main_class, r.app_resource, r.spark_properties.len())?
            }
            Msg::CreateSubmissionResponse(r) => {
                rest_answer(s, r.success, r.submission_id.as_deref().unwrap_or(""), r.message.as_deref())?
            }
            Msg::KillSubmissionRequest(r) => s.push_str(&r.submission_id),
            Msg::KillSubmissionResponse(r) => rest_answer(s, r.success, &r.submission_id, r.message.as_deref())?,
            Msg::SubmissionStatusRequest(r) => s.push_str(&r.submission_id),
            Msg::SubmissionStatusResponse(r) => {
                let state = r.driver_state.as_deref().unwrap_or("");
                rest_answer(s, r.success, &format!("{} {state}", r.submission_id), r.message.as_deref())?
            }
            Msg::RestErrorResponse(r) => write!(s, "{:?}", r.message)?,
            Msg::LogPromise(m) => match m.position {
                Some(p) => write!(s, "proposal={} position={p}", m.proposal)?,
                None => write!(s, "proposal={} (implicit)", m.proposal)?,
            },
            Msg::LogPromised(m) => {
                write!(s, "{} proposal={}", m.r#type().as_str_name(), m.proposal)?;
                if let Some(p) = m.position {
                    write!(s, " position={p}")?;
                }
                if let Some(a) = &m.action {
                    write!(s, " action@{}", a.position)?;
                }
            }
            Msg::LogWrite(m) => {
                write!(s, "{} proposal={} position={}", m.r#type().as_str_name(), m.proposal, m.position)?
            }
            Msg::LogWritten(m) => {
                write!(s, "{} proposal={} position={}", m.r#type().as_str_name(), m.proposal, m.position)?
            }
            Msg::LogLearned(m) => write!(s, "position={}", m.action.position)?,
            Msg::LogRecover(_) => {}
            Msg::LogRecovered(m) => {
                write!(s, "{} begin={} end={}", m.status().as_str_name(), m.begin.unwrap_or(0), m.end.unwrap_or(0))?
            }
        }
        Ok(())
    }
}

/// A REST response's line: `success=true <what> "<message>"`.
fn rest_answer(s: &mut String, success: Option<bool>, what: &str, message: Option<&str>) -> std::fmt::Result {
    write!(s, "success={} {what}", success.unwrap_or(false))?;
    if let Some(m) = message {
        write!(s, " {m:?}")?;
    }
    Ok(())
}

/// A ZooKeeper request's kind: its jute body record's name (`CreateRequest`),
/// or `ping` / `closeSession` for the header-only requests.
fn zk_request_kind(r: &zookeeper::ClientRequest) -> &'static str {
    if r.connect.is_some() {
        return "ConnectRequest";
    }
    match r.header.as_ref().map_or(zk_codes::op::ERROR, |h| h.r#type) {
        zk_codes::op::CREATE => "CreateRequest",
        zk_codes::op::DELETE => "DeleteRequest",
        zk_codes::op::EXISTS => "ExistsRequest",
        zk_codes::op::GET_DATA => "GetDataRequest",
        zk_codes::op::GET_CHILDREN2 => "GetChildren2Request",
        other => zk_codes::op::name(other),
    }
}

/// A ZooKeeper reply's kind: its body record's name, `WatcherEvent` for a
/// notification, `ping` for a ping's answer, `ReplyHeader` for a bare one.
fn zk_reply_kind(r: &zookeeper::ServerReply) -> &'static str {
    if r.connect.is_some() {
        "ConnectResponse"
    } else if r.event.is_some() {
        "WatcherEvent"
    } else if r.create.is_some() {
        "CreateResponse"
    } else if r.get_data.is_some() {
        "GetDataResponse"
    } else if r.get_children2.is_some() {
        "GetChildren2Response"
    } else if r.exists.is_some() {
        "ExistsResponse"
    } else if r.header.as_ref().is_some_and(|h| h.xid == zk_codes::xid::PING) {
        "ping"
    } else {
        "ReplyHeader"
    }
}

fn zk_request_line(s: &mut String, r: &zookeeper::ClientRequest) -> std::fmt::Result {
    if let Some(c) = &r.connect {
        return write!(s, "session={:#x} timeout={}ms last_zxid={:#x}", c.session_id, c.time_out, c.last_zxid_seen);
    }
    if let Some(h) = &r.header {
        write!(s, "xid={}", h.xid)?;
    }
    if let Some(c) = &r.create {
        write!(s, " {} flags={} {} bytes", c.path, c.flags, c.data.len())?;
    }
    if let Some(d) = &r.delete {
        write!(s, " {}", d.path)?;
    }
    for (path, watch) in [
        r.get_data.as_ref().map(|g| (&g.path, g.watch)),
        r.get_children2.as_ref().map(|g| (&g.path, g.watch)),
        r.exists.as_ref().map(|g| (&g.path, g.watch)),
    ]
    .into_iter()
    .flatten()
    {
        write!(s, " {path}{}", if watch { " watch" } else { "" })?;
    }
    Ok(())
}

fn zk_reply_line(s: &mut String, r: &zookeeper::ServerReply) -> std::fmt::Result {
    if let Some(c) = &r.connect {
        return if c.time_out == 0 {
            write!(s, "session={:#x} expired", c.session_id)
        } else {
            write!(s, "session={:#x} timeout={}ms", c.session_id, c.time_out)
        };
    }
    if let Some(e) = &r.event {
        return write!(s, "{} {}", zk_codes::event::name(e.r#type), e.path);
    }
    if let Some(h) = &r.header {
        write!(s, "xid={} zxid={:#x} {}", h.xid, h.zxid, zk_codes::err::name(h.err))?;
    }
    if let Some(c) = &r.create {
        write!(s, " {}", c.path)?;
    }
    if let Some(c) = &r.get_children2 {
        write!(s, " [{}]", c.children.join(","))?;
    }
    if let Some(d) = &r.get_data {
        write!(s, " {} bytes", d.data.len())?;
    }
    Ok(())
}

fn status_line(s: &mut String, st: &v1::TaskStatus) -> std::fmt::Result {
    write!(s, "task {} {}", st.task_id.value, st.state().as_str_name())?;
    if st.source.is_some() {
        write!(s, " source={}", st.source().as_str_name())?;
    }
    if st.reason.is_some() {
        write!(s, " reason={}", st.reason().as_str_name())?;
    }
    if let Some(m) = &st.message {
        write!(s, " {m:?}")?;
    }
    Ok(())
}

fn ids<'a>(it: impl Iterator<Item = &'a str>) -> String {
    it.map(short_id).collect::<Vec<_>>().join(",")
}

/// Mesos ids are `<master-uuid>-O7`; the timeline shows the part after the uuid.
pub fn short_id(id: &str) -> &str {
    // A UUID is 36 characters; ids derived from it follow after a dash.
    if id.len() > 37 && id.as_bytes()[36] == b'-' { &id[37..] } else { id }
}

fn hex8(b: &[u8]) -> String {
    b.iter().take(4).map(|x| format!("{x:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every message moves through outboxes, link queues, mailboxes and inputs:
    /// an unboxed 2 KB variant made each of those moves a 2 KB copy. A new large
    /// variant must be marked `[boxed]`.
    #[test]
    fn a_message_stays_small_whatever_the_variant() {
        assert!(size_of::<Msg>() <= 128, "size_of::<Msg>() = {}", size_of::<Msg>());
    }

    /// Boxing is invisible to cores: `From` boxes, and decoding gives the same message.
    #[test]
    fn boxed_variants_build_encode_and_decode_like_the_others() {
        let call = scheduler::Call { r#type: Some(scheduler::call::Type::Decline as i32), ..Default::default() };
        let m = Msg::from(call.clone());
        assert!(matches!(&m, Msg::SchedulerCall(c) if **c == call));
        assert_eq!(Msg::decode(m.proto_name(), &m.encode()).unwrap(), m);
        let ping = Msg::from(internal::PingSlaveMessage { connected: true });
        assert_eq!(Msg::decode(ping.proto_name(), &ping.encode()).unwrap(), ping);
    }
}
