//! mesocosm scenarios: the scenario language, the runner and the CLI.
//!
//! # Layout
//! - [`scenario`]: the TOML scenario file, validated, with diagnostics that point
//!   at file, line and column ([`diag`]).
//! - [`submit`]: the real `spark-submit` command line and `spark-defaults.conf`.
//! - [`mesos_syntax`]: the agent's `--resources` / `--attributes` syntax.
//! - [`units`]: durations and Spark's size and time strings.
//! - [`runner`]: builds the world from a scenario, runs it, checks it, reports.
//! - `main.rs`: the `mesocosm` CLI.

pub mod diag;
pub mod mesos_syntax;
pub mod runner;
pub mod scenario;
pub mod submit;
pub mod units;
