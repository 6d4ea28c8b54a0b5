//! The master's books: one record per agent, framework, task and outstanding
//! offer, and why an agent was removed. The `Master` keeps them in maps keyed
//! by id; `check_invariants` (in `invariants`) says how they must agree.

use mesocosm_proto::v1::TaskState;
use mesocosm_proto::{Resources, v1};
use mesocosm_sim::ActorId;
use std::collections::{BTreeMap, BTreeSet};

pub(super) struct Agent {
    pub(super) actor: ActorId,
    pub(super) info: v1::AgentInfo,
    pub(super) total: Resources,
    pub(super) offered: Resources,
    pub(super) used: Resources,
    /// Custom executors the master knows of, with the resources charged for them.
    pub(super) executors: BTreeMap<(String, String), Resources>,
    /// (framework id, task id) of the tasks on this agent.
    pub(super) tasks: BTreeSet<(String, String)>,
    pub(super) offers: BTreeSet<OfferNo>,
    /// SlaveObserver: a ping is out and unanswered.
    pub(super) pinged: bool,
    /// SlaveObserver: consecutive unanswered pings.
    pub(super) misses: u32,
    /// The observer's generation: bumped when the agent re-registers, so the
    /// old observer's ping timers and a pending re-register timeout go stale.
    pub(super) epoch: u64,
    /// False while the connection is broken (`Slave::connected`).
    pub(super) connected: bool,
    /// Tasks this master declared TASK_LOST when the agent disconnected (their
    /// framework does not checkpoint). If the agent still runs one when it
    /// re-registers, it is killed: the framework has been told it is gone.
    pub(super) lost_at_disconnect: BTreeSet<(String, String)>,
}

impl Agent {
    /// A connected agent with nothing on it yet, observed by observer `epoch`.
    pub(super) fn new(actor: ActorId, info: v1::AgentInfo, total: Resources, epoch: u64) -> Agent {
        Agent {
            actor,
            info,
            total,
            offered: Resources::new(),
            used: Resources::new(),
            executors: BTreeMap::new(),
            tasks: BTreeSet::new(),
            offers: BTreeSet::new(),
            pinged: false,
            misses: 0,
            epoch,
            connected: true,
            lost_at_disconnect: BTreeSet::new(),
        }
    }
}

pub(super) struct Framework {
    /// The subscriber; `None` until a recovered framework subscribes.
    pub(super) actor: Option<ActorId>,
    pub(super) info: v1::FrameworkInfo,
    pub(super) active: bool,
    pub(super) partition_aware: bool,
    pub(super) epoch: u64,
    pub(super) tasks: BTreeMap<String, Task>,
    pub(super) offers: BTreeSet<OfferNo>,
}

impl Framework {
    /// A framework that just subscribed from `actor`: active, nothing launched yet.
    pub(super) fn new(actor: ActorId, info: v1::FrameworkInfo, partition_aware: bool) -> Framework {
        Framework {
            actor: Some(actor),
            info,
            active: true,
            partition_aware,
            epoch: 0,
            tasks: BTreeMap::new(),
            offers: BTreeSet::new(),
        }
    }
}

pub(super) struct Task {
    pub(super) info: v1::TaskInfo,
    pub(super) agent: String,
    pub(super) state: TaskState,
    /// What the task itself was charged (its executor's share is on the executor).
    pub(super) resources: Resources,
    /// The latest status the master has seen (for reconciliation).
    pub(super) latest: Option<v1::TaskStatus>,
    /// The state and uuid of the last update relayed, awaiting its ack.
    pub(super) update_state: Option<TaskState>,
    pub(super) update_uuid: Option<Vec<u8>>,
    /// The offer the task was launched from and that offer's framework, kept at
    /// ACCEPT time for the invariant "only an offer's framework uses it".
    /// `None` for a task adopted from a re-registering agent (a previous master
    /// launched it).
    pub(super) launched_from: Option<(String, String)>,
}

/// An offer's number `n`: the master names it `<master id>-O<n>` on the
/// wire and keys its books by the number.
///
/// Why a number: every offer id starts with the same 36-character master
/// id, so each comparison in the offer books was a `memcmp` of that prefix
/// first, and each book held its own copy of the string; at 10,000 agents a
/// Spark framework is made, and declines, millions of offers.
///
/// Why this order: the books iterate offers in id order (RESCINDs go out in
/// it, `offers_view` lists it), as the strings sorted, so numbers compare as
/// their decimal digits do: `O10` before `O9`. Same order, same trace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct OfferNo(pub(super) u64);

impl OfferNo {
    /// The number of `oid` if it is `<master>-O<n>` as a master named
    /// `master` writes it (digits only, no leading zero): any other string
    /// names no offer of this master.
    pub(super) fn parse(master: &str, oid: &str) -> Option<OfferNo> {
        let digits = oid.strip_prefix(master)?.strip_prefix("-O")?;
        let canonical = !digits.is_empty()
            && digits.bytes().all(|b| b.is_ascii_digit())
            && (digits == "0" || !digits.starts_with('0'));
        if !canonical {
            return None;
        }
        digits.parse().ok().map(OfferNo)
    }

    /// The id a master named `master` gives offer number `self`.
    pub(super) fn id(self, master: &str) -> String {
        format!("{master}-O{}", self.0)
    }
}

impl Ord for OfferNo {
    /// As `self.0.to_string().cmp(&other.0.to_string())`, without the strings:
    /// scale the shorter number to the longer's digit count; equal means it
    /// is a prefix, and a prefix sorts first.
    fn cmp(&self, other: &OfferNo) -> std::cmp::Ordering {
        let (a, b) = (self.0, other.0);
        let (da, db) = (digits(a), digits(b));
        let scale = |x: u64, by: u32| u128::from(x) * 10u128.pow(by);
        match da.cmp(&db) {
            std::cmp::Ordering::Equal => a.cmp(&b),
            std::cmp::Ordering::Less => scale(a, db - da).cmp(&u128::from(b)).then(std::cmp::Ordering::Less),
            std::cmp::Ordering::Greater => u128::from(a).cmp(&scale(b, da - db)).then(std::cmp::Ordering::Greater),
        }
    }
}

impl PartialOrd for OfferNo {
    fn partial_cmp(&self, other: &OfferNo) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// How many decimal digits `x` is written with.
fn digits(x: u64) -> u32 {
    x.checked_ilog10().unwrap_or(0) + 1
}

/// An outstanding offer as the master's books need it: whose it is, where,
/// and what it holds. Why not the whole `v1::Offer` sent (upstream's
/// `Master::offers` keeps the protobuf): keeping it meant a deep copy of
/// every offer's resources and attributes, and at 10,000 agents a Spark
/// framework is made, and declines, millions of offers; the RESCIND and the
/// promises need only these fields.
pub(super) struct OfferEntry {
    pub(super) framework: String,
    pub(super) agent: String,
    pub(super) resources: Resources,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Removal {
    /// Missed `max_agent_ping_timeouts` pongs (`markUnreachable`).
    Unreachable,
    /// Disconnected for `agent_reregister_timeout` (`markUnreachable` too).
    ReregisterTimeout,
    /// The agent said goodbye (UnregisterSlave).
    Unregistered,
    /// A new agent registered at the address of this disconnected one.
    Replaced,
}

impl Removal {
    pub(super) fn unreachable(self) -> bool {
        matches!(self, Removal::Unreachable | Removal::ReregisterTimeout)
    }
}

#[cfg(test)]
mod tests {
    use super::OfferNo;

    #[test]
    fn offer_numbers_sort_as_their_ids_do() {
        let mut ns: Vec<u64> = (0..1200).collect();
        ns.extend([9_999, 10_000, 99_999_999, 100_000_000, 123_456_789_012, u64::MAX - 1, u64::MAX]);
        ns.extend((0..64).map(|i| 1u64 << i));
        let mut by_number: Vec<OfferNo> = ns.iter().copied().map(OfferNo).collect();
        let mut by_string: Vec<String> = ns.iter().map(|n| n.to_string()).collect();
        by_number.sort();
        by_string.sort();
        let back: Vec<String> = by_number.iter().map(|n| n.0.to_string()).collect();
        assert_eq!(back, by_string);
    }

    #[test]
    fn only_the_masters_own_spelling_parses() {
        let m = "20261204-160000-1-5050-0";
        assert_eq!(OfferNo::parse(m, &OfferNo(42).id(m)), Some(OfferNo(42)));
        assert_eq!(OfferNo::parse(m, &format!("{m}-O0")), Some(OfferNo(0)));
        for bad in [
            "O42",
            "x-O42",
            &format!("{m}-O"),
            &format!("{m}-O042"),
            &format!("{m}-O4x"),
            &format!("{m}-O+4"),
            &format!("{m}-S4"),
            &format!("{m}-O99999999999999999999999"),
        ] {
            assert_eq!(OfferNo::parse(m, bad), None, "{bad}");
        }
    }
}
