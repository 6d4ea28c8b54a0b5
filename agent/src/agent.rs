//! The agent actor.

use crate::status_updates::{Action, StatusUpdateManager, StreamKey};
use mesocosm_sim::ids::{uuid_from, uuid_string};
use mesocosm_sim::proto::mesos::v1::{
    self as v1, AgentId, AgentInfo, Attribute, ContainerId, ExecutorId, ExecutorInfo, FrameworkId, FrameworkInfo,
    Resource, TaskId, TaskInfo, TaskState, TaskStatus, task_status,
};
use mesocosm_sim::proto::{executor, internal};
use mesocosm_sim::{Actor, ActorId, Input, Launch, Msg, Outbox};
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
    /// (1 s). The world draws it from the seed, since cores draw no randomness.
    pub registration_delay: Duration,
    /// The Mesos version the agent reports.
    pub version: String,
}

/// The agent's timers.
#[derive(Clone, Debug, PartialEq)]
pub enum Timer {
    /// (Re)send the registration; `backoff` is the next retry interval.
    Register { backoff: Duration },
    /// Resend the head of a task's status update stream unless acknowledged.
    RetryStatusUpdate { stream: StreamKey, uuid: Vec<u8> },
    /// An executor must have subscribed by now (`--executor_registration_timeout`, 1 min).
    ExecutorRegistration { framework: String, executor: String },
}

/// `--executor_registration_timeout`.
pub const EXECUTOR_REGISTRATION_TIMEOUT: Duration = Duration::from_secs(60);
/// `REGISTER_RETRY_INTERVAL_MAX`.
pub const REGISTER_RETRY_MAX: Duration = Duration::from_secs(60);

#[derive(Debug)]
struct Executor {
    actor: ActorId,
    info: ExecutorInfo,
    subscribed: bool,
    /// Tasks not yet sent to the executor (it has not subscribed yet).
    queued: Vec<TaskInfo>,
    /// Every task of this executor and its latest state.
    tasks: BTreeMap<String, TaskState>,
}

/// The Mesos agent.
pub struct Agent {
    cfg: AgentConfig,
    id: Option<AgentId>,
    frameworks: BTreeMap<String, FrameworkInfo>,
    /// Keyed by (framework id, executor id).
    executors: BTreeMap<(String, String), Executor>,
    updates: StatusUpdateManager,
    counter: u64,
}

impl Agent {
    /// An agent that has not registered yet.
    pub fn new(cfg: AgentConfig) -> Agent {
        Agent {
            cfg,
            id: None,
            frameworks: BTreeMap::new(),
            executors: BTreeMap::new(),
            updates: StatusUpdateManager::default(),
            counter: 0,
        }
    }

    /// The id the master gave this agent, once registered.
    pub fn agent_id(&self) -> Option<&str> {
        self.id.as_ref().map(|a| a.value.as_str())
    }

    /// Executors currently running on this agent.
    pub fn executors(&self) -> usize {
        self.executors.len()
    }

    /// Status updates not yet acknowledged by their framework.
    pub fn unacknowledged_updates(&self) -> usize {
        self.updates.unacknowledged()
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
        uuid_from(&[self.cfg.me.as_str().as_bytes(), b"agent", &self.counter.to_le_bytes()]).to_vec()
    }

    fn register(&self, out: &mut Outbox<Timer>) {
        let msg = internal::RegisterSlaveMessage {
            slave: self.info(),
            version: Some(self.cfg.version.clone()),
            checkpointed_resources: vec![],
            agent_capabilities: vec![],
        };
        out.send(&self.cfg.master, msg);
    }

    fn on_run_task(&mut self, m: internal::RunTaskMessage, out: &mut Outbox<Timer>) {
        let framework = m.framework;
        let Some(fid) = framework.id.clone() else {
            out.note("RunTask without a framework id; dropped");
            return;
        };
        let task = m.task;
        self.frameworks.insert(fid.value.clone(), framework.clone());
        // A task with a CommandInfo runs under the agent's command executor, whose
        // ExecutorID is the task id (Mesos `Slave::getExecutorInfo`).
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
        if let Some(ex) = self.executors.get_mut(&key) {
            ex.tasks.insert(task.task_id.value.clone(), TaskState::TaskStaging);
            if ex.subscribed {
                let actor = ex.actor.clone();
                out.send(&actor, launch_event(task));
            } else {
                ex.queued.push(task);
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
        tasks.insert(task.task_id.value.clone(), TaskState::TaskStaging);
        self.executors.insert(key, Executor { actor, info, subscribed: false, queued: vec![task], tasks });
    }

    fn executor_by_actor(&self, actor: &ActorId) -> Option<(String, String)> {
        self.executors.iter().find(|(_, e)| &e.actor == actor).map(|(k, _)| k.clone())
    }

    fn on_executor_call(&mut self, from: &ActorId, call: executor::Call, out: &mut Outbox<Timer>) {
        let key = (call.framework_id.value.clone(), call.executor_id.value.clone());
        match call.r#type() {
            executor::call::Type::Subscribe => {
                let agent = self.info();
                let Some(framework) = self.frameworks.get(&key.0).cloned() else { return };
                let Some(ex) = self.executors.get_mut(&key) else {
                    out.send(
                        from,
                        executor::Event {
                            r#type: Some(executor::event::Type::Error as i32),
                            error: Some(executor::event::Error { message: "Executor is not known".into() }),
                            ..Default::default()
                        },
                    );
                    return;
                };
                ex.subscribed = true;
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
                            framework_info: framework,
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
            executor::call::Type::Update => {
                let Some(update) = call.update else { return };
                let mut status = update.status;
                status.agent_id = self.id.clone();
                status.executor_id = Some(call.executor_id.clone());
                if let Some(ex) = self.executors.get_mut(&key) {
                    ex.tasks.insert(status.task_id.value.clone(), status.state());
                }
                self.status_update(&call.framework_id, Some(call.executor_id), status, out);
            }
            _ => {}
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
        let Action::Forward { update, retry_after } = action;
        let stream = (update.framework_id.value.clone(), update.status.task_id.value.clone());
        let uuid = update.uuid.clone().unwrap_or_default();
        out.send(&self.cfg.master, internal::StatusUpdateMessage { update, pid: None });
        out.set_timer(retry_after, Timer::RetryStatusUpdate { stream, uuid });
    }

    fn on_ack(&mut self, m: internal::StatusUpdateAcknowledgementMessage, out: &mut Outbox<Timer>) {
        let stream = (m.framework_id.value.clone(), m.task_id.value.clone());
        let (matched, next) = self.updates.acknowledge(&stream, &m.uuid);
        if matched {
            // Tell the executor its update is safe (the command executor waits for
            // this before it exits after a terminal update).
            let ex = self.executors.values().find(|e| e.tasks.contains_key(&m.task_id.value) && e.subscribed);
            if let Some(ex) = ex {
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
    }

    /// The agent's own terminal update for a task (source AGENT).
    fn fail_task(
        &mut self,
        fid: &str,
        eid: &str,
        task: &str,
        reason: task_status::Reason,
        message: &str,
        out: &mut Outbox<Timer>,
    ) {
        let uuid = self.next_uuid();
        let status = TaskStatus {
            task_id: TaskId { value: task.to_string() },
            state: TaskState::TaskFailed as i32,
            message: Some(message.to_string()),
            source: Some(task_status::Source::Agent as i32),
            reason: Some(reason as i32),
            agent_id: self.id.clone(),
            executor_id: Some(ExecutorId { value: eid.to_string() }),
            timestamp: Some(out.now().as_secs_f64()),
            uuid: Some(uuid),
            ..Default::default()
        };
        self.status_update(
            &FrameworkId { value: fid.to_string() },
            Some(ExecutorId { value: eid.to_string() }),
            status,
            out,
        );
    }

    fn on_exited(&mut self, actor: &ActorId, status: i32, out: &mut Outbox<Timer>) {
        let Some(key) = self.executor_by_actor(actor) else { return };
        let Some(ex) = self.executors.remove(&key) else { return };
        // Tasks the executor left non-terminal fail: the executor is gone.
        for (task, state) in &ex.tasks {
            if !state.is_terminal() {
                self.fail_task(
                    &key.0,
                    &key.1,
                    task,
                    task_status::Reason::ExecutorTerminated,
                    "Executor terminated",
                    out,
                );
            }
        }
        out.note_with(|| format!("executor {} exited with status {status}", key.1));
        if let Some(id) = self.id.clone() {
            out.send(
                &self.cfg.master,
                internal::ExitedExecutorMessage {
                    slave_id: id,
                    framework_id: FrameworkId { value: key.0 },
                    executor_id: ExecutorId { value: key.1 },
                    status,
                },
            );
        }
    }

    fn shutdown_executors(&mut self, framework: &str, only: Option<&str>, out: &mut Outbox<Timer>) {
        for ((fid, eid), ex) in &self.executors {
            if fid == framework && only.is_none_or(|o| o == eid) && ex.subscribed {
                out.send(
                    &ex.actor,
                    executor::Event { r#type: Some(executor::event::Type::Shutdown as i32), ..Default::default() },
                );
            }
        }
    }
}

fn launch_event(task: TaskInfo) -> executor::Event {
    executor::Event {
        r#type: Some(executor::event::Type::Launch as i32),
        launch: Some(executor::event::Launch { task }),
        ..Default::default()
    }
}

impl Actor for Agent {
    type Timer = Timer;

    fn handle(&mut self, input: Input<Timer>, out: &mut Outbox<Timer>) {
        match input {
            Input::Start => {
                out.set_timer(self.cfg.registration_delay, Timer::Register { backoff: Duration::from_secs(1) })
            }
            Input::Timer(Timer::Register { backoff }) => {
                if self.id.is_none() {
                    self.register(out);
                    // Retry with doubling backoff, capped at 1 min, until registered
                    // (`Slave::doReliableRegistration`; Mesos also randomises each wait).
                    out.set_timer(backoff, Timer::Register { backoff: (backoff * 2).min(REGISTER_RETRY_MAX) });
                }
            }
            Input::Timer(Timer::RetryStatusUpdate { stream, uuid }) => {
                if let Some(action) = self.updates.retry(&stream, &uuid) {
                    out.note_with(|| format!("no acknowledgement for task {}'s update; retrying", stream.1));
                    self.act(action, out);
                }
            }
            Input::Timer(Timer::ExecutorRegistration { framework, executor }) => {
                let key = (framework, executor);
                let pending: Vec<String> = match self.executors.get(&key) {
                    Some(ex) if !ex.subscribed => ex.tasks.keys().cloned().collect(),
                    _ => return,
                };
                out.note_with(|| format!("executor {} did not subscribe within 1 min", key.1));
                for task in pending {
                    self.fail_task(
                        &key.0,
                        &key.1,
                        &task,
                        task_status::Reason::ExecutorRegistrationTimeout,
                        "Executor did not register within 1mins",
                        out,
                    );
                }
            }
            Input::Message { from, msg } => match msg {
                Msg::SlaveRegistered(m) => {
                    if self.id.is_none() {
                        out.note_with(|| format!("registered with {from} as agent {}", m.slave_id.value));
                    }
                    self.id = Some(m.slave_id);
                }
                Msg::PingSlave(_) => out.send(&from, internal::PongSlaveMessage {}),
                Msg::RunTask(m) => self.on_run_task(m, out),
                Msg::ExecutorCall(c) => self.on_executor_call(&from, c, out),
                Msg::StatusUpdateAck(m) => self.on_ack(m, out),
                Msg::KillTask(m) => {
                    let target = self
                        .executors
                        .iter()
                        .find(|((f, _), e)| f == &m.framework_id.value && e.tasks.contains_key(&m.task_id.value))
                        .map(|(_, e)| e.actor.clone());
                    if let Some(actor) = target {
                        out.send(
                            &actor,
                            executor::Event {
                                r#type: Some(executor::event::Type::Kill as i32),
                                kill: Some(executor::event::Kill { task_id: m.task_id, kill_policy: m.kill_policy }),
                                ..Default::default()
                            },
                        );
                    }
                }
                Msg::ShutdownFramework(m) => {
                    let fid = m.framework_id.value;
                    self.shutdown_executors(&fid, None, out);
                }
                Msg::ShutdownExecutor(m) => {
                    if let (Some(f), Some(e)) = (m.framework_id, m.executor_id) {
                        self.shutdown_executors(&f.value, Some(&e.value), out);
                    }
                }
                other => out.note_with(|| format!("ignored unexpected {} from {from}", other.kind())),
            },
            Input::Exited { actor, status } => self.on_exited(&actor, status, out),
            Input::Disconnected { .. } => {}
        }
    }
}

#[cfg(test)]
mod tests;
