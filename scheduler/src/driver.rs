//! [`MesosSchedulerDriver`]: a framework's connection to the master, as an actor.
//!
//! What libmesos does for a framework (`src/sched/sched.cpp`), in mesocosm's
//! deterministic form:
//!
//! ```text
//!          SUBSCRIBE, retried after 2, 4, 8 … 60 s                Disconnected{master}: disconnected()
//!  Start ──▶ registering ──── SUBSCRIBED: subscribed() ────▶ connected ─────────────────────────────┐
//!              ▲   └── ERROR: error(), then aborted (no events, no calls)                          │
//!              └────────────── after 2 s, SUBSCRIBE with the framework id ─────────────────────────┘
//! ```
//!
//! - While not connected, OFFERS, RESCIND, UPDATE and FAILURE are dropped
//!   ("Ignoring … because the driver is disconnected!"; the agent re-sends an
//!   unacknowledged update) and so are the callbacks' calls. A LAUNCH dropped
//!   that way comes back to the scheduler as TASK_LOST "Master disconnected", as
//!   `SchedulerProcess::acceptOffers` reports it, so the framework does not wait
//!   for a task the master never heard of.
//! - Every UPDATE that carries a uuid is acknowledged after `update()` returns
//!   (implicit acknowledgements, the default of `MesosSchedulerDriver`); one
//!   without (a reconciliation answer, libmesos's own TASK_LOST) needs none.
//! - HEARTBEAT events are consumed here; a broken connection reaches the driver
//!   as `Input::Disconnected`.
//!
//! # Finding the master
//!
//! The driver is given libmesos's `--master` as a [`MasterUrl`]: a fixed
//! master, or `zk://…/mesos`, where it embeds the master detector
//! ([`Detection`]) and follows the leader as `SchedulerProcess::detected` does:
//!
//! ```text
//!   new leader ──▶ connected: disconnected(); then SUBSCRIBE at once (with the
//!                  FrameworkID once it has one: the framework fails over to the
//!                  new master), retried with the backoff above
//!   no leader ───▶ connected: disconnected(); no SUBSCRIBE until one is detected
//!   an event from a master that is not the leader ──▶ ignored, with a note
//! ```

use crate::Scheduler;
use crate::context::{Context, Exit};
use crate::detection::{Detection, MasterUrl};
use mesocosm_sim::proto::scheduler::{Call, Event, call, event};
use mesocosm_sim::proto::v1::{FrameworkId, FrameworkInfo, TaskState, TaskStatus, offer, task_status};
use mesocosm_sim::{Actor, ActorId, Input, Msg, Outbox};
use std::collections::VecDeque;
use std::time::Duration;

/// The first bound of the SUBSCRIBE retry backoff (libmesos's
/// `--registration_backoff_factor` default, `src/sched/constants.hpp`).
///
/// Why the bound itself: libmesos waits a random time in `[0, bound]`; cores
/// draw no randomness, so mesocosm waits the bound: 2, 4, 8, 16, 32, 60, 60 … s.
pub const REGISTRATION_BACKOFF_FACTOR: Duration = Duration::from_secs(2);

/// The cap of the SUBSCRIBE retry backoff (`REGISTRATION_RETRY_INTERVAL_MAX`, 1 min).
pub const REGISTRATION_RETRY_INTERVAL_MAX: Duration = Duration::from_secs(60);

/// The TASK_LOST updates libmesos hands its scheduler for the tasks of a call
/// it drops while disconnected: `SchedulerProcess::acceptOffers`
/// (`src/sched/sched.cpp`) answers each task of a LAUNCH it cannot send with
/// TASK_LOST, source MASTER, reason MASTER_DISCONNECTED, "Master disconnected",
/// with no agent id and no uuid (nothing to acknowledge), so that a framework
/// does not wait for tasks the master never heard of. Other calls drop silently.
pub fn lost_with_unsent_call(call: &Call) -> Vec<TaskStatus> {
    let launches = call
        .accept
        .iter()
        .flat_map(|a| &a.operations)
        .filter(|op| op.r#type() == offer::operation::Type::Launch)
        .filter_map(|op| op.launch.as_ref());
    launches
        .flat_map(|l| &l.task_infos)
        .map(|t| TaskStatus {
            task_id: t.task_id.clone(),
            state: TaskState::TaskLost as i32,
            message: Some("Master disconnected".into()),
            source: Some(task_status::Source::Master as i32),
            reason: Some(task_status::Reason::MasterDisconnected as i32),
            ..Default::default()
        })
        .collect()
}

/// The driver's timers: its own, and the scheduler's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DriverTimer<T> {
    /// Retry SUBSCRIBE unless registration `round` has ended.
    Registration { round: u32 },
    /// A timer the scheduler set.
    Scheduler(T),
    /// The ZooKeeper master detector's periodic check.
    ZooKeeper,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Created,
    Registering,
    Connected,
    /// ERROR arrived: libmesos's `abort()`; nothing more is delivered or sent.
    Aborted,
    Exited,
}

/// A [`Scheduler`] speaking the v1 scheduler API to the master its
/// [`MasterUrl`] names (or to the leader detected through it).
///
/// Give it to the cluster as the framework's actor. On a restart the cluster
/// builds a new one; pass the old framework id with
/// [`with_framework_id`](Self::with_framework_id) to fail over to the same
/// framework (within its `failover_timeout`), or leave it out to register anew.
#[derive(Debug)]
pub struct MesosSchedulerDriver<S> {
    scheduler: S,
    /// The fixed master, or the detector and the leader it names.
    detection: Detection,
    info: FrameworkInfo,
    state: State,
    /// Bumped at every (re-)registration and disconnection, so stale retry timers are ignored.
    round: u32,
    backoff: Duration,
}

impl<S: Scheduler> MesosSchedulerDriver<S> {
    /// A driver that will register `info` with the master at `master` (a
    /// master's actor, or a ZooKeeper group to detect the leader in) and run
    /// `scheduler`.
    pub fn new(master: impl Into<MasterUrl>, info: FrameworkInfo, scheduler: S) -> Self {
        MesosSchedulerDriver {
            scheduler,
            detection: Detection::new(master.into()),
            info,
            state: State::Created,
            round: 0,
            backoff: REGISTRATION_BACKOFF_FACTOR,
        }
    }

    /// SUBSCRIBE as framework `id` (a scheduler that restarts and fails over).
    pub fn with_framework_id(mut self, id: Option<FrameworkId>) -> Self {
        self.info.id = id;
        self
    }

    /// The scheduler, to read its state (reports, tests).
    pub fn scheduler(&self) -> &S {
        &self.scheduler
    }

    /// The framework id the master assigned, once it has.
    pub fn framework_id(&self) -> Option<&FrameworkId> {
        self.info.id.as_ref()
    }

    /// The master the driver talks to: the fixed one, or the detected leader.
    pub fn master(&self) -> Option<&ActorId> {
        self.detection.master()
    }

    /// Whether the framework is subscribed right now.
    pub fn connected(&self) -> bool {
        self.state == State::Connected
    }

    /// `doReliableRegistration`: SUBSCRIBE (with the id once there is one) and
    /// try again after the backoff unless SUBSCRIBED comes first.
    ///
    /// Why the bounds: libmesos doubles the bound after each attempt, capped at
    /// one minute and at a tenth of a positive `failover_timeout`, so a
    /// failing-over framework tries several times before the master gives up on it.
    fn subscribe(&mut self, out: &mut Outbox<DriverTimer<S::Timer>>) {
        // `doReliableRegistration` returns while no master is detected; the
        // next detection starts it again.
        let Some(master) = self.detection.master().cloned() else { return };
        let c = Call {
            framework_id: self.info.id.clone(),
            r#type: Some(call::Type::Subscribe as i32),
            subscribe: Some(call::Subscribe { framework_info: self.info.clone(), suppressed_roles: Vec::new() }),
            ..Default::default()
        };
        out.send(&master, c);
        let mut bound = self.backoff.min(REGISTRATION_RETRY_INTERVAL_MAX);
        if let Some(tenth) = self.info.failover_timeout.filter(|f| *f > 0.0).map(|f| f / 10.0)
            && let Ok(tenth) = Duration::try_from_secs_f64(tenth)
        {
            bound = bound.min(tenth);
        }
        out.set_timer(bound, DriverTimer::Registration { round: self.round });
        self.backoff = bound * 2;
    }

    /// Run one callback, then carry out what it recorded.
    fn callback(
        &mut self,
        out: &mut Outbox<DriverTimer<S::Timer>>,
        f: impl FnOnce(&mut S, &mut Context<'_, S::Timer>),
    ) {
        let mut ctx = Context::new(out, self.info.id.clone());
        f(&mut self.scheduler, &mut ctx);
        let Context { calls, exit, .. } = ctx;
        let mut lost = VecDeque::new();
        for c in calls {
            self.send(c, &mut lost, out);
        }
        if let Some(exit) = exit {
            return self.exit(exit, out);
        }
        // libmesos's own TASK_LOST for launches it could not send.
        while let Some(status) = lost.pop_front() {
            if self.state == State::Exited {
                return;
            }
            self.update(status, out);
        }
    }

    /// Send `c`, or drop it while not connected (see the module docs).
    fn send(&mut self, c: Call, lost: &mut VecDeque<TaskStatus>, out: &mut Outbox<DriverTimer<S::Timer>>) {
        if self.state == State::Connected
            && let Some(m) = self.detection.master()
        {
            return out.send(m, c);
        }
        out.note_with(|| format!("{} not sent: the framework is not subscribed", c.r#type().as_str_name()));
        if self.state == State::Aborted {
            return;
        }
        lost.extend(lost_with_unsent_call(&c));
    }

    fn exit(&mut self, exit: Exit, out: &mut Outbox<DriverTimer<S::Timer>>) {
        if exit.teardown
            && self.state == State::Connected
            && let Some(m) = self.detection.master().cloned()
        {
            let teardown = Call {
                framework_id: self.info.id.clone(),
                r#type: Some(call::Type::Teardown as i32),
                ..Default::default()
            };
            out.send(&m, teardown);
        }
        self.state = State::Exited;
        out.exit(exit.status);
    }

    /// UPDATE: the callback, then the implicit acknowledgement.
    ///
    /// Why none after `stop`/`exit` in the callback: libmesos acknowledges only
    /// while the driver still runs ("Not sending status update acknowledgment
    /// message because the driver is not running!", `src/sched/sched.cpp`); the
    /// agent keeps the update, and TEARDOWN makes it moot.
    fn update(&mut self, status: TaskStatus, out: &mut Outbox<DriverTimer<S::Timer>>) {
        self.callback(out, |s, ctx| s.update(ctx, &status));
        if let (Some(uuid), Some(agent_id), State::Connected, Some(m)) =
            (status.uuid, status.agent_id, self.state, self.detection.master().cloned())
        {
            let ack = Call {
                framework_id: self.info.id.clone(),
                r#type: Some(call::Type::Acknowledge as i32),
                acknowledge: Some(call::Acknowledge { agent_id, task_id: status.task_id, uuid }),
                ..Default::default()
            };
            out.send(&m, ack);
        }
    }

    fn on_event(&mut self, e: Event, out: &mut Outbox<DriverTimer<S::Timer>>) {
        let kind = e.r#type();
        match kind {
            event::Type::Subscribed => {
                let Some(s) = e.subscribed else { return };
                if self.state == State::Connected {
                    // libmesos: "Ignoring framework registered message because
                    // the driver is already connected!" (a retried SUBSCRIBE's answer).
                    return out.note("SUBSCRIBED ignored: already subscribed");
                }
                self.state = State::Connected;
                self.round += 1;
                self.info.id = Some(s.framework_id.clone());
                self.callback(out, |sch, ctx| sch.subscribed(ctx, &s.framework_id));
            }
            event::Type::Error => {
                let message = e.error.map(|er| er.message).unwrap_or_default();
                self.state = State::Aborted;
                self.callback(out, |s, ctx| s.error(ctx, &message));
            }
            event::Type::Heartbeat => {}
            _ if self.state != State::Connected => {
                out.note_with(|| format!("{} dropped: the framework is not subscribed", kind.as_str_name()))
            }
            event::Type::Offers => {
                let offers = e.offers.map(|o| o.offers).unwrap_or_default();
                self.callback(out, |s, ctx| s.offers(ctx, offers));
            }
            event::Type::Rescind => {
                if let Some(r) = e.rescind {
                    self.callback(out, |s, ctx| s.rescind(ctx, &r.offer_id));
                }
            }
            event::Type::Update => {
                if let Some(u) = e.update {
                    self.update(u.status, out);
                }
            }
            event::Type::Failure => {
                if let Some(f) = e.failure {
                    self.callback(out, |s, ctx| s.failure(ctx, &f));
                }
            }
            _ => out.note_with(|| format!("{} ignored: not modelled", kind.as_str_name())),
        }
    }

    fn on_disconnected(&mut self, out: &mut Outbox<DriverTimer<S::Timer>>) {
        if self.state != State::Connected {
            // Still registering: the retry timer already runs.
            return;
        }
        self.state = State::Registering;
        self.round += 1;
        self.backoff = REGISTRATION_BACKOFF_FACTOR;
        // Why 2 s before SUBSCRIBE again: libmesos re-registers once its master
        // detector reports a leader; a fixed master's detector reports nothing,
        // and mesocosm models that delay as one registration_backoff_factor.
        // With ZooKeeper, a new leader is also SUBSCRIBEd to when detected.
        out.set_timer(REGISTRATION_BACKOFF_FACTOR, DriverTimer::Registration { round: self.round });
        self.callback(out, |s, ctx| s.disconnected(ctx));
    }
}

impl<S: Scheduler> MesosSchedulerDriver<S> {
    /// `SchedulerProcess::detected`: the leader changed to `leader` (or none).
    fn detected(&mut self, leader: Option<ActorId>, out: &mut Outbox<DriverTimer<S::Timer>>) {
        // An aborted or exited driver keeps its detector but acts on nothing.
        if !matches!(self.state, State::Registering | State::Connected) {
            return;
        }
        let was_connected = self.state == State::Connected;
        self.state = State::Registering;
        self.round += 1;
        self.backoff = REGISTRATION_BACKOFF_FACTOR;
        if was_connected {
            // "In any case, we will reconnect (possibly immediately), so we must
            // notify schedulers of the disconnection."
            self.callback(out, |s, ctx| s.disconnected(ctx));
            if self.state != State::Registering {
                return;
            }
        }
        match leader {
            Some(m) => {
                out.note_with(|| format!("New master detected at master@{m}:5050"));
                // Why at once: libmesos's `detected` calls doReliableRegistration
                // straight away (no initial delay, unlike an agent's); the
                // backoff applies between retries.
                self.subscribe(out);
            }
            None => out.note("No master detected: the driver waits for one before SUBSCRIBE"),
        }
    }

    /// Detection's own inputs: ZooKeeper's traffic, and scheduler events from
    /// a master that is not the leader. Gives any other input back.
    fn detection_input(
        &mut self,
        input: Input<DriverTimer<S::Timer>>,
        out: &mut Outbox<DriverTimer<S::Timer>>,
    ) -> Option<Input<DriverTimer<S::Timer>>> {
        let changes = match input {
            Input::Timer(DriverTimer::ZooKeeper) => self.detection.on_tick(DriverTimer::ZooKeeper, out),
            Input::Message { from, msg } => match self.detection.on_message(&from, msg, out) {
                Ok(changes) => changes,
                Err(Msg::SchedulerEvent(e)) if !self.detection.accepts(&from, &e, out) => vec![],
                Err(msg) => return Some(Input::Message { from, msg }),
            },
            Input::Disconnected { peer } => match self.detection.on_disconnected(&peer, out) {
                Some(changes) => changes,
                None => return Some(Input::Disconnected { peer }),
            },
            other => return Some(other),
        };
        changes.into_iter().for_each(|l| self.detected(l, out));
        None
    }
}

impl<S: Scheduler> Actor for MesosSchedulerDriver<S> {
    type Timer = DriverTimer<S::Timer>;

    fn handle(&mut self, input: Input<Self::Timer>, out: &mut Outbox<Self::Timer>) {
        if self.state == State::Exited {
            return;
        }
        let Some(input) = self.detection_input(input, out) else { return };
        match (self.state, input) {
            (State::Exited, _) => {}
            (State::Created, Input::Start) => {
                self.state = State::Registering;
                // A ZooKeeper detector's session; it names the leader later.
                self.detection.start(DriverTimer::ZooKeeper, out);
                self.subscribe(out);
            }
            (State::Created, _) => {}
            (State::Registering, Input::Timer(DriverTimer::Registration { round })) if round == self.round => {
                out.note("no SUBSCRIBED yet: SUBSCRIBE again (libmesos retry backoff)");
                self.subscribe(out);
            }
            (_, Input::Timer(DriverTimer::Registration { .. })) => {}
            // An aborted driver delivers nothing, timers included (the scheduler
            // was told in `error`; it exits or waits for its process to be killed).
            (State::Aborted, _) => {}
            (_, Input::Timer(DriverTimer::Scheduler(t))) => self.callback(out, |s, ctx| s.timer(ctx, t)),
            // Only the master's events get here (see `detection_input`).
            (_, Input::Message { msg: Msg::SchedulerEvent(e), .. }) => self.on_event(*e, out),
            (_, Input::Message { from, msg }) if !self.detection.is_master(&from) => {
                self.callback(out, |s, ctx| s.message(ctx, &from, msg))
            }
            (_, Input::Disconnected { peer }) if self.detection.is_master(&peer) => self.on_disconnected(out),
            // The master's 403 to a call from an unsubscribed scheduler: the
            // call's answer, logged; the driver carries on re-subscribing.
            (_, Input::Refused { kind, refusal, .. }) => out.note_with(|| format!("{kind} refused: {refusal}")),
            (_, _) => {}
        }
    }

    fn check_invariants(&self) -> Result<(), String> {
        self.scheduler.check_invariants()
    }
}
