//! A small task scheduler: jobs → stages → tasks → executor cores.
//!
//! Spark's real scheduler is three layers (`DAGScheduler` cuts a job into
//! stages, `TaskSchedulerImpl` + `TaskSetManager` place a stage's tasks,
//! `CoarseGrainedSchedulerBackend` tracks free cores). mesocosm keeps the part
//! that decides *where and when* tasks run, which is what shapes a cluster's
//! timeline:
//!
//! - jobs run one after another, and so do the stages of a job (the workload
//!   is a chain: each stage depends on the previous one);
//! - a stage's tasks are pending until an executor has `spark.task.cpus` free
//!   cores; the scheduler hands them out in passes over the executors
//!   (`resourceOfferSingleTaskSet`: one task per executor per pass, passes
//!   repeat while something launched), lowest pending index first;
//! - every launch gets the next task id (TID, a global counter from 0) and an
//!   attempt number (0, then 1, 2… if the task has to be re-run);
//! - when an executor is lost, its running tasks go back to pending;
//! - every failed attempt of a task counts toward `spark.task.maxFailures`
//!   (default 4, per task index): the attempt that reaches it aborts the stage,
//!   and with it the job and (since the workload's `main` does not catch the
//!   exception) the application.
//!
//! ```text
//!  attempt fails ── KILLED ───────────────────────────▶ pending again, not counted
//!       │── executor lost while still launching (3.4+) ▶ pending again, not counted
//!       └── FAILED / LOST / executor lost while running ▶ failures[index] += 1
//!                                                          < maxFailures: pending again
//!                                                          = maxFailures: abort the job
//! ```
//!
//! Why registration order: `TaskSchedulerImpl.resourceOffers` shuffles the
//! executor offers at random to spread load; mesocosm offers executors in the
//! order they registered so that every run is the same.
//!
//! Left out: locality levels and `spark.locality.wait` (no data placement is
//! modelled), speculation (off by default), stage retries on fetch failures
//! (no shuffle data is modelled), and `spark.excludeOnFailure.*` (off by default).

use crate::config::{Job, Stage};
use mesocosm_sim::SimTime;
use mesocosm_sim::proto::sparkrpc::{TaskDescription, TaskState};
use std::collections::{BTreeMap, BTreeSet};

/// An executor with free cores, as `makeOffers` describes it (`WorkerOffer`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct WorkerOffer {
    pub executor_id: String,
    pub host: String,
    pub free_cores: u32,
}

/// A task running on an executor.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Running {
    stage_id: u32,
    index: u32,
    attempt: u32,
    executor_id: String,
    host: String,
    cpus: u32,
    /// `TaskInfo.launching`: LaunchTask sent, no RUNNING status yet.
    launching: bool,
}

/// The stage whose tasks are being scheduled (one `TaskSetManager`).
#[derive(Debug)]
struct ActiveStage {
    job_id: u32,
    stage_id: u32,
    name: String,
    started: SimTime,
    durations: Vec<std::time::Duration>,
    pending: BTreeSet<u32>,
    finished: BTreeSet<u32>,
    /// Launches so far per task index (the next attempt number).
    attempts: BTreeMap<u32, u32>,
    /// `TaskSetManager.numFailures`: failed attempts per task index.
    failures: BTreeMap<u32, u32>,
}

/// What a Spark `StatusUpdate` meant to the scheduler.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum TaskOutcome {
    /// Still launching or running: nothing to do.
    Running,
    /// Done (FINISHED) or given up on (FAILED/KILLED/LOST, re-queued or, at
    /// `spark.task.maxFailures`, aborting the job): the executor gets `cpus`
    /// cores back.
    Ended { executor_id: String, cpus: u32, finished: bool },
    /// A TID the scheduler is not running (e.g. its executor was removed).
    Unknown,
}

/// Jobs, stages and tasks (see the module docs).
#[derive(Debug)]
pub(crate) struct TaskScheduler {
    jobs: Vec<Job>,
    task_cpus: u32,
    max_failures: u32,
    /// Index into `jobs` of the current job, and of its current stage.
    job: usize,
    stage: usize,
    job_started: SimTime,
    active: Option<ActiveStage>,
    running: BTreeMap<u64, Running>,
    next_stage_id: u32,
    next_tid: u64,
    started: bool,
    pub tasks_finished: u64,
    /// Failed task attempts that counted toward `spark.task.maxFailures`.
    pub task_failures: u64,
    /// Why the job was aborted (`"Job aborted due to stage failure: …"`),
    /// once it was: nothing runs after that.
    pub aborted: Option<String>,
}

impl TaskScheduler {
    pub fn new(jobs: Vec<Job>, task_cpus: u32, max_failures: u32) -> TaskScheduler {
        TaskScheduler {
            jobs,
            task_cpus,
            max_failures,
            job: 0,
            stage: 0,
            job_started: SimTime::ZERO,
            active: None,
            running: BTreeMap::new(),
            next_stage_id: 0,
            next_tid: 0,
            started: false,
            tasks_finished: 0,
            task_failures: 0,
            aborted: None,
        }
    }

    /// True once every stage of every job has finished.
    pub fn all_done(&self) -> bool {
        self.started && self.aborted.is_none() && self.active.is_none() && self.job >= self.jobs.len()
    }

    /// True if a stage has tasks waiting for cores.
    pub fn has_pending(&self) -> bool {
        self.active.as_ref().is_some_and(|a| !a.pending.is_empty())
    }

    /// Move past finished stages and jobs, starting the next ones; notes each
    /// start and finish. Call at start-up and after every finished task.
    /// Returns whether a new stage started (its tasks then need executors' cores).
    pub fn advance(&mut self, now: SimTime, notes: &mut Vec<String>) -> bool {
        self.started = true;
        if self.aborted.is_some() {
            return false;
        }
        let mut stage_started = false;
        loop {
            if let Some(a) = &self.active {
                if a.finished.len() < a.durations.len() {
                    return stage_started;
                }
                notes.push(format!(
                    "stage {} ({}) of job {} finished: {} tasks in {:.3}s",
                    a.stage_id,
                    a.name,
                    a.job_id,
                    a.durations.len(),
                    now.since(a.started).as_secs_f64()
                ));
                self.active = None;
                self.stage += 1;
            }
            let Some(job) = self.jobs.get(self.job) else {
                return stage_started;
            };
            if self.stage == 0 {
                self.job_started = now;
                notes.push(format!("job {} ({}) started: {} stage(s)", self.job, job.name, job.stages.len()));
            }
            match job.stages.get(self.stage) {
                Some(Stage { name, task_durations }) => {
                    let stage_id = self.next_stage_id;
                    self.next_stage_id += 1;
                    stage_started = true;
                    notes.push(format!(
                        "stage {stage_id} ({name}) of job {} started: {} tasks waiting for {} free core(s) each",
                        self.job,
                        task_durations.len(),
                        self.task_cpus
                    ));
                    self.active = Some(ActiveStage {
                        job_id: self.job as u32,
                        stage_id,
                        name: name.clone(),
                        started: now,
                        durations: task_durations.clone(),
                        pending: (0..task_durations.len() as u32).collect(),
                        finished: BTreeSet::new(),
                        attempts: BTreeMap::new(),
                        failures: BTreeMap::new(),
                    });
                }
                None => {
                    notes.push(format!(
                        "job {} ({}) finished in {:.3}s",
                        self.job,
                        job.name,
                        now.since(self.job_started).as_secs_f64()
                    ));
                    self.job += 1;
                    self.stage = 0;
                }
            }
        }
    }

    /// `resourceOffers(offers)`: place pending tasks on executors' free cores.
    ///
    /// Decrements `free_cores` in `offers` and returns the tasks to send, in
    /// launch order.
    pub fn resource_offers(&mut self, offers: &mut [WorkerOffer]) -> Vec<TaskDescription> {
        let mut launched = Vec::new();
        let Some(a) = self.active.as_mut() else {
            return launched;
        };
        let mut progress = true;
        while progress && !a.pending.is_empty() {
            progress = false;
            for o in offers.iter_mut() {
                if o.free_cores < self.task_cpus {
                    continue;
                }
                // Lowest index first: `TaskSetManager` pushes pending tasks in
                // reverse order and pops from the end.
                let Some(index) = a.pending.pop_first() else {
                    break;
                };
                let attempt = a.attempts.entry(index).or_insert(0);
                let tid = self.next_tid;
                self.next_tid += 1;
                launched.push(TaskDescription {
                    task_id: tid as i64,
                    attempt_number: *attempt as i32,
                    executor_id: o.executor_id.clone(),
                    name: format!("task {index}.{attempt} in stage {}.0 (TID {tid})", a.stage_id),
                    index: index as i32,
                    partition_id: index as i32,
                    cpus: self.task_cpus as i32,
                    run_micros: a.durations[index as usize].as_micros() as u64,
                });
                *attempt += 1;
                o.free_cores -= self.task_cpus;
                self.running.insert(
                    tid,
                    Running {
                        stage_id: a.stage_id,
                        index,
                        attempt: *attempt - 1,
                        executor_id: o.executor_id.clone(),
                        host: o.host.clone(),
                        cpus: self.task_cpus,
                        launching: true,
                    },
                );
                progress = true;
            }
        }
        launched
    }

    /// `statusUpdate(tid, state)` from an executor.
    pub fn status_update(&mut self, tid: u64, state: TaskState) -> TaskOutcome {
        let terminal = matches!(state, TaskState::Finished | TaskState::Failed | TaskState::Killed | TaskState::Lost);
        if !terminal {
            return match self.running.get_mut(&tid) {
                Some(r) => {
                    // `TaskInfo.launching` ends with the first RUNNING update.
                    if state == TaskState::Running {
                        r.launching = false;
                    }
                    TaskOutcome::Running
                }
                None => TaskOutcome::Unknown,
            };
        }
        let Some(r) = self.running.remove(&tid) else {
            return TaskOutcome::Unknown;
        };
        let finished = state == TaskState::Finished;
        if finished {
            if let Some(a) = self.active.as_mut().filter(|a| a.stage_id == r.stage_id)
                && a.finished.insert(r.index)
            {
                self.tasks_finished += 1;
            }
        } else {
            // Why KILLED does not count: its failure reason is `TaskKilled`,
            // whose `countTowardsTaskFailures` is false; FAILED (an exception
            // in the task) and LOST do count.
            let counts = state != TaskState::Killed;
            let reason = format!("TaskState {} reported by the executor", state.as_str_name());
            self.attempt_failed(tid, &r, counts, &reason);
        }
        TaskOutcome::Ended { executor_id: r.executor_id, cpus: r.cpus, finished }
    }

    /// `executorLost`: the executor's running tasks go back to pending, each
    /// failed attempt counting toward `spark.task.maxFailures` unless the task
    /// was still launching. Returns the lost TIDs.
    ///
    /// Why they count: `ExecutorProcessLost` (what a terminal Mesos status and
    /// a broken RPC connection both become) has `causedByApp = true`, so
    /// `TaskSetManager.executorLost` fails each running attempt with
    /// `ExecutorLostFailure(exitCausedByApp = true)`. Since Spark 3.4 an attempt
    /// still `launching` (no RUNNING yet) is not blamed on the app.
    pub fn executor_lost(&mut self, executor_id: &str, reason: &str) -> Vec<u64> {
        let lost: Vec<u64> =
            self.running.iter().filter(|(_, r)| r.executor_id == executor_id).map(|(t, _)| *t).collect();
        for tid in &lost {
            if let Some(r) = self.running.remove(tid) {
                let why = format!(
                    "ExecutorLostFailure (executor {executor_id} exited caused by one of the running tasks) Reason: {reason}"
                );
                self.attempt_failed(*tid, &r, !r.launching, &why);
            }
        }
        lost
    }

    /// `TaskSetManager.handleFailedTask`: put the index back to pending, or
    /// abort the job once it has failed `spark.task.maxFailures` times.
    fn attempt_failed(&mut self, tid: u64, r: &Running, counts: bool, reason: &str) {
        let Some(a) = self.active.as_mut().filter(|a| a.stage_id == r.stage_id) else { return };
        if a.finished.contains(&r.index) {
            return;
        }
        if counts {
            self.task_failures += 1;
            let n = a.failures.entry(r.index).or_insert(0);
            *n += 1;
            if *n >= self.max_failures {
                // `abort("Task %d in stage %s failed %d times, most recent failure: …")`,
                // which the DAGScheduler turns into the job's failure.
                let msg = format!(
                    "Job aborted due to stage failure: Task {} in stage {}.0 failed {} times, most recent failure: Lost task {}.{} in stage {}.0 (TID {tid}) ({} executor {}): {reason}",
                    r.index, r.stage_id, n, r.index, r.attempt, r.stage_id, r.host, r.executor_id
                );
                self.abort(msg);
                return;
            }
        }
        a.pending.insert(r.index);
    }

    /// Abort the running job (`TaskSetManager.abort` → `DAGScheduler.abortStage`):
    /// nothing is scheduled any more. The first reason is kept.
    pub fn abort(&mut self, reason: String) {
        if self.aborted.is_none() {
            self.aborted = Some(reason);
        }
        self.active = None;
        self.running.clear();
    }

    /// Cores taken by running tasks, per executor (for the invariants).
    pub fn cpus_by_executor(&self) -> BTreeMap<&str, u32> {
        let mut by = BTreeMap::new();
        for r in self.running.values() {
            *by.entry(r.executor_id.as_str()).or_insert(0) += r.cpus;
        }
        by
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn job(name: &str, stages: &[usize]) -> Job {
        Job {
            name: name.into(),
            stages: stages
                .iter()
                .enumerate()
                .map(|(i, n)| Stage { name: format!("s{i}"), task_durations: vec![Duration::from_secs(1); *n] })
                .collect(),
        }
    }

    fn offer(id: &str, free: u32) -> WorkerOffer {
        WorkerOffer { executor_id: id.into(), host: format!("agent-{id}"), free_cores: free }
    }

    #[test]
    fn passes_go_round_robin_over_executors_lowest_index_first() {
        let mut s = TaskScheduler::new(vec![job("j", &[5])], 1, 4);
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
        let mut s = TaskScheduler::new(vec![job("j", &[2])], 1, 4);
        s.advance(SimTime::ZERO, &mut Vec::new());
        s.resource_offers(&mut [offer("0", 2)]);
        assert_eq!(s.executor_lost("0", "gone"), vec![0, 1]);
        let t = s.resource_offers(&mut [offer("1", 1)]);
        assert_eq!(t[0].name, "task 0.1 in stage 0.0 (TID 2)");
        assert_eq!(s.status_update(0, TaskState::Finished), TaskOutcome::Unknown, "TID 0 was lost");
    }

    #[test]
    fn stages_and_jobs_run_in_order_and_empty_ones_pass_through() {
        let mut s = TaskScheduler::new(vec![job("a", &[1, 0]), job("b", &[]), job("c", &[1])], 1, 4);
        let mut notes = Vec::new();
        s.advance(SimTime::ZERO, &mut notes);
        let t = s.resource_offers(&mut [offer("0", 4)]);
        assert_eq!(t.len(), 1);
        assert!(matches!(s.status_update(0, TaskState::Finished), TaskOutcome::Ended { finished: true, .. }));
        s.advance(SimTime(2_000_000), &mut notes);
        assert!(!s.all_done());
        let t = s.resource_offers(&mut [offer("0", 4)]);
        assert_eq!((t[0].name.as_str(), t[0].task_id), ("task 0.0 in stage 2.0 (TID 1)", 1));
        s.status_update(1, TaskState::Finished);
        s.advance(SimTime(3_000_000), &mut notes);
        assert!(s.all_done());
        assert_eq!(s.tasks_finished, 2);
        assert_eq!(notes.iter().filter(|n| n.contains("started")).count(), 6, "{notes:#?}");
        assert_eq!(notes.iter().filter(|n| n.contains("finished")).count(), 6, "{notes:#?}");
    }

    #[test]
    fn killed_attempts_do_not_count_and_the_max_failures_th_failure_aborts() {
        let mut s = TaskScheduler::new(vec![job("j", &[1]), job("k", &[1])], 1, 2);
        s.advance(SimTime::ZERO, &mut Vec::new());
        s.resource_offers(&mut [offer("0", 1)]);
        assert!(matches!(s.status_update(0, TaskState::Killed), TaskOutcome::Ended { finished: false, .. }));
        assert_eq!((s.task_failures, s.has_pending()), (0, true), "KILLED: TaskKilled does not count");
        s.resource_offers(&mut [offer("0", 1)]);
        s.status_update(1, TaskState::Failed);
        assert_eq!((s.task_failures, s.aborted.is_none()), (1, true));
        s.resource_offers(&mut [offer("0", 1)]);
        s.status_update(2, TaskState::Running);
        s.executor_lost("0", "Executor finished with state LOST");
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
}
