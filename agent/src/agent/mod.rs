//! The agent actor.
//!
//! [`Agent`] holds what a Mesos agent holds in memory (`src/slave/slave.cpp`):
//! its registration with the master, the frameworks that have executors here,
//! those executors with their tasks, and the status update manager. It reacts to
//! one [`Input`] at a time and answers with messages, timers, container launches
//! and timeline notes; it never reads a clock, and draws randomness only from the
//! generator its config seeds (the registration backoff).
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
//!
//! # Timers
//!
//! Timers are never cancelled. The registration and ping timers carry an epoch,
//! a status update retry carries its stream's generation, and the executor timers
//! name their executor and check its state: a timer whose moment has passed is
//! simply ignored, as Mesos ignores a `delay` whose process state has moved on.
//!
//! # Layout
//!
//! One `impl Agent` spread over files along its seams; the struct, `new`, the
//! config, the shared lookups and the dispatch of inputs live here.
//!
//! - `registration`: registering and re-registering with the master, the
//!   randomised retry backoff, pings and their timeout, losing the master, and
//!   the master's reconciliation on re-registration.
//! - `containers`: RunTask → container launch, the executor API's SUBSCRIBE, kills,
//!   framework and executor shutdowns, destruction, exits, and the executor
//!   registration and shutdown grace timers.
//! - `launch`: the containerizer's launch of a new executor's container: which
//!   containerizer, the fetcher, the image pull, then the start; launch
//!   failures as Mesos reports them.
//! - `status_updates`: the glue between the executors, the master and the
//!   [`StatusUpdateManager`]: updates in, forwards and retries out,
//!   acknowledgements back.
//! - `invariants`: [`Agent::check_invariants`].

use crate::images::{ContainerConfig, Store, StoreTotals};
use crate::status_updates::{StatusUpdateManager, StreamKey};
use mesocosm_sim::ids::uuid_from;
use mesocosm_sim::proto::mesos::v1::{
    self as v1, AgentId, AgentInfo, Attribute, ExecutorInfo, FrameworkInfo, Resource, TaskInfo, TaskState,
};
use mesocosm_sim::{Actor, ActorId, Input, Msg, Outbox, SimTime};
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::SeedableRng;
use std::collections::BTreeMap;
use std::time::Duration;

mod containers;
mod detection;
mod invariants;
mod launch;
mod registration;
mod status_updates;

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
    /// `--containerizers`, `--docker_config`, `--executor_registration_timeout`,
    /// the registry and the fetcher's links, pre-pulled images.
    pub containers: ContainerConfig,
    /// `--master=zk://…`: detect the leading master through this ZooKeeper
    /// group (then `master` is not used); `None`, `master` is the master.
    pub zk: Option<mesocosm_zookeeper::ZkConfig>,
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
    /// A container's fetch or pull is done (see `launch`).
    ContainerStep { framework: String, executor: String },
    /// The ZooKeeper detector's periodic check (`detection`).
    ZooKeeper,
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

/// `--executor_registration_timeout`'s default (`EXECUTOR_REGISTRATION_TIMEOUT`,
/// `src/slave/constants.hpp`).
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
    /// The container's launch while it fetches or pulls; `None` once the
    /// process started (or the launch ended).
    pending: Option<launch::Pending>,
}

impl Executor {
    /// Its tasks not yet in a terminal state.
    fn live_tasks(&self) -> Vec<String> {
        self.tasks.iter().filter(|(_, t)| !t.state.is_terminal()).map(|(id, _)| id.clone()).collect()
    }
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
    /// The docker layer store and the fetcher cache.
    store: Store,
    /// The master it registers with: fixed, or the leader its detector found.
    master: Option<ActorId>,
    detector: mesocosm_zookeeper::MasterDetector,
}

impl Agent {
    /// An agent that has not registered yet (with `cfg.recovered_id`, one that will
    /// re-register under its recovered id).
    pub fn new(cfg: AgentConfig) -> Agent {
        let cfg_seed = cfg.backoff_seed;
        let store = Store::new(&cfg.containers);
        let detector = mesocosm_zookeeper::MasterDetector::new(cfg.zk.as_ref());
        // With a detector, no master is known until it finds the leader.
        let master = cfg.zk.is_none().then(|| cfg.master.clone());
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
            store,
            master,
            detector,
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

    /// Bytes pulled and fetched, cache hits: what this agent's launches cost.
    pub fn store_totals(&self) -> StoreTotals {
        self.store.totals
    }

    /// Registry fault label → the pulls it changed on this agent.
    pub fn registry_fault_hits(&self) -> &BTreeMap<String, u64> {
        &self.store.registry_fault_hits
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

    /// The executor that holds this task of this framework. A task id is unique
    /// within its framework (a duplicated RunTask is ignored), so there is at most one.
    fn executor_of_task(&self, fid: &str, tid: &str) -> Option<(&(String, String), &Executor)> {
        self.executors.iter().find(|((f, _), e)| f == fid && e.tasks.contains_key(tid))
    }

    /// Whether a task of this framework was sent to one of this agent's
    /// executors, queued or launched (`Framework::hasTask`).
    fn knows_task(&self, fid: &str, tid: &str) -> bool {
        self.executor_of_task(fid, tid).is_some()
    }

    fn on_timer(&mut self, timer: Timer, out: &mut Outbox<Timer>) {
        match timer {
            Timer::Register { backoff, epoch } => self.retry_registration(backoff, epoch, out),
            Timer::RetryStatusUpdate { stream, uuid, generation } => {
                self.retry_status_update(stream, uuid, generation, out)
            }
            Timer::PingTimeout { epoch } => self.ping_timeout(epoch, out),
            Timer::ExecutorRegistration { framework, executor } => {
                self.executor_registration_timeout((framework, executor), out)
            }
            Timer::ShutdownGrace { framework, executor } => self.shutdown_grace_elapsed((framework, executor), out),
            Timer::ContainerStep { framework, executor } => self.advance_launch(&(framework, executor), out),
            Timer::ZooKeeper => self.detection_tick(out),
        }
    }

    fn on_message(&mut self, from: ActorId, msg: Msg, out: &mut Outbox<Timer>) {
        let Some((from, msg)) = self.detection_input(from, msg, out) else { return };
        match msg {
            Msg::SlaveRegistered(m) => self.on_slave_registered(&from, m, out),
            Msg::SlaveReregistered(m) => self.on_slave_reregistered(&from, m, out),
            Msg::PingSlave(m) => self.on_ping(&from, m, out),
            Msg::RunTask(m) => self.on_run_task(*m, out),
            Msg::ExecutorCall(c) => self.on_executor_call(&from, *c, out),
            Msg::StatusUpdateAck(m) => self.on_ack(m, out),
            Msg::KillTask(m) => self.on_kill_task(m, out),
            Msg::ShutdownFramework(m) => self.on_shutdown_framework(&m.framework_id.value, out),
            Msg::ShutdownExecutor(m) => self.on_shutdown_executor(m, out),
            other => out.note_with(|| format!("ignored unexpected {} from {from}", other.kind())),
        }
    }
}

/// The state of a task that never reached an executor: TASK_DROPPED for a
/// PARTITION_AWARE framework, TASK_LOST otherwise (and for a framework the agent
/// does not know). Why not always TASK_DROPPED: frameworks written before it
/// existed expect TASK_LOST (backward compatibility, `Slave::__run`,
/// `Slave::killTask`, `Slave::reregistered`).
fn lost_or_dropped(framework: Option<&FrameworkInfo>) -> TaskState {
    let partition_aware = framework.is_some_and(|f| {
        f.capabilities.iter().any(|c| c.r#type() == v1::framework_info::capability::Type::PartitionAware)
    });
    if partition_aware { TaskState::TaskDropped } else { TaskState::TaskLost }
}

impl Actor for Agent {
    type Timer = Timer;

    fn handle(&mut self, input: Input<Timer>, out: &mut Outbox<Timer>) {
        match input {
            Input::Start => self.start(out),
            Input::Message { from, msg } => self.on_message(from, msg, out),
            Input::Timer(timer) => self.on_timer(timer, out),
            Input::Exited { actor, status } => self.on_exited(&actor, status, out),
            Input::Disconnected { peer } => {
                if !self.detection_disconnected(&peer, out) {
                    self.on_disconnected(&peer, out)
                }
            }
            // The agent makes no call that is answered with a refusal.
            Input::Refused { .. } => {}
        }
    }

    /// [`Agent::check_invariants`], for the world's per-step checks.
    fn check_invariants(&self) -> Result<(), String> {
        Agent::check_invariants(self)
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod tests_containers;
