//! Step 3: the command line and spark-defaults.conf merged into a
//! [`SparkConf`], and its typed getters.
//!
//! The getters read a value the way Spark's `ConfigBuilder` types do
//! (`intConf`, `doubleConf`, `booleanConf`, `bytesConf`, `timeConf`) and
//! answer `Err("key=value: why")`, so a caller can point at the word that set
//! the key. Sizes and times use Spark's own syntax, which lives with the rest
//! of Spark in `mesocosm_driver::conf`.

use std::collections::BTreeMap;
use std::time::Duration;

use super::{DeployMode, SparkSubmit};
use crate::units::{self, SizeUnit, TimeUnit};

/// The effective Spark configuration of one application: every `spark.*`
/// key, after spark-submit's precedence rules. Iterates in key order, which
/// is also the order the driver sends them in `SparkAppConfig`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SparkConf(pub BTreeMap<String, String>);

impl SparkConf {
    /// Merges `defaults` (spark-defaults.conf or `--properties-file`) under
    /// the command line, then fills in what spark-submit always sets:
    /// `spark.app.name` (`--name`, else `spark.app.name`, else the main class,
    /// else the jar's file name: `SparkSubmitArguments` does exactly this) and
    /// `spark.submit.deployMode` (default `client`).
    pub fn resolve(defaults: &BTreeMap<String, String>, submit: &SparkSubmit) -> SparkConf {
        let mut conf: BTreeMap<String, String> =
            defaults.iter().filter(|(k, _)| k.starts_with("spark.")).map(|(k, v)| (k.clone(), v.clone())).collect();
        for (k, v) in &submit.conf {
            if k.starts_with("spark.") {
                conf.insert(k.clone(), v.clone());
            }
        }
        if !conf.contains_key("spark.app.name") {
            let name = match &submit.class {
                Some(class) => class.clone(),
                None => submit.primary_resource.rsplit('/').next().unwrap_or_default().to_string(),
            };
            conf.insert("spark.app.name".into(), name);
        }
        conf.entry("spark.submit.deployMode".into()).or_insert_with(|| DeployMode::Client.to_string());
        // In cluster mode spark-submit always writes `spark.driver.supervise`
        // from the flag (an `OptionAssigner` for STANDALONE | MESOS, CLUSTER),
        // overriding any file or --conf value.
        if conf.get("spark.submit.deployMode").map(String::as_str) == Some("cluster") {
            conf.insert("spark.driver.supervise".into(), submit.supervise.to_string());
        }
        SparkConf(conf)
    }

    /// The raw value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    /// All entries, in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    fn typed<T>(&self, key: &str, parse: impl FnOnce(&str) -> Result<T, String>) -> Result<Option<T>, String> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => parse(v).map(Some).map_err(|e| format!("{key}={v}: {e}")),
        }
    }

    /// A size in MiB (`bytesConf(ByteUnit.MiB)`: `512m`, `2g`, bare = MiB).
    pub fn size_mib(&self, key: &str, default_mib: u64) -> Result<u64, String> {
        Ok(self.typed(key, |v| units::spark_size_mib(v, SizeUnit::MiB))?.unwrap_or(default_mib))
    }

    /// A Spark time (`timeConf(default_unit)`: `120s`, `5min`, bare = `default_unit`).
    pub fn duration(&self, key: &str, default: Duration, default_unit: TimeUnit) -> Result<Duration, String> {
        Ok(self.typed(key, |v| units::spark_time(v, default_unit))?.unwrap_or(default))
    }

    /// A non-negative integer (`intConf`), or `default` when unset.
    pub fn u32(&self, key: &str, default: u32) -> Result<u32, String> {
        Ok(self.opt_u32(key)?.unwrap_or(default))
    }

    /// A non-negative integer (`intConf`), or `None` when unset
    /// (e.g. `spark.cores.max`: unset means "no limit").
    pub fn opt_u32(&self, key: &str) -> Result<Option<u32>, String> {
        self.typed(key, |v| {
            let t = v.trim();
            t.strip_prefix('+')
                .unwrap_or(t)
                .parse::<u32>()
                .map_err(|_| "expected a non-negative whole number".to_string())
        })
    }

    /// A number (`doubleConf`), or `default` when unset.
    pub fn f64(&self, key: &str, default: f64) -> Result<f64, String> {
        Ok(self
            .typed(key, |v| {
                v.trim().parse::<f64>().ok().filter(|x| x.is_finite()).ok_or_else(|| "expected a number".to_string())
            })?
            .unwrap_or(default))
    }

    /// A boolean (`booleanConf`: `true`/`false`, any case), or `default`.
    pub fn bool(&self, key: &str, default: bool) -> Result<bool, String> {
        Ok(self
            .typed(key, |v| match v.trim().to_ascii_lowercase().as_str() {
                "true" => Ok(true),
                "false" => Ok(false),
                _ => Err("expected true or false".to_string()),
            })?
            .unwrap_or(default))
    }

    /// The application's name (`spark.app.name`; always set by [`SparkConf::resolve`]).
    pub fn app_name(&self) -> &str {
        self.get("spark.app.name").unwrap_or_default()
    }

    /// The effective deploy mode (`spark.submit.deployMode`, default client).
    pub fn deploy_mode(&self) -> Result<DeployMode, String> {
        Ok(self.typed("spark.submit.deployMode", DeployMode::parse)?.unwrap_or_default())
    }
}

impl<'a> IntoIterator for &'a SparkConf {
    type Item = (&'a String, &'a String);
    type IntoIter = std::collections::btree_map::Iter<'a, String, String>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::submit::parse_spark_submit;

    #[test]
    fn conf_getters() {
        let s = parse_spark_submit(
            "spark-submit --master mesos://m --conf spark.cores.max=8 --conf spark.executor.memory=2g \
             --conf spark.mesos.rejectOfferDuration=2min --conf spark.speculation=TRUE \
             --conf spark.x=lots --conf spark.f=0.5 --class org.example.Main app.jar",
        )
        .unwrap();
        let c = SparkConf::resolve(&BTreeMap::new(), &s);
        assert_eq!(c.opt_u32("spark.cores.max"), Ok(Some(8)));
        assert_eq!(c.opt_u32("spark.executor.cores"), Ok(None));
        assert_eq!(c.u32("spark.task.cpus", 1), Ok(1));
        assert_eq!(c.size_mib("spark.executor.memory", 1024), Ok(2048));
        assert_eq!(c.size_mib("spark.driver.memory", 1024), Ok(1024));
        assert_eq!(
            c.duration("spark.mesos.rejectOfferDuration", Duration::from_secs(120), TimeUnit::Seconds),
            Ok(Duration::from_secs(120))
        );
        assert_eq!(c.bool("spark.speculation", false), Ok(true));
        assert_eq!(c.f64("spark.f", 0.0), Ok(0.5));
        let e = c.size_mib("spark.x", 1).unwrap_err();
        assert!(e.starts_with("spark.x=lots: "), "{e}");
        assert!(c.u32("spark.x", 1).is_err());
        assert!(c.bool("spark.x", true).is_err());
        assert_eq!(c.app_name(), "org.example.Main");
        assert_eq!(c.deploy_mode(), Ok(DeployMode::Client));
        let keys: Vec<&str> = c.iter().map(|(k, _)| k).collect();
        let mut sorted = keys.clone();
        sorted.sort_unstable();
        assert_eq!(keys, sorted);
    }
}
