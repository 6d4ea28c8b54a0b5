//! Building the Mesos task that starts one Spark executor.
//!
//! In coarse-grained mode one Mesos task *is* one Spark executor: a process
//! running `CoarseGrainedExecutorBackend` that lives as long as the app and
//! runs many Spark tasks. This module builds that task's pieces exactly as
//! `MesosCoarseGrainedSchedulerBackend` does:
//!
//! - [`partition_task_resources`]: cut the executor's cpus, mem, GPUs and
//!   (with a fixed `spark.blockManager.port`) its port out of the offer
//!   (`partitionTaskResources`, `MesosSchedulerUtils.partitionResources` and
//!   `partitionPortResources`), and [`check_ports`], the port half of
//!   `canLaunchTask`;
//! - [`create_command`]: the shell command line and its environment
//!   (`createCommand` + `buildExecutorCommand`);
//! - [`mesos_labels`]: `spark.mesos.task.labels` → `Labels` (`MesosProtoUtils.mesosLabels`);
//! - [`build_container_info`]: the container, which Spark always sets
//!   (`MesosSchedulerBackendUtil.buildContainerInfo`).
//!
//! The command a learner sees on the agent looks like this (note the leading
//! space: Spark formats `"%s \"%s\" …"` with an empty library-path prefix):
//!
//! ```text
//!  "/opt/spark/./bin/spark-class" org.apache.spark.executor.CoarseGrainedExecutorBackend
//!    --driver-url spark://CoarseGrainedScheduler@driver-host:7078 --executor-id 0
//!    --cores 4 --app-id <framework id> --hostname agent-1
//! ```
//!
//! The container, by conf:
//!
//! ```text
//!  docker.image unset                       → MESOS, no image (the agent's own filesystem)
//!  docker.image set, containerizer=docker   → DOCKER + DockerInfo{image, force_pull_image,
//!                                              port_mappings, parameters} + volumes
//!  docker.image set, containerizer=mesos    → MESOS + MesosInfo{Image{DOCKER, name,
//!                                              cached = !forcePullImage}} + volumes
//!  network.name set (any of the above)      → + NetworkInfo{name, labels}; under Docker
//!                                              also network=USER and parameter net=<name>
//! ```
//!
//! Two kinds of bad input behave differently, as in Spark 3.5: an entry of
//! the wrong *shape* (a volume `a:b:c:d`, a parameter without `=`) is skipped
//! with a warning; a value Spark cannot convert (a port map `x:80`, a
//! malformed label) throws while the executor's task is built, inside
//! `resourceOffers` (see `crate::backend`).

use crate::config::{Containerizer, DriverConfig, SparkSettings};
use mesocosm_sim::proto::v1::container_info::docker_info::PortMapping;
use mesocosm_sim::proto::v1::{
    CommandInfo, ContainerInfo, Environment, Image, Label, Labels, NetworkInfo, Parameter, Resource, Volume,
    command_info, container_info, environment, image, value, volume,
};
use std::collections::BTreeMap;

/// Mesos scalars are fixed point with three decimals; mesocosm computes in thousandths.
pub fn milli(v: f64) -> i64 {
    (v * 1000.0).round() as i64
}

/// `getResource(res, name)`: the sum of every scalar `name` in the list, in thousandths.
pub(crate) fn scalar_milli(res: &[Resource], name: &str) -> i64 {
    res.iter()
        .filter(|r| r.name == name && r.r#type == value::Type::Scalar as i32)
        .map(|r| r.scalar.as_ref().map_or(0, |s| milli(s.value)))
        .sum()
}

/// `createResource(name, amount, Option(r.getRole))`.
///
/// Why `role` is always set: proto2's `getRole` returns the default `"*"`
/// when the offer left it unset, and Spark copies that value explicitly.
#[allow(deprecated)] // `Resource.role` is deprecated upstream, and Spark still sets it.
fn scalar_resource(name: &str, amount_milli: i64, role: &str) -> Resource {
    Resource {
        name: name.to_string(),
        r#type: value::Type::Scalar as i32,
        scalar: Some(value::Scalar { value: amount_milli as f64 / 1000.0 }),
        role: Some(role.to_string()),
        ..Default::default()
    }
}

/// `partitionResources(resources, name, amount)`: take `amount` of scalar
/// `name` from the list, resource by resource in list order.
///
/// Returns `(left, used)`. Depleted scalars are dropped from `left`; other
/// resources (ports, disk, …) are left untouched.
pub fn partition_resources(resources: &[Resource], name: &str, amount_milli: i64) -> (Vec<Resource>, Vec<Resource>) {
    let mut remain = amount_milli;
    let mut used = Vec::new();
    let mut left = Vec::new();
    for r in resources {
        let v = r.scalar.as_ref().map_or(0, |s| milli(s.value));
        if remain > 0 && r.r#type == value::Type::Scalar as i32 && v > 0 && r.name == name {
            #[allow(deprecated)]
            let role = r.role.as_deref().unwrap_or("*");
            let usage = remain.min(v);
            used.push(scalar_resource(name, usage, role));
            remain -= usage;
            left.push(scalar_resource(name, v - usage, role));
        } else {
            left.push(r.clone());
        }
    }
    left.retain(|r| r.r#type != value::Type::Scalar as i32 || r.scalar.as_ref().is_some_and(|s| s.value > 0.0));
    (left, used)
}

/// The ranges of every `ports` resource in `res` (`getRangeResource(res, "ports")`).
fn port_ranges(res: &[Resource]) -> impl Iterator<Item = (u64, u64)> + '_ {
    res.iter()
        .filter(|r| r.name == "ports" && r.r#type == value::Type::Ranges as i32)
        .flat_map(|r| r.ranges.iter().flat_map(|rs| rs.range.iter().map(|x| (x.begin, x.end))))
}

/// `checkPorts(conf, offeredPorts)`: can this offer give the executor its port?
///
/// Why: Spark manages only `spark.blockManager.port`, and only when it is
/// non-zero (`nonZeroPortValuesFromConfig`); then the port must lie inside an
/// offered `ports` range and the offer must hold at least one port in all.
/// Port 0 asks for nothing, so every offer passes.
pub(crate) fn check_ports(port: u32, res: &[Resource]) -> bool {
    if port == 0 {
        return true;
    }
    let p = u64::from(port);
    let within = port_ranges(res).any(|(b, e)| b <= p && p <= e);
    let total: u64 = port_ranges(res).map(|(b, e)| e.saturating_sub(b) + 1).sum();
    within && total >= 1
}

/// `partitionPortResources(nonZeroPorts, resources)`: the `[p,p]` port
/// resource for the executor, and what is left.
///
/// Why everything else goes: Spark keeps only the non-port resources for the
/// next executor on this offer ("ignore non-assigned port resources, they
/// will be declined implicitly by mesos"), so a fixed port means one executor
/// per offer, and since that port is then in use, one per host. The reserved
/// range keeps the role of the offered range it came from (`getRole`, `*` by
/// default).
fn partition_port_resources(port: u32, resources: Vec<Resource>) -> (Vec<Resource>, Vec<Resource>) {
    if port == 0 {
        return (resources, Vec::new());
    }
    let p = u64::from(port);
    let is_ports = |r: &Resource| r.name == "ports" && r.r#type == value::Type::Ranges as i32;
    #[allow(deprecated)] // `Resource.role`: deprecated upstream, still what Spark reads and sets.
    let role = resources
        .iter()
        .filter(|r| is_ports(r))
        .find(|r| r.ranges.iter().flat_map(|rs| rs.range.iter()).any(|x| x.begin <= p && p <= x.end))
        .map(|r| r.role.clone().unwrap_or_else(|| "*".to_string()));
    let (_offered_ports, rest): (Vec<Resource>, Vec<Resource>) = resources.into_iter().partition(is_ports);
    let used = role
        .map(|role| {
            #[allow(deprecated)]
            let r = Resource {
                name: "ports".to_string(),
                r#type: value::Type::Ranges as i32,
                ranges: Some(value::Ranges { range: vec![value::Range { begin: p, end: p }] }),
                role: Some(role),
                ..Default::default()
            };
            vec![r]
        })
        .unwrap_or_default();
    (rest, used)
}

/// What one executor takes from an offer (`partitionTaskResources`' arguments).
#[derive(Clone, Copy, Debug)]
pub(crate) struct TaskResources {
    pub cpus: i64,
    pub mem_mib: u64,
    pub gpus: i64,
    /// `spark.blockManager.port` (0: no port is reserved).
    pub port: u32,
}

/// `partitionTaskResources`: cpus, then mem, then gpus, each from what the
/// previous step left, then the port.
///
/// Returns `(left, used)`; the task's list is `cpus ++ mem ++ ports ++ gpus`,
/// Spark's order.
pub(crate) fn partition_task_resources(resources: &[Resource], t: TaskResources) -> (Vec<Resource>, Vec<Resource>) {
    let (after_cpus, cpus) = partition_resources(resources, "cpus", t.cpus * 1000);
    let (after_mem, mem) = partition_resources(&after_cpus, "mem", t.mem_mib as i64 * 1000);
    let (after_gpus, gpus) = partition_resources(&after_mem, "gpus", t.gpus * 1000);
    let (left, ports) = partition_port_resources(t.port, after_gpus);
    (left, [cpus, mem, ports, gpus].concat())
}

/// What `createCommand(offer, numCores, taskId)` needs to know.
pub(crate) struct CommandArgs<'a> {
    pub executor_id: &'a str,
    pub cores: i64,
    pub app_id: &'a str,
    pub offer_hostname: &'a str,
}

/// `createCommand` + `buildExecutorCommand`: the executor's command line and environment.
///
/// Why each piece (Spark 3.5):
/// - environment: `SPARK_EXECUTOR_CLASSPATH` (only if
///   `spark.executor.extraClassPath` is set), then `SPARK_EXECUTOR_OPTS`
///   (always, `{{APP_ID}}`/`{{EXECUTOR_ID}}` substituted), then
///   `sc.executorEnvs`: `SPARK_EXECUTOR_MEMORY`, `SPARK_USER` and every
///   `spark.executorEnv.*`. Spark keeps those in an unordered hash map; mesocosm lists them
///   sorted by name to stay deterministic.
/// - value: without `spark.executor.uri`, `<prefix> "<home>/./bin/spark-class" …`
///   where `<prefix>` sets `LD_LIBRARY_PATH` from `spark.executor.extraLibraryPath`
///   (empty by default, hence the leading space); with a URI, the fetched
///   tarball is entered first (`cd <basename>*; …`).
/// - ` --hostname <offer hostname>` only if `spark.mesos.network.name` is
///   unset (SPARK-28778).
/// - `uris`: `spark.executor.uri` and `spark.mesos.uris`, cached if
///   `spark.mesos.fetcherCache.enable`.
/// - `shell` is not set: the proto default (`true`) applies.
pub(crate) fn create_command(cfg: &DriverConfig, args: &CommandArgs<'_>) -> CommandInfo {
    let var = |name: &str, value: &str| environment::Variable {
        name: name.to_string(),
        value: Some(value.to_string()),
        ..Default::default()
    };
    let mut variables = Vec::new();
    if let Some(cp) = cfg.property("spark.executor.extraClassPath") {
        variables.push(var("SPARK_EXECUTOR_CLASSPATH", cp));
    }
    let java_opts = cfg
        .property("spark.executor.extraJavaOptions")
        .map(|o| o.replace("{{APP_ID}}", args.app_id).replace("{{EXECUTOR_ID}}", args.executor_id))
        .unwrap_or_default();
    variables.push(var("SPARK_EXECUTOR_OPTS", &java_opts));
    let mut executor_envs: BTreeMap<String, String> = BTreeMap::new();
    executor_envs.insert("SPARK_EXECUTOR_MEMORY".into(), format!("{}m", cfg.settings.executor_memory_mib));
    for (k, v) in &cfg.properties {
        if let Some(name) = k.strip_prefix("spark.executorEnv.") {
            executor_envs.insert(name.to_string(), v.clone());
        }
    }
    // SparkContext sets SPARK_USER after the executorEnv.* keys, so it wins.
    executor_envs.insert("SPARK_USER".into(), cfg.user.clone());
    variables.extend(executor_envs.iter().map(|(k, v)| var(k, v)));

    let prefix_env = cfg
        .property("spark.executor.extraLibraryPath")
        .map(|p| format!("LD_LIBRARY_PATH=\"{p}:$LD_LIBRARY_PATH\""))
        .unwrap_or_default();
    let fetcher_cache = cfg.property("spark.mesos.fetcherCache.enable").is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let mut uris = Vec::new();
    let run_script = match cfg.property("spark.executor.uri") {
        None => {
            // `new File(home, "./bin/spark-class").getPath` keeps the `./`.
            let home = cfg.settings.executor_home.trim_end_matches('/');
            let executable = format!("{home}/./bin/spark-class");
            format!("{prefix_env} \"{executable}\" org.apache.spark.executor.CoarseGrainedExecutorBackend")
        }
        Some(uri) => {
            // "Grab everything to the first '.'" of the file name, then glob.
            let basename = uri.rsplit('/').next().unwrap_or(uri).split('.').next().unwrap_or("");
            uris.push(command_info::Uri { value: uri.to_string(), cache: Some(fetcher_cache), ..Default::default() });
            format!(
                "cd {basename}*; {prefix_env} ./bin/spark-class org.apache.spark.executor.CoarseGrainedExecutorBackend"
            )
        }
    };
    if let Some(list) = cfg.property("spark.mesos.uris") {
        for u in crate::conf::string_to_seq(list) {
            uris.push(command_info::Uri { value: u.to_string(), cache: Some(fetcher_cache), ..Default::default() });
        }
    }
    let mut value = format!(
        "{run_script} --driver-url {} --executor-id {} --cores {} --app-id {}",
        cfg.driver_url, args.executor_id, args.cores, args.app_id
    );
    if cfg.settings.network_name.is_none() {
        value.push_str(" --hostname ");
        value.push_str(args.offer_hostname);
    }
    CommandInfo { uris, environment: Some(Environment { variables }), value: Some(value), ..Default::default() }
}

/// `MesosProtoUtils.mesosLabels(str)`: `k:v,k2:v2` → `Labels`.
///
/// Why this exact grammar: Spark splits at every `,` (then every `:`) not
/// preceded by a backslash, requires exactly two parts per label, and only
/// then turns `\,` and `\:` into `,` and `:` (other backslashes stay). An
/// empty string is no labels. A label without exactly one unescaped `:`
/// throws `SparkException("Malformed label: …")` (Spark 3.x; 2.x skipped it).
pub fn mesos_labels(s: &str) -> Result<Labels, String> {
    fn split_unescaped(s: &str, c: char) -> Vec<&str> {
        if s.is_empty() {
            return Vec::new();
        }
        let mut parts = Vec::new();
        let mut from = 0;
        let mut prev = None;
        for (i, ch) in s.char_indices() {
            if ch == c && prev != Some('\\') {
                parts.push(&s[from..i]);
                from = i + ch.len_utf8();
            }
            prev = Some(ch);
        }
        parts.push(&s[from..]);
        parts
    }
    let unescape = |p: &str| p.replace("\\,", ",").replace("\\:", ":");
    let mut labels = Vec::new();
    for label in split_unescaped(s, ',') {
        match split_unescaped(label, ':').as_slice() {
            [k, v] => labels.push(Label { key: unescape(k), value: Some(unescape(v)) }),
            _ => return Err(format!("org.apache.spark.SparkException: Malformed label: {label}")),
        }
    }
    Ok(Labels { labels })
}

/// Java's `String.split(sep)`: trailing empty strings are removed (so `"a:"`
/// is `["a"]` and `":"` is `[]`), the rest kept.
fn java_split(s: &str, sep: char) -> Vec<&str> {
    let mut parts: Vec<&str> = s.split(sep).collect();
    if parts.len() > 1 {
        while parts.last() == Some(&"") {
            parts.pop();
        }
    }
    parts
}

/// Java's `Integer.parseInt`, the `.toInt` Spark calls on port numbers.
fn java_parse_int(s: &str) -> Result<i32, String> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    match s.parse::<i32>() {
        Ok(n) if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) => Ok(n),
        _ => Err(format!("java.lang.NumberFormatException: For input string: \"{s}\"")),
    }
}

/// `parseVolumesSpec`: `[host-dir:]container-dir[:rw|:ro]`, RW by default.
///
/// Why a warning and no error: Spark logs "Unable to parse volume specs" and
/// skips an entry of any other shape.
fn parse_volumes(specs: &[String], warnings: &mut Vec<String>) -> Vec<Volume> {
    let vol = |container: &str, host: Option<&str>, mode: volume::Mode| Volume {
        mode: mode as i32,
        container_path: container.to_string(),
        host_path: host.map(str::to_string),
        image: None,
    };
    let (rw, ro) = (volume::Mode::Rw, volume::Mode::Ro);
    specs
        .iter()
        .filter_map(|spec| match java_split(spec, ':').as_slice() {
            [c] => Some(vol(c, None, rw)),
            [c, "rw"] => Some(vol(c, None, rw)),
            [c, "ro"] => Some(vol(c, None, ro)),
            [h, c] => Some(vol(c, Some(h), rw)),
            [h, c, "rw"] => Some(vol(c, Some(h), rw)),
            [h, c, "ro"] => Some(vol(c, Some(h), ro)),
            _ => {
                warnings.push(format!(
                    "skip docker volume {spec:?}: Unable to parse volume specs. Expected form: \"[host-dir:]container-dir[:rw|:ro](, ...)\""
                ));
                None
            }
        })
        .collect()
}

/// `parsePortMappingsSpec`: `host_port:container_port[:protocol]`, protocol
/// `tcp` by default.
///
/// A spec of another shape is skipped with a warning; a port that is not a
/// number throws (`.toInt`), as in Spark.
fn parse_port_mappings(specs: &[String], warnings: &mut Vec<String>) -> Result<Vec<PortMapping>, String> {
    let mut maps = Vec::new();
    for spec in specs {
        let (host, container, protocol) = match java_split(spec, ':').as_slice() {
            [h, c] => (*h, *c, "tcp"),
            [h, c, p] => (*h, *c, *p),
            _ => {
                warnings.push(format!(
                    "skip docker port mapping {spec:?}: Unable to parse port mapping specs. Expected form: \"host_port:container_port[:udp|:tcp](, ...)\""
                ));
                continue;
            }
        };
        maps.push(PortMapping {
            // `setHostPort(int)` on a uint32 field: a negative int wraps, as in protobuf-java.
            host_port: java_parse_int(host)? as u32,
            container_port: java_parse_int(container)? as u32,
            protocol: Some(protocol.to_string()),
        });
    }
    Ok(maps)
}

/// `parseParamsSpec`: `key=value`, split at the first `=` (`split("=", 2)`),
/// so a value may hold more `=`; an entry without `=` is skipped with a warning.
fn parse_parameters(specs: &[String], warnings: &mut Vec<String>) -> Vec<Parameter> {
    specs
        .iter()
        .filter_map(|spec| match spec.split_once('=') {
            Some((k, v)) => Some(Parameter { key: k.to_string(), value: v.to_string() }),
            None => {
                warnings.push(format!(
                    "skip docker parameter {spec:?}: Unable to parse arbitrary parameters. Expected form: \"key=value(, ...)\""
                ));
                None
            }
        })
        .collect()
}

/// `buildContainerInfo(conf)`: the executor's container (see the module docs).
///
/// Why each choice (`MesosSchedulerBackendUtil`, Spark 3.5):
/// - the type is DOCKER only with an image *and* `spark.mesos.containerizer=docker`;
/// - port maps, parameters and volumes are read only when an image is set;
///   `force_pull_image` is always set on a `DockerInfo` (false by default)
///   and is the inverse of `Image.cached` for the Mesos containerizer;
/// - `spark.mesos.network.name` adds a `NetworkInfo` whatever the type, with
///   `labels` always set (empty without `spark.mesos.network.labels`); under
///   Docker it also switches the network to USER and appends `net=<name>`
///   after the user's parameters;
/// - secret volumes (`spark.mesos.executor.secret.*`) are not modelled.
///
/// Skipped entries are reported in `warnings`; `Err` is the exception Spark
/// would throw (a non-numeric port, malformed network labels).
pub fn build_container_info(s: &SparkSettings, warnings: &mut Vec<String>) -> Result<ContainerInfo, String> {
    let docker = s.docker_image.is_some() && s.containerizer == Containerizer::Docker;
    let mut info = ContainerInfo {
        r#type: if docker { container_info::Type::Docker } else { container_info::Type::Mesos } as i32,
        ..Default::default()
    };
    if let Some(image) = &s.docker_image {
        let port_mappings = parse_port_mappings(&s.docker_port_maps, warnings)?;
        let mut parameters = parse_parameters(&s.docker_parameters, warnings);
        if docker {
            let mut network = None;
            if let Some(net) = &s.network_name {
                network = Some(container_info::docker_info::Network::User as i32);
                parameters.push(Parameter { key: "net".to_string(), value: net.clone() });
            }
            info.docker = Some(container_info::DockerInfo {
                image: image.clone(),
                network,
                port_mappings,
                privileged: None,
                parameters,
                force_pull_image: Some(s.docker_force_pull_image),
            });
        } else {
            info.mesos = Some(container_info::MesosInfo {
                image: Some(Image {
                    r#type: image::Type::Docker as i32,
                    docker: Some(image::Docker { name: image.clone() }),
                    cached: Some(!s.docker_force_pull_image),
                }),
            });
        }
        info.volumes = parse_volumes(&s.docker_volumes, warnings);
    }
    if let Some(name) = &s.network_name {
        let labels = mesos_labels(s.network_labels.as_deref().unwrap_or(""))?;
        info.network_infos.push(NetworkInfo { name: Some(name.clone()), groups: Vec::new(), labels: Some(labels) });
    }
    Ok(info)
}

#[cfg(test)]
mod tests {
    use super::*;
    use mesocosm_sim::proto::Resources;

    fn res(name: &str, v: f64) -> Resource {
        Resources::scalar_of(name, v).to_protos().remove(0)
    }

    #[test]
    fn partition_takes_cpus_then_mem_and_drops_depleted_scalars() {
        let offer = vec![res("cpus", 4.5), res("mem", 2048.0), res("disk", 100.0)];
        let t = TaskResources { cpus: 4, mem_mib: 1408, gpus: 0, port: 0 };
        let (left, used) = partition_task_resources(&offer, t);
        assert_eq!(Resources::from_protos(&used).to_string(), "cpus:4;mem:1408");
        assert_eq!(Resources::from_protos(&left).to_string(), "cpus:0.5;mem:640;disk:100");
        #[allow(deprecated)]
        let roles: Vec<_> = used.iter().map(|r| r.role.clone()).collect();
        assert_eq!(roles, vec![Some("*".to_string()); 2]);
        let (left, _) = partition_task_resources(&left, TaskResources { cpus: 0, mem_mib: 640, ..t });
        assert_eq!(Resources::from_protos(&left).to_string(), "cpus:0.5;disk:100");
    }

    fn ports(b: u64, e: u64) -> Resource {
        let mut r = Resources::new();
        r.add_range("ports", b, e);
        r.to_protos().remove(0)
    }

    #[test]
    fn a_fixed_port_is_checked_against_the_offered_ranges_and_reserved_alone() {
        let offer = vec![res("cpus", 4.0), res("mem", 4096.0), ports(1000, 1000), ports(31000, 32000)];
        assert!(check_ports(0, &[]), "port 0 asks for nothing");
        assert!(check_ports(31000, &offer) && check_ports(32000, &offer) && check_ports(1000, &offer));
        assert!(!check_ports(999, &offer) && !check_ports(32001, &offer));
        let t = TaskResources { cpus: 1, mem_mib: 1024, gpus: 0, port: 31500 };
        let (left, used) = partition_task_resources(&offer, t);
        assert_eq!(Resources::from_protos(&used).to_string(), "cpus:1;mem:1024;ports:[31500-31500]");
        assert_eq!(Resources::from_protos(&left).to_string(), "cpus:3;mem:3072", "every offered port is dropped");
        let (left, used) = partition_task_resources(&offer, TaskResources { port: 0, ..t });
        assert_eq!(Resources::from_protos(&used).to_string(), "cpus:1;mem:1024");
        assert_eq!(Resources::ranges(&Resources::from_protos(&left), "ports"), &[(1000, 1000), (31000, 32000)]);
    }

    #[test]
    fn gpus_come_last_after_the_port() {
        let offer = vec![res("cpus", 4.0), res("gpus", 2.0), res("mem", 4096.0), ports(7000, 7010)];
        let (_, used) = partition_task_resources(&offer, TaskResources { cpus: 2, mem_mib: 1024, gpus: 1, port: 7001 });
        let names: Vec<&str> = used.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["cpus", "mem", "ports", "gpus"], "Spark's cpus ++ mem ++ ports ++ gpus");
    }

    #[test]
    fn labels_split_at_unescaped_separators_only() {
        let l = |v: &[(&str, &str)]| Labels {
            labels: v.iter().map(|(k, v)| Label { key: k.to_string(), value: Some(v.to_string()) }).collect(),
        };
        assert_eq!(mesos_labels(""), Ok(Labels::default()));
        assert_eq!(mesos_labels("a:1,b:2"), Ok(l(&[("a", "1"), ("b", "2")])));
        assert_eq!(mesos_labels(r"url:http\://x\,y"), Ok(l(&[("url", "http://x,y")])));
        assert_eq!(mesos_labels(r"a\b:c"), Ok(l(&[(r"a\b", "c")])), "other backslashes stay");
        assert_eq!(mesos_labels("a:"), Ok(l(&[("a", "")])));
        assert_eq!(mesos_labels("a:1:2"), Err("org.apache.spark.SparkException: Malformed label: a:1:2".into()));
        assert_eq!(mesos_labels("a:1,"), Err("org.apache.spark.SparkException: Malformed label: ".into()));
    }

    #[test]
    fn specs_split_like_java() {
        assert_eq!(java_split("a:b:", ':'), ["a", "b"]);
        assert_eq!(java_split(":", ':'), Vec::<&str>::new());
        assert_eq!(java_split("::a", ':'), ["", "", "a"]);
        assert_eq!(java_split("", ':'), [""]);
        assert_eq!(java_parse_int("+80"), Ok(80));
        assert_eq!(java_parse_int("-1"), Ok(-1));
        assert!(java_parse_int("8o").is_err() && java_parse_int("").is_err() && java_parse_int("99999999999").is_err());
        let mut w = Vec::new();
        let v = parse_volumes(&["/a:".to_string(), "h:/c:ro".to_string(), "x:y:z".to_string()], &mut w);
        assert_eq!(
            v.iter().map(|v| (v.container_path.as_str(), v.host_path.as_deref(), v.mode())).collect::<Vec<_>>(),
            [("/a", None, volume::Mode::Rw), ("/c", Some("h"), volume::Mode::Ro)]
        );
        assert_eq!(w.len(), 1, "x:y:z has an unknown mode: skipped");
    }

    #[test]
    fn partition_spans_several_resources_of_one_name() {
        let offer = vec![res("cpus", 1.0), res("cpus", 3.0)];
        let (left, used) = partition_resources(&offer, "cpus", 2000);
        assert_eq!(used.len(), 2);
        assert_eq!(Resources::from_protos(&used).scalar("cpus"), 2.0);
        assert_eq!(Resources::from_protos(&left).scalar("cpus"), 2.0);
        assert_eq!(left.len(), 1, "the first cpus resource is depleted and dropped");
    }
}
