//! The Mesos agent as a sans-IO core.
//!
//! An agent registers with the master, answers its pings, runs the tasks the
//! master sends it in executor containers, and relays its executors' status
//! updates to the master reliably, retrying each until the framework acknowledges
//! it. It never awaits or reads a clock: the world feeds it inputs and carries out
//! its outputs (see `mesocosm_sim::actor`).
//!
//! # Layout
//! - [`agent`]: the actor [`Agent`], one `impl` split by seam: registration and
//!   re-registration (after a restart with a recovered id, a closed master
//!   connection, or 75 s without a ping) and pings; RunTask → container launch,
//!   the executor API (SUBSCRIBE / UPDATE), kills and shutdowns (SHUTDOWN, then
//!   destruction after a 5 s grace period); the glue to the status update
//!   manager; and the invariants it keeps ([`Agent::check_invariants`]).
//! - [`images`]: what a container needs before it starts, as pure data: the
//!   fetcher's URIs (sizes, the fetcher cache, extracted credentials) and the
//!   Docker image's layers (the agent's layer store, shared and forced pulls).
//! - [`status_updates`]: the task status update manager (one ordered stream per
//!   task, head forwarded, retried with backoff until acknowledged; paused while
//!   the agent has no master).

pub mod agent;
pub mod images;
pub mod status_updates;

pub use agent::{Agent, AgentConfig, Timer};
pub use images::{Catalog, ContainerConfig, Image, Layer, Link, RegistryEffect, RegistryFault, StoreTotals, UriFile};
