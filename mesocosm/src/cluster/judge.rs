//! Judging a run: the cross-actor invariants and the scenario's expectations.
//!
//! Each core states its own invariants ([`mesocosm_sim::Actor::check_invariants`],
//! checked by the world after every step). What no single core can see is checked
//! here, on the log of every message handed to the network, in the order it was
//! sent; a violation is reported with the time of the message that broke it:
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
//! Expectations ([`Expectation`]) are then evaluated against the
//! same log, the master's lifecycle history and the drivers' exits.

use super::expect::{AgentMark, AppOutcome, Expect, Expectation, is_task_state};
use mesocosm_agent::StoreTotals;
use mesocosm_agent::images::human_bytes;
use mesocosm_master::MasterEvent;
use mesocosm_sim::proto::mesos::v1::TaskState;
use mesocosm_sim::proto::mesos::v1::task_status::Source as TaskSource;
use mesocosm_sim::{ActorId, Msg, SimTime};
use std::collections::{BTreeMap, BTreeSet};

/// One message as the network received it from its sender.
#[derive(Clone, Debug)]
pub struct Observed {
    pub t: SimTime,
    pub from: ActorId,
    pub to: ActorId,
    pub msg: Msg,
}

/// What a run left behind to be judged.
pub struct Evidence<'a> {
    pub messages: &'a [Observed],
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

/// The cross-actor invariants over the message log: the first violation of each, as
/// (time, invariant, problem).
pub fn check_message_invariants(ev: &Evidence) -> Vec<(SimTime, &'static str, String)> {
    let mut found: BTreeMap<&'static str, (SimTime, String)> = BTreeMap::new();
    let mut report = |t: SimTime, name: &'static str, problem: String| {
        found.entry(name).or_insert((t, problem));
    };
    // Task streams, one per launch: an agent's stream is (agent, framework,
    // task) and starts afresh with each RunTaskMessage to that agent; the
    // framework's is (framework, task, agent) and starts afresh with each ACCEPT
    // that launches the task id there (the old launch's late updates, e.g. from
    // an agent behind a healed partition, stay on the old agent's stream). Why per launch: Mesos lets a
    // framework reuse the id of a task the master no longer knows (its terminal
    // update acknowledged, or a new leader that never heard of it), and a
    // restarted Spark driver numbers its executors from 0 again under the same
    // FrameworkID (`MesosCoarseGrainedSchedulerBackend.newMesosTaskId`).
    let mut agent_view: BTreeMap<(String, String, String), TaskState> = BTreeMap::new();
    let mut framework_view: BTreeMap<(String, String, String), TaskState> = BTreeMap::new();
    // Offers: id → (framework, agent hostname); accepted (framework, hostname) pairs.
    let mut offers: BTreeMap<String, (String, String)> = BTreeMap::new();
    let mut accepted: BTreeSet<(String, String)> = BTreeSet::new();
    // Terminal updates sent by agents: uuid → (time, framework, task, agent).
    let mut terminal: BTreeMap<Vec<u8>, (SimTime, String, String, String)> = BTreeMap::new();
    let mut delivered: BTreeSet<Vec<u8>> = BTreeSet::new();

    for o in ev.messages {
        match &o.msg {
            Msg::StatusUpdate(m) => {
                let st = &m.update.status;
                let key = (o.from.to_string(), m.update.framework_id.value.clone(), st.task_id.value.clone());
                let state = st.state();
                if let Some(prev) = agent_view.get(&key)
                    && let Some(p) = transition_problem(*prev, state, false)
                {
                    report(o.t, "task state transitions", format!("task {} on {}: {p}", key.2, o.from));
                }
                agent_view.insert(key.clone(), state);
                if state.is_terminal() {
                    let uuid = m.update.uuid.clone().or_else(|| st.uuid.clone()).unwrap_or_default();
                    terminal.entry(uuid).or_insert((o.t, key.1, key.2, o.from.to_string()));
                }
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
                    let key = (o.to.to_string(), st.task_id.value.clone(), agent);
                    let state = st.state();
                    if let Some(prev) = framework_view.get(&key)
                        && let Some(p) = transition_problem(*prev, state, true)
                    {
                        report(o.t, "task state transitions", format!("{} saw task {}: {p}", o.to, key.1));
                    }
                    framework_view.insert(key, state);
                    if let Some(uuid) = &st.uuid {
                        delivered.insert(uuid.clone());
                    }
                }
                if let Some(of) = &e.offers {
                    for offer in &of.offers {
                        offers
                            .insert(offer.id.value.clone(), (offer.framework_id.value.clone(), offer.hostname.clone()));
                    }
                }
            }
            Msg::SchedulerCall(c) => {
                if let (Some(a), Some(fid)) = (&c.accept, &c.framework_id) {
                    for id in &a.offer_ids {
                        if let Some((owner, host)) = offers.get(&id.value)
                            && *owner == fid.value
                        {
                            accepted.insert((owner.clone(), host.clone()));
                        }
                    }
                    // Each task launched here starts a new stream in its framework's view.
                    for t in a.operations.iter().filter_map(|op| op.launch.as_ref()).flat_map(|l| &l.task_infos) {
                        framework_view.remove(&(o.from.to_string(), t.task_id.value.clone(), t.agent_id.value.clone()));
                    }
                }
            }
            Msg::RunTask(m) => {
                let fid = m.framework.id.as_ref().map(|f| f.value.clone()).unwrap_or_default();
                // A launch starts the task's stream on that agent afresh.
                agent_view.remove(&(o.to.to_string(), fid.clone(), m.task.task_id.value.clone()));
                if !accepted.contains(&(fid.clone(), o.to.to_string())) {
                    report(
                        o.t,
                        "only an offer's framework uses it",
                        format!(
                            "RunTaskMessage for task {} of framework {fid} went to {} without that framework accepting an offer made to it there",
                            m.task.task_id.value, o.to
                        ),
                    );
                }
            }
            _ => {}
        }
    }

    for (uuid, (t, fw, task, agent)) in &terminal {
        if delivered.contains(uuid) {
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

/// Evaluate one expectation.
pub fn evaluate(e: &Expectation, ev: &Evidence) -> Verdict {
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
        Expect::Count { what, from, to, wheres, at_least, at_most } => {
            let mut first_last: Option<(SimTime, SimTime)> = None;
            let matching = ev.messages.iter().filter(|o| {
                in_window(o.t, e)
                    && from.as_ref().is_none_or(|p| p.matches(o.from.as_str()))
                    && to.as_ref().is_none_or(|p| p.matches(o.to.as_str()))
            });
            let n = if is_task_state(what) {
                // Tasks, not messages: a retried or duplicated update counts once.
                let tasks: BTreeSet<(ActorId, String)> = matching
                    .filter(|o| matches!(o.msg, Msg::SchedulerEvent(_)))
                    .filter_map(|o| o.msg.task_status().map(|st| (o, st)))
                    .filter(|(_, st)| st.state().as_str_name() == what)
                    .filter(|(o, _)| wheres.iter().all(|(k, v)| field_matches(o.msg.field(k), v)))
                    .inspect(|(o, _)| {
                        first_last = Some(first_last.map_or((o.t, o.t), |(f, _)| (f, o.t)));
                    })
                    .map(|(o, st)| (o.to.clone(), st.task_id.value.clone()))
                    .collect();
                tasks.len() as u64
            } else {
                matching
                    .filter(|o| o.msg.kind() == what)
                    .filter(|o| wheres.iter().all(|(k, v)| field_matches(o.msg.field(k), v)))
                    .inspect(|o| {
                        first_last = Some(first_last.map_or((o.t, o.t), |(f, _)| (f, o.t)));
                    })
                    .count() as u64
            };
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
