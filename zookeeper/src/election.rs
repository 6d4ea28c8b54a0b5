//! Fast Leader Election: how the ensemble's servers agree on a leader
//! (`FastLeaderElection.lookForLeader` in ZooKeeper's
//! `zookeeper-server/src/main/java/org/apache/zookeeper/server/quorum/`).
//!
//! A server that has no leader goes LOOKING. It bumps its *election epoch*
//! (`logicalclock`), votes for itself, and tells every other server on the
//! election port. A vote names a proposed leader with that leader's history:
//! the epoch it last accepted (`peerEpoch`) and its last logged `zxid`. Votes
//! are ordered by `(peerEpoch, zxid, myid)`, so the server with the most
//! recent history wins and `myid` breaks ties:
//!
//! ```text
//!  zookeeper-001 ──(leader 1, zxid 0x100000007)──▶ everyone
//!  zookeeper-002 ──(leader 2, zxid 0x100000007)──▶ everyone    LOOKING
//!  zookeeper-001 ──(leader 2, …)──▶ everyone   (2 beats 1: same history, higher myid)
//!  a quorum (2 of 3) holds (leader 2); nothing better for finalizeWait (200 ms)
//!  zookeeper-002 LEADING, zookeeper-001 FOLLOWING
//! ```
//!
//! Each notification a server receives is put in its *receive set* when it is
//! of the current election epoch; a newer epoch restarts the round; an older
//! one is ignored (and answered, so the late server catches up). When a quorum
//! of the receive set agrees with the server's own proposal it waits
//! `finalizeWait` (200 ms) for a better vote; a vote that is not better and
//! arrives meanwhile restarts that wait. A server that hears nothing resends
//! its vote after 200 ms, then 400 ms, doubling up to 60 s
//! (`maxNotificationInterval`).
//!
//! A server that already FOLLOWS or LEADS answers a LOOKING server with the
//! vote it ended its own election with; a quorum of such answers that names a
//! server which says it is LEADING lets a restarted server join at once (the
//! `outofelection` set).
//!
//! This core is pure: [`Election`] takes notifications and timeouts and says
//! what to send and when it decided; the server (`server/peer.rs`) carries the
//! messages and the timer.

use mesocosm_proto::zk_codes::server_state::{FOLLOWING, LEADING, LOOKING};
use mesocosm_proto::zookeeper::Notification;
use std::collections::BTreeMap;
use std::time::Duration;

/// `finalizeWait`: how long a server waits for a better vote once a quorum agrees.
pub const FINALIZE_WAIT: Duration = Duration::from_millis(200);

/// `maxNotificationInterval`: the longest wait between resends of a vote nobody answered.
pub const MAX_NOTIFICATION_INTERVAL: Duration = Duration::from_secs(60);

/// A vote: a proposed leader (`myid`) and that leader's history.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Vote {
    pub leader: u64,
    pub zxid: i64,
    pub peer_epoch: i64,
}

impl Vote {
    /// `totalOrderPredicate`: is `self` a better leader than `other`?
    /// Higher epoch first, then higher zxid, then higher `myid`.
    pub fn beats(&self, other: &Vote) -> bool {
        (self.peer_epoch, self.zxid, self.leader) > (other.peer_epoch, other.zxid, other.leader)
    }

    fn of(n: &Notification) -> Vote {
        Vote { leader: n.leader as u64, zxid: n.zxid, peer_epoch: n.peer_epoch }
    }
}

/// A vote as received: with the sender's election epoch and state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Received {
    vote: Vote,
    election_epoch: i64,
    state: i32,
}

/// What the server does next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    /// Keep waiting for notifications this long (then call [`Election::timed_out`]).
    Wait(Duration),
    /// The election is over: follow (or lead, if it names this server) this vote.
    Decided(Vote),
}

/// What a notification made the server do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reaction {
    /// Send the (possibly changed) proposal to every other server.
    pub broadcast: bool,
    /// Send the proposal back to the sender only (it is behind: an older election epoch).
    pub answer: bool,
    pub next: Next,
}

/// One server's run of `lookForLeader`.
#[derive(Debug)]
pub struct Election {
    me: u64,
    quorum: usize,
    /// The election epoch: bumped at each new election, raised to any newer one heard.
    logicalclock: i64,
    /// The server's own vote (itself, its history).
    own: Vote,
    proposal: Vote,
    recvset: BTreeMap<u64, Received>,
    outofelection: BTreeMap<u64, Received>,
    /// How long to wait for a notification before resending.
    not_timeout: Duration,
    /// A quorum agrees with the proposal: waiting `finalizeWait` for a better vote.
    finalizing: bool,
}

impl Election {
    /// Start an election (`lookForLeader`): bump the election epoch past `last_epoch`
    /// and vote for `own`. Broadcast [`Election::notification`] next.
    pub fn start(own: Vote, ensemble: usize, last_epoch: i64) -> Election {
        let mut e = Election {
            me: own.leader,
            quorum: ensemble / 2 + 1,
            logicalclock: last_epoch + 1,
            own,
            proposal: own,
            recvset: BTreeMap::new(),
            outofelection: BTreeMap::new(),
            not_timeout: FINALIZE_WAIT,
            finalizing: false,
        };
        e.sent();
        e
    }

    /// The election epoch.
    pub fn logicalclock(&self) -> i64 {
        self.logicalclock
    }

    /// The current proposal.
    pub fn proposal(&self) -> Vote {
        self.proposal
    }

    /// The notification carrying the current proposal.
    pub fn notification(&self) -> Notification {
        notification(LOOKING, self.me, &self.proposal, self.logicalclock)
    }

    /// How long to wait right after starting.
    pub fn first_wait(&self) -> Duration {
        self.not_timeout
    }

    /// A server's notification to itself is in its receive set at once
    /// (upstream sends it through its own queue).
    fn sent(&mut self) {
        let me = Received { vote: self.proposal, election_epoch: self.logicalclock, state: LOOKING };
        self.recvset.insert(self.me, me);
    }

    fn agree(set: &BTreeMap<u64, Received>, vote: &Vote, epoch: i64) -> usize {
        set.values().filter(|r| r.vote == *vote && r.election_epoch == epoch).count()
    }

    /// `checkLeader`: a quorum's choice counts only if the leader itself says it
    /// LEADS (or is this server, of this very election).
    fn leader_confirmed(&self, set: &BTreeMap<u64, Received>, leader: u64, epoch: i64) -> bool {
        if leader == self.me {
            return epoch == self.logicalclock;
        }
        set.get(&leader).is_some_and(|r| r.state == LEADING)
    }

    /// A notification from server `n.sid`.
    pub fn received(&mut self, n: &Notification) -> Reaction {
        let sid = n.sid as u64;
        let got = Received { vote: Vote::of(n), election_epoch: n.election_epoch, state: n.state };
        let mut r = Reaction { broadcast: false, answer: false, next: self.waiting() };
        match n.state {
            LOOKING => {
                if n.election_epoch > self.logicalclock {
                    // A newer election: join it, starting again from the better
                    // of our own vote and the sender's.
                    self.logicalclock = n.election_epoch;
                    self.recvset.clear();
                    self.proposal = if got.vote.beats(&self.own) { got.vote } else { self.own };
                    self.finalizing = false;
                    r.broadcast = true;
                } else if n.election_epoch < self.logicalclock {
                    // WorkerReceiver answers a server of an older election.
                    r.answer = true;
                    return r;
                } else if got.vote.beats(&self.proposal) {
                    self.proposal = got.vote;
                    self.finalizing = false;
                    r.broadcast = true;
                } else if self.finalizing {
                    // Not better: finalizeWait's poll starts again.
                    r.next = Next::Wait(FINALIZE_WAIT);
                    return r;
                }
                if r.broadcast {
                    self.sent();
                }
                self.recvset.insert(sid, got);
                if !self.finalizing && Self::agree(&self.recvset, &self.proposal, self.logicalclock) >= self.quorum {
                    self.finalizing = true;
                }
                r.next = self.waiting();
            }
            FOLLOWING | LEADING => {
                if n.election_epoch == self.logicalclock {
                    self.recvset.insert(sid, got);
                    if Self::agree(&self.recvset, &got.vote, n.election_epoch) >= self.quorum
                        && self.leader_confirmed(&self.recvset, got.vote.leader, n.election_epoch)
                    {
                        r.next = Next::Decided(got.vote);
                        return r;
                    }
                }
                // Servers already past their election: a quorum of them naming
                // a leader that says it leads is enough to join it.
                self.outofelection.insert(sid, got);
                if Self::agree(&self.outofelection, &got.vote, n.election_epoch) >= self.quorum
                    && self.leader_confirmed(&self.outofelection, got.vote.leader, n.election_epoch)
                {
                    self.logicalclock = n.election_epoch;
                    r.next = Next::Decided(got.vote);
                }
            }
            _ => {}
        }
        r
    }

    fn waiting(&self) -> Next {
        Next::Wait(if self.finalizing { FINALIZE_WAIT } else { self.not_timeout })
    }

    /// Nothing arrived for the last wait. Finalizing: decided. Otherwise
    /// resend (`broadcast` true) and wait twice as long, up to 60 s.
    pub fn timed_out(&mut self) -> (bool, Next) {
        if self.finalizing {
            return (false, Next::Decided(self.proposal));
        }
        self.not_timeout = (self.not_timeout * 2).min(MAX_NOTIFICATION_INTERVAL);
        (true, Next::Wait(self.not_timeout))
    }
}

/// A notification: `state`, the vote, the election epoch, and who sends it.
pub fn notification(state: i32, sid: u64, vote: &Vote, election_epoch: i64) -> Notification {
    Notification {
        state,
        leader: vote.leader as i64,
        zxid: vote.zxid,
        election_epoch,
        peer_epoch: vote.peer_epoch,
        sid: sid as i64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(leader: u64, zxid: i64, peer_epoch: i64) -> Vote {
        Vote { leader, zxid, peer_epoch }
    }

    #[test]
    fn votes_order_by_epoch_then_zxid_then_myid() {
        assert!(v(1, 0, 2).beats(&v(3, 9 << 32, 1)), "a newer epoch wins over a longer log");
        assert!(v(1, 5, 1).beats(&v(3, 4, 1)), "then the longer log");
        assert!(v(3, 5, 1).beats(&v(2, 5, 1)), "then the higher myid");
        assert!(!v(2, 5, 1).beats(&v(2, 5, 1)));
    }

    #[test]
    fn two_of_three_agree_then_wait_finalize_wait_then_decide() {
        let mut e = Election::start(v(1, 7, 1), 3, 0);
        assert_eq!(e.notification(), notification(LOOKING, 1, &v(1, 7, 1), 1));
        // zookeeper-002's vote beats ours (same history, higher myid): adopt it, tell everyone.
        let from2 = notification(LOOKING, 2, &v(2, 7, 1), 1);
        let r = e.received(&from2);
        assert_eq!(r, Reaction { broadcast: true, answer: false, next: Next::Wait(FINALIZE_WAIT) });
        assert_eq!(e.proposal(), v(2, 7, 1));
        // A vote that is not better restarts the 200 ms wait; silence decides.
        let from3 = notification(LOOKING, 3, &v(3, 5, 1), 1);
        assert_eq!(e.received(&from3).next, Next::Wait(FINALIZE_WAIT));
        assert_eq!(e.timed_out(), (false, Next::Decided(v(2, 7, 1))));
    }

    #[test]
    fn a_better_vote_during_finalize_wait_changes_the_proposal() {
        let mut e = Election::start(v(2, 7, 1), 3, 0);
        e.received(&notification(LOOKING, 1, &v(2, 7, 1), 1));
        let r = e.received(&notification(LOOKING, 3, &v(3, 7, 1), 1));
        assert!(r.broadcast);
        assert_eq!(e.proposal(), v(3, 7, 1));
    }

    #[test]
    fn a_newer_election_epoch_restarts_the_round_an_older_one_is_answered() {
        let mut e = Election::start(v(1, 9, 1), 3, 0);
        let r = e.received(&notification(LOOKING, 2, &v(2, 3, 1), 4));
        // Our own history (zxid 9) beats the sender's: keep it, in epoch 4.
        assert_eq!((r.broadcast, e.logicalclock(), e.proposal()), (true, 4, v(1, 9, 1)));
        let r = e.received(&notification(LOOKING, 3, &v(3, 3, 1), 2));
        assert_eq!((r.broadcast, r.answer), (false, true));
    }

    #[test]
    fn a_lonely_server_resends_doubling_up_to_a_minute() {
        let mut e = Election::start(v(1, 0, 0), 3, 0);
        assert_eq!(e.first_wait(), Duration::from_millis(200));
        let waits: Vec<Next> = (0..11).map(|_| e.timed_out().1).collect();
        assert_eq!(waits[0], Next::Wait(Duration::from_millis(400)));
        assert_eq!(waits[7], Next::Wait(Duration::from_millis(51_200)));
        assert_eq!(waits[10], Next::Wait(MAX_NOTIFICATION_INTERVAL));
    }

    #[test]
    fn a_restarted_server_joins_the_leader_a_quorum_follows() {
        let mut e = Election::start(v(3, 0, 0), 3, 0);
        let led = v(2, 1 << 32, 2);
        let r = e.received(&notification(FOLLOWING, 1, &led, 5));
        assert!(matches!(r.next, Next::Wait(_)), "one follower is not a quorum");
        let r = e.received(&notification(LEADING, 2, &led, 5));
        assert_eq!(r.next, Next::Decided(led));
        assert_eq!(e.logicalclock(), 5);
    }

    #[test]
    fn followers_naming_a_leader_that_does_not_say_so_are_not_enough() {
        let mut e = Election::start(v(3, 0, 0), 5, 0);
        let led = v(2, 1 << 32, 2);
        for sid in [1, 4, 5] {
            let r = e.received(&notification(FOLLOWING, sid, &led, 5));
            assert!(matches!(r.next, Next::Wait(_)), "checkLeader: the leader's own LEADING is missing");
        }
        assert_eq!(e.received(&notification(LEADING, 2, &led, 5)).next, Next::Decided(led));
    }
}
