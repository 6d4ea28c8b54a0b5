//! The Docker containerizer's launch on the agent core: fetch and pull timing,
//! caches, shared layers, forcePullImage, credentials, the registration timeout.

use super::*;
use crate::images::{Catalog, ContainerConfig, Image, Layer, Link, UriFile};
use mesocosm_sim::proto::internal;
use mesocosm_sim::proto::mesos::v1::{
    CommandInfo, ContainerInfo, FrameworkId, TaskId, command_info, container_info, task_status,
};
use mesocosm_sim::{Output, SimTime, sent_to};
use std::sync::Arc;

const MASTER: &str = "master";
const REG: &str = "registry.example.com";
const IMAGE: &str = "registry.example.com/spark:3.5.1";
const CREDS: &str = "file:///etc/docker.tar.gz";
const MB: u64 = 1_000_000;

/// 10 MB/s, 100 ms per request; a 100 MB base, a 50 MB Spark layer, a 1 MB
/// app layer; the credentials archive is 1 kB, a Spark tarball 200 MB.
fn catalog(private: bool) -> Catalog {
    let layer = |d: &str, mb: u64| Layer { digest: d.into(), bytes: mb * MB };
    let mut c = Catalog::default();
    c.images.insert(
        IMAGE.into(),
        Image { registry: REG.into(), layers: vec![layer("base", 100), layer("spark", 50), layer("app", 1)], private },
    );
    c.images.insert(
        "registry.example.com/other:1".into(),
        Image { registry: REG.into(), layers: vec![layer("base", 100), layer("other", 10)], private },
    );
    c.uris.insert(CREDS.into(), UriFile { bytes: 1_000, docker_config_for: vec![REG.into()], unreachable: false });
    c.uris.insert(
        "http://repo/spark.tgz".into(),
        UriFile { bytes: 200 * MB, docker_config_for: vec![], unreachable: false },
    );
    c.uris.insert("http://gone/x.tgz".into(), UriFile { bytes: 1, docker_config_for: vec![], unreachable: true });
    c
}

fn containers(private: bool) -> ContainerConfig {
    let link = Link { bandwidth: 10 * MB, latency: Duration::from_millis(100) };
    ContainerConfig {
        catalog: Some(Arc::new(catalog(private))),
        registry_link: link,
        fetch_link: link,
        ..Default::default()
    }
}

fn agent_with(c: ContainerConfig) -> Agent {
    let mut a = Agent::new(AgentConfig {
        me: ActorId::new("agent-1"),
        master: ActorId::new(MASTER),
        resources: vec![],
        attributes: vec![],
        port: 5051,
        registration_delay: Duration::ZERO,
        version: "1.11.0".into(),
        recovered_id: None,
        backoff_seed: 0,
        containers: c,
        zk: None,
    });
    a.step(SimTime::ZERO, Input::Start);
    a.step(SimTime::ZERO, Input::Timer(Timer::Register { backoff: Duration::from_secs(2), epoch: 1 }));
    a.step(
        SimTime::ZERO,
        Input::Message {
            from: ActorId::new(MASTER),
            msg: internal::SlaveRegisteredMessage { slave_id: AgentId { value: "M-S0".into() }, connection: None }
                .into(),
        },
    );
    a
}

fn uri(value: &str, cache: bool) -> command_info::Uri {
    command_info::Uri { value: value.into(), cache: Some(cache), ..Default::default() }
}

/// A Spark executor task as Spark builds it: a command task with a DOCKER container.
fn docker_task(id: &str, image: &str, force: bool, uris: Vec<command_info::Uri>) -> TaskInfo {
    TaskInfo {
        name: format!("Task {id}"),
        task_id: TaskId { value: id.into() },
        agent_id: AgentId { value: "M-S0".into() },
        command: Some(CommandInfo {
            value: Some("spark-class CoarseGrainedExecutorBackend".into()),
            uris,
            ..Default::default()
        }),
        container: Some(ContainerInfo {
            r#type: container_info::Type::Docker as i32,
            docker: Some(container_info::DockerInfo {
                image: image.into(),
                force_pull_image: Some(force),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn run(a: &mut Agent, at: u64, task: TaskInfo) -> Vec<Output<Timer>> {
    let framework = FrameworkInfo {
        user: "root".into(),
        name: "pi".into(),
        id: Some(FrameworkId { value: "F".into() }),
        ..Default::default()
    };
    a.step(
        SimTime(at),
        Input::Message {
            from: ActorId::new(MASTER),
            msg: internal::RunTaskMessage { framework, pid: None, task, launch_executor: Some(true) }.into(),
        },
    )
}

/// The container step timer the outputs set, if any: (when, executor).
fn step_at(out: &[Output<Timer>]) -> Option<(u64, String)> {
    out.iter().find_map(|o| match o {
        Output::SetTimer { at, timer: Timer::ContainerStep { executor, .. } } => Some((at.micros(), executor.clone())),
        _ => None,
    })
}

fn launched(out: &[Output<Timer>]) -> bool {
    out.iter().any(|o| matches!(o, Output::Launch(_)))
}

fn fire(a: &mut Agent, at: u64, executor: &str) -> Vec<Output<Timer>> {
    a.step(SimTime(at), Input::Timer(Timer::ContainerStep { framework: "F".into(), executor: executor.into() }))
}

/// The single status update the agent sent: (state, reason, message).
fn update_of(out: &[Output<Timer>]) -> (TaskState, task_status::Reason, String) {
    match &sent_to(out, MASTER)[..] {
        [Msg::StatusUpdate(m), Msg::ExitedExecutor(_)] => {
            let s = &m.update.status;
            (s.state(), s.reason(), s.message.clone().unwrap_or_default())
        }
        other => panic!("expected one update and the exit, got {other:?}"),
    }
}

#[test]
fn a_cold_pull_takes_the_manifest_and_every_layer_over_the_link() {
    let mut a = agent_with(containers(false));
    let out = run(&mut a, 1_000_000, docker_task("1", IMAGE, false, vec![]));
    // Manifest 0.1 s, then 100 MB + 50 MB + 1 MB at 10 MB/s, each layer 0.1 s
    // latency: 1.0 + 0.1 + 10.1 + 5.1 + 0.2 s.
    assert_eq!(step_at(&out), Some((1_000_000 + 100_000 + 10_100_000 + 5_100_000 + 200_000, "1".into())));
    assert!(!launched(&out));
    let out = fire(&mut a, 16_500_000, "1");
    assert!(launched(&out));
    assert_eq!(a.store_totals().pulled_bytes, 151 * MB);
}

#[test]
fn an_image_already_in_the_store_starts_at_once_unless_forced() {
    let mut a = agent_with(ContainerConfig { pre_pulled: vec![IMAGE.into()], ..containers(false) });
    let out = run(&mut a, 1_000_000, docker_task("1", IMAGE, false, vec![]));
    assert!(launched(&out), "docker inspect finds it: no pull");
    assert_eq!(a.store_totals().layer_hits, 3);
    // forcePullImage re-checks the manifest (one round trip) and pulls nothing new.
    let out = run(&mut a, 2_000_000, docker_task("2", IMAGE, true, vec![]));
    assert_eq!(step_at(&out), Some((2_100_000, "2".into())));
    assert!(launched(&fire(&mut a, 2_100_000, "2")));
    assert_eq!(a.store_totals().pulled_bytes, 0);
}

#[test]
fn a_layered_image_pulls_only_the_layers_it_does_not_share() {
    let mut a =
        agent_with(ContainerConfig { pre_pulled: vec!["registry.example.com/other:1".into()], ..containers(false) });
    let out = run(&mut a, 0, docker_task("1", IMAGE, false, vec![]));
    // The base is here: manifest 0.1 s + spark 5.1 s + app 0.2 s.
    assert_eq!(step_at(&out), Some((5_400_000, "1".into())));
    assert_eq!(a.store_totals().pulled_bytes, 51 * MB);
}

#[test]
fn a_layer_another_launch_is_pulling_is_shared_not_pulled_twice() {
    let mut a = agent_with(containers(false));
    let first = run(&mut a, 0, docker_task("1", IMAGE, false, vec![]));
    assert_eq!(step_at(&first), Some((15_500_000, "1".into())));
    // One second later, an image with the same base: the base is still
    // downloading (ready at 10.2 s); only `other` is new, queued on the link
    // after the first pull's layers (free at 15.5 s): 15.5 + 1.1 s.
    let second = run(&mut a, 1_000_000, docker_task("2", "registry.example.com/other:1", false, vec![]));
    assert_eq!(step_at(&second), Some((16_600_000, "2".into())));
    let t = a.store_totals();
    assert_eq!((t.pulled_bytes, t.layers_shared), (161 * MB, 1));
}

#[test]
fn a_private_image_without_credentials_fails_with_the_daemons_unauthorized() {
    let mut a = agent_with(containers(true));
    let out = run(&mut a, 0, docker_task("1", IMAGE, true, vec![]));
    assert_eq!(step_at(&out), Some((100_000, "1".into())));
    let out = fire(&mut a, 100_000, "1");
    assert!(!launched(&out));
    assert_eq!(
        update_of(&out),
        (
            TaskState::TaskFailed,
            task_status::Reason::ContainerLaunchFailed,
            "Failed to launch container: Failed to run 'docker -H unix:///var/run/docker.sock pull registry.example.com/spark:3.5.1': exited with status 1; stderr='Error response from daemon: Get https://registry.example.com/v2/spark/manifests/3.5.1: unauthorized: authentication required'".into()
        )
    );
    assert_eq!(a.executors(), 0);
}

#[test]
fn the_fetched_docker_tar_gz_brings_the_credentials_the_pull_needs() {
    let mut a = agent_with(containers(true));
    let out = run(&mut a, 0, docker_task("1", IMAGE, true, vec![uri(CREDS, false)]));
    // Fetch 0.1 s + 1 kB (100 µs), then the forced pull of every layer.
    let fetched = 100_100;
    assert_eq!(step_at(&out), Some((fetched, "1".into())));
    let out = fire(&mut a, fetched, "1");
    assert_eq!(step_at(&out), Some((fetched + 100_000 + 10_100_000 + 5_100_000 + 200_000, "1".into())));
    assert!(launched(&fire(&mut a, 15_600_100, "1")));
}

#[test]
fn agent_docker_config_also_authorizes_a_private_pull() {
    let mut a = agent_with(ContainerConfig { docker_config: vec![REG.into()], ..containers(true) });
    let out = run(&mut a, 0, docker_task("1", IMAGE, false, vec![]));
    assert_eq!(step_at(&out), Some((15_500_000, "1".into())));
}

#[test]
fn the_fetcher_cache_makes_the_second_fetch_a_copy() {
    let mut a = agent_with(ContainerConfig { pre_pulled: vec![IMAGE.into()], ..containers(false) });
    let out = run(&mut a, 0, docker_task("1", IMAGE, false, vec![uri("http://repo/spark.tgz", true)]));
    assert_eq!(step_at(&out), Some((20_100_000, "1".into())));
    assert!(launched(&fire(&mut a, 20_100_000, "1")));
    let out = run(&mut a, 30_000_000, docker_task("2", IMAGE, false, vec![uri("http://repo/spark.tgz", true)]));
    assert!(launched(&out), "a cache hit takes no download");
    let t = a.store_totals();
    assert_eq!((t.fetched_bytes, t.fetcher_cache_hits), (200 * MB, 1));
    // Without `cache`, every launch downloads again.
    let out = run(&mut a, 40_000_000, docker_task("3", IMAGE, false, vec![uri("http://repo/spark.tgz", false)]));
    assert_eq!(step_at(&out), Some((60_100_000, "3".into())));
}

#[test]
fn an_unreachable_uri_fails_the_launch_as_the_fetcher_does() {
    let mut a = agent_with(containers(false));
    run(&mut a, 0, docker_task("1", IMAGE, false, vec![uri("http://gone/x.tgz", false)]));
    let out = fire(&mut a, 100_000, "1");
    let (state, reason, msg) = update_of(&out);
    assert_eq!((state, reason), (TaskState::TaskFailed, task_status::Reason::ContainerLaunchFailed));
    assert_eq!(
        msg,
        format!(
            "Failed to launch container: Failed to fetch all URIs for container '{}': exited with status 1",
            a.container_id(&("F".into(), "1".into()))
        )
    );
}

#[test]
fn a_pull_slower_than_the_registration_timeout_fails_the_executor() {
    let slow = Link { bandwidth: MB, latency: Duration::from_millis(100) };
    let mut a = agent_with(ContainerConfig { registry_link: slow, ..containers(false) });
    let out = run(&mut a, 0, docker_task("1", IMAGE, false, vec![]));
    // The registration clock starts with the launch: 1 min, before the pull's 151 s.
    assert!(out.contains(&Output::SetTimer {
        at: SimTime(60_000_000),
        timer: Timer::ExecutorRegistration { framework: "F".into(), executor: "1".into() }
    }));
    let out = a.step(
        SimTime(60_000_000),
        Input::Timer(Timer::ExecutorRegistration { framework: "F".into(), executor: "1".into() }),
    );
    assert_eq!(
        update_of(&out),
        (
            TaskState::TaskFailed,
            task_status::Reason::ExecutorRegistrationTimeout,
            "Executor did not register within 1mins; Container destroyed while pulling image".into()
        )
    );
    // The pull's own timer finds nothing left to start.
    assert!(!launched(&fire(&mut a, 151_400_000, "1")));
    // The killed pull had finished no layer (the base needs until 100.2 s):
    // the daemon dropped them all, so a second launch pulls everything again.
    let out = run(&mut a, 61_000_000, docker_task("2", IMAGE, false, vec![]));
    assert_eq!(step_at(&out), Some((61_000_000 + 151_400_000, "2".into())));
    // Raised to 5 min, the same pull starts the container in time.
    let mut b = agent_with(ContainerConfig {
        registry_link: slow,
        executor_registration_timeout: Duration::from_secs(300),
        ..containers(false)
    });
    let out = run(&mut b, 0, docker_task("1", IMAGE, false, vec![]));
    assert_eq!(step_at(&out), Some((151_400_000, "1".into())));
    assert!(launched(&fire(&mut b, 151_400_000, "1")));
}

#[test]
fn an_agent_without_docker_fails_docker_tasks_as_an_unknown_container() {
    let mut a = agent_with(ContainerConfig { docker: false, ..containers(false) });
    let out = run(&mut a, 0, docker_task("1", IMAGE, false, vec![]));
    assert_eq!(
        update_of(&out),
        (
            TaskState::TaskFailed,
            task_status::Reason::ExecutorTerminated,
            "Abnormal executor termination: unknown container".into()
        )
    );
}

#[test]
fn a_docker_tar_gz_fetched_without_extract_brings_no_credentials() {
    let mut a = agent_with(containers(true));
    let packed = command_info::Uri { value: CREDS.into(), extract: Some(false), ..Default::default() };
    run(&mut a, 0, docker_task("1", IMAGE, false, vec![packed]));
    // The archive lands in the sandbox still packed: no .docker/config.json,
    // so the pull goes anonymous and the registry answers 401.
    let out = fire(&mut a, 100_100, "1");
    assert_eq!(step_at(&out), Some((200_100, "1".into())));
    let (_, reason, msg) = update_of(&fire(&mut a, 200_100, "1"));
    assert_eq!(reason, task_status::Reason::ContainerLaunchFailed);
    assert!(msg.ends_with("unauthorized: authentication required'"), "{msg}");
}

#[test]
fn a_mesos_container_image_pulls_with_the_agents_docker_config_only() {
    use mesocosm_sim::proto::mesos::v1::{Image as ImageInfo, image};
    let mesos_task = |id: &str, uris| {
        let mut t = docker_task(id, IMAGE, false, uris);
        t.container = Some(ContainerInfo {
            r#type: container_info::Type::Mesos as i32,
            mesos: Some(container_info::MesosInfo {
                image: Some(ImageInfo {
                    r#type: image::Type::Docker as i32,
                    docker: Some(image::Docker { name: IMAGE.into() }),
                    // Spark sets `cached = !forcePullImage`.
                    cached: Some(false),
                }),
            }),
            ..Default::default()
        });
        t
    };
    // The sandbox's credentials are the docker CLI's; the provisioner does not read them.
    let mut a = agent_with(containers(true));
    run(&mut a, 0, mesos_task("1", vec![uri(CREDS, false)]));
    let out = fire(&mut a, 100_100, "1");
    assert_eq!(step_at(&out), Some((200_100, "1".into())));
    assert_eq!(update_of(&fire(&mut a, 200_100, "1")).1, task_status::Reason::ContainerLaunchFailed);
    // With --docker_config it pulls every layer (cached = false forces it).
    let mut b = agent_with(ContainerConfig { docker_config: vec![REG.into()], ..containers(true) });
    let out = run(&mut b, 0, mesos_task("1", vec![]));
    assert_eq!(step_at(&out), Some((15_500_000, "1".into())));
}

fn registry_fault(from: u64, until: u64, effect: crate::images::RegistryEffect) -> crate::images::RegistryFault {
    crate::images::RegistryFault { label: "s.toml:9".into(), from: SimTime(from), until: Some(SimTime(until)), effect }
}

#[test]
fn an_unreachable_registry_fails_the_pull_with_connection_refused_inside_its_window_only() {
    let f = registry_fault(0, 10_000_000, crate::images::RegistryEffect::Unreachable);
    let mut a = agent_with(ContainerConfig { registry_faults: vec![f], ..containers(false) });
    let out = run(&mut a, 1_000_000, docker_task("1", IMAGE, false, vec![]));
    // The `/v2/` ping is refused one round trip after the pull starts.
    assert_eq!(step_at(&out), Some((1_100_000, "1".into())));
    assert_eq!(
        update_of(&fire(&mut a, 1_100_000, "1")),
        (
            TaskState::TaskFailed,
            task_status::Reason::ContainerLaunchFailed,
            "Failed to launch container: Failed to run 'docker -H unix:///var/run/docker.sock pull registry.example.com/spark:3.5.1': exited with status 1; stderr='Error response from daemon: Get https://registry.example.com/v2/: dial tcp registry.example.com:443: connect: connection refused'".into()
        )
    );
    assert_eq!(a.registry_fault_hits().get("s.toml:9"), Some(&1));
    // After the window the same pull works as a cold pull.
    let out = run(&mut a, 10_000_000, docker_task("2", IMAGE, false, vec![]));
    assert_eq!(step_at(&out), Some((10_000_000 + 15_500_000, "2".into())));
    assert_eq!(a.registry_fault_hits().get("s.toml:9"), Some(&1));
}

#[test]
fn a_slow_registry_divides_the_bandwidth_and_adds_latency_for_requests_in_its_window() {
    let slow =
        crate::images::RegistryEffect::Slow { bandwidth_divided_by: 2, added_latency: Duration::from_millis(400) };
    // Slow until 12 s: the manifest (0.5 s) and the base (0.5 + 20 s) start
    // inside it; spark (0.1 + 5 s) and app (0.1 + 0.1 s) start after it.
    let mut a =
        agent_with(ContainerConfig { registry_faults: vec![registry_fault(0, 12_000_000, slow)], ..containers(false) });
    let out = run(&mut a, 0, docker_task("1", IMAGE, false, vec![]));
    assert_eq!(step_at(&out), Some((500_000 + 20_500_000 + 5_100_000 + 200_000, "1".into())));
    assert_eq!(a.registry_fault_hits().get("s.toml:9"), Some(&1));
}

#[test]
fn a_registry_fault_does_not_touch_an_image_already_in_the_store() {
    let f = registry_fault(0, 10_000_000, crate::images::RegistryEffect::Unreachable);
    let mut a =
        agent_with(ContainerConfig { registry_faults: vec![f], pre_pulled: vec![IMAGE.into()], ..containers(false) });
    assert!(launched(&run(&mut a, 0, docker_task("1", IMAGE, false, vec![]))), "docker inspect is local");
    assert!(a.registry_fault_hits().is_empty());
}
