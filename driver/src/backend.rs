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
//! Spark's answer to one OFFERS event (`resourceOffers` in MesosCoarseGrainedSchedulerBackend.scala):
//!
//! ```text
//!  stopping? ──yes──▶ DECLINE all, no filter
//!     │no
//!  numExecutors >= executorLimit? ──yes──▶ DECLINE all, no filter (dynamic allocation)
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
//! `canLaunchTask` asks, in this order: a whole cpu or more, no more than
//! offered, within `maxCores`, enough mem, fewer executors than
//! `executorLimit`, an agent that has not failed twice, the
//! `spark.blockManager.port` in the offer, and (dynamic allocation with
//! locality hints only) a host worth waiting for. GPUs never block a launch:
//! an executor gets whatever is offered, up to what `spark.mesos.gpus.max` still allows.
//!
//! The backend also remembers what it holds: cores and GPUs per executor
//! (`coresByTaskId`, `gpusByTaskId`), the totals (`totalCoresAcquired`,
//! checked against `maxCores`, and `totalGpusAcquired`) and per-agent records
//! (`agents`) that count executor failures and are never deleted, so an agent
//! that failed twice stays excluded for the life of the app.
//!
//! Dynamic allocation talks to the backend through two calls:
//! [`MesosBackend::request_total_executors`] (`doRequestTotalExecutors`: move
//! `executorLimit`) and [`MesosBackend::kill_executors`]
//! (`doKillExecutors`: one Mesos KILL per executor).

use crate::config::{DriverConfig, executor_memory_mib, max_cores, memory_overhead_mib};
use crate::constraints::{self, Constraints};
use crate::launch::{self, CommandArgs, TaskResources, scalar_milli};
use mesocosm_sim::SimTime;
use mesocosm_sim::msg::short_id;
use mesocosm_sim::proto::Resources;
use mesocosm_sim::proto::scheduler::{Call, call};
use mesocosm_sim::proto::v1::{AgentId, Filters, FrameworkId, Offer, OfferId, Resource, TaskId, TaskInfo, offer};
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

/// The executors built for one offer, and the container warnings Spark logged.
#[derive(Debug, Default)]
struct BuiltTasks {
    tasks: Vec<TaskInfo>,
    warnings: Vec<String>,
}

/// One answer to one offer, as the driver turns it into a Call.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Answer {
    Accept { offer: OfferId, tasks: Vec<TaskInfo> },
    Decline { offer: OfferId, refuse: Option<Duration> },
}

/// `resourceOffers` threw: what Spark had already sent, and the exception.
///
/// Why this can happen: the executor's TaskInfo is built inside the
/// `resourceOffers` callback, and building it throws for a malformed
/// `spark.mesos.task.labels` (`SparkException`) or a non-numeric Docker port
/// map (`NumberFormatException`); the unmatched offers were declined before
/// (`declineUnmatchedOffers` runs first) and nothing was launched. Matching
/// `spark.mesos.constraints` throws too (a value required of a RANGES
/// attribute, a non-numeric value for a SCALAR one), before anything is sent.
#[derive(Debug)]
pub(crate) struct OffersThrew {
    pub sent: Vec<(Answer, String)>,
    pub exception: String,
}

/// The backend's bookkeeping (the fields of MesosCoarseGrainedSchedulerBackend).
#[derive(Debug)]
pub(crate) struct MesosBackend {
    /// `maxCores`, already rounded (SPARK-20483).
    pub max_cores: i64,
    /// `executorMemory(sc)`: the mem each executor asks for, MiB.
    pub executor_mem: u64,
    pub constraints: Constraints,
    pub total_cores_acquired: i64,
    pub cores_by_task: BTreeMap<String, i64>,
    /// `totalGpusAcquired`.
    pub total_gpus_acquired: i64,
    /// `gpusByTaskId`: only executors that got at least one GPU.
    pub gpus_by_task: BTreeMap<String, i64>,
    pub agents: BTreeMap<String, Agent>,
    /// The executor (Mesos task) → agent it runs on, for acknowledgements.
    pub agent_of_task: BTreeMap<String, AgentId>,
    next_mesos_task_id: u64,
    /// `executorLimitOption`: `Some(0)` at start with dynamic allocation (the
    /// allocation manager sends the real target once the app has registered),
    /// `None` (no limit) without.
    pub executor_limit_option: Option<u32>,
    /// `launchingExecutors`: offers were taken since the limit was last reached.
    launching_executors: bool,
    /// `localityWaitStartTimeNs`.
    locality_wait_start: SimTime,
    /// `rpHostToLocalTaskCount(default profile)`: hosts with tasks that
    /// would like to run there, from the last `requestTotalExecutors`.
    host_to_local_task_count: BTreeMap<String, u32>,
    /// Offers that met `spark.mesos.constraints` (for the starvation warning).
    pub offers_matched: u64,
    /// The matched offer with the most cpus (then mem), in milli-units.
    pub largest_offer: Option<(i64, i64)>,
    /// Why the last matched offer that launched nothing was declined.
    pub last_decline: Option<String>,
    /// `numExecutors()`, kept as a count so that every `canLaunchTask`
    /// costs the same however many agents the app uses.
    executors_alive: usize,
    /// `canLaunchTask` evaluations inside `buildMesosTasks`, over the app's
    /// life: the cost of answering offers (see [`MesosBackend::build_mesos_tasks`]).
    pub launch_checks: u64,
}

impl MesosBackend {
    pub fn new(cfg: &DriverConfig, constraints: Constraints) -> MesosBackend {
        MesosBackend {
            max_cores: max_cores(&cfg.settings),
            executor_mem: executor_memory_mib(&cfg.settings),
            constraints,
            total_cores_acquired: 0,
            cores_by_task: BTreeMap::new(),
            total_gpus_acquired: 0,
            gpus_by_task: BTreeMap::new(),
            agents: BTreeMap::new(),
            agent_of_task: BTreeMap::new(),
            next_mesos_task_id: 0,
            // Why Some(0): with dynamic allocation the app starts with no
            // executors until the ExecutorAllocationManager asks for some
            // (SPARK-13002 made sure it does).
            executor_limit_option: cfg.settings.dynamic_allocation.enabled.then_some(0),
            launching_executors: false,
            locality_wait_start: SimTime::ZERO,
            host_to_local_task_count: BTreeMap::new(),
            offers_matched: 0,
            largest_offer: None,
            last_decline: None,
            executors_alive: 0,
            launch_checks: 0,
        }
    }

    /// `numExecutors()`: executors launched and not yet terminal, including
    /// those that have not registered with the driver yet.
    pub fn num_executors(&self) -> usize {
        self.executors_alive
    }

    /// `executorLimit`: `Int.MaxValue` without a limit.
    pub fn executor_limit(&self) -> u32 {
        self.executor_limit_option.unwrap_or(i32::MAX as u32)
    }

    /// `doRequestTotalExecutors`: the dynamic allocation target becomes the limit.
    ///
    /// Why no REVIVE: Spark only moves the limit and restarts the locality
    /// wait; offers declined meanwhile come back when their (default 5 s)
    /// filter expires. Returns a sentence for the timeline.
    pub fn request_total_executors(
        &mut self,
        total: u32,
        host_to_local_task_count: BTreeMap<String, u32>,
        now: SimTime,
    ) -> String {
        let before = self.executor_limit_option;
        self.executor_limit_option = Some(total);
        self.host_to_local_task_count = host_to_local_task_count;
        self.locality_wait_start = now;
        let hosts = if self.host_to_local_task_count.is_empty() {
            String::new()
        } else {
            let h: Vec<String> = self.host_to_local_task_count.iter().map(|(h, n)| format!("{h}:{n}")).collect();
            format!(", locality hints {}", h.join(" "))
        };
        format!(
            "doRequestTotalExecutors: executor limit {} → {total}{hosts} ({} launched or running); no REVIVE, declined offers return when their filters expire",
            before.map_or_else(|| "none".to_string(), |n| n.to_string()),
            self.num_executors()
        )
    }

    /// `doKillExecutors(ids)`: one KILL call per executor, naming only its
    /// Mesos task id (Spark's `killTask(TaskID(id))` passes no agent id). The
    /// limit is left alone: the allocation manager already lowered its target.
    pub fn kill_executors(&self, framework_id: &FrameworkId, ids: &[String]) -> Vec<Call> {
        ids.iter()
            .map(|id| Call {
                kill: Some(call::Kill { task_id: TaskId { value: id.clone() }, agent_id: None, kill_policy: None }),
                ..call(framework_id, call::Type::Kill)
            })
            .collect()
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

    /// `satisfiesLocality(host)`.
    ///
    /// Why (SPARK-16944): with dynamic allocation and locality hints, Spark
    /// holds out for hosts that have local data and no executor yet, for up
    /// to `spark.locality.wait` after the last request or since launching
    /// resumed; without hints (or without dynamic allocation) any host will do.
    fn satisfies_locality(&self, cfg: &DriverConfig, host: &str, now: SimTime) -> Result<(), String> {
        if !cfg.settings.dynamic_allocation.enabled || self.host_to_local_task_count.is_empty() {
            return Ok(());
        }
        let current: BTreeSet<&str> =
            self.agents.values().filter(|a| !a.task_ids.is_empty()).map(|a| a.hostname.as_str()).collect();
        let remaining: Vec<&str> =
            self.host_to_local_task_count.keys().map(String::as_str).filter(|h| !current.contains(h)).collect();
        let waited = now.since(self.locality_wait_start);
        if !remaining.contains(&host) && waited <= cfg.settings.locality_wait {
            return Err(format!(
                "waiting for locality: {host} is not a hinted host without an executor ({}), {:.3}s of spark.locality.wait={}s passed",
                if remaining.is_empty() { "none left".to_string() } else { remaining.join(" ") },
                waited.as_secs_f64(),
                cfg.settings.locality_wait.as_secs_f64()
            ));
        }
        Ok(())
    }

    /// `canLaunchTask`, returning *why not* in words instead of `false`.
    ///
    /// The checks run in Spark's order (see the module docs).
    pub fn launch_blocker(
        &self,
        cfg: &DriverConfig,
        agent_id: &str,
        hostname: &str,
        res: &[Resource],
        now: SimTime,
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
        if self.num_executors() as u64 >= u64::from(self.executor_limit()) {
            return Some(format!(
                "executor limit {} reached ({} launched or running; dynamic allocation's target)",
                self.executor_limit(),
                self.num_executors()
            ));
        }
        let failures = self.agents.get(agent_id).map_or(0, |a| a.task_failures);
        if failures >= MAX_AGENT_FAILURES {
            return Some(format!(
                "{hostname} is excluded after {failures} failed executors (MAX_AGENT_FAILURES=2: is Spark installed on it?)"
            ));
        }
        let port = cfg.settings.block_manager_port;
        if !launch::check_ports(port, res) {
            return Some(format!(
                "spark.blockManager.port={port} is not among the offered ports (a fixed port allows one executor per host)"
            ));
        }
        self.satisfies_locality(cfg, hostname, now).err()
    }

    /// `resourceOffers` for a driver that is not stopping: steps 2–5 of §1.3.
    ///
    /// Returns one answer per offer (unmatched declines first, then the
    /// matched offers in input order) and a note explaining each, or what
    /// was sent before Spark's callback threw (see [`OffersThrew`]).
    pub fn resource_offers(
        &mut self,
        cfg: &DriverConfig,
        app_id: &str,
        offers: &[Offer],
        now: SimTime,
    ) -> Result<Vec<(Answer, String)>, OffersThrew> {
        let mut answers = Vec::with_capacity(offers.len());
        if self.num_executors() as u64 >= u64::from(self.executor_limit()) {
            // Why no filter: the limit moves whenever the allocation manager
            // asks for more executors, and Spark wants the offers back soon.
            self.launching_executors = false;
            for o in offers {
                let note = format!(
                    "decline offer {} on {}: executor limit {} reached ({} launched or running; spark.dynamicAllocation sets the limit), no filter",
                    short_id(&o.id.value),
                    o.hostname,
                    self.executor_limit(),
                    self.num_executors()
                );
                answers.push((Answer::Decline { offer: o.id.clone(), refuse: None }, note));
            }
            return Ok(answers);
        }
        if !self.launching_executors {
            // Launching resumes: the locality wait starts over.
            self.launching_executors = true;
            self.locality_wait_start = now;
        }
        // `offers.partition(matchesAttributeRequirements)`: an exception
        // there (a constraint on a RANGES attribute) escapes before any offer
        // is declined.
        let (mut matched, mut unmatched): (Vec<&Offer>, Vec<&Offer>) = (Vec::new(), Vec::new());
        for o in offers {
            match constraints::matches(&self.constraints, &o.attributes) {
                Ok(true) => matched.push(o),
                Ok(false) => unmatched.push(o),
                Err(exception) => return Err(OffersThrew { sent: Vec::new(), exception }),
            }
        }

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

        for o in &matched {
            self.offers_matched += 1;
            let size = (scalar_milli(&o.resources, "cpus"), scalar_milli(&o.resources, "mem"));
            self.largest_offer = Some(self.largest_offer.map_or(size, |l| l.max(size)));
        }
        let tasks = match self.build_mesos_tasks(cfg, app_id, &matched, now) {
            Ok(t) => t,
            Err(exception) => return Err(OffersThrew { sent: answers, exception }),
        };
        for (o, built) in matched.iter().zip(tasks) {
            let id = short_id(&o.id.value);
            if !built.tasks.is_empty() {
                let what: Vec<String> = built
                    .tasks
                    .iter()
                    .rev()
                    .map(|t| format!("executor {} [{}]", t.task_id.value, Resources::from_protos(&t.resources)))
                    .collect();
                let mut note = format!(
                    "accept offer {id} on {} [{}]: launch {} (mem = spark.executor.memory {} + overhead {} MiB; after this round the app holds {} cores, cap {})",
                    o.hostname,
                    Resources::from_protos(&o.resources),
                    what.join(", "),
                    cfg.settings.executor_memory_mib,
                    memory_overhead_mib(&cfg.settings),
                    self.total_cores_acquired,
                    cores_max_words(cfg, self.max_cores),
                );
                for w in &built.warnings {
                    note.push_str("; ");
                    note.push_str(w);
                }
                answers.push((Answer::Accept { offer: o.id.clone(), tasks: built.tasks }, note));
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
                self.last_decline = Some(format!("{} reached", cores_max_words(cfg, self.max_cores)));
                answers.push((Answer::Decline { offer: o.id.clone(), refuse: Some(refuse) }, note));
            } else {
                // Why no filter: Spark declines "due to unmet task launch
                // constraints" without Filters, so Mesos's default 5 s applies;
                // the same agent may fit an executor soon (more memory freed,
                // or cores freed below the cap).
                let why = self
                    .launch_blocker(cfg, &o.agent_id.value, &o.hostname, &o.resources, now)
                    .unwrap_or_else(|| "no executor fits".to_string());
                let note = format!(
                    "decline offer {id} on {} [{}]: {why}; no filter, so Mesos may re-offer it after its default 5s",
                    o.hostname,
                    Resources::from_protos(&o.resources),
                );
                self.last_decline = Some(why);
                answers.push((Answer::Decline { offer: o.id.clone(), refuse: None }, note));
            }
        }
        Ok(answers)
    }

    /// `buildMesosTasks`: executors for each matched offer, in Spark's order.
    ///
    /// Why round-robin passes: Spark spreads executors over the offers it got
    /// ("to maximize per-task memory and IO"): each pass gives every offer at
    /// most one executor, and passes repeat until one launches nothing. Each
    /// offer's list is built by prepending (`tasks(offerId) ::= task`), so the
    /// LAUNCH lists executors newest first.
    ///
    /// `Err` is the exception building a TaskInfo threw. As in Spark, the
    /// executor id was already drawn and booked on its agent by then.
    ///
    /// How many executors one offer can hold: as many as `canLaunchTask`
    /// allows, as in Spark, which has no per-offer cap of its own; what
    /// bounds them is `spark.cores.max`, the executor limit and the agent's
    /// cpus (which the scenario language bounds as a real machine's are).
    /// Why the cost is still proportional to the executors launched: an
    /// offer `canLaunchTask` refuses stays refused for the rest of the call
    /// (the cores acquired and executors launched only grow, and its own
    /// resources no longer change), so later passes skip it instead of
    /// asking again. Spark asks again every pass; the answers are the same.
    fn build_mesos_tasks(
        &mut self,
        cfg: &DriverConfig,
        app_id: &str,
        offers: &[&Offer],
        now: SimTime,
    ) -> Result<Vec<BuiltTasks>, String> {
        let s = &cfg.settings;
        let mut remaining: Vec<Vec<Resource>> = offers.iter().map(|o| o.resources.clone()).collect();
        let mut built: Vec<BuiltTasks> = offers.iter().map(|_| BuiltTasks::default()).collect();
        // Offers still worth a pass, in input order.
        let mut open: Vec<usize> = (0..offers.len()).collect();
        while !open.is_empty() {
            let mut still_open = Vec::with_capacity(open.len());
            for i in open {
                let o = offers[i];
                self.launch_checks += 1;
                if self.launch_blocker(cfg, &o.agent_id.value, &o.hostname, &remaining[i], now).is_some() {
                    continue;
                }
                still_open.push(i);
                let task_id = self.next_mesos_task_id.to_string();
                self.next_mesos_task_id += 1;
                let offer_cpus = scalar_milli(&remaining[i], "cpus") / 1000;
                // Why GPUs never block: `spark.mesos.gpus.max` is a cap, not a
                // requirement; an executor takes the whole GPUs offered (`.toInt`)
                // up to what the cap still allows, possibly none.
                let offer_gpus = scalar_milli(&remaining[i], "gpus") / 1000;
                let gpus = (i64::from(s.gpus_max) - self.total_gpus_acquired).max(0).min(offer_gpus);
                let cpus = self.executor_cores(cfg, offer_cpus);
                self.agents
                    .entry(o.agent_id.value.clone())
                    .or_insert_with(|| Agent { hostname: o.hostname.clone(), ..Agent::default() })
                    .task_ids
                    .insert(task_id.clone());
                self.executors_alive += 1;
                self.agent_of_task.insert(task_id.clone(), o.agent_id.clone());
                let take = TaskResources { cpus, mem_mib: self.executor_mem, gpus, port: s.block_manager_port };
                let (left, used) = launch::partition_task_resources(&remaining[i], take);
                // Why `+ extra`: `spark.mesos.extra.cores` is advertised to the
                // driver through `--cores` only; Mesos never reserves it.
                let cores = cpus + i64::from(s.extra_cores);
                let command = launch::create_command(
                    cfg,
                    &CommandArgs { executor_id: &task_id, cores, app_id, offer_hostname: &o.hostname },
                );
                // Built in Spark's order: the labels throw before the container.
                let labels = launch::mesos_labels(&s.task_labels)?;
                let container = launch::build_container_info(&cfg.settings, &mut built[i].warnings)?;
                let task = TaskInfo {
                    name: format!("{} {task_id}", cfg.app_name),
                    task_id: TaskId { value: task_id.clone() },
                    agent_id: o.agent_id.clone(),
                    resources: used,
                    command: Some(command),
                    container: Some(container),
                    // `setLabels(mesosLabels(spark.mesos.task.labels))`: set even when empty.
                    labels: Some(labels),
                    ..Default::default()
                };
                built[i].tasks.push(task);
                remaining[i] = left;
                self.total_cores_acquired += cpus;
                self.cores_by_task.insert(task_id.clone(), cpus);
                if gpus > 0 {
                    self.total_gpus_acquired += gpus;
                    self.gpus_by_task.insert(task_id, gpus);
                }
            }
            open = still_open;
        }
        for b in &mut built {
            // Spark prepends each executor (`tasks(offerId) ::= task`): newest first.
            b.tasks.reverse();
            // The same conf gives the same warnings for every executor: say it once.
            let mut seen = BTreeSet::new();
            b.warnings.retain(|w| seen.insert(w.clone()));
        }
        Ok(built)
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
        if let Some(gpus) = self.gpus_by_task.remove(task_id) {
            self.total_gpus_acquired -= gpus;
            words.push(format!("free its {gpus} GPUs ({} held now)", self.total_gpus_acquired));
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
            if agent.task_ids.remove(task_id) {
                self.executors_alive -= 1;
            }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SparkSettings;
    use mesocosm_sim::proto::v1::AgentId;

    fn offer(n: u32, cpus: f64, mem: f64) -> Offer {
        let mut r = Resources::new();
        r.add_scalar("cpus", cpus);
        r.add_scalar("mem", mem);
        Offer {
            id: OfferId { value: format!("O{n}") },
            agent_id: AgentId { value: format!("S{n}") },
            hostname: format!("agent-{n}"),
            resources: r.to_protos(),
            ..Default::default()
        }
    }

    #[test]
    fn answering_offers_costs_the_executors_launched_not_passes_times_offers() {
        let s = SparkSettings { executor_cores: Some(1), executor_memory_mib: 100, ..SparkSettings::default() };
        let cfg = DriverConfig::for_tests(s, &[], Vec::new());
        let mut b = MesosBackend::new(&cfg, Constraints::new());
        // 50 offers too small for one executor, then one 4096-cpu machine.
        let mut offers: Vec<Offer> = (0..50).map(|n| offer(n, 4.0, 256.0)).collect();
        offers.push(offer(50, 4096.0, 4096.0 * 484.0));
        let answers = b.resource_offers(&cfg, "app", &offers, SimTime::ZERO).expect("no exception");
        let launched: usize = answers
            .iter()
            .map(|(a, _)| match a {
                Answer::Accept { tasks, .. } => tasks.len(),
                Answer::Decline { .. } => 0,
            })
            .sum();
        assert_eq!((launched, b.num_executors()), (4096, 4096), "one executor per core, as Spark does");
        // One check per launch, one per offer when it is refused, and no more:
        // the 50 small offers are asked once, not once per pass (4097 passes).
        assert_eq!(b.launch_checks, 4096 + 51);
        let Answer::Accept { tasks, .. } = &answers[50].0 else { panic!("the big offer is accepted") };
        assert_eq!(
            (tasks[0].task_id.value.as_str(), tasks[4095].task_id.value.as_str()),
            ("4095", "0"),
            "newest first"
        );
    }
}
