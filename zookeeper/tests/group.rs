//! Mesos's group on the ensemble: election of the oldest member, detection,
//! and what a partition from ZooKeeper does to a leader, a backup and everyone
//! when the ensemble loses its quorum.

mod common;

use common::{ELECTED, Net, id, secs};
use mesocosm_sim::SimTime;
use mesocosm_zookeeper::{Client, Group, GroupEvent};
use std::collections::BTreeSet;
use std::time::Duration;

fn info(master: &str) -> Vec<u8> {
    format!(r#"{{"hostname":"{master}","pid":"master@{master}:5050","port":5050}}"#).into_bytes()
}

fn leader(master: &str, elected: bool) -> GroupEvent {
    GroupEvent::Leader { data: Some(info(master)), elected }
}

/// Three masters contend in order (each connected to a different server) and
/// an agent detects: the first to join leads.
fn cluster() -> Net<Group> {
    let mut net: Net<Group> = Net::elected(3);
    for (i, name) in ["master-1", "master-2", "master-3", "agent-1"].into_iter().enumerate() {
        let client = Client::new(common::ensemble(3), Duration::from_secs(10), i);
        let data = name.starts_with("master").then(|| info(name));
        net.add_client(name, Group::new(client, "/mesos", data), |g, out| g.start(out));
    }
    net
}

fn ms(ms: u64) -> SimTime {
    SimTime(ms * 1000)
}

fn members(net: &Net<Group>) -> BTreeSet<String> {
    net.servers[&id("zookeeper-003")].tree().get("/mesos").unwrap().children.clone()
}

#[test]
fn the_oldest_member_leads_and_every_detector_learns_it() {
    let net = cluster();
    assert_eq!(net.events_of("master-1"), vec![(ELECTED, leader("master-1", true))]);
    assert_eq!(net.events_of("master-2"), vec![(ELECTED, leader("master-1", false))]);
    assert_eq!(net.events_of("master-3"), vec![(ELECTED, leader("master-1", false))]);
    assert_eq!(net.events_of("agent-1"), vec![(ELECTED, leader("master-1", false))]);
    let names = ["json.info_0000000000", "json.info_0000000001", "json.info_0000000002"];
    assert_eq!(members(&net), names.iter().map(|s| s.to_string()).collect());
}

/// The leader is cut off from every ZooKeeper server at 1 s. Its session was
/// last reported to the ZooKeeper leader at 2 s, so the ensemble expires it at
/// the 14 s tick: its node goes and master-2 (next oldest) leads, which the
/// agent detects at once. The old leader (its clock started at 0.3 s, when
/// the ensemble first served) noticed the silence at 7.3 s (two thirds of
/// 10 s) and gives its session up 10 s later, at 17.3 s, losing its candidacy
/// as the leader (Mesos exits), and from its group's own view the memberships
/// went with the session: no leader (`GroupProcess::expired`). For those
/// 3.3 s both believed they led: the split brain agents must guard against by
/// following the detector.
#[test]
fn a_leader_cut_off_from_zookeeper_loses_candidacy_and_the_next_member_leads() {
    let mut net = cluster();
    net.run_until(secs(1));
    net.partition("master-1", &["zookeeper-001", "zookeeper-002", "zookeeper-003"]);
    net.run_until(secs(30));
    assert_eq!(net.events_of("master-2")[1..], [(secs(14), leader("master-2", true))]);
    assert_eq!(net.events_of("agent-1")[1..], [(secs(14), leader("master-2", false))]);
    assert_eq!(
        net.events_of("master-1")[1..],
        [(ms(17_300), GroupEvent::CandidacyLost { was_elected: true }), (ms(17_300), no_leader())]
    );
}

/// What a group whose session ended reports before its new session lists
/// the group again.
fn no_leader() -> GroupEvent {
    GroupEvent::Leader { data: None, elected: false }
}

/// A backup cut off loses its candidacy the same way, but only contends again:
/// until its new session lists the group it knows no leader; back in touch at
/// 20 s, it joins with a new session and the next sequence number, detects
/// the same leader on its next tick, and the leader never changed.
#[test]
fn a_backup_that_loses_its_session_contends_again() {
    let mut net = cluster();
    net.run_until(secs(1));
    net.partition("master-2", &["zookeeper-001", "zookeeper-002", "zookeeper-003"]);
    net.run_until(secs(20));
    net.heal();
    net.run_until(secs(40));
    assert_eq!(
        net.events_of("master-2")[1..],
        [
            (ms(17_300), GroupEvent::CandidacyLost { was_elected: false }),
            (ms(17_300), no_leader()),
            (ms(22_300), leader("master-1", false))
        ]
    );
    assert_eq!(net.events_of("master-1").len(), 1, "the leader saw no change");
    // Three creates and one delete bumped /mesos's child version to 4.
    let names = ["json.info_0000000000", "json.info_0000000002", "json.info_0000000004"];
    assert_eq!(members(&net), names.iter().map(|s| s.to_string()).collect());
}

/// The three ZooKeeper servers cut off from each other at 1 s (and two of
/// them from every client): no two form a quorum, so none elects a leader.
/// The leader, zookeeper-003, goes LOOKING at 12 s (syncLimit), closing every
/// connection, and every member gives its session up a session timeout after
/// its own disconnection, the leader among them (Mesos's leader then exits).
/// No new leader is detected while the quorum is gone.
#[test]
fn a_lost_zookeeper_quorum_ends_every_candidacy() {
    let mut net = cluster();
    net.run_until(secs(1));
    let all = ["zookeeper-003", "master-1", "master-2", "master-3", "agent-1"];
    // Each server alone: no two of them form a quorum.
    net.partition("zookeeper-001", &["zookeeper-002"]);
    net.partition("zookeeper-001", &all);
    net.partition("zookeeper-002", &all);
    net.run_until(secs(40));
    for s in net.servers.values() {
        assert!(!s.serving());
    }
    // master-1 (on zookeeper-001) heard nothing from 1 s, gave the server up
    // at 7.3 s and never reached another: 17.3 s. master-2 (on zookeeper-002)
    // moved to zookeeper-003 at 8.3 s, which closed every connection at 12 s:
    // given up at its first tick 10 s later, 22.3 s, as master-3, connected to
    // zookeeper-003 all along.
    for (m, at, was_elected) in [("master-1", 17_300, true), ("master-2", 22_300, false), ("master-3", 22_300, false)] {
        assert_eq!(
            net.events_of(m)[1..],
            [(ms(at), GroupEvent::CandidacyLost { was_elected }), (ms(at), no_leader())],
            "{m}"
        );
    }
    // The agent's detector holds no node, but its session ends the same way
    // (on zookeeper-001, like master-1: 17.3 s), and it reports no leader rather
    // than the dead master it last saw; none is detected without a quorum.
    assert_eq!(net.events_of("agent-1")[1..], [(ms(17_300), no_leader())]);
}
