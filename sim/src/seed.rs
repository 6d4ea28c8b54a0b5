//! Seeded randomness: every random choice in a run is drawn from a generator
//! whose seed is derived, by *name*, from the run's root seed.
//!
//! Why by name: an actor, a link or a fault rule gets its own stream
//! (`derive_seed(seed, &["link", "agent-1", "master"])`), so adding an actor or
//! a rule never shifts anyone else's draws, and the same scenario replays to the
//! same trace on every machine and Rust release (SHA-256, not `std`'s hashers;
//! a named generator, `ChaCha8Rng`, not `StdRng`, whose algorithm may change).
//!
//! ```
//! use mesocosm_sim::{derive_seed, unit_interval};
//! use rand_chacha::ChaCha8Rng;
//! use rand_chacha::rand_core::SeedableRng;
//!
//! let mut a = ChaCha8Rng::seed_from_u64(derive_seed(7, &["agent", "agent-3"]));
//! let mut b = ChaCha8Rng::seed_from_u64(derive_seed(7, &["agent", "agent-3"]));
//! let x = unit_interval(&mut a);
//! assert!((0.0..1.0).contains(&x));
//! assert_eq!(x, unit_interval(&mut b), "same seed, same name, same draw");
//! ```

use rand_chacha::rand_core::Rng;

/// A stable 64-bit hash of the seed and some names (SHA-256, so it is the same on
/// every machine and Rust release, unlike `std`'s hashers).
pub fn derive_seed(seed: u64, parts: &[&str]) -> u64 {
    let seed = seed.to_le_bytes();
    let all: Vec<&[u8]> = std::iter::once(&seed[..]).chain(parts.iter().map(|p| p.as_bytes())).collect();
    let d = crate::ids::digest(&all);
    u64::from_le_bytes([d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]])
}

/// A uniform draw in [0, 1) from the top 53 bits of one `u64`: the one way a
/// seeded generator becomes a fraction (a fault's probability, a backoff's
/// random wait, a scenario's distributions), so every such draw replays alike.
pub fn unit_interval(rng: &mut impl Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}
