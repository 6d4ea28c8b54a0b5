//! The message sequence diagram: one lifeline per actor, one arrow per message.
//!
//! Lifelines come in [`cast`]'s order (masters, agents, frameworks, executors,
//! each group under its heading). Each record of the trace is one *row*, an SVG
//! `<g class="row …">` at its own height:
//!
//! | record | drawn as |
//! |---|---|
//! | message | an arrow sender → receiver, coloured by [`Layer`], labelled with its kind |
//! | fault | a red dashed band between the two actors of the message it hit, or across the whole diagram for one on actors (a kill, a partition), with ✕ on the actor it names |
//! | world event | a dot on the actor's lifeline: its container started or exited |
//! | refused call | a grey dashed arrow back to the caller |
//!
//! The cores' notes are not rows; the offer cycles section shows the master's.
//!
//! **Time runs down, compressed.** A run is milliseconds of traffic separated by
//! seconds of nothing (the allocator's 1 s cycle, 15 s pings), so a linear axis
//! would be blank paper. Rows keep their order and the gap between two rows
//! grows with the logarithm of the virtual time between them ([`gap`]); each
//! row's time is written at the left. The page says so above the diagram.
//!
//! **Noise is hidden, not dropped.** Every message is in the SVG; rows in a
//! [`Noise`] group start hidden, and the page's checkboxes and from/to inputs
//! re-run the same layout in JavaScript, so the positions the Rust code writes
//! are what a reader without JavaScript sees. Clicking an arrow shows its
//! message decoded to JSON by [`Decoder`], embedded for the first
//! [`DECODED_CAP`] messages.

use super::{DECODED_CAP, esc, script_json, secs};
use crate::flow::decode::Decoder;
use crate::flow::records::{Fault, Message, Refusal, Said};
use crate::flow::{Group, Layer, Noise, Record, cast};
use std::collections::BTreeMap;
use std::fmt::Write;

/// Horizontal room per lifeline, and left of the first one (the time labels).
const LANE: f64 = 140.0;
const LEFT: f64 = 80.0;
/// Where the first row sits (the headings and names are in their own strip above).
const TOP: f64 = 16.0;

/// The noise groups, in the order their checkboxes appear.
const NOISE: [Noise; 4] = [Noise::Pings, Noise::Heartbeats, Noise::Acks, Noise::SparkTasks];

/// Vertical room between two rows `dt` microseconds apart: 12 px for the same
/// instant, growing with the log of the idle time up to 40 px. The page's
/// JavaScript uses the same rule when it re-lays out the rows.
fn gap(dt: u64) -> f64 {
    if dt == 0 { 12.0 } else { 12.0 + (5.0 * (1.0 + dt as f64 / 1000.0).ln()).min(28.0) }
}

/// A layer's colour and its arrowhead marker's id.
fn colour(l: Layer) -> (&'static str, &'static str) {
    match l {
        Layer::SchedulerApi => ("#1f77b4", "ah-sched"),
        Layer::MasterAgent => ("#2ca02c", "ah-agent"),
        Layer::ExecutorApi => ("#ff7f0e", "ah-exec"),
        Layer::SparkRpc => ("#9467bd", "ah-spark"),
    }
}

const LAYERS: [Layer; 4] = [Layer::SchedulerApi, Layer::MasterAgent, Layer::ExecutorApi, Layer::SparkRpc];

/// Write the diagram section: controls, legend, the SVG, the decoded-message panel and its JSON.
pub(super) fn section(page: &mut String, records: &[Record]) {
    let cast = cast(records);
    let lane: BTreeMap<&str, f64> =
        cast.iter().enumerate().map(|(i, (name, _))| (name.as_str(), LEFT + LANE * (i as f64 + 0.5))).collect();
    let x = |name: &str| lane.get(name).copied().unwrap_or(LEFT);
    let width = LEFT + LANE * cast.len() as f64 + 20.0;
    let noise_of = |m: &Message| NOISE.into_iter().find(|n| n.contains(&m.proto, &m.kind));

    let messages = records.iter().filter(|r| matches!(r, Record::Message(_))).count();
    let _ = writeln!(page, "<section id=\"sequence\">\n<h2>Message sequence</h2>");
    let _ = writeln!(
        page,
        "<p class=\"note\">Time runs down. Idle stretches are compressed: the gap between two rows grows with the \
         logarithm of the virtual time between them, and each row's time is written at the left. \
         {messages} messages; click an arrow to see it decoded.</p>"
    );
    page.push_str("<div class=\"controls\">");
    for n in NOISE {
        let count = records.iter().filter(|r| matches!(r, Record::Message(m) if noise_of(m) == Some(n))).count();
        let _ = write!(page, "<label><input type=\"checkbox\" data-noise=\"{n}\"> show {n} ({count})</label>");
    }
    page.push_str(
        "<label>from <input type=\"number\" id=\"from\" min=\"0\" step=\"any\"> s</label>\
         <label>to <input type=\"number\" id=\"to\" min=\"0\" step=\"any\"> s</label>\
         <span>rows shown: <span id=\"shown\"></span></span></div>\n<p>",
    );
    for l in LAYERS {
        let (c, _) = colour(l);
        let _ = write!(page, "<span style=\"color:{c}\">━━▶ {}</span> &nbsp; ", l.name());
    }
    page.push_str("<span style=\"color:#d62728\">⚡ fault</span> &nbsp; <span>● container event</span></p>\n");

    // The rows, laid out with noise hidden (the page's default).
    let mut body = String::new();
    let mut y = TOP;
    let mut prev: Option<u64> = None;
    let mut index = 0usize;
    for r in records {
        // Notes have their own section (the offer cycles), shares their plot.
        if matches!(r, Record::Said(s) if s.is_note()) || matches!(r, Record::Shares(_)) {
            continue;
        }
        let noise = match r {
            Record::Message(m) => noise_of(m),
            _ => None,
        };
        let shown = noise.is_none();
        if shown {
            y += prev.map_or(0.0, |p| gap(r.t().saturating_sub(p)));
            prev = Some(r.t());
        }
        let hide = if shown { "" } else { " style=\"display:none\"" };
        let noise_attr = noise.map(|n| format!(" data-noise=\"{n}\"")).unwrap_or_default();
        let t = r.t();
        let label = format!("<text x=\"4\" y=\"4\" fill=\"#888\">{}</text>", secs(t));
        match r {
            Record::Message(m) => {
                let _ = writeln!(
                    body,
                    "<g class=\"row msg\" data-t=\"{t}\" data-i=\"{index}\"{noise_attr} transform=\"translate(0,{y:.1})\"{hide}>{label}{}</g>",
                    arrow(m, x(&m.from), x(&m.to))
                );
                index += 1;
            }
            Record::Fault(f) => {
                let _ = writeln!(
                    body,
                    "<g class=\"row fault\" data-t=\"{t}\" transform=\"translate(0,{y:.1})\">{label}{}</g>",
                    fault(f, &lane, width)
                );
            }
            Record::Said(s) => {
                let _ = writeln!(
                    body,
                    "<g class=\"row event\" data-t=\"{t}\" transform=\"translate(0,{y:.1})\">{label}{}</g>",
                    event(s, x(&s.actor))
                );
            }
            Record::Shares(_) => {}
            Record::Refusal(f) => {
                let _ = writeln!(
                    body,
                    "<g class=\"row refusal\" data-t=\"{t}\" transform=\"translate(0,{y:.1})\">{label}{}</g>",
                    refusal(f, x(&f.from), x(&f.to))
                );
            }
        }
    }
    let height = y + 30.0;

    let _ = writeln!(
        page,
        "<div class=\"seqwrap\"><div class=\"seqscroll\">\n<svg id=\"seq-head\" xmlns=\"http://www.w3.org/2000/svg\" \
         width=\"{width:.0}\" height=\"46\">"
    );
    header(page, &cast);
    let _ = writeln!(
        page,
        "</svg>\n<svg id=\"seq\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{width:.0}\" height=\"{height:.0}\" \
         data-top=\"{TOP}\">"
    );
    page.push_str("<defs>");
    for l in LAYERS {
        let (c, id) = colour(l);
        let _ = write!(
            page,
            "<marker id=\"{id}\" viewBox=\"0 0 8 8\" refX=\"8\" refY=\"4\" markerWidth=\"7\" markerHeight=\"7\" \
             orient=\"auto-start-reverse\"><path d=\"M0,0 L8,4 L0,8 z\" fill=\"{c}\"/></marker>"
        );
    }
    page.push_str("</defs>\n");
    lifelines(page, &cast, height);
    page.push_str(&body);
    page.push_str(
        "</svg>\n</div>\n<pre id=\"decoded\">Click an arrow to see its message decoded as JSON.</pre></div>\n",
    );
    embed(page, records);
    page.push_str("</section>\n");
}

/// Group headings and actor names, in a strip that stays in view as the diagram scrolls.
fn header(page: &mut String, cast: &[(String, Group)]) {
    let mut i = 0;
    while i < cast.len() {
        let g = cast[i].1;
        let n = cast[i..].iter().take_while(|(_, h)| *h == g).count();
        let x0 = LEFT + LANE * i as f64;
        let _ = writeln!(
            page,
            "<rect x=\"{:.0}\" y=\"2\" width=\"{:.0}\" height=\"18\" fill=\"#eef\" stroke=\"#99b\"/>\
             <text x=\"{:.0}\" y=\"15\" text-anchor=\"middle\" font-weight=\"bold\">{}</text>",
            x0 + 2.0,
            LANE * n as f64 - 4.0,
            x0 + LANE * n as f64 / 2.0,
            g.heading()
        );
        i += n;
    }
    for (i, (name, _)) in cast.iter().enumerate() {
        let cx = LEFT + LANE * (i as f64 + 0.5);
        let _ = writeln!(page, "<text x=\"{cx:.0}\" y=\"38\" text-anchor=\"middle\">{}</text>", esc(name));
    }
}

/// One lifeline per actor, the diagram's full height.
fn lifelines(page: &mut String, cast: &[(String, Group)], height: f64) {
    for (i, (name, _)) in cast.iter().enumerate() {
        let cx = LEFT + LANE * (i as f64 + 0.5);
        let _ = writeln!(
            page,
            "<line class=\"lifeline\" data-actor=\"{}\" x1=\"{cx:.0}\" y1=\"0\" x2=\"{cx:.0}\" y2=\"{height:.0}\" \
             stroke=\"#bbb\" stroke-dasharray=\"4 3\"/>",
            esc(name)
        );
    }
}

/// A message's arrow and its label (a loop for a message to oneself).
fn arrow(m: &Message, x1: f64, x2: f64) -> String {
    let (c, marker) = colour(Layer::of(&m.proto));
    let title = format!("{}  {} → {}  {}  {}", secs(m.t), m.from, m.to, m.kind, m.summary);
    let shape = if x1 == x2 {
        format!(
            "<path d=\"M{x1:.0},0 h30 v8 h-30\" fill=\"none\" stroke=\"{c}\" stroke-width=\"1.5\" marker-end=\"url(#{marker})\"/>"
        )
    } else {
        format!(
            "<line x1=\"{x1:.0}\" y1=\"0\" x2=\"{x2:.0}\" y2=\"0\" stroke=\"{c}\" stroke-width=\"1.5\" marker-end=\"url(#{marker})\"/>"
        )
    };
    format!(
        "<title>{}</title>{shape}<text x=\"{:.0}\" y=\"-2\" text-anchor=\"middle\" fill=\"{c}\">{}</text>",
        esc(&title),
        (x1 + x2) / 2.0 + if x1 == x2 { 15.0 } else { 0.0 },
        esc(&m.kind)
    )
}

/// A fault where it acted: between a message's two actors, or across the
/// diagram with ✕ on the actor its detail names first (`agent-2 crashes …`).
fn fault(f: &Fault, lane: &BTreeMap<&str, f64>, width: f64) -> String {
    let what: Vec<&str> = [f.kind.as_deref(), f.detail.as_deref()].into_iter().flatten().collect();
    let text = format!("⚡ {} {} [{}]", f.fault, what.join(" "), f.rule);
    let title = format!("{}  {text}", secs(f.t));
    let at = |a: &Option<String>| a.as_deref().and_then(|a| lane.get(a)).copied();
    let (x1, x2, cross) = match (at(&f.from), at(&f.to)) {
        (Some(a), Some(b)) => (a.min(b), a.max(b), None),
        _ => {
            let named = f.detail.as_deref().and_then(|d| d.split_whitespace().next()).and_then(|a| lane.get(a));
            (LEFT, width - 20.0, named.copied())
        }
    };
    let mut out = format!(
        "<title>{}</title><line x1=\"{x1:.0}\" y1=\"0\" x2=\"{x2:.0}\" y2=\"0\" stroke=\"#d62728\" stroke-width=\"3\" \
         stroke-dasharray=\"6 3\"/><text x=\"{:.0}\" y=\"-3\" fill=\"#d62728\" font-weight=\"bold\">{}</text>",
        esc(&title),
        x1 + 4.0,
        esc(&text)
    );
    if let Some(cx) = cross {
        let _ = write!(
            out,
            "<text class=\"cross\" x=\"{cx:.0}\" y=\"5\" text-anchor=\"middle\" fill=\"#d62728\" font-size=\"16\">✕</text>"
        );
    }
    out
}

/// A world event as a dot on its actor's lifeline.
fn event(s: &Said, x: f64) -> String {
    let title = format!("{}  {}: {}", secs(s.t), s.actor, s.text);
    format!(
        "<title>{}</title><circle cx=\"{x:.0}\" cy=\"0\" r=\"4\" fill=\"#444\"/><text x=\"{:.0}\" y=\"4\" fill=\"#444\">{}</text>",
        esc(&title),
        x + 7.0,
        esc(&s.text)
    )
}

/// A refused call: a grey dashed arrow from the refusing actor back to the caller.
fn refusal(f: &Refusal, x1: f64, x2: f64) -> String {
    let text = format!("refuses {}: {}", f.refused, f.status);
    let title = format!("{}  {} refuses {}'s {}: {}: {}", secs(f.t), f.from, f.to, f.refused, f.status, f.reason);
    format!(
        "<title>{}</title><line x1=\"{x1:.0}\" y1=\"0\" x2=\"{x2:.0}\" y2=\"0\" stroke=\"#777\" stroke-dasharray=\"3 3\"/>\
         <text x=\"{:.0}\" y=\"-2\" text-anchor=\"middle\" fill=\"#777\">{}</text>",
        esc(&title),
        (x1 + x2) / 2.0,
        esc(&text)
    )
}

/// The decoded messages, in trace order, for the first [`DECODED_CAP`]; a
/// message that does not decode carries its error instead.
fn embed(page: &mut String, records: &[Record]) {
    let decoder = Decoder::new();
    let messages: Vec<&Message> = records
        .iter()
        .filter_map(|r| match r {
            Record::Message(m) => Some(m),
            _ => None,
        })
        .collect();
    if messages.len() > DECODED_CAP {
        let _ = writeln!(
            page,
            "<p class=\"note\" id=\"capped\">Decoded JSON is embedded for the first {DECODED_CAP} of {} messages \
             only, to keep this page bounded; `mesocosm decode TRACE.jsonl` decodes them all.</p>",
            messages.len()
        );
    }
    page.push_str("<script type=\"application/json\" id=\"decoded-json\">[");
    for (i, m) in messages.iter().take(DECODED_CAP).enumerate() {
        let v = decoder.decode(&m.proto, &m.bytes).unwrap_or_else(|e| serde_json::json!({ "error": e }));
        if i > 0 {
            page.push(',');
        }
        page.push_str(&script_json(&v.to_string()));
    }
    page.push_str("]</script>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn calls(n: usize) -> Vec<Record> {
        (0..n)
            .map(|i| {
                Record::Message(Message {
                    t: i as u64,
                    from: "driver:<pi>".into(),
                    to: "master".into(),
                    proto: "mesos.v1.scheduler.Call".into(),
                    kind: "SUBSCRIBE".into(),
                    summary: "\"</script>\"".into(),
                    // The empty encoding is a Call with no fields set.
                    bytes: String::new(),
                })
            })
            .collect()
    }

    fn embedded(page: &str) -> Vec<serde_json::Value> {
        let json = page.split("id=\"decoded-json\">").nth(1).unwrap().split("</script>").next().unwrap();
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn every_message_is_an_arrow_but_only_the_first_ones_carry_their_json() {
        let mut page = String::new();
        section(&mut page, &calls(DECODED_CAP));
        assert_eq!(embedded(&page).len(), DECODED_CAP);
        assert!(!page.contains("id=\"capped\""));

        let mut page = String::new();
        section(&mut page, &calls(DECODED_CAP + 2));
        assert_eq!(page.matches("<g class=\"row msg\"").count(), DECODED_CAP + 2);
        assert_eq!(embedded(&page).len(), DECODED_CAP, "bounded");
        assert!(page.contains(&format!("for the first {DECODED_CAP} of {} messages", DECODED_CAP + 2)));
        // Names and summaries are escaped, in text and in attributes.
        assert!(page.contains("data-actor=\"driver:&lt;pi&gt;\"") && !page.contains("<pi>"));
        assert!(!page.contains("\"</script>\""));
    }

    #[test]
    fn idle_time_is_compressed_but_order_and_instants_are_kept() {
        assert_eq!(gap(0), 12.0);
        assert!(gap(1) > gap(0) && gap(1_000_000) > gap(1_000));
        assert_eq!(gap(3_600_000_000), 40.0, "an hour of nothing is at most 40 px");
    }
}
