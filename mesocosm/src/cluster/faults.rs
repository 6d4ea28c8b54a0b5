//! The faults a cluster run injects, as checked data: what the builder takes
//! ([`crate::cluster::ClusterBuilder::fault`]) and what the run applies.
//!
//! A [`Fault`] is one of two engines' work, decided by its kind:
//!
//! ```text
//!  Kill, Disconnect ──▶ the run's schedule (cluster/run.rs): a task per fault, at its time
//!  Partition ─────────▶ both: the world's FaultBook cuts the link, the schedule logs start and heal
//!  Message, Slow ─────▶ the world's FaultBook (mesocosm_sim::faults), decided per message at send time
//!  Registry ──────────▶ the matching agents' image stores (ContainerConfig::registry_faults),
//!                       decided per pull request; the schedule logs the window opening and closing
//!  ExpireSession ─────▶ the ZooKeeper servers (ServerConfig::expire), at its time; the schedule
//!                       logs it
//! ```
//!
//! The scenario language writes these from `[[faults]]` tables
//! (`crate::script`); a Rust caller builds them directly. Either way a fault
//! that never applied is reported, and fails the run unless it is `optional`.

use mesocosm_agent::RegistryEffect;
use mesocosm_sim::faults::{MessageFault, Partition, Pattern, Slow};
use std::time::Duration;

/// One fault, with where it was written.
#[derive(Clone, Debug, PartialEq)]
pub struct FaultSpec {
    /// `file:line` of its `[[faults]]` header, how the trace and reports name it.
    pub label: String,
    pub fault: Fault,
    /// `optional = true`: the fault may legitimately do nothing (e.g. a message
    /// that is only sent on some seeds). Otherwise a fault that did nothing
    /// fails the run: the scenario tested something other than it says.
    pub optional: bool,
}

/// What a fault does.
#[derive(Clone, Debug, PartialEq)]
pub enum Fault {
    /// Kill every running actor matching `actor` at `at`; start each again
    /// `restart_after` later if given.
    Kill { actor: Pattern, at: Duration, restart_after: Option<Duration> },
    /// Break the connection between `a` and `b` at `at`.
    Disconnect { a: String, b: String, at: Duration },
    /// A partition (its own times inside).
    Partition(Partition),
    /// A message rule.
    Message(MessageFault),
    /// A slow scheduler.
    Slow(Slow),
    /// The image registry, as the agents matching `agents` see it, slow or
    /// unreachable from `from` until `until` (the run's end if `None`).
    Registry { agents: Pattern, effect: RegistryEffect, from: Duration, until: Option<Duration> },
    /// ZooKeeper expires `client`'s session at `at` (the ensemble's servers
    /// apply it: `mesocosm_zookeeper::ServerConfig::expire`).
    ExpireSession { client: String, at: Duration },
}

impl Fault {
    /// Kill every running actor whose name matches `actor` (a glob) at `at`.
    pub fn kill(actor: &str, at: Duration) -> Fault {
        Fault::Kill { actor: Pattern::new(actor), at, restart_after: None }
    }

    /// A kill that starts its victims again `after` later; other faults are unchanged.
    #[must_use]
    pub fn restart_after(self, after: Duration) -> Fault {
        match self {
            Fault::Kill { actor, at, .. } => Fault::Kill { actor, at, restart_after: Some(after) },
            other => other,
        }
    }
}
