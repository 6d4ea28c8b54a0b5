//! Executors and their containers (`src/slave/slave.cpp`).
//!
//! The master sends RunTask; the agent finds or makes the task's executor and
//! launches its container. The executor then subscribes over the v1 executor API
//! and is sent its queued tasks; later the master may kill a task, shut down an
//! executor or a whole framework, and the container eventually exits.
//!
//! ```text
//!   RunTask ─▶ new executor: REGISTERING (tasks queued), executor
//!              registration timer (--executor_registration_timeout, 1 min),
//!              then the containerizer's launch: fetch, pull, start (`launch`)
//!           ─▶ known executor: LAUNCH now (subscribed) or queue it
//!   SUBSCRIBE ─▶ SUBSCRIBED + queued LAUNCHes, RUNNING
//!              (SHUTDOWN instead for a terminating executor or framework)
//!   ShutdownExecutor / ShutdownFramework ─▶ SHUTDOWN, TERMINATING, grace timer (5 s)
//!   registration timeout / grace elapsed ─▶ destroy the container
//!   container exited ─▶ TERMINATED: live tasks TASK_FAILED, ExitedExecutor to
//!              the master; removed once its tasks' updates are acknowledged
//! ```
//!
//! Each part mirrors a function of `Slave`: `on_run_task` is `runTask` and
//! `__run` (with `getExecutorInfo` for a command task), `on_subscribe` is
//! `subscribe`, `executor_registration_timeout` is `registerExecutorTimeout`,
//! `on_kill_task` is `killTask`, `on_shutdown_framework` is `shutdownFramework`,
//! `on_shutdown_executor` and `shutdown_executor` are `shutdownExecutor` and
//! `_shutdownExecutor`, `shutdown_grace_elapsed` is `shutdownExecutorTimeout`,
//! `on_exited` is `executorTerminated`, and `remove_executor` is
//! `removeExecutor` followed by `removeFramework` for a framework's last one.
//! The executor's status updates go through `status_updates`.

use super::{
    Agent, Connection, EXECUTOR_SHUTDOWN_GRACE_PERIOD, Executor, ExecutorState, Framework, TaskRecord, Timer,
    lost_or_dropped,
};
use mesocosm_sim::ids::{uuid_from, uuid_string};
use mesocosm_sim::proto::mesos::v1::{
    self as v1, ContainerId, ExecutorId, ExecutorInfo, FrameworkId, TaskInfo, TaskState, task_status,
};
use mesocosm_sim::proto::{executor, internal};
use mesocosm_sim::{ActorId, Launch, Outbox};
use std::collections::BTreeMap;

impl Agent {
    /// TASK_DROPPED for a partition-aware framework, TASK_LOST otherwise, for a task
    /// that never reached an executor.
    fn dropped_state(&self, fid: &str) -> TaskState {
        lost_or_dropped(self.frameworks.get(fid).map(|f| &f.info))
    }

    /// `Slave::runTask` and `Slave::__run`: the task goes to its executor, which
    /// is launched in a new container (and given the task once it subscribes)
    /// unless it already runs here.
    pub(super) fn on_run_task(&mut self, m: internal::RunTaskMessage, out: &mut Outbox<Timer>) {
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
        let generated = task.executor.is_none();
        let info = match &task.executor {
            Some(e) => e.clone(),
            None => command_executor(&task, &fid),
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
        let launch = Launch {
            actor: actor.clone(),
            host: self.cfg.me.as_str().to_string(),
            framework: framework.clone(),
            agent: self.info(),
            task: task.clone(),
            executor: info.clone(),
        };
        // The executor must subscribe within the registration timeout or its
        // tasks fail; the clock starts with the launch, before fetch and pull.
        out.set_timer(
            self.cfg.containers.executor_registration_timeout,
            Timer::ExecutorRegistration { framework: key.0.clone(), executor: key.1.clone() },
        );
        let mut tasks = BTreeMap::new();
        tasks.insert(task.task_id.value.clone(), record);
        self.executors.insert(
            key.clone(),
            Executor {
                actor,
                info,
                generated,
                state: ExecutorState::Registering,
                subscribed: false,
                queued: vec![task],
                tasks,
                pending: None,
            },
        );
        self.launch_container(&key, launch, out);
    }

    /// The ContainerID Mesos would give this executor's container (derived, not drawn).
    pub(super) fn container_id(&self, key: &(String, String)) -> String {
        uuid_string(&uuid_from(&[self.cfg.me.as_str().as_bytes(), b"container", key.0.as_bytes(), key.1.as_bytes()]))
    }

    fn executor_by_actor(&self, actor: &ActorId) -> Option<(String, String)> {
        self.executors.iter().find(|(_, e)| &e.actor == actor).map(|(k, _)| k.clone())
    }

    /// The v1 executor API (`Http::executor`, `src/slave/http.cpp`): SUBSCRIBE
    /// here, UPDATE in `status_updates`; the other calls are not modelled.
    pub(super) fn on_executor_call(&mut self, from: &ActorId, call: executor::Call, out: &mut Outbox<Timer>) {
        let key = (call.framework_id.value.clone(), call.executor_id.value.clone());
        match call.r#type() {
            executor::call::Type::Subscribe => self.on_subscribe(from, key, out),
            executor::call::Type::Update => self.on_executor_update(key, call, out),
            _ => {}
        }
    }

    /// `Slave::subscribe`: SUBSCRIBED with the agent's, framework's and executor's
    /// infos, then every task queued for the executor; an error event for an
    /// executor the agent does not know.
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
        let info = ex.info.clone();
        let queued = std::mem::take(&mut ex.queued);
        let container = self.container_id(&key);
        out.send(
            from,
            executor::Event {
                r#type: Some(executor::event::Type::Subscribed as i32),
                subscribed: Some(executor::event::Subscribed {
                    executor_info: info,
                    framework_info,
                    agent_info: agent,
                    container_id: Some(ContainerId { value: container, parent: None }),
                }),
                ..Default::default()
            },
        );
        for task in queued {
            out.send(from, launch_event(task));
        }
    }

    /// [`Timer::ExecutorRegistration`] fired (`Slave::registerExecutorTimeout`): an
    /// executor still REGISTERING fails its live tasks and its container is destroyed.
    pub(super) fn executor_registration_timeout(&mut self, key: (String, String), out: &mut Outbox<Timer>) {
        let pending: Vec<String> = match self.executors.get(&key) {
            Some(ex) if ex.state == ExecutorState::Registering => ex.live_tasks(),
            _ => return,
        };
        let message = self.registration_timeout_message();
        out.note_with(|| format!("executor {}: {message}", key.1));
        // Still fetching or pulling: the containerizer ends the container at
        // once and its termination message joins the agent's.
        if self.destroy_pending(&key, task_status::Reason::ExecutorRegistrationTimeout, Some(&message), out) {
            return;
        }
        for task in pending {
            self.agent_update(
                &key.0,
                Some(&key.1),
                &task,
                TaskState::TaskFailed,
                task_status::Reason::ExecutorRegistrationTimeout,
                &message,
                out,
            );
        }
        // `registerExecutorTimeout` destroys the container.
        self.destroy(&key, "registration timeout", out);
    }

    /// The containerizer reaped the executor's container (`Slave::executorTerminated`).
    pub(super) fn on_exited(&mut self, actor: &ActorId, status: i32, out: &mut Outbox<Timer>) {
        let Some(key) = self.executor_by_actor(actor) else { return };
        out.note_with(|| format!("executor {} exited with status {status}", key.1));
        // Tasks the executor left non-terminal fail: the executor is gone.
        self.executor_terminated(&key, status, task_status::Reason::ExecutorTerminated, "Executor terminated", out);
    }

    /// Remove a terminated executor whose tasks' updates are all acknowledged.
    pub(super) fn remove_executor_if_done(&mut self, key: &(String, String), out: &mut Outbox<Timer>) {
        let Some(ex) = self.executors.get(key) else { return };
        let waiting = ex.tasks.keys().any(|t| self.updates.head(&(key.0.clone(), t.clone())).is_some());
        if ex.state == ExecutorState::Terminated && !waiting {
            self.remove_executor(key, out);
        }
    }

    /// `removeExecutor`, then `removeFramework` once its last executor is gone
    /// (which drops the framework's remaining update streams).
    pub(super) fn remove_executor(&mut self, key: &(String, String), out: &mut Outbox<Timer>) {
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

    /// `Slave::shutdownExecutor`: ignored while disconnected, and for unknown or
    /// terminating frameworks.
    pub(super) fn on_shutdown_executor(&mut self, m: internal::ShutdownExecutorMessage, out: &mut Outbox<Timer>) {
        if let (Some(f), Some(e)) = (m.framework_id, m.executor_id)
            && self.connection == Connection::Running
            && self.frameworks.get(&f.value).is_some_and(|fw| !fw.terminating)
        {
            self.shutdown_executor(&(f.value, e.value), out);
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

    /// [`Timer::ShutdownGrace`] fired (`Slave::shutdownExecutorTimeout`): an
    /// executor still TERMINATING did not exit in time and is destroyed.
    pub(super) fn shutdown_grace_elapsed(&mut self, key: (String, String), out: &mut Outbox<Timer>) {
        if self.executors.get(&key).is_some_and(|e| e.state == ExecutorState::Terminating) {
            self.destroy(&key, "shutdown grace period elapsed", out);
        }
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
        if Agent::is_launching(ex) {
            // No process yet: the fetch or pull is cancelled and the container
            // ends now (`DockerContainerizerProcess::destroy` in FETCHING/PULLING).
            out.note_with(|| format!("destroying the container of executor {} ({why})", key.1));
            self.destroy_pending(key, task_status::Reason::ExecutorTerminated, None, out);
            return;
        }
        ex.state = ExecutorState::Terminating;
        out.note_with(|| format!("destroying the container of executor {} ({why})", key.1));
        let actor = ex.actor.clone();
        out.disconnect(&actor);
    }

    /// `Slave::shutdownFramework`.
    pub(super) fn on_shutdown_framework(&mut self, fid: &str, out: &mut Outbox<Timer>) {
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
    pub(super) fn on_kill_task(&mut self, m: internal::KillTaskMessage, out: &mut Outbox<Timer>) {
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
        let Some((key, ex)) = self.executor_of_task(&fid, &tid) else {
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
}

/// The ExecutorInfo of the agent's command executor for a task that brings a
/// CommandInfo instead of an executor (`Slave::getExecutorInfo`): its ExecutorID
/// is the task id, and it runs `mesos-executor` in the task's container.
fn command_executor(task: &TaskInfo, fid: &FrameworkId) -> ExecutorInfo {
    ExecutorInfo {
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
