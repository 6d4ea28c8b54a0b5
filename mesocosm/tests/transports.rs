//! Same scenario, same seed ⇒ same digest on every transport, at more seeds
//! than each file's own (`tests/cli.rs` checks those): a failure found over
//! the cheap in-memory transport must replay over gRPC.
//!
//! Cost: a library file runs about 1.3 s of CPU over gRPC and 0.15 s in memory
//! in a debug build, so the sweep of the whole library over [`SEEDS`] runs on
//! two threads (about 50 s of wall time on two idle cores).

use mesocosm::runner::{self, RunOptions};
use mesocosm::scenario::{self, Scenario};
use mesocosm::sweep::pool;
use mesocosm_sim::Transport;
use std::num::NonZeroUsize;
use std::path::PathBuf;

mod common;

use common::library;

/// The seeds every library file runs at on both transports, beside its own
/// (which `tests/cli.rs` covers): one, so the whole test command stays well
/// inside CI's 20 minutes on 2 cores; `mesocosm sweep --transports
/// grpc,memory` is the tool for wider ranges.
const SEEDS: [u64; 1] = [1];

fn digest(s: &Scenario, seed: u64, transport: Transport) -> String {
    let opts = RunOptions { seed: Some(seed), transport, ..RunOptions::default() };
    let r = runner::run(s, opts).unwrap_or_else(|e| panic!("{} seed {seed}: {e}", s.name));
    r.digest.expect("a digest")
}

/// Each (file, seed) whose digests differ, with a line saying so.
fn differing(cases: &[(PathBuf, u64)]) -> Vec<String> {
    let jobs = NonZeroUsize::new(2).expect("two");
    let found = pool::map(
        cases,
        jobs,
        |(file, seed)| {
            let s = scenario::load(file).unwrap_or_else(|d| panic!("{d}"));
            let (g, m) = (digest(&s, *seed, Transport::Grpc), digest(&s, *seed, Transport::Memory));
            let name = file.file_name().unwrap().to_string_lossy().to_string();
            Ok::<_, ()>((g != m).then(|| format!("{name} seed {seed}: grpc {g}, memory {m}")))
        },
        |_| {},
    )
    .expect("the runs");
    found.into_iter().flatten().collect()
}

/// The seeds a sweep found differing before asks stopped holding their link for
/// the reply's round trip (an executor's StatusUpdate sent right after its
/// Heartbeat reached the driver one link latency later over gRPC than in memory).
#[test]
fn seeds_that_differed_when_an_ask_held_its_link_now_agree() {
    let cases: Vec<(PathBuf, u64)> = [
        ("dropped-status-update.toml", 53),
        ("dropped-status-update.toml", 94),
        ("agent-partition.toml", 20),
        ("agent-partition.toml", 28),
        ("agent-partition.toml", 44),
        ("agent-partition.toml", 98),
    ]
    .into_iter()
    .map(|(f, seed)| (library(f), seed))
    .collect();
    let differ = differing(&cases);
    assert!(differ.is_empty(), "different traces over gRPC and in memory: {differ:#?}");
}

#[test]
fn every_library_scenario_has_the_same_digest_on_both_transports_at_more_seeds() {
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios"));
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    assert!(files.len() > 20, "the library: {files:?}");
    let cases: Vec<(PathBuf, u64)> =
        files.iter().flat_map(|f| SEEDS.iter().map(move |&seed| (f.clone(), seed))).collect();
    let differ = differing(&cases);
    assert!(differ.is_empty(), "different traces over gRPC and in memory: {differ:#?}");
}
