//! What a run is expected to show, as checked data: the builder takes an
//! [`Expect`] ([`crate::cluster::ClusterBuilder::expect`]) or a located
//! [`Expectation`], and the judge (`judge.rs`) evaluates it on the run's
//! message log, the master's history and the frameworks' exits.

use mesocosm_sim::faults::Pattern;
use mesocosm_sim::proto::mesos::v1::TaskState;
use std::time::Duration;

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
    /// What the image stores of the agents matching `agents` did over the
    /// whole run, summed (`None`: not checked): bytes `docker pull`
    /// downloaded, and URIs served from the fetcher cache.
    Containers { agents: Pattern, pulled_bytes: Option<u64>, fetcher_cache_hits: Option<u64> },
    /// With several masters: `master` (`None`: no master) leads at instant
    /// `at`; without `at`, `master` is elected within the window.
    Leader { master: Option<String>, at: Option<Duration> },
    /// Every failover whose election falls in the window (the whole run
    /// without one) takes at most `at_most`, from the moment the previous
    /// leader stopped leading to the next election; at least one must happen.
    Failover { at_most: Duration },
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
    /// Every mark with the word a scenario uses for it.
    pub const ALL: [(&'static str, AgentMark); 4] = [
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

/// Whether `what` names a task state (counted per task) rather than a message kind.
pub fn is_task_state(what: &str) -> bool {
    TaskState::from_str_name(what).is_some()
}
