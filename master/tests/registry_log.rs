//! The replicated log's cores with exact messages: three masters' logs on a
//! tiny network the test drives (every message takes 1 ms; a cut node hears
//! nothing and is not heard).

use mesocosm_master::registry::Timer;
use mesocosm_master::registry::coordinator::Event;
use mesocosm_master::registry::log::ReplicatedLog;
use mesocosm_master::registry::replica::{DISK_WRITE, Disk, appended};
use mesocosm_proto::internal::log::{PromiseRequest, WriteRequest, action};
use mesocosm_sim::{ActorId, Msg, Outbox, Output, SimTime};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

const HOP: Duration = Duration::from_millis(1);

/// Who acts, and the message it receives (`None`: its disk timer).
type Due = (ActorId, Option<(ActorId, Msg)>);

struct Net {
    now: SimTime,
    logs: BTreeMap<ActorId, ReplicatedLog>,
    /// (at, seq) → what happens then.
    queue: BTreeMap<(SimTime, u64), Due>,
    seq: u64,
    cut: BTreeSet<ActorId>,
    events: Vec<(SimTime, ActorId, Event)>,
    /// Every message sent, as (from, to, msg).
    sent: Vec<(ActorId, ActorId, Msg)>,
}

fn id(s: &str) -> ActorId {
    ActorId::new(s)
}

impl Net {
    fn new(n: usize) -> Net {
        let names: Vec<ActorId> = (1..=n).map(|i| id(&format!("master-{i}"))).collect();
        let logs = names
            .iter()
            .map(|m| (m.clone(), ReplicatedLog::new(m.clone(), names.clone(), n / 2 + 1, Disk::new())))
            .collect();
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

    fn log(&self, m: &str) -> &ReplicatedLog {
        &self.logs[&id(m)]
    }

    fn push(&mut self, at: SimTime, who: ActorId, what: Option<(ActorId, Msg)>) {
        self.seq += 1;
        self.queue.insert((at, self.seq), (who, what));
    }

    fn absorb(&mut self, me: &ActorId, mut out: Outbox<Timer>, events: Vec<Event>) {
        for e in events {
            self.events.push((self.now, me.clone(), e));
        }
        for o in out.take() {
            match o {
                Output::Send { to, msg } => {
                    self.sent.push((me.clone(), to.clone(), msg.clone()));
                    if !self.cut.contains(me) && !self.cut.contains(&to) {
                        self.push(self.now.after(HOP), to, Some((me.clone(), msg)));
                    }
                }
                Output::SetTimer { at, .. } => self.push(at, me.clone(), None),
                _ => {}
            }
        }
    }

    fn with(&mut self, m: &str, f: impl FnOnce(&mut ReplicatedLog, &mut Outbox<Timer>) -> Vec<Event>) {
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
            let events = match &what {
                Some((from, msg)) => log.on_message(from, msg, &mut out),
                None => log.on_disk(&mut out),
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
    net.log(m).disk().lock().learned(p).and_then(appended).map(<[u8]>::to_vec)
}

#[test]
fn a_quorum_elects_then_appends_with_exact_messages() {
    let mut net = Net::new(3);
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
    let mut net = Net::new(3);
    net.cut.insert(id("master-2"));
    net.cut.insert(id("master-3"));
    net.with("master-1", |l, o| l.elect(o));
    net.run(SimTime::from_secs(120));
    assert!(net.events.is_empty(), "{:?}", net.events);
    assert!(!net.log("master-1").coordinator().unwrap().ready());

    // Elected with everyone, then cut off: the append is never chosen.
    let mut net = Net::new(3);
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
    let mut net = Net::new(3);
    net.with("master-1", |l, o| l.elect(o));
    net.run(ms(100));
    // master-3 misses two appends.
    net.cut.insert(id("master-3"));
    net.with("master-1", |l, o| l.append(b"one".to_vec(), o));
    net.run(ms(200));
    net.with("master-1", |l, o| l.append(b"two".to_vec(), o));
    net.run(ms(300));
    assert_eq!(append_bytes(&net, "master-3", 1), None);
    assert_eq!(net.log("master-3").disk().lock().end(), 0);

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
