//! The Mesos framework side: SUBSCRIBE and the answers to OFFERS.

mod common;

use common::*;
use mesocosm_driver::{SparkDriver, SparkSettings};
use mesocosm_sim::proto::Resources;
use mesocosm_sim::proto::scheduler::{Call, call};
use mesocosm_sim::proto::v1::{
    CommandInfo, ContainerInfo, Environment, Labels, Offer, Resource, TaskId, TaskInfo, TaskState, container_info,
    environment, offer as offer_ops,
};
use mesocosm_sim::{Actor, Input};
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::time::Duration;

fn expected_command(exec: &str, cores: u32, host: &str) -> String {
    format!(
        " \"/opt/spark/./bin/spark-class\" org.apache.spark.executor.CoarseGrainedExecutorBackend \
         --driver-url {DRIVER_URL} --executor-id {exec} --cores {cores} --app-id {} --hostname {host}",
        fid()
    )
}

#[allow(deprecated)]
fn scalar(name: &str, v: f64) -> Resource {
    let mut r = Resources::scalar_of(name, v).to_protos().remove(0);
    r.role = Some("*".into());
    r
}

fn accept_tasks(c: &Call) -> &[TaskInfo] {
    let a = c.accept.as_ref().expect("an ACCEPT");
    assert_eq!(a.operations.len(), 1);
    assert_eq!(a.operations[0].r#type(), offer_ops::operation::Type::Launch);
    &a.operations[0].launch.as_ref().unwrap().task_infos
}

fn task_ids(c: &Call) -> Vec<&str> {
    accept_tasks(c).iter().map(|t| t.task_id.value.as_str()).collect()
}

fn cpus_of(t: &TaskInfo) -> f64 {
    Resources::from_protos(&t.resources).scalar("cpus")
}

fn refuse(c: &Call) -> Option<f64> {
    c.decline.as_ref().expect("a DECLINE").filters.as_ref().map(|f| f.refuse_seconds())
}

fn answered_offer(c: &Call) -> String {
    match (&c.accept, &c.decline) {
        (Some(a), None) => a.offer_ids[0].value.clone(),
        (None, Some(d)) => d.offer_ids[0].value.clone(),
        _ => panic!("not an answer: {c:?}"),
    }
}

#[test]
#[allow(deprecated)]
fn subscribe_carries_the_framework_info_spark_builds() {
    let mut d = SparkDriver::new(config(settings(), one_stage(1)));
    let out = d.step(at(0.0), Input::Start);
    assert_eq!(calls(&out), vec![subscribe_call(None)]);
    let fi = calls(&out)[0].subscribe.clone().unwrap().framework_info;
    assert_eq!((fi.role, fi.checkpoint), (None, None), "role and checkpoint stay unset");
    assert!(fi.capabilities.is_empty(), "no GPU capability");

    let mut s = settings();
    s.role = Some("spark".into());
    s.failover_timeout = 3600.0;
    let mut cfg = config(s, one_stage(1));
    cfg.properties.push(("spark.ui.enabled".into(), "false".into()));
    let out = SparkDriver::new(cfg).step(at(0.0), Input::Start);
    let fi = calls(&out)[0].subscribe.clone().unwrap().framework_info;
    assert_eq!(fi.role.as_deref(), Some("spark"));
    assert_eq!(fi.failover_timeout, Some(3600.0));
    assert_eq!(fi.webui_url, None);
}

#[test]
fn calls_after_subscribed_carry_the_framework_id() {
    let mut d = SparkDriver::new(config(settings(), one_stage(1)));
    d.step(at(0.0), Input::Start);
    let out = d.step(at(0.1), subscribed());
    assert!(notes(&out).iter().any(|n| n.contains("app id")), "{:?}", notes(&out));
    assert_eq!(d.app_id(), fid());
    let out = d.step(at(1.0), offers(vec![offer(1, 1, 4.0, 8192.0)]));
    assert!(calls(&out).iter().all(|c| c.framework_id == Some(framework_id())));
}

#[test]
fn cores_max_8_takes_two_of_three_4_cpu_offers_and_declines_the_third_for_120s() {
    let mut s = settings();
    s.cores_max = Some(8);
    let mut d = running(s, one_stage(4));
    let out =
        d.step(at(1.0), offers(vec![offer(1, 1, 4.0, 8192.0), offer(2, 2, 4.0, 8192.0), offer(3, 3, 4.0, 8192.0)]));
    assert_eq!(kinds(&out), vec!["ACCEPT", "ACCEPT", "DECLINE"]);
    let c = calls(&out);

    let a = c[0].accept.as_ref().unwrap();
    assert_eq!(a.offer_ids, vec![offer_id(1)]);
    assert_eq!(a.filters, None, "launchTasks passes no filters");
    let expected_task = TaskInfo {
        name: "pi 0".into(),
        task_id: TaskId { value: "0".into() },
        agent_id: agent_id(1),
        resources: vec![scalar("cpus", 4.0), scalar("mem", 1408.0)],
        command: Some(CommandInfo {
            environment: Some(Environment {
                variables: [("SPARK_EXECUTOR_OPTS", ""), ("SPARK_EXECUTOR_MEMORY", "1024m"), ("SPARK_USER", "alice")]
                    .iter()
                    .map(|(k, v)| environment::Variable {
                        name: k.to_string(),
                        value: Some(v.to_string()),
                        ..Default::default()
                    })
                    .collect(),
            }),
            value: Some(expected_command("0", 4, "agent-1")),
            ..Default::default()
        }),
        container: Some(ContainerInfo { r#type: container_info::Type::Mesos as i32, ..Default::default() }),
        labels: Some(Labels::default()),
        ..Default::default()
    };
    assert_eq!(accept_tasks(&c[0]), &[expected_task]);
    assert!(
        c[0].accept.as_ref().unwrap().operations[0].launch.as_ref().unwrap().task_infos[0]
            .command
            .as_ref()
            .unwrap()
            .shell()
    );

    let t1 = &accept_tasks(&c[1])[0];
    assert_eq!(c[1].accept.as_ref().unwrap().offer_ids, vec![offer_id(2)]);
    assert_eq!((t1.task_id.value.as_str(), t1.agent_id.clone()), ("1", agent_id(2)));
    assert_eq!(Resources::from_protos(&t1.resources).to_string(), "cpus:4;mem:1408");
    assert_eq!(t1.command.as_ref().unwrap().value.as_deref(), Some(expected_command("1", 4, "agent-2").as_str()));

    assert_eq!(c[2].decline.as_ref().unwrap().offer_ids, vec![offer_id(3)]);
    assert_eq!(refuse(&c[2]), Some(120.0));
    let n = notes(&out);
    assert!(
        n.iter().any(|n| n.contains("decline offer O3 on agent-3: spark.cores.max=8 reached, refuse 120s")
            && n.contains("SPARK-13001")),
        "{n:#?}"
    );
    assert!(n.iter().any(|n| n.starts_with("accept offer O1 on agent-1")), "{n:#?}");

    let r = d.report();
    assert_eq!((r.offers_received, r.offers_accepted, r.offers_declined, r.executors_launched), (3, 2, 1, 2));
}

#[test]
fn executor_cores_2_packs_three_executors_into_one_offer_newest_first() {
    let mut s = settings();
    s.cores_max = Some(6);
    s.executor_cores = Some(2);
    let mut d = running(s, one_stage(4));
    let out = d.step(at(1.0), offers(vec![offer(1, 1, 8.0, 65536.0)]));
    assert_eq!(kinds(&out), vec!["ACCEPT"]);
    let c = calls(&out);
    // `tasks(offerId) ::= task` prepends: the LAUNCH lists the newest executor first.
    assert_eq!(task_ids(&c[0]), vec!["2", "1", "0"]);
    assert!(accept_tasks(&c[0]).iter().all(|t| cpus_of(t) == 2.0));
    let cmd = accept_tasks(&c[0])[0].command.clone().unwrap().value.unwrap();
    assert_eq!(cmd, expected_command("2", 2, "agent-1"));
}

#[test]
fn max_cores_is_rounded_down_to_a_multiple_of_executor_cores() {
    let mut s = settings();
    s.cores_max = Some(7);
    s.executor_cores = Some(2);
    let mut d = running(s, one_stage(4));
    let out = d.step(at(1.0), offers(vec![offer(1, 1, 8.0, 65536.0)]));
    let c = calls(&out);
    assert_eq!(task_ids(&c[0]).len(), 3, "6 cores, not 7: SPARK-20483");
    // The cap (6) is now reached, so the next offer gets the long refuse filter.
    let out = d.step(at(2.0), offers(vec![offer(2, 2, 8.0, 65536.0)]));
    assert_eq!(kinds(&out), vec!["DECLINE"]);
    assert_eq!(refuse(&calls(&out)[0]), Some(120.0));
}

#[test]
fn unset_cores_max_takes_every_whole_cpu_offered() {
    let mut d = running(settings(), one_stage(4));
    let out =
        d.step(at(1.0), offers(vec![offer(1, 1, 4.0, 8192.0), offer(2, 2, 16.0, 8192.0), offer(3, 3, 2.5, 8192.0)]));
    assert_eq!(kinds(&out), vec!["ACCEPT"; 3]);
    let cpus: Vec<f64> = calls(&out).iter().map(|c| cpus_of(&accept_tasks(c)[0])).collect();
    assert_eq!(cpus, vec![4.0, 16.0, 2.0], "fractional cpus are truncated (.toInt)");
    // One executor per offer: the second pass finds 0 (or 0.5) cpus left.
    assert!(calls(&out).iter().all(|c| accept_tasks(c).len() == 1));
}

#[test]
fn an_offer_too_small_for_the_executor_memory_is_declined_without_a_filter() {
    let mut d = running(settings(), one_stage(1));
    let out = d.step(at(1.0), offers(vec![offer(1, 1, 4.0, 1024.0)]));
    assert_eq!(kinds(&out), vec!["DECLINE"]);
    assert_eq!(refuse(&calls(&out)[0]), None, "no Filters: Mesos's default 5 s applies");
    let n = notes(&out);
    assert!(n[0].contains("needs 1408 MiB mem") && n[0].contains("no filter"), "{n:#?}");

    // Less than one whole cpu is the same story.
    let out = d.step(at(2.0), offers(vec![offer(2, 1, 0.9, 8192.0)]));
    assert_eq!(refuse(&calls(&out)[0]), None);
}

#[test]
fn offers_failing_constraints_are_declined_first_for_120s() {
    let mut s = settings();
    s.constraints = "zone:us-east-1a".into();
    s.reject_for_unmet_constraints = Duration::from_secs(300);
    let mut d = running(s, one_stage(1));
    let good = with_text_attr(offer(1, 1, 4.0, 8192.0), "zone", "us-east-1a");
    let bad = with_text_attr(offer(2, 2, 4.0, 8192.0), "zone", "us-west-2");
    let bare = offer(3, 3, 4.0, 8192.0);
    let out = d.step(at(1.0), offers(vec![good, bad, bare]));
    let c = calls(&out);
    assert_eq!(kinds(&out), vec!["DECLINE", "DECLINE", "ACCEPT"], "unmatched offers are declined before the rest");
    assert_eq!(answered_offer(&c[0]), offer_id(2).value);
    assert_eq!(answered_offer(&c[1]), offer_id(3).value);
    assert_eq!((refuse(&c[0]), refuse(&c[1])), (Some(300.0), Some(300.0)));
    assert_eq!(answered_offer(&c[2]), offer_id(1).value);
}

#[test]
fn executor_memory_sets_the_task_mem_with_its_overhead() {
    for (mem, overhead, expected) in [(512, None, 896.0), (4096, None, 4505.0), (1024, Some(512), 1536.0)] {
        let mut s = settings();
        s.executor_memory_mib = mem;
        s.memory_overhead_mib = overhead;
        let mut d = running(s, one_stage(1));
        let out = d.step(at(1.0), offers(vec![offer(1, 1, 4.0, 8192.0)]));
        let c = calls(&out);
        let t = &accept_tasks(&c[0])[0];
        assert_eq!(Resources::from_protos(&t.resources).scalar("mem"), expected, "executor.memory={mem}");
    }
}

#[test]
fn a_terminal_update_frees_the_cores_acknowledges_and_revives() {
    let mut s = settings();
    s.cores_max = Some(4);
    let mut d = running(s, one_stage(1));
    d.step(at(1.0), offers(vec![offer(1, 1, 4.0, 8192.0)]));
    let out = d.step(at(2.0), offers(vec![offer(2, 2, 4.0, 8192.0)]));
    assert_eq!(refuse(&calls(&out)[0]), Some(120.0), "cap reached");

    let out = d.step(at(3.0), update("0", 1, TaskState::TaskRunning, 1));
    assert_eq!(kinds(&out), vec!["ACKNOWLEDGE"], "non-terminal: only the implicit ack");

    let out = d.step(at(4.0), update("0", 1, TaskState::TaskFailed, 2));
    assert_eq!(kinds(&out), vec!["REVIVE", "ACKNOWLEDGE"]);
    let c = calls(&out);
    assert_eq!(
        c[0],
        Call { framework_id: Some(framework_id()), r#type: Some(call::Type::Revive as i32), ..Default::default() }
    );
    let ack = c[1].acknowledge.as_ref().unwrap();
    assert_eq!((ack.agent_id.clone(), ack.task_id.value.as_str(), ack.uuid.clone()), (agent_id(1), "0", vec![2; 16]));
    assert!(notes(&out).iter().any(|n| n.contains("free its 4 cores (0 held now)")), "{:?}", notes(&out));

    let out = d.step(at(5.0), offers(vec![offer(3, 2, 4.0, 8192.0)]));
    assert_eq!(kinds(&out), vec!["ACCEPT"]);
    assert_eq!(task_ids(&calls(&out)[0]), vec!["1"], "executor ids keep counting");
}

#[test]
fn an_agent_is_excluded_after_two_failed_executors() {
    let mut s = settings();
    s.executor_cores = Some(1);
    let mut d = running(s, one_stage(1));
    for (i, state) in [TaskState::TaskFailed, TaskState::TaskLost].into_iter().enumerate() {
        let out = d.step(at(1.0 + i as f64), offers(vec![offer(10 + i as u32, 1, 1.0, 8192.0)]));
        assert_eq!(kinds(&out), vec!["ACCEPT"]);
        d.step(at(1.5 + i as f64), update(&i.to_string(), 1, state, 9));
    }
    let out = d.step(at(5.0), offers(vec![offer(20, 1, 4.0, 8192.0), offer(21, 2, 1.0, 8192.0)]));
    assert_eq!(kinds(&out), vec!["DECLINE", "ACCEPT"]);
    assert_eq!(refuse(&calls(&out)[0]), None);
    assert!(notes(&out)[0].contains("excluded"), "{:?}", notes(&out));
    // KILLED and FINISHED do not count: agent 2 keeps working.
    d.step(at(6.0), update("2", 2, TaskState::TaskKilled, 9));
    let out = d.step(at(7.0), offers(vec![offer(22, 2, 1.0, 8192.0)]));
    assert_eq!(kinds(&out), vec!["ACCEPT"]);
}

// ---- property: the driver never over-accepts ---------------------------------

fn arb_offer() -> impl Strategy<Value = (u32, u32, u32, u32)> {
    // cpus in thousandths (0–16), mem in MiB (0–64 GiB), agent 1–4, GPUs
    // in thousandths (0–3); even agents also offer ports 31000–31010.
    (0u32..=16_000, 0u32..=65_536, 1u32..=4, 0u32..=3_000)
}

fn arb_settings() -> impl Strategy<Value = SparkSettings> {
    (
        prop::option::of(1u32..=24),
        prop::option::of(1u32..=6),
        prop::sample::select(vec![512u64, 1024, 2048, 4096, 16384]),
        prop::option::of(0u64..=2048),
        0u32..=3,
        prop::sample::select(vec![0u32, 31005]),
    )
        .prop_map(|(cores_max, executor_cores, mem, overhead, gpus_max, port)| SparkSettings {
            cores_max,
            executor_cores,
            executor_memory_mib: mem,
            memory_overhead_mib: overhead,
            gpus_max,
            block_manager_port: port,
            ..SparkSettings::default()
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn never_over_accepts(s in arb_settings(), rounds in prop::collection::vec(prop::collection::vec(arb_offer(), 0..6), 1..4)) {
        let cap = s.cores_max;
        let mut d = running(s, one_stage(8));
        let mut next = 0u32;
        let mut accepted_cpus = 0.0;
        for (round, list) in rounds.iter().enumerate() {
            let batch: Vec<Offer> = list
                .iter()
                .map(|(cpus, mem, agent, gpus)| {
                    next += 1;
                    let o = with_gpus(offer(next, *agent, *cpus as f64 / 1000.0, *mem as f64), *gpus as f64 / 1000.0);
                    if agent % 2 == 0 { with_ports(o, 31000, 31010) } else { o }
                })
                .collect();
            let out = d.step(at(1.0 + round as f64), offers(batch.clone()));
            let c = calls(&out);
            // Every offer answered exactly once, and nothing else answered.
            let mut answered: BTreeMap<String, u32> = BTreeMap::new();
            for call in &c {
                *answered.entry(answered_offer(call)).or_default() += 1;
            }
            let expected: BTreeMap<String, u32> = batch.iter().map(|o| (o.id.value.clone(), 1)).collect();
            prop_assert_eq!(answered, expected);
            for call in &c {
                if let Some(a) = &call.accept {
                    let o = batch.iter().find(|o| o.id == a.offer_ids[0]).unwrap();
                    let mut used = Resources::new();
                    for t in accept_tasks(call) {
                        prop_assert_eq!(&t.agent_id, &o.agent_id);
                        prop_assert!(cpus_of(t) >= 1.0);
                        used.add(&Resources::from_protos(&t.resources));
                        accepted_cpus += cpus_of(t);
                    }
                    prop_assert!(Resources::from_protos(&o.resources).contains(&used), "{} not within {}", used, Resources::from_protos(&o.resources));
                }
            }
            if let Some(cap) = cap {
                prop_assert!(accepted_cpus <= cap as f64, "accepted {} cpus, cores.max {}", accepted_cpus, cap);
            }
            prop_assert_eq!(d.check_invariants(), Ok(()));
        }
    }
}

// ---- FrameworkInfo: GPUs and credentials ---------------------------------------

#[test]
fn gpus_max_adds_the_gpu_capability_and_a_principal_is_passed_on() {
    use mesocosm_sim::proto::v1::framework_info::{Capability, capability};
    let mut s = settings();
    s.gpus_max = 2;
    let mut cfg = config(s, one_stage(1));
    cfg.properties.push(("spark.mesos.principal".into(), "spark-prod".into()));
    cfg.properties.push(("spark.mesos.secret".into(), "hunter2".into()));
    let out = SparkDriver::new(cfg).step(at(0.0), Input::Start);
    let mut expected = subscribe_call(None);
    let fi = &mut expected.subscribe.as_mut().unwrap().framework_info;
    fi.capabilities = vec![Capability { r#type: Some(capability::Type::GpuResources as i32) }];
    fi.principal = Some("spark-prod".into());
    assert_eq!(calls(&out), vec![expected], "the secret travels in the credential, not the FrameworkInfo");
}

#[test]
fn a_secret_without_a_principal_fails_the_spark_context_before_subscribing() {
    let mut cfg = config(settings(), one_stage(1));
    cfg.properties.push(("spark.mesos.secret".into(), "hunter2".into()));
    let mut d = SparkDriver::new(cfg);
    let out = d.step(at(0.0), Input::Start);
    assert!(calls(&out).is_empty(), "no SUBSCRIBE");
    assert_eq!(exits(&out), vec![1]);
    assert_eq!(
        d.report().failed.as_deref(),
        Some("spark.mesos.principal must be configured when spark.mesos.secret is set")
    );
}

#[test]
fn credential_files_are_read_on_the_submitting_host_and_a_missing_one_fails_the_driver() {
    let driver = |props: &[(&str, &str)], files: &[(&str, &str)]| {
        let mut cfg = config(settings(), one_stage(1));
        cfg.properties.extend(props.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        cfg.host_files = files.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        SparkDriver::new(cfg)
    };
    // Present: read whole (Guava's Files.toString keeps the newline).
    let files = [("/etc/spark/principal", "spark-prod\n"), ("/etc/spark/secret", "hunter2")];
    let props =
        [("spark.mesos.principal.file", "/etc/spark/principal"), ("spark.mesos.secret.file", "/etc/spark/secret")];
    let out = driver(&props, &files).step(at(0.0), Input::Start);
    let mut expected = subscribe_call(None);
    expected.subscribe.as_mut().unwrap().framework_info.principal = Some("spark-prod\n".into());
    assert_eq!(calls(&out), vec![expected]);
    // spark.mesos.principal wins over the file, which is then never opened.
    let out = driver(&[("spark.mesos.principal", "p"), ("spark.mesos.principal.file", "/nowhere")], &[])
        .step(at(0.0), Input::Start);
    assert_eq!(calls(&out)[0].subscribe.as_ref().unwrap().framework_info.principal.as_deref(), Some("p"));

    // Missing: FileNotFoundException while the SparkContext is created.
    for (props, path) in [
        (vec![("spark.mesos.principal.file", "/etc/spark/principal")], "/etc/spark/principal"),
        (vec![("spark.mesos.principal", "p"), ("spark.mesos.secret.file", "/etc/spark/secret")], "/etc/spark/secret"),
    ] {
        let mut d = driver(&props, &[]);
        let out = d.step(at(0.0), Input::Start);
        assert!(calls(&out).is_empty(), "no SUBSCRIBE");
        assert_eq!(exits(&out), vec![1]);
        assert_eq!(
            d.report().failed,
            Some(format!("java.io.FileNotFoundException: {path} (No such file or directory)"))
        );
    }
    // A secret read from a file still needs a principal.
    let mut d = driver(&[("spark.mesos.secret.file", "/etc/spark/secret")], &files);
    d.step(at(0.0), Input::Start);
    assert_eq!(
        d.report().failed.as_deref(),
        Some("spark.mesos.principal must be configured when spark.mesos.secret is set")
    );
}

// ---- canLaunchTask: ports -------------------------------------------------------

#[test]
fn a_fixed_block_manager_port_is_reserved_so_one_executor_fits_per_host() {
    let mut s = settings();
    s.executor_cores = Some(1);
    s.block_manager_port = 31005;
    let mut d = running(s, one_stage(4));
    let out = d.step(
        at(1.0),
        offers(vec![
            with_ports(offer(1, 1, 4.0, 8192.0), 31000, 32000),
            offer(2, 2, 4.0, 8192.0),
            with_ports(offer(3, 3, 4.0, 8192.0), 20000, 21000),
        ]),
    );
    assert_eq!(kinds(&out), vec!["ACCEPT", "DECLINE", "DECLINE"]);
    let c = calls(&out);
    let tasks = launched_tasks(&c[0]);
    assert_eq!(tasks.len(), 1, "the offer's other ports are dropped after the first executor");
    assert_eq!(tasks[0].resources, vec![task_scalar("cpus", 1.0), task_scalar("mem", 1408.0), task_port(31005)]);
    assert_eq!((declined_refuse(&c[1]), declined_refuse(&c[2])), (None, None), "no filter: unmet launch constraints");
    let n = notes(&out);
    assert!(n[1].contains("spark.blockManager.port=31005 is not among the offered ports"), "{n:#?}");
}

#[test]
fn port_zero_reserves_no_port() {
    let mut s = settings();
    s.executor_cores = Some(1);
    s.cores_max = Some(2);
    let mut d = running(s, one_stage(4));
    let out = d.step(at(1.0), offers(vec![with_ports(offer(1, 1, 4.0, 8192.0), 31000, 32000)]));
    let c = calls(&out);
    let tasks = launched_tasks(&c[0]);
    assert_eq!(tasks.len(), 2);
    assert!(tasks.iter().all(|t| t.resources == vec![task_scalar("cpus", 1.0), task_scalar("mem", 1408.0)]));
}

// ---- canLaunchTask: GPUs --------------------------------------------------------

#[test]
fn executors_get_the_gpus_offered_up_to_gpus_max_and_free_them_when_they_end() {
    let mut s = settings();
    s.executor_cores = Some(2);
    s.gpus_max = 2;
    let mut d = running(s, one_stage(4));
    let out = d.step(
        at(1.0),
        offers(vec![with_gpus(offer(1, 1, 4.0, 8192.0), 1.5), with_gpus(offer(2, 2, 2.0, 8192.0), 4.0)]),
    );
    assert_eq!(kinds(&out), vec!["ACCEPT", "ACCEPT"]);
    let c = calls(&out);
    let base = || vec![task_scalar("cpus", 2.0), task_scalar("mem", 1408.0)];
    let with_gpu = || [base(), vec![task_scalar("gpus", 1.0)]].concat();
    let on_1: Vec<(String, Vec<Resource>)> =
        launched_tasks(&c[0]).into_iter().map(|t| (t.task_id.value, t.resources)).collect();
    // Executor 0 takes the one whole GPU of offer 1 (1.5 → 1), executor 1 the
    // last one gpus.max allows; executor 2 launches without a GPU.
    assert_eq!(on_1, vec![("2".to_string(), base()), ("0".to_string(), with_gpu())]);
    assert_eq!(launched_tasks(&c[1])[0].resources, with_gpu());

    let out = d.step(at(2.0), update("1", 2, TaskState::TaskFailed, 1));
    assert!(notes(&out).iter().any(|n| n.contains("free its 1 GPUs (1 held now)")), "{:#?}", notes(&out));
    let out = d.step(at(3.0), offers(vec![with_gpus(offer(3, 2, 2.0, 8192.0), 4.0)]));
    assert_eq!(launched_tasks(&calls(&out)[0])[0].resources, with_gpu(), "the freed GPU can be taken again");
}

// ---- TaskInfo: labels, --cores, URIs --------------------------------------------

#[test]
fn task_labels_are_parsed_with_escaped_commas_and_colons() {
    use mesocosm_sim::proto::v1::Label;
    let mut s = settings();
    s.task_labels = r"team:data,path:a\,b\:c".into();
    let mut d = running(s, one_stage(1));
    let out = d.step(at(1.0), offers(vec![offer(1, 1, 4.0, 8192.0)]));
    let label = |k: &str, v: &str| Label { key: k.into(), value: Some(v.into()) };
    assert_eq!(
        launched_tasks(&calls(&out)[0])[0].labels,
        Some(Labels { labels: vec![label("team", "data"), label("path", "a,b:c")] })
    );
}

#[test]
fn a_malformed_label_throws_inside_resource_offers_and_wedges_the_app() {
    let mut s = settings();
    s.task_labels = "team:data,oops".into();
    s.constraints = "zone:a".into();
    let mut d = running(s, one_stage(1));
    let out =
        d.step(at(1.0), offers(vec![offer(1, 1, 4.0, 8192.0), with_text_attr(offer(2, 2, 4.0, 8192.0), "zone", "a")]));
    // The unmatched offer was declined before buildMesosTasks threw; nothing launches.
    assert_eq!(kinds(&out), vec!["DECLINE"]);
    assert_eq!(answered_offer(&calls(&out)[0]), offer_id(1).value);
    assert!(
        notes(&out).iter().any(|n| n.starts_with("org.apache.spark.SparkException: Malformed label: oops thrown")),
        "{:#?}",
        notes(&out)
    );
    // libmesos is aborted: later events are ignored and the app never finishes.
    let out = d.step(at(10.0), offers(vec![with_text_attr(offer(3, 2, 4.0, 8192.0), "zone", "a")]));
    assert!(calls(&out).is_empty() && exits(&out).is_empty());
    assert_eq!((d.report().failed, d.report().finished, d.report().executors_launched), (None, false, 0));
}

#[test]
fn extra_cores_are_advertised_in_cores_but_not_reserved() {
    let mut s = settings();
    s.executor_cores = Some(2);
    s.cores_max = Some(2);
    s.extra_cores = 3;
    let mut d = running(s, one_stage(1));
    let out = d.step(at(1.0), offers(vec![offer(1, 1, 4.0, 8192.0)]));
    let t = &launched_tasks(&calls(&out)[0])[0];
    assert_eq!(t.resources, vec![task_scalar("cpus", 2.0), task_scalar("mem", 1408.0)]);
    assert_eq!(t.command.as_ref().unwrap().value.as_deref(), Some(executor_command("0", 5, Some("agent-1")).as_str()));
}

#[test]
fn executor_uri_and_mesos_uris_are_fetched_with_the_fetcher_cache_flag() {
    use mesocosm_sim::proto::v1::command_info::Uri;
    let mut cfg = config(settings(), one_stage(1));
    for (k, v) in [
        ("spark.executor.uri", "http://repo/spark-3.5.1-bin-hadoop3.tgz"),
        ("spark.mesos.uris", "http://repo/app.conf, ,hdfs:///lib.jar"),
        ("spark.mesos.fetcherCache.enable", "true"),
    ] {
        cfg.properties.push((k.into(), v.into()));
    }
    let mut d = SparkDriver::new(cfg);
    d.step(at(0.0), Input::Start);
    d.step(at(0.1), subscribed());
    let out = d.step(at(1.0), offers(vec![offer(1, 1, 4.0, 8192.0)]));
    let command = launched_tasks(&calls(&out)[0])[0].command.clone().unwrap();
    let uri = |v: &str| Uri { value: v.into(), cache: Some(true), ..Default::default() };
    assert_eq!(
        command.uris,
        vec![uri("http://repo/spark-3.5.1-bin-hadoop3.tgz"), uri("http://repo/app.conf"), uri("hdfs:///lib.jar")]
    );
    assert_eq!(
        command.value.unwrap(),
        format!(
            "cd spark-3*;  ./bin/spark-class org.apache.spark.executor.CoarseGrainedExecutorBackend \
             --driver-url {DRIVER_URL} --executor-id 0 --cores 4 --app-id {} --hostname agent-1",
            fid()
        )
    );
}

// ---- statusUpdate: the state table ---------------------------------------------

#[test]
fn mesos_states_map_to_spark_states_as_mesos_to_task_state_does() {
    use mesocosm_driver::mesos_to_task_state;
    use mesocosm_sim::proto::sparkrpc::TaskState as Spark;
    let table = [
        (TaskState::TaskStaging, Spark::Launching),
        (TaskState::TaskStarting, Spark::Launching),
        (TaskState::TaskRunning, Spark::Running),
        (TaskState::TaskKilling, Spark::Running),
        (TaskState::TaskFinished, Spark::Finished),
        (TaskState::TaskFailed, Spark::Failed),
        (TaskState::TaskGone, Spark::Failed),
        (TaskState::TaskGoneByOperator, Spark::Failed),
        (TaskState::TaskKilled, Spark::Killed),
        (TaskState::TaskLost, Spark::Lost),
        (TaskState::TaskError, Spark::Lost),
        (TaskState::TaskDropped, Spark::Lost),
        (TaskState::TaskUnknown, Spark::Lost),
        (TaskState::TaskUnreachable, Spark::Lost),
    ];
    for (mesos, spark) in table {
        assert_eq!(mesos_to_task_state(mesos), spark, "{mesos:?}");
    }
}

#[test]
fn gone_and_error_statuses_count_as_agent_failures() {
    let mut s = settings();
    s.executor_cores = Some(1);
    let mut d = running(s, one_stage(1));
    for (i, state) in [TaskState::TaskGone, TaskState::TaskError].into_iter().enumerate() {
        let out = d.step(at(1.0 + i as f64), offers(vec![offer(10 + i as u32, 1, 1.0, 8192.0)]));
        assert_eq!(kinds(&out), vec!["ACCEPT"]);
        let out = d.step(at(1.5 + i as f64), update(&i.to_string(), 1, state, 9));
        assert_eq!(kinds(&out), vec!["REVIVE", "ACKNOWLEDGE"]);
    }
    let out = d.step(at(5.0), offers(vec![offer(20, 1, 4.0, 8192.0)]));
    assert_eq!(kinds(&out), vec!["DECLINE"]);
    assert!(notes(&out)[0].contains("excluded after 2 failed executors"), "{:?}", notes(&out));
}

#[test]
fn a_constraint_with_values_on_a_ranges_attribute_throws_as_spark_3_5_does() {
    use mesocosm_sim::proto::v1::{Attribute, value};
    let ranges = |o: Offer| {
        let mut o = o;
        o.attributes.push(Attribute {
            name: "slots".into(),
            r#type: value::Type::Ranges as i32,
            ranges: Some(value::Ranges { range: vec![value::Range { begin: 1, end: 10 }] }),
            ..Default::default()
        });
        o
    };
    // Presence only: checked before the type, so it matches.
    let mut s = settings();
    s.constraints = "slots:".into();
    let mut d = running(s, one_stage(1));
    assert_eq!(kinds(&d.step(at(1.0), offers(vec![ranges(offer(1, 1, 4.0, 8192.0))]))), vec!["ACCEPT"]);

    // A value: the match has no case for Value.Ranges, and the MatchError
    // escapes resourceOffers before even the unmatched offer is declined.
    let mut s = settings();
    s.constraints = "slots:5".into();
    let mut d = running(s, one_stage(1));
    let out = d.step(at(1.0), offers(vec![offer(1, 1, 4.0, 8192.0), ranges(offer(2, 2, 4.0, 8192.0))]));
    assert!(calls(&out).is_empty(), "{:?}", kinds(&out));
    assert_eq!(
        notes(&out),
        vec![
            "scala.MatchError: range { begin: 1 end: 10 } (of class org.apache.mesos.Protos$Value$Ranges) thrown inside \
             resourceOffers: libmesos's Java bindings abort the scheduler driver; Spark does \
             not notice, and the app waits for executors that will never come"
        ]
    );
    // An unmet constraint checked first spares the throw (forall stops there).
    let mut s = settings();
    s.constraints = "zone:a;slots:5".into();
    let mut d = running(s, one_stage(1));
    let out = d.step(at(1.0), offers(vec![with_text_attr(ranges(offer(1, 1, 4.0, 8192.0)), "zone", "b")]));
    assert_eq!(kinds(&out), vec!["DECLINE"]);
}
