//! `mesocosm sweep FILE --seeds A..B [-j N] [--shard K/N] [--out PATH]` and
//! `mesocosm sweep merge FILE...`: the shell around [`crate::sweep`].
//!
//! stdout gets the summary only, the same for any `-j` and any sharding;
//! stderr gets the progress bar (when it is a terminal) and one timing line.

use super::{Stdout, TransportArg};
use crate::registry::Registry;
use crate::scenario;
use crate::sweep::pool;
use crate::sweep::results;
use crate::sweep::shard::{SeedRange, Shard};
use crate::sweep::{self, SeedResult, Status, Sweep, Timing};
use clap::Subcommand;
use indicatif::{ProgressBar, ProgressStyle};
use mesocosm_sim::Transport;
use std::io::{IsTerminal, Write};
use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(clap::Args)]
#[command(
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true,
    after_help = "Each seed is an ordinary `mesocosm run FILE --seed S`; a failing seed is listed with that \
command, which replays it exactly. --shard K/N (K from 0 to N-1) takes every N-th seed from the K-th, so N \
machines can each run one shard (a Kubernetes Indexed Job: --shard $JOB_COMPLETION_INDEX/N) and \
`mesocosm sweep merge` joins their --out files into the summary one machine would print.\n\n\
Exit status: 0 every run passed; 1 some run failed (or panicked); 2 bad input (a flag, the scenario \
file, or result files that are not the shards of one sweep)."
)]
pub(super) struct SweepArgs {
    #[command(subcommand)]
    merge: Option<SweepCommand>,
    /// The scenario file (TOML).
    #[arg(required = true, value_hint = clap::ValueHint::FilePath)]
    file: Option<PathBuf>,
    /// The seeds: A..B, both ends included (1..200 is 200 seeds), at most 1,000,000.
    #[arg(long, required = true, value_name = "A..B")]
    seeds: Option<SeedRange>,
    /// Worker threads, each running one seed at a time (default: every core).
    #[arg(short = 'j', long, value_name = "N", value_parser = pool::parse_jobs)]
    jobs: Option<NonZeroUsize>,
    /// Run only shard K of N (K counts from 0): the seeds whose index in the range is K modulo N.
    #[arg(long, value_name = "K/N", default_value = "0/1")]
    shard: Shard,
    /// Write the result file (JSON Lines: a header, one record per seed, an end record) to PATH.
    #[arg(long, value_name = "PATH")]
    out: Option<PathBuf>,
    /// How messages travel in each run (the replay commands say so too).
    #[arg(long, value_enum, default_value_t = TransportArg::Grpc)]
    transport: TransportArg,
    /// Run every seed over each of these transports (comma-separated, e.g.
    /// grpc,memory) and fail a seed whose trace differs between them, naming the
    /// first record that differs. The first gives the verdicts and the replay commands.
    #[arg(long, value_enum, value_name = "LIST", value_delimiter = ',', conflicts_with = "transport")]
    transports: Vec<TransportArg>,
}

#[derive(Subcommand)]
enum SweepCommand {
    /// Join the result files of every shard of one sweep (`--out` of each
    /// `--shard K/N`) and print the summary one unsharded sweep prints.
    Merge(MergeArgs),
}

#[derive(clap::Args)]
struct MergeArgs {
    /// The shards' result files, in any order.
    #[arg(required = true, value_hint = clap::ValueHint::FilePath)]
    files: Vec<PathBuf>,
}

/// `mesocosm sweep …`.
pub(super) fn sweep(args: SweepArgs, registry: &Registry) -> ExitCode {
    if let Some(SweepCommand::Merge(m)) = args.merge {
        return merge(m);
    }
    // clap requires both when there is no subcommand.
    let (Some(file), Some(seeds)) = (args.file, args.seeds) else {
        eprintln!("error: sweep needs FILE and --seeds A..B");
        return ExitCode::from(2);
    };
    let bytes = match std::fs::read(&file) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error: cannot read {}: {e}", file.display());
            return ExitCode::from(2);
        }
    };
    let scenario = match scenario::load_with(&file, registry) {
        Ok(s) => s,
        Err(diags) => {
            eprintln!("{diags}");
            return ExitCode::from(2);
        }
    };
    for w in &scenario.warnings {
        eprintln!("{}", crate::diag::Warning(w));
    }
    let (transport, compared) = match transports(args.transport, &args.transports) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let sweep =
        Sweep::new(&file.to_string_lossy(), &bytes, &scenario, seeds, args.shard, transport).comparing(compared);
    // Created before the runs, so a path that cannot be written is found at once.
    let mut out = match &args.out {
        Some(p) => match std::fs::File::create(p) {
            Ok(f) => Some((p, std::io::BufWriter::new(f))),
            Err(e) => {
                eprintln!("error: --out: cannot create {}: {e}", p.display());
                return ExitCode::from(2);
            }
        },
        None => None,
    };
    let jobs = args.jobs.unwrap_or_else(pool::all_cores);
    let bar = progress_bar(sweep.shard.len_of(sweep.seeds.len()));
    let (passed, failed) = (AtomicU64::new(0), AtomicU64::new(0));
    let ran = sweep.run(&scenario, registry, jobs, |r: &SeedResult| {
        let n = if r.status == Status::Passed { &passed } else { &failed };
        n.fetch_add(1, Ordering::Relaxed);
        bar.set_message(format!(
            "{} passed, {} failed",
            passed.load(Ordering::Relaxed),
            failed.load(Ordering::Relaxed)
        ));
        bar.inc(1);
    });
    bar.finish_and_clear();
    let (results, timing) = match ran {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {}: {e}", file.display());
            return ExitCode::from(2);
        }
    };
    if let Some((p, w)) = &mut out
        && let Err(e) = results::write(w, &sweep, &results, &timing)
    {
        eprintln!("error: --out: writing {}: {e}", p.display());
        return ExitCode::from(2);
    }
    finish(&sweep, &results, &timing, "sweep")
}

/// The transport that gives the verdicts, and the others compared with it:
/// `--transports` when given (each at most once), else `--transport` alone.
fn transports(single: TransportArg, list: &[TransportArg]) -> Result<(Transport, Vec<Transport>), String> {
    let Some((first, rest)) = list.split_first() else {
        return Ok((single.into(), Vec::new()));
    };
    let mut seen: Vec<Transport> = vec![(*first).into()];
    for t in rest {
        let t: Transport = (*t).into();
        if seen.contains(&t) {
            return Err(format!("--transports: {} is listed twice", sweep::compare::transport_word(t)));
        }
        seen.push(t);
    }
    let first = seen.remove(0);
    Ok((first, seen))
}

fn merge(args: MergeArgs) -> ExitCode {
    let inputs = args.files.into_iter().map(|p| match std::fs::File::open(&p) {
        Ok(f) => Ok((p, std::io::BufReader::new(f))),
        Err(e) => Err(format!("{}: cannot read: {e}", p.display())),
    });
    match results::merge(inputs) {
        Ok(m) => finish(&m.sweep, &m.results, &m.timing, "merge"),
        Err(e) => {
            eprintln!("error: sweep merge: {e}");
            ExitCode::from(2)
        }
    }
}

/// The summary on stdout, the timing on stderr, the exit status.
fn finish(sweep: &Sweep, results: &[SeedResult], timing: &Timing, what: &str) -> ExitCode {
    let mut out = Stdout::default();
    if let Err(e) = sweep::summary(sweep, results, &mut out).and_then(|()| out.flush()) {
        eprintln!("error: writing the summary: {e}");
        return ExitCode::from(2);
    }
    eprintln!("{}", timing_line(timing, what));
    ExitCode::from(sweep::exit_code(results))
}

/// Wall-clock figures, kept off stdout: `sweep` measures them, `merge` sums
/// the shards' (so its wall time is machine-time, not elapsed time).
fn timing_line(t: &Timing, what: &str) -> String {
    let wall = t.wall.as_secs_f64();
    let per_minute = t.per_minute();
    if t.shards > 1 {
        format!(
            "{what}: {} runs from {} shards; {wall:.1} s of wall time summed over the shards ({per_minute:.0} runs per \
             shard-minute), {:.1} s of run time",
            t.runs,
            t.shards,
            t.run_time.as_secs_f64()
        )
    } else {
        format!(
            "{what}: {} runs on {} thread(s) in {wall:.1} s ({per_minute:.0} runs per minute), {:.1} s of run time",
            t.runs,
            t.jobs,
            t.run_time.as_secs_f64()
        )
    }
}

/// Seeds done, passed, failed and runs/s on stderr, only when a person can
/// see it: never in a pipe, a CI log or a file.
fn progress_bar(len: u64) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    let style = ProgressStyle::with_template("{bar:30} {pos}/{len} seeds, {msg} ({per_sec}, eta {eta})")
        .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar.set_message("0 passed, 0 failed");
    bar
}
