//! What runs in a container the agent launches: programs, and two of them.
//!
//! An agent that launches a task asks the world to start a container; the
//! container's process is a **program** ([`Program`]). A cluster's [`Programs`]
//! list decides which program runs each container and becomes the world's
//! launcher. A container no program runs exits 127 at once, as a shell that
//! cannot find its command does, so the agent fails its tasks
//! (TASK_FAILED, REASON_EXECUTOR_TERMINATED) and no task stays STAGING.
//!
//! Two programs come with mesocosm:
//!
//! - **Mesos's command executor** ([`MesosCommandExecutor`], program
//!   [`CommandExecutorProgram`]; `src/launcher/executor.cpp`): the default
//!   executor of every task launched with a command and no executor of its own.
//!   It runs the command in a small simulated shell ([`shell`]: `sleep`, `exit`,
//!   `true`, `false`, `&&`, `||`, `;`) and reports TASK_STARTING, TASK_RUNNING,
//!   then TASK_FINISHED or TASK_FAILED ("Command exited with status N"); KILL
//!   sends SIGTERM, then SIGKILL after the grace period.
//! - **Spark's executor** ([`SparkExecutor`], program [`SparkExecutorBackend`]):
//!   the command executor forking Spark's **CoarseGrainedExecutorBackend**,
//!   which speaks Spark's RPC to the driver. One actor plays both, so the
//!   timeline shows both conversations:
//!
//! ```text
//!  agent ◀─ SUBSCRIBE / UPDATE(STARTING, RUNNING, FINISHED) ─ command executor
//!        ─ SUBSCRIBED / LAUNCH / ACKNOWLEDGED / SHUTDOWN ──▶      │ forks
//!                                                    CoarseGrainedExecutorBackend
//!  driver ◀─ RetrieveSparkAppConfig, RegisterExecutor, LaunchedExecutor, StatusUpdate, Heartbeat
//!         ─ SparkAppConfig, RegisterExecutorResponse, LaunchTask, KillTask, StopExecutor ──▶
//! ```
//!
//! Either way the command's exit status becomes the Mesos task's terminal
//! state: 0 → TASK_FINISHED, anything else → TASK_FAILED. The command executor
//! exits once the agent has acknowledged that terminal update.
//!
//! # Spark's executor's failures
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
//! - [`program`]: the [`Program`] extension point and the [`Programs`] list.
//! - [`api`]: [`ExecutorApi`], the calls every executor sends its agent.
//! - [`mesos_command`]: Mesos's command executor.
//! - [`shell`]: the simulated `sh -c` that runs a command task's command.
//! - [`command`]: parsing the `CoarseGrainedExecutorBackend` command line Spark builds.
//! - [`SparkExecutor`]: the Spark executor actor; [`SparkExecutorBackend`], its program.

pub mod api;
pub mod command;
mod executor;
pub mod mesos_command;
pub mod program;
pub mod shell;
mod spark_backend;

pub use api::ExecutorApi;
pub use command::{BackendArgs, parse_backend_command};
pub use executor::{
    Ask, DEFAULT_ASK_TIMEOUT, ExecutorConfig, HEARTBEAT_FAILURE_EXIT_CODE, HEARTBEAT_MAX_FAILURES, SparkExecutor, Timer,
};
pub use mesos_command::{CommandExecutorConfig, CommandExecutorProgram, MesosCommandExecutor};
pub use program::{Program, Programs};
pub use spark_backend::{
    DEFAULT_HEARTBEAT_INTERVAL, DriverBook, SparkDriverAddress, SparkExecutorBackend, SparkInstalled,
    spark_class_missing,
};
