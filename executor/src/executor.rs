//! The executor actor: the command executor and the Spark backend it forks.

use crate::api::ExecutorApi;
use crate::command::BackendArgs;
use mesocosm_sim::proto::mesos::v1::{ExecutorId, FrameworkId, TaskId, TaskState};
use mesocosm_sim::proto::{executor, sparkrpc};
use mesocosm_sim::{Actor, ActorId, Input, Msg, Outbox};
use prost::Message;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// `spark.rpc.askTimeout`, which falls back to `spark.network.timeout` (120 s).
pub const DEFAULT_ASK_TIMEOUT: Duration = Duration::from_secs(120);
/// `spark.executor.heartbeat.maxFailures` (internal, 60): consecutive heartbeats
/// without a reply before the executor gives up on its driver.
pub const HEARTBEAT_MAX_FAILURES: u32 = 60;
/// `ExecutorExitCode.HEARTBEAT_FAILURE`.
pub const HEARTBEAT_FAILURE_EXIT_CODE: i32 = 56;

/// How the container was launched.
#[derive(Clone, Debug)]
pub struct ExecutorConfig {
    /// This actor.
    pub me: ActorId,
    /// The agent that launched the container (its executor API endpoint).
    pub agent: ActorId,
    pub executor_id: ExecutorId,
    pub framework_id: FrameworkId,
    /// The backend's arguments and its driver's actor, or why the command cannot
    /// run here (then it exits 1, as a failing command does).
    pub backend: Result<(BackendArgs, ActorId), String>,
    /// `spark.executor.heartbeatInterval` (10 s). Also the timeout of each
    /// heartbeat ask (`Executor.reportHeartBeat` asks with this interval).
    pub heartbeat_interval: Duration,
    /// `spark.rpc.askTimeout` ([`DEFAULT_ASK_TIMEOUT`]): how long the backend waits
    /// for the driver's reply to RetrieveSparkAppConfig and RegisterExecutor.
    pub ask_timeout: Duration,
}

/// The executor's timers.
#[derive(Clone, Debug, PartialEq)]
pub enum Timer {
    /// A Spark task's work is done.
    TaskDone { tid: i64 },
    /// Send a heartbeat to the driver (and count the previous one as failed if it
    /// is still unanswered: its ask timed out after one interval).
    Heartbeat,
    /// The ask's reply is due by now (`spark.rpc.askTimeout`).
    AskTimeout(Ask),
}

/// The backend's asks that have a timeout of their own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ask {
    RetrieveSparkAppConfig,
    RegisterExecutor,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backend {
    /// Not forked yet (waiting for LAUNCH).
    NotStarted,
    Fetching,
    Registering,
    Running,
    Stopping,
    /// The backend process exited with this status.
    Exited(i32),
}

/// A Spark executor container.
pub struct SparkExecutor {
    cfg: ExecutorConfig,
    /// The Mesos task the command executor runs (the executor's own task).
    task: Option<TaskId>,
    backend: Backend,
    /// Spark tasks running: TID → cpus.
    running: BTreeMap<i64, i32>,
    /// Every Spark TID this executor was ever given (TIDs are unique per app).
    launched: BTreeSet<i64>,
    /// A heartbeat was sent and its reply has not come.
    heartbeat_outstanding: bool,
    /// Consecutive heartbeats that got no reply.
    heartbeat_failures: u32,
    /// The terminal Mesos update sent, waiting for ACKNOWLEDGED.
    terminal_uuid: Option<Vec<u8>>,
    /// The command executor's calls to the agent.
    api: ExecutorApi,
}

impl SparkExecutor {
    /// A container about to start.
    pub fn new(cfg: ExecutorConfig) -> SparkExecutor {
        let api =
            ExecutorApi::new(cfg.me.clone(), cfg.agent.clone(), cfg.executor_id.clone(), cfg.framework_id.clone());
        SparkExecutor {
            cfg,
            task: None,
            backend: Backend::NotStarted,
            running: BTreeMap::new(),
            launched: BTreeSet::new(),
            heartbeat_outstanding: false,
            heartbeat_failures: 0,
            terminal_uuid: None,
            api,
        }
    }

    fn driver(&self) -> Option<(&BackendArgs, &ActorId)> {
        self.cfg.backend.as_ref().ok().map(|(a, d)| (a, d))
    }

    /// The command executor's status update for its task (it sets the uuid).
    fn update(&mut self, state: TaskState, message: Option<String>, out: &mut Outbox<Timer>) -> Vec<u8> {
        match self.task.clone() {
            Some(task) => self.update_for(task, state, message, out),
            None => Vec::new(),
        }
    }

    /// A status update for `task` (normally the executor's own task).
    fn update_for(
        &mut self,
        task: TaskId,
        state: TaskState,
        message: Option<String>,
        out: &mut Outbox<Timer>,
    ) -> Vec<u8> {
        self.api.update(task, state, message, out)
    }

    /// The forked backend process exits: report the task's end to the agent.
    fn backend_exited(&mut self, status: i32, out: &mut Outbox<Timer>) {
        if matches!(self.backend, Backend::Exited(_)) {
            return;
        }
        self.backend = Backend::Exited(status);
        // The process is gone, and the tasks it ran with it.
        self.running.clear();
        let (state, text) = if status == 0 {
            (TaskState::TaskFinished, "Command exited with status 0".to_string())
        } else {
            (TaskState::TaskFailed, format!("Command exited with status {status}"))
        };
        let uuid = self.update(state, Some(text), out);
        self.terminal_uuid = Some(uuid);
    }

    fn on_event(&mut self, ev: executor::Event, out: &mut Outbox<Timer>) {
        match ev.r#type() {
            executor::event::Type::Launch => {
                let Some(l) = ev.launch else { return };
                match &self.task {
                    // A duplicated LAUNCH: the command is already running.
                    Some(t) if *t == l.task.task_id => {
                        out.note_with(|| format!("duplicate LAUNCH of task {}; ignored", t.value));
                        return;
                    }
                    // `CommandExecutor::launch`: one task per command executor.
                    Some(_) => {
                        let msg = "Attempted to run multiple tasks using a \"command\" executor".to_string();
                        self.update_for(l.task.task_id, TaskState::TaskFailed, Some(msg), out);
                        return;
                    }
                    None => {}
                }
                self.task = Some(l.task.task_id.clone());
                // mesos-executor reports STARTING, forks the command, then RUNNING.
                self.update(TaskState::TaskStarting, None, out);
                match self.driver() {
                    Some((_, driver)) => {
                        let driver = driver.clone();
                        self.update(TaskState::TaskRunning, None, out);
                        self.backend = Backend::Fetching;
                        out.send(&driver, sparkrpc::RetrieveSparkAppConfig { resource_profile_id: 0 });
                        out.set_timer(self.cfg.ask_timeout, Timer::AskTimeout(Ask::RetrieveSparkAppConfig));
                    }
                    None => {
                        let why = self.cfg.backend.as_ref().err().cloned().unwrap_or_default();
                        self.update(TaskState::TaskRunning, None, out);
                        out.note_with(|| format!("CoarseGrainedExecutorBackend cannot start: {why}"));
                        self.backend_exited(1, out);
                    }
                }
            }
            executor::event::Type::Acknowledged => {
                let Some(a) = ev.acknowledged else { return };
                if self.terminal_uuid.as_deref() == Some(a.uuid.as_slice()) {
                    // The terminal update is safe with the agent: the command executor exits.
                    out.exit(0);
                }
            }
            executor::event::Type::Kill | executor::event::Type::Shutdown => {
                // The command executor kills the forked process; the task ends KILLED.
                if !matches!(self.backend, Backend::Exited(_)) {
                    self.backend = Backend::Exited(137);
                    let uuid =
                        self.update(TaskState::TaskKilled, Some("Command terminated with signal Killed".into()), out);
                    self.terminal_uuid = Some(uuid);
                }
                if ev.r#type() == executor::event::Type::Shutdown {
                    out.exit(0);
                }
            }
            _ => {}
        }
    }

    fn on_driver_message(&mut self, msg: Msg, out: &mut Outbox<Timer>) {
        let Some((args, driver)) = self.driver().map(|(a, d)| (a.clone(), d.clone())) else { return };
        match msg {
            Msg::SparkAppConfig(_) if self.backend == Backend::Fetching => {
                self.backend = Backend::Registering;
                let host = args.hostname.clone().unwrap_or_default();
                out.send(
                    &driver,
                    sparkrpc::RegisterExecutor {
                        executor_id: args.executor_id.clone(),
                        executor_ref: format!("spark://Executor@{host}:35000"),
                        hostname: host,
                        cores: args.cores as i32,
                        resource_profile_id: 0,
                        ..Default::default()
                    },
                );
                out.set_timer(self.cfg.ask_timeout, Timer::AskTimeout(Ask::RegisterExecutor));
            }
            Msg::RegisterExecutorResponse(r) if self.backend == Backend::Registering => {
                if r.success {
                    // RegisteredExecutor: create the Executor, tell the driver.
                    self.backend = Backend::Running;
                    out.send(&driver, sparkrpc::LaunchedExecutor { executor_id: args.executor_id.clone() });
                    // Why one interval: Spark's `Heartbeater` first waits the
                    // interval plus a random fraction of it, to spread the
                    // executors' heartbeats; cores draw no randomness.
                    out.set_timer(self.cfg.heartbeat_interval, Timer::Heartbeat);
                } else {
                    // The ask failed: `exitExecutor(1, "Cannot register with
                    // driver: <url>", notifyDriver = false)`.
                    out.note_with(|| format!("Cannot register with driver: {} ({})", args.driver_url, r.failure));
                    self.backend_exited(1, out);
                }
            }
            Msg::LaunchTask(t) if self.backend == Backend::Running => {
                match sparkrpc::TaskDescription::decode(t.data.as_slice()) {
                    Ok(d) if self.launched.contains(&d.task_id) => {
                        // Spark's RPC never delivers twice, so `Executor.launchTask`
                        // has no guard; a duplicated message must not run TID twice.
                        out.note_with(|| format!("duplicate LaunchTask for TID {}; ignored", d.task_id));
                    }
                    Ok(d) => {
                        self.launched.insert(d.task_id);
                        self.running.insert(d.task_id, d.cpus);
                        out.send(
                            &driver,
                            sparkrpc::StatusUpdate {
                                executor_id: args.executor_id.clone(),
                                task_id: d.task_id,
                                state: sparkrpc::TaskState::Running as i32,
                                data: vec![],
                                task_cpus: d.cpus,
                            },
                        );
                        out.set_timer(Duration::from_micros(d.run_micros), Timer::TaskDone { tid: d.task_id });
                    }
                    // Spark exits the executor when it cannot decode a task.
                    Err(_) => self.backend_exited(1, out),
                }
            }
            // `RegisteredExecutor` has not arrived, so there is no `Executor`:
            // `exitExecutor(1, …)`, which tells the driver `RemoveExecutor` first.
            Msg::LaunchTask(_) | Msg::SparkKillTask(_) if self.backend == Backend::Registering => {
                let what = if matches!(msg, Msg::LaunchTask(_)) { "LaunchTask" } else { "KillTask" };
                let reason = format!("Received {what} command but executor was null");
                out.note(reason.clone());
                out.send(&driver, sparkrpc::RemoveExecutor { executor_id: args.executor_id.clone(), reason });
                self.backend_exited(1, out);
            }
            // `StopExecutor` → `Shutdown`, which with no `Executor` yet is `System.exit(1)`.
            Msg::StopExecutor(_) if self.backend == Backend::Registering => {
                out.note("StopExecutor before RegisteredExecutor: no Executor to stop, exit 1");
                self.backend_exited(1, out);
            }
            Msg::SparkKillTask(k) if self.backend == Backend::Running => {
                if let Some(cpus) = self.running.remove(&k.task_id) {
                    out.send(
                        &driver,
                        sparkrpc::StatusUpdate {
                            executor_id: args.executor_id.clone(),
                            task_id: k.task_id,
                            state: sparkrpc::TaskState::Killed as i32,
                            data: vec![],
                            task_cpus: cpus,
                        },
                    );
                }
            }
            Msg::StopExecutor(_) if self.backend == Backend::Running => {
                // StopExecutor → Shutdown → executor.stop(); main ends with exit(0).
                self.backend = Backend::Stopping;
                self.running.clear();
                self.backend_exited(0, out);
            }
            Msg::SparkShutdown(s) => self.backend_exited(s.exit_code, out),
            // The reply to the heartbeat in flight resets the failure count. One with
            // no heartbeat in flight (a duplicate, or a reply after its ask timed
            // out) is dropped, as Spark drops replies to finished asks. Replies carry
            // no request id here, so a late reply that lands while the next
            // heartbeat is in flight is credited to that one.
            Msg::HeartbeatResponse(r) if self.heartbeat_outstanding => {
                self.heartbeat_outstanding = false;
                self.heartbeat_failures = 0;
                if r.reregister_block_manager {
                    // `env.blockManager.reregister()`: the driver does not know
                    // this executor (any more); mesocosm models no block manager.
                    out.note("the driver asks this executor to re-register its BlockManager (not modelled)");
                }
            }
            _ => {}
        }
    }
}

impl Actor for SparkExecutor {
    type Timer = Timer;

    fn handle(&mut self, input: Input<Timer>, out: &mut Outbox<Timer>) {
        match input {
            Input::Start => self.api.subscribe(out),
            Input::Message { from, msg } => match msg {
                Msg::ExecutorEvent(ev) if from == self.cfg.agent => self.on_event(*ev, out),
                other => self.on_driver_message(other, out),
            },
            Input::Timer(Timer::TaskDone { tid }) => {
                // A task of a backend that has exited does not finish.
                let Some(cpus) = self.running.remove(&tid) else { return };
                if let Some((args, driver)) = self.driver() {
                    let (id, driver) = (args.executor_id.clone(), driver.clone());
                    out.send(
                        &driver,
                        sparkrpc::StatusUpdate {
                            executor_id: id,
                            task_id: tid,
                            state: sparkrpc::TaskState::Finished as i32,
                            data: vec![],
                            task_cpus: cpus,
                        },
                    );
                }
            }
            Input::Timer(Timer::Heartbeat) => {
                if self.backend == Backend::Running {
                    if self.heartbeat_outstanding {
                        // `reportHeartBeat`: the ask timed out; after maxFailures in a
                        // row, `System.exit(ExecutorExitCode.HEARTBEAT_FAILURE)`.
                        self.heartbeat_failures += 1;
                        if self.heartbeat_failures >= HEARTBEAT_MAX_FAILURES {
                            out.note_with(|| {
                                format!("Exit as unable to send heartbeats to driver more than {HEARTBEAT_MAX_FAILURES} times")
                            });
                            self.backend_exited(HEARTBEAT_FAILURE_EXIT_CODE, out);
                            return;
                        }
                    }
                    self.heartbeat_outstanding = true;
                    if let Some((args, driver)) = self.driver() {
                        let (id, host, driver) =
                            (args.executor_id.clone(), args.hostname.clone().unwrap_or_default(), driver.clone());
                        out.send(
                            &driver,
                            sparkrpc::Heartbeat {
                                executor_id: id.clone(),
                                block_manager_id: Some(sparkrpc::BlockManagerId { executor_id: id, host, port: 35001 }),
                            },
                        );
                    }
                    out.set_timer(self.cfg.heartbeat_interval, Timer::Heartbeat);
                }
            }
            Input::Timer(Timer::AskTimeout(ask)) => {
                let waiting = match ask {
                    Ask::RetrieveSparkAppConfig => self.backend == Backend::Fetching,
                    Ask::RegisterExecutor => self.backend == Backend::Registering,
                };
                if waiting {
                    // RetrieveSparkAppConfig: `askSync` throws in `run`, and the JVM
                    // exits 1 on the uncaught exception. RegisterExecutor: the failed
                    // ask → `exitExecutor(1, "Cannot register with driver")`.
                    out.note_with(|| format!("{ask:?} got no reply within {:?}", self.cfg.ask_timeout));
                    self.backend_exited(1, out);
                }
            }
            Input::Disconnected { peer } if peer == self.cfg.agent => {
                // The v1 executor library of a framework that does not checkpoint
                // cannot wait for the agent to come back: it injects SHUTDOWN, the
                // command executor kills the backend (`Backend::Exited(137)`) and
                // exits as after any SHUTDOWN. Its TASK_KILLED has no connection to
                // go on; the agent, if alive, fails the task when the container
                // exits. (Checkpointing frameworks would retry for
                // MESOS_RECOVERY_TIMEOUT, 15 min; Spark's frameworks never checkpoint.)
                out.note("agent disconnected; the framework does not checkpoint, so the executor shuts down");
                if !matches!(self.backend, Backend::Exited(_)) {
                    self.backend = Backend::Exited(137);
                    self.running.clear();
                }
                out.exit(0);
            }
            Input::Disconnected { peer } => {
                let is_driver = self.driver().is_some_and(|(_, d)| *d == peer);
                if is_driver && matches!(self.backend, Backend::Fetching | Backend::Registering | Backend::Running) {
                    // onDisconnected: "Driver … disassociated! Shutting down." → exit(1).
                    out.note("driver disassociated; shutting down");
                    self.backend_exited(1, out);
                }
            }
            // The executor makes no call that is answered with a refusal.
            Input::Exited { .. } | Input::Refused { .. } => {}
        }
    }
}

#[cfg(test)]
mod tests;
