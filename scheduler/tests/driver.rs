//! Exact-output step tests of [`MesosSchedulerDriver`]: what goes to the
//! master, and what reaches the scheduler, for each input.

use mesocosm_scheduler::{Context, DriverTimer, MesosSchedulerDriver, Scheduler, framework, offered, task};
use mesocosm_sim::proto::Resources;
use mesocosm_sim::proto::scheduler::{Call, Event, call, event};
use mesocosm_sim::proto::v1::{AgentId, FrameworkId, Offer, OfferId, TaskId, TaskState, TaskStatus};
use mesocosm_sim::{Actor, ActorId, Input, Msg, Output, SimTime};
use std::time::Duration;

/// Records every callback, launches one 1-cpu task per offer, stops when a task finishes.
#[derive(Debug, Default)]
struct Recorder {
    seen: Vec<String>,
}

impl Scheduler for Recorder {
    type Timer = &'static str;
    fn subscribed(&mut self, ctx: &mut Context<'_, Self::Timer>, id: &FrameworkId) {
        self.seen.push(format!("subscribed {}", id.value));
        ctx.set_timer(Duration::from_secs(5), "tick");
    }
    fn disconnected(&mut self, _: &mut Context<'_, Self::Timer>) {
        self.seen.push("disconnected".into());
    }
    fn offers(&mut self, ctx: &mut Context<'_, Self::Timer>, offers: Vec<Offer>) {
        for o in offers {
            self.seen.push(format!("offer {}", o.id.value));
            let need = Resources::scalar_of("cpus", 1.0);
            if offered(&o).contains(&need) {
                ctx.accept(&o, vec![task(&format!("t-{}", o.id.value), &o, &need, "sleep 1")]);
            } else {
                ctx.decline(&o, Some(30.0));
            }
        }
    }
    fn update(&mut self, ctx: &mut Context<'_, Self::Timer>, s: &TaskStatus) {
        self.seen.push(format!("update {} {}", s.task_id.value, s.state().as_str_name()));
        if s.state() == TaskState::TaskFinished {
            ctx.stop(0);
        }
    }
    fn timer(&mut self, ctx: &mut Context<'_, Self::Timer>, t: Self::Timer) {
        self.seen.push(format!("timer {t}"));
        ctx.suppress();
    }
}

type Driver = MesosSchedulerDriver<Recorder>;

fn driver() -> Driver {
    MesosSchedulerDriver::new("master", framework("rec"), Recorder::default())
}

fn at(s: u64) -> SimTime {
    SimTime::from_secs(s)
}

fn from_master<T>(e: Event) -> Input<DriverTimer<T>> {
    Input::Message { from: ActorId::new("master"), msg: Msg::from(e) }
}

fn ev(kind: event::Type) -> Event {
    Event { r#type: Some(kind as i32), ..Default::default() }
}

fn subscribed(id: &str) -> Event {
    let framework_id = FrameworkId { value: id.into() };
    Event {
        subscribed: Some(event::Subscribed { framework_id, heartbeat_interval_seconds: Some(15.0), master_info: None }),
        ..ev(event::Type::Subscribed)
    }
}

fn offer(id: &str, cpus: f64) -> Offer {
    Offer {
        id: OfferId { value: id.into() },
        agent_id: AgentId { value: "S1".into() },
        hostname: "agent-1".into(),
        resources: Resources::scalar_of("cpus", cpus).to_protos(),
        ..Default::default()
    }
}

fn offers(list: Vec<Offer>) -> Event {
    Event { offers: Some(event::Offers { offers: list }), ..ev(event::Type::Offers) }
}

fn update(task: &str, state: TaskState, uuid: Option<&[u8]>) -> Event {
    let status = TaskStatus {
        task_id: TaskId { value: task.into() },
        state: state as i32,
        agent_id: Some(AgentId { value: "S1".into() }),
        uuid: uuid.map(<[u8]>::to_vec),
        ..Default::default()
    };
    Event { update: Some(event::Update { status }), ..ev(event::Type::Update) }
}

/// The calls sent to the master.
fn calls<T>(out: &[Output<DriverTimer<T>>]) -> Vec<Call> {
    mesocosm_sim::sent_to(out, "master")
        .into_iter()
        .map(|m| match m {
            Msg::SchedulerCall(c) => *c,
            other => panic!("not a call: {other:?}"),
        })
        .collect()
}

fn kinds<T>(out: &[Output<DriverTimer<T>>]) -> Vec<&'static str> {
    calls(out).iter().map(|c| c.r#type().as_str_name()).collect()
}

fn timers(out: &[Output<DriverTimer<&'static str>>]) -> Vec<(SimTime, DriverTimer<&'static str>)> {
    out.iter()
        .filter_map(|o| match o {
            Output::SetTimer { at, timer } => Some((*at, timer.clone())),
            _ => None,
        })
        .collect()
}

fn subscribed_driver() -> Driver {
    let mut d = driver();
    d.step(at(0), Input::Start);
    d.step(at(1), from_master(subscribed("fw-1")));
    d
}

#[test]
fn subscribe_is_retried_with_a_doubling_backoff_until_subscribed() {
    let mut d = driver();
    let out = d.step(at(0), Input::Start);
    let sent = calls(&out);
    assert_eq!(kinds(&out), ["SUBSCRIBE"]);
    assert_eq!(sent[0].framework_id, None, "a new framework has no id yet");
    assert_eq!(sent[0].subscribe.as_ref().unwrap().framework_info.name, "rec");
    assert_eq!(timers(&out), [(at(2), DriverTimer::Registration { round: 0 })]);

    let out = d.step(at(2), Input::Timer(DriverTimer::Registration { round: 0 }));
    assert_eq!(kinds(&out), ["SUBSCRIBE"]);
    assert_eq!(timers(&out), [(at(6), DriverTimer::Registration { round: 0 })], "the bound doubled to 4 s");

    let out = d.step(at(3), from_master(subscribed("fw-1")));
    assert!(calls(&out).is_empty());
    assert_eq!(timers(&out), [(at(8), DriverTimer::Scheduler("tick"))], "the scheduler's own timer");
    assert!(d.connected());
    assert_eq!(d.scheduler().seen, ["subscribed fw-1"]);

    // The retry timer of the finished round does nothing; a second SUBSCRIBED is ignored.
    assert!(d.step(at(6), Input::Timer(DriverTimer::Registration { round: 0 })).iter().all(is_note));
    assert!(d.step(at(6), from_master(subscribed("fw-1"))).iter().all(is_note));
    assert_eq!(d.scheduler().seen, ["subscribed fw-1"]);
}

fn is_note<T>(o: &Output<T>) -> bool {
    matches!(o, Output::Note(_))
}

#[test]
fn the_backoff_is_capped_at_a_tenth_of_a_positive_failover_timeout() {
    let mut info = framework("rec");
    info.failover_timeout = Some(10.0);
    let mut d = MesosSchedulerDriver::new("master", info, Recorder::default());
    let out = d.step(at(0), Input::Start);
    assert_eq!(timers(&out), [(at(1), DriverTimer::Registration { round: 0 })]);
}

#[test]
fn calls_carry_the_framework_id_and_updates_with_a_uuid_are_acknowledged_after_the_callback() {
    let mut d = subscribed_driver();
    let out = d.step(at(2), from_master(offers(vec![offer("o1", 2.0), offer("o2", 0.5)])));
    let sent = calls(&out);
    assert_eq!(kinds(&out), ["ACCEPT", "DECLINE"]);
    assert!(sent.iter().all(|c| c.framework_id.as_ref().unwrap().value == "fw-1"));
    let launched = &sent[0].accept.as_ref().unwrap().operations[0].launch.as_ref().unwrap().task_infos;
    assert_eq!(launched[0].task_id.value, "t-o1");
    assert_eq!(launched[0].agent_id.value, "S1");
    assert_eq!(sent[1].decline.as_ref().unwrap().filters.unwrap().refuse_seconds, Some(30.0));

    let out = d.step(at(3), from_master(update("t-o1", TaskState::TaskRunning, Some(b"u1"))));
    let ack = &calls(&out)[0];
    assert_eq!(ack.r#type(), call::Type::Acknowledge);
    let a = ack.acknowledge.as_ref().unwrap();
    assert_eq!((a.task_id.value.as_str(), a.agent_id.value.as_str(), a.uuid.as_slice()), ("t-o1", "S1", &b"u1"[..]));

    // A reconciliation answer carries no uuid: nothing to acknowledge.
    let out = d.step(at(4), from_master(update("t-x", TaskState::TaskLost, None)));
    assert!(calls(&out).is_empty());
    assert_eq!(d.scheduler().seen[3..], ["update t-o1 TASK_RUNNING", "update t-x TASK_LOST"]);
}

#[test]
fn stop_tears_the_framework_down_after_the_callbacks_calls_and_the_acknowledgement_is_not_sent() {
    let mut d = subscribed_driver();
    let out = d.step(at(5), from_master(update("t-o1", TaskState::TaskFinished, Some(b"u2"))));
    assert_eq!(kinds(&out), ["TEARDOWN"]);
    assert_eq!(out.last(), Some(&Output::Exit { status: 0 }));
    assert!(d.step(at(6), from_master(offers(vec![offer("o3", 1.0)]))).is_empty(), "an exited process gets nothing");
}

#[test]
fn a_disconnection_drops_events_and_calls_turns_launches_into_task_lost_and_resubscribes_with_the_id() {
    let mut d = subscribed_driver();
    let out = d.step(at(10), Input::Disconnected { peer: ActorId::new("master") });
    assert_eq!(timers(&out), [(at(12), DriverTimer::Registration { round: 2 })]);
    assert!(!d.connected());

    // Events that race the disconnection are dropped, unseen by the scheduler.
    d.step(at(11), from_master(offers(vec![offer("late", 1.0)])));
    // The scheduler's timer still fires; its SUPPRESS is dropped.
    let out = d.step(at(11), Input::Timer(DriverTimer::Scheduler("tick")));
    assert!(calls(&out).is_empty());
    assert_eq!(d.scheduler().seen[1..], ["disconnected", "timer tick"]);

    let out = d.step(at(12), Input::Timer(DriverTimer::Registration { round: 2 }));
    let sent = calls(&out);
    assert_eq!(kinds(&out), ["SUBSCRIBE"]);
    assert_eq!(sent[0].framework_id.as_ref().unwrap().value, "fw-1", "re-SUBSCRIBE as the same framework");
    assert_eq!(sent[0].subscribe.as_ref().unwrap().framework_info.id, sent[0].framework_id);
}

#[test]
fn a_launch_made_while_disconnected_comes_back_as_task_lost_master_disconnected() {
    /// Accepts every offer with one task, even one it got long ago.
    #[derive(Debug, Default)]
    struct Late {
        held: Vec<Offer>,
        lost: Vec<String>,
    }
    impl Scheduler for Late {
        type Timer = ();
        fn offers(&mut self, _: &mut Context<'_, ()>, offers: Vec<Offer>) {
            self.held.extend(offers);
        }
        fn update(&mut self, _: &mut Context<'_, ()>, s: &TaskStatus) {
            self.lost.push(format!("{} {} {}", s.task_id.value, s.state().as_str_name(), s.message()));
        }
        fn timer(&mut self, ctx: &mut Context<'_, ()>, _: ()) {
            for o in self.held.drain(..) {
                let t = task("t1", &o, &offered(&o), "sleep 1");
                ctx.accept(&o, vec![t]);
            }
        }
    }
    let mut d = MesosSchedulerDriver::new("master", framework("late"), Late::default());
    d.step(at(0), Input::Start);
    d.step(at(1), from_master(subscribed("fw-2")));
    d.step(at(2), from_master(offers(vec![offer("o1", 1.0)])));
    d.step(at(3), Input::Disconnected { peer: ActorId::new("master") });
    let out = d.step(at(4), Input::Timer(DriverTimer::Scheduler(())));
    assert!(calls(&out).is_empty(), "nothing reaches the master");
    assert_eq!(d.scheduler().lost, ["t1 TASK_LOST Master disconnected"]);
}

#[test]
fn error_aborts_the_driver_and_the_default_callback_exits_1_without_teardown() {
    let mut d = subscribed_driver();
    let e =
        Event { error: Some(event::Error { message: "Framework has been removed".into() }), ..ev(event::Type::Error) };
    let out = d.step(at(20), from_master(e));
    assert!(calls(&out).is_empty());
    assert_eq!(out.last(), Some(&Output::Exit { status: 1 }));
}

#[test]
fn heartbeats_are_consumed_by_the_driver_and_offers_before_subscribed_are_dropped() {
    let mut d = driver();
    d.step(at(0), Input::Start);
    assert!(d.step(at(1), from_master(offers(vec![offer("o1", 1.0)]))).iter().all(is_note));
    let mut d = subscribed_driver();
    assert!(d.step(at(1), from_master(ev(event::Type::Heartbeat))).is_empty());
    assert_eq!(d.scheduler().seen, ["subscribed fw-1"]);
}

#[test]
fn every_context_call_is_sent_in_order_with_its_fields_and_exit_skips_the_teardown() {
    /// On its timer: every call the Context offers, then exit 3 without TEARDOWN.
    #[derive(Debug)]
    struct All;
    impl Scheduler for All {
        type Timer = ();
        fn offers(&mut self, _: &mut Context<'_, ()>, _: Vec<Offer>) {}
        fn update(&mut self, _: &mut Context<'_, ()>, _: &TaskStatus) {}
        fn subscribed(&mut self, ctx: &mut Context<'_, ()>, _: &FrameworkId) {
            ctx.set_timer(Duration::from_secs(1), ());
        }
        fn timer(&mut self, ctx: &mut Context<'_, ()>, _: ()) {
            let (t, a) = (TaskId { value: "t1".into() }, AgentId { value: "S1".into() });
            ctx.suppress();
            ctx.revive();
            ctx.kill(&t, Some(&a));
            ctx.reconcile([(t, Some(a))]);
            ctx.reconcile([]);
            ctx.exit(3);
        }
    }
    let mut d = MesosSchedulerDriver::new("master", framework("all"), All);
    d.step(at(0), Input::Start);
    d.step(at(1), from_master(subscribed("fw-3")));
    let out = d.step(at(2), Input::Timer(DriverTimer::Scheduler(())));
    assert_eq!(kinds(&out), ["SUPPRESS", "REVIVE", "KILL", "RECONCILE", "RECONCILE"]);
    let sent = calls(&out);
    assert_eq!(sent[2].kill.as_ref().unwrap().agent_id.as_ref().unwrap().value, "S1");
    let explicit = &sent[3].reconcile.as_ref().unwrap().tasks;
    assert_eq!((explicit.len(), explicit[0].task_id.value.as_str()), (1, "t1"));
    assert!(sent[4].reconcile.as_ref().unwrap().tasks.is_empty(), "implicit reconciliation names no task");
    assert_eq!(out.last(), Some(&Output::Exit { status: 3 }));
}
