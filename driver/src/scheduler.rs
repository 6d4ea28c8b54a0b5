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

use crate::config::{Job, TaskDurations};
use crate::partitions::{MapOutputs, RangeSet, TaskIndices};
use mesocosm_sim::SimTime;
use mesocosm_sim::proto::sparkrpc::{TaskDescription, TaskState};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

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

/// What a stage's finished tasks leave behind.
#[derive(Debug)]
enum StageKind {
    /// `ShuffleMapStage`: the `MapOutputTracker`'s view, partition → the
    /// executor holding that partition's map output.
    ShuffleMap { outputs: MapOutputs },
    /// `ResultStage`: partitions whose result reached the driver (results
    /// live in the driver, so no executor loss takes them back).
    Result { done: RangeSet },
}

/// A stage of the running job, as the `DAGScheduler` tracks it.
#[derive(Debug)]
struct Stage {
    id: u32,
    name: String,
    /// Indices of the parent stages in the job, sorted, without duplicates.
    parents: Vec<usize>,
    /// How many partitions (tasks) the stage has.
    tasks: u32,
    /// How long each partition's task runs, drawn when it launches.
    durations: Arc<dyn TaskDurations>,
    kind: StageKind,
    /// The attempt number the next submission gets (`Stage.nextAttemptId`).
    next_attempt: u32,
    /// In `waitingStages`: submitted, waiting for missing parents.
    waiting: bool,
    /// The running attempt's task set, if one runs (`runningStages`).
    tsm: Option<TaskSetManager>,
}

impl Stage {
    /// `findMissingPartitions`.
    fn missing(&self) -> RangeSet {
        match &self.kind {
            StageKind::ShuffleMap { outputs } => outputs.missing(self.tasks),
            StageKind::Result { done } => done.complement(self.tasks),
        }
    }

    /// `ShuffleMapStage.isAvailable`: every partition's map output exists.
    /// A ResultStage is never a parent, so its answer only matters for the
    /// end of the job.
    fn is_available(&self) -> bool {
        let have = match &self.kind {
            StageKind::ShuffleMap { outputs } => outputs.count(),
            StageKind::Result { done } => done.len(),
        };
        have >= u64::from(self.tasks)
    }

    /// Entries held for this stage's partitions (see [`TaskScheduler::footprint`]).
    fn footprint(&self) -> usize {
        let kind = match &self.kind {
            StageKind::ShuffleMap { outputs } => outputs.slots(),
            StageKind::Result { done } => done.runs(),
        };
        kind + self.tsm.as_ref().map_or(0, TaskSetManager::footprint)
    }

    fn label(&self, job: usize) -> String {
        format!("stage {} ({}) of job {job}", self.id, self.name)
    }
}

/// One attempt of one stage: its task set (`TaskSetManager`).
///
/// Why runs and sparse maps: Spark sizes its arrays by the task count;
/// mesocosm keeps what they say in [`RangeSet`]s and maps that hold only
/// the tasks launched more than once or failed, so a stage of millions of
/// tasks costs what its running tasks cost (see [`crate::partitions`]).
#[derive(Debug)]
struct TaskSetManager {
    stage_attempt: u32,
    /// Task index → partition: a first attempt runs every partition, a
    /// resubmitted one only the missing ones.
    partitions: TaskIndices,
    started: SimTime,
    pending: RangeSet,
    successful: RangeSet,
    /// One past the highest index ever launched. Pending tasks launch lowest
    /// index first and only launched ones come back, so every index below
    /// it was launched at least once and none at or above it ever was.
    frontier: u32,
    /// Launches so far per task index (the next attempt number), only where
    /// that is not what `frontier` implies (1 below it, 0 above).
    attempts: BTreeMap<u32, u32>,
    /// `numFailures`: failed attempts per task index.
    failures: BTreeMap<u32, u32>,
}

impl TaskSetManager {
    fn new(stage_attempt: u32, partitions: TaskIndices, started: SimTime) -> TaskSetManager {
        TaskSetManager {
            stage_attempt,
            pending: RangeSet::full(partitions.len()),
            partitions,
            started,
            successful: RangeSet::default(),
            frontier: 0,
            attempts: BTreeMap::new(),
            failures: BTreeMap::new(),
        }
    }

    /// Every task succeeded (the `TaskSetManager` became a zombie).
    fn is_complete(&self) -> bool {
        self.successful.len() == u64::from(self.partitions.len())
    }

    /// Launches of `index` so far, which is the next attempt's number.
    fn launches(&self, index: u32) -> u32 {
        self.attempts.get(&index).copied().unwrap_or(u32::from(index < self.frontier))
    }

    /// Book one more launch of `index`; returns its attempt number.
    fn launch(&mut self, index: u32) -> u32 {
        let attempt = self.launches(index);
        self.frontier = self.frontier.max(index + 1);
        if attempt + 1 == 1 {
            self.attempts.remove(&index);
        } else {
            self.attempts.insert(index, attempt + 1);
        }
        attempt
    }

    fn footprint(&self) -> usize {
        self.pending.runs() + self.successful.runs() + self.attempts.len() + self.failures.len()
    }
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

    /// `handleJobSubmitted`: create the job's stages (ids in the job's order,
    /// so parents get smaller ids than their children, as Spark creates
    /// parents first) and submit the ResultStage.
    fn start_job(&mut self, now: SimTime, notes: &mut Vec<String>, revive: &mut bool) {
        let job = &self.jobs[self.job];
        self.job_started = now;
        notes.push(format!("job {} ({}) started: {} stage(s)", self.job, job.name, job.stages.len()));
        let last = job.stages.len().saturating_sub(1);
        self.stages = job
            .stages
            .iter()
            .enumerate()
            .map(|(i, s)| Stage {
                id: self.next_stage_id + i as u32,
                name: s.name.clone(),
                // `Job::check` (run when the driver is created) rejects a
                // parent that is not an earlier stage; dropping one here only
                // keeps a bad DAG from looping.
                parents: s.parents.iter().copied().filter(|p| *p < i).collect::<BTreeSet<_>>().into_iter().collect(),
                tasks: s.tasks,
                durations: Arc::clone(&s.durations),
                kind: if i == last {
                    StageKind::Result { done: RangeSet::default() }
                } else {
                    StageKind::ShuffleMap { outputs: MapOutputs::default() }
                },
                next_attempt: 0,
                waiting: false,
                tsm: None,
            })
            .collect();
        self.next_stage_id += job.stages.len() as u32;
        self.job_active = true;
        if let Some(last) = self.stages.len().checked_sub(1) {
            self.submit_stage(last, now, notes, revive);
        }
    }

    /// `submitStage`: run the stage if its parents are available, else let it
    /// wait and submit the missing parents first.
    fn submit_stage(&mut self, s: usize, now: SimTime, notes: &mut Vec<String>, revive: &mut bool) {
        let stage = &self.stages[s];
        if stage.tsm.is_some() || stage.waiting {
            return;
        }
        let missing: Vec<usize> = stage.parents.iter().copied().filter(|p| !self.stages[*p].is_available()).collect();
        if missing.is_empty() {
            self.submit_missing_tasks(s, now, notes, revive);
            return;
        }
        self.stages[s].waiting = true;
        let ids: Vec<u32> = missing.iter().map(|p| self.stages[*p].id).collect();
        notes.push(format!("{} waits for its parent stage(s) {}", self.stages[s].label(self.job), list(ids)));
        for p in missing {
            self.submit_stage(p, now, notes, revive);
        }
    }

    /// `submitMissingTasks`: a new attempt of the stage, one task per missing
    /// partition.
    fn submit_missing_tasks(&mut self, s: usize, now: SimTime, notes: &mut Vec<String>, revive: &mut bool) {
        let (job, cpus) = (self.job, self.task_cpus);
        let stage = &mut self.stages[s];
        let partitions = TaskIndices::of(&stage.missing());
        let attempt = stage.next_attempt;
        stage.next_attempt += 1;
        notes.push(if attempt == 0 {
            format!(
                "stage {} ({}) of job {job} started: {} tasks waiting for {cpus} free core(s) each",
                stage.id,
                stage.name,
                partitions.len()
            )
        } else {
            format!(
                "{} resubmitted as attempt {attempt} (stage {}.{attempt}): recomputing partition(s) {}, whose map output was lost",
                stage.label(job),
                stage.id,
                list(partitions.partitions())
            )
        });
        if partitions.len() > 0 {
            self.task_sets_submitted += 1;
        }
        stage.tsm = Some(TaskSetManager::new(attempt, partitions, now));
        *revive = true;
    }

    /// A stage attempt's tasks all succeeded (`handleTaskCompletion` →
    /// `markStageAsFinished`).
    fn task_set_finished(&mut self, s: usize, now: SimTime, notes: &mut Vec<String>, revive: &mut bool) {
        let job = self.job;
        let stage = &mut self.stages[s];
        let Some(tsm) = stage.tsm.take() else { return };
        let attempt = if tsm.stage_attempt == 0 { String::new() } else { format!(" attempt {}", tsm.stage_attempt) };
        notes.push(format!(
            "{} finished{attempt}: {} tasks in {:.3}s",
            stage.label(job),
            tsm.partitions.len(),
            now.since(tsm.started).as_secs_f64()
        ));
        if matches!(stage.kind, StageKind::ShuffleMap { .. }) && !stage.is_available() {
            // `processShuffleMapStageCompletion`: "Resubmitting ShuffleMapStage
            // … because some of its tasks had failed" — outputs of partitions
            // outside this attempt were lost while it ran.
            notes.push(format!(
                "{} still misses the map output of partition(s) {}: resubmitting it",
                stage.label(job),
                list(stage.missing().iter())
            ));
            self.submit_stage(s, now, notes, revive);
            return;
        }
        // Tasks of children held back for this stage's output may run now.
        *revive = true;
        // `submitWaitingChildStages`, in stage id order.
        let children: Vec<usize> = (0..self.stages.len())
            .filter(|c| self.stages[*c].waiting && self.stages[*c].parents.contains(&s))
            .collect();
        for c in children {
            self.stages[c].waiting = false;
            self.submit_stage(c, now, notes, revive);
        }
    }

    /// The FetchFailed stand-in (see the module docs): a running stage with
    /// tasks still to launch needs every parent's output, so a parent that
    /// lost some and is not being recomputed is resubmitted now.
    fn resubmit_lost_parents(&mut self, now: SimTime, notes: &mut Vec<String>, revive: &mut bool) -> bool {
        let mut any = false;
        for s in 0..self.stages.len() {
            let Some(pending) = self.stages[s].tsm.as_ref().map(|t| t.pending.len()).filter(|n| *n > 0) else {
                continue;
            };
            for p in self.stages[s].parents.clone() {
                let parent = &self.stages[p];
                if parent.is_available() || parent.tsm.is_some() || parent.waiting {
                    continue;
                }
                notes.push(format!(
                    "{} needs the map output of partition(s) {} of stage {} ({}), lost with their executor (Spark learns it from a FetchFailed): its {pending} task(s) not yet launched wait for the recompute",
                    self.stages[s].label(self.job),
                    list(parent.missing().iter()),
                    parent.id,
                    parent.name
                ));
                self.submit_stage(p, now, notes, revive);
                any = true;
            }
        }
        any
    }

    /// `resourceOffers(offers)`: place pending tasks on executors' free cores.
    ///
    /// Decrements `free_cores` in `offers` and returns the tasks to send, in
    /// launch order.
    pub fn resource_offers(&mut self, offers: &mut [WorkerOffer]) -> Vec<TaskDescription> {
        let mut launched = Vec::new();
        if self.aborted.is_some() {
            return launched;
        }
        // Why stage order: the FIFO pool sorts task sets by job, then stage id.
        for s in 0..self.stages.len() {
            // A stage whose parent lost map output launches nothing until the
            // parent is recomputed (the FetchFailed stand-in).
            if !self.parents_ready(s) {
                continue;
            }
            let stage = &mut self.stages[s];
            let Some(tsm) = stage.tsm.as_mut() else { continue };
            let mut progress = true;
            while progress && !tsm.pending.is_empty() {
                progress = false;
                for o in offers.iter_mut() {
                    if o.free_cores < self.task_cpus {
                        continue;
                    }
                    // Lowest index first: `TaskSetManager` pushes pending tasks
                    // in reverse order and pops from the end.
                    let Some(index) = tsm.pending.pop_first() else {
                        break;
                    };
                    let Some(partition) = tsm.partitions.partition(index) else {
                        continue;
                    };
                    let attempt = tsm.launch(index);
                    let tid = self.next_tid;
                    self.next_tid += 1;
                    launched.push(TaskDescription {
                        task_id: tid as i64,
                        attempt_number: attempt as i32,
                        executor_id: o.executor_id.clone(),
                        name: format!("task {index}.{attempt} in stage {}.{} (TID {tid})", stage.id, tsm.stage_attempt),
                        index: index as i32,
                        partition_id: partition as i32,
                        cpus: self.task_cpus as i32,
                        run_micros: u64::try_from(stage.durations.duration(partition).as_micros()).unwrap_or(u64::MAX),
                    });
                    o.free_cores -= self.task_cpus;
                    self.running.insert(
                        tid,
                        Running {
                            job: self.job,
                            stage: s,
                            stage_id: stage.id,
                            stage_attempt: tsm.stage_attempt,
                            index,
                            partition,
                            attempt,
                            executor_id: o.executor_id.clone(),
                            host: o.host.clone(),
                            cpus: self.task_cpus,
                            launching: true,
                        },
                    );
                    progress = true;
                }
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
            self.task_succeeded(&r);
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

    /// The task set a running task belongs to, if that attempt still runs.
    fn task_set_of(&mut self, r: &Running) -> Option<&mut Stage> {
        if r.job != self.job || !self.job_active {
            return None;
        }
        self.stages.get_mut(r.stage).filter(|s| s.tsm.as_ref().is_some_and(|t| t.stage_attempt == r.stage_attempt))
    }

    /// `handleSuccessfulTask`, then the `DAGScheduler`'s bookkeeping: a map
    /// task registers its output on its executor (`registerMapOutput`), a
    /// result task marks its partition done.
    fn task_succeeded(&mut self, r: &Running) {
        let Some(stage) = self.task_set_of(r) else { return };
        let Some(tsm) = stage.tsm.as_mut() else { return };
        if !tsm.successful.insert(r.index) {
            return;
        }
        match &mut stage.kind {
            StageKind::ShuffleMap { outputs } => {
                outputs.register(r.partition, &r.executor_id);
            }
            StageKind::Result { done } => {
                done.insert(r.partition);
            }
        }
        self.tasks_finished += 1;
    }

    /// `executorLost(executorId, reason)`: the executor's map outputs are gone
    /// (unless an external shuffle service serves them), its finished map
    /// tasks in running task sets are `Resubmitted`, and its running tasks fail
    /// with `ExecutorLostFailure`. Returns the lost TIDs; explains the map
    /// outputs in `notes`. Call [`TaskScheduler::advance`] afterwards, which
    /// resubmits stages whose lost output is needed.
    ///
    /// Why running tasks count: `ExecutorProcessLost` (what a terminal Mesos
    /// status, a broken RPC connection and a heartbeat timeout all become) has
    /// `causedByApp = true`, so `TaskSetManager.executorLost` fails each
    /// running attempt with `ExecutorLostFailure(exitCausedByApp = true)`,
    /// which counts toward `spark.task.maxFailures`. Since Spark 3.4 an
    /// attempt still `launching` (no RUNNING yet) is not blamed on the app, nor
    /// is any attempt when the loss is not the app's fault (`caused_by_app`
    /// false: `ExecutorKilled`, `ExecutorDecommission`…).
    ///
    /// Why Resubmitted does not count: `TaskSetManager.executorLost` re-queues
    /// a successful ShuffleMapTask whose output is gone and tells the
    /// `DAGScheduler` `Resubmitted`, which is not a failure of the task.
    pub fn executor_lost(
        &mut self,
        executor_id: &str,
        reason: &str,
        caused_by_app: bool,
        notes: &mut Vec<String>,
    ) -> Vec<u64> {
        if !self.shuffle_service {
            let job = self.job;
            for stage in &mut self.stages {
                let StageKind::ShuffleMap { outputs } = &mut stage.kind else { continue };
                let lost = outputs.remove_executor(executor_id);
                if lost.is_empty() {
                    continue;
                }
                let mut resubmitted = Vec::new();
                if let Some(tsm) = stage.tsm.as_mut() {
                    for p in &lost {
                        if let Some(i) = tsm.partitions.index_of(*p)
                            && tsm.successful.remove(i)
                        {
                            tsm.pending.insert(i);
                            resubmitted.push(*p);
                        }
                    }
                }
                let label = stage.label(job);
                if !resubmitted.is_empty() {
                    notes.push(format!(
                        "{label} lost {} map output(s) with executor {executor_id}: its finished task(s) for partition(s) {} are Resubmitted (pending again, not counted toward spark.task.maxFailures)",
                        resubmitted.len(),
                        list(resubmitted.iter().copied())
                    ));
                }
                let kept: BTreeSet<u32> = resubmitted.iter().copied().collect();
                let others: Vec<u32> = lost.into_iter().filter(|p| !kept.contains(p)).collect();
                if !others.is_empty() {
                    notes.push(format!(
                        "{label} lost {} map output(s) with executor {executor_id}: partition(s) {} must be recomputed before a stage that reads them launches more tasks",
                        others.len(),
                        list(others.iter().copied())
                    ));
                }
            }
        }
        let lost: Vec<u64> =
            self.running.iter().filter(|(_, r)| r.executor_id == executor_id).map(|(t, _)| *t).collect();
        for tid in &lost {
            if let Some(r) = self.running.remove(tid) {
                let counts = caused_by_app && !r.launching;
                let behaviour =
                    if counts { "caused by one of the running tasks" } else { "unrelated to the running tasks" };
                let why = format!("ExecutorLostFailure (executor {executor_id} exited {behaviour}) Reason: {reason}");
                self.attempt_failed(*tid, &r, counts, &why);
            }
        }
        lost
    }

    /// `TaskSetManager.handleFailedTask`: put the index back to pending, or
    /// abort the job once it has failed `spark.task.maxFailures` times.
    fn attempt_failed(&mut self, tid: u64, r: &Running, counts: bool, reason: &str) {
        let max_failures = self.max_failures;
        let Some(stage) = self.task_set_of(r) else { return };
        let stage_id = stage.id;
        let Some(tsm) = stage.tsm.as_mut() else { return };
        if tsm.successful.contains(r.index) {
            return;
        }
        let mut failed = 0;
        if counts {
            let n = tsm.failures.entry(r.index).or_insert(0);
            *n += 1;
            failed = *n;
        }
        if failed < max_failures {
            tsm.pending.insert(r.index);
        }
        if counts {
            self.task_failures += 1;
        }
        if failed >= max_failures {
            // `abort("Task %d in stage %s failed %d times, most recent failure: …")`,
            // which the DAGScheduler turns into the job's failure.
            let set = format!("{stage_id}.{}", r.stage_attempt);
            self.abort(format!(
                "Job aborted due to stage failure: Task {} in stage {set} failed {failed} times, most recent failure: Lost task {}.{} in stage {set} (TID {tid}) ({} executor {}): {reason}",
                r.index, r.index, r.attempt, r.host, r.executor_id
            ));
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Stage as Spec;
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
        assert_eq!(
            placed(&t),
            vec![("task 0.0 in stage 2.0 (TID 4)", 0, "0"), ("task 1.0 in stage 2.0 (TID 5)", 1, "1")]
        );
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
        assert_eq!(
            placed(&t),
            vec![("task 0.0 in stage 1.0 (TID 4)", 0, "0"), ("task 1.0 in stage 1.0 (TID 5)", 1, "1")]
        );
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
        assert_eq!(
            placed(&t),
            vec![("task 0.0 in stage 0.1 (TID 6)", 1, "0"), ("task 1.0 in stage 0.1 (TID 7)", 3, "2")]
        );
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
        assert_eq!(
            placed(&t),
            vec![("task 1.1 in stage 0.0 (TID 4)", 1, "0"), ("task 3.1 in stage 0.0 (TID 5)", 3, "2")]
        );
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
        assert_eq!(
            placed(&t),
            vec![("task 0.0 in stage 0.2 (TID 5)", 0, "2"), ("task 1.0 in stage 0.2 (TID 6)", 2, "2")]
        );
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
}
