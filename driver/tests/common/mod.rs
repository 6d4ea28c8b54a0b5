//! Shared builders for the driver's integration tests.
#![allow(dead_code)]

use mesocosm_driver::{DriverConfig, DriverTimer, Job, SparkDriver, SparkSettings, Stage};
use mesocosm_sim::proto::Resources;
use mesocosm_sim::proto::scheduler::{Call, Event, event};
use mesocosm_sim::proto::sparkrpc;
use mesocosm_sim::proto::v1::{
    AgentId, Attribute, FrameworkId, Offer, OfferId, Resource, TaskId, TaskInfo, TaskState, TaskStatus, task_status,
    value,
};
use mesocosm_sim::{Actor, ActorId, Input, Msg, Output, SimTime};
use prost::Message;
use std::time::Duration;

pub const UUID: &str = "6a1f3a0e-1111-4222-8333-444455556666";
pub const DRIVER_URL: &str = "spark://CoarseGrainedScheduler@driver-host:7078";

pub fn fid() -> String {
    format!("{UUID}-0000")
}

pub fn framework_id() -> FrameworkId {
    FrameworkId { value: fid() }
}

pub fn agent_id(n: u32) -> AgentId {
    AgentId { value: format!("{UUID}-S{n}") }
}

pub fn offer_id(n: u32) -> OfferId {
    OfferId { value: format!("{UUID}-O{n}") }
}

pub fn settings() -> SparkSettings {
    SparkSettings::default()
}

pub fn config(settings: SparkSettings, workload: Vec<Job>) -> DriverConfig {
    DriverConfig {
        me: ActorId::new("driver:pi"),
        master: ActorId::new("master"),
        app_name: "pi".into(),
        user: "alice".into(),
        hostname: "driver-host".into(),
        driver_url: DRIVER_URL.into(),
        settings,
        properties: vec![("spark.app.name".into(), "pi".into()), ("spark.master".into(), "mesos://master:5050".into())],
        workload,
        framework_id: None,
        host_files: Default::default(),
        zk: None,
    }
}

/// One job with one stage of `n` one-second tasks.
pub fn one_stage(n: usize) -> Vec<Job> {
    vec![Job {
        name: "count".into(),
        stages: vec![Stage::new("count at Pi.scala:38", vec![Duration::from_secs(1); n])],
    }]
}

pub fn at(secs: f64) -> SimTime {
    SimTime((secs * 1e6).round() as u64)
}

pub fn master() -> ActorId {
    ActorId::new("master")
}

pub fn exec_actor(id: &str) -> ActorId {
    ActorId::new(format!("executor:pi/{id}"))
}

pub fn event_msg(e: Event) -> Input<DriverTimer> {
    Input::Message { from: master(), msg: Msg::from(e) }
}

pub fn subscribed() -> Input<DriverTimer> {
    event_msg(Event {
        r#type: Some(event::Type::Subscribed as i32),
        subscribed: Some(event::Subscribed {
            framework_id: framework_id(),
            heartbeat_interval_seconds: Some(15.0),
            master_info: None,
        }),
        ..Default::default()
    })
}

/// A driver that has subscribed (outputs of both steps dropped).
pub fn running(settings: SparkSettings, workload: Vec<Job>) -> SparkDriver {
    let mut d = SparkDriver::new(config(settings, workload));
    d.step(at(0.0), Input::Start);
    d.step(at(0.1), subscribed());
    d
}

pub fn offer(n: u32, agent: u32, cpus: f64, mem: f64) -> Offer {
    let mut r = Resources::new();
    r.add_scalar("cpus", cpus);
    r.add_scalar("mem", mem);
    Offer {
        id: offer_id(n),
        framework_id: framework_id(),
        agent_id: agent_id(agent),
        hostname: format!("agent-{agent}"),
        resources: r.to_protos(),
        ..Default::default()
    }
}

pub fn with_text_attr(mut o: Offer, name: &str, v: &str) -> Offer {
    o.attributes.push(Attribute {
        name: name.into(),
        r#type: value::Type::Text as i32,
        text: Some(value::Text { value: v.into() }),
        ..Default::default()
    });
    o
}

pub fn offers(list: Vec<Offer>) -> Input<DriverTimer> {
    event_msg(Event {
        r#type: Some(event::Type::Offers as i32),
        offers: Some(event::Offers { offers: list }),
        ..Default::default()
    })
}

/// An UPDATE event carrying `status`.
pub fn update_event(status: TaskStatus) -> Input<DriverTimer> {
    event_msg(Event {
        r#type: Some(event::Type::Update as i32),
        update: Some(event::Update { status }),
        ..Default::default()
    })
}

/// A status update the master made itself: no uuid, so no acknowledgement.
pub fn master_update(task: &str, agent: u32, state: TaskState, reason: task_status::Reason) -> Input<DriverTimer> {
    update_event(TaskStatus {
        task_id: TaskId { value: task.into() },
        state: state as i32,
        source: Some(task_status::Source::Master as i32),
        reason: Some(reason as i32),
        agent_id: Some(agent_id(agent)),
        ..Default::default()
    })
}

/// An executor's status update, relayed by the master, with a uuid to acknowledge.
pub fn update(task: &str, agent: u32, state: TaskState, uuid: u8) -> Input<DriverTimer> {
    update_event(TaskStatus {
        task_id: TaskId { value: task.into() },
        state: state as i32,
        source: Some(task_status::Source::Executor as i32),
        agent_id: Some(agent_id(agent)),
        uuid: Some(vec![uuid; 16]),
        ..Default::default()
    })
}

/// The SUBSCRIBE the test driver sends (Spark's FrameworkInfo), with `id` once it has one.
pub fn subscribe_call(id: Option<FrameworkId>) -> Call {
    Call {
        framework_id: id.clone(),
        r#type: Some(mesocosm_sim::proto::scheduler::call::Type::Subscribe as i32),
        subscribe: Some(mesocosm_sim::proto::scheduler::call::Subscribe {
            framework_info: mesocosm_sim::proto::v1::FrameworkInfo {
                user: "alice".into(),
                name: "pi".into(),
                id,
                failover_timeout: Some(0.0),
                hostname: Some("driver-host".into()),
                webui_url: Some("http://driver-host:4040".into()),
                ..Default::default()
            },
            suppressed_roles: vec![],
        }),
        ..Default::default()
    }
}

pub fn from_exec(id: &str, msg: impl Into<Msg>) -> Input<DriverTimer> {
    Input::Message { from: exec_actor(id), msg: msg.into() }
}

pub fn register(id: &str, host: &str, cores: i32) -> Input<DriverTimer> {
    from_exec(
        id,
        sparkrpc::RegisterExecutor {
            executor_id: id.into(),
            executor_ref: format!("spark://Executor@{host}:35000"),
            hostname: host.into(),
            cores,
            ..Default::default()
        },
    )
}

pub fn launched(id: &str) -> Input<DriverTimer> {
    from_exec(id, sparkrpc::LaunchedExecutor { executor_id: id.into() })
}

pub fn task_update(exec: &str, tid: i64, state: sparkrpc::TaskState) -> Input<DriverTimer> {
    from_exec(
        exec,
        sparkrpc::StatusUpdate {
            executor_id: exec.into(),
            task_id: tid,
            state: state as i32,
            task_cpus: 1,
            ..Default::default()
        },
    )
}

/// The Mesos calls among `outputs`, in order.
pub fn calls(outputs: &[Output<DriverTimer>]) -> Vec<Call> {
    outputs
        .iter()
        .filter_map(|o| match o {
            Output::Send { to, msg: Msg::SchedulerCall(c) } if to.as_str() == "master" => Some((**c).clone()),
            _ => None,
        })
        .collect()
}

/// Each call's type name, e.g. `["ACCEPT", "DECLINE"]`.
pub fn kinds(outputs: &[Output<DriverTimer>]) -> Vec<&'static str> {
    calls(outputs).iter().map(|c| c.r#type().as_str_name()).collect()
}

/// The tasks sent with LaunchTask, as (executor actor, TaskDescription).
pub fn launches(outputs: &[Output<DriverTimer>]) -> Vec<(String, sparkrpc::TaskDescription)> {
    outputs
        .iter()
        .filter_map(|o| match o {
            Output::Send { to, msg: Msg::LaunchTask(l) } => {
                Some((to.to_string(), sparkrpc::TaskDescription::decode(l.data.as_slice()).unwrap()))
            }
            _ => None,
        })
        .collect()
}

/// `(tid, index, executor id)` of each launch.
pub fn placed(outputs: &[Output<DriverTimer>]) -> Vec<(i64, i32, String)> {
    launches(outputs).into_iter().map(|(_, d)| (d.task_id, d.index, d.executor_id)).collect()
}

pub fn notes(outputs: &[Output<DriverTimer>]) -> Vec<String> {
    outputs
        .iter()
        .filter_map(|o| match o {
            Output::Note(n) => Some(n.clone()),
            _ => None,
        })
        .collect()
}

pub fn exits(outputs: &[Output<DriverTimer>]) -> Vec<i32> {
    outputs
        .iter()
        .filter_map(|o| match o {
            Output::Exit { status } => Some(*status),
            _ => None,
        })
        .collect()
}

pub fn timers(outputs: &[Output<DriverTimer>]) -> Vec<(SimTime, DriverTimer)> {
    outputs
        .iter()
        .filter_map(|o| match o {
            Output::SetTimer { at, timer } => Some((*at, *timer)),
            _ => None,
        })
        .collect()
}

/// executor.cores=2, cores.max=4, two 4-cpu offers → executor 0 on agent-1,
/// executor 1 on agent-2; both registered and launched. Returns the driver
/// and the outputs of the two `LaunchedExecutor` steps.
pub fn two_executors(workload: Vec<Job>) -> (SparkDriver, Vec<Output<DriverTimer>>, Vec<Output<DriverTimer>>) {
    let s = SparkSettings { executor_cores: Some(2), cores_max: Some(4), ..SparkSettings::default() };
    let mut d = running(s, workload);
    let out = d.step(at(1.0), offers(vec![offer(1, 1, 4.0, 8192.0), offer(2, 2, 4.0, 8192.0)]));
    assert_eq!(kinds(&out), vec!["ACCEPT", "ACCEPT"]);
    d.step(at(2.0), register("0", "agent-1", 2));
    let l0 = d.step(at(2.1), launched("0"));
    d.step(at(2.2), register("1", "agent-2", 2));
    let l1 = d.step(at(2.3), launched("1"));
    (d, l0, l1)
}

/// (task id, index, executor) triples as owned strings, for comparisons.
pub fn ids(v: &[(i64, i32, &str)]) -> Vec<(i64, i32, String)> {
    v.iter().map(|(t, i, e)| (*t, *i, e.to_string())).collect()
}

/// `o` with the port range `[begin, end]` added (role unset, i.e. `*`).
pub fn with_ports(mut o: Offer, begin: u64, end: u64) -> Offer {
    let mut r = Resources::new();
    r.add_range("ports", begin, end);
    o.resources.extend(r.to_protos());
    o
}

/// `o` with `n` GPUs added.
pub fn with_gpus(mut o: Offer, n: f64) -> Offer {
    o.resources.extend(Resources::scalar_of("gpus", n).to_protos());
    o
}

/// A scalar as Spark puts it in a TaskInfo: role `*` set explicitly.
#[allow(deprecated)]
pub fn task_scalar(name: &str, v: f64) -> Resource {
    let mut r = Resources::scalar_of(name, v).to_protos().remove(0);
    r.role = Some("*".into());
    r
}

/// The `[p, p]` port range Spark reserves for the block manager.
#[allow(deprecated)]
pub fn task_port(p: u64) -> Resource {
    Resource {
        name: "ports".into(),
        r#type: value::Type::Ranges as i32,
        ranges: Some(value::Ranges { range: vec![value::Range { begin: p, end: p }] }),
        role: Some("*".into()),
        ..Default::default()
    }
}

/// The executor command line Spark builds without `spark.executor.uri`.
pub fn executor_command(exec: &str, cores: i64, hostname: Option<&str>) -> String {
    let mut c = format!(
        " \"/opt/spark/./bin/spark-class\" org.apache.spark.executor.CoarseGrainedExecutorBackend \
         --driver-url {DRIVER_URL} --executor-id {exec} --cores {cores} --app-id {}",
        fid()
    );
    if let Some(h) = hostname {
        c.push_str(&format!(" --hostname {h}"));
    }
    c
}

/// The tasks of an ACCEPT call's single LAUNCH.
pub fn launched_tasks(c: &Call) -> Vec<TaskInfo> {
    let a = c.accept.as_ref().expect("an ACCEPT");
    assert_eq!(a.operations.len(), 1);
    a.operations[0].launch.as_ref().expect("a LAUNCH").task_infos.clone()
}

/// A DECLINE's `refuse_seconds`, `None` without Filters.
pub fn declined_refuse(c: &Call) -> Option<f64> {
    c.decline.as_ref().expect("a DECLINE").filters.as_ref().map(|f| f.refuse_seconds())
}

/// `doKillExecutors([id])`: KILL by task id only (no agent id).
pub fn kill(id: &str) -> Call {
    Call {
        framework_id: Some(framework_id()),
        r#type: Some(mesocosm_sim::proto::scheduler::call::Type::Kill as i32),
        kill: Some(mesocosm_sim::proto::scheduler::call::Kill {
            task_id: mesocosm_sim::proto::v1::TaskId { value: id.into() },
            agent_id: None,
            kill_policy: None,
        }),
        ..Default::default()
    }
}
