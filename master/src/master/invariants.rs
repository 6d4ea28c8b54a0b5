//! The master's promises, checked after every step, and (in tests) ways to
//! break each on purpose so the checker is shown to notice.

#[cfg(test)]
use super::OfferEntry;
use super::{Master, state_name};
use mesocosm_proto::Resources;
use mesocosm_proto::v1::TaskState;
use mesocosm_sim::msg::short_id;

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

impl Master {
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
}
