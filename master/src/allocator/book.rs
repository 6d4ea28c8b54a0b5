//! The books: agents, frameworks and roles, and what each holds.
//!
//! Mesos's allocator keeps these itself (`Slave`, `Framework` and the
//! sorters' allocation tracking in `hierarchical.cpp`); no sorter can change
//! them. Every grant goes through `Allocator::track`, every release through
//! `recover` or a removal, so the shares a sorter sees are always the books'.

use super::filters::{AgentBits, AgentRefusals};
use super::{AgentId, Allocator, DEFAULT_WEIGHT, FrameworkId, RefusalFilter, SharedId, SortClient};
use mesocosm_proto::Resources;
use std::collections::{BTreeMap, BTreeSet};

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

    /// True if the agent has GPUs (`--filter_gpu_resources` looks).
    pub(super) fn has_gpus(&self) -> bool {
        self.total.scalar("gpus") > 0.0
    }
}

/// An agent with what only the allocator needs: its number and the refusal
/// filters frameworks hold on it.
#[derive(Debug)]
pub(super) struct AgentEntry {
    /// Its id, for the grants and the idle reasons a cycle hands out
    /// (shared: every cycle names every agent in its order).
    pub(super) id: SharedId,
    pub(super) slot: AgentSlot,
    /// Its index in `Allocator::agents`: how filters and books name it.
    pub(super) idx: u32,
    /// The frameworks' refusal filters on this agent. Why here and not with
    /// the framework: a cycle asks "is framework f filtered on this agent?"
    /// for framework after framework while it visits one agent, so the
    /// answers sit together.
    pub(super) refusals: AgentRefusals,
    /// What each framework holds here (offered or used), by framework idx.
    /// Why with the agent and not with the framework: a grant and the
    /// decline or launch that answers it touch one agent, which one or two
    /// frameworks hold resources on, while a framework at Mesos scale holds
    /// some on thousands; a short list here is cheaper to update than an
    /// ordered map per framework (Mesos's `Slave` keeps its allocation too).
    pub(super) held: Vec<(u32, Resources)>,
    /// `slot.available()`, kept up to date: `total − allocated`, computed
    /// again whenever `allocated` changes, as Mesos's `Slave::updateAvailable`
    /// does (`hierarchical.hpp`). Why kept: a cycle visits every agent, and
    /// a grant hands out the whole bag, so it is moved into the grant instead
    /// of computed (a clone and a range subtraction) for every agent of every
    /// cycle; what the grant leaves behind is the empty bag `total − total`.
    pub(super) free: Resources,
}

impl AgentEntry {
    /// What framework `fw` holds here, if anything.
    pub(super) fn held_by(&self, fw: u32) -> Option<&Resources> {
        self.held.iter().find(|(f, _)| *f == fw).map(|(_, r)| r)
    }
}

#[derive(Clone, Debug)]
pub(super) struct FrameworkSlot {
    /// Its id, shared with the sorters' orders and the grants' `filtered`.
    pub(super) id: SharedId,
    /// Its index in `Allocator::frameworks`: how filters and books name it.
    pub(super) idx: u32,
    /// The role it is allocated under.
    pub(super) role: String,
    /// Deactivated frameworks (disconnected, failing over) get nothing.
    pub(super) active: bool,
    /// SUPPRESS: the framework asked for no offers until REVIVE.
    pub(super) suppressed: bool,
    /// The scalar part of what it holds on every agent (the agents keep
    /// what it holds on each, `AgentEntry::held`; ranges such as ports are
    /// per agent and would wrongly merge across agents, and DRF ignores them).
    pub(super) scalars: Resources,
    /// How many grants the framework has had; DRF's second tie-break. Like
    /// `DRFSorter`'s `allocation.count`, it only ever grows.
    pub(super) count: u64,
    /// The agents (by idx) on which it has refusal filters, as bits (the
    /// cycle tests them before the agent's filters, see [`AgentBits`]); the
    /// filters themselves are the agents' ([`AgentEntry::refusals`]).
    pub(super) refused_agents: AgentBits,
    /// FrameworkInfo has the GPU_RESOURCES capability.
    pub(super) gpu_resources: bool,
}

impl FrameworkSlot {
    fn new(id: &str, idx: u32, role: &str) -> FrameworkSlot {
        FrameworkSlot {
            id: SharedId::from(id),
            idx,
            role: role.to_string(),
            active: false,
            suppressed: false,
            scalars: Resources::new(),
            count: 0,
            refused_agents: AgentBits::default(),
            gpu_resources: false,
        }
    }

    pub(super) fn eligible(&self) -> bool {
        self.active && !self.suppressed
    }
}

/// A role as the role sorter sees it. It exists while a framework is
/// subscribed to it: Mesos removes a role from the role sorter when its last
/// framework goes (`untrackFrameworkUnderRole`), allocation count and all.
#[derive(Clone, Debug, Default)]
pub(super) struct RoleSlot {
    pub(super) frameworks: BTreeSet<FrameworkId>,
    /// The scalar sum of what its frameworks hold.
    pub(super) scalars: Resources,
    /// Grants to the role's frameworks while the role existed; only grows.
    pub(super) count: u64,
}

pub(super) fn scalars_of(r: &Resources) -> Resources {
    let mut s = Resources::new();
    add_scalars(&mut s, r);
    s
}

/// `into += the scalars of r` (ranges and sets left out), without building
/// the scalar bag first: a grant adds to a framework's and a role's sums.
pub(super) fn add_scalars(into: &mut Resources, r: &Resources) {
    for (name, v) in r.scalars() {
        into.add_scalar(name, v);
    }
}

impl Allocator {
    // ----- the boundary: string ids to numbers ----------------------------------

    /// Agent `id`'s number, if the allocator knows it.
    pub(super) fn agent_idx(&self, id: &str) -> Option<u32> {
        self.agent_index.get(id).copied()
    }

    /// The agent numbered `idx`, if it is still there.
    pub(super) fn agent_at(&self, idx: u32) -> Option<&AgentEntry> {
        self.agents.get(idx as usize).and_then(Option::as_ref)
    }

    pub(super) fn agent_at_mut(&mut self, idx: u32) -> Option<&mut AgentEntry> {
        self.agents.get_mut(idx as usize).and_then(Option::as_mut)
    }

    fn agent_mut(&mut self, id: &str) -> Option<&mut AgentEntry> {
        let idx = self.agent_idx(id)?;
        self.agent_at_mut(idx)
    }

    /// Framework `id`'s number, if the allocator knows it.
    pub(super) fn framework_idx(&self, id: &str) -> Option<u32> {
        self.framework_index.get(id).copied()
    }

    /// The framework numbered `idx`, if it is still there.
    pub(super) fn framework_at(&self, idx: u32) -> Option<&FrameworkSlot> {
        self.frameworks.get(idx as usize).and_then(Option::as_ref)
    }

    pub(super) fn framework_at_mut(&mut self, idx: u32) -> Option<&mut FrameworkSlot> {
        self.frameworks.get_mut(idx as usize).and_then(Option::as_mut)
    }

    pub(super) fn framework(&self, id: &str) -> Option<&FrameworkSlot> {
        self.framework_at(self.framework_idx(id)?)
    }

    fn framework_mut(&mut self, id: &str) -> Option<&mut FrameworkSlot> {
        let idx = self.framework_idx(id)?;
        self.framework_at_mut(idx)
    }

    /// Every framework, in id order (the order a sorter's clients arrive in).
    pub(super) fn frameworks_by_id(&self) -> impl Iterator<Item = &FrameworkSlot> {
        self.framework_index.values().filter_map(|&idx| self.framework_at(idx))
    }

    // ----- agents -------------------------------------------------------------

    /// Start offering `total` of agent `id` (`addSlave`). Adding an agent that is
    /// already there is a no-op.
    pub fn add_agent(&mut self, id: &str, total: Resources) {
        if self.agent_index.contains_key(id) {
            return;
        }
        self.cluster_total.add(&scalars_of(&total));
        let idx = u32::try_from(self.agents.len()).expect("fewer than 2^32 agents ever added");
        let slot = AgentSlot { total, allocated: Resources::new(), deactivated: false };
        let free = slot.available();
        let shared = SharedId::from(id);
        let entry = AgentEntry { id: shared, slot, idx, refusals: AgentRefusals::default(), held: Vec::new(), free };
        self.agents.push(Some(entry));
        self.agent_index.insert(id.to_string(), idx);
    }

    /// Stop offering agent `id` (`deactivateSlave`): the master does this when
    /// the agent's connection breaks, until it re-registers.
    pub fn deactivate_agent(&mut self, id: &str) {
        if let Some(a) = self.agent_mut(id) {
            a.slot.deactivated = true;
        }
    }

    /// Offer agent `id` again (`activateSlave`). Why no cycle is triggered:
    /// `HierarchicalAllocatorProcess::activateSlave` only flips the flag, so the
    /// agent's free resources wait for the next periodic cycle.
    pub fn activate_agent(&mut self, id: &str) {
        if let Some(a) = self.agent_mut(id) {
            a.slot.deactivated = false;
        }
    }

    /// Count `resources` of `agent` as already in use by `framework`: the tasks
    /// and executors a (re-)registering agent reports (`addSlave`'s `used`
    /// argument, which `trackAllocatedResources` charges to the framework's
    /// and its role's shares, allocation counts included). Add the framework first.
    pub fn allocate_used(&mut self, framework: &str, agent: &str, resources: &Resources) {
        if resources.is_empty() {
            return;
        }
        if let (Some(fw), Some(agent)) = (self.framework_idx(framework), self.agent_idx(agent)) {
            self.track(fw, agent, resources);
        }
    }

    /// Forget agent `id` and everything allocated on it (`removeSlave`): the
    /// frameworks' and roles' shares drop by what they held there and the
    /// frameworks' filters for it go.
    pub fn remove_agent(&mut self, id: &str) {
        let Some(idx) = self.agent_index.remove(id) else { return };
        let Some(entry) = self.agents[idx as usize].take() else { return };
        self.cluster_total.subtract(&scalars_of(&entry.slot.total));
        self.forget_refusals_on(entry.idx, entry.refusals);
        for (fw, held) in entry.held {
            let Some(fw) = self.frameworks.get_mut(fw as usize).and_then(Option::as_mut) else { continue };
            let held = scalars_of(&held);
            fw.scalars.subtract(&held);
            if let Some(role) = self.roles.get_mut(&fw.role) {
                role.scalars.subtract(&held);
            }
        }
    }

    /// Agent `id`, if the allocator knows it.
    pub fn agent(&self, id: &str) -> Option<&AgentSlot> {
        self.agent_at(self.agent_idx(id)?).map(|a| &a.slot)
    }

    /// Every agent, in id order.
    pub fn agents(&self) -> impl Iterator<Item = (&AgentId, &AgentSlot)> {
        self.agent_index.iter().filter_map(|(id, &idx)| Some((id, &self.agent_at(idx)?.slot)))
    }

    /// Every agent id, in id order (the candidate set of a full cycle).
    pub fn agent_ids(&self) -> BTreeSet<AgentId> {
        self.agent_index.keys().cloned().collect()
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
        if self.framework_index.contains_key(id) {
            self.update_framework(id, role);
        } else {
            let idx = u32::try_from(self.frameworks.len()).expect("fewer than 2^32 frameworks ever added");
            self.frameworks.push(Some(FrameworkSlot::new(id, idx, role)));
            self.framework_index.insert(id.to_string(), idx);
            self.roles.entry(role.to_string()).or_default().frameworks.insert(id.to_string());
        }
        if let Some(fw) = self.framework_mut(id) {
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
        let Some(fw) = self.framework_mut(id) else { return };
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
    pub(super) fn untrack_role(&mut self, role: &str, id: &str, held: &Resources) {
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
        self.clear_refusals(id);
        let Some(idx) = self.framework_index.remove(id) else { return };
        let Some(fw) = self.frameworks[idx as usize].take() else { return };
        // Why every agent: the agents keep the holdings (see
        // `AgentEntry::held`), and removing a framework is rare next to the
        // grants and declines that update them.
        for a in self.agents.iter_mut().flatten() {
            if let Some(at) = a.held.iter().position(|(f, _)| *f == idx) {
                let (_, held) = a.held.remove(at);
                a.slot.allocated.subtract(&held);
                a.free = a.slot.available();
            }
        }
        self.untrack_role(&fw.role, id, &fw.scalars);
    }

    /// True if framework `id` is known.
    pub fn has_framework(&self, id: &str) -> bool {
        self.framework_index.contains_key(id)
    }

    /// Let framework `id` receive offers again (`activateFramework`).
    pub fn activate_framework(&mut self, id: &str) {
        if let Some(fw) = self.framework_mut(id) {
            fw.active = true;
        }
    }

    /// Stop offering to framework `id` (`deactivateFramework`); it keeps what
    /// it holds. Its refusal filters go: `deactivateFramework` clears
    /// `framework.offerFilters`, so a framework that comes back (re-subscribes
    /// after a disconnection) is offered everything afresh.
    pub fn deactivate_framework(&mut self, id: &str) {
        if let Some(fw) = self.framework_mut(id) {
            fw.active = false;
        }
        self.clear_refusals(id);
    }

    /// Record whether framework `id` has the GPU_RESOURCES capability (from
    /// its FrameworkInfo at `addFramework` / `updateFramework`).
    pub fn set_gpu_resources(&mut self, id: &str, capable: bool) {
        if let Some(fw) = self.framework_mut(id) {
            fw.gpu_resources = capable;
        }
    }

    /// `isCapableOfReceivingAgent`: false for an agent with GPUs and a
    /// framework without GPU_RESOURCES while `--filter_gpu_resources` is on.
    pub(super) fn capable_of_receiving(&self, framework: u32, agent: u32) -> bool {
        let has_gpu = self.agent_at(agent).is_some_and(|a| a.slot.has_gpus());
        !(self.cfg.filter_gpu_resources && has_gpu && !self.framework_at(framework).is_some_and(|f| f.gpu_resources))
    }

    /// SUPPRESS: no offers for framework `id` until [`Allocator::revive`]
    /// (`suppressOffers`; outstanding offers stay).
    pub fn suppress(&mut self, id: &str) {
        if let Some(fw) = self.framework_mut(id) {
            fw.suppressed = true;
        }
    }

    /// REVIVE: clear framework `id`'s refusal filters and unsuppress it
    /// (`reviveOffers`). The caller triggers an allocation of all agents.
    pub fn revive(&mut self, id: &str) {
        if let Some(fw) = self.framework_mut(id) {
            fw.suppressed = false;
        }
        self.clear_refusals(id);
    }

    /// True if framework `id` is suppressed.
    pub fn is_suppressed(&self, id: &str) -> bool {
        self.framework(id).is_some_and(|f| f.suppressed)
    }

    /// The role framework `id` is allocated under.
    pub fn role(&self, id: &str) -> Option<&str> {
        self.framework(id).map(|f| f.role.as_str())
    }

    /// Every role that has a framework, in name order.
    pub fn roles(&self) -> impl Iterator<Item = &String> {
        self.roles.keys()
    }

    /// What framework `id` holds on each agent.
    pub fn allocation(&self, id: &str) -> Option<BTreeMap<AgentId, Resources>> {
        let fw = self.framework(id)?.idx;
        let on = |a: &AgentEntry| Some((a.id.to_string(), a.held_by(fw)?.clone()));
        Some(self.agents.iter().flatten().filter_map(on).collect())
    }

    /// Framework `id`'s refusal filters per agent (gathered from the agents,
    /// where they are kept; for checks and reports).
    pub fn filters(&self, id: &str) -> Option<BTreeMap<AgentId, Vec<RefusalFilter>>> {
        let fw = self.framework(id)?;
        let mut out = BTreeMap::new();
        for a in fw.refused_agents.iter() {
            let Some(agent) = self.agent_at(a) else { continue };
            if let Some(fs) = agent.refusals.of(fw.idx) {
                out.insert(agent.id.to_string(), fs.to_vec());
            }
        }
        Some(out)
    }

    /// Framework `id`'s allocation count (grants so far).
    pub fn allocation_count(&self, id: &str) -> u64 {
        self.framework(id).map_or(0, |f| f.count)
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
        self.framework(id).map_or(0.0, |fw| self.dominant_share(&fw.scalars))
    }

    /// Every framework the allocator knows, by id, with its [`Allocator::share`]
    /// (what it holds counts offered and launched alike, as in Mesos).
    pub fn shares(&self) -> impl Iterator<Item = (&str, f64)> {
        // In id order, as the old id-keyed book gave them.
        self.framework_index
            .iter()
            .filter_map(|(id, &idx)| self.framework_at(idx).map(|fw| (id.as_str(), self.dominant_share(&fw.scalars))))
    }

    /// `role`'s dominant share divided by its weight: its key in a DRF role sorter.
    pub fn role_share(&self, role: &str) -> f64 {
        self.roles.get(role).map_or(0.0, |r| self.dominant_share(&r.scalars) / self.weight(role))
    }

    pub(super) fn dominant_share(&self, held: &Resources) -> f64 {
        super::sorter::dominant_share(held, &self.cluster_total)
    }

    /// Role `name` as its sorter sees it. The role must exist.
    pub(super) fn role_client<'a>(&'a self, name: &'a str) -> SortClient<'a> {
        let slot = &self.roles[name];
        SortClient {
            name,
            weight: self.weight(name),
            allocation: &slot.scalars,
            cluster_total: &self.cluster_total,
            allocation_count: slot.count,
        }
    }

    /// Framework `fw` as its role's sorter sees it (Mesos never weighs a
    /// framework). The framework must exist.
    pub(super) fn framework_client<'a>(&'a self, fw: &'a FrameworkSlot) -> SortClient<'a> {
        SortClient {
            name: &fw.id,
            weight: DEFAULT_WEIGHT,
            allocation: &fw.scalars,
            cluster_total: &self.cluster_total,
            allocation_count: fw.count,
        }
    }

    /// Count `resources` of agent number `agent` as allocated to framework
    /// number `framework` and its role (`trackAllocatedResources`: the role
    /// sorter and the role's framework sorter each add the allocation and
    /// bump their count).
    pub(super) fn track(&mut self, framework: u32, agent: u32, resources: &Resources) {
        self.charge(framework, agent, resources);
        if let Some(a) = self.agent_at_mut(agent) {
            a.free = a.slot.available();
        }
    }

    /// [`Allocator::track`] but for the agent's free bag, which the caller
    /// has already brought up to date: a cycle's grant takes the whole bag
    /// and leaves it empty.
    pub(super) fn charge(&mut self, framework: u32, agent: u32, resources: &Resources) {
        let fw = self.frameworks.get_mut(framework as usize).and_then(Option::as_mut);
        if let Some(a) = self.agents.get_mut(agent as usize).and_then(Option::as_mut) {
            a.slot.allocated.add(resources);
            if fw.is_some() {
                match a.held.iter_mut().find(|(f, _)| *f == framework) {
                    Some((_, held)) => held.add(resources),
                    None => a.held.push((framework, resources.clone())),
                }
            }
        }
        let Some(fw) = fw else { return };
        add_scalars(&mut fw.scalars, resources);
        fw.count += 1;
        if let Some(role) = self.roles.get_mut(&fw.role) {
            add_scalars(&mut role.scalars, resources);
            role.count += 1;
        }
    }
}
