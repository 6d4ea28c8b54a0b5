//! One allocation cycle: shuffle the agents, ask the sorters, grant.
//!
//! `__generateOffers` in `hierarchical.cpp` (stage 2; mesocosm has no quota,
//! so no stage 1): for each agent in a shuffled order, the role sorter's
//! order, then the role's framework sorter's order, and the first framework
//! nothing filters gets the agent's whole free resources.
//!
//! Two walks give that answer. With keyed sorters (DRF) the order is kept
//! through the cycle in [`Standings`] and each agent walks it from the front
//! ([`Allocator::choose_standing`]); with any other sorter both sorts are
//! asked afresh for every agent ([`Allocator::choose`]), as Mesos does.

use super::sorter::{self, SortClient, SortKey};
use super::standings::Standings;
use super::{AgentId, Allocator, Cycle, DEFAULT_WEIGHT, FrameworkId, Grant, IdleReason, SharedId};
use mesocosm_proto::Resources;
use mesocosm_sim::SimTime;
use rand::seq::SliceRandom;
use std::collections::{BTreeMap, BTreeSet};

/// The taker a walk found for one agent.
struct Choice {
    framework: SharedId,
    role: String,
    role_why: String,
    why: String,
    filtered: Vec<SharedId>,
    /// Where the framework and its role stood in the [`Standings`], if the
    /// cycle keeps them.
    keys: Option<(SortKey, SortKey)>,
}

impl Allocator {
    /// One allocation cycle over `candidates` (`__generateOffers`, stage 2).
    ///
    /// The activated candidates are shuffled; for each, the roles are taken in
    /// the role sorter's order and their frameworks in their framework
    /// sorter's order; inactive and
    /// suppressed frameworks are not in the sort at all, filtered ones are
    /// passed over, and the first remaining one gets the agent's whole
    /// available resources. Unknown candidates are ignored.
    pub fn allocate(&mut self, now: SimTime, candidates: &BTreeSet<AgentId>) -> Cycle {
        // Lapsed filters are dropped here (Mesos expires each with a timer).
        self.expire_refusals(now);
        let mut idle = BTreeMap::new();
        let mut order = Vec::with_capacity(candidates.len());
        for id in candidates {
            let Some(entry) = self.agents.get(id) else { continue };
            if !entry.slot.deactivated {
                order.push(id.clone());
            } else if !entry.slot.available().is_empty() {
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

        let mut standings = self.standings(&eligible);
        let mut grants = Vec::new();
        for agent_id in &order {
            let available = self.agents[agent_id].slot.available();
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
            let choice = match &standings {
                Some(s) => self.choose_standing(now, agent_id, &available, s),
                None => self.choose(now, agent_id, &available, &eligible),
            };
            match choice {
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
                    if let (Some(s), Some((role_key, fw_key))) = (&mut standings, choice.keys) {
                        self.restand(s, &choice.role, role_key, &choice.framework, fw_key);
                    }
                    grants.push(Grant {
                        framework_id: choice.framework.to_string(),
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

    /// Who gets `available` of `agent`, walking the kept [`Standings`]: roles
    /// by key, each role's frameworks by key, the first that can receive the
    /// agent and that no refusal filter stops. The same answer as
    /// [`Allocator::choose`] with the same (keyed) sorters.
    fn choose_standing(
        &self,
        now: SimTime,
        agent: &str,
        available: &Resources,
        s: &Standings,
    ) -> Result<Choice, Vec<SharedId>> {
        let entry = &self.agents[agent];
        // Why before the refusal filters: Mesos skips an incapable framework
        // (`isCapableOfReceivingAgent`) before `isFiltered`.
        let gpus_need_capability = self.cfg.filter_gpu_resources && entry.slot.has_gpus();
        let mut filtered = Vec::new();
        let mut seen = Vec::new();
        for (role_key, role) in &s.roles {
            let frameworks = &s.frameworks[role];
            for ((fw_key, id), rung) in frameworks {
                if gpus_need_capability && !rung.gpu_resources {
                    continue;
                }
                if entry.refusals.stops(now, rung.idx, available, &mut seen) {
                    filtered.push(id.clone());
                    continue;
                }
                let role_order = self.role_sorter.key_order().expect("standings only exist for keyed sorters");
                let fw_order =
                    self.framework_sorters[role].key_order().expect("standings only exist for keyed sorters");
                return Ok(Choice {
                    framework: id.clone(),
                    role: role.clone(),
                    role_why: role_order.explain_among(&self.role_client(role), s.roles.len()),
                    why: fw_order.explain_among(&self.framework_client(id), frameworks.len()),
                    filtered,
                    keys: Some((*role_key, *fw_key)),
                });
            }
        }
        Err(filtered)
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
    ) -> Result<Choice, Vec<SharedId>> {
        // Built field by field (not through `role_client`), so the sorters can
        // be borrowed mutably beside the books.
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
                let id = &self.frameworks[fw].id;
                if self.is_filtered(now, fw, agent, available) {
                    filtered.push(id.clone());
                    continue;
                }
                return Ok(Choice {
                    framework: id.clone(),
                    role: role.to_string(),
                    role_why: self.role_sorter.explain(&role_clients[r], &role_clients),
                    why: sorter.explain(&fw_clients[f], &fw_clients),
                    filtered,
                    keys: None,
                });
            }
        }
        Err(filtered)
    }
}
