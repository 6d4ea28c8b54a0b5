//! The executor-facing half: `DriverEndpoint` and `HeartbeatReceiver`.
//!
//! Once Mesos has started an executor process on an agent, Mesos is out of
//! the loop: the executor talks to the driver directly over Spark's own RPC.
//!
//! ```text
//! executor                                   driver
//!    │── RetrieveSparkAppConfig (ask) ──────────▶│  "what conf do I run with?"
//!    │◀───────────── SparkAppConfig (reply) ─────│  every spark.* key + spark.app.id
//!    │── RegisterExecutor{id, host, cores} (ask) ▶│  recorded with freeCores = 0
//!    │◀──── RegisterExecutorResponse{true} ──────│  (or "Duplicate executor ID: 3")
//!    │── LaunchedExecutor{id} ──────────────────▶│  freeCores = cores; makeOffers
//!    │◀──────────────────── LaunchTask{task} ────│  one per task.cpus free cores
//!    │── StatusUpdate{tid, RUNNING / FINISHED} ─▶│  FINISHED frees the cores; makeOffers
//!    │── Heartbeat (ask, every 10 s) ───────────▶│  HeartbeatReceiver
//!    │── RemoveExecutor{id, reason} ────────────▶│  from exitExecutor: StopExecutor back, removeExecutor
//!    │◀──────────────────── StopExecutor ────────│  when the app is done
//! ```
//!
//! Why cores start at zero: `RegisterExecutor` only records the executor
//! (`ExecutorData(freeCores = 0, totalCores = cores)`); it gets tasks after it
//! confirms with `LaunchedExecutor` that its `Executor` object exists, so a
//! task never reaches an executor that cannot run it yet.
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

use crate::config::DriverConfig;
use crate::driver::{Phase, SparkDriver};
use crate::scheduler::{TaskOutcome, WorkerOffer};
use mesocosm_sim::proto::sparkrpc::{
    self, Heartbeat, HeartbeatResponse, LaunchTask, LaunchedExecutor, RegisterExecutor, RegisterExecutorResponse,
    RetrieveSparkAppConfig, SparkAppConfig, StopExecutor, TaskState, spark_app_config,
};
use mesocosm_sim::{ActorId, Outbox, SimTime};
use prost::Message;
use std::collections::BTreeMap;
use std::time::Duration;

use crate::DriverTimer;

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

impl SparkDriver {
    /// `RetrieveSparkAppConfig` → `SparkAppConfig`.
    ///
    /// Why `spark.app.id` is added: the executor runs with the driver's conf
    /// plus the app id (the Mesos framework id); `CoarseGrainedExecutorBackend`
    /// adds it from `--app-id`, and mesocosm's driver already includes it so
    /// the reply is the conf the executor will actually use.
    pub(crate) fn on_retrieve_spark_app_config(
        &mut self,
        from: &ActorId,
        req: RetrieveSparkAppConfig,
        out: &mut Outbox<DriverTimer>,
    ) {
        let app_id = self.app_id().to_string();
        let mut spark_properties: Vec<spark_app_config::Property> = self
            .cfg
            .properties
            .iter()
            .filter(|(k, _)| k != "spark.app.id")
            .map(|(k, v)| spark_app_config::Property { key: k.clone(), value: v.clone() })
            .collect();
        spark_properties.push(spark_app_config::Property { key: "spark.app.id".into(), value: app_id });
        out.send(
            from,
            SparkAppConfig { spark_properties, resource_profile_id: req.resource_profile_id, ..Default::default() },
        );
    }

    /// `RegisterExecutor` → `RegisterExecutorResponse`.
    ///
    /// Why no "Executor is excluded due to failures" refusal: Spark sends it
    /// for a host in `scheduler.excludedNodes`, which only
    /// `spark.excludeOnFailure.enabled` (off by default, not modelled) fills,
    /// or when `isExecutorExcluded` says so, which only the Kubernetes backend
    /// overrides. The Mesos backend's own exclusion (`MAX_AGENT_FAILURES`)
    /// only stops it launching executors on the agent (`canLaunchTask`); one
    /// launched there before the agent's second failure still registers.
    pub(crate) fn on_register_executor(
        &mut self,
        from: &ActorId,
        req: RegisterExecutor,
        out: &mut Outbox<DriverTimer>,
    ) {
        let id = req.executor_id.clone();
        let failure = if !matches!(self.phase, Phase::Running) {
            // After stop() the DriverEndpoint is gone, so the ask fails the
            // way a call to a missing RPC endpoint does.
            Some(format!("Cannot find endpoint: {}", self.cfg.driver_url))
        } else if self.executors.contains(&id) {
            // Spark: `sendFailure(IllegalStateException(s"Duplicate executor ID: $executorId"))`.
            Some(format!("Duplicate executor ID: {id}"))
        } else {
            None
        };
        if let Some(failure) = failure {
            out.note_with(|| format!("refuse executor {id} from {}: {failure}", req.hostname));
            out.send(from, RegisterExecutorResponse { success: false, failure });
            return;
        }
        let cores = u32::try_from(req.cores).unwrap_or(0);
        out.note_with(|| {
            format!(
                "executor {id} registered from {} with {cores} core(s); it gets tasks once it reports LaunchedExecutor",
                req.hostname
            )
        });
        self.executors.insert(
            id,
            ExecutorData {
                actor: from.clone(),
                host: req.hostname,
                total_cores: cores,
                free_cores: 0,
                launched: false,
                last_heartbeat: out.now(),
            },
        );
        out.send(from, RegisterExecutorResponse { success: true, failure: String::new() });
    }

    /// `LaunchedExecutor`: `freeCores = totalCores`, then `makeOffers(id)`.
    ///
    /// Why only the first one counts: Spark's RPC delivers each message once,
    /// so Spark resets `freeCores` unconditionally; a duplicate (which only the
    /// simulator's fault script can make) would hand the cores of tasks already
    /// running there out a second time.
    pub(crate) fn on_launched_executor(&mut self, m: LaunchedExecutor, out: &mut Outbox<DriverTimer>) {
        match self.executors.get_mut(&m.executor_id) {
            Some(e) if e.launched => {
                out.note_with(|| format!("duplicate LaunchedExecutor from executor {}: ignored", m.executor_id));
                return;
            }
            Some(e) => {
                e.launched = true;
                e.free_cores = e.total_cores;
            }
            None => return,
        }
        self.make_offers(Some(&m.executor_id), out);
    }

    /// A Spark `StatusUpdate` for one task.
    ///
    /// Why the order: the backend frees the task's cores and offers that
    /// executor first (`makeOffers(executorId)`); the DAG scheduler then sees
    /// the finished task and, if the stage is complete, submits the next one,
    /// which revives offers on every executor.
    pub(crate) fn on_spark_status_update(&mut self, m: sparkrpc::StatusUpdate, out: &mut Outbox<DriverTimer>) {
        let state = TaskState::try_from(m.state).unwrap_or(TaskState::Lost);
        match self.scheduler.status_update(m.task_id as u64, state) {
            TaskOutcome::Running => {}
            TaskOutcome::Unknown => {
                if !matches!(state, TaskState::Launching | TaskState::Running) {
                    out.note_with(|| {
                        format!(
                            "ignore {} of TID {} from executor {}: not a running task (its executor was removed)",
                            state.as_str_name(),
                            m.task_id,
                            m.executor_id
                        )
                    });
                }
            }
            TaskOutcome::Ended { executor_id, cpus, finished } => {
                if !finished && self.scheduler.aborted.is_none() {
                    out.note_with(|| {
                        format!(
                            "TID {} {} on executor {executor_id}: the task goes back to pending",
                            m.task_id,
                            state.as_str_name()
                        )
                    });
                }
                if let Some(e) = self.executors.get_mut(&executor_id) {
                    e.free_cores = (e.free_cores + cpus).min(e.total_cores);
                }
                self.make_offers(Some(&executor_id), out);
                self.after_task_progress(out);
            }
        }
    }

    /// `Heartbeat` → `HeartbeatResponse`.
    ///
    /// Why the flag: a known executor is told `reregisterBlockManager=false`;
    /// an unknown one (e.g. already removed) is told to re-register unless the
    /// app is stopping (`HeartbeatReceiver`).
    pub(crate) fn on_heartbeat(&mut self, from: &ActorId, m: Heartbeat, out: &mut Outbox<DriverTimer>) {
        let now = out.now();
        let reregister = match self.executors.get_mut(&m.executor_id) {
            Some(e) => {
                e.last_heartbeat = now;
                false
            }
            None => matches!(self.phase, Phase::Running),
        };
        out.send(from, HeartbeatResponse { reregister_block_manager: reregister });
    }

    /// `HeartbeatReceiver.expireDeadHosts`, due every `spark.network.timeoutInterval`.
    ///
    /// Why the order: `expireDeadHosts` hands each expired executor to a
    /// thread that first calls `sc.killAndReplaceExecutor` (→ `killExecutors`
    /// with `countFailures = true` → `doKillExecutors`, a Mesos KILL of the
    /// executor's task) and then sends the driver endpoint
    /// `RemoveExecutor(id, ExecutorProcessLost(…))` (SPARK-27348), which tells
    /// the executor `StopExecutor` and removes it. Since the kill counts
    /// failures, the loss reason stays `ExecutorProcessLost` (not
    /// `ExecutorKilled`), so running tasks count toward `spark.task.maxFailures`.
    /// After `stop()` nothing is expired: the executors are being stopped anyway.
    pub(crate) fn expire_dead_hosts(&mut self, out: &mut Outbox<DriverTimer>) {
        // Validated when the driver was created (`heartbeat_expiry`).
        let Ok(hb) = heartbeat_expiry(&self.cfg) else { return };
        out.set_timer(hb.check_interval, DriverTimer::ExpireDeadHosts);
        if !matches!(self.phase, Phase::Running) {
            return;
        }
        let now = out.now();
        let expired: Vec<(String, u64)> = self
            .executors
            .in_order()
            .map(|(id, d)| (id.to_string(), now.since(d.last_heartbeat).as_millis() as u64))
            .filter(|(_, silent)| *silent > hb.timeout_ms)
            .collect();
        for (id, silent) in expired {
            out.note_with(|| {
                format!(
                    "Removing executor {id} with no recent heartbeats: {silent} ms exceeds timeout {} ms; kill its Mesos task so a replacement is launched",
                    hb.timeout_ms
                )
            });
            self.kill_executors(std::slice::from_ref(&id), out);
            if let Some(e) = self.executors.get(&id) {
                let to = e.actor.clone();
                out.send(&to, StopExecutor {});
            }
            self.remove_executor(&id, &format!("Executor heartbeat timed out after {silent} ms"), out);
        }
    }

    /// `RemoveExecutor(id, reason)`, which an executor sends from
    /// `exitExecutor` before it exits (e.g. a LaunchTask before it had an
    /// `Executor`): `StopExecutor` to it (SPARK-13519), then `removeExecutor`.
    ///
    /// Why its tasks count: the reason is a plain `ExecutorLossReason`, none
    /// of the kinds `TaskSetManager.executorLost` excuses.
    pub(crate) fn on_remove_executor(&mut self, m: sparkrpc::RemoveExecutor, out: &mut Outbox<DriverTimer>) {
        let Some(to) = self.executors.get(&m.executor_id).map(|e| e.actor.clone()) else { return };
        out.send(&to, StopExecutor {});
        self.remove_executor(&m.executor_id, &m.reason, out);
    }

    /// The RPC connection to an executor broke (`DriverEndpoint.onDisconnected`).
    pub(crate) fn on_executor_disconnected(&mut self, peer: &ActorId, out: &mut Outbox<DriverTimer>) {
        if let Some(id) = self.executors.by_actor(peer) {
            self.remove_executor(&id, "Remote RPC client disassociated", out);
        }
    }

    /// `makeOffers([executorId])`: offer free cores to the task scheduler and
    /// send a `LaunchTask` for every task placed.
    pub(crate) fn make_offers(&mut self, only: Option<&str>, out: &mut Outbox<DriverTimer>) {
        if !matches!(self.phase, Phase::Running) || !self.scheduler.has_pending() {
            return;
        }
        let mut offers: Vec<WorkerOffer> = self
            .executors
            .in_order()
            .filter(|(id, _)| only.is_none_or(|o| o == *id))
            .map(|(id, d)| WorkerOffer { executor_id: id.to_string(), host: d.host.clone(), free_cores: d.free_cores })
            .collect();
        let launched = self.scheduler.resource_offers(&mut offers);
        for o in &offers {
            if let Some(e) = self.executors.get_mut(&o.executor_id) {
                e.free_cores = o.free_cores;
            }
        }
        for task in launched {
            let Some(e) = self.executors.get_mut(&task.executor_id) else { continue };
            let to = e.actor.clone();
            out.send(&to, LaunchTask { data: task.encode_to_vec() });
        }
    }

    /// `StopExecutors`: tell every registered executor to exit.
    pub(crate) fn stop_executors(&mut self, out: &mut Outbox<DriverTimer>) {
        let targets: Vec<ActorId> = self.executors.in_order().map(|(_, d)| d.actor.clone()).collect();
        for to in targets {
            out.send(&to, StopExecutor {});
        }
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
    let ms = |key: &str| cfg.property(key).map(|v| time_string_ms(key, v)).transpose();
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

/// `JavaUtils.timeStringAs(value, MILLISECONDS)`: `<integer>[us|ms|s|m|min|h|d]`,
/// a bare number in milliseconds, truncated toward zero like `TimeUnit.convert`.
pub(crate) fn time_string_ms(key: &str, value: &str) -> Result<i64, String> {
    let v = value.trim().to_ascii_lowercase();
    let digits = v.strip_prefix('-').unwrap_or(&v);
    let split = digits.find(|c: char| !c.is_ascii_digit()).unwrap_or(digits.len());
    let (num, suffix) = v.split_at(split + (v.len() - digits.len()));
    let per_unit: Option<(i64, i64)> = match suffix {
        "us" => Some((1, 1000)),
        "" | "ms" => Some((1, 1)),
        "s" => Some((1000, 1)),
        "m" | "min" => Some((60_000, 1)),
        "h" => Some((3_600_000, 1)),
        "d" => Some((86_400_000, 1)),
        _ => None,
    };
    match (num.parse::<i64>(), per_unit) {
        (Ok(n), Some((mul, div))) => Ok(n.saturating_mul(mul) / div),
        _ => Err(format!(
            "{key}={value}: Time must be specified as seconds (s), milliseconds (ms), microseconds (us), minutes (m or min), hour (h), or day (d). E.g. 50s, 100ms, or 250us."
        )),
    }
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
    fn time_strings_parse_as_spark_does() {
        let ms = |v: &str| time_string_ms("k", v);
        assert_eq!(ms("30000"), Ok(30_000), "a bare number is in the conf's unit");
        assert_eq!(ms(" 90S "), Ok(90_000));
        assert_eq!(ms("2min"), Ok(120_000));
        assert_eq!(ms("1500us"), Ok(1), "truncated like TimeUnit.convert");
        assert_eq!(ms("-1s"), Ok(-1000));
        assert!(ms("1.5s").is_err() && ms("10 weeks").is_err() && ms("").is_err());
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
