//! The driver's side of dynamic allocation: it feeds
//! [`ExecutorAllocationManager`] what the scheduler and the executor table
//! say after every input, wakes it at the ticks it asks for, and carries out
//! its decisions.
//!
//! ```text
//!  every input ──allocation_sync──▶ observe(now, Load) ──▶ next_tick ──▶ AllocationSchedule timer
//!  AllocationSchedule ──on_allocation_timer──▶ schedule(now) ──▶ Request{total} ──▶ request_total_executors
//!                                                            └──▶ Remove{ids} ────▶ kill_executors (Mesos KILL)
//! ```
//!
//! The policy itself (targets, backlog ramp-up, idle timeouts) is in
//! [`crate::allocation`] and knows nothing of the driver: it takes a
//! [`Load`] and returns [`Decision`]s.

use super::{DriverTimer, SparkDriver};
use crate::allocation::{Decision, ExecutorAllocationManager, Load, by_number, validate_settings};
use crate::phase::Phase;
use mesocosm_sim::Outbox;
use std::collections::BTreeMap;

impl SparkDriver {
    /// `requestTotalExecutors(total, hostToLocalTaskCount)` →
    /// `doRequestTotalExecutors`: `executorLimit` becomes `total` and the
    /// locality wait starts over. No Mesos call is made (Spark revives
    /// nothing here); the limit applies to the next offers.
    ///
    /// This is the hook Spark's `ExecutorAllocationManager` uses; the
    /// driver's own allocation policy calls it too.
    pub fn request_total_executors(
        &mut self,
        total: u32,
        host_to_local_task_count: BTreeMap<String, u32>,
        out: &mut Outbox<DriverTimer>,
    ) {
        let words = self.backend.request_total_executors(total, host_to_local_task_count, out.now());
        out.note(words);
    }

    /// `doKillExecutors(ids)`: one Mesos KILL per executor, by task id only.
    /// The executor limit is left alone.
    ///
    /// Returns false, and sends nothing, before the app has registered
    /// (Spark: "Asked to kill executors before the Mesos driver was started.").
    pub fn kill_executors(&mut self, ids: &[String], out: &mut Outbox<DriverTimer>) -> bool {
        let Some(fid) = self.framework_id.clone() else {
            out.note("Asked to kill executors before the Mesos driver was started.");
            return false;
        };
        out.note_with(|| format!("doKillExecutors: KILL executor(s) {}", ids.join(", ")));
        for c in self.backend.kill_executors(&fid, ids) {
            self.send_call(c, out);
        }
        true
    }

    /// What the allocation manager sees now.
    fn allocation_load(&self) -> Load {
        let busy = self.scheduler.cpus_by_executor();
        let running_cpus: u64 = busy.values().map(|c| u64::from(*c)).sum();
        let mut executors: Vec<(String, bool)> =
            self.executors.in_order().map(|(id, _)| (id.to_string(), busy.contains_key(id))).collect();
        executors.sort_by(|a, b| by_number(&a.0, &b.0));
        Load {
            pending: self.scheduler.pending_tasks() as u64,
            running: running_cpus / u64::from(self.cfg.settings.task_cpus.max(1)),
            executors,
        }
    }

    /// SparkContext's `new ExecutorAllocationManager(…)` then `start()`, right
    /// after the backend registered: validate the conf, then send the initial
    /// target. Returns Spark's exception if the conf is invalid.
    pub(super) fn allocation_start(&mut self, out: &mut Outbox<DriverTimer>) -> Result<(), String> {
        if !self.cfg.settings.dynamic_allocation.enabled {
            return Ok(());
        }
        validate_settings(&self.cfg.settings)?;
        let mut eam = ExecutorAllocationManager::new(&self.cfg.settings);
        let initial = eam.start(out.now());
        out.note_with(|| {
            format!(
                "dynamic allocation starts with a target of {initial} executor(s) (max of minExecutors, initialExecutors, spark.executor.instances)"
            )
        });
        self.allocation = Some(eam);
        self.request_total_executors(initial, BTreeMap::new(), out);
        Ok(())
    }

    /// After every input: feed the allocation manager what changed and make
    /// sure the world wakes the driver at the next tick that matters.
    pub(super) fn allocation_sync(&mut self, out: &mut Outbox<DriverTimer>) {
        if self.allocation.is_none() || !matches!(self.phase, Phase::Running) {
            return;
        }
        let load = self.allocation_load();
        let Some(eam) = self.allocation.as_mut() else { return };
        let now = out.now();
        eam.observe(now, load);
        if let Some(at) = eam.next_tick(now)
            && eam.arm(at)
        {
            out.set_timer_at(at, DriverTimer::AllocationSchedule);
        }
    }

    /// [`DriverTimer::AllocationSchedule`]: one run of `schedule()`.
    pub(super) fn on_allocation_timer(&mut self, out: &mut Outbox<DriverTimer>) {
        if !matches!(self.phase, Phase::Running) {
            return;
        }
        let load = self.allocation_load();
        let Some(eam) = self.allocation.as_mut() else { return };
        let now = out.now();
        eam.observe(now, load);
        for decision in eam.schedule(now) {
            match decision {
                Decision::Request { total, why } => {
                    out.note(format!("dynamic allocation: {why}"));
                    self.request_total_executors(total, BTreeMap::new(), out);
                }
                Decision::Remove { ids, why } => {
                    // `CoarseGrainedSchedulerBackend.killExecutors(force = false)`:
                    // only known executors that run no task and are not already
                    // on their way out.
                    let busy = self.scheduler.cpus_by_executor();
                    let ids: Vec<String> = ids
                        .into_iter()
                        .filter(|id| self.executors.contains(id) && !busy.contains_key(id.as_str()))
                        .collect();
                    if ids.is_empty() {
                        continue;
                    }
                    out.note(format!("dynamic allocation: {why}: kill them"));
                    self.kill_executors(&ids, out);
                    let target = match self.allocation.as_mut() {
                        Some(eam) => {
                            eam.executors_killed(&ids);
                            eam.target()
                        }
                        None => continue,
                    };
                    // SPARK-21834: killExecutors may lower the backend's
                    // target, so Spark sends its own target again.
                    self.request_total_executors(target, BTreeMap::new(), out);
                }
            }
        }
    }
}
