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
        ask_timeout: DEFAULT_ASK_TIMEOUT,
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
    assert!(out.contains(&Output::Note(
        "Cannot register with driver: spark://CoarseGrainedScheduler@edge:7078 (Duplicate executor ID)".into()
    )));
    assert_eq!(kinds(&out, DRIVER), Vec::<&str>::new(), "notifyDriver = false");
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

// ---- failures ------------------------------------------------------------------

/// The outputs without timeline notes, for exact comparison.
fn quiet(out: Vec<Output<Timer>>) -> Vec<Output<Timer>> {
    out.into_iter().filter(|o| !matches!(o, Output::Note(_))).collect()
}

fn update_of(out: &[Output<Timer>]) -> Vec<(TaskState, Option<String>)> {
    sent_to(out, AGENT)
        .into_iter()
        .filter_map(|m| match m {
            Msg::ExecutorCall(c) => c.update.map(|u| (u.status.state(), u.status.message)),
            _ => None,
        })
        .collect()
}

/// Subscribed, launched, and the backend fetching its config (asked at t=1).
fn fetching() -> SparkExecutor {
    let mut e = exec(Ok((args(), ActorId::new(DRIVER))));
    e.step(SimTime::ZERO, Input::Start);
    let out = e.step(SimTime(1), from(AGENT, launch()));
    assert!(out.contains(&Output::SetTimer {
        at: SimTime(120_000_001),
        timer: Timer::AskTimeout(Ask::RetrieveSparkAppConfig)
    }));
    e
}

/// Registered with the driver at t=3; heartbeats every 10 s from t=10 000 003.
fn registered() -> SparkExecutor {
    let mut e = fetching();
    e.step(SimTime(2), from(DRIVER, sparkrpc::SparkAppConfig::default()));
    e.step(SimTime(3), from(DRIVER, sparkrpc::RegisterExecutorResponse { success: true, failure: String::new() }));
    e
}

fn failed_with(status: i32) -> Vec<(TaskState, Option<String>)> {
    vec![(TaskState::TaskFailed, Some(format!("Command exited with status {status}")))]
}

#[test]
fn no_app_config_within_the_ask_timeout_fails_the_task_and_a_late_reply_is_ignored() {
    let mut e = fetching();
    let out = e.step(SimTime(120_000_001), Input::Timer(Timer::AskTimeout(Ask::RetrieveSparkAppConfig)));
    assert_eq!(update_of(&out), failed_with(1));
    assert_eq!(kinds(&out, DRIVER), Vec::<&str>::new());
    assert_eq!(quiet(e.step(SimTime(120_000_002), from(DRIVER, sparkrpc::SparkAppConfig::default()))), vec![]);
}

#[test]
fn no_registration_reply_within_the_ask_timeout_fails_the_task() {
    let mut e = fetching();
    let out = e.step(SimTime(2), from(DRIVER, sparkrpc::SparkAppConfig::default()));
    assert!(
        out.contains(&Output::SetTimer { at: SimTime(120_000_002), timer: Timer::AskTimeout(Ask::RegisterExecutor) })
    );
    // The config ask's timer, now stale, does nothing; a duplicate config neither.
    assert_eq!(
        quiet(e.step(SimTime(120_000_001), Input::Timer(Timer::AskTimeout(Ask::RetrieveSparkAppConfig)))),
        vec![]
    );
    assert_eq!(quiet(e.step(SimTime(120_000_001), from(DRIVER, sparkrpc::SparkAppConfig::default()))), vec![]);
    let out = e.step(SimTime(120_000_002), Input::Timer(Timer::AskTimeout(Ask::RegisterExecutor)));
    assert_eq!(update_of(&out), failed_with(1));
    let late = sparkrpc::RegisterExecutorResponse { success: true, failure: String::new() };
    assert_eq!(quiet(e.step(SimTime(120_000_003), from(DRIVER, late))), vec![]);
}

#[test]
fn a_duplicate_registration_reply_and_a_stale_ask_timer_are_ignored() {
    let mut e = registered();
    let dup = sparkrpc::RegisterExecutorResponse { success: true, failure: String::new() };
    assert_eq!(quiet(e.step(SimTime(4), from(DRIVER, dup))), vec![]);
    assert_eq!(quiet(e.step(SimTime(120_000_002), Input::Timer(Timer::AskTimeout(Ask::RegisterExecutor)))), vec![]);
}

#[test]
fn sixty_unanswered_heartbeats_in_a_row_exit_with_heartbeat_failure() {
    let mut e = registered();
    let beat = |e: &mut SparkExecutor, i: u64| e.step(SimTime(3 + i * 10_000_000), Input::Timer(Timer::Heartbeat));
    let heartbeat = sparkrpc::Heartbeat {
        executor_id: "0".into(),
        block_manager_id: Some(sparkrpc::BlockManagerId { executor_id: "0".into(), host: AGENT.into(), port: 35001 }),
    };
    assert_eq!(
        quiet(beat(&mut e, 1)),
        vec![
            Output::Send { to: ActorId::new(DRIVER), msg: heartbeat.clone().into() },
            Output::SetTimer { at: SimTime(20_000_003), timer: Timer::Heartbeat },
        ]
    );
    // Answered once: the count starts over, and a duplicate answer changes nothing.
    e.step(SimTime(10_000_010), from(DRIVER, sparkrpc::HeartbeatResponse::default()));
    e.step(SimTime(10_000_011), from(DRIVER, sparkrpc::HeartbeatResponse::default()));
    // Heartbeats 2..=61 go out unanswered; from the 3rd on, each finds the one before
    // it timed out: 59 failures in a row.
    for i in 2..=61 {
        let out = beat(&mut e, i);
        assert_eq!(kinds(&out, DRIVER), vec!["Heartbeat"], "heartbeat {i}");
    }
    // The 60th failure in a row: exit 56, the Mesos task fails.
    let out = beat(&mut e, 62);
    assert_eq!(kinds(&out, DRIVER), Vec::<&str>::new());
    assert_eq!(update_of(&out), failed_with(HEARTBEAT_FAILURE_EXIT_CODE));
    assert_eq!(quiet(beat(&mut e, 63)), vec![]);
}

#[test]
fn losing_the_agent_shuts_the_executor_down() {
    let mut e = registered();
    let desc = sparkrpc::TaskDescription { task_id: 7, cpus: 1, run_micros: 500_000, ..Default::default() };
    e.step(SimTime(4), from(DRIVER, sparkrpc::LaunchTask { data: desc.encode_to_vec() }));
    // No update can reach the agent: the container just exits.
    assert_eq!(
        quiet(e.step(SimTime(5), Input::Disconnected { peer: ActorId::new(AGENT) })),
        vec![Output::Exit { status: 0 }]
    );
}

#[test]
fn a_duplicated_launch_task_runs_the_spark_task_once() {
    let mut e = registered();
    let desc = sparkrpc::TaskDescription { task_id: 7, cpus: 1, run_micros: 500_000, ..Default::default() };
    let launch_7 = || from(DRIVER, sparkrpc::LaunchTask { data: desc.encode_to_vec() });
    assert_eq!(kinds(&e.step(SimTime(4), launch_7()), DRIVER), vec!["StatusUpdate"]);
    assert_eq!(quiet(e.step(SimTime(5), launch_7())), vec![]);
    e.step(SimTime(500_004), Input::Timer(Timer::TaskDone { tid: 7 }));
    // Not even once it has finished.
    assert_eq!(quiet(e.step(SimTime(600_000), launch_7())), vec![]);
}

#[test]
fn a_duplicated_mesos_launch_is_ignored_and_a_second_task_fails() {
    let mut e = fetching();
    assert_eq!(quiet(e.step(SimTime(2), from(AGENT, launch()))), vec![]);
    let mut other = launch();
    other.launch.as_mut().unwrap().task.task_id = TaskId { value: "9".into() };
    let out = e.step(SimTime(3), from(AGENT, other));
    let ids: Vec<_> = sent_to(&out, AGENT)
        .into_iter()
        .filter_map(|m| match m {
            Msg::ExecutorCall(c) => c.update.map(|u| (u.status.state(), u.status.task_id.value)),
            _ => None,
        })
        .collect();
    assert_eq!(ids, vec![(TaskState::TaskFailed, "9".to_string())]);
    assert_eq!(
        update_of(&out),
        vec![(TaskState::TaskFailed, Some("Attempted to run multiple tasks using a \"command\" executor".into()))]
    );
}

// ---- the Executor object's life (RegisteredExecutor … Shutdown) ----------------------

/// Config fetched, RegisterExecutor asked at t=2, no reply yet.
fn registering() -> SparkExecutor {
    let mut e = fetching();
    e.step(SimTime(2), from(DRIVER, sparkrpc::SparkAppConfig::default()));
    e
}

fn launch_task(tid: i64) -> Input<Timer> {
    let desc = sparkrpc::TaskDescription { task_id: tid, cpus: 1, run_micros: 500_000, ..Default::default() };
    from(DRIVER, sparkrpc::LaunchTask { data: desc.encode_to_vec() })
}

#[test]
fn a_launch_task_before_registered_executor_exits_1_and_tells_the_driver() {
    let mut e = registering();
    let out = e.step(SimTime(3), launch_task(7));
    assert_eq!(
        sent_to(&out, DRIVER),
        vec![Msg::RemoveExecutor(sparkrpc::RemoveExecutor {
            executor_id: "0".into(),
            reason: "Received LaunchTask command but executor was null".into(),
        })]
    );
    assert_eq!(update_of(&out), failed_with(1));
    // The process is gone: a late registration reply changes nothing.
    let ok = sparkrpc::RegisterExecutorResponse { success: true, failure: String::new() };
    assert_eq!(quiet(e.step(SimTime(4), from(DRIVER, ok))), vec![]);
}

#[test]
fn a_kill_task_before_registered_executor_exits_1_too() {
    let mut e = registering();
    let kill = sparkrpc::KillTask {
        task_id: 7,
        executor: "0".into(),
        interrupt_thread: true,
        reason: "stage cancelled".into(),
    };
    let out = e.step(SimTime(3), from(DRIVER, kill));
    assert!(
        matches!(&sent_to(&out, DRIVER)[..], [Msg::RemoveExecutor(r)] if r.reason == "Received KillTask command but executor was null")
    );
    assert_eq!(update_of(&out), failed_with(1));
}

#[test]
fn stop_executor_before_registered_executor_exits_1_without_telling_the_driver() {
    let mut e = registering();
    let out = e.step(SimTime(3), from(DRIVER, sparkrpc::StopExecutor {}));
    assert_eq!(kinds(&out, DRIVER), Vec::<&str>::new());
    assert_eq!(update_of(&out), failed_with(1));
}

#[test]
fn kill_task_reports_killed_and_the_task_never_finishes() {
    let mut e = registered();
    e.step(SimTime(4), launch_task(7));
    let kill = sparkrpc::KillTask {
        task_id: 7,
        executor: "0".into(),
        interrupt_thread: true,
        reason: "stage cancelled".into(),
    };
    let out = e.step(SimTime(5), from(DRIVER, kill.clone()));
    assert_eq!(
        quiet(out),
        vec![Output::Send {
            to: ActorId::new(DRIVER),
            msg: sparkrpc::StatusUpdate {
                executor_id: "0".into(),
                task_id: 7,
                state: sparkrpc::TaskState::Killed as i32,
                data: vec![],
                task_cpus: 1,
            }
            .into(),
        }]
    );
    assert_eq!(quiet(e.step(SimTime(500_004), Input::Timer(Timer::TaskDone { tid: 7 }))), vec![]);
    assert_eq!(quiet(e.step(SimTime(500_005), from(DRIVER, kill))), vec![], "a second KillTask finds nothing");
}

#[test]
fn heartbeats_go_every_interval_and_an_unknown_executor_is_told_to_reregister() {
    let mut e = registered();
    let out = e.step(SimTime(10_000_003), Input::Timer(Timer::Heartbeat));
    assert_eq!(kinds(&out, DRIVER), vec!["Heartbeat"]);
    assert!(out.contains(&Output::SetTimer { at: SimTime(20_000_003), timer: Timer::Heartbeat }));
    let out = e.step(SimTime(10_000_010), from(DRIVER, sparkrpc::HeartbeatResponse { reregister_block_manager: true }));
    assert_eq!(
        out,
        vec![Output::Note("the driver asks this executor to re-register its BlockManager (not modelled)".into())]
    );
    // Answered: the next heartbeat finds no failure to count.
    let out = e.step(SimTime(20_000_003), Input::Timer(Timer::Heartbeat));
    assert_eq!(kinds(&out, DRIVER), vec!["Heartbeat"]);
    assert_eq!(e.heartbeat_failures, 0);
}
