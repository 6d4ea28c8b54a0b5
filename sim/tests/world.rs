//! The world's own guarantees: per-step invariant checks, kills, connections, faults.

use mesocosm_sim::faults::{Faults, MessageFault};
use mesocosm_sim::proto::internal;
use mesocosm_sim::{Actor, ActorId, Input, Outbox, SimTime, Transport, World, WorldConfig, run_world};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Pings `peer` every second; breaks its invariant after `break_at` pings. Records what it hears.
struct Pinger {
    peer: Option<ActorId>,
    sent: u32,
    break_at: u32,
    heard: Arc<Mutex<Vec<String>>>,
}

impl Actor for Pinger {
    type Timer = ();
    fn handle(&mut self, input: Input<()>, out: &mut Outbox<()>) {
        let now = out.now();
        match input {
            Input::Start | Input::Timer(()) => {
                if let Some(p) = &self.peer {
                    // RegisterSlave opens a connection, so the peer hears of our death.
                    out.send(p, internal::RegisterSlaveMessage::default());
                    self.sent += 1;
                    out.set_timer(Duration::from_secs(1), ());
                }
            }
            Input::Message { from, msg } => self.heard.lock().unwrap().push(format!("{now} {from} {}", msg.kind())),
            Input::Disconnected { peer } => self.heard.lock().unwrap().push(format!("{now} {peer} disconnected")),
            Input::Exited { .. } => {}
        }
    }
    fn check_invariants(&self) -> Result<(), String> {
        if self.sent > self.break_at { Err(format!("sent {} > {}", self.sent, self.break_at)) } else { Ok(()) }
    }
}

fn world(faults: Faults) -> World {
    let mut cfg = WorldConfig::new(1, Transport::Memory);
    cfg.latency = mesocosm_sim::Latency::Fixed(Duration::from_millis(1));
    cfg.faults = faults;
    World::new(cfg)
}

#[test]
fn a_broken_invariant_is_reported_with_its_actor_and_time() {
    run_world(|| async {
        let w = world(Faults::default());
        let heard = Arc::default();
        w.spawn("b".into(), Pinger { peer: None, sent: 0, break_at: 0, heard: Arc::clone(&heard) }, None);
        w.spawn("a".into(), Pinger { peer: Some("b".into()), sent: 0, break_at: 2, heard }, None);
        w.sleep_until(SimTime::from_secs(5)).await;
        let v = w.violations();
        assert_eq!(v.len(), 3, "{v:?}");
        assert_eq!((v[0].at, v[0].actor.as_str(), v[0].problem.as_str()), (SimTime::from_secs(2), "a", "sent 3 > 2"));
    })
}

#[test]
fn a_killed_actor_stops_and_its_peer_is_told() {
    run_world(|| async {
        let w = world(Faults::default());
        let heard = Arc::new(Mutex::new(Vec::new()));
        w.spawn("b".into(), Pinger { peer: None, sent: 0, break_at: 99, heard: heard.clone() }, None);
        w.spawn("a".into(), Pinger { peer: Some("b".into()), sent: 0, break_at: 99, heard: Arc::default() }, None);
        w.sleep_until(SimTime(1_500_000)).await;
        assert!(w.kill(&"a".into(), 137));
        assert!(!w.kill(&"a".into(), 137), "a dead actor cannot be killed twice");
        w.sleep_until(SimTime::from_secs(5)).await;
        assert_eq!(w.exit_of(&"a".into()).map(|e| e.status), Some(137));
        let heard = heard.lock().unwrap().clone();
        assert_eq!(
            heard,
            ["0.001000s a RegisterSlaveMessage", "1.001000s a RegisterSlaveMessage", "1.501000s a disconnected"]
        );
    })
}

#[test]
fn message_faults_drop_only_what_they_pick() {
    run_world(|| async {
        let w = world(Faults {
            messages: vec![MessageFault::drop("RegisterSlaveMessage").from("a").nth(2).labelled("rule-1")],
            ..Faults::default()
        });
        let heard = Arc::new(Mutex::new(Vec::new()));
        w.spawn("b".into(), Pinger { peer: None, sent: 0, break_at: 99, heard: heard.clone() }, None);
        w.spawn("a".into(), Pinger { peer: Some("b".into()), sent: 0, break_at: 99, heard: Arc::default() }, None);
        w.sleep_until(SimTime(3_500_000)).await;
        let heard = heard.lock().unwrap().clone();
        assert_eq!(
            heard,
            [
                "0.001000s a RegisterSlaveMessage",
                "2.001000s a RegisterSlaveMessage",
                "3.001000s a RegisterSlaveMessage"
            ]
        );
        let r = w.fault_reports();
        assert_eq!((r[0].label.as_str(), r[0].applied), ("rule-1", 1));
    })
}
