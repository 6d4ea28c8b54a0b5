//! mesocosm scenarios: the scenario language, the runner and the CLI.
//!
//! # Layout
//! - [`scenario`]: the TOML scenario file, validated, with diagnostics that point
//!   at file, line and column ([`diag`]).
//! - [`script`]: the failure script: `[[faults]]` to inject and `[[expect]]` to check.
//! - [`submit`]: the real `spark-submit` command line and `spark-defaults.conf`.
//! - [`mesos_syntax`]: the agent's `--resources` / `--attributes` syntax.
//! - [`spark_rules`]: the Spark conf values the simulator reads, checked as Spark and Mesos do.
//! - [`units`]: durations and Spark's size and time strings.
//! - [`judge`]: the cross-actor invariants and the expectations, judged on the message log.
//! - [`runner`]: builds the world from a scenario, runs it, checks it, reports.
//! - `props` (feature `props`, on by default): proptest strategies for random
//!   clusters, workloads and faults, and a harness that shrinks a failing case
//!   into a scenario file.
//! - `main.rs`: the `mesocosm` CLI.

pub mod diag;
pub mod judge;
pub mod mesos_syntax;
#[cfg(feature = "props")]
pub mod props;
pub mod runner;
pub mod scenario;
pub mod script;
pub mod spark_rules;
pub mod submit;
pub mod units;
