//! The hierarchical DRF allocator, as a pure data structure.
//!
//! This is mesocosm's model of Mesos's `HierarchicalAllocatorProcess`
//! (`src/master/allocator/mesos/hierarchical.cpp`) with its DRF sorters
//! (`src/master/allocator/sorter/drf/sorter.cpp`). It knows nothing about
//! messages, actors or offer ids: the master tells it what exists (agents and
//! their totals, frameworks, their roles and whether they want offers) and what
//! came back (recovered resources, refusal filters), and asks it one question,
//! [`Allocator::allocate`]: *which framework gets which agent's free resources
//! now?*
//!
//! # The model
//!
//! ```text
//!   agent      total     = what the agent registered with
//!              allocated = offered (outstanding offers) + used (tasks, executors)
//!              available = total − allocated
//!
//!   role       its frameworks, the scalar sum of what they hold, an allocation
//!              count, a weight (--weights, default 1.0)
//!   framework  its role, allocation per agent, its scalar sum, an allocation
//!              count, active/suppressed, refusal filters per agent
//!
//!   share(x) = max over scalar names r of  allocated_x(r) / cluster_total(r)
//!   role order       by (share(role) ÷ weight(role), count, role name)
//!   framework order  by (share(framework),          count, framework id)   within a role
//! ```
//!
//! Mesos sorts twice, as this does: the *role sorter* orders the roles, and
//! each role has its own *framework sorter* for the frameworks subscribed to
//! it. A framework is offered an agent only when every framework that comes
//! before it (every framework of an earlier role, and the earlier frameworks
//! of its own role) was filtered. A weight of 2 lets a role hold twice the
//! dominant share of a weight-1 role before it sorts after it.
//!
//! # A cycle
//!
//! One allocation cycle ([`Allocator::allocate`]) takes the candidate agents,
//! drops the deactivated ones, **shuffles** the rest with the allocator's own
//! seeded generator (Mesos shuffles them with `std::random_shuffle` on every
//! cycle) and walks them in that order. For each agent it walks the roles in
//! role order and their frameworks in framework order and hands the agent's
//! **whole** available resources to the first framework that no refusal
//! filter stops (skipping, for an agent with GPUs, frameworks without the
//! GPU_RESOURCES capability while `--filter_gpu_resources` is on). A
//! deactivated framework (disconnected) gets nothing and loses its filters,
//! as `deactivateFramework` clears them. The grant counts as allocated at once, so the next agent in
//! the same cycle already sees the new shares: that is what makes two equal
//! frameworks alternate. The result, a [`Cycle`], says in which order the
//! agents were visited, who got what, and why every agent that still has free
//! resources got no grant ([`IdleReason`]).
//!
//! # Roles
//!
//! A framework is allocated under **one** role: `FrameworkInfo.roles[0]` for a
//! MULTI_ROLE framework, otherwise the deprecated `FrameworkInfo.role` (default
//! `*`); the master picks it ([`crate::master::allocation_role`]). Mesos would
//! put a framework subscribed to several roles into each of those roles'
//! sorters and offer it resources under each; mesocosm allocates it under the
//! first only. That is enough for Spark, whose coarse-grained backend
//! subscribes with exactly one role (`spark.mesos.role`, else `*`). Roles are
//! flat names: `a/b` is a role of its own, not a child of `a`.
//!
//! # What is left out
//!
//! Quota (stage 1 of `__generateOffers`, headroom), hierarchical roles and
//! several roles per framework, reservations (every resource is unreserved),
//! revocable resources, per-framework `offer_filters`
//! (`FrameworkInfo.offer_filters` min_allocatable_resources), offer
//! constraints, the `random` sorters, maintenance and inverse offers: nothing
//! in mesocosm's scenarios uses them yet.

use mesocosm_proto::Resources;
use mesocosm_sim::SimTime;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::SeedableRng;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

mod drf;
mod random;
mod sorter;

pub use drf::DrfSorter;
pub use random::RandomSorter;
pub use sorter::{SortClient, Sorter, SorterChoice};

/// A framework id as the allocator sees it (`<master-id>-0000`).
pub type FrameworkId = String;
/// An agent id as the allocator sees it (`<master-id>-S0`).
pub type AgentId = String;

/// The Mesos default for `Filters.refuse_seconds` (`include/mesos/v1/mesos.proto`).
pub const DEFAULT_REFUSE_SECONDS: f64 = 5.0;
/// The cap on a refusal filter: 365 days (`hierarchical.cpp` `recoverResources`).
pub const MAX_REFUSE_SECONDS: f64 = 365.0 * 24.0 * 3600.0;
/// The weight of a role `--weights` does not name (`DEFAULT_WEIGHT`, master constants).
pub const DEFAULT_WEIGHT: f64 = 1.0;
/// The role of a framework that names none (`FrameworkInfo.role`'s proto default).
pub const DEFAULT_ROLE: &str = "*";
/// `MIN_CPUS` (master constants): the cpus alternative of the default `--min_allocatable_resources`.
pub const MIN_CPUS: f64 = 0.01;
/// `MIN_MEM` (master constants), in MB: the mem alternative of the default `--min_allocatable_resources`.
pub const MIN_MEM: f64 = 32.0;

/// Mesos's default `--min_allocatable_resources`, `cpus:0.01|mem:32`: two
/// alternatives, a bag with 0.01 cpus *or* 32 MB is worth offering.
pub fn default_min_allocatable_resources() -> Vec<Resources> {
    vec![Resources::scalar_of("cpus", MIN_CPUS), Resources::scalar_of("mem", MIN_MEM)]
}

/// The allocator's knobs (the master's flags of the same names).
#[derive(Clone, Debug, PartialEq)]
pub struct AllocatorConfig {
    /// `--allocation_interval`: also the shortest a refusal filter can last.
    pub allocation_interval: Duration,
    /// `--min_allocatable_resources`: the `|`-separated alternatives. A bag of
    /// free resources is offered only if it contains at least one alternative
    /// entirely; an empty list lets anything non-empty through (`allocatable`).
    pub min_allocatable_resources: Vec<Resources>,
    /// `--weights role=w,...`: a role's DRF share is divided by its weight.
    /// Roles not listed weigh [`DEFAULT_WEIGHT`]. Weights must be positive
    /// (Mesos refuses the flag otherwise).
    pub weights: BTreeMap<String, f64>,
    /// Seeds the generator that shuffles each cycle's agents, and the
    /// sorters' own stream.
    pub shuffle_seed: u64,
    /// `--role_sorter` (default `drf`): orders the roles.
    pub role_sorter: SorterChoice,
    /// `--framework_sorter` (default `drf`): orders each role's frameworks.
    pub framework_sorter: SorterChoice,
    /// `--filter_gpu_resources` (default true): an agent with GPUs is offered
    /// only to frameworks with the GPU_RESOURCES capability
    /// (`isCapableOfReceivingAgent`, MESOS-5634), so a framework that cannot
    /// use GPUs does not sit on a GPU machine.
    pub filter_gpu_resources: bool,
}

impl Default for AllocatorConfig {
    fn default() -> Self {
        AllocatorConfig {
            allocation_interval: Duration::from_secs(1),
            min_allocatable_resources: default_min_allocatable_resources(),
            weights: BTreeMap::new(),
            shuffle_seed: 0,
            role_sorter: SorterChoice::drf(),
            framework_sorter: SorterChoice::drf(),
            filter_gpu_resources: true,
        }
    }
}

/// One agent as the allocator tracks it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AgentSlot {
    /// What the agent registered with.
    pub total: Resources,
    /// Offered or in use, by any framework.
    pub allocated: Resources,
    /// Not offered (`deactivateSlave`): the agent is disconnected. Its resources
    /// stay allocated as they were; it is simply not a candidate of any cycle.
    pub deactivated: bool,
}

impl AgentSlot {
    /// `total − allocated`.
    pub fn available(&self) -> Resources {
        self.total.minus(&self.allocated)
    }
}

/// "Do not offer me these resources on this agent again until `expires`."
///
/// Mesos's `RefusedOfferFilter`: it filters a later offer on the same agent
/// whose resources are a **subset** of the refused ones, so an agent that has
/// gained resources since (a task finished) is offered again at once.
#[derive(Clone, Debug, PartialEq)]
pub struct RefusalFilter {
    /// The refused resources.
    pub resources: Resources,
    /// The first instant at which the filter no longer applies.
    pub expires: SimTime,
}

impl RefusalFilter {
    /// True if this filter stops `available` from being offered at `now`.
    pub fn covers(&self, now: SimTime, available: &Resources) -> bool {
        now < self.expires && self.resources.contains(available)
    }
}

#[derive(Clone, Debug, Default)]
struct FrameworkSlot {
    /// The role it is allocated under.
    role: String,
    /// Deactivated frameworks (disconnected, failing over) get nothing.
    active: bool,
    /// SUPPRESS: the framework asked for no offers until REVIVE.
    suppressed: bool,
    /// What this framework holds on each agent (offered or used).
    allocations: BTreeMap<AgentId, Resources>,
    /// The scalar part of the sum of `allocations` (ranges such as ports are
    /// per agent and would wrongly merge across agents, and DRF ignores them).
    scalars: Resources,
    /// How many grants the framework has had; DRF's second tie-break. Like
    /// `DRFSorter`'s `allocation.count`, it only ever grows.
    count: u64,
    /// Refusal filters per agent.
    filters: BTreeMap<AgentId, Vec<RefusalFilter>>,
    /// FrameworkInfo has the GPU_RESOURCES capability.
    gpu_resources: bool,
}

impl FrameworkSlot {
    fn eligible(&self) -> bool {
        self.active && !self.suppressed
    }
}

/// A role as the role sorter sees it. It exists while a framework is
/// subscribed to it: Mesos removes a role from the role sorter when its last
/// framework goes (`untrackFrameworkUnderRole`), allocation count and all.
#[derive(Clone, Debug, Default)]
struct RoleSlot {
    frameworks: BTreeSet<FrameworkId>,
    /// The scalar sum of what its frameworks hold.
    scalars: Resources,
    /// Grants to the role's frameworks while the role existed; only grows.
    count: u64,
}

/// One decision of a cycle: `framework_id` gets `resources` of `agent_id`.
#[derive(Clone, Debug, PartialEq)]
pub struct Grant {
    /// Who gets the offer.
    pub framework_id: FrameworkId,
    /// The role the resources are allocated to (the framework's role).
    pub role: String,
    /// Whose resources.
    pub agent_id: AgentId,
    /// The agent's whole available resources at that moment.
    pub resources: Resources,
    /// The framework's dominant share just before the grant (DRF's key in
    /// the role's framework sorter; a fact of the books whatever the sorter).
    pub share: f64,
    /// The role's dominant share ÷ its weight just before the grant (DRF's
    /// key in the role sorter; a fact whatever the sorter).
    pub role_share: f64,
    /// How many frameworks were eligible (active, not suppressed) in the cycle.
    pub contenders: usize,
    /// Frameworks ahead of this one in sorter order that a refusal filter skipped.
    pub filtered: Vec<FrameworkId>,
    /// Why the role came first, in the role sorter's words ([`Sorter::explain`]).
    pub role_why: String,
    /// Why the framework came first in its role, in its framework sorter's words.
    pub why: String,
}

/// The taker [`Allocator::choose`] found for one agent.
struct Choice {
    framework: FrameworkId,
    role: String,
    role_why: String,
    why: String,
    filtered: Vec<FrameworkId>,
}

/// Why an agent with free resources got no grant in a cycle.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IdleReason {
    /// The agent is deactivated (`deactivateSlave`): not a candidate at all.
    AgentDeactivated,
    /// No framework is active: none is subscribed, or all are disconnected.
    NoActiveFramework,
    /// Every active framework has suppressed offers (SUPPRESS).
    Suppressed,
    /// The free resources contain no `--min_allocatable_resources` alternative.
    BelowMinAllocatable,
    /// A refusal filter of every eligible framework covers the free
    /// resources; the frameworks in the sorters' order they were tried.
    Filtered(Vec<FrameworkId>),
    /// The agent has GPUs and no eligible framework has the GPU_RESOURCES
    /// capability (`--filter_gpu_resources`).
    GpuAgentFiltered,
}

/// What one allocation cycle did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Cycle {
    /// The activated candidate agents in the order the cycle visited them
    /// (the seeded shuffle of their ids).
    pub order: Vec<AgentId>,
    /// The grants, in the order they were made.
    pub grants: Vec<Grant>,
    /// Every candidate agent that ends the cycle with free resources and no
    /// grant, and why. A candidate that is neither granted nor here had
    /// nothing free: all of it is offered or used.
    pub idle: BTreeMap<AgentId, IdleReason>,
}

/// The hierarchical allocator. See the module docs.
#[derive(Debug)]
pub struct Allocator {
    cfg: AllocatorConfig,
    agents: BTreeMap<AgentId, AgentSlot>,
    frameworks: BTreeMap<FrameworkId, FrameworkSlot>,
    roles: BTreeMap<String, RoleSlot>,
    /// The scalar sum of every agent's total: DRF's denominator.
    cluster_total: Resources,
    /// Shuffles each cycle's agents. Why a seeded generator owned here: Mesos
    /// calls `std::random_shuffle` in `__generateOffers`; drawing from a
    /// ChaCha8 stream seeded by `shuffle_seed` keeps the same spread while a
    /// run replays draw for draw.
    rng: ChaCha8Rng,
    /// Orders the roles (`--role_sorter`).
    role_sorter: Box<dyn Sorter>,
    /// One sorter per role for its frameworks (`--framework_sorter`), made
    /// when the role is first sorted and dropped with the role, as Mesos
    /// keeps `frameworkSorters` per role.
    framework_sorters: BTreeMap<String, Box<dyn Sorter>>,
    /// The sorters' randomness: the same seed as the agent shuffle, another
    /// ChaCha8 stream, so a sorter that draws (random) leaves the agent
    /// shuffle's draws exactly as they are with DRF.
    sort_rng: ChaCha8Rng,
}

impl Default for Allocator {
    fn default() -> Self {
        Allocator::new(AllocatorConfig::default())
    }
}

fn scalars_of(r: &Resources) -> Resources {
    let mut s = Resources::new();
    for (name, v) in r.scalars() {
        s.add_scalar(name, v);
    }
    s
}

impl Allocator {
    /// An empty allocator.
    pub fn new(cfg: AllocatorConfig) -> Allocator {
        let rng = ChaCha8Rng::seed_from_u64(cfg.shuffle_seed);
        let mut sort_rng = ChaCha8Rng::seed_from_u64(cfg.shuffle_seed);
        sort_rng.set_stream(1);
        Allocator {
            role_sorter: cfg.role_sorter.make(),
            framework_sorters: BTreeMap::new(),
            cfg,
            agents: BTreeMap::new(),
            frameworks: BTreeMap::new(),
            roles: BTreeMap::new(),
            cluster_total: Resources::new(),
            rng,
            sort_rng,
        }
    }

    /// The knobs.
    pub fn config(&self) -> &AllocatorConfig {
        &self.cfg
    }

    // ----- agents -------------------------------------------------------------

    /// Start offering `total` of agent `id` (`addSlave`). Adding an agent that is
    /// already there is a no-op.
    pub fn add_agent(&mut self, id: &str, total: Resources) {
        if self.agents.contains_key(id) {
            return;
        }
        self.cluster_total.add(&scalars_of(&total));
        self.agents.insert(id.to_string(), AgentSlot { total, allocated: Resources::new(), deactivated: false });
    }

    /// Stop offering agent `id` (`deactivateSlave`): the master does this when
    /// the agent's connection breaks, until it re-registers.
    pub fn deactivate_agent(&mut self, id: &str) {
        if let Some(a) = self.agents.get_mut(id) {
            a.deactivated = true;
        }
    }

    /// Offer agent `id` again (`activateSlave`). Why no cycle is triggered:
    /// `HierarchicalAllocatorProcess::activateSlave` only flips the flag, so the
    /// agent's free resources wait for the next periodic cycle.
    pub fn activate_agent(&mut self, id: &str) {
        if let Some(a) = self.agents.get_mut(id) {
            a.deactivated = false;
        }
    }

    /// Count `resources` of `agent` as already in use by `framework`: the tasks
    /// and executors a (re-)registering agent reports (`addSlave`'s `used`
    /// argument, which `trackAllocatedResources` charges to the framework's
    /// and its role's shares, allocation counts included). Add the framework first.
    pub fn allocate_used(&mut self, framework: &str, agent: &str, resources: &Resources) {
        if !resources.is_empty() {
            self.track(framework, agent, resources);
        }
    }

    /// Forget agent `id` and everything allocated on it (`removeSlave`): the
    /// frameworks' and roles' shares drop by what they held there and the
    /// frameworks' filters for it go.
    pub fn remove_agent(&mut self, id: &str) {
        let Some(slot) = self.agents.remove(id) else { return };
        self.cluster_total.subtract(&scalars_of(&slot.total));
        for fw in self.frameworks.values_mut() {
            if let Some(held) = fw.allocations.remove(id) {
                let held = scalars_of(&held);
                fw.scalars.subtract(&held);
                if let Some(role) = self.roles.get_mut(&fw.role) {
                    role.scalars.subtract(&held);
                }
            }
            fw.filters.remove(id);
        }
    }

    /// Agent `id`, if the allocator knows it.
    pub fn agent(&self, id: &str) -> Option<&AgentSlot> {
        self.agents.get(id)
    }

    /// Every agent, in id order.
    pub fn agents(&self) -> impl Iterator<Item = (&AgentId, &AgentSlot)> {
        self.agents.iter()
    }

    /// Every agent id, in id order (the candidate set of a full cycle).
    pub fn agent_ids(&self) -> BTreeSet<AgentId> {
        self.agents.keys().cloned().collect()
    }

    /// The scalar sum of every agent's total.
    pub fn cluster_total(&self) -> &Resources {
        &self.cluster_total
    }

    // ----- frameworks ---------------------------------------------------------

    /// Add framework `id` under `role` (`addFramework`), active or not. Adding
    /// a framework that is already there sets its activity and moves it to
    /// `role` (see [`Allocator::update_framework`]).
    pub fn add_framework(&mut self, id: &str, role: &str, active: bool) {
        if self.frameworks.contains_key(id) {
            self.update_framework(id, role);
        } else {
            self.frameworks
                .insert(id.to_string(), FrameworkSlot { role: role.to_string(), ..FrameworkSlot::default() });
            self.roles.entry(role.to_string()).or_default().frameworks.insert(id.to_string());
        }
        if let Some(fw) = self.frameworks.get_mut(id) {
            fw.active = active;
        }
    }

    /// Move framework `id` to `role` (`updateFramework` after a re-subscription
    /// with another role). What it holds moves with it, so the old role's share
    /// drops and the new one's grows at once; its filters and allocation count
    /// stay. Mesos keeps the old role's allocation tracked under the old role
    /// until it is recovered; mesocosm's Spark frameworks never change role, so
    /// the simpler move is kept.
    pub fn update_framework(&mut self, id: &str, role: &str) {
        let Some(fw) = self.frameworks.get_mut(id) else { return };
        if fw.role == role {
            return;
        }
        let old = std::mem::replace(&mut fw.role, role.to_string());
        let held = fw.scalars.clone();
        self.untrack_role(&old, id, &held);
        let slot = self.roles.entry(role.to_string()).or_default();
        slot.frameworks.insert(id.to_string());
        slot.scalars.add(&held);
    }

    /// Take framework `id` and what it holds out of `role`; drop the role with
    /// its last framework.
    fn untrack_role(&mut self, role: &str, id: &str, held: &Resources) {
        if let Some(slot) = self.roles.get_mut(role) {
            slot.frameworks.remove(id);
            slot.scalars.subtract(held);
            if slot.frameworks.is_empty() {
                self.roles.remove(role);
                self.framework_sorters.remove(role);
            }
        }
    }

    /// Remove framework `id` and release everything it held (`removeFramework`).
    pub fn remove_framework(&mut self, id: &str) {
        let Some(fw) = self.frameworks.remove(id) else { return };
        for (agent, held) in &fw.allocations {
            if let Some(a) = self.agents.get_mut(agent) {
                a.allocated.subtract(held);
            }
        }
        self.untrack_role(&fw.role, id, &fw.scalars);
    }

    /// True if framework `id` is known.
    pub fn has_framework(&self, id: &str) -> bool {
        self.frameworks.contains_key(id)
    }

    /// Let framework `id` receive offers again (`activateFramework`).
    pub fn activate_framework(&mut self, id: &str) {
        if let Some(fw) = self.frameworks.get_mut(id) {
            fw.active = true;
        }
    }

    /// Stop offering to framework `id` (`deactivateFramework`); it keeps what
    /// it holds. Its refusal filters go: `deactivateFramework` clears
    /// `framework.offerFilters`, so a framework that comes back (re-subscribes
    /// after a disconnection) is offered everything afresh.
    pub fn deactivate_framework(&mut self, id: &str) {
        if let Some(fw) = self.frameworks.get_mut(id) {
            fw.active = false;
            fw.filters.clear();
        }
    }

    /// Record whether framework `id` has the GPU_RESOURCES capability (from
    /// its FrameworkInfo at `addFramework` / `updateFramework`).
    pub fn set_gpu_resources(&mut self, id: &str, capable: bool) {
        if let Some(fw) = self.frameworks.get_mut(id) {
            fw.gpu_resources = capable;
        }
    }

    /// `isCapableOfReceivingAgent`: false for an agent with GPUs and a
    /// framework without GPU_RESOURCES while `--filter_gpu_resources` is on.
    fn capable_of_receiving(&self, framework: &str, agent: &str) -> bool {
        let has_gpu = self.agents.get(agent).is_some_and(|a| a.total.scalar("gpus") > 0.0);
        !(self.cfg.filter_gpu_resources && has_gpu && !self.frameworks.get(framework).is_some_and(|f| f.gpu_resources))
    }

    /// SUPPRESS: no offers for framework `id` until [`Allocator::revive`]
    /// (`suppressOffers`; outstanding offers stay).
    pub fn suppress(&mut self, id: &str) {
        if let Some(fw) = self.frameworks.get_mut(id) {
            fw.suppressed = true;
        }
    }

    /// REVIVE: clear framework `id`'s refusal filters and unsuppress it
    /// (`reviveOffers`). The caller triggers an allocation of all agents.
    pub fn revive(&mut self, id: &str) {
        if let Some(fw) = self.frameworks.get_mut(id) {
            fw.suppressed = false;
            fw.filters.clear();
        }
    }

    /// True if framework `id` is suppressed.
    pub fn is_suppressed(&self, id: &str) -> bool {
        self.frameworks.get(id).is_some_and(|f| f.suppressed)
    }

    /// The role framework `id` is allocated under.
    pub fn role(&self, id: &str) -> Option<&str> {
        self.frameworks.get(id).map(|f| f.role.as_str())
    }

    /// Every role that has a framework, in name order.
    pub fn roles(&self) -> impl Iterator<Item = &String> {
        self.roles.keys()
    }

    /// What framework `id` holds on each agent.
    pub fn allocation(&self, id: &str) -> Option<&BTreeMap<AgentId, Resources>> {
        self.frameworks.get(id).map(|f| &f.allocations)
    }

    /// Framework `id`'s refusal filters per agent.
    pub fn filters(&self, id: &str) -> Option<&BTreeMap<AgentId, Vec<RefusalFilter>>> {
        self.frameworks.get(id).map(|f| &f.filters)
    }

    /// Framework `id`'s allocation count (grants so far).
    pub fn allocation_count(&self, id: &str) -> u64 {
        self.frameworks.get(id).map_or(0, |f| f.count)
    }

    /// `role`'s allocation count (grants to its frameworks while it existed).
    pub fn role_allocation_count(&self, role: &str) -> u64 {
        self.roles.get(role).map_or(0, |r| r.count)
    }

    /// `role`'s weight: `--weights`, else [`DEFAULT_WEIGHT`].
    pub fn weight(&self, role: &str) -> f64 {
        self.cfg.weights.get(role).copied().unwrap_or(DEFAULT_WEIGHT)
    }

    /// Framework `id`'s dominant share within its role: the largest fraction it
    /// holds of any scalar resource in the cluster (`DRFSorter::calculateShare`
    /// in the role's framework sorter, where every framework weighs 1.0).
    pub fn share(&self, id: &str) -> f64 {
        self.frameworks.get(id).map_or(0.0, |fw| self.dominant_share(&fw.scalars))
    }

    /// `role`'s dominant share divided by its weight: its key in the role sorter.
    pub fn role_share(&self, role: &str) -> f64 {
        self.roles.get(role).map_or(0.0, |r| self.dominant_share(&r.scalars) / self.weight(role))
    }

    fn dominant_share(&self, held: &Resources) -> f64 {
        let mut share: f64 = 0.0;
        for (name, total) in self.cluster_total.scalars() {
            if total > 0.0 {
                share = share.max(held.scalar(name) / total);
            }
        }
        share
    }

    // ----- recovery and filters -----------------------------------------------

    /// The refusal filter's lifetime for a `Filters.refuse_seconds` value, exactly
    /// as `HierarchicalAllocatorProcess::recoverResources` computes it: above
    /// 365 days → 365 days; negative or not a number → the 5 s default; zero →
    /// no filter at all; otherwise at least one `allocation_interval` (MESOS-4302:
    /// a filter shorter than the interval would expire before the next cycle
    /// could honour it).
    pub fn refusal_timeout(&self, refuse_seconds: f64) -> Option<Duration> {
        let secs = if refuse_seconds > MAX_REFUSE_SECONDS {
            MAX_REFUSE_SECONDS
        } else if refuse_seconds.is_nan() || refuse_seconds < 0.0 {
            DEFAULT_REFUSE_SECONDS
        } else {
            refuse_seconds
        };
        if secs == 0.0 {
            return None;
        }
        Some(Duration::from_secs_f64(secs).max(self.cfg.allocation_interval))
    }

    /// Give `resources` of `agent` back from `framework` (`recoverResources`):
    /// a decline, the unused part of an accept, a rescinded offer, a finished task.
    ///
    /// `refuse_seconds` is the call's `Filters.refuse_seconds` (DECLINE and ACCEPT
    /// always carry one, defaulting to 5 s); `None` means no filter (rescind, task
    /// end, teardown). Returns when the installed filter expires, if one was.
    /// Why no cycle: recovered resources wait for the next periodic cycle
    /// (MESOS-3078: `recoverResources` does not trigger an allocation).
    pub fn recover(
        &mut self,
        now: SimTime,
        framework: &str,
        agent: &str,
        resources: &Resources,
        refuse_seconds: Option<f64>,
    ) -> Option<SimTime> {
        if let Some(a) = self.agents.get_mut(agent) {
            a.allocated.subtract(resources);
        }
        let fw = self.frameworks.get_mut(framework)?;
        if let Some(held) = fw.allocations.get_mut(agent) {
            held.subtract(resources);
            let released = scalars_of(resources);
            fw.scalars.subtract(&released);
            if let Some(role) = self.roles.get_mut(&fw.role) {
                role.scalars.subtract(&released);
            }
            if held.is_empty() {
                fw.allocations.remove(agent);
            }
        }
        // Why no filter for an agent that is gone: hierarchical.cpp skips the
        // filter when the framework or agent no longer exists.
        if !self.agents.contains_key(agent) {
            return None;
        }
        let timeout = refuse_seconds.and_then(|s| self.refusal_timeout(s))?;
        let expires = now.after(timeout);
        let fw = self.frameworks.get_mut(framework)?;
        fw.filters.entry(agent.to_string()).or_default().push(RefusalFilter { resources: resources.clone(), expires });
        Some(expires)
    }

    /// True if one of `framework`'s filters stops `available` on `agent` at `now`
    /// (`isFiltered`).
    pub fn is_filtered(&self, now: SimTime, framework: &str, agent: &str, available: &Resources) -> bool {
        self.frameworks
            .get(framework)
            .and_then(|f| f.filters.get(agent))
            .is_some_and(|fs| fs.iter().any(|f| f.covers(now, available)))
    }

    /// True if `r` is worth offering (`allocatable` in hierarchical.cpp): it
    /// contains at least one `--min_allocatable_resources` alternative
    /// entirely, or there are no alternatives at all.
    pub fn allocatable(&self, r: &Resources) -> bool {
        let mins = &self.cfg.min_allocatable_resources;
        mins.is_empty() || mins.iter().any(|min| r.contains(min))
    }

    // ----- the cycle ------------------------------------------------------------

    /// One allocation cycle over `candidates` (`__generateOffers`, stage 2).
    ///
    /// The activated candidates are shuffled; for each, the roles are taken in
    /// role order and their frameworks in framework order; inactive and
    /// suppressed frameworks are not in the sort at all, filtered ones are
    /// passed over, and the first remaining one gets the agent's whole
    /// available resources. Unknown candidates are ignored.
    pub fn allocate(&mut self, now: SimTime, candidates: &BTreeSet<AgentId>) -> Cycle {
        // Expired filters are dropped here (Mesos expires each with a timer).
        for fw in self.frameworks.values_mut() {
            fw.filters.retain(|_, fs| {
                fs.retain(|f| now < f.expires);
                !fs.is_empty()
            });
        }
        let mut idle = BTreeMap::new();
        let mut order = Vec::with_capacity(candidates.len());
        for id in candidates {
            let Some(slot) = self.agents.get(id) else { continue };
            if !slot.deactivated {
                order.push(id.clone());
            } else if !slot.available().is_empty() {
                idle.insert(id.clone(), IdleReason::AgentDeactivated);
            }
        }
        // Why shuffle: `__generateOffers` visits the candidates in
        // `std::random_shuffle` order so no agent is always offered first; a
        // seeded ChaCha8 shuffle of the id-sorted candidates mirrors it and a
        // run still replays. Deactivated agents are not candidates there either.
        order.shuffle(&mut self.rng);

        // Who the sorters see: only what can be offered to. `deactivateFramework`
        // and `suppressOffers` take a framework out of its role's sorter, and a
        // role none of whose frameworks is left has nobody to offer to. Roles
        // by name, frameworks by id: the order a sorter's clients arrive in.
        let mut eligible: BTreeMap<String, Vec<FrameworkId>> = BTreeMap::new();
        for (id, fw) in self.frameworks.iter().filter(|(_, f)| f.eligible()) {
            eligible.entry(fw.role.clone()).or_default().push(id.clone());
        }
        for role in eligible.keys() {
            if !self.framework_sorters.contains_key(role) {
                self.framework_sorters.insert(role.clone(), self.cfg.framework_sorter.make());
            }
        }
        let contenders: usize = eligible.values().map(Vec::len).sum();
        let nobody = if contenders > 0 {
            None
        } else if self.frameworks.values().any(|f| f.active) {
            Some(IdleReason::Suppressed)
        } else {
            Some(IdleReason::NoActiveFramework)
        };

        let mut grants = Vec::new();
        for agent_id in &order {
            let available = self.agents[agent_id].available();
            if available.is_empty() {
                continue;
            }
            if let Some(reason) = &nobody {
                idle.insert(agent_id.clone(), reason.clone());
                continue;
            }
            // Why per agent, before any framework: Mesos checks `allocatable`
            // for each framework in the loop, but without per-framework
            // `offer_filters` or quota the answer is the same for all of them.
            if !self.allocatable(&available) {
                idle.insert(agent_id.clone(), IdleReason::BelowMinAllocatable);
                continue;
            }
            match self.choose(now, agent_id, &available, &eligible) {
                Err(filtered) => {
                    let why =
                        if filtered.is_empty() { IdleReason::GpuAgentFiltered } else { IdleReason::Filtered(filtered) };
                    idle.insert(agent_id.clone(), why);
                }
                Ok(choice) => {
                    let share = self.share(&choice.framework);
                    let role_share = self.role_share(&choice.role);
                    // The grant counts at once, so the next agent's sorts see it.
                    self.track(&choice.framework, agent_id, &available);
                    grants.push(Grant {
                        framework_id: choice.framework,
                        role: choice.role,
                        agent_id: agent_id.clone(),
                        resources: available,
                        share,
                        role_share,
                        contenders,
                        filtered: choice.filtered,
                        role_why: choice.role_why,
                        why: choice.why,
                    });
                }
            }
        }
        Cycle { order, grants, idle }
    }

    /// Who gets `available` of `agent`: the first framework, in role-sorter
    /// then framework-sorter order, that can receive the agent and that no
    /// refusal filter stops. Both sorts run afresh for each agent, as
    /// `__generateOffers` calls `sort()` inside its loop over agents. Without a
    /// taker, the frameworks a filter passed over (empty: only GPU-incapable
    /// frameworks were left).
    fn choose(
        &mut self,
        now: SimTime,
        agent: &str,
        available: &Resources,
        eligible: &BTreeMap<String, Vec<FrameworkId>>,
    ) -> Result<Choice, Vec<FrameworkId>> {
        let total = &self.cluster_total;
        let role_clients: Vec<SortClient<'_>> = eligible
            .keys()
            .map(|name| {
                let slot = &self.roles[name];
                SortClient {
                    name,
                    weight: self.cfg.weights.get(name).copied().unwrap_or(DEFAULT_WEIGHT),
                    allocation: &slot.scalars,
                    cluster_total: total,
                    allocation_count: slot.count,
                }
            })
            .collect();
        let role_order = self.role_sorter.sort(&role_clients, &mut self.sort_rng);
        let role_order = sorter::checked_order(self.role_sorter.as_ref(), role_order, role_clients.len());
        let mut filtered = Vec::new();
        for r in role_order {
            let role = role_clients[r].name;
            let fw_clients: Vec<SortClient<'_>> = eligible[role]
                .iter()
                .map(|id| {
                    let fw = &self.frameworks[id];
                    SortClient {
                        name: id,
                        weight: DEFAULT_WEIGHT,
                        allocation: &fw.scalars,
                        cluster_total: total,
                        allocation_count: fw.count,
                    }
                })
                .collect();
            let sorter = self.framework_sorters.get_mut(role).expect("a framework sorter for every eligible role");
            let fw_order = sorter.sort(&fw_clients, &mut self.sort_rng);
            let sorter = &self.framework_sorters[role];
            for f in sorter::checked_order(sorter.as_ref(), fw_order, fw_clients.len()) {
                let fw = fw_clients[f].name;
                // Why before the refusal filters: Mesos skips an incapable
                // framework (`isCapableOfReceivingAgent`) before `isFiltered`.
                if !self.capable_of_receiving(fw, agent) {
                    continue;
                }
                if self.is_filtered(now, fw, agent, available) {
                    filtered.push(fw.to_string());
                    continue;
                }
                return Ok(Choice {
                    framework: fw.to_string(),
                    role: role.to_string(),
                    role_why: self.role_sorter.explain(&role_clients[r], &role_clients),
                    why: sorter.explain(&fw_clients[f], &fw_clients),
                    filtered,
                });
            }
        }
        Err(filtered)
    }

    /// Count `resources` of `agent` as allocated to `framework` and its role
    /// (`trackAllocatedResources`: the role sorter and the role's framework
    /// sorter each add the allocation and bump their count).
    fn track(&mut self, framework: &str, agent: &str, resources: &Resources) {
        if let Some(a) = self.agents.get_mut(agent) {
            a.allocated.add(resources);
        }
        if let Some(fw) = self.frameworks.get_mut(framework) {
            let scalars = scalars_of(resources);
            fw.allocations.entry(agent.to_string()).or_default().add(resources);
            fw.scalars.add(&scalars);
            fw.count += 1;
            if let Some(role) = self.roles.get_mut(&fw.role) {
                role.scalars.add(&scalars);
                role.count += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn res(cpus: f64, mem: f64) -> Resources {
        let mut r = Resources::scalar_of("cpus", cpus);
        r.add_scalar("mem", mem);
        r
    }

    fn set(ids: &[&str]) -> BTreeSet<AgentId> {
        ids.iter().map(|s| s.to_string()).collect()
    }

    fn t(secs: u64) -> SimTime {
        SimTime::ZERO.after(Duration::from_secs(secs))
    }

    fn who(grants: &[Grant]) -> Vec<(&str, &str)> {
        grants.iter().map(|g| (g.agent_id.as_str(), g.framework_id.as_str())).collect()
    }

    /// The grantees in grant order.
    fn winners(grants: &[Grant]) -> Vec<&str> {
        grants.iter().map(|g| g.framework_id.as_str()).collect()
    }

    /// The agents of the grants, which must be the cycle's visiting order
    /// when every agent is granted.
    fn granted_agents(c: &Cycle) -> Vec<&str> {
        c.grants.iter().map(|g| g.agent_id.as_str()).collect()
    }

    fn with_weights(weights: &[(&str, f64)]) -> Allocator {
        Allocator::new(AllocatorConfig {
            weights: weights.iter().map(|(r, w)| (r.to_string(), *w)).collect(),
            ..AllocatorConfig::default()
        })
    }

    #[test]
    fn whole_agent_goes_to_the_first_framework() {
        let mut a = Allocator::new(AllocatorConfig::default());
        a.add_agent("S0", res(4.0, 8192.0));
        a.add_framework("f0", "*", true);
        let c = a.allocate(t(1), &set(&["S0"]));
        assert_eq!(who(&c.grants), [("S0", "f0")]);
        assert_eq!(c.grants[0].resources, res(4.0, 8192.0));
        assert_eq!((c.grants[0].share, c.grants[0].role.as_str()), (0.0, "*"));
        assert_eq!(a.agent("S0").unwrap().available(), Resources::new());
        assert_eq!(a.share("f0"), 1.0);
        // Nothing left: the next cycle grants nothing, and nothing is idle.
        let c = a.allocate(t(2), &set(&["S0"]));
        assert!(c.grants.is_empty());
        assert!(c.idle.is_empty());
        assert_eq!(c.order, ["S0"]);
    }

    #[test]
    fn drf_alternates_and_breaks_ties_by_id() {
        let mut a = Allocator::new(AllocatorConfig::default());
        for s in ["S0", "S1", "S2", "S3"] {
            a.add_agent(s, res(4.0, 4096.0));
        }
        a.add_framework("f1", "*", true);
        a.add_framework("f0", "*", true);
        let c = a.allocate(t(1), &a.agent_ids());
        assert_eq!(granted_agents(&c), c.order);
        // Tie at 0 → id; then the lower share; then tie at 0.25 with count 1 each → id.
        assert_eq!(winners(&c.grants), ["f0", "f1", "f0", "f1"]);
        assert_eq!(c.grants.iter().map(|g| g.share).collect::<Vec<_>>(), [0.0, 0.0, 0.25, 0.25]);
        assert!(c.grants.iter().all(|g| g.contenders == 2 && g.filtered.is_empty()));
    }

    #[test]
    fn drf_tie_on_share_goes_to_the_lower_allocation_count() {
        let mut a = Allocator::new(AllocatorConfig::default());
        a.add_agent("a1", res(1.0, 1024.0));
        a.add_agent("a2", res(1.0, 1024.0));
        a.add_agent("a3", res(2.0, 2048.0));
        a.add_agent("a4", res(4.0, 4096.0));
        a.add_framework("f0", "*", true);
        a.add_framework("f1", "*", true);
        assert_eq!(who(&a.allocate(t(1), &set(&["a1"])).grants), [("a1", "f0")]);
        assert_eq!(who(&a.allocate(t(1), &set(&["a2"])).grants), [("a2", "f1")]);
        assert_eq!(who(&a.allocate(t(1), &set(&["a3"])).grants), [("a3", "f0")]);
        // f0 gives a3 back: both hold 1/8 of the cluster, but f0 has been
        // allocated to twice and f1 once, so f1 wins despite its larger id.
        a.recover(t(1), "f0", "a3", &res(2.0, 2048.0), None);
        assert_eq!(a.share("f0"), a.share("f1"));
        assert_eq!((a.allocation_count("f0"), a.allocation_count("f1")), (2, 1));
        assert_eq!(who(&a.allocate(t(2), &set(&["a3"])).grants), [("a3", "f1")]);
    }

    #[test]
    fn dominant_share_is_the_largest_fraction_of_any_scalar() {
        let mut a = Allocator::new(AllocatorConfig::default());
        a.add_agent("S0", res(1.0, 6144.0));
        a.add_agent("S1", res(3.0, 2048.0));
        a.add_framework("f0", "*", true);
        a.allocate(t(1), &set(&["S0"]));
        // cpus 1/4 = 0.25, mem 6144/8192 = 0.75.
        assert_eq!(a.share("f0"), 0.75);
        assert_eq!(a.role_share("*"), 0.75);
    }

    #[test]
    fn roles_sort_first_then_frameworks_within_the_role() {
        let mut a = Allocator::new(AllocatorConfig::default());
        for s in ["S0", "S1", "S2", "S3"] {
            a.add_agent(s, res(4.0, 4096.0));
        }
        // Role a has two frameworks, role b one. In one flat sorter the three
        // would take an agent each and a1 the fourth; with roles, a's two
        // frameworks share role a's turns, so a and b alternate and b1 gets two.
        a.add_framework("a1", "a", true);
        a.add_framework("a2", "a", true);
        a.add_framework("b1", "b", true);
        let c = a.allocate(t(1), &a.agent_ids());
        assert_eq!(winners(&c.grants), ["a1", "b1", "a2", "b1"]);
        assert_eq!(c.grants.iter().map(|g| g.role.as_str()).collect::<Vec<_>>(), ["a", "b", "a", "b"]);
        assert_eq!(c.grants.iter().map(|g| g.role_share).collect::<Vec<_>>(), [0.0, 0.0, 0.25, 0.25]);
        assert_eq!((a.role_share("a"), a.role_share("b")), (0.5, 0.5));
        assert_eq!((a.share("a1"), a.share("a2"), a.share("b1")), (0.25, 0.25, 0.5));
        assert_eq!((a.role_allocation_count("a"), a.role_allocation_count("b")), (2, 2));
    }

    #[test]
    fn a_role_of_weight_two_holds_twice_the_share_before_it_sorts_last() {
        let mut a = with_weights(&[("a", 2.0)]);
        for s in ["S0", "S1", "S2", "S3", "S4", "S5"] {
            a.add_agent(s, res(4.0, 4096.0));
        }
        a.add_framework("fa", "a", true);
        a.add_framework("fb", "b", true);
        let c = a.allocate(t(1), &a.agent_ids());
        // Each agent is 1/6 of the cluster. Role shares ÷ weight before each
        // grant: a 0 = b 0 → name a; b 0 < a 1/12 → b; a 1/12 < b 1/6 → a;
        // a 1/6 = b 1/6 with counts 2 > 1 → b; a 1/6 < b 1/3 → a; a 1/4 < b 1/3 → a.
        assert_eq!(winners(&c.grants), ["fa", "fb", "fa", "fb", "fa", "fa"]);
        let shares: Vec<f64> = c.grants.iter().map(|g| (g.role_share * 12.0).round()).collect();
        assert_eq!(shares, [0.0, 0.0, 1.0, 2.0, 2.0, 3.0]);
        assert_eq!(a.weight("a"), 2.0);
        assert_eq!(a.weight("b"), DEFAULT_WEIGHT);
        // a holds 4/6 of the cluster, twice b's 2/6: equal once weighted.
        assert_eq!((a.share("fa"), a.share("fb")), (4.0 / 6.0, 2.0 / 6.0));
        assert_eq!(a.role_share("a"), a.role_share("b"));
    }

    #[test]
    fn role_tie_on_share_goes_to_the_role_allocated_to_less_often() {
        let mut a = Allocator::new(AllocatorConfig::default());
        a.add_agent("S0", res(2.0, 2048.0));
        a.add_agent("S1", res(1.0, 1024.0));
        a.add_agent("S2", res(1.0, 1024.0));
        a.add_agent("S3", res(4.0, 4096.0));
        a.add_framework("a1", "a", true);
        a.add_framework("z1", "z", true);
        // Role a holds S1 and S2 (two grants), role z holds S0 (one grant):
        // equal shares, so z, with the lower count, comes first despite its name.
        a.allocate_used("a1", "S1", &res(1.0, 1024.0));
        a.allocate_used("a1", "S2", &res(1.0, 1024.0));
        a.allocate_used("z1", "S0", &res(2.0, 2048.0));
        assert_eq!(a.role_share("a"), a.role_share("z"));
        assert_eq!((a.role_allocation_count("a"), a.role_allocation_count("z")), (2, 1));
        assert_eq!(who(&a.allocate(t(1), &set(&["S3"])).grants), [("S3", "z1")]);
    }

    #[test]
    fn a_role_goes_with_its_last_framework_and_a_framework_can_move() {
        let mut a = Allocator::new(AllocatorConfig::default());
        a.add_agent("S0", res(4.0, 4096.0));
        a.add_agent("S1", res(4.0, 4096.0));
        a.add_framework("f0", "a", true);
        a.add_framework("f1", "b", true);
        a.allocate(t(1), &a.agent_ids());
        assert_eq!(a.roles().collect::<Vec<_>>(), ["a", "b"]);
        // f1 re-subscribes in role a: its allocation moves along.
        a.update_framework("f1", "a");
        assert_eq!(a.role("f1"), Some("a"));
        assert_eq!(a.roles().collect::<Vec<_>>(), ["a"]);
        assert_eq!((a.role_share("a"), a.role_share("b")), (1.0, 0.0));
        a.remove_framework("f0");
        assert_eq!(a.role_share("a"), 0.5);
        a.remove_framework("f1");
        assert_eq!(a.roles().count(), 0);
        assert_eq!(a.role_allocation_count("a"), 0);
        // A new framework in a starts the role afresh.
        a.add_framework("f2", "a", true);
        assert_eq!(a.role_allocation_count("a"), 0);
    }

    #[test]
    fn the_shuffle_is_a_seeded_permutation_drawn_anew_each_cycle() {
        let ids: Vec<String> = (0..8).map(|i| format!("S{i}")).collect();
        let orders = |seed: u64| {
            let mut a = Allocator::new(AllocatorConfig { shuffle_seed: seed, ..AllocatorConfig::default() });
            for id in &ids {
                a.add_agent(id, res(1.0, 1024.0));
            }
            (0..3).map(|s| a.allocate(t(s), &a.agent_ids()).order).collect::<Vec<_>>()
        };
        let first = orders(7);
        // The same seed replays the same orders, cycle after cycle.
        assert_eq!(first, orders(7));
        for order in &first {
            let mut sorted = order.clone();
            sorted.sort();
            assert_eq!(sorted, ids, "every candidate is visited exactly once");
        }
        // Each cycle draws again, and another seed draws other orders.
        assert_ne!(first[0], first[1]);
        assert_ne!(first, orders(8));
    }

    #[test]
    fn min_allocatable_resources_is_a_list_of_alternatives() {
        let mut both = res(1.0, 1024.0);
        both.add_scalar("disk", 0.0);
        let cfg = AllocatorConfig {
            min_allocatable_resources: vec![both, Resources::scalar_of("disk", 100.0)],
            ..AllocatorConfig::default()
        };
        let a = Allocator::new(cfg);
        assert!(a.allocatable(&res(1.0, 1024.0)), "the first alternative entirely");
        assert!(!a.allocatable(&res(4.0, 512.0)), "only part of the first alternative");
        assert!(a.allocatable(&Resources::scalar_of("disk", 100.0)), "the second alternative");
        // The default: cpus:0.01|mem:32.
        let d = Allocator::default();
        assert_eq!(d.config().min_allocatable_resources, default_min_allocatable_resources());
        assert!(d.allocatable(&res(0.01, 0.0)));
        assert!(d.allocatable(&res(0.0, 32.0)));
        assert!(!d.allocatable(&res(0.005, 31.0)));
        // No alternatives: anything goes.
        let none = Allocator::new(AllocatorConfig { min_allocatable_resources: vec![], ..AllocatorConfig::default() });
        assert!(none.allocatable(&res(0.001, 0.0)));
    }

    #[test]
    fn refusal_filter_covers_subsets_until_it_expires() {
        let mut a = Allocator::new(AllocatorConfig::default());
        a.add_agent("S0", res(4.0, 4096.0));
        a.add_framework("f0", "*", true);
        a.allocate(t(1), &set(&["S0"]));
        let exp = a.recover(t(1), "f0", "S0", &res(4.0, 4096.0), Some(120.0));
        assert_eq!(exp, Some(t(121)));
        for s in 2..121 {
            let c = a.allocate(t(s), &set(&["S0"]));
            assert!(c.grants.is_empty(), "filtered at {s}s");
            assert_eq!(c.idle, [("S0".to_string(), IdleReason::Filtered(vec!["f0".into()]))].into());
        }
        assert_eq!(who(&a.allocate(t(121), &set(&["S0"])).grants), [("S0", "f0")]);
    }

    #[test]
    fn a_filter_does_not_cover_more_than_was_refused() {
        let mut a = Allocator::new(AllocatorConfig::default());
        a.add_agent("S0", res(4.0, 4096.0));
        a.add_framework("f0", "*", true);
        a.allocate(t(1), &set(&["S0"]));
        // f0 keeps 1 cpu for a task and refuses the rest...
        a.recover(t(1), "f0", "S0", &res(3.0, 4096.0), Some(60.0));
        assert!(a.allocate(t(2), &set(&["S0"])).grants.is_empty());
        // ...the task ends: 4 cpus are available, more than the filter covers.
        a.recover(t(3), "f0", "S0", &res(1.0, 0.0), None);
        assert_eq!(who(&a.allocate(t(4), &set(&["S0"])).grants), [("S0", "f0")]);
    }

    #[test]
    fn filtered_framework_is_passed_over_for_the_next_in_drf_order() {
        let mut a = Allocator::new(AllocatorConfig::default());
        a.add_agent("S0", res(4.0, 4096.0));
        a.add_agent("S1", res(4.0, 4096.0));
        a.add_framework("f0", "*", true);
        a.add_framework("f1", "*", true);
        let c = a.allocate(t(1), &a.agent_ids());
        assert_eq!(winners(&c.grants), ["f0", "f1"]);
        let mine = c.grants[0].agent_id.clone();
        // f0 refuses its agent: its share drops to 0, ahead of f1 (0.5), but it is filtered.
        a.recover(t(1), "f0", &mine, &res(4.0, 4096.0), Some(10.0));
        let g = a.allocate(t(2), &set(&[&mine])).grants;
        assert_eq!(who(&g), [(mine.as_str(), "f1")]);
        assert_eq!(g[0].filtered, ["f0"]);
    }

    #[test]
    fn refusal_timeout_follows_recover_resources() {
        let a = Allocator::new(AllocatorConfig::default());
        let cases: &[(f64, Option<f64>)] = &[
            (5.0, Some(5.0)),
            (120.0, Some(120.0)),
            (0.2, Some(1.0)),  // at least one allocation interval (MESOS-4302)
            (0.0, None),       // zero installs no filter
            (-3.0, Some(5.0)), // negative → default
            (f64::NAN, Some(5.0)),
            (1e12, Some(MAX_REFUSE_SECONDS)),
            (f64::INFINITY, Some(MAX_REFUSE_SECONDS)),
            (f64::NEG_INFINITY, Some(5.0)),
            (f64::MAX, Some(MAX_REFUSE_SECONDS)),
        ];
        for &(input, want) in cases {
            assert_eq!(a.refusal_timeout(input), want.map(Duration::from_secs_f64), "refuse_seconds={input}");
        }
    }

    #[test]
    fn inactive_suppressed_and_unallocatable_get_nothing_and_say_why() {
        let mut a = Allocator::new(AllocatorConfig::default());
        a.add_agent("S0", res(4.0, 4096.0));
        a.add_agent("S1", res(0.005, 16.0));
        let c = a.allocate(t(1), &a.agent_ids());
        let every = |r: IdleReason| [("S0".to_string(), r.clone()), ("S1".to_string(), r)].into();
        assert_eq!(c.idle, every(IdleReason::NoActiveFramework));
        a.add_framework("f0", "*", false);
        assert_eq!(a.allocate(t(1), &a.agent_ids()).idle, every(IdleReason::NoActiveFramework));
        a.add_framework("f1", "*", true);
        a.suppress("f1");
        let c = a.allocate(t(1), &a.agent_ids());
        assert!(c.grants.is_empty());
        assert_eq!(c.idle, every(IdleReason::Suppressed));
        a.revive("f1");
        // S1 is below cpus:0.01|mem:32, so only S0 is offered.
        let c = a.allocate(t(1), &a.agent_ids());
        assert_eq!(who(&c.grants), [("S0", "f1")]);
        assert_eq!(c.idle, [("S1".to_string(), IdleReason::BelowMinAllocatable)].into());
        a.activate_framework("f0");
        assert!(a.allocate(t(2), &a.agent_ids()).grants.is_empty());
    }

    #[test]
    fn a_deactivated_agent_is_not_offered_until_activated() {
        let mut a = Allocator::new(AllocatorConfig::default());
        a.add_agent("S0", res(4.0, 4096.0));
        a.add_agent("S1", res(4.0, 4096.0));
        a.add_framework("f0", "*", true);
        a.deactivate_agent("S0");
        let c = a.allocate(t(1), &set(&["S0", "S1"]));
        assert_eq!(who(&c.grants), [("S1", "f0")]);
        assert_eq!(c.order, ["S1"], "a deactivated agent is not a candidate");
        assert_eq!(c.idle, [("S0".to_string(), IdleReason::AgentDeactivated)].into());
        a.activate_agent("S0");
        assert_eq!(who(&a.allocate(t(2), &set(&["S0", "S1"])).grants), [("S0", "f0")]);
    }

    #[test]
    fn used_resources_of_a_reregistering_agent_count_toward_drf() {
        let mut a = Allocator::new(AllocatorConfig::default());
        a.add_agent("S0", res(4.0, 4096.0));
        a.add_agent("S1", res(4.0, 4096.0));
        a.add_framework("f0", "*", false);
        a.add_framework("f1", "*", true);
        a.allocate_used("f0", "S0", &res(1.0, 1024.0));
        assert_eq!(a.agent("S0").unwrap().available(), res(3.0, 3072.0));
        assert_eq!((a.share("f0"), a.allocation_count("f0")), (0.125, 1));
        assert_eq!(a.role_allocation_count("*"), 1);
        a.activate_framework("f0");
        // f1 (share 0) gets the first agent visited; then f0 (0.125) beats f1
        // (0.375 or 0.5, whichever agent f1 got).
        let c = a.allocate(t(1), &set(&["S0", "S1"]));
        assert_eq!(granted_agents(&c), c.order);
        assert_eq!(winners(&c.grants), ["f1", "f0"]);
    }

    #[test]
    fn revive_clears_filters() {
        let mut a = Allocator::new(AllocatorConfig::default());
        a.add_agent("S0", res(4.0, 4096.0));
        a.add_framework("f0", "*", true);
        a.allocate(t(1), &set(&["S0"]));
        a.recover(t(1), "f0", "S0", &res(4.0, 4096.0), Some(1000.0));
        assert!(a.allocate(t(2), &set(&["S0"])).grants.is_empty());
        a.revive("f0");
        assert_eq!(who(&a.allocate(t(2), &set(&["S0"])).grants), [("S0", "f0")]);
    }

    #[test]
    fn deactivating_a_framework_clears_its_filters() {
        let mut a = Allocator::new(AllocatorConfig::default());
        a.add_agent("S0", res(4.0, 4096.0));
        a.add_framework("f0", "*", true);
        a.allocate(t(1), &set(&["S0"]));
        a.recover(t(1), "f0", "S0", &res(4.0, 4096.0), Some(1000.0));
        a.deactivate_framework("f0");
        assert!(a.filters("f0").unwrap().is_empty());
        a.activate_framework("f0");
        assert_eq!(who(&a.allocate(t(2), &set(&["S0"])).grants), [("S0", "f0")]);
    }

    #[test]
    fn a_gpu_agent_goes_only_to_gpu_capable_frameworks_unless_the_filter_is_off() {
        let mut gpu = res(4.0, 4096.0);
        gpu.add_scalar("gpus", 2.0);
        for filter in [true, false] {
            let mut a = Allocator::new(AllocatorConfig { filter_gpu_resources: filter, ..AllocatorConfig::default() });
            a.add_agent("G0", gpu.clone());
            a.add_agent("S1", res(4.0, 4096.0));
            a.add_framework("f0", "*", true);
            let c = a.allocate(t(1), &set(&["G0", "S1"]));
            let mut got = who(&c.grants);
            got.sort();
            if filter {
                assert_eq!(got, [("S1", "f0")]);
                assert_eq!(c.idle.get("G0"), Some(&IdleReason::GpuAgentFiltered));
                // With the capability it gets the GPU agent too.
                a.set_gpu_resources("f0", true);
                assert_eq!(who(&a.allocate(t(2), &set(&["G0"])).grants), [("G0", "f0")]);
            } else {
                assert_eq!(got, [("G0", "f0"), ("S1", "f0")]);
            }
        }
    }

    #[test]
    fn removing_agents_and_frameworks_releases_their_allocations() {
        let mut a = Allocator::new(AllocatorConfig::default());
        a.add_agent("S0", res(4.0, 4096.0));
        a.add_agent("S1", res(4.0, 4096.0));
        a.add_framework("f0", "*", true);
        a.allocate(t(1), &a.agent_ids());
        a.remove_agent("S1");
        assert_eq!(a.cluster_total(), &res(4.0, 4096.0));
        assert_eq!((a.share("f0"), a.role_share("*")), (1.0, 1.0));
        a.remove_framework("f0");
        assert_eq!(a.agent("S0").unwrap().allocated, Resources::new());
    }
}
