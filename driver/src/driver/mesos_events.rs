//! The Mesos side: libmesos's connection to the master and the scheduler
//! events Spark's `MesosCoarseGrainedSchedulerBackend` handles.
//!
//! Beside Spark's [`Phase`] runs libmesos's connection state (`MesosSchedulerDriver`):
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
//! notice and keeps running tasks on the executors it has. Every call the
//! driver makes goes through [`SparkDriver::send_call`], which models that.
//!
//! The events: SUBSCRIBED registers the app (and starts dynamic allocation
//! and `waitBackendReady`), OFFERS are answered by [`crate::backend`]'s
//! `resourceOffers`, UPDATE ends executors (`statusUpdate`), ERROR aborts;
//! RESCIND and FAILURE are only logged, as in Spark.

use super::{DriverTimer, SparkDriver};
use crate::backend::{self, Answer, OffersThrew};
use crate::phase::Phase;
use mesocosm_sim::Outbox;
use mesocosm_sim::msg::short_id;
use mesocosm_sim::proto::scheduler::{Call, Event, call, event};
use mesocosm_sim::proto::sparkrpc::TaskState as SparkState;
use mesocosm_sim::proto::v1::{FrameworkId, FrameworkInfo, Offer, TaskState, TaskStatus, framework_info};
use std::time::Duration;

// libmesos's SUBSCRIBE retry backoff: the scheduler library's, the one copy
// of libmesos behaviour every framework shares.
pub use mesocosm_scheduler::{REGISTRATION_BACKOFF_FACTOR, REGISTRATION_RETRY_INTERVAL_MAX};

/// How many answered offer ids the driver remembers to recognise a duplicated OFFERS event.
///
/// Why a window: a Mesos stream delivers each event once, so neither libmesos
/// nor Spark guards against a repeated offer; only the simulator's fault
/// script duplicates one, shortly after the original. Remembering the most
/// recent answers keeps memory flat over long runs.
pub const RECENT_OFFERS_REMEMBERED: usize = 4096;

impl SparkDriver {
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
    pub(super) fn send_call(&mut self, call: Call, out: &mut Outbox<DriverTimer>) {
        if self.connected
            && !self.mesos_aborted
            && let Some(m) = self.detection.master()
        {
            out.send(m, call);
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
        for status in mesocosm_scheduler::lost_with_unsent_call(&call) {
            out.note_with(|| {
                format!("libmesos reports task {} TASK_LOST itself: Master disconnected", status.task_id.value)
            });
            self.on_update(status, out);
        }
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
    pub(super) fn do_reliable_registration(&mut self, out: &mut Outbox<DriverTimer>) {
        if self.connected || self.mesos_aborted {
            return;
        }
        // No master detected yet: detection starts the registration.
        let Some(master) = self.detection.master().cloned() else { return };
        let framework_info = self.framework_info();
        let subscribe = Call {
            framework_id: framework_info.id.clone(),
            r#type: Some(call::Type::Subscribe as i32),
            subscribe: Some(call::Subscribe { framework_info, suppressed_roles: Vec::new() }),
            ..Default::default()
        };
        out.send(&master, subscribe);
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
    pub(super) fn on_registration_timer(&mut self, round: u32, out: &mut Outbox<DriverTimer>) {
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
    pub(super) fn on_master_disconnected(&mut self, out: &mut Outbox<DriverTimer>) {
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

    pub(super) fn on_event(&mut self, e: Event, out: &mut Outbox<DriverTimer>) {
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
    pub(super) fn on_offers(&mut self, mut offers: Vec<Offer>, out: &mut Outbox<DriverTimer>) {
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
