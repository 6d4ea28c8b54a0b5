//! Who a fault schedule hits, and when each fault is over.
//!
//! A [`FaultGen`] names its victims by [`Index`](proptest::sample::Index), so
//! one drawn schedule fits any cluster: [`Targets`] is the cluster it is
//! resolved against. A generated [`Case`] has its own (`agent-1…`, the
//! drivers of `app-1…`); `mesocosm chaos` builds one from a scenario file
//! (its agents, its Spark apps, its `[[frameworks]]` schedulers). Rendering
//! ([`FaultGen::to_toml`]), the kill-overlap rule and the heal time
//! ([`FaultGen::over_s`]) all read names and times from here only.

use super::strategies::{ActionGen, Case, FaultGen, LinkGen};
use mesocosm_sim::faults::Pattern;

/// The actors a fault schedule is resolved against.
#[derive(Clone, Debug)]
pub struct Targets {
    /// The master's actor name (`[master] name`, `master` by default).
    pub master: String,
    /// Agent host names, in order (an agent index picks one of them).
    pub agents: Vec<String>,
    /// A glob matching every agent, for a message rule over all of them.
    pub every_agent: String,
    /// Frameworks, in order (an app index picks one of them).
    pub frameworks: Vec<FrameworkTarget>,
    /// Kills the scenario already has: (victims, dead from, restarted at;
    /// `None`: for good), seconds. A drawn kill must not overlap one (the
    /// scenario checker refuses to kill the dead).
    pub deaths: Vec<(Pattern, u32, Option<u32>)>,
}

/// One framework a fault may hit.
#[derive(Clone, Debug)]
pub struct FrameworkTarget {
    /// Its scheduler actor: `driver:<app>` or `scheduler:<framework>`.
    pub scheduler: String,
    /// The Spark app whose executors are `executor:<app>/<id>`; `None` for a
    /// framework without Spark executors.
    pub spark_app: Option<String>,
    /// When it starts (spark-submit, or the framework's `at`), whole seconds
    /// rounded up, so a fault "after" it never precedes it.
    pub start_s: u32,
}

impl Targets {
    /// The agent an index picks.
    pub fn agent(&self, ix: &proptest::sample::Index) -> &str {
        &self.agents[ix.index(self.agents.len())]
    }

    /// The framework an index picks.
    pub fn framework(&self, ix: &proptest::sample::Index) -> &FrameworkTarget {
        &self.frameworks[ix.index(self.frameworks.len())]
    }

    /// The Spark app (with executors) an index picks, if there is any.
    pub fn spark_app(&self, ix: &proptest::sample::Index) -> Option<&FrameworkTarget> {
        let spark: Vec<&FrameworkTarget> = self.frameworks.iter().filter(|f| f.spark_app.is_some()).collect();
        (!spark.is_empty()).then(|| spark[ix.index(spark.len())])
    }

    /// A glob matching every scheduler, for a message rule over all of them:
    /// the Spark drivers when there are any, else the `[[frameworks]]` schedulers.
    pub fn every_scheduler(&self) -> &'static str {
        if self.frameworks.iter().any(|f| f.spark_app.is_some()) { "driver:*" } else { "scheduler:*" }
    }

    /// Whether `fault` can be written against these targets: one that needs
    /// an agent, a framework or a Spark executor needs the cluster to have one.
    pub fn fits(&self, fault: &FaultGen) -> bool {
        let spark = self.frameworks.iter().any(|f| f.spark_app.is_some());
        let (agents, frameworks) = (!self.agents.is_empty(), !self.frameworks.is_empty());
        match fault {
            FaultGen::KillMaster { .. } => true,
            FaultGen::KillAgent { .. } | FaultGen::PartitionAgents { .. } => agents,
            FaultGen::KillDriver { .. } | FaultGen::PartitionDriver { .. } | FaultGen::Slow { .. } => frameworks,
            FaultGen::KillExecutor { .. } => spark,
            FaultGen::Disconnect { link, .. } => match link {
                LinkGen::MasterAgent(_) => agents,
                LinkGen::MasterDriver(_) => frameworks,
                LinkGen::DriverExecutor(..) => spark,
                LinkGen::AgentExecutor(..) => agents && spark,
            },
            FaultGen::Message { kind, scope, .. } => {
                use super::model::Role::*;
                let info = Case::message_kind(kind);
                [info.from, info.to].iter().all(|r| match r {
                    Master => true,
                    Agent => agents,
                    Driver => frameworks,
                    Executor => spark,
                }) && (scope.is_none() || agents || frameworks)
            }
        }
    }

    /// Whether a schedule kills an actor that is already dead (by one of its
    /// own kills or one of [`deaths`](Targets::deaths)): the scenario checker
    /// refuses it.
    pub fn kills_overlap(&self, faults: &[FaultGen]) -> bool {
        let kills: Vec<(String, u32, Option<u32>)> = faults.iter().filter_map(|f| f.kill_span(self)).collect();
        // Dead from `from` to `until` (inclusive: a kill at the instant of a
        // restart would race with it).
        let dead_at = |t: u32, from: u32, until: Option<u32>| t >= from && until.is_none_or(|u| t <= u);
        let overlap =
            |(f1, u1): (u32, Option<u32>), (f2, u2): (u32, Option<u32>)| dead_at(f2, f1, u1) || dead_at(f1, f2, u2);
        kills.iter().enumerate().any(|(i, (a, from, until))| {
            kills[i + 1..].iter().any(|(b, f2, u2)| a == b && overlap((*from, *until), (*f2, *u2)))
                || self.deaths.iter().any(|(p, f2, u2)| p.matches(a) && overlap((*from, *until), (*f2, *u2)))
        })
    }
}

impl FaultGen {
    /// A kill as (victim, dead from, restarted at; `None`: for good), seconds.
    pub fn kill_span(&self, t: &Targets) -> Option<(String, u32, Option<u32>)> {
        match self {
            FaultGen::KillAgent { agent, at_s, restart_s } => {
                Some((t.agent(agent).to_string(), *at_s, Some(at_s + restart_s)))
            }
            FaultGen::KillMaster { at_s, restart_s } => Some((t.master.clone(), *at_s, Some(at_s + restart_s))),
            FaultGen::KillDriver { app, after_s, restart_s } => {
                let f = t.framework(app);
                let at = f.start_s + after_s;
                Some((f.scheduler.clone(), at, Some(at + restart_s)))
            }
            FaultGen::KillExecutor { app, id, at_s } => {
                let app = t.spark_app(app)?.spark_app.as_ref()?;
                Some((format!("executor:{app}/{id}"), *at_s, None))
            }
            _ => None,
        }
    }

    /// When the fault is over, seconds: its victim restarted, its partition
    /// healed, its message window closed and the last delayed or held
    /// message released, its slow window closed. A disconnect is over when
    /// it happens (both ends reconnect on their own), as is an executor kill
    /// (Spark asks for a new executor through offers).
    pub fn over_s(&self, t: &Targets) -> u32 {
        match self {
            FaultGen::KillAgent { .. }
            | FaultGen::KillMaster { .. }
            | FaultGen::KillDriver { .. }
            | FaultGen::KillExecutor { .. } => match self.kill_span(t) {
                Some((_, from, until)) => until.unwrap_or(from),
                None => 0,
            },
            FaultGen::PartitionAgents { at_s, heal_s, .. } => at_s + heal_s,
            FaultGen::PartitionDriver { app, after_s, heal_s, .. } => t.framework(app).start_s + after_s + heal_s,
            FaultGen::Disconnect { link, at_s } => match link {
                LinkGen::MasterDriver(ix) => t.framework(ix).start_s + at_s,
                _ => *at_s,
            },
            FaultGen::Message { action, after_s, window_s, .. } => {
                let closes = after_s + window_s;
                match action {
                    ActionGen::Delay(by) => closes + by,
                    ActionGen::Hold(extra) => closes + extra,
                    ActionGen::Drop | ActionGen::Duplicate => closes,
                }
            }
            FaultGen::Slow { after_s, window_s, .. } => after_s + window_s,
        }
    }
}

impl Case {
    /// The case's own targets: `agent-1…`, and `app-1…`'s drivers and
    /// executors, each from its spark-submit.
    pub fn targets(&self) -> Targets {
        Targets {
            master: "master".to_string(),
            agents: (0..self.agents.len()).map(|i| self.agent_name(i)).collect(),
            every_agent: "agent-*".to_string(),
            frameworks: (0..self.apps.len())
                .map(|i| FrameworkTarget {
                    scheduler: format!("driver:{}", self.app_name(i)),
                    spark_app: Some(self.app_name(i)),
                    start_s: self.submit_s(i),
                })
                .collect(),
            deaths: Vec::new(),
        }
    }
}
