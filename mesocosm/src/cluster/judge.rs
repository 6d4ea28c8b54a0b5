//! Judging a run: the cross-actor invariants and the scenario's expectations.
//!
//! Each core states its own invariants ([`mesocosm_sim::Actor::check_invariants`],
//! checked by the world after every step). What no single core can see is checked
//! here, on every message handed to the network, in the order it was sent, as
//! it is sent ([`Judge::observe`]); a violation is reported with the time of the
//! message that broke it:
//!
//! - **task state transitions follow Mesos's rules**: on an agent's status update
//!   stream a task never leaves a terminal state nor goes back from RUNNING to
//!   STAGING/STARTING; among the updates agents relay, a framework never sees a
//!   terminal task come back to a non-terminal state. A stream belongs to one
//!   launch: a task id launched again (on an agent, by a RunTaskMessage; for the
//!   framework, by its ACCEPT) starts a new one, because Mesos lets a framework
//!   reuse the id of a task the master no longer knows, as a restarted Spark
//!   driver does with its executor ids. (Updates the master makes
//!   itself, e.g. TASK_LOST for an unreachable agent or an invalid offer, are
//!   outside the task's stream, as in Mesos: a second, different terminal state
//!   may follow them, and a duplicated ACCEPT yields TASK_LOST for a task id that
//!   then runs.)
//! - **only an offer's framework uses it**: a RunTaskMessage for framework F goes
//!   to an agent on which F accepted an offer made to F.
//! - **a terminal status update is never lost while its framework is
//!   subscribed**: every terminal update an agent sends reaches the framework, or
//!   the framework disconnected or was removed after it (or was, when it was sent,
//!   disconnected, removed, or only recovered by a new leader from re-registering
//!   agents), or the agent died, or the agent still holds it for retry when the
//!   run ends.
//!
//! Expectations ([`Expectation`]) are then evaluated against the same
//! messages, the master's lifecycle history and the drivers' exits. The judge
//! keeps no log: each `count` expectation keeps a running tally, and the
//! invariants keep the task streams, the outstanding offers and the terminal
//! updates, so its memory grows with tasks and live offers, not with messages.

use super::expect::{AgentMark, AppOutcome, Expect, Expectation, is_task_state};
use mesocosm_agent::StoreTotals;
use mesocosm_agent::images::human_bytes;
use mesocosm_master::MasterEvent;
use mesocosm_sim::faults::Pattern;
use mesocosm_sim::proto::mesos::v1::TaskState;
use mesocosm_sim::proto::mesos::v1::task_status::Source as TaskSource;
use mesocosm_sim::{ActorId, Msg, SimTime};
use std::collections::{BTreeMap, BTreeSet};

/// The judge's running state. The network hands it every message as it
/// receives it from its sender ([`Judge::observe`]), and it keeps only what the
/// cross-actor invariants and the expectations ask about, instead of a log of
/// every message: at 10,000 agents a run sends millions of messages, most of
/// them offers and pings that no check reads once they have been seen.
pub struct Judge {
    streams: Streams,
    /// One running count per expectation, in the builder's order (`None` for an
    /// expectation that reads no messages).
    tallies: Vec<Option<Tally>>,
    /// When the master last told each agent to shut each framework down:
    /// (agent, framework id) → time of the last ShutdownFrameworkMessage.
    told: BTreeMap<(String, String), SimTime>,
}

impl Judge {
    /// A judge for these expectations, before the first message.
    pub fn new(expectations: &[Expectation]) -> Judge {
        Judge {
            streams: Streams::default(),
            tallies: expectations.iter().map(Tally::for_expectation).collect(),
            told: BTreeMap::new(),
        }
    }

    /// Take in one message, in send order.
    pub fn observe(&mut self, t: SimTime, from: &ActorId, to: &ActorId, msg: &Msg) {
        self.streams.observe(t, from, to, msg);
        for tally in self.tallies.iter_mut().flatten() {
            tally.observe(t, from, to, msg);
        }
        if let Msg::ShutdownFramework(m) = msg {
            self.told.insert((to.to_string(), m.framework_id.value.clone()), t);
        }
    }

    /// When the master last sent agent `agent` a ShutdownFrameworkMessage for
    /// framework `framework_id`.
    pub fn last_told(&self, agent: &str, framework_id: &str) -> Option<SimTime> {
        self.told.get(&(agent.to_string(), framework_id.to_string())).copied()
    }

    /// Every expectation's verdict, in the order they were given to [`Judge::new`].
    pub fn verdicts(&self, expectations: &[Expectation], ev: &Evidence) -> Vec<Verdict> {
        expectations.iter().zip(&self.tallies).map(|(e, tally)| evaluate(e, tally.as_ref(), ev)).collect()
    }
}

/// The invariants' view of the message stream so far.
#[derive(Default)]
struct Streams {
    /// The first violation of each invariant: name → (time, problem).
    found: BTreeMap<&'static str, (SimTime, String)>,
    // Task streams, one per launch: an agent's stream is (agent, framework,
    // task) and starts afresh with each RunTaskMessage to that agent; the
    // framework's is (framework, task, agent) and starts afresh with each ACCEPT
    // that launches the task id there (the old launch's late updates, e.g. from
    // an agent behind a healed partition, stay on the old agent's stream). Why per launch: Mesos lets a
    // framework reuse the id of a task the master no longer knows (its terminal
    // update acknowledged, or a new leader that never heard of it), and a
    // restarted Spark driver numbers its executors from 0 again under the same
    // FrameworkID (`MesosCoarseGrainedSchedulerBackend.newMesosTaskId`).
    agent_view: BTreeMap<(String, String, String), TaskState>,
    framework_view: BTreeMap<(String, String, String), TaskState>,
    /// Outstanding offers: id → (framework, agent hostname). An offer leaves
    /// when its framework accepts or declines it, or the master rescinds it: the
    /// master removes it then (`Master::accept`, `Master::decline`,
    /// `Master::rescindOffer` in src/master/master.cpp), so any later ACCEPT
    /// naming it is invalid and launches nothing.
    offers: BTreeMap<String, (String, String)>,
    /// (framework, hostname) pairs where the framework accepted an offer made to it.
    accepted: BTreeSet<(String, String)>,
    /// Terminal updates sent by agents: uuid → (time, framework, task, agent).
    terminal: BTreeMap<Vec<u8>, (SimTime, String, String, String)>,
    delivered: BTreeSet<Vec<u8>>,
}

impl Streams {
    fn report(&mut self, t: SimTime, name: &'static str, problem: impl FnOnce() -> String) {
        self.found.entry(name).or_insert_with(|| (t, problem()));
    }

    fn observe(&mut self, t: SimTime, from: &ActorId, to: &ActorId, msg: &Msg) {
        match msg {
            Msg::StatusUpdate(m) => {
                let st = &m.update.status;
                let key = (from.to_string(), m.update.framework_id.value.clone(), st.task_id.value.clone());
                let state = st.state();
                if let Some(prev) = self.agent_view.get(&key)
                    && let Some(p) = transition_problem(*prev, state, false)
                {
                    self.report(t, "task state transitions", || format!("task {} on {from}: {p}", key.2));
                }
                if state.is_terminal() {
                    let uuid = m.update.uuid.clone().or_else(|| st.uuid.clone()).unwrap_or_default();
                    self.terminal.entry(uuid).or_insert((t, key.1.clone(), key.2.clone(), from.to_string()));
                }
                self.agent_view.insert(key, state);
            }
            Msg::SchedulerEvent(e) => {
                // Updates the master makes itself (validation errors, LOST for an
                // unreachable agent or an invalid offer) are not part of the task's
                // stream: Mesos sends them without consulting it, so a framework
                // can see TASK_LOST for a task id that then reports RUNNING (a
                // duplicated ACCEPT does that). The rule holds for what agents relay.
                if let Some(u) = e.update.as_ref().filter(|u| u.status.source() != TaskSource::Master) {
                    let st = &u.status;
                    let agent = st.agent_id.as_ref().map(|a| a.value.clone()).unwrap_or_default();
                    let key = (to.to_string(), st.task_id.value.clone(), agent);
                    let state = st.state();
                    if let Some(prev) = self.framework_view.get(&key)
                        && let Some(p) = transition_problem(*prev, state, true)
                    {
                        self.report(t, "task state transitions", || format!("{to} saw task {}: {p}", key.1));
                    }
                    self.framework_view.insert(key, state);
                    if let Some(uuid) = &st.uuid {
                        self.delivered.insert(uuid.clone());
                    }
                }
                if let Some(of) = &e.offers {
                    for offer in &of.offers {
                        self.offers
                            .insert(offer.id.value.clone(), (offer.framework_id.value.clone(), offer.hostname.clone()));
                    }
                }
                if let Some(r) = &e.rescind {
                    self.offers.remove(&r.offer_id.value);
                }
            }
            Msg::SchedulerCall(c) => {
                let Some(fid) = &c.framework_id else { return };
                if let Some(a) = &c.accept {
                    for id in &a.offer_ids {
                        if self.offers.get(&id.value).is_some_and(|(owner, _)| *owner == fid.value)
                            && let Some((owner, host)) = self.offers.remove(&id.value)
                        {
                            self.accepted.insert((owner, host));
                        }
                    }
                    // Each task launched here starts a new stream in its framework's view.
                    for t in a.operations.iter().filter_map(|op| op.launch.as_ref()).flat_map(|l| &l.task_infos) {
                        self.framework_view.remove(&(
                            from.to_string(),
                            t.task_id.value.clone(),
                            t.agent_id.value.clone(),
                        ));
                    }
                }
                if let Some(d) = &c.decline {
                    // Only its own framework's DECLINE ends an offer here; any other
                    // leaves it to be judged as before.
                    for id in &d.offer_ids {
                        if self.offers.get(&id.value).is_some_and(|(owner, _)| *owner == fid.value) {
                            self.offers.remove(&id.value);
                        }
                    }
                }
            }
            Msg::RunTask(m) => {
                let fid = m.framework.id.as_ref().map(|f| f.value.clone()).unwrap_or_default();
                // A launch starts the task's stream on that agent afresh.
                self.agent_view.remove(&(to.to_string(), fid.clone(), m.task.task_id.value.clone()));
                if !self.accepted.contains(&(fid.clone(), to.to_string())) {
                    self.report(t, "only an offer's framework uses it", || {
                        format!(
                            "RunTaskMessage for task {} of framework {fid} went to {to} without that framework accepting an offer made to it there",
                            m.task.task_id.value
                        )
                    });
                }
            }
            _ => {}
        }
    }
}

/// An expectation's running count of the messages (or tasks) it matches.
struct Tally {
    what: String,
    /// `what` names a task state: count tasks, not messages.
    task_state: bool,
    from: Option<Pattern>,
    to: Option<Pattern>,
    wheres: Vec<(String, String)>,
    after: Option<SimTime>,
    before: Option<SimTime>,
    messages: u64,
    /// For a task state: (framework, task id) of every task seen in it; a
    /// retried or duplicated update counts once.
    tasks: BTreeSet<(ActorId, String)>,
    first_last: Option<(SimTime, SimTime)>,
}

impl Tally {
    fn for_expectation(e: &Expectation) -> Option<Tally> {
        let Expect::Count { what, from, to, wheres, .. } = &e.expect else { return None };
        Some(Tally {
            what: what.clone(),
            task_state: is_task_state(what),
            from: from.clone(),
            to: to.clone(),
            wheres: wheres.clone(),
            after: e.after.map(SimTime::from_duration),
            before: e.before.map(SimTime::from_duration),
            messages: 0,
            tasks: BTreeSet::new(),
            first_last: None,
        })
    }

    fn observe(&mut self, t: SimTime, from: &ActorId, to: &ActorId, msg: &Msg) {
        // The cheap test first: most messages are of another kind.
        let status = match self.task_state {
            true => match msg {
                Msg::SchedulerEvent(_) => match msg.task_status() {
                    Some(st) if st.state().as_str_name() == self.what => Some(st),
                    _ => return,
                },
                _ => return,
            },
            false if msg.kind() == self.what => None,
            false => return,
        };
        let matches = self.after.is_none_or(|a| t >= a)
            && self.before.is_none_or(|b| t <= b)
            && self.from.as_ref().is_none_or(|p| p.matches(from.as_str()))
            && self.to.as_ref().is_none_or(|p| p.matches(to.as_str()))
            && self.wheres.iter().all(|(k, v)| field_matches(msg.field(k), v));
        if !matches {
            return;
        }
        self.first_last = Some(self.first_last.map_or((t, t), |(f, _)| (f, t)));
        match status {
            Some(st) => {
                self.tasks.insert((to.clone(), st.task_id.value.clone()));
            }
            None => self.messages += 1,
        }
    }

    /// How many matched: tasks for a task state, else messages.
    fn n(&self) -> u64 {
        match self.task_state {
            true => self.tasks.len() as u64,
            false => self.messages,
        }
    }
}

/// What a run left behind to be judged.
pub struct Evidence<'a> {
    /// Every master incarnation's history, in time order.
    pub history: &'a [(SimTime, MasterEvent)],
    /// (app, exit time and status of its last driver incarnation).
    pub exits: &'a [(String, Option<(SimTime, i32)>)],
    /// How to speak of each framework by name ("app"/"driver" for Spark's,
    /// which is also what a name not listed gets).
    pub words: &'a BTreeMap<String, super::Words>,
    /// Agents that were killed, and when.
    pub agent_deaths: &'a [(String, SimTime)],
    /// Agents alive at the end that still hold unacknowledged updates.
    pub agents_pending: &'a BTreeSet<String>,
    /// Every agent's image store totals at the end of the run.
    pub containers: &'a BTreeMap<String, StoreTotals>,
    /// Who led when (several masters only).
    pub leaderships: &'a super::leadership::Leaderships,
    /// When the run ended.
    pub ended_at: SimTime,
}

/// The result of one expectation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    pub label: String,
    pub text: String,
    pub held: bool,
    /// What was observed, in words.
    pub observed: String,
}

/// The cross-actor invariants over the messages the judge saw: the first
/// violation of each, as (time, invariant, problem).
pub fn check_message_invariants(judge: &Judge, ev: &Evidence) -> Vec<(SimTime, &'static str, String)> {
    let s = &judge.streams;
    let mut found = s.found.clone();
    let mut report = |t: SimTime, name: &'static str, problem: String| {
        found.entry(name).or_insert((t, problem));
    };
    for (uuid, (t, fw, task, agent)) in &s.terminal {
        if s.delivered.contains(uuid) {
            continue;
        }
        // "While its framework is subscribed": a framework gone before the update
        // (torn down, removed) or that left after it cannot be owed it.
        let left = |e: &MasterEvent| matches!(e, MasterEvent::FrameworkDisconnected { framework_id, .. } | MasterEvent::FrameworkRemoved { framework_id, .. } if framework_id == fw);
        // Nor is a framework subscribed that a new leader only recovered from
        // re-registering agents (its scheduler never subscribed to that master).
        let recovered =
            |e: &MasterEvent| matches!(e, MasterEvent::FrameworkRecovered { framework_id, .. } if framework_id == fw);
        let framework_left = ev.history.iter().any(|(ht, e)| *ht >= *t && left(e))
            || ev
                .history
                .iter()
                .rev()
                .find(|(ht, e)| *ht < *t && mentions(e, fw))
                .is_some_and(|(_, e)| left(e) || recovered(e));
        let agent_died = ev.agent_deaths.iter().any(|(a, dt)| a == agent && *dt >= *t);
        let still_pending = ev.agents_pending.contains(agent);
        if !(framework_left || agent_died || still_pending) {
            report(
                *t,
                "terminal updates are not lost",
                format!(
                    "the terminal update of task {task} (framework {fw}) that {agent} sent at {t} never reached the framework, which stayed subscribed, and {agent} no longer retries it"
                ),
            );
        }
    }
    found.into_iter().map(|(name, (t, p))| (t, name, p)).collect()
}

/// Whether `e` is about framework `fw`.
fn mentions(e: &MasterEvent, fw: &str) -> bool {
    match e {
        MasterEvent::FrameworkSubscribed { framework_id, .. }
        | MasterEvent::FrameworkResubscribed { framework_id, .. }
        | MasterEvent::FrameworkFailedOver { framework_id, .. }
        | MasterEvent::FrameworkRecovered { framework_id, .. }
        | MasterEvent::FrameworkDisconnected { framework_id, .. }
        | MasterEvent::FrameworkRemoved { framework_id, .. } => framework_id == fw,
        _ => false,
    }
}

/// Why `prev → next` breaks Mesos's task state rules, if it does.
fn transition_problem(prev: TaskState, next: TaskState, framework_view: bool) -> Option<String> {
    use TaskState as S;
    if prev == next {
        return None; // a retry or a duplicate
    }
    let name = |s: TaskState| s.as_str_name();
    if prev.is_terminal() {
        // The framework may see a second terminal state (LOST by the master, then
        // KILLED by the re-registered agent); the agent's own stream may not.
        if framework_view && next.is_terminal() {
            return None;
        }
        return Some(format!("{} after terminal {}", name(next), name(prev)));
    }
    if prev == S::TaskRunning && matches!(next, S::TaskStaging | S::TaskStarting) {
        return Some(format!("{} after {}", name(next), name(prev)));
    }
    None
}

fn in_window(t: SimTime, e: &Expectation) -> bool {
    e.after.is_none_or(|a| t >= SimTime::from_duration(a)) && e.before.is_none_or(|b| t <= SimTime::from_duration(b))
}

fn field_matches(actual: Option<String>, want: &str) -> bool {
    match actual {
        None => false,
        Some(a) => match (a.parse::<f64>(), want.parse::<f64>()) {
            (Ok(x), Ok(y)) => x == y,
            _ => a == want,
        },
    }
}

/// How the report speaks of framework `name` and its process.
fn words<'a>(ev: &'a Evidence, name: &str) -> (&'a str, &'a str) {
    ev.words.get(name).map_or(("app", "driver"), |w| (w.noun, w.process))
}

/// Evaluate one expectation; `tally` is what the judge counted for it (a
/// `count` expectation reads nothing else).
fn evaluate(e: &Expectation, tally: Option<&Tally>, ev: &Evidence) -> Verdict {
    let (held, observed) = match &e.expect {
        Expect::App { app, outcome } => match ev.exits.iter().find(|(a, _)| a == app).and_then(|(_, x)| *x) {
            None => {
                let (noun, process) = words(ev, app);
                (
                    *outcome == AppOutcome::Running,
                    format!("{noun} {app}'s {process} was still running at the end of the run"),
                )
            }
            Some((t, status)) => {
                let ok = match outcome {
                    AppOutcome::Finishes => status == 0,
                    AppOutcome::Fails => status != 0,
                    AppOutcome::Running => false,
                } && in_window(t, e);
                let (noun, process) = words(ev, app);
                (ok, format!("{noun} {app}'s {process} exited with status {status} at {t}"))
            }
        },
        Expect::FrameworkRemoved { app, reason } => {
            let removals: Vec<(SimTime, String)> = ev
                .history
                .iter()
                .filter_map(|(t, h)| match h {
                    MasterEvent::FrameworkRemoved { name, reason, .. } if name == app => Some((*t, reason.clone())),
                    _ => None,
                })
                .collect();
            let hit = removals
                .iter()
                .any(|(t, r)| in_window(*t, e) && reason.as_ref().is_none_or(|want| r.contains(want.as_str())));
            let seen = if removals.is_empty() {
                format!("the master never removed framework {app}")
            } else {
                removals.iter().map(|(t, r)| format!("removed at {t}: {r}")).collect::<Vec<_>>().join("; ")
            };
            (hit, seen)
        }
        Expect::Containers { agents, pulled_bytes, fetcher_cache_hits } => {
            let matching: Vec<(&String, &StoreTotals)> =
                ev.containers.iter().filter(|(a, _)| agents.matches(a)).collect();
            let pulled: u64 = matching.iter().map(|(_, t)| t.pulled_bytes).sum();
            let hits: u64 = matching.iter().map(|(_, t)| t.fetcher_cache_hits).sum();
            let held = pulled_bytes.is_none_or(|b| b == pulled) && fetcher_cache_hits.is_none_or(|h| h == hits);
            let names = matching.iter().map(|(a, _)| a.as_str()).collect::<Vec<_>>().join(", ");
            (held, format!("{names}: pulled {} ({pulled} bytes), {hits} fetcher cache hit(s)", human_bytes(pulled)))
        }
        Expect::Agent { agent, marked, times } => {
            let marks: Vec<SimTime> = ev
                .history
                .iter()
                .filter_map(|(t, h)| {
                    let (host, m) = match h {
                        MasterEvent::AgentRegistered { hostname, .. } => (hostname, AgentMark::Registered),
                        MasterEvent::AgentReregistered { hostname, .. } => (hostname, AgentMark::Reregistered),
                        MasterEvent::AgentDisconnected { hostname, .. } => (hostname, AgentMark::Disconnected),
                        MasterEvent::AgentUnreachable { hostname, .. } => (hostname, AgentMark::Unreachable),
                        _ => return None,
                    };
                    (host == agent && m == *marked).then_some(*t)
                })
                .collect();
            let hits = marks.iter().filter(|t| in_window(**t, e)).count() as u64;
            let held = match times {
                Some(n) => hits == *n,
                None => hits >= 1,
            };
            let seen = if marks.is_empty() {
                format!("the master never marked {agent} {}", marked.word())
            } else {
                format!(
                    "the master marked {agent} {} at {}",
                    marked.word(),
                    marks.iter().map(|t| t.to_string()).collect::<Vec<_>>().join(", ")
                )
            };
            (held, seen)
        }
        Expect::Leader { master, at } => {
            super::leadership::judge_leader(master.as_deref(), *at, |t| in_window(t, e), ev)
        }
        Expect::Failover { at_most } => super::leadership::judge_failovers(*at_most, |t| in_window(t, e), ev),
        Expect::Count { what, at_least, at_most, .. } => {
            let (n, first_last) = tally.map_or((0, None), |t| (t.n(), t.first_last));
            let held = at_least.is_none_or(|a| n >= a) && at_most.is_none_or(|b| n <= b);
            let unit = if is_task_state(what) { "task(s)" } else { "message(s)" };
            let seen = match first_last {
                Some((f, l)) if f == l => format!("saw {n} {unit}, at {f}"),
                Some((f, l)) => format!("saw {n} {unit}, first at {f}, last at {l}"),
                None => format!("saw {n} {unit}"),
            };
            (held, seen)
        }
    };
    Verdict { label: e.label.clone(), text: e.text.clone(), held, observed }
}
