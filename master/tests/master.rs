//! The master's behaviour, message by message.

mod common;

use common::*;
use mesocosm_master::{Master, Timer};
use mesocosm_proto::{internal, scheduler, v1};
use mesocosm_sim::{Actor, ActorId, Input, Msg, Output, Refusal, SimTime};
use scheduler::call::Type as Call;
use scheduler::event::Type as Event;
use std::time::Duration;
use v1::TaskState;
use v1::task_status::{Reason, Source};

fn before(t: SimTime) -> SimTime {
    SimTime(t.0 - 1)
}

fn ms(s: u64, ms: u64) -> SimTime {
    secs(s).after(Duration::from_millis(ms))
}

/// One agent `agent-1` (4 cpus, 8192 MB) and one framework `spark-pi`, which
/// holds the agent's offer O0 after the first (triggered) cycle at t=0.
fn one_offer() -> (Harness, String) {
    let mut h = Harness::new(cfg());
    h.add_agent("agent-1", 4.0, 8192.0);
    let fid = h.subscribe("spark-pi");
    let outs = h.settle();
    assert_eq!(offers_to(&outs, "driver:spark-pi").len(), 1);
    (h, fid)
}

// ----- agents ----------------------------------------------------------------

#[test]
fn registration_reply_and_ping_cadence() {
    let mut m = Master::new(cfg());
    assert_eq!(actions(&m.step(SimTime::ZERO, Input::Start)), [timer(secs(1), Timer::Allocation)]);
    let register = Input::Message { from: ActorId::new("agent-1"), msg: register_slave("agent-1", 4.0, 8192.0).into() };
    let registered = internal::SlaveRegisteredMessage {
        slave_id: v1::AgentId { value: agent_id(0) },
        connection: Some(internal::MasterSlaveConnection { total_ping_timeout_seconds: Some(75.0) }),
    };
    let ping = internal::PingSlaveMessage { connected: true };
    let ping_timeout = |at| timer(secs(at), Timer::PingTimeout { agent: agent_id(0), epoch: 0 });
    assert_eq!(
        actions(&m.step(SimTime::ZERO, register.clone())),
        [
            send("agent-1", registered.clone()),
            send("agent-1", ping),
            ping_timeout(15),
            timer(SimTime::ZERO, Timer::TriggeredAllocation),
        ]
    );
    // A retry from the same agent is answered with the same id, and nothing else.
    assert_eq!(actions(&m.step(ms(0, 500), register)), [send("agent-1", registered)]);
    // The next agent gets the next id.
    let outs =
        m.step(ms(0, 600), Input::Message { from: "agent-2".into(), msg: register_slave("agent-2", 1.0, 1.0).into() });
    assert!(
        matches!(&actions(&outs)[0], Output::Send { msg: Msg::SlaveRegistered(r), .. } if r.slave_id.value == agent_id(1))
    );

    // Pong in time: no miss, ping again.
    m.step(secs(1), Input::Message { from: "agent-1".into(), msg: internal::PongSlaveMessage {}.into() });
    let t15 = Input::Timer(Timer::PingTimeout { agent: agent_id(0), epoch: 0 });
    let outs = m.step(secs(15), t15.clone());
    assert_eq!(actions(&outs), [send("agent-1", ping), ping_timeout(30)]);
    assert!(notes(&outs).is_empty());
    // No pong: a miss is counted, and the master keeps pinging.
    let outs = m.step(secs(30), t15);
    assert_eq!(actions(&outs), [send("agent-1", ping), ping_timeout(45)]);
    assert_eq!(notes(&outs), ["agent agent-1 missed pong 1/5"]);
}

#[test]
fn agent_is_unreachable_after_five_missed_pongs() {
    let (mut h, fid) = one_offer();
    let launch = accept(&fid, &[&offer_id(0)], vec![command_task("t1", &agent_id(0), &resources(1.0, 1024.0))], None);
    h.msg("driver:spark-pi", launch);
    // Pongs until 30 s, then silence: misses at 45, 60, 75, 90, 105 s.
    h.advance_to(before(secs(30)));
    h.silent.insert("agent-1".into());
    let outs = h.advance_to(secs(104));
    assert!(updates_to(&outs, "driver:spark-pi").is_empty());
    assert!(h.master.agents_view().len() == 1);
    let outs = h.advance_to(secs(105));
    let lost = updates_to(&outs, "driver:spark-pi");
    assert_eq!(lost.len(), 1);
    assert_eq!(lost[0].task_id.value, "t1");
    assert_eq!(lost[0].state(), TaskState::TaskLost);
    assert_eq!(lost[0].reason(), Reason::AgentRemoved);
    assert_eq!(lost[0].source(), Source::Master);
    assert_eq!(lost[0].message(), "Agent agent-1 removed: health check timed out");
    let failure = events_to(&outs, "driver:spark-pi").into_iter().find_map(|e| e.failure).expect("FAILURE");
    assert_eq!(failure.agent_id.unwrap().value, agent_id(0));
    assert!(h.master.agents_view().is_empty());
    // No more pings to a removed agent.
    let outs = h.advance_to(secs(200));
    assert!(mesocosm_sim::sent_to(&outs, "agent-1").is_empty());
}

#[test]
fn unreachable_agent_rescinds_offers_and_partition_aware_tasks_become_unreachable() {
    let mut h = Harness::new(cfg());
    // agent-2 answers its pings; agent-1 never does: misses at 15, 30, 45, 60, 75 s.
    h.silent.insert("agent-1".into());
    h.add_agent("agent-1", 4.0, 8192.0);
    h.add_agent("agent-2", 4.0, 8192.0);
    let outs = h.msg("driver:pa", subscribe_call("pa", true));
    let fid = events_to(&outs, "driver:pa")[0].subscribed.clone().unwrap().framework_id.value;
    h.settle();
    let on_agent_1 = h.offer_on(&agent_id(0));
    let launch =
        accept(&fid, &[&on_agent_1], vec![command_task("t1", &agent_id(0), &resources(1.0, 1024.0))], Some(0.0));
    h.msg("driver:pa", launch);
    assert!(updates_to(&h.advance_to(before(secs(75))), "driver:pa").is_empty());
    let outs = h.advance_to(secs(75));
    let ups = updates_to(&outs, "driver:pa");
    assert_eq!(ups.len(), 1);
    assert_eq!(ups[0].state(), TaskState::TaskUnreachable);
    assert!(ups[0].unreachable_time.is_some());
    assert_eq!(h.master.agents_view().iter().map(|a| a.hostname.as_str()).collect::<Vec<_>>(), ["agent-2"]);
    // agent-1's remainder was re-offered at the 1 s cycle; it is rescinded now.
    let rescinded: Vec<_> = events_to(&outs, "driver:pa").into_iter().filter_map(|e| e.rescind).collect();
    assert_eq!(rescinded.len(), 1);
    assert_eq!(h.master.stats().offers_rescinded, 1);
}

// ----- frameworks --------------------------------------------------------------

#[test]
fn subscribe_replies_subscribed_and_heartbeats() {
    let mut m = Master::new(cfg());
    m.step(SimTime::ZERO, Input::Start);
    let outs = m.step(
        SimTime::ZERO,
        Input::Message { from: "driver:spark-pi".into(), msg: subscribe_call("spark-pi", false).into() },
    );
    let mut subscribed = ev(Event::Subscribed);
    subscribed.subscribed = Some(scheduler::event::Subscribed {
        framework_id: v1::FrameworkId { value: framework_id(0) },
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
    let hb = |at| timer(secs(at), Timer::Heartbeat { framework: framework_id(0), epoch: 0 });
    assert_eq!(
        actions(&outs),
        [
            send("driver:spark-pi", subscribed),
            send("driver:spark-pi", ev(Event::Heartbeat)),
            hb(15),
            timer(SimTime::ZERO, Timer::TriggeredAllocation),
        ]
    );
    let outs = m.step(secs(15), Input::Timer(Timer::Heartbeat { framework: framework_id(0), epoch: 0 }));
    assert_eq!(actions(&outs), [send("driver:spark-pi", ev(Event::Heartbeat)), hb(30)]);
    // The second framework gets the next id.
    let outs = m.step(secs(16), Input::Message { from: "driver:b".into(), msg: subscribe_call("b", false).into() });
    assert!(matches!(&actions(&outs)[0], Output::Send { msg: Msg::SchedulerEvent(e), .. }
        if e.subscribed.as_ref().unwrap().framework_id.value == framework_id(1)));
}

/// The HTTP API's answer to a call from a scheduler with no subscription for
/// the framework it names: 403 Forbidden on that call, nothing on the event
/// stream (master/http.cpp `Master::Http::scheduler`).
fn forbidden() -> Output<Timer> {
    Output::Refuse(Refusal::Forbidden("Framework is not subscribed".into()))
}

#[test]
fn calls_without_a_subscription_are_refused_403_and_change_nothing() {
    let (mut h, fid) = one_offer();
    let cases: &[(&str, Option<&str>, Output<Timer>)] = &[
        ("driver:stranger", Some(fid.as_str()), forbidden()),
        ("driver:stranger", Some("nope"), forbidden()),
        ("driver:spark-pi", Some("someone-else"), forbidden()),
        ("driver:spark-pi", None, send("driver:spark-pi", error("Expecting 'framework_id' to be present"))),
    ];
    for (from, claimed, answer) in cases {
        let mut c = decline(claimed.unwrap_or(""), &[&offer_id(0)], Some(1000.0));
        if claimed.is_none() {
            c.framework_id = None;
        }
        let outs = h.msg(from, c);
        assert_eq!(actions(&outs), std::slice::from_ref(answer), "{from} {claimed:?}");
        assert_eq!(h.master.offers_view().len(), 1, "no state change");
    }
    assert_eq!(h.master.stats().offers_declined, 0);
}

#[test]
fn teardown_shuts_the_framework_down_everywhere_and_closes_the_stream() {
    let mut h = Harness::new(cfg());
    for a in ["agent-1", "agent-2", "agent-3"] {
        h.add_agent(a, 4.0, 8192.0);
    }
    let fid = h.subscribe("spark-pi");
    h.settle();
    let launch = accept(&fid, &[&offer_id(1)], vec![command_task("t1", &agent_id(1), &resources(1.0, 1024.0))], None);
    h.msg("driver:spark-pi", launch);
    let outs = h.msg("driver:spark-pi", call(&fid, Call::Teardown));
    let shutdown = internal::ShutdownFrameworkMessage { framework_id: v1::FrameworkId { value: fid.clone() } };
    assert_eq!(
        actions(&outs),
        [
            send("agent-1", shutdown.clone()),
            send("agent-2", shutdown.clone()),
            send("agent-3", shutdown),
            Output::Disconnect { peer: "driver:spark-pi".into() },
        ]
    );
    assert!(h.master.offers_view().is_empty());
    assert!(h.master.agents_view().iter().all(|a| a.allocated.is_empty()));
    assert!(h.master.frameworks_view().is_empty());
    // The framework is gone: calls are refused, and it cannot come back.
    let outs = h.msg("driver:spark-pi", call(&fid, Call::Revive));
    assert_eq!(actions(&outs), [forbidden()]);
    let mut again = subscribe_call("spark-pi", false);
    again.framework_id = Some(v1::FrameworkId { value: fid.clone() });
    again.subscribe.as_mut().unwrap().framework_info.id = again.framework_id.clone();
    let outs = h.msg("driver:spark-pi", again);
    assert_eq!(
        actions(&outs),
        [
            send("driver:spark-pi", error("Framework has been removed")),
            Output::Disconnect { peer: "driver:spark-pi".into() },
        ]
    );
}

#[test]
fn disconnect_with_failover_timeout_zero_removes_the_framework() {
    let (mut h, _fid) = one_offer();
    let outs = h.input(Input::Disconnected { peer: "driver:spark-pi".into() });
    assert_eq!(sends(&outs), [("agent-1".to_string(), "ShutdownFrameworkMessage")]);
    assert!(!outs.iter().any(|o| matches!(o, Output::Disconnect { .. })));
    assert!(h.master.offers_view().is_empty());
    assert!(h.master.frameworks_view().is_empty());
    assert_eq!(h.master.stats().offers_rescinded, 1);
}

#[test]
fn disconnect_with_failover_timeout_waits_then_removes() {
    let mut h = Harness::new(cfg());
    h.add_agent("agent-1", 4.0, 8192.0);
    let mut sub = subscribe_call("spark-pi", false);
    sub.subscribe.as_mut().unwrap().framework_info.failover_timeout = Some(60.0);
    h.msg("driver:spark-pi", sub);
    h.settle();
    h.input(Input::Disconnected { peer: "driver:spark-pi".into() });
    // Offers recovered and not re-offered to an inactive framework.
    let outs = h.advance_to(secs(59));
    assert!(sends(&outs).iter().all(|(to, _)| to != "driver:spark-pi"));
    assert_eq!(h.master.frameworks_view().len(), 1);
    let outs = h.advance_to(secs(60));
    assert!(sends(&outs).contains(&("agent-1".to_string(), "ShutdownFrameworkMessage")));
    assert!(h.master.frameworks_view().is_empty());
}

// ----- allocation ----------------------------------------------------------------

#[test]
fn one_cycle_sends_one_offers_event_with_an_offer_per_agent() {
    let mut h = Harness::new(cfg());
    for a in ["agent-1", "agent-2", "agent-3"] {
        h.add_agent(a, 4.0, 8192.0);
    }
    h.subscribe("spark-pi");
    let outs = h.settle();
    let events = offers_events(&outs, "driver:spark-pi");
    assert_eq!(events.len(), 1, "one OFFERS event per framework per cycle");
    // Offer ids are issued in the cycle's (shuffled) agent order: O0, O1, O2,
    // one per agent, each with that agent's id and hostname.
    let ids: Vec<_> = events[0].iter().map(|o| o.id.value.clone()).collect();
    assert_eq!(ids, [offer_id(0), offer_id(1), offer_id(2)]);
    let mut agents: Vec<_> = events[0].iter().map(|o| (o.agent_id.value.clone(), o.hostname.clone())).collect();
    agents.sort();
    assert_eq!(
        agents,
        [
            (agent_id(0), "agent-1".to_string()),
            (agent_id(1), "agent-2".to_string()),
            (agent_id(2), "agent-3".to_string()),
        ]
    );
    for o in &events[0] {
        assert_eq!(o.framework_id.value, framework_id(0));
        assert_eq!(mesocosm_proto::Resources::from_protos(&o.resources), agent_resources(4.0, 8192.0));
    }
    let st = h.master.stats();
    assert_eq!((st.allocation_cycles, st.offers_made), (1, 3), "the registrations and SUBSCRIBE coalesced");
    // Everything is offered: the next periodic cycle has nothing to give.
    assert!(offers_to(&h.advance_to(secs(1)), "driver:spark-pi").is_empty());
    assert_eq!(h.master.stats().allocation_cycles, 2);
}

#[test]
fn drf_gives_the_next_agent_to_the_lower_share_and_breaks_ties_by_id() {
    let mut h = Harness::new(cfg());
    for a in ["agent-1", "agent-2", "agent-3", "agent-4"] {
        h.add_agent(a, 4.0, 8192.0);
    }
    let a = h.subscribe("a");
    let b = h.subscribe("b");
    let outs = h.settle();
    // The agents come in the cycle's shuffled order; whichever comes first goes
    // to a (tie at 0 → id), the second to b (lower share), the third to a (tie
    // at 0.25 → id), the fourth to b.
    let notes = notes(&outs);
    let hosts: Vec<&str> = notes.iter().map(|n| n.split(' ').nth(1).unwrap()).collect();
    let mut sorted = hosts.clone();
    sorted.sort();
    assert_eq!(sorted, ["agent-1", "agent-2", "agent-3", "agent-4"]);
    assert_eq!(
        notes,
        [
            format!("allocate {} [cpus:4;mem:8192;ports:[31000-32000]] to a (DRF share 0, lowest of 2)", hosts[0]),
            format!("allocate {} [cpus:4;mem:8192;ports:[31000-32000]] to b (DRF share 0, lowest of 2)", hosts[1]),
            format!("allocate {} [cpus:4;mem:8192;ports:[31000-32000]] to a (DRF share 0.25, lowest of 2)", hosts[2]),
            format!("allocate {} [cpus:4;mem:8192;ports:[31000-32000]] to b (DRF share 0.25, lowest of 2)", hosts[3]),
        ]
    );
    let offered = |actor| offers_to(&outs, actor).iter().map(|o| o.hostname.clone()).collect::<Vec<_>>();
    assert_eq!(offered("driver:a"), [hosts[0], hosts[2]]);
    assert_eq!(offered("driver:b"), [hosts[1], hosts[3]]);
    assert_eq!((h.master.allocator().share(&a), h.master.allocator().share(&b)), (0.5, 0.5));
}

#[test]
fn drf_tie_on_share_goes_to_the_framework_allocated_to_less_often() {
    let mut h = Harness::new(cfg());
    let a = h.subscribe("a");
    h.subscribe("b");
    let mut got = Vec::new();
    for (name, cpus, mem) in [("agent-1", 1.0, 1024.0), ("agent-2", 1.0, 1024.0), ("agent-3", 2.0, 2048.0)] {
        h.add_agent(name, cpus, mem);
        let outs = h.settle();
        for actor in ["driver:a", "driver:b"] {
            got.extend(offers_to(&outs, actor).into_iter().map(|o| (o.hostname, actor)));
        }
    }
    assert_eq!(
        got,
        [("agent-1".to_string(), "driver:a"), ("agent-2".into(), "driver:b"), ("agent-3".into(), "driver:a")]
    );
    // a gives agent-3 back (no filter): a and b now hold 1/4 each, a has had 2
    // allocations and b 1, so the next agent goes to b despite its larger id.
    h.msg("driver:a", decline(&a, &[&offer_id(2)], Some(0.0)));
    h.add_agent("agent-4", 4.0, 4096.0);
    let outs = h.settle();
    assert_eq!(offers_to(&outs, "driver:b").iter().map(|o| o.hostname.as_str()).collect::<Vec<_>>(), ["agent-4"]);
    assert!(offers_to(&outs, "driver:a").is_empty(), "only agent-4 is a candidate of this triggered cycle");
}

#[test]
fn decline_filters_last_max_of_interval_and_refuse_seconds() {
    // (refuse_seconds in the DECLINE, the first periodic cycle that re-offers).
    let cases: &[(Option<f64>, u64)] =
        &[(Some(120.0), 120), (None, 5), (Some(0.0), 1), (Some(0.5), 1), (Some(-7.0), 5)];
    for &(refuse, first) in cases {
        let (mut h, fid) = one_offer();
        let outs = h.msg("driver:spark-pi", decline(&fid, &[&offer_id(0)], refuse));
        assert!(
            !outs.iter().any(|o| matches!(o, Output::SetTimer { timer: Timer::TriggeredAllocation, .. })),
            "a decline does not trigger a cycle"
        );
        for s in 1..first {
            let outs = h.advance_to(secs(s));
            assert!(offers_to(&outs, "driver:spark-pi").is_empty(), "refuse {refuse:?}: re-offered at +{s}s");
        }
        let outs = h.advance_to(secs(first));
        let offers = offers_to(&outs, "driver:spark-pi");
        assert_eq!(offers.len(), 1, "refuse {refuse:?}: not re-offered at +{first}s");
        assert_eq!(offers[0].id.value, offer_id(1));
        assert_eq!(h.master.stats().offers_declined, 1);
    }
}

#[test]
fn revive_clears_filters_and_triggers_a_cycle() {
    let (mut h, fid) = one_offer();
    h.msg("driver:spark-pi", decline(&fid, &[&offer_id(0)], Some(120.0)));
    assert!(offers_to(&h.advance_to(secs(10)), "driver:spark-pi").is_empty());
    let outs = h.msg("driver:spark-pi", call(&fid, Call::Revive));
    assert_eq!(actions(&outs), [timer(secs(10), Timer::TriggeredAllocation)]);
    let outs = h.settle();
    assert_eq!(offers_to(&outs, "driver:spark-pi").len(), 1);
}

#[test]
fn suppress_stops_offers_until_revive() {
    let (mut h, fid) = one_offer();
    h.msg("driver:spark-pi", call(&fid, Call::Suppress));
    h.msg("driver:spark-pi", decline(&fid, &[&offer_id(0)], Some(0.0)));
    assert!(offers_to(&h.advance_to(secs(30)), "driver:spark-pi").is_empty());
    h.msg("driver:spark-pi", call(&fid, Call::Revive));
    assert_eq!(offers_to(&h.settle(), "driver:spark-pi").len(), 1);
}

#[test]
fn offer_timeout_rescinds_and_recovers_without_filter() {
    let mut c = cfg();
    c.offer_timeout = Some(Duration::from_secs(10));
    let mut h = Harness::new(c);
    h.add_agent("agent-1", 4.0, 8192.0);
    h.subscribe("spark-pi");
    h.settle();
    assert!(events_to(&h.advance_to(before(secs(10))), "driver:spark-pi").iter().all(|e| e.rescind.is_none()));
    let mut outs = h.advance_to(secs(10));
    let rescind = events_to(&outs, "driver:spark-pi").into_iter().find_map(|e| e.rescind).expect("RESCIND");
    assert_eq!(rescind.offer_id.value, offer_id(0));
    assert_eq!(h.master.stats().offers_rescinded, 1);
    // Recovered without a filter: the next periodic cycle offers it again.
    outs.extend(h.advance_to(secs(11)));
    assert_eq!(offers_to(&outs, "driver:spark-pi").len(), 1);
}

// ----- ACCEPT -----------------------------------------------------------------------

#[test]
fn accept_with_invalid_offers_loses_every_task() {
    struct Case {
        caller: &'static str,
        offers: &'static [u64],
        partition_aware: bool,
        message: String,
        state: TaskState,
        outstanding: &'static [u64],
    }
    // O0 names a's offer on agent-1 and O1 its offer on agent-2 (which offer id
    // each agent gets depends on the cycle's shuffle); O9 was never issued.
    let setup = |partition_aware| {
        let mut h = Harness::new(cfg());
        h.add_agent("agent-1", 4.0, 8192.0);
        h.add_agent("agent-2", 4.0, 8192.0);
        h.msg("driver:a", subscribe_call("a", partition_aware));
        h.settle();
        let b = h.subscribe("b");
        (h, b)
    };
    let on = {
        let (probe, _) = setup(false);
        [probe.offer_on(&agent_id(0)), probe.offer_on(&agent_id(1))]
    };
    let o = |n: u64| if n < 2 { on[n as usize].clone() } else { offer_id(n) };
    let cases = [
        Case {
            caller: "b",
            offers: &[0],
            partition_aware: false,
            message: format!(
                "Offer {} has invalid framework {} while framework {} is expected",
                o(0),
                framework_id(0),
                framework_id(1)
            ),
            state: TaskState::TaskLost,
            outstanding: &[0, 1],
        },
        Case {
            caller: "a",
            offers: &[9],
            partition_aware: false,
            message: format!("Offer {} is no longer valid", o(9)),
            state: TaskState::TaskLost,
            outstanding: &[0, 1],
        },
        Case {
            caller: "a",
            offers: &[9],
            partition_aware: true,
            message: format!("Offer {} is no longer valid", o(9)),
            state: TaskState::TaskDropped,
            outstanding: &[0, 1],
        },
        Case {
            caller: "a",
            offers: &[0, 1],
            partition_aware: false,
            message: format!(
                "Aggregated offers must belong to one single agent. Offer {} uses agent {} and agent {}",
                o(1),
                agent_id(1),
                agent_id(0)
            ),
            state: TaskState::TaskLost,
            outstanding: &[],
        },
        Case {
            caller: "a",
            offers: &[0, 0],
            partition_aware: false,
            message: format!("Duplicate offer {} in offer list", o(0)),
            state: TaskState::TaskLost,
            outstanding: &[1],
        },
    ];
    for c in cases {
        let (mut h, b) = setup(c.partition_aware);
        let fid = if c.caller == "a" { framework_id(0) } else { b };
        let ids: Vec<String> = c.offers.iter().map(|&n| o(n)).collect();
        let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
        let tasks = vec![
            command_task("t1", &agent_id(0), &resources(1.0, 1024.0)),
            command_task("t2", &agent_id(0), &resources(1.0, 1024.0)),
        ];
        let actor = format!("driver:{}", c.caller);
        let outs = h.msg(&actor, accept(&fid, &ids, tasks, None));
        assert!(sends(&outs).iter().all(|(_, kind)| *kind != "RunTaskMessage"), "no RunTask");
        let ups = updates_to(&outs, &actor);
        assert_eq!(ups.len(), 2);
        for (u, t) in ups.iter().zip(["t1", "t2"]) {
            assert_eq!(u.task_id.value, t);
            assert_eq!(u.state(), c.state);
            assert_eq!(u.source(), Source::Master);
            assert_eq!(u.reason(), Reason::InvalidOffers);
            assert_eq!(u.message(), format!("Task launched with invalid offers: {}", c.message));
            assert_eq!(u.uuid, None, "master-generated updates need no ack");
        }
        let left: Vec<String> = h.master.offers_view().into_iter().map(|o| o.id).collect();
        let mut want: Vec<String> = c.outstanding.iter().map(|&n| o(n)).collect();
        want.sort();
        assert_eq!(left, want, "{}", c.message);
        assert_eq!(h.master.stats().offers_accepted, 0);
    }
}

#[test]
fn accept_of_an_invalid_task_is_task_error() {
    let more = |r: &str, a: &str| Some(format!("Task uses more resources {r} than available {a}"));
    // (the tasks of one ACCEPT, then per task: launched, or the TASK_ERROR message)
    type Case<'a> = (Vec<v1::TaskInfo>, Vec<(&'a str, Option<String>)>);
    let cases: Vec<Case> = vec![
        (
            vec![command_task("big", &agent_id(0), &resources(5.0, 1024.0))],
            vec![("big", more("cpus:5;mem:1024", "cpus:4;mem:8192;ports:[31000-32000]"))],
        ),
        (
            vec![
                command_task("t1", &agent_id(0), &resources(3.0, 1024.0)),
                command_task("t2", &agent_id(0), &resources(2.0, 1024.0)),
            ],
            vec![("t1", None), ("t2", more("cpus:2;mem:1024", "cpus:1;mem:7168;ports:[31000-32000]"))],
        ),
        (
            vec![
                command_task("t1", &agent_id(0), &resources(1.0, 1024.0)),
                command_task("t1", &agent_id(0), &resources(1.0, 1024.0)),
            ],
            vec![("t1", None), ("t1", Some("Task has duplicate ID: t1".to_string()))],
        ),
        (
            vec![command_task("t1", &agent_id(7), &resources(1.0, 1024.0))],
            vec![(
                "t1",
                Some(format!("Task uses invalid agent {} while agent {} is expected", agent_id(7), agent_id(0))),
            )],
        ),
    ];
    for (tasks, want) in cases {
        let (mut h, fid) = one_offer();
        let outs = h.msg("driver:spark-pi", accept(&fid, &[&offer_id(0)], tasks.clone(), None));
        let launched: Vec<String> = run_tasks_to(&outs, "agent-1").into_iter().map(|r| r.task.task_id.value).collect();
        let errors = updates_to(&outs, "driver:spark-pi");
        let mut e = errors.iter();
        for (task, err) in &want {
            match err {
                None => assert!(launched.contains(&task.to_string())),
                Some(message) => {
                    let u = e.next().expect("TASK_ERROR");
                    assert_eq!(u.task_id.value, *task);
                    assert_eq!(u.state(), TaskState::TaskError);
                    assert_eq!(u.reason(), Reason::TaskInvalid);
                    assert_eq!(u.source(), Source::Master);
                    assert_eq!(u.message(), message);
                }
            }
        }
        assert!(e.next().is_none());
        assert_eq!(h.master.stats().offers_accepted, 1);
    }
}

#[test]
fn valid_accept_runs_the_task_on_the_right_agent_and_filters_the_rest_5s() {
    let mut h = Harness::new(cfg());
    h.add_agent("agent-1", 4.0, 8192.0);
    h.add_agent("agent-2", 4.0, 8192.0);
    let fid = h.subscribe("spark-pi");
    h.settle();
    let task = command_task("0", &agent_id(1), &resources(1.0, 1408.0));
    let on_agent_2 = h.offer_on(&agent_id(1));
    let outs = h.msg("driver:spark-pi", accept(&fid, &[&on_agent_2], vec![task.clone()], None));
    let run = run_tasks_to(&outs, "agent-2");
    assert_eq!(run.len(), 1);
    assert_eq!(
        run[0],
        internal::RunTaskMessage {
            framework: v1::FrameworkInfo {
                user: "spark".into(),
                name: "spark-pi".into(),
                id: Some(v1::FrameworkId { value: fid.clone() }),
                failover_timeout: Some(0.0),
                ..Default::default()
            },
            pid: None,
            task,
            launch_executor: Some(true),
        }
    );
    assert!(run_tasks_to(&outs, "agent-1").is_empty());
    let st = h.master.stats();
    assert_eq!((st.offers_accepted, st.tasks_launched), (1, 1));
    let view = &h.master.agents_view()[1];
    assert_eq!((view.allocated.clone(), view.offered.clone()), (resources(1.0, 1408.0), Default::default()));
    // The remainder is filtered for the default 5 s.
    for s in 1..5 {
        assert!(offers_to(&h.advance_to(secs(s)), "driver:spark-pi").is_empty(), "+{s}s");
    }
    let offers = offers_to(&h.advance_to(secs(5)), "driver:spark-pi");
    assert_eq!(offers.len(), 1);
    assert_eq!(offers[0].hostname, "agent-2");
    assert_eq!(mesocosm_proto::Resources::from_protos(&offers[0].resources), agent_resources(3.0, 6784.0));
}

// ----- status updates -----------------------------------------------------------------

#[test]
fn status_updates_are_relayed_and_acks_forwarded() {
    let (mut h, fid) = one_offer();
    h.msg(
        "driver:spark-pi",
        accept(&fid, &[&offer_id(0)], vec![command_task("t1", &agent_id(0), &resources(1.0, 1024.0))], None),
    );
    let uuid = [7u8; 16];
    let upd = status_update(&fid, &agent_id(0), "t1", TaskState::TaskRunning, &uuid);
    let outs = h.msg("agent-1", upd.clone());
    let mut relayed = ev(Event::Update);
    relayed.update = Some(scheduler::event::Update { status: upd.update.status.clone() });
    assert_eq!(actions(&outs), [send("driver:spark-pi", relayed)]);

    let mut ack = call(&fid, Call::Acknowledge);
    ack.acknowledge = Some(scheduler::call::Acknowledge {
        agent_id: v1::AgentId { value: agent_id(0) },
        task_id: v1::TaskId { value: "t1".into() },
        uuid: uuid.to_vec(),
    });
    let outs = h.msg("driver:spark-pi", ack);
    assert_eq!(
        actions(&outs),
        [send(
            "agent-1",
            internal::StatusUpdateAcknowledgementMessage {
                slave_id: v1::AgentId { value: agent_id(0) },
                framework_id: v1::FrameworkId { value: fid.clone() },
                task_id: v1::TaskId { value: "t1".into() },
                uuid: uuid.to_vec(),
            }
        )]
    );
}

#[test]
fn a_terminal_update_frees_the_resources_for_the_next_cycle() {
    let (mut h, fid) = one_offer();
    let all = agent_resources(4.0, 8192.0);
    h.msg("driver:spark-pi", accept(&fid, &[&offer_id(0)], vec![command_task("t1", &agent_id(0), &all)], None));
    assert!(offers_to(&h.advance_to(secs(2)), "driver:spark-pi").is_empty());
    h.now = ms(2, 500);
    let outs = h.msg("agent-1", status_update(&fid, &agent_id(0), "t1", TaskState::TaskFinished, &[1; 16]));
    assert!(!outs.iter().any(|o| matches!(o, Output::SetTimer { .. })), "a finished task does not trigger a cycle");
    assert_eq!(updates_to(&outs, "driver:spark-pi")[0].state(), TaskState::TaskFinished);
    assert!(h.master.agents_view()[0].allocated.is_empty());
    let offers = offers_to(&h.advance_to(secs(3)), "driver:spark-pi");
    assert_eq!(offers.len(), 1);
    assert_eq!(mesocosm_proto::Resources::from_protos(&offers[0].resources), all);
}

#[test]
fn kill_sends_kill_task_or_reconciles_an_unknown_task() {
    let (mut h, fid) = one_offer();
    h.msg(
        "driver:spark-pi",
        accept(&fid, &[&offer_id(0)], vec![command_task("t1", &agent_id(0), &resources(1.0, 1024.0))], None),
    );
    let kill = |task: &str, agent: Option<String>| {
        let mut c = call(&fid, Call::Kill);
        c.kill = Some(scheduler::call::Kill {
            task_id: v1::TaskId { value: task.into() },
            agent_id: agent.map(|value| v1::AgentId { value }),
            kill_policy: None,
        });
        c
    };
    let outs = h.msg("driver:spark-pi", kill("t1", None));
    assert_eq!(
        actions(&outs),
        [send(
            "agent-1",
            internal::KillTaskMessage {
                framework_id: v1::FrameworkId { value: fid.clone() },
                task_id: v1::TaskId { value: "t1".into() },
                kill_policy: None,
            }
        )]
    );
    // Unknown task on a registered agent: TASK_GONE, sent as TASK_LOST to a
    // framework that is not PARTITION_AWARE.
    let outs = h.msg("driver:spark-pi", kill("nope", Some(agent_id(0))));
    let u = &updates_to(&outs, "driver:spark-pi")[0];
    assert_eq!((u.state(), u.reason()), (TaskState::TaskLost, Reason::Reconciliation));
}

#[test]
fn exited_custom_executor_frees_its_resources_and_reports_failure() {
    let (mut h, fid) = one_offer();
    let mut task = command_task("t1", &agent_id(0), &resources(1.0, 1024.0));
    task.command = None;
    task.executor = Some(v1::ExecutorInfo {
        executor_id: v1::ExecutorId { value: "e1".into() },
        command: Some(v1::CommandInfo::default()),
        resources: resources(0.5, 256.0).to_protos(),
        ..Default::default()
    });
    let outs = h.msg("driver:spark-pi", accept(&fid, &[&offer_id(0)], vec![task], Some(0.0)));
    let run = &run_tasks_to(&outs, "agent-1")[0];
    assert_eq!(run.task.executor.as_ref().unwrap().framework_id.as_ref().unwrap().value, fid, "the master fills it in");
    assert_eq!(h.master.agents_view()[0].allocated, resources(1.5, 1280.0));
    h.msg("agent-1", status_update(&fid, &agent_id(0), "t1", TaskState::TaskFinished, &[2; 16]));
    let exited = internal::ExitedExecutorMessage {
        slave_id: v1::AgentId { value: agent_id(0) },
        framework_id: v1::FrameworkId { value: fid.clone() },
        executor_id: v1::ExecutorId { value: "e1".into() },
        status: 0,
    };
    let outs = h.msg("agent-1", exited.clone());
    let f = events_to(&outs, "driver:spark-pi").into_iter().find_map(|e| e.failure).expect("FAILURE");
    assert_eq!((f.executor_id.unwrap().value, f.status), ("e1".to_string(), Some(0)));
    assert!(h.master.agents_view()[0].allocated.is_empty());
    // A command executor's exit is only noted.
    let mut cmd = exited;
    cmd.executor_id.value = "t9".into();
    assert!(actions(&h.msg("agent-1", cmd)).is_empty());
}
