//! Gantt charts: where each executor ran, and what each executor ran.
//!
//! **Executors per agent**: one bar per container, from the world's event that
//! started it on an agent to its "exited with status N" event (or the end of
//! the run), grouped by agent. Both events carry the agent as their `agent`
//! field; a bar that exited non-zero is red.
//!
//! **Spark tasks per app**: two-level scheduling's second level. Mesos placed
//! the executors (each a Mesos task); Spark's driver then places its own tasks
//! on them. One row per executor, grouped by app; a task's bar runs from the
//! executor's RUNNING StatusUpdate to its FINISHED, FAILED, KILLED or LOST one
//! (`CoarseGrainedExecutorBackend.statusUpdate`), or to its executor's exit
//! (orange, like KILLED and LOST). Tasks that overlap on one
//! executor (it has several cores) stack in lanes, so an executor's height
//! shows how many tasks it ran at once.

use super::plots::{ML, PALETTE, W, time_ticks};
use super::{esc, secs};
use crate::flow::Record;
use crate::flow::decode::Decoder;
use std::collections::BTreeMap;
use std::fmt::Write;

/// How many Spark task bars the page draws at most (the first ones to start).
/// A long job has hundreds of thousands; the running-tasks plot above the
/// chart still counts every one.
pub(super) const SPARK_TASK_CAP: usize = 3_000;

/// Spark task states that end an attempt (Spark's `TaskState.isFinished`).
const SPARK_ENDS: [&str; 4] = ["FINISHED", "FAILED", "KILLED", "LOST"];

/// One executor container: where it ran, when, and how it ended.
struct Bar {
    agent: String,
    actor: String,
    start: u64,
    exit: Option<(u64, String)>,
}

/// Executors per agent.
pub(super) fn executors(page: &mut String, records: &[Record], end: u64) {
    let mut bars: Vec<Bar> = Vec::new();
    for r in records {
        let Record::Said(s) = r else { continue };
        let Some(agent) = s.agent.as_ref().filter(|_| !s.is_note()) else { continue };
        if let Some(status) = s.text.strip_prefix("exited with status ") {
            if let Some(b) = bars.iter_mut().rev().find(|b| b.actor == s.actor && b.exit.is_none()) {
                b.exit = Some((s.t, status.to_string()));
            }
        } else {
            bars.push(Bar { agent: agent.clone(), actor: s.actor.clone(), start: s.t, exit: None });
        }
    }
    bars.sort_by(|a, b| (&a.agent, a.start).cmp(&(&b.agent, b.start)));
    let _ = writeln!(page, "<h3>Executors per agent</h3>");
    if bars.is_empty() {
        page.push_str("<p>No executor container started in this run.</p>\n");
        return;
    }
    let row = 22.0;
    let label = ML;
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
    time_ticks(page, end, 4.0 + row * bars.len() as f64 + 14.0, &x);
    page.push_str("</svg>\n");
}

/// One Spark task attempt, as its executor reported it.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct SparkTask {
    /// The driver it reported to (`driver:NAME`).
    pub app: String,
    /// The executor it ran on.
    pub executor: String,
    /// Spark's task id (TID).
    pub tid: String,
    /// When the executor said RUNNING.
    pub start: u64,
    /// When and how it ended, if it did.
    pub end: Option<(u64, String)>,
}

/// Every Spark task attempt of the run, from the executors' StatusUpdate RPCs, in start order.
pub(super) fn spark_tasks(records: &[Record], decoder: &Decoder) -> Vec<SparkTask> {
    let mut tasks: Vec<SparkTask> = Vec::new();
    let mut open: BTreeMap<(String, String), usize> = BTreeMap::new();
    for r in records {
        // An executor that exits says nothing more of its tasks: their
        // attempts end there (Spark's driver marks them lost when it hears of
        // the executor's loss, `TaskSchedulerImpl.executorLost`).
        if let Record::Said(s) = r
            && !s.is_note()
            && s.text.starts_with("exited with status ")
        {
            let gone: Vec<(String, String)> =
                open.iter().filter(|(_, i)| tasks[**i].executor == s.actor).map(|(k, _)| k.clone()).collect();
            for key in gone {
                if let Some(i) = open.remove(&key) {
                    tasks[i].end = Some((s.t, "ended with its executor".to_string()));
                }
            }
        }
        let Record::Message(m) = r else { continue };
        if m.proto != "spark.scheduler.cluster.StatusUpdate" {
            continue;
        }
        let Ok(v) = decoder.decode(&m.proto, &m.bytes) else { continue };
        // proto3's JSON mapping writes an int64 as a string and leaves out
        // defaults: a missing task id is 0, a missing state LAUNCHING.
        let tid = match &v["taskId"] {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Number(n) => n.to_string(),
            _ => "0".to_string(),
        };
        let state = v["state"].as_str().unwrap_or("LAUNCHING");
        let key = (m.to.clone(), tid.clone());
        match state {
            "RUNNING" if !open.contains_key(&key) => {
                open.insert(key, tasks.len());
                tasks.push(SparkTask { app: m.to.clone(), executor: m.from.clone(), tid, start: m.t, end: None });
            }
            s if SPARK_ENDS.contains(&s) => {
                if let Some(i) = open.remove(&key) {
                    tasks[i].end = Some((m.t, s.to_string()));
                }
            }
            _ => {}
        }
    }
    tasks
}

/// The Gantt of executors and their Spark tasks, one row per executor grouped by app.
pub(super) fn spark(page: &mut String, tasks: &[SparkTask], end: u64) {
    let _ = writeln!(page, "<h3>Spark tasks on their executors</h3>");
    if tasks.is_empty() {
        page.push_str("<p>No Spark task ran in this run.</p>\n");
        return;
    }
    let drawn = &tasks[..tasks.len().min(SPARK_TASK_CAP)];
    if drawn.len() < tasks.len() {
        let _ = writeln!(
            page,
            "<p id=\"spark-capped\" class=\"note\">The first {} of {} task attempts are drawn.</p>",
            drawn.len(),
            tasks.len()
        );
    }
    // Lanes per executor: each task takes the first lane free at its start.
    let mut lanes: BTreeMap<(&str, &str), Vec<u64>> = BTreeMap::new();
    let mut placed: Vec<(usize, &SparkTask)> = Vec::with_capacity(drawn.len());
    for t in drawn {
        let free = lanes.entry((t.app.as_str(), t.executor.as_str())).or_default();
        let stop = t.end.as_ref().map_or(end, |(s, _)| *s);
        let lane = match free.iter().position(|until| *until <= t.start) {
            Some(l) => {
                free[l] = stop;
                l
            }
            None => {
                free.push(stop);
                free.len() - 1
            }
        };
        placed.push((lane, t));
    }
    let apps: Vec<&str> = {
        let mut a: Vec<&str> = lanes.keys().map(|(app, _)| *app).collect();
        a.dedup();
        a
    };
    let lane_h = 5.0;
    let label = ML;
    let x = |t: u64| label + W * t as f64 / end as f64;
    // Each executor's top and its app's colour.
    let mut tops: BTreeMap<(&str, &str), f64> = BTreeMap::new();
    let mut y = 4.0;
    let mut rows = String::new();
    for ((app, executor), free) in &lanes {
        let colour = PALETTE[apps.iter().position(|a| a == app).unwrap_or(0) % PALETTE.len()];
        let height = lane_h * free.len() as f64 + 4.0;
        let _ = writeln!(
            rows,
            "<g class=\"spark-executor\"><text x=\"4\" y=\"{:.0}\" fill=\"{colour}\">{} · {}</text>\
             <rect x=\"{label}\" y=\"{y:.0}\" width=\"{W}\" height=\"{height:.0}\" fill=\"#f4f4f4\"/></g>",
            y + 11.0,
            esc(app.strip_prefix("driver:").unwrap_or(app)),
            esc(executor),
        );
        tops.insert((app, executor), y);
        y += height.max(16.0) + 4.0;
    }
    let _ = writeln!(
        page,
        "<svg id=\"plot-spark-tasks\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{:.0}\" height=\"{:.0}\">",
        label + W + 20.0,
        y + 24.0
    );
    page.push_str(&rows);
    for (lane, t) in placed {
        let top = tops[&(t.app.as_str(), t.executor.as_str())] + 2.0 + lane_h * lane as f64;
        let (stop, how, colour) = match &t.end {
            Some((s, state)) if state == "FINISHED" => (*s, format!("FINISHED at {}", secs(*s)), "#2ca02c"),
            Some((s, state)) if state == "FAILED" => (*s, format!("FAILED at {}", secs(*s)), "#d62728"),
            Some((s, state)) => (*s, format!("{state} at {}", secs(*s)), "#ff7f0e"),
            None => (end, "still running at the end of the run".to_string(), "#1f77b4"),
        };
        let title =
            format!("TID {} of {} on {}: RUNNING at {}, {how}", t.tid, t.app, t.executor, secs(t.start), how = how);
        let _ = writeln!(
            page,
            "<rect class=\"spark-task\" x=\"{:.1}\" y=\"{top:.1}\" width=\"{:.1}\" height=\"{:.0}\" fill=\"{colour}\" stroke=\"#fff\" stroke-width=\"0.5\"><title>{}</title></rect>",
            x(t.start),
            (x(stop) - x(t.start)).max(1.0),
            lane_h - 1.0,
            esc(&title)
        );
    }
    time_ticks(page, end, y + 14.0, &x);
    page.push_str("</svg>\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::records::{Message, Record};
    use base64::Engine;

    /// A `spark.scheduler.cluster.StatusUpdate` from executor "0", encoded by
    /// hand (field 1 executor_id, 2 task_id, 3 state; small values only).
    fn update(t: u64, tid: u8, state: u8) -> Record {
        let bytes = [0x0a, 1, b'0', 0x10, tid, 0x18, state];
        Record::Message(Message {
            t,
            from: "executor:pi/0".into(),
            to: "driver:pi".into(),
            proto: "spark.scheduler.cluster.StatusUpdate".into(),
            kind: "StatusUpdate".into(),
            summary: String::new(),
            bytes: base64::engine::general_purpose::STANDARD.encode(bytes),
        })
    }

    #[test]
    fn a_task_runs_from_its_running_update_to_its_end_and_overlapping_tasks_stack() {
        // RUNNING = 1, FINISHED = 2, FAILED = 3 (spark/cluster.proto).
        let records = [update(10, 0, 1), update(12, 1, 1), update(20, 0, 2), update(30, 1, 3), update(31, 2, 1)];
        let tasks = spark_tasks(&records, &Decoder::new());
        let ends: Vec<_> = tasks.iter().map(|t| (t.tid.as_str(), t.start, t.end.clone())).collect();
        assert_eq!(
            ends,
            [
                ("0", 10, Some((20, "FINISHED".to_string()))),
                ("1", 12, Some((30, "FAILED".to_string()))),
                ("2", 31, None)
            ]
        );
        let mut page = String::new();
        spark(&mut page, &tasks, 40);
        assert_eq!(page.matches("<rect class=\"spark-task\"").count(), 3);
        assert_eq!(page.matches("<g class=\"spark-executor\">").count(), 1);
        // Tasks 0 and 1 overlap: two lanes; task 2 reuses the first.
        let ys: Vec<&str> = page
            .split("class=\"spark-task\"")
            .skip(1)
            .map(|r| r.split("y=\"").nth(1).unwrap().split('"').next().unwrap())
            .collect();
        assert_eq!(ys[0], ys[2]);
        assert_ne!(ys[0], ys[1]);
        assert!(page.contains("TID 1 of driver:pi on executor:pi/0: RUNNING at 0.000s, FAILED at 0.000s"));
    }
}
