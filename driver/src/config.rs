//! What a driver is started with: the typed Spark conf, the workload, and the
//! executor sizing rules that follow from the conf.
//!
//! A real driver reads `SparkConf` strings; the scenario crate parses those
//! (`spark-submit --conf …`, `spark-defaults.conf`) and hands the driver two
//! views of the same conf:
//!
//! - [`SparkSettings`]: the keys the scheduling code reads, already typed
//!   (`spark.cores.max = 8` is `cores_max: Some(8)`), with Spark 3.5's
//!   defaults in [`SparkSettings::default`];
//! - `DriverConfig::properties`: every `spark.*` pair verbatim, because that
//!   is what the driver ships to executors in `SparkAppConfig`, and because a
//!   few rarely used keys (`spark.mesos.uris`, `spark.executor.extraJavaOptions`…)
//!   only shape the executor's command line and are read from there.
//!
//! The sizing functions at the bottom ([`executor_memory_mib`], [`max_cores`])
//! are the two formulas users most often get wrong about Spark on Mesos, so
//! they are public and tested on worked examples.
//!
//! ```
//! use mesocosm_driver::{SparkSettings, executor_memory_mib, max_cores};
//!
//! let mut s = SparkSettings::default();
//! assert_eq!(executor_memory_mib(&s), 1408); // 1g + max(384, 10%)
//! s.cores_max = Some(7);
//! s.executor_cores = Some(2);
//! assert_eq!(max_cores(&s), 6); // SPARK-20483: rounded down to whole executors
//! ```

use mesocosm_sim::ActorId;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// Everything a [`crate::SparkDriver`] needs to run one Spark application.
#[derive(Clone, Debug)]
pub struct DriverConfig {
    /// This driver's actor name (`driver:<app>`).
    pub me: ActorId,
    /// The Mesos master it subscribes to.
    pub master: ActorId,
    /// `spark.app.name`, which Spark uses as the Mesos framework name.
    pub app_name: String,
    /// The user the app runs as (`sc.sparkUser`), the framework's `user`.
    pub user: String,
    /// `spark.driver.host` (or `$SPARK_PUBLIC_DNS`), the framework's `hostname`.
    pub hostname: String,
    /// `spark://CoarseGrainedScheduler@<host>:<port>`, passed to every executor.
    pub driver_url: String,
    /// The typed conf the scheduling code reads.
    pub settings: SparkSettings,
    /// Every `spark.*` key and value, sent to executors in `SparkAppConfig`.
    pub properties: Vec<(String, String)>,
    /// The jobs the application runs, in order.
    pub workload: Vec<Job>,
    /// `spark.mesos.driver.frameworkId`: the framework id to register with.
    ///
    /// Set by whoever launches the driver under a framework id chosen for it
    /// (the cluster dispatcher names each launch `<its id>-<submission>[-retry-N]`).
    /// The first SUBSCRIBE then carries it, so a master that knows the id
    /// treats the driver as the same framework failing over (within
    /// `failover_timeout`) or answers ERROR "Framework has been removed".
    /// Takes precedence over the same key in `properties`.
    pub framework_id: Option<String>,
    /// Files on the host that runs spark-submit (path → contents), which the
    /// driver reads there: `spark.mesos.principal.file`, `spark.mesos.secret.file`.
    pub host_files: BTreeMap<String, String>,
    /// `--master mesos://zk://…`: detect the leading master through this
    /// ZooKeeper group (then `master` is not used).
    pub zk: Option<mesocosm_zookeeper::ZkConfig>,
}

impl DriverConfig {
    /// The unit tests' driver: app "pi" of user alice on driver-host:7078.
    #[cfg(test)]
    pub(crate) fn for_tests(settings: SparkSettings, props: &[(&str, &str)], workload: Vec<Job>) -> DriverConfig {
        DriverConfig {
            me: ActorId::new("driver:pi"),
            master: ActorId::new("master"),
            app_name: "pi".into(),
            user: "alice".into(),
            hostname: "driver-host".into(),
            driver_url: "spark://CoarseGrainedScheduler@driver-host:7078".into(),
            settings,
            properties: props.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            workload,
            framework_id: None,
            host_files: BTreeMap::new(),
            zk: None,
        }
    }

    /// The value of `key` in [`DriverConfig::properties`] (the last one wins,
    /// as in `SparkConf`).
    pub fn property(&self, key: &str) -> Option<&str> {
        self.properties.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
}

/// The Spark conf keys the driver's scheduling code reads, typed.
///
/// `Default` is Spark 3.5's defaults.
#[derive(Clone, Debug, PartialEq)]
pub struct SparkSettings {
    /// `spark.cores.max`; unset means "every core Mesos offers".
    pub cores_max: Option<u32>,
    /// `spark.executor.cores`; unset means "each executor takes a whole offer".
    pub executor_cores: Option<u32>,
    /// `spark.executor.memory` in MiB (1024).
    pub executor_memory_mib: u64,
    /// `spark.mesos.executor.memoryOverhead` in MiB; replaces the factor rule.
    pub memory_overhead_mib: Option<u64>,
    /// `spark.executor.memoryOverheadFactor` (0.10).
    pub memory_overhead_factor: f64,
    /// `spark.task.cpus` (1): cores one Spark task occupies on an executor.
    pub task_cpus: u32,
    /// `spark.task.maxFailures` (4): failed attempts of one task (per task
    /// index, per stage) after which Spark aborts the stage and its job.
    pub task_max_failures: u32,
    /// `spark.mesos.rejectOfferDuration` (120 s), the default of the next two.
    pub reject_offer_duration: Duration,
    /// `spark.mesos.rejectOfferDurationForUnmetConstraints` (120 s).
    pub reject_for_unmet_constraints: Duration,
    /// `spark.mesos.rejectOfferDurationForReachedMaxCores` (120 s).
    pub reject_for_reached_max_cores: Duration,
    /// `spark.mesos.driver.failoverTimeout` in seconds (0.0: torn down at once).
    pub failover_timeout: f64,
    /// `spark.mesos.role`; unset leaves the framework's role at Mesos's `*`.
    pub role: Option<String>,
    /// `spark.mesos.coarse.shutdownTimeout` (10 s).
    pub shutdown_timeout: Duration,
    /// `spark.executor.heartbeatInterval` (10 s).
    pub heartbeat_interval: Duration,
    /// `spark.network.timeout` (120 s).
    pub network_timeout: Duration,
    /// `spark.mesos.executor.home`: where Spark lives on the agents.
    pub executor_home: String,
    /// `spark.mesos.constraints`, raw (parsed by [`crate::constraints`]).
    pub constraints: String,
    /// `spark.mesos.extra.cores` (0): cores each executor *advertises* on top
    /// of the ones it reserves (`--cores`), so the driver sends it more tasks.
    pub extra_cores: u32,
    /// `spark.mesos.gpus.max` (0): the most GPUs the app holds; above 0 it
    /// also registers with the `GPU_RESOURCES` capability.
    pub gpus_max: u32,
    /// `spark.blockManager.port` (0 = any free port). Non-zero, every executor
    /// needs exactly this port from the offer, so at most one runs per host.
    pub block_manager_port: u32,
    /// `spark.mesos.task.labels` (""), raw: `k:v,k2:v2` with `\,` and `\:`
    /// escapes, parsed when an executor is launched.
    pub task_labels: String,
    /// `spark.mesos.executor.docker.image`: the image executors run in.
    pub docker_image: Option<String>,
    /// `spark.mesos.containerizer` (docker): who runs that image.
    pub containerizer: Containerizer,
    /// `spark.mesos.executor.docker.forcePullImage` (unset = false).
    pub docker_force_pull_image: bool,
    /// `spark.mesos.executor.docker.volumes`: `[host:]container[:ro|rw]` entries.
    pub docker_volumes: Vec<String>,
    /// `spark.mesos.executor.docker.portmaps`: `host:container[:proto]` entries.
    pub docker_port_maps: Vec<String>,
    /// `spark.mesos.executor.docker.parameters`: `key=value` entries for `docker run`.
    pub docker_parameters: Vec<String>,
    /// `spark.mesos.network.name`: the CNI network executors join (and then
    /// no `--hostname`, SPARK-28778).
    pub network_name: Option<String>,
    /// `spark.mesos.network.labels`, raw, in the task-label syntax.
    pub network_labels: Option<String>,
    /// `spark.shuffle.service.enabled` (false).
    pub shuffle_service_enabled: bool,
    /// `spark.locality.wait` (3 s); the Mesos backend uses it to wait for
    /// offers on hosts with local data while dynamic allocation ramps up.
    pub locality_wait: Duration,
    /// `spark.executor.instances`; on Mesos it only matters to dynamic
    /// allocation's initial target (cores.max sizes a static app).
    pub executor_instances: Option<u32>,
    /// `spark.dynamicAllocation.*`.
    pub dynamic_allocation: DynamicAllocation,
}

/// `spark.mesos.containerizer`: which Mesos containerizer runs the Docker image.
///
/// Spark's conf only accepts these two values (`checkValues(Set("docker", "mesos"))`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Containerizer {
    /// The Docker containerizer: a `DOCKER` ContainerInfo with a `DockerInfo`.
    #[default]
    Docker,
    /// The Mesos (universal) containerizer: a `MESOS` ContainerInfo whose
    /// `MesosInfo` names a Docker image.
    Mesos,
}

/// The `spark.dynamicAllocation.*` keys (`ExecutorAllocationManager`), with
/// Spark 3.5's defaults in `Default`.
///
/// The three timeouts are `timeConf(SECONDS)` in Spark: whole seconds, a
/// fraction is truncated (so `500ms` is 0 and rejected).
#[derive(Clone, Debug, PartialEq)]
pub struct DynamicAllocation {
    /// `spark.dynamicAllocation.enabled` (false).
    pub enabled: bool,
    /// `spark.dynamicAllocation.minExecutors` (0).
    pub min_executors: u32,
    /// `spark.dynamicAllocation.maxExecutors` (Int.MaxValue).
    pub max_executors: u32,
    /// `spark.dynamicAllocation.initialExecutors` (unset = minExecutors).
    pub initial_executors: Option<u32>,
    /// `spark.dynamicAllocation.schedulerBacklogTimeout` (1 s).
    pub scheduler_backlog_timeout: Duration,
    /// `spark.dynamicAllocation.sustainedSchedulerBacklogTimeout` (falls back
    /// to schedulerBacklogTimeout).
    pub sustained_scheduler_backlog_timeout: Duration,
    /// `spark.dynamicAllocation.executorIdleTimeout` (60 s).
    pub executor_idle_timeout: Duration,
    /// `spark.dynamicAllocation.shuffleTracking.enabled` (false in 3.5).
    pub shuffle_tracking_enabled: bool,
}

impl Default for DynamicAllocation {
    fn default() -> Self {
        DynamicAllocation {
            enabled: false,
            min_executors: 0,
            max_executors: i32::MAX as u32,
            initial_executors: None,
            scheduler_backlog_timeout: Duration::from_secs(1),
            sustained_scheduler_backlog_timeout: Duration::from_secs(1),
            executor_idle_timeout: Duration::from_secs(60),
            shuffle_tracking_enabled: false,
        }
    }
}

impl Default for SparkSettings {
    fn default() -> Self {
        SparkSettings {
            cores_max: None,
            executor_cores: None,
            executor_memory_mib: 1024,
            memory_overhead_mib: None,
            memory_overhead_factor: 0.10,
            task_cpus: 1,
            task_max_failures: 4,
            reject_offer_duration: Duration::from_secs(120),
            reject_for_unmet_constraints: Duration::from_secs(120),
            reject_for_reached_max_cores: Duration::from_secs(120),
            failover_timeout: 0.0,
            role: None,
            shutdown_timeout: Duration::from_secs(10),
            heartbeat_interval: Duration::from_secs(10),
            network_timeout: Duration::from_secs(120),
            executor_home: "/opt/spark".to_string(),
            constraints: String::new(),
            extra_cores: 0,
            gpus_max: 0,
            block_manager_port: 0,
            task_labels: String::new(),
            docker_image: None,
            containerizer: Containerizer::Docker,
            docker_force_pull_image: false,
            docker_volumes: Vec::new(),
            docker_port_maps: Vec::new(),
            docker_parameters: Vec::new(),
            network_name: None,
            network_labels: None,
            shuffle_service_enabled: false,
            locality_wait: Duration::from_secs(3),
            executor_instances: None,
            dynamic_allocation: DynamicAllocation::default(),
        }
    }
}

/// One Spark job (one action such as `count()`): a DAG of stages.
///
/// `DAGScheduler` cuts a job at its shuffle dependencies: every stage but the
/// last is a *ShuffleMapStage* whose tasks write map output for the stages
/// that read it, and the last is the *ResultStage* whose tasks send their
/// results to the driver. `stages` lists them in topological order (every
/// stage's parents come before it), so the last one is the ResultStage.
///
/// Most jobs are a chain (`textFile → map → reduceByKey → collect` is two
/// stages, the second reading the first): build those with [`Job::chain`].
/// A join of two inputs has two independent parents; give those explicitly:
///
/// ```
/// use mesocosm_driver::{Job, Stage};
/// use std::time::Duration;
///
/// let t = |n| vec![Duration::from_secs(1); n];
/// let chain = Job::chain("count", vec![Stage::new("map", t(4)), Stage::new("reduce", t(2))]);
/// assert_eq!(chain.stages[1].parents, vec![0]);
///
/// let join = Job {
///     name: "join".into(),
///     stages: vec![
///         Stage::new("left", t(4)),
///         Stage::new("right", t(4)),
///         Stage::new("join", t(2)).with_parents(vec![0, 1]),
///     ],
/// };
/// assert_eq!(join.check(), Ok(()));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Job {
    /// A name for the timeline, e.g. `count at SparkPi.scala:38`.
    pub name: String,
    /// The stages, parents before children; the last is the ResultStage.
    pub stages: Vec<Stage>,
}

impl Job {
    /// A job whose stages form a chain: stage `i` reads the shuffle output of
    /// stage `i - 1` (its `parents` are set to exactly that).
    pub fn chain(name: impl Into<String>, mut stages: Vec<Stage>) -> Job {
        for (i, s) in stages.iter_mut().enumerate() {
            s.parents = if i == 0 { Vec::new() } else { vec![i - 1] };
        }
        Job { name: name.into(), stages }
    }

    /// Why this DAG is not one `DAGScheduler` could have built, if it is not.
    ///
    /// Why these two rules: a stage can only read shuffle output written by a
    /// stage Spark created before it (parents first), and a job holds only the
    /// ancestors of its final RDD, so every ShuffleMapStage is read by a later
    /// stage of the same job.
    pub fn check(&self) -> Result<(), String> {
        let last = self.stages.len().saturating_sub(1);
        for (i, s) in self.stages.iter().enumerate() {
            if let Some(p) = s.parents.iter().find(|p| **p >= i) {
                return Err(format!(
                    "job {:?}: stage {i} ({}) lists parent {p}, which is not an earlier stage of the job",
                    self.name, s.name
                ));
            }
            if i < last && !self.stages[i + 1..].iter().any(|c| c.parents.contains(&i)) {
                return Err(format!(
                    "job {:?}: stage {i} ({}) is not the last stage, so it must be a parent of a later one",
                    self.name, s.name
                ));
            }
        }
        Ok(())
    }
}

/// How long the tasks of one stage run, task by task, on demand.
///
/// Why on demand: a stage can declare millions of tasks, and the driver
/// keeps state only for the tasks alive (see the scheduler's module docs);
/// drawing every duration up front would hold one per declared task. An
/// implementation must answer the same for the same `partition` whenever it
/// is asked, whatever was asked before, so a run replays whatever order the
/// tasks run in.
pub trait TaskDurations: fmt::Debug + Send + Sync {
    /// How long the task of `partition` (`0..tasks`) runs on an executor.
    fn duration(&self, partition: u32) -> Duration;
}

/// A list of durations, one per partition (what tests and small examples use).
impl TaskDurations for Vec<Duration> {
    fn duration(&self, partition: u32) -> Duration {
        self.get(partition as usize).copied().unwrap_or_default()
    }
}

/// One stage: a set of identical tasks, one per partition.
#[derive(Clone, Debug)]
pub struct Stage {
    /// A name for the timeline.
    pub name: String,
    /// How many tasks (partitions) the stage has.
    pub tasks: u32,
    /// How long each task runs on an executor (drawn deterministically from
    /// the scenario's distribution, so the driver stays deterministic).
    pub durations: Arc<dyn TaskDurations>,
    /// The stages (indices into [`Job::stages`], each smaller than this
    /// stage's own) whose shuffle output this stage reads; it runs once they
    /// have all finished. Empty: it reads only input data.
    pub parents: Vec<usize>,
}

impl PartialEq for Stage {
    /// Same name, task count and parents, and the same duration for every
    /// task (compared task by task unless both share one source).
    fn eq(&self, other: &Stage) -> bool {
        self.name == other.name
            && self.tasks == other.tasks
            && self.parents == other.parents
            && (Arc::ptr_eq(&self.durations, &other.durations)
                || (0..self.tasks).all(|p| self.durations.duration(p) == other.durations.duration(p)))
    }
}

impl Stage {
    /// A stage with no parents whose task `i` runs `task_durations[i]` (see
    /// [`Stage::with_parents`] and [`Job::chain`]).
    pub fn new(name: impl Into<String>, task_durations: Vec<Duration>) -> Stage {
        // A stage holds at most u32::MAX tasks, as Spark's partition ids are Ints.
        let tasks = u32::try_from(task_durations.len()).unwrap_or(u32::MAX);
        Stage::drawn(name, tasks, Arc::new(task_durations))
    }

    /// A stage of `tasks` tasks whose durations come from `durations`.
    pub fn drawn(name: impl Into<String>, tasks: u32, durations: Arc<dyn TaskDurations>) -> Stage {
        Stage { name: name.into(), tasks, durations, parents: Vec::new() }
    }

    /// The same stage, reading the shuffle output of `parents`.
    pub fn with_parents(mut self, parents: Vec<usize>) -> Stage {
        self.parents = parents;
        self
    }
}

/// Spark's floor for the executor memory overhead, in MiB
/// (`MEMORY_OVERHEAD_MINIMUM`, copied from YARN).
pub const MEMORY_OVERHEAD_MINIMUM_MIB: u64 = 384;

/// The memory overhead added to `spark.executor.memory`, in MiB.
///
/// Why: `MesosSchedulerUtils.executorMemory` (3.3+) uses
/// `spark.mesos.executor.memoryOverhead` if set, else
/// `max(factor * memory, 384).toInt`: the product is truncated, so 4096 MiB
/// gets 409 MiB, not 410.
pub fn memory_overhead_mib(s: &SparkSettings) -> u64 {
    match s.memory_overhead_mib {
        Some(o) => o,
        None => {
            let by_factor = s.memory_overhead_factor * s.executor_memory_mib as f64;
            // `.toInt` truncates toward zero; the max keeps it ≥ 384.
            by_factor.max(MEMORY_OVERHEAD_MINIMUM_MIB as f64) as u64
        }
    }
}

/// The `mem` one executor asks Mesos for: memory plus overhead, in MiB.
///
/// Examples (`MesosSchedulerUtils.executorMemory`): 1024 → 1408, 512 → 896,
/// 4096 → 4505, and 1024 with an explicit overhead of 512 → 1536.
pub fn executor_memory_mib(s: &SparkSettings) -> u64 {
    s.executor_memory_mib + memory_overhead_mib(s)
}

/// `maxCores`: the most cores the app will hold at once.
///
/// Why: `spark.cores.max` unset means `Int.MaxValue`; either way Spark rounds
/// it down to a multiple of `spark.executor.cores` (SPARK-20483) so that
/// "reached the cap" can be detected and the 120 s decline kicks in. With
/// `cores.max=7, executor.cores=2` the app stops at 6 cores.
pub fn max_cores(s: &SparkSettings) -> i64 {
    let cores = s.cores_max.map_or(i32::MAX as i64, i64::from);
    // `minCoresPerExecutor = executorCoresOption.getOrElse(1)`; a zero is
    // rejected by `SparkDriver::new`'s validation, the max only avoids `% 0`.
    let min_per_executor = i64::from(s.executor_cores.unwrap_or(1).max(1));
    cores - cores % min_per_executor
}

/// The Mesos credential Spark builds (`MesosSchedulerUtils.buildCredentials`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Credential {
    /// Also the FrameworkInfo's `principal`.
    pub principal: Option<String>,
    pub secret: Option<String>,
}

/// `buildCredentials`: the principal from `spark.mesos.principal`, else the
/// contents of `spark.mesos.principal.file`; the secret likewise; or the
/// exception that fails the SparkContext.
///
/// Why each rule (Spark 3.5): the file is read whole with Guava's
/// `Files.toString(file, UTF_8)`, so a trailing newline stays in the
/// principal; a missing file throws `java.io.FileNotFoundException: <path>
/// (No such file or directory)`; a secret without a principal throws
/// `SparkException`. The `SPARK_MESOS_PRINCIPAL[_FILE]` and
/// `SPARK_MESOS_SECRET[_FILE]` environment variables, which Spark reads
/// between the conf keys and the files, are not modelled.
pub fn credential(cfg: &DriverConfig) -> Result<Credential, String> {
    let read = |value_key: &str, file_key: &str| -> Result<Option<String>, String> {
        if let Some(v) = cfg.property(value_key) {
            return Ok(Some(v.to_string()));
        }
        let Some(path) = cfg.property(file_key) else { return Ok(None) };
        match cfg.host_files.get(path) {
            Some(contents) => Ok(Some(contents.clone())),
            None => Err(format!("java.io.FileNotFoundException: {path} (No such file or directory)")),
        }
    };
    let principal = read("spark.mesos.principal", "spark.mesos.principal.file")?;
    let secret = read("spark.mesos.secret", "spark.mesos.secret.file")?;
    if secret.is_some() && principal.is_none() {
        return Err("spark.mesos.principal must be configured when spark.mesos.secret is set".to_string());
    }
    Ok(Credential { principal, secret })
}

/// Conf combinations that make Spark fail while the SparkContext is created,
/// with the message Spark gives (or a plain one where Spark just crashes).
pub(crate) fn validate(s: &SparkSettings) -> Result<(), String> {
    if s.executor_cores == Some(0) {
        // `cores % minCoresPerExecutor` in the backend's constructor.
        return Err("java.lang.ArithmeticException: / by zero (spark.executor.cores=0)".to_string());
    }
    if s.task_cpus == 0 {
        return Err("spark.task.cpus must be at least 1".to_string());
    }
    if s.task_max_failures == 0 {
        // `TASK_MAX_FAILURES.checkValue(_ > 0, …)` in Spark's config package.
        return Err("The retry times of task should be greater than or equal to 1".to_string());
    }
    if let Some(c) = s.executor_cores
        && c < s.task_cpus
    {
        // SparkContext checks this before any executor is requested.
        return Err(format!(
            "The number of cores per executor (={c}) has to be >= the number of cpus per task = {}.",
            s.task_cpus
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mem(m: u64) -> SparkSettings {
        SparkSettings { executor_memory_mib: m, ..SparkSettings::default() }
    }

    #[test]
    fn memory_overhead_examples_from_the_reference() {
        assert_eq!(executor_memory_mib(&mem(1024)), 1408);
        assert_eq!(executor_memory_mib(&mem(512)), 896);
        assert_eq!(executor_memory_mib(&mem(4096)), 4505, "409.6 is truncated");
        let explicit = SparkSettings { memory_overhead_mib: Some(512), ..mem(1024) };
        assert_eq!(executor_memory_mib(&explicit), 1536);
        let factor = SparkSettings { memory_overhead_factor: 0.5, ..mem(2048) };
        assert_eq!(executor_memory_mib(&factor), 3072);
    }

    #[test]
    fn max_cores_rounds_down_to_whole_executors() {
        let s = |max, exec| SparkSettings { cores_max: max, executor_cores: exec, ..SparkSettings::default() };
        assert_eq!(max_cores(&s(Some(7), Some(2))), 6);
        assert_eq!(max_cores(&s(Some(8), None)), 8);
        assert_eq!(max_cores(&s(None, None)), i32::MAX as i64);
        assert_eq!(max_cores(&s(None, Some(2))), i32::MAX as i64 - 1);
    }

    #[test]
    fn validation_catches_what_spark_rejects_at_startup() {
        let ok = SparkSettings::default();
        assert!(validate(&ok).is_ok());
        assert!(validate(&SparkSettings { executor_cores: Some(0), ..ok.clone() }).is_err());
        assert!(validate(&SparkSettings { task_cpus: 0, ..ok.clone() }).is_err());
        assert_eq!(
            validate(&SparkSettings { task_max_failures: 0, ..ok.clone() }),
            Err("The retry times of task should be greater than or equal to 1".to_string())
        );
        let e = validate(&SparkSettings { executor_cores: Some(1), task_cpus: 2, ..ok }).unwrap_err();
        assert!(e.contains("(=1)"), "{e}");
    }
}
