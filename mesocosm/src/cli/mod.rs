//! The `mesocosm` command line, as a library function: [`main_with`] runs it
//! with a [`Registry`] of framework kinds, so a user's own binary is the same
//! CLI plus their parts.
//!
//! Exit codes: 0 the run completed and every check held; 1 a check failed, or the
//! run stopped on a livelock or a transport refusal (or two runs of
//! `--check-determinism` differed); 2 bad input (the diagnostic names the file,
//! line and column); 3 an actor panicked (a bug in mesocosm: the message names the
//! actor, the virtual time and the input, and the same run replays to it).
//!
//! A closed stdout (`mesocosm run … | head`) silences the rest of the output; the
//! run still ends with its verdict, as Unix filters do.

mod bench;
#[cfg(feature = "props")]
mod chaos;
mod flow;
mod sweep;

use crate::registry::Registry;
use crate::runner::{self, Report, RunOptions, Show};
use crate::scenario;
use clap::{Parser, Subcommand, ValueEnum};
use mesocosm_sim::Transport;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

#[derive(Parser)]
#[command(version, about = "A deterministic, simulated Apache Mesos + Apache Spark cluster.")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a scenario file: print its timeline and summary, check it, exit 0/1/2.
    Run(RunArgs),
    /// Read a saved trace (`run --trace PATH`): print its timeline, filtered,
    /// or draw it (`--perfetto`, `--mermaid`).
    Flow(flow::FlowArgs),
    /// Print a saved trace with each message's bytes decoded as JSON (no protoc needed).
    Decode(flow::DecodeArgs),
    /// Run a scenario file and write its self-contained HTML report (`run --report`).
    Report(flow::ReportArgs),
    /// Measure a workload (offer churn, Spark apps, the allocator alone): offers/s,
    /// allocation cycle percentiles, simulated ÷ wall speed, peak memory, beside Mesos's figures.
    Bench(bench::BenchArgs),
    /// Run a scenario over many seeds in parallel (optionally one shard of them)
    /// and summarise: how many passed, and each failure with its replay command.
    /// `sweep merge` joins the result files of every shard.
    Sweep(sweep::SweepArgs),
    /// Run a scenario under random fault schedules; shrink a failing one to a
    /// minimal scenario file that replays it.
    #[cfg(feature = "props")]
    Chaos(chaos::ChaosArgs),
}

#[derive(clap::Args)]
#[command(after_help = "Exit status: 0 the run completed and every check held; 1 a check failed, or the \
run stopped on a livelock or a transport refusal (or --check-determinism saw two different digests); \
2 bad input (the message names file, line and column); 3 an actor panicked (a bug in mesocosm; \
the message names the actor, the virtual time and the input). A closed stdout silences the output \
and keeps the run's exit status.")]
struct RunArgs {
    /// The scenario file (TOML), e.g. scenarios/spark-pi.toml.
    #[arg(value_hint = clap::ValueHint::FilePath)]
    file: PathBuf,
    /// The root seed of every random choice (overrides the scenario's `seed`).
    #[arg(long)]
    seed: Option<u64>,
    /// Write the trace as JSON Lines to PATH (one object per message: t, from, to,
    /// proto, kind, summary, base64 bytes).
    #[arg(long, value_name = "PATH")]
    trace: Option<PathBuf>,
    /// Print only the verdict block (expectations, checks, digest): no
    /// timeline, no summary.
    #[arg(long)]
    quiet: bool,
    /// Also print the messages by kind, as a table, between the summary and the verdict.
    #[arg(long, conflicts_with = "quiet")]
    stats: bool,
    /// Also narrate each decision on the timeline (why an offer went to whom, why
    /// Spark declined it, …).
    #[arg(long, conflicts_with = "quiet")]
    explain: bool,
    /// Run the scenario twice in this process and exit 1 if the trace digests differ.
    #[arg(long)]
    check_determinism: bool,
    /// How messages travel: real gRPC over in-memory HTTP/2 (default), or direct
    /// in-memory delivery (same messages, no encoding; for measuring gRPC's cost).
    #[arg(long, value_enum, default_value_t = TransportArg::Grpc)]
    transport: TransportArg,
    /// Write the run as one self-contained HTML page to PATH (no network needed to
    /// open it): the verdict first, a sequence diagram with the noise folded away
    /// (click an arrow for its decoded message), the offer cycles, and plots (cpus
    /// and memory, DRF shares, Spark tasks; executors per agent, Spark tasks per
    /// executor). It draws the whole run; the page filters it.
    #[arg(long, value_name = "PATH", conflicts_with = "check_determinism")]
    report: Option<PathBuf>,
    #[command(flatten)]
    view: flow::ViewArgs,
}

#[derive(Clone, Copy, ValueEnum)]
enum TransportArg {
    Grpc,
    Memory,
}

impl From<TransportArg> for Transport {
    fn from(t: TransportArg) -> Transport {
        match t {
            TransportArg::Grpc => Transport::Grpc,
            TransportArg::Memory => Transport::Memory,
        }
    }
}

fn init_logs() {
    struct SimTimer;
    impl tracing_subscriber::fmt::time::FormatTime for SimTimer {
        fn format_time(&self, w: &mut tracing_subscriber::fmt::format::Writer<'_>) -> std::fmt::Result {
            match mesocosm_sim::log_time() {
                Some(t) => write!(w, "{t:>14}"),
                None => write!(w, "{:>14}", "-"),
            }
        }
    }
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_timer(SimTimer)
        .with_writer(std::io::stderr)
        .try_init();
}

/// The `mesocosm` CLI (`mesocosm run <file>` and its flags, exit codes
/// 0/1/2/3), knowing the framework kinds of `registry`: a user's binary that
/// registers its own parts runs their scenario files with every fault and
/// expectation of the language.
///
/// ```no_run
/// use mesocosm::registry::Registry;
///
/// fn main() -> std::process::ExitCode {
///     let mut registry = Registry::default();
///     registry.register_framework("my-scheduler", mesocosm::frameworks::sleep_tasks::SleepTasksPlugin);
///     mesocosm::cli::main_with(registry)
/// }
/// ```
pub fn main_with(registry: Registry) -> ExitCode {
    init_logs();
    let cli = Cli::parse();
    match cli.command {
        Command::Run(args) => run(args, &registry),
        Command::Flow(args) => flow::flow(args),
        Command::Decode(args) => flow::decode(args),
        Command::Report(args) => run(args.into_run(), &registry),
        Command::Bench(args) => bench::bench(args),
        Command::Sweep(args) => sweep::sweep(args, &registry),
        #[cfg(feature = "props")]
        Command::Chaos(args) => chaos::chaos(args, &registry),
    }
}

/// stdout that goes quiet once its reader has gone (`mesocosm run … | head`):
/// the run carries on to its verdict without printing, as a Unix filter whose
/// reader left would, instead of failing with "Broken pipe".
#[derive(Clone, Default)]
struct Stdout {
    closed: Arc<AtomicBool>,
}

impl Stdout {
    fn quiet_if_closed(&self, result: std::io::Result<()>) -> std::io::Result<()> {
        match result {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                self.closed.store(true, Ordering::Relaxed);
                Ok(())
            }
            r => r,
        }
    }
}

impl Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if !self.closed.load(Ordering::Relaxed) {
            let r = std::io::stdout().lock().write_all(buf);
            self.quiet_if_closed(r)?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.closed.load(Ordering::Relaxed) {
            return Ok(());
        }
        let r = std::io::stdout().lock().flush();
        self.quiet_if_closed(r)
    }
}

/// Print a line on [`Stdout`] (`println!` would panic on a closed stdout).
macro_rules! say {
    ($($arg:tt)*) => {{
        let mut out = Stdout::default();
        let _ = writeln!(out, $($arg)*);
    }};
}

fn run(args: RunArgs, registry: &Registry) -> ExitCode {
    let scenario = match scenario::load_with(&args.file, registry) {
        Ok(s) => s,
        Err(diags) => {
            eprintln!("{diags}");
            return ExitCode::from(2);
        }
    };
    for w in &scenario.warnings {
        eprintln!("{}", crate::diag::Warning(w));
    }
    let transport = args.transport.into();
    let show = Show { stats: args.stats, verdict_only: args.quiet };
    if args.check_determinism {
        return check_determinism(&scenario, args.seed, transport, registry, show);
    }
    let filter = match args.view.filter() {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let mut trace = match &args.trace {
        Some(p) => match std::fs::File::create(p) {
            Ok(f) => Some(Box::new(std::io::BufWriter::new(f)) as Box<dyn Write + Send>),
            Err(e) => {
                eprintln!("error: cannot create trace file {}: {e}", p.display());
                return ExitCode::from(2);
            }
        },
        None => None,
    };
    // The report's file is created before the run, so a path that cannot be
    // written is bad input found at once, not after a long run.
    let report_file = match &args.report {
        Some(p) => match std::fs::File::create(p) {
            Ok(f) => Some((p, f)),
            Err(e) => {
                eprintln!("error: cannot write report {}: {e}", p.display());
                return ExitCode::from(2);
            }
        },
        None => None,
    };
    // A picture is drawn from the run's own trace, kept in memory as it is written.
    let keep = args.view.draws() || report_file.is_some();
    let kept = Arc::new(std::sync::Mutex::new(Vec::new()));
    if keep {
        trace = Some(Box::new(flow::Keep { kept: kept.clone(), next: trace.take() }));
    }
    let timeline = (!args.quiet).then(|| Box::new(Stdout::default()) as Box<dyn Write + Send>);
    let shown = filter.clone();
    let opts = RunOptions {
        seed: args.seed,
        transport,
        trace,
        timeline,
        explain: args.explain,
        digest: true,
        timeline_filter: Some(Box::new(move |line| shown.shows(line))),
    };
    let report = match runner::run_with(&scenario, opts, registry) {
        Ok(report) => report,
        Err(e) => {
            eprintln!("error: {}: {e}", args.file.display());
            return ExitCode::from(2);
        }
    };
    if keep {
        let text = String::from_utf8_lossy(&kept.lock().unwrap_or_else(|p| p.into_inner())).into_owned();
        let drawn = crate::flow::records::parse(&args.file, &text)
            .map_err(|d| format!("reading the run's own trace: {d}"))
            .and_then(|records| {
                if args.view.draws() {
                    args.view.draw(&records, &filter)?;
                }
                match report_file {
                    Some((p, f)) => flow::write_report(p, f, &records, &report),
                    None => Ok(()),
                }
            });
        if let Err(e) = drawn {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    }
    finish(&report, show)
}

fn finish(report: &Report, show: Show) -> ExitCode {
    let mut out = Stdout::default();
    if let Err(e) = report.render_with(&mut out, show).and_then(|()| out.flush()) {
        eprintln!("error: writing the summary: {e}");
        return ExitCode::from(2);
    }
    if let Some(f) = &report.failure {
        eprintln!("error: {}: run failed ({}): {f}", report.scenario, f.kind());
    }
    ExitCode::from(report.exit_code())
}

fn check_determinism(
    scenario: &scenario::Scenario,
    seed: Option<u64>,
    transport: Transport,
    registry: &Registry,
    show: Show,
) -> ExitCode {
    let mut digests = Vec::new();
    for _ in 0..2 {
        let opts = RunOptions { seed, transport, ..RunOptions::default() };
        match runner::run_with(scenario, opts, registry) {
            Ok(r) => digests.push((r.digest.clone().unwrap_or_default(), r)),
            Err(e) => {
                eprintln!("error: {}: {e}", scenario.path.display());
                return ExitCode::from(2);
            }
        }
    }
    let (a, report) = &digests[0];
    let b = &digests[1].0;
    let code = finish(report, show);
    say!("run 1 digest: {a}");
    say!("run 2 digest: {b}");
    if a != b {
        say!("determinism: FAILED (same scenario and seed, different traces)");
        return ExitCode::from(1);
    }
    say!("determinism: ok (two runs, identical traces)");
    code
}
