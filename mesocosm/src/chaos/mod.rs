//! `mesocosm chaos`: a scenario's cluster and workload under random fault
//! schedules, and the smallest schedule that breaks it, as a file.
//!
//! ```text
//!  FILE ──parse──▶ Scenario ──run healthy──▶ baseline (must pass; its end bounds when faults start)
//!                     │
//!   seed, case i ──▶ TestRng ──fault_in(window)──▶ [FaultGen; 1..=4] ──to_toml(targets)──▶ FILE + [[faults]]
//!                                                                                 │ run: invariants + [[expect]]
//!        <out>/<stem>-chaos-<seed>-<i>.toml ◀──write── shrunk schedule ◀──shrink── failed
//! ```
//!
//! **Faults.** The schedule is drawn with the cluster property test's own
//! strategies ([`crate::props::fault_in`]): kills with restarts (agent, master,
//! driver or scheduler), executor kills, agent partitions that heal,
//! disconnects, drop / duplicate / delay / hold of ~30 message kinds, slow
//! schedulers. Each names this scenario's actors through its
//! [`Targets`]: its agents, its Spark apps' drivers and executors, its
//! `[[frameworks]]` schedulers, its master. Every drawn fault is `optional`
//! (a random fault may find nothing to act on) and comes after the
//! scenario's own `[[faults]]`, which stay: chaos augments the story the file
//! tells, it does not rewrite it. By default faults that Mesos and Spark,
//! working as designed, never recover from are left out
//! ([`FaultGen::unrecoverable`]: a dropped ACCEPT or RunTaskMessage, lost
//! offers without `--offer_timeout`, short agent partitions, a driver cut off
//! from the master); `--all-faults` draws them too.
//!
//! **When.** Faults start while the healthy run is still busy (before the
//! baseline's end, at least 10 s in), so they hit work rather than an idle
//! cluster, and every fault is over (restarted, healed, its window closed,
//! its last held message released) by `until` − the convergence window
//! (`--converge`, [`CONVERGENCE`] = 5 min by default). That last part of the
//! run belongs to recovery alone; only then are the
//! invariants (checked at every step, as always) and the scenario's
//! expectations judged.
//!
//! **Determinism.** Case `i`'s schedule is drawn from a generator seeded by
//! `(seed, i)` alone, so it is the same whatever `-j` and however the cases
//! are sharded ([`shard`]); runs use the scenario's own seed on the memory
//! transport (the gRPC transport gives the same trace, which
//! `mesocosm/tests/cli.rs` checks, so `mesocosm run` replays it).
//!
//! **Shrinking.** A failing schedule is shrunk with proptest's own value
//! tree: faults removed (down to one), times moved earlier, durations and
//! windows shortened, indices moved to the first agent or app, each step kept
//! only if the run still fails; at most [`MAX_SHRINK_RUNS`] runs, so the
//! result does not depend on the machine's speed. The scenario's agents and
//! apps are kept as written: the file must stay the user's, with its
//! comments and expectations.
//!
//! **The file.** `<out>/<stem>-chaos-<seed>-<i>.toml` is the user's scenario,
//! three header lines before it (the original file, the chaos seed and case,
//! the replay command) and the shrunk `[[faults]]` after it, with the
//! failure quoted at the end. Each case runs as that very text at that very
//! path: a `probability` fault's generator is seeded by `<file>:<line>`, so
//! the written file replays the run exactly.

pub mod shard;

use crate::props::proptest::strategy::{BoxedStrategy, Strategy, ValueTree};
use crate::props::proptest::test_runner::{Config as ProptestConfig, RngAlgorithm, TestRng, TestRunner};
use crate::props::{FaultGen, FrameworkTarget, Targets, Window, fault_in};
use crate::registry::Registry;
use crate::runner::{self, Report, RunOptions};
use crate::scenario::{self, FaultSpec, Scenario};
use mesocosm_sim::Transport;
use shard::Shard;
use std::collections::BTreeMap;
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The default convergence window (`--converge`): the last part of the run, after every drawn
/// fault is over, in which the cluster must recover before it is judged.
/// Five minutes covers the longest recovery timer on either side with room
/// for the work to be redone: Spark's `spark.network.timeout` and
/// `spark.rpc.askTimeout` (120 s: a lost executor is expired, an ask times
/// out), Mesos's agent removal after `--agent_ping_timeout` ×
/// `--max_agent_ping_timeouts` (15 s × 5 = 75 s), `--executor_registration_timeout`
/// (1 min), and the framework re-subscription and agent re-registration
/// backoffs (seconds).
pub const CONVERGENCE: Duration = Duration::from_secs(300);

/// At most this many runs are spent shrinking one failure (a bound in runs,
/// not time, so the minimal file is the same on any machine).
pub const MAX_SHRINK_RUNS: u32 = 200;

/// How much time the scenario must leave for faults before the convergence window.
const MIN_FAULT_TIME_S: u32 = 30;

/// What `mesocosm chaos` was asked to do.
#[derive(Clone, Debug)]
pub struct Config {
    /// How many faults each case draws (`--faults`, default 1..=4).
    pub faults: RangeInclusive<usize>,
    /// Cases 0..cases (`--cases`).
    pub cases: u64,
    /// The seed of the case generator (`--seed`).
    pub seed: u64,
    /// Which of the cases this process runs (`--shard`).
    pub shard: Shard,
    /// Where failing cases are written (`--out`).
    pub out: PathBuf,
    /// Also draw the faults Mesos and Spark never recover from (`--all-faults`).
    pub all_faults: bool,
    /// The convergence window (`--converge`, default [`CONVERGENCE`]).
    pub converge: Duration,
}

/// Why chaos could not start.
#[derive(Debug)]
pub enum ChaosError {
    /// The file (or what it asks of chaos) is bad input: exit 2.
    BadInput(String),
    /// The scenario fails without any drawn fault: exit 1, fix it first.
    Baseline(String),
}

/// One case's outcome before shrinking.
#[derive(Clone, Debug)]
pub struct CaseRun {
    pub case: u64,
    /// The faults drawn.
    pub faults: usize,
    /// The first failed check or expectation, as `mesocosm run` prints it.
    pub failure: Option<String>,
}

/// A failing case, shrunk and written.
#[derive(Clone, Debug)]
pub struct Minimal {
    pub case: u64,
    /// Faults drawn, and left after shrinking.
    pub drawn: usize,
    pub faults: usize,
    /// Runs spent shrinking.
    pub runs: u32,
    /// Why the minimal case fails.
    pub message: String,
    pub path: PathBuf,
    pub text: String,
    /// `mesocosm run <path> --seed <scenario seed>`.
    pub replay: String,
    /// Whether the file was written.
    pub saved: Result<(), String>,
}

/// A scenario ready for chaos: parsed, run once healthy, its actors known.
pub struct Chaos<'r> {
    source: PathBuf,
    text: String,
    scenario: Scenario,
    registry: &'r Registry,
    config: Config,
    targets: Targets,
    window: Window,
    heal_by_s: u32,
}

impl<'r> Chaos<'r> {
    /// Reads and checks `path`, and runs it once without drawn faults: a
    /// scenario that fails alone is not a chaos finding.
    pub fn new(path: &Path, registry: &'r Registry, config: Config) -> Result<Chaos<'r>, ChaosError> {
        let scenario = scenario::load_with(path, registry).map_err(|d| ChaosError::BadInput(d.to_string()))?;
        let text = std::fs::read_to_string(path)
            .map_err(|e| ChaosError::BadInput(format!("cannot read {}: {e}", path.display())))?;
        let until_s = u32::try_from(scenario.until.as_secs()).unwrap_or(u32::MAX);
        let converge_s = u32::try_from(config.converge.as_secs()).unwrap_or(u32::MAX);
        let heal_by_s = until_s.saturating_sub(converge_s);
        if heal_by_s < MIN_FAULT_TIME_S {
            return Err(ChaosError::BadInput(format!(
                "{}: until = {}s leaves no room for faults: chaos keeps the last {}s (--converge) for convergence \
                 and needs {}s before them; set [scenario] until to at least {}s, or a shorter --converge",
                path.display(),
                until_s,
                converge_s,
                MIN_FAULT_TIME_S,
                converge_s.saturating_add(MIN_FAULT_TIME_S)
            )));
        }
        let baseline = run(&scenario, registry).map_err(ChaosError::BadInput)?;
        if let Some(why) = first_failure(&baseline) {
            return Err(ChaosError::Baseline(format!(
                "{} fails without any drawn fault ({why}); `mesocosm run {}` shows why",
                path.display(),
                path.display()
            )));
        }
        // Faults start while the healthy run is busy, so they hit work.
        let busy_s = baseline.ended_at.as_secs_f64().ceil() as u32;
        let window = Window { last_start_s: busy_s.clamp(10, heal_by_s), longest_s: heal_by_s };
        let targets = targets(&scenario);
        Ok(Chaos { source: path.to_path_buf(), text, scenario, registry, config, targets, window, heal_by_s })
    }

    /// The cases this process runs: those of its shard.
    pub fn cases(&self) -> Vec<u64> {
        (0..self.config.cases).filter(|i| self.config.shard.has(*i)).collect()
    }

    /// The convergence window, seconds.
    pub fn converge_s(&self) -> u64 {
        self.config.converge.as_secs()
    }

    /// Every drawn fault is over by this second of the run.
    pub fn heal_by_s(&self) -> u32 {
        self.heal_by_s
    }

    /// Faults start by this second (after their framework's start, for a scheduler's).
    pub fn last_start_s(&self) -> u32 {
        self.window.last_start_s
    }

    /// The scenario's seed, which every case runs with.
    pub fn scenario_seed(&self) -> u64 {
        self.scenario.seed
    }

    /// The schedules chaos draws: `--faults` of [`fault_in`] that fit the
    /// cluster, are over by [`heal_by_s`](Chaos::heal_by_s) and (unless
    /// `--all-faults`) are recoverable; no actor killed while dead.
    fn strategy(&self) -> BoxedStrategy<Vec<FaultGen>> {
        let (t, heal_by, all) = (self.targets.clone(), self.heal_by_s, self.config.all_faults);
        let offer_timeout = self.scenario.master.offer_timeout.is_some();
        let one = fault_in(self.window).prop_filter("fits the cluster, heals in time, recoverable", move |f| {
            t.fits(f) && f.over_s(&t) <= heal_by && (all || f.unrecoverable(offer_timeout).is_none())
        });
        let t = self.targets.clone();
        proptest::collection::vec(one, self.config.faults.clone())
            .prop_filter("no actor is killed while it is dead", move |fs| !t.kills_overlap(fs))
            .boxed()
    }

    /// Case `i`'s value tree: its schedule, and how to shrink it. Seeded by
    /// `(seed, i)` alone.
    fn tree(&self, i: u64) -> Box<dyn ValueTree<Value = Vec<FaultGen>>> {
        let case = i.to_string();
        let mut bytes = [0u8; 32];
        for (k, chunk) in bytes.chunks_mut(8).enumerate() {
            let part = k.to_string();
            chunk.copy_from_slice(
                &mesocosm_sim::derive_seed(self.config.seed, &["chaos-case", &case, &part]).to_le_bytes(),
            );
        }
        let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &bytes);
        let config = ProptestConfig { failure_persistence: None, ..ProptestConfig::default() };
        let mut runner = TestRunner::new_with_rng(config, rng);
        // The filters reject few draws (a fault past the window, a kill of
        // the dead); proptest gives up only after 65 536 in a row.
        self.strategy().new_tree(&mut runner).expect("a fault schedule within the window")
    }

    /// Where case `i` is written if it fails (and the path it runs under).
    pub fn path_for(&self, i: u64) -> PathBuf {
        let stem = self.source.file_stem().map_or("scenario".into(), |s| s.to_string_lossy().into_owned());
        self.config.out.join(format!("{stem}-chaos-{}-{i}.toml", self.config.seed))
    }

    /// `mesocosm run <case file> --seed <scenario seed>`.
    pub fn replay(&self, i: u64) -> String {
        format!("mesocosm run {} --seed {}", self.path_for(i).display(), self.scenario.seed)
    }

    /// Case `i` with `faults`: three header lines, the user's file, the faults.
    fn text(&self, i: u64, faults: &[FaultGen]) -> String {
        let mut s = format!(
            "# mesocosm chaos: case {i} of {}, chaos seed {} (`mesocosm chaos {} --seed {}`).\n\
             # Replay: {}\n\
             # Why it fails is quoted at the end (up here it would move the lines that seed `probability` faults).\n",
            self.source.display(),
            self.config.seed,
            self.source.display(),
            self.config.seed,
            self.replay(i)
        );
        s.push_str(&self.text);
        if !s.ends_with('\n') {
            s.push('\n');
        }
        s.push_str(&format!(
            "\n# ---- mesocosm chaos, case {i}: {} drawn fault(s), each over by {}s; the last {}s are the \
             convergence window ----\n",
            faults.len(),
            self.heal_by_s,
            self.config.converge.as_secs()
        ));
        for f in faults {
            if let Some(keys) = f.to_toml(&self.targets) {
                s.push_str(&format!("\n[[faults]]\noptional = true\n{keys}"));
            }
        }
        s
    }

    /// Runs `text` at case `i`'s path: its first failure, if any.
    fn judge(&self, i: u64, text: &str) -> Option<String> {
        let path = self.path_for(i);
        let parsed = scenario::parse_with_registry(&path, text, self.registry, &mut |p| std::fs::read_to_string(p));
        match parsed {
            Err(d) => Some(format!("the checker refuses the case: {d}")),
            Ok(s) => match run(&s, self.registry) {
                Err(e) => Some(format!("the case did not run: {e}")),
                Ok(report) => first_failure(&report),
            },
        }
    }

    /// Draws and runs case `i`.
    pub fn run_case(&self, i: u64) -> CaseRun {
        let faults = self.tree(i).current();
        let failure = self.judge(i, &self.text(i, &faults));
        CaseRun { case: i, faults: faults.len(), failure }
    }

    /// Shrinks failing case `i` and writes the minimal file.
    pub fn shrink(&self, i: u64) -> Minimal {
        let mut tree = self.tree(i);
        let drawn = tree.current();
        // Runs are deterministic: a schedule whose text ran before (a shrink
        // step that changes nothing the file shows) costs no run.
        let mut seen: BTreeMap<String, Option<String>> = BTreeMap::new();
        let runs = std::cell::Cell::new(0u32);
        let mut judge = |faults: &[FaultGen]| {
            let text = self.text(i, faults);
            seen.entry(text)
                .or_insert_with_key(|text| {
                    runs.set(runs.get() + 1);
                    self.judge(i, text)
                })
                .clone()
        };
        let mut best = (drawn.clone(), judge(&drawn).unwrap_or_default());
        // proptest's shrinking loop: simplify while it still fails, step back
        // (complicate) when it passes.
        if tree.simplify() {
            while runs.get() < MAX_SHRINK_RUNS {
                let current = tree.current();
                match judge(&current) {
                    Some(why) => {
                        best = (current, why);
                        if !tree.simplify() {
                            break;
                        }
                    }
                    None => {
                        if !tree.complicate() {
                            break;
                        }
                    }
                }
            }
        }
        let (faults, message) = best;
        let runs = runs.get();
        let path = self.path_for(i);
        let mut text = self.text(i, &faults);
        text.push_str(&format!(
            "\n# ---- mesocosm chaos: this case fails ({} fault(s) drawn, shrunk to {} in {runs} runs) ----\n",
            drawn.len(),
            faults.len()
        ));
        for line in message.lines() {
            text.push_str(format!("# {line}").trim_end());
            text.push('\n');
        }
        let saved = std::fs::create_dir_all(&self.config.out)
            .and_then(|()| std::fs::write(&path, &text))
            .map_err(|e| e.to_string());
        Minimal {
            case: i,
            drawn: drawn.len(),
            faults: faults.len(),
            runs,
            message,
            path,
            text,
            replay: self.replay(i),
            saved,
        }
    }
}

/// One run of a checked scenario, as chaos judges it: its own seed, the
/// memory transport (the same trace as gRPC, faster).
fn run(s: &Scenario, registry: &Registry) -> Result<Report, String> {
    let opts = RunOptions { transport: Transport::Memory, ..RunOptions::default() };
    runner::run_with(s, opts, registry).map_err(|e| e.to_string())
}

/// The first line of `mesocosm run`'s summary that says the run failed: a
/// stopped run, else the first failed check, else the first failed
/// expectation; `None` if it passed.
pub fn first_failure(report: &Report) -> Option<String> {
    if let Some(f) = &report.failure {
        return Some(format!("run FAILED ({}): {f}", f.kind()));
    }
    if let Some(c) = report.checks.first() {
        return Some(format!("check failed [{}]: {}", c.check, c.message));
    }
    report
        .expectations
        .iter()
        .find(|e| !e.held)
        .map(|e| format!("expect FAILED: {}: {} ({})", e.label, e.text, e.observed))
}

/// The scenario's actors as fault targets.
fn targets(s: &Scenario) -> Targets {
    let secs_up = |d: Duration| d.as_secs_f64().ceil() as u32;
    let agents: Vec<String> = s.agents.iter().map(|a| a.name.clone()).collect();
    let mut frameworks: Vec<FrameworkTarget> = s
        .apps
        .iter()
        .map(|a| FrameworkTarget {
            scheduler: format!("driver:{}", a.name),
            spark_app: Some(a.name.clone()),
            start_s: secs_up(a.at),
        })
        .collect();
    frameworks.extend(s.frameworks.iter().map(|f| FrameworkTarget {
        scheduler: format!("scheduler:{}", f.name),
        spark_app: None,
        start_s: secs_up(f.at),
    }));
    let deaths = s
        .faults
        .iter()
        .filter_map(|FaultSpec { fault, .. }| match fault {
            crate::cluster::Fault::Kill { actor, at, restart_after } => {
                Some((actor.clone(), at.as_secs() as u32, restart_after.map(|r| secs_up(*at + r))))
            }
            _ => None,
        })
        .collect();
    Targets { master: s.master.name.clone(), every_agent: every(&agents), agents, frameworks, deaths }
}

/// A glob over every name: their common prefix and `*` (`agent-*`), or `*`.
fn every(names: &[String]) -> String {
    let Some(first) = names.first() else { return "*".into() };
    let mut prefix = first.as_str();
    for n in names {
        while !n.starts_with(prefix) {
            prefix = &prefix[..prefix.len() - prefix.chars().next_back().map_or(1, char::len_utf8)];
        }
    }
    format!("{prefix}*")
}

#[cfg(test)]
mod tests {
    use super::*;
    use mesocosm_sim::faults::Pattern;

    #[test]
    fn every_agent_is_their_common_prefix() {
        let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(every(&names(&["agent-1", "agent-2", "agent-10"])), "agent-*");
        assert_eq!(every(&names(&["a1", "b1"])), "*");
        assert_eq!(every(&names(&[])), "*");
        let p = Pattern::new(every(&names(&["worker-a", "worker-b"])));
        assert!(p.matches("worker-a") && p.matches("worker-b"));
    }
}
