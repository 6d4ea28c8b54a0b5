//! The Mesos framework half: `MesosCoarseGrainedSchedulerBackend`.
//!
//! Mesos schedules in two levels. The master decides *which framework* gets
//! an agent's free resources (DRF) and sends it an offer; the framework decides
//! *what to run* on it and answers every offer exactly once, either
//!
//! - `ACCEPT` with a `LAUNCH` of tasks (here: Spark executors), or
//! - `DECLINE`, optionally with `Filters{refuse_seconds}`: "don't offer me
//!   these resources again for that long".
//!
//! Spark's answer to one OFFERS event (`resourceOffers`, reference §1.3):
//!
//! ```text
//!  stopping? ──yes──▶ DECLINE all, no filter
//!     │no
//!  partition by spark.mesos.constraints
//!     ├─ unmatched ─▶ DECLINE, refuse 120 s ("unmet constraints")
//!     └─ matched ───▶ buildMesosTasks: round-robin passes over the offers,
//!                     one executor per offer per pass, while canLaunchTask
//!                     then, per offer in input order:
//!                       got executors      ─▶ ACCEPT [offer] LAUNCH [its tasks, newest first]
//!                       cores.max reached  ─▶ DECLINE, refuse 120 s (SPARK-13001)
//!                       otherwise          ─▶ DECLINE, no filter (Mesos default 5 s)
//! ```
//!
//! The backend also remembers what it holds: cores per executor
//! (`coresByTaskId`), the total (`totalCoresAcquired`, checked against
//! `maxCores`) and per-agent records (`agents`) that count executor failures
//! and are never deleted, so an agent that failed twice stays excluded for the
//! life of the app.

use crate::config::{DriverConfig, executor_memory_mib, max_cores, memory_overhead_mib};
use crate::constraints::{self, Constraints};
use crate::launch::{self, CommandArgs, scalar_milli};
use mesocosm_sim::msg::short_id;
use mesocosm_sim::proto::Resources;
use mesocosm_sim::proto::scheduler::{Call, call};
use mesocosm_sim::proto::v1::{
    AgentId, Filters, FrameworkId, Labels, Offer, OfferId, Resource, TaskId, TaskInfo, offer,
};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// Executor failures after which an agent is never used again.
///
/// Why 2: hard-coded in Spark as `MAX_AGENT_FAILURES` (`MAX_SLAVE_FAILURES`
/// in 2.x). SPARK-19755 tried to make it configurable and was closed unmerged,
/// so `spark.excludeOnFailure.*` does not affect it.
pub const MAX_AGENT_FAILURES: u32 = 2;

/// What the backend knows about one agent (`Agent` in Spark).
#[derive(Clone, Debug, Default)]
pub(crate) struct Agent {
    pub hostname: String,
    /// Executors (Mesos task ids) launched there and not yet terminal.
    pub task_ids: BTreeSet<String>,
    /// Executors that ended FAILED or LOST there.
    pub task_failures: u32,
}

/// One answer to one offer, as the driver turns it into a Call.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Answer {
    Accept { offer: OfferId, tasks: Vec<TaskInfo> },
    Decline { offer: OfferId, refuse: Option<Duration> },
}

/// The backend's bookkeeping (reference §1.1).
#[derive(Debug)]
pub(crate) struct MesosBackend {
    /// `maxCores`, already rounded (SPARK-20483).
    pub max_cores: i64,
    /// `executorMemory(sc)`: the mem each executor asks for, MiB.
    pub executor_mem: u64,
    pub constraints: Constraints,
    pub total_cores_acquired: i64,
    pub cores_by_task: BTreeMap<String, i64>,
    pub agents: BTreeMap<String, Agent>,
    /// The executor (Mesos task) → agent it runs on, for acknowledgements.
    pub agent_of_task: BTreeMap<String, AgentId>,
    next_mesos_task_id: u64,
}

impl MesosBackend {
    pub fn new(cfg: &DriverConfig, constraints: Constraints) -> MesosBackend {
        MesosBackend {
            max_cores: max_cores(&cfg.settings),
            executor_mem: executor_memory_mib(&cfg.settings),
            constraints,
            total_cores_acquired: 0,
            cores_by_task: BTreeMap::new(),
            agents: BTreeMap::new(),
            agent_of_task: BTreeMap::new(),
            next_mesos_task_id: 0,
        }
    }

    /// `numExecutors()`: executors launched and not yet terminal, including
    /// those that have not registered with the driver yet.
    pub fn num_executors(&self) -> usize {
        self.agents.values().map(|a| a.task_ids.len()).sum()
    }

    /// `executorCores(offerCPUs)`.
    ///
    /// Why: with `spark.executor.cores` unset, Spark sizes the executor to the
    /// whole offer (capped by what `cores.max` still allows), so there is at
    /// most one executor per offer per call; with it set, an offer can hold
    /// several executors of exactly that size.
    fn executor_cores(&self, cfg: &DriverConfig, offer_cpus: i64) -> i64 {
        match cfg.settings.executor_cores {
            Some(c) => i64::from(c),
            None => offer_cpus.min(self.max_cores - self.total_cores_acquired),
        }
    }

    /// `canLaunchTask`, returning *why not* in words instead of `false`.
    ///
    /// The checks run in Spark's order; the executor limit (dynamic allocation),
    /// ports (`spark.blockManager.port`) and locality (dynamic allocation) are
    /// not modelled, so they always pass.
    pub fn launch_blocker(
        &self,
        cfg: &DriverConfig,
        agent_id: &str,
        hostname: &str,
        res: &[Resource],
    ) -> Option<String> {
        let offer_mem = scalar_milli(res, "mem");
        let cpus_milli = scalar_milli(res, "cpus");
        // `getResource(resources, "cpus").toInt`: fractional cpus are dropped.
        let offer_cpus = cpus_milli / 1000;
        let cpus = self.executor_cores(cfg, offer_cpus);
        let mem = self.executor_mem as i64;
        let shown_cpus = cpus_milli as f64 / 1000.0;
        if cpus <= 0 {
            return Some(if self.total_cores_acquired >= self.max_cores {
                format!("{} reached", cores_max_words(cfg, self.max_cores))
            } else {
                format!("no whole cpu left ({shown_cpus} cpus; Spark truncates fractional cpus with .toInt)")
            });
        }
        if cpus > offer_cpus {
            return Some(format!(
                "spark.executor.cores={cpus} but only {offer_cpus} whole cpus offered ({shown_cpus})"
            ));
        }
        if cpus + self.total_cores_acquired > self.max_cores {
            return Some(format!(
                "another {cpus}-core executor would exceed spark.cores.max (cap {}, {} acquired)",
                self.max_cores, self.total_cores_acquired
            ));
        }
        if mem * 1000 > offer_mem {
            return Some(format!(
                "an executor needs {mem} MiB mem (spark.executor.memory {} + overhead {}) but only {} MiB offered",
                cfg.settings.executor_memory_mib,
                memory_overhead_mib(&cfg.settings),
                offer_mem as f64 / 1000.0
            ));
        }
        let failures = self.agents.get(agent_id).map_or(0, |a| a.task_failures);
        if failures >= MAX_AGENT_FAILURES {
            return Some(format!(
                "{hostname} is excluded after {failures} failed executors (MAX_AGENT_FAILURES=2: is Spark installed on it?)"
            ));
        }
        None
    }

    /// `resourceOffers` for a driver that is not stopping: steps 3–5 of §1.3.
    ///
    /// Returns one answer per offer (unmatched declines first, then the
    /// matched offers in input order) and a note explaining each.
    pub fn resource_offers(&mut self, cfg: &DriverConfig, app_id: &str, offers: &[Offer]) -> Vec<(Answer, String)> {
        let mut answers = Vec::with_capacity(offers.len());
        let (matched, unmatched): (Vec<&Offer>, Vec<&Offer>) =
            offers.iter().partition(|o| constraints::matches(&self.constraints, &o.attributes));

        // Why first and for long: an agent without the required attributes will
        // not grow them, so Spark asks Mesos to hide it for
        // rejectOfferDurationForUnmetConstraints (120 s).
        for o in unmatched {
            let refuse = cfg.settings.reject_for_unmet_constraints;
            let note = format!(
                "decline offer {} on {}: its attributes do not meet spark.mesos.constraints={:?}; refuse {}s so Mesos stops offering this agent to us for a while",
                short_id(&o.id.value),
                o.hostname,
                cfg.settings.constraints,
                refuse.as_secs()
            );
            answers.push((Answer::Decline { offer: o.id.clone(), refuse: Some(refuse) }, note));
        }

        let tasks = self.build_mesos_tasks(cfg, app_id, &matched);
        for (o, tasks) in matched.iter().zip(tasks) {
            let id = short_id(&o.id.value);
            if !tasks.is_empty() {
                let what: Vec<String> = tasks
                    .iter()
                    .rev()
                    .map(|t| format!("executor {} [{}]", t.task_id.value, Resources::from_protos(&t.resources)))
                    .collect();
                let note = format!(
                    "accept offer {id} on {} [{}]: launch {} (mem = spark.executor.memory {} + overhead {} MiB; after this round the app holds {} cores, cap {})",
                    o.hostname,
                    Resources::from_protos(&o.resources),
                    what.join(", "),
                    cfg.settings.executor_memory_mib,
                    memory_overhead_mib(&cfg.settings),
                    self.total_cores_acquired,
                    cores_max_words(cfg, self.max_cores),
                );
                answers.push((Answer::Accept { offer: o.id.clone(), tasks }, note));
            } else if self.total_cores_acquired >= self.max_cores {
                // SPARK-13001: declining with Mesos's default 5 s filter made DRF
                // re-offer the same resources to a satisfied app every few
                // seconds, starving other frameworks.
                let refuse = cfg.settings.reject_for_reached_max_cores;
                let note = format!(
                    "decline offer {id} on {}: {} reached, refuse {}s so other frameworks get it (SPARK-13001)",
                    o.hostname,
                    cores_max_words(cfg, self.max_cores),
                    refuse.as_secs()
                );
                answers.push((Answer::Decline { offer: o.id.clone(), refuse: Some(refuse) }, note));
            } else {
                // Why no filter: Spark declines "due to unmet task launch
                // constraints" without Filters, so Mesos's default 5 s applies;
                // the same agent may fit an executor soon (more memory freed,
                // or cores freed below the cap).
                let why = self
                    .launch_blocker(cfg, &o.agent_id.value, &o.hostname, &o.resources)
                    .unwrap_or_else(|| "no executor fits".to_string());
                let note = format!(
                    "decline offer {id} on {} [{}]: {why}; no filter, so Mesos may re-offer it after its default 5s",
                    o.hostname,
                    Resources::from_protos(&o.resources),
                );
                answers.push((Answer::Decline { offer: o.id.clone(), refuse: None }, note));
            }
        }
        answers
    }

    /// `buildMesosTasks`: executors for each matched offer, in Spark's order.
    ///
    /// Why round-robin passes: Spark spreads executors over the offers it got
    /// ("to maximize per-task memory and IO"): each pass gives every offer at
    /// most one executor, and passes repeat until one launches nothing. Each
    /// offer's list is built by prepending (`tasks(offerId) ::= task`), so the
    /// LAUNCH lists executors newest first.
    fn build_mesos_tasks(&mut self, cfg: &DriverConfig, app_id: &str, offers: &[&Offer]) -> Vec<Vec<TaskInfo>> {
        let mut remaining: Vec<Vec<Resource>> = offers.iter().map(|o| o.resources.clone()).collect();
        let mut tasks: Vec<Vec<TaskInfo>> = vec![Vec::new(); offers.len()];
        let mut launched = true;
        while launched {
            launched = false;
            for (i, o) in offers.iter().enumerate() {
                if self.launch_blocker(cfg, &o.agent_id.value, &o.hostname, &remaining[i]).is_some() {
                    continue;
                }
                launched = true;
                let task_id = self.next_mesos_task_id.to_string();
                self.next_mesos_task_id += 1;
                let offer_cpus = scalar_milli(&remaining[i], "cpus") / 1000;
                let cpus = self.executor_cores(cfg, offer_cpus);
                self.agents
                    .entry(o.agent_id.value.clone())
                    .or_insert_with(|| Agent { hostname: o.hostname.clone(), ..Agent::default() })
                    .task_ids
                    .insert(task_id.clone());
                self.agent_of_task.insert(task_id.clone(), o.agent_id.clone());
                let (left, used) = launch::partition_task_resources(&remaining[i], cpus, self.executor_mem);
                let command = launch::create_command(
                    cfg,
                    &CommandArgs { executor_id: &task_id, cores: cpus, app_id, offer_hostname: &o.hostname },
                );
                let task = TaskInfo {
                    name: format!("{} {task_id}", cfg.app_name),
                    task_id: TaskId { value: task_id.clone() },
                    agent_id: o.agent_id.clone(),
                    resources: used,
                    command: Some(command),
                    container: Some(launch::container_info()),
                    // `mesosLabels(spark.mesos.task.labels)`: set even when empty.
                    labels: Some(Labels::default()),
                    ..Default::default()
                };
                tasks[i].insert(0, task);
                remaining[i] = left;
                self.total_cores_acquired += cpus;
                self.cores_by_task.insert(task_id, cpus);
            }
        }
        tasks
    }

    /// The bookkeeping half of `statusUpdate` for a terminal state:
    /// free the executor's cores, count a failure against its agent, forget
    /// the executor. Returns a sentence for the timeline.
    pub fn executor_finished(&mut self, task_id: &str, agent_id: &str, failed: bool) -> String {
        let mut words = Vec::new();
        if let Some(cores) = self.cores_by_task.remove(task_id) {
            self.total_cores_acquired -= cores;
            words.push(format!("free its {cores} cores ({} held now)", self.total_cores_acquired));
        }
        if let Some(agent) = self.agents.get_mut(agent_id) {
            if failed {
                agent.task_failures += 1;
                if agent.task_failures == MAX_AGENT_FAILURES {
                    words.push(format!(
                        "{} has now failed {MAX_AGENT_FAILURES} executors: excluded for the rest of the app (\"is Spark installed on it?\")",
                        agent.hostname
                    ));
                } else {
                    words.push(format!(
                        "failure {} of {MAX_AGENT_FAILURES} on {} before Spark stops using it",
                        agent.task_failures, agent.hostname
                    ));
                }
            }
            agent.task_ids.remove(task_id);
        }
        if words.is_empty() {
            words.push("it held nothing any more".to_string());
        }
        words.join("; ")
    }
}

/// `spark.cores.max` as the learner wrote it, and what Spark made of it.
fn cores_max_words(cfg: &DriverConfig, max: i64) -> String {
    match cfg.settings.cores_max {
        Some(c) if i64::from(c) == max => format!("spark.cores.max={max}"),
        Some(c) => format!("spark.cores.max={c} rounded down to {max} (SPARK-20483)"),
        None => "unlimited (spark.cores.max unset)".to_string(),
    }
}

/// A Mesos call from this framework.
pub(crate) fn call(framework_id: &FrameworkId, kind: call::Type) -> Call {
    Call { framework_id: Some(framework_id.clone()), r#type: Some(kind as i32), ..Default::default() }
}

/// The Call for one [`Answer`].
///
/// Why: `launchTasks([offer], tasks)` becomes ACCEPT with one LAUNCH and no
/// filters; `declineOffer(id[, Filters])` becomes DECLINE. Spark passes the
/// refuse duration as whole seconds (`getTimeAsSeconds`, a Long).
pub(crate) fn answer_call(framework_id: &FrameworkId, answer: Answer) -> Call {
    match answer {
        Answer::Accept { offer, tasks } => Call {
            accept: Some(call::Accept {
                offer_ids: vec![offer],
                operations: vec![offer::Operation {
                    r#type: Some(offer::operation::Type::Launch as i32),
                    launch: Some(offer::operation::Launch { task_infos: tasks }),
                    ..Default::default()
                }],
                filters: None,
            }),
            ..call(framework_id, call::Type::Accept)
        },
        Answer::Decline { offer, refuse } => Call {
            decline: Some(call::Decline {
                offer_ids: vec![offer],
                filters: refuse.map(|d| Filters { refuse_seconds: Some(d.as_secs() as f64) }),
            }),
            ..call(framework_id, call::Type::Decline)
        },
    }
}
