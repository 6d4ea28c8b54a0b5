//! The master's flags and timers.

use crate::allocator::SorterChoice;
use mesocosm_proto::Resources;
use mesocosm_sim::ActorId;
use mesocosm_sim::ids::{uuid_from, uuid_string};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// The master's flags.
#[derive(Clone, Debug, PartialEq)]
pub struct MasterConfig {
    /// This actor's name (`master`).
    pub me: ActorId,
    /// `MasterInfo.id`: a UUID the world derives from the seed. Agent, framework
    /// and offer ids are built on it.
    pub id: String,
    /// `MasterInfo.hostname`.
    pub hostname: String,
    /// `MasterInfo.port` (5050).
    pub port: u32,
    /// `--allocation_interval` (1 s).
    pub allocation_interval: Duration,
    /// `--agent_ping_timeout` (15 s): the ping period and the wait for each pong.
    pub agent_ping_timeout: Duration,
    /// `--max_agent_ping_timeouts` (5): consecutive misses before unreachable.
    pub max_agent_ping_timeouts: u32,
    /// `--agent_reregister_timeout` (10 min, also Mesos's minimum): how long a
    /// disconnected agent has to re-register before it is marked unreachable.
    pub agent_reregister_timeout: Duration,
    /// The scheduler HEARTBEAT period (`DEFAULT_HEARTBEAT_INTERVAL`, 15 s).
    pub heartbeat_interval: Duration,
    /// `--offer_timeout` (none: offers never time out).
    pub offer_timeout: Option<Duration>,
    /// `--min_allocatable_resources`: the alternatives, any one of which makes
    /// free resources worth offering (default `cpus:0.01|mem:32`).
    pub min_allocatable_resources: Vec<Resources>,
    /// `--weights role=w,...`: the role sorter's weights (DRF divides a role's
    /// share by it, random draws by it); unlisted roles weigh 1.0
    /// (`DEFAULT_WEIGHT`). Empty by default.
    pub weights: BTreeMap<String, f64>,
    /// Seeds the allocator's shuffle of each cycle's agents (Mesos uses an
    /// unseeded `std::random_shuffle`); the same seed replays the same orders.
    pub shuffle_seed: u64,
    /// `--filter_gpu_resources` (default true): agents with GPUs are offered
    /// only to frameworks with the GPU_RESOURCES capability.
    pub filter_gpu_resources: bool,
    /// `--role_sorter` (default `drf`): the policy that orders the roles.
    pub role_sorter: SorterChoice,
    /// `--framework_sorter` (default `drf`): the policy that orders each
    /// role's frameworks.
    pub framework_sorter: SorterChoice,
    /// The agent ids a new leader recovers from the registry (Mesos's
    /// replicated log, `Registrar::recover` → `slaves.recovered`): agents it
    /// knows were admitted but has not heard from yet. Empty for a first master.
    pub recovered_agents: BTreeSet<String>,
    /// The replicated log this master holds when there are several masters
    /// (`--registry=replicated_log`); `None` for a single master, whose
    /// successor is handed `recovered_agents` instead.
    pub registry: Option<super::RegistryConfig>,
    /// `--recovery_agent_removal_limit` (100%) as a fraction: the most of the
    /// registry's agents a new leader may mark unreachable after
    /// agent_reregister_timeout; beyond it the master aborts.
    pub recovery_agent_removal_limit: f64,
    /// `--agent_removal_rate_limit` (none: no pacing).
    pub agent_removal_rate_limit: Option<super::RemovalRate>,
    /// `--zk` (with `--zk_session_timeout`): contend for leadership through
    /// this ZooKeeper group; `None`, the only master, leading from its start.
    pub zk: Option<super::ZkConfig>,
}

impl Default for MasterConfig {
    fn default() -> Self {
        MasterConfig {
            me: ActorId::new("master"),
            id: uuid_string(&uuid_from(&[b"master", &0u64.to_le_bytes()])),
            hostname: "master".to_string(),
            port: 5050,
            allocation_interval: Duration::from_secs(1),
            agent_ping_timeout: Duration::from_secs(15),
            max_agent_ping_timeouts: 5,
            agent_reregister_timeout: Duration::from_secs(600),
            heartbeat_interval: Duration::from_secs(15),
            offer_timeout: None,
            min_allocatable_resources: crate::allocator::default_min_allocatable_resources(),
            weights: BTreeMap::new(),
            shuffle_seed: 0,
            filter_gpu_resources: true,
            role_sorter: SorterChoice::drf(),
            framework_sorter: SorterChoice::drf(),
            recovered_agents: BTreeSet::new(),
            registry: None,
            recovery_agent_removal_limit: 1.0,
            agent_removal_rate_limit: None,
            zk: None,
        }
    }
}

/// The master's timers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Timer {
    /// The periodic batch allocation, every `allocation_interval`.
    Allocation,
    /// The zero-delay cycle that event-triggered allocations coalesce into.
    TriggeredAllocation,
    /// `agent_ping_timeout` after a ping to `agent`.
    PingTimeout { agent: String, epoch: u64 },
    /// Time for the next HEARTBEAT to `framework`.
    Heartbeat { framework: String, epoch: u64 },
    /// `failover_timeout` after `framework` disconnected.
    FailoverTimeout { framework: String, epoch: u64 },
    /// `agent_reregister_timeout` after `agent` disconnected.
    ReregisterTimeout { agent: String, epoch: u64 },
    /// `offer_timeout` after `offer` was made.
    OfferTimeout { offer: String },
    /// `agent_reregister_timeout` after a new leader recovered its agents
    /// from the registry (`Master::recoveredSlavesTimeout`).
    RecoveredTimeout,
    /// The registry's timers (disk writes, fetch and store timeouts).
    Registry(crate::registry::Timer),
    /// The next `agent_removal_rate_limit` slot of a recovery's removals.
    RecoveryRemoval,
    /// The ZooKeeper session's periodic check (a contender only).
    ZooKeeper,
}
