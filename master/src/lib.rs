//! The Mesos master, as a sans-IO actor core.
//!
//! A Mesos master does three jobs, and this crate models each of them the way
//! `src/master/master.cpp` and `src/master/allocator/mesos/hierarchical.cpp` do:
//!
//! 1. **It keeps the books.** Agents register (`RegisterSlave` →
//!    `SlaveRegistered`, then a ping every 15 s), schedulers SUBSCRIBE (→
//!    SUBSCRIBED, then a HEARTBEAT every 15 s), and the master tracks every
//!    agent's resources, every framework's tasks and every outstanding offer.
//! 2. **It offers resources by hierarchical DRF**, or by the policy you plug
//!    in. Every `allocation_interval` (and soon after a new agent, a new
//!    framework or a REVIVE) the allocator walks the agents in a seeded
//!    shuffled order and gives each one's whole free resources to the first
//!    framework that has not refused them, taking roles in the role sorter's
//!    order and, within a role, frameworks in its framework sorter's order
//!    ([`Sorter`]; DRF by default: weighted dominant share). The master turns those grants into one OFFERS event per framework.
//! 3. **It polices the answers.** ACCEPT is validated like Mesos validates it
//!    (offers still outstanding, the caller's, on one agent; each task within
//!    what is left), and becomes `RunTask` to the agent; DECLINE and the unused
//!    part of an ACCEPT come back with a refusal filter. Status updates flow
//!    agent → master → scheduler, acknowledgements back the other way.
//!
//! Time and randomness come from outside: the world calls
//! [`mesocosm_sim::Actor::handle`] with one input and the virtual time, and the
//! master answers with messages, timers and timeline notes.
//!
//! # Layout
//! - [`allocator`]: the hierarchical allocator as a pure struct (agents'
//!   total/allocated, roles and their weights, frameworks' allocations and
//!   shares, refusal filters, [`Allocator::allocate`] and the [`Cycle`] it
//!   reports), and the [`Sorter`]s that order its roles and frameworks
//!   ([`DrfSorter`], [`RandomSorter`], yours through [`SorterChoice`]).
//! - [`master`]: the actor: registrations, subscriptions, the offers book, ACCEPT
//!   handling, status-update relay, agent health, failures and recovery,
//!   invariant checks.
//! - [`history`]: the lifecycle transitions the master records ([`MasterEvent`]).
//! - `validation`: the ACCEPT checks with Mesos's error messages
//!   (`src/master/validation.cpp`).
//!
//! # Deliberate differences from Mesos
//! - Agents are shuffled by a generator seeded from `MasterConfig::shuffle_seed`,
//!   not by `std::random_shuffle`, so runs replay; the random sorter draws from
//!   another stream of the same seed, not from its own `std::mt19937`.
//! - A framework is allocated under one role (its first); roles are flat (no
//!   `a/b` hierarchy); no quota, reservations or revocable resources.
//! - A single master has no registry: a restarted master is a new `Master`
//!   that knows only its predecessor's agent ids and rebuilds its state from
//!   re-registering agents and re-subscribing frameworks (see [`master`]'s
//!   "Failures"). Several masters share one in a replicated log ([`registry`]).
//! - Tasks a known agent no longer reports are answered by the master itself
//!   (TASK_LOST/TASK_DROPPED, REASON_RECONCILIATION) instead of through
//!   `SlaveReregisteredMessage.reconciliations` and the agent.
//! - `--agent_removal_rate_limit` and `recovery_agent_removal_limit` apply
//!   only to a new leader's recovery (with a registry); no unreachable-agent
//!   GC (`registry_max_agent_age`).

pub mod allocator;
pub mod history;
pub mod master;
pub mod registry;
mod validation;

pub use allocator::{
    Allocator, AllocatorConfig, Cycle, DEFAULT_WEIGHT, DrfSorter, Grant, IdleReason, RandomSorter, RefusalFilter,
    SortClient, Sorter, SorterChoice,
};
pub use history::{AgentPrior, MasterEvent};
pub use master::{
    AgentView, FrameworkView, LOST_LEADERSHIP_EXIT, Master, MasterConfig, MasterStats, OfferView, RegistryConfig,
    RemovalRate, Timer, ZkConfig, allocation_role, is_multi_role,
};
pub use validation::{MAX_FAILOVER_TIMEOUT_SECS, failover_timeout};
