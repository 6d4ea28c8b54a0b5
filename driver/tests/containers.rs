//! The executor's container (`MesosSchedulerBackendUtil.buildContainerInfo`):
//! Docker and Mesos containerizers, images, volumes, port maps, parameters
//! and CNI networks, as exact `ContainerInfo`s for given confs.

mod common;

use common::*;
use mesocosm_driver::{Containerizer, SparkSettings};
use mesocosm_sim::Actor;
use mesocosm_sim::proto::v1::container_info::docker_info::{Network, PortMapping};
use mesocosm_sim::proto::v1::container_info::{DockerInfo, MesosInfo, Type};
use mesocosm_sim::proto::v1::{
    ContainerInfo, Image, Label, Labels, NetworkInfo, Parameter, TaskInfo, Volume, image, volume,
};

/// The only executor launched on a single 4-cpu offer with `s`.
fn launch_one(s: SparkSettings) -> (TaskInfo, Vec<String>) {
    let mut d = running(s, one_stage(1));
    let out = d.step(at(1.0), offers(vec![offer(1, 1, 4.0, 8192.0)]));
    assert_eq!(kinds(&out), vec!["ACCEPT"], "{:#?}", notes(&out));
    (launched_tasks(&calls(&out)[0]).remove(0), notes(&out))
}

fn list(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn param(k: &str, v: &str) -> Parameter {
    Parameter { key: k.into(), value: v.into() }
}

fn vol(container: &str, host: Option<&str>, mode: volume::Mode) -> Volume {
    Volume { mode: mode as i32, container_path: container.into(), host_path: host.map(Into::into), image: None }
}

#[test]
fn no_image_gives_a_bare_mesos_container() {
    let (t, _) = launch_one(settings());
    assert_eq!(t.container, Some(ContainerInfo { r#type: Type::Mesos as i32, ..Default::default() }));
}

#[test]
fn a_docker_image_with_the_docker_containerizer_gives_docker_info_volumes_port_maps_and_parameters() {
    let mut s = settings();
    s.docker_image = Some("registry/spark:3.5.1".into());
    s.docker_force_pull_image = true;
    s.docker_volumes = list(&["/data:/data:ro", "/tmp", "/etc/hosts:/etc/hosts:rw", "/a:/b:c:d"]);
    s.docker_port_maps = list(&["8080:80", "9000:90:udp", "7077"]);
    s.docker_parameters = list(&["memory-swap=-1", "env=A=B", "oops"]);
    let (t, notes) = launch_one(s);
    let expected = ContainerInfo {
        r#type: Type::Docker as i32,
        docker: Some(DockerInfo {
            image: "registry/spark:3.5.1".into(),
            network: None,
            port_mappings: vec![
                PortMapping { host_port: 8080, container_port: 80, protocol: Some("tcp".into()) },
                PortMapping { host_port: 9000, container_port: 90, protocol: Some("udp".into()) },
            ],
            privileged: None,
            // Split at the first `=`: the value keeps the rest.
            parameters: vec![param("memory-swap", "-1"), param("env", "A=B")],
            force_pull_image: Some(true),
        }),
        volumes: vec![
            vol("/data", Some("/data"), volume::Mode::Ro),
            vol("/tmp", None, volume::Mode::Rw),
            vol("/etc/hosts", Some("/etc/hosts"), volume::Mode::Rw),
        ],
        ..Default::default()
    };
    assert_eq!(t.container, Some(expected));
    // The command still carries --hostname: no CNI network.
    assert_eq!(t.command.unwrap().value.unwrap(), executor_command("0", 4, Some("agent-1")));
    let accept = &notes[0];
    for skipped in ["docker volume \"/a:/b:c:d\"", "docker port mapping \"7077\"", "docker parameter \"oops\""] {
        assert!(accept.contains(&format!("skip {skipped}")), "{accept}");
    }
}

#[test]
fn force_pull_defaults_to_false_and_is_always_set() {
    let mut s = settings();
    s.docker_image = Some("spark".into());
    let (t, _) = launch_one(s);
    let docker = t.container.unwrap().docker.unwrap();
    assert_eq!((docker.force_pull_image, docker.port_mappings, docker.parameters), (Some(false), vec![], vec![]));
}

#[test]
fn the_mesos_containerizer_runs_the_docker_image_as_a_cached_mesos_image() {
    let mut s = settings();
    s.docker_image = Some("registry/spark:3.5.1".into());
    s.containerizer = Containerizer::Mesos;
    s.docker_volumes = list(&["/data:/data:ro"]);
    s.docker_port_maps = list(&["8080:80"]);
    s.docker_parameters = list(&["memory-swap=-1"]);
    let (t, _) = launch_one(s.clone());
    let image = |cached| MesosInfo {
        image: Some(Image {
            r#type: image::Type::Docker as i32,
            docker: Some(image::Docker { name: "registry/spark:3.5.1".into() }),
            cached: Some(cached),
        }),
    };
    assert_eq!(
        t.container,
        Some(ContainerInfo {
            r#type: Type::Mesos as i32,
            mesos: Some(image(true)),
            // Port maps and parameters only go to a DockerInfo; volumes go to either.
            volumes: vec![vol("/data", Some("/data"), volume::Mode::Ro)],
            ..Default::default()
        })
    );
    s.docker_force_pull_image = true;
    let (t, _) = launch_one(s);
    assert_eq!(t.container.unwrap().mesos, Some(image(false)), "cached = !forcePullImage");
}

#[test]
fn a_cni_network_joins_docker_as_user_network_with_net_parameter_and_drops_hostname() {
    let mut s = settings();
    s.docker_image = Some("spark".into());
    s.docker_parameters = list(&["memory-swap=-1"]);
    s.network_name = Some("calico".into());
    s.network_labels = Some("zone:a,rack:r\\:1".into());
    let (t, _) = launch_one(s);
    let label = |k: &str, v: &str| Label { key: k.into(), value: Some(v.into()) };
    assert_eq!(
        t.container,
        Some(ContainerInfo {
            r#type: Type::Docker as i32,
            docker: Some(DockerInfo {
                image: "spark".into(),
                network: Some(Network::User as i32),
                parameters: vec![param("memory-swap", "-1"), param("net", "calico")],
                force_pull_image: Some(false),
                ..Default::default()
            }),
            network_infos: vec![NetworkInfo {
                name: Some("calico".into()),
                groups: vec![],
                labels: Some(Labels { labels: vec![label("zone", "a"), label("rack", "r:1")] }),
            }],
            ..Default::default()
        })
    );
    // SPARK-28778: the executor binds to its own address on the CNI network.
    assert_eq!(t.command.unwrap().value.unwrap(), executor_command("0", 4, None));
}

#[test]
fn a_cni_network_without_an_image_is_a_mesos_container_with_empty_labels() {
    let mut s = settings();
    s.network_name = Some("calico".into());
    let (t, _) = launch_one(s);
    assert_eq!(
        t.container,
        Some(ContainerInfo {
            r#type: Type::Mesos as i32,
            network_infos: vec![NetworkInfo {
                name: Some("calico".into()),
                groups: vec![],
                labels: Some(Labels::default())
            }],
            ..Default::default()
        })
    );
    assert_eq!(t.command.unwrap().value.unwrap(), executor_command("0", 4, None));
}

#[test]
fn a_non_numeric_port_map_throws_number_format_exception_and_wedges_the_app() {
    let mut s = settings();
    s.docker_image = Some("spark".into());
    s.docker_port_maps = list(&["http:80"]);
    let mut d = running(s, one_stage(1));
    let out = d.step(at(1.0), offers(vec![offer(1, 1, 4.0, 8192.0)]));
    assert!(calls(&out).is_empty(), "the offer is never answered");
    assert!(
        notes(&out).iter().any(|n| n.starts_with("java.lang.NumberFormatException: For input string: \"http\" thrown")),
        "{:#?}",
        notes(&out)
    );
}
