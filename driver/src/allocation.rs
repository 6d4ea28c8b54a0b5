//! Dynamic allocation: a small `ExecutorAllocationManager`.
//!
//! With `spark.dynamicAllocation.enabled=true` a Spark app does not grab
//! every core Mesos offers; it keeps a moving *target* number of executors
//! and tells the backend, which turns it into `executorLimit` (offers beyond
//! it are declined). The target follows the work:
//!
//! ```text
//!  registered ──▶ target = max(minExecutors, initialExecutors, spark.executor.instances)
//!                 (default 0: every offer is declined until tasks wait)
//!  tasks pending for schedulerBacklogTimeout (1 s)
//!     ──▶ target += 1, then += 2, += 4 … every sustainedSchedulerBacklogTimeout (1 s)
//!         capped by maxExecutors and by what the tasks can use:
//!         ⌈(pending + running tasks) / (executor cores / task.cpus)⌉
//!  fewer tasks than the target can use ──▶ target lowered (to that, ≥ minExecutors)
//!  an executor idle for executorIdleTimeout (60 s), and more executors than
//!  the target and minExecutors ──▶ killExecutors → one Mesos KILL per executor
//! ```
//!
//! Spark runs this policy on a thread every 100 ms ([`ALLOCATION_INTERVAL`],
//! `schedule()`); mesocosm wakes the driver only at the 100 ms ticks where
//! something is due (a backlog deadline, an idle deadline, a lower need),
//! counted from registration, so decisions land on the instants Spark's
//! polling would make them.
//!
//! Simplifications, each noted where it matters:
//!
//! - one resource profile, no speculation, no excluded nodes, no locality
//!   hints (the workload has no data placement, so `hostToLocalTaskCount` is
//!   always empty) and `executorAllocationRatio = 1.0`;
//! - executors per task count uses `spark.executor.cores` or, unset, Spark's
//!   core default of 1 (`ResourceProfile.maxTasksPerExecutor` reads the
//!   profile's executor cores, which default to 1 even though a Mesos
//!   executor then takes a whole offer). So with `executor.cores` unset the
//!   target is one executor per pending task, as in Spark;
//! - shuffle files are not modelled, so an idle executor is released after
//!   `executorIdleTimeout` whether the app relies on the external shuffle
//!   service or on shuffle tracking (a real app with shuffle tracking keeps
//!   executors holding live shuffle data);
//! - there is no cached-RDD timeout (`cachedExecutorIdleTimeout`).
//!
//! The manager is a pure model: [`ExecutorAllocationManager::observe`] takes
//! what the driver sees ([`Load`]) and [`ExecutorAllocationManager::schedule`]
//! returns [`Decision`]s; the driver's `dynamic_allocation` carries them out.

use crate::config::{DynamicAllocation, SparkSettings};
use mesocosm_sim::SimTime;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// `ExecutorAllocationManager.intervalMillis`: how often Spark's allocation
/// thread runs `schedule()`.
pub const ALLOCATION_INTERVAL: Duration = Duration::from_millis(100);

/// What the scheduler and the executor table say right now (what Spark's
/// `ExecutorAllocationListener` and `ExecutorMonitor` track from events).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Load {
    /// Tasks of the running stage not started yet.
    pub pending: u64,
    /// Tasks running.
    pub running: u64,
    /// Registered executors in id order, and whether a task runs there.
    pub executors: Vec<(String, bool)>,
}

/// One thing `schedule()` decided.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Decision {
    /// `client.requestTotalExecutors(target)`.
    Request { total: u32, why: String },
    /// `client.killExecutors(ids, adjustTargetNumExecutors = false, countFailures = false, force = false)`.
    Remove { ids: Vec<String>, why: String },
}

/// Everything that decides what the next `schedule()` does.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Fingerprint {
    load: Load,
    target: u32,
    to_add: u32,
    add_time: Option<SimTime>,
    initializing: bool,
    pending_removal: BTreeSet<String>,
}

/// `ExecutorAllocationManager` for the default resource profile.
#[derive(Debug)]
pub(crate) struct ExecutorAllocationManager {
    conf: DynamicAllocation,
    /// `maxTasksPerExecutor` (see the module docs).
    tasks_per_executor: u64,
    /// `numExecutorsTargetPerResourceProfileId(default)`.
    target: u32,
    /// `numExecutorsToAddPerResourceProfileId(default)`: 1, 2, 4 …
    to_add: u32,
    /// `addTime`: when the backlog next adds executors (`NOT_SET` = `None`).
    add_time: Option<SimTime>,
    /// `initializing`: the target stays put until a stage is submitted or
    /// an executor times out, so the first job does not ramp up needlessly.
    initializing: bool,
    /// When `start()` ran: the origin of the 100 ms tick grid, once started.
    started_at: Option<SimTime>,
    /// `ExecutorMonitor`: since when each registered executor has run no task.
    idle_since: BTreeMap<String, SimTime>,
    /// `ExecutorMonitor.pendingRemoval` (and the backend's `executorsPendingToRemove`).
    pending_removal: BTreeSet<String>,
    load: Load,
    /// The last `schedule()` that changed nothing, and what it saw.
    last_noop: Option<(SimTime, Fingerprint)>,
    /// Ticks already asked of the world (timers are never cancelled).
    armed: BTreeSet<SimTime>,
}

/// The timeouts are `timeConf(SECONDS)`: whole seconds.
fn whole_secs(d: Duration) -> Duration {
    Duration::from_secs(d.as_secs())
}

/// `Utils.getDynamicAllocationInitialExecutors`: the largest of
/// minExecutors, initialExecutors (default minExecutors) and
/// `spark.executor.instances` (default 0).
pub fn initial_executors(s: &SparkSettings) -> u32 {
    let da = &s.dynamic_allocation;
    da.min_executors.max(da.initial_executors.unwrap_or(da.min_executors)).max(s.executor_instances.unwrap_or(0))
}

/// `ExecutorAllocationManager.validateSettings`, Spark 3.5's checks and
/// messages (thrown from the SparkContext constructor, *after* the backend
/// has registered with Mesos).
pub(crate) fn validate_settings(s: &SparkSettings) -> Result<(), String> {
    let da = &s.dynamic_allocation;
    let key = "spark.dynamicAllocation";
    if da.max_executors == 0 {
        return Err(format!("{key}.maxExecutors cannot be 0!"));
    }
    if da.min_executors > da.max_executors {
        return Err(format!(
            "{key}.minExecutors ({}) must be less than or equal to {key}.maxExecutors ({})!",
            da.min_executors, da.max_executors
        ));
    }
    if whole_secs(da.scheduler_backlog_timeout).is_zero() {
        return Err(format!("{key}.schedulerBacklogTimeout must be > 0!"));
    }
    if whole_secs(da.sustained_scheduler_backlog_timeout).is_zero() {
        // Spark 3.5's message really starts with "ss": `s"s${KEY.key} must be > 0!"`.
        return Err(format!("s{key}.sustainedSchedulerBacklogTimeout must be > 0!"));
    }
    // Why: killing an executor would lose its shuffle files unless something
    // else serves them. Spark 3.5 accepts the external shuffle service or
    // shuffle tracking (decommissioning and reliable shuffle storage are not
    // modelled); before 3.0 only the shuffle service.
    if !s.shuffle_service_enabled && !da.shuffle_tracking_enabled {
        return Err("Dynamic allocation of executors requires one of the following conditions: 1) enabling \
                    external shuffle service through spark.shuffle.service.enabled. 2) enabling shuffle \
                    tracking through spark.dynamicAllocation.shuffleTracking.enabled. 3) enabling shuffle \
                    blocks decommission through spark.decommission.enabled and \
                    spark.storage.decommission.shuffleBlocks.enabled. 4) (Experimental) configuring \
                    spark.shuffle.sort.io.plugin.class to use a custom ShuffleDataIO who's \
                    ShuffleDriverComponents supports reliable storage."
            .to_string());
    }
    Ok(())
}

/// Executors ids are Mesos task ids `"0"`, `"1"` …: order them as numbers.
pub(crate) fn by_number(a: &str, b: &str) -> std::cmp::Ordering {
    (a.len(), a).cmp(&(b.len(), b))
}

impl ExecutorAllocationManager {
    pub fn new(s: &SparkSettings) -> ExecutorAllocationManager {
        let cores = u64::from(s.executor_cores.unwrap_or(1));
        ExecutorAllocationManager {
            conf: s.dynamic_allocation.clone(),
            tasks_per_executor: (cores / u64::from(s.task_cpus.max(1))).max(1),
            target: initial_executors(s),
            to_add: 1,
            add_time: None,
            initializing: true,
            started_at: None,
            idle_since: BTreeMap::new(),
            pending_removal: BTreeSet::new(),
            load: Load::default(),
            last_noop: None,
            armed: BTreeSet::new(),
        }
    }

    /// The current target.
    pub fn target(&self) -> u32 {
        self.target
    }

    /// `start()`: the polling starts now; returns the initial target Spark
    /// sends with its first `requestTotalExecutors`.
    pub fn start(&mut self, now: SimTime) -> u32 {
        self.started_at = Some(now);
        self.target
    }

    /// `maxNumExecutorsNeededPerResourceProfile`: ⌈(pending + running) / tasks per executor⌉.
    fn max_needed(&self) -> u32 {
        let tasks = self.load.pending + self.load.running;
        u32::try_from(tasks.div_ceil(self.tasks_per_executor)).unwrap_or(u32::MAX)
    }

    fn fingerprint(&self) -> Fingerprint {
        Fingerprint {
            load: self.load.clone(),
            target: self.target,
            to_add: self.to_add,
            add_time: self.add_time,
            initializing: self.initializing,
            pending_removal: self.pending_removal.clone(),
        }
    }

    /// What the listener and the monitor learn from events: the backlog
    /// timer (`onSchedulerBacklogged` / `onSchedulerQueueEmpty`) and the
    /// executors' idle times.
    pub fn observe(&mut self, now: SimTime, load: Load) {
        if load.pending + load.running > 0 {
            // `onStageSubmitted`: a stage is running.
            self.initializing = false;
        }
        if load.pending > 0 {
            self.add_time.get_or_insert(now.after(whole_secs(self.conf.scheduler_backlog_timeout)));
        } else {
            self.add_time = None;
            self.to_add = 1;
        }
        for (id, busy) in &load.executors {
            if *busy {
                self.idle_since.remove(id);
            } else {
                self.idle_since.entry(id.clone()).or_insert(now);
            }
        }
        let known: BTreeSet<&str> = load.executors.iter().map(|(id, _)| id.as_str()).collect();
        self.idle_since.retain(|id, _| known.contains(id.as_str()));
        self.pending_removal.retain(|id| known.contains(id.as_str()));
        self.load = load;
    }

    /// When an idle executor times out (`timeoutAt`), if it is not being removed.
    fn idle_deadlines(&self) -> impl Iterator<Item = (&String, SimTime)> {
        let timeout = whole_secs(self.conf.executor_idle_timeout);
        self.idle_since
            .iter()
            .filter(|(id, _)| !self.pending_removal.contains(*id))
            .map(move |(id, since)| (id, since.after(timeout)))
    }

    /// The tick at which `schedule()` should next run, if anything can change.
    pub fn next_tick(&self, now: SimTime) -> Option<SimTime> {
        let start = self.started_at?;
        let fp = self.fingerprint();
        // A tick that changed nothing will change nothing again until the
        // inputs change or a later deadline passes.
        let floor = self.last_noop.as_ref().filter(|(_, f)| *f == fp).map(|(t, _)| *t);
        let mut due: Vec<SimTime> = Vec::new();
        if !self.initializing && self.max_needed() < self.target {
            due.push(now);
        }
        if !self.initializing
            && let Some(a) = self.add_time
        {
            due.push(a);
        }
        due.extend(self.idle_deadlines().map(|(_, t)| t));
        let due = due.into_iter().filter(|t| floor.is_none_or(|f| *t > f)).min()?;
        // The first grid tick at or after `due`, and strictly after `now`.
        // Why checked: a deadline saturates at the end of the microsecond
        // clock (`spark.dynamicAllocation.executorIdleTimeout=213503983d`
        // is past it); rounding that up to the grid used to wrap to a small
        // instant that fired at once, forever. A tick the clock cannot hold
        // never comes, as Spark's would not within any run.
        let step = ALLOCATION_INTERVAL.as_micros() as u64;
        let at = due.micros().max(now.micros().saturating_add(1));
        let k = (at.saturating_sub(start.micros())).div_ceil(step);
        k.checked_mul(step).and_then(|off| start.micros().checked_add(off)).map(SimTime)
    }

    /// Remember that a timer for `at` is set; false if one already was.
    pub fn arm(&mut self, at: SimTime) -> bool {
        self.armed.insert(at)
    }

    /// `schedule()`: time out idle executors, move the target, pick executors to remove.
    pub fn schedule(&mut self, now: SimTime) -> Vec<Decision> {
        self.armed.retain(|t| *t > now);
        let mut timed_out: Vec<String> =
            self.idle_deadlines().filter(|(_, t)| *t <= now).map(|(id, _)| id.clone()).collect();
        timed_out.sort_by(|a, b| by_number(a, b));
        if !timed_out.is_empty() {
            self.initializing = false;
        }
        let mut decisions = Vec::new();
        decisions.extend(self.update_and_sync_target(now));
        decisions.extend(self.remove_executors(&timed_out));
        // A tick that decided nothing (perhaps only resetting the step back to 1)
        // decides nothing again on the same inputs.
        self.last_noop = decisions.is_empty().then(|| (now, self.fingerprint()));
        decisions
    }

    /// `updateAndSyncNumExecutorsTarget`.
    fn update_and_sync_target(&mut self, now: SimTime) -> Option<Decision> {
        if self.initializing {
            return None;
        }
        let max_needed = self.max_needed();
        let old = self.target;
        let (pending, running) = (self.load.pending, self.load.running);
        if max_needed < old {
            // `decrementExecutors`: no executor is killed here, only the
            // request shrinks; idle executors go through the idle timeout.
            self.target = max_needed.max(self.conf.min_executors);
            self.to_add = 1;
            return (self.target != old).then(|| Decision::Request {
                total: self.target,
                why: format!(
                    "lower the target {old} → {} executor(s): {pending} pending + {running} running task(s) need only {max_needed} (spark.dynamicAllocation.minExecutors={})",
                    self.target, self.conf.min_executors
                ),
            });
        }
        let add_time = self.add_time?;
        if now < add_time {
            return None;
        }
        let step = self.to_add;
        let delta = self.add_executors(max_needed);
        if delta == 0 {
            return None;
        }
        // Why doubling: add slowly at first in case few are needed, then
        // quickly in case many are (the ExecutorAllocationManager's docs).
        self.to_add = if delta == step { step * 2 } else { 1 };
        let sustained = whole_secs(self.conf.sustained_scheduler_backlog_timeout);
        self.add_time = Some(now.after(sustained));
        Some(Decision::Request {
            total: self.target,
            why: format!(
                "tasks backlogged ({pending} pending, {running} running): request {delta} more executor(s), target {old} → {} (cap: {max_needed} needed, spark.dynamicAllocation.maxExecutors={}); the next round adds up to {} after {}s (sustainedSchedulerBacklogTimeout)",
                self.target,
                self.conf.max_executors,
                self.to_add,
                sustained.as_secs()
            ),
        })
    }

    /// `addExecutors(maxNeeded)`: raise the target by `to_add`, within the
    /// need and the configured bounds; returns how much it rose.
    fn add_executors(&mut self, max_needed: u32) -> u32 {
        let old = self.target;
        if old >= self.conf.max_executors {
            self.to_add = 1;
            return 0;
        }
        // No point ramping up to executors the app already has.
        let have = u32::try_from(self.load.executors.len()).unwrap_or(u32::MAX);
        let mut target = old.max(have).saturating_add(self.to_add);
        target = target.min(max_needed);
        target = target.min(self.conf.max_executors).max(self.conf.min_executors);
        self.target = target;
        let delta = target.saturating_sub(old);
        if delta == 0 {
            self.to_add = 1;
        }
        delta
    }

    /// `removeExecutors(timedOut)`: keep at least minExecutors and the target.
    fn remove_executors(&mut self, timed_out: &[String]) -> Option<Decision> {
        let count = self.load.executors.len() as i64 - self.pending_removal.len() as i64;
        let mut left = count;
        let mut ids = Vec::new();
        for id in timed_out {
            if left - 1 < i64::from(self.conf.min_executors) || left - 1 < i64::from(self.target) {
                continue;
            }
            ids.push(id.clone());
            left -= 1;
        }
        (!ids.is_empty()).then(|| Decision::Remove {
            why: format!(
                "executor(s) {} idle for {}s (spark.dynamicAllocation.executorIdleTimeout): {count} executor(s), target {}, minExecutors {}",
                ids.join(", "),
                whole_secs(self.conf.executor_idle_timeout).as_secs(),
                self.target,
                self.conf.min_executors
            ),
            ids,
        })
    }

    /// `executorMonitor.executorsKilled(ids)`: they are on their way out.
    pub fn executors_killed(&mut self, ids: &[String]) {
        self.pending_removal.extend(ids.iter().cloned());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(f: impl FnOnce(&mut SparkSettings)) -> SparkSettings {
        let mut s = SparkSettings::default();
        s.dynamic_allocation.enabled = true;
        s.shuffle_service_enabled = true;
        f(&mut s);
        s
    }

    fn load(pending: u64, running: u64, executors: &[(&str, bool)]) -> Load {
        Load { pending, running, executors: executors.iter().map(|(id, b)| (id.to_string(), *b)).collect() }
    }

    fn secs(s: f64) -> SimTime {
        SimTime((s * 1e6).round() as u64)
    }

    fn totals(d: &[Decision]) -> Vec<u32> {
        d.iter()
            .filter_map(|d| match d {
                Decision::Request { total, .. } => Some(*total),
                Decision::Remove { .. } => None,
            })
            .collect()
    }

    #[test]
    fn initial_target_is_the_largest_of_min_initial_and_instances() {
        assert_eq!(initial_executors(&settings(|_| {})), 0);
        assert_eq!(initial_executors(&settings(|s| s.dynamic_allocation.min_executors = 2)), 2);
        assert_eq!(
            initial_executors(&settings(|s| {
                s.dynamic_allocation.min_executors = 2;
                s.dynamic_allocation.initial_executors = Some(1);
                s.executor_instances = Some(5);
            })),
            5
        );
    }

    #[test]
    fn validation_uses_spark_messages() {
        assert_eq!(validate_settings(&settings(|_| {})), Ok(()));
        assert_eq!(
            validate_settings(&settings(|s| s.shuffle_service_enabled = false)),
            Err("Dynamic allocation of executors requires one of the following conditions: 1) enabling external \
                 shuffle service through spark.shuffle.service.enabled. 2) enabling shuffle tracking through \
                 spark.dynamicAllocation.shuffleTracking.enabled. 3) enabling shuffle blocks decommission through \
                 spark.decommission.enabled and spark.storage.decommission.shuffleBlocks.enabled. 4) (Experimental) \
                 configuring spark.shuffle.sort.io.plugin.class to use a custom ShuffleDataIO who's \
                 ShuffleDriverComponents supports reliable storage."
                .into())
        );
        assert!(
            validate_settings(&settings(|s| {
                s.shuffle_service_enabled = false;
                s.dynamic_allocation.shuffle_tracking_enabled = true;
            }))
            .is_ok()
        );
        assert_eq!(
            validate_settings(&settings(|s| s.dynamic_allocation.max_executors = 0)),
            Err("spark.dynamicAllocation.maxExecutors cannot be 0!".into())
        );
        assert_eq!(
            validate_settings(&settings(|s| {
                s.dynamic_allocation.min_executors = 3;
                s.dynamic_allocation.max_executors = 2;
            })),
            Err("spark.dynamicAllocation.minExecutors (3) must be less than or equal to spark.dynamicAllocation.maxExecutors (2)!".into())
        );
        assert_eq!(
            validate_settings(&settings(
                |s| s.dynamic_allocation.scheduler_backlog_timeout = Duration::from_millis(500)
            )),
            Err("spark.dynamicAllocation.schedulerBacklogTimeout must be > 0!".into())
        );
        assert_eq!(
            validate_settings(&settings(|s| s.dynamic_allocation.sustained_scheduler_backlog_timeout = Duration::ZERO)),
            Err("sspark.dynamicAllocation.sustainedSchedulerBacklogTimeout must be > 0!".into())
        );
    }

    #[test]
    fn a_backlog_adds_1_then_2_then_4_capped_by_what_the_tasks_need() {
        let mut eam = ExecutorAllocationManager::new(&settings(|_| {}));
        assert_eq!(eam.start(secs(0.0)), 0);
        eam.observe(secs(0.05), load(10, 0, &[]));
        // The backlog timer: 1 s after the tasks started waiting, on the 100 ms grid.
        assert_eq!(eam.next_tick(secs(0.05)), Some(secs(1.1)));
        assert!(eam.schedule(secs(1.0)).is_empty(), "not due yet");
        assert_eq!(totals(&eam.schedule(secs(1.1))), vec![1]);
        assert_eq!(eam.next_tick(secs(1.1)), Some(secs(2.1)), "sustainedSchedulerBacklogTimeout");
        assert_eq!(totals(&eam.schedule(secs(2.1))), vec![3]);
        assert_eq!(totals(&eam.schedule(secs(3.1))), vec![7]);
        // 10 tasks on 1-core executors need 10: the cap cuts the next 8 to 3,
        // and a round that did not add its full step starts over at 1.
        assert_eq!(totals(&eam.schedule(secs(4.1))), vec![10]);
        assert_eq!(eam.to_add, 1);
        assert!(eam.schedule(secs(5.1)).is_empty(), "nothing more is needed");
        assert_eq!(eam.next_tick(secs(5.1)), None, "a no-op tick is not repeated");
    }

    #[test]
    fn executor_cores_and_task_cpus_set_the_need_and_max_executors_caps_it() {
        let mut eam = ExecutorAllocationManager::new(&settings(|s| {
            s.executor_cores = Some(4);
            s.task_cpus = 2;
            s.dynamic_allocation.max_executors = 2;
        }));
        eam.start(secs(0.0));
        eam.observe(secs(0.0), load(9, 0, &[]));
        assert_eq!(eam.max_needed(), 5, "⌈9 / (4/2)⌉");
        assert_eq!(totals(&eam.schedule(secs(1.0))), vec![1]);
        assert_eq!(totals(&eam.schedule(secs(2.0))), vec![2], "maxExecutors");
        assert!(eam.schedule(secs(3.0)).is_empty());
    }

    #[test]
    fn an_idle_timeout_past_the_clock_s_end_never_fires() {
        // 213503983 days is just past 2^64 µs: the deadline saturates, and
        // the grid tick after it does not exist.
        let mut eam = ExecutorAllocationManager::new(&settings(|s| {
            s.dynamic_allocation.executor_idle_timeout = Duration::from_secs(213_503_983 * 86_400);
        }));
        eam.start(secs(0.0));
        eam.observe(secs(0.0), load(0, 0, &[("0", false)]));
        assert_eq!(eam.next_tick(secs(0.0)), None);
        assert!(eam.schedule(secs(3600.0)).is_empty(), "executor 0 is not idle long enough");
        assert_eq!(eam.next_tick(secs(3600.0)), None);
    }

    #[test]
    fn less_work_lowers_the_target_and_idle_executors_are_removed_down_to_it() {
        let mut eam = ExecutorAllocationManager::new(&settings(|s| s.dynamic_allocation.min_executors = 1));
        eam.start(secs(0.0));
        eam.observe(secs(0.0), load(3, 0, &[]));
        eam.schedule(secs(1.0));
        eam.schedule(secs(2.0));
        assert_eq!(eam.target(), 3);
        eam.observe(secs(3.0), load(0, 3, &[("0", true), ("1", true), ("2", true)]));
        assert!(eam.schedule(secs(3.1)).is_empty());
        // Two tasks end: the need drops to 1 and the target with it, at the next tick.
        eam.observe(secs(10.0), load(0, 1, &[("0", false), ("1", true), ("2", false)]));
        assert_eq!(eam.next_tick(secs(10.0)), Some(secs(10.1)));
        assert_eq!(totals(&eam.schedule(secs(10.1))), vec![1]);
        assert_eq!(eam.next_tick(secs(10.1)), Some(secs(70.0)), "executorIdleTimeout after they went idle");
        let d = eam.schedule(secs(70.0));
        assert!(
            matches!(&d[..], [Decision::Remove { ids, .. }] if ids == &["0".to_string(), "2".to_string()]),
            "{d:?}"
        );
        eam.executors_killed(&["0".to_string(), "2".to_string()]);
        // The last task ends; minExecutors=1 keeps executor 1.
        eam.observe(secs(80.0), load(0, 0, &[("0", false), ("1", false), ("2", false)]));
        assert!(eam.schedule(secs(140.0)).is_empty());
    }
}
