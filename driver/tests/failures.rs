//! Failures as Spark 3.5 on libmesos meets them: a lost master, Mesos ERROR,
//! lost agents and executors, spark.task.maxFailures, rescinded offers, and
//! duplicated messages.

mod common;

use common::*;
use mesocosm_driver::{DriverTimer, SparkDriver, SparkSettings};
use mesocosm_sim::msg::short_id;
use mesocosm_sim::proto::scheduler::{Call, Event, event};
use mesocosm_sim::proto::sparkrpc::{Heartbeat, HeartbeatResponse, StopExecutor, TaskState as Spark};
use mesocosm_sim::proto::v1::{OfferId, TaskState, task_status};
use mesocosm_sim::{Actor, Input, Msg, Output, sent_to};

fn retry(round: u32) -> DriverTimer {
    DriverTimer::ReliableRegistration { round }
}

/// The outputs that are not timeline notes.
fn effects(outputs: &[Output<DriverTimer>]) -> Vec<Output<DriverTimer>> {
    outputs.iter().filter(|o| !matches!(o, Output::Note(_))).cloned().collect()
}

fn error_event(message: &str) -> Input<DriverTimer> {
    event_msg(Event {
        r#type: Some(event::Type::Error as i32),
        error: Some(event::Error { message: message.into() }),
        ..Default::default()
    })
}

fn rescind(offer: OfferId) -> Input<DriverTimer> {
    event_msg(Event {
        r#type: Some(event::Type::Rescind as i32),
        rescind: Some(event::Rescind { offer_id: offer }),
        ..Default::default()
    })
}

fn agent_failure(agent: u32) -> Input<DriverTimer> {
    event_msg(Event {
        r#type: Some(event::Type::Failure as i32),
        failure: Some(event::Failure { agent_id: Some(agent_id(agent)), executor_id: None, status: None }),
        ..Default::default()
    })
}

/// The SUBSCRIBE of a driver that already has its framework id.
fn resubscribe() -> Call {
    subscribe_call(Some(framework_id()))
}

#[test]
fn losing_the_master_re_subscribes_with_the_framework_id_after_a_backoff() {
    let mut d = running(settings(), one_stage(1));
    assert!(d.connected());
    let out = d.step(at(5.0), Input::Disconnected { peer: master() });
    assert_eq!(effects(&out), vec![Output::SetTimer { at: at(7.0), timer: retry(2) }], "no exit, no call");
    assert!(notes(&out)[0].starts_with("lost the Mesos master: Spark's disconnected() only logs"), "{:?}", notes(&out));
    assert!(!d.connected());

    // libmesos drops events while disconnected: no answer, no acknowledgement.
    assert!(effects(&d.step(at(6.0), offers(vec![offer(1, 1, 4.0, 8192.0)]))).is_empty());
    assert!(effects(&d.step(at(6.0), update("0", 1, TaskState::TaskRunning, 1))).is_empty());
    // The first registration's timer is stale.
    assert!(d.step(at(6.5), Input::Timer(retry(0))).is_empty());

    // SUBSCRIBE with the FrameworkID, retried after 2, 4, 8 s.
    let out = d.step(at(7.0), Input::Timer(retry(2)));
    assert_eq!(calls(&out), vec![resubscribe()]);
    assert_eq!(timers(&out), vec![(at(9.0), retry(2))]);
    let out = d.step(at(9.0), Input::Timer(retry(2)));
    assert_eq!(calls(&out), vec![resubscribe()]);
    assert_eq!(timers(&out), vec![(at(13.0), retry(2))]);
    let out = d.step(at(13.0), Input::Timer(retry(2)));
    assert_eq!(calls(&out), vec![resubscribe()]);
    assert_eq!(timers(&out), vec![(at(21.0), retry(2))]);

    // SUBSCRIBED: `reregistered`, which Spark only logs; retries stop.
    let out = d.step(at(13.5), subscribed());
    assert_eq!(effects(&out), vec![]);
    assert_eq!(notes(&out), vec![format!("re-registered with Mesos as framework {}", fid())]);
    assert!(d.connected());
    assert!(d.step(at(21.0), Input::Timer(retry(2))).is_empty());
    let out = d.step(at(21.5), subscribed());
    assert_eq!(notes(&out), vec!["SUBSCRIBED ignored: already registered".to_string()]);
    assert_eq!(effects(&out), vec![]);

    let out = d.step(at(22.0), offers(vec![offer(2, 1, 4.0, 8192.0)]));
    assert_eq!(kinds(&out), vec!["ACCEPT"]);
    assert_eq!(d.report().framework_id, Some(fid()));
}

#[test]
fn subscribe_is_retried_with_a_backoff_doubling_to_one_minute() {
    let mut d = SparkDriver::new(config(settings(), one_stage(1)));
    let out = d.step(at(0.0), Input::Start);
    assert_eq!(kinds(&out), vec!["SUBSCRIBE"]);
    // HeartbeatReceiver's first check, then the SUBSCRIBE retry.
    assert_eq!(timers(&out), vec![(at(60.0), DriverTimer::ExpireDeadHosts), (at(2.0), retry(0))]);
    let mut when = at(2.0);
    let mut next = Vec::new();
    for _ in 0..6 {
        let out = d.step(when, Input::Timer(retry(0)));
        assert_eq!(kinds(&out), vec!["SUBSCRIBE"]);
        assert_eq!(calls(&out)[0].framework_id, None, "no id before the first SUBSCRIBED");
        let [(at_, _)] = timers(&out)[..] else { panic!("one timer expected") };
        next.push(at_);
        when = at_;
    }
    assert_eq!(next, vec![at(6.0), at(14.0), at(30.0), at(62.0), at(122.0), at(182.0)]);

    // A failover_timeout bounds the backoff at a tenth of it.
    let mut s = settings();
    s.failover_timeout = 30.0;
    let mut d = SparkDriver::new(config(s, one_stage(1)));
    let out = d.step(at(0.0), Input::Start);
    assert_eq!(timers(&out), vec![(at(60.0), DriverTimer::ExpireDeadHosts), (at(2.0), retry(0))]);
    let out = d.step(at(2.0), Input::Timer(retry(0)));
    assert_eq!(timers(&out), vec![(at(5.0), retry(0))]);
    let out = d.step(at(5.0), Input::Timer(retry(0)));
    assert_eq!(timers(&out), vec![(at(8.0), retry(0))]);
}

#[test]
fn a_restarted_driver_subscribes_with_its_framework_id() {
    let mut cfg = config(settings(), one_stage(1));
    cfg.framework_id = Some(fid());
    let mut d = SparkDriver::new(cfg);
    assert_eq!(d.report().framework_id, None);
    let out = d.step(at(0.0), Input::Start);
    assert_eq!(calls(&out), vec![resubscribe()]);

    // The master accepts the failover: libmesos calls `registered`, and Spark starts.
    let out = d.step(at(0.1), subscribed());
    assert_eq!(
        notes(&out)[0],
        format!("registered with Mesos as framework {}: this is the Spark app id (--app-id, spark.app.id)", fid())
    );
    assert_eq!(d.report().framework_id, Some(fid()));
    assert_eq!(kinds(&d.step(at(1.0), offers(vec![offer(1, 1, 4.0, 8192.0)]))), vec!["ACCEPT"]);
}

#[test]
fn error_before_subscribed_fails_the_spark_context_and_exits_1() {
    let mut cfg = config(settings(), one_stage(1));
    cfg.framework_id = Some(fid());
    let mut d = SparkDriver::new(cfg);
    d.step(at(0.0), Input::Start);
    let out = d.step(at(0.2), error_event("Framework has been removed"));
    assert_eq!(effects(&out), vec![Output::Exit { status: 1 }], "no TEARDOWN from an aborted driver");
    let r = d.report();
    assert_eq!(r.failed.as_deref(), Some("Exiting due to error from cluster scheduler: Framework has been removed"));
    assert!(!r.finished);
    assert_eq!(r.finished_at, Some(at(0.2)));
    assert!(d.step(at(2.0), Input::Timer(retry(0))).is_empty(), "the process has exited");
}

#[test]
fn a_403_refused_call_is_logged_and_aborts_nothing() {
    let (mut d, _, _) = two_executors(one_stage(5));
    let refused = Input::Refused {
        peer: "master".into(),
        kind: "DECLINE",
        refusal: mesocosm_sim::Refusal::Forbidden("Framework is not subscribed".into()),
    };
    let out = d.step(at(3.0), refused);
    assert_eq!(effects(&out), vec![], "no abort, no exit, no message");
    assert!(d.report().failed.is_none());
    // Still running: the next offer is answered.
    assert_eq!(kinds(&d.step(at(4.0), offers(vec![offer(9, 3, 4.0, 8192.0)]))), vec!["DECLINE"]);
}

#[test]
fn error_while_running_aborts_the_job_and_exits_1_after_the_shutdown_timeout() {
    let (mut d, _, _) = two_executors(one_stage(5));
    let out = d.step(at(3.0), error_event("Framework has been removed"));
    assert_eq!(sent_to(&out, "executor:pi/0"), vec![Msg::StopExecutor(StopExecutor {})]);
    assert_eq!(sent_to(&out, "executor:pi/1"), vec![Msg::StopExecutor(StopExecutor {})]);
    assert!(calls(&out).is_empty());
    assert_eq!(timers(&out), vec![(at(3.1), DriverTimer::StopPoll)]);
    assert!(exits(&out).is_empty());
    assert_eq!(d.report().failed.as_deref(), Some("Job aborted due to stage failure: Framework has been removed"));

    // The aborted libmesos ignores status updates, so stop() never sees the
    // executors end and waits out spark.mesos.coarse.shutdownTimeout.
    assert!(calls(&d.step(at(3.2), update("0", 1, TaskState::TaskFinished, 5))).is_empty());
    assert!(launches(&d.step(at(3.2), task_update("1", 2, Spark::Finished))).is_empty());
    let mut when = at(3.1);
    loop {
        let out = d.step(when, Input::Timer(DriverTimer::StopPoll));
        if let [(next, DriverTimer::StopPoll)] = timers(&out)[..] {
            when = next;
            continue;
        }
        assert_eq!(when, at(13.0));
        assert_eq!(kinds(&out), Vec::<&str>::new(), "no TEARDOWN");
        assert_eq!(exits(&out), vec![1]);
        break;
    }
    assert!(!d.report().finished);
}

#[test]
fn a_lost_agent_s_task_lost_frees_the_cores_revives_and_resubmits_the_tasks() {
    let (mut d, l0, _) = two_executors(one_stage(5));
    assert_eq!(placed(&l0), ids(&[(0, 0, "0"), (1, 1, "0")]));
    d.step(at(2.4), task_update("0", 0, Spark::Running));
    d.step(at(2.4), task_update("0", 1, Spark::Running));

    // Event FAILURE for the agent: `agentLost` only logs.
    let out = d.step(at(2.5), agent_failure(1));
    assert_eq!(effects(&out), vec![]);
    let agent = agent_id(1);
    assert_eq!(
        notes(&out),
        vec![format!(
            "Mesos reports agent {} lost: Spark only logs it and waits for the task's status update",
            short_id(&agent.value)
        )]
    );

    // TASK_LOST (REASON_AGENT_REMOVED) from the master: no uuid, so no ACK.
    let out = d.step(at(2.6), master_update("0", 1, TaskState::TaskLost, task_status::Reason::AgentRemoved));
    assert_eq!(kinds(&out), vec!["REVIVE"]);
    assert_eq!(
        notes(&out)[0],
        "executor 0 on agent-1 is TASK_LOST, REASON_AGENT_REMOVED (Spark: LOST): free its 2 cores (2 held now); \
         failure 1 of 2 on agent-1 before Spark stops using it; revive offers so Mesos clears our decline filters"
    );
    assert_eq!(d.report().task_failures, 2, "both running attempts count toward spark.task.maxFailures");
    assert_eq!(d.check_invariants(), Ok(()));

    // The freed cores bring a replacement executor; the lost tasks run again.
    let out = d.step(at(3.0), offers(vec![offer(5, 3, 4.0, 8192.0)]));
    assert_eq!(kinds(&out), vec!["ACCEPT"]);
    let out = d.step(at(3.3), task_update("1", 2, Spark::Finished));
    let l = launches(&out);
    assert_eq!(l.len(), 1);
    assert_eq!(l[0].1.name, "task 0.1 in stage 0.0 (TID 4)");
}

#[test]
fn tasks_lost_with_their_executor_count_unless_still_launching() {
    let (mut d, _, _) = two_executors(one_stage(5));
    d.step(at(2.4), task_update("0", 0, Spark::Running));
    let out = d.step(at(2.5), Input::Disconnected { peer: exec_actor("0") });
    assert!(notes(&out).iter().any(|n| n.contains("2 running task(s) go back to pending")), "{:?}", notes(&out));
    assert_eq!(d.report().task_failures, 1, "TID 1 was still launching (Spark 3.4+)");
}

#[test]
fn spark_task_max_failures_aborts_the_job_and_the_driver_exits_1() {
    let (mut d, l0, l1) = two_executors(one_stage(1));
    assert_eq!(placed(&l0), ids(&[(0, 0, "0")]));
    assert!(placed(&l1).is_empty());
    for tid in 0..3 {
        let out = d.step(at(3.0 + tid as f64), task_update("0", tid, Spark::Failed));
        assert_eq!(placed(&out), ids(&[(tid + 1, 0, "0")]), "attempt {} after a failure", tid + 1);
        assert!(exits(&out).is_empty());
    }
    let out = d.step(at(7.0), task_update("0", 3, Spark::Failed));
    assert!(launches(&out).is_empty());
    assert_eq!(sent_to(&out, "executor:pi/0"), vec![Msg::StopExecutor(StopExecutor {})]);
    assert_eq!(sent_to(&out, "executor:pi/1"), vec![Msg::StopExecutor(StopExecutor {})]);
    assert_eq!(timers(&out), vec![(at(7.1), DriverTimer::StopPoll)]);
    let r = d.report();
    assert_eq!(
        r.failed.as_deref(),
        Some(
            "Job aborted due to stage failure: Task 0 in stage 0.0 failed 4 times, most recent failure: \
             Lost task 0.3 in stage 0.0 (TID 3) (agent-1 executor 0): TaskState FAILED reported by the executor"
        )
    );
    assert_eq!(r.task_failures, 4);

    // The executors exit on StopExecutor; the connected libmesos tears down.
    assert_eq!(kinds(&d.step(at(7.2), update("0", 1, TaskState::TaskFinished, 1))), vec!["REVIVE", "ACKNOWLEDGE"]);
    assert_eq!(kinds(&d.step(at(7.25), update("1", 2, TaskState::TaskFinished, 2))), vec!["REVIVE", "ACKNOWLEDGE"]);
    let out = d.step(at(7.3), Input::Timer(DriverTimer::StopPoll));
    assert_eq!(kinds(&out), vec!["TEARDOWN"]);
    assert_eq!(exits(&out), vec![1]);
    assert!(!d.report().finished);
}

#[test]
fn an_accept_of_a_rescinded_offer_comes_back_dropped_and_frees_the_cores() {
    let mut s = settings();
    s.cores_max = Some(4);
    let mut d = running(s, one_stage(1));
    assert_eq!(kinds(&d.step(at(1.0), offers(vec![offer(1, 1, 4.0, 8192.0)]))), vec!["ACCEPT"]);
    let out = d.step(at(1.0), rescind(offer_id(1)));
    assert_eq!(effects(&out), vec![], "offerRescinded is a no-op");
    let out = d.step(at(1.1), offers(vec![offer(2, 2, 4.0, 8192.0)]));
    assert_eq!(kinds(&out), vec!["DECLINE"], "the 4 cores still count until the master answers");

    let out = d.step(at(1.2), master_update("0", 1, TaskState::TaskDropped, task_status::Reason::InvalidOffers));
    assert_eq!(kinds(&out), vec!["REVIVE"]);
    assert!(notes(&out)[0].contains("free its 4 cores (0 held now)"), "{:?}", notes(&out));
    let out = d.step(at(1.3), offers(vec![offer(3, 2, 4.0, 8192.0)]));
    assert_eq!(kinds(&out), vec!["ACCEPT"]);
    assert_eq!(d.check_invariants(), Ok(()));
}

#[test]
fn duplicated_offers_and_updates_count_once() {
    let mut s = settings();
    s.cores_max = Some(4);
    let mut d = running(s, one_stage(1));
    let batch = offers(vec![offer(1, 1, 4.0, 8192.0)]);
    assert_eq!(kinds(&d.step(at(1.0), batch.clone())), vec!["ACCEPT"]);
    let out = d.step(at(1.0), batch);
    assert_eq!(effects(&out), vec![]);
    let first = offer_id(1);
    assert_eq!(notes(&out), vec![format!("offer {} was answered already: duplicate ignored", short_id(&first.value))]);
    let r = d.report();
    assert_eq!((r.offers_received, r.offers_accepted, r.executors_launched), (1, 1, 1));

    // A terminal update twice: acknowledged twice, counted once.
    let failed = update("0", 1, TaskState::TaskFailed, 4);
    assert_eq!(kinds(&d.step(at(2.0), failed.clone())), vec!["REVIVE", "ACKNOWLEDGE"]);
    let out = d.step(at(2.0), failed);
    assert_eq!(kinds(&out), vec!["ACKNOWLEDGE"]);
    assert_eq!(
        notes(&out),
        vec![
            "status TASK_FAILED for executor 0, which has ended already: acknowledge again, count nothing".to_string()
        ]
    );
    // One failure on agent-1, not two: it is not excluded.
    assert_eq!(kinds(&d.step(at(3.0), offers(vec![offer(2, 1, 4.0, 8192.0)]))), vec!["ACCEPT"]);
    assert_eq!(d.check_invariants(), Ok(()));
}

#[test]
fn a_duplicated_launched_executor_hands_out_no_cores_twice() {
    let (mut d, l0, _) = two_executors(one_stage(5));
    assert_eq!(placed(&l0).len(), 2);
    let out = d.step(at(2.4), launched("0"));
    assert!(launches(&out).is_empty());
    assert_eq!(notes(&out), vec!["duplicate LaunchedExecutor from executor 0: ignored".to_string()]);
    assert_eq!(d.check_invariants(), Ok(()));
}

// ---- heartbeat expiry (HeartbeatReceiver) ---------------------------------------

fn heartbeat(id: &str) -> Input<DriverTimer> {
    from_exec(id, Heartbeat { executor_id: id.into(), block_manager_id: None })
}

fn expire_dead_hosts() -> Input<DriverTimer> {
    Input::Timer(DriverTimer::ExpireDeadHosts)
}

#[test]
fn an_executor_silent_past_the_network_timeout_is_killed_at_the_next_check_and_its_tasks_fail() {
    let (mut d, l0, l1) = two_executors(one_stage(5));
    assert_eq!(placed(&l0), ids(&[(0, 0, "0"), (1, 1, "0")]));
    assert_eq!(placed(&l1), ids(&[(2, 2, "1"), (3, 3, "1")]));
    d.step(at(2.4), task_update("1", 2, Spark::Running)); // TID 3 stays launching

    // Executor 0 heartbeats every 10 s throughout; executor 1's last one is at
    // 59.5 s. The checks at 60 s and 120 s find it silent 0.5 s and 60.5 s.
    let mut events: Vec<(f64, Option<&str>)> = (1..=17).map(|i| (2.0 + 10.0 * f64::from(i), Some("0"))).collect();
    events.extend((0..6).map(|i| (9.5 + 10.0 * f64::from(i), Some("1"))));
    events.extend([(60.0, None), (120.0, None)]);
    events.sort_by(|a, b| a.0.total_cmp(&b.0));
    for (t, who) in events {
        match who {
            Some(id) => {
                d.step(at(t), heartbeat(id));
            }
            None => {
                let out = d.step(at(t), expire_dead_hosts());
                let next = Output::SetTimer { at: at(t + 60.0), timer: DriverTimer::ExpireDeadHosts };
                assert_eq!(effects(&out), vec![next], "nothing expires at {t} s");
            }
        }
    }

    // At 180 s executor 1 has been silent 120.5 s > spark.network.timeout.
    let out = d.step(at(180.0), expire_dead_hosts());
    assert_eq!(calls(&out), vec![kill("1")], "killAndReplaceExecutor → doKillExecutors");
    assert_eq!(sent_to(&out, "executor:pi/1"), vec![Msg::StopExecutor(StopExecutor {})], "RemoveExecutor");
    assert!(sent_to(&out, "executor:pi/0").is_empty());
    assert_eq!(timers(&out), vec![(at(240.0), DriverTimer::ExpireDeadHosts)]);
    assert!(launches(&out).is_empty(), "executor 0 has no free core");
    let n = notes(&out);
    assert_eq!(
        n[0],
        "Removing executor 1 with no recent heartbeats: 120500 ms exceeds timeout 120000 ms; kill its Mesos task so a \
         replacement is launched"
    );
    assert!(
        n.contains(
            &"executor 1 removed (Executor heartbeat timed out after 120500 ms); 2 running task(s) go back to pending"
                .to_string()
        ),
        "{n:#?}"
    );
    assert_eq!(d.report().task_failures, 1, "TID 2 was RUNNING (counts); TID 3 was still launching (does not)");

    // The freed core of executor 0 takes the lowest pending index, TID 2's, as attempt 1.
    let out = d.step(at(181.0), task_update("0", 0, Spark::Finished));
    let l = launches(&out);
    assert_eq!(l.len(), 1);
    assert_eq!((l[0].1.name.as_str(), l[0].1.attempt_number), ("task 2.1 in stage 0.0 (TID 4)", 1));

    // A late heartbeat of the expired executor is told to re-register.
    let out = d.step(at(182.0), heartbeat("1"));
    assert_eq!(
        sent_to(&out, "executor:pi/1"),
        vec![Msg::HeartbeatResponse(HeartbeatResponse { reregister_block_manager: true })]
    );

    // The kill comes back as TASK_KILLED: cores freed, offers revived, no agent failure.
    let out = d.step(at(183.0), update("1", 2, TaskState::TaskKilled, 9));
    assert_eq!(kinds(&out), vec!["REVIVE", "ACKNOWLEDGE"]);
    assert_eq!(d.check_invariants(), Ok(()));
    assert_eq!(
        kinds(&d.step(at(184.0), offers(vec![offer(7, 2, 4.0, 8192.0)]))),
        vec!["ACCEPT"],
        "agent-2 is not excluded"
    );
}

#[test]
fn a_silence_of_exactly_the_timeout_is_not_expired() {
    let (mut d, _, _) = two_executors(one_stage(4));
    d.step(at(59.999), heartbeat("1"));
    d.step(at(60.0), heartbeat("0"));
    d.step(at(60.0), expire_dead_hosts());
    d.step(at(120.0), expire_dead_hosts());
    let out = d.step(at(180.0), expire_dead_hosts());
    assert_eq!(calls(&out), vec![kill("1")], "120001 ms > 120000 ms, but 120000 ms is not");
    let out = d.step(at(240.0), expire_dead_hosts());
    assert_eq!(calls(&out), vec![kill("0")]);
    assert!(notes(&out)[0].starts_with("Removing executor 0 with no recent heartbeats: 180000 ms exceeds"));
}

#[test]
fn a_heartbeat_timeout_fails_running_tasks_up_to_spark_task_max_failures() {
    let s = SparkSettings { executor_cores: Some(2), cores_max: Some(2), task_max_failures: 1, ..settings() };
    let mut d = running(s, one_stage(1));
    d.step(at(1.0), offers(vec![offer(1, 1, 4.0, 8192.0)]));
    d.step(at(2.0), register("0", "agent-1", 2));
    d.step(at(2.1), launched("0"));
    d.step(at(2.2), task_update("0", 0, Spark::Running));
    assert!(calls(&d.step(at(120.0), expire_dead_hosts())).is_empty(), "silent 118 s");
    let out = d.step(at(180.0), expire_dead_hosts());
    assert_eq!(calls(&out), vec![kill("0")]);
    assert_eq!(sent_to(&out, "executor:pi/0"), vec![Msg::StopExecutor(StopExecutor {})], "once, from RemoveExecutor");
    assert_eq!(
        d.report().failed.as_deref(),
        Some(
            "Job aborted due to stage failure: Task 0 in stage 0.0 failed 1 times, most recent failure: Lost task 0.0 \
             in stage 0.0 (TID 0) (agent-1 executor 0): ExecutorLostFailure (executor 0 exited caused by one of the \
             running tasks) Reason: Executor heartbeat timed out after 178000 ms"
        )
    );
    assert_eq!(timers(&out).iter().filter(|(_, t)| *t == DriverTimer::StopPoll).count(), 1, "stop() runs");
}

#[test]
fn heartbeat_settings_spark_rejects_fail_the_spark_context() {
    let s = SparkSettings { heartbeat_interval: std::time::Duration::from_secs(150), ..settings() };
    let mut d = SparkDriver::new(config(s, one_stage(1)));
    let out = d.step(at(0.0), Input::Start);
    assert_eq!(effects(&out), vec![Output::Exit { status: 1 }]);
    assert_eq!(
        d.report().failed.as_deref(),
        Some(
            "requirement failed: The value of spark.network.timeout=120000ms must be greater than the value of \
             spark.executor.heartbeatInterval=150000ms."
        )
    );
}
