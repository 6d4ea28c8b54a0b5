//! The `DAGScheduler`'s half: a job's stages, their map outputs, and when
//! each stage is submitted.
//!
//! ```text
//!  start_job ─▶ submit_stage(result) ─▶ parents missing? ─yes─▶ wait; submit_stage(parent) …
//!                                        └─no──▶ submit_missing_tasks: a new attempt, one task per missing partition
//!  task set complete ─▶ task_set_finished ─▶ all outputs there? ─no──▶ resubmit the stage
//!                                             └─yes─▶ submitWaitingChildStages
//!  a running stage needs a lost parent output ─▶ resubmit_lost_parents (the FetchFailed stand-in)
//! ```
//!
//! A [`Stage`] knows what its finished tasks left behind ([`StageKind`]):
//! a ShuffleMapStage the executor holding each partition's map output, a
//! ResultStage the partitions whose result reached the driver.

use super::task_set::TaskSetManager;
use super::{Running, TaskScheduler, list};
use crate::config::TaskDurations;
use crate::partitions::{MapOutputs, RangeSet, TaskIndices};
use mesocosm_sim::SimTime;
use std::collections::BTreeSet;
use std::sync::Arc;

/// What a stage's finished tasks leave behind.
#[derive(Debug)]
pub(super) enum StageKind {
    /// `ShuffleMapStage`: the `MapOutputTracker`'s view, partition → the
    /// executor holding that partition's map output.
    ShuffleMap { outputs: MapOutputs },
    /// `ResultStage`: partitions whose result reached the driver (results
    /// live in the driver, so no executor loss takes them back).
    Result { done: RangeSet },
}

/// A stage of the running job, as the `DAGScheduler` tracks it.
#[derive(Debug)]
pub(super) struct Stage {
    pub(super) id: u32,
    pub(super) name: String,
    /// Indices of the parent stages in the job, sorted, without duplicates.
    pub(super) parents: Vec<usize>,
    /// How many partitions (tasks) the stage has.
    pub(super) tasks: u32,
    /// How long each partition's task runs, drawn when it launches.
    pub(super) durations: Arc<dyn TaskDurations>,
    pub(super) kind: StageKind,
    /// The attempt number the next submission gets (`Stage.nextAttemptId`).
    pub(super) next_attempt: u32,
    /// In `waitingStages`: submitted, waiting for missing parents.
    pub(super) waiting: bool,
    /// The running attempt's task set, if one runs (`runningStages`).
    pub(super) tsm: Option<TaskSetManager>,
}

impl Stage {
    /// `findMissingPartitions`.
    pub(super) fn missing(&self) -> RangeSet {
        match &self.kind {
            StageKind::ShuffleMap { outputs } => outputs.missing(self.tasks),
            StageKind::Result { done } => done.complement(self.tasks),
        }
    }

    /// `ShuffleMapStage.isAvailable`: every partition's map output exists.
    /// A ResultStage is never a parent, so its answer only matters for the
    /// end of the job.
    pub(super) fn is_available(&self) -> bool {
        let have = match &self.kind {
            StageKind::ShuffleMap { outputs } => outputs.count(),
            StageKind::Result { done } => done.len(),
        };
        have >= u64::from(self.tasks)
    }

    /// Entries held for this stage's partitions (see [`TaskScheduler::footprint`]).
    pub(super) fn footprint(&self) -> usize {
        let kind = match &self.kind {
            StageKind::ShuffleMap { outputs } => outputs.slots(),
            StageKind::Result { done } => done.runs(),
        };
        kind + self.tsm.as_ref().map_or(0, TaskSetManager::footprint)
    }

    pub(super) fn label(&self, job: usize) -> String {
        format!("stage {} ({}) of job {job}", self.id, self.name)
    }
}

impl TaskScheduler {
    /// `handleJobSubmitted`: create the job's stages (ids in the job's order,
    /// so parents get smaller ids than their children, as Spark creates
    /// parents first) and submit the ResultStage.
    pub(super) fn start_job(&mut self, now: SimTime, notes: &mut Vec<String>, revive: &mut bool) {
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
    pub(super) fn task_set_finished(&mut self, s: usize, now: SimTime, notes: &mut Vec<String>, revive: &mut bool) {
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
    pub(super) fn resubmit_lost_parents(&mut self, now: SimTime, notes: &mut Vec<String>, revive: &mut bool) -> bool {
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

    /// `handleSuccessfulTask`, then the `DAGScheduler`'s bookkeeping: a map
    /// task registers its output on its executor (`registerMapOutput`), a
    /// result task marks its partition done.
    pub(super) fn task_succeeded(&mut self, r: &Running) {
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
}
