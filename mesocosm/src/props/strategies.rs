//! What is generated, and the strategies that generate it.
//!
//! A [`Case`] is a whole scenario as plain numbers: the agents
//! ([`AgentGen`]), the Spark apps with their jobs, stages and confs
//! ([`AppGen`]), and the fault schedule ([`FaultGen`]). References between
//! them (which agent a kill hits, which app a partition cuts off) are
//! [`Index`]es, resolved against the case's own lists only when it is
//! rendered, so proptest can shrink the lists without breaking a reference.
//!
//! Each strategy here is a plain function returning `impl Strategy`: combine
//! them as any proptest strategy, e.g. a cluster with only kill faults:
//!
//! ```
//! use mesocosm::props::{self, FaultGen};
//! use mesocosm::props::proptest::strategy::{Strategy, ValueTree};
//! use mesocosm::props::proptest::test_runner::TestRunner;
//!
//! let strategy = props::case_with(props::kill(), 1..=2);
//! let case = strategy.new_tree(&mut TestRunner::deterministic()).unwrap().current();
//! assert!(case.faults.iter().all(|f| matches!(
//!     f,
//!     FaultGen::KillAgent { .. } | FaultGen::KillMaster { .. } | FaultGen::KillDriver { .. } | FaultGen::KillExecutor { .. }
//! )));
//! assert!((1..=6).contains(&case.agents.len()) && (1..=3).contains(&case.apps.len()));
//! ```

use super::model::{LONG_PARTITION_S, MESSAGE_KINDS};
use proptest::prelude::*;
use proptest::sample::Index;
use std::ops::RangeInclusive;

/// One generated scenario: a cluster, its workload and its fault schedule.
///
/// Render it with [`Case::to_toml`]; judge a run of it with
/// [`Case::check_invariants`] and [`Case::check_liveness`]; see which of its
/// apps must finish with [`Case::model`].
#[derive(Clone, Debug)]
pub struct Case {
    /// `[scenario] seed`: seeds the workload's task durations and every
    /// `probability` fault.
    pub seed: u64,
    /// `keep_running`: run to `until` rather than stop once the apps are done
    /// and the last fault is over.
    pub keep_running: bool,
    /// `[master] offer_timeout`, seconds (Mesos's default: none).
    pub offer_timeout_s: Option<u32>,
    /// `agent-1`, `agent-2`, … in this order.
    pub agents: Vec<AgentGen>,
    /// `app-1`, `app-2`, … in this order.
    pub apps: Vec<AppGen>,
    /// Every fault, each rendered as an `optional` `[[faults]]` table.
    pub faults: Vec<FaultGen>,
}

/// One Mesos agent.
#[derive(Clone, Debug)]
pub struct AgentGen {
    /// `--resources=cpus:<n>`.
    pub cpus: u32,
    /// `--resources=mem:<n × 1024>`.
    pub mem_gib: u32,
    /// `--attributes=rack:r<n>`.
    pub rack: Option<u8>,
    /// `spark_installed = false`: every executor started there fails.
    pub spark_installed: bool,
}

/// One Spark application, submitted in client mode.
#[derive(Clone, Debug)]
pub struct AppGen {
    /// When `spark-submit` runs, in milliseconds of virtual time.
    pub at_ms: u32,
    /// `spark.cores.max`.
    pub cores_max: Option<u32>,
    /// `spark.executor.cores` (Spark's default on Mesos: every core of an offer,
    /// which the simulator, like Spark, bounds by `spark.cores.max`).
    pub executor_cores: Option<u32>,
    /// `spark.executor.memory`, MiB (Spark's default: 1g).
    pub executor_memory_mib: Option<u32>,
    /// `spark.mesos.driver.failoverTimeout`, seconds (Spark's default: 0).
    pub failover_timeout_s: Option<u32>,
    /// `spark.mesos.constraints=rack:r<n>`.
    pub rack: Option<u8>,
    /// The jobs the application runs, one after the other.
    pub jobs: Vec<JobGen>,
}

/// One Spark job: a DAG of stages.
#[derive(Clone, Debug)]
pub struct JobGen {
    /// In order; without `fan_in`, each reads the one before it.
    pub stages: Vec<StageGen>,
    /// With three stages: the second starts a new branch (`parents = []`)
    /// and the third reads both (`parents = [0, 1]`), a join.
    pub fan_in: bool,
}

/// One stage: `tasks` tasks, each running for a sampled `duration`.
#[derive(Clone, Debug)]
pub struct StageGen {
    pub tasks: u32,
    pub duration: DurGen,
}

/// A task duration distribution, in milliseconds.
#[derive(Clone, Debug)]
pub enum DurGen {
    /// Always this long.
    Fixed(u32),
    /// Uniform between the two.
    Uniform(u32, u32),
    /// Exponential with this mean.
    Exponential(u32),
}

/// One fault of the scenario language's `[[faults]]` vocabulary.
#[derive(Clone, Debug)]
pub enum FaultGen {
    /// `kill = "agent-<n>"` at `at_s`, restarted `restart_s` later.
    KillAgent { agent: Index, at_s: u32, restart_s: u32 },
    /// `kill = "master"`: a master failover.
    KillMaster { at_s: u32, restart_s: u32 },
    /// `kill = "driver:<app>"`, `after_s` after the app's spark-submit.
    KillDriver { app: Index, after_s: u32, restart_s: u32 },
    /// `kill = "executor:<app>/<id>"` (an id never launched finds nothing).
    KillExecutor { app: Index, id: u8, at_s: u32 },
    /// `partition = [[agents…], ["master"]]` that heals after `heal_s`.
    PartitionAgents { agents: Vec<Index>, at_s: u32, heal_s: u32, one_way: bool },
    /// `partition = ["driver:<app>", "master"]`, `after_s` after its spark-submit.
    PartitionDriver { app: Index, after_s: u32, heal_s: u32, one_way: bool },
    /// `disconnect = [a, b]`: one connection breaks; its ends notice.
    Disconnect { link: LinkGen, at_s: u32 },
    /// `drop` / `duplicate` / `delay` / `hold` of one message kind
    /// ([`MESSAGE_KINDS`]) between its natural sender and receiver, narrowed
    /// to one agent or app by `scope` (`None`: every one), in the window
    /// `after_s .. after_s + window_s`.
    Message { action: ActionGen, kind: Index, scope: Option<Index>, pick: PickGen, after_s: u32, window_s: u32 },
    /// `slow = "driver:<app>"`: the driver thinks `think_ms` per offer in the window.
    Slow { app: Index, think_ms: u32, after_s: u32, window_s: u32 },
}

/// The connection a [`FaultGen::Disconnect`] breaks.
#[derive(Clone, Debug)]
pub enum LinkGen {
    MasterAgent(Index),
    MasterDriver(Index),
    /// An app's driver and its executor `<id>`.
    DriverExecutor(Index, u8),
    /// An agent and an app's executor `<id>`.
    AgentExecutor(Index, Index, u8),
}

/// What a [`FaultGen::Message`] does to the messages it picks.
#[derive(Clone, Copy, Debug)]
pub enum ActionGen {
    Drop,
    Duplicate,
    /// By this many seconds.
    Delay(u32),
    /// Held until this many seconds after the window closes.
    Hold(u32),
}

/// Which messages of its kind a [`FaultGen::Message`] picks.
#[derive(Clone, Copy, Debug)]
pub enum PickGen {
    /// `nth = n`.
    Nth(u32),
    /// `first = n`.
    First(u32),
    /// `every = true`.
    Every,
    /// `probability = p / 100`.
    Probability(u32),
}

// ---------------------------------------------------------------------------
// Clusters and workloads
// ---------------------------------------------------------------------------

/// An agent: 2–16 cpus, 2–32 GiB, maybe a `rack` attribute (r1–r3), and
/// Spark installed nine times in ten.
pub fn agent() -> impl Strategy<Value = AgentGen> {
    (2u32..=16, 2u32..=32, proptest::option::of(1u8..=3), proptest::bool::weighted(0.9))
        .prop_map(|(cpus, mem_gib, rack, spark_installed)| AgentGen { cpus, mem_gib, rack, spark_installed })
}

/// A cluster's agents: 1–6 of [`agent`].
pub fn agents() -> impl Strategy<Value = Vec<AgentGen>> {
    proptest::collection::vec(agent(), 1..=6)
}

/// A task duration: fixed 10 ms–1 s, uniform within 10 ms–1 s, or exponential
/// with a mean of 20–500 ms.
pub fn duration() -> impl Strategy<Value = DurGen> {
    prop_oneof![
        (10u32..=1000).prop_map(DurGen::Fixed),
        (10u32..=500, 0u32..=500).prop_map(|(lo, extra)| DurGen::Uniform(lo, lo + extra)),
        (20u32..=500).prop_map(DurGen::Exponential),
    ]
}

/// A stage of 1–60 tasks of one [`duration`].
pub fn stage() -> impl Strategy<Value = StageGen> {
    (1u32..=60, duration()).prop_map(|(tasks, duration)| StageGen { tasks, duration })
}

/// A job of 1–3 [`stage`]s in a chain, or (with three) a two-branch join.
pub fn job() -> impl Strategy<Value = JobGen> {
    (proptest::collection::vec(stage(), 1..=3), any::<bool>())
        .prop_map(|(stages, fan_in)| JobGen { fan_in: fan_in && stages.len() == 3, stages })
}

/// Executor memory sizes from small to larger than any agent.
const EXECUTOR_MEMORY_MIB: &[u32] = &[512, 1024, 1536, 2048, 3072, 4096, 6144, 8192, 12288, 16384, 24576, 31744];

/// Mostly sizes most agents fit; sometimes one that only big agents (or none) fit.
fn executor_memory_mib() -> impl Strategy<Value = u32> {
    prop_oneof![
        3 => proptest::sample::select(&EXECUTOR_MEMORY_MIB[..6]),
        1 => proptest::sample::select(EXECUTOR_MEMORY_MIB),
    ]
}

/// A Spark app submitted in the first 90 s, with `spark.cores.max`,
/// `spark.executor.cores`, `spark.executor.memory`,
/// `spark.mesos.driver.failoverTimeout` and a rack constraint each set or
/// not, running 1–2 [`job`]s.
pub fn app() -> impl Strategy<Value = AppGen> {
    (
        0u32..=90_000,
        proptest::option::of(1u32..=24),
        proptest::option::of(1u32..=8),
        proptest::option::of(executor_memory_mib()),
        proptest::option::of(proptest::sample::select(&[30u32, 120, 600][..])),
        proptest::option::weighted(0.25, 1u8..=3),
        proptest::collection::vec(job(), 1..=2),
    )
        .prop_map(|(at_ms, cores_max, executor_cores, executor_memory_mib, failover_timeout_s, rack, jobs)| {
            AppGen { at_ms, cores_max, executor_cores, executor_memory_mib, failover_timeout_s, rack, jobs }
        })
}

/// A workload: 1–3 of [`app`].
pub fn apps() -> impl Strategy<Value = Vec<AppGen>> {
    proptest::collection::vec(app(), 1..=3)
}

// ---------------------------------------------------------------------------
// Faults
// ---------------------------------------------------------------------------

/// The times faults are drawn in: no fault starts later than
/// `last_start_s` (seconds from the start of the run, or from its
/// framework's start for driver faults), and none lasts longer than
/// `longest_s`. Each family keeps its own bounds under these caps;
/// [`Window::PROPS`] caps nothing (the cluster property test's schedules).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub last_start_s: u32,
    pub longest_s: u32,
}

impl Window {
    /// No cap: every family's own bounds (every fault over by 8 min).
    pub const PROPS: Window = Window { last_start_s: 240, longest_s: 240 };
}

/// `lo..=hi`, capped at `cap` but never empty (a value past the cap is then
/// for the caller's filter to refuse).
fn upto(lo: u32, hi: u32, cap: u32) -> RangeInclusive<u32> {
    lo..=hi.min(cap).max(lo)
}

/// When a kill, partition or disconnect starts, seconds.
fn at(w: Window) -> RangeInclusive<u32> {
    upto(5, 240, w.last_start_s)
}

/// How long a killed actor stays dead, seconds.
fn back(w: Window) -> RangeInclusive<u32> {
    upto(5, 180, w.longest_s)
}

/// Kill an agent at 5–240 s; it restarts 5–180 s later.
pub fn kill_agent() -> impl Strategy<Value = FaultGen> {
    kill_agent_in(Window::PROPS)
}

/// [`kill_agent`] within `w`.
pub fn kill_agent_in(w: Window) -> impl Strategy<Value = FaultGen> {
    (any::<Index>(), at(w), back(w)).prop_map(|(agent, at_s, restart_s)| FaultGen::KillAgent { agent, at_s, restart_s })
}

/// Kill the master at 5–240 s; it restarts 5–180 s later.
pub fn kill_master() -> impl Strategy<Value = FaultGen> {
    kill_master_in(Window::PROPS)
}

/// [`kill_master`] within `w`.
pub fn kill_master_in(w: Window) -> impl Strategy<Value = FaultGen> {
    (at(w), back(w)).prop_map(|(at_s, restart_s)| FaultGen::KillMaster { at_s, restart_s })
}

/// Kill a driver 1–120 s after its spark-submit; it restarts 5–180 s later.
pub fn kill_driver() -> impl Strategy<Value = FaultGen> {
    kill_driver_in(Window::PROPS)
}

/// [`kill_driver`] within `w`.
pub fn kill_driver_in(w: Window) -> impl Strategy<Value = FaultGen> {
    (any::<Index>(), upto(1, 120, w.last_start_s), back(w)).prop_map(|(app, after_s, restart_s)| FaultGen::KillDriver {
        app,
        after_s,
        restart_s,
    })
}

/// Kill executor 0–3 of an app at 5–240 s.
pub fn kill_executor() -> impl Strategy<Value = FaultGen> {
    kill_executor_in(Window::PROPS)
}

/// [`kill_executor`] within `w`.
pub fn kill_executor_in(w: Window) -> impl Strategy<Value = FaultGen> {
    (any::<Index>(), 0u8..=3, at(w)).prop_map(|(app, id, at_s)| FaultGen::KillExecutor { app, id, at_s })
}

/// Cut 1–2 agents off from the master for 10–240 s, mostly long enough
/// (≥ 120 s) for the master to mark them unreachable.
pub fn partition_agents() -> impl Strategy<Value = FaultGen> {
    partition_agents_in(Window::PROPS)
}

/// [`partition_agents`] within `w`.
pub fn partition_agents_in(w: Window) -> impl Strategy<Value = FaultGen> {
    let heal = prop_oneof![1 => 10u32..LONG_PARTITION_S, 3 => upto(LONG_PARTITION_S, 240, w.longest_s)];
    (proptest::collection::vec(any::<Index>(), 1..=2), at(w), heal, any::<bool>())
        .prop_map(|(agents, at_s, heal_s, one_way)| FaultGen::PartitionAgents { agents, at_s, heal_s, one_way })
}

/// Cut a driver off from the master 1–120 s after its spark-submit, for 5–180 s.
pub fn partition_driver() -> impl Strategy<Value = FaultGen> {
    partition_driver_in(Window::PROPS)
}

/// [`partition_driver`] within `w`.
pub fn partition_driver_in(w: Window) -> impl Strategy<Value = FaultGen> {
    (any::<Index>(), upto(1, 120, w.last_start_s), back(w), any::<bool>())
        .prop_map(|(app, after_s, heal_s, one_way)| FaultGen::PartitionDriver { app, after_s, heal_s, one_way })
}

/// Break one connection of any kind at 5–240 s.
pub fn disconnect() -> impl Strategy<Value = FaultGen> {
    disconnect_in(Window::PROPS)
}

/// [`disconnect`] within `w`.
pub fn disconnect_in(w: Window) -> impl Strategy<Value = FaultGen> {
    (
        prop_oneof![
            any::<Index>().prop_map(LinkGen::MasterAgent),
            any::<Index>().prop_map(LinkGen::MasterDriver),
            (any::<Index>(), 0u8..=3).prop_map(|(a, i)| LinkGen::DriverExecutor(a, i)),
            (any::<Index>(), any::<Index>(), 0u8..=3).prop_map(|(g, a, i)| LinkGen::AgentExecutor(g, a, i)),
        ],
        at(w),
    )
        .prop_map(|(link, at_s)| FaultGen::Disconnect { link, at_s })
}

/// What a message fault does: mostly drop, sometimes duplicate, delay by
/// 1–30 s, or hold until 1–10 s after the window.
pub fn action() -> impl Strategy<Value = ActionGen> {
    prop_oneof![
        3 => Just(ActionGen::Drop),
        1 => Just(ActionGen::Duplicate),
        1 => (1u32..=30).prop_map(ActionGen::Delay),
        1 => (1u32..=10).prop_map(ActionGen::Hold),
    ]
}

/// Which messages a message fault picks: the nth or first 1–5, every one,
/// or each with probability 1–60 %.
pub fn pick() -> impl Strategy<Value = PickGen> {
    prop_oneof![
        (1u32..=5).prop_map(PickGen::Nth),
        (1u32..=5).prop_map(PickGen::First),
        Just(PickGen::Every),
        (1u32..=60).prop_map(PickGen::Probability),
    ]
}

/// A [`FaultGen::Message`] over any of [`MESSAGE_KINDS`], in a window that
/// opens within 200 s and lasts 1–120 s (a hold's at most 20 s).
pub fn message() -> impl Strategy<Value = FaultGen> {
    message_in(Window::PROPS)
}

/// [`message`] within `w`.
pub fn message_in(w: Window) -> impl Strategy<Value = FaultGen> {
    (
        action(),
        any::<Index>(),
        proptest::option::of(any::<Index>()),
        pick(),
        upto(0, 200, w.last_start_s),
        upto(1, 120, w.longest_s),
    )
        .prop_map(|(action, kind, scope, pick, after_s, window_s)| {
            // A hold keeps what it picks until `window + hold` after the
            // window opens: at most 30 s, as a delay.
            let window_s = if let ActionGen::Hold(_) = action { window_s.min(20) } else { window_s };
            FaultGen::Message { action, kind, scope, pick, after_s, window_s }
        })
}

/// A driver thinking 0.1–5 s per offer for 10–180 s, within 120 s of the start.
pub fn slow() -> impl Strategy<Value = FaultGen> {
    slow_in(Window::PROPS)
}

/// [`slow`] within `w`.
pub fn slow_in(w: Window) -> impl Strategy<Value = FaultGen> {
    (any::<Index>(), 100u32..=5000, upto(0, 120, w.last_start_s), upto(10, 180, w.longest_s))
        .prop_map(|(app, think_ms, after_s, window_s)| FaultGen::Slow { app, think_ms, after_s, window_s })
}

/// A kill (with restart) of an agent, the master or a driver, or an executor kill.
pub fn kill() -> impl Strategy<Value = FaultGen> {
    prop_oneof![3 => kill_agent(), 2 => kill_master(), 2 => kill_driver(), 2 => kill_executor()]
}

/// Any fault the generator knows, weighted so that message faults (the
/// largest family) come most often. Every fault is over by 8 min.
pub fn fault() -> impl Strategy<Value = FaultGen> {
    fault_in(Window::PROPS)
}

/// [`fault`] within `w`: what `mesocosm chaos` draws from, with the
/// scenario's own convergence window.
pub fn fault_in(w: Window) -> impl Strategy<Value = FaultGen> {
    prop_oneof![
        3 => kill_agent_in(w),
        2 => kill_master_in(w),
        2 => kill_driver_in(w),
        2 => kill_executor_in(w),
        2 => partition_agents_in(w),
        1 => partition_driver_in(w),
        2 => disconnect_in(w),
        6 => message_in(w),
        1 => slow_in(w),
    ]
}

// ---------------------------------------------------------------------------
// Cases
// ---------------------------------------------------------------------------

/// A whole case with `faults` (a count range) of any [`fault`]: `0..=0` is a
/// healthy cluster.
pub fn case(faults: RangeInclusive<usize>) -> impl Strategy<Value = Case> {
    case_with(fault(), faults)
}

/// A whole case whose faults come from `fault`: [`agents`], [`apps`], maybe
/// `--offer_timeout` (150 or 300 s, one case in four), maybe `keep_running`.
/// Cases that kill an actor while it is already dead are filtered out (the
/// scenario checker refuses them).
pub fn case_with<F>(fault: F, faults: RangeInclusive<usize>) -> impl Strategy<Value = Case>
where
    F: Strategy<Value = FaultGen>,
{
    (
        any::<u64>(),
        any::<bool>(),
        proptest::option::weighted(0.25, proptest::sample::select(&[150u32, 300][..])),
        agents(),
        apps(),
        proptest::collection::vec(fault, faults),
    )
        .prop_map(|(seed, keep_running, offer_timeout_s, agents, apps, faults)| Case {
            seed,
            keep_running,
            offer_timeout_s,
            agents,
            apps,
            faults,
        })
        .prop_filter("no actor is killed while it is dead", |c| !c.kills_overlap())
}

// ---------------------------------------------------------------------------
// Names and times
// ---------------------------------------------------------------------------

impl Case {
    /// The name of agent `i` (0-based): `agent-<i + 1>`.
    pub fn agent_name(&self, i: usize) -> String {
        format!("agent-{}", i + 1)
    }

    /// The name of app `i` (0-based): `app-<i + 1>`; its driver is `driver:app-<i + 1>`.
    pub fn app_name(&self, i: usize) -> String {
        format!("app-{}", i + 1)
    }

    /// The agent an index picks.
    pub fn agent(&self, ix: &Index) -> usize {
        ix.index(self.agents.len())
    }

    /// The app an index picks.
    pub fn app(&self, ix: &Index) -> usize {
        ix.index(self.apps.len())
    }

    /// The app's spark-submit time in whole seconds, rounded up, so a fault
    /// "after" it never precedes it.
    pub fn submit_s(&self, app: usize) -> u32 {
        self.apps[app].at_ms.div_ceil(1000)
    }

    /// Whether two kills of one actor overlap (the scenario checker rejects
    /// killing an actor that is already dead).
    pub fn kills_overlap(&self) -> bool {
        self.targets().kills_overlap(&self.faults)
    }

    /// The kind a [`FaultGen::Message`]'s index picks.
    pub fn message_kind(ix: &Index) -> &'static super::model::MessageKind {
        &MESSAGE_KINDS[ix.index(MESSAGE_KINDS.len())]
    }
}
