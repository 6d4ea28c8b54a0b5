//! The mesocosm world: virtual time, actors, the network, the trace.
//!
//! # Layout
//! - [`time`]: [`SimTime`], the virtual clock's instants.
//! - [`actor`]: the sans-IO contract every core keeps ([`Actor`], [`Input`], [`Output`]).
//! - [`msg`]: [`Msg`], every message that crosses an actor boundary.
//! - [`ids`]: deterministic ids (UUIDs) derived from names and counters.

pub mod actor;
pub mod ids;
pub mod msg;
pub mod time;

pub use actor::{Actor, ActorId, Input, Launch, Outbox, Output, sent_to};
pub use mesocosm_proto as proto;
pub use msg::Msg;
pub use time::SimTime;
