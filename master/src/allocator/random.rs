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

#[cfg(test)]
mod tests {
    use super::*;
    use mesocosm_proto::Resources;
    use rand_chacha::ChaCha8Rng;
    use rand_chacha::rand_core::SeedableRng;

    #[test]
    fn a_client_comes_first_in_proportion_to_its_weight_whatever_it_holds() {
        let total = Resources::scalar_of("cpus", 8.0);
        let (all, none) = (Resources::scalar_of("cpus", 8.0), Resources::new());
        let client = |name, weight, allocation| SortClient {
            name,
            weight,
            allocation,
            cluster_total: &total,
            allocation_count: 0,
        };
        // "rich" holds the whole cluster; DRF would never put it first.
        let clients = [client("poor", 1.0, &none), client("rich", 3.0, &all)];
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let mut first = [0usize; 2];
        for _ in 0..4000 {
            let order = RandomSorter.sort(&clients, &mut rng);
            let mut sorted = order.clone();
            sorted.sort();
            assert_eq!(sorted, [0, 1], "a permutation every time");
            first[order[0]] += 1;
        }
        // P(rich first) = 3 / (1 + 3) = 0.75.
        assert!((2800..=3200).contains(&first[1]), "rich first {} of 4000 times", first[1]);
        assert_eq!(RandomSorter.explain(&clients[1], &clients), "random draw, weight 3 of 4");
    }
}
