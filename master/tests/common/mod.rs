//! A tiny driver for the master in tests: it keeps the virtual clock and the
//! master's timers, fires them in order, and offers builders for the messages
//! agents and schedulers send.

#![allow(dead_code)]

use mesocosm_master::{Master, MasterConfig, Timer};
use mesocosm_proto::{Resources, internal, scheduler, v1};
use mesocosm_sim::{Actor, ActorId, Input, Msg, Output, SimTime};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

pub const MASTER_ID: &str = "11111111-2222-4333-8444-555555555555";

pub fn cfg() -> MasterConfig {
    MasterConfig { id: MASTER_ID.to_string(), ..MasterConfig::default() }
}

pub fn secs(s: u64) -> SimTime {
    SimTime::ZERO.after(Duration::from_secs(s))
}

pub fn agent_id(n: u64) -> String {
    format!("{MASTER_ID}-S{n}")
}

pub fn framework_id(n: u64) -> String {
    format!("{MASTER_ID}-{n:04}")
}

pub fn offer_id(n: u64) -> String {
    format!("{MASTER_ID}-O{n}")
}

/// The master plus a clock and its pending timers.
pub struct Harness {
    pub master: Master,
    pub now: SimTime,
    timers: BTreeMap<(SimTime, u64), Timer>,
    seq: u64,
    /// Agents that do not answer pings (all others pong at once).
    pub silent: BTreeSet<String>,
}

impl Harness {
    /// A started master at time 0.
    pub fn new(cfg: MasterConfig) -> Harness {
        let mut h = Harness {
            master: Master::new(cfg),
            now: SimTime::ZERO,
            timers: BTreeMap::new(),
            seq: 0,
            silent: BTreeSet::new(),
        };
        h.input(Input::Start);
        h
    }

    /// Handle one input now; remember the timers it sets.
    pub fn input(&mut self, input: Input<Timer>) -> Vec<Output<Timer>> {
        let outs = self.master.step(self.now, input);
        for o in &outs {
            if let Output::SetTimer { at, timer } = o {
                self.timers.insert((*at, self.seq), timer.clone());
                self.seq += 1;
            }
        }
        // As a debug build's world does: the check of what the step touched,
        // then everything, so a change the books did not record fails here.
        if let Err(e) = self.master.check_step(0, true) {
            panic!("invariant broken at {}: {e}", self.now);
        }
        let pinged: Vec<ActorId> = outs
            .iter()
            .filter_map(|o| match o {
                Output::Send { to, msg: Msg::PingSlave(_) } if !self.silent.contains(to.as_str()) => Some(to.clone()),
                _ => None,
            })
            .collect();
        for agent in pinged {
            let pong = Input::Message { from: agent, msg: internal::PongSlaveMessage {}.into() };
            let extra = self.master.step(self.now, pong);
            assert!(actions(&extra).is_empty(), "a pong causes nothing");
        }
        outs
    }

    /// A message from `from` now.
    pub fn msg(&mut self, from: &str, msg: impl Into<Msg>) -> Vec<Output<Timer>> {
        self.input(Input::Message { from: ActorId::new(from), msg: msg.into() })
    }

    /// Fire every timer due up to and including `t`, in order; the clock ends at `t`.
    pub fn advance_to(&mut self, t: SimTime) -> Vec<Output<Timer>> {
        let mut all = Vec::new();
        while let Some((&(at, seq), _)) = self.timers.iter().next() {
            if at > t {
                break;
            }
            let timer = self.timers.remove(&(at, seq)).unwrap();
            self.now = at;
            all.extend(self.input(Input::Timer(timer)));
        }
        self.now = t;
        all
    }

    /// Fire what is due now (e.g. the zero-delay allocation).
    pub fn settle(&mut self) -> Vec<Output<Timer>> {
        self.advance_to(self.now)
    }

    /// Advance by `d`.
    pub fn advance(&mut self, d: Duration) -> Vec<Output<Timer>> {
        self.advance_to(self.now.after(d))
    }

    /// Register agent actor `name` (hostname = name) with cpus/mem and ports.
    pub fn add_agent(&mut self, name: &str, cpus: f64, mem: f64) -> Vec<Output<Timer>> {
        self.msg(name, register_slave(name, cpus, mem))
    }

    /// Subscribe scheduler actor `driver:<name>`; returns its framework id.
    pub fn subscribe(&mut self, name: &str) -> String {
        self.subscribe_with(name, subscribe_call(name, false))
    }

    /// Send SUBSCRIBE `call` from `driver:<name>`; returns the framework id.
    pub fn subscribe_with(&mut self, name: &str, call: scheduler::Call) -> String {
        let actor = format!("driver:{name}");
        let outs = self.msg(&actor, call);
        let sub = events_to(&outs, &actor).into_iter().find_map(|e| e.subscribed).expect("SUBSCRIBED");
        sub.framework_id.value
    }

    /// The id of the one outstanding offer on agent `agent` (an agent id).
    /// Offer ids follow the order a cycle visits the agents, which is a
    /// seeded shuffle, so tests name offers by their agent.
    pub fn offer_on(&self, agent: &str) -> String {
        let mut on: Vec<String> =
            self.master.offers_view().into_iter().filter(|o| o.agent_id == agent).map(|o| o.id).collect();
        assert_eq!(on.len(), 1, "one outstanding offer on {agent}");
        on.pop().unwrap()
    }
}

pub fn resources(cpus: f64, mem: f64) -> Resources {
    let mut r = Resources::scalar_of("cpus", cpus);
    r.add_scalar("mem", mem);
    r
}

pub fn agent_resources(cpus: f64, mem: f64) -> Resources {
    let mut r = resources(cpus, mem);
    r.add_range("ports", 31000, 32000);
    r
}

pub fn register_slave(hostname: &str, cpus: f64, mem: f64) -> internal::RegisterSlaveMessage {
    internal::RegisterSlaveMessage {
        slave: v1::AgentInfo {
            hostname: hostname.to_string(),
            port: Some(5051),
            resources: agent_resources(cpus, mem).to_protos(),
            ..Default::default()
        },
        version: Some("1.11.0".to_string()),
        ..Default::default()
    }
}

pub fn subscribe_call(name: &str, partition_aware: bool) -> scheduler::Call {
    let mut info = v1::FrameworkInfo {
        user: "spark".to_string(),
        name: name.to_string(),
        failover_timeout: Some(0.0),
        ..Default::default()
    };
    if partition_aware {
        info.capabilities.push(v1::framework_info::Capability {
            r#type: Some(v1::framework_info::capability::Type::PartitionAware as i32),
        });
    }
    scheduler::Call {
        r#type: Some(scheduler::call::Type::Subscribe as i32),
        subscribe: Some(scheduler::call::Subscribe { framework_info: info, suppressed_roles: vec![] }),
        ..Default::default()
    }
}

/// SUBSCRIBE of framework `name` in `role`: with MULTI_ROLE as
/// `FrameworkInfo.roles = [role]`, otherwise as the deprecated `FrameworkInfo.role`
/// (which Mesos requires of a framework without MULTI_ROLE).
pub fn subscribe_in_role(name: &str, role: &str, multi_role: bool) -> scheduler::Call {
    let mut c = subscribe_call(name, false);
    let info = &mut c.subscribe.as_mut().unwrap().framework_info;
    if multi_role {
        info.capabilities.push(v1::framework_info::Capability {
            r#type: Some(v1::framework_info::capability::Type::MultiRole as i32),
        });
        info.roles = vec![role.to_string()];
    } else {
        #[allow(deprecated)] // `FrameworkInfo.role` is deprecated upstream; Spark still sets it.
        {
            info.role = Some(role.to_string());
        }
    }
    c
}

pub fn call(fid: &str, ty: scheduler::call::Type) -> scheduler::Call {
    scheduler::Call {
        framework_id: Some(v1::FrameworkId { value: fid.to_string() }),
        r#type: Some(ty as i32),
        ..Default::default()
    }
}

pub fn decline(fid: &str, offers: &[&str], refuse: Option<f64>) -> scheduler::Call {
    let mut c = call(fid, scheduler::call::Type::Decline);
    c.decline = Some(scheduler::call::Decline {
        offer_ids: offers.iter().map(|o| v1::OfferId { value: o.to_string() }).collect(),
        filters: refuse.map(|s| v1::Filters { refuse_seconds: Some(s) }),
    });
    c
}

pub fn command_task(id: &str, agent: &str, res: &Resources) -> v1::TaskInfo {
    v1::TaskInfo {
        name: format!("task {id}"),
        task_id: v1::TaskId { value: id.to_string() },
        agent_id: v1::AgentId { value: agent.to_string() },
        resources: res.to_protos(),
        command: Some(v1::CommandInfo { value: Some("./run".to_string()), ..Default::default() }),
        ..Default::default()
    }
}

pub fn accept(fid: &str, offers: &[&str], tasks: Vec<v1::TaskInfo>, refuse: Option<f64>) -> scheduler::Call {
    let mut c = call(fid, scheduler::call::Type::Accept);
    c.accept = Some(scheduler::call::Accept {
        offer_ids: offers.iter().map(|o| v1::OfferId { value: o.to_string() }).collect(),
        operations: vec![v1::offer::Operation {
            r#type: Some(v1::offer::operation::Type::Launch as i32),
            launch: Some(v1::offer::operation::Launch { task_infos: tasks }),
            ..Default::default()
        }],
        filters: refuse.map(|s| v1::Filters { refuse_seconds: Some(s) }),
    });
    c
}

pub fn status_update(
    fid: &str,
    agent: &str,
    task: &str,
    state: v1::TaskState,
    uuid: &[u8],
) -> internal::StatusUpdateMessage {
    let status = v1::TaskStatus {
        task_id: v1::TaskId { value: task.to_string() },
        state: state as i32,
        source: Some(v1::task_status::Source::Executor as i32),
        agent_id: Some(v1::AgentId { value: agent.to_string() }),
        uuid: Some(uuid.to_vec()),
        ..Default::default()
    };
    internal::StatusUpdateMessage {
        update: internal::StatusUpdate {
            framework_id: v1::FrameworkId { value: fid.to_string() },
            slave_id: Some(v1::AgentId { value: agent.to_string() }),
            status,
            timestamp: 1.0,
            uuid: Some(uuid.to_vec()),
            ..Default::default()
        },
        pid: None,
    }
}

/// Outputs other than notes and the allocator's share records, for exact comparisons.
pub fn actions(outs: &[Output<Timer>]) -> Vec<Output<Timer>> {
    outs.iter().filter(|o| !matches!(o, Output::Note(_) | Output::Shares(_))).cloned().collect()
}

pub fn notes(outs: &[Output<Timer>]) -> Vec<String> {
    outs.iter()
        .filter_map(|o| match o {
            Output::Note(n) => Some(n.clone()),
            _ => None,
        })
        .collect()
}

/// The scheduler events sent to `actor`.
pub fn events_to(outs: &[Output<Timer>], actor: &str) -> Vec<scheduler::Event> {
    mesocosm_sim::sent_to(outs, actor)
        .into_iter()
        .filter_map(|m| match m {
            Msg::SchedulerEvent(e) => Some(*e),
            _ => None,
        })
        .collect()
}

/// The OFFERS events sent to `actor`, each as its list of offers.
pub fn offers_events(outs: &[Output<Timer>], actor: &str) -> Vec<Vec<v1::Offer>> {
    events_to(outs, actor).into_iter().filter_map(|e| e.offers.map(|o| o.offers)).collect()
}

/// Every offer sent to `actor`, flattened.
pub fn offers_to(outs: &[Output<Timer>], actor: &str) -> Vec<v1::Offer> {
    offers_events(outs, actor).into_iter().flatten().collect()
}

/// The statuses of the UPDATE events sent to `actor`.
pub fn updates_to(outs: &[Output<Timer>], actor: &str) -> Vec<v1::TaskStatus> {
    events_to(outs, actor).into_iter().filter_map(|e| e.update.map(|u| u.status)).collect()
}

/// The RunTask messages sent to `actor`.
pub fn run_tasks_to(outs: &[Output<Timer>], actor: &str) -> Vec<internal::RunTaskMessage> {
    mesocosm_sim::sent_to(outs, actor)
        .into_iter()
        .filter_map(|m| match m {
            Msg::RunTask(r) => Some(*r),
            _ => None,
        })
        .collect()
}

/// All messages anywhere, as (to, kind).
pub fn sends(outs: &[Output<Timer>]) -> Vec<(String, &'static str)> {
    outs.iter()
        .filter_map(|o| match o {
            Output::Send { to, msg } => Some((to.to_string(), msg.kind())),
            _ => None,
        })
        .collect()
}

/// What a Mesos agent reports of one task when it re-registers (`mesos.v1.Task`).
pub fn reported_task(fid: &str, agent: &str, task: &str, state: v1::TaskState, res: &Resources) -> v1::Task {
    v1::Task {
        name: format!("task {task}"),
        task_id: v1::TaskId { value: task.to_string() },
        framework_id: v1::FrameworkId { value: fid.to_string() },
        agent_id: v1::AgentId { value: agent.to_string() },
        state: state as i32,
        resources: res.to_protos(),
        ..Default::default()
    }
}

/// ReregisterSlaveMessage from agent `hostname` (id `agent`, cpus/mem + ports),
/// reporting `tasks` and the FrameworkInfos of `frameworks`.
pub fn reregister_slave(
    hostname: &str,
    agent: &str,
    cpus: f64,
    mem: f64,
    tasks: Vec<v1::Task>,
    frameworks: Vec<v1::FrameworkInfo>,
) -> internal::ReregisterSlaveMessage {
    let mut slave = register_slave(hostname, cpus, mem).slave;
    slave.id = Some(v1::AgentId { value: agent.to_string() });
    internal::ReregisterSlaveMessage {
        slave,
        tasks,
        frameworks,
        version: Some("1.11.0".to_string()),
        ..Default::default()
    }
}

/// The FrameworkInfo an agent reports for framework `fid` named `name`.
pub fn framework_info(fid: &str, name: &str, partition_aware: bool) -> v1::FrameworkInfo {
    let mut info = subscribe_call(name, partition_aware).subscribe.unwrap().framework_info;
    info.id = Some(v1::FrameworkId { value: fid.to_string() });
    info
}

/// SUBSCRIBE carrying framework id `fid` (a re-subscription).
pub fn resubscribe_call(fid: &str, name: &str, partition_aware: bool) -> scheduler::Call {
    let mut c = subscribe_call(name, partition_aware);
    c.framework_id = Some(v1::FrameworkId { value: fid.to_string() });
    c.subscribe.as_mut().unwrap().framework_info.id = c.framework_id.clone();
    c
}

/// `Output::Send` of `msg` to `to`, for comparing with a step's outputs.
pub fn send(to: &str, msg: impl Into<Msg>) -> Output<Timer> {
    Output::Send { to: ActorId::new(to), msg: msg.into() }
}

/// `Output::SetTimer`.
pub fn timer(at: SimTime, timer: Timer) -> Output<Timer> {
    Output::SetTimer { at, timer }
}

/// An empty scheduler event of type `ty`.
pub fn ev(ty: scheduler::event::Type) -> scheduler::Event {
    scheduler::Event { r#type: Some(ty as i32), ..Default::default() }
}

/// An ERROR event with `message`.
pub fn error(message: &str) -> scheduler::Event {
    let mut e = ev(scheduler::event::Type::Error);
    e.error = Some(scheduler::event::Error { message: message.to_string() });
    e
}
