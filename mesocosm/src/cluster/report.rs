//! Judging a run and reporting it.
//!
//! A run is judged on what it left behind: every framework's exit, the
//! cores' per-step invariant violations, what the judge took in from every
//! message (the cross-actor invariants of [`super::judge`]), the masters' histories, what each fault
//! did, and the expectations. [`Report::render`] is what `mesocosm run`
//! prints after the timeline: the summary, then the verdict block, last, so a
//! learner finds it where the output stops:
//!
//! ```text
//! summary: scenario spark-pi (seed 42, transport grpc), ended at 6.347746s
//!   app spark-pi: submitted 0.000000s, driver exited 5.347746s with status 0 (ran 5.348s)
//!     2 executors launched as Mesos tasks; 100 Spark tasks finished, 0 attempts failed
//!   master: 9 offers made, 2 accepted, 7 declined, 0 rescinded; 2 Mesos tasks launched; 11 allocation cycles
//!   messages: 393 (by kind: --stats)
//!
//! ── verdict: PASSED (5 expectations held, every check holds) ──
//! expect ok: scenarios/spark-pi.toml:42: exactly 2 RunTaskMessage (…)
//! checks: all hold
//! digest: 79db2bd6…
//! ```

use super::RunError;
use super::builder::ClusterBuilder;
use super::expect::Expect;
use super::faults::Fault;
use super::framework::FrameworkReport;
use super::judge::{Evidence, Judge, Verdict, check_message_invariants};
use super::leadership::{Leaderships, secs};
use super::run::{ClusterRef, lock};
use mesocosm_agent::StoreTotals;
use mesocosm_agent::images::human_bytes;
use mesocosm_master::{MasterEvent, MasterStats};
use mesocosm_sim::faults::FaultReport;
use mesocosm_sim::{ActorId, RunFailure, SimTime, Transport, World};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::sync::{Arc, Mutex};

/// A fault (by label) that did nothing, or part of it that did not happen.
#[derive(Clone, Debug)]
pub(crate) struct Idle {
    pub label: String,
    pub text: String,
}

/// A check that did not hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckFailure {
    pub check: &'static str,
    pub message: String,
}

/// The outcome of a run.
#[derive(Clone, Debug)]
pub struct Report {
    pub scenario: String,
    pub seed: u64,
    pub transport: Transport,
    pub ended_at: SimTime,
    /// Every framework, by actor name.
    pub frameworks: Vec<FrameworkReport>,
    pub master: MasterStats,
    pub messages: u64,
    pub by_kind: BTreeMap<(&'static str, &'static str), u64>,
    /// Checks that did not hold: per-step invariants, message invariants, implicit end checks.
    pub checks: Vec<CheckFailure>,
    /// Every `[[expect]]`, held or not.
    pub expectations: Vec<Verdict>,
    /// What each message fault, partition and slow rule did.
    pub faults: Vec<FaultReport>,
    /// `optional` faults that did nothing (a non-optional one is a failed check).
    pub warnings: Vec<String>,
    /// The masters' lifecycle history.
    pub history: Vec<(SimTime, MasterEvent)>,
    /// Who led when, with several masters (empty with one).
    pub leaderships: Leaderships,
    /// Per agent that pulled or fetched anything (its current incarnation):
    /// bytes pulled and fetched, layer and fetcher cache hits.
    pub containers: BTreeMap<String, StoreTotals>,
    pub digest: Option<String>,
    /// Why the run stopped early (a panic, a livelock, a transport refusal), if
    /// it did; then nothing was judged.
    pub failure: Option<RunFailure>,
}

impl Report {
    /// The framework named `name`, if there is one.
    pub fn framework(&self, name: &str) -> Option<&FrameworkReport> {
        self.frameworks.iter().find(|f| f.name == name)
    }

    /// Whether the run passes: it ran to its end, and every check and every
    /// expectation held.
    pub fn passed(&self) -> bool {
        self.failure.is_none() && self.checks.is_empty() && self.expectations.iter().all(|e| e.held)
    }

    /// The CLI's exit status for this run: 0 it passed; 1 a check or an
    /// expectation failed, or the run stopped on a livelock or a transport
    /// refusal; 3 an actor panicked (a bug in mesocosm, distinct from a verdict
    /// on the cluster). Bad input (2) never gets as far as a report.
    pub fn exit_code(&self) -> u8 {
        match &self.failure {
            Some(RunFailure::Panic { .. }) => 3,
            Some(_) => 1,
            None if self.passed() => 0,
            None => 1,
        }
    }
}

/// Build the report: frameworks, checks (per-step invariants, message
/// invariants, implicit end checks), expectations and what each fault did.
#[allow(clippy::too_many_arguments)]
pub(crate) fn judge_run(
    b: &ClusterBuilder,
    world: &World,
    cluster: &ClusterRef,
    judge: &Arc<Mutex<Judge>>,
    did_nothing: &Arc<Mutex<Vec<Idle>>>,
    transport: Transport,
    ended_at: SimTime,
    deadline: SimTime,
) -> Result<Report, RunError> {
    let c = lock(cluster);
    let failure = world.failure();
    let mut checks = Vec::new();
    // A framework with an explicit `app` expectation is judged by it; the others must finish.
    let expected_apps: BTreeSet<&str> = b
        .expectations
        .iter()
        .filter_map(|e| match &e.expect {
            Expect::App { app, .. } => Some(app.as_str()),
            _ => None,
        })
        .collect();
    let mut apps = Vec::new();
    for (id, slot) in &c.frameworks {
        let exit = world.exit_of(id).map(|e| (e.at, e.status));
        let w = slot.framework.words();
        // A run that stopped early is not judged: what did not happen yet says nothing.
        // A daemon runs until stopped: only a failed exit of one is a failed check.
        let daemon_running = slot.framework.daemon() && exit.is_none();
        if failure.is_none() && !expected_apps.contains(slot.name.as_str()) && !daemon_running {
            match exit {
                None => checks.push(CheckFailure {
                    check: w.check,
                    message: format!("{} {} did not finish by {deadline} (the scenario's `until`)", w.noun, slot.name),
                }),
                Some((_, status)) if status != 0 => checks.push(CheckFailure {
                    check: w.check,
                    message: format!("{} {}'s {} exited with status {status}", w.noun, slot.name, w.process),
                }),
                _ => {}
            }
        }
        apps.push(FrameworkReport::new(slot.name.clone(), id.clone(), slot.at, exit, slot.framework.as_ref()));
    }
    // Once every framework has exited, what may an agent still hold? Mesos retries
    // an update (10 s, doubling to 10 min) until the framework acknowledges it
    // or the agent learns the framework is gone, so pending updates are fine
    // for a framework the leading master still holds: one disconnected within
    // its failover_timeout, or one a new leader recovered from re-registering
    // agents whose scheduler never came back (its failover_timeout does not
    // survive a master failover, MESOS-4659). For a framework the master
    // removed, the agent learns it from ShutdownFrameworkMessage, which the
    // master sends once and never retries (`Master::removeFramework`); if that
    // message was lost (a partition too short to make the agent re-register),
    // the agent retries for ever, as in Mesos. But an agent that (re-)registers
    // after the removal is told again (`Master::_reregisterSlave` shuts down
    // completed frameworks), so it must not hold that framework's updates.
    let mut pending = BTreeSet::new();
    for (name, a) in &c.agents {
        if world.is_alive(&ActorId::new(name)) && a.core.with(|a| a.unacknowledged_updates()) > 0 {
            pending.insert(name.clone());
        }
    }
    let leader = c.leader(world);
    if let Some(leader) = leader
        && failure.is_none()
        && apps.iter().all(|a| a.exit.is_some())
    {
        let (held, removed, registered_at) = leader.with(|m| {
            let held: BTreeSet<String> = m.frameworks_view().into_iter().map(|f| f.id).collect();
            let mut removed: BTreeMap<String, SimTime> = BTreeMap::new();
            let mut registered_at: BTreeMap<String, SimTime> = BTreeMap::new();
            for (t, e) in m.history() {
                match e {
                    MasterEvent::FrameworkRemoved { framework_id, .. } => {
                        removed.insert(framework_id.clone(), *t);
                    }
                    MasterEvent::AgentRegistered { hostname, .. } | MasterEvent::AgentReregistered { hostname, .. } => {
                        registered_at.insert(hostname.clone(), *t);
                    }
                    _ => {}
                }
            }
            (held, removed, registered_at)
        });
        // When the master last told each agent to shut each framework down. The
        // master sends ShutdownFrameworkMessage for a completed framework once per
        // (re-)registration (Master::_reregisterSlave); an agent that takes it in
        // before its SlaveReregisteredMessage (a delayed reply) ignores it as
        // Slave::shutdownFramework does ("the agent has not yet registered"), and
        // nothing sends it again: Mesos promises no more than the master's part.
        let judge = judge.lock().unwrap_or_else(|p| p.into_inner());
        for name in &pending {
            // An agent's hostname is its name.
            let (by_framework, registered) =
                c.agents[name].core.with(|a| (a.unacknowledged_by_framework(), a.is_registered()));
            for (fid, n) in by_framework.iter().filter(|(fid, _)| !held.contains(*fid)) {
                let why = match (registered, removed.get(fid), registered_at.get(name)) {
                    (false, _, _) => "and was still not registered with the master at the end of the run".to_string(),
                    (true, Some(r), Some(reg)) if reg > r && judge.last_told(name, fid).is_none_or(|t| t < *reg) => {
                        format!(
                            "which the master removed at {r}, before the agent (re-)registered at {reg}, and the master never told it to shut that framework down"
                        )
                    }
                    _ => continue,
                };
                checks.push(CheckFailure {
                    check: "status updates acknowledged",
                    message: format!(
                        "agent {name} still holds {n} unacknowledged status update(s) of framework {fid}, {why}"
                    ),
                });
            }
        }
    }
    for v in world.violations() {
        checks.push(CheckFailure { check: "invariant", message: format!("at {}: {}: {}", v.at, v.actor, v.problem) });
    }
    let mut history: Vec<(SimTime, MasterEvent)> =
        c.masters.iter().flat_map(|m| m.with(|m| m.history().to_vec())).collect();
    history.sort_by_key(|(t, _)| *t);
    let leaderships = {
        let histories: Vec<(String, Vec<(SimTime, MasterEvent)>)> =
            c.masters.iter().map(|m| m.with(|m| (m.config().me.to_string(), m.history().to_vec()))).collect();
        Leaderships::build(histories.iter().map(|(n, h)| (n.clone(), &h[..])), &c.master_deaths)
    };
    let exits: Vec<(String, Option<(SimTime, i32)>)> = apps.iter().map(|a| (a.name.clone(), a.exit)).collect();
    let judge = judge.lock().unwrap_or_else(|p| p.into_inner());
    let words: BTreeMap<String, super::Words> =
        c.frameworks.values().map(|s| (s.name.clone(), s.framework.words())).collect();
    let stores: BTreeMap<String, StoreTotals> =
        c.agents.iter().map(|(name, a)| (name.clone(), a.core.with(|a| a.store_totals()))).collect();
    let evidence = Evidence {
        words: &words,
        history: &history,
        exits: &exits,
        agent_deaths: &c.agent_deaths,
        leaderships: &leaderships,
        ended_at,
        agents_pending: &pending,
        containers: &stores,
    };
    let expectations: Vec<Verdict> = match failure {
        Some(_) => Vec::new(),
        None => {
            for (t, name, problem) in check_message_invariants(&judge, &evidence) {
                checks.push(CheckFailure { check: name, message: format!("at {t}: {problem}") });
            }
            judge.verdicts(&b.expectations, &evidence)
        }
    };
    let mut idle = did_nothing.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let mut faults = world.fault_reports();
    // Registry faults act in the agents' image stores, not on messages: each
    // reports the pulls it changed, summed over the agents it names.
    for spec in b.faults.iter().filter(|f| matches!(f.fault, Fault::Registry { .. })) {
        let applied = c
            .agents
            .values()
            .map(|a| a.core.with(|a| a.registry_fault_hits().get(&spec.label).copied().unwrap_or(0)))
            .sum();
        faults.push(FaultReport { label: spec.label.clone(), applied });
    }
    // `expire_session` faults act in the ZooKeeper servers: each reports
    // whether a server held the client's session when it came due.
    for (label, applied) in super::ha::expiries_applied(&c.zk_servers, &b.faults) {
        faults.push(FaultReport { label, applied });
    }
    for f in &faults {
        if f.applied == 0 {
            idle.push(Idle {
                label: f.label.clone(),
                text: format!("fault {}: never matched anything; it did nothing", f.label),
            });
        }
    }
    // A fault that did nothing is a false green: the run did not test what the
    // scenario says it tests. It fails the run unless the fault is `optional`
    // (it may legitimately not fire), in which case it is only a warning.
    let optional: BTreeSet<&str> = b.faults.iter().filter(|f| f.optional).map(|f| f.label.as_str()).collect();
    let mut warnings = Vec::new();
    // A run stopped by a failure (panic, livelock, transport refusal) is not
    // judged: its faults may simply not have come due.
    if failure.is_some() {
        idle.clear();
    }
    for Idle { label, text } in idle {
        if optional.contains(label.as_str()) {
            warnings.push(format!("{text} (optional = true)"));
        } else {
            checks.push(CheckFailure {
                check: "fault applied",
                message: format!("{text} (mark it `optional = true` if it may legitimately not fire)"),
            });
        }
    }
    let (messages_n, by_kind, digest) = world.with_trace(|t| (t.messages(), t.counts().clone(), t.finish()));
    let master = c.leader(world).or(c.masters.last()).map(|m| m.with(|m| m.stats())).unwrap_or_default();
    let containers = stores.into_iter().filter(|(_, t)| *t != StoreTotals::default()).collect();
    Ok(Report {
        scenario: b.name.clone(),
        seed: b.seed,
        transport,
        ended_at,
        frameworks: apps,
        master,
        messages: messages_n,
        by_kind,
        checks,
        expectations,
        faults,
        warnings,
        history,
        leaderships,
        containers,
        digest: digest?,
        failure,
    })
}

/// What [`Report::render_with`] prints.
#[derive(Clone, Copy, Debug, Default)]
pub struct Show {
    /// The messages-by-kind table (`mesocosm run --stats`).
    pub stats: bool,
    /// Only the verdict block (`mesocosm run --quiet`).
    pub verdict_only: bool,
}

impl Report {
    /// Why the run did not pass, as the first failing line of its verdict
    /// block words it: a failed expectation, else the failure that stopped
    /// the run, else a failed check; `None` if it passed. A sweep prints this
    /// for each failing seed.
    pub fn first_failure(&self) -> Option<String> {
        if let Some(e) = self.expectations.iter().find(|e| !e.held) {
            return Some(expect_line(e));
        }
        if let Some(f) = &self.failure {
            return Some(failure_line(f));
        }
        self.checks.first().map(check_line)
    }

    /// The summary and the verdict, as `mesocosm run` prints them after the
    /// timeline (no message table).
    pub fn render(&self, out: &mut dyn Write) -> std::io::Result<()> {
        self.render_with(out, Show::default())
    }

    /// What the run did, then (with `stats`) the messages by kind, then the
    /// verdict block. The verdict comes last, where the eye lands when the
    /// output stops; its first line says PASSED or FAILED.
    pub fn render_with(&self, out: &mut dyn Write, show: Show) -> std::io::Result<()> {
        if !show.verdict_only {
            writeln!(out)?;
            for line in self.summary_lines() {
                writeln!(out, "{line}")?;
            }
            if show.stats {
                writeln!(out)?;
                self.render_stats(out)?;
            }
            writeln!(out)?;
        }
        for line in self.verdict_lines() {
            writeln!(out, "{line}")?;
        }
        Ok(())
    }

    /// The summary: the run, each framework (Mesos's tasks and Spark's named
    /// apart), the master's offers, the message count and what each fault did.
    pub fn summary_lines(&self) -> Vec<String> {
        let mut lines = vec![format!(
            "summary: scenario {} (seed {}, transport {}), ended at {}",
            self.scenario,
            self.seed,
            match self.transport {
                Transport::Grpc => "grpc",
                Transport::Memory => "memory",
            },
            self.ended_at
        )];
        for f in &self.frameworks {
            lines.extend(f.summary.iter().cloned());
        }
        let m = &self.master;
        lines.push(format!(
            "  master: {} offers made, {} accepted, {} declined, {} rescinded; {} Mesos tasks launched; {} allocation cycles",
            m.offers_made,
            m.offers_accepted,
            m.offers_declined,
            m.offers_rescinded,
            m.tasks_launched,
            m.allocation_cycles
        ));
        for (agent, t) in &self.containers {
            lines.push(format!(
                "  {agent}: pulled {} ({} pull(s), {} layer(s) already there, {} shared), fetched {} ({} fetcher cache hit(s))",
                human_bytes(t.pulled_bytes),
                t.pulls,
                t.layer_hits,
                t.layers_shared,
                human_bytes(t.fetched_bytes),
                t.fetcher_cache_hits
            ));
        }
        if !self.leaderships.is_empty() {
            lines.push(format!("  leaders: {}", self.leaderships.describe()));
            for f in self.leaderships.failovers() {
                lines.push(format!("  failover: {f}"));
            }
            if let Some((m, t)) = self.leaderships.leaderless_since() {
                lines.push(format!(
                    "  failover: none after {m} stopped leading at {}; no leader at the end",
                    secs(t.since(SimTime::ZERO))
                ));
            }
        }
        lines.push(format!("  messages: {} (by kind: --stats)", self.messages));
        for f in &self.faults {
            lines.push(format!("  fault {}: applied {} time(s)", f.label, f.applied));
        }
        lines
    }

    /// The messages by kind, one aligned table: count, kind, protobuf name.
    pub fn render_stats(&self, out: &mut dyn Write) -> std::io::Result<()> {
        let width = self.by_kind.keys().map(|(_, k)| k.len()).max().unwrap_or(4).max(4);
        writeln!(out, "messages by kind:")?;
        writeln!(out, "  {:>7}  {:<width$}  protobuf", "count", "kind")?;
        for ((proto, kind), n) in &self.by_kind {
            writeln!(out, "  {n:>7}  {kind:<width$}  {proto}")?;
        }
        writeln!(out, "  {:>7}  (all)", self.messages)
    }

    /// The verdict block: a headline, every expectation, the warnings, the
    /// checks, and the digest that names this exact run.
    pub fn verdict_lines(&self) -> Vec<String> {
        let mut lines = Vec::new();
        let held = self.expectations.iter().filter(|e| e.held).count();
        let expectations = match self.expectations.len() {
            0 => "no expectations".to_string(),
            1 if held == 1 => "1 expectation held".to_string(),
            n if held == n => format!("{n} expectations held"),
            n => format!("{} of {n} expectations FAILED", n - held),
        };
        let checks = match self.checks.len() {
            0 => "every check holds".to_string(),
            1 => "1 check FAILED".to_string(),
            n => format!("{n} checks FAILED"),
        };
        lines.push(match &self.failure {
            Some(f) => format!("── verdict: RUN FAILED ({}), not judged ──", f.kind()),
            None if self.passed() => format!("── verdict: PASSED ({expectations}, {checks}) ──"),
            None => format!("── verdict: FAILED ({expectations}, {checks}) ──"),
        });
        for e in &self.expectations {
            lines.push(expect_line(e));
        }
        for w in &self.warnings {
            lines.push(format!("warning: {w}"));
        }
        if let Some(f) = &self.failure {
            lines.push(failure_line(f));
            lines.push(format!("not judged: the run stopped at {}, before its end", f.at()));
        } else if self.checks.is_empty() {
            lines.push("checks: all hold".to_string());
        } else {
            for c in &self.checks {
                lines.push(check_line(c));
            }
        }
        if let Some(d) = &self.digest {
            lines.push(format!("digest: {d}"));
        }
        lines
    }
}

fn expect_line(e: &Verdict) -> String {
    let mark = if e.held { "ok" } else { "FAILED" };
    format!("expect {mark}: {}: {} ({})", e.label, e.text, e.observed)
}

fn failure_line(f: &RunFailure) -> String {
    format!("run FAILED ({}): {f}", f.kind())
}

fn check_line(c: &CheckFailure) -> String {
    format!("check failed [{}]: {}", c.check, c.message)
}
