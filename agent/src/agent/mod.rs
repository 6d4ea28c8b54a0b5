//! The agent actor.
//!
//! # Connection to the master (`src/slave/slave.cpp`)
//!
//! ```text
//!            Start (+ registration delay)              SlaveRegistered / SlaveReregistered
//!  DISCONNECTED ──▶ Register / Reregister, retried ──────────────────────────────▶ RUNNING
//!       ▲            with doubling backoff ≤ 1 min                                    │
//!       └── master Disconnected · no ping for total_ping_timeout · ping(connected=false)
//! ```
//!
//! An agent that has an id (from an earlier registration, or `recovered_id` after a
//! restart) re-registers with `ReregisterSlaveMessage`, reporting its frameworks,
//! tasks and executors. While DISCONNECTED its status update manager is paused;
//! (re-)registration resumes it, resending every unacknowledged head at once.
//!
//! # Frameworks and executors
//!
//! A framework is known while it has executors; it is removed (and its update
//! streams dropped) with its last executor. An executor is REGISTERING until it
//! subscribes, then RUNNING; a shutdown makes it TERMINATING; once its container
//! exits it is TERMINATED, and kept until its tasks' terminal updates are
//! acknowledged, as Mesos keeps terminated executors for their acknowledgements.

use crate::status_updates::{Action, StatusUpdateManager, StreamKey};
use mesocosm_sim::ids::{uuid_from, uuid_string};
use mesocosm_sim::proto::Resources;
use mesocosm_sim::proto::mesos::v1::{
    self as v1, AgentId, AgentInfo, Attribute, ContainerId, ExecutorId, ExecutorInfo, FrameworkId, FrameworkInfo,
    Resource, TaskId, TaskInfo, TaskState, TaskStatus, task_status,
};
use mesocosm_sim::proto::{executor, internal};
use mesocosm_sim::{Actor, ActorId, Input, Launch, Msg, Outbox, SimTime};
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::SeedableRng;
use std::collections::BTreeMap;
use std::time::Duration;

/// How an agent is started (its command-line flags, in effect).
#[derive(Clone, Debug)]
pub struct AgentConfig {
    /// This agent's actor name, which is also its hostname.
    pub me: ActorId,
    /// The master to register with.
    pub master: ActorId,
    /// `--resources`.
    pub resources: Vec<Resource>,
    /// `--attributes`.
    pub attributes: Vec<Attribute>,
    /// `--port` (5051).
    pub port: i32,
    /// The first registration waits a random delay in [0, registration_backoff_factor]
    /// (1 s). The world draws it from the seed, since cores draw no randomness. The
    /// agent waits the same delay before re-registering after losing its master.
    pub registration_delay: Duration,
    /// The Mesos version the agent reports.
    pub version: String,
    /// The agent id a restarted agent recovers from its checkpointed meta directory
    /// (`--recover=reconnect`): it then re-registers under that id. `None` for a
    /// fresh agent.
    pub recovered_id: Option<AgentId>,
    /// Seeds the draws of the registration retry delays (Mesos draws each from
    /// `os::random()`; the world derives this from its root seed).
    pub backoff_seed: u64,
}

/// The agent's timers.
#[derive(Clone, Debug, PartialEq)]
pub enum Timer {
    /// (Re)send the registration; `backoff` is the next retry interval. Only the
    /// timer of the current registration attempt (`epoch`) acts.
    Register { backoff: Duration, epoch: u64 },
    /// Resend the head of a task's status update stream unless acknowledged (only
    /// the latest forward's timer, `generation`, acts).
    RetryStatusUpdate { stream: StreamKey, uuid: Vec<u8>, generation: u64 },
    /// An executor must have subscribed by now (`--executor_registration_timeout`, 1 min).
    ExecutorRegistration { framework: String, executor: String },
    /// No ping from the master since the ping of this `epoch`: the master is lost.
    PingTimeout { epoch: u64 },
    /// A shut-down executor must have exited by now (`--executor_shutdown_grace_period`).
    ShutdownGrace { framework: String, executor: String },
}

/// The agent's `masterPingTimeout` from `MasterSlaveConnection.total_ping_timeout_seconds`:
/// `Seconds(static_cast<int64_t>(seconds))` in `Slave::registered`, so whole
/// seconds, truncated (and saturated: a huge value is "never"). Absent, or
/// below one second (NaN and negatives too, where Mesos's cast gives 0 or is
/// undefined and the agent would re-register after every ping), it is
/// `DEFAULT_MASTER_PING_TIMEOUT`.
pub fn master_ping_timeout(seconds: Option<f64>) -> Duration {
    match seconds {
        // `as` saturates a huge double at u64::MAX seconds.
        Some(s) if s >= 1.0 => Duration::from_secs(s as u64),
        _ => DEFAULT_MASTER_PING_TIMEOUT,
    }
}

/// `--registration_backoff_factor` (1 s).
pub const REGISTRATION_BACKOFF_FACTOR: Duration = Duration::from_secs(1);

/// `--executor_registration_timeout`.
pub const EXECUTOR_REGISTRATION_TIMEOUT: Duration = Duration::from_secs(60);
/// `--executor_shutdown_grace_period`.
pub const EXECUTOR_SHUTDOWN_GRACE_PERIOD: Duration = Duration::from_secs(5);
/// `REGISTER_RETRY_INTERVAL_MAX`.
pub const REGISTER_RETRY_MAX: Duration = Duration::from_secs(60);
/// `DEFAULT_MASTER_PING_TIMEOUT`: agent_ping_timeout × max_agent_ping_timeouts (15 s × 5),
/// used when the master's registration reply does not say.
pub const DEFAULT_MASTER_PING_TIMEOUT: Duration = Duration::from_secs(75);

/// Whether the agent is registered with its master (`Slave::State`; mesocosm has
/// no RECOVERING phase, since recovery reads nothing back but the agent id).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Connection {
    Disconnected,
    Running,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ExecutorState {
    /// Launched, not subscribed yet.
    Registering,
    Running,
    /// Asked to shut down (or timed out); its container is expected to exit.
    Terminating,
    /// Its container exited; kept until its tasks' updates are acknowledged.
    Terminated,
}

#[derive(Debug)]
struct TaskRecord {
    info: TaskInfo,
    /// The latest state (from the executor, or the agent's own terminal update).
    state: TaskState,
}

#[derive(Debug)]
struct Executor {
    actor: ActorId,
    info: ExecutorInfo,
    /// The agent made this ExecutorInfo for a command task (`isGeneratedForCommandTask`).
    generated: bool,
    state: ExecutorState,
    /// Whether its SUBSCRIBE arrived (the agent can send it events).
    subscribed: bool,
    /// Tasks not yet sent to the executor (it has not subscribed yet).
    queued: Vec<TaskInfo>,
    /// Every task of this executor.
    tasks: BTreeMap<String, TaskRecord>,
}

#[derive(Debug)]
struct Framework {
    info: FrameworkInfo,
    /// ShutdownFrameworkMessage arrived: executors are being shut down.
    terminating: bool,
}

/// The Mesos agent.
pub struct Agent {
    cfg: AgentConfig,
    id: Option<AgentId>,
    connection: Connection,
    /// The current registration attempt; older Register timers are stale.
    register_epoch: u64,
    /// The latest ping (or registration); older PingTimeout timers are stale.
    ping_epoch: u64,
    /// `total_ping_timeout_seconds` from the master, else 75 s.
    master_ping_timeout: Duration,
    frameworks: BTreeMap<String, Framework>,
    /// Keyed by (framework id, executor id).
    executors: BTreeMap<(String, String), Executor>,
    updates: StatusUpdateManager,
    /// When this incarnation started: agent-made uuids differ across restarts.
    started: SimTime,
    counter: u64,
    /// Draws the registration retry delays, from `cfg.backoff_seed`.
    backoff_rng: ChaCha8Rng,
}

impl Agent {
    /// An agent that has not registered yet (with `cfg.recovered_id`, one that will
    /// re-register under its recovered id).
    pub fn new(cfg: AgentConfig) -> Agent {
        let cfg_seed = cfg.backoff_seed;
        Agent {
            id: cfg.recovered_id.clone(),
            cfg,
            connection: Connection::Disconnected,
            register_epoch: 0,
            ping_epoch: 0,
            master_ping_timeout: DEFAULT_MASTER_PING_TIMEOUT,
            frameworks: BTreeMap::new(),
            executors: BTreeMap::new(),
            updates: StatusUpdateManager::default(),
            started: SimTime::ZERO,
            counter: 0,
            backoff_rng: ChaCha8Rng::seed_from_u64(cfg_seed),
        }
    }

    /// The id the master gave this agent, once registered (or the recovered one).
    pub fn agent_id(&self) -> Option<&str> {
        self.id.as_ref().map(|a| a.value.as_str())
    }

    /// The agent id as Mesos checkpoints it in the meta directory: what a restart of
    /// this agent recovers (pass it as [`AgentConfig::recovered_id`]).
    pub fn checkpointed_id(&self) -> Option<AgentId> {
        self.id.clone()
    }

    /// Whether the agent is registered with its master right now.
    pub fn is_registered(&self) -> bool {
        self.connection == Connection::Running
    }

    /// Executors whose containers have not exited.
    pub fn executors(&self) -> usize {
        self.executors.values().filter(|e| e.state != ExecutorState::Terminated).count()
    }

    /// Status updates not yet acknowledged by their framework.
    pub fn unacknowledged_updates(&self) -> usize {
        self.updates.unacknowledged()
    }

    /// The frameworks whose status updates wait for an acknowledgement, with
    /// how many each.
    pub fn unacknowledged_by_framework(&self) -> BTreeMap<String, usize> {
        let mut by = BTreeMap::new();
        for u in self.updates.pending() {
            *by.entry(u.framework_id.value.clone()).or_insert(0) += 1;
        }
        by
    }

    fn info(&self) -> AgentInfo {
        AgentInfo {
            hostname: self.cfg.me.as_str().to_string(),
            port: Some(self.cfg.port),
            resources: self.cfg.resources.clone(),
            attributes: self.cfg.attributes.clone(),
            id: self.id.clone(),
        }
    }

    fn next_uuid(&mut self) -> Vec<u8> {
        self.counter += 1;
        uuid_from(&[
            self.cfg.me.as_str().as_bytes(),
            b"agent",
            &self.started.micros().to_le_bytes(),
            &self.counter.to_le_bytes(),
        ])
        .to_vec()
    }

    // ---- registration ----------------------------------------------------------

    /// Start a registration attempt after the registration delay (`Slave::detected`
    /// waits a random [0, registration_backoff_factor] before `doReliableRegistration`).
    fn start_registration(&mut self, out: &mut Outbox<Timer>) {
        self.register_epoch += 1;
        // `Slave::detected` calls doReliableRegistration with a maximum backoff of
        // twice registration_backoff_factor (1 s).
        out.set_timer(
            self.cfg.registration_delay,
            Timer::Register { backoff: REGISTRATION_BACKOFF_FACTOR * 2, epoch: self.register_epoch },
        );
    }

    /// `doReliableRegistration`: RegisterSlave without an id, else ReregisterSlave.
    fn register(&self, out: &mut Outbox<Timer>) {
        if self.id.is_none() {
            let msg = internal::RegisterSlaveMessage {
                slave: self.info(),
                version: Some(self.cfg.version.clone()),
                checkpointed_resources: vec![],
                agent_capabilities: vec![],
            };
            out.send(&self.cfg.master, msg);
        } else {
            out.send(&self.cfg.master, self.reregistration());
        }
    }

    /// What a re-registering agent reports: every framework, every task with its
    /// latest state, and the executors the master tracks.
    fn reregistration(&self) -> internal::ReregisterSlaveMessage {
        let agent_id = self.id.clone().unwrap_or_default();
        let mut tasks = Vec::new();
        let mut executor_infos = Vec::new();
        for ((fid, _), ex) in &self.executors {
            for (tid, t) in &ex.tasks {
                let head = self.updates.head(&(fid.clone(), tid.clone()));
                tasks.push(v1::Task {
                    name: t.info.name.clone(),
                    task_id: t.info.task_id.clone(),
                    framework_id: FrameworkId { value: fid.clone() },
                    // `protobuf::createTask` names the executor only for a task
                    // that brought its own.
                    executor_id: (!ex.generated).then(|| ex.info.executor_id.clone()),
                    agent_id: agent_id.clone(),
                    state: t.state as i32,
                    resources: t.info.resources.clone(),
                    statuses: vec![],
                    status_update_state: head.map(|u| u.status.state),
                    status_update_uuid: head.and_then(|u| u.uuid.clone()),
                });
            }
            // Command executors are not reported: the master does not store them,
            // the agent generates them (`doReliableRegistration`). Terminated ones
            // consume nothing.
            if !ex.generated && ex.state != ExecutorState::Terminated {
                executor_infos.push(ex.info.clone());
            }
        }
        internal::ReregisterSlaveMessage {
            slave: self.info(),
            checkpointed_resources: vec![],
            executor_infos,
            tasks,
            frameworks: self.frameworks.values().map(|f| f.info.clone()).collect(),
            version: Some(self.cfg.version.clone()),
            agent_capabilities: vec![],
        }
    }

    /// `registered` / `reregistered` in DISCONNECTED: RUNNING, resume updates, and
    /// arm the ping timer in case no ping ever comes.
    fn on_registered(
        &mut self,
        from: &ActorId,
        slave_id: AgentId,
        connection: Option<internal::MasterSlaveConnection>,
        reregistered: bool,
        out: &mut Outbox<Timer>,
    ) {
        if from != &self.cfg.master {
            out.note_with(|| format!("ignored registration reply from {from}: not the master"));
            return;
        }
        if reregistered && self.id.as_ref() != Some(&slave_id) {
            // "Re-registered but got wrong id … Committing suicide" (EXIT_FAILURE).
            out.note_with(|| format!("re-registered as {} but is {:?}; exiting", slave_id.value, self.agent_id()));
            out.exit(1);
            return;
        }
        self.master_ping_timeout = master_ping_timeout(connection.and_then(|c| c.total_ping_timeout_seconds));
        match self.connection {
            Connection::Running => {
                if self.id.as_ref() != Some(&slave_id) {
                    // "Registered but got wrong id … Committing suicide".
                    out.note_with(|| format!("registered as {} but is {:?}; exiting", slave_id.value, self.agent_id()));
                    out.exit(1);
                } else {
                    // A duplicate reply: "Already registered with master".
                    out.note("already registered; duplicate reply ignored");
                }
            }
            Connection::Disconnected => {
                out.note_with(|| {
                    let verb = if reregistered { "re-registered" } else { "registered" };
                    format!("{verb} with {from} as agent {}", slave_id.value)
                });
                self.id = Some(slave_id);
                self.connection = Connection::Running;
                for action in self.updates.resume() {
                    self.act(action, out);
                }
                self.arm_ping_timer(out);
            }
        }
    }

    /// `Slave::reregistered`: the master listed tasks it believes run here
    /// that this agent's ReregisterSlaveMessage did not. For each one the agent
    /// does not know, it sends a terminal update so the master forgets the
    /// task; one it does know (its RunTask crossed the message) needs nothing,
    /// as its own updates follow.
    fn reconcile(&mut self, reconciliations: &[internal::ReconcileTasksMessage], out: &mut Outbox<Timer>) {
        for reconcile in reconciliations {
            let fid = reconcile.framework_id.value.as_str();
            // Why TASK_DROPPED only for PARTITION_AWARE: frameworks written
            // before it existed expect TASK_LOST (backward compatibility).
            let partition_aware = reconcile.framework.as_ref().is_some_and(|f| {
                f.capabilities.iter().any(|c| c.r#type() == v1::framework_info::capability::Type::PartitionAware)
            });
            let state = if partition_aware { TaskState::TaskDropped } else { TaskState::TaskLost };
            for status in &reconcile.statuses {
                let tid = status.task_id.value.as_str();
                if self.knows_task(fid, tid) {
                    continue;
                }
                out.note_with(|| format!("reconciling task {tid} of framework {fid}: task unknown to the agent"));
                self.agent_update(
                    fid,
                    None,
                    tid,
                    state,
                    task_status::Reason::Reconciliation,
                    "Reconciliation: task unknown to the agent",
                    out,
                );
            }
        }
    }

    fn arm_ping_timer(&mut self, out: &mut Outbox<Timer>) {
        self.ping_epoch += 1;
        out.set_timer(self.master_ping_timeout, Timer::PingTimeout { epoch: self.ping_epoch });
    }

    /// The master is gone (socket closed, pings stopped, or it says we are
    /// disconnected): pause status updates and re-register.
    fn master_lost(&mut self, why: &str, out: &mut Outbox<Timer>) {
        if self.connection == Connection::Disconnected {
            // Already (re-)registering: that attempt's retries continue.
            return;
        }
        out.note_with(|| format!("master lost ({why}); re-registering"));
        self.connection = Connection::Disconnected;
        self.updates.pause();
        self.start_registration(out);
    }

    // ---- tasks and executors ---------------------------------------------------

    fn partition_aware(&self, fid: &str) -> bool {
        self.frameworks.get(fid).is_some_and(|f| {
            f.info.capabilities.iter().any(|c| c.r#type() == v1::framework_info::capability::Type::PartitionAware)
        })
    }

    /// TASK_DROPPED for a partition-aware framework, TASK_LOST otherwise, for a task
    /// that never reached an executor.
    fn dropped_state(&self, fid: &str) -> TaskState {
        if self.partition_aware(fid) { TaskState::TaskDropped } else { TaskState::TaskLost }
    }

    /// Whether a task of this framework was sent to one of this agent's
    /// executors, queued or launched (`Framework::hasTask`).
    fn knows_task(&self, fid: &str, tid: &str) -> bool {
        self.executors.iter().any(|((f, _), e)| f == fid && e.tasks.contains_key(tid))
    }

    fn on_run_task(&mut self, m: internal::RunTaskMessage, out: &mut Outbox<Timer>) {
        let framework = m.framework;
        let Some(fid) = framework.id.clone() else {
            out.note("RunTask without a framework id; dropped");
            return;
        };
        let task = m.task;
        if self.knows_task(&fid.value, &task.task_id.value) {
            // Only a duplicated message can repeat a task id (the master rejects
            // duplicate ids at validation); running it twice would be a second task.
            out.note_with(|| format!("duplicate RunTask for task {}; ignored", task.task_id.value));
            return;
        }
        match self.frameworks.get(&fid.value) {
            Some(f) if f.terminating => {
                // `Slave::runTask`: "Ignoring run task … because the framework is terminating".
                out.note_with(|| format!("ignored RunTask {}: framework is terminating", task.task_id.value));
                return;
            }
            Some(_) => {}
            None => {
                self.frameworks.insert(fid.value.clone(), Framework { info: framework.clone(), terminating: false });
            }
        }
        // A task with a CommandInfo runs under the agent's command executor, whose
        // ExecutorID is the task id (Mesos `Slave::getExecutorInfo`).
        let generated = task.executor.is_none();
        let info = match &task.executor {
            Some(e) => e.clone(),
            None => ExecutorInfo {
                r#type: Some(v1::executor_info::Type::Default as i32),
                executor_id: ExecutorId { value: task.task_id.value.clone() },
                framework_id: Some(fid.clone()),
                command: Some(v1::CommandInfo {
                    value: Some("/usr/libexec/mesos/mesos-executor".into()),
                    shell: Some(false),
                    arguments: vec!["mesos-executor".into()],
                    ..Default::default()
                }),
                name: Some(format!(
                    "Command Executor (Task: {}) (Command: sh -c '{}')",
                    task.task_id.value,
                    task.command.as_ref().and_then(|c| c.value.as_deref()).unwrap_or("")
                )),
                container: task.container.clone(),
                ..Default::default()
            },
        };
        let key = (fid.value.clone(), info.executor_id.value.clone());
        let record = TaskRecord { info: task.clone(), state: TaskState::TaskStaging };
        if let Some(ex) = self.executors.get_mut(&key) {
            match ex.state {
                ExecutorState::Registering | ExecutorState::Running => {
                    ex.tasks.insert(task.task_id.value.clone(), record);
                    if ex.subscribed {
                        let actor = ex.actor.clone();
                        out.send(&actor, launch_event(task));
                    } else {
                        ex.queued.push(task);
                    }
                }
                ExecutorState::Terminating | ExecutorState::Terminated => {
                    // `Slave::__run`: the task never reaches a dying executor.
                    let state = self.dropped_state(&key.0);
                    out.note_with(|| format!("task {} arrived for a dying executor {}", task.task_id.value, key.1));
                    self.agent_update(
                        &key.0,
                        None,
                        &task.task_id.value,
                        state,
                        task_status::Reason::ExecutorTerminated,
                        "Executor terminating",
                        out,
                    );
                }
            }
            return;
        }
        let actor = ActorId::new(format!("executor:{}/{}", framework.name, info.executor_id.value));
        out.note_with(|| {
            format!(
                "launch container for executor {} of {:?} (task {}) as {actor}",
                info.executor_id.value, framework.name, task.task_id.value
            )
        });
        out.launch(Launch {
            actor: actor.clone(),
            host: self.cfg.me.as_str().to_string(),
            framework: framework.clone(),
            agent: self.info(),
            task: task.clone(),
            executor: info.clone(),
        });
        // The executor must subscribe within the registration timeout or its tasks fail.
        out.set_timer(
            EXECUTOR_REGISTRATION_TIMEOUT,
            Timer::ExecutorRegistration { framework: key.0.clone(), executor: key.1.clone() },
        );
        let mut tasks = BTreeMap::new();
        tasks.insert(task.task_id.value.clone(), record);
        self.executors.insert(
            key,
            Executor {
                actor,
                info,
                generated,
                state: ExecutorState::Registering,
                subscribed: false,
                queued: vec![task],
                tasks,
            },
        );
    }

    fn executor_by_actor(&self, actor: &ActorId) -> Option<(String, String)> {
        self.executors.iter().find(|(_, e)| &e.actor == actor).map(|(k, _)| k.clone())
    }

    fn on_executor_call(&mut self, from: &ActorId, call: executor::Call, out: &mut Outbox<Timer>) {
        let key = (call.framework_id.value.clone(), call.executor_id.value.clone());
        match call.r#type() {
            executor::call::Type::Subscribe => self.on_subscribe(from, key, out),
            executor::call::Type::Update => {
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
            _ => {}
        }
    }

    fn on_subscribe(&mut self, from: &ActorId, key: (String, String), out: &mut Outbox<Timer>) {
        let agent = self.info();
        let Some(framework) = self.frameworks.get(&key.0) else {
            out.send(from, error_event("Framework is not known"));
            return;
        };
        let (framework_info, terminating) = (framework.info.clone(), framework.terminating);
        let Some(ex) = self.executors.get_mut(&key) else {
            out.send(from, error_event("Executor is not known"));
            return;
        };
        if terminating || matches!(ex.state, ExecutorState::Terminating | ExecutorState::Terminated) {
            // `Slave::subscribe`: an executor of a terminating framework, or one
            // already being shut down, is told to shut down instead.
            ex.subscribed = true;
            out.send(from, shutdown_event());
            return;
        }
        ex.subscribed = true;
        ex.state = ExecutorState::Running;
        let container = uuid_string(&uuid_from(&[
            self.cfg.me.as_str().as_bytes(),
            b"container",
            key.0.as_bytes(),
            key.1.as_bytes(),
        ]));
        out.send(
            from,
            executor::Event {
                r#type: Some(executor::event::Type::Subscribed as i32),
                subscribed: Some(executor::event::Subscribed {
                    executor_info: ex.info.clone(),
                    framework_info,
                    agent_info: agent,
                    container_id: Some(ContainerId { value: container, parent: None }),
                }),
                ..Default::default()
            },
        );
        for task in std::mem::take(&mut ex.queued) {
            out.send(from, launch_event(task));
        }
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

    fn act(&mut self, action: Action, out: &mut Outbox<Timer>) {
        let Action::Forward { update, retry_after, generation } = action;
        let stream = (update.framework_id.value.clone(), update.status.task_id.value.clone());
        let uuid = update.uuid.clone().unwrap_or_default();
        out.send(&self.cfg.master, internal::StatusUpdateMessage { update, pid: None });
        out.set_timer(retry_after, Timer::RetryStatusUpdate { stream, uuid, generation });
    }

    fn on_ack(&mut self, m: internal::StatusUpdateAcknowledgementMessage, out: &mut Outbox<Timer>) {
        let stream = (m.framework_id.value.clone(), m.task_id.value.clone());
        let (matched, next) = self.updates.acknowledge(&stream, &m.uuid);
        if matched {
            // Tell the executor its update is safe (the command executor waits for
            // this before it exits after a terminal update).
            let ex = self.executors.iter().find(|((f, _), e)| {
                f == &m.framework_id.value && e.tasks.contains_key(&m.task_id.value) && e.subscribed
            });
            if let Some((_, ex)) = ex
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
            let key = self.executors.iter().find(|((f, _), e)| f == &stream.0 && e.tasks.contains_key(&stream.1));
            if let Some((key, ex)) = key
                && ex.state == ExecutorState::Terminated
            {
                let key = key.clone();
                self.remove_executor_if_done(&key, out);
            }
        }
    }

    /// A status update the agent itself makes (source AGENT).
    #[allow(clippy::too_many_arguments)]
    fn agent_update(
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
            executor_id: eid.map(|e| ExecutorId { value: e.to_string() }),
            timestamp: Some(out.now().as_secs_f64()),
            uuid: Some(uuid),
            ..Default::default()
        };
        self.status_update(
            &FrameworkId { value: fid.to_string() },
            eid.map(|e| ExecutorId { value: e.to_string() }),
            status,
            out,
        );
    }

    /// The containerizer reaped the executor's container (`Slave::executorTerminated`).
    fn on_exited(&mut self, actor: &ActorId, status: i32, out: &mut Outbox<Timer>) {
        let Some(key) = self.executor_by_actor(actor) else { return };
        let terminating = self.frameworks.get(&key.0).is_none_or(|f| f.terminating);
        let Some(ex) = self.executors.get_mut(&key) else { return };
        ex.state = ExecutorState::Terminated;
        ex.queued.clear();
        let live: Vec<String> =
            ex.tasks.iter().filter(|(_, t)| !t.state.is_terminal()).map(|(id, _)| id.clone()).collect();
        out.note_with(|| format!("executor {} exited with status {status}", key.1));
        // Tasks the executor left non-terminal fail: the executor is gone. No updates
        // for a terminating framework: it will never acknowledge them.
        if !terminating {
            for task in live {
                self.agent_update(
                    &key.0,
                    Some(&key.1),
                    &task,
                    TaskState::TaskFailed,
                    task_status::Reason::ExecutorTerminated,
                    "Executor terminated",
                    out,
                );
            }
        }
        if let Some(id) = self.id.clone() {
            out.send(
                &self.cfg.master,
                internal::ExitedExecutorMessage {
                    slave_id: id,
                    framework_id: FrameworkId { value: key.0.clone() },
                    executor_id: ExecutorId { value: key.1.clone() },
                    status,
                },
            );
        }
        if terminating {
            self.remove_executor(&key, out);
        } else {
            self.remove_executor_if_done(&key, out);
        }
    }

    /// Remove a terminated executor whose tasks' updates are all acknowledged.
    fn remove_executor_if_done(&mut self, key: &(String, String), out: &mut Outbox<Timer>) {
        let Some(ex) = self.executors.get(key) else { return };
        let waiting = ex.tasks.keys().any(|t| self.updates.head(&(key.0.clone(), t.clone())).is_some());
        if ex.state == ExecutorState::Terminated && !waiting {
            self.remove_executor(key, out);
        }
    }

    /// `removeExecutor`, then `removeFramework` once its last executor is gone
    /// (which drops the framework's remaining update streams).
    fn remove_executor(&mut self, key: &(String, String), out: &mut Outbox<Timer>) {
        let Some(ex) = self.executors.remove(key) else { return };
        // Its tasks' streams go with it: in the usual path they are all
        // acknowledged already; for a terminating framework nobody will
        // acknowledge them (Mesos drops them with the framework, just after).
        for task in ex.tasks.keys() {
            self.updates.cleanup_stream(&(key.0.clone(), task.clone()));
        }
        if !self.executors.keys().any(|(f, _)| f == &key.0) && self.frameworks.remove(&key.0).is_some() {
            self.updates.cleanup(&key.0);
            out.note_with(|| format!("framework {} removed: no executors left", key.0));
        }
    }

    /// `_shutdownExecutor`: SHUTDOWN to the executor (dropped to the floor if it has
    /// not subscribed), and destruction if it has not exited within the grace period.
    fn shutdown_executor(&mut self, key: &(String, String), out: &mut Outbox<Timer>) {
        let Some(ex) = self.executors.get_mut(key) else { return };
        if !matches!(ex.state, ExecutorState::Registering | ExecutorState::Running) {
            return;
        }
        ex.state = ExecutorState::Terminating;
        if ex.subscribed {
            out.send(&ex.actor, shutdown_event());
        }
        out.set_timer(
            EXECUTOR_SHUTDOWN_GRACE_PERIOD,
            Timer::ShutdownGrace { framework: key.0.clone(), executor: key.1.clone() },
        );
    }

    /// `containerizer->destroy`. The world has no way for an agent to kill a
    /// process, so the agent closes the executor's API connection: the executor
    /// library of a non-checkpointing framework then shuts the executor down, and
    /// the container's exit arrives as `Exited` like any other.
    fn destroy(&mut self, key: &(String, String), why: &str, out: &mut Outbox<Timer>) {
        let Some(ex) = self.executors.get_mut(key) else { return };
        if ex.state == ExecutorState::Terminated {
            return;
        }
        ex.state = ExecutorState::Terminating;
        out.note_with(|| format!("destroying the container of executor {} ({why})", key.1));
        let actor = ex.actor.clone();
        out.disconnect(&actor);
    }

    /// `Slave::shutdownFramework`.
    fn on_shutdown_framework(&mut self, fid: &str, out: &mut Outbox<Timer>) {
        if self.connection == Connection::Disconnected {
            // "Ignoring shutdown framework message … because the agent has not yet
            // registered with the master": it reconciles on re-registration.
            out.note_with(|| format!("ignored ShutdownFramework {fid}: not registered"));
            return;
        }
        let Some(f) = self.frameworks.get_mut(fid) else { return };
        if f.terminating {
            return;
        }
        f.terminating = true;
        let keys: Vec<(String, String)> = self.executors.keys().filter(|(f, _)| f == fid).cloned().collect();
        for key in keys {
            match self.executors.get(&key).map(|e| e.state) {
                Some(ExecutorState::Registering | ExecutorState::Running) => self.shutdown_executor(&key, out),
                // A terminated executor waiting for acknowledgements that will never
                // come is removed now.
                Some(ExecutorState::Terminated) => self.remove_executor(&key, out),
                _ => {}
            }
        }
    }

    /// `Slave::killTask`.
    fn on_kill_task(&mut self, m: internal::KillTaskMessage, out: &mut Outbox<Timer>) {
        let (fid, tid) = (m.framework_id.value.clone(), m.task_id.value.clone());
        match self.frameworks.get(&fid) {
            // "Ignoring kill task … because no such framework is running".
            None => {
                out.note_with(|| format!("ignored kill of task {tid}: framework {fid} unknown"));
                return;
            }
            // "We don't send a status update here because a terminating framework
            // cannot send acknowledgements."
            Some(f) if f.terminating => return,
            Some(_) => {}
        }
        let found = self.executors.iter().find(|((f, _), e)| f == &fid && e.tasks.contains_key(&tid));
        let Some((key, ex)) = found else {
            // "Cannot kill task … because no corresponding executor is running":
            // TASK_LOST (TASK_DROPPED if partition-aware), as the task may never
            // have been launched here.
            let state = self.dropped_state(&fid);
            self.agent_update(
                &fid,
                None,
                &tid,
                state,
                task_status::Reason::ExecutorTerminated,
                "Cannot find executor",
                out,
            );
            return;
        };
        let key = key.clone();
        match ex.state {
            ExecutorState::Registering => {
                // TASK_KILLED at once, and the task leaves the queue so the executor
                // never gets it ("Unregistered executor").
                if let Some(ex) = self.executors.get_mut(&key) {
                    ex.queued.retain(|t| t.task_id.value != tid);
                }
                self.agent_update(
                    &key.0,
                    Some(&key.1),
                    &tid,
                    TaskState::TaskKilled,
                    task_status::Reason::ExecutorUnregistered,
                    "Unregistered executor",
                    out,
                );
            }
            ExecutorState::Running => {
                let actor = ex.actor.clone();
                out.send(
                    &actor,
                    executor::Event {
                        r#type: Some(executor::event::Type::Kill as i32),
                        kill: Some(executor::event::Kill { task_id: m.task_id, kill_policy: m.kill_policy }),
                        ..Default::default()
                    },
                );
            }
            // "Ignoring kill task … because the executor is terminating/terminated".
            ExecutorState::Terminating | ExecutorState::Terminated => {}
        }
    }

    /// What the master still counts as allocated on this agent: the live
    /// executors and tasks of every framework that is not terminating. A
    /// terminating framework's executors may run on for the shutdown grace
    /// period, but the master recovered their resources when it removed the
    /// framework (`Master::removeFramework` → `allocator->recoverResources`) and
    /// may already have offered them again, so they are not counted.
    fn used_resources(&self) -> Resources {
        let mut used = Resources::new();
        let terminating = |fid: &String| self.frameworks.get(fid).is_some_and(|f| f.terminating);
        let counted =
            self.executors.iter().filter(|((fid, _), e)| e.state != ExecutorState::Terminated && !terminating(fid));
        for (_, ex) in counted {
            if !ex.generated {
                used.add(&Resources::from_protos(&ex.info.resources));
            }
            for t in ex.tasks.values().filter(|t| !t.state.is_terminal()) {
                used.add(&Resources::from_protos(&t.info.resources));
            }
        }
        used
    }
}

fn launch_event(task: TaskInfo) -> executor::Event {
    executor::Event {
        r#type: Some(executor::event::Type::Launch as i32),
        launch: Some(executor::event::Launch { task }),
        ..Default::default()
    }
}

fn shutdown_event() -> executor::Event {
    executor::Event { r#type: Some(executor::event::Type::Shutdown as i32), ..Default::default() }
}

fn error_event(message: &str) -> executor::Event {
    executor::Event {
        r#type: Some(executor::event::Type::Error as i32),
        error: Some(executor::event::Error { message: message.into() }),
        ..Default::default()
    }
}

impl Actor for Agent {
    type Timer = Timer;

    fn handle(&mut self, input: Input<Timer>, out: &mut Outbox<Timer>) {
        match input {
            Input::Start => {
                self.started = out.now();
                if let Some(id) = &self.cfg.recovered_id {
                    // Spark's frameworks do not checkpoint, so nothing of theirs is
                    // recovered: only the id, under which the agent re-registers.
                    out.note_with(|| format!("recovered agent id {}; will re-register", id.value));
                }
                self.start_registration(out);
            }
            Input::Timer(Timer::Register { backoff, epoch }) => {
                if epoch == self.register_epoch && self.connection == Connection::Disconnected {
                    self.register(out);
                    // Retry until registered (`Slave::doReliableRegistration`): the
                    // maximum backoff is capped at 1 min, the wait is drawn uniformly
                    // from [0, maximum], and the next maximum doubles. The random
                    // wait keeps thousands of agents from re-registering in lockstep
                    // after a master failover.
                    let max = backoff.min(REGISTER_RETRY_MAX);
                    let fraction = mesocosm_sim::unit_interval(&mut self.backoff_rng);
                    let wait = Duration::from_micros((max.as_micros() as f64 * fraction) as u64);
                    out.set_timer(wait, Timer::Register { backoff: max * 2, epoch });
                }
            }
            Input::Timer(Timer::RetryStatusUpdate { stream, uuid, generation }) => {
                if let Some(action) = self.updates.retry(&stream, &uuid, generation) {
                    out.note_with(|| format!("no acknowledgement for task {}'s update; retrying", stream.1));
                    self.act(action, out);
                }
            }
            Input::Timer(Timer::PingTimeout { epoch }) => {
                if epoch == self.ping_epoch && self.connection == Connection::Running {
                    // `Slave::pingTimeout`: discard the master detection and re-register.
                    let secs = self.master_ping_timeout.as_secs_f64();
                    self.master_lost(&format!("no ping within {secs}s"), out);
                }
            }
            Input::Timer(Timer::ExecutorRegistration { framework, executor }) => {
                let key = (framework, executor);
                let pending: Vec<String> = match self.executors.get(&key) {
                    Some(ex) if ex.state == ExecutorState::Registering => {
                        ex.tasks.iter().filter(|(_, t)| !t.state.is_terminal()).map(|(id, _)| id.clone()).collect()
                    }
                    _ => return,
                };
                out.note_with(|| format!("executor {} did not subscribe within 1 min", key.1));
                for task in pending {
                    self.agent_update(
                        &key.0,
                        Some(&key.1),
                        &task,
                        TaskState::TaskFailed,
                        task_status::Reason::ExecutorRegistrationTimeout,
                        "Executor did not register within 1mins",
                        out,
                    );
                }
                // `registerExecutorTimeout` destroys the container.
                self.destroy(&key, "registration timeout", out);
            }
            Input::Timer(Timer::ShutdownGrace { framework, executor }) => {
                let key = (framework, executor);
                if self.executors.get(&key).is_some_and(|e| e.state == ExecutorState::Terminating) {
                    // `shutdownExecutorTimeout`: it did not exit in time.
                    self.destroy(&key, "shutdown grace period elapsed", out);
                }
            }
            Input::Message { from, msg } => match msg {
                Msg::SlaveRegistered(m) => self.on_registered(&from, m.slave_id, m.connection, false, out),
                Msg::SlaveReregistered(m) => {
                    self.on_registered(&from, m.slave_id, m.connection, true, out);
                    if from == self.cfg.master && self.connection == Connection::Running {
                        self.reconcile(&m.reconciliations, out);
                    }
                }
                Msg::PingSlave(m) => {
                    // `Slave::ping`: a master that thinks we are disconnected while we
                    // think we are registered (a one-way partition) forces
                    // re-registration; every ping re-arms the ping timer and is answered.
                    if !m.connected && self.connection == Connection::Running {
                        self.master_lost("master says the agent is disconnected", out);
                    }
                    self.arm_ping_timer(out);
                    out.send(&from, internal::PongSlaveMessage {});
                }
                Msg::RunTask(m) => self.on_run_task(m, out),
                Msg::ExecutorCall(c) => self.on_executor_call(&from, c, out),
                Msg::StatusUpdateAck(m) => self.on_ack(m, out),
                Msg::KillTask(m) => self.on_kill_task(m, out),
                Msg::ShutdownFramework(m) => self.on_shutdown_framework(&m.framework_id.value, out),
                Msg::ShutdownExecutor(m) => {
                    // `Slave::shutdownExecutor`: ignored while disconnected, and for
                    // unknown or terminating frameworks.
                    if let (Some(f), Some(e)) = (m.framework_id, m.executor_id)
                        && self.connection == Connection::Running
                        && self.frameworks.get(&f.value).is_some_and(|fw| !fw.terminating)
                    {
                        self.shutdown_executor(&(f.value, e.value), out);
                    }
                }
                other => out.note_with(|| format!("ignored unexpected {} from {from}", other.kind())),
            },
            Input::Exited { actor, status } => self.on_exited(&actor, status, out),
            // The agent makes no call that is answered with a refusal.
            Input::Refused { .. } => {}
            Input::Disconnected { peer } => {
                if peer == self.cfg.master {
                    // Mesos's `Slave::exited` only logs; the master detector
                    // (ZooKeeper) then reports the master's loss and its successor,
                    // and the agent re-registers. The closed connection stands for
                    // that detection here.
                    self.master_lost("connection closed", out);
                }
                // An executor's closed API stream changes nothing: its container's
                // exit is what the agent acts on.
            }
        }
    }

    fn check_invariants(&self) -> Result<(), String> {
        // The master never offers more than the agent has, so what the agent runs
        // for frameworks the master still counts fits in its total (command
        // executors' 0.1 cpus / 32 MB allowance is an overcommit Mesos admits and
        // the master never charges; it is not modelled). Executors of a torn-down
        // framework in their shutdown grace are outside it, as in Mesos.
        let total = Resources::from_protos(&self.cfg.resources);
        let used = self.used_resources();
        if !total.contains(&used) {
            return Err(format!("{}: tasks and executors use [{used}], more than its total [{total}]", self.cfg.me));
        }
        // Every update waiting for an acknowledgement belongs to a framework the
        // agent knows, and to a task of the executor it names; except the
        // agent's answers to the master's reconciliation, which Mesos sends for
        // tasks (and frameworks) the agent does not know (`Slave::reregistered`).
        for u in self.updates.pending() {
            let (fid, tid) = (&u.framework_id.value, &u.status.task_id.value);
            let reconciling = u.executor_id.is_none()
                && u.status.reason == Some(task_status::Reason::Reconciliation as i32)
                && u.status.source == Some(task_status::Source::Agent as i32);
            if !self.frameworks.contains_key(fid) && !reconciling {
                return Err(format!("{}: pending update of task {tid} for unknown framework {fid}", self.cfg.me));
            }
            if let Some(eid) = &u.executor_id
                && !self.executors.get(&(fid.clone(), eid.value.clone())).is_some_and(|e| e.tasks.contains_key(tid))
            {
                return Err(format!(
                    "{}: pending update of task {tid} names executor {} that does not know it",
                    self.cfg.me, eid.value
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
