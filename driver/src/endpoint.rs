//! The driver's book of executors (`executorDataMap`) and `HeartbeatReceiver`'s timing.
//!
//! Once Mesos has started an executor process on an agent, Mesos is out of
//! the loop: the executor registers with the driver over Spark's own RPC
//! (the handlers are in the driver's `executor_rpc`), and the driver keeps
//! what it learns here, in [`ExecutorTable`]: where to send tasks, the
//! executor's host, its total and free cores, and when it was last heard from.
//!
//! # Heartbeat expiry (`HeartbeatReceiver`)
//!
//! The driver remembers when it last heard from each executor (registration
//! counts as hearing from it). Every `spark.network.timeoutInterval` (60 s,
//! counted from the SparkContext's start) it expires the executors silent for
//! longer than `spark.storage.blockManagerHeartbeatTimeoutMs`, which falls
//! back to `spark.network.timeout` (120 s). With the defaults an executor
//! whose heartbeats (every `spark.executor.heartbeatInterval`, 10 s) stop
//! right after t = 50 s is expired at the 180 s check, silent for 130 s:
//!
//! ```text
//!  check (every 60 s): silent > timeout? ──yes──▶ killAndReplaceExecutor: Mesos KILL of its task
//!                                                 RemoveExecutor: StopExecutor to it, then removeExecutor with
//!                                                 ExecutorProcessLost("Executor heartbeat timed out after N ms")
//! ```
//!
//! `ExecutorProcessLost` is the app's fault (`causedByApp = true`), so the
//! executor's running tasks fail with `ExecutorLostFailure` and count toward
//! `spark.task.maxFailures`, and the map output it held is lost (see the
//! scheduler). The KILL comes back as TASK_KILLED, which frees the cores,
//! counts no agent failure and revives offers, so a replacement executor is
//! launched: hence "kill and *replace*" (SPARK-8119).

use crate::conf::{TimeUnit, time_string_as};
use crate::config::DriverConfig;
use mesocosm_sim::{ActorId, SimTime};
use std::collections::BTreeMap;
use std::time::Duration;

/// What the driver knows about one registered executor (`ExecutorData`).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ExecutorData {
    /// Where to send LaunchTask and StopExecutor (the `executorRef`).
    pub actor: ActorId,
    pub host: String,
    pub total_cores: u32,
    pub free_cores: u32,
    /// `LaunchedExecutor` arrived (its cores were handed to the scheduler).
    pub launched: bool,
    /// `HeartbeatReceiver.executorLastSeen`.
    pub last_heartbeat: SimTime,
}

/// `executorDataMap`, plus the order executors registered in.
#[derive(Debug, Default)]
pub(crate) struct ExecutorTable {
    by_id: BTreeMap<String, ExecutorData>,
    order: Vec<String>,
}

impl ExecutorTable {
    pub fn contains(&self, id: &str) -> bool {
        self.by_id.contains_key(id)
    }

    pub fn insert(&mut self, id: String, data: ExecutorData) {
        self.order.push(id.clone());
        self.by_id.insert(id, data);
    }

    pub fn remove(&mut self, id: &str) -> Option<ExecutorData> {
        self.order.retain(|x| x != id);
        self.by_id.remove(id)
    }

    pub fn get(&self, id: &str) -> Option<&ExecutorData> {
        self.by_id.get(id)
    }

    pub fn get_mut(&mut self, id: &str) -> Option<&mut ExecutorData> {
        self.by_id.get_mut(id)
    }

    /// Registered executors in registration order.
    pub fn in_order(&self) -> impl Iterator<Item = (&str, &ExecutorData)> {
        self.order.iter().filter_map(|id| self.by_id.get(id).map(|d| (id.as_str(), d)))
    }

    /// The executor whose process is `actor`.
    pub fn by_actor(&self, actor: &ActorId) -> Option<String> {
        self.in_order().find(|(_, d)| &d.actor == actor).map(|(id, _)| id.to_string())
    }

    pub fn len(&self) -> usize {
        self.by_id.len()
    }
}

/// `HeartbeatReceiver`'s timing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct HeartbeatExpiry {
    /// `executorTimeoutMs`: silence longer than this expires an executor.
    pub timeout_ms: u64,
    /// `spark.network.timeoutInterval`: how often the driver checks.
    pub check_interval: Duration,
}

/// `HeartbeatReceiver`'s timing from the conf, or the error the
/// SparkContext constructor throws for it.
///
/// Why these keys: `executorTimeoutMs` is
/// `spark.storage.blockManagerHeartbeatTimeoutMs` (or its old name
/// `spark.storage.blockManagerSlaveTimeoutMs`), falling back to
/// `spark.network.timeout`; `spark.network.timeoutInterval` is internal
/// (60 s). The three checks are Spark's: `SparkConf.validateSettings`
/// (SPARK-22754) and the two `require`s in `HeartbeatReceiver`.
pub(crate) fn heartbeat_expiry(cfg: &DriverConfig) -> Result<HeartbeatExpiry, String> {
    let s = &cfg.settings;
    // `spark.network.timeout` is a `timeConf(SECONDS)`: whole seconds.
    // Saturating, as Spark's Long arithmetic never meets a timeout this long.
    let network_ms = i64::try_from(s.network_timeout.as_secs()).unwrap_or(i64::MAX).saturating_mul(1000);
    let heartbeat_ms = i64::try_from(s.heartbeat_interval.as_millis()).unwrap_or(i64::MAX);
    if network_ms <= heartbeat_ms {
        return Err(format!(
            "requirement failed: The value of spark.network.timeout={network_ms}ms must be greater than the value of spark.executor.heartbeatInterval={heartbeat_ms}ms."
        ));
    }
    // `timeConf(MILLISECONDS)` keys; Spark's message names the key and the value.
    let ms = |key: &str| {
        cfg.property(key)
            .map(|v| time_string_as(v, TimeUnit::Millis).map_err(|e| format!("{key}={v}: {e}")))
            .transpose()
    };
    let timeout_ms = match ms("spark.storage.blockManagerHeartbeatTimeoutMs")? {
        Some(t) => t,
        None => ms("spark.storage.blockManagerSlaveTimeoutMs")?.unwrap_or(network_ms),
    };
    let interval_ms = ms("spark.network.timeoutInterval")?.unwrap_or(60_000);
    if interval_ms > timeout_ms {
        return Err("requirement failed: spark.network.timeoutInterval should be less than or equal to spark.storage.blockManagerHeartbeatTimeoutMs.".to_string());
    }
    if heartbeat_ms > timeout_ms {
        return Err("requirement failed: spark.executor.heartbeatInterval should be less than or equal to spark.storage.blockManagerHeartbeatTimeoutMs".to_string());
    }
    if interval_ms <= 0 {
        // `scheduleAtFixedRate` rejects a period that is not positive.
        return Err(format!("java.lang.IllegalArgumentException: spark.network.timeoutInterval={interval_ms}ms"));
    }
    Ok(HeartbeatExpiry { timeout_ms: timeout_ms as u64, check_interval: Duration::from_millis(interval_ms as u64) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SparkSettings;

    fn cfg(settings: SparkSettings, props: &[(&str, &str)]) -> DriverConfig {
        DriverConfig::for_tests(settings, props, Vec::new())
    }

    #[test]
    fn huge_timeouts_saturate_instead_of_wrapping() {
        let s = SparkSettings {
            network_timeout: Duration::from_secs(u64::MAX),
            heartbeat_interval: Duration::from_secs(u64::MAX / 2),
            ..SparkSettings::default()
        };
        // network_ms saturates at i64::MAX, heartbeat_ms too: not greater, so Spark's check refuses it.
        let e = heartbeat_expiry(&cfg(s, &[])).unwrap_err();
        assert!(e.starts_with("requirement failed: The value of spark.network.timeout=9223372036854775807ms"), "{e}");
    }

    #[test]
    fn the_heartbeat_timeout_falls_back_to_the_network_timeout() {
        let d = SparkSettings::default();
        let exp = |timeout_ms, secs| Ok(HeartbeatExpiry { timeout_ms, check_interval: Duration::from_secs(secs) });
        assert_eq!(heartbeat_expiry(&cfg(d.clone(), &[])), exp(120_000, 60));
        let s = SparkSettings { network_timeout: Duration::from_secs(300), ..d.clone() };
        assert_eq!(heartbeat_expiry(&cfg(s, &[])), exp(300_000, 60));
        let c = cfg(
            d.clone(),
            &[("spark.storage.blockManagerSlaveTimeoutMs", "90s"), ("spark.network.timeoutInterval", "15s")],
        );
        assert_eq!(heartbeat_expiry(&c), exp(90_000, 15));
        let c = cfg(
            d.clone(),
            &[
                ("spark.storage.blockManagerHeartbeatTimeoutMs", "80000"),
                ("spark.storage.blockManagerSlaveTimeoutMs", "90s"),
            ],
        );
        assert_eq!(heartbeat_expiry(&c), exp(80_000, 60), "the current name wins over the old one");
    }

    #[test]
    fn spark_s_requirements_on_the_heartbeat_timing() {
        let d = SparkSettings::default();
        let s = SparkSettings { heartbeat_interval: Duration::from_secs(120), ..d.clone() };
        assert_eq!(
            heartbeat_expiry(&cfg(s, &[])),
            Err("requirement failed: The value of spark.network.timeout=120000ms must be greater than the value \
                 of spark.executor.heartbeatInterval=120000ms."
                .to_string())
        );
        let c = cfg(d.clone(), &[("spark.storage.blockManagerHeartbeatTimeoutMs", "30s")]);
        assert_eq!(
            heartbeat_expiry(&c),
            Err("requirement failed: spark.network.timeoutInterval should be less than or equal to \
                 spark.storage.blockManagerHeartbeatTimeoutMs."
                .to_string())
        );
        let c = cfg(d, &[("spark.network.timeoutInterval", "soon")]);
        assert!(heartbeat_expiry(&c).unwrap_err().starts_with("spark.network.timeoutInterval=soon: Time must be"));
    }
}
