//! The failure script of a scenario: `[[faults]]` to inject and `[[expect]]` to check.
//!
//! A fault is one table with exactly one *action* key, which says what happens;
//! the other keys say to whom, which messages and when:
//!
//! ```toml
//! [[faults]]                       # crash an actor; optionally start it again
//! kill = "agent-2"                 # master | <agent> | agent:<agent> | driver:<app> | executor:<app>/<id>; globs with *
//! at = "30s"
//! restart_after = "2m"             # agents keep their id and re-register; drivers re-subscribe with their framework id
//!
//! [[faults]]                       # network partition between two groups
//! partition = [["agent-2"], ["master"]]   # or ["agent-2", "master"] for two single actors
//! at = "30s"
//! heal_after = "3m"                # optional: the partition lasts forever without it
//! one_way = true                   # optional: only messages first → second are lost
//!
//! [[faults]]                       # break an open connection (both sides see it close)
//! disconnect = ["driver:etl", "master"]
//! at = "20s"
//!
//! [[faults]]                       # message faults: drop | delay | duplicate | hold = "<message kind>" ("*": any)
//! drop = "RegisterExecutor"
//! from = "executor:etl/*"          # optional sender glob
//! to = "driver:etl"                # optional receiver glob
//! nth = 1                          # which: nth = N | first = N | every = true | probability = p (default: every)
//! after = "10s"                    # optional window on the send time
//! before = "1m"
//! # delay = "PongSlaveMessage" with by = "20s";  hold = "UPDATE" with until = "1m"
//!
//! [[faults]]                       # a slow framework: think time per offer before it answers
//! slow = "driver:hog"
//! think = "2s"
//! ```
//!
//! A fault that did nothing in the run (matched no message, found nothing to
//! kill or disconnect) fails the run, unless it says `optional = true` (any
//! action takes it): then it is only a warning.
//!
//! An expectation is one table with exactly one *subject* key:
//!
//! ```toml
//! [[expect]]
//! app = "etl"                      # the app's driver exits 0 (finishes = true) or non-zero (fails = true),
//! finishes = true                  # or has not exited when the run ends (running = true)
//! before = "5m"                    # optional window: after = …, before = …
//!
//! [[expect]]
//! framework_removed = "etl"        # the master removes the app's framework
//! reason = "failover"              # optional: a word of the master's reason
//!
//! [[expect]]
//! agent = "agent-2"                # the master marks the agent: unreachable | disconnected | reregistered | registered
//! marked = "unreachable"
//! after = "100s"
//! before = "110s"
//! # exactly = 0                    # optional: how many times (0: never); default at least once
//!
//! [[expect]]
//! count = "TASK_LOST"              # a message kind, or a task state (TASK_*: tasks whose UPDATE reached it)
//! where = { reason = "REASON_AGENT_REMOVED" }   # optional field filters (see `mesocosm_sim::fields`)
//! from = "master"                  # optional
//! to = "driver:*"                  # optional
//! at_least = 1                     # at_least = N | at_most = N | exactly = N (at_least and at_most may be combined)
//!
//! [[expect]]
//! never = "OFFERS"                 # no message of this kind …
//! to = "driver:hog"
//! after = "2m"                     # … after this time
//! ```
//!
//! Everything is checked before the run: unknown actors, kinds and fields,
//! malformed or negative durations, faults that cannot happen (after `until`,
//! before the app exists, restarting an executor) and faults that conflict
//! (killing an actor that is already dead) are diagnostics at their line.

use std::collections::BTreeMap;
use std::ops::Range;
use std::time::Duration;

use mesocosm_sim::SimTime;
use mesocosm_sim::faults::{LinkLatency, MessageFault, Partition, Pattern, Slow};
use mesocosm_sim::fields;
use mesocosm_sim::proto::mesos::v1::{TaskState, task_status};
use serde::Deserialize;
use toml::Spanned;

use crate::scenario::{Checker, RawDurOrTable};
use crate::units::format_duration;

// ---------------------------------------------------------------------------
// What a checked script is
// ---------------------------------------------------------------------------

/// One fault, with where it was written.
#[derive(Clone, Debug, PartialEq)]
pub struct FaultSpec {
    /// `file:line` of its `[[faults]]` header, how the trace and reports name it.
    pub label: String,
    pub fault: Fault,
    /// `optional = true`: the fault may legitimately do nothing (e.g. a message
    /// that is only sent on some seeds). Otherwise a fault that did nothing
    /// fails the run: the scenario tested something other than it says.
    pub optional: bool,
}

/// What a fault does.
#[derive(Clone, Debug, PartialEq)]
pub enum Fault {
    /// Kill every running actor matching `actor` at `at`; start each again
    /// `restart_after` later if given.
    Kill { actor: Pattern, at: Duration, restart_after: Option<Duration> },
    /// Break the connection between `a` and `b` at `at`.
    Disconnect { a: String, b: String, at: Duration },
    /// A partition (its own times inside).
    Partition(Partition),
    /// A message rule.
    Message(MessageFault),
    /// A slow scheduler.
    Slow(Slow),
}

impl Fault {
    /// Kill every running actor whose name matches `actor` (a glob) at `at`.
    pub fn kill(actor: &str, at: Duration) -> Fault {
        Fault::Kill { actor: Pattern::new(actor), at, restart_after: None }
    }

    /// A kill that starts its victims again `after` later; other faults are unchanged.
    #[must_use]
    pub fn restart_after(self, after: Duration) -> Fault {
        match self {
            Fault::Kill { actor, at, .. } => Fault::Kill { actor, at, restart_after: Some(after) },
            other => other,
        }
    }
}

/// One expectation, with where it was written.
#[derive(Clone, Debug, PartialEq)]
pub struct Expectation {
    /// `file:line` of its `[[expect]]` header.
    pub label: String,
    /// What it says, in words (for reports).
    pub text: String,
    pub expect: Expect,
    /// Only events in `[after, before]` count.
    pub after: Option<Duration>,
    pub before: Option<Duration>,
}

/// How an app's driver ends, for an `app` expectation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AppOutcome {
    /// It exits with status 0.
    Finishes,
    /// It exits with a non-zero status.
    Fails,
    /// It has not exited when the run ends (a starved or live-locked app).
    Running,
}

/// What an expectation checks.
#[derive(Clone, Debug, PartialEq)]
pub enum Expect {
    /// How the app's (last) driver ends.
    App { app: String, outcome: AppOutcome },
    /// The master removes the app's framework, with a reason containing `reason`.
    FrameworkRemoved { app: String, reason: Option<String> },
    /// The master marks the agent so (`times`: exactly that many times, e.g. 0;
    /// without it, at least once).
    Agent { agent: String, marked: AgentMark, times: Option<u64> },
    /// How many messages (or tasks, for a TASK_* state) match.
    Count {
        what: String,
        from: Option<Pattern>,
        to: Option<Pattern>,
        wheres: Vec<(String, String)>,
        at_least: Option<u64>,
        at_most: Option<u64>,
    },
}

impl Expect {
    /// How a framework (a Spark app, or any framework by its name) ends.
    pub fn framework(name: &str, outcome: AppOutcome) -> Expect {
        Expect::App { app: name.to_string(), outcome }
    }
}

/// The agent transitions an expectation can name (the master's view).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AgentMark {
    Registered,
    Reregistered,
    Disconnected,
    Unreachable,
}

impl AgentMark {
    const ALL: [(&'static str, AgentMark); 4] = [
        ("registered", AgentMark::Registered),
        ("reregistered", AgentMark::Reregistered),
        ("disconnected", AgentMark::Disconnected),
        ("unreachable", AgentMark::Unreachable),
    ];

    /// The word a scenario uses.
    pub fn word(self) -> &'static str {
        AgentMark::ALL.iter().find(|(_, m)| *m == self).map_or("?", |(w, _)| w)
    }
}

/// The filterable fields whose values are numbers (`mesocosm_sim::fields`
/// writes them with Rust's number formatting and compares numerically).
const NUMERIC_FIELDS: &[&str] =
    &["offers", "tasks", "refuse_seconds", "failover_timeout", "cores", "status", "cpus", "mem", "gpus"];

/// The filterable fields whose values are booleans.
const BOOLEAN_FIELDS: &[&str] = &["checkpoint", "connected", "success"];

/// Whether `what` names a task state (counted per task) rather than a message kind.
pub fn is_task_state(what: &str) -> bool {
    TaskState::from_str_name(what).is_some()
}

// ---------------------------------------------------------------------------
// The TOML shape
// ---------------------------------------------------------------------------

/// A group of actors: one name or a list of names.
#[derive(Deserialize)]
#[serde(untagged)]
pub(crate) enum RawGroup {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFault {
    kill: Option<Spanned<String>>,
    partition: Option<Spanned<Vec<RawGroup>>>,
    disconnect: Option<Spanned<Vec<String>>>,
    drop: Option<Spanned<String>>,
    delay: Option<Spanned<String>>,
    duplicate: Option<Spanned<String>>,
    hold: Option<Spanned<String>>,
    slow: Option<Spanned<String>>,
    at: Option<Spanned<String>>,
    restart_after: Option<Spanned<String>>,
    heal_after: Option<Spanned<String>>,
    one_way: Option<Spanned<bool>>,
    from: Option<Spanned<String>>,
    to: Option<Spanned<String>>,
    nth: Option<Spanned<i64>>,
    first: Option<Spanned<i64>>,
    every: Option<Spanned<bool>>,
    probability: Option<Spanned<f64>>,
    after: Option<Spanned<String>>,
    before: Option<Spanned<String>>,
    by: Option<Spanned<String>>,
    until: Option<Spanned<String>>,
    think: Option<Spanned<String>>,
    optional: Option<Spanned<bool>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawExpect {
    app: Option<Spanned<String>>,
    finishes: Option<Spanned<bool>>,
    fails: Option<Spanned<bool>>,
    running: Option<Spanned<bool>>,
    framework_removed: Option<Spanned<String>>,
    reason: Option<Spanned<String>>,
    agent: Option<Spanned<String>>,
    marked: Option<Spanned<String>>,
    count: Option<Spanned<String>>,
    never: Option<Spanned<String>>,
    from: Option<Spanned<String>>,
    to: Option<Spanned<String>>,
    #[serde(rename = "where")]
    wheres: Option<Spanned<BTreeMap<String, Spanned<toml::Value>>>>,
    at_least: Option<Spanned<i64>>,
    at_most: Option<Spanned<i64>>,
    exactly: Option<Spanned<i64>>,
    after: Option<Spanned<String>>,
    before: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawLink {
    from: Spanned<String>,
    to: Spanned<String>,
    latency: Spanned<RawDurOrTable>,
}

// ---------------------------------------------------------------------------
// The actors a scenario can name
// ---------------------------------------------------------------------------

/// The actor names of a scenario, to resolve and check what faults name.
pub(crate) struct Cast {
    pub master: String,
    pub agents: Vec<String>,
    /// (driver name, submission time).
    pub apps: Vec<(String, Duration)>,
    /// `[[frameworks]]`: (name, start time); the scheduler is `scheduler:<name>`.
    pub frameworks: Vec<(String, Duration)>,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Role {
    Master,
    Agent,
    /// A framework's scheduler: a Spark driver or a `scheduler:<name>`.
    Driver,
    Executor,
}

impl Cast {
    /// Names a fault or expectation may match, with an executor sample per app
    /// (executor ids are assigned at run time: `executor:<app>/0`, `/1`, …).
    fn samples(&self) -> Vec<(String, Role)> {
        let mut v = vec![(self.master.clone(), Role::Master)];
        v.extend(self.agents.iter().map(|a| (a.clone(), Role::Agent)));
        for (app, _) in &self.apps {
            v.push((format!("driver:{app}"), Role::Driver));
            v.push((format!("executor:{app}/0"), Role::Executor));
        }
        for (fw, _) in &self.frameworks {
            v.push((format!("scheduler:{fw}"), Role::Driver));
        }
        v
    }

    /// Resolve a name or glob to a pattern over actor names, or say why it names nobody.
    fn resolve(&self, name: &str) -> Result<(Pattern, Vec<Role>), String> {
        // `agent:<name>` is how the issue tracker and Mesos logs say it; the actor is the hostname.
        if let Some(rest) = name.strip_prefix("agent:") {
            let glob = Pattern::new(rest);
            let hits: Vec<&String> = self.agents.iter().filter(|a| glob.matches(a)).collect();
            if hits.is_empty() {
                return Err(format!("no agent is named `{rest}` (agents: {})", self.agents.join(", ")));
            }
            let alternatives = hits.iter().map(|s| s.as_str()).collect::<Vec<_>>().join("|");
            return Ok((Pattern::new(alternatives), vec![Role::Agent]));
        }
        if name == "master" {
            return Ok((Pattern::new(self.master.clone()), vec![Role::Master]));
        }
        if let Some(rest) = name.strip_prefix("executor:")
            && !rest.contains('*')
        {
            let (app, id) = rest.split_once('/').unwrap_or((rest, ""));
            if !self.apps.iter().any(|(a, _)| a == app) {
                return Err(format!("no app is named `{app}` (apps: {})", self.app_names()));
            }
            if id.is_empty() || !id.chars().all(|c| c.is_ascii_digit()) {
                return Err(format!(
                    "`{name}`: an executor is `executor:<app>/<id>` with Spark's numeric executor id, or a glob like `executor:{app}/*`"
                ));
            }
            return Ok((Pattern::new(name), vec![Role::Executor]));
        }
        let p = Pattern::new(name);
        let roles: Vec<Role> = self.samples().into_iter().filter(|(n, _)| p.matches(n)).map(|(_, r)| r).collect();
        if roles.is_empty() {
            return Err(format!(
                "`{name}` names no actor; actors are {}, {}, driver:<app>, executor:<app>/<id> and scheduler:<framework> (apps: {}; frameworks: {})",
                self.master,
                if self.agents.is_empty() { "(no agents)".to_string() } else { self.agents.join(", ") },
                self.app_names(),
                self.framework_names()
            ));
        }
        Ok((p, roles))
    }

    fn framework_names(&self) -> String {
        if self.frameworks.is_empty() {
            "none".into()
        } else {
            self.frameworks.iter().map(|(a, _)| a.as_str()).collect::<Vec<_>>().join(", ")
        }
    }

    fn app_names(&self) -> String {
        if self.apps.is_empty() {
            "none".into()
        } else {
            self.apps.iter().map(|(a, _)| a.as_str()).collect::<Vec<_>>().join(", ")
        }
    }
}

// ---------------------------------------------------------------------------
// Checking
// ---------------------------------------------------------------------------

/// A kill as the conflict check sees it.
struct Death {
    name: String,
    from: Duration,
    until: Option<Duration>,
    line: usize,
}

impl Checker<'_> {
    /// `<path>:<line>`, naming an expectation in the summary.
    fn label(&self, span: &Range<usize>) -> String {
        format!("{}:{}", self.path.display(), self.line_of(span))
    }

    /// `<file name>:<line>`, naming a fault rule. The file name only, not the
    /// path as typed: a rule's label enters the trace and seeds its
    /// `probability` generator, so `a.toml` and `/tmp/a.toml` must run the same
    /// scenario to the same digest.
    fn rule_label(&self, span: &Range<usize>) -> String {
        let file =
            self.path.file_name().map_or_else(|| self.path.display().to_string(), |f| f.to_string_lossy().into_owned());
        format!("{file}:{}", self.line_of(span))
    }

    pub(crate) fn line_of(&self, span: &Range<usize>) -> usize {
        self.src[..span.start.min(self.src.len())].matches('\n').count() + 1
    }

    /// The one key of `keys` (name, span if written) that is present, or a
    /// diagnostic: `none` at `span` if none is, `two(second)` at the second if more are.
    fn exactly_one(
        &mut self,
        keys: &[(&'static str, Option<Range<usize>>)],
        span: Range<usize>,
        none: &str,
        two: impl Fn(&str) -> String,
    ) -> Option<&'static str> {
        let mut present = keys.iter().filter_map(|(k, s)| s.clone().map(|s| (*k, s)));
        match (present.next(), present.next()) {
            (Some((k, _)), None) => Some(k),
            (None, _) => {
                self.error(span, none);
                None
            }
            (Some(_), Some((second, s))) => {
                self.error(s, two(second));
                None
            }
        }
    }

    /// Rejects every written key of `keys` that `what` does not take (never
    /// ignore a key: a misplaced one would silently do nothing). True if none.
    fn only_allowed(&mut self, keys: &[(&'static str, Option<Range<usize>>)], allowed: &[&str], what: &str) -> bool {
        let mut ok = true;
        for (key, s) in keys.iter().filter_map(|(k, s)| s.clone().map(|s| (*k, s))) {
            if !allowed.contains(&key) {
                self.error(s, format!("`{key}` does not apply to {what} (it takes: {})", allowed.join(", ")));
                ok = false;
            }
        }
        ok
    }

    fn opt_duration(&mut self, v: &Option<Spanned<String>>, key: &str) -> Option<Duration> {
        v.as_ref().and_then(|v| self.duration(v, key))
    }

    /// A rule whose `after` is at or past `until` could never act (a false
    /// green): refuse it at its `after`.
    fn starts_after_run(&mut self, v: &Option<Spanned<String>>, after: Duration, until: Duration) -> bool {
        let Some(a) = v.as_ref().filter(|_| after >= until) else { return false };
        self.error(
            a.span(),
            format!(
                "this fault starts at {}, after the run stops at {}",
                format_duration(after),
                format_duration(until)
            ),
        );
        true
    }

    /// A message kind, or a diagnostic listing close ones.
    fn kind(&mut self, v: &Spanned<String>, any_ok: bool) -> Option<String> {
        let k = v.get_ref();
        if (any_ok && k == "*") || fields::is_kind(k) {
            return Some(k.clone());
        }
        let lower = k.to_ascii_lowercase();
        let close: Vec<&str> = fields::kinds()
            .into_iter()
            .filter(|c| c.to_ascii_lowercase().contains(&lower) || lower.contains(&c.to_ascii_lowercase()))
            .take(6)
            .collect();
        let hint = if close.is_empty() {
            "message kinds are the Call/Event types (ACCEPT, DECLINE, OFFERS, UPDATE, RESCIND…) and message names (RunTaskMessage, PongSlaveMessage, RegisterExecutor…)".to_string()
        } else {
            format!("did you mean {}?", close.join(", "))
        };
        self.error(v.span(), format!("unknown message kind `{k}`; {hint}"));
        None
    }

    fn actor(&mut self, cast: &Cast, v: &Spanned<String>) -> Option<(Pattern, Vec<Role>)> {
        match cast.resolve(v.get_ref()) {
            Ok(r) => Some(r),
            Err(e) => {
                self.error(v.span(), e);
                None
            }
        }
    }

    pub(crate) fn links(&mut self, raw: &[Spanned<RawLink>], cast: &Cast) -> Vec<LinkLatency> {
        let mut out = Vec::new();
        for l in raw {
            let l = l.get_ref();
            let from = self.actor(cast, &l.from);
            let to = self.actor(cast, &l.to);
            let latency = self.latency(&l.latency);
            if let (Some((from, _)), Some((to, _))) = (from, to) {
                out.push(LinkLatency { from, to, latency });
            }
        }
        out
    }

    pub(crate) fn faults(&mut self, raw: &[Spanned<RawFault>], cast: &Cast, until: Duration) -> Vec<FaultSpec> {
        let mut out = Vec::new();
        let mut deaths: Vec<Death> = Vec::new();
        for f in raw {
            let span = f.span();
            let label = self.rule_label(&span);
            if let Some(mut fault) = self.fault(f.get_ref(), span.clone(), cast, until, &mut deaths) {
                // Every rule is named by its table's line, in reports and in the trace.
                match &mut fault {
                    Fault::Message(m) => m.label = label.clone(),
                    Fault::Partition(p) => p.label = label.clone(),
                    Fault::Slow(sl) => sl.label = label.clone(),
                    Fault::Kill { .. } | Fault::Disconnect { .. } => {}
                }
                let optional = f.get_ref().optional.as_ref().is_some_and(|o| *o.get_ref());
                out.push(FaultSpec { label, fault, optional });
            }
        }
        out
    }

    fn fault(
        &mut self,
        f: &RawFault,
        span: Range<usize>,
        cast: &Cast,
        until: Duration,
        deaths: &mut Vec<Death>,
    ) -> Option<Fault> {
        let actions = [
            ("kill", f.kill.as_ref().map(Spanned::span)),
            ("partition", f.partition.as_ref().map(Spanned::span)),
            ("disconnect", f.disconnect.as_ref().map(Spanned::span)),
            ("drop", f.drop.as_ref().map(Spanned::span)),
            ("delay", f.delay.as_ref().map(Spanned::span)),
            ("duplicate", f.duplicate.as_ref().map(Spanned::span)),
            ("hold", f.hold.as_ref().map(Spanned::span)),
            ("slow", f.slow.as_ref().map(Spanned::span)),
        ];
        let action = self.exactly_one(
            &actions,
            span,
            "a fault needs one action: kill, partition, disconnect, drop, delay, duplicate, hold or slow",
            |second| format!("a fault has one action, but this one also has `{second}`; write two [[faults]] tables"),
        )?;
        // Keys that only some actions take: reject the others' keys, never ignore them.
        let allowed: &[&str] = match action {
            "kill" => &["at", "restart_after"],
            "partition" => &["at", "heal_after", "one_way"],
            "disconnect" => &["at"],
            "drop" | "duplicate" => &["from", "to", "nth", "first", "every", "probability", "after", "before"],
            "delay" => &["from", "to", "nth", "first", "every", "probability", "after", "before", "by"],
            "hold" => &["from", "to", "nth", "first", "every", "probability", "after", "before", "until"],
            _ => &["after", "before", "think"],
        };
        let keys = [
            ("at", f.at.as_ref().map(Spanned::span)),
            ("restart_after", f.restart_after.as_ref().map(Spanned::span)),
            ("heal_after", f.heal_after.as_ref().map(Spanned::span)),
            ("one_way", f.one_way.as_ref().map(Spanned::span)),
            ("from", f.from.as_ref().map(Spanned::span)),
            ("to", f.to.as_ref().map(Spanned::span)),
            ("nth", f.nth.as_ref().map(Spanned::span)),
            ("first", f.first.as_ref().map(Spanned::span)),
            ("every", f.every.as_ref().map(Spanned::span)),
            ("probability", f.probability.as_ref().map(Spanned::span)),
            ("after", f.after.as_ref().map(Spanned::span)),
            ("before", f.before.as_ref().map(Spanned::span)),
            ("by", f.by.as_ref().map(Spanned::span)),
            ("until", f.until.as_ref().map(Spanned::span)),
            ("think", f.think.as_ref().map(Spanned::span)),
        ];
        // `optional` applies to every action, so it is not in `keys`.
        let mut ok = self.only_allowed(&keys, allowed, &format!("a `{action}` fault"));
        let at = self.opt_duration(&f.at, "at").unwrap_or(Duration::ZERO);
        if let Some(a) = &f.at
            && at >= until
        {
            self.error(
                a.span(),
                format!(
                    "this fault at {} never happens: the run stops at {}",
                    format_duration(at),
                    format_duration(until)
                ),
            );
            ok = false;
        }
        let fault = match action {
            "kill" => self.kill_fault(f, cast, at, until, deaths)?,
            "partition" => self.partition_fault(f, cast, at)?,
            "disconnect" => self.disconnect_fault(f, cast, at)?,
            "slow" => self.slow_fault(f, cast, until)?,
            _ => self.message_fault(f, action, cast, until)?,
        };
        ok.then_some(fault)
    }

    fn kill_fault(
        &mut self,
        f: &RawFault,
        cast: &Cast,
        at: Duration,
        until: Duration,
        deaths: &mut Vec<Death>,
    ) -> Option<Fault> {
        let v = f.kill.as_ref()?;
        let (actor, roles) = self.actor(cast, v)?;
        let restart_after = self.opt_duration(&f.restart_after, "restart_after");
        if let (Some(r), Some(d)) = (&f.restart_after, restart_after) {
            if d.is_zero() {
                self.error(r.span(), "`restart_after` must be more than 0");
                return None;
            }
            if roles.contains(&Role::Executor) {
                self.error(
                    r.span(),
                    "an executor cannot be restarted: Mesos agents launch executors, and Spark asks for new ones through offers",
                );
                return None;
            }
        }
        // A driver does not exist before spark-submit runs, nor a scheduler before its start.
        let schedulers = cast.apps.iter().map(|(a, t)| (format!("driver:{a}"), t, "submitted"));
        let schedulers =
            schedulers.chain(cast.frameworks.iter().map(|(f, t)| (format!("scheduler:{f}"), t, "started")));
        for (name, submitted, verb) in schedulers {
            if actor.matches(&name) && !actor.as_str().contains('*') && at < *submitted {
                self.error(
                    v.span(),
                    format!(
                        "{name} is {verb} at {}; it cannot be killed at {}",
                        format_duration(*submitted),
                        format_duration(at)
                    ),
                );
                return None;
            }
        }
        let line = self.line_of(&v.span());
        if !actor.as_str().contains('*') {
            let name = actor.as_str().to_string();
            let until_alive = restart_after.map(|r| at + r);
            if let Some(d) = deaths.iter().find(|d| d.name == name && at >= d.from && d.until.is_none_or(|u| at < u)) {
                let why = match d.until {
                    Some(u) => format!("until its restart at {}", format_duration(u)),
                    None => "for the rest of the run".to_string(),
                };
                self.error(
                    v.span(),
                    format!("{name} is already dead at {} (killed at line {} {why})", format_duration(at), d.line),
                );
                return None;
            }
            if let Some(u) = until_alive.filter(|u| *u >= until)
                && let Some(r) = &f.restart_after
            {
                self.error(
                    r.span(),
                    format!(
                        "the restart at {} never happens: the run stops at {}",
                        format_duration(u),
                        format_duration(until)
                    ),
                );
                return None;
            }
            deaths.push(Death { name, from: at, until: until_alive, line });
        }
        Some(Fault::Kill { actor, at, restart_after })
    }

    fn group(&mut self, cast: &Cast, g: &RawGroup, span: Range<usize>) -> Option<Vec<Pattern>> {
        let names: Vec<String> = match g {
            RawGroup::One(n) => vec![n.clone()],
            RawGroup::Many(ns) => ns.clone(),
        };
        if names.is_empty() {
            self.error(span, "a partition group is empty");
            return None;
        }
        let mut out = Vec::new();
        for n in names {
            match cast.resolve(&n) {
                Ok((p, _)) => out.push(p),
                Err(e) => {
                    self.error(span.clone(), e);
                    return None;
                }
            }
        }
        Some(out)
    }

    fn partition_fault(&mut self, f: &RawFault, cast: &Cast, at: Duration) -> Option<Fault> {
        let v = f.partition.as_ref()?;
        let [a, b] = v.get_ref().as_slice() else {
            self.error(
                v.span(),
                "a partition has two sides: partition = [[\"agent-2\"], [\"master\"]] or [\"agent-2\", \"master\"]",
            );
            return None;
        };
        let a = self.group(cast, a, v.span())?;
        let b = self.group(cast, b, v.span())?;
        if a.iter().any(|p| b.contains(p)) {
            self.error(v.span(), "the two sides of a partition share an actor; it cannot be cut off from itself");
            return None;
        }
        let heal = self.opt_duration(&f.heal_after, "heal_after");
        if let (Some(h), Some(d)) = (&f.heal_after, heal)
            && d.is_zero()
        {
            self.error(h.span(), "`heal_after` must be more than 0");
            return None;
        }
        let mut p = Partition::between(a, b).starting(SimTime::from_duration(at));
        if let Some(h) = heal {
            p = p.healing(SimTime::from_duration(at + h));
        }
        if f.one_way.as_ref().is_some_and(|o| *o.get_ref()) {
            p = p.one_way();
        }
        Some(Fault::Partition(p.labelled(self.rule_label(&v.span()))))
    }

    fn disconnect_fault(&mut self, f: &RawFault, cast: &Cast, at: Duration) -> Option<Fault> {
        let v = f.disconnect.as_ref()?;
        let [a, b] = v.get_ref().as_slice() else {
            self.error(v.span(), "`disconnect` names the two ends of one connection: [\"driver:etl\", \"master\"]");
            return None;
        };
        let single = |this: &mut Self, n: &str| -> Option<(String, Role)> {
            match cast.resolve(n) {
                Ok((p, roles)) if !p.as_str().contains('*') && !p.as_str().contains('|') && roles.len() == 1 => {
                    Some((p.as_str().to_string(), roles[0]))
                }
                Ok(_) => {
                    this.error(v.span(), format!("`{n}`: a disconnect names one actor on each end, not a glob"));
                    None
                }
                Err(e) => {
                    this.error(v.span(), e);
                    None
                }
            }
        };
        let (a, ra) = single(self, a)?;
        let (b, rb) = single(self, b)?;
        use Role::*;
        // The connections mesocosm's actors hold (see Msg::opens_connection).
        let connected = matches!(
            (ra, rb),
            (Master, Agent)
                | (Agent, Master)
                | (Master, Driver)
                | (Driver, Master)
                | (Agent, Executor)
                | (Executor, Agent)
                | (Driver, Executor)
                | (Executor, Driver)
        );
        if !connected {
            self.error(
                v.span(),
                format!("{a} and {b} never hold a connection (connections: master–agent, master–driver, agent–executor, driver–executor)"),
            );
            return None;
        }
        Some(Fault::Disconnect { a, b, at })
    }

    fn slow_fault(&mut self, f: &RawFault, cast: &Cast, until: Duration) -> Option<Fault> {
        let v = f.slow.as_ref()?;
        let (actor, roles) = self.actor(cast, v)?;
        if roles.iter().any(|r| *r != Role::Driver) {
            self.error(
                v.span(),
                "only a framework (driver:<app>, scheduler:<framework>) receives offers and can be slow",
            );
            return None;
        }
        let Some(think_v) = &f.think else {
            self.error(v.span(), "a slow framework needs `think`: the time it takes per offer, e.g. think = \"2s\"");
            return None;
        };
        let think = self.duration(think_v, "think")?;
        if think.is_zero() {
            self.error(think_v.span(), "`think` must be more than 0");
            return None;
        }
        let after = self.opt_duration(&f.after, "after").unwrap_or(Duration::ZERO);
        let before = self.opt_duration(&f.before, "before");
        if self.starts_after_run(&f.after, after, until) {
            return None;
        }
        Some(Fault::Slow(
            Slow::actor(actor, think)
                .between(SimTime::from_duration(after), before.map(SimTime::from_duration))
                .labelled(self.rule_label(&v.span())),
        ))
    }

    fn message_fault(&mut self, f: &RawFault, action: &str, cast: &Cast, until: Duration) -> Option<Fault> {
        let v = match action {
            "drop" => f.drop.as_ref(),
            "delay" => f.delay.as_ref(),
            "duplicate" => f.duplicate.as_ref(),
            _ => f.hold.as_ref(),
        }?;
        let kind = self.kind(v, true)?;
        let label = self.rule_label(&v.span());
        let mut rule = match action {
            "drop" => MessageFault::drop(&kind),
            "duplicate" => MessageFault::duplicate(&kind),
            "delay" => {
                let Some(by) = &f.by else {
                    self.error(v.span(), "a delay needs `by`: how much later, e.g. by = \"20s\"");
                    return None;
                };
                let d = self.duration(by, "by")?;
                if d.is_zero() {
                    self.error(by.span(), "`by` must be more than 0");
                    return None;
                }
                MessageFault::delay(&kind, d)
            }
            _ => {
                let Some(u) = &f.until else {
                    self.error(v.span(), "a hold needs `until`: when the messages are released, e.g. until = \"1m\"");
                    return None;
                };
                let t = self.duration(u, "until")?;
                if t >= until {
                    self.error(
                        u.span(),
                        format!(
                            "held until {}, after the run stops at {}: use `drop`",
                            format_duration(t),
                            format_duration(until)
                        ),
                    );
                    return None;
                }
                MessageFault::hold(&kind, SimTime::from_duration(t))
            }
        };
        if let Some(from) = &f.from {
            rule = rule.from(self.actor(cast, from)?.0);
        }
        if let Some(to) = &f.to {
            rule = rule.to(self.actor(cast, to)?.0);
        }
        let picks: Vec<(&str, Range<usize>)> = [
            ("nth", f.nth.as_ref().map(Spanned::span)),
            ("first", f.first.as_ref().map(Spanned::span)),
            ("every", f.every.as_ref().map(Spanned::span)),
            ("probability", f.probability.as_ref().map(Spanned::span)),
        ]
        .into_iter()
        .filter_map(|(k, s)| s.map(|s| (k, s)))
        .collect();
        if let [_, (second, s), ..] = picks.as_slice() {
            self.error(
                s.clone(),
                format!("choose one of nth, first, every and probability (this fault also has `{second}`)"),
            );
            return None;
        }
        if let Some(n) = &f.nth {
            match u64::try_from(*n.get_ref()) {
                Ok(k) if k >= 1 => rule = rule.nth(k),
                _ => {
                    self.error(n.span(), "`nth` counts from 1 (nth = 1 is the first matching message)");
                    return None;
                }
            }
        }
        if let Some(n) = &f.first {
            match u64::try_from(*n.get_ref()) {
                Ok(k) if k >= 1 => rule = rule.first(k),
                _ => {
                    self.error(n.span(), "`first` must be at least 1");
                    return None;
                }
            }
        }
        if let Some(e) = &f.every {
            if !*e.get_ref() {
                self.error(e.span(), "`every = false` picks nothing; use nth, first or probability");
                return None;
            }
            rule = rule.every();
        }
        if let Some(p) = &f.probability {
            let p_val = *p.get_ref();
            if !(p_val > 0.0 && p_val <= 1.0) {
                self.error(p.span(), "`probability` must be in (0, 1]");
                return None;
            }
            rule = rule.with_probability(p_val);
        }
        let after = self.opt_duration(&f.after, "after").unwrap_or(Duration::ZERO);
        let before = self.opt_duration(&f.before, "before");
        if let (Some(b), Some(bv)) = (before, &f.before)
            && b <= after
        {
            self.error(
                bv.span(),
                format!("`before` ({}) must be later than `after` ({})", format_duration(b), format_duration(after)),
            );
            return None;
        }
        if self.starts_after_run(&f.after, after, until) {
            return None;
        }
        Some(Fault::Message(
            rule.between(SimTime::from_duration(after), before.map(SimTime::from_duration)).labelled(label),
        ))
    }

    pub(crate) fn expectations(
        &mut self,
        raw: &[Spanned<RawExpect>],
        cast: &Cast,
        until: Duration,
    ) -> Vec<Expectation> {
        raw.iter().filter_map(|e| self.expectation(e.get_ref(), e.span(), cast, until)).collect()
    }

    fn app_name(&mut self, cast: &Cast, v: &Spanned<String>) -> Option<String> {
        let name = v.get_ref();
        if cast.apps.iter().chain(&cast.frameworks).any(|(a, _)| a == name) {
            Some(name.clone())
        } else if cast.frameworks.is_empty() {
            self.error(v.span(), format!("no app is named `{name}` (apps: {})", cast.app_names()));
            None
        } else {
            self.error(
                v.span(),
                format!(
                    "no app or framework is named `{name}` (apps: {}; frameworks: {})",
                    cast.app_names(),
                    cast.framework_names()
                ),
            );
            None
        }
    }

    fn expectation(&mut self, e: &RawExpect, span: Range<usize>, cast: &Cast, until: Duration) -> Option<Expectation> {
        let subjects = [
            ("app", e.app.as_ref().map(Spanned::span)),
            ("framework_removed", e.framework_removed.as_ref().map(Spanned::span)),
            ("agent", e.agent.as_ref().map(Spanned::span)),
            ("count", e.count.as_ref().map(Spanned::span)),
            ("never", e.never.as_ref().map(Spanned::span)),
        ];
        let subject = self.exactly_one(
            &subjects,
            span.clone(),
            "an expectation needs one subject: app, framework_removed, agent, count or never",
            |second| format!("an expectation has one subject, but this one also has `{second}`"),
        )?;
        let allowed: &[&str] = match subject {
            "app" => &["finishes", "fails", "running", "after", "before"],
            "framework_removed" => &["reason", "after", "before"],
            "agent" => &["marked", "exactly", "after", "before"],
            "count" => &["from", "to", "where", "at_least", "at_most", "exactly", "after", "before"],
            _ => &["from", "to", "where", "after", "before"],
        };
        let keys = [
            ("finishes", e.finishes.as_ref().map(Spanned::span)),
            ("fails", e.fails.as_ref().map(Spanned::span)),
            ("running", e.running.as_ref().map(Spanned::span)),
            ("reason", e.reason.as_ref().map(Spanned::span)),
            ("marked", e.marked.as_ref().map(Spanned::span)),
            ("from", e.from.as_ref().map(Spanned::span)),
            ("to", e.to.as_ref().map(Spanned::span)),
            ("where", e.wheres.as_ref().map(Spanned::span)),
            ("at_least", e.at_least.as_ref().map(Spanned::span)),
            ("at_most", e.at_most.as_ref().map(Spanned::span)),
            ("exactly", e.exactly.as_ref().map(Spanned::span)),
            ("after", e.after.as_ref().map(Spanned::span)),
            ("before", e.before.as_ref().map(Spanned::span)),
        ];
        let mut ok = self.only_allowed(&keys, allowed, &format!("a `{subject}` expectation"));
        let after = self.opt_duration(&e.after, "after");
        let before = self.opt_duration(&e.before, "before");
        if let (Some(a), Some(b), Some(bv)) = (after, before, &e.before)
            && b < a
        {
            self.error(
                bv.span(),
                format!("`before` ({}) is earlier than `after` ({})", format_duration(b), format_duration(a)),
            );
            ok = false;
        }
        // A window that opens when the run has stopped sees nothing: `never`
        // and `at_most` would hold trivially, the rest fail for no reason.
        if let (Some(a), Some(av)) = (after, &e.after)
            && a >= until
        {
            self.error(
                av.span(),
                format!(
                    "this expectation looks after {}, but the run stops at {} (`until`): nothing can be seen there",
                    format_duration(a),
                    format_duration(until)
                ),
            );
            ok = false;
        }
        let window = match (after, before) {
            (None, None) => String::new(),
            (Some(a), None) => format!(" after {}", format_duration(a)),
            (None, Some(b)) => format!(" before {}", format_duration(b)),
            (Some(a), Some(b)) => format!(" between {} and {}", format_duration(a), format_duration(b)),
        };
        let (expect, text) = match subject {
            "app" => {
                let app = self.app_name(cast, e.app.as_ref()?)?;
                // Exactly one of the three keys, set to true.
                let given: Vec<(AppOutcome, bool)> = [
                    (AppOutcome::Finishes, &e.finishes),
                    (AppOutcome::Fails, &e.fails),
                    (AppOutcome::Running, &e.running),
                ]
                .into_iter()
                .filter_map(|(o, v)| v.as_ref().map(|v| (o, *v.get_ref())))
                .collect();
                let outcome = match given[..] {
                    [(o, true)] => o,
                    _ => {
                        self.error(
                            e.app.as_ref()?.span(),
                            "say one of `finishes = true`, `fails = true` or `running = true`",
                        );
                        return None;
                    }
                };
                let verb = match outcome {
                    AppOutcome::Finishes => "finishes",
                    AppOutcome::Fails => "fails",
                    AppOutcome::Running => "is still running at the end",
                };
                let noun = if cast.apps.iter().any(|(a, _)| *a == app) { "app" } else { "framework" };
                (Expect::App { app: app.clone(), outcome }, format!("{noun} {app} {verb}{window}"))
            }
            "framework_removed" => {
                let app = self.app_name(cast, e.framework_removed.as_ref()?)?;
                let reason = e.reason.as_ref().map(|r| r.get_ref().clone());
                let because = reason.as_ref().map(|r| format!(" ({r})")).unwrap_or_default();
                (
                    Expect::FrameworkRemoved { app: app.clone(), reason },
                    format!("the master removes framework {app}{because}{window}"),
                )
            }
            "agent" => {
                let v = e.agent.as_ref()?;
                let name = v.get_ref().strip_prefix("agent:").unwrap_or(v.get_ref()).to_string();
                if !cast.agents.contains(&name) {
                    self.error(v.span(), format!("no agent is named `{name}` (agents: {})", cast.agents.join(", ")));
                    return None;
                }
                let Some(m) = &e.marked else {
                    self.error(v.span(), "say what the master marks it: marked = \"unreachable\" (or disconnected, reregistered, registered)");
                    return None;
                };
                let Some(marked) = AgentMark::ALL.iter().find(|(w, _)| w == m.get_ref()).map(|(_, k)| *k) else {
                    self.error(
                        m.span(),
                        format!(
                            "unknown mark `{}`; use unreachable, disconnected, reregistered or registered",
                            m.get_ref()
                        ),
                    );
                    return None;
                };
                let times = match &e.exactly {
                    Some(n) => match u64::try_from(*n.get_ref()) {
                        Ok(n) => Some(n),
                        Err(_) => {
                            self.error(n.span(), "`exactly` must be 0 or more");
                            return None;
                        }
                    },
                    None => None,
                };
                let how_often = match times {
                    Some(0) => " never".to_string(),
                    Some(n) => format!(" exactly {n} time(s)"),
                    None => String::new(),
                };
                (
                    Expect::Agent { agent: name.clone(), marked, times },
                    format!("the master{how_often} marks {name} {}{window}", marked.word()),
                )
            }
            _ => {
                let v = if subject == "count" { e.count.as_ref()? } else { e.never.as_ref()? };
                let what = v.get_ref().clone();
                if !is_task_state(&what) {
                    self.kind(v, false)?;
                }
                let from = match &e.from {
                    Some(f) => Some(self.actor(cast, f)?.0),
                    None => None,
                };
                let to = match &e.to {
                    Some(t) => Some(self.actor(cast, t)?.0),
                    None => None,
                };
                let wheres = self.wheres(&what, e.wheres.as_ref())?;
                let (at_least, at_most) = if subject == "never" { (None, Some(0)) } else { self.bounds(e, v.span())? };
                let mut text = match (at_least, at_most) {
                    (_, Some(0)) => format!("no {what}"),
                    (Some(a), Some(b)) if a == b => format!("exactly {a} {what}"),
                    (Some(a), Some(b)) => format!("{a} to {b} {what}"),
                    (Some(a), None) => format!("at least {a} {what}"),
                    (None, Some(b)) => format!("at most {b} {what}"),
                    (None, None) => what.clone(),
                };
                if is_task_state(&what) {
                    text.push_str(" task(s)");
                }
                for (k, val) in &wheres {
                    text.push_str(&format!(" with {k}={val}"));
                }
                if let Some(f) = &from {
                    text.push_str(&format!(" from {f}"));
                }
                if let Some(t) = &to {
                    text.push_str(&format!(" to {t}"));
                }
                text.push_str(&window);
                (Expect::Count { what, from, to, wheres, at_least, at_most }, text)
            }
        };
        ok.then(|| Expectation { label: self.label(&span), text, expect, after, before })
    }

    fn bounds(&mut self, e: &RawExpect, span: Range<usize>) -> Option<(Option<u64>, Option<u64>)> {
        let get = |this: &mut Self, v: &Option<Spanned<i64>>, key: &str| -> Result<Option<u64>, ()> {
            match v {
                None => Ok(None),
                Some(n) => u64::try_from(*n.get_ref()).map(Some).map_err(|_| {
                    this.error(n.span(), format!("`{key}` must be 0 or more"));
                }),
            }
        };
        let least = get(self, &e.at_least, "at_least").ok()?;
        let most = get(self, &e.at_most, "at_most").ok()?;
        let exactly = get(self, &e.exactly, "exactly").ok()?;
        match (least, most, exactly) {
            (None, None, Some(n)) => Some((Some(n), Some(n))),
            (_, _, Some(_)) => {
                self.error(span, "`exactly` cannot be combined with `at_least` or `at_most`");
                None
            }
            (None, None, None) => {
                self.error(span, "say how many: at_least = N, at_most = N or exactly = N");
                None
            }
            (Some(a), Some(b), None) if a > b => {
                self.error(span, format!("at_least = {a} is more than at_most = {b}: nothing can satisfy it"));
                None
            }
            (a, b, None) => Some((a, b)),
        }
    }

    fn wheres(
        &mut self,
        what: &str,
        raw: Option<&Spanned<BTreeMap<String, Spanned<toml::Value>>>>,
    ) -> Option<Vec<(String, String)>> {
        let Some(raw) = raw else { return Some(Vec::new()) };
        let known: &[&str] =
            if is_task_state(what) { &["reason", "source", "task_id"] } else { fields::field_names(what) };
        let mut out = Vec::new();
        for (k, v) in raw.get_ref() {
            if !known.contains(&k.as_str()) {
                let list = if known.is_empty() { "none".to_string() } else { known.join(", ") };
                self.error(raw.span(), format!("`{what}` has no field `{k}` to filter on (its fields: {list})"));
                return None;
            }
            let text = match v.get_ref() {
                toml::Value::String(s) => s.clone(),
                toml::Value::Integer(i) => i.to_string(),
                toml::Value::Float(f) => f.to_string(),
                toml::Value::Boolean(b) => b.to_string(),
                _ => {
                    self.error(v.span(), format!("`where.{k}` must be a string, number or boolean"));
                    return None;
                }
            };
            // A value of the wrong type can never match: refuse it here instead
            // of letting the expectation fail (or a `never` hold) for no reason.
            if NUMERIC_FIELDS.contains(&k.as_str()) && text.trim().parse::<f64>().map_or(true, |x| !x.is_finite()) {
                self.error(v.span(), format!("`where.{k}` is a number in `{what}`, not `{text}`"));
                return None;
            }
            if BOOLEAN_FIELDS.contains(&k.as_str()) && text != "true" && text != "false" {
                self.error(v.span(), format!("`where.{k}` is true or false in `{what}`, not `{text}`"));
                return None;
            }
            // Enum-valued fields are checked against the enums, so a typo is not a silent zero count.
            let valid = match k.as_str() {
                "state" => TaskState::from_str_name(&text).is_some(),
                "reason" => task_status::Reason::from_str_name(&text).is_some(),
                "source" => task_status::Source::from_str_name(&text).is_some(),
                _ => true,
            };
            if !valid {
                self.error(
                    v.span(),
                    format!("`{text}` is not a Mesos {k} name (e.g. TASK_LOST, REASON_AGENT_REMOVED, SOURCE_MASTER)"),
                );
                return None;
            }
            out.push((k.clone(), text));
        }
        Some(out)
    }
}
