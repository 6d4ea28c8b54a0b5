//! The Marathon core's exact Calls and TaskInfos for given inputs, and the
//! app definition reader's located errors.

use super::app::{Backoff, UnreachableStrategy, read_app};
use super::json;
use super::scheduler::{Marathon, MarathonTimer};
use super::*;
use mesocosm_scheduler::DriverTimer;
use mesocosm_sim::proto::Resources;
use mesocosm_sim::proto::scheduler::{Call, Event, event};
use mesocosm_sim::proto::v1::{
    AgentId, Attribute, FrameworkId, Offer, OfferId, TaskId, TaskInfo, TaskState, TaskStatus, container_info, value,
};
use mesocosm_sim::{Actor, ActorId, Input, Msg, Output, SimTime};
use std::time::Duration;

const MASTER: &str = "master";
type T = DriverTimer<MarathonTimer>;
type Driver = MesosSchedulerDriver<Marathon>;

/// The seed's app JSON with its cmd on one line (the library file keeps the seed's line breaks).
const SEED_APP: &str = r#"{
  "id": "/test-docker-spark",
  "cmd": "spark-submit --master mesos://master:5050 --class com.example.Stream app.jar",
  "cpus": 2,
  "mem": 512,
  "disk": 0,
  "instances": 1,
  "constraints": [],
  "container": {
    "type": "DOCKER",
    "volumes": [{"containerPath": "/data", "hostPath": "/srv/data", "mode": "RO"}],
    "docker": {
      "image": "spark:3.5",
      "network": "HOST",
      "portMappings": null,
      "privileged": false,
      "parameters": [],
      "forcePullImage": true
    }
  },
  "portDefinitions": [{"port": 10014, "protocol": "tcp", "labels": {}}],
  "uris": ["file:///etc/docker.tar.gz"],
  "fetch": [{"uri": "file:///etc/docker.tar.gz", "extract": true, "executable": false, "cache": false}]
}"#;

fn app(text: &str) -> AppDefinition {
    read_app(&json::parse(text).expect("JSON")).expect("a valid app")
}

fn plain(instances: u32, extra: &str) -> AppDefinition {
    app(&format!(r#"{{"id": "/web", "cmd": "sleep 600", "mem": 128, "instances": {instances}{extra}}}"#))
}

fn driver(apps: Vec<AppDefinition>) -> Driver {
    let core = Marathon::new(apps.into_iter().map(Arc::new).collect(), "marathon#0");
    MesosSchedulerDriver::new(MASTER, framework_info(), core)
}

fn at(s: f64) -> SimTime {
    SimTime::ZERO.after(Duration::from_secs_f64(s))
}

fn calls(outs: &[Output<T>]) -> Vec<Call> {
    mesocosm_sim::calls_to(outs, MASTER)
}

fn types(outs: &[Output<T>]) -> Vec<&'static str> {
    calls(outs).iter().map(|c| c.r#type().as_str_name()).collect()
}

fn ev(e: Event) -> Input<T> {
    Input::Message { from: ActorId::new(MASTER), msg: Msg::from(e) }
}

/// Start and SUBSCRIBED: the driver is connected.
fn subscribe(d: &mut Driver) -> Vec<Output<T>> {
    d.step(SimTime::ZERO, Input::Start);
    d.step(
        SimTime::ZERO,
        ev(Event {
            r#type: Some(event::Type::Subscribed as i32),
            subscribed: Some(event::Subscribed {
                framework_id: FrameworkId { value: "F-0000".into() },
                heartbeat_interval_seconds: None,
                master_info: None,
            }),
            ..Default::default()
        }),
    )
}

fn offer(id: &str, agent: &str, cpus: f64, rack: &str) -> Offer {
    let mut r = Resources::scalar_of("cpus", cpus);
    r.add_scalar("mem", 4096.0);
    r.add_scalar("disk", 10000.0);
    r.add_range("ports", 31000, 31009);
    Offer {
        id: OfferId { value: id.into() },
        framework_id: FrameworkId { value: "F-0000".into() },
        agent_id: AgentId { value: format!("S-{agent}") },
        hostname: agent.into(),
        resources: r.to_protos(),
        attributes: vec![Attribute {
            name: "rack".into(),
            r#type: value::Type::Text as i32,
            text: Some(value::Text { value: rack.into() }),
            ..Default::default()
        }],
        ..Default::default()
    }
}

fn offers(os: Vec<Offer>) -> Input<T> {
    ev(Event {
        r#type: Some(event::Type::Offers as i32),
        offers: Some(event::Offers { offers: os }),
        ..Default::default()
    })
}

fn update(task: &str, agent: &str, state: TaskState) -> Input<T> {
    ev(Event {
        r#type: Some(event::Type::Update as i32),
        update: Some(event::Update {
            status: TaskStatus {
                task_id: TaskId { value: task.into() },
                state: state as i32,
                agent_id: Some(AgentId { value: format!("S-{agent}") }),
                ..Default::default()
            },
        }),
        ..Default::default()
    })
}

fn timer(t: MarathonTimer) -> Input<T> {
    Input::Timer(DriverTimer::Scheduler(t))
}

/// The TaskInfos launched among `outs`.
fn launched(outs: &[Output<T>]) -> Vec<TaskInfo> {
    calls(outs)
        .into_iter()
        .filter_map(|c| c.accept)
        .flat_map(|a| a.operations)
        .filter_map(|o| o.launch)
        .flat_map(|l| l.task_infos)
        .collect()
}

fn timers(outs: &[Output<T>]) -> Vec<(SimTime, MarathonTimer)> {
    outs.iter()
        .filter_map(|o| match o {
            Output::SetTimer { at, timer: DriverTimer::Scheduler(t) } => Some((*at, t.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn registers_as_marathon_does_and_reconciles() {
    let mut d = driver(vec![plain(1, "")]);
    let out = d.step(SimTime::ZERO, Input::Start);
    let c = &calls(&out)[0];
    let info = &c.subscribe.as_ref().expect("SUBSCRIBE").framework_info;
    assert_eq!(info.name, "marathon");
    assert_eq!(info.failover_timeout, Some(604_800.0));
    assert_eq!(info.checkpoint, Some(true));
    assert_eq!(info.roles, vec!["*".to_string()]);
    // Nothing launched yet: only implicit reconciliation, and offers wanted (no SUPPRESS).
    let out = subscribe(&mut d);
    assert_eq!(types(&out), ["RECONCILE"]);
    assert!(calls(&out)[0].reconcile.as_ref().unwrap().tasks.is_empty());
    assert_eq!(timers(&out), [(at(600.0), MarathonTimer::Reconcile)]);
}

#[test]
fn launches_the_seed_app_as_taskbuilder_builds_it() {
    let mut d = driver(vec![app(SEED_APP)]);
    subscribe(&mut d);
    let out = d.step(at(1.0), offers(vec![offer("O1", "agent-1", 4.0, "r1")]));
    assert_eq!(types(&out), ["ACCEPT", "SUPPRESS"]);
    let tasks = launched(&out);
    let t = &tasks[0];
    assert_eq!(t.name, "test-docker-spark");
    let id = &t.task_id.value;
    assert!(id.starts_with("test-docker-spark.instance-") && id.ends_with("._app.1"), "{id}");
    let r = Resources::from_protos(&t.resources);
    assert_eq!((r.scalar("cpus"), r.scalar("mem"), r.scalar("disk")), (2.0, 512.0, 0.0));
    assert_eq!(r.ranges("ports"), [(31000, 31000)]);
    let cmd = t.command.as_ref().unwrap();
    assert_eq!(
        cmd.value.as_deref(),
        Some("spark-submit --master mesos://master:5050 --class com.example.Stream app.jar")
    );
    // `uris` echoes `fetch` (as Marathon 1.x's answers did): one URI, fetch's settings.
    assert_eq!(cmd.uris.len(), 1);
    assert_eq!(cmd.uris[0].value, "file:///etc/docker.tar.gz");
    assert_eq!(
        (cmd.uris[0].extract, cmd.uris[0].executable, cmd.uris[0].cache),
        (Some(true), Some(false), Some(false))
    );
    let env: Vec<(&str, &str)> = cmd
        .environment
        .as_ref()
        .unwrap()
        .variables
        .iter()
        .map(|v| (v.name.as_str(), v.value.as_deref().unwrap_or("")))
        .collect();
    assert!(env.contains(&("PORT0", "31000")) && env.contains(&("MARATHON_APP_ID", "/test-docker-spark")));
    let c = t.container.as_ref().unwrap();
    assert_eq!(c.r#type(), container_info::Type::Docker);
    let docker = c.docker.as_ref().unwrap();
    assert_eq!(docker.image, "spark:3.5");
    assert_eq!(docker.network(), container_info::docker_info::Network::Host);
    assert_eq!((docker.privileged, docker.force_pull_image), (Some(false), Some(true)));
    assert_eq!(c.volumes[0].host_path.as_deref(), Some("/srv/data"));
    assert_eq!(c.volumes[0].container_path, "/data");
}

#[test]
fn declines_for_120s_what_does_not_fit() {
    let mut d = driver(vec![plain(1, r#", "cpus": 8"#)]);
    subscribe(&mut d);
    let out = d.step(at(1.0), offers(vec![offer("O1", "agent-1", 4.0, "r1")]));
    assert_eq!(types(&out), ["DECLINE"]);
    let filters = calls(&out)[0].decline.clone().unwrap().filters.unwrap();
    assert_eq!(filters.refuse_seconds, Some(120.0));
}

#[test]
fn unique_hostname_puts_one_instance_per_agent() {
    let mut d = driver(vec![plain(2, r#", "constraints": [["hostname", "UNIQUE"]]"#)]);
    subscribe(&mut d);
    let out = d.step(at(1.0), offers(vec![offer("O1", "agent-1", 4.0, "r1")]));
    assert_eq!(launched(&out).len(), 1, "both fit, but UNIQUE allows one on agent-1");
    let out = d.step(at(2.0), offers(vec![offer("O2", "agent-1", 3.0, "r1"), offer("O3", "agent-2", 4.0, "r1")]));
    assert_eq!(types(&out), ["DECLINE", "ACCEPT", "SUPPRESS"]);
    assert_eq!(launched(&out)[0].agent_id.value, "S-agent-2");
}

#[test]
fn like_group_by_and_max_per_follow_the_attributes() {
    let mut d = driver(vec![plain(3, r#", "constraints": [["rack", "LIKE", "r[12]"], ["rack", "MAX_PER", "2"]]"#)]);
    subscribe(&mut d);
    let out = d.step(at(1.0), offers(vec![offer("O1", "agent-3", 8.0, "r3"), offer("O2", "agent-1", 8.0, "r1")]));
    // r3 is not LIKE r[12]; r1 takes two (MAX_PER 2), the third waits.
    assert_eq!(types(&out), ["DECLINE", "ACCEPT"]);
    assert_eq!(launched(&out).len(), 2);
    let mut d = driver(vec![plain(2, r#", "constraints": [["rack", "GROUP_BY", "2"]]"#)]);
    subscribe(&mut d);
    let out = d.step(at(1.0), offers(vec![offer("O1", "agent-1", 8.0, "r1"), offer("O2", "agent-2", 8.0, "r2")]));
    let agents: Vec<String> = launched(&out).iter().map(|t| t.agent_id.value.clone()).collect();
    assert_eq!(agents, ["S-agent-1", "S-agent-2"], "GROUP_BY 2: r1 again only once two racks are in use");
}

/// Launch the one instance of `d` on agent-1 and return its task id.
fn launch_one(d: &mut Driver, now: f64) -> String {
    let out = d.step(at(now), offers(vec![offer("O", "agent-1", 4.0, "r1")]));
    launched(&out).pop().expect("a launch").task_id.value
}

#[test]
fn failed_tasks_relaunch_with_a_growing_capped_backoff() {
    let backoff = r#", "backoffSeconds": 10, "backoffFactor": 2, "maxLaunchDelaySeconds": 30"#;
    let mut d = driver(vec![plain(1, backoff)]);
    subscribe(&mut d);
    let mut now = 1.0;
    let mut task = launch_one(&mut d, now);
    // Each failure: delay 10, 20, 30 (capped at maxLaunchDelaySeconds); the
    // fourth comes 31 s after the third set its delay: more than
    // maxLaunchDelaySeconds, so `cleanUpOverdueDelays` has dropped it and
    // the backoff starts again.
    for (n, delay) in [10.0, 20.0, 30.0, 10.0].into_iter().enumerate() {
        now += 1.0;
        let out = d.step(at(now), update(&task, "agent-1", TaskState::TaskFailed));
        assert_eq!(timers(&out), [(at(now + delay), MarathonTimer::DelayOver { app: 0 })], "failure {n}");
        // A delayed app wants no offers: SUPPRESS, and an offer now is declined.
        assert!(types(&out).is_empty(), "already suppressed since the launch: {:?}", types(&out));
        let out = d.step(at(now + delay - 0.5), offers(vec![offer("O", "agent-1", 4.0, "r1")]));
        assert_eq!(types(&out), ["DECLINE"]);
        now += delay;
        let out = d.step(at(now), timer(MarathonTimer::DelayOver { app: 0 }));
        assert_eq!(types(&out), ["REVIVE"]);
        task = launch_one(&mut d, now);
        assert!(task.ends_with(&format!("._app.{}", n + 2)), "the same instance, incarnation {}: {task}", n + 2);
    }
}

#[test]
fn a_healthy_run_of_max_launch_delay_resets_the_backoff() {
    let mut d = driver(vec![plain(1, r#", "backoffSeconds": 10, "backoffFactor": 2, "maxLaunchDelaySeconds": 30"#)]);
    subscribe(&mut d);
    let task = launch_one(&mut d, 1.0);
    d.step(at(2.0), update(&task, "agent-1", TaskState::TaskFailed));
    d.step(at(12.0), timer(MarathonTimer::DelayOver { app: 0 }));
    let task = launch_one(&mut d, 12.0);
    d.step(at(13.0), update(&task, "agent-1", TaskState::TaskRunning));
    // Running from 13 s: the delay's clock restarted then; at 13 + 30 s it is overdue.
    let out = d.step(at(44.0), update(&task, "agent-1", TaskState::TaskFailed));
    assert_eq!(timers(&out), [(at(54.0), MarathonTimer::DelayOver { app: 0 })], "back to backoffSeconds");
}

#[test]
fn killed_tasks_relaunch_at_once_without_a_new_delay() {
    let mut d = driver(vec![plain(1, "")]);
    subscribe(&mut d);
    let task = launch_one(&mut d, 1.0);
    let out = d.step(at(2.0), update(&task, "agent-1", TaskState::TaskKilled));
    assert_eq!(types(&out), ["REVIVE"]);
    assert!(timers(&out).is_empty());
    let next = launch_one(&mut d, 2.0);
    assert!(next.ends_with("._app.2"));
}

#[test]
fn unreachable_tasks_are_replaced_then_expunged_per_the_strategy() {
    let strategy = r#", "unreachableStrategy": {"inactiveAfterSeconds": 60, "expungeAfterSeconds": 120}"#;
    let mut d = driver(vec![plain(1, strategy)]);
    subscribe(&mut d);
    let old = launch_one(&mut d, 1.0);
    d.step(at(2.0), update(&old, "agent-1", TaskState::TaskRunning));
    let out = d.step(at(80.0), update(&old, "agent-1", TaskState::TaskUnreachable));
    assert!(types(&out).is_empty());
    let instance = old.trim_end_matches("._app.1").to_string();
    assert_eq!(
        timers(&out),
        [
            (at(140.0), MarathonTimer::Inactive { instance: instance.clone(), incarnation: 1 }),
            (at(200.0), MarathonTimer::Expunge { instance: instance.clone(), incarnation: 1 }),
        ]
    );
    let out = d.step(at(140.0), timer(MarathonTimer::Inactive { instance: instance.clone(), incarnation: 1 }));
    assert_eq!(types(&out), ["REVIVE"]);
    let out = d.step(at(141.0), offers(vec![offer("O", "agent-2", 4.0, "r1")]));
    let new = launched(&out).pop().unwrap().task_id.value;
    assert!(!new.starts_with(&instance), "a new instance: {new}");
    // The old one comes back: one too many, killed.
    let out = d.step(at(150.0), update(&old, "agent-1", TaskState::TaskRunning));
    assert_eq!(types(&out), ["KILL"]);
    assert_eq!(calls(&out)[0].kill.as_ref().unwrap().task_id.value, old);
}

#[test]
fn unreachable_with_the_strategy_disabled_waits() {
    let mut d = driver(vec![plain(1, r#", "unreachableStrategy": "disabled""#)]);
    subscribe(&mut d);
    let old = launch_one(&mut d, 1.0);
    let out = d.step(at(80.0), update(&old, "agent-1", TaskState::TaskUnreachable));
    assert!(types(&out).is_empty() && timers(&out).is_empty());
}

#[test]
fn resubscription_reconciles_known_tasks_and_unknown_tasks_are_killed() {
    let mut d = driver(vec![plain(1, "")]);
    subscribe(&mut d);
    let task = launch_one(&mut d, 1.0);
    d.step(at(5.0), Input::Disconnected { peer: ActorId::new(MASTER) });
    let out = d.step(
        at(7.0),
        ev(Event {
            r#type: Some(event::Type::Subscribed as i32),
            subscribed: Some(event::Subscribed {
                framework_id: FrameworkId { value: "F-0000".into() },
                heartbeat_interval_seconds: None,
                master_info: None,
            }),
            ..Default::default()
        }),
    );
    let c = calls(&out);
    assert_eq!(types(&out), ["RECONCILE", "RECONCILE", "SUPPRESS"]);
    assert_eq!(c[0].reconcile.as_ref().unwrap().tasks[0].task_id.value, task);
    let out = d.step(at(8.0), update("other.instance-x._app.1", "agent-1", TaskState::TaskRunning));
    assert_eq!(types(&out), ["KILL"]);
}

#[test]
fn the_seed_app_reads_with_marathons_defaults() {
    let a = app(SEED_APP);
    assert_eq!(a.id, "/test-docker-spark");
    assert_eq!((a.cpus, a.mem, a.disk, a.instances), (2.0, 512.0, 0.0, 1));
    assert_eq!(a.backoff, Backoff::default());
    assert_eq!(a.backoff.max_launch_delay, Duration::from_secs(300));
    assert_eq!(
        a.unreachable,
        UnreachableStrategy::Enabled { inactive_after: Duration::ZERO, expunge_after: Duration::ZERO }
    );
    assert_eq!(a.host_ports(), [0]);
}

/// The first problem's message and the text it points at.
fn problem(text: &str) -> (String, String) {
    let (span, msg) = match json::parse(text) {
        Err(e) => (e.at, e.message),
        Ok(v) => read_app(&v).unwrap_err().remove(0),
    };
    (msg, text[span].to_string())
}

#[test]
fn bad_apps_are_refused_at_the_value_with_the_json_path() {
    let (m, at) = problem(
        r#"{"id": "/a", "cmd": "x", "container": {"type": "DOCKER", "docker": {"image": "i", "netwrk": "HOST"}}}"#,
    );
    assert!(m.contains("`netwrk` is not a field") && m.contains("/container/docker/netwrk"), "{m}");
    assert_eq!(at, r#""netwrk""#);
    let (m, at) = problem(r#"{"id": "/a", "cmd": "x", "healthChecks": []}"#);
    assert!(m.contains("does not model"), "{m}");
    assert_eq!(at, r#""healthChecks""#);
    let (m, at) = problem(r#"{"id": "/a", "cmd": "x", "constraints": [["hostname", "SPREAD"]]}"#);
    assert!(m.contains("not a Marathon constraint operator") && m.contains("/constraints/0/1"), "{m}");
    assert_eq!(at, r#""SPREAD""#);
    let (m, at) = problem(r#"{"id": "/a", "cmd": "x", "backoffSeconds": -1}"#);
    assert!(m.contains("at least 0") && m.contains("/backoffSeconds"), "{m}");
    assert_eq!(at, "-1");
    let (m, _) = problem(r#"{"id": "/a", "cmd": "x", "backoffFactor": 0.5}"#);
    assert!(m.contains("at least 1"), "{m}");
    let (m, _) = problem(r#"{"id": "/A_b", "cmd": "x"}"#);
    assert!(m.contains("not a valid app id"), "{m}");
    let (m, _) = problem(
        r#"{"id": "/a", "cmd": "x", "unreachableStrategy": {"inactiveAfterSeconds": 10, "expungeAfterSeconds": 5}}"#,
    );
    assert!(m.contains("must not be more than expungeAfterSeconds"), "{m}");
    let (m, _) = problem(r#"{"id": "/a", "cmd": "x", "constraints": [["rack", "LIKE", "("]]}"#);
    assert!(m.contains("not a valid regular expression"), "{m}");
    let (m, _) = problem(r#"{"id": "/a", "cmd": "x", "uris": ["a.tgz"], "fetch": [{"uri": "b.tgz"}]}"#);
    assert!(m.contains("different URIs"), "{m}");
    let (m, _) = problem(r#"{"id": "/a"}"#);
    assert!(m.contains("needs a `cmd`"), "{m}");
}

#[test]
fn a_restarted_marathon_reloads_its_instances_and_reconciles_them() {
    let store = scheduler::Store::default();
    let apps = vec![Arc::new(plain(1, ""))];
    let mut d = MesosSchedulerDriver::new(
        MASTER,
        framework_info(),
        Marathon::new(apps.clone(), "marathon#0").with_store(store.clone()),
    );
    subscribe(&mut d);
    let task = launch_one(&mut d, 1.0);
    // A new process with the same store: it knows the task, launches nothing new.
    let mut d =
        MesosSchedulerDriver::new(MASTER, framework_info(), Marathon::new(apps, "marathon#1").with_store(store));
    let out = subscribe(&mut d);
    assert_eq!(types(&out), ["RECONCILE", "RECONCILE", "SUPPRESS"]);
    assert_eq!(calls(&out)[0].reconcile.as_ref().unwrap().tasks[0].task_id.value, task);
    let out = d.step(at(3.0), update(&task, "agent-1", TaskState::TaskRunning));
    assert!(types(&out).is_empty(), "its own task: no KILL");
}
