//! Property testing over random clusters, workloads and fault schedules.
//!
//! A property is a claim about every run: "no invariant breaks", "every app
//! that fits finishes", "my framework never holds an offer for ever". This
//! module generates the runs and checks the claim, with [proptest]:
//!
//! 1. **Strategies** (listed [below](self#strategies)) generate a [`Case`]: 1–6
//!    agents (cpus, memory, a `rack` attribute, Spark installed or not), 1–3
//!    Spark apps (submit time, `spark.cores.max`, executor cores and memory,
//!    failover timeout, a rack constraint; 1–2 jobs of 1–3 stages of 1–60
//!    tasks, sometimes a join), maybe `--offer_timeout`, and a fault schedule
//!    drawn from every fault the scenario language knows: kills with
//!    restarts, partitions that heal, disconnects, drop / duplicate / delay /
//!    hold of ~30 message kinds, slow frameworks.
//! 2. **Rendering**: [`Case::to_toml`] writes the case as the scenario file a
//!    user would write, with an `[[expect]]` for each app that must finish
//!    (decided by the [`Model`]).
//! 3. **The harness** ([`Harness`], [`check`]) runs each case through the
//!    ordinary parser and runner, hands the [`Report`](crate::runner::Report)
//!    to the property, and on failure lets proptest shrink the case, then
//!    writes the minimal one to `<dir>/<name>-<scenario seed>.toml` with a
//!    header naming the property, both seeds and the replay command, and the
//!    failure's message at the end.
//!
//! # Writing a property
//!
//! A property is a function of the case and its run's report that returns
//! `Err(why)` when the claim is false. Here, over clusters with one or two
//! kill faults, the claim that every kill is survived without breaking an
//! invariant:
//!
//! ```
//! use mesocosm::props::{self, Harness};
//!
//! Harness::new("kills-keep-invariants")
//!     .cases(2)
//!     .dir(std::env::temp_dir().join("mesocosm-props-doc"))
//!     .check(props::case_with(props::kill(), 1..=2), |case, report| {
//!         case.check_invariants(report)?;
//!         if report.digest.is_none() {
//!             return Err("the run has no digest".into());
//!         }
//!         Ok(())
//!     });
//! ```
//!
//! The case is plain data, so a property may also reason about what was
//! generated (`case.faults`, `case.model().may_fail`), and [`Case::check_liveness`]
//! adds "every app that must finish does". Any type that renders to a scenario
//! file can be a case: implement [`ScenarioCase`] for it (e.g. a cluster built
//! from [`agents`] running your own framework), and give the harness a
//! [`runner`](Harness::runner) that knows your framework.
//!
//! # Replaying a failure
//!
//! A failing [`Harness::check`] panics with the minimal case's text and path;
//! [`Harness::run`] returns it as a [`Failure`]. The file is an ordinary
//! scenario:
//!
//! ```text
//! # Property "kills-keep-invariants", scenario seed 0, proptest seed 7882833645028733805 (PROPTEST_RNG_SEED=…).
//! # Replay: mesocosm run target/mesocosm-props/kills-keep-invariants-0.toml
//! ...
//! # ---- property "kills-keep-invariants" failed on this case ----
//! # digest: 3f2a…
//! # checks failed: …
//! ```
//!
//! `mesocosm run <file>` (or `cargo run -p mesocosm -- run <file>`) runs it
//! again to the same digest and prints its timeline; `--explain` narrates each
//! decision and `--trace <path>` writes every message, to see why. Keep the
//! file name when you copy it: a
//! `probability` fault's generator is seeded by `<file name>:<line>`.
//! `PROPTEST_RNG_SEED=<proptest seed>` makes the test generate the same cases
//! again; `PROPTEST_CASES` runs more of them.
//!
//! # Strategies
//!
//! Clusters: [`agent`], [`agents`]. Workloads: [`duration`], [`stage`],
//! [`job`], [`app`], [`apps`]. Faults: [`kill_agent`], [`kill_master`],
//! [`kill_driver`], [`kill_executor`], [`kill`], [`partition_agents`],
//! [`partition_driver`], [`disconnect`], [`message`] (with [`action`] and
//! [`pick`] over [`MESSAGE_KINDS`]), [`slow`], and [`fault`] for any of them;
//! each has an `_in` form drawing within a [`Window`] ([`fault_in`]), and a
//! schedule is written against any cluster's [`Targets`] (`mesocosm chaos`
//! draws its faults this way for a scenario file's own actors).
//! Whole cases: [`case`] (any fault) and [`case_with`] (your fault strategy).
//!
//! This module is the `props` cargo feature, on by default; a program that
//! only runs scenarios may turn it off and skip compiling proptest.

mod harness;
mod model;
mod render;
mod strategies;
mod targets;

pub use harness::{DEFAULT_RNG_SEED, Failure, Harness, check, run_memory, summary};
pub use model::{Loss, MESSAGE_KINDS, MessageKind, Model, Role};
/// The proptest this module is built on, so a user's strategies match its version.
pub use proptest;
pub use render::UNTIL_MIN;
pub use strategies::{
    ActionGen, AgentGen, AppGen, Case, DurGen, FaultGen, JobGen, LinkGen, PickGen, StageGen, Window, action, agent,
    agents, app, apps, case, case_with, disconnect, disconnect_in, duration, fault, fault_in, job, kill, kill_agent,
    kill_agent_in, kill_driver, kill_driver_in, kill_executor, kill_executor_in, kill_master, kill_master_in, message,
    message_in, partition_agents, partition_agents_in, partition_driver, partition_driver_in, pick, slow, slow_in,
    stage,
};
pub use targets::{FrameworkTarget, Targets};

/// Anything the harness can run: a value that renders to a scenario file.
///
/// [`Case`] is one; a user's own case type is another. Here, random agents
/// (from [`agents`], rendered by [`AgentGen::to_toml`]) under one fixed Spark
/// app; a case naming a framework of your own would add its
/// `[[frameworks]]` table and give the harness a [`runner`](Harness::runner)
/// that parses with your registry.
///
/// ```
/// use mesocosm::props::proptest::prelude::*;
/// use mesocosm::props::{self, AgentGen, Harness, ScenarioCase};
///
/// #[derive(Clone, Debug)]
/// struct PiOn {
///     seed: u64,
///     agents: Vec<AgentGen>,
/// }
///
/// impl ScenarioCase for PiOn {
///     fn seed(&self) -> u64 {
///         self.seed
///     }
///     fn to_toml(&self) -> String {
///         let mut s = format!("[scenario]\nname = \"pi-on\"\nseed = {}\nuntil = \"10m\"\n", self.seed);
///         for (i, a) in self.agents.iter().enumerate() {
///             s += &format!("\n{}", a.to_toml(&format!("agent-{}", i + 1)));
///         }
///         s + "\n[[apps]]\nsubmit = \"spark-submit --master mesos://master:5050 --name pi \
///              --class org.apache.spark.examples.SparkPi --conf spark.cores.max=2 pi.jar\"\n\
///              [[apps.jobs]]\n[[apps.jobs.stages]]\ntasks = 4\nduration = \"500ms\"\n"
///     }
/// }
///
/// let strategy = (any::<u64>(), props::agents()).prop_map(|(seed, agents)| PiOn { seed, agents });
/// Harness::new("pi-runs-to-a-digest")
///     .cases(2)
///     .dir(std::env::temp_dir().join("mesocosm-props-doc"))
///     .check(strategy, |_, report| match (&report.failure, &report.digest) {
///         (None, Some(_)) => Ok(()),
///         (failure, _) => Err(format!("the run stopped early: {failure:?}")),
///     });
/// ```
pub trait ScenarioCase: Clone + std::fmt::Debug {
    /// The scenario's `[scenario] seed` (it names the failure file).
    fn seed(&self) -> u64;
    /// The scenario file's text. Rendered again for each run of the case, so
    /// it must depend on the case alone.
    fn to_toml(&self) -> String;
}

impl ScenarioCase for Case {
    fn seed(&self) -> u64 {
        self.seed
    }

    fn to_toml(&self) -> String {
        Case::to_toml(self)
    }
}
