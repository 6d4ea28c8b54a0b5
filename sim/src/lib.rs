//! The mesocosm world: virtual time, actors, the network, the trace.
//!
//! # Layout
//!
//! From the top down: a module uses only modules below it in this list
//! (`tests/layout.rs` checks it, so the crate has no import circle).
//!
//! - [`world`]: the runtime, the actors' hosts and the network. `world/mod.rs`
//!   builds a [`World`] and spawns, sends, kills and records; `link` carries
//!   each ordered actor pair's messages in order after its latency, and the
//!   connections they open; `host` is an actor's task (one input at a time into
//!   its core, panics caught, the livelock guard, outputs carried out);
//!   [`container`] starts what agents launch (and the process nothing can run,
//!   which exits 127).
//! - `grpc`: the gRPC transport (tonic over in-memory HTTP/2 pipes); it owns
//!   what only gRPC has (servers, event streams, pending asks) and knows the
//!   world only through the mailboxes it delivers into.
//! - `mailbox`: every running actor's mailbox (what the network delivers, one at
//!   a time), its incarnation and the tasks that die with it.
//! - `transit`: messages in transit on gRPC, so both transports give one trace.
//! - `arrivals`: what the network still owes each actor, so a host handles
//!   what reaches it at one instant in the world's order (by sender name).
//! - [`faults`]: what the network does to messages (drops, delays, duplicates,
//!   partitions, slow frameworks, per-link latencies), decided at send time.
//! - [`latency`]: [`Latency`], one value per link, drawn by name from the seed.
//! - [`seed`]: [`derive_seed`] and [`unit_interval`], how the root seed becomes
//!   every random choice, by name.
//! - [`trace`]: the JSON Lines trace and its digest, and the readable timeline.
//! - [`failure`]: why a run stops early ([`RunFailure`]: a panic, a livelock, a
//!   transport refusal).
//! - [`fields`]: the message kinds and fields scenarios may name.
//! - [`actor`]: the sans-IO contract every core keeps ([`Actor`], [`Input`], [`Output`]).
//! - [`msg`]: [`Msg`], every message that crosses an actor boundary.
//! - [`ids`]: deterministic ids (UUIDs) derived from names and counters.
//! - [`time`]: [`SimTime`], the virtual clock's instants.

pub mod actor;
mod arrivals;
pub mod failure;
pub mod faults;
pub mod fields;
mod grpc;
pub mod ids;
pub mod latency;
mod mailbox;
pub mod msg;
pub mod seed;
pub mod time;
pub mod trace;
mod transit;
pub mod world;

pub use actor::{Actor, ActorId, Input, Launch, Outbox, Output, Refusal, Shared, calls_to, sent_to};
pub use failure::RunFailure;
pub use latency::Latency;
pub use mesocosm_proto as proto;
pub use msg::Msg;
pub use seed::{derive_seed, unit_interval};
pub use time::SimTime;
pub use world::container;
pub use world::{MAX_VIRTUAL_TIME, Transport, Violation, World, WorldConfig, log_time, run_world};
