//! Refusal filters and what is worth offering.
//!
//! A framework that declines (or accepts only part of) an offer gives the
//! resources back with `Filters.refuse_seconds`; Mesos installs a
//! `RefusedOfferFilter` (`hierarchical.cpp` `recoverResources`) so the same
//! resources are not offered to it again too soon. The checks here run before
//! any sorter is asked, whichever sorter it is.
//!
//! # Where filters live, at Mesos scale
//!
//! In Mesos's `DeclineOffers` benchmark every framework refuses every offer
//! for as long as it may, so filters pile up: 10,000 agents × 100 rounds is a
//! million of them. Four choices keep that cheap:
//!
//! - a filter sits with its **agent**, under the framework's small number
//!   ([`AgentRefusals`]): a cycle visiting an agent asks about framework after
//!   framework on that one agent;
//! - each framework also keeps **one bit per agent** it has filters on
//!   ([`AgentBits`]), and the cycle tests that bit first: the frameworks a
//!   cycle asks about are the few at the front of the DRF order, their bits
//!   stay in the cache, and nearly every answer is "no filter here", given
//!   without reaching the agent's filters at all;
//! - the refused resources are an `Arc` **shared** by the filters that
//!   refused the same bag on the agent (a declined agent is offered and
//!   refused the same free resources over and over), and a cycle checks
//!   "are the free resources a subset of that bag?" once per bag per agent;
//! - an **expiry index** (`Allocator::expiries`) orders all filters by when
//!   they lapse, so a cycle drops the lapsed ones from its front and never
//!   touches a filter still in force.

use super::book::scalars_of;
use super::{Allocator, DEFAULT_REFUSE_SECONDS, MAX_REFUSE_SECONDS};
use mesocosm_proto::Resources;
use mesocosm_sim::SimTime;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// "Do not offer me these resources on this agent again until `expires`."
///
/// Mesos's `RefusedOfferFilter`: it filters a later offer on the same agent
/// whose resources are a **subset** of the refused ones, so an agent that has
/// gained resources since (a task finished) is offered again at once.
#[derive(Clone, Debug, PartialEq)]
pub struct RefusalFilter {
    /// The refused resources (shared with the agent's other filters that
    /// refused the same bag).
    pub resources: Arc<Resources>,
    /// The first instant at which the filter no longer applies.
    pub expires: SimTime,
}

impl RefusalFilter {
    /// True if this filter stops `available` from being offered at `now`.
    pub fn covers(&self, now: SimTime, available: &Resources) -> bool {
        now < self.expires && self.resources.contains(available)
    }
}

/// One framework's refusal filters on one agent. Why not a `Vec`: nearly
/// always there is one, and a `Vec` would put it in an allocation of its own,
/// a sixth of what a filter costs at a million filters.
#[derive(Debug)]
enum Refusals {
    One(RefusalFilter),
    Many(Vec<RefusalFilter>),
}

impl Refusals {
    fn as_slice(&self) -> &[RefusalFilter] {
        match self {
            Refusals::One(f) => std::slice::from_ref(f),
            Refusals::Many(fs) => fs,
        }
    }

    fn push(&mut self, f: RefusalFilter) {
        match self {
            Refusals::One(first) => *self = Refusals::Many(vec![first.clone(), f]),
            Refusals::Many(fs) => fs.push(f),
        }
    }

    /// Keep the filters still in force at `now`; false if none is left.
    fn keep_in_force(&mut self, now: SimTime) -> bool {
        match self {
            Refusals::One(f) => now < f.expires,
            Refusals::Many(fs) => {
                fs.retain(|f| now < f.expires);
                !fs.is_empty()
            }
        }
    }
}

/// Which shared refused bags contain the free resources of the agent being
/// visited (see [`AgentRefusals::stops`]). The bags are named by address and
/// never read through it. Why one list for the whole cycle, cleared per
/// agent: it is asked for every agent, and a fresh one would be an
/// allocation per agent per cycle.
#[derive(Debug, Default)]
pub(super) struct Seen(Vec<(*const Resources, bool)>);

impl Seen {
    /// Forget the last agent's answers.
    pub(super) fn clear(&mut self) {
        self.0.clear();
    }
}

/// The agents (by number) on which one framework has refusal filters: one
/// bit per agent, kept by the framework (`FrameworkSlot::refused_agents`).
///
/// Why bits, and why with the framework: a cycle asks "is framework f
/// filtered on agent a?" for every agent, of the few frameworks at the front
/// of the DRF order, and the answer is nearly always no (in `DeclineOffers`
/// round r an agent has refused r of the 1,000 frameworks). Those few
/// frameworks' bits stay in the cache (1,250 bytes per framework at 10,000
/// agents) while the agents come in shuffled order, so a "no" costs one bit
/// test instead of a search of the agent's own filter map in memory that
/// the last visit left long ago. A set bit sends the question on to the
/// agent's filters ([`AgentRefusals::stops`]), which decide.
#[derive(Clone, Debug, Default)]
pub(super) struct AgentBits(Vec<u64>);

impl AgentBits {
    fn at(agent: u32) -> (usize, u64) {
        ((agent / 64) as usize, 1 << (agent % 64))
    }

    /// True if agent number `agent` is in the set.
    pub(super) fn contains(&self, agent: u32) -> bool {
        let (word, bit) = AgentBits::at(agent);
        self.0.get(word).is_some_and(|w| w & bit != 0)
    }

    /// Put agent number `agent` in the set (the words grow to reach it).
    pub(super) fn insert(&mut self, agent: u32) {
        let (word, bit) = AgentBits::at(agent);
        if word >= self.0.len() {
            self.0.resize(word + 1, 0);
        }
        self.0[word] |= bit;
    }

    /// Take agent number `agent` out of the set.
    pub(super) fn remove(&mut self, agent: u32) {
        let (word, bit) = AgentBits::at(agent);
        if let Some(w) = self.0.get_mut(word) {
            *w &= !bit;
        }
    }

    /// The agents in the set, in ascending number.
    pub(super) fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        (0u32..).zip(&self.0).flat_map(|(word, &w)| {
            let mut rest = w;
            std::iter::from_fn(move || {
                if rest == 0 {
                    return None;
                }
                let bit = rest.trailing_zeros();
                rest &= rest - 1;
                Some(word * 64 + bit)
            })
        })
    }
}

/// The refusal filters on one agent, by framework number (`FrameworkSlot::idx`).
#[derive(Debug, Default)]
pub(super) struct AgentRefusals {
    by_framework: BTreeMap<u32, Refusals>,
    /// The bag the last filter here refused, shared with the next filter
    /// that refuses an equal one.
    last: Option<Arc<Resources>>,
}

impl AgentRefusals {
    /// Framework `fw`'s filters here.
    pub(super) fn of(&self, fw: u32) -> Option<&[RefusalFilter]> {
        self.by_framework.get(&fw).map(Refusals::as_slice)
    }

    /// True if one of framework `fw`'s filters here stops `available` at
    /// `now`. `seen` remembers, for this `available`, which shared bags
    /// contain it: clear it before the agent, then pass it for every
    /// framework asked about while visiting the agent.
    pub(super) fn stops(&self, now: SimTime, fw: u32, available: &Resources, seen: &mut Seen) -> bool {
        let Some(filters) = self.by_framework.get(&fw) else { return false };
        filters.as_slice().iter().any(|f| {
            if now >= f.expires {
                return false;
            }
            let bag: &Resources = &f.resources;
            if let Some(&(_, contains)) = seen.0.iter().find(|(b, _)| std::ptr::eq(*b, bag)) {
                return contains;
            }
            let contains = bag.contains(available);
            seen.0.push((bag, contains));
            contains
        })
    }

    /// Add a filter of framework `fw` refusing `resources` until `expires`.
    fn install(&mut self, fw: u32, resources: &Resources, expires: SimTime) {
        let bag = match &self.last {
            Some(last) if **last == *resources => Arc::clone(last),
            _ => {
                let bag = Arc::new(resources.clone());
                self.last = Some(Arc::clone(&bag));
                bag
            }
        };
        let f = RefusalFilter { resources: bag, expires };
        match self.by_framework.get_mut(&fw) {
            Some(filters) => filters.push(f),
            None => {
                self.by_framework.insert(fw, Refusals::One(f));
            }
        }
    }
}

impl Allocator {
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
        let agent_idx = self.agent_idx(agent);
        let fw_idx = self.framework_idx(framework);
        // The fields, not `agent_at_mut`: the frameworks and roles are borrowed beside them.
        let mut released = None;
        if let Some(a) = agent_idx.and_then(|idx| self.agents.get_mut(idx as usize)).and_then(Option::as_mut) {
            a.slot.allocated.subtract(resources);
            // Why add rather than recompute `available()`: what comes back was
            // allocated here, so the free bag grows by exactly it (Mesos's
            // `Slave::updateAvailable` keeps `available` the same way); a
            // recompute cloned the agent's total on every DECLINE. Debug builds
            // check the kept bag against a recompute every cycle.
            a.free.add(resources);
            if let Some(at) = fw_idx.and_then(|fw| a.held.iter().position(|(f, _)| *f == fw)) {
                let held = &mut a.held[at].1;
                held.subtract(resources);
                if held.is_empty() {
                    a.held.remove(at);
                }
                released = Some(scalars_of(resources));
            }
        }
        let fw_idx = fw_idx?;
        let fw = self.frameworks.get_mut(fw_idx as usize).and_then(Option::as_mut)?;
        if let Some(released) = released {
            fw.scalars.subtract(&released);
            if let Some(role) = self.roles.get_mut(&fw.role) {
                role.scalars.subtract(&released);
            }
        }
        // Why no filter for an agent that is gone: hierarchical.cpp skips the
        // filter when the framework or agent no longer exists.
        let agent_idx = agent_idx?;
        let timeout = refuse_seconds.and_then(|s| self.refusal_timeout(s))?;
        let expires = now.after(timeout);
        self.agent_at_mut(agent_idx)?.refusals.install(fw_idx, resources, expires);
        self.framework_at_mut(fw_idx)?.refused_agents.insert(agent_idx);
        self.expiries.insert((expires, fw_idx, agent_idx));
        Some(expires)
    }

    /// True if one of `framework`'s filters stops `available` on `agent` at `now`
    /// (`isFiltered`).
    pub fn is_filtered(&self, now: SimTime, framework: &str, agent: &str, available: &Resources) -> bool {
        let (Some(fw), Some(entry)) = (self.framework_idx(framework), self.agent_idx(agent)) else { return false };
        self.is_filtered_at(now, fw, entry, available)
    }

    /// [`Allocator::is_filtered`] by numbers.
    pub(super) fn is_filtered_at(&self, now: SimTime, fw: u32, agent: u32, available: &Resources) -> bool {
        // The framework's bits first, as the cycle's walk asks (see [`AgentBits`]).
        if !self.framework_at(fw).is_some_and(|f| f.refused_agents.contains(agent)) {
            return false;
        }
        let Some(entry) = self.agent_at(agent) else { return false };
        entry.refusals.of(fw).is_some_and(|fs| fs.iter().any(|f| f.covers(now, available)))
    }

    /// Drop every filter that has lapsed by `now`: the front of the expiry
    /// index, nothing else (Mesos expires each filter with its own timer).
    pub(super) fn expire_refusals(&mut self, now: SimTime) {
        while let Some(&(expires, fw, agent)) = self.expiries.first() {
            if expires > now {
                break;
            }
            self.expiries.pop_first();
            let Some(entry) = self.agent_at_mut(agent) else { continue };
            let Some(filters) = entry.refusals.by_framework.get_mut(&fw) else { continue };
            if !filters.keep_in_force(now) {
                entry.refusals.by_framework.remove(&fw);
                if let Some(slot) = self.framework_at_mut(fw) {
                    slot.refused_agents.remove(agent);
                }
            }
        }
    }

    /// Drop all of framework `id`'s filters (REVIVE, deactivation, removal).
    pub(super) fn clear_refusals(&mut self, id: &str) {
        let Some(idx) = self.framework_idx(id) else { return };
        let Some(fw) = self.framework_at_mut(idx) else { return };
        for agent in std::mem::take(&mut fw.refused_agents).iter() {
            let Some(entry) = self.agent_at_mut(agent) else { continue };
            let Some(filters) = entry.refusals.by_framework.remove(&idx) else { continue };
            for f in filters.as_slice() {
                self.expiries.remove(&(f.expires, idx, agent));
            }
        }
    }

    /// Unlink the filters of a removed agent (number `agent`) from the
    /// frameworks and the expiry index.
    pub(super) fn forget_refusals_on(&mut self, agent: u32, refusals: AgentRefusals) {
        for (fw, filters) in refusals.by_framework {
            for f in filters.as_slice() {
                self.expiries.remove(&(f.expires, fw, agent));
            }
            if let Some(slot) = self.framework_at_mut(fw) {
                slot.refused_agents.remove(agent);
            }
        }
    }

    /// True if `r` is worth offering (`allocatable` in hierarchical.cpp): it
    /// contains at least one `--min_allocatable_resources` alternative
    /// entirely, or there are no alternatives at all.
    pub fn allocatable(&self, r: &Resources) -> bool {
        let mins = &self.cfg.min_allocatable_resources;
        mins.is_empty() || mins.iter().any(|min| r.contains(min))
    }
}

#[cfg(test)]
mod tests {
    use super::AgentBits;
    use std::collections::BTreeSet;

    #[test]
    fn agent_bits_hold_the_same_agents_as_a_set() {
        let mut bits = AgentBits::default();
        let mut set = BTreeSet::new();
        // Inserts past the end grow the words; removes of absent agents and
        // of agents past the end change nothing.
        for (insert, agent) in [(true, 3), (true, 64), (true, 0), (true, 200), (false, 64), (false, 999), (true, 63)] {
            if insert {
                bits.insert(agent);
                set.insert(agent);
            } else {
                bits.remove(agent);
                set.remove(&agent);
            }
            assert_eq!(bits.iter().collect::<BTreeSet<u32>>(), set);
            assert_eq!(bits.iter().collect::<Vec<u32>>(), set.iter().copied().collect::<Vec<u32>>(), "ascending");
            for a in 0..260 {
                assert_eq!(bits.contains(a), set.contains(&a), "agent {a}");
            }
        }
    }
}
