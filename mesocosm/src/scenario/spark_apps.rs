//! Checking Spark's `[[apps]]`: the spark-submit line (with errors located at
//! the exact word inside the TOML string), spark-defaults files, the jobs and
//! their stages' duration distributions.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use toml::Spanned;

use super::MAX_TASKS;
use super::raw::RawApp;
use crate::check::{Checker, RawArg, RawDurOrTable, scenario_duration};
use crate::diag::Diagnostic;
use crate::spark::{AppSpec, DurationDist, JobSpec, StageSpec};
use crate::submit::{self, MasterUrl, SparkConf, SubmitSpans};
use crate::units::format_duration;

impl Checker<'_> {
    pub(super) fn app(
        &mut self,
        app: &Spanned<RawApp>,
        masters: &[String],
        zookeeper: &[String],
        dispatcher: Option<&str>,
        until: Duration,
        total_tasks: &mut u64,
    ) -> Option<AppSpec> {
        let a = app.get_ref();
        let before = self.diags.len();
        let at = self.optional_duration(&a.at, "at", Duration::ZERO);
        if at >= until
            && let Some(v) = &a.at
        {
            self.error(
                v.span(),
                format!(
                    "the app is submitted at {} but the run ends at {} (`until`)",
                    format_duration(at),
                    format_duration(until)
                ),
            );
        }
        let host = match &a.host {
            Some(h) if self.host_name(h, "host") => h.get_ref().clone(),
            Some(_) => String::new(),
            None => "edge".to_string(),
        };
        let jobs = self.jobs(app, total_tasks);
        let in_task = a.in_task.as_ref().is_some_and(|v| *v.get_ref());
        if in_task {
            // An in-task app is run by whatever launches its task, on that task's agent.
            for (key, value) in [("at", &a.at), ("host", &a.host)] {
                if let Some(v) = value {
                    self.error(
                        v.span(),
                        format!(
                            "`{key}` does not apply to an app with `in_task = true`: a Mesos task whose command \
                             is its spark-submit runs it, when and where that task is placed"
                        ),
                    );
                }
            }
        }

        let mapper = SubmitMapper::new(self.src, a.submit.span(), a.submit.get_ref());
        let (mut submit, spans) = match submit::parse_spark_submit_with_spans(a.submit.get_ref()) {
            Ok(ok) => ok,
            Err(e) => {
                self.error(mapper.map(e.span()), e.message);
                return None;
            }
        };

        // Spark 3.x reads `--properties-file` *instead of* spark-defaults.conf.
        let defaults = match (&submit.properties_file, &a.spark_defaults) {
            (Some(_), Some(sd)) => {
                self.error(
                    sd.span(),
                    "`spark_defaults` would be ignored: spark-submit has --properties-file, \
                     and Spark reads only one of the two",
                );
                None
            }
            (Some(file), None) => {
                let span = mapper.map(spans.properties_file.clone().unwrap_or_default());
                self.properties(file, span)
            }
            (None, Some(sd)) => self.properties(sd.get_ref(), sd.span()),
            (None, None) => Some(Defaults::default()),
        };
        let defaults = defaults?;
        let plain: BTreeMap<String, String> =
            defaults.entries.iter().map(|(k, (v, _))| (k.clone(), v.clone())).collect();
        let conf = SparkConf::resolve(&plain, &submit);
        // Cluster mode (from the line or spark-defaults) submits to a dispatcher.
        if conf.deploy_mode() == Ok(submit::DeployMode::Cluster) {
            self.check_dispatcher_url(&submit.master, &spans, &mapper, dispatcher);
        } else {
            self.check_master(&submit.master, mapper.map(spans.master.clone()), masters, zookeeper, "driver");
        }
        self.check_conf(&conf, &spans, &mapper, &defaults);
        if let Ok(mode) = conf.deploy_mode() {
            submit.deploy_mode = mode;
        }
        if self.diags.len() > before {
            return None;
        }
        Some(AppSpec {
            name: conf.app_name().to_string(),
            submit,
            submit_text: a.submit.get_ref().clone(),
            conf,
            at,
            host,
            files: a.files.clone(),
            jobs,
            in_task,
        })
    }

    fn jobs(&mut self, app: &Spanned<RawApp>, total_tasks: &mut u64) -> Vec<JobSpec> {
        let a = app.get_ref();
        if a.jobs.is_empty() {
            self.error(app.span(), "this app has no `[[apps.jobs]]`; give it at least one job with one stage");
        }
        let mut jobs = Vec::new();
        for (j, job) in a.jobs.iter().enumerate() {
            let raw = job.get_ref();
            let name = match &raw.name {
                Some(n) if n.get_ref().trim().is_empty() => {
                    self.error(n.span(), "the job name is empty; omit `name` for the default `job-<n>`");
                    String::new()
                }
                Some(n) => n.get_ref().clone(),
                None => format!("job-{}", j + 1),
            };
            if raw.stages.is_empty() {
                self.error(
                    job.span(),
                    format!("job `{name}` has no `[[apps.jobs.stages]]`; give it at least one stage"),
                );
            }
            let mut stages = Vec::new();
            for (si, stage) in raw.stages.iter().enumerate() {
                let st = stage.get_ref();
                let tasks = match u64::try_from(*st.tasks.get_ref()) {
                    Ok(n) if (1..=MAX_TASKS).contains(&n) => {
                        *total_tasks += n;
                        if *total_tasks > MAX_TASKS {
                            self.error(
                                st.tasks.span(),
                                format!("`tasks = {n}` brings the scenario over {MAX_TASKS} tasks in all"),
                            );
                        }
                        n as u32 // ≤ MAX_TASKS < 2^32
                    }
                    _ => {
                        self.error(st.tasks.span(), format!("`tasks` must be between 1 and {MAX_TASKS}"));
                        1
                    }
                };
                let duration = self.dist(&st.duration);
                let parents = match &st.parents {
                    None => (0..si).last().into_iter().collect(),
                    Some(p) => {
                        let valid: Vec<usize> = p.get_ref().iter().filter_map(|&i| usize::try_from(i).ok()).collect();
                        if valid.len() != p.get_ref().len() {
                            self.error(p.span(), "`parents` are stage numbers of this job, counted from 0");
                        }
                        valid
                    }
                };
                stages.push(StageSpec { tasks, duration, parents });
            }
            // The driver's own check of the DAG (Spark builds it from the RDD
            // lineage, so a parent is always an earlier stage and every map
            // stage's output is read by a later one).
            let dag = mesocosm_driver::Job {
                name: name.clone(),
                stages: stages
                    .iter()
                    .enumerate()
                    .map(|(i, s)| {
                        mesocosm_driver::Stage::new(format!("stage {i}"), vec![]).with_parents(s.parents.clone())
                    })
                    .collect(),
            };
            if let Err(e) = dag.check() {
                self.error(job.span(), format!("job `{name}`: {e}"));
            }
            jobs.push(JobSpec { name, stages });
        }
        jobs
    }

    pub(super) fn dist(&mut self, v: &Spanned<RawDurOrTable>) -> DurationDist {
        const KINDS: &str = "expected one of `uniform = [min, max]`, \
                             `normal = [mean, stddev]`, `exponential = mean`";
        let fallback = DurationDist::Fixed(Duration::ZERO);
        let entries = match v.get_ref() {
            RawDurOrTable::Str(s) => {
                return match scenario_duration(s) {
                    Ok(d) => DurationDist::Fixed(d),
                    Err(e) => {
                        self.error(v.span(), format!("bad duration for `duration`: {e}"));
                        fallback
                    }
                };
            }
            RawDurOrTable::Table(entries) => entries,
        };
        let Some((key, arg)) = entries.first() else {
            self.error(v.span(), format!("empty distribution: {KINDS}"));
            return fallback;
        };
        if let Some((extra, _)) = entries.get(1) {
            self.error(
                extra.span(),
                format!(
                    "a distribution has one kind, but this table has both `{}` and `{}`",
                    key.get_ref(),
                    extra.get_ref()
                ),
            );
            return fallback;
        }
        let kind = key.get_ref().as_str();
        let arity = match kind {
            "uniform" | "normal" => 2,
            "exponential" => 1,
            other => {
                self.error(key.span(), format!("unknown distribution `{other}`: {KINDS}"));
                return fallback;
            }
        };
        // Collect the argument strings with their spans.
        let args: Vec<(String, Range<usize>)> = match arg.get_ref() {
            RawArg::Str(s) => vec![(s.clone(), arg.span())],
            RawArg::List(items) => items.iter().map(|i| (i.get_ref().clone(), i.span())).collect(),
        };
        let shape_ok = match (arity, arg.get_ref()) {
            (1, RawArg::Str(_)) => true,
            (2, RawArg::List(items)) => items.len() == 2,
            _ => false,
        };
        if !shape_ok {
            let want = match kind {
                "uniform" => "two durations, [min, max]: `uniform = [\"100ms\", \"2s\"]`",
                "normal" => "two durations, [mean, stddev]: `normal = [\"1s\", \"200ms\"]`",
                _ => "one duration, the mean: `exponential = \"1s\"`",
            };
            self.error(arg.span(), format!("`{kind}` takes {want}"));
            return fallback;
        }
        let mut ds = Vec::new();
        for (s, span) in &args {
            match scenario_duration(s) {
                Ok(d) => ds.push(d),
                Err(e) => self.error(span.clone(), format!("bad duration in `{kind}`: {e}")),
            }
        }
        match (kind, ds.as_slice()) {
            ("uniform", [min, max]) => {
                if min > max {
                    self.error(
                        arg.span(),
                        format!("uniform min {} is greater than max {}", format_duration(*min), format_duration(*max)),
                    );
                    return fallback;
                }
                DurationDist::Uniform { min: *min, max: *max }
            }
            ("normal", [mean, stddev]) => DurationDist::Normal { mean: *mean, stddev: *stddev },
            ("exponential", [mean]) => DurationDist::Exponential { mean: *mean },
            _ => fallback, // a bad duration was already reported
        }
    }

    /// A cluster-mode `--master` must reach this scenario's dispatcher
    /// (`mesos://<dispatcher host>:7077`): spark-submit POSTs the app there.
    fn check_dispatcher_url(
        &mut self,
        url: &MasterUrl,
        spans: &SubmitSpans,
        mapper: &SubmitMapper,
        dispatcher: Option<&str>,
    ) {
        let span = mapper.map(spans.master.clone());
        let port = crate::spark::dispatcher::conf::DEFAULT_PORT;
        match (url, dispatcher) {
            (MasterUrl::Mesos { host, port: p }, Some(d)) if host == d && *p == port => {}
            (_, Some(d)) => self.error(
                span,
                format!("`{url}` names no dispatcher: --deploy-mode cluster submits to the dispatcher, here mesos://{d}:{port}"),
            ),
            (_, None) => self.error(
                span,
                format!("`{url}` names no dispatcher: --deploy-mode cluster submits to a MesosClusterDispatcher; declare one with [dispatcher]"),
            ),
        }
    }

    /// `--master` must reach this scenario's master (`masters` has one
    /// name), or, with several masters, go through ZooKeeper (`zookeeper`:
    /// the declared ensemble's hosts).
    /// `who` is the framework the URL is given to ("driver", "dispatcher").
    pub(super) fn check_master(
        &mut self,
        url: &MasterUrl,
        span: std::ops::Range<usize>,
        masters: &[String],
        zookeeper: &[String],
        who: &str,
    ) {
        let (host, port) = match url {
            MasterUrl::Mesos { host, port } => (host, port),
            MasterUrl::MesosZk { servers, .. } => {
                if zookeeper.is_empty() {
                    // Why a warning, not an error: the seed's line names its
                    // ensemble, and a scenario about something else should run
                    // it as written; but nothing detects anything, so say so.
                    self.warning(
                        span,
                        format!(
                            "`{url}` names a ZooKeeper ensemble, but this scenario declares no [zookeeper]: the \
                             {who} talks to the one master `{}` directly, as if ZooKeeper always named it leader \
                             (declare [zookeeper] servers = 3 to simulate leader detection)",
                            masters.first().map_or("master", String::as_str)
                        ),
                    );
                } else if let Some((h, _)) = servers.iter().find(|(h, _)| !zookeeper.contains(h)) {
                    // Why an error: libmesos would retry a server that does not
                    // exist for ever and the driver would never find a master.
                    self.error(
                        span,
                        format!("`{url}` names ZooKeeper server `{h}`, but the ensemble is {}", zookeeper.join(", ")),
                    );
                }
                return;
            }
        };
        if let [master_name] = masters {
            if host != master_name {
                self.error(
                    span.clone(),
                    format!(
                        "`{url}` names host `{host}`, but this scenario's only Mesos master is `{master_name}` \
                         (set by [master] name); use mesos://{master_name}:{} or mesos://zk://…/mesos",
                        submit::DEFAULT_MESOS_PORT
                    ),
                );
                return;
            }
        } else {
            // Why: libmesos would talk to that one master only, and a backup
            // answers the scheduler API with a redirect the v0 driver does not follow.
            self.error(
                span.clone(),
                format!(
                    "`{url}` names one master, but this scenario runs {} ({}) electing a leader; use mesos://zk://…/mesos",
                    masters.len(),
                    masters.join(", ")
                ),
            );
            return;
        }
        if *port != submit::DEFAULT_MESOS_PORT {
            self.error(
                span,
                format!(
                    "the Mesos master listens on port {} (its --port default), so `{url}` would never connect",
                    submit::DEFAULT_MESOS_PORT
                ),
            );
        }
    }

    /// Reads and parses a spark-defaults / properties file named at `span`.
    fn properties(&mut self, name: &str, span: Range<usize>) -> Option<Defaults> {
        let path = self.path.parent().unwrap_or(Path::new("")).join(name);
        let text = match (self.read)(&path) {
            Ok(t) => t,
            Err(e) => {
                self.error(span, format!("cannot read `{}`: {e}", path.display()));
                return None;
            }
        };
        match submit::parse_properties_with_lines(&text) {
            Ok(entries) => Some(Defaults { path, text, entries }),
            Err(submit::PropertiesError { line, message: msg }) => {
                self.diags.push(Diagnostic::at_line(&path, &text, line, msg));
                None
            }
        }
    }

    /// Checks the Spark conf ([`crate::spark::rules::check`]), pointing at
    /// whichever of the command line or the defaults file supplied each bad value.
    fn check_conf(&mut self, conf: &SparkConf, spans: &SubmitSpans, mapper: &SubmitMapper, defaults: &Defaults) {
        let problems = crate::spark::rules::check(conf);
        for (key, msg) in problems {
            if let Some(span) = spans.conf.get(key) {
                self.error(mapper.map(span.clone()), msg);
            } else if let Some((_, line)) = defaults.entries.get(key) {
                self.diags.push(Diagnostic::at_line(&defaults.path, &defaults.text, *line, msg));
            } else {
                self.error(mapper.whole(), msg);
            }
        }
    }
}

/// A parsed spark-defaults file, kept with its text for diagnostics.
#[derive(Default)]
struct Defaults {
    path: PathBuf,
    text: String,
    entries: BTreeMap<String, (String, usize)>,
}

// ---------------------------------------------------------------------------
// Mapping offsets in a decoded TOML string back to the file
// ---------------------------------------------------------------------------

/// Maps byte offsets in a TOML string's *value* to byte offsets in the file.
pub(super) struct SubmitMapper {
    /// The span of the whole string literal (quotes included).
    span: Range<usize>,
    /// `offsets[i]` is the file offset of value byte `i`; one extra entry for
    /// the end. `None` when the literal could not be re-decoded identically,
    /// in which case every error points at the whole literal.
    offsets: Option<Vec<usize>>,
}

impl SubmitMapper {
    pub(super) fn new(src: &str, span: Range<usize>, value: &str) -> SubmitMapper {
        let offsets = src.get(span.clone()).and_then(|raw| {
            let (decoded, map) = decode_toml_string(raw)?;
            (decoded == value).then(|| map.into_iter().map(|o| o + span.start).collect())
        });
        SubmitMapper { span, offsets }
    }

    fn whole(&self) -> Range<usize> {
        self.span.clone()
    }

    pub(super) fn map(&self, r: Range<usize>) -> Range<usize> {
        let Some(offsets) = &self.offsets else {
            return self.whole();
        };
        let at = |i: usize| offsets.get(i).or(offsets.last()).copied().unwrap_or(self.span.start);
        let start = at(r.start);
        let end = if r.is_empty() { start } else { at(r.end).max(start + 1) };
        start..end
    }
}

/// Decodes a TOML string literal as written (`"…"`, `'…'`, `"""…"""`,
/// `'''…'''`), returning its value and, for each value byte, the offset in
/// `raw` it came from (plus one entry for the end). `None` if `raw` is not
/// a string literal this decoder understands.
fn decode_toml_string(raw: &str) -> Option<(String, Vec<usize>)> {
    let (delim, basic) = if raw.starts_with("\"\"\"") {
        ("\"\"\"", true)
    } else if raw.starts_with("'''") {
        ("'''", false)
    } else if raw.starts_with('"') {
        ("\"", true)
    } else if raw.starts_with('\'') {
        ("'", false)
    } else {
        return None;
    };
    if raw.len() < 2 * delim.len() || !raw.ends_with(delim) {
        return None;
    }
    let multiline = delim.len() == 3;
    let mut pos = delim.len();
    let end = raw.len() - delim.len();
    // A newline right after an opening `"""`/`'''` is not part of the value.
    if multiline {
        if raw[pos..].starts_with("\r\n") {
            pos += 2;
        } else if raw[pos..].starts_with('\n') {
            pos += 1;
        }
    }
    let body = raw.get(pos..end)?;
    let mut out = String::new();
    let mut map = Vec::new();
    let mut chars = body.char_indices().peekable();
    let push = |out: &mut String, map: &mut Vec<usize>, c: char, at: usize| {
        for _ in 0..c.len_utf8() {
            map.push(at);
        }
        out.push(c);
    };
    while let Some((i, c)) = chars.next() {
        let at = pos + i;
        if !(basic && c == '\\') {
            push(&mut out, &mut map, c, at);
            continue;
        }
        let (_, e) = chars.next()?;
        let simple = match e {
            'b' => Some('\u{8}'),
            't' => Some('\t'),
            'n' => Some('\n'),
            'f' => Some('\u{c}'),
            'r' => Some('\r'),
            'e' => Some('\u{1b}'),
            '"' => Some('"'),
            '\\' => Some('\\'),
            _ => None,
        };
        if let Some(s) = simple {
            push(&mut out, &mut map, s, at);
            continue;
        }
        let hex_len = match e {
            'x' => 2,
            'u' => 4,
            'U' => 8,
            _ => 0,
        };
        if hex_len > 0 {
            let mut code = 0u32;
            for _ in 0..hex_len {
                let (_, h) = chars.next()?;
                code = code * 16 + h.to_digit(16)?;
            }
            push(&mut out, &mut map, char::from_u32(code)?, at);
            continue;
        }
        // Line-ending backslash (multi-line basic strings only): skip the
        // rest of the line and all whitespace and newlines after it.
        if multiline && (e == ' ' || e == '\t' || e == '\n' || e == '\r') {
            let mut saw_newline = e == '\n';
            while let Some((_, w)) = chars.peek() {
                match w {
                    ' ' | '\t' | '\r' => {}
                    '\n' => saw_newline = true,
                    _ => break,
                }
                chars.next();
            }
            if !saw_newline {
                return None;
            }
            continue;
        }
        return None;
    }
    map.push(end);
    Some((out, map))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_toml_strings_with_offsets() {
        let (v, m) = decode_toml_string(r#""a\"b""#).unwrap();
        assert_eq!(v, "a\"b");
        assert_eq!(m, vec![1, 2, 4, 5]);
        let (v, m) = decode_toml_string("\"\"\"\nab \\\n   cd\"\"\"").unwrap();
        assert_eq!(v, "ab cd");
        assert_eq!(m[3], 12); // the `c` after the skipped line break
        let (v, _) = decode_toml_string("'''\nx \\\n y'''").unwrap();
        assert_eq!(v, "x \\\n y");
        assert!(decode_toml_string("12").is_none());
    }
}
