//! Scripted frameworks (`[[frameworks]]` without `kind`): a table that reads
//! back into the spec it says, runs that replay, and bad tables refused at
//! the offending key with file:line:col (exit 2 from the CLI).
//!
//! The bad-input cases are data: each edits a valid scenario in one place and
//! names the text the diagnostic must point at and words it must contain.

use mesocosm::frameworks::scripted::{OfferPolicy, ScriptedSpec, Teardown};
use mesocosm::runner::{self, RunOptions};
use mesocosm::scenario;
use mesocosm_sim::Transport;
use mesocosm_sim::proto::mesos::v1::TaskState;
use std::time::Duration;

/// Two 4-cpu agents, a scripted framework `web` with every kind of key, and a
/// second one, `standby`, taking it over.
const BASE: &str = r#"[scenario]
name = "scripted"
seed = 3
until = "5m"

[[agents]]
name = "agent"
count = 2
resources = "cpus:4;mem:4096;disk:1000"

[[frameworks]]
name = "web"
roles = ["web"]
capabilities = ["PARTITION_AWARE"]
checkpoint = true
failover_timeout = "2m"
principal = "web-principal"
think = "1s"
max_tasks_per_offer = 2
refuse_seconds = 10
suppress = true
retry = { on = ["TASK_LOST", "TASK_FAILED"], max = 2, task_id = "new" }
reconcile = { implicit = "1m", explicit = "30s", tasks = ["ghost-0"] }
kill = [{ task = "api-1", at = "40s" }]
teardown = "when_done"
resubscribe = { initial = "1s", max = "30s" }

  [[frameworks.work]]
  name = "api"
  tasks = 3
  resources = "cpus:1;mem:256"
  duration = { uniform = ["5s", "15s"] }
  exit = 0
  fail_probability = 0.2
  at = "2s"
  every = "20s"
  times = 2

[[frameworks]]
name = "standby"
at = "1m"
failover_of = "web"
failover_timeout = "2m"
teardown = "90s"
"#;

#[test]
fn every_key_reads_into_the_spec() {
    let s = scenario::parse("scripted.toml", BASE).expect("valid");
    assert_eq!(s.frameworks.len(), 2);
    assert_eq!(s.frameworks[0].kind, "scripted");
    let spec = format!("{:?}", s.frameworks[0].spec);
    for part in [
        "roles: [\"web\"]",
        "PartitionAware",
        "checkpoint: true",
        "principal: Some(\"web-principal\")",
        "max_per_offer: Some(2)",
        "refuse_seconds: 10.0",
        "think: 1s",
        "suppress: true",
        "on: [TaskLost, TaskFailed], max: 2, same_id: false",
        "tasks: [\"ghost-0\"]",
        "(40s, \"api-1\")",
        "teardown: WhenDone",
        "initial: 1s, max: 30s",
        "fail_probability: 0.2",
        "times: 2",
    ] {
        assert!(spec.contains(part), "{part} not in {spec}");
    }
    assert!(format!("{:?}", s.frameworks[1].spec).contains("failover_of: Some(\"web\")"));
}

#[test]
fn defaults_are_mesos_defaults() {
    let src = "[scenario]\nname = \"d\"\n[[agents]]\nname = \"a\"\nresources = \"cpus:1;mem:512\"\n[[frameworks]]\nname = \"f\"\n";
    let s = scenario::parse("d.toml", src).expect("valid");
    let d = format!("{:?}", s.frameworks[0].spec);
    let want = ScriptedSpec::new();
    assert_eq!(d, format!("{want:?}"));
    assert_eq!(want.offers, OfferPolicy::Launch { max_per_offer: None, refuse_seconds: 5.0, think: Duration::ZERO });
    assert_eq!(want.teardown, Teardown::WhenDone);
    assert!(!want.info.checkpoint && want.info.failover_timeout.is_zero() && want.info.roles == ["*"]);
    assert!(want.retry.on.is_empty() && !want.retry.on.contains(&TaskState::TaskLost));
}

#[test]
fn the_base_scenario_runs_the_same_on_both_transports() {
    let s = scenario::parse("scripted.toml", BASE).expect("valid");
    let mem = runner::run(&s, RunOptions { transport: Transport::Memory, ..RunOptions::default() }).expect("run");
    let grpc = runner::run(&s, RunOptions::default()).expect("run");
    assert_eq!(mem.digest, grpc.digest);
    assert!(mem.passed(), "{:?}", mem.checks);
    // The standby took web over (web told "Framework failed over"), and both ended cleanly.
    assert!(mem.frameworks.iter().all(|f| f.finished()), "{:?}", mem.frameworks);
}

struct Case {
    name: &'static str,
    /// (what, with what) in BASE.
    edit: (&'static str, &'static str),
    /// The text the diagnostic points at (its first occurrence after the edit).
    at: &'static str,
    says: &'static str,
}

const CASES: &[Case] = &[
    Case {
        name: "unknown key",
        edit: ("suppress = true", "supress = true"),
        at: "supress",
        says: "unknown field `supress`",
    },
    Case {
        name: "unknown key in a work group",
        edit: ("  exit = 0\n", "  exit_code = 0\n"),
        at: "exit_code",
        says: "unknown field `exit_code`",
    },
    Case {
        name: "a task bigger than any agent",
        edit: ("cpus:1;mem:256", "cpus:8;mem:256"),
        at: "\"cpus:8;mem:256\"",
        says: "a task of `api` needs cpus:8;mem:256, more than any agent has",
    },
    Case {
        name: "hold and ignore",
        edit: ("max_tasks_per_offer = 2\n", "offers = \"ignore\"\n"),
        at: "\"1s\"\noffers",
        says: "`think` conflicts with offers = \"ignore\"",
    },
    Case {
        name: "the same id for an unreachable task",
        edit: (
            "[\"TASK_LOST\", \"TASK_FAILED\"], max = 2, task_id = \"new\"",
            "[\"TASK_UNREACHABLE\"], task_id = \"same\"",
        ),
        at: "\"same\"",
        says: "conflicts with retrying TASK_UNREACHABLE",
    },
    Case {
        name: "failover_of naming no framework",
        edit: ("failover_of = \"web\"", "failover_of = \"wbe\""),
        at: "\"wbe\"",
        says: "`failover_of` names no framework: `wbe` (frameworks: web)",
    },
    Case {
        name: "failover_of naming itself",
        edit: ("failover_of = \"web\"", "failover_of = \"standby\""),
        at: "\"standby\"\nfailover_timeout",
        says: "names this framework itself",
    },
    Case {
        name: "failover_of a framework that starts later",
        edit: ("at = \"1m\"", "at = \"0s\""),
        at: "\"web\"\nfailover_timeout",
        says: "`web` starts at 0s, not before this framework (0s)",
    },
    Case {
        name: "several roles without MULTI_ROLE",
        edit: ("roles = [\"web\"]", "roles = [\"web\", \"batch\"]"),
        at: "[\"web\", \"batch\"]",
        says: "more than one role needs the MULTI_ROLE capability",
    },
    Case {
        name: "an unknown capability",
        edit: ("\"PARTITION_AWARE\"", "\"PARTITION_AWAREE\""),
        at: "\"PARTITION_AWAREE\"",
        says: "unknown capability `PARTITION_AWAREE`",
    },
    Case {
        name: "retry on a state that is no end",
        edit: ("\"TASK_LOST\", \"TASK_FAILED\"", "\"TASK_RUNNING\""),
        at: "\"TASK_RUNNING\"",
        says: "`TASK_RUNNING` is not a state to retry on",
    },
    Case {
        name: "arrivals without every",
        edit: ("  every = \"20s\"\n", ""),
        at: "2\n\n[[frameworks]]",
        says: "several arrivals (`times`) need `every`",
    },
    Case {
        name: "a scripted key on a plugin's table",
        edit: ("name = \"standby\"\n", "name = \"standby\"\nkind = \"sleep-tasks\"\n"),
        at: "\"web\"\nfailover_timeout",
        says: "`failover_of` is a key of a scripted framework (a table without `kind`)",
    },
    Case {
        name: "a bad teardown",
        edit: ("teardown = \"when_done\"", "teardown = \"later\""),
        at: "\"later\"",
        says: "`teardown` is `when_done`, `never` or a time",
    },
    Case { name: "a bad resources string", edit: ("cpus:1;mem:256", "cpus:one"), at: "\"cpus:one\"", says: "cpus" },
];

/// 1-based (line, column) of the first occurrence of `needle` in `src`.
fn position(src: &str, needle: &str) -> (usize, usize) {
    let at = src.find(needle).unwrap_or_else(|| panic!("`{needle}` in the edited scenario"));
    let line = src[..at].matches('\n').count() + 1;
    let col = src[..at].rsplit('\n').next().unwrap().chars().count() + 1;
    (line, col)
}

#[test]
fn bad_tables_are_refused_at_the_offending_key() {
    for c in CASES {
        assert!(BASE.contains(c.edit.0), "{}: the edit applies", c.name);
        let src = BASE.replacen(c.edit.0, c.edit.1, 1);
        let diags = match scenario::parse("bad.toml", &src) {
            Ok(_) => panic!("{}: accepted", c.name),
            Err(d) => d,
        };
        let (line, col) = position(&src, c.at);
        let hit = diags.iter().find(|d| d.message.contains(c.says));
        let d = hit.unwrap_or_else(|| panic!("{}: no diagnostic says {:?}:\n{diags}", c.name, c.says));
        assert_eq!((d.line, d.col), (line, col), "{}: {d}", c.name);
    }
}

fn temp_file(name: &str, text: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("mesocosm-scripted-rs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn the_cli_exits_2_with_file_line_col() {
    let src = BASE.replacen("failover_of = \"web\"", "failover_of = \"wbe\"", 1);
    let path = temp_file("bad-failover.toml", &src);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mesocosm"))
        .args(["run", path.to_str().unwrap()])
        .output()
        .expect("run the binary");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    let (line, col) = position(&src, "\"wbe\"");
    assert!(err.contains(&format!("bad-failover.toml:{line}:{col}: `failover_of` names no framework")), "{err}");
}

/// A scheduler killed and restarted 2 s later with a failover_timeout is the
/// same framework (its FrameworkID and tasks checkpointed): it re-subscribes,
/// launches nothing twice, and the tasks it launched before finish under it.
/// (With Mesos's default of 0 the master removes the framework at the kill and
/// the restarted process starts the script over as a new framework.)
#[test]
fn a_restarted_scheduler_with_a_failover_timeout_continues_its_script() {
    let src = r#"[scenario]
name = "restart"
seed = 9
until = "2m"

[[agents]]
name = "agent"
resources = "cpus:4;mem:4096"

[[frameworks]]
name = "web"
failover_timeout = "1m"

  [[frameworks.work]]
  name = "job"
  tasks = 2
  resources = "cpus:1;mem:256"
  duration = "30s"

[[faults]]
kill = "scheduler:web"
at = "10s"
restart_after = "2s"

[[expect]]
app = "web"
finishes = true

[[expect]]
count = "RunTaskMessage"
exactly = 2

[[expect]]
count = "SUBSCRIBE"
from = "scheduler:web"
after = "12s"
exactly = 1

[[expect]]
never = "ShutdownFrameworkMessage"
before = "30s"

[[expect]]
count = "TASK_FINISHED"
to = "scheduler:web"
exactly = 2
"#;
    let s = scenario::parse("restart.toml", src).expect("valid");
    let r = runner::run(&s, RunOptions { transport: Transport::Memory, ..RunOptions::default() }).expect("run");
    assert!(r.passed(), "{:?}", r.expectations);
}
