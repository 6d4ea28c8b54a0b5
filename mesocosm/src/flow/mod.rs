//! Seeing the flow: a run's trace as pictures a learner can open.
//!
//! ```text
//!  trace.jsonl ──records::parse──▶ [Record] ──Filter──▶ [Record] ──┬─ perfetto::export ─▶ ui.perfetto.dev
//!  (or a run's trace, in memory)                                    └─ mermaid::export ──▶ sequenceDiagram
//! ```
//!
//! Both pictures show one lifeline per actor, grouped as a learner thinks of a
//! Mesos cluster ([`Group`]: masters, agents, frameworks, executors), messages as
//! arrows at the virtual instant they were sent, and faults where they acted.
//! A trace records the instant a message is *sent*, not when it lands, so an
//! arrow is drawn at its send time; a delayed or dropped message shows as a
//! fault beside it.
//!
//! `mesocosm flow TRACE.jsonl --perfetto out.json --mermaid out.mmd` draws a
//! saved trace; `mesocosm run FILE --perfetto …` draws the run it makes. The
//! [`filter`] flags (`--only`, `--kinds`, `--from`/`--to`, `--hide`, `--layer`)
//! apply to both.

pub mod decode;
pub mod filter;
pub mod html;
pub mod mermaid;
pub mod perfetto;
pub mod records;

pub use filter::{Filter, Layer, LayerChoice, Noise};
pub use records::Record;

use std::collections::BTreeMap;

/// The kind of actor a lifeline belongs to, in the order lifelines are drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Group {
    Master,
    Agent,
    Framework,
    Executor,
    Other,
}

impl Group {
    /// A plural heading (`agents`).
    pub fn heading(self) -> &'static str {
        match self {
            Group::Master => "masters",
            Group::Agent => "agents",
            Group::Framework => "frameworks",
            Group::Executor => "executors",
            Group::Other => "other actors",
        }
    }
}

/// Every actor of `records`, grouped and in drawing order: by [`Group`], then
/// by first appearance in the trace.
///
/// An actor's group is read from what it *sends*, which holds whatever the
/// scenario named it: only a master sends scheduler Events and pings agents,
/// only a framework sends scheduler Calls, only an executor sends executor
/// Calls, and an agent registers with the master and answers its pings. An
/// actor that sent nothing telling is grouped by what it was sent (pings go to
/// agents), else by its name (`master`, `driver:…`, `scheduler:…`, `executor…`).
pub fn cast(records: &[Record]) -> Vec<(String, Group)> {
    let mut first: BTreeMap<&str, usize> = BTreeMap::new();
    let mut sent: BTreeMap<&str, Group> = BTreeMap::new();
    let mut received: BTreeMap<&str, Group> = BTreeMap::new();
    for r in records {
        let (from, to, proto, kind) = match r {
            Record::Message(m) => (Some(m.from.as_str()), Some(m.to.as_str()), m.proto.as_str(), m.kind.as_str()),
            Record::Fault(f) => (f.from.as_deref(), f.to.as_deref(), "", ""),
            Record::Refusal(x) => (Some(x.from.as_str()), Some(x.to.as_str()), "", ""),
            Record::Said(x) => (Some(x.actor.as_str()), None, "", ""),
            Record::Shares(_) => continue,
        };
        for name in [from, to].into_iter().flatten() {
            let n = first.len();
            first.entry(name).or_insert(n);
        }
        let (Some(from), Some(to)) = (from, to) else { continue };
        let sender = match (proto, kind) {
            ("mesos.v1.scheduler.Event", _) | (_, "PingSlaveMessage" | "RunTaskMessage") => Some(Group::Master),
            ("mesos.v1.scheduler.Call", _) => Some(Group::Framework),
            ("mesos.v1.executor.Call", _) => Some(Group::Executor),
            (_, "RegisterSlaveMessage" | "ReregisterSlaveMessage" | "PongSlaveMessage" | "ExitedExecutorMessage") => {
                Some(Group::Agent)
            }
            _ => None,
        };
        if let Some(g) = sender {
            // The strongest evidence wins (a master also sends internal messages).
            let e = sent.entry(from).or_insert(g);
            *e = (*e).min(g);
        }
        // What an actor was sent is weaker evidence, for one that never spoke
        // (an agent whose every message was dropped).
        let receiver = match (proto, kind) {
            ("mesos.v1.scheduler.Event", _) => Some(Group::Framework),
            ("mesos.v1.executor.Event", _) => Some(Group::Executor),
            ("mesos.v1.scheduler.Call", _) => Some(Group::Master),
            (_, "PingSlaveMessage" | "RunTaskMessage" | "SlaveRegisteredMessage" | "SlaveReregisteredMessage") => {
                Some(Group::Agent)
            }
            _ => None,
        };
        if let Some(g) = receiver {
            received.entry(to).or_insert(g);
        }
    }
    let mut out: Vec<(String, Group, usize)> = first
        .iter()
        .map(|(name, n)| {
            let g = sent.get(name).or_else(|| received.get(name)).copied().unwrap_or_else(|| by_name(name));
            (name.to_string(), g, *n)
        })
        .collect();
    out.sort_by_key(|(_, g, n)| (*g, *n));
    out.into_iter().map(|(name, g, _)| (name, g)).collect()
}

/// The group an actor that sent nothing belongs to, by the names mesocosm gives.
fn by_name(name: &str) -> Group {
    if name.starts_with("master") {
        Group::Master
    } else if name.starts_with("driver:") || name.starts_with("scheduler:") {
        Group::Framework
    } else if name.starts_with("executor") {
        Group::Executor
    } else {
        Group::Other
    }
}

/// A record as the live timeline prints it (`mesocosm run` without `--quiet`).
pub fn line(r: &Record) -> String {
    match r {
        Record::Message(m) => format!("{}  {} → {}  {}  {}", seconds(m.t), m.from, m.to, m.kind, m.summary),
        Record::Fault(f) => {
            let what = match (&f.from, &f.to, &f.kind, &f.detail) {
                (Some(from), Some(to), Some(kind), _) => format!("{from} → {to}  {kind}"),
                (_, _, _, Some(d)) => d.clone(),
                _ => String::new(),
            };
            format!("{}  ⚡ {} [{}]  {what}", seconds(f.t), f.fault, f.rule)
        }
        Record::Said(x) if x.is_note() => format!("{}  {}: {}", seconds(x.t), x.actor, x.text),
        Record::Said(x) => format!("{}  {}  {}", seconds(x.t), x.actor, x.text),
        Record::Shares(x) => {
            let shares: Vec<String> = x.shares.iter().map(|s| format!("{} {}", s.framework, s.share)).collect();
            format!("{}  {}: DRF shares after the cycle: {}", seconds(x.t), x.actor, shares.join(", "))
        }
        Record::Refusal(x) => {
            format!("{}  {} ⇢ {}  refuses {}: {}: {}", seconds(x.t), x.from, x.to, x.refused, x.status, x.reason)
        }
    }
}

/// `t` microseconds as the timeline writes it (`12.345678s`).
pub fn seconds(t: u64) -> String {
    format!("{}.{:06}s", t / 1_000_000, t % 1_000_000)
}

#[cfg(test)]
mod tests {
    use super::records::{Fault, Message};
    use super::*;

    fn msg(from: &str, to: &str, proto: &str, kind: &str) -> Record {
        Record::Message(Message {
            t: 0,
            from: from.into(),
            to: to.into(),
            proto: proto.into(),
            kind: kind.into(),
            summary: String::new(),
            bytes: String::new(),
        })
    }

    #[test]
    fn actors_are_grouped_by_what_they_send_whatever_their_names() {
        let records = vec![
            msg("node-b", "leader", "mesos.internal.RegisterSlaveMessage", "RegisterSlaveMessage"),
            msg("etl", "leader", "mesos.v1.scheduler.Call", "SUBSCRIBE"),
            msg("leader", "etl", "mesos.v1.scheduler.Event", "SUBSCRIBED"),
            msg("leader", "node-a", "mesos.internal.PingSlaveMessage", "PingSlaveMessage"),
            msg("e1", "node-b", "mesos.v1.executor.Call", "SUBSCRIBE"),
            Record::Fault(Fault {
                t: 0,
                fault: "drop".into(),
                rule: "r".into(),
                from: Some("driver:late".into()),
                to: Some("leader".into()),
                kind: Some("SUBSCRIBE".into()),
                detail: None,
            }),
        ];
        let all = cast(&records);
        let cast: Vec<(&str, Group)> = all.iter().map(|(n, g)| (n.as_str(), *g)).collect();
        assert_eq!(
            cast,
            [
                ("leader", Group::Master),
                ("node-b", Group::Agent),
                ("node-a", Group::Agent),
                ("etl", Group::Framework),
                ("driver:late", Group::Framework),
                ("e1", Group::Executor),
            ]
        );
    }
}
