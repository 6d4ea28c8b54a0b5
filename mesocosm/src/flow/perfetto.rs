//! A run as a Chrome/Perfetto trace (the Trace Event Format), for ui.perfetto.dev.
//!
//! Open the file at <https://ui.perfetto.dev> (or `chrome://tracing`): each
//! [`Group`] is a process (masters, agents, frameworks, executors) and each actor
//! a thread in it, in [`super::cast`]'s order. A message is a 1 µs slice named
//! by its kind on the sender's track and on the receiver's, joined by a flow
//! arrow; its `args` hold the summary, the protobuf name and the base64 bytes.
//! A fault is an instant event: on the sender's track for a message fault,
//! across the whole trace for one on actors (a kill, a partition). A refused
//! call is an instant on the refusing actor's track, and so is what happened to
//! an actor (its container started or exited) and, when the trace has them,
//! its notes (`--explain`'s narration: why the master offered an agent to whom).
//!
//! Timestamps are the trace's own: virtual microseconds from the start.

use super::records::Record;
use super::{Group, cast};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// The trace-event JSON of `records` (already filtered).
pub fn export(records: &[Record]) -> Value {
    let cast = cast(records);
    let mut events: Vec<Value> = Vec::new();
    let mut tid: BTreeMap<&str, (u32, u32)> = BTreeMap::new();
    let pid = |g: Group| g as u32 + 1;
    let mut groups: Vec<Group> = cast.iter().map(|(_, g)| *g).collect();
    groups.dedup();
    for g in groups {
        events.push(json!({"ph": "M", "name": "process_name", "pid": pid(g), "args": {"name": g.heading()}}));
        events.push(json!({"ph": "M", "name": "process_sort_index", "pid": pid(g), "args": {"sort_index": pid(g)}}));
    }
    for (i, (name, g)) in cast.iter().enumerate() {
        let t = i as u32 + 1;
        tid.insert(name, (pid(*g), t));
        events.push(json!({"ph": "M", "name": "thread_name", "pid": pid(*g), "tid": t, "args": {"name": name}}));
        events
            .push(json!({"ph": "M", "name": "thread_sort_index", "pid": pid(*g), "tid": t, "args": {"sort_index": t}}));
    }
    let track = |name: &str| tid.get(name).copied().unwrap_or((0, 0));
    for (id, r) in records.iter().enumerate() {
        match r {
            Record::Message(m) => {
                let cat = super::Layer::of(&m.proto).name();
                let (sp, st) = track(&m.from);
                let (rp, rt) = track(&m.to);
                let args =
                    json!({"from": m.from, "to": m.to, "summary": m.summary, "proto": m.proto, "bytes": m.bytes});
                events.push(json!({"ph": "X", "name": m.kind, "cat": cat, "pid": sp, "tid": st, "ts": m.t, "dur": 1, "args": args}));
                events.push(json!({"ph": "X", "name": m.kind, "cat": cat, "pid": rp, "tid": rt, "ts": m.t, "dur": 1, "args": args}));
                events.push(json!({"ph": "s", "id": id, "name": m.kind, "cat": cat, "pid": sp, "tid": st, "ts": m.t}));
                events.push(json!({"ph": "f", "bp": "e", "id": id, "name": m.kind, "cat": cat, "pid": rp, "tid": rt, "ts": m.t}));
            }
            Record::Fault(f) => {
                let what = [f.from.as_deref(), f.to.as_deref(), f.kind.as_deref(), f.detail.as_deref()];
                let name = format!("⚡ {} {}", f.fault, what.iter().flatten().copied().collect::<Vec<_>>().join(" "));
                let args = json!({"rule": f.rule, "from": f.from, "to": f.to, "kind": f.kind, "detail": f.detail});
                match &f.from {
                    Some(from) => {
                        let (p, t) = track(from);
                        events.push(json!({"ph": "i", "s": "t", "name": name, "cat": "fault", "pid": p, "tid": t, "ts": f.t, "args": args}));
                    }
                    None => events.push(json!({"ph": "i", "s": "g", "name": name, "cat": "fault", "pid": 0, "tid": 0, "ts": f.t, "args": args})),
                }
            }
            Record::Refusal(x) => {
                let (p, t) = track(&x.from);
                let args = json!({"caller": x.to, "status": x.status, "reason": x.reason});
                let name = format!("refuses {} ({})", x.refused, x.status);
                events.push(json!({"ph": "i", "s": "t", "name": name, "cat": "refusal", "pid": p, "tid": t, "ts": x.t, "args": args}));
            }
            Record::Said(x) => {
                let (p, t) = track(&x.actor);
                events.push(json!({"ph": "i", "s": "t", "name": x.text, "cat": x.kind, "pid": p, "tid": t, "ts": x.t}));
            }
            // A counter track on the master's process: Perfetto draws each
            // framework's dominant share as a stepped line.
            Record::Shares(x) => {
                let (p, _) = track(&x.actor);
                let args: serde_json::Map<String, serde_json::Value> =
                    x.shares.iter().map(|s| (s.framework.clone(), json!(s.share))).collect();
                events.push(json!({"ph": "C", "name": "DRF dominant share", "cat": "shares", "pid": p, "ts": x.t, "args": args}));
            }
        }
    }
    json!({"traceEvents": events, "displayTimeUnit": "ms", "otherData": {"clock": "virtual microseconds", "producer": "mesocosm"}})
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::records::parse;
    use std::path::Path;

    #[test]
    fn messages_are_slices_joined_by_flows_on_their_actors_tracks() {
        let trace = concat!(
            r#"{"t":10,"from":"driver:pi","to":"master","proto":"mesos.v1.scheduler.Call","kind":"SUBSCRIBE","summary":"pi","bytes":"AA=="}"#,
            "\n",
            r#"{"t":20,"from":"master","to":"driver:pi","proto":"mesos.v1.scheduler.Event","kind":"SUBSCRIBED","summary":"","bytes":""}"#,
            "\n",
            r#"{"t":30,"fault":"kill","rule":"x.toml:9","detail":"agent-2"}"#,
            "\n",
        );
        let v = export(&parse(Path::new("t"), trace).unwrap());
        let ev = v["traceEvents"].as_array().unwrap();
        let names: Vec<(&str, u64)> = ev
            .iter()
            .filter(|e| e["name"] == "thread_name")
            .map(|e| (e["args"]["name"].as_str().unwrap(), e["pid"].as_u64().unwrap()))
            .collect();
        assert_eq!(names, [("master", 1), ("driver:pi", 3)]);
        let phases: Vec<(&str, &str, u64, u64)> = ev
            .iter()
            .filter(|e| e["ph"] != "M")
            .map(|e| {
                (
                    e["ph"].as_str().unwrap(),
                    e["name"].as_str().unwrap(),
                    e["tid"].as_u64().unwrap(),
                    e["ts"].as_u64().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            phases,
            [
                ("X", "SUBSCRIBE", 2, 10),
                ("X", "SUBSCRIBE", 1, 10),
                ("s", "SUBSCRIBE", 2, 10),
                ("f", "SUBSCRIBE", 1, 10),
                ("X", "SUBSCRIBED", 1, 20),
                ("X", "SUBSCRIBED", 2, 20),
                ("s", "SUBSCRIBED", 1, 20),
                ("f", "SUBSCRIBED", 2, 20),
                ("i", "⚡ kill agent-2", 0, 30),
            ]
        );
        // A flow's two ends share an id, and ids differ between messages.
        let ids: Vec<u64> =
            ev.iter().filter(|e| e["ph"] == "s" || e["ph"] == "f").map(|e| e["id"].as_u64().unwrap()).collect();
        assert_eq!(ids, [0, 0, 1, 1]);
        assert_eq!(ev.last().unwrap()["s"], "g");
    }
}
