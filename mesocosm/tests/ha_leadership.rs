//! Leadership you can see and expect, on whole runs with three masters: the
//! summary's leadership periods and failover times, and `leader` /
//! `failover_at_most` expectations that fail saying what happened instead.

use mesocosm::runner::{self, Report, RunOptions};
use mesocosm::scenario;
use mesocosm_sim::Transport;
use std::path::{Path, PathBuf};

fn library(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios").join(name)
}

/// Run library file `name` with `extra` appended, in memory.
fn run_with(name: &str, extra: &str) -> Report {
    let path = library(name);
    let text = std::fs::read_to_string(&path).unwrap() + extra;
    let s = scenario::parse(&path, &text).unwrap_or_else(|d| panic!("{d}"));
    runner::run(&s, RunOptions { transport: Transport::Memory, ..RunOptions::default() }).expect("the run")
}

fn verdict(r: &Report, text: &str) -> (bool, String) {
    let v = r.expectations.iter().find(|e| e.text == text).unwrap_or_else(|| panic!("no `{text}` in {r:?}"));
    (v.held, v.observed.clone())
}

#[test]
fn a_killed_leader_shows_its_period_and_the_failover_and_wrong_expectations_say_what_happened() {
    let r = run_with(
        "ha-leader-killed.toml",
        "\n[[expect]]\nleader = \"master-1\"\n\
         \n[[expect]]\nleader = \"master-3\"\nat = \"35s\"\n\
         \n[[expect]]\nfailover_at_most = \"10s\"\n",
    );
    let summary = r.summary_lines();
    assert!(
        summary.contains(&"  leaders: master-2 0.012–30.0 s (killed), master-3 from 42.004 s".to_string()),
        "{summary:#?}"
    );
    assert!(summary.contains(&"  failover: master-2 → master-3 in 12.004 s".to_string()), "{summary:#?}");
    let leaders = "leaders: master-2 0.012–30.0 s (killed), master-3 from 42.004 s";
    assert_eq!(verdict(&r, "master-1 is elected leader"), (false, format!("master-1 was never elected; {leaders}")));
    assert_eq!(verdict(&r, "master-3 leads at 35s"), (false, format!("no master led at 35.0 s; {leaders}")));
    assert_eq!(verdict(&r, "every failover takes at most 10s"), (false, "master-2 → master-3 in 12.004 s".to_string()));
    // The library file's own leadership expectations hold.
    assert!(verdict(&r, "master-2 leads at 29s").0);
    assert!(verdict(&r, "every failover takes at most 15s").0);
}

#[test]
fn a_failover_bound_with_no_failover_in_its_window_fails() {
    let r = run_with("ha-leader-killed.toml", "\n[[expect]]\nfailover_at_most = \"1m\"\nbefore = \"20s\"\n");
    assert_eq!(
        verdict(&r, "every failover takes at most 1m before 20s"),
        (false, "no failover happened; leaders: master-2 0.012–30.0 s (killed), master-3 from 42.004 s".to_string())
    );
}

#[test]
fn an_expired_leader_session_elects_a_backup_at_once_and_the_old_leader_exits() {
    let r = run_with("ha-session-expired.toml", "");
    assert!(r.passed(), "{:#?}", r.expectations);
    let summary = r.summary_lines();
    assert!(
        summary.contains(&"  leaders: master-2 0.012–31.002 s (exited), master-3 from 30.005 s".to_string()),
        "{summary:#?}"
    );
    let applied: Vec<u64> = r.faults.iter().map(|f| f.applied).collect();
    assert_eq!(applied, [1, 1], "{:?}", r.faults);
}

#[test]
fn expiring_the_session_of_a_dead_master_did_nothing_and_fails_the_run() {
    let r = run_with("ha-leader-killed.toml", "\n[[faults]]\nexpire_session = \"master-2\"\nat = \"35s\"\n");
    let fault = r.checks.iter().find(|c| c.check == "fault applied").expect("a fault-applied check");
    assert!(fault.message.starts_with("fault ha-leader-killed.toml:"), "{}", fault.message);
    assert!(fault.message.contains("never matched anything; it did nothing"), "{}", fault.message);
}
