//! The registry: what the masters persist, in a log replicated among them.
//!
//! Mesos's master keeps a [`Registry`](mesocosm_proto::internal::Registry)
//! (admitted, unreachable and gone agents, and the leader's MasterInfo) so
//! that a newly elected leader knows which agents to expect
//! (`src/master/registrar.cpp`). It is stored through the `State`
//! abstraction in a *replicated log* (`src/log/`): every master holds a
//! replica, the leader's coordinator writes with multi-Paxos, and an entry is
//! chosen once a quorum (`--quorum`, more than half the masters) holds it.
//!
//! ```text
//!     leader (master-1)                               master-2, master-3
//!   ┌──────────────────────────────┐
//!   │ Master ── apply(op) ─▶ Registrar                │
//!   │                 │ whole Registry, one SNAPSHOT  │
//!   │                 ▼                               │
//!   │       Coordinator ── Promise/Write ─────────────┼──▶ Replica ─ disk
//!   │            │  ◀── PromiseResponse/WriteResponse ┼─── (10 ms a write)
//!   │            ▼                                    │
//!   │        Replica (local) ─ disk                   │
//!   └──────────────────────────────┘
//! ```
//!
//! - [`replica`]: the acceptor, its [`Disk`](replica::Disk) outliving a
//!   master's incarnations, and the modelled write latency.
//! - [`coordinator`]: the proposer: implicit promise, filling the positions a
//!   new coordinator does not know, appends, demotion.
//! - [`log`]: one master's replica and coordinator wired to its outbox.
//! - [`registrar`]: the Registry's operations, batching, and the
//!   fetch/store timeouts whose failure aborts the master.

pub mod coordinator;
pub mod log;
pub mod registrar;
pub mod replica;

/// The timers of a master's registry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Timer {
    /// A replica's disk write finished: its held answers may go.
    Disk,
    /// `registry_fetch_timeout` after recovery started.
    FetchTimeout,
    /// `registry_store_timeout` after store number `store` started.
    StoreTimeout { store: u64 },
}
