//! Durations and sizes, as people write them.
//!
//! Two dialects meet in a scenario file, and they are deliberately kept apart:
//!
//! * **mesocosm durations** ([`parse_duration`]): the values of the scenario's
//!   own keys (`until = "30m"`, `latency = "500us"`, `duration = "1.5s"`).
//!   A number, an optional fraction and a unit: `us`, `ms`, `s`, `m`, `h`, `d`.
//!   The only unit-less form is `"0"`, because "0 of anything" is unambiguous
//!   and everything else without a unit is a bug waiting to happen.
//! * **Spark conf values** ([`spark_time`], [`spark_time_secs`],
//!   [`spark_size_mib`]): the values of `--conf k=v` and `spark-defaults.conf`.
//!   These follow Spark's own parsers (`JavaUtils.timeStringAs` and
//!   `JavaUtils.byteStringAs`) *exactly*, including their quirks: no
//!   fractions, and a bare number means the key's default unit. A scenario
//!   that Spark would reject must be rejected here too, otherwise the
//!   simulation would teach something the real system does not do.
//!
//! All parsers return `Err(String)` with a message that quotes the input and
//! says what was expected; callers prefix it with *where* the value came from.
//!
//! ```
//! use std::time::Duration;
//! use mesocosm::units::{parse_duration, format_duration, spark_size_mib, SizeUnit};
//!
//! assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
//! assert_eq!(format_duration(Duration::from_millis(1500)), "1.5s");
//! assert_eq!(spark_size_mib("1g", SizeUnit::MiB), Ok(1024));
//! assert!(parse_duration("5 seconds").is_err());
//! ```

use std::time::Duration;

const NANOS_PER_US: u128 = 1_000;
const NANOS_PER_MS: u128 = 1_000_000;
const NANOS_PER_S: u128 = 1_000_000_000;
const NANOS_PER_M: u128 = 60 * NANOS_PER_S;
const NANOS_PER_H: u128 = 60 * NANOS_PER_M;
const NANOS_PER_D: u128 = 24 * NANOS_PER_H;

/// The units [`parse_duration`] accepts, longest suffix first so that `ms`
/// is not mistaken for `m` followed by garbage.
const DURATION_UNITS: &[(&str, u128)] = &[
    ("us", NANOS_PER_US),
    ("ms", NANOS_PER_MS),
    ("s", NANOS_PER_S),
    ("m", NANOS_PER_M),
    ("h", NANOS_PER_H),
    ("d", NANOS_PER_D),
];

/// The longest Spark time: `Long.MAX_VALUE` nanoseconds (~292 years).
const MAX_SPARK_NANOS: u128 = i64::MAX as u128;

const DURATION_EXPECTED: &str = "expected a number followed by one of us, ms, s, m, h, d";

/// Parses a mesocosm duration: `"0"`, `"1.5s"`, `"200ms"`, `"100us"`,
/// `"10m"`, `"1h"`, `"2d"`.
///
/// The arithmetic is done on integers (nanoseconds in a `u128`), so `"1.1s"`
/// is exactly 1.1 s and not the nearest binary fraction.
///
/// The simulated clock counts whole microseconds, so a duration must be a
/// whole number of microseconds: `"0.5us"` or `"1.0000005s"` is refused
/// rather than silently truncated (a `0.5us` timer would fire at the instant
/// it was set, forever).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    if t.is_empty() {
        return Err(format!("`{s}` is not a duration: {DURATION_EXPECTED}"));
    }
    if t.starts_with('-') {
        return Err(format!("`{s}` is negative; durations are ≥ 0"));
    }
    if t == "0" {
        return Ok(Duration::ZERO);
    }
    let not_a_duration = || format!("`{s}` is not a duration: {DURATION_EXPECTED}");
    let number_end = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .ok_or_else(|| format!("`{s}` has no unit: {DURATION_EXPECTED} (only `0` may omit the unit)"))?;
    let (number, unit) = t.split_at(number_end);
    let nanos_per_unit =
        DURATION_UNITS.iter().find(|(name, _)| *name == unit).map(|(_, n)| *n).ok_or_else(not_a_duration)?;
    let (int_part, frac_part) = match number.split_once('.') {
        Some((i, f)) => (i, f),
        None => (number, ""),
    };
    let all_digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    if int_part.is_empty() || !all_digits(int_part) || !all_digits(frac_part) {
        return Err(not_a_duration());
    }
    if number.ends_with('.') {
        return Err(not_a_duration());
    }
    let too_large = || format!("`{s}` is too large to be a duration");
    // Integer part: accumulate with overflow checks (a u128 of nanoseconds
    // holds far more than Duration can, so overflow here means "absurd").
    let mut int: u128 = 0;
    for b in int_part.bytes() {
        int = int.checked_mul(10).and_then(|v| v.checked_add(u128::from(b - b'0'))).ok_or_else(too_large)?;
    }
    let mut nanos = int.checked_mul(nanos_per_unit).ok_or_else(too_large)?;
    // Fraction: only the first 18 digits can matter at nanosecond precision
    // for any unit up to a day (1 d = 8.64e13 ns).
    // Digits past the 18th are checked to be zeros, so `1.0000000000000000001s`
    // is refused like any other sub-microsecond remainder.
    let (frac_digits, beyond) = frac_part.split_at(frac_part.len().min(18));
    let mut frac: u128 = 0;
    let mut scale: u128 = 1;
    for b in frac_digits.bytes() {
        frac = frac * 10 + u128::from(b - b'0');
        scale *= 10;
    }
    let frac_nanos = frac * nanos_per_unit;
    if !frac_nanos.is_multiple_of(scale * NANOS_PER_US) || beyond.bytes().any(|b| b != b'0') {
        return Err(format!(
            "`{s}` is not a whole number of microseconds: the simulated clock counts whole microseconds (1us is its smallest step)"
        ));
    }
    nanos += frac_nanos / scale;
    let secs = u64::try_from(nanos / NANOS_PER_S).map_err(|_| too_large())?;
    // `nanos % NANOS_PER_S` < 1e9 always fits in u32.
    let sub = u32::try_from(nanos % NANOS_PER_S).map_err(|_| too_large())?;
    Ok(Duration::new(secs, sub))
}

/// Formats a duration compactly, in a form [`parse_duration`] reads back:
/// `0s`, `100us`, `1.5ms`, `200ms`, `1.5s`, `90s`, `10m`, `2h`, `1d`.
///
/// Minutes, hours and days are used only when they are exact (so 90 s stays
/// `90s`, not `1.5m`): in a timeline, seconds are easier to compare.
pub fn format_duration(d: Duration) -> String {
    let nanos = d.as_nanos();
    if nanos == 0 {
        return "0s".to_string();
    }
    for (name, unit) in [("d", NANOS_PER_D), ("h", NANOS_PER_H), ("m", NANOS_PER_M)] {
        if nanos.is_multiple_of(unit) {
            return format!("{}{name}", nanos / unit);
        }
    }
    let (name, unit) = if nanos >= NANOS_PER_S {
        ("s", NANOS_PER_S)
    } else if nanos >= NANOS_PER_MS {
        ("ms", NANOS_PER_MS)
    } else {
        ("us", NANOS_PER_US)
    };
    format!("{}{name}", decimal(nanos, unit))
}

/// `value / unit` as a decimal with the trailing zeros of the fraction trimmed.
fn decimal(value: u128, unit: u128) -> String {
    let whole = value / unit;
    let rem = value % unit;
    if rem == 0 {
        return whole.to_string();
    }
    // `unit` is a power of ten, so its digit count is the fraction width.
    let width = unit.to_string().len() - 1;
    let frac = format!("{rem:0width$}");
    format!("{whole}.{}", frac.trim_end_matches('0'))
}

/// The unit a Spark time value is in when it has no suffix.
///
/// Every Spark time key declares one (`timeConf(TimeUnit.SECONDS)` etc.);
/// `spark.mesos.rejectOfferDuration` uses seconds, `spark.network.timeout`
/// seconds, `spark.locality.wait` milliseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeUnit {
    Micros,
    Millis,
    Seconds,
    Minutes,
    Hours,
    Days,
}

impl TimeUnit {
    fn nanos(self) -> u128 {
        match self {
            TimeUnit::Micros => NANOS_PER_US,
            TimeUnit::Millis => NANOS_PER_MS,
            TimeUnit::Seconds => NANOS_PER_S,
            TimeUnit::Minutes => NANOS_PER_M,
            TimeUnit::Hours => NANOS_PER_H,
            TimeUnit::Days => NANOS_PER_D,
        }
    }
}

/// Parses a Spark time string the way `JavaUtils.timeStringAs` does:
/// lower-cased and trimmed, an integer, then an optional suffix among
/// `us`, `ms`, `s`, `m`, `min`, `h`, `d`; no suffix means `default_unit`.
///
/// Spark does not accept fractions (`"1.5s"` fails there with "Invalid time
/// string"), so neither do we. Spark's regex allows a leading `-`; no
/// simulated key has a meaning for a negative time, so it is rejected.
pub fn spark_time(s: &str, default_unit: TimeUnit) -> Result<Duration, String> {
    let lower = s.trim().to_ascii_lowercase();
    let expected = "expected an integer with an optional suffix us, ms, s, m, min, h or d";
    let (n, suffix) = spark_integer(s, &lower, "time", "", expected)?;
    let unit_nanos = match suffix {
        "" => default_unit.nanos(),
        "us" => NANOS_PER_US,
        "ms" => NANOS_PER_MS,
        "s" => NANOS_PER_S,
        "m" | "min" => NANOS_PER_M,
        "h" => NANOS_PER_H,
        "d" => NANOS_PER_D,
        _ => return Err(format!("`{s}` is not a Spark time: {expected}")),
    };
    // Spark's timers count Java `long` nanoseconds (`TimeUnit.toNanos`
    // saturates there); a longer time is refused rather than saturated, which
    // also keeps every instant a simulated timer computes far from overflow.
    let too_large =
        || format!("`{s}` is too long: a Spark time holds at most {} s (2^63 ns)", MAX_SPARK_NANOS / NANOS_PER_S);
    let nanos = n.checked_mul(unit_nanos).filter(|n| *n <= MAX_SPARK_NANOS).ok_or_else(too_large)?;
    let secs = u64::try_from(nanos / NANOS_PER_S).map_err(|_| too_large())?;
    let sub = u32::try_from(nanos % NANOS_PER_S).map_err(|_| too_large())?;
    Ok(Duration::new(secs, sub))
}

/// Spark's `timeAsSeconds`: a time with seconds as the default unit,
/// **truncated** to whole seconds (Java's `TimeUnit.convert` truncates, so
/// `"1500ms"` is 1 s in Spark). Returned as `f64` because that is what it
/// becomes on the wire (`Filters.refuse_seconds` is a `double`).
pub fn spark_time_secs(s: &str) -> Result<f64, String> {
    let d = spark_time(s, TimeUnit::Seconds)?;
    // Whole seconds of any Duration are a u64; as f64 they are exact up to 2^53 s.
    Ok(d.as_secs() as f64)
}

/// The unit a Spark size value is in when it has no suffix.
///
/// Memory keys declared with `bytesConf(ByteUnit.MiB)` (`spark.executor.memory`,
/// `spark.driver.memory`) use [`SizeUnit::MiB`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SizeUnit {
    Byte,
    KiB,
    MiB,
    GiB,
    TiB,
    PiB,
}

impl SizeUnit {
    fn bytes(self) -> u128 {
        match self {
            SizeUnit::Byte => 1,
            SizeUnit::KiB => 1 << 10,
            SizeUnit::MiB => 1 << 20,
            SizeUnit::GiB => 1 << 30,
            SizeUnit::TiB => 1 << 40,
            SizeUnit::PiB => 1 << 50,
        }
    }
}

/// Parses a Spark size into MiB, like `JavaUtils.byteStringAs(s, ByteUnit.MiB)`
/// (which `SparkConf.getSizeAsMb` and `bytesConf(MiB)` keys use):
/// case-insensitive suffixes `b`, `k`/`kb`, `m`/`mb`, `g`/`gb`, `t`/`tb`,
/// `p`/`pb` (all binary: `1k` = 1024 bytes); no suffix means `default_unit`.
///
/// `"512M"` → 512, `"1g"` → 1024, `"1536m"` → 1536. Like Spark, the result
/// is truncated to whole MiB (`"1536k"` → 1) and fractions are rejected
/// (Spark: "Fractional values are not supported").
pub fn spark_size_mib(s: &str, default_unit: SizeUnit) -> Result<u64, String> {
    let lower = s.trim().to_ascii_lowercase();
    let expected = "expected an integer with an optional suffix b, k, kb, m, mb, g, gb, t, tb, p or pb";
    let (n, suffix) = spark_integer(s, &lower, "size", " (write `1536m`, not `1.5g`)", expected)?;
    let unit = match suffix {
        "" => default_unit,
        "b" => SizeUnit::Byte,
        "k" | "kb" => SizeUnit::KiB,
        "m" | "mb" => SizeUnit::MiB,
        "g" | "gb" => SizeUnit::GiB,
        "t" | "tb" => SizeUnit::TiB,
        "p" | "pb" => SizeUnit::PiB,
        _ => return Err(format!("`{s}` is not a Spark size: {expected}")),
    };
    let too_large = || format!("`{s}` is too large");
    let bytes = n.checked_mul(unit.bytes()).ok_or_else(too_large)?;
    u64::try_from(bytes / SizeUnit::MiB.bytes()).map_err(|_| too_large())
}

/// The integer and the suffix of a Spark time or size string (`JavaUtils`'s
/// `timeStringAs`/`byteStringAs` regex): no sign, no fraction, digits first.
/// `lower` is `s` trimmed and lower-cased; `s` is kept for messages.
fn spark_integer<'a>(
    s: &str,
    lower: &'a str,
    what: &str,
    fraction_hint: &str,
    expected: &str,
) -> Result<(u128, &'a str), String> {
    if lower.starts_with('-') {
        return Err(format!("`{s}` is negative; {what}s are ≥ 0"));
    }
    let digits_end = lower.find(|c: char| !c.is_ascii_digit()).unwrap_or(lower.len());
    let (digits, suffix) = lower.split_at(digits_end);
    if digits.is_empty() {
        return Err(format!("`{s}` is not a Spark {what}: {expected}"));
    }
    if suffix.starts_with('.') {
        return Err(if fraction_hint.is_empty() {
            format!("`{s}` has a fraction, which Spark does not accept in {what}s: {expected}")
        } else {
            format!("`{s}` has a fraction, which Spark does not accept in {what}s{fraction_hint}")
        });
    }
    let n = digits.parse().map_err(|_| format!("`{s}` is too large"))?;
    Ok((n, suffix))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duration_forms() {
        assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
        assert_eq!(parse_duration("0s"), Ok(Duration::ZERO));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("200ms"), Ok(Duration::from_millis(200)));
        assert_eq!(parse_duration("100us"), Ok(Duration::from_micros(100)));
        assert_eq!(parse_duration("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration("2d"), Ok(Duration::from_secs(172_800)));
        assert_eq!(parse_duration(" 1.1s "), Ok(Duration::from_millis(1100)));
        assert_eq!(parse_duration("1.000001s"), Ok(Duration::from_micros(1_000_001)));
        assert_eq!(parse_duration("1.5000000000000000000000ms"), Ok(Duration::from_micros(1500)));
    }

    #[test]
    fn durations_are_whole_microseconds() {
        // The clock's resolution is 1 µs: anything finer would round to zero.
        for bad in ["0.5us", "1.5us", "0.0000001s", "1.0000005s", "0.0000000001m", "1.0000000000000000001s"] {
            let e = parse_duration(bad).unwrap_err();
            assert!(e.contains("whole number of microseconds"), "{bad}: {e}");
        }
    }

    #[test]
    fn duration_errors_say_what_is_wrong() {
        let e = parse_duration("-5s").unwrap_err();
        assert!(e.contains("negative"), "{e}");
        let e = parse_duration("5 seconds").unwrap_err();
        assert!(e.contains("expected a number followed by one of us, ms, s, m, h, d"), "{e}");
        assert!(parse_duration("5").unwrap_err().contains("no unit"));
        for bad in ["", "s", ".5s", "5.s", "1..2s", "1e3s", "5ns", "5S", "99999999999999999999999999999999999999d"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn format_round_trips() {
        for s in ["0s", "100us", "1.5ms", "200ms", "1.5s", "90s", "10m", "2h", "1d", "1.001ms"] {
            let d = parse_duration(s).unwrap();
            assert_eq!(format_duration(d), s);
        }
    }

    #[test]
    fn spark_sizes() {
        assert_eq!(spark_size_mib("512M", SizeUnit::MiB), Ok(512));
        assert_eq!(spark_size_mib("1g", SizeUnit::MiB), Ok(1024));
        assert_eq!(spark_size_mib("1GB", SizeUnit::MiB), Ok(1024));
        assert_eq!(spark_size_mib("1536m", SizeUnit::MiB), Ok(1536));
        assert_eq!(spark_size_mib("2048", SizeUnit::MiB), Ok(2048));
        assert_eq!(spark_size_mib("1t", SizeUnit::MiB), Ok(1 << 20));
        assert_eq!(spark_size_mib("1536k", SizeUnit::MiB), Ok(1));
        assert_eq!(spark_size_mib("2048kb", SizeUnit::MiB), Ok(2));
        assert_eq!(spark_size_mib("1048576", SizeUnit::Byte), Ok(1));
        assert!(spark_size_mib("1.5g", SizeUnit::MiB).unwrap_err().contains("fraction"));
        assert!(spark_size_mib("lots", SizeUnit::MiB).is_err());
        assert!(spark_size_mib("-1g", SizeUnit::MiB).is_err());
        assert!(spark_size_mib("5x", SizeUnit::MiB).is_err());
    }

    #[test]
    fn spark_times() {
        assert_eq!(spark_time("120", TimeUnit::Seconds), Ok(Duration::from_secs(120)));
        assert_eq!(spark_time("120s", TimeUnit::Seconds), Ok(Duration::from_secs(120)));
        assert_eq!(spark_time("5min", TimeUnit::Seconds), Ok(Duration::from_secs(300)));
        assert_eq!(spark_time("5m", TimeUnit::Seconds), Ok(Duration::from_secs(300)));
        assert_eq!(spark_time("3000", TimeUnit::Millis), Ok(Duration::from_secs(3)));
        assert_eq!(spark_time("100us", TimeUnit::Seconds), Ok(Duration::from_micros(100)));
        assert_eq!(spark_time("2h", TimeUnit::Seconds), Ok(Duration::from_secs(7200)));
        assert_eq!(spark_time("1d", TimeUnit::Seconds), Ok(Duration::from_secs(86400)));
        assert_eq!(spark_time_secs("1500ms"), Ok(1.0));
        assert_eq!(spark_time_secs("120"), Ok(120.0));
        assert!(spark_time("1.5s", TimeUnit::Seconds).unwrap_err().contains("fraction"));
        assert!(spark_time("soon", TimeUnit::Seconds).is_err());
        assert!(spark_time("-1s", TimeUnit::Seconds).is_err());
        // 213503983 days wrapped the microsecond clock; now it is refused.
        assert!(spark_time("213503983d", TimeUnit::Seconds).unwrap_err().contains("too long"));
        assert_eq!(spark_time("106751d", TimeUnit::Seconds), Ok(Duration::from_secs(106_751 * 86_400)));
    }
}
