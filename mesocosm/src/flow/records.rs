//! Reading a JSON Lines trace back: one [`Record`] per line.
//!
//! The trace (`mesocosm run --trace PATH`) has four shapes of record, told
//! apart by their keys (see `mesocosm_sim::trace`): a message has `proto`, a
//! fault has `fault`, a refused call has `refused`, and what an actor said or
//! what happened to it has `type` (`note` or `event`, with `agent` on a
//! container's events; `shares` for the allocator's DRF shares after a cycle).
//! Keys this reader does not
//! know are ignored, so a trace that gains fields stays readable; a line that is
//! not JSON, or has none of those keys, is an error at its line and column.

use crate::diag::Diagnostic;
use serde::Deserialize;
use std::path::Path;

/// One record of a trace, in the order the world wrote it.
#[derive(Clone, Debug, PartialEq)]
pub enum Record {
    /// A message handed to the network at `t`.
    Message(Message),
    /// A fault the world applied at `t`: to one message (`from`, `to`, `kind`)
    /// or to actors and links (`detail`).
    Fault(Fault),
    /// A call its receiver refused (`from` refused `to`'s `refused` call).
    Refusal(Refusal),
    /// A core's note (`type = "note"`, `--explain`'s narration) or a world
    /// event (`type = "event"`: a container started or exited).
    Said(Said),
    /// The allocator's dominant share of each framework after a cycle
    /// (`type = "shares"`).
    Shares(Shares),
}

/// A shares record: what DRF orders the frameworks by, after one cycle.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Shares {
    pub t: u64,
    /// The master that allocated.
    pub actor: String,
    pub shares: Vec<Share>,
}

/// One framework's dominant share.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Share {
    /// The framework's name (its FrameworkInfo.name).
    pub framework: String,
    pub share: f64,
}

/// A note or a world event record.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Said {
    pub t: u64,
    /// `note` or `event`.
    #[serde(rename = "type")]
    pub kind: String,
    pub actor: String,
    /// The agent a container event happened on (its start, its exit).
    #[serde(default)]
    pub agent: Option<String>,
    pub text: String,
}

impl Said {
    /// True for a core's note, false for a world event.
    pub fn is_note(&self) -> bool {
        self.kind == "note"
    }
}

/// A message record.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Message {
    /// Virtual time in microseconds.
    pub t: u64,
    pub from: String,
    pub to: String,
    /// The fully-qualified protobuf name, e.g. `mesos.v1.scheduler.Call`.
    pub proto: String,
    /// The Call/Event type (`ACCEPT`) or the message's own name (`RunTaskMessage`).
    pub kind: String,
    /// One human line.
    pub summary: String,
    /// The exact protobuf encoding, base64.
    #[serde(default)]
    pub bytes: String,
}

/// A fault record.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Fault {
    pub t: u64,
    /// What it did: `drop`, `delay`, `kill`, `partition`…
    pub fault: String,
    /// The scenario rule that asked for it (`scenarios/x.toml:40`).
    pub rule: String,
    pub from: Option<String>,
    pub to: Option<String>,
    pub kind: Option<String>,
    pub detail: Option<String>,
}

/// A refused-call record.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Refusal {
    pub t: u64,
    /// The actor that refused.
    pub from: String,
    /// The caller.
    pub to: String,
    /// The call's kind.
    pub refused: String,
    pub status: String,
    pub reason: String,
}

impl Record {
    /// Virtual time in microseconds.
    pub fn t(&self) -> u64 {
        match self {
            Record::Message(m) => m.t,
            Record::Fault(f) => f.t,
            Record::Refusal(r) => r.t,
            Record::Said(s) => s.t,
            Record::Shares(s) => s.t,
        }
    }
}

/// Which shape a line has, by its keys.
#[derive(Deserialize)]
struct Keys {
    proto: Option<serde::de::IgnoredAny>,
    fault: Option<serde::de::IgnoredAny>,
    refused: Option<serde::de::IgnoredAny>,
    r#type: Option<String>,
}

/// Parse a whole JSON Lines trace; `file` names it in errors. Empty lines are skipped.
pub fn parse(file: &Path, text: &str) -> Result<Vec<Record>, Diagnostic> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        out.push(parse_line(line).map_err(|(col, msg)| Diagnostic {
            file: file.to_path_buf(),
            line: i + 1,
            col,
            span_len: 1,
            message: msg,
            source_line: line.chars().take(200).collect(),
        })?);
    }
    Ok(out)
}

/// One line; the error is (1-based column, message).
pub(crate) fn parse_line(line: &str) -> Result<Record, (usize, String)> {
    let json_err = |e: serde_json::Error| (e.column().max(1), format!("not a trace record: {e}"));
    let keys: Keys = serde_json::from_str(line).map_err(json_err)?;
    match (keys.proto.is_some(), keys.fault.is_some(), keys.refused.is_some(), keys.r#type.is_some()) {
        (true, false, false, false) => serde_json::from_str(line).map(Record::Message).map_err(json_err),
        (false, true, false, false) => serde_json::from_str(line).map(Record::Fault).map_err(json_err),
        (false, false, true, false) => serde_json::from_str(line).map(Record::Refusal).map_err(json_err),
        (false, false, false, true) if keys.r#type.as_deref() == Some("shares") => {
            serde_json::from_str(line).map(Record::Shares).map_err(json_err)
        }
        (false, false, false, true) => {
            let said: Said = serde_json::from_str(line).map_err(json_err)?;
            match said.kind.as_str() {
                "note" | "event" => Ok(Record::Said(said)),
                other => Err((1, format!("not a trace record: `type` is `{other}`, not `note`, `event` or `shares`"))),
            }
        }
        _ => Err((
            1,
            "not a trace record: a record has exactly one of the keys `proto` (a message), \
             `fault` (a fault), `refused` (a refused call) or `type` (a note or an event)"
                .to_string(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TRACE: &str = concat!(
        r#"{"t":1000,"from":"driver:pi","to":"master","proto":"mesos.v1.scheduler.Call","kind":"SUBSCRIBE","summary":"pi","bytes":"AA=="}"#,
        "\n\n",
        r#"{"t":2000,"fault":"drop","rule":"x.toml:3","from":"master","to":"driver:pi","kind":"SUBSCRIBED"}"#,
        "\n",
        r#"{"t":3000,"fault":"kill","rule":"x.toml:9","detail":"agent-2"}"#,
        "\n",
        r#"{"t":4000,"from":"master","to":"driver:pi","refused":"DECLINE","status":"403 Forbidden","reason":"not subscribed","extra":"future"}"#,
        "\n",
        r#"{"t":5000,"type":"event","actor":"executor:pi/0","agent":"agent-1","text":"exited with status 0"}"#,
        "\n",
        r#"{"t":6000,"type":"shares","actor":"master","shares":[{"framework":"pi","share":0.25}]}"#,
        "\n",
    );

    #[test]
    fn each_shape_is_read_by_its_keys_and_unknown_keys_are_ignored() {
        let r = parse(Path::new("t.jsonl"), TRACE).unwrap();
        assert_eq!(r.len(), 6);
        assert!(matches!(&r[0], Record::Message(m) if m.kind == "SUBSCRIBE" && m.t == 1000));
        assert!(matches!(&r[1], Record::Fault(f) if f.fault == "drop" && f.kind.as_deref() == Some("SUBSCRIBED")));
        assert!(matches!(&r[2], Record::Fault(f) if f.detail.as_deref() == Some("agent-2") && f.from.is_none()));
        assert!(matches!(&r[3], Record::Refusal(x) if x.refused == "DECLINE"));
        assert!(matches!(&r[4], Record::Said(s) if !s.is_note() && s.actor == "executor:pi/0"
            && s.agent.as_deref() == Some("agent-1")));
        assert!(matches!(&r[5], Record::Shares(s) if s.shares[0].framework == "pi" && s.shares[0].share == 0.25));
        assert_eq!(r.iter().map(Record::t).collect::<Vec<_>>(), [1000, 2000, 3000, 4000, 5000, 6000]);
    }

    #[test]
    fn a_bad_line_is_an_error_at_its_line_and_column() {
        let text = format!(
            "{}\n{{\"t\":5,\"from\":\"a\",\"to\":\"b\",\"proto\":\"p\",\"kind\":7}}\n",
            TRACE.lines().next().unwrap()
        );
        let d = parse(Path::new("t.jsonl"), &text).unwrap_err();
        assert_eq!((d.line, d.file.as_path()), (2, Path::new("t.jsonl")));
        assert!(d.col > 1, "column of the bad value: {}", d.col);
        assert!(d.message.starts_with("not a trace record: invalid type: integer `7`"), "{}", d.message);

        let d = parse(Path::new("t.jsonl"), "{\"t\":1,\"summary\":\"x\"}\n").unwrap_err();
        assert_eq!(d.line, 1);
        assert!(d.message.contains("exactly one of the keys `proto`"), "{}", d.message);

        let d = parse(Path::new("t.jsonl"), "\n\nnot json\n").unwrap_err();
        assert_eq!(d.line, 3);
        assert!(d.message.starts_with("not a trace record: expected"), "{}", d.message);
    }
}
