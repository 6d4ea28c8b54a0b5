//! A Spark driver inside a Mesos task: a task whose command is a
//! `spark-submit` line runs a real client-mode driver as its process.
//!
//! Two deploy paths run spark-submit *on an agent* rather than on the
//! scenario's edge host: a Marathon app whose `cmd` is spark-submit, and
//! Spark's MesosClusterDispatcher, whose driver task runs
//! `cd spark-*; bin/spark-submit --name … --master mesos://… …`. Either way the
//! task is a plain command task, so Mesos runs it under its command executor
//! (`src/launcher/executor.cpp`), and the command's process is the JVM of a
//! client-mode driver:
//!
//! ```text
//!  agent ─Launch(executor:<fw>/<task>)─▶ SparkSubmitProgram::start
//!     └─ MesosCommandExecutor, whose command is a process (CommandExecutorConfig::process)
//!          LAUNCH ─▶ TASK_STARTING, TASK_RUNNING, fork ─Launch(driver:<app>)─▶ SparkSubmitProgram::start
//!                                                         └─ SparkDriver on the agent's host, child of the executor
//!          driver exits N ─▶ TASK_FINISHED (0) | TASK_FAILED "Command exited with status N"
//!          KILL / SHUTDOWN / agent lost ─▶ SIGTERM: the driver ends (143), TASK_KILLED
//! ```
//!
//! # Which app a line runs
//!
//! The line names its app the way spark-submit names it (`spark.app.name`:
//! `--name`, else `--conf spark.app.name`, else `--class`, else the jar's file
//! name). The scenario declares what that app does with an `[[apps]]` entry
//! marked `in_task = true` whose own line resolves to the same name: its jobs,
//! and its conf as the defaults under the task's line (the task's `--conf`s
//! win, as spark-submit's command line wins over spark-defaults.conf). A line
//! naming no declared app is the jar without that class: spark-submit's
//! `Failed to load class <class>.` and exit 101 (`CLASS_NOT_FOUND_EXIT_STATUS`),
//! so the task is TASK_FAILED "Command exited with status 101".
//!
//! # Where the driver listens
//!
//! The driver is actor `driver:<app>` (`driver:<app>-2`… while another driver of
//! the app runs or is about to), on the agent's host: its executors dial
//! `spark://CoarseGrainedScheduler@<agent host>:<port>` (port
//! `spark.driver.port`, else one per app), which the process writes into the
//! shared [`DriverBook`] as it starts. It dies with its task: a kill, the
//! executor's shutdown, or the agent's loss ends it, and Mesos then loses its
//! executors as it loses any framework's that disconnects.

use super::apps::{ask_timeout, driver_properties, spark_settings, workload};
use super::spec::AppSpec;
use crate::cluster::RunError;
use crate::submit::{DeployMode, SparkConf, parse_spark_submit};
use mesocosm_driver::{DriverConfig, SparkDriver};
use mesocosm_executor::program::Program;
use mesocosm_executor::{CommandExecutorConfig, DriverBook, MesosCommandExecutor, SparkDriverAddress, SparkInstalled};
use mesocosm_sim::proto::mesos::v1::TaskInfo;
use mesocosm_sim::{Actor, ActorId, Input, Launch, Outbox, World};
use rand_chacha::rand_core::Rng;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// spark-submit's exit status when the main class cannot be loaded
/// (`SparkSubmit.CLASS_NOT_FOUND_EXIT_STATUS`).
pub const CLASS_NOT_FOUND_EXIT_STATUS: i32 = 101;

/// An app a task's spark-submit may run.
#[derive(Clone, Debug)]
struct TaskApp {
    spec: AppSpec,
    /// Its `spark.driver.port` when that is 0 (any free port).
    port: u32,
}

/// The [`Program`] that runs a command task whose command is a spark-submit
/// line: Mesos's command executor, forking the driver as its process.
#[derive(Clone, Debug)]
pub struct SparkSubmitProgram {
    master: ActorId,
    /// The apps a line may name, by `spark.app.name`.
    apps: BTreeMap<String, TaskApp>,
    book: DriverBook,
    /// Where Spark is installed: a driver in a Docker image (Marathon's
    /// container) runs the image's spark-submit, one without runs the host's.
    installed: SparkInstalled,
    /// Driver names handed to containers whose process has not started yet,
    /// with the agent each runs on.
    pending: Arc<Mutex<BTreeMap<ActorId, ActorId>>>,
    /// Whether the cluster runs a ZooKeeper ensemble: a line's
    /// `--master mesos://zk://…` then detects the leader through it.
    ensemble: bool,
}

impl SparkSubmitProgram {
    /// The program for `in_task` apps (each named apart from the others and
    /// from the `submitted` ones, whose drivers use the same `driver:<app>`
    /// names); drivers without a `spark.driver.port` listen on `first_port`,
    /// `first_port + 1`… in the order the apps are given.
    pub fn new(
        master: ActorId,
        in_task: &[AppSpec],
        submitted: &[AppSpec],
        first_port: u32,
        book: DriverBook,
        installed: SparkInstalled,
    ) -> Result<SparkSubmitProgram, RunError> {
        let mut apps = BTreeMap::new();
        for (i, app) in in_task.iter().enumerate() {
            if submitted.iter().any(|s| s.name == app.name) {
                return Err(RunError::Unsupported(format!(
                    "app {}: an in-task app needs a name of its own; a submitted app is named {0} too",
                    app.name
                )));
            }
            let task_app = TaskApp { spec: app.clone(), port: first_port + i as u32 };
            if apps.insert(app.name.clone(), task_app).is_some() {
                return Err(RunError::Unsupported(format!(
                    "app {}: two in-task apps have this name, so a spark-submit line naming it would be ambiguous",
                    app.name
                )));
            }
        }
        Ok(SparkSubmitProgram { master, apps, book, installed, pending: Arc::default(), ensemble: false })
    }

    /// Whether the cluster runs a ZooKeeper ensemble (see `ensemble`).
    pub fn with_ensemble(mut self, ensemble: bool) -> SparkSubmitProgram {
        self.ensemble = ensemble;
        self
    }

    fn pending(&self) -> std::sync::MutexGuard<'_, BTreeMap<ActorId, ActorId>> {
        self.pending.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The driver name for a new container of app `name`: `driver:<name>`, or
    /// `driver:<name>-N` while that one runs or is handed out.
    fn claim(&self, world: &World, name: &str, agent: &ActorId) -> ActorId {
        let mut pending = self.pending();
        let free = |id: &ActorId| !world.is_alive(id) && !pending.contains_key(id);
        let id = (1..)
            .map(|n| if n == 1 { format!("driver:{name}") } else { format!("driver:{name}-{n}") })
            .map(ActorId::new)
            .find(free)
            .expect("an unbounded range has a free name");
        pending.insert(id.clone(), agent.clone());
        id
    }

    /// Start the driver process for `launch` (a fork of `executor` on `agent`).
    fn start_driver(&self, world: &World, executor: &ActorId, agent: &ActorId, launch: Launch) {
        let command = task_command(&launch.task);
        let fail = |status: i32, stderr: String| {
            world.container_event(&launch.actor, executor, &format!("spark-submit: {stderr}; exit {status}"));
            world.spawn(launch.actor.clone(), ExitAtStart(status), Some(executor.clone()));
        };
        let Some(line) = submit_line(&command) else {
            return fail(1, "no spark-submit in the command".into());
        };
        // A container without Spark (the host's, or its image's) has no
        // `spark-submit`, unless the task fetched Spark and runs it from the
        // sandbox (`cd spark-*; bin/spark-submit`).
        if self.installed.missing(agent, &launch) && !command.trim_start().starts_with("cd ") {
            let word = line.split_whitespace().next().unwrap_or("spark-submit");
            return fail(127, format!("sh: 1: {word}: not found"));
        }
        let submit = match parse_spark_submit(line) {
            Ok(s) => s,
            // SparkSubmitArguments' `error(…)`: the message, then exit 1.
            Err(e) => return fail(1, format!("Error: {}", e.message)),
        };
        if submit.deploy_mode == DeployMode::Cluster {
            return fail(1, "Error: a cluster-mode spark-submit inside a Mesos task is not modelled".into());
        }
        let name = SparkConf::resolve(&BTreeMap::new(), &submit).app_name().to_string();
        let Some(app) = self.apps.get(&name) else {
            return match &submit.class {
                Some(class) => fail(CLASS_NOT_FOUND_EXIT_STATUS, format!("Error: Failed to load class {class}.")),
                None => fail(1, "Error: No main class set in JAR; please specify one with --class.".into()),
            };
        };
        // The declared app's conf stands in for spark-defaults.conf under the
        // line; `-Dspark.*` in SPARK_SUBMIT_OPTS (the dispatcher passes the
        // driver's framework id so) are JVM system properties, which SparkConf
        // loads over the defaults.
        let mut defaults = app.spec.conf.0.clone();
        // A cluster-mode declaration's own submission keys are not the driver's.
        defaults.remove("spark.submit.deployMode");
        defaults.remove("spark.master");
        defaults.extend(system_properties(&launch.task));
        let conf = SparkConf::resolve(&defaults, &submit);
        let settings = match spark_settings(&conf).and_then(|s| Ok((s, ask_timeout(&conf)?))) {
            Ok(s) => s,
            Err(e) => return fail(1, format!("Exception in thread \"main\" org.apache.spark.SparkException: {e}")),
        };
        let (settings, asks) = settings;
        let port = match conf.u32("spark.driver.port", 0).unwrap_or(0) {
            0 => app.port,
            p => p,
        };
        let url = format!("spark://CoarseGrainedScheduler@{}:{port}", launch.host);
        self.book.insert(
            url.clone(),
            SparkDriverAddress {
                driver: launch.actor.clone(),
                heartbeat_interval: settings.heartbeat_interval,
                ask_timeout: asks,
            },
        );
        let cfg = DriverConfig {
            me: launch.actor.clone(),
            master: self.master.clone(),
            app_name: name.clone(),
            user: "root".into(),
            hostname: launch.host.clone(),
            properties: driver_properties(&conf, &name, &launch.host, port),
            driver_url: url,
            settings,
            workload: workload(&name, &app.spec.jobs, |label| world.rng_for(label).next_u64()),
            framework_id: None,
            host_files: app.spec.files.clone(),
            // The line's own `--master`: the dispatcher passes on its
            // `mesos://zk://…`, so a driver it launches follows the leader.
            zk: super::apps::zk_session(self.ensemble, &submit.master),
        };
        world.container_event(
            &launch.actor,
            executor,
            &format!("spark-submit: driver of {name} starts on {} in task {}", launch.host, launch.task.task_id.value),
        );
        world.spawn(launch.actor.clone(), SparkDriver::new(cfg), Some(executor.clone()));
    }
}

impl Program for SparkSubmitProgram {
    fn name(&self) -> &str {
        "spark-submit"
    }

    /// A command task (no executor of its own) whose command runs spark-submit.
    fn runs(&self, launch: &Launch) -> bool {
        launch.task.executor.is_none() && submit_line(&task_command(&launch.task)).is_some()
    }

    fn start(&self, world: &World, parent: &ActorId, launch: Launch) {
        // The fork of a command executor this program started: the driver.
        let agent = self.pending().remove(&launch.actor);
        if let Some(agent) = agent {
            return self.start_driver(world, parent, &agent, launch);
        }
        // The container: Mesos's command executor, whose command is the driver's process.
        let command = task_command(&launch.task);
        let name = submit_line(&command)
            .and_then(|line| parse_spark_submit(line).ok())
            .map(|s| SparkConf::resolve(&BTreeMap::new(), &s).app_name().to_string())
            .unwrap_or_else(|| "spark-submit".into());
        let process = Launch { actor: self.claim(world, &name, parent), ..launch.clone() };
        let cfg =
            CommandExecutorConfig::for_launch(launch.actor.clone(), parent.clone(), &launch).with_process(process);
        world.container_event(
            &launch.actor,
            parent,
            &format!("container started on {} for task {}", launch.host, launch.task.task_id.value),
        );
        world.spawn(launch.actor, MesosCommandExecutor::new(cfg), Some(parent.clone()));
    }
}

/// The `-Dspark.key=value` words of the task's `SPARK_SUBMIT_OPTS`.
fn system_properties(task: &TaskInfo) -> Vec<(String, String)> {
    let env = task.command.as_ref().and_then(|c| c.environment.as_ref());
    let opts = env.into_iter().flat_map(|e| &e.variables).filter(|v| v.name == "SPARK_SUBMIT_OPTS");
    opts.filter_map(|v| v.value.as_deref())
        .flat_map(str::split_whitespace)
        .filter_map(|w| w.strip_prefix("-D")?.split_once('='))
        .filter(|(k, _)| k.starts_with("spark."))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The text the command executor runs: `CommandInfo.value` under a shell, the
/// arguments joined without one.
fn task_command(task: &TaskInfo) -> String {
    let Some(c) = &task.command else { return String::new() };
    match c.shell {
        Some(false) => c.arguments.join(" "),
        _ => c.value.clone().unwrap_or_default(),
    }
}

/// The spark-submit command of a shell line: the first of its `;`/`&&`-joined
/// commands whose program is `spark-submit` (or a path ending in it), e.g.
/// `bin/spark-submit …` in the dispatcher's `cd spark-*; bin/spark-submit …`.
pub fn submit_line(command: &str) -> Option<&str> {
    let mut quote = None;
    let mut start = 0;
    let bytes = command.as_bytes();
    let mut i = 0;
    let mut pieces = Vec::new();
    while i < bytes.len() {
        let c = bytes[i];
        match (quote, c) {
            (Some(q), _) if c == q => quote = None,
            (Some(_), b'\\') => i += 1,
            (Some(_), _) => {}
            (None, b'\'' | b'"') => quote = Some(c),
            (None, b'\\') => i += 1,
            (None, b';') => {
                pieces.push(&command[start..i]);
                start = i + 1;
            }
            (None, b'&') if bytes.get(i + 1) == Some(&b'&') => {
                pieces.push(&command[start..i]);
                start = i + 2;
                i += 1;
            }
            _ => {}
        }
        i += 1;
    }
    pieces.push(&command[start.min(command.len())..]);
    pieces.into_iter().map(str::trim).find(|p| {
        let program = p.split_whitespace().next().unwrap_or_default();
        program == "spark-submit" || program.ends_with("/spark-submit")
    })
}

/// A process that exits with a status as soon as it starts (a spark-submit
/// that fails before its driver exists; its complaint is a timeline event).
#[derive(Clone, Copy, Debug)]
struct ExitAtStart(i32);

impl Actor for ExitAtStart {
    type Timer = ();

    fn handle(&mut self, input: Input<()>, out: &mut Outbox<()>) {
        if input == Input::Start {
            out.exit(self.0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_submit_line_is_found_after_a_cd_and_in_a_plain_command() {
        let line = "cd spark-3*; bin/spark-submit --name pi --conf 'a=b;c' pi.jar";
        assert_eq!(submit_line(line), Some("bin/spark-submit --name pi --conf 'a=b;c' pi.jar"));
        assert_eq!(
            submit_line("  /opt/spark/bin/spark-submit --class A a.jar"),
            Some("/opt/spark/bin/spark-submit --class A a.jar")
        );
        assert_eq!(submit_line("true && spark-submit x.jar"), Some("spark-submit x.jar"));
        assert_eq!(submit_line("sleep 10"), None);
        assert_eq!(submit_line("echo spark-submit"), None);
        assert_eq!(submit_line(""), None);
    }
}
