//! End-to-end offer throughput: offers made, answered and applied, at 100 and
//! 1,000 agents, over real gRPC and with the same messages delivered in memory.
//! The ratio of the two is what the transport costs.
//!
//! The workload is `mesocosm::bench::offers` (`mesocosm bench --workload offers`).
//! `cargo bench --workspace --bench offers` prints time per run; criterion's throughput
//! line is offers per second of wall time.

use criterion::{BenchmarkId, Criterion, Throughput};
use mesocosm_benches::offer_run;
use mesocosm_sim::Transport;
use std::time::Duration;

const VIRTUAL_SECS: u64 = 10;
const FRAMEWORKS: usize = 10;

fn offers(c: &mut Criterion) {
    let mut group = c.benchmark_group("offers_end_to_end");
    group.sample_size(10);
    for agents in [100usize, 1000] {
        // The workload is deterministic, so one calibration run gives the count.
        let made = offer_run(agents, FRAMEWORKS, Transport::Memory, VIRTUAL_SECS).master.offers_made;
        group.throughput(Throughput::Elements(made));
        for (name, transport) in [("grpc", Transport::Grpc), ("memory", Transport::Memory)] {
            group.bench_with_input(BenchmarkId::new(name, agents), &agents, |b, &agents| {
                b.iter(|| offer_run(agents, FRAMEWORKS, transport, VIRTUAL_SECS))
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
    offers(&mut c);
    c.final_summary();
}
