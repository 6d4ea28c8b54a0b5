//! Refusal filters and what is worth offering.
//!
//! A framework that declines (or accepts only part of) an offer gives the
//! resources back with `Filters.refuse_seconds`; Mesos installs a
//! `RefusedOfferFilter` (`hierarchical.cpp` `recoverResources`) so the same
//! resources are not offered to it again too soon. The checks here run before
//! any sorter is asked, whichever sorter it is.

use super::book::scalars_of;
use super::{Allocator, DEFAULT_REFUSE_SECONDS, MAX_REFUSE_SECONDS};
use mesocosm_proto::Resources;
use mesocosm_sim::SimTime;
use std::time::Duration;

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
}
