//! One small library scenario, end to end in process: `scenarios/offer-timeout.toml`
//! (3 agents, 2 Spark apps, a slow framework whose offers time out, 5 virtual
//! minutes), parsed once, then run with every invariant, expectation and the
//! digest on, over real gRPC and in memory.
//!
//! The target is ≤ 10 ms per small run, so property tests can run ≥
//! 10,000 cases per minute per core. `cargo bench --workspace --bench
//! scenario` prints time per run; `setup` is a world with the same actors
//! started and stopped at once (servers, mailboxes, the first connections),
//! so the rest of a run is its messages and checks.

use criterion::{BenchmarkId, Criterion};
use mesocosm::runner::{self, RunOptions};
use mesocosm::scenario::{self, Scenario};
use mesocosm_sim::Transport;
use std::time::Duration;
// Linked for its global allocator, the `mesocosm` CLI's (benches/src/lib.rs).
use mesocosm_benches as _;

fn library(file: &str) -> Scenario {
    let path = format!("{}/../scenarios/{file}", env!("CARGO_MANIFEST_DIR"));
    scenario::load(&path).unwrap_or_else(|d| panic!("{d}"))
}

fn run(s: &Scenario, transport: Transport) {
    let opts = RunOptions { transport, ..RunOptions::default() };
    let r = runner::run(s, opts).unwrap_or_else(|e| panic!("{}: {e}", s.name));
    assert!(r.digest.is_some());
}

fn small_scenarios(c: &mut Criterion) {
    let mut group = c.benchmark_group("small_scenario");
    group.sample_size(20);
    let full = library("offer-timeout.toml");
    // The same cluster, stopped at its first instant: what starting a world costs.
    let mut setup = full.clone();
    setup.until = Duration::from_micros(1);
    for (name, transport) in [("grpc", Transport::Grpc), ("memory", Transport::Memory)] {
        group.bench_with_input(BenchmarkId::new("offer-timeout", name), &full, |b, s| b.iter(|| run(s, transport)));
        group.bench_with_input(BenchmarkId::new("setup", name), &setup, |b, s| b.iter(|| run(s, transport)));
    }
    group.finish();
}

fn main() {
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(5))
        .configure_from_args();
    small_scenarios(&mut c);
    c.final_summary();
}
