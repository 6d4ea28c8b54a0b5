//! The master's lifecycle history: what happened to agents and frameworks, when.
//!
//! Mesos keeps this story in its log lines and in `/state` (registered,
//! reregistered and unreachable times per agent; registered, reregistered and
//! unregistered times per framework). mesocosm keeps it as a list of
//! [`MasterEvent`]s stamped with virtual time, which [`crate::Master::history`]
//! returns. Scenario expectations read it ("agent-2 became unreachable, then
//! re-registered from unreachable"), and [`fmt::Display`] renders one line of the
//! timeline per event.
//!
//! Only transitions are recorded, never steady-state traffic (offers, pings,
//! status updates): the history of a healthy run is one `registered` per agent
//! and one `subscribed`/`removed` pair per framework.

use mesocosm_sim::msg::short_id;
use std::fmt;

/// What an agent was, as the master saw it, when it re-registered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AgentPrior {
    /// Registered and connected: a retry, or the agent re-detected this master.
    Connected,
    /// Registered, but its connection had broken (`Master::disconnect(Slave*)`).
    Disconnected,
    /// Marked unreachable by this master (missed pongs or `agent_reregister_timeout`).
    Unreachable,
    /// Removed by this master (it unregistered, or a new agent took its address).
    Removed,
    /// Never known to this master: the master failed over since it registered.
    Unknown,
    /// In the registry this master recovered when it was elected, and not yet
    /// back: the failover case `Master::_reregisterSlave` re-admits as
    /// "Re-admitting recovered agent".
    Recovered,
}

impl fmt::Display for AgentPrior {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AgentPrior::Connected => "connected",
            AgentPrior::Disconnected => "disconnected",
            AgentPrior::Unreachable => "unreachable",
            AgentPrior::Removed => "removed",
            AgentPrior::Unknown => "unknown to this master",
            AgentPrior::Recovered => "recovered from the registry",
        })
    }
}

/// One lifecycle transition the master went through.
#[derive(Clone, Debug, PartialEq)]
pub enum MasterEvent {
    /// RegisterSlaveMessage admitted a new agent (`Master::_registerSlave`).
    AgentRegistered { agent_id: String, hostname: String },
    /// ReregisterSlaveMessage admitted or reconnected an agent; `was` says from what.
    AgentReregistered { agent_id: String, hostname: String, was: AgentPrior },
    /// The agent's connection broke (`Master::exited` → `disconnect(Slave*)`).
    AgentDisconnected { agent_id: String, hostname: String },
    /// The agent was marked unreachable (`Master::markUnreachable`); `reason`
    /// says why ("health check timed out", "agent_reregister_timeout expired").
    AgentUnreachable { agent_id: String, hostname: String, reason: String },
    /// The agent was removed for good (`Master::removeSlave`): it unregistered, or
    /// a new agent registered at its address.
    AgentRemoved { agent_id: String, hostname: String, reason: String },
    /// A SUBSCRIBE without an id: a new framework.
    FrameworkSubscribed { framework_id: String, name: String },
    /// A SUBSCRIBE with an id: a disconnected framework came back, a framework
    /// re-subscribed on its own stream, or (after a master failover) a framework
    /// this master never knew re-subscribed.
    FrameworkResubscribed { framework_id: String, name: String },
    /// A SUBSCRIBE with the id of a framework connected elsewhere: the old
    /// subscriber was told "Framework failed over" and its stream closed.
    FrameworkFailedOver { framework_id: String, name: String },
    /// The framework's connection broke; it is inactive until it re-subscribes
    /// or its failover timeout expires.
    FrameworkDisconnected { framework_id: String, name: String },
    /// A re-registering agent reported tasks of a framework this master did not
    /// know (`frameworks.recovered` after a master failover); it stays inactive
    /// until it re-subscribes.
    FrameworkRecovered { framework_id: String, name: String },
    /// The framework is gone (`Master::removeFramework`): "teardown", or
    /// "failover timeout expired (failover_timeout=0s)".
    FrameworkRemoved { framework_id: String, name: String, reason: String },
    /// The master exited (`EXIT(EXIT_FAILURE)`): its registry failed, or the
    /// recovery's agent removal limit was exceeded.
    Aborted { reason: String },
    /// A contending master's group elected it (`Master::detected` with itself
    /// as the leader); `master` is its actor name. A standalone master, which
    /// leads from its start, records nothing.
    Elected { master: String },
    /// A leading master stopped leading and exits (`Master::lostCandidacy`,
    /// or `Master::detected` naming another leader or none); `reason` is
    /// upstream's log line.
    LeadershipLost { master: String, reason: String },
}

impl fmt::Display for MasterEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MasterEvent::AgentRegistered { agent_id, hostname } => {
                write!(f, "agent {hostname} ({}) registered", short_id(agent_id))
            }
            MasterEvent::AgentReregistered { agent_id, hostname, was } => {
                write!(f, "agent {hostname} ({}) re-registered; it was {was}", short_id(agent_id))
            }
            MasterEvent::AgentDisconnected { agent_id, hostname } => {
                write!(f, "agent {hostname} ({}) disconnected", short_id(agent_id))
            }
            MasterEvent::AgentUnreachable { agent_id, hostname, reason } => {
                write!(f, "agent {hostname} ({}) unreachable: {reason}", short_id(agent_id))
            }
            MasterEvent::AgentRemoved { agent_id, hostname, reason } => {
                write!(f, "agent {hostname} ({}) removed: {reason}", short_id(agent_id))
            }
            MasterEvent::FrameworkSubscribed { framework_id, name } => {
                write!(f, "framework {name} ({}) subscribed", short_id(framework_id))
            }
            MasterEvent::FrameworkResubscribed { framework_id, name } => {
                write!(f, "framework {name} ({}) re-subscribed", short_id(framework_id))
            }
            MasterEvent::FrameworkFailedOver { framework_id, name } => {
                write!(f, "framework {name} ({}) failed over to a new scheduler", short_id(framework_id))
            }
            MasterEvent::FrameworkDisconnected { framework_id, name } => {
                write!(f, "framework {name} ({}) disconnected", short_id(framework_id))
            }
            MasterEvent::FrameworkRecovered { framework_id, name } => {
                write!(f, "framework {name} ({}) recovered from a re-registering agent", short_id(framework_id))
            }
            MasterEvent::FrameworkRemoved { framework_id, name, reason } => {
                write!(f, "framework {name} ({}) removed: {reason}", short_id(framework_id))
            }
            MasterEvent::Aborted { reason } => write!(f, "master aborted: {reason}"),
            MasterEvent::Elected { master } => write!(f, "{master} elected leader"),
            MasterEvent::LeadershipLost { master, reason } => write!(f, "{master} stops leading: {reason}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_one_timeline_line_with_short_ids() {
        let id = "11111111-2222-4333-8444-555555555555";
        let cases = [
            (
                MasterEvent::AgentReregistered {
                    agent_id: format!("{id}-S3"),
                    hostname: "agent-4".into(),
                    was: AgentPrior::Unreachable,
                },
                "agent agent-4 (S3) re-registered; it was unreachable",
            ),
            (
                MasterEvent::FrameworkRemoved {
                    framework_id: format!("{id}-0000"),
                    name: "spark-pi".into(),
                    reason: "failover timeout expired (failover_timeout=0s)".into(),
                },
                "framework spark-pi (0000) removed: failover timeout expired (failover_timeout=0s)",
            ),
            (
                MasterEvent::AgentUnreachable {
                    agent_id: format!("{id}-S0"),
                    hostname: "agent-1".into(),
                    reason: "health check timed out".into(),
                },
                "agent agent-1 (S0) unreachable: health check timed out",
            ),
        ];
        for (event, line) in cases {
            assert_eq!(event.to_string(), line);
        }
    }
}
