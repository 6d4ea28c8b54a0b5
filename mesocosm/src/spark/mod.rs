//! The Spark plugin: everything that knows Spark, on top of the cluster.
//!
//! ```text
//!  [[apps]] spark-submit … ──(the language)──▶ AppSpec { SparkSubmit, SparkConf, jobs }   spec.rs, dist.rs
//!                                              └─ rules::check: the conf, as Spark checks it  rules.rs
//!  AppSpec ──SparkApps::add_to──▶ ClusterBuilder: a SparkDriver framework per app,         apps.rs
//!                                 Spark's executor backend as a container program
//! ```
//!
//! It builds on [`crate::cluster`] (frameworks, the builder) and the leaves
//! (`units`, `mesos_syntax`) and reads spark-submit lines with
//! [`crate::submit`]; the language and the runner build on it, never the
//! other way round.
//!
//! # Layout
//! - [`spec`]: [`AppSpec`], [`JobSpec`], [`StageSpec`]: a spark-submit and its work.
//! - [`dist`]: [`DurationDist`], task durations drawn from the seed.
//! - [`rules`]: the conf values the simulator reads, checked as Spark and Mesos do.
//! - [`apps`]: [`SparkApps`], each app as a framework, with the executor launcher.
//! - [`in_task`]: [`SparkSubmitProgram`], a spark-submit run as a Mesos task's
//!   command: the driver as that task's process.

pub mod apps;
pub mod dispatcher;
pub mod dist;
pub mod in_task;
pub mod rules;
pub mod spec;

pub use apps::{SparkApps, ask_timeout, spark_settings, validate_app};
pub use dist::DurationDist;
pub use in_task::SparkSubmitProgram;
pub use spec::{AppSpec, JobSpec, StageSpec, driver_names};
