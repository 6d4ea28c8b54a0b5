//! The executor-facing half of the driver: `DriverEndpoint` and `HeartbeatReceiver`.
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
//! The executor table these handlers update, and the heartbeat timing, are
//! in [`crate::endpoint`]; task placement (`makeOffers` →
//! `resourceOffers`) is [`crate::scheduler`]'s.

use super::{DriverTimer, SparkDriver};
use crate::endpoint::{ExecutorData, heartbeat_expiry};
use crate::phase::Phase;
use crate::scheduler::{TaskOutcome, WorkerOffer};
use mesocosm_sim::proto::sparkrpc::{
    self, Heartbeat, HeartbeatResponse, LaunchTask, LaunchedExecutor, RegisterExecutor, RegisterExecutorResponse,
    RetrieveSparkAppConfig, SparkAppConfig, StopExecutor, TaskState, spark_app_config,
};
use mesocosm_sim::{ActorId, Outbox};
use prost::Message;

impl SparkDriver {
    /// `RetrieveSparkAppConfig` → `SparkAppConfig`.
    ///
    /// Why `spark.app.id` is added: the executor runs with the driver's conf
    /// plus the app id (the Mesos framework id); `CoarseGrainedExecutorBackend`
    /// adds it from `--app-id`, and mesocosm's driver already includes it so
    /// the reply is the conf the executor will actually use.
    pub(super) fn on_retrieve_spark_app_config(
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
    pub(super) fn on_register_executor(
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
    pub(super) fn on_launched_executor(&mut self, m: LaunchedExecutor, out: &mut Outbox<DriverTimer>) {
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
    pub(super) fn on_spark_status_update(&mut self, m: sparkrpc::StatusUpdate, out: &mut Outbox<DriverTimer>) {
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
    pub(super) fn on_heartbeat(&mut self, from: &ActorId, m: Heartbeat, out: &mut Outbox<DriverTimer>) {
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
    pub(super) fn expire_dead_hosts(&mut self, out: &mut Outbox<DriverTimer>) {
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
    pub(super) fn on_remove_executor(&mut self, m: sparkrpc::RemoveExecutor, out: &mut Outbox<DriverTimer>) {
        let Some(to) = self.executors.get(&m.executor_id).map(|e| e.actor.clone()) else { return };
        out.send(&to, StopExecutor {});
        self.remove_executor(&m.executor_id, &m.reason, out);
    }

    /// The RPC connection to an executor broke (`DriverEndpoint.onDisconnected`).
    pub(super) fn on_executor_disconnected(&mut self, peer: &ActorId, out: &mut Outbox<DriverTimer>) {
        if let Some(id) = self.executors.by_actor(peer) {
            self.remove_executor(&id, "Remote RPC client disassociated", out);
        }
    }

    /// `makeOffers([executorId])`: offer free cores to the task scheduler and
    /// send a `LaunchTask` for every task placed.
    pub(super) fn make_offers(&mut self, only: Option<&str>, out: &mut Outbox<DriverTimer>) {
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
    pub(super) fn stop_executors(&mut self, out: &mut Outbox<DriverTimer>) {
        let targets: Vec<ActorId> = self.executors.in_order().map(|(_, d)| d.actor.clone()).collect();
        for to in targets {
            out.send(&to, StopExecutor {});
        }
    }
}
