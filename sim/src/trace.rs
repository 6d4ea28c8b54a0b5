//! The trace: one JSON object per message, and the digest that proves replay.
//!
//! Every message the network carries is recorded once, when its sender hands it
//! to the network, as a JSON Lines record:
//!
//! ```json
//! {"t":1000250,"from":"driver:pi","to":"master","proto":"mesos.v1.scheduler.Call","kind":"ACCEPT","summary":"…","bytes":"CgQ…"}
//! ```
//!
//! `t` is virtual time in microseconds, `bytes` the standard base64 of the exact
//! protobuf encoding, so `base64 -d | protoc --decode=mesos.v1.scheduler.Call`
//! reads any record. The digest is SHA-256 over the records' JSONL bytes: two runs with the
//! same scenario and seed must produce the same digest on any machine.
//!
//! A fault the world applies is recorded in the same stream, as
//! `{"t":…,"fault":"drop","rule":"scenarios/x.toml:40","from":…,"to":…,"kind":…}`
//! (message faults) or `{"t":…,"fault":"kill","rule":…,"detail":"agent-2"}`;
//! fault records have no `proto` key.
//!
//! A call its receiver refused (an HTTP 403 on the scheduler API, see
//! [`crate::actor::Refusal`]) is recorded when the receiver decides, as
//! `{"t":…,"from":"master","to":"driver:pi","refused":"DECLINE","status":"403 Forbidden","reason":"…"}`:
//! `from` is the actor that refused, `to` the caller.
//!
//! The JSONL file also holds, for a reader, what each actor said and what
//! happened to it: a core's note (`--explain`'s narration) as
//! `{"t":…,"type":"note","actor":"master","text":"allocate agent-1 … to pi (…)"}`
//! and a world event (a container started or exited, an actor restarted) as
//! `{"t":…,"type":"event","actor":"executor:pi/0","agent":"agent-1","text":"exited with status 0"}`
//! (`agent` only on a container's events: where it started, where it exited).
//! The allocator's dominant share of each framework after a cycle is a third
//! kind, `{"t":…,"type":"shares","actor":"master","shares":[{"framework":"pi","share":0.25}]}`,
//! for the report's plot. These are the only records with a `type` key, and they are **not** part of
//! the digest: the digest is SHA-256 over the message, fault and refusal records
//! only, so rewording a note never changes a digest.

use crate::actor::{ActorId, Refusal};
use crate::msg::Msg;
use crate::time::SimTime;
use base64::Engine;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::{self, Write};

/// One trace record, in field order.
#[derive(Serialize)]
struct Record<'a> {
    t: u64,
    from: &'a str,
    to: &'a str,
    proto: &'a str,
    kind: &'a str,
    summary: &'a str,
    bytes: &'a str,
}

/// A fault the world applied: to one message (`from`, `to`, `kind`), or to
/// actors (`detail`: "killed agent-2", "partition agent-2 | master heals").
#[derive(Serialize)]
struct FaultRecord<'a> {
    t: u64,
    fault: &'a str,
    rule: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    from: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    to: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    kind: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<&'a str>,
}

/// A note or a world event, in field order (JSONL only, never digested).
#[derive(Serialize)]
struct SaidRecord<'a> {
    t: u64,
    r#type: &'a str,
    actor: &'a str,
    /// The agent a container event happened on (its start, its exit).
    #[serde(skip_serializing_if = "Option::is_none")]
    agent: Option<&'a str>,
    text: &'a str,
}

/// The allocator's dominant shares after a cycle (JSONL only, never digested).
#[derive(Serialize)]
struct SharesRecord<'a> {
    t: u64,
    r#type: &'static str,
    actor: &'a str,
    shares: Vec<Share<'a>>,
}

#[derive(Serialize)]
struct Share<'a> {
    framework: &'a str,
    share: f64,
}

/// A call its receiver refused, in field order.
#[derive(Serialize)]
struct RefusalRecord<'a> {
    t: u64,
    from: &'a str,
    to: &'a str,
    refused: &'a str,
    status: &'a str,
    reason: &'a str,
}

/// What a fault acted on, for [`Trace::fault`].
pub enum FaultTarget<'a> {
    /// One message.
    Message { from: &'a ActorId, to: &'a ActorId, msg: &'a Msg },
    /// Actors or links, described in words.
    Detail(&'a str),
}

/// Where the human-readable timeline goes, and how much of it.
pub struct Timeline {
    /// The writer (stdout for the CLI).
    pub out: Box<dyn Write + Send>,
    /// Also print the cores' notes that explain each decision (`--explain`).
    pub explain: bool,
    /// Print only the lines this keeps (`mesocosm run --only … --hide …`); the
    /// JSONL trace and the digest are never filtered.
    pub keep: Option<LineFilter>,
}

impl Timeline {
    /// A timeline printing every line to `out`, with notes if `explain`.
    pub fn new(out: Box<dyn Write + Send>, explain: bool) -> Timeline {
        Timeline { out, explain, keep: None }
    }

    fn shows(&self, line: &Shown<'_>) -> bool {
        self.keep.as_ref().is_none_or(|keep| keep(line))
    }
}

/// Which timeline lines to print: true keeps the line.
pub type LineFilter = Box<dyn Fn(&Shown<'_>) -> bool + Send>;

/// One line the timeline is about to print, for [`Timeline::keep`] to judge.
#[derive(Clone, Copy, Debug)]
pub enum Shown<'a> {
    /// A message `from` → `to`.
    Message { t: SimTime, from: &'a str, to: &'a str, proto: &'static str, kind: &'static str },
    /// A fault on one message, or (all `None`) on actors or links.
    Fault { t: SimTime, from: Option<&'a str>, to: Option<&'a str>, kind: Option<&'static str> },
    /// `from` refused `to`'s `kind` call.
    Refusal { t: SimTime, from: &'a str, to: &'a str, kind: &'a str },
    /// A core's note (`--explain`) or a world event (an actor started or exited).
    Actor { t: SimTime, actor: &'a str },
}

/// What a trace keeps.
#[derive(Default)]
pub struct TraceConfig {
    /// Compute the SHA-256 digest (implies building every JSON record).
    pub digest: bool,
    /// Write JSON Lines here.
    pub jsonl: Option<Box<dyn Write + Send>>,
    /// Print a readable timeline here.
    pub timeline: Option<Timeline>,
}

/// The running trace of one world.
pub struct Trace {
    digest: Option<Sha256>,
    jsonl: Option<Box<dyn Write + Send>>,
    timeline: Option<Timeline>,
    counts: BTreeMap<(&'static str, &'static str), u64>,
    messages: u64,
    faults: u64,
    error: Option<io::Error>,
    line: Vec<u8>,
    b64: String,
    /// What the current virtual instant has produced so far (see [`Instant`]).
    instant: Instant,
}

/// The records and timeline lines of one virtual instant, held until time
/// moves on and then written in a canonical order: by the actor each is about
/// (a message's sender, a fault's sender, the actor that refused, noted or
/// changed), keeping each actor's own order.
///
/// Why: actors that step at the same virtual instant run as separate tasks,
/// and which of them the runtime polls first depends on how their inputs
/// arrived: directly in memory, or through HTTP/2 connections over gRPC. Their
/// steps cannot see each other (a message takes its link's latency to land),
/// so only the order in which they are *written down* differs. Sorting each
/// instant by actor makes the trace, its digest and the timeline the same on
/// every transport; a 2,000-agent scenario showed the difference first.
#[derive(Default)]
struct Instant {
    t: SimTime,
    lines: Vec<(String, Pending)>,
}

impl Drop for Trace {
    /// A run that stops early (a panic, a livelock) still writes its last instant.
    fn drop(&mut self) {
        self.flush_instant();
        if let Some(w) = &mut self.jsonl {
            let _ = w.flush();
        }
        if let Some(tl) = &mut self.timeline {
            let _ = tl.out.flush();
        }
    }
}

/// One thing waiting for its instant to end.
enum Pending {
    /// A JSONL record that is part of the digest.
    Digested(Vec<u8>),
    /// A JSONL record kept for readers only (a note or a world event).
    Said(Vec<u8>),
    /// A timeline line.
    Shown(String),
}

impl Trace {
    /// A trace that keeps what `config` asks for.
    pub fn new(config: TraceConfig) -> Trace {
        Trace {
            digest: config.digest.then(Sha256::new),
            jsonl: config.jsonl,
            timeline: config.timeline,
            counts: BTreeMap::new(),
            messages: 0,
            faults: 0,
            error: None,
            line: Vec::new(),
            b64: String::new(),
            instant: Instant::default(),
        }
    }

    /// Hold `what`, about `actor`, for the instant `t`; write out the previous
    /// instant first if time has moved on.
    fn hold(&mut self, t: SimTime, actor: &str, what: Pending) {
        if t != self.instant.t {
            self.flush_instant();
            self.instant.t = t;
        }
        self.instant.lines.push((actor.to_string(), what));
    }

    /// Write the held instant in its canonical order (a stable sort by actor).
    fn flush_instant(&mut self) {
        let mut lines = std::mem::take(&mut self.instant.lines);
        lines.sort_by(|a, b| a.0.cmp(&b.0));
        for (_, what) in lines.drain(..) {
            let r = match what {
                Pending::Digested(bytes) => {
                    if let Some(d) = &mut self.digest {
                        d.update(&bytes);
                    }
                    self.jsonl.as_mut().map_or(Ok(()), |w| w.write_all(&bytes))
                }
                Pending::Said(bytes) => self.jsonl.as_mut().map_or(Ok(()), |w| w.write_all(&bytes)),
                Pending::Shown(text) => self.timeline.as_mut().map_or(Ok(()), |tl| tl.out.write_all(text.as_bytes())),
            };
            if let Err(e) = r {
                self.error.get_or_insert(e);
            }
        }
        // Keep the allocation for the next instant.
        self.instant.lines = lines;
    }

    /// Hold a timeline line.
    fn show(&mut self, t: SimTime, actor: &str, text: String) {
        self.hold(t, actor, Pending::Shown(text));
    }

    /// Record one message handed to the network at `t`.
    pub fn message(&mut self, t: SimTime, from: &ActorId, to: &ActorId, msg: &Msg) {
        self.messages += 1;
        *self.counts.entry((msg.proto_name(), msg.kind())).or_insert(0) += 1;
        let summary = if self.digest.is_some() || self.jsonl.is_some() || self.timeline.is_some() {
            msg.summary()
        } else {
            return;
        };
        if let Some(tl) = &self.timeline
            && tl.shows(&Shown::Message {
                t,
                from: from.as_str(),
                to: to.as_str(),
                proto: msg.proto_name(),
                kind: msg.kind(),
            })
        {
            self.show(t, from.as_str(), format!("{t:>14}  {from} → {to}  {}  {summary}\n", msg.kind()));
        }
        if self.digest.is_none() && self.jsonl.is_none() {
            return;
        }
        // Taken out and put back so the record can borrow it while `record` writes.
        let mut b64 = std::mem::take(&mut self.b64);
        b64.clear();
        base64::engine::general_purpose::STANDARD.encode_string(msg.encode(), &mut b64);
        let record = Record {
            t: t.micros(),
            from: from.as_str(),
            to: to.as_str(),
            proto: msg.proto_name(),
            kind: msg.kind(),
            summary: &summary,
            bytes: &b64,
        };
        self.record(t, from.as_str(), &record);
        self.b64 = b64;
    }

    /// Hold one JSON record, about `actor`, for the digest and the JSONL file.
    fn record(&mut self, t: SimTime, actor: &str, record: &impl Serialize) {
        self.line.clear();
        // Serialising a struct of strings and integers cannot fail.
        let _ = serde_json::to_writer(&mut self.line, record);
        self.line.push(b'\n');
        let bytes = self.line.clone();
        self.hold(t, actor, Pending::Digested(bytes));
    }

    /// Hold a note or a world event for the JSONL file only (see the module docs).
    fn said(&mut self, t: SimTime, kind: &str, actor: &ActorId, agent: Option<&str>, text: &str) {
        if self.jsonl.is_none() {
            return;
        }
        self.said_record(t, actor, &SaidRecord { t: t.micros(), r#type: kind, actor: actor.as_str(), agent, text });
    }

    /// Hold any record outside the digest for the JSONL file.
    fn said_record(&mut self, t: SimTime, actor: &ActorId, record: &impl Serialize) {
        self.line.clear();
        let _ = serde_json::to_writer(&mut self.line, record);
        self.line.push(b'\n');
        let bytes = self.line.clone();
        self.hold(t, actor.as_str(), Pending::Said(bytes));
    }

    /// Keep a core's dominant shares per framework in the JSONL file
    /// (`{"t":…,"type":"shares","actor":"master","shares":[{"framework":"pi","share":0.25}]}`):
    /// the report plots them; they are never printed nor digested.
    pub fn shares(&mut self, t: SimTime, actor: &ActorId, shares: &[(String, f64)]) {
        if self.jsonl.is_none() {
            return;
        }
        let shares = shares.iter().map(|(framework, share)| Share { framework, share: *share }).collect();
        self.said_record(t, actor, &SharesRecord { t: t.micros(), r#type: "shares", actor: actor.as_str(), shares });
    }

    /// Record that rule `rule` applied `action` (`drop`, `delay`, `kill`…) at `t`.
    /// Faults are part of the trace (and the digest): they are what happened.
    pub fn fault(&mut self, t: SimTime, action: &str, rule: &str, target: FaultTarget<'_>) {
        self.faults += 1;
        let (from, to, kind, detail) = match &target {
            FaultTarget::Message { from, to, msg } => (Some(from.as_str()), Some(to.as_str()), Some(msg.kind()), None),
            FaultTarget::Detail(d) => (None, None, None, Some(*d)),
        };
        // A fault on a message is about its sender; one on actors or links is
        // the world's, and comes first in its instant.
        let actor = from.unwrap_or("");
        if let Some(tl) = &self.timeline
            && tl.shows(&Shown::Fault { t, from, to, kind })
        {
            let what = match &target {
                FaultTarget::Message { from, to, msg } => format!("{from} → {to}  {}", msg.kind()),
                FaultTarget::Detail(d) => d.to_string(),
            };
            self.show(t, actor, format!("{t:>14}  ⚡ {action} [{rule}]  {what}\n"));
        }
        if self.digest.is_none() && self.jsonl.is_none() {
            return;
        }
        self.record(t, actor, &FaultRecord { t: t.micros(), fault: action, rule, from, to, kind, detail });
    }

    /// Record that `from` refused the `kind` call `to` made (the answer travels
    /// on the call, so it is not a message; it is part of the digest because it
    /// changes what the caller does next).
    pub fn refusal(&mut self, t: SimTime, from: &ActorId, to: &ActorId, kind: &str, refusal: &Refusal) {
        if let Some(tl) = &self.timeline
            && tl.shows(&Shown::Refusal { t, from: from.as_str(), to: to.as_str(), kind })
        {
            self.show(t, from.as_str(), format!("{t:>14}  {from} ⇢ {to}  refuses {kind}: {refusal}\n"));
        }
        if self.digest.is_none() && self.jsonl.is_none() {
            return;
        }
        self.record(
            t,
            from.as_str(),
            &RefusalRecord {
                t: t.micros(),
                from: from.as_str(),
                to: to.as_str(),
                refused: kind,
                status: refusal.http_status(),
                reason: refusal.message(),
            },
        );
    }

    /// Faults recorded so far.
    pub fn faults(&self) -> u64 {
        self.faults
    }

    /// Print a core's note (only with `--explain`), and keep it in the JSONL file.
    pub fn note(&mut self, t: SimTime, actor: &ActorId, text: &str) {
        self.said(t, "note", actor, None, text);
        if self.timeline.as_ref().is_some_and(|tl| tl.explain && tl.shows(&Shown::Actor { t, actor: actor.as_str() })) {
            self.show(t, actor.as_str(), format!("{t:>14}  {actor}: {text}\n"));
        }
    }

    /// Print a world event (an actor started or exited) on the timeline, and
    /// keep it in the JSONL file; `agent` is the agent a container event
    /// happened on, kept as the record's `agent` field.
    pub fn event(&mut self, t: SimTime, actor: &ActorId, agent: Option<&str>, text: &str) {
        self.said(t, "event", actor, agent, text);
        if self.timeline.as_ref().is_some_and(|tl| tl.shows(&Shown::Actor { t, actor: actor.as_str() })) {
            self.show(t, actor.as_str(), format!("{t:>14}  {actor}  {text}\n"));
        }
    }

    /// True if someone reads notes: the timeline prints them (`--explain`) or
    /// the JSONL file keeps them (`--trace`).
    pub fn explains(&self) -> bool {
        self.jsonl.is_some() || self.timeline.as_ref().is_some_and(|t| t.explain)
    }

    /// Messages recorded so far.
    pub fn messages(&self) -> u64 {
        self.messages
    }

    /// Messages per (proto name, kind).
    pub fn counts(&self) -> &BTreeMap<(&'static str, &'static str), u64> {
        &self.counts
    }

    /// How many messages of this kind were sent (any proto).
    pub fn count_kind(&self, kind: &str) -> u64 {
        self.counts.iter().filter(|((_, k), _)| *k == kind).map(|(_, n)| *n).sum()
    }

    /// Flush writers and return the digest (hex) if one was kept, or the first I/O error.
    pub fn finish(&mut self) -> io::Result<Option<String>> {
        self.flush_instant();
        if let Some(w) = &mut self.jsonl {
            w.flush()?;
        }
        if let Some(tl) = &mut self.timeline {
            tl.out.flush()?;
        }
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        Ok(self.digest.take().map(|d| d.finalize().iter().map(|b| format!("{b:02x}")).collect()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::internal::PongSlaveMessage;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl Write for Buffer {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    /// Three agents answer pings; two at one instant, in the given order.
    fn trace(order: [&str; 2]) -> (Option<String>, String, String) {
        let (jsonl, timeline) = (Buffer::default(), Buffer::default());
        let mut t = Trace::new(TraceConfig {
            digest: true,
            jsonl: Some(Box::new(jsonl.clone())),
            timeline: Some(Timeline::new(Box::new(timeline.clone()), true)),
        });
        let (master, pong) = (ActorId::new("master"), Msg::PongSlave(PongSlaveMessage {}));
        let at = SimTime::from_secs(1);
        for agent in order {
            t.note(at, &ActorId::new(agent), "pong");
            t.message(at, &ActorId::new(agent), &master, &pong);
        }
        t.message(SimTime::from_secs(2), &ActorId::new("agent-0"), &master, &pong);
        let digest = t.finish().unwrap();
        let text = |b: &Buffer| String::from_utf8(b.0.lock().unwrap().clone()).unwrap();
        (digest, text(&jsonl), text(&timeline))
    }

    #[test]
    fn one_instant_is_written_in_actor_order_whatever_order_its_actors_stepped_in() {
        let (a, b) = (trace(["agent-2", "agent-1"]), trace(["agent-1", "agent-2"]));
        assert_eq!(a, b, "same digest, same file, same timeline");
        let (_, jsonl, timeline) = a;
        let senders: Vec<&str> = jsonl
            .lines()
            .map(|l| {
                l.split("\"actor\":\"").nth(1).or(l.split("\"from\":\"").nth(1)).unwrap().split('"').next().unwrap()
            })
            .collect();
        assert_eq!(
            senders,
            ["agent-1", "agent-1", "agent-2", "agent-2", "agent-0"],
            "each actor's own order kept; time first"
        );
        assert_eq!(timeline.lines().count(), 5);
        assert!(timeline.lines().next().unwrap().ends_with("agent-1: pong"), "{timeline}");
    }
}
