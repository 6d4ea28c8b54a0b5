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
//! Pure models, and one actor that drives them. Each model answers questions
//! or returns decisions and knows nothing of [`SparkDriver`]; the actor's own
//! folder is the only place that joins them, so every dependency points one
//! way, down this list (a module uses only modules below it, which
//! `tests/layout.rs` checks):
//!
//! - `driver/`: [`SparkDriver`] itself. `mod.rs` owns the state, dispatches
//!   each input and runs `stop()`; `mesos_events.rs` is libmesos and the
//!   Mesos events (SUBSCRIBED, OFFERS, UPDATE, ERROR…); `executor_rpc.rs` the
//!   executor RPC (`RetrieveSparkAppConfig`, `RegisterExecutor`,
//!   `LaunchedExecutor`, `StatusUpdate`, `Heartbeat`) and `makeOffers`;
//!   `dynamic_allocation.rs` feeds the allocation manager and carries out its
//!   decisions; `backend_ready.rs` is `waitBackendReady` and the starvation
//!   warning. Uses every module below.
//! - `backend`: the offer logic (`resourceOffers`, `buildMesosTasks`,
//!   `canLaunchTask`: cores, mem, executor limit, agent failures, ports,
//!   locality) and the cores/GPUs/agents bookkeeping. Uses `launch`,
//!   `constraints`, `config`.
//! - `launch`: the Mesos task that starts an executor: resources cut from the
//!   offer (cpus, mem, GPUs, the block manager port), the `spark-class …
//!   CoarseGrainedExecutorBackend` command line, the labels and the container
//!   (Mesos or Docker, images, volumes, port maps, CNI network). Uses `config`.
//! - `scheduler/`: jobs → stages → tasks on executor cores (`mod.rs` the
//!   facade, `dag.rs`, `task_set.rs`, `loss.rs`). Uses `partitions`, `config`.
//! - `partitions`: per-partition state kept as runs, so memory follows the
//!   tasks alive. Uses nothing.
//! - `allocation`: dynamic allocation's `ExecutorAllocationManager`, which
//!   moves the executor target with the task backlog and picks idle
//!   executors to kill. Uses `config`.
//! - `endpoint`: the executor table (`executorDataMap`) and
//!   `HeartbeatReceiver`'s timing. Uses `conf`, `config`.
//! - `readiness`: the `waitBackendReady` and starvation settings
//!   (`spark.scheduler.minRegisteredResourcesRatio`,
//!   `maxRegisteredResourcesWaitingTime`, `spark.starvation.timeout`). Uses
//!   `conf`, `config`.
//! - [`constraints`]: `spark.mesos.constraints` parsing and matching. Uses nothing.
//! - [`config`]: [`DriverConfig`], the typed [`SparkSettings`] (Spark 3.5
//!   defaults), the workload ([`Job`], [`Stage`]) and the executor sizing
//!   formulas ([`executor_memory_mib`], [`max_cores`]). Uses nothing.
//! - [`conf`]: Spark's conf value syntax: the `JavaUtils` lexer
//!   ([`conf::conf_number`]), the time and byte units and their suffixes,
//!   [`conf::time_string_as`] (`JavaUtils.timeStringAs`) and list keys
//!   ([`conf::string_to_seq`]). The scenario
//!   language's `SparkConf` reads sizes and times through it too. Uses nothing.
//! - `phase`: where the driver is in its life (`Created` … `Done`). Uses nothing.
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

pub mod conf;
pub mod config;
pub mod constraints;

mod allocation;
mod backend;
mod driver;
mod endpoint;
mod launch;
mod partitions;
mod phase;
mod readiness;
mod scheduler;

pub use allocation::{ALLOCATION_INTERVAL, initial_executors};
pub use backend::MAX_AGENT_FAILURES;
pub use config::{
    Containerizer, Credential, DriverConfig, DynamicAllocation, Job, SparkSettings, Stage, TaskDurations,
    executor_memory_mib, max_cores, memory_overhead_mib,
};
pub use driver::{
    DriverReport, DriverTimer, RECENT_OFFERS_REMEMBERED, REGISTRATION_BACKOFF_FACTOR, REGISTRATION_RETRY_INTERVAL_MAX,
    STOP_POLL_INTERVAL, SparkDriver, mesos_to_task_state,
};
/// Shared with Spark's MesosClusterScheduler, which builds its driver tasks the same way.
pub use launch::{build_container_info, mesos_labels, milli, partition_resources};
pub use readiness::{BACKEND_READY_POLL, STARVATION_WARNING};
