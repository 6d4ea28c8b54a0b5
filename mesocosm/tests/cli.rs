//! The run's contract with scripts: any actor name crosses either transport,
//! exit statuses (a panicking actor is 3), and a closed stdout.

use mesocosm::runner::{self, Report, RunOptions, Show};
use mesocosm::scenario;
use mesocosm_sim::{RunFailure, SimTime, Transport};
use std::path::PathBuf;
use std::process::{Command, Stdio};

fn library(name: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios")).join(name)
}

fn temp_file(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mesocosm-cli-rs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// Two apps whose names hold non-ASCII letters, spaces and hundreds of
/// characters, in roles with non-ASCII and long names, on agents with long
/// hostnames: the gRPC transport carries every sender's name in an HTTP/2
/// header, where such names do not fit unencoded.
fn names_scenario() -> String {
    let long_app = "a very long application name ".repeat(20);
    let long_role = "équipe".repeat(40);
    let long_agent = "rack-7.row-3.".repeat(30);
    format!(
        r#"[scenario]
name = "names"
seed = 5
until = "10m"

[[agents]]
name = "{long_agent}node"
count = 2
resources = "cpus:4;mem:8192;disk:20000;ports:[31000-32000]"

[[agents]]
name = "x"
resources = "cpus:4;mem:8192;disk:20000;ports:[31000-32000]"

[[apps]]
submit = """spark-submit --master mesos://master:5050 --name 'ápp de démo π' \
  --conf spark.mesos.role=données --conf spark.cores.max=4 --class Pi app.jar"""
  [[apps.jobs]]
    [[apps.jobs.stages]]
    tasks = 20
    duration = "1s"

[[apps]]
submit = """spark-submit --master mesos://master:5050 --name '{long_app}' \
  --conf spark.mesos.role={long_role} --conf spark.cores.max=4 --class Pi app.jar"""
  [[apps.jobs]]
    [[apps.jobs.stages]]
    tasks = 20
    duration = "1s"

[[expect]]
count = "SUBSCRIBE"
where = {{ role = "données" }}
exactly = 1

[[expect]]
count = "SUBSCRIBE"
where = {{ role = "{long_role}" }}
exactly = 1
"#
    )
}

#[test]
fn non_ascii_spaced_and_long_names_run_alike_on_both_transports() {
    let path = temp_file("names.toml", &names_scenario());
    let s = scenario::load(&path).unwrap_or_else(|d| panic!("{d}"));
    let mut digests = Vec::new();
    for transport in [Transport::Grpc, Transport::Memory] {
        let r = runner::run(&s, RunOptions { transport, ..RunOptions::default() }).expect("the run");
        let mut summary = Vec::new();
        r.render(&mut summary).unwrap();
        let summary = String::from_utf8(summary).unwrap();
        assert_eq!(r.failure, None, "{transport:?}: {summary}");
        assert!(r.passed(), "{transport:?}: {summary}");
        assert_eq!(r.frameworks.len(), 2);
        for a in &r.frameworks {
            assert_eq!(a.exit.map(|(_, status)| status), Some(0), "{transport:?}: {} finishes: {summary}", a.name);
            let driver = a.details::<mesocosm_driver::DriverReport>().expect("a Spark app");
            assert_eq!(driver.tasks_finished, 20, "{transport:?}: {summary}");
        }
        assert!(r.frameworks.iter().any(|a| a.name == "ápp de démo π"), "{summary}");
        digests.push(r.digest.clone().expect("a digest"));
    }
    assert_eq!(digests[0], digests[1], "the same trace over gRPC and in memory");
}

fn report_with(failure: Option<RunFailure>) -> Report {
    let s = scenario::load(library("spark-pi.toml")).unwrap_or_else(|d| panic!("{d}"));
    let mut r = runner::run(&s, RunOptions { transport: Transport::Memory, ..RunOptions::default() }).unwrap();
    assert_eq!((r.exit_code(), r.passed()), (0, true));
    r.failure = failure;
    r
}

fn render(r: &Report, show: Show) -> String {
    let mut out = Vec::new();
    r.render_with(&mut out, show).unwrap();
    String::from_utf8(out).unwrap()
}

/// The summary a learner reads: what ran (Mesos's tasks and Spark's named
/// apart), then the verdict block last; the message table only with `--stats`,
/// aligned; `--quiet` prints the verdict block alone.
#[test]
fn the_summary_names_both_kinds_of_task_and_ends_with_the_verdict() {
    let r = report_with(None);
    let plain = render(&r, Show::default());
    let lines: Vec<&str> = plain.lines().collect();
    assert!(
        lines.contains(&"    2 executors launched as Mesos tasks; 100 Spark tasks finished, 0 attempts failed"),
        "{plain}"
    );
    assert!(
        lines.iter().any(|l| l.starts_with("  master: 9 offers made, ") && l.contains("; 2 Mesos tasks launched;"))
    );
    let headline = lines.iter().position(|l| l.starts_with("── verdict: ")).expect("a verdict headline");
    assert_eq!(lines[headline], "── verdict: PASSED (5 expectations held, every check holds) ──");
    assert!(lines.iter().position(|l| l.starts_with("summary: ")).unwrap() < headline, "the summary comes first");
    // Everything after the headline is the verdict: expectations, checks, digest.
    assert!(
        lines[headline + 1..]
            .iter()
            .all(|l| l.starts_with("expect ok: ") || *l == "checks: all hold" || l.starts_with("digest: ")),
        "{plain}"
    );
    assert_eq!(lines[headline + 1..].iter().filter(|l| l.starts_with("expect ok: ")).count(), 5);
    assert!(lines.last().unwrap().starts_with("digest: "));
    assert!(!plain.contains("RunTaskMessage  "), "no message table without --stats: {plain}");

    let stats = render(&r, Show { stats: true, verdict_only: false });
    let table: Vec<&str> =
        stats.lines().skip_while(|l| *l != "messages by kind:").skip(1).take_while(|l| !l.is_empty()).collect();
    assert_eq!(table.len(), r.by_kind.len() + 2, "a header, a row per kind, the total: {stats}");
    // Aligned: every row's protobuf name starts in the header's `protobuf` column.
    let column = table[0].find("protobuf").unwrap();
    for row in &table[1..table.len() - 1] {
        let proto = row.split_whitespace().last().unwrap();
        assert_eq!(row.find(proto), Some(column), "{row}");
    }
    assert!(stats.find("messages by kind:").unwrap() < stats.find("── verdict").unwrap());

    let quiet = render(&r, Show { stats: false, verdict_only: true });
    assert_eq!(quiet, lines[headline..].iter().map(|l| format!("{l}\n")).collect::<String>());
}

#[test]
fn a_panic_exits_3_and_a_livelock_or_transport_refusal_exits_1_unjudged() {
    let panic = RunFailure::Panic {
        at: SimTime::from_secs(12),
        actor: "master".into(),
        input: "TEARDOWN (mesos.v1.scheduler.Call) from driver:spark-pi".into(),
        message: "boom (at master/src/master.rs:1:1)".into(),
    };
    let r = report_with(Some(panic));
    assert!(!r.passed());
    assert_eq!(r.exit_code(), 3);
    let mut out = Vec::new();
    r.render(&mut out).unwrap();
    let out = String::from_utf8(out).unwrap();
    assert!(
        out.contains(
            "run FAILED (panic): master panicked at 12.000000s handling TEARDOWN (mesos.v1.scheduler.Call) from driver:spark-pi: boom"
        ),
        "{out}"
    );
    assert!(out.contains("not judged: the run stopped at 12.000000s"), "{out}");
    assert!(out.contains("── verdict: RUN FAILED (panic), not judged ──"), "{out}");
    assert!(!out.contains("checks: all hold"), "{out}");
    let livelock =
        RunFailure::Livelock { at: SimTime::from_secs(1), actor: "agent-1".into(), steps: 7, input: "timer X".into() };
    assert_eq!(report_with(Some(livelock)).exit_code(), 1);
    let refused = RunFailure::Transport {
        at: SimTime::from_secs(1),
        from: "a".into(),
        to: "b".into(),
        kind: "RegisterSlaveMessage".into(),
        status: "431".into(),
    };
    assert_eq!(report_with(Some(refused)).exit_code(), 1);
}

/// Run the CLI with its stdout a pipe whose reader is already gone.
fn run_with_closed_stdout(args: &[&str]) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mesocosm"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run the mesocosm binary");
    // `| head -0`: the reader closes before the first line.
    drop(child.stdout.take());
    child.wait_with_output().expect("the exit status")
}

#[test]
fn a_closed_stdout_ends_quietly_with_the_runs_verdict() {
    let pi = library("spark-pi.toml");
    let pi = pi.to_str().unwrap();
    for args in [vec!["run", pi], vec!["run", pi, "--explain"], vec!["run", pi, "--check-determinism"]] {
        let out = run_with_closed_stdout(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {err}");
        assert!(err.is_empty(), "{args:?}: nothing on stderr: {err}");
    }
    // The verdict survives: a run whose expectation fails still exits 1.
    let short = std::fs::read_to_string(library("spark-pi.toml")).unwrap().replace("until = \"10m\"", "until = \"5s\"");
    let short = temp_file("short.toml", &short);
    let out = run_with_closed_stdout(&["run", short.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
}

/// Memory delivers a message the moment its link wakes; gRPC takes a few task
/// hops more at the same instant. The world holds a core's timers until what is
/// in transit has landed, so every library scenario replays to the same trace
/// over either transport (before, 26 of 27 differed in the order of same-instant
/// messages and zero-delay timers).
#[test]
fn every_library_scenario_has_the_same_digest_on_both_transports() {
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios"));
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    assert!(files.len() > 20);
    let mut differ = Vec::new();
    for file in files {
        let s = scenario::load(&file).unwrap_or_else(|d| panic!("{d}"));
        let run = |transport| runner::run(&s, RunOptions { transport, ..RunOptions::default() }).expect("the run");
        let (g, m) = (run(Transport::Grpc), run(Transport::Memory));
        assert!(g.failure.is_none() && g.checks.is_empty(), "{}: {:?} {:?}", file.display(), g.failure, g.checks);
        if g.digest != m.digest {
            differ.push(file.file_name().unwrap().to_string_lossy().to_string());
        }
    }
    assert!(differ.is_empty(), "different traces over gRPC and in memory: {differ:?}");
}
