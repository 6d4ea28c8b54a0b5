//! Plots over virtual time, all read from the run's own trace records.
//!
//! **cpus and mem: registered, offered, used, idle.** Read from the messages
//! alone, as a learner could by hand:
//!
//! - *offered* rises by an offer's resources when the master sends OFFERS and
//!   falls when the offer is answered (ACCEPT, DECLINE) or taken back
//!   (RESCIND): in Mesos an offer holds its resources until then
//!   (`Master::accept`, `Master::decline`, `Master::rescindOffer` in
//!   `src/master/master.cpp`);
//! - *used* rises by a task's resources (and its executor's) when the master
//!   sends RunTaskMessage to the agent, and falls at the task's first terminal
//!   status (TASK_FINISHED, TASK_FAILED, TASK_KILLED, TASK_LOST…), from the
//!   agent's StatusUpdateMessage or the master's UPDATE to the framework,
//!   whichever comes first (the master frees the resources of a task it marks
//!   lost or unreachable itself);
//! - *registered* is the resources of every agent that registered, until the
//!   master tells the frameworks it lost the agent (FAILURE naming the agent and
//!   no executor: `Master::removeSlave` sends LostSlaveMessage, the v1 API's
//!   FAILURE); a disconnected agent stays registered, and idle, until then;
//! - *idle* is what is left: registered, neither offered nor used. A cluster
//!   with idle cpus and a starving app is the picture `--explain`'s "left idle
//!   this cycle" lines explain.
//!
//! **Each framework's dominant share** is the master's own number: after each
//! allocation cycle it records the share DRF orders frameworks by
//! (`DRFSorter::calculateShare`: the largest fraction of any resource a
//! framework holds, offered or launched), as a `shares` record of the trace.
//!
//! **Spark tasks running per app** counts, per driver, the tasks whose
//! executor said RUNNING and not yet FINISHED, FAILED, KILLED or LOST (Spark's
//! StatusUpdate RPC, `CoarseGrainedExecutorBackend.statusUpdate`).
//!
//! The Gantt charts of executors and of their Spark tasks are in [`super::gantt`].

use super::gantt::{self, SparkTask};
use super::offers::short;
use super::{esc, secs};
use crate::flow::Record;
use crate::flow::decode::Decoder;
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt::Write;

pub(super) const W: f64 = 900.0;
const H: f64 = 180.0;
/// The left margin: the Gantt charts' label column, so every time axis lines up.
pub(super) const ML: f64 = 260.0;
const MT: f64 = 10.0;

/// Colours for series told apart by name (frameworks, apps), in order.
pub(super) const PALETTE: [&str; 10] =
    ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

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

/// A step series: (t, value) after each change.
type Series = Vec<(u64, f64)>;

/// cpus and mem, side by side.
#[derive(Clone, Copy, Default, PartialEq)]
struct Res {
    cpus: f64,
    mem: f64,
}

impl Res {
    fn of(list: &Value) -> Res {
        let mut r = Res::default();
        for x in list.as_array().into_iter().flatten() {
            let v = x["scalar"]["value"].as_f64().unwrap_or(0.0);
            match x["name"].as_str() {
                Some("cpus") => r.cpus += v,
                Some("mem") => r.mem += v,
                _ => {}
            }
        }
        r
    }
    fn add(&mut self, o: Res) {
        self.cpus += o.cpus;
        self.mem += o.mem;
    }
    fn sub(&mut self, o: Res) {
        self.cpus -= o.cpus;
        self.mem -= o.mem;
    }
}

/// The four series of each resource.
#[derive(Default)]
struct Usage {
    registered: Vec<(u64, Res)>,
    offered: Vec<(u64, Res)>,
    used: Vec<(u64, Res)>,
    idle: Vec<(u64, Res)>,
}

fn usage(records: &[Record], decoder: &Decoder) -> Usage {
    let mut s = Usage::default();
    let (mut offered, mut used, mut registered) = (Res::default(), Res::default(), Res::default());
    let mut open: BTreeMap<String, Res> = BTreeMap::new();
    let mut running: BTreeMap<(String, String), Res> = BTreeMap::new();
    let mut agents: BTreeMap<String, Res> = BTreeMap::new();
    // An agent's actor, by the id the master gave it.
    let mut agent_of: BTreeMap<String, String> = BTreeMap::new();
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
                | "SlaveRegisteredMessage"
                | "SlaveReregisteredMessage"
                | "FAILURE"
        ) {
            continue;
        }
        let Ok(v) = decoder.decode(&m.proto, &m.bytes) else { continue };
        let before = (offered, used, registered);
        let mut release = |fid: &str, tid: &str, state: &str| {
            if RELEASES.contains(&state)
                && let Some(r) = running.remove(&(fid.to_string(), tid.to_string()))
            {
                used.sub(r);
            }
        };
        match (m.proto.as_str(), kind) {
            ("mesos.v1.scheduler.Event", "OFFERS") => {
                for o in v["offers"]["offers"].as_array().into_iter().flatten() {
                    let r = Res::of(&o["resources"]);
                    open.insert(short(o["id"]["value"].as_str().unwrap_or("")), r);
                    offered.add(r);
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
                    if let Some(r) = open.remove(&short(id["value"].as_str().unwrap_or(""))) {
                        offered.sub(r);
                    }
                }
            }
            (_, "RunTaskMessage") => {
                let task = &v["task"];
                let mut r = Res::of(&task["resources"]);
                r.add(Res::of(&task["executor"]["resources"]));
                let fid = v["framework"]["id"]["value"].as_str().or(v["frameworkId"]["value"].as_str());
                let key = (fid.unwrap_or("").to_string(), task["taskId"]["value"].as_str().unwrap_or("").to_string());
                // A task launched once holds its resources once, whatever the retries.
                if let std::collections::btree_map::Entry::Vacant(e) = running.entry(key) {
                    e.insert(r);
                    used.add(r);
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
                agents.insert(m.from.clone(), Res::of(&v["slave"]["resources"]));
            }
            (_, "SlaveRegisteredMessage" | "SlaveReregisteredMessage") => {
                if let Some(id) = v["slaveId"]["value"].as_str() {
                    agent_of.insert(id.to_string(), m.to.clone());
                }
            }
            ("mesos.v1.scheduler.Event", "FAILURE") if v["failure"]["executorId"].is_null() => {
                if let Some(actor) = v["failure"]["agentId"]["value"].as_str().and_then(|id| agent_of.get(id)) {
                    agents.remove(actor);
                }
            }
            _ => {}
        }
        registered = agents.values().fold(Res::default(), |mut a, r| {
            a.add(*r);
            a
        });
        if before.0 != offered {
            s.offered.push((m.t, offered));
        }
        if before.1 != used {
            s.used.push((m.t, used));
        }
        if before.2 != registered {
            s.registered.push((m.t, registered));
        }
        if before != (offered, used, registered) {
            let idle = Res {
                cpus: (registered.cpus - offered.cpus - used.cpus).max(0.0),
                mem: (registered.mem - offered.mem - used.mem).max(0.0),
            };
            s.idle.push((m.t, idle));
        }
    }
    s
}

/// Each framework's dominant share after each allocation cycle, from the
/// master's `shares` records (by framework name, in order of first appearance).
/// A framework missing from a later record is one the allocator no longer
/// knows (removed): it holds nothing, so its line drops to 0.
fn shares(records: &[Record]) -> Vec<(String, Series)> {
    let mut out: Vec<(String, Series)> = Vec::new();
    for r in records {
        let Record::Shares(s) = r else { continue };
        for (name, series) in out.iter_mut() {
            if !s.shares.iter().any(|x| x.framework == *name) && series.last().is_some_and(|(_, v)| *v != 0.0) {
                series.push((s.t, 0.0));
            }
        }
        for share in &s.shares {
            let i = match out.iter().position(|(name, _)| *name == share.framework) {
                Some(i) => i,
                None => {
                    out.push((share.framework.clone(), Vec::new()));
                    out.len() - 1
                }
            };
            let series = &mut out[i].1;
            if series.last().is_none_or(|(_, v)| *v != share.share) {
                series.push((s.t, share.share));
            }
        }
    }
    out
}

/// Write the plots section; `end` is when the run ended, in microseconds.
pub(super) fn section(page: &mut String, records: &[Record], end: u64) {
    let end = records.iter().map(Record::t).max().unwrap_or(0).max(end).max(1);
    let decoder = Decoder::new();
    let u = usage(records, &decoder);
    let _ = writeln!(page, "<section id=\"plots\">\n<h2>Plots</h2>");
    for (id, title, unit, pick) in [
        ("plot-cpus", "Cluster cpus over time", "cpus", (|r: &Res| r.cpus) as fn(&Res) -> f64),
        ("plot-mem", "Cluster memory over time", "MB", |r: &Res| r.mem),
    ] {
        let series: Vec<(String, &str, Series)> = [
            ("registered", "#999", &u.registered),
            ("offered", "#1f77b4", &u.offered),
            ("used", "#2ca02c", &u.used),
            ("idle", "#ff7f0e", &u.idle),
        ]
        .into_iter()
        .map(|(name, colour, points)| (name.to_string(), colour, points.iter().map(|(t, r)| (*t, pick(r))).collect()))
        .collect();
        let _ = writeln!(page, "<h3>{title}</h3>");
        step_plot(page, id, unit, end, &series);
    }

    let _ = writeln!(
        page,
        "<h3>Each framework's dominant share (DRF)</h3>\n<p class=\"note\">The master's number after each \
         allocation cycle: the largest fraction of any resource a framework holds, offered or launched. \
         DRF offers the next agent to the lowest.</p>"
    );
    let drf = shares(records);
    if drf.is_empty() {
        page.push_str("<p id=\"no-shares\">No allocation cycle recorded its shares in this trace.</p>\n");
    } else {
        let series: Vec<(String, &str, Series)> =
            drf.into_iter().enumerate().map(|(i, (name, s))| (name, PALETTE[i % PALETTE.len()], s)).collect();
        step_plot(page, "plot-shares", "share", end, &series);
    }

    let tasks = gantt::spark_tasks(records, &decoder);
    let _ = writeln!(page, "<h3>Spark tasks running per app</h3>");
    if tasks.is_empty() {
        page.push_str("<p>No Spark task ran in this run.</p>\n");
    } else {
        let series: Vec<(String, &str, Series)> = running_per_app(&tasks)
            .into_iter()
            .enumerate()
            .map(|(i, (app, s))| (app, PALETTE[i % PALETTE.len()], s))
            .collect();
        step_plot(page, "plot-spark-running", "tasks", end, &series);
    }
    gantt::executors(page, records, end);
    gantt::spark(page, &tasks, end);
    page.push_str("</section>\n");
}

/// Per driver (app), how many of its tasks run at each change.
fn running_per_app(tasks: &[SparkTask]) -> Vec<(String, Series)> {
    let mut changes: BTreeMap<&str, BTreeMap<u64, i64>> = BTreeMap::new();
    for t in tasks {
        let c = changes.entry(t.app.as_str()).or_default();
        *c.entry(t.start).or_default() += 1;
        if let Some((stop, _)) = &t.end {
            *c.entry(*stop).or_default() -= 1;
        }
    }
    changes
        .into_iter()
        .map(|(app, c)| {
            let mut n = 0i64;
            let series = c
                .into_iter()
                .map(|(t, d)| {
                    n += d;
                    (t, n as f64)
                })
                .collect();
            (app.strip_prefix("driver:").unwrap_or(app).to_string(), series)
        })
        .collect()
}

/// One plot of step series sharing a time axis, with a legend under it.
fn step_plot(page: &mut String, id: &str, unit: &str, end: u64, series: &[(String, &str, Series)]) {
    let top = series.iter().flat_map(|(_, _, s)| s.iter().map(|(_, v)| *v)).fold(0.0_f64, f64::max);
    let top = if top > 0.0 { top } else { 1.0 };
    let x = |t: u64| ML + W * t as f64 / end as f64;
    let y = |v: f64| MT + H - H * v / top;
    let rows = series.len().div_ceil(5) as f64;
    let _ = writeln!(
        page,
        "<svg id=\"{id}\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{:.0}\" height=\"{:.0}\">",
        ML + W + 20.0,
        MT + H + 24.0 + 18.0 * rows
    );
    axes(page, end, top, unit, &x, &y);
    for (i, (name, colour, points)) in series.iter().enumerate() {
        let mut d = format!("M{:.1},{:.1}", x(0), y(0.0));
        for (t, v) in points {
            let _ = write!(d, " H{:.1} V{:.1}", x(*t), y(*v));
        }
        let _ = write!(d, " H{:.1}", x(end));
        let last = points.last().map_or(0.0, |(_, v)| *v);
        let _ = writeln!(
            page,
            "<path class=\"series\" data-series=\"{}\" d=\"{d}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\">\
             <title>{} {unit}: {} at the end</title></path>\
             <text x=\"{:.0}\" y=\"{:.0}\" fill=\"{colour}\">━ {}</text>",
            esc(name),
            esc(name),
            round(last),
            ML + 10.0 + 180.0 * (i % 5) as f64,
            MT + H + 34.0 + 18.0 * (i / 5) as f64,
            esc(name)
        );
    }
    page.push_str("</svg>\n");
}

/// A value as a tick label: at most three decimals, no trailing zeros.
fn round(v: f64) -> String {
    format!("{}", (v * 1000.0).round() / 1000.0)
}

/// Both axes: time ticks under the plot, value ticks at its left.
fn axes(page: &mut String, end: u64, top: f64, unit: &str, x: &dyn Fn(u64) -> f64, y: &dyn Fn(f64) -> f64) {
    let _ = write!(
        page,
        "<line x1=\"{ML}\" y1=\"{:.0}\" x2=\"{:.0}\" y2=\"{:.0}\" stroke=\"#333\"/>\
         <line x1=\"{ML}\" y1=\"{MT}\" x2=\"{ML}\" y2=\"{:.0}\" stroke=\"#333\"/>\
         <text x=\"{:.0}\" y=\"{:.0}\" text-anchor=\"end\" fill=\"#555\">{unit}</text>",
        MT + H,
        ML + W,
        MT + H,
        MT + H,
        ML - 50.0,
        MT + 4.0
    );
    time_ticks(page, end, MT + H + 14.0, x);
    for v in [top / 2.0, top] {
        let _ = write!(
            page,
            "<text x=\"{:.0}\" y=\"{:.0}\" text-anchor=\"end\" fill=\"#555\">{}</text>",
            ML - 4.0,
            y(v) + 4.0,
            round(v)
        );
    }
}

/// Six time labels along `x`, at height `at`.
pub(super) fn time_ticks(page: &mut String, end: u64, at: f64, x: &dyn Fn(u64) -> f64) {
    for i in 0..=5 {
        let t = end / 5 * i;
        let _ = write!(
            page,
            "<text x=\"{:.0}\" y=\"{at:.0}\" text-anchor=\"middle\" fill=\"#555\">{}</text>",
            x(t),
            secs(t)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::records::parse;
    use std::path::Path;

    #[test]
    fn shares_are_read_per_framework_and_repeated_values_make_no_step() {
        let trace = concat!(
            r#"{"t":1,"type":"shares","actor":"master","shares":[{"framework":"a","share":0.5}]}"#,
            "\n",
            r#"{"t":2,"type":"shares","actor":"master","shares":[{"framework":"a","share":0.5},{"framework":"b","share":0.25}]}"#,
            "\n",
            r#"{"t":3,"type":"shares","actor":"master","shares":[{"framework":"a","share":0},{"framework":"b","share":0.25}]}"#,
            "\n",
            r#"{"t":4,"type":"shares","actor":"master","shares":[]}"#,
            "\n",
        );
        let records = parse(Path::new("t.jsonl"), trace).unwrap();
        let s = shares(&records);
        assert_eq!(s, vec![("a".to_string(), vec![(1, 0.5), (3, 0.0)]), ("b".to_string(), vec![(2, 0.25), (4, 0.0)])]);
    }
}
