//! The DRF sorter: Mesos's default `--role_sorter` and `--framework_sorter`
//! (`src/master/allocator/mesos/sorter/drf/sorter.cpp`).

use super::sorter::{SortClient, Sorter};
use rand::Rng;

/// Dominant Resource Fairness: the client holding the smallest weighted
/// dominant share goes first.
///
/// Why this order: `DRFSorter::sort` keeps its clients ordered by
/// `compareDRF` (`sorter/drf/sorter.hpp`): the dominant share divided by the
/// weight, then the allocation count (fewer grants first), then the client's
/// name. It draws no randomness. Since the allocator sorts again before every
/// agent, the next agent already sees the last grant: two equal frameworks
/// alternate.
#[derive(Clone, Copy, Debug, Default)]
pub struct DrfSorter;

impl Sorter for DrfSorter {
    fn name(&self) -> &str {
        "drf"
    }

    fn sort(&mut self, clients: &[SortClient<'_>], _rng: &mut dyn Rng) -> Vec<usize> {
        let keys: Vec<f64> = clients.iter().map(SortClient::weighted_share).collect();
        let mut order: Vec<usize> = (0..clients.len()).collect();
        order.sort_by(|&a, &b| {
            keys[a]
                .total_cmp(&keys[b])
                .then(clients[a].allocation_count.cmp(&clients[b].allocation_count))
                .then_with(|| clients[a].name.cmp(clients[b].name))
        });
        order
    }

    fn explain(&self, client: &SortClient<'_>, clients: &[SortClient<'_>]) -> String {
        let share = fmt_share(client.dominant_share());
        let weight = if client.weight == 1.0 { String::new() } else { format!(" ÷ weight {}", client.weight) };
        format!("DRF share {share}{weight}, lowest of {}", clients.len())
    }
}

/// A share rounded to four decimals, as the master's notes print shares.
fn fmt_share(s: f64) -> String {
    format!("{}", (s * 10_000.0).round() / 10_000.0)
}
