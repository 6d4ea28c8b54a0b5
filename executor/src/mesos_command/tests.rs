use super::*;
use mesocosm_sim::proto::mesos::v1::{AgentId, CommandInfo, DurationInfo, task_status};
use mesocosm_sim::{Output, SimTime};

const AGENT: &str = "agent-1";
const SECOND: u64 = 1_000_000;

fn executor(task_killing_state: bool) -> MesosCommandExecutor {
    MesosCommandExecutor::new(CommandExecutorConfig {
        me: ActorId::new("executor:fw/t1"),
        agent: ActorId::new(AGENT),
        executor_id: ExecutorId { value: "t1".into() },
        framework_id: FrameworkId { value: "F-0000".into() },
        task_killing_state,
        shutdown_grace_period: DEFAULT_SHUTDOWN_GRACE_PERIOD,
        process: None,
    })
}

fn task(id: &str, command: &str) -> TaskInfo {
    TaskInfo {
        name: id.into(),
        task_id: TaskId { value: id.into() },
        agent_id: AgentId { value: "S0".into() },
        command: Some(CommandInfo { value: Some(command.into()), ..Default::default() }),
        ..Default::default()
    }
}

fn event(r#type: executor::event::Type) -> executor::Event {
    executor::Event { r#type: Some(r#type as i32), ..Default::default() }
}

fn launch(task: TaskInfo) -> Input<Timer> {
    let mut ev = event(executor::event::Type::Launch);
    ev.launch = Some(executor::event::Launch { task });
    agent_says(ev)
}

fn kill(grace: Option<Duration>) -> Input<Timer> {
    let mut ev = event(executor::event::Type::Kill);
    ev.kill = Some(executor::event::Kill {
        task_id: TaskId { value: "t1".into() },
        kill_policy: grace
            .map(|g| KillPolicy { grace_period: Some(DurationInfo { nanoseconds: g.as_nanos() as i64 }) }),
    });
    agent_says(ev)
}

fn ack(uuid: Vec<u8>) -> Input<Timer> {
    let mut ev = event(executor::event::Type::Acknowledged);
    ev.acknowledged = Some(executor::event::Acknowledged { task_id: TaskId { value: "t1".into() }, uuid });
    agent_says(ev)
}

fn agent_says(ev: executor::Event) -> Input<Timer> {
    Input::Message { from: ActorId::new(AGENT), msg: Msg::from(ev) }
}

/// One step, after which the executor's invariants must hold.
fn step(e: &mut MesosCommandExecutor, now: SimTime, input: Input<Timer>) -> Vec<Output<Timer>> {
    let out = e.step(now, input);
    e.check_invariants().unwrap();
    out
}

/// An output, with the update's generated uuid and timestamp left out.
#[derive(Debug, PartialEq)]
enum Out {
    Update(&'static str, TaskState, Option<&'static str>),
    Subscribe,
    At(u64, Timer),
    Note(String),
    Exit(i32),
    /// A child process forked: its actor and the task it runs.
    Fork(String, String),
    /// A child process signalled to end with this status.
    Signal(String, i32),
}

fn outs(outputs: &[Output<Timer>]) -> Vec<Out> {
    outputs
        .iter()
        .map(|o| match o {
            Output::Send { to, msg: Msg::ExecutorCall(c) } if to.as_str() == AGENT => match &c.update {
                Some(u) => {
                    let s = &u.status;
                    assert_eq!(s.source, Some(task_status::Source::Executor as i32));
                    let task: &'static str = s.task_id.value.clone().leak();
                    Out::Update(task, s.state(), s.message.clone().map(|m| &*m.leak()))
                }
                None => Out::Subscribe,
            },
            Output::SetTimer { at, timer } => Out::At(at.0, timer.clone()),
            Output::Note(n) => Out::Note(n.clone()),
            Output::Exit { status } => Out::Exit(*status),
            Output::Launch(l) => Out::Fork(l.actor.to_string(), l.task.task_id.value.clone()),
            Output::Kill { child, status } => Out::Signal(child.to_string(), *status),
            other => panic!("unexpected output {other:?}"),
        })
        .collect()
}

/// The uuid of the last update in `outputs`.
fn last_uuid(outputs: &[Output<Timer>]) -> Vec<u8> {
    outputs
        .iter()
        .rev()
        .find_map(|o| match o {
            Output::Send { msg: Msg::ExecutorCall(c), .. } => c.update.as_ref().and_then(|u| u.status.uuid.clone()),
            _ => None,
        })
        .expect("an update")
}

use Out::*;
use TaskState::*;

#[test]
fn a_sleep_runs_for_its_duration_then_finishes_and_the_executor_exits_on_the_ack() {
    let mut e = executor(false);
    assert_eq!(outs(&step(&mut e, SimTime(0), Input::Start)), vec![Subscribe]);
    let out = step(&mut e, SimTime(10), launch(task("t1", "sleep 2")));
    assert_eq!(
        outs(&out),
        vec![Update("t1", TaskStarting, None), Update("t1", TaskRunning, None), At(10 + 2 * SECOND, Timer::Wake(1))]
    );
    // The ack of a non-terminal update does not end the executor.
    assert_eq!(outs(&step(&mut e, SimTime(20), ack(last_uuid(&out)))), vec![]);

    let out = step(&mut e, SimTime(10 + 2 * SECOND), Input::Timer(Timer::Wake(1)));
    assert_eq!(
        outs(&out),
        vec![Update("t1", TaskFinished, Some("Command exited with status 0")), At(62 * SECOND + 10, Timer::AckTimeout)]
    );
    assert_eq!(outs(&step(&mut e, SimTime(3 * SECOND), ack(last_uuid(&out)))), vec![Exit(0)]);
}

#[test]
fn a_nonzero_exit_fails_the_task_with_its_status() {
    let mut e = executor(false);
    let out = step(&mut e, SimTime(0), launch(task("t1", "sleep 2.5 && exit 3")));
    assert_eq!(out.len(), 3);
    let out = step(&mut e, SimTime(2_500_000), Input::Timer(Timer::Wake(1)));
    assert_eq!(
        outs(&out),
        vec![Update("t1", TaskFailed, Some("Command exited with status 3")), At(62_500_000, Timer::AckTimeout)]
    );
}

#[test]
fn a_command_nobody_provides_fails_with_127_at_once() {
    let mut e = executor(false);
    assert_eq!(
        outs(&step(&mut e, SimTime(0), launch(task("t1", "frobnicate --now")))),
        vec![
            Update("t1", TaskStarting, None),
            Update("t1", TaskRunning, None),
            Note("sh: 1: frobnicate: not found".into()),
            Update("t1", TaskFailed, Some("Command exited with status 127")),
            At(60 * SECOND, Timer::AckTimeout),
        ]
    );
}

#[test]
fn a_malformed_command_is_a_syntax_error_and_exits_2() {
    let mut e = executor(false);
    assert_eq!(
        outs(&step(&mut e, SimTime(0), launch(task("t1", "sleep 1 &&")))),
        vec![
            Update("t1", TaskStarting, None),
            Update("t1", TaskRunning, None),
            Note("sh: 1: Syntax error: end of file unexpected (expecting a command after \"&&\")".into()),
            Update("t1", TaskFailed, Some("Command exited with status 2")),
            At(60 * SECOND, Timer::AckTimeout),
        ]
    );
}

#[test]
fn kill_sends_killing_only_with_the_capability_and_sigterm_ends_a_sleep() {
    for capable in [true, false] {
        let mut e = executor(capable);
        step(&mut e, SimTime(0), launch(task("t1", "sleep 60")));
        let mut want = vec![];
        if capable {
            want.push(Update("t1", TaskKilling, None));
        }
        want.extend([
            // The escalation timer is armed before the process is reaped; it then finds nothing to kill.
            At(SECOND + 3 * SECOND, Timer::Escalate),
            Update("t1", TaskKilled, Some("Command terminated with signal Terminated")),
            At(SECOND + 60 * SECOND, Timer::AckTimeout),
        ]);
        assert_eq!(outs(&step(&mut e, SimTime(SECOND), kill(None))), want, "TASK_KILLING_STATE: {capable}");
        assert_eq!(outs(&step(&mut e, SimTime(4 * SECOND), Input::Timer(Timer::Escalate))), vec![]);
        // The sleep's timer finds the process gone.
        assert_eq!(outs(&step(&mut e, SimTime(60 * SECOND), Input::Timer(Timer::Wake(1)))), vec![]);
    }
}

#[test]
fn a_command_that_ignores_sigterm_is_killed_when_the_grace_period_ends() {
    let mut e = executor(true);
    let mut t = task("t1", "trap '' TERM; sleep 60");
    // The task's kill policy: 10 s.
    t.kill_policy = Some(KillPolicy { grace_period: Some(DurationInfo { nanoseconds: 10_000_000_000 }) });
    step(&mut e, SimTime(0), launch(t));
    assert_eq!(
        outs(&step(&mut e, SimTime(SECOND), kill(None))),
        vec![
            Update("t1", TaskKilling, None),
            At(11 * SECOND, Timer::Escalate),
            Note("SIGTERM sent; the command ignores it, SIGKILL in 10s".into()),
        ]
    );
    // A retried KILL with a longer grace period changes nothing; a shorter one moves SIGKILL earlier.
    assert_eq!(outs(&step(&mut e, SimTime(2 * SECOND), kill(Some(Duration::from_secs(30))))), vec![]);
    assert_eq!(
        outs(&step(&mut e, SimTime(2 * SECOND), kill(Some(Duration::from_secs(5))))),
        vec![At(7 * SECOND, Timer::Escalate)]
    );
    let out = step(&mut e, SimTime(7 * SECOND), Input::Timer(Timer::Escalate));
    assert_eq!(
        outs(&out),
        vec![
            Note("the command did not terminate within its grace period: SIGKILL".into()),
            Update("t1", TaskKilled, Some("Command terminated with signal Killed")),
            At(67 * SECOND, Timer::AckTimeout),
        ]
    );
    // The superseded deadline finds the process gone.
    assert_eq!(outs(&step(&mut e, SimTime(11 * SECOND), Input::Timer(Timer::Escalate))), vec![]);
    assert_eq!(outs(&step(&mut e, SimTime(8 * SECOND), ack(last_uuid(&out)))), vec![Exit(0)]);
}

#[test]
fn shutdown_kills_the_task_and_the_library_kills_the_executor_after_the_grace_period() {
    // Before any task: the executor just exits.
    let mut e = executor(false);
    assert_eq!(
        outs(&step(&mut e, SimTime(0), agent_says(event(executor::event::Type::Shutdown)))),
        vec![At(5 * SECOND, Timer::LibraryKill), Exit(0)]
    );

    // A command ignoring SIGTERM gets shutdown grace − 2 s = 3 s, then SIGKILL.
    let mut e = executor(false);
    step(&mut e, SimTime(0), launch(task("t1", "trap '' TERM && sleep 60")));
    assert_eq!(
        outs(&step(&mut e, SimTime(SECOND), agent_says(event(executor::event::Type::Shutdown)))),
        vec![
            At(6 * SECOND, Timer::LibraryKill),
            At(4 * SECOND, Timer::Escalate),
            Note("SIGTERM sent; the command ignores it, SIGKILL in 3s".into()),
        ]
    );
    let out = step(&mut e, SimTime(4 * SECOND), Input::Timer(Timer::Escalate));
    assert_eq!(outs(&out)[1], Update("t1", TaskKilled, Some("Command terminated with signal Killed")));
    // No acknowledgement comes: the library's SIGKILL ends the executor.
    assert_eq!(
        outs(&step(&mut e, SimTime(6 * SECOND), Input::Timer(Timer::LibraryKill))),
        vec![
            Note("shutdown grace period over: the executor library kills the process group".into()),
            Exit(KILLED_STATUS)
        ]
    );
}

#[test]
fn without_an_acknowledgement_the_executor_gives_up_after_a_minute() {
    let mut e = executor(false);
    step(&mut e, SimTime(0), launch(task("t1", "true")));
    assert_eq!(
        outs(&step(&mut e, SimTime(60 * SECOND), Input::Timer(Timer::AckTimeout))),
        vec![Note("Did not receive ACK for the terminal status update from the agent".into()), Exit(1)]
    );
}

#[test]
fn one_task_per_command_executor_and_duplicate_launches_are_ignored() {
    let mut e = executor(false);
    step(&mut e, SimTime(0), launch(task("t1", "sleep 5")));
    assert_eq!(
        outs(&step(&mut e, SimTime(1), launch(task("t1", "sleep 5")))),
        vec![Note("duplicate LAUNCH of task t1; ignored".into())]
    );
    assert_eq!(
        outs(&step(&mut e, SimTime(2), launch(task("t2", "sleep 5")))),
        vec![
            Update("t2", TaskFailed, Some("Attempted to run multiple tasks using a \"command\" executor")),
            At(60 * SECOND + 2, Timer::AckTimeout)
        ]
    );
}

#[test]
fn losing_the_agent_shuts_down_and_drops_the_updates() {
    let mut e = executor(false);
    step(&mut e, SimTime(0), launch(task("t1", "sleep 5")));
    assert_eq!(
        outs(&step(&mut e, SimTime(SECOND), Input::Disconnected { peer: ActorId::new(AGENT) })),
        vec![
            Note("agent disconnected; the executor library injects SHUTDOWN".into()),
            At(6 * SECOND, Timer::LibraryKill),
            At(4 * SECOND, Timer::Escalate),
            Note("dropping UPDATE TaskKilled for task t1: not connected".into()),
        ]
    );
}

#[test]
fn a_command_without_a_shell_runs_its_arguments() {
    let mut e = executor(false);
    let mut t = task("t1", "sleep");
    t.command = Some(CommandInfo {
        value: Some("sleep".into()),
        shell: Some(false),
        arguments: vec!["sleep".into(), "1.5".into()],
        ..Default::default()
    });
    let out = step(&mut e, SimTime(0), launch(t));
    assert_eq!(outs(&out)[2], At(1_500_000, Timer::Wake(1)));
}

/// An executor whose command is the process `driver:pi` (a spark-submit the
/// Program recognised), launched on `agent-1`.
fn forking_executor() -> MesosCommandExecutor {
    let mut e = executor(false);
    let process = Launch {
        actor: ActorId::new("driver:pi"),
        host: "agent-1".into(),
        framework: Default::default(),
        agent: Default::default(),
        task: TaskInfo::default(),
        executor: Default::default(),
    };
    e.cfg = e.cfg.clone().with_process(process);
    e
}

const SPARK_SUBMIT: &str = "spark-submit --master mesos://master:5050 --name pi pi.jar";

#[test]
fn a_process_command_is_forked_after_running_and_its_exit_status_ends_the_task() {
    let mut e = forking_executor();
    assert_eq!(
        outs(&step(&mut e, SimTime(0), launch(task("t1", SPARK_SUBMIT)))),
        vec![
            Update("t1", TaskStarting, None),
            Update("t1", TaskRunning, None),
            Note("fork driver:pi for the command".into()),
            Fork("driver:pi".into(), "t1".into()),
        ]
    );
    // Another actor's exit is not the command's.
    assert_eq!(outs(&step(&mut e, SimTime(SECOND), Input::Exited { actor: ActorId::new("x"), status: 0 })), vec![]);
    // spark-submit exits 101 when it cannot load the main class.
    let out = step(&mut e, SimTime(2 * SECOND), Input::Exited { actor: ActorId::new("driver:pi"), status: 101 });
    assert_eq!(
        outs(&out),
        vec![Update("t1", TaskFailed, Some("Command exited with status 101")), At(62 * SECOND, Timer::AckTimeout)]
    );
    assert_eq!(outs(&step(&mut e, SimTime(3 * SECOND), ack(last_uuid(&out)))), vec![Exit(0)]);
}

#[test]
fn a_process_that_exits_0_finishes_the_task() {
    let mut e = forking_executor();
    step(&mut e, SimTime(0), launch(task("t1", SPARK_SUBMIT)));
    let out = step(&mut e, SimTime(SECOND), Input::Exited { actor: ActorId::new("driver:pi"), status: 0 });
    assert_eq!(outs(&out)[0], Update("t1", TaskFinished, Some("Command exited with status 0")));
}

#[test]
fn killing_a_process_task_sends_sigterm_to_the_process_and_ends_killed() {
    let mut e = forking_executor();
    step(&mut e, SimTime(0), launch(task("t1", SPARK_SUBMIT)));
    assert_eq!(
        outs(&step(&mut e, SimTime(SECOND), kill(None))),
        vec![
            At(4 * SECOND, Timer::Escalate),
            Signal("driver:pi".into(), 143),
            Update("t1", TaskKilled, Some("Command terminated with signal Terminated")),
            At(61 * SECOND, Timer::AckTimeout)
        ]
    );
    // The process's exit that follows the signal changes nothing.
    let exited = Input::Exited { actor: ActorId::new("driver:pi"), status: 143 };
    assert_eq!(outs(&step(&mut e, SimTime(SECOND), exited)), vec![]);
}

#[test]
fn losing_the_agent_ends_the_process_too() {
    let mut e = forking_executor();
    step(&mut e, SimTime(0), launch(task("t1", SPARK_SUBMIT)));
    let out = outs(&step(&mut e, SimTime(SECOND), Input::Disconnected { peer: ActorId::new(AGENT) }));
    assert!(out.contains(&Signal("driver:pi".into(), 143)), "{out:?}");
}
