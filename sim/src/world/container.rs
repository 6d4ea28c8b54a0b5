//! A container whose program nobody provides.
//!
//! The agent asks the world to start a container for a [`Launch`]; the world's
//! [`Launcher`](super::Launcher) decides what program runs in it. When
//! nothing can run it, Mesos does not leave the task waiting: the container's
//! process is a shell that cannot find its command, exits 127 at once, and the
//! agent's containerizer reaps it (`Slave::executorTerminated`), so every task of
//! the executor that is not terminal yet becomes TASK_FAILED
//! (REASON_EXECUTOR_TERMINATED) and reaches the framework. [`command_not_found`]
//! starts that process, with a timeline event saying what could not run and why.

use super::World;
use crate::actor::{Actor, ActorId, Input, Launch, Outbox};

/// The exit status a POSIX shell gives a command it cannot find.
pub const COMMAND_NOT_FOUND: i32 = 127;

/// A container process that exits [`COMMAND_NOT_FOUND`] as soon as it starts
/// (the shell's complaint is a timeline event of [`command_not_found`]).
#[derive(Clone, Copy, Debug, Default)]
pub struct CommandNotFound;

impl Actor for CommandNotFound {
    type Timer = ();

    fn handle(&mut self, input: Input<()>, out: &mut Outbox<()>) {
        if input == Input::Start {
            out.exit(COMMAND_NOT_FOUND);
        }
    }
}

/// What a launch runs, for messages: the executor's command, else the task's.
pub fn launch_command(launch: &Launch) -> String {
    let value = |c: &Option<crate::proto::v1::CommandInfo>| c.as_ref().and_then(|c| c.value.clone());
    value(&launch.executor.command).or_else(|| value(&launch.task.command)).unwrap_or_default()
}

/// Start `launch`'s container as a process that cannot run its command:
/// a timeline event names the command and `why`, and the process exits 127, so
/// the agent fails the container's tasks.
pub fn command_not_found(world: &World, agent: &ActorId, launch: Launch, why: &str) {
    let command = launch_command(&launch);
    let program = command.split_whitespace().next().unwrap_or("").trim_matches(['"', '\'']);
    let text = format!(
        "container on {} for task {}: nothing runs {command:?} ({why}); sh: 1: {program}: not found, exit {COMMAND_NOT_FOUND}",
        launch.host, launch.task.task_id.value,
    );
    world.container_event(&launch.actor, agent, &text);
    world.spawn(launch.actor.clone(), CommandNotFound, Some(agent.clone()));
}

impl World {
    /// Start the container for `launch`, which agent `parent` asked for, with
    /// the world's launcher.
    pub(super) fn launch(&self, parent: &ActorId, launch: Launch) {
        let launcher = self.shared.launcher.lock().unwrap_or_else(|p| p.into_inner()).clone();
        match launcher {
            Some(l) => l(self, parent, launch),
            // Never a silent drop: the task must end, so the container exits 127.
            None => command_not_found(self, parent, launch, "no launcher is set on the world"),
        }
    }
}
