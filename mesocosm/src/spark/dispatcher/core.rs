//! `MesosClusterScheduler` as a sans-IO [`Scheduler`]: the dispatcher's
//! queues, its offer handling, supervision and recovery, and its REST server
//! (`MesosRestServer`): each request message is answered with its response
//! message, sent back to the client that asked.

use super::command::{self, submission_of, task_id};
use super::conf::{DispatcherConf, FAILOVER_TIMEOUT};
use super::submission::{
    CreateSubmissionRequest, CreateSubmissionResponse, DriverDescription, ErrorResponse, KillSubmissionResponse,
    RetryState, SPARK_VERSION, SubmissionStatusResponse, create_response, describe, driver_id, error_response,
    kill_response,
};
use mesocosm_driver::constraints;
use mesocosm_scheduler::{Context, Scheduler};
use mesocosm_sim::proto::mesos::v1::{
    AgentId, FrameworkId, FrameworkInfo, Offer, Resource, TaskId, TaskInfo, TaskState, TaskStatus, task_status,
};
use mesocosm_sim::{ActorId, Msg, SimTime};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A launched driver (`MesosClusterSubmissionState`).
#[derive(Clone, Debug, PartialEq)]
pub struct LaunchedDriver {
    pub desc: DriverDescription,
    pub task_id: String,
    pub agent_id: AgentId,
    /// The last status of its task.
    pub status: Option<TaskStatus>,
    pub start: SimTime,
    pub finish: Option<SimTime>,
}

/// What the persistence engine keeps. Spark keeps it in ZooKeeper
/// (`spark.deploy.recoveryMode=ZOOKEEPER`); mesocosm keeps it in memory that
/// outlives a dispatcher's process, which is what ZooKeeper gives it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Persisted {
    pub framework_id: Option<String>,
    pub queued: Vec<DriverDescription>,
    pub launched: BTreeMap<String, LaunchedDriver>,
    pub pending_retry: Vec<DriverDescription>,
}

/// The in-memory persistence engine, shared by a dispatcher's incarnations.
pub type PersistenceEngine = Arc<Mutex<Persisted>>;

/// A REST exchange, as the dispatcher answered it.
#[derive(Clone, Debug, PartialEq)]
pub enum Answer {
    Create(CreateSubmissionResponse),
    Kill(KillSubmissionResponse),
    Status(Box<SubmissionStatusResponse>),
    /// A request the server could not take (HTTP 400).
    Error(ErrorResponse),
}

impl Answer {
    /// The message that carries it back to the client.
    pub fn to_msg(&self) -> Msg {
        match self {
            Answer::Create(a) => Msg::from(a.clone()),
            Answer::Kill(a) => Msg::from(a.clone()),
            Answer::Status(a) => Msg::from((**a).clone()),
            Answer::Error(a) => Msg::from(a.clone()),
        }
    }
}

/// Spark's MesosClusterScheduler.
#[derive(Debug)]
pub struct ClusterScheduler {
    conf: DispatcherConf,
    store: PersistenceEngine,
    framework_id: Option<String>,
    /// Ordered by priority (highest first), then submission time.
    queued: Vec<(f64, DriverDescription)>,
    launched: BTreeMap<String, LaunchedDriver>,
    pending_retry: Vec<DriverDescription>,
    finished: Vec<LaunchedDriver>,
    /// Tasks to reconcile after a recovery, by task id.
    pending_recover: BTreeMap<String, AgentId>,
    /// Registered with the master: requests are taken.
    ready: bool,
    next_driver_number: u64,
    /// Every REST request's answer, in order, with the client it went to.
    pub answers: Vec<(SimTime, ActorId, Answer)>,
}

impl ClusterScheduler {
    /// A dispatcher starting (recovering what `store` holds).
    pub fn new(conf: DispatcherConf, store: PersistenceEngine) -> ClusterScheduler {
        let saved = store.lock().unwrap_or_else(|p| p.into_inner()).clone();
        // `recoverState`: launched drivers wait for reconciliation; a queued
        // driver that was launched already leaves the queue; finished ones are forgotten.
        let pending_recover = saved.launched.values().map(|l| (l.task_id.clone(), l.agent_id.clone())).collect();
        let queued = saved
            .queued
            .into_iter()
            .filter(|d| !saved.launched.contains_key(&d.submission_id))
            .map(|d| (conf.priority(d.conf.get("spark.mesos.dispatcher.queue").map(String::as_str)).unwrap_or(0.0), d))
            .collect();
        ClusterScheduler {
            conf,
            store,
            framework_id: saved.framework_id,
            queued,
            launched: saved.launched,
            pending_retry: saved.pending_retry,
            finished: Vec::new(),
            pending_recover,
            ready: false,
            next_driver_number: 0,
            answers: Vec::new(),
        }
    }

    /// The FrameworkInfo the dispatcher registers with (`createSchedulerDriver`
    /// from `start`): checkpointing, failover timeout `Integer.MAX_VALUE`, and
    /// the framework id it persisted.
    pub fn framework_info(&self) -> FrameworkInfo {
        // Spark sets the single (deprecated) `role` field, as its drivers do.
        #[allow(deprecated)]
        FrameworkInfo {
            user: "root".into(),
            name: self.conf.name.clone(),
            id: self.framework_id.clone().map(|value| FrameworkId { value }),
            failover_timeout: Some(FAILOVER_TIMEOUT),
            checkpoint: Some(true),
            role: self.conf.role.clone(),
            principal: self.conf.principal.clone(),
            webui_url: Some(self.conf.webui_url.clone()),
            ..Default::default()
        }
    }

    /// Submissions queued, launched, waiting to retry, finished (by id).
    pub fn state(&self) -> [Vec<String>; 4] {
        [
            self.queued.iter().map(|(_, d)| d.submission_id.clone()).collect(),
            self.launched.keys().cloned().collect(),
            self.pending_retry.iter().map(|d| d.submission_id.clone()).collect(),
            self.finished.iter().map(|d| d.desc.submission_id.clone()).collect(),
        ]
    }

    /// The launched driver of a submission.
    pub fn launched(&self, id: &str) -> Option<&LaunchedDriver> {
        self.launched.get(id)
    }

    fn persist(&self) {
        let mut s = self.store.lock().unwrap_or_else(|p| p.into_inner());
        *s = Persisted {
            framework_id: self.framework_id.clone(),
            queued: self.queued.iter().map(|(_, d)| d.clone()).collect(),
            launched: self.launched.clone(),
            pending_retry: self.pending_retry.clone(),
        };
    }

    /// `submitDriver`.
    pub fn submit<T>(&mut self, req: &CreateSubmissionRequest, ctx: &mut Context<'_, T>) -> CreateSubmissionResponse {
        let refuse = |m: &str| create_response(false, None, Some(m));
        if !self.ready {
            return refuse("Scheduler is not ready to take requests");
        }
        // Spark's quirk: the cap counts *launched* drivers, not queued ones.
        if self.launched.len() >= self.conf.max_drivers {
            return refuse("Already reached maximum submission size");
        }
        self.next_driver_number += 1;
        let id = driver_id(ctx.now(), self.next_driver_number);
        let desc = match describe(req, id.clone(), ctx.now()) {
            Ok(d) => d,
            Err(e) => return refuse(&e),
        };
        let priority = match self.conf.priority(desc.conf.get("spark.mesos.dispatcher.queue").map(String::as_str)) {
            Ok(p) => p,
            Err(e) => return refuse(&e),
        };
        // Priority descending, then submission date ascending (Spark 3.1's queue).
        let at =
            self.queued.iter().position(|(p, d)| *p < priority || (*p == priority && d.submit_date > desc.submit_date));
        self.queued.insert(at.unwrap_or(self.queued.len()), (priority, desc));
        self.persist();
        // `addDriverToQueue` → `revive()`: the dispatcher may have declined every agent for 120 s.
        ctx.revive();
        create_response(true, Some(id), None)
    }

    /// `killDriver`.
    pub fn kill<T>(&mut self, id: &str, ctx: &mut Context<'_, T>) -> KillSubmissionResponse {
        let answer = |success: bool, message: &str| kill_response(id, success, message);
        if !self.ready {
            return answer(false, "Scheduler is not ready to take requests");
        }
        if let Some(l) = self.launched.get(id) {
            ctx.kill(&TaskId { value: l.task_id.clone() }, Some(&l.agent_id));
            return answer(true, "Killing running driver");
        }
        if let Some(i) = self.queued.iter().position(|(_, d)| d.submission_id == id) {
            self.queued.remove(i);
            self.persist();
            return answer(true, "Removed driver while it's still pending");
        }
        if let Some(i) = self.pending_retry.iter().position(|d| d.submission_id == id) {
            self.pending_retry.remove(i);
            self.persist();
            return answer(true, "Removed driver while it's being retried");
        }
        if self.finished.iter().any(|d| d.desc.submission_id == id) {
            return answer(false, "Driver already terminated");
        }
        answer(false, "Cannot find driver")
    }

    /// `getDriverStatus`.
    pub fn status(&self, id: &str) -> SubmissionStatusResponse {
        let answer = |success: bool, state: &str, status: Option<&TaskStatus>| SubmissionStatusResponse {
            action: "SubmissionStatusResponse".into(),
            server_spark_version: SPARK_VERSION.into(),
            submission_id: id.to_string(),
            success: Some(success),
            driver_state: Some(state.to_string()),
            message: status.map(describe_status),
            ..Default::default()
        };
        if !self.ready {
            return SubmissionStatusResponse {
                driver_state: None,
                message: Some("Scheduler is not ready to take requests".into()),
                ..answer(false, "", None)
            };
        }
        if self.queued.iter().any(|(_, d)| d.submission_id == id) {
            return answer(true, "QUEUED", None);
        }
        if let Some(l) = self.launched.get(id) {
            return answer(true, "RUNNING", l.status.as_ref());
        }
        if let Some(l) = self.finished.iter().find(|d| d.desc.submission_id == id) {
            return answer(true, "FINISHED", l.status.as_ref());
        }
        if let Some(d) = self.pending_retry.iter().find(|d| d.submission_id == id) {
            return answer(true, "RETRYING", d.retry.as_ref().map(|r| &r.last_failure));
        }
        answer(false, "NOT_FOUND", None)
    }

    /// `scheduleTasks`: each candidate takes the first offer it fits.
    fn schedule(
        &mut self,
        candidates: Vec<DriverDescription>,
        offers: &mut [(Offer, Vec<Resource>, Vec<TaskInfo>)],
        now: SimTime,
        ctx_notes: &mut Vec<String>,
    ) -> Vec<String> {
        let fw = self.framework_id.clone().unwrap_or_default();
        let mut taken = Vec::new();
        for desc in candidates {
            let wanted = desc.conf.get("spark.mesos.driver.constraints").map_or("", String::as_str);
            let wanted = constraints::parse(wanted).unwrap_or_default();
            let fits = offers.iter().position(|(o, rest, _)| {
                let r = mesocosm_sim::proto::Resources::from_protos(rest);
                r.scalar("cpus") >= desc.cores
                    && r.scalar("mem") >= desc.mem as f64
                    && constraints::matches(&wanted, &o.attributes).unwrap_or(false)
            });
            let Some(i) = fits else {
                ctx_notes.push(format!(
                    "Unable to find offer to launch driver id: {}, cpu: {}, mem: {}",
                    desc.submission_id, desc.cores, desc.mem
                ));
                continue;
            };
            let (offer, rest, tasks) = &mut offers[i];
            taken.push(desc.submission_id.clone());
            match command::task_info(&self.conf, &desc, &fw, &offer.agent_id, rest) {
                Ok((task, left)) => {
                    *rest = left;
                    let state = LaunchedDriver {
                        task_id: task.task_id.value.clone(),
                        agent_id: offer.agent_id.clone(),
                        desc,
                        status: None,
                        start: now,
                        finish: None,
                    };
                    tasks.push(task);
                    self.launched.insert(state.desc.submission_id.clone(), state);
                }
                Err(e) => {
                    // A SparkException while building the task: the driver is finished.
                    ctx_notes.push(format!("Failed to launch the driver with id: {}: {e}", desc.submission_id));
                    let id = desc.submission_id.clone();
                    self.retire(LaunchedDriver {
                        task_id: id,
                        agent_id: AgentId::default(),
                        desc,
                        status: None,
                        start: now,
                        finish: Some(now),
                    });
                }
            }
        }
        taken
    }

    /// `retireDriver`: into the finished list, capped at `retainedDrivers`.
    fn retire(&mut self, state: LaunchedDriver) {
        if self.finished.len() >= self.conf.retained_drivers {
            let drop = (self.conf.retained_drivers / 10).max(1).min(self.finished.len());
            self.finished.drain(..drop);
        }
        self.finished.push(state);
    }

    /// `MesosRestServer`: a REST request's answer (the servlets' checks, then
    /// the scheduler's), or `None` for a message that is not one.
    pub fn serve<T>(&mut self, msg: Msg, ctx: &mut Context<'_, T>) -> Option<Answer> {
        Some(match msg {
            Msg::CreateSubmissionRequest(req) => {
                // `buildDriverDescription`'s SubmitRestMissingFieldExceptions, which the
                // servlet answers "Malformed request: …" with HTTP 400.
                if req.app_resource.is_empty() {
                    Answer::Error(error_response("Malformed request: Application jar is missing."))
                } else if req.main_class.is_empty() {
                    Answer::Error(error_response("Malformed request: Main class is missing."))
                } else {
                    Answer::Create(self.submit(&req, ctx))
                }
            }
            // `parseSubmissionId`: the path's last segment; none is an ErrorResponse.
            Msg::KillSubmissionRequest(r) if r.submission_id.is_empty() => {
                Answer::Error(error_response("Submission ID is missing in kill request."))
            }
            Msg::KillSubmissionRequest(r) => Answer::Kill(self.kill(&r.submission_id, ctx)),
            Msg::SubmissionStatusRequest(r) if r.submission_id.is_empty() => {
                Answer::Error(error_response("Submission ID is missing in status request."))
            }
            Msg::SubmissionStatusRequest(r) => Answer::Status(Box::new(self.status(&r.submission_id))),
            _ => return None,
        })
    }
}

/// A task status as the REST server prints it (its protobuf text's gist).
fn describe_status(s: &TaskStatus) -> String {
    let mut text = format!("task_id {{ value: \"{}\" }} state: {}", s.task_id.value, s.state().as_str_name());
    if let Some(m) = &s.message {
        text.push_str(&format!(" message: \"{m}\""));
    }
    text
}

/// `mesosToTaskState` then `TaskState.isFinished`: FINISHED, FAILED, KILLED,
/// and everything Spark maps to LOST.
fn is_finished(state: TaskState) -> bool {
    !matches!(state, TaskState::TaskStaging | TaskState::TaskStarting | TaskState::TaskRunning | TaskState::TaskKilling)
}

impl Scheduler for ClusterScheduler {
    type Timer = ();

    /// `registered`: persist a new framework id, take requests, and reconcile
    /// the drivers recovered from the persistence engine.
    fn subscribed(&mut self, ctx: &mut Context<'_, ()>, framework_id: &FrameworkId) {
        if self.framework_id.as_deref() != Some(&framework_id.value) {
            self.framework_id = Some(framework_id.value.clone());
            self.persist();
        }
        self.ready = true;
        if !self.pending_recover.is_empty() {
            // The last status known for each, else STAGING on the agent it was launched on.
            let tasks: Vec<(TaskId, Option<AgentId>)> =
                self.pending_recover.iter().map(|(t, a)| (TaskId { value: t.clone() }, Some(a.clone()))).collect();
            ctx.reconcile(tasks);
        }
    }

    /// `resourceOffers`: retries that are due first, then the queue; every
    /// unused offer declined for `spark.mesos.rejectOfferDuration`.
    fn offers(&mut self, ctx: &mut Context<'_, ()>, offers: Vec<Offer>) {
        let now = ctx.now();
        let mut book: Vec<(Offer, Vec<Resource>, Vec<TaskInfo>)> =
            offers.into_iter().map(|o| (o.clone(), o.resources.clone(), Vec::new())).collect();
        let mut notes = Vec::new();
        // `nextRetry.before(currentTime)`: strictly before.
        let due: Vec<DriverDescription> = self
            .pending_retry
            .iter()
            .filter(|d| d.retry.as_ref().is_some_and(|r| r.next_retry < now))
            .cloned()
            .collect();
        for id in self.schedule(due, &mut book, now, &mut notes) {
            self.pending_retry.retain(|d| d.submission_id != id);
        }
        let queued: Vec<DriverDescription> = self.queued.iter().map(|(_, d)| d.clone()).collect();
        for id in self.schedule(queued, &mut book, now, &mut notes) {
            self.queued.retain(|(_, d)| d.submission_id != id);
        }
        for n in notes {
            ctx.note(n);
        }
        let refuse = self.conf.reject_offer_duration.as_secs_f64();
        for (offer, _, tasks) in book {
            if tasks.is_empty() {
                ctx.decline(&offer, Some(refuse));
            } else {
                ctx.accept(&offer, tasks);
            }
        }
        self.persist();
    }

    /// `statusUpdate`: supervise, retire, or ignore an outdated status.
    fn update(&mut self, ctx: &mut Context<'_, ()>, status: &TaskStatus) {
        let task = status.task_id.value.clone();
        let sub = submission_of(&task).to_string();
        let Some(state) = self.launched.get(&sub).cloned() else {
            ctx.note(format!("Unable to find driver with {task} in status update"));
            return;
        };
        let reconciliation = status.reason == Some(task_status::Reason::Reconciliation as i32);
        if reconciliation && !self.pending_recover.contains_key(&task) {
            // Already updated since the recovery: no longer needs reconciling.
            return;
        }
        self.pending_recover.remove(&task);
        let relaunch = matches!(status.state(), TaskState::TaskFailed | TaskState::TaskLost);
        if state.desc.supervise && relaunch {
            if task != state.task_id {
                // SPARK-27347: a status of an older attempt must not relaunch the current one.
                ctx.note(format!("Ignoring outdated status of {task}: the driver runs as {}", state.task_id));
                return;
            }
            self.launched.remove(&sub);
            let (retries, wait) = state
                .desc
                .retry
                .as_ref()
                .map_or((1, 1), |r| (r.retries + 1, (r.wait_secs * 2).min(self.conf.retry_wait_max_secs)));
            let mut desc = state.desc.clone();
            let next_retry = ctx.now().after(Duration::from_secs(wait));
            desc.retry = Some(RetryState { last_failure: status.clone(), retries, next_retry, wait_secs: wait });
            ctx.note(format!("supervised driver {sub} relaunches as {} after {wait}s", task_id(&desc)));
            self.pending_retry.push(desc);
            self.persist();
            ctx.revive();
            return;
        }
        if let Some(l) = self.launched.get_mut(&sub) {
            l.status = Some(status.clone());
        }
        if is_finished(status.state())
            && let Some(mut l) = self.launched.remove(&sub)
        {
            l.finish = Some(ctx.now());
            self.retire(l);
            self.persist();
        }
    }

    /// A REST request on port 7077: answered to its client at once, whether
    /// or not the dispatcher is registered (before, Spark answers "Scheduler
    /// is not ready to take requests").
    fn message(&mut self, ctx: &mut Context<'_, ()>, from: &ActorId, msg: Msg) {
        let kind = msg.kind();
        let Some(answer) = self.serve(msg, ctx) else {
            ctx.note(format!("{kind} from {from} is no REST request: ignored"));
            return;
        };
        ctx.send(from, answer.to_msg());
        self.answers.push((ctx.now(), from.clone(), answer));
    }

    /// A submission is in one place only: queued, launched or waiting to retry.
    fn check_invariants(&self) -> Result<(), String> {
        for (_, d) in &self.queued {
            if self.launched.contains_key(&d.submission_id) {
                return Err(format!("{} is both queued and launched", d.submission_id));
            }
        }
        for d in &self.pending_retry {
            if self.launched.contains_key(&d.submission_id)
                || self.queued.iter().any(|(_, q)| q.submission_id == d.submission_id)
            {
                return Err(format!("{} waits to retry and is queued or launched", d.submission_id));
            }
        }
        Ok(())
    }
}
