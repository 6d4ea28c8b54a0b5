//! [`ClusterBuilder`]: what a cluster is made of, before it runs.
//!
//! Every part is plain data until [`ClusterBuilder::run`]: the master's flags
//! ([`MasterSpec`], Mesos's defaults), agents with their `--resources` and
//! `--attributes`, frameworks (factories, started at their time), the
//! programs that run in containers, faults and expectations. Nothing draws randomness
//! before the run: every seeded choice comes from the world's root seed and a
//! label, so adding a part never changes the draws of another.

use super::RunError;
use super::expect::{Expect, Expectation};
use super::faults::{Fault, FaultSpec};
use super::framework::{FnFramework, Framework, FrameworkCtx};
use super::probe::Probe;
use crate::mesos_syntax::{AttrValue, AttributeSpec, ResourceSpec, ValueSpec, parse_attributes, parse_resources};
use mesocosm_executor::{Program, Programs};
use mesocosm_master::registry::registrar::Timeouts;
use mesocosm_master::{RemovalRate, SorterChoice};
use mesocosm_sim::faults::LinkLatency;
use mesocosm_sim::proto::Resources;
use mesocosm_sim::proto::mesos::v1::{Attribute, Resource, value};
use mesocosm_sim::trace::{LineFilter, Timeline};
use mesocosm_sim::{Actor, ActorId, Latency, Transport};
use std::collections::BTreeMap;
use std::io::Write;
use std::time::Duration;

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
    /// `--recovery_agent_removal_limit` (Mesos default 100%), as a fraction.
    pub recovery_agent_removal_limit: f64,
    /// `--agent_removal_rate_limit` (Mesos default: none).
    pub agent_removal_rate_limit: Option<RemovalRate>,
    /// `--registry_fetch_timeout` and `--registry_store_timeout` (1 min, 20 s):
    /// used when several masters hold the registry.
    pub registry_timeouts: Timeouts,
    /// How many masters (default 1). More than one contend through ZooKeeper
    /// and are named `<name>-1` … `<name>-<count>`.
    pub count: u32,
    /// `--quorum`: the replicated log's write quorum (default `count / 2 + 1`).
    pub quorum: Option<u32>,
    /// `--zk`: the masters contend in this group (None: one master, no election).
    pub zk: Option<mesocosm_zookeeper::ZkUrl>,
}

impl MasterSpec {
    /// The masters' actor and host names: `name` alone, or `name-1` … `name-N`.
    pub fn names(&self) -> Vec<String> {
        if self.count <= 1 {
            vec![self.name.clone()]
        } else {
            (1..=self.count).map(|i| format!("{}-{i}", self.name)).collect()
        }
    }
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
            recovery_agent_removal_limit: 1.0,
            agent_removal_rate_limit: None,
            registry_timeouts: Timeouts::default(),
            count: 1,
            quorum: None,
            zk: None,
        }
    }
}

/// The entry point: `Cluster::builder(seed)`.
pub struct Cluster;

impl Cluster {
    /// An empty cluster (a master with Mesos's default flags, no agents, no
    /// frameworks) whose every random choice derives from `seed`.
    pub fn builder(seed: u64) -> ClusterBuilder {
        ClusterBuilder {
            name: "cluster".into(),
            seed,
            master: MasterSpec::default(),
            agents: Vec::new(),
            frameworks: Vec::new(),
            programs: Programs::with_mesos_command_executor(),
            faults: Vec::new(),
            expectations: Vec::new(),
            latency: Latency::DEFAULT,
            links: Vec::new(),
            until: Duration::from_secs(3600),
            keep_running: false,
            probe: Probe::default(),
            step_checks: true,
            zookeeper: 0,
        }
    }
}

/// One Mesos agent: its hostname (which is its actor name), `--resources` and `--attributes`.
#[derive(Clone, Debug, PartialEq)]
pub struct AgentSetup {
    pub name: String,
    pub resources: Vec<Resource>,
    pub attributes: Vec<Attribute>,
    /// `--containerizers`, `--docker_config`, `--executor_registration_timeout`,
    /// the registry and fetcher links (default: nothing to pull or fetch).
    pub containers: mesocosm_agent::ContainerConfig,
}

impl AgentSetup {
    /// An agent from Mesos flag syntax: `resources` as `--resources`
    /// (`"cpus:4;mem:8192;ports:[31000-32000]"`), `attributes` as
    /// `--attributes` (`"rack:r1;zone:a"`, or "").
    pub fn parse(name: &str, resources: &str, attributes: &str) -> Result<AgentSetup, RunError> {
        let bad = |e: String| RunError::Unsupported(format!("agent {name}: {e}"));
        let r = parse_resources(resources).map_err(bad)?;
        let a = if attributes.trim().is_empty() { Vec::new() } else { parse_attributes(attributes).map_err(bad)? };
        Ok(AgentSetup {
            name: name.to_string(),
            resources: resources_proto(&r).map_err(bad)?,
            attributes: attributes_proto(&a),
            containers: Default::default(),
        })
    }
}

/// A framework to start: its name, scheduler actor, first start and factory.
pub(crate) struct FrameworkEntry {
    pub name: String,
    pub actor: ActorId,
    pub at: Duration,
    pub framework: Box<dyn Framework>,
}

/// How a run is watched: transport, trace, timeline.
pub struct Runtime {
    pub transport: Transport,
    /// Write the JSON Lines trace here.
    pub trace: Option<Box<dyn Write + Send>>,
    /// Print the timeline here.
    pub timeline: Option<Box<dyn Write + Send>>,
    /// Also print the cores' explanations on the timeline.
    pub explain: bool,
    /// Compute the trace digest.
    pub digest: bool,
    /// Print only the timeline lines this keeps (e.g. a [`crate::flow::Filter`]).
    pub timeline_filter: Option<LineFilter>,
}

impl Default for Runtime {
    fn default() -> Self {
        Runtime {
            transport: Transport::Grpc,
            trace: None,
            timeline: None,
            explain: false,
            digest: true,
            timeline_filter: None,
        }
    }
}

impl Runtime {
    pub(crate) fn timeline(&mut self) -> Option<Timeline> {
        let keep = self.timeline_filter.take();
        self.timeline.take().map(|out| Timeline { keep, ..Timeline::new(out, self.explain) })
    }
}

/// A cluster being assembled; [`ClusterBuilder::run`] runs it.
pub struct ClusterBuilder {
    pub(crate) name: String,
    pub(crate) seed: u64,
    pub(crate) master: MasterSpec,
    pub(crate) agents: Vec<AgentSetup>,
    pub(crate) frameworks: Vec<FrameworkEntry>,
    pub(crate) programs: Programs,
    pub(crate) faults: Vec<FaultSpec>,
    pub(crate) expectations: Vec<Expectation>,
    pub(crate) latency: Latency,
    pub(crate) links: Vec<LinkLatency>,
    pub(crate) until: Duration,
    pub(crate) keep_running: bool,
    pub(crate) probe: Probe,
    pub(crate) step_checks: bool,
    /// ZooKeeper servers `zookeeper-001` … (0: no ensemble).
    pub(crate) zookeeper: u32,
}

impl ClusterBuilder {
    /// Name the run (the report's `scenario`).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// The master's flags (its name is its actor and host name).
    pub fn master(mut self, spec: MasterSpec) -> Self {
        self.master = spec;
        self
    }

    /// The master's flags so far.
    pub fn master_spec(&self) -> &MasterSpec {
        &self.master
    }

    /// A ZooKeeper ensemble of `servers` (`zookeeper-001` …), up from the start.
    pub fn zookeeper(mut self, servers: u32) -> Self {
        self.zookeeper = servers;
        self
    }

    /// The ensemble's size (0: none).
    pub fn zookeeper_servers(&self) -> u32 {
        self.zookeeper
    }

    /// Add one agent.
    pub fn agent(mut self, agent: AgentSetup) -> Self {
        self.agents.push(agent);
        self
    }

    /// Add `count` agents `<prefix>-1` … `<prefix>-<count>` with the same
    /// `--resources` (Mesos syntax).
    pub fn agents(mut self, prefix: &str, count: u32, resources: &str) -> Result<Self, RunError> {
        for i in 1..=count {
            self.agents.push(AgentSetup::parse(&format!("{prefix}-{i}"), resources, "")?);
        }
        Ok(self)
    }

    /// Add a framework whose scheduler is whatever `factory` makes: any
    /// [`Actor`] that speaks the scheduler API. It runs as actor
    /// `scheduler:<name>` (the name faults and expectations use), starts at
    /// `at`, and `factory` is called again on each restart (a restarted
    /// scheduler is a new process: what it remembers is up to the factory).
    pub fn framework<A, F>(self, name: &str, at: Duration, factory: F) -> Self
    where
        A: Actor,
        F: Fn(&FrameworkCtx<'_>) -> A + Send + 'static,
    {
        let actor = ActorId::new(format!("scheduler:{name}"));
        self.add_framework(name, actor, at, FnFramework(factory))
    }

    /// Add a framework under an actor name of its own (Spark's drivers are `driver:<app>`).
    pub fn add_framework(mut self, name: &str, actor: ActorId, at: Duration, fw: impl Framework) -> Self {
        self.frameworks.push(FrameworkEntry { name: name.to_string(), actor, at, framework: Box::new(fw) });
        self
    }

    /// Add a program: what runs in the containers whose launch it
    /// [`Program::runs`]. Programs added later are asked first; Mesos's
    /// command executor (for plain command tasks) is there from the start.
    /// A container no program runs exits 127, and its task fails.
    pub fn program(mut self, program: impl Program) -> Self {
        self.programs.add(program);
        self
    }

    /// Replace every program (e.g. `Programs::new()`: nothing runs).
    pub fn programs(mut self, programs: Programs) -> Self {
        self.programs = programs;
        self
    }

    /// Inject a fault; `label` names it in the trace and the report. A fault
    /// that does nothing in the run fails it (see [`ClusterBuilder::fault_spec`]
    /// for an `optional` one). Message rules, partitions and slow frameworks
    /// are `mesocosm_sim::faults`' `MessageFault`, `Partition` and `Slow`:
    ///
    /// ```
    /// use mesocosm::cluster::Cluster;
    /// use mesocosm::cluster::Fault;
    /// use mesocosm_sim::faults::MessageFault;
    /// use std::time::Duration;
    ///
    /// let b = Cluster::builder(1)
    ///     .fault("lose a pong", Fault::Message(MessageFault::drop("PongSlaveMessage").nth(1)))
    ///     .fault("crash agent-1", Fault::kill("agent-1", Duration::from_secs(30)).restart_after(Duration::from_secs(5)));
    /// # drop(b);
    /// ```
    pub fn fault(self, label: &str, mut fault: Fault) -> Self {
        // The world reports a rule by its own label: keep it the fault's.
        match &mut fault {
            Fault::Message(m) => m.label = label.to_string(),
            Fault::Partition(p) => p.label = label.to_string(),
            Fault::Slow(s) => s.label = label.to_string(),
            Fault::Kill { .. } | Fault::Disconnect { .. } | Fault::Registry { .. } | Fault::ExpireSession { .. } => {}
        }
        self.fault_spec(FaultSpec { label: label.to_string(), fault, optional: false })
    }

    /// Inject a fault as the scenario language states it.
    pub fn fault_spec(mut self, spec: FaultSpec) -> Self {
        self.faults.push(spec);
        self
    }

    /// Expect something of the run; `label` names it in the report. A
    /// framework with no expectation about how it ends must exit 0.
    pub fn expect(self, label: &str, expect: Expect) -> Self {
        let text = label.to_string();
        self.expectation(Expectation { label: label.to_string(), text, expect, after: None, before: None })
    }

    /// Add an expectation as the scenario language states it.
    pub fn expectation(mut self, e: Expectation) -> Self {
        self.expectations.push(e);
        self
    }

    /// The one-way latency of every link.
    pub fn latency(mut self, latency: Latency) -> Self {
        self.latency = latency;
        self
    }

    /// Latencies of some links, overriding [`ClusterBuilder::latency`] (first match wins).
    pub fn links(mut self, links: Vec<LinkLatency>) -> Self {
        self.links = links;
        self
    }

    /// Stop the run at this virtual time (default 1 h).
    pub fn until(mut self, until: Duration) -> Self {
        self.until = until;
        self
    }

    /// Run to `until` even after every framework has exited.
    pub fn keep_running(mut self, keep: bool) -> Self {
        self.keep_running = keep;
        self
    }

    /// Watch the run from outside (a progress bar, allocation cycle times)
    /// without changing it: see [`Probe`].
    pub fn probe(mut self, probe: Probe) -> Self {
        self.probe = probe;
        self
    }

    /// Check every core's invariants after each of its steps (on by default).
    /// Off, the run is the same run (the checks only read state) and is still
    /// judged: the cross-actor invariants over the message log and every
    /// expectation; only a broken core invariant would go unseen. For
    /// measuring what the checks cost, never for a verdict.
    pub fn step_checks(mut self, on: bool) -> Self {
        self.step_checks = on;
        self
    }

    /// Run the cluster once and judge it.
    pub fn run(self, runtime: Runtime) -> Result<super::Report, RunError> {
        super::run::run(self, runtime)
    }
}

/// An agent's `--resources` as protobuf.
pub fn resources_proto(specs: &[ResourceSpec]) -> Result<Vec<Resource>, String> {
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
pub fn attributes_proto(specs: &[AttributeSpec]) -> Vec<Attribute> {
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
