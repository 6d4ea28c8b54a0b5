//! The sans-IO contract every actor core keeps.
//!
//! A core (the master, an agent, a Spark driver, an executor) is a plain state
//! machine. The world hands it one [`Input`] at a time with the current virtual
//! time; the core changes its state and records what it wants done in an
//! [`Outbox`]: messages to send, timers to set, containers to launch, notes for the
//! timeline. It never awaits, reads a clock, draws randomness or touches a socket,
//! so tests and benches drive it directly and assert on its outputs:
//!
//! ```text
//!            Input::{Start, Message, Timer, Disconnected, Exited, Refused}
//!   world ─────────────────────────────────────────────────▶ core.handle(now, input, &mut out)
//!     ▲                                                                 │
//!     └──── Output::{Send, SetTimer, Launch, Disconnect, Refuse, Note, Exit} ◀┘
//! ```

use crate::msg::Msg;
use crate::time::SimTime;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// The name of an actor: `master`, `agent-1`, `driver:spark-pi`, `executor:spark-pi/0`.
///
/// Names are what the trace, the timeline and scenario faults use, so they are
/// the scenario's own names rather than Mesos's generated ids.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ActorId(Arc<str>);

impl ActorId {
    /// An actor named `name`.
    pub fn new(name: impl AsRef<str>) -> ActorId {
        ActorId(Arc::from(name.as_ref()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ActorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for ActorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", &*self.0)
    }
}

impl From<&str> for ActorId {
    fn from(s: &str) -> ActorId {
        ActorId::new(s)
    }
}

/// One thing that happens to a core.
// Messages are moved, not copied, through the world's queues; `Msg` boxes its
// large variants, so an input is small.
#[derive(Clone, Debug, PartialEq)]
pub enum Input<T> {
    /// The actor process starts (once, first).
    Start,
    /// A message arrived from another actor.
    Message { from: ActorId, msg: Msg },
    /// A timer the core set is due.
    Timer(T),
    /// The connection to `peer` broke (e.g. the master closed a subscription stream).
    Disconnected { peer: ActorId },
    /// A container this actor launched exited with `status` (the containerizer
    /// reaping its process; only agents launch containers).
    Exited { actor: ActorId, status: i32 },
    /// `peer` refused the call of kind `kind` this actor sent it (see [`Refusal`]):
    /// the answer to that call, not a message on any event stream.
    Refused { peer: ActorId, kind: &'static str, refusal: Refusal },
}

/// A call its receiver refused the way an HTTP API refuses a request: the
/// answer travels back on the call itself (an HTTP status; over gRPC, a status
/// code on the unary call), never as a message on the caller's event stream.
///
/// Mesos's scheduler endpoint answers a call from a scheduler that holds no
/// subscription for the framework it names with `403 Forbidden` "Framework is not
/// subscribed" (`src/master/http.cpp`, `Master::Http::scheduler`) and leaves the
/// event stream alone; an ERROR event instead would tell the scheduler to abort.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// HTTP 403 Forbidden; gRPC `PERMISSION_DENIED`.
    Forbidden(String),
    /// No process listens where the request goes: the host resets the TCP
    /// connection (`ECONNREFUSED`) before any HTTP is spoken. The world gives
    /// it for a request that [`crate::Msg::needs_listener`] to an actor that
    /// is not running.
    ConnectionRefused(String),
    /// HTTP 307 Temporary Redirect to `Location` (the leading master's
    /// `//host:port/path`): a master that is not the leader redirects the
    /// scheduler API (`Master::Http::redirect`); gRPC `FAILED_PRECONDITION`.
    TemporaryRedirect(String),
    /// HTTP 503 Service Unavailable: a non-leading master that knows no leader
    /// answers "No leader elected"; gRPC `UNAVAILABLE` marked as the core's answer.
    ServiceUnavailable(String),
}

impl Refusal {
    /// The HTTP status line's code and reason.
    pub fn http_status(&self) -> &'static str {
        match self {
            Refusal::Forbidden(_) => "403 Forbidden",
            // No HTTP status: the connection itself failed.
            Refusal::ConnectionRefused(_) => "connection refused",
            Refusal::TemporaryRedirect(_) => "307 Temporary Redirect",
            Refusal::ServiceUnavailable(_) => "503 Service Unavailable",
        }
    }

    /// The response body: why the call was refused.
    pub fn message(&self) -> &str {
        match self {
            Refusal::Forbidden(m)
            | Refusal::ConnectionRefused(m)
            | Refusal::TemporaryRedirect(m)
            | Refusal::ServiceUnavailable(m) => m,
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.http_status(), self.message())
    }
}

/// What an executor container runs, as the agent asks the world to launch it.
#[derive(Clone, Debug, PartialEq)]
pub struct Launch {
    /// The actor name the container's process gets.
    pub actor: ActorId,
    /// The agent's hostname, where the process runs.
    pub host: String,
    /// The framework the task belongs to.
    pub framework: crate::proto::v1::FrameworkInfo,
    /// The agent, as the executor sees it in SUBSCRIBED.
    pub agent: crate::proto::v1::AgentInfo,
    /// The task the container was launched for (its command is what runs).
    pub task: crate::proto::v1::TaskInfo,
    /// The executor that the agent runs the task with (for a command task, the
    /// agent's command executor, named after the task).
    pub executor: crate::proto::v1::ExecutorInfo,
}

impl Launch {
    /// The Docker image the container runs, and whether to pull it even if
    /// present: the executor's container, else the task's; DockerInfo's
    /// `force_pull_image`, or a Mesos container's Docker image with
    /// `cached = false` (Spark sets it to `!forcePullImage`). None for a
    /// container without a Docker image.
    pub fn docker_image(&self) -> Option<(String, bool)> {
        use crate::proto::v1::{container_info, image};
        let c = self.executor.container.as_ref().or(self.task.container.as_ref())?;
        match c.r#type() {
            container_info::Type::Docker => {
                c.docker.as_ref().map(|d| (d.image.clone(), d.force_pull_image.unwrap_or(false)))
            }
            container_info::Type::Mesos => {
                let img = c.mesos.as_ref()?.image.as_ref()?;
                if img.r#type() != image::Type::Docker {
                    return None;
                }
                img.docker.as_ref().map(|d| (d.name.clone(), !img.cached()))
            }
        }
    }
}

/// One thing a core wants done.
#[derive(Clone, Debug, PartialEq)]
pub enum Output<T> {
    /// Send `msg` to actor `to`.
    Send { to: ActorId, msg: Msg },
    /// Deliver `Input::Timer(timer)` at `at`. Timers are never cancelled; a core
    /// ignores a timer that no longer applies (Mesos's timers work the same way).
    SetTimer { at: SimTime, timer: T },
    /// Start a container process (agent → world). Boxed: a `Launch` holds four
    /// whole protobuf infos (~2 KB), and every other output would pay its size.
    Launch(Box<Launch>),
    /// Close this actor's connections to `peer` (a master ending a subscription).
    Disconnect { peer: ActorId },
    /// Signal `child`, a process this actor started (an [`Output::Launch`] whose
    /// parent it is), so that it ends with `status` (143 after SIGTERM, 137
    /// after SIGKILL): a command executor killing its command's process. The
    /// world ignores it for an actor that is not this one's child.
    Kill { child: ActorId, status: i32 },
    /// Refuse the call being handled: its sender gets `Input::Refused` as the
    /// call's answer. Only a step that handles an `Input::Message` may refuse.
    Refuse(Refusal),
    /// A line for the timeline that explains a decision (never part of the trace).
    Note(String),
    /// The allocator's dominant share of each framework (by name) after an
    /// allocation cycle: a structured record of the JSONL file for plots, kept
    /// out of the digest like a note and asked for only when notes are read.
    Shares(Vec<(String, f64)>),
    /// A world event about this actor for the timeline ("elected leader"):
    /// printed like an actor starting or exiting, kept in the JSONL file,
    /// never part of the digest (what happened is in the messages).
    Event(String),
    /// The actor's process exits with `status`.
    Exit { status: i32 },
}

/// Where a core records its outputs during one `handle` call.
#[derive(Debug)]
pub struct Outbox<T> {
    now: SimTime,
    outputs: Vec<Output<T>>,
    notes: bool,
}

impl<T> Outbox<T> {
    /// An empty outbox for a step at `now`.
    pub fn new(now: SimTime) -> Outbox<T> {
        Outbox { now, outputs: Vec::new(), notes: true }
    }

    /// Whether anyone reads notes (the world turns them off unless the timeline
    /// explains or `tracing` shows them, so cores do not format text for nobody).
    pub fn set_notes(&mut self, wanted: bool) {
        self.notes = wanted;
    }

    /// Whether anyone reads notes: a core that gathers text for its notes
    /// ahead of time (the allocator's explanations) asks first.
    pub fn notes_wanted(&self) -> bool {
        self.notes
    }

    /// The time of the step being handled.
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// Send `msg` to `to`.
    pub fn send(&mut self, to: &ActorId, msg: impl Into<Msg>) {
        self.outputs.push(Output::Send { to: to.clone(), msg: msg.into() });
    }

    /// Deliver `timer` after `d`.
    pub fn set_timer(&mut self, d: Duration, timer: T) {
        let at = self.now.after(d);
        self.outputs.push(Output::SetTimer { at, timer });
    }

    /// Deliver `timer` at `at`.
    pub fn set_timer_at(&mut self, at: SimTime, timer: T) {
        self.outputs.push(Output::SetTimer { at, timer });
    }

    /// Ask the world to launch a container.
    pub fn launch(&mut self, launch: Launch) {
        self.outputs.push(Output::Launch(Box::new(launch)));
    }

    /// Close connections to `peer`.
    pub fn disconnect(&mut self, peer: &ActorId) {
        self.outputs.push(Output::Disconnect { peer: peer.clone() });
    }

    /// End child process `child` with `status` (see [`Output::Kill`]).
    pub fn kill_child(&mut self, child: &ActorId, status: i32) {
        self.outputs.push(Output::Kill { child: child.clone(), status });
    }

    /// Refuse the call being handled (see [`Refusal`]).
    pub fn refuse(&mut self, refusal: Refusal) {
        self.outputs.push(Output::Refuse(refusal));
    }

    /// Explain a decision on the timeline.
    pub fn note(&mut self, text: impl Into<String>) {
        if self.notes {
            self.outputs.push(Output::Note(text.into()));
        }
    }

    /// Explain a decision, formatting the text only if someone reads notes.
    pub fn note_with(&mut self, text: impl FnOnce() -> String) {
        if self.notes {
            self.outputs.push(Output::Note(text()));
        }
    }

    /// Record each framework's dominant share (see [`Output::Shares`]),
    /// computing them only if someone reads notes.
    pub fn shares_with(&mut self, shares: impl FnOnce() -> Vec<(String, f64)>) {
        if self.notes {
            self.outputs.push(Output::Shares(shares()));
        }
    }

    /// Put a world event about this actor on the timeline (see [`Output::Event`]).
    pub fn event(&mut self, text: impl Into<String>) {
        self.outputs.push(Output::Event(text.into()));
    }

    /// Exit the process.
    pub fn exit(&mut self, status: i32) {
        self.outputs.push(Output::Exit { status });
    }

    /// Take what was recorded so far.
    pub fn take(&mut self) -> Vec<Output<T>> {
        std::mem::take(&mut self.outputs)
    }

    /// Take what was recorded so far, keeping the buffer for the next step.
    pub fn drain(&mut self) -> std::vec::Drain<'_, Output<T>> {
        self.outputs.drain(..)
    }

    /// Move to the next step at `now`, keeping the allocation.
    pub fn reset(&mut self, now: SimTime) {
        self.now = now;
        self.outputs.clear();
    }

    /// The outputs recorded so far.
    pub fn outputs(&self) -> &[Output<T>] {
        &self.outputs
    }
}

/// A sans-IO actor core.
pub trait Actor: Send + 'static {
    /// The core's own timer kinds.
    type Timer: Clone + fmt::Debug + Send + 'static;

    /// Handle one input at virtual time `out.now()`, recording outputs in `out`.
    fn handle(&mut self, input: Input<Self::Timer>, out: &mut Outbox<Self::Timer>);

    /// The invariants this core keeps, stated over its state: `Err` names the one
    /// that does not hold. The world calls it after every step of a checked run;
    /// it reads state and never changes behaviour.
    fn check_invariants(&self) -> Result<(), String> {
        Ok(())
    }

    /// Convenience for tests: handle one input at `now` and return the outputs.
    fn step(&mut self, now: SimTime, input: Input<Self::Timer>) -> Vec<Output<Self::Timer>>
    where
        Self: Sized,
    {
        let mut out = Outbox::new(now);
        self.handle(input, &mut out);
        out.take()
    }
}

/// The messages among `outputs` sent to `to`, for assertions in tests.
pub fn sent_to<T>(outputs: &[Output<T>], to: &str) -> Vec<Msg> {
    outputs
        .iter()
        .filter_map(|o| match o {
            Output::Send { to: t, msg } if t.as_str() == to => Some(msg.clone()),
            _ => None,
        })
        .collect()
}

/// The scheduler Calls among the messages sent to `to` (a master), in order:
/// what a scheduler core's tests assert.
pub fn calls_to<T>(outputs: &[Output<T>], to: &str) -> Vec<crate::proto::scheduler::Call> {
    sent_to(outputs, to)
        .into_iter()
        .filter_map(|m| match m {
            Msg::SchedulerCall(c) => Some(*c),
            _ => None,
        })
        .collect()
}

/// A core the world runs while the runner can still look at it, for reports and
/// invariant checks that read state without changing behaviour.
pub struct Shared<A>(Arc<std::sync::Mutex<A>>);

impl<A> Shared<A> {
    /// Share `core`.
    pub fn new(core: A) -> Shared<A> {
        Shared(Arc::new(std::sync::Mutex::new(core)))
    }

    /// Read the core's state.
    pub fn with<R>(&self, f: impl FnOnce(&A) -> R) -> R {
        f(&self.0.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

impl<A> Clone for Shared<A> {
    fn clone(&self) -> Self {
        Shared(self.0.clone())
    }
}

impl<A: Actor> Actor for Shared<A> {
    type Timer = A::Timer;

    fn handle(&mut self, input: Input<Self::Timer>, out: &mut Outbox<Self::Timer>) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).handle(input, out)
    }

    fn check_invariants(&self) -> Result<(), String> {
        self.with(|core| core.check_invariants())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What carries a message is as small as the message: a `Launch` (~2 KB
    /// of protobuf infos) is boxed, and `Msg` boxes its own large variants.
    #[test]
    fn inputs_and_outputs_stay_small() {
        assert!(size_of::<Output<()>>() <= 160, "size_of::<Output<()>>() = {}", size_of::<Output<()>>());
        assert!(size_of::<Input<()>>() <= 160, "size_of::<Input<()>>() = {}", size_of::<Input<()>>());
    }
}
