//! [`SparkDriver`]: the actor, its life cycle and the Mesos events it handles.
//!
//! A Spark driver on Mesos goes through four phases:
//!
//! ```text
//!  Start ──SUBSCRIBE──▶ Subscribing ──SUBSCRIBED──▶ Running ──last stage done──▶ Stopping ──▶ exited
//!                                                   offers → executors            StopExecutor to all,
//!                                                   executors → tasks             wait ≤ shutdownTimeout,
//!                                                                                 TEARDOWN, exit 0
//! ```
//!
//! This file dispatches inputs, handles the Mesos scheduler events
//! (`SUBSCRIBED`, `OFFERS`, `UPDATE`, …) and runs `stop()`. The offer logic is
//! in [`crate::backend`], the executor RPC in [`crate::endpoint`], task
//! placement in [`crate::scheduler`].

use crate::backend::{self, Answer, MesosBackend};
use crate::config::{DriverConfig, validate};
use crate::constraints;
use crate::endpoint::ExecutorTable;
use crate::scheduler::TaskScheduler;
use crate::{DriverReport, DriverTimer};
use mesocosm_sim::msg::short_id;
use mesocosm_sim::proto::scheduler::{Call, Event, call, event};
use mesocosm_sim::proto::sparkrpc::TaskState as SparkState;
use mesocosm_sim::proto::v1::{FrameworkId, FrameworkInfo, Offer, TaskState, TaskStatus};
use mesocosm_sim::{Actor, ActorId, Input, Msg, Outbox, SimTime};
use std::time::Duration;

/// How often `stop()` checks whether every executor is gone.
///
/// Why: `stopSchedulerBackend` polls `numExecutors()` with `Thread.sleep(100)`
/// (SPARK-12330), so TEARDOWN goes out at the first 100 ms tick after the
/// last executor ended, not at the instant it ended.
pub const STOP_POLL_INTERVAL: Duration = Duration::from_millis(100);

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
    framework_id: Option<FrameworkId>,
    pub(crate) backend: MesosBackend,
    pub(crate) executors: ExecutorTable,
    pub(crate) scheduler: TaskScheduler,
    report: DriverReport,
}

impl SparkDriver {
    /// A driver that will run `cfg.workload` when started.
    pub fn new(cfg: DriverConfig) -> Self {
        let parsed = constraints::parse(&cfg.settings.constraints);
        let startup_error = validate(&cfg.settings)
            .and_then(|()| parsed.as_ref().map(|_| ()).map_err(Clone::clone))
            .and_then(|()| {
                // `createSchedulerDriver`: a secret needs a principal.
                if cfg.property("spark.mesos.secret").is_some() && cfg.property("spark.mesos.principal").is_none() {
                    Err("spark.mesos.principal must be configured when spark.mesos.secret is set".to_string())
                } else {
                    Ok(())
                }
            })
            .err();
        let backend = MesosBackend::new(&cfg, parsed.unwrap_or_default());
        let scheduler = TaskScheduler::new(cfg.workload.clone(), cfg.settings.task_cpus);
        SparkDriver {
            cfg,
            startup_error,
            phase: Phase::Created,
            framework_id: None,
            backend,
            executors: ExecutorTable::default(),
            scheduler,
            report: DriverReport::default(),
        }
    }

    /// What happened so far.
    pub fn report(&self) -> DriverReport {
        DriverReport { tasks_finished: self.scheduler.tasks_finished, ..self.report.clone() }
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
    /// `checkpoint` is left unset (the coarse backend passes `None`); `role`,
    /// `principal` and `id` only if configured; `webui_url` is
    /// `spark.mesos.driver.webui.url`, else the Spark UI's URL
    /// (`http://<host>:<spark.ui.port>`, unless `spark.ui.enabled=false`). No
    /// GPU capability: mesocosm does not model `spark.mesos.gpus.max`.
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
            id: c.property("spark.mesos.driver.frameworkId").map(|v| FrameworkId { value: v.to_string() }),
            failover_timeout: Some(c.settings.failover_timeout),
            role: c.settings.role.clone(),
            hostname: Some(c.hostname.clone()),
            principal: c.property("spark.mesos.principal").map(str::to_string),
            webui_url,
            ..Default::default()
        }
    }

    fn send_call(&self, call: Call, out: &mut Outbox<DriverTimer>) {
        out.send(&self.cfg.master, call);
    }

    /// The app ends badly: note why, exit 1.
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
        let framework_info = self.framework_info();
        out.note_with(|| format!(
            "SparkContext for {:?} starts the Mesos coarse-grained backend: SUBSCRIBE as user {} (failover_timeout {}s)",
            self.cfg.app_name, self.cfg.user, self.cfg.settings.failover_timeout
        ));
        let subscribe = Call {
            framework_id: framework_info.id.clone(),
            r#type: Some(call::Type::Subscribe as i32),
            subscribe: Some(call::Subscribe { framework_info, suppressed_roles: Vec::new() }),
            ..Default::default()
        };
        self.send_call(subscribe, out);
        self.phase = Phase::Subscribing;
    }

    fn on_event(&mut self, e: Event, out: &mut Outbox<DriverTimer>) {
        match e.r#type() {
            event::Type::Subscribed => {
                let Some(s) = e.subscribed else { return };
                let first = self.framework_id.is_none();
                self.framework_id = Some(s.framework_id);
                if !first || self.phase != Phase::Subscribing {
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
                self.after_task_progress(out);
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
                // books through terminal status updates only.
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
            event::Type::Error => {
                // The v0 driver aborts on ERROR and Spark's `error` aborts the
                // running jobs; the application exits with an error.
                let msg = e.error.map(|er| er.message).unwrap_or_default();
                self.fail(format!("Mesos error: {msg}"), out);
            }
            _ => {}
        }
    }

    /// `resourceOffers` (reference §1.3).
    fn on_offers(&mut self, offers: Vec<Offer>, out: &mut Outbox<DriverTimer>) {
        let Some(fid) = self.framework_id.clone() else { return };
        self.report.offers_received += offers.len() as u64;
        let answers: Vec<(Answer, String)> = if matches!(self.phase, Phase::Running) {
            let app_id = self.app_id().to_string();
            self.backend.resource_offers(&self.cfg, &app_id, &offers)
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

    /// `statusUpdate` for an executor's Mesos task, then the v0 driver's
    /// implicit acknowledgement.
    fn on_update(&mut self, status: TaskStatus, out: &mut Outbox<DriverTimer>) {
        let Some(fid) = self.framework_id.clone() else { return };
        let task_id = status.task_id.value.clone();
        let mesos_state = status.state();
        let state = mesos_to_task_state(mesos_state);
        let agent_id = status.agent_id.clone().or_else(|| self.backend.agent_of_task.get(&task_id).cloned());
        let terminal =
            matches!(state, SparkState::Finished | SparkState::Failed | SparkState::Killed | SparkState::Lost);

        match agent_id.as_ref().filter(|a| self.backend.agents.contains_key(&a.value)) {
            None => out.note_with(|| format!(
                "status {} for executor {task_id} on an agent this app never used: Spark's agents(agentId) would throw; ignored",
                mesos_state.as_str_name()
            )),
            Some(agent) if terminal => {
                let failed = matches!(state, SparkState::Failed | SparkState::Lost);
                let host = self.backend.agents[&agent.value].hostname.clone();
                let words = self.backend.executor_finished(&task_id, &agent.value, failed);
                out.note_with(|| format!(
                    "executor {task_id} on {host} is {} (Spark: {}): {words}; revive offers so Mesos clears our decline filters",
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

    /// `removeExecutor(id, reason)`: forget the executor and re-queue its tasks.
    pub(crate) fn remove_executor(&mut self, id: &str, reason: &str, out: &mut Outbox<DriverTimer>) {
        if self.executors.remove(id).is_none() {
            return;
        }
        let lost = self.scheduler.executor_lost(id);
        out.note_with(|| {
            format!("executor {id} removed ({reason}); {} running task(s) go back to pending", lost.len())
        });
        if !lost.is_empty() {
            // `TaskSchedulerImpl.executorLost` revives offers on the others.
            self.make_offers(None, out);
        }
    }

    /// After a task ends or the app registers: start the next stage or job if
    /// due, offer executors to a new stage, or stop when everything is done.
    pub(crate) fn after_task_progress(&mut self, out: &mut Outbox<DriverTimer>) {
        let mut notes = Vec::new();
        let new_stage = self.scheduler.advance(out.now(), &mut notes);
        for n in notes {
            out.note(n);
        }
        if self.scheduler.all_done() {
            self.stop(out);
        } else if new_stage {
            // `submitMissingTasks` → `backend.reviveOffers()`.
            self.make_offers(None, out);
        }
    }

    /// `stop()` (§1.8): StopExecutor to everyone, then wait for the executors.
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
            // `schedulerDriver.stop()` (failover = false) → TEARDOWN.
            self.send_call(backend::call(fid, call::Type::Teardown), out);
        }
        self.report.finished = true;
        self.report.finished_at = Some(out.now());
        self.phase = Phase::Done;
        out.exit(0);
    }
}

/// `MesosSchedulerUtils.mesosToTaskState` (reference §1.6).
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
            Input::Disconnected { peer } if peer == self.cfg.master => {
                // Spark aborts when its scheduler driver dies.
                self.fail(format!("lost the connection to the Mesos master {peer}"), out);
            }
            Input::Disconnected { peer } => self.on_executor_disconnected(&peer, out),
            Input::Exited { .. } => {}
            Input::Message { from, msg } => self.on_message(from, msg, out),
        }
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
            _ => {}
        }
    }
}
