//! [`SparkDriver`]: the actor, its life cycle, and the parts it is made of.
//!
//! A Spark driver process on Mesos answers to four concerns, and each has a
//! file of its own in this folder. This file owns the state they share,
//! dispatches every [`Input`] to one of them, and handles the driver's own
//! life itself (`Start`, and `stop()` with its `StopPoll`):
//!
//! ```text
//!                       ┌─ mesos_events ───── SUBSCRIBED, OFFERS, UPDATE, ERROR … (libmesos + the Mesos backend)
//!  Input ─▶ handle() ───┼─ executor_rpc ───── RegisterExecutor, StatusUpdate, Heartbeat … (DriverEndpoint)
//!     (this file)       ├─ dynamic_allocation  AllocationSchedule ticks (ExecutorAllocationManager)
//!                       └─ backend_ready ──── BackendReadyPoll, Starvation (waitBackendReady, starvation warning)
//!           then, after every input: stop_if_job_aborted, allocation_sync
//! ```
//!
//! The files only add `impl SparkDriver` blocks: the pure models they drive
//! live outside this folder and know nothing of the driver ([`crate::backend`]
//! answers offers, [`crate::scheduler`] places tasks, [`crate::allocation`]
//! decides executor targets, [`crate::endpoint`] keeps the executor table,
//! [`crate::readiness`] reads the readiness conf). So the dependencies run one
//! way, from this folder outwards: a reader follows an event from its
//! handler into the models it asks, and never from a model back into the
//! driver. The handlers do call each other (an UPDATE that ends an executor
//! runs `remove_executor`, which offers the freed cores through
//! `make_offers`), as the methods of one Spark backend do.
//!
//! The phases the driver goes through are drawn in [`crate::phase`].

mod backend_ready;
mod detection;
mod dynamic_allocation;
mod executor_rpc;
mod mesos_events;

pub use mesos_events::{
    RECENT_OFFERS_REMEMBERED, REGISTRATION_BACKOFF_FACTOR, REGISTRATION_RETRY_INTERVAL_MAX, mesos_to_task_state,
};

use crate::allocation::ExecutorAllocationManager;
use crate::backend::{self, MesosBackend};
use crate::config::{DriverConfig, Job, credential, validate};
use crate::constraints;
use crate::endpoint::{ExecutorTable, heartbeat_expiry};
use crate::phase::Phase;
use crate::readiness::Readiness;
use crate::scheduler::TaskScheduler;
use mesocosm_scheduler::{Detection, MasterUrl};
use mesocosm_sim::proto::scheduler::call;
use mesocosm_sim::proto::v1::FrameworkId;
use mesocosm_sim::{Actor, ActorId, Input, Msg, Outbox, SimTime};
use std::collections::{BTreeSet, VecDeque};
use std::time::Duration;

/// How often `stop()` checks whether every executor is gone.
///
/// Why: `stopSchedulerBackend` polls `numExecutors()` with `Thread.sleep(100)`
/// (SPARK-12330), so TEARDOWN goes out at the first 100 ms tick after the
/// last executor ended, not at the instant it ended.
pub const STOP_POLL_INTERVAL: Duration = Duration::from_millis(100);

/// The driver's timers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DriverTimer {
    /// `stop()` re-checks whether every executor has ended (every 100 ms,
    /// until `spark.mesos.coarse.shutdownTimeout`).
    StopPoll,
    /// libmesos's `doReliableRegistration`: SUBSCRIBE again unless SUBSCRIBED
    /// arrived. `round` counts registrations, so a timer from an earlier round
    /// (timers are never cancelled) is ignored.
    ReliableRegistration { round: u32 },
    /// Dynamic allocation's `ExecutorAllocationManager.schedule()`, which
    /// Spark runs every 100 ms; the driver asks only for the ticks where
    /// something is due (see [`ALLOCATION_INTERVAL`](crate::ALLOCATION_INTERVAL)).
    AllocationSchedule,
    /// `waitBackendReady` asks `isReady()` again (every 100 ms until the
    /// registered cores reach `spark.scheduler.minRegisteredResourcesRatio`).
    BackendReadyPoll,
    /// `TaskSchedulerImpl`'s starvation timer (every `spark.starvation.timeout`
    /// after the first task set, until a task launched).
    Starvation,
    /// `HeartbeatReceiver`'s `ExpireDeadHosts`, every
    /// `spark.network.timeoutInterval` (60 s) from the start: expire the
    /// executors silent longer than the heartbeat timeout.
    ExpireDeadHosts,
    /// The ZooKeeper master detector's periodic check (`detection`).
    ZooKeeper,
}

/// What a driver did, for scenario expectations and the report.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DriverReport {
    /// Every job finished and the driver exited 0.
    pub finished: bool,
    /// Why the application failed, if it did (the driver then exits 1).
    pub failed: Option<String>,
    /// The framework id the master gave (SUBSCRIBED), the Spark app id.
    pub framework_id: Option<String>,
    /// Failed Spark task attempts that counted toward `spark.task.maxFailures`.
    pub task_failures: u64,
    /// Spark task attempts that finished (a map partition recomputed after
    /// its output was lost counts again).
    pub tasks_finished: u64,
    /// Executors (Mesos tasks) launched through ACCEPT.
    pub executors_launched: u64,
    /// Offers received in OFFERS events.
    pub offers_received: u64,
    /// What the task scheduler holds for tasks and partitions right now
    /// (running tasks, runs of pending and finished partitions, retried
    /// tasks, map-output slots): small even for a stage of
    /// millions of tasks.
    pub task_state_entries: usize,
    /// Offers answered with ACCEPT.
    pub offers_accepted: u64,
    /// Offers answered with DECLINE.
    pub offers_declined: u64,
    /// The last "Initial job has not accepted any resources" warning, with
    /// why the app could not be placed; cleared once a task launched.
    pub starved: Option<String>,
    /// How many times the starvation warning was given.
    pub starvation_warnings: u32,
    /// When the driver process started.
    pub started_at: Option<SimTime>,
    /// When it exited (successfully or not).
    pub finished_at: Option<SimTime>,
}

/// A Spark application's driver in coarse-grained Mesos mode.
///
/// See the crate docs for the whole picture.
#[derive(Debug)]
pub struct SparkDriver {
    cfg: DriverConfig,
    /// A conf error Spark would throw while creating the SparkContext.
    startup_error: Option<String>,
    phase: Phase,
    /// The framework id SUBSCRIBED gave (the Spark app id).
    framework_id: Option<FrameworkId>,
    /// libmesos's `connected`: SUBSCRIBED arrived and the master was not lost since.
    connected: bool,
    /// libmesos's `running == false` after ERROR (`driver->abort()`): every
    /// event is ignored and no call is sent any more.
    mesos_aborted: bool,
    /// Bumped at every (re-)registration and disconnection, so that stale
    /// [`DriverTimer::ReliableRegistration`] timers are ignored.
    registration_round: u32,
    /// The `maxBackoff` the next `doReliableRegistration` uses.
    registration_backoff: Duration,
    /// Offer ids answered lately, oldest first (see [`RECENT_OFFERS_REMEMBERED`]).
    recent_offers: VecDeque<String>,
    recent_offer_set: BTreeSet<String>,
    backend: MesosBackend,
    /// Dynamic allocation's manager, once started (after registration).
    allocation: Option<ExecutorAllocationManager>,
    executors: ExecutorTable,
    scheduler: TaskScheduler,
    report: DriverReport,
    /// `spark.scheduler.minRegistered…`, `maxRegistered…` and `spark.starvation.timeout`.
    readiness: Readiness,
    /// `waitBackendReady` returned: jobs may be submitted.
    backend_ready: bool,
    /// `waitBackendReady` has started waiting (noted once).
    backend_waiting: bool,
    /// `hasReceivedTask`: the first task set was submitted (the starvation timer runs).
    received_task: bool,
    /// The framework's principal (`spark.mesos.principal` or the contents of
    /// `spark.mesos.principal.file`).
    principal: Option<String>,
    /// Why libmesos aborted, if an exception in `resourceOffers` made it.
    mesos_abort_reason: Option<String>,
    /// The master libmesos talks to: fixed, or the leader it detected.
    detection: Detection,
}

impl SparkDriver {
    /// A driver that will run `cfg.workload` when started.
    pub fn new(cfg: DriverConfig) -> Self {
        let parsed = constraints::parse(&cfg.settings.constraints);
        let readiness = Readiness::from_conf(&cfg);
        // `createSchedulerDriver` → `buildCredentials`.
        let credential = credential(&cfg);
        let startup_error = validate(&cfg.settings)
            .and_then(|()| readiness.as_ref().map(|_| ()).map_err(Clone::clone))
            .and_then(|()| parsed.as_ref().map(|_| ()).map_err(Clone::clone))
            .and_then(|()| credential.as_ref().map(|_| ()).map_err(Clone::clone))
            .and_then(|()| heartbeat_expiry(&cfg).map(|_| ()))
            .and_then(|()| cfg.workload.iter().try_for_each(Job::check))
            .err();
        let backend = MesosBackend::new(&cfg, parsed.unwrap_or_default());
        let scheduler = TaskScheduler::new(
            cfg.workload.clone(),
            cfg.settings.task_cpus,
            cfg.settings.task_max_failures,
            cfg.settings.shuffle_service_enabled,
        );
        let detection = Detection::new(match &cfg.zk {
            Some(zk) => MasterUrl::ZooKeeper(zk.clone()),
            None => MasterUrl::Standalone(cfg.master.clone()),
        });
        SparkDriver {
            cfg,
            startup_error,
            phase: Phase::Created,
            framework_id: None,
            connected: false,
            mesos_aborted: false,
            registration_round: 0,
            registration_backoff: REGISTRATION_BACKOFF_FACTOR,
            recent_offers: VecDeque::new(),
            recent_offer_set: BTreeSet::new(),
            backend,
            allocation: None,
            executors: ExecutorTable::default(),
            scheduler,
            report: DriverReport::default(),
            readiness: readiness.unwrap_or_default(),
            principal: credential.ok().and_then(|c| c.principal),
            backend_ready: false,
            backend_waiting: false,
            received_task: false,
            mesos_abort_reason: None,
            // With a detector, no master is known until it finds the leader.
            detection,
        }
    }

    /// What happened so far.
    pub fn report(&self) -> DriverReport {
        DriverReport {
            tasks_finished: self.scheduler.tasks_finished,
            task_failures: self.scheduler.task_failures,
            task_state_entries: self.scheduler.footprint(),
            ..self.report.clone()
        }
    }

    /// Whether libmesos is registered with the master right now.
    pub fn connected(&self) -> bool {
        self.connected
    }

    /// The app id: the framework id Mesos assigned (empty before SUBSCRIBED).
    pub fn app_id(&self) -> &str {
        self.framework_id.as_ref().map_or("", |f| f.value.as_str())
    }

    /// The app ends badly before any executor exists: note why, exit 1.
    fn fail(&mut self, reason: String, out: &mut Outbox<DriverTimer>) {
        out.note_with(|| format!("application {} failed: {reason}", self.cfg.app_name));
        self.report.failed = Some(reason);
        self.report.finished_at = Some(out.now());
        self.phase = Phase::Done;
        out.exit(1);
    }

    fn on_start(&mut self, out: &mut Outbox<DriverTimer>) {
        self.report.started_at = Some(out.now());
        if let Some(e) = self.startup_error.clone() {
            // Thrown while the SparkContext is created, before registering.
            self.fail(e, out);
            return;
        }
        out.note_with(|| format!(
            "SparkContext for {:?} starts the Mesos coarse-grained backend: SUBSCRIBE as user {} (failover_timeout {}s)",
            self.cfg.app_name, self.cfg.user, self.cfg.settings.failover_timeout
        ));
        self.phase = Phase::Subscribing;
        // `HeartbeatReceiver.onStart` checks at a fixed rate from here on. Its
        // first check comes at once (in some releases after one timeout) and
        // cannot find an executor silent for longer than the timeout, so the
        // first one that matters is a whole interval away.
        if let Ok(hb) = heartbeat_expiry(&self.cfg) {
            out.set_timer(hb.check_interval, DriverTimer::ExpireDeadHosts);
        }
        // libmesos registers as soon as it has detected the master, then keeps
        // retrying until SUBSCRIBED (`detected` → `doReliableRegistration`).
        self.registration_backoff = REGISTRATION_BACKOFF_FACTOR;
        self.start_detection(out);
        self.do_reliable_registration(out);
    }

    /// `removeExecutor(id, ExecutorProcessLost(reason))`: forget the executor,
    /// fail its running tasks and drop the map output it held.
    ///
    /// Why the order: `TaskSchedulerImpl.executorLost` fails the tasks, then
    /// tells the `DAGScheduler` (which resubmits stages whose lost output is
    /// needed) and revives offers on the other executors.
    fn remove_executor(&mut self, id: &str, reason: &str, out: &mut Outbox<DriverTimer>) {
        if self.executors.remove(id).is_none() {
            return;
        }
        let mut notes = Vec::new();
        // `ExecutorProcessLost` defaults to `causedByApp = true`.
        let lost = self.scheduler.executor_lost(id, reason, true, &mut notes);
        out.note_with(|| {
            format!("executor {id} removed ({reason}); {} running task(s) go back to pending", lost.len())
        });
        for n in notes {
            out.note(n);
        }
        if self.scheduler.aborted.is_none() {
            self.after_task_progress(out);
            self.make_offers(None, out);
        }
    }

    /// After a task ends, an executor is lost or the app registers: let the
    /// DAG scheduler finish stages and jobs and submit the next ones, offer
    /// every executor to new task sets, or stop when everything is done.
    fn after_task_progress(&mut self, out: &mut Outbox<DriverTimer>) {
        if !self.backend_ready {
            return; // the SparkContext constructor still waits (`waitBackendReady`)
        }
        let mut notes = Vec::new();
        let revive = self.scheduler.advance(out.now(), &mut notes);
        for n in notes {
            out.note(n);
        }
        self.arm_starvation_timer(out);
        if self.scheduler.all_done() {
            self.stop(out);
        } else if revive {
            // `submitMissingTasks` → `backend.reviveOffers()`.
            self.make_offers(None, out);
        }
    }

    /// `stop()` (MesosCoarseGrainedSchedulerBackend.scala): StopExecutor to everyone, then wait for the executors.
    fn stop(&mut self, out: &mut Outbox<DriverTimer>) {
        if !matches!(self.phase, Phase::Running) {
            return;
        }
        self.phase = Phase::Stopping { since: out.now() };
        out.note_with(|| format!(
            "all jobs done: SparkContext.stop() sends StopExecutor to {} executor(s) and waits up to {}s (spark.mesos.coarse.shutdownTimeout) for {} Mesos task(s) to end",
            self.executors.len(),
            self.cfg.settings.shutdown_timeout.as_secs_f64(),
            self.backend.num_executors()
        ));
        self.stop_executors(out);
        self.poll_stop(out);
    }

    /// The job was aborted (`spark.task.maxFailures` reached, or Mesos ERROR):
    /// the application's `main` throws, and the JVM's shutdown hook runs the
    /// same `stop()` before the process exits 1.
    ///
    /// Called after every input, as Spark's DAGScheduler event loop fails the
    /// job after the callback that caused it returned.
    fn stop_if_job_aborted(&mut self, out: &mut Outbox<DriverTimer>) {
        if !matches!(self.phase, Phase::Running) {
            return;
        }
        let Some(reason) = self.scheduler.aborted.clone() else { return };
        self.phase = Phase::Stopping { since: out.now() };
        out.note_with(|| format!(
            "{reason}: main throws, and the shutdown hook's SparkContext.stop() sends StopExecutor to {} executor(s) and waits up to {}s before the JVM exits 1",
            self.executors.len(),
            self.cfg.settings.shutdown_timeout.as_secs_f64(),
        ));
        self.report.failed = Some(reason);
        self.stop_executors(out);
        self.poll_stop(out);
    }

    /// One iteration of `stopSchedulerBackend`'s wait loop.
    fn poll_stop(&mut self, out: &mut Outbox<DriverTimer>) {
        let Phase::Stopping { since } = self.phase else { return };
        let left = self.backend.num_executors();
        if left == 0 {
            out.note("every executor has ended: tear the framework down");
        } else if out.now().since(since) >= self.cfg.settings.shutdown_timeout {
            out.note_with(|| format!(
                "timed out waiting for {left} executor(s) after {}s: tear down anyway (Mesos kills them; SPARK-12330)",
                self.cfg.settings.shutdown_timeout.as_secs_f64()
            ));
        } else {
            out.set_timer(STOP_POLL_INTERVAL, DriverTimer::StopPoll);
            return;
        }
        if let Some(fid) = &self.framework_id {
            // `schedulerDriver.stop()` (failover = false) → TEARDOWN, which
            // libmesos sends only while connected and not aborted.
            self.send_call(backend::call(fid, call::Type::Teardown), out);
        }
        let ok = self.report.failed.is_none();
        self.report.finished = ok;
        self.report.finished_at = Some(out.now());
        self.phase = Phase::Done;
        out.exit(if ok { 0 } else { 1 });
    }
}

impl Actor for SparkDriver {
    type Timer = DriverTimer;

    fn handle(&mut self, input: Input<DriverTimer>, out: &mut Outbox<DriverTimer>) {
        if self.phase == Phase::Done {
            return; // the process has exited
        }
        match input {
            Input::Start => {
                if self.phase == Phase::Created {
                    self.on_start(out);
                }
            }
            Input::Timer(DriverTimer::StopPoll) => self.poll_stop(out),
            Input::Timer(DriverTimer::BackendReadyPoll) => self.wait_backend_ready(out),
            Input::Timer(DriverTimer::Starvation) => self.on_starvation_timer(out),
            Input::Timer(DriverTimer::AllocationSchedule) => self.on_allocation_timer(out),
            Input::Timer(DriverTimer::ExpireDeadHosts) => self.expire_dead_hosts(out),
            Input::Timer(DriverTimer::ReliableRegistration { round }) => self.on_registration_timer(round, out),
            Input::Timer(DriverTimer::ZooKeeper) => self.detection_tick(out),
            Input::Disconnected { peer } if self.detection_disconnected(&peer, out) => {}
            Input::Disconnected { peer } if self.detection.is_master(&peer) => self.on_master_disconnected(out),
            Input::Disconnected { peer } => self.on_executor_disconnected(&peer, out),
            Input::Exited { .. } => {}
            // A call the master refused (HTTP 403 on the scheduler API). Not an
            // ERROR event: libmesos logs it and the driver carries on, as the
            // v0 master ignores a call from a framework it does not know
            // (`Master::receive` "Ignoring … call … because the framework cannot be found").
            Input::Refused { peer, kind, refusal } => {
                out.note_with(|| format!("{peer} refused {kind}: {refusal}; logged, nothing aborts"))
            }
            Input::Message { from, msg } => self.on_message(from, msg, out),
        }
        self.stop_if_job_aborted(out);
        self.allocation_sync(out);
    }

    /// What Spark never lets happen, whatever the faults:
    ///
    /// - `totalCoresAcquired` is the sum of `coresByTaskId` and never exceeds
    ///   `maxCores` (`spark.cores.max`, rounded): executors launched but not
    ///   registered yet count, as `canLaunchTask` counts them;
    /// - the same for GPUs against `spark.mesos.gpus.max`;
    /// - every executor's free cores plus the cores of the tasks running on it
    ///   fit in its total (so free cores lie in `[0, total]`).
    fn check_invariants(&self) -> Result<(), String> {
        let b = &self.backend;
        let held: i64 = b.cores_by_task.values().sum();
        if held != b.total_cores_acquired {
            return Err(format!(
                "totalCoresAcquired is {} but the executors hold {held} cores",
                b.total_cores_acquired
            ));
        }
        if b.total_cores_acquired > b.max_cores {
            return Err(format!(
                "the app holds {} cores, more than spark.cores.max allows ({})",
                b.total_cores_acquired, b.max_cores
            ));
        }
        // GPUs the same way: `totalGpusAcquired` is what the executors hold,
        // within `spark.mesos.gpus.max`.
        let gpus: i64 = b.gpus_by_task.values().sum();
        if gpus != b.total_gpus_acquired || gpus > i64::from(self.cfg.settings.gpus_max) {
            return Err(format!(
                "totalGpusAcquired is {} and the executors hold {gpus} GPUs (spark.mesos.gpus.max={})",
                b.total_gpus_acquired, self.cfg.settings.gpus_max
            ));
        }
        let busy = self.scheduler.cpus_by_executor();
        for (id, e) in self.executors.in_order() {
            let running = busy.get(id).copied().unwrap_or(0);
            if e.free_cores.saturating_add(running) > e.total_cores {
                return Err(format!(
                    "executor {id} has {} free cores and {running} busy ones but only {} in total",
                    e.free_cores, e.total_cores
                ));
            }
        }
        Ok(())
    }
}

impl SparkDriver {
    fn on_message(&mut self, from: ActorId, msg: Msg, out: &mut Outbox<DriverTimer>) {
        if self.phase == Phase::Created {
            return;
        }
        // The v0 driver ignores scheduler messages not from the leading master.
        let Some((from, msg)) = self.detection_message(from, msg, out) else { return };
        match msg {
            Msg::SchedulerEvent(e) => self.on_event(*e, out),
            Msg::RetrieveSparkAppConfig(m) => self.on_retrieve_spark_app_config(&from, m, out),
            Msg::RegisterExecutor(m) => self.on_register_executor(&from, *m, out),
            Msg::LaunchedExecutor(m) => self.on_launched_executor(m, out),
            Msg::SparkStatusUpdate(m) => self.on_spark_status_update(m, out),
            Msg::Heartbeat(m) => self.on_heartbeat(&from, m, out),
            Msg::RemoveExecutor(m) => self.on_remove_executor(m, out),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Job, SparkSettings, Stage};
    use crate::endpoint::ExecutorData;
    use mesocosm_sim::proto::scheduler::{Event, event};
    use mesocosm_sim::proto::v1::Offer;

    fn driver(cores_max: u32) -> SparkDriver {
        let settings = SparkSettings { cores_max: Some(cores_max), ..SparkSettings::default() };
        let job = Job { name: "count".into(), stages: vec![Stage::new("s", vec![Duration::from_secs(1); 2])] };
        SparkDriver::new(DriverConfig::for_tests(settings, &[], vec![job]))
    }

    /// Test-only corruption: books cores the way a double-counting bug would.
    fn corrupt_cores(d: &mut SparkDriver, task: &str, cores: i64) {
        d.backend.cores_by_task.insert(task.to_string(), cores);
        d.backend.total_cores_acquired += cores;
    }

    fn executor(d: &mut SparkDriver, id: &str, total: u32, free: u32) {
        let data = ExecutorData {
            actor: ActorId::new(format!("executor:pi/{id}")),
            host: "agent-1".into(),
            total_cores: total,
            free_cores: free,
            launched: true,
            last_heartbeat: SimTime::ZERO,
        };
        d.executors.insert(id.to_string(), data);
    }

    /// One offer of 4 cpus and 8 GiB on agent `A-S1` (`agent-1`).
    fn offer_on_agent_1() -> Offer {
        let mut r = mesocosm_sim::proto::Resources::new();
        r.add_scalar("cpus", 4.0);
        r.add_scalar("mem", 8192.0);
        Offer {
            id: mesocosm_sim::proto::v1::OfferId { value: "O1".into() },
            framework_id: FrameworkId { value: "F-0000".into() },
            agent_id: mesocosm_sim::proto::v1::AgentId { value: "A-S1".into() },
            hostname: "agent-1".into(),
            resources: r.to_protos(),
            ..Default::default()
        }
    }

    #[test]
    fn a_launch_made_while_disconnected_never_reaches_the_master_and_comes_back_task_lost() {
        let mut d = driver(8);
        d.step(SimTime::ZERO, Input::Start);
        let subscribed = Event {
            r#type: Some(event::Type::Subscribed as i32),
            subscribed: Some(event::Subscribed {
                framework_id: FrameworkId { value: "F-0000".into() },
                heartbeat_interval_seconds: Some(15.0),
                master_info: None,
            }),
            ..Default::default()
        };
        d.step(SimTime(100_000), Input::Message { from: ActorId::new("master"), msg: Msg::from(subscribed) });
        assert!(d.connected);
        // libmesos handles the broken master connection (`exited` → connected =
        // false) before the launch Spark's resourceOffers dispatched to it.
        d.connected = false;
        let mut out = Outbox::new(SimTime(200_000));
        d.on_offers(vec![offer_on_agent_1()], &mut out);
        // Nothing goes to the master; Spark gets TASK_LOST for the executor
        // and gives its cores back (and, as for any LOST executor, counts a
        // failure against the agent).
        let notes = [
            "accept offer O1 on agent-1 [cpus:4;mem:8192]: launch executor 0 [cpus:4;mem:1408] (mem = spark.executor.memory 1024 + overhead 384 MiB; after this round the app holds 4 cores, cap spark.cores.max=8)",
            "ACCEPT not sent: the Mesos scheduler driver is not connected to the master",
            "libmesos reports task 0 TASK_LOST itself: Master disconnected",
            "executor 0 on agent-1 is TASK_LOST, REASON_MASTER_DISCONNECTED (Spark: LOST): free its 4 cores (0 held now); failure 1 of 2 on agent-1 before Spark stops using it; revive offers so Mesos clears our decline filters",
            "REVIVE not sent: the Mesos scheduler driver is not connected to the master",
        ];
        assert_eq!(out.take(), notes.map(|n| mesocosm_sim::Output::Note(n.to_string())).to_vec());
        assert_eq!(d.backend.total_cores_acquired, 0);
        assert_eq!(d.check_invariants(), Ok(()));
    }

    #[test]
    fn invariants_catch_cores_beyond_cores_max() {
        let mut d = driver(4);
        assert_eq!(d.check_invariants(), Ok(()));
        corrupt_cores(&mut d, "0", 4);
        assert_eq!(d.check_invariants(), Ok(()), "exactly the cap is fine");
        corrupt_cores(&mut d, "1", 2);
        assert_eq!(
            d.check_invariants(),
            Err("the app holds 6 cores, more than spark.cores.max allows (4)".to_string())
        );
        d.backend.total_cores_acquired = 3;
        assert_eq!(d.check_invariants(), Err("totalCoresAcquired is 3 but the executors hold 6 cores".to_string()));
    }

    #[test]
    fn invariants_catch_cores_handed_out_twice() {
        let mut d = driver(4);
        d.step(SimTime::ZERO, Input::Start);
        executor(&mut d, "0", 2, 2);
        assert_eq!(d.check_invariants(), Ok(()));
        // Two tasks take both cores; then a bug gives the cores back while they run.
        d.phase = Phase::Running;
        d.scheduler.advance(SimTime::ZERO, &mut Vec::new());
        d.make_offers(None, &mut Outbox::new(SimTime::ZERO));
        assert_eq!(d.executors.get_mut("0").map(|e| e.free_cores), Some(0));
        assert_eq!(d.check_invariants(), Ok(()));
        if let Some(e) = d.executors.get_mut("0") {
            e.free_cores = 1;
        }
        assert_eq!(
            d.check_invariants(),
            Err("executor 0 has 1 free cores and 2 busy ones but only 2 in total".to_string())
        );
    }
}
