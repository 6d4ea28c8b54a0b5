//! Which master a framework talks to: libmesos's `--master`, and the master
//! detector behind it (`SchedulerProcess::detected` in `src/sched/sched.cpp`).
//!
//! A framework is given a master URL ([`MasterUrl`]):
//!
//! - **`host:5050`** (`mesos://host:5050` for Spark): the master is fixed and
//!   nothing is detected (`StandaloneMasterDetector`).
//! - **`zk://zookeeper-001:2181,…/mesos`**: the driver embeds a ZooKeeper
//!   detector (the same `MasterDetector` agents use) and follows whoever leads.
//!   No master is known until the detector names one.
//!
//! ```text
//!   detector ──▶ leader changed ──▶ the owner reacts (SUBSCRIBE with the FrameworkID, or wait)
//!   master ───▶ a scheduler event from the leader ──▶ handed on
//!           └─▶ one from any other master ──▶ ignored, with a note (the split brain)
//! ```
//!
//! Why ignore the others: a deposed leader runs on for a few seconds before it
//! notices it lost its ZooKeeper session, and may still send OFFERS or
//! UPDATEs. libmesos drops every master message "sent from '…' instead of the
//! leading master '…'".
//!
//! [`Detection`] is the part every scheduler shares: the detector, the master
//! it names, and that check. What a new leader *means* (SUBSCRIBE now, or
//! after a backoff; call `disconnected()` or not) is the owner's:
//! [`MesosSchedulerDriver`](crate::MesosSchedulerDriver) and Spark's driver
//! both embed one.

use mesocosm_sim::proto::scheduler::Event;
use mesocosm_sim::{ActorId, Msg, Outbox};
use mesocosm_zookeeper::{MasterDetector, ZkConfig};

/// libmesos's `--master`: a fixed master, or a ZooKeeper group to detect the leader in.
#[derive(Clone, Debug, PartialEq)]
pub enum MasterUrl {
    /// `host:5050`: always this master's actor.
    Standalone(ActorId),
    /// `zk://…/mesos`: the session the detector opens.
    ZooKeeper(ZkConfig),
}

impl From<ActorId> for MasterUrl {
    fn from(master: ActorId) -> MasterUrl {
        MasterUrl::Standalone(master)
    }
}

impl From<&ActorId> for MasterUrl {
    fn from(master: &ActorId) -> MasterUrl {
        MasterUrl::Standalone(master.clone())
    }
}

impl From<&str> for MasterUrl {
    fn from(master: &str) -> MasterUrl {
        MasterUrl::Standalone(ActorId::new(master))
    }
}

impl From<ZkConfig> for MasterUrl {
    fn from(zk: ZkConfig) -> MasterUrl {
        MasterUrl::ZooKeeper(zk)
    }
}

/// A scheduler's master detection: the detector and the master it names now.
#[derive(Debug)]
pub struct Detection {
    detector: MasterDetector,
    /// The fixed master, or the detected leader (`None`: none detected yet, or lost).
    master: Option<ActorId>,
}

impl Detection {
    /// Detection for `url`: the fixed master, or a detector that knows no master yet.
    pub fn new(url: MasterUrl) -> Detection {
        match url {
            MasterUrl::Standalone(m) => Detection { detector: MasterDetector::new(None), master: Some(m) },
            MasterUrl::ZooKeeper(zk) => Detection { detector: MasterDetector::new(Some(&zk)), master: None },
        }
    }

    /// The master to talk to: the fixed one, or the detected leader.
    pub fn master(&self) -> Option<&ActorId> {
        self.master.as_ref()
    }

    /// Whether `from` is the master to talk to.
    pub fn is_master(&self, from: &ActorId) -> bool {
        self.master.as_ref() == Some(from)
    }

    /// Opens the detector's ZooKeeper session and arms the owner's `timer`
    /// for its tick; nothing for a fixed master.
    pub fn start<T>(&mut self, timer: T, out: &mut Outbox<T>) {
        self.detector.start(timer, out);
    }

    /// The detector's tick `timer` fired: the leader changes it found.
    pub fn on_tick<T>(&mut self, timer: T, out: &mut Outbox<T>) -> Vec<Option<ActorId>> {
        let leaders = self.detector.on_tick(timer, out);
        self.changes(leaders)
    }

    /// A ZooKeeper reply for the detector: the leader changes it brought.
    /// Any other message is handed back in `Err`.
    pub fn on_message<T>(
        &mut self,
        from: &ActorId,
        msg: Msg,
        out: &mut Outbox<T>,
    ) -> Result<Vec<Option<ActorId>>, Msg> {
        let leaders = self.detector.on_message(from, msg, out)?;
        Ok(self.changes(leaders))
    }

    /// The connection to `peer` broke: the leader changes, or `None` when
    /// `peer` is not the detector's ZooKeeper server.
    pub fn on_disconnected<T>(&mut self, peer: &ActorId, out: &mut Outbox<T>) -> Option<Vec<Option<ActorId>>> {
        let leaders = self.detector.on_disconnected(peer, out)?;
        Some(self.changes(leaders))
    }

    /// Whether scheduler event `e` from `from` is to be handled: only the
    /// master's are; any other's is ignored with a note.
    pub fn accepts<T>(&self, from: &ActorId, e: &Event, out: &mut Outbox<T>) -> bool {
        if self.is_master(from) {
            return true;
        }
        // libmesos: "Ignoring … message because it was sent from '…' instead of the leading master '…'".
        out.note_with(|| {
            let leader = self.master.as_ref().map_or("none".to_string(), ToString::to_string);
            format!("{} from {from} ignored: not the leading master ({leader})", e.r#type().as_str_name())
        });
        false
    }

    /// Each detected leader that differs from the one before, applied in order.
    fn changes(&mut self, leaders: Vec<Option<ActorId>>) -> Vec<Option<ActorId>> {
        let mut changed = Vec::new();
        for leader in leaders {
            if leader != self.master {
                self.master = leader.clone();
                changed.push(leader);
            }
        }
        changed
    }
}
