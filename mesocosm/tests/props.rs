//! The property harness itself (`mesocosm::props`): a property that is false
//! fails, proptest shrinks it to a small case, and the file the harness writes
//! is a scenario that replays the failure, in process and through the CLI.

use mesocosm::props::proptest::prelude::*;
use mesocosm::props::{self, Case, DEFAULT_RNG_SEED, FaultGen, Harness};
use mesocosm::runner::{self, Report, RunOptions};
use mesocosm::scenario;
use mesocosm_master::MasterEvent;
use mesocosm_sim::Transport;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The deliberately false property: a killed agent's connection breaks, and
/// the master records `AgentDisconnected` (`Master::exited` in
/// src/master/master.cpp), so any case with an agent kill refutes it.
fn no_agent_disconnects(_: &Case, report: &Report) -> Result<(), String> {
    match report.history.iter().find(|(_, e)| matches!(e, MasterEvent::AgentDisconnected { .. })) {
        Some((at, e)) => Err(format!("at {at}: {e:?}")),
        None => Ok(()),
    }
}

fn fresh_dir(tag: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("props-{tag}-{}", std::process::id()));
    std::fs::remove_dir_all(&dir).ok();
    dir
}

#[test]
fn a_false_property_shrinks_to_a_small_case_written_as_a_scenario_that_replays_it() {
    let dir = fresh_dir("false");
    // The public strategies composed in the order proptest should shrink
    // them: the workload first, so later shrink steps run small scenarios.
    let strategy = (props::apps(), props::agents(), prop::collection::vec(props::kill_agent(), 1..=2))
        .prop_map(|(apps, agents, faults)| Case {
            seed: 0,
            keep_running: false,
            offer_timeout_s: None,
            agents,
            apps,
            faults,
        })
        .prop_filter("no agent is killed while it is dead", |c| !c.kills_overlap());
    let failure = Harness::new("no-agent-disconnects")
        .cases(16)
        // Shrink to the end whatever the machine's speed, so the minimal case is always the same.
        .configure(|c| {
            c.max_shrink_time = 0;
            c.max_shrink_iters = 2048;
        })
        .dir(&dir)
        .run(strategy, no_agent_disconnects)
        .expect_err("killing an agent disconnects it");

    // Shrunk: one kill of the only agent, as early and short as the generator
    // allows, one app of one job of one stage of one task, scenario seed 0.
    let c = &failure.case;
    assert!(
        matches!(c.faults[..], [FaultGen::KillAgent { at_s: 5, restart_s: 5, .. }]),
        "{:?}\n{}",
        c.faults,
        failure.text
    );
    assert_eq!((c.agents.len(), c.apps.len(), c.apps[0].jobs.len()), (1, 1, 1), "{}", failure.text);
    assert_eq!((c.apps[0].jobs[0].stages.len(), c.apps[0].jobs[0].stages[0].tasks), (1, 1), "{}", failure.text);
    assert_eq!(failure.scenario_seed, 0);
    assert!(failure.reproduced, "the minimal case failed again when run once more");
    assert!(failure.message.contains("AgentDisconnected"), "{}", failure.message);

    // The file: where the harness says, with both seeds, the property, the
    // replay command and the message.
    assert_eq!(failure.saved, Ok(()));
    assert_eq!(failure.path, dir.join("no-agent-disconnects-0.toml"));
    let text = std::fs::read_to_string(&failure.path).expect("the failure file");
    assert_eq!(text, failure.text);
    let header: Vec<&str> = text.lines().take(2).collect();
    assert_eq!(
        header,
        [
            format!(
                "# Property \"no-agent-disconnects\", scenario seed 0, proptest seed {DEFAULT_RNG_SEED} \
                 (PROPTEST_RNG_SEED={DEFAULT_RNG_SEED})."
            ),
            format!("# Replay: mesocosm run {}", failure.path.display()),
        ]
    );
    assert!(text.contains("failed on this case") && text.contains("AgentDisconnected"), "{text}");
    let digest = failure.digest.clone().expect("the failing run's digest");
    assert!(text.contains(&format!("# digest: {digest}\n")), "{text}");

    // It parses, and its run fails the property again, to the same digest.
    let s = scenario::parse(&failure.path, &text).unwrap_or_else(|d| panic!("{d}\n{text}"));
    assert_eq!(s.seed, 0);
    let opts = RunOptions { transport: Transport::Memory, ..RunOptions::default() };
    let report = runner::run(&s, opts).expect("the run");
    assert!(no_agent_disconnects(c, &report).is_err());
    assert_eq!(report.digest.as_deref(), Some(digest.as_str()));

    // The header's command replays it too (the CLI's default transport, gRPC,
    // gives the same digest as the memory transport the harness used).
    let out = Command::new(env!("CARGO_BIN_EXE_mesocosm"))
        .args(["run", failure.path.to_str().unwrap(), "--quiet"])
        .output()
        .expect("run the mesocosm binary");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(stdout.lines().last(), Some(format!("digest: {digest}").as_str()), "{stdout}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_true_property_passes_and_writes_nothing() {
    let dir = fresh_dir("true");
    let result = Harness::new("runs-have-digests")
        .cases(3)
        .replay(true)
        .dir(&dir)
        .run(props::case(0..=1), |_, r| r.digest.as_ref().map(|_| ()).ok_or_else(|| "no digest".to_string()));
    assert!(result.is_ok(), "{}", result.unwrap_err());
    assert!(!dir.exists(), "nothing failed, so nothing was written");
}

#[test]
fn a_scenario_the_runner_refuses_is_a_failure_with_the_refusal_as_its_message() {
    let dir = fresh_dir("refused");
    let failure = Harness::new("refused")
        .cases(1)
        .dir(&dir)
        .runner(|_, _| Err("no such framework kind".to_string()))
        .run(props::case(0..=0), |_, _| Ok(()))
        .expect_err("every run is refused");
    assert_eq!(failure.message, "the scenario did not run: no such framework kind");
    assert_eq!(failure.digest, None);
    assert!(failure.path.is_file());
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn failures_go_to_the_cargo_target_directory_unless_told_otherwise() {
    // This test binary runs from <target>/<profile>/deps.
    if std::env::var_os("MESOCOSM_PROPS_DIR").is_none() {
        let path = Harness::new("a property/with spaces").path_for(42);
        let exe = std::env::current_exe().unwrap();
        let target = exe.parent().and_then(Path::parent).and_then(Path::parent).unwrap();
        assert_eq!(path, target.join("mesocosm-props/a-property-with-spaces-42.toml"));
    }
    let elsewhere = Harness::new("p").dir("/some/where").path_for(7);
    assert_eq!(elsewhere, Path::new("/some/where/p-7.toml"));
}
