//! Spark in client mode, as one framework among others: each `[[apps]]`
//! spark-submit becomes a driver (`driver:<app>`), and the containers Mesos
//! launches for it run Spark's `CoarseGrainedExecutorBackend`.
//!
//! ```text
//!   AppSpec (spark-submit + conf + jobs) ──SparkApps::add_to──▶ ClusterBuilder
//!        ├─ one SparkApp framework per app: a SparkDriver, restarted as a new SparkContext
//!        └─ the program SparkExecutorBackend: an executor command → SparkExecutor, found through the address book
//!           (spark://CoarseGrainedScheduler@<host>:<port> → the driver's actor)
//! ```
//!
//! This module and `in_task` (the driver as a Mesos task's process) are the
//! only ones of the crate that name `SparkDriver`.

use super::dist::DurationDist;
use super::in_task::SparkSubmitProgram;
use super::spec::{AppSpec, JobSpec, driver_names};
use crate::cluster::{ClusterBuilder, Framework, FrameworkCtx, FrameworkReport, Process, RunError, Words};
use crate::submit::{DeployMode, SparkConf};
use mesocosm_driver::conf::TimeUnit;
use mesocosm_driver::{DriverConfig, DriverReport, Job, SparkDriver, SparkSettings, Stage, TaskDurations};
use mesocosm_executor::{DriverBook, SparkDriverAddress, SparkExecutorBackend, SparkInstalled};
use mesocosm_sim::{ActorId, Shared};
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};
use std::any::Any;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

/// libmesos's ZooKeeper detector for `--master mesos://zk://…`, when the
/// cluster runs an ensemble (`ensemble`; without one, mesocosm's single master
/// stands for whichever master ZooKeeper would name, as before). Its session
/// starts at the first server of the connect string.
pub(super) fn zk_session(ensemble: bool, url: &crate::submit::MasterUrl) -> Option<mesocosm_zookeeper::ZkConfig> {
    let crate::submit::MasterUrl::MesosZk { servers, path } = url else { return None };
    ensemble.then(|| mesocosm_zookeeper::ZkConfig {
        servers: servers.iter().map(|(h, _)| ActorId::new(h)).collect(),
        path: path.clone(),
        session_timeout: mesocosm_zookeeper::SESSION_TIMEOUT,
        first: 0,
    })
}

/// The typed Spark settings the driver needs, from the effective conf.
pub fn spark_settings(conf: &SparkConf) -> Result<SparkSettings, String> {
    let d = SparkSettings::default();
    // `stringConf.toSequence`: comma-separated, trimmed, empty entries dropped.
    let sequence = |key: &str| -> Vec<String> {
        conf.get(key).map(|v| mesocosm_driver::conf::string_to_seq(v).map(str::to_string).collect()).unwrap_or_default()
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

/// `spark.rpc.askTimeout`, which falls back to `spark.network.timeout` (120 s), as
/// in Spark's `RpcUtils.askRpcTimeout`.
pub fn ask_timeout(conf: &SparkConf) -> Result<Duration, String> {
    let network = conf.duration("spark.network.timeout", Duration::from_secs(120), TimeUnit::Seconds)?;
    conf.duration("spark.rpc.askTimeout", network, TimeUnit::Seconds)
}

/// Check an app before anything starts (bad input: exit 2).
pub fn validate_app(app: &AppSpec) -> Result<(), RunError> {
    // Cluster mode goes to a dispatcher ([`super::dispatcher`]); the scenario
    // language checks that its --master names one.
    app.conf.deploy_mode().map_err(RunError::Unsupported)?;
    spark_settings(&app.conf).map_err(|e| RunError::Unsupported(format!("app {}: {e}", app.name)))?;
    ask_timeout(&app.conf).map_err(|e| RunError::Unsupported(format!("app {}: {e}", app.name)))?;
    Ok(())
}

/// Where each driver listens (`spark://CoarseGrainedScheduler@<host>:<port>`):
/// its actor, `spark.executor.heartbeatInterval` and `spark.rpc.askTimeout`,
/// which its executors use.
type AddressBook = BTreeMap<String, SparkDriverAddress>;

/// The properties a driver sends its executors (`SparkAppConfig`): the
/// `spark.*` conf, with the app's name and where the driver listens as the
/// running SparkContext sets them.
pub(super) fn driver_properties(conf: &SparkConf, name: &str, host: &str, port: u32) -> Vec<(String, String)> {
    let mut properties: Vec<(String, String)> =
        conf.iter().filter(|(k, _)| k.starts_with("spark.")).map(|(k, v)| (k.to_string(), v.to_string())).collect();
    properties.retain(|(k, _)| k != "spark.app.name" && k != "spark.driver.host" && k != "spark.driver.port");
    properties.push(("spark.app.name".into(), name.to_string()));
    properties.push(("spark.driver.host".into(), host.to_string()));
    properties.push(("spark.driver.port".into(), port.to_string()));
    properties.sort();
    properties
}

/// An app's jobs with their stages' durations seeded from the run's seed,
/// one generator per (app, job, stage): `seed_for(label)` draws a seed for a
/// label from the run's root seed.
pub(super) fn workload(name: &str, jobs: &[JobSpec], seed_for: impl Fn(&str) -> u64) -> Vec<Job> {
    jobs.iter()
        .enumerate()
        .map(|(ji, j)| Job {
            name: j.name.clone(),
            stages: j
                .stages
                .iter()
                .enumerate()
                .map(|(si, s)| {
                    let seed = seed_for(&format!("workload:{name}/job {ji}/stage {si}"));
                    let durations = Arc::new(DrawnDurations { dist: s.duration.clone(), seed });
                    Stage::drawn(format!("stage {si} of {}", j.name), s.tasks, durations)
                        .with_parents(s.parents.clone())
                })
                .collect(),
        })
        .collect()
}

/// Spark's `[[apps]]` as frameworks of a cluster.
pub struct SparkApps;

impl SparkApps {
    /// Add every app the scenario submits (a driver each, named `driver:<app>`,
    /// made unique as [`driver_names`] does), the program that runs a
    /// spark-submit inside a Mesos task ([`SparkSubmitProgram`], which knows
    /// the apps marked [`AppSpec::in_task`]), and the program that runs their
    /// executors. `without_spark` are the hosts where Spark is not installed;
    /// `spark_in_image` says, for each declared image, whether Spark is in it.
    pub fn add_to(
        builder: ClusterBuilder,
        apps: &[AppSpec],
        without_spark: BTreeSet<String>,
        spark_in_image: BTreeMap<String, bool>,
    ) -> Result<ClusterBuilder, RunError> {
        let master = ActorId::new(&builder.master_spec().name);
        let mut builder = builder;
        let mut address_book = AddressBook::new();
        // A cluster-mode app's driver runs in the task its dispatcher launches.
        let (in_task, submitted): (Vec<AppSpec>, Vec<AppSpec>) =
            apps.iter().cloned().partition(|a| a.in_task || a.conf.deploy_mode() == Ok(DeployMode::Cluster));
        let apps = &submitted[..];
        for (i, (app, name)) in apps.iter().zip(driver_names(apps)).enumerate() {
            validate_app(app)?;
            let driver = ActorId::new(format!("driver:{name}"));
            let port = app.conf.u32("spark.driver.port", 0).unwrap_or(0);
            // spark.driver.port 0 means "any free port"; give each driver its own.
            let port = if port == 0 { 7078 + i as u32 } else { port };
            let url = format!("spark://CoarseGrainedScheduler@{}:{port}", app.host);
            let settings = spark_settings(&app.conf).map_err(RunError::Unsupported)?;
            let asks = ask_timeout(&app.conf).map_err(RunError::Unsupported)?;
            address_book.insert(
                url.clone(),
                SparkDriverAddress {
                    driver: driver.clone(),
                    heartbeat_interval: settings.heartbeat_interval,
                    ask_timeout: asks,
                },
            );
            let properties = driver_properties(&app.conf, &name, &app.host, port);
            let cfg = DriverConfig {
                me: driver.clone(),
                master: master.clone(),
                app_name: name.clone(),
                user: "root".into(),
                hostname: app.host.clone(),
                driver_url: url,
                settings,
                properties,
                workload: Vec::new(),
                framework_id: None,
                host_files: app.files.clone(),
                zk: zk_session(builder.zookeeper_servers() > 0, &app.submit.master),
            };
            let fw = SparkApp { cfg, jobs: app.jobs.clone(), sampled: false, core: None };
            builder = builder.add_framework(&name, driver, app.at, fw);
        }
        let book = DriverBook::new(address_book);
        let installed = SparkInstalled::new(without_spark.clone(), spark_in_image.clone());
        // Ports after the submitted drivers', so no two drivers share a URL.
        let first_port = 7078 + apps.len() as u32;
        let spark_submit = SparkSubmitProgram::new(master, &in_task, apps, first_port, book.clone(), installed)?
            .with_ensemble(builder.zookeeper_servers() > 0);
        Ok(builder
            .program(spark_submit)
            .program(SparkExecutorBackend::with_book(book, without_spark).with_images(spark_in_image)))
    }
}

/// One spark-submit in client mode: its driver, started at submission and
/// again (as a new SparkContext) after each restart.
struct SparkApp {
    cfg: DriverConfig,
    jobs: Vec<JobSpec>,
    /// Whether `cfg.workload` has been drawn (at the first start: the draws
    /// come from the run's seed).
    sampled: bool,
    /// The current incarnation.
    core: Option<Shared<SparkDriver>>,
}

impl SparkApp {
    /// The jobs with their stages' durations seeded from the run's seed.
    fn workload(&self, ctx: &FrameworkCtx<'_>) -> Vec<Job> {
        workload(&self.cfg.app_name, &self.jobs, |label| ctx.rng_for(label).next_u64())
    }

    fn report(&self) -> DriverReport {
        self.core.as_ref().map(|c| c.with(|d| d.report())).unwrap_or_default()
    }
}

impl Framework for SparkApp {
    fn start(&mut self, ctx: &FrameworkCtx<'_>) -> Process {
        if !self.sampled {
            self.cfg.workload = self.workload(ctx);
            self.sampled = true;
        }
        let core = Shared::new(SparkDriver::new(self.cfg.clone()));
        self.core = Some(core.clone());
        Process::new(core)
    }

    fn words(&self) -> Words {
        Words { check: "app finishes", noun: "app", process: "driver" }
    }

    fn start_event(&self, name: &str) -> String {
        format!("spark-submit: driver of {name} starts")
    }

    fn restart_note(&self, id: &ActorId) -> String {
        // Why a new framework: a relaunched Spark driver starts a new
        // SparkContext, which numbers its Mesos tasks from 0 again. Since
        // SPARK-21502 (Spark 2.3) even the dispatcher's relaunch of a
        // `--supervise` driver gets a new framework id (`…-retry-N`), so
        // the new tasks cannot collide with the old framework's, which
        // Mesos would refuse ("Duplicate task"). Only a driver given
        // `spark.mesos.driver.frameworkId` subscribes under a fixed id.
        let old = self.report().framework_id;
        let fixed = self
            .cfg
            .framework_id
            .clone()
            .or_else(|| self.cfg.property("spark.mesos.driver.frameworkId").map(str::to_string));
        match (fixed, old) {
            (Some(f), _) => {
                format!("{id} restarts and re-subscribes as framework {f} (spark.mesos.driver.frameworkId)")
            }
            (None, Some(old)) => format!(
                "{id} restarts and subscribes as a new framework; framework {old} is left to its failover_timeout"
            ),
            (None, None) => format!("{id} restarts (it had no framework id yet)"),
        }
    }

    fn summary(&self, a: &FrameworkReport) -> Vec<String> {
        let r = self.report();
        // Two levels, two kinds of task: Mesos launched each executor as a
        // Mesos task (through ACCEPT); Spark's driver then ran its own tasks
        // on those executors, where Mesos never sees them.
        let mut lines = vec![
            match a.exit {
                Some((at, status)) => format!(
                    "  app {}: submitted {}, driver exited {at} with status {status} (ran {:.3}s)",
                    a.name,
                    a.started_at,
                    at.since(a.started_at).as_secs_f64(),
                ),
                None => format!("  app {}: submitted {}, still running", a.name, a.started_at),
            },
            format!(
                "    {} launched as Mesos tasks; {} finished, {} failed",
                count(r.executors_launched, "executor"),
                count(r.tasks_finished, "Spark task"),
                count(r.task_failures, "attempt"),
            ),
        ];
        // Spark's starvation warning, with why the app could not be placed.
        if let Some(why) = &r.starved {
            lines.push(format!("    never placed ({} warning(s)): {why}", r.starvation_warnings));
        }
        lines
    }

    fn details(&self) -> Option<Arc<dyn Any + Send + Sync>> {
        Some(Arc::new(self.report()))
    }
}

/// `1 executor`, `2 executors`.
fn count(n: u64, noun: &str) -> String {
    if n == 1 { format!("1 {noun}") } else { format!("{n} {noun}s") }
}
