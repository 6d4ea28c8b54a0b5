//! The runner: a [`Scenario`] becomes builder calls on a [`Cluster`], runs, and is judged.
//!
//! ```text
//!  Scenario ──translate──▶ Cluster::builder(seed).master(..).agent(..)…  (+ SparkApps for [[apps]])
//!           ──run──▶ Report { frameworks, offers, checks, expectations, digest }
//! ```
//!
//! There is one path: `mesocosm run` and a Rust caller of [`crate::cluster`]
//! build and judge a cluster the same way. This module only says how each
//! part of a scenario file maps onto the builder.

use crate::cluster::{AgentSetup, Cluster, ClusterBuilder, Runtime};
use crate::registry::Registry;
use crate::scenario::Scenario;
use crate::spark::{SparkApps, validate_app};
use mesocosm_sim::{ActorId, Transport};
use std::collections::BTreeSet;
use std::io::Write;

pub use crate::cluster::builder::{attributes_proto as attributes, resources_proto};
pub use crate::cluster::{CheckFailure, FrameworkReport, KILLED, LINGER, Report, RunError, Show};
pub use crate::spark::{ask_timeout, spark_settings};

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
    /// Print only the timeline lines this keeps.
    pub timeline_filter: Option<mesocosm_sim::trace::LineFilter>,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            seed: None,
            transport: Transport::Grpc,
            trace: None,
            timeline: None,
            explain: false,
            digest: true,
            timeline_filter: None,
        }
    }
}

/// An agent's `--resources` as protobuf.
pub fn resources(
    specs: &[crate::mesos_syntax::ResourceSpec],
) -> Result<Vec<mesocosm_sim::proto::mesos::v1::Resource>, String> {
    resources_proto(specs)
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
        validate_app(app)?;
    }
    Ok(())
}

/// The cluster a scenario describes, ready to run, with the programs of `registry`.
pub fn cluster(scenario: &Scenario, seed: u64, registry: &Registry) -> Result<ClusterBuilder, RunError> {
    validate(scenario)?;
    // The registry's programs, then each framework kind's own (once per kind);
    // Spark's executor backend is added with the apps, asked first.
    let mut programs = registry.programs().clone();
    let mut kinds = BTreeSet::new();
    for f in &scenario.frameworks {
        if kinds.insert(f.kind.as_str()) {
            f.spec.programs(&mut programs);
        }
    }
    let mut b = Cluster::builder(seed)
        .programs(programs)
        .name(&scenario.name)
        .master(scenario.master.clone())
        .zookeeper(scenario.zookeeper)
        .latency(scenario.network.latency)
        .links(scenario.network.links.clone())
        .until(scenario.until)
        .keep_running(scenario.keep_running);
    for a in &scenario.agents {
        b = b.agent(AgentSetup {
            name: a.name.clone(),
            resources: resources(&a.resources).map_err(RunError::Unsupported)?,
            attributes: attributes(&a.attributes),
            containers: a.containers.clone(),
        });
    }
    let without_spark: BTreeSet<String> =
        scenario.agents.iter().filter(|a| !a.spark_installed).map(|a| a.name.clone()).collect();
    b = SparkApps::add_to(b, &scenario.apps, without_spark, scenario.containers.spark_in_image.clone())?;
    if let Some(d) = &scenario.dispatcher {
        b = crate::spark::dispatcher::add_dispatcher(b, d, &scenario.apps)?;
    }
    // A registered framework's scheduler is `scheduler:<name>`, as for
    // frameworks added in Rust with `ClusterBuilder::framework`.
    for f in &scenario.frameworks {
        let actor = ActorId::new(format!("scheduler:{}", f.name));
        b = b.add_framework(&f.name, actor, f.at, f.spec.framework(&f.name));
    }
    for f in &scenario.faults {
        b = b.fault_spec(f.clone());
    }
    for e in &scenario.expectations {
        b = b.expectation(e.clone());
    }
    Ok(b)
}

/// Run `scenario` once, with the built-in programs.
pub fn run(scenario: &Scenario, opts: RunOptions) -> Result<Report, RunError> {
    run_with(scenario, opts, &Registry::default())
}

/// Run `scenario` once, its containers running the programs of `registry`.
pub fn run_with(scenario: &Scenario, opts: RunOptions, registry: &Registry) -> Result<Report, RunError> {
    let seed = opts.seed.unwrap_or(scenario.seed);
    let rt = Runtime {
        transport: opts.transport,
        trace: opts.trace,
        timeline: opts.timeline,
        explain: opts.explain,
        digest: opts.digest,
        timeline_filter: opts.timeline_filter,
    };
    cluster(scenario, seed, registry)?.run(rt)
}
