//! The containerizer's launch: fetch, pull, then start the executor's process
//! (`src/slave/containerizer/docker.cpp` `_launch`; `src/slave/slave.cpp`
//! `launchExecutor`, `executorLaunched`).
//!
//! ```text
//!  RunTask (new executor) ─▶ which containerizer? none enabled for its type
//!                              ─▶ TASK_FAILED, REASON_EXECUTOR_TERMINATED,
//!                                 "Abnormal executor termination: unknown container"
//!        ─▶ FETCHING (every URI, `Store::fetch`) ─▶ PULLING (the image, `Store::pull`)
//!        ─▶ the container starts (`Output::Launch`): the executor can SUBSCRIBE now
//!  a failed fetch or pull ─▶ TASK_FAILED, REASON_CONTAINER_LAUNCH_FAILED,
//!        "Failed to launch container: …" (the fetcher's or docker's failure)
//! ```
//!
//! The executor registration timer starts when the launch does, before the
//! fetch and the pull (`Slave::launchExecutor` calls `containerizer->launch`
//! and then `delay(flags.executor_registration_timeout, …)`), so a pull slower
//! than the timeout fails the executor's tasks with
//! REASON_EXECUTOR_REGISTRATION_TIMEOUT: the most common Docker-on-Mesos
//! failure in practice.

use super::{Agent, Executor, ExecutorState, Timer};
use crate::images::{FetchItem, human_bytes, stout_duration};
use mesocosm_sim::proto::internal;
use mesocosm_sim::proto::mesos::v1::{ExecutorId, FrameworkId};
use mesocosm_sim::proto::mesos::v1::{TaskState, container_info, task_status};
use mesocosm_sim::{Launch, Outbox, SimTime};

/// Where a container's launch is (`DockerContainerizerProcess::Container::State`).
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Stage {
    /// The fetcher runs until `done`; it failed if `failed` names a URI.
    Fetching { done: SimTime, failed: Option<String>, sandbox_config: Option<Vec<String>> },
    /// `docker pull` runs until `done`; `failed` is its complaint; `started`
    /// the layers it downloads itself.
    Pulling { done: SimTime, failed: Option<String>, started: Vec<String> },
}

impl Stage {
    fn done(&self) -> SimTime {
        match self {
            Stage::Fetching { done, .. } | Stage::Pulling { done, .. } => *done,
        }
    }

    /// The word `DockerContainerizerProcess::destroy` uses for this state.
    fn destroyed_while(&self) -> &'static str {
        match self {
            Stage::Fetching { .. } => "Container destroyed while fetching",
            Stage::Pulling { .. } => "Container destroyed while pulling image",
        }
    }
}

/// A launch not yet started: its stage and what it will start.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Pending {
    pub(super) stage: Stage,
    pub(super) launch: Launch,
}

/// The URIs the fetcher gets: the command executor's task's, else the executor's.
fn fetch_items(launch: &Launch, generated: bool) -> Vec<FetchItem> {
    let cmd = if generated { launch.task.command.as_ref() } else { launch.executor.command.as_ref() };
    cmd.map(|c| {
        c.uris
            .iter()
            .map(|u| FetchItem {
                uri: u.value.clone(),
                extract: u.extract(),
                executable: u.executable(),
                cache: u.cache(),
            })
            .collect()
    })
    .unwrap_or_default()
}

impl Agent {
    /// `containerizer->launch`: pick the containerizer, then fetch. A step that
    /// takes no time carries straight on, so an agent with nothing to fetch or
    /// pull starts the container in the RunTask's own step.
    pub(super) fn launch_container(&mut self, key: &(String, String), launch: Launch, out: &mut Outbox<Timer>) {
        let docker = launch.executor.container.as_ref().or(launch.task.container.as_ref()).map(|c| c.r#type())
            == Some(container_info::Type::Docker);
        let cc = &self.cfg.containers;
        if (docker && !cc.docker) || (!docker && !cc.mesos) {
            let enabled = [("mesos", cc.mesos), ("docker", cc.docker)]
                .iter()
                .filter(|(_, on)| *on)
                .map(|(n, _)| *n)
                .collect::<Vec<_>>()
                .join(",");
            // `Slave::executorLaunched` with NOT_SUPPORTED: nothing is destroyed
            // and `wait` finds no container, so the tasks fail as an abnormal
            // termination of an unknown container.
            out.note_with(|| {
                format!(
                    "container for executor {} failed to start: None of the enabled containerizers ({enabled}) could create a container for the provided TaskInfo/ExecutorInfo message",
                    key.1
                )
            });
            self.executor_terminated(
                key,
                -1,
                task_status::Reason::ExecutorTerminated,
                "Abnormal executor termination: unknown container",
                out,
            );
            return;
        }
        let generated = self.executors.get(key).is_some_and(|e| e.generated);
        let items = fetch_items(&launch, generated);
        let f = self.store.fetch(out.now(), &items, &self.cfg.containers);
        if !items.is_empty() {
            let (bytes, hits) = (f.bytes, f.cache_hits);
            out.note_with(|| {
                format!(
                    "fetcher for executor {}: {} URI(s), {} downloaded, {hits} fetcher cache hit(s), done at {}: {}",
                    key.1,
                    items.len(),
                    human_bytes(bytes),
                    f.done,
                    f.steps.join("; ")
                )
            });
        }
        let stage = Stage::Fetching { done: f.done, failed: f.failed, sandbox_config: f.sandbox_config };
        if let Some(ex) = self.executors.get_mut(key) {
            ex.pending = Some(Pending { stage, launch });
        }
        self.advance_launch(key, out);
    }

    /// [`Timer::ContainerStep`] fired, or a stage just began: move on from
    /// every stage that is done by now.
    pub(super) fn advance_launch(&mut self, key: &(String, String), out: &mut Outbox<Timer>) {
        let now = out.now();
        loop {
            let Some(ex) = self.executors.get_mut(key) else { return };
            if ex.state != ExecutorState::Registering {
                return;
            }
            let Some(pending) = ex.pending.as_mut() else { return };
            let done = pending.stage.done();
            if done > now {
                out.set_timer_at(done, Timer::ContainerStep { framework: key.0.clone(), executor: key.1.clone() });
                return;
            }
            match pending.stage.clone() {
                Stage::Fetching { failed: Some(uri), .. } => {
                    let container = self.container_id(key);
                    out.note_with(|| format!("mesos-fetcher failed to fetch '{uri}': exit 1"));
                    let msg = format!(
                        "Failed to launch container: Failed to fetch all URIs for container '{container}': exited with status 1"
                    );
                    self.launch_failed(key, &msg, out);
                    return;
                }
                Stage::Fetching { sandbox_config, .. } => {
                    let launch = pending.launch.clone();
                    match launch.docker_image() {
                        Some((image, force)) => {
                            // The Mesos containerizer's provisioner reads only
                            // --docker_config; the sandbox's file is the docker CLI's.
                            let docker = launch
                                .executor
                                .container
                                .as_ref()
                                .or(launch.task.container.as_ref())
                                .map(|c| c.r#type())
                                == Some(container_info::Type::Docker);
                            let sandbox = if docker { sandbox_config.as_deref() } else { None };
                            let p = self.store.pull(now, &image, force, sandbox, &self.cfg.containers);
                            out.note_with(|| {
                                format!(
                                    "docker pull {image} for executor {}{}: {} pulled, {} layer(s) cached, {} shared, done at {}: {}",
                                    key.1,
                                    if force { " (forcePullImage)" } else { "" },
                                    human_bytes(p.bytes),
                                    p.layers_cached,
                                    p.layers_shared,
                                    p.done,
                                    p.steps.join("; ")
                                )
                            });
                            if let Some(ex) = self.executors.get_mut(key)
                                && let Some(pending) = ex.pending.as_mut()
                            {
                                pending.stage = Stage::Pulling { done: p.done, failed: p.failed, started: p.started };
                            }
                        }
                        None => self.start_container(key, out),
                    }
                }
                Stage::Pulling { failed: Some(err), .. } => {
                    self.launch_failed(key, &format!("Failed to launch container: {err}"), out);
                    return;
                }
                Stage::Pulling { failed: None, .. } => self.start_container(key, out),
            }
        }
    }

    /// The executor's process starts: the world runs its program.
    fn start_container(&mut self, key: &(String, String), out: &mut Outbox<Timer>) {
        let Some(pending) = self.executors.get_mut(key).and_then(|e| e.pending.take()) else { return };
        out.note_with(|| {
            format!(
                "launch container for executor {} of {:?} (task {}) as {}",
                key.1, pending.launch.framework.name, pending.launch.task.task_id.value, pending.launch.actor
            )
        });
        out.launch(pending.launch);
    }

    /// `Slave::executorLaunched` with a failed launch: the tasks fail with
    /// REASON_CONTAINER_LAUNCH_FAILED and the failure as their message.
    fn launch_failed(&mut self, key: &(String, String), message: &str, out: &mut Outbox<Timer>) {
        out.note_with(|| format!("container for executor {} failed to start: {message}", key.1));
        self.executor_terminated(key, -1, task_status::Reason::ContainerLaunchFailed, message, out);
    }

    /// The registration timeout or a destruction found the container still
    /// fetching or pulling: `DockerContainerizerProcess::destroy` ends it with
    /// no process to wait for. `pending_message` is the agent's own reason
    /// (`pendingTermination`), joined with the containerizer's as Mesos joins them.
    pub(super) fn destroy_pending(
        &mut self,
        key: &(String, String),
        reason: task_status::Reason,
        pending_message: Option<&str>,
        out: &mut Outbox<Timer>,
    ) -> bool {
        let Some(p) = self.executors.get_mut(key).and_then(|e| e.pending.take()) else { return false };
        let why = p.stage.destroyed_while();
        if let Stage::Pulling { started, .. } = &p.stage {
            let dropped = self.store.cancel_pull(out.now(), started);
            out.note_with(|| {
                format!("docker pull for executor {} killed: {dropped} unfinished layer(s) dropped", key.1)
            });
        }
        let msg = match pending_message {
            Some(m) => format!("{m}; {why}"),
            None => why.to_string(),
        };
        out.note_with(|| format!("executor {}: {why}", key.1));
        self.executor_terminated(key, -1, reason, &msg, out);
        true
    }

    /// "Executor did not register within 1mins", as `registerExecutorTimeout` words it.
    pub(super) fn registration_timeout_message(&self) -> String {
        format!(
            "Executor did not register within {}",
            stout_duration(self.cfg.containers.executor_registration_timeout)
        )
    }

    /// `Slave::executorTerminated` for a container that ended (`status`): the
    /// executor's live tasks fail with `reason` and `message` (none for a
    /// terminating framework: it will never acknowledge them), and the master
    /// hears of the exit.
    pub(super) fn executor_terminated(
        &mut self,
        key: &(String, String),
        status: i32,
        reason: task_status::Reason,
        message: &str,
        out: &mut Outbox<Timer>,
    ) {
        let terminating = self.frameworks.get(&key.0).is_none_or(|f| f.terminating);
        let Some(ex) = self.executors.get_mut(key) else { return };
        ex.state = ExecutorState::Terminated;
        ex.queued.clear();
        ex.pending = None;
        let live = ex.live_tasks();
        if !terminating {
            for task in live {
                self.agent_update(&key.0, Some(&key.1), &task, TaskState::TaskFailed, reason, message, out);
            }
        }
        if let Some(id) = self.id.clone() {
            self.send_to_master(
                internal::ExitedExecutorMessage {
                    slave_id: id,
                    framework_id: FrameworkId { value: key.0.clone() },
                    executor_id: ExecutorId { value: key.1.clone() },
                    status,
                },
                out,
            );
        }
        if terminating {
            self.remove_executor(key, out);
        } else {
            self.remove_executor_if_done(key, out);
        }
    }

    /// Whether an executor's container is still fetching or pulling.
    pub(super) fn is_launching(ex: &Executor) -> bool {
        ex.pending.is_some()
    }
}
