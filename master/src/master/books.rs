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
    pub(super) offers: BTreeSet<String>,
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
    pub(super) offers: BTreeSet<String>,
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

pub(super) struct OfferEntry {
    pub(super) offer: v1::Offer,
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
