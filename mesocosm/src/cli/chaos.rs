//! `mesocosm chaos FILE`: the flags, the progress bar and the summary
//! (the work is `crate::chaos`).

use crate::chaos::shard::{Shard, pool};
use crate::chaos::{CaseRun, Chaos, ChaosError, Config};
use crate::registry::Registry;
use std::io::{IsTerminal, Write};
use std::ops::RangeInclusive;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
#[command(after_help = "Exit status: 0 every case held; 1 a case failed (the shrunk scenario is written to \
--out, with the command that replays it), or the scenario fails without any drawn fault; 2 bad input \
(the file, or a flag: the message names it).")]
pub(super) struct ChaosArgs {
    /// The scenario file (TOML): its cluster and workload are kept, its
    /// faults kept and random ones added.
    #[arg(value_hint = clap::ValueHint::FilePath)]
    file: PathBuf,
    /// How many faults each case draws: `N` or `A..B` (inclusive), 1 to 16.
    #[arg(long, default_value = "1..4", value_parser = parse_faults)]
    faults: RangeInclusive<usize>,
    /// How many cases (fault schedules) to run: cases 0 to N-1.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u64).range(1..))]
    cases: u64,
    /// The seed of the case generator: the same seed draws the same cases.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Worker threads (default: every core).
    #[arg(short = 'j', long = "jobs", value_parser = clap::value_parser!(u64).range(1..))]
    jobs: Option<u64>,
    /// Run only the cases i with i mod N = K (0-based K), e.g. one task of a
    /// Kubernetes Indexed Job or a Slurm array.
    #[arg(long, value_name = "K/N", default_value = "0/1")]
    shard: Shard,
    /// Where the shrunk scenario of a failing case is written.
    #[arg(long, value_name = "DIR", default_value = "target/chaos")]
    out: PathBuf,
    /// Also draw the faults Mesos and Spark never recover from by design (a
    /// dropped ACCEPT or RunTaskMessage, lost offers without --offer_timeout,
    /// short agent partitions, a driver cut off from the master).
    #[arg(long)]
    all_faults: bool,
    /// The convergence window: every drawn fault is over this long before the
    /// scenario's `until`, so the cluster can recover before it is judged
    /// (default 5m: Spark's 120 s network and ask timeouts, Mesos's 75 s agent
    /// removal, with room to redo the work).
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = crate::units::parse_duration)]
    converge: std::time::Duration,
}

/// `--faults`: `N` or `A..B`, inclusive, 1 ≤ A ≤ B ≤ 16.
fn parse_faults(s: &str) -> Result<RangeInclusive<usize>, String> {
    let num = |t: &str| t.trim().parse::<usize>().map_err(|_| format!("`{t}` is not a whole number"));
    let (a, b) = match s.split_once("..") {
        Some((a, b)) => (num(a)?, num(b.trim_start_matches('='))?),
        None => (num(s)?, num(s)?),
    };
    if a > b {
        return Err(format!("`{s}` is reversed: write {b}..{a}"));
    }
    if a == 0 {
        return Err(format!("`{s}`: every case draws at least 1 fault (0 is the scenario itself: `mesocosm run`)"));
    }
    if b > 16 {
        return Err(format!("`{s}`: at most 16 faults a case"));
    }
    Ok(a..=b)
}

pub(super) fn chaos(args: ChaosArgs, registry: &Registry) -> ExitCode {
    let config = Config {
        faults: args.faults.clone(),
        cases: args.cases,
        seed: args.seed,
        shard: args.shard,
        out: args.out.clone(),
        all_faults: args.all_faults,
        converge: args.converge,
    };
    let chaos = match Chaos::new(&args.file, registry, config) {
        Ok(c) => c,
        Err(ChaosError::BadInput(e)) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
        Err(ChaosError::Baseline(e)) => {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    };
    let cases = chaos.cases();
    let jobs = args.jobs.map_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()), |j| j as usize);
    // A bar only for a person watching: never in a pipe or a CI log.
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new(cases.len() as u64);
        if let Ok(style) =
            indicatif::ProgressStyle::with_template("chaos {bar:40} {pos}/{len} cases {elapsed} (eta {eta})")
        {
            bar.set_style(style);
        }
        bar
    });
    let runs: Vec<CaseRun> = pool(
        &cases,
        jobs,
        |i| chaos.run_case(*i),
        || {
            if let Some(b) = &bar {
                b.inc(1);
            }
        },
    );
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let mut out = super::Stdout::default();
    let _ = writeln!(
        out,
        "chaos: {}, seed {}, {} of {} case(s) (shard {}), {}..={} fault(s) each, starting by {}s, over by {}s; \
         the last {}s converge",
        args.file.display(),
        args.seed,
        cases.len(),
        args.cases,
        args.shard,
        args.faults.start(),
        args.faults.end(),
        chaos.last_start_s(),
        chaos.heal_by_s(),
        chaos.converge_s()
    );
    let failed: Vec<&CaseRun> = runs.iter().filter(|r| r.failure.is_some()).collect();
    let _ = writeln!(out, "passed: {} of {}", runs.len() - failed.len(), runs.len());
    if failed.is_empty() {
        return ExitCode::SUCCESS;
    }
    for r in &failed {
        let _ = writeln!(out, "case {} FAILED ({} fault(s)): {}", r.case, r.faults, r.failure.as_deref().unwrap_or(""));
    }
    // The lowest failing case is shrunk: the same one whatever -j.
    let first = failed[0].case;
    let m = chaos.shrink(first);
    let _ = writeln!(out, "\ncase {first}, shrunk from {} to {} fault(s) in {} run(s):", m.drawn, m.faults, m.runs);
    for line in m.message.lines() {
        let _ = writeln!(out, "  {line}");
    }
    match &m.saved {
        Ok(()) => {
            let _ = writeln!(out, "minimal scenario: {}", m.path.display());
        }
        Err(e) => eprintln!("error: cannot write {}: {e}", m.path.display()),
    }
    let _ = writeln!(out, "replay: {}", m.replay);
    let _ = out.flush();
    ExitCode::from(1)
}

#[cfg(test)]
mod tests {
    use super::parse_faults;

    #[test]
    fn faults_ranges() {
        assert_eq!(parse_faults("1..4"), Ok(1..=4));
        assert_eq!(parse_faults("2"), Ok(2..=2));
        assert_eq!(parse_faults("1..=3"), Ok(1..=3));
        assert!(parse_faults("4..1").unwrap_err().contains("reversed"));
        assert!(parse_faults("0..2").is_err());
        assert!(parse_faults("1..99").is_err());
        assert!(parse_faults("x").is_err());
    }
}
