//! Spark's REST submission protocol on the wire, end to end: spark-submit in
//! cluster mode and the scenario's `--kill` / `--status` are processes of
//! their own whose requests and the dispatcher's responses are messages in
//! the trace, under the network's faults like any other.

mod common;

use common::Buffer;
use mesocosm::cluster::{Report, Runtime};
use mesocosm::registry::Registry;
use mesocosm::{runner, scenario};
use mesocosm_sim::Transport;

const CLUSTER: &str = r#"
[scenario]
name = "rest"
seed = 9
until = "2m"

[[agents]]
name = "agent"
count = 2
resources = "cpus:4;mem:8192;disk:20000;ports:[31000-32000]"

[dispatcher]
conf = { "spark.home" = "/opt/spark" }

[[apps]]
submit = "spark-submit --deploy-mode cluster --master mesos://dispatcher:7077 --name pi --class org.apache.spark.examples.SparkPi --conf spark.cores.max=2 pi.jar"
at = "1s"
  [[apps.jobs]]
    [[apps.jobs.stages]]
    tasks = 400
    duration = "1s"
"#;

fn run(extra: &str, transport: Transport) -> (Report, String) {
    let s = scenario::parse("rest.toml", &format!("{CLUSTER}\n{extra}")).unwrap_or_else(|d| panic!("{d}"));
    let timeline = Buffer::default();
    let runtime = Runtime { transport, timeline: Some(Box::new(timeline.clone())), ..Runtime::default() };
    let report = runner::cluster(&s, s.seed, &Registry::default()).unwrap().run(runtime).unwrap();
    let text = timeline.text();
    (report, text)
}

/// The timeline's message lines `from → to  kind  summary`, as (kind, summary).
fn messages<'a>(timeline: &'a str, from: &str, to: &str) -> Vec<(&'a str, &'a str)> {
    let arrow = format!("  {from} → {to}  ");
    timeline
        .lines()
        .filter_map(|l| l.split_once(&arrow).map(|(_, rest)| rest))
        .map(|rest| rest.split_once("  ").unwrap_or((rest, "")))
        .collect()
}

#[test]
fn the_create_and_its_answer_are_messages_and_the_id_is_the_drivers_task() {
    for transport in [Transport::Grpc, Transport::Memory] {
        let kill = "[[dispatcher.requests]]\nkill = \"pi\"\nat = \"20s\"\n";
        let (report, timeline) = run(kill, transport);
        assert!(report.passed(), "{:#?} {:#?}", report.checks, report.expectations);
        let asked = messages(&timeline, "spark-submit:pi", "scheduler:dispatcher");
        assert_eq!(asked[0].0, "CreateSubmissionRequest", "{asked:?}");
        assert!(asked[0].1.starts_with("org.apache.spark.examples.SparkPi pi.jar"), "{asked:?}");
        let answered = messages(&timeline, "scheduler:dispatcher", "spark-submit:pi");
        assert_eq!(answered[0].0, "CreateSubmissionResponse");
        let id = answered[0].1.strip_prefix("success=true ").expect("a successful create").trim();
        assert!(id.starts_with("driver-19700101000001-"), "{id}");
        // The driver's task carries the submission id spark-submit was given.
        let launch = messages(&timeline, "scheduler:dispatcher", "master")
            .into_iter()
            .find(|(k, s)| *k == "ACCEPT" && s.contains("LAUNCH"))
            .expect("the driver's launch");
        assert!(launch.1.contains(&format!("LAUNCH task {id} \"Driver for pi\"")), "{launch:?}");
        // spark-submit polls once, then exits 0; the kill names the same id.
        assert_eq!(asked[1], ("SubmissionStatusRequest", id));
        let kill = messages(&timeline, "spark-submit:kill:pi", "scheduler:dispatcher");
        assert_eq!(kill, [("KillSubmissionRequest", id)]);
        let killed = messages(&timeline, "scheduler:dispatcher", "spark-submit:kill:pi");
        assert_eq!(
            killed,
            [("KillSubmissionResponse", format!("success=true {id} \"Killing running driver\"").as_str())]
        );
        assert!(timeline.contains("spark-submit:pi  exited with status 0"), "{timeline}");
    }
}

#[test]
fn a_lost_create_leaves_spark_submit_waiting_10_s_then_it_fails_and_no_driver_runs() {
    let drop = r#"
[[faults]]
drop = "CreateSubmissionRequest"
from = "spark-submit:pi"

[[expect]]
app = "spark-submit:pi"
fails = true

[[expect]]
count = "CreateSubmissionResponse"
exactly = 0

[[expect]]
count = "RunTaskMessage"
exactly = 0
"#;
    let (report, timeline) = run(drop, Transport::Memory);
    assert!(report.passed(), "{:#?} {:#?}", report.checks, report.expectations);
    // Sent at 1 s, given up at 11 s: readResponse's 10 s wait.
    assert!(timeline.contains("11.000000s  spark-submit:pi  exited with status 1"), "{timeline}");
    let summary = report.summary_lines().join("\n");
    assert!(summary.contains("Unable to connect to server mesos://dispatcher:7077."), "{summary}");
}
