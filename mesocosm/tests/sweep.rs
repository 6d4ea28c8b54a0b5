//! `mesocosm sweep` and `mesocosm sweep merge`, through the real binary: a
//! library scenario passes over 200 seeds; the summary is the same for any
//! `-j` and when four shards run as separate processes and are merged; a
//! fixture whose deadline only some seeds meet reports exactly those seeds,
//! and each replay command reproduces its failure; bad flags and result files
//! that are not one sweep's shards exit 2 saying why; `--transports
//! grpc,memory` passes where the traces agree and names the first differing
//! record of a seed whose trace depends on the transport.
//!
//! Cost: a run over gRPC takes about 1 s of CPU in a debug build, over the
//! in-memory transport about 0.1 s (the same trace: `tests/cli.rs` checks every
//! library file on both), so the long sweeps here use `--transport memory`.

use std::path::{Path, PathBuf};
use std::process::Output;

mod common;

use common::{data, library, mesocosm, spawn_mesocosm, text};

fn out_dir() -> PathBuf {
    common::out_dir("sweep-rs")
}

fn path(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 path")
}

/// The fixture whose `app … finishes before 2500ms` only some seeds meet.
fn tight() -> PathBuf {
    data("tight-deadline.toml")
}

fn sweep(file: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["sweep", path(file)];
    args.extend_from_slice(extra);
    mesocosm(&args)
}

/// The seeds the summary lists as failed (`  seed S failed: …`), with the
/// failure and the replay command under each.
fn failures(summary: &str) -> Vec<(u64, String, String)> {
    let lines: Vec<&str> = summary.lines().collect();
    let mut out = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        if let Some(rest) = l.strip_prefix("  seed ") {
            let (seed, why) = rest.split_once(" failed: ").expect("`seed S failed: why`");
            let replay = lines[i + 1].trim().strip_prefix("replay: ").expect("a replay line under each failure");
            out.push((seed.parse().unwrap(), why.to_string(), replay.to_string()));
        }
    }
    out
}

/// The acceptance sweep of issue 13: `spark-pi` holds on seeds 1..200. Over the
/// in-memory transport to keep CI's cost down (about 20 s of CPU in a debug build).
#[test]
fn spark_pi_passes_over_200_seeds() {
    let o = sweep(&library("spark-pi.toml"), &["--seeds", "1..200", "--transport", "memory"]);
    let out = text(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{out}{}", text(&o.stderr));
    assert!(out.contains("passed: 200 of 200 runs"), "{out}");
    // Not a terminal: no progress bar, only the one timing line on stderr.
    let err = text(&o.stderr);
    assert_eq!(err.lines().count(), 1, "stderr: {err:?}");
    assert!(err.starts_with("sweep: 200 runs on ") && !err.contains('\r'), "stderr: {err:?}");
}

#[test]
fn the_summary_is_the_same_for_one_thread_and_two() {
    // The default transport (gRPC), as `mesocosm run` uses.
    let one = sweep(&tight(), &["--seeds", "1..6", "-j", "1"]);
    let two = sweep(&tight(), &["--seeds", "1..6", "-j", "2"]);
    assert_eq!(one.status.code(), Some(1), "some seeds miss the deadline: {}", text(&one.stdout));
    assert_eq!(text(&one.stdout), text(&two.stdout));
    assert!(text(&one.stderr).contains("on 1 thread(s)") && text(&two.stderr).contains("on 2 thread(s)"));
}

/// Four shards, run as four processes at once (as four machines would), each
/// writing its result file; merged in a scrambled order they print the summary
/// one unsharded sweep prints, byte for byte.
#[test]
fn four_shards_run_apart_and_merged_give_the_summary_of_one_sweep() {
    let dir = out_dir();
    let file = tight();
    let whole = sweep(&file, &["--seeds", "1..12", "--transport", "memory"]);
    assert_eq!(whole.status.code(), Some(1), "{}", text(&whole.stderr));
    let outs: Vec<PathBuf> = (0..4).map(|k| dir.join(format!("shard-{k}.jsonl"))).collect();
    let children: Vec<_> = (0..4)
        .map(|k| {
            let shard = format!("{k}/4");
            spawn_mesocosm(&[
                "sweep",
                path(&file),
                "--seeds",
                "1..12",
                "--transport",
                "memory",
                "-j",
                "1",
                "--shard",
                &shard,
                "--out",
                path(&outs[k]),
            ])
        })
        .collect();
    for (k, c) in children.into_iter().enumerate() {
        let o = c.wait_with_output().expect("a shard finishes");
        assert!(matches!(o.status.code(), Some(0 | 1)), "shard {k}: {}", text(&o.stderr));
        assert!(text(&o.stdout).contains(&format!("shard {k}/4 (3 of 12 seeds)")), "{}", text(&o.stdout));
    }
    let merged = mesocosm(&["sweep", "merge", path(&outs[2]), path(&outs[0]), path(&outs[3]), path(&outs[1])]);
    assert_eq!(text(&merged.stdout), text(&whole.stdout), "stderr: {}", text(&merged.stderr));
    assert_eq!(merged.status.code(), whole.status.code());
    assert!(text(&merged.stderr).starts_with("merge: 12 runs from 4 shards"), "{}", text(&merged.stderr));
    // The result file holds one record per seed of its shard: 1, 5, 9 for shard 0/4.
    let records: Vec<serde_json::Value> =
        std::fs::read_to_string(&outs[0]).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(records[0]["record"], "sweep");
    assert_eq!(records[0]["shard"], "0/4");
    let seeds: Vec<u64> = records[1..4].iter().map(|r| r["seed"].as_u64().unwrap()).collect();
    assert_eq!(seeds, [1, 5, 9]);
    assert_eq!(records[4]["record"], "end");
}

/// Each seed the sweep calls failed fails alone with the replay command it
/// printed, on the same expectation; each seed it does not list passes alone.
#[test]
fn failing_seeds_are_exactly_those_whose_run_fails_and_their_replays_reproduce_it() {
    let file = tight();
    let o = sweep(&file, &["--seeds", "1..12", "--transport", "memory"]);
    let summary = text(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{summary}");
    let failed = failures(&summary);
    assert!(!failed.is_empty() && failed.len() < 12, "the fixture must split the seeds: {summary}");
    let listed: Vec<String> = failed.iter().map(|(s, _, _)| s.to_string()).collect();
    assert!(
        summary.contains(&format!(
            "passed: {} of 12 runs; failed: {} (seeds {})",
            12 - failed.len(),
            failed.len(),
            listed.join(", ")
        )),
        "{summary}"
    );
    for seed in 1..=12u64 {
        match failed.iter().find(|(s, _, _)| *s == seed) {
            Some((_, why, replay)) => {
                assert!(why.starts_with("expect FAILED: ") && why.contains("app tight finishes before 2.5s"), "{why}");
                let words: Vec<&str> = replay.split(' ').collect();
                assert_eq!(&words[..2], ["mesocosm", "run"], "{replay}");
                let again = mesocosm(&words[1..]);
                assert_eq!(again.status.code(), Some(1), "seed {seed} replays to a failure");
                assert!(
                    text(&again.stdout).lines().any(|l| l == why),
                    "seed {seed}: {why} not in\n{}",
                    text(&again.stdout)
                );
            }
            None => {
                let s = seed.to_string();
                let again = mesocosm(&["run", path(&file), "--seed", &s, "--transport", "memory", "--quiet"]);
                assert_eq!(again.status.code(), Some(0), "seed {seed} passed in the sweep: {}", text(&again.stdout));
            }
        }
    }
}

#[test]
fn bad_flags_exit_2_naming_the_flag() {
    let file = library("spark-pi.toml");
    let huge = format!("0..{}", u64::MAX);
    let cases: &[(&[&str], &str, &str)] = &[
        (&["--seeds", "9..3"], "--seeds", "reversed"),
        (&["--seeds", ""], "--seeds", "not a range"),
        (&["--seeds", "5.."], "--seeds", "no last seed"),
        (&["--seeds", &huge], "--seeds", "at most 1000000"),
        (&["--seeds", "1..2", "--shard", "5/4"], "--shard", "no shard 5 of 4"),
        (&["--seeds", "1..2", "--shard", "4/4"], "--shard", "counts from 0"),
        (&["--seeds", "1..2", "--shard", "0/0"], "--shard", "0 shards"),
        (&["--seeds", "1..2", "-j", "0"], "--jobs", "at least 1"),
        (&[], "--seeds", "required"),
    ];
    for (flags, flag, why) in cases {
        let o = sweep(&file, flags);
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{flags:?}: {err}");
        assert!(err.contains(flag) && err.contains(why), "{flags:?} should name {flag} and say {why:?}: {err}");
        assert!(o.stdout.is_empty(), "{flags:?} ran something");
    }
    let o = mesocosm(&["sweep", "no-such-file.toml", "--seeds", "1..2"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("no-such-file.toml"), "{}", text(&o.stderr));
}

/// Merge takes the shards of one sweep, all of them, once each, finished.
#[test]
fn merge_refuses_files_that_are_not_every_shard_of_one_sweep() {
    let dir = out_dir().join("merge");
    std::fs::create_dir_all(&dir).unwrap();
    let file = tight();
    // A copy with one more comment: the same cluster, but not the same file.
    let other = dir.join("tight-copy.toml");
    std::fs::write(&other, format!("{}\n# a copy\n", std::fs::read_to_string(&file).unwrap())).unwrap();
    let shard = |f: &Path, seeds: &str, k: &str, name: &str| -> String {
        let out = dir.join(name);
        let o = sweep(f, &["--seeds", seeds, "--shard", k, "--transport", "memory", "--out", path(&out)]);
        assert!(matches!(o.status.code(), Some(0 | 1)), "{}", text(&o.stderr));
        path(&out).to_string()
    };
    let a = shard(&file, "1..2", "0/2", "a.jsonl");
    let b = shard(&file, "1..2", "1/2", "b.jsonl");
    let b_other_file = shard(&other, "1..2", "1/2", "b-other.jsonl");
    let b_other_range = shard(&file, "2..3", "1/2", "b-range.jsonl");
    let b_other_split = shard(&file, "1..2", "1/3", "b-split.jsonl");
    let truncated = dir.join("b-truncated.jsonl");
    let full = std::fs::read_to_string(&b).unwrap();
    std::fs::write(&truncated, full.lines().take(2).map(|l| format!("{l}\n")).collect::<String>()).unwrap();
    let ok = mesocosm(&["sweep", "merge", &b, &a]);
    assert!(matches!(ok.status.code(), Some(0 | 1)), "{}", text(&ok.stderr));
    assert!(text(&ok.stdout).contains("seeds 1..2\n"), "{}", text(&ok.stdout));
    let refusals: &[(&[&str], &str)] = &[
        (&[&a], "missing shard(s) 1/2"),
        (&[&a, &a], "overlapping shards"),
        (&[&a, &b_other_file], "scenario file (SHA-256 of its bytes) differ"),
        (&[&a, &b_other_range], "seed range differ"),
        (&[&a, &b_other_split], "number of shards differ"),
        (&[&a, path(&truncated)], "no `end` record"),
        (&[&a, path(&file)], "not a sweep result record"),
    ];
    for (files, why) in refusals {
        let mut args = vec!["sweep", "merge"];
        args.extend_from_slice(files);
        let o = mesocosm(&args);
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{files:?}: {err}");
        assert!(err.contains(why), "{files:?} should say {why:?}: {err}");
        assert!(o.stdout.is_empty(), "{files:?} printed a summary");
    }
}

/// `--transports grpc,memory`: every seed runs over both; where the traces
/// agree the sweep passes, says what it compared, and its result file keeps it
/// (a merge of shards that compared differently is refused).
#[test]
fn a_sweep_over_both_transports_passes_when_their_traces_agree() {
    let dir = out_dir().join("transports");
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("both.jsonl");
    let o = sweep(&library("spark-pi.toml"), &["--seeds", "1..2", "--transports", "grpc,memory", "--out", path(&out)]);
    let summary = text(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{summary}{}", text(&o.stderr));
    assert!(summary.contains("seeds 1..2, digests compared over grpc, memory\n"), "{summary}");
    assert!(summary.contains("passed: 2 of 2 runs"), "{summary}");
    let header: serde_json::Value =
        serde_json::from_str(std::fs::read_to_string(&out).unwrap().lines().next().unwrap()).unwrap();
    assert_eq!((header["transport"].as_str(), header["compared"][0].as_str()), (Some("grpc"), Some("memory")));
    let merged = mesocosm(&["sweep", "merge", path(&out)]);
    assert_eq!(text(&merged.stdout), summary, "{}", text(&merged.stderr));
    // The same sweep without the comparison is not a shard of it.
    let half = |k: &str, extra: &[&str], name: &str| {
        let p = dir.join(name);
        let mut args = vec!["--seeds", "1..2", "--shard", k, "--out", path(&p)];
        args.extend_from_slice(extra);
        let o = sweep(&library("spark-pi.toml"), &args);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
        p
    };
    let a = half("0/2", &["--transports", "grpc,memory"], "a.jsonl");
    let b = half("1/2", &[], "b.jsonl");
    let o = mesocosm(&["sweep", "merge", path(&a), path(&b)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("transports compared differ (memory vs none)"), "{}", text(&o.stderr));
}

/// A program whose behaviour depends on the transport (it writes a fault into
/// the trace over gRPC only): the trace-level bug `--transports` exists to catch.
struct TransportDependent(mesocosm_executor::Programs);

impl mesocosm_executor::Program for TransportDependent {
    fn name(&self) -> &str {
        "transport-dependent"
    }
    fn runs(&self, launch: &mesocosm_sim::Launch) -> bool {
        self.0.find(launch).is_some()
    }
    fn start(&self, world: &mesocosm_sim::World, agent: &mesocosm_sim::ActorId, launch: mesocosm_sim::Launch) {
        if world.transport() == mesocosm_sim::Transport::Grpc {
            world.record_fault("grpc-only", "transport-dependent", &format!("{} starts", launch.actor));
        }
        self.0.start(world, agent, launch);
    }
}

/// A seed whose trace depends on the transport fails the sweep, which names
/// the first record where the two traces part (the gRPC-only record) and each
/// side's, while its own run passes.
#[test]
fn a_seed_whose_trace_depends_on_the_transport_fails_naming_the_first_differing_record() {
    use mesocosm::sweep::shard::{SeedRange, Shard};
    use mesocosm::sweep::{Status, Sweep};
    use mesocosm_sim::Transport;
    let mut registry = mesocosm::registry::Registry::default();
    let stock = registry.programs().clone();
    registry.register_program(TransportDependent(stock));
    // Command tasks: their containers are the registry's programs' to run.
    let src = r#"
[scenario]
name = "transport-dependent"
until = "1m"

[[agents]]
name = "agent"
count = 1
resources = "cpus:2;mem:1024"

[[frameworks]]
kind = "sleep-tasks"
name = "batch"
[frameworks.config]
tasks = 2
cpus = 1
mem = 128
duration = "5s"
"#;
    let s = mesocosm::scenario::parse_with("transport-dependent.toml", src, &registry).expect("valid");
    let seeds: SeedRange = "3..3".parse().unwrap();
    let one = Sweep::new("transport-dependent.toml", src.as_bytes(), &s, seeds, Shard::WHOLE, Transport::Grpc);
    let both = one.clone().comparing(vec![Transport::Memory]);
    let jobs = std::num::NonZeroUsize::new(1).unwrap();
    let (alone, _) = one.run(&s, &registry, jobs, |_| {}).expect("the sweep");
    assert_eq!(alone[0].status, Status::Passed, "{:?}", alone[0].failure);
    let (compared, _) = both.run(&s, &registry, jobs, |_| {}).expect("the sweep");
    let r = &compared[0];
    assert_eq!((r.seed, r.status), (3, Status::Failed), "{:?}", r.failure);
    assert_eq!(r.digest, alone[0].digest, "the verdict and digest are gRPC's");
    let why = r.failure.as_deref().unwrap_or_default();
    assert!(why.starts_with("the trace differs between grpc and memory from record "), "{why}");
    let (grpc, memory) = why.split_once("; memory: ").expect("both sides");
    assert!(grpc.contains("grpc: {") && grpc.contains("\"fault\":\"grpc-only\""), "{why}");
    assert!(memory.starts_with('{') && !memory.contains("grpc-only"), "{why}");
    let mut summary = Vec::new();
    mesocosm::sweep::summary(&both, &compared, &mut summary).unwrap();
    let summary = String::from_utf8(summary).unwrap();
    assert!(summary.contains("failed: 1 (seeds 3)") && summary.contains(why), "{summary}");
}

#[test]
fn transports_listed_twice_or_beside_transport_exit_2() {
    let file = library("spark-pi.toml");
    for (flags, why) in [
        (&["--seeds", "1..2", "--transports", "grpc,grpc"][..], "--transports: grpc is listed twice"),
        (&["--seeds", "1..2", "--transports", "grpc,memory", "--transport", "memory"][..], "--transports"),
        (&["--seeds", "1..2", "--transports", "grpc,tcp"][..], "tcp"),
    ] {
        let o = sweep(&file, flags);
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{flags:?}: {err}");
        assert!(err.contains(why), "{flags:?} should say {why:?}: {err}");
        assert!(o.stdout.is_empty(), "{flags:?} ran something");
    }
}
