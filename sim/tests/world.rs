//! The world's own guarantees: per-step invariant checks, kills, connections, faults.

use mesocosm_sim::faults::{Faults, MessageFault};
use mesocosm_sim::proto::{internal, scheduler};
use mesocosm_sim::{
    Actor, ActorId, Input, Outbox, Refusal, RunFailure, SimTime, Transport, World, WorldConfig, run_world,
};
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
            Input::Refused { peer, kind, refusal } => {
                self.heard.lock().unwrap().push(format!("{now} {peer} refused {kind}: {refusal}"))
            }
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

fn world_on(transport: Transport) -> World {
    let mut cfg = WorldConfig::new(1, transport);
    cfg.latency = mesocosm_sim::Latency::Fixed(Duration::from_millis(1));
    cfg.trace.digest = true;
    World::new(cfg)
}

/// Panics on the third message it gets, as a core with a bug would.
struct Bomb {
    got: u32,
}

impl Actor for Bomb {
    type Timer = ();
    fn handle(&mut self, input: Input<()>, _out: &mut Outbox<()>) {
        if let Input::Message { .. } = input {
            self.got += 1;
            if self.got == 3 {
                panic!("boom on message {}", self.got);
            }
        }
    }
}

/// Runs `a` pinging a [`Bomb`]; returns the failure, the messages traced by 10 s,
/// and whether `failed()` returned before 10 s.
fn run_bomb(transport: Transport) -> (Option<RunFailure>, u64, bool) {
    run_world(|| async move {
        let w = world_on(transport);
        w.spawn("bomb".into(), Bomb { got: 0 }, None);
        w.spawn("a".into(), Pinger { peer: Some("bomb".into()), sent: 0, break_at: 99, heard: Arc::default() }, None);
        let stopped = tokio::select! { biased;
            _ = w.failed() => true,
            _ = w.sleep_until(SimTime::from_secs(10)) => false,
        };
        w.sleep_until(SimTime::from_secs(10)).await;
        (w.failure(), w.with_trace(|t| t.messages()), stopped)
    })
}

#[test]
fn a_panicking_core_fails_the_run_naming_actor_time_and_input_and_replays() {
    for transport in [Transport::Memory, Transport::Grpc] {
        let (failure, messages, stopped) = run_bomb(transport);
        assert!(stopped, "{transport:?}: failed() returns when a core panics");
        let Some(RunFailure::Panic { at, actor, input, message }) = failure.clone() else {
            panic!("{transport:?}: expected a panic failure, got {failure:?}")
        };
        assert_eq!((at, actor.as_str()), (SimTime(2_001_000), "bomb"), "{transport:?}");
        assert_eq!(input, "RegisterSlaveMessage (mesos.internal.RegisterSlaveMessage) from a");
        assert!(message.starts_with("boom on message 3 (at sim/tests/world.rs:"), "{message}");
        // Nothing runs after the panic: `a` pinged at 0, 1 and 2 s, never at 3 s.
        assert_eq!(messages, 3, "{transport:?}");
        let text = failure.unwrap().to_string();
        assert!(text.starts_with("bomb panicked at 2.001000s handling RegisterSlaveMessage"), "{text}");
        // The same run replays to the same panic.
        assert_eq!(run_bomb(transport).0, Some(RunFailure::Panic { at, actor, input, message }));
    }
}

/// Re-arms a zero-delay timer forever once its first timer fires at 1 s.
struct Spinner;

impl Actor for Spinner {
    type Timer = u8;
    fn handle(&mut self, input: Input<u8>, out: &mut Outbox<u8>) {
        match input {
            Input::Start => out.set_timer(Duration::from_secs(1), 0),
            Input::Timer(_) => out.set_timer(Duration::ZERO, 7),
            _ => {}
        }
    }
}

#[test]
fn a_core_that_rearms_a_zero_delay_timer_is_a_livelock_that_fails_the_run() {
    run_world(|| async {
        let mut cfg = WorldConfig::new(1, Transport::Memory);
        cfg.max_steps_per_instant = 1000;
        let w = World::new(cfg);
        w.spawn("spinner".into(), Spinner, None);
        let stopped = tokio::select! { biased;
            _ = w.failed() => true,
            _ = w.sleep_until(SimTime::from_secs(5)) => false,
        };
        assert!(stopped, "the livelock is detected instead of hanging");
        let f = w.failure().expect("a failure");
        assert_eq!(
            f,
            RunFailure::Livelock {
                at: SimTime::from_secs(1),
                actor: "spinner".into(),
                steps: 1000,
                input: "timer 7".into()
            }
        );
        assert_eq!(
            f.to_string(),
            "spinner handled 1000 inputs at 1.000000s without virtual time advancing (a livelock; the last was timer 7)"
        );
    })
}

#[test]
fn the_default_livelock_bound_is_a_million_steps_at_one_instant() {
    assert_eq!(WorldConfig::new(1, Transport::Grpc).max_steps_per_instant, 1_000_000);
}

/// Refuses every scheduler call, as a master refuses an unsubscribed scheduler.
struct Gate;

impl Actor for Gate {
    type Timer = ();
    fn handle(&mut self, input: Input<()>, out: &mut Outbox<()>) {
        if let Input::Message { .. } = input {
            out.refuse(Refusal::Forbidden("Framework is not subscribed".into()));
        }
    }
}

/// Sends one DECLINE at 1 s; records what it hears.
struct Caller {
    heard: Arc<Mutex<Vec<String>>>,
}

impl Actor for Caller {
    type Timer = ();
    fn handle(&mut self, input: Input<()>, out: &mut Outbox<()>) {
        let now = out.now();
        match input {
            Input::Start => out.set_timer(Duration::from_secs(1), ()),
            Input::Timer(()) => {
                let mut c = scheduler::Call::default();
                c.set_type(scheduler::call::Type::Decline);
                out.send(&"gate".into(), c);
            }
            Input::Refused { peer, kind, refusal } => {
                self.heard.lock().unwrap().push(format!("{now} {peer} refused {kind}: {refusal}"))
            }
            other => self.heard.lock().unwrap().push(format!("{now} {other:?}")),
        }
    }
}

#[test]
fn a_refused_call_reaches_the_caller_as_its_answer_alike_on_both_transports() {
    let mut seen = Vec::new();
    for transport in [Transport::Memory, Transport::Grpc] {
        let (heard, digest, failure) = run_world(|| async move {
            let w = world_on(transport);
            let heard = Arc::new(Mutex::new(Vec::new()));
            w.spawn("gate".into(), Gate, None);
            w.spawn("caller".into(), Caller { heard: heard.clone() }, None);
            w.sleep_until(SimTime::from_secs(3)).await;
            let digest = w.with_trace(|t| t.finish()).unwrap();
            let heard = heard.lock().unwrap().clone();
            (heard, digest, w.failure())
        });
        assert_eq!(failure, None, "{transport:?}: a refusal is an answer, not a failure");
        assert_eq!(
            heard,
            ["1.001000s gate refused DECLINE: 403 Forbidden: Framework is not subscribed"],
            "{transport:?}"
        );
        seen.push(digest);
    }
    assert_eq!(seen[0], seen[1], "the refusal is in the trace, the same on both transports");
}

/// Any name crosses either transport: non-ASCII, spaces, `%`, thousands of characters.
#[test]
fn any_actor_name_crosses_both_transports() {
    let long = format!("driver:{}", "ünïcødé app ".repeat(400));
    let names = ["ápp", "agent with spaces", "100%-done", "driver:名前 / タスク", long.as_str()];
    let mut seen = Vec::new();
    for transport in [Transport::Memory, Transport::Grpc] {
        let (heard, digest, failure) = run_world(|| async move {
            let w = world_on(transport);
            let heard = Arc::new(Mutex::new(Vec::new()));
            w.spawn("b".into(), Pinger { peer: None, sent: 0, break_at: 99, heard: heard.clone() }, None);
            for n in names {
                w.spawn(
                    n.into(),
                    Pinger { peer: Some("b".into()), sent: 0, break_at: 99, heard: Arc::default() },
                    None,
                );
            }
            w.sleep_until(SimTime(1_500_000)).await;
            let digest = w.with_trace(|t| t.finish()).unwrap();
            let mut heard = heard.lock().unwrap().clone();
            heard.sort();
            (heard, digest, w.failure())
        });
        assert_eq!(failure, None, "{transport:?}");
        assert_eq!(heard.len(), 2 * names.len(), "{transport:?}: every ping arrived: {heard:?}");
        for n in names {
            assert!(heard.contains(&format!("0.001000s {n} RegisterSlaveMessage")), "{transport:?}: {n}");
        }
        seen.push((heard, digest));
    }
    assert_eq!(seen[0], seen[1]);
}

/// A name no HTTP/2 header can carry (beyond the server's header list limit)
/// is a transport refusal: the run fails naming the message, never a silent drop.
#[test]
fn a_message_the_transport_refuses_fails_the_run_naming_it() {
    run_world(|| async {
        let w = world_on(Transport::Grpc);
        let huge = "x".repeat(5 << 20);
        w.spawn("b".into(), Pinger { peer: None, sent: 0, break_at: 99, heard: Arc::default() }, None);
        w.spawn(
            huge.as_str().into(),
            Pinger { peer: Some("b".into()), sent: 0, break_at: 99, heard: Arc::default() },
            None,
        );
        w.sleep_until(SimTime::from_secs(3)).await;
        match w.failure() {
            Some(RunFailure::Transport { at, from, to, kind, status }) => {
                assert_eq!(
                    (at, from.as_str(), to.as_str(), kind.as_str()),
                    (SimTime(1_000), huge.as_str(), "b", "RegisterSlaveMessage")
                );
                assert!(!status.is_empty());
            }
            other => panic!("expected a transport failure, got {other:?}"),
        }
    })
}

/// Sends two messages at the same instant, at 1 s.
struct Pair;

impl Actor for Pair {
    type Timer = ();
    fn handle(&mut self, input: Input<()>, out: &mut Outbox<()>) {
        match input {
            Input::Start => out.set_timer(Duration::from_secs(1), ()),
            Input::Timer(()) => {
                out.send(&"r".into(), internal::RegisterSlaveMessage::default());
                out.send(&"r".into(), internal::PongSlaveMessage::default());
            }
            _ => {}
        }
    }
}

/// On its first message, sets a zero-delay timer; records the order of its inputs.
struct Recorder {
    seen: Arc<Mutex<Vec<String>>>,
}

impl Actor for Recorder {
    type Timer = ();
    fn handle(&mut self, input: Input<()>, out: &mut Outbox<()>) {
        let mut seen = self.seen.lock().unwrap();
        match input {
            Input::Message { msg, .. } => {
                if seen.is_empty() {
                    out.set_timer(Duration::ZERO, ());
                }
                seen.push(format!("{} {}", out.now(), msg.kind()));
            }
            Input::Timer(()) => seen.push(format!("{} timer", out.now())),
            _ => {}
        }
    }
}

/// Memory puts both messages in the mailbox when the link wakes, so the timer
/// comes after both; gRPC carries them one by one, and the world holds the timer
/// until the second has landed, so the order is the same.
#[test]
fn a_zero_delay_timer_waits_for_messages_in_transit_at_its_instant() {
    for transport in [Transport::Memory, Transport::Grpc] {
        let seen = run_world(|| async move {
            let w = world_on(transport);
            let seen = Arc::new(Mutex::new(Vec::new()));
            w.spawn("r".into(), Recorder { seen: seen.clone() }, None);
            w.spawn("s".into(), Pair, None);
            w.sleep_until(SimTime::from_secs(2)).await;
            assert_eq!(w.violations(), []);
            seen.lock().unwrap().clone()
        });
        assert_eq!(
            seen,
            ["1.001000s RegisterSlaveMessage", "1.001000s PongSlaveMessage", "1.001000s timer"],
            "{transport:?}"
        );
    }
}
