//! The world, not the transport, orders what reaches an actor at one instant.
//!
//! With one latency on every link, messages from several senders reach a
//! receiver at the same virtual instant. Memory puts each in the mailbox when
//! its link wakes; gRPC carries each through a different number of task hops
//! (a first call dials a connection, a SUBSCRIBE-like registration opens it),
//! so the order they land in differs between the two. The world's rule: at
//! one instant, a receiver handles what arrived by sender name, and each
//! sender's messages in the order it sent them (a link is FIFO).

use mesocosm_sim::proto::internal;
use mesocosm_sim::{Actor, ActorId, Input, Outbox, SimTime, Transport, World, WorldConfig, run_world};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// At 1 s and again at 2 s, sends `r` a few messages of different kinds.
struct Sender {
    kinds: usize,
}

impl Actor for Sender {
    type Timer = ();
    fn handle(&mut self, input: Input<()>, out: &mut Outbox<()>) {
        match input {
            Input::Start => out.set_timer(Duration::from_secs(1), ()),
            Input::Timer(()) => {
                let r: ActorId = "r".into();
                // The first registers (opens a connection), the rest are plain messages.
                out.send(&r, internal::RegisterSlaveMessage::default());
                if self.kinds > 1 {
                    out.send(&r, internal::PongSlaveMessage::default());
                }
                if self.kinds > 2 {
                    out.send(&r, internal::StatusUpdateMessage::default());
                }
                if out.now() < SimTime::from_secs(2) {
                    out.set_timer(Duration::from_secs(1), ());
                }
            }
            _ => {}
        }
    }
}

/// Records every input: when, from whom, what. Answers each message, so what
/// it handles first also decides the order of what it sends.
struct Receiver {
    seen: Arc<Mutex<Vec<String>>>,
}

impl Actor for Receiver {
    type Timer = ();
    fn handle(&mut self, input: Input<()>, out: &mut Outbox<()>) {
        if let Input::Message { from, msg } = input {
            self.seen.lock().unwrap().push(format!("{} {from} {}", out.now(), msg.kind()));
            out.send(&from, internal::PingSlaveMessage::default());
        }
    }
}

/// The senders, spawned neither in name order nor in reverse, each with how many messages it sends.
const SENDERS: [(&str, usize); 5] = [("agent-3", 1), ("agent-1", 3), ("zk-9", 2), ("agent-10", 2), ("master", 1)];

fn run(transport: Transport) -> (Vec<String>, String) {
    run_world(|| async move {
        let mut cfg = WorldConfig::new(7, transport);
        cfg.latency = mesocosm_sim::Latency::Fixed(Duration::from_millis(2));
        cfg.trace.digest = true;
        let w = World::new(cfg);
        let seen = Arc::new(Mutex::new(Vec::new()));
        w.spawn("r".into(), Receiver { seen: seen.clone() }, None);
        for (name, kinds) in SENDERS {
            w.spawn(name.into(), Sender { kinds }, None);
        }
        w.sleep_until(SimTime::from_secs(3)).await;
        assert_eq!(w.failure(), None);
        assert_eq!(w.violations(), []);
        let digest = w.with_trace(|t| t.finish()).unwrap();
        let seen = seen.lock().unwrap().clone();
        (seen, format!("{digest:?}"))
    })
}

/// What `r` must see at `at`: every sender by name, each one's messages in the order sent.
fn world_order(at: &str) -> Vec<String> {
    let mut senders = SENDERS.to_vec();
    senders.sort();
    let kinds = ["RegisterSlaveMessage", "PongSlaveMessage", "StatusUpdateMessage"];
    let mut order = Vec::new();
    for (name, n) in senders {
        for kind in &kinds[..n] {
            order.push(format!("{at} {name} {kind}"));
        }
    }
    order
}

#[test]
fn messages_from_several_senders_at_one_instant_are_handled_in_the_worlds_order_on_both_transports() {
    let (memory, digest_memory) = run(Transport::Memory);
    let (grpc, digest_grpc) = run(Transport::Grpc);
    let mut expected = world_order("1.002000s");
    expected.extend(world_order("2.002000s"));
    assert_eq!(memory, grpc, "the same order on both transports");
    assert_eq!(memory, expected, "the world's order");
    assert_eq!(digest_memory, digest_grpc, "the same trace on both transports");
}
