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
        self.master.as_ref()
    }

    /// Start the detector's session, if there is one.
    pub(super) fn start_detection(&mut self, out: &mut Outbox<DriverTimer>) {
        self.detector.start(DriverTimer::ZooKeeper, out);
    }

    pub(super) fn detection_tick(&mut self, out: &mut Outbox<DriverTimer>) {
        let leaders = self.detector.on_tick(DriverTimer::ZooKeeper, out);
        leaders.into_iter().for_each(|l| self.detected(l, out));
    }

    /// A ZooKeeper reply; `Some` gives the message back if it is not one.
    pub(super) fn detection_message(
        &mut self,
        from: ActorId,
        msg: Msg,
        out: &mut Outbox<DriverTimer>,
    ) -> Option<(ActorId, Msg)> {
        let msg = match self.detector.on_message(&from, msg, out) {
            Ok(leaders) => {
                leaders.into_iter().for_each(|l| self.detected(l, out));
                return None;
            }
            Err(msg) => msg,
        };
        if let Msg::SchedulerEvent(e) = &msg
            && self.master.as_ref() != Some(&from)
        {
            // "Ignoring … message because it was sent from '…' instead of the leading master".
            out.note_with(|| {
                let leader = self.master.as_ref().map_or("none".to_string(), ToString::to_string);
                format!("{} from {from} ignored: not the leading master ({leader})", e.r#type().as_str_name())
            });
            return None;
        }
        Some((from, msg))
    }

    /// A broken connection to a ZooKeeper server; `false` if `peer` is not one.
    pub(super) fn detection_disconnected(&mut self, peer: &ActorId, out: &mut Outbox<DriverTimer>) -> bool {
        let Some(leaders) = self.detector.on_disconnected(peer, out) else { return false };
        leaders.into_iter().for_each(|l| self.detected(l, out));
        true
    }

    /// `SchedulerProcess::detected`.
    fn detected(&mut self, leader: Option<ActorId>, out: &mut Outbox<DriverTimer>) {
        if leader == self.master || self.mesos_aborted {
            self.master = leader;
            return;
        }
        let was_connected = self.connected;
        self.connected = false;
        self.registration_round += 1;
        self.registration_backoff = REGISTRATION_BACKOFF_FACTOR;
        self.master = leader;
        if was_connected {
            out.note("libmesos lost its master: Spark's disconnected() only logs; executors keep running tasks");
        }
        let Some(m) = self.master.clone() else {
            out.note("No master detected: libmesos waits for one before SUBSCRIBE");
            return;
        };
        out.note_with(|| format!("New master detected at master@{m}:5050"));
        // Why the backoff factor: libmesos waits a random part of
        // registration_backoff_factor before registering; mesocosm waits the
        // whole factor, as after a broken connection.
        out.set_timer(
            REGISTRATION_BACKOFF_FACTOR,
            DriverTimer::ReliableRegistration { round: self.registration_round },
        );
    }
}
