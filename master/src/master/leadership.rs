//! Who leads: a master alone, or one of several contending through ZooKeeper.
//!
//! A master started without `--zk` leads from the moment it starts (today's
//! single master, and the in-place "failover" that restarts it). With `--zk`
//! it embeds a contender [`Group`] (`src/master/contender/zookeeper.cpp`):
//! its session creates an ephemeral sequential `json.info_N` node holding its
//! `MasterInfo` as JSON, and the same group tells it who leads (the lowest N,
//! `src/master/detector/zookeeper.cpp`).
//!
//! ```text
//!   Start ──▶ Contending ──Leader{elected}──▶ Leading: Master::elected (recovery, allocation, …)
//!               │  ▲                            │
//!               │  └─ CandidacyLost (follower): │  CandidacyLost / another leader / no leader:
//!               │     contend again             ▼  exit 1 ("committing suicide!")
//!               └── Leader{other}: a backup; scheduler calls get 307 to the
//!                   leader (503 "No leader elected" when none), agent
//!                   messages are dropped
//! ```
//!
//! Why exit rather than step down (`Master::lostCandidacy`, `Master::detected`
//! in `src/master/master.cpp`): a master that stopped leading may already have
//! been replaced, and its in-memory state (offers, the frameworks it heard
//! from) is stale; Mesos lets a supervisor restart the process, which then
//! contends as a fresh backup. Here a fault's `restart_after` is the supervisor.

use super::{Master, Timer};
use crate::history::MasterEvent;
use mesocosm_proto::v1;
use mesocosm_sim::msg::short_id;
use mesocosm_sim::{ActorId, Msg, Outbox, Refusal, SimTime};
pub use mesocosm_zookeeper::ZkConfig;
use mesocosm_zookeeper::{Client, Group, GroupEvent, master_info};

/// `EXIT(EXIT_FAILURE)`: how a master that loses its leadership ends.
pub const LOST_LEADERSHIP_EXIT: i32 = 1;

/// This master's leadership state.
#[derive(Debug)]
pub(super) enum Leadership {
    /// No ZooKeeper: the only master, leading since it started.
    Standalone,
    /// A contender: `leading` once its own node is the lowest; `leader` is
    /// the leader it detected (itself included), `None` while none is known.
    Contender { group: Box<Group>, leading: bool, leader: Option<v1::MasterInfo> },
}

impl Leadership {
    pub(super) fn new(zk: Option<&ZkConfig>, info: &v1::MasterInfo) -> Leadership {
        match zk {
            None => Leadership::Standalone,
            Some(zk) => {
                let client = Client::new(zk.servers.clone(), zk.session_timeout, zk.first);
                let group = Group::new(client, &zk.path, Some(master_info::encode(info)));
                Leadership::Contender { group: Box::new(group), leading: false, leader: None }
            }
        }
    }
}

impl Master {
    /// Whether this master leads (a standalone master always does).
    pub fn is_leader(&self) -> bool {
        match &self.leadership {
            Leadership::Standalone => true,
            Leadership::Contender { leading, .. } => *leading,
        }
    }

    /// The leader this master detected (itself when it leads), if any.
    pub fn detected_leader(&self) -> Option<&v1::MasterInfo> {
        match &self.leadership {
            Leadership::Standalone => Some(&self.info),
            Leadership::Contender { leader, .. } => leader.as_ref(),
        }
    }

    /// `Input::Start`: a standalone master leads at once; a contender joins the group.
    pub(super) fn start_leadership(&mut self, out: &mut Outbox<Timer>) {
        let Leadership::Contender { group, .. } = &mut self.leadership else {
            // Without ZooKeeper, a master holding a registry replica leads
            // only if told to (`RegistryConfig::leader_at_start`).
            if self.cfg.registry.as_ref().is_none_or(|r| r.leader_at_start) {
                self.elected(out.now(), out);
            }
            return;
        };
        out.set_timer(group.tick(), Timer::ZooKeeper);
        group.start(out);
        out.note_with(|| {
            format!("master {} contends for leadership in ZooKeeper (a backup until elected)", short_id(&self.cfg.id))
        });
    }

    /// Became the leader: what a leading master runs. A standalone master
    /// runs it at Start; a contender when its group elects it.
    pub fn elected(&mut self, _now: SimTime, out: &mut Outbox<Timer>) {
        // `HierarchicalAllocatorProcess::initialize` starts the periodic loop.
        out.set_timer(self.cfg.allocation_interval, Timer::Allocation);
        if !self.recovered.is_empty() {
            // `Master::_recover`: the agents in the registry get
            // agent_reregister_timeout to come back (`recoveredSlavesTimeout`).
            out.set_timer(self.cfg.agent_reregister_timeout, Timer::RecoveredTimeout);
            out.note_with(|| {
                format!(
                    "recovered {} agent(s) from the registry; each has {:?} to re-register",
                    self.recovered.len(),
                    self.cfg.agent_reregister_timeout
                )
            });
        }
        out.note_with(|| {
            format!(
                "master {} up at {}:{}; allocating every {:?}",
                short_id(&self.cfg.id),
                self.cfg.hostname,
                self.cfg.port,
                self.cfg.allocation_interval
            )
        });
        // `Master::recover`: read the registry from the replicated log.
        self.recover_registry(out);
    }

    /// Inputs that belong to leadership rather than to the books: ZooKeeper's
    /// replies and tick, a broken connection to a server, and, while not
    /// leading, everything else (refused or dropped). `None` when handled here.
    pub(super) fn leadership_input(
        &mut self,
        input: LeadershipInput,
        out: &mut Outbox<Timer>,
    ) -> Option<LeadershipInput> {
        let Leadership::Contender { group, leading, .. } = &mut self.leadership else { return Some(input) };
        let events = match input {
            LeadershipInput::Tick => {
                out.set_timer(group.tick(), Timer::ZooKeeper);
                group.on_tick(out)
            }
            LeadershipInput::Message { from, msg: Msg::ZkReply(r) } => group.on_reply(&from, *r, out),
            LeadershipInput::Disconnected { peer } if group.client().server() == Some(&peer) => {
                group.on_disconnected(&peer, out)
            }
            // A backup's log replica answers the leader's coordinator: it is
            // its own process upstream (`src/log/replica.cpp`), not filtered
            // by the master's `_visit`.
            m @ LeadershipInput::Message {
                msg:
                    Msg::LogPromise(_)
                    | Msg::LogPromised(_)
                    | Msg::LogWrite(_)
                    | Msg::LogWritten(_)
                    | Msg::LogLearned(_)
                    | Msg::LogRecover(_)
                    | Msg::LogRecovered(_),
                ..
            } => return Some(m),
            LeadershipInput::Message { from, msg } if !*leading => {
                self.not_leading(&from, &msg, out);
                return None;
            }
            LeadershipInput::Disconnected { .. } if !*leading => return None,
            other => return Some(other),
        };
        for e in events {
            // A master that exits reads nothing more (its process is gone).
            if self.group_event(e, out) {
                break;
            }
        }
        None
    }

    /// A backup's answer to anything but ZooKeeper: the scheduler API
    /// redirects to the leader (`Master::Http::scheduler` → `redirect`), and
    /// every other message is dropped (`Master::_visit`: "All messages are
    /// filtered when non-leading").
    fn not_leading(&self, from: &ActorId, msg: &Msg, out: &mut Outbox<Timer>) {
        if let Msg::SchedulerCall(_) = msg {
            out.refuse(match self.detected_leader() {
                // A protocol-relative URL, as Mesos's redirect builds it.
                Some(l) => Refusal::TemporaryRedirect(format!(
                    "//{}:{}/api/v1/scheduler",
                    l.hostname.as_deref().unwrap_or_default(),
                    l.port
                )),
                None => Refusal::ServiceUnavailable("No leader elected".into()),
            });
            return;
        }
        out.note_with(|| format!("Dropping '{}' message from {from} since not elected yet", msg.kind()));
    }

    /// What the group said, as `Master::detected` and `Master::lostCandidacy`
    /// act on it; true when the master exits.
    fn group_event(&mut self, e: GroupEvent, out: &mut Outbox<Timer>) -> bool {
        let Leadership::Contender { leading, leader, .. } = &mut self.leadership else { return false };
        let was_leading = *leading;
        match e {
            GroupEvent::Leader { data: Some(_), elected: true } => {
                *leader = Some(self.info.clone());
                *leading = true;
                if was_leading {
                    // A ZooKeeper blip re-elected the same master.
                    out.note("Re-elected as the leading master");
                } else {
                    out.note("Elected as the leading master!");
                    self.leadership_changed(MasterEvent::Elected { master: self.cfg.me.to_string() }, out);
                    self.elected(out.now(), out);
                }
            }
            GroupEvent::Leader { data: Some(data), elected: false } => {
                match master_info::decode(&data) {
                    Ok(info) => {
                        out.note_with(|| {
                            format!(
                                "The newly elected leader is {} with id {}",
                                info.pid.as_deref().unwrap_or_default(),
                                short_id(&info.id)
                            )
                        });
                        *leader = Some(info);
                    }
                    Err(why) => {
                        out.note(format!("the leader's group data is not a MasterInfo ({why}); no leader known"));
                        *leader = None;
                    }
                }
                if was_leading {
                    *leading = false;
                    self.lose_leadership("Conceded leadership to another master... committing suicide!", out);
                    return true;
                }
            }
            GroupEvent::Leader { data: None, .. } => {
                *leader = None;
                out.note("No master was elected.");
                if was_leading {
                    *leading = false;
                    self.lose_leadership("Lost leadership after indecisive election... committing suicide!", out);
                    return true;
                }
            }
            GroupEvent::CandidacyLost { was_elected } => {
                if was_elected || was_leading {
                    *leading = false;
                    self.lose_leadership("Lost candidacy as a leader... committing suicide!", out);
                    return true;
                } else {
                    // The group starts a new session and joins again by itself.
                    out.note("Lost candidacy as a follower... Contend again");
                }
            }
        }
        false
    }
}

impl Master {
    /// Record a leadership transition in the history and put it on the
    /// timeline ("master-3  elected leader"), so a run's report can say who
    /// led when and how long each failover took.
    fn leadership_changed(&mut self, event: MasterEvent, out: &mut Outbox<Timer>) {
        let line = match &event {
            MasterEvent::Elected { .. } => "elected leader".to_string(),
            MasterEvent::LeadershipLost { reason, .. } => format!("stops leading: {reason}"),
            other => other.to_string(),
        };
        out.event(line);
        self.record(out.now(), event);
    }

    /// A leader that stopped leading exits, as upstream's `EXIT(EXIT_FAILURE)`
    /// after "committing suicide!" (see the module docs for why).
    fn lose_leadership(&mut self, reason: &str, out: &mut Outbox<Timer>) {
        out.note(reason);
        let event = MasterEvent::LeadershipLost { master: self.cfg.me.to_string(), reason: reason.to_string() };
        self.leadership_changed(event, out);
        out.exit(LOST_LEADERSHIP_EXIT);
    }
}

/// The inputs [`Master::leadership_input`] looks at first.
#[derive(Debug)]
pub(super) enum LeadershipInput {
    Tick,
    Message { from: ActorId, msg: Msg },
    Disconnected { peer: ActorId },
}
