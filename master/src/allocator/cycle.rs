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

use super::filters::Seen;
use super::sorter::{self, SortClient};
use super::standings::{Stand, Standings};
use super::{AgentId, Allocator, Cycle, DEFAULT_WEIGHT, Eligible, Grant, IdleReason, SharedId};
use mesocosm_proto::Resources;
use mesocosm_sim::SimTime;
use rand::seq::SliceRandom;
use std::collections::{BTreeMap, BTreeSet};

/// The taker a walk found for one agent.
struct Choice {
    /// The framework's number.
    framework: u32,
    /// Its role's place in the cycle's [`Eligible`] list.
    role: u32,
    role_why: String,
    why: String,
    filtered: Vec<SharedId>,
    /// Where the framework and its role stood in the [`Standings`], if the
    /// cycle keeps them.
    stand: Option<Stand>,
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
        let mut cycle = Cycle::default();
        self.allocate_into(now, candidates, &mut cycle);
        cycle
    }

    /// [`Allocator::allocate`] over every agent: the periodic cycle
    /// (`HierarchicalAllocatorProcess::allocate()` with no argument covers
    /// every agent). Why not `allocate(now, &agent_ids())`: at 10,000 agents,
    /// looking every id up again was 4% of a `DeclineOffers` cycle (and the
    /// master cloned every id into the set first), while the agents' numbers
    /// are already at hand, in id order.
    pub fn allocate_all(&mut self, now: SimTime) -> Cycle {
        let mut cycle = Cycle::default();
        self.allocate_all_into(now, &mut cycle);
        cycle
    }

    /// [`Allocator::allocate`], written into `cycle`, whose lists are
    /// emptied first and keep their capacity. Why: at 10,000 agents a
    /// cycle's grant list is a 4 MB block, which the memory allocator hands
    /// back to the kernel between some cycles and maps afresh (a thousand
    /// page faults, the slow rounds of `DeclineOffers`); a caller that hands
    /// the same `Cycle` back every time, as the master does once it has
    /// turned the grants into offers, writes into memory already mapped.
    pub fn allocate_into(&mut self, now: SimTime, candidates: &BTreeSet<AgentId>, cycle: &mut Cycle) {
        // The string ids are looked up once, here; the cycle works on numbers.
        let mut visit = std::mem::take(&mut self.visit);
        visit.clear();
        visit.extend(candidates.iter().filter_map(|id| self.agent_idx(id)));
        self.allocate_agents(now, visit, cycle);
    }

    /// [`Allocator::allocate_all`], written into `cycle` as
    /// [`Allocator::allocate_into`] writes.
    pub fn allocate_all_into(&mut self, now: SimTime, cycle: &mut Cycle) {
        let mut visit = std::mem::take(&mut self.visit);
        visit.clear();
        visit.extend(self.agent_index.values().copied());
        self.allocate_agents(now, visit, cycle);
    }

    /// The cycle over the agents numbered `order`, given in id order (the
    /// order the shuffle starts from), into `cycle`. `order` becomes the
    /// visiting order, and is kept for the next cycle (`Allocator::visit`).
    fn allocate_agents(&mut self, now: SimTime, mut order: Vec<u32>, cycle: &mut Cycle) {
        // Lapsed filters are dropped here (Mesos expires each with a timer).
        self.expire_refusals(now);
        // Why clear and not a new `Cycle`: the lists keep their capacity
        // (see `allocate_into`); the grants a caller left here are dropped.
        cycle.order.clear();
        cycle.grants.clear();
        cycle.idle.clear();
        let Cycle { order: visited, grants, idle } = cycle;
        order.retain(|&idx| {
            let Some(entry) = self.agent_at(idx) else { return false };
            if entry.slot.deactivated && !entry.free.is_empty() {
                idle.insert(entry.id.to_string(), IdleReason::AgentDeactivated);
            }
            !entry.slot.deactivated
        });
        // Why shuffle: `__generateOffers` visits the candidates in
        // `std::random_shuffle` order so no agent is always offered first; a
        // seeded ChaCha8 shuffle of the id-sorted candidates mirrors it and a
        // run still replays. Deactivated agents are not candidates there either.
        order.shuffle(&mut self.rng);

        // Who the sorters see: only what can be offered to. `deactivateFramework`
        // and `suppressOffers` take a framework out of its role's sorter, and a
        // role none of whose frameworks is left has nobody to offer to.
        let mut by_role: BTreeMap<&str, Vec<u32>> = BTreeMap::new();
        for fw in self.frameworks_by_id().filter(|f| f.eligible()) {
            by_role.entry(&fw.role).or_default().push(fw.idx);
        }
        let eligible: Eligible = by_role.into_iter().map(|(role, fws)| (SharedId::from(role), fws)).collect();
        for (role, _) in &eligible {
            if !self.framework_sorters.contains_key(role.as_str()) {
                self.framework_sorters.insert(role.to_string(), self.cfg.framework_sorter.make());
            }
        }
        let contenders: usize = eligible.iter().map(|(_, fws)| fws.len()).sum();
        let nobody = if contenders > 0 {
            None
        } else if self.frameworks.iter().flatten().any(|f| f.active) {
            Some(IdleReason::Suppressed)
        } else {
            Some(IdleReason::NoActiveFramework)
        };

        let mut standings = self.standings(&eligible);
        // Why reserved: at most one grant per agent, and a grant is a few
        // hundred bytes, so growing by doubling copied megabytes per cycle
        // at 10,000 agents. A list handed back already has the room.
        grants.reserve(order.len());
        let mut seen = Seen::default();
        for &agent in &order {
            let entry = self.agent_at(agent).expect("a candidate is a known agent");
            debug_assert_eq!(entry.free, entry.slot.available(), "the free bag is kept up to date");
            let available = &entry.free;
            if available.is_empty() {
                continue;
            }
            if let Some(reason) = &nobody {
                idle.insert(entry.id.to_string(), reason.clone());
                continue;
            }
            // Why per agent, before any framework: Mesos checks `allocatable`
            // for each framework in the loop, but without per-framework
            // `offer_filters` or quota the answer is the same for all of them.
            if !self.allocatable(available) {
                idle.insert(entry.id.to_string(), IdleReason::BelowMinAllocatable);
                continue;
            }
            let choice = match &standings {
                Some(s) => self.choose_standing(now, agent, available, s, &eligible, &mut seen),
                // The sorters are asked (mutably) beside the books: a copy.
                None => {
                    let available = available.clone();
                    self.choose(now, agent, &available, &eligible)
                }
            };
            match choice {
                Err(filtered) => {
                    let why =
                        if filtered.is_empty() { IdleReason::GpuAgentFiltered } else { IdleReason::Filtered(filtered) };
                    idle.insert(self.agent_at(agent).expect("a candidate").id.to_string(), why);
                }
                Ok(choice) => {
                    let role = &eligible[choice.role as usize].0;
                    let fw = self.framework_at(choice.framework).expect("the chosen framework exists");
                    let share = self.dominant_share(&fw.scalars);
                    let framework_id = fw.id.clone();
                    let role_share = self.role_share(role.as_str());
                    // The grant takes the whole free bag, leaving it empty,
                    // and counts at once, so the next agent's sorts see it.
                    let available =
                        std::mem::take(&mut self.agent_at_mut(agent).expect("a candidate is a known agent").free);
                    self.charge(choice.framework, agent, &available);
                    if let (Some(s), Some(stand)) = (&mut standings, choice.stand) {
                        self.restand(s, &eligible, choice.role, stand);
                    }
                    grants.push(Grant {
                        framework_id,
                        role: role.clone(),
                        agent_id: self.agent_at(agent).expect("a candidate").id.clone(),
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
        visited.extend(order.iter().map(|&a| self.agent_at(a).expect("a candidate").id.clone()));
        self.visit = order;
    }

    /// Who gets `available` of agent number `agent`, walking the kept
    /// [`Standings`]: roles by key, each role's frameworks by key, the first
    /// that can receive the agent and that no refusal filter stops. The same
    /// answer as [`Allocator::choose`] with the same (keyed) sorters.
    fn choose_standing(
        &self,
        now: SimTime,
        agent: u32,
        available: &Resources,
        s: &Standings,
        eligible: &Eligible,
        seen: &mut Seen,
    ) -> Result<Choice, Vec<SharedId>> {
        let entry = self.agent_at(agent).expect("a candidate is a known agent");
        // Why before the refusal filters: Mesos skips an incapable framework
        // (`isCapableOfReceivingAgent`) before `isFiltered`.
        let gpus_need_capability = self.cfg.filter_gpu_resources && entry.slot.has_gpus();
        let mut filtered = Vec::new();
        seen.clear();
        for &(role_key, role) in &s.roles {
            let frameworks = &s.frameworks[role as usize];
            for &(fw_key, place) in frameworks {
                let rung = s.rungs[role as usize][place as usize];
                if gpus_need_capability && !rung.gpu_resources {
                    continue;
                }
                let fw = self.framework_at(rung.idx).expect("eligible frameworks exist");
                // Why the framework's bits before the agent's filters: nearly
                // always the framework has none here, and its bits are in the
                // cache while the agent's filters are not (see `AgentBits`).
                if fw.refused_agents.contains(agent) && entry.refusals.stops(now, rung.idx, available, seen) {
                    filtered.push(fw.id.clone());
                    continue;
                }
                let (role_why, why) = if self.explain {
                    let name = &eligible[role as usize].0;
                    let role_order = self.role_sorter.key_order().expect("standings only exist for keyed sorters");
                    let fw_order = self.framework_sorters[name.as_str()]
                        .key_order()
                        .expect("standings only exist for keyed sorters");
                    (
                        role_order.explain_among(&self.role_client(name), s.roles.len()),
                        fw_order.explain_among(&self.framework_client(fw), frameworks.len()),
                    )
                } else {
                    (String::new(), String::new())
                };
                return Ok(Choice {
                    framework: rung.idx,
                    role,
                    role_why,
                    why,
                    filtered,
                    stand: Some(Stand { role_key, fw_key, fw_place: place }),
                });
            }
        }
        Err(filtered)
    }

    /// Who gets `available` of agent number `agent`: the first framework, in
    /// role-sorter then framework-sorter order, that can receive the agent
    /// and that no refusal filter stops. Both sorts run afresh for each
    /// agent, as `__generateOffers` calls `sort()` inside its loop over
    /// agents. Without a taker, the frameworks a filter passed over (empty:
    /// only GPU-incapable frameworks were left).
    fn choose(
        &mut self,
        now: SimTime,
        agent: u32,
        available: &Resources,
        eligible: &Eligible,
    ) -> Result<Choice, Vec<SharedId>> {
        // Built field by field (not through `role_client`), so the sorters can
        // be borrowed mutably beside the books.
        let total = &self.cluster_total;
        let role_clients: Vec<SortClient<'_>> = eligible
            .iter()
            .map(|(name, _)| {
                let slot = &self.roles[name.as_str()];
                SortClient {
                    name,
                    weight: self.cfg.weights.get(name.as_str()).copied().unwrap_or(DEFAULT_WEIGHT),
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
            let (role, fws) = &eligible[r];
            let fw_clients: Vec<SortClient<'_>> = fws
                .iter()
                .map(|&idx| {
                    let fw = self.frameworks[idx as usize].as_ref().expect("eligible frameworks exist");
                    SortClient {
                        name: &fw.id,
                        weight: DEFAULT_WEIGHT,
                        allocation: &fw.scalars,
                        cluster_total: total,
                        allocation_count: fw.count,
                    }
                })
                .collect();
            let sorter =
                self.framework_sorters.get_mut(role.as_str()).expect("a framework sorter for every eligible role");
            let fw_order = sorter.sort(&fw_clients, &mut self.sort_rng);
            let sorter = &self.framework_sorters[role.as_str()];
            for f in sorter::checked_order(sorter.as_ref(), fw_order, fw_clients.len()) {
                let fw = fws[f];
                // Why before the refusal filters: Mesos skips an incapable
                // framework (`isCapableOfReceivingAgent`) before `isFiltered`.
                if !self.capable_of_receiving(fw, agent) {
                    continue;
                }
                let id = &self.framework_at(fw).expect("eligible frameworks exist").id;
                if self.is_filtered_at(now, fw, agent, available) {
                    filtered.push(id.clone());
                    continue;
                }
                let (role_why, why) = if self.explain {
                    (
                        self.role_sorter.explain(&role_clients[r], &role_clients),
                        sorter.explain(&fw_clients[f], &fw_clients),
                    )
                } else {
                    (String::new(), String::new())
                };
                let role = u32::try_from(r).expect("fewer than 2^32 roles");
                return Ok(Choice { framework: fw, role, role_why, why, filtered, stand: None });
            }
        }
        Err(filtered)
    }
}
