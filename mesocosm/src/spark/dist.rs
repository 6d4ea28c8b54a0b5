//! Task durations: fixed, or drawn from a seeded distribution with
//! platform-independent math (`det_ln`, `det_cos_turns`), so a seed gives the
//! same durations on every machine.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use std::fmt;
use std::time::Duration;

use crate::units::format_duration;
use mesocosm_sim::MAX_VIRTUAL_TIME as MAX_DURATION;

/// How long a task runs.
#[derive(Clone, Debug, PartialEq)]
pub enum DurationDist {
    Fixed(Duration),
    /// Uniform on `min..=max`.
    Uniform {
        min: Duration,
        max: Duration,
    },
    /// Normal, clamped at 0.
    Normal {
        mean: Duration,
        stddev: Duration,
    },
    /// Exponential with the given mean.
    Exponential {
        mean: Duration,
    },
}

impl DurationDist {
    /// Draws one duration, rounded to whole microseconds (except `Fixed`,
    /// which is returned as written).
    ///
    /// Only `next_u64` and IEEE-754 `+ − × ÷ √` are used, never the
    /// platform's `ln`/`cos` (whose last bits differ between libms), so a
    /// seed gives the same durations on every machine.
    /// A draw is at most [`MAX_DURATION`] (the longest run, the language's bound on every duration) (a normal or exponential tail can
    /// reach far beyond any run; past its end, every length is the same).
    pub fn sample(&self, rng: &mut ChaCha8Rng) -> Duration {
        self.draw(rng).min(MAX_DURATION)
    }

    fn draw(&self, rng: &mut ChaCha8Rng) -> Duration {
        match self {
            DurationDist::Fixed(d) => *d,
            DurationDist::Uniform { min, max } => uniform(rng, *min, *max),
            DurationDist::Normal { mean, stddev } => {
                // Box–Muller: u1 in (0, 1] so ln(u1) is finite; u2 in [0, 1).
                let u1 = unit_open_closed(rng);
                let u2 = unit_closed_open(rng);
                let z = (-2.0 * det_ln(u1)).sqrt() * det_cos_turns(u2);
                from_micros_f64(mean.as_micros() as f64 + z * stddev.as_micros() as f64)
            }
            DurationDist::Exponential { mean } => {
                let u = unit_open_closed(rng);
                from_micros_f64(-(mean.as_micros() as f64) * det_ln(u))
            }
        }
    }
}

impl fmt::Display for DurationDist {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = |x: &Duration| format_duration(*x);
        match self {
            DurationDist::Fixed(x) => write!(f, "{}", d(x)),
            DurationDist::Uniform { min, max } => write!(f, "uniform({}..{})", d(min), d(max)),
            DurationDist::Normal { mean, stddev } => {
                write!(f, "normal(mean {}, stddev {})", d(mean), d(stddev))
            }
            DurationDist::Exponential { mean } => write!(f, "exponential(mean {})", d(mean)),
        }
    }
}

/// Uniform on `min..=max` in whole microseconds (Lemire's multiply-shift;
/// its bias is below 2^-40 for any realistic span, and it is deterministic).
fn uniform(rng: &mut ChaCha8Rng, min: Duration, max: Duration) -> Duration {
    let lo = min.as_micros().min(u128::from(u64::MAX)) as u64;
    let hi = (max.as_micros().min(u128::from(u64::MAX)) as u64).max(lo);
    let span = u128::from(hi - lo) + 1;
    let offset = (u128::from(rng.next_u64()) * span) >> 64;
    Duration::from_micros(lo + offset as u64)
}

/// A uniform f64 in (0, 1] (for a logarithm): the [0, 1) draw shifted by one step.
fn unit_open_closed(rng: &mut ChaCha8Rng) -> f64 {
    unit_closed_open(rng) + 1.0 / (1u64 << 53) as f64
}

/// A uniform f64 in [0, 1).
fn unit_closed_open(rng: &mut ChaCha8Rng) -> f64 {
    mesocosm_sim::unit_interval(rng)
}

/// Rounds a (possibly negative or huge) number of microseconds to a Duration,
/// clamping at 0; `as u64` saturates and maps NaN to 0.
fn from_micros_f64(us: f64) -> Duration {
    Duration::from_micros((us.max(0.0) + 0.5).floor() as u64)
}

/// Natural log for x > 0, from basic IEEE operations only.
///
/// x = m·2^e with m in [√½, √2); ln m = 2·atanh(s), s = (m−1)/(m+1), |s| ≤ 0.172,
/// whose odd power series converges below 1e-18 in 14 terms.
fn det_ln(x: f64) -> f64 {
    if x.is_nan() || x <= 0.0 {
        return f64::NEG_INFINITY;
    }
    if x.is_infinite() {
        return x;
    }
    let mut x = x;
    let mut e: i64 = 0;
    if x < f64::MIN_POSITIVE {
        // Subnormal: scale into the normal range (exact).
        x *= (1u64 << 54) as f64;
        e -= 54;
    }
    let bits = x.to_bits();
    e += ((bits >> 52) & 0x7ff) as i64 - 1023;
    let mut m = f64::from_bits((bits & ((1u64 << 52) - 1)) | (1023u64 << 52));
    if m > std::f64::consts::SQRT_2 {
        m /= 2.0;
        e += 1;
    }
    let s = (m - 1.0) / (m + 1.0);
    let s2 = s * s;
    let mut series = 0.0;
    for k in (0..14).rev() {
        series = series * s2 + 1.0 / (2 * k + 1) as f64;
    }
    e as f64 * std::f64::consts::LN_2 + 2.0 * s * series
}

/// cos(2π·t) for t in [0, 1), from basic IEEE operations only: fold into the
/// first eighth of a turn and use a Taylor series there.
fn det_cos_turns(t: f64) -> f64 {
    let mut t = t - t.floor();
    if t > 0.5 {
        t = 1.0 - t; // cos is even around a full turn
    }
    let mut sign = 1.0;
    if t > 0.25 {
        t = 0.5 - t; // cos(π − θ) = −cos θ
        sign = -1.0;
    }
    // θ in [0, π/2].
    if t > 0.125 {
        let x = (0.25 - t) * std::f64::consts::TAU; // cos θ = sin(π/2 − θ)
        sign * taylor_sin(x)
    } else {
        sign * taylor_cos(t * std::f64::consts::TAU)
    }
}

fn taylor_cos(x: f64) -> f64 {
    let x2 = x * x;
    let mut term = 1.0;
    let mut sum = 1.0;
    for k in 1..12 {
        term *= -x2 / ((2 * k - 1) * (2 * k)) as f64;
        sum += term;
    }
    sum
}

fn taylor_sin(x: f64) -> f64 {
    let x2 = x * x;
    let mut term = x;
    let mut sum = x;
    for k in 1..12 {
        term *= -x2 / ((2 * k) * (2 * k + 1)) as f64;
        sum += term;
    }
    sum
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn det_math_matches_std_closely() {
        for x in [1e-16, 1e-5, 0.1, 0.5, 0.7, 0.99, 1.0, 1.5, 2.0, 1e10] {
            assert!((det_ln(x) - x.ln()).abs() < 1e-13 * (1.0 + x.ln().abs()), "{x}");
        }
        for i in 0..1000 {
            let t = i as f64 / 1000.0;
            assert!((det_cos_turns(t) - (t * std::f64::consts::TAU).cos()).abs() < 1e-14, "{t}");
        }
    }

    #[test]
    fn samples_have_the_right_shape() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let n = 20_000;
        let mean_of = |d: &DurationDist, rng: &mut ChaCha8Rng| {
            (0..n).map(|_| d.sample(rng).as_micros() as f64).sum::<f64>() / n as f64
        };
        let u = DurationDist::Uniform { min: Duration::from_millis(100), max: Duration::from_millis(300) };
        for _ in 0..1000 {
            let s = u.sample(&mut rng);
            assert!(s >= Duration::from_millis(100) && s <= Duration::from_millis(300));
        }
        assert!((mean_of(&u, &mut rng) - 200_000.0).abs() < 3_000.0);
        let norm = DurationDist::Normal { mean: Duration::from_secs(1), stddev: Duration::from_millis(200) };
        assert!((mean_of(&norm, &mut rng) - 1e6).abs() < 10_000.0);
        let exp = DurationDist::Exponential { mean: Duration::from_secs(1) };
        assert!((mean_of(&exp, &mut rng) - 1e6).abs() < 40_000.0);
        let clamp = DurationDist::Normal { mean: Duration::ZERO, stddev: Duration::from_secs(1) };
        assert!((0..100).all(|_| clamp.sample(&mut rng) >= Duration::ZERO));
        // Same seed, same draws.
        let a: Vec<_> = (0..5).map(|_| norm.sample(&mut ChaCha8Rng::seed_from_u64(1))).collect();
        assert!(a.windows(2).all(|w| w[0] == w[1]));
        assert_eq!(norm.to_string(), "normal(mean 1s, stddev 200ms)");
        assert_eq!(u.to_string(), "uniform(100ms..300ms)");
    }
}
