//! What runs in a container: the [`Program`] extension point.
//!
//! When an agent launches a task, it asks the world to start a container
//! ([`Launch`]: which task, which executor, which framework, which host). What
//! process runs in that container is a *program*: Mesos's command executor for a
//! plain command task, Spark's `CoarseGrainedExecutorBackend` for a Spark
//! executor, or a user's own executor. A [`Programs`] list holds the programs a
//! cluster can run and becomes the world's launcher:
//!
//! ```text
//!  agent ─Output::Launch─▶ world ─▶ Programs::launcher
//!                                     ├─ first program whose `runs(launch)` → `start`: spawns its actor(s)
//!                                     └─ none → the container exits 127 ("not found"), so the agent fails its tasks
//! ```
//!
//! # The invariant a program keeps
//!
//! A program must eventually make its task terminal (a TASK_FINISHED, FAILED,
//! KILLED… update to the agent) or exit, so that the agent reports the task.
//! The agent reports the tasks of an exited container that are not terminal as
//! TASK_FAILED (REASON_EXECUTOR_TERMINATED); a program that does neither leaves
//! its task STAGING or RUNNING for ever.
//!
//! # Example: a custom executor
//!
//! Tasks launched with an ExecutorInfo whose command is `/opt/instant-executor`
//! run this executor: it finishes each task as soon as it gets it, and exits
//! once the agent has acknowledged the task's terminal update.
//!
//! ```
//! use mesocosm_executor::{ExecutorApi, Program, Programs};
//! use mesocosm_sim::proto::executor::event::Type;
//! use mesocosm_sim::proto::mesos::v1::TaskState;
//! use mesocosm_sim::{Actor, ActorId, Input, Launch, Msg, Outbox, World};
//!
//! struct Instant {
//!     api: ExecutorApi,
//!     terminal: Vec<Vec<u8>>,
//! }
//!
//! impl Actor for Instant {
//!     type Timer = ();
//!     fn handle(&mut self, input: Input<()>, out: &mut Outbox<()>) {
//!         let Input::Message { msg: Msg::ExecutorEvent(ev), .. } = input else {
//!             if input == Input::Start {
//!                 self.api.subscribe(out);
//!             }
//!             return;
//!         };
//!         match (ev.r#type(), ev.launch, ev.acknowledged) {
//!             (Type::Launch, Some(l), _) => {
//!                 self.api.update(l.task.task_id.clone(), TaskState::TaskRunning, None, out);
//!                 let uuid = self.api.update(l.task.task_id, TaskState::TaskFinished, None, out);
//!                 self.terminal.push(uuid);
//!             }
//!             (Type::Acknowledged, _, Some(a)) if self.terminal.contains(&a.uuid) => out.exit(0),
//!             (Type::Shutdown, _, _) => out.exit(0),
//!             _ => {}
//!         }
//!     }
//! }
//!
//! struct InstantExecutor;
//!
//! impl Program for InstantExecutor {
//!     fn name(&self) -> &str {
//!         "instant-executor"
//!     }
//!     fn runs(&self, launch: &Launch) -> bool {
//!         let command = launch.executor.command.as_ref().and_then(|c| c.value.as_deref());
//!         launch.task.executor.is_some() && command == Some("/opt/instant-executor")
//!     }
//!     fn start(&self, world: &World, agent: &ActorId, launch: Launch) {
//!         let framework = launch.framework.id.clone().unwrap_or_default();
//!         let api = ExecutorApi::new(launch.actor.clone(), agent.clone(), launch.executor.executor_id, framework);
//!         world.spawn(launch.actor, Instant { api, terminal: vec![] }, Some(agent.clone()));
//!     }
//! }
//!
//! let programs = Programs::with_mesos_command_executor().with(InstantExecutor);
//! assert_eq!(programs.names(), ["instant-executor", "mesos-command-executor"]);
//! let launcher = programs.launcher(); // what `World::set_launcher` takes
//! # drop(launcher);
//! ```

use crate::mesos_command::CommandExecutorProgram;
use mesocosm_sim::container::command_not_found;
use mesocosm_sim::world::Launcher;
use mesocosm_sim::{ActorId, Launch, World};
use std::sync::Arc;

/// What runs in a container the agent launches.
pub trait Program: Send + Sync + 'static {
    /// The program's name, for the timeline and for registries
    /// (`"mesos-command-executor"`, `"spark-executor-backend"`, a user's).
    fn name(&self) -> &str;

    /// Whether this program runs `launch`'s container (e.g. the task's command
    /// names it). The first program in a [`Programs`] list that says yes starts it.
    fn runs(&self, launch: &Launch) -> bool;

    /// Start the container's process(es): spawn the actor named `launch.actor`
    /// with `Some(agent)` as its parent, so its exit reaches the agent.
    fn start(&self, world: &World, agent: &ActorId, launch: Launch);
}

/// The programs a cluster can run, asked in order; the first whose
/// [`Program::runs`] is true starts the container. A container nobody runs
/// exits 127 at once, so its tasks fail loudly rather than stay STAGING.
#[derive(Clone, Default)]
pub struct Programs {
    /// First asked first.
    programs: Vec<Arc<dyn Program>>,
}

impl std::fmt::Debug for Programs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.names()).finish()
    }
}

impl Programs {
    /// No programs: every container exits 127.
    pub fn new() -> Programs {
        Programs::default()
    }

    /// Mesos's default: command tasks run under the command executor
    /// ([`CommandExecutorProgram`]); tasks with an executor of their framework's
    /// own need a program added for them.
    pub fn with_mesos_command_executor() -> Programs {
        Programs::new().with(CommandExecutorProgram)
    }

    /// A program added later is asked before those added earlier, so a specific
    /// program added on top of a default (a Spark backend over the command
    /// executor, which runs any command task) wins for the tasks it runs.
    pub fn add(&mut self, program: impl Program) -> &mut Programs {
        self.programs.insert(0, Arc::new(program));
        self
    }

    /// [`Programs::add`], by value, for chains.
    pub fn with(mut self, program: impl Program) -> Programs {
        self.add(program);
        self
    }

    /// The programs' names, in the order they are asked.
    pub fn names(&self) -> Vec<&str> {
        self.programs.iter().map(|p| p.name()).collect()
    }

    /// The program that runs `launch`, if any.
    pub fn find(&self, launch: &Launch) -> Option<&dyn Program> {
        self.programs.iter().find(|p| p.runs(launch)).map(|p| p.as_ref())
    }

    /// Start `launch`'s container with the program that runs it, or as a
    /// process that exits 127, with a timeline event naming the command and the
    /// programs that were asked.
    pub fn start(&self, world: &World, agent: &ActorId, launch: Launch) {
        match self.find(&launch) {
            Some(program) => program.start(world, agent, launch),
            None => {
                let asked = match self.programs.is_empty() {
                    true => "no programs are registered".to_string(),
                    false => format!("asked: {}", self.names().join(", ")),
                };
                command_not_found(world, agent, launch, &asked)
            }
        }
    }

    /// What [`World::set_launcher`] takes.
    pub fn launcher(self) -> Launcher {
        Arc::new(move |world: &World, agent: &ActorId, launch: Launch| self.start(world, agent, launch))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mesocosm_sim::proto::mesos::v1::{CommandInfo, ExecutorInfo, TaskInfo};

    /// A program that runs the tasks whose command is `command`.
    struct Named(&'static str, &'static str);

    impl Program for Named {
        fn name(&self) -> &str {
            self.0
        }
        fn runs(&self, launch: &Launch) -> bool {
            launch.task.command.as_ref().and_then(|c| c.value.as_deref()) == Some(self.1)
        }
        fn start(&self, _: &World, _: &ActorId, _: Launch) {}
    }

    fn launch_of(command: &str, own_executor: bool) -> Launch {
        Launch {
            actor: ActorId::new("executor:fw/t"),
            host: "agent-1".into(),
            framework: Default::default(),
            agent: Default::default(),
            task: TaskInfo {
                command: Some(CommandInfo { value: Some(command.into()), ..Default::default() }),
                executor: own_executor.then(ExecutorInfo::default),
                ..Default::default()
            },
            executor: Default::default(),
        }
    }

    #[test]
    fn the_program_added_last_is_asked_first() {
        let programs = Programs::with_mesos_command_executor().with(Named("a", "run-a")).with(Named("b", "run-a"));
        assert_eq!(programs.names(), ["b", "a", "mesos-command-executor"]);
        assert_eq!(programs.find(&launch_of("run-a", false)).map(|p| p.name()), Some("b"));
        // The command executor runs any other command task...
        assert_eq!(programs.find(&launch_of("sleep 1", false)).map(|p| p.name()), Some("mesos-command-executor"));
        // ...but not a task with an executor of its framework's own.
        assert!(programs.find(&launch_of("sleep 1", true)).is_none());
        assert!(Programs::new().find(&launch_of("sleep 1", false)).is_none());
    }
}
