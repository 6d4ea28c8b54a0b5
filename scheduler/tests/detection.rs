//! A framework given `zk://…/mesos`: the driver detects the leader in
//! ZooKeeper, SUBSCRIBEs to it, ignores events from any other master, and
//! SUBSCRIBEs again with its FrameworkID to a newly elected leader
//! (`SchedulerProcess::detected`, `src/sched/sched.cpp`). Exact outputs.

use mesocosm_proto::zk_codes::{err, event as zk_event, xid};
use mesocosm_proto::zookeeper::{
    ConnectResponse, GetChildren2Response, GetDataResponse, ReplyHeader, ServerReply, WatcherEvent,
};
use mesocosm_scheduler::{Context, DriverTimer, MasterUrl, MesosSchedulerDriver, Scheduler, framework};
use mesocosm_sim::proto::scheduler::{Event, event};
use mesocosm_sim::proto::v1::{FrameworkId, MasterInfo, Offer, OfferId, TaskStatus};
use mesocosm_sim::{Actor, ActorId, Input, Msg, Output, SimTime};
use mesocosm_zookeeper::{ZkConfig, master_info};
use std::time::Duration;

const ZK1: &str = "zookeeper-001";

/// Records every callback; declines every offer.
#[derive(Debug, Default)]
struct Recorder {
    seen: Vec<String>,
}

impl Scheduler for Recorder {
    type Timer = ();
    fn subscribed(&mut self, _: &mut Context<'_, ()>, id: &FrameworkId) {
        self.seen.push(format!("subscribed {}", id.value));
    }
    fn disconnected(&mut self, _: &mut Context<'_, ()>) {
        self.seen.push("disconnected".into());
    }
    fn offers(&mut self, ctx: &mut Context<'_, ()>, offers: Vec<Offer>) {
        for o in offers {
            self.seen.push(format!("offer {}", o.id.value));
            ctx.decline(&o, None);
        }
    }
    fn update(&mut self, _: &mut Context<'_, ()>, _: &TaskStatus) {}
}

type Driver = MesosSchedulerDriver<Recorder>;
type In = Input<DriverTimer<()>>;

fn at(ms: u64) -> SimTime {
    SimTime::from_duration(Duration::from_millis(ms))
}

fn zk_driver() -> Driver {
    let zk = ZkConfig {
        servers: vec![ActorId::new(ZK1)],
        path: "/mesos".into(),
        session_timeout: Duration::from_secs(10),
        first: 0,
    };
    MesosSchedulerDriver::new(MasterUrl::ZooKeeper(zk), framework("rec"), Recorder::default())
}

fn zk(xid: i32, e: i32, r: ServerReply) -> In {
    let header = Some(ReplyHeader { xid, zxid: 7, err: e });
    Input::Message { from: ActorId::new(ZK1), msg: Msg::ZkReply(Box::new(ServerReply { header, ..r })) }
}

fn leader_data(xid: i32, name: &str) -> In {
    let data = master_info::encode(&MasterInfo {
        id: format!("{name}-id"),
        port: 5050,
        pid: Some(format!("master@{name}:5050")),
        hostname: Some(name.into()),
        ..Default::default()
    });
    zk(xid, err::OK, ServerReply { get_data: Some(GetDataResponse { data, stat: None }), ..Default::default() })
}

fn children(xid: i32, names: &[&str]) -> In {
    let c = GetChildren2Response { children: names.iter().map(|s| s.to_string()).collect(), stat: None };
    zk(xid, err::OK, ServerReply { get_children2: Some(c), ..Default::default() })
}

/// The group changed: ZooKeeper's watch notification.
fn group_changed() -> In {
    let watch = ServerReply {
        header: Some(ReplyHeader { xid: xid::NOTIFICATION, zxid: -1, err: err::OK }),
        event: Some(WatcherEvent { r#type: zk_event::NODE_CHILDREN_CHANGED, state: 3, path: "/mesos".into() }),
        ..Default::default()
    };
    Input::Message { from: ActorId::new(ZK1), msg: Msg::ZkReply(Box::new(watch)) }
}

fn from(who: &str, e: Event) -> In {
    Input::Message { from: ActorId::new(who), msg: Msg::from(e) }
}

fn subscribed(id: &str) -> Event {
    Event {
        r#type: Some(event::Type::Subscribed as i32),
        subscribed: Some(event::Subscribed {
            framework_id: FrameworkId { value: id.into() },
            heartbeat_interval_seconds: Some(15.0),
            master_info: None,
        }),
        ..Default::default()
    }
}

fn offers(id: &str) -> Event {
    let o = Offer { id: OfferId { value: id.into() }, hostname: "agent-1".into(), ..Default::default() };
    Event {
        r#type: Some(event::Type::Offers as i32),
        offers: Some(event::Offers { offers: vec![o] }),
        ..Default::default()
    }
}

/// Every call sent, as (master, type, framework id).
fn calls(out: &[Output<DriverTimer<()>>]) -> Vec<(String, &'static str, Option<String>)> {
    out.iter()
        .filter_map(|o| match o {
            Output::Send { to, msg: Msg::SchedulerCall(c) } => {
                Some((to.to_string(), c.r#type().as_str_name(), c.framework_id.as_ref().map(|f| f.value.clone())))
            }
            _ => None,
        })
        .collect()
}

fn notes(out: &[Output<DriverTimer<()>>]) -> Vec<String> {
    out.iter()
        .filter_map(|o| match o {
            Output::Note(n) => Some(n.clone()),
            _ => None,
        })
        .collect()
}

/// A driver whose detector has a session and has named `leader`.
fn detected(leader: &str) -> (Driver, Vec<Output<DriverTimer<()>>>) {
    let mut d = zk_driver();
    let out = d.step(at(0), Input::Start);
    // No leader known: a ZooKeeper session opens, nothing goes to a master.
    assert_eq!(calls(&out), []);
    assert_eq!(d.master(), None);
    let connected = ServerReply {
        connect: Some(ConnectResponse { time_out: 10_000, session_id: 5, ..Default::default() }),
        ..Default::default()
    };
    d.step(at(0), Input::Message { from: ActorId::new(ZK1), msg: Msg::ZkReply(Box::new(connected)) });
    d.step(at(0), zk(1, err::NODE_EXISTS, ServerReply::default()));
    d.step(at(0), children(2, &["json.info_0000000000", "json.info_0000000001"]));
    let out = d.step(at(0), leader_data(3, leader));
    (d, out)
}

#[test]
fn a_detected_leader_is_subscribed_to_at_once() {
    let (d, out) = detected("master-1");
    assert_eq!(notes(&out), ["New master detected at master@master-1:5050"]);
    // libmesos's `detected` calls doReliableRegistration straight away.
    assert_eq!(calls(&out), [("master-1".to_string(), "SUBSCRIBE", None)]);
    assert_eq!(d.master(), Some(&ActorId::new("master-1")));
    let timers: Vec<_> = out
        .iter()
        .filter_map(|o| match o {
            Output::SetTimer { at, timer: DriverTimer::Registration { round } } => Some((*at, *round)),
            _ => None,
        })
        .collect();
    assert_eq!(timers, [(at(2000), 1)]);
}

#[test]
fn events_from_a_master_that_is_not_the_leader_are_ignored() {
    let (mut d, _) = detected("master-1");
    let out = d.step(at(100), from("master-2", subscribed("fw-1")));
    assert_eq!(notes(&out), ["SUBSCRIBED from master-2 ignored: not the leading master (master-1)"]);
    assert!(!d.connected());
    d.step(at(100), from("master-1", subscribed("fw-1")));
    assert!(d.connected());
    // A deposed leader's offer never reaches the scheduler (the split brain).
    let out = d.step(at(200), from("master-2", offers("o-1")));
    assert_eq!(notes(&out), ["OFFERS from master-2 ignored: not the leading master (master-1)"]);
    assert_eq!(calls(&out), []);
    d.step(at(300), from("master-1", offers("o-2")));
    assert_eq!(d.scheduler().seen, ["subscribed fw-1", "offer o-2"]);
}

#[test]
fn a_new_leader_gets_subscribe_with_the_framework_id() {
    let (mut d, _) = detected("master-1");
    d.step(at(100), from("master-1", subscribed("fw-1")));
    // master-1's node goes; the group names master-2.
    d.step(at(20_000), group_changed());
    d.step(at(20_000), children(4, &["json.info_0000000001"]));
    let out = d.step(at(20_000), leader_data(5, "master-2"));
    assert_eq!(notes(&out), ["New master detected at master@master-2:5050"]);
    // The same framework fails over to the new master: SUBSCRIBE with its id.
    assert_eq!(calls(&out), [("master-2".to_string(), "SUBSCRIBE", Some("fw-1".to_string()))]);
    assert!(!d.connected());
    d.step(at(20_100), from("master-2", subscribed("fw-1")));
    assert!(d.connected());
    assert_eq!(d.scheduler().seen, ["subscribed fw-1", "disconnected", "subscribed fw-1"]);
    // Calls now go to the new leader.
    let out = d.step(at(21_000), from("master-2", offers("o-9")));
    assert_eq!(calls(&out), [("master-2".to_string(), "DECLINE", Some("fw-1".to_string()))]);
}

#[test]
fn with_no_leader_the_driver_waits_and_retries_nothing() {
    let (mut d, _) = detected("master-1");
    d.step(at(100), from("master-1", subscribed("fw-1")));
    d.step(at(20_000), group_changed());
    let out = d.step(at(20_000), children(4, &[]));
    assert_eq!(notes(&out), ["No master detected: the driver waits for one before SUBSCRIBE"]);
    assert_eq!(calls(&out), []);
    assert_eq!(d.master(), None);
    assert_eq!(d.scheduler().seen, ["subscribed fw-1", "disconnected"]);
    // The current registration round's retry finds no master: nothing is sent.
    let out = d.step(at(22_000), Input::Timer(DriverTimer::Registration { round: 3 }));
    assert_eq!(notes(&out), ["no SUBSCRIBED yet: SUBSCRIBE again (libmesos retry backoff)"]);
    assert_eq!(calls(&out), []);
    // The old leader's events are ignored while no master is known.
    let out = d.step(at(23_000), from("master-1", offers("o-3")));
    assert_eq!(notes(&out), ["OFFERS from master-1 ignored: not the leading master (none)"]);
}

#[test]
fn a_fixed_master_is_subscribed_to_at_start_with_no_session() {
    let mut d = MesosSchedulerDriver::new("master", framework("rec"), Recorder::default());
    let out = d.step(at(0), Input::Start);
    assert_eq!(calls(&out), [("master".to_string(), "SUBSCRIBE", None)]);
    assert!(!out.iter().any(|o| matches!(o, Output::SetTimer { timer: DriverTimer::ZooKeeper, .. })));
    // A scheduler event from anyone else is not the master's.
    let out = d.step(at(1), from("master-x", subscribed("fw-1")));
    assert_eq!(notes(&out), ["SUBSCRIBED from master-x ignored: not the leading master (master)"]);
}
