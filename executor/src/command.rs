//! The command line of a Spark executor task.
//!
//! Spark's Mesos backend launches each executor as a command task running
//! `spark-class org.apache.spark.executor.CoarseGrainedExecutorBackend --driver-url …
//! --executor-id … --cores … --app-id … [--hostname …]` (`createCommand`). The
//! backend's `main` requires the driver URL, executor id, a positive core count and
//! the app id; so does this parser.

/// The arguments CoarseGrainedExecutorBackend runs with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BackendArgs {
    pub driver_url: String,
    pub executor_id: String,
    pub cores: u32,
    pub app_id: String,
    pub hostname: Option<String>,
}

/// Parse the task's command value. Errors say what the backend would complain about.
pub fn parse_backend_command(command: &str) -> Result<BackendArgs, String> {
    if !command.contains("org.apache.spark.executor.CoarseGrainedExecutorBackend") {
        return Err("the command does not run CoarseGrainedExecutorBackend".into());
    }
    let words: Vec<&str> = command.split_whitespace().collect();
    let arg = |name: &str| -> Option<String> {
        words.iter().position(|w| *w == name).and_then(|i| words.get(i + 1)).map(|s| s.trim_matches('"').to_string())
    };
    let driver_url = arg("--driver-url").ok_or("missing --driver-url")?;
    let executor_id = arg("--executor-id").ok_or("missing --executor-id")?;
    let cores_text = arg("--cores").ok_or("missing --cores")?;
    let cores: u32 = cores_text.parse().map_err(|_| format!("--cores {cores_text:?} is not a number"))?;
    if cores == 0 {
        return Err("--cores must be positive".into());
    }
    let app_id = arg("--app-id").ok_or("missing --app-id")?;
    Ok(BackendArgs { driver_url, executor_id, cores, app_id, hostname: arg("--hostname") })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_command_spark_builds() {
        let c = "\"/opt/spark/./bin/spark-class\" org.apache.spark.executor.CoarseGrainedExecutorBackend \
                 --driver-url spark://CoarseGrainedScheduler@edge:7078 --executor-id 3 --cores 4 \
                 --app-id abc-0000 --hostname agent-2";
        assert_eq!(
            parse_backend_command(c).unwrap(),
            BackendArgs {
                driver_url: "spark://CoarseGrainedScheduler@edge:7078".into(),
                executor_id: "3".into(),
                cores: 4,
                app_id: "abc-0000".into(),
                hostname: Some("agent-2".into()),
            }
        );
    }

    #[test]
    fn rejects_what_the_backend_rejects() {
        let base = "spark-class org.apache.spark.executor.CoarseGrainedExecutorBackend --driver-url u --executor-id 1 --app-id a";
        assert_eq!(parse_backend_command(base).unwrap_err(), "missing --cores");
        assert!(parse_backend_command(&format!("{base} --cores 0")).is_err());
        assert!(parse_backend_command("sleep 10").is_err());
    }
}
