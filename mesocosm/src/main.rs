//! `mesocosm`: run a scenario of a simulated Mesos + Spark cluster.
//!
//! The whole CLI is [`mesocosm::cli::main_with`]; this binary gives it the
//! built-in parts. A binary of your own that registers more is the same CLI.

use mesocosm::registry::Registry;
use std::process::ExitCode;

/// mimalloc rather than the system's malloc. A run allocates and frees a
/// protobuf message, its HTTP/2 frames and its tokio task wakeups for every
/// message it carries; with glibc's malloc those were ~19% of a 10,000-agent
/// run's CPU samples, and mimalloc's thread-local free lists take ~25% off the
/// CPU time of a checked Spark run (docs/benchmarks.md, "Session 24"). It does
/// not change a trace: no code orders anything by address.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    mesocosm::cli::main_with(Registry::default())
}
