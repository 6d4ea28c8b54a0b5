//! The driver's side of [`crate::readiness`]: `waitBackendReady` before the
//! first job, and the starvation warning until the first task launched.
//!
//! ```text
//!  SUBSCRIBED ─▶ wait_backend_ready ─ready?─▶ after_task_progress (jobs run)
//!                      └─not yet─▶ BackendReadyPoll in 100 ms
//!  first task set ─▶ arm_starvation_timer ─▶ Starvation every spark.starvation.timeout:
//!                      warn with the reason the offers show, until a task launched
//! ```

use super::{DriverTimer, SparkDriver};
use crate::config::{executor_memory_mib, max_cores};
use crate::phase::Phase;
use crate::readiness::{BACKEND_READY_POLL, STARVATION_WARNING};
use mesocosm_sim::Outbox;

impl SparkDriver {
    /// `totalCoreCount`: the cores of the registered executors.
    fn registered_cores(&self) -> u64 {
        self.executors.in_order().map(|(_, e)| u64::from(e.total_cores)).sum()
    }

    /// `isReady()`: why the backend is ready, or `None` while it is not.
    fn backend_ready_reason(&self, now: mesocosm_sim::SimTime) -> Option<String> {
        let r = &self.readiness;
        let wanted = f64::from(self.cfg.settings.cores_max.unwrap_or(0)) * r.min_registered_ratio;
        let cores = self.registered_cores();
        if cores as f64 >= wanted {
            return Some(format!(
                "{cores} registered core(s) reach spark.cores.max × minRegisteredResourcesRatio = {wanted}"
            ));
        }
        let started = self.report.started_at.unwrap_or_default();
        (now.since(started) >= r.max_waiting).then(|| {
            format!(
                "waited spark.scheduler.maxRegisteredResourcesWaitingTime={}s with {cores} of the {wanted} core(s) registered",
                r.max_waiting.as_secs_f64()
            )
        })
    }

    /// The end of the SparkContext constructor (`postStartHook` →
    /// `waitBackendReady`): run the jobs once the backend is ready, else ask
    /// again in 100 ms.
    pub(super) fn wait_backend_ready(&mut self, out: &mut Outbox<DriverTimer>) {
        if self.backend_ready || !matches!(self.phase, Phase::Running) {
            return;
        }
        match self.backend_ready_reason(out.now()) {
            Some(why) => {
                self.backend_ready = true;
                if self.readiness.min_registered_ratio > 0.0 {
                    out.note_with(|| format!("SchedulerBackend is ready for scheduling: {why}"));
                }
                self.after_task_progress(out);
            }
            None => {
                if !self.backend_waiting {
                    self.backend_waiting = true;
                    out.note_with(|| {
                        format!(
                            "waitBackendReady: no job runs until registered executors hold spark.cores.max × spark.scheduler.minRegisteredResourcesRatio = {} core(s) or {}s (maxRegisteredResourcesWaitingTime) pass; checked every 100 ms",
                            f64::from(self.cfg.settings.cores_max.unwrap_or(0)) * self.readiness.min_registered_ratio,
                            self.readiness.max_waiting.as_secs_f64()
                        )
                    });
                }
                out.set_timer(BACKEND_READY_POLL, DriverTimer::BackendReadyPoll);
            }
        }
    }

    /// After the DAG scheduler moved: the first task set starts the
    /// starvation timer (`submitTasks`, `hasReceivedTask`).
    pub(super) fn arm_starvation_timer(&mut self, out: &mut Outbox<DriverTimer>) {
        if self.received_task || self.scheduler.task_sets_submitted == 0 {
            return;
        }
        self.received_task = true;
        out.set_timer(self.readiness.starvation_timeout, DriverTimer::Starvation);
    }

    /// [`DriverTimer::Starvation`]: warn while no task has launched.
    pub(super) fn on_starvation_timer(&mut self, out: &mut Outbox<DriverTimer>) {
        if self.scheduler.tasks_launched() > 0 {
            // `hasLaunchedTask`: the timer cancels itself.
            self.report.starved = None;
            return;
        }
        if !matches!(self.phase, Phase::Running) {
            return;
        }
        let cause = self.starvation_cause();
        self.report.starvation_warnings += 1;
        let text = format!("{STARVATION_WARNING} (spark.starvation.timeout): {cause}");
        out.note(text.clone());
        self.report.starved = Some(text);
        out.set_timer(self.readiness.starvation_timeout, DriverTimer::Starvation);
    }

    /// Why no task has launched, from what the driver saw of the offers.
    fn starvation_cause(&self) -> String {
        let s = &self.cfg.settings;
        if max_cores(s) <= 0 {
            return format!(
                "spark.cores.max = {} allows no executor (SPARK-20483 rounds it down to whole executors)",
                s.cores_max.unwrap_or(0)
            );
        }
        if let Some(e) = &self.mesos_abort_reason {
            return format!("the Mesos scheduler driver was aborted ({e}); no offer reaches Spark any more");
        }
        let b = &self.backend;
        if self.report.offers_received == 0 {
            return "no offer has reached the app: no agent has registered with the master, or the master offers \
                    every agent's resources to other frameworks"
                .to_string();
        }
        if self.report.executors_launched > 0 {
            return format!(
                "{} executor(s) launched, {} registered with the driver and none ran a task yet{}",
                self.report.executors_launched,
                self.executors.len(),
                b.last_decline.as_ref().map_or(String::new(), |w| format!("; the last offer was declined: {w}"))
            );
        }
        if b.offers_matched == 0 {
            return format!(
                "every offer came from an agent whose attributes do not meet spark.mesos.constraints={:?}",
                s.constraints
            );
        }
        let need_cpus = i64::from(s.executor_cores.unwrap_or(1));
        let need_mem = executor_memory_mib(s) as i64;
        if let Some((cpus, mem)) = b.largest_offer
            && (cpus / 1000 < need_cpus || mem < need_mem * 1000)
        {
            return format!(
                "an executor needs cpus:{need_cpus} mem:{need_mem} (spark.executor.cores {}, spark.executor.memory {} + overhead) but the largest offer was cpus:{} mem:{}",
                s.executor_cores.map_or("unset: a whole cpu at least".to_string(), |c| c.to_string()),
                s.executor_memory_mib,
                cpus as f64 / 1000.0,
                mem as f64 / 1000.0
            );
        }
        match &b.last_decline {
            Some(w) => format!("every offer was declined; the last: {w}"),
            None => "no executor could be launched".to_string(),
        }
    }
}
