//! What Spark does when Mesos ≥ 1.5 recovers a task it already reported lost:
//! an agent back from unreachable re-registers and the master re-sends the
//! task's latest state (TASK_RUNNING, source MASTER, REASON_AGENT_REREGISTERED)
//! after the TASK_LOST. Spark 3.5's `MesosCoarseGrainedSchedulerBackend.statusUpdate`
//! looks the agent up, and for a non-terminal state does nothing more: the
//! executor stays removed and its cores are not counted again.

mod common;

use common::*;
use mesocosm_sim::Actor;
use mesocosm_sim::proto::sparkrpc::TaskState as Spark;
use mesocosm_sim::proto::v1::{TaskState, task_status};

#[test]
fn task_running_after_task_lost_changes_nothing_and_the_freed_cores_stay_free() {
    let (mut d, _, _) = two_executors(one_stage(5));
    d.step(at(2.4), task_update("0", 0, Spark::Running));
    let out = d.step(at(2.6), master_update("0", 1, TaskState::TaskLost, task_status::Reason::AgentRemoved));
    assert_eq!(kinds(&out), vec!["REVIVE"]);

    // The agent is back: the master re-sends the task's latest state.
    let out = d.step(at(3.0), master_update("0", 1, TaskState::TaskRunning, task_status::Reason::AgentReregistered));
    assert!(kinds(&out).is_empty(), "no ACK (no uuid), no REVIVE, nothing to the executor: {:?}", kinds(&out));
    assert_eq!(
        notes(&out),
        vec!["status TASK_RUNNING for executor 0, which Spark removed already: statusUpdate only logs it".to_string()]
    );
    assert_eq!(d.check_invariants(), Ok(()));

    // The lost executor's cores stayed free: a new offer still gets a replacement.
    let out = d.step(at(3.1), offers(vec![offer(5, 3, 4.0, 8192.0)]));
    assert_eq!(kinds(&out), vec!["ACCEPT"]);
}
