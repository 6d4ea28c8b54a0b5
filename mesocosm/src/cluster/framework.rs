//! What the cluster needs to know about a framework: how to start (and
//! restart) its scheduler process, and what to say about it afterwards.
//!
//! A framework is any [`mesocosm_sim::Actor`] that speaks the Mesos scheduler
//! API to the master (SUBSCRIBE, ACCEPT, DECLINE, ACKNOWLEDGE, … and the
//! events back). The cluster never looks inside it: it starts the process at
//! its submission time, kills and restarts it when a fault says so, and judges
//! it by its exit status (0: it finished; anything else: it failed) and by the
//! messages it sent and received.
//!
//! ```text
//!   ClusterBuilder::framework(name, at, factory)        any Actor, no plugin needed
//!   ClusterBuilder::add_framework(name, actor, at, fw)  a `Framework` (Spark's drivers are one)
//!                │
//!                ▼  at `at`, and again after each restart
//!   Framework::start(&FrameworkCtx) ──▶ Process ──▶ world.spawn(actor)
//! ```

use mesocosm_master::Master;
use mesocosm_scheduler::MasterUrl;
use mesocosm_sim::proto::mesos::v1::FrameworkId;
use mesocosm_sim::{Actor, ActorId, Shared, SimTime, World};
use mesocosm_zookeeper::ZkConfig;
use rand_chacha::ChaCha8Rng;
use std::any::Any;
use std::sync::Arc;

/// What a framework's factory may know when it starts a scheduler process.
pub struct FrameworkCtx<'a> {
    world: &'a World,
    /// The framework's name (as given to the builder, or the app's name).
    pub name: &'a str,
    /// The scheduler's actor name (`scheduler:<name>` for frameworks added
    /// with [`super::ClusterBuilder::framework`], `driver:<app>` for Spark).
    pub me: &'a ActorId,
    /// The master's actor name: where to send SUBSCRIBE when there is one
    /// master (with several, the first; use [`FrameworkCtx::master_url`]).
    pub master: &'a ActorId,
    /// 0 for the first start, 1 after the first restart, …
    pub incarnation: u32,
    /// Every master incarnation, oldest first.
    masters: &'a [Shared<Master>],
    /// The masters' ZooKeeper group, when they contend in one.
    zk: Option<&'a ZkConfig>,
}

impl<'a> FrameworkCtx<'a> {
    pub(crate) fn new(
        world: &'a World,
        name: &'a str,
        me: &'a ActorId,
        master: &'a ActorId,
        incarnation: u32,
        masters: &'a [Shared<Master>],
        zk: Option<&'a ZkConfig>,
    ) -> FrameworkCtx<'a> {
        FrameworkCtx { world, name, me, master, incarnation, masters, zk }
    }

    /// The scheduler's `--master`, as an operator would give it: the master's
    /// address, or, when the masters elect a leader through ZooKeeper,
    /// `zk://…/mesos` (a session of the scheduler's own, so it follows the
    /// leader as libmesos's detector does). Give it to
    /// [`mesocosm_scheduler::MesosSchedulerDriver::new`].
    pub fn master_url(&self) -> MasterUrl {
        match self.zk {
            None => MasterUrl::Standalone(self.master.clone()),
            Some(zk) => MasterUrl::ZooKeeper(super::ha::framework_session(self.world, zk, self.me)),
        }
    }

    /// The FrameworkID the master gave the scheduler `actor` (the newest
    /// master that knows it), as the scheduler checkpointed it. Real
    /// frameworks persist it (Marathon and Aurora in ZooKeeper) so that a
    /// restarted or standby scheduler can SUBSCRIBE with it and fail over.
    pub fn framework_id_of(&self, actor: &ActorId) -> Option<FrameworkId> {
        self.masters
            .iter()
            .rev()
            .find_map(|m| {
                m.with(|m| m.frameworks_view().into_iter().find(|f| f.actor.as_ref() == Some(actor)).map(|f| f.id))
            })
            .map(|value| FrameworkId { value })
    }

    /// A random generator derived from the run's root seed and `label` only
    /// (not from the order things were created in), for a framework's own
    /// seeded choices: the same seed and label give the same draws.
    pub fn rng_for(&self, label: &str) -> ChaCha8Rng {
        self.world.rng_for(label)
    }

    /// The current virtual time.
    pub fn now(&self) -> SimTime {
        self.world.now()
    }
}

/// How a process gets onto the world: spawned under an actor name.
type Spawn = Box<dyn FnOnce(&World, ActorId) + Send>;

/// A scheduler process, ready to be spawned under the framework's actor name.
pub struct Process(Spawn);

impl Process {
    /// A process running `core`.
    pub fn new<A: Actor>(core: A) -> Process {
        Process(Box::new(move |world: &World, id: ActorId| world.spawn(id, core, None)))
    }

    pub(crate) fn spawn(self, world: &World, id: ActorId) {
        (self.0)(world, id)
    }
}

/// How reports and checks speak of a kind of framework.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Words {
    /// The implicit end check's name: "framework finishes".
    pub check: &'static str,
    /// What one of them is called: "framework", "app".
    pub noun: &'static str,
    /// What its process is called: "scheduler", "driver".
    pub process: &'static str,
}

impl Words {
    /// The words for any framework.
    pub const FRAMEWORK: Words = Words { check: "framework finishes", noun: "framework", process: "scheduler" };
}

/// One framework in a cluster: starts its scheduler process, again after every restart.
///
/// Implement it when a closure is not enough: to remember something across
/// restarts (Spark's `spark.mesos.driver.frameworkId`), to say what a restart
/// means, or to add lines and details to the report.
pub trait Framework: Send + 'static {
    /// Start a new incarnation: at its submission time, and after each kill
    /// that restarts it. A restarted scheduler is a new process: what it
    /// remembers from the last one is up to this method.
    fn start(&mut self, ctx: &FrameworkCtx<'_>) -> Process;

    /// How reports and checks speak of it.
    fn words(&self) -> Words {
        Words::FRAMEWORK
    }

    /// A service that runs until it is stopped (Spark's MesosClusterDispatcher,
    /// Marathon): the run does not wait for it to exit, and it is not expected to.
    fn daemon(&self) -> bool {
        false
    }

    /// The timeline event when the first incarnation starts.
    fn start_event(&self, name: &str) -> String {
        format!("framework {name} starts")
    }

    /// What the trace says when a fault restarts it (called before [`Framework::start`]).
    fn restart_note(&self, me: &ActorId) -> String {
        format!("{me} restarts as a new process")
    }

    /// The summary lines about it after the run (indented by two spaces).
    fn summary(&self, report: &FrameworkReport) -> Vec<String> {
        let w = self.words();
        vec![match report.exit {
            Some((at, status)) => format!(
                "  {} {}: started {}, {} exited {at} with status {status}",
                w.noun, report.name, report.started_at, w.process
            ),
            None => format!("  {} {}: started {}, still running", w.noun, report.name, report.started_at),
        }]
    }

    /// Framework-specific results for Rust callers (Spark's `DriverReport`),
    /// read after the run from the last incarnation.
    fn details(&self) -> Option<Arc<dyn Any + Send + Sync>> {
        None
    }
}

impl Framework for Box<dyn Framework> {
    fn start(&mut self, ctx: &FrameworkCtx<'_>) -> Process {
        self.as_mut().start(ctx)
    }
    fn words(&self) -> Words {
        self.as_ref().words()
    }
    fn daemon(&self) -> bool {
        self.as_ref().daemon()
    }
    fn start_event(&self, name: &str) -> String {
        self.as_ref().start_event(name)
    }
    fn restart_note(&self, me: &ActorId) -> String {
        self.as_ref().restart_note(me)
    }
    fn summary(&self, report: &FrameworkReport) -> Vec<String> {
        self.as_ref().summary(report)
    }
    fn details(&self) -> Option<Arc<dyn Any + Send + Sync>> {
        self.as_ref().details()
    }
}

/// A [`Framework`] made from a factory closure: every start calls it again.
pub(crate) struct FnFramework<F>(pub(crate) F);

impl<A, F> Framework for FnFramework<F>
where
    A: Actor,
    F: Fn(&FrameworkCtx<'_>) -> A + Send + 'static,
{
    fn start(&mut self, ctx: &FrameworkCtx<'_>) -> Process {
        Process::new((self.0)(ctx))
    }
}

/// What happened to one framework.
#[derive(Clone, Debug)]
pub struct FrameworkReport {
    pub name: String,
    /// Its scheduler's actor name.
    pub actor: ActorId,
    /// When its first incarnation started.
    pub started_at: SimTime,
    /// When its last incarnation exited, and its status (0: finished).
    pub exit: Option<(SimTime, i32)>,
    /// The summary lines ([`Framework::summary`]).
    pub summary: Vec<String>,
    details: Option<Arc<dyn Any + Send + Sync>>,
}

impl FrameworkReport {
    pub(crate) fn new(
        name: String,
        actor: ActorId,
        started_at: SimTime,
        exit: Option<(SimTime, i32)>,
        fw: &dyn Framework,
    ) -> FrameworkReport {
        let mut r = FrameworkReport { name, actor, started_at, exit, summary: Vec::new(), details: fw.details() };
        r.summary = fw.summary(&r);
        r
    }

    /// Whether its last incarnation exited 0.
    pub fn finished(&self) -> bool {
        matches!(self.exit, Some((_, 0)))
    }

    /// Whether its last incarnation exited non-zero.
    pub fn failed(&self) -> bool {
        matches!(self.exit, Some((_, s)) if s != 0)
    }

    /// The framework's own results, if it gives them as a `T` (e.g.
    /// `mesocosm_driver::DriverReport` for a Spark app).
    pub fn details<T: Any>(&self) -> Option<&T> {
        self.details.as_deref().and_then(|d| d.downcast_ref::<T>())
    }
}
