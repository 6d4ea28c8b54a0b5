//! Spark's MesosClusterDispatcher: cluster deploy mode on Mesos.
//!
//! `spark-submit --deploy-mode cluster --master mesos://<dispatcher>:7077`
//! does not run the driver: it POSTs the application to the dispatcher's REST
//! submission server (`/v1/submissions/create`) and returns. The dispatcher
//! (`MesosClusterDispatcher`, whose scheduler is `MesosClusterScheduler`) is
//! a Mesos framework of its own; it queues the submission, REVIVEs, and
//! launches the driver as a Mesos *command task* on the first offer that fits:
//!
//! ```text
//!  create ─▶ queued (priority, then submission time) ─ REVIVE
//!  OFFERS ─▶ due retries first, then the queue: first offer with cpus ≥ spark.driver.cores,
//!            mem ≥ spark.driver.memory + overhead, spark.mesos.driver.constraints met
//!         ─▶ ACCEPT: task <submission id>[-retry-N] "Driver for <app>",
//!                    command `cd spark-*; bin/spark-submit --name … --master mesos://<master> …`
//!         ─▶ every unused offer: DECLINE refuse_seconds = spark.mesos.rejectOfferDuration (120 s)
//!  UPDATE FAILED|LOST of a --supervise driver ─▶ relaunch after 1, 2, 4 … ≤ 60 s (REVIVE)
//!  UPDATE of any other end ─▶ finished (a KILLED driver is never relaunched)
//! ```
//!
//! The driver task's command is a client-mode spark-submit, which mesocosm
//! runs as the task's process ([`super::in_task`]): a real driver on the agent.
//!
//! # Layout
//! - [`conf`]: the dispatcher's arguments and `spark.*` keys ([`DispatcherConf`]).
//! - [`submission`]: the REST messages (`spark/rest.proto`) and the driver description built from one.
//! - [`client`]: [`client::RestClient`], spark-submit's `RestSubmissionClient` as an actor.
//! - [`command`]: the driver's TaskInfo and command line, escaped as Spark escapes it.
//! - [`core`]: [`ClusterScheduler`], the scheduler as a sans-IO [`mesocosm_scheduler::Scheduler`].
//! - [`framework`]: the dispatcher as a cluster framework (`scheduler:<host>`), and the
//!   spark-submit processes (`spark-submit:<app>`, `spark-submit:kill:<app>`…) that talk to it.

pub mod client;
pub mod command;
pub mod conf;
pub mod core;
pub mod framework;
pub mod submission;

pub use conf::DispatcherConf;
pub use core::{Answer, ClusterScheduler, Persisted, PersistenceEngine};
pub use framework::{
    DispatcherSpec, RequestSpec, add_dispatcher, create_request, is_cluster_mode, spark_submit_actors,
};
pub use submission::{
    CreateSubmissionRequest, CreateSubmissionResponse, ErrorResponse, KillSubmissionRequest, KillSubmissionResponse,
    SubmissionStatusRequest, SubmissionStatusResponse,
};

#[cfg(test)]
mod tests;
