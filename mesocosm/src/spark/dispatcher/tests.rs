//! The dispatcher's scheduler, step by step: the exact calls it sends the
//! master and the TaskInfos it launches, for each input.

use super::core::{ClusterScheduler, PersistenceEngine};
use super::submission::{SPARK_VERSION, create_response, error_response, kill_response};
use super::{
    CreateSubmissionRequest, DispatcherConf, KillSubmissionRequest, SubmissionStatusRequest, SubmissionStatusResponse,
};
use mesocosm_scheduler::{DriverTimer, MesosSchedulerDriver, Scheduler};
use mesocosm_sim::proto::Resources;
use mesocosm_sim::proto::mesos::v1::{
    AgentId, Attribute, FrameworkId, Offer, OfferId, TaskId, TaskInfo, TaskState, TaskStatus, task_status, value,
};
use mesocosm_sim::proto::scheduler::{Call, Event, call, event};
use mesocosm_sim::{Actor, ActorId, Input, Msg, Output, SimTime};
use std::collections::BTreeMap;

type Driver = MesosSchedulerDriver<ClusterScheduler>;
type In = Input<DriverTimer<()>>;
type Out = Vec<Output<DriverTimer<()>>>;

const FW: &str = "D-0000";

fn conf(extra: &[(&str, &str)]) -> DispatcherConf {
    let mut c: BTreeMap<String, String> = extra.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    c.entry("spark.home".into()).or_insert("/opt/spark".into());
    DispatcherConf::new("dispatcher", "mesos://master:5050", &c).unwrap()
}

/// A create from `spark-submit --deploy-mode cluster … --class <class> <jar> <args>`.
fn create(name: &str, props: &[(&str, &str)]) -> Msg {
    let mut p: BTreeMap<String, String> = props.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    p.insert("spark.app.name".into(), name.into());
    p.insert("spark.master".into(), "mesos://dispatcher:7077".into());
    p.insert("spark.submit.deployMode".into(), "cluster".into());
    Msg::from(CreateSubmissionRequest {
        action: "CreateSubmissionRequest".into(),
        client_spark_version: SPARK_VERSION.into(),
        app_resource: "http://repo/pi.jar".into(),
        main_class: "org.apache.spark.examples.SparkPi".into(),
        app_args: vec!["100".into()],
        spark_properties: p,
        environment_variables: BTreeMap::new(),
    })
}

fn kill(id: &str) -> Msg {
    Msg::from(KillSubmissionRequest { submission_id: id.into() })
}

fn status(id: &str) -> Msg {
    Msg::from(SubmissionStatusRequest { submission_id: id.into() })
}

/// A dispatcher that will register as `FW`.
fn dispatcher(conf: DispatcherConf, store: &PersistenceEngine) -> Driver {
    let core = ClusterScheduler::new(conf, store.clone());
    let info = core.framework_info();
    MesosSchedulerDriver::new("master", info, core)
}

const CLIENT: &str = "spark-submit:pi";

/// A REST request from spark-submit's client.
fn rest(msg: Msg) -> In {
    Input::Message { from: ActorId::new(CLIENT), msg }
}

/// The REST answers among `out`: what the client gets back.
fn answers(out: &Out) -> Vec<Msg> {
    mesocosm_sim::sent_to(out, CLIENT)
}

fn from_master(e: Event) -> In {
    Input::Message { from: ActorId::new("master"), msg: Msg::from(e) }
}

fn ev(kind: event::Type) -> Event {
    Event { r#type: Some(kind as i32), ..Default::default() }
}

fn subscribed() -> In {
    let framework_id = FrameworkId { value: FW.into() };
    from_master(Event {
        subscribed: Some(event::Subscribed { framework_id, heartbeat_interval_seconds: Some(15.0), master_info: None }),
        ..ev(event::Type::Subscribed)
    })
}

fn offer(id: &str, agent: &str, cpus: f64, mem: f64) -> Offer {
    let mut r = Resources::scalar_of("cpus", cpus);
    r.add_scalar("mem", mem);
    Offer {
        id: OfferId { value: id.into() },
        agent_id: AgentId { value: agent.into() },
        hostname: agent.into(),
        resources: r.to_protos(),
        ..Default::default()
    }
}

fn offers(list: Vec<Offer>) -> In {
    from_master(Event { offers: Some(event::Offers { offers: list }), ..ev(event::Type::Offers) })
}

fn update(task: &str, state: TaskState, reason: Option<task_status::Reason>) -> In {
    let status = TaskStatus {
        task_id: TaskId { value: task.into() },
        state: state as i32,
        agent_id: Some(AgentId { value: "S1".into() }),
        reason: reason.map(|r| r as i32),
        ..Default::default()
    };
    from_master(Event { update: Some(event::Update { status }), ..ev(event::Type::Update) })
}

fn calls(out: &[Output<DriverTimer<()>>]) -> Vec<Call> {
    mesocosm_sim::calls_to(out, "master")
}

fn kinds(out: &[Output<DriverTimer<()>>]) -> Vec<&'static str> {
    calls(out).iter().map(|c| c.r#type().as_str_name()).collect()
}

fn launched(c: &Call) -> Vec<TaskInfo> {
    let accept = c.accept.as_ref().expect("an ACCEPT");
    accept.operations.iter().flat_map(|o| o.launch.iter().flat_map(|l| l.task_infos.clone())).collect()
}

fn step(d: &mut Driver, secs: u64, input: In) -> Out {
    let out = d.step(SimTime::from_secs(secs), input);
    d.scheduler().check_invariants().unwrap();
    out
}

/// Start, subscribe, and take `requests` at 1 s, 2 s, …; their answers, in order.
fn started(c: DispatcherConf, store: &PersistenceEngine, requests: Vec<Msg>) -> (Driver, Vec<Msg>) {
    let mut d = dispatcher(c, store);
    step(&mut d, 0, Input::Start);
    step(&mut d, 0, subscribed());
    let mut got = Vec::new();
    for (i, r) in requests.into_iter().enumerate() {
        got.extend(answers(&step(&mut d, i as u64 + 1, rest(r))));
    }
    (d, got)
}

const ID1: &str = "driver-19700101000001-0001";
const ID2: &str = "driver-19700101000002-0002";
const ID3: &str = "driver-19700101000003-0003";

#[test]
fn registers_as_spark_cluster_with_checkpointing_and_the_longest_failover_timeout() {
    let store = PersistenceEngine::default();
    let mut d = dispatcher(conf(&[("spark.mesos.role", "spark")]), &store);
    let out = step(&mut d, 0, Input::Start);
    let sub = calls(&out)[0].subscribe.clone().unwrap().framework_info;
    assert_eq!(sub.name, "Spark Cluster");
    assert_eq!((sub.checkpoint, sub.failover_timeout), (Some(true), Some(2147483647.0)));
    assert_eq!(sub.webui_url.as_deref(), Some("http://dispatcher:8081"));
    #[allow(deprecated)]
    let role = sub.role.clone();
    assert_eq!(role.as_deref(), Some("spark"));
    step(&mut d, 0, subscribed());
    assert_eq!(store.lock().unwrap().framework_id.as_deref(), Some(FW), "the framework id is persisted");
}

#[test]
fn a_request_before_registration_is_refused_and_a_queued_driver_revives() {
    let store = PersistenceEngine::default();
    let mut d = dispatcher(conf(&[]), &store);
    step(&mut d, 0, Input::Start);
    // Not registered yet: the REST server answers, the scheduler refuses.
    let out = step(&mut d, 0, rest(create("pi", &[])));
    assert_eq!(
        answers(&out),
        [Msg::from(create_response(false, None, Some("Scheduler is not ready to take requests")))]
    );
    let out = step(&mut d, 0, rest(status(ID1)));
    let not_ready = SubmissionStatusResponse {
        action: "SubmissionStatusResponse".into(),
        server_spark_version: SPARK_VERSION.into(),
        submission_id: ID1.into(),
        success: Some(false),
        message: Some("Scheduler is not ready to take requests".into()),
        ..Default::default()
    };
    assert_eq!(answers(&out), [Msg::from(not_ready)]);
    // Registered: the create at 1 s is queued, answered with its id, and revives offers.
    step(&mut d, 0, subscribed());
    let out = step(&mut d, 1, rest(create("pi", &[])));
    assert_eq!(kinds(&out), ["REVIVE"]);
    assert_eq!(d.scheduler().state()[0], [ID1]);
    assert_eq!(answers(&out), [Msg::from(create_response(true, Some(ID1.into()), None))]);
}

#[test]
fn a_malformed_request_is_answered_with_an_error_response() {
    let store = PersistenceEngine::default();
    let Msg::CreateSubmissionRequest(mut no_jar) = create("pi", &[]) else { unreachable!() };
    no_jar.app_resource.clear();
    let Msg::CreateSubmissionRequest(mut no_class) = create("pi", &[]) else { unreachable!() };
    no_class.main_class.clear();
    let reqs = vec![Msg::from(*no_jar), Msg::from(*no_class), kill(""), status("")];
    let (d, got) = started(conf(&[]), &store, reqs);
    let errors = [
        "Malformed request: Application jar is missing.",
        "Malformed request: Main class is missing.",
        "Submission ID is missing in kill request.",
        "Submission ID is missing in status request.",
    ];
    assert_eq!(got, errors.map(|e| Msg::from(error_response(e))));
    assert!(d.scheduler().state()[0].is_empty(), "nothing was queued");
}

#[test]
fn the_driver_task_is_built_as_spark_builds_it() {
    let store = PersistenceEngine::default();
    let props = [
        ("spark.cores.max", "4"),
        ("spark.executor.memory", "2g"),
        ("spark.driver.cores", "2"),
        ("spark.driver.memory", "2g"),
        ("spark.mesos.driver.labels", "team:data"),
        ("spark.mesos.driverEnv.ETL_MODE", "full"),
        ("spark.jars", "http://repo/pi.jar"),
        ("spark.driver.extraJavaOptions", "-Dconfig.file=/etc/app.conf -Dx=1"),
    ];
    let (mut d, _) = started(
        conf(&[("spark.mesos.dispatcher.driverDefault.spark.eventLog.enabled", "true")]),
        &store,
        vec![create("pi", &props)],
    );
    let out = step(&mut d, 2, offers(vec![offer("O1", "S1", 4.0, 8192.0)]));
    assert_eq!(kinds(&out), ["ACCEPT"]);
    let tasks = launched(&calls(&out)[0]);
    let t = &tasks[0];
    assert_eq!((t.task_id.value.as_str(), t.name.as_str()), (ID1, "Driver for pi"));
    let r = Resources::from_protos(&t.resources);
    // 2 GiB + max(10%, 384 MiB) = 2432 MiB.
    assert_eq!((r.scalar("cpus"), r.scalar("mem")), (2.0, 2432.0));
    let cmd = t.command.clone().unwrap();
    assert_eq!(
        cmd.value.as_deref(),
        Some(
            "/opt/spark/./bin/spark-submit --name pi --master mesos://master:5050 --driver-cores 2.0 \
             --driver-memory 2432M --class org.apache.spark.examples.SparkPi --executor-memory 2g \
             --total-executor-cores 4 --conf spark.app.name=pi --conf spark.cores.max=4 \
             --conf spark.driver.cores=2 \
             --conf \"spark.driver.extraJavaOptions=-Dconfig.file=/etc/app.conf -Dx=1\" \
             --conf spark.driver.memory=2g --conf spark.eventLog.enabled=true \
             --conf spark.executor.memory=2g --conf spark.mesos.driver.labels=team:data \
             --conf spark.mesos.driverEnv.ETL_MODE=full ./pi.jar 100"
        )
    );
    let env: Vec<(String, String)> =
        cmd.environment.unwrap().variables.into_iter().map(|v| (v.name, v.value.unwrap_or_default())).collect();
    assert_eq!(
        env,
        [
            ("ETL_MODE".to_string(), "full".to_string()),
            ("SPARK_SUBMIT_OPTS".to_string(), format!(" -Dspark.mesos.driver.frameworkId={FW}-{ID1}")),
        ]
    );
    assert_eq!(cmd.uris.iter().map(|u| u.value.as_str()).collect::<Vec<_>>(), ["http://repo/pi.jar"]);
    let labels = t.labels.clone().unwrap().labels;
    assert_eq!((labels[0].key.as_str(), labels[0].value.as_deref()), ("team", Some("data")));
}

#[test]
fn a_docker_image_runs_spark_submit_from_the_image_and_the_jar_from_the_sandbox() {
    let store = PersistenceEngine::default();
    let props = [("spark.mesos.executor.docker.image", "spark:3.5")];
    let (mut d, _) = started(conf(&[]), &store, vec![create("pi", &props)]);
    let out = step(&mut d, 2, offers(vec![offer("O1", "S1", 4.0, 8192.0)]));
    let t = &launched(&calls(&out)[0])[0];
    let value = t.command.clone().unwrap().value.unwrap();
    assert!(value.starts_with("./bin/spark-submit --name pi "), "{value}");
    assert!(value.ends_with(" $MESOS_SANDBOX/pi.jar 100"), "{value}");
    let docker = t.container.clone().unwrap().docker.unwrap();
    assert_eq!(docker.image, "spark:3.5");
}

#[test]
fn an_executor_uri_runs_spark_submit_from_the_fetched_tarball() {
    let store = PersistenceEngine::default();
    let props = [("spark.executor.uri", "http://repo/spark-3.5.1-bin-hadoop3.tgz")];
    let (mut d, _) = started(conf(&[]), &store, vec![create("pi", &props)]);
    let out = step(&mut d, 2, offers(vec![offer("O1", "S1", 4.0, 8192.0)]));
    let t = &launched(&calls(&out)[0])[0];
    let cmd = t.command.clone().unwrap();
    assert!(cmd.value.clone().unwrap().starts_with("cd spark-3*;  bin/spark-submit --name pi"), "{cmd:?}");
    assert!(cmd.value.unwrap().ends_with(" ../pi.jar 100"));
    let uris: Vec<&str> = cmd.uris.iter().map(|u| u.value.as_str()).collect();
    assert_eq!(uris, ["http://repo/pi.jar", "http://repo/spark-3.5.1-bin-hadoop3.tgz"]);
}

#[test]
fn every_unused_offer_is_declined_for_the_reject_duration() {
    let store = PersistenceEngine::default();
    let (mut d, _) = started(conf(&[]), &store, vec![]);
    let out = step(&mut d, 2, offers(vec![offer("O1", "S1", 4.0, 8192.0)]));
    let c = &calls(&out)[0];
    assert_eq!(c.r#type(), call::Type::Decline);
    assert_eq!(c.decline.as_ref().unwrap().filters.as_ref().unwrap().refuse_seconds, Some(120.0));
}

#[test]
fn drivers_take_the_first_offer_they_fit_in_queue_order_and_one_that_fits_nowhere_waits() {
    let store = PersistenceEngine::default();
    let big = [("spark.driver.memory", "16g")];
    let reqs = vec![create("a", &[]), create("huge", &big), create("c", &[])];
    let (mut d, _) = started(conf(&[]), &store, reqs);
    let out = step(&mut d, 4, offers(vec![offer("O1", "S1", 1.5, 2048.0), offer("O2", "S2", 4.0, 8192.0)]));
    // a on O1 (1 cpu, 1408 MiB); huge fits nowhere; c does not fit what O1 has left, so O2.
    let cs = calls(&out);
    assert_eq!(kinds(&out), ["ACCEPT", "ACCEPT"]);
    let on = |c: &Call| (c.accept.as_ref().unwrap().offer_ids[0].value.clone(), launched(c)[0].task_id.value.clone());
    assert_eq!(on(&cs[0]), ("O1".to_string(), ID1.to_string()));
    assert_eq!(on(&cs[1]), ("O2".to_string(), ID3.to_string()));
    assert_eq!(d.scheduler().state()[0], [ID2], "the driver that fits no agent waits in the queue");
}

#[test]
fn priority_queues_order_the_drivers_and_an_unknown_queue_is_refused() {
    let store = PersistenceEngine::default();
    let c = conf(&[("spark.mesos.dispatcher.queue.urgent", "2.0"), ("spark.mesos.dispatcher.queue.low", "-1")]);
    let reqs = vec![
        create("first", &[("spark.mesos.dispatcher.queue", "low")]),
        create("second", &[]),
        create("third", &[("spark.mesos.dispatcher.queue", "urgent")]),
        create("fourth", &[("spark.mesos.dispatcher.queue", "nope")]),
    ];
    let (d, got) = started(c, &store, reqs);
    assert_eq!(d.scheduler().state()[0], [ID3, ID2, ID1]);
    let Msg::CreateSubmissionResponse(a) = &got[3] else { panic!("{got:?}") };
    assert_eq!(a.success, Some(false));
    assert!(a.message.as_deref().unwrap().contains("key not found: nope"), "{a:?}");
}

/// A supervised driver launched on S1 as ID1.
fn supervised() -> Driver {
    let store = PersistenceEngine::default();
    let (mut d, _) = started(conf(&[]), &store, vec![create("pi", &[("spark.driver.supervise", "true")])]);
    step(&mut d, 2, offers(vec![offer("O1", "S1", 4.0, 8192.0)]));
    step(&mut d, 3, update(ID1, TaskState::TaskRunning, None));
    d
}

#[test]
fn a_failed_supervised_driver_is_relaunched_with_a_doubling_wait_and_retry_task_ids() {
    let mut d = supervised();
    let out = step(&mut d, 10, update(ID1, TaskState::TaskLost, None));
    assert_eq!(kinds(&out), ["REVIVE"]);
    assert_eq!(d.scheduler().state()[2], [ID1]);
    // Not before its wait (1 s, strictly after): declined.
    let out = step(&mut d, 11, offers(vec![offer("O2", "S2", 4.0, 8192.0)]));
    assert_eq!(kinds(&out), ["DECLINE"]);
    let out = step(&mut d, 12, offers(vec![offer("O3", "S2", 4.0, 8192.0)]));
    let retry1 = format!("{ID1}-retry-1");
    assert_eq!(launched(&calls(&out)[0])[0].task_id.value, retry1);
    let env = launched(&calls(&out)[0])[0].command.clone().unwrap().environment.unwrap().variables;
    assert!(env.iter().any(|v| v.value.as_deref().unwrap().ends_with(&format!("{FW}-{ID1}-retry-1"))));
    // The second failure waits 2 s.
    step(&mut d, 20, update(&retry1, TaskState::TaskFailed, None));
    let out = step(&mut d, 22, offers(vec![offer("O4", "S3", 4.0, 8192.0)]));
    assert_eq!(kinds(&out), ["DECLINE"]);
    let out = step(&mut d, 23, offers(vec![offer("O5", "S3", 4.0, 8192.0)]));
    assert_eq!(launched(&calls(&out)[0])[0].task_id.value, format!("{ID1}-retry-2"));
}

#[test]
fn the_wait_doubles_up_to_retry_wait_max() {
    let store = PersistenceEngine::default();
    let c = conf(&[("spark.mesos.cluster.retry.wait.max", "3")]);
    let (mut d, _) = started(c, &store, vec![create("pi", &[("spark.driver.supervise", "true")])]);
    step(&mut d, 2, offers(vec![offer("O0", "S1", 4.0, 8192.0)]));
    let mut now = 3;
    for (n, wait) in [(1, 1), (2, 2), (3, 3), (4, 3)] {
        let running = d.scheduler().launched(ID1).expect("launched").task_id.clone();
        step(&mut d, now, update(&running, TaskState::TaskFailed, None));
        // At exactly `wait` seconds the retry is not due yet; a second later it is.
        let out = step(&mut d, now + wait, offers(vec![offer("O1", "S1", 4.0, 8192.0)]));
        assert_eq!(kinds(&out), ["DECLINE"], "retry {n} waits {wait}s");
        let out = step(&mut d, now + wait + 1, offers(vec![offer("O2", "S1", 4.0, 8192.0)]));
        assert_eq!(launched(&calls(&out)[0])[0].task_id.value, format!("{ID1}-retry-{n}"));
        now += wait + 2;
    }
}

#[test]
fn a_killed_driver_is_not_relaunched_and_a_kill_of_a_finished_one_fails() {
    let store = PersistenceEngine::default();
    let (mut d, _) = started(conf(&[]), &store, vec![create("pi", &[("spark.driver.supervise", "true")])]);
    step(&mut d, 1, offers(vec![offer("O1", "S1", 4.0, 8192.0)]));
    let out = step(&mut d, 2, rest(kill(ID1)));
    let k = &calls(&out)[0];
    assert_eq!(k.r#type(), call::Type::Kill);
    assert_eq!(k.kill.as_ref().unwrap().task_id.value, ID1);
    assert_eq!(answers(&out), [Msg::from(kill_response(ID1, true, "Killing running driver"))]);
    let out = step(&mut d, 3, update(ID1, TaskState::TaskKilled, None));
    assert!(!kinds(&out).contains(&"REVIVE"));
    assert_eq!(d.scheduler().state()[3], [ID1]);
    let out = step(&mut d, 3, rest(kill(ID1)));
    assert_eq!(answers(&out), [Msg::from(kill_response(ID1, false, "Driver already terminated"))]);
    let out = step(&mut d, 4, rest(status(ID1)));
    let Msg::SubmissionStatusResponse(s) = &answers(&out)[0] else { panic!("{out:?}") };
    assert_eq!((s.success, s.driver_state.as_deref()), (Some(true), Some("FINISHED")));
    let m = s.message.as_deref().unwrap();
    assert_eq!(m, format!("task_id {{ value: \"{ID1}\" }} state: TASK_KILLED"));
}

#[test]
fn a_kill_of_a_queued_driver_removes_it_and_an_unknown_one_is_not_found() {
    let store = PersistenceEngine::default();
    let reqs = vec![create("pi", &[]), kill(ID1), kill("driver-nope"), status("driver-nope")];
    let (d, got) = started(conf(&[]), &store, reqs);
    assert_eq!(got[1], Msg::from(kill_response(ID1, true, "Removed driver while it's still pending")));
    assert_eq!(got[2], Msg::from(kill_response("driver-nope", false, "Cannot find driver")));
    let Msg::SubmissionStatusResponse(s) = &got[3] else { panic!("{got:?}") };
    assert_eq!((s.success, s.driver_state.as_deref(), s.message.as_deref()), (Some(false), Some("NOT_FOUND"), None));
    assert!(d.scheduler().state()[0].is_empty());
}

#[test]
fn an_outdated_status_of_an_older_attempt_does_not_relaunch_again() {
    // SPARK-27347.
    let mut d = supervised();
    step(&mut d, 10, update(ID1, TaskState::TaskLost, None));
    step(&mut d, 12, offers(vec![offer("O2", "S2", 4.0, 8192.0)]));
    let retry1 = format!("{ID1}-retry-1");
    assert_eq!(d.scheduler().launched(ID1).unwrap().task_id, retry1);
    // The old attempt's FAILED arrives late (its agent came back).
    let out = step(&mut d, 13, update(ID1, TaskState::TaskFailed, None));
    assert!(!kinds(&out).contains(&"REVIVE"));
    assert_eq!(d.scheduler().launched(ID1).unwrap().task_id, retry1);
    assert!(d.scheduler().state()[2].is_empty());
}

#[test]
fn a_restarted_dispatcher_recovers_its_drivers_and_reconciles_them() {
    let store = PersistenceEngine::default();
    let (mut d, _) =
        started(conf(&[]), &store, vec![create("pi", &[]), create("queued", &[("spark.driver.memory", "64g")])]);
    step(&mut d, 3, offers(vec![offer("O1", "S1", 4.0, 8192.0)]));
    // The dispatcher's process dies; a new one starts from the same store.
    let mut d2 = dispatcher(conf(&[]), &store);
    let out = step(&mut d2, 10, Input::Start);
    let sub = calls(&out)[0].clone();
    assert_eq!(sub.framework_id.unwrap().value, FW, "it fails over as the same framework");
    let out = step(&mut d2, 10, subscribed());
    let reconcile = calls(&out).into_iter().find(|c| c.r#type() == call::Type::Reconcile).expect("RECONCILE");
    let tasks = reconcile.reconcile.unwrap().tasks;
    assert_eq!(tasks.len(), 1);
    assert_eq!((tasks[0].task_id.value.as_str(), tasks[0].agent_id.as_ref().unwrap().value.as_str()), (ID1, "S1"));
    assert_eq!(d2.scheduler().state()[0], [ID2], "the queue survives");
    assert_eq!(d2.scheduler().state()[1], [ID1]);
    // The reconciliation answer is taken once; a later one for the same task is stale.
    step(&mut d2, 11, update(ID1, TaskState::TaskRunning, Some(task_status::Reason::Reconciliation)));
    assert!(d2.scheduler().launched(ID1).unwrap().status.is_some());
    step(&mut d2, 12, update(ID1, TaskState::TaskFinished, Some(task_status::Reason::Reconciliation)));
    assert_eq!(d2.scheduler().state()[1], [ID1], "a stale reconciliation answer is ignored");
}

#[test]
fn driver_constraints_pick_the_agent() {
    let store = PersistenceEngine::default();
    let (mut d, _) = started(conf(&[]), &store, vec![create("pi", &[("spark.mesos.driver.constraints", "rack:r2")])]);
    let mut o1 = offer("O1", "S1", 4.0, 8192.0);
    let mut o2 = offer("O2", "S2", 4.0, 8192.0);
    let attr = |v: &str| Attribute {
        name: "rack".into(),
        r#type: value::Type::Text as i32,
        text: Some(value::Text { value: v.into() }),
        ..Default::default()
    };
    o1.attributes = vec![attr("r1")];
    o2.attributes = vec![attr("r2")];
    let out = step(&mut d, 2, offers(vec![o1, o2]));
    assert_eq!(kinds(&out), ["DECLINE", "ACCEPT"]);
}

#[test]
fn max_drivers_counts_launched_drivers_and_refuses_beyond_them() {
    // `isQueueFull`: launched drivers ≥ spark.mesos.maxDrivers. Queued ones
    // do not count, so a second create is taken while the first only waits.
    let store = PersistenceEngine::default();
    let (mut d, got) =
        started(conf(&[("spark.mesos.maxDrivers", "1")]), &store, vec![create("a", &[]), create("b", &[])]);
    assert_eq!(got[1], Msg::from(create_response(true, Some(ID2.into()), None)));
    // Only one fits the offer: a is launched, b stays queued.
    step(&mut d, 3, offers(vec![offer("O1", "S1", 1.0, 2048.0)]));
    assert_eq!(d.scheduler().state()[1], [ID1]);
    let out = step(&mut d, 4, rest(create("c", &[])));
    let full = create_response(false, None, Some("Already reached maximum submission size"));
    assert_eq!(answers(&out), [Msg::from(full)]);
    assert_eq!(d.scheduler().state()[0], [ID2], "nothing was queued");
}
