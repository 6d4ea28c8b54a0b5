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
//!
//! [[agents]]
//! name = "agent"                       # hostname; with `count`, a prefix: agent-1 … agent-N
//! count = 3                            # optional; without it, `name` is used as is
//! resources = "cpus:4;mem:8192;disk:20000;ports:[31000-32000]"   # required, Mesos --resources syntax
//! attributes = "rack:r1;zone:us-east-1a"                          # optional, Mesos --attributes syntax
//! spark_installed = true               # false: no Spark under spark.mesos.executor.home on this host,
//!                                      # so an executor started from there fails (spark.executor.uri still works)
//!
//! [[apps]]
//! submit = """spark-submit --master mesos://master:5050 \
//!   --class org.apache.spark.examples.SparkPi \
//!   --conf spark.cores.max=8 \
//!   app.jar 100"""                     # required: the real command line
//! at = "0s"                            # submission time, default 0
//! host = "edge-1"                      # where spark-submit runs (the client-mode driver's host), default "edge"
//! spark_defaults = "conf/spark-defaults.conf"   # optional, relative to this file
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
//! [`mesos_syntax::MAX_SCALAR`]), checked before anything is allocated.
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

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use mesocosm_master::SorterChoice;
use mesocosm_sim::Latency;
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use toml::Spanned;

use crate::diag::{Diagnostic, Diagnostics};
use crate::mesos_syntax::{self, AttributeSpec, ResourceSpec};
use crate::registry::{FrameworkSpec, PluginConfig, Registry};
use crate::script::{Cast, Expectation, FaultSpec};
use crate::submit::{self, MasterUrl, SparkConf, SparkSubmit, SubmitSpans};
use crate::units::{format_duration, parse_duration};
use mesocosm_sim::faults::LinkLatency;

mod dist;
mod frameworks;
mod spark_apps;

pub use dist::DurationDist;
pub use frameworks::FrameworkDecl;

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
    /// One entry per agent, after `count` expansion.
    pub agents: Vec<AgentSpec>,
    pub apps: Vec<AppSpec>,
    /// `[[frameworks]]`, one entry per instance after `count` expansion.
    pub frameworks: Vec<FrameworkDecl>,
    /// `[[faults]]`, in file order.
    pub faults: Vec<FaultSpec>,
    /// `[[expect]]`, in file order.
    pub expectations: Vec<Expectation>,
}

/// The driver actor name of each app (`driver:<name>`), made unique: a second
/// app named "pi" is "pi-2", as two spark-submits of one app would be told apart.
pub fn driver_names(apps: &[AppSpec]) -> Vec<String> {
    let mut seen: BTreeMap<&str, u32> = BTreeMap::new();
    apps.iter()
        .map(|a| {
            let n = seen.entry(a.name.as_str()).or_insert(0);
            *n += 1;
            if *n == 1 { a.name.clone() } else { format!("{}-{}", a.name, n) }
        })
        .collect()
}

/// The simulated network.
#[derive(Clone, Debug, PartialEq)]
pub struct NetworkSpec {
    /// One-way latency of every link (the world draws it once per link).
    pub latency: Latency,
    /// `[[network.links]]`: latencies of some links, overriding `latency` (first match wins).
    pub links: Vec<LinkLatency>,
}

/// The Mesos master's flags.
#[derive(Clone, Debug, PartialEq)]
pub struct MasterSpec {
    /// Its actor and host name; `--master mesos://<name>:5050` must name it.
    pub name: String,
    /// `--allocation_interval` (Mesos default 1 s).
    pub allocation_interval: Duration,
    /// `--agent_ping_timeout` (Mesos default 15 s).
    pub agent_ping_timeout: Duration,
    /// `--max_agent_ping_timeouts` (Mesos default 5).
    pub max_agent_ping_timeouts: u32,
    /// `--offer_timeout` (Mesos default: none).
    pub offer_timeout: Option<Duration>,
    /// `--weights`: role → weight; roles not named weigh 1.0 (`DEFAULT_WEIGHT`).
    pub weights: BTreeMap<String, f64>,
    /// `--filter_gpu_resources` (Mesos default true).
    pub filter_gpu_resources: bool,
    /// `--role_sorter` (Mesos default `drf`): how the allocator orders roles.
    pub role_sorter: SorterChoice,
    /// `--framework_sorter` (Mesos default `drf`): how it orders a role's frameworks.
    pub framework_sorter: SorterChoice,
}

impl Default for MasterSpec {
    fn default() -> Self {
        MasterSpec {
            name: "master".into(),
            allocation_interval: Duration::from_secs(1),
            agent_ping_timeout: Duration::from_secs(15),
            max_agent_ping_timeouts: 5,
            offer_timeout: None,
            weights: BTreeMap::new(),
            filter_gpu_resources: true,
            role_sorter: SorterChoice::drf(),
            framework_sorter: SorterChoice::drf(),
        }
    }
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
}

/// One spark-submit.
#[derive(Clone, Debug, PartialEq)]
pub struct AppSpec {
    /// `conf.app_name()`; two apps may share a name, as in real clusters.
    pub name: String,
    /// The parsed command line, with `deploy_mode` made effective
    /// (spark-defaults.conf can set `spark.submit.deployMode`).
    pub submit: SparkSubmit,
    /// The command line as written (after TOML unquoting).
    pub submit_text: String,
    /// The effective Spark configuration.
    pub conf: SparkConf,
    /// When spark-submit runs.
    pub at: Duration,
    /// Where spark-submit runs; in client mode the driver lives there.
    pub host: String,
    /// Files on `host` (path → contents) the driver may read, e.g. the
    /// credentials `spark.mesos.principal.file` names.
    pub files: BTreeMap<String, String>,
    pub jobs: Vec<JobSpec>,
}

/// A Spark job: stages run one after the other.
#[derive(Clone, Debug, PartialEq)]
pub struct JobSpec {
    pub name: String,
    pub stages: Vec<StageSpec>,
}

/// A stage: `tasks` independent tasks, each taking a duration drawn from `duration`.
#[derive(Clone, Debug, PartialEq)]
pub struct StageSpec {
    pub tasks: u32,
    pub duration: DurationDist,
    /// The earlier stages (0-based, in this job) whose shuffle output this one
    /// reads: the DAG's edges. Without `parents` a stage reads the one before it.
    pub parents: Vec<usize>,
}

// ---------------------------------------------------------------------------
// Pass 1: the shape, as serde sees it
// ---------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    scenario: RawScenario,
    network: Option<RawNetwork>,
    master: Option<RawMaster>,
    #[serde(default)]
    agents: Vec<Spanned<RawAgent>>,
    #[serde(default)]
    apps: Vec<Spanned<RawApp>>,
    #[serde(default)]
    frameworks: Vec<Spanned<RawFramework>>,
    #[serde(default)]
    faults: Vec<Spanned<crate::script::RawFault>>,
    #[serde(default)]
    expect: Vec<Spanned<crate::script::RawExpect>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    name: Spanned<String>,
    description: Option<String>,
    seed: Option<u64>,
    until: Option<Spanned<String>>,
    keep_running: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNetwork {
    latency: Option<Spanned<RawDurOrTable>>,
    #[serde(default)]
    links: Vec<Spanned<crate::script::RawLink>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMaster {
    name: Option<Spanned<String>>,
    allocation_interval: Option<Spanned<String>>,
    agent_ping_timeout: Option<Spanned<String>>,
    max_agent_ping_timeouts: Option<Spanned<i64>>,
    offer_timeout: Option<Spanned<String>>,
    weights: Option<Spanned<String>>,
    filter_gpu_resources: Option<bool>,
    role_sorter: Option<Spanned<String>>,
    framework_sorter: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAgent {
    name: Spanned<String>,
    count: Option<Spanned<i64>>,
    resources: Spanned<String>,
    attributes: Option<Spanned<String>>,
    spark_installed: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawApp {
    submit: Spanned<String>,
    at: Option<Spanned<String>>,
    host: Option<Spanned<String>>,
    spark_defaults: Option<Spanned<String>>,
    #[serde(default)]
    files: BTreeMap<String, String>,
    #[serde(default)]
    jobs: Vec<Spanned<RawJob>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFramework {
    kind: Spanned<String>,
    name: Spanned<String>,
    at: Option<Spanned<String>>,
    count: Option<Spanned<i64>>,
    config: Option<Spanned<BTreeMap<String, Spanned<toml::Value>>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawJob {
    name: Option<Spanned<String>>,
    #[serde(default)]
    stages: Vec<Spanned<RawStage>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStage {
    tasks: Spanned<i64>,
    duration: Spanned<RawDurOrTable>,
    parents: Option<Spanned<Vec<i64>>>,
}

/// `"200ms"` or `{ key = arg, … }`: the shape of `latency` and `duration`.
/// Which keys are allowed is a semantic check, so that an unknown key gets a
/// diagnostic at the key and the other checks still run.
pub(crate) enum RawDurOrTable {
    Str(String),
    Table(Vec<(Spanned<String>, Spanned<RawArg>)>),
}

/// A table entry's value: `"1s"` or `["1s", "2s"]`.
pub(crate) enum RawArg {
    Str(String),
    List(Vec<Spanned<String>>),
}

impl<'de> Deserialize<'de> for RawDurOrTable {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawDurOrTable;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration string like \"200ms\" or an inline table")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(RawDurOrTable::Str(v.to_string()))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut entries = Vec::new();
                while let Some(key) = map.next_key::<Spanned<String>>()? {
                    entries.push((key, map.next_value::<Spanned<RawArg>>()?));
                }
                Ok(RawDurOrTable::Table(entries))
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de> Deserialize<'de> for RawArg {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawArg;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration string or an array of duration strings")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(RawArg::Str(v.to_string()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element::<Spanned<String>>()? {
                    items.push(item);
                }
                Ok(RawArg::List(items))
            }
        }
        d.deserialize_any(V)
    }
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

/// The longest duration the language accepts, for every key (`until`, `at`,
/// `restart_after`, task durations, latencies…): the longest run a world can
/// simulate. A longer duration could never elapse inside a run, and bounding
/// every duration keeps every sum of an instant and a duration far from overflow.
pub const MAX_DURATION: Duration = mesocosm_sim::MAX_VIRTUAL_TIME;

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

/// A scenario duration: [`parse_duration`] (whole microseconds) and at most
/// [`MAX_DURATION`].
pub fn scenario_duration(s: &str) -> Result<Duration, String> {
    let d = parse_duration(s)?;
    if d > MAX_DURATION {
        return Err(format!(
            "`{}` is longer than {}, the longest run mesocosm can simulate (and so the longest duration it accepts)",
            s.trim(),
            format_duration(MAX_DURATION)
        ));
    }
    Ok(d)
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
    let mut cx = Checker { path, src, diags: Diagnostics::default(), read, registry };
    let scenario = cx.scenario(raw);
    // Report in reading order: the scenario file top to bottom, then any
    // spark-defaults files (a stable sort keeps same-place problems in order).
    let path = path.to_path_buf();
    cx.diags.0.sort_by_key(|d| (d.file != path, d.file.clone(), d.line, d.col));
    if cx.diags.is_empty() { Ok(scenario) } else { Err(cx.diags) }
}

// ---------------------------------------------------------------------------
// Pass 2: meaning
// ---------------------------------------------------------------------------

pub(crate) struct Checker<'a> {
    pub(crate) path: &'a Path,
    pub(crate) src: &'a str,
    diags: Diagnostics,
    read: &'a mut dyn FnMut(&Path) -> std::io::Result<String>,
    registry: &'a Registry,
}

impl Checker<'_> {
    pub(crate) fn error(&mut self, span: Range<usize>, msg: impl Into<String>) {
        self.diags.push(Diagnostic::at_span(self.path, self.src, span, msg));
    }

    /// A duration value, or a diagnostic at it (and `None`).
    pub(crate) fn duration(&mut self, v: &Spanned<String>, key: &str) -> Option<Duration> {
        match scenario_duration(v.get_ref()) {
            Ok(d) => Some(d),
            Err(e) => {
                self.error(v.span(), format!("bad duration for `{key}`: {e}"));
                None
            }
        }
    }

    fn optional_duration(&mut self, v: &Option<Spanned<String>>, key: &str, default: Duration) -> Duration {
        v.as_ref().and_then(|v| self.duration(v, key)).unwrap_or(default)
    }

    /// Host names end up in URLs (`mesos://<master>:5050`) and in messages, so
    /// they are restricted to what a DNS label allows (plus `_` and `.`).
    fn host_name(&mut self, v: &Spanned<String>, what: &str) -> bool {
        let name = v.get_ref();
        let bad = if name.is_empty() {
            Some("is empty".to_string())
        } else {
            name.chars()
                .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_')))
                .map(|c| format!("contains `{c}`; use letters, digits, `-`, `.` and `_`"))
        };
        if let Some(why) = bad {
            self.error(v.span(), format!("{what} `{name}` {why}"));
            return false;
        }
        true
    }

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
        let master = self.master(raw.master.as_ref());
        let agents = self.agents(&raw.agents, &master.name);
        if let Some(extra) = raw.apps.get(MAX_APPS) {
            self.error(extra.span(), format!("a scenario may have at most {MAX_APPS} apps; this is one more"));
        }
        let mut total_tasks = 0;
        let apps: Vec<AppSpec> = raw
            .apps
            .iter()
            .map(|app| self.app(app, &master.name, until, &mut total_tasks))
            .collect::<Vec<_>>()
            .into_iter()
            .flatten()
            .collect();
        let frameworks = self.frameworks(&raw.frameworks, until);
        let cast = Cast {
            master: master.name.clone(),
            agents: agents.iter().map(|a| a.name.clone()).collect(),
            apps: driver_names(&apps).into_iter().zip(apps.iter().map(|a| a.at)).collect(),
            frameworks: frameworks.iter().map(|f| (f.name.clone(), f.at)).collect(),
        };
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
            agents,
            apps,
            frameworks,
            faults,
            expectations,
        }
    }

    pub(crate) fn latency(&mut self, l: &Spanned<RawDurOrTable>) -> Latency {
        let (min_default, max_default) = (Latency::DEFAULT_MIN, Latency::DEFAULT_MAX);
        match l.get_ref() {
            RawDurOrTable::Str(s) => match scenario_duration(s) {
                Ok(d) => Latency::Fixed(d),
                Err(e) => {
                    self.error(l.span(), format!("bad duration for `latency`: {e}"));
                    Latency::DEFAULT
                }
            },
            RawDurOrTable::Table(entries) => {
                let (mut min, mut max) = (min_default, max_default);
                for (key, arg) in entries {
                    let slot = match key.get_ref().as_str() {
                        "min" => &mut min,
                        "max" => &mut max,
                        other => {
                            let msg = format!("unknown key `{other}` in `latency`; expected `min` and/or `max`");
                            self.error(key.span(), msg);
                            continue;
                        }
                    };
                    match arg.get_ref() {
                        RawArg::Str(s) => match scenario_duration(s) {
                            Ok(d) => *slot = d,
                            Err(e) => {
                                self.error(arg.span(), format!("bad duration for `latency.{}`: {e}", key.get_ref()))
                            }
                        },
                        RawArg::List(_) => {
                            self.error(arg.span(), format!("`latency.{}` must be one duration string", key.get_ref()))
                        }
                    }
                }
                if min > max {
                    self.error(
                        l.span(),
                        format!("latency min {} is greater than max {}", format_duration(min), format_duration(max)),
                    );
                }
                Latency::Uniform { min, max }
            }
        }
    }

    fn master(&mut self, raw: Option<&RawMaster>) -> MasterSpec {
        let mut m = MasterSpec::default();
        let Some(raw) = raw else { return m };
        if let Some(name) = &raw.name
            && self.host_name(name, "master name")
        {
            m.name = name.get_ref().clone();
        }
        if let Some(v) = &raw.allocation_interval
            && let Some(d) = self.duration(v, "allocation_interval")
        {
            // Mesos has no lower bound, but every cycle is a step of the
            // simulated master: at 1us a 10-minute run would be 600 million
            // cycles. 1ms is far below any real setting (default 1s).
            if d < MIN_ALLOCATION_INTERVAL {
                self.error(
                    v.span(),
                    format!(
                        "`allocation_interval` is {}; mesocosm needs at least {} (each cycle is a simulated step)",
                        format_duration(d),
                        format_duration(MIN_ALLOCATION_INTERVAL)
                    ),
                );
            }
            m.allocation_interval = d;
        }
        if let Some(v) = &raw.agent_ping_timeout
            && let Some(d) = self.duration(v, "agent_ping_timeout")
        {
            // Mesos rejects --agent_ping_timeout outside [1secs, 15mins] (master/flags.cpp).
            if d < Duration::from_secs(1) || d > Duration::from_secs(15 * 60) {
                self.error(
                    v.span(),
                    format!("`agent_ping_timeout` is {}; Mesos requires 1s to 15m", format_duration(d)),
                );
            }
            m.agent_ping_timeout = d;
        }
        if let Some(v) = &raw.max_agent_ping_timeouts {
            match u32::try_from(*v.get_ref()) {
                Ok(n) if n >= 1 => m.max_agent_ping_timeouts = n,
                _ => self.error(v.span(), "`max_agent_ping_timeouts` must be at least 1 (as in Mesos)"),
            }
        }
        if let Some(v) = &raw.offer_timeout
            && let Some(d) = self.duration(v, "offer_timeout")
        {
            if d.is_zero() {
                self.error(v.span(), "`offer_timeout` must be more than 0; omit it for offers that never time out");
            }
            m.offer_timeout = Some(d);
        }
        if let Some(v) = &raw.weights {
            match mesos_syntax::parse_weights(v.get_ref()) {
                Ok(w) => m.weights = w,
                Err(e) => self.error(v.span(), format!("bad `weights` {:?}: {e}", v.get_ref())),
            }
        }
        if let Some(v) = raw.filter_gpu_resources {
            m.filter_gpu_resources = v;
        }
        for (key, v, slot) in [
            ("role_sorter", &raw.role_sorter, &mut m.role_sorter),
            ("framework_sorter", &raw.framework_sorter, &mut m.framework_sorter),
        ] {
            let Some(v) = v else { continue };
            match self.registry.sorter(v.get_ref()) {
                Some(s) => *slot = s,
                None => self.error(
                    v.span(),
                    format!(
                        "unknown sorter `{}` for `{key}` (known sorters: {})",
                        v.get_ref(),
                        self.registry.sorter_names().join(", ")
                    ),
                ),
            }
        }
        m
    }

    fn agents(&mut self, raw: &[Spanned<RawAgent>], master: &str) -> Vec<AgentSpec> {
        let mut out = Vec::new();
        // Agent name → where it was first defined ("line 8", or
        // "line 8 (`agent` with `count`)"), for duplicate messages.
        let mut seen: BTreeMap<String, String> = BTreeMap::new();
        let mut total: u64 = 0;
        for agent in raw {
            let a = agent.get_ref();
            let mut ok = self.host_name(&a.name, "agent name");
            let count = match &a.count {
                None => None,
                Some(c) => match u64::try_from(*c.get_ref()) {
                    Ok(n) if n >= 1 && total + n <= MAX_AGENTS => Some(n),
                    Ok(0) | Err(_) => {
                        self.error(c.span(), "`count` must be at least 1");
                        ok = false;
                        None
                    }
                    Ok(n) => {
                        let msg = format!("`count = {n}` brings the scenario over {MAX_AGENTS} agents");
                        self.error(c.span(), msg);
                        ok = false;
                        None
                    }
                },
            };
            let resources = match mesos_syntax::parse_resources(a.resources.get_ref()) {
                Ok(r) if r.iter().any(|r| r.role != mesos_syntax::DEFAULT_ROLE) => {
                    // Parsed as Mesos would, but the allocator models unreserved
                    // resources only (runner::resources refuses the rest too).
                    let r = r.iter().find(|r| r.role != mesos_syntax::DEFAULT_ROLE).map(ToString::to_string);
                    let msg = format!(
                        "reserved resources (`{}`) are not simulated yet; use unreserved resources",
                        r.unwrap_or_default()
                    );
                    self.error(a.resources.span(), msg);
                    ok = false;
                    Vec::new()
                }
                Ok(r) => r,
                Err(e) => {
                    let msg = format!("bad resources string {:?}: {e}", a.resources.get_ref());
                    self.error(a.resources.span(), msg);
                    Vec::new()
                }
            };
            let attributes = match &a.attributes {
                None => Vec::new(),
                Some(attrs) => match mesos_syntax::parse_attributes(attrs.get_ref()) {
                    Ok(v) => v,
                    Err(e) => {
                        let msg = format!("bad attributes string {:?}: {e}", attrs.get_ref());
                        self.error(attrs.span(), msg);
                        Vec::new()
                    }
                },
            };
            if !ok {
                continue;
            }
            let base = a.name.get_ref();
            let names: Vec<String> = match count {
                None => vec![base.clone()],
                Some(n) => (1..=n).map(|i| format!("{base}-{i}")).collect(),
            };
            total += names.len() as u64;
            let line = Diagnostic::at_span(self.path, self.src, a.name.span(), "").line;
            let here = match count {
                None => format!("line {line}"),
                Some(_) => format!("line {line} (`{base}` with `count`)"),
            };
            // One diagnostic per [[agents]] entry, however many names collide.
            let mut clashes: Vec<String> = Vec::new();
            for name in names {
                if name == master {
                    clashes.push(format!("`{name}` is also the master's name"));
                } else if let Some(first) = seen.get(&name) {
                    clashes.push(format!("`{name}` is already defined on {first}"));
                } else {
                    seen.insert(name.clone(), here.clone());
                    out.push(AgentSpec {
                        name,
                        resources: resources.clone(),
                        attributes: attributes.clone(),
                        resources_text: a.resources.get_ref().clone(),
                        attributes_text: a.attributes.as_ref().map(|s| s.get_ref().clone()).unwrap_or_default(),
                        spark_installed: a.spark_installed.unwrap_or(true),
                    });
                }
            }
            if let Some(first) = clashes.first() {
                let more = match clashes.len() {
                    1 => String::new(),
                    n => format!(" (and {} more names from this entry)", n - 1),
                };
                let msg = format!("duplicate host name: {first}{more}; every host needs its own name");
                self.error(a.name.span(), msg);
            }
        }
        out
    }
}
