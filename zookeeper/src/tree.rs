//! The replicated state every server holds: the znode tree and the sessions.
//!
//! ZooKeeper's `DataTree` maps a path to a node; each node keeps its data, its
//! `Stat` and its children's names, and an ephemeral node its owner session.
//! The tree changes only by applying committed transactions in zxid order, so
//! every server that applied the same prefix of the log holds the same tree.
//! The leader keeps a second copy that includes the proposals not yet
//! committed, to decide the next request's outcome against them (ZooKeeper's
//! `PrepRequestProcessor` and its "outstanding changes"): see [`Tree::prepare_create`].

use mesocosm_proto::zk_codes::{create_mode, err, event};
use mesocosm_proto::zookeeper::{CreateRequest, CreateTxn, DeleteRequest, DeleteTxn, Stat, TxnRecord};
use std::collections::{BTreeMap, BTreeSet};

/// One znode.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Znode {
    /// Its data (for a Mesos master's `json.info_N`, the MasterInfo as JSON).
    pub data: Vec<u8>,
    /// What a client learns about it.
    pub stat: Stat,
    /// Its children's names (the last path component), sorted.
    pub children: BTreeSet<String>,
}

/// Which of a client's watches a change fires: a data watch (set by getData or
/// exists) or a child watch (set by getChildren).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum WatchKind {
    #[default]
    Data,
    Child,
}

/// A watch a change fires: the kind of watch on `path`, and the event type
/// (`NodeCreated`, `NodeDeleted`, `NodeChildrenChanged`) its client gets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trigger {
    pub kind: WatchKind,
    pub path: String,
    pub event: i32,
}

/// The znode tree and the open sessions, as a transaction log's prefix leaves them.
#[derive(Clone, Debug, PartialEq)]
pub struct Tree {
    nodes: BTreeMap<String, Znode>,
    /// Session id → its negotiated timeout (ms).
    sessions: BTreeMap<i64, i32>,
    /// Session id → the ephemeral nodes it owns.
    ephemerals: BTreeMap<i64, BTreeSet<String>>,
    /// The zxid of the last transaction applied.
    last_zxid: i64,
}

impl Default for Tree {
    fn default() -> Tree {
        Tree::new()
    }
}

/// The parent of `path` (`/mesos/json.info_0000000000` → `/mesos`, `/mesos` → `/`).
pub fn parent(path: &str) -> &str {
    match path.rfind('/') {
        Some(0) | None => "/",
        Some(i) => &path[..i],
    }
}

fn name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

impl Tree {
    /// An empty tree: the root `/` alone, no session.
    pub fn new() -> Tree {
        let mut nodes = BTreeMap::new();
        nodes.insert("/".to_string(), Znode::default());
        Tree { nodes, sessions: BTreeMap::new(), ephemerals: BTreeMap::new(), last_zxid: 0 }
    }

    /// The node at `path`.
    pub fn get(&self, path: &str) -> Option<&Znode> {
        self.nodes.get(path)
    }

    /// Whether `session` is open.
    pub fn has_session(&self, session: i64) -> bool {
        self.sessions.contains_key(&session)
    }

    /// The open sessions and their timeouts (ms).
    pub fn sessions(&self) -> &BTreeMap<i64, i32> {
        &self.sessions
    }

    /// The ephemeral nodes `session` owns.
    pub fn ephemerals_of(&self, session: i64) -> Vec<String> {
        self.ephemerals.get(&session).map(|s| s.iter().cloned().collect()).unwrap_or_default()
    }

    /// The zxid of the last transaction applied.
    pub fn last_zxid(&self) -> i64 {
        self.last_zxid
    }

    /// The transaction a create request becomes (PrepRequestProcessor): the
    /// node's final path (a sequential node gets its parent's cversion as a
    /// ten-digit suffix, `json.info_0000000003`), or the error the client gets.
    pub fn prepare_create(&self, req: &CreateRequest) -> Result<CreateTxn, i32> {
        let parent_path = parent(&req.path);
        let Some(p) = self.nodes.get(parent_path) else { return Err(err::NO_NODE) };
        if p.stat.ephemeral_owner != 0 {
            return Err(err::NO_CHILDREN_FOR_EPHEMERALS);
        }
        let path = if req.flags & create_mode::SEQUENTIAL != 0 {
            format!("{}{:010}", req.path, p.stat.cversion)
        } else {
            req.path.clone()
        };
        if self.nodes.contains_key(&path) {
            return Err(err::NODE_EXISTS);
        }
        Ok(CreateTxn {
            path,
            data: req.data.clone(),
            ephemeral: req.flags & create_mode::EPHEMERAL != 0,
            parent_c_version: p.stat.cversion + 1,
        })
    }

    /// The transaction a delete request becomes, or the client's error.
    pub fn prepare_delete(&self, req: &DeleteRequest) -> Result<DeleteTxn, i32> {
        let Some(n) = self.nodes.get(&req.path) else { return Err(err::NO_NODE) };
        if req.version != -1 && req.version != n.stat.version {
            return Err(err::BAD_VERSION);
        }
        if !n.children.is_empty() {
            return Err(err::NOT_EMPTY);
        }
        Ok(DeleteTxn { path: req.path.clone() })
    }

    /// Apply one committed transaction; return the watches it fires.
    pub fn apply(&mut self, txn: &TxnRecord) -> Vec<Trigger> {
        let header = txn.header.unwrap_or_default();
        self.last_zxid = self.last_zxid.max(header.zxid);
        let mut fired = Vec::new();
        if let Some(c) = &txn.create_session {
            self.sessions.insert(header.client_id, c.time_out);
        }
        if let Some(c) = &txn.create {
            self.create(c, header.client_id, header.zxid, header.time, &mut fired);
        }
        if let Some(d) = &txn.delete {
            self.delete(&d.path, header.zxid, &mut fired);
        }
        if let Some(c) = &txn.close_session {
            // ZooKeeper deletes the session's ephemerals as one transaction.
            for path in &c.paths2_delete {
                self.delete(path, header.zxid, &mut fired);
            }
            self.sessions.remove(&header.client_id);
            self.ephemerals.remove(&header.client_id);
        }
        fired
    }

    fn create(&mut self, c: &CreateTxn, owner: i64, zxid: i64, time: i64, fired: &mut Vec<Trigger>) {
        if self.nodes.contains_key(&c.path) {
            return;
        }
        let parent_path = parent(&c.path).to_string();
        let Some(p) = self.nodes.get_mut(&parent_path) else { return };
        p.children.insert(name(&c.path).to_string());
        p.stat.cversion = c.parent_c_version;
        p.stat.num_children = p.children.len() as i32;
        p.stat.pzxid = zxid;
        let ephemeral_owner = if c.ephemeral { owner } else { 0 };
        if c.ephemeral {
            self.ephemerals.entry(owner).or_default().insert(c.path.clone());
        }
        let stat = Stat {
            czxid: zxid,
            mzxid: zxid,
            ctime: time,
            mtime: time,
            ephemeral_owner,
            data_length: c.data.len() as i32,
            pzxid: zxid,
            ..Stat::default()
        };
        self.nodes.insert(c.path.clone(), Znode { data: c.data.clone(), stat, children: BTreeSet::new() });
        // DataTree.createNode: the node's exists watchers, then the parent's child watchers.
        fired.push(Trigger { kind: WatchKind::Data, path: c.path.clone(), event: event::NODE_CREATED });
        fired.push(Trigger { kind: WatchKind::Child, path: parent_path, event: event::NODE_CHILDREN_CHANGED });
    }

    fn delete(&mut self, path: &str, zxid: i64, fired: &mut Vec<Trigger>) {
        let Some(n) = self.nodes.remove(path) else { return };
        if n.stat.ephemeral_owner != 0
            && let Some(set) = self.ephemerals.get_mut(&n.stat.ephemeral_owner)
        {
            set.remove(path);
        }
        let parent_path = parent(path).to_string();
        if let Some(p) = self.nodes.get_mut(&parent_path) {
            p.children.remove(name(path));
            p.stat.cversion += 1;
            p.stat.num_children = p.children.len() as i32;
            p.stat.pzxid = zxid;
        }
        // DataTree.deleteNode: the node's data and child watchers, then the parent's.
        fired.push(Trigger { kind: WatchKind::Data, path: path.to_string(), event: event::NODE_DELETED });
        fired.push(Trigger { kind: WatchKind::Child, path: path.to_string(), event: event::NODE_DELETED });
        fired.push(Trigger { kind: WatchKind::Child, path: parent_path, event: event::NODE_CHILDREN_CHANGED });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mesocosm_proto::zookeeper::{CreateSessionTxn, TxnHeader};

    fn txn(zxid: i64, client: i64) -> TxnRecord {
        TxnRecord { header: Some(TxnHeader { client_id: client, zxid, ..Default::default() }), ..Default::default() }
    }

    /// Sequential names come from the parent's cversion, which every create and
    /// delete of a child bumps, so a name is never reused.
    #[test]
    fn sequential_names_are_the_parents_cversion_in_ten_digits() {
        let mut t = Tree::new();
        let mk = |t: &Tree, path: &str, flags| {
            t.prepare_create(&CreateRequest { path: path.into(), data: vec![], flags }).unwrap()
        };
        let c = mk(&t, "/mesos", 0);
        t.apply(&TxnRecord { create: Some(c), ..txn(1, 0) });
        let seq = create_mode::SEQUENTIAL | create_mode::EPHEMERAL;
        t.apply(&TxnRecord { create_session: Some(CreateSessionTxn { time_out: 10_000 }), ..txn(2, 7) });
        let a = mk(&t, "/mesos/json.info_", seq);
        assert_eq!(a.path, "/mesos/json.info_0000000000");
        t.apply(&TxnRecord { create: Some(a), ..txn(3, 7) });
        t.apply(&TxnRecord { delete: Some(DeleteTxn { path: "/mesos/json.info_0000000000".into() }), ..txn(4, 7) });
        let b = mk(&t, "/mesos/json.info_", seq);
        assert_eq!(b.path, "/mesos/json.info_0000000002");
        assert_eq!(
            t.prepare_create(&CreateRequest { path: "/none/x".into(), ..Default::default() }),
            Err(err::NO_NODE)
        );
    }
}
