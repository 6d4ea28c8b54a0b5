//! The result file: JSON Lines, one object per line, each with a `record`
//! field saying what it is. For scripts (`jq`), and for `mesocosm sweep merge`.
//!
//! ```text
//! {"record":"sweep","format":1,"mesocosm":"0.1.0","scenario":"scenarios/spark-pi.toml","name":"spark-pi",
//!  "sha256":"…","seeds":"1..200","shard":"0/4","transport":"grpc"}             the header: what ran
//!  (with `"compared":["memory"]` after `--transports grpc,memory`)
//! {"record":"seed","seed":1,"verdict":"passed","digest":"…","failure":null,
//!  "replay":"mesocosm run scenarios/spark-pi.toml --seed 1"}                   one per seed, by seed
//! {"record":"end","runs":50,"wall_ms":2210,"run_ms":4380,"jobs":2}             the sweep finished
//! ```
//!
//! (one line each; wrapped here). `verdict` is `passed`, `failed` or
//! `panicked`; `failure` is the first failing line of the run's summary, as
//! `mesocosm run` prints it. Only the `end` record holds wall-clock figures,
//! so everything before it is the same on any machine; a file without it is
//! a sweep that did not finish, and merge refuses it.
//!
//! Merge takes one file per shard of one sweep and gives back the whole: it
//! refuses (saying why) files of different scenarios (by the hash of the
//! file's bytes), seed ranges, splits, transports or mesocosm versions, a
//! shard given twice or missing, and a file that does not hold exactly its
//! shard's seeds.

use super::compare::{transport_of, transport_word};
use super::shard::{SeedRange, Shard};
use super::{SeedResult, Status, Sweep, Timing};
use mesocosm_sim::Transport;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The version of this format; merge refuses another.
const FORMAT: u32 = 1;

#[derive(Serialize, Deserialize)]
#[serde(tag = "record", rename_all = "lowercase")]
enum Record {
    Sweep {
        format: u32,
        mesocosm: String,
        scenario: String,
        name: String,
        sha256: String,
        seeds: String,
        shard: String,
        transport: String,
        /// The other transports each seed ran over (`--transports`); absent when none.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        compared: Vec<String>,
    },
    Seed {
        seed: u64,
        verdict: String,
        digest: String,
        failure: Option<String>,
        replay: String,
    },
    End {
        runs: u64,
        wall_ms: u64,
        run_ms: u64,
        jobs: u64,
    },
}

fn line(out: &mut dyn Write, r: &Record) -> std::io::Result<()> {
    serde_json::to_writer(&mut *out, r)?;
    writeln!(out)
}

/// Write a finished sweep's result file: header, one record per seed (sorted), end.
pub fn write(out: &mut dyn Write, sweep: &Sweep, results: &[SeedResult], timing: &Timing) -> std::io::Result<()> {
    line(
        out,
        &Record::Sweep {
            format: FORMAT,
            mesocosm: env!("CARGO_PKG_VERSION").to_string(),
            scenario: sweep.file.clone(),
            name: sweep.name.clone(),
            sha256: sweep.sha256.clone(),
            seeds: sweep.seeds.to_string(),
            shard: sweep.shard.to_string(),
            transport: transport_word(sweep.transport).to_string(),
            compared: sweep.compared.iter().map(|t| transport_word(*t).to_string()).collect(),
        },
    )?;
    for r in results {
        line(
            out,
            &Record::Seed {
                seed: r.seed,
                verdict: r.status.word().to_string(),
                digest: r.digest.clone(),
                failure: r.failure.clone(),
                replay: sweep.replay(r.seed),
            },
        )?;
    }
    let ms = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
    line(
        out,
        &Record::End { runs: timing.runs, wall_ms: ms(timing.wall), run_ms: ms(timing.run_time), jobs: timing.jobs },
    )?;
    out.flush()
}

/// Transports as the header writes them, for a message.
fn words(ts: &[Transport]) -> String {
    let w: Vec<&str> = ts.iter().map(|t| transport_word(*t)).collect();
    if w.is_empty() { "none".to_string() } else { w.join(",") }
}

/// One shard's file, read and checked on its own.
struct ShardFile {
    path: PathBuf,
    sweep: Sweep,
    mesocosm: String,
    results: Vec<SeedResult>,
    timing: Timing,
}

/// Read one result file (named `path` in errors, with the line).
fn read(path: &Path, file: impl BufRead) -> Result<ShardFile, String> {
    let at = |n: usize| format!("{}:{n}", path.display());
    let mut header: Option<(Sweep, String)> = None;
    let mut results: Vec<SeedResult> = Vec::new();
    let mut expected: Vec<u64> = Vec::new();
    let mut end: Option<Timing> = None;
    for (i, text) in file.lines().enumerate() {
        let n = i + 1;
        let text = text.map_err(|e| format!("{}: cannot read: {e}", at(n)))?;
        if end.is_some() {
            return Err(format!("{}: a record after the `end` record", at(n)));
        }
        let record: Record =
            serde_json::from_str(&text).map_err(|e| format!("{}: not a sweep result record: {e}", at(n)))?;
        match (record, &header) {
            (Record::Sweep { format, mesocosm, scenario, name, sha256, seeds, shard, transport, compared }, None) => {
                if format != FORMAT {
                    return Err(format!("{}: result format {format}; this mesocosm reads format {FORMAT}", at(n)));
                }
                let seeds: SeedRange = seeds.parse().map_err(|e| format!("{}: seeds: {e}", at(n)))?;
                let shard: Shard = shard.parse().map_err(|e| format!("{}: shard: {e}", at(n)))?;
                let word = |t: &str| transport_of(t).ok_or_else(|| format!("{}: unknown transport `{t}`", at(n)));
                let transport = word(&transport)?;
                let compared = compared.iter().map(|t| word(t)).collect::<Result<Vec<Transport>, String>>()?;
                // Bounded by MAX_SEEDS, which the range's parse checked.
                expected = shard.indices(seeds.len()).map(|i| seeds.seed(i)).collect();
                let sweep = Sweep { file: scenario, name, sha256, seeds, shard, transport, compared };
                header = Some((sweep, mesocosm));
            }
            (Record::Sweep { .. }, Some(_)) => return Err(format!("{}: a second header", at(n))),
            (_, None) => return Err(format!("{}: the file does not start with a `sweep` header record", at(n))),
            (Record::Seed { seed, verdict, digest, failure, .. }, Some((sweep, _))) => {
                let want = expected.get(results.len()).copied();
                if want != Some(seed) {
                    let why = if !sweep.seeds.contains(seed) || !sweep.shard.contains(seed - sweep.seeds.first) {
                        format!("seed {seed} is not one of shard {}'s seeds of {}", sweep.shard, sweep.seeds)
                    } else {
                        format!("seed {seed} is out of order or repeated (expected seed {})", want.unwrap_or(seed))
                    };
                    return Err(format!("{}: {why}", at(n)));
                }
                let status = Status::from_word(&verdict)
                    .ok_or_else(|| format!("{}: unknown verdict `{verdict}` (passed, failed, panicked)", at(n)))?;
                results.push(SeedResult { seed, status, digest, failure });
            }
            (Record::End { runs, wall_ms, run_ms, jobs }, Some(_)) => {
                end = Some(Timing {
                    runs,
                    wall: Duration::from_millis(wall_ms),
                    run_time: Duration::from_millis(run_ms),
                    jobs,
                    shards: 1,
                });
            }
        }
    }
    let Some((sweep, mesocosm)) = header else {
        return Err(format!("{}: empty: not a sweep result file", path.display()));
    };
    let Some(timing) = end else {
        return Err(format!(
            "{}: no `end` record: the sweep of shard {} did not finish ({} of {} seeds recorded)",
            path.display(),
            sweep.shard,
            results.len(),
            expected.len()
        ));
    };
    if results.len() != expected.len() {
        return Err(format!(
            "{}: holds {} of shard {}'s {} seeds (the first missing is seed {})",
            path.display(),
            results.len(),
            sweep.shard,
            expected.len(),
            expected[results.len()]
        ));
    }
    Ok(ShardFile { path: path.to_path_buf(), sweep, mesocosm, results, timing })
}

/// What a merge gives: the whole sweep, every seed's result by seed, and the
/// shards' timings summed.
#[derive(Debug)]
pub struct Merged {
    pub sweep: Sweep,
    pub results: Vec<SeedResult>,
    pub timing: Timing,
}

/// Merge the result files of every shard of one sweep (any order; each a
/// path, for errors, and its contents) into the whole: the summary of
/// `merged.sweep` and `merged.results` is the one a single unsharded sweep
/// prints. The error says which file is wrong and why. The caller opens the
/// files (this library reads only what it is handed), lazily if it likes:
/// each is read to its end before the next is taken, so a merge of a
/// thousand shards holds one open at a time.
pub fn merge<R: BufRead>(inputs: impl IntoIterator<Item = Result<(PathBuf, R), String>>) -> Result<Merged, String> {
    // Each file is checked against the first as soon as it is read, so a
    // merge never holds more records than one sweep's range (MAX_SEEDS).
    let mut by_index: BTreeMap<u64, ShardFile> = BTreeMap::new();
    let mut first: Option<(PathBuf, Sweep, String)> = None;
    for input in inputs {
        let (path, reader) = input?;
        let f = read(&path, reader)?;
        let (first_path, a, version) =
            first.get_or_insert_with(|| (f.path.clone(), f.sweep.clone(), f.mesocosm.clone()));
        let b = &f.sweep;
        // The same sweep: what every shard must agree on, and what each says.
        let differs = [
            ("scenario file (SHA-256 of its bytes)", a.sha256.clone(), b.sha256.clone()),
            ("seed range", a.seeds.to_string(), b.seeds.to_string()),
            ("number of shards", a.shard.count.to_string(), b.shard.count.to_string()),
            ("transport", transport_word(a.transport).to_string(), transport_word(b.transport).to_string()),
            ("transports compared", words(&a.compared), words(&b.compared)),
            ("mesocosm version", version.clone(), f.mesocosm.clone()),
        ];
        if let Some((what, x, y)) = differs.into_iter().find(|(_, x, y)| x != y) {
            return Err(format!(
                "{} and {} are shards of different sweeps: their {what} differ ({x} vs {y})",
                first_path.display(),
                f.path.display()
            ));
        }
        if let Some(other) = by_index.get(&b.shard.index) {
            return Err(format!(
                "overlapping shards: {} and {} are both shard {}",
                other.path.display(),
                f.path.display(),
                b.shard
            ));
        }
        by_index.insert(b.shard.index, f);
    }
    let Some((_, whole, _)) = first else {
        return Err("no result files to merge".into());
    };
    let count = whole.shard.count;
    let missing: Vec<String> =
        (0..count).filter(|k| !by_index.contains_key(k)).map(|k| format!("{k}/{count}")).collect();
    if !missing.is_empty() {
        return Err(format!(
            "missing shard(s) {} of the {count}: merge needs the result file of every shard",
            missing.join(", ")
        ));
    }
    // The whole sweep's file is the lowest shard's (every shard hashed the same bytes).
    let lowest = by_index.values().next().expect("at least one shard");
    let sweep = Sweep { shard: Shard::WHOLE, ..lowest.sweep.clone() };
    let timing = by_index.values().fold(Timing::default(), |t, f| Timing {
        runs: t.runs + f.timing.runs,
        wall: t.wall + f.timing.wall,
        run_time: t.run_time + f.timing.run_time,
        jobs: t.jobs + f.timing.jobs,
        shards: t.shards + 1,
    });
    let mut results: Vec<SeedResult> = by_index.into_values().flat_map(|f| f.results).collect();
    results.sort_by_key(|r| r.seed);
    Ok(Merged { sweep, results, timing })
}
