//! An agent started with `--master=zk://…`: it finds the leader through its
//! ZooKeeper detector, registers with it, ignores any other master, and
//! re-registers when the group names a new leader (`Slave::detected`).

use mesocosm_agent::{Agent, AgentConfig, Timer};
use mesocosm_proto::zk_codes::{err, event, op, xid};
use mesocosm_proto::zookeeper::{
    ClientRequest, ConnectRequest, ConnectResponse, GetChildren2Request, GetChildren2Response, GetDataRequest,
    GetDataResponse, ReplyHeader, RequestHeader, ServerReply, WatcherEvent,
};
use mesocosm_sim::proto::internal;
use mesocosm_sim::proto::mesos::v1::{AgentId, MasterInfo};
use mesocosm_sim::{Actor, ActorId, Input, Msg, Output, SimTime};
use mesocosm_zookeeper::{ZkConfig, master_info};
use std::time::Duration;

const ZK1: &str = "zookeeper-001";

fn cfg() -> AgentConfig {
    AgentConfig {
        me: ActorId::new("agent-1"),
        master: ActorId::new("unused"),
        resources: mesocosm_sim::proto::Resources::scalar_of("cpus", 4.0).to_protos(),
        attributes: vec![],
        port: 5051,
        registration_delay: Duration::from_millis(300),
        version: "1.11.0".into(),
        recovered_id: None,
        backoff_seed: 0,
        containers: Default::default(),
        zk: Some(ZkConfig {
            servers: vec![ActorId::new(ZK1)],
            path: "/mesos".into(),
            session_timeout: Duration::from_secs(10),
            first: 0,
        }),
    }
}

fn quiet(out: &[Output<Timer>]) -> Vec<Output<Timer>> {
    out.iter().filter(|o| !matches!(o, Output::Note(_))).cloned().collect()
}

fn notes(out: &[Output<Timer>]) -> Vec<String> {
    out.iter().filter_map(|o| if let Output::Note(n) = o { Some(n.clone()) } else { None }).collect()
}

fn to_zk(xid: i32, ty: i32, r: ClientRequest) -> Output<Timer> {
    Output::Send {
        to: ActorId::new(ZK1),
        msg: ClientRequest { header: Some(RequestHeader { xid, r#type: ty }), ..r }.into(),
    }
}

fn zk(xid: i32, e: i32, r: ServerReply) -> Input<Timer> {
    let header = Some(ReplyHeader { xid, zxid: 7, err: e });
    Input::Message { from: ActorId::new(ZK1), msg: Msg::ZkReply(Box::new(ServerReply { header, ..r })) }
}

fn info(name: &str) -> Vec<u8> {
    master_info::encode(&MasterInfo {
        id: format!("{name}-id"),
        port: 5050,
        pid: Some(format!("master@{name}:5050")),
        hostname: Some(name.into()),
        ..Default::default()
    })
}

fn children(xid: i32, names: &[&str]) -> Input<Timer> {
    let c = GetChildren2Response { children: names.iter().map(|s| s.to_string()).collect(), stat: None };
    zk(xid, err::OK, ServerReply { get_children2: Some(c), ..Default::default() })
}

fn data(xid: i32, d: Vec<u8>) -> Input<Timer> {
    zk(xid, err::OK, ServerReply { get_data: Some(GetDataResponse { data: d, stat: None }), ..Default::default() })
}

fn list(xid: i32) -> Output<Timer> {
    let l = GetChildren2Request { path: "/mesos".into(), watch: true };
    to_zk(xid, op::GET_CHILDREN2, ClientRequest { get_children2: Some(l), ..Default::default() })
}

fn read(xid: i32, node: &str) -> Output<Timer> {
    let r = GetDataRequest { path: format!("/mesos/{node}"), watch: false };
    to_zk(xid, op::GET_DATA, ClientRequest { get_data: Some(r), ..Default::default() })
}

fn register_timer(at_ms: u64, epoch: u64) -> Output<Timer> {
    Output::SetTimer {
        at: SimTime::ZERO.after(Duration::from_millis(at_ms)),
        timer: Timer::Register { backoff: Duration::from_secs(2), epoch },
    }
}

#[test]
fn an_agent_registers_with_the_detected_leader_ignores_others_and_follows_a_new_leader() {
    let mut a = Agent::new(cfg());
    let t0 = SimTime::ZERO;
    // No master yet: a session, and no registration timer.
    let connect = ClientRequest {
        connect: Some(ConnectRequest { time_out: 10_000, ..Default::default() }),
        ..Default::default()
    };
    assert_eq!(
        quiet(&a.step(t0, Input::Start)),
        [
            Output::SetTimer { at: SimTime::from_secs(1), timer: Timer::ZooKeeper },
            Output::Send { to: ActorId::new(ZK1), msg: connect.into() },
        ]
    );
    assert_eq!(a.detected_master(), None);
    let connected = ServerReply {
        connect: Some(ConnectResponse { time_out: 10_000, session_id: 9, ..Default::default() }),
        ..Default::default()
    };
    let from = ActorId::new(ZK1);
    // A detector also makes sure the group's path exists, then lists it.
    let outs = a.step(t0, Input::Message { from, msg: Msg::ZkReply(Box::new(connected)) });
    assert_eq!(quiet(&outs).len(), 1);
    assert_eq!(quiet(&a.step(t0, zk(1, err::NODE_EXISTS, ServerReply::default()))), [list(2)]);
    assert_eq!(
        quiet(&a.step(t0, children(2, &["json.info_0000000001", "json.info_0000000000"]))),
        [read(3, "json.info_0000000000")]
    );
    let outs = a.step(t0, data(3, info("master-1")));
    assert_eq!(notes(&outs), ["New master detected at master@master-1:5050"]);
    assert_eq!(quiet(&outs), [register_timer(300, 1)]);
    assert_eq!(a.detected_master(), Some(&ActorId::new("master-1")));
    let outs = a.step(SimTime(300_000), Input::Timer(Timer::Register { backoff: Duration::from_secs(2), epoch: 1 }));
    assert!(matches!(&quiet(&outs)[0], Output::Send { to, msg: Msg::RegisterSlave(_) } if to.as_str() == "master-1"));
    let registered = |from: &str| Input::Message {
        from: ActorId::new(from),
        msg: internal::SlaveRegisteredMessage { slave_id: AgentId { value: "M-S0".into() }, connection: None }.into(),
    };
    // The backup is not the detected leader: its messages are ignored.
    let outs = a.step(SimTime(400_000), registered("master-2"));
    assert_eq!(quiet(&outs), []);
    assert_eq!(
        notes(&outs),
        ["Ignoring SlaveRegisteredMessage from master-2 because it is not the expected master: master-1"]
    );
    assert!(!a.is_registered());
    a.step(SimTime(400_000), registered("master-1"));
    assert!(a.is_registered());
    // master-1's node goes: the watch fires, the list and read name master-2.
    let watch = ServerReply {
        header: Some(ReplyHeader { xid: xid::NOTIFICATION, zxid: -1, err: err::OK }),
        event: Some(WatcherEvent { r#type: event::NODE_CHILDREN_CHANGED, state: 3, path: "/mesos".into() }),
        ..Default::default()
    };
    let t5 = SimTime::from_secs(5);
    assert_eq!(
        quiet(&a.step(t5, Input::Message { from: ActorId::new(ZK1), msg: Msg::ZkReply(Box::new(watch)) })),
        [list(4)]
    );
    assert_eq!(quiet(&a.step(t5, children(4, &["json.info_0000000001"]))), [read(5, "json.info_0000000001")]);
    let outs = a.step(t5, data(5, info("master-2")));
    assert_eq!(notes(&outs), ["New master detected at master@master-2:5050"]);
    assert!(!a.is_registered());
    let outs = a.step(
        t5.after(Duration::from_millis(300)),
        Input::Timer(Timer::Register { backoff: Duration::from_secs(2), epoch: 2 }),
    );
    // It has an id now: it re-registers, with master-2.
    assert!(matches!(&quiet(&outs)[0], Output::Send { to, msg: Msg::ReregisterSlave(_) } if to.as_str() == "master-2"));
}

/// The agent's own ZooKeeper session ends (cut off from the ensemble for a
/// whole session timeout, `GroupProcess::timedout`): its detector reports no
/// leader instead of the master it last saw (`GroupProcess::expired` empties
/// the group's memberships), so the agent stops talking to a master it can no
/// longer vouch for, and opens a new session to find the leader again.
#[test]
fn an_agent_whose_session_expires_detects_no_leader_and_starts_a_new_session() {
    let mut a = Agent::new(cfg());
    let t0 = SimTime::ZERO;
    a.step(t0, Input::Start);
    let connected = ServerReply {
        connect: Some(ConnectResponse { time_out: 10_000, session_id: 9, ..Default::default() }),
        ..Default::default()
    };
    a.step(t0, Input::Message { from: ActorId::new(ZK1), msg: Msg::ZkReply(Box::new(connected)) });
    a.step(t0, zk(1, err::NODE_EXISTS, ServerReply::default()));
    a.step(t0, children(2, &["json.info_0000000000"]));
    a.step(t0, data(3, info("master-1")));
    assert_eq!(a.detected_master(), Some(&ActorId::new("master-1")));
    // The connection breaks at 1 s; nobody answers for a session timeout.
    a.step(SimTime::from_secs(1), Input::Disconnected { peer: ActorId::new(ZK1) });
    for s in 2..11 {
        a.step(SimTime::from_secs(s), Input::Timer(Timer::ZooKeeper));
        assert_eq!(a.detected_master(), Some(&ActorId::new("master-1")), "at {s}s");
    }
    let outs = a.step(SimTime::from_secs(11), Input::Timer(Timer::ZooKeeper));
    assert_eq!(a.detected_master(), None);
    assert_eq!(
        notes(&outs),
        [
            "ZooKeeper session 0x9 treated as expired: disconnected for the 10s session timeout (Group::timedout)",
            "Lost leading master; waiting for a new one to be detected",
        ]
    );
    let new_session = ClientRequest {
        connect: Some(ConnectRequest { time_out: 10_000, ..Default::default() }),
        ..Default::default()
    };
    assert_eq!(
        quiet(&outs),
        [
            Output::SetTimer { at: SimTime::from_secs(12), timer: Timer::ZooKeeper },
            Output::Disconnect { peer: ActorId::new(ZK1) },
            Output::Send { to: ActorId::new(ZK1), msg: new_session.into() },
        ]
    );
}
