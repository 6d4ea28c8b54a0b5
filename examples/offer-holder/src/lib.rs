//! offer-holder: launch N one-cpu `sleep` tasks, SUPPRESS offers when idle,
//! REVIVE when a task is lost; exit 0 once every task finished.
//!
//! It has the bug this example exists for: after ACCEPTing an offer it marks
//! the tasks launching and waits for their status updates. If the ACCEPT is
//! lost on the way, no update ever comes, the master keeps holding the offer
//! (no `--offer_timeout`), and the framework waits forever. `fixed` turns on
//! the cure Mesos documents (`docs/reconciliation.md`): after a timeout, ask
//! the master about the tasks still launching (`Master::reconcile` answers
//! TASK_LOST for a task it never heard of) and give the held offer back.
//!
//! [`plugin`] registers both versions for scenario files, with the custom
//! allocation policy of [`sorter`].
pub mod plugin;
pub mod sorter;

use mesocosm_scheduler::{Context, Scheduler, offered, task};
use mesocosm_sim::proto::Resources;
use mesocosm_sim::proto::v1::{FrameworkId, Offer, TaskId, TaskState, TaskStatus};
use std::collections::BTreeMap;
use std::time::Duration;

/// How long the fixed version waits for a launched task's first update
/// before it asks the master (Marathon's `task_launch_timeout` plays this role).
pub const LAUNCH_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Clone, Debug, PartialEq)]
enum Task {
    Pending,
    /// Accepted in this offer; no update yet.
    Launching(String),
    Running,
    Finished,
}

/// The framework's state.
#[derive(Debug)]
pub struct OfferHolder {
    tasks: BTreeMap<String, Task>,
    command: String,
    fixed: bool,
}

impl OfferHolder {
    /// `tasks` tasks running `sleep <seconds>`; `fixed` reconciles stuck launches.
    pub fn new(tasks: u32, seconds: f64, fixed: bool) -> Self {
        let tasks = (0..tasks).map(|i| (format!("task-{i}"), Task::Pending)).collect();
        OfferHolder { tasks, command: format!("sleep {seconds}"), fixed }
    }

    fn pending(&self) -> usize {
        self.tasks.values().filter(|t| **t == Task::Pending).count()
    }
}

impl Scheduler for OfferHolder {
    /// The offer a launch used, to check on its tasks.
    type Timer = Offer;

    fn subscribed(&mut self, ctx: &mut Context<'_, Offer>, _: &FrameworkId) {
        if self.pending() > 0 {
            ctx.revive(); // a new subscription may find us suppressed
        }
    }

    fn offers(&mut self, ctx: &mut Context<'_, Offer>, offers: Vec<Offer>) {
        let need = Resources::scalar_of("cpus", 1.0);
        for offer in offers {
            let mut left = offered(&offer);
            let mut launch = Vec::new();
            for (id, t) in self.tasks.iter_mut().filter(|(_, t)| **t == Task::Pending) {
                if left.contains(&need) {
                    left.subtract(&need);
                    launch.push(task(id, &offer, &need, &self.command));
                    *t = Task::Launching(offer.id.value.clone());
                }
            }
            if launch.is_empty() {
                ctx.decline(&offer, None);
                continue;
            }
            ctx.accept(&offer, launch);
            if self.fixed {
                ctx.set_timer(LAUNCH_TIMEOUT, offer);
            }
        }
        if self.pending() == 0 {
            ctx.suppress(); // idle: no more offers until a task is lost
        }
    }

    fn update(&mut self, ctx: &mut Context<'_, Offer>, status: &TaskStatus) {
        let Some(t) = self.tasks.get_mut(&status.task_id.value) else { return };
        match status.state() {
            TaskState::TaskFinished => *t = Task::Finished,
            s if s.is_terminal() && *t != Task::Finished => {
                *t = Task::Pending;
                ctx.revive(); // lost: ask for offers again
            }
            s if !s.is_terminal() && *t != Task::Finished => *t = Task::Running,
            _ => {}
        }
        if self.tasks.values().all(|t| *t == Task::Finished) {
            ctx.stop(0);
        }
    }

    /// The fix: tasks of `offer` still without an update are asked about,
    /// and the offer is declined in case the master still holds it (ACCEPT lost).
    fn timer(&mut self, ctx: &mut Context<'_, Offer>, offer: Offer) {
        let launching = Task::Launching(offer.id.value.clone());
        let stuck: Vec<_> = self.tasks.iter().filter(|(_, t)| **t == launching).map(|(id, _)| id).collect();
        if stuck.is_empty() {
            return;
        }
        let agent = Some(offer.agent_id.clone());
        ctx.reconcile(stuck.into_iter().map(|id| (TaskId { value: id.clone() }, agent.clone())));
        ctx.decline(&offer, None);
        ctx.set_timer(LAUNCH_TIMEOUT, offer); // until the master answers
    }
}
