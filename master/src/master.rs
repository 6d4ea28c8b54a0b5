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
//!   allocator   agent total/allocated, framework allocations, DRF, filters
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
//! - **Master failover** is a new `Master` with a new id: it knows nothing (no
//!   registry is modelled; Mesos's holds only agents, never frameworks or
//!   tasks), so it admits any re-registering agent with the tasks and executors
//!   it reports, learns frameworks from them (`frameworks.recovered`), and takes
//!   a SUBSCRIBE with an id it never issued as a re-subscription.
//!
//! Every transition is recorded in [`Master::history`] as a [`MasterEvent`].

use crate::allocator::{Allocator, AllocatorConfig, DEFAULT_REFUSE_SECONDS, DEFAULT_ROLE, Grant, SorterChoice};
use crate::history::{AgentPrior, MasterEvent};
use crate::validation::{self, OfferPlace, TaskContext, failover_timeout};
use mesocosm_proto::{Resources, internal, scheduler, v1};
use mesocosm_sim::ids::{uuid_from, uuid_string};
use mesocosm_sim::msg::short_id;
use mesocosm_sim::{Actor, ActorId, Input, Msg, Outbox, Refusal, SimTime};
use scheduler::call::Type as CallType;
use scheduler::event::Type as EventType;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::Duration;
use v1::TaskState;
use v1::framework_info::capability::Type as Capability;
use v1::task_status::{Reason, Source};

/// `--max_completed_frameworks` (master constants).
const MAX_COMPLETED_FRAMEWORKS: usize = 50;

/// The master's flags.
#[derive(Clone, Debug, PartialEq)]
pub struct MasterConfig {
    /// This actor's name (`master`).
    pub me: ActorId,
    /// `MasterInfo.id`: a UUID the world derives from the seed. Agent, framework
    /// and offer ids are built on it.
    pub id: String,
    /// `MasterInfo.hostname`.
    pub hostname: String,
    /// `MasterInfo.port` (5050).
    pub port: u32,
    /// `--allocation_interval` (1 s).
    pub allocation_interval: Duration,
    /// `--agent_ping_timeout` (15 s): the ping period and the wait for each pong.
    pub agent_ping_timeout: Duration,
    /// `--max_agent_ping_timeouts` (5): consecutive misses before unreachable.
    pub max_agent_ping_timeouts: u32,
    /// `--agent_reregister_timeout` (10 min, also Mesos's minimum): how long a
    /// disconnected agent has to re-register before it is marked unreachable.
    pub agent_reregister_timeout: Duration,
    /// The scheduler HEARTBEAT period (`DEFAULT_HEARTBEAT_INTERVAL`, 15 s).
    pub heartbeat_interval: Duration,
    /// `--offer_timeout` (none: offers never time out).
    pub offer_timeout: Option<Duration>,
    /// `--min_allocatable_resources`: the alternatives, any one of which makes
    /// free resources worth offering (default `cpus:0.01|mem:32`).
    pub min_allocatable_resources: Vec<Resources>,
    /// `--weights role=w,...`: each role's DRF share is divided by its weight;
    /// unlisted roles weigh 1.0 (`DEFAULT_WEIGHT`). Empty by default.
    pub weights: BTreeMap<String, f64>,
    /// Seeds the allocator's shuffle of each cycle's agents (Mesos uses an
    /// unseeded `std::random_shuffle`); the same seed replays the same orders.
    pub shuffle_seed: u64,
    /// `--filter_gpu_resources` (default true): agents with GPUs are offered
    /// only to frameworks with the GPU_RESOURCES capability.
    pub filter_gpu_resources: bool,
    /// `--role_sorter` (default `drf`): the policy that orders the roles.
    pub role_sorter: SorterChoice,
    /// `--framework_sorter` (default `drf`): the policy that orders each
    /// role's frameworks.
    pub framework_sorter: SorterChoice,
}

impl Default for MasterConfig {
    fn default() -> Self {
        MasterConfig {
            me: ActorId::new("master"),
            id: uuid_string(&uuid_from(&[b"master", &0u64.to_le_bytes()])),
            hostname: "master".to_string(),
            port: 5050,
            allocation_interval: Duration::from_secs(1),
            agent_ping_timeout: Duration::from_secs(15),
            max_agent_ping_timeouts: 5,
            agent_reregister_timeout: Duration::from_secs(600),
            heartbeat_interval: Duration::from_secs(15),
            offer_timeout: None,
            min_allocatable_resources: crate::allocator::default_min_allocatable_resources(),
            weights: BTreeMap::new(),
            shuffle_seed: 0,
            filter_gpu_resources: true,
            role_sorter: SorterChoice::drf(),
            framework_sorter: SorterChoice::drf(),
        }
    }
}

/// Counters for reports and benches (Mesos's `/metrics/snapshot` in spirit).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MasterStats {
    /// Offers made (one per agent per grant).
    pub offers_made: u64,
    /// Offers consumed by a valid ACCEPT.
    pub offers_accepted: u64,
    /// Offers returned by DECLINE.
    pub offers_declined: u64,
    /// Offers the master withdrew (offer timeout, agent lost, framework disconnected).
    pub offers_rescinded: u64,
    /// Tasks sent to agents in RunTask.
    pub tasks_launched: u64,
    /// Allocation cycles run.
    pub allocation_cycles: u64,
}

/// One agent as the invariant checks see it.
#[derive(Clone, Debug, PartialEq)]
pub struct AgentView {
    /// `<master-id>-S<n>`.
    pub id: String,
    /// `AgentInfo.hostname`.
    pub hostname: String,
    /// The agent's actor.
    pub actor: ActorId,
    /// What it registered with.
    pub total: Resources,
    /// Offered or in use (the allocator's view).
    pub allocated: Resources,
    /// In outstanding offers.
    pub offered: Resources,
    /// False while its connection is broken (disconnected, not yet unreachable).
    pub connected: bool,
}

/// One outstanding offer.
#[derive(Clone, Debug, PartialEq)]
pub struct OfferView {
    /// `<master-id>-O<n>`.
    pub id: String,
    /// Whose offer it is.
    pub framework_id: String,
    /// Whose resources.
    pub agent_id: String,
    /// The offered resources.
    pub resources: Resources,
}

/// One framework, for reports.
#[derive(Clone, Debug, PartialEq)]
pub struct FrameworkView {
    /// `<master-id>-0000`.
    pub id: String,
    /// `FrameworkInfo.name`.
    pub name: String,
    /// The scheduler's actor; `None` for a framework recovered from a
    /// re-registering agent that has not subscribed to this master yet.
    pub actor: Option<ActorId>,
    /// Receiving offers (subscribed and connected).
    pub active: bool,
    /// Its DRF dominant share.
    pub share: f64,
    /// Tasks the master tracks for it.
    pub tasks: usize,
}

/// The master's timers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Timer {
    /// The periodic batch allocation, every `allocation_interval`.
    Allocation,
    /// The zero-delay cycle that event-triggered allocations coalesce into.
    TriggeredAllocation,
    /// `agent_ping_timeout` after a ping to `agent`.
    PingTimeout { agent: String, epoch: u64 },
    /// Time for the next HEARTBEAT to `framework`.
    Heartbeat { framework: String, epoch: u64 },
    /// `failover_timeout` after `framework` disconnected.
    FailoverTimeout { framework: String, epoch: u64 },
    /// `agent_reregister_timeout` after `agent` disconnected.
    ReregisterTimeout { agent: String, epoch: u64 },
    /// `offer_timeout` after `offer` was made.
    OfferTimeout { offer: String },
}

struct Agent {
    actor: ActorId,
    info: v1::AgentInfo,
    total: Resources,
    offered: Resources,
    used: Resources,
    /// Custom executors the master knows of, with the resources charged for them.
    executors: BTreeMap<(String, String), Resources>,
    /// (framework id, task id) of the tasks on this agent.
    tasks: BTreeSet<(String, String)>,
    offers: BTreeSet<String>,
    /// SlaveObserver: a ping is out and unanswered.
    pinged: bool,
    /// SlaveObserver: consecutive unanswered pings.
    misses: u32,
    /// The observer's generation: bumped when the agent re-registers, so the
    /// old observer's ping timers and a pending re-register timeout go stale.
    epoch: u64,
    /// False while the connection is broken (`Slave::connected`).
    connected: bool,
    /// Tasks this master declared TASK_LOST when the agent disconnected (their
    /// framework does not checkpoint). If the agent still runs one when it
    /// re-registers, it is killed: the framework has been told it is gone.
    lost_at_disconnect: BTreeSet<(String, String)>,
}

impl Agent {
    /// A connected agent with nothing on it yet, observed by observer `epoch`.
    fn new(actor: ActorId, info: v1::AgentInfo, total: Resources, epoch: u64) -> Agent {
        Agent {
            actor,
            info,
            total,
            offered: Resources::new(),
            used: Resources::new(),
            executors: BTreeMap::new(),
            tasks: BTreeSet::new(),
            offers: BTreeSet::new(),
            pinged: false,
            misses: 0,
            epoch,
            connected: true,
            lost_at_disconnect: BTreeSet::new(),
        }
    }
}

struct Framework {
    /// The subscriber; `None` until a recovered framework subscribes.
    actor: Option<ActorId>,
    info: v1::FrameworkInfo,
    active: bool,
    partition_aware: bool,
    epoch: u64,
    tasks: BTreeMap<String, Task>,
    offers: BTreeSet<String>,
}

impl Framework {
    /// A framework that just subscribed from `actor`: active, nothing launched yet.
    fn new(actor: ActorId, info: v1::FrameworkInfo, partition_aware: bool) -> Framework {
        Framework {
            actor: Some(actor),
            info,
            active: true,
            partition_aware,
            epoch: 0,
            tasks: BTreeMap::new(),
            offers: BTreeSet::new(),
        }
    }
}

struct Task {
    info: v1::TaskInfo,
    agent: String,
    state: TaskState,
    /// What the task itself was charged (its executor's share is on the executor).
    resources: Resources,
    /// The latest status the master has seen (for reconciliation).
    latest: Option<v1::TaskStatus>,
    /// The state and uuid of the last update relayed, awaiting its ack.
    update_state: Option<TaskState>,
    update_uuid: Option<Vec<u8>>,
    /// The offer the task was launched from and that offer's framework, kept at
    /// ACCEPT time for the invariant "only an offer's framework uses it".
    /// `None` for a task adopted from a re-registering agent (a previous master
    /// launched it).
    launched_from: Option<(String, String)>,
}

struct OfferEntry {
    offer: v1::Offer,
    framework: String,
    agent: String,
    resources: Resources,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Removal {
    /// Missed `max_agent_ping_timeouts` pongs (`markUnreachable`).
    Unreachable,
    /// Disconnected for `agent_reregister_timeout` (`markUnreachable` too).
    ReregisterTimeout,
    /// The agent said goodbye (UnregisterSlave).
    Unregistered,
    /// A new agent registered at the address of this disconnected one.
    Replaced,
}

impl Removal {
    fn unreachable(self) -> bool {
        matches!(self, Removal::Unreachable | Removal::ReregisterTimeout)
    }
}

/// The Mesos master. See the module docs.
pub struct Master {
    cfg: MasterConfig,
    info: v1::MasterInfo,
    alloc: Allocator,
    agents: BTreeMap<String, Agent>,
    agent_by_actor: BTreeMap<ActorId, String>,
    unreachable: BTreeSet<String>,
    /// Agents this master removed or marked unreachable (`slaves.removed`), so
    /// that a re-registration can say what the agent was.
    removed: BTreeSet<String>,
    next_agent: u64,
    /// The next SlaveObserver generation. Why master-wide: an agent removed
    /// and re-admitted under the same id must not take up a generation whose
    /// ping timers may still be pending.
    next_epoch: u64,
    frameworks: BTreeMap<String, Framework>,
    framework_by_actor: BTreeMap<ActorId, String>,
    completed: VecDeque<String>,
    next_framework: u64,
    /// Boxed: a BTreeMap moves its values when nodes split and shift, and an
    /// entry holds a whole `Offer`.
    offers: BTreeMap<String, Box<OfferEntry>>,
    next_offer: u64,
    pending_all: bool,
    pending_agents: BTreeSet<String>,
    pending_armed: bool,
    stats: MasterStats,
    history: Vec<(SimTime, MasterEvent)>,
}

fn event(ty: EventType) -> scheduler::Event {
    scheduler::Event { r#type: Some(ty as i32), ..Default::default() }
}

fn error_event(message: &str) -> scheduler::Event {
    let mut e = event(EventType::Error);
    e.error = Some(scheduler::event::Error { message: message.to_string() });
    e
}

fn update_event(status: v1::TaskStatus) -> scheduler::Event {
    let mut e = event(EventType::Update);
    e.update = Some(scheduler::event::Update { status });
    e
}

/// A status update the master itself generates (`protobuf::createStatusUpdate`
/// with source MASTER and no uuid, so the framework does not acknowledge it).
fn master_status(
    now: SimTime,
    task_id: &v1::TaskId,
    agent_id: Option<&str>,
    state: TaskState,
    reason: Reason,
    message: String,
) -> v1::TaskStatus {
    v1::TaskStatus {
        task_id: task_id.clone(),
        state: state as i32,
        message: Some(message),
        source: Some(Source::Master as i32),
        reason: Some(reason as i32),
        agent_id: agent_id.map(|a| v1::AgentId { value: a.to_string() }),
        timestamp: Some(now.as_secs_f64()),
        ..Default::default()
    }
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
        Master {
            cfg,
            info,
            alloc,
            agents: BTreeMap::new(),
            agent_by_actor: BTreeMap::new(),
            unreachable: BTreeSet::new(),
            removed: BTreeSet::new(),
            next_agent: 0,
            next_epoch: 0,
            frameworks: BTreeMap::new(),
            framework_by_actor: BTreeMap::new(),
            completed: VecDeque::new(),
            next_framework: 0,
            offers: BTreeMap::new(),
            next_offer: 0,
            pending_all: false,
            pending_agents: BTreeSet::new(),
            pending_armed: false,
            stats: MasterStats::default(),
            history: Vec::new(),
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

    /// Every registered agent: total, allocated (including offered) and offered.
    pub fn agents_view(&self) -> Vec<AgentView> {
        self.agents
            .iter()
            .map(|(id, a)| AgentView {
                id: id.clone(),
                hostname: a.info.hostname.clone(),
                actor: a.actor.clone(),
                total: a.total.clone(),
                allocated: self.alloc.agent(id).map(|s| s.allocated.clone()).unwrap_or_default(),
                offered: a.offered.clone(),
                connected: a.connected,
            })
            .collect()
    }

    /// Every outstanding offer, in offer-id order.
    pub fn offers_view(&self) -> Vec<OfferView> {
        self.offers
            .iter()
            .map(|(id, o)| OfferView {
                id: id.clone(),
                framework_id: o.framework.clone(),
                agent_id: o.agent.clone(),
                resources: o.resources.clone(),
            })
            .collect()
    }

    /// Every framework the master holds (not the completed ones).
    pub fn frameworks_view(&self) -> Vec<FrameworkView> {
        self.frameworks
            .iter()
            .map(|(id, f)| FrameworkView {
                id: id.clone(),
                name: f.info.name.clone(),
                actor: f.actor.clone(),
                active: f.active,
                share: self.alloc.share(id),
                tasks: f.tasks.len(),
            })
            .collect()
    }

    /// The framework id the master assigned to `actor`'s subscription.
    pub fn framework_of(&self, actor: &ActorId) -> Option<&str> {
        self.framework_by_actor.get(actor).map(String::as_str)
    }

    /// The agent id the master assigned to `actor`.
    pub fn agent_of(&self, actor: &ActorId) -> Option<&str> {
        self.agent_by_actor.get(actor).map(String::as_str)
    }

    /// Check the master's invariants. `Err` names the first that does not hold.
    ///
    /// 1. No agent is over-committed: its offers, live tasks and executors fit
    ///    in its total, each piece in what the others leave free, so no resource
    ///    is in two outstanding offers. The allocator agrees with the books.
    /// 2. Every outstanding offer belongs to an active framework that lists it,
    ///    on a registered, *connected* agent that lists it: offers of removed,
    ///    unreachable or disconnected agents have been rescinded. The allocator
    ///    has deactivated exactly the disconnected agents.
    /// 3. Every task was launched from an offer made to its own framework
    ///    ("only an offer's framework uses it"), and the agents' and
    ///    frameworks' task lists agree; a task whose agent is not registered
    ///    is TASK_UNREACHABLE on an unreachable agent.
    /// 4. Every subscription points at an active framework and back.
    ///
    /// The cost is linear in agents + offers + tasks (each lookup a map
    /// probe), so the world can run it after every step.
    pub fn check_invariants(&self) -> Result<(), String> {
        for (aid, agent) in &self.agents {
            let host = &agent.info.hostname;
            let mut pieces: Vec<(String, &Resources)> = Vec::new();
            for oid in &agent.offers {
                let o = self.offers.get(oid).ok_or_else(|| format!("{host}: offer {oid} is not in the offers book"))?;
                if o.agent != *aid {
                    return Err(format!("offer {oid} is listed on {host} but is for agent {}", o.agent));
                }
                pieces.push((format!("offer {}", short_id(oid)), &o.resources));
            }
            for (fid, tid) in &agent.tasks {
                let t = self
                    .frameworks
                    .get(fid)
                    .and_then(|f| f.tasks.get(tid))
                    .ok_or_else(|| format!("{host} lists task {tid} of framework {fid}, which does not know it"))?;
                if t.agent != *aid {
                    return Err(format!("{host} lists task {tid}, which its framework places on {}", t.agent));
                }
                if !t.state.is_terminal() {
                    pieces.push((format!("task {tid}"), &t.resources));
                }
            }
            for ((_, eid), r) in &agent.executors {
                pieces.push((format!("executor {eid}"), r));
            }
            let mut acc = Resources::new();
            let mut offered = Resources::new();
            for (what, r) in &pieces {
                let free = agent.total.minus(&acc);
                if !free.contains(r) {
                    return Err(format!("{host} over-committed: {what} [{r}] does not fit in the free [{free}]"));
                }
                acc.add(r);
                if what.starts_with("offer") {
                    offered.add(r);
                }
            }
            let slot = self.alloc.agent(aid).ok_or_else(|| format!("{host} is not in the allocator"))?;
            if !(slot.allocated.contains(&acc) && acc.contains(&slot.allocated)) {
                return Err(format!(
                    "{host}: allocator says allocated [{}] but offers + tasks + executors are [{acc}]",
                    slot.allocated
                ));
            }
            if !(agent.offered.contains(&offered) && offered.contains(&agent.offered)) {
                return Err(format!("{host}: offered [{}] but its offers sum to [{offered}]", agent.offered));
            }
            if slot.deactivated == agent.connected {
                return Err(format!(
                    "{host} is {} but the allocator has it {}",
                    if agent.connected { "connected" } else { "disconnected" },
                    if slot.deactivated { "deactivated" } else { "active" }
                ));
            }
            if self.agent_by_actor.get(&agent.actor) != Some(aid) {
                return Err(format!("{host}'s actor {} does not map back to it", agent.actor));
            }
            if self.unreachable.contains(aid) || self.removed.contains(aid) {
                return Err(format!("{host} is registered and also removed or unreachable"));
            }
        }
        for (oid, o) in &self.offers {
            let fw =
                self.frameworks.get(&o.framework).ok_or_else(|| format!("offer {oid} is for an unknown framework"))?;
            if !fw.active {
                return Err(format!("offer {oid} is outstanding to inactive framework {}", o.framework));
            }
            if !fw.offers.contains(oid) {
                return Err(format!("offer {oid} is not in framework {}'s offers", o.framework));
            }
            if o.offer.framework_id.value != o.framework {
                return Err(format!("offer {oid} names framework {}", o.offer.framework_id.value));
            }
            let agent = self.agents.get(&o.agent).filter(|a| a.offers.contains(oid)).ok_or_else(|| {
                let state = if self.unreachable.contains(&o.agent) { "unreachable" } else { "removed or unknown" };
                format!("offer {oid} is on agent {} which is {state} or does not list it", o.agent)
            })?;
            if !agent.connected {
                return Err(format!("offer {oid} is outstanding on disconnected agent {}", agent.info.hostname));
            }
        }
        for (fid, fw) in &self.frameworks {
            for (tid, t) in &fw.tasks {
                if let Some((oid, offered_to)) = &t.launched_from
                    && offered_to != fid
                {
                    return Err(format!(
                        "task {tid} of framework {fid} was launched from offer {oid}, made to framework {offered_to}"
                    ));
                }
                match self.agents.get(&t.agent) {
                    Some(a) if !a.tasks.contains(&(fid.clone(), tid.clone())) => {
                        return Err(format!("task {tid} of {fid} is on {} which does not list it", a.info.hostname));
                    }
                    Some(_) => {}
                    None if t.state == TaskState::TaskUnreachable && self.unreachable.contains(&t.agent) => {}
                    None => {
                        return Err(format!(
                            "task {tid} of {fid} is {} on agent {}, which is not registered",
                            state_name(t.state),
                            t.agent
                        ));
                    }
                }
            }
            for oid in &fw.offers {
                if !self.offers.contains_key(oid) {
                    return Err(format!("framework {fid} lists offer {oid}, which is not outstanding"));
                }
            }
            if fw.active && fw.actor.as_ref().and_then(|a| self.framework_by_actor.get(a)) != Some(fid) {
                return Err(format!("active framework {fid} has no subscription mapping to it"));
            }
        }
        for (actor, fid) in &self.framework_by_actor {
            let fw = self.frameworks.get(fid).ok_or_else(|| format!("{actor} is subscribed as unknown {fid}"))?;
            if !fw.active || fw.actor.as_ref() != Some(actor) {
                return Err(format!("{actor} maps to framework {fid}, whose subscriber it is not (or it is inactive)"));
            }
        }
        Ok(())
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
    fn rescind(&mut self, oid: &str, out: &mut Outbox<Timer>) {
        let Some(o) = self.take_offer(oid) else { return };
        self.alloc.recover(out.now(), &o.framework, &o.agent, &o.resources, None);
        self.stats.offers_rescinded += 1;
        let mut e = event(EventType::Rescind);
        e.rescind = Some(scheduler::event::Rescind { offer_id: o.offer.id.clone() });
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
    fn take_offer(&mut self, oid: &str) -> Option<Box<OfferEntry>> {
        let o = self.offers.remove(oid)?;
        if let Some(a) = self.agents.get_mut(&o.agent) {
            a.offers.remove(oid);
            a.offered.subtract(&o.resources);
        }
        if let Some(f) = self.frameworks.get_mut(&o.framework) {
            f.offers.remove(oid);
        }
        Some(o)
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

    fn start(&mut self, out: &mut Outbox<Timer>) {
        // `HierarchicalAllocatorProcess::initialize` starts the periodic loop.
        out.set_timer(self.cfg.allocation_interval, Timer::Allocation);
        out.note_with(|| {
            format!(
                "master {} up at {}:{}; allocating every {:?}",
                short_id(&self.cfg.id),
                self.cfg.hostname,
                self.cfg.port,
                self.cfg.allocation_interval
            )
        });
    }

    fn on_timer(&mut self, t: Timer, out: &mut Outbox<Timer>) {
        match t {
            Timer::Allocation => {
                // The periodic cycle covers every agent, so whatever was pending
                // is served by it too (the pending timer then finds nothing to do).
                self.pending_all = false;
                self.pending_agents.clear();
                let all = self.alloc.agent_ids();
                self.run_cycle(all, out);
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
                    self.run_cycle(candidates, out);
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
            Timer::OfferTimeout { offer } => {
                // `--offer_timeout`: Master::offerTimeout rescinds the offer.
                let Some(framework) = self.offers.get(&offer).map(|o| o.framework.clone()) else { return };
                self.rescind(&offer, out);
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
            Msg::RegisterSlave(m) => self.register_slave(from, m, out),
            Msg::ReregisterSlave(m) => self.reregister_slave(from, m, out),
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
            Msg::StatusUpdate(m) => self.status_update(from, m, out),
            Msg::ExitedExecutor(m) => self.exited_executor(from, m, out),
            Msg::SchedulerCall(c) => self.scheduler_call(from, c, out),
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

    // ----- agents ---------------------------------------------------------------------

    fn slave_registered(&self, aid: &str) -> internal::SlaveRegisteredMessage {
        internal::SlaveRegisteredMessage {
            slave_id: v1::AgentId { value: aid.to_string() },
            connection: Some(self.connection()),
        }
    }

    fn connection(&self) -> internal::MasterSlaveConnection {
        let total = self.cfg.agent_ping_timeout.saturating_mul(self.cfg.max_agent_ping_timeouts);
        internal::MasterSlaveConnection { total_ping_timeout_seconds: Some(total.as_secs_f64()) }
    }

    fn register_slave(&mut self, from: ActorId, m: internal::RegisterSlaveMessage, out: &mut Outbox<Timer>) {
        if let Some(aid) = self.agent_by_actor.get(&from).cloned() {
            if self.agents.get(&aid).is_some_and(|a| a.connected) {
                // Why re-send: the agent retries RegisterSlave until it hears back
                // (`doReliableRegistration`); Mesos answers a retry from an admitted
                // agent with the same SlaveRegisteredMessage.
                out.send(&from, self.slave_registered(&aid));
                return;
            }
            // Why remove: a disconnected agent registering afresh from the same
            // address failed its recovery; `Master::registerSlave` removes the
            // old one ("a new agent registered at the same address") and admits
            // the new one.
            self.remove_agent(&aid, Removal::Replaced, out);
        }
        let aid = format!("{}-S{}", self.cfg.id, self.next_agent);
        self.next_agent += 1;
        let mut info = m.slave;
        info.id = Some(v1::AgentId { value: aid.clone() });
        let total = Resources::from_protos(&info.resources);
        out.send(&from, self.slave_registered(&aid));
        out.note_with(|| format!("agent {} registered as {} with [{total}]", info.hostname, short_id(&aid)));
        let hostname = info.hostname.clone();
        self.alloc.add_agent(&aid, total.clone());
        let epoch = self.new_epoch();
        self.agents.insert(aid.clone(), Agent::new(from.clone(), info, total, epoch));
        self.agent_by_actor.insert(from, aid.clone());
        self.record(out.now(), MasterEvent::AgentRegistered { agent_id: aid.clone(), hostname });
        // SlaveObserver::initialize pings at once, then every agent_ping_timeout.
        self.ping(&aid, out);
        // `addSlave` triggers an allocation of that agent only.
        self.trigger(Some(&aid), out);
    }

    fn slave_reregistered(
        &self,
        aid: &str,
        reconciliations: Vec<internal::ReconcileTasksMessage>,
    ) -> internal::SlaveReregisteredMessage {
        internal::SlaveReregisteredMessage {
            slave_id: v1::AgentId { value: aid.to_string() },
            reconciliations,
            connection: Some(self.connection()),
        }
    }

    /// `Master::reregisterSlave`: a known agent reconnects
    /// ([`Master::reregister_known`]); any other is (re-)admitted with what it
    /// reports ([`Master::readmit`]).
    fn reregister_slave(&mut self, from: ActorId, m: internal::ReregisterSlaveMessage, out: &mut Outbox<Timer>) {
        let Some(aid) = m.slave.id.as_ref().map(|i| i.value.clone()).filter(|v| !v.is_empty()) else {
            out.note_with(|| format!("master ignores ReregisterSlave from {from} without an agent id"));
            return;
        };
        match self.agents.get(&aid) {
            Some(a) if a.info.hostname != m.slave.hostname => {
                // Why refuse: maintenance is per machine, so Mesos does not let a
                // known agent come back as another host (`reregisterSlave`).
                let message = "Agent attempted to re-register with different IP / hostname".to_string();
                out.send(&from, internal::ShutdownMessage { message: Some(message) });
            }
            Some(_) => self.reregister_known(from, &aid, m, out),
            None => self.readmit(from, &aid, m, out),
        }
    }

    /// A registered agent re-registers: reply, reconcile its tasks and
    /// executors with the master's (`Master::reconcile(Slave*, …)`), reactivate
    /// it if it was disconnected, and restart its observer.
    fn reregister_known(
        &mut self,
        from: ActorId,
        aid: &str,
        m: internal::ReregisterSlaveMessage,
        out: &mut Outbox<Timer>,
    ) {
        let now = out.now();
        let agent = self.agents.get_mut(aid).expect("checked by the caller");
        let was = if agent.connected { AgentPrior::Connected } else { AgentPrior::Disconnected };
        let old_actor = std::mem::replace(&mut agent.actor, from.clone());
        let lost_at_disconnect = std::mem::take(&mut agent.lost_at_disconnect);
        let known_tasks = agent.tasks.clone();
        let known_executors: Vec<(String, String)> = agent.executors.keys().cloned().collect();
        let hostname = agent.info.hostname.clone();
        if old_actor != from && self.agent_by_actor.get(&old_actor).map(String::as_str) == Some(aid) {
            self.agent_by_actor.remove(&old_actor);
        }
        self.agent_by_actor.insert(from.clone(), aid.to_string());
        let reported: BTreeSet<(String, String)> =
            m.tasks.iter().map(|t| (t.framework_id.value.clone(), t.task_id.value.clone())).collect();
        // Tasks the master has and the agent did not list: a RunTask the agent
        // never got, or one that crossed this message (it was sent before the
        // RunTask arrived: a slow or stale ReregisterSlaveMessage). Only the
        // agent can tell which, so the master asks it
        // (`Master::reconcileKnownSlave`): SlaveReregisteredMessage carries them
        // as `reconciliations`, and the agent answers TASK_LOST (TASK_DROPPED if
        // PARTITION_AWARE), REASON_RECONCILIATION, for each it does not know.
        // The master keeps the task until that update arrives.
        let mut reconciliations: BTreeMap<&str, internal::ReconcileTasksMessage> = BTreeMap::new();
        let mut forgotten = Vec::new();
        for (fid, tid) in known_tasks.difference(&reported) {
            let Some(fw) = self.frameworks.get(fid) else { continue };
            let Some(task) = fw.tasks.get(tid) else { continue };
            if task.state.is_terminal() {
                // The framework already has a terminal state and the agent has
                // forgotten the task, so its acknowledgement can go nowhere.
                forgotten.push((fid.clone(), tid.clone()));
                continue;
            }
            let reconcile = reconciliations.entry(fid).or_insert_with(|| internal::ReconcileTasksMessage {
                framework_id: v1::FrameworkId { value: fid.clone() },
                statuses: Vec::new(),
                framework: Some(fw.info.clone()),
            });
            // Why the master's view of the state: the agent ignores it, but
            // Mesos sends it "since it might be useful in the future".
            reconcile.statuses.push(v1::TaskStatus {
                task_id: task.info.task_id.clone(),
                agent_id: Some(v1::AgentId { value: aid.to_string() }),
                state: task.state as i32,
                source: Some(v1::task_status::Source::Master as i32),
                message: Some("Reconciliation request".to_string()),
                reason: Some(Reason::Reconciliation as i32),
                timestamp: Some(now.as_secs_f64()),
                ..Default::default()
            });
        }
        let reconciliations: Vec<internal::ReconcileTasksMessage> = reconciliations.into_values().collect();
        for (fid, tid) in forgotten {
            self.forget_task(&fid, &tid, now);
        }
        // `reconcileKnownSlave` sends SlaveReregisteredMessage before anything else.
        out.send(&from, self.slave_reregistered(aid, reconciliations));

        // Executors the master has and the agent does not are removed
        // (`reconcile`: "possibly unknown to the agent").
        let reported_executors: BTreeSet<(String, String)> = m
            .executor_infos
            .iter()
            .filter_map(|e| Some((e.framework_id.as_ref()?.value.clone(), e.executor_id.value.clone())))
            .collect();
        for (fid, eid) in known_executors {
            if !reported_executors.contains(&(fid.clone(), eid.clone())) {
                self.forget_executor(aid, &fid, &eid, now);
            }
        }
        // Tasks the agent has and the master does not.
        let mut shut_down = BTreeSet::new();
        for t in &m.tasks {
            let key = (t.framework_id.value.clone(), t.task_id.value.clone());
            if known_tasks.contains(&key) {
                continue;
            }
            let fid = &key.0;
            if self.completed.contains(fid) {
                // `reconcile`: an agent that re-registers with a completed
                // framework is told to shut it down (the message was lost).
                if shut_down.insert(fid.clone()) {
                    let m = internal::ShutdownFrameworkMessage { framework_id: t.framework_id.clone() };
                    out.send(&from, m);
                }
            } else if lost_at_disconnect.contains(&key) {
                // Why kill: this master told the framework the task was LOST when
                // the agent disconnected; like the tasks in `killedTasks` that
                // `reconcile` finds still alive, it is killed now.
                if !TaskState::try_from(t.state).is_ok_and(TaskState::is_terminal) {
                    let m = internal::KillTaskMessage {
                        framework_id: t.framework_id.clone(),
                        task_id: t.task_id.clone(),
                        kill_policy: None,
                    };
                    out.send(&from, m);
                }
            } else {
                // Why not adopt it: Mesos assumes a known agent has no task its
                // master does not ("slave removes task -> master removes task",
                // `reconcileKnownSlave`) and adds none here. A stale message can
                // still list a task that has ended and been forgotten since;
                // adopting it would hold its resources forever.
                out.note_with(|| {
                    format!(
                        "agent {} lists task {} of framework {} that this master does not know; not added",
                        short_id(aid),
                        t.task_id.value,
                        short_id(fid)
                    )
                });
            }
        }
        let agent = self.agents.get_mut(aid).expect("still registered");
        if !agent.connected {
            // Reactivated after reconciliation, so the allocator's next offer
            // of the agent includes what reconciliation freed (`reregisterSlave`).
            agent.connected = true;
            self.alloc.activate_agent(aid);
        }
        // A new observer: fresh miss count, and the disconnected agent's
        // pending agent_reregister_timeout goes stale with the old epoch.
        agent.epoch = self.next_epoch;
        self.next_epoch += 1;
        agent.misses = 0;
        self.record(now, MasterEvent::AgentReregistered { agent_id: aid.to_string(), hostname: hostname.clone(), was });
        out.note_with(|| format!("agent {hostname} re-registered (it was {was})"));
        self.ping(aid, out);
    }

    /// An agent this master does not have re-registers: one it marked
    /// unreachable or removed (a healed partition), or one it never knew (this
    /// master is a failed-over one). `Master::__reregisterSlave` admits it with
    /// every task and executor it reports, except those of frameworks this
    /// master has completed, which are shut down on it.
    ///
    /// Why nothing else is shut down: since Mesos 1.5 (MESOS-7215, "Do not
    /// kill non-partition-aware tasks upon agent reregistration") the tasks of
    /// non-PARTITION_AWARE frameworks keep running, and the master sends each
    /// connected framework the task's latest state again, source MASTER,
    /// REASON_AGENT_REREGISTERED ("Unreachable agent re-reregistered", or
    /// "Unknown agent reregistered"): e.g. TASK_RUNNING after the TASK_LOST it
    /// got when the agent became unreachable. Mesos skips those updates only for
    /// an agent it recovered from its registry; mesocosm models no registry (as
    /// `--registry=in_memory`, which a failed-over master starts empty), so a
    /// failed-over master sends them too, to frameworks that have re-subscribed.
    fn readmit(&mut self, from: ActorId, aid: &str, m: internal::ReregisterSlaveMessage, out: &mut Outbox<Timer>) {
        let now = out.now();
        if let Some(other) = self.agent_by_actor.get(&from).cloned() {
            // The same address now speaks for another agent id: the old one is
            // gone ("a new agent registered at the same address").
            self.remove_agent(&other, Removal::Replaced, out);
        }
        let was_removed = self.removed.remove(aid);
        let was = if self.unreachable.remove(aid) {
            AgentPrior::Unreachable
        } else if was_removed {
            AgentPrior::Removed
        } else {
            AgentPrior::Unknown
        };
        let mut info = m.slave.clone();
        info.id = Some(v1::AgentId { value: aid.to_string() });
        let total = Resources::from_protos(&info.resources);
        let hostname = info.hostname.clone();
        self.alloc.add_agent(aid, total.clone());
        let epoch = self.new_epoch();
        self.agents.insert(aid.to_string(), Agent::new(from.clone(), info, total, epoch));
        self.agent_by_actor.insert(from.clone(), aid.to_string());

        // Every task but those of completed frameworks is recovered, and its
        // latest state forwarded (dropped for a framework that is unknown or
        // not connected: `send_to_framework`).
        let completed_now = self.completed.clone();
        let completed = |fid: &str| completed_now.iter().any(|c| c == fid);
        let tasks: Vec<v1::Task> = m.tasks.iter().filter(|t| !completed(&t.framework_id.value)).cloned().collect();
        self.recover_frameworks(&m.frameworks, &tasks, now);
        let message = if was == AgentPrior::Unreachable {
            "Unreachable agent re-reregistered"
        } else {
            "Unknown agent reregistered"
        };
        for t in &tasks {
            self.adopt_task(aid, t);
            let state = TaskState::try_from(t.state).unwrap_or(TaskState::TaskStaging);
            let mut status =
                master_status(now, &t.task_id, Some(aid), state, Reason::AgentReregistered, message.into());
            status.executor_id.clone_from(&t.executor_id);
            self.send_to_framework(&t.framework_id.value, update_event(status), out);
        }
        out.send(&from, self.slave_reregistered(aid, Vec::new()));

        // Frameworks the master completed (removed while the agent was away)
        // are shut down there: the agent missed the ShutdownFrameworkMessage.
        let framework_ids: BTreeSet<&str> = m
            .frameworks
            .iter()
            .filter_map(|f| f.id.as_ref().map(|i| i.value.as_str()))
            .chain(m.tasks.iter().map(|t| t.framework_id.value.as_str()))
            .chain(m.executor_infos.iter().filter_map(|e| e.framework_id.as_ref().map(|f| f.value.as_str())))
            .collect();
        let shut_down: BTreeSet<String> =
            framework_ids.into_iter().filter(|fid| completed(fid)).map(str::to_string).collect();
        for fid in &shut_down {
            let m = internal::ShutdownFrameworkMessage { framework_id: v1::FrameworkId { value: fid.clone() } };
            out.send(&from, m);
        }
        for e in &m.executor_infos {
            let Some(fid) = e.framework_id.as_ref().map(|f| f.value.clone()) else { continue };
            if shut_down.contains(&fid) || !self.frameworks.contains_key(&fid) {
                continue;
            }
            let r = Resources::from_protos(&e.resources);
            let agent = self.agents.get_mut(aid).expect("just added");
            agent.used.add(&r);
            agent.executors.insert((fid.clone(), e.executor_id.value.clone()), r.clone());
            self.alloc.allocate_used(&fid, aid, &r);
        }
        self.record(now, MasterEvent::AgentReregistered { agent_id: aid.to_string(), hostname: hostname.clone(), was });
        out.note_with(|| {
            format!(
                "agent {hostname} re-registered as {} (it was {was}) with {} task(s), recovered and their latest \
                 state sent to their frameworks{}",
                short_id(aid),
                tasks.len(),
                if shut_down.is_empty() {
                    String::new()
                } else {
                    format!("; shutting down {} completed framework(s) on it", shut_down.len())
                }
            )
        });
        self.ping(aid, out);
        // `addSlave` triggers an allocation of that agent only.
        self.trigger(Some(aid), out);
    }

    /// `frameworks.recovered`: frameworks of reported tasks that this master
    /// does not know are added inactive, from the FrameworkInfo the agent
    /// reports (or, if it reports none, known only by id), until they
    /// re-subscribe. Why no failover timer: Mesos arms none for them either
    /// (failover_timeout does not survive a master failover, MESOS-4659).
    fn recover_frameworks(&mut self, reported: &[v1::FrameworkInfo], tasks: &[v1::Task], now: SimTime) {
        for t in tasks {
            let fid = &t.framework_id.value;
            if self.frameworks.contains_key(fid) || self.completed.contains(fid) {
                continue;
            }
            let info = reported
                .iter()
                .find(|f| f.id.as_ref().is_some_and(|i| i.value == *fid))
                .cloned()
                .unwrap_or_else(|| v1::FrameworkInfo { id: Some(t.framework_id.clone()), ..Default::default() });
            let partition_aware = is_partition_aware(&info);
            let name = info.name.clone();
            let role = allocation_role(&info);
            self.frameworks.insert(
                fid.clone(),
                Framework {
                    actor: None,
                    info,
                    active: false,
                    partition_aware,
                    epoch: 0,
                    tasks: BTreeMap::new(),
                    offers: BTreeSet::new(),
                },
            );
            self.alloc.add_framework(fid, &role, false);
            self.alloc.set_gpu_resources(fid, has_capability(&self.frameworks[fid].info, Capability::GpuResources));
            self.record(now, MasterEvent::FrameworkRecovered { framework_id: fid.clone(), name });
        }
    }

    /// Track a task a (re-)registering agent reports (`Slave::addTask`): a
    /// partition-aware task the master kept as TASK_UNREACHABLE comes back to
    /// life; any other becomes known. A live task's resources are charged to
    /// its framework. The framework must be known (see `recover_frameworks`).
    fn adopt_task(&mut self, aid: &str, t: &v1::Task) {
        let fid = t.framework_id.value.clone();
        let tid = t.task_id.value.clone();
        let state = TaskState::try_from(t.state).unwrap_or(TaskState::TaskStaging);
        let resources = Resources::from_protos(&t.resources);
        let Some(fw) = self.frameworks.get_mut(&fid) else { return };
        let latest = t.statuses.last().cloned();
        let task = fw.tasks.entry(tid.clone()).or_insert_with(|| Task {
            info: v1::TaskInfo {
                name: t.name.clone(),
                task_id: t.task_id.clone(),
                agent_id: t.agent_id.clone(),
                resources: t.resources.clone(),
                ..Default::default()
            },
            agent: aid.to_string(),
            state,
            resources: Resources::new(),
            latest: None,
            update_state: None,
            update_uuid: None,
            launched_from: None,
        });
        task.agent = aid.to_string();
        task.state = state;
        task.latest = latest.or(task.latest.take());
        task.update_state = t.status_update_state.and_then(|s| TaskState::try_from(s).ok());
        task.update_uuid = t.status_update_uuid.clone();
        task.resources = if state.is_terminal() { Resources::new() } else { resources };
        let charged = task.resources.clone();
        let agent = self.agents.get_mut(aid).expect("the caller registered it");
        agent.tasks.insert((fid.clone(), tid));
        agent.used.add(&charged);
        self.alloc.allocate_used(&fid, aid, &charged);
    }

    /// `Master::exited` for an agent → `disconnect(Slave*)`: tasks of
    /// frameworks that do not checkpoint are lost at once, the agent is
    /// deactivated and its offers rescinded, and it has
    /// `agent_reregister_timeout` to come back before it is marked unreachable.
    /// The observer keeps pinging (with `connected=false`).
    fn agent_disconnected(&mut self, aid: &str, out: &mut Outbox<Timer>) {
        let now = out.now();
        let Some(agent) = self.agents.get_mut(aid) else { return };
        if !agent.connected {
            // Mesos ignores duplicate exited events for a disconnected agent (MESOS-675).
            return;
        }
        agent.connected = false;
        let epoch = agent.epoch;
        let hostname = agent.info.hostname.clone();
        let tasks: Vec<(String, String)> = agent.tasks.iter().cloned().collect();
        let executors: Vec<(String, String)> = agent.executors.keys().cloned().collect();
        let offers: Vec<String> = agent.offers.iter().cloned().collect();
        self.record(now, MasterEvent::AgentDisconnected { agent_id: aid.to_string(), hostname: hostname.clone() });
        // `removeFramework(Slave*, Framework*)` for every framework whose
        // FrameworkInfo.checkpoint is false (Spark leaves it unset, and
        // spark.mesos.checkpoint defaults to false): its tasks there are
        // TASK_LOST, REASON_AGENT_DISCONNECTED, and its executors removed.
        let checkpoints = |m: &Master, fid: &str| m.frameworks.get(fid).is_some_and(|f| f.info.checkpoint());
        let mut lost = 0;
        for (fid, tid) in tasks {
            if checkpoints(self, &fid) {
                continue;
            }
            let Some(task) = self.frameworks.get(&fid).and_then(|f| f.tasks.get(&tid)) else { continue };
            let mut status = master_status(
                now,
                &task.info.task_id,
                Some(aid),
                TaskState::TaskLost,
                Reason::AgentDisconnected,
                format!("Agent {hostname} disconnected"),
            );
            status.executor_id = task.info.executor.as_ref().map(|e| e.executor_id.clone());
            let terminal = task.state.is_terminal();
            self.forget_task(&fid, &tid, now);
            if !terminal {
                lost += 1;
                self.send_to_framework(&fid, update_event(status), out);
                if let Some(a) = self.agents.get_mut(aid) {
                    a.lost_at_disconnect.insert((fid, tid));
                }
            }
        }
        for (fid, eid) in executors {
            if !checkpoints(self, &fid) {
                self.forget_executor(aid, &fid, &eid, now);
            }
        }
        // `deactivate(Slave*)`: no more offers of it, and the outstanding ones rescinded.
        self.alloc.deactivate_agent(aid);
        for oid in offers {
            self.rescind(&oid, out);
        }
        out.set_timer(self.cfg.agent_reregister_timeout, Timer::ReregisterTimeout { agent: aid.to_string(), epoch });
        out.note_with(|| {
            format!(
                "agent {hostname} disconnected: deactivated, {lost} task(s) of non-checkpointing frameworks lost; \
                 unreachable unless it re-registers within {:?}",
                self.cfg.agent_reregister_timeout
            )
        });
    }

    fn new_epoch(&mut self) -> u64 {
        self.next_epoch += 1;
        self.next_epoch - 1
    }

    fn ping(&mut self, aid: &str, out: &mut Outbox<Timer>) {
        let Some(a) = self.agents.get_mut(aid) else { return };
        a.pinged = true;
        // Why `connected`: SlaveObserver::ping sends the master's view, and an
        // agent told `connected=false` re-registers at once (one-way partitions).
        out.send(&a.actor, internal::PingSlaveMessage { connected: a.connected });
        out.set_timer(self.cfg.agent_ping_timeout, Timer::PingTimeout { agent: aid.to_string(), epoch: a.epoch });
    }

    fn ping_timeout(&mut self, aid: &str, epoch: u64, out: &mut Outbox<Timer>) {
        let max = self.cfg.max_agent_ping_timeouts;
        let Some(a) = self.agents.get_mut(aid) else { return };
        if a.epoch != epoch {
            return;
        }
        // SlaveObserver::timeout: a ping still unanswered is a miss.
        if a.pinged {
            a.misses += 1;
            let (host, misses) = (a.info.hostname.clone(), a.misses);
            out.note_with(|| format!("agent {host} missed pong {misses}/{max}"));
            if misses >= max {
                self.remove_agent(aid, Removal::Unreachable, out);
                return;
            }
        }
        self.ping(aid, out);
    }

    /// `markUnreachable` / `removeSlave` → `__removeSlave`: the agent leaves
    /// the allocator; its tasks are TASK_UNREACHABLE (PARTITION_AWARE frameworks,
    /// which keep them, if it is only unreachable), TASK_GONE (PARTITION_AWARE,
    /// removed for good) or TASK_LOST (the others), reason REASON_AGENT_REMOVED,
    /// source MASTER, best-effort (the master never retries its own updates);
    /// its offers are rescinded; every connected framework gets FAILURE{agent_id}
    /// (`LostSlaveMessage`, "agent lost").
    fn remove_agent(&mut self, aid: &str, removal: Removal, out: &mut Outbox<Timer>) {
        let now = out.now();
        let Some(mut agent) = self.agents.remove(aid) else { return };
        if self.agent_by_actor.get(&agent.actor).map(String::as_str) == Some(aid) {
            self.agent_by_actor.remove(&agent.actor);
        }
        let host = agent.info.hostname.clone();
        let why = match removal {
            Removal::Unreachable => "health check timed out".to_string(),
            Removal::ReregisterTimeout => format!(
                "agent_reregister_timeout expired (did not re-register within {:?})",
                self.cfg.agent_reregister_timeout
            ),
            Removal::Unregistered => "agent unregistered".to_string(),
            Removal::Replaced => "a new agent registered at the same address".to_string(),
        };
        self.removed.insert(aid.to_string());
        if removal.unreachable() {
            self.unreachable.insert(aid.to_string());
        }
        self.alloc.remove_agent(aid);
        for (fid, tid) in &agent.tasks {
            let Some(fw) = self.frameworks.get_mut(fid) else { continue };
            let Some(task) = fw.tasks.get_mut(tid) else { continue };
            if task.state.is_terminal() {
                // Already over; its ack can no longer reach the agent.
                fw.tasks.remove(tid);
                continue;
            }
            let state = match (removal.unreachable(), fw.partition_aware) {
                (_, false) => TaskState::TaskLost,
                (true, true) => TaskState::TaskUnreachable,
                (false, true) => TaskState::TaskGone,
            };
            let mut status = master_status(
                now,
                &task.info.task_id,
                Some(aid),
                state,
                Reason::AgentRemoved,
                format!("Agent {host} removed: {why}"),
            );
            status.executor_id = task.info.executor.as_ref().map(|e| e.executor_id.clone());
            if state == TaskState::TaskUnreachable {
                status.unreachable_time = Some(v1::TimeInfo {
                    nanoseconds: i64::try_from(now.micros()).unwrap_or(i64::MAX).saturating_mul(1000),
                });
                // A partition-aware framework's task stays known (it may come back).
                task.state = state;
                task.resources = Resources::new();
                task.latest = Some(status.clone());
            } else {
                fw.tasks.remove(tid);
            }
            self.send_to_framework(fid, update_event(status), out);
        }
        // Offers on the agent are rescinded (the allocator already forgot the agent).
        for oid in std::mem::take(&mut agent.offers) {
            self.rescind(&oid, out);
        }
        // LostSlaveMessage → FAILURE{agent_id} to every connected framework.
        for fw in self.frameworks.values().filter(|f| f.active) {
            let mut e = event(EventType::Failure);
            e.failure = Some(scheduler::event::Failure {
                agent_id: Some(v1::AgentId { value: aid.to_string() }),
                executor_id: None,
                status: None,
            });
            if let Some(actor) = &fw.actor {
                out.send(actor, e);
            }
        }
        let event = if removal.unreachable() {
            MasterEvent::AgentUnreachable { agent_id: aid.to_string(), hostname: host.clone(), reason: why.clone() }
        } else {
            MasterEvent::AgentRemoved { agent_id: aid.to_string(), hostname: host.clone(), reason: why.clone() }
        };
        self.record(now, event);
        out.note(match removal {
            Removal::Unreachable => format!(
                "agent {host} unreachable after {} missed pongs ({:?}); removed from the allocator, its tasks lost",
                self.cfg.max_agent_ping_timeouts,
                self.cfg.agent_ping_timeout.saturating_mul(self.cfg.max_agent_ping_timeouts)
            ),
            _ => format!("agent {host} removed: {why}"),
        });
    }

    fn exited_executor(&mut self, from: ActorId, m: internal::ExitedExecutorMessage, out: &mut Outbox<Timer>) {
        let Some(aid) = self.agent_by_actor.get(&from).cloned() else { return };
        let fid = m.framework_id.value.clone();
        let eid = m.executor_id.value.clone();
        let held = self.agents.get_mut(&aid).and_then(|a| {
            let r = a.executors.remove(&(fid.clone(), eid.clone()))?;
            a.used.subtract(&r);
            Some(r)
        });
        match held {
            Some(r) => {
                self.alloc.recover(out.now(), &fid, &aid, &r, None);
                // `Master::exitedExecutor` forwards the exit: FAILURE{agent, executor, status}.
                let mut e = event(EventType::Failure);
                e.failure = Some(scheduler::event::Failure {
                    agent_id: Some(m.slave_id.clone()),
                    executor_id: Some(m.executor_id.clone()),
                    status: Some(m.status),
                });
                self.send_to_framework(&fid, e, out);
            }
            None => {
                // Why no FAILURE: this is a command executor, which the agent
                // generates for a command task and the master never tracks; Mesos's
                // agent does not even report its exit (slave.cpp `executorTerminated`).
                out.note_with(|| {
                    format!(
                        "executor {eid} of {} exited with status {} on {}; a command executor, so no FAILURE event",
                        self.fw_name(&fid),
                        m.status,
                        self.host(&aid)
                    )
                });
            }
        }
    }

    fn status_update(&mut self, from: ActorId, m: internal::StatusUpdateMessage, out: &mut Outbox<Timer>) {
        let Some(aid) = self.agent_by_actor.get(&from).cloned() else {
            out.note_with(|| format!("master ignores a status update from unregistered {from}"));
            return;
        };
        let now = out.now();
        let upd = m.update;
        let fid = upd.framework_id.value.clone();
        let mut status = upd.status.clone();
        if status.uuid.is_none() {
            status.uuid = upd.uuid.clone();
        }
        let reported = status.state();
        // The agent forwards the head of the task's stream, and `latest_state`
        // tells the master where the task really is (`Master::updateTask`).
        let latest = upd.latest_state.and_then(|s| TaskState::try_from(s).ok()).unwrap_or(reported);
        let Some(fw) = self.frameworks.get_mut(&fid) else {
            out.note_with(|| format!("master drops an update for unknown framework {}", short_id(&fid)));
            return;
        };
        let tid = status.task_id.value.clone();
        let mut freed = None;
        if let Some(task) = fw.tasks.get_mut(&tid) {
            let was_terminal = task.state.is_terminal();
            task.state = latest;
            task.latest = Some(status.clone());
            task.update_state = Some(reported);
            task.update_uuid = status.uuid.clone();
            if !was_terminal && latest.is_terminal() {
                freed = Some(std::mem::take(&mut task.resources));
            }
            if reported.is_terminal() && status.uuid.is_none() {
                // Nothing will acknowledge it, so the task is done with.
                fw.tasks.remove(&tid);
                if let Some(a) = self.agents.get_mut(&aid) {
                    a.tasks.remove(&(fid.clone(), tid.clone()));
                }
            }
        }
        if let Some(r) = freed {
            if let Some(a) = self.agents.get_mut(&aid) {
                a.used.subtract(&r);
            }
            // A finished task's resources come back without a filter and without
            // triggering a cycle (MESOS-3078): the next periodic cycle offers them.
            self.alloc.recover(now, &fid, &aid, &r, None);
            out.note_with(|| {
                format!(
                    "task {tid} of {} is {}; [{r}] on {} free again",
                    self.fw_name(&fid),
                    state_name(latest),
                    self.host(&aid)
                )
            });
        }
        self.send_to_framework(&fid, update_event(status), out);
    }

    // ----- frameworks ------------------------------------------------------------------

    fn scheduler_call(&mut self, from: ActorId, call: scheduler::Call, out: &mut Outbox<Timer>) {
        let ty = call.r#type();
        if ty == CallType::Subscribe {
            return self.subscribe(from, call, out);
        }
        // `validation::scheduler::call::validate`: everything but SUBSCRIBE names its framework.
        let Some(claimed) = call.framework_id.as_ref().map(|f| f.value.clone()) else {
            out.send(&from, error_event("Expecting 'framework_id' to be present"));
            return;
        };
        // Why a refusal: the HTTP API answers a call from a scheduler without a
        // subscription for that framework with 403 "Framework is not subscribed"
        // (master/http.cpp `scheduler`) on that call, and leaves the event stream
        // alone (an ERROR event would tell the scheduler to abort).
        if self.framework_by_actor.get(&from) != Some(&claimed) {
            out.refuse(Refusal::Forbidden("Framework is not subscribed".into()));
            return;
        }
        let fid = claimed;
        match ty {
            CallType::Teardown => {
                self.remove_framework(&fid, "teardown", out);
                out.disconnect(&from);
            }
            CallType::Accept => match &call.accept {
                Some(a) => self.accept(&fid, a, out),
                None => out.send(&from, error_event("Expecting 'accept' to be present")),
            },
            CallType::Decline => match &call.decline {
                Some(d) => self.decline(&fid, d, out),
                None => out.send(&from, error_event("Expecting 'decline' to be present")),
            },
            CallType::Revive => {
                self.alloc.revive(&fid);
                out.note_with(|| format!("{} revived: filters cleared, allocating all agents", self.fw_name(&fid)));
                self.trigger(None, out);
            }
            CallType::Suppress => {
                self.alloc.suppress(&fid);
                out.note_with(|| format!("{} suppressed offers", self.fw_name(&fid)));
            }
            CallType::Kill => match &call.kill {
                Some(k) => self.kill(&fid, k, out),
                None => out.send(&from, error_event("Expecting 'kill' to be present")),
            },
            CallType::Acknowledge => match &call.acknowledge {
                Some(a) => self.acknowledge(&fid, a, out),
                None => out.send(&from, error_event("Expecting 'acknowledge' to be present")),
            },
            CallType::Reconcile => match &call.reconcile {
                Some(r) => self.reconcile(&fid, r, out),
                None => out.send(&from, error_event("Expecting 'reconcile' to be present")),
            },
            CallType::Shutdown => match &call.shutdown {
                Some(s) => {
                    if let Some(a) = self.agents.get(&s.agent_id.value) {
                        let m = internal::ShutdownExecutorMessage {
                            executor_id: Some(s.executor_id.clone()),
                            framework_id: Some(v1::FrameworkId { value: fid.clone() }),
                        };
                        out.send(&a.actor, m);
                    }
                }
                None => out.send(&from, error_event("Expecting 'shutdown' to be present")),
            },
            other => {
                out.note_with(|| format!("mesocosm's master does not model {} calls; ignored", other.as_str_name()))
            }
        }
    }

    fn subscribed_event(&self, fid: &str) -> scheduler::Event {
        let mut e = event(EventType::Subscribed);
        e.subscribed = Some(scheduler::event::Subscribed {
            framework_id: v1::FrameworkId { value: fid.to_string() },
            heartbeat_interval_seconds: Some(self.cfg.heartbeat_interval.as_secs_f64()),
            master_info: Some(self.info.clone()),
        });
        e
    }

    /// SUBSCRIBED, then the heartbeats. `Framework::heartbeat` starts a
    /// `ResponseHeartbeater` with no initial delay, so the first HEARTBEAT follows
    /// SUBSCRIBED at once and the next ones every `heartbeat_interval`.
    fn greet(&mut self, fid: &str, out: &mut Outbox<Timer>) {
        let fw = &self.frameworks[fid];
        let Some(actor) = &fw.actor else { return };
        out.send(actor, self.subscribed_event(fid));
        out.send(actor, event(EventType::Heartbeat));
        out.set_timer(self.cfg.heartbeat_interval, Timer::Heartbeat { framework: fid.to_string(), epoch: fw.epoch });
    }

    fn subscribe(&mut self, from: ActorId, call: scheduler::Call, out: &mut Outbox<Timer>) {
        let Some(sub) = call.subscribe else {
            out.send(&from, error_event("Expecting 'subscribe' to be present"));
            return;
        };
        let mut info = sub.framework_info;
        if call.framework_id != info.id {
            out.send(&from, error_event("'framework_id' differs from 'subscribe.framework_info.id'"));
            return;
        }
        if let Err(message) = failover_timeout(&info) {
            // `Master::subscribe` → `validateFramework`: refused with the error,
            // and the HTTP stream is closed (`refuseSubscription`).
            out.note_with(|| format!("refusing the subscription of framework {}: {message}", info.name));
            out.send(&from, error_event(&message));
            out.disconnect(&from);
            return;
        }
        let now = out.now();
        let claimed = info.id.as_ref().map(|i| i.value.clone()).filter(|v| !v.is_empty());
        let partition_aware = is_partition_aware(&info);
        let gpu_resources = has_capability(&info, Capability::GpuResources);
        let Some(fid) = claimed else {
            if let Some(fid) = self.framework_by_actor.get(&from).cloned() {
                // Why a retry: in mesocosm an actor holds one subscription, so a
                // second SUBSCRIBE without an id on it is the scheduler retrying.
                out.send(&from, self.subscribed_event(&fid));
                return;
            }
            // Master::newFrameworkId: "%s-%04d".
            let fid = format!("{}-{:04}", self.cfg.id, self.next_framework);
            self.next_framework += 1;
            info.id = Some(v1::FrameworkId { value: fid.clone() });
            out.note_with(|| format!("framework {} subscribed from {from} as {}", info.name, short_id(&fid)));
            let name = info.name.clone();
            let role = allocation_role(&info);
            self.frameworks.insert(fid.clone(), Framework::new(from.clone(), info, partition_aware));
            self.framework_by_actor.insert(from, fid.clone());
            self.alloc.add_framework(&fid, &role, true);
            self.alloc.set_gpu_resources(&fid, gpu_resources);
            self.record(now, MasterEvent::FrameworkSubscribed { framework_id: fid.clone(), name });
            self.greet(&fid, out);
            // `addFramework` of an active framework allocates all agents.
            self.trigger(None, out);
            return;
        };
        if self.completed.contains(&fid) {
            // Why refuse and hang up: a removed framework cannot come back
            // (`Master::subscribe`: "Framework has been removed"); the HTTP
            // API answers the SUBSCRIBE with the error and closes the stream.
            out.send(&from, error_event("Framework has been removed"));
            out.disconnect(&from);
            return;
        }
        if let Some(previous) = self.framework_by_actor.get(&from).filter(|f| **f != fid).cloned() {
            // This actor held another framework's subscription: a scheduler
            // re-subscribing as someone else leaves its old one disconnected.
            self.framework_disconnected(&previous, out);
        }
        let name = info.name.clone();
        let role = allocation_role(&info);
        let event = match self.frameworks.get_mut(&fid) {
            Some(fw) => {
                let old = fw.actor.replace(from.clone());
                let failover = fw.active && old.as_ref().is_some_and(|o| *o != from);
                fw.info = info;
                fw.partition_aware = partition_aware;
                fw.active = true;
                // The epoch makes the old stream's heartbeats and a pending
                // failover timeout stale.
                fw.epoch += 1;
                let offers: Vec<String> = fw.offers.iter().cloned().collect();
                if let Some(old) = old.filter(|o| *o != from) {
                    if self.framework_by_actor.get(&old) == Some(&fid) {
                        self.framework_by_actor.remove(&old);
                    }
                    if failover {
                        // `failoverFramework`: the old scheduler is told, then
                        // its stream is closed.
                        out.send(&old, error_event("Framework failed over"));
                        out.disconnect(&old);
                    }
                }
                // `_failoverFramework`: the offers are removed without RESCIND
                // and recovered without a filter, to be re-offered at once.
                for oid in offers {
                    if let Some(o) = self.take_offer(&oid) {
                        self.alloc.recover(now, &fid, &o.agent, &o.resources, None);
                        self.stats.offers_rescinded += 1;
                    }
                }
                out.note_with(|| {
                    format!("framework {name} {} from {from}", if failover { "failed over" } else { "re-subscribed" })
                });
                if failover {
                    MasterEvent::FrameworkFailedOver { framework_id: fid.clone(), name }
                } else {
                    MasterEvent::FrameworkResubscribed { framework_id: fid.clone(), name }
                }
            }
            None => {
                // An id this master never issued: after a master failover
                // Mesos accepts it as a re-subscription (`Master::subscribe`, master.cpp).
                out.note_with(|| format!("framework {name} re-subscribed with unknown id {}", short_id(&fid)));
                self.frameworks.insert(fid.clone(), Framework::new(from.clone(), info, partition_aware));
                self.alloc.add_framework(&fid, &role, true);
                MasterEvent::FrameworkResubscribed { framework_id: fid.clone(), name }
            }
        };
        self.record(now, event);
        self.framework_by_actor.insert(from, fid.clone());
        // A known framework may come back under another role (a failover with
        // a new FrameworkInfo): `updateFramework` moves it in the allocator.
        self.alloc.update_framework(&fid, &role);
        self.alloc.set_gpu_resources(&fid, gpu_resources);
        self.alloc.activate_framework(&fid);
        self.greet(&fid, out);
        self.trigger(None, out);
    }

    fn framework_disconnected(&mut self, fid: &str, out: &mut Outbox<Timer>) {
        let now = out.now();
        let Some(fw) = self.frameworks.get_mut(fid) else { return };
        if !fw.active {
            return;
        }
        fw.active = false;
        fw.epoch += 1;
        let epoch = fw.epoch;
        // Validated at SUBSCRIBE; a framework only recovered from an agent's
        // report never subscribed to this master and so never disconnects.
        let timeout = failover_timeout(&fw.info).unwrap_or(Duration::ZERO);
        let offers: Vec<String> = fw.offers.iter().cloned().collect();
        let name = fw.info.name.clone();
        if let Some(actor) = &fw.actor
            && self.framework_by_actor.get(actor).map(String::as_str) == Some(fid)
        {
            self.framework_by_actor.remove(actor);
        }
        self.alloc.deactivate_framework(fid);
        self.record(now, MasterEvent::FrameworkDisconnected { framework_id: fid.to_string(), name });
        // Deactivation rescinds the offers; a disconnected scheduler has no
        // stream for RESCIND, so they are just recovered (no filter).
        for oid in offers {
            if let Some(o) = self.take_offer(&oid) {
                self.alloc.recover(now, fid, &o.agent, &o.resources, None);
                self.stats.offers_rescinded += 1;
            }
        }
        if !timeout.is_zero() {
            out.set_timer(timeout, Timer::FailoverTimeout { framework: fid.to_string(), epoch });
            out.note_with(|| {
                format!(
                    "framework {} disconnected; removed in {}s unless it re-subscribes",
                    self.fw_name(fid),
                    timeout.as_secs_f64()
                )
            });
        } else {
            // FrameworkInfo.failover_timeout defaults to 0: removed at once.
            let reason = failover_reason(&self.frameworks[fid].info);
            self.remove_framework(fid, &reason, out);
        }
    }

    /// `Master::removeFramework`: its offers go (no RESCIND), its tasks and
    /// executors are released, every registered agent is told to shut it down,
    /// and it joins the completed frameworks (`max_completed_frameworks`).
    fn remove_framework(&mut self, fid: &str, why: &str, out: &mut Outbox<Timer>) {
        let Some(fw) = self.frameworks.remove(fid) else { return };
        if let Some(actor) = &fw.actor
            && self.framework_by_actor.get(actor).map(String::as_str) == Some(fid)
        {
            self.framework_by_actor.remove(actor);
        }
        for oid in &fw.offers {
            if let Some(o) = self.offers.remove(oid)
                && let Some(a) = self.agents.get_mut(&o.agent)
            {
                a.offers.remove(oid);
                a.offered.subtract(&o.resources);
            }
        }
        for (tid, task) in &fw.tasks {
            if let Some(a) = self.agents.get_mut(&task.agent) {
                a.tasks.remove(&(fid.to_string(), tid.clone()));
                if !task.state.is_terminal() {
                    a.used.subtract(&task.resources);
                }
            }
        }
        for a in self.agents.values_mut() {
            let mine: Vec<(String, String)> = a.executors.keys().filter(|(f, _)| f == fid).cloned().collect();
            for k in mine {
                if let Some(r) = a.executors.remove(&k) {
                    a.used.subtract(&r);
                }
            }
        }
        self.alloc.remove_framework(fid);
        for a in self.agents.values() {
            out.send(
                &a.actor,
                internal::ShutdownFrameworkMessage { framework_id: v1::FrameworkId { value: fid.to_string() } },
            );
        }
        self.completed.push_back(fid.to_string());
        if self.completed.len() > MAX_COMPLETED_FRAMEWORKS {
            self.completed.pop_front();
        }
        let name = fw.info.name.clone();
        self.record(
            out.now(),
            MasterEvent::FrameworkRemoved {
                framework_id: fid.to_string(),
                name: name.clone(),
                reason: why.to_string(),
            },
        );
        out.note_with(|| format!("framework {name} removed: {why}"));
    }

    // ----- the allocation cycle --------------------------------------------------------

    fn run_cycle(&mut self, candidates: BTreeSet<String>, out: &mut Outbox<Timer>) {
        self.stats.allocation_cycles += 1;
        let cycle = self.alloc.allocate(out.now(), &candidates);
        // One OFFERS event per framework per cycle (`Master::offer` is called
        // once per framework with all its agents).
        let mut per_fw: BTreeMap<String, Vec<v1::Offer>> = BTreeMap::new();
        for g in cycle.grants {
            self.note_grant(&g, out);
            let offer = self.make_offer(&g, out);
            per_fw.entry(g.framework_id).or_default().push(offer);
        }
        for (fid, offers) in per_fw {
            let mut e = event(EventType::Offers);
            e.offers = Some(scheduler::event::Offers { offers });
            self.send_to_framework(&fid, e, out);
        }
    }

    fn note_grant(&self, g: &Grant, out: &mut Outbox<Timer>) {
        out.note_with(|| {
            // Only roles other than `*` are spelled out: most runs have no
            // other, and their notes stay short. The reasons are the sorters'
            // own (`Sorter::explain`), so the note fits any policy.
            let why = if g.role == DEFAULT_ROLE {
                format!("({})", g.why)
            } else {
                format!("in role {} (role {}; {})", g.role, g.role_why, g.why)
            };
            let mut s = format!(
                "allocate {} [{}] to {} {why}",
                self.host(&g.agent_id),
                g.resources,
                self.fw_name(&g.framework_id),
            );
            if !g.filtered.is_empty() {
                let names: Vec<String> = g.filtered.iter().map(|f| self.fw_name(f)).collect();
                s.push_str(&format!("; passed over {} (refusal filter)", names.join(", ")));
            }
            s
        });
    }

    fn make_offer(&mut self, g: &Grant, out: &mut Outbox<Timer>) -> v1::Offer {
        let oid = format!("{}-O{}", self.cfg.id, self.next_offer);
        self.next_offer += 1;
        let agent = self.agents.get_mut(&g.agent_id).expect("the allocator only grants registered agents");
        let executor_ids = agent
            .executors
            .keys()
            .filter(|(f, _)| *f == g.framework_id)
            .map(|(_, e)| v1::ExecutorId { value: e.clone() })
            .collect();
        // Why only for MULTI_ROLE frameworks: `Master::offer` sets the
        // offer's `allocation_info` to the role, then strips it from the
        // offer and every resource for a framework without MULTI_ROLE
        // (MESOS-8237: such schedulers compare whole `Resource`s and do not
        // know the field).
        let multi_role = self.frameworks.get(&g.framework_id).is_some_and(|f| is_multi_role(&f.info));
        let allocation_info = multi_role.then(|| v1::resource::AllocationInfo { role: Some(g.role.clone()) });
        let mut resources = g.resources.to_protos();
        for r in &mut resources {
            r.allocation_info.clone_from(&allocation_info);
        }
        let offer = v1::Offer {
            id: v1::OfferId { value: oid.clone() },
            framework_id: v1::FrameworkId { value: g.framework_id.clone() },
            agent_id: v1::AgentId { value: g.agent_id.clone() },
            hostname: agent.info.hostname.clone(),
            resources,
            attributes: agent.info.attributes.clone(),
            executor_ids,
            allocation_info,
            ..Default::default()
        };
        agent.offers.insert(oid.clone());
        agent.offered.add(&g.resources);
        if let Some(fw) = self.frameworks.get_mut(&g.framework_id) {
            fw.offers.insert(oid.clone());
        }
        self.offers.insert(
            oid.clone(),
            Box::new(OfferEntry {
                offer: offer.clone(),
                framework: g.framework_id.clone(),
                agent: g.agent_id.clone(),
                resources: g.resources.clone(),
            }),
        );
        self.stats.offers_made += 1;
        if let Some(d) = self.cfg.offer_timeout {
            out.set_timer(d, Timer::OfferTimeout { offer: oid });
        }
        offer
    }

    // ----- offer calls -----------------------------------------------------------------

    fn accept(&mut self, fid: &str, accept: &scheduler::call::Accept, out: &mut Outbox<Timer>) {
        let now = out.now();
        let check = validation::offers(
            &accept.offer_ids,
            |id| self.offers.get(id).map(|o| OfferPlace { framework: &o.framework, agent: &o.agent }),
            fid,
        );
        if let Err(error) = check {
            // The framework's own offers named in the call are recovered without
            // a filter; every LAUNCH fails (`Master::accept`).
            let mine: BTreeSet<String> = accept
                .offer_ids
                .iter()
                .filter(|o| self.offers.get(&o.value).is_some_and(|e| e.framework == fid))
                .map(|o| o.value.clone())
                .collect();
            for oid in mine {
                if let Some(o) = self.take_offer(&oid) {
                    self.alloc.recover(now, fid, &o.agent, &o.resources, None);
                }
            }
            // TASK_DROPPED is for PARTITION_AWARE frameworks, TASK_LOST for the others.
            let state = if self.frameworks[fid].partition_aware { TaskState::TaskDropped } else { TaskState::TaskLost };
            for op in &accept.operations {
                let Some(launch) = op.launch.as_ref().filter(|_| op.r#type() == v1::offer::operation::Type::Launch)
                else {
                    continue;
                };
                for t in &launch.task_infos {
                    let status = master_status(
                        now,
                        &t.task_id,
                        Some(&t.agent_id.value),
                        state,
                        Reason::InvalidOffers,
                        format!("Task launched with invalid offers: {error}"),
                    );
                    self.send_to_framework(fid, update_event(status), out);
                }
            }
            out.note_with(|| format!("ACCEPT from {} used invalid offers: {error}", self.fw_name(fid)));
            return;
        }
        let mut offered = Resources::new();
        let mut agent_id = String::new();
        // The offer the tasks are launched from, and whose it was: kept on each
        // task for the invariant "only an offer's framework uses it".
        let mut origin = None;
        for oid in &accept.offer_ids {
            if let Some(o) = self.take_offer(&oid.value) {
                offered.add(&o.resources);
                origin.get_or_insert_with(|| (oid.value.clone(), o.framework.clone()));
                agent_id = o.agent;
                self.stats.offers_accepted += 1;
            }
        }
        let origin = origin.expect("validation::offers accepted at least one outstanding offer");
        let mut left = offered;
        for op in &accept.operations {
            match op.r#type() {
                v1::offer::operation::Type::Launch => {
                    for t in op.launch.iter().flat_map(|l| &l.task_infos) {
                        self.launch(now, fid, (&agent_id, &origin), t, &mut left, out);
                    }
                }
                other => out.note_with(|| {
                    format!("mesocosm's master does not model {} operations; ignored", other.as_str_name())
                }),
            }
        }
        if !left.is_empty() {
            // The unused part comes back with the call's filter (default 5 s).
            let refuse = accept.filters.as_ref().map_or(DEFAULT_REFUSE_SECONDS, |f| f.refuse_seconds());
            let until = self.alloc.recover(now, fid, &agent_id, &left, Some(refuse));
            out.note_with(|| {
                format!(
                    "{} left [{left}] of {} unused; {}",
                    self.fw_name(fid),
                    self.host(&agent_id),
                    match until {
                        Some(t) => format!("not offered to it again before {t}"),
                        None => "no filter".to_string(),
                    }
                )
            });
        }
    }

    fn launch(
        &mut self,
        now: SimTime,
        fid: &str,
        (aid, origin): (&str, &(String, String)),
        task: &v1::TaskInfo,
        left: &mut Resources,
        out: &mut Outbox<Timer>,
    ) {
        let mut task = task.clone();
        // The master fills in ExecutorInfo.framework_id (validation.cpp).
        if let Some(e) = task.executor.as_mut()
            && e.framework_id.is_none()
        {
            e.framework_id = Some(v1::FrameworkId { value: fid.to_string() });
        }
        let tid = task.task_id.value.clone();
        let eid = task.executor.as_ref().map(|e| e.executor_id.value.clone());
        let fw = &self.frameworks[fid];
        let agent = &self.agents[aid];
        let executor_running =
            eid.as_ref().is_some_and(|e| agent.executors.contains_key(&(fid.to_string(), e.clone())));
        let cx = TaskContext {
            framework_id: fid,
            agent_id: aid,
            duplicate: fw.tasks.contains_key(&tid),
            executor_running,
            available: left,
        };
        let total = match validation::task(&task, &cx) {
            Ok(total) => total,
            Err(message) => {
                out.note_with(|| format!("task {tid} of {} is invalid: {message}", self.fw_name(fid)));
                let status =
                    master_status(now, &task.task_id, Some(aid), TaskState::TaskError, Reason::TaskInvalid, message);
                self.send_to_framework(fid, update_event(status), out);
                return;
            }
        };
        left.subtract(&total);
        let task_resources = Resources::from_protos(&task.resources);
        let agent = self.agents.get_mut(aid).expect("checked above");
        agent.used.add(&total);
        if let (Some(e), false) = (&task.executor, executor_running) {
            agent
                .executors
                .insert((fid.to_string(), e.executor_id.value.clone()), Resources::from_protos(&e.resources));
        }
        agent.tasks.insert((fid.to_string(), tid.clone()));
        let actor = agent.actor.clone();
        let host = agent.info.hostname.clone();
        let fw = self.frameworks.get_mut(fid).expect("checked above");
        fw.tasks.insert(
            tid.clone(),
            Task {
                info: task.clone(),
                agent: aid.to_string(),
                state: TaskState::TaskStaging,
                resources: task_resources,
                latest: None,
                update_state: None,
                update_uuid: None,
                launched_from: Some(origin.clone()),
            },
        );
        let framework = fw.info.clone();
        let name = framework.name.clone();
        out.send(
            &actor,
            internal::RunTaskMessage {
                framework,
                pid: None,
                task,
                // Why: the agent must not start an executor the master believes
                // is already running there (launch_executor, Mesos 1.5+).
                launch_executor: Some(!executor_running),
            },
        );
        self.stats.tasks_launched += 1;
        out.note_with(|| format!("launch task {tid} of {name} on {host} [{total}]; TASK_STAGING"));
    }

    fn decline(&mut self, fid: &str, d: &scheduler::call::Decline, out: &mut Outbox<Timer>) {
        let now = out.now();
        // A DECLINE always has a filter: an absent one means Filters() = 5 s.
        let refuse = d.filters.as_ref().map_or(DEFAULT_REFUSE_SECONDS, |f| f.refuse_seconds());
        for oid in &d.offer_ids {
            if self.offers.get(&oid.value).is_none_or(|o| o.framework != fid) {
                out.note_with(|| {
                    format!(
                        "{} declined offer {}, which is no longer valid; ignored",
                        self.fw_name(fid),
                        short_id(&oid.value)
                    )
                });
                continue;
            }
            let Some(o) = self.take_offer(&oid.value) else { continue };
            self.stats.offers_declined += 1;
            let until = self.alloc.recover(now, fid, &o.agent, &o.resources, Some(refuse));
            // Why no cycle here: recoverResources does not trigger allocation
            // (MESOS-3078); declined resources wait for the next periodic cycle.
            out.note_with(|| {
                format!(
                    "{} declined {} on {}; {}",
                    self.fw_name(fid),
                    short_id(&oid.value),
                    self.host(&o.agent),
                    match until {
                        Some(t) => format!("[{}] not offered to it again before {t}", o.resources),
                        None => "no filter (refuse_seconds 0)".to_string(),
                    }
                )
            });
        }
    }

    // ----- task calls --------------------------------------------------------------------

    fn kill(&mut self, fid: &str, k: &scheduler::call::Kill, out: &mut Outbox<Timer>) {
        let fw = &self.frameworks[fid];
        match fw.tasks.get(&k.task_id.value) {
            Some(task) => match self.agents.get(&task.agent) {
                Some(a) => {
                    let m = internal::KillTaskMessage {
                        framework_id: v1::FrameworkId { value: fid.to_string() },
                        task_id: k.task_id.clone(),
                        kill_policy: k.kill_policy,
                    };
                    out.send(&a.actor, m);
                }
                None => out.note_with(|| format!("cannot kill task {}: its agent is not registered", k.task_id.value)),
            },
            None => {
                // `Master::kill` of an unknown task performs explicit reconciliation.
                let t = scheduler::call::reconcile::Task { task_id: k.task_id.clone(), agent_id: k.agent_id.clone() };
                self.reconcile(fid, &scheduler::call::Reconcile { tasks: vec![t] }, out);
            }
        }
    }

    /// `Master::reconcile`: implicit (no tasks) answers every task the master
    /// knows; explicit answers each named task, as `Master::reconcileTasks`
    /// (master.cpp) does, with TASK_LOST for frameworks that are not PARTITION_AWARE.
    fn reconcile(&self, fid: &str, r: &scheduler::call::Reconcile, out: &mut Outbox<Timer>) {
        let now = out.now();
        let fw = &self.frameworks[fid];
        let known = |t: &Task| {
            let mut s = master_status(
                now,
                &t.info.task_id,
                Some(&t.agent),
                t.state,
                Reason::Reconciliation,
                "Reconciliation: Latest task state".to_string(),
            );
            if let Some(l) = &t.latest {
                s.executor_id = l.executor_id.clone();
                s.unreachable_time = l.unreachable_time;
            }
            s
        };
        let mut replies = Vec::new();
        if r.tasks.is_empty() {
            replies.extend(fw.tasks.values().map(known));
        } else {
            for q in &r.tasks {
                if let Some(t) = fw.tasks.get(&q.task_id.value) {
                    replies.push(known(t));
                    continue;
                }
                let agent = q.agent_id.as_ref().map(|a| a.value.as_str());
                let state = match agent {
                    Some(a) if self.agents.contains_key(a) => TaskState::TaskGone,
                    Some(a) if self.unreachable.contains(a) => TaskState::TaskUnreachable,
                    _ => TaskState::TaskUnknown,
                };
                let state = if fw.partition_aware { state } else { TaskState::TaskLost };
                replies.push(master_status(
                    now,
                    &q.task_id,
                    agent,
                    state,
                    Reason::Reconciliation,
                    "Reconciliation: Task is unknown".to_string(),
                ));
            }
        }
        for s in replies {
            self.send_to_framework(fid, update_event(s), out);
        }
    }

    fn acknowledge(&mut self, fid: &str, a: &scheduler::call::Acknowledge, out: &mut Outbox<Timer>) {
        let aid = a.agent_id.value.clone();
        let Some(actor) = self.agents.get(&aid).map(|x| x.actor.clone()) else {
            out.note_with(|| {
                format!(
                    "cannot forward the ack of task {} to agent {}: agent is not registered",
                    a.task_id.value,
                    short_id(&aid)
                )
            });
            return;
        };
        let fw = self.frameworks.get_mut(fid).expect("subscribed");
        let tid = a.task_id.value.clone();
        // Acknowledging the terminal update is what lets the master forget a task.
        let done = fw.tasks.get(&tid).is_some_and(|t| {
            t.update_uuid.as_deref() == Some(a.uuid.as_slice()) && t.update_state.is_some_and(TaskState::is_terminal)
        });
        if done {
            fw.tasks.remove(&tid);
            if let Some(x) = self.agents.get_mut(&aid) {
                x.tasks.remove(&(fid.to_string(), tid));
            }
        }
        out.send(
            &actor,
            internal::StatusUpdateAcknowledgementMessage {
                slave_id: a.agent_id.clone(),
                framework_id: v1::FrameworkId { value: fid.to_string() },
                task_id: a.task_id.clone(),
                uuid: a.uuid.clone(),
            },
        );
    }
}

impl Actor for Master {
    type Timer = Timer;

    fn handle(&mut self, input: Input<Timer>, out: &mut Outbox<Timer>) {
        match input {
            Input::Start => self.start(out),
            Input::Message { from, msg } => self.on_message(from, msg, out),
            Input::Timer(t) => self.on_timer(t, out),
            Input::Disconnected { peer } => self.on_disconnected(peer, out),
            // The master launches no containers, and makes no calls that are refused.
            Input::Exited { .. } | Input::Refused { .. } => {}
        }
    }

    /// [`Master::check_invariants`], for the world's per-step checks.
    fn check_invariants(&self) -> Result<(), String> {
        Master::check_invariants(self)
    }
}

/// Ways to break the master's books on purpose, so tests can show that
/// [`Master::check_invariants`] notices each broken promise.
#[cfg(test)]
#[derive(Clone, Copy, Debug)]
pub(crate) enum Corruption {
    /// Disconnect (and deactivate) the first agent without rescinding its offers.
    DisconnectKeepingOffers,
    /// Mark the first agent unreachable and drop it without rescinding its offers.
    UnreachableKeepingOffers,
    /// Record the first task of the first framework as launched from an offer
    /// made to the last framework.
    TaskFromForeignOffer,
    /// Offer the first outstanding offer's resources again, as offer `O9`.
    DuplicateOffer,
}

#[cfg(test)]
impl Master {
    pub(crate) fn corrupt(&mut self, c: Corruption) {
        match c {
            Corruption::DisconnectKeepingOffers => {
                let (aid, a) = self.agents.iter_mut().next().expect("an agent");
                a.connected = false;
                self.alloc.deactivate_agent(aid);
            }
            Corruption::UnreachableKeepingOffers => {
                let aid = self.agents.keys().next().expect("an agent").clone();
                let a = self.agents.remove(&aid).expect("just found");
                self.agent_by_actor.remove(&a.actor);
                self.alloc.remove_agent(&aid);
                self.unreachable.insert(aid.clone());
                self.removed.insert(aid);
            }
            Corruption::TaskFromForeignOffer => {
                let other = self.frameworks.keys().next_back().expect("a framework").clone();
                let fw = self.frameworks.values_mut().next().expect("a framework");
                let task = fw.tasks.values_mut().next().expect("a task");
                if let Some((_, offered_to)) = task.launched_from.as_mut() {
                    *offered_to = other;
                }
            }
            Corruption::DuplicateOffer => {
                let first = self.offers.values().next().expect("an offer");
                let mut dup = OfferEntry {
                    offer: first.offer.clone(),
                    framework: first.framework.clone(),
                    agent: first.agent.clone(),
                    resources: first.resources.clone(),
                };
                let oid = format!("{}-O9", self.cfg.id);
                dup.offer.id.value = oid.clone();
                let a = self.agents.get_mut(&dup.agent).expect("its agent");
                a.offers.insert(oid.clone());
                a.offered.add(&dup.resources);
                self.frameworks.get_mut(&dup.framework).expect("its framework").offers.insert(oid.clone());
                self.offers.insert(oid, Box::new(dup));
            }
        }
    }
}

#[cfg(test)]
#[path = "invariant_tests.rs"]
mod invariant_tests;
