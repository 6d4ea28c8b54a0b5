//! The task scheduler's unit tests: placement order, attempt numbers,
//! `spark.task.maxFailures`, stage DAGs, map-output loss and recompute, and
//! the memory a huge stage costs. Each feeds the scheduler directly and
//! asserts the tasks it launches and the notes it writes.

use super::*;
use crate::config::Stage as Spec;
use crate::config::TaskDurations;
use mesocosm_sim::proto::sparkrpc::{TaskDescription, TaskState};
use std::sync::Arc;
use std::time::Duration;

fn secs(n: usize) -> Vec<Duration> {
    vec![Duration::from_secs(1); n]
}

/// A chain of stages with `stages[i]` one-second tasks each.
fn job(name: &str, stages: &[usize]) -> Job {
    Job::chain(name, stages.iter().enumerate().map(|(i, n)| Spec::new(format!("s{i}"), secs(*n))).collect())
}

fn offer(id: &str, free: u32) -> WorkerOffer {
    WorkerOffer { executor_id: id.into(), host: format!("agent-{id}"), free_cores: free }
}

fn sched(jobs: Vec<Job>, max_failures: u32) -> TaskScheduler {
    TaskScheduler::new(jobs, 1, max_failures, false)
}

/// `(name, partition, executor)` of each launch.
fn placed(t: &[TaskDescription]) -> Vec<(&str, i32, &str)> {
    t.iter().map(|d| (d.name.as_str(), d.partition_id, d.executor_id.as_str())).collect()
}

fn finish(s: &mut TaskScheduler, tids: &[u64]) {
    for t in tids {
        assert!(
            matches!(s.status_update(*t, TaskState::Finished), TaskOutcome::Ended { finished: true, .. }),
            "TID {t}"
        );
    }
}

fn at(secs: u64) -> SimTime {
    SimTime(secs * 1_000_000)
}

#[test]
fn passes_go_round_robin_over_executors_lowest_index_first() {
    let mut s = sched(vec![job("j", &[5])], 4);
    s.advance(SimTime::ZERO, &mut Vec::new());
    let mut offers = vec![offer("0", 2), offer("1", 2)];
    let t = s.resource_offers(&mut offers);
    let placed: Vec<_> = t.iter().map(|d| (d.index, d.executor_id.as_str(), d.task_id)).collect();
    assert_eq!(placed, vec![(0, "0", 0), (1, "1", 1), (2, "0", 2), (3, "1", 3)]);
    assert_eq!(t[0].name, "task 0.0 in stage 0.0 (TID 0)");
    assert_eq!(offers, vec![offer("0", 0), offer("1", 0)]);
    assert!(s.has_pending());
}

#[test]
fn lost_tasks_are_retried_with_the_next_attempt_number() {
    let mut s = sched(vec![job("j", &[2])], 4);
    s.advance(SimTime::ZERO, &mut Vec::new());
    s.resource_offers(&mut [offer("0", 2)]);
    assert_eq!(s.executor_lost("0", "gone", true, &mut Vec::new()), vec![0, 1]);
    assert_eq!(s.task_failures, 0, "both were still launching");
    let t = s.resource_offers(&mut [offer("1", 1)]);
    assert_eq!(t[0].name, "task 0.1 in stage 0.0 (TID 2)");
    assert_eq!(s.status_update(0, TaskState::Finished), TaskOutcome::Unknown, "TID 0 was lost");
}

#[test]
fn chained_stages_and_jobs_run_in_order_and_empty_ones_pass_through() {
    let mut s = sched(vec![job("a", &[1, 0]), job("b", &[]), job("c", &[1])], 4);
    let mut notes = Vec::new();
    s.advance(SimTime::ZERO, &mut notes);
    let t = s.resource_offers(&mut [offer("0", 4)]);
    assert_eq!(t.len(), 1);
    finish(&mut s, &[0]);
    s.advance(SimTime(2_000_000), &mut notes);
    assert!(!s.all_done());
    let t = s.resource_offers(&mut [offer("0", 4)]);
    assert_eq!((t[0].name.as_str(), t[0].task_id), ("task 0.0 in stage 2.0 (TID 1)", 1));
    finish(&mut s, &[1]);
    s.advance(SimTime(3_000_000), &mut notes);
    assert!(s.all_done());
    assert_eq!(s.tasks_finished, 2);
    assert_eq!(
        notes,
        vec![
            "job 0 (a) started: 2 stage(s)",
            "stage 1 (s1) of job 0 waits for its parent stage(s) 0",
            "stage 0 (s0) of job 0 started: 1 tasks waiting for 1 free core(s) each",
            "stage 0 (s0) of job 0 finished: 1 tasks in 2.000s",
            "stage 1 (s1) of job 0 started: 0 tasks waiting for 1 free core(s) each",
            "stage 1 (s1) of job 0 finished: 0 tasks in 0.000s",
            "job 0 (a) finished in 2.000s",
            "job 1 (b) started: 0 stage(s)",
            "job 1 (b) finished in 0.000s",
            "job 2 (c) started: 1 stage(s)",
            "stage 2 (s0) of job 2 started: 1 tasks waiting for 1 free core(s) each",
            "stage 2 (s0) of job 2 finished: 1 tasks in 1.000s",
            "job 2 (c) finished in 1.000s",
        ]
    );
}

#[test]
fn killed_attempts_do_not_count_and_the_max_failures_th_failure_aborts() {
    let mut s = sched(vec![job("j", &[1]), job("k", &[1])], 2);
    s.advance(SimTime::ZERO, &mut Vec::new());
    s.resource_offers(&mut [offer("0", 1)]);
    assert!(matches!(s.status_update(0, TaskState::Killed), TaskOutcome::Ended { finished: false, .. }));
    assert_eq!((s.task_failures, s.has_pending()), (0, true), "KILLED: TaskKilled does not count");
    s.resource_offers(&mut [offer("0", 1)]);
    s.status_update(1, TaskState::Failed);
    assert_eq!((s.task_failures, s.aborted.is_none()), (1, true));
    s.resource_offers(&mut [offer("0", 1)]);
    s.status_update(2, TaskState::Running);
    s.executor_lost("0", "Executor finished with state LOST", true, &mut Vec::new());
    assert_eq!(s.task_failures, 2, "a RUNNING attempt lost with its executor counts");
    assert_eq!(
        s.aborted.as_deref(),
        Some(
            "Job aborted due to stage failure: Task 0 in stage 0.0 failed 2 times, most recent failure: \
             Lost task 0.2 in stage 0.0 (TID 2) (agent-0 executor 0): ExecutorLostFailure (executor 0 exited \
             caused by one of the running tasks) Reason: Executor finished with state LOST"
        )
    );
    assert!(!s.has_pending() && !s.all_done());
    assert!(!s.advance(SimTime(5_000_000), &mut Vec::new()), "job k never starts");
    assert!(s.resource_offers(&mut [offer("0", 1)]).is_empty());
}

#[test]
fn a_loss_that_is_not_the_app_s_fault_counts_nothing() {
    let mut s = sched(vec![job("j", &[1])], 1);
    s.advance(SimTime::ZERO, &mut Vec::new());
    s.resource_offers(&mut [offer("0", 1)]);
    s.status_update(0, TaskState::Running);
    s.executor_lost("0", "Executor killed by driver.", false, &mut Vec::new());
    assert_eq!((s.task_failures, s.aborted.as_deref()), (0, None));
    assert_eq!(s.resource_offers(&mut [offer("1", 1)])[0].name, "task 0.1 in stage 0.0 (TID 1)");
}

#[test]
fn two_independent_parents_run_at_once_and_their_child_waits_for_both() {
    let join = Job {
        name: "join".into(),
        stages: vec![
            Spec::new("left", secs(2)),
            Spec::new("right", secs(2)),
            Spec::new("join", secs(2)).with_parents(vec![0, 1]),
        ],
    };
    let mut s = sched(vec![join], 4);
    let mut notes = Vec::new();
    assert!(s.advance(SimTime::ZERO, &mut notes));
    assert_eq!(
        notes,
        vec![
            "job 0 (join) started: 3 stage(s)",
            "stage 2 (join) of job 0 waits for its parent stage(s) 0,1",
            "stage 0 (left) of job 0 started: 2 tasks waiting for 1 free core(s) each",
            "stage 1 (right) of job 0 started: 2 tasks waiting for 1 free core(s) each",
        ]
    );
    // FIFO by stage id: stage 0 takes what it can, stage 1 gets the rest.
    let t = s.resource_offers(&mut [offer("0", 2), offer("1", 2)]);
    assert_eq!(
        placed(&t),
        vec![
            ("task 0.0 in stage 0.0 (TID 0)", 0, "0"),
            ("task 1.0 in stage 0.0 (TID 1)", 1, "1"),
            ("task 0.0 in stage 1.0 (TID 2)", 0, "0"),
            ("task 1.0 in stage 1.0 (TID 3)", 1, "1"),
        ]
    );

    // The left side finishes: the join still waits for the right side.
    finish(&mut s, &[0, 1]);
    let mut notes = Vec::new();
    s.advance(at(1), &mut notes);
    assert_eq!(
        notes,
        vec![
            "stage 0 (left) of job 0 finished: 2 tasks in 1.000s",
            "stage 2 (join) of job 0 waits for its parent stage(s) 1",
        ]
    );
    assert!(!s.has_pending());
    assert!(s.resource_offers(&mut [offer("0", 2), offer("1", 2)]).is_empty());

    finish(&mut s, &[2, 3]);
    let mut notes = Vec::new();
    assert!(s.advance(at(2), &mut notes));
    assert_eq!(
        notes,
        vec![
            "stage 1 (right) of job 0 finished: 2 tasks in 2.000s",
            "stage 2 (join) of job 0 started: 2 tasks waiting for 1 free core(s) each",
        ]
    );
    let t = s.resource_offers(&mut [offer("0", 2), offer("1", 2)]);
    assert_eq!(placed(&t), vec![("task 0.0 in stage 2.0 (TID 4)", 0, "0"), ("task 1.0 in stage 2.0 (TID 5)", 1, "1")]);
    finish(&mut s, &[4, 5]);
    s.advance(at(3), &mut Vec::new());
    assert!(s.all_done());
}

#[test]
fn a_loss_during_the_child_stage_recomputes_exactly_the_lost_map_outputs() {
    let mut s = sched(vec![job("j", &[4, 4])], 4);
    s.advance(SimTime::ZERO, &mut Vec::new());
    let t = s.resource_offers(&mut [offer("0", 2), offer("1", 2)]);
    assert_eq!(
        placed(&t).iter().map(|(_, p, e)| (*p, *e)).collect::<Vec<_>>(),
        vec![(0, "0"), (1, "1"), (2, "0"), (3, "1")]
    );
    finish(&mut s, &[0, 1, 2, 3]);
    s.advance(at(1), &mut Vec::new());
    // Two reduce tasks run, two wait for cores.
    let t = s.resource_offers(&mut [offer("0", 1), offer("1", 1)]);
    assert_eq!(placed(&t), vec![("task 0.0 in stage 1.0 (TID 4)", 0, "0"), ("task 1.0 in stage 1.0 (TID 5)", 1, "1")]);
    s.status_update(5, TaskState::Running);

    // Executor 1 held map partitions 1 and 3.
    let mut notes = Vec::new();
    assert_eq!(s.executor_lost("1", "Executor finished with state LOST", true, &mut notes), vec![5]);
    assert_eq!(
        notes,
        vec![
            "stage 0 (s0) of job 0 lost 2 map output(s) with executor 1: partition(s) 1,3 must be recomputed \
             before a stage that reads them launches more tasks"
        ]
    );
    assert_eq!(s.task_failures, 1, "the RUNNING reduce task counts");
    let mut notes = Vec::new();
    assert!(s.advance(at(2), &mut notes));
    assert_eq!(
        notes,
        vec![
            "stage 1 (s1) of job 0 needs the map output of partition(s) 1,3 of stage 0 (s0), lost with their \
             executor (Spark learns it from a FetchFailed): its 3 task(s) not yet launched wait for the recompute",
            "stage 0 (s0) of job 0 resubmitted as attempt 1 (stage 0.1): recomputing partition(s) 1,3, whose \
             map output was lost",
        ]
    );

    // Only the lost partitions run, as attempt 1 of stage 0, with task
    // indices of the new task set; the reduce tasks wait even with cores free.
    let mut offers = [offer("0", 1), offer("2", 2)];
    let t = s.resource_offers(&mut offers);
    assert_eq!(placed(&t), vec![("task 0.0 in stage 0.1 (TID 6)", 1, "0"), ("task 1.0 in stage 0.1 (TID 7)", 3, "2")]);
    assert_eq!((t[1].index, t[1].attempt_number), (1, 0));
    assert_eq!(offers[1].free_cores, 1);
    assert!(!s.has_pending());

    finish(&mut s, &[6, 7]);
    let mut notes = Vec::new();
    assert!(s.advance(at(3), &mut notes), "the reduce tasks may run again");
    assert_eq!(notes, vec!["stage 0 (s0) of job 0 finished attempt 1: 2 tasks in 1.000s"]);
    let t = s.resource_offers(&mut [offer("0", 1), offer("2", 2)]);
    assert_eq!(
        placed(&t),
        vec![
            ("task 1.1 in stage 1.0 (TID 8)", 1, "0"),
            ("task 2.0 in stage 1.0 (TID 9)", 2, "2"),
            ("task 3.0 in stage 1.0 (TID 10)", 3, "2"),
        ]
    );
    finish(&mut s, &[4, 8, 9, 10]);
    s.advance(at(4), &mut Vec::new());
    assert!(s.all_done());
    assert_eq!((s.tasks_finished, s.task_failures), (4 + 2 + 4, 1));
}

#[test]
fn a_loss_during_a_map_stage_resubmits_its_finished_tasks_without_counting_them() {
    let mut s = sched(vec![job("j", &[4, 1])], 2);
    s.advance(SimTime::ZERO, &mut Vec::new());
    s.resource_offers(&mut [offer("0", 2), offer("1", 2)]);
    finish(&mut s, &[0, 1]);
    s.status_update(2, TaskState::Running);
    s.status_update(3, TaskState::Running);

    let mut notes = Vec::new();
    assert_eq!(s.executor_lost("1", "Remote RPC client disassociated", true, &mut notes), vec![3]);
    assert_eq!(
        notes,
        vec![
            "stage 0 (s0) of job 0 lost 1 map output(s) with executor 1: its finished task(s) for partition(s) 1 \
             are Resubmitted (pending again, not counted toward spark.task.maxFailures)"
        ]
    );
    assert_eq!(s.task_failures, 1, "only the running TID 3");
    let tsm = s.stages[0].tsm.as_ref().unwrap();
    assert_eq!(tsm.failures, BTreeMap::from([(3, 1)]));
    assert_eq!(tsm.pending.iter().collect::<Vec<_>>(), vec![1, 3]);
    assert!(s.aborted.is_none());
    assert!(!s.advance(at(1), &mut Vec::new()), "the same task set goes on: nothing to resubmit");

    // Both run again in the same stage attempt, with their next attempt numbers.
    let t = s.resource_offers(&mut [offer("0", 1), offer("2", 1)]);
    assert_eq!(placed(&t), vec![("task 1.1 in stage 0.0 (TID 4)", 1, "0"), ("task 3.1 in stage 0.0 (TID 5)", 3, "2")]);
    finish(&mut s, &[2, 4, 5]);
    s.advance(at(2), &mut Vec::new());
    let t = s.resource_offers(&mut [offer("0", 1)]);
    assert_eq!(placed(&t), vec![("task 0.0 in stage 1.0 (TID 6)", 0, "0")]);
}

#[test]
fn outputs_lost_outside_a_resubmitted_attempt_bring_another_attempt() {
    let mut s = sched(vec![job("j", &[3, 2])], 4);
    s.advance(SimTime::ZERO, &mut Vec::new());
    s.resource_offers(&mut [offer("0", 2), offer("1", 1)]); // partitions 0, 2 on 0; 1 on 1
    finish(&mut s, &[0, 1, 2]);
    s.advance(at(1), &mut Vec::new());
    s.resource_offers(&mut [offer("0", 1)]); // reduce 0 on executor 0 (TID 3)
    s.executor_lost("1", "gone", true, &mut Vec::new());
    s.advance(at(2), &mut Vec::new());
    let t = s.resource_offers(&mut [offer("2", 1)]);
    assert_eq!(placed(&t), vec![("task 0.0 in stage 0.1 (TID 4)", 1, "2")]);

    // Executor 0 goes too, with partitions 0 and 2, which attempt 1 does not run.
    let mut notes = Vec::new();
    assert_eq!(s.executor_lost("0", "gone", true, &mut notes), vec![3]);
    assert_eq!(s.task_failures, 0, "TID 3 was still launching");
    assert_eq!(
        notes,
        vec![
            "stage 0 (s0) of job 0 lost 2 map output(s) with executor 0: partition(s) 0,2 must be recomputed \
             before a stage that reads them launches more tasks"
        ]
    );
    finish(&mut s, &[4]);
    let mut notes = Vec::new();
    s.advance(at(3), &mut notes);
    assert_eq!(
        notes,
        vec![
            "stage 0 (s0) of job 0 finished attempt 1: 1 tasks in 1.000s",
            "stage 0 (s0) of job 0 still misses the map output of partition(s) 0,2: resubmitting it",
            "stage 0 (s0) of job 0 resubmitted as attempt 2 (stage 0.2): recomputing partition(s) 0,2, whose \
             map output was lost",
        ]
    );
    let t = s.resource_offers(&mut [offer("2", 4)]);
    assert_eq!(placed(&t), vec![("task 0.0 in stage 0.2 (TID 5)", 0, "2"), ("task 1.0 in stage 0.2 (TID 6)", 2, "2")]);
}

#[test]
fn an_external_shuffle_service_keeps_map_outputs_past_their_executor() {
    let mut s = TaskScheduler::new(vec![job("j", &[2, 2])], 1, 4, true);
    s.advance(SimTime::ZERO, &mut Vec::new());
    s.resource_offers(&mut [offer("0", 1), offer("1", 1)]);
    finish(&mut s, &[0, 1]);
    s.advance(at(1), &mut Vec::new());
    s.resource_offers(&mut [offer("0", 1)]);
    let mut notes = Vec::new();
    s.executor_lost("1", "gone", true, &mut notes);
    assert!(notes.is_empty());
    assert!(!s.advance(at(2), &mut Vec::new()));
    let t = s.resource_offers(&mut [offer("2", 1)]);
    assert_eq!(placed(&t), vec![("task 1.0 in stage 1.0 (TID 3)", 1, "2")]);
}

/// Task `p` runs `1 + p % 3` seconds, computed on demand.
#[derive(Debug)]
struct Cyclic;
impl TaskDurations for Cyclic {
    fn duration(&self, partition: u32) -> Duration {
        Duration::from_secs(1 + u64::from(partition % 3))
    }
}

#[test]
fn ten_million_tasks_cost_what_the_running_ones_cost() {
    let stage = Spec::drawn("big", 10_000_000, Arc::new(Cyclic));
    let map = Spec::drawn("map", 10_000_000, Arc::new(Cyclic));
    let mut s = sched(vec![Job::chain("j", vec![map, stage])], 4);
    s.advance(SimTime::ZERO, &mut Vec::new());
    assert!(s.footprint() <= 2, "nothing launched yet: {}", s.footprint());
    assert_eq!(s.pending_tasks(), 10_000_000);
    // Five rounds of 8 tasks on two executors; each round one task fails.
    let mut tid = 0;
    for round in 0..5 {
        let t = s.resource_offers(&mut [offer("0", 4), offer("1", 4)]);
        assert_eq!(t.len(), 8);
        assert_eq!(t[0].run_micros, (1 + u64::from(t[0].partition_id as u32 % 3)) * 1_000_000);
        for d in &t {
            let state = if d.task_id == tid + 3 { TaskState::Failed } else { TaskState::Finished };
            s.status_update(d.task_id as u64, state);
        }
        tid += 8;
        s.advance(at(round + 1), &mut Vec::new());
    }
    assert_eq!(s.tasks_finished, 35);
    assert_eq!(s.pending_tasks(), 10_000_000 - 35);
    // Pending and successful are a few runs; the retried tasks are the
    // only per-task entries; map output slots cover the 40 launched.
    assert!(s.footprint() <= 60, "footprint {}", s.footprint());
    // The last round's failed index runs again first, as attempt 1.
    let t = s.resource_offers(&mut [offer("0", 1)]);
    assert_eq!(t[0].name, "task 31.1 in stage 0.0 (TID 40)");
}
