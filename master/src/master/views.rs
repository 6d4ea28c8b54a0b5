//! What the master shows reports, benches and expectations: counters and
//! read-only views of agents, offers and frameworks (Mesos's `/state` and
//! `/metrics/snapshot` in spirit).

use super::Master;
use mesocosm_proto::Resources;
use mesocosm_sim::ActorId;

/// Counters for reports and benches (Mesos's `/metrics/snapshot` in spirit).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MasterStats {
    /// Offers made (one per agent per grant).
    pub offers_made: u64,
    /// Offers consumed by a valid ACCEPT.
    pub offers_accepted: u64,
    /// Offers returned by DECLINE.
    pub offers_declined: u64,
    /// Offers the master withdrew (offer timeout, agent lost, framework disconnected).
    pub offers_rescinded: u64,
    /// Tasks sent to agents in RunTask.
    pub tasks_launched: u64,
    /// Allocation cycles run.
    pub allocation_cycles: u64,
}

/// One agent as the invariant checks see it.
#[derive(Clone, Debug, PartialEq)]
pub struct AgentView {
    /// `<master-id>-S<n>`.
    pub id: String,
    /// `AgentInfo.hostname`.
    pub hostname: String,
    /// The agent's actor.
    pub actor: ActorId,
    /// What it registered with.
    pub total: Resources,
    /// Offered or in use (the allocator's view).
    pub allocated: Resources,
    /// In outstanding offers.
    pub offered: Resources,
    /// False while its connection is broken (disconnected, not yet unreachable).
    pub connected: bool,
}

/// One outstanding offer.
#[derive(Clone, Debug, PartialEq)]
pub struct OfferView {
    /// `<master-id>-O<n>`.
    pub id: String,
    /// Whose offer it is.
    pub framework_id: String,
    /// Whose resources.
    pub agent_id: String,
    /// The offered resources.
    pub resources: Resources,
}

/// One framework, for reports.
#[derive(Clone, Debug, PartialEq)]
pub struct FrameworkView {
    /// `<master-id>-0000`.
    pub id: String,
    /// `FrameworkInfo.name`.
    pub name: String,
    /// The scheduler's actor; `None` for a framework recovered from a
    /// re-registering agent that has not subscribed to this master yet.
    pub actor: Option<ActorId>,
    /// Receiving offers (subscribed and connected).
    pub active: bool,
    /// Its dominant share: the largest fraction it holds of any scalar
    /// resource (the DRF sorter's key; reported whatever the sorter).
    pub share: f64,
    /// Tasks the master tracks for it.
    pub tasks: usize,
}

impl Master {
    /// Every registered agent: total, allocated (including offered) and offered.
    pub fn agents_view(&self) -> Vec<AgentView> {
        self.agents
            .iter()
            .map(|(id, a)| AgentView {
                id: id.clone(),
                hostname: a.info.hostname.clone(),
                actor: a.actor.clone(),
                total: a.total.clone(),
                allocated: self.alloc.agent(id).map(|s| s.allocated.clone()).unwrap_or_default(),
                offered: a.offered.clone(),
                connected: a.connected,
            })
            .collect()
    }

    /// Every outstanding offer, in offer-id order.
    pub fn offers_view(&self) -> Vec<OfferView> {
        self.offers
            .iter()
            .map(|(id, o)| OfferView {
                id: self.offer_id(*id),
                framework_id: o.framework.clone(),
                agent_id: o.agent.clone(),
                resources: o.resources.clone(),
            })
            .collect()
    }

    /// Every framework the master holds (not the completed ones).
    pub fn frameworks_view(&self) -> Vec<FrameworkView> {
        self.frameworks
            .iter()
            .map(|(id, f)| FrameworkView {
                id: id.clone(),
                name: f.info.name.clone(),
                actor: f.actor.clone(),
                active: f.active,
                share: self.alloc.share(id),
                tasks: f.tasks.len(),
            })
            .collect()
    }
}
