//! `sleep-tasks`: a framework that launches `tasks` command tasks running
//! `sleep <duration>` with Mesos's command executor, acknowledges every status
//! update, and exits 0 once all of them finished.
//!
//! ```toml
//! [[frameworks]]
//! kind = "sleep-tasks"
//! name = "batch"           # the scheduler is actor `scheduler:batch`
//! at = "5s"                # optional, default 0
//! count = 2                # optional: batch-1, batch-2
//! [frameworks.config]      # all optional
//! tasks = 4                # how many tasks (1 to 10000; default 1)
//! cpus = 1.0               # per task (default 1)
//! mem = 128                # MiB per task (default 128)
//! duration = "10s"         # each task's `sleep` (default "1s")
//! failover_timeout = "1m"  # FrameworkInfo.failover_timeout (default 0, Mesos's: removed as soon as it disconnects)
//! ```
//!
//! What it does, in scheduler API calls:
//!
//! ```text
//!  Start ──SUBSCRIBE (again every 2 s until SUBSCRIBED)──▶ master
//!  OFFERS ──ACCEPT(LAUNCH tasks that fit) / DECLINE(refuse 5 s)──▶ master
//!  UPDATE ──ACKNOWLEDGE──▶ master; a task that ends other than FINISHED is launched again
//!  every task FINISHED ──TEARDOWN──▶ master; exit 0
//! ```
//!
//! A task that fails [`MAX_ATTEMPTS`] times makes the framework give up (exit 1).

use crate::cluster::plugin::{FrameworkPlugin, FrameworkSpec, PluginConfig};
use crate::cluster::{Framework, FrameworkCtx, Process};
use mesocosm_sim::proto::Resources;
use mesocosm_sim::proto::mesos::v1::{
    CommandInfo, Filters, FrameworkId, FrameworkInfo, Offer, OfferId, TaskId, TaskInfo, TaskState, offer,
};
use mesocosm_sim::proto::scheduler::{Call, call, event};
use mesocosm_sim::{Actor, ActorId, Input, Msg, Outbox};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// How often a task is launched before the framework gives up. Why 4: the
/// number of attempts Spark allows a task (`spark.task.maxFailures`' default,
/// `TaskSetManager`), the retry budget a Mesos framework user knows best.
pub const MAX_ATTEMPTS: u32 = 4;

/// Why 2 s: libmesos's scheduler driver retries registration after a backoff
/// starting at `DEFAULT_REGISTRATION_BACKOFF_FACTOR` = 2 s (src/sched/constants.cpp).
const SUBSCRIBE_RETRY: Duration = Duration::from_secs(2);

/// Why 5 s: a DECLINE without filters refuses the resources for
/// `Filters.refuse_seconds`' default of 5 s (include/mesos/v1/mesos.proto).
const DECLINE_REFUSE_SECONDS: f64 = 5.0;

/// What each instance does.
#[derive(Clone, Debug, PartialEq)]
pub struct SleepTasksSpec {
    pub tasks: u32,
    pub cpus: f64,
    pub mem: f64,
    pub duration: Duration,
    /// `FrameworkInfo.failover_timeout`: how long the master keeps the
    /// framework after its scheduler disconnects.
    pub failover_timeout: Duration,
}

/// The `sleep-tasks` kind.
pub struct SleepTasksPlugin;

impl FrameworkPlugin for SleepTasksPlugin {
    fn parse(&self, c: &mut PluginConfig) -> Option<Arc<dyn FrameworkSpec>> {
        let spec = SleepTasksSpec {
            tasks: c.u64("tasks", 1, 1..=10_000) as u32,
            cpus: c.f64("cpus", 1.0, 0.01..=1024.0),
            mem: c.f64("mem", 128.0, 1.0..=1_048_576.0),
            duration: c.duration("duration", Duration::from_secs(1)),
            failover_timeout: c.duration("failover_timeout", Duration::ZERO),
        };
        Some(Arc::new(spec))
    }
}

impl FrameworkSpec for SleepTasksSpec {
    fn framework(&self, _name: &str) -> Box<dyn Framework> {
        Box::new(self.clone())
    }
}

impl Framework for SleepTasksSpec {
    /// A restarted scheduler is a new framework: it starts its tasks over.
    fn start(&mut self, ctx: &FrameworkCtx<'_>) -> Process {
        Process::new(SleepTasks::new(ctx.name, ctx.master.clone(), self.clone()))
    }
}

/// The scheduler's timers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SleepTimer {
    /// SUBSCRIBE again if still not subscribed.
    Subscribe,
}

/// The scheduler core.
pub struct SleepTasks {
    name: String,
    master: ActorId,
    spec: SleepTasksSpec,
    framework_id: Option<FrameworkId>,
    subscribed: bool,
    /// Task index → (attempts so far, state of the current attempt; None: waiting for an offer).
    tasks: BTreeMap<u32, (u32, Option<TaskState>)>,
}

impl SleepTasks {
    /// A scheduler named `name` (its FrameworkInfo.name) that subscribes with `master`.
    pub fn new(name: &str, master: ActorId, spec: SleepTasksSpec) -> SleepTasks {
        let tasks = (0..spec.tasks).map(|i| (i, (0, None))).collect();
        SleepTasks { name: name.to_string(), master, spec, framework_id: None, subscribed: false, tasks }
    }

    fn call(&self, t: call::Type) -> Call {
        Call { framework_id: self.framework_id.clone(), r#type: Some(t as i32), ..Default::default() }
    }

    fn subscribe(&self, out: &mut Outbox<SleepTimer>) {
        let mut c = self.call(call::Type::Subscribe);
        c.subscribe = Some(call::Subscribe {
            framework_info: FrameworkInfo {
                user: "root".into(),
                name: self.name.clone(),
                id: self.framework_id.clone(),
                failover_timeout: Some(self.spec.failover_timeout.as_secs_f64()),
                ..Default::default()
            },
            suppressed_roles: vec![],
        });
        out.send(&self.master, c);
        out.set_timer(SUBSCRIBE_RETRY, SleepTimer::Subscribe);
    }

    /// Launch on `offer` every waiting task that fits in it.
    fn answer(&mut self, o: Offer, out: &mut Outbox<SleepTimer>) {
        let mut left = Resources::from_protos(&o.resources);
        let mut need = Resources::scalar_of("cpus", self.spec.cpus);
        need.add_scalar("mem", self.spec.mem);
        let mut launch = Vec::new();
        for (i, (attempts, state)) in self.tasks.iter_mut() {
            if state.is_some() || !left.contains(&need) {
                continue;
            }
            left.subtract(&need);
            *attempts += 1;
            *state = Some(TaskState::TaskStaging);
            launch.push(TaskInfo {
                name: format!("{} task {i}", self.name),
                task_id: TaskId { value: format!("{i}-{attempts}") },
                agent_id: o.agent_id.clone(),
                resources: need.to_protos(),
                command: Some(CommandInfo {
                    value: Some(format!("sleep {}", self.spec.duration.as_secs_f64())),
                    shell: Some(true),
                    ..Default::default()
                }),
                ..Default::default()
            });
        }
        let ids = vec![OfferId { value: o.id.value.clone() }];
        let c = if launch.is_empty() {
            let mut c = self.call(call::Type::Decline);
            c.decline = Some(call::Decline {
                offer_ids: ids,
                filters: Some(Filters { refuse_seconds: Some(DECLINE_REFUSE_SECONDS) }),
            });
            c
        } else {
            out.note_with(|| format!("launch {} task(s) on {}", launch.len(), o.hostname));
            let mut c = self.call(call::Type::Accept);
            c.accept = Some(call::Accept {
                offer_ids: ids,
                operations: vec![offer::Operation {
                    r#type: Some(offer::operation::Type::Launch as i32),
                    launch: Some(offer::operation::Launch { task_infos: launch }),
                    ..Default::default()
                }],
                filters: None,
            });
            c
        };
        out.send(&self.master, c);
    }

    /// Record a status update, acknowledge it, and finish when every task has.
    fn update(&mut self, status: mesocosm_sim::proto::mesos::v1::TaskStatus, out: &mut Outbox<SleepTimer>) {
        if let (Some(uuid), Some(agent_id)) = (status.uuid.clone(), status.agent_id.clone()) {
            let mut c = self.call(call::Type::Acknowledge);
            c.acknowledge = Some(call::Acknowledge { agent_id, task_id: status.task_id.clone(), uuid });
            out.send(&self.master, c);
        }
        let Some((index, attempt)) = parse_task_id(&status.task_id.value) else { return };
        let state = status.state();
        let Some((attempts, current)) = self.tasks.get_mut(&index) else { return };
        // An update of an earlier attempt says nothing about this one.
        if attempt != *attempts || *current == Some(TaskState::TaskFinished) {
            return;
        }
        *current = Some(state);
        if state.is_terminal() && state != TaskState::TaskFinished {
            if *attempts >= MAX_ATTEMPTS {
                out.note(format!("task {index} ended {} {MAX_ATTEMPTS} times; giving up", state.as_str_name()));
                self.teardown(1, out);
                return;
            }
            // Launch it again on a later offer.
            *current = None;
        }
        if self.tasks.values().all(|(_, s)| *s == Some(TaskState::TaskFinished)) {
            self.teardown(0, out);
        }
    }

    fn teardown(&self, status: i32, out: &mut Outbox<SleepTimer>) {
        out.send(&self.master, self.call(call::Type::Teardown));
        out.exit(status);
    }
}

/// `<index>-<attempt>`.
fn parse_task_id(id: &str) -> Option<(u32, u32)> {
    let (i, a) = id.split_once('-')?;
    Some((i.parse().ok()?, a.parse().ok()?))
}

impl Actor for SleepTasks {
    type Timer = SleepTimer;

    fn handle(&mut self, input: Input<SleepTimer>, out: &mut Outbox<SleepTimer>) {
        match input {
            Input::Start => self.subscribe(out),
            Input::Timer(SleepTimer::Subscribe) if !self.subscribed => self.subscribe(out),
            // The master failed over or the connection broke: subscribe again
            // with the framework id, as libmesos does on a new leader.
            Input::Disconnected { peer } if peer == self.master => {
                self.subscribed = false;
                self.subscribe(out);
            }
            Input::Message { msg: Msg::SchedulerEvent(e), .. } => match e.r#type() {
                event::Type::Subscribed => {
                    self.subscribed = true;
                    self.framework_id = e.subscribed.map(|s| s.framework_id);
                }
                event::Type::Offers => {
                    for o in e.offers.map(|o| o.offers).unwrap_or_default() {
                        self.answer(o, out);
                    }
                }
                event::Type::Update => {
                    if let Some(u) = e.update {
                        self.update(u.status, out);
                    }
                }
                // The master refused the framework (e.g. removed it): a
                // scheduler told ERROR aborts.
                event::Type::Error => out.exit(1),
                _ => {}
            },
            _ => {}
        }
    }

    fn check_invariants(&self) -> Result<(), String> {
        match self.tasks.values().find(|(attempts, _)| *attempts > MAX_ATTEMPTS) {
            Some((a, _)) => Err(format!("a task was launched {a} times, more than {MAX_ATTEMPTS}")),
            None => Ok(()),
        }
    }
}
