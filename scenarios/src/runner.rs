//! The runner: a [`Scenario`] becomes a world of actors, runs, and is judged.
//!
//! ```text
//!  Scenario ──build──▶ World { master, agents, (later) drivers } ──run──▶ Report { apps, offers, checks, digest }
//! ```
//!
//! The runner is the only place that knows every actor kind: it starts the master
//! and the agents at time 0, submits each app at its `at`, and gives the world a
//! launcher that turns an agent's container launch into a Spark executor actor.
//! It stops when every app's driver has exited (plus a short linger so the
//! teardown's last messages land in the trace) or at the scenario's `until`.

use crate::judge::{Evidence, Observed, Verdict, check_message_invariants, evaluate};
use crate::mesos_syntax::{AttrValue, AttributeSpec, ResourceSpec, ValueSpec};
use crate::scenario::{DurationDist, Scenario, driver_names};
use crate::script::{Expect, Fault};
use crate::submit::{DeployMode, SparkConf};
use crate::units::TimeUnit;
use mesocosm_agent::{Agent, AgentConfig};
use mesocosm_driver::{DriverConfig, DriverReport, Job, SparkDriver, SparkSettings, Stage, TaskDurations};
use mesocosm_executor::{ExecutorConfig, SparkExecutor, parse_backend_command};
use mesocosm_master::{Master, MasterConfig, MasterEvent, MasterStats};
use mesocosm_sim::faults::{FaultReport, Faults};
use mesocosm_sim::ids::{uuid_from, uuid_string};
use mesocosm_sim::proto::Resources;
use mesocosm_sim::proto::mesos::v1::{Attribute, Resource, value};
use mesocosm_sim::trace::{Timeline, TraceConfig};
use mesocosm_sim::{ActorId, RunFailure, Shared, SimTime, Transport, World, WorldConfig, run_world};
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How long the world keeps running after the last driver exits, so the
/// teardown's consequences (ShutdownFramework, executor exits) reach the trace.
pub const LINGER: Duration = Duration::from_secs(1);

/// How often the end of a run checks again whether the agents that were
/// re-registering have done so.
const SETTLE_POLL: Duration = Duration::from_secs(1);

/// How to run a scenario.
pub struct RunOptions {
    /// Overrides the scenario's seed.
    pub seed: Option<u64>,
    pub transport: Transport,
    /// Write the JSON Lines trace here.
    pub trace: Option<Box<dyn Write + Send>>,
    /// Print the timeline here.
    pub timeline: Option<Box<dyn Write + Send>>,
    /// Also print the cores' explanations on the timeline.
    pub explain: bool,
    /// Compute the trace digest.
    pub digest: bool,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions { seed: None, transport: Transport::Grpc, trace: None, timeline: None, explain: false, digest: true }
    }
}

/// What happened to one app.
#[derive(Clone, Debug)]
pub struct AppReport {
    pub name: String,
    pub driver: ActorId,
    pub submitted_at: SimTime,
    /// When the driver exited, and its status.
    pub exit: Option<(SimTime, i32)>,
    pub driver_report: DriverReport,
}

/// A check that did not hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckFailure {
    pub check: &'static str,
    pub message: String,
}

/// The outcome of a run.
#[derive(Clone, Debug)]
pub struct Report {
    pub scenario: String,
    pub seed: u64,
    pub transport: Transport,
    pub ended_at: SimTime,
    pub apps: Vec<AppReport>,
    pub master: MasterStats,
    pub messages: u64,
    pub by_kind: BTreeMap<(&'static str, &'static str), u64>,
    /// Checks that did not hold: per-step invariants, message invariants, implicit end checks.
    pub checks: Vec<CheckFailure>,
    /// Every `[[expect]]`, held or not.
    pub expectations: Vec<Verdict>,
    /// What each message fault, partition and slow rule did.
    pub faults: Vec<FaultReport>,
    /// `optional` faults that did nothing (a non-optional one is a failed check).
    pub warnings: Vec<String>,
    /// The masters' lifecycle history.
    pub history: Vec<(SimTime, MasterEvent)>,
    pub digest: Option<String>,
    /// Why the run stopped early (a panic, a livelock, a transport refusal), if
    /// it did; then nothing was judged.
    pub failure: Option<RunFailure>,
}

impl Report {
    /// Whether the run passes: it ran to its end, and every check and every
    /// expectation held.
    pub fn passed(&self) -> bool {
        self.failure.is_none() && self.checks.is_empty() && self.expectations.iter().all(|e| e.held)
    }

    /// The CLI's exit status for this run: 0 it passed; 1 a check or an
    /// expectation failed, or the run stopped on a livelock or a transport
    /// refusal; 3 an actor panicked (a bug in mesocosm, distinct from a verdict
    /// on the cluster). Bad input (2) never gets as far as a report.
    pub fn exit_code(&self) -> u8 {
        match &self.failure {
            Some(RunFailure::Panic { .. }) => 3,
            Some(_) => 1,
            None if self.passed() => 0,
            None => 1,
        }
    }
}

/// Input the runner cannot simulate (bad input: exit 2).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("{0}")]
    Unsupported(String),
    #[error("writing the trace or timeline failed: {0}")]
    Io(#[from] std::io::Error),
}

/// An agent's `--resources` as protobuf.
pub fn resources(specs: &[ResourceSpec]) -> Result<Vec<Resource>, String> {
    let mut r = Resources::new();
    for s in specs {
        if s.role != "*" {
            return Err(format!(
                "reserved resources (`{}({})`) are not simulated yet; use unreserved resources",
                s.name, s.role
            ));
        }
        match &s.value {
            ValueSpec::Scalar(v) => r.add_scalar(&s.name, *v),
            ValueSpec::Ranges(rs) => r.add_ranges(&s.name, rs.iter().copied()),
            ValueSpec::Set(items) => r.add_set(&s.name, items),
        }
    }
    Ok(r.to_protos())
}

/// An agent's `--attributes` as protobuf.
pub fn attributes(specs: &[AttributeSpec]) -> Vec<Attribute> {
    specs
        .iter()
        .map(|a| {
            let mut attr = Attribute { name: a.name.clone(), ..Default::default() };
            match &a.value {
                AttrValue::Scalar(v) => {
                    attr.r#type = value::Type::Scalar as i32;
                    attr.scalar = Some(value::Scalar { value: *v });
                }
                AttrValue::Ranges(rs) => {
                    attr.r#type = value::Type::Ranges as i32;
                    attr.ranges = Some(value::Ranges {
                        range: rs.iter().map(|&(begin, end)| value::Range { begin, end }).collect(),
                    });
                }
                AttrValue::Text(t) => {
                    attr.r#type = value::Type::Text as i32;
                    attr.text = Some(value::Text { value: t.clone() });
                }
            }
            attr
        })
        .collect()
}

/// The typed Spark settings the driver needs, from the effective conf.
pub fn spark_settings(conf: &SparkConf) -> Result<SparkSettings, String> {
    let d = SparkSettings::default();
    // `stringConf.toSequence`: comma-separated, trimmed, empty entries dropped.
    let sequence = |key: &str| -> Vec<String> {
        conf.get(key)
            .map(|v| v.split(',').map(str::trim).filter(|e| !e.is_empty()).map(str::to_string).collect())
            .unwrap_or_default()
    };
    let reject = conf.duration("spark.mesos.rejectOfferDuration", d.reject_offer_duration, TimeUnit::Seconds)?;
    Ok(SparkSettings {
        cores_max: conf.opt_u32("spark.cores.max")?,
        executor_cores: conf.opt_u32("spark.executor.cores")?,
        executor_memory_mib: conf.size_mib("spark.executor.memory", d.executor_memory_mib)?,
        memory_overhead_mib: match conf.get("spark.mesos.executor.memoryOverhead") {
            Some(_) => Some(conf.size_mib("spark.mesos.executor.memoryOverhead", 0)?),
            None => None,
        },
        memory_overhead_factor: conf.f64("spark.executor.memoryOverheadFactor", d.memory_overhead_factor)?,
        task_cpus: conf.u32("spark.task.cpus", d.task_cpus)?,
        task_max_failures: conf.u32("spark.task.maxFailures", d.task_max_failures)?,
        // Both specific durations fall back to rejectOfferDuration (Spark's config.scala).
        reject_offer_duration: reject,
        reject_for_unmet_constraints: conf.duration(
            "spark.mesos.rejectOfferDurationForUnmetConstraints",
            reject,
            TimeUnit::Seconds,
        )?,
        reject_for_reached_max_cores: conf.duration(
            "spark.mesos.rejectOfferDurationForReachedMaxCores",
            reject,
            TimeUnit::Seconds,
        )?,
        failover_timeout: conf.f64("spark.mesos.driver.failoverTimeout", d.failover_timeout)?,
        role: conf.get("spark.mesos.role").map(str::to_string),
        shutdown_timeout: conf.duration("spark.mesos.coarse.shutdownTimeout", d.shutdown_timeout, TimeUnit::Millis)?,
        heartbeat_interval: conf.duration(
            "spark.executor.heartbeatInterval",
            d.heartbeat_interval,
            TimeUnit::Millis,
        )?,
        network_timeout: conf.duration("spark.network.timeout", d.network_timeout, TimeUnit::Seconds)?,
        executor_home: conf.get("spark.mesos.executor.home").unwrap_or(&d.executor_home).to_string(),
        constraints: conf.get("spark.mesos.constraints").unwrap_or_default().to_string(),
        extra_cores: conf.u32("spark.mesos.extra.cores", d.extra_cores)?,
        gpus_max: conf.u32("spark.mesos.gpus.max", d.gpus_max)?,
        block_manager_port: match conf.u32("spark.blockManager.port", d.block_manager_port)? {
            // `Utils.startServiceOnPort`, which the driver's own block manager
            // runs at startup with the same key.
            p if p != 0 && !(1024..=65535).contains(&p) => {
                return Err(format!(
                    "spark.blockManager.port={p}: startPort should be between 1024 and 65535 (inclusive), or 0 for a random free port."
                ));
            }
            p => p,
        },
        task_labels: conf.get("spark.mesos.task.labels").unwrap_or_default().to_string(),
        docker_image: conf.get("spark.mesos.executor.docker.image").map(str::to_string),
        containerizer: match conf.get("spark.mesos.containerizer").map(str::trim) {
            None | Some("docker") => mesocosm_driver::Containerizer::Docker,
            Some("mesos") => mesocosm_driver::Containerizer::Mesos,
            Some(v) => {
                // `checkValues(Set("docker", "mesos"))`.
                return Err(format!(
                    "spark.mesos.containerizer={v}: The value of spark.mesos.containerizer should be one of docker, mesos, but was {v}"
                ));
            }
        },
        docker_force_pull_image: conf.bool("spark.mesos.executor.docker.forcePullImage", false)?,
        docker_volumes: sequence("spark.mesos.executor.docker.volumes"),
        docker_port_maps: sequence("spark.mesos.executor.docker.portmaps"),
        docker_parameters: sequence("spark.mesos.executor.docker.parameters"),
        network_name: conf.get("spark.mesos.network.name").map(str::to_string),
        network_labels: conf.get("spark.mesos.network.labels").map(str::to_string),
        shuffle_service_enabled: conf.bool("spark.shuffle.service.enabled", d.shuffle_service_enabled)?,
        locality_wait: conf.duration("spark.locality.wait", d.locality_wait, TimeUnit::Millis)?,
        executor_instances: conf.opt_u32("spark.executor.instances")?,
        dynamic_allocation: {
            let da = &d.dynamic_allocation;
            let key = |k: &str| format!("spark.dynamicAllocation.{k}");
            let backlog =
                conf.duration(&key("schedulerBacklogTimeout"), da.scheduler_backlog_timeout, TimeUnit::Seconds)?;
            let max_executors = conf.u32(&key("maxExecutors"), da.max_executors)?;
            if max_executors > i32::MAX as u32 {
                return Err(format!("{}={max_executors}: expected a whole number below 2^31", key("maxExecutors")));
            }
            mesocosm_driver::DynamicAllocation {
                enabled: conf.bool(&key("enabled"), da.enabled)?,
                min_executors: conf.u32(&key("minExecutors"), da.min_executors)?,
                max_executors,
                initial_executors: conf.opt_u32(&key("initialExecutors"))?,
                scheduler_backlog_timeout: backlog,
                // A fallback conf: unset, it is schedulerBacklogTimeout.
                sustained_scheduler_backlog_timeout: conf.duration(
                    &key("sustainedSchedulerBacklogTimeout"),
                    backlog,
                    TimeUnit::Seconds,
                )?,
                executor_idle_timeout: conf.duration(
                    &key("executorIdleTimeout"),
                    da.executor_idle_timeout,
                    TimeUnit::Seconds,
                )?,
                shuffle_tracking_enabled: conf.bool(&key("shuffleTracking.enabled"), da.shuffle_tracking_enabled)?,
            }
        },
    })
}

/// A stage's task durations, drawn when a task launches.
///
/// Why a stream per task: task `p` draws from ChaCha stream `p` of the
/// stage's seed, so its duration is the same whichever tasks were drawn
/// before it (launch order, retries, recomputes), and no stage holds a
/// duration per declared task.
#[derive(Debug)]
struct DrawnDurations {
    dist: DurationDist,
    seed: u64,
}

impl TaskDurations for DrawnDurations {
    fn duration(&self, partition: u32) -> Duration {
        if let DurationDist::Fixed(d) = self.dist {
            return d;
        }
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        rng.set_stream(u64::from(partition));
        self.dist.sample(&mut rng)
    }
}

/// Check what the runner can before starting anything (bad input → exit 2).
pub fn validate(s: &Scenario) -> Result<(), RunError> {
    if s.until > mesocosm_sim::MAX_VIRTUAL_TIME {
        return Err(RunError::Unsupported(format!(
            "until = {:?} is longer than the {} h a run can simulate",
            s.until,
            mesocosm_sim::MAX_VIRTUAL_TIME.as_secs() / 3600
        )));
    }
    for a in &s.agents {
        resources(&a.resources).map_err(|e| RunError::Unsupported(format!("agent {}: {e}", a.name)))?;
    }
    for app in &s.apps {
        if app.conf.deploy_mode().map_err(RunError::Unsupported)? == DeployMode::Cluster {
            return Err(RunError::Unsupported(format!(
                "app {}: --deploy-mode cluster needs the MesosClusterDispatcher, which mesocosm does not simulate yet",
                app.name
            )));
        }
        spark_settings(&app.conf).map_err(|e| RunError::Unsupported(format!("app {}: {e}", app.name)))?;
        ask_timeout(&app.conf).map_err(|e| RunError::Unsupported(format!("app {}: {e}", app.name)))?;
    }
    Ok(())
}

/// Why a container's command cannot start on a host without Spark, if it cannot.
///
/// Spark's executor command runs `"<spark.mesos.executor.home>/./bin/spark-class" …`
/// unless `spark.executor.uri` is set, in which case the Mesos fetcher downloaded
/// Spark into the sandbox and the command starts with `cd <dir>*; ./bin/spark-class`.
/// On a host without Spark only the first one fails, as the shell would: this is
/// the failure behind Spark's "Excluding Mesos agent … is Spark installed on it?".
fn spark_class_missing(command: &str, host_without_spark: bool) -> Option<String> {
    if !host_without_spark || command.trim_start().starts_with("cd ") {
        return None;
    }
    let word = command.split_whitespace().find(|w| w.contains("bin/spark-class"))?;
    Some(format!("sh: 1: {}: not found", word.trim_matches('"')))
}

/// `spark.rpc.askTimeout`, which falls back to `spark.network.timeout` (120 s), as
/// in Spark's `RpcUtils.askRpcTimeout`.
pub fn ask_timeout(conf: &SparkConf) -> Result<Duration, String> {
    let network = conf.duration("spark.network.timeout", Duration::from_secs(120), TimeUnit::Seconds)?;
    conf.duration("spark.rpc.askTimeout", network, TimeUnit::Seconds)
}

/// Every core of the cluster, by incarnation, so faults can kill and restart
/// them and the judge can read them.
struct Cluster {
    seed: u64,
    master_cfg: MasterConfig,
    /// Every master incarnation, oldest first (the last one is current).
    masters: Vec<Shared<Master>>,
    agents: BTreeMap<String, AgentSlot>,
    drivers: BTreeMap<ActorId, DriverSlot>,
    /// Agents killed, and when (a killed agent's pending updates die with it).
    agent_deaths: Vec<(String, SimTime)>,
}

impl Cluster {
    /// Live agents that hold unacknowledged status updates while not
    /// registered with the master: they will send them once they re-register
    /// (agent registration backoff, then the 10 s status update retry), so a
    /// run that stops now stops too early to judge them.
    fn agents_reregistering(&self, world: &World) -> bool {
        world.is_alive(&self.master_cfg.me)
            && self.agents.iter().any(|(name, a)| {
                world.is_alive(&ActorId::new(name))
                    && a.core.with(|a| a.unacknowledged_updates() > 0 && !a.is_registered())
            })
    }
}

struct AgentSlot {
    cfg: AgentConfig,
    core: Shared<Agent>,
    incarnation: u32,
}

struct DriverSlot {
    app: String,
    cfg: DriverConfig,
    core: Shared<SparkDriver>,
    at: SimTime,
}

type ClusterRef = Arc<Mutex<Cluster>>;

fn lock(c: &ClusterRef) -> std::sync::MutexGuard<'_, Cluster> {
    c.lock().unwrap_or_else(|p| p.into_inner())
}

/// A Mesos master's id is a fresh UUID per leader election; derive it from the
/// seed, the name and the incarnation.
fn master_id(seed: u64, name: &str, incarnation: usize) -> String {
    let (seed, n) = (seed.to_le_bytes(), (incarnation as u64).to_le_bytes());
    let mut parts: Vec<&[u8]> = vec![b"master", &seed, name.as_bytes()];
    if incarnation > 0 {
        parts.push(&n);
    }
    uuid_string(&uuid_from(&parts))
}

impl Cluster {
    /// Start a new incarnation of `id` (after a kill): the master as a new leader,
    /// an agent with the id it checkpointed, a driver with its framework id.
    fn restart(&mut self, world: &World, id: &ActorId) -> Result<String, String> {
        if *id == self.master_cfg.me {
            let n = self.masters.len();
            // A new leader is a new process: its own id and its own shuffle draws.
            let cfg = MasterConfig {
                id: master_id(self.seed, id.as_str(), n),
                shuffle_seed: world.rng_for(&format!("master:{id}/incarnation-{n}/shuffle")).next_u64(),
                ..self.master_cfg.clone()
            };
            let core = Shared::new(Master::new(cfg));
            world.spawn(id.clone(), core.clone(), None);
            self.masters.push(core);
            return Ok(format!("{id} restarts as a new leader"));
        }
        if let Some(slot) = self.agents.get_mut(id.as_str()) {
            let recovered = slot.core.with(|a| a.checkpointed_id());
            slot.incarnation += 1;
            // Mesos agents wait a random [0, registration_backoff_factor) before
            // (re-)registering; one draw per incarnation.
            let delay = Duration::from_micros(
                world.rng_for(&format!("agent:{id}/incarnation-{}", slot.incarnation)).next_u64() % 1_000_000,
            );
            let backoff_seed =
                world.rng_for(&format!("agent:{id}/incarnation-{}/backoff", slot.incarnation)).next_u64();
            let cfg = AgentConfig {
                recovered_id: recovered.clone(),
                registration_delay: delay,
                backoff_seed,
                ..slot.cfg.clone()
            };
            slot.core = Shared::new(Agent::new(cfg));
            world.spawn(id.clone(), slot.core.clone(), None);
            return Ok(match recovered {
                Some(a) => format!("{id} restarts and recovers agent id {}", a.value),
                None => format!("{id} restarts (it had no agent id yet)"),
            });
        }
        if let Some(slot) = self.drivers.get_mut(id) {
            // Why a new framework: a relaunched Spark driver starts a new
            // SparkContext, which numbers its Mesos tasks from 0 again. Since
            // SPARK-21502 (Spark 2.3) even the dispatcher's relaunch of a
            // `--supervise` driver gets a new framework id (`…-retry-N`), so
            // the new tasks cannot collide with the old framework's, which
            // Mesos would refuse ("Duplicate task"). Only a driver given
            // `spark.mesos.driver.frameworkId` subscribes under a fixed id.
            let old = slot.core.with(|d| d.report().framework_id);
            let cfg = slot.cfg.clone();
            let fixed =
                cfg.framework_id.clone().or_else(|| cfg.property("spark.mesos.driver.frameworkId").map(str::to_string));
            slot.core = Shared::new(SparkDriver::new(cfg));
            world.spawn(id.clone(), slot.core.clone(), None);
            return Ok(match (fixed, old) {
                (Some(f), _) => {
                    format!("{id} restarts and re-subscribes as framework {f} (spark.mesos.driver.frameworkId)")
                }
                (None, Some(old)) => format!(
                    "{id} restarts and subscribes as a new framework; framework {old} is left to its failover_timeout"
                ),
                (None, None) => format!("{id} restarts (it had no framework id yet)"),
            });
        }
        Err(format!("{id} cannot be restarted"))
    }
}

/// Applies the scenario's timed faults (kill, restart, disconnect, partition
/// start and heal) at their times, recording each in the trace.
fn schedule_faults(world: &World, scenario: &Scenario, cluster: &ClusterRef, did_nothing: &Arc<Mutex<Vec<Idle>>>) {
    for f in &scenario.faults {
        let (w, cluster, idle, label) = (world.clone(), cluster.clone(), did_nothing.clone(), f.label.clone());
        let warn_label = label.clone();
        let warn = move |text: String| {
            idle.lock().unwrap_or_else(|p| p.into_inner()).push(Idle { label: warn_label.clone(), text })
        };
        match f.fault.clone() {
            Fault::Kill { actor, at, restart_after } => {
                tokio::spawn(async move {
                    let at = SimTime::from_duration(at);
                    w.sleep_until(at).await;
                    let victims: Vec<ActorId> = w.running().into_iter().filter(|a| actor.matches(a.as_str())).collect();
                    if victims.is_empty() {
                        warn(format!("fault {label}: kill {actor} at {at} found nothing running; it did nothing"));
                        return;
                    }
                    for v in &victims {
                        let mut c = lock(&cluster);
                        if c.agents.contains_key(v.as_str()) {
                            c.agent_deaths.push((v.to_string(), at));
                        }
                        drop(c);
                        w.kill(v, KILLED);
                        w.record_fault("kill", &label, &format!("{v} crashes (exit {KILLED}, as after SIGKILL)"));
                    }
                    let Some(r) = restart_after else { return };
                    w.sleep_until(at.after(r)).await;
                    for v in &victims {
                        let result = lock(&cluster).restart(&w, v);
                        match result {
                            Ok(what) => w.record_fault("restart", &label, &what),
                            Err(e) => warn(format!("fault {label}: {e}")),
                        }
                    }
                });
            }
            Fault::Disconnect { a, b, at } => {
                tokio::spawn(async move {
                    w.sleep_until(SimTime::from_duration(at)).await;
                    let (a, b) = (ActorId::new(&a), ActorId::new(&b));
                    if w.break_connection(&a, &b) {
                        w.record_fault("disconnect", &label, &format!("the connection between {a} and {b} breaks"));
                    } else {
                        warn(format!("fault {label}: {a} and {b} were not connected at {}; nothing to break", w.now()));
                    }
                });
            }
            Fault::Partition(p) => {
                tokio::spawn(async move {
                    w.sleep_until(p.from).await;
                    let sides = format!(
                        "{} | {}",
                        p.a.iter().map(|x| x.as_str()).collect::<Vec<_>>().join(","),
                        p.b.iter().map(|x| x.as_str()).collect::<Vec<_>>().join(",")
                    );
                    let dir = if p.one_way { "one way, first → second" } else { "both ways" };
                    w.record_fault("partition", &label, &format!("partition {sides} ({dir})"));
                    if let Some(u) = p.until {
                        w.sleep_until(u).await;
                        w.record_fault("heal", &label, &format!("partition {sides} heals"));
                    }
                });
            }
            // Applied by the world to each message.
            Fault::Message(_) | Fault::Slow(_) => {}
        }
    }
}

/// A fault (by label) that did nothing, or part of it that did not happen.
#[derive(Clone, Debug)]
struct Idle {
    label: String,
    text: String,
}

/// The exit status of a crashed process (128 + SIGKILL).
pub const KILLED: i32 = 137;

/// When the last timed fault (kill, restart, heal) happens: the run goes on at
/// least until then, even if every app is done.
fn last_fault_time(s: &Scenario) -> SimTime {
    s.faults
        .iter()
        .map(|f| match &f.fault {
            Fault::Kill { at, restart_after, .. } => SimTime::from_duration(*at + restart_after.unwrap_or_default()),
            Fault::Disconnect { at, .. } => SimTime::from_duration(*at),
            Fault::Partition(p) => p.until.unwrap_or(p.from),
            Fault::Message(_) | Fault::Slow(_) => SimTime::ZERO,
        })
        .max()
        .unwrap_or(SimTime::ZERO)
}

/// The world's share of the scenario's faults: message rules, partitions, slow
/// frameworks and link latencies.
fn world_faults(s: &Scenario) -> Faults {
    let mut f = Faults { links: s.network.links.clone(), ..Faults::default() };
    for spec in &s.faults {
        match &spec.fault {
            Fault::Message(m) => f.messages.push(m.clone()),
            Fault::Partition(p) => f.partitions.push(p.clone()),
            Fault::Slow(sl) => f.slow.push(sl.clone()),
            Fault::Kill { .. } | Fault::Disconnect { .. } => {}
        }
    }
    f
}

/// Run `scenario` once.
pub fn run(scenario: &Scenario, opts: RunOptions) -> Result<Report, RunError> {
    validate(scenario)?;
    let seed = opts.seed.unwrap_or(scenario.seed);
    let transport = opts.transport;
    let trace = TraceConfig {
        digest: opts.digest,
        jsonl: opts.trace,
        timeline: opts.timeline.map(|out| Timeline { out, explain: opts.explain }),
    };
    run_world(|| async move {
        let world = World::new(WorldConfig {
            seed,
            transport,
            latency: scenario.network.latency,
            trace,
            faults: world_faults(scenario),
            check_invariants: true,
            max_steps_per_instant: WorldConfig::MAX_STEPS_PER_INSTANT,
        });
        // The judge reads every message in send order.
        let log: Arc<Mutex<Vec<Observed>>> = Arc::default();
        let sink = log.clone();
        world.observe(Box::new(move |t, from, to, msg| {
            sink.lock().unwrap_or_else(|p| p.into_inner()).push(Observed {
                t,
                from: from.clone(),
                to: to.clone(),
                msg: msg.clone(),
            })
        }));
        let master_name = ActorId::new(&scenario.master.name);
        let master_cfg = MasterConfig {
            me: master_name.clone(),
            id: master_id(seed, &scenario.master.name, 0),
            hostname: scenario.master.name.clone(),
            allocation_interval: scenario.master.allocation_interval,
            agent_ping_timeout: scenario.master.agent_ping_timeout,
            max_agent_ping_timeouts: scenario.master.max_agent_ping_timeouts,
            offer_timeout: scenario.master.offer_timeout,
            weights: scenario.master.weights.clone(),
            filter_gpu_resources: scenario.master.filter_gpu_resources,
            // The allocator's per-cycle agent shuffle (Mesos's std::random_shuffle),
            // drawn from the root seed.
            shuffle_seed: world.rng_for(&format!("master:{}/shuffle", scenario.master.name)).next_u64(),
            ..MasterConfig::default()
        };
        let master = Shared::new(Master::new(master_cfg.clone()));
        world.spawn(master_name.clone(), master.clone(), None);

        let mut agents = BTreeMap::new();
        for a in &scenario.agents {
            // Mesos agents wait a random [0, registration_backoff_factor = 1 s) before registering.
            let delay = Duration::from_micros(world.rng_for(&format!("agent:{}", a.name)).next_u64() % 1_000_000);
            let cfg = AgentConfig {
                me: ActorId::new(&a.name),
                master: master_name.clone(),
                resources: resources(&a.resources).unwrap_or_default(),
                attributes: attributes(&a.attributes),
                port: 5051,
                registration_delay: delay,
                version: "1.11.0".into(),
                recovered_id: None,
                backoff_seed: world.rng_for(&format!("agent:{}/backoff", a.name)).next_u64(),
            };
            let core = Shared::new(Agent::new(cfg.clone()));
            world.spawn(ActorId::new(&a.name), core.clone(), None);
            agents.insert(a.name.clone(), AgentSlot { cfg, core, incarnation: 0 });
        }

        // Drivers listen at spark://CoarseGrainedScheduler@<host>:<port>; executors find them here.
        let mut address_book: BTreeMap<String, (ActorId, Duration, Duration)> = BTreeMap::new();
        let mut drivers = BTreeMap::new();
        for (i, (app, name)) in scenario.apps.iter().zip(driver_names(&scenario.apps)).enumerate() {
            let driver = ActorId::new(format!("driver:{name}"));
            let port = app.conf.u32("spark.driver.port", 0).unwrap_or(0);
            // spark.driver.port 0 means "any free port"; give each driver its own.
            let port = if port == 0 { 7078 + i as u32 } else { port };
            let url = format!("spark://CoarseGrainedScheduler@{}:{port}", app.host);
            let settings = spark_settings(&app.conf).map_err(RunError::Unsupported)?;
            let asks = ask_timeout(&app.conf).map_err(RunError::Unsupported)?;
            address_book.insert(url.clone(), (driver.clone(), settings.heartbeat_interval, asks));
            let workload = app
                .jobs
                .iter()
                .enumerate()
                .map(|(ji, j)| Job {
                    name: j.name.clone(),
                    stages: j
                        .stages
                        .iter()
                        .enumerate()
                        .map(|(si, s)| {
                            let seed = world.rng_for(&format!("workload:{name}/job {ji}/stage {si}")).next_u64();
                            let durations = Arc::new(DrawnDurations { dist: s.duration.clone(), seed });
                            Stage::drawn(format!("stage {si} of {}", j.name), s.tasks, durations)
                                .with_parents(s.parents.clone())
                        })
                        .collect(),
                })
                .collect();
            let mut properties: Vec<(String, String)> = app
                .conf
                .iter()
                .filter(|(k, _)| k.starts_with("spark."))
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            properties.retain(|(k, _)| k != "spark.app.name" && k != "spark.driver.host" && k != "spark.driver.port");
            properties.push(("spark.app.name".into(), name.clone()));
            properties.push(("spark.driver.host".into(), app.host.clone()));
            properties.push(("spark.driver.port".into(), port.to_string()));
            properties.sort();
            let cfg = DriverConfig {
                me: driver.clone(),
                master: master_name.clone(),
                app_name: name.clone(),
                user: "root".into(),
                hostname: app.host.clone(),
                driver_url: url,
                settings,
                properties,
                workload,
                framework_id: None,
                host_files: app.files.clone(),
            };
            let core = Shared::new(SparkDriver::new(cfg.clone()));
            let at = SimTime::from_duration(app.at);
            drivers.insert(driver, DriverSlot { app: name.clone(), cfg, core, at });
        }

        let book = Arc::new(address_book);
        let without_spark: BTreeSet<String> =
            scenario.agents.iter().filter(|a| !a.spark_installed).map(|a| a.name.clone()).collect();
        world.set_launcher(Arc::new(move |world: &World, agent: &ActorId, launch| {
            let command = launch.task.command.as_ref().and_then(|c| c.value.clone()).unwrap_or_default();
            // The container runs the task's command: it needs Spark on the host
            // unless it fetched Spark itself, and it can only reach a driver that exists.
            let backend = spark_class_missing(&command, without_spark.contains(agent.as_str()))
                .map_or_else(|| parse_backend_command(&command), Err)
                .and_then(|args| match book.get(&args.driver_url) {
                    Some(d) => Ok((args, d.clone())),
                    None => Err(format!("no driver listens at {}", args.driver_url)),
                });
            let defaults = SparkSettings::default();
            let (heartbeat, asks) = match &backend {
                Ok((_, (_, hb, ask))) => (*hb, *ask),
                Err(_) => (defaults.heartbeat_interval, Duration::from_secs(120)),
            };
            let core = SparkExecutor::new(ExecutorConfig {
                me: launch.actor.clone(),
                agent: agent.clone(),
                executor_id: launch.executor.executor_id.clone(),
                framework_id: launch.framework.id.clone().unwrap_or_default(),
                backend: backend.map(|(args, (driver, _, _))| (args, driver)),
                heartbeat_interval: heartbeat,
                ask_timeout: asks,
            });
            world.event(
                &launch.actor,
                &format!("container started on {} for task {}", launch.host, launch.task.task_id.value),
            );
            world.spawn(launch.actor.clone(), core, Some(agent.clone()));
        }));

        // Submit each app at its time.
        for (id, slot) in &drivers {
            let (w, id, core, at, name) = (world.clone(), id.clone(), slot.core.clone(), slot.at, slot.app.clone());
            tokio::spawn(async move {
                w.sleep_until(at).await;
                w.event(&id, &format!("spark-submit: driver of {name} starts"));
                w.spawn(id, core, None);
            });
        }
        let driver_ids: Vec<ActorId> = drivers.keys().cloned().collect();
        let cluster: ClusterRef = Arc::new(Mutex::new(Cluster {
            seed,
            master_cfg,
            masters: vec![master],
            agents,
            drivers,
            agent_deaths: Vec::new(),
        }));
        let did_nothing: Arc<Mutex<Vec<Idle>>> = Arc::default();
        schedule_faults(&world, scenario, &cluster, &did_nothing);

        let deadline = SimTime::from_duration(scenario.until);
        // One microsecond past the last timed fault, so a restart due at that
        // instant has run before the stop check looks at the drivers.
        let faults_done = match scenario.keep_running {
            true => SimTime::from_duration(scenario.until),
            false => last_fault_time(scenario).after(Duration::from_micros(1)),
        };
        let done = |w: &World| w.now() >= faults_done && driver_ids.iter().all(|d| w.exit_of(d).is_some());
        loop {
            if done(&world) {
                // An agent still re-registering (after a master failover, a
                // partition or a restart) holds updates it has not been able to
                // send: wait for it, as the end-of-run check judges what the
                // agents hold (bounded by `until`).
                if lock(&cluster).agents_reregistering(&world) && world.now() < deadline {
                    world.sleep_until(world.now().after(SETTLE_POLL).min(deadline)).await;
                    continue;
                }
                let end = world.now().after(LINGER).min(deadline);
                world.sleep_until(end).await;
                break;
            }
            tokio::select! { biased;
                // A panic, a livelock or a transport refusal ends the run at once.
                _ = world.failed() => break,
                _ = world.exited() => {}
                _ = world.sleep_until(faults_done.max(world.now())), if world.now() < faults_done => {}
                _ = world.sleep_until(deadline) => break,
            }
        }
        let ended_at = world.now();
        judge_run(scenario, &world, &cluster, &log, &did_nothing, seed, transport, ended_at, deadline)
    })
}

/// Build the report: apps, checks (per-step invariants, message invariants,
/// implicit end checks), expectations and what each fault did.
#[allow(clippy::too_many_arguments)]
fn judge_run(
    scenario: &Scenario,
    world: &World,
    cluster: &ClusterRef,
    log: &Arc<Mutex<Vec<Observed>>>,
    did_nothing: &Arc<Mutex<Vec<Idle>>>,
    seed: u64,
    transport: Transport,
    ended_at: SimTime,
    deadline: SimTime,
) -> Result<Report, RunError> {
    let c = lock(cluster);
    let failure = world.failure();
    let mut checks = Vec::new();
    // An app with an explicit `app` expectation is judged by it; the others must finish.
    let expected_apps: BTreeSet<&str> = scenario
        .expectations
        .iter()
        .filter_map(|e| match &e.expect {
            Expect::App { app, .. } => Some(app.as_str()),
            _ => None,
        })
        .collect();
    let mut apps = Vec::new();
    for (id, slot) in &c.drivers {
        let exit = world.exit_of(id).map(|e| (e.at, e.status));
        // A run that stopped early is not judged: what did not happen yet says nothing.
        if failure.is_none() && !expected_apps.contains(slot.app.as_str()) {
            match exit {
                None => checks.push(CheckFailure {
                    check: "app finishes",
                    message: format!("app {} did not finish by {deadline} (the scenario's `until`)", slot.app),
                }),
                Some((_, status)) if status != 0 => checks.push(CheckFailure {
                    check: "app finishes",
                    message: format!("app {}'s driver exited with status {status}", slot.app),
                }),
                _ => {}
            }
        }
        apps.push(AppReport {
            name: slot.app.clone(),
            driver: id.clone(),
            submitted_at: slot.at,
            exit,
            driver_report: slot.core.with(|d| d.report()),
        });
    }
    // Once every driver has exited, what may an agent still hold? Mesos retries
    // an update (10 s, doubling to 10 min) until the framework acknowledges it
    // or the agent learns the framework is gone, so pending updates are fine
    // for a framework the leading master still holds: one disconnected within
    // its failover_timeout, or one a new leader recovered from re-registering
    // agents whose scheduler never came back (its failover_timeout does not
    // survive a master failover, MESOS-4659). For a framework the master
    // removed, the agent learns it from ShutdownFrameworkMessage, which the
    // master sends once and never retries (`Master::removeFramework`); if that
    // message was lost (a partition too short to make the agent re-register),
    // the agent retries for ever, as in Mesos. But an agent that (re-)registers
    // after the removal is told again (`Master::_reregisterSlave` shuts down
    // completed frameworks), so it must not hold that framework's updates.
    let mut pending = BTreeSet::new();
    for (name, a) in &c.agents {
        if world.is_alive(&ActorId::new(name)) && a.core.with(|a| a.unacknowledged_updates()) > 0 {
            pending.insert(name.clone());
        }
    }
    let leader = c.masters.last().filter(|_| world.is_alive(&c.master_cfg.me));
    if let Some(leader) = leader
        && failure.is_none()
        && apps.iter().all(|a| a.exit.is_some())
    {
        let (held, removed, registered_at) = leader.with(|m| {
            let held: BTreeSet<String> = m.frameworks_view().into_iter().map(|f| f.id).collect();
            let mut removed: BTreeMap<String, SimTime> = BTreeMap::new();
            let mut registered_at: BTreeMap<String, SimTime> = BTreeMap::new();
            for (t, e) in m.history() {
                match e {
                    MasterEvent::FrameworkRemoved { framework_id, .. } => {
                        removed.insert(framework_id.clone(), *t);
                    }
                    MasterEvent::AgentRegistered { hostname, .. } | MasterEvent::AgentReregistered { hostname, .. } => {
                        registered_at.insert(hostname.clone(), *t);
                    }
                    _ => {}
                }
            }
            (held, removed, registered_at)
        });
        // When the master last told each agent to shut each framework down. The
        // master sends ShutdownFrameworkMessage for a completed framework once per
        // (re-)registration (Master::_reregisterSlave); an agent that takes it in
        // before its SlaveReregisteredMessage (a delayed reply) ignores it as
        // Slave::shutdownFramework does ("the agent has not yet registered"), and
        // nothing sends it again: Mesos promises no more than the master's part.
        let mut told: BTreeMap<(String, String), SimTime> = BTreeMap::new();
        for o in log.lock().unwrap_or_else(|p| p.into_inner()).iter() {
            if let mesocosm_sim::Msg::ShutdownFramework(m) = &o.msg {
                told.insert((o.to.to_string(), m.framework_id.value.clone()), o.t);
            }
        }
        for name in &pending {
            // An agent's hostname is its name.
            let (by_framework, registered) =
                c.agents[name].core.with(|a| (a.unacknowledged_by_framework(), a.is_registered()));
            for (fid, n) in by_framework.iter().filter(|(fid, _)| !held.contains(*fid)) {
                let why = match (registered, removed.get(fid), registered_at.get(name)) {
                    (false, _, _) => "and was still not registered with the master at the end of the run".to_string(),
                    (true, Some(r), Some(reg))
                        if reg > r && told.get(&(name.clone(), fid.clone())).is_none_or(|t| t < reg) =>
                    {
                        format!(
                            "which the master removed at {r}, before the agent (re-)registered at {reg}, and the master never told it to shut that framework down"
                        )
                    }
                    _ => continue,
                };
                checks.push(CheckFailure {
                    check: "status updates acknowledged",
                    message: format!(
                        "agent {name} still holds {n} unacknowledged status update(s) of framework {fid}, {why}"
                    ),
                });
            }
        }
    }
    for v in world.violations() {
        checks.push(CheckFailure { check: "invariant", message: format!("at {}: {}: {}", v.at, v.actor, v.problem) });
    }
    let mut history: Vec<(SimTime, MasterEvent)> =
        c.masters.iter().flat_map(|m| m.with(|m| m.history().to_vec())).collect();
    history.sort_by_key(|(t, _)| *t);
    let exits: Vec<(String, Option<(SimTime, i32)>)> = apps.iter().map(|a| (a.name.clone(), a.exit)).collect();
    let messages = log.lock().unwrap_or_else(|p| p.into_inner());
    let evidence = Evidence {
        messages: &messages,
        history: &history,
        exits: &exits,
        agent_deaths: &c.agent_deaths,
        agents_pending: &pending,
    };
    let expectations: Vec<Verdict> = match failure {
        Some(_) => Vec::new(),
        None => {
            for (t, name, problem) in check_message_invariants(&evidence) {
                checks.push(CheckFailure { check: name, message: format!("at {t}: {problem}") });
            }
            scenario.expectations.iter().map(|e| evaluate(e, &evidence)).collect()
        }
    };
    let mut idle = did_nothing.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let faults = world.fault_reports();
    for f in &faults {
        if f.applied == 0 {
            idle.push(Idle {
                label: f.label.clone(),
                text: format!("fault {}: never matched anything; it did nothing", f.label),
            });
        }
    }
    // A fault that did nothing is a false green: the run did not test what the
    // scenario says it tests. It fails the run unless the fault is `optional`
    // (it may legitimately not fire), in which case it is only a warning.
    let optional: BTreeSet<&str> = scenario.faults.iter().filter(|f| f.optional).map(|f| f.label.as_str()).collect();
    let mut warnings = Vec::new();
    // A run stopped by a failure (panic, livelock, transport refusal) is not
    // judged: its faults may simply not have come due.
    if failure.is_some() {
        idle.clear();
    }
    for Idle { label, text } in idle {
        if optional.contains(label.as_str()) {
            warnings.push(format!("{text} (optional = true)"));
        } else {
            checks.push(CheckFailure {
                check: "fault applied",
                message: format!("{text} (mark it `optional = true` if it may legitimately not fire)"),
            });
        }
    }
    let (messages_n, by_kind, digest) = world.with_trace(|t| (t.messages(), t.counts().clone(), t.finish()));
    let master = c.masters.last().map(|m| m.with(|m| m.stats())).unwrap_or_default();
    Ok(Report {
        scenario: scenario.name.clone(),
        seed,
        transport,
        ended_at,
        apps,
        master,
        messages: messages_n,
        by_kind,
        checks,
        expectations,
        faults,
        warnings,
        history,
        digest: digest?,
        failure,
    })
}

impl Report {
    /// The summary printed after the timeline.
    pub fn render(&self, out: &mut dyn Write) -> std::io::Result<()> {
        writeln!(out)?;
        writeln!(
            out,
            "summary: scenario {} (seed {}, transport {}), ended at {}",
            self.scenario,
            self.seed,
            match self.transport {
                Transport::Grpc => "grpc",
                Transport::Memory => "memory",
            },
            self.ended_at
        )?;
        for a in &self.apps {
            let r = &a.driver_report;
            match a.exit {
                Some((at, status)) => writeln!(
                    out,
                    "  app {}: submitted {}, driver exited {} with status {status}: ran {:.3}s, {} tasks finished, {} executors launched",
                    a.name,
                    a.submitted_at,
                    at,
                    at.since(a.submitted_at).as_secs_f64(),
                    r.tasks_finished,
                    r.executors_launched
                )?,
                None => writeln!(
                    out,
                    "  app {}: submitted {}, still running: {} tasks finished, {} executors launched",
                    a.name, a.submitted_at, r.tasks_finished, r.executors_launched
                )?,
            }
            // Spark's starvation warning, with why the app could not be placed.
            if let Some(why) = &r.starved {
                writeln!(out, "    never placed ({} warning(s)): {why}", r.starvation_warnings)?;
            }
        }
        let m = &self.master;
        writeln!(
            out,
            "  offers: {} made, {} accepted, {} declined, {} rescinded; {} tasks launched; {} allocation cycles",
            m.offers_made,
            m.offers_accepted,
            m.offers_declined,
            m.offers_rescinded,
            m.tasks_launched,
            m.allocation_cycles
        )?;
        writeln!(out, "  messages: {}", self.messages)?;
        for ((proto, kind), n) in &self.by_kind {
            writeln!(out, "    {n:>7}  {kind:<26} {proto}")?;
        }
        if !self.faults.is_empty() {
            writeln!(out, "  faults:")?;
            for f in &self.faults {
                writeln!(out, "    {:>7}  applied by {}", f.applied, f.label)?;
            }
        }
        for w in &self.warnings {
            writeln!(out, "warning: {w}")?;
        }
        for e in &self.expectations {
            let mark = if e.held { "ok" } else { "FAILED" };
            writeln!(out, "expect {mark}: {}: {} ({})", e.label, e.text, e.observed)?;
        }
        if let Some(f) = &self.failure {
            writeln!(out, "run FAILED ({}): {f}", f.kind())?;
            writeln!(out, "not judged: the run stopped at {}, before its end", f.at())?;
        } else if self.checks.is_empty() {
            writeln!(out, "checks: all hold")?;
        } else {
            for c in &self.checks {
                writeln!(out, "check failed [{}]: {}", c.check, c.message)?;
            }
        }
        if let Some(d) = &self.digest {
            writeln!(out, "digest: {d}")?;
        }
        Ok(())
    }
}
