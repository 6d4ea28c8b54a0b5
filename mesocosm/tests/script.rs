//! The failure script: every fault kind does something observable, every
//! expectation kind can fail, and bad scripts are refused at their line.
//!
//! Each case runs a small cluster with one fault and two expectations: one that
//! states what Mesos/Spark do under that fault (it must hold) and one that is
//! deliberately wrong (it must fail, naming its line). A fault that did nothing
//! would make the first fail; an expectation that cannot fail would make the
//! second hold.

use mesocosm::runner::{self, RunOptions};
use mesocosm::scenario;
use mesocosm_sim::Transport;

/// Two 4-cpu agents and one app with one 4-core executor (`executor:pi/0`)
/// running 40 one-second tasks; the run goes on to 4 minutes whatever happens.
const BASE: &str = r#"
[scenario]
name = "case"
seed = 5
until = "4m"
keep_running = true

[[agents]]
name = "agent"
count = 2
resources = "cpus:4;mem:8192;disk:20000"

[[apps]]
submit = "spark-submit --master mesos://master:5050 --name pi --class P --conf spark.cores.max=4 pi.jar"
  [[apps.jobs]]
    [[apps.jobs.stages]]
    tasks = 40
    duration = "1s"
"#;

struct Case {
    name: &'static str,
    script: &'static str,
    holds: &'static str,
    wrong: &'static str,
}

const CASES: &[Case] = &[
    Case {
        name: "kill an executor",
        script: "[[faults]]\nkill = \"executor:pi/0\"\nat = \"5s\"\n",
        holds: "[[expect]]\ncount = \"TASK_FAILED\"\nwhere = { source = \"SOURCE_AGENT\" }\nexactly = 1\n",
        wrong: "[[expect]]\ncount = \"TASK_FAILED\"\nexactly = 0\n",
    },
    Case {
        name: "kill the driver",
        script: "[[faults]]\nkill = \"driver:pi\"\nat = \"5s\"\n",
        holds: "[[expect]]\napp = \"pi\"\nfails = true\n[[expect]]\nframework_removed = \"pi\"\nreason = \"failover\"\n",
        wrong: "[[expect]]\nframework_removed = \"pi\"\nreason = \"teardown\"\n",
    },
    Case {
        name: "kill and restart an agent",
        script: "[[faults]]\nkill = \"agent-1\"\nat = \"5s\"\nrestart_after = \"10s\"\n",
        holds: "[[expect]]\nagent = \"agent-1\"\nmarked = \"disconnected\"\nbefore = \"6s\"\n[[expect]]\nagent = \"agent-1\"\nmarked = \"reregistered\"\nafter = \"15s\"\n",
        wrong: "[[expect]]\nagent = \"agent-1\"\nmarked = \"reregistered\"\nbefore = \"15s\"\n",
    },
    Case {
        name: "partition both ways",
        script: "[[faults]]\npartition = [\"agent-2\", \"master\"]\nat = \"5s\"\nheal_after = \"3m\"\n",
        holds: "[[expect]]\nagent = \"agent-2\"\nmarked = \"unreachable\"\nafter = \"60s\"\nbefore = \"95s\"\n",
        wrong: "[[expect]]\nagent = \"agent-2\"\nmarked = \"unreachable\"\nbefore = \"60s\"\n",
    },
    Case {
        name: "partition one way",
        script: "[[faults]]\npartition = [\"agent-2\", \"master\"]\none_way = true\nat = \"5s\"\n",
        holds: "[[expect]]\nagent = \"agent-2\"\nmarked = \"unreachable\"\n",
        // Only agent-2 → master is cut: the master's pings still arrive.
        wrong: "[[expect]]\nnever = \"PingSlaveMessage\"\nto = \"agent-2\"\nafter = \"10s\"\n",
    },
    Case {
        name: "disconnect the driver from the master",
        script: "[[faults]]\ndisconnect = [\"driver:pi\", \"master\"]\nat = \"5s\"\n",
        // failover_timeout 0: the framework is gone before the driver re-subscribes.
        holds: "[[expect]]\ncount = \"ERROR\"\nto = \"driver:pi\"\nwhere = { message = \"Framework has been removed\" }\nexactly = 1\n[[expect]]\napp = \"pi\"\nfails = true\n",
        wrong: "[[expect]]\napp = \"pi\"\nfinishes = true\n",
    },
    Case {
        name: "drop a message",
        script: "[[faults]]\ndrop = \"RegisterExecutor\"\nfrom = \"executor:pi/*\"\nnth = 1\n",
        // spark.rpc.askTimeout 120 s, then the backend exits 1.
        holds: "[[expect]]\ncount = \"TASK_FAILED\"\nafter = \"120s\"\nbefore = \"121s\"\nexactly = 1\n",
        wrong: "[[expect]]\ncount = \"TASK_FAILED\"\nbefore = \"120s\"\nat_least = 1\n",
    },
    Case {
        name: "delay messages",
        // Longer than 5 pings of 15 s: the master sees no pong at all for 75 s.
        script: "[[faults]]\ndelay = \"PongSlaveMessage\"\nfrom = \"agent-1\"\nby = \"90s\"\n",
        holds: "[[expect]]\nagent = \"agent-1\"\nmarked = \"unreachable\"\n",
        wrong: "[[expect]]\nagent = \"agent-1\"\nmarked = \"unreachable\"\nbefore = \"60s\"\n",
    },
    Case {
        name: "duplicate a message",
        script: "[[faults]]\nduplicate = \"ACCEPT\"\nnth = 1\n",
        holds: "[[expect]]\ncount = \"UPDATE\"\nwhere = { reason = \"REASON_INVALID_OFFERS\" }\nexactly = 1\n",
        wrong: "[[expect]]\ncount = \"UPDATE\"\nwhere = { reason = \"REASON_INVALID_OFFERS\" }\nexactly = 0\n",
    },
    Case {
        name: "hold messages",
        script: "[[faults]]\nhold = \"UPDATE\"\nfrom = \"master\"\nbefore = \"5s\"\nuntil = \"5s\"\n",
        holds: "[[expect]]\nnever = \"ACKNOWLEDGE\"\nbefore = \"5s\"\n[[expect]]\ncount = \"ACKNOWLEDGE\"\nafter = \"5s\"\nbefore = \"6s\"\nat_least = 2\n",
        wrong: "[[expect]]\ncount = \"ACKNOWLEDGE\"\nbefore = \"5s\"\nat_least = 1\n",
    },
    Case {
        name: "a slow framework",
        script: "[[faults]]\nslow = \"driver:pi\"\nthink = \"10s\"\n",
        holds: "[[expect]]\nnever = \"ACCEPT\"\nbefore = \"10s\"\n",
        wrong: "[[expect]]\ncount = \"ACCEPT\"\nbefore = \"10s\"\nat_least = 1\n",
    },
    Case {
        name: "a slow link",
        script: "[[network.links]]\nfrom = \"master\"\nto = \"driver:pi\"\nlatency = \"5s\"\n",
        // SUBSCRIBED takes 5 s to arrive, so the driver re-SUBSCRIBEs after 2 s (libmesos's backoff).
        holds: "[[expect]]\ncount = \"SUBSCRIBE\"\nbefore = \"5s\"\nat_least = 2\n[[expect]]\nnever = \"ACCEPT\"\nbefore = \"5s\"\n",
        wrong: "[[expect]]\ncount = \"ACCEPT\"\nbefore = \"5s\"\nat_least = 1\n",
    },
    Case {
        name: "an app that finished is not still running",
        script: "[[faults]]\nkill = \"executor:pi/0\"\nat = \"5s\"\n",
        holds: "[[expect]]\napp = \"pi\"\nfinishes = true\n",
        wrong: "[[expect]]\napp = \"pi\"\nrunning = true\n",
    },
];

fn run(src: &str) -> runner::Report {
    let s = scenario::parse("case.toml", src).unwrap_or_else(|d| panic!("{d}\n{src}"));
    runner::run(&s, RunOptions { transport: Transport::Memory, ..RunOptions::default() }).expect("the run")
}

#[test]
fn every_fault_acts_and_every_expectation_can_fail() {
    for c in CASES {
        let src = format!("{BASE}\n{}\n{}\n{}", c.script, c.holds, c.wrong);
        let report = run(&src);
        let (wrong, right): (Vec<_>, Vec<_>) = report.expectations.iter().partition(|e| {
            let line: usize = e.label.rsplit(':').next().unwrap().parse().unwrap();
            let wrong_first_line = src.lines().count() - c.wrong.lines().count() + 1;
            line >= wrong_first_line
        });
        assert!(!right.is_empty() && !wrong.is_empty(), "{}: {:#?}", c.name, report.expectations);
        for e in &right {
            assert!(e.held, "{}: should hold: {} ({})\n{:?}", c.name, e.text, e.observed, report.checks);
        }
        for e in &wrong {
            assert!(!e.held, "{}: a deliberately wrong expectation held: {} ({})", c.name, e.text, e.observed);
            assert!(e.label.starts_with("case.toml:"), "{}", e.label);
        }
        assert!(!report.passed(), "{}", c.name);
        assert!(report.checks.is_empty(), "{}: {:?}", c.name, report.checks);
        let idle: Vec<_> = report.faults.iter().filter(|f| f.applied == 0).collect();
        assert!(idle.is_empty() && report.warnings.is_empty(), "{}: {idle:?} {:?}", c.name, report.warnings);
    }
}

#[test]
fn a_fault_that_never_matches_fails_the_run_unless_optional() {
    // A fault that did nothing is a false green: the run did not test what the
    // scenario says. It is a failed check (exit 1)…
    let src = format!("{BASE}\n[[faults]]\ndrop = \"RESCIND\"\n");
    let report = run(&src);
    assert_eq!(report.faults.len(), 1);
    assert_eq!(report.faults[0].applied, 0);
    assert!(!report.passed());
    assert!(
        report.checks.iter().any(|c| c.check == "fault applied"
            && c.message.contains("case.toml:")
            && c.message.contains("never matched")),
        "{:?}",
        report.checks
    );
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    // …unless the scenario says it may legitimately not fire: then a warning.
    let src = format!("{BASE}\n[[faults]]\ndrop = \"RESCIND\"\noptional = true\n");
    let report = run(&src);
    assert!(report.passed(), "{:?}", report.checks);
    assert!(
        report.warnings.iter().any(|w| w.contains("case.toml:") && w.contains("never matched")),
        "{:?}",
        report.warnings
    );
    // A kill that finds nothing running is the same.
    let src = format!("{BASE}\n[[faults]]\nkill = \"executor:*\"\nat = \"1us\"\n");
    let report = run(&src);
    assert!(report.checks.iter().any(|c| c.check == "fault applied" && c.message.contains("found nothing running")));
}

#[test]
fn optional_is_a_boolean_of_every_fault() {
    let src = format!("{BASE}\n[[faults]]\nkill = \"agent-1\"\nat = \"1s\"\noptional = \"yes\"\n");
    let err = scenario::parse("case.toml", &src).unwrap_err().to_string();
    assert!(err.contains("case.toml:") && err.contains("expected a boolean"), "{err}");
}

#[test]
fn faults_are_in_the_trace_and_replay() {
    let src = format!("{BASE}\n{}\n", CASES[6].script);
    let s = scenario::parse("case.toml", &src).unwrap();
    let a = runner::run(&s, RunOptions::default()).unwrap();
    let b = runner::run(&s, RunOptions::default()).unwrap();
    assert_eq!(a.digest, b.digest);
    let no_fault = scenario::parse("case.toml", BASE).unwrap();
    let c = runner::run(&no_fault, RunOptions::default()).unwrap();
    assert_ne!(a.digest, c.digest);
}

#[test]
fn the_cli_exits_1_naming_the_failed_expectation() {
    let dir = std::env::temp_dir().join(format!("mesocosm-script-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("wrong.toml");
    let src = format!("{BASE}\n{}\n{}", CASES[0].script, CASES[0].wrong);
    std::fs::write(&file, &src).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mesocosm"))
        .args(["run", file.to_str().unwrap(), "--quiet"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    let line = src.lines().position(|l| l == "count = \"TASK_FAILED\"").unwrap() + 1;
    let wanted = format!("expect FAILED: {}:{}", file.display(), line - 1);
    assert!(stdout.contains(&wanted), "wanted `{wanted}` in:\n{stdout}");
}

// ---------------------------------------------------------------------------
// Bad scripts: exit 2 with the line
// ---------------------------------------------------------------------------

fn error_for(script: &str) -> (usize, String) {
    let src = format!("{BASE}\n{script}");
    let d = scenario::parse("case.toml", &src).expect_err("the script is bad");
    let first = d.into_iter().next().unwrap();
    // `format!` adds one line between BASE and the script.
    (first.line - BASE.lines().count() - 1, first.message.clone())
}

#[test]
fn bad_scripts_are_refused_at_their_line() {
    let cases: &[(&str, usize, &str)] = &[
        ("[[faults]]\nkill = \"agent-9\"\n", 2, "names no actor"),
        ("[[faults]]\nkill = \"driver:nope\"\n", 2, "names no actor"),
        (
            "[[faults]]\ndrop = \"RegisterExecutors\"\n",
            2,
            "unknown message kind `RegisterExecutors`; did you mean RegisterExecutor",
        ),
        ("[[faults]]\ndrop = \"ACCEPT\"\nat = \"5s\"\n", 3, "`at` does not apply to a `drop` fault"),
        ("[[faults]]\nkill = \"agent-1\"\nat = \"-5s\"\n", 3, "bad duration for `at`"),
        ("[[faults]]\ndelay = \"ACCEPT\"\nby = \"soon\"\n", 3, "bad duration for `by`"),
        ("[[faults]]\ndelay = \"ACCEPT\"\n", 2, "a delay needs `by`"),
        ("[[faults]]\nkill = \"executor:pi/0\"\nrestart_after = \"5s\"\n", 3, "an executor cannot be restarted"),
        ("[[faults]]\nkill = \"agent-1\"\nat = \"5m\"\n", 3, "never happens"),
        (
            "[[faults]]\nkill = \"agent-1\"\nat = \"1m\"\n[[faults]]\nkill = \"agent-1\"\nat = \"2m\"\n",
            5,
            "already dead",
        ),
        ("[[faults]]\nkill = \"agent-1\"\ndrop = \"ACCEPT\"\n", 3, "a fault has one action"),
        ("[[faults]]\nat = \"1s\"\n", 1, "a fault needs one action"),
        ("[[faults]]\ndrop = \"ACCEPT\"\nnth = 0\n", 3, "`nth` counts from 1"),
        ("[[faults]]\ndrop = \"ACCEPT\"\nprobability = 1.5\n", 3, "`probability` must be in (0, 1]"),
        ("[[faults]]\ndrop = \"ACCEPT\"\nnth = 1\nevery = true\n", 4, "choose one of nth"),
        ("[[faults]]\ndisconnect = [\"agent-1\", \"agent-2\"]\n", 2, "never hold a connection"),
        ("[[faults]]\npartition = [\"agent-1\", \"agent-1\"]\n", 2, "cannot be cut off from itself"),
        ("[[faults]]\nslow = \"agent-1\"\nthink = \"1s\"\n", 2, "only a framework"),
        (
            "[[expect]]\ncount = \"DECLINE\"\nwhere = { refuse = 120 }\nat_least = 1\n",
            3,
            "`DECLINE` has no field `refuse`",
        ),
        (
            "[[expect]]\ncount = \"TASK_LOST\"\nwhere = { reason = \"AGENT_REMOVED\" }\nat_least = 1\n",
            3,
            "not a Mesos reason name",
        ),
        ("[[expect]]\ncount = \"OFFERS\"\n", 2, "say how many"),
        ("[[expect]]\ncount = \"OFFERS\"\nat_least = 3\nat_most = 1\n", 2, "nothing can satisfy it"),
        ("[[expect]]\napp = \"etl\"\nfinishes = true\n", 2, "no app is named `etl`"),
        ("[[expect]]\nagent = \"agent-1\"\nmarked = \"gone\"\n", 3, "unknown mark `gone`"),
        ("[[expect]]\nnever = \"OFFERS\"\nexactly = 1\n", 3, "`exactly` does not apply to a `never` expectation"),
        ("[[expect]]\nfinishes = true\n", 1, "an expectation needs one subject"),
        ("[[expect]]\napp = \"pi\"\nfinishes = true\nrunning = true\n", 2, "say one of"),
        ("[[expect]]\napp = \"pi\"\nrunning = false\n", 2, "say one of"),
        ("[[faults]]\nexplode = \"master\"\n", 2, "unknown field `explode`"),
    ];
    for (script, line, needle) in cases {
        let (got_line, msg) = error_for(script);
        assert!(msg.contains(needle), "{script}\n  wanted `{needle}` in: {msg}");
        assert_eq!(got_line, *line, "{script}\n  {msg}");
    }
}

/// `[master] filter_gpu_resources`: by default (Mesos's `true`) a Spark app
/// without `spark.mesos.gpus.max` (so without GPU_RESOURCES) is never offered
/// the only agent, which has GPUs; with `false` it runs there.
#[test]
fn filter_gpu_resources_keeps_gpu_agents_from_apps_without_the_capability() {
    let src = |master: &str| {
        format!(
            r#"
[scenario]
name = "gpu"
seed = 5
until = "1m"
{master}
[[agents]]
name = "gpu-1"
resources = "cpus:4;mem:8192;gpus:2"

[[apps]]
submit = "spark-submit --master mesos://master:5050 --name pi --class P --conf spark.cores.max=4 pi.jar"
  [[apps.jobs]]
    [[apps.jobs.stages]]
    tasks = 4
    duration = "1s"

[[expect]]
app = "pi"
finishes = true
"#
        )
    };
    let filtered = run(&src(""));
    assert!(!filtered.expectations[0].held, "{:?}", filtered.expectations);
    assert_eq!(filtered.master.offers_made, 0);
    let open = run(&src("[master]\nfilter_gpu_resources = false\n"));
    assert!(open.passed(), "{:?} {:?}", open.expectations, open.checks);
}
