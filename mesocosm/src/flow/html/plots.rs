//! Plots over virtual time: the cluster's cpus, and each agent's executors.
//!
//! **cpus offered / used.** Both are read from the messages alone, as a learner
//! could by hand:
//!
//! - *offered* rises by an offer's cpus when the master sends OFFERS and falls
//!   when the offer is answered (ACCEPT, DECLINE) or taken back (RESCIND): in
//!   Mesos an offer holds its resources until then (`Master::accept`,
//!   `Master::decline`, `Master::rescindOffer` in `src/master/master.cpp`);
//! - *used* rises by a task's cpus (and its executor's) when the master sends
//!   RunTaskMessage to the agent, and falls at the task's first terminal status
//!   (TASK_FINISHED, TASK_FAILED, TASK_KILLED, TASK_LOST…), from the agent's
//!   StatusUpdateMessage or the master's UPDATE to the framework, whichever
//!   comes first (the master frees the resources of a task it marks lost or
//!   unreachable itself);
//! - *registered* is the cpus of every agent that registered.
//!
//! **Executors per agent** is a Gantt chart: one bar per executor container,
//! from the world's "container started on AGENT" event to its "exited" event
//! (or the end of the run), grouped by agent; a bar that exited non-zero is red.

use super::offers::{cpus, short};
use super::{esc, secs};
use crate::flow::Record;
use crate::flow::decode::Decoder;
use std::collections::BTreeMap;
use std::fmt::Write;

const W: f64 = 900.0;
const H: f64 = 200.0;
const ML: f64 = 50.0;
const MT: f64 = 10.0;

/// Task states after which a task holds no resources (`protobuf::isTerminalState`
/// in `src/common/protobuf_utils.cpp`, plus TASK_UNREACHABLE, whose resources the
/// master takes out of the allocator with its agent).
const RELEASES: [&str; 8] = [
    "TASK_FINISHED",
    "TASK_FAILED",
    "TASK_KILLED",
    "TASK_LOST",
    "TASK_ERROR",
    "TASK_DROPPED",
    "TASK_GONE",
    "TASK_UNREACHABLE",
];

/// The three step series: (t, cpus) after each change.
#[derive(Default)]
struct Cpus {
    offered: Vec<(u64, f64)>,
    used: Vec<(u64, f64)>,
    registered: Vec<(u64, f64)>,
}

fn cpu_series(records: &[Record], decoder: &Decoder) -> Cpus {
    let mut s = Cpus::default();
    let (mut offered, mut used) = (0.0, 0.0);
    let mut open: BTreeMap<String, f64> = BTreeMap::new();
    let mut running: BTreeMap<(String, String), f64> = BTreeMap::new();
    let mut agents: BTreeMap<String, f64> = BTreeMap::new();
    // A framework actor's id, from SUBSCRIBED (the scheduler API's UPDATE does not name it).
    let mut framework_of: BTreeMap<String, String> = BTreeMap::new();
    for r in records {
        let Record::Message(m) = r else { continue };
        let kind = m.kind.as_str();
        if !matches!(
            kind,
            "OFFERS"
                | "ACCEPT"
                | "DECLINE"
                | "RESCIND"
                | "RunTaskMessage"
                | "StatusUpdateMessage"
                | "UPDATE"
                | "SUBSCRIBED"
                | "RegisterSlaveMessage"
                | "ReregisterSlaveMessage"
        ) {
            continue;
        }
        let Ok(v) = decoder.decode(&m.proto, &m.bytes) else { continue };
        let (o0, u0) = (offered, used);
        let mut release = |fid: &str, tid: &str, state: &str| {
            if RELEASES.contains(&state) {
                used -= running.remove(&(fid.to_string(), tid.to_string())).unwrap_or(0.0);
            }
        };
        match (m.proto.as_str(), kind) {
            ("mesos.v1.scheduler.Event", "OFFERS") => {
                for o in v["offers"]["offers"].as_array().into_iter().flatten() {
                    let c = cpus(&o["resources"]);
                    open.insert(short(o["id"]["value"].as_str().unwrap_or("")), c);
                    offered += c;
                }
            }
            ("mesos.v1.scheduler.Event", "SUBSCRIBED") => {
                if let Some(fid) = v["subscribed"]["frameworkId"]["value"].as_str() {
                    framework_of.insert(m.to.clone(), fid.to_string());
                }
            }
            ("mesos.v1.scheduler.Event", "UPDATE") => {
                let st = &v["update"]["status"];
                let fid = framework_of.get(&m.to).cloned().unwrap_or_default();
                release(&fid, st["taskId"]["value"].as_str().unwrap_or(""), st["state"].as_str().unwrap_or(""));
            }
            ("mesos.v1.scheduler.Event" | "mesos.v1.scheduler.Call", "ACCEPT" | "DECLINE" | "RESCIND") => {
                let ids = match kind {
                    "ACCEPT" => v["accept"]["offerIds"].as_array().cloned().unwrap_or_default(),
                    "DECLINE" => v["decline"]["offerIds"].as_array().cloned().unwrap_or_default(),
                    _ => vec![v["rescind"]["offerId"].clone()],
                };
                for id in ids {
                    offered -= open.remove(&short(id["value"].as_str().unwrap_or(""))).unwrap_or(0.0);
                }
            }
            (_, "RunTaskMessage") => {
                let task = &v["task"];
                let c = cpus(&task["resources"]) + cpus(&task["executor"]["resources"]);
                let fid = v["framework"]["id"]["value"].as_str().or(v["frameworkId"]["value"].as_str());
                let key = (fid.unwrap_or("").to_string(), task["taskId"]["value"].as_str().unwrap_or("").to_string());
                // A task launched once holds its cpus once, whatever the retries.
                if let std::collections::btree_map::Entry::Vacant(e) = running.entry(key) {
                    e.insert(c);
                    used += c;
                }
            }
            (_, "StatusUpdateMessage") => {
                let u = &v["update"];
                let st = &u["status"];
                release(
                    u["frameworkId"]["value"].as_str().unwrap_or(""),
                    st["taskId"]["value"].as_str().unwrap_or(""),
                    st["state"].as_str().unwrap_or(""),
                );
            }
            (_, "RegisterSlaveMessage" | "ReregisterSlaveMessage") => {
                agents.insert(m.from.clone(), cpus(&v["slave"]["resources"]));
                s.registered.push((m.t, agents.values().sum()));
            }
            _ => {}
        }
        if offered != o0 {
            s.offered.push((m.t, offered));
        }
        if used != u0 {
            s.used.push((m.t, used));
        }
    }
    s
}

/// Write the plots section; `end` is when the run ended, in microseconds.
pub(super) fn section(page: &mut String, records: &[Record], end: u64) {
    let end = records.iter().map(Record::t).max().unwrap_or(0).max(end).max(1);
    let s = cpu_series(records, &Decoder::new());
    let _ = writeln!(page, "<section id=\"plots\">\n<h2>Plots</h2>\n<h3>Cluster cpus over time</h3>");
    let top =
        [&s.offered, &s.used, &s.registered].iter().flat_map(|v| v.iter().map(|(_, c)| *c)).fold(1.0_f64, f64::max);
    let x = |t: u64| ML + W * t as f64 / end as f64;
    let y = |c: f64| MT + H - H * c / top;
    let _ = writeln!(
        page,
        "<svg id=\"plot-cpus\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{:.0}\" height=\"{:.0}\">",
        ML + W + 20.0,
        MT + H + 40.0
    );
    axes(page, end, top, &x, &y);
    let series =
        [("registered", "#999", &s.registered), ("offered", "#1f77b4", &s.offered), ("used", "#2ca02c", &s.used)];
    for (i, (name, colour, points)) in series.iter().enumerate() {
        let mut d = format!("M{:.1},{:.1}", x(0), y(0.0));
        for (t, c) in points.iter() {
            let _ = write!(d, " H{:.1} V{:.1}", x(*t), y(*c));
        }
        let _ = write!(d, " H{:.1}", x(end));
        let _ = writeln!(
            page,
            "<path class=\"series\" data-series=\"{name}\" d=\"{d}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\"/>\
             <text x=\"{:.0}\" y=\"{:.0}\" fill=\"{colour}\">━ cpus {name}</text>",
            ML + 10.0 + 130.0 * i as f64,
            MT + H + 34.0
        );
    }
    page.push_str("</svg>\n");
    gantt(page, records, end);
    page.push_str("</section>\n");
}

/// Both axes: time ticks under the plot, cpus ticks at its left.
fn axes(page: &mut String, end: u64, top: f64, x: &dyn Fn(u64) -> f64, y: &dyn Fn(f64) -> f64) {
    let _ = write!(
        page,
        "<line x1=\"{ML}\" y1=\"{:.0}\" x2=\"{:.0}\" y2=\"{:.0}\" stroke=\"#333\"/>\
         <line x1=\"{ML}\" y1=\"{MT}\" x2=\"{ML}\" y2=\"{:.0}\" stroke=\"#333\"/>",
        MT + H,
        ML + W,
        MT + H,
        MT + H
    );
    for i in 0..=5 {
        let t = end / 5 * i;
        let _ = write!(
            page,
            "<text x=\"{:.0}\" y=\"{:.0}\" text-anchor=\"middle\" fill=\"#555\">{}</text>",
            x(t),
            MT + H + 14.0,
            secs(t)
        );
    }
    for c in [0.0, top / 2.0, top] {
        let _ = write!(
            page,
            "<text x=\"{:.0}\" y=\"{:.0}\" text-anchor=\"end\" fill=\"#555\">{c}</text>",
            ML - 4.0,
            y(c) + 4.0
        );
    }
}

/// One executor container: where it ran, when, and how it ended.
struct Bar {
    agent: String,
    actor: String,
    start: u64,
    exit: Option<(u64, String)>,
}

fn gantt(page: &mut String, records: &[Record], end: u64) {
    let mut bars: Vec<Bar> = Vec::new();
    for r in records {
        let Record::Said(s) = r else { continue };
        if s.is_note() {
            continue;
        }
        if let Some(rest) = s.text.strip_prefix("container started on ") {
            let agent = rest.split_whitespace().next().unwrap_or("?").to_string();
            bars.push(Bar { agent, actor: s.actor.clone(), start: s.t, exit: None });
        } else if let Some(status) = s.text.strip_prefix("exited with status ")
            && let Some(b) = bars.iter_mut().rev().find(|b| b.actor == s.actor && b.exit.is_none())
        {
            b.exit = Some((s.t, status.to_string()));
        }
    }
    bars.sort_by(|a, b| (&a.agent, a.start).cmp(&(&b.agent, b.start)));
    let _ = writeln!(page, "<h3>Executors per agent</h3>");
    if bars.is_empty() {
        page.push_str("<p>No executor container started in this run.</p>\n");
        return;
    }
    let row = 22.0;
    let label = 260.0;
    let x = |t: u64| label + W * t as f64 / end as f64;
    let _ = writeln!(
        page,
        "<svg id=\"plot-executors\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{:.0}\" height=\"{:.0}\">",
        label + W + 20.0,
        row * bars.len() as f64 + 30.0
    );
    for (i, b) in bars.iter().enumerate() {
        let top = 4.0 + row * i as f64;
        let (stop, how, colour) = match &b.exit {
            Some((t, status)) if status == "0" => {
                (*t, format!("exited with status {status} at {}", secs(*t)), "#2ca02c")
            }
            Some((t, status)) => (*t, format!("exited with status {status} at {}", secs(*t)), "#d62728"),
            None => (end, "still running at the end of the run".to_string(), "#1f77b4"),
        };
        let title = format!("{} on {}: started at {}, {how}", b.actor, b.agent, secs(b.start));
        let _ = writeln!(
            page,
            "<g class=\"executor\"><title>{}</title><text x=\"4\" y=\"{:.0}\">{} · {}</text>\
             <rect x=\"{:.1}\" y=\"{top:.0}\" width=\"{:.1}\" height=\"{:.0}\" fill=\"{colour}\"/></g>",
            esc(&title),
            top + 13.0,
            esc(&b.agent),
            esc(&b.actor),
            x(b.start),
            (x(stop) - x(b.start)).max(2.0),
            row - 6.0
        );
    }
    let bottom = 4.0 + row * bars.len() as f64 + 14.0;
    for i in 0..=5 {
        let t = end / 5 * i;
        let _ = write!(
            page,
            "<text x=\"{:.0}\" y=\"{bottom:.0}\" text-anchor=\"middle\" fill=\"#555\">{}</text>",
            x(t),
            secs(t)
        );
    }
    page.push_str("</svg>\n");
}
