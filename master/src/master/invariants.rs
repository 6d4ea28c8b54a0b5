//! The master's promises, checked after every step, and (in tests) ways to
//! break each on purpose so the checker is shown to notice.
//!
//! # Two scopes
//!
//! Each promise is stated once, about one entry of the books (an agent, an
//! outstanding offer, a framework, a subscription), and checked in one of two
//! scopes:
//!
//! ```text
//!   everything   every entry: linear in agents + offers + tasks
//!   touched      the entries this step changed (the books record them, see
//!                `tracked`), plus the offers of an agent whose `connected`
//!                or a framework whose `active` the step flipped, since an
//!                offer's promises read those; everything if the step removed
//!                an agent or a framework (what points at it cannot be found
//!                from it)
//! ```
//!
//! The world checks after every step. At 10,000 agents the master handles a
//! step for every pong and status update, and a full check per step made the
//! run quadratic: ~95% of a 2,000-agent run was spent re-reading unchanged
//! books. So the per-step check reads what the step touched, and reads
//! everything every [`Master::rescan_period`] steps (at least
//! [`FULL_RESCAN_EVERY`], more as the books grow) and on every step of a debug
//! build, where it also reports a violation the touched scope missed as a
//! bug in the bookkeeping: a checker that trusts its own records must not be
//! the reason a broken promise goes unseen.

use super::books::{Agent, Framework, OfferEntry, OfferNo};
use super::{Master, state_name};
use mesocosm_proto::Resources;
use mesocosm_proto::v1::TaskState;
use mesocosm_sim::ActorId;
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
                let aid = self.agents.keys().next().expect("an agent").clone();
                self.agents.get_mut(&aid).expect("just found").connected = false;
                self.alloc.deactivate_agent(&aid);
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
                let first = self.frameworks.keys().next().expect("a framework").clone();
                let fw = self.frameworks.get_mut(&first).expect("just found");
                let task = fw.tasks.values_mut().next().expect("a task");
                if let Some((_, offered_to)) = task.launched_from.as_mut() {
                    *offered_to = other;
                }
            }
            Corruption::DuplicateOffer => {
                let first = self.offers.values().next().expect("an offer");
                let dup = OfferEntry {
                    framework: first.framework.clone(),
                    agent: first.agent.clone(),
                    resources: first.resources.clone(),
                };
                let oid = OfferNo(9);
                let a = self.agents.get_mut(&dup.agent).expect("its agent");
                a.offers.insert(oid);
                a.offered.add(&dup.resources);
                self.frameworks.get_mut(&dup.framework).expect("its framework").offers.insert(oid);
                self.offers.insert(oid, Box::new(dup));
            }
        }
    }
}

#[cfg(test)]
#[path = "invariant_tests.rs"]
mod invariant_tests;

/// One thing holding an agent's resources, as an over-commitment names it.
enum Piece<'a> {
    /// An offer of the master whose id is given.
    Offer(&'a str, OfferNo),
    Task(&'a str),
    Executor(&'a str),
}

impl std::fmt::Display for Piece<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Piece::Offer(master, n) => write!(f, "offer {}", short_id(&n.id(master))),
            Piece::Task(tid) => write!(f, "task {tid}"),
            Piece::Executor(eid) => write!(f, "executor {eid}"),
        }
    }
}

/// Every this-many steps at least the per-step check reads all the books,
/// whatever the step touched, so a change the records missed is found within
/// that many steps; larger books are read every [`Master::rescan_period`]
/// steps, which grows with them.
pub const FULL_RESCAN_EVERY: u64 = 1024;

/// [`Master::rescan_period`] for books of `entries` agents, offers and frameworks.
fn rescan_period_for(entries: usize) -> u64 {
    FULL_RESCAN_EVERY.max((entries as u64).next_power_of_two())
}

impl Master {
    /// Start a step: count it, and forget what the last one touched.
    pub(super) fn begin_step(&mut self) {
        self.steps += 1;
        self.agents.forget_touched();
        self.agent_by_actor.forget_touched();
        self.unreachable.forget_touched();
        self.removed.forget_touched();
        self.frameworks.forget_touched();
        self.framework_by_actor.forget_touched();
        self.offers.forget_touched();
    }

    /// Check the master's invariants over all the books. `Err` names the
    /// first that does not hold.
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
    /// probe); the world's per-step check ([`Master::check_step`]) runs it
    /// only every [`Master::rescan_period`] steps in a release build.
    pub fn check_invariants(&self) -> Result<(), String> {
        for (aid, agent) in &self.agents {
            self.check_agent(aid, agent)?;
        }
        for (oid, o) in &self.offers {
            self.check_offer(*oid, o)?;
        }
        for (fid, fw) in &self.frameworks {
            self.check_framework(fid, fw, None)?;
        }
        for (actor, fid) in &self.framework_by_actor {
            self.check_subscription(actor, fid)?;
        }
        Ok(())
    }

    /// The same promises as [`Master::check_invariants`], about only the
    /// entries the current step touched (and the offers their agents and
    /// frameworks list). Sound as long as the books recorded every change,
    /// which `tracked` makes the types enforce for the master's own maps.
    pub fn check_touched(&self) -> Result<(), String> {
        // A step that walked every agent or framework (a framework's removal
        // sweeps its executors off every agent) touched everything; one that
        // removed an agent or a framework checks everything too, because what
        // still points at the removed entry (offers, tasks, subscriptions)
        // cannot be found from it. Both are rare: a handful per run.
        let (Some(agents), Some(frameworks)) = (self.touched_agents(), self.touched_frameworks()) else {
            return self.check_invariants();
        };
        if self.offers.touched().all()
            || agents.iter().any(|a| !self.agents.contains_key(a.as_str()))
            || frameworks.iter().any(|f| !self.frameworks.contains_key(f.as_str()))
        {
            return self.check_invariants();
        }
        // The same order as the full check, so both name the same first problem.
        // An offer's promises read its agent's `connected` and its framework's
        // `active`: the offers an agent or framework lists are read again only
        // when the step changed that flag. Why not always: a framework may
        // hold an offer of every agent, and Spark declines them one call at
        // a time, each call touching the framework.
        let mut offers: Vec<OfferNo> = self.offers.touched().keys().copied().collect();
        for &aid in &agents {
            let agent = &self.agents[aid.as_str()];
            self.check_agent(aid, agent)?;
            if self.agents.watched_changed(aid) {
                offers.extend(&agent.offers);
            }
        }
        for &fid in &frameworks {
            if self.frameworks.watched_changed(fid) {
                offers.extend(&self.frameworks[fid.as_str()].offers);
            }
        }
        offers.sort();
        offers.dedup();
        let mut gone: Vec<OfferNo> = Vec::new();
        for oid in offers {
            match self.offers.get(&oid) {
                Some(o) => self.check_offer(oid, o)?,
                None => gone.push(oid),
            }
        }
        let mut subscriptions: Vec<&ActorId> = self.framework_by_actor.touched_actors().keys().collect();
        for fid in frameworks {
            let fw = &self.frameworks[fid.as_str()];
            self.check_framework(fid, fw, Some(&gone))?;
            subscriptions.extend(&fw.actor);
        }
        subscriptions.sort();
        subscriptions.dedup();
        for actor in subscriptions {
            if let Some(fid) = self.framework_by_actor.get(actor) {
                self.check_subscription(actor, fid)?;
            }
        }
        Ok(())
    }

    /// The per-step check the world runs after step number `step`: the
    /// touched scope, and everything on every [`Master::rescan_period`]th step.
    /// With `debug` (a debug build) everything on every step, and a
    /// violation the touched scope missed is reported as the bookkeeping bug
    /// it is.
    pub fn check_step(&self, step: u64, debug: bool) -> Result<(), String> {
        if debug {
            self.check_touched()?;
            return self.check_invariants().map_err(|e| {
                format!("{e} (missed by the check of what the step touched: the books did not record a change)")
            });
        }
        if step.is_multiple_of(self.rescan_period()) { self.check_invariants() } else { self.check_touched() }
    }

    /// How many steps apart a release build reads all the books: at least
    /// [`FULL_RESCAN_EVERY`], and at least the number of agents, offers and
    /// frameworks (rounded up to a power of two), so that the rescan costs
    /// about one entry's check per step however large the cluster. Why: a full
    /// check is linear in the books, and with a fixed 1,024 it was 15% of a
    /// 10,000-agent, 100-framework run (perf, session 25), where a step's own
    /// touched check was 6%. A power of two, so that a period that doubles as
    /// the books grow still divides the steps its smaller one did: a rescan is
    /// never skipped by a change of period, only spaced further.
    pub fn rescan_period(&self) -> u64 {
        rescan_period_for(self.agents.len() + self.offers.len() + self.frameworks.len())
    }

    /// The agents the current step touched, by any of the books keyed by
    /// agent; `None` if it walked every agent.
    fn touched_agents(&self) -> Option<Vec<&String>> {
        let sets = [
            self.agents.touched(),
            self.unreachable.touched(),
            self.removed.touched(),
            self.agent_by_actor.touched_ids(),
        ];
        if sets.iter().any(|t| t.all()) {
            return None;
        }
        let mut ids: Vec<&String> = sets.iter().flat_map(|t| t.keys()).collect();
        ids.sort();
        ids.dedup();
        Some(ids)
    }

    /// The frameworks the current step touched; `None` if it walked them all.
    fn touched_frameworks(&self) -> Option<Vec<&String>> {
        let sets = [self.frameworks.touched(), self.framework_by_actor.touched_ids()];
        if sets.iter().any(|t| t.all()) {
            return None;
        }
        let mut ids: Vec<&String> = sets.iter().flat_map(|t| t.keys()).collect();
        ids.sort();
        ids.dedup();
        Some(ids)
    }

    /// Promises 1 and 2 about registered agent `aid`: its pieces fit, the
    /// allocator agrees, it is in no other state.
    fn check_agent(&self, aid: &String, agent: &Agent) -> Result<(), String> {
        let host = &agent.info.hostname;
        // What each piece is, named only if it does not fit: the check runs
        // for every agent a step touches, and a name is an allocation.
        let mut pieces: Vec<(Piece, &Resources)> = Vec::new();
        for oid in &agent.offers {
            let o = self
                .offers
                .get(oid)
                .ok_or_else(|| format!("{host}: offer {} is not in the offers book", self.offer_id(*oid)))?;
            if o.agent != *aid {
                return Err(format!("offer {} is listed on {host} but is for agent {}", self.offer_id(*oid), o.agent));
            }
            pieces.push((Piece::Offer(&self.cfg.id, *oid), &o.resources));
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
                pieces.push((Piece::Task(tid), &t.resources));
            }
        }
        for ((_, eid), r) in &agent.executors {
            pieces.push((Piece::Executor(eid), r));
        }
        // What the pieces so far leave free, taken down piece by piece: each
        // must fit in it. Why one running bag: a fresh `total - acc` per piece
        // cloned the total for every piece of every agent a step touched.
        let mut free = agent.total.clone();
        let mut acc = Resources::new();
        let mut offered = Resources::new();
        for (what, r) in &pieces {
            if !free.contains(r) {
                return Err(format!("{host} over-committed: {what} [{r}] does not fit in the free [{free}]"));
            }
            free.subtract(r);
            acc.add(r);
            if let Piece::Offer(..) = what {
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
        Ok(())
    }

    /// Promise 2 about outstanding offer `oid`: its framework is active and
    /// lists it, its agent is registered, connected and lists it.
    fn check_offer(&self, n: OfferNo, o: &OfferEntry) -> Result<(), String> {
        // The id, spelled out only for a message: most checks pass.
        let oid = || self.offer_id(n);
        let fw =
            self.frameworks.get(&o.framework).ok_or_else(|| format!("offer {} is for an unknown framework", oid()))?;
        if !fw.active {
            return Err(format!("offer {} is outstanding to inactive framework {}", oid(), o.framework));
        }
        if !fw.offers.contains(&n) {
            return Err(format!("offer {} is not in framework {}'s offers", oid(), o.framework));
        }
        let agent = self.agents.get(&o.agent).filter(|a| a.offers.contains(&n)).ok_or_else(|| {
            let state = if self.unreachable.contains(&o.agent) { "unreachable" } else { "removed or unknown" };
            format!("offer {} is on agent {} which is {state} or does not list it", oid(), o.agent)
        })?;
        if !agent.connected {
            return Err(format!("offer {} is outstanding on disconnected agent {}", oid(), agent.info.hostname));
        }
        Ok(())
    }

    /// Promises 3 and 4 about framework `fid`: its tasks came from its own
    /// offers and sit on agents that list them, the offers it lists are
    /// outstanding (all of them, or with `gone` only those among the offers
    /// a step removed from the book), and an active one is subscribed.
    fn check_framework(&self, fid: &String, fw: &Framework, gone: Option<&[OfferNo]>) -> Result<(), String> {
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
        let listed: Box<dyn Iterator<Item = &OfferNo>> = match gone {
            None => Box::new(fw.offers.iter()),
            Some(gone) => Box::new(gone.iter().filter(|oid| fw.offers.contains(*oid))),
        };
        for oid in listed {
            if !self.offers.contains_key(oid) {
                return Err(format!("framework {fid} lists offer {}, which is not outstanding", self.offer_id(*oid)));
            }
        }
        if fw.active && fw.actor.as_ref().and_then(|a| self.framework_by_actor.get(a)) != Some(fid) {
            return Err(format!("active framework {fid} has no subscription mapping to it"));
        }
        Ok(())
    }

    /// Promise 4 about the subscription of `actor` as framework `fid`.
    fn check_subscription(&self, actor: &ActorId, fid: &String) -> Result<(), String> {
        let fw = self.frameworks.get(fid).ok_or_else(|| format!("{actor} is subscribed as unknown {fid}"))?;
        if !fw.active || fw.actor.as_ref() != Some(actor) {
            return Err(format!("{actor} maps to framework {fid}, whose subscriber it is not (or it is inactive)"));
        }
        Ok(())
    }
}
