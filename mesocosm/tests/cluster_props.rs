//! Whole-cluster properties over random clusters, workloads and fault
//! schedules, written on the public [`mesocosm::props`] module (its docs say
//! what is generated and how a failure is shrunk, written and replayed).
//!
//! Every run of a generated case must satisfy:
//!
//! 1. **invariants** ([`Case::check_invariants`]): no per-step actor invariant
//!    and no message-log invariant fails, except the implicit "app finishes"
//!    check of the apps the model lets fail;
//! 2. **liveness** ([`Case::check_liveness`]): every app that *must* finish
//!    exits 0; which apps must is decided conservatively from the generated
//!    numbers by `mesocosm::props::Model`, and the rendered TOML states it as
//!    `[[expect]] app = … finishes = true`, so a failing case's file checks itself;
//! 3. **replay** (the harness's `replay(true)`): two runs print the same
//!    summary, byte for byte, digest included.
//!
//! A failing case is shrunk; the minimal one is printed in full and written to
//! `$CARGO_TARGET_TMPDIR/<property>-<scenario seed>.toml`, whose header gives
//! the replay command. The minimal cases behind past failures are kept as
//! tests in `cluster_regressions.rs`.
//!
//! The number of cases is [`CASES`] per property unless `PROPTEST_CASES` is set;
//! the RNG seed is `mesocosm::props::DEFAULT_RNG_SEED` unless `PROPTEST_RNG_SEED`
//! is set. Measured on two cores: the whole file takes about 40 s in the debug
//! profile (a case runs in 0.25–0.35 s, both runs included; the two properties
//! run in parallel) and about 3 s in release. Far beyond CI's count, e.g.
//! `PROPTEST_CASES=1500 PROPTEST_RNG_SEED=1 cargo test --release -p mesocosm --test cluster_props faulty`,
//! a seed took about 24 min with three seeds in parallel on two cores shared
//! with other builds (1000 cases of both properties: 9–10 min).

use mesocosm::props::proptest::strategy::{Strategy, ValueTree};
use mesocosm::props::proptest::test_runner::TestRunner;
use mesocosm::props::{self, Case, FaultGen, Harness, PickGen};
use mesocosm::runner::{self, RunOptions};
use mesocosm::scenario;
use mesocosm_sim::Transport;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Cases per property when `PROPTEST_CASES` is not set: about 35 s of the
/// debug profile's 60 s budget (see the module docs).
const CASES: u32 = 96;

/// Runs the three properties over `strategy`, and checks the liveness
/// property was not vacuous.
fn run_property(name: &str, strategy: impl Strategy<Value = Case>) {
    // How many generated apps had to finish: a model that excuses every app
    // would make the liveness property vacuous.
    let (apps, must) = (AtomicUsize::new(0), AtomicUsize::new(0));
    Harness::new(name).cases(CASES).replay(true).dir(env!("CARGO_TARGET_TMPDIR")).check(strategy, |c, report| {
        let m = c.model();
        apps.fetch_add(m.may_fail.len(), Ordering::Relaxed);
        must.fetch_add(m.may_fail.iter().filter(|w| w.is_none()).count(), Ordering::Relaxed);
        c.check_invariants(report)?;
        c.check_liveness(report)
    });
    let (apps, must) = (apps.into_inner(), must.into_inner());
    eprintln!("{name}: {must} of {apps} generated apps had to finish, and did");
    assert!(apps < 20 || must * 10 >= apps, "{name}: only {must} of {apps} apps had to finish");
}

#[test]
fn healthy_clusters_keep_invariants_finish_what_fits_and_replay() {
    run_property("healthy-clusters", props::case(0..=0));
}

#[test]
fn faulty_clusters_keep_invariants_finish_what_fits_and_replay() {
    run_property("faulty-clusters", props::case(1..=4));
}

// ---------------------------------------------------------------------------
// The printed TOML really reproduces the run
// ---------------------------------------------------------------------------

/// A fixed generated case: the first one proptest's deterministic RNG draws
/// with two apps or more and a `probability` fault (whose generator is seeded
/// by the rule's `<file name>:<line>`, so a wrong file would show).
fn fixed_case() -> Case {
    let mut runner = TestRunner::deterministic();
    let strategy = props::case(2..=4);
    loop {
        let c = strategy.new_tree(&mut runner).expect("a case").current();
        let random_fault =
            c.faults.iter().any(|f| matches!(f, FaultGen::Message { pick: PickGen::Probability(_), .. }));
        if c.apps.len() >= 2 && random_fault {
            return c;
        }
    }
}

#[test]
fn the_printed_scenario_replays_through_the_cli() {
    let c = fixed_case();
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("cluster-props-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(format!("cluster-props-{}.toml", c.seed));
    let text = c.to_toml();
    std::fs::write(&file, &text).unwrap();

    // In process, as the harness runs a case: the text, parsed under the file's path.
    let s = scenario::parse(&file, &text).unwrap_or_else(|d| panic!("{d}\n{text}"));
    let opts = RunOptions { transport: Transport::Memory, ..RunOptions::default() };
    let report = runner::run(&s, opts).expect("the run");
    let digest = report.digest.clone().expect("a digest");

    let out = Command::new(env!("CARGO_BIN_EXE_mesocosm"))
        .args(["run", file.to_str().unwrap(), "--quiet", "--transport", "memory"])
        .output()
        .expect("run the mesocosm binary");
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        out.status.code(),
        Some(if report.passed() { 0 } else { 1 }),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stdout.lines().last(), Some(format!("digest: {digest}").as_str()), "{stdout}\n{text}");
    // `--quiet` prints only the verdict block, which ends the full summary.
    let summary = props::summary(&report);
    let verdict: String = report.verdict_lines().iter().map(|l| format!("{l}\n")).collect();
    assert!(summary.ends_with(&verdict), "{summary}");
    assert_eq!(stdout, verdict, "the CLI prints the in-process run's verdict");
    std::fs::remove_dir_all(&dir).ok();
}
