//! Frameworks other than Spark: built in Rust with the public cluster
//! builder, or named in a scenario file through the registry.

use mesocosm::cluster::{Cluster, Framework, FrameworkCtx, Process, Report, Runtime};
use mesocosm::registry::{FrameworkPlugin, FrameworkSpec, PluginConfig, Registry};
use mesocosm::runner::{self, RunOptions};
use mesocosm::scenario;
use mesocosm::script::{AppOutcome, Expect, Fault};
use mesocosm_sim::faults::MessageFault;
use mesocosm_sim::proto::mesos::v1::FrameworkInfo;
use mesocosm_sim::proto::scheduler::{Call, call, event};
use mesocosm_sim::{Actor, ActorId, Input, Msg, Outbox, Transport};
use std::sync::Arc;
use std::time::Duration;

/// A framework that subscribes, declines every offer, and tears down and
/// exits 0 `stay` after it is subscribed.
struct Visitor {
    name: String,
    master: ActorId,
    stay: Duration,
    framework_id: Option<mesocosm_sim::proto::mesos::v1::FrameworkId>,
}

impl Visitor {
    fn new(ctx: &FrameworkCtx<'_>, stay: Duration) -> Visitor {
        Visitor { name: ctx.name.to_string(), master: ctx.master.clone(), stay, framework_id: None }
    }

    fn call(&self, t: call::Type) -> Call {
        Call { framework_id: self.framework_id.clone(), r#type: Some(t as i32), ..Default::default() }
    }
}

impl Actor for Visitor {
    type Timer = ();

    fn handle(&mut self, input: Input<()>, out: &mut Outbox<()>) {
        match input {
            Input::Start => {
                let mut c = self.call(call::Type::Subscribe);
                c.subscribe = Some(call::Subscribe {
                    framework_info: FrameworkInfo {
                        user: "test".into(),
                        name: self.name.clone(),
                        ..Default::default()
                    },
                    suppressed_roles: vec![],
                });
                out.send(&self.master, c);
            }
            Input::Message { msg: Msg::SchedulerEvent(e), .. } => match e.r#type() {
                event::Type::Subscribed => {
                    self.framework_id = e.subscribed.map(|s| s.framework_id);
                    out.set_timer(self.stay, ());
                }
                event::Type::Offers => {
                    let ids = e.offers.map(|o| o.offers).unwrap_or_default().into_iter().map(|o| o.id).collect();
                    let mut c = self.call(call::Type::Decline);
                    c.decline = Some(call::Decline { offer_ids: ids, filters: None });
                    out.send(&self.master, c);
                }
                _ => {}
            },
            Input::Timer(()) => {
                out.send(&self.master, self.call(call::Type::Teardown));
                out.exit(0);
            }
            _ => {}
        }
    }
}

fn count_kind(expect_from: &str, kind: &str, at_least: u64) -> Expect {
    Expect::Count {
        what: kind.into(),
        from: Some(mesocosm_sim::faults::Pattern::new(expect_from)),
        to: None,
        wheres: vec![],
        at_least: Some(at_least),
        at_most: None,
    }
}

#[test]
fn a_framework_built_in_rust_is_killed_restarted_and_judged() {
    let report = Cluster::builder(3)
        .name("visitor")
        .agents("agent", 2, "cpus:2;mem:1024")
        .expect("agents")
        .framework("visitor", Duration::from_secs(1), |ctx| Visitor::new(ctx, Duration::from_secs(10)))
        .fault(
            "kill visitor",
            Fault::kill("scheduler:visitor", Duration::from_secs(5)).restart_after(Duration::from_secs(2)),
        )
        .fault("lose a decline", Fault::Message(MessageFault::drop("DECLINE").from("scheduler:visitor").nth(1)))
        .expect("it finishes", Expect::framework("visitor", AppOutcome::Finishes))
        // The restarted scheduler is a new process: the factory ran again and it subscribed again.
        .expect("subscribed twice", count_kind("scheduler:visitor", "SUBSCRIBE", 2))
        .until(Duration::from_secs(120))
        .run(Runtime { transport: Transport::Memory, ..Runtime::default() })
        .expect("the run");
    let summary = rendered(&report);
    assert!(report.passed(), "{summary}");
    let v = report.framework("visitor").expect("reported");
    assert_eq!(v.actor.as_str(), "scheduler:visitor");
    assert!(v.finished() && !v.failed(), "{summary}");
    // First start at 1 s, killed at 5 s, restarted at 7 s, subscribed, 10 s later it leaves.
    let (exit_at, _) = v.exit.expect("it exited");
    assert!(exit_at.as_secs_f64() > 17.0, "{summary}");
    assert!(summary.contains("framework visitor: started 1.000000s, scheduler exited"), "{summary}");
    assert!(report.expectations.iter().all(|e| e.held), "{summary}");
    let lost = report.faults.iter().find(|f| f.label == "lose a decline").expect("reported under its label");
    assert_eq!(lost.applied, 1, "{summary}");
}

#[test]
fn a_framework_that_never_ends_fails_the_implicit_check() {
    let report = Cluster::builder(3)
        .agents("agent", 1, "cpus:2;mem:1024")
        .expect("agents")
        .framework("stuck", Duration::ZERO, |ctx| Visitor::new(ctx, Duration::from_secs(3600)))
        .until(Duration::from_secs(30))
        .run(Runtime { transport: Transport::Memory, ..Runtime::default() })
        .expect("the run");
    assert!(!report.passed());
    assert_eq!(report.checks.len(), 1, "{:?}", report.checks);
    assert_eq!(report.checks[0].check, "framework finishes");
    assert!(report.checks[0].message.starts_with("framework stuck did not finish"), "{:?}", report.checks);
}

/// A plugin for tests: `kind = "visitor"`, with `stay` in its config.
struct VisitorPlugin;

#[derive(Debug)]
struct VisitorSpec {
    stay: Duration,
}

impl FrameworkPlugin for VisitorPlugin {
    fn parse(&self, config: &mut PluginConfig) -> Option<Arc<dyn FrameworkSpec>> {
        Some(Arc::new(VisitorSpec { stay: config.duration("stay", Duration::from_secs(1)) }))
    }
}

impl FrameworkSpec for VisitorSpec {
    fn framework(&self, _name: &str) -> Box<dyn Framework> {
        let stay = self.stay;
        struct F(Duration);
        impl Framework for F {
            fn start(&mut self, ctx: &FrameworkCtx<'_>) -> Process {
                Process::new(Visitor::new(ctx, self.0))
            }
        }
        Box::new(F(stay))
    }
}

const VISITORS: &str = r#"
[scenario]
name = "visitors"
until = "2m"

[[agents]]
name = "agent"
count = 2
resources = "cpus:2;mem:1024"

[[frameworks]]
kind = "visitor"
name = "v"
count = 2
at = "1s"
[frameworks.config]
stay = "5s"

[[faults]]
kill = "scheduler:v-2"
at = "3s"
restart_after = "1s"

[[expect]]
app = "v-1"
finishes = true
before = "10s"

[[expect]]
count = "SUBSCRIBE"
from = "scheduler:v-2"
at_least = 2
"#;

#[test]
fn a_registered_framework_runs_from_toml_with_faults_and_expectations() {
    let mut registry = Registry::default();
    registry.register_framework("visitor", VisitorPlugin);
    let s = scenario::parse_with("visitors.toml", VISITORS, &registry).expect("valid");
    assert_eq!(s.frameworks.len(), 2);
    let r = runner::run(&s, RunOptions { transport: Transport::Memory, ..RunOptions::default() }).expect("the run");
    let summary = rendered(&r);
    assert!(r.passed(), "{summary}");
    assert_eq!(r.frameworks.iter().map(|f| f.actor.as_str()).collect::<Vec<_>>(), ["scheduler:v-1", "scheduler:v-2"]);
    // Without the registration, the kind is unknown: exit 2 at the `kind` value.
    let err = scenario::parse("visitors.toml", VISITORS).expect_err("unknown kind");
    let d = &err.0[0];
    assert_eq!((d.line, d.col), (12, 8), "{err}");
    assert!(d.message.contains("unknown framework kind `visitor`"), "{err}");
    assert!(d.message.contains("known kinds: sleep-tasks"), "{err}");
}

#[test]
fn a_plugin_config_key_nobody_reads_is_an_error_at_the_key() {
    let mut registry = Registry::empty();
    registry.register_framework("visitor", VisitorPlugin);
    let src = VISITORS.replace("stay = \"5s\"", "stay = \"5s\"\nsaty = \"1s\"");
    let err = scenario::parse_with("visitors.toml", &src, &registry).expect_err("misspelt key");
    let d = &err.0[0];
    assert_eq!(d.line, 18, "{err}");
    assert!(d.message.contains("`saty` is not a setting of kind `visitor` (it takes: stay)"), "{err}");
    let src = VISITORS.replace("stay = \"5s\"", "stay = \"soon\"");
    let err = scenario::parse_with("visitors.toml", &src, &registry).expect_err("bad duration");
    assert_eq!((err.0[0].line, err.0[0].col), (17, 8), "{err}");
}

/// `sleep-tasks` (built in) on Mesos's random sorters, with an agent killed
/// under it: the framework relaunches what was lost and every task finishes.
const SLEEPY: &str = r#"
[scenario]
name = "sleepy"
until = "5m"

[master]
role_sorter = "random"
framework_sorter = "random"

[[agents]]
name = "agent"
count = 2
resources = "cpus:2;mem:1024"

[[frameworks]]
kind = "sleep-tasks"
name = "batch"
count = 2
[frameworks.config]
tasks = 5
cpus = 1
mem = 128
duration = "10s"

[[faults]]
kill = "agent-1"
at = "5s"
restart_after = "20s"

[[expect]]
app = "batch-1"
finishes = true

[[expect]]
count = "TASK_FINISHED"
to = "scheduler:*"
at_least = 10
"#;

fn temp_file(name: &str, text: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("mesocosm-frameworks-rs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn mesocosm(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_mesocosm")).args(args).output().expect("run the mesocosm binary")
}

#[test]
fn sleep_tasks_on_the_random_sorter_runs_from_the_cli() {
    let s = scenario::parse("sleepy.toml", SLEEPY).expect("valid");
    assert_eq!(s.master.role_sorter.name(), "random");
    assert_eq!(s.master.framework_sorter.name(), "random");
    let r = runner::run(&s, RunOptions { transport: Transport::Memory, ..RunOptions::default() }).expect("the run");
    let summary = rendered(&r);
    assert!(r.passed(), "{summary}");
    assert!(r.frameworks.iter().all(|f| f.finished()), "{summary}");
    // The agent's death cost tasks that were launched again: more launches than tasks.
    assert!(r.master.tasks_launched > 10, "{summary}");
    // The same trace over gRPC and in memory.
    let grpc = runner::run(&s, RunOptions::default()).expect("the run over gRPC");
    assert_eq!(grpc.digest, r.digest);
    let path = temp_file("sleepy.toml", SLEEPY);
    let out = mesocosm(&["run", path.to_str().unwrap(), "--quiet"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
}

#[test]
fn an_unknown_kind_or_sorter_is_exit_2_at_its_line() {
    let bad_kind = SLEEPY.replace("kind = \"sleep-tasks\"", "kind = \"sleep-task\"");
    let path = temp_file("bad-kind.toml", &bad_kind);
    let out = mesocosm(&["run", path.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("bad-kind.toml:16:8: unknown framework kind `sleep-task` (known kinds: sleep-tasks"), "{err}");

    let bad_sorter = SLEEPY.replace("role_sorter = \"random\"", "role_sorter = \"fair\"");
    let path = temp_file("bad-sorter.toml", &bad_sorter);
    let out = mesocosm(&["run", path.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("bad-sorter.toml:7:15: unknown sorter `fair` for `role_sorter` (known sorters: drf, random)"),
        "{err}"
    );
}

#[test]
fn a_registered_sorter_is_a_known_name() {
    let mut registry = Registry::default();
    registry.register_sorter("lifo", || mesocosm_master::SorterChoice::random().make());
    let src = SLEEPY.replace("role_sorter = \"random\"", "role_sorter = \"lifo\"");
    let s = scenario::parse_with("lifo.toml", &src, &registry).expect("valid with the registry");
    assert_eq!(s.master.role_sorter.name(), "lifo");
    assert!(scenario::parse("lifo.toml", &src).is_err(), "unknown without it");
}

/// A program for command tasks whose process crashes at once (exit 1): the
/// agent fails each task it is given.
struct Crasher;

struct Crash;

impl Actor for Crash {
    type Timer = ();
    fn handle(&mut self, input: Input<()>, out: &mut Outbox<()>) {
        if input == Input::Start {
            out.exit(1);
        }
    }
}

impl mesocosm_executor::Program for Crasher {
    fn name(&self) -> &str {
        "crasher"
    }
    fn runs(&self, launch: &mesocosm_sim::Launch) -> bool {
        launch.task.command.as_ref().and_then(|c| c.value.as_deref()).is_some_and(|c| c.starts_with("sleep"))
    }
    fn start(&self, world: &mesocosm_sim::World, agent: &ActorId, launch: mesocosm_sim::Launch) {
        world.spawn(launch.actor, Crash, Some(agent.clone()));
    }
}

#[test]
fn a_program_added_to_the_builder_runs_the_tasks_and_its_failures_reach_the_framework() {
    use mesocosm::frameworks::sleep_tasks::{MAX_ATTEMPTS, SleepTasksSpec};
    let spec = SleepTasksSpec {
        tasks: 1,
        cpus: 1.0,
        mem: 64.0,
        duration: Duration::from_secs(1),
        failover_timeout: Duration::ZERO,
    };
    let report = Cluster::builder(5)
        .agents("agent", 1, "cpus:2;mem:1024")
        .expect("agents")
        .add_framework("batch", ActorId::new("scheduler:batch"), Duration::ZERO, spec)
        .program(Crasher)
        .expect("it gives up", Expect::framework("batch", AppOutcome::Fails))
        .until(Duration::from_secs(120))
        .run(Runtime { transport: Transport::Memory, ..Runtime::default() })
        .expect("the run");
    let summary = rendered(&report);
    assert!(report.passed(), "{summary}");
    assert_eq!(report.framework("batch").and_then(|f| f.exit).map(|(_, s)| s), Some(1), "{summary}");
    // Every attempt ran under the crasher, none under Mesos's command executor.
    assert_eq!(report.master.tasks_launched, u64::from(MAX_ATTEMPTS), "{summary}");
}

#[test]
fn a_program_in_the_registry_runs_a_scenario_files_tasks() {
    let src = SLEEPY
        .replace("[[expect]]\napp = \"batch-1\"\nfinishes = true", "[[expect]]\napp = \"batch-1\"\nfails = true")
        .replace("[[expect]]\ncount = \"TASK_FINISHED\"\nto = \"scheduler:*\"\nat_least = 10\n", "");
    assert!(src.contains("fails = true") && !src.contains("TASK_FINISHED"));
    let mut registry = Registry::default();
    registry.register_program(Crasher);
    let s = scenario::parse_with("crash.toml", &src, &registry).expect("valid");
    let r = runner::run_with(&s, RunOptions { transport: Transport::Memory, ..RunOptions::default() }, &registry)
        .expect("the run");
    let summary = rendered(&r);
    assert!(r.framework("batch-1").is_some_and(|f| f.failed()), "{summary}");
    // With the stock registry the same file's tasks sleep and finish.
    let ok = runner::run(&s, RunOptions { transport: Transport::Memory, ..RunOptions::default() }).expect("the run");
    assert!(ok.framework("batch-1").is_some_and(|f| f.finished()));
}

#[test]
fn a_disconnected_scheduler_survives_only_within_its_failover_timeout() {
    let with_disconnect = |failover: &str| {
        SLEEPY.replace("duration = \"10s\"", &format!("duration = \"10s\"\nfailover_timeout = \"{failover}\"")).replace(
            "[[faults]]\nkill = \"agent-1\"",
            "[[faults]]\ndisconnect = [\"scheduler:batch-1\", \"master\"]\nat = \"3s\"\n\n[[faults]]\nkill = \"agent-1\"",
        )
    };
    let run = |src: &str| {
        let s = scenario::parse("disconnect.toml", src).expect("valid");
        runner::run(&s, RunOptions { transport: Transport::Memory, ..RunOptions::default() }).expect("the run")
    };
    // Within a minute's failover_timeout it SUBSCRIBEs again with its id and finishes.
    let kept = run(&with_disconnect("1m"));
    assert!(kept.passed(), "{}", rendered(&kept));
    // With Mesos's default 0 the master removes it at once; its re-SUBSCRIBE
    // is answered with an ERROR and it exits 1.
    let removed = run(&with_disconnect("0s"));
    assert!(removed.framework("batch-1").is_some_and(|f| f.failed()));
    assert!(removed.framework("batch-2").is_some_and(|f| f.finished()));
}

/// The report's printed summary, for assertion messages.
fn rendered(report: &Report) -> String {
    let mut summary = Vec::new();
    report.render(&mut summary).unwrap();
    String::from_utf8(summary).unwrap()
}
