//! A master contending through ZooKeeper, message by message: the session
//! and the `json.info_` node it creates, what it does once elected, how a
//! backup answers the scheduler API and agents, and how a leader that loses
//! its session ends.

mod common;

use common::*;
use mesocosm_master::{LOST_LEADERSHIP_EXIT, Master, MasterConfig, MasterEvent, Timer, ZkConfig};
use mesocosm_proto::zk_codes::{create_mode, err, op};
use mesocosm_proto::zookeeper::{
    ClientRequest, ConnectRequest, ConnectResponse, CreateRequest, CreateResponse, GetChildren2Request,
    GetChildren2Response, GetDataRequest, GetDataResponse, ReplyHeader, RequestHeader, ServerReply,
};
use mesocosm_proto::{scheduler, v1};
use mesocosm_sim::{Actor, ActorId, Input, Msg, Output, Refusal, SimTime};
use mesocosm_zookeeper::master_info;
use std::time::Duration;

const ZK1: &str = "zookeeper-001";

fn zk_cfg(name: &str) -> MasterConfig {
    MasterConfig {
        me: ActorId::new(name),
        hostname: name.to_string(),
        zk: Some(ZkConfig {
            servers: (1..=3).map(|i| ActorId::new(format!("zookeeper-00{i}"))).collect(),
            path: "/mesos".into(),
            session_timeout: Duration::from_secs(10),
            first: 0,
        }),
        ..cfg()
    }
}

fn request(xid: i32, ty: i32, r: ClientRequest) -> Output<Timer> {
    send(ZK1, ClientRequest { header: Some(RequestHeader { xid, r#type: ty }), ..r })
}

fn reply(xid: i32, e: i32, r: ServerReply) -> Input<Timer> {
    let header = Some(ReplyHeader { xid, zxid: 0x1_0000_0000 + xid as i64, err: e });
    Input::Message { from: ActorId::new(ZK1), msg: Msg::ZkReply(Box::new(ServerReply { header, ..r })) }
}

/// Steps `m` from Start through joining the group as `json.info_<mine>`
/// with `members` listed, up to the read of the lowest member's data (whose
/// reply the caller sends); asserts every request on the way.
fn join(m: &mut Master, mine: u32, members: &[&str]) {
    let t0 = SimTime::ZERO;
    assert_eq!(
        actions(&m.step(t0, Input::Start)),
        [
            timer(secs(1), Timer::ZooKeeper),
            send(
                ZK1,
                ClientRequest {
                    connect: Some(ConnectRequest { time_out: 10_000, ..Default::default() }),
                    ..Default::default()
                }
            ),
        ]
    );
    let connected = ServerReply {
        connect: Some(ConnectResponse { time_out: 10_000, session_id: 0x100 + mine as i64, ..Default::default() }),
        ..Default::default()
    };
    let from = ActorId::new(ZK1);
    let create_path = CreateRequest { path: "/mesos".into(), data: Vec::new(), flags: 0 };
    assert_eq!(
        actions(&m.step(t0, Input::Message { from, msg: Msg::ZkReply(Box::new(connected)) })),
        [request(1, op::CREATE, ClientRequest { create: Some(create_path), ..Default::default() })]
    );
    let node = CreateRequest {
        path: "/mesos/json.info_".into(),
        data: master_info::encode(m.master_info()),
        flags: create_mode::EPHEMERAL | create_mode::SEQUENTIAL,
    };
    assert_eq!(
        actions(&m.step(t0, reply(1, err::NODE_EXISTS, ServerReply::default()))),
        [request(2, op::CREATE, ClientRequest { create: Some(node), ..Default::default() })]
    );
    let created = CreateResponse { path: format!("/mesos/json.info_{mine:010}") };
    let list = GetChildren2Request { path: "/mesos".into(), watch: true };
    assert_eq!(
        actions(&m.step(t0, reply(2, err::OK, ServerReply { create: Some(created), ..Default::default() }))),
        [request(3, op::GET_CHILDREN2, ClientRequest { get_children2: Some(list), ..Default::default() })]
    );
    let children = GetChildren2Response { children: members.iter().map(|c| c.to_string()).collect(), stat: None };
    let lowest = members.iter().min().unwrap();
    let read = GetDataRequest { path: format!("/mesos/{lowest}"), watch: false };
    assert_eq!(
        actions(&m.step(t0, reply(3, err::OK, ServerReply { get_children2: Some(children), ..Default::default() }))),
        [request(4, op::GET_DATA, ClientRequest { get_data: Some(read), ..Default::default() })]
    );
}

fn data_reply(data: Vec<u8>) -> Input<Timer> {
    reply(4, err::OK, ServerReply { get_data: Some(GetDataResponse { data, stat: None }), ..Default::default() })
}

fn subscribe_from(who: &str) -> Input<Timer> {
    Input::Message { from: ActorId::new(who), msg: subscribe_call("spark-pi", false).into() }
}

#[test]
fn the_lowest_member_is_elected_and_runs_what_a_leader_runs() {
    let mut m = Master::new(zk_cfg("master-1"));
    join(&mut m, 0, &["json.info_0000000000"]);
    assert!(!m.is_leader());
    let data = master_info::encode(m.master_info());
    let outs = m.step(SimTime::ZERO, data_reply(data));
    // The timeline's line, then what a standalone master does at Start: the
    // periodic allocation loop.
    assert_eq!(actions(&outs), [Output::Event("elected leader".into()), timer(secs(1), Timer::Allocation)]);
    assert_eq!(notes(&outs)[0], "Elected as the leading master!");
    assert!(m.is_leader());
    // The history says who was elected, for the report's leadership periods.
    assert_eq!(m.history(), [(SimTime::ZERO, MasterEvent::Elected { master: "master-1".into() })]);
    // A leader serves the scheduler API.
    let outs = m.step(secs(1), subscribe_from("driver:spark-pi"));
    assert_eq!(events_to(&outs, "driver:spark-pi")[0].r#type(), scheduler::event::Type::Subscribed);
}

#[test]
fn a_backup_redirects_the_scheduler_api_to_the_leader_and_drops_agent_messages() {
    let mut m = Master::new(zk_cfg("master-2"));
    join(&mut m, 1, &["json.info_0000000001", "json.info_0000000000"]);
    // Before it knows the leader: 503 on the call, as Master::Http::redirect.
    let outs = m.step(SimTime::ZERO, subscribe_from("driver:spark-pi"));
    assert_eq!(outs, [Output::Refuse(Refusal::ServiceUnavailable("No leader elected".into()))]);
    let leader = v1::MasterInfo {
        id: "leader-id".into(),
        port: 5050,
        pid: Some("master@master-1:5050".into()),
        hostname: Some("master-1".into()),
        ..Default::default()
    };
    let outs = m.step(SimTime::ZERO, data_reply(master_info::encode(&leader)));
    assert_eq!(actions(&outs), []);
    assert_eq!(notes(&outs), ["The newly elected leader is master@master-1:5050 with id leader-id"]);
    assert!(!m.is_leader());
    assert_eq!(m.detected_leader(), Some(&leader));
    let outs = m.step(secs(1), subscribe_from("driver:spark-pi"));
    assert_eq!(outs, [Output::Refuse(Refusal::TemporaryRedirect("//master-1:5050/api/v1/scheduler".into()))]);
    let register = Input::Message { from: "agent-1".into(), msg: register_slave("agent-1", 4.0, 8192.0).into() };
    let outs = m.step(secs(1), register);
    assert_eq!(actions(&outs), []);
    assert_eq!(notes(&outs), ["Dropping 'RegisterSlaveMessage' message from agent-1 since not elected yet"]);
    assert_eq!(m.agents_view().len(), 0);
}

#[test]
fn a_leader_cut_off_from_zookeeper_for_a_session_timeout_exits() {
    let mut m = Master::new(zk_cfg("master-1"));
    join(&mut m, 0, &["json.info_0000000000"]);
    let data = master_info::encode(m.master_info());
    m.step(SimTime::ZERO, data_reply(data));
    assert!(m.is_leader());
    // The connection breaks at 2 s; the client tries the next server on each
    // tick, and nobody answers.
    assert_eq!(actions(&m.step(secs(2), Input::Disconnected { peer: ZK1.into() })), []);
    for s in 3..12 {
        let outs = m.step(secs(s), Input::Timer(Timer::ZooKeeper));
        assert!(!outs.iter().any(|o| matches!(o, Output::Exit { .. })), "exited at {s}s: {outs:?}");
    }
    // A whole session timeout without a connection: Mesos's group treats the
    // session as expired, and a leader that lost its candidacy commits suicide.
    let outs = m.step(secs(12), Input::Timer(Timer::ZooKeeper));
    assert!(outs.contains(&Output::Exit { status: LOST_LEADERSHIP_EXIT }), "{outs:?}");
    let why = "Lost candidacy as a leader... committing suicide!";
    assert_eq!(notes(&outs).last().map(String::as_str), Some(why));
    assert!(outs.contains(&Output::Event(format!("stops leading: {why}"))), "{outs:?}");
    assert_eq!(
        m.history().last(),
        Some(&(secs(12), MasterEvent::LeadershipLost { master: "master-1".into(), reason: why.into() }))
    );
}

#[test]
fn a_standalone_master_leads_from_its_start() {
    let mut m = Master::new(cfg());
    assert!(m.is_leader());
    assert_eq!(actions(&m.step(SimTime::ZERO, Input::Start)), [timer(secs(1), Timer::Allocation)]);
    assert_eq!(m.detected_leader(), Some(m.master_info()));
}
