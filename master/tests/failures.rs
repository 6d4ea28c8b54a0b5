//! The master under failures, as Mesos handles them (upstream `src/master/master.cpp`):
//! schedulers that disconnect, fail over or come back after removal; agents whose
//! connection breaks, that stay away, that return from a partition; and a
//! brand-new master that the cluster re-registers with.

mod common;

use common::*;
use mesocosm_master::{AgentPrior, FrameworkView, Master, MasterEvent, Timer};
use mesocosm_proto::{internal, scheduler, v1};
use mesocosm_sim::{Actor, ActorId, Input, Msg, Output, SimTime};
use scheduler::event::Type as Event;
use v1::TaskState;
use v1::task_status::{Reason, Source};

fn subscribed(fid: &str) -> scheduler::Event {
    let mut e = ev(Event::Subscribed);
    e.subscribed = Some(scheduler::event::Subscribed {
        framework_id: v1::FrameworkId { value: fid.to_string() },
        heartbeat_interval_seconds: Some(15.0),
        master_info: Some(v1::MasterInfo {
            id: MASTER_ID.to_string(),
            ip: 0,
            port: 5050,
            pid: Some("master@master:5050".to_string()),
            hostname: Some("master".to_string()),
            ..Default::default()
        }),
    });
    e
}

fn rescind(offer: &str) -> scheduler::Event {
    let mut e = ev(Event::Rescind);
    e.rescind = Some(scheduler::event::Rescind { offer_id: v1::OfferId { value: offer.to_string() } });
    e
}

fn agent_lost(agent: &str) -> scheduler::Event {
    let mut e = ev(Event::Failure);
    e.failure = Some(scheduler::event::Failure {
        agent_id: Some(v1::AgentId { value: agent.to_string() }),
        executor_id: None,
        status: None,
    });
    e
}

/// An UPDATE the master generates itself: source MASTER, no uuid.
fn master_update(
    task: &str,
    agent: &str,
    state: TaskState,
    reason: Reason,
    message: &str,
    at: SimTime,
) -> scheduler::Event {
    let mut e = ev(Event::Update);
    e.update = Some(scheduler::event::Update {
        status: v1::TaskStatus {
            task_id: v1::TaskId { value: task.to_string() },
            state: state as i32,
            message: Some(message.to_string()),
            source: Some(Source::Master as i32),
            reason: Some(reason as i32),
            agent_id: Some(v1::AgentId { value: agent.to_string() }),
            timestamp: Some(at.as_secs_f64()),
            ..Default::default()
        },
    });
    e
}

fn ping(connected: bool) -> internal::PingSlaveMessage {
    internal::PingSlaveMessage { connected }
}

fn slave_reregistered(agent: &str) -> internal::SlaveReregisteredMessage {
    reconciling(agent, vec![])
}

fn reconciling(
    agent: &str,
    reconciliations: Vec<internal::ReconcileTasksMessage>,
) -> internal::SlaveReregisteredMessage {
    internal::SlaveReregisteredMessage {
        slave_id: v1::AgentId { value: agent.to_string() },
        reconciliations,
        connection: Some(internal::MasterSlaveConnection { total_ping_timeout_seconds: Some(75.0) }),
    }
}

fn shutdown_framework(fid: &str) -> internal::ShutdownFrameworkMessage {
    internal::ShutdownFrameworkMessage { framework_id: v1::FrameworkId { value: fid.to_string() } }
}

fn disconnected(peer: &str) -> Input<Timer> {
    Input::Disconnected { peer: ActorId::new(peer) }
}

/// One agent `agent-1` (4 cpus, 8192 MB) and framework `spark-pi`, holding O0.
fn one_offer() -> (Harness, String) {
    let mut h = Harness::new(cfg());
    h.add_agent("agent-1", 4.0, 8192.0);
    let fid = h.subscribe("spark-pi");
    assert_eq!(offers_to(&h.settle(), "driver:spark-pi").len(), 1);
    (h, fid)
}

/// `one_offer` with task t1 (1 cpu, 1024 MB) launched from O0 by a framework
/// whose `checkpoint` is as given; the remainder is refused for 120 s.
fn one_task(checkpoint: bool) -> (Harness, String) {
    let mut h = Harness::new(cfg());
    h.add_agent("agent-1", 4.0, 8192.0);
    let mut sub = subscribe_call("spark-pi", false);
    sub.subscribe.as_mut().unwrap().framework_info.checkpoint = Some(checkpoint);
    h.msg("driver:spark-pi", sub);
    h.settle();
    let fid = framework_id(0);
    let t1 = command_task("t1", &agent_id(0), &resources(1.0, 1024.0));
    let outs = h.msg("driver:spark-pi", accept(&fid, &[&offer_id(0)], vec![t1], Some(120.0)));
    assert_eq!(run_tasks_to(&outs, "agent-1").len(), 1);
    (h, fid)
}

fn history(h: &Harness) -> Vec<(SimTime, MasterEvent)> {
    h.master.history().to_vec()
}

fn registered(n: u64, host: &str) -> MasterEvent {
    MasterEvent::AgentRegistered { agent_id: agent_id(n), hostname: host.to_string() }
}

// ----- frameworks ---------------------------------------------------------------------

#[test]
fn a_framework_that_resubscribes_within_its_failover_timeout_is_reactivated() {
    let mut h = Harness::new(cfg());
    h.add_agent("agent-1", 4.0, 8192.0);
    let mut sub = subscribe_call("spark-pi", false);
    sub.subscribe.as_mut().unwrap().framework_info.failover_timeout = Some(60.0);
    h.msg("driver:spark-pi", sub.clone());
    h.settle();
    let fid = framework_id(0);
    h.advance_to(secs(10));
    // Deactivated, offers recovered (no RESCIND: there is no stream to send it
    // on), the failover timer armed; nothing is shut down yet.
    let outs = h.input(disconnected("driver:spark-pi"));
    assert_eq!(actions(&outs), [timer(secs(70), Timer::FailoverTimeout { framework: fid.clone(), epoch: 1 })]);
    assert!(h.master.offers_view().is_empty());
    assert_eq!(h.master.stats().offers_rescinded, 1);
    let outs = h.advance_to(secs(40));
    assert!(sends(&outs).iter().all(|(to, _)| to != "driver:spark-pi"), "nothing for an inactive framework");

    let mut again = resubscribe_call(&fid, "spark-pi", false);
    again.subscribe.as_mut().unwrap().framework_info.failover_timeout = Some(60.0);
    let outs = h.msg("driver:spark-pi", again);
    assert_eq!(
        actions(&outs),
        [
            send("driver:spark-pi", subscribed(&fid)),
            send("driver:spark-pi", ev(Event::Heartbeat)),
            timer(secs(55), Timer::Heartbeat { framework: fid.clone(), epoch: 2 }),
            timer(secs(40), Timer::TriggeredAllocation),
        ]
    );
    assert_eq!(offers_to(&h.settle(), "driver:spark-pi").len(), 1, "offered again at once");
    // The old failover timer fires and is ignored.
    let outs = h.advance_to(secs(70));
    assert!(!sends(&outs).iter().any(|(_, kind)| *kind == "ShutdownFrameworkMessage"));
    assert!(h.master.frameworks_view()[0].active);
    let fw = |name: &str| (fid.clone(), name.to_string());
    assert_eq!(
        history(&h),
        [
            (secs(0), registered(0, "agent-1")),
            (secs(0), MasterEvent::FrameworkSubscribed { framework_id: fw("spark-pi").0, name: fw("spark-pi").1 }),
            (secs(10), MasterEvent::FrameworkDisconnected { framework_id: fid.clone(), name: "spark-pi".into() }),
            (secs(40), MasterEvent::FrameworkResubscribed { framework_id: fid.clone(), name: "spark-pi".into() }),
        ]
    );
}

#[test]
fn failover_timeout_zero_removes_at_once_and_the_removed_id_is_refused() {
    let (mut h, fid) = one_offer();
    h.advance_to(secs(3));
    let outs = h.input(disconnected("driver:spark-pi"));
    assert_eq!(actions(&outs), [send("agent-1", shutdown_framework(&fid))]);
    assert_eq!(
        history(&h)[2..],
        [
            (secs(3), MasterEvent::FrameworkDisconnected { framework_id: fid.clone(), name: "spark-pi".into() }),
            (
                secs(3),
                MasterEvent::FrameworkRemoved {
                    framework_id: fid.clone(),
                    name: "spark-pi".into(),
                    reason: "failover timeout expired (failover_timeout=0s)".into(),
                }
            ),
        ]
    );
    // A restarted driver re-subscribing with the removed id is refused and hung up on.
    let outs = h.msg("driver:spark-pi", resubscribe_call(&fid, "spark-pi", false));
    assert_eq!(
        actions(&outs),
        [
            send("driver:spark-pi", error("Framework has been removed")),
            Output::Disconnect { peer: "driver:spark-pi".into() },
        ]
    );
    assert!(h.master.frameworks_view().is_empty());
}

#[test]
fn subscribe_from_another_scheduler_fails_the_framework_over() {
    let (mut h, fid) = one_offer();
    let outs = h.msg("driver:spark-pi#2", resubscribe_call(&fid, "spark-pi", false));
    assert_eq!(
        actions(&outs),
        [
            send("driver:spark-pi", error("Framework failed over")),
            Output::Disconnect { peer: "driver:spark-pi".into() },
            send("driver:spark-pi#2", subscribed(&fid)),
            send("driver:spark-pi#2", ev(Event::Heartbeat)),
            timer(secs(15), Timer::Heartbeat { framework: fid.clone(), epoch: 1 }),
            timer(secs(0), Timer::TriggeredAllocation),
        ]
    );
    // `_failoverFramework` removes the offers without RESCIND and re-offers them.
    assert!(h.master.offers_view().is_empty());
    let offers = offers_to(&h.settle(), "driver:spark-pi#2");
    assert_eq!(offers.iter().map(|o| o.id.value.clone()).collect::<Vec<_>>(), [offer_id(1)]);
    // The old stream's close changes nothing.
    assert!(actions(&h.input(disconnected("driver:spark-pi"))).is_empty());
    assert!(h.master.frameworks_view()[0].active);
    assert_eq!(h.master.framework_of(&"driver:spark-pi#2".into()), Some(fid.as_str()));
    assert_eq!(
        history(&h).last().unwrap(),
        &(secs(0), MasterEvent::FrameworkFailedOver { framework_id: fid, name: "spark-pi".into() })
    );
}

#[test]
fn a_fresh_master_accepts_a_framework_id_it_never_issued() {
    let mut m = Master::new(cfg());
    m.step(SimTime::ZERO, Input::Start);
    let old = "99999999-8888-4777-8666-555555555555-0002";
    let outs = m.step(
        secs(2),
        Input::Message { from: "driver:spark-pi".into(), msg: resubscribe_call(old, "spark-pi", false).into() },
    );
    assert_eq!(
        actions(&outs),
        [
            send("driver:spark-pi", subscribed(old)),
            send("driver:spark-pi", ev(Event::Heartbeat)),
            timer(secs(17), Timer::Heartbeat { framework: old.to_string(), epoch: 0 }),
            timer(secs(2), Timer::TriggeredAllocation),
        ]
    );
    assert_eq!(
        m.history(),
        [(secs(2), MasterEvent::FrameworkResubscribed { framework_id: old.into(), name: "spark-pi".into() })]
    );
    m.check_invariants().unwrap();
}

// ----- agents -------------------------------------------------------------------------

#[test]
fn agent_socket_break_loses_non_checkpointing_tasks_and_rescinds_its_offers() {
    let (mut h, fid) = one_offer();
    let t1 = command_task("t1", &agent_id(0), &resources(1.0, 1024.0));
    h.msg("driver:spark-pi", accept(&fid, &[&offer_id(0)], vec![t1], Some(0.0)));
    let o1 = offers_to(&h.advance_to(secs(1)), "driver:spark-pi");
    assert_eq!(o1[0].id.value, offer_id(1), "the remainder is offered again");
    h.advance_to(secs(5));
    let outs = h.input(disconnected("agent-1"));
    assert_eq!(
        actions(&outs),
        [
            send(
                "driver:spark-pi",
                master_update(
                    "t1",
                    &agent_id(0),
                    TaskState::TaskLost,
                    Reason::AgentDisconnected,
                    "Agent agent-1 disconnected",
                    secs(5)
                )
            ),
            send("driver:spark-pi", rescind(&offer_id(1))),
            timer(secs(605), Timer::ReregisterTimeout { agent: agent_id(0), epoch: 0 }),
        ]
    );
    let view = &h.master.agents_view()[0];
    assert!(!view.connected);
    assert!(view.allocated.is_empty());
    assert!(h.master.allocator().agent(&agent_id(0)).unwrap().deactivated);
    // Deactivated: free, but not offered; still pinged, now with connected=false.
    let outs = h.advance_to(secs(15));
    assert!(offers_to(&outs, "driver:spark-pi").is_empty());
    assert_eq!(mesocosm_sim::sent_to(&outs, "agent-1"), [Msg::from(ping(false))]);
    assert_eq!(
        history(&h).last().unwrap(),
        &(secs(5), MasterEvent::AgentDisconnected { agent_id: agent_id(0), hostname: "agent-1".into() })
    );
    // A second close of the same connection changes nothing (MESOS-675).
    assert!(actions(&h.input(disconnected("agent-1"))).is_empty());
}

#[test]
fn a_disconnected_agent_that_reregisters_is_reactivated_with_its_checkpointed_tasks() {
    let (mut h, fid) = one_task(true);
    h.advance_to(secs(5));
    let outs = h.input(disconnected("agent-1"));
    assert_eq!(actions(&outs), [timer(secs(605), Timer::ReregisterTimeout { agent: agent_id(0), epoch: 0 })]);
    h.advance_to(secs(20));
    let report = reported_task(&fid, &agent_id(0), "t1", TaskState::TaskRunning, &resources(1.0, 1024.0));
    let rereg = reregister_slave("agent-1", &agent_id(0), 4.0, 8192.0, vec![report], vec![]);
    let outs = h.msg("agent-1", rereg);
    assert_eq!(
        actions(&outs),
        [
            send("agent-1", slave_reregistered(&agent_id(0))),
            send("agent-1", ping(true)),
            timer(secs(35), Timer::PingTimeout { agent: agent_id(0), epoch: 1 }),
        ]
    );
    let view = &h.master.agents_view()[0];
    assert!(view.connected);
    assert_eq!(view.allocated, resources(1.0, 1024.0));
    assert!(!h.master.allocator().agent(&agent_id(0)).unwrap().deactivated);
    // The re-register timeout goes stale: nothing happens to the framework.
    let outs = h.advance_to(secs(605));
    assert!(updates_to(&outs, "driver:spark-pi").is_empty());
    assert_eq!(h.master.frameworks_view()[0].tasks, 1);
    assert_eq!(
        history(&h).last().unwrap(),
        &(
            secs(20),
            MasterEvent::AgentReregistered {
                agent_id: agent_id(0),
                hostname: "agent-1".into(),
                was: AgentPrior::Disconnected
            }
        )
    );
}

#[test]
fn a_disconnected_agent_that_stays_away_is_unreachable_after_agent_reregister_timeout() {
    let (mut h, _fid) = one_task(true);
    h.advance_to(secs(5));
    h.input(disconnected("agent-1"));
    // The agent still pongs (a one-way break), so only the timeout can end it.
    let outs = h.advance_to(secs(604));
    assert!(events_to(&outs, "driver:spark-pi").iter().all(|e| e.update.is_none() && e.failure.is_none()));
    let outs = h.advance_to(secs(605));
    let reason = "agent_reregister_timeout expired (did not re-register within 600s)";
    assert_eq!(
        events_to(&outs, "driver:spark-pi"),
        [
            master_update(
                "t1",
                &agent_id(0),
                TaskState::TaskLost,
                Reason::AgentRemoved,
                &format!("Agent agent-1 removed: {reason}"),
                secs(605)
            ),
            agent_lost(&agent_id(0)),
        ]
    );
    assert!(h.master.agents_view().is_empty());
    assert_eq!(h.master.unreachable_agents().collect::<Vec<_>>(), [agent_id(0)]);
    assert_eq!(
        history(&h).last().unwrap(),
        &(
            secs(605),
            MasterEvent::AgentUnreachable { agent_id: agent_id(0), hostname: "agent-1".into(), reason: reason.into() }
        )
    );
}

/// Mesos ≥ 1.5 (MESOS-7215, `PartitionTest.ReregisterSlaveNotPartitionAware`):
/// an unreachable agent that comes back keeps every task; nothing is shut down,
/// and each framework hears its task's latest state again from the master.
#[test]
fn an_unreachable_agent_returns_with_its_tasks_and_frameworks_hear_their_latest_state() {
    let mut h = Harness::new(cfg());
    h.silent.insert("agent-1".into());
    h.add_agent("agent-1", 4.0, 8192.0);
    let a = h.subscribe("a");
    h.msg("driver:pa", subscribe_call("pa", true));
    let pa = framework_id(1);
    h.settle();
    let res = resources(1.0, 1024.0);
    h.msg("driver:a", accept(&a, &[&offer_id(0)], vec![command_task("t1", &agent_id(0), &res)], Some(0.0)));
    assert_eq!(offers_to(&h.advance_to(secs(1)), "driver:pa")[0].id.value, offer_id(1));
    h.msg("driver:pa", accept(&pa, &[&offer_id(1)], vec![command_task("t2", &agent_id(0), &res)], Some(120.0)));
    let outs = h.advance_to(secs(75));
    let state = |actor| updates_to(&outs, actor).iter().map(|u| (u.task_id.value.clone(), u.state())).collect();
    let got: Vec<Vec<(String, TaskState)>> = vec![state("driver:a"), state("driver:pa")];
    assert_eq!(got, [vec![("t1".into(), TaskState::TaskLost)], vec![("t2".into(), TaskState::TaskUnreachable)]]);

    // The partition heals: the agent re-registers with both tasks still running.
    h.silent.clear();
    h.advance_to(secs(100));
    let tasks = vec![
        reported_task(&a, &agent_id(0), "t1", TaskState::TaskRunning, &res),
        reported_task(&pa, &agent_id(0), "t2", TaskState::TaskRunning, &res),
    ];
    let infos = vec![framework_info(&a, "a", false), framework_info(&pa, "pa", true)];
    let outs = h.msg("agent-1", reregister_slave("agent-1", &agent_id(0), 4.0, 8192.0, tasks, infos));
    let rereg = |task| {
        let why = "Unreachable agent re-reregistered";
        master_update(task, &agent_id(0), TaskState::TaskRunning, Reason::AgentReregistered, why, secs(100))
    };
    assert_eq!(
        actions(&outs),
        [
            send("driver:a", rereg("t1")),
            send("driver:pa", rereg("t2")),
            send("agent-1", slave_reregistered(&agent_id(0))),
            send("agent-1", ping(true)),
            timer(secs(115), Timer::PingTimeout { agent: agent_id(0), epoch: 1 }),
            timer(secs(100), Timer::TriggeredAllocation),
        ]
    );
    // Both tasks are known and charged again: nothing was shut down.
    let tasks: Vec<(String, usize)> = h.master.frameworks_view().iter().map(|f| (f.name.clone(), f.tasks)).collect();
    assert_eq!(tasks, [("a".to_string(), 1), ("pa".to_string(), 1)]);
    assert_eq!(h.master.agents_view()[0].allocated, resources(2.0, 2048.0));
    assert_eq!(h.master.allocator().allocation(&a).unwrap()[&agent_id(0)], res);
    assert_eq!(h.master.allocator().allocation(&pa).unwrap()[&agent_id(0)], res);
    assert_eq!(h.master.unreachable_agents().count(), 0);
    let h2 = history(&h);
    assert_eq!(
        h2[h2.len() - 2..],
        [
            (
                secs(75),
                MasterEvent::AgentUnreachable {
                    agent_id: agent_id(0),
                    hostname: "agent-1".into(),
                    reason: "health check timed out".into()
                }
            ),
            (
                secs(100),
                MasterEvent::AgentReregistered {
                    agent_id: agent_id(0),
                    hostname: "agent-1".into(),
                    was: AgentPrior::Unreachable
                }
            ),
        ]
    );
    // t1's terminal update later (with its uuid) frees it as usual.
    let outs = h.msg("agent-1", status_update(&a, &agent_id(0), "t1", TaskState::TaskFinished, b"u1"));
    assert_eq!(updates_to(&outs, "driver:a")[0].state(), TaskState::TaskFinished);
    assert_eq!(h.master.agents_view()[0].allocated, res);
}

/// What is shut down on a returning agent is only a framework the master
/// completed while it was away (`__reregisterSlave`: "the framework has been
/// shutdown at the master"); its tasks are not recovered.
#[test]
fn a_returning_agent_is_told_to_shut_down_only_completed_frameworks() {
    let mut h = Harness::new(cfg());
    h.silent.insert("agent-1".into());
    h.add_agent("agent-1", 4.0, 8192.0);
    let a = h.subscribe("a");
    h.settle();
    let res = resources(1.0, 1024.0);
    h.msg("driver:a", accept(&a, &[&offer_id(0)], vec![command_task("t1", &agent_id(0), &res)], Some(0.0)));
    h.advance_to(secs(75));
    h.msg("driver:a", call(&a, scheduler::call::Type::Teardown));
    h.silent.clear();
    h.advance_to(secs(100));
    let tasks = vec![reported_task(&a, &agent_id(0), "t1", TaskState::TaskRunning, &res)];
    let infos = vec![framework_info(&a, "a", false)];
    let outs = h.msg("agent-1", reregister_slave("agent-1", &agent_id(0), 4.0, 8192.0, tasks, infos));
    assert_eq!(
        actions(&outs),
        [
            send("agent-1", slave_reregistered(&agent_id(0))),
            send("agent-1", shutdown_framework(&a)),
            send("agent-1", ping(true)),
            timer(secs(115), Timer::PingTimeout { agent: agent_id(0), epoch: 1 }),
            timer(secs(100), Timer::TriggeredAllocation),
        ]
    );
    assert!(h.master.frameworks_view().is_empty());
    assert!(h.master.agents_view()[0].allocated.is_empty());
}

/// `Master::reconcileKnownSlave`: a task the master has and the agent's
/// message does not list may have crossed the message (a stale or slow
/// ReregisterSlaveMessage), so the master asks the agent rather than declaring
/// it lost, and keeps it (and its resources) until the agent answers. A task
/// the agent lists and the master does not know is not added.
#[test]
fn a_known_agent_that_reregisters_is_asked_about_missing_tasks_and_unknown_ones_are_not_added() {
    let (mut h, fid) = one_task(false);
    h.advance_to(secs(2));
    let t9 = reported_task(&fid, &agent_id(0), "t9", TaskState::TaskRunning, &resources(2.0, 2048.0));
    let rereg = reregister_slave("agent-1", &agent_id(0), 4.0, 8192.0, vec![t9], vec![]);
    let outs = h.msg("agent-1", rereg);
    let info = framework_info(&fid, "spark-pi", false);
    let asked = internal::ReconcileTasksMessage {
        framework_id: v1::FrameworkId { value: fid.clone() },
        statuses: vec![v1::TaskStatus {
            task_id: v1::TaskId { value: "t1".into() },
            agent_id: Some(v1::AgentId { value: agent_id(0) }),
            state: TaskState::TaskStaging as i32,
            source: Some(Source::Master as i32),
            message: Some("Reconciliation request".into()),
            reason: Some(Reason::Reconciliation as i32),
            timestamp: Some(2.0),
            ..Default::default()
        }],
        framework: outs.iter().find_map(|o| match o {
            Output::Send { msg: Msg::SlaveReregistered(m), .. } => m.reconciliations.first()?.framework.clone(),
            _ => None,
        }),
    };
    // The FrameworkInfo the agent needs to tell TASK_LOST from TASK_DROPPED.
    assert_eq!(asked.framework.as_ref().map(|f| (&f.id, &f.name)), Some((&info.id, &info.name)));
    assert_eq!(
        actions(&outs),
        [
            send("agent-1", reconciling(&agent_id(0), vec![asked])),
            send("agent-1", ping(true)),
            timer(secs(17), Timer::PingTimeout { agent: agent_id(0), epoch: 1 }),
        ]
    );
    assert!(notes(&outs).iter().any(|n| n.contains("lists task t9") && n.contains("not added")), "{outs:?}");
    // t1 is still the master's, and only t1 holds resources.
    assert_eq!(h.master.agents_view()[0].allocated, resources(1.0, 1024.0));
    assert_eq!(h.master.frameworks_view()[0].tasks, 1);
    assert_eq!(
        history(&h).last().unwrap(),
        &(
            secs(2),
            MasterEvent::AgentReregistered {
                agent_id: agent_id(0),
                hostname: "agent-1".into(),
                was: AgentPrior::Connected
            }
        )
    );
    // The agent does not know t1: its TASK_LOST reaches the framework and
    // frees the task's resources.
    let mut lost = status_update(&fid, &agent_id(0), "t1", TaskState::TaskLost, &[7; 16]);
    lost.update.status.source = Some(Source::Agent as i32);
    lost.update.status.reason = Some(Reason::Reconciliation as i32);
    let outs = h.msg("agent-1", lost);
    let u = &updates_to(&outs, "driver:spark-pi")[0];
    assert_eq!((u.state(), u.reason(), u.source()), (TaskState::TaskLost, Reason::Reconciliation, Source::Agent));
    assert!(h.master.agents_view()[0].allocated.is_empty());
}

#[test]
fn a_task_declared_lost_at_the_socket_break_is_killed_when_its_agent_reregisters() {
    let (mut h, fid) = one_task(false);
    h.advance_to(secs(2));
    h.input(disconnected("agent-1"));
    h.advance_to(secs(3));
    let t1 = reported_task(&fid, &agent_id(0), "t1", TaskState::TaskRunning, &resources(1.0, 1024.0));
    let outs = h.msg("agent-1", reregister_slave("agent-1", &agent_id(0), 4.0, 8192.0, vec![t1], vec![]));
    assert_eq!(
        actions(&outs),
        [
            send("agent-1", slave_reregistered(&agent_id(0))),
            send(
                "agent-1",
                internal::KillTaskMessage {
                    framework_id: v1::FrameworkId { value: fid.clone() },
                    task_id: v1::TaskId { value: "t1".into() },
                    kill_policy: None,
                }
            ),
            send("agent-1", ping(true)),
            timer(secs(18), Timer::PingTimeout { agent: agent_id(0), epoch: 1 }),
        ]
    );
    assert!(h.master.agents_view()[0].allocated.is_empty());
    assert_eq!(h.master.frameworks_view()[0].tasks, 0);
}

#[test]
fn a_fresh_master_admits_reregistering_agents_and_recovers_their_frameworks() {
    let old = "99999999-8888-4777-8666-555555555555";
    let (aid, fid) = (format!("{old}-S3"), format!("{old}-0002"));
    let mut h = Harness::new(cfg());
    let t1 = reported_task(&fid, &aid, "t1", TaskState::TaskRunning, &resources(1.0, 1024.0));
    let rereg = reregister_slave("agent-1", &aid, 4.0, 8192.0, vec![t1], vec![framework_info(&fid, "spark-pi", false)]);
    let outs = h.msg("agent-1", rereg);
    assert_eq!(
        actions(&outs),
        [
            send("agent-1", slave_reregistered(&aid)),
            send("agent-1", ping(true)),
            timer(secs(15), Timer::PingTimeout { agent: aid.clone(), epoch: 0 }),
            timer(secs(0), Timer::TriggeredAllocation),
        ]
    );
    assert_eq!(
        history(&h),
        [
            (secs(0), MasterEvent::FrameworkRecovered { framework_id: fid.clone(), name: "spark-pi".into() }),
            (
                secs(0),
                MasterEvent::AgentReregistered {
                    agent_id: aid.clone(),
                    hostname: "agent-1".into(),
                    was: AgentPrior::Unknown
                }
            ),
        ]
    );
    assert_eq!(
        h.master.frameworks_view(),
        [FrameworkView { id: fid.clone(), name: "spark-pi".into(), actor: None, active: false, share: 0.25, tasks: 1 }]
    );
    assert!(sends(&h.settle()).is_empty(), "no offers to a framework that has not re-subscribed");

    // The driver re-subscribes with its id: reactivated, offered the rest of the agent.
    let outs = h.msg("driver:spark-pi", resubscribe_call(&fid, "spark-pi", false));
    assert_eq!(actions(&outs)[0], send("driver:spark-pi", subscribed(&fid)));
    assert_eq!(
        history(&h).last().unwrap(),
        &(secs(0), MasterEvent::FrameworkResubscribed { framework_id: fid.clone(), name: "spark-pi".into() })
    );
    let offers = offers_to(&h.settle(), "driver:spark-pi");
    assert_eq!(offers.len(), 1);
    assert_eq!(mesocosm_proto::Resources::from_protos(&offers[0].resources), agent_resources(3.0, 7168.0));
}

/// After a master failover a framework may re-subscribe before an agent it
/// runs on re-registers: the new master, which never knew the agent, sends it
/// the task's state ("Unknown agent reregistered"), as `__reregisterSlave` does
/// for any agent not recovered from the registry.
#[test]
fn a_fresh_master_sends_a_resubscribed_framework_the_state_of_an_unknown_agents_tasks() {
    let old = "99999999-8888-4777-8666-555555555555";
    let (aid, fid) = (format!("{old}-S3"), format!("{old}-0002"));
    let mut h = Harness::new(cfg());
    h.msg("driver:spark-pi", resubscribe_call(&fid, "spark-pi", false));
    h.settle();
    h.advance_to(secs(4));
    let mut t1 = reported_task(&fid, &aid, "t1", TaskState::TaskRunning, &resources(1.0, 1024.0));
    t1.executor_id = Some(v1::ExecutorId { value: "e1".into() });
    let rereg = reregister_slave("agent-1", &aid, 4.0, 8192.0, vec![t1], vec![framework_info(&fid, "spark-pi", false)]);
    let outs = h.msg("agent-1", rereg);
    let mut update = master_update(
        "t1",
        &aid,
        TaskState::TaskRunning,
        Reason::AgentReregistered,
        "Unknown agent reregistered",
        secs(4),
    );
    update.update.as_mut().unwrap().status.executor_id = Some(v1::ExecutorId { value: "e1".into() });
    assert_eq!(
        actions(&outs),
        [
            send("driver:spark-pi", update),
            send("agent-1", slave_reregistered(&aid)),
            send("agent-1", ping(true)),
            timer(secs(19), Timer::PingTimeout { agent: aid.clone(), epoch: 0 }),
            timer(secs(4), Timer::TriggeredAllocation),
        ]
    );
    assert_eq!(h.master.frameworks_view()[0].tasks, 1);
}

#[test]
fn a_new_registration_from_a_disconnected_agents_address_replaces_it() {
    let mut h = Harness::new(cfg());
    h.add_agent("agent-1", 4.0, 8192.0);
    h.input(disconnected("agent-1"));
    h.advance_to(secs(1));
    let outs = h.add_agent("agent-1", 4.0, 8192.0);
    assert_eq!(
        actions(&outs),
        [
            send(
                "agent-1",
                internal::SlaveRegisteredMessage {
                    slave_id: v1::AgentId { value: agent_id(1) },
                    connection: Some(internal::MasterSlaveConnection { total_ping_timeout_seconds: Some(75.0) }),
                }
            ),
            send("agent-1", ping(true)),
            timer(secs(16), Timer::PingTimeout { agent: agent_id(1), epoch: 1 }),
            timer(secs(1), Timer::TriggeredAllocation),
        ]
    );
    assert_eq!(
        history(&h),
        [
            (secs(0), registered(0, "agent-1")),
            (secs(0), MasterEvent::AgentDisconnected { agent_id: agent_id(0), hostname: "agent-1".into() }),
            (
                secs(1),
                MasterEvent::AgentRemoved {
                    agent_id: agent_id(0),
                    hostname: "agent-1".into(),
                    reason: "a new agent registered at the same address".into()
                }
            ),
            (secs(1), registered(1, "agent-1")),
        ]
    );
    assert_eq!(h.master.agent_of(&"agent-1".into()), Some(agent_id(1).as_str()));
}

#[test]
fn a_known_agent_reregistering_as_another_host_is_shut_down() {
    let mut h = Harness::new(cfg());
    h.add_agent("agent-1", 4.0, 8192.0);
    let outs = h.msg("agent-1", reregister_slave("elsewhere", &agent_id(0), 4.0, 8192.0, vec![], vec![]));
    let message = "Agent attempted to re-register with different IP / hostname".to_string();
    assert_eq!(actions(&outs), [send("agent-1", internal::ShutdownMessage { message: Some(message) })]);
    assert!(h.master.agents_view()[0].connected);
}

// ----- deactivation clears offer filters ------------------------------------------------

/// `deactivateFramework` clears the framework's offer filters: a scheduler
/// that declined an agent for 120 s, disconnected and came back within its
/// failover timeout is offered that agent again at once.
#[test]
fn a_deactivated_framework_loses_its_refusal_filters() {
    let mut h = Harness::new(cfg());
    h.add_agent("agent-1", 4.0, 8192.0);
    let mut sub = subscribe_call("spark-pi", false);
    sub.subscribe.as_mut().unwrap().framework_info.failover_timeout = Some(60.0);
    h.msg("driver:spark-pi", sub);
    h.settle();
    let fid = framework_id(0);
    h.msg("driver:spark-pi", decline(&fid, &[&offer_id(0)], Some(120.0)));
    assert!(offers_to(&h.advance_to(secs(5)), "driver:spark-pi").is_empty(), "filtered for 120 s");
    assert!(!h.master.allocator().filters(&fid).unwrap().is_empty());
    h.input(disconnected("driver:spark-pi"));
    assert!(h.master.allocator().filters(&fid).unwrap().is_empty(), "deactivation clears the filters");
    h.advance_to(secs(10));
    let mut again = resubscribe_call(&fid, "spark-pi", false);
    again.subscribe.as_mut().unwrap().framework_info.failover_timeout = Some(60.0);
    h.msg("driver:spark-pi", again);
    assert_eq!(offers_to(&h.settle(), "driver:spark-pi").len(), 1, "offered again at once, long before 120 s");
}

// ----- failover_timeout out of range ---------------------------------------------------------

fn subscribe_with_failover_timeout(timeout: f64) -> scheduler::Call {
    let mut sub = subscribe_call("spark-pi", false);
    sub.subscribe.as_mut().unwrap().framework_info.failover_timeout = Some(timeout);
    sub
}

/// `validateFailoverTimeout`: a failover_timeout stout's `Duration` cannot hold
/// (beyond int64 nanoseconds, about 292 years) refuses the SUBSCRIBE; so does
/// NaN. Today's bug was a panic converting 1e20 s when the framework disconnected.
#[test]
fn a_failover_timeout_beyond_what_mesos_can_hold_refuses_the_subscription() {
    for (timeout, shown) in [(1e20, "1e+20"), (-1e300, "-1e+300"), (f64::INFINITY, "inf"), (f64::NAN, "nan")] {
        let mut h = Harness::new(cfg());
        h.add_agent("agent-1", 4.0, 8192.0);
        let outs = h.msg("driver:spark-pi", subscribe_with_failover_timeout(timeout));
        assert_eq!(
            actions(&outs),
            [
                send("driver:spark-pi", error(&format!("The framework failover_timeout ({shown}) is invalid"))),
                Output::Disconnect { peer: "driver:spark-pi".into() },
            ],
            "failover_timeout={timeout}"
        );
        assert!(h.master.frameworks_view().is_empty());
        // The stream's close afterwards changes nothing.
        assert!(actions(&h.input(disconnected("driver:spark-pi"))).is_empty());
    }
}

/// A re-subscription with an invalid timeout is refused the same way and the
/// framework keeps its old FrameworkInfo.
#[test]
fn a_resubscription_with_an_invalid_failover_timeout_is_refused() {
    let (mut h, fid) = one_offer();
    let mut again = resubscribe_call(&fid, "spark-pi", false);
    again.subscribe.as_mut().unwrap().framework_info.failover_timeout = Some(1e20);
    let outs = h.msg("driver:spark-pi#2", again);
    assert_eq!(
        actions(&outs),
        [
            send("driver:spark-pi#2", error("The framework failover_timeout (1e+20) is invalid")),
            Output::Disconnect { peer: "driver:spark-pi#2".into() },
        ]
    );
    assert_eq!(h.master.framework_of(&"driver:spark-pi".into()), Some(fid.as_str()));
}

/// The largest valid timeouts arm a timer that far away; a negative one is a
/// `Duration` whose `delay` fires at once, like 0.
#[test]
fn huge_valid_and_negative_failover_timeouts_never_panic() {
    let mut h = Harness::new(cfg());
    h.add_agent("agent-1", 4.0, 8192.0);
    h.msg("driver:spark-pi", subscribe_with_failover_timeout(9e9));
    h.settle();
    let fid = framework_id(0);
    let outs = h.input(disconnected("driver:spark-pi"));
    let at = SimTime::ZERO.after(std::time::Duration::from_secs(9_000_000_000));
    assert_eq!(actions(&outs), [timer(at, Timer::FailoverTimeout { framework: fid, epoch: 1 })]);

    let mut h = Harness::new(cfg());
    h.add_agent("agent-1", 4.0, 8192.0);
    h.msg("driver:spark-pi", subscribe_with_failover_timeout(-5.0));
    h.settle();
    let fid = framework_id(0);
    let outs = h.input(disconnected("driver:spark-pi"));
    assert_eq!(actions(&outs), [send("agent-1", shutdown_framework(&fid))]);
    assert!(h.master.frameworks_view().is_empty());
}

/// `agent_ping_timeout × max_agent_ping_timeouts` saturates instead of
/// panicking on a huge configuration.
#[test]
fn a_huge_ping_timeout_configuration_does_not_overflow() {
    let cfg = mesocosm_master::MasterConfig {
        agent_ping_timeout: std::time::Duration::MAX,
        max_agent_ping_timeouts: u32::MAX,
        ..cfg()
    };
    let mut h = Harness::new(cfg);
    let outs = h.add_agent("agent-1", 4.0, 8192.0);
    let registered = mesocosm_sim::sent_to(&outs, "agent-1");
    let Msg::SlaveRegistered(m) = &registered[0] else { panic!("{registered:?}") };
    let total = m.connection.as_ref().unwrap().total_ping_timeout_seconds.unwrap();
    assert_eq!(total, std::time::Duration::MAX.as_secs_f64());
}

/// `Master::reconcileTasks` after a failover: the new leader recovered agent
/// ids from the registry; an explicit reconciliation of an unknown task on one
/// that has not re-registered gets no answer (case 2), one on an agent nobody
/// knows is TASK_UNKNOWN (case 6); after the agent re-registers the same
/// question is TASK_GONE (case 3), and a recovered agent that never comes back
/// is marked unreachable after agent_reregister_timeout (`recoveredSlavesTimeout`).
#[test]
fn a_new_leader_holds_reconciliation_of_recovered_agents_until_they_reregister() {
    let recovered = agent_id(7);
    let cfg = mesocosm_master::MasterConfig {
        recovered_agents: [recovered.clone(), agent_id(8)].into_iter().collect(),
        ..cfg()
    };
    let mut h = Harness::new(cfg);
    let fid = h.subscribe_with("aware", subscribe_call("aware", true));
    let reconcile = |task: &str, agent: &str| {
        let mut c = call(&fid, scheduler::call::Type::Reconcile);
        c.reconcile = Some(scheduler::call::Reconcile {
            tasks: vec![scheduler::call::reconcile::Task {
                task_id: v1::TaskId { value: task.into() },
                agent_id: Some(v1::AgentId { value: agent.into() }),
            }],
        });
        c
    };
    let states = |outs: &[Output<Timer>]| -> Vec<TaskState> {
        updates_to(outs, "driver:aware").iter().map(|u| u.state()).collect()
    };
    assert!(states(&h.msg("driver:aware", reconcile("t1", &recovered))).is_empty(), "held: not re-registered yet");
    assert_eq!(states(&h.msg("driver:aware", reconcile("t1", "nobody"))), [TaskState::TaskUnknown]);
    h.msg("agent-7", reregister_slave("agent-7", &recovered, 4.0, 4096.0, vec![], vec![]));
    assert_eq!(states(&h.msg("driver:aware", reconcile("t1", &recovered))), [TaskState::TaskGone]);
    // agent 8 never comes back: unreachable once the timeout passes.
    assert!(states(&h.msg("driver:aware", reconcile("t2", &agent_id(8)))).is_empty());
    h.advance(std::time::Duration::from_secs(601));
    assert_eq!(states(&h.msg("driver:aware", reconcile("t2", &agent_id(8)))), [TaskState::TaskUnreachable]);
}
