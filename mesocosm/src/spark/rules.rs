//! The Spark configuration values the simulator reads, checked as Spark and
//! Mesos check them, before anything runs.
//!
//! Each rule cites the Spark or Mesos code it mirrors. [`check`] returns every
//! problem with the key that caused it; the scenario language points each one at
//! the `--conf` word or the spark-defaults line that set the key (exit 2).

use std::time::Duration;

use crate::mesos_syntax;
use crate::submit::SparkConf;
use mesocosm_driver::conf::TimeUnit;

/// The longest `double` seconds a Mesos `Duration` (int64 nanoseconds) holds.
const MESOS_MAX_SECONDS: f64 = i64::MAX as f64 / 1e9;

/// Every problem of `conf`, as (key, message); the message starts with
/// `key=value` where a value is to blame.
pub fn check(conf: &SparkConf) -> Vec<(&str, String)> {
    let secs = |c: &SparkConf, k: &str| c.duration(k, Duration::ZERO, TimeUnit::Seconds).map(drop);
    let mut problems: Vec<(&str, String)> = Vec::new();
    let mut check = |key: &'static str, r: Result<(), String>| {
        if let Err(e) = r {
            problems.push((key, e));
        }
    };
    check("spark.cores.max", conf.opt_u32("spark.cores.max").map(drop));
    check("spark.executor.cores", conf.opt_u32("spark.executor.cores").map(drop));
    check("spark.driver.cores", conf.opt_u32("spark.driver.cores").map(drop));
    check(
        "spark.task.cpus",
        conf.u32("spark.task.cpus", 1).and_then(|n| {
            // SparkContext refuses task.cpus < 1.
            if n == 0 { Err("spark.task.cpus=0: a task needs at least 1 cpu".into()) } else { Ok(()) }
        }),
    );
    check("spark.executor.memory", conf.size_mib("spark.executor.memory", 1024).map(drop));
    check("spark.driver.memory", conf.size_mib("spark.driver.memory", 1024).map(drop));
    // An `intConf` in MiB: Spark rejects `512m` here, so do we.
    check("spark.mesos.executor.memoryOverhead", conf.opt_u32("spark.mesos.executor.memoryOverhead").map(drop));
    check("spark.mesos.rejectOfferDuration", secs(conf, "spark.mesos.rejectOfferDuration"));
    check(
        "spark.mesos.rejectOfferDurationForUnmetConstraints",
        secs(conf, "spark.mesos.rejectOfferDurationForUnmetConstraints"),
    );
    check(
        "spark.mesos.rejectOfferDurationForReachedMaxCores",
        secs(conf, "spark.mesos.rejectOfferDurationForReachedMaxCores"),
    );
    check(
        "spark.mesos.driver.failoverTimeout",
        conf.f64("spark.mesos.driver.failoverTimeout", 0.0).and_then(|t| {
            // The master refuses a FrameworkInfo whose failover_timeout is
            // not a valid Duration (int64 nanoseconds): `validateFailoverTimeout`
            // in src/master/validation.cpp.
            if t > MESOS_MAX_SECONDS {
                Err(format!(
                    "spark.mesos.driver.failoverTimeout={t}: Mesos refuses it (Invalid failover_timeout): \
                     a Mesos Duration holds at most {MESOS_MAX_SECONDS:.0} s"
                ))
            } else {
                Ok(())
            }
        }),
    );
    // Cluster mode is submitted to a MesosClusterDispatcher; the language
    // checks that `--master` names the scenario's `[dispatcher]`.
    check("spark.submit.deployMode", conf.deploy_mode().map(|_| ()));
    // `spark.driver.port` is an intConf that the RpcEnv binds with
    // `Utils.startServiceOnPort`, which wants 0 or 1024..=65535.
    check(
        "spark.driver.port",
        conf.u32("spark.driver.port", 0).and_then(|p| match p {
            0 | 1024..=65535 => Ok(()),
            p => Err(format!(
                "spark.driver.port={p}: startPort should be between 1024 and 65535 (inclusive), or 0 for a random free port."
            )),
        }),
    );
    // Spark 3.5's `EXECUTOR_MEMORY_OVERHEAD_FACTOR` has `checkValue(_ > 0)`.
    check(
        "spark.executor.memoryOverheadFactor",
        conf.f64("spark.executor.memoryOverheadFactor", 0.1).and_then(|f| {
            if f > 0.0 {
                Ok(())
            } else {
                Err(format!(
                    "spark.executor.memoryOverheadFactor={f}: Ensure that memory overhead is a double greater than 0"
                ))
            }
        }),
    );
    // The role goes into FrameworkInfo, and the master refuses a SUBSCRIBE
    // whose role `roles::validate` (src/common/roles.cpp) rejects.
    if let Some(role) = conf.get("spark.mesos.role") {
        check(
            "spark.mesos.role",
            mesos_syntax::check_role(role, "spark.mesos.role")
                .map_err(|e| format!("{e} (Mesos refuses the framework)")),
        );
    }
    // The executor's heartbeater is a `scheduleAtFixedRate`, which throws
    // IllegalArgumentException for a period ≤ 0: the executor never starts.
    check(
        "spark.executor.heartbeatInterval",
        conf.duration("spark.executor.heartbeatInterval", Duration::from_secs(10), TimeUnit::Millis).and_then(|d| {
            if d.is_zero() {
                Err("spark.executor.heartbeatInterval=0: the executor's heartbeater needs a period > 0".to_string())
            } else {
                Ok(())
            }
        }),
    );
    // `ExecutorAllocationManager.validateSettings` (Spark 3.5) refuses these
    // when dynamic allocation is on.
    if conf.bool("spark.dynamicAllocation.enabled", false) == Ok(true) {
        for key in [
            "spark.dynamicAllocation.schedulerBacklogTimeout",
            "spark.dynamicAllocation.sustainedSchedulerBacklogTimeout",
        ] {
            check(
                key,
                conf.duration(key, Duration::from_secs(1), TimeUnit::Seconds)
                    .and_then(|d| if d.is_zero() { Err(format!("{key}=0: {key} must be > 0!")) } else { Ok(()) }),
            );
        }
    }
    // Everything else the runner turns into driver settings (one message,
    // the first problem; it names its key as `key=value: …`).
    if problems.is_empty()
        && let Err(e) = super::apps::spark_settings(conf).and_then(|_| super::apps::ask_timeout(conf).map(drop))
    {
        let key = conf.iter().map(|(k, _)| k).find(|k| e.starts_with(&format!("{k}="))).unwrap_or("");
        problems.push((key, e));
    }
    problems
}
