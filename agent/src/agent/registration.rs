//! The agent's connection to its master (`src/slave/slave.cpp`).
//!
//! Mesos learns of its master from a detector (ZooKeeper, or a fixed `--master`);
//! here the master is [`AgentConfig::master`](super::AgentConfig::master), and the
//! detector's "master lost / master elected" news is a closed connection, a ping
//! timeout, or a ping that says the master considers the agent disconnected.
//!
//! ```text
//!   Start ─▶ start(): wait registration_delay, then Timer::Register
//!   Timer::Register ─▶ RegisterSlave (no id) or ReregisterSlave (tasks, executors,
//!                      frameworks); again after a wait drawn from [0, max],
//!                      max doubling 2 s → 1 min, until SlaveRegistered/Reregistered
//!   SlaveRegistered / SlaveReregistered ─▶ RUNNING; updates resume; ping timer armed
//!   PingSlave ─▶ PongSlave; ping timer re-armed
//!   Timer::PingTimeout / Disconnected(master) / ping(connected=false)
//!             ─▶ DISCONNECTED; updates paused; registration starts again
//! ```
//!
//! Each part mirrors one function of `Slave`: `start` is `initialize` with
//! `recover` (only the agent id is recovered), `retry_registration` is
//! `doReliableRegistration`, `on_slave_registered`/`on_slave_reregistered` are
//! `registered`/`reregistered` (the latter also answers the master's
//! reconciliation), `on_ping` is `ping`, `ping_timeout` is `pingTimeout`, and
//! `master_lost` is `detected` after the detector reported a change.

use super::{
    Agent, Connection, ExecutorState, REGISTER_RETRY_MAX, REGISTRATION_BACKOFF_FACTOR, Timer, lost_or_dropped,
    master_ping_timeout,
};
use mesocosm_sim::proto::internal;
use mesocosm_sim::proto::mesos::v1::{self as v1, AgentId, FrameworkId, task_status};
use mesocosm_sim::{ActorId, Outbox};
use std::time::Duration;

impl Agent {
    /// `Slave::initialize` and `Slave::recover`: a restarted agent recovers only
    /// its id from the meta directory; then registration starts after the
    /// registration delay, as `Slave::detected` does.
    pub(super) fn start(&mut self, out: &mut Outbox<Timer>) {
        self.started = out.now();
        if let Some(id) = &self.cfg.recovered_id {
            // Spark's frameworks do not checkpoint, so nothing of theirs is
            // recovered: only the id, under which the agent re-registers.
            out.note_with(|| format!("recovered agent id {}; will re-register", id.value));
        }
        self.start_detection(out);
        // With a detector, registration starts once it finds the leader.
        if self.master.is_some() {
            self.start_registration(out);
        }
    }

    /// Start a registration attempt after the registration delay (`Slave::detected`
    /// waits a random [0, registration_backoff_factor] before `doReliableRegistration`).
    pub(super) fn start_registration(&mut self, out: &mut Outbox<Timer>) {
        self.register_epoch += 1;
        // `Slave::detected` calls doReliableRegistration with a maximum backoff of
        // twice registration_backoff_factor (1 s).
        out.set_timer(
            self.cfg.registration_delay,
            Timer::Register { backoff: REGISTRATION_BACKOFF_FACTOR * 2, epoch: self.register_epoch },
        );
    }

    /// [`Timer::Register`] fired: (re)send the registration and arm the next retry,
    /// unless a newer attempt started or the agent registered meanwhile.
    pub(super) fn retry_registration(&mut self, backoff: Duration, epoch: u64, out: &mut Outbox<Timer>) {
        if epoch == self.register_epoch && self.connection == Connection::Disconnected {
            self.register(out);
            // Retry until registered (`Slave::doReliableRegistration`): the
            // maximum backoff is capped at 1 min, the wait is drawn uniformly
            // from [0, maximum], and the next maximum doubles. The random
            // wait keeps thousands of agents from re-registering in lockstep
            // after a master failover.
            let max = backoff.min(REGISTER_RETRY_MAX);
            let fraction = mesocosm_sim::unit_interval(&mut self.backoff_rng);
            let wait = Duration::from_micros((max.as_micros() as f64 * fraction) as u64);
            out.set_timer(wait, Timer::Register { backoff: max * 2, epoch });
        }
    }

    /// `doReliableRegistration`: RegisterSlave without an id, else ReregisterSlave.
    fn register(&self, out: &mut Outbox<Timer>) {
        if self.id.is_none() {
            let msg = internal::RegisterSlaveMessage {
                slave: self.info(),
                version: Some(self.cfg.version.clone()),
                checkpointed_resources: vec![],
                agent_capabilities: vec![],
            };
            self.send_to_master(msg, out);
        } else {
            self.send_to_master(self.reregistration(), out);
        }
    }

    /// What a re-registering agent reports: every framework, every task with its
    /// latest state, and the executors the master tracks.
    fn reregistration(&self) -> internal::ReregisterSlaveMessage {
        let agent_id = self.id.clone().unwrap_or_default();
        let mut tasks = Vec::new();
        let mut executor_infos = Vec::new();
        for ((fid, _), ex) in &self.executors {
            for (tid, t) in &ex.tasks {
                let head = self.updates.head(&(fid.clone(), tid.clone()));
                tasks.push(v1::Task {
                    name: t.info.name.clone(),
                    task_id: t.info.task_id.clone(),
                    framework_id: FrameworkId { value: fid.clone() },
                    // `protobuf::createTask` names the executor only for a task
                    // that brought its own.
                    executor_id: (!ex.generated).then(|| ex.info.executor_id.clone()),
                    agent_id: agent_id.clone(),
                    state: t.state as i32,
                    resources: t.info.resources.clone(),
                    statuses: vec![],
                    status_update_state: head.map(|u| u.status.state),
                    status_update_uuid: head.and_then(|u| u.uuid.clone()),
                });
            }
            // Command executors are not reported: the master does not store them,
            // the agent generates them (`doReliableRegistration`). Terminated ones
            // consume nothing.
            if !ex.generated && ex.state != ExecutorState::Terminated {
                executor_infos.push(ex.info.clone());
            }
        }
        internal::ReregisterSlaveMessage {
            slave: self.info(),
            checkpointed_resources: vec![],
            executor_infos,
            tasks,
            frameworks: self.frameworks.values().map(|f| f.info.clone()).collect(),
            version: Some(self.cfg.version.clone()),
            agent_capabilities: vec![],
        }
    }

    /// `Slave::registered`.
    pub(super) fn on_slave_registered(
        &mut self,
        from: &ActorId,
        m: internal::SlaveRegisteredMessage,
        out: &mut Outbox<Timer>,
    ) {
        self.on_registered(from, m.slave_id, m.connection, false, out);
    }

    /// `Slave::reregistered`: as `registered`, then the master's reconciliation.
    pub(super) fn on_slave_reregistered(
        &mut self,
        from: &ActorId,
        m: internal::SlaveReregisteredMessage,
        out: &mut Outbox<Timer>,
    ) {
        self.on_registered(from, m.slave_id, m.connection, true, out);
        if self.master.as_ref() == Some(from) && self.connection == Connection::Running {
            self.reconcile(&m.reconciliations, out);
        }
    }

    /// `registered` / `reregistered` in DISCONNECTED: RUNNING, resume updates, and
    /// arm the ping timer in case no ping ever comes.
    fn on_registered(
        &mut self,
        from: &ActorId,
        slave_id: AgentId,
        connection: Option<internal::MasterSlaveConnection>,
        reregistered: bool,
        out: &mut Outbox<Timer>,
    ) {
        if self.master.as_ref() != Some(from) {
            out.note_with(|| format!("ignored registration reply from {from}: not the master"));
            return;
        }
        if reregistered && self.id.as_ref() != Some(&slave_id) {
            // "Re-registered but got wrong id … Committing suicide" (EXIT_FAILURE).
            out.note_with(|| format!("re-registered as {} but is {:?}; exiting", slave_id.value, self.agent_id()));
            out.exit(1);
            return;
        }
        self.master_ping_timeout = master_ping_timeout(connection.and_then(|c| c.total_ping_timeout_seconds));
        match self.connection {
            Connection::Running => {
                if self.id.as_ref() != Some(&slave_id) {
                    // "Registered but got wrong id … Committing suicide".
                    out.note_with(|| format!("registered as {} but is {:?}; exiting", slave_id.value, self.agent_id()));
                    out.exit(1);
                } else {
                    // A duplicate reply: "Already registered with master".
                    out.note("already registered; duplicate reply ignored");
                }
            }
            Connection::Disconnected => {
                out.note_with(|| {
                    let verb = if reregistered { "re-registered" } else { "registered" };
                    format!("{verb} with {from} as agent {}", slave_id.value)
                });
                self.id = Some(slave_id);
                self.connection = Connection::Running;
                for action in self.updates.resume() {
                    self.act(action, out);
                }
                self.arm_ping_timer(out);
            }
        }
    }

    /// `Slave::reregistered`: the master listed tasks it believes run here
    /// that this agent's ReregisterSlaveMessage did not. For each one the agent
    /// does not know, it sends a terminal update so the master forgets the
    /// task; one it does know (its RunTask crossed the message) needs nothing,
    /// as its own updates follow.
    fn reconcile(&mut self, reconciliations: &[internal::ReconcileTasksMessage], out: &mut Outbox<Timer>) {
        for reconcile in reconciliations {
            let fid = reconcile.framework_id.value.as_str();
            let state = lost_or_dropped(reconcile.framework.as_ref());
            for status in &reconcile.statuses {
                let tid = status.task_id.value.as_str();
                if self.knows_task(fid, tid) {
                    continue;
                }
                out.note_with(|| format!("reconciling task {tid} of framework {fid}: task unknown to the agent"));
                self.agent_update(
                    fid,
                    None,
                    tid,
                    state,
                    task_status::Reason::Reconciliation,
                    "Reconciliation: task unknown to the agent",
                    out,
                );
            }
        }
    }

    /// `Slave::ping`: a master that thinks we are disconnected while we think we
    /// are registered (a one-way partition) forces re-registration; every ping
    /// re-arms the ping timer and is answered.
    pub(super) fn on_ping(&mut self, from: &ActorId, m: internal::PingSlaveMessage, out: &mut Outbox<Timer>) {
        if !m.connected && self.connection == Connection::Running {
            self.master_lost("master says the agent is disconnected", out);
        }
        self.arm_ping_timer(out);
        out.send(from, internal::PongSlaveMessage {});
    }

    fn arm_ping_timer(&mut self, out: &mut Outbox<Timer>) {
        self.ping_epoch += 1;
        out.set_timer(self.master_ping_timeout, Timer::PingTimeout { epoch: self.ping_epoch });
    }

    /// [`Timer::PingTimeout`] fired: unless a later ping re-armed the timer,
    /// `Slave::pingTimeout` discards the master detection and re-registers.
    pub(super) fn ping_timeout(&mut self, epoch: u64, out: &mut Outbox<Timer>) {
        if epoch == self.ping_epoch && self.connection == Connection::Running {
            let secs = self.master_ping_timeout.as_secs_f64();
            self.master_lost(&format!("no ping within {secs}s"), out);
        }
    }

    /// A connection closed. Mesos's `Slave::exited` only logs; the master
    /// detector (ZooKeeper) then reports the master's loss and its successor,
    /// and the agent re-registers. The closed connection stands for that
    /// detection here.
    pub(super) fn on_disconnected(&mut self, peer: &ActorId, out: &mut Outbox<Timer>) {
        if self.master.as_ref() == Some(peer) {
            self.master_lost("connection closed", out);
        }
        // An executor's closed API stream changes nothing: its container's
        // exit is what the agent acts on.
    }

    /// The master is gone (socket closed, pings stopped, or it says we are
    /// disconnected): pause status updates and re-register.
    pub(super) fn master_lost(&mut self, why: &str, out: &mut Outbox<Timer>) {
        if self.connection == Connection::Disconnected {
            // Already (re-)registering: that attempt's retries continue.
            return;
        }
        out.note_with(|| format!("master lost ({why}); re-registering"));
        self.connection = Connection::Disconnected;
        self.updates.pause();
        self.start_registration(out);
    }
}
