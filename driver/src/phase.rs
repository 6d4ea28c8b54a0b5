//! Where a Spark driver is in its life: the one state every part of
//! [`SparkDriver`](crate::SparkDriver) checks before it acts.
//!
//! ```text
//!  Created ──Start: SUBSCRIBE──▶ Subscribing ──SUBSCRIBED──▶ Running ──last stage done──▶ Stopping ──▶ Done
//!                                                            offers → executors  ──job aborted──▶  StopExecutor to all,
//!                                                            executors → tasks                    wait ≤ shutdownTimeout,
//!                                                                                                 TEARDOWN, exit 0 (1 if aborted)
//!  Created ──Start with a bad conf──▶ Done (exit 1)      Subscribing ──ERROR──▶ Done (exit 1)
//! ```
//!
//! Why a module of its own: the Mesos events, the executor RPC, dynamic
//! allocation and the readiness checks all ask "is the app running?", and
//! none of them should have to reach into the actor's file to learn it.
//! `Phase` depends on nothing in the crate, so every part can use it without
//! tying a circle.

use mesocosm_sim::SimTime;

/// Where the driver is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Not started yet.
    Created,
    /// SUBSCRIBE sent, waiting for SUBSCRIBED (the SparkContext constructor blocks here).
    Subscribing,
    /// Registered: jobs run.
    Running,
    /// `stop()` was called at `since`: waiting for executors to exit.
    Stopping { since: SimTime },
    /// The process has exited.
    Done,
}
