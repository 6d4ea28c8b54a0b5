//! Benchmarks users can run: `mesocosm bench` and the criterion benches
//! (`cargo bench -p mesocosm-benches`) call the same workloads, from here.
//!
//! ```text
//!  BenchConfig ──check()──▶ (bounded, or the flag that is not)
//!       │
//!       └─run_once()─▶ one workload ─▶ Sample { wall, cpu, virtual time, offers,
//!                                               messages, cycle times, peak RSS, … }
//!  R samples ──Summary──▶ min / median / max of each figure, beside Mesos's own
//! ```
//!
//! Three workloads, each a different question:
//!
//! - [`offers`]: **offer churn**. A real master and agents, and minimal
//!   frameworks that answer every offer at once, so every agent is offered
//!   again each allocation interval: how many offers per second the master,
//!   agents and transport sustain (gRPC or memory), without per-step checks.
//! - [`spark`]: **Spark apps**, the realistic row: the shape of
//!   `scenarios/scale/`, through the language and the public cluster builder
//!   with every invariant check, the judge and every expectation on.
//! - [`decline`]: **the allocator alone**, in the shape of Mesos's
//!   `DeclineOffers` benchmark, so its cycle time compares with Mesos's
//!   published figures ([`mesos_figures`]).
//!
//! Every workload is deterministic: the same flags give the same offers and
//! messages (and, for `spark`, the same digest) on every run; only the wall
//! time, CPU time and memory are measurements. The clock is read only here and
//! in [`crate::cluster::probe`], around the steps, never by a core.

pub mod decline;
pub mod measure;
pub mod mesos;
pub mod offers;
pub mod spark;

pub use decline::DeclineOffers;
pub use mesos::{MesosFigure, mesos_figures};

use mesocosm_master::SorterChoice;
use mesocosm_sim::world::Observer;
use mesocosm_sim::{MAX_VIRTUAL_TIME, Transport};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Which workload to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Workload {
    Offers,
    Spark,
    Decline,
}

impl Workload {
    pub fn name(self) -> &'static str {
        match self {
            Workload::Offers => "offers",
            Workload::Spark => "spark",
            Workload::Decline => "decline",
        }
    }
}

/// The allocator's sorter (Mesos's `--role_sorter` and `--framework_sorter`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SorterArg {
    Drf,
    Random,
}

impl SorterArg {
    pub fn name(self) -> &'static str {
        match self {
            SorterArg::Drf => "drf",
            SorterArg::Random => "random",
        }
    }

    pub fn choice(self) -> SorterChoice {
        match self {
            SorterArg::Drf => SorterChoice::drf(),
            SorterArg::Random => SorterChoice::random(),
        }
    }
}

/// What to run, and how often.
#[derive(Clone, Debug)]
pub struct BenchConfig {
    pub workload: Workload,
    pub agents: usize,
    /// Frameworks of the `offers` and `decline` workloads (`spark` has one per app).
    pub frameworks: usize,
    /// Spark applications of the `spark` workload.
    pub apps: usize,
    pub sorter: SorterArg,
    pub transport: Transport,
    /// Virtual time to run; for `decline`, one round per second (one allocation interval).
    pub duration: Duration,
    pub runs: usize,
    /// `spark`: check every core's invariants after each step (the default;
    /// off only to measure what the checks cost).
    pub step_checks: bool,
}

/// The most agents a run may have: the scenario language's own bound.
pub const MAX_AGENTS: usize = 100_000;
/// The most frameworks (Mesos's allocator benchmarks go to 6,000).
pub const MAX_FRAMEWORKS: usize = 10_000;
/// The most Spark apps: the scenario language's own bound.
pub const MAX_APPS: usize = 10_000;
/// The most runs of one benchmark.
pub const MAX_RUNS: usize = 100;
/// The most `decline` rounds.
pub const MAX_ROUNDS: u64 = 10_000;
/// The most refusal filters a `decline` run may pile up (agents × rounds, or
/// agents × frameworks once every framework has refused every agent): about
/// 3 GB at the ~135 bytes a filter costs.
pub const MAX_FILTERS: u64 = 20_000_000;

/// A flag out of its bounds (the CLI exits 2 naming it).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{flag}: {message}")]
pub struct BadFlag {
    pub flag: &'static str,
    pub message: String,
}

fn bad(flag: &'static str, message: String) -> BadFlag {
    BadFlag { flag, message }
}

impl BenchConfig {
    /// Every bound, checked before anything is allocated.
    pub fn check(&self) -> Result<(), BadFlag> {
        let within = |flag, v: usize, lo: usize, hi: usize| {
            if v < lo || v > hi {
                return Err(bad(flag, format!("{v} is outside {lo}..={hi}")));
            }
            Ok(())
        };
        within("--agents", self.agents, 1, MAX_AGENTS)?;
        within("--runs", self.runs, 1, MAX_RUNS)?;
        match self.workload {
            Workload::Spark => within("--apps", self.apps, 1, MAX_APPS)?,
            Workload::Decline => within("--frameworks", self.frameworks, 1, MAX_FRAMEWORKS)?,
            Workload::Offers => within("--frameworks", self.frameworks, 0, MAX_FRAMEWORKS)?,
        }
        if self.duration.is_zero() || self.duration > MAX_VIRTUAL_TIME {
            return Err(bad(
                "--duration",
                format!(
                    "{:?} is outside (0, {} h], the longest a run can simulate",
                    self.duration,
                    MAX_VIRTUAL_TIME.as_secs() / 3600
                ),
            ));
        }
        if self.workload == Workload::Decline {
            if self.duration.subsec_nanos() != 0 || self.rounds() > MAX_ROUNDS {
                return Err(bad(
                    "--duration",
                    format!(
                        "the decline workload runs one round per second: a whole number of seconds ≤ {MAX_ROUNDS}s"
                    ),
                ));
            }
            let filters = self.agents as u64 * self.rounds().min(self.frameworks as u64);
            if filters > MAX_FILTERS {
                return Err(bad(
                    "--duration",
                    format!(
                        "{} agents × {} rounds would pile up {filters} refusal filters, more than {MAX_FILTERS}; \
                         run fewer rounds or agents",
                        self.agents,
                        self.rounds()
                    ),
                ));
            }
        }
        Ok(())
    }

    /// `decline` rounds: one per second of `duration`.
    pub fn rounds(&self) -> u64 {
        self.duration.as_secs()
    }
}

/// Where a run has got to, for a progress bar.
#[derive(Clone, Debug)]
pub struct Status {
    pub virtual_time: Duration,
    pub messages: u64,
    pub wall: Duration,
}

/// Told of a run's progress about every [`PROGRESS_EVERY`] of wall time.
pub type OnProgress = Arc<dyn Fn(&Status) + Send + Sync>;

/// How often progress is told.
pub const PROGRESS_EVERY: Duration = Duration::from_millis(250);

/// A world observer that counts messages and tells `on` where the run is,
/// reading the wall clock only once per 1,024 messages. It only reads: the
/// run and its trace are the same without it.
pub fn progress_observer(on: Option<OnProgress>) -> Option<Observer> {
    let on = on?;
    let start = Instant::now();
    let (mut messages, mut last) = (0u64, Duration::ZERO);
    Some(Box::new(move |t, _from, _to, _msg| {
        messages += 1;
        if messages.is_multiple_of(1024) {
            let wall = start.elapsed();
            if wall >= last + PROGRESS_EVERY {
                last = wall;
                on(&Status { virtual_time: Duration::from_micros(t.micros()), messages, wall });
            }
        }
    }))
}

/// What one run measured. `None` where a workload has no such figure.
#[derive(Clone, Debug, Default)]
pub struct Sample {
    /// Wall time of the whole run, setup included.
    pub wall: Duration,
    /// CPU time of the thread that ran it.
    pub cpu: Option<Duration>,
    /// Wall time of building the workload, where it is apart from the run (`decline`).
    pub setup: Option<Duration>,
    /// Virtual time reached.
    pub virtual_time: Duration,
    pub offers: u64,
    pub messages: Option<u64>,
    /// Wall time of each allocation cycle.
    pub cycles: Vec<Duration>,
    /// CPU time of each allocation cycle (`decline`).
    pub cycles_cpu: Vec<Duration>,
    /// Resident set before the run and its peak during it.
    pub base_rss: Option<u64>,
    pub peak_rss: Option<u64>,
    /// False when the peak could not be reset, so it covers earlier runs too.
    pub peak_is_own: bool,
    /// Refusal filters live at the end (`decline`).
    pub live_filters: Option<u64>,
    /// The trace digest (`spark`).
    pub digest: Option<String>,
    /// What the checks and expectations found wrong (`spark`; empty: all held).
    pub checked: Option<Vec<String>>,
}

/// Run the benchmark once, measuring time and memory around the workload.
/// `config` must have passed [`BenchConfig::check`]. `base_rss` is the
/// resident set the memory figures grow from: the process's before its
/// first run (memory a run frees is often kept by malloc for the next, so
/// the resident set just before a later run would hide that run's growth).
pub fn run_once(config: &BenchConfig, base_rss: Option<u64>, progress: Option<&OnProgress>) -> Result<Sample, String> {
    let c = config;
    let peak_is_own = measure::reset_peak_rss();
    let (start, cpu_start) = (Instant::now(), measure::thread_cpu());
    let mut sample = match c.workload {
        Workload::Offers => offers::run(c.agents, c.frameworks, c.sorter, c.transport, c.duration, progress),
        Workload::Decline => decline::run(c.agents, c.frameworks, c.sorter, c.rounds(), progress),
        Workload::Spark => spark::run(c, progress)?,
    };
    sample.wall = start.elapsed();
    sample.cpu = cpu_start.and_then(|c| Some(measure::thread_cpu()?.saturating_sub(c)));
    sample.base_rss = base_rss;
    sample.peak_rss = measure::peak_rss();
    sample.peak_is_own = peak_is_own;
    Ok(sample)
}

impl Sample {
    /// Virtual time ÷ wall time.
    pub fn speed(&self) -> f64 {
        self.virtual_time.as_secs_f64() / self.wall.as_secs_f64()
    }

    /// Offers made per second of wall time.
    pub fn offers_per_sec(&self) -> f64 {
        self.offers as f64 / self.wall.as_secs_f64()
    }

    /// Peak resident set growth over the run ÷ `agents`, in bytes.
    pub fn rss_per_agent(&self, agents: usize) -> Option<f64> {
        Some(self.peak_rss?.saturating_sub(self.base_rss?) as f64 / agents as f64)
    }
}
