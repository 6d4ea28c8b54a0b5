//! Write a Mesos framework as a handful of callbacks.
//!
//! A framework is anything that speaks the scheduler API to the master. Doing
//! that by hand means keeping a connection alive: SUBSCRIBE and retry until
//! SUBSCRIBED, SUBSCRIBE again with the framework id after losing the master,
//! drop calls while disconnected, ACKNOWLEDGE every status update that carries a
//! uuid, TEARDOWN when done. Real frameworks get that from libmesos
//! (`MesosSchedulerDriver`, `src/sched/sched.cpp`) or the v1 scheduler library
//! (`include/mesos/v1/scheduler.hpp`, `src/scheduler/scheduler.cpp`); here it is
//! [`MesosSchedulerDriver`], a sans-IO [`Actor`](mesocosm_sim::Actor) that wraps
//! your [`Scheduler`]:
//!
//! ```text
//!  master ── SUBSCRIBED, OFFERS, RESCIND, UPDATE, FAILURE, ERROR ──▶ MesosSchedulerDriver ──▶ your Scheduler's callbacks
//!         ◀── SUBSCRIBE (retried), ACKNOWLEDGE (automatic), TEARDOWN ─┘        ▲                  │
//!         ◀──────────── ACCEPT, DECLINE, SUPPRESS, REVIVE, KILL, RECONCILE ─────┴── ctx.accept(…) ◀┘
//! ```
//!
//! The callbacks are named after the v1 scheduler events. Each one gets a
//! [`Context`] on which it records calls, timers and its exit; the driver sends
//! them when the callback returns, as libmesos does with the calls a callback
//! makes.
//!
//! ```
//! use mesocosm_scheduler::{Context, MesosSchedulerDriver, Scheduler, framework, offered, task};
//! use mesocosm_sim::proto::v1::{Offer, TaskState, TaskStatus};
//! use mesocosm_sim::proto::Resources;
//! use mesocosm_sim::{Actor, ActorId, Input, Msg, SimTime};
//!
//! /// Runs one `sleep 1` task, then exits 0.
//! struct Once { launched: bool }
//!
//! impl Scheduler for Once {
//!     type Timer = ();
//!     fn offers(&mut self, ctx: &mut Context<'_, ()>, offers: Vec<Offer>) {
//!         for o in offers {
//!             let need = Resources::scalar_of("cpus", 1.0);
//!             if !self.launched && offered(&o).contains(&need) {
//!                 self.launched = true;
//!                 ctx.accept(&o, vec![task("t1", &o, &need, "sleep 1")]);
//!             } else {
//!                 ctx.decline(&o, None);
//!             }
//!         }
//!     }
//!     fn update(&mut self, ctx: &mut Context<'_, ()>, status: &TaskStatus) {
//!         if status.state() == TaskState::TaskFinished {
//!             ctx.stop(0); // TEARDOWN, then exit 0
//!         }
//!     }
//! }
//!
//! let mut driver = MesosSchedulerDriver::new("master", framework("once"), Once { launched: false });
//! let out = driver.step(SimTime::ZERO, Input::Start);
//! // The first thing a framework does: SUBSCRIBE.
//! assert!(matches!(&mesocosm_sim::sent_to(&out, "master")[..], [Msg::SchedulerCall(c)] if c.subscribe.is_some()));
//! ```
//!
//! # Layout
//! - [`Scheduler`]: the callbacks (this file).
//! - [`Context`]: what a callback may do (`context.rs`).
//! - [`MesosSchedulerDriver`]: the connection to the master, as an actor (`driver.rs`).
//! - [`MasterUrl`], [`Detection`]: which master to talk to, fixed or detected
//!   through ZooKeeper; Spark's driver shares it (`detection.rs`).
//! - [`task`], [`offered`], [`framework`], [`resources`]: building FrameworkInfos and
//!   TaskInfos from offers (`tasks.rs`).

mod context;
mod detection;
mod driver;
mod tasks;

pub use context::Context;
pub use detection::{Detection, MasterUrl};
pub use driver::{
    DriverTimer, MesosSchedulerDriver, REGISTRATION_BACKOFF_FACTOR, REGISTRATION_RETRY_INTERVAL_MAX,
    lost_with_unsent_call,
};
pub use tasks::{framework, offered, resources, task};

use mesocosm_sim::proto::scheduler::event;
use mesocosm_sim::proto::v1::{FrameworkId, Offer, OfferId, TaskStatus};
use mesocosm_sim::{ActorId, Msg};
use std::fmt;

/// A framework's scheduling logic: what to do with each event the master sends.
///
/// Only [`offers`](Scheduler::offers) and [`update`](Scheduler::update) must be
/// written; every other callback has the default a simple framework wants.
/// Callbacks never see the connection's plumbing: SUBSCRIBED retries,
/// HEARTBEATs and acknowledgements are the [`MesosSchedulerDriver`]'s job.
pub trait Scheduler: Send + 'static {
    /// The framework's own timers (set with [`Context::set_timer`]); `()` if it has none.
    type Timer: Clone + fmt::Debug + Send + 'static;

    /// SUBSCRIBED: the master registered the framework (the first time, or
    /// again after a disconnection; the id is the same then).
    fn subscribed(&mut self, ctx: &mut Context<'_, Self::Timer>, framework_id: &FrameworkId) {
        let _ = (ctx, framework_id);
    }

    /// The connection to the master broke. Calls made until the next
    /// `subscribed` are dropped, and the driver is already re-subscribing.
    fn disconnected(&mut self, ctx: &mut Context<'_, Self::Timer>) {
        let _ = ctx;
    }

    /// OFFERS: answer each offer with [`Context::accept`] or [`Context::decline`].
    /// An offer left unanswered stays held by this framework until the master
    /// rescinds it (`--offer_timeout`, an agent lost), which may be never.
    fn offers(&mut self, ctx: &mut Context<'_, Self::Timer>, offers: Vec<Offer>);

    /// RESCIND: the master took an offer back; an ACCEPT of it would fail.
    fn rescind(&mut self, ctx: &mut Context<'_, Self::Timer>, offer_id: &OfferId) {
        let _ = (ctx, offer_id);
    }

    /// UPDATE: a task changed state. The driver acknowledges it after this
    /// returns (if it carries a uuid), so the agent stops re-sending it.
    fn update(&mut self, ctx: &mut Context<'_, Self::Timer>, status: &TaskStatus);

    /// FAILURE: an agent was lost, or an executor exited.
    fn failure(&mut self, ctx: &mut Context<'_, Self::Timer>, failure: &event::Failure) {
        let _ = (ctx, failure);
    }

    /// ERROR: the master refused the framework (e.g. it was removed). The
    /// driver aborts (no more events or calls); the default exits 1.
    fn error(&mut self, ctx: &mut Context<'_, Self::Timer>, message: &str) {
        ctx.note(format!("Mesos error: {message}"));
        ctx.exit(1);
    }

    /// A message from an actor other than the master: a request to a service
    /// the framework's process also runs (Spark's MesosClusterDispatcher is a
    /// REST server too). It arrives whether or not the framework is
    /// subscribed; answer with [`Context::send`]. The default ignores it.
    fn message(&mut self, ctx: &mut Context<'_, Self::Timer>, from: &ActorId, msg: Msg) {
        let _ = (ctx, from, msg);
    }

    /// A timer set with [`Context::set_timer`] is due.
    fn timer(&mut self, ctx: &mut Context<'_, Self::Timer>, timer: Self::Timer) {
        let _ = (ctx, timer);
    }

    /// What this scheduler never lets happen, checked after every step of a
    /// checked run (see [`mesocosm_sim::Actor::check_invariants`]).
    fn check_invariants(&self) -> Result<(), String> {
        Ok(())
    }
}
