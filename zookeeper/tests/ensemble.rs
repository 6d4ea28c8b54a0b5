//! The ensemble's cores wired together by a tiny deterministic network:
//! messages land at once, in order, unless a link is cut; timers fire in time
//! order. The tests assert the exact messages and what each client learns.

use mesocosm_proto::zk_codes::{create_mode, err, event};
use mesocosm_sim::{Actor, ActorId, Input, Msg, Outbox, Output, SimTime};
use mesocosm_zookeeper::{Client, Server, ServerConfig, ServerTimer, ZkEvent};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::Duration;

enum Delivery {
    Msg(Msg),
    Disconnected,
}

struct Net {
    now: SimTime,
    servers: BTreeMap<ActorId, Server>,
    clients: BTreeMap<ActorId, Client>,
    events: Vec<(SimTime, String, ZkEvent)>,
    cut: BTreeSet<(ActorId, ActorId)>,
    queue: VecDeque<(ActorId, ActorId, Delivery)>,
    timers: BTreeMap<(SimTime, u64), ActorId>,
    seq: u64,
    /// Every message sent: (time, from, to, kind, summary).
    log: Vec<(SimTime, String, String, &'static str, String)>,
}

fn id(s: &str) -> ActorId {
    ActorId::new(s)
}

fn ensemble(n: usize) -> Vec<ActorId> {
    (1..=n).map(|i| id(&format!("zookeeper-00{i}"))).collect()
}

impl Net {
    fn new(n: usize) -> Net {
        let mut net = Net {
            now: SimTime::ZERO,
            servers: BTreeMap::new(),
            clients: BTreeMap::new(),
            events: Vec::new(),
            cut: BTreeSet::new(),
            queue: VecDeque::new(),
            timers: BTreeMap::new(),
            seq: 0,
            log: Vec::new(),
        };
        for (i, s) in ensemble(n).into_iter().enumerate() {
            net.servers.insert(s.clone(), Server::new(ServerConfig::new(i + 1, ensemble(n))));
            net.step_server(&s, Input::Start);
        }
        net.settle();
        net
    }

    fn is_cut(&self, a: &ActorId, b: &ActorId) -> bool {
        self.cut.contains(&(a.clone(), b.clone())) || self.cut.contains(&(b.clone(), a.clone()))
    }

    /// Cut `a` from each of `others` (messages between them are lost).
    fn partition(&mut self, a: &str, others: &[&str]) {
        for o in others {
            self.cut.insert((id(a), id(o)));
        }
    }

    fn heal(&mut self) {
        self.cut.clear();
    }

    fn timer(&mut self, at: SimTime, who: &ActorId) {
        self.seq += 1;
        self.timers.insert((at, self.seq), who.clone());
    }

    fn carry<T>(&mut self, from: &ActorId, outputs: Vec<Output<T>>) {
        for o in outputs {
            match o {
                Output::Send { to, msg } if !self.is_cut(from, &to) => {
                    self.log.push((self.now, from.to_string(), to.to_string(), msg.kind(), msg.summary()));
                    self.queue.push_back((from.clone(), to, Delivery::Msg(msg)));
                }
                Output::Disconnect { peer } => self.queue.push_back((from.clone(), peer, Delivery::Disconnected)),
                Output::SetTimer { at, .. } => self.timer(at, from),
                _ => {}
            }
        }
    }

    fn step_server(&mut self, s: &ActorId, input: Input<ServerTimer>) {
        let mut out = Outbox::new(self.now);
        self.servers.get_mut(s).unwrap().handle(input, &mut out);
        self.servers[s].check_invariants().unwrap();
        let outputs = out.take();
        self.carry(s, outputs);
    }

    fn with_client(&mut self, c: &str, f: impl FnOnce(&mut Client, &mut Outbox<()>) -> Vec<ZkEvent>) {
        self.step_client(c, f);
        self.settle();
    }

    fn step_client(&mut self, c: &str, f: impl FnOnce(&mut Client, &mut Outbox<()>) -> Vec<ZkEvent>) {
        let mut out = Outbox::new(self.now);
        let events = f(self.clients.get_mut(&id(c)).unwrap(), &mut out);
        for e in events {
            self.events.push((self.now, c.to_string(), e));
        }
        let outputs = out.take();
        self.carry(&id(c), outputs);
    }

    fn add_client(&mut self, c: &str, first: usize) {
        let client = Client::new(ensemble(self.servers.len()), Duration::from_secs(10), first);
        let tick = client.tick();
        self.clients.insert(id(c), client);
        self.timer(self.now.after(tick), &id(c));
        self.with_client(c, |cl, out| {
            cl.start(out);
            Vec::new()
        });
    }

    fn settle(&mut self) {
        while let Some((from, to, d)) = self.queue.pop_front() {
            if self.servers.contains_key(&to) {
                let input = match d {
                    Delivery::Msg(msg) => Input::Message { from, msg },
                    Delivery::Disconnected => Input::Disconnected { peer: from },
                };
                self.step_server(&to, input);
            } else if self.clients.contains_key(&to) {
                let c = to.to_string();
                self.step_client(&c, |cl, out| match d {
                    Delivery::Msg(Msg::ZkReply(r)) => cl.on_reply(&from, *r, out),
                    Delivery::Msg(_) => Vec::new(),
                    Delivery::Disconnected => cl.on_disconnected(&from, out),
                });
            }
        }
    }

    fn run_until(&mut self, t: SimTime) {
        self.settle();
        while let Some(entry) = self.timers.first_entry() {
            if entry.key().0 > t {
                break;
            }
            let ((at, _), who) = entry.remove_entry();
            self.now = at;
            if self.servers.contains_key(&who) {
                self.step_server(&who, Input::Timer(ServerTimer::Tick));
            } else {
                let tick = self.clients[&who].tick();
                self.timer(at.after(tick), &who);
                self.with_client(who.as_str(), |cl, out| cl.on_tick(out));
            }
            self.settle();
        }
        self.now = t;
    }

    fn events_of(&self, c: &str) -> Vec<(SimTime, ZkEvent)> {
        self.events.iter().filter(|(_, who, _)| who == c).map(|(t, _, e)| (*t, e.clone())).collect()
    }

    /// Messages between the named actors, as "from → to kind summary".
    fn lines(&self, among: &[&str], since: usize) -> Vec<String> {
        self.log[since..]
            .iter()
            .filter(|(_, f, to, ..)| among.contains(&f.as_str()) && among.contains(&to.as_str()))
            .map(|(_, f, to, kind, summary)| format!("{f} → {to} {kind} {summary}"))
            .collect()
    }
}

fn secs(s: u64) -> SimTime {
    SimTime::from_secs(s)
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
    let mut net = Net::new(3);
    assert!(net.servers.values().all(Server::serving), "the leader's first ping makes every server serve");
    net.add_client("master-1", 0);
    assert_eq!(net.events_of("master-1"), vec![(SimTime::ZERO, ZkEvent::Connected { session: 0x0100000000000001 })]);
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
            "zookeeper-003 → zookeeper-001 PROPOSAL zxid=0x100000002 34 bytes",
            "zookeeper-003 → zookeeper-002 PROPOSAL zxid=0x100000002 34 bytes",
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
/// answered, and after syncLimit (5 ticks of 2 s) every server stops serving
/// and closes its clients' connections.
#[test]
fn a_minority_cannot_write() {
    let mut net = Net::new(3);
    net.add_client("master-1", 2);
    net.run_until(secs(1));
    net.partition("zookeeper-003", &["zookeeper-001", "zookeeper-002"]);
    net.with_client("master-1", |c, out| {
        assert_eq!(c.server(), Some(&id("zookeeper-003")));
        c.create("/mesos", vec![], 0, out);
        Vec::new()
    });
    net.run_until(secs(30));
    assert!(created(&net.events_of("master-1")).is_empty(), "no answer without a quorum");
    for s in net.servers.values() {
        assert!(s.tree().get("/mesos").is_none());
        assert!(!s.serving(), "no server hears a quorum");
    }
    let events = net.events_of("master-1");
    assert_eq!(events[1].1, ZkEvent::Disconnected);
    // The leader last heard its followers at 0 s; its tick at 12 s is the first past the 10 s syncLimit.
    assert_eq!(events[1].0, secs(12));
    // The quorum comes back: the leader commits what it had proposed.
    net.heal();
    net.run_until(secs(60));
    assert!(net.servers.values().all(|s| s.serving() && s.tree().get("/mesos").is_some()));
}

/// A client that goes silent loses its session after the timeout: the leader
/// closes it, its ephemeral sequential node goes, and the other client's child
/// watch fires, once. The silent client, back, learns its session expired.
#[test]
fn an_ephemeral_node_goes_when_its_session_expires_and_the_watch_fires_once() {
    let mut net = Net::new(3);
    net.add_client("master-1", 0);
    net.add_client("master-2", 1);
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
    let mut net = Net::new(1);
    net.add_client("agent-1", 0);
    net.with_client("agent-1", |c, out| {
        c.create("/mesos", vec![], 0, out);
        c.create("/mesos", vec![], 0, out);
        Vec::new()
    });
    assert_eq!(created(&net.events_of("agent-1")), vec![(err::OK, "/mesos".into()), (err::NODE_EXISTS, "".into())]);
}
