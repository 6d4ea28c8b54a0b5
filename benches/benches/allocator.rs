//! The allocator alone in Mesos's `DeclineOffers` shape
//! (`mesocosm::bench::decline`): the time of one allocation cycle over
//! 10,000 agents with 1,000 and 3,000 frameworks (Mesos's `/21` and `/22`), and
//! over 1,000 agents with 100 frameworks (a small shape, quick to compare
//! before and after a change).
//!
//! As in Mesos's test, each iteration is the next round: the cycle is timed,
//! then every framework declines what it was offered with
//! `refuse_seconds = INT_MAX` (untimed), so refusal filters pile up from
//! round to round (one more per agent each round, over the warm-up and the
//! samples). Mesos prints "round i allocate() took X to make N offers".
//!
//! `cargo bench --workspace --bench allocator`; the round-by-round view
//! is the `decline_offers` example, and `mesocosm bench --workload decline`.

use criterion::{BenchmarkId, Criterion};
use mesocosm_benches::DeclineOffers;
use std::time::{Duration, Instant};

/// (agents, frameworks): a small shape, then Mesos's `/21` and `/22`.
const SHAPES: [(usize, usize); 3] = [(1_000, 100), (10_000, 1_000), (10_000, 3_000)];

fn decline_offers(c: &mut Criterion) {
    let mut group = c.benchmark_group("allocator_decline_offers");
    group.sample_size(10);
    for (agents, frameworks) in SHAPES {
        let mut w = DeclineOffers::new(agents, frameworks);
        group.bench_function(BenchmarkId::from_parameter(format!("{agents}x{frameworks}")), |b| {
            b.iter_custom(|iters| {
                let mut timed = Duration::ZERO;
                for _ in 0..iters {
                    let start = Instant::now();
                    w.cycle();
                    timed += start.elapsed();
                    w.decline();
                }
                timed
            })
        });
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
