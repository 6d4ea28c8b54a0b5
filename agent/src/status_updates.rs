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
//!
//! While the agent has no master (disconnected, re-registering) the manager is
//! **paused**: it keeps accepting updates but forwards and retries nothing. When
//! the agent (re-)registers it **resumes**, resending every stream's head at once
//! (`TaskStatusUpdateManagerProcess::pause/resume`).
//!
//! Timers are never cancelled, so every forward of a stream's head bumps the
//! stream's *generation*; a retry timer only acts if it carries the current one.
//! That keeps one retry chain per stream even after a pause and resume.

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
    /// Bumped on every forward; the retry timer of the latest forward carries it.
    generation: u64,
}

/// What the manager asks its agent to do.
#[derive(Debug, PartialEq)]
pub enum Action {
    /// Send this update to the master now, and retry it after `retry_after` unless
    /// acked (the retry timer carries `generation`).
    Forward { update: StatusUpdate, retry_after: Duration, generation: u64 },
}

/// All tasks' update streams.
#[derive(Debug, Default)]
pub struct StatusUpdateManager {
    streams: BTreeMap<StreamKey, Stream>,
    paused: bool,
}

fn key(u: &StatusUpdate) -> StreamKey {
    (u.framework_id.value.clone(), u.status.task_id.value.clone())
}

impl Stream {
    fn forward_head(&mut self, retry_after: Duration) -> Action {
        self.backoff = retry_after;
        self.generation += 1;
        Action::Forward { update: self.pending[0].clone(), retry_after, generation: self.generation }
    }
}

impl StatusUpdateManager {
    /// Add an update; forward it at once if it is its stream's head (and the
    /// manager is not paused).
    pub fn update(&mut self, u: StatusUpdate) -> Option<Action> {
        let paused = self.paused;
        let s = self.streams.entry(key(&u)).or_default();
        s.pending.push_back(u);
        (s.pending.len() == 1 && !paused).then(|| s.forward_head(RETRY_MIN))
    }

    /// The framework acknowledged `uuid` for this stream. Returns whether it matched
    /// the head, and the next update to forward, if any.
    pub fn acknowledge(&mut self, k: &StreamKey, uuid: &[u8]) -> (bool, Option<Action>) {
        let paused = self.paused;
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
        (true, (!paused).then(|| s.forward_head(RETRY_MIN)))
    }

    /// The retry timer of `generation` fired: resend the head if that timer is
    /// still the stream's latest and the head is still unacked.
    pub fn retry(&mut self, k: &StreamKey, uuid: &[u8], generation: u64) -> Option<Action> {
        if self.paused {
            // `timeout()` does nothing while paused; `resume` restarts the chain.
            return None;
        }
        let s = self.streams.get_mut(k)?;
        let head = s.pending.front()?;
        if head.uuid.as_deref() != Some(uuid) || s.generation != generation {
            return None;
        }
        // Back off exponentially so a partitioned agent does not flood the master.
        let next = (s.backoff * 2).min(RETRY_MAX);
        Some(s.forward_head(next))
    }

    /// Stop forwarding: the agent lost its master.
    pub fn pause(&mut self) {
        self.paused = true;
    }

    /// Forward again: resend every stream's head now, retrying from 10 s.
    pub fn resume(&mut self) -> Vec<Action> {
        self.paused = false;
        self.streams.values_mut().map(|s| s.forward_head(RETRY_MIN)).collect()
    }

    /// Whether forwarding is paused.
    pub fn paused(&self) -> bool {
        self.paused
    }

    /// Drop every stream of a framework the agent removes
    /// (`TaskStatusUpdateManager::cleanup`): nobody will acknowledge them.
    pub fn cleanup(&mut self, framework: &str) {
        self.streams.retain(|(f, _), _| f != framework);
    }

    /// Drop one task's stream (its executor was removed).
    pub fn cleanup_stream(&mut self, k: &StreamKey) {
        self.streams.remove(k);
    }

    /// The head of a task's stream: the update in flight to the framework.
    pub fn head(&self, k: &StreamKey) -> Option<&StatusUpdate> {
        self.streams.get(k).and_then(|s| s.pending.front())
    }

    /// Every update not yet acknowledged, stream by stream, oldest first.
    pub fn pending(&self) -> impl Iterator<Item = &StatusUpdate> {
        self.streams.values().flat_map(|s| s.pending.iter())
    }

    /// Updates not yet acknowledged, for every task.
    pub fn unacknowledged(&self) -> usize {
        self.streams.values().map(|s| s.pending.len()).sum()
    }
}
