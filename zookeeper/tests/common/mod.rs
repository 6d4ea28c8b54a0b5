//! The ensemble's cores wired together by a tiny deterministic network:
//! messages land at once, in order, unless a link is cut; timers fire in time
//! order. Clients are sessions or Mesos groups ([`Peer`]).
#![allow(dead_code)]

use mesocosm_proto::zookeeper::ServerReply;
use mesocosm_sim::{Actor, ActorId, Input, Msg, Outbox, Output, Refusal, SimTime};
use mesocosm_zookeeper::{Client, Group, GroupEvent, Server, ServerConfig, ServerTimer, ZkEvent};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::Duration;

/// A ZooKeeper client the network hosts: a bare session or a Mesos group.
pub trait Peer {
    type Event: Clone;
    fn tick(&self) -> Duration;
    fn on_tick(&mut self, out: &mut Outbox<()>) -> Vec<Self::Event>;
    fn on_reply(&mut self, from: &ActorId, r: ServerReply, out: &mut Outbox<()>) -> Vec<Self::Event>;
    fn on_disconnected(&mut self, from: &ActorId, out: &mut Outbox<()>) -> Vec<Self::Event>;
}

impl Peer for Client {
    type Event = ZkEvent;
    fn tick(&self) -> Duration {
        Client::tick(self)
    }
    fn on_tick(&mut self, out: &mut Outbox<()>) -> Vec<ZkEvent> {
        Client::on_tick(self, out)
    }
    fn on_reply(&mut self, from: &ActorId, r: ServerReply, out: &mut Outbox<()>) -> Vec<ZkEvent> {
        Client::on_reply(self, from, r, out)
    }
    fn on_disconnected(&mut self, from: &ActorId, out: &mut Outbox<()>) -> Vec<ZkEvent> {
        Client::on_disconnected(self, from, out)
    }
}

impl Peer for Group {
    type Event = GroupEvent;
    fn tick(&self) -> Duration {
        Group::tick(self)
    }
    fn on_tick(&mut self, out: &mut Outbox<()>) -> Vec<GroupEvent> {
        Group::on_tick(self, out)
    }
    fn on_reply(&mut self, from: &ActorId, r: ServerReply, out: &mut Outbox<()>) -> Vec<GroupEvent> {
        Group::on_reply(self, from, r, out)
    }
    fn on_disconnected(&mut self, from: &ActorId, out: &mut Outbox<()>) -> Vec<GroupEvent> {
        Group::on_disconnected(self, from, out)
    }
}

enum Delivery {
    Msg(Msg),
    Disconnected,
}

pub struct Net<C: Peer> {
    pub now: SimTime,
    pub servers: BTreeMap<ActorId, Server>,
    pub clients: BTreeMap<ActorId, C>,
    pub events: Vec<(SimTime, String, C::Event)>,
    cut: BTreeSet<(ActorId, ActorId)>,
    queue: VecDeque<(ActorId, ActorId, Delivery)>,
    /// Pending timers: whose, which server timer (none for a client's tick), which incarnation.
    timers: BTreeMap<(SimTime, u64), (ActorId, Option<ServerTimer>, u32)>,
    seq: u64,
    /// Each server's incarnation: a restarted server does not get its old timers.
    incarnations: BTreeMap<ActorId, u32>,
    /// Every message sent: (time, from, to, kind, summary).
    pub log: Vec<(SimTime, String, String, &'static str, String)>,
}

pub fn id(s: &str) -> ActorId {
    ActorId::new(s)
}

pub fn ensemble(n: usize) -> Vec<ActorId> {
    (1..=n).map(|i| id(&format!("zookeeper-00{i}"))).collect()
}

impl<C: Peer> Net<C> {
    pub fn new(n: usize) -> Net<C> {
        let mut net = Net {
            now: SimTime::ZERO,
            servers: BTreeMap::new(),
            clients: BTreeMap::new(),
            events: Vec::new(),
            cut: BTreeSet::new(),
            queue: VecDeque::new(),
            timers: BTreeMap::new(),
            seq: 0,
            incarnations: BTreeMap::new(),
            log: Vec::new(),
        };
        for i in 1..=n {
            net.start_server(i, n);
        }
        net.settle();
        net
    }

    /// A fresh ensemble that has elected its leader and synced ([`ELECTED`]).
    pub fn elected(n: usize) -> Net<C> {
        let mut net = Net::new(n);
        net.run_until(ELECTED);
        net
    }

    fn start_server(&mut self, myid: usize, n: usize) {
        let s = ensemble(n)[myid - 1].clone();
        *self.incarnations.entry(s.clone()).or_default() += 1;
        self.servers.insert(s.clone(), Server::new(ServerConfig::new(myid, ensemble(n))));
        self.step_server(&s, Input::Start);
    }

    /// Kill server `s`: the other servers and the clients learn that its
    /// connections closed; what is sent to it is lost.
    pub fn kill(&mut self, s: &str) {
        self.servers.remove(&id(s));
        let others: Vec<ActorId> = self.servers.keys().chain(self.clients.keys()).cloned().collect();
        for o in others {
            self.queue.push_back((id(s), o, Delivery::Disconnected));
        }
        self.settle();
    }

    /// Start server `s` again, empty (its disk is not modelled).
    pub fn restart(&mut self, s: &str) {
        let n = self.incarnations.len();
        let myid = ensemble(n).iter().position(|x| x.as_str() == s).unwrap() + 1;
        self.start_server(myid, n);
        self.settle();
    }

    fn is_cut(&self, a: &ActorId, b: &ActorId) -> bool {
        self.cut.contains(&(a.clone(), b.clone())) || self.cut.contains(&(b.clone(), a.clone()))
    }

    /// Cut `a` from each of `others` (messages between them are lost).
    pub fn partition(&mut self, a: &str, others: &[&str]) {
        for o in others {
            self.cut.insert((id(a), id(o)));
        }
    }

    pub fn heal(&mut self) {
        self.cut.clear();
    }

    fn timer(&mut self, at: SimTime, who: &ActorId) {
        self.seq += 1;
        self.timers.insert((at, self.seq), (who.clone(), None, 0));
    }

    fn carry<T: Copy + 'static>(&mut self, from: &ActorId, outputs: Vec<Output<T>>) {
        for o in outputs {
            // A server's timer keeps its kind (a tick or an election wait).
            if let Output::SetTimer { at, timer } = &o
                && let Some(t) = (timer as &dyn std::any::Any).downcast_ref::<ServerTimer>()
            {
                self.seq += 1;
                let inc = self.incarnations.get(from).copied().unwrap_or(0);
                self.timers.insert((*at, self.seq), (from.clone(), Some(*t), inc));
                continue;
            }
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

    pub fn with_client(&mut self, c: &str, f: impl FnOnce(&mut C, &mut Outbox<()>) -> Vec<C::Event>) {
        self.step_client(c, f);
        self.settle();
    }

    fn step_client(&mut self, c: &str, f: impl FnOnce(&mut C, &mut Outbox<()>) -> Vec<C::Event>) {
        let mut out = Outbox::new(self.now);
        let events = f(self.clients.get_mut(&id(c)).unwrap(), &mut out);
        for e in events {
            self.events.push((self.now, c.to_string(), e));
        }
        let outputs = out.take();
        self.carry(&id(c), outputs);
    }

    /// Host `client` as `c`; `start` connects it.
    pub fn add_client(&mut self, c: &str, client: C, start: impl FnOnce(&mut C, &mut Outbox<()>)) {
        let tick = client.tick();
        self.clients.insert(id(c), client);
        self.timer(self.now.after(tick), &id(c));
        self.with_client(c, |cl, out| {
            start(cl, out);
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
            } else if let Delivery::Msg(msg) = d
                && msg.needs_listener()
                && self.servers.contains_key(&from)
            {
                // A dead server's port refuses a connection.
                let refusal = Refusal::ConnectionRefused(format!("{to} is not running"));
                self.step_server(&from, Input::Refused { peer: to, kind: msg.kind(), refusal });
            }
        }
    }

    pub fn run_until(&mut self, t: SimTime) {
        self.settle();
        while let Some(entry) = self.timers.first_entry() {
            if entry.key().0 > t {
                break;
            }
            let ((at, _), (who, timer, inc)) = entry.remove_entry();
            self.now = at;
            if let Some(t) = timer {
                if self.servers.contains_key(&who) && self.incarnations.get(&who) == Some(&inc) {
                    self.step_server(&who, Input::Timer(t));
                }
            } else if self.clients.contains_key(&who) {
                let tick = self.clients[&who].tick();
                self.timer(at.after(tick), &who);
                self.with_client(who.as_str(), |cl, out| cl.on_tick(out));
            }
            self.settle();
        }
        self.now = t;
    }

    pub fn events_of(&self, c: &str) -> Vec<(SimTime, C::Event)> {
        self.events.iter().filter(|(_, who, _)| who == c).map(|(t, _, e)| (*t, e.clone())).collect()
    }

    /// Messages between the named actors, as "from → to kind summary".
    pub fn lines(&self, among: &[&str], since: usize) -> Vec<String> {
        self.log[since..]
            .iter()
            .filter(|(_, f, to, ..)| among.contains(&f.as_str()) && among.contains(&to.as_str()))
            .map(|(_, f, to, kind, summary)| format!("{f} → {to} {kind} {summary}"))
            .collect()
    }
}

/// When a fresh ensemble serves: the first votes at 0 decide `finalizeWait`
/// (200 ms) later; the followers' timers fire first here, so the leader
/// refuses their first connection and their retry 100 ms later syncs.
pub const ELECTED: SimTime = SimTime(300_000);

pub fn secs(s: u64) -> SimTime {
    SimTime::from_secs(s)
}
