//! The task status update manager (Mesos `src/slave/task_status_update_manager.cpp`).
//!
//! Status updates are delivered at least once, end to end. For every task the
//! agent keeps an ordered stream of updates; only the **head** of each stream is
//! forwarded to the master. If no acknowledgement arrives, the head is sent again
//! after 10 s, then 20 s, 40 s… capped at 10 min. When the framework acknowledges
//! the head (the master relays the ack with the update's uuid), the head is
//! dropped and the next update of that task is forwarded. So a task's updates
//! reach the framework in order, and a terminal update is never lost while the
//! framework can still acknowledge it.

use mesocosm_sim::proto::internal::StatusUpdate;
use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

/// First retry interval (`STATUS_UPDATE_RETRY_INTERVAL_MIN`).
pub const RETRY_MIN: Duration = Duration::from_secs(10);
/// Retry interval cap (`STATUS_UPDATE_RETRY_INTERVAL_MAX`).
pub const RETRY_MAX: Duration = Duration::from_secs(600);

/// A stream's key: (framework id, task id).
pub type StreamKey = (String, String);

#[derive(Debug, Default)]
struct Stream {
    pending: VecDeque<StatusUpdate>,
    /// The interval before the next retry of the head.
    backoff: Duration,
}

/// What the manager asks its agent to do.
#[derive(Debug, PartialEq)]
pub enum Action {
    /// Send this update to the master now, and retry it after `retry_after` unless acked.
    Forward { update: StatusUpdate, retry_after: Duration },
}

/// All tasks' update streams.
#[derive(Debug, Default)]
pub struct StatusUpdateManager {
    streams: BTreeMap<StreamKey, Stream>,
}

fn key(u: &StatusUpdate) -> StreamKey {
    (u.framework_id.value.clone(), u.status.task_id.value.clone())
}

impl StatusUpdateManager {
    /// Add an update; forward it at once if it is its stream's head.
    pub fn update(&mut self, u: StatusUpdate) -> Option<Action> {
        let s = self.streams.entry(key(&u)).or_default();
        s.pending.push_back(u);
        if s.pending.len() == 1 {
            s.backoff = RETRY_MIN;
            Some(Action::Forward { update: s.pending[0].clone(), retry_after: RETRY_MIN })
        } else {
            None
        }
    }

    /// The framework acknowledged `uuid` for this stream. Returns whether it matched
    /// the head, and the next update to forward, if any.
    pub fn acknowledge(&mut self, k: &StreamKey, uuid: &[u8]) -> (bool, Option<Action>) {
        let Some(s) = self.streams.get_mut(k) else { return (false, None) };
        let matches = s.pending.front().and_then(|h| h.uuid.as_deref()) == Some(uuid);
        if !matches {
            // A duplicate or stale ack (e.g. of a retried update): Mesos ignores it.
            return (false, None);
        }
        s.pending.pop_front();
        if s.pending.is_empty() {
            self.streams.remove(k);
            return (true, None);
        }
        s.backoff = RETRY_MIN;
        (true, Some(Action::Forward { update: s.pending[0].clone(), retry_after: RETRY_MIN }))
    }

    /// The retry timer for `uuid` fired: resend the head if it is still unacked.
    pub fn retry(&mut self, k: &StreamKey, uuid: &[u8]) -> Option<Action> {
        let s = self.streams.get_mut(k)?;
        let head = s.pending.front()?;
        if head.uuid.as_deref() != Some(uuid) {
            return None;
        }
        // Back off exponentially so a partitioned agent does not flood the master.
        s.backoff = (s.backoff * 2).min(RETRY_MAX);
        Some(Action::Forward { update: head.clone(), retry_after: s.backoff })
    }

    /// Updates not yet acknowledged, for every task.
    pub fn unacknowledged(&self) -> usize {
        self.streams.values().map(|s| s.pending.len()).sum()
    }
}
