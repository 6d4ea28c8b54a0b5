//! Scripted frameworks: a Mesos framework whose behaviour is data, so that
//! Mesos's own scheduler, partition, failover and reconciliation tests can be
//! written, run and shown as scenario files.
//!
//! A `[[frameworks]]` table **without `kind`** is a scripted framework. Its
//! keys sit in the table itself, not in `[frameworks.config]`: each is read
//! with its position (serde's typed `toml::Spanned` fields), so a misspelt
//! key or a bad value is an error at its line and column, as everywhere else
//! in the language; `kind = "<plugin>"` tables keep `[frameworks.config]`.
//!
//! ```toml
//! [[frameworks]]
//! name = "web"                     # actor scheduler:web, FrameworkInfo.name
//! at = "0s"                        # when its scheduler starts
//! roles = ["web"]                  # default ["*"]; several need MULTI_ROLE
//! capabilities = ["PARTITION_AWARE"]   # FrameworkInfo.capabilities
//! checkpoint = false               # FrameworkInfo.checkpoint (Mesos default false)
//! failover_timeout = "0s"          # FrameworkInfo.failover_timeout (default 0)
//! principal = "web"                # FrameworkInfo.principal
//! user = "root"
//! offers = "launch"                # launch (default) | ignore
//! think = "0s"                     # hold each offer this long before answering
//! max_tasks_per_offer = 2          # default: as many as fit
//! refuse_seconds = 5               # the filter of a DECLINE / an ACCEPT's rest (Mesos default 5)
//! suppress = false                 # SUPPRESS when idle, REVIVE when work arrives
//! ignore_rescind = false           # keep using a held offer after RESCIND
//! retry = { on = ["TASK_LOST"], max = 3, task_id = "new" }   # or "same"
//! reconcile = { implicit = "1m", explicit = "30s", tasks = ["ghost-0"] }
//! kill = [{ task = "web-0", at = "30s" }]
//! teardown = "when_done"           # when_done (default) | never | a time ("5m")
//! resubscribe = { initial = "2s", max = "1m" }   # re-SUBSCRIBE backoff
//! failover_of = "web"              # SUBSCRIBE with that framework's FrameworkID
//!
//! [[frameworks.work]]              # groups of command tasks
//! name = "web"                     # task ids web-0, web-1, …
//! tasks = 2                        # per arrival
//! resources = "cpus:1;mem:128"     # Mesos --resources syntax
//! duration = "30s"                 # or { uniform = ["10s", "20s"] } …
//! exit = 0                         # the command's status (0: TASK_FINISHED)
//! fail_probability = 0.0           # chance it exits 1 instead
//! at = "0s"                        # first arrival
//! every = "1m"                     # between arrivals
//! times = 1                        # arrivals
//! ```
//!
//! What it does, in scheduler API calls:
//!
//! ```text
//!  start ──SUBSCRIBE (retried with backoff until SUBSCRIBED)──▶ master
//!  work arrives ──REVIVE (if suppressed)──▶
//!  OFFERS ──(think)── ACCEPT(LAUNCH what fits, refuse the rest) / DECLINE(refuse_seconds)──▶
//!         nothing pending ──SUPPRESS (if suppress)──▶
//!  UPDATE ──ACKNOWLEDGE (if it has a uuid)──▶; LOST/FAILED/UNREACHABLE ──retry?──▶ pending again
//!  timers ──RECONCILE (implicit / explicit) · KILL──▶
//!  stream broken ──(backoff)── SUBSCRIBE with its FrameworkID──▶
//!  done / at a time ──TEARDOWN──▶ exit 0;  ERROR ──▶ exit (0 if "Framework failed over")
//! ```
//!
//! A scheduler killed and restarted by a fault is, with a `failover_timeout`,
//! the same framework: it re-subscribes with its FrameworkID and continues
//! from its predecessor's checkpoint (its tasks, what was still pending, its
//! script's clock). With Mesos's default of 0 the master removed the framework
//! at the kill, and the new process starts its script over.
//!
//! Its tasks run `sleep <duration>; exit <status>` under Mesos's command
//! executor (`src/launcher/executor.cpp`), whose exit status is the task's end.
//!
//! Layout: [`spec`] the data, [`core`] the state machine (sans IO: an
//! [`Actor`](mesocosm_sim::Actor) whose only randomness is the seeded
//! generator it is given), this file the [`Framework`] that starts it.

pub mod core;
pub mod spec;
#[cfg(test)]
mod tests;

pub use self::core::{Checkpoint, Scripted, ScriptedTimer};
pub use spec::{Backoff, InfoSpec, OfferPolicy, ReconcilePolicy, RetryPolicy, ScriptedSpec, Teardown, WorkGroup};

use crate::cluster::plugin::FrameworkSpec;
use crate::cluster::{Framework, FrameworkCtx, Process};
use mesocosm_sim::{ActorId, Shared};
use std::sync::Arc;

impl FrameworkSpec for ScriptedSpec {
    fn framework(&self, _name: &str) -> Box<dyn Framework> {
        Box::new(ScriptedFramework { spec: Arc::new(self.clone()), last: None })
    }
}

/// A scripted framework in a cluster: starts a [`Scripted`] core per incarnation.
pub struct ScriptedFramework {
    spec: Arc<ScriptedSpec>,
    /// The last incarnation's core, for its checkpoint.
    last: Option<Shared<Scripted>>,
}

impl ScriptedFramework {
    /// The framework `spec` describes.
    pub fn new(spec: ScriptedSpec) -> ScriptedFramework {
        ScriptedFramework { spec: Arc::new(spec), last: None }
    }
}

impl Framework for ScriptedFramework {
    fn start(&mut self, ctx: &FrameworkCtx<'_>) -> Process {
        let spec = self.spec.clone();
        // Why only with a failover_timeout: with Mesos's default of 0 the
        // master removed the framework the moment its scheduler went away
        // ("Framework has been removed" would refuse the id), so a restarted
        // scheduler is a new framework that starts its script over. With one,
        // it is the same framework: like a scheduler that persists its
        // FrameworkID and tasks (Marathon and Aurora, in ZooKeeper), it
        // re-subscribes with the id and continues from its checkpoint.
        let checkpointed = ctx.incarnation > 0 && !spec.info.failover_timeout.is_zero();
        let id = match &spec.failover_of {
            Some(of) if ctx.incarnation == 0 => ctx.framework_id_of(&ActorId::new(format!("scheduler:{of}"))),
            _ if checkpointed => ctx.framework_id_of(ctx.me),
            _ => None,
        };
        let rng = ctx.rng_for(&format!("{}/incarnation-{}", ctx.me, ctx.incarnation));
        // A standby is another instance of the same framework: it subscribes
        // with the same FrameworkInfo.name as the one it takes over.
        let name = spec.failover_of.clone().unwrap_or_else(|| ctx.name.to_string());
        let mut core = Scripted::new(&name, ctx.master.clone(), spec, rng, id);
        if checkpointed && let Some(last) = &self.last {
            core.recover(last.with(Scripted::checkpoint));
        }
        let core = Shared::new(core);
        self.last = Some(core.clone());
        Process::new(core)
    }
}
