//! The hierarchical DRF allocator, as a pure data structure.
//!
//! This is mesocosm's model of Mesos's `HierarchicalAllocatorProcess`
//! (`src/master/allocator/mesos/hierarchical.cpp`) with its DRF sorter
//! (`src/master/allocator/sorter/drf/sorter.cpp`). It knows nothing about
//! messages, actors or offers ids: the master tells it what exists (agents and
//! their totals, frameworks and whether they want offers) and what came back
//! (recovered resources, refusal filters), and asks it one question,
//! [`Allocator::allocate`]: *which framework gets which agent's free resources
//! now?*
//!
//! # The model
//!
//! ```text
//!   agent   total  = what the agent registered with
//!           allocated = offered (outstanding offers) + used (tasks, executors)
//!           available = total − allocated
//!
//!   framework  allocation per agent, its scalar sum, an allocation count,
//!              active/suppressed, refusal filters per agent
//!
//!   DRF share(f) = max over scalar names r of  allocated_f(r) / cluster_total(r)
//!                  (÷ weight 1.0; roles are not modelled, everyone is in `*`)
//! ```
//!
//! One allocation cycle walks the candidate agents; for each it sorts the
//! frameworks by (share, allocation count, id) and hands the agent's **whole**
//! available resources to the first framework that is not filtered. The grant
//! counts as allocated at once, so the next agent in the same cycle already sees
//! the new shares: that is what makes two equal frameworks alternate.
//!
//! # What is left out
//!
//! Quota (stage 1 of `__generateOffers`), roles and weights other than 1.0,
//! reservations, revocable resources, offer constraints, maintenance and
//! inverse offers: nothing in mesocosm's scenarios uses them yet.

use mesocosm_proto::Resources;
use mesocosm_sim::SimTime;
use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// A framework id as the allocator sees it (`<master-id>-0000`).
pub type FrameworkId = String;
/// An agent id as the allocator sees it (`<master-id>-S0`).
pub type AgentId = String;

/// The Mesos default for `Filters.refuse_seconds` (`include/mesos/v1/mesos.proto`).
pub const DEFAULT_REFUSE_SECONDS: f64 = 5.0;
/// The cap on a refusal filter: 365 days (`hierarchical.cpp` `recoverResources`).
pub const MAX_REFUSE_SECONDS: f64 = 365.0 * 24.0 * 3600.0;

/// The allocator's knobs (the master's flags of the same names).
#[derive(Clone, Debug, PartialEq)]
pub struct AllocatorConfig {
    /// `--allocation_interval`: also the shortest a refusal filter can last.
    pub allocation_interval: Duration,
    /// `--min_allocatable_resources` cpus part (`MIN_CPUS` = 0.01).
    pub min_allocatable_cpus: f64,
    /// `--min_allocatable_resources` mem part (`MIN_MEM` = 32 MB).
    pub min_allocatable_mem: f64,
}

impl Default for AllocatorConfig {
    fn default() -> Self {
        AllocatorConfig {
            allocation_interval: Duration::from_secs(1),
            min_allocatable_cpus: 0.01,
            min_allocatable_mem: 32.0,
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
}

/// One decision of a cycle: `framework_id` gets `resources` of `agent_id`.
#[derive(Clone, Debug, PartialEq)]
pub struct Grant {
    /// Who gets the offer.
    pub framework_id: FrameworkId,
    /// Whose resources.
    pub agent_id: AgentId,
    /// The agent's whole available resources at that moment.
    pub resources: Resources,
    /// The framework's DRF share just before the grant (the sort key).
    pub share: f64,
    /// How many frameworks were eligible for this agent in the sort.
    pub contenders: usize,
    /// Frameworks ahead of this one in DRF order that a refusal filter skipped.
    pub filtered: Vec<FrameworkId>,
}

/// A framework's place in the DRF order: (share, allocation count, id).
#[derive(Clone, Debug)]
struct SortKey {
    share: f64,
    count: u64,
    id: FrameworkId,
}

impl PartialEq for SortKey {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for SortKey {}
impl PartialOrd for SortKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for SortKey {
    /// Why this order: `compareDRF` in `sorter/drf/sorter.hpp` sorts by share,
    /// then by allocation count, then by client name.
    fn cmp(&self, other: &Self) -> Ordering {
        self.share.total_cmp(&other.share).then(self.count.cmp(&other.count)).then_with(|| self.id.cmp(&other.id))
    }
}

/// The hierarchical DRF allocator (one role, `*`).
#[derive(Clone, Debug, Default)]
pub struct Allocator {
    cfg: AllocatorConfig,
    agents: BTreeMap<AgentId, AgentSlot>,
    frameworks: BTreeMap<FrameworkId, FrameworkSlot>,
    /// The scalar sum of every agent's total: DRF's denominator.
    cluster_total: Resources,
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
        Allocator { cfg, ..Allocator::default() }
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
    /// share, allocation count included). Add the framework first.
    pub fn allocate_used(&mut self, framework: &str, agent: &str, resources: &Resources) {
        if !resources.is_empty() {
            self.track(framework, agent, resources);
        }
    }

    /// Forget agent `id` and everything allocated on it (`removeSlave`): the
    /// frameworks' shares drop by what they held there and their filters for it go.
    pub fn remove_agent(&mut self, id: &str) {
        let Some(slot) = self.agents.remove(id) else { return };
        self.cluster_total.subtract(&scalars_of(&slot.total));
        for fw in self.frameworks.values_mut() {
            if let Some(held) = fw.allocations.remove(id) {
                fw.scalars.subtract(&scalars_of(&held));
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

    /// Add framework `id` (`addFramework`), active or not.
    pub fn add_framework(&mut self, id: &str, active: bool) {
        let fw = self.frameworks.entry(id.to_string()).or_default();
        fw.active = active;
    }

    /// Remove framework `id` and release everything it held (`removeFramework`).
    pub fn remove_framework(&mut self, id: &str) {
        let Some(fw) = self.frameworks.remove(id) else { return };
        for (agent, held) in fw.allocations {
            if let Some(a) = self.agents.get_mut(&agent) {
                a.allocated.subtract(&held);
            }
        }
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

    /// Stop offering to framework `id` (`deactivateFramework`); it keeps what it holds.
    pub fn deactivate_framework(&mut self, id: &str) {
        if let Some(fw) = self.frameworks.get_mut(id) {
            fw.active = false;
        }
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

    /// Framework `id`'s dominant share: the largest fraction it holds of any
    /// scalar resource in the cluster (`DRFSorter::calculateShare`), ÷ weight 1.0.
    pub fn share(&self, id: &str) -> f64 {
        self.frameworks.get(id).map_or(0.0, |fw| self.share_of(fw))
    }

    fn share_of(&self, fw: &FrameworkSlot) -> f64 {
        let mut share: f64 = 0.0;
        for (name, total) in self.cluster_total.scalars() {
            if total > 0.0 {
                share = share.max(fw.scalars.scalar(name) / total);
            }
        }
        // Why divide by 1.0: every framework is in the default role, whose
        // weight is `DEFAULT_WEIGHT` = 1.0 (master constants); weights are a later option.
        share / 1.0
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
            fw.scalars.subtract(&scalars_of(resources));
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

    /// Mesos's default `--min_allocatable_resources` is `cpus:0.01|mem:32`: a
    /// bag is worth offering if it has at least one of the two (`allocatable`).
    pub fn allocatable(&self, r: &Resources) -> bool {
        r.scalar("cpus") >= self.cfg.min_allocatable_cpus || r.scalar("mem") >= self.cfg.min_allocatable_mem
    }

    // ----- the cycle ------------------------------------------------------------

    /// One allocation cycle over `candidates` (`__generateOffers`, stage 2).
    ///
    /// For each candidate agent in id order, the frameworks are taken in DRF
    /// order; inactive and suppressed ones are not in the sort at all, filtered
    /// ones are passed over, and the first remaining one gets the agent's whole
    /// available resources. Unknown candidates are ignored.
    pub fn allocate(&mut self, now: SimTime, candidates: &BTreeSet<AgentId>) -> Vec<Grant> {
        // Expired filters are dropped here (Mesos expires each with a timer).
        for fw in self.frameworks.values_mut() {
            fw.filters.retain(|_, fs| {
                fs.retain(|f| now < f.expires);
                !fs.is_empty()
            });
        }
        // Why a sorted set that is updated per grant: Mesos re-sorts its DRF
        // sorter for every agent; keeping the order and moving only the framework
        // that just got something gives the same order for less work.
        let mut order: BTreeSet<SortKey> = self
            .frameworks
            .iter()
            .filter(|(_, f)| f.active && !f.suppressed)
            .map(|(id, f)| SortKey { share: self.share_of(f), count: f.count, id: id.clone() })
            .collect();

        let mut grants = Vec::new();
        // Why id order: Mesos shuffles the candidates with std::random_shuffle on
        // every cycle (hierarchical.cpp); mesocosm walks them sorted by AgentID so a
        // run replays byte for byte. A shuffle seeded from the world's seed is a
        // later option.
        for agent_id in candidates {
            let Some(slot) = self.agents.get(agent_id).filter(|s| !s.deactivated) else { continue };
            let available = slot.available();
            if available.is_empty() || !self.allocatable(&available) {
                continue;
            }
            let mut filtered = Vec::new();
            let mut chosen = None;
            for key in &order {
                if self.is_filtered(now, &key.id, agent_id, &available) {
                    filtered.push(key.id.clone());
                    continue;
                }
                chosen = Some(key.clone());
                break;
            }
            let Some(key) = chosen else { continue };
            let contenders = order.len();
            order.remove(&key);
            self.track(&key.id, agent_id, &available);
            let fw = &self.frameworks[&key.id];
            order.insert(SortKey { share: self.share_of(fw), count: fw.count, id: key.id.clone() });
            grants.push(Grant {
                framework_id: key.id,
                agent_id: agent_id.clone(),
                resources: available,
                share: key.share,
                contenders,
                filtered,
            });
        }
        grants
    }

    /// Count `resources` of `agent` as allocated to `framework` (`trackAllocatedResources`).
    fn track(&mut self, framework: &str, agent: &str, resources: &Resources) {
        if let Some(a) = self.agents.get_mut(agent) {
            a.allocated.add(resources);
        }
        if let Some(fw) = self.frameworks.get_mut(framework) {
            fw.allocations.entry(agent.to_string()).or_default().add(resources);
            fw.scalars.add(&scalars_of(resources));
            fw.count += 1;
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

    #[test]
    fn whole_agent_goes_to_the_first_framework() {
        let mut a = Allocator::new(AllocatorConfig::default());
        a.add_agent("S0", res(4.0, 8192.0));
        a.add_framework("f0", true);
        let g = a.allocate(t(1), &set(&["S0"]));
        assert_eq!(who(&g), [("S0", "f0")]);
        assert_eq!(g[0].resources, res(4.0, 8192.0));
        assert_eq!(g[0].share, 0.0);
        assert_eq!(a.agent("S0").unwrap().available(), Resources::new());
        assert_eq!(a.share("f0"), 1.0);
        // Nothing left: the next cycle grants nothing.
        assert!(a.allocate(t(2), &set(&["S0"])).is_empty());
    }

    #[test]
    fn drf_alternates_and_breaks_ties_by_id() {
        let mut a = Allocator::new(AllocatorConfig::default());
        for s in ["S0", "S1", "S2", "S3"] {
            a.add_agent(s, res(4.0, 4096.0));
        }
        a.add_framework("f1", true);
        a.add_framework("f0", true);
        let g = a.allocate(t(1), &a.agent_ids());
        // Tie at 0 → id; then the lower share; then tie at 0.25 with count 1 each → id.
        assert_eq!(who(&g), [("S0", "f0"), ("S1", "f1"), ("S2", "f0"), ("S3", "f1")]);
        assert_eq!(g.iter().map(|g| g.share).collect::<Vec<_>>(), [0.0, 0.0, 0.25, 0.25]);
    }

    #[test]
    fn drf_tie_on_share_goes_to_the_lower_allocation_count() {
        let mut a = Allocator::new(AllocatorConfig::default());
        a.add_agent("a1", res(1.0, 1024.0));
        a.add_agent("a2", res(1.0, 1024.0));
        a.add_agent("a3", res(2.0, 2048.0));
        a.add_agent("a4", res(4.0, 4096.0));
        a.add_framework("f0", true);
        a.add_framework("f1", true);
        assert_eq!(who(&a.allocate(t(1), &set(&["a1"]))), [("a1", "f0")]);
        assert_eq!(who(&a.allocate(t(1), &set(&["a2"]))), [("a2", "f1")]);
        assert_eq!(who(&a.allocate(t(1), &set(&["a3"]))), [("a3", "f0")]);
        // f0 gives a3 back: both hold 1/8 of the cluster, but f0 has been
        // allocated to twice and f1 once, so f1 wins despite its larger id.
        a.recover(t(1), "f0", "a3", &res(2.0, 2048.0), None);
        assert_eq!(a.share("f0"), a.share("f1"));
        assert_eq!((a.allocation_count("f0"), a.allocation_count("f1")), (2, 1));
        assert_eq!(who(&a.allocate(t(2), &set(&["a3"]))), [("a3", "f1")]);
    }

    #[test]
    fn dominant_share_is_the_largest_fraction_of_any_scalar() {
        let mut a = Allocator::new(AllocatorConfig::default());
        a.add_agent("S0", res(1.0, 6144.0));
        a.add_agent("S1", res(3.0, 2048.0));
        a.add_framework("f0", true);
        a.allocate(t(1), &set(&["S0"]));
        // cpus 1/4 = 0.25, mem 6144/8192 = 0.75.
        assert_eq!(a.share("f0"), 0.75);
    }

    #[test]
    fn refusal_filter_covers_subsets_until_it_expires() {
        let mut a = Allocator::new(AllocatorConfig::default());
        a.add_agent("S0", res(4.0, 4096.0));
        a.add_framework("f0", true);
        a.allocate(t(1), &set(&["S0"]));
        let exp = a.recover(t(1), "f0", "S0", &res(4.0, 4096.0), Some(120.0));
        assert_eq!(exp, Some(t(121)));
        for s in 2..121 {
            assert!(a.allocate(t(s), &set(&["S0"])).is_empty(), "filtered at {s}s");
        }
        assert_eq!(who(&a.allocate(t(121), &set(&["S0"]))), [("S0", "f0")]);
    }

    #[test]
    fn a_filter_does_not_cover_more_than_was_refused() {
        let mut a = Allocator::new(AllocatorConfig::default());
        a.add_agent("S0", res(4.0, 4096.0));
        a.add_framework("f0", true);
        a.allocate(t(1), &set(&["S0"]));
        // f0 keeps 1 cpu for a task and refuses the rest...
        a.recover(t(1), "f0", "S0", &res(3.0, 4096.0), Some(60.0));
        assert!(a.allocate(t(2), &set(&["S0"])).is_empty());
        // ...the task ends: 4 cpus are available, more than the filter covers.
        a.recover(t(3), "f0", "S0", &res(1.0, 0.0), None);
        assert_eq!(who(&a.allocate(t(4), &set(&["S0"]))), [("S0", "f0")]);
    }

    #[test]
    fn filtered_framework_is_passed_over_for_the_next_in_drf_order() {
        let mut a = Allocator::new(AllocatorConfig::default());
        a.add_agent("S0", res(4.0, 4096.0));
        a.add_agent("S1", res(4.0, 4096.0));
        a.add_framework("f0", true);
        a.add_framework("f1", true);
        assert_eq!(who(&a.allocate(t(1), &a.agent_ids())), [("S0", "f0"), ("S1", "f1")]);
        // f0 refuses S0: its share drops to 0, ahead of f1 (0.5), but it is filtered.
        a.recover(t(1), "f0", "S0", &res(4.0, 4096.0), Some(10.0));
        let g = a.allocate(t(2), &set(&["S0"]));
        assert_eq!(who(&g), [("S0", "f1")]);
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
        ];
        for &(input, want) in cases {
            assert_eq!(a.refusal_timeout(input), want.map(Duration::from_secs_f64), "refuse_seconds={input}");
        }
    }

    #[test]
    fn inactive_suppressed_and_unallocatable_get_nothing() {
        let mut a = Allocator::new(AllocatorConfig::default());
        a.add_agent("S0", res(4.0, 4096.0));
        a.add_agent("S1", res(0.005, 16.0));
        a.add_framework("f0", false);
        a.add_framework("f1", true);
        a.suppress("f1");
        assert!(a.allocate(t(1), &a.agent_ids()).is_empty());
        a.revive("f1");
        // S1 is below cpus:0.01|mem:32, so only S0 is offered.
        assert_eq!(who(&a.allocate(t(1), &a.agent_ids())), [("S0", "f1")]);
        a.activate_framework("f0");
        assert!(a.allocate(t(2), &a.agent_ids()).is_empty());
    }

    #[test]
    fn a_deactivated_agent_is_not_offered_until_activated() {
        let mut a = Allocator::new(AllocatorConfig::default());
        a.add_agent("S0", res(4.0, 4096.0));
        a.add_agent("S1", res(4.0, 4096.0));
        a.add_framework("f0", true);
        a.deactivate_agent("S0");
        assert_eq!(who(&a.allocate(t(1), &set(&["S0", "S1"]))), [("S1", "f0")]);
        a.activate_agent("S0");
        assert_eq!(who(&a.allocate(t(2), &set(&["S0", "S1"]))), [("S0", "f0")]);
    }

    #[test]
    fn used_resources_of_a_reregistering_agent_count_toward_drf() {
        let mut a = Allocator::new(AllocatorConfig::default());
        a.add_agent("S0", res(4.0, 4096.0));
        a.add_agent("S1", res(4.0, 4096.0));
        a.add_framework("f0", false);
        a.add_framework("f1", true);
        a.allocate_used("f0", "S0", &res(1.0, 1024.0));
        assert_eq!(a.agent("S0").unwrap().available(), res(3.0, 3072.0));
        assert_eq!((a.share("f0"), a.allocation_count("f0")), (0.125, 1));
        a.activate_framework("f0");
        // f1 (share 0) gets S0's rest first; then f0 (0.125) beats f1 (0.375).
        assert_eq!(who(&a.allocate(t(1), &set(&["S0", "S1"]))), [("S0", "f1"), ("S1", "f0")]);
    }

    #[test]
    fn revive_clears_filters() {
        let mut a = Allocator::new(AllocatorConfig::default());
        a.add_agent("S0", res(4.0, 4096.0));
        a.add_framework("f0", true);
        a.allocate(t(1), &set(&["S0"]));
        a.recover(t(1), "f0", "S0", &res(4.0, 4096.0), Some(1000.0));
        assert!(a.allocate(t(2), &set(&["S0"])).is_empty());
        a.revive("f0");
        assert_eq!(who(&a.allocate(t(2), &set(&["S0"]))), [("S0", "f0")]);
    }

    #[test]
    fn removing_agents_and_frameworks_releases_their_allocations() {
        let mut a = Allocator::new(AllocatorConfig::default());
        a.add_agent("S0", res(4.0, 4096.0));
        a.add_agent("S1", res(4.0, 4096.0));
        a.add_framework("f0", true);
        a.allocate(t(1), &a.agent_ids());
        a.remove_agent("S1");
        assert_eq!(a.cluster_total(), &res(4.0, 4096.0));
        assert_eq!(a.share("f0"), 1.0);
        a.remove_framework("f0");
        assert_eq!(a.agent("S0").unwrap().allocated, Resources::new());
    }
}
