//! The mesocosm world: virtual time, actors, the network, the trace.
//!
//! # Layout
//! - [`time`]: [`SimTime`], the virtual clock's instants.
//! - [`actor`]: the sans-IO contract every core keeps ([`Actor`], [`Input`], [`Output`]).
//! - [`container`]: the container nothing can run (exits 127, so its tasks fail).
//! - [`msg`]: [`Msg`], every message that crosses an actor boundary.
//! - [`ids`]: deterministic ids (UUIDs) derived from names and counters.
//! - [`trace`]: the JSON Lines trace and its digest, and the readable timeline.
//! - [`world`]: the runtime, the actors' hosts and the network (links, transports).
//! - `grpc`: the gRPC transport (tonic over in-memory HTTP/2 pipes).
//! - `host`: an actor's task: one input at a time into its core (panics caught,
//!   the livelock guard), its outputs carried out.
//! - `transit`: messages in transit on gRPC, so both transports give one trace.
//! - [`failure`]: why a run stops early ([`RunFailure`]: a panic, a livelock, a
//!   transport refusal).

pub mod actor;
pub mod container;
pub mod failure;
pub mod faults;
pub mod fields;
mod grpc;
mod host;
pub mod ids;
pub mod msg;
pub mod time;
pub mod trace;
mod transit;
pub mod world;

pub use actor::{Actor, ActorId, Input, Launch, Outbox, Output, Refusal, Shared, sent_to};
pub use failure::RunFailure;
pub use mesocosm_proto as proto;
pub use msg::Msg;
pub use time::SimTime;
pub use world::{
    Latency, MAX_VIRTUAL_TIME, Transport, Violation, World, WorldConfig, log_time, run_world, unit_interval,
};
