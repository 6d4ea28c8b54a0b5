//! Virtual time.
//!
//! Every actor sees the same clock: microseconds since the world started. Cores
//! receive `now` as an argument and never read a clock themselves; only
//! [`crate::world`] turns tokio's paused clock into a [`SimTime`].

use std::fmt;
use std::time::Duration;

/// An instant of virtual time: microseconds since the world started.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimTime(pub u64);

impl SimTime {
    /// The start of every run.
    pub const ZERO: SimTime = SimTime(0);

    /// `s` seconds after the start.
    pub const fn from_secs(s: u64) -> SimTime {
        SimTime(s * 1_000_000)
    }

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

/// Seconds as Mesos writes them in `double` fields, as a [`Duration`] (negative → zero).
pub fn secs(s: f64) -> Duration {
    if s.is_finite() && s > 0.0 { Duration::from_secs_f64(s) } else { Duration::ZERO }
}
