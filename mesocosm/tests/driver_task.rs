//! A Spark driver inside a Mesos task: a framework launches a command task
//! whose command is a spark-submit line (as Marathon and the dispatcher do),
//! and the task's process is the app's real client-mode driver.

mod common;

use common::Buffer;
use mesocosm::cluster::{Report, Runtime};
use mesocosm::registry::Registry;
use mesocosm::{runner, scenario};
use mesocosm_scheduler::{Context, MesosSchedulerDriver, Scheduler, framework, offered, task};
use mesocosm_sim::Transport;
use mesocosm_sim::proto::Resources;
use mesocosm_sim::proto::v1::{ContainerInfo, Offer, TaskState, TaskStatus, container_info};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The states (and messages) the launcher saw for its task.
type Seen = Arc<Mutex<Vec<(TaskState, String, String)>>>;

/// Launches one command task running `command` on the first offer that fits
/// 1 cpu and 1 GiB, then stays until the task is terminal.
struct Launcher {
    command: String,
    /// A Docker image for the task's container (as Marathon's DOCKER apps), if any.
    image: Option<String>,
    launched: bool,
    seen: Seen,
}

impl Scheduler for Launcher {
    type Timer = ();

    fn offers(&mut self, ctx: &mut Context<'_, ()>, offers: Vec<Offer>) {
        let mut need = Resources::scalar_of("cpus", 1.0);
        need.add_scalar("mem", 1024.0);
        for o in offers {
            if !self.launched && offered(&o).contains(&need) {
                self.launched = true;
                let mut t = task("driver-task", &o, &need, &self.command);
                t.container = self.image.as_ref().map(|image| ContainerInfo {
                    r#type: container_info::Type::Docker as i32,
                    docker: Some(container_info::DockerInfo { image: image.clone(), ..Default::default() }),
                    ..Default::default()
                });
                ctx.accept(&o, vec![t]);
            } else {
                ctx.decline(&o, Some(3600.0));
            }
        }
    }

    fn update(&mut self, ctx: &mut Context<'_, ()>, status: &TaskStatus) {
        let agent = status.agent_id.as_ref().map(|a| a.value.clone()).unwrap_or_default();
        self.seen.lock().unwrap().push((status.state(), status.message.clone().unwrap_or_default(), agent));
        if matches!(status.state(), TaskState::TaskFinished | TaskState::TaskFailed | TaskState::TaskKilled) {
            ctx.stop(0);
        }
    }
}

const CLUSTER: &str = r#"
[scenario]
name = "driver-task"
seed = 7
until = "5m"

[[agents]]
name = "agent"
count = 2
resources = "cpus:4;mem:4096;disk:20000;ports:[31000-32000]"

[[apps]]
submit = "spark-submit --master mesos://master:5050 --name pi --class org.apache.spark.examples.SparkPi --conf spark.cores.max=2 pi.jar"
in_task = true
  [[apps.jobs]]
  name = "reduce at SparkPi.scala:38"
    [[apps.jobs.stages]]
    tasks = 8
    duration = "1s"
"#;

struct Run {
    report: Report,
    seen: Vec<(TaskState, String, String)>,
    timeline: String,
}

fn run(extra: &str, command: &str) -> Run {
    run_text(&format!("{CLUSTER}\n{extra}"), command, None)
}

fn run_text(text: &str, command: &str, image: Option<&str>) -> Run {
    let s = scenario::parse("driver-task.toml", text).unwrap_or_else(|d| panic!("{d}"));
    let seen = Seen::default();
    let (seen2, command, image) = (seen.clone(), command.to_string(), image.map(str::to_string));
    let builder =
        runner::cluster(&s, s.seed, &Registry::default()).unwrap().framework("launcher", Duration::ZERO, move |ctx| {
            let launcher =
                Launcher { command: command.clone(), image: image.clone(), launched: false, seen: seen2.clone() };
            MesosSchedulerDriver::new(ctx.master_url(), framework("launcher"), launcher)
        });
    let timeline = Buffer::default();
    let runtime =
        Runtime { transport: Transport::Memory, timeline: Some(Box::new(timeline.clone())), ..Runtime::default() };
    let report = builder.run(runtime).unwrap();
    let seen = seen.lock().unwrap().clone();
    let timeline = timeline.text();
    Run { report, seen, timeline }
}

fn states(seen: &[(TaskState, String, String)]) -> Vec<TaskState> {
    seen.iter().map(|s| s.0).collect()
}

const PI: &str = "spark-submit --master mesos://master:5050 --name pi --class org.apache.spark.examples.SparkPi pi.jar";

#[test]
fn a_task_whose_command_is_spark_submit_runs_the_driver_and_finishes_with_it() {
    // The driver registers as its own framework and its executors dial it
    // at the agent's host, where its task runs.
    let expect = r#"
[[expect]]
count = "SUBSCRIBE"
from = "driver:pi"
exactly = 1

[[expect]]
count = "RegisterExecutor"
to = "driver:pi"
at_least = 1

[[expect]]
count = "TEARDOWN"
from = "driver:pi"
exactly = 1
"#;
    let Run { report, seen, timeline } = run(expect, PI);
    assert!(report.passed(), "{:#?} {:#?}", report.checks, report.expectations);
    assert_eq!(states(&seen), [TaskState::TaskStarting, TaskState::TaskRunning, TaskState::TaskFinished]);
    assert_eq!(seen[2].1, "Command exited with status 0");
    assert!(timeline.contains("spark-submit: driver of pi starts on agent-"), "{timeline}");
    assert!(timeline.contains("driver:pi  exited with status 0"), "{timeline}");
}

#[test]
fn the_dispatchers_cd_and_bin_spark_submit_form_runs_too() {
    let line = "cd spark-3*; bin/spark-submit --name pi --master mesos://master:5050 --driver-cores 1.0 \
                --class org.apache.spark.examples.SparkPi pi.jar";
    let Run { report, seen, timeline } = run("", line);
    assert!(report.passed(), "{:#?}", report.checks);
    assert_eq!(states(&seen).last(), Some(&TaskState::TaskFinished));
    assert!(timeline.contains("spark-submit: driver of pi starts on agent-"), "{timeline}");
}

#[test]
fn a_line_naming_no_declared_app_fails_as_spark_submit_does_without_the_class() {
    let line = "spark-submit --master mesos://master:5050 --class com.example.Missing app.jar";
    let Run { seen, timeline, .. } = run("", line);
    assert_eq!(states(&seen), [TaskState::TaskStarting, TaskState::TaskRunning, TaskState::TaskFailed]);
    assert_eq!(seen[2].1, "Command exited with status 101");
    assert!(timeline.contains("Error: Failed to load class com.example.Missing.; exit 101"), "{timeline}");
}

#[test]
fn killing_the_drivers_agent_ends_the_driver_and_the_task() {
    // Killing the agents at 3 s (mid-job) takes the driver down with its
    // task: it never tears its framework down, and the task never finishes.
    let faults = r#"
[[faults]]
kill = "agent-*"
at = "3s"

[[expect]]
count = "TEARDOWN"
from = "driver:pi"
exactly = 0
"#;
    let Run { report, seen, timeline } = run(faults, PI);
    assert!(report.expectations.iter().all(|e| e.held), "{:#?}", report.expectations);
    assert!(!states(&seen).contains(&TaskState::TaskFinished), "{seen:?}");
    // The command executor lost its agent, shut down and SIGTERMed its
    // command: the driver process ends with 143.
    assert!(timeline.contains("driver:pi  exited with status 143"), "{timeline}");
}

#[test]
fn an_in_task_app_takes_no_submission_time_or_host() {
    let text = CLUSTER.replace("in_task = true", "in_task = true\nat = \"5s\"\nhost = \"edge\"");
    let Err(err) = scenario::parse("driver-task.toml", &text) else { panic!("accepted") };
    let err = err.to_string();
    assert!(err.contains("driver-task.toml:15:6"), "{err}");
    assert!(err.contains("`at` does not apply to an app with `in_task = true`"), "{err}");
    assert!(err.contains("`host` does not apply"), "{err}");
}

/// Agents without Spark on the host, and a registry with two images: one
/// built with Spark, one without.
fn without_spark_on_hosts() -> String {
    let images = r#"
[registry]
bandwidth = "1GB/s"
  [[registry.layers]]
  digest = "sha256:spark"
  size = "10MB"
  [[registry.images]]
  name = "spark:3.5"
  layers = ["sha256:spark"]
  [[registry.images]]
  name = "alpine:3"
  layers = ["sha256:spark"]
  spark = false
"#;
    // Its executors run in the image too, as the seed's Marathon app sets.
    CLUSTER.replace("count = 2\n", "count = 2\nspark_installed = false\n").replace(
        "--conf spark.cores.max=2",
        "--conf spark.cores.max=2 --conf spark.mesos.executor.docker.image=spark:3.5",
    ) + images
}

#[test]
fn inside_an_image_the_image_decides_whether_spark_submit_is_there() {
    // A host without Spark has no spark-submit outside a container...
    let Run { seen, timeline, .. } = run_text(&without_spark_on_hosts(), PI, None);
    assert_eq!(states(&seen).last(), Some(&TaskState::TaskFailed), "{timeline}");
    assert!(timeline.contains("sh: 1: spark-submit: not found; exit 127"), "{timeline}");
    // ...but a Docker image built with Spark has one (the seed's Marathon app)...
    let Run { report, seen, timeline } = run_text(&without_spark_on_hosts(), PI, Some("spark:3.5"));
    assert!(report.passed(), "{:#?}", report.checks);
    assert_eq!(states(&seen).last(), Some(&TaskState::TaskFinished), "{timeline}");
    assert!(timeline.contains("spark-submit: driver of pi starts on agent-"), "{timeline}");
    // ...and an image declared without Spark has none, whatever the host has.
    let Run { seen, timeline, .. } = run_text(&without_spark_on_hosts(), PI, Some("alpine:3"));
    assert_eq!(states(&seen).last(), Some(&TaskState::TaskFailed), "{timeline}");
    assert!(timeline.contains("sh: 1: spark-submit: not found; exit 127"), "{timeline}");
}
