//! Fast Leader Election among the servers, and the new leader's sync: the
//! exact votes and packets, who leads, in which epoch.

mod common;

use common::{ELECTED, Net, id, secs};
use mesocosm_proto::zk_codes::create_mode;
use mesocosm_sim::SimTime;
use mesocosm_zookeeper::{Client, Server, ServerConfig, ZkEvent};
use std::time::Duration;

const ALL: [&str; 3] = ["zookeeper-001", "zookeeper-002", "zookeeper-003"];

/// Each server's (state, serving, epoch), `zookeeper-001` first.
fn states(net: &Net<Client>) -> Vec<(&'static str, bool, i64)> {
    net.servers.values().map(|s| (s.state(), s.serving(), s.epoch())).collect()
}

fn session(net: &mut Net<Client>, name: &str, first: usize) {
    let c = Client::new(common::ensemble(3), Duration::from_secs(10), first);
    net.add_client(name, c, |c, out| c.start(out));
}

fn lines(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// Every server starts LOOKING and votes for itself; each adopts the best
/// vote it hears (same empty history: the highest myid) and tells everyone;
/// 200 ms (finalizeWait) after a quorum agreed, zookeeper-003 leads. The
/// followers, deciding first, find its quorum port closed and retry 100 ms
/// later; it fixes epoch 1 and syncs each (an empty DIFF) before serving.
#[test]
fn a_fresh_ensemble_elects_the_highest_myid_and_syncs_epoch_1() {
    let net: Net<Client> = Net::elected(3);
    let vote = |from: u32, to: u32, leader: u32| {
        format!(
            "zookeeper-00{from} → zookeeper-00{to} Notification LOOKING sid={from} votes leader={leader} zxid=0x0 \
             peerEpoch=0 electionEpoch=1"
        )
    };
    let mut want = vec![vote(1, 2, 1), vote(1, 3, 1), vote(2, 1, 2), vote(2, 3, 2), vote(3, 1, 3), vote(3, 2, 3)];
    want.extend([vote(1, 2, 2), vote(1, 3, 2), vote(1, 2, 3), vote(1, 3, 3), vote(2, 1, 3), vote(2, 3, 3)]);
    want.extend(lines(&[
        // At 200 ms: both followers' first connection is refused (zookeeper-003 has not decided yet).
        "zookeeper-002 → zookeeper-003 FOLLOWERINFO zxid=0x0 0 bytes",
        "zookeeper-001 → zookeeper-003 FOLLOWERINFO zxid=0x0 0 bytes",
        // At 300 ms: the retries. One follower is a quorum with the leader.
        "zookeeper-002 → zookeeper-003 FOLLOWERINFO zxid=0x0 0 bytes",
        "zookeeper-003 → zookeeper-002 LEADERINFO zxid=0x100000000 0 bytes",
        "zookeeper-002 → zookeeper-003 ACKEPOCH zxid=0x0 4 bytes",
        "zookeeper-003 → zookeeper-002 DIFF zxid=0x0 0 bytes",
        "zookeeper-003 → zookeeper-002 NEWLEADER zxid=0x100000000 0 bytes",
        "zookeeper-002 → zookeeper-003 ACK zxid=0x100000000 0 bytes",
        "zookeeper-003 → zookeeper-002 UPTODATE zxid=0x0 0 bytes",
        "zookeeper-001 → zookeeper-003 FOLLOWERINFO zxid=0x0 0 bytes",
        "zookeeper-003 → zookeeper-001 LEADERINFO zxid=0x100000000 0 bytes",
        "zookeeper-001 → zookeeper-003 ACKEPOCH zxid=0x0 4 bytes",
        "zookeeper-003 → zookeeper-001 DIFF zxid=0x0 0 bytes",
        "zookeeper-003 → zookeeper-001 NEWLEADER zxid=0x100000000 0 bytes",
        "zookeeper-001 → zookeeper-003 ACK zxid=0x100000000 0 bytes",
        "zookeeper-003 → zookeeper-001 UPTODATE zxid=0x0 0 bytes",
    ]));
    assert_eq!(net.lines(&ALL, 0), want);
    assert_eq!(states(&net), [("FOLLOWING", true, 1), ("FOLLOWING", true, 1), ("LEADING", true, 1)]);
    assert!(net.servers.values().all(|s| s.leader() == Some(&id("zookeeper-003"))));
}

/// The leader's process dies at 1 s: its followers see the quorum connection
/// close and go LOOKING at once, each voting for itself with its history
/// (epoch 1, zxid 0x100000002). zookeeper-002 wins on myid 200 ms later and
/// leads epoch 2 (zxids from 0x200000000). The client that was on the dead
/// server reconnects to it with its session; its ephemeral node stays.
#[test]
fn the_leader_killed_the_two_left_elect_a_new_one_and_the_session_survives() {
    let mut net: Net<Client> = Net::elected(3);
    session(&mut net, "master-1", 2);
    net.with_client("master-1", |c, out| {
        c.create("/mesos", vec![], 0, out);
        c.create("/mesos/json.info_", b"{}".to_vec(), create_mode::EPHEMERAL | create_mode::SEQUENTIAL, out);
        Vec::new()
    });
    net.run_until(secs(1));
    let t = net.log.len();
    net.kill("zookeeper-003");
    net.run_until(SimTime(1_500_000));
    let vote = |from: u32, to: u32, leader: u32| {
        format!(
            "zookeeper-00{from} → zookeeper-00{to} Notification LOOKING sid={from} votes leader={leader} \
             zxid=0x100000003 peerEpoch=1 electionEpoch=2"
        )
    };
    let mut want = vec![vote(1, 2, 1), vote(1, 3, 1), vote(2, 1, 2), vote(2, 3, 2), vote(1, 2, 2), vote(1, 3, 2)];
    want.extend(lines(&[
        "zookeeper-001 → zookeeper-002 FOLLOWERINFO zxid=0x100000000 0 bytes",
        "zookeeper-001 → zookeeper-002 FOLLOWERINFO zxid=0x100000000 0 bytes",
        "zookeeper-002 → zookeeper-001 LEADERINFO zxid=0x200000000 0 bytes",
        "zookeeper-001 → zookeeper-002 ACKEPOCH zxid=0x100000003 4 bytes",
        "zookeeper-002 → zookeeper-001 DIFF zxid=0x100000003 0 bytes",
        "zookeeper-002 → zookeeper-001 NEWLEADER zxid=0x200000000 0 bytes",
        "zookeeper-001 → zookeeper-002 ACK zxid=0x200000000 0 bytes",
        "zookeeper-002 → zookeeper-001 UPTODATE zxid=0x0 0 bytes",
    ]));
    assert_eq!(net.lines(&ALL, t), want);
    assert_eq!(states(&net), [("FOLLOWING", true, 2), ("LEADING", true, 2)]);
    net.run_until(secs(30));
    let events = net.events_of("master-1");
    let session = 0x0300000000000001;
    assert_eq!(
        events.iter().filter(|(_, e)| *e == ZkEvent::Connected { session }).count(),
        2,
        "the same session, before and after: {events:?}"
    );
    assert!(!net.clients[&id("master-1")].expired());
    for s in net.servers.values() {
        assert_eq!(s.tree().get("/mesos").unwrap().children.len(), 1, "the ephemeral node stays");
    }
}

/// The new leader gives every session a fresh timeout when it starts
/// serving: a client cut off at 1 s would have lost its session at the 12 s
/// tick under the old leader, but that leader dies at 6 s and the new one
/// serves from 6.3 s, so the session lives until the 18 s tick.
#[test]
fn a_new_leader_gives_every_session_a_fresh_timeout() {
    let mut net: Net<Client> = Net::elected(3);
    session(&mut net, "master-1", 2);
    net.run_until(secs(1));
    net.partition("master-1", &ALL);
    net.run_until(secs(6));
    net.kill("zookeeper-003");
    let has = |net: &Net<Client>| net.servers.values().all(|s| s.tree().sessions().contains_key(&0x0300000000000001));
    net.run_until(secs(17));
    assert!(has(&net), "alive past the old leader's 12 s deadline");
    net.run_until(secs(18));
    assert!(net.servers.values().all(|s| s.tree().sessions().is_empty()), "expired at the new leader's 18 s tick");
}

/// A killed server restarted empty: it votes for itself, the follower and
/// the leader answer with the vote they ended with, and a quorum of those
/// naming a server that says it LEADS is enough to join. The leader's DIFF
/// refills it.
#[test]
fn a_restarted_server_rejoins_as_a_follower() {
    let mut net: Net<Client> = Net::elected(3);
    session(&mut net, "master-1", 0);
    net.run_until(secs(1));
    net.kill("zookeeper-003");
    net.run_until(secs(3));
    let t = net.log.len();
    net.restart("zookeeper-003");
    net.run_until(secs(4));
    assert_eq!(
        net.lines(&ALL, t)[..7],
        lines(&[
            "zookeeper-003 → zookeeper-001 Notification LOOKING sid=3 votes leader=3 zxid=0x0 peerEpoch=0 electionEpoch=1",
            "zookeeper-003 → zookeeper-002 Notification LOOKING sid=3 votes leader=3 zxid=0x0 peerEpoch=0 electionEpoch=1",
            "zookeeper-001 → zookeeper-003 Notification FOLLOWING sid=1 votes leader=2 zxid=0x100000001 peerEpoch=2 \
             electionEpoch=2",
            "zookeeper-002 → zookeeper-003 Notification LEADING sid=2 votes leader=2 zxid=0x100000001 peerEpoch=2 \
             electionEpoch=2",
            "zookeeper-003 → zookeeper-002 FOLLOWERINFO zxid=0x0 0 bytes",
            "zookeeper-002 → zookeeper-003 LEADERINFO zxid=0x200000000 0 bytes",
            "zookeeper-003 → zookeeper-002 ACKEPOCH zxid=0x0 4 bytes",
        ])[..]
    );
    assert_eq!(
        net.lines(&ALL, t)[7..10],
        lines(&[
            "zookeeper-002 → zookeeper-003 DIFF zxid=0x100000001 0 bytes",
            "zookeeper-002 → zookeeper-003 PROPOSAL zxid=0x100000001 37 bytes",
            "zookeeper-002 → zookeeper-003 COMMIT zxid=0x100000001 0 bytes",
        ])[..]
    );
    assert_eq!(states(&net), [("FOLLOWING", true, 2), ("LEADING", true, 2), ("FOLLOWING", true, 2)]);
    let restarted = &net.servers[&id("zookeeper-003")];
    assert_eq!(restarted.tree(), net.servers[&id("zookeeper-002")].tree());
}

/// Two of three killed: the one left has no quorum. It stops serving and
/// keeps voting for itself, waiting twice as long each time. When both come
/// back empty its history (epoch 1, a session) beats their higher myids:
/// it leads epoch 2.
#[test]
fn two_of_three_lost_no_leader_until_they_return_then_the_newest_history_leads() {
    let mut net: Net<Client> = Net::elected(3);
    session(&mut net, "master-1", 0);
    net.run_until(secs(1));
    net.kill("zookeeper-003");
    net.kill("zookeeper-002");
    let t = net.log.len();
    net.run_until(secs(60));
    assert_eq!(states(&net), [("LOOKING", false, 1)]);
    let resends = net.log[t..]
        .iter()
        .filter(|(_, f, to, kind, _)| f == "zookeeper-001" && to == "zookeeper-002" && *kind == "Notification");
    let times: Vec<SimTime> = resends.map(|(at, ..)| *at).collect();
    let ms = |v: u64| SimTime(v * 1000);
    // At 1.2 s it follows zookeeper-002 (their votes agreed before it died),
    // finds its quorum port closed 5 times 100 ms apart, looks again at 1.6 s,
    // then resends after 0.2, 0.4, 0.8 s…
    assert_eq!(times[..4], [ms(1_600), ms(1_800), ms(2_200), ms(3_000)]);
    assert!(net.servers.values().all(|s| s.leader().is_none()));
    net.restart("zookeeper-002");
    net.restart("zookeeper-003");
    net.run_until(secs(61));
    assert_eq!(states(&net), [("LEADING", true, 2), ("FOLLOWING", true, 2), ("FOLLOWING", true, 2)]);
    let _ = ELECTED;
}

/// The ensemble a cluster starts with ([`Server::running`]) is what a fresh
/// one's start-up election leaves: the highest myid leads epoch 1.
#[test]
fn a_running_ensemble_is_what_its_start_up_election_leaves() {
    let elected: Net<Client> = Net::elected(3);
    let running: Vec<Server> = (1..=3).map(|i| Server::running(ServerConfig::new(i, common::ensemble(3)))).collect();
    for (a, b) in elected.servers.values().zip(&running) {
        assert_eq!((a.state(), a.epoch(), a.leader()), (b.state(), b.epoch(), b.leader()));
    }
}
