//! Marathon: a Mesos framework that keeps long-running apps running.
//!
//! A scenario names Marathon's apps by their JSON app definitions (what
//! `POST /v2/apps` takes), in files beside it or inline:
//!
//! ```toml
//! [marathon]
//! at = "0s"                                  # optional: when Marathon starts
//!
//! [[marathon.apps]]
//! json = "marathon/test-docker-spark.json"   # relative to the scenario file
//!
//! [[marathon.apps]]
//! inline = '''{"id": "/web", "cmd": "sleep 600", "instances": 2}'''
//! ```
//!
//! Marathon runs as actor `scheduler:marathon` and never exits on its own,
//! so a scenario says `[[expect]] app = "marathon"`, `outcome = "running"`.
//!
//! ```text
//!   app JSON ──json.rs (spans)──▶ app.rs (AppDefinition, located errors)
//!        ──▶ scheduler.rs (the Marathon core: offers, launches, backoff, unreachable)
//!        ──▶ task.rs (the TaskInfo as TaskBuilder builds it)
//! ```
//!
//! The core is a [`mesocosm_scheduler::Scheduler`] under libmesos's driver
//! ([`MesosSchedulerDriver`]), registered with the FrameworkInfo Marathon
//! sends (`MarathonSchedulerDriver.newFrameworkInfo`): name `marathon`,
//! failover timeout one week, checkpoint on, role `*`, capabilities
//! PARTITION_AWARE, REGION_AWARE and MULTI_ROLE. A restarted Marathon
//! subscribes with the FrameworkID it keeps in ZooKeeper (here: the one the
//! master gave the last incarnation), reloads its instances and launch delays
//! from ZooKeeper (here: a [`scheduler::Store`] the incarnations of one run
//! share) and reconciles them; a task it does not know it kills.
//!
//! Where this lives: Marathon is a framework that ships with mesocosm, like
//! `sleep-tasks` and the scripted one, and its errors need the scenario
//! language's located diagnostics, so it sits in `frameworks/` rather than in
//! a crate of its own. `docs/marathon.md` lists the upstream facts it relies on.

pub mod app;
pub mod json;
pub mod scheduler;
pub mod task;
#[cfg(test)]
mod tests;

use crate::cluster::plugin::FrameworkSpec;
use crate::cluster::{Framework, FrameworkCtx, Process};
use app::AppDefinition;
use mesocosm_scheduler::MesosSchedulerDriver;
use mesocosm_sim::proto::v1::{FrameworkInfo, framework_info};
use scheduler::{Marathon, Store};
use std::sync::Arc;

/// The actor name and FrameworkInfo.name (`--framework_name` default).
pub const NAME: &str = "marathon";

/// `--failover_timeout` default: one week, in seconds (`MarathonConf.scala`).
pub const FAILOVER_TIMEOUT_SECS: f64 = 604_800.0;

/// The FrameworkInfo Marathon registers with.
pub fn framework_info() -> FrameworkInfo {
    use framework_info::capability::Type;
    let cap = |t: Type| framework_info::Capability { r#type: Some(t as i32) };
    FrameworkInfo {
        // `--mesos_user` defaults to the user running Marathon.
        user: "root".into(),
        name: NAME.into(),
        failover_timeout: Some(FAILOVER_TIMEOUT_SECS),
        checkpoint: Some(true),
        // `--mesos_role` default `*` (ResourceRole.Unreserved).
        roles: vec!["*".into()],
        capabilities: vec![cap(Type::PartitionAware), cap(Type::RegionAware), cap(Type::MultiRole)],
        ..Default::default()
    }
}

/// Marathon with its apps: the framework the scenario's `[marathon]` makes.
#[derive(Clone, Debug, PartialEq)]
pub struct MarathonSpec {
    pub apps: Vec<Arc<AppDefinition>>,
}

impl FrameworkSpec for MarathonSpec {
    /// A new Marathon with an empty ZooKeeper: each run starts from nothing.
    fn framework(&self, _name: &str) -> Box<dyn Framework> {
        Box::new(MarathonFramework { apps: self.apps.clone(), store: Store::default() })
    }
}

/// One run's Marathon: its apps and its ZooKeeper state.
#[derive(Debug)]
pub struct MarathonFramework {
    apps: Vec<Arc<AppDefinition>>,
    store: Store,
}

impl Framework for MarathonFramework {
    fn start(&mut self, ctx: &FrameworkCtx<'_>) -> Process {
        // Marathon keeps its FrameworkID in ZooKeeper: a restart fails over to it.
        let id = ctx.framework_id_of(ctx.me);
        let core = Marathon::new(self.apps.clone(), &format!("{}#{}", ctx.name, ctx.incarnation))
            .with_store(self.store.clone());
        Process::new(MesosSchedulerDriver::new(ctx.master_url(), framework_info(), core).with_framework_id(id))
    }

    /// Marathon is a long-running service: the run does not wait for it to
    /// exit, and only a failed exit of it fails a check.
    fn daemon(&self) -> bool {
        true
    }

    fn restart_note(&self, me: &mesocosm_sim::ActorId) -> String {
        format!("{me} restarts; it fails over to its FrameworkID (kept in ZooKeeper) and reconciles its tasks")
    }
}
