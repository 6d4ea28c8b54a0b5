//! The cluster as a library: assemble a Mesos master, agents and any
//! frameworks, script faults and expectations, run it deterministically and
//! get a judged [`Report`].
//!
//! ```text
//!  Cluster::builder(seed)
//!     .master(..) .agents(..)           the Mesos side, as `mesos-master` / `mesos-agent` flags
//!     .framework(name, at, factory)     any sim Actor that speaks the scheduler API
//!     .fault(..) .expect(..)            the scenario language's vocabulary, typed
//!     .until(..)
//!     .run(Runtime)  ──▶  World { master, agents, frameworks, containers } ──▶ Report
//! ```
//!
//! `mesocosm run` is a thin shell over this builder: a scenario file is
//! translated into builder calls (`mesocosm::runner::run`), so a framework
//! built here gets every fault, expectation and invariant a scenario gets.
//!
//! This is the bottom of the crate's stack: it imports only the leaf modules
//! (`units`, `mesos_syntax`) and the other crates, never the language, the
//! runner, the registry or the Spark plugin, which all build on it
//! (`tests/layout.rs` holds it to that).
//!
//! # Example
//!
//! A framework that subscribes and leaves at once, killed by a fault before it
//! can and restarted:
//!
//! ```
//! use mesocosm::cluster::{Cluster, Runtime};
//! use mesocosm::cluster::{AppOutcome, Expect, Fault};
//! use mesocosm_sim::{Actor, Input, Outbox};
//! use std::time::Duration;
//!
//! /// Exits 0 one second after it starts.
//! struct Quick;
//! impl Actor for Quick {
//!     type Timer = ();
//!     fn handle(&mut self, input: Input<()>, out: &mut Outbox<()>) {
//!         match input {
//!             Input::Start => out.set_timer(Duration::from_secs(1), ()),
//!             Input::Timer(()) => out.exit(0),
//!             _ => {}
//!         }
//!     }
//! }
//!
//! let report = Cluster::builder(7)
//!     .agents("agent", 2, "cpus:4;mem:8192")?
//!     .framework("quick", Duration::ZERO, |_ctx| Quick)
//!     .fault("kill quick", Fault::kill("scheduler:quick", Duration::from_millis(500)).restart_after(Duration::from_secs(1)))
//!     .expect("quick finishes", Expect::framework("quick", AppOutcome::Finishes))
//!     .until(Duration::from_secs(60))
//!     .run(Runtime::default())?;
//! assert!(report.passed(), "{:?}", report.checks);
//! assert!(report.framework("quick").unwrap().finished());
//! # Ok::<(), mesocosm::cluster::RunError>(())
//! ```
//!
//! # Layout
//! - [`builder`]: [`ClusterBuilder`], what a cluster is made of ([`MasterSpec`], agents, frameworks).
//! - [`framework`]: the [`Framework`] trait, [`FrameworkCtx`] and [`FrameworkReport`].
//! - [`plugin`]: how a framework kind plugs into scenario files ([`plugin::FrameworkPlugin`]).
//! - [`probe`]: watching a run without changing it ([`Probe`]: progress, allocation cycle times).
//! - [`faults`]: [`Fault`] and [`FaultSpec`], the faults a run injects.
//! - [`expect`]: [`Expect`] and [`Expectation`], what a run is expected to show.
//! - `run`: the live cluster (kills, restarts, the stop rule) and the fault schedule.
//! - [`judge`]: the cross-actor invariants and the expectations, judged on the message log.
//! - [`report`]: judging a run ([`Report`], checks, expectations) and its summary.

pub mod builder;
pub mod expect;
pub mod faults;
pub mod framework;
mod ha;
pub mod judge;
pub mod leadership;
pub mod plugin;
pub mod probe;
pub mod report;
mod run;

pub use builder::{AgentSetup, Cluster, ClusterBuilder, MasterSpec, Runtime};
pub use expect::{AgentMark, AppOutcome, Expect, Expectation, is_task_state};
pub use faults::{Fault, FaultSpec};
pub use framework::{Framework, FrameworkCtx, FrameworkReport, Process, Words};
pub use ha::LEADER;
pub use probe::{CycleTimes, Probe};
pub use report::{CheckFailure, Report, Show};

use std::time::Duration;

/// How long the world keeps running after the last framework exits, so the
/// teardown's consequences (ShutdownFramework, executor exits) reach the trace.
pub const LINGER: Duration = Duration::from_secs(1);

/// The exit status of a crashed process (128 + SIGKILL).
pub const KILLED: i32 = 137;

/// Input the cluster cannot simulate (bad input: the CLI exits 2).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("{0}")]
    Unsupported(String),
    #[error("writing the trace or timeline failed: {0}")]
    Io(#[from] std::io::Error),
}
