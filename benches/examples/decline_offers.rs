//! Mesos's `DeclineOffers` allocator benchmark, round by round:
//! `cargo run --release -p mesocosm-benches --example decline_offers -- 10000 1000 100`
//! (agents, frameworks, rounds). Prints the wall time of each round's cycle
//! (min / median / max over the rounds, and a few single rounds), the live
//! refusal filters, and the resident bytes per live filter.
//!
//! CPU time and memory are read as `mesocosm bench` reads them
//! (`mesocosm::bench::measure`). Memory is the process's resident set (`VmRSS`,
//! Linux only): its growth since just before the first round, divided by the
//! live filters. The grants of a round are recovered by its declines, so what
//! stays is what the filters hold, malloc's overhead included. (A counting
//! global allocator would need `unsafe`, which the workspace forbids.)
//!
//! Last it prints a digest of every round's cycle (the visiting order, every
//! grant with the frameworks it passed over, every idle agent and why), so a
//! change to the allocator can be checked grant for grant against the code
//! before it: the same digest, the same cycles. The digest is taken after the
//! timer stops.

use mesocosm_benches::DeclineOffers;
use mesocosm_benches::measure::{self, thread_cpu};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::time::{Duration, Instant};

/// This thread's CPU time in nanoseconds (0 where the system does not say).
fn cpu_ns() -> u64 {
    thread_cpu().map_or(0, |d| d.as_nanos() as u64)
}

/// The resident set in bytes (0 where the system does not say).
fn rss() -> i64 {
    measure::rss().unwrap_or(0) as i64
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<usize>().expect("agents frameworks rounds"));
    let agents = args.next().unwrap_or(10_000);
    let frameworks = args.next().unwrap_or(1_000);
    let rounds = args.next().unwrap_or(100);
    let setup = Instant::now();
    let mut w = DeclineOffers::new(agents, frameworks);
    println!("DeclineOffers {agents} agents x {frameworks} frameworks: setup {:.1} ms", ms(setup.elapsed()));
    let base = rss();
    let mut times = Vec::with_capacity(rounds);
    let mut cpu_times = Vec::with_capacity(rounds);
    // A fixed-key SipHash: the same cycles give the same digest in any build
    // made by the same toolchain.
    let mut grants_digest = DefaultHasher::new();
    for round in 0..rounds {
        let (start, cpu_start) = (Instant::now(), cpu_ns());
        let cycle = w.cycle();
        let (took, cpu) = (start.elapsed(), Duration::from_nanos(cpu_ns() - cpu_start));
        let offers = cycle.grants.len();
        // Everything the cycle decided: the order, the grants (who, on which
        // agent, what, who was passed over), the idle agents and why.
        let h = &mut grants_digest;
        cycle.order.hash(h);
        for g in &cycle.grants {
            (&g.framework_id, &g.role, &g.agent_id, g.resources.to_string()).hash(h);
            (g.share.to_bits(), g.role_share.to_bits(), g.contenders).hash(h);
            g.filtered.iter().for_each(|f| f.hash(h));
        }
        for (agent, why) in &cycle.idle {
            (agent, format!("{why:?}")).hash(h);
        }
        w.decline(&cycle);
        drop(cycle);
        times.push(took);
        cpu_times.push(cpu);
        let per_filter = (rss() - base) as f64 / w.live_filters.max(1) as f64;
        if round < 3 || round % 10 == 9 || round + 1 == rounds {
            println!(
                "round {round:>3}: cycle {:>8.2} ms ({:>7.2} ms on CPU), {offers} offers; {} live filters, {per_filter:.0} B each",
                ms(took),
                ms(cpu),
                w.live_filters
            );
        }
    }
    let per_filter = (rss() - base) as f64 / w.live_filters.max(1) as f64;
    for (what, mut ts) in [("wall", times), ("on CPU", cpu_times)] {
        ts.sort();
        println!(
            "rounds 0..={} ({what}): min {:.2} ms, median {:.2} ms, max {:.2} ms",
            rounds - 1,
            ms(ts[0]),
            ms(ts[ts.len() / 2]),
            ms(ts[ts.len() - 1]),
        );
    }
    println!("{} live filters, {per_filter:.0} B per filter (resident set growth)", w.live_filters);
    println!("digest of every round's cycle: {:016x}", grants_digest.finish());
}
