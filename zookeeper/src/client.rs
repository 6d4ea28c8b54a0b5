//! A ZooKeeper client session, sans-IO, for an actor to embed (ZooKeeper's
//! `ClientCnxn`, the part of the client library below the API calls).
//!
//! The client connects to one server of its connect string at a time. An idle
//! connection is kept alive by a ping after a third of the session timeout;
//! if nothing is heard for two thirds of it (the *read timeout*) the client
//! drops the connection, tells its owner `Disconnected`, and tries the next
//! server with the same session id. Only a server can say the session is gone:
//! a reconnect answered with a zero timeout means `Expired`, and the owner must
//! start a new session (Mesos's group code then re-creates its znode).
//!
//! The owner calls [`Client::on_tick`] every [`Client::tick`] and hands it the
//! ZooKeeper messages and disconnections it receives; each returns the
//! [`ZkEvent`]s the owner acts on.

use mesocosm_proto::zk_codes::{op, xid};
use mesocosm_proto::zookeeper::{
    ClientRequest, ConnectRequest, CreateRequest, GetChildren2Request, GetDataRequest, RequestHeader, ServerReply,
};
use mesocosm_sim::{ActorId, Outbox, SimTime};
use std::time::Duration;

/// What the owner learns from its session.
#[derive(Clone, Debug, PartialEq)]
pub enum ZkEvent {
    /// Connected (or reconnected) to a server with this session (`SyncConnected`).
    Connected { session: i64 },
    /// The connection was lost; the session may still live on another server.
    Disconnected,
    /// A server said the session expired; its ephemeral nodes are gone.
    Expired,
    /// A request's answer: its xid, ZooKeeper's error code and the reply.
    Reply { xid: i32, err: i32, reply: Box<ServerReply> },
    /// A watch fired (`NodeChildrenChanged`, `NodeDeleted`, …) on `path`.
    Watch { event: i32, path: String },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Idle,
    Connecting {
        since: SimTime,
    },
    Connected,
    /// Lost a server; the next tick tries the next one (ClientCnxn sleeps up to
    /// a second between attempts rather than hammering the ensemble).
    Backoff,
    Expired,
    Closed,
}

/// One ZooKeeper session.
#[derive(Debug)]
pub struct Client {
    servers: Vec<ActorId>,
    timeout: Duration,
    next: usize,
    server: Option<ActorId>,
    state: State,
    session: i64,
    last_heard: SimTime,
    last_sent: SimTime,
    next_xid: i32,
    /// The last zxid a reply carried: a server behind it refuses the session.
    last_zxid: i64,
}

impl Client {
    /// A session to the ensemble `servers` asking `timeout` (Mesos's
    /// `--zk_session_timeout`, 10 s). ZooKeeper's `StaticHostProvider` shuffles
    /// the connect string; `first` is where this client starts in it, which its
    /// owner draws from its own seeded generator.
    pub fn new(servers: Vec<ActorId>, timeout: Duration, first: usize) -> Client {
        let next = if servers.is_empty() { 0 } else { first % servers.len() };
        Client {
            servers,
            timeout,
            next,
            server: None,
            state: State::Idle,
            session: 0,
            last_heard: SimTime::ZERO,
            last_sent: SimTime::ZERO,
            next_xid: 1,
            last_zxid: 0,
        }
    }

    /// How often the owner must call [`Client::on_tick`].
    pub fn tick(&self) -> Duration {
        self.timeout / 10
    }

    /// The session timeout asked.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The session id (0 before the first connection).
    pub fn session(&self) -> i64 {
        self.session
    }

    /// Whether the client is connected to a server.
    pub fn connected(&self) -> bool {
        self.state == State::Connected
    }

    /// Whether a server said the session expired.
    pub fn expired(&self) -> bool {
        self.state == State::Expired
    }

    /// The server the client is connected or connecting to.
    pub fn server(&self) -> Option<&ActorId> {
        self.server.as_ref()
    }

    /// `ClientCnxn`'s read timeout: two thirds of the session timeout.
    fn read_timeout(&self) -> Duration {
        self.timeout * 2 / 3
    }

    /// Start connecting (a new session, or the same one after [`Client::reset`]).
    pub fn start<T>(&mut self, out: &mut Outbox<T>) {
        if matches!(self.state, State::Idle | State::Closed) {
            self.connect_next(out);
        }
    }

    /// Forget an expired session, to start a new one.
    pub fn reset(&mut self) {
        self.session = 0;
        self.last_zxid = 0;
        self.server = None;
        self.state = State::Idle;
    }

    fn connect_next<T>(&mut self, out: &mut Outbox<T>) {
        let Some(server) = self.servers.get(self.next).cloned() else { return };
        self.next = (self.next + 1) % self.servers.len();
        let connect = ConnectRequest {
            time_out: self.timeout.as_millis() as i32,
            session_id: self.session,
            last_zxid_seen: self.last_zxid,
            ..Default::default()
        };
        out.send(&server, ClientRequest { connect: Some(connect), ..Default::default() });
        self.server = Some(server);
        self.state = State::Connecting { since: out.now() };
        self.last_sent = out.now();
    }

    /// Drop the connection to the current server and tell the owner.
    fn lose<T>(&mut self, out: &mut Outbox<T>, events: &mut Vec<ZkEvent>) {
        if let Some(s) = self.server.take() {
            out.disconnect(&s);
        }
        if self.state == State::Connected {
            events.push(ZkEvent::Disconnected);
        }
        self.state = State::Backoff;
    }

    /// The periodic check: ping an idle connection, give up on a silent one,
    /// move on from a server that does not answer a connect in its share of the
    /// session timeout (`connectTimeout = sessionTimeout / servers`).
    pub fn on_tick<T>(&mut self, out: &mut Outbox<T>) -> Vec<ZkEvent> {
        let now = out.now();
        let mut events = Vec::new();
        match self.state {
            State::Connected => {
                if now.since(self.last_heard) >= self.read_timeout() {
                    self.lose(out, &mut events);
                } else if now.since(self.last_sent) >= self.read_timeout() / 2 {
                    self.request(op::PING, xid::PING, ClientRequest::default(), out);
                }
            }
            State::Connecting { since } => {
                if now.since(since) >= self.timeout / self.servers.len().max(1) as u32 {
                    self.lose(out, &mut events);
                }
            }
            State::Backoff => self.connect_next(out),
            State::Idle | State::Expired | State::Closed => {}
        }
        events
    }

    /// The connection to `peer` broke.
    pub fn on_disconnected<T>(&mut self, peer: &ActorId, out: &mut Outbox<T>) -> Vec<ZkEvent> {
        let mut events = Vec::new();
        if self.server.as_ref() == Some(peer) && matches!(self.state, State::Connected | State::Connecting { .. }) {
            self.server = None;
            self.lose(out, &mut events);
        }
        events
    }

    /// A reply from `from`; replies from any server but the current one are stale.
    pub fn on_reply<T>(&mut self, from: &ActorId, reply: ServerReply, out: &mut Outbox<T>) -> Vec<ZkEvent> {
        if self.server.as_ref() != Some(from) {
            return Vec::new();
        }
        self.last_heard = out.now();
        if let Some(c) = &reply.connect {
            if c.time_out == 0 {
                self.state = State::Expired;
                self.server = None;
                return vec![ZkEvent::Expired];
            }
            self.session = c.session_id;
            self.state = State::Connected;
            return vec![ZkEvent::Connected { session: c.session_id }];
        }
        let Some(h) = reply.header else { return Vec::new() };
        if h.xid != xid::NOTIFICATION {
            self.last_zxid = self.last_zxid.max(h.zxid);
        }
        match h.xid {
            xid::PING => Vec::new(),
            xid::NOTIFICATION => match &reply.event {
                Some(e) => vec![ZkEvent::Watch { event: e.r#type, path: e.path.clone() }],
                None => Vec::new(),
            },
            x => vec![ZkEvent::Reply { xid: x, err: h.err, reply: Box::new(reply) }],
        }
    }

    fn request<T>(&mut self, ty: i32, xid: i32, mut req: ClientRequest, out: &mut Outbox<T>) -> Option<i32> {
        if self.state != State::Connected {
            return None;
        }
        let server = self.server.clone()?;
        req.header = Some(RequestHeader { xid, r#type: ty });
        out.send(&server, req);
        self.last_sent = out.now();
        Some(xid)
    }

    fn xid(&mut self) -> i32 {
        let x = self.next_xid;
        self.next_xid += 1;
        x
    }

    /// Create `path` (with `create_mode` flags); its xid, or `None` while disconnected.
    pub fn create<T>(&mut self, path: &str, data: Vec<u8>, flags: i32, out: &mut Outbox<T>) -> Option<i32> {
        let create = Some(CreateRequest { path: path.to_string(), data, flags });
        let x = self.xid();
        self.request(op::CREATE, x, ClientRequest { create, ..Default::default() }, out)
    }

    /// List `path`'s children, leaving a child watch if `watch`.
    pub fn get_children<T>(&mut self, path: &str, watch: bool, out: &mut Outbox<T>) -> Option<i32> {
        let get_children2 = Some(GetChildren2Request { path: path.to_string(), watch });
        let x = self.xid();
        self.request(op::GET_CHILDREN2, x, ClientRequest { get_children2, ..Default::default() }, out)
    }

    /// Read `path`'s data, leaving a data watch if `watch`.
    pub fn get_data<T>(&mut self, path: &str, watch: bool, out: &mut Outbox<T>) -> Option<i32> {
        let get_data = Some(GetDataRequest { path: path.to_string(), watch });
        let x = self.xid();
        self.request(op::GET_DATA, x, ClientRequest { get_data, ..Default::default() }, out)
    }

    /// Close the session (its ephemeral nodes go at once, not after the timeout).
    pub fn close<T>(&mut self, out: &mut Outbox<T>) -> Option<i32> {
        let x = self.xid();
        let r = self.request(op::CLOSE_SESSION, x, ClientRequest::default(), out);
        self.state = State::Closed;
        r
    }
}
