//! Mesos's `DeclineOffers` allocator benchmark, round by round:
//! `cargo run --release -p mesocosm-benches --example decline_offers -- 10000 1000 100`
//! (agents, frameworks, rounds). Prints the wall time of each round's cycle
//! (min / median / max over the rounds, and a few single rounds), the live
//! refusal filters, and the resident bytes per live filter.
//!
//! Memory is the process's resident set (`VmRSS` in `/proc/self/status`,
//! Linux only): its growth since just before the first round, divided by the
//! live filters. The grants of a round are recovered by its declines, so what
//! stays is what the filters hold, malloc's overhead included. (A counting
//! global allocator would need `unsafe`, which the workspace forbids.)

use mesocosm_benches::DeclineOffers;
use std::time::{Duration, Instant};

/// Nanoseconds this thread has run on a CPU (`/proc/thread-self/schedstat`,
/// Linux only; 0 where it does not say). On a shared machine wall time counts
/// the waits for a core too; this does not.
fn cpu_ns() -> u64 {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
    stat.split_whitespace().next().and_then(|v| v.parse().ok()).unwrap_or(0)
}

/// The resident set in bytes, or 0 where `/proc` does not say.
fn rss() -> i64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<i64>().ok());
    kb.unwrap_or(0) * 1024
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
    for round in 0..rounds {
        let (start, cpu_start) = (Instant::now(), cpu_ns());
        let cycle = w.cycle();
        let (took, cpu) = (start.elapsed(), Duration::from_nanos(cpu_ns() - cpu_start));
        let offers = cycle.grants.len();
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
}
