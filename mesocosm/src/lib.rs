//! mesocosm scenarios: the cluster library, the Spark plugin, the scenario
//! language, the runner and the CLI.
//!
//! # Layout
//!
//! Layered, top to bottom; a module names only modules of the lines below it
//! (`tests/layout.rs` checks that the modules form no circle):
//!
//! ```text
//!  cli                                   the CLI: everything below
//!  bench                                 benchmarks: offer churn, Spark apps, the allocator alone
//!  sweep ─▶ runner                       many seeds in parallel, sharded, merged
//!  chaos                                 random fault schedules over a scenario file, shrunk
//!  props ─▶ runner                       random cases; a scenario file → builder calls
//!  scenario ─▶ script ─▶ check           the language (check: its checker core)
//!  registry ─▶ frameworks                the named parts: framework kinds, sorters, programs
//!  spark ─▶ submit                       the Spark plugin
//!  cluster                               the public library: builder, faults, expectations, judge
//!  flow                                  the trace read back: filters, pictures, decoding
//!  units · diag · mesos_syntax           the leaves
//! ```
//!
//! - [`cli`]: the `mesocosm` CLI as a function, [`cli::main_with`] a registry; `main.rs` calls it.
//! - [`bench`](mod@bench): the workloads `mesocosm bench` and the criterion benches run,
//!   and what they measure (time, allocation cycles, memory), beside Mesos's figures.
//! - [`sweep`]: one scenario over many seeds on worker threads, split into
//!   shards (`--shard K/N`), its summary and its JSON Lines result file, merged.
//! - `chaos` (feature `props`): `mesocosm chaos`, a scenario file under random
//!   fault schedules drawn with the props strategies, a failure shrunk to a file.
//! - `props` (feature `props`, on by default): proptest strategies for random
//!   clusters, workloads and faults, and a harness that shrinks a failing case
//!   into a scenario file.
//! - [`runner`]: a scenario file translated into [`cluster`] builder calls.
//! - [`scenario`]: the TOML scenario file, validated, with diagnostics that point
//!   at file, line and column ([`diag`]).
//! - [`script`]: the failure script: `[[faults]]` to inject (one file per fault
//!   kind) and `[[expect]]` to check.
//! - [`check`]: the language's checker core, shared by `scenario` and `script`.
//! - [`registry`]: the framework kinds a scenario file may name (`[[frameworks]] kind = …`).
//! - [`frameworks`]: built-in frameworks besides Spark (`sleep-tasks`).
//! - [`spark`]: the Spark plugin: `[[apps]]` as checked data, the conf rules,
//!   each app as a framework with its executor launcher.
//! - [`submit`]: the real `spark-submit` command line and `spark-defaults.conf`.
//! - [`cluster`]: the public cluster builder: master, agents, any frameworks,
//!   faults and expectations, run to a judged [`cluster::Report`].
//! - [`flow`]: a run's trace read back: timeline filters, Perfetto and Mermaid
//!   pictures, messages decoded by name.
//! - [`units`]: mesocosm's own durations (Spark's size and time strings are `mesocosm_driver::conf`'s).
//! - [`mesos_syntax`]: the agent's `--resources` / `--attributes` syntax.
//! - [`diag`]: diagnostics located at file, line and column.

pub mod bench;
#[cfg(feature = "props")]
pub mod chaos;
pub mod check;
pub mod cli;
pub mod cluster;
pub mod diag;
pub mod flow;
pub mod frameworks;
pub mod mesos_syntax;
#[cfg(feature = "props")]
pub mod props;
pub mod registry;
pub mod runner;
pub mod scenario;
pub mod script;
pub mod spark;
pub mod submit;
pub mod sweep;
pub mod units;

/// The judge moved under the cluster; this keeps `mesocosm::judge` working.
pub use cluster::judge;
