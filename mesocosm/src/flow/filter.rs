//! Which records a learner wants to see.
//!
//! A Spark run is mostly noise for someone learning two-level scheduling:
//! agents answer the master's pings every 15 s (`--agent_ping_timeout`),
//! executors heartbeat the driver every 10 s (`spark.executor.heartbeatInterval`),
//! and each Spark task is a LaunchTask and a few StatusUpdates. The ~20 lines that
//! *are* two-level scheduling (SUBSCRIBE, OFFERS, ACCEPT, DECLINE, RunTaskMessage,
//! UPDATE) drown. A [`Filter`] keeps what was asked for:
//!
//! | flag | keeps |
//! |---|---|
//! | `--only master,driver:etl` | records from or to one of these actors (globs: `agent-*`) |
//! | `--kinds OFFERS,ACCEPT` | messages (and faults on messages) of these kinds |
//! | `--from 10s --to 40s` | records in this window of virtual time (inclusive) |
//! | `--hide pings,heartbeats,acks,spark-tasks` | everything but these groups of noise |
//! | `--layer mesos` / `--layer spark` | one protocol layer: Mesos's APIs, or Spark's RPC |
//!
//! Faults that act on actors (a kill, a partition) are kept whatever the kinds,
//! groups and layer: they are few, and they are what explains the rest.

use super::records::Record;
use crate::units::parse_duration;
use mesocosm_sim::faults::Pattern;
use mesocosm_sim::trace::Shown;
use std::collections::BTreeSet;
use std::fmt;

/// The protocol layer a message belongs to, by its protobuf package.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Layer {
    /// `mesos.v1.scheduler`: frameworks ↔ master (SUBSCRIBE, OFFERS, ACCEPT…).
    SchedulerApi,
    /// `mesos.internal`: master ↔ agents (RegisterSlaveMessage, RunTaskMessage, pings…).
    MasterAgent,
    /// `mesos.v1.executor`: agents ↔ executors (SUBSCRIBE, LAUNCH, UPDATE…).
    ExecutorApi,
    /// `spark.*`: Spark's RPC between the driver and its executors.
    SparkRpc,
}

impl Layer {
    /// The layer of a message with this protobuf name.
    pub fn of(proto: &str) -> Layer {
        if proto.starts_with("mesos.v1.scheduler.") {
            Layer::SchedulerApi
        } else if proto.starts_with("mesos.v1.executor.") {
            Layer::ExecutorApi
        } else if proto.starts_with("spark.") {
            Layer::SparkRpc
        } else {
            Layer::MasterAgent
        }
    }

    /// A short name, for legends and categories.
    pub fn name(self) -> &'static str {
        match self {
            Layer::SchedulerApi => "scheduler API",
            Layer::MasterAgent => "master-agent",
            Layer::ExecutorApi => "executor API",
            Layer::SparkRpc => "Spark RPC",
        }
    }
}

/// `--layer`: Mesos's three APIs, or Spark's RPC.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LayerChoice {
    Mesos,
    Spark,
}

/// A named group of messages a learner usually hides.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Noise {
    /// The master's PingSlaveMessage and the agents' PongSlaveMessage.
    Pings,
    /// The scheduler API's HEARTBEAT events and Spark's executor Heartbeats.
    Heartbeats,
    /// Status update acknowledgements (ACKNOWLEDGE, StatusUpdateAcknowledgementMessage, ACKNOWLEDGED).
    Acks,
    /// Spark's per-task RPC: LaunchTask, StatusUpdate and KillTask between driver and executors.
    SparkTasks,
}

impl Noise {
    const ALL: [(Noise, &'static str); 4] = [
        (Noise::Pings, "pings"),
        (Noise::Heartbeats, "heartbeats"),
        (Noise::Acks, "acks"),
        (Noise::SparkTasks, "spark-tasks"),
    ];

    /// Whether a message of this `proto` and `kind` is in the group.
    pub fn contains(self, proto: &str, kind: &str) -> bool {
        match self {
            Noise::Pings => matches!(kind, "PingSlaveMessage" | "PongSlaveMessage"),
            Noise::Heartbeats => matches!(kind, "HEARTBEAT" | "Heartbeat" | "HeartbeatResponse"),
            Noise::Acks => matches!(kind, "ACKNOWLEDGE" | "ACKNOWLEDGED" | "StatusUpdateAcknowledgementMessage"),
            Noise::SparkTasks => {
                proto.starts_with("spark.") && matches!(kind, "LaunchTask" | "StatusUpdate" | "KillTask")
            }
        }
    }
}

impl fmt::Display for Noise {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = Noise::ALL.iter().find(|(n, _)| n == self).map_or("?", |(_, s)| s);
        f.write_str(name)
    }
}

/// What to keep of a trace; the default keeps everything.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    /// Keep records from or to one of these actors (empty: any actor).
    pub only: Vec<Pattern>,
    /// Keep messages of these kinds (empty: any kind).
    pub kinds: BTreeSet<String>,
    /// Keep records at or after this virtual time, in microseconds.
    pub from: Option<u64>,
    /// Keep records at or before this virtual time, in microseconds.
    pub to: Option<u64>,
    /// Drop messages in these groups.
    pub hide: BTreeSet<Noise>,
    /// Keep only messages of this layer.
    pub layer: Option<LayerChoice>,
}

impl Filter {
    /// `--only a,b`: actor names or globs.
    pub fn only(mut self, list: &str) -> Result<Filter, String> {
        self.only = items(list, "--only")?.into_iter().map(Pattern::new).collect();
        Ok(self)
    }

    /// `--kinds A,B`: message kinds as the trace writes them (`ACCEPT`, `RunTaskMessage`).
    pub fn kinds(mut self, list: &str) -> Result<Filter, String> {
        for k in items(list, "--kinds")? {
            if !mesocosm_sim::fields::is_kind(k) {
                return Err(format!(
                    "--kinds: unknown message kind `{k}` (known kinds: {})",
                    mesocosm_sim::fields::kinds().join(", ")
                ));
            }
            self.kinds.insert(k.to_string());
        }
        Ok(self)
    }

    /// `--hide pings,heartbeats,acks,spark-tasks`.
    pub fn hide(mut self, list: &str) -> Result<Filter, String> {
        for name in items(list, "--hide")? {
            let Some((n, _)) = Noise::ALL.iter().find(|(_, s)| *s == name) else {
                let known: Vec<&str> = Noise::ALL.iter().map(|(_, s)| *s).collect();
                return Err(format!("--hide: unknown group `{name}` (known groups: {})", known.join(", ")));
            };
            self.hide.insert(*n);
        }
        Ok(self)
    }

    /// `--from` and `--to`, as durations (`10s`, `1m30s`); `to` must not be before `from`.
    pub fn window(mut self, from: Option<&str>, to: Option<&str>) -> Result<Filter, String> {
        let micros = |flag: &str, s: &str| {
            parse_duration(s).map(|d| d.as_micros().min(u64::MAX as u128) as u64).map_err(|e| format!("{flag}: {e}"))
        };
        self.from = from.map(|s| micros("--from", s)).transpose()?;
        self.to = to.map(|s| micros("--to", s)).transpose()?;
        if let (Some(f), Some(t)) = (self.from, self.to)
            && t < f
        {
            return Err(format!("--to ({}) is before --from ({})", to.unwrap_or(""), from.unwrap_or("")));
        }
        Ok(self)
    }

    /// Whether a message (at `t`, `from` → `to`) passes.
    pub fn keeps_message(&self, t: u64, from: &str, to: &str, proto: &str, kind: &str) -> bool {
        self.in_window(t)
            && self.involves(Some(from), Some(to))
            && (self.kinds.is_empty() || self.kinds.contains(kind))
            && !self.hide.iter().any(|n| n.contains(proto, kind))
            && match self.layer {
                None => true,
                Some(LayerChoice::Spark) => Layer::of(proto) == Layer::SparkRpc,
                Some(LayerChoice::Mesos) => Layer::of(proto) != Layer::SparkRpc,
            }
    }

    /// Whether a fault passes: one on a message by its actors and kind, one on
    /// actors or links (no `from`/`to`) by its time only.
    pub fn keeps_fault(&self, t: u64, from: Option<&str>, to: Option<&str>, kind: Option<&str>) -> bool {
        let kind_ok = kind.is_none_or(|k| self.kinds.is_empty() || self.kinds.contains(k));
        let who_ok = from.is_none() && to.is_none() || self.involves(from, to);
        self.in_window(t) && kind_ok && who_ok
    }

    /// Whether a refused call passes (by the refusing and refused actors and the call's kind).
    pub fn keeps_refusal(&self, t: u64, from: &str, to: &str, kind: &str) -> bool {
        self.in_window(t) && self.involves(Some(from), Some(to)) && (self.kinds.is_empty() || self.kinds.contains(kind))
    }

    /// Whether a record passes (see the module docs for faults).
    pub fn keeps(&self, r: &Record) -> bool {
        match r {
            Record::Message(m) => self.keeps_message(m.t, &m.from, &m.to, &m.proto, &m.kind),
            Record::Fault(f) => self.keeps_fault(f.t, f.from.as_deref(), f.to.as_deref(), f.kind.as_deref()),
            Record::Refusal(x) => self.keeps_refusal(x.t, &x.from, &x.to, &x.refused),
            Record::Said(x) => self.keeps_actor(x.t, &x.actor),
            Record::Shares(x) => self.keeps_actor(x.t, &x.actor),
        }
    }

    /// Whether the live timeline prints a line: the same rules as [`Filter::keeps`];
    /// a core's note or a world event about an actor passes `--only` and the
    /// time window, and is not a message, so `--kinds`, `--hide` and `--layer`
    /// leave it alone.
    pub fn shows(&self, line: &Shown<'_>) -> bool {
        match *line {
            Shown::Message { t, from, to, proto, kind } => self.keeps_message(t.micros(), from, to, proto, kind),
            Shown::Fault { t, from, to, kind } => self.keeps_fault(t.micros(), from, to, kind),
            Shown::Refusal { t, from, to, kind } => self.keeps_refusal(t.micros(), from, to, kind),
            Shown::Actor { t, actor } => self.keeps_actor(t.micros(), actor),
        }
    }

    /// Whether a note or event about `actor` passes: `--only` and the time
    /// window apply; it is not a message, so `--kinds`, `--hide` and `--layer` do not.
    pub fn keeps_actor(&self, t: u64, actor: &str) -> bool {
        self.in_window(t) && self.involves(Some(actor), None)
    }

    fn in_window(&self, t: u64) -> bool {
        self.from.is_none_or(|f| t >= f) && self.to.is_none_or(|to| t <= to)
    }

    fn involves(&self, from: Option<&str>, to: Option<&str>) -> bool {
        self.only.is_empty()
            || self.only.iter().any(|p| from.is_some_and(|a| p.matches(a)) || to.is_some_and(|a| p.matches(a)))
    }
}

/// The comma-separated items of a flag's value; an empty item is an error.
fn items<'a>(list: &'a str, flag: &str) -> Result<Vec<&'a str>, String> {
    let out: Vec<&str> = list.split(',').map(str::trim).collect();
    if out.iter().any(|s| s.is_empty()) {
        return Err(format!("{flag}: `{list}` has an empty item (write names separated by commas)"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::records::{Fault, Message};

    fn msg(t: u64, from: &str, to: &str, proto: &str, kind: &str) -> Record {
        Record::Message(Message {
            t,
            from: from.into(),
            to: to.into(),
            proto: proto.into(),
            kind: kind.into(),
            summary: String::new(),
            bytes: String::new(),
        })
    }

    const CALL: &str = "mesos.v1.scheduler.Call";
    const EVENT: &str = "mesos.v1.scheduler.Event";

    fn run() -> Vec<Record> {
        vec![
            msg(1_000_000, "driver:etl", "master", CALL, "SUBSCRIBE"),
            msg(2_000_000, "master", "driver:etl", EVENT, "OFFERS"),
            msg(3_000_000, "master", "agent-1", "mesos.internal.PingSlaveMessage", "PingSlaveMessage"),
            msg(4_000_000, "driver:etl", "executor:etl/1", "spark.scheduler.cluster.LaunchTask", "LaunchTask"),
            msg(5_000_000, "executor:etl/1", "driver:etl", "spark.scheduler.cluster.Heartbeat", "Heartbeat"),
            msg(6_000_000, "driver:pi", "master", CALL, "DECLINE"),
            Record::Fault(Fault {
                t: 7_000_000,
                fault: "kill".into(),
                rule: "x.toml:1".into(),
                from: None,
                to: None,
                kind: None,
                detail: Some("agent-1".into()),
            }),
        ]
    }

    fn kept(f: &Filter) -> Vec<u64> {
        run().iter().filter(|r| f.keeps(r)).map(|r| r.t() / 1_000_000).collect()
    }

    #[test]
    fn each_flag_keeps_what_it_says_and_actor_faults_always_stay() {
        assert_eq!(kept(&Filter::default()), [1, 2, 3, 4, 5, 6, 7]);
        assert_eq!(kept(&Filter::default().only("driver:etl").unwrap()), [1, 2, 4, 5, 7]);
        assert_eq!(kept(&Filter::default().only("executor:*,agent-*").unwrap()), [3, 4, 5, 7]);
        assert_eq!(kept(&Filter::default().kinds("OFFERS,DECLINE").unwrap()), [2, 6, 7]);
        assert_eq!(kept(&Filter::default().window(Some("2s"), Some("4s")).unwrap()), [2, 3, 4]);
        assert_eq!(kept(&Filter::default().hide("pings,heartbeats,spark-tasks").unwrap()), [1, 2, 6, 7]);
        assert_eq!(kept(&Filter { layer: Some(LayerChoice::Spark), ..Filter::default() }), [4, 5, 7]);
        assert_eq!(kept(&Filter { layer: Some(LayerChoice::Mesos), ..Filter::default() }), [1, 2, 3, 6, 7]);
    }

    #[test]
    fn the_live_timeline_is_filtered_by_the_same_rules() {
        use mesocosm_sim::SimTime;
        let f = Filter::default().only("driver:etl").unwrap().hide("heartbeats").unwrap();
        let t = SimTime::from_secs(5);
        let shown = |line: Shown<'_>| f.shows(&line);
        assert!(shown(Shown::Message { t, from: "master", to: "driver:etl", proto: EVENT, kind: "OFFERS" }));
        assert!(!shown(Shown::Message { t, from: "master", to: "driver:pi", proto: EVENT, kind: "OFFERS" }));
        assert!(!shown(Shown::Message { t, from: "master", to: "driver:etl", proto: EVENT, kind: "HEARTBEAT" }));
        assert!(shown(Shown::Actor { t, actor: "driver:etl" }));
        assert!(!shown(Shown::Actor { t, actor: "master" }));
        assert!(shown(Shown::Fault { t, from: None, to: None, kind: None }));
        assert!(!shown(Shown::Refusal { t, from: "master", to: "driver:pi", kind: "DECLINE" }));
    }

    #[test]
    fn bad_flag_values_say_which_flag_and_what_is_known() {
        let e = Filter::default().kinds("OFFERS,OFFER").unwrap_err();
        assert!(e.starts_with("--kinds: unknown message kind `OFFER` (known kinds: "), "{e}");
        let e = Filter::default().hide("pings,chatter").unwrap_err();
        assert_eq!(e, "--hide: unknown group `chatter` (known groups: pings, heartbeats, acks, spark-tasks)");
        let e = Filter::default().only("master,,agent-1").unwrap_err();
        assert!(e.starts_with("--only: `master,,agent-1` has an empty item"), "{e}");
        let e = Filter::default().window(Some("40s"), Some("10s")).unwrap_err();
        assert_eq!(e, "--to (10s) is before --from (40s)");
        assert!(Filter::default().window(Some("ten"), None).unwrap_err().starts_with("--from: "));
    }
}
