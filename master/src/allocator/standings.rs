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
//!
//! The sets hold numbers, not names: a role's place in the cycle's
//! [`Eligible`] list (name order) and a framework's place in its role's list
//! (id order). Because those places follow name order, `(key, place)` sorts
//! exactly as `(key, name)` would, and moving an entry copies no string.

use super::sorter::{KeyOrder, SortKey};
use super::{Allocator, Eligible};
use std::collections::BTreeSet;

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
    /// `(key, place of the role in the cycle's Eligible list)`.
    pub(super) roles: BTreeSet<(SortKey, u32)>,
    /// For each role (by place), `(key, place of the framework in rungs)`.
    pub(super) frameworks: Vec<BTreeSet<(SortKey, u32)>>,
    /// For each role (by place), its eligible frameworks in id order.
    pub(super) rungs: Vec<Vec<Rung>>,
}

/// Where the granted framework and its role stood, to move them after a grant.
#[derive(Clone, Copy, Debug)]
pub(super) struct Stand {
    pub(super) role_key: SortKey,
    pub(super) fw_key: SortKey,
    /// The framework's place in its role's `rungs`.
    pub(super) fw_place: u32,
}

impl Allocator {
    /// The role sorter and every eligible role's framework sorter as
    /// [`KeyOrder`]s, if they all are one.
    fn key_orders(&self, eligible: &Eligible) -> Option<&dyn KeyOrder> {
        let role_order = self.role_sorter.key_order()?;
        eligible.iter().all(|(r, _)| self.framework_sorters[r.as_str()].key_order().is_some()).then_some(role_order)
    }

    /// The standings of `eligible`, if every sorter involved is keyed; `None`
    /// sends the cycle down the path that calls `Sorter::sort` before every agent.
    pub(super) fn standings(&self, eligible: &Eligible) -> Option<Standings> {
        let role_order = self.key_orders(eligible)?;
        let mut s = Standings::default();
        for (place, (role, fws)) in (0u32..).zip(eligible) {
            s.roles.insert((role_order.key(&self.role_client(role)), place));
            let order = self.framework_sorters[role.as_str()].key_order()?;
            let mut keyed = BTreeSet::new();
            let mut rungs = Vec::with_capacity(fws.len());
            for (f, &idx) in (0u32..).zip(fws) {
                let fw = self.framework_at(idx).expect("eligible frameworks exist");
                keyed.insert((order.key(&self.framework_client(fw)), f));
                rungs.push(Rung { idx, gpu_resources: fw.gpu_resources });
            }
            s.frameworks.push(keyed);
            s.rungs.push(rungs);
        }
        Some(s)
    }

    /// Move the framework at `stand.fw_place` of the role at `role` (granted
    /// just now) and the role to where their new keys put them.
    pub(super) fn restand(&self, s: &mut Standings, eligible: &Eligible, role: u32, stand: Stand) {
        let name = &eligible[role as usize].0;
        let role_order = self.role_sorter.key_order().expect("standings only exist for keyed sorters");
        assert!(s.roles.remove(&(stand.role_key, role)), "the granted role is in the standings");
        s.roles.insert((role_order.key(&self.role_client(name)), role));
        let order = self.framework_sorters[name.as_str()].key_order().expect("standings only exist for keyed sorters");
        let fws = &mut s.frameworks[role as usize];
        assert!(fws.remove(&(stand.fw_key, stand.fw_place)), "the granted framework is in the standings");
        let rung = s.rungs[role as usize][stand.fw_place as usize];
        let fw = self.framework_at(rung.idx).expect("the granted framework exists");
        fws.insert((order.key(&self.framework_client(fw)), stand.fw_place));
    }
}
