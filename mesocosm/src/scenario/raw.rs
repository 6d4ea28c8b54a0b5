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
    #[serde(default)]
    pub(super) agents: Vec<Spanned<RawAgent>>,
    #[serde(default)]
    pub(super) apps: Vec<Spanned<RawApp>>,
    #[serde(default)]
    pub(super) frameworks: Vec<Spanned<RawFramework>>,
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
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAgent {
    pub(super) name: Spanned<String>,
    pub(super) count: Option<Spanned<i64>>,
    pub(super) resources: Spanned<String>,
    pub(super) attributes: Option<Spanned<String>>,
    pub(super) spark_installed: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawApp {
    pub(super) submit: Spanned<String>,
    pub(super) at: Option<Spanned<String>>,
    pub(super) host: Option<Spanned<String>>,
    pub(super) spark_defaults: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) files: BTreeMap<String, String>,
    #[serde(default)]
    pub(super) jobs: Vec<Spanned<RawJob>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawFramework {
    pub(super) kind: Spanned<String>,
    pub(super) name: Spanned<String>,
    pub(super) at: Option<Spanned<String>>,
    pub(super) count: Option<Spanned<i64>>,
    pub(super) config: Option<Spanned<BTreeMap<String, Spanned<toml::Value>>>>,
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
