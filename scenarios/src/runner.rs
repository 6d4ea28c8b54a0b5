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

use crate::mesos_syntax::{AttrValue, AttributeSpec, ResourceSpec, ValueSpec};
use crate::scenario::{AppSpec, Scenario};
use crate::submit::{DeployMode, SparkConf};
use crate::units::TimeUnit;
use mesocosm_agent::{Agent, AgentConfig};
use mesocosm_driver::{DriverConfig, DriverReport, Job, SparkDriver, SparkSettings, Stage};
use mesocosm_executor::{ExecutorConfig, SparkExecutor, parse_backend_command};
use mesocosm_master::{Master, MasterConfig, MasterStats};
use mesocosm_sim::ids::{uuid_from, uuid_string};
use mesocosm_sim::proto::Resources;
use mesocosm_sim::proto::mesos::v1::{Attribute, Resource, value};
use mesocosm_sim::trace::{Timeline, TraceConfig};
use mesocosm_sim::{ActorId, Shared, SimTime, Transport, World, WorldConfig, run_world};
use rand_chacha::rand_core::Rng;
use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

/// How long the world keeps running after the last driver exits, so the
/// teardown's consequences (ShutdownFramework, executor exits) reach the trace.
pub const LINGER: Duration = Duration::from_secs(1);

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
    pub checks: Vec<CheckFailure>,
    pub digest: Option<String>,
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
            ValueSpec::Ranges(rs) => rs.iter().for_each(|(b, e)| r.add_range(&s.name, *b, *e)),
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
                AttrValue::Set(items) => {
                    attr.r#type = value::Type::Set as i32;
                    attr.set = Some(value::Set { item: items.clone() });
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
    })
}

/// The driver actor of each app, with names made unique (a second "pi" is "pi-2").
fn driver_names(apps: &[AppSpec]) -> Vec<String> {
    let mut seen: BTreeMap<&str, u32> = BTreeMap::new();
    apps.iter()
        .map(|a| {
            let n = seen.entry(a.name.as_str()).or_insert(0);
            *n += 1;
            if *n == 1 { a.name.clone() } else { format!("{}-{}", a.name, n) }
        })
        .collect()
}

struct AppRun {
    name: String,
    driver: ActorId,
    at: SimTime,
    core: Shared<SparkDriver>,
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
    }
    Ok(())
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
        let world = World::new(WorldConfig { seed, transport, latency: scenario.network.latency, trace });
        let master_id = ActorId::new(&scenario.master.name);

        // The master's id is a UUID, as in Mesos, derived from the seed.
        let master = Shared::new(Master::new(MasterConfig {
            me: master_id.clone(),
            id: uuid_string(&uuid_from(&[b"master", &seed.to_le_bytes(), scenario.master.name.as_bytes()])),
            hostname: scenario.master.name.clone(),
            allocation_interval: scenario.master.allocation_interval,
            agent_ping_timeout: scenario.master.agent_ping_timeout,
            max_agent_ping_timeouts: scenario.master.max_agent_ping_timeouts,
            offer_timeout: scenario.master.offer_timeout,
            ..MasterConfig::default()
        }));
        world.spawn(master_id.clone(), master.clone(), None);

        let mut agents = Vec::new();
        for a in &scenario.agents {
            // Mesos agents wait a random [0, registration_backoff_factor = 1 s) before registering.
            let delay = Duration::from_micros(world.rng_for(&format!("agent:{}", a.name)).next_u64() % 1_000_000);
            let core = Shared::new(Agent::new(AgentConfig {
                me: ActorId::new(&a.name),
                master: master_id.clone(),
                resources: resources(&a.resources).unwrap_or_default(),
                attributes: attributes(&a.attributes),
                port: 5051,
                registration_delay: delay,
                version: "1.11.0".into(),
            }));
            world.spawn(ActorId::new(&a.name), core.clone(), None);
            agents.push((a.name.clone(), core));
        }

        // Drivers listen at spark://CoarseGrainedScheduler@<host>:<port>; executors find them here.
        let mut address_book: BTreeMap<String, ActorId> = BTreeMap::new();
        let mut apps = Vec::new();
        for (i, (app, name)) in scenario.apps.iter().zip(driver_names(&scenario.apps)).enumerate() {
            let driver = ActorId::new(format!("driver:{name}"));
            let port = app.conf.u32("spark.driver.port", 0).unwrap_or(0);
            // spark.driver.port 0 means "any free port"; give each driver its own.
            let port = if port == 0 { 7078 + i as u32 } else { port };
            let url = format!("spark://CoarseGrainedScheduler@{}:{port}", app.host);
            address_book.insert(url.clone(), driver.clone());
            let settings = spark_settings(&app.conf).map_err(RunError::Unsupported)?;
            let mut rng = world.rng_for(&format!("workload:{name}"));
            let workload = app
                .jobs
                .iter()
                .map(|j| Job {
                    name: j.name.clone(),
                    stages: j
                        .stages
                        .iter()
                        .enumerate()
                        .map(|(si, s)| Stage {
                            name: format!("stage {si} of {}", j.name),
                            task_durations: (0..s.tasks).map(|_| s.duration.sample(&mut rng)).collect(),
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
            let core = Shared::new(SparkDriver::new(DriverConfig {
                me: driver.clone(),
                master: master_id.clone(),
                app_name: name.clone(),
                user: "root".into(),
                hostname: app.host.clone(),
                driver_url: url,
                settings,
                properties,
                workload,
            }));
            apps.push(AppRun { name: name.clone(), driver, at: SimTime(app.at.as_micros() as u64), core });
        }

        let heartbeat = SparkSettings::default().heartbeat_interval;
        let book = Arc::new(address_book);
        world.set_launcher(Arc::new(move |world: &World, agent: &ActorId, launch| {
            let command = launch.task.command.as_ref().and_then(|c| c.value.clone()).unwrap_or_default();
            // The container runs the task's command; it can only reach a driver that exists.
            let backend = parse_backend_command(&command).and_then(|args| match book.get(&args.driver_url) {
                Some(d) => Ok((args, d.clone())),
                None => Err(format!("no driver listens at {}", args.driver_url)),
            });
            let core = SparkExecutor::new(ExecutorConfig {
                me: launch.actor.clone(),
                agent: agent.clone(),
                executor_id: launch.executor.executor_id.clone(),
                framework_id: launch.framework.id.clone().unwrap_or_default(),
                backend,
                heartbeat_interval: heartbeat,
            });
            world.event(
                &launch.actor,
                &format!("container started on {} for task {}", launch.host, launch.task.task_id.value),
            );
            world.spawn(launch.actor.clone(), core, Some(agent.clone()));
        }));

        // Submit each app at its time.
        for app in &apps {
            let (w, id, core, at, name) =
                (world.clone(), app.driver.clone(), app.core.clone(), app.at, app.name.clone());
            tokio::spawn(async move {
                w.sleep_until(at).await;
                w.event(&id, &format!("spark-submit: driver of {name} starts"));
                w.spawn(id, core, None);
            });
        }

        let deadline = SimTime(scenario.until.as_micros() as u64);
        let done = |w: &World| apps.iter().all(|a| w.exit_of(&a.driver).is_some());
        loop {
            if done(&world) {
                let end = world.now().after(LINGER).min(deadline);
                world.sleep_until(end).await;
                break;
            }
            tokio::select! { biased;
                _ = world.exited() => {}
                _ = world.sleep_until(deadline) => break,
            }
        }

        let ended_at = world.now();
        let mut checks = Vec::new();
        let app_reports: Vec<AppReport> = apps
            .iter()
            .map(|a| {
                let exit = world.exit_of(&a.driver).map(|e| (e.at, e.status));
                match exit {
                    None => checks.push(CheckFailure {
                        check: "app finishes",
                        message: format!(
                            "app {} did not finish by {} (the scenario's `until`)",
                            a.name,
                            SimTime(deadline.micros())
                        ),
                    }),
                    Some((_, status)) if status != 0 => checks.push(CheckFailure {
                        check: "app finishes",
                        message: format!("app {}'s driver exited with status {status}", a.name),
                    }),
                    _ => {}
                }
                AppReport {
                    name: a.name.clone(),
                    driver: a.driver.clone(),
                    submitted_at: a.at,
                    exit,
                    driver_report: a.core.with(|d| d.report()),
                }
            })
            .collect();
        // No status update may be left unacknowledged once every framework is gone:
        // Mesos delivers them at least once while the framework can receive them.
        if app_reports.iter().all(|a| a.exit.is_some()) {
            for (name, a) in &agents {
                let n = a.with(|a| a.unacknowledged_updates());
                if n > 0 {
                    checks.push(CheckFailure {
                        check: "status updates acknowledged",
                        message: format!("agent {name} still holds {n} unacknowledged status update(s)"),
                    });
                }
            }
        }
        if let Err(problem) = master.with(|m| m.check_invariants()) {
            checks.push(CheckFailure { check: "master invariants", message: problem });
        }
        let (messages, by_kind, digest) = world.with_trace(|t| (t.messages(), t.counts().clone(), t.finish()));
        Ok(Report {
            scenario: scenario.name.clone(),
            seed,
            transport,
            ended_at,
            apps: app_reports,
            master: master.with(|m| m.stats()),
            messages,
            by_kind,
            checks,
            digest: digest?,
        })
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
        if self.checks.is_empty() {
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
