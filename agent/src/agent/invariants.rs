//! The agent's promises, checked after every step by the world.
//!
//! Mesos asserts none of these at run time; they are what `src/slave/slave.cpp`
//! keeps by construction, written down so that a bug in mesocosm's agent (or a
//! master that over-commits it) stops the run at the step that broke them.

use super::{Agent, ExecutorState};
use mesocosm_sim::proto::Resources;
use mesocosm_sim::proto::mesos::v1::task_status;

impl Agent {
    /// Whether the agent's books are consistent: what it runs for frameworks the
    /// master still counts fits in its resources, and every update waiting for
    /// an acknowledgement belongs to a known framework and task.
    pub fn check_invariants(&self) -> Result<(), String> {
        // The master never offers more than the agent has, so what the agent runs
        // for frameworks the master still counts fits in its total (command
        // executors' 0.1 cpus / 32 MB allowance is an overcommit Mesos admits and
        // the master never charges; it is not modelled). Executors of a torn-down
        // framework in their shutdown grace are outside it, as in Mesos.
        let total = Resources::from_protos(&self.cfg.resources);
        let used = self.used_resources();
        if !total.contains(&used) {
            return Err(format!("{}: tasks and executors use [{used}], more than its total [{total}]", self.cfg.me));
        }
        // Every update waiting for an acknowledgement belongs to a framework the
        // agent knows, and to a task of the executor it names; except the
        // agent's answers to the master's reconciliation, which Mesos sends for
        // tasks (and frameworks) the agent does not know (`Slave::reregistered`).
        for u in self.updates.pending() {
            let (fid, tid) = (&u.framework_id.value, &u.status.task_id.value);
            let reconciling = u.executor_id.is_none()
                && u.status.reason == Some(task_status::Reason::Reconciliation as i32)
                && u.status.source == Some(task_status::Source::Agent as i32);
            if !self.frameworks.contains_key(fid) && !reconciling {
                return Err(format!("{}: pending update of task {tid} for unknown framework {fid}", self.cfg.me));
            }
            if let Some(eid) = &u.executor_id
                && !self.executors.get(&(fid.clone(), eid.value.clone())).is_some_and(|e| e.tasks.contains_key(tid))
            {
                return Err(format!(
                    "{}: pending update of task {tid} names executor {} that does not know it",
                    self.cfg.me, eid.value
                ));
            }
        }
        Ok(())
    }

    /// What the master still counts as allocated on this agent: the live
    /// executors and tasks of every framework that is not terminating. A
    /// terminating framework's executors may run on for the shutdown grace
    /// period, but the master recovered their resources when it removed the
    /// framework (`Master::removeFramework` → `allocator->recoverResources`) and
    /// may already have offered them again, so they are not counted.
    fn used_resources(&self) -> Resources {
        let mut used = Resources::new();
        let terminating = |fid: &String| self.frameworks.get(fid).is_some_and(|f| f.terminating);
        let counted =
            self.executors.iter().filter(|((fid, _), e)| e.state != ExecutorState::Terminated && !terminating(fid));
        for (_, ex) in counted {
            if !ex.generated {
                used.add(&Resources::from_protos(&ex.info.resources));
            }
            for t in ex.tasks.values().filter(|t| !t.state.is_terminal()) {
                used.add(&Resources::from_protos(&t.info.resources));
            }
        }
        used
    }
}
