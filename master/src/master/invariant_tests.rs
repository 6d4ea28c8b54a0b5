//! [`Master::check_invariants`] must fail when a promise is broken: each test
//! corrupts a healthy master one way and expects the exact complaint.

use super::Corruption;
use crate::master::{Master, MasterConfig, Timer};
use mesocosm_proto::{Resources, internal, scheduler, v1};
use mesocosm_sim::{Actor, ActorId, Input, Msg, SimTime};
use std::time::Duration;

const ID: &str = "11111111-2222-4333-8444-555555555555";

fn res(cpus: f64, mem: f64) -> Resources {
    let mut r = Resources::scalar_of("cpus", cpus);
    r.add_scalar("mem", mem);
    r
}

fn msg(m: &mut Master, at: SimTime, from: &str, msg: impl Into<Msg>) {
    m.step(at, Input::Message { from: ActorId::new(from), msg: msg.into() });
}

/// agent-1 (4 cpus, 8192 MB); framework a runs t1 (1 cpu, 1024 MB) from O0;
/// framework b holds O1, the rest of the agent.
fn healthy() -> Master {
    let mut m = Master::new(MasterConfig { id: ID.to_string(), ..MasterConfig::default() });
    let t0 = SimTime::ZERO;
    m.step(t0, Input::Start);
    let mut total = res(4.0, 8192.0);
    total.add_range("ports", 31000, 32000);
    let info = v1::AgentInfo { hostname: "agent-1".into(), resources: total.to_protos(), ..Default::default() };
    msg(&mut m, t0, "agent-1", internal::RegisterSlaveMessage { slave: info, ..Default::default() });
    for name in ["a", "b"] {
        let info = v1::FrameworkInfo { user: "spark".into(), name: name.into(), ..Default::default() };
        let sub = scheduler::Call {
            r#type: Some(scheduler::call::Type::Subscribe as i32),
            subscribe: Some(scheduler::call::Subscribe { framework_info: info, suppressed_roles: vec![] }),
            ..Default::default()
        };
        msg(&mut m, t0, &format!("driver:{name}"), sub);
    }
    m.step(t0, Input::Timer(Timer::TriggeredAllocation));
    let task = v1::TaskInfo {
        name: "t1".into(),
        task_id: v1::TaskId { value: "t1".into() },
        agent_id: v1::AgentId { value: format!("{ID}-S0") },
        resources: res(1.0, 1024.0).to_protos(),
        command: Some(v1::CommandInfo::default()),
        ..Default::default()
    };
    let accept = scheduler::Call {
        framework_id: Some(v1::FrameworkId { value: format!("{ID}-0000") }),
        r#type: Some(scheduler::call::Type::Accept as i32),
        accept: Some(scheduler::call::Accept {
            offer_ids: vec![v1::OfferId { value: format!("{ID}-O0") }],
            operations: vec![v1::offer::Operation {
                r#type: Some(v1::offer::operation::Type::Launch as i32),
                launch: Some(v1::offer::operation::Launch { task_infos: vec![task] }),
                ..Default::default()
            }],
            filters: Some(v1::Filters { refuse_seconds: Some(0.0) }),
        }),
        ..Default::default()
    };
    msg(&mut m, t0, "driver:a", accept);
    m.step(t0.after(Duration::from_secs(1)), Input::Timer(Timer::Allocation));
    let offers: Vec<(String, String)> = m.offers_view().into_iter().map(|o| (o.id, o.framework_id)).collect();
    assert_eq!(offers, [(format!("{ID}-O1"), format!("{ID}-0001"))]);
    assert_eq!(m.frameworks_view()[0].tasks, 1);
    assert_eq!(Actor::check_invariants(&m), Ok(()));
    m
}

fn broken(c: Corruption) -> Result<(), String> {
    let mut m = healthy();
    m.corrupt(c);
    Actor::check_invariants(&m)
}

#[test]
fn an_offer_on_a_disconnected_agent_is_caught() {
    assert_eq!(
        broken(Corruption::DisconnectKeepingOffers),
        Err(format!("offer {ID}-O1 is outstanding on disconnected agent agent-1"))
    );
}

#[test]
fn an_offer_on_an_unreachable_agent_is_caught() {
    assert_eq!(
        broken(Corruption::UnreachableKeepingOffers),
        Err(format!("offer {ID}-O1 is on agent {ID}-S0 which is unreachable or does not list it"))
    );
}

#[test]
fn a_task_launched_from_another_frameworks_offer_is_caught() {
    assert_eq!(
        broken(Corruption::TaskFromForeignOffer),
        Err(format!("task t1 of framework {ID}-0000 was launched from offer {ID}-O0, made to framework {ID}-0001"))
    );
}

#[test]
fn a_resource_in_two_offers_is_caught() {
    let mut rest = res(3.0, 7168.0);
    rest.add_range("ports", 31000, 32000);
    let mut total = res(4.0, 8192.0);
    total.add_range("ports", 31000, 32000);
    let free = total.minus(&rest);
    assert_eq!(
        broken(Corruption::DuplicateOffer),
        Err(format!("agent-1 over-committed: offer O9 [{rest}] does not fit in the free [{free}]"))
    );
}

const EVERY: [Corruption; 4] = [
    Corruption::DisconnectKeepingOffers,
    Corruption::UnreachableKeepingOffers,
    Corruption::TaskFromForeignOffer,
    Corruption::DuplicateOffer,
];

/// The per-step check of a release build reads only what the step touched:
/// a corruption made within a step is in what it touched, so that check
/// names the same problem as a full rescan.
#[test]
fn the_check_of_what_a_step_touched_catches_every_corruption_made_in_the_step() {
    for c in EVERY {
        let mut m = healthy();
        m.begin_step();
        assert_eq!(m.check_touched(), Ok(()), "{c:?}: a step that touched nothing");
        m.corrupt(c);
        let full = m.check_invariants();
        assert!(full.is_err(), "{c:?}");
        assert_eq!(m.check_touched(), full, "{c:?}");
        assert_eq!(m.check_step(super::FULL_RESCAN_EVERY + 1, false), full, "{c:?}: a release build's step");
    }
}

/// A corruption the books did not record (a bug in the bookkeeping itself)
/// escapes the touched check, and is caught by the periodic full rescan of a
/// release build and by every step of a debug build, which names it as a
/// bookkeeping miss.
#[test]
fn a_change_the_books_did_not_record_is_caught_by_the_full_rescan() {
    for c in EVERY {
        let mut m = healthy();
        m.corrupt(c);
        // The next step starts: the corrupted entries are not among what it touched.
        m.begin_step();
        let full = m.check_invariants();
        let problem = full.clone().expect_err("a broken promise");
        assert_eq!(m.check_touched(), Ok(()), "{c:?}: only the rescan can see it");
        assert_eq!(m.check_step(super::FULL_RESCAN_EVERY * 3 - 1, false), Ok(()), "{c:?}");
        assert_eq!(m.check_step(super::FULL_RESCAN_EVERY * 3, false), full, "{c:?}: the periodic rescan");
        let debug = m.check_step(7, true).expect_err("a debug build checks everything");
        assert!(debug.starts_with(&problem) && debug.contains("did not record"), "{c:?}: {debug}");
    }
}

/// The rescan's period is the fixed floor for small books and grows with
/// them in powers of two, so a larger period's rescans fall on steps a
/// smaller one also rescanned.
#[test]
fn the_rescan_period_grows_with_the_books_in_powers_of_two() {
    use super::{FULL_RESCAN_EVERY, rescan_period_for};
    assert_eq!(healthy().rescan_period(), FULL_RESCAN_EVERY, "a small cluster: the floor");
    assert_eq!(rescan_period_for(0), FULL_RESCAN_EVERY);
    assert_eq!(rescan_period_for(1024), 1024);
    assert_eq!(rescan_period_for(1025), 2048);
    assert_eq!(rescan_period_for(10_100), 16_384, "10,000 agents, 100 frameworks");
    for n in [1usize, 999, 5000, 70_000, 1_000_000] {
        let (p, q) = (rescan_period_for(n), rescan_period_for(n * 2));
        assert!(p >= n as u64 && q.is_multiple_of(p), "{n}: {p}, {q}");
    }
}

/// A real step's records are enough: after the steps of the healthy setup
/// and of a decline, the touched check and the full check agree at each step.
#[test]
fn the_touched_check_agrees_with_the_full_check_on_real_steps() {
    let mut m = healthy();
    let decline = scheduler::Call {
        framework_id: Some(v1::FrameworkId { value: format!("{ID}-0001") }),
        r#type: Some(scheduler::call::Type::Decline as i32),
        decline: Some(scheduler::call::Decline {
            offer_ids: vec![v1::OfferId { value: format!("{ID}-O1") }],
            filters: None,
        }),
        ..Default::default()
    };
    msg(&mut m, SimTime::ZERO.after(Duration::from_secs(2)), "driver:b", decline);
    assert_eq!(m.check_touched(), Ok(()));
    assert!(m.offers_view().is_empty(), "declined");
    // The step touched the declined offer, its agent and its framework.
    assert!(m.offers.touched().keys().any(|o| *o == super::OfferNo(1)));
    assert_eq!(m.agents.touched().keys().count(), 1);
    assert_eq!(m.frameworks.touched().keys().collect::<Vec<_>>(), [&format!("{ID}-0001")]);
}
