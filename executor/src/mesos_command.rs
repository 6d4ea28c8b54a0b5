//! Mesos's command executor (`mesos-executor`), as a sans-IO core.
//!
//! A task launched with a `CommandInfo` and no `ExecutorInfo` of its own runs
//! under the agent's *command executor* (`src/launcher/executor.cpp`): one
//! executor per task, which speaks the v1 executor API to the agent and runs the
//! task's command with `sh -c` (here: the simulated [`Shell`]).
//!
//! ```text
//!  start ──SUBSCRIBE──▶ agent
//!  LAUNCH ─▶ TASK_STARTING, fork the command, TASK_RUNNING
//!  command exits N ─▶ TASK_FINISHED "Command exited with status 0" | TASK_FAILED "… status N"
//!  KILL ─▶ [TASK_KILLING] SIGTERM ─(grace period: kill_policy, else 3 s)─▶ SIGKILL ─▶ TASK_KILLED
//!  SHUTDOWN ─▶ kill the command the same way (grace: shutdown grace − 2 s)
//!  ACKNOWLEDGED of the terminal update ─▶ exit 0
//! ```
//!
//! The command dies at SIGTERM unless it ignores it (`trap '' TERM`); then it
//! runs on until the grace period ends and SIGKILL takes it.
//!
//! # A command that is a program of its own
//!
//! The simulated shell only sleeps and exits. A command that *does* something
//! (a `spark-submit` whose driver runs in the task, as Marathon and Spark's
//! MesosClusterDispatcher launch it) is a **process**: the [`Program`] that
//! runs such tasks starts the executor with [`CommandExecutorConfig::process`]
//! set, a [`Launch`] naming the process's actor (e.g. `driver:<app>`). At LAUNCH
//! the executor sends TASK_STARTING and TASK_RUNNING as for any command, then
//! forks that process (an `Output::Launch` the world's launcher starts as this
//! executor's child); the process's exit status is the command's, and a kill
//! or shutdown ends it with SIGTERM (exit 143: mesocosm's processes do not
//! trap it), as `sh -c` forwards the signal to the command it runs.
//!
//! ```text
//!  LAUNCH ─▶ TASK_STARTING, TASK_RUNNING, fork <process> (child of this executor)
//!  <process> exits N ─▶ TASK_FINISHED | TASK_FAILED "Command exited with status N"
//!  KILL | SHUTDOWN | agent gone ─▶ SIGTERM <process> ─▶ TASK_KILLED "Command terminated with signal Terminated"
//! ```

use crate::api::ExecutorApi;
use crate::program::Program;
use crate::shell::{Shell, Step};
use mesocosm_sim::proto::executor;
use mesocosm_sim::proto::mesos::v1::{
    ExecutorId, FrameworkId, KillPolicy, TaskId, TaskInfo, TaskState, framework_info,
};
use mesocosm_sim::{Actor, ActorId, Input, Launch, Msg, Outbox, SimTime, World};
use std::collections::BTreeMap;
use std::time::Duration;

/// The command executor's grace period between SIGTERM and SIGKILL when neither
/// the KILL nor the task names one (`CommandExecutor::killTask`: 3 s "for
/// backwards compatibility").
pub const DEFAULT_KILL_GRACE_PERIOD: Duration = Duration::from_secs(3);
/// The agent's `--executor_shutdown_grace_period` default
/// (`DEFAULT_EXECUTOR_SHUTDOWN_GRACE_PERIOD`), which the executor gets in
/// `MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD` unless its ExecutorInfo sets one.
pub const DEFAULT_SHUTDOWN_GRACE_PERIOD: Duration = Duration::from_secs(5);
/// How long the HTTP command executor waits for the acknowledgement of its
/// terminal update before it gives up and exits 1 (`reaped`: `delay(Seconds(60), …selfTerminate)`).
pub const TERMINAL_ACK_TIMEOUT: Duration = Duration::from_secs(60);
/// The status of a process killed by SIGKILL, as a shell reports it (128 + 9).
pub const KILLED_STATUS: i32 = 137;
/// The status of a process ended by SIGTERM, as a shell reports it (128 + 15).
pub const TERMINATED_STATUS: i32 = 143;

/// How the command executor was launched.
#[derive(Clone, Debug)]
pub struct CommandExecutorConfig {
    /// This actor.
    pub me: ActorId,
    /// The agent (its executor API endpoint).
    pub agent: ActorId,
    pub executor_id: ExecutorId,
    pub framework_id: FrameworkId,
    /// The framework has the TASK_KILLING_STATE capability.
    pub task_killing_state: bool,
    /// `MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD`.
    pub shutdown_grace_period: Duration,
    /// The command is a program of its own, forked at LAUNCH as this child
    /// process (its `actor` is the process's name); `None`: the simulated shell
    /// runs the command.
    pub process: Option<Box<Launch>>,
}

impl CommandExecutorConfig {
    /// The configuration the agent gives the command executor it launches for `launch`.
    pub fn for_launch(me: ActorId, agent: ActorId, launch: &Launch) -> CommandExecutorConfig {
        let killing = framework_info::capability::Type::TaskKillingState as i32;
        CommandExecutorConfig {
            me,
            agent,
            executor_id: launch.executor.executor_id.clone(),
            framework_id: launch.framework.id.clone().unwrap_or_default(),
            task_killing_state: launch.framework.capabilities.iter().any(|c| c.r#type == Some(killing)),
            shutdown_grace_period: launch
                .executor
                .shutdown_grace_period
                .as_ref()
                .map_or(DEFAULT_SHUTDOWN_GRACE_PERIOD, |d| nanos(d.nanoseconds)),
            process: None,
        }
    }

    /// The same executor, whose command runs as the child process `process`
    /// instead of in the simulated shell.
    pub fn with_process(mut self, process: Launch) -> CommandExecutorConfig {
        self.process = Some(Box::new(process));
        self
    }
}

fn nanos(n: i64) -> Duration {
    Duration::from_nanos(n.max(0) as u64)
}

/// The command executor's timers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Timer {
    /// The `sleep` the command started at the `n`th step is over.
    Wake(u64),
    /// The kill's grace period is over: SIGKILL, if the command still runs and
    /// the deadline has not moved.
    Escalate,
    /// No acknowledgement of the terminal update came in [`TERMINAL_ACK_TIMEOUT`].
    AckTimeout,
    /// The executor library's `ShutdownProcess`: the shutdown grace period is
    /// over and it kills the whole process group.
    LibraryKill,
}

/// What the task's process is doing.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Process {
    /// No LAUNCH yet.
    NotLaunched,
    /// Running `shell`; `wake` numbers its current `sleep`.
    Running { shell: Box<Shell>, wake: u64 },
    /// The command's own process runs as this child actor.
    Child(ActorId),
    /// Reaped.
    Terminated,
}

/// Mesos's command executor running one command task.
pub struct MesosCommandExecutor {
    cfg: CommandExecutorConfig,
    task: Option<TaskInfo>,
    process: Process,
    /// SIGTERM was sent (`killed` upstream): the task ends KILLED.
    killed: bool,
    /// When SIGKILL follows the SIGTERM.
    escalate_at: Option<SimTime>,
    /// Updates the agent has not acknowledged, by uuid: whether each is terminal.
    unacknowledged: BTreeMap<Vec<u8>, bool>,
    /// The connection to the agent broke: the library drops calls.
    disconnected: bool,
    /// The library's shutdown timer is set.
    shutting_down: bool,
    api: ExecutorApi,
}

impl MesosCommandExecutor {
    /// An executor about to start.
    pub fn new(cfg: CommandExecutorConfig) -> MesosCommandExecutor {
        let api =
            ExecutorApi::new(cfg.me.clone(), cfg.agent.clone(), cfg.executor_id.clone(), cfg.framework_id.clone());
        MesosCommandExecutor {
            cfg,
            task: None,
            process: Process::NotLaunched,
            killed: false,
            escalate_at: None,
            unacknowledged: BTreeMap::new(),
            disconnected: false,
            shutting_down: false,
            api,
        }
    }

    /// `forward`: send an update for `task` and remember it until acknowledged.
    fn forward(&mut self, task: TaskId, state: TaskState, message: Option<String>, out: &mut Outbox<Timer>) {
        let terminal = matches!(
            state,
            TaskState::TaskFinished | TaskState::TaskFailed | TaskState::TaskKilled | TaskState::TaskError
        );
        let task_name = task.value.clone();
        let (call, uuid) = self.api.update_call(task, state, message, out.now().as_secs_f64());
        if self.disconnected {
            // The library drops calls while not subscribed.
            out.note_with(|| format!("dropping UPDATE {state:?} for task {task_name}: not connected"));
            return;
        }
        self.unacknowledged.insert(uuid, terminal);
        out.send(self.api.agent(), call);
        if terminal {
            out.set_timer(TERMINAL_ACK_TIMEOUT, Timer::AckTimeout);
        }
    }

    fn task_id(&self) -> Option<TaskId> {
        self.task.as_ref().map(|t| t.task_id.clone())
    }

    fn launch(&mut self, task: TaskInfo, out: &mut Outbox<Timer>) {
        if let Some(current) = &self.task {
            if current.task_id == task.task_id {
                out.note_with(|| format!("duplicate LAUNCH of task {}; ignored", task.task_id.value));
            } else {
                // `CommandExecutor::launch`: one task per command executor.
                let msg = "Attempted to run multiple tasks using a \"command\" executor".to_string();
                self.forward(task.task_id, TaskState::TaskFailed, Some(msg), out);
            }
            return;
        }
        let id = task.task_id.clone();
        let shell = match &task.command {
            Some(c) if c.shell == Some(false) => {
                // No shell: the value is the program, the arguments its argv.
                let mut argv = vec![c.value.clone().unwrap_or_default()];
                argv.extend(c.arguments.iter().skip(1).cloned());
                Ok(Shell::exec(&argv))
            }
            Some(c) => Shell::parse(c.value.as_deref().unwrap_or_default()),
            None => Err("the task has no command".to_string()),
        };
        self.task = Some(task.clone());
        // `launch`: TASK_STARTING, fork `sh -c <command>`, TASK_RUNNING.
        self.forward(id.clone(), TaskState::TaskStarting, None, out);
        self.forward(id, TaskState::TaskRunning, None, out);
        if let Some(process) = &self.cfg.process {
            // The command is a program of its own: fork it as a child process,
            // with the TaskInfo the agent sent.
            let mut launch = (**process).clone();
            launch.task = task;
            let child = launch.actor.clone();
            out.note_with(|| format!("fork {child} for the command"));
            out.launch(launch);
            self.process = Process::Child(child);
            return;
        }
        match shell {
            Ok(shell) => {
                self.process = Process::Running { shell: Box::new(shell), wake: 0 };
                self.run_command(out);
            }
            Err(why) => {
                // `sh -c` reports the syntax error and exits 2 without running anything.
                out.note_with(|| format!("sh: 1: {why}"));
                self.reaped(Reap::Exited(crate::shell::SYNTAX_ERROR), out);
            }
        }
    }

    /// Run the command until it sleeps or exits.
    fn run_command(&mut self, out: &mut Outbox<Timer>) {
        let Process::Running { shell, wake } = &mut self.process else { return };
        let mut notes = Vec::new();
        let step = shell.run(&mut notes);
        for n in notes {
            out.note(n);
        }
        match step {
            Step::Sleep(d) => {
                *wake += 1;
                out.set_timer(d, Timer::Wake(*wake));
            }
            Step::Exit(status) => self.reaped(Reap::Exited(status), out),
        }
    }

    /// `CommandExecutor::reaped`: the command's process is gone; report its end.
    fn reaped(&mut self, how: Reap, out: &mut Outbox<Timer>) {
        if self.process == Process::Terminated {
            return;
        }
        self.process = Process::Terminated;
        let Some(id) = self.task_id() else { return };
        let message = match how {
            Reap::Exited(s) => format!("Command exited with status {s}"),
            Reap::Signaled(sig) => format!("Command terminated with signal {sig}"),
        };
        let state = match how {
            _ if self.killed => TaskState::TaskKilled,
            Reap::Exited(0) => TaskState::TaskFinished,
            _ => TaskState::TaskFailed,
        };
        self.forward(id, state, Some(message), out);
    }

    /// `CommandExecutor::kill(taskId, gracePeriod)`.
    fn kill(&mut self, grace: Duration, out: &mut Outbox<Timer>) {
        let ignores_term = match &self.process {
            Process::Running { shell, .. } => shell.ignores_term(),
            // A process of mesocosm's handles SIGTERM by exiting.
            Process::Child(_) => false,
            Process::NotLaunched | Process::Terminated => return,
        };
        let now = out.now();
        if self.killed {
            // A second kill may only shorten the grace period (a retried KILL is a no-op).
            let deadline = now.after(grace);
            if self.escalate_at.is_some_and(|at| deadline < at) {
                self.escalate_at = Some(deadline);
                out.set_timer_at(deadline, Timer::Escalate);
            }
            return;
        }
        self.killed = true;
        let Some(id) = self.task_id() else { return };
        if self.cfg.task_killing_state {
            self.forward(id, TaskState::TaskKilling, None, out);
        }
        let deadline = now.after(grace);
        self.escalate_at = Some(deadline);
        out.set_timer_at(deadline, Timer::Escalate);
        if ignores_term {
            out.note_with(|| format!("SIGTERM sent; the command ignores it, SIGKILL in {grace:?}"));
        } else {
            if let Process::Child(child) = &self.process {
                out.kill_child(child, TERMINATED_STATUS);
            }
            self.reaped(Reap::Signaled("Terminated"), out);
        }
    }

    /// SHUTDOWN, from the agent or injected by the library when the agent is gone.
    fn shutdown(&mut self, out: &mut Outbox<Timer>) {
        if !self.shutting_down {
            // The library's `_shutdown`: the whole process group is SIGKILLed
            // after the shutdown grace period, whatever the executor is doing.
            self.shutting_down = true;
            out.set_timer(self.cfg.shutdown_grace_period, Timer::LibraryKill);
        }
        match self.process {
            Process::NotLaunched => out.exit(0),
            // "We leave a small buffer of time to do the forced kill":
            // shutdown grace − MAX_REAP_INTERVAL (1 s) − 1 s.
            _ => self.kill(self.cfg.shutdown_grace_period.saturating_sub(Duration::from_secs(2)), out),
        }
    }

    fn on_event(&mut self, ev: executor::Event, out: &mut Outbox<Timer>) {
        match ev.r#type() {
            executor::event::Type::Launch => {
                if let Some(l) = ev.launch {
                    self.launch(l.task, out);
                }
            }
            executor::event::Type::Kill => {
                let Some(k) = ev.kill else { return };
                if self.process == Process::NotLaunched {
                    // `CHECK(launched)` fails: the executor aborts (SIGABRT, 134).
                    out.note(
                        "Terminating because kill task message has been received before the task has been launched",
                    );
                    out.exit(134);
                    return;
                }
                if self.task_id().is_some_and(|t| t != k.task_id) {
                    return;
                }
                // The KILL's policy wins over the task's, else the default.
                let policy = |p: &Option<KillPolicy>| {
                    p.as_ref().and_then(|p| p.grace_period.as_ref()).map(|d| nanos(d.nanoseconds))
                };
                let task_policy = self.task.as_ref().and_then(|t| policy(&t.kill_policy));
                let grace = policy(&k.kill_policy).or(task_policy).unwrap_or(DEFAULT_KILL_GRACE_PERIOD);
                self.kill(grace, out);
            }
            executor::event::Type::Acknowledged => {
                let Some(a) = ev.acknowledged else { return };
                // An acknowledgement of an unknown update is logged and ignored.
                // Any terminal update's ack ends the executor, as upstream (even
                // the FAILED of a second task this executor refused).
                if self.unacknowledged.remove(&a.uuid) == Some(true) {
                    // The terminal update is safe with the agent: the executor exits.
                    out.exit(0);
                }
            }
            executor::event::Type::Shutdown => self.shutdown(out),
            _ => {}
        }
    }
}

/// How the command's process ended.
#[derive(Clone, Copy, Debug)]
enum Reap {
    Exited(i32),
    /// Killed by the named signal (`strsignal`: "Terminated", "Killed").
    Signaled(&'static str),
}

impl Actor for MesosCommandExecutor {
    type Timer = Timer;

    /// A running or killed command belongs to the launched task, and a kill
    /// always has its SIGKILL deadline.
    fn check_invariants(&self) -> Result<(), String> {
        let running = matches!(self.process, Process::Running { .. } | Process::Child(_));
        if self.task.is_none() && (self.killed || running) {
            return Err("a command runs or was killed with no task launched".into());
        }
        if self.killed != self.escalate_at.is_some() {
            return Err("a kill without a SIGKILL deadline, or a deadline without a kill".into());
        }
        Ok(())
    }

    fn handle(&mut self, input: Input<Timer>, out: &mut Outbox<Timer>) {
        match input {
            Input::Start => self.api.subscribe(out),
            Input::Message { from, msg: Msg::ExecutorEvent(ev) } if from == self.cfg.agent => self.on_event(*ev, out),
            // A core notes what it does not expect and carries on.
            Input::Message { from, msg } => out.note_with(|| format!("unexpected {} from {from}; ignored", msg.kind())),
            Input::Timer(Timer::Wake(n)) => {
                if matches!(&self.process, Process::Running { wake, .. } if *wake == n) {
                    self.run_command(out);
                }
            }
            Input::Timer(Timer::Escalate) => {
                let due = self.escalate_at.is_some_and(|at| at <= out.now());
                if due && matches!(self.process, Process::Running { .. } | Process::Child(_)) {
                    out.note("the command did not terminate within its grace period: SIGKILL");
                    self.reaped(Reap::Signaled("Killed"), out);
                }
            }
            Input::Timer(Timer::AckTimeout) => {
                if self.unacknowledged.values().any(|terminal| *terminal) {
                    out.note("Did not receive ACK for the terminal status update from the agent");
                    out.exit(1);
                }
            }
            Input::Timer(Timer::LibraryKill) => {
                out.note("shutdown grace period over: the executor library kills the process group");
                out.exit(KILLED_STATUS);
            }
            Input::Disconnected { peer } if peer == self.cfg.agent => {
                // The v1 executor library of a framework that does not checkpoint
                // shuts the executor down at once (`Mesos::disconnected`); one that
                // checkpoints would retry for MESOS_RECOVERY_TIMEOUT (15 min),
                // which mesocosm does not model: it shuts down too.
                out.note("agent disconnected; the executor library injects SHUTDOWN");
                self.disconnected = true;
                self.shutdown(out);
            }
            Input::Exited { actor, status } if self.process == Process::Child(actor.clone()) => {
                // The forked command exited by itself: its status is the command's.
                self.reaped(Reap::Exited(status), out);
            }
            Input::Disconnected { .. } | Input::Exited { .. } | Input::Refused { .. } => {}
        }
    }
}

/// The [`Program`] that runs command tasks: a task with no `ExecutorInfo` of its
/// own runs under the agent-generated command executor (`Slave::getExecutorInfo`).
#[derive(Clone, Copy, Debug, Default)]
pub struct CommandExecutorProgram;

impl Program for CommandExecutorProgram {
    fn name(&self) -> &str {
        "mesos-command-executor"
    }

    fn runs(&self, launch: &Launch) -> bool {
        launch.task.executor.is_none()
    }

    fn start(&self, world: &World, agent: &ActorId, launch: Launch) {
        let cfg = CommandExecutorConfig::for_launch(launch.actor.clone(), agent.clone(), &launch);
        world.container_event(
            &launch.actor,
            agent,
            &format!("container started on {} for task {}", launch.host, launch.task.task_id.value),
        );
        world.spawn(launch.actor, MesosCommandExecutor::new(cfg), Some(agent.clone()));
    }
}

#[cfg(test)]
mod tests;
