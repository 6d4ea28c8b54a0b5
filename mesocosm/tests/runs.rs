//! Whole runs of the scenario library: replay, the seed's message flow, the CLI contract.

mod common;

use base64::Engine;
use common::Buffer;
use mesocosm::runner::{self, RunOptions};
use mesocosm::scenario;
use mesocosm::sweep::pool;
use mesocosm_sim::{Msg, Transport};
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::process::Command;

fn library() -> Vec<PathBuf> {
    let dir = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios"));
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("the scenarios directory")
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "the scenario library is empty");
    files
}

fn run_with_trace(file: &Path, transport: Transport) -> (runner::Report, Vec<serde_json::Value>) {
    let s = scenario::load(file).unwrap_or_else(|d| panic!("{d}"));
    let buf = Buffer::default();
    let opts = RunOptions { transport, trace: Some(Box::new(buf.clone())), ..RunOptions::default() };
    let report = runner::run(&s, opts).expect("the run");
    let text = buf.text();
    let records: Vec<serde_json::Value> =
        text.lines().map(|l| serde_json::from_str(l).expect("one JSON object per line")).collect();
    // The notes, lifecycle events and the master's shares (`type` = note |
    // event | shares) are for readers and outside the digest (tests/flow.rs
    // checks them); these tests read the rest.
    let said = |r: &serde_json::Value| r.get("type").is_some();
    assert!(records.iter().filter(|r| said(r)).all(|r| r["actor"].is_string()
        && if r["type"] == "shares" { r["shares"].is_array() } else { r["text"].is_string() }));
    (report, records.into_iter().filter(|r| !said(r)).collect())
}

/// What is wrong with one library file's runs: its checks, expectations and
/// faults must hold, two runs at its seed must give one digest, and another
/// seed another digest.
fn replay_problems(file: &Path) -> Vec<String> {
    let name = file.display();
    let s = scenario::load(file).unwrap_or_else(|d| panic!("{d}"));
    let a = runner::run(&s, RunOptions::default()).expect("first run");
    let b = runner::run(&s, RunOptions::default()).expect("second run");
    let mut problems = Vec::new();
    if !a.checks.is_empty() {
        problems.push(format!("{name}: checks failed: {:?}", a.checks));
    }
    let failed: Vec<_> = a.expectations.iter().filter(|e| !e.held).collect();
    if !failed.is_empty() {
        problems.push(format!("{name}: expectations failed: {failed:#?}"));
    }
    let idle: Vec<_> = a.faults.iter().filter(|f| f.applied == 0).collect();
    if !idle.is_empty() || !a.warnings.is_empty() {
        problems.push(format!("{name}: faults did nothing: {idle:?} {:?}", a.warnings));
    }
    if a.digest.is_none() || a.digest != b.digest {
        problems.push(format!("{name}: same seed, different traces: {:?} {:?}", a.digest, b.digest));
    }
    // The other seed runs in memory: a digest does not depend on the transport
    // (tests/transports.rs holds every file to that), and memory costs about a
    // ninth of gRPC's CPU, which keeps the test command inside CI's budget.
    let other = RunOptions { seed: Some(s.seed + 1), transport: Transport::Memory, ..RunOptions::default() };
    let c = runner::run(&s, other).expect("other seed");
    if a.digest == c.digest {
        problems.push(format!("{name}: the seed must matter, but seed {} gives the same digest", s.seed + 1));
    }
    problems
}

#[test]
fn every_scenario_replays_byte_for_byte_and_its_checks_hold() {
    // Two files at a time: the library is the longest part of the test command.
    let jobs = NonZeroUsize::new(2).expect("two");
    let found = pool::map(&library(), jobs, |file| Ok::<_, ()>(replay_problems(file)), |_| {}).expect("the runs");
    let problems: Vec<String> = found.into_iter().flatten().collect();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_trace_record_decodes_as_the_protobuf_it_names() {
    let (_, records) = run_with_trace(&library()[0], Transport::Grpc);
    assert!(records.len() > 50);
    let mut last_t = 0;
    for r in &records {
        // Fault records say what the network did; they carry no message bytes.
        if let Some(action) = r["fault"].as_str() {
            assert!(!action.is_empty() && r["rule"].as_str().is_some_and(|l| l.contains(".toml:")), "{r}");
            continue;
        }
        let proto = r["proto"].as_str().unwrap();
        let bytes = base64::engine::general_purpose::STANDARD.decode(r["bytes"].as_str().unwrap()).unwrap();
        let msg = Msg::decode(proto, &bytes).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(msg.encode(), bytes, "re-encoding gives the same bytes");
        assert_eq!(msg.kind(), r["kind"].as_str().unwrap());
        let t = r["t"].as_u64().unwrap();
        assert!(t >= last_t, "the trace is in virtual-time order");
        last_t = t;
    }
}

fn kinds_between(records: &[serde_json::Value], from_prefix: &str, to_prefix: &str) -> Vec<String> {
    records
        .iter()
        .filter(|r| {
            r["from"].as_str().unwrap().starts_with(from_prefix) && r["to"].as_str().unwrap().starts_with(to_prefix)
        })
        .map(|r| r["kind"].as_str().unwrap().to_string())
        .collect()
}

fn first(kinds: &[String], k: &str) -> usize {
    kinds.iter().position(|x| x == k).unwrap_or_else(|| panic!("no {k} in {kinds:?}"))
}

#[test]
fn spark_pi_follows_the_seed_documents_five_steps() {
    let file = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios")).join("spark-pi.toml");
    let (report, records) = run_with_trace(&file, Transport::Grpc);
    assert!(report.checks.is_empty(), "{:?}", report.checks);

    // 1-3: the framework subscribes, gets offers, accepts two and declines the
    // third with Spark's 120 s refuse once spark.cores.max = 8 is reached.
    let driver_to_master = kinds_between(&records, "driver:", "master");
    let master_to_driver = kinds_between(&records, "master", "driver:");
    assert_eq!(driver_to_master[0], "SUBSCRIBE");
    assert_eq!(master_to_driver[0], "SUBSCRIBED");
    // Mesos sends the first HEARTBEAT right after SUBSCRIBED, then every 15 s.
    assert_eq!(master_to_driver[1], "HEARTBEAT");
    assert!(master_to_driver.contains(&"OFFERS".to_string()));
    let accepts: Vec<_> = records.iter().filter(|r| r["kind"] == "ACCEPT").collect();
    assert_eq!(accepts.len(), 2, "two executors of 4 cores reach cores.max = 8");
    for a in &accepts {
        let s = a["summary"].as_str().unwrap();
        assert!(s.contains("cpus:4;mem:1408"), "executor size is 4 cpus and 1 GiB + 384 MiB overhead: {s}");
    }
    let declines: Vec<_> = records.iter().filter(|r| r["kind"] == "DECLINE").collect();
    assert!(declines.iter().any(|d| d["summary"].as_str().unwrap().contains("refuse_seconds=120")));

    // 4: the agents launch the executors; Mesos task updates flow and are acked.
    let master_to_agents = kinds_between(&records, "master", "agent-");
    assert_eq!(master_to_agents.iter().filter(|k| *k == "RunTaskMessage").count(), 2);
    let exec_to_agent = kinds_between(&records, "executor:", "agent-");
    assert!(exec_to_agent.starts_with(&["SUBSCRIBE".to_string(), "UPDATE".to_string(), "UPDATE".to_string()]));
    let updates: Vec<&str> = records
        .iter()
        .filter(|r| r["kind"] == "UPDATE" && r["to"].as_str().unwrap().starts_with("driver:"))
        .map(|r| r["summary"].as_str().unwrap())
        .collect();
    for state in ["TASK_STARTING", "TASK_RUNNING", "TASK_FINISHED"] {
        assert_eq!(updates.iter().filter(|u| u.contains(state)).count(), 2, "{state} for both executors");
    }
    assert_eq!(
        records.iter().filter(|r| r["kind"] == "ACKNOWLEDGE").count(),
        updates.len(),
        "the driver acknowledges every update"
    );

    // 5: the executors register with the driver, run the 100 tasks, are stopped.
    let exec_to_driver = kinds_between(&records, "executor:", "driver:");
    let driver_to_exec = kinds_between(&records, "driver:", "executor:");
    assert!(first(&exec_to_driver, "RetrieveSparkAppConfig") < first(&exec_to_driver, "RegisterExecutor"));
    assert!(first(&exec_to_driver, "RegisterExecutor") < first(&exec_to_driver, "LaunchedExecutor"));
    assert_eq!(driver_to_exec.iter().filter(|k| *k == "LaunchTask").count(), 100);
    assert_eq!(driver_to_exec.iter().filter(|k| *k == "StopExecutor").count(), 2);
    let driver = report.frameworks[0].details::<mesocosm_driver::DriverReport>().expect("a Spark app");
    assert_eq!(driver.tasks_finished, 100);
    assert_eq!(*driver_to_master.last().unwrap(), "TEARDOWN");
}

#[test]
fn both_transports_carry_the_same_conversation() {
    let file = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios")).join("spark-pi.toml");
    let (grpc, g) = run_with_trace(&file, Transport::Grpc);
    let (mem, m) = run_with_trace(&file, Transport::Memory);
    assert!(grpc.checks.is_empty() && mem.checks.is_empty());
    assert_eq!(grpc.by_kind, mem.by_kind, "the same messages, whatever carries them");
    assert_eq!(g.len(), m.len());
}

fn mesocosm(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_mesocosm")).args(args).output().expect("run the mesocosm binary")
}

#[test]
fn cli_exit_codes_and_trace_file() {
    let dir = std::env::temp_dir().join(format!("mesocosm-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let pi = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios")).join("spark-pi.toml");
    let pi = pi.to_str().unwrap();

    // A good run: exit 0, a summary ending in the digest, the same trace file twice.
    let t1 = dir.join("a.jsonl");
    let t2 = dir.join("b.jsonl");
    let out = mesocosm(&["run", pi, "--quiet", "--trace", t1.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.lines().last().unwrap().starts_with("digest: "), "{stdout}");
    mesocosm(&["run", pi, "--quiet", "--trace", t2.to_str().unwrap()]);
    assert_eq!(std::fs::read(&t1).unwrap(), std::fs::read(&t2).unwrap(), "byte-identical traces");

    // Bad input: exit 2 with file:line:col.
    let bad = dir.join("bad.toml");
    std::fs::write(&bad, "[scenario]\nname = \"x\"\n\n[[agents]]\nname = \"a\"\nresources = \"cpus:four\"\n").unwrap();
    let out = mesocosm(&["run", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("bad.toml:6:"), "{err}");

    // A scenario whose app cannot finish in time: its `app … finishes` expectation fails, exit 1.
    let short = dir.join("short.toml");
    let src = std::fs::read_to_string(pi).unwrap().replace("until = \"10m\"", "until = \"5s\"");
    std::fs::write(&short, src).unwrap();
    let out = mesocosm(&["run", short.to_str().unwrap(), "--quiet"]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains("expect FAILED: ") && stdout.contains("app spark-pi finishes before 10s"), "{stdout}");
    assert!(stdout.contains("still running at the end of the run"), "{stdout}");

    // --check-determinism runs twice and compares.
    let out = mesocosm(&["run", pi, "--check-determinism"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8(out.stdout).unwrap().contains("determinism: ok"));
    std::fs::remove_dir_all(&dir).ok();
}

/// The scale scenarios (`scenarios/scale/`) take minutes in a debug build, so
/// the library tests do not run them; they must still load and validate, so
/// that `mesocosm run scenarios/scale/scale-10k.toml` starts.
#[test]
fn the_scale_scenarios_load_and_validate() {
    let dir = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios/scale"));
    let mut n = 0;
    for entry in std::fs::read_dir(dir).expect("scenarios/scale") {
        let file = entry.expect("a directory entry").path();
        let s = scenario::load(&file).unwrap_or_else(|d| panic!("{d}"));
        runner::validate(&s).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        assert!(s.agents.len() >= 2000, "{}: {} agents", file.display(), s.agents.len());
        n += 1;
    }
    assert_eq!(n, 2, "scale-2k and scale-10k");
}
