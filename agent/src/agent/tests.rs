use super::*;
use mesocosm_sim::proto::mesos::v1::{CommandInfo, ExecutorId, FrameworkId, TaskId, TaskStatus, task_status};
use mesocosm_sim::proto::{executor, internal};
use mesocosm_sim::{Output, SimTime, sent_to};

const MASTER: &str = "master";
const EXEC: &str = "executor:pi/0";

fn agent() -> Agent {
    let mut a = Agent::new(AgentConfig {
        me: ActorId::new("agent-1"),
        master: ActorId::new(MASTER),
        resources: mesocosm_sim::proto::Resources::scalar_of("cpus", 4.0).to_protos(),
        attributes: vec![],
        port: 5051,
        registration_delay: Duration::from_millis(300),
        version: "1.11.0".into(),
        recovered_id: None,
        backoff_seed: 0,
        containers: Default::default(),
        zk: None,
    });
    a.step(SimTime::ZERO, Input::Start);
    a.step(SimTime(300_000), Input::Timer(Timer::Register { backoff: Duration::from_secs(2), epoch: 1 }));
    a.step(
        SimTime(301_000),
        Input::Message {
            from: ActorId::new(MASTER),
            msg: internal::SlaveRegisteredMessage { slave_id: AgentId { value: "M-S0".into() }, connection: None }
                .into(),
        },
    );
    a
}

fn framework() -> FrameworkInfo {
    FrameworkInfo {
        user: "root".into(),
        name: "pi".into(),
        id: Some(FrameworkId { value: "M-0000".into() }),
        ..Default::default()
    }
}

fn run_task(a: &mut Agent) -> Vec<Output<Timer>> {
    let task = TaskInfo {
        name: "pi 0".into(),
        task_id: TaskId { value: "0".into() },
        agent_id: AgentId { value: "M-S0".into() },
        command: Some(CommandInfo { value: Some("spark-class …".into()), ..Default::default() }),
        ..Default::default()
    };
    a.step(
        SimTime(2_000_000),
        Input::Message {
            from: ActorId::new(MASTER),
            msg: internal::RunTaskMessage { framework: framework(), pid: None, task, launch_executor: Some(true) }
                .into(),
        },
    )
}

fn call(kind: executor::call::Type) -> executor::Call {
    executor::Call {
        executor_id: ExecutorId { value: "0".into() },
        framework_id: FrameworkId { value: "M-0000".into() },
        r#type: Some(kind as i32),
        ..Default::default()
    }
}

fn update(state: TaskState, uuid: u8) -> executor::Call {
    let mut c = call(executor::call::Type::Update);
    c.update = Some(executor::call::Update {
        status: TaskStatus {
            task_id: TaskId { value: "0".into() },
            state: state as i32,
            uuid: Some(vec![uuid; 16]),
            source: Some(task_status::Source::Executor as i32),
            ..Default::default()
        },
    });
    c
}

fn from_exec(msg: impl Into<Msg>) -> Input<Timer> {
    Input::Message { from: ActorId::new(EXEC), msg: msg.into() }
}

#[test]
fn registers_after_the_drawn_delay_and_retries_with_backoff() {
    let mut a = Agent::new(AgentConfig {
        me: ActorId::new("agent-1"),
        master: ActorId::new(MASTER),
        resources: vec![],
        attributes: vec![],
        port: 5051,
        registration_delay: Duration::from_millis(700),
        version: "1.11.0".into(),
        recovered_id: None,
        backoff_seed: 0,
        containers: Default::default(),
        zk: None,
    });
    let out = a.step(SimTime::ZERO, Input::Start);
    assert_eq!(
        out,
        vec![Output::SetTimer {
            at: SimTime(700_000),
            timer: Timer::Register { backoff: Duration::from_secs(2), epoch: 1 }
        }]
    );
    let out = a.step(SimTime(700_000), Input::Timer(Timer::Register { backoff: Duration::from_secs(2), epoch: 1 }));
    let sent = sent_to(&out, MASTER);
    assert!(matches!(&sent[..], [Msg::RegisterSlave(m)] if m.slave.hostname == "agent-1"));
    // Each retry waits a draw from [0, maximum backoff]; the maximum doubles from
    // 2 s (twice registration_backoff_factor) and is capped at 1 min.
    let mut now = SimTime(700_000);
    let mut out = out;
    let mut waits = Vec::new();
    for max_secs in [2u64, 4, 8, 16, 32, 60, 60] {
        let (at, backoff) = out
            .iter()
            .find_map(|o| match o {
                Output::SetTimer { at, timer: Timer::Register { backoff, epoch: 1 } } => Some((*at, *backoff)),
                _ => None,
            })
            .expect("a retry is scheduled");
        let wait = at.since(now);
        assert!(wait <= Duration::from_secs(max_secs), "wait {wait:?} above {max_secs}s");
        assert_eq!(backoff, Duration::from_secs(max_secs * 2));
        waits.push(wait);
        now = at;
        out = a.step(now, Input::Timer(Timer::Register { backoff, epoch: 1 }));
        assert!(matches!(&sent_to(&out, MASTER)[..], [Msg::RegisterSlave(_)]));
    }
    // Randomised, as Mesos's os::random() draws: not every wait is the maximum.
    assert!(waits.windows(2).any(|w| w[0] != w[1]), "{waits:?}");
}

#[test]
fn answers_every_ping_with_a_pong() {
    let mut a = agent();
    let out = a.step(
        SimTime(15_000_000),
        Input::Message { from: ActorId::new(MASTER), msg: internal::PingSlaveMessage { connected: true }.into() },
    );
    assert_eq!(sent_to(&out, MASTER), vec![Msg::PongSlave(internal::PongSlaveMessage {})]);
}

#[test]
fn run_task_launches_a_command_executor_container() {
    let mut a = agent();
    let out = run_task(&mut a);
    let launch = out.iter().find_map(|o| match o {
        Output::Launch(l) => Some(l.clone()),
        _ => None,
    });
    let l = launch.expect("a container launch");
    assert_eq!(l.actor.as_str(), EXEC);
    assert_eq!(l.executor.executor_id.value, "0", "command executors are named after their task");
    assert_eq!(l.agent.id.as_ref().map(|i| i.value.as_str()), Some("M-S0"));
    assert!(out.iter().any(|o| matches!(o, Output::SetTimer { timer: Timer::ExecutorRegistration { .. }, .. })));
}

#[test]
fn subscribe_gets_subscribed_then_the_queued_launch() {
    let mut a = agent();
    run_task(&mut a);
    let out = a.step(SimTime(2_100_000), from_exec(call(executor::call::Type::Subscribe)));
    let kinds: Vec<_> = sent_to(&out, EXEC).iter().map(|m| m.kind()).collect();
    assert_eq!(kinds, vec!["SUBSCRIBED", "LAUNCH"]);
}

#[test]
fn updates_are_forwarded_head_first_retried_and_released_by_acks() {
    let mut a = agent();
    run_task(&mut a);
    a.step(SimTime(2_100_000), from_exec(call(executor::call::Type::Subscribe)));

    // STARTING is forwarded at once; RUNNING waits behind it.
    let out = a.step(SimTime(2_200_000), from_exec(update(TaskState::TaskStarting, 1)));
    let sent = sent_to(&out, MASTER);
    assert!(matches!(&sent[..], [Msg::StatusUpdate(m)] if m.update.status.state() == TaskState::TaskStarting
        && m.update.slave_id.as_ref().map(|s| s.value.as_str()) == Some("M-S0")));
    let out = a.step(SimTime(2_300_000), from_exec(update(TaskState::TaskRunning, 2)));
    assert!(sent_to(&out, MASTER).is_empty(), "only the head of a task's stream is in flight");

    // No ack for 10 s: the head is resent, and the next retry waits 20 s.
    let stream = ("M-0000".to_string(), "0".to_string());
    let out = a.step(
        SimTime(12_200_000),
        Input::Timer(Timer::RetryStatusUpdate { stream: stream.clone(), uuid: vec![1; 16], generation: 1 }),
    );
    assert_eq!(sent_to(&out, MASTER).len(), 1);
    assert!(out.contains(&Output::SetTimer {
        at: SimTime(32_200_000),
        timer: Timer::RetryStatusUpdate { stream: stream.clone(), uuid: vec![1; 16], generation: 2 }
    }));

    // The ack releases the head: ACKNOWLEDGED to the executor, RUNNING to the master.
    let ack = internal::StatusUpdateAcknowledgementMessage {
        slave_id: AgentId { value: "M-S0".into() },
        framework_id: FrameworkId { value: "M-0000".into() },
        task_id: TaskId { value: "0".into() },
        uuid: vec![1; 16],
    };
    let out = a.step(SimTime(12_500_000), Input::Message { from: ActorId::new(MASTER), msg: ack.clone().into() });
    assert_eq!(sent_to(&out, EXEC).iter().map(|m| m.kind()).collect::<Vec<_>>(), vec!["ACKNOWLEDGED"]);
    assert!(
        matches!(&sent_to(&out, MASTER)[..], [Msg::StatusUpdate(m)] if m.update.status.state() == TaskState::TaskRunning)
    );

    // A stale retry timer and a duplicate ack do nothing.
    let out = a
        .step(SimTime(32_200_000), Input::Timer(Timer::RetryStatusUpdate { stream, uuid: vec![1; 16], generation: 2 }));
    assert!(sent_to(&out, MASTER).is_empty());
    let out = a.step(SimTime(32_300_000), Input::Message { from: ActorId::new(MASTER), msg: ack.into() });
    assert!(out.iter().all(|o| !matches!(o, Output::Send { .. })));
}

#[test]
fn an_executor_that_exits_early_fails_its_tasks_and_is_reported() {
    let mut a = agent();
    run_task(&mut a);
    a.step(SimTime(2_100_000), from_exec(call(executor::call::Type::Subscribe)));
    let out = a.step(SimTime(3_000_000), Input::Exited { actor: ActorId::new(EXEC), status: 1 });
    let sent = sent_to(&out, MASTER);
    assert!(matches!(&sent[0], Msg::StatusUpdate(m) if m.update.status.state() == TaskState::TaskFailed
        && m.update.status.reason() == task_status::Reason::ExecutorTerminated
        && m.update.status.source() == task_status::Source::Agent));
    assert!(matches!(&sent[1], Msg::ExitedExecutor(m) if m.status == 1 && m.executor_id.value == "0"));
    assert_eq!(a.executors(), 0);
}

#[test]
fn an_executor_that_never_subscribes_fails_its_task_after_one_minute() {
    let mut a = agent();
    run_task(&mut a);
    let out = a.step(
        SimTime(62_000_000),
        Input::Timer(Timer::ExecutorRegistration { framework: "M-0000".into(), executor: "0".into() }),
    );
    assert!(matches!(&sent_to(&out, MASTER)[..], [Msg::StatusUpdate(m)]
        if m.update.status.reason() == task_status::Reason::ExecutorRegistrationTimeout));
}

#[test]
fn shutdown_framework_shuts_its_executors_down() {
    let mut a = agent();
    run_task(&mut a);
    a.step(SimTime(2_100_000), from_exec(call(executor::call::Type::Subscribe)));
    let out = a.step(
        SimTime(9_000_000),
        Input::Message {
            from: ActorId::new(MASTER),
            msg: internal::ShutdownFrameworkMessage { framework_id: FrameworkId { value: "M-0000".into() } }.into(),
        },
    );
    assert_eq!(sent_to(&out, EXEC).iter().map(|m| m.kind()).collect::<Vec<_>>(), vec!["SHUTDOWN"]);
}

// ---- failures ------------------------------------------------------------------

fn cfg(recovered_id: Option<AgentId>) -> AgentConfig {
    AgentConfig {
        me: ActorId::new("agent-1"),
        master: ActorId::new(MASTER),
        resources: mesocosm_sim::proto::Resources::scalar_of("cpus", 4.0).to_protos(),
        attributes: vec![],
        port: 5051,
        registration_delay: Duration::from_millis(300),
        version: "1.11.0".into(),
        recovered_id,
        backoff_seed: 0,
        containers: Default::default(),
        zk: None,
    }
}

fn from_master(msg: impl Into<Msg>) -> Input<Timer> {
    Input::Message { from: ActorId::new(MASTER), msg: msg.into() }
}

/// The outputs without timeline notes, for exact comparison.
fn quiet(out: Vec<Output<Timer>>) -> Vec<Output<Timer>> {
    out.into_iter().filter(|o| !matches!(o, Output::Note(_))).collect()
}

fn send(to: &str, msg: impl Into<Msg>) -> Output<Timer> {
    Output::Send { to: ActorId::new(to), msg: msg.into() }
}

fn timer(at: u64, t: Timer) -> Output<Timer> {
    Output::SetTimer { at: SimTime(at), timer: t }
}

/// Takes the registration retry out of `out`, checking it waits at most `max_secs`
/// after `now` and doubles the maximum for the next one; returns the rest.
fn retried(out: Vec<Output<Timer>>, now: u64, max_secs: u64, epoch: u64) -> Vec<Output<Timer>> {
    let (retry, rest): (Vec<_>, Vec<_>) =
        out.into_iter().partition(|o| matches!(o, Output::SetTimer { timer: Timer::Register { .. }, .. }));
    match &retry[..] {
        [Output::SetTimer { at, timer: Timer::Register { backoff, epoch: e } }] => {
            assert!(at.since(SimTime(now)) <= Duration::from_secs(max_secs), "retry at {at:?}");
            assert_eq!((*backoff, *e), (Duration::from_secs(max_secs * 2), epoch));
        }
        other => panic!("expected one registration retry, got {other:?}"),
    }
    rest
}

fn register_timer(secs: u64, epoch: u64) -> Timer {
    Timer::Register { backoff: Duration::from_secs(secs), epoch }
}

fn s0() -> AgentId {
    AgentId { value: "M-S0".into() }
}

fn agent_info() -> AgentInfo {
    AgentInfo {
        hostname: "agent-1".into(),
        port: Some(5051),
        resources: mesocosm_sim::proto::Resources::scalar_of("cpus", 4.0).to_protos(),
        attributes: vec![],
        id: Some(s0()),
    }
}

fn reregister(tasks: Vec<v1::Task>, frameworks: Vec<FrameworkInfo>) -> internal::ReregisterSlaveMessage {
    internal::ReregisterSlaveMessage {
        slave: agent_info(),
        checkpointed_resources: vec![],
        executor_infos: vec![],
        tasks,
        frameworks,
        version: Some("1.11.0".into()),
        agent_capabilities: vec![],
    }
}

/// The registered agent with task 0 running under its subscribed command executor,
/// STARTING forwarded (uuid 1, retry generation 1) and RUNNING queued behind it.
fn running_agent() -> Agent {
    let mut a = agent();
    run_task(&mut a);
    a.step(SimTime(2_100_000), from_exec(call(executor::call::Type::Subscribe)));
    a.step(SimTime(2_200_000), from_exec(update(TaskState::TaskStarting, 1)));
    a.step(SimTime(2_300_000), from_exec(update(TaskState::TaskRunning, 2)));
    a
}

fn task_0(state: TaskState, head: Option<(TaskState, u8)>) -> v1::Task {
    v1::Task {
        name: "pi 0".into(),
        task_id: TaskId { value: "0".into() },
        framework_id: FrameworkId { value: "M-0000".into() },
        executor_id: None,
        agent_id: s0(),
        state: state as i32,
        resources: vec![],
        statuses: vec![],
        status_update_state: head.map(|(s, _)| s as i32),
        status_update_uuid: head.map(|(_, u)| vec![u; 16]),
    }
}

#[test]
fn a_restarted_agent_reregisters_under_its_recovered_id() {
    let mut a = Agent::new(cfg(Some(s0())));
    assert_eq!(a.checkpointed_id(), Some(s0()));
    assert_eq!(quiet(a.step(SimTime(5_000_000), Input::Start)), vec![timer(5_300_000, register_timer(2, 1))]);
    // Nothing of the non-checkpointing frameworks survived: no tasks, no executors.
    let out = a.step(SimTime(5_300_000), Input::Timer(register_timer(2, 1)));
    assert_eq!(quiet(retried(out, 5_300_000, 2, 1)), vec![send(MASTER, reregister(vec![], vec![]))]);
    let reply = internal::SlaveReregisteredMessage {
        slave_id: s0(),
        reconciliations: vec![],
        connection: Some(internal::MasterSlaveConnection { total_ping_timeout_seconds: Some(75.0) }),
    };
    let out = a.step(SimTime(5_400_000), from_master(reply));
    assert_eq!(quiet(out), vec![timer(80_400_000, Timer::PingTimeout { epoch: 1 })]);
    assert!(a.is_registered());
    // The retry chain stops once registered.
    assert_eq!(quiet(a.step(SimTime(6_300_000), Input::Timer(register_timer(2, 1)))), vec![]);
}

#[test]
fn losing_the_master_pauses_updates_and_reregisters_with_backoff_until_accepted() {
    let mut a = running_agent();
    let out = a.step(SimTime(3_000_000), Input::Disconnected { peer: ActorId::new(MASTER) });
    assert_eq!(quiet(out), vec![timer(3_300_000, register_timer(2, 2))]);
    assert!(!a.is_registered());

    // While disconnected: retries of the in-flight head stop, new updates wait.
    let stream = ("M-0000".to_string(), "0".to_string());
    let retry = Timer::RetryStatusUpdate { stream: stream.clone(), uuid: vec![1; 16], generation: 1 };
    assert_eq!(quiet(a.step(SimTime(12_200_000), Input::Timer(retry.clone()))), vec![]);

    // The re-registration reports the task with its latest state and the update in flight.
    let expected =
        reregister(vec![task_0(TaskState::TaskRunning, Some((TaskState::TaskStarting, 1)))], vec![framework()]);
    let out = a.step(SimTime(3_300_000), Input::Timer(register_timer(2, 2)));
    assert_eq!(quiet(retried(out, 3_300_000, 2, 2)), vec![send(MASTER, expected.clone())]);
    // Unanswered, the maximum doubles up to the 1 min cap.
    let out = a.step(SimTime(4_300_000), Input::Timer(register_timer(4, 2)));
    assert_eq!(quiet(retried(out, 4_300_000, 4, 2)), vec![send(MASTER, expected.clone())]);
    let out = a.step(SimTime(100_000_000), Input::Timer(register_timer(128, 2)));
    assert_eq!(quiet(retried(out, 100_000_000, 60, 2)), vec![send(MASTER, expected)]);

    // Accepted: the head is resent at once, retried from 10 s with a fresh generation.
    let reply = internal::SlaveReregisteredMessage { slave_id: s0(), reconciliations: vec![], connection: None };
    let out = quiet(a.step(SimTime(101_000_000), from_master(reply.clone())));
    assert_eq!(out.len(), 3);
    assert!(matches!(&out[0], Output::Send { msg: Msg::StatusUpdate(m), .. }
        if m.update.status.state() == TaskState::TaskStarting && m.update.uuid == Some(vec![1; 16])));
    assert_eq!(
        out[1..],
        [
            timer(111_000_000, Timer::RetryStatusUpdate { stream, uuid: vec![1; 16], generation: 2 }),
            timer(176_000_000, Timer::PingTimeout { epoch: 2 }),
        ]
    );
    // The old retry timer and a duplicate reply change nothing.
    assert_eq!(quiet(a.step(SimTime(102_000_000), Input::Timer(retry))), vec![]);
    assert_eq!(quiet(a.step(SimTime(102_000_000), from_master(reply))), vec![]);
}

#[test]
fn no_ping_within_the_masters_timeout_means_the_master_is_lost() {
    let mut a = Agent::new(cfg(None));
    a.step(SimTime::ZERO, Input::Start);
    a.step(SimTime(300_000), Input::Timer(register_timer(2, 1)));
    let reply = internal::SlaveRegisteredMessage {
        slave_id: s0(),
        connection: Some(internal::MasterSlaveConnection { total_ping_timeout_seconds: Some(30.0) }),
    };
    assert_eq!(
        quiet(a.step(SimTime(400_000), from_master(reply))),
        vec![timer(30_400_000, Timer::PingTimeout { epoch: 1 })]
    );
    // Each ping re-arms the timer; the earlier timer is stale.
    let out = a.step(SimTime(10_000_000), from_master(internal::PingSlaveMessage { connected: true }));
    assert_eq!(
        quiet(out),
        vec![timer(40_000_000, Timer::PingTimeout { epoch: 2 }), send(MASTER, internal::PongSlaveMessage {})]
    );
    assert_eq!(quiet(a.step(SimTime(30_400_000), Input::Timer(Timer::PingTimeout { epoch: 1 }))), vec![]);
    // 30 s of silence: re-register (a new attempt, epoch 2) under the id it has.
    let out = a.step(SimTime(40_000_000), Input::Timer(Timer::PingTimeout { epoch: 2 }));
    assert_eq!(quiet(out), vec![timer(40_300_000, register_timer(2, 2))]);
    // The first attempt's leftover retry timer is stale.
    assert_eq!(quiet(a.step(SimTime(40_300_000), Input::Timer(register_timer(2, 1)))), vec![]);
    let out = a.step(SimTime(40_300_000), Input::Timer(register_timer(2, 2)));
    assert_eq!(quiet(retried(out, 40_300_000, 2, 2)), vec![send(MASTER, reregister(vec![], vec![]))]);
}

#[test]
fn a_ping_saying_disconnected_forces_reregistration_at_once() {
    let mut a = agent();
    let out = a.step(SimTime(15_000_000), from_master(internal::PingSlaveMessage { connected: false }));
    assert_eq!(
        quiet(out),
        vec![
            timer(15_300_000, register_timer(2, 2)),
            timer(90_000_000, Timer::PingTimeout { epoch: 2 }),
            send(MASTER, internal::PongSlaveMessage {}),
        ]
    );
    // While re-registering, another such ping starts nothing new.
    let out = a.step(SimTime(16_000_000), from_master(internal::PingSlaveMessage { connected: false }));
    assert_eq!(
        quiet(out),
        vec![timer(91_000_000, Timer::PingTimeout { epoch: 3 }), send(MASTER, internal::PongSlaveMessage {})]
    );
}

#[test]
fn a_registration_under_another_id_is_fatal_and_a_duplicate_is_ignored() {
    let mut a = agent();
    let dup = internal::SlaveRegisteredMessage { slave_id: s0(), connection: None };
    assert_eq!(quiet(a.step(SimTime(400_000), from_master(dup))), vec![]);
    let other = internal::SlaveRegisteredMessage { slave_id: AgentId { value: "M-S9".into() }, connection: None };
    assert_eq!(quiet(a.step(SimTime(500_000), from_master(other))), vec![Output::Exit { status: 1 }]);
}

#[test]
fn shutdown_framework_destroys_an_executor_that_outlives_the_grace_period() {
    let mut a = running_agent();
    let shutdown = internal::ShutdownFrameworkMessage { framework_id: FrameworkId { value: "M-0000".into() } };
    let out = a.step(SimTime(9_000_000), from_master(shutdown.clone()));
    assert_eq!(
        quiet(out),
        vec![
            send(EXEC, executor::Event { r#type: Some(executor::event::Type::Shutdown as i32), ..Default::default() }),
            timer(14_000_000, Timer::ShutdownGrace { framework: "M-0000".into(), executor: "0".into() }),
        ]
    );
    // A second shutdown, and updates or kills for the terminating framework, are ignored.
    assert_eq!(quiet(a.step(SimTime(9_100_000), from_master(shutdown))), vec![]);
    assert_eq!(quiet(a.step(SimTime(9_200_000), from_exec(update(TaskState::TaskKilled, 3)))), vec![]);
    let kill = internal::KillTaskMessage {
        framework_id: FrameworkId { value: "M-0000".into() },
        task_id: TaskId { value: "0".into() },
        kill_policy: None,
    };
    assert_eq!(quiet(a.step(SimTime(9_300_000), from_master(kill))), vec![]);
    // Still running after 5 s: the container is destroyed.
    let out = a.step(
        SimTime(14_000_000),
        Input::Timer(Timer::ShutdownGrace { framework: "M-0000".into(), executor: "0".into() }),
    );
    assert_eq!(quiet(out), vec![Output::Disconnect { peer: ActorId::new(EXEC) }]);
    // Its exit sends no task updates (nobody would acknowledge them); the framework
    // and its unacknowledged updates are gone.
    let out = a.step(SimTime(14_100_000), Input::Exited { actor: ActorId::new(EXEC), status: 0 });
    assert_eq!(
        quiet(out),
        vec![send(
            MASTER,
            internal::ExitedExecutorMessage {
                slave_id: s0(),
                framework_id: FrameworkId { value: "M-0000".into() },
                executor_id: ExecutorId { value: "0".into() },
                status: 0,
            }
        )]
    );
    assert_eq!((a.executors(), a.unacknowledged_updates()), (0, 0));
    assert_eq!(a.check_invariants(), Ok(()));
}

#[test]
fn an_executor_shut_down_before_it_subscribes_is_told_so_when_it_does() {
    let mut a = agent();
    run_task(&mut a);
    let shutdown = internal::ShutdownFrameworkMessage { framework_id: FrameworkId { value: "M-0000".into() } };
    // SHUTDOWN cannot reach an executor that has not subscribed.
    let out = a.step(SimTime(2_050_000), from_master(shutdown));
    assert_eq!(
        quiet(out),
        vec![timer(7_050_000, Timer::ShutdownGrace { framework: "M-0000".into(), executor: "0".into() })]
    );
    let out = a.step(SimTime(2_100_000), from_exec(call(executor::call::Type::Subscribe)));
    assert_eq!(
        quiet(out),
        vec![send(
            EXEC,
            executor::Event { r#type: Some(executor::event::Type::Shutdown as i32), ..Default::default() }
        )]
    );
}

#[test]
fn killing_an_unknown_task_reports_it_lost_and_an_unknown_framework_is_ignored() {
    let mut a = running_agent();
    let kill = |fid: &str, tid: &str| internal::KillTaskMessage {
        framework_id: FrameworkId { value: fid.into() },
        task_id: TaskId { value: tid.into() },
        kill_policy: None,
    };
    assert_eq!(quiet(a.step(SimTime(5_000_000), from_master(kill("M-0099", "7")))), vec![]);
    let out = quiet(a.step(SimTime(5_000_000), from_master(kill("M-0000", "7"))));
    let [
        Output::Send { to, msg: Msg::StatusUpdate(m) },
        Output::SetTimer { timer: Timer::RetryStatusUpdate { .. }, .. },
    ] = &out[..]
    else {
        panic!("expected one forwarded update and its retry timer: {out:?}")
    };
    assert_eq!(to.as_str(), MASTER);
    let s = &m.update.status;
    assert_eq!(
        (s.task_id.value.as_str(), s.state(), s.source(), s.reason(), s.message.as_deref(), &m.update.executor_id),
        (
            "7",
            TaskState::TaskLost,
            task_status::Source::Agent,
            task_status::Reason::ExecutorTerminated,
            Some("Cannot find executor"),
            &None
        )
    );
    // A known task on a subscribed executor is killed by the executor.
    let out = a.step(SimTime(5_100_000), from_master(kill("M-0000", "0")));
    assert_eq!(sent_to(&out, EXEC).iter().map(|m| m.kind()).collect::<Vec<_>>(), vec!["KILL"]);
    assert_eq!(a.check_invariants(), Ok(()));
}

#[test]
fn killing_a_task_of_an_unsubscribed_executor_kills_it_there_and_then() {
    let mut a = agent();
    run_task(&mut a);
    let kill = internal::KillTaskMessage {
        framework_id: FrameworkId { value: "M-0000".into() },
        task_id: TaskId { value: "0".into() },
        kill_policy: None,
    };
    let out = a.step(SimTime(2_050_000), from_master(kill));
    assert!(matches!(&sent_to(&out, MASTER)[..], [Msg::StatusUpdate(m)]
        if m.update.status.state() == TaskState::TaskKilled
        && m.update.status.reason() == task_status::Reason::ExecutorUnregistered));
    // The executor never gets the killed task.
    let out = a.step(SimTime(2_100_000), from_exec(call(executor::call::Type::Subscribe)));
    assert_eq!(sent_to(&out, EXEC).iter().map(|m| m.kind()).collect::<Vec<_>>(), vec!["SUBSCRIBED"]);
}

#[test]
fn a_duplicated_run_task_does_not_launch_the_task_again() {
    let mut a = agent();
    run_task(&mut a);
    assert_eq!(quiet(run_task(&mut a)), vec![]);
    let out = a.step(SimTime(2_100_000), from_exec(call(executor::call::Type::Subscribe)));
    assert_eq!(sent_to(&out, EXEC).iter().map(|m| m.kind()).collect::<Vec<_>>(), vec!["SUBSCRIBED", "LAUNCH"]);
}

#[test]
fn an_exited_executor_stays_until_its_terminal_update_is_acknowledged() {
    let mut a = agent();
    run_task(&mut a);
    a.step(SimTime(2_100_000), from_exec(call(executor::call::Type::Subscribe)));
    a.step(SimTime(3_000_000), Input::Exited { actor: ActorId::new(EXEC), status: 1 });
    assert_eq!((a.executors(), a.unacknowledged_updates()), (0, 1));
    assert_eq!(a.check_invariants(), Ok(()));
    let uuid = a.updates.pending().next().and_then(|u| u.uuid.clone()).unwrap();
    let ack = internal::StatusUpdateAcknowledgementMessage {
        slave_id: s0(),
        framework_id: FrameworkId { value: "M-0000".into() },
        task_id: TaskId { value: "0".into() },
        uuid,
    };
    // No ACKNOWLEDGED to a container that is gone.
    assert_eq!(quiet(a.step(SimTime(3_100_000), from_master(ack))), vec![]);
    assert!(a.executors.is_empty() && a.frameworks.is_empty());
}

#[test]
fn the_invariants_catch_overcommitment_and_orphaned_updates() {
    let mut a = running_agent();
    assert_eq!(a.check_invariants(), Ok(()));
    // A task bigger than the agent (only a master bug could send it).
    let big = TaskInfo {
        name: "big".into(),
        task_id: TaskId { value: "1".into() },
        agent_id: s0(),
        resources: mesocosm_sim::proto::Resources::scalar_of("cpus", 8.0).to_protos(),
        command: Some(CommandInfo { value: Some("spark-class …".into()), ..Default::default() }),
        ..Default::default()
    };
    a.step(
        SimTime(4_000_000),
        from_master(internal::RunTaskMessage {
            framework: framework(),
            pid: None,
            task: big,
            launch_executor: Some(true),
        }),
    );
    assert_eq!(
        a.check_invariants(),
        Err("agent-1: tasks and executors use [cpus:8], more than its total [cpus:4]".into())
    );

    let mut a = running_agent();
    a.frameworks.clear();
    assert_eq!(a.check_invariants(), Err("agent-1: pending update of task 0 for unknown framework M-0000".into()));
    let mut a = running_agent();
    a.executors.values_mut().for_each(|e| e.tasks.clear());
    assert_eq!(
        a.check_invariants(),
        Err("agent-1: pending update of task 0 names executor 0 that does not know it".into())
    );
}

#[test]
fn master_ping_timeout_truncates_to_seconds_and_never_panics() {
    assert_eq!(master_ping_timeout(Some(75.0)), Duration::from_secs(75));
    // `static_cast<int64_t>`: whole seconds.
    assert_eq!(master_ping_timeout(Some(7.9)), Duration::from_secs(7));
    // Huge values saturate instead of panicking in `from_secs_f64`.
    assert_eq!(master_ping_timeout(Some(1e300)), Duration::from_secs(u64::MAX));
    assert_eq!(master_ping_timeout(Some(f64::INFINITY)), Duration::from_secs(u64::MAX));
    for nonsense in [None, Some(f64::NAN), Some(-5.0), Some(0.0), Some(0.5), Some(f64::NEG_INFINITY)] {
        assert_eq!(master_ping_timeout(nonsense), DEFAULT_MASTER_PING_TIMEOUT, "{nonsense:?}");
    }
}

#[test]
fn a_registration_reply_with_a_nan_ping_timeout_does_not_panic() {
    let mut a = agent();
    let reply = internal::SlaveRegisteredMessage {
        slave_id: AgentId { value: "S0".into() },
        connection: Some(internal::MasterSlaveConnection { total_ping_timeout_seconds: Some(f64::NAN) }),
    };
    a.step(SimTime(400_000), Input::Message { from: ActorId::new(MASTER), msg: reply.into() });
    assert_eq!(a.master_ping_timeout, DEFAULT_MASTER_PING_TIMEOUT);
}

/// A task of `cpus` for framework `fid`, under its own command executor.
fn run_task_of(a: &mut Agent, at: u64, fid: &str, task: &str, cpus: f64) {
    let task = TaskInfo {
        name: format!("task {task}"),
        task_id: TaskId { value: task.into() },
        agent_id: s0(),
        resources: mesocosm_sim::proto::Resources::scalar_of("cpus", cpus).to_protos(),
        command: Some(CommandInfo { value: Some("spark-class …".into()), ..Default::default() }),
        ..Default::default()
    };
    let framework = FrameworkInfo { id: Some(FrameworkId { value: fid.into() }), ..framework() };
    a.step(
        SimTime(at),
        from_master(internal::RunTaskMessage { framework, pid: None, task, launch_executor: Some(true) }),
    );
}

#[test]
fn a_torn_down_frameworks_executors_in_their_shutdown_grace_do_not_count_against_the_total() {
    let mut a = running_agent();
    run_task_of(&mut a, 3_000_000, "M-0000", "1", 3.0);
    assert_eq!(a.check_invariants(), Ok(()));
    // The master removes M-0000 and recovers its 3 cpus at once
    // (Master::removeFramework), then offers them to M-0001, whose task arrives
    // while M-0000's executors are still in their 5 s shutdown grace.
    let shutdown = internal::ShutdownFrameworkMessage { framework_id: FrameworkId { value: "M-0000".into() } };
    a.step(SimTime(9_000_000), from_master(shutdown));
    run_task_of(&mut a, 9_500_000, "M-0001", "0", 3.0);
    assert_eq!(a.check_invariants(), Ok(()), "what Mesos guarantees: the master's allocation fits");
    // One cpu more than is left for M-0001 is still an over-commit.
    run_task_of(&mut a, 9_600_000, "M-0001", "1", 2.0);
    assert_eq!(
        a.check_invariants(),
        Err("agent-1: tasks and executors use [cpus:5], more than its total [cpus:4]".into())
    );
}

/// `Slave::reregistered`: of the tasks the master asks about, the agent
/// answers only for one it does not know (its RunTask never arrived), with a
/// TASK_LOST of its own through the status update manager; task 0, which it
/// runs (its RunTask crossed the ReregisterSlaveMessage), needs no answer.
#[test]
fn reregistered_with_reconciliations_answers_only_for_unknown_tasks() {
    let mut a = running_agent();
    let ask = |task: &str| TaskStatus {
        task_id: TaskId { value: task.into() },
        state: TaskState::TaskStaging as i32,
        source: Some(task_status::Source::Master as i32),
        reason: Some(task_status::Reason::Reconciliation as i32),
        ..Default::default()
    };
    let reply = internal::SlaveReregisteredMessage {
        slave_id: s0(),
        reconciliations: vec![internal::ReconcileTasksMessage {
            framework_id: FrameworkId { value: "M-0000".into() },
            statuses: vec![ask("0"), ask("7")],
            framework: Some(framework()),
        }],
        connection: None,
    };
    let out = quiet(a.step(SimTime(4_000_000), from_master(reply)));
    let answers: Vec<&internal::StatusUpdate> = out
        .iter()
        .filter_map(|o| match o {
            Output::Send { msg: Msg::StatusUpdate(m), .. } => Some(&m.update),
            _ => None,
        })
        .collect();
    assert_eq!(answers.len(), 1, "{out:?}");
    let s = &answers[0].status;
    assert_eq!(
        (s.task_id.value.as_str(), s.state(), s.source(), s.reason(), s.message.as_deref()),
        (
            "7",
            TaskState::TaskLost,
            task_status::Source::Agent,
            task_status::Reason::Reconciliation,
            Some("Reconciliation: task unknown to the agent")
        )
    );
    // A PARTITION_AWARE framework is told TASK_DROPPED instead.
    let mut aware = framework();
    aware.capabilities = vec![v1::framework_info::Capability {
        r#type: Some(v1::framework_info::capability::Type::PartitionAware as i32),
    }];
    let reply = internal::SlaveReregisteredMessage {
        slave_id: s0(),
        reconciliations: vec![internal::ReconcileTasksMessage {
            framework_id: FrameworkId { value: "M-0001".into() },
            statuses: vec![ask("3")],
            framework: Some(aware),
        }],
        connection: None,
    };
    let out = quiet(a.step(SimTime(5_000_000), from_master(reply)));
    assert!(
        out.iter().any(|o| matches!(o, Output::Send { msg: Msg::StatusUpdate(m), .. }
            if m.update.status.state() == TaskState::TaskDropped && m.update.framework_id.value == "M-0001")),
        "{out:?}"
    );
}
