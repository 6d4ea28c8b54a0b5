//! The dispatcher in a cluster: a framework (`scheduler:<host>`) that runs
//! until stopped, restarted from its persistence engine, and the spark-submit
//! processes that talk to its REST server ([`super::client`]): one per
//! cluster-mode app at its time (`spark-submit:<app>`), one per scenario
//! request (`spark-submit:kill:<app>`, `spark-submit:status:<app>`).

use super::client::{Ask, Printed, RestClient, SubmissionBook};
use super::conf::DispatcherConf;
use super::core::{Answer, ClusterScheduler, PersistenceEngine};
use super::submission::CreateSubmissionRequest;
use crate::cluster::{ClusterBuilder, Framework, FrameworkCtx, FrameworkReport, Process, RunError, Words};
use crate::spark::AppSpec;
use crate::submit::DeployMode;
use mesocosm_scheduler::{MasterUrl, MesosSchedulerDriver};
use mesocosm_sim::{ActorId, Shared};
use std::collections::BTreeMap;
use std::time::Duration;

/// A REST request a scenario sends the dispatcher about one of its cluster-mode apps.
#[derive(Clone, Debug, PartialEq)]
pub enum RequestSpec {
    /// `spark-submit --kill <id of the app's submission>`: `POST /v1/submissions/kill/<id>`.
    Kill(String),
    /// `spark-submit --status <id>`: `GET /v1/submissions/status/<id>`.
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
/// The client fills in `action` and `clientSparkVersion` as it sends it.
pub fn create_request(app: &AppSpec) -> CreateSubmissionRequest {
    CreateSubmissionRequest {
        app_resource: app.submit.primary_resource.clone(),
        main_class: app.submit.class.clone().unwrap_or_default(),
        app_args: app.submit.app_args.clone(),
        spark_properties: app.conf.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        ..Default::default()
    }
}

/// The spark-submit processes a scenario runs against its dispatcher: the
/// actor name, when it runs, the app it is about, and what it asks. A
/// cluster-mode app's is `spark-submit:<app>`; a request's is
/// `spark-submit:kill:<app>` or `spark-submit:status:<app>` (`:2`, `:3`… for
/// the next ones about the same app). Requests must name cluster-mode apps.
fn spark_submits<'a>(spec: &DispatcherSpec, apps: &'a [AppSpec]) -> Vec<(String, Duration, &'a AppSpec, Submit)> {
    let cluster: Vec<&AppSpec> = apps.iter().filter(|a| is_cluster_mode(a)).collect();
    let mut out: Vec<(String, Duration, &AppSpec, Submit)> = cluster
        .iter()
        .map(|app| (format!("spark-submit:{}", app.name), app.at, *app, Submit::Create(Box::new(create_request(app)))))
        .collect();
    let mut seen: BTreeMap<String, u32> = BTreeMap::new();
    for (at, r) in &spec.requests {
        let (verb, name, ask) = match r {
            RequestSpec::Kill(n) => ("kill", n, Submit::Kill),
            RequestSpec::Status(n) => ("status", n, Submit::Status),
        };
        let Some(app) = cluster.iter().find(|a| &a.name == name) else { continue };
        let base = format!("spark-submit:{verb}:{name}");
        let n = seen.entry(base.clone()).or_default();
        *n += 1;
        out.push((if *n == 1 { base } else { format!("{base}:{n}") }, *at, *app, ask));
    }
    out
}

/// The spark-submit actors of [`spark_submits`], by name and start time (for
/// the scenario's cast, so faults and expectations can name them).
pub fn spark_submit_actors(spec: &DispatcherSpec, apps: &[AppSpec]) -> Vec<(String, Duration)> {
    spark_submits(spec, apps).into_iter().map(|(name, at, _, _)| (name, at)).collect()
}

/// Add the dispatcher of `spec`, and a spark-submit for each cluster-mode
/// app and each of the scenario's requests, at their times.
pub fn add_dispatcher(
    mut builder: ClusterBuilder,
    spec: &DispatcherSpec,
    apps: &[AppSpec],
) -> Result<ClusterBuilder, RunError> {
    let server = ActorId::new(format!("scheduler:{}", spec.conf.host));
    let url = format!("mesos://{}:{}", spec.conf.host, spec.conf.port);
    let book = SubmissionBook::default();
    let cluster: Vec<&String> = apps.iter().filter(|a| is_cluster_mode(a)).map(|a| &a.name).collect();
    for (_, r) in &spec.requests {
        let (RequestSpec::Kill(name) | RequestSpec::Status(name)) = r;
        if !cluster.contains(&name) {
            return Err(RunError::Unsupported(format!("dispatcher request: no cluster-mode app is named {name}")));
        }
    }
    for (name, at, app, submit) in spark_submits(spec, apps) {
        let client = SparkSubmit::new(&app.name, submit, &server, &url, &book);
        builder = builder.add_framework(&name, ActorId::new(name.clone()), at, client);
    }
    let fw = Dispatcher { spec: spec.clone(), store: PersistenceEngine::default(), core: None };
    Ok(builder.add_framework(&spec.conf.host, server, spec.at, fw))
}

/// What a scenario's spark-submit asks; a kill or status names the app whose
/// submission id it reads, at its start, from what that app's spark-submit printed.
#[derive(Clone, Debug)]
enum Submit {
    Create(Box<CreateSubmissionRequest>),
    Kill,
    Status,
}

/// One spark-submit run (a process that exits), talking to the dispatcher.
struct SparkSubmit {
    app: String,
    submit: Submit,
    server: ActorId,
    url: String,
    book: SubmissionBook,
    printed: Printed,
}

impl SparkSubmit {
    fn new(app: &str, submit: Submit, server: &ActorId, url: &str, book: &SubmissionBook) -> SparkSubmit {
        SparkSubmit {
            app: app.to_string(),
            submit,
            server: server.clone(),
            url: url.to_string(),
            book: book.clone(),
            printed: Printed::default(),
        }
    }
}

impl Framework for SparkSubmit {
    fn start(&mut self, _ctx: &FrameworkCtx<'_>) -> Process {
        // The id a user would copy from the submitting spark-submit's output;
        // none (it got no answer) leaves the URL's id empty, which the server
        // answers with an ErrorResponse.
        let id = || self.book.lock().unwrap_or_else(|p| p.into_inner()).get(&self.app).cloned().unwrap_or_default();
        let ask = match &self.submit {
            Submit::Create(req) => Ask::Create(req.clone()),
            Submit::Kill => Ask::Kill(id()),
            Submit::Status => Ask::Status(id()),
        };
        Process::new(RestClient::new(
            &self.app,
            ask,
            self.server.clone(),
            &self.url,
            self.book.clone(),
            self.printed.clone(),
        ))
    }

    fn words(&self) -> Words {
        Words { check: "spark-submit exits 0", noun: "spark-submit", process: "spark-submit" }
    }

    fn start_event(&self, name: &str) -> String {
        let what = match self.submit {
            Submit::Create(_) => "--deploy-mode cluster",
            Submit::Kill => "--kill",
            Submit::Status => "--status",
        };
        format!("{name} runs (spark-submit {what} --master {}) for {}", self.url, self.app)
    }

    fn summary(&self, report: &FrameworkReport) -> Vec<String> {
        let exit =
            report.exit.map_or_else(|| "still running".to_string(), |(at, s)| format!("exited {at} with status {s}"));
        let mut lines = vec![format!("  spark-submit {}: started {}, {exit}", report.name, report.started_at)];
        let printed = self.printed.lock().unwrap_or_else(|p| p.into_inner()).clone();
        lines.extend(printed.into_iter().map(|l| format!("    {l}")));
        lines
    }
}

/// The dispatcher as a cluster framework.
struct Dispatcher {
    spec: DispatcherSpec,
    /// Outlives each incarnation, as Spark's ZooKeeper state does.
    store: PersistenceEngine,
    core: Option<Shared<MesosSchedulerDriver<ClusterScheduler>>>,
}

impl Framework for Dispatcher {
    fn start(&mut self, ctx: &FrameworkCtx<'_>) -> Process {
        let core = ClusterScheduler::new(self.spec.conf.clone(), self.store.clone());
        let info = core.framework_info();
        // Its `--master`: through ZooKeeper (`zk://…`, the detector follows
        // the leader), else the one master.
        let master = match self.spec.conf.master.starts_with("zk://") {
            true => ctx.master_url(),
            false => MasterUrl::Standalone(ctx.master.clone()),
        };
        let driver = Shared::new(MesosSchedulerDriver::new(master, info, core));
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
        for (at, client, a) in answers {
            lines.push(match a {
                Answer::Create(c) => format!(
                    "    {at} create from {client}: {}",
                    c.submission_id.map_or_else(
                        || format!("refused: {}", c.message.unwrap_or_default()),
                        |id| format!("submitted {id}")
                    )
                ),
                Answer::Kill(k) => format!(
                    "    {at} kill {}: {} ({})",
                    k.submission_id,
                    k.success.unwrap_or(false),
                    k.message.unwrap_or_default()
                ),
                Answer::Status(s) => {
                    format!("    {at} status {}: {}", s.submission_id, s.driver_state.unwrap_or_default())
                }
                Answer::Error(e) => format!("    {at} error to {client}: {}", e.message),
            });
        }
        lines
    }
}
