//! Why a run stops early: an actor's core panicked, an actor live-locked at one
//! instant, or the transport refused a message.
//!
//! None of these is something the simulated cluster does: each is a bug in
//! mesocosm (or a core written for a test), so the world ends the run at once and
//! says where, instead of carrying on without the actor or hanging. A run that
//! failed this way replays to the same failure: the actor, the virtual time and
//! the input are the same on every run with the same seed.

use crate::actor::{ActorId, Input};
use crate::time::SimTime;
use std::cell::{Cell, RefCell};
use std::fmt;

/// Why a run stopped before its end.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RunFailure {
    /// An actor's core panicked while handling `input`.
    Panic { at: SimTime, actor: ActorId, input: String, message: String },
    /// An actor handled `steps` inputs at one instant without virtual time
    /// advancing (the last one was `input`).
    Livelock { at: SimTime, actor: ActorId, steps: u64, input: String },
    /// The transport refused to carry `kind` from `from` to `to` (a gRPC status
    /// other than the peer having gone away): the message never arrived.
    Transport { at: SimTime, from: ActorId, to: ActorId, kind: String, status: String },
}

impl RunFailure {
    /// When it happened.
    pub fn at(&self) -> SimTime {
        match self {
            RunFailure::Panic { at, .. } | RunFailure::Livelock { at, .. } | RunFailure::Transport { at, .. } => *at,
        }
    }

    /// A short name for the kind of failure: `panic`, `livelock`, `transport`.
    pub fn kind(&self) -> &'static str {
        match self {
            RunFailure::Panic { .. } => "panic",
            RunFailure::Livelock { .. } => "livelock",
            RunFailure::Transport { .. } => "transport",
        }
    }
}

impl fmt::Display for RunFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunFailure::Panic { at, actor, input, message } => {
                write!(f, "{actor} panicked at {at} handling {input}: {message}")
            }
            RunFailure::Livelock { at, actor, steps, input } => write!(
                f,
                "{actor} handled {steps} inputs at {at} without virtual time advancing (a livelock; the last was {input})"
            ),
            RunFailure::Transport { at, from, to, kind, status } => {
                write!(f, "the transport refused {kind} from {from} to {to} at {at}: {status}")
            }
        }
    }
}

/// What a core is handling, kept cheaply before the input moves into the core
/// so a panic can name it afterwards.
pub(crate) enum Handling<T> {
    Start,
    Message { from: ActorId, proto: &'static str, kind: &'static str },
    Timer(T),
    Disconnected(ActorId),
    Exited(ActorId, i32),
    Refused { peer: ActorId, kind: &'static str },
}

impl<T: Clone + fmt::Debug> Handling<T> {
    pub(crate) fn of(input: &Input<T>) -> Handling<T> {
        match input {
            Input::Start => Handling::Start,
            Input::Message { from, msg } => {
                Handling::Message { from: from.clone(), proto: msg.proto_name(), kind: msg.kind() }
            }
            Input::Timer(t) => Handling::Timer(t.clone()),
            Input::Disconnected { peer } => Handling::Disconnected(peer.clone()),
            Input::Exited { actor, status } => Handling::Exited(actor.clone(), *status),
            Input::Refused { peer, kind, .. } => Handling::Refused { peer: peer.clone(), kind },
        }
    }

    pub(crate) fn describe(&self) -> String {
        match self {
            Handling::Start => "its start".into(),
            Handling::Message { from, proto, kind } => format!("{kind} ({proto}) from {from}"),
            Handling::Timer(t) => format!("timer {t:?}"),
            Handling::Disconnected(peer) => format!("the disconnection of {peer}"),
            Handling::Exited(actor, status) => format!("the exit of {actor} with status {status}"),
            Handling::Refused { peer, kind } => format!("{peer}'s refusal of its {kind}"),
        }
    }
}

thread_local! {
    /// True while this thread runs a core's step under [`catch`].
    static IN_STEP: Cell<bool> = const { Cell::new(false) };
    /// Where the last caught panic happened (`file:line:col`).
    static LOCATION: RefCell<Option<String>> = const { RefCell::new(None) };
}

static HOOK: std::sync::Once = std::sync::Once::new();

/// Install (once per process) a panic hook that stays quiet for a panic inside a
/// core's step, which the world reports itself as the run's failure, and hands
/// every other panic to the hook that was there before.
pub(crate) fn install_hook() {
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if IN_STEP.with(Cell::get) {
                let at = info.location().map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()));
                LOCATION.with(|l| *l.borrow_mut() = at);
            } else {
                previous(info)
            }
        }));
    });
}

/// Run `f` (a core's step); a panic becomes `Err(its message and location)`.
pub(crate) fn catch<R>(f: impl FnOnce() -> R) -> Result<R, String> {
    IN_STEP.with(|s| s.set(true));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    IN_STEP.with(|s| s.set(false));
    result.map_err(|payload| {
        let text = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "(a panic without a message)".to_string());
        match LOCATION.with(|l| l.borrow_mut().take()) {
            Some(at) => format!("{text} (at {at})"),
            None => text,
        }
    })
}
