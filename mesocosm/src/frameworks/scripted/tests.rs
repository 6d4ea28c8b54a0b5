//! The core's exact Calls for given inputs.

use super::*;
use crate::spark::DurationDist;
use mesocosm_sim::proto::Resources;
use mesocosm_sim::proto::mesos::v1::framework_info::capability::Type as CapabilityType;
use mesocosm_sim::proto::mesos::v1::{AgentId, FrameworkId, Offer, OfferId, TaskId, TaskState, TaskStatus};
use mesocosm_sim::proto::scheduler::{Call, Event, call, event};
use mesocosm_sim::{Actor, ActorId, Input, Msg, Output, SimTime};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::sync::Arc;
use std::time::Duration;

const MASTER: &str = "master";

fn group(name: &str, tasks: u32, cpus: f64) -> WorkGroup {
    let mut resources = Resources::scalar_of("cpus", cpus);
    resources.add_scalar("mem", 128.0);
    WorkGroup {
        name: name.into(),
        tasks,
        resources,
        duration: DurationDist::Fixed(Duration::from_secs(10)),
        exit: 0,
        fail_probability: 0.0,
        at: Duration::ZERO,
        every: Duration::ZERO,
        times: 1,
    }
}

fn core(spec: ScriptedSpec) -> Scripted {
    Scripted::new("fw", ActorId::new(MASTER), Arc::new(spec), ChaCha8Rng::seed_from_u64(7), None)
}

/// The Calls sent to the master among `outs`.
fn calls(outs: &[Output<ScriptedTimer>]) -> Vec<Call> {
    mesocosm_sim::calls_to(outs, MASTER)
}

fn types(outs: &[Output<ScriptedTimer>]) -> Vec<&'static str> {
    calls(outs).iter().map(|c| c.r#type().as_str_name()).collect()
}

fn ev(e: Event) -> Input<ScriptedTimer> {
    Input::Message { from: ActorId::new(MASTER), msg: Msg::from(e) }
}

fn subscribed() -> Input<ScriptedTimer> {
    ev(Event {
        r#type: Some(event::Type::Subscribed as i32),
        subscribed: Some(event::Subscribed {
            framework_id: FrameworkId { value: "F-0000".into() },
            heartbeat_interval_seconds: None,
            master_info: None,
        }),
        ..Default::default()
    })
}

fn offer(id: &str, cpus: f64) -> Offer {
    let mut r = Resources::scalar_of("cpus", cpus);
    r.add_scalar("mem", 4096.0);
    Offer {
        id: OfferId { value: id.into() },
        framework_id: FrameworkId { value: "F-0000".into() },
        agent_id: AgentId { value: "A-1".into() },
        hostname: "agent-1".into(),
        resources: r.to_protos(),
        ..Default::default()
    }
}

fn offers(o: Offer) -> Input<ScriptedTimer> {
    ev(Event {
        r#type: Some(event::Type::Offers as i32),
        offers: Some(event::Offers { offers: vec![o] }),
        ..Default::default()
    })
}

fn update(task: &str, state: TaskState, uuid: bool) -> Input<ScriptedTimer> {
    ev(Event {
        r#type: Some(event::Type::Update as i32),
        update: Some(event::Update {
            status: TaskStatus {
                task_id: TaskId { value: task.into() },
                state: state as i32,
                agent_id: Some(AgentId { value: "A-1".into() }),
                uuid: uuid.then(|| vec![1, 2, 3]),
                ..Default::default()
            },
        }),
        ..Default::default()
    })
}

fn t(s: u64) -> SimTime {
    SimTime::ZERO.after(Duration::from_secs(s))
}

/// Start, SUBSCRIBED and the first arrival of every group at 0 s.
fn started(spec: ScriptedSpec) -> (Scripted, Vec<Output<ScriptedTimer>>) {
    let groups = spec.work.len();
    let mut c = core(spec);
    let mut outs = c.step(t(0), Input::Start);
    outs.extend(c.step(t(0), subscribed()));
    for g in 0..groups {
        outs.extend(c.step(t(0), Input::Timer(ScriptedTimer::Arrive { group: g, wave: 0 })));
    }
    (c, outs)
}

#[test]
fn subscribes_with_the_framework_info_it_was_given() {
    let mut spec = ScriptedSpec::new();
    spec.info.roles = vec!["web".into(), "batch".into()];
    spec.info.capabilities = vec![CapabilityType::PartitionAware, CapabilityType::MultiRole];
    spec.info.checkpoint = true;
    spec.info.failover_timeout = Duration::from_secs(60);
    let outs = core(spec).step(t(0), Input::Start);
    let c = &calls(&outs)[0];
    assert_eq!(c.r#type(), call::Type::Subscribe);
    let info = &c.subscribe.as_ref().unwrap().framework_info;
    assert_eq!(info.roles, vec!["web".to_string(), "batch".to_string()]);
    assert_eq!(info.capabilities.len(), 2);
    assert_eq!(info.checkpoint, Some(true));
    assert_eq!(info.failover_timeout, Some(60.0));
    #[allow(deprecated)]
    let role = info.role.clone();
    assert_eq!(role, None, "a MULTI_ROLE framework sets `roles`, not `role`");
}

#[test]
fn launches_what_fits_and_refuses_the_rest_with_its_filter() {
    let mut spec = ScriptedSpec::new();
    spec.work = vec![group("w", 3, 1.0)];
    spec.offers = OfferPolicy::Launch { max_per_offer: None, refuse_seconds: 30.0, think: Duration::ZERO };
    let (mut c, _) = started(spec);
    let outs = c.step(t(1), offers(offer("O-1", 2.0)));
    let cs = calls(&outs);
    assert_eq!(types(&outs), ["ACCEPT"]);
    let a = cs[0].accept.as_ref().unwrap();
    let ids: Vec<&str> =
        a.operations[0].launch.as_ref().unwrap().task_infos.iter().map(|t| t.task_id.value.as_str()).collect();
    assert_eq!(ids, ["w-0", "w-1"]);
    assert_eq!(a.filters.as_ref().unwrap().refuse_seconds, Some(30.0));
    let cmd = a.operations[0].launch.as_ref().unwrap().task_infos[0].command.as_ref().unwrap().value.clone();
    assert_eq!(cmd.as_deref(), Some("sleep 10; exit 0"));
    // w-2 still pending: a 0.5-cpu offer cannot hold it → DECLINE with the filter.
    let outs = c.step(t(2), offers(offer("O-2", 0.5)));
    let cs = calls(&outs);
    assert_eq!(types(&outs), ["DECLINE"]);
    assert_eq!(cs[0].decline.as_ref().unwrap().filters.as_ref().unwrap().refuse_seconds, Some(30.0));
}

#[test]
fn at_most_n_per_offer() {
    let mut spec = ScriptedSpec::new();
    spec.work = vec![group("w", 3, 1.0)];
    spec.offers = OfferPolicy::Launch { max_per_offer: Some(1), refuse_seconds: 5.0, think: Duration::ZERO };
    let (mut c, _) = started(spec);
    let outs = c.step(t(1), offers(offer("O-1", 8.0)));
    let a = calls(&outs)[0].accept.clone().unwrap();
    assert_eq!(a.operations[0].launch.as_ref().unwrap().task_infos.len(), 1);
}

#[test]
fn suppresses_when_idle_and_revives_when_work_arrives() {
    let mut spec = ScriptedSpec::new();
    spec.suppress = true;
    let mut g = group("w", 1, 1.0);
    g.at = Duration::from_secs(30);
    spec.work = vec![g];
    spec.teardown = Teardown::Never;
    let mut c = core(spec);
    c.step(t(0), Input::Start);
    assert_eq!(types(&c.step(t(0), subscribed())), ["SUPPRESS"]);
    assert_eq!(types(&c.step(t(30), Input::Timer(ScriptedTimer::Arrive { group: 0, wave: 0 }))), ["REVIVE"]);
    // Launching the last pending task suppresses again.
    assert_eq!(types(&c.step(t(31), offers(offer("O-1", 4.0)))), ["ACCEPT", "SUPPRESS"]);
}

#[test]
fn ignore_never_answers_and_think_holds_the_offer() {
    let mut spec = ScriptedSpec::new();
    spec.work = vec![group("w", 1, 1.0)];
    spec.offers = OfferPolicy::Ignore;
    let (mut c, _) = started(spec.clone());
    assert!(calls(&c.step(t(1), offers(offer("O-1", 4.0)))).is_empty());

    spec.offers = OfferPolicy::Launch { max_per_offer: None, refuse_seconds: 5.0, think: Duration::from_secs(20) };
    let (mut c, _) = started(spec);
    let outs = c.step(t(1), offers(offer("O-1", 4.0)));
    assert!(calls(&outs).is_empty());
    let timer = outs.iter().find_map(|o| match o {
        Output::SetTimer { at, timer: ScriptedTimer::Answer(o) } => Some((*at, o.id.value.clone())),
        _ => None,
    });
    assert_eq!(timer, Some((t(21), "O-1".to_string())));
    assert_eq!(types(&c.step(t(21), Input::Timer(ScriptedTimer::Answer(Box::new(offer("O-1", 4.0)))))), ["ACCEPT"]);
}

#[test]
fn a_rescinded_held_offer_is_dropped_unless_rescinds_are_ignored() {
    for ignore in [false, true] {
        let mut spec = ScriptedSpec::new();
        spec.work = vec![group("w", 1, 1.0)];
        spec.offers = OfferPolicy::Launch { max_per_offer: None, refuse_seconds: 5.0, think: Duration::from_secs(20) };
        spec.ignore_rescind = ignore;
        let (mut c, _) = started(spec);
        c.step(t(1), offers(offer("O-1", 4.0)));
        c.step(
            t(5),
            ev(Event {
                r#type: Some(event::Type::Rescind as i32),
                rescind: Some(event::Rescind { offer_id: OfferId { value: "O-1".into() } }),
                ..Default::default()
            }),
        );
        let outs = c.step(t(21), Input::Timer(ScriptedTimer::Answer(Box::new(offer("O-1", 4.0)))));
        assert_eq!(types(&outs), if ignore { vec!["ACCEPT"] } else { vec![] }, "ignore_rescind = {ignore}");
    }
}

#[test]
fn acknowledges_updates_with_a_uuid_only_and_tears_down_when_done() {
    let mut spec = ScriptedSpec::new();
    spec.work = vec![group("w", 1, 1.0)];
    let (mut c, _) = started(spec);
    c.step(t(1), offers(offer("O-1", 4.0)));
    assert_eq!(types(&c.step(t(2), update("w-0", TaskState::TaskRunning, true))), ["ACKNOWLEDGE"]);
    // A reconciliation answer has no uuid: nothing to acknowledge.
    assert!(types(&c.step(t(3), update("w-0", TaskState::TaskRunning, false))).is_empty());
    let outs = c.step(t(12), update("w-0", TaskState::TaskFinished, true));
    assert_eq!(types(&outs), ["ACKNOWLEDGE", "TEARDOWN"]);
    assert!(outs.iter().any(|o| matches!(o, Output::Exit { status: 0 })));
}

#[test]
fn retries_with_new_or_same_ids_up_to_max() {
    for same in [false, true] {
        let mut spec = ScriptedSpec::new();
        spec.work = vec![group("w", 1, 1.0)];
        spec.retry = RetryPolicy { on: vec![TaskState::TaskLost], max: 1, same_id: same };
        let (mut c, _) = started(spec);
        c.step(t(1), offers(offer("O-1", 4.0)));
        c.step(t(2), update("w-0", TaskState::TaskLost, true));
        let outs = c.step(t(3), offers(offer("O-2", 4.0)));
        let a = calls(&outs)[0].accept.clone().unwrap();
        let id = a.operations[0].launch.as_ref().unwrap().task_infos[0].task_id.value.clone();
        let again = if same { "w-0" } else { "w-0.2" };
        assert_eq!(id, again);
        // The retry is lost too: no retries left, so the framework is done.
        let outs = c.step(t(4), update(again, TaskState::TaskLost, true));
        assert_eq!(types(&outs), ["ACKNOWLEDGE", "TEARDOWN"], "same = {same}");
    }
}

#[test]
fn reconciles_implicitly_and_explicitly_and_kills_by_id() {
    let mut spec = ScriptedSpec::new();
    spec.work = vec![group("w", 1, 1.0)];
    spec.reconcile = ReconcilePolicy {
        implicit_every: Some(Duration::from_secs(60)),
        explicit_every: Some(Duration::from_secs(30)),
        tasks: vec!["ghost".into()],
    };
    spec.kills = vec![(Duration::from_secs(40), "w-0".into())];
    let (mut c, _) = started(spec);
    c.step(t(1), offers(offer("O-1", 4.0)));
    let outs = c.step(t(30), Input::Timer(ScriptedTimer::ExplicitReconcile));
    let r = calls(&outs)[0].reconcile.clone().unwrap();
    let ids: Vec<&str> = r.tasks.iter().map(|t| t.task_id.value.as_str()).collect();
    assert_eq!(ids, ["w-0", "ghost"]);
    assert_eq!(r.tasks[0].agent_id.as_ref().map(|a| a.value.as_str()), Some("A-1"));
    let outs = c.step(t(60), Input::Timer(ScriptedTimer::ImplicitReconcile));
    assert!(calls(&outs)[0].reconcile.as_ref().unwrap().tasks.is_empty());
    let outs = c.step(t(40), Input::Timer(ScriptedTimer::Kill(0)));
    let k = calls(&outs)[0].kill.clone().unwrap();
    assert_eq!((k.task_id.value.as_str(), k.agent_id.map(|a| a.value)), ("w-0", Some("A-1".to_string())));
}

#[test]
fn resubscribes_with_its_framework_id_after_a_backoff_when_the_stream_breaks() {
    let mut spec = ScriptedSpec::new();
    spec.teardown = Teardown::Never;
    let mut c = core(spec);
    c.step(t(0), Input::Start);
    c.step(t(0), subscribed());
    let outs = c.step(t(10), Input::Disconnected { peer: ActorId::new(MASTER) });
    assert!(calls(&outs).is_empty());
    let (at, timer) = outs
        .iter()
        .find_map(|o| match o {
            Output::SetTimer { at, timer } => Some((*at, timer.clone())),
            _ => None,
        })
        .expect("a re-SUBSCRIBE timer");
    assert!(at >= t(10) && at <= t(12), "within the initial 2 s backoff: {at:?}");
    let outs = c.step(at, Input::Timer(timer));
    let cs = calls(&outs);
    assert_eq!(cs[0].r#type(), call::Type::Subscribe);
    assert_eq!(cs[0].framework_id.as_ref().map(|f| f.value.as_str()), Some("F-0000"));
}

#[test]
fn a_failed_over_instance_leaves_cleanly_and_other_errors_fail() {
    for (message, status) in [("Framework failed over", 0), ("Framework has been removed", 1)] {
        let mut c = core(ScriptedSpec::new());
        c.step(t(0), Input::Start);
        let outs = c.step(
            t(1),
            ev(Event {
                r#type: Some(event::Type::Error as i32),
                error: Some(event::Error { message: message.into() }),
                ..Default::default()
            }),
        );
        assert!(outs.iter().any(|o| matches!(o, Output::Exit { status: s } if *s == status)), "{message}");
    }
}
