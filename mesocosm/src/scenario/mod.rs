//! The scenario file: a cluster, the applications submitted to it, and
//! what those applications do, in TOML.
//!
//! # Example
//!
//! ```toml
//! [scenario]
//! name = "spark-pi"                    # required
//! description = """What this teaches…"""  # optional
//! seed = 42                            # optional u64, default 0 (the CLI's --seed overrides)
//! until = "30m"                        # virtual-time limit of the run, default "1h", at most "18h"
//! keep_running = false                 # true: run to `until` even after every app has finished
//!
//! [network]                            # optional
//! latency = "500us"                    # one fixed latency for every link, or
//! # latency = { min = "100us", max = "2ms" }   # drawn once per link from the seed
//!                                      # (default: min 100us, max 1ms)
//!
//! [master]                             # optional; Mesos master flags (defaults are Mesos's)
//! name = "master"                      # actor/host name, default "master"
//! allocation_interval = "1s"           # --allocation_interval
//! agent_ping_timeout = "15s"           # --agent_ping_timeout (1s..15m)
//! max_agent_ping_timeouts = 5          # --max_agent_ping_timeouts (≥ 1)
//! offer_timeout = "30s"                # --offer_timeout; default: offers never time out
//! weights = "prod=3,dev=0.5"           # --weights role=weight,…; a role not named weighs 1.0
//! filter_gpu_resources = false         # --filter_gpu_resources (default true: GPU agents only to GPU_RESOURCES frameworks)
//! role_sorter = "random"               # --role_sorter: drf (default) | random | a registered one
//! framework_sorter = "drf"             # --framework_sorter: the same choices, for a role's frameworks
//! recovery_agent_removal_limit = "100%" # --recovery_agent_removal_limit: beyond it a new leader aborts
//! agent_removal_rate_limit = "1/20mins" # --agent_removal_rate_limit (default: no pacing)
//! registry_fetch_timeout = "1mins"     # --registry_fetch_timeout (default 1 min)
//! registry_store_timeout = "20secs"    # --registry_store_timeout (default 20 s)
//! count = 3                            # several masters (master-1 …) electing a leader through ZooKeeper
//! quorum = 2                           # --quorum, default count/2 + 1; zk = "zk://…/mesos" (--zk, inferred)
//!
//! [zookeeper]                          # optional: an ensemble zookeeper-001 … (docs/high-availability.md)
//! servers = 3                          # 1 to 9; an even count warns
//!
//! [[agents]]
//! name = "agent"                       # hostname; with `count`, a prefix: agent-1 … agent-N
//! count = 3                            # optional; without it, `name` is used as is
//! resources = "cpus:4;mem:8192;disk:20000;ports:[31000-32000]"   # required, Mesos --resources syntax
//! attributes = "rack:r1;zone:us-east-1a"                          # optional, Mesos --attributes syntax
//! spark_installed = true               # false: no Spark under spark.mesos.executor.home on this host,
//!                                      # so an executor started from there fails (spark.executor.uri still works;
//!                                      # in a Docker image, the image's `spark` decides)
//! # containerizers, docker_config, pre_pulled, executor_registration_timeout,
//! # registry_bandwidth: see [registry] and [fetcher] in `containers.rs` / docs/containers.md
//!
//! [[apps]]
//! submit = """spark-submit --master mesos://master:5050 \
//!   --class org.apache.spark.examples.SparkPi \
//!   --conf spark.cores.max=8 \
//!   app.jar 100"""                     # required: the real command line
//! at = "0s"                            # submission time, default 0
//! host = "edge-1"                      # where spark-submit runs (the client-mode driver's host), default "edge"
//! spark_defaults = "conf/spark-defaults.conf"   # optional, relative to this file
//! in_task = false                      # true: not submitted here; a Mesos task whose command is a
//!                                      # spark-submit naming this app (same spark.app.name) runs its
//!                                      # driver on the task's agent (Marathon's cmd, the dispatcher's
//!                                      # driver); `at` and `host` do not apply (spark::in_task)
//! files = { "/etc/spark/principal" = "spark" }   # optional: files on `host` (path = contents), read by
//!                                      # spark.mesos.principal.file / spark.mesos.secret.file
//!
//!   [[apps.jobs]]
//!   name = "pi"                        # optional, default "job-<n>"
//!
//!     [[apps.jobs.stages]]
//!     tasks = 100                      # 1 to 10,000,000 (MAX_TASKS; also the scenario's total)
//!     duration = "200ms"               # per task; fixed, or one of
//!     # duration = { uniform = ["100ms", "2s"] }     (min, max)
//!     # duration = { normal = ["1s", "200ms"] }      (mean, stddev; clamped at 0)
//!     # duration = { exponential = "1s" }            (mean)
//!     parents = [0]                    # optional: stages (0-based) whose output this one reads;
//!                                      # default: the stage before. `[]` starts a new branch of the DAG
//!
//! [marathon]                           # optional: Marathon (docs/marathon.md), actor scheduler:marathon
//! at = "0s"                            # when it starts, default 0
//! [[marathon.apps]]
//! json = "marathon/web.json"           # a Marathon app definition (JSON), relative to this file, or
//! # inline = '''{"id": "/web", "cmd": "sleep 600", "instances": 2}'''
//! [dispatcher]                         # optional: Spark's MesosClusterDispatcher (docs/cluster-mode.md),
//! host = "dispatcher"                  # actor scheduler:<host>; `--deploy-mode cluster` apps must use
//!                                      # --master mesos://<host>:7077 and are POSTed to it at their `at`
//! at = "0s"                            # when it starts
//! conf = { "spark.home" = "/opt/spark" }   # its spark.* keys (queues, retry wait, driverDefault.*…)
//!   [[dispatcher.requests]]            # REST requests about a cluster-mode app's submission
//!   kill = "etl"                       # or `status = "etl"`: the app by name
//!   at = "2m"
//! ```
//!
//! # How a file is read
//!
//! Two passes, so that a user sees *every* problem at once:
//!
//! 1. **Shape.** serde + `toml` with `deny_unknown_fields` everywhere read the
//!    text into private `Raw*` structs. Misspelt keys, wrong types and missing
//!    required keys stop here (toml reports the first one, with its span).
//!    Every value a later check may complain about is kept as
//!    `toml::Spanned<T>`, i.e. together with its byte range in the file.
//! 2. **Meaning.** Durations, resource strings, spark-submit lines,
//!    spark-defaults files, distributions and cross-references (agent names,
//!    the `--master` host) are checked one by one; each failure becomes a
//!    [`Diagnostic`] at the offending value and checking continues.
//!
//! Every duration is a whole number of microseconds (the clock's resolution)
//! and at most [`MAX_DURATION`] (18h, the longest run); every count and size
//! has a bound too ([`MAX_TASKS`], [`MAX_AGENTS`], [`MAX_APPS`],
//! [`crate::mesos_syntax::MAX_SCALAR`]), checked before anything is allocated.
//!
//! Only a file that passes both becomes a [`Scenario`]: plain data with
//! defaults filled in, which the runner can use without re-validating.
//!
//! Errors inside a `submit` string point at the exact word: the parser in
//! [`crate::submit`] reports byte offsets in the *decoded* string, and this
//! module maps them back through TOML's quoting (escapes, `"""` line-ending
//! backslashes, multi-line literals) to a line and column of the file.
//!
//! # I/O
//!
//! [`load`] reads the scenario file. [`parse`] reads only the
//! `spark_defaults` / `--properties-file` files a scenario names, relative
//! to the scenario's directory; [`parse_with_reader`] takes the file reader
//! as an argument and so does no I/O at all.
//!
//! # Layout
//!
//! - `mod.rs`: the validated types, the bounds, the entry points and the
//!   file's top level (`Checker::scenario`).
//! - `raw.rs`: pass 1, every `Raw*` shape serde reads (the script's own tables
//!   are in [`crate::script`]).
//! - `master_agents.rs`: `[master]`, `[[agents]]`, `[network]`.
//! - `containers.rs`: `[registry]`, `[fetcher]` and the agents' containerizer keys.
//! - `spark_apps.rs`: `[[apps]]` into [`crate::spark::AppSpec`]s.
//! - `marathon.rs`: `[marathon]` and its `[[marathon.apps]]`, JSON app
//!   definitions read with errors at their line and column.
//! - `frameworks.rs`: `[[frameworks]]`, read by the registered plugins; `scripted.rs`: a
//!   table without `kind`, a scripted framework.
//! - the failure script, `[[faults]]` and `[[expect]]`: [`crate::script`];
//!   the shared checker core: [`crate::check`].

use std::path::{Path, PathBuf};
use std::time::Duration;

use mesocosm_sim::Latency;
use mesocosm_sim::faults::LinkLatency;

use crate::check::Checker;
use crate::diag::{Diagnostic, Diagnostics};
use crate::mesos_syntax::{AttributeSpec, ResourceSpec};
use crate::registry::Registry;
use crate::script::Cast;
pub use containers::{ContainersSpec, FETCHER_SCHEMES, parse_bandwidth, parse_size};
use raw::RawFile;

mod containers;
mod dispatcher;
mod frameworks;
mod marathon;
mod master_agents;
mod raw;
mod registry_flags;
mod scripted;
mod spark_apps;
mod zookeeper;

pub use crate::check::{MAX_DURATION, scenario_duration};
pub use crate::cluster::{Expectation, FaultSpec, MasterSpec};
pub use crate::spark::{AppSpec, DurationDist, JobSpec, StageSpec, driver_names};
pub use frameworks::FrameworkDecl;
pub use zookeeper::{ensemble_url, zookeeper_host};

// ---------------------------------------------------------------------------
// The validated scenario
// ---------------------------------------------------------------------------

/// A validated scenario, with every default filled in.
#[derive(Clone, Debug, PartialEq)]
pub struct Scenario {
    /// The file it was read from (as given, for messages).
    pub path: PathBuf,
    pub name: String,
    pub description: Option<String>,
    /// The seed of every random choice in the run (the CLI's `--seed` overrides it).
    pub seed: u64,
    /// Virtual time at which the run stops.
    pub until: Duration,
    /// Run to `until` even after every app has finished (to watch what a fault
    /// does after the apps are gone, e.g. an agent re-registering after a heal).
    pub keep_running: bool,
    pub network: NetworkSpec,
    pub master: MasterSpec,
    /// `[zookeeper] servers`: the ensemble's size (0: no ZooKeeper).
    pub zookeeper: u32,
    /// One entry per agent, after `count` expansion.
    pub agents: Vec<AgentSpec>,
    /// `[registry]` and `[fetcher]`: images, layers and URIs.
    pub containers: ContainersSpec,
    pub apps: Vec<AppSpec>,
    /// `[dispatcher]`: Spark's MesosClusterDispatcher, for `--deploy-mode cluster` apps.
    pub dispatcher: Option<crate::spark::dispatcher::DispatcherSpec>,
    /// `[[frameworks]]`, one entry per instance after `count` expansion.
    pub frameworks: Vec<FrameworkDecl>,
    /// `[[faults]]`, in file order.
    pub faults: Vec<FaultSpec>,
    /// `[[expect]]`, in file order.
    pub expectations: Vec<Expectation>,
    /// What the checker warned about (the file is used as written); the CLI
    /// prints each on stderr before the run.
    pub warnings: Vec<Diagnostic>,
}

/// The simulated network.
#[derive(Clone, Debug, PartialEq)]
pub struct NetworkSpec {
    /// One-way latency of every link (the world draws it once per link).
    pub latency: Latency,
    /// `[[network.links]]`: latencies of some links, overriding `latency` (first match wins).
    pub links: Vec<LinkLatency>,
}

/// One Mesos agent.
#[derive(Clone, Debug, PartialEq)]
pub struct AgentSpec {
    /// Its hostname (unique in the scenario).
    pub name: String,
    pub resources: Vec<ResourceSpec>,
    pub attributes: Vec<AttributeSpec>,
    /// `resources` as written (what `mesos-agent --resources=` would get).
    pub resources_text: String,
    /// `attributes` as written ("" when absent).
    pub attributes_text: String,
    /// Whether Spark is installed on the host (default true). Without it, an
    /// executor whose command runs `<spark.mesos.executor.home>/bin/spark-class`
    /// fails at once: the failure Spark's "is Spark installed on it?" log
    /// line is about.
    pub spark_installed: bool,
    /// `--containerizers`, `--docker_config`, `--executor_registration_timeout`,
    /// pre-pulled images and its links (with the scenario's catalog).
    pub containers: mesocosm_agent::ContainerConfig,
}

// ---------------------------------------------------------------------------
// Entry points
// ---------------------------------------------------------------------------

/// The most agents one scenario may expand to. Far above the 10,000-agent
/// benchmarks, low enough that a typo like `count = 10000000` is an error
/// rather than gigabytes of agents.
pub const MAX_AGENTS: u64 = 100_000;

/// The most tasks one stage may have, and all stages of a scenario together.
/// A run keeps a little state per task declared (its drawn duration) and per
/// task alive; ten million is far beyond any teaching scenario and still fits
/// in memory, while `tasks = 4000000000` would not.
pub const MAX_TASKS: u64 = 10_000_000;

/// The most apps (spark-submits, so driver actors) one scenario may have:
/// far beyond any shared cluster's concurrent applications.
pub const MAX_APPS: usize = 10_000;

/// The shortest `[master] allocation_interval`.
pub const MIN_ALLOCATION_INTERVAL: Duration = Duration::from_millis(1);

/// The largest scenario file read: far beyond any hand-written scenario, and
/// a bound on what `mesocosm run /dev/zero` reads before it says no.
pub const MAX_SCENARIO_BYTES: u64 = 16 << 20;

/// The largest `spark_defaults` / `--properties-file` file read (1 MiB; real
/// spark-defaults.conf files are a few KiB).
pub const MAX_PROPERTIES_BYTES: u64 = 1 << 20;

/// Reads at most `limit` bytes of `path` as UTF-8 text. Errors say which:
/// unreadable, larger than `limit` (checked without reading the rest), or not
/// UTF-8 (with the 1-based line and column of the first bad byte).
fn read_capped(path: &Path, limit: u64) -> Result<String, ReadError> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(ReadError::Io)?;
    let mut bytes = Vec::new();
    file.take(limit + 1).read_to_end(&mut bytes).map_err(ReadError::Io)?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge(limit));
    }
    String::from_utf8(bytes).map_err(|e| {
        let good = e.utf8_error().valid_up_to();
        let lossy = String::from_utf8_lossy(e.as_bytes()).into_owned();
        // The valid prefix is the same in the lossy text, so `good` is the
        // offset of the first replacement character there.
        ReadError::NotUtf8 { text: lossy, at: good }
    })
}

/// Why [`read_capped`] failed.
enum ReadError {
    Io(std::io::Error),
    TooLarge(u64),
    /// `text` is the file with bad bytes replaced; `at` is the byte offset of the first.
    NotUtf8 {
        text: String,
        at: usize,
    },
}

const NOT_UTF8: &str = "is not UTF-8: the first invalid byte is here (save the file as UTF-8)";

/// Reads and checks a scenario file (and any spark-defaults files it names),
/// knowing the built-in framework kinds.
pub fn load(path: impl AsRef<Path>) -> Result<Scenario, Diagnostics> {
    load_with(path, &Registry::default())
}

/// [`load`], with the framework kinds of `registry`.
pub fn load_with(path: impl AsRef<Path>, registry: &Registry) -> Result<Scenario, Diagnostics> {
    let path = path.as_ref();
    let src = match read_capped(path, MAX_SCENARIO_BYTES) {
        Ok(s) => s,
        Err(ReadError::Io(e)) => {
            return Err(Diagnostic::file_level(path, format!("cannot read the scenario file: {e}")).into());
        }
        Err(ReadError::TooLarge(n)) => {
            return Err(Diagnostic::file_level(path, format!("the scenario file is larger than {n} bytes")).into());
        }
        Err(ReadError::NotUtf8 { text, at }) => {
            return Err(Diagnostic::at_span(path, &text, at..at + 1, format!("the scenario file {NOT_UTF8}")).into());
        }
    };
    parse_with(path, &src, registry)
}

/// Checks the scenario text `src`; `path` names it in messages and anchors
/// relative `spark_defaults` paths, which are read from disk (at most
/// [`MAX_PROPERTIES_BYTES`] of each).
pub fn parse(path: impl AsRef<Path>, src: &str) -> Result<Scenario, Diagnostics> {
    parse_with(path, src, &Registry::default())
}

/// [`parse`], with the framework kinds of `registry`.
pub fn parse_with(path: impl AsRef<Path>, src: &str, registry: &Registry) -> Result<Scenario, Diagnostics> {
    parse_with_registry(path, src, registry, &mut |p: &Path| match read_capped(p, MAX_PROPERTIES_BYTES) {
        Ok(s) => Ok(s),
        Err(ReadError::Io(e)) => Err(e),
        Err(ReadError::TooLarge(n)) => {
            Err(std::io::Error::new(std::io::ErrorKind::InvalidData, format!("it is larger than {n} bytes")))
        }
        Err(ReadError::NotUtf8 { text, at }) => {
            let d = Diagnostic::at_span(p, &text, at..at + 1, "");
            Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("it is not UTF-8: the first invalid byte is at {}:{}:{}", p.display(), d.line, d.col),
            ))
        }
    })
}

/// [`parse`], reading the files a scenario names with `read` instead of
/// `std::fs` (for tests, or scenarios held in memory).
pub fn parse_with_reader(
    path: impl AsRef<Path>,
    src: &str,
    read: &mut dyn FnMut(&Path) -> std::io::Result<String>,
) -> Result<Scenario, Diagnostics> {
    parse_with_registry(path, src, &Registry::default(), read)
}

/// The most general entry point: [`parse_with_reader`] with the framework
/// kinds of `registry`.
pub fn parse_with_registry(
    path: impl AsRef<Path>,
    src: &str,
    registry: &Registry,
    read: &mut dyn FnMut(&Path) -> std::io::Result<String>,
) -> Result<Scenario, Diagnostics> {
    let path = path.as_ref();
    let raw: RawFile = toml::from_str(src).map_err(|e| Diagnostics::from(Diagnostic::from_toml(path, src, &e)))?;
    let mut cx = Checker::new(path, src, read, registry);
    let mut scenario = cx.scenario(raw);
    scenario.warnings = std::mem::take(&mut cx.warnings);
    // Report in reading order: the scenario file top to bottom, then any
    // spark-defaults files (a stable sort keeps same-place problems in order).
    let path = path.to_path_buf();
    cx.diags.0.sort_by_key(|d| (d.file != path, d.file.clone(), d.line, d.col));
    if cx.diags.is_empty() { Ok(scenario) } else { Err(cx.diags) }
}

// ---------------------------------------------------------------------------
// Pass 2: meaning
// ---------------------------------------------------------------------------

impl Checker<'_> {
    /// The whole file, section by section, in the order they depend on each
    /// other (the cast needs the agents, apps and frameworks).
    fn scenario(&mut self, raw: RawFile) -> Scenario {
        let s = &raw.scenario;
        if s.name.get_ref().trim().is_empty() {
            self.error(s.name.span(), "the scenario name is empty");
        }
        let until = self.optional_duration(&s.until, "until", Duration::from_secs(3600));
        if until.is_zero()
            && let Some(u) = &s.until
        {
            self.error(u.span(), "`until` must be more than 0: the run would stop before it starts");
        }
        let latency = match raw.network.as_ref().and_then(|n| n.latency.as_ref()) {
            Some(l) => self.latency(l),
            None => Latency::DEFAULT,
        };
        let zookeeper = self.zookeeper(raw.zookeeper.as_ref());
        let mut master = self.master(raw.master.as_ref());
        self.master_ha(raw.master.as_ref(), zookeeper, &mut master);
        let containers = self.containers(raw.registry.as_ref(), raw.fetcher.as_ref());
        let agents = self.agents(&raw.agents, &master.name, &containers);
        if let Some(extra) = raw.apps.get(MAX_APPS) {
            self.error(extra.span(), format!("a scenario may have at most {MAX_APPS} apps; this is one more"));
        }
        let mut total_tasks = 0;
        let master_names = master.names();
        let zookeeper_hosts: Vec<String> = (1..=zookeeper).map(zookeeper_host).collect();
        // The dispatcher's host first: cluster-mode apps must name it.
        let dispatcher_host = raw
            .dispatcher
            .as_ref()
            .map(|d| d.get_ref().host.as_ref().map_or_else(|| "dispatcher".to_string(), |h| h.get_ref().clone()));
        let apps: Vec<AppSpec> = raw
            .apps
            .iter()
            .map(|app| {
                self.app(app, &master_names, &zookeeper_hosts, dispatcher_host.as_deref(), until, &mut total_tasks)
            })
            .collect::<Vec<_>>()
            .into_iter()
            .flatten()
            .collect();
        let mut frameworks = self.frameworks(&raw.frameworks, &agents, until);
        if let Some(m) = &raw.marathon
            && let Some(decl) = self.marathon(m, until, &frameworks)
        {
            frameworks.push(decl);
        }
        // The dispatcher's `--master`: the ensemble's URL when the masters
        // contend in ZooKeeper (it passes it on to the drivers it launches).
        let dispatcher_master = match &master.zk {
            Some(zk) => format!("mesos://{}", zookeeper::zk_url_string(zk)),
            None => format!("mesos://{}:5050", master.name),
        };
        let dispatcher = raw.dispatcher.as_ref().and_then(|d| {
            let masters = (&master_names[..], &zookeeper_hosts[..]);
            self.dispatcher(d, &dispatcher_master, masters, &apps, until)
        });
        let mut cast = Cast {
            master: master.name.clone(),
            masters: if master.count > 1 { master.names() } else { Vec::new() },
            zookeeper: (1..=zookeeper).map(zookeeper_host).collect(),
            agents: agents.iter().map(|a| a.name.clone()).collect(),
            apps: driver_names(&apps).into_iter().zip(apps.iter().map(|a| a.at)).collect(),
            frameworks: frameworks.iter().map(|f| (f.name.clone(), f.at)).collect(),
            clients: vec![],
        };
        if let Some(d) = &dispatcher {
            cast.frameworks.push((d.conf.host.clone(), d.at));
            cast.clients = crate::spark::dispatcher::spark_submit_actors(d, &apps);
        }
        let links = raw.network.as_ref().map(|n| self.links(&n.links, &cast)).unwrap_or_default();
        let network = NetworkSpec { latency, links };
        let faults = self.faults(&raw.faults, &cast, until);
        let expectations = self.expectations(&raw.expect, &cast, until);
        Scenario {
            path: self.path.to_path_buf(),
            name: s.name.get_ref().clone(),
            description: s.description.clone(),
            seed: s.seed.unwrap_or(0),
            until,
            keep_running: s.keep_running.unwrap_or(false),
            network,
            master,
            zookeeper,
            agents,
            containers,
            apps,
            dispatcher,
            frameworks,
            faults,
            expectations,
            warnings: Vec::new(),
        }
    }
}
