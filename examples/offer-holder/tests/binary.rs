//! The example's binary runs scenario files that name its framework and its
//! sorter, with faults and expectations, as `mesocosm run` would.
use std::path::Path;
use std::process::{Command, Output};

fn run(file: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_offer-holder")).arg("run").arg(file).arg("--quiet").output().expect("runs")
}

fn scenario(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios").join(name)
}

fn lines(out: &Output, prefix: &str) -> Vec<String> {
    String::from_utf8_lossy(&out.stdout).lines().filter(|l| l.starts_with(prefix)).map(str::to_string).collect()
}

#[test]
fn dropped_accept_shows_the_bug_and_the_fix_with_every_expectation_holding() {
    let out = run(&scenario("dropped-accept.toml"));
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
    let ok = lines(&out, "expect ok:");
    assert_eq!(ok.len(), 4, "{ok:#?}");
    assert!(ok[0].contains("framework holder is still running at the end"), "{}", ok[0]);
    assert!(ok[3].contains("framework fixed finishes"), "{}", ok[3]);
    // `--quiet` prints the verdict alone; the summary says what each fault did.
    let full = Command::new(env!("CARGO_BIN_EXE_offer-holder"))
        .arg("run")
        .arg(scenario("dropped-accept.toml"))
        .output()
        .expect("runs");
    let applied = lines(&full, "  fault dropped-accept.toml:");
    assert_eq!(applied.len(), 2, "{applied:#?}");
    assert!(applied.iter().all(|l| l.ends_with(": applied 1 time(s)")), "both ACCEPT drops applied: {applied:#?}");
}

#[test]
fn the_custom_sorter_starves_the_small_framework_where_drf_would_not() {
    let file = scenario("greedy-vs-drf.toml");
    let out = run(&file);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
    assert_eq!(lines(&out, "expect ok:").len(), 2);

    // The same file under Mesos's default sorter: small is served first.
    let text = std::fs::read_to_string(&file).unwrap();
    let drf = Path::new(env!("CARGO_TARGET_TMPDIR")).join("greedy-vs-drf.toml");
    std::fs::write(&drf, text.replace("\"largest-share-first\"", "\"drf\"")).unwrap();
    let out = run(&drf);
    assert_eq!(out.status.code(), Some(1));
    let failed = lines(&out, "expect FAILED:");
    assert_eq!(failed.len(), 2, "{failed:#?}");
    assert!(failed[1].contains("framework small finishes after 35s") && failed[1].contains("at 20."), "{}", failed[1]);
}

#[test]
fn an_unknown_sorter_is_a_located_error_listing_the_registered_ones() {
    let text = std::fs::read_to_string(scenario("greedy-vs-drf.toml")).unwrap();
    let bad = Path::new(env!("CARGO_TARGET_TMPDIR")).join("bad-sorter.toml");
    std::fs::write(&bad, text.replace("\"largest-share-first\"", "\"smallest-first\"")).unwrap();
    let out = run(&bad);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad-sorter.toml:") && err.contains("largest-share-first"), "{err}");
}
