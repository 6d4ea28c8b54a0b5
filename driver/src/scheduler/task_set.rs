//! The `TaskSchedulerImpl` + `TaskSetManager` half: one stage attempt's
//! tasks, where they run, and what a failed attempt costs.
//!
//! ```text
//!  resource_offers: FIFO by stage id, passes over the executors (one task per executor per pass),
//!                   lowest pending index first, next TID, next attempt number of that index
//!  status_update:   FINISHED ─▶ successful (map output registered, or result done)
//!                   otherwise ─▶ attempt_failed (see "Failures" in the module docs of the scheduler)
//! ```
//!
//! A [`TaskSetManager`] keeps its per-task facts as runs of indices
//! ([`crate::partitions`]) and sparse maps of the tasks launched more than
//! once or failed, so a stage of millions of tasks costs what its running
//! tasks cost.

use super::{Running, TaskOutcome, TaskScheduler, WorkerOffer};
use crate::partitions::{RangeSet, TaskIndices};
use mesocosm_sim::SimTime;
use mesocosm_sim::proto::sparkrpc::{TaskDescription, TaskState};
use std::collections::BTreeMap;

/// One attempt of one stage: its task set (`TaskSetManager`).
///
/// Why runs and sparse maps: Spark sizes its arrays by the task count;
/// mesocosm keeps what they say in [`RangeSet`]s and maps that hold only
/// the tasks launched more than once or failed, so a stage of millions of
/// tasks costs what its running tasks cost (see [`crate::partitions`]).
#[derive(Debug)]
pub(super) struct TaskSetManager {
    pub(super) stage_attempt: u32,
    /// Task index → partition: a first attempt runs every partition, a
    /// resubmitted one only the missing ones.
    pub(super) partitions: TaskIndices,
    pub(super) started: SimTime,
    pub(super) pending: RangeSet,
    pub(super) successful: RangeSet,
    /// One past the highest index ever launched. Pending tasks launch lowest
    /// index first and only launched ones come back, so every index below
    /// it was launched at least once and none at or above it ever was.
    pub(super) frontier: u32,
    /// Launches so far per task index (the next attempt number), only where
    /// that is not what `frontier` implies (1 below it, 0 above).
    pub(super) attempts: BTreeMap<u32, u32>,
    /// `numFailures`: failed attempts per task index.
    pub(super) failures: BTreeMap<u32, u32>,
}

impl TaskSetManager {
    pub(super) fn new(stage_attempt: u32, partitions: TaskIndices, started: SimTime) -> TaskSetManager {
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
    pub(super) fn is_complete(&self) -> bool {
        self.successful.len() == u64::from(self.partitions.len())
    }

    /// Launches of `index` so far, which is the next attempt's number.
    fn launches(&self, index: u32) -> u32 {
        self.attempts.get(&index).copied().unwrap_or(u32::from(index < self.frontier))
    }

    /// Book one more launch of `index`; returns its attempt number.
    pub(super) fn launch(&mut self, index: u32) -> u32 {
        let attempt = self.launches(index);
        self.frontier = self.frontier.max(index + 1);
        if attempt + 1 == 1 {
            self.attempts.remove(&index);
        } else {
            self.attempts.insert(index, attempt + 1);
        }
        attempt
    }

    pub(super) fn footprint(&self) -> usize {
        self.pending.runs() + self.successful.runs() + self.attempts.len() + self.failures.len()
    }
}

impl TaskScheduler {
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

    /// `TaskSetManager.handleFailedTask`: put the index back to pending, or
    /// abort the job once it has failed `spark.task.maxFailures` times.
    pub(super) fn attempt_failed(&mut self, tid: u64, r: &Running, counts: bool, reason: &str) {
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
}
