//! Apache ZooKeeper as Mesos uses it: an ensemble of servers holding one
//! replicated, ordered tree of znodes, and client sessions that own ephemeral
//! nodes and leave watches.
//!
//! Mesos's masters elect their leader through ZooKeeper, and its agents and
//! frameworks find the leader there (`docs/high-availability.md`). What that
//! needs from ZooKeeper, and so what this crate models:
//!
//! - **Quorum writes.** Every write goes through the leader, which proposes it
//!   to the ensemble and commits it once a majority logged it (ZAB's broadcast
//!   phase). A minority of servers cannot write, and after `syncLimit` ticks
//!   without its quorum a server closes its clients' connections.
//! - **Sessions** with a negotiated timeout (Mesos asks 10 s). A client pings
//!   an idle connection and moves to another server when its own goes quiet;
//!   the leader expires a session no server heard of for its timeout.
//! - **Ephemeral and sequential nodes.** An ephemeral node lives as long as its
//!   session; a sequential one gets its parent's child version as a ten-digit
//!   suffix (`json.info_0000000003`), so the lowest suffix is the oldest member.
//! - **Watches**, one-shot: set by a read, fired by the next change to that
//!   node or its children, on the server the client is connected to.
//!
//! - **Leader election among the servers.** A server with no leader goes
//!   LOOKING and runs Fast Leader Election: the server with the newest
//!   history (epoch, then zxid, then `myid`) wins once a quorum agrees and
//!   `finalizeWait` (200 ms) brought nothing better. The new leader starts a
//!   new epoch and syncs its followers (DIFF of what they lack, TRUNC of what
//!   no quorum took) before anyone serves; it gives every session a fresh
//!   timeout. Killing the leader of three costs the ensemble a few hundred
//!   milliseconds, well inside a 10 s session.
//!
//! Layout: [`tree`] (the znode tree and sessions, and how a transaction
//! changes them), [`election`] (Fast Leader Election's votes), [`server`]
//! (one server's core: client port, ZAB broadcast, session expiry; its
//! `peer` part: LOOKING, LEADING, FOLLOWING and the sync), [`client`] (a session, for an actor to embed), [`group`]
//! (Mesos's contender and detector on top of a session), [`master_info`]
//! (the member data: a `MasterInfo` as JSON), [`detector`] (the master
//! detector agents and schedulers embed: standalone or through a group). Every
//! message is a real protobuf mirroring ZooKeeper's jute records
//! (`proto/proto/zookeeper/zookeeper.proto`), carried by the world like any
//! other, so partitions, drops and delays apply to it.
//!
//! Left out, each for a reason a Mesos cluster's behaviour does not show:
//! ACLs, `setData`, multi-ops, observers, dynamic reconfiguration, snapshots
//! and disk (a restarted server comes back empty and the leader's DIFF
//! refills it; SNAP is never needed as the leader keeps its whole log).

pub mod client;
pub mod config;
pub mod detector;
pub mod election;
pub mod group;
pub mod master_info;
pub mod server;
pub mod tree;

pub use client::{Client, ZkEvent};
pub use config::{SESSION_TIMEOUT, ZkConfig, ZkUrl, parse_url, server_host};
pub use detector::MasterDetector;
pub use group::{Group, GroupEvent};
pub use mesocosm_proto::zk_codes as codes;
pub use server::{Server, ServerConfig, ServerTimer};
pub use tree::Tree;
