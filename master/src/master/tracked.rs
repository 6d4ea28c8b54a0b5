//! Books that remember which of their entries a step touched.
//!
//! The world checks the master's invariants after every step, and a full
//! check reads every agent, offer and task: at 10,000 agents that is most of
//! a run. But a step can only break a promise about an entry it changed, so
//! the per-step check reads only those ([`Master::check_invariants`]'s
//! incremental scope). What a step changed is not written down by hand at
//! each of the master's mutation sites, where one forgotten line would let a
//! bug pass unseen; it falls out of the types instead:
//!
//! ```text
//!   Tracked<K, V>   a BTreeMap readable as one (Deref), whose every *mutable*
//!                   access (get_mut, insert, remove, values_mut)
//!                   records the key, or "everything" for a whole-map walk;
//!                   a get_mut or remove that finds nothing records nothing
//!   TrackedSet<K>   the same for a BTreeSet (an insert or remove that changed it)
//!   ActorIndex      actor → id, recording the actors and the ids on both
//!                   sides of each change (the id it pointed to before too)
//! ```
//!
//! There is no `DerefMut`: the compiler rejects a mutation that bypasses the
//! record. The master forgets the records at the start of each step
//! ([`Master::handle`](mesocosm_sim::Actor::handle)), so they never outgrow
//! one step. What this cannot see is a change the allocator makes on its own;
//! the master only changes an agent's allocation while changing that agent's
//! books, and the periodic full rescan is there for the day it does not.
//!
//! [`Master::check_invariants`]: super::Master::check_invariants

use mesocosm_sim::ActorId;
use std::borrow::Borrow;
use std::collections::{BTreeMap, BTreeSet};
use std::ops::Deref;

/// What a step touched in one map or set: some keys, or (after a walk over
/// every value) all of them. With each key of a [`Tracked`] map, its watched
/// flag as it was before the step (`None` for an entry the step inserted).
pub(super) struct Touched<K> {
    keys: BTreeMap<K, Option<bool>>,
    all: bool,
}

impl<K: Ord + Clone> Touched<K> {
    fn new() -> Touched<K> {
        Touched { keys: BTreeMap::new(), all: false }
    }

    /// Record `k`, with `before`, if this is the step's first touch of it.
    fn key<Q: Ord + ToOwned<Owned = K> + ?Sized>(&mut self, k: &Q, before: impl FnOnce() -> Option<bool>)
    where
        K: Borrow<Q>,
    {
        // Why look before cloning: most steps touch the same agent or
        // framework several times; a probe is cheaper than an allocation.
        if !self.all && !self.keys.contains_key(k) {
            self.keys.insert(k.to_owned(), before());
        }
    }

    fn clear(&mut self) {
        self.keys.clear();
        self.all = false;
    }

    /// Whether every key counts as touched (a walk over every value).
    pub(super) fn all(&self) -> bool {
        self.all
    }

    /// The keys touched, in order (meaningless when [`Touched::all`]).
    pub(super) fn keys(&self) -> impl Iterator<Item = &K> {
        self.keys.keys()
    }
}

/// A map of the master's books that records which keys a step changed, and
/// for each the value of one *watched* flag before the change (an agent's
/// `connected`, a framework's `active`): what other entries' promises read.
pub(super) struct Tracked<K, V> {
    map: BTreeMap<K, V>,
    touched: Touched<K>,
    watch: fn(&V) -> bool,
}

impl<K: Ord + Clone, V> Tracked<K, V> {
    /// An empty map whose entries' `watch` flag is remembered at each step's
    /// first touch.
    pub(super) fn new(watch: fn(&V) -> bool) -> Tracked<K, V> {
        Tracked { map: BTreeMap::new(), touched: Touched::new(), watch }
    }

    pub(super) fn get_mut<Q: Ord + ToOwned<Owned = K> + ?Sized>(&mut self, k: &Q) -> Option<&mut V>
    where
        K: Borrow<Q>,
    {
        // A probe that finds nothing changes nothing: not recorded, so that
        // a step about an unknown id does not look like a removal.
        let v = self.map.get_mut(k)?;
        let watch = self.watch;
        self.touched.key(k, || Some(watch(v)));
        Some(v)
    }

    pub(super) fn insert(&mut self, k: K, v: V) -> Option<V> {
        let (map, watch) = (&self.map, self.watch);
        self.touched.key(&k, || map.get(&k).map(watch));
        self.map.insert(k, v)
    }

    pub(super) fn remove<Q: Ord + ToOwned<Owned = K> + ?Sized>(&mut self, k: &Q) -> Option<V>
    where
        K: Borrow<Q>,
    {
        let v = self.map.remove(k)?;
        let watch = self.watch;
        self.touched.key(k, || Some(watch(&v)));
        Some(v)
    }

    /// Every value, mutably: every key counts as touched.
    pub(super) fn values_mut(&mut self) -> impl Iterator<Item = &mut V> {
        self.touched.all = true;
        self.map.values_mut()
    }

    /// What this step touched.
    pub(super) fn touched(&self) -> &Touched<K> {
        &self.touched
    }

    /// Whether this step inserted `k`, or changed its watched flag. `false`
    /// for a key the step did not touch here, or removed.
    pub(super) fn watched_changed<Q: Ord + ?Sized>(&self, k: &Q) -> bool
    where
        K: Borrow<Q>,
    {
        match (self.touched.keys.get(k), self.map.get(k)) {
            (Some(None), Some(_)) => true,
            (Some(Some(before)), Some(v)) => *before != (self.watch)(v),
            _ => false,
        }
    }

    /// Start a new step: nothing touched yet.
    pub(super) fn forget_touched(&mut self) {
        self.touched.clear();
    }
}

impl<K, V> Deref for Tracked<K, V> {
    type Target = BTreeMap<K, V>;

    fn deref(&self) -> &BTreeMap<K, V> {
        &self.map
    }
}

impl<'a, K, V> IntoIterator for &'a Tracked<K, V> {
    type Item = (&'a K, &'a V);
    type IntoIter = std::collections::btree_map::Iter<'a, K, V>;

    fn into_iter(self) -> Self::IntoIter {
        self.map.iter()
    }
}

/// A set of the master's books (agent ids) that records which keys a step
/// inserted or removed.
pub(super) struct TrackedSet<K> {
    set: BTreeSet<K>,
    touched: Touched<K>,
}

impl<K: Ord + Clone> TrackedSet<K> {
    pub(super) fn new() -> TrackedSet<K> {
        TrackedSet { set: BTreeSet::new(), touched: Touched::new() }
    }

    pub(super) fn insert(&mut self, k: K) -> bool {
        if self.set.contains(&k) {
            return false;
        }
        self.touched.key(&k, || None);
        self.set.insert(k)
    }

    pub(super) fn remove<Q: Ord + ToOwned<Owned = K> + ?Sized>(&mut self, k: &Q) -> bool
    where
        K: Borrow<Q>,
    {
        let removed = self.set.remove(k);
        if removed {
            self.touched.key(k, || None);
        }
        removed
    }

    /// What this step touched.
    pub(super) fn touched(&self) -> &Touched<K> {
        &self.touched
    }

    /// Start a new step: nothing touched yet.
    pub(super) fn forget_touched(&mut self) {
        self.touched.clear();
    }
}

impl<K> Deref for TrackedSet<K> {
    type Target = BTreeSet<K>;

    fn deref(&self) -> &BTreeSet<K> {
        &self.set
    }
}

/// Actor → agent or framework id (`agent_by_actor`, `framework_by_actor`),
/// recording the actors changed and every id on either side of a change: an
/// entry repointed from one agent to another can break a promise about both.
pub(super) struct ActorIndex {
    map: BTreeMap<ActorId, String>,
    actors: Touched<ActorId>,
    ids: Touched<String>,
}

impl ActorIndex {
    pub(super) fn new() -> ActorIndex {
        ActorIndex { map: BTreeMap::new(), actors: Touched::new(), ids: Touched::new() }
    }

    pub(super) fn insert(&mut self, actor: ActorId, id: String) -> Option<String> {
        self.actors.key(&actor, || None);
        self.ids.key(&id, || None);
        let old = self.map.insert(actor, id);
        if let Some(old) = &old {
            self.ids.key(old, || None);
        }
        old
    }

    pub(super) fn remove(&mut self, actor: &ActorId) -> Option<String> {
        self.actors.key(actor, || None);
        let old = self.map.remove(actor);
        if let Some(old) = &old {
            self.ids.key(old, || None);
        }
        old
    }

    /// The actors whose entry this step changed.
    pub(super) fn touched_actors(&self) -> &Touched<ActorId> {
        &self.actors
    }

    /// The ids an entry pointed to before or after a change this step.
    pub(super) fn touched_ids(&self) -> &Touched<String> {
        &self.ids
    }

    /// Start a new step: nothing touched yet.
    pub(super) fn forget_touched(&mut self) {
        self.actors.clear();
        self.ids.clear();
    }
}

impl Deref for ActorIndex {
    type Target = BTreeMap<ActorId, String>;

    fn deref(&self) -> &BTreeMap<ActorId, String> {
        &self.map
    }
}

impl<'a> IntoIterator for &'a ActorIndex {
    type Item = (&'a ActorId, &'a String);
    type IntoIter = std::collections::btree_map::Iter<'a, ActorId, String>;

    fn into_iter(self) -> Self::IntoIter {
        self.map.iter()
    }
}
