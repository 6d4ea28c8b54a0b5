//! Jobs as DAGs of stages through the whole driver: independent stages run
//! at once, a lost executor's map output is recomputed, and its finished map
//! tasks are Resubmitted.

mod common;

use common::*;
use mesocosm_driver::{DriverTimer, Job, SparkDriver, Stage};
use mesocosm_sim::proto::sparkrpc::TaskState as Spark;
use mesocosm_sim::proto::v1::TaskState;
use mesocosm_sim::{Actor, Input, Output};
use std::time::Duration;

fn secs(n: usize) -> Vec<Duration> {
    vec![Duration::from_secs(1); n]
}

/// `(name, partition, executor)` of each LaunchTask.
fn named(out: &[Output<DriverTimer>]) -> Vec<(String, i32, String)> {
    launches(out).into_iter().map(|(_, d)| (d.name, d.partition_id, d.executor_id)).collect()
}

fn expect(v: &[(&str, i32, &str)]) -> Vec<(String, i32, String)> {
    v.iter().map(|(n, p, e)| (n.to_string(), *p, e.to_string())).collect()
}

#[test]
fn job_chain_links_each_stage_to_the_previous_one() {
    let j = Job::chain("count", vec![Stage::new("a", secs(1)), Stage::new("b", secs(1)), Stage::new("c", secs(1))]);
    let parents: Vec<Vec<usize>> = j.stages.iter().map(|s| s.parents.clone()).collect();
    assert_eq!(parents, vec![vec![], vec![0], vec![1]]);
    assert_eq!(j.check(), Ok(()));
    assert_eq!(Job { name: "empty".into(), stages: vec![] }.check(), Ok(()));
}

#[test]
fn job_check_rejects_dags_spark_cannot_build() {
    let forward = Job { name: "j".into(), stages: vec![Stage::new("a", secs(1)).with_parents(vec![0])] };
    assert_eq!(
        forward.check(),
        Err("job \"j\": stage 0 (a) lists parent 0, which is not an earlier stage of the job".to_string())
    );
    let orphan = Job {
        name: "j".into(),
        stages: vec![
            Stage::new("a", secs(1)),
            Stage::new("b", secs(1)),
            Stage::new("c", secs(1)).with_parents(vec![1]),
        ],
    };
    assert_eq!(
        orphan.check(),
        Err("job \"j\": stage 0 (a) is not the last stage, so it must be a parent of a later one".to_string())
    );

    // The driver fails the way a SparkContext that cannot start does.
    let mut d = SparkDriver::new(config(settings(), vec![orphan]));
    let out = d.step(at(0.0), Input::Start);
    assert_eq!(exits(&out), vec![1]);
    assert!(calls(&out).is_empty());
}

#[test]
fn two_independent_parents_run_at_once_and_their_child_starts_after_both() {
    let join = Job {
        name: "join".into(),
        stages: vec![
            Stage::new("left", secs(2)),
            Stage::new("right", secs(2)),
            Stage::new("join", secs(2)).with_parents(vec![0, 1]),
        ],
    };
    let (mut d, l0, l1) = two_executors(vec![join]);
    // Stage 0 takes executor 0's cores; stage 1 runs beside it on executor 1.
    assert_eq!(
        named(&l0),
        expect(&[("task 0.0 in stage 0.0 (TID 0)", 0, "0"), ("task 1.0 in stage 0.0 (TID 1)", 1, "0")])
    );
    assert_eq!(
        named(&l1),
        expect(&[("task 0.0 in stage 1.0 (TID 2)", 0, "1"), ("task 1.0 in stage 1.0 (TID 3)", 1, "1")])
    );

    d.step(at(3.0), task_update("0", 0, Spark::Finished));
    let out = d.step(at(3.1), task_update("0", 1, Spark::Finished));
    assert!(launches(&out).is_empty(), "the join waits for the right side");
    assert_eq!(
        notes(&out),
        vec![
            "stage 0 (left) of job 0 finished: 2 tasks in 3.000s".to_string(),
            "stage 2 (join) of job 0 waits for its parent stage(s) 1".to_string(),
        ]
    );
    assert!(launches(&d.step(at(3.2), task_update("1", 2, Spark::Finished))).is_empty());
    let out = d.step(at(3.3), task_update("1", 3, Spark::Finished));
    assert!(
        notes(&out).contains(&"stage 2 (join) of job 0 started: 2 tasks waiting for 1 free core(s) each".to_string())
    );
    assert_eq!(
        named(&out),
        expect(&[("task 0.0 in stage 2.0 (TID 4)", 0, "0"), ("task 1.0 in stage 2.0 (TID 5)", 1, "1")])
    );
}

#[test]
fn losing_an_executor_in_the_child_stage_recomputes_the_parent_s_lost_partitions_then_the_child_goes_on() {
    let job = Job::chain("count", vec![Stage::new("map", secs(4)), Stage::new("reduce", secs(6))]);
    let (mut d, l0, l1) = two_executors(vec![job]);
    assert_eq!(placed(&l0), ids(&[(0, 0, "0"), (1, 1, "0")]));
    assert_eq!(placed(&l1), ids(&[(2, 2, "1"), (3, 3, "1")]), "executor 1 writes map partitions 2 and 3");
    for (exec, tid) in [("0", 0), ("0", 1), ("1", 2)] {
        d.step(at(3.0), task_update(exec, tid, Spark::Finished));
    }
    let out = d.step(at(3.0), task_update("1", 3, Spark::Finished));
    assert_eq!(placed(&out), ids(&[(4, 0, "0"), (5, 1, "1"), (6, 2, "0"), (7, 3, "1")]));
    d.step(at(3.1), task_update("1", 5, Spark::Running));
    d.step(at(3.1), task_update("1", 7, Spark::Running));

    // Executor 1 is lost: its two running reduce tasks fail (and count), and
    // map partitions 2 and 3 must be recomputed before reduce tasks 4 and 5 run.
    let out = d.step(at(4.0), update("1", 2, TaskState::TaskLost, 1));
    assert_eq!(kinds(&out), vec!["REVIVE", "ACKNOWLEDGE"]);
    assert!(launches(&out).is_empty(), "executor 0 is busy");
    let n = notes(&out);
    let from = n.iter().position(|n| n.starts_with("executor 1 removed")).expect("removal note");
    assert_eq!(
        n[from..].to_vec(),
        vec![
            "executor 1 removed (Executor finished with state LOST); 2 running task(s) go back to pending",
            "stage 0 (map) of job 0 lost 2 map output(s) with executor 1: partition(s) 2,3 must be recomputed before a \
             stage that reads them launches more tasks",
            "stage 1 (reduce) of job 0 needs the map output of partition(s) 2,3 of stage 0 (map), lost with their \
             executor (Spark learns it from a FetchFailed): its 4 task(s) not yet launched wait for the recompute",
            "stage 0 (map) of job 0 resubmitted as attempt 1 (stage 0.1): recomputing partition(s) 2,3, whose map \
             output was lost",
        ]
    );
    assert_eq!(d.report().task_failures, 2);

    // A replacement executor runs only the lost map partitions, as stage 0.1.
    assert_eq!(kinds(&d.step(at(5.0), offers(vec![offer(3, 3, 4.0, 8192.0)]))), vec!["ACCEPT"]);
    d.step(at(6.0), register("2", "agent-3", 2));
    let out = d.step(at(6.1), launched("2"));
    assert_eq!(
        named(&out),
        expect(&[("task 0.0 in stage 0.1 (TID 8)", 2, "2"), ("task 1.0 in stage 0.1 (TID 9)", 3, "2")])
    );
    // Executor 0's free core gets nothing while stage 0 recomputes.
    assert!(launches(&d.step(at(6.5), task_update("0", 4, Spark::Finished))).is_empty());
    assert!(launches(&d.step(at(7.0), task_update("2", 8, Spark::Finished))).is_empty());

    // The recompute finishes: the waiting reduce tasks run, lowest index first,
    // the two that failed with their next attempt number.
    let out = d.step(at(7.1), task_update("2", 9, Spark::Finished));
    assert!(notes(&out).contains(&"stage 0 (map) of job 0 finished attempt 1: 2 tasks in 3.100s".to_string()));
    assert_eq!(
        named(&out),
        expect(&[
            ("task 1.1 in stage 1.0 (TID 10)", 1, "0"),
            ("task 3.1 in stage 1.0 (TID 11)", 3, "2"),
            ("task 4.0 in stage 1.0 (TID 12)", 4, "2"),
        ])
    );
    assert_eq!(d.check_invariants(), Ok(()));
}

#[test]
fn losing_an_executor_in_a_map_stage_resubmits_its_finished_tasks_and_counts_only_the_running_ones() {
    let job = Job::chain("count", vec![Stage::new("map", secs(6)), Stage::new("reduce", secs(1))]);
    let (mut d, _, _) = two_executors(vec![job]);
    let out = d.step(at(3.0), task_update("1", 2, Spark::Finished));
    assert_eq!(placed(&out), ids(&[(4, 4, "1")]));
    d.step(at(3.1), task_update("1", 3, Spark::Running));
    d.step(at(3.1), task_update("1", 4, Spark::Running));

    let out = d.step(at(4.0), Input::Disconnected { peer: exec_actor("1") });
    assert!(
        notes(&out).contains(
            &"stage 0 (map) of job 0 lost 1 map output(s) with executor 1: its finished task(s) for partition(s) 2 are \
              Resubmitted (pending again, not counted toward spark.task.maxFailures)"
                .to_string()
        ),
        "{:#?}",
        notes(&out)
    );
    assert_eq!(d.report().task_failures, 2, "TIDs 3 and 4 were running; the Resubmitted TID 2 does not count");
    assert_eq!(d.report().tasks_finished, 1, "TID 2 did finish once");

    // Pending again: 2 (Resubmitted), 3 and 4 (failed), 5 (never ran).
    let out = d.step(at(5.0), task_update("0", 0, Spark::Finished));
    assert_eq!(named(&out), expect(&[("task 2.1 in stage 0.0 (TID 5)", 2, "0")]));
    let out = d.step(at(5.1), task_update("0", 1, Spark::Finished));
    assert_eq!(named(&out), expect(&[("task 3.1 in stage 0.0 (TID 6)", 3, "0")]));
}
