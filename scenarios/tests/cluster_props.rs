//! Whole-cluster properties over random clusters, workloads and fault schedules.
//!
//! Proptest generates a [`Case`]: 1–6 agents (2–16 cpus, 2–32 GiB, maybe a
//! `rack` attribute, rarely no Spark installed), 1–3 Spark apps submitted in
//! the first 90 s (`spark.cores.max`, `spark.executor.cores`,
//! `spark.executor.memory`, `spark.mesos.driver.failoverTimeout` and a rack
//! constraint, each set or not; 1–2 jobs of 1–3 stages of 1–60 short tasks,
//! sometimes a two-branch join), maybe `--offer_timeout`, maybe `keep_running`,
//! and up to four faults: kills with restarts of agents, the master and
//! drivers, executor kills, agent and driver partitions that heal, disconnects
//! of every connection kind, drop / duplicate / delay / hold of ~30 message
//! kinds by `nth`, `first`, `every` or `probability`, and slow frameworks. Every
//! fault is over by 8 min; runs stop at 45 min.
//!
//! The case is rendered as a real scenario file (the TOML a user writes),
//! parsed by `mesocosm::scenario::parse` and run twice on the memory transport.
//! Every run must satisfy:
//!
//! 1. **invariants**: no per-step actor invariant and no message-log invariant
//!    fails (`report.checks`, minus the runner's implicit "app finishes" check
//!    for the apps the model below lets fail: the language has no "may fail");
//! 2. **liveness**: every app that *must* finish exits 0. Whether an app must
//!    finish is decided conservatively from the generated numbers, by
//!    [`Model::new`]: some agent that no fault can take from it fits one of its
//!    executors, and no fault can legitimately end or wedge it (each rule says
//!    which Mesos or Spark behaviour makes the exception). The rendered TOML
//!    states it as `[[expect]] app = … finishes = true`, so a failing case's
//!    file checks itself;
//! 3. **replay**: both runs print the same summary, byte for byte, digest included.
//!
//! A failing case is shrunk by proptest; the minimal one is printed in full, with
//! its seed, and written to `$CARGO_TARGET_TMPDIR/cluster-props-failure-<property>-<seed>.toml`;
//! the printed `cargo run --release -p mesocosm -- run <file> --transport memory`
//! replays it (see [`scenario_path`] for why it must be a file of that name).
//! The minimal cases behind past failures are kept as tests in
//! `cluster_regressions.rs`.
//!
//! The number of cases is [`CASES`] per property unless `PROPTEST_CASES` is set;
//! the RNG seed is fixed unless `PROPTEST_RNG_SEED` is set. Measured on two
//! cores: the whole file takes about 40 s in the debug profile (a case runs in
//! 0.25–0.35 s, both runs included; the two properties run in parallel) and
//! about 3 s in release. Far beyond CI's count, e.g.
//! `PROPTEST_CASES=1500 PROPTEST_RNG_SEED=1 cargo test --release -p mesocosm --test cluster_props faulty`,
//! a seed took about 24 min with three seeds in parallel on two cores shared
//! with other builds (1000 cases of both properties: 9–10 min).

use mesocosm::runner::{self, Report, RunOptions};
use mesocosm::scenario;
use mesocosm_sim::Transport;
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::strategy::ValueTree;
use proptest::test_runner::{RngSeed, TestError, TestRunner};
use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Cases per property when `PROPTEST_CASES` is not set: about 35 s of the
/// debug profile's 60 s budget (see the module docs).
const CASES: u32 = 96;

/// The virtual-time limit of every generated run. Faults end by 8 min; the
/// largest workload (3 apps × 2 jobs × 3 stages × 60 tasks of ≤ 1 s, one core
/// each, after each other) needs about 18 min more.
const UNTIL_MIN: u64 = 45;

/// Spark's `spark.task.maxFailures` default: a task that failed this often aborts its job.
const TASK_MAX_FAILURES: u32 = 4;

/// Spark's `MAX_AGENT_FAILURES`: an agent where two executors failed is never used again.
const MAX_AGENT_FAILURES: u32 = 2;

/// Mesos's `--max_agent_ping_timeouts` default: this many pings missed in a row
/// make an agent unreachable.
const MAX_PING_TIMEOUTS: u32 = 5;

/// An agent partition at least this long certainly ends with the agent marked
/// unreachable (5 missed pings × 15 s, plus one ping interval), so every task
/// there becomes TASK_LOST.
const LONG_PARTITION_S: u32 = 120;

/// Why an app capped by `spark.cores.max` may not finish once its scheduler
/// link to the master breaks.
const GHOST_ACCEPT: &str = "an ACCEPT lost with the master leaves Spark counting cores of executors that never start, \
against spark.cores.max";

/// "Unbounded" for the counts below.
const MANY: u32 = u32::MAX;

// ---------------------------------------------------------------------------
// What is generated
// ---------------------------------------------------------------------------

#[derive(Clone, Debug)]
struct Case {
    seed: u64,
    /// `keep_running`: run to `until` rather than stop once the apps are done
    /// and the last fault is over.
    keep_running: bool,
    /// `[master] offer_timeout`, seconds (Mesos default: none).
    offer_timeout_s: Option<u32>,
    agents: Vec<AgentGen>,
    apps: Vec<AppGen>,
    faults: Vec<FaultGen>,
}

#[derive(Clone, Debug)]
struct AgentGen {
    cpus: u32,
    mem_gib: u32,
    /// `--attributes=rack:r<n>`.
    rack: Option<u8>,
    /// `spark_installed = false`: every executor started there fails.
    spark_installed: bool,
}

#[derive(Clone, Debug)]
struct AppGen {
    at_ms: u32,
    cores_max: Option<u32>,
    executor_cores: Option<u32>,
    /// `spark.executor.memory`, MiB (Spark's default: 1g).
    executor_memory_mib: Option<u32>,
    /// `spark.mesos.driver.failoverTimeout`, seconds (Spark's default: 0).
    failover_timeout_s: Option<u32>,
    /// `spark.mesos.constraints=rack:r<n>`.
    rack: Option<u8>,
    jobs: Vec<JobGen>,
}

#[derive(Clone, Debug)]
struct JobGen {
    stages: Vec<StageGen>,
    /// With three stages: the second starts a new branch (`parents = []`)
    /// and the third reads both (`parents = [0, 1]`), a join.
    fan_in: bool,
}

#[derive(Clone, Debug)]
struct StageGen {
    tasks: u32,
    duration: DurGen,
}

#[derive(Clone, Debug)]
enum DurGen {
    Fixed(u32),
    Uniform(u32, u32),
    Exponential(u32),
}

#[derive(Clone, Debug)]
enum FaultGen {
    KillAgent {
        agent: Index,
        at_s: u32,
        restart_s: u32,
    },
    KillMaster {
        at_s: u32,
        restart_s: u32,
    },
    /// `after_s` after the app's spark-submit.
    KillDriver {
        app: Index,
        after_s: u32,
        restart_s: u32,
    },
    KillExecutor {
        app: Index,
        id: u8,
        at_s: u32,
    },
    PartitionAgents {
        agents: Vec<Index>,
        at_s: u32,
        heal_s: u32,
        one_way: bool,
    },
    PartitionDriver {
        app: Index,
        after_s: u32,
        heal_s: u32,
        one_way: bool,
    },
    Disconnect {
        link: LinkGen,
        at_s: u32,
    },
    Message {
        action: ActionGen,
        kind: Index,
        scope: Option<Index>,
        pick: PickGen,
        after_s: u32,
        window_s: u32,
    },
    Slow {
        app: Index,
        think_ms: u32,
        after_s: u32,
        window_s: u32,
    },
}

#[derive(Clone, Debug)]
enum LinkGen {
    MasterAgent(Index),
    MasterDriver(Index),
    DriverExecutor(Index, u8),
    AgentExecutor(Index, Index, u8),
}

#[derive(Clone, Copy, Debug)]
enum ActionGen {
    Drop,
    Duplicate,
    /// By this many seconds.
    Delay(u32),
    /// Held until this many seconds after the window closes.
    Hold(u32),
}

#[derive(Clone, Copy, Debug)]
enum PickGen {
    Nth(u32),
    First(u32),
    Every,
    /// Percent.
    Probability(u32),
}

// ---------------------------------------------------------------------------
// The message kinds faults pick from, and what losing one does
// ---------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    Master,
    Agent,
    Driver,
    Executor,
}

/// What happens when a message of a kind is lost.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Loss {
    /// Nothing lasting: someone retries it (SUBSCRIBE, agent registration,
    /// status updates until acknowledged), a timeout or the next exchange
    /// replaces it, or its receiver ignores it anyway (Spark ignores RESCIND,
    /// FAILURE, HEARTBEAT; a lost StopExecutor ends with the shutdown timeout
    /// and TEARDOWN).
    Recovered,
    /// Master→agent pings and their pongs: fewer than
    /// `max_agent_ping_timeouts` (5) lost in a row are harmless; more make
    /// the agent unreachable and every task on it TASK_LOST.
    Ping,
    /// An executor's ask to its driver (or the answer): the ask times out after
    /// `spark.rpc.askTimeout`, the executor exits 1 and its Mesos task is
    /// TASK_FAILED, one failure against its agent (likewise an executor's
    /// SUBSCRIBE to its agent, after `--executor_registration_timeout`).
    ExecutorAsk,
    /// Executor heartbeats: the driver expires an executor only after
    /// `spark.network.timeout` (120 s, 12 heartbeats) of silence.
    Heartbeat,
    /// Offers, the DECLINE that returns one, and the SUBSCRIBED before them
    /// (libmesos ignores OFFERS that arrive before SUBSCRIBED, and the master
    /// answers a retried SUBSCRIBE without taking them back): without
    /// `--offer_timeout`, nothing makes the master take back an offer that is
    /// never answered, so its resources stay offered forever (with it, they
    /// are rescinded).
    Offer,
    /// Nobody notices: a lost ACCEPT leaves Spark counting the cores of
    /// executors that never start (Spark's coarse backend never reconciles);
    /// a lost RunTaskMessage leaves the master's task STAGING forever; a lost
    /// LaunchTask or Spark StatusUpdate leaves a Spark task running forever
    /// (Spark's RPC assumes TCP); a lost LaunchedExecutor leaves the executor
    /// unused; a lost ExitedExecutorMessage keeps the executor's resources.
    /// Resources or a stage stay pinned, so any app may wait forever.
    Wedges,
}

struct KindInfo {
    kind: &'static str,
    from: Role,
    to: Role,
    loss: Loss,
}

const fn k(kind: &'static str, from: Role, to: Role, loss: Loss) -> KindInfo {
    KindInfo { kind, from, to, loss }
}

use Loss::*;
use Role::*;

/// Every message a fault may pick, with its natural sender and receiver (the
/// rendered fault always names both, so e.g. `UPDATE` means the master's event
/// to a driver, not an executor's call to its agent).
const KINDS: &[KindInfo] = &[
    k("SUBSCRIBE", Driver, Master, Recovered),
    k("SUBSCRIBED", Master, Driver, Offer),
    k("OFFERS", Master, Driver, Offer),
    k("ACCEPT", Driver, Master, Wedges),
    k("DECLINE", Driver, Master, Offer),
    k("REVIVE", Driver, Master, Recovered),
    k("ACKNOWLEDGE", Driver, Master, Recovered),
    k("UPDATE", Master, Driver, Recovered),
    k("RESCIND", Master, Driver, Recovered),
    k("FAILURE", Master, Driver, Recovered),
    k("HEARTBEAT", Master, Driver, Recovered),
    k("TEARDOWN", Driver, Master, Recovered),
    k("RegisterSlaveMessage", Agent, Master, Recovered),
    k("SlaveRegisteredMessage", Master, Agent, Recovered),
    k("ReregisterSlaveMessage", Agent, Master, Recovered),
    k("SlaveReregisteredMessage", Master, Agent, Recovered),
    k("RunTaskMessage", Master, Agent, Wedges),
    k("StatusUpdateMessage", Agent, Master, Recovered),
    k("StatusUpdateAcknowledgementMessage", Master, Agent, Recovered),
    k("PingSlaveMessage", Master, Agent, Ping),
    k("PongSlaveMessage", Agent, Master, Ping),
    k("ShutdownFrameworkMessage", Master, Agent, Recovered),
    k("ExitedExecutorMessage", Agent, Master, Wedges),
    k("RetrieveSparkAppConfig", Executor, Driver, ExecutorAsk),
    k("SparkAppConfig", Driver, Executor, ExecutorAsk),
    k("RegisterExecutor", Executor, Driver, ExecutorAsk),
    k("RegisterExecutorResponse", Driver, Executor, ExecutorAsk),
    k("LaunchedExecutor", Executor, Driver, Wedges),
    k("LaunchTask", Driver, Executor, Wedges),
    k("StatusUpdate", Executor, Driver, Wedges),
    k("StopExecutor", Driver, Executor, Recovered),
    // The executor API: a lost executor SUBSCRIBE ends with the agent's
    // --executor_registration_timeout (1 min) failing the task.
    k("SUBSCRIBE", Executor, Agent, ExecutorAsk),
    k("Heartbeat", Executor, Driver, Heartbeat),
];

// ---------------------------------------------------------------------------
// Strategies
// ---------------------------------------------------------------------------

fn agent() -> impl Strategy<Value = AgentGen> {
    (2u32..=16, 2u32..=32, proptest::option::of(1u8..=3), proptest::bool::weighted(0.9))
        .prop_map(|(cpus, mem_gib, rack, spark_installed)| AgentGen { cpus, mem_gib, rack, spark_installed })
}

fn duration() -> impl Strategy<Value = DurGen> {
    prop_oneof![
        (10u32..=1000).prop_map(DurGen::Fixed),
        (10u32..=500, 0u32..=500).prop_map(|(lo, extra)| DurGen::Uniform(lo, lo + extra)),
        (20u32..=500).prop_map(DurGen::Exponential),
    ]
}

fn stage() -> impl Strategy<Value = StageGen> {
    (1u32..=60, duration()).prop_map(|(tasks, duration)| StageGen { tasks, duration })
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

fn app() -> impl Strategy<Value = AppGen> {
    (
        0u32..=90_000,
        proptest::option::of(1u32..=24),
        proptest::option::of(1u32..=8),
        proptest::option::of(executor_memory_mib()),
        proptest::option::of(proptest::sample::select(&[30u32, 120, 600][..])),
        proptest::option::weighted(0.25, 1u8..=3),
        proptest::collection::vec(
            (proptest::collection::vec(stage(), 1..=3), any::<bool>())
                .prop_map(|(stages, fan_in)| JobGen { fan_in: fan_in && stages.len() == 3, stages }),
            1..=2,
        ),
    )
        .prop_map(|(at_ms, cores_max, executor_cores, executor_memory_mib, failover_timeout_s, rack, jobs)| {
            AppGen { at_ms, cores_max, executor_cores, executor_memory_mib, failover_timeout_s, rack, jobs }
        })
}

fn action() -> impl Strategy<Value = ActionGen> {
    prop_oneof![
        3 => Just(ActionGen::Drop),
        1 => Just(ActionGen::Duplicate),
        1 => (1u32..=30).prop_map(ActionGen::Delay),
        1 => (1u32..=10).prop_map(ActionGen::Hold),
    ]
}

fn pick() -> impl Strategy<Value = PickGen> {
    prop_oneof![
        (1u32..=5).prop_map(PickGen::Nth),
        (1u32..=5).prop_map(PickGen::First),
        Just(PickGen::Every),
        (1u32..=60).prop_map(PickGen::Probability),
    ]
}

fn fault() -> impl Strategy<Value = FaultGen> {
    let at = 5u32..=240;
    let back = 5u32..=180;
    // Mostly long enough for the master to mark the agents unreachable (see LONG_PARTITION_S).
    let heal = prop_oneof![1 => 10u32..LONG_PARTITION_S, 3 => LONG_PARTITION_S..=240];
    prop_oneof![
        3 => (any::<Index>(), at.clone(), back.clone())
            .prop_map(|(agent, at_s, restart_s)| FaultGen::KillAgent { agent, at_s, restart_s }),
        2 => (at.clone(), back.clone()).prop_map(|(at_s, restart_s)| FaultGen::KillMaster { at_s, restart_s }),
        2 => (any::<Index>(), 1u32..=120, back.clone())
            .prop_map(|(app, after_s, restart_s)| FaultGen::KillDriver { app, after_s, restart_s }),
        2 => (any::<Index>(), 0u8..=3, at.clone()).prop_map(|(app, id, at_s)| FaultGen::KillExecutor { app, id, at_s }),
        2 => (proptest::collection::vec(any::<Index>(), 1..=2), at.clone(), heal, any::<bool>()).prop_map(
            |(agents, at_s, heal_s, one_way)| FaultGen::PartitionAgents { agents, at_s, heal_s, one_way }
        ),
        1 => (any::<Index>(), 1u32..=120, back, any::<bool>()).prop_map(|(app, after_s, heal_s, one_way)| {
            FaultGen::PartitionDriver { app, after_s, heal_s, one_way }
        }),
        2 => (
            prop_oneof![
                any::<Index>().prop_map(LinkGen::MasterAgent),
                any::<Index>().prop_map(LinkGen::MasterDriver),
                (any::<Index>(), 0u8..=3).prop_map(|(a, i)| LinkGen::DriverExecutor(a, i)),
                (any::<Index>(), any::<Index>(), 0u8..=3).prop_map(|(g, a, i)| LinkGen::AgentExecutor(g, a, i)),
            ],
            at.clone()
        )
            .prop_map(|(link, at_s)| FaultGen::Disconnect { link, at_s }),
        6 => (action(), any::<Index>(), proptest::option::of(any::<Index>()), pick(), 0u32..=200, 1u32..=120).prop_map(
            |(action, kind, scope, pick, after_s, window_s)| {
                // A hold keeps what it picks until `window + hold` after the
                // window opens: at most 30 s, as a delay.
                let window_s = if let ActionGen::Hold(_) = action { window_s.min(20) } else { window_s };
                FaultGen::Message { action, kind, scope, pick, after_s, window_s }
            }
        ),
        1 => (any::<Index>(), 100u32..=5000, 0u32..=120, 10u32..=180)
            .prop_map(|(app, think_ms, after_s, window_s)| FaultGen::Slow { app, think_ms, after_s, window_s }),
    ]
}

fn case(faults: std::ops::RangeInclusive<usize>) -> impl Strategy<Value = Case> {
    (
        any::<u64>(),
        any::<bool>(),
        proptest::option::weighted(0.25, proptest::sample::select(&[150u32, 300][..])),
        proptest::collection::vec(agent(), 1..=6),
        proptest::collection::vec(app(), 1..=3),
        proptest::collection::vec(fault(), faults),
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
    fn agent_name(&self, i: usize) -> String {
        format!("agent-{}", i + 1)
    }

    fn app_name(&self, i: usize) -> String {
        format!("app-{}", i + 1)
    }

    fn agent(&self, ix: &Index) -> usize {
        ix.index(self.agents.len())
    }

    fn app(&self, ix: &Index) -> usize {
        ix.index(self.apps.len())
    }

    /// The app's spark-submit time in whole seconds, rounded up, so a fault
    /// "after" it never precedes it.
    fn submit_s(&self, app: usize) -> u32 {
        self.apps[app].at_ms.div_ceil(1000)
    }

    /// Every kill as (actor, from, until) in seconds; `None`: dead for good.
    fn kills(&self) -> Vec<(String, u32, Option<u32>)> {
        self.faults
            .iter()
            .filter_map(|f| match f {
                FaultGen::KillAgent { agent, at_s, restart_s } => {
                    Some((self.agent_name(self.agent(agent)), *at_s, Some(at_s + restart_s)))
                }
                FaultGen::KillMaster { at_s, restart_s } => Some(("master".into(), *at_s, Some(at_s + restart_s))),
                FaultGen::KillDriver { app, after_s, restart_s } => {
                    let a = self.app(app);
                    let at = self.submit_s(a) + after_s;
                    Some((format!("driver:{}", self.app_name(a)), at, Some(at + restart_s)))
                }
                FaultGen::KillExecutor { app, id, at_s } => {
                    Some((format!("executor:{}/{id}", self.app_name(self.app(app))), *at_s, None))
                }
                _ => None,
            })
            .collect()
    }

    /// Whether two kills of one actor overlap (the scenario checker rejects
    /// killing an actor that is already dead).
    fn kills_overlap(&self) -> bool {
        let kills = self.kills();
        // Dead from `from` to `until` (inclusive: a kill at the instant of a
        // restart would race with it).
        let dead_at = |t: u32, from: u32, until: Option<u32>| t >= from && until.is_none_or(|u| t <= u);
        kills.iter().enumerate().any(|(i, (a, from, until))| {
            kills[i + 1..]
                .iter()
                .any(|(b, from2, until2)| a == b && (dead_at(*from2, *from, *until) || dead_at(*from, *from2, *until2)))
        })
    }
}

fn dur(ms: u32) -> String {
    if ms.is_multiple_of(1000) { format!("{}s", ms / 1000) } else { format!("{ms}ms") }
}

fn executor_memory(mib: u32) -> String {
    if mib.is_multiple_of(1024) { format!("{}g", mib / 1024) } else { format!("{mib}m") }
}

// ---------------------------------------------------------------------------
// The model: which apps must finish
// ---------------------------------------------------------------------------

/// What the faults of a case can do to its apps, and so which apps must finish.
struct Model {
    /// Per app: `None` if it must finish, else why it may not.
    may_fail: Vec<Option<String>>,
    /// Per app: why it must finish (for the TOML's comments).
    must: Vec<String>,
}

/// Counts that saturate at [`MANY`].
fn add(a: &mut u32, n: u32) {
    *a = a.saturating_add(n);
}

impl Model {
    fn new(c: &Case) -> Model {
        let n = c.apps.len();
        // Every app may fail, and why (a fault that can pin resources or wedge a stage).
        let mut cluster: Option<String> = None;
        // Per app: why it may exit non-zero (releasing what it held).
        let mut app: Vec<Option<String>> = vec![None; n];
        // Agents where any number of executors may fail (Spark stops using an
        // agent after MAX_AGENT_FAILURES): they do not count as room for an app.
        let mut tainted: BTreeSet<usize> = BTreeSet::new();
        // Per app: executor failures on agents nobody can predict.
        let mut stray = vec![0u32; n];
        // Per app: fault events that can each fail a running task once.
        let mut events = vec![0u32; n];
        let all: Vec<usize> = (0..n).collect();
        let mut wedge = |why: String| {
            cluster.get_or_insert(why);
        };

        // When a master is down. A master that dies while an agent is dead,
        // cut off or disconnected never marks it gone, and its successor never
        // knew its tasks: an executor that died, or whose RunTaskMessage was
        // lost, gets no TASK_LOST, and Spark (which never reconciles) holds
        // its cores for ever.
        let master_down: Vec<(u32, u32)> = c
            .faults
            .iter()
            .filter_map(|f| match f {
                FaultGen::KillMaster { at_s, restart_s } => Some((*at_s, at_s + restart_s)),
                _ => None,
            })
            .collect();
        let mut agent_trouble = |from: u32, until: u32, what: String| {
            if master_down.iter().any(|(k, r)| *k <= until && from <= *r) {
                wedge(format!("the master dies while {what}"));
            }
        };
        for f in &c.faults {
            match f {
                FaultGen::KillAgent { agent, at_s, restart_s } => {
                    agent_trouble(*at_s, at_s + restart_s, format!("{} is dead", c.agent_name(c.agent(agent))))
                }
                FaultGen::PartitionAgents { at_s, heal_s, .. } => {
                    agent_trouble(*at_s, at_s + heal_s, "agents are cut off".to_string())
                }
                // The agent re-registers within seconds.
                FaultGen::Disconnect { link: LinkGen::MasterAgent(g), at_s } => {
                    agent_trouble(*at_s, at_s + 10, format!("{} is disconnected", c.agent_name(c.agent(g))))
                }
                _ => {}
            }
        }
        for f in &c.faults {
            match f {
                // The agent's executors are LOST at once (Spark does not
                // checkpoint, so Mesos does not wait for the agent to come back).
                FaultGen::KillAgent { agent, .. } => {
                    tainted.insert(c.agent(agent));
                    all.iter().for_each(|a| add(&mut events[*a], 1));
                }
                // A new leader: agents re-register with their tasks, drivers
                // re-subscribe with their framework ids. But an ACCEPT already on
                // its way to the dying master is lost, and Spark (which never
                // reconciles) counts the cores of those executors for ever: an
                // app capped by spark.cores.max may have none left to launch.
                FaultGen::KillMaster { .. } => {
                    for (i, a) in c.apps.iter().enumerate() {
                        if a.cores_max.is_some() {
                            app[i].get_or_insert(GHOST_ACCEPT.to_string());
                        }
                    }
                }
                // A restarted driver is a new SparkContext and a new framework
                // (SPARK-21502): it runs the whole app again, and the old
                // framework's executors die with the old driver, so nothing
                // about the kill itself may fail the app.
                FaultGen::KillDriver { .. } => {}
                // The executor's Mesos task fails on whichever agent it ran.
                FaultGen::KillExecutor { app: ix, .. } => {
                    let a = c.app(ix);
                    add(&mut stray[a], 1);
                    add(&mut events[a], 1);
                }
                // Long enough: unreachable, every task there LOST, like a kill.
                // Shorter: a RunTaskMessage lost in the cut leaves its task
                // STAGING at the master and "launching" in Spark for ever.
                FaultGen::PartitionAgents { agents, heal_s, .. } => {
                    if *heal_s >= LONG_PARTITION_S {
                        agents.iter().for_each(|g| {
                            tainted.insert(c.agent(g));
                        });
                        all.iter().for_each(|a| add(&mut events[*a], 1));
                    } else {
                        wedge(format!(
                            "an agent partition of {heal_s}s can lose a RunTaskMessage without making the agent unreachable"
                        ));
                    }
                }
                // Sockets stay open, so neither side notices: lost OFFERS stay
                // outstanding, a lost ACCEPT leaves Spark waiting for executors.
                FaultGen::PartitionDriver { app: ix, .. } => wedge(format!(
                    "{} is cut off from the master: its OFFERS and ACCEPTs are lost",
                    c.app_name(c.app(ix))
                )),
                FaultGen::Disconnect { link, .. } => match link {
                    // The master removes a non-checkpointing framework's tasks on
                    // a disconnected agent: TASK_LOST.
                    LinkGen::MasterAgent(g) => {
                        tainted.insert(c.agent(g));
                        all.iter().for_each(|a| add(&mut events[*a], 1));
                    }
                    // failover_timeout 0: the master removes the framework the
                    // moment its scheduler disconnects; the re-SUBSCRIBE gets
                    // ERROR. Otherwise an ACCEPT crossing the break is lost, as
                    // when the master dies.
                    LinkGen::MasterDriver(ix) => {
                        let a = c.app(ix);
                        let failover = c.apps[a].failover_timeout_s.unwrap_or(0);
                        if failover < 30 {
                            app[a].get_or_insert(format!(
                                "its scheduler connection breaks with spark.mesos.driver.failoverTimeout={failover}"
                            ));
                        } else if c.apps[a].cores_max.is_some() {
                            app[a].get_or_insert(GHOST_ACCEPT.to_string());
                        }
                    }
                    // The executor loses its driver (or agent) and exits: TASK_FAILED.
                    LinkGen::DriverExecutor(ix, _) | LinkGen::AgentExecutor(_, ix, _) => {
                        let a = c.app(ix);
                        add(&mut stray[a], 1);
                        add(&mut events[a], 1);
                    }
                },
                FaultGen::Message { action, kind, scope, pick, .. } => {
                    let info = &KINDS[kind.index(KINDS.len())];
                    let count = match pick {
                        PickGen::Nth(_) => 1,
                        PickGen::First(n) => *n,
                        PickGen::Every | PickGen::Probability(_) => MANY,
                    };
                    // The apps and agents the rule can touch.
                    let apps: Vec<usize> = match (scope, info.from, info.to) {
                        (Some(s), Driver | Executor, _) | (Some(s), _, Driver | Executor) => vec![c.app(s)],
                        _ => all.clone(),
                    };
                    let agents: Vec<usize> = match (scope, info.from, info.to) {
                        (Some(s), Agent, _) | (Some(s), _, Agent) => vec![c.agent(s)],
                        _ => (0..c.agents.len()).collect(),
                    };
                    match action {
                        ActionGen::Drop => match info.loss {
                            Recovered => {}
                            Ping if count < MAX_PING_TIMEOUTS => {}
                            Ping => {
                                tainted.extend(agents);
                                all.iter().for_each(|a| add(&mut events[*a], MANY));
                            }
                            ExecutorAsk => apps.iter().for_each(|a| {
                                add(&mut stray[*a], count);
                                add(&mut events[*a], count);
                            }),
                            Heartbeat if count < 12 => {}
                            Heartbeat => apps.iter().for_each(|a| {
                                add(&mut stray[*a], MANY);
                                add(&mut events[*a], MANY);
                            }),
                            Offer if c.offer_timeout_s.is_some() => {}
                            Offer | Wedges => wedge(format!("dropped {} messages are never replaced", info.kind)),
                        },
                        // A duplicated ACCEPT: the copy's tasks are TASK_LOST
                        // (REASON_INVALID_OFFERS) and Spark counts each against its agent.
                        ActionGen::Duplicate if info.kind == "ACCEPT" => apps.iter().for_each(|a| {
                            add(&mut stray[*a], count);
                            add(&mut events[*a], count);
                        }),
                        // SUBSCRIBED late: the OFFERS sent right after it overtake it.
                        ActionGen::Delay(_) | ActionGen::Hold(_)
                            if info.kind == "SUBSCRIBED" && c.offer_timeout_s.is_none() =>
                        {
                            wedge("OFFERS overtake a late SUBSCRIBED and are ignored".to_string())
                        }
                        // Everything else must be duplicate-safe, and at most 30 s
                        // late is within every timeout (asks 120 s, pings 75 s,
                        // offer_timeout ≥ 150 s).
                        ActionGen::Duplicate | ActionGen::Delay(_) | ActionGen::Hold(_) => {}
                    }
                }
                // At most 5 s per offer, for a few offers at a time: slow, but
                // every answer comes, within any offer_timeout generated.
                FaultGen::Slow { .. } => {}
            }
        }

        let mut may_fail = vec![None; n];
        let mut must = vec![String::new(); n];
        for (i, a) in c.apps.iter().enumerate() {
            let cores = a.executor_cores.unwrap_or(1);
            let mem = a.executor_memory_mib.unwrap_or(1024);
            // Spark's overhead: max(384 MiB, 10 %), truncated.
            let need_mem = mem + (mem / 10).max(384);
            // SPARK-20483: cores.max is rounded down to whole executors.
            let max_cores = a.cores_max.map_or(u32::MAX, |m| m - m % cores);
            let fits: Vec<usize> = (0..c.agents.len())
                .filter(|g| {
                    let ag = &c.agents[*g];
                    ag.spark_installed
                        && ag.cpus >= cores
                        && ag.mem_gib * 1024 >= need_mem
                        && a.rack.is_none_or(|r| ag.rack == Some(r))
                })
                .collect();
            let clean: Vec<usize> = fits.iter().copied().filter(|g| !tainted.contains(g)).collect();
            let why = if max_cores < cores {
                Some(format!("spark.cores.max={} is less than one {cores}-core executor", a.cores_max.unwrap_or(0)))
            } else if fits.is_empty() {
                Some(format!("no agent with Spark installed fits an executor of {cores} cpus and {need_mem} MiB"))
            } else if let Some(w) = &cluster {
                Some(w.clone())
            } else if let Some(w) = &app[i] {
                Some(w.clone())
            } else if clean.is_empty() {
                Some("every agent that fits an executor is killed, cut off or disconnected".to_string())
            } else if stray[i] / MAX_AGENT_FAILURES >= clean.len() as u32 {
                // Each untargeted executor failure may land on a clean agent;
                // they exclude at most stray / 2 of them.
                Some(format!("{} executor failures could exclude every agent that fits", stray[i]))
            } else if events[i] >= TASK_MAX_FAILURES {
                Some(format!(
                    "{} faults could each fail one task (spark.task.maxFailures={TASK_MAX_FAILURES})",
                    events[i]
                ))
            } else {
                None
            };
            if why.is_none() {
                let names: Vec<String> = clean.iter().map(|g| c.agent_name(*g)).collect();
                must[i] = format!("{} fit(s) an executor of {cores} cpus and {need_mem} MiB", names.join(", "));
            }
            may_fail[i] = why;
        }
        Model { may_fail, must }
    }
}

// ---------------------------------------------------------------------------
// Rendering: the scenario file
// ---------------------------------------------------------------------------

impl Case {
    /// The scenario file, to be parsed (and run by the CLI) as `path`.
    fn toml(&self, path: &Path) -> String {
        let model = Model::new(self);
        let mut s = String::new();
        let w = &mut s;
        let _ = writeln!(w, "# Generated by scenarios/tests/cluster_props.rs (scenario seed {}).", self.seed);
        // The very path `check` parses it under: see `scenario_path`.
        let _ = writeln!(w, "# Replay: cargo run --release -p mesocosm -- run {} --transport memory", path.display());
        let _ = writeln!(w, "#");
        for (i, why) in model.may_fail.iter().enumerate() {
            let name = self.app_name(i);
            let _ = match why {
                None => writeln!(w, "# {name} must finish: {}.", model.must[i]),
                Some(why) => {
                    writeln!(w, "# {name} may fail (its implicit \"app finishes\" check is not a property): {why}.")
                }
            };
        }
        let _ = writeln!(
            w,
            "\n[scenario]\nname = \"cluster-props-{}\"\nseed = {}\nuntil = \"{UNTIL_MIN}m\"",
            self.seed, self.seed
        );
        if self.keep_running {
            let _ = writeln!(w, "keep_running = true");
        }
        if let Some(t) = self.offer_timeout_s {
            let _ = writeln!(w, "\n[master]\noffer_timeout = \"{t}s\"");
        }
        for (i, a) in self.agents.iter().enumerate() {
            let _ = writeln!(w, "\n[[agents]]\nname = \"{}\"", self.agent_name(i));
            let _ =
                writeln!(w, "resources = \"cpus:{};mem:{};disk:20000;ports:[31000-32000]\"", a.cpus, a.mem_gib * 1024);
            if let Some(r) = a.rack {
                let _ = writeln!(w, "attributes = \"rack:r{r}\"");
            }
            if !a.spark_installed {
                let _ = writeln!(w, "spark_installed = false");
            }
        }
        for (i, a) in self.apps.iter().enumerate() {
            let name = self.app_name(i);
            let mut submit = format!("spark-submit --master mesos://master:5050 --name {name} --class org.example.App");
            if let Some(c) = a.cores_max {
                let _ = write!(submit, " --conf spark.cores.max={c}");
            }
            if let Some(c) = a.executor_cores {
                let _ = write!(submit, " --conf spark.executor.cores={c}");
            }
            if let Some(m) = a.executor_memory_mib {
                let _ = write!(submit, " --conf spark.executor.memory={}", executor_memory(m));
            }
            if let Some(t) = a.failover_timeout_s {
                let _ = write!(submit, " --conf spark.mesos.driver.failoverTimeout={t}");
            }
            if let Some(r) = a.rack {
                let _ = write!(submit, " --conf spark.mesos.constraints=rack:r{r}");
            }
            let _ = writeln!(w, "\n[[apps]]\nat = \"{}\"\nsubmit = \"{submit} app.jar\"", dur(a.at_ms));
            for job in &a.jobs {
                let _ = writeln!(w, "  [[apps.jobs]]");
                for (si, st) in job.stages.iter().enumerate() {
                    let d = match st.duration {
                        DurGen::Fixed(ms) => format!("\"{}\"", dur(ms)),
                        DurGen::Uniform(lo, hi) => format!("{{ uniform = [\"{}\", \"{}\"] }}", dur(lo), dur(hi)),
                        DurGen::Exponential(m) => format!("{{ exponential = \"{}\" }}", dur(m)),
                    };
                    let _ = writeln!(w, "    [[apps.jobs.stages]]\n    tasks = {}\n    duration = {d}", st.tasks);
                    let _ = match (job.fan_in, si) {
                        (true, 1) => writeln!(w, "    parents = []"),
                        (true, 2) => writeln!(w, "    parents = [0, 1]"),
                        _ => Ok(()),
                    };
                }
            }
        }
        for f in &self.faults {
            // A random fault may find nothing to act on (an executor id never
            // launched, a partition no message crosses): not a failure here.
            let _ = writeln!(w, "\n[[faults]]\noptional = true");
            self.render_fault(w, f);
        }
        for (i, why) in model.may_fail.iter().enumerate() {
            if why.is_none() {
                let _ = writeln!(w, "\n[[expect]]\napp = \"{}\"\nfinishes = true", self.app_name(i));
            }
        }
        s
    }

    fn render_fault(&self, w: &mut String, f: &FaultGen) {
        let _ = match f {
            FaultGen::KillAgent { agent, at_s, restart_s } => writeln!(
                w,
                "kill = \"{}\"\nat = \"{at_s}s\"\nrestart_after = \"{restart_s}s\"",
                self.agent_name(self.agent(agent))
            ),
            FaultGen::KillMaster { at_s, restart_s } => {
                writeln!(w, "kill = \"master\"\nat = \"{at_s}s\"\nrestart_after = \"{restart_s}s\"")
            }
            FaultGen::KillDriver { app, after_s, restart_s } => {
                let a = self.app(app);
                writeln!(
                    w,
                    "kill = \"driver:{}\"\nat = \"{}s\"\nrestart_after = \"{restart_s}s\"",
                    self.app_name(a),
                    self.submit_s(a) + after_s
                )
            }
            FaultGen::KillExecutor { app, id, at_s } => {
                writeln!(w, "kill = \"executor:{}/{id}\"\nat = \"{at_s}s\"", self.app_name(self.app(app)))
            }
            FaultGen::PartitionAgents { agents, at_s, heal_s, one_way } => {
                let names: BTreeSet<String> = agents.iter().map(|g| self.agent_name(self.agent(g))).collect();
                let list = names.iter().map(|n| format!("\"{n}\"")).collect::<Vec<_>>().join(", ");
                writeln!(
                    w,
                    "partition = [[{list}], [\"master\"]]\nat = \"{at_s}s\"\nheal_after = \"{heal_s}s\"\none_way = {one_way}"
                )
            }
            FaultGen::PartitionDriver { app, after_s, heal_s, one_way } => {
                let a = self.app(app);
                writeln!(
                    w,
                    "partition = [\"driver:{}\", \"master\"]\nat = \"{}s\"\nheal_after = \"{heal_s}s\"\none_way = {one_way}",
                    self.app_name(a),
                    self.submit_s(a) + after_s
                )
            }
            FaultGen::Disconnect { link, at_s } => {
                let (a, b, at) = match link {
                    LinkGen::MasterAgent(g) => ("master".to_string(), self.agent_name(self.agent(g)), *at_s),
                    LinkGen::MasterDriver(ix) => {
                        let a = self.app(ix);
                        // After its spark-submit, so there is a connection to break.
                        (format!("driver:{}", self.app_name(a)), "master".to_string(), self.submit_s(a) + at_s)
                    }
                    LinkGen::DriverExecutor(ix, id) => {
                        let a = self.app_name(self.app(ix));
                        (format!("driver:{a}"), format!("executor:{a}/{id}"), *at_s)
                    }
                    LinkGen::AgentExecutor(g, ix, id) => (
                        self.agent_name(self.agent(g)),
                        format!("executor:{}/{id}", self.app_name(self.app(ix))),
                        *at_s,
                    ),
                };
                writeln!(w, "disconnect = [\"{a}\", \"{b}\"]\nat = \"{at}s\"")
            }
            FaultGen::Message { action, kind, scope, pick, after_s, window_s } => {
                let info = &KINDS[kind.index(KINDS.len())];
                let side = |r: Role| match (r, scope) {
                    (Master, _) => "master".to_string(),
                    (Agent, Some(s)) => self.agent_name(self.agent(s)),
                    (Agent, None) => "agent-*".to_string(),
                    (Driver, Some(s)) => format!("driver:{}", self.app_name(self.app(s))),
                    (Driver, None) => "driver:*".to_string(),
                    (Executor, Some(s)) => format!("executor:{}/*", self.app_name(self.app(s))),
                    (Executor, None) => "executor:*".to_string(),
                };
                let before = after_s + window_s;
                let verb = match action {
                    ActionGen::Drop => "drop",
                    ActionGen::Duplicate => "duplicate",
                    ActionGen::Delay(_) => "delay",
                    ActionGen::Hold(_) => "hold",
                };
                let _ = writeln!(
                    w,
                    "{verb} = \"{}\"\nfrom = \"{}\"\nto = \"{}\"",
                    info.kind,
                    side(info.from),
                    side(info.to)
                );
                let _ = match pick {
                    PickGen::Nth(n) => writeln!(w, "nth = {n}"),
                    PickGen::First(n) => writeln!(w, "first = {n}"),
                    PickGen::Every => writeln!(w, "every = true"),
                    PickGen::Probability(p) => writeln!(w, "probability = {}", f64::from(*p) / 100.0),
                };
                let _ = match action {
                    ActionGen::Delay(by) => writeln!(w, "by = \"{by}s\""),
                    ActionGen::Hold(extra) => writeln!(w, "until = \"{}s\"", before + extra),
                    ActionGen::Drop | ActionGen::Duplicate => Ok(()),
                };
                writeln!(w, "after = \"{after_s}s\"\nbefore = \"{before}s\"")
            }
            FaultGen::Slow { app, think_ms, after_s, window_s } => writeln!(
                w,
                "slow = \"driver:{}\"\nthink = \"{}\"\nafter = \"{after_s}s\"\nbefore = \"{}s\"",
                self.app_name(self.app(app)),
                dur(*think_ms),
                after_s + window_s
            ),
        };
    }
}

// ---------------------------------------------------------------------------
// Running and judging one case
// ---------------------------------------------------------------------------

/// Where a failing case of `property` is saved, and the path every case is
/// parsed as: a `probability` fault's generator is seeded by its rule's label,
/// `<file name>:<line>`, so the printed command must name a file of the very
/// same name (any directory will do). (Both properties shrink towards seed 0,
/// hence the name.)
fn scenario_path(property: &str, seed: u64) -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("cluster-props-failure-{property}-{seed}.toml"))
}

fn run_memory(s: &scenario::Scenario) -> Report {
    let opts = RunOptions { transport: Transport::Memory, ..RunOptions::default() };
    runner::run(s, opts).unwrap_or_else(|e| panic!("the runner refused a generated scenario: {e}"))
}

fn summary(r: &Report) -> String {
    let mut out = Vec::new();
    r.render(&mut out).expect("render to memory");
    String::from_utf8(out).expect("utf-8 summary")
}

/// The three properties for one case, parsed as `path`; `Err` says which failed and how.
fn check(c: &Case, path: &Path) -> Result<(), String> {
    let text = c.toml(path);
    let s = scenario::parse(path, &text)
        .map_err(|d| format!("the generator wrote a scenario the checker rejects:\n{d}"))?;
    let model = Model::new(c);
    let a = run_memory(&s);
    let b = run_memory(&s);

    // 1. Invariants. The runner adds an "app finishes" check for every app
    // without an `app` expectation, i.e. exactly the apps the model lets fail.
    let excused = |m: &str| {
        model.may_fail.iter().enumerate().any(|(i, why)| {
            let name = c.app_name(i);
            why.is_some() && (m.starts_with(&format!("app {name} ")) || m.starts_with(&format!("app {name}'s ")))
        })
    };
    let broken: Vec<String> = a
        .checks
        .iter()
        .filter(|f| !(f.check == "app finishes" && excused(&f.message)))
        .map(|f| format!("[{}] {}", f.check, f.message))
        .collect();
    if !broken.is_empty() {
        return Err(format!("checks failed:\n  {}\n\n{}", broken.join("\n  "), summary(&a)));
    }

    // 2. Every app that must finish does: its expectation holds and its driver exited 0.
    let failed: Vec<String> = a
        .expectations
        .iter()
        .filter(|e| !e.held)
        .map(|e| format!("{}: {} ({})", e.label, e.text, e.observed))
        .collect();
    let unfinished: Vec<String> = (0..c.apps.len())
        .filter(|i| model.may_fail[*i].is_none())
        .map(|i| (c.app_name(i), a.frameworks.iter().find(|r| r.name == c.app_name(i)).and_then(|r| r.exit)))
        .filter(|(_, exit)| !matches!(exit, Some((_, 0))))
        .map(|(name, exit)| format!("{name}: driver exit {exit:?}"))
        .collect();
    if !failed.is_empty() || !unfinished.is_empty() {
        return Err(format!(
            "apps that must finish did not:\n  {}\n  {}\n\n{}",
            failed.join("\n  "),
            unfinished.join("\n  "),
            summary(&a)
        ));
    }

    // 3. Replay: the same scenario and seed give the same run, byte for byte.
    let (sa, sb) = (summary(&a), summary(&b));
    if a.digest.is_none() || sa != sb {
        return Err(format!("two runs differ:\n--- first\n{sa}\n--- second\n{sb}"));
    }
    Ok(())
}

fn config() -> ProptestConfig {
    // ProptestConfig::default() reads the PROPTEST_* variables; only fill in
    // what the environment does not set.
    let mut cfg = ProptestConfig { failure_persistence: None, ..ProptestConfig::default() };
    if std::env::var_os("PROPTEST_CASES").is_none() {
        cfg.cases = CASES;
    }
    if std::env::var_os("PROPTEST_RNG_SEED").is_none() {
        cfg.rng_seed = RngSeed::Fixed(0x6d65_736f_636f_736d);
    }
    // Each shrink step runs a scenario twice; keep a failure's report prompt.
    if std::env::var_os("PROPTEST_MAX_SHRINK_ITERS").is_none() {
        cfg.max_shrink_iters = 256;
    }
    if std::env::var_os("PROPTEST_MAX_SHRINK_TIME").is_none() {
        cfg.max_shrink_time = 60_000;
    }
    cfg
}

/// Runs `strategy` through [`check`]; on failure, prints and saves the minimal case.
fn run_property(name: &str, strategy: impl Strategy<Value = Case>) {
    let file_tag = name.split_whitespace().next().unwrap_or(name);
    let mut runner = TestRunner::new(config());
    // How many generated apps had to finish: a model that excuses every app
    // would make the liveness property vacuous.
    let (apps, must) = (AtomicUsize::new(0), AtomicUsize::new(0));
    let result = runner.run(&strategy, |c| {
        let m = Model::new(&c);
        apps.fetch_add(m.may_fail.len(), Ordering::Relaxed);
        must.fetch_add(m.may_fail.iter().filter(|w| w.is_none()).count(), Ordering::Relaxed);
        check(&c, &scenario_path(file_tag, c.seed)).map_err(TestCaseError::fail)
    });
    match result {
        Ok(()) => {
            let (apps, must) = (apps.into_inner(), must.into_inner());
            eprintln!("{name}: {must} of {apps} generated apps had to finish, and did");
            assert!(apps < 20 || must * 10 >= apps, "{name}: only {must} of {apps} apps had to finish");
        }
        Err(TestError::Abort(why)) => panic!("{name}: proptest gave up: {why}"),
        Err(TestError::Fail(why, c)) => {
            let path = scenario_path(file_tag, c.seed);
            let text = c.toml(&path);
            let saved = match std::fs::write(&path, &text) {
                Ok(()) => format!("saved to {}", path.display()),
                Err(e) => format!("could not be saved to {}: {e}", path.display()),
            };
            panic!(
                "{name}: minimal failing case (scenario seed {seed}): {why}\n\n\
                 The scenario ({saved}; replay it with \
                 `cargo run --release -p mesocosm -- run {file} --transport memory`):\n\n{text}",
                seed = c.seed,
                file = path.display(),
            );
        }
    }
}

#[test]
fn healthy_clusters_keep_invariants_finish_what_fits_and_replay() {
    run_property("healthy clusters", case(0..=0));
}

#[test]
fn faulty_clusters_keep_invariants_finish_what_fits_and_replay() {
    run_property("faulty clusters", case(1..=4));
}

// ---------------------------------------------------------------------------
// The printed TOML really reproduces the run
// ---------------------------------------------------------------------------

/// A fixed generated case: the first one proptest's deterministic RNG draws
/// with two apps or more and a `probability` fault (whose generator is seeded
/// by the rule's `<file name>:<line>`, so a wrong file would show).
fn fixed_case() -> Case {
    let mut runner = TestRunner::deterministic();
    let strategy = case(2..=4);
    loop {
        let c = strategy.new_tree(&mut runner).expect("a case").current();
        let random_fault =
            c.faults.iter().any(|f| matches!(f, FaultGen::Message { pick: PickGen::Probability(_), .. }));
        if c.apps.len() >= 2 && random_fault {
            return c;
        }
    }
}

#[test]
fn the_printed_scenario_replays_through_the_cli() {
    let c = fixed_case();
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("cluster-props-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(format!("cluster-props-{}.toml", c.seed));
    let text = c.toml(&file);
    std::fs::write(&file, &text).unwrap();

    // In process, as `check` runs a case: the text, parsed under the file's path.
    let s = scenario::parse(&file, &text).unwrap_or_else(|d| panic!("{d}\n{text}"));
    let report = run_memory(&s);
    let digest = report.digest.clone().expect("a digest");

    let out = Command::new(env!("CARGO_BIN_EXE_mesocosm"))
        .args(["run", file.to_str().unwrap(), "--quiet", "--transport", "memory"])
        .output()
        .expect("run the mesocosm binary");
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        out.status.code(),
        Some(if report.passed() { 0 } else { 1 }),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stdout.lines().last(), Some(format!("digest: {digest}").as_str()), "{stdout}\n{text}");
    assert_eq!(stdout, summary(&report), "the CLI prints the in-process run's summary");
    std::fs::remove_dir_all(&dir).ok();
}
