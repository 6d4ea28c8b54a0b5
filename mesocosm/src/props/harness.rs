//! The harness: run a property over generated scenarios; on failure, shrink
//! and write the minimal case out as a scenario file that replays it.
//!
//! ```text
//!  strategy ──proptest──▶ case ──to_toml──▶ header + text ──parse + run──▶ Report ──property──▶ Ok / Err(why)
//!                                                                                                  │ Err
//!  <dir>/<name>-<seed>.toml ◀──write── minimal case ◀──────── proptest shrinks ◀──────────────────────┘
//! ```
//!
//! Every case is parsed under the very path its failure would be written to,
//! `<dir>/<name>-<scenario seed>.toml`, with the same three header lines: a
//! `probability` fault's generator is seeded by its rule's label,
//! `<file name>:<line>`, so the written file replays the run only if both are
//! the same. The failure's explanation goes at the end of the file, where it
//! moves no rule.
//!
//! Runs are deterministic (same scenario text, same run), so a case whose text
//! was already run is judged by the earlier outcome without running again:
//! many shrink steps change nothing the scenario shows (an [`Index`] picking
//! the same agent of one), and cost nothing.
//!
//! [`Index`]: proptest::sample::Index

use super::ScenarioCase;
use crate::runner::{self, Report, RunOptions};
use crate::scenario;
use mesocosm_sim::Transport;
use proptest::strategy::Strategy;
use proptest::test_runner::{Config as ProptestConfig, RngSeed, TestCaseError, TestError, TestRunner};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt;
use std::hash::{BuildHasher, RandomState};
use std::path::{Path, PathBuf};

/// The proptest RNG seed when neither `PROPTEST_RNG_SEED` nor the config sets
/// one: the same cases on every run, so a CI failure reproduces locally.
pub const DEFAULT_RNG_SEED: u64 = 0x6d65_736f_636f_736d;

/// Parses a scenario text (under a path) and runs it to a report.
type RunFn = dyn Fn(&Path, &str) -> Result<Report, String>;

/// Runs a property over the cases of a strategy (see the [module docs](super)).
///
/// Built with [`Harness::new`] and adjusted with its builder methods; then
/// [`Harness::run`] returns the shrunk [`Failure`], and [`Harness::check`]
/// panics with it (for `#[test]`s).
pub struct Harness {
    name: String,
    config: ProptestConfig,
    dir: Option<PathBuf>,
    replay: bool,
    command: String,
    run: Box<RunFn>,
}

impl Harness {
    /// A harness for the property called `name` (it names the failure file,
    /// so keep it short; characters other than letters, digits, `-` and `_`
    /// become `-` there).
    ///
    /// Defaults: proptest's config as the `PROPTEST_*` environment variables
    /// set it, else 64 cases, RNG seed [`DEFAULT_RNG_SEED`], at most 256
    /// shrink steps and 60 s of shrinking (each step runs a scenario); no
    /// failure persistence (the written scenario is the regression file);
    /// the memory transport; no replay check.
    pub fn new(name: impl Into<String>) -> Harness {
        let mut config = ProptestConfig { failure_persistence: None, ..ProptestConfig::default() };
        // ProptestConfig::default() reads the PROPTEST_* variables; fill in
        // only what the environment does not set.
        if std::env::var_os("PROPTEST_CASES").is_none() {
            config.cases = 64;
        }
        if std::env::var_os("PROPTEST_RNG_SEED").is_none() {
            config.rng_seed = RngSeed::Fixed(DEFAULT_RNG_SEED);
        }
        if std::env::var_os("PROPTEST_MAX_SHRINK_ITERS").is_none() {
            config.max_shrink_iters = 256;
        }
        if std::env::var_os("PROPTEST_MAX_SHRINK_TIME").is_none() {
            config.max_shrink_time = 60_000;
        }
        Harness {
            name: name.into(),
            config,
            dir: None,
            replay: false,
            command: "mesocosm run".to_string(),
            run: Box::new(run_memory),
        }
    }

    /// Runs `n` cases, unless `PROPTEST_CASES` says otherwise.
    pub fn cases(mut self, n: u32) -> Harness {
        if std::env::var_os("PROPTEST_CASES").is_none() {
            self.config.cases = n;
        }
        self
    }

    /// Adjusts proptest's config (cases, RNG seed, shrinking), starting from
    /// the defaults above. An `RngSeed::Random` seed is drawn once per
    /// [`run`](Harness::run) and written into the failure file.
    ///
    /// Shrinking stops after `max_shrink_time` ms whatever it has reached, so
    /// the minimal case then depends on the machine's speed; a test that
    /// asserts the shrunk case should set `max_shrink_time = 0` (no limit) and
    /// bound `max_shrink_iters` instead.
    pub fn configure(mut self, f: impl FnOnce(&mut ProptestConfig)) -> Harness {
        f(&mut self.config);
        self
    }

    /// Writes failures into `dir` (created if missing). Default: the
    /// `MESOCOSM_PROPS_DIR` environment variable, else `mesocosm-props` in the
    /// cargo target directory of the running test binary (the ancestor holding
    /// cargo's `CACHEDIR.TAG`, or the one above `<profile>/deps`), else in the
    /// system's temporary directory.
    /// Integration tests may pass `env!("CARGO_TARGET_TMPDIR")`.
    pub fn dir(mut self, dir: impl Into<PathBuf>) -> Harness {
        self.dir = Some(dir.into());
        self
    }

    /// Also runs every case a second time and fails unless both runs print
    /// the same summary, digest included: the simulator's determinism as a
    /// property.
    pub fn replay(mut self, on: bool) -> Harness {
        self.replay = on;
        self
    }

    /// The command the failure file's header says replays it, before the
    /// file's path (default `mesocosm run`; a user binary that registers its
    /// own frameworks names itself here).
    pub fn command(mut self, command: impl Into<String>) -> Harness {
        self.command = command.into();
        self
    }

    /// How a case's text becomes a report: `run(path, text)`. Default: parse
    /// it with [`scenario::parse`] and run it with [`runner::run`] on the
    /// memory transport. A scenario the parser or runner refuses fails the
    /// case with the refusal as its message.
    pub fn runner(mut self, run: impl Fn(&Path, &str) -> Result<Report, String> + 'static) -> Harness {
        self.run = Box::new(run);
        self
    }

    /// The property's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Where a case with this scenario seed is parsed, and written if it fails.
    pub fn path_for(&self, scenario_seed: u64) -> PathBuf {
        let tag: String = self
            .name
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '-' })
            .collect();
        self.directory().join(format!("{tag}-{scenario_seed}.toml"))
    }

    fn directory(&self) -> PathBuf {
        if let Some(d) = &self.dir {
            return d.clone();
        }
        if let Some(d) = std::env::var_os("MESOCOSM_PROPS_DIR") {
            return PathBuf::from(d);
        }
        // Cargo marks its target directory with CACHEDIR.TAG; failing that, a
        // test or example binary lives in <target>/<profile>/{deps,examples}/.
        let exe = std::env::current_exe().ok();
        let tagged = exe.as_deref().and_then(|e| e.ancestors().skip(1).find(|d| d.join("CACHEDIR.TAG").is_file()));
        let by_layout = || {
            let parent = exe.as_deref()?.parent()?;
            let kind = parent.file_name()?;
            (kind == "deps" || kind == "examples").then(|| parent.parent()?.parent()).flatten()
        };
        tagged.or_else(by_layout).map_or_else(std::env::temp_dir, Path::to_path_buf).join("mesocosm-props")
    }

    /// The text a case runs as: three header lines, then [`ScenarioCase::to_toml`].
    fn text(&self, case: &impl ScenarioCase, path: &Path, rng_seed: u64) -> String {
        format!(
            "# Property \"{}\", scenario seed {}, proptest seed {rng_seed} (PROPTEST_RNG_SEED={rng_seed}).\n\
             # Replay: {} {}\n#\n{}",
            self.name,
            case.seed(),
            self.command,
            path.display(),
            case.to_toml()
        )
    }

    /// One case, as `text` at `path`: its run(s) and the property; with the
    /// first run's digest.
    fn one<T: ScenarioCase>(
        &self,
        case: &T,
        path: &Path,
        text: &str,
        property: &impl Fn(&T, &Report) -> Result<(), String>,
    ) -> (Option<String>, Result<(), String>) {
        let report = match (self.run)(path, text) {
            Ok(r) => r,
            Err(e) => return (None, Err(format!("the scenario did not run: {e}"))),
        };
        let digest = report.digest.clone();
        if let Err(why) = property(case, &report) {
            return (digest, Err(why));
        }
        if self.replay {
            let again = match (self.run)(path, text) {
                Ok(r) => r,
                Err(e) => return (digest, Err(format!("the second run did not run: {e}"))),
            };
            let (a, b) = (summary(&report), summary(&again));
            if report.digest.is_none() || a != b {
                return (digest, Err(format!("two runs differ:\n--- first\n{a}\n--- second\n{b}")));
            }
        }
        (digest, Ok(()))
    }

    /// Runs `property` over `strategy`'s cases. On the first failure
    /// proptest shrinks the case; the minimal one is written to
    /// [`path_for`](Harness::path_for)`(its seed)` and returned.
    ///
    /// # Panics
    /// If proptest gives up (e.g. a `prop_filter` rejects too many cases).
    pub fn run<S, P>(&self, strategy: S, property: P) -> Result<(), Box<Failure<S::Value>>>
    where
        S: Strategy,
        S::Value: ScenarioCase,
        P: Fn(&S::Value, &Report) -> Result<(), String>,
    {
        let mut config = self.config.clone();
        let rng_seed = match config.rng_seed {
            RngSeed::Fixed(s) => s,
            // Drawn here, so the failure file can name it.
            RngSeed::Random => RandomState::new().hash_one(&self.name),
        };
        config.rng_seed = RngSeed::Fixed(rng_seed);
        let mut runner = TestRunner::new(config);
        // Runs are deterministic, so a case whose scenario text was run before
        // has the same outcome: shrink steps that change nothing the scenario
        // shows (an index that picks the same agent of one) cost no run.
        let seen: RefCell<BTreeMap<String, Result<(), String>>> = RefCell::new(BTreeMap::new());
        let result = runner.run(&strategy, |case| {
            let path = self.path_for(case.seed());
            let text = self.text(&case, &path, rng_seed);
            if let Some(outcome) = seen.borrow().get(&text) {
                return outcome.clone().map_err(TestCaseError::fail);
            }
            let outcome = self.one(&case, &path, &text, &property).1;
            seen.borrow_mut().insert(text, outcome.clone());
            outcome.map_err(TestCaseError::fail)
        });
        let (reason, case) = match result {
            Ok(()) => return Ok(()),
            Err(TestError::Abort(why)) => panic!("{}: proptest gave up: {why}", self.name),
            Err(TestError::Fail(reason, case)) => (reason, case),
        };
        // Once more, for the digest and to be sure the file fails as shrinking saw.
        let path = self.path_for(case.seed());
        let mut text = self.text(&case, &path, rng_seed);
        let (digest, again) = self.one(&case, &path, &text, &property);
        text.push_str(&format!("\n# ---- property \"{}\" failed on this case ----\n", self.name));
        if again.is_ok() {
            text.push_str("# (run again, it held: the failure did not reproduce)\n");
        }
        if let Some(d) = &digest {
            text.push_str(&format!("# digest: {d}\n"));
        }
        for line in reason.message().lines() {
            text.push_str(format!("# {line}").trim_end());
            text.push('\n');
        }
        let saved = std::fs::create_dir_all(self.directory())
            .and_then(|()| std::fs::write(&path, &text))
            .map_err(|e| e.to_string());
        Err(Box::new(Failure {
            property: self.name.clone(),
            message: reason.message().to_string(),
            scenario_seed: case.seed(),
            rng_seed,
            digest,
            reproduced: again.is_err(),
            path,
            text,
            saved,
            case,
        }))
    }

    /// [`run`](Harness::run), panicking with the [`Failure`] (its file, its
    /// replay command and its text): for `#[test]`s.
    pub fn check<S, P>(&self, strategy: S, property: P)
    where
        S: Strategy,
        S::Value: ScenarioCase,
        P: Fn(&S::Value, &Report) -> Result<(), String>,
    {
        if let Err(f) = self.run(strategy, property) {
            panic!("{f}");
        }
    }
}

/// `Harness::new(name).check(strategy, property)`: the one-line form for a
/// `#[test]`, with every default (see [`Harness::new`]).
pub fn check<S, P>(name: &str, strategy: S, property: P)
where
    S: Strategy,
    S::Value: ScenarioCase,
    P: Fn(&S::Value, &Report) -> Result<(), String>,
{
    Harness::new(name).check(strategy, property);
}

/// A property that failed: the minimal case proptest shrank to, and where it
/// was written.
#[derive(Clone, Debug)]
pub struct Failure<T> {
    /// The property's name.
    pub property: String,
    /// Why the minimal case failed (the property's `Err`).
    pub message: String,
    /// The minimal case.
    pub case: T,
    /// Its `[scenario] seed`.
    pub scenario_seed: u64,
    /// The proptest RNG seed: `PROPTEST_RNG_SEED=<it>` generates the same cases again.
    pub rng_seed: u64,
    /// The failing run's trace digest (when it ran to one).
    pub digest: Option<String>,
    /// Whether running the minimal case once more failed again (`false`
    /// means the failure depends on more than the scenario: a bug in itself).
    pub reproduced: bool,
    /// The scenario file: `mesocosm run <path>` replays the failure.
    pub path: PathBuf,
    /// Its text, as written.
    pub text: String,
    /// Whether writing it worked.
    pub saved: Result<(), String>,
}

impl<T> fmt::Display for Failure<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "property \"{}\" failed; minimal case: scenario seed {}, proptest seed {}",
            self.property, self.scenario_seed, self.rng_seed
        )?;
        writeln!(f, "{}\n", self.message)?;
        match &self.saved {
            Ok(()) => writeln!(
                f,
                "The scenario is saved to {}; replay it with the command in its header:",
                self.path.display()
            )?,
            Err(e) => writeln!(f, "The scenario could not be saved to {}: {e}", self.path.display())?,
        }
        write!(f, "\n{}", self.text)
    }
}

/// The harness's default runner: parse the text with [`scenario::parse`] as
/// `path`, then run it with [`runner::run`] on the memory transport. Wrap it
/// in your own [`Harness::runner`] to count or time runs.
pub fn run_memory(path: &Path, text: &str) -> Result<Report, String> {
    let s = scenario::parse(path, text).map_err(|d| format!("the checker rejects the scenario:\n{d}"))?;
    let opts = RunOptions { transport: Transport::Memory, ..RunOptions::default() };
    runner::run(&s, opts).map_err(|e| e.to_string())
}

/// The summary `mesocosm run` prints for a report.
pub fn summary(report: &Report) -> String {
    let mut out = Vec::new();
    // Writing to memory cannot fail.
    let _ = report.render(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}
