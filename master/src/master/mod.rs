//! The Mesos master as a sans-IO actor core.
//!
//! [`Master`] holds what a Mesos master holds in memory (`src/master/master.cpp`):
//! the registered agents, the subscribed frameworks, the outstanding offers and
//! the tasks, plus the [`Allocator`] that decides who is offered what. It reacts
//! to one [`Input`] at a time and answers with messages, timers and timeline
//! notes; nothing here reads a clock or draws randomness.
//!
//! # The books
//!
//! ```text
//!   agents      id → actor, AgentInfo, total, offered, used (tasks + executors),
//!               ping state (SlaveObserver)
//!   frameworks  id → actor, FrameworkInfo, active, tasks, offer ids
//!   offers      id → Offer, framework, agent, resources        (the offers book)
//!   allocator   agent total/allocated, framework allocations, sorters, filters
//! ```
//!
//! The master and the allocator must agree: for every agent, the allocator's
//! `allocated` is exactly the master's `offered + used`. [`Master::check_invariants`]
//! checks that, and that no agent is over-committed and no resource sits in
//! two outstanding offers.
//!
//! # A resource's life
//!
//! ```text
//!   free ──allocate (cycle)──▶ offered ──ACCEPT/LAUNCH──▶ used ──terminal update──▶ free
//!                               │   └──DECLINE / unused part of ACCEPT──▶ free + refusal filter
//!                               └──rescind (offer_timeout, agent lost) / framework gone──▶ free
//! ```
//!
//! # Timers
//!
//! [`Timer::Allocation`] is the periodic batch (every `allocation_interval`);
//! [`Timer::TriggeredAllocation`] is the zero-delay cycle that events (a new
//! agent, a new framework, REVIVE) coalesce into. Pings, heartbeats, failover
//! timeouts, re-register timeouts and offer timeouts carry an epoch or id,
//! because timers are never cancelled: a stale one is simply ignored, as Mesos
//! ignores a `delay` whose process state has moved on.
//!
//! # Failures (upstream `src/master/master.cpp`)
//!
//! ```text
//!   agent      connected ──socket break──▶ disconnected ──5 missed pongs or──▶ unreachable
//!                 ▲                          │          agent_reregister_timeout     │
//!                 └────ReregisterSlave───────┘                                       │
//!                 ▲                                                                  │
//!                 └───────ReregisterSlave (re-admitted with its tasks, whose ────────┘
//!                                          latest state frameworks are sent again)
//!
//!   framework  active ──stream breaks──▶ inactive ──failover_timeout (default 0)──▶ removed
//!                 ▲                        │                                         │
//!                 └──SUBSCRIBE with its id─┘          SUBSCRIBE with its id ──▶ ERROR "Framework has been removed"
//! ```
//!
//! - A **disconnected agent** is deactivated in the allocator and its offers
//!   are rescinded; tasks of frameworks that do not checkpoint (Spark's
//!   default) are TASK_LOST at once; the master keeps pinging with
//!   `connected=false`, which tells a live agent to re-register.
//! - An **unreachable agent** leaves the allocator; its tasks are TASK_LOST
//!   (TASK_UNREACHABLE for PARTITION_AWARE frameworks, which keep them) and
//!   every framework gets FAILURE{agent_id}. If it comes back, its tasks are
//!   recovered whatever the framework (Mesos ≥ 1.5, MESOS-7215) and each
//!   framework is sent their latest state (TASK_RUNNING after the TASK_LOST).
//! - **Master failover** is a new `Master` with a new id. It knows the agents
//!   its predecessor admitted (a single master is handed their ids; several
//!   masters read them from the registry, `registrar`), never frameworks or
//!   tasks (Mesos's registry holds neither), so it admits any re-registering
//!   agent with the tasks and executors it reports, learns frameworks from
//!   them (`frameworks.recovered`), and takes a SUBSCRIBE with an id it never
//!   issued as a re-subscription.
//!
//! Every transition is recorded in [`Master::history`] as a [`MasterEvent`].
//!
//! # Layout
//!
//! One `impl Master` spread over files along its seams; the struct, `new`,
//! the shared helpers and the dispatch of inputs live here.
//!
//! - `config`: [`MasterConfig`] (the flags) and [`Timer`].
//! - `books`: the records behind the maps (agent, framework, task, offer).
//! - `views`: [`MasterStats`] and the read-only views for reports.
//! - `events`: builders of scheduler events and task statuses.
//! - `registration`: agents (re-)registering, readmission, recovery of the
//!   frameworks and tasks they report.
//! - `health`: disconnections, pings, removal, exited executors.
//! - `frameworks`: the scheduler API's dispatch, SUBSCRIBE, failover, removal.
//! - `offers`: the allocation cycle into OFFERS; ACCEPT, LAUNCH, DECLINE.
//! - `tasks`: status updates, KILL, RECONCILE, ACKNOWLEDGE.
//! - `invariants`: [`Master::check_invariants`] (all the books, or only what
//!   a step touched) and, in tests, the corruptions that prove it notices.
//! - `tracked`: the maps behind the books, which record what a step touched.
//! - `registrar`: with several masters, what goes through the registry
//!   (admission, readmission, the failover's recovery and removal limits).

use crate::allocator::{Allocator, AllocatorConfig, Cycle, DEFAULT_ROLE};
use crate::history::MasterEvent;
use mesocosm_proto::{scheduler, v1};
use mesocosm_sim::msg::short_id;
use mesocosm_sim::{Actor, ActorId, Input, Msg, Outbox, SimTime};
use scheduler::event::Type as EventType;
use std::collections::{BTreeSet, VecDeque};
use std::time::Duration;
use v1::TaskState;
use v1::framework_info::capability::Type as Capability;

mod books;
mod config;
mod events;
mod frameworks;
mod health;
mod invariants;
mod leadership;
mod offers;
mod registrar;
mod registration;
mod tasks;
mod tracked;
mod views;

use books::{Agent, Framework, OfferEntry, OfferNo, Removal, Task};
pub use config::{MasterConfig, Timer};
use events::{error_event, event, master_status, update_event};
pub use invariants::FULL_RESCAN_EVERY;
pub use leadership::{LOST_LEADERSHIP_EXIT, ZkConfig};
use leadership::{Leadership, LeadershipInput};
pub use registrar::{RegistryConfig, RemovalRate};
use tracked::{ActorIndex, Tracked, TrackedSet};
pub use views::{AgentView, FrameworkView, MasterStats, OfferView};

/// `--max_completed_frameworks` (master constants).
const MAX_COMPLETED_FRAMEWORKS: usize = 50;

/// The Mesos master. See the module docs.
pub struct Master {
    cfg: MasterConfig,
    info: v1::MasterInfo,
    alloc: Allocator,
    agents: Tracked<String, Agent>,
    agent_by_actor: ActorIndex,
    unreachable: TrackedSet<String>,
    /// Agents this master removed or marked unreachable (`slaves.removed`), so
    /// that a re-registration can say what the agent was.
    removed: TrackedSet<String>,
    /// Agents recovered from the registry that have not re-registered yet
    /// (`slaves.recovered`); no offer or task reads them.
    recovered: BTreeSet<String>,
    next_agent: u64,
    /// The next SlaveObserver generation. Why master-wide: an agent removed
    /// and re-admitted under the same id must not take up a generation whose
    /// ping timers may still be pending.
    next_epoch: u64,
    frameworks: Tracked<String, Framework>,
    framework_by_actor: ActorIndex,
    completed: VecDeque<String>,
    next_framework: u64,
    /// Boxed: a BTreeMap moves its values when nodes split and shift, and an
    /// entry (two ids and a resource bag) is over 300 bytes.
    offers: Tracked<OfferNo, Box<OfferEntry>>,
    next_offer: u64,
    pending_all: bool,
    pending_agents: BTreeSet<String>,
    pending_armed: bool,
    /// The last allocation cycle, its grants already turned into offers:
    /// kept only so the next cycle refills its lists (`run_cycle`).
    last_cycle: Cycle,
    stats: MasterStats,
    history: Vec<(SimTime, MasterEvent)>,
    /// Steps handled so far: every [`Master::rescan_period`]th step's check
    /// reads all the books, the others only what the step touched.
    steps: u64,
    /// The registry, when there are several masters (`registrar`).
    persisted: Option<Box<registrar::Persisted>>,
    /// Standalone, or contending through ZooKeeper (`leadership`).
    leadership: Leadership,
}

/// Whether `info` carries the PARTITION_AWARE capability.
fn is_partition_aware(info: &v1::FrameworkInfo) -> bool {
    has_capability(info, Capability::PartitionAware)
}

/// Whether `info` carries capability `c`.
fn has_capability(info: &v1::FrameworkInfo, c: Capability) -> bool {
    info.capabilities.iter().any(|x| x.r#type() == c)
}

/// Whether `info` carries the MULTI_ROLE capability.
pub fn is_multi_role(info: &v1::FrameworkInfo) -> bool {
    info.capabilities.iter().any(|c| c.r#type() == v1::framework_info::capability::Type::MultiRole)
}

/// The one role the allocator allocates framework `info` under:
/// `FrameworkInfo.roles[0]` for a MULTI_ROLE framework that lists roles,
/// otherwise the deprecated `FrameworkInfo.role`, whose proto default is `*`
/// (`protobuf::framework::getRoles` gives a MULTI_ROLE framework its `roles`
/// and any other its `role`). Frameworks with several roles are allocated under
/// the first only; see [`crate::allocator`]'s "Roles". Where this differs: a
/// MULTI_ROLE framework listing no roles is in no role in Mesos and is never
/// offered anything; here it falls back to `role`.
pub fn allocation_role(info: &v1::FrameworkInfo) -> String {
    if is_multi_role(info)
        && let Some(first) = info.roles.first()
    {
        return first.clone();
    }
    #[allow(deprecated)] // `FrameworkInfo.role` is deprecated upstream; Spark still sets it.
    let role = info.role.clone();
    role.unwrap_or_else(|| DEFAULT_ROLE.to_string())
}

/// The removal reason when a framework's failover timeout expires.
fn failover_reason(info: &v1::FrameworkInfo) -> String {
    format!("failover timeout expired (failover_timeout={}s)", info.failover_timeout.unwrap_or(0.0))
}

fn state_name(s: TaskState) -> &'static str {
    s.as_str_name()
}

impl Master {
    /// A master with no agents and no frameworks; send it `Input::Start` first.
    pub fn new(cfg: MasterConfig) -> Master {
        let info = v1::MasterInfo {
            id: cfg.id.clone(),
            ip: 0,
            port: cfg.port,
            pid: Some(format!("master@{}:{}", cfg.hostname, cfg.port)),
            hostname: Some(cfg.hostname.clone()),
            ..Default::default()
        };
        let alloc = Allocator::new(AllocatorConfig {
            allocation_interval: cfg.allocation_interval,
            min_allocatable_resources: cfg.min_allocatable_resources.clone(),
            weights: cfg.weights.clone(),
            shuffle_seed: cfg.shuffle_seed,
            filter_gpu_resources: cfg.filter_gpu_resources,
            role_sorter: cfg.role_sorter.clone(),
            framework_sorter: cfg.framework_sorter.clone(),
        });
        let recovered = cfg.recovered_agents.clone();
        let persisted = cfg.registry.as_ref().map(|r| Box::new(registrar::Persisted::new(cfg.me.clone(), r)));
        let leadership = Leadership::new(cfg.zk.as_ref(), &info);
        Master {
            cfg,
            info,
            alloc,
            // What an offer's promises read of its agent and its framework.
            agents: Tracked::new(|a: &Agent| a.connected),
            agent_by_actor: ActorIndex::new(),
            unreachable: TrackedSet::new(),
            removed: TrackedSet::new(),
            recovered,
            next_agent: 0,
            next_epoch: 0,
            frameworks: Tracked::new(|f: &Framework| f.active),
            framework_by_actor: ActorIndex::new(),
            completed: VecDeque::new(),
            next_framework: 0,
            offers: Tracked::new(|_| false),
            next_offer: 0,
            pending_all: false,
            pending_agents: BTreeSet::new(),
            pending_armed: false,
            last_cycle: Cycle::default(),
            stats: MasterStats::default(),
            history: Vec::new(),
            steps: 0,
            persisted,
            leadership,
        }
    }

    /// Every lifecycle transition so far, oldest first, stamped with the
    /// virtual time it happened at.
    pub fn history(&self) -> &[(SimTime, MasterEvent)] {
        &self.history
    }

    /// The agents marked unreachable and not re-registered since, in id order.
    pub fn unreachable_agents(&self) -> impl Iterator<Item = &str> {
        self.unreachable.iter().map(String::as_str)
    }

    /// The counters so far.
    pub fn stats(&self) -> MasterStats {
        self.stats.clone()
    }

    /// The flags.
    pub fn config(&self) -> &MasterConfig {
        &self.cfg
    }

    /// What SUBSCRIBED carries as `master_info`.
    pub fn master_info(&self) -> &v1::MasterInfo {
        &self.info
    }

    /// The allocator, read-only (for checks, reports and benches).
    pub fn allocator(&self) -> &Allocator {
        &self.alloc
    }

    /// The framework id the master assigned to `actor`'s subscription.
    pub fn framework_of(&self, actor: &ActorId) -> Option<&str> {
        self.framework_by_actor.get(actor).map(String::as_str)
    }

    /// The agent id the master assigned to `actor`.
    pub fn agent_of(&self, actor: &ActorId) -> Option<&str> {
        self.agent_by_actor.get(actor).map(String::as_str)
    }

    // ----- helpers --------------------------------------------------------------

    fn fw_name(&self, fid: &str) -> String {
        self.frameworks.get(fid).map_or_else(|| short_id(fid).to_string(), |f| f.info.name.clone())
    }

    fn host(&self, aid: &str) -> String {
        self.agents.get(aid).map_or_else(|| short_id(aid).to_string(), |a| a.info.hostname.clone())
    }

    fn send_to_framework(&self, fid: &str, e: scheduler::Event, out: &mut Outbox<Timer>) {
        // Why only active frameworks: a disconnected scheduler has no stream to
        // write to; Mesos's `Framework::send` drops the event (the agent retries
        // its updates, the master's own are best-effort).
        if let Some(fw) = self.frameworks.get(fid)
            && fw.active
            && let Some(actor) = &fw.actor
        {
            out.send(actor, e);
        }
    }

    fn record(&mut self, now: SimTime, event: MasterEvent) {
        self.history.push((now, event));
    }

    /// `Master::rescindOffer`: RESCIND to the offer's framework, the resources
    /// back to the allocator without a filter.
    fn rescind(&mut self, oid: OfferNo, out: &mut Outbox<Timer>) {
        let Some(o) = self.take_offer(oid) else { return };
        self.alloc.recover(out.now(), &o.framework, &o.agent, &o.resources, None);
        self.stats.offers_rescinded += 1;
        let mut e = event(EventType::Rescind);
        e.rescind = Some(scheduler::event::Rescind { offer_id: v1::OfferId { value: self.offer_id(oid) } });
        self.send_to_framework(&o.framework, e, out);
    }

    /// Release a task the master tracks: off its agent, and its resources (if
    /// it was live) back to the allocator without a filter.
    fn forget_task(&mut self, fid: &str, tid: &str, now: SimTime) {
        let Some(task) = self.frameworks.get_mut(fid).and_then(|f| f.tasks.remove(tid)) else { return };
        if let Some(a) = self.agents.get_mut(&task.agent) {
            a.tasks.remove(&(fid.to_string(), tid.to_string()));
            if !task.state.is_terminal() {
                a.used.subtract(&task.resources);
                self.alloc.recover(now, fid, &task.agent, &task.resources, None);
            }
        }
    }

    /// `Master::removeExecutor`: the executor's resources back, no filter.
    fn forget_executor(&mut self, aid: &str, fid: &str, eid: &str, now: SimTime) {
        let Some(a) = self.agents.get_mut(aid) else { return };
        if let Some(r) = a.executors.remove(&(fid.to_string(), eid.to_string())) {
            a.used.subtract(&r);
            self.alloc.recover(now, fid, aid, &r, None);
        }
    }

    /// Remove an offer from the books (not from the allocator).
    fn take_offer(&mut self, oid: OfferNo) -> Option<Box<OfferEntry>> {
        let o = self.offers.remove(&oid)?;
        if let Some(a) = self.agents.get_mut(&o.agent) {
            a.offers.remove(&oid);
            a.offered.subtract(&o.resources);
        }
        if let Some(f) = self.frameworks.get_mut(&o.framework) {
            f.offers.remove(&oid);
        }
        Some(o)
    }

    /// The id this master gave offer number `n`.
    fn offer_id(&self, n: OfferNo) -> String {
        n.id(&self.cfg.id)
    }

    /// The number of an offer id a framework sent, if this master made it.
    fn offer_no(&self, oid: &str) -> Option<OfferNo> {
        OfferNo::parse(&self.cfg.id, oid)
    }

    /// Ask for an allocation soon: of `agent`, or of every agent if `None`.
    ///
    /// Why coalesce: Mesos's allocator accumulates candidate agents and keeps
    /// at most one `_generateOffers` dispatch pending (MESOS-6904), so a burst of
    /// registrations yields one cycle, not one per event.
    fn trigger(&mut self, agent: Option<&str>, out: &mut Outbox<Timer>) {
        match agent {
            Some(a) => {
                self.pending_agents.insert(a.to_string());
            }
            None => self.pending_all = true,
        }
        if !self.pending_armed {
            self.pending_armed = true;
            out.set_timer(Duration::ZERO, Timer::TriggeredAllocation);
        }
    }

    // ----- the actor --------------------------------------------------------------

    fn on_timer(&mut self, t: Timer, out: &mut Outbox<Timer>) {
        match t {
            Timer::Allocation => {
                // The periodic cycle covers every agent, so whatever was pending
                // is served by it too (the pending timer then finds nothing to do).
                self.pending_all = false;
                self.pending_agents.clear();
                self.run_cycle(None, out);
                out.set_timer(self.cfg.allocation_interval, Timer::Allocation);
            }
            Timer::TriggeredAllocation => {
                self.pending_armed = false;
                let candidates = if std::mem::take(&mut self.pending_all) {
                    self.pending_agents.clear();
                    self.alloc.agent_ids()
                } else {
                    std::mem::take(&mut self.pending_agents)
                };
                if !candidates.is_empty() {
                    self.run_cycle(Some(candidates), out);
                }
            }
            Timer::PingTimeout { agent, epoch } => self.ping_timeout(&agent, epoch, out),
            Timer::Heartbeat { framework, epoch } => {
                let Some(fw) = self.frameworks.get(&framework) else { return };
                if fw.active
                    && fw.epoch == epoch
                    && let Some(actor) = &fw.actor
                {
                    out.send(actor, event(EventType::Heartbeat));
                    out.set_timer(self.cfg.heartbeat_interval, Timer::Heartbeat { framework, epoch });
                }
            }
            Timer::FailoverTimeout { framework, epoch } => {
                let Some(fw) = self.frameworks.get(&framework) else { return };
                // Why the epoch: a framework that re-subscribed in time bumped
                // it, and Mesos ignores the timeout once `reregisteredTime`
                // has moved past the disconnection (`frameworkFailoverTimeout`).
                if !fw.active && fw.epoch == epoch {
                    let reason = failover_reason(&fw.info);
                    self.remove_framework(&framework, &reason, out);
                }
            }
            Timer::ReregisterTimeout { agent, epoch } => {
                let Some(a) = self.agents.get(&agent) else { return };
                if !a.connected && a.epoch == epoch {
                    self.remove_agent(&agent, Removal::ReregisterTimeout, out);
                }
            }
            Timer::RecoveredTimeout if self.persisted.is_some() => self.recovered_slaves_timeout(out),
            Timer::Registry(t) => self.registry_timer(t, out),
            Timer::RecoveryRemoval => self.next_recovery_removal(out),
            Timer::RecoveredTimeout => {
                // `Master::recoveredSlavesTimeout`: a recovered agent that has
                // not re-registered is marked unreachable (Mesos ≥ 1.2).
                for aid in std::mem::take(&mut self.recovered) {
                    out.note_with(|| {
                        format!("recovered agent {} did not re-register in time: unreachable", short_id(&aid))
                    });
                    self.unreachable.insert(aid.clone());
                    self.removed.insert(aid);
                }
            }
            // Routed to the group in `handle`; a standalone master sets none.
            Timer::ZooKeeper => {}
            Timer::OfferTimeout { offer } => {
                // `--offer_timeout`: Master::offerTimeout rescinds the offer.
                let Some(n) = self.offer_no(&offer) else { return };
                let Some(framework) = self.offers.get(&n).map(|o| o.framework.clone()) else { return };
                self.rescind(n, out);
                out.note_with(|| {
                    format!(
                        "offer {} to {} timed out after {:?}; rescinded",
                        short_id(&offer),
                        self.fw_name(&framework),
                        self.cfg.offer_timeout.unwrap_or_default()
                    )
                });
            }
        }
    }

    fn on_message(&mut self, from: ActorId, msg: Msg, out: &mut Outbox<Timer>) {
        match msg {
            Msg::RegisterSlave(_) | Msg::ReregisterSlave(_) if self.registry_recovering() => {
                // `Master::registerSlave`: "master is not yet recovered"; the agent retries.
                out.note_with(|| format!("ignoring {} from {from}: the registry is not recovered yet", msg.kind()));
            }
            m @ (Msg::LogPromise(_)
            | Msg::LogPromised(_)
            | Msg::LogWrite(_)
            | Msg::LogWritten(_)
            | Msg::LogLearned(_)
            | Msg::LogRecover(_)
            | Msg::LogRecovered(_)) => self.registry_message(from, m, out),
            Msg::RegisterSlave(m) => self.register_slave(from, *m, out),
            Msg::ReregisterSlave(m) => self.reregister_slave(from, *m, out),
            Msg::UnregisterSlave(m) => {
                if let Some(aid) = self.agent_by_actor.get(&from).cloned()
                    && m.slave_id.value == aid
                {
                    self.remove_agent(&aid, Removal::Unregistered, out);
                }
            }
            Msg::PongSlave(_) => {
                if let Some(a) = self.agent_by_actor.get(&from).and_then(|id| self.agents.get_mut(id)) {
                    // SlaveObserver::pong: the agent is alive, forget the misses.
                    a.pinged = false;
                    a.misses = 0;
                }
            }
            Msg::StatusUpdate(m) => self.status_update(from, *m, out),
            Msg::ExitedExecutor(m) => self.exited_executor(from, m, out),
            Msg::SchedulerCall(c) => self.scheduler_call(from, *c, out),
            other => out.note_with(|| format!("master ignores {} from {from}", other.kind())),
        }
    }

    fn on_disconnected(&mut self, peer: ActorId, out: &mut Outbox<Timer>) {
        if let Some(fid) = self.framework_by_actor.get(&peer).cloned() {
            self.framework_disconnected(&fid, out);
        } else if let Some(aid) = self.agent_by_actor.get(&peer).cloned() {
            self.agent_disconnected(&aid, out);
        } else {
            out.note_with(|| format!("master: connection to {peer} closed; it holds no subscription or registration"));
        }
    }
}

impl Actor for Master {
    type Timer = Timer;

    fn handle(&mut self, input: Input<Timer>, out: &mut Outbox<Timer>) {
        self.begin_step();
        // Leadership first: ZooKeeper's traffic, and a backup's refusals.
        let input = match input {
            Input::Timer(Timer::ZooKeeper) => self.leadership_input(LeadershipInput::Tick, out).map(|_| input),
            Input::Message { from, msg } => match self.leadership_input(LeadershipInput::Message { from, msg }, out) {
                Some(LeadershipInput::Message { from, msg }) => Some(Input::Message { from, msg }),
                _ => None,
            },
            Input::Disconnected { peer } => match self.leadership_input(LeadershipInput::Disconnected { peer }, out) {
                Some(LeadershipInput::Disconnected { peer }) => Some(Input::Disconnected { peer }),
                _ => None,
            },
            other => Some(other),
        };
        let Some(input) = input else { return };
        match input {
            Input::Start => self.start_leadership(out),
            Input::Message { from, msg } => self.on_message(from, msg, out),
            Input::Timer(t) => self.on_timer(t, out),
            Input::Disconnected { peer } => self.on_disconnected(peer, out),
            // The master launches no containers, and makes no calls that are refused.
            Input::Exited { .. } | Input::Refused { .. } => {}
        }
    }

    /// The world's per-step check: what this step touched, and everything
    /// every [`Master::rescan_period`] steps and on every step of a debug build
    /// (see [`Master::check_step`]).
    fn check_invariants(&self) -> Result<(), String> {
        self.check_step(self.steps, cfg!(debug_assertions))
    }
}
