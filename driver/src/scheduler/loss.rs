//! `executorLost`: what an executor takes with it when it goes.
//!
//! Without an external shuffle service its map outputs go too: finished map
//! tasks of a running task set are Resubmitted (pending again, not counted),
//! a finished map stage stops being available, and its running tasks fail
//! with `ExecutorLostFailure`, counted toward `spark.task.maxFailures` only
//! when the loss is the app's fault and the task was past launching. The
//! module docs of [`super`] draw the whole picture; the stages whose output is
//! needed again are resubmitted by the next [`TaskScheduler::advance`] (see `dag`).

use super::dag::StageKind;
use super::{TaskScheduler, list};
use std::collections::BTreeSet;

impl TaskScheduler {
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
}
