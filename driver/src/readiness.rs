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
//!
//! This module reads the conf ([`Readiness`]); the driver's `backend_ready`
//! runs the wait and the warning.

use crate::conf::{TimeUnit, time_string_as};
use crate::config::DriverConfig;
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
            cfg.property(key)
                .map_or(Ok(default), |v| time_string_as(v, TimeUnit::Millis).map_err(|e| format!("{key}={v}: {e}")))
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
