//! Pass 1 of reading a scenario file: its shape, as serde sees it.
//!
//! `deny_unknown_fields` everywhere, so a misspelt key stops here with its
//! span; every value a later check may complain about is a
//! `toml::Spanned<T>`. The failure script's tables (`RawFault`,
//! `RawExpect`) are the script's own; the `"1s"`-or-table shape is the
//! checker core's ([`RawDurOrTable`]).

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

use crate::check::RawDurOrTable;
use crate::script::{RawExpect, RawFault};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawFile {
    pub(super) scenario: RawScenario,
    pub(super) network: Option<RawNetwork>,
    pub(super) master: Option<RawMaster>,
    pub(super) zookeeper: Option<Spanned<RawZooKeeper>>,
    pub(super) registry: Option<super::containers::RawRegistry>,
    pub(super) fetcher: Option<super::containers::RawFetcher>,
    #[serde(default)]
    pub(super) agents: Vec<Spanned<RawAgent>>,
    #[serde(default)]
    pub(super) apps: Vec<Spanned<RawApp>>,
    pub(super) dispatcher: Option<Spanned<RawDispatcher>>,
    #[serde(default)]
    pub(super) frameworks: Vec<Spanned<RawFramework>>,
    pub(super) marathon: Option<Spanned<RawMarathon>>,
    #[serde(default)]
    pub(super) faults: Vec<Spanned<RawFault>>,
    #[serde(default)]
    pub(super) expect: Vec<Spanned<RawExpect>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawScenario {
    pub(super) name: Spanned<String>,
    pub(super) description: Option<String>,
    pub(super) seed: Option<u64>,
    pub(super) until: Option<Spanned<String>>,
    pub(super) keep_running: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawNetwork {
    pub(super) latency: Option<Spanned<RawDurOrTable>>,
    #[serde(default)]
    pub(super) links: Vec<Spanned<RawLink>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawMaster {
    pub(super) name: Option<Spanned<String>>,
    pub(super) allocation_interval: Option<Spanned<String>>,
    pub(super) agent_ping_timeout: Option<Spanned<String>>,
    pub(super) max_agent_ping_timeouts: Option<Spanned<i64>>,
    pub(super) offer_timeout: Option<Spanned<String>>,
    pub(super) weights: Option<Spanned<String>>,
    pub(super) filter_gpu_resources: Option<bool>,
    pub(super) role_sorter: Option<Spanned<String>>,
    pub(super) framework_sorter: Option<Spanned<String>>,
    pub(super) recovery_agent_removal_limit: Option<Spanned<String>>,
    pub(super) agent_removal_rate_limit: Option<Spanned<String>>,
    pub(super) registry_fetch_timeout: Option<Spanned<String>>,
    pub(super) registry_store_timeout: Option<Spanned<String>>,
    pub(super) count: Option<Spanned<i64>>,
    pub(super) quorum: Option<Spanned<i64>>,
    pub(super) zk: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawZooKeeper {
    pub(super) servers: Spanned<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAgent {
    pub(super) name: Spanned<String>,
    pub(super) count: Option<Spanned<i64>>,
    pub(super) resources: Spanned<String>,
    pub(super) attributes: Option<Spanned<String>>,
    pub(super) spark_installed: Option<bool>,
    pub(super) containerizers: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) docker_config: Vec<Spanned<String>>,
    #[serde(default)]
    pub(super) pre_pulled: Vec<Spanned<String>>,
    pub(super) executor_registration_timeout: Option<Spanned<String>>,
    pub(super) registry_bandwidth: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawApp {
    pub(super) submit: Spanned<String>,
    pub(super) at: Option<Spanned<String>>,
    pub(super) host: Option<Spanned<String>>,
    pub(super) spark_defaults: Option<Spanned<String>>,
    /// Not submitted by the scenario: what a task's spark-submit names.
    pub(super) in_task: Option<Spanned<bool>>,
    #[serde(default)]
    pub(super) files: BTreeMap<String, String>,
    #[serde(default)]
    pub(super) jobs: Vec<Spanned<RawJob>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawFramework {
    /// A registered kind; without it the table is a scripted framework.
    pub(super) kind: Option<Spanned<String>>,
    pub(super) name: Spanned<String>,
    pub(super) at: Option<Spanned<String>>,
    pub(super) count: Option<Spanned<i64>>,
    pub(super) config: Option<Spanned<BTreeMap<String, Spanned<toml::Value>>>>,
    // A scripted framework's keys (`frameworks::scripted`).
    pub(super) user: Option<Spanned<String>>,
    pub(super) roles: Option<Spanned<Vec<Spanned<String>>>>,
    pub(super) capabilities: Option<Spanned<Vec<Spanned<String>>>>,
    pub(super) checkpoint: Option<Spanned<bool>>,
    pub(super) failover_timeout: Option<Spanned<String>>,
    pub(super) principal: Option<Spanned<String>>,
    pub(super) offers: Option<Spanned<String>>,
    pub(super) think: Option<Spanned<String>>,
    pub(super) max_tasks_per_offer: Option<Spanned<i64>>,
    pub(super) refuse_seconds: Option<Spanned<f64>>,
    pub(super) suppress: Option<Spanned<bool>>,
    pub(super) ignore_rescind: Option<Spanned<bool>>,
    pub(super) retry: Option<Spanned<RawRetry>>,
    pub(super) reconcile: Option<Spanned<RawReconcile>>,
    pub(super) kill: Option<Spanned<Vec<Spanned<RawKill>>>>,
    pub(super) teardown: Option<Spanned<String>>,
    pub(super) resubscribe: Option<Spanned<RawBackoff>>,
    pub(super) failover_of: Option<Spanned<String>>,
    pub(super) work: Option<Spanned<Vec<Spanned<RawWork>>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawWork {
    pub(super) name: Option<Spanned<String>>,
    pub(super) tasks: Option<Spanned<i64>>,
    pub(super) resources: Spanned<String>,
    pub(super) duration: Option<Spanned<RawDurOrTable>>,
    pub(super) exit: Option<Spanned<i64>>,
    pub(super) fail_probability: Option<Spanned<f64>>,
    pub(super) at: Option<Spanned<String>>,
    pub(super) every: Option<Spanned<String>>,
    pub(super) times: Option<Spanned<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRetry {
    pub(super) on: Spanned<Vec<Spanned<String>>>,
    pub(super) max: Option<Spanned<i64>>,
    pub(super) task_id: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawReconcile {
    pub(super) implicit: Option<Spanned<String>>,
    pub(super) explicit: Option<Spanned<String>>,
    pub(super) tasks: Option<Vec<Spanned<String>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawKill {
    pub(super) task: Spanned<String>,
    pub(super) at: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawBackoff {
    pub(super) initial: Option<Spanned<String>>,
    pub(super) max: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawJob {
    pub(super) name: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) stages: Vec<Spanned<RawStage>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawStage {
    pub(super) tasks: Spanned<i64>,
    pub(super) duration: Spanned<RawDurOrTable>,
    pub(super) parents: Option<Spanned<Vec<i64>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLink {
    pub(super) from: Spanned<String>,
    pub(super) to: Spanned<String>,
    pub(super) latency: Spanned<RawDurOrTable>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawMarathon {
    pub(super) at: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) apps: Vec<Spanned<RawMarathonApp>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawMarathonApp {
    /// A `.json` file, relative to the scenario.
    pub(super) json: Option<Spanned<String>>,
    /// The app definition itself.
    pub(super) inline: Option<Spanned<String>>,
}

/// `[dispatcher]`: Spark's MesosClusterDispatcher.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDispatcher {
    pub(super) host: Option<Spanned<String>>,
    /// Its `--master` (default: the master, or the ensemble's `mesos://zk://…`).
    pub(super) master: Option<Spanned<String>>,
    pub(super) at: Option<Spanned<String>>,
    pub(super) conf: Option<Spanned<BTreeMap<String, String>>>,
    #[serde(default)]
    pub(super) requests: Vec<Spanned<RawRequest>>,
}

/// `[[dispatcher.requests]]`: a REST request about a cluster-mode app.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRequest {
    pub(super) kill: Option<Spanned<String>>,
    pub(super) status: Option<Spanned<String>>,
    pub(super) at: Spanned<String>,
}
