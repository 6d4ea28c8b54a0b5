//! The real messages of Mesos and Spark, and the gRPC services that carry them.
//!
//! Module paths follow the protobuf packages, so generated code can refer to
//! other packages: [`mesos::v1`], [`mesos::v1::scheduler`], [`mesos::v1::executor`],
//! [`mesos::internal`], [`spark::scheduler::cluster`], [`spark::deploy::rest`], [`zookeeper`] and [`mesocosm::rpc`].

#[allow(clippy::all, missing_docs)]
pub mod mesos {
    pub mod v1 {
        tonic::include_proto!("mesos.v1");
        pub mod scheduler {
            tonic::include_proto!("mesos.v1.scheduler");
        }
        pub mod executor {
            tonic::include_proto!("mesos.v1.executor");
        }
    }
    pub mod internal {
        tonic::include_proto!("mesos.internal");
        /// The replicated log's messages (`mesos.internal.log`).
        pub mod log {
            tonic::include_proto!("mesos.internal.log");
        }
        /// The `State` abstraction's records (`mesos.internal.state`).
        pub mod state {
            tonic::include_proto!("mesos.internal.state");
        }
    }
}

#[allow(clippy::all, missing_docs)]
pub mod spark {
    pub mod scheduler {
        pub mod cluster {
            tonic::include_proto!("spark.scheduler.cluster");
        }
    }
    pub mod deploy {
        pub mod rest {
            tonic::include_proto!("spark.deploy.rest");
        }
    }
}

/// Apache ZooKeeper's jute records (`zookeeper`), see `zookeeper/zookeeper.proto`.
#[allow(clippy::all, missing_docs)]
pub mod zookeeper {
    tonic::include_proto!("zookeeper");
}

#[allow(clippy::all, missing_docs)]
pub mod mesocosm {
    pub mod rpc {
        tonic::include_proto!("mesocosm.rpc");
    }
}

pub use mesocosm::rpc;
pub use mesos::internal;
pub use mesos::v1;
pub use mesos::v1::executor;
pub use mesos::v1::scheduler;
/// Spark's REST submission protocol (`spark.deploy.rest`), see `spark/rest.proto`.
pub use spark::deploy::rest as sparkrest;
/// Spark's executor RPC messages (`spark.scheduler.cluster`).
pub use spark::scheduler::cluster as sparkrpc;

/// Every message's descriptor (a serialized `google.protobuf.FileDescriptorSet`
/// of the `.proto` files above), for decoding a message by its name at run
/// time, e.g. the `bytes` of a trace record.
pub const DESCRIPTORS: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/descriptors.bin"));

mod named;
pub mod resources;
pub mod zk_codes;
pub use resources::Resources;

impl mesos::v1::TaskState {
    /// Mesos's `protobuf::isTerminalState` (src/common/protobuf_utils.cpp): no
    /// update follows a terminal one. UNREACHABLE and UNKNOWN are not terminal.
    pub fn is_terminal(self) -> bool {
        use mesos::v1::TaskState as S;
        matches!(
            self,
            S::TaskFinished
                | S::TaskFailed
                | S::TaskKilled
                | S::TaskError
                | S::TaskLost
                | S::TaskDropped
                | S::TaskGone
                | S::TaskGoneByOperator
        )
    }
}
