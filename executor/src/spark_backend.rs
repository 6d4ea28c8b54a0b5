//! Spark's executor as a [`Program`]: the container of a task whose command runs
//! `CoarseGrainedExecutorBackend`.

use crate::command::parse_backend_command;
use crate::executor::{DEFAULT_ASK_TIMEOUT, ExecutorConfig, SparkExecutor};
use crate::program::Program;
use mesocosm_sim::{ActorId, Launch, World};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// `spark.executor.heartbeatInterval`'s default (10 s), for a backend that
/// cannot find its driver (it never heartbeats, but its config needs one).
pub const DEFAULT_HEARTBEAT_INTERVAL: Duration = Duration::from_secs(10);

/// Where a Spark driver listens, as its executors reach it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SparkDriverAddress {
    /// The driver's actor.
    pub driver: ActorId,
    /// The app's `spark.executor.heartbeatInterval`.
    pub heartbeat_interval: Duration,
    /// The app's `spark.rpc.askTimeout`.
    pub ask_timeout: Duration,
}

/// The drivers' address book: where each driver URL executors are given
/// (`spark://CoarseGrainedScheduler@<host>:<port>`) reaches. Shared, because a
/// driver that runs inside a Mesos task gets its host only when its task is
/// placed: its process writes its URL here as it starts, before any executor
/// of it can be launched. Entries are keyed by URL, so a driver relaunched on
/// another host is found at its new address.
#[derive(Clone, Debug, Default)]
pub struct DriverBook(Arc<Mutex<BTreeMap<String, SparkDriverAddress>>>);

impl DriverBook {
    /// A book holding `drivers`.
    pub fn new(drivers: BTreeMap<String, SparkDriverAddress>) -> DriverBook {
        DriverBook(Arc::new(Mutex::new(drivers)))
    }

    /// The driver listening at `url`, if any.
    pub fn get(&self, url: &str) -> Option<SparkDriverAddress> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).get(url).cloned()
    }

    /// A driver starts listening at `url`.
    pub fn insert(&self, url: String, address: SparkDriverAddress) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).insert(url, address);
    }
}

/// The program that runs Spark executors: Mesos's command executor forking
/// `CoarseGrainedExecutorBackend`, played by one [`SparkExecutor`] actor.
///
/// ```
/// use mesocosm_executor::{Programs, SparkDriverAddress, SparkExecutorBackend};
/// use mesocosm_sim::ActorId;
/// use std::time::Duration;
///
/// let book = [(
///     "spark://CoarseGrainedScheduler@edge:7078".to_string(),
///     SparkDriverAddress {
///         driver: ActorId::new("driver:pi"),
///         heartbeat_interval: Duration::from_secs(10),
///         ask_timeout: Duration::from_secs(120),
///     },
/// )];
/// let spark = SparkExecutorBackend::new(book.into_iter().collect(), ["agent-3".to_string()].into());
/// let programs = Programs::with_mesos_command_executor().with(spark);
/// assert_eq!(programs.names(), ["spark-executor-backend", "mesos-command-executor"]);
/// ```
#[derive(Clone, Debug, Default)]
pub struct SparkExecutorBackend {
    /// Drivers by the URL executors are given (`--driver-url`).
    drivers: DriverBook,
    /// Agents (by actor name) whose hosts have no Spark installed.
    installed: SparkInstalled,
}

/// Where Spark is installed: the hosts that lack it, and for each declared
/// image whether Spark is in it. A container with an image runs the image's
/// Spark, one without runs the host's (so the image decides inside Docker,
/// the host outside it). An image not named is taken to have Spark (the seed's
/// images are built with it).
#[derive(Clone, Debug, Default)]
pub struct SparkInstalled {
    /// Agents (by actor name) whose hosts have no Spark installed.
    without_spark: BTreeSet<String>,
    /// Declared images and whether Spark is installed in each.
    in_image: BTreeMap<String, bool>,
}

impl SparkInstalled {
    /// Spark missing on the hosts of `without_spark`; `in_image` per image.
    pub fn new(without_spark: BTreeSet<String>, in_image: BTreeMap<String, bool>) -> SparkInstalled {
        SparkInstalled { without_spark, in_image }
    }

    /// Whether the container `launch` starts on `agent` lacks Spark: the
    /// image's declaration for a launch with an image, the host's otherwise.
    pub fn missing(&self, agent: &ActorId, launch: &Launch) -> bool {
        match launch.docker_image().map(|(image, _)| image) {
            Some(image) => self.in_image.get(&image) == Some(&false),
            None => self.without_spark.contains(agent.as_str()),
        }
    }
}

impl SparkExecutorBackend {
    /// A backend that reaches `drivers` by URL, on every agent except
    /// `without_spark` (agent actor names), where `spark-class` is missing
    /// unless the task fetched Spark itself.
    pub fn new(drivers: BTreeMap<String, SparkDriverAddress>, without_spark: BTreeSet<String>) -> SparkExecutorBackend {
        SparkExecutorBackend {
            drivers: DriverBook::new(drivers),
            installed: SparkInstalled::new(without_spark, BTreeMap::new()),
        }
    }

    /// A backend that reaches the drivers of `book`, which may grow while the
    /// cluster runs (drivers inside Mesos tasks).
    pub fn with_book(book: DriverBook, without_spark: BTreeSet<String>) -> SparkExecutorBackend {
        SparkExecutorBackend { drivers: book, installed: SparkInstalled::new(without_spark, BTreeMap::new()) }
    }

    /// Which images have Spark installed: an executor in a container image
    /// runs the image's `spark-class`, not the host's. An image not named here
    /// is taken to have it (the seed's images are built with Spark).
    pub fn with_images(mut self, spark_in_image: BTreeMap<String, bool>) -> SparkExecutorBackend {
        self.installed.in_image = spark_in_image;
        self
    }

    /// Whether the container's filesystem lacks Spark: the image's declaration
    /// for a launch with an image, the host's otherwise.
    fn lacks_spark(&self, agent: &ActorId, launch: &Launch) -> bool {
        self.installed.missing(agent, launch)
    }
}

impl Program for SparkExecutorBackend {
    fn name(&self) -> &str {
        "spark-executor-backend"
    }

    /// The task's command runs Spark's executor backend (`createCommand` in
    /// Spark's Mesos backend always names the class).
    fn runs(&self, launch: &Launch) -> bool {
        task_command(launch).contains("CoarseGrainedExecutorBackend")
    }

    fn start(&self, world: &World, agent: &ActorId, launch: Launch) {
        let command = task_command(&launch);
        // The container runs the task's command: it needs Spark on the host (in
        // its image, for a container with one) unless it fetched Spark itself,
        // and it can only reach a driver that exists.
        let backend = spark_class_missing(&command, self.lacks_spark(agent, &launch))
            .map_or_else(|| parse_backend_command(&command), Err)
            .and_then(|args| match self.drivers.get(&args.driver_url) {
                Some(d) => Ok((args, d)),
                None => Err(format!("no driver listens at {}", args.driver_url)),
            });
        let (heartbeat, asks) = match &backend {
            Ok((_, d)) => (d.heartbeat_interval, d.ask_timeout),
            Err(_) => (DEFAULT_HEARTBEAT_INTERVAL, DEFAULT_ASK_TIMEOUT),
        };
        let core = SparkExecutor::new(ExecutorConfig {
            me: launch.actor.clone(),
            agent: agent.clone(),
            executor_id: launch.executor.executor_id.clone(),
            framework_id: launch.framework.id.clone().unwrap_or_default(),
            backend: backend.map(|(args, d)| (args, d.driver)),
            heartbeat_interval: heartbeat,
            ask_timeout: asks,
        });
        world.container_event(
            &launch.actor,
            agent,
            &format!("container started on {} for task {}", launch.host, launch.task.task_id.value),
        );
        world.spawn(launch.actor.clone(), core, Some(agent.clone()));
    }
}

fn task_command(launch: &Launch) -> String {
    launch.task.command.as_ref().and_then(|c| c.value.clone()).unwrap_or_default()
}

/// The shell's complaint when the command runs `bin/spark-class` on a host
/// without Spark. A command that starts with `cd` runs from a Spark it fetched
/// (`spark.executor.uri`), so it needs none installed.
pub fn spark_class_missing(command: &str, host_without_spark: bool) -> Option<String> {
    if !host_without_spark || command.trim_start().starts_with("cd ") {
        return None;
    }
    let word = command.split_whitespace().find(|w| w.contains("bin/spark-class"))?;
    Some(format!("sh: 1: {}: not found", word.trim_matches('"')))
}

#[cfg(test)]
mod tests {
    use super::*;
    use mesocosm_sim::proto::mesos::v1::{CommandInfo, TaskInfo};

    fn launch_of(command: &str) -> Launch {
        Launch {
            actor: ActorId::new("executor:pi/0"),
            host: "agent-1".into(),
            framework: Default::default(),
            agent: Default::default(),
            task: TaskInfo {
                command: Some(CommandInfo { value: Some(command.into()), ..Default::default() }),
                ..Default::default()
            },
            executor: Default::default(),
        }
    }

    #[test]
    fn runs_the_commands_spark_builds_and_nothing_else() {
        let spark = SparkExecutorBackend::default();
        assert!(spark.runs(&launch_of(
            "\"/opt/spark/./bin/spark-class\" org.apache.spark.executor.CoarseGrainedExecutorBackend --cores 1"
        )));
        assert!(!spark.runs(&launch_of("sleep 2")));
        assert!(!spark.runs(&launch_of("")));
    }

    #[test]
    fn spark_class_is_missing_only_on_hosts_without_spark_that_did_not_fetch_it() {
        let c = "\"/opt/spark/./bin/spark-class\" org.apache.spark.executor.CoarseGrainedExecutorBackend";
        assert_eq!(spark_class_missing(c, true).as_deref(), Some("sh: 1: /opt/spark/./bin/spark-class: not found"));
        assert_eq!(spark_class_missing(c, false), None);
        assert_eq!(spark_class_missing(&format!("cd spark-3*;  {c}"), true), None);
    }

    #[test]
    fn inside_an_image_the_image_decides_whether_spark_is_there() {
        use mesocosm_sim::proto::mesos::v1::{ContainerInfo, container_info};
        let docker = |image: &str| {
            let mut l = launch_of("spark-class");
            l.task.container = Some(ContainerInfo {
                r#type: container_info::Type::Docker as i32,
                docker: Some(container_info::DockerInfo { image: image.into(), ..Default::default() }),
                ..Default::default()
            });
            l
        };
        let spark = SparkExecutorBackend::new(BTreeMap::new(), ["agent-1".to_string()].into())
            .with_images([("bare:1".to_string(), false), ("spark:1".to_string(), true)].into());
        let agent = ActorId::new("agent-1");
        // The host has no Spark, but these containers run their image's.
        assert!(!spark.lacks_spark(&agent, &docker("spark:1")));
        assert!(!spark.lacks_spark(&agent, &docker("undeclared:1")));
        assert!(spark.lacks_spark(&agent, &docker("bare:1")));
        // No image: the host decides.
        assert!(spark.lacks_spark(&agent, &launch_of("spark-class")));
        assert!(!spark.lacks_spark(&ActorId::new("agent-2"), &launch_of("spark-class")));
    }
}
