//! A driver submitted with `--master mesos://zk://…`: libmesos's detector
//! finds the leader in ZooKeeper, SUBSCRIBEs to it, ignores events from any
//! other master, and SUBSCRIBEs with its FrameworkID to a newly elected
//! leader (`SchedulerProcess::detected`, `src/sched/sched.cpp`).

mod common;

use common::*;
use mesocosm_driver::{DriverTimer, SparkDriver};
use mesocosm_proto::zk_codes::{err, event as zk_event, xid};
use mesocosm_proto::zookeeper::{
    ConnectResponse, GetChildren2Response, GetDataResponse, ReplyHeader, ServerReply, WatcherEvent,
};
use mesocosm_sim::proto::scheduler::{Event, event};
use mesocosm_sim::proto::v1::MasterInfo;
use mesocosm_sim::{Actor, ActorId, Input, Msg, Output, SimTime};
use mesocosm_zookeeper::{ZkConfig, master_info};
use std::time::Duration;

const ZK1: &str = "zookeeper-001";

fn zk(xid: i32, e: i32, r: ServerReply) -> Input<DriverTimer> {
    let header = Some(ReplyHeader { xid, zxid: 7, err: e });
    Input::Message { from: ActorId::new(ZK1), msg: Msg::ZkReply(Box::new(ServerReply { header, ..r })) }
}

fn leader_data(xid: i32, name: &str) -> Input<DriverTimer> {
    let data = master_info::encode(&MasterInfo {
        id: format!("{name}-id"),
        port: 5050,
        pid: Some(format!("master@{name}:5050")),
        hostname: Some(name.into()),
        ..Default::default()
    });
    zk(xid, err::OK, ServerReply { get_data: Some(GetDataResponse { data, stat: None }), ..Default::default() })
}

fn children(xid: i32, names: &[&str]) -> Input<DriverTimer> {
    let c = GetChildren2Response { children: names.iter().map(|s| s.to_string()).collect(), stat: None };
    zk(xid, err::OK, ServerReply { get_children2: Some(c), ..Default::default() })
}

fn subscribed_from(who: &str) -> Input<DriverTimer> {
    let e = Event {
        r#type: Some(event::Type::Subscribed as i32),
        subscribed: Some(event::Subscribed {
            framework_id: framework_id(),
            heartbeat_interval_seconds: Some(15.0),
            master_info: None,
        }),
        ..Default::default()
    };
    Input::Message { from: ActorId::new(who), msg: Msg::from(e) }
}

/// Where each SUBSCRIBE went.
fn subscribes(outs: &[Output<DriverTimer>]) -> Vec<(String, mesocosm_sim::proto::scheduler::Call)> {
    outs.iter()
        .filter_map(|o| match o {
            Output::Send { to, msg: Msg::SchedulerCall(c) } => Some((to.to_string(), (**c).clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn a_driver_subscribes_to_the_detected_leader_and_again_to_a_new_one() {
    let mut cfg = config(settings(), one_stage(2));
    cfg.zk = Some(ZkConfig {
        servers: vec![ActorId::new(ZK1)],
        path: "/mesos".into(),
        session_timeout: Duration::from_secs(10),
        first: 0,
    });
    let mut d = SparkDriver::new(cfg);
    let outs = d.step(SimTime::ZERO, Input::Start);
    // No leader known: a ZooKeeper session, no SUBSCRIBE.
    assert_eq!(subscribes(&outs), []);
    assert_eq!(d.master(), None);
    let connected = ServerReply {
        connect: Some(ConnectResponse { time_out: 10_000, session_id: 5, ..Default::default() }),
        ..Default::default()
    };
    d.step(SimTime::ZERO, Input::Message { from: ActorId::new(ZK1), msg: Msg::ZkReply(Box::new(connected)) });
    d.step(SimTime::ZERO, zk(1, err::NODE_EXISTS, ServerReply::default()));
    d.step(SimTime::ZERO, children(2, &["json.info_0000000000", "json.info_0000000001"]));
    let outs = d.step(SimTime::ZERO, leader_data(3, "master-1"));
    assert_eq!(notes(&outs), ["New master detected at master@master-1:5050"]);
    assert_eq!(d.master(), Some(&ActorId::new("master-1")));
    let timer = |round| Input::Timer(DriverTimer::ReliableRegistration { round });
    let outs = d.step(at(2.0), timer(1));
    assert_eq!(subscribes(&outs), [("master-1".to_string(), subscribe_call(None))]);
    // SUBSCRIBED from the backup is not from the leading master.
    let outs = d.step(at(2.1), subscribed_from("master-2"));
    assert_eq!(notes(&outs), ["SUBSCRIBED from master-2 ignored: not the leading master (master-1)"]);
    assert!(!d.connected());
    d.step(at(2.1), subscribed_from("master-1"));
    assert!(d.connected());
    // master-1's node goes; the group names master-2.
    let watch = ServerReply {
        header: Some(ReplyHeader { xid: xid::NOTIFICATION, zxid: -1, err: err::OK }),
        event: Some(WatcherEvent { r#type: zk_event::NODE_CHILDREN_CHANGED, state: 3, path: "/mesos".into() }),
        ..Default::default()
    };
    d.step(at(20.0), Input::Message { from: ActorId::new(ZK1), msg: Msg::ZkReply(Box::new(watch)) });
    d.step(at(20.0), children(4, &["json.info_0000000001"]));
    let outs = d.step(at(20.0), leader_data(5, "master-2"));
    assert_eq!(
        notes(&outs),
        [
            "libmesos lost its master: Spark's disconnected() only logs; executors keep running tasks",
            "New master detected at master@master-2:5050"
        ]
    );
    assert!(!d.connected());
    // The same framework subscribes to the new leader, which answers SUBSCRIBED
    // (`registered` in the v0 driver).
    let round = outs
        .iter()
        .find_map(|o| match o {
            Output::SetTimer { timer: DriverTimer::ReliableRegistration { round }, .. } => Some(*round),
            _ => None,
        })
        .expect("a registration timer");
    let outs = d.step(at(22.0), timer(round));
    assert_eq!(subscribes(&outs), [("master-2".to_string(), subscribe_call(Some(framework_id())))]);
    let outs = d.step(at(22.1), subscribed_from("master-2"));
    assert!(d.connected());
    assert_eq!(notes(&outs)[0], format!("re-registered with Mesos as framework {}", fid()));
}

/// The driver's own ZooKeeper session ends (no server answered for a whole
/// session timeout, `GroupProcess::timedout`): its detector reports no leader
/// instead of the master it last saw (`GroupProcess::expired` empties the
/// memberships), so libmesos calls `disconnected()` and waits for a leader on
/// a new session rather than SUBSCRIBing to a master nobody vouches for.
#[test]
fn a_driver_whose_session_expires_detects_no_leader() {
    let mut cfg = config(settings(), one_stage(2));
    cfg.zk = Some(ZkConfig {
        servers: vec![ActorId::new(ZK1)],
        path: "/mesos".into(),
        session_timeout: Duration::from_secs(10),
        first: 0,
    });
    let mut d = SparkDriver::new(cfg);
    d.step(SimTime::ZERO, Input::Start);
    let connected = ServerReply {
        connect: Some(ConnectResponse { time_out: 10_000, session_id: 5, ..Default::default() }),
        ..Default::default()
    };
    d.step(SimTime::ZERO, Input::Message { from: ActorId::new(ZK1), msg: Msg::ZkReply(Box::new(connected)) });
    d.step(SimTime::ZERO, zk(1, err::NODE_EXISTS, ServerReply::default()));
    d.step(SimTime::ZERO, children(2, &["json.info_0000000000"]));
    d.step(SimTime::ZERO, leader_data(3, "master-1"));
    d.step(at(2.0), Input::Timer(DriverTimer::ReliableRegistration { round: 1 }));
    d.step(at(2.1), subscribed_from("master-1"));
    assert!(d.connected());
    d.step(at(3.0), Input::Disconnected { peer: ActorId::new(ZK1) });
    for s in 4..13 {
        d.step(at(s as f64), Input::Timer(DriverTimer::ZooKeeper));
        assert_eq!(d.master(), Some(&ActorId::new("master-1")), "at {s}s");
    }
    let outs = d.step(at(13.0), Input::Timer(DriverTimer::ZooKeeper));
    assert_eq!(d.master(), None);
    assert!(!d.connected());
    assert_eq!(
        notes(&outs),
        [
            "ZooKeeper session 0x5 treated as expired: disconnected for the 10s session timeout (Group::timedout)",
            "libmesos lost its master: Spark's disconnected() only logs; executors keep running tasks",
            "No master detected: libmesos waits for one before SUBSCRIBE",
        ]
    );
}
