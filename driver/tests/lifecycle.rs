//! The executor RPC, task placement, and the driver's life from Start to exit.

mod common;

use common::*;
use mesocosm_driver::{DriverTimer, Job, SparkDriver, SparkSettings, Stage};
use mesocosm_sim::proto::sparkrpc::{
    Heartbeat, HeartbeatResponse, RegisterExecutorResponse, RemoveExecutor, RetrieveSparkAppConfig, SparkAppConfig,
    StopExecutor, TaskDescription, TaskState as Spark, spark_app_config,
};
use mesocosm_sim::proto::v1::TaskState;
use mesocosm_sim::{Actor, Input, Msg, SimTime, sent_to};
use std::time::Duration;

#[test]
fn executor_handshake_and_task_placement() {
    let s = SparkSettings { executor_cores: Some(2), cores_max: Some(4), ..SparkSettings::default() };
    let mut d = running(s, one_stage(5));
    d.step(at(1.0), offers(vec![offer(1, 1, 4.0, 8192.0), offer(2, 2, 4.0, 8192.0)]));

    // 1. The executor fetches its conf: every spark.* key plus spark.app.id.
    let out = d.step(at(2.0), from_exec("0", RetrieveSparkAppConfig { resource_profile_id: 0 }));
    let prop = |k: &str, v: &str| spark_app_config::Property { key: k.into(), value: v.into() };
    assert_eq!(
        sent_to(&out, "executor:pi/0"),
        vec![Msg::SparkAppConfig(SparkAppConfig {
            spark_properties: vec![
                prop("spark.app.name", "pi"),
                prop("spark.master", "mesos://master:5050"),
                prop("spark.app.id", &fid()),
            ],
            ..Default::default()
        })]
    );

    // 2. It registers; no task yet (freeCores = 0 until LaunchedExecutor).
    let out = d.step(at(2.05), register("0", "agent-1", 2));
    assert_eq!(
        sent_to(&out, "executor:pi/0"),
        vec![Msg::RegisterExecutorResponse(RegisterExecutorResponse { success: true, failure: String::new() })]
    );
    assert!(launches(&out).is_empty());

    // A second registration under the same id is refused.
    let out = d.step(at(2.06), register("0", "agent-1", 2));
    assert_eq!(
        sent_to(&out, "executor:pi/0"),
        vec![Msg::RegisterExecutorResponse(RegisterExecutorResponse {
            success: false,
            failure: "Duplicate executor ID: 0".into()
        })]
    );

    // 3. LaunchedExecutor: its 2 cores take the two lowest pending tasks.
    let out = d.step(at(2.1), launched("0"));
    let l = launches(&out);
    assert_eq!(l.len(), 2);
    assert_eq!(l[0].0, "executor:pi/0");
    assert_eq!(
        l[0].1,
        TaskDescription {
            task_id: 0,
            attempt_number: 0,
            executor_id: "0".into(),
            name: "task 0.0 in stage 0.0 (TID 0)".into(),
            index: 0,
            partition_id: 0,
            cpus: 1,
            run_micros: 1_000_000,
        }
    );
    assert_eq!(placed(&out), ids(&[(0, 0, "0"), (1, 1, "0")]));

    d.step(at(2.2), register("1", "agent-2", 2));
    let out = d.step(at(2.3), launched("1"));
    assert_eq!(placed(&out), ids(&[(2, 2, "1"), (3, 3, "1")]));

    // 4. RUNNING changes nothing; FINISHED frees a core for the last task.
    assert!(d.step(at(2.4), task_update("0", 0, Spark::Running)).is_empty());
    let out = d.step(at(3.1), task_update("0", 0, Spark::Finished));
    assert_eq!(placed(&out), ids(&[(4, 4, "0")]));
    let out = d.step(at(3.1), task_update("0", 1, Spark::Finished));
    assert!(launches(&out).is_empty(), "nothing left to run");

    // 5. Heartbeats: known executors keep their block manager.
    let hb = |id: &str| from_exec(id, Heartbeat { executor_id: id.into(), block_manager_id: None });
    let out = d.step(at(12.0), hb("1"));
    assert_eq!(
        sent_to(&out, "executor:pi/1"),
        vec![Msg::HeartbeatResponse(HeartbeatResponse { reregister_block_manager: false })]
    );
    let out = d.step(at(12.0), hb("7"));
    assert_eq!(
        sent_to(&out, "executor:pi/7"),
        vec![Msg::HeartbeatResponse(HeartbeatResponse { reregister_block_manager: true })],
        "an unknown executor is asked to re-register"
    );
    assert_eq!(d.report().tasks_finished, 2);
}

#[test]
fn app_completion_stops_executors_then_tears_down_after_the_last_terminal_update() {
    let (mut d, _, _) = two_executors(one_stage(4));
    for tid in 0..3 {
        let exec = if tid < 2 { "0" } else { "1" };
        let out = d.step(at(3.0), task_update(exec, tid, Spark::Finished));
        assert!(sent_to(&out, "executor:pi/0").iter().all(|m| !matches!(m, Msg::StopExecutor(_))));
    }
    let out = d.step(at(3.5), task_update("1", 3, Spark::Finished));
    assert_eq!(sent_to(&out, "executor:pi/0"), vec![Msg::StopExecutor(StopExecutor {})]);
    assert_eq!(sent_to(&out, "executor:pi/1"), vec![Msg::StopExecutor(StopExecutor {})]);
    assert!(kinds(&out).is_empty(), "no TEARDOWN while executors remain");
    assert_eq!(timers(&out), vec![(at(3.6), DriverTimer::StopPoll)]);
    let n = notes(&out);
    assert!(n.iter().any(|n| n.contains("job 0 (count) finished")), "{n:#?}");

    // Offers during shutdown are declined without a filter.
    let out = d.step(at(3.55), offers(vec![offer(9, 3, 4.0, 8192.0)]));
    assert_eq!(kinds(&out), vec!["DECLINE"]);
    assert_eq!(calls(&out)[0].decline.as_ref().unwrap().filters, None);

    // Executors register too late once stop() ran: the endpoint is gone.
    let out = d.step(at(3.56), register("5", "agent-3", 2));
    assert!(matches!(&sent_to(&out, "executor:pi/5")[0], Msg::RegisterExecutorResponse(r) if !r.success));

    let out = d.step(at(3.6), Input::Timer(DriverTimer::StopPoll));
    assert_eq!(timers(&out), vec![(at(3.7), DriverTimer::StopPoll)]);

    // Executor 0 exits 0: TASK_FINISHED, acknowledged, and the backend revives.
    let out = d.step(at(3.65), update("0", 1, TaskState::TaskFinished, 7));
    assert_eq!(kinds(&out), vec!["REVIVE", "ACKNOWLEDGE"]);
    let out = d.step(at(3.7), Input::Timer(DriverTimer::StopPoll));
    assert_eq!(kinds(&out), Vec::<&str>::new());

    let out = d.step(at(3.72), update("1", 2, TaskState::TaskFinished, 8));
    assert_eq!(kinds(&out), vec!["REVIVE", "ACKNOWLEDGE"]);
    assert!(exits(&out).is_empty(), "Spark notices at its next 100 ms poll");
    let out = d.step(at(3.8), Input::Timer(DriverTimer::StopPoll));
    assert_eq!(kinds(&out), vec!["TEARDOWN"]);
    assert_eq!(calls(&out)[0].framework_id, Some(framework_id()));
    assert_eq!(exits(&out), vec![0]);

    let r = d.report();
    assert!(r.finished && r.failed.is_none());
    assert_eq!((r.tasks_finished, r.executors_launched), (4, 2));
    assert_eq!((r.started_at, r.finished_at), (Some(SimTime::ZERO), Some(at(3.8))));

    // The process has exited: nothing more happens.
    assert!(d.step(at(4.0), Input::Timer(DriverTimer::StopPoll)).is_empty());
}

#[test]
fn shutdown_timeout_tears_down_anyway() {
    let (mut d, _, _) = two_executors(one_stage(1));
    let out = d.step(at(5.0), task_update("0", 0, Spark::Finished));
    assert_eq!(sent_to(&out, "executor:pi/1"), vec![Msg::StopExecutor(StopExecutor {})]);
    let mut next = timers(&out);
    let mut polls = 0;
    loop {
        let [(when, timer)] = next[..] else { panic!("expected one timer, got {next:?}") };
        polls += 1;
        let out = d.step(when, Input::Timer(timer));
        if !kinds(&out).is_empty() {
            assert_eq!(kinds(&out), vec!["TEARDOWN"]);
            assert_eq!(exits(&out), vec![0]);
            assert_eq!(when, at(15.0), "spark.mesos.coarse.shutdownTimeout = 10 s");
            assert!(notes(&out).iter().any(|n| n.contains("timed out waiting for 2 executor(s)")), "{:?}", notes(&out));
            break;
        }
        next = timers(&out);
    }
    assert_eq!(polls, 100);
    assert!(d.report().finished);
}

#[test]
fn a_lost_executor_s_tasks_are_retried_elsewhere() {
    let (mut d, l0, l1) = two_executors(one_stage(5));
    assert_eq!(placed(&l0), ids(&[(0, 0, "0"), (1, 1, "0")]));
    assert_eq!(placed(&l1), ids(&[(2, 2, "1"), (3, 3, "1")]));
    let out = d.step(at(2.5), update("0", 1, TaskState::TaskLost, 3));
    assert_eq!(kinds(&out), vec!["REVIVE", "ACKNOWLEDGE"]);
    assert!(launches(&out).is_empty(), "executor 1 has no free core");
    assert!(notes(&out).iter().any(|n| n.contains("2 running task(s) go back to pending")), "{:?}", notes(&out));

    // A late status from the dead executor is ignored.
    let out = d.step(at(2.6), task_update("0", 0, Spark::Finished));
    assert!(launches(&out).is_empty());

    let out = d.step(at(3.3), task_update("1", 2, Spark::Finished));
    let l = launches(&out);
    assert_eq!(l.len(), 1);
    assert_eq!((l[0].1.name.as_str(), l[0].1.attempt_number), ("task 0.1 in stage 0.0 (TID 4)", 1));

    // The freed cores bring a replacement executor.
    let out = d.step(at(4.0), offers(vec![offer(5, 3, 4.0, 8192.0)]));
    assert_eq!(kinds(&out), vec!["ACCEPT"]);
}

#[test]
fn stages_then_jobs_run_one_after_another() {
    let secs = |n: usize| vec![Duration::from_secs(2); n];
    let workload = vec![
        Job::chain("a", vec![Stage::new("map", secs(2)), Stage::new("reduce", secs(1))]),
        Job::chain("b", vec![Stage::new("collect", secs(1))]),
    ];
    let (mut d, l0, l1) = two_executors(workload);
    assert_eq!(placed(&l0).len(), 2);
    assert!(placed(&l1).is_empty(), "stage 0 has only two tasks");
    d.step(at(4.0), task_update("0", 0, Spark::Finished));
    let out = d.step(at(4.1), task_update("0", 1, Spark::Finished));
    assert_eq!(launches(&out)[0].1.name, "task 0.0 in stage 1.0 (TID 2)");
    let n = notes(&out);
    assert!(n.iter().any(|n| n.starts_with("stage 0 (map) of job 0 finished: 2 tasks in 4.000s")), "{n:#?}");
    let out = d.step(at(6.0), task_update("0", 2, Spark::Finished));
    assert_eq!(launches(&out)[0].1.name, "task 0.0 in stage 2.0 (TID 3)");
    assert!(notes(&out).iter().any(|n| n.starts_with("job 1 (b) started")));
}

#[test]
fn no_workload_stops_right_after_subscribed() {
    let mut d = SparkDriver::new(config(settings(), vec![]));
    d.step(at(0.0), Input::Start);
    let out = d.step(at(0.2), subscribed());
    assert_eq!(kinds(&out), vec!["TEARDOWN"]);
    assert_eq!(exits(&out), vec![0]);
    assert_eq!(d.report().finished_at, Some(at(0.2)));
}

#[test]
fn a_bad_constraint_string_fails_before_subscribing() {
    let s = SparkSettings { constraints: "os;zone:us-east".into(), ..SparkSettings::default() };
    let mut d = SparkDriver::new(config(s, one_stage(1)));
    let out = d.step(at(0.0), Input::Start);
    assert!(calls(&out).is_empty());
    assert_eq!(exits(&out), vec![1]);
    assert_eq!(d.report().failed.as_deref(), Some("Bad constraint string: os;zone:us-east"));
}

#[test]
fn a_broken_executor_connection_removes_it() {
    let (mut d, _, _) = two_executors(one_stage(5));
    let out = d.step(at(2.5), Input::Disconnected { peer: exec_actor("1") });
    assert!(notes(&out).iter().any(|n| n.contains("Remote RPC client disassociated")));
    assert!(kinds(&out).is_empty(), "Mesos is not told: the task's own status update will follow");
    let out = d.step(at(3.0), task_update("0", 0, Spark::Finished));
    // Pending: 2 and 3 (back from executor 1) and 4; the freed core takes the lowest.
    assert_eq!(placed(&out), ids(&[(4, 2, "0")]));
}

#[test]
fn remove_executor_from_an_executor_stops_and_removes_it() {
    let (mut d, _, l1) = two_executors(one_stage(5));
    assert_eq!(placed(&l1), ids(&[(2, 2, "1"), (3, 3, "1")]));
    d.step(at(2.4), task_update("1", 2, Spark::Running));
    let reason = "Received LaunchTask command but executor was null";
    let out = d.step(at(2.5), from_exec("1", RemoveExecutor { executor_id: "1".into(), reason: reason.into() }));
    assert_eq!(sent_to(&out, "executor:pi/1"), vec![Msg::StopExecutor(StopExecutor {})]);
    assert!(kinds(&out).is_empty(), "Mesos hears of it from the task's status update");
    assert!(notes(&out).contains(&format!("executor 1 removed ({reason}); 2 running task(s) go back to pending")));
    assert_eq!(d.report().task_failures, 1, "the RUNNING TID 2 counts, the launching TID 3 does not");
    // Unknown by now: a second one does nothing.
    let again = d.step(at(2.6), from_exec("1", RemoveExecutor { executor_id: "1".into(), reason: reason.into() }));
    assert!(again.is_empty());
}

#[test]
fn an_executor_on_an_agent_excluded_after_it_launched_still_registers() {
    // Spark refuses a registration only for `excludeOnFailure` hosts (off by
    // default); the Mesos agent exclusion only stops new launches there.
    let s = SparkSettings { executor_cores: Some(1), cores_max: Some(3), ..SparkSettings::default() };
    let mut d = running(s, one_stage(1));
    let out = d.step(at(1.0), offers(vec![offer(1, 1, 3.0, 8192.0)]));
    assert_eq!(calls(&out)[0].accept.as_ref().unwrap().operations[0].launch.as_ref().unwrap().task_infos.len(), 3);
    d.step(at(2.0), update("0", 1, TaskState::TaskFailed, 1));
    d.step(at(2.1), update("1", 1, TaskState::TaskFailed, 2));
    assert_eq!(kinds(&d.step(at(2.2), offers(vec![offer(2, 1, 3.0, 8192.0)]))), vec!["DECLINE"], "agent-1 is excluded");
    let out = d.step(at(3.0), register("2", "agent-1", 1));
    assert_eq!(
        sent_to(&out, "executor:pi/2"),
        vec![Msg::RegisterExecutorResponse(RegisterExecutorResponse { success: true, failure: String::new() })]
    );
}
