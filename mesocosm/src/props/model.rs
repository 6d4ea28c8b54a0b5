//! Which apps of a [`Case`] must finish: the "may fail" reasoning.
//!
//! A random fault schedule can legitimately make a Spark app fail or wait
//! forever: Mesos and Spark are not built to survive every lost message. A
//! liveness property over random faults therefore needs a model of which
//! faults are survivable. [`Model::new`] decides it conservatively from the
//! generated numbers alone: an app *must* finish only if some agent that no
//! fault can take from it fits one of its executors, and no fault can end or
//! wedge it; each exception names the Mesos or Spark behaviour behind it.
//! [`MESSAGE_KINDS`] lists what losing each message kind does ([`Loss`]).

use super::harness::summary;
use super::strategies::{ActionGen, Case, FaultGen, LinkGen, PickGen};
use crate::runner::Report;
use std::collections::BTreeSet;

/// Spark's `spark.task.maxFailures` default: a task that failed this often aborts its job.
const TASK_MAX_FAILURES: u32 = 4;

/// Spark's `MAX_AGENT_FAILURES` (`MesosCoarseGrainedSchedulerBackend`): an
/// agent where two executors failed is never used again.
const MAX_AGENT_FAILURES: u32 = 2;

/// Mesos's `--max_agent_ping_timeouts` default: this many pings missed in a row
/// make an agent unreachable.
const MAX_PING_TIMEOUTS: u32 = 5;

/// An agent partition at least this long certainly ends with the agent marked
/// unreachable (5 missed pings × 15 s, plus one ping interval), so every task
/// there becomes TASK_LOST.
pub(crate) const LONG_PARTITION_S: u32 = 120;

/// Why an app capped by `spark.cores.max` may not finish once its scheduler
/// link to the master breaks.
const GHOST_ACCEPT: &str = "an ACCEPT lost with the master leaves Spark counting cores of executors that never start, \
against spark.cores.max";

/// "Unbounded" for the counts below.
const MANY: u32 = u32::MAX;

/// Who sends or receives a message kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Master,
    Agent,
    /// A Spark driver: the Mesos framework.
    Driver,
    /// A Spark executor (CoarseGrainedExecutorBackend).
    Executor,
}

/// What happens when a message of a kind is lost.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Loss {
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

/// A message kind a [`FaultGen::Message`] may pick.
#[derive(Debug)]
pub struct MessageKind {
    /// The kind as the scenario language names it (`drop = "<kind>"`).
    pub kind: &'static str,
    /// Its natural sender.
    pub from: Role,
    /// Its natural receiver.
    pub to: Role,
    /// What losing one does.
    pub loss: Loss,
}

const fn k(kind: &'static str, from: Role, to: Role, loss: Loss) -> MessageKind {
    MessageKind { kind, from, to, loss }
}

use Loss::*;
use Role::*;

/// Every message a fault may pick, with its natural sender and receiver (the
/// rendered fault always names both, so e.g. `UPDATE` means the master's event
/// to a driver, not an executor's call to its agent).
pub const MESSAGE_KINDS: &[MessageKind] = &[
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

/// What the faults of a case can do to its apps, and so which apps must finish.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Model {
    /// Per app: `None` if it must finish, else why it may not.
    pub may_fail: Vec<Option<String>>,
    /// Per app: why it must finish (for the TOML's comments).
    pub must: Vec<String>,
}

/// Counts that saturate at [`MANY`].
fn add(a: &mut u32, n: u32) {
    *a = a.saturating_add(n);
}

impl Model {
    /// Decides, per app, whether it must finish: some agent that no fault can
    /// take from it fits one of its executors (Spark's memory overhead and
    /// SPARK-20483's rounding of `spark.cores.max` included), and no fault can
    /// legitimately end or wedge it. Conservative: an app that may fail often
    /// finishes anyway.
    pub fn new(c: &Case) -> Model {
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
                    let info = Case::message_kind(kind);
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

impl Case {
    /// Which of this case's apps must finish, and why (see [`Model::new`]).
    pub fn model(&self) -> Model {
        Model::new(self)
    }
}

impl Case {
    /// The invariants property: no per-step actor invariant and no
    /// message-log invariant failed (`report.checks`), except the runner's
    /// implicit "app finishes" check for the apps the [`Model`] lets fail (the
    /// scenario language has no "may fail"). `Err` lists what failed, then the
    /// run's summary.
    pub fn check_invariants(&self, report: &Report) -> Result<(), String> {
        let model = self.model();
        // The runner adds an "app finishes" check for every app without an
        // `app` expectation, i.e. exactly the apps the model lets fail.
        let excused = |m: &str| {
            model.may_fail.iter().enumerate().any(|(i, why)| {
                let name = self.app_name(i);
                why.is_some() && (m.starts_with(&format!("app {name} ")) || m.starts_with(&format!("app {name}'s ")))
            })
        };
        let broken: Vec<String> = report
            .checks
            .iter()
            .filter(|f| !(f.check == "app finishes" && excused(&f.message)))
            .map(|f| format!("[{}] {}", f.check, f.message))
            .collect();
        if broken.is_empty() {
            Ok(())
        } else {
            Err(format!("checks failed:\n  {}\n\n{}", broken.join("\n  "), summary(report)))
        }
    }

    /// The liveness property: every app the [`Model`] says must finish does
    /// (its `[[expect]] finishes = true` holds and its driver exited 0).
    pub fn check_liveness(&self, report: &Report) -> Result<(), String> {
        let model = self.model();
        let failed: Vec<String> = report
            .expectations
            .iter()
            .filter(|e| !e.held)
            .map(|e| format!("{}: {} ({})", e.label, e.text, e.observed))
            .collect();
        let unfinished: Vec<String> = (0..self.apps.len())
            .filter(|i| model.may_fail[*i].is_none())
            .map(|i| {
                (self.app_name(i), report.frameworks.iter().find(|r| r.name == self.app_name(i)).and_then(|r| r.exit))
            })
            .filter(|(_, exit)| !matches!(exit, Some((_, 0))))
            .map(|(name, exit)| format!("{name}: driver exit {exit:?}"))
            .collect();
        if failed.is_empty() && unfinished.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "apps that must finish did not:\n  {}\n  {}\n\n{}",
                failed.join("\n  "),
                unfinished.join("\n  "),
                summary(report)
            ))
        }
    }
}

impl FaultGen {
    /// Why Mesos and Spark, working as designed, may never recover the work
    /// this fault hits, if they may not (the [`Model`]'s reasons, fault by
    /// fault): a dropped message whose [`Loss`] wedges, lost offers without
    /// `--offer_timeout` (`offer_timeout`), a late SUBSCRIBED without it, an
    /// agent partition too short to make the agent unreachable, a driver cut
    /// off from the master, a scheduler connection broken under Spark's
    /// default `spark.mesos.driver.failoverTimeout` of 0. `mesocosm chaos`
    /// leaves these out unless asked (`--all-faults`): it looks for bugs and
    /// wrong expectations, not for losses Mesos and Spark document.
    pub fn unrecoverable(&self, offer_timeout: bool) -> Option<String> {
        match self {
            FaultGen::Message { action, kind, .. } => {
                let info = Case::message_kind(kind);
                match (action, info.loss) {
                    (ActionGen::Drop, Wedges) => Some(format!("dropped {} messages are never replaced", info.kind)),
                    (ActionGen::Drop, Offer) if !offer_timeout => {
                        Some(format!("without --offer_timeout a dropped {} leaves its offer outstanding", info.kind))
                    }
                    (ActionGen::Delay(_) | ActionGen::Hold(_), _) if info.kind == "SUBSCRIBED" && !offer_timeout => {
                        Some("OFFERS overtake a late SUBSCRIBED and are ignored".to_string())
                    }
                    _ => None,
                }
            }
            FaultGen::PartitionAgents { heal_s, .. } if *heal_s < LONG_PARTITION_S => Some(format!(
                "an agent partition of {heal_s}s can lose a RunTaskMessage without making the agent unreachable"
            )),
            FaultGen::PartitionDriver { .. } => {
                Some("a driver cut off from the master loses OFFERS and ACCEPTs".into())
            }
            FaultGen::Disconnect { link: LinkGen::MasterDriver(_), .. } => {
                Some("with failoverTimeout 0 the master removes a framework whose scheduler disconnects".into())
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_agent_partitions_are_unrecoverable_long_ones_and_kills_are_not() {
        let partition = |heal_s| FaultGen::PartitionAgents { agents: Vec::new(), at_s: 10, heal_s, one_way: false };
        assert!(partition(LONG_PARTITION_S - 1).unrecoverable(false).is_some());
        assert_eq!(partition(LONG_PARTITION_S).unrecoverable(false), None);
        assert_eq!(FaultGen::KillMaster { at_s: 10, restart_s: 5 }.unrecoverable(false), None);
    }
}
