//! A mutation fuzzer over the scenario library.
//!
//! Every library file is mutated the ways users and fuzzers break inputs:
//! numeric extremes, sub-microsecond and huge durations, unicode and long
//! names, huge counts, swapped tables, garbled spark-submit lines, bad Spark
//! values and character-level edits. Every mutant is parsed and checked in
//! process: no panic, a bounded time, and every diagnostic located. A few of
//! the mutants that pass the checks (with `until` clamped so they stay cheap)
//! are run through the `mesocosm` binary, which must exit 0, 1 or 2 within a
//! time and memory bound: never a panic, an abort, a signal or a hang.
//!
//! CI runs a small count. A long run, e.g. for an hour:
//!
//! ```sh
//! MESOCOSM_FUZZ_CASES=100000 MESOCOSM_FUZZ_RUNS=500 MESOCOSM_FUZZ_SEED=7 \
//!   cargo test --release -p mesocosm --test fuzz -- --nocapture
//! ```
//!
//! A failure prints the seed, the case number and the mutant file (kept in the
//! temp directory), so `MESOCOSM_FUZZ_SEED=<seed>` replays it.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use mesocosm::scenario;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn env_u64(key: &str, default: u64) -> u64 {
    std::env::var(key).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn library() -> Vec<(String, String)> {
    let dir = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios"));
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("the scenarios directory")
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read_to_string(&p).unwrap()))
        .collect()
}

const NUMBERS: &[&str] = &[
    "0",
    "-1",
    "1",
    "4294967296",
    "4000000000",
    "100000000",
    "9223372036854775807",
    "18446744073709551615",
    "99999999999999999999999",
    "1e308",
    "1e300",
    "1e-7",
    "0.0000001",
    "nan",
    "inf",
    "-0",
    "1.5",
];

const DURATIONS: &[&str] = &[
    "0",
    "0s",
    "0.5us",
    "1us",
    "1.0000005s",
    "17h59m",
    "18h",
    "19h",
    "213503983d",
    "18446744073709551615s",
    "5124095576030431h",
    "1e3s",
    "-5s",
    "5",
];

const NAMES: &[&str] =
    &["ápp", "名前", "a b", "", "-x", "..", "agent-1", "master", "driver:x", "🚀", "x/y", "*", "\\u0000"];

const SUBMIT_WORDS: &[&str] = &[
    "--deploy-mode cluster",
    "--conf",
    "--conf spark.driver.port=99999999999",
    "--conf spark.mesos.role=..",
    "--conf spark.mesos.role=a//b",
    "--conf spark.executor.memoryOverheadFactor=nan",
    "--conf spark.mesos.driver.failoverTimeout=1e20",
    "--conf spark.mesos.driver.failoverTimeout=0.0000001",
    "--conf spark.executor.cores=0",
    "--conf spark.executor.cores=1",
    "--conf spark.cores.max=0",
    "--conf spark.executor.memory=999999999g",
    "--conf spark.executor.heartbeatInterval=0",
    "--conf spark.dynamicAllocation.enabled=true",
    "--conf spark.dynamicAllocation.executorIdleTimeout=213503983d",
    "--conf spark.locality.wait=0",
    "--conf spark.mesos.rejectOfferDuration=0",
    "--conf spark.task.cpus=0",
    "--name ápp",
    "--total-executor-cores 99999999999",
    "--executor-memory 1.5g",
    "\\",
    "'",
    "\"",
    "--",
];

const RESOURCES: &[&str] = &[
    "cpus:1e300;mem:1024",
    "cpus:1e9;mem:1e9",
    "cpus:0;mem:0",
    "cpus(spark):4;mem:1024",
    "cpus:4;mem:1024;gpus:2",
    "cpus:4;mem:1024;ports:[0-18446744073709551615]",
    "cpus:4;mem:8GB",
];

/// One mutation of `src`.
fn mutate(src: &str, rng: &mut ChaCha8Rng) -> String {
    let pick = |rng: &mut ChaCha8Rng, xs: &[&'static str]| xs[rng.random_range(0..xs.len())];
    match rng.random_range(0..10) {
        // A number anywhere.
        0 => {
            let n = pick(rng, NUMBERS);
            replace_nth_match(src, rng, is_number_start, number_len, n)
        }
        // A duration string.
        1 => {
            let d = pick(rng, DURATIONS);
            replace_nth_quoted(src, rng, parse_like_duration, &format!("\"{d}\""))
        }
        // A name or actor.
        2 => {
            let n = match rng.random_range(0..4) {
                0 => "n".repeat(rng.random_range(200..5000)),
                _ => pick(rng, NAMES).to_string(),
            };
            replace_nth_quoted(src, rng, |v| !v.is_empty() && v.len() < 40 && !v.contains(' '), &format!("\"{n}\""))
        }
        // A huge count.
        3 => {
            let key = pick(rng, &["tasks = ", "count = ", "at_least = ", "exactly = ", "nth = ", "first = "]);
            match src.find(key) {
                Some(at) => {
                    let start = at + key.len();
                    let end = start + src[start..].find('\n').unwrap_or(src.len() - start);
                    format!("{}{}{}", &src[..start], pick(rng, NUMBERS), &src[end..])
                }
                None => src.to_string(),
            }
        }
        // Swap two table headers.
        4 => {
            let headers: Vec<(usize, usize)> = src
                .match_indices("\n[")
                .map(|(i, _)| (i + 1, i + 1 + src[i + 1..].find('\n').unwrap_or(src.len() - i - 1)))
                .collect();
            if headers.len() < 2 {
                return src.to_string();
            }
            let (a, b) = (rng.random_range(0..headers.len()), rng.random_range(0..headers.len()));
            let (x, y) = (headers[a.min(b)], headers[a.max(b)]);
            if x == y {
                return src.to_string();
            }
            format!("{}{}{}{}{}", &src[..x.0], &src[y.0..y.1], &src[x.1..y.0], &src[x.0..x.1], &src[y.1..])
        }
        // Garble a spark-submit line.
        5 => match src.find("spark-submit") {
            Some(at) => {
                let word = pick(rng, SUBMIT_WORDS);
                let after = at + "spark-submit".len();
                let cut = after + rng.random_range(0..src.len().saturating_sub(after).clamp(1, 200));
                let cut = (cut..src.len()).find(|i| src.is_char_boundary(*i)).unwrap_or(src.len());
                format!("{} {word} {}", &src[..cut], &src[cut..])
            }
            None => src.to_string(),
        },
        // A resources string.
        6 => {
            let r = match rng.random_range(0..3) {
                0 => {
                    let n = rng.random_range(1000..20_000u64);
                    let ranges: Vec<String> = (0..n).map(|i| format!("{}-{}", 2 * i, 2 * i)).collect();
                    format!("cpus:4;mem:8192;ports:[{}]", ranges.join(","))
                }
                1 => {
                    let n = rng.random_range(100..2_000);
                    let items: Vec<String> = (0..n).map(|i| format!("i{i}")).collect();
                    format!("cpus:4;mem:8192;colours:{{{}}}", items.join(","))
                }
                _ => pick(rng, RESOURCES).to_string(),
            };
            match src.find("resources = \"") {
                Some(at) => {
                    let start = at + "resources = ".len();
                    let end = start + 1 + src[start + 1..].find('"').map_or(0, |i| i + 1);
                    format!("{}\"{r}\"{}", &src[..start], &src[end..])
                }
                None => src.to_string(),
            }
        }
        // An extra key with an odd value in a random table.
        7 => {
            let line = pick(
                rng,
                &[
                    "optional = true",
                    "optional = \"yes\"",
                    "until = \"0.5us\"",
                    "at = \"19h\"",
                    "after = \"17h\"",
                    "where = { refuse_seconds = \"lots\" }",
                    "keep_running = true",
                    "allocation_interval = \"0.5us\"",
                    "spark_defaults = \"/dev/zero\"",
                ],
            );
            let at = src.match_indices("]\n").map(|(i, _)| i + 2).collect::<Vec<_>>();
            if at.is_empty() {
                return src.to_string();
            }
            let i = at[rng.random_range(0..at.len())];
            format!("{}{line}\n{}", &src[..i], &src[i..])
        }
        // Character-level edits.
        _ => {
            let mut chars: Vec<char> = src.chars().collect();
            for _ in 0..rng.random_range(1..6) {
                if chars.is_empty() {
                    break;
                }
                let i = rng.random_range(0..chars.len());
                let c = pick(rng, &["\"", "'", "\\", "\n", "[", "]", "{", "}", "=", ",", "#", "é", "\u{0}", "9"])
                    .chars()
                    .next()
                    .unwrap_or(' ');
                match rng.random_range(0..3) {
                    0 => chars.insert(i, c),
                    1 => {
                        chars.remove(i);
                    }
                    _ => chars[i] = c,
                }
            }
            chars.into_iter().collect()
        }
    }
}

fn is_number_start(src: &str, i: usize) -> bool {
    let b = src.as_bytes();
    b[i].is_ascii_digit() && (i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'.'))
}

fn number_len(src: &str, i: usize) -> usize {
    src[i..].find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(src.len() - i)
}

/// Replaces a random one of the places where `starts` holds (each `len` long) with `with`.
fn replace_nth_match(
    src: &str,
    rng: &mut ChaCha8Rng,
    starts: impl Fn(&str, usize) -> bool,
    len: impl Fn(&str, usize) -> usize,
    with: &str,
) -> String {
    let hits: Vec<usize> = (0..src.len()).filter(|&i| src.is_char_boundary(i) && starts(src, i)).collect();
    if hits.is_empty() {
        return src.to_string();
    }
    let i = hits[rng.random_range(0..hits.len())];
    format!("{}{with}{}", &src[..i], &src[i + len(src, i)..])
}

/// Replaces a random one-line `"…"` string whose contents satisfy `keep` with `with`.
fn replace_nth_quoted(src: &str, rng: &mut ChaCha8Rng, keep: impl Fn(&str) -> bool, with: &str) -> String {
    let mut spans = Vec::new();
    for (line_start, line) in src.split_inclusive('\n').scan(0, |at, l| {
        let start = *at;
        *at += l.len();
        Some((start, l))
    }) {
        if line.trim_start().starts_with('#') {
            continue;
        }
        let quotes: Vec<usize> = line.match_indices('"').map(|(i, _)| i).collect();
        for pair in quotes.chunks_exact(2) {
            let value = &line[pair[0] + 1..pair[1]];
            if keep(value) {
                spans.push((line_start + pair[0], line_start + pair[1] + 1));
            }
        }
    }
    if spans.is_empty() {
        return src.to_string();
    }
    let (a, b) = spans[rng.random_range(0..spans.len())];
    format!("{}{with}{}", &src[..a], &src[b..])
}

fn parse_like_duration(v: &str) -> bool {
    mesocosm::units::parse_duration(v).is_ok() && v != "0"
}

/// `src` with its run clamped to `limit` of virtual time: the `[scenario]`
/// table's `until` replaced (the result may no longer check, e.g. a fault at 5m).
fn clamped(src: &str, limit: &str) -> String {
    let mut out = String::new();
    let mut in_scenario = false;
    for line in src.split_inclusive('\n') {
        let t = line.trim();
        if t.starts_with('[') {
            in_scenario = t == "[scenario]";
        }
        if in_scenario && t.starts_with("until") {
            continue;
        }
        out.push_str(line);
        if in_scenario && t == "[scenario]" {
            out.push_str(&format!("until = \"{limit}\"\n"));
        }
    }
    out
}

/// Runs the CLI on `file`; its exit code, or a description of how it failed.
fn run_cli(file: &Path, transport: &str, time_limit: Duration) -> Result<i32, String> {
    // `ulimit -v` bounds the address space (4 GiB): an allocation beyond it
    // aborts the process, which this test reports.
    let mut child = Command::new("sh")
        .arg("-c")
        .arg("ulimit -v 4194304 2>/dev/null; exec \"$0\" run \"$1\" --quiet --transport \"$2\"")
        .arg(env!("CARGO_BIN_EXE_mesocosm"))
        .arg(file)
        .arg(transport)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("spawn: {e}"))?;
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            let mut err = String::new();
            if let Some(mut s) = child.stderr.take() {
                use std::io::Read;
                let _ = s.read_to_string(&mut err);
            }
            return match status.code() {
                Some(c @ (0..=2)) if !err.contains("panicked") => Ok(c),
                Some(c) => Err(format!("exit {c}: {err}")),
                None => Err(format!("killed by a signal ({status}): {err}")),
            };
        }
        if started.elapsed() > time_limit {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("still running after {time_limit:?} (a hang?)"));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn mutated_library_scenarios_are_refused_or_run_cleanly() {
    let cases = env_u64("MESOCOSM_FUZZ_CASES", 400);
    let runs = env_u64("MESOCOSM_FUZZ_RUNS", 6);
    let seed = env_u64("MESOCOSM_FUZZ_SEED", 0);
    let run_limit = Duration::from_secs(env_u64("MESOCOSM_FUZZ_RUN_SECONDS", 120));
    let lib = library();
    let dir = std::env::temp_dir().join(format!("mesocosm-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (mut refused, mut accepted, mut ran) = (0u64, 0u64, 0u64);
    // Run the accepted mutants spread over the cases, not just the first ones.
    // Spread the runs over the cases (a little denser, so all of them happen).
    let run_every = (cases * 4 / 5 / runs.max(1)).max(1);
    let mut next_run = 0;
    for case in 0..cases {
        let (name, text) = &lib[rng.random_range(0..lib.len())];
        let mut src = text.clone();
        for _ in 0..rng.random_range(1..4) {
            src = mutate(&src, &mut rng);
        }
        let file = dir.join(format!("case-{case}-{name}"));
        let context = || format!("seed {seed}, case {case} (from {name}), file {}", file.display());
        let started = Instant::now();
        let parsed = std::panic::catch_unwind(|| scenario::parse(&file, &src));
        let elapsed = started.elapsed();
        let Ok(parsed) = parsed else {
            std::fs::write(&file, &src).unwrap();
            panic!("the checker panicked: {}", context());
        };
        if elapsed > Duration::from_secs(5) {
            std::fs::write(&file, &src).unwrap();
            panic!("checking took {elapsed:?}: {}", context());
        }
        match parsed {
            Err(d) => {
                refused += 1;
                for x in &d {
                    if !(x.line >= 1 || x.path() != file.as_path()) || (x.line >= 1 && x.span_len == 0) {
                        std::fs::write(&file, &src).unwrap();
                        panic!("a diagnostic without a place: {x}\n{}", context());
                    }
                }
                let _ = d.to_string();
            }
            Ok(_) => {
                accepted += 1;
                if ran < runs && case >= next_run {
                    // Keep runs cheap: at most two minutes of virtual time.
                    let short = clamped(&src, "2m");
                    let checked = scenario::parse(&file, &short);
                    if let Err(d) = &checked
                        && std::env::var("MESOCOSM_FUZZ_VERBOSE").is_ok()
                    {
                        println!("not run (clamped to 2m): {}", d.0[0].message);
                    }
                    if checked.is_ok() {
                        std::fs::write(&file, &short).unwrap();
                        let transport = if ran % 2 == 0 { "memory" } else { "grpc" };
                        if let Err(e) = run_cli(&file, transport, run_limit) {
                            panic!("{e}\n{}", context());
                        }
                        ran += 1;
                        next_run = case + run_every;
                    }
                }
            }
        }
    }
    println!("fuzz: seed {seed}: {cases} mutants, {refused} refused, {accepted} accepted, {ran} run");
    assert!(refused > 0 && accepted > 0, "the mutations should produce both kinds");
    assert!(ran > 0 || runs == 0 || cases < 50, "no accepted mutant was run");
    let _ = std::fs::remove_dir_all(&dir);
}
