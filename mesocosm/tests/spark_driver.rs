//! Whole runs that show the Spark driver's behaviours: huge stages, apps
//! that can never be placed, registered-resources waits, credential files.

use mesocosm::runner::{self, RunOptions};
use mesocosm::scenario::{self, Scenario};
use mesocosm_sim::Transport;
use std::path::Path;

fn parse(src: &str) -> Scenario {
    let mut none = |p: &Path| -> std::io::Result<String> {
        Err(std::io::Error::new(std::io::ErrorKind::NotFound, format!("{}: not in this test", p.display())))
    };
    scenario::parse_with_reader("tests/inline.toml", src, &mut none).unwrap_or_else(|d| panic!("{d}"))
}

fn run(src: &str) -> runner::Report {
    runner::run(&parse(src), RunOptions { transport: Transport::Memory, ..RunOptions::default() }).expect("the run")
}

#[test]
fn a_stage_of_ten_million_tasks_runs_in_memory_that_follows_the_tasks_alive() {
    let r = run(r#"
[scenario]
name = "huge-stage"
seed = 7
until = "20s"

[[agents]]
name = "agent"
count = 2
resources = "cpus:4;mem:8192"

[[apps]]
submit = "spark-submit --master mesos://master:5050 --name huge --conf spark.cores.max=8 app.jar"
  [[apps.jobs]]
  name = "count"
    [[apps.jobs.stages]]
    tasks = 10000000
    duration = { uniform = ["1s", "2s"] }

[[expect]]
app = "huge"
running = true
"#);
    let d = r.frameworks[0].details::<mesocosm_driver::DriverReport>().expect("a Spark app");
    assert!(d.tasks_finished > 40, "tasks ran: {}", d.tasks_finished);
    // Eight running tasks, a few runs of finished and pending partitions.
    assert!(d.task_state_entries < 64, "the scheduler holds {} entries", d.task_state_entries);
}

fn summary(r: &runner::Report) -> String {
    let mut out = Vec::new();
    r.render(&mut out).expect("render");
    String::from_utf8(out).expect("utf-8")
}

/// One app (`spark-submit` options `opts`) on `agents`, run for 40 s.
fn unplaceable(agents: &str, opts: &str) -> String {
    let src = format!(
        r#"
[scenario]
name = "unplaceable"
seed = 3
until = "40s"
{agents}
[[apps]]
submit = "spark-submit --master mesos://master:5050 --name stuck {opts} app.jar"
  [[apps.jobs]]
  name = "count"
    [[apps.jobs.stages]]
    tasks = 4
    duration = "1s"

[[expect]]
app = "stuck"
running = true
"#
    );
    let r = run(&src);
    assert!(r.passed(), "{}", summary(&r));
    let text = summary(&r);
    let line = text.lines().find(|l| l.starts_with("    never placed")).unwrap_or_else(|| panic!("{text}"));
    line.to_string()
}

#[test]
fn the_summary_says_why_an_app_could_never_be_placed() {
    let small = "[[agents]]\nname = \"agent\"\ncount = 2\nresources = \"cpus:2;mem:2048\"\n";
    assert_eq!(
        unplaceable(small, "--executor-memory 4g"),
        "    never placed (2 warning(s)): Initial job has not accepted any resources; check your cluster UI to \
         ensure that workers are registered and have sufficient resources (spark.starvation.timeout): an executor \
         needs cpus:1 mem:4505 (spark.executor.cores unset: a whole cpu at least, spark.executor.memory 4096 + \
         overhead) but the largest offer was cpus:2 mem:2048"
    );
    assert!(
        unplaceable(small, "--conf spark.cores.max=0")
            .ends_with("spark.cores.max = 0 allows no executor (SPARK-20483 rounds it down to whole executors)")
    );
    assert!(unplaceable("", "").ends_with(
        "no offer has reached the app: no agent has registered with the master, or the master offers every agent's \
         resources to other frameworks"
    ));
}

#[test]
fn a_set_attribute_is_refused_at_its_line() {
    let src = "[scenario]\nname = \"x\"\n\n[[agents]]\nname = \"agent\"\nresources = \"cpus:4;mem:8192\"\nattributes = \"rack:r1;os:{linux,x86}\"\n";
    let mut none = |_: &Path| -> std::io::Result<String> { Err(std::io::ErrorKind::NotFound.into()) };
    let d = scenario::parse_with_reader("t.toml", src, &mut none).expect_err("a set attribute");
    let text = d.to_string();
    assert!(text.contains("t.toml:7:"), "{text}");
    assert!(text.contains("a set is not an attribute value"), "{text}");
}

#[test]
fn a_constraint_on_a_ranges_attribute_aborts_libmesos_and_the_summary_says_so() {
    let agents = "[[agents]]\nname = \"agent\"\nresources = \"cpus:4;mem:8192\"\nattributes = \"slots:[1-10]\"\n";
    assert!(unplaceable(agents, "--conf spark.mesos.constraints=slots:5").ends_with(
        "the Mesos scheduler driver was aborted (scala.MatchError: range { begin: 1 end: 10 } (of class \
         org.apache.mesos.Protos$Value$Ranges)); no offer reaches Spark any more"
    ));
}

#[test]
fn apps_read_credential_files_declared_on_their_host() {
    let src = |files: &str, expect: &str| {
        format!(
            r#"
[scenario]
name = "credentials"
seed = 5
until = "2m"

[[agents]]
name = "agent"
resources = "cpus:4;mem:8192"

[[apps]]
submit = "spark-submit --master mesos://master:5050 --name pi --conf spark.mesos.principal.file=/etc/spark/principal --conf spark.mesos.secret.file=/etc/spark/secret app.jar"
{files}
  [[apps.jobs]]
    [[apps.jobs.stages]]
    tasks = 2
    duration = "1s"

[[expect]]
app = "pi"
{expect}
"#
        )
    };
    let ok = run(&src(
        r#"files = { "/etc/spark/principal" = "spark", "/etc/spark/secret" = "hunter2" }"#,
        "finishes = true",
    ));
    assert!(ok.passed(), "{:?}", ok.expectations);
    let missing = run(&src(r#"files = { "/etc/spark/principal" = "spark" }"#, "fails = true"));
    assert!(missing.passed(), "{:?}", missing.expectations);
    assert_eq!(
        missing.frameworks[0].details::<mesocosm_driver::DriverReport>().and_then(|d| d.failed.as_deref()),
        Some("java.io.FileNotFoundException: /etc/spark/secret (No such file or directory)")
    );
}
