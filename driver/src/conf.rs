//! Spark's conf value syntax: how a string like `"90s"` or `"2g"` becomes a number.
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
//! Sizes (`bytesConf(ByteUnit.MiB)` for `spark.executor.memory`) are written
//! the same way with binary suffixes ([`ByteUnit`]: `1k` is 1024 bytes), and
//! list keys (`spark.mesos.uris`) are comma-separated ([`string_to_seq`]).
//!
//! ```
//! use mesocosm_driver::conf::{ByteUnit, TimeUnit, conf_number, time_string_as};
//!
//! assert_eq!(time_string_as("2min", TimeUnit::Millis), Ok(120_000));
//! assert_eq!(time_string_as("120", TimeUnit::Seconds), Ok(120)); // a bare number is in the key's unit
//! assert_eq!(time_string_as("1500ms", TimeUnit::Seconds), Ok(1)); // truncated, as Java's TimeUnit does
//! assert!(time_string_as("1.5s", TimeUnit::Seconds).is_err()); // Spark takes no fractions
//!
//! let n = conf_number(" 2G ").unwrap();
//! assert_eq!((n.magnitude, ByteUnit::of_suffix(&n.suffix)), (2, Some(ByteUnit::GiB)));
//! ```
//!
//! There is one lexer, [`conf_number`] (the `JavaUtils` regexes), and one
//! table of suffixes per kind ([`TimeUnit::of_suffix`], [`ByteUnit::of_suffix`]).
//! Two readers use them: [`time_string_as`], Spark's own function, with which
//! the driver reads its heartbeat, readiness and starvation keys; and the
//! scenario language's `SparkConf`, which reads a time into an exact
//! `Duration` for the simulated clock and a size into MiB, and words each
//! refusal for the scenario's author.

use std::fmt;

/// The unit of a Spark time value: the unit a key's bare numbers are in, and
/// the unit [`time_string_as`] answers in (Java's `TimeUnit`, without the
/// nanoseconds no Spark suffix names).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeUnit {
    /// `us`.
    Micros,
    /// `ms`.
    Millis,
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
    pub fn micros(self) -> i64 {
        match self {
            TimeUnit::Micros => 1,
            TimeUnit::Millis => 1_000,
            TimeUnit::Seconds => 1_000_000,
            TimeUnit::Minutes => 60_000_000,
            TimeUnit::Hours => 3_600_000_000,
            TimeUnit::Days => 86_400_000_000,
        }
    }

    /// `JavaUtils.timeSuffixes`: the unit a suffix (lower-case) names.
    pub fn of_suffix(suffix: &str) -> Option<TimeUnit> {
        match suffix {
            "us" => Some(TimeUnit::Micros),
            "ms" => Some(TimeUnit::Millis),
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

/// The unit of a Spark size value (Spark's `ByteUnit`): the unit a key's
/// bare numbers are in, and the suffixes a value may name. All binary, as in
/// Spark: `1k` is 1024 bytes, `1m` is 1024 KiB.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ByteUnit {
    /// `b`.
    Byte,
    /// `k` or `kb`.
    KiB,
    /// `m` or `mb`.
    MiB,
    /// `g` or `gb`.
    GiB,
    /// `t` or `tb`.
    TiB,
    /// `p` or `pb`.
    PiB,
}

impl ByteUnit {
    /// How many bytes one of this unit is.
    pub fn bytes(self) -> u128 {
        match self {
            ByteUnit::Byte => 1,
            ByteUnit::KiB => 1 << 10,
            ByteUnit::MiB => 1 << 20,
            ByteUnit::GiB => 1 << 30,
            ByteUnit::TiB => 1 << 40,
            ByteUnit::PiB => 1 << 50,
        }
    }

    /// `JavaUtils.byteSuffixes`: the unit a suffix (lower-case) names.
    pub fn of_suffix(suffix: &str) -> Option<ByteUnit> {
        match suffix {
            "b" => Some(ByteUnit::Byte),
            "k" | "kb" => Some(ByteUnit::KiB),
            "m" | "mb" => Some(ByteUnit::MiB),
            "g" | "gb" => Some(ByteUnit::GiB),
            "t" | "tb" => Some(ByteUnit::TiB),
            "p" | "pb" => Some(ByteUnit::PiB),
            _ => None,
        }
    }
}

/// A conf value as `JavaUtils` splits it before applying any unit: the
/// value trimmed and lower-cased, then `(-?[0-9]+)(.*)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfNumber {
    /// Whether the digits follow a `-` (Spark's time regex allows one, its
    /// size regex does not: each reader decides).
    pub negative: bool,
    /// The digits, as a number.
    pub magnitude: u128,
    /// Everything after the digits, lower-case: `""`, a unit suffix, or
    /// something no unit table names (`"x"`, `" s"`, `"sec"`).
    pub suffix: String,
}

/// Why a value is not a [`ConfNumber`] at all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConfNumberError {
    /// No digit where the number should start (`""`, `"soon"`, `"+1s"`, `"-"`).
    NoDigits,
    /// A `.` right after the digits (`"1.5g"`): Spark has no fractions
    /// (`byteStringAs` says "Fractional values are not supported").
    Fraction,
    /// More digits than any unit could use (beyond `u128`).
    TooManyDigits,
}

/// Splits a Spark time or size value into sign, digits and suffix, as the
/// regexes of `JavaUtils.timeStringAs` and `byteStringAs` do. The suffix is
/// not looked up here: a reader asks [`TimeUnit::of_suffix`] or
/// [`ByteUnit::of_suffix`], and decides what a bare number is in.
pub fn conf_number(value: &str) -> Result<ConfNumber, ConfNumberError> {
    let lower = value.trim().to_ascii_lowercase();
    let (negative, unsigned) = match lower.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, lower.as_str()),
    };
    let split = unsigned.find(|c: char| !c.is_ascii_digit()).unwrap_or(unsigned.len());
    let (digits, suffix) = unsigned.split_at(split);
    if digits.is_empty() {
        return Err(ConfNumberError::NoDigits);
    }
    if suffix.starts_with('.') {
        return Err(ConfNumberError::Fraction);
    }
    let magnitude = digits.parse().map_err(|_| ConfNumberError::TooManyDigits)?;
    Ok(ConfNumber { negative, magnitude, suffix: suffix.to_string() })
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
    let n = conf_number(value).map_err(|_| InvalidTimeString)?;
    let from = if n.suffix.is_empty() { Some(unit) } else { TimeUnit::of_suffix(&n.suffix) };
    // `Long.parseLong` of the digits with their sign: −2^63 fits, 2^63 does not.
    let signed = i128::try_from(n.magnitude).ok().map(|m| if n.negative { -m } else { m });
    match (signed.and_then(|v| i64::try_from(v).ok()), from) {
        (Some(v), Some(from)) => Ok(unit.convert(v, from)),
        _ => Err(InvalidTimeString),
    }
}

/// `ConfigBuilder.stringConf.toSequence` (`Utils.stringToSeq`): a list key
/// such as `spark.mesos.uris` or `spark.mesos.executor.docker.volumes`, split
/// at commas, each entry trimmed, empty entries dropped.
pub fn string_to_seq(value: &str) -> impl Iterator<Item = &str> {
    value.split(',').map(str::trim).filter(|e| !e.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_strings_parse_as_spark_does() {
        let ms = |v: &str| time_string_as(v, TimeUnit::Millis);
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
        assert_eq!(time_string_as("1s", TimeUnit::Micros), Ok(1_000_000));
    }

    #[test]
    fn a_conversion_to_a_finer_unit_saturates_as_java_s_does() {
        let huge = "9223372036854775807";
        assert_eq!(time_string_as(&format!("{huge}d"), TimeUnit::Micros), Ok(i64::MAX));
        assert_eq!(time_string_as("-9223372036854775808d", TimeUnit::Millis), Ok(i64::MIN));
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

    #[test]
    fn the_lexer_splits_sign_digits_and_suffix() {
        let n = |v: &str| conf_number(v).map(|n| (n.negative, n.magnitude, n.suffix));
        assert_eq!(n(" 512M "), Ok((false, 512, "m".into())));
        assert_eq!(n("-1s"), Ok((true, 1, "s".into())));
        assert_eq!(n("10 weeks"), Ok((false, 10, " weeks".into())), "the suffix is not looked up here");
        assert_eq!(n("2048"), Ok((false, 2048, String::new())));
        for bad in ["", "-", "s", "+1s", "soon", ".5g"] {
            assert_eq!(n(bad), Err(ConfNumberError::NoDigits), "{bad:?}");
        }
        assert_eq!(n("1.5g"), Err(ConfNumberError::Fraction));
        assert_eq!(n("1.g"), Err(ConfNumberError::Fraction));
        assert_eq!(n(&"9".repeat(40)), Err(ConfNumberError::TooManyDigits));
        assert_eq!(n(&"9".repeat(38)).map(|(_, m, _)| m > u128::from(u64::MAX)), Ok(true));
    }

    #[test]
    fn byte_suffixes_are_binary_and_case_blind() {
        let unit = |v: &str| conf_number(v).ok().and_then(|n| ByteUnit::of_suffix(&n.suffix));
        assert_eq!(unit("1K"), Some(ByteUnit::KiB));
        assert_eq!(unit("1kb"), Some(ByteUnit::KiB));
        assert_eq!(unit("1GB"), Some(ByteUnit::GiB));
        assert_eq!(unit("1p"), Some(ByteUnit::PiB));
        assert_eq!(unit("1x"), None);
        assert_eq!(ByteUnit::GiB.bytes() / ByteUnit::MiB.bytes(), 1024);
        assert_eq!(TimeUnit::of_suffix("min"), Some(TimeUnit::Minutes));
        assert_eq!(TimeUnit::of_suffix("sec"), None);
    }

    #[test]
    fn a_sequence_drops_blanks_and_empty_entries() {
        let seq = |v| string_to_seq(v).collect::<Vec<_>>();
        assert_eq!(seq(" a.tgz , ,b.jar,"), ["a.tgz", "b.jar"]);
        assert_eq!(seq(""), Vec::<&str>::new());
        assert_eq!(seq("/h:/c:ro"), ["/h:/c:ro"], "only commas separate");
    }
}
