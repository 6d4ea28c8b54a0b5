//! Before the first task: `waitBackendReady` and the starvation warning.

mod common;

use common::*;
use mesocosm_driver::{DriverTimer, STARVATION_WARNING, SparkDriver, SparkSettings};
use mesocosm_sim::{Actor, Input};

fn driver(settings: SparkSettings, props: &[(&str, &str)], tasks: usize) -> SparkDriver {
    let mut cfg = config(settings, one_stage(tasks));
    cfg.properties.extend(props.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    SparkDriver::new(cfg)
}

fn eight_cores() -> SparkSettings {
    SparkSettings { executor_cores: Some(4), cores_max: Some(8), ..SparkSettings::default() }
}

#[test]
fn the_job_waits_until_registered_cores_reach_the_ratio_of_cores_max() {
    let mut d = driver(eight_cores(), &[("spark.scheduler.minRegisteredResourcesRatio", "0.5")], 6);
    d.step(at(0.0), Input::Start);
    let out = d.step(at(0.1), subscribed());
    assert_eq!(
        notes(&out)[1..],
        ["waitBackendReady: no job runs until registered executors hold spark.cores.max × \
          spark.scheduler.minRegisteredResourcesRatio = 4 core(s) or 30s (maxRegisteredResourcesWaitingTime) pass; \
          checked every 100 ms"
            .to_string()]
    );
    assert_eq!(timers(&out), vec![(at(0.2), DriverTimer::BackendReadyPoll)]);
    let out = d.step(at(0.2), Input::Timer(DriverTimer::BackendReadyPoll));
    assert_eq!(timers(&out), vec![(at(0.3), DriverTimer::BackendReadyPoll)]);
    assert!(notes(&out).is_empty());

    // Executors launch and register meanwhile, but no task runs.
    let out = d.step(at(1.0), offers(vec![offer(1, 1, 4.0, 8192.0), offer(2, 2, 4.0, 8192.0)]));
    assert_eq!(kinds(&out), vec!["ACCEPT", "ACCEPT"]);
    d.step(at(2.0), register("0", "agent-1", 4));
    assert!(launches(&d.step(at(2.05), launched("0"))).is_empty(), "no job yet");

    // The next check sees 4 registered cores: 4 >= 8 × 0.5.
    let out = d.step(at(2.1), Input::Timer(DriverTimer::BackendReadyPoll));
    assert_eq!(
        notes(&out)[..2],
        [
            "SchedulerBackend is ready for scheduling: 4 registered core(s) reach spark.cores.max × \
             minRegisteredResourcesRatio = 4"
                .to_string(),
            "job 0 (count) started: 1 stage(s)".to_string()
        ]
    );
    assert_eq!(placed(&out), ids(&[(0, 0, "0"), (1, 1, "0"), (2, 2, "0"), (3, 3, "0")]));
    assert_eq!(timers(&out), vec![(at(17.1), DriverTimer::Starvation)]);
}

#[test]
fn the_wait_ends_after_max_registered_resources_waiting_time() {
    let props = [
        ("spark.scheduler.minRegisteredResourcesRatio", "1.0"),
        ("spark.scheduler.maxRegisteredResourcesWaitingTime", "2s"),
    ];
    let mut d = driver(eight_cores(), &props, 2);
    d.step(at(0.0), Input::Start);
    d.step(at(0.1), subscribed());
    d.step(at(0.5), offers(vec![offer(1, 1, 4.0, 8192.0)]));
    d.step(at(0.6), register("0", "agent-1", 4));
    d.step(at(0.7), launched("0"));
    let out = d.step(at(1.9), Input::Timer(DriverTimer::BackendReadyPoll));
    assert!(placed(&out).is_empty(), "4 of 8 cores and 1.9s: still waiting");
    // Two seconds since the backend was created (the driver's start).
    let out = d.step(at(2.0), Input::Timer(DriverTimer::BackendReadyPoll));
    assert_eq!(
        notes(&out)[0],
        "SchedulerBackend is ready for scheduling: waited spark.scheduler.maxRegisteredResourcesWaitingTime=2s \
         with 4 of the 8 core(s) registered"
    );
    assert_eq!(placed(&out), ids(&[(0, 0, "0"), (1, 1, "0")]));
}

#[test]
fn without_cores_max_or_with_the_default_ratio_the_job_starts_at_once() {
    for (s, props) in [
        (SparkSettings::default(), vec![("spark.scheduler.minRegisteredResourcesRatio", "1")]),
        (eight_cores(), vec![]),
    ] {
        let mut d = driver(s, &props, 1);
        d.step(at(0.0), Input::Start);
        let out = d.step(at(0.1), subscribed());
        assert!(notes(&out).iter().any(|n| n == "job 0 (count) started: 1 stage(s)"), "{:?}", notes(&out));
    }
}

#[test]
fn a_bad_ratio_fails_the_driver_at_start_as_spark_s_conf_check_does() {
    for (v, e) in [
        ("lots", "spark.scheduler.minRegisteredResourcesRatio should be double, but was lots"),
        ("1.5", "'1.5' in spark.scheduler.minRegisteredResourcesRatio is invalid. The value should be in [0, 1]."),
    ] {
        let mut d = driver(eight_cores(), &[("spark.scheduler.minRegisteredResourcesRatio", v)], 1);
        let out = d.step(at(0.0), Input::Start);
        assert_eq!(exits(&out), vec![1]);
        assert_eq!(d.report().failed.as_deref(), Some(e));
    }
}

/// A started driver, subscribed at 0.1 s, whose job started at once.
fn started(s: SparkSettings) -> SparkDriver {
    let mut d = driver(s, &[], 4);
    d.step(at(0.0), Input::Start);
    let out = d.step(at(0.1), subscribed());
    assert_eq!(timers(&out).last(), Some(&(at(15.1), DriverTimer::Starvation)));
    d
}

fn starve(d: &mut SparkDriver, secs: f64) -> String {
    let out = d.step(at(secs), Input::Timer(DriverTimer::Starvation));
    assert_eq!(timers(&out), vec![(at(secs + 15.0), DriverTimer::Starvation)]);
    let n = notes(&out);
    assert_eq!(n.len(), 1);
    assert_eq!(d.report().starved.as_deref(), Some(n[0].as_str()));
    n[0].strip_prefix(&format!("{STARVATION_WARNING} (spark.starvation.timeout): ")).expect("the warning").to_string()
}

#[test]
fn an_executor_bigger_than_every_offer_is_named_in_the_starvation_warning() {
    let mut d =
        started(SparkSettings { executor_memory_mib: 4096, executor_cores: Some(4), ..SparkSettings::default() });
    d.step(at(1.0), offers(vec![offer(1, 1, 2.0, 2048.0), offer(2, 2, 1.0, 4096.0)]));
    assert_eq!(
        starve(&mut d, 15.1),
        "an executor needs cpus:4 mem:4505 (spark.executor.cores 4, spark.executor.memory 4096 + overhead) but the \
         largest offer was cpus:2 mem:2048"
    );
    starve(&mut d, 30.1);
    assert_eq!(d.report().starvation_warnings, 2);
}

#[test]
fn cores_max_zero_and_no_offers_are_named_too() {
    let mut d = started(SparkSettings { cores_max: Some(0), ..SparkSettings::default() });
    d.step(at(1.0), offers(vec![offer(1, 1, 4.0, 8192.0)]));
    assert_eq!(
        starve(&mut d, 15.1),
        "spark.cores.max = 0 allows no executor (SPARK-20483 rounds it down to whole executors)"
    );
    let mut d = started(SparkSettings::default());
    assert_eq!(
        starve(&mut d, 15.1),
        "no offer has reached the app: no agent has registered with the master, or the master offers every \
         agent's resources to other frameworks"
    );
}

#[test]
fn the_warning_stops_once_a_task_launched() {
    let mut d = started(SparkSettings::default());
    d.step(at(1.0), offers(vec![offer(1, 1, 4.0, 8192.0)]));
    d.step(at(2.0), register("0", "agent-1", 4));
    assert_eq!(placed(&d.step(at(2.1), launched("0"))).len(), 4);
    let out = d.step(at(15.1), Input::Timer(DriverTimer::Starvation));
    assert!(out.is_empty(), "{out:?}");
    assert_eq!((d.report().starved, d.report().starvation_warnings), (None, 0));
}
