//! The offer cycles: two-level scheduling, one allocation instant at a time.
//!
//! Mesos's allocator decides *which framework* is offered an agent (level one:
//! DRF, `src/master/allocator/mesos/hierarchical.cpp`); the framework decides
//! *what to run* on it, or declines (level two). The trace shows both halves:
//! the master's OFFERS events, each framework's ACCEPT or DECLINE (or the
//! master's RESCIND), and, whenever a trace is kept, the master's narration of
//! each decision ("allocate agent-1 … to pi (DRF share 0.5, lowest of 2)").
//!
//! This section groups the OFFERS events by the instant they were sent (one
//! allocation), gives one row per offer (agent, resources, framework), follows
//! each offer id to its answer, and shows the notes the master wrote at that
//! instant and the ones the framework wrote when it answered (Spark says why
//! it declines: "spark.cores.max=8 reached, refuse 120s …"). A cycle that
//! offered nothing is a row too, with the master's word on why each agent
//! stayed idle ("refused by spark-pi until 120.6s", "no active framework").

use super::esc;
use crate::flow::Record;
use crate::flow::decode::Decoder;
use crate::flow::seconds as secs;
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt::Write;

/// An offer, as one row of a cycle.
struct Offer {
    framework: String,
    id: String,
    agent: String,
    resources: String,
    answer: Option<Answer>,
}

/// What became of an offer.
struct Answer {
    t: u64,
    /// `ACCEPT`, `DECLINE` or `RESCIND`.
    kind: String,
    what: String,
    /// The answering framework's notes at that instant.
    notes: Vec<String>,
}

/// The allocations of a run, by instant, each with its offers.
fn cycles(records: &[Record], decoder: &Decoder) -> BTreeMap<u64, Vec<Offer>> {
    let mut cycles: BTreeMap<u64, Vec<Offer>> = BTreeMap::new();
    // Offer id → (cycle instant, row), to find an answer's offer.
    let mut where_: BTreeMap<String, (u64, usize)> = BTreeMap::new();
    let notes_of = |actor: &str, t: u64| -> Vec<String> {
        records
            .iter()
            .filter_map(|r| match r {
                Record::Said(s) if s.is_note() && s.t == t && s.actor == actor => Some(s.text.clone()),
                _ => None,
            })
            .collect()
    };
    for r in records {
        let Record::Message(m) = r else { continue };
        if !matches!(m.kind.as_str(), "OFFERS" | "ACCEPT" | "DECLINE" | "RESCIND") {
            continue;
        }
        let Ok(v) = decoder.decode(&m.proto, &m.bytes) else { continue };
        match m.kind.as_str() {
            "OFFERS" => {
                let rows = cycles.entry(m.t).or_default();
                for o in v["offers"]["offers"].as_array().into_iter().flatten() {
                    let id = short(o["id"]["value"].as_str().unwrap_or("?"));
                    where_.insert(id.clone(), (m.t, rows.len()));
                    rows.push(Offer {
                        framework: m.to.clone(),
                        id,
                        agent: o["hostname"].as_str().unwrap_or("?").to_string(),
                        resources: resources(&o["resources"]),
                        answer: None,
                    });
                }
            }
            kind => {
                let (ids, what) = match kind {
                    "ACCEPT" => (&v["accept"]["offerIds"], m.summary.clone()),
                    "DECLINE" => (&v["decline"]["offerIds"], refuse(&v["decline"]["filters"])),
                    // RESCIND carries one offer id, not a list.
                    _ => (&v["rescind"]["offerId"], "the master took the offer back".to_string()),
                };
                let ids: Vec<&Value> = match ids {
                    Value::Array(a) => a.iter().collect(),
                    one => vec![one],
                };
                let answerer = if kind == "RESCIND" { &m.to } else { &m.from };
                for id in ids {
                    let id = short(id["value"].as_str().unwrap_or(""));
                    let Some(&(t, i)) = where_.get(&id) else { continue };
                    let row = &mut cycles.get_mut(&t).expect("an offer's cycle is kept")[i];
                    // The first answer counts; a second one (a duplicate ACCEPT) the master refuses.
                    if row.answer.is_none() {
                        row.answer = Some(Answer {
                            t: m.t,
                            kind: kind.to_string(),
                            what: what.clone(),
                            notes: notes_of(answerer, m.t),
                        });
                    }
                }
            }
        }
    }
    cycles
}

/// Write the offer cycles section.
pub(super) fn section(page: &mut String, records: &[Record]) {
    let decoder = Decoder::new();
    let cycles = cycles(records, &decoder);
    // Cycles that offered nothing: the master says which agents it left idle and
    // why (filtered until T, suppressed, below min_allocatable, no active
    // framework: the reasons `HierarchicalAllocatorProcess::__allocate` skips an
    // agent). A run of cycles with the same reason is one row.
    let mut idle: Vec<(u64, u64, usize, &str)> = Vec::new();
    for r in records {
        let Record::Said(s) = r else { continue };
        let said = s.is_note() && s.actor.starts_with("master") && s.text.starts_with("left idle this cycle");
        if !said || cycles.contains_key(&s.t) {
            continue;
        }
        match idle.last_mut() {
            Some((_, last, n, text)) if *text == s.text && cycles.range(*last..s.t).next().is_none() => {
                *last = s.t;
                *n += 1;
            }
            _ => idle.push((s.t, s.t, 1, &s.text)),
        }
    }
    let mut idle = idle.into_iter().peekable();
    let _ = writeln!(page, "<section id=\"offers\">\n<h2>Offer cycles</h2>");
    let _ = writeln!(
        page,
        "<p class=\"note\">{} allocation instant(s) with offers. For each: the master's notes at that instant (whom \
         DRF chose, and why), then every offer with the framework's answer. Cycles that offered nothing say \
         which agents stayed idle and why.</p>",
        cycles.len()
    );
    if cycles.is_empty() && idle.peek().is_none() {
        page.push_str("<p>The master made no offers in this run.</p>\n</section>\n");
        return;
    }
    page.push_str(
        "<table id=\"offer-cycles\"><tr><th>at</th><th>framework</th><th>offer</th><th>agent</th>\
         <th>resources</th><th>answer</th><th>why (the framework's notes)</th></tr>\n",
    );
    let idle_row = |page: &mut String, (first, last, n, text): (u64, u64, usize, &str)| {
        let when = if n == 1 { secs(first) } else { format!("{}–{}", secs(first), secs(last)) };
        let _ = writeln!(
            page,
            "<tr class=\"idle\"><td class=\"mono\">{when}</td><td colspan=\"6\"><b>no offer</b> ({n} cycle{}): {}</td></tr>",
            if n == 1 { "" } else { "s" },
            esc(text)
        );
    };
    for (t, offers) in &cycles {
        while let Some(row) = idle.next_if(|(first, ..)| first < t) {
            idle_row(page, row);
        }
        let master: Vec<String> = records
            .iter()
            .filter_map(|r| match r {
                Record::Said(s) if s.is_note() && s.t == *t && s.actor.starts_with("master") => Some(esc(&s.text)),
                _ => None,
            })
            .collect();
        let _ = writeln!(
            page,
            "<tr class=\"cycle\"><td class=\"mono\">{}</td><td colspan=\"6\"><b>allocation</b>{}{}</td></tr>",
            secs(*t),
            if master.is_empty() { "" } else { ": " },
            master.join("<br>")
        );
        for o in offers {
            let (answer, why) = match &o.answer {
                Some(a) => (
                    format!("<b>{}</b> at {}: {}", esc(&a.kind), secs(a.t), esc(&a.what)),
                    about(&a.notes, &o.id).iter().map(|n| esc(n)).collect::<Vec<_>>().join("<br>"),
                ),
                None => ("<i>no answer in the trace</i>".to_string(), String::new()),
            };
            let _ = writeln!(
                page,
                "<tr class=\"offer\"><td></td><td>{}</td><td class=\"mono\">{}</td><td>{}</td><td class=\"mono\">{}</td>\
                 <td>{answer}</td><td class=\"note\">{why}</td></tr>",
                esc(&o.framework),
                esc(&o.id),
                esc(&o.agent),
                esc(&o.resources)
            );
        }
    }
    for row in idle {
        idle_row(page, row);
    }
    page.push_str("</table>\n</section>\n");
}

/// The notes that name offer `id` (a framework answering three offers at once
/// writes one note each); all of them if none does.
fn about<'a>(notes: &'a [String], id: &str) -> Vec<&'a String> {
    let named: Vec<&String> =
        notes.iter().filter(|n| n.split(|c: char| !c.is_ascii_alphanumeric()).any(|w| w == id)).collect();
    if named.is_empty() { notes.iter().collect() } else { named }
}

/// An id as the timeline writes it: the part after the master's id (`…-O7` → `O7`).
pub(super) fn short(id: &str) -> String {
    id.rsplit('-').next().unwrap_or(id).to_string()
}

/// A DECLINE's filter, in words. Without one, Mesos applies the default
/// `refuse_seconds` of `Filters` (5 s, `include/mesos/v1/mesos.proto`).
fn refuse(filters: &Value) -> String {
    match filters["refuseSeconds"].as_f64() {
        Some(s) => format!("refuse_seconds={s}"),
        None => "no filter: Mesos's default refuse_seconds=5".to_string(),
    }
}

/// Decoded `Resource`s as the timeline writes them (`cpus:4;mem:8192;ports:[31000-32000]`).
pub(super) fn resources(list: &Value) -> String {
    let mut out: Vec<String> = Vec::new();
    for r in list.as_array().into_iter().flatten() {
        let name = r["name"].as_str().unwrap_or("?");
        if let Some(v) = r["scalar"]["value"].as_f64() {
            out.push(format!("{name}:{v}"));
        } else if let Some(ranges) = r["ranges"]["range"].as_array() {
            let parts: Vec<String> = ranges
                .iter()
                .map(|x| format!("{}-{}", x["begin"].as_str().unwrap_or("?"), x["end"].as_str().unwrap_or("?")))
                .collect();
            out.push(format!("{name}:[{}]", parts.join(",")));
        }
    }
    out.join(";")
}
