//! Sorters: the allocator's plug point for policy.
//!
//! Mesos's hierarchical allocator (`src/master/allocator/mesos/hierarchical.cpp`)
//! keeps the books itself (agents, frameworks, allocations, refusal filters,
//! suppress and revive) and asks **sorters**
//! (`src/master/allocator/mesos/sorter/sorter.hpp`) one question, over and over:
//! *in which order should these clients be visited?* The role sorter orders the
//! roles; each role has a framework sorter of its own that orders the role's
//! frameworks. `--role_sorter` and `--framework_sorter` pick the implementation:
//! `drf` (the default, [`DrfSorter`](super::DrfSorter)) or `random`
//! ([`RandomSorter`](super::RandomSorter)).
//!
//! mesocosm draws the same line. A [`Sorter`] gets the facts Mesos's sorters
//! keep ([`SortClient`]: a name, a weight, the scalar resources held, the
//! cluster's total, an allocation count) and returns an order. That is all a
//! policy can change: who is asked first. It cannot grant what an agent does
//! not have, skip a refusal filter, offer to a suppressed framework or split an
//! agent's resources; the books enforce all of that, whichever sorter runs.
//!
//! A sorter is chosen in the config by a [`SorterChoice`]: `drf()`, `random()`,
//! or `custom(name, factory)` for your own. The allocator builds one role
//! sorter and one framework sorter per role from it, as Mesos does.

use mesocosm_proto::Resources;
use rand::Rng;
use std::fmt;
use std::sync::Arc;

/// One client of a sorter: a role in the role sorter, or a framework in its
/// role's framework sorter. Borrowed from the allocator's books for one sort.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SortClient<'a> {
    /// The role's name, or the framework's id.
    pub name: &'a str,
    /// The role's `--weights` weight (default 1.0). Frameworks weigh 1.0: Mesos
    /// never sets a weight in a framework sorter. Always positive.
    pub weight: f64,
    /// The scalar resources the client holds (offered or in use), summed over
    /// agents (`Sorter::allocationScalarQuantities`).
    pub allocation: &'a Resources,
    /// The scalar sum of every agent's total: the denominator of a share.
    pub cluster_total: &'a Resources,
    /// How many grants the client has had; it only grows (DRF's tie-break).
    pub allocation_count: u64,
}

impl SortClient<'_> {
    /// The largest fraction the client holds of any scalar resource in the
    /// cluster (`DRFSorter::calculateShare`), before weighting.
    pub fn dominant_share(&self) -> f64 {
        dominant_share(self.allocation, self.cluster_total)
    }

    /// The dominant share divided by the weight: DRF's sort key.
    pub fn weighted_share(&self) -> f64 {
        self.dominant_share() / self.weight
    }
}

/// An allocation policy: orders the clients of one sort.
///
/// The allocator calls [`Sorter::sort`] once per agent it visits for the role
/// sorter, and once per role it tries on that agent for that role's framework
/// sorter (`__generateOffers` calls `roleSorter->sort()` and
/// `frameworkSorter->sort()` inside its loop over agents), then offers the
/// agent's free resources to the first client in that order that nothing
/// filters. After a grant the next sort sees the new allocation.
///
/// # The contract
///
/// `sort` returns a **permutation** of `0..clients.len()`: every index exactly
/// once. The allocator panics, naming the sorter, if it gets anything else (it
/// is a bug in the sorter, like an `Ord` that is not a total order). Draw any
/// randomness from `rng` only: it is a seeded stream, so runs replay.
///
/// # Example: the framework holding the most goes first
///
/// ```
/// use mesocosm_master::{SortClient, Sorter, SorterChoice};
///
/// #[derive(Debug)]
/// struct Greedy;
///
/// impl Sorter for Greedy {
///     fn name(&self) -> &str {
///         "greedy"
///     }
///     fn sort(&mut self, clients: &[SortClient<'_>], _rng: &mut dyn rand::Rng) -> Vec<usize> {
///         let mut order: Vec<usize> = (0..clients.len()).collect();
///         // Largest share first; `sort_by` is stable, so ties keep name order.
///         order.sort_by(|&a, &b| clients[b].dominant_share().total_cmp(&clients[a].dominant_share()));
///         order
///     }
///     fn explain(&self, client: &SortClient<'_>, clients: &[SortClient<'_>]) -> String {
///         format!("greedy: share {:.2}, largest of {}", client.dominant_share(), clients.len())
///     }
/// }
///
/// let choice = SorterChoice::custom("greedy", || Box::new(Greedy));
/// assert_eq!(choice.name(), "greedy");
/// assert_eq!(choice.make().name(), "greedy");
/// ```
pub trait Sorter: Send + fmt::Debug {
    /// A short name for notes and explanations (`drf`, `random`, yours).
    fn name(&self) -> &str;

    /// The order in which to visit `clients`: a permutation of their indices.
    /// `clients` come in name order (roles by name, frameworks by id).
    fn sort(&mut self, clients: &[SortClient<'_>], rng: &mut dyn Rng) -> Vec<usize>;

    /// Why `client` came where it did in the last sort of `clients`, for the
    /// master's allocation notes (`--explain`), e.g. `DRF share 0.25, lowest
    /// of 2`. Called for the client that was granted.
    fn explain(&self, client: &SortClient<'_>, clients: &[SortClient<'_>]) -> String;

    /// `Some` if this sorter's order is a [`KeyOrder`]: every client has a key
    /// of its own facts and the order is ascending key, then name. The
    /// allocator then never calls [`Sorter::sort`] or [`Sorter::explain`]: it
    /// keeps the clients ordered itself and, after a grant, moves only the
    /// client whose allocation changed. The default, `None`, has `sort` called
    /// before every agent, which any policy can live with.
    fn key_order(&self) -> Option<&dyn KeyOrder> {
        None
    }
}

/// Where a client stands in a [`KeyOrder`]: by `value`, then by `count`
/// (then, outside the key, by name). DRF's key is the weighted dominant share
/// and the allocation count (`compareDRF` in `sorter/drf/sorter.hpp`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SortKey {
    /// Compared first, by [`f64::total_cmp`].
    pub value: f64,
    /// Compared second.
    pub count: u64,
}

impl Eq for SortKey {}

impl PartialOrd for SortKey {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for SortKey {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.value.total_cmp(&other.value).then(self.count.cmp(&other.count))
    }
}

/// A sorter whose order is fixed by each client alone: ascending
/// [`SortKey`], ties broken by name, no randomness, no looking at the other
/// clients. [`Sorter::sort`] must return exactly that order.
///
/// Why it exists: a cycle sorts once per agent, and at Mesos scale (10,000
/// agents, thousands of frameworks) re-sorting every framework before every
/// agent is most of a cycle. A grant changes one framework's key (and its
/// role's), so the allocator keeps its clients in an ordered set and moves
/// just that one, as Mesos's `DRFSorter` keeps its clients in a sorted tree
/// and repositions one in `allocated()` (the "dirty" sort of Mesos 1.7.1).
pub trait KeyOrder {
    /// The client's key (its name breaks ties).
    fn key(&self, client: &SortClient<'_>) -> SortKey;

    /// [`Sorter::explain`] for the client that came first among `clients`
    /// others sorted with it (the count includes it).
    fn explain_among(&self, client: &SortClient<'_>, clients: usize) -> String;
}

type MakeSorter = dyn Fn() -> Box<dyn Sorter> + Send + Sync;

/// Which [`Sorter`] the allocator builds: Mesos's `--role_sorter` and
/// `--framework_sorter` flags, plus your own from Rust.
///
/// It is a name and a factory: the allocator makes one role sorter and one
/// framework sorter per role from it. Two choices are equal when their names
/// are, so a config holding one stays `PartialEq` (give a custom sorter a name
/// of its own).
///
/// ```
/// use mesocosm_master::{MasterConfig, SorterChoice};
///
/// let cfg = MasterConfig { framework_sorter: SorterChoice::random(), ..MasterConfig::default() };
/// assert_eq!(cfg.role_sorter, SorterChoice::drf());
/// assert_eq!(cfg.framework_sorter.name(), "random");
/// assert_eq!(SorterChoice::builtin("random"), Some(SorterChoice::random()));
/// assert_eq!(SorterChoice::builtin("fair"), None);
/// ```
#[derive(Clone)]
pub struct SorterChoice {
    name: String,
    make: Arc<MakeSorter>,
}

impl SorterChoice {
    /// `drf`, Mesos's default: ascending weighted dominant share, then
    /// allocation count, then name.
    pub fn drf() -> SorterChoice {
        SorterChoice::custom("drf", || Box::new(super::DrfSorter))
    }

    /// `random`: a weighted random shuffle on every sort; weights are
    /// probabilities, shares do not count.
    pub fn random() -> SorterChoice {
        SorterChoice::custom("random", || Box::new(super::RandomSorter))
    }

    /// A built-in by its Mesos flag value (`drf`, `random`), if there is one.
    pub fn builtin(name: &str) -> Option<SorterChoice> {
        match name {
            "drf" => Some(SorterChoice::drf()),
            "random" => Some(SorterChoice::random()),
            _ => None,
        }
    }

    /// Your own sorter, built by `make` (once per sorter the allocator needs).
    pub fn custom(name: &str, make: impl Fn() -> Box<dyn Sorter> + Send + Sync + 'static) -> SorterChoice {
        SorterChoice { name: name.to_string(), make: Arc::new(make) }
    }

    /// The name it was chosen by.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A fresh sorter.
    pub fn make(&self) -> Box<dyn Sorter> {
        (self.make)()
    }
}

impl Default for SorterChoice {
    /// DRF, as Mesos's `--role_sorter` and `--framework_sorter` default.
    fn default() -> Self {
        SorterChoice::drf()
    }
}

impl fmt::Debug for SorterChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SorterChoice({:?})", self.name)
    }
}

impl PartialEq for SorterChoice {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

/// The largest fraction `held` is of any scalar in `total` (0 for a scalar
/// the cluster has none of): `DRFSorter::calculateShare`.
pub(super) fn dominant_share(held: &Resources, total: &Resources) -> f64 {
    let mut share: f64 = 0.0;
    for (name, total) in total.scalars() {
        if total > 0.0 {
            share = share.max(held.scalar(name) / total);
        }
    }
    share
}

/// Checks the [`Sorter`] contract: `order` is a permutation of `0..n`.
pub(super) fn checked_order(sorter: &dyn Sorter, order: Vec<usize>, n: usize) -> Vec<usize> {
    let mut seen = vec![false; n];
    let ok = order.len() == n && order.iter().all(|&i| i < n && !std::mem::replace(&mut seen[i], true));
    assert!(ok, "sorter `{}` returned {order:?} for {n} clients: not a permutation of 0..{n}", sorter.name());
    order
}
