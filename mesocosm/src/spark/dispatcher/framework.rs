//! The dispatcher in a cluster: a framework (`scheduler:<host>`) that runs
//! until stopped, fed the scenario's cluster-mode submissions and REST
//! requests at their times, and restarted from its persistence engine.

use super::conf::DispatcherConf;
use super::core::{Answer, ClusterScheduler, PersistenceEngine, Request};
use super::submission::CreateSubmissionRequest;
use crate::cluster::{ClusterBuilder, Framework, FrameworkCtx, FrameworkReport, Process, RunError, Words};
use crate::spark::AppSpec;
use crate::submit::DeployMode;
use mesocosm_scheduler::MesosSchedulerDriver;
use mesocosm_sim::{ActorId, Shared, SimTime};
use std::time::Duration;

/// A REST request a scenario sends the dispatcher about one of its cluster-mode apps.
#[derive(Clone, Debug, PartialEq)]
pub enum RequestSpec {
    /// `POST /v1/submissions/kill/<id of the app's submission>`.
    Kill(String),
    /// `GET /v1/submissions/status/<id>`.
    Status(String),
}

/// A scenario's `[dispatcher]`.
#[derive(Clone, Debug, PartialEq)]
pub struct DispatcherSpec {
    pub conf: DispatcherConf,
    /// When the dispatcher starts.
    pub at: Duration,
    /// Requests by app name, at their times.
    pub requests: Vec<(Duration, RequestSpec)>,
}

/// Whether `app` is submitted to a dispatcher (`--deploy-mode cluster`).
pub fn is_cluster_mode(app: &AppSpec) -> bool {
    app.conf.deploy_mode().is_ok_and(|m| m == DeployMode::Cluster)
}

/// What `spark-submit --deploy-mode cluster` POSTs for `app`
/// (`RestSubmissionClient.constructSubmitRequest`): every `spark.*` property.
pub fn create_request(app: &AppSpec) -> CreateSubmissionRequest {
    CreateSubmissionRequest {
        app_resource: app.submit.primary_resource.clone(),
        main_class: app.submit.class.clone().unwrap_or_default(),
        app_args: app.submit.app_args.clone(),
        spark_properties: app.conf.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        environment_variables: Default::default(),
    }
}

/// Add the dispatcher of `spec`, submitting the cluster-mode `apps` at their times.
pub fn add_dispatcher(
    builder: ClusterBuilder,
    spec: &DispatcherSpec,
    apps: &[AppSpec],
) -> Result<ClusterBuilder, RunError> {
    let cluster: Vec<&AppSpec> = apps.iter().filter(|a| is_cluster_mode(a)).collect();
    let mut script: Vec<(SimTime, Request)> =
        cluster.iter().map(|a| (SimTime::from_duration(a.at), Request::Create(Box::new(create_request(a))))).collect();
    for (at, r) in &spec.requests {
        let (name, make): (&String, fn(usize) -> Request) = match r {
            RequestSpec::Kill(n) => (n, Request::Kill),
            RequestSpec::Status(n) => (n, Request::Status),
        };
        let i = cluster
            .iter()
            .position(|a| &a.name == name)
            .ok_or_else(|| RunError::Unsupported(format!("dispatcher request: no cluster-mode app is named {name}")))?;
        script.push((SimTime::from_duration(*at), make(i)));
    }
    // The script's creates keep their order (Kill/Status name creates by index).
    let fw = Dispatcher { spec: spec.clone(), script, store: PersistenceEngine::default(), core: None };
    let actor = ActorId::new(format!("scheduler:{}", spec.conf.host));
    Ok(builder.add_framework(&spec.conf.host, actor, spec.at, fw))
}

/// The dispatcher as a cluster framework.
struct Dispatcher {
    spec: DispatcherSpec,
    script: Vec<(SimTime, Request)>,
    /// Outlives each incarnation, as Spark's ZooKeeper state does.
    store: PersistenceEngine,
    core: Option<Shared<MesosSchedulerDriver<ClusterScheduler>>>,
}

impl Framework for Dispatcher {
    fn start(&mut self, ctx: &FrameworkCtx<'_>) -> Process {
        let core = ClusterScheduler::new(self.spec.conf.clone(), self.store.clone(), self.script.clone());
        let info = core.framework_info();
        let driver = Shared::new(MesosSchedulerDriver::new(ctx.master.clone(), info, core));
        self.core = Some(driver.clone());
        Process::new(driver)
    }

    fn words(&self) -> Words {
        Words { check: "dispatcher runs", noun: "dispatcher", process: "MesosClusterDispatcher" }
    }

    fn daemon(&self) -> bool {
        true
    }

    fn start_event(&self, name: &str) -> String {
        format!("MesosClusterDispatcher {name} starts (REST server on port {})", self.spec.conf.port)
    }

    fn restart_note(&self, me: &ActorId) -> String {
        format!("{me} restarts and recovers its drivers from its persistence engine")
    }

    fn summary(&self, report: &FrameworkReport) -> Vec<String> {
        let mut lines = vec![format!("  dispatcher {}: started {}", report.name, report.started_at)];
        let answers = self.core.as_ref().map(|c| c.with(|d| d.scheduler().answers.clone())).unwrap_or_default();
        for (at, a) in answers {
            lines.push(match a {
                Answer::Create(c) => format!(
                    "    {at} create: {}",
                    c.submission_id.map_or_else(
                        || format!("refused: {}", c.message.unwrap_or_default()),
                        |id| format!("submitted {id}")
                    )
                ),
                Answer::Kill(k) => format!("    {at} kill {}: {} ({})", k.submission_id, k.success, k.message),
                Answer::Status(s) => format!("    {at} status {}: {}", s.submission_id, s.driver_state),
            });
        }
        lines
    }
}
