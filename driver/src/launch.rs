//! Building the Mesos task that starts one Spark executor.
//!
//! In coarse-grained mode one Mesos task *is* one Spark executor: a process
//! running `CoarseGrainedExecutorBackend` that lives as long as the app and
//! runs many Spark tasks. This module builds that task's pieces exactly as
//! `MesosCoarseGrainedSchedulerBackend` does:
//!
//! - [`partition_resources`]: cut the executor's cpus and mem out of the
//!   offer (`MesosSchedulerUtils.partitionResources`);
//! - [`create_command`]: the shell command line and its environment
//!   (`createCommand` + `buildExecutorCommand`);
//! - [`container_info`]: the container, which Spark always sets
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

use crate::config::DriverConfig;
use mesocosm_sim::proto::v1::{
    CommandInfo, ContainerInfo, Environment, Resource, command_info, container_info, environment, value,
};
use std::collections::BTreeMap;

/// Mesos scalars are fixed point with three decimals; mesocosm computes in thousandths.
pub(crate) fn milli(v: f64) -> i64 {
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
pub(crate) fn partition_resources(
    resources: &[Resource],
    name: &str,
    amount_milli: i64,
) -> (Vec<Resource>, Vec<Resource>) {
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

/// `partitionTaskResources`: cpus first, then mem from what is left; the
/// task's list is `cpus ++ mem`.
///
/// mesocosm leaves out GPUs (`spark.mesos.gpus.max` is not modelled) and
/// ports (only reserved when `spark.blockManager.port` is non-zero).
pub(crate) fn partition_task_resources(
    resources: &[Resource],
    cpus: i64,
    mem_mib: u64,
) -> (Vec<Resource>, Vec<Resource>) {
    let (after_cpus, mut used) = partition_resources(resources, "cpus", cpus * 1000);
    let (left, used_mem) = partition_resources(&after_cpus, "mem", mem_mib as i64 * 1000);
    used.extend(used_mem);
    (left, used)
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
        for u in list.split(',').map(str::trim).filter(|u| !u.is_empty()) {
            uris.push(command_info::Uri { value: u.to_string(), cache: Some(fetcher_cache), ..Default::default() });
        }
    }
    let mut value = format!(
        "{run_script} --driver-url {} --executor-id {} --cores {} --app-id {}",
        cfg.driver_url, args.executor_id, args.cores, args.app_id
    );
    if cfg.property("spark.mesos.network.name").is_none() {
        value.push_str(" --hostname ");
        value.push_str(args.offer_hostname);
    }
    CommandInfo { uris, environment: Some(Environment { variables }), value: Some(value), ..Default::default() }
}

/// `buildContainerInfo(conf)`: Spark always sets a container.
///
/// Without `spark.mesos.executor.docker.image` it is a plain MESOS container
/// (Docker executors come in a later issue).
pub(crate) fn container_info() -> ContainerInfo {
    ContainerInfo { r#type: container_info::Type::Mesos as i32, ..Default::default() }
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
        let (left, used) = partition_task_resources(&offer, 4, 1408);
        assert_eq!(Resources::from_protos(&used).to_string(), "cpus:4;mem:1408");
        assert_eq!(Resources::from_protos(&left).to_string(), "cpus:0.5;mem:640;disk:100");
        #[allow(deprecated)]
        let roles: Vec<_> = used.iter().map(|r| r.role.clone()).collect();
        assert_eq!(roles, vec![Some("*".to_string()); 2]);
        let (left, _) = partition_task_resources(&left, 0, 640);
        assert_eq!(Resources::from_protos(&left).to_string(), "cpus:0.5;disk:100");
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
