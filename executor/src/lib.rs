//! A Spark executor's container, as a sans-IO core.
//!
//! When the agent launches a Spark executor task, two programs run in the
//! container: Mesos's **command executor** (`mesos-executor`), which speaks the v1
//! executor API to the agent and forks the task's command, and the command itself,
//! Spark's **CoarseGrainedExecutorBackend**, which speaks Spark's RPC to the
//! driver. One [`SparkExecutor`] actor plays both, so the timeline shows both
//! conversations:
//!
//! ```text
//!  agent ◀─ SUBSCRIBE / UPDATE(STARTING, RUNNING, FINISHED) ─ command executor
//!        ─ SUBSCRIBED / LAUNCH / ACKNOWLEDGED / SHUTDOWN ──▶      │ forks
//!                                                    CoarseGrainedExecutorBackend
//!  driver ◀─ RetrieveSparkAppConfig, RegisterExecutor, LaunchedExecutor, StatusUpdate, Heartbeat
//!         ─ SparkAppConfig, RegisterExecutorResponse, LaunchTask, KillTask, StopExecutor ──▶
//! ```
//!
//! The backend's process exit status becomes the Mesos task's terminal state, as
//! with any command task: 0 → TASK_FINISHED, anything else → TASK_FAILED. The
//! command executor exits once the agent has acknowledged that terminal update.
//!
//! # Failures
//!
//! - **Asks time out** after `spark.rpc.askTimeout` (120 s): no SparkAppConfig or
//!   no RegisterExecutor reply and the backend exits 1 ("Cannot register with
//!   driver"), so the task is TASK_FAILED. Each heartbeat's ask times out after one
//!   heartbeat interval; 60 failures in a row and the backend exits 56
//!   (`ExecutorExitCode.HEARTBEAT_FAILURE`).
//! - **Driver gone**: `onDisconnected` → exit 1.
//! - **Driver messages before `RegisteredExecutor`** (only a faulty network
//!   makes them possible, e.g. a StopExecutor after a lost registration
//!   reply): LaunchTask or KillTask → `exitExecutor(1)`,
//!   which tells the driver `RemoveExecutor` first; StopExecutor → `Shutdown`
//!   with no `Executor` → exit 1.
//! - **Agent gone**: Spark's frameworks do not checkpoint, so the executor library
//!   shuts the executor down at once and the container exits.
//! - **Duplicates** (a faulty network can repeat a message): a second LAUNCH of the
//!   same task, a second LaunchTask of a TID, a second RegisterExecutor reply and
//!   replies after their ask timed out are ignored.
//!
//! # Layout
//! - [`command`]: parsing the `CoarseGrainedExecutorBackend` command line Spark builds.
//! - [`SparkExecutor`]: the actor.

pub mod command;
mod executor;

pub use command::{BackendArgs, parse_backend_command};
pub use executor::{
    Ask, DEFAULT_ASK_TIMEOUT, ExecutorConfig, HEARTBEAT_FAILURE_EXIT_CODE, HEARTBEAT_MAX_FAILURES, SparkExecutor, Timer,
};
