//! Running a cluster: the live cluster (every core by incarnation, so faults
//! can kill and restart them and the judge can read them), the timed faults,
//! and the rule that says when a run is over.
//!
//! ```text
//!  t=0   master, agents spawn           at each framework's `at`: Framework::start → spawn
//!  faults: kill / restart / disconnect / partition start+heal, at their times
//!  stop: every framework exited and every timed fault done (plus LINGER), or `until`
//! ```

use super::builder::{ClusterBuilder, FrameworkEntry, Runtime};
use super::faults::{Fault, FaultSpec};
use super::framework::{Framework, FrameworkCtx};
use super::judge::Judge;
use super::probe::{CycleTimes, TimedMaster};
use super::report::{Idle, judge_run};
use super::{KILLED, LINGER, RunError};
use mesocosm_agent::{Agent, AgentConfig, ContainerConfig, RegistryEffect, RegistryFault};
use mesocosm_master::registry::replica::Disk;
use mesocosm_master::{Master, MasterConfig, RegistryConfig};
use mesocosm_sim::faults::Faults;
use mesocosm_sim::ids::{uuid_from, uuid_string};
use mesocosm_sim::trace::TraceConfig;
use mesocosm_sim::{ActorId, Shared, SimTime, World, WorldConfig, run_world};
use rand_chacha::rand_core::Rng;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How often the end of a run checks again whether the agents that were
/// re-registering have done so.
const SETTLE_POLL: Duration = Duration::from_secs(1);

/// Every core of the cluster, by incarnation.
pub(crate) struct LiveCluster {
    pub seed: u64,
    pub master_cfg: MasterConfig,
    /// Every master incarnation, oldest first (the last one is current).
    pub masters: Vec<Shared<Master>>,
    pub agents: BTreeMap<String, AgentSlot>,
    pub frameworks: BTreeMap<ActorId, FrameworkSlot>,
    /// Agents killed, and when (a killed agent's pending updates die with it).
    pub agent_deaths: Vec<(String, SimTime)>,
    /// Contending masters killed, and when (a killed leader's period ends there).
    pub master_deaths: Vec<(String, SimTime)>,
    /// The ZooKeeper servers as spawned, `server.1` first (empty: no ensemble),
    /// to read back what `expire_session` did.
    pub zk_servers: Vec<Shared<mesocosm_zookeeper::Server>>,
    /// Where every master incarnation's allocation cycle times go, if they are timed.
    pub cycle_times: Option<CycleTimes>,
    /// With several masters: each one's flags (a kill's restart contends again).
    pub contenders: BTreeMap<ActorId, MasterConfig>,
}

pub(crate) struct AgentSlot {
    pub cfg: AgentConfig,
    pub core: Shared<Agent>,
    pub incarnation: u32,
}

pub(crate) struct FrameworkSlot {
    pub name: String,
    pub at: SimTime,
    pub framework: Box<dyn Framework>,
    pub incarnation: u32,
}

pub(crate) type ClusterRef = Arc<Mutex<LiveCluster>>;

pub(crate) fn lock(c: &ClusterRef) -> std::sync::MutexGuard<'_, LiveCluster> {
    c.lock().unwrap_or_else(|p| p.into_inner())
}

/// Spawn a master incarnation, timed when a [`CycleTimes`] asks for it.
pub(crate) fn spawn_master(world: &World, id: &ActorId, core: &Shared<Master>, times: &Option<CycleTimes>) {
    match times {
        Some(t) => world.spawn(id.clone(), TimedMaster::new(core.clone(), t.clone()), None),
        None => world.spawn(id.clone(), core.clone(), None),
    }
}

/// A Mesos master's id is a fresh UUID per leader election; derive it from the
/// seed, the name and the incarnation.
pub(crate) fn master_id(seed: u64, name: &str, incarnation: usize) -> String {
    let (seed, n) = (seed.to_le_bytes(), (incarnation as u64).to_le_bytes());
    let mut parts: Vec<&[u8]> = vec![b"master", &seed, name.as_bytes()];
    if incarnation > 0 {
        parts.push(&n);
    }
    uuid_string(&uuid_from(&parts))
}

impl LiveCluster {
    /// Live agents that hold unacknowledged status updates while not
    /// registered with the master: they will send them once they re-register
    /// (agent registration backoff, then the 10 s status update retry), so a
    /// run that stops now stops too early to judge them.
    fn agents_reregistering(&self, world: &World) -> bool {
        self.leader(world).is_some()
            && self.agents.iter().any(|(name, a)| {
                world.is_alive(&ActorId::new(name))
                    && a.core.with(|a| a.unacknowledged_updates() > 0 && !a.is_registered())
            })
    }

    /// Start a framework's next incarnation (the first at its `at`).
    fn start_framework(&mut self, world: &World, id: &ActorId) {
        let master = self.master_cfg.me.clone();
        let Some(slot) = self.frameworks.get_mut(id) else { return };
        let zk = self.master_cfg.zk.as_ref();
        let ctx = FrameworkCtx::new(world, &slot.name, id, &master, slot.incarnation, &self.masters, zk);
        let process = slot.framework.start(&ctx);
        slot.incarnation += 1;
        process.spawn(world, id.clone());
    }

    /// Start a new incarnation of `id` (after a kill): the master as a new leader,
    /// an agent with the id it checkpointed, a framework as its factory says.
    fn restart(&mut self, world: &World, id: &ActorId) -> Result<String, String> {
        if let Some(what) = self.restart_contender(world, id) {
            return Ok(what);
        }
        if let Some(what) = self.restart_zookeeper(world, id) {
            return Ok(what);
        }
        if *id == self.master_cfg.me {
            let n = self.masters.len();
            // What the registry holds: every agent the last leader had
            // admitted (Mesos's replicated log survives the master process).
            let recovered_agents = self
                .masters
                .last()
                .map(|m| m.with(|m| m.agents_view().into_iter().map(|a| a.id).collect()))
                .unwrap_or_default();
            // A new leader is a new process: its own id and its own shuffle draws.
            let cfg = MasterConfig {
                recovered_agents,
                id: master_id(self.seed, id.as_str(), n),
                shuffle_seed: world.rng_for(&format!("master:{id}/incarnation-{n}/shuffle")).next_u64(),
                ..self.master_cfg.clone()
            };
            let core = Shared::new(Master::new(cfg));
            spawn_master(world, id, &core, &self.cycle_times);
            self.masters.push(core);
            return Ok(format!("{id} restarts as a new leader"));
        }
        if let Some(slot) = self.agents.get_mut(id.as_str()) {
            let recovered = slot.core.with(|a| a.checkpointed_id());
            slot.incarnation += 1;
            // Mesos agents wait a random [0, registration_backoff_factor) before
            // (re-)registering; one draw per incarnation.
            let delay = Duration::from_micros(
                world.rng_for(&format!("agent:{id}/incarnation-{}", slot.incarnation)).next_u64() % 1_000_000,
            );
            let backoff_seed =
                world.rng_for(&format!("agent:{id}/incarnation-{}/backoff", slot.incarnation)).next_u64();
            let cfg = AgentConfig {
                recovered_id: recovered.clone(),
                registration_delay: delay,
                backoff_seed,
                ..slot.cfg.clone()
            };
            slot.core = Shared::new(Agent::new(cfg));
            world.spawn(id.clone(), slot.core.clone(), None);
            return Ok(match recovered {
                Some(a) => format!("{id} restarts and recovers agent id {}", a.value),
                None => format!("{id} restarts (it had no agent id yet)"),
            });
        }
        if let Some(slot) = self.frameworks.get(id) {
            let note = slot.framework.restart_note(id);
            self.start_framework(world, id);
            return Ok(note);
        }
        Err(format!("{id} cannot be restarted"))
    }
}

/// Applies the timed faults (kill, restart, disconnect, partition start and
/// heal) at their times, recording each in the trace.
fn schedule_faults(world: &World, faults: &[FaultSpec], cluster: &ClusterRef, did_nothing: &Arc<Mutex<Vec<Idle>>>) {
    for f in faults {
        let (w, cluster, idle, label) = (world.clone(), cluster.clone(), did_nothing.clone(), f.label.clone());
        let warn_label = label.clone();
        let warn = move |text: String| {
            idle.lock().unwrap_or_else(|p| p.into_inner()).push(Idle { label: warn_label.clone(), text })
        };
        match f.fault.clone() {
            Fault::Kill { actor, at, restart_after } => {
                tokio::spawn(async move {
                    let at = SimTime::from_duration(at);
                    w.sleep_until(at).await;
                    let leader = lock(&cluster).resolve_leader(&w, actor.as_str());
                    let victims: Vec<ActorId> = match leader {
                        Some(l) => l,
                        None => w.running().into_iter().filter(|a| actor.matches(a.as_str())).collect(),
                    };
                    if victims.is_empty() {
                        warn(format!("fault {label}: kill {actor} at {at} found nothing running; it did nothing"));
                        return;
                    }
                    for v in &victims {
                        let mut c = lock(&cluster);
                        if c.agents.contains_key(v.as_str()) {
                            c.agent_deaths.push((v.to_string(), at));
                        }
                        if c.contenders.contains_key(v) {
                            c.master_deaths.push((v.to_string(), at));
                        }
                        drop(c);
                        w.kill(v, KILLED);
                        w.record_fault("kill", &label, &format!("{v} crashes (exit {KILLED}, as after SIGKILL)"));
                    }
                    let Some(r) = restart_after else { return };
                    w.sleep_until(at.after(r)).await;
                    for v in &victims {
                        let result = lock(&cluster).restart(&w, v);
                        match result {
                            Ok(what) => w.record_fault("restart", &label, &what),
                            Err(e) => warn(format!("fault {label}: {e}")),
                        }
                    }
                });
            }
            Fault::Disconnect { a, b, at } => {
                tokio::spawn(async move {
                    w.sleep_until(SimTime::from_duration(at)).await;
                    let (a, b) = (ActorId::new(&a), ActorId::new(&b));
                    if w.break_connection(&a, &b) {
                        w.record_fault("disconnect", &label, &format!("the connection between {a} and {b} breaks"));
                    } else {
                        warn(format!("fault {label}: {a} and {b} were not connected at {}; nothing to break", w.now()));
                    }
                });
            }
            Fault::Partition(p) => {
                tokio::spawn(async move {
                    w.sleep_until(p.from).await;
                    let sides = format!(
                        "{} | {}",
                        p.a.iter().map(|x| x.as_str()).collect::<Vec<_>>().join(","),
                        p.b.iter().map(|x| x.as_str()).collect::<Vec<_>>().join(",")
                    );
                    let dir = if p.one_way { "one way, first → second" } else { "both ways" };
                    w.record_fault("partition", &label, &format!("partition {sides} ({dir})"));
                    if let Some(u) = p.until {
                        w.sleep_until(u).await;
                        w.record_fault("heal", &label, &format!("partition {sides} heals"));
                    }
                });
            }
            // Applied by the ZooKeeper servers (ServerConfig::expire); the
            // trace shows when, and the report whether a session was there.
            Fault::ExpireSession { client, at } => {
                tokio::spawn(async move {
                    w.sleep_until(SimTime::from_duration(at)).await;
                    w.record_fault("expire", &label, &format!("ZooKeeper expires the session of {client}"));
                });
            }
            // Applied by the world to each message.
            Fault::Message(_) | Fault::Slow(_) => {}
            // Applied by the agents' image stores to each pull (`registry_faults_for`);
            // the trace shows when the window opens and closes.
            Fault::Registry { agents, effect, from, until } => {
                let what = match effect {
                    RegistryEffect::Unreachable => "unreachable".to_string(),
                    RegistryEffect::Slow { bandwidth_divided_by, added_latency } => format!(
                        "slow (bandwidth / {bandwidth_divided_by}, +{} per request)",
                        crate::units::format_duration(added_latency)
                    ),
                };
                tokio::spawn(async move {
                    w.sleep_until(SimTime::from_duration(from)).await;
                    w.record_fault("registry", &label, &format!("registry {what} for {}", agents.as_str()));
                    if let Some(u) = until {
                        w.sleep_until(SimTime::from_duration(u)).await;
                        w.record_fault("heal", &label, &format!("registry back to normal for {}", agents.as_str()));
                    }
                });
            }
        }
    }
}

/// When the last timed fault (kill, restart, heal) happens: the run goes on at
/// least until then, even if every framework is done.
fn last_fault_time(faults: &[FaultSpec]) -> SimTime {
    faults
        .iter()
        .map(|f| match &f.fault {
            Fault::Kill { at, restart_after, .. } => SimTime::from_duration(*at + restart_after.unwrap_or_default()),
            Fault::Disconnect { at, .. } | Fault::ExpireSession { at, .. } => SimTime::from_duration(*at),
            Fault::Partition(p) => p.until.unwrap_or(p.from),
            Fault::Message(_) | Fault::Slow(_) | Fault::Registry { .. } => SimTime::ZERO,
        })
        .max()
        .unwrap_or(SimTime::ZERO)
}

/// An agent's containerizer config with the registry faults that name it:
/// each pull request it makes inside a window sees the fault.
fn registry_faults_for(agent: &str, base: &ContainerConfig, faults: &[FaultSpec]) -> ContainerConfig {
    let mut c = base.clone();
    for spec in faults {
        if let Fault::Registry { agents, effect, from, until } = &spec.fault
            && agents.matches(agent)
        {
            c.registry_faults.push(RegistryFault {
                label: spec.label.clone(),
                from: SimTime::from_duration(*from),
                until: until.map(SimTime::from_duration),
                effect: *effect,
            });
        }
    }
    c
}

/// The world's share of the faults: message rules, partitions, slow
/// frameworks and link latencies.
fn world_faults(b: &ClusterBuilder) -> Faults {
    let mut f = Faults { links: b.links.clone(), ..Faults::default() };
    for spec in &b.faults {
        match &spec.fault {
            Fault::Message(m) => f.messages.push(m.clone()),
            Fault::Partition(p) => f.partitions.push(p.clone()),
            Fault::Slow(sl) => f.slow.push(sl.clone()),
            Fault::Kill { .. } | Fault::Disconnect { .. } | Fault::Registry { .. } | Fault::ExpireSession { .. } => {}
        }
    }
    f
}

/// Run the cluster `b` once.
pub(crate) fn run(mut b: ClusterBuilder, mut rt: Runtime) -> Result<super::Report, RunError> {
    if b.until > mesocosm_sim::MAX_VIRTUAL_TIME {
        return Err(RunError::Unsupported(format!(
            "until = {:?} is longer than the {} h a run can simulate",
            b.until,
            mesocosm_sim::MAX_VIRTUAL_TIME.as_secs() / 3600
        )));
    }
    let (seed, transport) = (b.seed, rt.transport);
    let trace = TraceConfig { digest: rt.digest, timeline: rt.timeline(), jsonl: rt.trace.take() };
    let frameworks = std::mem::take(&mut b.frameworks);
    run_world(|| async move {
        let world = World::new(WorldConfig {
            seed,
            transport,
            latency: b.latency,
            trace,
            faults: world_faults(&b),
            check_invariants: b.step_checks,
            max_steps_per_instant: WorldConfig::MAX_STEPS_PER_INSTANT,
        });
        // The judge reads every message in send order, as it is sent.
        let judge = Arc::new(Mutex::new(Judge::new(&b.expectations)));
        let sink = judge.clone();
        world.observe(Box::new(move |t, from, to, msg| {
            sink.lock().unwrap_or_else(|p| p.into_inner()).observe(t, from, to, msg)
        }));
        if let Some(o) = b.probe.observer.take() {
            world.observe(o);
        }
        let zk_servers =
            if b.zookeeper > 0 { super::ha::spawn_ensemble(&world, b.zookeeper, &b.faults) } else { Vec::new() };
        let m = &b.master;
        let names = m.names();
        let master_name = ActorId::new(&names[0]);
        let master_cfg = MasterConfig {
            me: master_name.clone(),
            id: master_id(seed, &names[0], 0),
            hostname: names[0].clone(),
            zk: m.zk.as_ref().map(|u| super::ha::session(&world, u, &format!("master:{}", names[0]))),
            allocation_interval: m.allocation_interval,
            agent_ping_timeout: m.agent_ping_timeout,
            max_agent_ping_timeouts: m.max_agent_ping_timeouts,
            offer_timeout: m.offer_timeout,
            weights: m.weights.clone(),
            filter_gpu_resources: m.filter_gpu_resources,
            role_sorter: m.role_sorter.clone(),
            framework_sorter: m.framework_sorter.clone(),
            recovery_agent_removal_limit: m.recovery_agent_removal_limit,
            agent_removal_rate_limit: m.agent_removal_rate_limit,
            // The allocator's per-cycle agent shuffle (Mesos's std::random_shuffle),
            // drawn from the root seed.
            shuffle_seed: world.rng_for(&format!("master:{}/shuffle", names[0])).next_u64(),
            // Several masters hold the registry in a replicated log, each its
            // own replica; ZooKeeper's election decides who writes.
            registry: (names.len() > 1).then(|| RegistryConfig {
                replicas: names.iter().map(ActorId::new).collect(),
                quorum: m.quorum.map_or(names.len() / 2 + 1, |q| q as usize),
                disk: Disk::new(),
                timeouts: m.registry_timeouts,
                leader_at_start: false,
            }),
            ..MasterConfig::default()
        };
        let master = Shared::new(Master::new(master_cfg.clone()));
        let cycle_times = b.probe.cycles.take();
        spawn_master(&world, &master_name, &master, &cycle_times);
        // The other masters: the same flags, their own names, ids and sessions.
        let mut masters = vec![master];
        let mut contenders = BTreeMap::new();
        if names.len() > 1 {
            contenders.insert(master_name.clone(), master_cfg.clone());
        }
        for name in names.iter().skip(1) {
            let me = ActorId::new(name);
            let cfg = MasterConfig {
                me: me.clone(),
                id: master_id(seed, name, 0),
                hostname: name.clone(),
                zk: m.zk.as_ref().map(|u| super::ha::session(&world, u, &format!("master:{name}"))),
                shuffle_seed: world.rng_for(&format!("master:{name}/shuffle")).next_u64(),
                // Its own replica (its `--work_dir`), kept across its restarts.
                registry: master_cfg.registry.clone().map(|r| RegistryConfig { disk: Disk::new(), ..r }),
                ..master_cfg.clone()
            };
            let core = Shared::new(Master::new(cfg.clone()));
            spawn_master(&world, &me, &core, &cycle_times);
            masters.push(core);
            contenders.insert(me, cfg);
        }

        let mut agents = BTreeMap::new();
        for a in &b.agents {
            // Mesos agents wait a random [0, registration_backoff_factor = 1 s) before registering.
            let delay = Duration::from_micros(world.rng_for(&format!("agent:{}", a.name)).next_u64() % 1_000_000);
            let cfg = AgentConfig {
                me: ActorId::new(&a.name),
                master: master_name.clone(),
                resources: a.resources.clone(),
                attributes: a.attributes.clone(),
                port: 5051,
                registration_delay: delay,
                version: "1.11.0".into(),
                recovered_id: None,
                backoff_seed: world.rng_for(&format!("agent:{}/backoff", a.name)).next_u64(),
                containers: registry_faults_for(&a.name, &a.containers, &b.faults),
                // `--master=zk://…` when the masters contend in ZooKeeper.
                zk: m.zk.as_ref().map(|u| super::ha::session(&world, u, &format!("agent:{}", a.name))),
            };
            let core = Shared::new(Agent::new(cfg.clone()));
            world.spawn(ActorId::new(&a.name), core.clone(), None);
            agents.insert(a.name.clone(), AgentSlot { cfg, core, incarnation: 0 });
        }
        world.set_launcher(b.programs.clone().launcher());

        let mut slots = BTreeMap::new();
        for FrameworkEntry { name, actor, at, framework } in frameworks {
            let at = SimTime::from_duration(at);
            slots.insert(actor, FrameworkSlot { name, at, framework, incarnation: 0 });
        }
        let framework_ids: Vec<ActorId> = slots.keys().cloned().collect();
        let cluster: ClusterRef = Arc::new(Mutex::new(LiveCluster {
            seed,
            master_cfg,
            masters,
            contenders,
            agents,
            frameworks: slots,
            agent_deaths: Vec::new(),
            master_deaths: Vec::new(),
            zk_servers,
            cycle_times,
        }));
        // Start each framework at its time.
        for id in &framework_ids {
            let (w, id, cluster) = (world.clone(), id.clone(), cluster.clone());
            let (at, event) = {
                let c = lock(&cluster);
                let slot = &c.frameworks[&id];
                (slot.at, slot.framework.start_event(&slot.name))
            };
            tokio::spawn(async move {
                w.sleep_until(at).await;
                w.event(&id, &event);
                lock(&cluster).start_framework(&w, &id);
            });
        }
        let did_nothing: Arc<Mutex<Vec<Idle>>> = Arc::default();
        schedule_faults(&world, &b.faults, &cluster, &did_nothing);

        let deadline = SimTime::from_duration(b.until);
        // One microsecond past the last timed fault, so a restart due at that
        // instant has run before the stop check looks at the frameworks.
        let faults_done = match b.keep_running {
            true => SimTime::from_duration(b.until),
            false => last_fault_time(&b.faults).after(Duration::from_micros(1)),
        };
        // A daemon (a service such as Spark's dispatcher) is not waited for.
        let awaited: Vec<ActorId> = {
            let c = lock(&cluster);
            framework_ids.iter().filter(|id| !c.frameworks[*id].framework.daemon()).cloned().collect()
        };
        // With a daemon the run goes on to `until`, as with `keep_running`: what
        // the service does (e.g. the drivers a dispatcher launches) is the point.
        let faults_done =
            if awaited.len() < framework_ids.len() { SimTime::from_duration(b.until) } else { faults_done };
        let done = |w: &World| w.now() >= faults_done && awaited.iter().all(|d| w.exit_of(d).is_some());
        loop {
            if done(&world) {
                // An agent still re-registering (after a master failover, a
                // partition or a restart) holds updates it has not been able to
                // send: wait for it, as the end-of-run check judges what the
                // agents hold (bounded by `until`).
                if lock(&cluster).agents_reregistering(&world) && world.now() < deadline {
                    world.sleep_until(world.now().after(SETTLE_POLL).min(deadline)).await;
                    continue;
                }
                let end = world.now().after(LINGER).min(deadline);
                world.sleep_until(end).await;
                break;
            }
            tokio::select! { biased;
                // A panic, a livelock or a transport refusal ends the run at once.
                _ = world.failed() => break,
                _ = world.exited() => {}
                _ = world.sleep_until(faults_done.max(world.now())), if world.now() < faults_done => {}
                _ = world.sleep_until(deadline) => break,
            }
        }
        let ended_at = world.now();
        judge_run(&b, &world, &cluster, &judge, &did_nothing, transport, ended_at, deadline)
    })
}
