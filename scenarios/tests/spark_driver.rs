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
    let d = &r.apps[0].driver_report;
    assert!(d.tasks_finished > 40, "tasks ran: {}", d.tasks_finished);
    // Eight running tasks, a few runs of finished and pending partitions.
    assert!(d.task_state_entries < 64, "the scheduler holds {} entries", d.task_state_entries);
}
