//! The flags that choose what a learner sees (`--only`, `--kinds`, `--from`,
//! `--to`, `--hide`, `--layer`) and the pictures drawn from a trace
//! (`--perfetto`, `--mermaid`), shared by `mesocosm run` and `mesocosm flow`;
//! and the HTML report of a run (`run --report`).

use super::Stdout;
use crate::flow::{self, Filter, LayerChoice, Record};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

#[derive(clap::Args, Default)]
pub(super) struct ViewArgs {
    /// Show only messages from or to these actors (comma-separated names or
    /// globs: `master,driver:etl`, `agent-*`).
    #[arg(long, value_name = "ACTORS")]
    only: Option<String>,
    /// Show only messages of these kinds (`OFFERS,ACCEPT,DECLINE`, `RunTaskMessage`).
    #[arg(long, value_name = "KINDS")]
    kinds: Option<String>,
    /// Show nothing before this virtual time (`10s`, `1m30s`).
    #[arg(long, value_name = "DURATION")]
    from: Option<String>,
    /// Show nothing after this virtual time.
    #[arg(long, value_name = "DURATION")]
    to: Option<String>,
    /// Hide groups of routine messages: pings, heartbeats, acks, spark-tasks.
    #[arg(long, value_name = "GROUPS")]
    hide: Option<String>,
    /// Show one protocol layer: mesos (the scheduler, master-agent and executor
    /// APIs) or spark (Spark's RPC between a driver and its executors).
    #[arg(long, value_enum, value_name = "LAYER")]
    layer: Option<LayerArg>,
    /// Write the (filtered) run as a Chrome/Perfetto trace to PATH; open it at
    /// ui.perfetto.dev: a track per actor, messages as flow arrows, faults as marks.
    #[arg(long, value_name = "PATH")]
    perfetto: Option<PathBuf>,
    /// Write the (filtered) run as a Mermaid sequenceDiagram to PATH.
    #[arg(long, value_name = "PATH")]
    mermaid: Option<PathBuf>,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum LayerArg {
    Mesos,
    Spark,
}

impl ViewArgs {
    /// The filter the flags describe; a bad value is an error naming its flag.
    pub(super) fn filter(&self) -> Result<Filter, String> {
        let mut f = Filter::default();
        if let Some(v) = &self.only {
            f = f.only(v)?;
        }
        if let Some(v) = &self.kinds {
            f = f.kinds(v)?;
        }
        if let Some(v) = &self.hide {
            f = f.hide(v)?;
        }
        f = f.window(self.from.as_deref(), self.to.as_deref())?;
        f.layer = self.layer.map(|l| match l {
            LayerArg::Mesos => LayerChoice::Mesos,
            LayerArg::Spark => LayerChoice::Spark,
        });
        Ok(f)
    }

    /// True if a picture is asked for (the run must keep its trace).
    pub(super) fn draws(&self) -> bool {
        self.perfetto.is_some() || self.mermaid.is_some()
    }

    /// Draw the asked-for pictures of `records`, keeping what `filter` keeps.
    pub(super) fn draw(&self, records: &[Record], filter: &Filter) -> Result<(), String> {
        let kept: Vec<Record> = records.iter().filter(|r| filter.keeps(r)).cloned().collect();
        if let Some(p) = &self.perfetto {
            let json = flow::perfetto::export(&kept).to_string();
            write_file(p, json.as_bytes())?;
        }
        if let Some(p) = &self.mermaid {
            write_file(p, flow::mermaid::export(&kept).as_bytes())?;
        }
        Ok(())
    }
}

/// Write the run's HTML report (`run --report PATH`, `report -o PATH`) into `file`, created at `path` before the run.
pub(super) fn write_report(
    path: &Path,
    mut file: std::fs::File,
    records: &[Record],
    report: &crate::runner::Report,
) -> Result<(), String> {
    let page = flow::html::render(records, &outcome(report));
    file.write_all(page.as_bytes()).map_err(|e| format!("cannot write report {}: {e}", path.display()))
}

/// The report in the page's words: the verdict, and the summary's lines as
/// `Report::render` prints them (with Mesos tasks named apart from Spark's).
fn outcome(report: &crate::runner::Report) -> flow::html::Outcome {
    let transport = match report.transport {
        mesocosm_sim::Transport::Grpc => "grpc",
        mesocosm_sim::Transport::Memory => "memory",
    };
    // The first line names the scenario and the run, which the page says in its own words.
    let mut summary: Vec<String> = report.summary_lines().into_iter().skip(1).collect();
    summary.extend(report.digest.iter().map(|d| format!("digest: {d}")));
    flow::html::Outcome {
        scenario: report.scenario.clone(),
        run: format!("seed {}, transport {transport}, ended at {}", report.seed, report.ended_at),
        ended_at: report.ended_at.micros(),
        failure: report.failure.as_ref().map(|f| format!("{} at {}: {f}", f.kind(), f.at())),
        expectations: report
            .expectations
            .iter()
            .map(|e| flow::html::Judged {
                label: e.label.clone(),
                text: e.text.clone(),
                held: e.held,
                observed: e.observed.clone(),
            })
            .collect(),
        checks: report.checks.iter().map(|c| (c.check.to_string(), c.message.clone())).collect(),
        warnings: report.warnings.clone(),
        summary,
        by_kind: report.by_kind.iter().map(|((p, k), n)| (p.to_string(), k.to_string(), *n)).collect(),
    }
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), String> {
    std::fs::write(path, bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// A writer that keeps what it is given (the run's JSONL trace, for drawing
/// after the run) and passes it on to `next` (the `--trace` file, if any).
pub(super) struct Keep {
    pub(super) kept: Arc<Mutex<Vec<u8>>>,
    pub(super) next: Option<Box<dyn Write + Send>>,
}

impl Write for Keep {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.kept.lock().unwrap_or_else(|p| p.into_inner()).extend_from_slice(buf);
        match &mut self.next {
            Some(w) => w.write_all(buf).map(|()| buf.len()),
            None => Ok(buf.len()),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.next.as_mut().map_or(Ok(()), |w| w.flush())
    }
}

/// `mesocosm report FILE [--seed N] -o PATH`: the run of `run FILE --report
/// PATH --quiet`, by the same code path, for a learner who wants the page.
#[derive(clap::Args)]
pub(super) struct ReportArgs {
    /// The scenario file (TOML), e.g. scenarios/spark-pi.toml.
    #[arg(value_hint = clap::ValueHint::FilePath)]
    file: PathBuf,
    /// The root seed of every random choice (overrides the scenario's `seed`).
    #[arg(long)]
    seed: Option<u64>,
    /// Where to write the page (one self-contained HTML file).
    #[arg(short = 'o', long = "output", value_name = "PATH")]
    output: PathBuf,
    /// Also keep the JSON Lines trace at PATH.
    #[arg(long, value_name = "PATH")]
    trace: Option<PathBuf>,
}

impl ReportArgs {
    /// The `run` this report is: quiet (the verdict block only), writing the page.
    pub(super) fn into_run(self) -> super::RunArgs {
        super::RunArgs {
            file: self.file,
            seed: self.seed,
            trace: self.trace,
            quiet: true,
            stats: false,
            explain: false,
            check_determinism: false,
            transport: super::TransportArg::Grpc,
            report: Some(self.output),
            view: ViewArgs::default(),
        }
    }
}

#[derive(clap::Args)]
pub(super) struct FlowArgs {
    /// A JSON Lines trace written by `mesocosm run FILE --trace PATH`.
    #[arg(value_hint = clap::ValueHint::FilePath)]
    trace: PathBuf,
    /// Also print the cores' notes (the narration `run --explain` prints).
    #[arg(long)]
    explain: bool,
    #[command(flatten)]
    view: ViewArgs,
}

/// `mesocosm flow TRACE`: print the filtered timeline of a saved trace, and
/// draw the pictures asked for.
pub(super) fn flow(args: FlowArgs) -> ExitCode {
    let filter = match args.view.filter() {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let text = match std::fs::read_to_string(&args.trace) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: cannot read trace {}: {e}", args.trace.display());
            return ExitCode::from(2);
        }
    };
    let records = match flow::records::parse(&args.trace, &text) {
        Ok(r) => r,
        Err(d) => {
            eprintln!("{d}");
            return ExitCode::from(2);
        }
    };
    if let Err(e) = args.view.draw(&records, &filter) {
        eprintln!("error: {e}");
        return ExitCode::from(2);
    }
    if !args.view.draws() {
        let mut out = Stdout::default();
        // Shares are the report's numbers: the live timeline never prints
        // them, so neither does this one (the two must stay identical).
        let shown = |r: &&Record| {
            filter.keeps(r)
                && !matches!(r, Record::Shares(_))
                && (args.explain || !matches!(r, Record::Said(s) if s.is_note()))
        };
        for r in records.iter().filter(shown) {
            let _ = writeln!(out, "{}", flow::line(r));
        }
    }
    ExitCode::SUCCESS
}

#[derive(clap::Args)]
pub(super) struct DecodeArgs {
    /// A JSON Lines trace written by `mesocosm run FILE --trace PATH`.
    #[arg(value_hint = clap::ValueHint::FilePath)]
    trace: PathBuf,
    /// Decode only the record on this line (1-based) and print it indented.
    #[arg(long, value_name = "N")]
    line: Option<usize>,
}

/// `mesocosm decode TRACE`: each message record with its `bytes` decoded as
/// JSON (field `message`), one per line; other records as they are.
pub(super) fn decode(args: DecodeArgs) -> ExitCode {
    let text = match std::fs::read_to_string(&args.trace) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: cannot read trace {}: {e}", args.trace.display());
            return ExitCode::from(2);
        }
    };
    let lines = text.lines().count();
    if let Some(n) = args.line
        && !(1..=lines).contains(&n)
    {
        eprintln!("error: --line {n}: {} has lines 1 to {lines}", args.trace.display());
        return ExitCode::from(2);
    }
    let decoder = flow::decode::Decoder::new();
    let mut out = Stdout::default();
    for (i, line) in text.lines().enumerate() {
        if args.line.is_some_and(|n| n != i + 1) || line.trim().is_empty() {
            continue;
        }
        let at = |col: usize, msg: String| format!("{}:{}:{col}: {msg}", args.trace.display(), i + 1);
        let record = match flow::records::parse_line(line) {
            Ok(r) => r,
            Err((col, msg)) => {
                eprintln!("error: {}", at(col, msg));
                return ExitCode::from(2);
            }
        };
        // Re-read as a map so every key the record has is printed back (sorted by name).
        let mut value: serde_json::Map<String, serde_json::Value> = match serde_json::from_str(line) {
            Ok(v) => v,
            Err(e) => {
                eprintln!("error: {}", at(e.column(), e.to_string()));
                return ExitCode::from(2);
            }
        };
        if let Record::Message(m) = &record {
            match decoder.decode(&m.proto, &m.bytes) {
                Ok(decoded) => {
                    value.remove("bytes");
                    value.insert("message".into(), decoded);
                }
                Err(e) => {
                    let col = line.find("\"bytes\"").map_or(1, |c| c + 1);
                    eprintln!("error: {}", at(col, e));
                    return ExitCode::from(2);
                }
            }
        }
        let value = serde_json::Value::Object(value);
        let printed =
            if args.line.is_some() { serde_json::to_string_pretty(&value) } else { serde_json::to_string(&value) };
        let _ = writeln!(out, "{}", printed.unwrap_or_default());
    }
    ExitCode::SUCCESS
}
