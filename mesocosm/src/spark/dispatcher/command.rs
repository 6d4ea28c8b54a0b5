//! The driver's Mesos task, built as `MesosClusterScheduler.createTaskInfo`
//! builds it: the `spark-submit` command line (shell-escaped as Spark
//! escapes it), its environment and URIs, the container, labels and the
//! resources cut from the offer.

use super::conf::DispatcherConf;
use super::submission::DriverDescription;
use crate::spark::spark_settings;
use crate::submit::SparkConf;
use mesocosm_driver::{build_container_info, mesos_labels, milli, partition_resources};
use mesocosm_sim::proto::mesos::v1::{
    AgentId, CommandInfo, Environment, Resource, TaskId, TaskInfo, command_info, environment,
};
use std::collections::BTreeMap;

/// `RETRY_SEP`: a relaunched driver's task id is `<submission id>-retry-<N>`.
pub const RETRY_SEP: &str = "-retry-";

/// `shellEscape`: a value already wrapped in quotes is left alone; one with a
/// shell special character (space `'` `<` `>` `&` `|` `?` `*` `;` `!` `#` `\`
/// `(` `)` `"` `$` backtick) is wrapped in double quotes with `"`, backtick,
/// `$` and `\` backslash-escaped; anything else is left alone.
pub fn shell_escape(value: &str) -> String {
    let wrapped = value.len() >= 3
        && ((value.starts_with('"') && value.ends_with('"')) || (value.starts_with('\'') && value.ends_with('\'')));
    // Scala's `.` does not match a line break, so the patterns fail on one.
    if value.contains('\n') || wrapped {
        return value.to_string();
    }
    const SPECIAL: &[char] = &[' ', '\'', '<', '>', '&', '|', '?', '*', ';', '!', '#', '\\', '(', ')', '"', '$', '`'];
    if !value.contains(SPECIAL) {
        return value.to_string();
    }
    let mut out = String::from("\"");
    for c in value.chars() {
        if matches!(c, '"' | '`' | '$' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// `getDriverTaskId`.
pub fn task_id(desc: &DriverDescription) -> String {
    match &desc.retry {
        Some(r) => format!("{}{RETRY_SEP}{}", desc.submission_id, r.retries),
        None => desc.submission_id.clone(),
    }
}

/// `getSubmissionIdFromTaskId`.
pub fn submission_of(task_id: &str) -> &str {
    task_id.split(RETRY_SEP).next().unwrap_or(task_id)
}

/// `getDriverFrameworkID`: the framework id the driver subscribes under, so a
/// relaunched driver is a new framework (SPARK-21502).
pub fn driver_framework_id(dispatcher_framework: &str, desc: &DriverDescription) -> String {
    let retries = desc.retry.as_ref().map(|r| format!("{RETRY_SEP}{}", r.retries)).unwrap_or_default();
    format!("{dispatcher_framework}-{}{retries}", desc.submission_id)
}

/// `getDriverExecutorURI`: `spark.executor.uri`, else `SPARK_EXECUTOR_URI`.
fn executor_uri(desc: &DriverDescription) -> Option<&str> {
    desc.conf.get("spark.executor.uri").or_else(|| desc.environment.get("SPARK_EXECUTOR_URI")).map(String::as_str)
}

/// `getDriverCommandValue`: where spark-submit is, the options, the jar, the args.
pub fn command_value(conf: &DispatcherConf, desc: &DriverDescription) -> Result<String, String> {
    let (executable, sandbox) = if desc.conf.contains_key("spark.mesos.executor.docker.image") {
        // The jar is fetched into the sandbox Docker mounts at $MESOS_SANDBOX.
        ("./bin/spark-submit".to_string(), "$MESOS_SANDBOX")
    } else if let Some(uri) = executor_uri(desc) {
        // The fetched Spark tarball unpacks to <basename>*; the sandbox is its parent.
        let base = uri.rsplit('/').next().unwrap_or(uri).split('.').next().unwrap_or_default();
        (format!("cd {base}*;  bin/spark-submit"), "..")
    } else {
        let home = desc.conf.get("spark.mesos.executor.home").or(conf.spark_home.as_ref()).ok_or_else(|| {
            "org.apache.spark.SparkException: Executor Spark home `spark.mesos.executor.home` is not set!".to_string()
        })?;
        // `new File(home, "./bin/spark-submit").getPath`.
        (format!("{}/./bin/spark-submit", home.trim_end_matches('/')), ".")
    };
    let options = options(conf, desc, sandbox).join(" ");
    let jar = desc.jar_url.rsplit('/').next().unwrap_or(&desc.jar_url);
    let primary = match desc.jar_url.strip_prefix("local://") {
        Some(path)
            if desc.conf.get("spark.mesos.appJar.local.resolution.mode").map(String::as_str) == Some("container") =>
        {
            format!("/{}", path.trim_start_matches('/'))
        }
        _ => format!("{sandbox}/{jar}"),
    };
    // The app arguments are joined as they are, without escaping (upstream does the same).
    Ok(format!("{executable} {options} {primary} {}", desc.app_args.join(" ")))
}

/// `generateCmdOption`, every option shell-escaped.
fn options(conf: &DispatcherConf, desc: &DriverDescription, sandbox: &str) -> Vec<String> {
    let mut o: Vec<String> = vec![
        "--name".into(),
        desc.conf.get("spark.app.name").cloned().unwrap_or_else(|| desc.name.clone()),
        "--master".into(),
        format!("mesos://{}", conf.master),
        "--driver-cores".into(),
        java_double(desc.cores),
        "--driver-memory".into(),
        format!("{}M", desc.mem),
    ];
    // An empty main class means Python.
    if !desc.main_class.is_empty() {
        o.extend(["--class".into(), desc.main_class.clone()]);
    }
    if let Some(v) = desc.conf.get("spark.executor.memory") {
        o.extend(["--executor-memory".into(), v.clone()]);
    }
    if let Some(v) = desc.conf.get("spark.cores.max") {
        o.extend(["--total-executor-cores".into(), v.clone()]);
    }
    let py: Vec<String> = desc
        .conf
        .get("spark.submit.pyFiles")
        .map(|v| {
            v.split(',')
                .filter(|p| !p.is_empty())
                .map(|p| format!("{sandbox}/{}", p.rsplit('/').next().unwrap_or(p)))
                .collect()
        })
        .unwrap_or_default();
    // Spark 3.x adds `--py-files` only when there are files.
    if !py.is_empty() {
        o.extend(["--py-files".into(), py.join(",")]);
    }
    // The dispatcher's driverDefault.* under the submission's own conf, minus
    // spark.jars (duplicate classes), spark.submit.deployMode (it would say
    // cluster; the driver runs in client mode) and spark.master (the
    // dispatcher's address, not the master's). Spark iterates a hash map; mesocosm sorts by key.
    let mut all: BTreeMap<&str, &str> = conf.driver_defaults.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    for (k, v) in &desc.conf {
        if !matches!(k.as_str(), "spark.jars" | "spark.submit.deployMode" | "spark.master") {
            all.insert(k, v);
        }
    }
    for (k, v) in all {
        o.extend(["--conf".into(), format!("{k}={v}")]);
    }
    o.iter().map(|v| shell_escape(v)).collect()
}

/// Java's `Double.toString` for the values a driver's cores take (`1.0`, `0.5`, `2.25`).
fn java_double(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e7 { format!("{v:.1}") } else { format!("{v}") }
}

/// `getDriverEnvironment`: `spark.mesos.driverEnv.*`, the submission's
/// environment, and `SPARK_SUBMIT_OPTS` carrying the driver's framework id.
pub fn environment(desc: &DriverDescription, framework_id: &str) -> Environment {
    let mut env: BTreeMap<String, String> = BTreeMap::new();
    for (k, v) in &desc.conf {
        if let Some(name) = k.strip_prefix("spark.mesos.driverEnv.") {
            env.insert(name.to_string(), v.clone());
        }
    }
    let mut command_env = desc.environment.clone();
    let opts = command_env.remove("SPARK_SUBMIT_OPTS").unwrap_or_default();
    command_env.insert(
        "SPARK_SUBMIT_OPTS".into(),
        format!("{opts} -Dspark.mesos.driver.frameworkId={}", driver_framework_id(framework_id, desc)),
    );
    env.extend(command_env);
    Environment {
        variables: env
            .into_iter()
            .map(|(name, value)| environment::Variable { name, value: Some(value), ..Default::default() })
            .collect(),
    }
}

/// `getDriverUris`: the jar (unless it is container-local), the dispatcher's
/// and the submission's `spark.mesos.uris`, the Python files, the executor URI.
pub fn uris(conf: &DispatcherConf, desc: &DriverDescription) -> Vec<command_info::Uri> {
    let list = |v: Option<&String>| -> Vec<String> {
        v.map(|v| v.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect())
            .unwrap_or_default()
    };
    let mut all = Vec::new();
    let container_local = desc.jar_url.starts_with("local://")
        && desc.conf.get("spark.mesos.appJar.local.resolution.mode").map(String::as_str) == Some("container");
    if !container_local {
        all.push(desc.jar_url.strip_prefix("file:").unwrap_or(&desc.jar_url).trim_start_matches("local:").to_string());
    }
    all.extend(conf.uris.iter().cloned());
    all.extend(list(desc.conf.get("spark.mesos.uris")));
    all.extend(list(desc.conf.get("spark.submit.pyFiles")));
    all.extend(executor_uri(desc).map(str::to_string));
    all.into_iter()
        .map(|value| command_info::Uri {
            value: value.trim().to_string(),
            cache: Some(conf.fetcher_cache),
            ..Default::default()
        })
        .collect()
}

/// `createTaskInfo`: the driver's task on `offer_resources` of `agent`; also
/// returns what is left of the offer. An error is the `SparkException` that
/// moves the driver to the finished list.
pub fn task_info(
    conf: &DispatcherConf,
    desc: &DriverDescription,
    framework_id: &str,
    agent: &AgentId,
    offer_resources: &[Resource],
) -> Result<(TaskInfo, Vec<Resource>), String> {
    let (rest, cpus) = partition_resources(offer_resources, "cpus", milli(desc.cores));
    let (rest, mem) = partition_resources(&rest, "mem", milli(desc.mem as f64));
    let settings = spark_settings(&SparkConf(desc.conf.clone()))?;
    let container = build_container_info(&settings, &mut Vec::new())?;
    let labels = mesos_labels(desc.conf.get("spark.mesos.driver.labels").map_or("", String::as_str))?;
    let task = TaskInfo {
        name: format!("Driver for {}", desc.conf.get("spark.app.name").unwrap_or(&desc.name)),
        task_id: TaskId { value: task_id(desc) },
        agent_id: agent.clone(),
        resources: cpus.into_iter().chain(mem).collect(),
        command: Some(CommandInfo {
            value: Some(command_value(conf, desc)?),
            environment: Some(environment(desc, framework_id)),
            uris: uris(conf, desc),
            ..Default::default()
        }),
        container: Some(container),
        labels: Some(labels),
        ..Default::default()
    };
    Ok((task, rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_escape_is_sparks() {
        assert_eq!(shell_escape("plain"), "plain");
        assert_eq!(shell_escape("spark.app.name=my app"), "\"spark.app.name=my app\"");
        assert_eq!(shell_escape("a=$HOME"), "\"a=\\$HOME\"");
        assert_eq!(shell_escape("x=\"q\""), "\"x=\\\"q\\\"\"");
        assert_eq!(shell_escape("'already quoted'"), "'already quoted'");
        assert_eq!(shell_escape("\"already quoted\""), "\"already quoted\"");
        assert_eq!(shell_escape("k=-Da=b"), "k=-Da=b");
    }

    #[test]
    fn task_ids_carry_the_retry_and_map_back_to_the_submission() {
        assert_eq!(submission_of("driver-19700101000000-0001-retry-2"), "driver-19700101000000-0001");
        assert_eq!(submission_of("driver-19700101000000-0001"), "driver-19700101000000-0001");
        assert_eq!(java_double(1.0), "1.0");
        assert_eq!(java_double(0.5), "0.5");
    }
}
