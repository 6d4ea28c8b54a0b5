//! A run as a Mermaid `sequenceDiagram`, for docs and READMEs.
//!
//! One participant per actor in [`super::cast`]'s order, boxed by [`Group`]
//! (masters, agents, frameworks, executors); one arrow per message, labelled
//! with its virtual send time and kind; a note for each fault (across the two
//! actors of a message fault, across the whole diagram for one on actors); a
//! crossed dotted arrow for a refused call; a note beside an actor for what
//! happened to it (its container started or exited). The cores' narration
//! (`type = "note"`) is left out: it would outnumber the arrows. A whole Spark run is thousands of
//! arrows, so filter first (`--hide pings,heartbeats,spark-tasks` or
//! `--kinds SUBSCRIBE,OFFERS,ACCEPT,DECLINE`).

use super::records::Record;
use super::{Group, cast, seconds};
use std::collections::BTreeMap;
use std::fmt::Write;

/// The diagram's text for `records` (already filtered).
pub fn export(records: &[Record]) -> String {
    let cast = cast(records);
    let mut out = String::from("sequenceDiagram\n");
    let mut alias: BTreeMap<&str, String> = BTreeMap::new();
    let mut open: Option<Group> = None;
    for (i, (name, g)) in cast.iter().enumerate() {
        if open != Some(*g) {
            if open.is_some() {
                out.push_str("    end\n");
            }
            let _ = writeln!(out, "    box {}", g.heading());
            open = Some(*g);
        }
        let a = format!("a{i}");
        let _ = writeln!(out, "        participant {a} as {}", text(name));
        alias.insert(name, a);
    }
    if open.is_some() {
        out.push_str("    end\n");
    }
    let who = |name: &str| alias.get(name).cloned().unwrap_or_default();
    let span = match (cast.first(), cast.last()) {
        (Some(a), Some(b)) => format!("{},{}", who(&a.0), who(&b.0)),
        _ => String::new(),
    };
    for r in records {
        match r {
            Record::Message(m) => {
                let _ = writeln!(out, "    {}->>{}: {} {}", who(&m.from), who(&m.to), seconds(m.t), text(&m.kind));
            }
            Record::Fault(f) => {
                let over = match (&f.from, &f.to) {
                    (Some(a), Some(b)) => format!("{},{}", who(a), who(b)),
                    (Some(a), None) | (None, Some(a)) => who(a),
                    (None, None) => span.clone(),
                };
                let what: Vec<&str> = [f.kind.as_deref(), f.detail.as_deref()].into_iter().flatten().collect();
                let note = format!("{} ⚡ {} {} [{}]", seconds(f.t), f.fault, what.join(" "), f.rule);
                if !over.is_empty() {
                    let _ = writeln!(out, "    Note over {over}: {}", text(&note));
                }
            }
            Record::Refusal(x) => {
                let label = format!("{} refuses {} ({})", seconds(x.t), x.refused, x.status);
                let _ = writeln!(out, "    {}--x{}: {}", who(&x.from), who(&x.to), text(&label));
            }
            Record::Said(x) if x.is_note() => {}
            // Numbers for the report's plot, not a step of the conversation.
            Record::Shares(_) => {}
            Record::Said(x) => {
                let label = format!("{} {}", seconds(x.t), x.text);
                let _ = writeln!(out, "    Note right of {}: {}", who(&x.actor), text(&label));
            }
        }
    }
    out
}

/// `s` made safe for one Mermaid statement: `;` and `#` are written as
/// Mermaid's entity codes (`;` would end the statement, `#` starts an entity),
/// and line breaks become spaces.
fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            ';' => out.push_str("#59;"),
            '#' => out.push_str("#35;"),
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::records::parse;
    use std::path::Path;

    #[test]
    fn participants_are_boxed_by_group_and_faults_are_notes() {
        let trace = concat!(
            r#"{"t":1000000,"from":"driver:pi","to":"master","proto":"mesos.v1.scheduler.Call","kind":"SUBSCRIBE","summary":"","bytes":""}"#,
            "\n",
            r#"{"t":1500000,"fault":"drop","rule":"x.toml:3","from":"master","to":"driver:pi","kind":"SUBSCRIBED"}"#,
            "\n",
            r#"{"t":2000000,"from":"agent-1","to":"master","proto":"mesos.internal.RegisterSlaveMessage","kind":"RegisterSlaveMessage","summary":"","bytes":""}"#,
            "\n",
            r#"{"t":3000000,"fault":"kill","rule":"x.toml:9","detail":"agent-1; for #2"}"#,
            "\n",
            r#"{"t":4000000,"from":"master","to":"driver:pi","refused":"DECLINE","status":"403 Forbidden","reason":"r"}"#,
            "\n",
        );
        let d = export(&parse(Path::new("t"), trace).unwrap());
        assert_eq!(
            d,
            "sequenceDiagram\n\
             \x20   box masters\n\
             \x20       participant a0 as master\n\
             \x20   end\n\
             \x20   box agents\n\
             \x20       participant a1 as agent-1\n\
             \x20   end\n\
             \x20   box frameworks\n\
             \x20       participant a2 as driver:pi\n\
             \x20   end\n\
             \x20   a2->>a0: 1.000000s SUBSCRIBE\n\
             \x20   Note over a0,a2: 1.500000s ⚡ drop SUBSCRIBED [x.toml:3]\n\
             \x20   a1->>a0: 2.000000s RegisterSlaveMessage\n\
             \x20   Note over a0,a2: 3.000000s ⚡ kill agent-1#59; for #35;2 [x.toml:9]\n\
             \x20   a0--xa2: 4.000000s refuses DECLINE (403 Forbidden)\n"
        );
    }
}
