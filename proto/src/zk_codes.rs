//! ZooKeeper's numeric codes, which its jute records carry as plain ints.
//!
//! Each table is ZooKeeper's own (`ZooDefs.OpCode`, `KeeperException.Code`,
//! `Watcher.Event.EventType`/`KeeperState`, `CreateMode`, `Leader`'s packet
//! types), so a decoded trace shows the numbers a ZooKeeper operator knows.

/// `ZooDefs.OpCode`: a request's `RequestHeader.type` (and a txn's `TxnHeader.type`).
pub mod op {
    pub const NOTIFICATION: i32 = 0;
    pub const CREATE: i32 = 1;
    pub const DELETE: i32 = 2;
    pub const EXISTS: i32 = 3;
    pub const GET_DATA: i32 = 4;
    pub const PING: i32 = 11;
    pub const GET_CHILDREN2: i32 = 12;
    pub const CREATE_SESSION: i32 = -10;
    pub const CLOSE_SESSION: i32 = -11;
    pub const ERROR: i32 = -1;

    /// The OpCode's name as ZooKeeper's `Request.op2String` spells it.
    pub fn name(code: i32) -> &'static str {
        match code {
            NOTIFICATION => "notification",
            CREATE => "create",
            DELETE => "delete",
            EXISTS => "exists",
            GET_DATA => "getData",
            PING => "ping",
            GET_CHILDREN2 => "getChildren2",
            CREATE_SESSION => "createSession",
            CLOSE_SESSION => "closeSession",
            ERROR => "error",
            _ => "unknown",
        }
    }
}

/// The special xids (`ClientCnxn`): a watch notification and a ping's answer.
pub mod xid {
    pub const NOTIFICATION: i32 = -1;
    pub const PING: i32 = -2;
}

/// `KeeperException.Code`: a reply's `ReplyHeader.err`.
pub mod err {
    pub const OK: i32 = 0;
    /// The server lost its quorum (or was never in one): it serves no request.
    pub const CONNECTION_LOSS: i32 = -4;
    pub const NO_NODE: i32 = -101;
    pub const BAD_VERSION: i32 = -103;
    pub const NO_CHILDREN_FOR_EPHEMERALS: i32 = -108;
    pub const NODE_EXISTS: i32 = -110;
    pub const NOT_EMPTY: i32 = -111;
    pub const SESSION_EXPIRED: i32 = -112;

    /// The code's name as `KeeperException.Code` spells it.
    pub fn name(code: i32) -> &'static str {
        match code {
            OK => "OK",
            CONNECTION_LOSS => "CONNECTIONLOSS",
            NO_NODE => "NONODE",
            BAD_VERSION => "BADVERSION",
            NO_CHILDREN_FOR_EPHEMERALS => "NOCHILDRENFOREPHEMERALS",
            NODE_EXISTS => "NODEEXISTS",
            NOT_EMPTY => "NOTEMPTY",
            SESSION_EXPIRED => "SESSIONEXPIRED",
            _ => "UNKNOWN",
        }
    }
}

/// `Watcher.Event.EventType`: a `WatcherEvent.type`.
pub mod event {
    pub const NONE: i32 = -1;
    pub const NODE_CREATED: i32 = 1;
    pub const NODE_DELETED: i32 = 2;
    pub const NODE_DATA_CHANGED: i32 = 3;
    pub const NODE_CHILDREN_CHANGED: i32 = 4;

    /// The type's name as `EventType` spells it.
    pub fn name(code: i32) -> &'static str {
        match code {
            NONE => "None",
            NODE_CREATED => "NodeCreated",
            NODE_DELETED => "NodeDeleted",
            NODE_DATA_CHANGED => "NodeDataChanged",
            NODE_CHILDREN_CHANGED => "NodeChildrenChanged",
            _ => "Unknown",
        }
    }
}

/// `Watcher.Event.KeeperState`: a `WatcherEvent.state`.
pub mod state {
    pub const DISCONNECTED: i32 = 0;
    pub const SYNC_CONNECTED: i32 = 3;
    pub const EXPIRED: i32 = -112;
}

/// `CreateMode`'s flag bits: a `CreateRequest.flags`.
pub mod create_mode {
    pub const EPHEMERAL: i32 = 1;
    pub const SEQUENTIAL: i32 = 2;
}

/// `Leader`'s packet types: a `QuorumPacket.type`.
pub mod packet {
    pub const REQUEST: i32 = 1;
    pub const PROPOSAL: i32 = 2;
    pub const ACK: i32 = 3;
    pub const COMMIT: i32 = 4;
    pub const PING: i32 = 5;
    /// Leader → learner: the new epoch's history is sent; ACK it to take the epoch.
    pub const NEWLEADER: i32 = 10;
    /// Learner → leader, first on a new connection: its accepted epoch.
    pub const FOLLOWERINFO: i32 = 11;
    /// Leader → learner: synced; start serving.
    pub const UPTODATE: i32 = 12;
    /// Leader → learner: the PROPOSAL/COMMIT pairs that follow are what it misses.
    pub const DIFF: i32 = 13;
    /// Leader → learner: drop every logged transaction after this zxid.
    pub const TRUNC: i32 = 14;
    /// Leader → learner: the new epoch (the zxid's high 32 bits).
    pub const LEADERINFO: i32 = 17;
    /// Learner → leader: it accepted the epoch; here is its last logged zxid.
    pub const ACKEPOCH: i32 = 18;

    /// The type's name as `Leader.getPacketType` spells it.
    pub fn name(code: i32) -> &'static str {
        match code {
            REQUEST => "REQUEST",
            PROPOSAL => "PROPOSAL",
            ACK => "ACK",
            COMMIT => "COMMIT",
            PING => "PING",
            NEWLEADER => "NEWLEADER",
            FOLLOWERINFO => "FOLLOWERINFO",
            UPTODATE => "UPTODATE",
            DIFF => "DIFF",
            TRUNC => "TRUNC",
            LEADERINFO => "LEADERINFO",
            ACKEPOCH => "ACKEPOCH",
            _ => "UNKNOWN",
        }
    }
}

/// `QuorumPeer.ServerState`: a Fast Leader Election notification's `state`.
pub mod server_state {
    pub const LOOKING: i32 = 0;
    pub const FOLLOWING: i32 = 1;
    pub const LEADING: i32 = 2;

    /// The state's name as `ServerState` spells it.
    pub fn name(code: i32) -> &'static str {
        match code {
            LOOKING => "LOOKING",
            FOLLOWING => "FOLLOWING",
            LEADING => "LEADING",
            _ => "UNKNOWN",
        }
    }
}
