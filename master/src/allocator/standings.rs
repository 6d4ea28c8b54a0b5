//! The keyed sorters' orders, kept up to date through one cycle.
//!
//! With sorters whose order is a [`KeyOrder`] (DRF is one), the allocator
//! does not ask for a fresh sort before every agent. At the start of a cycle
//! it computes every eligible role's and framework's [`SortKey`] once and
//! keeps them in ordered sets; after a grant only the granted framework's key
//! and its role's change, so only those two entries move. Visiting an agent
//! then walks the sets from the front and stops at the first framework no
//! filter stops: its cost is the number of frameworks passed over, not the
//! number subscribed.
//!
//! Why this is Mesos's order exactly: `DRFSorter` keeps its clients sorted by
//! `compareDRF` and repositions a client when `allocated()` changes its share
//! (`sorter/drf/sorter.cpp`); `__generateOffers` then reads that order for
//! each agent. Ascending key, then name, with the key of each client
//! computed from its own books, is the order [`Sorter::sort`](super::Sorter::sort)
//! returns for such a sorter, so the grants are the same grant for grant.

use super::sorter::{KeyOrder, SortKey};
use super::{Allocator, FrameworkId, SharedId};
use std::collections::{BTreeMap, BTreeSet};

/// A framework as the walk needs it, without looking it up by id.
#[derive(Clone, Copy, Debug)]
pub(super) struct Rung {
    /// `FrameworkSlot::idx`: how the agent's filters name it.
    pub(super) idx: u32,
    /// It has the GPU_RESOURCES capability.
    pub(super) gpu_resources: bool,
}

/// The roles in role-sorter order and each role's frameworks in its
/// framework sorter's order, for one cycle.
#[derive(Debug, Default)]
pub(super) struct Standings {
    pub(super) roles: BTreeSet<(SortKey, String)>,
    pub(super) frameworks: BTreeMap<String, BTreeMap<(SortKey, SharedId), Rung>>,
}

impl Allocator {
    /// The role sorter and every eligible role's framework sorter as
    /// [`KeyOrder`]s, if they all are one.
    fn key_orders(&self, roles: &BTreeMap<String, Vec<FrameworkId>>) -> Option<&dyn KeyOrder> {
        let role_order = self.role_sorter.key_order()?;
        roles.keys().all(|r| self.framework_sorters[r].key_order().is_some()).then_some(role_order)
    }

    /// The standings of `eligible` (roles by name, each with its eligible
    /// frameworks), if every sorter involved is keyed; `None` sends the cycle
    /// down the path that calls `Sorter::sort` before every agent.
    pub(super) fn standings(&self, eligible: &BTreeMap<String, Vec<FrameworkId>>) -> Option<Standings> {
        let role_order = self.key_orders(eligible)?;
        let mut s = Standings::default();
        for (role, ids) in eligible {
            s.roles.insert((role_order.key(&self.role_client(role)), role.clone()));
            let order = self.framework_sorters[role].key_order()?;
            let fws = ids
                .iter()
                .map(|id| {
                    let fw = &self.frameworks[id];
                    let rung = Rung { idx: fw.idx, gpu_resources: fw.gpu_resources };
                    ((order.key(&self.framework_client(id)), fw.id.clone()), rung)
                })
                .collect();
            s.frameworks.insert(role.clone(), fws);
        }
        Some(s)
    }

    /// Move framework `id` of `role` (granted just now) and its role to
    /// where their new keys put them; `fw_key` and `role_key` are where they were.
    pub(super) fn restand(&self, s: &mut Standings, role: &str, role_key: SortKey, id: &SharedId, fw_key: SortKey) {
        let role_order = self.role_sorter.key_order().expect("standings only exist for keyed sorters");
        let role_entry = s.roles.take(&(role_key, role.to_string())).expect("the granted role is in the standings");
        s.roles.insert((role_order.key(&self.role_client(role)), role_entry.1));
        let order = self.framework_sorters[role].key_order().expect("standings only exist for keyed sorters");
        let fws = s.frameworks.get_mut(role).expect("the granted role is in the standings");
        let rung = fws.remove(&(fw_key, id.clone())).expect("the granted framework is in the standings");
        fws.insert((order.key(&self.framework_client(id)), id.clone()), rung);
    }
}
