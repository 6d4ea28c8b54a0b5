//! The replicated log's and the registrar's cores with exact messages:
//! three masters on a tiny network the test drives (every message takes
//! 1 ms; a cut node hears nothing and is not heard).

use mesocosm_master::registry::Timer;
use mesocosm_master::registry::coordinator::Event;
use mesocosm_master::registry::log::ReplicatedLog;
use mesocosm_master::registry::registrar::{Operation, Outcome, Registrar, Timeouts};
use mesocosm_master::registry::replica::{DISK_WRITE, Disk, appended};
use mesocosm_proto::internal::log::{PromiseRequest, WriteRequest, action};
use mesocosm_sim::{ActorId, Msg, Outbox, Output, SimTime};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

const HOP: Duration = Duration::from_millis(1);

/// A master's end the network drives: a bare log, or a registrar over one.
trait Node: Sized {
    type Ev: std::fmt::Debug;
    fn make(me: ActorId, all: Vec<ActorId>, quorum: usize) -> Self;
    fn message(&mut self, from: &ActorId, msg: &Msg, out: &mut Outbox<Timer>) -> Vec<Self::Ev>;
    fn timer(&mut self, t: Timer, out: &mut Outbox<Timer>) -> Vec<Self::Ev>;
}

impl Node for ReplicatedLog {
    type Ev = Event;
    fn make(me: ActorId, all: Vec<ActorId>, quorum: usize) -> Self {
        ReplicatedLog::new(me, all, quorum, Disk::new())
    }
    fn message(&mut self, from: &ActorId, msg: &Msg, out: &mut Outbox<Timer>) -> Vec<Event> {
        self.on_message(from, msg, out)
    }
    fn timer(&mut self, _: Timer, out: &mut Outbox<Timer>) -> Vec<Event> {
        self.on_disk(out)
    }
}

impl Node for Registrar {
    type Ev = Outcome;
    fn make(me: ActorId, all: Vec<ActorId>, quorum: usize) -> Self {
        Registrar::new(ReplicatedLog::new(me, all, quorum, Disk::new()), Timeouts::default())
    }
    fn message(&mut self, from: &ActorId, msg: &Msg, out: &mut Outbox<Timer>) -> Vec<Outcome> {
        self.on_message(from, msg, out)
    }
    fn timer(&mut self, t: Timer, out: &mut Outbox<Timer>) -> Vec<Outcome> {
        self.on_timer(t, out)
    }
}

/// Who acts, and on what: a message, or one of its timers.
enum What {
    Msg(ActorId, Msg),
    Timer(Timer),
}

struct Net<N: Node = ReplicatedLog> {
    now: SimTime,
    logs: BTreeMap<ActorId, N>,
    /// (at, seq) → what happens then.
    queue: BTreeMap<(SimTime, u64), (ActorId, What)>,
    seq: u64,
    cut: BTreeSet<ActorId>,
    events: Vec<(SimTime, ActorId, N::Ev)>,
    /// Every message sent, as (from, to, msg).
    sent: Vec<(ActorId, ActorId, Msg)>,
}

fn id(s: &str) -> ActorId {
    ActorId::new(s)
}

impl<N: Node> Net<N> {
    fn new(n: usize) -> Net<N> {
        let names: Vec<ActorId> = (1..=n).map(|i| id(&format!("master-{i}"))).collect();
        let logs = names.iter().map(|m| (m.clone(), N::make(m.clone(), names.clone(), n / 2 + 1))).collect();
        Net {
            now: SimTime::ZERO,
            logs,
            queue: BTreeMap::new(),
            seq: 0,
            cut: BTreeSet::new(),
            events: Vec::new(),
            sent: Vec::new(),
        }
    }

    fn node(&self, m: &str) -> &N {
        &self.logs[&id(m)]
    }

    fn push(&mut self, at: SimTime, who: ActorId, what: What) {
        self.seq += 1;
        self.queue.insert((at, self.seq), (who, what));
    }

    fn absorb(&mut self, me: &ActorId, mut out: Outbox<Timer>, events: Vec<N::Ev>) {
        for e in events {
            self.events.push((self.now, me.clone(), e));
        }
        for o in out.take() {
            match o {
                Output::Send { to, msg } => {
                    self.sent.push((me.clone(), to.clone(), msg.clone()));
                    if !self.cut.contains(me) && !self.cut.contains(&to) {
                        self.push(self.now.after(HOP), to, What::Msg(me.clone(), msg));
                    }
                }
                Output::SetTimer { at, timer } => self.push(at, me.clone(), What::Timer(timer)),
                _ => {}
            }
        }
    }

    fn with(&mut self, m: &str, f: impl FnOnce(&mut N, &mut Outbox<Timer>) -> Vec<N::Ev>) {
        let me = id(m);
        let mut out = Outbox::new(self.now);
        let events = f(self.logs.get_mut(&me).unwrap(), &mut out);
        self.absorb(&me, out, events);
    }

    /// Deliver everything due up to `until`.
    fn run(&mut self, until: SimTime) {
        while let Some(((at, _), _)) = self.queue.first_key_value() {
            if *at > until {
                break;
            }
            let ((at, _), (who, what)) = self.queue.pop_first().unwrap();
            self.now = at;
            let mut out = Outbox::new(at);
            let log = self.logs.get_mut(&who).unwrap();
            let events = match what {
                What::Msg(from, msg) => log.message(&from, &msg, &mut out),
                What::Timer(t) => log.timer(t, &mut out),
            };
            self.absorb(&who, out, events);
        }
        self.now = until;
    }

    fn messages_since(&self, n: usize) -> Vec<(String, String, Msg)> {
        self.sent[n..].iter().map(|(f, t, m)| (f.to_string(), t.to_string(), m.clone())).collect()
    }
}

fn ms(n: u64) -> SimTime {
    SimTime(n * 1000)
}

fn append_bytes(net: &Net, m: &str, p: u64) -> Option<Vec<u8>> {
    net.node(m).disk().lock().learned(p).and_then(appended).map(<[u8]>::to_vec)
}

#[test]
fn a_quorum_elects_then_appends_with_exact_messages() {
    let mut net: Net = Net::new(3);
    net.with("master-1", |l, o| l.elect(o));
    let implicit = Msg::from(PromiseRequest { proposal: 1, position: None });
    assert_eq!(
        net.messages_since(0),
        vec![
            ("master-1".into(), "master-2".into(), implicit.clone()),
            ("master-1".into(), "master-3".into(), implicit),
        ]
    );
    net.run(ms(100));
    // Each replica answers after its 10 ms disk write; the remote answers
    // take a hop each way, so the second answer (the quorum) lands at 12 ms.
    assert_eq!(net.events, vec![(ms(12), id("master-1"), Event::Elected { index: 0 })]);
    let before = net.sent.len();
    net.with("master-1", |l, o| l.append(b"hello".to_vec(), o));
    let write = Msg::from(WriteRequest {
        proposal: 1,
        position: 1,
        learned: None,
        r#type: action::Type::Append as i32,
        nop: None,
        append: Some(action::Append { bytes: b"hello".to_vec(), cksum: None }),
        truncate: None,
    });
    assert_eq!(
        net.messages_since(before),
        vec![("master-1".into(), "master-2".into(), write.clone()), ("master-1".into(), "master-3".into(), write),]
    );
    net.run(ms(200));
    // Chosen when the local write (10 ms) and one remote (1 + 10 + 1) are in.
    assert_eq!(net.events[1], (ms(112), id("master-1"), Event::Appended { position: 1 }));
    let learned: Vec<_> = net.messages_since(before + 2).into_iter().map(|(_, to, m)| (to, m.kind())).collect();
    assert!(learned.contains(&("master-2".to_string(), "LearnedMessage")), "{learned:?}");
    assert!(learned.contains(&("master-3".to_string(), "LearnedMessage")), "{learned:?}");
    for m in ["master-1", "master-2", "master-3"] {
        assert_eq!(append_bytes(&net, m, 1).as_deref(), Some(&b"hello"[..]), "{m}");
    }
    assert_eq!(DISK_WRITE, Duration::from_millis(10));
}

#[test]
fn a_minority_cannot_elect_nor_write() {
    let mut net: Net = Net::new(3);
    net.cut.insert(id("master-2"));
    net.cut.insert(id("master-3"));
    net.with("master-1", |l, o| l.elect(o));
    net.run(SimTime::from_secs(120));
    assert!(net.events.is_empty(), "{:?}", net.events);
    assert!(!net.node("master-1").coordinator().unwrap().ready());

    // Elected with everyone, then cut off: the append is never chosen.
    let mut net: Net = Net::new(3);
    net.with("master-1", |l, o| l.elect(o));
    net.run(ms(100));
    net.cut.insert(id("master-2"));
    net.cut.insert(id("master-3"));
    net.with("master-1", |l, o| l.append(b"x".to_vec(), o));
    net.run(SimTime::from_secs(120));
    assert_eq!(net.events.len(), 1, "{:?}", net.events);
    assert_eq!(append_bytes(&net, "master-1", 1), None);
}

#[test]
fn a_new_coordinator_learns_what_the_old_one_chose_and_a_lagging_replica_catches_up() {
    let mut net: Net = Net::new(3);
    net.with("master-1", |l, o| l.elect(o));
    net.run(ms(100));
    // master-3 misses two appends.
    net.cut.insert(id("master-3"));
    net.with("master-1", |l, o| l.append(b"one".to_vec(), o));
    net.run(ms(200));
    net.with("master-1", |l, o| l.append(b"two".to_vec(), o));
    net.run(ms(300));
    assert_eq!(append_bytes(&net, "master-3", 1), None);
    assert_eq!(net.node("master-3").disk().lock().end(), 0);

    // master-3 comes back and leads: its implicit promise (proposal 2, above
    // master-1's 1) learns the log ends at 2, then it fills 1 and 2 with
    // explicit promises (proposal 3); master-1 answers each with the action it
    // learned, so master-3 tells every replica (LearnedMessage) without a write.
    net.cut.clear();
    let before = net.sent.len();
    net.with("master-3", |l, o| l.elect(o));
    net.run(ms(1000));
    let kinds: Vec<_> = net
        .messages_since(before)
        .into_iter()
        .filter(|(from, to, _)| from == "master-3" && to == "master-1")
        .map(|(_, _, m)| m.summary())
        .collect();
    assert_eq!(
        kinds,
        vec!["proposal=2 (implicit)", "proposal=3 position=1", "position=1", "proposal=3 position=2", "position=2",]
    );
    assert_eq!(net.events.last().map(|e| &e.2), Some(&Event::Elected { index: 2 }));
    assert_eq!(append_bytes(&net, "master-3", 1).as_deref(), Some(&b"one"[..]));
    assert_eq!(append_bytes(&net, "master-3", 2).as_deref(), Some(&b"two"[..]));

    // The old coordinator's next write meets the higher promise: demoted.
    net.with("master-1", |l, o| l.append(b"three".to_vec(), o));
    net.run(ms(2000));
    assert!(
        net.events.iter().any(|(_, who, e)| who.as_str() == "master-1" && matches!(e, Event::Demoted { proposal: 2 })),
        "{:?}",
        net.events
    );
}

// ----- the registrar -----------------------------------------------------------

fn agent(n: u32) -> mesocosm_proto::v1::AgentInfo {
    mesocosm_proto::v1::AgentInfo {
        hostname: format!("agent-{n}"),
        id: Some(mesocosm_proto::v1::AgentId { value: format!("S{n}") }),
        ..Default::default()
    }
}

fn master_info(m: &str) -> mesocosm_proto::v1::MasterInfo {
    mesocosm_proto::v1::MasterInfo { id: format!("{m}-id"), hostname: Some(m.to_string()), ..Default::default() }
}

fn admitted(r: &mesocosm_proto::internal::Registry) -> Vec<String> {
    r.slaves.iter().flat_map(|s| &s.slaves).map(|s| s.info.hostname.clone()).collect()
}

fn recovered(net: &mut Net<Registrar>, m: &str) {
    net.with(m, |r, o| r.recover(master_info(m), o));
    net.run(net.now.after(Duration::from_millis(100)));
    assert!(net.node(m).ready(), "{:?}", net.events);
}

#[test]
fn recovery_of_a_fresh_log_stores_the_master_info_in_two_quorum_round_trips() {
    let mut net: Net<Registrar> = Net::new(3);
    net.with("master-1", |r, o| r.recover(master_info("master-1"), o));
    net.run(ms(1000));
    // Elected at 12 ms (promises: 10 ms disk + a hop each way), the
    // Recover(MasterInfo) snapshot chosen 12 ms later.
    let [(at, who, Outcome::Recovered(r))] = &net.events[..] else { panic!("{:?}", net.events) };
    assert_eq!((*at, who.as_str()), (ms(24), "master-1"));
    assert_eq!(r.master.as_ref().map(|m| m.info.id.as_str()), Some("master-1-id"));
    assert!(admitted(r).is_empty());
}

#[test]
fn operations_queued_during_a_store_are_applied_in_one_batch() {
    let mut net: Net<Registrar> = Net::new(3);
    recovered(&mut net, "master-1");
    let writes_before = net.sent.iter().filter(|(_, _, m)| m.kind() == "WriteRequest").count();
    let start = net.events.len();
    net.with("master-1", |r, o| r.apply(Operation::AdmitSlave(agent(1)), o));
    net.with("master-1", |r, o| r.apply(Operation::AdmitSlave(agent(2)), o));
    net.with("master-1", |r, o| r.apply(Operation::AdmitSlave(agent(3)), o));
    // Already admitted: the operation fails (upstream's perform returns an
    // Error, and the operation's future yields false).
    net.with("master-1", |r, o| r.apply(Operation::AdmitSlave(agent(2)), o));
    net.run(net.now.after(Duration::from_secs(1)));
    let outcomes: Vec<_> = net.events[start..].iter().map(|e| e.2.clone()).collect();
    assert_eq!(
        outcomes,
        vec![
            Outcome::Applied(vec![(Operation::AdmitSlave(agent(1)), true)]),
            Outcome::Applied(vec![
                (Operation::AdmitSlave(agent(2)), true),
                (Operation::AdmitSlave(agent(3)), true),
                (Operation::AdmitSlave(agent(2)), false),
            ]),
        ]
    );
    let writes = net.sent.iter().filter(|(_, _, m)| m.kind() == "WriteRequest").count() - writes_before;
    assert_eq!(writes, 2 * 2, "two stores, each to the two other replicas");
    assert_eq!(admitted(net.node("master-1").registry()), ["agent-1", "agent-2", "agent-3"]);
}

#[test]
fn unreachable_reachable_and_gone_move_agents_between_the_lists() {
    let mut net: Net<Registrar> = Net::new(3);
    recovered(&mut net, "master-1");
    let t = mesocosm_proto::v1::TimeInfo { nanoseconds: 5 };
    let ops = [
        Operation::AdmitSlave(agent(1)),
        Operation::AdmitSlave(agent(2)),
        Operation::MarkSlaveUnreachable(agent(1), t),
        Operation::MarkSlaveUnreachable(agent(9), t),
        Operation::MarkSlaveGone(agent(2).id.unwrap(), t),
        Operation::MarkSlaveReachable(agent(1)),
        Operation::RemoveSlave(agent(1)),
    ];
    let results: Vec<bool> = ops
        .iter()
        .map(|op| {
            let mut r = net.node("master-1").registry().clone();
            let ok = op.perform(&mut r).is_ok();
            net.with("master-1", |reg, o| reg.apply(op.clone(), o));
            net.run(net.now.after(Duration::from_secs(1)));
            ok
        })
        .collect();
    assert_eq!(results, [true, true, true, false, true, true, true]);
    let r = net.node("master-1").registry();
    assert!(admitted(r).is_empty());
    assert!(r.unreachable.as_ref().is_none_or(|u| u.slaves.is_empty()));
    let gone: Vec<_> = r.gone.iter().flat_map(|g| &g.slaves).map(|g| g.id.value.clone()).collect();
    assert_eq!(gone, ["S2"]);
}

#[test]
fn a_store_a_minority_cannot_make_fails_after_registry_store_timeout() {
    let mut net: Net<Registrar> = Net::new(3);
    recovered(&mut net, "master-1");
    net.cut.insert(id("master-2"));
    net.cut.insert(id("master-3"));
    let t0 = net.now;
    net.with("master-1", |r, o| r.apply(Operation::AdmitSlave(agent(1)), o));
    net.run(t0.after(Duration::from_secs(60)));
    let (at, _, last) = net.events.last().unwrap();
    assert_eq!(*at, t0.after(Duration::from_secs(20)));
    assert_eq!(*last, Outcome::Failed("Failed to update registry: Failed to perform store within 20secs".into()));
}

#[test]
fn a_fetch_without_a_quorum_fails_after_registry_fetch_timeout() {
    let mut net: Net<Registrar> = Net::new(3);
    net.cut.insert(id("master-1"));
    net.with("master-1", |r, o| r.recover(master_info("master-1"), o));
    net.run(SimTime::from_secs(600));
    let [(at, _, e)] = &net.events[..] else { panic!("{:?}", net.events) };
    assert_eq!(*at, SimTime::from_secs(60));
    assert_eq!(*e, Outcome::Failed("Failed to recover registrar: Failed to perform fetch within 1mins".into()));
}

#[test]
fn a_new_leader_recovers_the_agents_and_the_old_one_is_demoted() {
    let mut net: Net<Registrar> = Net::new(3);
    recovered(&mut net, "master-1");
    net.with("master-1", |r, o| r.apply(Operation::AdmitSlave(agent(1)), o));
    net.with("master-1", |r, o| r.apply(Operation::AdmitSlave(agent(2)), o));
    net.run(net.now.after(Duration::from_secs(1)));

    net.with("master-2", |r, o| r.recover(master_info("master-2"), o));
    net.run(net.now.after(Duration::from_secs(1)));
    let Some((_, who, Outcome::Recovered(r))) = net.events.last() else { panic!("{:?}", net.events) };
    assert_eq!(who.as_str(), "master-2");
    assert_eq!(admitted(r), ["agent-1", "agent-2"]);
    assert_eq!(r.master.as_ref().map(|m| m.info.id.as_str()), Some("master-2-id"));

    // The deposed leader's next store meets master-2's higher promise.
    net.with("master-1", |r, o| r.apply(Operation::AdmitSlave(agent(3)), o));
    net.run(net.now.after(Duration::from_secs(1)));
    let Some((_, who, e)) = net.events.last() else { unreachable!() };
    assert_eq!(who.as_str(), "master-1");
    assert_eq!(*e, Outcome::Failed("Failed to update registry: version mismatch".into()));
}
