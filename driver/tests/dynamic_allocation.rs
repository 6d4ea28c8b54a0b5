//! Dynamic allocation on Mesos: the executor limit (`doRequestTotalExecutors`),
//! kills (`doKillExecutors`), the locality wait, and the driver's
//! `ExecutorAllocationManager` moving the limit with the task backlog.

mod common;

use common::*;
use mesocosm_driver::{DriverTimer, SparkDriver, SparkSettings};
use mesocosm_sim::proto::scheduler::Call;
use mesocosm_sim::proto::sparkrpc::TaskState as SparkTask;
use mesocosm_sim::proto::v1::TaskState;
use mesocosm_sim::{Actor, Input, Outbox, Output};
use std::collections::BTreeMap;
use std::time::Duration;

fn dynamic(f: impl FnOnce(&mut SparkSettings)) -> SparkSettings {
    let mut s = settings();
    s.dynamic_allocation.enabled = true;
    s.shuffle_service_enabled = true;
    s.executor_cores = Some(1);
    f(&mut s);
    s
}

/// Call `f` on the driver with an outbox at `secs`, and return what it recorded.
fn with_outbox(
    d: &mut SparkDriver,
    secs: f64,
    f: impl FnOnce(&mut SparkDriver, &mut Outbox<DriverTimer>),
) -> Vec<Output<DriverTimer>> {
    let mut out = Outbox::new(at(secs));
    f(d, &mut out);
    out.take()
}

fn request(d: &mut SparkDriver, secs: f64, total: u32, hosts: &[(&str, u32)]) -> Vec<Output<DriverTimer>> {
    let hosts: BTreeMap<String, u32> = hosts.iter().map(|(h, n)| (h.to_string(), *n)).collect();
    with_outbox(d, secs, |d, out| d.request_total_executors(total, hosts, out))
}

fn tick(d: &mut SparkDriver, secs: f64) -> Vec<Output<DriverTimer>> {
    d.step(at(secs), Input::Timer(DriverTimer::AllocationSchedule))
}

fn allocation_ticks(out: &[Output<DriverTimer>]) -> Vec<mesocosm_sim::SimTime> {
    timers(out).into_iter().filter(|(_, t)| *t == DriverTimer::AllocationSchedule).map(|(at, _)| at).collect()
}

#[test]
fn with_dynamic_allocation_every_offer_is_declined_without_filter_until_executors_are_requested() {
    let mut d = running(dynamic(|_| {}), one_stage(4));
    let out = d.step(at(0.5), offers(vec![offer(1, 1, 4.0, 8192.0), offer(2, 2, 4.0, 8192.0)]));
    assert_eq!(kinds(&out), vec!["DECLINE", "DECLINE"]);
    assert!(calls(&out).iter().all(|c| declined_refuse(c).is_none()), "no Filters: the limit may move any time");
    assert!(notes(&out)[0].contains("executor limit 0 reached"), "{:#?}", notes(&out));

    // requestTotalExecutors(2): no Mesos call, no REVIVE; the next offers launch two.
    let out = request(&mut d, 0.6, 2, &[]);
    assert!(calls(&out).is_empty());
    assert_eq!(notes(&out), vec!["doRequestTotalExecutors: executor limit 0 → 2 (0 launched or running); no REVIVE, declined offers return when their filters expire".to_string()]);
    let out =
        d.step(at(5.5), offers(vec![offer(3, 1, 4.0, 8192.0), offer(4, 2, 4.0, 8192.0), offer(5, 3, 4.0, 8192.0)]));
    assert_eq!(kinds(&out), vec!["ACCEPT", "ACCEPT", "DECLINE"]);
    let c = calls(&out);
    let ids = |c: &Call| launched_tasks(c).iter().map(|t| t.task_id.value.clone()).collect::<Vec<_>>();
    assert_eq!((ids(&c[0]), ids(&c[1])), (vec!["0".to_string()], vec!["1".to_string()]), "one pass, then the limit");
    assert_eq!(declined_refuse(&c[2]), None);
    assert!(notes(&out)[2].contains("executor limit 2 reached (2 launched or running"), "{:#?}", notes(&out));
}

#[test]
fn kill_executors_sends_one_kill_per_executor_by_task_id_and_keeps_the_limit() {
    let mut d = running(dynamic(|_| {}), one_stage(4));
    request(&mut d, 0.2, 2, &[]);
    let out = d.step(at(1.0), offers(vec![offer(1, 1, 4.0, 8192.0)]));
    assert_eq!(launched_tasks(&calls(&out)[0]).len(), 2);

    let out = with_outbox(&mut d, 2.0, |d, out| assert!(d.kill_executors(&["1".to_string(), "0".to_string()], out)));
    assert_eq!(calls(&out), vec![kill("1"), kill("0")]);
    // Until their TASK_KILLED arrives they still count against the limit of 2.
    let out = d.step(at(3.0), offers(vec![offer(2, 2, 4.0, 8192.0)]));
    assert_eq!(kinds(&out), vec!["DECLINE"]);
    let out = d.step(at(4.0), update("1", 1, TaskState::TaskKilled, 1));
    assert_eq!(kinds(&out), vec!["REVIVE", "ACKNOWLEDGE"]);
    let out = d.step(at(5.0), offers(vec![offer(3, 2, 4.0, 8192.0)]));
    assert_eq!(kinds(&out), vec!["ACCEPT"], "the limit is still 2");
}

#[test]
fn kill_executors_before_registration_sends_nothing() {
    let mut d = SparkDriver::new(config(dynamic(|_| {}), one_stage(1)));
    d.step(at(0.0), Input::Start);
    let out = with_outbox(&mut d, 0.05, |d, out| assert!(!d.kill_executors(&["0".to_string()], out)));
    assert!(calls(&out).is_empty());
}

#[test]
fn locality_hints_hold_offers_from_other_hosts_for_the_locality_wait() {
    let mut d = running(dynamic(|_| {}), one_stage(4));
    request(&mut d, 1.0, 2, &[("agent-2", 3)]);
    // Launching starts at 1.5, which restarts the wait: agent-1 waits until 1.5 + 3 s.
    let out = d.step(at(1.5), offers(vec![offer(1, 1, 4.0, 8192.0), offer(2, 2, 4.0, 8192.0)]));
    assert_eq!(kinds(&out), vec!["DECLINE", "ACCEPT"]);
    assert_eq!(declined_refuse(&calls(&out)[0]), None);
    assert!(notes(&out)[0].contains("waiting for locality: agent-1"), "{:#?}", notes(&out));
    assert_eq!(launched_tasks(&calls(&out)[1]).len(), 1, "agent-2 has its executor now: the second one waits too");
    let out = d.step(at(4.5), offers(vec![offer(3, 1, 4.0, 8192.0)]));
    assert_eq!(kinds(&out), vec!["DECLINE"], "exactly spark.locality.wait: still waiting");
    let out = d.step(at(4.6), offers(vec![offer(4, 1, 4.0, 8192.0)]));
    assert_eq!(kinds(&out), vec!["ACCEPT"]);
}

#[test]
fn a_new_request_restarts_the_locality_wait() {
    let mut d = running(dynamic(|s| s.locality_wait = Duration::from_secs(1)), one_stage(4));
    request(&mut d, 1.0, 3, &[("agent-9", 1)]);
    let out = d.step(at(1.5), offers(vec![offer(1, 1, 4.0, 8192.0)]));
    assert_eq!(kinds(&out), vec!["DECLINE"]);
    request(&mut d, 2.4, 3, &[("agent-9", 1)]);
    let out = d.step(at(3.0), offers(vec![offer(2, 1, 4.0, 8192.0)]));
    assert_eq!(kinds(&out), vec!["DECLINE"], "0.6 s since the request");
    let out = d.step(at(3.5), offers(vec![offer(3, 1, 4.0, 8192.0)]));
    assert_eq!(kinds(&out), vec!["ACCEPT"]);
}

#[test]
fn without_dynamic_allocation_locality_hints_do_not_matter() {
    let mut s = settings();
    s.executor_cores = Some(1);
    let mut d = running(s, one_stage(4));
    request(&mut d, 1.0, 1, &[("agent-9", 1)]);
    let out = d.step(at(1.5), offers(vec![offer(1, 1, 4.0, 8192.0)]));
    assert_eq!(kinds(&out), vec!["ACCEPT"]);
}

#[test]
fn a_backlog_raises_the_limit_by_1_then_2_on_the_100ms_ticks() {
    let mut d = SparkDriver::new(config(dynamic(|_| {}), one_stage(3)));
    d.step(at(0.0), Input::Start);
    let out = d.step(at(0.1), subscribed());
    assert!(calls(&out).is_empty());
    // Three tasks wait: the backlog timer ends 1 s later, on the grid from registration.
    assert_eq!(allocation_ticks(&out), vec![at(1.1)]);
    assert!(notes(&out).iter().any(|n| n.contains("executor limit 0 → 0")), "{:#?}", notes(&out));

    let out = tick(&mut d, 1.1);
    assert!(calls(&out).is_empty(), "requests are not Mesos calls");
    assert!(notes(&out).iter().any(|n| n.contains("target 0 → 1")), "{:#?}", notes(&out));
    assert_eq!(allocation_ticks(&out), vec![at(2.1)], "sustainedSchedulerBacklogTimeout");
    let out = d.step(at(1.5), offers(vec![offer(1, 1, 4.0, 8192.0)]));
    assert_eq!(launched_tasks(&calls(&out)[0]).len(), 1);

    let out = tick(&mut d, 2.1);
    assert!(notes(&out).iter().any(|n| n.contains("target 1 → 3")), "{:#?}", notes(&out));
    let out = d.step(at(2.5), offers(vec![offer(2, 2, 4.0, 8192.0)]));
    let ids: Vec<String> = launched_tasks(&calls(&out)[0]).into_iter().map(|t| t.task_id.value).collect();
    assert_eq!(ids, vec!["2", "1"]);
    // Three executors for three tasks: nothing more to add.
    let out = tick(&mut d, 3.1);
    assert!(notes(&out).iter().all(|n| !n.contains("dynamic allocation:")), "{:#?}", notes(&out));
    assert_eq!(allocation_ticks(&out), vec![]);
}

#[test]
fn an_executor_idle_for_executor_idle_timeout_is_killed_down_to_the_target() {
    let s = dynamic(|s| s.dynamic_allocation.initial_executors = Some(2));
    let mut d = SparkDriver::new(config(s, one_stage(2)));
    d.step(at(0.0), Input::Start);
    let out = d.step(at(0.1), subscribed());
    assert!(notes(&out).iter().any(|n| n.contains("executor limit 0 → 2")), "{:#?}", notes(&out));
    let out = d.step(at(0.5), offers(vec![offer(1, 1, 4.0, 8192.0)]));
    assert_eq!(launched_tasks(&calls(&out)[0]).len(), 2);
    d.step(at(1.0), register("0", "agent-1", 1));
    assert_eq!(placed(&d.step(at(1.05), launched("0"))), ids(&[(0, 0, "0")]));
    tick(&mut d, 1.1);
    d.step(at(1.2), register("1", "agent-1", 1));
    assert_eq!(placed(&d.step(at(1.25), launched("1"))), ids(&[(1, 1, "1")]));

    // Task 1 ends: one running task needs one executor; the target drops at the next tick.
    let out = d.step(at(5.0), task_update("1", 1, SparkTask::Finished));
    assert_eq!(allocation_ticks(&out), vec![at(5.1)]);
    let out = tick(&mut d, 5.1);
    assert!(notes(&out).iter().any(|n| n.contains("lower the target 2 → 1")), "{:#?}", notes(&out));
    assert!(calls(&out).is_empty(), "lowering the target kills nothing");
    // Executor 1 has been idle since 5.0: executorIdleTimeout (60 s) later it goes.
    assert_eq!(allocation_ticks(&out), vec![at(65.0)]);
    let out = tick(&mut d, 65.0);
    assert_eq!(calls(&out), vec![kill("1")]);
    assert!(notes(&out).iter().any(|n| n.contains("executor(s) 1 idle for 60s")), "{:#?}", notes(&out));
    let out = d.step(at(65.5), update("1", 1, TaskState::TaskKilled, 7));
    assert_eq!(kinds(&out), vec!["REVIVE", "ACKNOWLEDGE"]);
    // Executor 0 is busy: never killed.
    let out = tick(&mut d, 130.0);
    assert!(calls(&out).is_empty());
}

#[test]
fn dynamic_allocation_without_a_shuffle_service_fails_after_registering_and_tears_down() {
    let mut s = dynamic(|_| {});
    s.shuffle_service_enabled = false;
    let mut d = SparkDriver::new(config(s, one_stage(1)));
    let out = d.step(at(0.0), Input::Start);
    assert_eq!(kinds(&out), vec!["SUBSCRIBE"], "the backend registers before the allocation manager exists");
    let out = d.step(at(0.1), subscribed());
    assert_eq!(kinds(&out), vec!["TEARDOWN"]);
    assert_eq!(exits(&out), vec![1]);
    let failed = d.report().failed.unwrap();
    assert!(
        failed.starts_with("Dynamic allocation of executors requires one of the following conditions: 1) enabling external shuffle service through spark.shuffle.service.enabled."),
        "{failed}"
    );
}

#[test]
fn shuffle_tracking_is_enough_for_dynamic_allocation() {
    let mut s = dynamic(|s| s.dynamic_allocation.shuffle_tracking_enabled = true);
    s.shuffle_service_enabled = false;
    let mut d = SparkDriver::new(config(s, one_stage(1)));
    d.step(at(0.0), Input::Start);
    let out = d.step(at(0.1), subscribed());
    assert!(calls(&out).is_empty() && exits(&out).is_empty());
}
