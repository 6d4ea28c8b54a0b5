//! The DRF sorter: Mesos's default `--role_sorter` and `--framework_sorter`
//! (`src/master/allocator/mesos/sorter/drf/sorter.cpp`).

use super::sorter::{KeyOrder, SortClient, SortKey, Sorter};
use rand::Rng;

/// Dominant Resource Fairness: the client holding the smallest weighted
/// dominant share goes first.
///
/// Why this order: `DRFSorter::sort` keeps its clients ordered by
/// `compareDRF` (`sorter/drf/sorter.hpp`): the dominant share divided by the
/// weight, then the allocation count (fewer grants first), then the client's
/// name. It draws no randomness. Since the allocator sorts again before every
/// agent, the next agent already sees the last grant: two equal frameworks
/// alternate. The order is a [`KeyOrder`], so the allocator keeps it
/// incrementally rather than calling `sort` before every agent.
#[derive(Clone, Copy, Debug, Default)]
pub struct DrfSorter;

impl Sorter for DrfSorter {
    fn name(&self) -> &str {
        "drf"
    }

    fn sort(&mut self, clients: &[SortClient<'_>], _rng: &mut dyn Rng) -> Vec<usize> {
        let keys: Vec<SortKey> = clients.iter().map(|c| self.key(c)).collect();
        let mut order: Vec<usize> = (0..clients.len()).collect();
        order.sort_by(|&a, &b| keys[a].cmp(&keys[b]).then_with(|| clients[a].name.cmp(clients[b].name)));
        order
    }

    fn explain(&self, client: &SortClient<'_>, clients: &[SortClient<'_>]) -> String {
        self.explain_among(client, clients.len())
    }

    fn key_order(&self) -> Option<&dyn KeyOrder> {
        Some(self)
    }
}

impl KeyOrder for DrfSorter {
    fn key(&self, client: &SortClient<'_>) -> SortKey {
        SortKey { value: client.weighted_share(), count: client.allocation_count }
    }

    fn explain_among(&self, client: &SortClient<'_>, clients: usize) -> String {
        let share = fmt_share(client.dominant_share());
        let weight = if client.weight == 1.0 { String::new() } else { format!(" ÷ weight {}", client.weight) };
        format!("DRF share {share}{weight}, lowest of {clients}")
    }
}

/// A share rounded to four decimals, as the master's notes print shares.
fn fmt_share(s: f64) -> String {
    format!("{}", (s * 10_000.0).round() / 10_000.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use mesocosm_proto::Resources;
    use rand_chacha::ChaCha8Rng;
    use rand_chacha::rand_core::SeedableRng;

    #[test]
    fn orders_by_weighted_share_then_count_then_name_and_draws_nothing() {
        let total = Resources::scalar_of("cpus", 8.0);
        let held = |c: f64| Resources::scalar_of("cpus", c);
        let (two, four, none) = (held(2.0), held(4.0), Resources::new());
        let client = |name, weight, allocation, allocation_count| SortClient {
            name,
            weight,
            allocation,
            cluster_total: &total,
            allocation_count,
        };
        let clients = [
            client("a", 1.0, &two, 1),  // 0.25
            client("b", 2.0, &four, 1), // 0.5 ÷ 2 = 0.25, same count: name
            client("c", 1.0, &two, 0),  // 0.25 with fewer grants: first of the three
            client("d", 1.0, &none, 9), // 0: first of all, whatever its count
            client("e", 1.0, &four, 0), // 0.5: last
        ];
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let before = rng.clone();
        let order = DrfSorter.sort(&clients, &mut rng);
        assert_eq!(order.iter().map(|&i| clients[i].name).collect::<Vec<_>>(), ["d", "c", "a", "b", "e"]);
        assert_eq!(rng, before, "DRF draws nothing, so the stream is left as it was");
        assert_eq!(DrfSorter.explain(&clients[1], &clients), "DRF share 0.5 ÷ weight 2, lowest of 5");
        assert_eq!(DrfSorter.explain(&clients[2], &clients), "DRF share 0.25, lowest of 5");
    }
}
