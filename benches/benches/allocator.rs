//! The allocator alone in Mesos's `DeclineOffers` shape (see
//! `mesocosm_benches::decline`): the time of one allocation cycle over 10,000
//! agents with 1,000 and 3,000 frameworks (Mesos's `/21` and `/22`), at round 0
//! and after 25 rounds of declines have left 25 refusal filters on every agent.
//!
//! `cargo bench -p mesocosm-benches --bench allocator`; the round-by-round view
//! is the `decline_offers` example.

use criterion::{BatchSize, BenchmarkId, Criterion};
use mesocosm_benches::DeclineOffers;
use std::time::Duration;

const AGENTS: usize = 10_000;

fn decline_offers(c: &mut Criterion) {
    let mut group = c.benchmark_group("allocator_decline_offers");
    group.sample_size(10);
    for frameworks in [1_000usize, 3_000] {
        for round in [0usize, 25] {
            let id = BenchmarkId::new(format!("{AGENTS}x{frameworks}"), format!("round{round}"));
            group.bench_function(id, |b| {
                b.iter_batched(
                    || {
                        let mut w = DeclineOffers::new(AGENTS, frameworks);
                        w.advance(round);
                        w
                    },
                    |mut w| w.cycle(),
                    BatchSize::PerIteration,
                )
            });
        }
    }
    group.finish();
}

fn main() {
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(5))
        .configure_from_args();
    decline_offers(&mut c);
    c.final_summary();
}
