//! `mesocosm`: run a scenario of a simulated Mesos + Spark cluster.
//!
//! The whole CLI is [`mesocosm::cli::main_with`]; this binary gives it the
//! built-in parts. A binary of your own that registers more is the same CLI.

use mesocosm::registry::Registry;
use std::process::ExitCode;

fn main() -> ExitCode {
    mesocosm::cli::main_with(Registry::default())
}
