//! Three masters sharing the registry in the real world, on both
//! transports: the log's messages travel as `mesocosm.rpc.ReplicatedLog`
//! calls (or straight into mailboxes), a partition cuts them, and both
//! transports give the same trace. master-1 leads from Start (a standalone
//! leader; ZooKeeper's election is not needed to show what it persists).

use mesocosm_master::history::MasterEvent;
use mesocosm_master::registry::registrar::Timeouts;
use mesocosm_master::registry::replica::Disk;
use mesocosm_master::{Master, MasterConfig, RegistryConfig};
use mesocosm_proto::{internal, v1};
use mesocosm_sim::faults::{Faults, Partition};
use mesocosm_sim::{Actor, ActorId, Input, Msg, Outbox, Shared, SimTime, Transport, World, WorldConfig, run_world};
use std::sync::{Arc, Mutex};

type Seen = Arc<Mutex<Vec<(SimTime, String, &'static str)>>>;

/// An agent that registers with master-1 at Start and answers its pings.
struct Agent {
    name: String,
    seen: Seen,
}

impl Actor for Agent {
    type Timer = ();
    fn handle(&mut self, input: Input<()>, out: &mut Outbox<()>) {
        let master = ActorId::new("master-1");
        match input {
            Input::Start => {
                let slave = v1::AgentInfo { hostname: self.name.clone(), ..Default::default() };
                out.send(&master, internal::RegisterSlaveMessage { slave, ..Default::default() });
            }
            Input::Message { msg: Msg::PingSlave(_), .. } => out.send(&master, internal::PongSlaveMessage {}),
            Input::Message { msg, .. } => {
                self.seen.lock().unwrap().push((out.now(), self.name.clone(), msg.kind()));
            }
            _ => {}
        }
    }
}

fn masters() -> Vec<ActorId> {
    (1..=3).map(|i| ActorId::new(format!("master-{i}"))).collect()
}

type Outcome = (Vec<(SimTime, String, &'static str)>, Vec<(SimTime, MasterEvent)>, Option<SimTime>, String);

fn run(transport: Transport) -> Outcome {
    run_world(|| async move {
        let mut cfg = WorldConfig::new(7, transport);
        cfg.trace.digest = true;
        // At 5 s the leader is cut off from the other two masters.
        cfg.faults = Faults {
            partitions: vec![
                Partition::between(["master-1"], ["master-2", "master-3"]).starting(SimTime::from_secs(5)),
            ],
            ..Faults::default()
        };
        let w = World::new(cfg);
        let mut leader = None;
        for m in masters() {
            let cfg = MasterConfig {
                me: m.clone(),
                id: format!("{m}-id"),
                hostname: m.to_string(),
                registry: Some(RegistryConfig {
                    replicas: masters(),
                    quorum: 2,
                    disk: Disk::new(),
                    timeouts: Timeouts::default(),
                    leader_at_start: m.as_str() == "master-1",
                }),
                ..MasterConfig::default()
            };
            let core = Shared::new(Master::new(cfg));
            if m.as_str() == "master-1" {
                leader = Some(core.clone());
            }
            w.spawn(m, core, None);
        }
        let seen = Seen::default();
        w.sleep_until(SimTime::from_secs(1)).await;
        w.spawn(ActorId::new("agent-1"), Agent { name: "agent-1".into(), seen: seen.clone() }, None);
        // After the partition: this admission can reach no quorum.
        w.sleep_until(SimTime::from_secs(6)).await;
        w.spawn(ActorId::new("agent-2"), Agent { name: "agent-2".into(), seen: seen.clone() }, None);
        w.sleep_until(SimTime::from_secs(60)).await;
        assert_eq!(w.failure(), None);
        assert!(w.violations().is_empty(), "{:?}", w.violations());
        let exit = w.exit_of(&ActorId::new("master-1")).map(|e| e.at);
        let history = leader.unwrap().with(|m| m.history().to_vec());
        let digest = w.with_trace(|t| t.finish()).unwrap();
        let seen = seen.lock().unwrap().clone();
        (seen, history, exit, format!("{digest:?}"))
    })
}

#[test]
fn the_leader_persists_admissions_and_aborts_once_cut_off_from_the_quorum() {
    let (seen, history, exit, digest) = run(Transport::Grpc);
    let registered: Vec<_> = seen.iter().filter(|(_, _, k)| *k == "SlaveRegisteredMessage").collect();
    assert_eq!(registered.len(), 1, "{seen:?}");
    let (at, who, _) = registered[0];
    assert_eq!(who, "agent-1");
    // Answered after the AdmitSlave store: the link latencies and one 10 ms
    // disk write on each of a quorum of replicas.
    assert!(*at > SimTime::from_secs(1) && *at < SimTime(1_100_000), "{at}");
    // agent-2 registers at 6 s; its AdmitSlave never reaches a quorum and the
    // store times out 20 s later: master-1 exits.
    let exit = exit.expect("master-1 exited");
    assert!(exit > SimTime::from_secs(26) && exit < SimTime(26_100_000), "{exit}");
    let Some((_, MasterEvent::Aborted { reason })) = history.last() else { panic!("{history:?}") };
    assert_eq!(reason, "Failed to update registry: Failed to perform store within 20secs");

    // The same run on the memory transport: the same trace.
    let (seen_m, history_m, exit_m, digest_m) = run(Transport::Memory);
    assert_eq!((seen_m, history_m, Some(exit), digest_m), (seen, history, exit_m, digest));
}
