//! `mesocosm chaos`, driven through the real binary: it passes on library
//! scenarios, finds a planted fault-sensitive bug, shrinks it to one fault,
//! writes a file that `mesocosm run` replays to the same failure, gives the
//! same answer whatever `-j` and `--shard`, and refuses bad flags with exit 2.

mod common;

use common::{library, mesocosm, out_dir, text};
use std::path::PathBuf;

/// The planted bug: an app whose deadline holds only while it keeps both executors.
fn deadline() -> String {
    concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/chaos-deadline.toml").to_string()
}

/// The value after `prefix` on the first stdout line that starts with it.
fn line_after<'a>(out: &'a str, prefix: &str) -> &'a str {
    out.lines().find_map(|l| l.strip_prefix(prefix)).unwrap_or_else(|| panic!("no `{prefix}` line in:\n{out}"))
}

#[test]
fn chaos_passes_on_library_scenarios() {
    let dir = out_dir("chaos-library");
    // Two scenarios whose expectations are about outcomes (who gets what
    // share, that both apps finish), not the healthy run's exact counts.
    for (file, cases) in [("roles-weights.toml", "4"), ("two-apps-drf.toml", "3")] {
        let f = library(file);
        let out =
            mesocosm(&["chaos", f.to_str().unwrap(), "--cases", cases, "-j", "2", "--out", dir.to_str().unwrap()]);
        let stdout = text(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{file}:\n{stdout}\n{}", text(&out.stderr));
        assert!(stdout.contains(&format!("passed: {cases} of {cases}")), "{stdout}");
    }
}

#[test]
fn chaos_finds_the_planted_bug_shrinks_it_to_one_fault_and_the_file_replays_it() {
    let dir = out_dir("chaos-planted");
    let out = mesocosm(&["chaos", &deadline(), "--cases", "4", "-j", "2", "--out", dir.to_str().unwrap()]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{}", text(&out.stderr));
    let path = PathBuf::from(line_after(&stdout, "minimal scenario: "));
    let replay = line_after(&stdout, "replay: ");
    assert_eq!(replay, format!("mesocosm run {} --seed 7", path.display()));
    // The failure, as chaos saw it on the shrunk case: the line after "shrunk from …".
    let shrunk = stdout.lines().position(|l| l.contains(", shrunk from ")).expect("a shrink line");
    let failure = stdout.lines().nth(shrunk + 1).expect("the failure").trim();
    assert!(failure.starts_with("expect FAILED: ") && failure.contains("finishes before 14s"), "{failure}");

    // The file: the user's scenario, its header, exactly one drawn fault, the failure quoted.
    let file = std::fs::read_to_string(&path).expect("the minimal scenario is written");
    assert!(file.starts_with("# mesocosm chaos: case "), "{file}");
    assert!(file.contains(&format!("# Replay: {replay}")), "{file}");
    assert!(file.contains(&std::fs::read_to_string(deadline()).unwrap()), "the user's scenario is kept verbatim");
    let drawn = file.split("# ---- mesocosm chaos, case").nth(1).expect("the drawn faults");
    assert_eq!(drawn.matches("[[faults]]").count(), 1, "shrunk to one fault:\n{drawn}");
    assert!(file.contains(&format!("# {failure}")), "the failure is quoted:\n{file}");

    // `mesocosm run <file> --seed 7` (gRPC, the default transport) fails the same way.
    let run = mesocosm(&["run", path.to_str().unwrap(), "--seed", "7", "--quiet"]);
    let run_out = text(&run.stdout);
    assert_eq!(run.status.code(), Some(1), "{run_out}");
    assert!(run_out.lines().any(|l| l == failure), "replay prints `{failure}`:\n{run_out}");
}

#[test]
fn chaos_answers_the_same_whatever_jobs_and_shards() {
    let dir = out_dir("chaos-shards");
    let d = dir.to_str().unwrap();
    let run = |extra: &[&str]| {
        let mut args = vec!["chaos", "--cases", "6", "--out", d];
        let file = deadline();
        args.push(&file);
        args.extend_from_slice(extra);
        let out = mesocosm(&args);
        text(&out.stdout)
    };
    let one = run(&["-j", "1"]);
    assert_eq!(one, run(&["-j", "2"]), "-j changes nothing");
    let failed = |out: &str| -> Vec<String> {
        out.lines().filter(|l| l.starts_with("case ") && l.contains(" FAILED ")).map(String::from).collect()
    };
    let mut sharded: Vec<String> = ["0/2", "1/2"].iter().flat_map(|s| failed(&run(&["--shard", s]))).collect();
    sharded.sort();
    let mut whole = failed(&one);
    whole.sort();
    assert!(!whole.is_empty(), "{one}");
    assert_eq!(sharded, whole, "two shards fail exactly the cases one run fails");
}

#[test]
fn bad_flags_and_short_runs_exit_2_naming_the_flag() {
    let f = deadline();
    for (args, says) in [
        (vec!["--shard", "5/4"], "K must be < N"),
        (vec!["--shard", "1"], "--shard"),
        (vec!["--faults", "4..1"], "reversed"),
        (vec!["--faults", "0..2"], "at least 1"),
        (vec!["--cases", "0"], "--cases"),
        (vec!["-j", "0"], "--jobs"),
        (vec!["--converge", "soon"], "--converge"),
        (vec!["--converge", "6m"], "leaves no room for faults"),
    ] {
        let mut all = vec!["chaos", f.as_str()];
        all.extend(args.iter());
        let out = mesocosm(&all);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?} should say `{says}`: {stderr}");
    }
    let out = mesocosm(&["chaos", "no-such-file.toml"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
}
