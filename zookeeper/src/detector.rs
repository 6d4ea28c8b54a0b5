//! Mesos's master detector (`src/master/detector/`): where an agent or a
//! scheduler finds the leading master.
//!
//! - **Standalone** (`--master=host:5050`, `mesos://host:5050`): the master is
//!   fixed and never changes; nothing is detected.
//! - **ZooKeeper** (`zk://…/mesos`): a [`Group`] without a contender. The
//!   leader is the member with the lowest `json.info_N`; its node's data is
//!   the leader's `MasterInfo` as JSON, whose hostname names the master.
//!
//! Agents (`Slave::detected`) and schedulers (`SchedulerProcess::detected`)
//! react to a detection differently, so this type only says *who* leads now:
//! each call returns the leaders detected, in order, `None` meaning "no leader".
//! A detector whose own session ends (expired by the ensemble, or given up
//! after a session timeout without a connection) reports `None` and starts a
//! new session, which detects the leader again once it lists the group
//! (`GroupProcess::expired` empties the memberships before reconnecting).

use crate::{Client, Group, GroupEvent, ZkConfig, master_info};
use mesocosm_sim::{ActorId, Msg, Outbox};

/// A master detector, for an actor to embed.
#[derive(Debug)]
pub enum MasterDetector {
    /// A fixed master (`StandaloneMasterDetector`).
    Standalone,
    /// Whoever the group names (`ZooKeeperMasterDetector`).
    ZooKeeper(Box<Group>),
}

impl MasterDetector {
    /// Standalone without `zk`, else a ZooKeeper detector with its own session.
    pub fn new(zk: Option<&ZkConfig>) -> MasterDetector {
        match zk {
            None => MasterDetector::Standalone,
            Some(zk) => {
                let client = Client::new(zk.servers.clone(), zk.session_timeout, zk.first);
                MasterDetector::ZooKeeper(Box::new(Group::new(client, &zk.path, None)))
            }
        }
    }

    /// Opens the ZooKeeper session and arms the owner's `timer` for the
    /// detector's tick; a standalone detector does nothing.
    pub fn start<T>(&mut self, timer: T, out: &mut Outbox<T>) {
        if let MasterDetector::ZooKeeper(group) = self {
            out.set_timer(group.tick(), timer);
            group.start(out);
        }
    }

    /// The owner's tick `timer` fired: re-arms it and returns what was detected.
    pub fn on_tick<T>(&mut self, timer: T, out: &mut Outbox<T>) -> Vec<Option<ActorId>> {
        let MasterDetector::ZooKeeper(group) = self else { return vec![] };
        out.set_timer(group.tick(), timer);
        let events = group.on_tick(out);
        leaders(events, out)
    }

    /// A ZooKeeper reply for this detector's session: what was detected.
    /// Any other message (or any message to a standalone detector) is handed
    /// back in `Err`.
    pub fn on_message<T>(
        &mut self,
        from: &ActorId,
        msg: Msg,
        out: &mut Outbox<T>,
    ) -> Result<Vec<Option<ActorId>>, Msg> {
        match (self, msg) {
            (MasterDetector::ZooKeeper(group), Msg::ZkReply(reply)) => {
                let events = group.on_reply(from, *reply, out);
                Ok(leaders(events, out))
            }
            (_, msg) => Err(msg),
        }
    }

    /// The connection to `peer` broke: what was detected, or `None` when
    /// `peer` is not this detector's ZooKeeper server.
    pub fn on_disconnected<T>(&mut self, peer: &ActorId, out: &mut Outbox<T>) -> Option<Vec<Option<ActorId>>> {
        let MasterDetector::ZooKeeper(group) = self else { return None };
        if group.client().server() != Some(peer) {
            return None;
        }
        let events = group.on_disconnected(peer, out);
        Some(leaders(events, out))
    }
}

/// The leaders a group's events name: the leader's hostname from its
/// `MasterInfo`, or `None` (no leader, or data that is not a MasterInfo,
/// which Mesos's detector also treats as no leader, with a note).
fn leaders<T>(events: Vec<GroupEvent>, out: &mut Outbox<T>) -> Vec<Option<ActorId>> {
    let mut found = vec![];
    for e in events {
        let GroupEvent::Leader { data, .. } = e else { continue };
        let leader = match data.as_deref().map(master_info::decode) {
            Some(Ok(info)) => info.hostname.map(ActorId::new),
            Some(Err(why)) => {
                out.note(format!("the leader's group data is not a MasterInfo ({why})"));
                None
            }
            None => None,
        };
        found.push(leader);
    }
    found
}
