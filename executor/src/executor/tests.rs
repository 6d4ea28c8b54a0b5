use super::*;
use mesocosm_sim::proto::mesos::v1::{AgentId, TaskInfo};
use mesocosm_sim::{Output, SimTime, sent_to};

const AGENT: &str = "agent-1";
const DRIVER: &str = "driver:pi";

fn args() -> BackendArgs {
    BackendArgs {
        driver_url: "spark://CoarseGrainedScheduler@edge:7078".into(),
        executor_id: "0".into(),
        cores: 2,
        app_id: "M-0000".into(),
        hostname: Some(AGENT.into()),
    }
}

fn exec(backend: Result<(BackendArgs, ActorId), String>) -> SparkExecutor {
    SparkExecutor::new(ExecutorConfig {
        me: ActorId::new("executor:pi/0"),
        agent: ActorId::new(AGENT),
        executor_id: ExecutorId { value: "0".into() },
        framework_id: FrameworkId { value: "M-0000".into() },
        backend,
        heartbeat_interval: Duration::from_secs(10),
    })
}

fn from(who: &str, msg: impl Into<Msg>) -> Input<Timer> {
    Input::Message { from: ActorId::new(who), msg: msg.into() }
}

fn launch() -> executor::Event {
    executor::Event {
        r#type: Some(executor::event::Type::Launch as i32),
        launch: Some(executor::event::Launch {
            task: TaskInfo {
                name: "pi 0".into(),
                task_id: TaskId { value: "0".into() },
                agent_id: AgentId { value: "S0".into() },
                ..Default::default()
            },
        }),
        ..Default::default()
    }
}

fn states(out: &[Output<Timer>]) -> Vec<TaskState> {
    sent_to(out, AGENT)
        .into_iter()
        .filter_map(|m| match m {
            Msg::ExecutorCall(c) => c.update.map(|u| u.status.state()),
            _ => None,
        })
        .collect()
}

fn kinds(out: &[Output<Timer>], to: &str) -> Vec<&'static str> {
    sent_to(out, to).iter().map(|m| m.kind()).collect()
}

#[test]
fn the_whole_lifecycle_of_a_coarse_grained_executor() {
    let mut e = exec(Ok((args(), ActorId::new(DRIVER))));
    assert_eq!(kinds(&e.step(SimTime::ZERO, Input::Start), AGENT), vec!["SUBSCRIBE"]);

    // LAUNCH: STARTING, fork, RUNNING, and the backend asks the driver for its config.
    let out = e.step(SimTime(1), from(AGENT, launch()));
    assert_eq!(states(&out), vec![TaskState::TaskStarting, TaskState::TaskRunning]);
    assert_eq!(kinds(&out, DRIVER), vec!["RetrieveSparkAppConfig"]);

    let out = e.step(SimTime(2), from(DRIVER, sparkrpc::SparkAppConfig::default()));
    assert!(
        matches!(&sent_to(&out, DRIVER)[..], [Msg::RegisterExecutor(r)] if r.executor_id == "0" && r.cores == 2 && r.hostname == AGENT)
    );

    let out =
        e.step(SimTime(3), from(DRIVER, sparkrpc::RegisterExecutorResponse { success: true, failure: String::new() }));
    assert_eq!(kinds(&out, DRIVER), vec!["LaunchedExecutor"]);
    assert!(out.contains(&Output::SetTimer { at: SimTime(10_000_003), timer: Timer::Heartbeat }));

    // A task runs for its drawn duration, then FINISHED.
    let desc = sparkrpc::TaskDescription {
        task_id: 7,
        executor_id: "0".into(),
        cpus: 1,
        run_micros: 500_000,
        ..Default::default()
    };
    let out = e.step(SimTime(4), from(DRIVER, sparkrpc::LaunchTask { data: desc.encode_to_vec() }));
    assert!(
        matches!(&sent_to(&out, DRIVER)[..], [Msg::SparkStatusUpdate(s)] if s.task_id == 7 && s.state() == sparkrpc::TaskState::Running)
    );
    assert!(out.contains(&Output::SetTimer { at: SimTime(500_004), timer: Timer::TaskDone { tid: 7 } }));
    let out = e.step(SimTime(500_004), Input::Timer(Timer::TaskDone { tid: 7 }));
    assert!(
        matches!(&sent_to(&out, DRIVER)[..], [Msg::SparkStatusUpdate(s)] if s.state() == sparkrpc::TaskState::Finished && s.task_cpus == 1)
    );

    // StopExecutor: the backend exits 0, the task is FINISHED, and the command
    // executor exits once the agent acknowledges that.
    let out = e.step(SimTime(600_000), from(DRIVER, sparkrpc::StopExecutor {}));
    assert_eq!(states(&out), vec![TaskState::TaskFinished]);
    let uuid = match &sent_to(&out, AGENT)[0] {
        Msg::ExecutorCall(c) => c.update.as_ref().unwrap().status.uuid.clone().unwrap(),
        _ => unreachable!(),
    };
    let ack = executor::Event {
        r#type: Some(executor::event::Type::Acknowledged as i32),
        acknowledged: Some(executor::event::Acknowledged { task_id: TaskId { value: "0".into() }, uuid }),
        ..Default::default()
    };
    assert_eq!(e.step(SimTime(600_100), from(AGENT, ack)), vec![Output::Exit { status: 0 }]);
}

#[test]
fn a_refused_registration_fails_the_task() {
    let mut e = exec(Ok((args(), ActorId::new(DRIVER))));
    e.step(SimTime::ZERO, Input::Start);
    e.step(SimTime(1), from(AGENT, launch()));
    e.step(SimTime(2), from(DRIVER, sparkrpc::SparkAppConfig::default()));
    let out = e.step(
        SimTime(3),
        from(DRIVER, sparkrpc::RegisterExecutorResponse { success: false, failure: "Duplicate executor ID".into() }),
    );
    assert_eq!(states(&out), vec![TaskState::TaskFailed]);
}

#[test]
fn losing_the_driver_exits_with_status_1() {
    let mut e = exec(Ok((args(), ActorId::new(DRIVER))));
    e.step(SimTime::ZERO, Input::Start);
    e.step(SimTime(1), from(AGENT, launch()));
    let out = e.step(SimTime(2), Input::Disconnected { peer: ActorId::new(DRIVER) });
    assert_eq!(states(&out), vec![TaskState::TaskFailed]);
}

#[test]
fn a_command_that_cannot_run_fails_at_once() {
    let mut e = exec(Err("no driver listens at spark://CoarseGrainedScheduler@nowhere:1".into()));
    e.step(SimTime::ZERO, Input::Start);
    let out = e.step(SimTime(1), from(AGENT, launch()));
    assert_eq!(states(&out), vec![TaskState::TaskStarting, TaskState::TaskRunning, TaskState::TaskFailed]);
}
