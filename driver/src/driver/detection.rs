//! libmesos's master detection (`SchedulerProcess::detected` in
//! `src/sched/sched.cpp`): with `--master mesos://host:5050` the master is
//! fixed; with `mesos://zk://…/mesos` the v0 driver embeds a ZooKeeper
//! detector and follows whoever leads.
//!
//! ```text
//!   new leader ──▶ connected = false (Spark's disconnected() only logs),
//!                  SUBSCRIBE with the FrameworkID after the backoff factor;
//!                  the new master answers SUBSCRIBED (`registered` in v0)
//!   no leader ───▶ connected = false; no SUBSCRIBE until one is detected
//!   an event from a master that is not the detected leader ──▶ ignored
//! ```

use super::{DriverTimer, SparkDriver};
use mesocosm_scheduler::REGISTRATION_BACKOFF_FACTOR;
use mesocosm_sim::{ActorId, Msg, Outbox};

impl SparkDriver {
    /// The master libmesos talks to: the fixed one, or the detected leader.
    pub fn master(&self) -> Option<&ActorId> {
        self.detection.master()
    }

    /// Start the detector's session, if there is one.
    pub(super) fn start_detection(&mut self, out: &mut Outbox<DriverTimer>) {
        self.detection.start(DriverTimer::ZooKeeper, out);
    }

    pub(super) fn detection_tick(&mut self, out: &mut Outbox<DriverTimer>) {
        let changes = self.detection.on_tick(DriverTimer::ZooKeeper, out);
        changes.into_iter().for_each(|l| self.detected(l, out));
    }

    /// A ZooKeeper reply, or a scheduler event from a master that is not the
    /// leader (ignored); `Some` gives any other message back.
    pub(super) fn detection_message(
        &mut self,
        from: ActorId,
        msg: Msg,
        out: &mut Outbox<DriverTimer>,
    ) -> Option<(ActorId, Msg)> {
        let msg = match self.detection.on_message(&from, msg, out) {
            Ok(changes) => {
                changes.into_iter().for_each(|l| self.detected(l, out));
                return None;
            }
            Err(msg) => msg,
        };
        if let Msg::SchedulerEvent(e) = &msg
            && !self.detection.accepts(&from, e, out)
        {
            return None;
        }
        Some((from, msg))
    }

    /// A broken connection to a ZooKeeper server; `false` if `peer` is not one.
    pub(super) fn detection_disconnected(&mut self, peer: &ActorId, out: &mut Outbox<DriverTimer>) -> bool {
        let Some(changes) = self.detection.on_disconnected(peer, out) else { return false };
        changes.into_iter().for_each(|l| self.detected(l, out));
        true
    }

    /// `SchedulerProcess::detected`: the leader changed to `leader` (or none).
    fn detected(&mut self, leader: Option<ActorId>, out: &mut Outbox<DriverTimer>) {
        if self.mesos_aborted {
            return;
        }
        let was_connected = self.connected;
        self.connected = false;
        self.registration_round += 1;
        self.registration_backoff = REGISTRATION_BACKOFF_FACTOR;
        if was_connected {
            out.note("libmesos lost its master: Spark's disconnected() only logs; executors keep running tasks");
        }
        let Some(m) = leader else {
            out.note("No master detected: libmesos waits for one before SUBSCRIBE");
            return;
        };
        out.note_with(|| format!("New master detected at master@{m}:5050"));
        // Why the backoff factor: mesocosm waits the whole factor before
        // registering, as after a broken connection (libmesos's `detected`
        // registers at once and backs off only between retries).
        out.set_timer(
            REGISTRATION_BACKOFF_FACTOR,
            DriverTimer::ReliableRegistration { round: self.registration_round },
        );
    }
}
