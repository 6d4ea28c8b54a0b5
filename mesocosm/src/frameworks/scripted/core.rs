//! The scripted scheduler's core: a plain state machine over the v1
//! scheduler API. Every input is one event from the master, a timer it set
//! (arrivals, held offers, reconciliation, kills, teardown, re-SUBSCRIBE), or
//! the stream breaking; every output is a Call, a timer, a note that says why,
//! or the exit. Randomness (task durations, failures, backoff waits) comes only
//! from the seeded generator it was built with.

use super::spec::{OfferPolicy, ScriptedSpec, Teardown};
use mesocosm_sim::msg::short_id;
use mesocosm_sim::proto::Resources;
use mesocosm_sim::proto::mesos::v1::framework_info::Capability;
use mesocosm_sim::proto::mesos::v1::framework_info::capability::Type as CapabilityType;
use mesocosm_sim::proto::mesos::v1::{
    AgentId, CommandInfo, Filters, FrameworkId, FrameworkInfo, Offer, OfferId, TaskId, TaskInfo, TaskState, TaskStatus,
    offer,
};
use mesocosm_sim::proto::scheduler::{Call, call, event};
use mesocosm_sim::{Actor, ActorId, Input, Msg, Outbox, SimTime};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

/// The scheduler's timers. Timers are never cancelled: each one re-checks
/// whether it still applies when it fires.
#[derive(Clone, Debug, PartialEq)]
pub enum ScriptedTimer {
    /// SUBSCRIBE (again) if still not subscribed; the number is the attempt
    /// it belongs to, so a stale one does nothing.
    Subscribe(u32),
    /// Arrival `wave` of work group `group`.
    Arrive {
        group: usize,
        wave: u32,
    },
    /// Answer an offer held for the think time.
    Answer(Box<Offer>),
    ImplicitReconcile,
    ExplicitReconcile,
    /// The `i`th scripted KILL.
    Kill(usize),
    Teardown,
}

/// One task the framework launched (or will launch).
#[derive(Clone, Debug, PartialEq)]
struct TaskRec {
    group: usize,
    /// Launches so far under this id and its predecessors.
    attempt: u32,
    /// The latest state the master told (None: not launched yet).
    state: Option<TaskState>,
    agent: Option<AgentId>,
    /// A replacement was launched for it (it may still come back).
    replaced: bool,
}

/// The scripted scheduler.
pub struct Scripted {
    name: String,
    master: ActorId,
    spec: Arc<ScriptedSpec>,
    rng: ChaCha8Rng,
    framework_id: Option<FrameworkId>,
    subscribed: bool,
    /// SUBSCRIBE attempts since the last SUBSCRIBED (the backoff's exponent).
    attempt: u32,
    suppressed: bool,
    /// It refused resources with a filter since its last REVIVE.
    filtered: bool,
    started: SimTime,
    /// Task id → its record, in id order.
    tasks: BTreeMap<String, TaskRec>,
    /// Task ids waiting for an offer, in arrival order.
    pending: Vec<String>,
    /// Per group: the next task number and how many arrivals came.
    next: Vec<(u32, u32)>,
    /// The offers it holds for the think time.
    held: BTreeSet<String>,
    /// It continues a predecessor's checkpoint.
    recovered: bool,
}

/// A scheduler's checkpoint (see [`Scripted::checkpoint`]).
#[derive(Clone, Debug, PartialEq)]
pub struct Checkpoint {
    started: SimTime,
    tasks: BTreeMap<String, TaskRec>,
    pending: Vec<String>,
    next: Vec<(u32, u32)>,
}

impl Scripted {
    /// A scheduler whose FrameworkInfo.name is `name`, subscribing with
    /// `master`; `framework_id` is the id to subscribe with (a failover).
    pub fn new(
        name: &str,
        master: ActorId,
        spec: Arc<ScriptedSpec>,
        rng: ChaCha8Rng,
        framework_id: Option<FrameworkId>,
    ) -> Scripted {
        let next = vec![(0, 0); spec.work.len()];
        Scripted {
            name: name.to_string(),
            master,
            spec,
            rng,
            framework_id,
            subscribed: false,
            attempt: 0,
            suppressed: false,
            filtered: false,
            started: SimTime::ZERO,
            tasks: BTreeMap::new(),
            pending: Vec::new(),
            next,
            held: BTreeSet::new(),
            recovered: false,
        }
    }

    fn call(&self, t: call::Type) -> Call {
        Call { framework_id: self.framework_id.clone(), r#type: Some(t as i32), ..Default::default() }
    }

    fn info(&self) -> FrameworkInfo {
        let i = &self.spec.info;
        let multi = i.capabilities.contains(&CapabilityType::MultiRole);
        #[allow(deprecated)] // FrameworkInfo.role: what a framework without MULTI_ROLE sets.
        FrameworkInfo {
            user: i.user.clone(),
            name: self.name.clone(),
            id: self.framework_id.clone(),
            failover_timeout: Some(i.failover_timeout.as_secs_f64()),
            checkpoint: Some(i.checkpoint),
            principal: i.principal.clone(),
            role: if multi { None } else { i.roles.first().cloned() },
            roles: if multi { i.roles.clone() } else { vec![] },
            capabilities: i.capabilities.iter().map(|c| Capability { r#type: Some(*c as i32) }).collect(),
            ..Default::default()
        }
    }

    fn subscribe(&mut self, out: &mut Outbox<ScriptedTimer>) {
        let mut c = self.call(call::Type::Subscribe);
        c.subscribe = Some(call::Subscribe { framework_info: self.info(), suppressed_roles: vec![] });
        out.send(&self.master, c);
        self.attempt += 1;
        // No SUBSCRIBED within the wait: try again, as libmesos retries
        // registration (src/sched/sched.cpp `doReliableRegistration`).
        let wait = self.backoff();
        out.set_timer(wait, ScriptedTimer::Subscribe(self.attempt));
    }

    /// The wait before the next SUBSCRIBE: drawn from [0, b], b doubling from
    /// `initial` per attempt up to `max` (libmesos's registration backoff,
    /// src/sched/sched.cpp; the HTTP API asks schedulers to back off the same
    /// way, docs/scheduler-http-api.md "Disconnections").
    fn backoff(&mut self) -> Duration {
        let b = &self.spec.resubscribe;
        let shift = self.attempt.saturating_sub(1).min(20);
        let bound = b.initial.saturating_mul(1 << shift).min(b.max);
        let micros = bound.as_micros() as u64;
        Duration::from_micros(if micros == 0 {
            0
        } else {
            ((u128::from(self.rng.next_u64()) * (u128::from(micros) + 1)) >> 64) as u64
        })
    }

    fn at(&self, d: Duration) -> SimTime {
        self.started.after(d)
    }

    /// What a restarted scheduler recovers from its predecessor: the tasks
    /// it launched or still had to launch, and its script's clock.
    pub fn checkpoint(&self) -> Checkpoint {
        Checkpoint {
            started: self.started,
            tasks: self.tasks.clone(),
            pending: self.pending.clone(),
            next: self.next.clone(),
        }
    }

    /// Continue from `c` instead of starting the script over (see
    /// [`super::ScriptedFramework`] for when).
    pub fn recover(&mut self, c: Checkpoint) {
        self.started = c.started;
        self.tasks = c.tasks;
        self.pending = c.pending;
        self.next = c.next;
        self.recovered = true;
    }

    fn start(&mut self, out: &mut Outbox<ScriptedTimer>) {
        if self.recovered {
            return self.restart(out);
        }
        self.started = out.now();
        if let Some(of) = &self.spec.failover_of {
            match &self.framework_id {
                Some(id) => out.note(format!(
                    "subscribing with framework {}'s FrameworkID {}: a second scheduler instance takes over (failover)",
                    of,
                    short_id(&id.value)
                )),
                None => out.note(format!("framework {of} has no FrameworkID yet: subscribing as a new framework")),
            }
        }
        self.subscribe(out);
        for (g, w) in self.spec.work.iter().enumerate() {
            out.set_timer_at(self.at(w.at), ScriptedTimer::Arrive { group: g, wave: 0 });
        }
        for (i, (at, _)) in self.spec.kills.iter().enumerate() {
            out.set_timer_at(self.at(*at), ScriptedTimer::Kill(i));
        }
        if let Some(e) = self.spec.reconcile.implicit_every {
            out.set_timer(e, ScriptedTimer::ImplicitReconcile);
        }
        if let Some(e) = self.spec.reconcile.explicit_every {
            out.set_timer(e, ScriptedTimer::ExplicitReconcile);
        }
        if let Teardown::At(t) = self.spec.teardown {
            out.set_timer_at(self.at(t), ScriptedTimer::Teardown);
        }
    }

    /// A restarted scheduler that recovered its checkpoint: re-SUBSCRIBE with
    /// its FrameworkID and set only the timers still ahead of the script.
    fn restart(&mut self, out: &mut Outbox<ScriptedTimer>) {
        let now = out.now();
        out.note(format!(
            "recovered {} task(s) ({} pending) from its checkpoint: re-subscribing as the same framework",
            self.tasks.len(),
            self.pending.len()
        ));
        self.subscribe(out);
        for (g, w) in self.spec.work.iter().enumerate() {
            let wave = self.next[g].1;
            if wave < w.times {
                let at = self.at(w.at + w.every * wave).max(now);
                out.set_timer_at(at, ScriptedTimer::Arrive { group: g, wave });
            }
        }
        for (i, (at, _)) in self.spec.kills.iter().enumerate() {
            if self.at(*at) > now {
                out.set_timer_at(self.at(*at), ScriptedTimer::Kill(i));
            }
        }
        if let Some(e) = self.spec.reconcile.implicit_every {
            out.set_timer(e, ScriptedTimer::ImplicitReconcile);
        }
        if let Some(e) = self.spec.reconcile.explicit_every {
            out.set_timer(e, ScriptedTimer::ExplicitReconcile);
        }
        if let Teardown::At(t) = self.spec.teardown {
            out.set_timer_at(self.at(t).max(now), ScriptedTimer::Teardown);
        }
    }

    fn subscribed(&mut self, id: FrameworkId, out: &mut Outbox<ScriptedTimer>) {
        self.subscribed = true;
        self.attempt = 0;
        self.framework_id = Some(id);
        // The master's suppression does not survive a new subscription; say
        // again what we want (a scheduler re-sends SUPPRESS after SUBSCRIBED).
        self.suppressed = false;
        self.filtered = false;
        if self.spec.suppress && self.pending.is_empty() {
            self.suppress(out, "nothing is pending yet");
        }
        // Reconcile on every (re-)subscription: a master failover or a
        // scheduler failover may have changed any task's state unseen
        // (docs/reconciliation.md asks frameworks to reconcile then).
        if self.spec.reconcile.explicit_every.is_some() {
            self.reconcile(true, out);
        }
        self.finish_if_done(out);
    }

    fn suppress(&mut self, out: &mut Outbox<ScriptedTimer>, why: &str) {
        self.suppressed = true;
        out.note(format!(
            "SUPPRESS: {why}; an idle framework suppresses so the master stops offering it \
             resources it would only decline (Mesos: SUPPRESS, revived by REVIVE)"
        ));
        out.send(&self.master, self.call(call::Type::Suppress));
    }

    fn arrive(&mut self, group: usize, wave: u32, out: &mut Outbox<ScriptedTimer>) {
        let w = &self.spec.work[group];
        let (first, arrived) = self.next[group];
        if wave != arrived {
            return;
        }
        for n in first..first + w.tasks {
            let id = format!("{}-{n}", w.name);
            self.tasks.insert(id.clone(), TaskRec { group, attempt: 0, state: None, agent: None, replaced: false });
            self.pending.push(id);
        }
        self.next[group] = (first + w.tasks, arrived + 1);
        out.note(format!("work `{}` arrives: {} task(s) pending", w.name, w.tasks));
        if arrived + 1 < w.times {
            out.set_timer(w.every, ScriptedTimer::Arrive { group, wave: wave + 1 });
        }
        self.revive_if_suppressed(out);
    }

    /// REVIVE when work is pending and offers may be held back: by its
    /// SUPPRESS, or by the refusal filters of its declines (REVIVE clears
    /// both, Mesos `HierarchicalAllocatorProcess::reviveOffers`; Spark's
    /// backend revives on new tasks for the same reason).
    fn revive_if_suppressed(&mut self, out: &mut Outbox<ScriptedTimer>) {
        if (self.suppressed || self.filtered) && self.subscribed && !self.pending.is_empty() {
            let why = if self.suppressed { "lifts its suppression and clears" } else { "clears" };
            out.note(format!(
                "REVIVE: work is pending again; REVIVE {why} every refusal filter, so offers come at the next allocation"
            ));
            self.suppressed = false;
            self.filtered = false;
            out.send(&self.master, self.call(call::Type::Revive));
        }
    }

    fn offer(&mut self, o: Offer, out: &mut Outbox<ScriptedTimer>) {
        match &self.spec.offers {
            OfferPolicy::Ignore => out.note(format!(
                "ignoring offer {} from {}: it stays outstanding until the master rescinds it \
                 (--offer_timeout) or the framework leaves",
                short_id(&o.id.value),
                o.hostname
            )),
            OfferPolicy::Launch { think, .. } if !think.is_zero() => {
                out.note(format!(
                    "holding offer {} from {} for {:?} (think time)",
                    short_id(&o.id.value),
                    o.hostname,
                    think
                ));
                self.held.insert(o.id.value.clone());
                out.set_timer(*think, ScriptedTimer::Answer(Box::new(o)));
            }
            OfferPolicy::Launch { .. } => self.answer(o, out),
        }
    }

    /// Launch on `o` the pending tasks that fit, or decline it.
    fn answer(&mut self, o: Offer, out: &mut Outbox<ScriptedTimer>) {
        let OfferPolicy::Launch { max_per_offer, refuse_seconds, .. } = self.spec.offers else { return };
        let mut left = Resources::from_protos(&o.resources);
        let mut launch = Vec::new();
        let mut keep = Vec::new();
        for id in std::mem::take(&mut self.pending) {
            let group = self.tasks[&id].group;
            let need = &self.spec.work[group].resources;
            if max_per_offer.is_some_and(|m| launch.len() as u32 >= m) || !left.contains(need) {
                keep.push(id);
                continue;
            }
            left.subtract(need);
            launch.push(self.task_info(&id, &o));
        }
        self.pending = keep;
        let ids = vec![OfferId { value: o.id.value.clone() }];
        // Why one filter for both: an ACCEPT's unused resources are declined
        // with the ACCEPT's filters (Mesos `Master::accept`), so the script's
        // refuse_seconds covers "decline the rest" as well as a whole DECLINE.
        let filters = Some(Filters { refuse_seconds: Some(refuse_seconds) });
        self.filtered |= refuse_seconds > 0.0;
        if launch.is_empty() {
            out.note(format!(
                "DECLINE offer {} from {} with refuse_seconds = {refuse_seconds}: {}",
                short_id(&o.id.value),
                o.hostname,
                if self.pending.is_empty() { "nothing is pending" } else { "no pending task fits" }
            ));
            let mut c = self.call(call::Type::Decline);
            c.decline = Some(call::Decline { offer_ids: ids, filters });
            out.send(&self.master, c);
        } else {
            out.note(format!(
                "ACCEPT offer {} from {}: LAUNCH {} task(s) ({}), the rest refused for {refuse_seconds} s",
                short_id(&o.id.value),
                o.hostname,
                launch.len(),
                launch.iter().map(|t| t.task_id.value.as_str()).collect::<Vec<_>>().join(", ")
            ));
            let mut c = self.call(call::Type::Accept);
            c.accept = Some(call::Accept {
                offer_ids: ids,
                operations: vec![offer::Operation {
                    r#type: Some(offer::operation::Type::Launch as i32),
                    launch: Some(offer::operation::Launch { task_infos: launch }),
                    ..Default::default()
                }],
                filters,
            });
            out.send(&self.master, c);
        }
        if self.spec.suppress && self.pending.is_empty() && !self.suppressed {
            self.suppress(out, "every task is launched");
        }
    }

    /// The TaskInfo of `id` on offer `o`: Mesos's command executor runs
    /// `sleep <d>; exit <status>`, whose status is the task's end.
    fn task_info(&mut self, id: &str, o: &Offer) -> TaskInfo {
        let rec = self.tasks.get_mut(id).expect("pending tasks are recorded");
        rec.attempt += 1;
        rec.state = Some(TaskState::TaskStaging);
        rec.agent = Some(o.agent_id.clone());
        let w = &self.spec.work[rec.group];
        let d = w.duration.sample(&mut self.rng);
        let fails =
            w.fail_probability > 0.0 && ((self.rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64) < w.fail_probability;
        let status = if fails { 1 } else { w.exit };
        TaskInfo {
            name: format!("{} {id}", self.name),
            task_id: TaskId { value: id.to_string() },
            agent_id: o.agent_id.clone(),
            resources: w.resources.to_protos(),
            command: Some(CommandInfo {
                value: Some(format!("sleep {}; exit {status}", d.as_secs_f64())),
                shell: Some(true),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn update(&mut self, status: TaskStatus, out: &mut Outbox<ScriptedTimer>) {
        // Only an update with a uuid is acknowledged: one without (the
        // master's reconciliation answers) must not be (scheduler.proto ACKNOWLEDGE).
        if let (Some(uuid), Some(agent_id)) = (status.uuid.clone(), status.agent_id.clone()) {
            let mut c = self.call(call::Type::Acknowledge);
            c.acknowledge = Some(call::Acknowledge { agent_id, task_id: status.task_id.clone(), uuid });
            out.send(&self.master, c);
        }
        let id = status.task_id.value.clone();
        let state = status.state();
        let Some(rec) = self.tasks.get_mut(&id) else {
            out.note(format!("{id} is not a task of this framework: {} noted", state.as_str_name()));
            return;
        };
        let before = rec.state;
        rec.state = Some(state);
        if status.agent_id.is_some() {
            rec.agent = status.agent_id.clone();
        }
        if before.is_some_and(TaskState::is_terminal) {
            out.note(format!(
                "{id} is {} after {}: Mesos ≥ 1.5 keeps a task of a re-registered agent running, even \
                 one reported lost",
                state.as_str_name(),
                before.map_or("", |s| s.as_str_name())
            ));
        }
        let retry = &self.spec.retry;
        let ended = state.is_terminal() || state == TaskState::TaskUnreachable;
        if ended && state != TaskState::TaskFinished && !rec.replaced && retry.on.contains(&state) {
            if rec.attempt > retry.max {
                out.note(format!("{id} is {}: no retries left (max {})", state.as_str_name(), retry.max));
            } else {
                let again = if retry.same_id {
                    rec.state = None;
                    id.clone()
                } else {
                    rec.replaced = true;
                    let base = id.split('.').next().unwrap_or(&id).to_string();
                    let next = format!("{base}.{}", rec.attempt + 1);
                    let copy = TaskRec { state: None, replaced: false, ..rec.clone() };
                    self.tasks.insert(next.clone(), copy);
                    next
                };
                out.note(format!(
                    "{id} is {}: launching it again as {again} (retry {} of {})",
                    state.as_str_name(),
                    self.tasks[&again].attempt,
                    retry.max
                ));
                self.pending.push(again);
                self.revive_if_suppressed(out);
            }
        }
        self.finish_if_done(out);
    }

    /// Whether every arrival came and every task is settled for good.
    fn done(&self) -> bool {
        let arrived = self.spec.work.iter().zip(&self.next).all(|(w, (_, n))| *n >= w.times);
        arrived
            && self.pending.is_empty()
            && self.tasks.values().all(|t| t.replaced || t.state.is_some_and(TaskState::is_terminal))
    }

    fn finish_if_done(&mut self, out: &mut Outbox<ScriptedTimer>) {
        if self.spec.teardown == Teardown::WhenDone && self.subscribed && self.done() {
            self.teardown(out, "every task has ended");
        }
    }

    fn teardown(&mut self, out: &mut Outbox<ScriptedTimer>, why: &str) {
        out.note(format!("TEARDOWN: {why}; the master kills its remaining tasks and removes the framework for good"));
        out.send(&self.master, self.call(call::Type::Teardown));
        out.exit(0);
    }

    fn reconcile(&mut self, explicit: bool, out: &mut Outbox<ScriptedTimer>) {
        let mut c = self.call(call::Type::Reconcile);
        let mut tasks = Vec::new();
        if explicit {
            for (id, t) in &self.tasks {
                if t.state.is_some_and(|s| !s.is_terminal()) {
                    tasks.push(call::reconcile::Task {
                        task_id: TaskId { value: id.clone() },
                        agent_id: t.agent.clone(),
                    });
                }
            }
            for id in &self.spec.reconcile.tasks {
                if !self.tasks.contains_key(id) {
                    tasks.push(call::reconcile::Task { task_id: TaskId { value: id.clone() }, agent_id: None });
                }
            }
            if tasks.is_empty() {
                return;
            }
            out.note(format!(
                "RECONCILE (explicit) of {} task(s): the master answers each with its latest state, \
                 or TASK_LOST/UNKNOWN for one it does not know",
                tasks.len()
            ));
        } else {
            out.note("RECONCILE (implicit, no tasks): the master answers with every task it knows of this framework");
        }
        c.reconcile = Some(call::Reconcile { tasks });
        out.send(&self.master, c);
    }

    fn kill(&mut self, i: usize, out: &mut Outbox<ScriptedTimer>) {
        let id = self.spec.kills[i].1.clone();
        let agent_id = self.tasks.get(&id).and_then(|t| t.agent.clone());
        out.note(format!(
            "KILL {id}{}",
            if self.tasks.contains_key(&id) { "" } else { ": not a task it launched (the master reconciles it)" }
        ));
        let mut c = self.call(call::Type::Kill);
        c.kill = Some(call::Kill { task_id: TaskId { value: id }, agent_id, kill_policy: None });
        out.send(&self.master, c);
    }

    fn event(&mut self, e: mesocosm_sim::proto::scheduler::Event, out: &mut Outbox<ScriptedTimer>) {
        match e.r#type() {
            event::Type::Subscribed => {
                if let Some(s) = e.subscribed {
                    self.subscribed(s.framework_id, out);
                }
            }
            event::Type::Offers => {
                for o in e.offers.map(|o| o.offers).unwrap_or_default() {
                    self.offer(o, out);
                }
            }
            event::Type::Update => {
                if let Some(u) = e.update {
                    self.update(u.status, out);
                }
            }
            event::Type::Rescind => {
                let Some(r) = e.rescind else { return };
                if self.spec.ignore_rescind {
                    if self.held.contains(&r.offer_id.value) {
                        out.note(format!(
                            "RESCIND of held offer {} not read (ignore_rescind): it will still ACCEPT it",
                            short_id(&r.offer_id.value)
                        ));
                    }
                } else if self.held.remove(&r.offer_id.value) {
                    // An offer is valid until rescinded; using it after would
                    // be refused (TASK_LOST, REASON_INVALID_OFFERS).
                    out.note(format!("RESCIND: drops held offer {}", short_id(&r.offer_id.value)));
                }
            }
            event::Type::Error => {
                let message = e.error.map(|er| er.message).unwrap_or_default();
                // A scheduler told ERROR aborts (scheduler.proto: the master
                // has closed its subscription). "Framework failed over" means
                // another instance holds the FrameworkID now: this one's work
                // is that instance's, so it leaves cleanly.
                let status = if message == "Framework failed over" { 0 } else { 1 };
                out.note(format!("ERROR \"{message}\": this scheduler aborts (exit {status})"));
                out.exit(status);
            }
            _ => {}
        }
    }
}

impl Actor for Scripted {
    type Timer = ScriptedTimer;

    fn handle(&mut self, input: Input<ScriptedTimer>, out: &mut Outbox<ScriptedTimer>) {
        match input {
            Input::Start => self.start(out),
            Input::Timer(t) => match t {
                ScriptedTimer::Subscribe(n) if !self.subscribed && n == self.attempt => self.subscribe(out),
                ScriptedTimer::Subscribe(_) => {}
                ScriptedTimer::Arrive { group, wave } => self.arrive(group, wave, out),
                ScriptedTimer::Answer(o) if self.subscribed && self.held.remove(&o.id.value) => self.answer(*o, out),
                ScriptedTimer::Answer(_) => {}
                ScriptedTimer::ImplicitReconcile | ScriptedTimer::ExplicitReconcile => {
                    let explicit = t == ScriptedTimer::ExplicitReconcile;
                    if self.subscribed {
                        self.reconcile(explicit, out);
                    }
                    let every =
                        if explicit { self.spec.reconcile.explicit_every } else { self.spec.reconcile.implicit_every };
                    if let Some(e) = every {
                        out.set_timer(e, t);
                    }
                }
                ScriptedTimer::Kill(i) => self.kill(i, out),
                ScriptedTimer::Teardown => self.teardown(out, "the script says so"),
            },
            // The stream broke (the master failed over, or the connection):
            // re-SUBSCRIBE with the FrameworkID after a backoff wait. The v1
            // scheduler library reports the disconnection and leaves the
            // re-SUBSCRIBE to the scheduler (src/scheduler/scheduler.cpp).
            // Before SUBSCRIBED the retry timer is already running: a SUBSCRIBE
            // that reached no master changes nothing (libmesos keeps retrying).
            Input::Disconnected { peer } if peer == self.master && !self.subscribed => {
                out.note("the connection broke before SUBSCRIBED: the SUBSCRIBE retries go on");
            }
            Input::Disconnected { peer } if peer == self.master => {
                self.subscribed = false;
                self.attempt = 0;
                let wait = self.backoff();
                out.note(format!("the subscription broke: SUBSCRIBE again in {wait:?} (backoff)"));
                out.set_timer(wait, ScriptedTimer::Subscribe(0));
            }
            Input::Message { msg: Msg::SchedulerEvent(e), .. } => self.event(*e, out),
            _ => {}
        }
    }

    fn check_invariants(&self) -> Result<(), String> {
        let max = self.spec.retry.max + 1;
        match self.tasks.iter().find(|(_, t)| t.attempt > max) {
            Some((id, t)) => Err(format!("{id} was launched {} times, more than 1 + {} retries", t.attempt, max - 1)),
            None => Ok(()),
        }
    }
}
