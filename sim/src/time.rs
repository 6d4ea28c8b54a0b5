//! Virtual time.
//!
//! Every actor sees the same clock: microseconds since the world started. Cores
//! receive `now` as an argument and never read a clock themselves; only
//! the world (`World::now`) turns tokio's paused clock into a [`SimTime`].

use std::fmt;
use std::time::Duration;

/// An instant of virtual time: microseconds since the world started.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimTime(pub u64);

impl SimTime {
    /// The start of every run.
    pub const ZERO: SimTime = SimTime(0);

    /// `s` seconds after the start.
    /// `s` seconds after the start (saturating at the end of time).
    pub const fn from_secs(s: u64) -> SimTime {
        SimTime(s.saturating_mul(1_000_000))
    }

    /// The last instant the clock can name; every sum saturates here.
    pub const MAX: SimTime = SimTime(u64::MAX);

    /// `d` after the start.
    pub fn from_duration(d: Duration) -> SimTime {
        SimTime::ZERO.after(d)
    }

    /// Microseconds since the start.
    pub fn micros(self) -> u64 {
        self.0
    }

    /// Seconds since the start, for messages that carry `double` seconds (e.g. `TaskStatus.timestamp`).
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1e6
    }

    /// This instant plus `d` (saturating).
    pub fn after(self, d: Duration) -> SimTime {
        SimTime(self.0.saturating_add(d.as_micros().min(u64::MAX as u128) as u64))
    }

    /// Time elapsed since `earlier` (zero if `earlier` is later).
    pub fn since(self, earlier: SimTime) -> Duration {
        Duration::from_micros(self.0.saturating_sub(earlier.0))
    }
}

impl fmt::Display for SimTime {
    /// `12.345678s`: seconds with microsecond precision, the timeline's format.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:06}s", self.0 / 1_000_000, self.0 % 1_000_000)
    }
}

/// Seconds as Mesos writes them in `double` fields, as a [`Duration`] on the
/// microsecond clock.
///
/// * Zero, negative and NaN are zero.
/// * A positive value below one microsecond is **rounded up** to 1 µs: Mesos
///   (`Duration::create`, nanoseconds) and Spark accept such values, and a
///   timer set for them fires strictly later, never at the same instant (a
///   zero-delay timer re-armed at the same instant would never let time move).
/// * Any other value is rounded up to whole microseconds and saturates at
///   [`Duration::MAX`] (`1e20` or `inf` seconds is "never", not a panic).
pub fn secs(s: f64) -> Duration {
    if s.is_nan() || s <= 0.0 {
        return Duration::ZERO;
    }
    match Duration::try_from_secs_f64(s) {
        Ok(d) => {
            let whole = Duration::from_micros(d.as_micros().min(u128::from(u64::MAX)) as u64);
            if whole == d { d } else { whole.saturating_add(Duration::from_micros(1)) }
        }
        Err(_) => Duration::MAX,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secs_never_panics_and_never_rounds_to_zero() {
        assert_eq!(secs(0.0), Duration::ZERO);
        assert_eq!(secs(-3.0), Duration::ZERO);
        assert_eq!(secs(f64::NAN), Duration::ZERO);
        // Below the clock's resolution: one tick, not zero.
        assert_eq!(secs(1e-7), Duration::from_micros(1));
        assert_eq!(secs(1.5e-6), Duration::from_micros(2));
        assert_eq!(secs(2.5), Duration::from_millis(2500));
        // Beyond what a Duration holds: saturates (used to panic).
        assert_eq!(secs(1e20), Duration::MAX);
        assert_eq!(secs(f64::INFINITY), Duration::MAX);
        assert_eq!(SimTime(5).after(secs(1e20)), SimTime::MAX);
    }

    #[test]
    fn instants_saturate() {
        assert_eq!(SimTime::from_secs(u64::MAX), SimTime::MAX);
        assert_eq!(SimTime::MAX.after(Duration::from_secs(1)), SimTime::MAX);
        assert_eq!(SimTime::from_duration(Duration::MAX), SimTime::MAX);
    }
}
