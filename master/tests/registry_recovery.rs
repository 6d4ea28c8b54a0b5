//! Several masters sharing a registry through the replicated log: admission
//! answered once stored, a new leader recovering the registry, the
//! 10-minute `agent_reregister_timeout`, the removal limit and rate limit,
//! with exact times. Masters talk over a 1 ms network the test drives;
//! messages to agents and frameworks are collected, not delivered.

mod common;

use common::{call, register_slave, reported_task, reregister_slave, resources, subscribe_call, updates_to};
use mesocosm_master::history::MasterEvent;
use mesocosm_master::registry::registrar::Timeouts;
use mesocosm_master::registry::replica::Disk;
use mesocosm_master::{AgentPrior, Master, MasterConfig, RegistryConfig, RemovalRate, Timer};
use mesocosm_proto::v1::TaskState;
use mesocosm_proto::{scheduler, v1};
use mesocosm_sim::{Actor, ActorId, Input, Msg, Output, SimTime};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

const HOP: Duration = Duration::from_millis(1);
const MASTERS: [&str; 3] = ["master-1", "master-2", "master-3"];

struct Cluster {
    now: SimTime,
    masters: BTreeMap<String, Master>,
    queue: BTreeMap<(SimTime, u64), (String, Input<Timer>)>,
    seq: u64,
    dead: BTreeSet<String>,
    /// What the masters sent to anyone else, and exits: (when, from, output).
    outside: Vec<(SimTime, String, Output<Timer>)>,
}

fn master_cfg(name: &str, limit: f64, rate: Option<RemovalRate>) -> MasterConfig {
    MasterConfig {
        me: ActorId::new(name),
        id: format!("{name}-id"),
        hostname: name.to_string(),
        registry: Some(RegistryConfig {
            replicas: MASTERS.iter().map(ActorId::new).collect(),
            quorum: 2,
            disk: Disk::new(),
            timeouts: Timeouts::default(),
            leader_at_start: name == "master-1",
        }),
        recovery_agent_removal_limit: limit,
        agent_removal_rate_limit: rate,
        ..MasterConfig::default()
    }
}

impl Cluster {
    fn new(limit: f64, rate: Option<RemovalRate>) -> Cluster {
        let masters = MASTERS.iter().map(|m| (m.to_string(), Master::new(master_cfg(m, limit, rate)))).collect();
        let mut c = Cluster {
            now: SimTime::ZERO,
            masters,
            queue: BTreeMap::new(),
            seq: 0,
            dead: BTreeSet::new(),
            outside: vec![],
        };
        for m in MASTERS {
            c.input(m, Input::Start);
        }
        c
    }

    fn push(&mut self, at: SimTime, to: &str, input: Input<Timer>) {
        self.seq += 1;
        self.queue.insert((at, self.seq), (to.to_string(), input));
    }

    fn input(&mut self, to: &str, input: Input<Timer>) {
        if self.dead.contains(to) {
            return;
        }
        let outs = self.masters.get_mut(to).unwrap().step(self.now, input);
        self.absorb(to, outs);
    }

    fn absorb(&mut self, from: &str, outs: Vec<Output<Timer>>) {
        for o in outs {
            match o {
                Output::SetTimer { at, timer } => self.push(at, from, Input::Timer(timer)),
                Output::Send { to, msg } if self.masters.contains_key(to.as_str()) => {
                    let input = Input::Message { from: ActorId::new(from), msg };
                    self.push(self.now.after(HOP), to.as_str(), input);
                }
                Output::Send { to, msg: Msg::PingSlave(_) } => {
                    // Live agents pong.
                    let pong = Input::Message { from: to, msg: mesocosm_proto::internal::PongSlaveMessage {}.into() };
                    self.push(self.now.after(HOP), from, pong);
                }
                Output::Exit { status } => {
                    self.dead.insert(from.to_string());
                    self.outside.push((self.now, from.to_string(), Output::Exit { status }));
                }
                o @ Output::Send { .. } => self.outside.push((self.now, from.to_string(), o)),
                _ => {}
            }
        }
    }

    fn run_to(&mut self, t: SimTime) {
        while let Some((&(at, seq), _)) = self.queue.first_key_value() {
            if at > t {
                break;
            }
            let (to, input) = self.queue.remove(&(at, seq)).unwrap();
            self.now = at;
            self.input(&to, input);
        }
        self.now = t;
    }

    fn msg(&mut self, from: &str, to: &str, msg: impl Into<Msg>) {
        self.input(to, Input::Message { from: ActorId::new(from), msg: msg.into() });
    }

    fn kill(&mut self, m: &str) {
        self.dead.insert(m.to_string());
    }

    fn elect(&mut self, m: &str) {
        let now = self.now;
        let mut out = mesocosm_sim::Outbox::new(now);
        self.masters.get_mut(m).unwrap().elected(now, &mut out);
        let outs = out.take();
        self.absorb(m, outs);
    }

    /// Messages sent to `to` (an agent or framework), with when.
    fn sent_to(&self, to: &str) -> Vec<(SimTime, Msg)> {
        self.outside
            .iter()
            .filter_map(|(at, _, o)| match o {
                Output::Send { to: t, msg } if t.as_str() == to => Some((*at, msg.clone())),
                _ => None,
            })
            .collect()
    }

    fn outputs_since(&self, n: usize) -> Vec<Output<Timer>> {
        self.outside[n..].iter().map(|(_, _, o)| o.clone()).collect()
    }
}

fn at_ms(ms: u64) -> SimTime {
    SimTime(ms * 1000)
}

/// The first leader admits agent-1..3 at 1 s: id `master-1-id-S{n}`.
fn cluster_with_three_agents(limit: f64, rate: Option<RemovalRate>) -> Cluster {
    let mut c = Cluster::new(limit, rate);
    c.run_to(at_ms(1000));
    for n in 1..=3 {
        c.msg(&format!("agent-{n}"), "master-1", register_slave(&format!("agent-{n}"), 4.0, 4096.0));
    }
    c.run_to(at_ms(2000));
    c
}

fn agent(n: u64) -> String {
    format!("master-1-id-S{}", n - 1)
}

fn failures_to(c: &Cluster, actor: &str) -> Vec<(SimTime, String)> {
    c.sent_to(actor)
        .into_iter()
        .filter_map(|(at, m)| match m {
            Msg::SchedulerEvent(e) => e.failure.and_then(|f| f.agent_id).map(|a| (at, a.value)),
            _ => None,
        })
        .collect()
}

#[test]
fn an_agent_is_answered_only_once_its_admission_is_stored() {
    let mut c = Cluster::new(1.0, None);
    c.run_to(at_ms(1000));
    assert!(c.masters["master-1"].registry().is_some_and(|r| r.master.is_some()), "recovered at 24 ms");
    let before = c.outside.len();
    c.msg("agent-1", "master-1", register_slave("agent-1", 4.0, 4096.0));
    assert!(c.outputs_since(before).is_empty(), "nothing for the agent before AdmitSlave is stored");
    c.run_to(at_ms(2000));
    let registered: Vec<_> =
        c.sent_to("agent-1").into_iter().filter(|(_, m)| m.kind() == "SlaveRegisteredMessage").collect();
    // The local replica's write (10 ms) and one remote's (1 + 10 + 1 ms).
    assert_eq!(registered.len(), 1);
    assert_eq!(registered[0].0, at_ms(1012));
    let admitted: Vec<_> = c.masters["master-2"].registry().map(|_| ()).into_iter().collect::<Vec<_>>();
    assert_eq!(admitted.len(), 1);
}

/// master-1 dies at 10 s, master-2 is elected then; agent-1 comes back, the
/// framework subscribes at 11 s; agents 2 and 3 never return.
fn failover(c: &mut Cluster) -> String {
    c.run_to(at_ms(10_000));
    c.kill("master-1");
    c.elect("master-2");
    c.run_to(at_ms(11_000));
    let r = c.masters["master-2"].registry().cloned().unwrap();
    let hosts: Vec<_> = r.slaves.iter().flat_map(|s| &s.slaves).map(|s| s.info.hostname.clone()).collect();
    assert_eq!(hosts, ["agent-1", "agent-2", "agent-3"]);
    assert_eq!(r.master.map(|m| m.info.id), Some("master-2-id".to_string()));
    c.msg("driver:spark", "master-2", subscribe_call("spark", false));
    let fid = c
        .sent_to("driver:spark")
        .into_iter()
        .find_map(|(_, m)| match m {
            Msg::SchedulerEvent(e) => e.subscribed.map(|s| s.framework_id.value),
            _ => None,
        })
        .expect("SUBSCRIBED");
    // A recovered agent is in the registry already: re-admitted without a write.
    c.msg("agent-1", "master-2", reregister_slave("agent-1", &agent(1), 4.0, 4096.0, vec![], vec![]));
    let back = c.sent_to("agent-1");
    assert_eq!(back.last().map(|(at, m)| (*at, m.kind())), Some((at_ms(11_000), "SlaveReregisteredMessage")));
    fid
}

fn reconcile(fid: &str, task: &str, agent: &str) -> scheduler::Call {
    let mut c = call(fid, scheduler::call::Type::Reconcile);
    c.reconcile = Some(scheduler::call::Reconcile {
        tasks: vec![scheduler::call::reconcile::Task {
            task_id: v1::TaskId { value: task.into() },
            agent_id: Some(v1::AgentId { value: agent.into() }),
        }],
    });
    c
}

fn states(c: &Cluster) -> Vec<TaskState> {
    let outs: Vec<Output<Timer>> = c.outside.iter().map(|(_, _, o)| o.clone()).collect();
    updates_to(&outs, "driver:spark").iter().map(|u| u.state()).collect()
}

#[test]
fn a_new_leader_marks_silent_agents_unreachable_10_minutes_after_recovering() {
    let mut c = cluster_with_three_agents(1.0, None);
    let fid = failover(&mut c);
    // Until agent-2 re-registers or is marked unreachable, reconciling its
    // tasks answers nothing.
    c.msg("driver:spark", "master-2", reconcile(&fid, "t2", &agent(2)));
    assert!(states(&c).is_empty());
    // Recovered at 10.024 s (promise round 12 ms, MasterInfo store 12 ms);
    // the timeout fires at 610.024 s; each MarkSlaveUnreachable is one store
    // (the second queued behind the first): FAILURE at +12 ms, and at +34 ms,
    // as every replica's disk first writes the LearnedMessage of the first
    // (10 ms) before the second's write.
    c.run_to(SimTime::from_secs(700));
    assert_eq!(failures_to(&c, "driver:spark"), [(at_ms(610_036), agent(2)), (at_ms(610_058), agent(3))]);
    let r = c.masters["master-2"].registry().unwrap();
    let unreachable: Vec<_> = r.unreachable.iter().flat_map(|u| &u.slaves).map(|u| u.id.value.clone()).collect();
    assert_eq!(unreachable, [agent(2), agent(3)]);
    let events: Vec<_> = c.masters["master-2"]
        .history()
        .iter()
        .filter_map(|(at, e)| match e {
            MasterEvent::AgentUnreachable { hostname, reason, .. } => Some((*at, hostname.clone(), reason.clone())),
            _ => None,
        })
        .collect();
    let why = "did not reregister within 10mins after master failover".to_string();
    assert_eq!(events, [(at_ms(610_036), "agent-2".into(), why.clone()), (at_ms(610_058), "agent-3".into(), why)]);
    // Now the task's agent is unreachable: TASK_LOST (not partition-aware).
    c.msg("driver:spark", "master-2", reconcile(&fid, "t2", &agent(2)));
    assert_eq!(states(&c), [TaskState::TaskLost]);
}

#[test]
fn the_removal_rate_limit_paces_the_recovery_one_agent_per_slot() {
    let rate = RemovalRate { permits: 1, per: Duration::from_secs(20 * 60) };
    let mut c = cluster_with_three_agents(1.0, Some(rate));
    failover(&mut c);
    c.run_to(SimTime::from_secs(3600));
    // The first permit at once, the next 20 minutes later.
    assert_eq!(failures_to(&c, "driver:spark"), [(at_ms(610_036), agent(2)), (at_ms(1_810_036), agent(3))]);
}

#[test]
fn beyond_the_removal_limit_the_new_leader_aborts() {
    let mut c = cluster_with_three_agents(0.5, None);
    failover(&mut c);
    c.run_to(SimTime::from_secs(700));
    let exits: Vec<_> = c
        .outside
        .iter()
        .filter(|(_, _, o)| matches!(o, Output::Exit { .. }))
        .map(|(at, who, o)| (*at, who.clone(), o.clone()))
        .collect();
    assert_eq!(exits, [(at_ms(610_024), "master-2".to_string(), Output::Exit { status: 1 })]);
    assert!(failures_to(&c, "driver:spark").is_empty(), "nobody is marked unreachable");
    let Some((_, MasterEvent::Aborted { reason })) = c.masters["master-2"].history().last() else {
        panic!("no abort recorded")
    };
    assert!(reason.starts_with("Post-recovery agent removal limit exceeded! After 10mins there were 2 ("), "{reason}");
    assert!(reason.ends_with("the configured removal limit is 50%"), "{reason}");
}

#[test]
fn a_leader_cut_off_from_the_other_masters_aborts_when_its_store_times_out() {
    let mut c = Cluster::new(1.0, None);
    c.run_to(at_ms(1000));
    c.kill("master-2");
    c.kill("master-3");
    c.msg("agent-1", "master-1", register_slave("agent-1", 4.0, 4096.0));
    c.run_to(SimTime::from_secs(60));
    assert!(c.sent_to("agent-1").is_empty(), "never admitted");
    let exit = c.outside.iter().find(|(_, _, o)| matches!(o, Output::Exit { .. })).map(|(at, w, _)| (*at, w.clone()));
    assert_eq!(exit, Some((at_ms(21_000), "master-1".to_string())));
    let Some((_, MasterEvent::Aborted { reason })) = c.masters["master-1"].history().last() else { panic!() };
    assert_eq!(reason, "Failed to update registry: Failed to perform store within 20secs");
}

#[test]
fn a_recovered_agent_is_re_admitted_as_recovered_and_its_tasks_get_no_update() {
    let mut c = cluster_with_three_agents(1.0, None);
    let fid = failover(&mut c);
    // agent-2 comes back after the failover with a running task of the
    // framework, which has already re-subscribed.
    let t2 = reported_task(&fid, &agent(2), "t2", TaskState::TaskRunning, &resources(1.0, 1024.0));
    c.msg("agent-2", "master-2", reregister_slave("agent-2", &agent(2), 4.0, 4096.0, vec![t2], vec![]));
    let back: Vec<_> = c.sent_to("agent-2").into_iter().map(|(at, m)| (at, m.kind())).collect();
    assert_eq!(back.last(), Some(&(at_ms(11_000), "SlaveReregisteredMessage")));
    // Both are what the registry recovered, not agents unknown to the master
    // (`Master::_reregisterSlave`: "Re-admitting recovered agent").
    let readmitted: Vec<_> = c.masters["master-2"]
        .history()
        .iter()
        .filter_map(|(_, e)| match e {
            MasterEvent::AgentReregistered { hostname, was, .. } => Some((hostname.clone(), *was)),
            _ => None,
        })
        .collect();
    assert_eq!(
        readmitted,
        [("agent-1".to_string(), AgentPrior::Recovered), ("agent-2".to_string(), AgentPrior::Recovered)]
    );
    assert_eq!(AgentPrior::Recovered.to_string(), "recovered from the registry");
    // `__reregisterSlave` sends "Unknown agent reregistered" updates only for
    // an agent that was not in the registry: the framework hears nothing…
    assert_eq!(states(&c), []);
    // …and learns the task's state by reconciling: the master knows it.
    c.msg("driver:spark", "master-2", reconcile(&fid, "t2", &agent(2)));
    assert_eq!(states(&c), [TaskState::TaskRunning]);
}
