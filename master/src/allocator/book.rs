//! The books: agents, frameworks and roles, and what each holds.
//!
//! Mesos's allocator keeps these itself (`Slave`, `Framework` and the
//! sorters' allocation tracking in `hierarchical.cpp`); no sorter can change
//! them. Every grant goes through `Allocator::track`, every release through
//! `recover` or a removal, so the shares a sorter sees are always the books'.

use super::{AgentId, Allocator, DEFAULT_WEIGHT, FrameworkId, RefusalFilter};
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
}

#[derive(Clone, Debug, Default)]
pub(super) struct FrameworkSlot {
    /// The role it is allocated under.
    pub(super) role: String,
    /// Deactivated frameworks (disconnected, failing over) get nothing.
    pub(super) active: bool,
    /// SUPPRESS: the framework asked for no offers until REVIVE.
    pub(super) suppressed: bool,
    /// What this framework holds on each agent (offered or used).
    pub(super) allocations: BTreeMap<AgentId, Resources>,
    /// The scalar part of the sum of `allocations` (ranges such as ports are
    /// per agent and would wrongly merge across agents, and DRF ignores them).
    pub(super) scalars: Resources,
    /// How many grants the framework has had; DRF's second tie-break. Like
    /// `DRFSorter`'s `allocation.count`, it only ever grows.
    pub(super) count: u64,
    /// Refusal filters per agent.
    pub(super) filters: BTreeMap<AgentId, Vec<RefusalFilter>>,
    /// FrameworkInfo has the GPU_RESOURCES capability.
    pub(super) gpu_resources: bool,
}

impl FrameworkSlot {
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
    for (name, v) in r.scalars() {
        s.add_scalar(name, v);
    }
    s
}

impl Allocator {
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
    pub(super) fn capable_of_receiving(&self, framework: &str, agent: &str) -> bool {
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

    /// `role`'s dominant share divided by its weight: its key in a DRF role sorter.
    pub fn role_share(&self, role: &str) -> f64 {
        self.roles.get(role).map_or(0.0, |r| self.dominant_share(&r.scalars) / self.weight(role))
    }

    pub(super) fn dominant_share(&self, held: &Resources) -> f64 {
        super::sorter::dominant_share(held, &self.cluster_total)
    }

    /// Count `resources` of `agent` as allocated to `framework` and its role
    /// (`trackAllocatedResources`: the role sorter and the role's framework
    /// sorter each add the allocation and bump their count).
    pub(super) fn track(&mut self, framework: &str, agent: &str, resources: &Resources) {
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
