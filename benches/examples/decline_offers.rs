//! Mesos's `DeclineOffers` allocator benchmark, round by round:
//! `cargo run --release -p mesocosm-benches --example decline_offers -- 10000 1000 100`
//! (agents, frameworks, rounds; add `--every-round` to print each round).
//! Prints the wall time of each round's cycle (min / median / max over the
//! rounds, and a few single rounds), the live refusal filters, and the
//! resident bytes per live filter.
//!
//! CPU time and memory are read as `mesocosm bench` reads them
//! (`mesocosm::bench::measure`). Memory is the process's resident set (`VmRSS`,
//! Linux only): its growth since just before the first round, divided by the
//! live filters. The grants of a round are recovered by its declines, so what
//! stays is what the filters hold, malloc's overhead included. (A counting
//! global allocator would need `unsafe`, which the workspace forbids.)
//!
//! `--every-round` prints one line per round, after the last: its CPU and
//! wall time and the minor page faults the thread took during the cycle
//! (`minflt` of `/proc/thread-self/stat`, Linux only). Why the faults: a
//! round that is slow in every run at the same place is a real cost, and the
//! first touch of freshly mapped memory (a growing vector or map, an arena the
//! allocator just took from the kernel) is charged to the thread as system
//! time; a slow round with no more faults than its neighbours is the other
//! core's load or the cache.
//!
//! Last it prints a digest of every round's cycle (the visiting order, every
//! grant with the frameworks it passed over, every idle agent and why), so a
//! change to the allocator can be checked grant for grant against the code
//! before it: the same digest, the same cycles. The digest is taken after the
//! timer stops.

use mesocosm_benches::DeclineOffers;
use mesocosm_benches::measure::{self, thread_cpu};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::process::ExitCode;
use std::time::{Duration, Instant};

const USAGE: &str = "usage: decline_offers [agents [frameworks [rounds]]] [--every-round]";

/// This thread's CPU time in nanoseconds (0 where the system does not say).
fn cpu_ns() -> u64 {
    thread_cpu().map_or(0, |d| d.as_nanos() as u64)
}

/// The resident set in bytes (0 where the system does not say).
fn rss() -> i64 {
    measure::rss().unwrap_or(0) as i64
}

/// The minor page faults this thread has taken (0 where the system does not
/// say): field 10 of `/proc/thread-self/stat`, counted after the command
/// name's closing parenthesis (the name may hold spaces).
fn minor_faults() -> u64 {
    let Ok(stat) = std::fs::read_to_string("/proc/thread-self/stat") else { return 0 };
    let Some((_, rest)) = stat.rsplit_once(')') else { return 0 };
    rest.split_whitespace().nth(7).and_then(|f| f.parse().ok()).unwrap_or(0)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The command line: up to three numbers and the one flag.
struct Args {
    agents: usize,
    frameworks: usize,
    rounds: usize,
    every_round: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut numbers = Vec::new();
    let mut every_round = false;
    for arg in std::env::args().skip(1) {
        if arg == "--every-round" {
            every_round = true;
        } else if arg.starts_with('-') {
            return Err(format!("unknown flag `{arg}`"));
        } else {
            numbers.push(arg.parse::<usize>().map_err(|e| format!("`{arg}` is not a count: {e}"))?);
        }
    }
    if numbers.len() > 3 {
        return Err(format!("{} numbers given, at most 3 taken", numbers.len()));
    }
    let at = |i: usize, default| numbers.get(i).copied().unwrap_or(default);
    let args = Args { agents: at(0, 10_000), frameworks: at(1, 1_000), rounds: at(2, 100), every_round };
    if args.rounds == 0 {
        return Err("rounds must be at least 1".to_string());
    }
    Ok(args)
}

/// One round as measured.
struct Round {
    wall: Duration,
    cpu: Duration,
    faults: u64,
}

fn main() -> ExitCode {
    let Args { agents, frameworks, rounds, every_round } = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("decline_offers: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let setup = Instant::now();
    let mut w = DeclineOffers::new(agents, frameworks);
    println!("DeclineOffers {agents} agents x {frameworks} frameworks: setup {:.1} ms", ms(setup.elapsed()));
    let base = rss();
    let mut measured: Vec<Round> = Vec::with_capacity(rounds);
    // A fixed-key SipHash: the same cycles give the same digest in any build
    // made by the same toolchain.
    let mut grants_digest = DefaultHasher::new();
    for round in 0..rounds {
        let faults_before = minor_faults();
        let (start, cpu_start) = (Instant::now(), cpu_ns());
        let cycle = w.cycle();
        let (took, cpu) = (start.elapsed(), Duration::from_nanos(cpu_ns() - cpu_start));
        let faults = minor_faults().saturating_sub(faults_before);
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
        w.decline();
        measured.push(Round { wall: took, cpu, faults });
        let per_filter = (rss() - base) as f64 / w.live_filters.max(1) as f64;
        if !every_round && (round < 3 || round % 10 == 9 || round + 1 == rounds) {
            println!(
                "round {round:>3}: cycle {:>8.2} ms ({:>7.2} ms on CPU), {offers} offers; {} live filters, {per_filter:.0} B each",
                ms(took),
                ms(cpu),
                w.live_filters
            );
        }
    }
    if every_round {
        println!("round   cpu_ms  wall_ms  minor_faults");
        for (round, r) in measured.iter().enumerate() {
            println!("{round:>5} {:>8.2} {:>8.2} {:>13}", ms(r.cpu), ms(r.wall), r.faults);
        }
    }
    let per_filter = (rss() - base) as f64 / w.live_filters.max(1) as f64;
    let walls = measured.iter().map(|r| r.wall).collect();
    let cpus = measured.iter().map(|r| r.cpu).collect();
    for (what, mut ts) in [("wall", walls), ("on CPU", cpus)] {
        let ts: &mut Vec<Duration> = &mut ts;
        ts.sort();
        println!(
            "rounds 0..={} ({what}): min {:.2} ms, median {:.2} ms, max {:.2} ms",
            rounds - 1,
            ms(ts[0]),
            ms(ts[ts.len() / 2]),
            ms(ts[ts.len() - 1]),
        );
    }
    let faults: u64 = measured.iter().map(|r| r.faults).sum();
    println!("minor page faults during the cycles: {faults}");
    println!("{} live filters, {per_filter:.0} B per filter (resident set growth)", w.live_filters);
    println!("digest of every round's cycle: {:016x}", grants_digest.finish());
    ExitCode::SUCCESS
}
