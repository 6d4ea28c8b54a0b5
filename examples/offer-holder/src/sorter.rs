//! A custom allocation policy, registered as `largest-share-first`: the
//! opposite of DRF. Whoever holds the largest share of the cluster is offered
//! first, so a framework that already has resources keeps getting more.
//!
//! Only the order changes: the master's books still refuse to over-commit an
//! agent, and filters and SUPPRESS still apply (`src/master/allocator/mesos/sorter/sorter.hpp`
//! is the same plug point in Mesos: `--role_sorter` / `--framework_sorter`).
use mesocosm_master::{SortClient, Sorter};

/// Largest dominant share first; ties in name order.
#[derive(Debug, Default)]
pub struct LargestShareFirst;

impl Sorter for LargestShareFirst {
    fn name(&self) -> &str {
        "largest-share-first"
    }

    fn sort(&mut self, clients: &[SortClient<'_>], _rng: &mut dyn rand::Rng) -> Vec<usize> {
        let mut order: Vec<usize> = (0..clients.len()).collect();
        // `sort_by` is stable: equal shares keep the allocator's name order.
        order.sort_by(|&a, &b| clients[b].dominant_share().total_cmp(&clients[a].dominant_share()));
        order
    }

    fn explain(&self, client: &SortClient<'_>, clients: &[SortClient<'_>]) -> String {
        format!("share {:.2}, largest first among {}", client.dominant_share(), clients.len())
    }
}
