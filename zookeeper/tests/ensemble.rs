//! The ensemble's servers and bare client sessions: the exact messages of a
//! quorum write, a minority that cannot write, session expiry and watches.

mod common;

use common::{ELECTED, Net, id, secs};
use mesocosm_proto::zk_codes::{create_mode, err, event};
use mesocosm_sim::SimTime;
use mesocosm_zookeeper::{Client, Server, ZkEvent};
use std::collections::BTreeSet;
use std::time::Duration;

fn session(net: &mut Net<Client>, name: &str, first: usize) {
    let c = Client::new(common::ensemble(net.servers.len()), Duration::from_secs(10), first);
    net.add_client(name, c, |c, out| c.start(out));
}

fn created(events: &[(SimTime, ZkEvent)]) -> Vec<(i32, String)> {
    events
        .iter()
        .filter_map(|(_, e)| match e {
            ZkEvent::Reply { err, reply, .. } => {
                Some((*err, reply.create.as_ref().map(|c| c.path.clone()).unwrap_or_default()))
            }
            _ => None,
        })
        .collect()
}

/// A follower forwards a write to the leader, which proposes it, commits it
/// on a quorum of acknowledgements, and every server applies it; the follower
/// the client is connected to answers.
#[test]
fn a_quorum_commits_a_write_and_every_server_applies_it() {
    let mut net: Net<Client> = Net::elected(3);
    assert!(net.servers.values().all(Server::serving), "every server serves once elected and synced");
    session(&mut net, "master-1", 0);
    assert_eq!(net.events_of("master-1"), vec![(ELECTED, ZkEvent::Connected { session: 0x0100000000000001 })]);
    let t = net.log.len();
    net.with_client("master-1", |c, out| {
        c.create("/mesos", vec![], 0, out);
        Vec::new()
    });
    let all = ["master-1", "zookeeper-001", "zookeeper-002", "zookeeper-003"];
    assert_eq!(
        net.lines(&all, t),
        vec![
            "master-1 → zookeeper-001 CreateRequest xid=1 /mesos flags=0 0 bytes",
            "zookeeper-001 → zookeeper-003 REQUEST zxid=0x0 32 bytes",
            "zookeeper-003 → zookeeper-001 PROPOSAL zxid=0x100000002 37 bytes",
            "zookeeper-003 → zookeeper-002 PROPOSAL zxid=0x100000002 37 bytes",
            "zookeeper-001 → zookeeper-003 ACK zxid=0x100000002 0 bytes",
            "zookeeper-002 → zookeeper-003 ACK zxid=0x100000002 0 bytes",
            // The first ACK made a quorum with the leader's own; the second is late.
            "zookeeper-003 → zookeeper-001 COMMIT zxid=0x100000002 0 bytes",
            "zookeeper-003 → zookeeper-002 COMMIT zxid=0x100000002 0 bytes",
            "zookeeper-001 → master-1 CreateResponse xid=1 zxid=0x100000002 OK /mesos",
        ]
    );
    for s in net.servers.values() {
        assert!(s.tree().get("/mesos").is_some());
        assert_eq!(s.tree().last_zxid(), 0x100000002);
    }
}

/// A leader cut off from both followers cannot commit: the create is never
/// answered. After syncLimit (5 ticks of 2 s) without each other, all three go
/// LOOKING and close their clients' connections; the two that still hear each
/// other are a quorum and elect zookeeper-002 (epoch 2), while the cut-off old
/// leader keeps voting for itself. Healed, it joins the new leader, which
/// truncates the proposal no quorum took: `/mesos` never existed.
#[test]
fn a_minority_cannot_write_and_its_lost_proposal_is_truncated() {
    let mut net: Net<Client> = Net::elected(3);
    session(&mut net, "master-1", 2);
    net.run_until(secs(1));
    net.partition("zookeeper-003", &["zookeeper-001", "zookeeper-002"]);
    net.with_client("master-1", |c, out| {
        assert_eq!(c.server(), Some(&id("zookeeper-003")));
        c.create("/mesos", vec![], 0, out);
        Vec::new()
    });
    net.run_until(secs(30));
    assert!(created(&net.events_of("master-1")).is_empty(), "no answer without a quorum");
    let state = |net: &Net<Client>, s: &str| {
        let s = &net.servers[&id(s)];
        (s.state(), s.serving(), s.epoch())
    };
    assert_eq!(state(&net, "zookeeper-003"), ("LOOKING", false, 1));
    assert_eq!(state(&net, "zookeeper-002"), ("LEADING", true, 2));
    assert_eq!(state(&net, "zookeeper-001"), ("FOLLOWING", true, 2));
    let events = net.events_of("master-1");
    assert_eq!(events[1].1, ZkEvent::Disconnected);
    // The leader last heard its followers at 0.3 s (their UPTODATE); its tick
    // at 12 s is the first past the 10 s syncLimit.
    assert_eq!(events[1].0, secs(12));
    // Healed: the old leader's next vote (its resends back off from 200 ms:
    // 12.2, 12.6, 13.4, 15, 18.2, 24.6, 37.4 s) is answered by both, and it
    // follows zookeeper-002, which truncates its lost proposal 0x100000002.
    net.heal();
    let t = net.log.len();
    net.run_until(secs(60));
    let lines = net.lines(&["zookeeper-002", "zookeeper-003"], t);
    assert!(lines.contains(&"zookeeper-002 → zookeeper-003 TRUNC zxid=0x100000001 0 bytes".to_string()), "{lines:#?}");
    assert_eq!(state(&net, "zookeeper-003"), ("FOLLOWING", true, 2));
    for s in net.servers.values() {
        assert!(s.tree().get("/mesos").is_none(), "{}", s.state());
    }
}

/// A client that goes silent loses its session after the timeout: the leader
/// closes it, its ephemeral sequential node goes, and the other client's child
/// watch fires, once. The silent client, back, learns its session expired.
#[test]
fn an_ephemeral_node_goes_when_its_session_expires_and_the_watch_fires_once() {
    let mut net: Net<Client> = Net::elected(3);
    session(&mut net, "master-1", 0);
    session(&mut net, "master-2", 1);
    net.with_client("master-1", |c, out| {
        c.create("/mesos", vec![], 0, out);
        Vec::new()
    });
    let seq = create_mode::EPHEMERAL | create_mode::SEQUENTIAL;
    for m in ["master-1", "master-2"] {
        net.with_client(m, |c, out| {
            c.create("/mesos/json.info_", b"{}".to_vec(), seq, out);
            Vec::new()
        });
    }
    assert_eq!(
        created(&net.events_of("master-1")),
        vec![(err::OK, "/mesos".into()), (err::OK, "/mesos/json.info_0000000000".into())]
    );
    assert_eq!(created(&net.events_of("master-2")), vec![(err::OK, "/mesos/json.info_0000000001".into())]);
    net.with_client("master-2", |c, out| {
        c.get_children("/mesos", true, out);
        Vec::new()
    });
    net.run_until(secs(1));
    net.partition("master-1", &["zookeeper-001", "zookeeper-002", "zookeeper-003"]);
    net.run_until(secs(40));
    let watches: Vec<_> =
        net.events_of("master-2").into_iter().filter(|(_, e)| matches!(e, ZkEvent::Watch { .. })).collect();
    // zookeeper-001 last heard master-1 at 0 s and reported it in its answer to
    // the leader's ping at 2 s; the leader's deadline is 2 s + 10 s, rounded up
    // past the next 2 s tick boundary (ExpiryQueue): 14 s.
    assert_eq!(
        watches,
        vec![(secs(14), ZkEvent::Watch { event: event::NODE_CHILDREN_CHANGED, path: "/mesos".into() })]
    );
    for s in net.servers.values() {
        assert_eq!(s.tree().get("/mesos").unwrap().children, BTreeSet::from(["json.info_0000000001".to_string()]));
    }
    net.heal();
    net.run_until(secs(60));
    let m1 = net.events_of("master-1");
    assert_eq!(m1.iter().filter(|(_, e)| *e == ZkEvent::Disconnected).count(), 1);
    assert_eq!(m1.last().unwrap().1, ZkEvent::Expired);
    // master-2 kept its session by pinging; its node is still there.
    assert!(!net.clients[&id("master-2")].expired());
}

/// An ensemble of one is its own quorum.
#[test]
fn a_single_server_commits_alone() {
    let mut net: Net<Client> = Net::elected(1);
    session(&mut net, "agent-1", 0);
    net.with_client("agent-1", |c, out| {
        c.create("/mesos", vec![], 0, out);
        c.create("/mesos", vec![], 0, out);
        Vec::new()
    });
    assert_eq!(created(&net.events_of("agent-1")), vec![(err::OK, "/mesos".into()), (err::NODE_EXISTS, "".into())]);
}

/// A client never sees the tree go back: a follower that missed a write the
/// client saw refuses its reconnection, and the client goes on to one that has it.
#[test]
fn a_server_behind_the_clients_last_zxid_refuses_it() {
    let mut net: Net<Client> = Net::elected(3);
    session(&mut net, "master-1", 2);
    net.run_until(secs(1));
    net.partition("zookeeper-001", &["zookeeper-003"]);
    net.with_client("master-1", |c, out| {
        c.create("/mesos", vec![], 0, out);
        Vec::new()
    });
    net.partition("master-1", &["zookeeper-003"]);
    let t = net.log.len();
    net.run_until(secs(11));
    assert_eq!(
        net.lines(&["master-1", "zookeeper-001", "zookeeper-002"], t),
        vec![
            "master-1 → zookeeper-001 ConnectRequest session=0x300000000000001 timeout=10000ms last_zxid=0x100000002",
            "master-1 → zookeeper-002 ConnectRequest session=0x300000000000001 timeout=10000ms last_zxid=0x100000002",
            "zookeeper-002 → master-1 ConnectResponse session=0x300000000000001 timeout=10000ms",
        ]
    );
    let connected: Vec<_> =
        net.events_of("master-1").into_iter().filter(|(_, e)| matches!(e, ZkEvent::Connected { .. })).collect();
    assert_eq!(connected.len(), 2);
    assert_eq!(net.clients[&id("master-1")].server(), Some(&id("zookeeper-002")));
}

/// A watch fires once: two changes after one getChildren give one event; a
/// second getChildren with a watch arms it again.
#[test]
fn a_watch_fires_once_until_it_is_set_again() {
    let mut net: Net<Client> = Net::elected(3);
    session(&mut net, "master-1", 0);
    session(&mut net, "agent-1", 1);
    let create = |net: &mut Net<Client>, path: &'static str| {
        net.with_client("master-1", |c, out| {
            c.create(path, vec![], 0, out);
            Vec::new()
        })
    };
    create(&mut net, "/mesos");
    net.with_client("agent-1", |c, out| {
        c.get_children("/mesos", true, out);
        Vec::new()
    });
    create(&mut net, "/mesos/a");
    create(&mut net, "/mesos/b");
    net.with_client("agent-1", |c, out| {
        c.get_children("/mesos", true, out);
        Vec::new()
    });
    create(&mut net, "/mesos/c");
    let watches: Vec<_> =
        net.events_of("agent-1").into_iter().filter(|(_, e)| matches!(e, ZkEvent::Watch { .. })).collect();
    let changed = ZkEvent::Watch { event: event::NODE_CHILDREN_CHANGED, path: "/mesos".into() };
    assert_eq!(watches, vec![(ELECTED, changed.clone()), (ELECTED, changed)]);
}
