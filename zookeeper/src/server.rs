//! One ZooKeeper server: a client port, and ZAB's broadcast among the ensemble.
//!
//! Every server holds the same [`Tree`] by applying the same committed
//! transactions in zxid order. Reads are answered locally (so a follower may
//! answer from a slightly older tree, as ZooKeeper does); writes (create,
//! delete, session creation and closing) go to the leader, which turns each
//! into a transaction, *proposes* it to the followers, and *commits* it once a
//! quorum (a majority of the ensemble, itself included) has acknowledged it:
//!
//! ```text
//!  client ──create──▶ follower ──REQUEST──▶ leader ──PROPOSAL──▶ followers
//!                                              ◀──────ACK──────── (a quorum)
//!  client ◀─CreateResponse── follower ◀──COMMIT── leader ──COMMIT──▶ followers
//! ```
//!
//! The leader pings its followers every tick (`tickTime`, 2 s in ZooKeeper's
//! sample `zoo.cfg`); a follower answers with the sessions its clients touched
//! and the last zxid it applied, and the leader re-sends what it missed. A
//! server that has not heard its quorum for `syncLimit` ticks (5) stops
//! serving and goes LOOKING: it closes its clients' connections, which then
//! try another server. So a minority can neither write nor, after `syncLimit`
//! ticks, read.
//!
//! Sessions live in the tree (created and closed by transactions) but only the
//! leader expires them: a session none of whose servers reported it for its
//! timeout is closed by a `closeSession` transaction that deletes its
//! ephemeral nodes, whose watches then fire on every server.
//!
//! Who leads is not fixed: a server starts LOOKING, and so does one that
//! loses its leader or its quorum. Fast Leader Election ([`crate::election`])
//! picks the leader, and the new leader syncs the others before anyone serves
//! (`peer`: discovery, DIFF/TRUNC, NEWLEADER, UPTODATE).

mod peer;

use crate::election::{Election, Vote};
use crate::tree::{Tree, WatchKind};
use mesocosm_proto::zk_codes::{err, op, packet, state, xid};
use mesocosm_proto::zookeeper::{
    ClientRequest, CloseSessionTxn, ConnectResponse, CreateResponse, CreateSessionTxn, ErrorTxn, ExistsResponse,
    GetChildren2Response, GetDataResponse, LearnerRequest, QuorumPacket, ReplyHeader, ServerReply, SessionTouches,
    TxnHeader, TxnRecord, WatcherEvent, session_touches::Touch,
};
use mesocosm_sim::{Actor, ActorId, Input, Msg, Outbox, SimTime};
use prost::Message;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// A server's configuration: `zoo.cfg` and its `myid`.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// This server's `myid` (1-based: its place in `ensemble`).
    pub myid: usize,
    /// Every server, `server.1` first.
    pub ensemble: Vec<ActorId>,
    /// `tickTime`: the leader's ping period and the unit of the limits.
    pub tick: Duration,
    /// `syncLimit`: ticks without hearing its quorum before a server stops serving.
    pub sync_limit: u32,
    /// Sessions a fault expires (`expire_session`): at each instant, the
    /// server holding that client's connection has the leader close its
    /// session (see [`Server::expire_by_fault`]).
    pub expire: Vec<(SimTime, ActorId)>,
    /// `initLimit`: ticks a new leader and its followers have to sync.
    pub init_limit: u32,
}

impl ServerConfig {
    /// Server `myid` of `ensemble` with ZooKeeper's sample `zoo.cfg`
    /// (`tickTime=2000`, `initLimit=10`, `syncLimit=5`).
    pub fn new(myid: usize, ensemble: Vec<ActorId>) -> ServerConfig {
        ServerConfig { myid, ensemble, tick: Duration::from_secs(2), sync_limit: 5, init_limit: 10, expire: Vec::new() }
    }

    /// A majority of the ensemble.
    pub fn quorum(&self) -> usize {
        self.ensemble.len() / 2 + 1
    }

    /// The session timeouts a server grants: 2 to 20 ticks (`minSessionTimeout`,
    /// `maxSessionTimeout` defaults); a client asking 10 s gets 10 s.
    fn negotiate(&self, asked_ms: i32) -> i32 {
        let tick = self.tick.as_millis() as i32;
        asked_ms.clamp(2 * tick, 20 * tick)
    }
}

/// The server's timers: the tick, a fault's session expiry (the index into
/// [`ServerConfig::expire`]), Fast Leader Election's wait for the next
/// notification, and a follower's next try to connect to its leader
/// (numbered: only the latest of each counts).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServerTimer {
    Tick,
    Expire(usize),
    Election(u64),
    Connect(u64),
}

/// Whom to answer when a write commits: the client that asked, on this server.
#[derive(Clone, Debug)]
enum Awaiting {
    Reply { client: ActorId, xid: i32 },
    Connect { client: ActorId },
}

#[derive(Debug)]
struct Leading {
    /// The tree with every proposal applied, committed or not (outstanding changes).
    prep: Tree,
    /// Proposals awaiting a quorum, by zxid, with who acknowledged them.
    proposals: BTreeMap<i64, (TxnRecord, BTreeSet<ActorId>)>,
    next_counter: i64,
    heard: BTreeMap<ActorId, SimTime>,
    /// When each session expires unless touched, rounded up to a tick (ExpiryQueue).
    deadlines: BTreeMap<i64, SimTime>,
    /// The new epoch, once a quorum's FOLLOWERINFO fixed it (0 before).
    epoch: i64,
    /// When this server started leading (for `initLimit`).
    since: SimTime,
    /// Learners' accepted epochs (FOLLOWERINFO), their last zxids (ACKEPOCH),
    /// those synced (sent NEWLEADER), those that acknowledged NEWLEADER.
    infos: BTreeMap<ActorId, i64>,
    epoch_acks: BTreeMap<ActorId, i64>,
    synced: BTreeSet<ActorId>,
    newleader_acks: BTreeSet<ActorId>,
    /// Followers in the broadcast phase: they get proposals, commits and pings.
    forwarding: BTreeSet<ActorId>,
    /// A quorum acknowledged NEWLEADER: the leader serves.
    established: bool,
}

/// Where a follower is in joining its leader.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Sent FOLLOWERINFO, waiting for LEADERINFO.
    Discovery,
    /// Acknowledged the epoch, being synced.
    Synchronization,
    /// Got UPTODATE: serving.
    Broadcast,
}

#[derive(Debug)]
struct Following {
    leader: ActorId,
    phase: Phase,
    since: SimTime,
    /// Connection attempts to the leader so far (`connectToLeader` makes 5).
    tries: u32,
    heard: Option<SimTime>,
    committed: i64,
    touches: BTreeMap<i64, i32>,
}

#[derive(Debug)]
enum Role {
    Looking(Box<Election>),
    Leading(Box<Leading>),
    Following(Following),
}

/// The epoch part of a zxid (its high 32 bits).
fn epoch_of(zxid: i64) -> i64 {
    zxid >> 32
}

/// One ZooKeeper server's core.
#[derive(Debug)]
pub struct Server {
    cfg: ServerConfig,
    me: ActorId,
    tree: Tree,
    serving: bool,
    role: Role,
    /// Connected clients and their session (0 while the session is being created).
    clients: BTreeMap<ActorId, i64>,
    watches: BTreeMap<(WatchKind, String), BTreeSet<ActorId>>,
    awaiting: BTreeMap<(i64, i32), Awaiting>,
    next_session: i64,
    /// The [`ServerConfig::expire`] entries this server applied.
    expired_by_fault: Vec<usize>,
    /// Every committed transaction in zxid order (the txn log; the tree is its fold).
    history: Vec<TxnRecord>,
    /// Proposals logged but not yet committed, by zxid.
    logged: BTreeMap<i64, TxnRecord>,
    /// The last epoch this server agreed to (LEADERINFO) and the one it joined (NEWLEADER).
    accepted_epoch: i64,
    current_epoch: i64,
    /// The last election epoch, and the vote that election ended with.
    logicalclock: i64,
    vote: Option<(Vote, i64)>,
    /// The number of the only election timer that counts.
    election_timer: u64,
}

impl Server {
    /// Server `cfg.myid`.
    pub fn new(cfg: ServerConfig) -> Server {
        let me = cfg.ensemble[cfg.myid - 1].clone();
        // Not started yet: LOOKING, with no vote sent (Input::Start starts the election).
        let own = Vote { leader: cfg.myid as u64, zxid: 0, peer_epoch: 0 };
        let role = Role::Looking(Box::new(Election::start(own, cfg.ensemble.len(), 0)));
        Server {
            cfg,
            me,
            tree: Tree::new(),
            serving: false,
            role,
            clients: BTreeMap::new(),
            watches: BTreeMap::new(),
            awaiting: BTreeMap::new(),
            next_session: 1,
            expired_by_fault: Vec::new(),
            history: Vec::new(),
            logged: BTreeMap::new(),
            accepted_epoch: 0,
            current_epoch: 0,
            logicalclock: 0,
            vote: None,
            election_timer: 0,
        }
    }

    /// The committed tree this server answers reads from.
    pub fn tree(&self) -> &Tree {
        &self.tree
    }

    /// Whether the server serves clients (it hears its quorum).
    pub fn serving(&self) -> bool {
        self.serving
    }

    /// Whether this server is the leader.
    pub fn leading(&self) -> bool {
        matches!(self.role, Role::Leading(_))
    }

    fn sync_window(&self) -> Duration {
        self.cfg.tick * self.cfg.sync_limit
    }

    /// The followers a leader broadcasts to (those in the broadcast phase).
    fn followers(&self) -> Vec<ActorId> {
        match &self.role {
            Role::Leading(l) => l.forwarding.iter().cloned().collect(),
            _ => Vec::new(),
        }
    }

    /// Every other server of the ensemble.
    fn peers(&self) -> impl Iterator<Item = &ActorId> {
        self.cfg.ensemble.iter().filter(move |s| **s != self.me)
    }

    fn send_packet(&self, to: &ActorId, r#type: i32, zxid: i64, data: Vec<u8>, out: &mut Outbox<ServerTimer>) {
        out.send(to, QuorumPacket { r#type, zxid, data });
    }

    fn on_tick(&mut self, out: &mut Outbox<ServerTimer>) {
        out.set_timer(self.cfg.tick, ServerTimer::Tick);
        if !self.check_peers(out) {
            return;
        }
        if let Role::Leading(l) = &self.role
            && l.established
        {
            let committed = self.tree.last_zxid();
            for f in self.followers() {
                self.send_packet(&f, packet::PING, committed, Vec::new(), out);
            }
        }
        if self.serving {
            self.expire_sessions(out);
        }
    }

    /// Start or stop serving: a server that lost its quorum closes every
    /// client connection (Learner.shutdown / Leader.shutdown), so clients move on.
    fn set_serving(&mut self, serving: bool, out: &mut Outbox<ServerTimer>) {
        if serving == self.serving {
            return;
        }
        self.serving = serving;
        if serving {
            out.note(format!("{} serves clients: it hears a quorum of {}", self.me, self.cfg.quorum()));
            if let Role::Leading(l) = &mut self.role {
                // A new leader gives every session a full timeout (SessionTrackerImpl on leading).
                let tick = self.cfg.tick;
                for (id, ms) in self.tree.sessions() {
                    l.deadlines.insert(*id, round_up(out.now().after(Duration::from_millis(*ms as u64)), tick));
                }
            }
        } else {
            out.note(format!("{} stops serving: it is not in a quorum; its clients' connections close", self.me));
            for c in std::mem::take(&mut self.clients).into_keys() {
                out.disconnect(&c);
            }
            self.watches.clear();
        }
    }

    fn expire_sessions(&mut self, out: &mut Outbox<ServerTimer>) {
        let Role::Leading(l) = &self.role else { return };
        let now = out.now();
        let due: Vec<i64> = l.deadlines.iter().filter(|(_, at)| **at <= now).map(|(id, _)| *id).collect();
        for id in due {
            if let Role::Leading(l) = &mut self.role {
                l.deadlines.remove(&id);
            }
            out.note(format!("session {id:#x} expired: no server heard its client for its timeout"));
            self.propose(id, 0, op::CLOSE_SESSION, &ClientRequest::default(), 0, out);
        }
    }

    fn touch(&mut self, session: i64, now: SimTime) {
        let Some(ms) = self.tree.sessions().get(&session).copied() else { return };
        let tick = self.cfg.tick;
        match &mut self.role {
            Role::Leading(l) => {
                if let Some(d) = l.deadlines.get_mut(&session) {
                    *d = round_up(now.after(Duration::from_millis(ms as u64)), tick);
                }
            }
            Role::Following(f) => {
                f.touches.insert(session, ms);
            }
            Role::Looking(_) => {}
        }
    }

    fn reply(&self, to: &ActorId, reply: ServerReply, out: &mut Outbox<ServerTimer>) {
        out.send(to, reply);
    }

    fn header(&self, xid: i32, e: i32) -> Option<ReplyHeader> {
        Some(ReplyHeader { xid, zxid: self.tree.last_zxid(), err: e })
    }

    fn on_client(&mut self, client: ActorId, req: ClientRequest, out: &mut Outbox<ServerTimer>) {
        if !self.serving {
            // A server outside a quorum accepts no connection (it is LOOKING).
            out.disconnect(&client);
            return;
        }
        if let Some(c) = &req.connect {
            if c.last_zxid_seen > self.tree.last_zxid() {
                // ZooKeeperServer.processConnectRequest: a client must never see
                // the tree go back in time; it will try another server.
                out.note(format!(
                    "{} refuses {client}: it has seen zxid {:#x}, this server is at {:#x}",
                    self.me,
                    c.last_zxid_seen,
                    self.tree.last_zxid()
                ));
                out.disconnect(&client);
                return;
            }
            if c.session_id == 0 {
                // A restarted server must not reuse an id its last run handed out
                // (upstream seeds the counter from the clock).
                let mut id = ((self.cfg.myid as i64) << 56) | self.next_session;
                while self.tree.has_session(id) {
                    self.next_session += 1;
                    id = ((self.cfg.myid as i64) << 56) | self.next_session;
                }
                self.next_session += 1;
                self.clients.insert(client.clone(), id);
                self.awaiting.insert((id, 0), Awaiting::Connect { client });
                let ms = self.cfg.negotiate(c.time_out);
                self.write(id, 0, op::CREATE_SESSION, &req, ms, out);
            } else if let Some(ms) = self.tree.sessions().get(&c.session_id).copied() {
                self.clients.insert(client.clone(), c.session_id);
                self.touch(c.session_id, out.now());
                let connect = ConnectResponse { time_out: ms, session_id: c.session_id, ..Default::default() };
                self.reply(&client, ServerReply { connect: Some(connect), ..Default::default() }, out);
            } else {
                // ZooKeeperServer.reopenSession: an unknown session is expired; answer
                // a zero timeout and close the socket.
                let connect = ConnectResponse { time_out: 0, session_id: c.session_id, ..Default::default() };
                self.reply(&client, ServerReply { connect: Some(connect), ..Default::default() }, out);
                out.disconnect(&client);
            }
            return;
        }
        let Some(session) = self.clients.get(&client).copied() else { return };
        let Some(h) = req.header else { return };
        self.touch(session, out.now());
        let (reply_xid, now_zxid) = (h.xid, self.tree.last_zxid());
        match h.r#type {
            op::PING => {
                let header = Some(ReplyHeader { xid: xid::PING, zxid: now_zxid, err: err::OK });
                self.reply(&client, ServerReply { header, ..Default::default() }, out);
            }
            op::GET_DATA | op::EXISTS | op::GET_CHILDREN2 => self.read(&client, h.r#type, reply_xid, &req, out),
            op::CREATE | op::DELETE | op::CLOSE_SESSION => {
                self.awaiting.insert((session, reply_xid), Awaiting::Reply { client, xid: reply_xid });
                self.write(session, reply_xid, h.r#type, &req, 0, out);
            }
            _ => {}
        }
    }

    /// A read, answered from this server's tree; a watch is left on this server.
    fn read(&mut self, client: &ActorId, ty: i32, xid: i32, req: &ClientRequest, out: &mut Outbox<ServerTimer>) {
        let mut reply = ServerReply::default();
        let (path, watch, kind) = match ty {
            op::GET_DATA => req.get_data.as_ref().map(|r| (r.path.clone(), r.watch, WatchKind::Data)),
            op::EXISTS => req.exists.as_ref().map(|r| (r.path.clone(), r.watch, WatchKind::Data)),
            _ => req.get_children2.as_ref().map(|r| (r.path.clone(), r.watch, WatchKind::Child)),
        }
        .unwrap_or_default();
        let node = self.tree.get(&path);
        let e = if node.is_some() || ty == op::EXISTS { err::OK } else { err::NO_NODE };
        // An exists watch is left even on a missing node (it fires on creation);
        // getData and getChildren leave none on a missing node.
        if watch && (node.is_some() || ty == op::EXISTS) {
            self.watches.entry((kind, path.clone())).or_default().insert(client.clone());
        }
        if let Some(n) = node {
            match ty {
                op::GET_DATA => reply.get_data = Some(GetDataResponse { data: n.data.clone(), stat: Some(n.stat) }),
                op::EXISTS => reply.exists = Some(ExistsResponse { stat: Some(n.stat) }),
                _ => {
                    let children = n.children.iter().cloned().collect();
                    reply.get_children2 = Some(GetChildren2Response { children, stat: Some(n.stat) })
                }
            }
        }
        reply.header = self.header(xid, e);
        self.reply(client, reply, out);
    }

    /// A write: proposed here on the leader, forwarded to it from a follower.
    fn write(&mut self, session: i64, cxid: i32, ty: i32, req: &ClientRequest, ms: i32, out: &mut Outbox<ServerTimer>) {
        match &self.role {
            Role::Leading(_) => self.propose(session, cxid, ty, req, ms, out),
            Role::Following(f) => {
                let mut body = req.clone();
                if let Some(c) = &mut body.connect {
                    c.time_out = ms;
                }
                let data = LearnerRequest { session_id: session, cxid, r#type: ty, request: body.encode_to_vec() };
                self.send_packet(&f.leader, packet::REQUEST, 0, data.encode_to_vec(), out);
            }
            Role::Looking(_) => {}
        }
    }

    /// The leader turns a request into a transaction against its outstanding
    /// changes and proposes it (PrepRequestProcessor → ProposalRequestProcessor).
    fn propose(
        &mut self,
        session: i64,
        cxid: i32,
        ty: i32,
        req: &ClientRequest,
        ms: i32,
        out: &mut Outbox<ServerTimer>,
    ) {
        let me = self.me.clone();
        let Role::Leading(l) = &mut self.role else { return };
        let zxid = (l.epoch << 32) | l.next_counter;
        l.next_counter += 1;
        let mut txn = TxnRecord::default();
        let mut ty = ty;
        match ty {
            op::CREATE_SESSION => txn.create_session = Some(CreateSessionTxn { time_out: ms }),
            op::CLOSE_SESSION => {
                txn.close_session = Some(CloseSessionTxn { paths2_delete: l.prep.ephemerals_of(session) })
            }
            op::CREATE => match l.prep.prepare_create(&req.create.clone().unwrap_or_default()) {
                Ok(c) => txn.create = Some(c),
                Err(e) => txn.error = Some(ErrorTxn { err: e }),
            },
            _ => match l.prep.prepare_delete(&req.delete.clone().unwrap_or_default()) {
                Ok(d) => txn.delete = Some(d),
                Err(e) => txn.error = Some(ErrorTxn { err: e }),
            },
        }
        if txn.error.is_some() {
            ty = op::ERROR;
        }
        let time = out.now().micros() as i64 / 1000;
        txn.header = Some(TxnHeader { client_id: session, cxid, zxid, time, r#type: ty });
        l.prep.apply(&txn);
        l.proposals.insert(zxid, (txn.clone(), BTreeSet::from([me])));
        let data = txn.encode_to_vec();
        for f in self.followers() {
            self.send_packet(&f, packet::PROPOSAL, zxid, data.clone(), out);
        }
        self.try_commit(out);
    }

    /// Commit, in zxid order, every proposal a quorum acknowledged.
    fn try_commit(&mut self, out: &mut Outbox<ServerTimer>) {
        let quorum = self.cfg.quorum();
        loop {
            let Role::Leading(l) = &mut self.role else { return };
            let Some(entry) = l.proposals.first_entry() else { return };
            if entry.get().1.len() < quorum {
                return;
            }
            let (zxid, (txn, _)) = entry.remove_entry();
            for f in self.followers() {
                self.send_packet(&f, packet::COMMIT, zxid, Vec::new(), out);
            }
            self.commit(&txn, out);
        }
    }

    /// Apply a committed transaction: fire this server's watches, answer the
    /// client that asked for it here, close an ended session's connection.
    fn commit(&mut self, txn: &TxnRecord, out: &mut Outbox<ServerTimer>) {
        self.history.push(txn.clone());
        for t in self.tree.apply(txn) {
            let Some(watchers) = self.watches.remove(&(t.kind, t.path.clone())) else { continue };
            for w in watchers {
                // A watch fires once: it was removed with the set.
                let event = WatcherEvent { r#type: t.event, state: state::SYNC_CONNECTED, path: t.path.clone() };
                let header = Some(ReplyHeader { xid: xid::NOTIFICATION, zxid: self.tree.last_zxid(), err: err::OK });
                self.reply(&w, ServerReply { header, event: Some(event), ..Default::default() }, out);
            }
        }
        let h = txn.header.unwrap_or_default();
        let tick = self.cfg.tick;
        if let (Role::Leading(l), Some(c)) = (&mut self.role, &txn.create_session) {
            l.deadlines.insert(h.client_id, round_up(out.now().after(Duration::from_millis(c.time_out as u64)), tick));
        }
        match self.awaiting.remove(&(h.client_id, h.cxid)) {
            Some(Awaiting::Connect { client }) => {
                let time_out = txn.create_session.as_ref().map_or(0, |c| c.time_out);
                let connect = ConnectResponse { time_out, session_id: h.client_id, ..Default::default() };
                self.reply(&client, ServerReply { connect: Some(connect), ..Default::default() }, out);
            }
            Some(Awaiting::Reply { client, xid }) => {
                let e = txn.error.as_ref().map_or(err::OK, |e| e.err);
                let create = txn.create.as_ref().map(|c| CreateResponse { path: c.path.clone() });
                self.reply(&client, ServerReply { header: self.header(xid, e), create, ..Default::default() }, out);
            }
            None => {}
        }
        if txn.close_session.is_some() {
            if let Role::Leading(l) = &mut self.role {
                l.deadlines.remove(&h.client_id);
            }
            let gone: Vec<ActorId> =
                self.clients.iter().filter(|(_, s)| **s == h.client_id).map(|(c, _)| c.clone()).collect();
            for c in gone {
                self.clients.remove(&c);
                out.disconnect(&c);
            }
        }
    }

    fn on_packet(&mut self, from: ActorId, p: QuorumPacket, out: &mut Outbox<ServerTimer>) {
        let now = out.now();
        match (&mut self.role, p.r#type) {
            (Role::Leading(_), packet::FOLLOWERINFO | packet::ACKEPOCH) => self.on_learner(from, p, out),
            (_, packet::FOLLOWERINFO) => {
                // Only a leader listens on the quorum port: the connection is refused.
                out.note(format!("{} refuses {from}'s connection: it does not lead", self.me));
                out.disconnect(&from);
            }
            (Role::Leading(_), packet::ACK) if p.zxid & 0xffff_ffff == 0 => self.on_learner(from, p, out),
            (
                Role::Following(f),
                packet::LEADERINFO | packet::DIFF | packet::TRUNC | packet::NEWLEADER | packet::UPTODATE,
            ) if f.leader == from => self.on_sync(p, out),
            (Role::Following(f), _) if f.leader != from => out.note(format!(
                "{} ignores a {} from {from}: it follows {}",
                self.me,
                packet::name(p.r#type),
                f.leader
            )),
            (Role::Following(f), packet::PING) => {
                f.heard = Some(now);
                let touches = std::mem::take(&mut f.touches)
                    .into_iter()
                    .map(|(session_id, time_out)| Touch { session_id, time_out })
                    .collect();
                let data = SessionTouches { touches }.encode_to_vec();
                let applied = self.tree.last_zxid();
                self.send_packet(&from, packet::PING, applied, data, out);
                // Synced: serving already, except in an ensemble that was
                // running at the start (Server::running), until this first ping.
                if matches!(&self.role, Role::Following(f) if f.phase == Phase::Broadcast) {
                    self.set_serving(true, out);
                }
            }
            (Role::Following(f), packet::PROPOSAL) => {
                f.heard = Some(now);
                let Ok(txn) = TxnRecord::decode(p.data.as_slice()) else { return };
                if p.zxid > self.tree.last_zxid() {
                    self.logged.insert(p.zxid, txn);
                }
                // The history a sync replays from older epochs is not acknowledged
                // one by one: NEWLEADER's ACK covers it.
                if epoch_of(p.zxid) == self.current_epoch {
                    self.send_packet(&from, packet::ACK, p.zxid, Vec::new(), out);
                }
            }
            (Role::Following(f), packet::COMMIT) => {
                f.heard = Some(now);
                f.committed = f.committed.max(p.zxid);
                self.apply_logged(out);
            }
            (Role::Leading(l), packet::PING) => {
                l.heard.insert(from.clone(), now);
                if let Ok(t) = SessionTouches::decode(p.data.as_slice()) {
                    for touch in t.touches {
                        self.touch(touch.session_id, now);
                    }
                }
                self.resync(&from, p.zxid, out);
                // Established: serving already, except in an ensemble that was
                // running at the start (Server::running), until a quorum answers.
                let Role::Leading(l) = &self.role else { return };
                let heard = l.heard.values().filter(|t| now.since(**t) <= self.sync_window()).count();
                if l.established && 1 + heard >= self.cfg.quorum() {
                    self.set_serving(true, out);
                }
            }
            (Role::Leading(l), packet::ACK) => {
                l.heard.insert(from.clone(), now);
                if let Some((_, acks)) = l.proposals.get_mut(&p.zxid) {
                    acks.insert(from);
                }
                self.try_commit(out);
            }
            (Role::Leading(l), packet::REQUEST) => {
                l.heard.insert(from.clone(), now);
                let Ok(r) = LearnerRequest::decode(p.data.as_slice()) else { return };
                let Ok(req) = ClientRequest::decode(r.request.as_slice()) else { return };
                let ms = req.connect.as_ref().map_or(0, |c| c.time_out);
                self.propose(r.session_id, r.cxid, r.r#type, &req, ms, out);
            }
            _ => out.note(format!("{} ignores a {} from {from}", self.me, packet::name(p.r#type))),
        }
    }

    /// A follower answered a ping with the last zxid it applied: send it the
    /// committed transactions it lacks and the outstanding proposals, then the
    /// last commit (ZooKeeper's DIFF sync: PROPOSAL/COMMIT pairs). A proposal
    /// in flight may go twice; a follower logs a zxid once and acks again.
    fn resync(&mut self, follower: &ActorId, applied: i64, out: &mut Outbox<ServerTimer>) {
        let Role::Leading(l) = &self.role else { return };
        let committed = self.tree.last_zxid();
        let proposed = (l.epoch << 32) | (l.next_counter - 1);
        if applied >= proposed.max(committed) {
            return;
        }
        let missing: Vec<TxnRecord> = self
            .history
            .iter()
            .chain(l.proposals.values().map(|(t, _)| t))
            .filter(|t| t.header.as_ref().is_some_and(|h| h.zxid > applied))
            .cloned()
            .collect();
        for t in missing {
            let zxid = t.header.as_ref().map_or(0, |h| h.zxid);
            self.send_packet(follower, packet::PROPOSAL, zxid, t.encode_to_vec(), out);
        }
        if applied < committed {
            self.send_packet(follower, packet::COMMIT, committed, Vec::new(), out);
        }
    }

    /// A follower applies its logged proposals up to the last commit, in zxid order, with no gap.
    fn apply_logged(&mut self, out: &mut Outbox<ServerTimer>) {
        let Role::Following(f) = &self.role else { return };
        let committed = f.committed;
        self.apply_logged_upto(committed, out);
    }

    /// Apply logged proposals up to `upto`, while each follows the last
    /// applied one with no gap (the next counter, or the first of a later epoch).
    fn apply_logged_upto(&mut self, upto: i64, out: &mut Outbox<ServerTimer>) {
        while let Some((&z, _)) = self.logged.first_key_value() {
            let last = self.tree.last_zxid();
            if z > upto {
                return;
            }
            if z <= last {
                self.logged.remove(&z);
                continue;
            }
            let next = z == last + 1 || (epoch_of(z) > epoch_of(last) && z & 0xffff_ffff == 1);
            if !next {
                return;
            }
            let Some(txn) = self.logged.remove(&z) else { return };
            self.commit(&txn, out);
        }
    }
}

impl Server {
    /// A fault's `expire_session`: if this server holds the client's
    /// connection, the session is closed now through the leader, the
    /// closeSession transaction the leader proposes when a session's timeout
    /// passes (`SessionTrackerImpl` → `PrepRequestProcessor`): its ephemeral
    /// nodes are deleted, their watches fire, and the server holding the
    /// connection closes it. The client learns SESSION_EXPIRED when it
    /// reconnects with the old id (`ZooKeeperServer.reopenSession`). A server
    /// not serving (no quorum) commits nothing, so it does nothing.
    fn expire_by_fault(&mut self, i: usize, out: &mut Outbox<ServerTimer>) {
        let Some((_, client)) = self.cfg.expire.get(i) else { return };
        let Some(session) = self.clients.get(client).copied().filter(|s| *s != 0) else { return };
        if !self.serving {
            out.note(format!("cannot expire {client}'s session {session:#x}: this server is not serving"));
            return;
        }
        out.note(format!("session {session:#x} of {client} expires (a fault): closed as when its timeout passes"));
        self.expired_by_fault.push(i);
        self.write(session, 0, op::CLOSE_SESSION, &ClientRequest::default(), 0, out);
    }

    /// The [`ServerConfig::expire`] entries this server applied, by index.
    pub fn expired_by_fault(&self) -> &[usize] {
        &self.expired_by_fault
    }
}

/// ZooKeeper's `ExpiryQueue.roundToNextInterval`: sessions expire on tick boundaries.
fn round_up(at: SimTime, tick: Duration) -> SimTime {
    let t = tick.as_micros() as u64;
    SimTime((at.micros() / t + 1) * t)
}

impl Actor for Server {
    type Timer = ServerTimer;

    fn handle(&mut self, input: Input<ServerTimer>, out: &mut Outbox<ServerTimer>) {
        match input {
            Input::Start => {
                out.set_timer(self.cfg.tick, ServerTimer::Tick);
                for (i, (at, _)) in self.cfg.expire.iter().enumerate() {
                    out.set_timer(at.since(out.now()), ServerTimer::Expire(i));
                }
                self.start(out);
            }
            Input::Timer(ServerTimer::Tick) => self.on_tick(out),
            Input::Timer(ServerTimer::Expire(i)) => self.expire_by_fault(i, out),
            Input::Timer(ServerTimer::Election(n)) => self.on_election_timer(n, out),
            Input::Timer(ServerTimer::Connect(n)) => self.on_connect_timer(n, out),
            Input::Message { from, msg: Msg::ZkRequest(r) } => self.on_client(from, *r, out),
            Input::Message { from, msg: Msg::ZkQuorum(p) } => self.on_packet(from, p, out),
            Input::Message { from, msg: Msg::ZkVote(n) } => self.on_vote(from, n, out),
            Input::Message { from, msg } => out.note(format!("{} ignores {} from {from}", self.me, msg.kind())),
            Input::Disconnected { peer } if self.cfg.ensemble.contains(&peer) => self.peer_gone(&peer, out),
            Input::Disconnected { peer } => {
                if self.clients.remove(&peer).is_some() {
                    for set in self.watches.values_mut() {
                        set.remove(&peer);
                    }
                    self.watches.retain(|_, s| !s.is_empty());
                }
            }
            // A learner's connection to a leader whose process is gone.
            Input::Refused { peer, .. } if self.cfg.ensemble.contains(&peer) => self.peer_gone(&peer, out),
            Input::Exited { .. } | Input::Refused { .. } => {}
        }
    }

    fn check_invariants(&self) -> Result<(), String> {
        for id in self.tree.sessions().keys() {
            for path in self.tree.ephemerals_of(*id) {
                if self.tree.get(&path).map(|n| n.stat.ephemeral_owner) != Some(*id) {
                    return Err(format!("ephemeral {path} of session {id:#x} is not in the tree as its node"));
                }
            }
        }
        let logged = self.history.last().and_then(|t| t.header.as_ref()).map_or(0, |h| h.zxid);
        if logged != self.tree.last_zxid() {
            return Err(format!("the txn log ends at {logged:#x} but the tree is at {:#x}", self.tree.last_zxid()));
        }
        Ok(())
    }
}
