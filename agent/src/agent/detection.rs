//! Which master the agent talks to (`Slave::detected` in `src/slave/slave.cpp`).
//!
//! With `--master=host:5050` the master is fixed. With `--master=zk://…/mesos`
//! the agent embeds a detector [`Group`] (no contender): it reads the leader's
//! `MasterInfo` from the lowest `json.info_N` node and learns of every change.
//!
//! ```text
//!   new leader detected ──▶ DISCONNECTED, updates paused, (re-)register with it
//!                           after the registration delay (`Slave::detected`)
//!   no leader ────────────▶ DISCONNECTED, updates paused, wait ("Lost leading master")
//!   a message from a master that is not the detected leader ──▶ ignored
//! ```
//!
//! Why ignore the others: a deposed leader can run for a few seconds before it
//! notices it lost its ZooKeeper session (the split-brain window); Mesos's
//! agent checks every master message's sender against the detected leader
//! ("Ignoring … because it is not the expected master").

use super::{Agent, Connection, Timer};
use mesocosm_sim::{ActorId, Msg, Outbox};

/// The messages only a master sends an agent.
fn from_master_only(msg: &Msg) -> bool {
    matches!(
        msg,
        Msg::SlaveRegistered(_)
            | Msg::SlaveReregistered(_)
            | Msg::PingSlave(_)
            | Msg::RunTask(_)
            | Msg::StatusUpdateAck(_)
            | Msg::KillTask(_)
            | Msg::ShutdownFramework(_)
            | Msg::ShutdownExecutor(_)
    )
}

impl Agent {
    /// Send `msg` to the detected master; nothing while none is known (the
    /// agent is DISCONNECTED then, its updates paused).
    pub(super) fn send_to_master(&self, msg: impl Into<Msg>, out: &mut Outbox<Timer>) {
        if let Some(m) = &self.master {
            out.send(m, msg);
        }
    }

    /// The master the agent detected, if any.
    pub fn detected_master(&self) -> Option<&ActorId> {
        self.master.as_ref()
    }

    /// Start the detector (a ZooKeeper session), if there is one.
    pub(super) fn start_detection(&mut self, out: &mut Outbox<Timer>) {
        self.detector.start(Timer::ZooKeeper, out);
    }

    /// Inputs that belong to detection: ZooKeeper's traffic, and master
    /// messages from a master that is not the detected leader. Returns the
    /// input back when it is not one of those.
    pub(super) fn detection_input(
        &mut self,
        from: ActorId,
        msg: Msg,
        out: &mut Outbox<Timer>,
    ) -> Option<(ActorId, Msg)> {
        let msg = match self.detector.on_message(&from, msg, out) {
            Ok(leaders) => {
                leaders.into_iter().for_each(|l| self.detected(l, out));
                return None;
            }
            Err(msg) => msg,
        };
        if from_master_only(&msg) && self.master.as_ref() != Some(&from) {
            out.note_with(|| {
                let expected = self.master.as_ref().map_or("none".to_string(), ToString::to_string);
                format!("Ignoring {} from {from} because it is not the expected master: {expected}", msg.kind())
            });
            return None;
        }
        Some((from, msg))
    }

    /// The detector's periodic check.
    pub(super) fn detection_tick(&mut self, out: &mut Outbox<Timer>) {
        let leaders = self.detector.on_tick(Timer::ZooKeeper, out);
        leaders.into_iter().for_each(|l| self.detected(l, out));
    }

    /// A broken connection to a ZooKeeper server; `false` if `peer` is not one.
    pub(super) fn detection_disconnected(&mut self, peer: &ActorId, out: &mut Outbox<Timer>) -> bool {
        let Some(leaders) = self.detector.on_disconnected(peer, out) else { return false };
        leaders.into_iter().for_each(|l| self.detected(l, out));
        true
    }

    /// `Slave::detected`: a new leader (or none).
    fn detected(&mut self, leader: Option<ActorId>, out: &mut Outbox<Timer>) {
        if leader == self.master {
            return;
        }
        let was_running = self.connection == Connection::Running;
        self.connection = Connection::Disconnected;
        if was_running {
            self.updates.pause();
        }
        self.master = leader;
        match &self.master {
            Some(m) => {
                out.note_with(|| format!("New master detected at master@{m}:5050"));
                self.start_registration(out);
            }
            None => out.note("Lost leading master; waiting for a new one to be detected"),
        }
    }
}
