//! High availability in the live cluster: the ZooKeeper ensemble, the
//! masters that contend through it, the ZooKeeper sessions that agents and
//! drivers detect the leader with, and which master leads right now.
//!
//! ```text
//!   t=0  zookeeper-001 … (running: the highest myid leads; a lost leader is re-elected)
//!        master-1 … master-N, each a contender (json.info_N); lowest N leads
//!        agents, drivers: detectors (no node of their own)
//! ```

use super::faults::{Fault, FaultSpec};
use super::run::{LiveCluster, master_id, spawn_master};
use mesocosm_master::{Master, MasterConfig};
use mesocosm_sim::{ActorId, Shared, SimTime, World};
use mesocosm_zookeeper::{SESSION_TIMEOUT, Server, ServerConfig, ZkConfig, ZkUrl};
use rand_chacha::rand_core::Rng;

/// The name that stands for the leading master when a fault fires.
pub const LEADER: &str = "leader";

/// The ensemble's servers, `server.1` first (`zookeeper-001` …).
fn ensemble(servers: u32) -> Vec<ActorId> {
    (1..=servers).map(|i| ActorId::new(mesocosm_zookeeper::server_host(i))).collect()
}

/// Spawn an ensemble of `servers` (`zookeeper-001` …), as ZooKeeper's sample
/// `zoo.cfg` configures it (tickTime 2 s, initLimit 10, syncLimit 5), each
/// told the sessions the `expire_session` faults expire. It was up before
/// Mesos starts, as operators run it: its start-up election is over (the
/// highest myid leads epoch 1); a lost leader makes it elect again. Returns
/// the servers, to read back which expiries applied.
pub(crate) fn spawn_ensemble(world: &World, servers: u32, faults: &[FaultSpec]) -> Vec<Shared<Server>> {
    let ensemble = ensemble(servers);
    let expire: Vec<(SimTime, ActorId)> = faults
        .iter()
        .filter_map(|f| match &f.fault {
            Fault::ExpireSession { client, at } => Some((SimTime::from_duration(*at), ActorId::new(client))),
            _ => None,
        })
        .collect();
    let mut cores = Vec::new();
    for (i, s) in ensemble.iter().enumerate() {
        let cfg = ServerConfig { expire: expire.clone(), ..ServerConfig::new(i + 1, ensemble.clone()) };
        let core = Shared::new(Server::running(cfg));
        world.spawn(s.clone(), core.clone(), None);
        cores.push(core);
    }
    cores
}

/// How many times each `expire_session` fault (by label) closed a session.
pub(crate) fn expiries_applied(servers: &[Shared<Server>], faults: &[FaultSpec]) -> Vec<(String, u64)> {
    let expiring = faults.iter().filter(|f| matches!(f.fault, Fault::ExpireSession { .. }));
    expiring
        .enumerate()
        .map(|(i, f)| {
            let n = servers
                .iter()
                .map(|s| s.with(|s| s.expired_by_fault().iter().filter(|j| **j == i).count()))
                .sum::<usize>();
            (f.label.clone(), n as u64)
        })
        .collect()
}

/// The session a process opens to the group at `url` with Mesos's 10 s
/// timeout. ZooKeeper's client shuffles the connect string; where this one
/// starts is drawn from the world's seed under `label`.
pub(crate) fn session(world: &World, url: &ZkUrl, label: &str) -> ZkConfig {
    let servers: Vec<ActorId> = url.hosts.iter().map(ActorId::new).collect();
    let first = (world.rng_for(&format!("{label}/zk")).next_u64() % servers.len().max(1) as u64) as usize;
    ZkConfig { servers, path: url.path.clone(), session_timeout: SESSION_TIMEOUT, first }
}

/// A framework's own session to the masters' group (`--master zk://…`): the
/// same servers and path as `group`, its start in the connect string drawn
/// under the framework's actor name.
pub(crate) fn framework_session(world: &World, group: &ZkConfig, me: &ActorId) -> ZkConfig {
    let first = (world.rng_for(&format!("scheduler:{me}/zk")).next_u64() % group.servers.len().max(1) as u64) as usize;
    ZkConfig { first, ..group.clone() }
}

impl LiveCluster {
    /// Restart ZooKeeper server `id` after a kill: it comes back empty (its
    /// disk is not modelled), goes LOOKING, learns the leader from the
    /// servers' answers to its vote and is synced by the leader's DIFF.
    pub(crate) fn restart_zookeeper(&self, world: &World, id: &ActorId) -> Option<String> {
        let ensemble = ensemble(self.zk_servers.len() as u32);
        let myid = ensemble.iter().position(|s| s == id)? + 1;
        world.spawn(id.clone(), Server::new(ServerConfig::new(myid, ensemble)), None);
        Some(format!("{id} restarts and looks for the ensemble's leader"))
    }

    /// The master leading now: a live one that believes it leads (with one
    /// master, the current incarnation if it is alive). Two may believe it
    /// for a few seconds (a deposed leader that has not noticed yet); the
    /// newest wins, as detectors follow the newest election.
    pub(crate) fn leader(&self, world: &World) -> Option<&Shared<Master>> {
        if self.contenders.is_empty() {
            return self.masters.last().filter(|_| world.is_alive(&self.master_cfg.me));
        }
        self.masters.iter().rev().find(|m| m.with(|m| m.is_leader() && world.is_alive(&m.config().me)))
    }

    /// The leading master's actor, if one leads.
    pub(crate) fn leader_actor(&self, world: &World) -> Option<ActorId> {
        self.leader(world).map(|m| m.with(|m| m.config().me.clone()))
    }

    /// Resolve a kill's victims: `leader` is whoever leads at that moment.
    pub(crate) fn resolve_leader(&self, world: &World, pattern: &str) -> Option<Vec<ActorId>> {
        (pattern == LEADER).then(|| self.leader_actor(world).into_iter().collect())
    }

    /// Restart contender `id` after a kill: a new process with a new id that
    /// contends again. What it recovers once elected is the registry's job,
    /// not a hand-over from its predecessor.
    pub(crate) fn restart_contender(&mut self, world: &World, id: &ActorId) -> Option<String> {
        let cfg = self.contenders.get(id)?.clone();
        let n = self.masters.len();
        let cfg = MasterConfig {
            id: master_id(self.seed, id.as_str(), n),
            shuffle_seed: world.rng_for(&format!("master:{id}/incarnation-{n}/shuffle")).next_u64(),
            ..cfg
        };
        let core = Shared::new(Master::new(cfg));
        spawn_master(world, id, &core, &self.cycle_times);
        self.masters.push(core);
        Some(format!("{id} restarts and contends for leadership again"))
    }
}
