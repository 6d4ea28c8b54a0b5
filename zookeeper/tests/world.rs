//! The ensemble and Mesos's group in the real world, on both transports: the
//! ZooKeeper messages travel as gRPC calls (or straight into mailboxes), a
//! world partition cuts them, and both transports give the same trace.

use mesocosm_sim::faults::{Faults, Partition};
use mesocosm_sim::{
    Actor, ActorId, Input, Latency, Msg, Outbox, Shared, SimTime, Transport, World, WorldConfig, run_world,
};
use mesocosm_zookeeper::{Client, Group, GroupEvent, Server, ServerConfig};
use std::sync::{Arc, Mutex};
use std::time::Duration;

type Seen = Arc<Mutex<Vec<(SimTime, String, GroupEvent)>>>;

/// A process whose only job is its group membership (a master's contender
/// and detector, or an agent's detector); it records what it learns.
struct Member {
    name: String,
    group: Group,
    seen: Seen,
}

impl Actor for Member {
    type Timer = ();
    fn handle(&mut self, input: Input<()>, out: &mut Outbox<()>) {
        let events = match input {
            Input::Start => {
                out.set_timer(self.group.tick(), ());
                self.group.start(out);
                Vec::new()
            }
            Input::Timer(()) => {
                out.set_timer(self.group.tick(), ());
                self.group.on_tick(out)
            }
            Input::Message { from, msg: Msg::ZkReply(r) } => self.group.on_reply(&from, *r, out),
            Input::Disconnected { peer } => self.group.on_disconnected(&peer, out),
            _ => Vec::new(),
        };
        let now = out.now();
        self.seen.lock().unwrap().extend(events.into_iter().map(|e| (now, self.name.clone(), e)));
    }
}

fn ensemble() -> Vec<ActorId> {
    (1..=3).map(|i| ActorId::new(format!("zookeeper-00{i}"))).collect()
}

/// What happens to the ensemble in a run.
#[derive(Clone, Copy)]
enum Fault {
    /// master-1 cut off from every ZooKeeper server at 1 s.
    CutMaster,
    /// The ZooKeeper leader (zookeeper-003) killed at 5 s.
    KillLeader,
}

type Servers = Arc<Mutex<Vec<Shared<Server>>>>;

fn run(transport: Transport, latency: Latency) -> (Vec<(SimTime, String, GroupEvent)>, String) {
    run_with(transport, latency, Fault::CutMaster, Servers::default())
}

fn run_with(
    transport: Transport,
    latency: Latency,
    fault: Fault,
    servers: Servers,
) -> (Vec<(SimTime, String, GroupEvent)>, String) {
    run_world(|| async move {
        let mut cfg = WorldConfig::new(1, transport);
        cfg.latency = latency;
        cfg.trace.digest = true;
        let zk: Vec<&str> = vec!["zookeeper-*"];
        if let Fault::CutMaster = fault {
            cfg.faults = Faults {
                partitions: vec![Partition::between(["master-1"], zk).starting(SimTime::from_secs(1))],
                ..Faults::default()
            };
        }
        let w = World::new(cfg);
        for (i, s) in ensemble().into_iter().enumerate() {
            let core = Shared::new(Server::new(ServerConfig::new(i + 1, ensemble())));
            servers.lock().unwrap().push(core.clone());
            w.spawn(s, core, None);
        }
        // The ensemble is up before Mesos starts: its servers elect a leader
        // (finalizeWait, 200 ms, after the votes) and sync, about 300 ms in.
        // The masters start 100 ms apart from 400 ms, so they join in name order.
        let seen = Seen::default();
        for (i, name) in ["master-1", "master-2", "master-3", "agent-1"].into_iter().enumerate() {
            w.sleep_until(SimTime(100_000 * (i as u64 + 4))).await;
            let data = name.starts_with("master").then(|| name.as_bytes().to_vec());
            let client = Client::new(ensemble(), Duration::from_secs(10), i);
            let member =
                Member { name: name.to_string(), group: Group::new(client, "/mesos", data), seen: seen.clone() };
            w.spawn(ActorId::new(name), member, None);
        }
        if let Fault::KillLeader = fault {
            w.sleep_until(SimTime::from_secs(5)).await;
            assert!(w.kill(&ActorId::new("zookeeper-003"), 137));
        }
        w.sleep_until(SimTime::from_secs(30)).await;
        assert_eq!(w.failure(), None);
        assert!(w.violations().is_empty(), "{:?}", w.violations());
        let digest = w.with_trace(|t| t.finish()).unwrap();
        let seen = seen.lock().unwrap().clone();
        (seen, format!("{digest:?}"))
    })
}

/// master-1 leads, is cut off from ZooKeeper at 1 s, and master-2 takes over
/// when the ensemble expires master-1's session; master-1 gives its candidacy
/// up a session timeout after it noticed the silence.
#[test]
fn a_leader_cut_off_from_zookeeper_is_replaced_alike_on_both_transports() {
    let (memory, digest_memory) = run(Transport::Memory, Latency::DEFAULT);
    let (grpc, digest_grpc) = run(Transport::Grpc, Latency::DEFAULT);
    assert_eq!(memory, grpc);
    assert_eq!(digest_memory, digest_grpc);
    let of = |who: &str| -> Vec<(SimTime, GroupEvent)> {
        memory.iter().filter(|(_, n, _)| n == who).map(|(t, _, e)| (*t, e.clone())).collect()
    };
    let leader = |m: &str, elected| GroupEvent::Leader { data: Some(m.as_bytes().to_vec()), elected };
    assert_eq!(of("master-1")[0].1, leader("master-1", true));
    let m2 = of("master-2");
    assert_eq!(m2[0].1, leader("master-1", false));
    assert_eq!(m2[1].1, leader("master-2", true));
    // The ZooKeeper leader's 14 s tick closes the session, plus the hops of the
    // closeSession commit, the watch and the re-read (100 µs to 1 ms each).
    assert!(m2[1].0 > SimTime::from_secs(14) && m2[1].0 < SimTime::from_secs(15), "{:?}", m2[1].0);
    assert_eq!(of("agent-1").last().unwrap().1, leader("master-2", false));
    let m1 = of("master-1");
    assert_eq!(m1[1].1, GroupEvent::CandidacyLost { was_elected: true });
    assert!(m1[1].0 >= SimTime::from_secs(17) && m1[1].0 < SimTime::from_secs(18), "{:?}", m1[1].0);
}

/// With one latency on every link, the two followers' REQUESTs reach the
/// ZooKeeper leader at the same instant (2 ms in); the world, not the
/// transport, decides which it handles first, so the traces are the same.
#[test]
fn same_instant_requests_reach_the_leader_in_one_order_on_both_transports() {
    let fixed = Latency::Fixed(Duration::from_millis(1));
    let (mut memory, digest_memory) = run(Transport::Memory, fixed);
    let (mut grpc, digest_grpc) = run(Transport::Grpc, fixed);
    // Members stepping at one instant record in the order the runtime polls
    // them; as the trace does, compare by instant and member, each one's own
    // order kept (the sort is stable).
    memory.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    grpc.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    assert_eq!(memory, grpc);
    assert_eq!(digest_memory, digest_grpc);
}

/// The ZooKeeper leader (zookeeper-003) is killed at 5 s: its followers see
/// the quorum connection close, elect zookeeper-002 within a few hundred
/// milliseconds (finalizeWait, 200 ms, plus the hops) and sync it epoch 2.
/// The members on zookeeper-003 move to a live server with their sessions:
/// master-1 leads throughout and no member sees any change.
#[test]
fn the_zookeeper_leader_killed_the_ensemble_elects_another_and_the_group_never_notices() {
    let run = |t| {
        let servers = Servers::default();
        let (seen, digest) = run_with(t, Latency::DEFAULT, Fault::KillLeader, servers.clone());
        let states: Vec<_> = servers.lock().unwrap().iter().map(|s| s.with(|s| (s.state(), s.epoch()))).collect();
        (seen, digest, states)
    };
    let (memory, digest_memory, states) = run(Transport::Memory);
    let (grpc, digest_grpc, _) = run(Transport::Grpc);
    assert_eq!(memory, grpc);
    assert_eq!(digest_memory, digest_grpc);
    // zookeeper-003's core keeps its last state (LEADING, epoch 1): it is dead.
    assert_eq!(states, [("FOLLOWING", 2), ("LEADING", 2), ("LEADING", 1)]);
    // Each member learned the leader once, at the start, and nothing since.
    assert_eq!(memory.len(), 4, "{memory:?}");
    assert!(memory.iter().all(|(t, _, e)| *t < SimTime::from_secs(1)
        && matches!(e, GroupEvent::Leader { data: Some(d), .. } if d == b"master-1")));
}
