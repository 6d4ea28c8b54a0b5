//! Marathon's scheduler core: keep every app's `instances` tasks running.
//!
//! A [`Scheduler`] for [`MesosSchedulerDriver`](mesocosm_scheduler::MesosSchedulerDriver),
//! so SUBSCRIBE retries, re-subscription with the FrameworkID and
//! acknowledgements are libmesos's, as they are for the real Marathon
//! (`MarathonSchedulerDriver.scala` wraps libmesos's driver). What it does:
//!
//! ```text
//!  SUBSCRIBED ── RECONCILE (explicit: the tasks it knows; then implicit), again every 10 min
//!  OFFERS ────── ACCEPT: LAUNCH the scheduled instances that fit (≤ 5 per offer), constraints honoured
//!           └─── DECLINE refuse 120 s (--decline_offer_duration)
//!  UPDATE ────── FAILED/ERROR/DROPPED/GONE/FINISHED: delay the app (backoff × factor, capped), reschedule
//!           ├─── KILLED/UNKNOWN: reschedule without a new delay
//!           ├─── UNREACHABLE: after inactiveAfterSeconds a replacement, after expungeAfterSeconds forget it
//!           └─── a task it does not know, not terminal: KILL it
//!  nothing scheduled ── SUPPRESS; an instance scheduled or a delay over ── REVIVE
//! ```
//!
//! It never exits on its own: Marathon is a long-running service.

use super::app::{AppDefinition, Constraint, Operator, UnreachableStrategy};
use super::task::{Placement, task_info};
use mesocosm_scheduler::{Context, Scheduler, offered};
use mesocosm_sim::SimTime;
use mesocosm_sim::proto::Resources;
use mesocosm_sim::proto::v1::{AgentId, FrameworkId, Offer, TaskId, TaskInfo, TaskState, TaskStatus, value};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// `--decline_offer_duration` default: 120 s (`OfferProcessorConfig.scala`).
pub const DECLINE_OFFER_DURATION: f64 = 120.0;

/// `--max_instances_per_offer` default: 5 (`OfferMatcherManagerConfig.scala`).
pub const MAX_INSTANCES_PER_OFFER: usize = 5;

/// `--reconciliation_interval` default: 600 s (`MarathonConf.scala`).
pub const RECONCILIATION_INTERVAL: Duration = Duration::from_secs(600);

/// Marathon's timers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MarathonTimer {
    /// Periodic reconciliation.
    Reconcile,
    /// App `app`'s launch delay may be over: REVIVE if it has instances to launch.
    DelayOver { app: usize },
    /// An unreachable instance's `inactiveAfterSeconds` is up.
    Inactive { instance: String, incarnation: u32 },
    /// An unreachable instance's `expungeAfterSeconds` is up.
    Expunge { instance: String, incarnation: u32 },
}

/// The rate limiter's delay of one app (`RateLimiter.Delay`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Delay {
    /// When it was last set or advanced.
    pub reference: SimTime,
    pub current: Duration,
}

/// Where an instance stands.
#[derive(Clone, Debug, PartialEq)]
pub enum InstanceState {
    /// Waiting for an offer (and for the app's delay).
    Scheduled,
    /// Its task was launched; `state` is the last one heard.
    Launched { task: Placed, state: TaskState },
    /// Unreachable past `inactiveAfterSeconds`: a replacement was scheduled; kept until expunged.
    Inactive { task: Placed },
}

/// A launched task's identity and place.
#[derive(Clone, Debug, PartialEq)]
pub struct Placed {
    pub task_id: String,
    pub agent_id: AgentId,
    pub hostname: String,
    /// The agent's attributes as text (`rack` → `r1`), for constraints.
    pub attributes: BTreeMap<String, String>,
    pub launched_at: SimTime,
}

/// One instance of an app.
#[derive(Clone, Debug, PartialEq)]
pub struct Instance {
    pub app: usize,
    /// `<app>.instance-<uuid>`.
    pub id: String,
    /// How often it was launched (the task id's last part).
    pub incarnation: u32,
    pub state: InstanceState,
}

/// What Marathon keeps in ZooKeeper: its instances and the launch delays
/// (`InstanceRepository`, and the rate limiter's state a new leader reloads).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Snapshot {
    pub instances: Vec<Instance>,
    pub delays: BTreeMap<usize, Delay>,
    pub created: u64,
}

/// The stand-in for Marathon's ZooKeeper state, shared by the incarnations of one run.
pub type Store = Arc<Mutex<Option<Snapshot>>>;

/// The scheduler: the apps, their instances and delays.
#[derive(Debug)]
pub struct Marathon {
    apps: Vec<Arc<AppDefinition>>,
    instances: Vec<Instance>,
    delays: BTreeMap<usize, Delay>,
    /// Instances created so far, for their ids.
    created: u64,
    /// SUPPRESS was sent and no REVIVE since.
    suppressed: bool,
    /// Makes instance ids (with `created`).
    seed: String,
    /// Where every change is written, as Marathon writes ZooKeeper.
    store: Option<Store>,
}

impl Marathon {
    /// Marathon running `apps`, each scaled to its `instances`; `seed`
    /// makes the instance UUIDs (derived, never drawn).
    pub fn new(apps: Vec<Arc<AppDefinition>>, seed: &str) -> Marathon {
        let mut m = Marathon {
            apps,
            instances: Vec::new(),
            delays: BTreeMap::new(),
            created: 0,
            suppressed: false,
            seed: seed.to_string(),
            store: None,
        };
        for a in 0..m.apps.len() {
            for _ in 0..m.apps[a].instances {
                m.schedule_new(a);
            }
        }
        m
    }

    /// Keep state in `store`: start from what it holds (a restarted or newly
    /// elected Marathon reads ZooKeeper), and write every change back.
    pub fn with_store(mut self, store: Store) -> Marathon {
        let saved = store.lock().unwrap_or_else(|e| e.into_inner()).clone();
        if let Some(s) = saved {
            self.instances = s.instances;
            self.delays = s.delays;
            self.created = s.created;
        }
        self.store = Some(store);
        self.persist();
        self
    }

    fn persist(&self) {
        if let Some(store) = &self.store {
            let snapshot =
                Snapshot { instances: self.instances.clone(), delays: self.delays.clone(), created: self.created };
            *store.lock().unwrap_or_else(|e| e.into_inner()) = Some(snapshot);
        }
    }

    /// Every instance, in creation order.
    pub fn instances(&self) -> &[Instance] {
        &self.instances
    }

    /// The delay of app `app`, if any.
    pub fn delay(&self, app: usize) -> Option<Delay> {
        self.delays.get(&app).copied()
    }

    fn schedule_new(&mut self, app: usize) {
        self.created += 1;
        let uuid = mesocosm_sim::ids::uuid_from(&[
            b"marathon-instance",
            self.seed.as_bytes(),
            self.apps[app].id.as_bytes(),
            &self.created.to_be_bytes(),
        ]);
        let id = format!("{}.instance-{}", self.apps[app].safe_id(), mesocosm_sim::ids::uuid_string(&uuid));
        self.instances.push(Instance { app, id, incarnation: 0, state: InstanceState::Scheduled });
    }

    /// When app `app` may launch again (`RateLimiter.getDelay`); overdue
    /// delays count as gone, as the periodic `cleanUpOverdueDelays` removes them.
    fn launch_allowed_at(&self, app: usize, now: SimTime) -> SimTime {
        match self.live_delay(app, now) {
            Some(d) => d.reference.after(d.current),
            None => now,
        }
    }

    /// The app's delay unless it is overdue: `now > reference + maxLaunchDelay`
    /// (`RateLimiter.cleanUpOverdueDelays`): the reset after a healthy run.
    fn live_delay(&self, app: usize, now: SimTime) -> Option<Delay> {
        let max = self.apps[app].backoff.max_launch_delay;
        self.delays.get(&app).copied().filter(|d| now <= d.reference.after(max))
    }

    /// `RateLimiter.addDelay`: the first failure waits `backoffSeconds`,
    /// each further one the last delay × `backoffFactor`, at most `maxLaunchDelaySeconds`.
    fn add_delay(&mut self, app: usize, ctx: &mut Context<'_, MarathonTimer>) {
        let now = ctx.now();
        let b = self.apps[app].backoff;
        let current = match self.live_delay(app, now) {
            Some(d) => d.current.mul_f64(b.factor).min(b.max_launch_delay),
            None => b.initial.min(b.max_launch_delay),
        };
        self.delays.insert(app, Delay { reference: now, current });
        ctx.note(format!("Marathon: app {} delayed {:?} (backoff)", self.apps[app].id, current));
        if !current.is_zero() {
            ctx.set_timer(current, MarathonTimer::DelayOver { app });
        }
    }

    /// `RateLimiter.advanceDelay`: a task of the app staged or runs; the
    /// delay's clock restarts, so it is forgotten `maxLaunchDelaySeconds` later.
    fn advance_delay(&mut self, app: usize, now: SimTime) {
        if let Some(d) = self.delays.get_mut(&app) {
            d.reference = now;
        }
    }

    /// Whether an instance waits for offers now: scheduled, and its app's
    /// delay over (a delayed app does not want offers, `ReviveOffersActor`).
    fn wants_offers(&self, now: SimTime) -> bool {
        self.instances.iter().any(|i| i.state == InstanceState::Scheduled && self.launch_allowed_at(i.app, now) <= now)
    }

    /// REVIVE when something waits for offers and we had suppressed (or a
    /// delay just ended: its agents may sit behind 120 s decline filters),
    /// SUPPRESS when nothing does (`ReviveOffersActor`).
    fn revive_or_suppress(&mut self, ctx: &mut Context<'_, MarathonTimer>, force_revive: bool) {
        let wants = self.wants_offers(ctx.now());
        if wants && (self.suppressed || force_revive) {
            self.suppressed = false;
            ctx.revive();
        } else if !wants && !self.suppressed {
            self.suppressed = true;
            ctx.suppress();
        }
    }

    fn find_task(&self, task_id: &str) -> Option<usize> {
        self.instances.iter().position(|i| match &i.state {
            InstanceState::Launched { task, .. } | InstanceState::Inactive { task } => task.task_id == task_id,
            InstanceState::Scheduled => false,
        })
    }

    /// Whether `agent` (hostname, attributes) satisfies `c` given the
    /// app's other instances `placed` (`mesosphere/mesos/Constraints.scala`).
    fn meets(c: &Constraint, hostname: &str, attrs: &BTreeMap<String, String>, placed: &[&Placed]) -> bool {
        let value_of = |h: &str, a: &BTreeMap<String, String>| -> Option<String> {
            if c.field == "hostname" { Some(h.to_string()) } else { a.get(&c.field).cloned() }
        };
        let mine = value_of(hostname, attrs);
        let others: Vec<Option<String>> = placed.iter().map(|p| value_of(&p.hostname, &p.attributes)).collect();
        let same = others.iter().filter(|o| **o == mine && mine.is_some()).count();
        match &c.op {
            Operator::Unique => mine.is_some() && same == 0,
            Operator::Cluster(Some(v)) | Operator::Is(v) => mine.as_deref() == Some(v.as_str()),
            // Without a value: the first instance picks it, the others follow.
            Operator::Cluster(None) => mine.is_some() && others.iter().all(|o| *o == mine),
            Operator::Like(_, re) => mine.is_some_and(|m| re.is_match(&m)),
            // An agent without the attribute is unlike anything.
            Operator::Unlike(_, re) => !mine.is_some_and(|m| re.is_match(&m)),
            Operator::MaxPer(n) => mine.is_some() && same < *n as usize,
            // Even spread (`checkGroupBy`): a value not used yet is fine; a
            // used one only if it is among the least used and at least the
            // hinted number of values is in use already.
            Operator::GroupBy(hint) => {
                let Some(m) = mine else { return false };
                let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
                for o in others.iter().flatten() {
                    *counts.entry(o.as_str()).or_default() += 1;
                }
                let least = counts.values().copied().min().unwrap_or(0);
                counts.get(m.as_str()).is_none_or(|&n| n == least && counts.len() >= hint.unwrap_or(0) as usize)
            }
        }
    }

    /// Answer one offer: launch what fits, else decline for 120 s.
    fn answer(&mut self, ctx: &mut Context<'_, MarathonTimer>, offer: &Offer) {
        let now = ctx.now();
        let mut left = offered(offer);
        let attrs = attribute_texts(offer);
        let mut launch: Vec<TaskInfo> = Vec::new();
        for i in 0..self.instances.len() {
            if launch.len() >= MAX_INSTANCES_PER_OFFER {
                break;
            }
            let app_ix = self.instances[i].app;
            if self.instances[i].state != InstanceState::Scheduled || self.launch_allowed_at(app_ix, now) > now {
                continue;
            }
            let app = self.apps[app_ix].clone();
            let mut need = Resources::scalar_of("cpus", app.cpus);
            need.add_scalar("mem", app.mem);
            if app.disk > 0.0 {
                need.add_scalar("disk", app.disk);
            }
            if !left.contains(&need) {
                continue;
            }
            let Some(ports) = pick_ports(left.ranges("ports"), &app.host_ports()) else { continue };
            let placed: Vec<&Placed> = self
                .instances
                .iter()
                .filter(|o| o.app == app_ix)
                .filter_map(|o| match &o.state {
                    InstanceState::Launched { task, state } if !state.is_terminal() => Some(task),
                    _ => None,
                })
                .collect();
            if !app.constraints.iter().all(|c| Self::meets(c, &offer.hostname, &attrs, &placed)) {
                continue;
            }
            for &p in &ports {
                need.add_range("ports", p as u64, p as u64);
            }
            left.subtract(&need);
            let inst = &mut self.instances[i];
            inst.incarnation += 1;
            let task_id = format!("{}._app.{}", inst.id, inst.incarnation);
            let placement = Placement { task_id: &task_id, offer, resources: &need, host_ports: &ports };
            launch.push(task_info(&app, &placement));
            inst.state = InstanceState::Launched {
                task: Placed {
                    task_id,
                    agent_id: offer.agent_id.clone(),
                    hostname: offer.hostname.clone(),
                    attributes: attrs.clone(),
                    launched_at: now,
                },
                state: TaskState::TaskStaging,
            };
        }
        if launch.is_empty() {
            ctx.decline(offer, Some(DECLINE_OFFER_DURATION));
        } else {
            ctx.note(format!("Marathon: launch {} task(s) on {}", launch.len(), offer.hostname));
            ctx.accept(offer, launch);
        }
    }

    /// The instance at `i` is done with its task: schedule it again
    /// (delayed first if `limit`), and ask for offers.
    fn reschedule(&mut self, i: usize, limit: bool, ctx: &mut Context<'_, MarathonTimer>) {
        let app = self.instances[i].app;
        self.instances[i].state = InstanceState::Scheduled;
        if limit {
            self.add_delay(app, ctx);
        }
        self.revive_or_suppress(ctx, true);
    }
}

/// The offer's attributes as text: a text attribute's value, a scalar's number.
fn attribute_texts(offer: &Offer) -> BTreeMap<String, String> {
    offer
        .attributes
        .iter()
        .filter_map(|a| {
            let v = match a.r#type() {
                value::Type::Text => a.text.as_ref().map(|t| t.value.clone()),
                value::Type::Scalar => a.scalar.as_ref().map(|s| s.value.to_string()),
                _ => None,
            }?;
            Some((a.name.clone(), v))
        })
        .collect()
}

/// Host ports for `wanted` (0: any) from the offer's `ranges`, lowest first;
/// `None` if they do not fit (`PortsMatcher`).
fn pick_ports(ranges: &[(u64, u64)], wanted: &[u32]) -> Option<Vec<u32>> {
    let free =
        |p: u64, taken: &[u32]| ranges.iter().any(|&(b, e)| (b..=e).contains(&p)) && !taken.contains(&(p as u32));
    let mut out: Vec<u32> = Vec::new();
    for &w in wanted.iter().filter(|w| **w != 0) {
        if !free(w as u64, &out) {
            return None;
        }
        out.push(w);
    }
    let mut result = Vec::new();
    for &w in wanted {
        if w != 0 {
            result.push(w);
            continue;
        }
        let p = ranges.iter().flat_map(|&(b, e)| b..=e).find(|&p| free(p, &out))?;
        out.push(p as u32);
        result.push(p as u32);
    }
    Some(result)
}

impl Scheduler for Marathon {
    type Timer = MarathonTimer;

    /// (Re-)subscribed: reconcile what it knows, explicitly then implicitly
    /// (`SchedulerActions.reconcileTasks`), and say whether it wants offers.
    fn subscribed(&mut self, ctx: &mut Context<'_, MarathonTimer>, framework_id: &FrameworkId) {
        ctx.note(format!("Marathon registered as framework {}", framework_id.value));
        self.reconcile(ctx);
        ctx.set_timer(RECONCILIATION_INTERVAL, MarathonTimer::Reconcile);
        self.suppressed = false;
        self.revive_or_suppress(ctx, false);
        self.persist();
    }

    fn offers(&mut self, ctx: &mut Context<'_, MarathonTimer>, offers: Vec<Offer>) {
        for o in &offers {
            self.answer(ctx, o);
        }
        self.revive_or_suppress(ctx, false);
        self.persist();
    }

    fn update(&mut self, ctx: &mut Context<'_, MarathonTimer>, status: &TaskStatus) {
        self.on_update(ctx, status);
        self.persist();
    }

    fn timer(&mut self, ctx: &mut Context<'_, MarathonTimer>, timer: MarathonTimer) {
        self.on_timer(ctx, timer);
        self.persist();
    }

    fn check_invariants(&self) -> Result<(), String> {
        for (a, app) in self.apps.iter().enumerate() {
            let active = self
                .instances
                .iter()
                .filter(|i| i.app == a && !matches!(i.state, InstanceState::Inactive { .. }))
                .count();
            if active != app.instances as usize {
                return Err(format!("app {} has {active} active instances, not {}", app.id, app.instances));
            }
        }
        Ok(())
    }
}

impl Marathon {
    fn on_update(&mut self, ctx: &mut Context<'_, MarathonTimer>, status: &TaskStatus) {
        let now = ctx.now();
        let state = status.state();
        let Some(i) = self.find_task(&status.task_id.value) else {
            // `TaskStatusUpdateProcessorImpl`: a task Marathon does not know
            // (expunged, or from before a restart) is killed unless it is done.
            if !state.is_terminal() && state != TaskState::TaskUnknown {
                ctx.note(format!("Marathon: kill unknown task {}", status.task_id.value));
                ctx.kill(&status.task_id, status.agent_id.as_ref());
            }
            return;
        };
        let app = self.instances[i].app;
        let inst = &mut self.instances[i];
        match (&mut inst.state, state) {
            (InstanceState::Inactive { task }, TaskState::TaskRunning) => {
                // It came back after its replacement was launched: one too
                // many; Marathon's scale check kills the surplus.
                let task_id = TaskId { value: task.task_id.clone() };
                let agent = task.agent_id.clone();
                ctx.note(format!("Marathon: {} is back but was replaced; kill it", task_id.value));
                ctx.kill(&task_id, Some(&agent));
            }
            (InstanceState::Inactive { .. }, s) if s.is_terminal() || s == TaskState::TaskUnknown => {
                self.instances.remove(i);
            }
            (InstanceState::Inactive { .. }, _) => {}
            (InstanceState::Launched { state: last, task }, s) => {
                *last = s;
                let (task_id, incarnation) = (task.task_id.clone(), inst.incarnation);
                let id = inst.id.clone();
                match s {
                    TaskState::TaskStaging | TaskState::TaskStarting | TaskState::TaskRunning => {
                        self.advance_delay(app, now)
                    }
                    // NotifyRateLimiterStep.limitWorthy: Failed, Error, Dropped, Gone, Finished.
                    TaskState::TaskFailed
                    | TaskState::TaskError
                    | TaskState::TaskDropped
                    | TaskState::TaskGone
                    | TaskState::TaskGoneByOperator
                    | TaskState::TaskFinished
                    | TaskState::TaskLost => {
                        ctx.note(format!("Marathon: {task_id} {}; relaunch after the app's delay", s.as_str_name()));
                        self.reschedule(i, true, ctx);
                    }
                    // Killed (not by Marathon) or unknown to Mesos: relaunch, no new delay.
                    TaskState::TaskKilled | TaskState::TaskUnknown => {
                        ctx.note(format!("Marathon: {task_id} {}; relaunch", s.as_str_name()));
                        self.reschedule(i, false, ctx);
                    }
                    TaskState::TaskUnreachable => match self.apps[app].unreachable {
                        UnreachableStrategy::Disabled => {
                            ctx.note(format!("Marathon: {task_id} unreachable; unreachableStrategy disabled: wait"))
                        }
                        UnreachableStrategy::Enabled { inactive_after, expunge_after } => {
                            ctx.set_timer(
                                inactive_after,
                                MarathonTimer::Inactive { instance: id.clone(), incarnation },
                            );
                            ctx.set_timer(expunge_after, MarathonTimer::Expunge { instance: id, incarnation });
                        }
                    },
                    TaskState::TaskKilling => {}
                }
            }
            (InstanceState::Scheduled, _) => {}
        }
    }

    fn on_timer(&mut self, ctx: &mut Context<'_, MarathonTimer>, timer: MarathonTimer) {
        let now = ctx.now();
        match timer {
            MarathonTimer::Reconcile => {
                self.reconcile(ctx);
                ctx.set_timer(RECONCILIATION_INTERVAL, MarathonTimer::Reconcile);
            }
            MarathonTimer::DelayOver { app } => {
                let waiting = self.instances.iter().any(|i| i.app == app && i.state == InstanceState::Scheduled);
                if waiting && self.launch_allowed_at(app, now) <= now {
                    self.revive_or_suppress(ctx, true);
                }
            }
            MarathonTimer::Inactive { instance, incarnation } => {
                let Some(i) = self.instances.iter().position(|x| x.id == instance && x.incarnation == incarnation)
                else {
                    return;
                };
                if let InstanceState::Launched { task, state: TaskState::TaskUnreachable } = &self.instances[i].state {
                    let task = task.clone();
                    ctx.note(format!(
                        "Marathon: {} unreachable past inactiveAfterSeconds; launch a replacement",
                        task.task_id
                    ));
                    self.instances[i].state = InstanceState::Inactive { task };
                    let app = self.instances[i].app;
                    self.schedule_new(app);
                    self.revive_or_suppress(ctx, true);
                }
            }
            MarathonTimer::Expunge { instance, incarnation } => {
                let Some(i) = self.instances.iter().position(|x| x.id == instance && x.incarnation == incarnation)
                else {
                    return;
                };
                let unreachable = matches!(
                    &self.instances[i].state,
                    InstanceState::Inactive { .. } | InstanceState::Launched { state: TaskState::TaskUnreachable, .. }
                );
                if unreachable {
                    let was_launched = matches!(self.instances[i].state, InstanceState::Launched { .. });
                    let app = self.instances[i].app;
                    ctx.note(format!("Marathon: expunge unreachable instance {instance}"));
                    self.instances.remove(i);
                    // Expunged before it went inactive (expunge ≤ inactive can
                    // only be equal): its replacement is still owed.
                    if was_launched {
                        self.schedule_new(app);
                        self.revive_or_suppress(ctx, true);
                    }
                }
            }
        }
    }

    /// Explicit reconciliation of every task it knows, then implicit.
    fn reconcile(&mut self, ctx: &mut Context<'_, MarathonTimer>) {
        let known: Vec<(TaskId, Option<AgentId>)> = self
            .instances
            .iter()
            .filter_map(|i| match &i.state {
                InstanceState::Launched { task, .. } | InstanceState::Inactive { task } => {
                    Some((TaskId { value: task.task_id.clone() }, Some(task.agent_id.clone())))
                }
                InstanceState::Scheduled => None,
            })
            .collect();
        if !known.is_empty() {
            ctx.reconcile(known);
        }
        ctx.reconcile(Vec::new());
    }
}
