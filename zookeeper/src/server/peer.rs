//! A server's place in the ensemble and how it changes (`QuorumPeer.run`):
//! LOOKING until Fast Leader Election decides, then LEADING or FOLLOWING
//! until the leader or the quorum is lost, then LOOKING again.
//!
//! A new leader does not serve at once. ZAB first makes a quorum agree on a
//! new *epoch* and on the history, so every zxid committed under an old
//! leader survives and nothing the new leader never saw comes back
//! (`Leader.lead`, `LearnerHandler.run`, `Learner.syncWithLeader`):
//!
//! ```text
//!  follower ──FOLLOWERINFO (its accepted epoch)──▶ leader   (opens the quorum connection)
//!           ◀──LEADERINFO (new epoch = max of a quorum's + 1)──
//!           ──ACKEPOCH (its last logged zxid)──▶
//!           ◀──DIFF, then PROPOSAL/COMMIT pairs it lacks──      (or TRUNC: drop what
//!           ◀──NEWLEADER──                                         the leader never had)
//!           ──ACK──▶            a quorum acknowledged NEWLEADER: the leader serves,
//!           ◀──UPTODATE──        and every session gets a fresh timeout
//! ```
//!
//! The epoch is the zxid's high 32 bits, so the new leader's first proposal
//! is `epoch << 32 | 1`. Each step has `initLimit` ticks (10 × 2 s); a leader
//! without a quorum by then, or a follower not UPTODATE, looks again.
//!
//! A follower goes LOOKING when its connection to the leader closes (the
//! leader's process died: the socket closes at once) or after `syncLimit`
//! ticks without hearing it (a partition); a leader when it has not heard a
//! quorum of its followers for `syncLimit` ticks. Going LOOKING closes every
//! client connection. The server first applies every proposal it logged
//! (`fastForwardDataBase`): its vote's zxid is its last *logged* one.
//!
//! Left out: SNAP (the leader keeps its whole log, so a DIFF, after a TRUNC
//! if needed, always reaches any follower), observers, and persistence: a
//! restarted server comes back empty and is synced by a DIFF of everything.

use super::*;
use crate::election::{Next, notification};
use mesocosm_proto::zk_codes::server_state::{FOLLOWING, LEADING, LOOKING};
use mesocosm_proto::zookeeper::Notification;

impl Leading {
    /// A leader just elected: no epoch yet, no learner.
    fn new(prep: Tree, since: SimTime) -> Leading {
        Leading {
            prep,
            proposals: BTreeMap::new(),
            next_counter: 1,
            heard: BTreeMap::new(),
            deadlines: BTreeMap::new(),
            epoch: 0,
            since,
            infos: BTreeMap::new(),
            epoch_acks: BTreeMap::new(),
            synced: BTreeSet::new(),
            newleader_acks: BTreeSet::new(),
            forwarding: BTreeSet::new(),
            established: false,
        }
    }
}

impl Following {
    /// A follower that just decided for `leader` and connects to it.
    fn new(leader: ActorId, since: SimTime) -> Following {
        Following {
            leader,
            phase: Phase::Discovery,
            since,
            tries: 1,
            heard: Some(since),
            committed: 0,
            touches: BTreeMap::new(),
        }
    }
}

/// `leaderConnectDelayDuringRetryMs`: a learner's wait between tries to connect to its leader.
const CONNECT_RETRY: Duration = Duration::from_millis(100);

impl Server {
    /// `LOOKING`, `FOLLOWING` or `LEADING` (`QuorumPeer.ServerState`).
    pub fn state(&self) -> &'static str {
        match self.role {
            Role::Looking(_) => "LOOKING",
            Role::Following(_) => "FOLLOWING",
            Role::Leading(_) => "LEADING",
        }
    }

    /// The epoch this server last joined (a zxid's high 32 bits).
    pub fn epoch(&self) -> i64 {
        self.current_epoch
    }

    /// The leader this server follows or is, once elected.
    pub fn leader(&self) -> Option<&ActorId> {
        match &self.role {
            Role::Looking(_) => None,
            Role::Following(f) => Some(&f.leader),
            Role::Leading(_) => Some(&self.me),
        }
    }

    /// Server `cfg.myid` of an ensemble that was up before the simulation
    /// starts, as operators start ZooKeeper before Mesos: what its start-up
    /// election left (every log empty, so the highest `myid` leads epoch 1,
    /// every follower synced). At Input::Start the leader pings its followers;
    /// each serves once it hears the other side (a follower its leader, the
    /// leader a quorum).
    pub fn running(cfg: ServerConfig) -> Server {
        let mut s = Server::new(cfg);
        let n = s.cfg.ensemble.len();
        let leader = Vote { leader: n as u64, zxid: 0, peer_epoch: 1 };
        (s.accepted_epoch, s.current_epoch, s.logicalclock, s.vote) = (1, 1, 1, Some((leader, 1)));
        let start = SimTime::ZERO;
        s.role = if s.cfg.myid == n {
            Role::Leading(Box::new(Leading {
                epoch: 1,
                established: true,
                forwarding: s.peers().cloned().collect(),
                ..Leading::new(s.tree.clone(), start)
            }))
        } else {
            let leader = s.cfg.ensemble[n - 1].clone();
            Role::Following(Following { phase: Phase::Broadcast, heard: None, ..Following::new(leader, start) })
        };
        s
    }

    /// Input::Start: a running ensemble's leader pings; a one-server ensemble
    /// runs standalone (no election, as ZooKeeper does without a quorum); any
    /// other starts LOOKING.
    pub(super) fn start(&mut self, out: &mut Outbox<ServerTimer>) {
        if let Role::Leading(l) = &self.role
            && l.established
        {
            for f in self.followers() {
                self.send_packet(&f, packet::PING, 0, Vec::new(), out);
            }
            if self.cfg.ensemble.len() == 1 {
                self.set_serving(true, out);
            }
            return;
        }
        if let Role::Following(f) = &self.role
            && f.phase == Phase::Broadcast
        {
            return;
        }
        if self.cfg.ensemble.len() == 1 {
            self.logicalclock = 1;
            self.decide(self.own_vote(), out);
        } else {
            self.look("it starts", out);
        }
    }

    fn own_vote(&self) -> Vote {
        Vote { leader: self.cfg.myid as u64, zxid: self.tree.last_zxid(), peer_epoch: self.current_epoch }
    }

    fn init_window(&self) -> Duration {
        self.cfg.tick * self.cfg.init_limit
    }

    /// Go LOOKING: close the quorum connections and the clients', apply what
    /// was logged, bump the election epoch and vote for itself.
    pub(super) fn look(&mut self, why: &str, out: &mut Outbox<ServerTimer>) {
        let closing: Vec<ActorId> = match &self.role {
            Role::Following(f) => vec![f.leader.clone()],
            Role::Leading(l) => {
                l.infos.keys().chain(l.forwarding.iter()).cloned().collect::<BTreeSet<_>>().into_iter().collect()
            }
            Role::Looking(_) => Vec::new(),
        };
        for peer in closing {
            out.disconnect(&peer);
        }
        // A leader logged its own proposals too, committed or not.
        if let Role::Leading(l) = &mut self.role {
            for (zxid, (txn, _)) in std::mem::take(&mut l.proposals) {
                self.logged.insert(zxid, txn);
            }
        }
        self.set_serving(false, out);
        self.awaiting.clear();
        let own = self.own_vote();
        self.role = Role::Looking(Box::new(Election::start(own, self.cfg.ensemble.len(), self.logicalclock)));
        // fastForwardDataBase: what this server logged is part of its history.
        self.apply_logged_upto(i64::MAX, out);
        self.logged.clear();
        let election = Election::start(self.own_vote(), self.cfg.ensemble.len(), self.logicalclock);
        self.logicalclock = election.logicalclock();
        let n = election.notification();
        let wait = election.first_wait();
        self.role = Role::Looking(Box::new(election));
        out.note(format!(
            "{} is LOOKING ({why}): election epoch {}, votes for itself (zxid {:#x}, peerEpoch {})",
            self.me, self.logicalclock, n.zxid, n.peer_epoch
        ));
        self.broadcast_vote(&n, out);
        self.arm_election(wait, out);
    }

    fn broadcast_vote(&self, n: &Notification, out: &mut Outbox<ServerTimer>) {
        for p in self.peers() {
            out.send(p, *n);
        }
    }

    fn arm_election(&mut self, wait: Duration, out: &mut Outbox<ServerTimer>) {
        self.election_timer += 1;
        out.set_timer(wait, ServerTimer::Election(self.election_timer));
    }

    pub(super) fn on_election_timer(&mut self, n: u64, out: &mut Outbox<ServerTimer>) {
        if n != self.election_timer {
            return;
        }
        let Role::Looking(e) = &mut self.role else { return };
        let (resend, next) = e.timed_out();
        let vote = e.notification();
        if resend {
            self.broadcast_vote(&vote, out);
        }
        self.go_on(next, out);
    }

    fn go_on(&mut self, next: Next, out: &mut Outbox<ServerTimer>) {
        match next {
            Next::Wait(d) => self.arm_election(d, out),
            Next::Decided(v) => self.decide(v, out),
        }
    }

    /// A notification on the election port.
    pub(super) fn on_vote(&mut self, from: ActorId, n: Notification, out: &mut Outbox<ServerTimer>) {
        match &mut self.role {
            Role::Looking(e) => {
                let r = e.received(&n);
                let mine = e.notification();
                if r.answer {
                    out.send(&from, mine);
                }
                if r.broadcast {
                    self.broadcast_vote(&mine, out);
                }
                self.go_on(r.next, out);
            }
            // WorkerReceiver: a server past its election answers a LOOKING one
            // with the vote it ended with, so a restarted server finds the leader.
            Role::Following(_) | Role::Leading(_) if n.state == LOOKING => {
                let state = if self.leading() { LEADING } else { FOLLOWING };
                if let Some((v, epoch)) = self.vote {
                    out.send(&from, notification(state, self.cfg.myid as u64, &v, epoch));
                }
            }
            _ => {}
        }
    }

    /// The election is over: lead, or follow `v.leader`.
    fn decide(&mut self, v: Vote, out: &mut Outbox<ServerTimer>) {
        if let Role::Looking(e) = &self.role {
            self.logicalclock = e.logicalclock();
        }
        self.vote = Some((v, self.logicalclock));
        self.election_timer += 1;
        let now = out.now();
        if v.leader == self.cfg.myid as u64 {
            out.note(format!("{} is LEADING: a quorum voted for it in election epoch {}", self.me, self.logicalclock));
            self.role = Role::Leading(Box::new(Leading::new(self.tree.clone(), now)));
            self.lead_progress(out);
        } else {
            let leader = self.cfg.ensemble[v.leader as usize - 1].clone();
            out.note(format!("{} is FOLLOWING {leader} (election epoch {})", self.me, self.logicalclock));
            let accepted = self.accepted_epoch << 32;
            self.send_packet(&leader, packet::FOLLOWERINFO, accepted, Vec::new(), out);
            self.role = Role::Following(Following::new(leader, now));
        }
    }

    /// The leader hears from a learner joining it.
    pub(super) fn on_learner(&mut self, from: ActorId, p: QuorumPacket, out: &mut Outbox<ServerTimer>) {
        let now = out.now();
        let Role::Leading(l) = &mut self.role else { return };
        match p.r#type {
            packet::FOLLOWERINFO => {
                l.infos.insert(from.clone(), epoch_of(p.zxid));
                // A late learner: the epoch is already fixed.
                if l.epoch != 0 {
                    let e = l.epoch;
                    self.send_packet(&from, packet::LEADERINFO, e << 32, Vec::new(), out);
                }
            }
            packet::ACKEPOCH => {
                l.epoch_acks.insert(from, p.zxid);
            }
            _ => {
                l.heard.insert(from.clone(), now);
                l.newleader_acks.insert(from);
            }
        }
        self.lead_progress(out);
    }

    /// Move the new leader on as far as its quorums allow: fix the epoch, sync
    /// the learners, then serve.
    fn lead_progress(&mut self, out: &mut Outbox<ServerTimer>) {
        let quorum = self.cfg.quorum();
        let me = self.me.clone();
        let Role::Leading(l) = &mut self.role else { return };
        if l.epoch == 0 {
            if 1 + l.infos.len() < quorum {
                return;
            }
            // Leader.getEpochToPropose: one above every epoch a quorum accepted.
            let epoch = l.infos.values().copied().max().unwrap_or(0).max(self.accepted_epoch) + 1;
            l.epoch = epoch;
            self.accepted_epoch = epoch;
            let learners: Vec<ActorId> = l.infos.keys().cloned().collect();
            let names: Vec<&str> = learners.iter().map(ActorId::as_str).collect();
            out.note(format!("{me} proposes epoch {epoch} (zxids from {:#x}) to {}", epoch << 32, names.join(", ")));
            for f in &learners {
                self.send_packet(f, packet::LEADERINFO, epoch << 32, Vec::new(), out);
            }
        }
        let Role::Leading(l) = &mut self.role else { return };
        if 1 + l.epoch_acks.len() < quorum {
            return;
        }
        self.current_epoch = l.epoch;
        let to_sync: Vec<(ActorId, i64)> =
            l.epoch_acks.iter().filter(|(f, _)| !l.synced.contains(*f)).map(|(f, z)| (f.clone(), *z)).collect();
        for (f, last) in to_sync {
            self.sync_learner(&f, last, out);
            if let Role::Leading(l) = &mut self.role {
                l.synced.insert(f);
            }
        }
        let Role::Leading(l) = &mut self.role else { return };
        if 1 + l.newleader_acks.len() < quorum {
            return;
        }
        let now = out.now();
        let up: Vec<ActorId> = l.newleader_acks.iter().filter(|f| !l.forwarding.contains(*f)).cloned().collect();
        for f in &up {
            l.forwarding.insert(f.clone());
            l.heard.insert(f.clone(), now);
        }
        let newly = !l.established;
        l.established = true;
        let epoch = l.epoch;
        for f in &up {
            self.send_packet(f, packet::UPTODATE, 0, Vec::new(), out);
        }
        if newly {
            // updateElectionVote: a peer that asks later learns the new epoch.
            if let Some((v, _)) = &mut self.vote {
                v.peer_epoch = epoch;
            }
            out.note(format!("{me} leads epoch {epoch}: a quorum acknowledged NEWLEADER"));
            self.set_serving(true, out);
        }
    }

    /// `LearnerHandler.syncFollower`: bring a learner whose last logged zxid is
    /// `last` to this leader's history, then NEWLEADER.
    fn sync_learner(&mut self, f: &ActorId, last: i64, out: &mut Outbox<ServerTimer>) {
        let mine = self.tree.last_zxid();
        let zxids: Vec<i64> = self.history.iter().map(|t| t.header.as_ref().map_or(0, |h| h.zxid)).collect();
        let known = last == 0 || zxids.binary_search(&last).is_ok();
        let from = if known {
            self.send_packet(f, packet::DIFF, mine, Vec::new(), out);
            last
        } else {
            // The learner logged what this leader never had (an old leader's
            // proposals no quorum took): it drops them.
            let common = zxids.iter().copied().filter(|z| *z < last).max().unwrap_or(0);
            self.send_packet(f, packet::TRUNC, common, Vec::new(), out);
            common
        };
        let missing: Vec<TxnRecord> =
            self.history.iter().filter(|t| t.header.as_ref().is_some_and(|h| h.zxid > from)).cloned().collect();
        out.note(format!(
            "{} syncs {f} from {last:#x}: {} then {} transaction(s)",
            self.me,
            if known { "DIFF" } else { "TRUNC" },
            missing.len()
        ));
        for t in missing {
            let zxid = t.header.as_ref().map_or(0, |h| h.zxid);
            self.send_packet(f, packet::PROPOSAL, zxid, t.encode_to_vec(), out);
            self.send_packet(f, packet::COMMIT, zxid, Vec::new(), out);
        }
        self.send_packet(f, packet::NEWLEADER, self.current_epoch << 32, Vec::new(), out);
    }

    /// A follower hears its leader's discovery and sync packets.
    pub(super) fn on_sync(&mut self, p: QuorumPacket, out: &mut Outbox<ServerTimer>) {
        let now = out.now();
        let Role::Following(f) = &mut self.role else { return };
        f.heard = Some(now);
        let leader = f.leader.clone();
        match p.r#type {
            packet::LEADERINFO => {
                let epoch = epoch_of(p.zxid);
                if epoch < self.accepted_epoch {
                    let why =
                        format!("{leader} proposed epoch {epoch}, older than its accepted {}", self.accepted_epoch);
                    return self.look(&why, out);
                }
                f.phase = Phase::Synchronization;
                self.accepted_epoch = epoch;
                let current = (self.current_epoch as i32).to_be_bytes().to_vec();
                self.send_packet(&leader, packet::ACKEPOCH, self.tree.last_zxid(), current, out);
            }
            packet::TRUNC => self.truncate(p.zxid),
            packet::NEWLEADER => {
                self.current_epoch = epoch_of(p.zxid);
                if let Some((v, _)) = &mut self.vote {
                    v.peer_epoch = self.current_epoch;
                }
                self.send_packet(&leader, packet::ACK, p.zxid, Vec::new(), out);
            }
            packet::UPTODATE => {
                f.phase = Phase::Broadcast;
                self.set_serving(true, out);
            }
            _ => {}
        }
    }

    /// TRUNC: keep the history up to `zxid`, rebuild the tree from it, drop every logged proposal.
    fn truncate(&mut self, zxid: i64) {
        self.history.retain(|t| t.header.as_ref().is_some_and(|h| h.zxid <= zxid));
        let mut tree = Tree::new();
        for t in &self.history {
            tree.apply(t);
        }
        self.tree = tree;
        self.logged.clear();
    }

    /// `connectToLeader`'s next try, 100 ms (`leaderConnectDelayDuringRetryMs`) after a refusal.
    pub(super) fn on_connect_timer(&mut self, n: u64, out: &mut Outbox<ServerTimer>) {
        if n != self.election_timer {
            return;
        }
        let Role::Following(f) = &mut self.role else { return };
        f.tries += 1;
        let (leader, accepted) = (f.leader.clone(), self.accepted_epoch << 32);
        self.send_packet(&leader, packet::FOLLOWERINFO, accepted, Vec::new(), out);
    }

    /// A quorum peer's connection closed.
    pub(super) fn peer_gone(&mut self, peer: &ActorId, out: &mut Outbox<ServerTimer>) {
        match &mut self.role {
            // Refused (the leader does not listen yet): try again, 5 times in all.
            Role::Following(f) if f.leader == *peer && f.phase == Phase::Discovery && f.tries < 5 => {
                self.election_timer += 1;
                out.set_timer(CONNECT_RETRY, ServerTimer::Connect(self.election_timer));
            }
            Role::Following(f) if f.leader == *peer => {
                let why = format!("its connection to the leader {peer} closed");
                self.look(&why, out);
            }
            Role::Leading(l) => {
                l.infos.remove(peer);
                l.epoch_acks.remove(peer);
                l.synced.remove(peer);
                l.newleader_acks.remove(peer);
                l.forwarding.remove(peer);
                l.heard.remove(peer);
            }
            _ => {}
        }
    }

    /// Each tick: is the leader still heard (a follower), a quorum of followers
    /// (a leader), and did a new leader and its followers sync within
    /// `initLimit`? If not, look again. Returns whether the role stands.
    pub(super) fn check_peers(&mut self, out: &mut Outbox<ServerTimer>) -> bool {
        let now = out.now();
        let (sync, init) = (self.sync_window(), self.init_window());
        let why = match &self.role {
            Role::Looking(_) => return false,
            Role::Leading(l) if !l.established => (now.since(l.since) > init)
                .then(|| format!("no quorum synced within initLimit {} ticks", self.cfg.init_limit)),
            Role::Leading(l) => {
                let heard = l.forwarding.iter().filter(|f| l.heard.get(*f).is_some_and(|t| now.since(*t) <= sync));
                (1 + heard.count() < self.cfg.quorum())
                    .then(|| format!("no quorum of followers heard for syncLimit {} ticks", self.cfg.sync_limit))
            }
            Role::Following(f) if f.phase != Phase::Broadcast => (now.since(f.since) > init)
                .then(|| format!("not synced with {} within initLimit {} ticks", f.leader, self.cfg.init_limit)),
            Role::Following(f) => f
                .heard
                .is_none_or(|t| now.since(t) > sync)
                .then(|| format!("its leader {} not heard for syncLimit {} ticks", f.leader, self.cfg.sync_limit)),
        };
        match why {
            Some(why) => {
                self.look(&why, out);
                false
            }
            None => true,
        }
    }
}
