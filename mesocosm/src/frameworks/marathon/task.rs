//! The TaskInfo Marathon builds for an instance (`mesosphere/mesos/TaskBuilder.scala`).
//!
//! - name: the app id as a hostname (`/test-docker-spark` → `test-docker-spark`);
//! - task id: `<app>.instance-<uuid>._app.<incarnation>` (`Task.Id`, current form);
//! - resources: cpus, mem, disk (if any), the host ports picked from the offer,
//!   each with the offer's allocation info (Marathon is MULTI_ROLE);
//! - command: `cmd`, run by `/bin/sh -c`, with the fetch URIs and Marathon's
//!   environment (`MARATHON_APP_ID`, `MESOS_TASK_ID`, `HOST`, `PORT0`…, `PORTS`);
//! - container: DOCKER with the JSON's image, network, port mappings (host
//!   ports filled in), privileged, parameters, forcePullImage and volumes;
//! - labels: the app's labels.

use super::app::AppDefinition;
use mesocosm_sim::proto::Resources;
use mesocosm_sim::proto::v1::{
    AgentId, CommandInfo, ContainerInfo, Environment, Label, Labels, Offer, Parameter, TaskId, TaskInfo, Volume,
    command_info, container_info, environment, volume,
};

/// Where an instance goes: its task id, the offer, what it takes of it.
pub struct Placement<'a> {
    pub task_id: &'a str,
    pub offer: &'a Offer,
    pub resources: &'a Resources,
    /// One per `AppDefinition::host_ports`, in order.
    pub host_ports: &'a [u32],
}

/// The TaskInfo of `app`'s instance at `p`.
pub fn task_info(app: &AppDefinition, p: &Placement<'_>) -> TaskInfo {
    let mut resources = p.resources.to_protos();
    for r in &mut resources {
        r.allocation_info = p.offer.allocation_info.clone();
    }
    TaskInfo {
        name: app.hostname(),
        task_id: TaskId { value: p.task_id.to_string() },
        agent_id: AgentId { value: p.offer.agent_id.value.clone() },
        resources,
        command: Some(command(app, p)),
        container: app.container.as_ref().map(|d| ContainerInfo {
            r#type: container_info::Type::Docker as i32,
            volumes: d
                .volumes
                .iter()
                .map(|v| Volume {
                    mode: if v.mode == "RO" { volume::Mode::Ro } else { volume::Mode::Rw } as i32,
                    container_path: v.container_path.clone(),
                    host_path: Some(v.host_path.clone()),
                    image: None,
                })
                .collect(),
            docker: Some(container_info::DockerInfo {
                image: d.image.clone(),
                network: Some(match d.network.as_str() {
                    "BRIDGE" => container_info::docker_info::Network::Bridge,
                    "USER" => container_info::docker_info::Network::User,
                    "NONE" => container_info::docker_info::Network::None,
                    _ => container_info::docker_info::Network::Host,
                } as i32),
                port_mappings: d
                    .port_mappings
                    .iter()
                    .zip(p.host_ports)
                    .filter(|_| d.network != "HOST")
                    .map(|(m, &host)| container_info::docker_info::PortMapping {
                        host_port: host,
                        container_port: m.container_port,
                        protocol: Some(m.protocol.clone()),
                    })
                    .collect(),
                privileged: Some(d.privileged),
                parameters: d.parameters.iter().map(|(k, v)| Parameter { key: k.clone(), value: v.clone() }).collect(),
                force_pull_image: Some(d.force_pull_image),
            }),
            ..Default::default()
        }),
        labels: (!app.labels.is_empty()).then(|| Labels {
            labels: app.labels.iter().map(|(k, v)| Label { key: k.clone(), value: Some(v.clone()) }).collect(),
        }),
        ..Default::default()
    }
}

fn command(app: &AppDefinition, p: &Placement<'_>) -> CommandInfo {
    let mut env: Vec<(String, String)> = vec![
        ("MARATHON_APP_ID".into(), app.id.clone()),
        ("MESOS_TASK_ID".into(), p.task_id.to_string()),
        ("HOST".into(), p.offer.hostname.clone()),
        ("MARATHON_APP_RESOURCE_CPUS".into(), app.cpus.to_string()),
        ("MARATHON_APP_RESOURCE_MEM".into(), app.mem.to_string()),
        ("MARATHON_APP_RESOURCE_DISK".into(), app.disk.to_string()),
    ];
    if let Some(d) = &app.container {
        env.push(("MARATHON_APP_DOCKER_IMAGE".into(), d.image.clone()));
    }
    if !p.host_ports.is_empty() {
        let ports: Vec<String> = p.host_ports.iter().map(u32::to_string).collect();
        for (i, port) in ports.iter().enumerate() {
            env.push((format!("PORT{i}"), port.clone()));
        }
        env.push(("PORT".into(), ports[0].clone()));
        env.push(("PORTS".into(), ports.join(",")));
    }
    CommandInfo {
        uris: app
            .fetch
            .iter()
            .map(|f| command_info::Uri {
                value: f.uri.clone(),
                executable: Some(f.executable),
                extract: Some(f.extract),
                cache: Some(f.cache),
                output_file: None,
            })
            .collect(),
        environment: Some(Environment {
            variables: env
                .into_iter()
                .map(|(name, value)| environment::Variable { name, r#type: None, value: Some(value) })
                .collect(),
        }),
        shell: Some(true),
        value: Some(app.cmd.clone()),
        ..Default::default()
    }
}
