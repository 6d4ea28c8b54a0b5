//! Sweeps: one scenario run over many seeds, in parallel, possibly split
//! over machines, and judged as a whole.
//!
//! ```text
//!  --seeds 1..200 ──▶ SeedRange ──(--shard K/N)──▶ this process's seeds
//!       ──pool::map(-j threads)──▶ runner::run_with(scenario, seed) per seed ──▶ SeedResult
//!       ──sorted by seed──▶ Summary (stdout)  +  results file (JSON Lines)
//!  results of shards 0/N … N-1/N ──results::merge──▶ the same Summary one process prints
//! ```
//!
//! A sweep adds no way of running a cluster: each seed is an ordinary
//! `mesocosm run FILE --seed S` through [`crate::runner::run_with`], with no
//! timeline, so a failing seed's replay command reproduces it exactly.
//!
//! Determinism: a run's result depends on the scenario and the seed alone, and
//! everything printed is sorted by seed, so the summary is the same for any
//! `-j` and any sharding. Wall-clock figures never enter the summary or the
//! per-seed records: they go to stderr and to the result file's last record.
//!
//! # Layout
//! - [`shard`]: `--seeds A..B` and `--shard K/N` as values (reusable by any
//!   command that splits numbered items over machines).
//! - [`pool`]: `-j N` worker threads, results in item order (reusable too).
//! - [`results`]: the JSON Lines result file, written and merged.
//! - [`compare`]: `--transports grpc,memory`, each seed over several
//!   transports, a difference in their traces a failure naming its first record.
//! - this file: running a sweep and its summary.

pub mod compare;
pub mod pool;
pub mod results;
pub mod shard;

use crate::registry::Registry;
use crate::runner::{self, Report, RunError, RunOptions};
use crate::scenario::Scenario;
use mesocosm_sim::Transport;
use sha2::{Digest, Sha256};
use shard::{SeedRange, Shard};
use std::io::Write;
use std::num::NonZeroUsize;
use std::time::{Duration, Instant};

/// What a sweep runs: which file (its path as the user wrote it, and a hash of
/// its bytes), which seeds, which shard of them, over which transport.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sweep {
    /// The scenario file's path as given on the command line: replay commands use it.
    pub file: String,
    /// The scenario's `name`.
    pub name: String,
    /// SHA-256 of the file's bytes, hex: merge refuses shards of different files.
    pub sha256: String,
    pub seeds: SeedRange,
    pub shard: Shard,
    /// The transport whose run gives each seed's verdict and digest (and replays it).
    pub transport: Transport,
    /// The other transports each seed also runs over (`--transports`): a seed
    /// whose digest differs on one of them fails, naming the first record that
    /// differs. Empty: one run per seed.
    pub compared: Vec<Transport>,
}

/// How one seed's run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    /// Every check and expectation held (`mesocosm run` exits 0).
    Passed,
    /// A check or expectation failed, or the run stopped on a livelock or a
    /// transport refusal (exit 1).
    Failed,
    /// An actor panicked: a bug in mesocosm, not a verdict on the cluster (exit 3).
    Panicked,
}

impl Status {
    /// The word the result file uses.
    pub fn word(self) -> &'static str {
        match self {
            Status::Passed => "passed",
            Status::Failed => "failed",
            Status::Panicked => "panicked",
        }
    }

    /// The status a result file's word names.
    pub fn from_word(w: &str) -> Option<Status> {
        [Status::Passed, Status::Failed, Status::Panicked].into_iter().find(|s| s.word() == w)
    }
}

/// One seed's result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeedResult {
    pub seed: u64,
    pub status: Status,
    /// The run's trace digest.
    pub digest: String,
    /// The first failing line of `mesocosm run`'s summary ([`Report::first_failure`]).
    pub failure: Option<String>,
}

impl SeedResult {
    /// A run's report, boiled down.
    pub fn of(seed: u64, report: &Report) -> SeedResult {
        let status = match report.exit_code() {
            0 => Status::Passed,
            3 => Status::Panicked,
            _ => Status::Failed,
        };
        SeedResult { seed, status, digest: report.digest.clone().unwrap_or_default(), failure: report.first_failure() }
    }
}

impl SeedResult {
    /// This seed's digest differs over `other`: it fails, and why says where
    /// the traces part (the runs again, with their traces kept). That comes
    /// before any other failure: a verdict that depends on the transport is
    /// not a verdict on the cluster.
    fn differs(
        &mut self,
        scenario: &Scenario,
        registry: &Registry,
        transport: Transport,
        other: Transport,
    ) -> Result<(), RunError> {
        let why = match compare::explain(scenario, registry, self.seed, transport, other)? {
            Some(difference) => difference.to_string(),
            // The digests differed and the traces now agree: the runs are not
            // even deterministic on one transport.
            None => format!(
                "the digest differs between {} and {}, and a second run of each gave the same traces: a run \
                 that does not replay",
                compare::transport_word(transport),
                compare::transport_word(other)
            ),
        };
        if self.status == Status::Passed {
            self.status = Status::Failed;
        }
        self.failure = Some(why);
        Ok(())
    }
}

/// Wall-clock figures of a sweep (or the sum of a merge's shards): never in
/// the summary, which must not depend on the machine.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Timing {
    pub runs: u64,
    /// From the first run's start to the last run's end (summed over shards in a merge).
    pub wall: Duration,
    /// The runs' own durations, summed (CPU-ish time: it grows with `-j`, wall does not).
    pub run_time: Duration,
    /// Threads (summed over shards in a merge).
    pub jobs: u64,
    /// How many result files this sums (1 for a sweep).
    pub shards: u64,
}

impl Timing {
    /// Runs per minute of wall time.
    pub fn per_minute(&self) -> f64 {
        let s = self.wall.as_secs_f64();
        if s > 0.0 { self.runs as f64 * 60.0 / s } else { 0.0 }
    }
}

impl Sweep {
    /// A sweep of `scenario` (read from `file`, whose bytes are `bytes`).
    pub fn new(
        file: &str,
        bytes: &[u8],
        scenario: &Scenario,
        seeds: SeedRange,
        shard: Shard,
        transport: Transport,
    ) -> Sweep {
        Sweep {
            file: file.to_string(),
            name: scenario.name.clone(),
            sha256: hex(&Sha256::digest(bytes)),
            seeds,
            shard,
            transport,
            compared: Vec::new(),
        }
    }

    /// Also run every seed over `others` and fail a seed whose trace differs
    /// there (see [`compare`]).
    pub fn comparing(mut self, others: Vec<Transport>) -> Sweep {
        self.compared = others;
        self
    }

    /// This shard's seeds, in order.
    pub fn seeds(&self) -> Vec<u64> {
        self.shard.indices(self.seeds.len()).map(|i| self.seeds.seed(i)).collect()
    }

    /// The command that replays one seed's run, exactly.
    pub fn replay(&self, seed: u64) -> String {
        let transport = match self.transport {
            Transport::Grpc => "",
            Transport::Memory => " --transport memory",
        };
        format!("mesocosm run {} --seed {seed}{transport}", shell_word(&self.file))
    }

    /// Run this shard's seeds on `jobs` threads, each an ordinary run of
    /// `scenario` with that seed; `done` sees each result as it comes (in no
    /// particular order). The results are sorted by seed. A [`RunError`] is bad
    /// input (the scenario cannot be simulated) and stops the sweep.
    pub fn run(
        &self,
        scenario: &Scenario,
        registry: &Registry,
        jobs: NonZeroUsize,
        done: impl Fn(&SeedResult) + Sync,
    ) -> Result<(Vec<SeedResult>, Timing), RunError> {
        let seeds = self.seeds();
        let start = Instant::now();
        let timed = pool::map(
            &seeds,
            jobs,
            |&seed| {
                let began = Instant::now();
                let opts = RunOptions { seed: Some(seed), transport: self.transport, ..RunOptions::default() };
                let report = runner::run_with(scenario, opts, registry)?;
                let mut result = SeedResult::of(seed, &report);
                for &other in &self.compared {
                    let opts = RunOptions { seed: Some(seed), transport: other, ..RunOptions::default() };
                    let digest = runner::run_with(scenario, opts, registry)?.digest.unwrap_or_default();
                    if digest != result.digest {
                        result.differs(scenario, registry, self.transport, other)?;
                        break;
                    }
                }
                Ok::<_, RunError>((result, began.elapsed()))
            },
            |(r, _)| done(r),
        )?;
        let timing = Timing {
            runs: timed.len() as u64,
            wall: start.elapsed(),
            run_time: timed.iter().map(|(_, d)| *d).sum(),
            jobs: jobs.get().min(seeds.len()).max(1) as u64,
            shards: 1,
        };
        Ok((timed.into_iter().map(|(r, _)| r).collect(), timing))
    }
}

/// A sweep's summary: how many passed, and for each failing seed (by seed)
/// why and the command that replays it. `results` are sorted by seed.
pub fn summary(sweep: &Sweep, results: &[SeedResult], out: &mut dyn Write) -> std::io::Result<()> {
    let shard = if sweep.shard.is_whole() {
        String::new()
    } else {
        format!(", shard {} ({} of {} seeds)", sweep.shard, results.len(), sweep.seeds.len())
    };
    let transports = if sweep.compared.is_empty() {
        String::new()
    } else {
        let all: Vec<&str> = std::iter::once(sweep.transport)
            .chain(sweep.compared.iter().copied())
            .map(compare::transport_word)
            .collect();
        format!(", digests compared over {}", all.join(", "))
    };
    writeln!(out, "sweep: {} ({}), seeds {}{shard}{transports}", sweep.file, sweep.name, sweep.seeds)?;
    let failed: Vec<&SeedResult> = results.iter().filter(|r| r.status != Status::Passed).collect();
    let passed = results.len() - failed.len();
    if failed.is_empty() {
        writeln!(out, "passed: {passed} of {} runs", results.len())?;
    } else {
        let seeds: Vec<String> = failed.iter().map(|r| r.seed.to_string()).collect();
        writeln!(
            out,
            "passed: {passed} of {} runs; failed: {} (seeds {})",
            results.len(),
            failed.len(),
            seeds.join(", ")
        )?;
    }
    for r in &failed {
        let why = r.failure.as_deref().unwrap_or("(no failing line recorded)");
        writeln!(out, "  seed {} {}: {why}", r.seed, r.status.word())?;
        writeln!(out, "    replay: {}", sweep.replay(r.seed))?;
    }
    writeln!(out, "sweep digest: {}", sweep_digest(results))
}

/// One fingerprint of every run: SHA-256 over `seed status digest` lines in
/// seed order. Two sweeps (or a sweep and a merge) that print the same one ran
/// the same traces.
pub fn sweep_digest(results: &[SeedResult]) -> String {
    let mut h = Sha256::new();
    for r in results {
        h.update(format!("{} {} {}\n", r.seed, r.status.word(), r.digest));
    }
    hex(&h.finalize())
}

/// The exit status of a sweep: 0 every run passed, 1 some did not.
pub fn exit_code(results: &[SeedResult]) -> u8 {
    if results.iter().all(|r| r.status == Status::Passed) { 0 } else { 1 }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `s` as one word for a POSIX shell: as is when it is plainly safe, else in
/// single quotes.
fn shell_word(s: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_-./+,:=@%".contains(c);
    if !s.is_empty() && s.chars().all(plain) { s.to_string() } else { format!("'{}'", s.replace('\'', r"'\''")) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replay_commands_quote_paths_a_shell_would_split() {
        assert_eq!(shell_word("scenarios/spark-pi.toml"), "scenarios/spark-pi.toml");
        assert_eq!(shell_word("my dir/it's.toml"), r"'my dir/it'\''s.toml'");
        assert_eq!(shell_word(""), "''");
    }
}
