//! Durations, as people write them in a scenario's own keys.
//!
//! Two dialects meet in a scenario file, and they are deliberately kept apart:
//!
//! * **mesocosm durations** ([`parse_duration`], here): the values of the
//!   scenario's own keys (`until = "30m"`, `latency = "500us"`,
//!   `duration = "1.5s"`). A number, an optional fraction and a unit: `us`,
//!   `ms`, `s`, `m`, `h`, `d`. The only unit-less form is `"0"`, because "0 of
//!   anything" is unambiguous and everything else without a unit is a bug
//!   waiting to happen.
//! * **Spark conf values**: the values of `--conf k=v` and
//!   `spark-defaults.conf`, read by [`crate::submit::SparkConf`] with Spark's
//!   own syntax (`JavaUtils.timeStringAs` and `byteStringAs`, in
//!   `mesocosm_driver::conf`), *exactly*, including its quirks: no fractions,
//!   and a bare number means the key's default unit. A scenario that Spark
//!   would reject must be rejected here too, otherwise the simulation would
//!   teach something the real system does not do.
//!
//! The parser returns `Err(String)` with a message that quotes the input and
//! says what was expected; callers prefix it with *where* the value came from.
//!
//! ```
//! use std::time::Duration;
//! use mesocosm::units::{parse_duration, format_duration};
//!
//! assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
//! assert_eq!(format_duration(Duration::from_millis(1500)), "1.5s");
//! assert!(parse_duration("5 seconds").is_err());
//! assert!(parse_duration("5").is_err()); // only `0` may omit the unit
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

/// Sizes: a non-negative number and a unit, decimal as docker prints them
/// (`kB`, `MB`, `GB`) or binary (`KiB`, `MiB`, `GiB`); `B` for bytes.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-')).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let v: f64 = num.parse().map_err(|_| format!("{s:?} is not a size like \"300MB\""))?;
    if v < 0.0 || !v.is_finite() {
        return Err(format!("{s:?} is negative; a size is at least 0"));
    }
    let mult: f64 = match unit.trim() {
        "B" | "" => 1.0,
        "kB" | "KB" => 1e3,
        "MB" => 1e6,
        "GB" => 1e9,
        "KiB" => 1024.0,
        "MiB" => 1024.0 * 1024.0,
        "GiB" => 1024.0 * 1024.0 * 1024.0,
        other => return Err(format!("unknown size unit {other:?} (B, kB, MB, GB, KiB, MiB, GiB)")),
    };
    let bytes = v * mult;
    if bytes > 1e15 {
        return Err(format!("{s:?} is more than 1 PB"));
    }
    Ok(bytes.round() as u64)
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
}
