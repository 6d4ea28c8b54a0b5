//! mesocosm scenarios: the scenario language, the runner and the CLI.
//!
//! # Layout
//! - [`scenario`]: the TOML scenario file, validated, with diagnostics that point
//!   at file, line and column ([`diag`]).
//! - [`script`]: the failure script: `[[faults]]` to inject and `[[expect]]` to check.
//! - [`submit`]: the real `spark-submit` command line and `spark-defaults.conf`.
//! - [`mesos_syntax`]: the agent's `--resources` / `--attributes` syntax.
//! - [`spark_rules`]: the Spark conf values the simulator reads, checked as Spark and Mesos do.
//! - [`units`]: mesocosm's own durations (Spark's size and time strings are `mesocosm_driver::conf`'s).
//! - [`judge`]: the cross-actor invariants and the expectations, judged on the message log.
//! - [`cluster`]: the public cluster builder: master, agents, any frameworks,
//!   faults and expectations, run to a judged [`cluster::Report`].
//! - [`runner`]: a scenario file translated into [`cluster`] builder calls.
//! - [`registry`]: the framework kinds a scenario file may name (`[[frameworks]] kind = …`).
//! - [`frameworks`]: built-in frameworks besides Spark (`sleep-tasks`).
//! - `props` (feature `props`, on by default): proptest strategies for random
//!   clusters, workloads and faults, and a harness that shrinks a failing case
//!   into a scenario file.
//! - [`cli`]: the `mesocosm` CLI as a function, [`cli::main_with`] a registry; `main.rs` calls it.

pub mod cli;
pub mod cluster;
pub mod diag;
pub mod flow;
pub mod frameworks;
pub mod judge;
pub mod mesos_syntax;
#[cfg(feature = "props")]
pub mod props;
pub mod registry;
pub mod runner;
pub mod scenario;
pub mod script;
pub mod spark_rules;
pub mod submit;
pub mod units;
