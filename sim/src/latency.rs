//! Link latency: how long a message takes from its sender to its receiver.
//!
//! Latency is one value per *link* (an ordered pair of actors), applied at the
//! message layer, never per byte written: a measurement showed that per-write
//! latency breaks replay at scale, and one libprocess socket per peer delivers
//! in order anyway. A [`Latency::Uniform`] link draws its value once, from the
//! root seed and the two actors' names (see [`crate::seed`]), so a link's
//! latency does not depend on which links were opened before it.

use crate::seed::derive_seed;
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};
use std::time::Duration;

/// Latency of the links between actors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Latency {
    /// The same latency on every link.
    Fixed(Duration),
    /// Drawn once per link, uniformly in `[min, max]`, from the seed and the link's names.
    Uniform { min: Duration, max: Duration },
}

impl Latency {
    /// The shortest default link latency.
    pub const DEFAULT_MIN: Duration = Duration::from_micros(100);
    /// The longest default link latency.
    pub const DEFAULT_MAX: Duration = Duration::from_millis(1);
    /// mesocosm's default: each link between 100 µs and 1 ms, like hosts in one data centre.
    pub const DEFAULT: Latency = Latency::Uniform { min: Latency::DEFAULT_MIN, max: Latency::DEFAULT_MAX };

    /// The latency of the link `from → to` in a run with root `seed`: the fixed
    /// value, or one whole-microsecond draw in `[min, max]` from the link's own
    /// generator (named `link`, `from`, `to`).
    pub fn of_link(self, seed: u64, from: &str, to: &str) -> Duration {
        match self {
            Latency::Fixed(d) => d,
            Latency::Uniform { min, max } => {
                let span = max.saturating_sub(min).as_micros() as u64;
                let mut rng = ChaCha8Rng::seed_from_u64(derive_seed(seed, &["link", from, to]));
                min + Duration::from_micros(if span == 0 { 0 } else { rng.next_u64() % (span + 1) })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_uniform_link_draws_once_by_name_within_its_bounds() {
        let l = Latency::DEFAULT;
        let d = l.of_link(42, "agent-1", "master");
        assert!((Latency::DEFAULT_MIN..=Latency::DEFAULT_MAX).contains(&d), "{d:?}");
        assert_eq!(d, l.of_link(42, "agent-1", "master"), "the same link, the same latency");
        let others: Vec<Duration> = (2..12).map(|i| l.of_link(42, &format!("agent-{i}"), "master")).collect();
        assert!(others.iter().any(|o| *o != d), "links draw from their own streams: {d:?} {others:?}");
    }

    #[test]
    fn fixed_and_degenerate_latencies_are_exact() {
        let ms = Duration::from_millis(3);
        assert_eq!(Latency::Fixed(ms).of_link(1, "a", "b"), ms);
        assert_eq!(Latency::Uniform { min: ms, max: ms }.of_link(1, "a", "b"), ms);
    }
}
