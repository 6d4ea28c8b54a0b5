//! `--transports grpc,memory`: each seed run over every transport listed, and a
//! seed whose traces differ is a failure that names the first differing record.
//!
//! The world promises that the trace (and so the digest) of a scenario and a
//! seed does not depend on how messages travel: gRPC takes more task hops than
//! memory at one virtual instant, and the world orders what lands at an
//! instant itself. A failure found over the cheap memory transport must replay
//! over gRPC, so a difference is a bug in the world, and this is how a user
//! finds one:
//!
//! ```text
//!  seed S ──run over grpc──▶ digest A ─┐
//!         ──run over memory─▶ digest B ─┴─ A ≠ B? ──▶ both again with their JSONL traces
//!                                                      ──▶ the first digested record that differs
//! ```
//!
//! Runs keep only digests; only a seed whose digests differ is run again with
//! its traces kept, so a clean sweep costs one run per transport and seed.

use crate::registry::Registry;
use crate::runner::{self, RunError, RunOptions};
use crate::scenario::Scenario;
use mesocosm_sim::Transport;
use std::io::Write;
use std::sync::{Arc, Mutex};

/// The word a transport goes by on the command line and in result files.
pub fn transport_word(t: Transport) -> &'static str {
    match t {
        Transport::Grpc => "grpc",
        Transport::Memory => "memory",
    }
}

/// The transport a word names, if any.
pub fn transport_of(word: &str) -> Option<Transport> {
    [Transport::Grpc, Transport::Memory].into_iter().find(|t| transport_word(*t) == word)
}

/// Where two traces of one seed part: the position of the first digested
/// record that differs (counted from 1) and that record in each, or `None`
/// where one trace had already ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceDifference {
    pub record: usize,
    pub a: (Transport, Option<String>),
    pub b: (Transport, Option<String>),
}

impl std::fmt::Display for TraceDifference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (a, b) = (transport_word(self.a.0), transport_word(self.b.0));
        write!(f, "the trace differs between {a} and {b} from record {}: ", self.record)?;
        let side = |r: &Option<String>| r.clone().unwrap_or_else(|| "(the trace has ended)".to_string());
        write!(f, "{a}: {}; {b}: {}", side(&self.a.1), side(&self.b.1))
    }
}

/// The digested records of a JSONL trace, in order: every record but the
/// notes, events and shares kept for readers (those carry a `type` field).
pub fn digested_records(jsonl: &str) -> Vec<&str> {
    jsonl
        .lines()
        .filter(|l| serde_json::from_str::<serde_json::Value>(l).is_ok_and(|v| v.get("type").is_none()))
        .collect()
}

/// The first place two traces' digested records differ, if they do.
pub fn first_difference(a: (Transport, &str), b: (Transport, &str)) -> Option<TraceDifference> {
    let (ra, rb) = (digested_records(a.1), digested_records(b.1));
    let at = (0..ra.len().max(rb.len())).find(|&i| ra.get(i) != rb.get(i))?;
    let record = |r: &[&str]| r.get(at).map(|s| s.to_string());
    Some(TraceDifference { record: at + 1, a: (a.0, record(&ra)), b: (b.0, record(&rb)) })
}

/// A JSONL trace written into memory, read back after the run.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Run `scenario` at `seed` over `transport` with its JSONL trace kept, and return the trace.
pub fn trace_of(scenario: &Scenario, registry: &Registry, seed: u64, transport: Transport) -> Result<String, RunError> {
    let captured = Captured::default();
    let opts =
        RunOptions { seed: Some(seed), transport, trace: Some(Box::new(captured.clone())), ..RunOptions::default() };
    runner::run_with(scenario, opts, registry)?;
    let bytes = std::mem::take(&mut *captured.0.lock().unwrap_or_else(|p| p.into_inner()));
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// Run `seed` over both transports with traces kept and say where they part
/// (`None`: the traces agree after all, which would itself be a
/// nondeterminism bug the caller reports).
pub fn explain(
    scenario: &Scenario,
    registry: &Registry,
    seed: u64,
    a: Transport,
    b: Transport,
) -> Result<Option<TraceDifference>, RunError> {
    let ta = trace_of(scenario, registry, seed, a)?;
    let tb = trace_of(scenario, registry, seed, b)?;
    Ok(first_difference((a, &ta), (b, &tb)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_differing_digested_record_is_named_and_notes_do_not_count() {
        let a = "{\"t\":1,\"from\":\"a\"}\n{\"t\":1,\"type\":\"note\",\"actor\":\"a\",\"text\":\"x\"}\n{\"t\":2,\"from\":\"b\"}\n";
        let b = "{\"t\":1,\"from\":\"a\"}\n{\"t\":2,\"from\":\"c\"}\n";
        let d = first_difference((Transport::Grpc, a), (Transport::Memory, b)).expect("they differ");
        assert_eq!(d.record, 2);
        assert_eq!(d.a.1.as_deref(), Some("{\"t\":2,\"from\":\"b\"}"));
        assert_eq!(d.b.1.as_deref(), Some("{\"t\":2,\"from\":\"c\"}"));
        let text = d.to_string();
        assert!(text.starts_with("the trace differs between grpc and memory from record 2: grpc: "), "{text}");
        // Only notes differ: the same digested records.
        let c = "{\"t\":1,\"from\":\"a\"}\n{\"t\":2,\"from\":\"b\"}\n";
        assert_eq!(first_difference((Transport::Grpc, a), (Transport::Memory, c)), None);
        // One trace is a prefix of the other.
        let d = first_difference((Transport::Grpc, c), (Transport::Memory, "{\"t\":1,\"from\":\"a\"}\n")).unwrap();
        assert_eq!((d.record, d.b.1.clone()), (2, None));
        assert!(d.to_string().ends_with("memory: (the trace has ended)"), "{d}");
    }
}
