use super::*;
use mesocosm_sim::proto::mesos::v1::CommandInfo;
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
    });
    a.step(SimTime::ZERO, Input::Start);
    a.step(SimTime(300_000), Input::Timer(Timer::Register { backoff: Duration::from_secs(1) }));
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
    });
    let out = a.step(SimTime::ZERO, Input::Start);
    assert_eq!(
        out,
        vec![Output::SetTimer { at: SimTime(700_000), timer: Timer::Register { backoff: Duration::from_secs(1) } }]
    );
    let out = a.step(SimTime(700_000), Input::Timer(Timer::Register { backoff: Duration::from_secs(1) }));
    let sent = sent_to(&out, MASTER);
    assert!(matches!(&sent[..], [Msg::RegisterSlave(m)] if m.slave.hostname == "agent-1"));
    assert!(out.contains(&Output::SetTimer {
        at: SimTime(1_700_000),
        timer: Timer::Register { backoff: Duration::from_secs(2) }
    }));
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
        Input::Timer(Timer::RetryStatusUpdate { stream: stream.clone(), uuid: vec![1; 16] }),
    );
    assert_eq!(sent_to(&out, MASTER).len(), 1);
    assert!(out.contains(&Output::SetTimer {
        at: SimTime(32_200_000),
        timer: Timer::RetryStatusUpdate { stream: stream.clone(), uuid: vec![1; 16] }
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
    let out = a.step(SimTime(32_200_000), Input::Timer(Timer::RetryStatusUpdate { stream, uuid: vec![1; 16] }));
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
