//! A Spark application's driver on Mesos, as a sans-IO actor core.
//!
//! `spark-submit --master mesos://…` starts a JVM whose `SparkContext` plays
//! two roles at once, and [`SparkDriver`] plays both:
//!
//! 1. **A Mesos framework** (`MesosCoarseGrainedSchedulerBackend`). It
//!    subscribes to the master, receives resource offers and answers each one:
//!    accept it to launch *executors* (long-lived JVMs, one Mesos task each),
//!    or decline it, sometimes asking Mesos not to offer it again for a while.
//! 2. **The executors' boss** (`CoarseGrainedSchedulerBackend`'s
//!    `DriverEndpoint` + `HeartbeatReceiver` + a small task scheduler). Each
//!    executor registers over Spark's own RPC, and the driver sends it tasks
//!    (`LaunchTask`) as its cores free up, stage after stage, job after job.
//!
//! ```text
//!               Mesos scheduler API                         Spark executor RPC
//!  master ◀── SUBSCRIBE/ACCEPT/DECLINE/ACK/REVIVE/TEARDOWN ──┐
//!  master ──── SUBSCRIBED/OFFERS/UPDATE ───────────────────▶ SparkDriver ◀── RegisterExecutor/StatusUpdate/Heartbeat ── executor:<app>/<id>
//!                                                            └── SparkAppConfig/LaunchTask/StopExecutor ──────────────▶
//! ```
//!
//! Everything it does is a reaction to one [`mesocosm_sim::Input`] at a
//! virtual time: no clock, no threads, no randomness, and only ordered maps,
//! so a run replays byte for byte. Tests drive it with
//! [`mesocosm_sim::Actor::step`] and assert on the exact messages it sends.
//!
//! Each decision is also explained on the timeline with `out.note(..)`, in
//! words a learner can follow, e.g. *"decline offer O3 on agent-2:
//! spark.cores.max=8 reached, refuse 120s so other frameworks get it
//! (SPARK-13001)"*.
//!
//! # Layout
//!
//! - [`config`]: [`DriverConfig`], the typed [`SparkSettings`] (Spark 3.5
//!   defaults), the workload ([`Job`], [`Stage`]) and the executor sizing
//!   formulas ([`executor_memory_mib`], [`max_cores`]).
//! - [`constraints`]: `spark.mesos.constraints` parsing and matching.
//! - `launch`: the Mesos task that starts an executor: resources cut from the
//!   offer (cpus, mem, GPUs, the block manager port), the `spark-class …
//!   CoarseGrainedExecutorBackend` command line, the labels and the container
//!   (Mesos or Docker, images, volumes, port maps, CNI network).
//! - `backend`: the offer logic (`resourceOffers`, `buildMesosTasks`,
//!   `canLaunchTask`: cores, mem, executor limit, agent failures, ports,
//!   locality) and the cores/GPUs/agents bookkeeping.
//! - `allocation`: dynamic allocation, a small `ExecutorAllocationManager`
//!   that moves the backend's executor limit with the task backlog and kills
//!   idle executors.
//! - `endpoint`: the executor RPC (`RetrieveSparkAppConfig`,
//!   `RegisterExecutor`, `LaunchedExecutor`, `StatusUpdate`, `Heartbeat`) and
//!   `makeOffers`.
//! - `scheduler`: jobs → stages → tasks on executor cores; `partitions`
//!   keeps its per-partition state as runs, so memory follows the tasks alive.
//! - `readiness`: `waitBackendReady` (`spark.scheduler.minRegisteredResourcesRatio`,
//!   `maxRegisteredResourcesWaitingTime`) and the starvation warning
//!   ("Initial job has not accepted any resources", `spark.starvation.timeout`).
//! - `driver`: [`SparkDriver`] itself: input dispatch, the Mesos events
//!   (SUBSCRIBED, OFFERS, UPDATE…), and `stop()`.
//!
//! # Failures
//!
//! The driver copes with failures the way Spark 3.5 on libmesos does:
//!
//! - **Master lost** (`Input::Disconnected` from the master): libmesos calls
//!   `disconnected()`, which Spark only logs. Executors keep running tasks
//!   over Spark's own RPC; libmesos drops every event and call until it has
//!   re-registered with its FrameworkID, retrying SUBSCRIBE with the v0
//!   driver's backoff ([`REGISTRATION_BACKOFF_FACTOR`] doubling up to
//!   [`REGISTRATION_RETRY_INTERVAL_MAX`]).
//! - **Event ERROR** (e.g. "Framework has been removed"): libmesos aborts and
//!   Spark's `error` aborts the running job; the driver exits 1.
//! - **Executor lost** (a terminal status update, e.g. TASK_LOST with
//!   REASON_AGENT_REMOVED after Event FAILURE, which only logs): its cores are
//!   freed, the agent gets a failure, offers are revived, and its running
//!   tasks are retried, each failed attempt counting toward
//!   `spark.task.maxFailures`; the attempt that reaches it aborts the job.
//!   The map output it held is lost with it: finished map tasks of a running
//!   stage are Resubmitted, and a finished map stage is recomputed (a new
//!   stage attempt) before the stages that read it go on.
//! - **Executor silent** (no heartbeat for longer than `spark.network.timeout`,
//!   checked every 60 s): the driver KILLs its Mesos task, tells it
//!   `StopExecutor` and removes it as above.
//! - **Duplicated messages** (which only a fault script makes): an offer,
//!   a terminal status, a `LaunchedExecutor` counts once.
//! - **An exception inside `resourceOffers`** (a malformed
//!   `spark.mesos.task.labels`, a non-numeric Docker port map): the Java
//!   bindings of libmesos catch it and abort the scheduler driver; Spark does
//!   not notice, so the app keeps its executors (none, usually) and waits for
//!   offers that never come.
//!
//! # What is left out (for now)
//!
//! Secrets (`spark.mesos.*.secret.*` volumes and environment variables),
//! the `SPARK_MESOS_*` environment (credentials come from the conf and the
//! submitting host's files), locality hints from
//! the workload (tasks have no preferred hosts), task
//! reconciliation (Spark never reconciles), and the scheduler's 1 s periodic
//! revive (every event that frees cores or adds tasks already offers them, so
//! the periodic pass would find nothing).

pub mod config;
pub mod constraints;

mod allocation;
mod backend;
mod driver;
mod endpoint;
mod launch;
mod partitions;
mod readiness;
mod scheduler;

pub use allocation::{ALLOCATION_INTERVAL, initial_executors};
pub use backend::MAX_AGENT_FAILURES;
pub use config::{
    Containerizer, Credential, DriverConfig, DynamicAllocation, Job, SparkSettings, Stage, TaskDurations,
    executor_memory_mib, max_cores, memory_overhead_mib,
};
pub use driver::{
    RECENT_OFFERS_REMEMBERED, REGISTRATION_BACKOFF_FACTOR, REGISTRATION_RETRY_INTERVAL_MAX, STOP_POLL_INTERVAL,
    SparkDriver, mesos_to_task_state,
};
pub use readiness::{BACKEND_READY_POLL, STARVATION_WARNING};

use mesocosm_sim::SimTime;

/// The driver's timers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DriverTimer {
    /// `stop()` re-checks whether every executor has ended (every 100 ms,
    /// until `spark.mesos.coarse.shutdownTimeout`).
    StopPoll,
    /// libmesos's `doReliableRegistration`: SUBSCRIBE again unless SUBSCRIBED
    /// arrived. `round` counts registrations, so a timer from an earlier round
    /// (timers are never cancelled) is ignored.
    ReliableRegistration { round: u32 },
    /// Dynamic allocation's `ExecutorAllocationManager.schedule()`, which
    /// Spark runs every 100 ms; the driver asks only for the ticks where
    /// something is due (see [`ALLOCATION_INTERVAL`]).
    AllocationSchedule,
    /// `waitBackendReady` asks `isReady()` again (every 100 ms until the
    /// registered cores reach `spark.scheduler.minRegisteredResourcesRatio`).
    BackendReadyPoll,
    /// `TaskSchedulerImpl`'s starvation timer (every `spark.starvation.timeout`
    /// after the first task set, until a task launched).
    Starvation,
    /// `HeartbeatReceiver`'s `ExpireDeadHosts`, every
    /// `spark.network.timeoutInterval` (60 s) from the start: expire the
    /// executors silent longer than the heartbeat timeout.
    ExpireDeadHosts,
}

/// What a driver did, for scenario expectations and the report.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DriverReport {
    /// Every job finished and the driver exited 0.
    pub finished: bool,
    /// Why the application failed, if it did (the driver then exits 1).
    pub failed: Option<String>,
    /// The framework id the master gave (SUBSCRIBED), the Spark app id.
    pub framework_id: Option<String>,
    /// Failed Spark task attempts that counted toward `spark.task.maxFailures`.
    pub task_failures: u64,
    /// Spark task attempts that finished (a map partition recomputed after
    /// its output was lost counts again).
    pub tasks_finished: u64,
    /// Executors (Mesos tasks) launched through ACCEPT.
    pub executors_launched: u64,
    /// Offers received in OFFERS events.
    pub offers_received: u64,
    /// What the task scheduler holds for tasks and partitions right now
    /// (running tasks, runs of pending and finished partitions, retried
    /// tasks, map-output slots): small even for a stage of
    /// millions of tasks.
    pub task_state_entries: usize,
    /// Offers answered with ACCEPT.
    pub offers_accepted: u64,
    /// Offers answered with DECLINE.
    pub offers_declined: u64,
    /// The last "Initial job has not accepted any resources" warning, with
    /// why the app could not be placed; cleared once a task launched.
    pub starved: Option<String>,
    /// How many times the starvation warning was given.
    pub starvation_warnings: u32,
    /// When the driver process started.
    pub started_at: Option<SimTime>,
    /// When it exited (successfully or not).
    pub finished_at: Option<SimTime>,
}
