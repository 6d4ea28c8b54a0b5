//! Before and after the first task: waiting for registered resources, and
//! the starvation warning.
//!
//! ```text
//!  SUBSCRIBED ─▶ waitBackendReady: every 100 ms, isReady?        (TaskSchedulerImpl.postStartHook)
//!                  registered cores ≥ spark.cores.max × minRegisteredResourcesRatio
//!                  or maxRegisteredResourcesWaitingTime since the backend was created
//!             ─▶ first job submitted ─▶ every spark.starvation.timeout (15 s),
//!                  while no task has launched: "Initial job has not accepted any resources"
//! ```
//!
//! **`waitBackendReady`.** The SparkContext constructor's last step blocks
//! until `backend.isReady()`: `sufficientResourcesRegistered()` or
//! `spark.scheduler.maxRegisteredResourcesWaitingTime` (30 s) passed since
//! the backend was created. The Mesos coarse backend's
//! `sufficientResourcesRegistered` is `totalCoreCount >=
//! cores.max.getOrElse(0) * minRegisteredRatio`, where `totalCoreCount`
//! counts the cores of *registered* executors and the ratio defaults to 0
//! (only YARN and Kubernetes default it to 0.8). So by default the backend is
//! ready at once, and without `spark.cores.max` the ratio has no effect.
//! Until it is ready no job is submitted: offers still launch executors,
//! which register, but no task runs.
//!
//! **The starvation warning.** `TaskSchedulerImpl.submitTasks`, for the
//! first task set, starts a timer every `spark.starvation.timeout` that logs
//! *"Initial job has not accepted any resources; check your cluster UI to
//! ensure that workers are registered and have sufficient resources"* while
//! no task has launched, and cancels itself once one has. mesocosm notes the
//! warning with the reason it can see from the offers, and keeps it in the
//! report so the run's summary can say why the app could not be placed.

use crate::DriverTimer;
use crate::config::{DriverConfig, executor_memory_mib, max_cores};
use crate::driver::{Phase, SparkDriver};
use crate::endpoint::time_string_ms;
use mesocosm_sim::Outbox;
use std::time::Duration;

/// How often `waitBackendReady` asks `isReady` (`this.wait(100)`).
pub const BACKEND_READY_POLL: Duration = Duration::from_millis(100);

/// The first words of Spark's starvation warning.
pub const STARVATION_WARNING: &str = "Initial job has not accepted any resources; check your cluster UI to ensure \
                                      that workers are registered and have sufficient resources";

/// The readiness and starvation settings, read once at start-up.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Readiness {
    /// `minRegisteredRatio`: `min(1, spark.scheduler.minRegisteredResourcesRatio)`, 0 if unset.
    pub min_registered_ratio: f64,
    /// `spark.scheduler.maxRegisteredResourcesWaitingTime` (30 s).
    pub max_waiting: Duration,
    /// `spark.starvation.timeout` (15 s).
    pub starvation_timeout: Duration,
}

impl Readiness {
    /// The three keys from the conf, or the exception Spark throws for them
    /// while the SparkContext is created.
    pub fn from_conf(cfg: &DriverConfig) -> Result<Readiness, String> {
        let ratio = match cfg.property("spark.scheduler.minRegisteredResourcesRatio") {
            None => 0.0,
            Some(v) => {
                let key = "spark.scheduler.minRegisteredResourcesRatio";
                // `doubleConf.checkValue(v => v >= 0.0 && v <= 1.0, …)`.
                let r: f64 = v.trim().parse().map_err(|_| format!("{key} should be double, but was {v}"))?;
                if !(0.0..=1.0).contains(&r) {
                    return Err(format!("'{v}' in {key} is invalid. The value should be in [0, 1]."));
                }
                r
            }
        };
        let ms = |key: &str, default: i64| -> Result<i64, String> {
            cfg.property(key).map_or(Ok(default), |v| time_string_ms(key, v))
        };
        let max_waiting = ms("spark.scheduler.maxRegisteredResourcesWaitingTime", 30_000)?;
        let starvation = ms("spark.starvation.timeout", 15_000)?;
        if starvation <= 0 {
            // `Timer.scheduleAtFixedRate` rejects a period that is not positive.
            return Err(format!(
                "java.lang.IllegalArgumentException: Non-positive period (spark.starvation.timeout={starvation}ms)"
            ));
        }
        Ok(Readiness {
            min_registered_ratio: ratio,
            max_waiting: Duration::from_millis(max_waiting.max(0) as u64),
            starvation_timeout: Duration::from_millis(starvation as u64),
        })
    }
}

impl Default for Readiness {
    fn default() -> Self {
        Readiness {
            min_registered_ratio: 0.0,
            max_waiting: Duration::from_secs(30),
            starvation_timeout: Duration::from_secs(15),
        }
    }
}

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
    pub(crate) fn wait_backend_ready(&mut self, out: &mut Outbox<DriverTimer>) {
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
    pub(crate) fn arm_starvation_timer(&mut self, out: &mut Outbox<DriverTimer>) {
        if self.received_task || self.scheduler.task_sets_submitted == 0 {
            return;
        }
        self.received_task = true;
        out.set_timer(self.readiness.starvation_timeout, DriverTimer::Starvation);
    }

    /// [`DriverTimer::Starvation`]: warn while no task has launched.
    pub(crate) fn on_starvation_timer(&mut self, out: &mut Outbox<DriverTimer>) {
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
