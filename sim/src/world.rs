//! The world: one paused tokio runtime, the actors on it, and the network between them.
//!
//! Every actor is a task on ONE `current_thread` runtime whose clock is paused,
//! so virtual time jumps straight to the next timer and a run replays exactly.
//! An actor's task (its *host*) owns the core: it feeds the core one [`Input`] at a
//! time and carries out the [`Output`]s.
//!
//! Messages between actors go through [`World::send`]:
//!
//! ```text
//!  core ─Output::Send─▶ World::send ─▶ trace ─▶ link(from,to) queue ──latency──▶ transport ─▶ receiver's mailbox
//!                                                 one task per link, FIFO         gRPC or memory
//! ```
//!
//! - The **link** is the message layer: one FIFO queue and task per ordered actor
//!   pair, with one latency drawn per link from the seed (never per byte write: the
//!   transport spike showed per-write latency breaks replay at scale). Messages on a
//!   link arrive in order, as over one libprocess TCP connection.
//! - The **transport** is either real gRPC (tonic over in-memory HTTP/2 pipes, see
//!   [`crate::grpc`]) or direct delivery into the mailbox ([`Transport::Memory`]),
//!   so the cost of gRPC is a measured ratio. Both carry the same messages in the
//!   same order; the trace does not depend on the transport.

use crate::actor::{Actor, ActorId, Input, Launch, Outbox, Output};
use crate::msg::Msg;
use crate::time::SimTime;
use crate::trace::{Trace, TraceConfig};
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};
use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

/// How messages travel between actors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    /// Real gRPC: every message is a tonic call over an in-memory HTTP/2 connection.
    Grpc,
    /// Direct delivery into the receiver's mailbox, no encoding (the lower bound).
    Memory,
}

/// Latency of the links between actors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Latency {
    /// The same latency on every link.
    Fixed(Duration),
    /// Drawn once per link, uniformly in `[min, max]`, from the seed and the link's names.
    Uniform { min: Duration, max: Duration },
}

impl Latency {
    /// The shortest default link latency.
    pub const DEFAULT_MIN: Duration = Duration::from_micros(100);
    /// The longest default link latency.
    pub const DEFAULT_MAX: Duration = Duration::from_millis(1);
    /// mesocosm's default: each link between 100 µs and 1 ms, like hosts in one data centre.
    pub const DEFAULT: Latency = Latency::Uniform { min: Latency::DEFAULT_MIN, max: Latency::DEFAULT_MAX };
}

/// How to build a world.
pub struct WorldConfig {
    /// The root seed; every random choice derives from it by name.
    pub seed: u64,
    /// gRPC or memory.
    pub transport: Transport,
    /// Link latency.
    pub latency: Latency,
    /// What the trace keeps.
    pub trace: TraceConfig,
}

/// What the network hands an actor's host.
#[derive(Debug)]
pub(crate) enum Delivery {
    Message { from: ActorId, msg: Box<Msg> },
    Disconnected { peer: ActorId },
    Exited { actor: ActorId, status: i32 },
}

impl Delivery {
    fn into_input<T>(self) -> Input<T> {
        match self {
            Delivery::Message { from, msg } => Input::Message { from, msg: *msg },
            Delivery::Disconnected { peer } => Input::Disconnected { peer },
            Delivery::Exited { actor, status } => Input::Exited { actor, status },
        }
    }
}

/// What a link task carries.
enum LinkItem {
    Msg(SimTime, Box<Msg>),
    Disconnect(SimTime),
}

/// Starts the container process for a [`Launch`] (provided by the scenario runner,
/// which knows what executor cores exist).
pub type Launcher = Arc<dyn Fn(&World, &ActorId, Launch) + Send + Sync>;

/// An actor that exited, and when.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exit {
    pub at: SimTime,
    pub actor: ActorId,
    pub status: i32,
}

pub(crate) struct State {
    pub(crate) mailboxes: BTreeMap<ActorId, mpsc::UnboundedSender<Delivery>>,
    links: BTreeMap<(ActorId, ActorId), mpsc::UnboundedSender<LinkItem>>,
    /// gRPC: where dialers hand the far end of a new connection to an actor's server.
    pub(crate) listeners: BTreeMap<ActorId, mpsc::UnboundedSender<tokio::io::DuplexStream>>,
    /// gRPC: open event streams, keyed by (server, subscriber).
    pub(crate) streams: BTreeMap<(ActorId, ActorId), StreamTx>,
    /// gRPC: asks waiting for their reply, keyed by (asked, asker), oldest first.
    pub(crate) asks: BTreeMap<(ActorId, ActorId), VecDeque<oneshot::Sender<Msg>>>,
    /// Memory: subscriptions, keyed by (server, subscriber), to synthesise disconnects.
    subscriptions: BTreeMap<(ActorId, ActorId), ()>,
    /// Who launched each container process.
    parents: BTreeMap<ActorId, ActorId>,
    /// Tasks that belong to an actor and die with it (its server, its stream readers).
    pub(crate) owned: BTreeMap<ActorId, Vec<JoinHandle<()>>>,
    trace: Trace,
    /// Every exit, keyed by actor (an actor exits at most once).
    exits: BTreeMap<ActorId, Exit>,
}

/// An event stream's sending half (server side).
pub(crate) enum StreamTx {
    Scheduler(mpsc::UnboundedSender<Result<crate::proto::scheduler::Event, tonic::Status>>),
    Executor(mpsc::UnboundedSender<Result<crate::proto::executor::Event, tonic::Status>>),
}

struct Shared {
    state: Mutex<State>,
    start: tokio::time::Instant,
    seed: u64,
    transport: Transport,
    latency: Latency,
    launcher: Mutex<Option<Launcher>>,
    exited: tokio::sync::Notify,
}

/// A handle to the world; cheap to clone.
#[derive(Clone)]
pub struct World {
    shared: Arc<Shared>,
}

thread_local! {
    /// When the world on this thread started, for log timestamps.
    static LOG_CLOCK: std::cell::Cell<Option<tokio::time::Instant>> = const { std::cell::Cell::new(None) };
}

/// Virtual time of the world running on this thread, for `tracing` timestamps.
pub fn log_time() -> Option<SimTime> {
    LOG_CLOCK.with(|c| c.get()).map(|start| from_tokio(paused_now().duration_since(start)))
}

/// The only clock read in mesocosm: tokio's clock, which in a world is *paused*,
/// so it moves only when every task is idle, and then jumps to the next timer.
fn paused_now() -> tokio::time::Instant {
    tokio::time::Instant::now()
}

/// tokio's timer wheel has millisecond granularity: a 300 µs sleep would wake
/// after 1 ms, and every sub-millisecond link latency would become 1 ms. So one
/// microsecond of virtual time is one millisecond on tokio's (paused, never
/// waited-for) clock, which gives timers microsecond resolution. The wheel then
/// reaches [`MAX_VIRTUAL_TIME`] of virtual time.
fn to_tokio(t: SimTime) -> Duration {
    Duration::from_millis(t.micros())
}

fn from_tokio(d: Duration) -> SimTime {
    SimTime(d.as_millis() as u64)
}

/// The longest run a world supports: tokio's timer wheel holds deadlines up to
/// 2^36 ms ahead, which at one tokio millisecond per virtual microsecond is ~19 h.
pub const MAX_VIRTUAL_TIME: Duration = Duration::from_secs(18 * 3600);

/// A stable 64-bit hash of the seed and some names (SHA-256, so it is the same on
/// every machine and Rust release, unlike `std`'s hashers).
pub fn derive_seed(seed: u64, parts: &[&str]) -> u64 {
    let seed = seed.to_le_bytes();
    let all: Vec<&[u8]> = std::iter::once(&seed[..]).chain(parts.iter().map(|p| p.as_bytes())).collect();
    let d = crate::ids::digest(&all);
    u64::from_le_bytes([d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]])
}

impl World {
    /// A world on the current (paused, current-thread) runtime. Call inside [`run_world`].
    pub fn new(config: WorldConfig) -> World {
        let start = paused_now();
        LOG_CLOCK.with(|c| c.set(Some(start)));
        World {
            shared: Arc::new(Shared {
                state: Mutex::new(State {
                    mailboxes: BTreeMap::new(),
                    links: BTreeMap::new(),
                    listeners: BTreeMap::new(),
                    streams: BTreeMap::new(),
                    asks: BTreeMap::new(),
                    subscriptions: BTreeMap::new(),
                    parents: BTreeMap::new(),
                    owned: BTreeMap::new(),
                    trace: Trace::new(config.trace),
                    exits: BTreeMap::new(),
                }),
                start,
                seed: config.seed,
                transport: config.transport,
                latency: config.latency,
                launcher: Mutex::new(None),
                exited: tokio::sync::Notify::new(),
            }),
        }
    }

    pub(crate) fn state(&self) -> MutexGuard<'_, State> {
        // The world runs on one thread; a poisoned lock means a task panicked,
        // which is already a bug being reported.
        self.shared.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Virtual time now.
    pub fn now(&self) -> SimTime {
        from_tokio(paused_now().duration_since(self.shared.start))
    }

    fn instant(&self, t: SimTime) -> tokio::time::Instant {
        self.shared.start + to_tokio(t)
    }

    /// The root seed.
    pub fn seed(&self) -> u64 {
        self.shared.seed
    }

    /// The transport in use.
    pub fn transport(&self) -> Transport {
        self.shared.transport
    }

    /// A random generator for `name`, derived from the root seed and the name only,
    /// so it does not depend on the order actors were created in.
    pub fn rng_for(&self, name: &str) -> ChaCha8Rng {
        ChaCha8Rng::seed_from_u64(derive_seed(self.shared.seed, &[name]))
    }

    /// The latency of the link `from → to`.
    pub fn link_latency(&self, from: &ActorId, to: &ActorId) -> Duration {
        match self.shared.latency {
            Latency::Fixed(d) => d,
            Latency::Uniform { min, max } => {
                let span = max.saturating_sub(min).as_micros() as u64;
                let mut rng =
                    ChaCha8Rng::seed_from_u64(derive_seed(self.shared.seed, &["link", from.as_str(), to.as_str()]));
                min + Duration::from_micros(if span == 0 { 0 } else { rng.next_u64() % (span + 1) })
            }
        }
    }

    /// Set what launches containers for agents.
    pub fn set_launcher(&self, launcher: Launcher) {
        *self.shared.launcher.lock().unwrap_or_else(|p| p.into_inner()) = Some(launcher);
    }

    /// Start actor `id` running `core`. `parent` is the agent that launched it, if any.
    pub fn spawn<A: Actor>(&self, id: ActorId, core: A, parent: Option<ActorId>) {
        let (tx, rx) = mpsc::unbounded_channel();
        {
            let mut st = self.state();
            st.mailboxes.insert(id.clone(), tx);
            if let Some(p) = parent {
                st.parents.insert(id.clone(), p);
            }
        }
        if self.shared.transport == Transport::Grpc {
            crate::grpc::serve(self, &id);
        }
        let world = self.clone();
        tokio::spawn(host(world, id, core, rx));
    }

    /// Hand `msg` from `from` to the network for `to`: trace it, then queue it on the link.
    pub fn send(&self, from: &ActorId, to: &ActorId, msg: Msg) {
        let now = self.now();
        tracing::trace!(target: "mesocosm::msg", %from, %to, kind = msg.kind(), "send");
        let mut st = self.state();
        st.trace.message(now, from, to, &msg);
        let link = self.link(&mut st, from, to);
        let _ = link.send(LinkItem::Msg(now, Box::new(msg)));
    }

    /// Close `from`'s connections to `peer` once everything queued before has arrived.
    pub fn disconnect(&self, from: &ActorId, peer: &ActorId) {
        let now = self.now();
        let mut st = self.state();
        let link = self.link(&mut st, from, peer);
        let _ = link.send(LinkItem::Disconnect(now));
    }

    fn link(&self, st: &mut State, from: &ActorId, to: &ActorId) -> mpsc::UnboundedSender<LinkItem> {
        if let Some(tx) = st.links.get(&(from.clone(), to.clone())) {
            return tx.clone();
        }
        let (tx, rx) = mpsc::unbounded_channel();
        st.links.insert((from.clone(), to.clone()), tx.clone());
        let latency = self.link_latency(from, to);
        // Not owned by `from`: like bytes already in a socket buffer, what a
        // process sent before it exited still arrives.
        tokio::spawn(link_task(self.clone(), from.clone(), to.clone(), latency, rx));
        tx
    }

    /// Put `d` in `to`'s mailbox, if `to` is alive.
    pub(crate) fn deliver(&self, to: &ActorId, d: Delivery) {
        let st = self.state();
        if let Some(mb) = st.mailboxes.get(to) {
            let _ = mb.send(d);
        }
    }

    /// Whether cores' notes are read: on the explaining timeline or in `tracing` logs.
    pub fn notes_wanted(&self) -> bool {
        self.state().trace.explains() || tracing::enabled!(target: "mesocosm::note", tracing::Level::DEBUG)
    }

    /// Record a note from a core.
    pub fn note(&self, actor: &ActorId, text: &str) {
        let now = self.now();
        tracing::debug!(target: "mesocosm::note", %actor, "{text}");
        self.state().trace.note(now, actor, text);
    }

    /// Record a world event on the timeline.
    pub fn event(&self, actor: &ActorId, text: &str) {
        let now = self.now();
        self.state().trace.event(now, actor, text);
    }

    /// How and when `id` exited, if it has.
    pub fn exit_of(&self, id: &ActorId) -> Option<Exit> {
        self.state().exits.get(id).cloned()
    }

    /// True while `id` is running.
    pub fn is_alive(&self, id: &ActorId) -> bool {
        self.state().mailboxes.contains_key(id)
    }

    /// Wait until some actor exits.
    pub async fn exited(&self) {
        self.shared.exited.notified().await
    }

    /// Run `f` on the trace (counts, digest…).
    pub fn with_trace<R>(&self, f: impl FnOnce(&mut Trace) -> R) -> R {
        f(&mut self.state().trace)
    }

    /// Sleep until virtual time `t`.
    pub async fn sleep_until(&self, t: SimTime) {
        tokio::time::sleep_until(self.instant(t)).await
    }

    fn launch(&self, parent: &ActorId, launch: Launch) {
        let launcher = self.shared.launcher.lock().unwrap_or_else(|p| p.into_inner()).clone();
        match launcher {
            Some(l) => l(self, parent, launch),
            None => tracing::error!(%parent, actor = %launch.actor, "no launcher set; container not started"),
        }
    }

    fn exit(&self, id: &ActorId, status: i32) {
        let now = self.now();
        let (parent, owned) = {
            let mut st = self.state();
            st.mailboxes.remove(id);
            st.listeners.remove(id);
            // The other side of each subscription learns of the exit after what
            // this actor already sent it has arrived, as a closed socket follows
            // the bytes written before it.
            let peers: Vec<ActorId> = st
                .subscriptions
                .keys()
                .filter_map(|(server, sub)| {
                    if server == id {
                        Some(sub.clone())
                    } else if sub == id {
                        Some(server.clone())
                    } else {
                        None
                    }
                })
                .collect();
            for p in peers {
                let _ = self.link(&mut st, id, &p).send(LinkItem::Disconnect(now));
            }
            st.links.retain(|(from, _), _| from != id);
            st.streams.retain(|(_, sub), _| sub != id);
            st.asks.retain(|(asked, asker), _| asked != id && asker != id);
            st.exits.insert(id.clone(), Exit { at: now, actor: id.clone(), status });
            st.trace.event(now, id, &format!("exited with status {status}"));
            (st.parents.remove(id), st.owned.remove(id).unwrap_or_default())
        };
        for t in owned {
            t.abort();
        }
        if let Some(p) = parent {
            self.deliver(&p, Delivery::Exited { actor: id.clone(), status });
        }
        self.shared.exited.notify_waiters();
    }
}

/// One link's task: deliver its queue in order, each item `latency` after it was sent.
async fn link_task(
    world: World,
    from: ActorId,
    to: ActorId,
    latency: Duration,
    mut rx: mpsc::UnboundedReceiver<LinkItem>,
) {
    let mut peer = crate::grpc::Peer::default();
    while let Some(item) = rx.recv().await {
        let sent = match &item {
            LinkItem::Msg(t, _) | LinkItem::Disconnect(t) => *t,
        };
        let due = sent.after(latency);
        if due > world.now() {
            world.sleep_until(due).await;
        }
        match item {
            LinkItem::Msg(_, msg) => {
                if msg.is_subscribe() {
                    world.state().subscriptions.insert((to.clone(), from.clone()), ());
                }
                match world.transport() {
                    Transport::Memory => world.deliver(&to, Delivery::Message { from: from.clone(), msg }),
                    // Boxed so a link task's future stays small: inlined, every
                    // gRPC call's state machine would be copied into each spawn.
                    Transport::Grpc => Box::pin(peer.deliver(&world, &from, &to, msg)).await,
                }
            }
            LinkItem::Disconnect(_) => {
                let (as_server, as_subscriber, stream) = {
                    let mut st = world.state();
                    let as_server = st.subscriptions.remove(&(from.clone(), to.clone())).is_some();
                    let as_subscriber = st.subscriptions.remove(&(to.clone(), from.clone())).is_some();
                    (as_server, as_subscriber, st.streams.remove(&(from.clone(), to.clone())))
                };
                match world.transport() {
                    // Dropping the stream's sender ends the subscriber's stream; its
                    // reader then reports the disconnect.
                    Transport::Grpc if stream.is_some() => drop(stream),
                    _ if as_server || as_subscriber => {
                        world.deliver(&to, Delivery::Disconnected { peer: from.clone() })
                    }
                    _ => {}
                }
            }
        }
    }
}

/// An actor's host: feed the core its inputs, carry out its outputs.
async fn host<A: Actor>(world: World, me: ActorId, mut core: A, mut rx: mpsc::UnboundedReceiver<Delivery>) {
    let mut timers: BTreeMap<(SimTime, u64), A::Timer> = BTreeMap::new();
    let mut seq: u64 = 0;
    let mut out = Outbox::new(world.now());
    out.set_notes(world.notes_wanted());
    let mut input = Some(Input::Start);
    loop {
        if let Some(i) = input.take() {
            out.reset(world.now());
            core.handle(i, &mut out);
            let mut exit = None;
            for o in out.drain() {
                match o {
                    Output::Send { to, msg } => world.send(&me, &to, msg),
                    Output::SetTimer { at, timer } => {
                        timers.insert((at, seq), timer);
                        seq += 1;
                    }
                    Output::Launch(l) => world.launch(&me, l),
                    Output::Disconnect { peer } => world.disconnect(&me, &peer),
                    Output::Note(text) => world.note(&me, &text),
                    Output::Exit { status } => exit = Some(status),
                }
            }
            if let Some(status) = exit {
                world.exit(&me, status);
                return;
            }
        }
        let next = timers.first_key_value().map(|(k, _)| k.0);
        // Messages first: at equal instants, mailbox before timers, every run.
        tokio::select! { biased;
            d = rx.recv() => match d {
                Some(d) => input = Some(d.into_input()),
                // The world dropped our mailbox: we were killed.
                None => return,
            },
            _ = world.sleep_until(next.unwrap_or(SimTime::ZERO)), if next.is_some() => {
                if let Some((_, t)) = timers.pop_first() {
                    input = Some(Input::Timer(t));
                }
            }
        }
    }
}

/// Build the paused current-thread runtime and run `body` on it.
pub fn run_world<F, Fut, R>(body: F) -> R
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = R>,
{
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("a current-thread tokio runtime");
    rt.block_on(body())
}
