//! `mesocosm bench`, driven through the real binary at tiny sizes: each
//! workload prints every figure it promises, the counts it reports are the
//! workload's own (the same on every run), watching a run does not change it,
//! and a flag out of its bounds exits 2 naming the flag. Speed is measured,
//! never asserted.

mod common;

use common::{mesocosm, out_dir, text};
use mesocosm::bench::SorterArg;
use mesocosm::bench::spark::scenario_text;
use serde_json::Value;
use std::time::Duration;

/// Run `mesocosm bench` with `args`; its stdout, after checking it exited `code`.
fn bench(args: &[&str], code: i32) -> String {
    let mut all = vec!["bench"];
    all.extend_from_slice(args);
    let out = mesocosm(&all);
    assert_eq!(
        out.status.code(),
        Some(code),
        "{args:?}\nstdout:\n{}\nstderr:\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

fn json(args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.push("--json");
    serde_json::from_str(&bench(&all, 0)).expect("--json prints one JSON object")
}

/// The table row `label`, as its min / median / max cells.
fn row(out: &str, label: &str) -> Vec<String> {
    let line = out.lines().find(|l| l.starts_with(label)).unwrap_or_else(|| panic!("no row `{label}` in\n{out}"));
    let cells: Vec<String> =
        line[label.len()..].split("  ").map(str::trim).filter(|c| !c.is_empty()).map(String::from).collect();
    assert_eq!(cells.len(), 3, "{line}");
    cells
}

#[test]
fn the_offers_workload_prints_every_figure_over_both_transports() {
    for transport in ["grpc", "memory"] {
        let out = bench(
            &["--agents", "3", "--frameworks", "2", "--duration", "5s", "--runs", "2", "--transport", transport],
            0,
        );
        assert!(out.starts_with("mesocosm bench --workload offers: 3 agents, 2 frameworks, drf allocator"), "{out}");
        assert!(out.contains(&format!("{transport} transport")), "{out}");
        for label in [
            "wall time",
            "CPU time",
            "simulated ÷ wall",
            "offers/s (wall)",
            "allocation cycle p50",
            "allocation cycle p90",
            "allocation cycle p99",
            "allocation cycle max",
            "peak RSS",
            "RSS growth per agent",
        ] {
            let cells = row(&out, label);
            assert!(cells.iter().all(|c| c != "—"), "{label} was not measured: {cells:?}");
        }
        // The workload is deterministic: every run makes the same offers and messages.
        for label in ["messages", "offers made", "allocation cycles", "virtual time reached"] {
            let cells = row(&out, label);
            assert!(cells[0] == cells[2], "{label} differs between runs: {cells:?}");
        }
        assert_eq!(row(&out, "virtual time reached")[0], "5.000 s");
        assert_ne!(row(&out, "offers made")[0], "0", "the frameworks were offered the agents");
    }
}

#[test]
fn the_decline_workload_piles_up_the_filters_mesos_does() {
    // 10 agents, 3 frameworks, 5 rounds: each round every framework refuses
    // what it was offered forever, so after 3 rounds every framework has
    // refused every agent and nothing more is offered.
    let v = json(&["--workload", "decline", "--agents", "10", "--frameworks", "3", "--duration", "5s", "--runs", "3"]);
    assert_eq!(v["workload"], "decline");
    let s = &v["summary"];
    assert_eq!(s["live_filters"]["min"], 30.0);
    assert_eq!(s["live_filters"]["max"], 30.0);
    assert_eq!(s["offers"]["min"], 30.0);
    assert_eq!(s["cycles"]["min"], 5.0);
    for key in ["cycle_p50_ms", "cycle_p99_ms", "cycle_max_ms", "cycle_cpu_p50_ms", "peak_rss_mib", "wall_s", "cpu_s"] {
        assert!(s[key]["median"].is_number(), "{key} missing: {s}");
    }
    assert!(s["messages"].is_null(), "the allocator alone sends no messages");
    assert_eq!(v["runs"].as_array().map(Vec::len), Some(3));
    assert_eq!(v["mesos"], Value::Array(vec![]), "no published figure has this shape");
}

#[test]
fn a_shape_mesos_published_is_shown_beside_its_figure() {
    let out = bench(
        &["--workload", "decline", "--agents", "2000", "--frameworks", "200", "--duration", "1s", "--runs", "1"],
        0,
    );
    assert!(out.contains("Mesos, published: DeclineOffers, 2,000 agents × 200 frameworks"), "{out}");
    assert!(out.contains("source: MESOS-4694"), "{out}");
    assert!(out.contains("here (the allocator alone): median cycle"), "{out}");
}

#[test]
fn the_spark_workload_is_checked_and_watching_it_does_not_change_its_digest() {
    let out = bench(&["--workload", "spark", "--agents", "3", "--apps", "2", "--duration", "60s", "--runs", "2"], 0);
    assert!(out.contains("checks: every invariant and expectation held in every run"), "{out}");
    let digest = out
        .lines()
        .find_map(|l| l.strip_prefix("digest ")?.strip_suffix(" (the same in every run)"))
        .unwrap_or_else(|| panic!("no digest line in\n{out}"));
    for label in ["allocation cycle p99", "peak RSS", "messages", "simulated ÷ wall"] {
        assert!(row(&out, label).iter().all(|c| c != "—"), "{label}");
    }
    // Without the per-step checks it is the same run: they only read state.
    let unchecked =
        bench(&["--workload", "spark", "--agents", "3", "--apps", "2", "--runs", "1", "--no-step-checks"], 0);
    assert!(unchecked.contains("per-step checks OFF"), "{unchecked}");
    assert!(unchecked.contains(&format!("digest {digest} ")), "{unchecked}");
    // The same scenario, run by `mesocosm run` with no probe: the same digest.
    let file = out_dir("bench").join(mesocosm::bench::spark::SCENARIO_PATH);
    std::fs::write(&file, scenario_text(3, 2, SorterArg::Drf, Duration::from_secs(60))).expect("write the scenario");
    let run = mesocosm(&["run", file.to_str().expect("utf-8 path"), "--quiet"]);
    assert_eq!(run.status.code(), Some(0), "{}", text(&run.stdout));
    assert!(text(&run.stdout).contains(&format!("digest: {digest}")), "{}", text(&run.stdout));
}

#[test]
fn a_flag_out_of_its_bounds_exits_2_naming_it() {
    let cases: &[(&[&str], &str)] = &[
        (&["--agents", "0"], "--agents"),
        (&["--agents", "100001"], "--agents"),
        (&["--agents=-3"], "--agents"),
        (&["--agents", "many"], "--agents"),
        (&["--frameworks", "10001"], "--frameworks"),
        (&["--workload", "decline", "--frameworks", "0"], "--frameworks"),
        (&["--workload", "spark", "--apps", "0"], "--apps"),
        (&["--workload", "spark", "--apps", "10001"], "--apps"),
        (&["--runs", "0"], "--runs"),
        (&["--runs", "101"], "--runs"),
        (&["--duration", "0s"], "--duration"),
        (&["--duration", "19h"], "--duration"),
        (&["--duration", "soon"], "--duration"),
        (&["--workload", "decline", "--duration", "1500ms"], "--duration"),
        (&["--workload", "decline", "--duration", "10001s"], "--duration"),
        (&["--workload", "decline", "--agents", "100000", "--frameworks", "1000", "--duration", "1000s"], "--duration"),
        (&["--workload", "mine"], "--workload"),
        (&["--transport", "pigeon"], "--transport"),
        (&["--allocator", "fifo"], "--allocator"),
    ];
    for (args, flag) in cases {
        let mut all = vec!["bench"];
        all.extend_from_slice(args);
        let out = mesocosm(&all);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(flag), "{args:?} should name {flag}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}
