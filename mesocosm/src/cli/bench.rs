//! `mesocosm bench`: run a workload of [`crate::bench`] R times and print what
//! it measured (min / median / max over the runs), beside Mesos's published
//! figures where the shape matches; `--json` prints the same as one object.
//!
//! On a terminal a progress bar on stderr shows the virtual time reached, the
//! speed and the messages so far; it is never in the output or the trace.

use super::Stdout;
use crate::bench::measure::{min_median_max, percentile};
use crate::bench::{self, BenchConfig, OnProgress, Sample, SorterArg, Status, Workload};
use clap::ValueEnum;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use mesocosm_sim::Transport;
use serde_json::{Value, json};
use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

#[derive(clap::Args)]
#[command(after_help = "Workloads: `offers` (offer churn: a real master and agents, frameworks that answer \
every offer at once; no per-step checks), `spark` (Spark apps in the shape of scenarios/scale/, every \
invariant and expectation checked, through the cluster builder), `decline` (the allocator alone, in the \
shape of Mesos's DeclineOffers benchmark: one round per second of --duration). Exit status: 0 measured; \
1 a spark run's checks or expectations failed; 2 a flag out of its bounds (the message names it).")]
pub(super) struct BenchArgs {
    /// Which workload.
    #[arg(long, value_enum, default_value_t = WorkloadArg::Offers)]
    workload: WorkloadArg,
    /// Mesos agents (1..=100000).
    #[arg(long, default_value_t = 1000)]
    agents: usize,
    /// Frameworks of the offers and decline workloads (offers 0..=10000, decline 1..=10000).
    #[arg(long, default_value_t = 10)]
    frameworks: usize,
    /// Spark apps of the spark workload (1..=10000), arriving over the first 40 s.
    #[arg(long, default_value_t = 20)]
    apps: usize,
    /// The allocator's sorter (Mesos's --role_sorter and --framework_sorter).
    #[arg(long, value_enum, default_value_t = AllocatorArg::Drf)]
    allocator: AllocatorArg,
    /// How messages travel: real gRPC over in-memory HTTP/2, or straight into mailboxes.
    #[arg(long, value_enum, default_value_t = super::TransportArg::Grpc)]
    transport: super::TransportArg,
    /// Virtual time to simulate (decline: rounds, one per second), e.g. 60s, 10m.
    #[arg(long, default_value = "60s", value_parser = crate::units::parse_duration)]
    duration: Duration,
    /// Runs (1..=100); figures are min / median / max over them.
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// spark: turn off the per-step invariant checks, to measure what they cost
    /// (the judge and the expectations still run).
    #[arg(long)]
    no_step_checks: bool,
    /// Print one JSON object instead of the table.
    #[arg(long)]
    json: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum WorkloadArg {
    Offers,
    Spark,
    Decline,
}

#[derive(Clone, Copy, ValueEnum)]
enum AllocatorArg {
    Drf,
    Random,
}

impl BenchArgs {
    fn config(&self) -> BenchConfig {
        BenchConfig {
            workload: match self.workload {
                WorkloadArg::Offers => Workload::Offers,
                WorkloadArg::Spark => Workload::Spark,
                WorkloadArg::Decline => Workload::Decline,
            },
            agents: self.agents,
            frameworks: self.frameworks,
            apps: self.apps,
            sorter: match self.allocator {
                AllocatorArg::Drf => SorterArg::Drf,
                AllocatorArg::Random => SorterArg::Random,
            },
            transport: match self.transport {
                super::TransportArg::Grpc => Transport::Grpc,
                super::TransportArg::Memory => Transport::Memory,
            },
            duration: self.duration,
            runs: self.runs,
            step_checks: !self.no_step_checks,
        }
    }
}

/// How a figure reads.
#[derive(Clone, Copy)]
enum Unit {
    Secs,
    Millis,
    Times,
    PerSec,
    MiB,
    KiB,
    Count,
}

/// One figure of one run: its JSON key, its label in the table, and its value.
struct Figure {
    key: &'static str,
    label: &'static str,
    unit: Unit,
    value: Option<f64>,
}

fn figures(s: &Sample, c: &BenchConfig) -> Vec<Figure> {
    let f = |key, label, unit, value| Figure { key, label, unit, value };
    let secs = |d: Duration| Some(d.as_secs_f64());
    let mut sorted = s.cycles.clone();
    sorted.sort();
    let mut sorted_cpu = s.cycles_cpu.clone();
    sorted_cpu.sort();
    let pct = |v: &[Duration], p| percentile(v, p).map(|d| d.as_secs_f64() * 1000.0);
    let mut out = vec![
        f("wall_s", "wall time", Unit::Secs, secs(s.wall)),
        f("cpu_s", "CPU time", Unit::Secs, s.cpu.and_then(secs)),
    ];
    if let Some(setup) = s.setup {
        out.push(f("setup_s", "setup (agents, frameworks)", Unit::Secs, secs(setup)));
    }
    out.extend([
        f("virtual_s", "virtual time reached", Unit::Secs, secs(s.virtual_time)),
        f("speed", "simulated ÷ wall", Unit::Times, Some(s.speed())),
        f("offers_per_s", "offers/s (wall)", Unit::PerSec, Some(s.offers_per_sec())),
        f("cycle_p50_ms", "allocation cycle p50", Unit::Millis, pct(&sorted, 50.0)),
        f("cycle_p90_ms", "allocation cycle p90", Unit::Millis, pct(&sorted, 90.0)),
        f("cycle_p99_ms", "allocation cycle p99", Unit::Millis, pct(&sorted, 99.0)),
        f("cycle_max_ms", "allocation cycle max", Unit::Millis, pct(&sorted, 100.0)),
    ]);
    if !sorted_cpu.is_empty() {
        out.extend([
            f("cycle_cpu_p50_ms", "allocation cycle p50, CPU", Unit::Millis, pct(&sorted_cpu, 50.0)),
            f("cycle_cpu_p99_ms", "allocation cycle p99, CPU", Unit::Millis, pct(&sorted_cpu, 99.0)),
            f("cycle_cpu_max_ms", "allocation cycle max, CPU", Unit::Millis, pct(&sorted_cpu, 100.0)),
        ]);
    }
    out.extend([
        f("peak_rss_mib", "peak RSS", Unit::MiB, s.peak_rss.map(|b| b as f64 / (1024.0 * 1024.0))),
        f("rss_per_agent_kib", "RSS growth per agent", Unit::KiB, s.rss_per_agent(c.agents).map(|b| b / 1024.0)),
        f("messages", "messages", Unit::Count, s.messages.map(|m| m as f64)),
        f("offers", "offers made", Unit::Count, Some(s.offers as f64)),
        f("cycles", "allocation cycles", Unit::Count, Some(s.cycles.len() as f64)),
    ]);
    if let Some(n) = s.live_filters {
        out.push(f("live_filters", "live refusal filters", Unit::Count, Some(n as f64)));
    }
    out
}

fn show(unit: Unit, v: Option<f64>) -> String {
    let Some(v) = v else { return "—".into() };
    match unit {
        Unit::Secs => format!("{v:.3} s"),
        Unit::Millis => format!("{v:.2} ms"),
        Unit::Times => format!("{v:.2}×"),
        Unit::PerSec => format!("{v:.0}/s"),
        Unit::MiB => format!("{v:.1} MiB"),
        Unit::KiB => format!("{v:.1} KiB"),
        Unit::Count => format!("{v:.0}"),
    }
}

/// A progress bar on stderr when it is a terminal; `None` otherwise.
fn progress_bar(c: &BenchConfig) -> Option<(ProgressBar, OnProgress)> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::with_draw_target(Some(c.duration.as_millis() as u64), ProgressDrawTarget::stderr());
    let style = ProgressStyle::with_template("{prefix} [{bar:30}] {msg}")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
    bar.set_style(style);
    let shown = bar.clone();
    let on: OnProgress = Arc::new(move |s: &Status| {
        shown.set_position(s.virtual_time.as_millis() as u64);
        let speed = s.virtual_time.as_secs_f64() / s.wall.as_secs_f64().max(1e-9);
        let messages = if s.messages > 0 { format!(", {} messages", s.messages) } else { String::new() };
        shown.set_message(format!("virtual {:.1} s, {speed:.2}× real time{messages}", s.virtual_time.as_secs_f64()));
    });
    Some((bar, on))
}

pub(super) fn bench(args: BenchArgs) -> ExitCode {
    let c = args.config();
    if let Err(e) = c.check() {
        eprintln!("error: {e}");
        return ExitCode::from(2);
    }
    let mut samples = Vec::with_capacity(c.runs);
    let base_rss = crate::bench::measure::rss();
    for i in 0..c.runs {
        let progress = progress_bar(&c);
        if let Some((bar, _)) = &progress {
            bar.set_prefix(format!("run {}/{}", i + 1, c.runs));
        }
        let run = bench::run_once(&c, base_rss, progress.as_ref().map(|(_, on)| on));
        if let Some((bar, _)) = progress {
            bar.finish_and_clear();
        }
        match run {
            Ok(s) => samples.push(s),
            Err(e) => {
                eprintln!("error: the {} workload could not be built: {e}", c.workload.name());
                return ExitCode::from(2);
            }
        }
    }
    let failed: Vec<String> = samples.iter().flat_map(|s| s.checked.iter().flatten().cloned()).collect();
    let mut out = Stdout::default();
    let written = if args.json { print_json(&mut out, &c, &samples) } else { print_table(&mut out, &c, &samples) };
    if let Err(e) = written.and_then(|()| out.flush()) {
        eprintln!("error: writing the results: {e}");
        return ExitCode::from(2);
    }
    ExitCode::from(if failed.is_empty() { 0 } else { 1 })
}

fn transport_name(t: Transport) -> &'static str {
    match t {
        Transport::Grpc => "grpc",
        Transport::Memory => "memory",
    }
}

fn shape(c: &BenchConfig) -> String {
    let who = match c.workload {
        Workload::Spark => format!("{} apps", c.apps),
        _ => format!("{} frameworks", c.frameworks),
    };
    let how = match c.workload {
        Workload::Decline => format!("{} rounds", c.rounds()),
        _ => {
            format!("{} transport, {} virtual", transport_name(c.transport), crate::units::format_duration(c.duration))
        }
    };
    let checks = match c.workload {
        Workload::Spark if c.step_checks => ", every check on",
        Workload::Spark => ", per-step checks OFF (judge and expectations on)",
        Workload::Offers => ", no per-step checks",
        Workload::Decline => "",
    };
    format!("{} agents, {who}, {} allocator, {how}, {} runs{checks}", c.agents, c.sorter.name(), c.runs)
}

/// The digest of every run, if they agree, or why not.
fn digest_line(samples: &[Sample]) -> Option<String> {
    let first = samples.first()?.digest.clone()?;
    Some(match samples.iter().all(|s| s.digest.as_deref() == Some(&first)) {
        true => format!("digest {first} (the same in every run)"),
        false => "digests DIFFER between runs of the same workload".into(),
    })
}

fn print_table(out: &mut Stdout, c: &BenchConfig, samples: &[Sample]) -> std::io::Result<()> {
    writeln!(out, "mesocosm bench --workload {}: {}", c.workload.name(), shape(c))?;
    writeln!(out)?;
    writeln!(out, "{:<28}{:>14}{:>14}{:>14}", "", "min", "median", "max")?;
    let per_run: Vec<Vec<Figure>> = samples.iter().map(|s| figures(s, c)).collect();
    for (i, row) in per_run[0].iter().enumerate() {
        let values: Vec<f64> = per_run.iter().filter_map(|r| r[i].value).collect();
        let cells = match min_median_max(&values) {
            Some((lo, mid, hi)) => [lo, mid, hi].map(|v| show(row.unit, Some(v))),
            None => ["—".to_string(), "—".to_string(), "—".to_string()],
        };
        writeln!(out, "{:<28}{:>14}{:>14}{:>14}", row.label, cells[0], cells[1], cells[2])?;
    }
    writeln!(out)?;
    if samples.iter().any(|s| !s.peak_is_own) {
        writeln!(out, "note: the peak RSS could not be reset between runs; each covers the runs before it")?;
    }
    if let Some(d) = digest_line(samples) {
        writeln!(out, "{d}")?;
    }
    if c.workload == Workload::Spark {
        let failed: Vec<&String> = samples.iter().flat_map(|s| s.checked.iter().flatten()).collect();
        match failed.is_empty() {
            true => writeln!(out, "checks: every invariant and expectation held in every run")?,
            false => {
                writeln!(out, "checks: FAILED")?;
                for f in failed {
                    writeln!(out, "  {f}")?;
                }
            }
        }
    }
    for m in bench::mesos_figures(c) {
        writeln!(out, "Mesos, published: {}: {}", m.what, m.figure)?;
        writeln!(out, "  source: {}", m.source)?;
        // On a shared machine wall time counts the waits for a core; where the
        // cycle's CPU time was measured, that is what compares with Mesos's
        // figure (measured on a dedicated machine).
        let (ours, clock) = match per_run_median(&per_run, "cycle_cpu_p50_ms") {
            Some(cpu) => (Some(cpu), "CPU"),
            None => (per_run_median(&per_run, "cycle_p50_ms"), "wall"),
        };
        if let (Some(theirs), Some(ours)) = (m.cycle_secs, ours) {
            let here = match c.workload {
                Workload::Decline => "the allocator alone",
                _ => "end to end, master and messages included",
            };
            writeln!(
                out,
                "  here ({here}): median cycle {ours:.2} ms ({clock}), {:.1}× faster than this figure",
                theirs * 1000.0 / ours
            )?;
        }
    }
    Ok(())
}

fn per_run_median(per_run: &[Vec<Figure>], key: &str) -> Option<f64> {
    let values: Vec<f64> =
        per_run.iter().flat_map(|r| r.iter().filter(|f| f.key == key).filter_map(|f| f.value)).collect();
    min_median_max(&values).map(|(_, m, _)| m)
}

fn print_json(out: &mut Stdout, c: &BenchConfig, samples: &[Sample]) -> std::io::Result<()> {
    let per_run: Vec<Vec<Figure>> = samples.iter().map(|s| figures(s, c)).collect();
    let runs: Vec<Value> = per_run
        .iter()
        .zip(samples)
        .map(|(r, s)| {
            let mut o: serde_json::Map<String, Value> = r.iter().map(|f| (f.key.to_string(), json!(f.value))).collect();
            o.insert("digest".into(), json!(s.digest));
            o.insert("problems".into(), json!(s.checked));
            Value::Object(o)
        })
        .collect();
    let summary: serde_json::Map<String, Value> = per_run[0]
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let values: Vec<f64> = per_run.iter().filter_map(|r| r[i].value).collect();
            let v = min_median_max(&values).map(|(min, median, max)| json!({"min": min, "median": median, "max": max}));
            (f.key.to_string(), v.unwrap_or(Value::Null))
        })
        .collect();
    let mesos: Vec<Value> = bench::mesos_figures(c)
        .iter()
        .map(|m| json!({"what": m.what, "figure": m.figure, "source": m.source, "cycle_s": m.cycle_secs}))
        .collect();
    let doc = json!({
        "workload": c.workload.name(),
        "agents": c.agents,
        "frameworks": c.frameworks,
        "apps": c.apps,
        "allocator": c.sorter.name(),
        "transport": transport_name(c.transport),
        "duration_s": c.duration.as_secs_f64(),
        "step_checks": c.workload == Workload::Spark && c.step_checks,
        "runs": runs,
        "summary": summary,
        "mesos": mesos,
    });
    writeln!(out, "{doc}")
}
