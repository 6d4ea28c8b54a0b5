//! Spark's `[[apps]]` as checked data: one [`AppSpec`] per spark-submit,
//! its jobs and their stages, which the scenario language produces and
//! [`super::SparkApps`] turns into drivers.

use super::dist::DurationDist;
use crate::submit::{SparkConf, SparkSubmit};
use std::collections::BTreeMap;
use std::time::Duration;

/// One spark-submit.
#[derive(Clone, Debug, PartialEq)]
pub struct AppSpec {
    /// `conf.app_name()`; two apps may share a name, as in real clusters.
    pub name: String,
    /// The parsed command line, with `deploy_mode` made effective
    /// (spark-defaults.conf can set `spark.submit.deployMode`).
    pub submit: SparkSubmit,
    /// The command line as written (after TOML unquoting).
    pub submit_text: String,
    /// The effective Spark configuration.
    pub conf: SparkConf,
    /// When spark-submit runs.
    pub at: Duration,
    /// Where spark-submit runs; in client mode the driver lives there.
    pub host: String,
    /// Files on `host` (path → contents) the driver may read, e.g. the
    /// credentials `spark.mesos.principal.file` names.
    pub files: BTreeMap<String, String>,
    pub jobs: Vec<JobSpec>,
    /// The scenario does not submit this app: it is what a spark-submit run as
    /// a Mesos task's command (a Marathon app's `cmd`, a cluster-mode driver
    /// the dispatcher launches) names, matched by its `spark.app.name`
    /// ([`super::SparkSubmitProgram`]); `at` and `host` do not apply.
    pub in_task: bool,
}

/// A Spark job: stages run one after the other.
#[derive(Clone, Debug, PartialEq)]
pub struct JobSpec {
    pub name: String,
    pub stages: Vec<StageSpec>,
}

/// A stage: `tasks` independent tasks, each taking a duration drawn from `duration`.
#[derive(Clone, Debug, PartialEq)]
pub struct StageSpec {
    pub tasks: u32,
    pub duration: DurationDist,
    /// The earlier stages (0-based, in this job) whose shuffle output this one
    /// reads: the DAG's edges. Without `parents` a stage reads the one before it.
    pub parents: Vec<usize>,
}

/// The driver actor name of each app (`driver:<name>`), made unique: a second
/// app named "pi" is "pi-2", as two spark-submits of one app would be told apart.
pub fn driver_names(apps: &[AppSpec]) -> Vec<String> {
    let mut seen: BTreeMap<&str, u32> = BTreeMap::new();
    apps.iter()
        .map(|a| {
            let n = seen.entry(a.name.as_str()).or_insert(0);
            *n += 1;
            if *n == 1 { a.name.clone() } else { format!("{}-{}", a.name, n) }
        })
        .collect()
}
