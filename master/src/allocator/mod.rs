//! The hierarchical allocator, as a pure data structure, with pluggable sorters.
//!
//! This is mesocosm's model of Mesos's `HierarchicalAllocatorProcess`
//! (`src/master/allocator/mesos/hierarchical.cpp`) with its sorters
//! (`src/master/allocator/mesos/sorter/`). It knows nothing about
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
//!
//!   with the default DRF sorters:
//!   role order       by (share(role) ÷ weight(role), count, role name)
//!   framework order  by (share(framework),          count, framework id)   within a role
//! ```
//!
//! Mesos sorts twice, as this does: the *role sorter* orders the roles, and
//! each role has its own *framework sorter* for the frameworks subscribed to
//! it. A framework is offered an agent only when every framework that comes
//! before it (every framework of an earlier role, and the earlier frameworks
//! of its own role) was filtered. With DRF a weight of 2 lets a role hold
//! twice the dominant share of a weight-1 role before it sorts after it.
//!
//! # Sorters: what a policy can change
//!
//! The order is the one thing left to policy. Mesos's allocator asks a
//! `Sorter` (`src/master/allocator/mesos/sorter/sorter.hpp`) for it and so does
//! this one: a [`Sorter`] gets each client's name, weight, allocation, the
//! cluster total and an allocation count ([`SortClient`]) and returns a
//! permutation; it also explains its choice ([`Sorter::explain`]), which the
//! master puts in its allocation notes. [`AllocatorConfig::role_sorter`] and
//! [`AllocatorConfig::framework_sorter`] pick it, Mesos's `--role_sorter` and
//! `--framework_sorter`:
//!
//! - [`DrfSorter`] (`drf`, the default): the order above.
//! - [`RandomSorter`] (`random`): a weighted random shuffle on every sort,
//!   drawn from a stream seeded like the agent shuffle; shares do not count.
//! - your own, through [`SorterChoice::custom`].
//!
//! What a sorter cannot change is kept by the books, whichever sorter runs: an
//! agent is offered only what it has free, and whole; inactive and suppressed
//! frameworks are never sorted; refusal filters and `--filter_gpu_resources`
//! pass a framework over; `--min_allocatable_resources` holds back crumbs; the
//! agents are shuffled by the allocator, not the sorter.
//!
//! # A cycle
//!
//! One allocation cycle ([`Allocator::allocate`]) takes the candidate agents,
//! drops the deactivated ones, **shuffles** the rest with the allocator's own
//! seeded generator (Mesos shuffles them with `std::random_shuffle` on every
//! cycle) and walks them in that order. For each agent it asks the role sorter
//! for the role order, and each role's framework sorter for its frameworks'
//! order (afresh for every agent, as `__generateOffers` calls `sort()` inside
//! its agent loop), and hands the agent's
//! **whole** available resources to the first framework that no refusal
//! filter stops (skipping, for an agent with GPUs, frameworks without the
//! GPU_RESOURCES capability while `--filter_gpu_resources` is on). A
//! deactivated framework (disconnected) gets nothing and loses its filters,
//! as `deactivateFramework` clears them. The grant counts as allocated at once, so the next agent in
//! the same cycle already sees the new shares: that is what makes two equal
//! frameworks alternate under DRF. The result, a [`Cycle`], says in which order the
//! agents were visited, who got what, and why every agent that still has free
//! resources got no grant ([`IdleReason`]).
//!
//! # At Mesos scale
//!
//! Mesos's `DeclineOffers` benchmark (10,000 agents, thousands of frameworks,
//! every offer refused for good) is the allocator's worst day: a million
//! filters after a hundred rounds, and a sort of every framework before every
//! agent. Two things keep a cycle's cost to the work it must do. A sorter
//! whose order is a [`KeyOrder`] (DRF) is not asked to sort at all: the cycle
//! keeps its order and moves only the framework just granted (`standings`),
//! as Mesos's `DRFSorter` keeps a sorted tree. And refusal filters live with
//! their agent, share the bag of resources they refused, and are indexed by
//! expiry, so a cycle touches only the filters it must check or drop
//! (`filters`); each framework's bit per refused agent answers the common
//! question, "has this framework no filter here?", from the cache. What a
//! cycle hands out names its agents, frameworks and roles by [`SharedId`], so
//! a cycle copies no id string, and it allocates its grants once and its
//! filter-check scratch once, not per agent; a caller that hands its last
//! [`Cycle`] back ([`Allocator::allocate_all_into`]) has the grant list
//! refilled in place, not mapped afresh. Each agent keeps its free bag
//! up to date (`total − allocated`: recomputed when a grant takes from it,
//! grown by what a recovery gives back), and a grant takes that bag whole,
//! so a cycle computes no free bag.
//! `benches/examples/decline_offers.rs` measures all of it.
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
//! constraints, `--fair_sharing_excluded_resource_names`, maintenance and
//! inverse offers: nothing in mesocosm's scenarios uses them yet.

use mesocosm_proto::Resources;
use mesocosm_sim::SimTime;
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::SeedableRng;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

mod book;
mod cycle;
mod drf;
mod filters;
mod random;
mod sorter;
mod standings;
#[cfg(test)]
mod tests;

pub use book::AgentSlot;
use book::{AgentEntry, FrameworkSlot, RoleSlot};
pub use drf::DrfSorter;
pub use filters::RefusalFilter;
pub use random::RandomSorter;
pub use sorter::{KeyOrder, SortClient, SortKey, Sorter, SorterChoice};

/// A framework id as the allocator sees it (`<master-id>-0000`).
pub type FrameworkId = String;
/// An agent id as the allocator sees it (`<master-id>-S0`).
pub type AgentId = String;

/// An agent, framework or role id that many places hold at once (a cycle's
/// visiting order, its grants, the frameworks a grant passed over): cloning
/// it bumps a reference count instead of copying the string. Why: a cycle at
/// Mesos scale names 10,000 agents twice and passes over a million filtered
/// frameworks, and copying those strings was a tenth of a `DeclineOffers`
/// cycle. It reads, prints, hashes and compares like the `str` it holds.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SharedId(Arc<str>);

impl SharedId {
    /// The id as a `str`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<String> for SharedId {
    fn from(s: String) -> SharedId {
        SharedId(Arc::from(s))
    }
}

impl PartialEq<String> for SharedId {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other.as_str()
    }
}

impl PartialEq<SharedId> for String {
    fn eq(&self, other: &SharedId) -> bool {
        self.as_str() == other.as_str()
    }
}

impl PartialEq<SharedId> for &str {
    fn eq(&self, other: &SharedId) -> bool {
        *self == other.as_str()
    }
}

impl std::ops::Deref for SharedId {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl From<&str> for SharedId {
    fn from(s: &str) -> SharedId {
        SharedId(Arc::from(s))
    }
}

impl PartialEq<&str> for SharedId {
    fn eq(&self, other: &&str) -> bool {
        &*self.0 == *other
    }
}

impl PartialEq<str> for SharedId {
    fn eq(&self, other: &str) -> bool {
        &*self.0 == other
    }
}

impl fmt::Debug for SharedId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl fmt::Display for SharedId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Who the sorters see in one cycle: each role that has an eligible (active,
/// unsuppressed) framework, in name order, with those frameworks' numbers in
/// id order: the order a sorter's clients arrive in. The role's name is
/// shared, as every grant to the role names it.
type Eligible = Vec<(SharedId, Vec<u32>)>;

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

/// One decision of a cycle: `framework_id` gets `resources` of `agent_id`.
#[derive(Clone, Debug, PartialEq)]
pub struct Grant {
    /// Who gets the offer.
    pub framework_id: SharedId,
    /// The role the resources are allocated to (the framework's role).
    pub role: SharedId,
    /// Whose resources.
    pub agent_id: SharedId,
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
    pub filtered: Vec<SharedId>,
    /// Why the role came first, in the role sorter's words ([`Sorter::explain`]);
    /// empty while explanations are off ([`Allocator::set_explain`]).
    pub role_why: String,
    /// Why the framework came first in its role, in its framework sorter's
    /// words; empty while explanations are off.
    pub why: String,
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
    Filtered(Vec<SharedId>),
    /// The agent has GPUs and no eligible framework has the GPU_RESOURCES
    /// capability (`--filter_gpu_resources`).
    GpuAgentFiltered,
}

/// What one allocation cycle did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Cycle {
    /// The activated candidate agents in the order the cycle visited them
    /// (the seeded shuffle of their ids).
    pub order: Vec<SharedId>,
    /// The grants, in the order they were made.
    pub grants: Vec<Grant>,
    /// Every candidate agent that ends the cycle with free resources and no
    /// grant, and why. A candidate that is neither granted nor here had
    /// nothing free: all of it is offered or used.
    pub idle: BTreeMap<AgentId, IdleReason>,
}

/// The hierarchical allocator. See the module docs.
///
/// Why integer ids inside: Mesos's allocator keys its books by `SlaveID` and
/// `FrameworkID` strings (`hierarchical.hpp`), and at 10,000 agents those
/// string-keyed lookups are a fifth of a cycle. Here each agent and framework
/// gets a small number when it is added; the books are vectors indexed by
/// it, and a string id is looked up once, where the master hands it in.
#[derive(Debug)]
pub struct Allocator {
    cfg: AllocatorConfig,
    /// Agents by the small number each got when added (its `idx`), `None`
    /// once removed. Numbers are not reused, so a filter's number never
    /// names another agent.
    agents: Vec<Option<AgentEntry>>,
    /// Agent numbers by id: the boundary where the master's ids come in.
    agent_index: BTreeMap<AgentId, u32>,
    /// Frameworks by `idx`, as `agents`.
    frameworks: Vec<Option<FrameworkSlot>>,
    /// Framework numbers by id; also the id order sorters see clients in.
    framework_index: BTreeMap<FrameworkId, u32>,
    roles: BTreeMap<String, RoleSlot>,
    /// Every refusal filter as `(expires, framework idx, agent idx)`, earliest
    /// first. Why an index: Mesos gives each filter its own expiry timer; a
    /// cycle here drops exactly the filters whose time has come, from the
    /// front, and never looks at the ones still in force, however many.
    expiries: BTreeSet<(SimTime, u32, u32)>,
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
    /// Whether grants carry their sorters' explanations ([`Grant::why`],
    /// [`Grant::role_why`]). Mesos explains nothing; the master asks for
    /// them only while someone reads its notes, so a cycle nobody narrates
    /// formats no text.
    explain: bool,
    /// The last cycle's visiting order, by agent number: the next cycle
    /// refills it rather than allocating its own (see
    /// [`Allocator::allocate_into`]). Nothing reads it between cycles.
    visit: Vec<u32>,
}

impl Default for Allocator {
    fn default() -> Self {
        Allocator::new(AllocatorConfig::default())
    }
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
            agents: Vec::new(),
            agent_index: BTreeMap::new(),
            frameworks: Vec::new(),
            framework_index: BTreeMap::new(),
            roles: BTreeMap::new(),
            expiries: BTreeSet::new(),
            cluster_total: Resources::new(),
            rng,
            sort_rng,
            explain: true,
            visit: Vec::new(),
        }
    }

    /// Build [`Grant::why`] and [`Grant::role_why`] (the default), or leave
    /// them empty. The master turns them off while nobody reads its notes
    /// (no `--explain`, no trace file): they are two `format!` per grant.
    pub fn set_explain(&mut self, on: bool) {
        self.explain = on;
    }

    /// The knobs.
    pub fn config(&self) -> &AllocatorConfig {
        &self.cfg
    }
}
