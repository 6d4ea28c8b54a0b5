//! The task scheduler: jobs → a DAG of stages → task sets → executor cores.
//!
//! Spark schedules in three layers, and this module models the first two:
//!
//! - **`DAGScheduler`** cuts a job at its shuffle dependencies into stages.
//!   Every stage but the last is a *ShuffleMapStage*: its tasks write *map
//!   output* that later stages read. The last is the *ResultStage*, whose tasks
//!   send their results to the driver. A stage is submitted once every parent
//!   is *available* (all its map outputs exist); otherwise it waits, and its
//!   missing parents are submitted first (`submitStage`).
//! - **`TaskSchedulerImpl` + `TaskSetManager`**: a submitted stage attempt is
//!   one task set (one task per missing partition) whose tasks are placed on
//!   executors' free cores.
//! - `CoarseGrainedSchedulerBackend` (in `endpoint`) tracks those free cores.
//!
//! ```text
//!  job 0: stage 0 (map) ─┐                  stage ids: parents before children
//!         stage 1 (map) ─┴─▶ stage 2 (result)   0 and 1 run at once; 2 waits for both
//!
//!  submitStage(2) ─▶ parents 0, 1 missing ─▶ 2 waits; submitStage(0), submitStage(1)
//!  task set of 0 done, all outputs there ─▶ submitWaitingChildStages ─▶ 2 still waits for 1
//!  task set of 1 done ─────────────────────▶ 2 is submitted
//! ```
//!
//! Placement (`resourceOffers`): runnable task sets are served FIFO by stage
//! id, as Spark's default FIFO pool orders them (job, then stage); each task
//! set gets passes over the executors (`resourceOfferSingleTaskSet`: one task
//! per executor per pass, passes repeat while something launched), lowest
//! pending index first, before the next task set sees what is left. Every
//! launch gets the next TID (a global counter from 0) and an attempt number
//! (0, then 1, 2… each time that index runs again in this task set).
//!
//! # Map outputs and executor loss
//!
//! A finished ShuffleMapTask's output stays on the executor that wrote it
//! (the `MapOutputTracker` records where). mesocosm models no external shuffle
//! service (`spark.shuffle.service.enabled` defaults to false), so when an
//! executor is lost (`executorLost`) so are the outputs it held:
//!
//! ```text
//!  executor lost
//!   ├─ its finished map tasks of a running task set ─▶ Resubmitted: pending again, not counted
//!   ├─ its outputs of a finished map stage ──────────▶ that stage is no longer available
//!   └─ its running tasks ─▶ ExecutorLostFailure ─┬─ still launching (3.4+) ─▶ pending, not counted
//!                                                ├─ loss not the app's fault ▶ pending, not counted
//!                                                └─ otherwise ─▶ failures[index] += 1 (maxFailures aborts)
//! ```
//!
//! A stage that is no longer available is recomputed when something needs it:
//! when a stage that reads it is submitted (its parents are checked again), or
//! at once if a running stage that reads it still has tasks to launch. The
//! recompute is a new *stage attempt* (`stage 0.1`) whose task set holds only
//! the missing partitions, with fresh attempt numbers and failure counts, as
//! each attempt is a new `TaskSetManager`.
//!
//! **Simplification.** In Spark nothing notices the lost output until a task
//! of the reading stage tries to fetch it and fails with `FetchFailed`; the
//! `DAGScheduler` then marks that stage failed and, after a short delay,
//! resubmits the parent and then the child as a new attempt. mesocosm moves no
//! shuffle data, so it models the outcome without the fetch: the reading
//! stage's tasks not yet launched wait until the parent is available again,
//! its running tasks carry on (as if they had fetched their input already),
//! and the reading stage keeps its attempt number.
//!
//! # Failures
//!
//! ```text
//!  attempt fails ── KILLED ───────────────────────────▶ pending again, not counted
//!       │── executor lost while still launching (3.4+) ▶ pending again, not counted
//!       └── FAILED / LOST / executor lost while running ▶ failures[index] += 1
//!                                                          < maxFailures: pending again
//!                                                          = maxFailures: abort the job
//! ```
//!
//! `spark.task.maxFailures` (default 4) counts per task index per task set;
//! the attempt that reaches it aborts the stage, and with it the job and
//! (since the workload's `main` does not catch the exception) the application.
//!
//! # Memory
//!
//! Spark's `TaskSetManager` holds arrays sized by the task count; mesocosm
//! holds the same facts as runs of partitions ([`crate::partitions`]) and
//! maps of only the tasks retried or failed, and draws each task's duration
//! when it launches. A stage of ten million tasks costs what its running
//! tasks cost; only map-output locations take a slot per finished map
//! partition, as Spark's `MapOutputTracker` keeps a `MapStatus` per map task.
//!
//! Why registration order: `TaskSchedulerImpl.resourceOffers` shuffles the
//! executor offers at random to spread load; mesocosm offers executors in the
//! order they registered so that every run is the same.
//!
//! Left out: locality levels and `spark.locality.wait` (no data placement is
//! modelled), speculation (off by default), shuffle fetches themselves (see
//! above), stages shared between jobs (each job recomputes its own), and
//! `spark.excludeOnFailure.*` (off by default).
//!
//! # Layout
//!
//! [`TaskScheduler`] (this file) is the facade the driver calls: `advance`
//! runs the `DAGScheduler`'s event loop, `resource_offers` and
//! `status_update` place and finish tasks, `executor_lost` handles a loss.
//! Behind it, one file per Spark class it stands for:
//!
//! - `dag`: [`Stage`]s and what they leave behind (`StageKind`: map outputs
//!   or results), `submitStage`, `submitMissingTasks`, finishing task sets
//!   and the FetchFailed stand-in (`resubmit_lost_parents`);
//! - `task_set`: [`TaskSetManager`], one stage attempt's tasks, and the
//!   task-level calls (`resourceOffers`, `statusUpdate`, `handleFailedTask`
//!   with `spark.task.maxFailures`);
//! - `loss`: `executorLost`: map outputs, Resubmitted tasks, and the running
//!   tasks that fail with `ExecutorLostFailure`;
//! - `tests`: the scheduler's unit tests.
//!
//! The children only add `impl TaskScheduler` blocks and the types they own;
//! they use each other through this file's state, never the driver.

mod dag;
mod loss;
mod task_set;
#[cfg(test)]
mod tests;

use crate::config::Job;
use dag::Stage;
use mesocosm_sim::SimTime;
use std::collections::BTreeMap;
use task_set::TaskSetManager;

/// An executor with free cores, as `makeOffers` describes it (`WorkerOffer`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct WorkerOffer {
    pub executor_id: String,
    pub host: String,
    pub free_cores: u32,
}

/// A task running on an executor (`TaskInfo`).
#[derive(Clone, Debug, PartialEq, Eq)]
struct Running {
    /// Index into `jobs` of the job it belongs to.
    job: usize,
    /// Index into that job's stages.
    stage: usize,
    stage_id: u32,
    stage_attempt: u32,
    /// Its index in the task set (which is the partition in a first attempt).
    index: u32,
    partition: u32,
    attempt: u32,
    executor_id: String,
    host: String,
    cpus: u32,
    /// `TaskInfo.launching`: LaunchTask sent, no RUNNING status yet.
    launching: bool,
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
    /// `spark.shuffle.service.enabled`: map outputs outlive their executor.
    shuffle_service: bool,
    /// Index into `jobs` of the current job.
    job: usize,
    /// The current job's stages were created (`handleJobSubmitted` ran).
    job_active: bool,
    job_started: SimTime,
    /// The current job's stages, in the job's order (so by stage id).
    stages: Vec<Stage>,
    running: BTreeMap<u64, Running>,
    next_stage_id: u32,
    next_tid: u64,
    started: bool,
    /// Task sets with at least one task handed to the task scheduler (`submitTasks`).
    pub task_sets_submitted: u64,
    /// Task attempts that finished and were accepted (a recomputed partition
    /// counts again).
    pub tasks_finished: u64,
    /// Failed task attempts that counted toward `spark.task.maxFailures`.
    pub task_failures: u64,
    /// Why the job was aborted (`"Job aborted due to stage failure: …"`),
    /// once it was: nothing runs after that.
    pub aborted: Option<String>,
}

/// How many partitions the timeline lists before it says "… N in all".
const LISTED: usize = 64;

/// `2,5,7`, as the timeline lists partitions (the first [`LISTED`] of them).
fn list(ps: impl IntoIterator<Item = u32>) -> String {
    let mut it = ps.into_iter();
    let shown: Vec<String> = it.by_ref().take(LISTED).map(|p| p.to_string()).collect();
    let rest = it.count();
    if rest == 0 { shown.join(",") } else { format!("{},… ({} in all)", shown.join(","), LISTED + rest) }
}

impl TaskScheduler {
    pub fn new(jobs: Vec<Job>, task_cpus: u32, max_failures: u32, shuffle_service: bool) -> TaskScheduler {
        TaskScheduler {
            jobs,
            task_cpus,
            max_failures,
            shuffle_service,
            job: 0,
            job_active: false,
            job_started: SimTime::ZERO,
            stages: Vec::new(),
            running: BTreeMap::new(),
            next_stage_id: 0,
            next_tid: 0,
            started: false,
            task_sets_submitted: 0,
            tasks_finished: 0,
            task_failures: 0,
            aborted: None,
        }
    }

    /// Task attempts launched so far (`hasLaunchedTask` is this above 0).
    pub fn tasks_launched(&self) -> u64 {
        self.next_tid
    }

    /// True once every stage of every job has finished.
    pub fn all_done(&self) -> bool {
        self.started && self.aborted.is_none() && !self.job_active && self.job >= self.jobs.len()
    }

    /// True if a task set has tasks it may launch now (its parents are all
    /// available) waiting for cores.
    pub fn has_pending(&self) -> bool {
        self.pending_tasks() > 0
    }

    /// Tasks of submitted task sets that may launch now and wait for cores
    /// (what `ExecutorAllocationManager` counts as pending: a stage waiting
    /// for its parents, or for a lost parent output, has submitted nothing).
    pub fn pending_tasks(&self) -> usize {
        (0..self.stages.len())
            .filter(|s| self.parents_ready(*s))
            .filter_map(|s| self.stages[s].tsm.as_ref())
            .map(|t| t.pending.len() as usize)
            .sum()
    }

    /// Entries the scheduler holds for tasks and partitions: running tasks,
    /// the runs of pending, finished and done partitions, the tasks launched
    /// more than once or failed, and map-output slots. It follows the tasks
    /// alive, not the tasks declared.
    pub fn footprint(&self) -> usize {
        self.running.len() + self.stages.iter().map(Stage::footprint).sum::<usize>()
    }

    /// Whether stage `s` may launch tasks: every parent is available and
    /// no longer running. Why "no longer running": a recomputing parent
    /// releases its children when the `DAGScheduler` marks it finished, not
    /// when its last output is registered, so the executor that ran that last
    /// task is not offered the held tasks first.
    fn parents_ready(&self, s: usize) -> bool {
        self.stages[s].parents.iter().all(|p| self.stages[*p].tsm.is_none() && self.stages[*p].is_available())
    }

    /// The `DAGScheduler`'s event loop, run to quiescence: start the next
    /// job, finish completed task sets, submit the stages that became
    /// runnable and resubmit lost map output that a running stage needs.
    /// Notes each step. Call at start-up, after every finished task and after
    /// an executor loss.
    ///
    /// Returns whether task sets were submitted or a stage became available
    /// (Spark then revives offers on every executor).
    pub fn advance(&mut self, now: SimTime, notes: &mut Vec<String>) -> bool {
        self.started = true;
        let mut revive = false;
        while self.aborted.is_none() {
            if !self.job_active {
                if self.job >= self.jobs.len() {
                    break;
                }
                self.start_job(now, notes, &mut revive);
                continue;
            }
            let mut progressed = false;
            for s in 0..self.stages.len() {
                if self.stages[s].tsm.as_ref().is_some_and(TaskSetManager::is_complete) {
                    self.task_set_finished(s, now, notes, &mut revive);
                    progressed = true;
                }
            }
            progressed |= self.resubmit_lost_parents(now, notes, &mut revive);
            let done = self.stages.last().is_none_or(|r| r.next_attempt > 0 && r.tsm.is_none() && r.is_available());
            if done {
                let name = &self.jobs[self.job].name;
                notes.push(format!(
                    "job {} ({name}) finished in {:.3}s",
                    self.job,
                    now.since(self.job_started).as_secs_f64()
                ));
                self.job += 1;
                self.job_active = false;
                self.stages.clear();
                continue;
            }
            if !progressed {
                break;
            }
        }
        revive
    }

    /// The task set a running task belongs to, if that attempt still runs.
    fn task_set_of(&mut self, r: &Running) -> Option<&mut Stage> {
        if r.job != self.job || !self.job_active {
            return None;
        }
        self.stages.get_mut(r.stage).filter(|s| s.tsm.as_ref().is_some_and(|t| t.stage_attempt == r.stage_attempt))
    }

    /// Abort the running job (`TaskSetManager.abort` → `DAGScheduler.abortStage`):
    /// nothing is scheduled any more. The first reason is kept.
    pub fn abort(&mut self, reason: String) {
        if self.aborted.is_none() {
            self.aborted = Some(reason);
        }
        for s in &mut self.stages {
            s.tsm = None;
            s.waiting = false;
        }
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
