//! The dispatcher's own configuration: `MesosClusterDispatcher`'s arguments and
//! the `spark.*` keys `MesosClusterScheduler` reads at construction.

use std::collections::BTreeMap;
use std::time::Duration;

/// `MesosClusterDispatcherArguments`' defaults: `--port 7077`, `--webui-port 8081`,
/// `--name "Spark Cluster"`.
pub const DEFAULT_PORT: u16 = 7077;
pub const DEFAULT_WEBUI_PORT: u16 = 8081;
pub const DEFAULT_NAME: &str = "Spark Cluster";
/// The dispatcher registers with `failoverTimeout = Integer.MAX_VALUE` seconds
/// (`MesosClusterScheduler.start`): the master keeps its framework, and so its
/// drivers' tasks, for ~68 years after it disconnects.
pub const FAILOVER_TIMEOUT: f64 = i32::MAX as f64;

/// What the dispatcher runs with.
#[derive(Clone, Debug, PartialEq)]
pub struct DispatcherConf {
    /// `--host`: where the REST server and the web UI listen.
    pub host: String,
    /// `--port` (7077).
    pub port: u16,
    /// `--webui-port` (8081).
    pub webui_port: u16,
    /// `--name` (`spark.app.name`): the framework's name.
    pub name: String,
    /// `--master` with `mesos://` stripped (`MesosClusterDispatcherArguments`
    /// strips it; the driver command puts it back): `master:5050` or `zk://…/mesos`.
    pub master: String,
    /// `spark.mesos.role`.
    pub role: Option<String>,
    /// `spark.mesos.principal`.
    pub principal: Option<String>,
    /// `spark.mesos.dispatcher.webui.url`, else `http://<host>:<webui-port>`.
    pub webui_url: String,
    /// `spark.mesos.rejectOfferDuration` (120 s): every offer the dispatcher
    /// does not use is declined with this filter.
    pub reject_offer_duration: Duration,
    /// `spark.mesos.cluster.retry.wait.max` (60, whole seconds): the cap of a
    /// supervised driver's doubling relaunch wait.
    pub retry_wait_max_secs: u64,
    /// `spark.mesos.maxDrivers` (200): submissions are refused while this many drivers are launched.
    pub max_drivers: usize,
    /// `spark.mesos.retainedDrivers` (200): finished drivers kept for status queries.
    pub retained_drivers: usize,
    /// `spark.mesos.dispatcher.queue.<name>` = priority (`default` is 0.0).
    pub queues: BTreeMap<String, f64>,
    /// `spark.mesos.dispatcher.driverDefault.<key>`: conf every driver gets
    /// unless its own submission sets the key.
    pub driver_defaults: BTreeMap<String, String>,
    /// `spark.mesos.uris`: fetched into every driver's sandbox.
    pub uris: Vec<String>,
    /// `spark.mesos.fetcherCache.enable`: the driver's URIs are cached.
    pub fetcher_cache: bool,
    /// `spark.home`: where Spark lives on the agents, when neither the
    /// submission's `spark.mesos.executor.home` nor an executor URI says.
    pub spark_home: Option<String>,
}

impl DispatcherConf {
    /// The dispatcher `host:port` started with `conf` (the `spark.*` keys of
    /// its `--properties-file`/`--conf`), registering with master `master`
    /// (`mesos://` stripped or not). Errors are what the dispatcher dies of at
    /// start: a non-numeric queue weight is Java's `NumberFormatException`.
    pub fn new(host: &str, master: &str, conf: &BTreeMap<String, String>) -> Result<DispatcherConf, String> {
        let get = |k: &str| conf.get(k).map(|v| v.trim().to_string());
        let number = |k: &str, default: u64| -> Result<u64, String> {
            match get(k) {
                None => Ok(default),
                Some(v) => v
                    .parse::<i64>()
                    .map_err(|_| format!("{k}={v}: For input string: \"{v}\""))
                    .and_then(|n| u64::try_from(n).map_err(|_| format!("{k}={v}: must not be negative"))),
            }
        };
        let mut queues = BTreeMap::from([("default".to_string(), 0.0)]);
        for (k, v) in conf {
            if let Some(queue) = k.strip_prefix("spark.mesos.dispatcher.queue.") {
                // `MesosClusterScheduler`: `conf.getAllWithPrefix(QUEUE_PREFIX).map { case (k, v) => (k, v.toFloat) }`.
                let w: f32 = v
                    .trim()
                    .parse()
                    .map_err(|_| format!("{k}={v}: java.lang.NumberFormatException: For input string: \"{v}\""))?;
                queues.insert(queue.to_string(), f64::from(w));
            }
        }
        let reject = match get("spark.mesos.rejectOfferDuration") {
            None => Duration::from_secs(120),
            Some(v) => match mesocosm_driver::conf::time_string_as(&v, mesocosm_driver::conf::TimeUnit::Seconds) {
                Ok(s) if s >= 0 => Duration::from_secs(s as u64),
                Ok(_) => return Err(format!("spark.mesos.rejectOfferDuration={v}: must not be negative")),
                Err(e) => return Err(format!("spark.mesos.rejectOfferDuration={v}: {e}")),
            },
        };
        let port = DEFAULT_PORT;
        let webui_port = DEFAULT_WEBUI_PORT;
        Ok(DispatcherConf {
            host: host.to_string(),
            port,
            webui_port,
            name: get("spark.app.name").unwrap_or_else(|| DEFAULT_NAME.to_string()),
            master: master.strip_prefix("mesos://").unwrap_or(master).to_string(),
            role: get("spark.mesos.role"),
            principal: get("spark.mesos.principal"),
            webui_url: get("spark.mesos.dispatcher.webui.url").unwrap_or_else(|| format!("http://{host}:{webui_port}")),
            reject_offer_duration: reject,
            retry_wait_max_secs: number("spark.mesos.cluster.retry.wait.max", 60)?,
            max_drivers: number("spark.mesos.maxDrivers", 200)? as usize,
            retained_drivers: number("spark.mesos.retainedDrivers", 200)? as usize,
            queues,
            driver_defaults: conf
                .iter()
                .filter_map(|(k, v)| {
                    k.strip_prefix("spark.mesos.dispatcher.driverDefault.").map(|k| (k.to_string(), v.clone()))
                })
                .collect(),
            uris: get("spark.mesos.uris")
                .map(|v| v.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect())
                .unwrap_or_default(),
            fetcher_cache: get("spark.mesos.fetcherCache.enable").is_some_and(|v| v == "true"),
            spark_home: get("spark.home"),
        })
    }

    /// A submission's priority: its `spark.mesos.dispatcher.queue`'s weight
    /// (`getDriverPriority`); an unknown queue is Spark's `NoSuchElementException`.
    pub fn priority(&self, queue: Option<&str>) -> Result<f64, String> {
        let q = queue.unwrap_or("default");
        self.queues.get(q).copied().ok_or_else(|| format!("java.util.NoSuchElementException: key not found: {q}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conf(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn defaults_are_the_dispatchers() {
        let c = DispatcherConf::new("dispatcher", "mesos://master:5050", &BTreeMap::new()).unwrap();
        assert_eq!(c.name, "Spark Cluster");
        assert_eq!(c.master, "master:5050");
        assert_eq!(c.webui_url, "http://dispatcher:8081");
        assert_eq!(c.reject_offer_duration, Duration::from_secs(120));
        assert_eq!((c.retry_wait_max_secs, c.max_drivers, c.retained_drivers), (60, 200, 200));
        assert_eq!(c.priority(None), Ok(0.0));
        assert!(c.priority(Some("urgent")).unwrap_err().contains("key not found: urgent"));
    }

    #[test]
    fn queue_weights_are_floats_and_a_bad_one_stops_the_dispatcher() {
        let c =
            DispatcherConf::new("d", "master:5050", &conf(&[("spark.mesos.dispatcher.queue.urgent", "2.5")])).unwrap();
        assert_eq!(c.priority(Some("urgent")), Ok(2.5));
        let bad = DispatcherConf::new("d", "m", &conf(&[("spark.mesos.dispatcher.queue.urgent", "high")]));
        assert!(bad.unwrap_err().contains("NumberFormatException: For input string: \"high\""));
    }

    #[test]
    fn negative_retry_settings_are_refused() {
        let bad = DispatcherConf::new("d", "m", &conf(&[("spark.mesos.cluster.retry.wait.max", "-5")]));
        assert_eq!(bad.unwrap_err(), "spark.mesos.cluster.retry.wait.max=-5: must not be negative");
    }
}
