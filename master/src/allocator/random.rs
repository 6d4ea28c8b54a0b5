//! The random sorter: Mesos's `--role_sorter=random` and
//! `--framework_sorter=random` (`src/master/allocator/mesos/sorter/random/sorter.cpp`).

use super::sorter::{SortClient, Sorter};
use rand::Rng;

/// A weighted random shuffle on every sort: shares and allocation counts do
/// not matter, weights are probabilities.
///
/// Why this shuffle: `RandomSorter::sort` calls `weightedShuffle`
/// (`sorter/random/utils.hpp`), weighted sampling without replacement after
/// Efraimidis and Spirakis: each client draws `u` uniform in `[0, 1)` and
/// takes the key `u^(1/weight)`; the largest key goes first. A client's chance
/// to come first is its weight over the sum of the weights, so a role of
/// weight 2 is first twice as often as a role of weight 1, however much either
/// holds. Mesos draws from its own `std::mt19937`; here the draws come from the
/// allocator's seeded stream so a run replays.
#[derive(Clone, Copy, Debug, Default)]
pub struct RandomSorter;

impl Sorter for RandomSorter {
    fn name(&self) -> &str {
        "random"
    }

    fn sort(&mut self, clients: &[SortClient<'_>], rng: &mut dyn Rng) -> Vec<usize> {
        let keys: Vec<f64> = clients.iter().map(|c| unit(rng).powf(1.0 / c.weight)).collect();
        let mut order: Vec<usize> = (0..clients.len()).collect();
        // Largest key first; a tie (probability ~0) keeps name order.
        order.sort_by(|&a, &b| keys[b].total_cmp(&keys[a]));
        order
    }

    fn explain(&self, client: &SortClient<'_>, clients: &[SortClient<'_>]) -> String {
        let total: f64 = clients.iter().map(|c| c.weight).sum();
        format!("random draw, weight {} of {total}", client.weight)
    }
}

/// A uniform draw from `[0, 1)` with 53 bits of precision.
fn unit(rng: &mut dyn Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}
