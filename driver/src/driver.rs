//! [`SparkDriver`]: the actor, its life cycle and the Mesos events it handles.
//!
//! A Spark driver on Mesos goes through four phases:
//!
//! ```text
//!  Start ──SUBSCRIBE──▶ Subscribing ──SUBSCRIBED──▶ Running ──last stage done──▶ Stopping ──▶ exited
//!                                                   offers → executors  ──job aborted──▶  StopExecutor to all,
//!                                                   executors → tasks                    wait ≤ shutdownTimeout,
//!                                                                                        TEARDOWN, exit 0 (1 if aborted)
//! ```
//!
//! Beside Spark's phase runs libmesos's connection state (`MesosSchedulerDriver`):
//!
//! ```text
//!            SUBSCRIBE, retried after 2, 4, 8 … 60 s            Disconnected{master}: disconnected()
//!  registering ─────────────── SUBSCRIBED ──────────────▶ connected ────────────────────────────────┐
//!      ▲  └── ERROR ──▶ aborted (events ignored, no calls; Spark aborts the app, exit 1)            │
//!      └──────────────── after 2 s, SUBSCRIBE with the FrameworkID ─────────────────────────────────┘
//! ```
//!
//! While not connected, libmesos drops OFFERS, RESCIND, UPDATE and FAILURE
//! events and every call (REVIVE, ACKNOWLEDGE, TEARDOWN…); Spark does not
//! notice and keeps running tasks on the executors it has.
//!
//! This file dispatches inputs, handles the Mesos scheduler events
//! (`SUBSCRIBED`, `OFFERS`, `UPDATE`, …) and runs `stop()`. The offer logic is
//! in [`crate::backend`], the executor RPC in [`crate::endpoint`], task
//! placement in [`crate::scheduler`].

use crate::allocation::ExecutorAllocationManager;
use crate::backend::{self, Answer, MesosBackend, OffersThrew};
use crate::config::{DriverConfig, Job, credential, validate};
use crate::constraints;
use crate::endpoint::{ExecutorTable, heartbeat_expiry};
use crate::readiness::Readiness;
use crate::scheduler::TaskScheduler;
use crate::{DriverReport, DriverTimer};
use mesocosm_sim::msg::short_id;
use mesocosm_sim::proto::scheduler::{Call, Event, call, event};
use mesocosm_sim::proto::sparkrpc::TaskState as SparkState;
use mesocosm_sim::proto::v1::{
    FrameworkId, FrameworkInfo, Offer, TaskState, TaskStatus, framework_info, offer, task_status,
};
use mesocosm_sim::{Actor, ActorId, Input, Msg, Outbox, SimTime};
use std::collections::{BTreeSet, VecDeque};
use std::time::Duration;

/// How often `stop()` checks whether every executor is gone.
///
/// Why: `stopSchedulerBackend` polls `numExecutors()` with `Thread.sleep(100)`
/// (SPARK-12330), so TEARDOWN goes out at the first 100 ms tick after the
/// last executor ended, not at the instant it ended.
pub const STOP_POLL_INTERVAL: Duration = Duration::from_millis(100);

/// The first bound of libmesos's SUBSCRIBE retry backoff
/// (`--registration_backoff_factor` of the scheduler driver, `src/sched/constants.hpp`).
///
/// Why deterministic: libmesos waits a random time in `[0, bound]` and
/// doubles the bound after every attempt; cores draw no randomness, so
/// mesocosm waits the bound itself: 2, 4, 8, 16, 32, 60, 60 … s.
pub const REGISTRATION_BACKOFF_FACTOR: Duration = Duration::from_secs(2);

/// The cap of the SUBSCRIBE retry backoff (`REGISTRATION_RETRY_INTERVAL_MAX`, 1 min).
pub const REGISTRATION_RETRY_INTERVAL_MAX: Duration = Duration::from_secs(60);

/// How many answered offer ids the driver remembers to recognise a duplicated OFFERS event.
///
/// Why a window: a Mesos stream delivers each event once, so neither libmesos
/// nor Spark guards against a repeated offer; only the simulator's fault
/// script duplicates one, shortly after the original. Remembering the most
/// recent answers keeps memory flat over long runs.
pub const RECENT_OFFERS_REMEMBERED: usize = 4096;

/// Where the driver is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Not started yet.
    Created,
    /// SUBSCRIBE sent, waiting for SUBSCRIBED (the SparkContext constructor blocks here).
    Subscribing,
    /// Registered: jobs run.
    Running,
    /// `stop()` was called at `since`: waiting for executors to exit.
    Stopping { since: SimTime },
    /// The process has exited.
    Done,
}

/// A Spark application's driver in coarse-grained Mesos mode.
///
/// See the crate docs for the whole picture.
#[derive(Debug)]
pub struct SparkDriver {
    pub(crate) cfg: DriverConfig,
    /// A conf error Spark would throw while creating the SparkContext.
    startup_error: Option<String>,
    pub(crate) phase: Phase,
    /// The framework id SUBSCRIBED gave (the Spark app id).
    pub(crate) framework_id: Option<FrameworkId>,
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
    pub(crate) backend: MesosBackend,
    /// Dynamic allocation's manager, once started (after registration).
    pub(crate) allocation: Option<ExecutorAllocationManager>,
    pub(crate) executors: ExecutorTable,
    pub(crate) scheduler: TaskScheduler,
    pub(crate) report: DriverReport,
    /// `spark.scheduler.minRegistered…`, `maxRegistered…` and `spark.starvation.timeout`.
    pub(crate) readiness: Readiness,
    /// `waitBackendReady` returned: jobs may be submitted.
    pub(crate) backend_ready: bool,
    /// `waitBackendReady` has started waiting (noted once).
    pub(crate) backend_waiting: bool,
    /// `hasReceivedTask`: the first task set was submitted (the starvation timer runs).
    pub(crate) received_task: bool,
    /// The framework's principal (`spark.mesos.principal` or the contents of
    /// `spark.mesos.principal.file`).
    principal: Option<String>,
    /// Why libmesos aborted, if an exception in `resourceOffers` made it.
    pub(crate) mesos_abort_reason: Option<String>,
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

    /// The FrameworkInfo Spark registers with (`createSchedulerDriver`, §1.2).
    ///
    /// Why each field: `user` and `name` always; `failover_timeout` is always
    /// passed explicitly (`spark.mesos.driver.failoverTimeout`, default 0, so
    /// the framework is torn down as soon as the driver disconnects);
    /// `checkpoint` is left unset (the coarse backend passes `None`); `role`
    /// and `principal` only if configured; `id` once the master gave one
    /// (libmesos merges it into its FrameworkInfo at `registered`), else
    /// `spark.mesos.driver.frameworkId` if set; `webui_url` is
    /// `spark.mesos.driver.webui.url`, else the Spark UI's URL
    /// (`http://<host>:<spark.ui.port>`, unless `spark.ui.enabled=false`);
    /// the `GPU_RESOURCES` capability iff `spark.mesos.gpus.max > 0`, since
    /// Mesos offers GPU agents only to frameworks that declare it.
    #[allow(deprecated)] // `FrameworkInfo.role` is deprecated upstream; Spark 3.5 still sets it.
    pub fn framework_info(&self) -> FrameworkInfo {
        let c = &self.cfg;
        let ui_enabled = c.property("spark.ui.enabled").is_none_or(|v| !v.eq_ignore_ascii_case("false"));
        let webui_url = c.property("spark.mesos.driver.webui.url").map(str::to_string).or_else(|| {
            ui_enabled.then(|| format!("http://{}:{}", c.hostname, c.property("spark.ui.port").unwrap_or("4040")))
        });
        FrameworkInfo {
            user: c.user.clone(),
            name: c.app_name.clone(),
            id: self.framework_id.clone().or_else(|| {
                c.framework_id
                    .as_deref()
                    .or_else(|| c.property("spark.mesos.driver.frameworkId"))
                    .map(|v| FrameworkId { value: v.to_string() })
            }),
            failover_timeout: Some(c.settings.failover_timeout),
            role: c.settings.role.clone(),
            hostname: Some(c.hostname.clone()),
            principal: self.principal.clone(),
            webui_url,
            capabilities: (c.settings.gpus_max > 0)
                .then_some(framework_info::Capability {
                    r#type: Some(framework_info::capability::Type::GpuResources as i32),
                })
                .into_iter()
                .collect(),
            ..Default::default()
        }
    }

    /// Send a call through libmesos, which drops it while not registered
    /// ("Ignoring … as master is disconnected") or after an abort.
    ///
    /// Why a dropped launch comes back as TASK_LOST: `SchedulerProcess::acceptOffers`
    /// (`src/sched/sched.cpp`) answers every task of a LAUNCH it drops while
    /// disconnected with its own TASK_LOST (source MASTER, reason
    /// MASTER_DISCONNECTED, "Master disconnected", no agent id, no uuid, so
    /// nothing to acknowledge) through the scheduler's `statusUpdate`, so that
    /// the framework does not wait for tasks the master never heard of.
    pub(crate) fn send_call(&mut self, call: Call, out: &mut Outbox<DriverTimer>) {
        if self.connected && !self.mesos_aborted {
            out.send(&self.cfg.master, call);
            return;
        }
        out.note_with(|| {
            let why = if self.mesos_aborted { "aborted" } else { "not connected to the master" };
            format!("{} not sent: the Mesos scheduler driver is {why}", call.r#type().as_str_name())
        });
        if self.mesos_aborted {
            // An aborted driver delivers nothing to the scheduler any more.
            return;
        }
        let launched = call
            .accept
            .iter()
            .flat_map(|a| &a.operations)
            .filter_map(|op| op.launch.as_ref().filter(|_| op.r#type() == offer::operation::Type::Launch));
        let lost: Vec<TaskStatus> = launched
            .flat_map(|l| &l.task_infos)
            .map(|t| TaskStatus {
                task_id: t.task_id.clone(),
                state: TaskState::TaskLost as i32,
                message: Some("Master disconnected".into()),
                source: Some(task_status::Source::Master as i32),
                reason: Some(task_status::Reason::MasterDisconnected as i32),
                ..Default::default()
            })
            .collect();
        for status in lost {
            out.note_with(|| {
                format!("libmesos reports task {} TASK_LOST itself: Master disconnected", status.task_id.value)
            });
            self.on_update(status, out);
        }
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
        self.do_reliable_registration(out);
    }

    /// libmesos's `doReliableRegistration(maxBackoff)`: send SUBSCRIBE (with
    /// the FrameworkID once there is one) and try again after the backoff
    /// unless SUBSCRIBED arrives first.
    ///
    /// Why the bounds: libmesos caps the backoff at
    /// `REGISTRATION_RETRY_INTERVAL_MAX` (1 min) and at a tenth of
    /// `failover_timeout`, so that a failing-over framework retries several
    /// times before the master gives up on it. With Spark's default
    /// `failover_timeout = 0` that tenth is zero and libmesos would retry with
    /// no delay at all; mesocosm skips that bound for 0, because a zero-delay
    /// loop never lets virtual time advance (the master has removed such a
    /// framework anyway, and answers the first SUBSCRIBE that reaches it with ERROR).
    fn do_reliable_registration(&mut self, out: &mut Outbox<DriverTimer>) {
        if self.connected || self.mesos_aborted {
            return;
        }
        let framework_info = self.framework_info();
        let subscribe = Call {
            framework_id: framework_info.id.clone(),
            r#type: Some(call::Type::Subscribe as i32),
            subscribe: Some(call::Subscribe { framework_info, suppressed_roles: Vec::new() }),
            ..Default::default()
        };
        out.send(&self.cfg.master, subscribe);
        let mut bound = self.registration_backoff.min(REGISTRATION_RETRY_INTERVAL_MAX);
        let failover = self.cfg.settings.failover_timeout;
        if failover > 0.0
            && let Ok(tenth) = Duration::try_from_secs_f64(failover / 10.0)
        {
            bound = bound.min(tenth);
        }
        out.set_timer(bound, DriverTimer::ReliableRegistration { round: self.registration_round });
        self.registration_backoff = bound * 2;
    }

    /// A [`DriverTimer::ReliableRegistration`] is due.
    fn on_registration_timer(&mut self, round: u32, out: &mut Outbox<DriverTimer>) {
        if round != self.registration_round || self.connected || self.mesos_aborted {
            return; // registered since, or a newer round runs
        }
        out.note_with(|| {
            format!(
                "no SUBSCRIBED yet: SUBSCRIBE again{} (libmesos retry backoff, next bound {}s)",
                self.framework_id.as_ref().map_or(String::new(), |f| format!(" as framework {}", f.value)),
                self.registration_backoff.min(REGISTRATION_RETRY_INTERVAL_MAX).as_secs_f64()
            )
        });
        self.do_reliable_registration(out);
    }

    /// The connection to the master broke (the master died, or the stream was cut).
    ///
    /// Why Spark carries on: libmesos calls `disconnected()`, which Spark's
    /// backend only logs (launcher state SUBMITTED), and re-registers with the
    /// FrameworkID when it detects the master again. If the master removed the
    /// framework meanwhile (`failover_timeout`, default 0, expired), the
    /// re-SUBSCRIBE is answered with ERROR and the app aborts then. Offers need
    /// no clean-up: Spark answers each one inside `resourceOffers`, so it holds
    /// none, and the master rescinds the ones in flight.
    fn on_master_disconnected(&mut self, out: &mut Outbox<DriverTimer>) {
        if self.mesos_aborted {
            return;
        }
        if !self.connected {
            out.note("connection to the master broke before SUBSCRIBED: libmesos keeps retrying SUBSCRIBE");
            return;
        }
        self.connected = false;
        self.registration_round += 1;
        self.registration_backoff = REGISTRATION_BACKOFF_FACTOR;
        // Why 2 s before the first SUBSCRIBE: libmesos re-registers once its
        // master detector reports a leader again; mesocosm has no detector and
        // models that delay as one registration_backoff_factor.
        out.note_with(|| format!(
            "lost the Mesos master: Spark's disconnected() only logs; executors keep running tasks, and libmesos SUBSCRIBEs again as framework {} in {}s",
            self.app_id(),
            REGISTRATION_BACKOFF_FACTOR.as_secs()
        ));
        out.set_timer(
            REGISTRATION_BACKOFF_FACTOR,
            DriverTimer::ReliableRegistration { round: self.registration_round },
        );
    }

    fn on_event(&mut self, e: Event, out: &mut Outbox<DriverTimer>) {
        let kind = e.r#type();
        if self.mesos_aborted {
            // libmesos: "Ignoring … because the driver is not running!"
            out.note_with(|| format!("{} ignored: the Mesos scheduler driver was aborted", kind.as_str_name()));
            return;
        }
        match kind {
            event::Type::Subscribed => {
                if let Some(s) = e.subscribed {
                    self.on_subscribed(s.framework_id, out);
                }
            }
            event::Type::Error => {
                let msg = e.error.map(|er| er.message).unwrap_or_default();
                self.on_error(msg, out);
            }
            event::Type::Offers | event::Type::Rescind | event::Type::Update | event::Type::Failure
                if !self.connected =>
            {
                // libmesos: "Ignoring … because the driver is disconnected!" (an
                // UPDATE comes again: the agent retries it until acknowledged).
                out.note_with(|| format!("{} dropped: not registered with the master", kind.as_str_name()));
            }
            event::Type::Offers => {
                if let Some(o) = e.offers {
                    self.on_offers(o.offers, out);
                }
            }
            event::Type::Update => {
                if let Some(u) = e.update {
                    self.on_update(u.status, out);
                }
            }
            event::Type::Rescind => {
                if let Some(r) = e.rescind {
                    out.note_with(|| {
                        format!("offer {} rescinded: Spark's offerRescinded does nothing", short_id(&r.offer_id.value))
                    });
                }
            }
            event::Type::Failure => {
                // `agentLost` / `executorLost` only log: executors leave the
                // books through terminal status updates only (the master sends
                // TASK_LOST, REASON_AGENT_REMOVED, for each task on a lost agent).
                if let Some(f) = e.failure {
                    let what = match (&f.agent_id, &f.executor_id) {
                        (_, Some(x)) => format!("executor {} exited with status {}", x.value, f.status.unwrap_or(0)),
                        (Some(a), None) => format!("agent {} lost", short_id(&a.value)),
                        (None, None) => "failure".to_string(),
                    };
                    out.note_with(|| {
                        format!("Mesos reports {what}: Spark only logs it and waits for the task's status update")
                    });
                }
            }
            _ => {}
        }
    }

    /// SUBSCRIBED: libmesos's `registered` (first time, or a driver started
    /// with a FrameworkID) or `reregistered` (after losing the master).
    fn on_subscribed(&mut self, framework_id: FrameworkId, out: &mut Outbox<DriverTimer>) {
        if self.connected {
            // libmesos: "Ignoring framework registered message because the
            // driver is already connected!" (a duplicate, or the answer to a
            // retried SUBSCRIBE).
            out.note("SUBSCRIBED ignored: already registered");
            return;
        }
        self.connected = true;
        self.registration_round += 1;
        self.report.framework_id = Some(framework_id.value.clone());
        self.framework_id = Some(framework_id);
        if self.phase != Phase::Subscribing {
            // `reregistered` only updates the launcher state.
            out.note_with(|| format!("re-registered with Mesos as framework {}", self.app_id()));
            return;
        }
        out.note_with(|| {
            format!(
                "registered with Mesos as framework {}: this is the Spark app id (--app-id, spark.app.id)",
                self.app_id()
            )
        });
        self.phase = Phase::Running;
        // SparkContext creates its ExecutorAllocationManager only now, after
        // the backend registered; a bad conf throws there, and the
        // constructor's stop() tears the framework down.
        if let Err(e) = self.allocation_start(out) {
            self.scheduler.abort(e);
            return;
        }
        self.wait_backend_ready(out);
    }

    /// Event ERROR: libmesos aborts itself, then calls Spark's `error`, which
    /// calls `TaskSchedulerImpl.error(msg)`.
    ///
    /// Why exit 1: while the SparkContext is still being created (no
    /// SUBSCRIBED yet) `error` throws "Exiting due to error from cluster
    /// scheduler" and the aborted libmesos makes the constructor fail; once
    /// running, every active task set is aborted with `msg`, so the job fails
    /// and the application's `main` throws. Either way the JVM exits 1 after
    /// its shutdown hook ran `SparkContext.stop()`; with libmesos aborted that
    /// stop sends no TEARDOWN and sees no more status updates.
    fn on_error(&mut self, msg: String, out: &mut Outbox<DriverTimer>) {
        self.mesos_aborted = true;
        self.connected = false;
        out.note_with(|| format!("Mesos error {msg:?}: libmesos aborts, and Spark's error() aborts the application"));
        match self.phase {
            Phase::Subscribing => self.fail(format!("Exiting due to error from cluster scheduler: {msg}"), out),
            Phase::Running => self.scheduler.abort(format!("Job aborted due to stage failure: {msg}")),
            _ => {}
        }
    }

    /// `resourceOffers` (MesosCoarseGrainedSchedulerBackend.scala).
    fn on_offers(&mut self, mut offers: Vec<Offer>, out: &mut Outbox<DriverTimer>) {
        let Some(fid) = self.framework_id.clone() else { return };
        // An offer id answered already comes from a duplicated event: answering
        // again would launch the same executors twice (see RECENT_OFFERS_REMEMBERED).
        offers.retain(|o| {
            let seen = self.recent_offer_set.contains(&o.id.value);
            if seen {
                out.note_with(|| format!("offer {} was answered already: duplicate ignored", short_id(&o.id.value)));
            }
            !seen
        });
        for o in &offers {
            self.remember_offer(&o.id.value);
        }
        if offers.is_empty() {
            return;
        }
        self.report.offers_received += offers.len() as u64;
        let answers: Vec<(Answer, String)> = if matches!(self.phase, Phase::Running) {
            let app_id = self.app_id().to_string();
            match self.backend.resource_offers(&self.cfg, &app_id, &offers, out.now()) {
                Ok(answers) => answers,
                Err(threw) => {
                    self.offers_threw(&fid, threw, out);
                    return;
                }
            }
        } else {
            // Step 1: after stop() every offer is declined with no filter.
            offers
                .iter()
                .map(|o| {
                    let note = format!(
                        "decline offer {} on {}: the app is shutting down (no filter)",
                        short_id(&o.id.value),
                        o.hostname
                    );
                    (Answer::Decline { offer: o.id.clone(), refuse: None }, note)
                })
                .collect()
        };
        for (answer, note) in answers {
            out.note(note);
            match &answer {
                Answer::Accept { tasks, .. } => {
                    self.report.offers_accepted += 1;
                    self.report.executors_launched += tasks.len() as u64;
                }
                Answer::Decline { .. } => self.report.offers_declined += 1,
            }
            self.send_call(backend::answer_call(&fid, answer), out);
        }
    }

    /// `resourceOffers` threw while building an executor's TaskInfo.
    ///
    /// Why the app hangs instead of failing: the exception escapes Spark's
    /// callback into libmesos's Java bindings (`JNIScheduler::resourceOffers`),
    /// which describe it and call `driver->abort()`. Spark is not told: the
    /// error only reaches the thread that ran `driver.run()`, long after the
    /// SparkContext stopped listening to it. So the offers answered before
    /// the throw (the unmatched declines) went out, the others stay
    /// unanswered, and no event or call passes any more: jobs wait for
    /// executors forever ("Initial job has not accepted any resources").
    fn offers_threw(&mut self, fid: &FrameworkId, threw: OffersThrew, out: &mut Outbox<DriverTimer>) {
        for (answer, note) in threw.sent {
            out.note(note);
            self.report.offers_declined += 1;
            self.send_call(backend::answer_call(fid, answer), out);
        }
        out.note_with(|| {
            format!(
                "{} thrown inside resourceOffers: libmesos's Java bindings abort the scheduler driver; Spark does not notice, and the app waits for executors that will never come",
                threw.exception
            )
        });
        self.mesos_aborted = true;
        self.mesos_abort_reason = Some(threw.exception);
    }

    fn remember_offer(&mut self, id: &str) {
        if self.recent_offer_set.insert(id.to_string()) {
            self.recent_offers.push_back(id.to_string());
        }
        while self.recent_offers.len() > RECENT_OFFERS_REMEMBERED {
            if let Some(old) = self.recent_offers.pop_front() {
                self.recent_offer_set.remove(&old);
            }
        }
    }

    /// `statusUpdate` for an executor's Mesos task, then the v0 driver's
    /// implicit acknowledgement.
    ///
    /// A terminal status for an executor that already ended (an update the
    /// agent re-sent because the acknowledgement was lost, or a duplicate) is
    /// acknowledged again and counts nothing. Spark itself would free nothing
    /// more (`coresByTaskId` no longer holds it) but would count the agent
    /// failure twice; mesocosm counts each executor's end once so that a
    /// duplicated message cannot exclude a healthy agent.
    fn on_update(&mut self, status: TaskStatus, out: &mut Outbox<DriverTimer>) {
        let Some(fid) = self.framework_id.clone() else { return };
        let task_id = status.task_id.value.clone();
        let mesos_state = status.state();
        let state = mesos_to_task_state(mesos_state);
        let agent_id = status.agent_id.clone().or_else(|| self.backend.agent_of_task.get(&task_id).cloned());
        let terminal =
            matches!(state, SparkState::Finished | SparkState::Failed | SparkState::Killed | SparkState::Lost);

        let live = agent_id
            .as_ref()
            .and_then(|a| self.backend.agents.get(&a.value))
            .is_some_and(|a| a.task_ids.contains(&task_id));
        match agent_id.as_ref().filter(|a| self.backend.agents.contains_key(&a.value)) {
            None => out.note_with(|| format!(
                "status {} for executor {task_id} on an agent this app never used: Spark's agents(agentId) would throw; ignored",
                mesos_state.as_str_name()
            )),
            Some(_) if terminal && !live => out.note_with(|| {
                format!(
                    "status {} for executor {task_id}, which has ended already: acknowledge again, count nothing",
                    mesos_state.as_str_name()
                )
            }),
            Some(agent) if terminal => {
                let failed = matches!(state, SparkState::Failed | SparkState::Lost);
                let host = self.backend.agents[&agent.value].hostname.clone();
                let words = self.backend.executor_finished(&task_id, &agent.value, failed);
                let reason =
                    status.reason.map(|_| format!(", {}", status.reason().as_str_name())).unwrap_or_default();
                out.note_with(|| format!(
                    "executor {task_id} on {host} is {}{reason} (Spark: {}): {words}; revive offers so Mesos clears our decline filters",
                    mesos_state.as_str_name(),
                    state.as_str_name()
                ));
                // `executorTerminated`: removeExecutor unless stop() was called.
                let reason = format!("Executor finished with state {}", state.as_str_name());
                if matches!(self.phase, Phase::Running) {
                    self.remove_executor(&task_id, &reason, out);
                } else {
                    self.executors.remove(&task_id);
                }
                // "In case we'd rejected everything before but have now lost a
                // node": the backend's only REVIVE.
                self.send_call(backend::call(&fid, call::Type::Revive), out);
            }
            // Mesos ≥ 1.5 re-sends the latest state of the tasks on an agent
            // that comes back from unreachable (TASK_RUNNING after TASK_LOST).
            // Spark 3.5's `statusUpdate` only looks the agent up (it never
            // forgets an agent) and, for RUNNING, registers with that agent's
            // external shuffle service once (not modelled): the removed
            // executor's cores are not counted again and it is not re-added.
            // `MesosCoarseGrainedSchedulerBackend.statusUpdate`.
            Some(_) if !live => out.note_with(|| {
                format!(
                    "status {} for executor {task_id}, which Spark removed already: statusUpdate only logs it",
                    mesos_state.as_str_name()
                )
            }),
            Some(_) => {}
        }

        // The v0 MesosSchedulerDriver acknowledges after the callback returns,
        // and only updates that carry a uuid (ones from an agent).
        if let (Some(uuid), Some(agent_id)) = (status.uuid.clone(), agent_id) {
            let ack = Call {
                acknowledge: Some(call::Acknowledge { agent_id, task_id: status.task_id.clone(), uuid }),
                ..backend::call(&fid, call::Type::Acknowledge)
            };
            self.send_call(ack, out);
        }
    }

    /// `removeExecutor(id, ExecutorProcessLost(reason))`: forget the executor,
    /// fail its running tasks and drop the map output it held.
    ///
    /// Why the order: `TaskSchedulerImpl.executorLost` fails the tasks, then
    /// tells the `DAGScheduler` (which resubmits stages whose lost output is
    /// needed) and revives offers on the other executors.
    pub(crate) fn remove_executor(&mut self, id: &str, reason: &str, out: &mut Outbox<DriverTimer>) {
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
    pub(crate) fn after_task_progress(&mut self, out: &mut Outbox<DriverTimer>) {
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

/// `MesosSchedulerUtils.mesosToTaskState`.
pub fn mesos_to_task_state(s: TaskState) -> SparkState {
    match s {
        TaskState::TaskStaging | TaskState::TaskStarting => SparkState::Launching,
        TaskState::TaskRunning | TaskState::TaskKilling => SparkState::Running,
        TaskState::TaskFinished => SparkState::Finished,
        TaskState::TaskFailed | TaskState::TaskGone | TaskState::TaskGoneByOperator => SparkState::Failed,
        TaskState::TaskKilled => SparkState::Killed,
        TaskState::TaskLost
        | TaskState::TaskError
        | TaskState::TaskDropped
        | TaskState::TaskUnknown
        | TaskState::TaskUnreachable => SparkState::Lost,
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
            Input::Disconnected { peer } if peer == self.cfg.master => self.on_master_disconnected(out),
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
        match msg {
            // The v0 driver ignores scheduler messages not from the leading master.
            Msg::SchedulerEvent(e) if from == self.cfg.master => self.on_event(e, out),
            Msg::RetrieveSparkAppConfig(m) => self.on_retrieve_spark_app_config(&from, m, out),
            Msg::RegisterExecutor(m) => self.on_register_executor(&from, m, out),
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
        d.step(SimTime(100_000), Input::Message { from: ActorId::new("master"), msg: Msg::SchedulerEvent(subscribed) });
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
