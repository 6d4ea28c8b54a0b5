//! Spark's conf value syntax: how a string like `"90s"` becomes a number.
//!
//! [`crate::config`] holds the conf *typed* (which keys the driver reads and
//! their defaults); this module holds the *syntax* those keys are written in,
//! as Spark's `JavaUtils` parses it. Every time key of Spark declares the unit
//! a bare number is in (`timeConf(TimeUnit.SECONDS)` for
//! `spark.network.timeout`, milliseconds for `spark.network.timeoutInterval`),
//! and every value may name another unit with a suffix:
//!
//! ```text
//!  " 90S "  ──lower-case, trim──▶ "90s" ──(-?[0-9]+)([a-z]+)?──▶ 90, "s" ──TimeUnit.convert──▶ 90000 (in ms)
//!  "30000"  ─────────────────────────────────────────────────▶ 30000, no suffix: already in the key's unit
//!  "1500us" ─────────────────────────────────────────────────▶ 1 ms (converting to a coarser unit truncates)
//!  "1.5s", "10 weeks", "" ───────────────────────────────────▶ "Time must be specified as seconds (s), …"
//! ```
//!
//! ```
//! use mesocosm_driver::conf::{TimeUnit, time_string_as};
//!
//! assert_eq!(time_string_as("2min", TimeUnit::Milliseconds), Ok(120_000));
//! assert_eq!(time_string_as("120", TimeUnit::Seconds), Ok(120)); // a bare number is in the key's unit
//! assert_eq!(time_string_as("1500ms", TimeUnit::Seconds), Ok(1)); // truncated, as Java's TimeUnit does
//! assert!(time_string_as("1.5s", TimeUnit::Seconds).is_err()); // Spark takes no fractions
//! ```
//!
//! This is the driver's one time parser: the heartbeat timeouts, the
//! readiness wait and the starvation timeout all read their keys through it.

use std::fmt;

/// The unit of a Spark time value: the unit a key's bare numbers are in, and
/// the unit [`time_string_as`] answers in (Java's `TimeUnit`, without the
/// nanoseconds no Spark suffix names).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeUnit {
    /// `us`.
    Microseconds,
    /// `ms`.
    Milliseconds,
    /// `s`.
    Seconds,
    /// `m` or `min`.
    Minutes,
    /// `h`.
    Hours,
    /// `d`.
    Days,
}

impl TimeUnit {
    /// How many microseconds one of this unit is (every ratio between two
    /// units is then a whole number, as in Java's `TimeUnit`).
    fn micros(self) -> i64 {
        match self {
            TimeUnit::Microseconds => 1,
            TimeUnit::Milliseconds => 1_000,
            TimeUnit::Seconds => 1_000_000,
            TimeUnit::Minutes => 60_000_000,
            TimeUnit::Hours => 3_600_000_000,
            TimeUnit::Days => 86_400_000_000,
        }
    }

    /// `JavaUtils.timeSuffixes`: the unit a suffix names.
    fn of_suffix(suffix: &str) -> Option<TimeUnit> {
        match suffix {
            "us" => Some(TimeUnit::Microseconds),
            "ms" => Some(TimeUnit::Milliseconds),
            "s" => Some(TimeUnit::Seconds),
            "m" | "min" => Some(TimeUnit::Minutes),
            "h" => Some(TimeUnit::Hours),
            "d" => Some(TimeUnit::Days),
            _ => None,
        }
    }

    /// `self.convert(value, from)`: to a coarser unit truncates toward zero,
    /// to a finer one multiplies and saturates at `i64::MIN`/`i64::MAX`, as
    /// Java's `TimeUnit.convert` does.
    fn convert(self, value: i64, from: TimeUnit) -> i64 {
        let (to, from) = (self.micros(), from.micros());
        if from >= to { value.saturating_mul(from / to) } else { value / (to / from) }
    }
}

/// A time value Spark would refuse (`JavaUtils.timeStringAs` throws
/// `NumberFormatException`). Its text is the first line of Spark's message;
/// callers put the key and the value in front of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvalidTimeString;

impl fmt::Display for InvalidTimeString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "Time must be specified as seconds (s), milliseconds (ms), microseconds (us), minutes (m or min), \
             hour (h), or day (d). E.g. 50s, 100ms, or 250us.",
        )
    }
}

impl std::error::Error for InvalidTimeString {}

/// `JavaUtils.timeStringAs(value, unit)`: a Spark time string in `unit`.
///
/// The value is lower-cased and trimmed, then must be a whole number with an
/// optional `-` and an optional suffix among `us`, `ms`, `s`, `m`, `min`,
/// `h`, `d` (no fraction, no space before the suffix). A bare number is
/// already in `unit`; a suffixed one is converted as Java's
/// `TimeUnit.convert` does: truncated toward zero into a coarser unit,
/// saturated at `i64::MAX` (or `MIN`) into a finer one. A number beyond a
/// Java `long` is refused, as `Long.parseLong` refuses it.
///
/// Why negative values pass: Spark's regex accepts them, and each key's own
/// check decides what a negative time means (most keys reject it later).
pub fn time_string_as(value: &str, unit: TimeUnit) -> Result<i64, InvalidTimeString> {
    let v = value.trim().to_ascii_lowercase();
    let digits = v.strip_prefix('-').unwrap_or(&v);
    let split = digits.find(|c: char| !c.is_ascii_digit()).unwrap_or(digits.len());
    let (num, suffix) = v.split_at(split + (v.len() - digits.len()));
    let from = if suffix.is_empty() { Some(unit) } else { TimeUnit::of_suffix(suffix) };
    match (num.parse::<i64>(), from) {
        (Ok(n), Some(from)) => Ok(unit.convert(n, from)),
        _ => Err(InvalidTimeString),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_strings_parse_as_spark_does() {
        let ms = |v: &str| time_string_as(v, TimeUnit::Milliseconds);
        assert_eq!(ms("30000"), Ok(30_000), "a bare number is in the conf's unit");
        assert_eq!(ms(" 90S "), Ok(90_000));
        assert_eq!(ms("2min"), Ok(120_000));
        assert_eq!(ms("2m"), Ok(120_000));
        assert_eq!(ms("1h"), Ok(3_600_000));
        assert_eq!(ms("1d"), Ok(86_400_000));
        assert_eq!(ms("1500us"), Ok(1), "truncated like TimeUnit.convert");
        assert_eq!(ms("-1s"), Ok(-1000));
        assert_eq!(ms("-1500us"), Ok(-1), "truncated toward zero");
        for bad in ["1.5s", "10 weeks", "", "-", "s", "+1s", "1 s", "1sec", "99999999999999999999"] {
            assert_eq!(ms(bad), Err(InvalidTimeString), "{bad:?}");
        }
    }

    #[test]
    fn the_unit_asked_for_decides_bare_numbers_and_rounding() {
        assert_eq!(time_string_as("120", TimeUnit::Seconds), Ok(120));
        assert_eq!(time_string_as("1500ms", TimeUnit::Seconds), Ok(1));
        assert_eq!(time_string_as("90s", TimeUnit::Minutes), Ok(1));
        assert_eq!(time_string_as("1d", TimeUnit::Hours), Ok(24));
        assert_eq!(time_string_as("1s", TimeUnit::Microseconds), Ok(1_000_000));
    }

    #[test]
    fn a_conversion_to_a_finer_unit_saturates_as_java_s_does() {
        let huge = "9223372036854775807";
        assert_eq!(time_string_as(&format!("{huge}d"), TimeUnit::Microseconds), Ok(i64::MAX));
        assert_eq!(time_string_as("-9223372036854775808d", TimeUnit::Milliseconds), Ok(i64::MIN));
        assert_eq!(time_string_as(&format!("{huge}us"), TimeUnit::Days), Ok(i64::MAX / 86_400_000_000));
    }

    #[test]
    fn the_error_reads_as_spark_s() {
        assert_eq!(
            InvalidTimeString.to_string(),
            "Time must be specified as seconds (s), milliseconds (ms), microseconds (us), minutes (m or min), \
             hour (h), or day (d). E.g. 50s, 100ms, or 250us."
        );
    }
}
