//! The world: one paused tokio runtime, the actors on it, and the network between them.
//!
//! Every actor is a task on ONE `current_thread` runtime whose clock is paused,
//! so virtual time jumps straight to the next timer and a run replays exactly.
//! An actor's task (its *host*) owns the core: it feeds the core one
//! [`Input`](crate::Input) at a time and carries out the [`Output`](crate::Output)s.
//!
//! Messages between actors go through [`World::send`]:
//!
//! ```text
//!  core ─Output::Send─▶ World::send ─▶ trace ─▶ link(from,to) queue ──latency──▶ transport ─▶ receiver's mailbox
//!                         faults                 one task per link, FIFO         gRPC or memory
//! ```
//!
//! - The **link** (`link`) is the message layer: one FIFO queue and task per
//!   ordered actor pair, with one latency drawn per link from the seed (never per
//!   byte write: a measurement showed per-write latency breaks replay at scale).
//!   Messages on a link arrive in order, as over one libprocess TCP connection.
//! - The **transport** is either real gRPC (tonic over in-memory HTTP/2 pipes, see
//!   `crate::grpc`) or direct delivery into the mailbox ([`Transport::Memory`]),
//!   so the cost of gRPC is a measured ratio. Both carry the same messages in the
//!   same order; the trace does not depend on the transport.
//! - **In transit.** Memory delivers a message the moment its link wakes; gRPC
//!   takes a few more task hops (encode, HTTP/2, decode) at the same virtual
//!   instant. So that a core never fires a timer due at that instant before a
//!   message that memory would already have put in its mailbox, each message
//!   gRPC carries holds a `Carry` from its link's wake until it lands in the
//!   mailbox, and a host fires a timer only when nothing is in transit
//!   (`World::settled`, see `crate::transit`). Same scenario and seed, same
//!   trace on both transports.
//! - **One order at one instant.** What reaches an actor at one instant is
//!   handled by sender name, each sender's in the order sent, whichever
//!   transport landed it first: the receiver expects every item on a link until
//!   it lands (`crate::arrivals`), and its host reads its inbox (`inbox`) in
//!   that order.
//! - The **host** (`host`) is the task that runs one actor's core.
//! - A **container** ([`container`]) is what an agent launches: the world's
//!   [`Launcher`] picks the program, or nothing runs it and it exits 127.
//!
//! # Who knows whom
//!
//! The world owns its parts; none of them knows the world. The mailboxes
//! (`crate::mailbox`) and the messages in transit are a handle the world and
//! the gRPC transport share; the transport's own state (servers, event streams,
//! pending asks) is a `grpc::Net` the world holds without looking inside, and
//! tells when an actor starts or exits. So the arrows point one way:
//! world → grpc → mailbox → transit → arrivals, world → faults → latency → seed.

pub mod container;
mod host;
mod inbox;
mod link;

use crate::actor::{Actor, ActorId, Launch};
use crate::failure::RunFailure;
use crate::faults::{FaultBook, FaultReport, Faults};
use crate::grpc::Net;
use crate::latency::Latency;
use crate::mailbox::{Delivery, Mailboxes};
use crate::msg::Msg;
use crate::seed::derive_seed;
use crate::time::SimTime;
use crate::trace::{FaultTarget, Trace, TraceConfig};
use link::Link;
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::SeedableRng;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// How messages travel between actors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    /// Real gRPC: every message is a tonic call over an in-memory HTTP/2 connection.
    Grpc,
    /// Direct delivery into the receiver's mailbox, no encoding (the lower bound).
    Memory,
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
    /// What the network does to messages (drops, delays, partitions, slow actors,
    /// per-link latencies).
    pub faults: Faults,
    /// Call every core's [`Actor::check_invariants`] after each of its steps.
    pub check_invariants: bool,
    /// How many inputs one actor may handle at one instant before the world
    /// calls it a livelock and fails the run ([`RunFailure::Livelock`]).
    pub max_steps_per_instant: u64,
}

impl WorldConfig {
    /// A world with `seed`, over `transport`, with default latency, no faults,
    /// invariants checked, and a trace that keeps only the digest.
    pub fn new(seed: u64, transport: Transport) -> WorldConfig {
        WorldConfig {
            seed,
            transport,
            latency: Latency::DEFAULT,
            trace: TraceConfig { digest: true, ..TraceConfig::default() },
            faults: Faults::default(),
            check_invariants: true,
            max_steps_per_instant: WorldConfig::MAX_STEPS_PER_INSTANT,
        }
    }

    /// The default livelock bound. Why a million: the largest legitimate burst
    /// at one instant is a master answering every agent's and framework's
    /// messages that landed together (10,000 agents, a few thousand ACCEPTs and
    /// DECLINEs); a million is two orders of magnitude above that, yet a core that
    /// re-arms a zero-delay timer reaches it within seconds instead of hanging
    /// the run (virtual time is microseconds, so a zero delay never advances it).
    pub const MAX_STEPS_PER_INSTANT: u64 = 1_000_000;
}

/// An invariant that did not hold after some actor's step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    pub at: SimTime,
    pub actor: ActorId,
    pub problem: String,
}

/// Something that sees every message handed to the network (see [`World::observe`]).
pub type Observer = Box<dyn FnMut(SimTime, &ActorId, &ActorId, &Msg) + Send>;

/// Starts the container process for a [`Launch`] (`mesocosm_executor::Programs`
/// builds one from the programs a cluster can run). With none set, every container
/// exits 127 ([`crate::container::command_not_found`]).
pub type Launcher = Arc<dyn Fn(&World, &ActorId, Launch) + Send + Sync>;

/// An actor that exited, and when.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exit {
    pub at: SimTime,
    pub actor: ActorId,
    pub status: i32,
}

struct State {
    links: BTreeMap<(ActorId, ActorId), Link>,
    /// Open connections, keyed by (server, client) (see [`Msg::opens_connection`]):
    /// when one side goes away, the other is told.
    connections: BTreeMap<(ActorId, ActorId), ()>,
    faults: FaultBook,
    observers: Vec<Observer>,
    violations: Vec<Violation>,
    /// Who launched each container process.
    parents: BTreeMap<ActorId, ActorId>,
    trace: Trace,
    /// Every exit, keyed by actor (an actor exits at most once).
    exits: BTreeMap<ActorId, Exit>,
    /// Why the run stopped early, if it did (the first failure wins).
    failure: Option<RunFailure>,
}

struct Shared {
    state: Mutex<State>,
    /// Every running actor's mailbox, incarnation and tasks, and the messages
    /// in transit towards them.
    mailboxes: Mailboxes,
    /// What only the gRPC transport keeps (servers, streams, asks); empty on memory.
    net: Net,
    start: tokio::time::Instant,
    seed: u64,
    transport: Transport,
    latency: Latency,
    launcher: Mutex<Option<Launcher>>,
    exited: tokio::sync::Notify,
    check_invariants: bool,
    /// Whether any slow-framework rule exists: without one, hosts skip the
    /// think-time lookup (and its lock) on every message.
    has_slow: bool,
    max_steps_per_instant: u64,
    /// Set by the first [`RunFailure`]: no core handles anything after it.
    stopped: AtomicBool,
    /// Tells [`World::failed`] waiters that the run failed.
    failed: tokio::sync::watch::Sender<bool>,
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

impl World {
    /// A world on the current (paused, current-thread) runtime. Call inside [`run_world`].
    pub fn new(config: WorldConfig) -> World {
        crate::failure::install_hook();
        let start = paused_now();
        LOG_CLOCK.with(|c| c.set(Some(start)));
        let has_slow = !config.faults.slow.is_empty();
        let mailboxes = Mailboxes::new(config.transport == Transport::Grpc);
        World {
            shared: Arc::new(Shared {
                state: Mutex::new(State {
                    links: BTreeMap::new(),
                    connections: BTreeMap::new(),
                    faults: FaultBook::new(config.faults, config.seed),
                    observers: Vec::new(),
                    violations: Vec::new(),
                    parents: BTreeMap::new(),
                    trace: Trace::new(config.trace),
                    exits: BTreeMap::new(),
                    failure: None,
                }),
                net: Net::new(mailboxes.clone()),
                mailboxes,
                start,
                seed: config.seed,
                transport: config.transport,
                latency: config.latency,
                launcher: Mutex::new(None),
                exited: tokio::sync::Notify::new(),
                check_invariants: config.check_invariants,
                has_slow,
                max_steps_per_instant: config.max_steps_per_instant,
                stopped: AtomicBool::new(false),
                failed: tokio::sync::watch::Sender::new(false),
            }),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
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

    /// Set what launches containers for agents.
    pub fn set_launcher(&self, launcher: Launcher) {
        *self.shared.launcher.lock().unwrap_or_else(|p| p.into_inner()) = Some(launcher);
    }

    /// Start actor `id` running `core`. `parent` is the agent that launched it, if any.
    /// Spawning a name that ran before (and exited or was killed) is a restart:
    /// a new process under the same name.
    pub fn spawn<A: Actor>(&self, id: ActorId, core: A, parent: Option<ActorId>) {
        let rx = self.shared.mailboxes.open(&id);
        {
            let mut st = self.state();
            st.exits.remove(&id);
            if let Some(p) = parent {
                st.parents.insert(id.clone(), p);
            }
        }
        if self.shared.transport == Transport::Grpc {
            self.shared.net.serve(&id);
        }
        let world = self.clone();
        let task = tokio::spawn(host::host(world, id.clone(), core, rx));
        self.shared.mailboxes.own(&id, task);
    }

    /// Hand `msg` from `from` to the network for `to`: trace it, apply the
    /// faults that match it, then queue it (and any copies) on the link.
    pub fn send(&self, from: &ActorId, to: &ActorId, msg: Msg) {
        let now = self.now();
        tracing::trace!(target: "mesocosm::msg", %from, %to, kind = msg.kind(), "send");
        let mut st = self.state();
        st.trace.message(now, from, to, &msg);
        for o in &mut st.observers {
            o(now, from, to, &msg);
        }
        let incarnation = self.shared.mailboxes.incarnation(from);
        if st.faults.is_empty() {
            self.link(&mut st, from, to).msg(now, Box::new(msg), incarnation);
            return;
        }
        let verdict = st.faults.on_send(now, from, to, &msg);
        for (rule, action) in &verdict.applied {
            st.trace.fault(now, action, rule, FaultTarget::Message { from, to, msg: &msg });
        }
        let link = self.link(&mut st, from, to);
        drop(st);
        if verdict.dropped_by.is_some() {
            // A lost reply must still fail the asker's pending call, or its
            // link would wait for it forever (gRPC only: memory has no calls).
            if msg.is_reply() && self.transport() == Transport::Grpc {
                link.lost_reply(now);
            }
            return;
        }
        // Copies are made only for a duplicate fault.
        let mut items: Vec<Msg> = (0..verdict.copies).map(|_| msg.clone()).collect();
        items.insert(0, msg);
        if verdict.delay.is_zero() {
            for m in items {
                link.msg(now, Box::new(m), incarnation);
            }
        } else {
            // Held back, then queued behind whatever the link carries by then.
            let release = now.after(verdict.delay);
            let world = self.clone();
            // Expected from now, so no host at the instant they arrive can
            // handle another sender's message before them.
            let items: Vec<_> = items.into_iter().map(|m| (m, link.expect(release))).collect();
            tokio::spawn(async move {
                world.sleep_until(release).await;
                for (m, expected) in items {
                    link.msg_expected(release, Box::new(m), incarnation, expected);
                }
            });
        }
    }

    /// Kill actor `id` as a crash would (`status` 137 is SIGKILL): it handles
    /// nothing more, its timers die with it, and its peers learn of it as of an
    /// exit. Returns false if it was not running.
    pub fn kill(&self, id: &ActorId, status: i32) -> bool {
        if !self.is_alive(id) {
            return false;
        }
        self.exit(id, status);
        true
    }

    /// `parent` ends its child process `child` with `status` ([`Output::Kill`]):
    /// as [`World::kill`], but only for an actor whose parent `parent` is (a
    /// command executor's forked command), so a core can signal nothing else.
    ///
    /// [`Output::Kill`]: crate::Output::Kill
    pub fn kill_child(&self, parent: &ActorId, child: &ActorId, status: i32) {
        let is_child = self.state().parents.get(child) == Some(parent);
        if is_child && self.is_alive(child) {
            self.exit(child, status);
        } else {
            self.note(parent, &format!("signal to {child} ignored: it is not a running child process"));
        }
    }

    /// Record a fault that the runner applied to actors (kill, restart,
    /// disconnect, partition start and heal) in the trace.
    pub fn record_fault(&self, action: &str, rule: &str, detail: &str) {
        let now = self.now();
        self.state().trace.fault(now, action, rule, FaultTarget::Detail(detail));
    }

    /// What each message fault, partition and slow rule did so far.
    pub fn fault_reports(&self) -> Vec<FaultReport> {
        self.state().faults.reports()
    }

    /// Call `f` with every message handed to the network, before faults apply
    /// (the runner's cross-actor invariants and expectations read messages this
    /// way). `f` runs inside the world's lock: it must not call the world.
    pub fn observe(&self, f: Observer) {
        self.state().observers.push(f);
    }

    /// Stop the run: no core handles anything more, and [`World::failed`]
    /// returns. Only the first failure is kept (later ones are its consequences).
    pub fn fail(&self, failure: RunFailure) {
        {
            let mut st = self.state();
            if st.failure.is_some() {
                return;
            }
            // The report and the CLI say it; a log line at error level would say it twice.
            tracing::debug!("run failed: {failure}");
            st.trace.event(
                failure.at(),
                &ActorId::new("world"),
                None,
                &format!("RUN FAILED ({}): {failure}", failure.kind()),
            );
            st.failure = Some(failure);
        }
        self.shared.stopped.store(true, Ordering::Relaxed);
        self.shared.failed.send_replace(true);
    }

    /// Why the run stopped early, if it did.
    pub fn failure(&self) -> Option<RunFailure> {
        self.state().failure.clone()
    }

    /// Wait until the run fails (forever if it does not).
    pub async fn failed(&self) {
        let mut rx = self.shared.failed.subscribe();
        // The sender lives as long as the world, so this only returns on a failure.
        let _ = rx.wait_for(|failed| *failed).await;
    }

    /// Invariant violations found so far (see [`WorldConfig::check_invariants`]).
    pub fn violations(&self) -> Vec<Violation> {
        self.state().violations.clone()
    }

    /// Record that an invariant did not hold.
    pub fn violation(&self, actor: &ActorId, problem: String) {
        let now = self.now();
        let mut st = self.state();
        st.trace.event(now, actor, None, &format!("INVARIANT VIOLATED: {problem}"));
        tracing::error!(%actor, "invariant violated: {problem}");
        // The first few are what a reader needs; a broken invariant tends to stay broken.
        if st.violations.len() < 16 {
            st.violations.push(Violation { at: now, actor: actor.clone(), problem });
        }
    }

    /// Put `d` in `to`'s mailbox, if `to` is alive.
    fn deliver(&self, to: &ActorId, d: Delivery) {
        self.shared.mailboxes.deliver(to, d);
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

    /// Record a core's dominant shares per framework (see [`crate::Output::Shares`]).
    pub fn shares(&self, actor: &ActorId, shares: &[(String, f64)]) {
        let now = self.now();
        self.state().trace.shares(now, actor, shares);
    }

    /// Record a world event on the timeline.
    pub fn event(&self, actor: &ActorId, text: &str) {
        let now = self.now();
        self.state().trace.event(now, actor, None, text);
    }

    /// Record a world event about a container `actor` on `agent`: the JSONL
    /// record carries the agent as a field, so a reader needs no text parsing.
    pub fn container_event(&self, actor: &ActorId, agent: &ActorId, text: &str) {
        let now = self.now();
        self.state().trace.event(now, actor, Some(agent.as_str()), text);
    }

    /// How and when `id` exited, if it has.
    pub fn exit_of(&self, id: &ActorId) -> Option<Exit> {
        self.state().exits.get(id).cloned()
    }

    /// Every running actor, by name.
    pub fn running(&self) -> Vec<ActorId> {
        self.shared.mailboxes.running()
    }

    /// True while `id` is running.
    pub fn is_alive(&self, id: &ActorId) -> bool {
        self.shared.mailboxes.is_open(id)
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

    fn exit(&self, id: &ActorId, status: i32) {
        let now = self.now();
        let (parent, owned) = {
            let mut st = self.state();
            self.shared.mailboxes.close(id);
            self.shared.net.stop_serving(id);
            // The other side of each connection learns of the exit after what
            // this actor already sent it has arrived, as a closed socket follows
            // the bytes written before it.
            let peers: Vec<ActorId> = st
                .connections
                .keys()
                .filter_map(|(server, client)| {
                    if server == id {
                        Some(client.clone())
                    } else if client == id {
                        Some(server.clone())
                    } else {
                        None
                    }
                })
                .collect();
            st.connections.retain(|(server, client), _| server != id && client != id);
            for p in peers {
                self.link(&mut st, id, &p).close(now);
            }
            st.links.retain(|(from, _), _| from != id);
            self.shared.net.forget(id);
            // What was in transit to it will never land; what it was answering neither.
            self.shared.mailboxes.transit.forget(id);
            st.exits.insert(id.clone(), Exit { at: now, actor: id.clone(), status });
            // A container's parent is the agent it runs on.
            let parent = st.parents.remove(id);
            st.trace.event(now, id, parent.as_ref().map(ActorId::as_str), &format!("exited with status {status}"));
            (parent, self.shared.mailboxes.take_owned(id))
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
