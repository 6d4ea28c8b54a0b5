//! Mesos's ZooKeeper group: how masters contend for leadership and how
//! everyone detects the leader (`src/zookeeper/group.cpp`,
//! `src/zookeeper/contender.cpp`, `src/zookeeper/detector.cpp`, and the master
//! flavours in `src/master/contender/` and `src/master/detector/`).
//!
//! A [`Group`] owns one ZooKeeper [`Client`] session. Once connected it makes
//! sure the group's path exists (a persistent znode, `/mesos`; contender or
//! not, as `GroupProcess::connected` does), and a *contender* joins: it creates an ephemeral, sequential `json.info_` node
//! holding its `MasterInfo` as JSON. Contender or not, it then lists the
//! path's children with a watch; the member with the lowest sequence number is
//! the leader, whose data it reads. Every change to the children fires the
//! watch and the list is read again, so a leader whose session ends (its node
//! goes with it) is replaced by the next oldest member.
//!
//! ```text
//!   connect ─▶ create /mesos (exists is fine) ─▶ create /mesos/json.info_ (contender)
//!           ─▶ getChildren /mesos watch ─▶ getData lowest json.info_N ─▶ Leader
//!                      ▲                                                    │
//!                      └──────────── NodeChildrenChanged ◀──────────────────┘
//! ```
//!
//! Sessions: when the connection drops, Mesos's group arms a timer of the
//! session timeout and, if still disconnected when it fires, treats the
//! session as expired itself (`Group::timedout`), since a partitioned client
//! would otherwise never hear the ensemble's verdict. An expired contender
//! has lost its candidacy: the owner (a master) exits if it was the leader
//! ("Lost candidacy as a leader... committing suicide!", `Master::lostCandidacy`)
//! and otherwise contends again with a new session.

use crate::client::{Client, ZkEvent};
use mesocosm_proto::zk_codes::{create_mode, err, event};
use mesocosm_proto::zookeeper::ServerReply;
use mesocosm_sim::{ActorId, Outbox, SimTime};
use std::collections::BTreeMap;
use std::time::Duration;

/// The label Mesos ≥ 0.24 gives a master's group member (`MASTER_INFO_JSON_LABEL`).
pub const LABEL: &str = "json.info";

/// What the owner learns from its group.
#[derive(Clone, Debug, PartialEq)]
pub enum GroupEvent {
    /// The leader changed: its member's data (a `MasterInfo` as JSON), or
    /// `None` when the group has no member; `elected` when it is this contender.
    Leader { data: Option<Vec<u8>>, elected: bool },
    /// This contender's session ended (expired at the ensemble, or given up
    /// after a session timeout without a connection): it is no longer a member.
    CandidacyLost { was_elected: bool },
}

#[derive(Clone, Debug, PartialEq)]
enum Op {
    CreatePath,
    Join,
    List,
    Read(String),
}

/// One session's view of a Mesos group (see the module docs).
#[derive(Debug)]
pub struct Group {
    client: Client,
    path: String,
    /// The data a contender joins with; `None` for a detector only.
    data: Option<Vec<u8>>,
    pending: BTreeMap<i32, Op>,
    /// This contender's node name (`json.info_0000000002`), once joined.
    member: Option<String>,
    /// The leader's node name and data.
    leader: Option<(String, Vec<u8>)>,
    disconnected_since: Option<SimTime>,
    /// Whether the group's path is known to exist (GroupProcess::connected
    /// creates it, member or not, so a watcher's first list finds it).
    path_made: bool,
}

/// The sequence number of a member node `json.info_0000000003`, if it is one.
pub fn sequence(name: &str) -> Option<u64> {
    name.strip_prefix(LABEL)?.strip_prefix('_')?.parse().ok()
}

impl Group {
    /// A group member (`data: Some`) or detector (`None`) on `path` (`/mesos`
    /// from `zk://…/mesos`) through `client`.
    pub fn new(client: Client, path: &str, data: Option<Vec<u8>>) -> Group {
        Group {
            client,
            path: path.to_string(),
            data,
            pending: BTreeMap::new(),
            member: None,
            leader: None,
            disconnected_since: None,
            path_made: false,
        }
    }

    /// How often the owner calls [`Group::on_tick`].
    pub fn tick(&self) -> Duration {
        self.client.tick()
    }

    /// The session underneath.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Whether this contender is the leader.
    pub fn elected(&self) -> bool {
        matches!((&self.member, &self.leader), (Some(m), Some((l, _))) if m == l)
    }

    /// The leader's data, if one is known.
    pub fn leader(&self) -> Option<&[u8]> {
        self.leader.as_ref().map(|(_, d)| d.as_slice())
    }

    /// Start: connect.
    pub fn start<T>(&mut self, out: &mut Outbox<T>) {
        self.client.start(out);
    }

    /// The periodic check: the session's, and Mesos's own expiry of a session
    /// disconnected for a whole timeout.
    pub fn on_tick<T>(&mut self, out: &mut Outbox<T>) -> Vec<GroupEvent> {
        let timeout = self.client.timeout();
        let zk = self.client.on_tick(out);
        let mut events = self.handle(zk, out);
        if let Some(since) = self.disconnected_since
            && out.now().since(since) >= timeout
        {
            out.note(format!(
                "ZooKeeper session {:#x} treated as expired: disconnected for the {}s session timeout (Group::timedout)",
                self.client.session(),
                timeout.as_secs()
            ));
            events.extend(self.expired(out));
        }
        events
    }

    /// A ZooKeeper reply from `from`.
    pub fn on_reply<T>(&mut self, from: &ActorId, reply: ServerReply, out: &mut Outbox<T>) -> Vec<GroupEvent> {
        let zk = self.client.on_reply(from, reply, out);
        self.handle(zk, out)
    }

    /// The connection to `peer` broke.
    pub fn on_disconnected<T>(&mut self, peer: &ActorId, out: &mut Outbox<T>) -> Vec<GroupEvent> {
        let zk = self.client.on_disconnected(peer, out);
        self.handle(zk, out)
    }

    fn handle<T>(&mut self, zk: Vec<ZkEvent>, out: &mut Outbox<T>) -> Vec<GroupEvent> {
        let mut events = Vec::new();
        for e in zk {
            match e {
                ZkEvent::Connected { .. } => {
                    self.disconnected_since = None;
                    self.pending.clear();
                    if !self.path_made || (self.data.is_some() && self.member.is_none()) {
                        self.send(Op::CreatePath, out);
                    } else {
                        // A reconnection: re-read with a watch (the watches were on the old server).
                        self.send(Op::List, out);
                    }
                }
                ZkEvent::Disconnected => {
                    self.disconnected_since.get_or_insert(out.now());
                }
                ZkEvent::Expired => events.extend(self.expired(out)),
                ZkEvent::Watch { event: event::NODE_CHILDREN_CHANGED, path } if path == self.path => {
                    self.send(Op::List, out);
                }
                ZkEvent::Watch { .. } => {}
                ZkEvent::Reply { xid, err: e, reply } => {
                    if let Some(op) = self.pending.remove(&xid) {
                        events.extend(self.answered(op, e, *reply, out));
                    }
                }
            }
        }
        events
    }

    fn send<T>(&mut self, op: Op, out: &mut Outbox<T>) {
        let xid = match &op {
            // Mesos creates the group's path as persistent nodes (it may exist already).
            Op::CreatePath => self.client.create(&self.path, Vec::new(), 0, out),
            Op::Join => {
                let node = format!("{}/{LABEL}_", self.path);
                let data = self.data.clone().unwrap_or_default();
                self.client.create(&node, data, create_mode::EPHEMERAL | create_mode::SEQUENTIAL, out)
            }
            Op::List => self.client.get_children(&self.path, true, out),
            Op::Read(node) => self.client.get_data(&format!("{}/{node}", self.path), false, out),
        };
        if let Some(xid) = xid {
            self.pending.insert(xid, op);
        }
    }

    fn answered<T>(&mut self, op: Op, e: i32, reply: ServerReply, out: &mut Outbox<T>) -> Vec<GroupEvent> {
        match op {
            Op::CreatePath if e == err::OK || e == err::NODE_EXISTS => {
                self.path_made = true;
                self.send(if self.data.is_some() { Op::Join } else { Op::List }, out)
            }
            Op::Join if e == err::OK => {
                let path = reply.create.map(|c| c.path).unwrap_or_default();
                self.member = path.rsplit('/').next().map(str::to_string);
                self.send(Op::List, out);
            }
            Op::List if e == err::OK => {
                let children = reply.get_children2.map(|c| c.children).unwrap_or_default();
                let lowest = children.iter().filter_map(|c| Some((sequence(c)?, c))).min().map(|(_, c)| c.clone());
                match lowest {
                    None if self.leader.is_some() => {
                        self.leader = None;
                        return vec![GroupEvent::Leader { data: None, elected: false }];
                    }
                    None => {}
                    Some(node) if self.leader.as_ref().is_some_and(|(l, _)| *l == node) => {}
                    Some(node) => self.send(Op::Read(node), out),
                }
            }
            Op::Read(node) if e == err::OK => {
                let data = reply.get_data.map(|d| d.data).unwrap_or_default();
                self.leader = Some((node, data.clone()));
                return vec![GroupEvent::Leader { data: Some(data), elected: self.elected() }];
            }
            // The member went between the list and the read: the watch lists again.
            Op::Read(_) => {}
            op => out.note(format!("ZooKeeper answered {op:?} on {} with {}", self.path, err::name(e))),
        }
        Vec::new()
    }

    /// The session is gone: a contender lost its candidacy; everyone starts a
    /// new session (a master that was leading exits instead, on the event).
    ///
    /// Why "no leader" too: from the group's own view every membership went
    /// with the session, so `GroupProcess::expired` empties its memberships
    /// and updates the watches before it makes a new session, and the
    /// detectors watching it report no leader (an agent stops talking to a
    /// master it can no longer vouch for) until the new session lists the
    /// group again and finds the leader, the same or another.
    fn expired<T>(&mut self, out: &mut Outbox<T>) -> Vec<GroupEvent> {
        let was_elected = self.elected();
        let had_leader = self.leader.take().is_some();
        let was_member = self.member.take().is_some();
        self.disconnected_since = None;
        self.pending.clear();
        if let Some(s) = self.client.server().cloned() {
            out.disconnect(&s);
        }
        self.client.reset();
        self.client.start(out);
        let mut events = Vec::new();
        if self.data.is_some() && was_member {
            events.push(GroupEvent::CandidacyLost { was_elected });
        }
        if had_leader {
            events.push(GroupEvent::Leader { data: None, elected: false });
        }
        events
    }
}
