//! The property "every task finishes", over random clusters, kills and a lost
//! ACCEPT: it finds the bug in `offer-holder`, writes the shrunk case as a
//! scenario file, and holds for `offer-holder-fixed`.
use mesocosm::cluster::Report;
use mesocosm::props::proptest::prelude::*;
use mesocosm::props::{self, Case, Harness, ScenarioCase};
use mesocosm::{runner, scenario};
use std::path::Path;

/// A random cluster (agents, maybe an agent or master kill) running the
/// example framework, whose `nth` ACCEPT is lost.
#[derive(Clone, Debug)]
struct Holder {
    cluster: Case,
    kind: &'static str,
    tasks: u32,
    nth: u32,
}

impl ScenarioCase for Holder {
    fn seed(&self) -> u64 {
        self.cluster.seed
    }
    fn to_toml(&self) -> String {
        let (kind, tasks, nth) = (self.kind, self.tasks, self.nth);
        format!(
            "{}\n[[frameworks]]\nkind = \"{kind}\"\nname = \"holder\"\n[frameworks.config]\ntasks = {tasks}\n\n\
             [[faults]]\ndrop = \"ACCEPT\"\nnth = {nth}\noptional = true\n",
            // Faults end by 8 min, and the tasks take seconds: 10 min is plenty,
            // and a hung case costs a quarter of the generator's 45 min.
            self.cluster.to_toml().replace("until = \"45m\"", "until = \"10m\"")
        )
    }
}

fn holders(kind: &'static str) -> impl Strategy<Value = Holder> {
    let cluster = props::case_with(prop_oneof![props::kill_agent(), props::kill_master()], 0..=1);
    (cluster, 1u32..=6, 1u32..=3).prop_map(move |(mut cluster, tasks, nth)| {
        cluster.apps.clear(); // no Spark: the example is the only framework
        cluster.keep_running = false;
        Holder { cluster, kind, tasks, nth }
    })
}

fn run(path: &Path, text: &str) -> Result<Report, String> {
    let s = scenario::parse_with(path, text, &offer_holder::plugin::registry()).map_err(|d| d.to_string())?;
    let opts = runner::RunOptions { transport: mesocosm_sim::Transport::Memory, ..Default::default() };
    runner::run(&s, opts).map_err(|e| e.to_string())
}

fn every_task_finishes(_: &Holder, report: &Report) -> Result<(), String> {
    match report.framework("holder") {
        Some(f) if f.finished() => Ok(()),
        _ => Err(format!("holder did not finish:\n{}", props::summary(report))),
    }
}

/// 8 cases (unless `PROPTEST_CASES` says) and at most 32 shrink steps, each
/// one a run: seconds in CI, and the same shrunk case on any machine.
fn harness(name: &str) -> Harness {
    let shrink = |c: &mut ProptestConfig| (c.max_shrink_iters, c.max_shrink_time) = (32, 0);
    let replay = "cargo run -p offer-holder -- run";
    Harness::new(name).cases(8).configure(shrink).dir(env!("CARGO_TARGET_TMPDIR")).command(replay).runner(run)
}

#[test]
fn the_property_finds_the_lost_accept_and_writes_a_scenario_that_replays_it() {
    let failure = harness("offer-holder").run(holders("offer-holder"), every_task_finishes).unwrap_err();
    assert!(failure.reproduced, "{failure}");
    assert!(failure.text.contains("drop = \"ACCEPT\""), "{}", failure.text);
    let written = std::fs::read_to_string(&failure.path).expect("the shrunk case is written");
    let replay = run(&failure.path, &written).expect("the written file runs");
    assert_eq!(replay.digest, failure.digest, "the file replays the failing run");
    assert!(every_task_finishes(&failure.case, &replay).is_err());
    // And with the example's binary, over gRPC: exit 1, the same digest.
    let mut cli = std::process::Command::new(env!("CARGO_BIN_EXE_offer-holder"));
    let out = cli.arg("run").arg(&failure.path).arg("--quiet").output().expect("the binary runs");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains(&failure.digest.clone().unwrap()));
}

#[test]
fn the_fixed_framework_finishes_every_task() {
    harness("offer-holder-fixed").check(holders("offer-holder-fixed"), every_task_finishes);
}
