//! The Spark workload: the shape of `scenarios/scale/scale-2k.toml` and
//! `scale-10k.toml`, at any size, run the way users run a scenario.
//!
//! `agents` Mesos agents of `cpus:8;mem:32768;disk:100000;ports:[31000-32000]`
//! and `apps` Spark applications arriving evenly over the first 40 s (2 s apart
//! at 20 apps, 0.4 s at 100, as the two scale files). Each asks for
//! `spark.cores.max=16` in 4-core executors and runs one job of two stages
//! (64 tasks of 200–800 ms, then 16 of 500 ms), and the faults are the scale
//! files' own: an agent crashes at 20 s and restarts 10 s later, another is
//! cut off from the master for 20 s, and the master's second status UPDATE to
//! one app is lost (the agent's status update manager resends it).
//!
//! The workload is written as scenario text and goes through the language,
//! the runner and the public [`crate::cluster::ClusterBuilder`], with every
//! per-step invariant check, the judge and every expectation on, and a
//! digest: the target row of a realistic run. `--no-step-checks` turns off
//! only the per-step checks (`ClusterBuilder::step_checks`), to measure what
//! they cost; the judge and the expectations still run. Only a [`Probe`] is added, which
//! watches without changing the run (the digest is the same without it).

use super::{BenchConfig, OnProgress, Sample, SorterArg, progress_observer};
use crate::cluster::{CycleTimes, Probe, Runtime};
use crate::registry::Registry;
use crate::{runner, scenario};
use std::fmt::Write;
use std::time::Duration;

/// The name the workload's scenario text is read under: fault labels (and so
/// the trace) carry it, so `mesocosm run bench-spark.toml` on the same text
/// gives the same digest.
pub const SCENARIO_PATH: &str = "bench-spark.toml";

/// The scale files' seed.
const SEED: u64 = 12;

/// Over how long the apps arrive (the scale files': 40 s).
const ARRIVALS: Duration = Duration::from_secs(40);

/// The scenario text of the workload (what `mesocosm run` would read).
pub fn scenario_text(agents: usize, apps: usize, sorter: SorterArg, until: Duration) -> String {
    let mut s = String::new();
    let name = sorter.name();
    let _ = writeln!(
        s,
        "[scenario]\nname = \"bench-spark-{agents}x{apps}\"\n\
         description = \"mesocosm bench --workload spark: {agents} agents, {apps} Spark apps, faults\"\n\
         seed = {SEED}\nuntil = \"{}ms\"\n\n\
         [master]\nrole_sorter = \"{name}\"\nframework_sorter = \"{name}\"\n\n\
         [network]\nlatency = {{ min = \"100us\", max = \"1ms\" }}\n\n\
         [[agents]]\nname = \"agent\"\ncount = {agents}\n\
         resources = \"cpus:8;mem:32768;disk:100000;ports:[31000-32000]\"\n",
        until.as_millis()
    );
    let gap = ARRIVALS.as_millis() as usize / apps.max(1);
    for i in 1..=apps {
        let _ = writeln!(
            s,
            "[[apps]]\nat = \"{}ms\"\n\
             submit = \"spark-submit --master mesos://master:5050 --name app-{i:03} --class com.example.Job \
             --conf spark.cores.max=16 --conf spark.executor.cores=4 --executor-memory 2g job.jar\"\n\
             [[apps.jobs]]\n[[apps.jobs.stages]]\ntasks = 64\nduration = {{ uniform = [\"200ms\", \"800ms\"] }}\n\
             [[apps.jobs.stages]]\ntasks = 16\nduration = \"500ms\"\n",
            (i - 1) * gap
        );
    }
    // The scale files' victims (agent-17, agent-42, app-003), or the nearest
    // that exist in a smaller cluster. The crash closes the agent's connection
    // at once; it re-registers with its checkpointed id
    // (ReregisterSlaveMessage, never a second RegisterSlaveMessage).
    let crashed = agents.min(17);
    let _ = writeln!(
        s,
        "[[faults]]\nkill = \"agent-{crashed}\"\nat = \"20s\"\nrestart_after = \"10s\"\n\n\
         [[expect]]\nagent = \"agent-{crashed}\"\nmarked = \"disconnected\"\nafter = \"20s\"\nbefore = \"21s\"\n\n\
         [[expect]]\ncount = \"ReregisterSlaveMessage\"\nfrom = \"agent-{crashed}\"\nafter = \"30s\"\nat_least = 1\n\n\
         [[expect]]\ncount = \"RegisterSlaveMessage\"\nfrom = \"agent-{crashed}\"\nexactly = 1\n"
    );
    let cut = agents.min(42);
    if cut != crashed {
        // 20 s of silence is fewer than max_agent_ping_timeouts (5) ×
        // agent_ping_timeout (15 s): the agent stays registered.
        let _ = writeln!(
            s,
            "[[faults]]\npartition = [\"agent-{cut}\", \"master\"]\nat = \"15s\"\nheal_after = \"20s\"\n\n\
             [[expect]]\nagent = \"agent-{cut}\"\nmarked = \"unreachable\"\nexactly = 0\n"
        );
    }
    let _ = writeln!(
        s,
        "[[faults]]\ndrop = \"UPDATE\"\nfrom = \"master\"\nto = \"driver:app-{:03}\"\nnth = 2\n\n\
         [[expect]]\ncount = \"RunTaskMessage\"\nat_least = {apps}",
        apps.min(3)
    );
    s
}

/// Run the workload once through the cluster builder, timing its allocation
/// cycles. `Err` is a scenario the language rejects (a bug here: the flags
/// were checked before).
pub fn run(config: &BenchConfig, progress: Option<&OnProgress>) -> Result<Sample, String> {
    let until = config.duration;
    let text = scenario_text(config.agents, config.apps, config.sorter, until);
    let registry = Registry::default();
    let scenario = scenario::parse_with(SCENARIO_PATH, &text, &registry).map_err(|d| d.to_string())?;
    let times = CycleTimes::default();
    let probe = Probe { observer: progress_observer(progress.cloned()), cycles: Some(times.clone()) };
    let builder = runner::cluster(&scenario, scenario.seed, &registry).map_err(|e| e.to_string())?;
    let report = builder
        .probe(probe)
        .step_checks(config.step_checks)
        .run(Runtime { transport: config.transport, ..Runtime::default() })
        .map_err(|e| e.to_string())?;
    let mut problems: Vec<String> = report
        .checks
        .iter()
        .map(|c| format!("{}: {}", c.check, c.message))
        .chain(report.expectations.iter().filter(|v| !v.held).map(|v| format!("expected {}", v.text)))
        .chain(report.failure.iter().map(|f| f.to_string()))
        .collect();
    if problems.is_empty() && !report.passed() {
        problems.push(format!("the run did not pass (exit {})", report.exit_code()));
    }
    Ok(Sample {
        virtual_time: Duration::from_micros(report.ended_at.micros()),
        offers: report.master.offers_made,
        messages: Some(report.messages),
        cycles: times.times(),
        digest: report.digest.clone(),
        checked: Some(problems),
        ..Sample::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_workload_is_a_valid_scenario_at_every_size() {
        for (agents, apps) in [(1, 1), (3, 2), (17, 3), (2000, 20), (10_000, 100)] {
            let text = scenario_text(agents, apps, SorterArg::Drf, Duration::from_secs(60));
            let s = scenario::parse("<bench>", &text).unwrap_or_else(|d| panic!("{agents}x{apps}: {d}\n{text}"));
            assert_eq!(s.apps.len(), apps);
            runner::validate(&s).expect("the runner accepts it");
        }
    }
}
