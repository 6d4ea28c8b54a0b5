//! The gRPC transport: every message is a real tonic call over an in-memory HTTP/2 pipe.
//!
//! Every actor is served by one tonic router (all of mesocosm's services, routed
//! by path), shared by the whole world: each connection's server end is h2's
//! own server connection on one task ([`server`]), which tags its requests with
//! the actor it was dialled to, as libprocess routes a request by the process id
//! in its path, and answers them without a task per request. A link
//! dials its receiver once, lazily, and then reuses that HTTP/2 connection for
//! every message: one connection per ordered actor pair, as libprocess keeps one
//! outgoing socket per peer. The client end is h2's own request handle under
//! tonic's generated clients ([`Conn`]), with neither a `Channel` nor hyper's
//! client in between: a `Channel` adds a request queue, a worker task and
//! reconnect logic per connection (~12 KiB each, measured with heaptrack), and
//! hyper's client another request queue (~8.5 KiB), a second task per
//! connection and a task per call; the link already queues, orders and
//! redials. The sender's name travels
//! in the `libprocess-from` metadata header, percent-encoded so that any name
//! (non-ASCII, spaces, thousands of characters) fits an HTTP/2 header, as
//! libprocess percent-encodes what it puts in a URL (`process::http::encode`).
//! A connection is dialled by one sender, so its client end encodes the name
//! once ([`Conn`]) and its server end decodes it once ([`server`]): every later
//! request on it carries the same bytes.
//!
//! What a connection costs: each end holds h2's write buffer (16 KiB, allocated
//! up front), tokio-util's read buffer (8 KiB), an HPACK decoder buffer (4 KiB)
//! and a stream store, none of which a builder setting changes; an agent has
//! four ends (its link to the master and the master's to it), ~130 KB of its
//! heap, of which ~36 KiB is resident (measured with a patched h2 whose
//! buffers start small). HTTP/2 lets only a connection's client open streams,
//! so a connection cannot carry unary calls both ways; `docs/benchmarks.md`
//! ("Session 25", "Session 26") has the measurements.
//!
//! A status other than "the peer went away" (`UNAVAILABLE`, `CANCELLED`: the
//! receiver was killed, restarted or exited before answering, which the memory
//! transport loses alike) or a modelled refusal (`PERMISSION_DENIED`, see
//! [`crate::actor::Refusal`]) means the transport itself refused a message: the
//! run fails naming it ([`crate::RunFailure::Transport`]), never a silent drop.
//!
//! Three shapes of call, as in the real APIs:
//! - **one-way** messages (libprocess messages, Spark `send`): a unary call
//!   answered `Accepted` (HTTP 202);
//! - **scheduler Calls** other than SUBSCRIBE: a unary call answered once the
//!   master's core has handled it: `Accepted` (HTTP 202), or the core's refusal as
//!   `PERMISSION_DENIED` (HTTP 403), which reaches the caller's core as
//!   `Input::Refused`;
//! - **asks** (Spark `ask`: RetrieveSparkAppConfig, RegisterExecutor, Heartbeat): a
//!   unary call whose response is the reply the receiver's core sends back,
//!   made on a task of its own so that the link goes on once the request has
//!   landed (`ask.rs`);
//! - **subscriptions** (scheduler and executor SUBSCRIBE): a server stream on which
//!   the receiver's later Events travel.
//!
//! The transport knows the rest of the world only through two handles: the
//! [`Mailboxes`] it delivers into (and whose incarnations tell it when to
//! redial), and its own [`Net`]: the listeners, open event streams and pending
//! asks that only gRPC has. The world owns a `Net` without looking inside; it
//! tells it when an actor starts ([`Net::serve`]) or exits ([`Net::forget`]),
//! and hands each link's messages to a [`Peer`].

mod ask;
mod body;
mod client;
mod server;

use ask::{ask_apart, settle, wait_landed};
use client::Conn;
use server::{Receiver, Sender};

use crate::actor::ActorId;
use crate::mailbox::{Delivery, Mailboxes};
use crate::msg::Msg;
use crate::proto::mesocosm::rpc::{
    self, Accepted,
    coarse_grained_executor_backend_client::CoarseGrainedExecutorBackendClient,
    coarse_grained_executor_backend_server::{CoarseGrainedExecutorBackend, CoarseGrainedExecutorBackendServer},
    coarse_grained_scheduler_client::CoarseGrainedSchedulerClient,
    coarse_grained_scheduler_server::{CoarseGrainedScheduler, CoarseGrainedSchedulerServer},
    executor_client::ExecutorClient,
    executor_server::ExecutorServer,
    master_client::MasterClient,
    master_server::MasterServer,
    replicated_log_client::ReplicatedLogClient,
    replicated_log_server::ReplicatedLogServer,
    scheduler_client::SchedulerClient,
    scheduler_server::SchedulerServer,
    slave_client::SlaveClient,
    slave_server::SlaveServer,
    spark_rest_client::SparkRestClient,
    spark_rest_server::SparkRestServer,
    zoo_keeper_client::ZooKeeperClient,
    zoo_keeper_server::ZooKeeperServer,
};
use crate::proto::{executor, internal, scheduler, sparkrpc};
use crate::transit::{Carry, Leg, Transit};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::{mpsc, oneshot};
use tokio_stream::wrappers::UnboundedReceiverStream;
use tonic::codegen::Bytes;
use tonic::codegen::http;
use tonic::service::Routes;
use tonic::{Request, Response, Status};

const FROM: &str = "libprocess-from";
/// Large enough for any actor name the scenario language accepts: hyper's
/// default (16 KiB, the value it gave h2) would refuse a long name's header.
const MAX_HEADER_LIST: u32 = 4 << 20;
/// Large enough for an OFFERS event to a framework at 10,000 agents.
const MAX_MESSAGE: usize = 256 << 20;
/// h2 charges small DATA frames against the connection window and sends GOAWAY
/// (`too_many_data_frames`) when a burst of small unary calls outruns the reader;
/// a 16 MiB window keeps bursts of thousands of ACCEPT/DECLINE safe (measured).
const WINDOW: u32 = 16 << 20;
/// The in-memory pipe's buffer per direction; it grows only as far as a burst
/// not yet read, so this bounds a burst rather than allocating.
const PIPE: usize = 1 << 20;
/// A dialled connection: its client end, and whether its connection task
/// has ended (the server end closed), so that the link dials again.
struct Dialled {
    conn: Conn,
    ended: Arc<AtomicBool>,
}

/// The origin every request names (scheme and authority; the pipe is the route).
fn origin() -> http::Uri {
    http::Uri::from_static("http://mesocosm.sim")
}

/// The state only the gRPC transport has; cheap to clone.
#[derive(Clone)]
pub(crate) struct Net {
    mailboxes: Mailboxes,
    books: Arc<Mutex<Books>>,
}

#[derive(Default)]
struct Books {
    /// The actors that accept connections (running ones).
    listeners: BTreeSet<ActorId>,
    /// The one router every actor's connections are served by, built on first use.
    routes: Option<Routes>,
    /// Open event streams, keyed by (server, subscriber).
    streams: BTreeMap<(ActorId, ActorId), StreamTx>,
    /// Asks waiting for their reply, keyed by (asked, asker), oldest first.
    asks: BTreeMap<(ActorId, ActorId), VecDeque<oneshot::Sender<Msg>>>,
}

/// An event stream's sending half (server side).
pub(crate) enum StreamTx {
    Scheduler(mpsc::UnboundedSender<Result<scheduler::Event, Status>>),
    Executor(mpsc::UnboundedSender<Result<executor::Event, Status>>),
}

/// The transport itself refused a message (not a modelled refusal, not a peer
/// that went away): the world fails the run with it, never a silent drop.
#[derive(Debug)]
pub(crate) struct TransportRefusal {
    /// The message's kind.
    pub(crate) kind: &'static str,
    /// The gRPC status, as text.
    pub(crate) status: String,
}

impl Net {
    /// No servers yet; deliveries go into `mailboxes`.
    pub(crate) fn new(mailboxes: Mailboxes) -> Net {
        Net { mailboxes, books: Arc::default() }
    }

    fn books(&self) -> MutexGuard<'_, Books> {
        // The world runs on one thread; a poisoned lock means a task panicked,
        // which is already a bug being reported.
        self.books.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn transit(&self) -> &Transit {
        &self.mailboxes.transit
    }

    /// `me` accepts connections from now on.
    pub(crate) fn serve(&self, me: &ActorId) {
        self.books().listeners.insert(me.clone());
    }

    /// The world's router: every service, each forwarding into the mailbox of
    /// the actor its request was dialled to (see [`Receiver`]). One for all
    /// actors: a router per actor cost ~3.5 KiB of axum state each (measured).
    fn routes(&self) -> Routes {
        let mut books = self.books();
        books
            .routes
            .get_or_insert_with(|| {
                let inbox = Inbox { net: self.clone() };
                Routes::new(SchedulerServer::new(inbox.clone()).max_decoding_message_size(MAX_MESSAGE))
                    .add_service(ExecutorServer::new(inbox.clone()).max_decoding_message_size(MAX_MESSAGE))
                    .add_service(MasterServer::new(inbox.clone()).max_decoding_message_size(MAX_MESSAGE))
                    .add_service(SlaveServer::new(inbox.clone()).max_decoding_message_size(MAX_MESSAGE))
                    .add_service(
                        CoarseGrainedSchedulerServer::new(inbox.clone()).max_decoding_message_size(MAX_MESSAGE),
                    )
                    .add_service(
                        CoarseGrainedExecutorBackendServer::new(inbox.clone()).max_decoding_message_size(MAX_MESSAGE),
                    )
                    .add_service(ZooKeeperServer::new(inbox.clone()).max_decoding_message_size(MAX_MESSAGE))
                    .add_service(SparkRestServer::new(inbox.clone()).max_decoding_message_size(MAX_MESSAGE))
                    .add_service(ReplicatedLogServer::new(inbox).max_decoding_message_size(MAX_MESSAGE))
            })
            .clone()
    }

    /// Open an HTTP/2 connection from `from` to `to`'s server over an
    /// in-memory pipe, or `None` if `to` accepts no connection (it exited, or
    /// never ran).
    async fn dial(&self, from: &ActorId, to: &ActorId) -> Option<Dialled> {
        if !self.books().listeners.contains(to) {
            return None;
        }
        let (near, far) = tokio::io::duplex(PIPE);
        // Not owned by `to`: like tonic's own server, a connection outlives
        // its process only until its client lets go; an exited actor's calls
        // are answered by the books (`forget`), as before.
        tokio::spawn(server::serve(far, self.routes(), to.clone()));
        let (send, conn) = h2::client::Builder::new()
            .initial_window_size(WINDOW)
            .initial_connection_window_size(WINDOW)
            .max_header_list_size(MAX_HEADER_LIST)
            // What hyper's client asked of h2: a client takes no pushed streams.
            .enable_push(false)
            .handshake::<_, Bytes>(near)
            .await
            .ok()?;
        let ended = Arc::new(AtomicBool::new(false));
        let mark = ended.clone();
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "client connection ended");
            }
            mark.store(true, Ordering::Relaxed);
        });
        // Percent-encoded text is visible ASCII, which every header value accepts.
        let from = http::HeaderValue::from_str(&encode_name(from.as_str())).ok();
        Some(Dialled { conn: Conn { send, from }, ended })
    }

    /// `me` exited: its server takes no new connection (what is connected
    /// ends with its tasks).
    pub(crate) fn stop_serving(&self, me: &ActorId) {
        self.books().listeners.remove(me);
    }

    /// `me` exited: the streams it subscribed to close, and the asks it made
    /// or was asked are never answered (their callers see the call fail).
    pub(crate) fn forget(&self, me: &ActorId) {
        let mut books = self.books();
        books.streams.retain(|(_, sub), _| sub != me);
        books.asks.retain(|(asked, asker), _| asked != me && asker != me);
    }

    /// Take the event stream `server` opened for `subscriber`, if it is open:
    /// dropping it ends the subscriber's stream, whose reader then reports the
    /// disconnect.
    pub(crate) fn take_stream(&self, server: &ActorId, subscriber: &ActorId) -> Option<StreamTx> {
        self.books().streams.remove(&(server.clone(), subscriber.clone()))
    }

    /// A reply from `asked` to `asker` was lost: the oldest pending ask between
    /// them fails, as over a broken connection.
    pub(crate) fn lose_reply(&self, asked: &ActorId, asker: &ActorId) {
        let waiting = self.books().asks.get_mut(&(asked.clone(), asker.clone())).and_then(|q| q.pop_front());
        drop(waiting);
    }
}

/// `name` as visible ASCII: every byte outside `!`..=`~`, and `%` itself,
/// becomes `%XX` (RFC 3986 percent-encoding of the UTF-8 bytes).
pub(crate) fn encode_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for b in name.bytes() {
        if (b'!'..=b'~').contains(&b) && b != b'%' {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The inverse of [`encode_name`]; `None` if `text` is not one of its outputs.
pub(crate) fn decode_name(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The sending side of one link: its lazily dialled connection.
#[derive(Default)]
pub(crate) struct Peer {
    conn: Option<Dialled>,
    /// The receiver's incarnation the connection was dialled to: a restarted
    /// receiver is a new process, so the old connection is dead and is redialled.
    incarnation: u64,
}

impl Peer {
    /// The open connection to `to`, dialled now if there is none (or the old
    /// one closed); `None` if `to` accepts no connection: the peer went away.
    async fn conn(&mut self, net: &Net, from: &ActorId, to: &ActorId) -> Option<Conn> {
        let incarnation = net.mailboxes.incarnation(to);
        if incarnation != self.incarnation || self.conn.as_ref().is_some_and(|c| c.ended.load(Ordering::Relaxed)) {
            self.incarnation = incarnation;
            self.conn = None;
        }
        if self.conn.is_none() {
            self.conn = net.dial(from, to).await;
        }
        self.conn.as_ref().map(|c| c.conn.clone())
    }

    /// Carry `msg` from `from` to `to` as the right gRPC call. `carry` marks it in
    /// transit until the leg that puts it in a mailbox lands it. An error is
    /// the transport's own refusal, which the world turns into a failed run.
    pub(crate) async fn deliver(
        &mut self,
        net: &Net,
        from: &ActorId,
        to: &ActorId,
        msg: Box<Msg>,
        carry: Option<Carry>,
        late: impl FnOnce(TransportRefusal) + Send + 'static,
    ) -> Result<(), TransportRefusal> {
        // A reply to an ask completes the caller's pending unary call. None
        // waiting: the asker exited, or its call already failed (a lost reply),
        // or this is a duplicated copy; the reply has no call to answer, as a
        // response on a closed HTTP/2 stream.
        if msg.is_reply() {
            let waiting = net.books().asks.get_mut(&(from.clone(), to.clone())).and_then(|q| q.pop_front());
            match waiting {
                Some(w) => {
                    // The asker's client lands it once its call returns. This
                    // link's next message waits for that, as memory puts the
                    // reply in the asker's mailbox before it.
                    let mut carry = carry;
                    let landed = carry.as_mut().map(Carry::watch);
                    net.transit().hand_over(from, to, Leg::Reply, carry);
                    if w.send(*msg).is_err() {
                        drop(net.transit().take_carry(from, to, Leg::Reply));
                    }
                    if let Some(landed) = landed {
                        wait_landed(landed).await;
                    }
                }
                None => tracing::debug!(%from, %to, kind = msg.kind(), "reply with no call waiting"),
            }
            return Ok(());
        }
        // Events go down the subscriber's open stream. No stream: it was closed on
        // purpose and the event has nowhere to go. A closed stream: the subscriber
        // went away, and the sender learns it now, as a failed socket write.
        if let Msg::SchedulerEvent(_) | Msg::ExecutorEvent(_) = &*msg {
            let key = (from.clone(), to.clone());
            // The subscriber's stream reader lands it.
            net.transit().hand_over(from, to, Leg::Event, carry);
            let sent = {
                let books = net.books();
                match (books.streams.get(&key), *msg) {
                    (Some(StreamTx::Scheduler(tx)), Msg::SchedulerEvent(e)) => Some(tx.send(Ok(*e)).is_ok()),
                    (Some(StreamTx::Executor(tx)), Msg::ExecutorEvent(e)) => Some(tx.send(Ok(*e)).is_ok()),
                    _ => None,
                }
            };
            if sent != Some(true) {
                drop(net.transit().take_carry(from, to, Leg::Event));
            }
            if sent == Some(false) {
                net.books().streams.remove(&key);
                net.mailboxes.deliver(from, Delivery::Disconnected { peer: to.clone() });
            }
            return Ok(());
        }
        let kind = msg.kind();
        // The receiver's server lands it; calls on a link go one at a time, so
        // whatever is left on this leg when the call returns is this call's.
        let mut carry = carry;
        let landed = if msg.is_ask() { carry.as_mut().map(Carry::watch) } else { None };
        net.transit().hand_over(from, to, Leg::Call, carry);
        let result = match (self.conn(net, from, to).await, landed) {
            // An ask: the link goes on once the request is in the receiver's
            // mailbox; the call waits for its reply on its own task. Waiting
            // here would hold back the sender's next messages for the reply's
            // round trip, which memory (and Spark, whose `ask` returns a future
            // at once) does not do: the traces would differ.
            (Some(ch), Some(landed)) => match ask_apart(net, ch, from, to, *msg, landed, late).await {
                Some(result) => result,
                None => return Ok(()),
            },
            (Some(ch), None) => self.call(net, ch, from, to, *msg).await,
            // Nobody accepts connections under that name: refused, as a dial to
            // a closed port.
            (None, _) => Err(Status::unavailable("connection refused")),
        };
        drop(net.transit().take_carry(from, to, Leg::Call));
        // Landed once the caller's core has the refusal (below), or never.
        let answer = net.transit().take_carry(to, from, Leg::Answer);
        settle(net, from, to, kind, result, answer)
    }

    async fn call(&mut self, net: &Net, ch: Conn, from: &ActorId, to: &ActorId, msg: Msg) -> Result<(), Status> {
        macro_rules! oneway {
            ($client:ident, $method:ident, $m:expr) => {
                $client::with_origin(ch, origin())
                    .max_decoding_message_size(MAX_MESSAGE)
                    .$method(Request::new($m))
                    .await
                    .map(drop)
            };
        }
        match msg {
            Msg::SchedulerCall(c) if c.r#type() == scheduler::call::Type::Subscribe => {
                let stream = SchedulerClient::with_origin(ch, origin())
                    .max_decoding_message_size(MAX_MESSAGE)
                    .subscribe(Request::new(*c))
                    .await?
                    .into_inner();
                self.read_stream(net, from, to, stream, Msg::from);
                Ok(())
            }
            Msg::ExecutorCall(c) if c.r#type() == executor::call::Type::Subscribe => {
                let stream = ExecutorClient::with_origin(ch, origin())
                    .max_decoding_message_size(MAX_MESSAGE)
                    .subscribe(Request::new(*c))
                    .await?
                    .into_inner();
                self.read_stream(net, from, to, stream, Msg::from);
                Ok(())
            }
            Msg::SchedulerCall(c) => oneway!(SchedulerClient, call, *c),
            Msg::ExecutorCall(c) => oneway!(ExecutorClient, call, *c),
            Msg::RegisterSlave(m) => oneway!(MasterClient, register_slave, *m),
            Msg::ReregisterSlave(m) => oneway!(MasterClient, reregister_slave, *m),
            Msg::UnregisterSlave(m) => oneway!(MasterClient, unregister_slave, m),
            Msg::StatusUpdate(m) => oneway!(MasterClient, status_update, *m),
            Msg::ExitedExecutor(m) => oneway!(MasterClient, exited_executor, m),
            Msg::PongSlave(m) => oneway!(MasterClient, pong_slave, m),
            Msg::SlaveRegistered(m) => oneway!(SlaveClient, slave_registered, m),
            Msg::SlaveReregistered(m) => oneway!(SlaveClient, slave_reregistered, m),
            Msg::RunTask(m) => oneway!(SlaveClient, run_task, *m),
            Msg::KillTask(m) => oneway!(SlaveClient, kill_task, m),
            Msg::StatusUpdateAck(m) => oneway!(SlaveClient, status_update_acknowledgement, m),
            Msg::PingSlave(m) => oneway!(SlaveClient, ping_slave, m),
            Msg::ShutdownFramework(m) => oneway!(SlaveClient, shutdown_framework, m),
            Msg::ShutdownExecutor(m) => oneway!(SlaveClient, shutdown_executor, m),
            Msg::Shutdown(m) => oneway!(SlaveClient, shutdown, m),
            // Asks travel through `ask_apart`; one here is a bug in `Msg::is_ask`.
            Msg::RetrieveSparkAppConfig(_) | Msg::RegisterExecutor(_) | Msg::Heartbeat(_) => {
                Err(Status::internal("an ask must travel on its own task"))
            }
            Msg::LaunchedExecutor(m) => oneway!(CoarseGrainedSchedulerClient, launched_executor, m),
            Msg::SparkStatusUpdate(m) => oneway!(CoarseGrainedSchedulerClient, status_update, m),
            Msg::RemoveExecutor(m) => oneway!(CoarseGrainedSchedulerClient, remove_executor, m),
            Msg::LaunchTask(m) => oneway!(CoarseGrainedExecutorBackendClient, launch_task, m),
            Msg::SparkKillTask(m) => oneway!(CoarseGrainedExecutorBackendClient, kill_task, m),
            Msg::StopExecutor(m) => oneway!(CoarseGrainedExecutorBackendClient, stop_executor, m),
            Msg::SparkShutdown(m) => oneway!(CoarseGrainedExecutorBackendClient, shutdown, m),
            Msg::ZkRequest(m) => oneway!(ZooKeeperClient, request, *m),
            Msg::ZkReply(m) => oneway!(ZooKeeperClient, reply, *m),
            Msg::ZkQuorum(m) => oneway!(ZooKeeperClient, quorum, m),
            Msg::ZkVote(m) => oneway!(ZooKeeperClient, election, m),
            Msg::CreateSubmissionRequest(m) => oneway!(SparkRestClient, create_submission, *m),
            Msg::KillSubmissionRequest(m) => oneway!(SparkRestClient, kill_submission, m),
            Msg::SubmissionStatusRequest(m) => oneway!(SparkRestClient, submission_status, m),
            Msg::CreateSubmissionResponse(m) => oneway!(SparkRestClient, create_submission_response, m),
            Msg::KillSubmissionResponse(m) => oneway!(SparkRestClient, kill_submission_response, m),
            Msg::SubmissionStatusResponse(m) => oneway!(SparkRestClient, submission_status_response, *m),
            Msg::RestErrorResponse(m) => oneway!(SparkRestClient, error_response, m),
            Msg::LogPromise(m) => oneway!(ReplicatedLogClient, promise, m),
            Msg::LogPromised(m) => oneway!(ReplicatedLogClient, promised, *m),
            Msg::LogWrite(m) => oneway!(ReplicatedLogClient, write, *m),
            Msg::LogWritten(m) => oneway!(ReplicatedLogClient, written, m),
            Msg::LogLearned(m) => oneway!(ReplicatedLogClient, learned, *m),
            Msg::LogRecover(m) => oneway!(ReplicatedLogClient, recover, m),
            Msg::LogRecovered(m) => oneway!(ReplicatedLogClient, recovered, m),
            // Replies with no caller waiting, and events with no stream, never reach here.
            Msg::SchedulerEvent(_)
            | Msg::ExecutorEvent(_)
            | Msg::SparkAppConfig(_)
            | Msg::RegisterExecutorResponse(_)
            | Msg::HeartbeatResponse(_) => Err(Status::failed_precondition("no caller waiting for this reply")),
        }
    }

    /// Forward a subscription stream's events into the subscriber's mailbox until it ends.
    fn read_stream<E: Send + 'static>(
        &mut self,
        net: &Net,
        subscriber: &ActorId,
        server: &ActorId,
        mut stream: tonic::Streaming<E>,
        wrap: fn(E) -> Msg,
    ) where
        tonic::Streaming<E>: Send,
    {
        let n = net.clone();
        let (sub, srv) = (subscriber.clone(), server.clone());
        let task = tokio::spawn(async move {
            while let Ok(Some(ev)) = stream.message().await {
                n.mailboxes.deliver(&sub, Delivery::Message { from: srv.clone(), msg: Box::new(wrap(ev)) });
                drop(n.transit().take_carry(&srv, &sub, Leg::Event));
            }
            n.mailboxes.deliver(&sub, Delivery::Disconnected { peer: srv.clone() });
            // The stream's end lands its close, and anything it never carried.
            n.transit().land_all(&srv, &sub, Leg::Event);
        });
        net.mailboxes.own(subscriber, task);
    }
}

/// The server side of every actor: each service forwards a request into the
/// mailbox of the actor its connection was dialled to.
#[derive(Clone)]
struct Inbox {
    net: Net,
}

/// The actor a request was dialled to.
fn receiver<T>(r: &Request<T>) -> Result<ActorId, Status> {
    r.extensions().get::<Receiver>().map(|r| r.0.clone()).ok_or_else(|| Status::internal("no receiver"))
}

/// The actor a request's `libprocess-from` header names: known to its
/// connection already, or decoded here (and refused if missing or malformed).
fn sender<T>(r: &Request<T>) -> Result<ActorId, Status> {
    if let Some(Sender(from)) = r.extensions().get::<Sender>() {
        return Ok(from.clone());
    }
    let value = r.metadata().get(FROM).ok_or_else(|| Status::invalid_argument("missing libprocess-from header"))?;
    value
        .to_str()
        .ok()
        .and_then(decode_name)
        .map(ActorId::new)
        .ok_or_else(|| Status::invalid_argument(format!("malformed libprocess-from header {value:?}")))
}

impl Inbox {
    /// Put a call's message in `me`'s mailbox, landing its carry.
    fn land(&self, me: &ActorId, d: Delivery, from: &ActorId) {
        self.net.mailboxes.deliver(me, d);
        drop(self.net.transit().take_carry(from, me, Leg::Call));
    }

    fn oneway<T>(&self, r: Request<T>, wrap: fn(T) -> Msg) -> Result<Response<Accepted>, Status> {
        let (from, me) = (sender(&r)?, receiver(&r)?);
        self.land(&me, Delivery::Message { from: from.clone(), msg: Box::new(wrap(r.into_inner())) }, &from);
        Ok(Response::new(Accepted {}))
    }

    /// SUBSCRIBE: open the event stream the receiver's later Events travel on,
    /// then hand the call to the actor.
    fn subscribe_stream<C, E>(
        &self,
        r: Request<C>,
        stream: fn(mpsc::UnboundedSender<Result<E, Status>>) -> StreamTx,
        wrap: fn(C) -> Msg,
    ) -> Result<Response<Stream<E>>, Status> {
        let (from, me) = (sender(&r)?, receiver(&r)?);
        let (tx, rx) = mpsc::unbounded_channel();
        self.net.books().streams.insert((me.clone(), from.clone()), stream(tx));
        self.land(&me, Delivery::Message { from: from.clone(), msg: Box::new(wrap(r.into_inner())) }, &from);
        Ok(Response::new(UnboundedReceiverStream::new(rx)))
    }

    async fn ask<T, R>(
        &self,
        r: Request<T>,
        wrap: fn(T) -> Msg,
        unwrap: fn(Msg) -> Option<R>,
    ) -> Result<Response<R>, Status> {
        let (from, me) = (sender(&r)?, receiver(&r)?);
        let (tx, rx) = oneshot::channel();
        self.net.books().asks.entry((me.clone(), from.clone())).or_default().push_back(tx);
        self.land(&me, Delivery::Message { from: from.clone(), msg: Box::new(wrap(r.into_inner())) }, &from);
        let reply = rx.await.map_err(|_| Status::unavailable("the endpoint exited before replying"))?;
        unwrap(reply).map(Response::new).ok_or_else(|| Status::internal("wrong reply type"))
    }
}

type Stream<E> = UnboundedReceiverStream<Result<E, Status>>;

#[tonic::async_trait]
impl rpc::scheduler_server::Scheduler for Inbox {
    type SubscribeStream = Stream<scheduler::Event>;

    async fn subscribe(&self, r: Request<scheduler::Call>) -> Result<Response<Self::SubscribeStream>, Status> {
        self.subscribe_stream(r, StreamTx::Scheduler, Msg::from)
    }

    /// Answered once the master's core has handled the call, as Mesos's
    /// `/api/v1/scheduler` answers 202 Accepted or 403 Forbidden
    /// (`src/master/http.cpp`, `Master::Http::scheduler`).
    async fn call(&self, r: Request<scheduler::Call>) -> Result<Response<Accepted>, Status> {
        let (from, me) = (sender(&r)?, receiver(&r)?);
        let (answer, answered) = oneshot::channel();
        let msg = Box::new(Msg::from(r.into_inner()));
        self.land(&me, Delivery::Call { from: from.clone(), msg, answer }, &from);
        match answered.await {
            Ok(None) => Ok(Response::new(Accepted {})),
            Ok(Some(refusal)) => Err(ask::refusal_status(&refusal)),
            // The receiver exited (or the run stopped) before handling the call.
            Err(_) => Err(Status::unavailable("the endpoint exited before answering")),
        }
    }
}

#[tonic::async_trait]
impl rpc::executor_server::Executor for Inbox {
    type SubscribeStream = Stream<executor::Event>;

    async fn subscribe(&self, r: Request<executor::Call>) -> Result<Response<Self::SubscribeStream>, Status> {
        self.subscribe_stream(r, StreamTx::Executor, Msg::from)
    }

    async fn call(&self, r: Request<executor::Call>) -> Result<Response<Accepted>, Status> {
        self.oneway(r, Msg::from)
    }
}

type Reply = Result<Response<Accepted>, Status>;

#[tonic::async_trait]
impl rpc::master_server::Master for Inbox {
    async fn register_slave(&self, r: Request<internal::RegisterSlaveMessage>) -> Reply {
        self.oneway(r, Msg::from)
    }
    async fn reregister_slave(&self, r: Request<internal::ReregisterSlaveMessage>) -> Reply {
        self.oneway(r, Msg::from)
    }
    async fn unregister_slave(&self, r: Request<internal::UnregisterSlaveMessage>) -> Reply {
        self.oneway(r, Msg::UnregisterSlave)
    }
    async fn status_update(&self, r: Request<internal::StatusUpdateMessage>) -> Reply {
        self.oneway(r, Msg::from)
    }
    async fn exited_executor(&self, r: Request<internal::ExitedExecutorMessage>) -> Reply {
        self.oneway(r, Msg::ExitedExecutor)
    }
    async fn pong_slave(&self, r: Request<internal::PongSlaveMessage>) -> Reply {
        self.oneway(r, Msg::PongSlave)
    }
}

#[tonic::async_trait]
impl rpc::slave_server::Slave for Inbox {
    async fn slave_registered(&self, r: Request<internal::SlaveRegisteredMessage>) -> Reply {
        self.oneway(r, Msg::SlaveRegistered)
    }
    async fn slave_reregistered(&self, r: Request<internal::SlaveReregisteredMessage>) -> Reply {
        self.oneway(r, Msg::SlaveReregistered)
    }
    async fn run_task(&self, r: Request<internal::RunTaskMessage>) -> Reply {
        self.oneway(r, Msg::from)
    }
    async fn kill_task(&self, r: Request<internal::KillTaskMessage>) -> Reply {
        self.oneway(r, Msg::KillTask)
    }
    async fn status_update_acknowledgement(&self, r: Request<internal::StatusUpdateAcknowledgementMessage>) -> Reply {
        self.oneway(r, Msg::StatusUpdateAck)
    }
    async fn ping_slave(&self, r: Request<internal::PingSlaveMessage>) -> Reply {
        self.oneway(r, Msg::PingSlave)
    }
    async fn shutdown_framework(&self, r: Request<internal::ShutdownFrameworkMessage>) -> Reply {
        self.oneway(r, Msg::ShutdownFramework)
    }
    async fn shutdown_executor(&self, r: Request<internal::ShutdownExecutorMessage>) -> Reply {
        self.oneway(r, Msg::ShutdownExecutor)
    }
    async fn shutdown(&self, r: Request<internal::ShutdownMessage>) -> Reply {
        self.oneway(r, Msg::Shutdown)
    }
}

#[tonic::async_trait]
impl CoarseGrainedScheduler for Inbox {
    async fn retrieve_spark_app_config(
        &self,
        r: Request<sparkrpc::RetrieveSparkAppConfig>,
    ) -> Result<Response<sparkrpc::SparkAppConfig>, Status> {
        self.ask(r, Msg::RetrieveSparkAppConfig, |m| match m {
            Msg::SparkAppConfig(c) => Some(c),
            _ => None,
        })
        .await
    }
    async fn register_executor(
        &self,
        r: Request<sparkrpc::RegisterExecutor>,
    ) -> Result<Response<sparkrpc::RegisterExecutorResponse>, Status> {
        self.ask(r, Msg::from, |m| match m {
            Msg::RegisterExecutorResponse(c) => Some(c),
            _ => None,
        })
        .await
    }
    async fn heartbeat(
        &self,
        r: Request<sparkrpc::Heartbeat>,
    ) -> Result<Response<sparkrpc::HeartbeatResponse>, Status> {
        self.ask(r, Msg::Heartbeat, |m| match m {
            Msg::HeartbeatResponse(c) => Some(c),
            _ => None,
        })
        .await
    }
    async fn launched_executor(&self, r: Request<sparkrpc::LaunchedExecutor>) -> Reply {
        self.oneway(r, Msg::LaunchedExecutor)
    }
    async fn status_update(&self, r: Request<sparkrpc::StatusUpdate>) -> Reply {
        self.oneway(r, Msg::SparkStatusUpdate)
    }
    async fn remove_executor(&self, r: Request<sparkrpc::RemoveExecutor>) -> Reply {
        self.oneway(r, Msg::RemoveExecutor)
    }
}

#[tonic::async_trait]
impl CoarseGrainedExecutorBackend for Inbox {
    async fn launch_task(&self, r: Request<sparkrpc::LaunchTask>) -> Reply {
        self.oneway(r, Msg::LaunchTask)
    }
    async fn kill_task(&self, r: Request<sparkrpc::KillTask>) -> Reply {
        self.oneway(r, Msg::SparkKillTask)
    }
    async fn stop_executor(&self, r: Request<sparkrpc::StopExecutor>) -> Reply {
        self.oneway(r, Msg::StopExecutor)
    }
    async fn shutdown(&self, r: Request<sparkrpc::Shutdown>) -> Reply {
        self.oneway(r, Msg::SparkShutdown)
    }
}

#[tonic::async_trait]
impl rpc::zoo_keeper_server::ZooKeeper for Inbox {
    async fn request(&self, r: Request<crate::proto::zookeeper::ClientRequest>) -> Reply {
        self.oneway(r, Msg::from)
    }
    async fn reply(&self, r: Request<crate::proto::zookeeper::ServerReply>) -> Reply {
        self.oneway(r, Msg::from)
    }
    async fn quorum(&self, r: Request<crate::proto::zookeeper::QuorumPacket>) -> Reply {
        self.oneway(r, Msg::ZkQuorum)
    }
    async fn election(&self, r: Request<crate::proto::zookeeper::Notification>) -> Reply {
        self.oneway(r, Msg::ZkVote)
    }
}

#[tonic::async_trait]
impl rpc::spark_rest_server::SparkRest for Inbox {
    async fn create_submission(&self, r: Request<crate::proto::sparkrest::CreateSubmissionRequest>) -> Reply {
        self.oneway(r, Msg::from)
    }
    async fn kill_submission(&self, r: Request<crate::proto::sparkrest::KillSubmissionRequest>) -> Reply {
        self.oneway(r, Msg::from)
    }
    async fn submission_status(&self, r: Request<crate::proto::sparkrest::SubmissionStatusRequest>) -> Reply {
        self.oneway(r, Msg::from)
    }
    async fn create_submission_response(&self, r: Request<crate::proto::sparkrest::CreateSubmissionResponse>) -> Reply {
        self.oneway(r, Msg::from)
    }
    async fn kill_submission_response(&self, r: Request<crate::proto::sparkrest::KillSubmissionResponse>) -> Reply {
        self.oneway(r, Msg::from)
    }
    async fn submission_status_response(&self, r: Request<crate::proto::sparkrest::SubmissionStatusResponse>) -> Reply {
        self.oneway(r, Msg::from)
    }
    async fn error_response(&self, r: Request<crate::proto::sparkrest::ErrorResponse>) -> Reply {
        self.oneway(r, Msg::from)
    }
}

/// The replicated log's one-way messages (upstream `src/log/`).
#[tonic::async_trait]
impl rpc::replicated_log_server::ReplicatedLog for Inbox {
    async fn promise(&self, r: Request<crate::proto::internal::log::PromiseRequest>) -> Reply {
        self.oneway(r, Msg::LogPromise)
    }
    async fn promised(&self, r: Request<crate::proto::internal::log::PromiseResponse>) -> Reply {
        self.oneway(r, Msg::from)
    }
    async fn write(&self, r: Request<crate::proto::internal::log::WriteRequest>) -> Reply {
        self.oneway(r, Msg::from)
    }
    async fn written(&self, r: Request<crate::proto::internal::log::WriteResponse>) -> Reply {
        self.oneway(r, Msg::LogWritten)
    }
    async fn learned(&self, r: Request<crate::proto::internal::log::LearnedMessage>) -> Reply {
        self.oneway(r, Msg::from)
    }
    async fn recover(&self, r: Request<crate::proto::internal::log::RecoverRequest>) -> Reply {
        self.oneway(r, Msg::LogRecover)
    }
    async fn recovered(&self, r: Request<crate::proto::internal::log::RecoverResponse>) -> Reply {
        self.oneway(r, Msg::LogRecovered)
    }
}
