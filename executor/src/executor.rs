//! The executor actor: the command executor and the Spark backend it forks.

use crate::command::BackendArgs;
use mesocosm_sim::ids::uuid_from;
use mesocosm_sim::proto::mesos::v1::{ExecutorId, FrameworkId, TaskId, TaskState, TaskStatus, task_status};
use mesocosm_sim::proto::{executor, sparkrpc};
use mesocosm_sim::{Actor, ActorId, Input, Msg, Outbox};
use prost::Message;
use std::collections::BTreeMap;
use std::time::Duration;

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
    /// `spark.executor.heartbeatInterval` (10 s).
    pub heartbeat_interval: Duration,
}

/// The executor's timers.
#[derive(Clone, Debug, PartialEq)]
pub enum Timer {
    /// A Spark task's work is done.
    TaskDone { tid: i64 },
    /// Send a heartbeat to the driver.
    Heartbeat,
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
    /// The terminal Mesos update sent, waiting for ACKNOWLEDGED.
    terminal_uuid: Option<Vec<u8>>,
    counter: u64,
}

impl SparkExecutor {
    /// A container about to start.
    pub fn new(cfg: ExecutorConfig) -> SparkExecutor {
        SparkExecutor {
            cfg,
            task: None,
            backend: Backend::NotStarted,
            running: BTreeMap::new(),
            terminal_uuid: None,
            counter: 0,
        }
    }

    fn driver(&self) -> Option<(&BackendArgs, &ActorId)> {
        self.cfg.backend.as_ref().ok().map(|(a, d)| (a, d))
    }

    /// The command executor's status update for its task (it sets the uuid).
    fn update(&mut self, state: TaskState, message: Option<String>, out: &mut Outbox<Timer>) -> Vec<u8> {
        self.counter += 1;
        let uuid = uuid_from(&[self.cfg.me.as_str().as_bytes(), b"update", &self.counter.to_le_bytes()]).to_vec();
        let Some(task) = self.task.clone() else { return uuid };
        let call = executor::Call {
            executor_id: self.cfg.executor_id.clone(),
            framework_id: self.cfg.framework_id.clone(),
            r#type: Some(executor::call::Type::Update as i32),
            update: Some(executor::call::Update {
                status: TaskStatus {
                    task_id: task,
                    state: state as i32,
                    message,
                    source: Some(task_status::Source::Executor as i32),
                    executor_id: Some(self.cfg.executor_id.clone()),
                    timestamp: Some(out.now().as_secs_f64()),
                    uuid: Some(uuid.clone()),
                    ..Default::default()
                },
            }),
            ..Default::default()
        };
        out.send(&self.cfg.agent, call);
        uuid
    }

    /// The forked backend process exits: report the task's end to the agent.
    fn backend_exited(&mut self, status: i32, out: &mut Outbox<Timer>) {
        if matches!(self.backend, Backend::Exited(_)) {
            return;
        }
        self.backend = Backend::Exited(status);
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
                self.task = Some(l.task.task_id.clone());
                // mesos-executor reports STARTING, forks the command, then RUNNING.
                self.update(TaskState::TaskStarting, None, out);
                match self.driver() {
                    Some((_, driver)) => {
                        let driver = driver.clone();
                        self.update(TaskState::TaskRunning, None, out);
                        self.backend = Backend::Fetching;
                        out.send(&driver, sparkrpc::RetrieveSparkAppConfig { resource_profile_id: 0 });
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
            }
            Msg::RegisterExecutorResponse(r) if self.backend == Backend::Registering => {
                if r.success {
                    // RegisteredExecutor: create the Executor, tell the driver.
                    self.backend = Backend::Running;
                    out.send(&driver, sparkrpc::LaunchedExecutor { executor_id: args.executor_id.clone() });
                    out.set_timer(self.cfg.heartbeat_interval, Timer::Heartbeat);
                } else {
                    out.note_with(|| format!("Cannot register with driver: {}", r.failure));
                    self.backend_exited(1, out);
                }
            }
            Msg::LaunchTask(t) if self.backend == Backend::Running => {
                match sparkrpc::TaskDescription::decode(t.data.as_slice()) {
                    Ok(d) => {
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
            Msg::SparkKillTask(k) => {
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
            Msg::StopExecutor(_) => {
                // StopExecutor → Shutdown → executor.stop(); main ends with exit(0).
                self.backend = Backend::Stopping;
                self.running.clear();
                self.backend_exited(0, out);
            }
            Msg::SparkShutdown(s) => self.backend_exited(s.exit_code, out),
            Msg::HeartbeatResponse(_) => {}
            _ => {}
        }
    }
}

impl Actor for SparkExecutor {
    type Timer = Timer;

    fn handle(&mut self, input: Input<Timer>, out: &mut Outbox<Timer>) {
        match input {
            Input::Start => out.send(
                &self.cfg.agent.clone(),
                executor::Call {
                    executor_id: self.cfg.executor_id.clone(),
                    framework_id: self.cfg.framework_id.clone(),
                    r#type: Some(executor::call::Type::Subscribe as i32),
                    subscribe: Some(executor::call::Subscribe::default()),
                    ..Default::default()
                },
            ),
            Input::Message { from, msg } => match msg {
                Msg::ExecutorEvent(ev) if from == self.cfg.agent => self.on_event(ev, out),
                other => self.on_driver_message(other, out),
            },
            Input::Timer(Timer::TaskDone { tid }) => {
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
            Input::Disconnected { peer } => {
                let is_driver = self.driver().is_some_and(|(_, d)| *d == peer);
                if is_driver && matches!(self.backend, Backend::Fetching | Backend::Registering | Backend::Running) {
                    // onDisconnected: "Driver … disassociated! Shutting down." → exit(1).
                    out.note("driver disassociated; shutting down");
                    self.backend_exited(1, out);
                }
            }
            Input::Exited { .. } => {}
        }
    }
}

#[cfg(test)]
mod tests;
