//! Step 3: the command line and spark-defaults.conf merged into a
//! [`SparkConf`], and its typed getters.
//!
//! The getters read a value the way Spark's `ConfigBuilder` types do
//! (`intConf`, `doubleConf`, `booleanConf`, `bytesConf`, `timeConf`) and
//! answer `Err("key=value: why")`, so a caller can point at the word that set
//! the key.
//!
//! Sizes and times are split by Spark's own lexer and unit tables, which live
//! with the rest of Spark in `mesocosm_driver::conf`. What this module adds is
//! the simulator's reading of them: a time becomes an exact `Duration` (the
//! simulated clock counts microseconds, so `100us` stays 100 µs), a size
//! becomes MiB, and each refusal is worded for the scenario's author, quoting
//! the value and saying what was expected.

use std::collections::BTreeMap;
use std::time::Duration;

use mesocosm_driver::conf::{ByteUnit, ConfNumber, ConfNumberError, TimeUnit, conf_number};

use super::{DeployMode, SparkSubmit};

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
        Ok(self.typed(key, size_mib)?.unwrap_or(default_mib))
    }

    /// A Spark time (`timeConf(default_unit)`: `120s`, `5min`, bare = `default_unit`).
    pub fn duration(&self, key: &str, default: Duration, default_unit: TimeUnit) -> Result<Duration, String> {
        Ok(self.typed(key, |v| duration(v, default_unit))?.unwrap_or(default))
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

/// The longest Spark time: `Long.MAX_VALUE` nanoseconds (~292 years).
const MAX_SPARK_NANOS: u128 = i64::MAX as u128;

const TIME_EXPECTED: &str = "expected an integer with an optional suffix us, ms, s, m, min, h or d";
const SIZE_EXPECTED: &str = "expected an integer with an optional suffix b, k, kb, m, mb, g, gb, t, tb, p or pb";

/// A Spark time (`JavaUtils.timeStringAs`'s syntax), exactly, as a `Duration`:
/// an integer and an optional suffix among `us`, `ms`, `s`, `m`, `min`, `h`,
/// `d`; no suffix means `default_unit`.
///
/// Spark does not accept fractions (`"1.5s"` fails there with "Invalid time
/// string"), so neither do we. Spark's regex allows a leading `-`; no
/// simulated key has a meaning for a negative time, so it is refused.
fn duration(s: &str, default_unit: TimeUnit) -> Result<Duration, String> {
    let n = unsigned(s, "time", &format!(": {TIME_EXPECTED}"), TIME_EXPECTED)?;
    let unit = match n.suffix.as_str() {
        "" => default_unit,
        suffix => TimeUnit::of_suffix(suffix).ok_or_else(|| format!("`{s}` is not a Spark time: {TIME_EXPECTED}"))?,
    };
    // Spark's timers count Java `long` nanoseconds (`TimeUnit.toNanos`
    // saturates there); a longer time is refused rather than saturated, which
    // also keeps every instant a simulated timer computes far from overflow.
    let too_long =
        || format!("`{s}` is too long: a Spark time holds at most {} s (2^63 ns)", MAX_SPARK_NANOS / 1_000_000_000);
    let unit_nanos = u128::from(unit.micros().unsigned_abs()) * 1_000;
    let nanos = n.magnitude.checked_mul(unit_nanos).filter(|n| *n <= MAX_SPARK_NANOS).ok_or_else(too_long)?;
    Ok(Duration::from_nanos(u64::try_from(nanos).map_err(|_| too_long())?))
}

/// A Spark size in MiB, like `JavaUtils.byteStringAs(s, ByteUnit.MiB)`
/// (which `SparkConf.getSizeAsMb` and `bytesConf(MiB)` keys use): suffixes
/// `b`, `k`/`kb`, `m`/`mb`, `g`/`gb`, `t`/`tb`, `p`/`pb`, any case, all
/// binary; no suffix means MiB.
///
/// `"512M"` → 512, `"1g"` → 1024, `"1536m"` → 1536. Like Spark, the result
/// is truncated to whole MiB (`"1536k"` → 1) and fractions are refused
/// (Spark: "Fractional values are not supported").
fn size_mib(s: &str) -> Result<u64, String> {
    let n = unsigned(s, "size", " (write `1536m`, not `1.5g`)", SIZE_EXPECTED)?;
    let unit = match n.suffix.as_str() {
        "" => ByteUnit::MiB,
        suffix => ByteUnit::of_suffix(suffix).ok_or_else(|| format!("`{s}` is not a Spark size: {SIZE_EXPECTED}"))?,
    };
    let too_large = || format!("`{s}` is too large");
    let bytes = n.magnitude.checked_mul(unit.bytes()).ok_or_else(too_large)?;
    u64::try_from(bytes / ByteUnit::MiB.bytes()).map_err(|_| too_large())
}

/// The number of a time or size value, split by Spark's lexer, or why the
/// simulator refuses it. `fraction` ends the message for `1.5g`-like values.
fn unsigned(s: &str, what: &str, fraction: &str, expected: &str) -> Result<ConfNumber, String> {
    // Checked before the digits, so `-soon` is "negative" too.
    if s.trim().starts_with('-') {
        return Err(format!("`{s}` is negative; {what}s are ≥ 0"));
    }
    conf_number(s).map_err(|e| match e {
        ConfNumberError::NoDigits => format!("`{s}` is not a Spark {what}: {expected}"),
        ConfNumberError::Fraction => format!("`{s}` has a fraction, which Spark does not accept in {what}s{fraction}"),
        ConfNumberError::TooManyDigits => format!("`{s}` is too large"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::submit::parse_spark_submit;

    #[test]
    fn spark_sizes() {
        assert_eq!(size_mib("512M"), Ok(512));
        assert_eq!(size_mib("1g"), Ok(1024));
        assert_eq!(size_mib("1GB"), Ok(1024));
        assert_eq!(size_mib("1536m"), Ok(1536));
        assert_eq!(size_mib("2048"), Ok(2048));
        assert_eq!(size_mib("1t"), Ok(1 << 20));
        assert_eq!(size_mib("1536k"), Ok(1));
        assert_eq!(size_mib("2048kb"), Ok(2));
        assert_eq!(size_mib("1048576b"), Ok(1));
        assert!(size_mib("1.5g").unwrap_err().contains("fraction"));
        assert!(size_mib("lots").is_err());
        assert!(size_mib("-1g").unwrap_err().contains("negative"));
        assert!(size_mib("5x").unwrap_err().contains("not a Spark size"));
        assert_eq!(size_mib("99999999999999999999p"), Err("`99999999999999999999p` is too large".into()));
    }

    #[test]
    fn spark_times() {
        assert_eq!(duration("120", TimeUnit::Seconds), Ok(Duration::from_secs(120)));
        assert_eq!(duration("120s", TimeUnit::Seconds), Ok(Duration::from_secs(120)));
        assert_eq!(duration("5min", TimeUnit::Seconds), Ok(Duration::from_secs(300)));
        assert_eq!(duration("5m", TimeUnit::Seconds), Ok(Duration::from_secs(300)));
        assert_eq!(duration("3000", TimeUnit::Millis), Ok(Duration::from_secs(3)));
        // Exact, not truncated to the key's unit: the clock counts microseconds.
        assert_eq!(duration("100us", TimeUnit::Seconds), Ok(Duration::from_micros(100)));
        assert_eq!(duration("2h", TimeUnit::Seconds), Ok(Duration::from_secs(7200)));
        assert_eq!(duration("1d", TimeUnit::Seconds), Ok(Duration::from_secs(86400)));
        assert!(duration("1.5s", TimeUnit::Seconds).unwrap_err().contains("fraction"));
        assert!(duration("soon", TimeUnit::Seconds).unwrap_err().contains("not a Spark time"));
        assert!(duration("-1s", TimeUnit::Seconds).unwrap_err().contains("negative"));
        // 213503983 days wrapped the microsecond clock; now it is refused.
        assert!(duration("213503983d", TimeUnit::Seconds).unwrap_err().contains("too long"));
        assert_eq!(duration("106751d", TimeUnit::Seconds), Ok(Duration::from_secs(106_751 * 86_400)));
    }

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
