//! [`Context`]: what a [`Scheduler`](crate::Scheduler) callback may do.
//!
//! Every method records a v1 scheduler `Call` (or a timer, a note, the exit);
//! nothing leaves before the callback returns. The [`MesosSchedulerDriver`](crate::MesosSchedulerDriver)
//! then sends the calls in the order they were made, or drops them if the
//! framework is not subscribed, as libmesos does (`SchedulerProcess::*`:
//! "Ignoring … as master is disconnected").

use crate::driver::DriverTimer;
use mesocosm_sim::proto::scheduler::{Call, call};
use mesocosm_sim::proto::v1::{AgentId, Filters, FrameworkId, Offer, TaskId, TaskInfo, offer};
use mesocosm_sim::{ActorId, Msg, Outbox, SimTime};
use std::time::Duration;

/// How the framework's process ends, once the callback returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Exit {
    pub(crate) status: i32,
    /// `driver.stop()` (failover = false): TEARDOWN first, so the master
    /// forgets the framework and kills its tasks.
    pub(crate) teardown: bool,
}

/// The calls, timers and notes one callback records.
pub struct Context<'a, T> {
    pub(crate) out: &'a mut Outbox<DriverTimer<T>>,
    pub(crate) framework_id: Option<FrameworkId>,
    pub(crate) calls: Vec<Call>,
    pub(crate) exit: Option<Exit>,
}

impl<'a, T> Context<'a, T> {
    pub(crate) fn new(out: &'a mut Outbox<DriverTimer<T>>, framework_id: Option<FrameworkId>) -> Self {
        Context { out, framework_id, calls: Vec::new(), exit: None }
    }

    /// The virtual time of this event.
    pub fn now(&self) -> SimTime {
        self.out.now()
    }

    /// The framework id the master assigned (none before the first SUBSCRIBED).
    pub fn framework_id(&self) -> Option<&FrameworkId> {
        self.framework_id.as_ref()
    }

    fn call(&mut self, kind: call::Type, fill: impl FnOnce(&mut Call)) {
        let mut c = Call { framework_id: self.framework_id.clone(), r#type: Some(kind as i32), ..Default::default() };
        fill(&mut c);
        self.calls.push(c);
    }

    /// ACCEPT `offer` with one LAUNCH of `tasks` (built with [`crate::task`]).
    ///
    /// Why no filter: as libmesos's `launchTasks` without Filters, the master
    /// refuses what the tasks leave of the offer for the default 5 s.
    /// An empty `tasks` declines the offer, as Mesos treats an ACCEPT with no operations.
    pub fn accept(&mut self, offer: &Offer, tasks: Vec<TaskInfo>) {
        let launch = offer::Operation {
            r#type: Some(offer::operation::Type::Launch as i32),
            launch: Some(offer::operation::Launch { task_infos: tasks }),
            ..Default::default()
        };
        self.call(call::Type::Accept, |c| {
            c.accept = Some(call::Accept { offer_ids: vec![offer.id.clone()], operations: vec![launch], filters: None })
        });
    }

    /// DECLINE `offer`; the master does not offer those resources to this
    /// framework again for `refuse_seconds` (None: Mesos's default, 5 s).
    pub fn decline(&mut self, offer: &Offer, refuse_seconds: Option<f64>) {
        let filters = refuse_seconds.map(|s| Filters { refuse_seconds: Some(s) });
        self.call(call::Type::Decline, |c| {
            c.decline = Some(call::Decline { offer_ids: vec![offer.id.clone()], filters })
        });
    }

    /// SUPPRESS: no more offers until REVIVE (the framework has nothing to run).
    pub fn suppress(&mut self) {
        self.call(call::Type::Suppress, |_| {});
    }

    /// REVIVE: offers again, and the master clears this framework's decline filters.
    pub fn revive(&mut self) {
        self.call(call::Type::Revive, |_| {});
    }

    /// KILL a task. For a task the master does not know, Mesos answers with
    /// explicit reconciliation (`Master::kill`): TASK_LOST, or TASK_UNKNOWN if partition-aware.
    pub fn kill(&mut self, task_id: &TaskId, agent_id: Option<&AgentId>) {
        self.call(call::Type::Kill, |c| {
            c.kill = Some(call::Kill { task_id: task_id.clone(), agent_id: agent_id.cloned(), kill_policy: None })
        });
    }

    /// RECONCILE: the master answers with an UPDATE per task giving its latest
    /// state, TASK_LOST for a task it never heard of (a framework that is not
    /// partition-aware), and with every task it knows if `tasks` is empty
    /// (implicit reconciliation). `Master::reconcile`, `src/master/master.cpp`.
    pub fn reconcile(&mut self, tasks: impl IntoIterator<Item = (TaskId, Option<AgentId>)>) {
        let tasks = tasks.into_iter().map(|(task_id, agent_id)| call::reconcile::Task { task_id, agent_id }).collect();
        self.call(call::Type::Reconcile, |c| c.reconcile = Some(call::Reconcile { tasks }));
    }

    /// Deliver `timer` to [`Scheduler::timer`](crate::Scheduler::timer) after `after`.
    /// Timers are never cancelled: ignore one that no longer applies.
    pub fn set_timer(&mut self, after: Duration, timer: T) {
        self.out.set_timer(after, DriverTimer::Scheduler(timer));
    }

    /// Send `msg` to `to` now, on the process's own connection to it, not
    /// through the master: the answer of a service the framework also runs
    /// (Spark's dispatcher answers REST requests on its port 7077). Unlike the
    /// calls above it goes whether or not the framework is subscribed.
    pub fn send(&mut self, to: &ActorId, msg: impl Into<Msg>) {
        self.out.send(to, msg);
    }

    /// A line for the timeline explaining a decision.
    pub fn note(&mut self, text: impl Into<String>) {
        self.out.note(text);
    }

    /// `driver.stop()`: send TEARDOWN (the master kills the framework's tasks
    /// and forgets it), then the process exits with `status`.
    pub fn stop(&mut self, status: i32) {
        self.exit = Some(Exit { status, teardown: true });
    }

    /// The process exits with `status` and no TEARDOWN: the master keeps the
    /// framework and its tasks for its `failover_timeout`, waiting for a
    /// restarted scheduler to SUBSCRIBE with the same id.
    pub fn exit(&mut self, status: i32) {
        self.exit = Some(Exit { status, teardown: false });
    }
}
