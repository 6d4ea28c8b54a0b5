//! What a scripted framework does, as plain data: the checked form of a
//! `[[frameworks]]` table without `kind` (the scenario language's
//! `scenario/scripted.rs` reads it; Rust callers may build one directly).

use crate::spark::DurationDist;
use mesocosm_sim::proto::Resources;
use mesocosm_sim::proto::mesos::v1::TaskState;
use mesocosm_sim::proto::mesos::v1::framework_info::capability::Type as Capability;
use std::time::Duration;

/// Everything a scripted framework is told to do.
#[derive(Clone, Debug, PartialEq)]
pub struct ScriptedSpec {
    /// The FrameworkInfo it subscribes with.
    pub info: InfoSpec,
    /// Its work: groups of command tasks, arriving over time.
    pub work: Vec<WorkGroup>,
    /// How it answers an offer.
    pub offers: OfferPolicy,
    /// SUPPRESS when nothing is pending, REVIVE when work arrives.
    pub suppress: bool,
    /// Keep a held offer after its RESCIND (a scheduler that never reads
    /// RESCIND events), so its ACCEPT names a rescinded offer.
    pub ignore_rescind: bool,
    /// What it does when a task ends other than TASK_FINISHED.
    pub retry: RetryPolicy,
    /// Its reconciliation calls.
    pub reconcile: ReconcilePolicy,
    /// KILL calls of its tasks, by task id, at given times (from its start).
    pub kills: Vec<(Duration, String)>,
    /// When it sends TEARDOWN and exits.
    pub teardown: Teardown,
    /// Its wait before each re-SUBSCRIBE after the stream broke.
    pub resubscribe: Backoff,
    /// `failover_of`: subscribe with the FrameworkID of this framework's scheduler.
    pub failover_of: Option<String>,
}

/// `FrameworkInfo`'s fields a scenario sets.
#[derive(Clone, Debug, PartialEq)]
pub struct InfoSpec {
    pub user: String,
    /// `roles` (MULTI_ROLE) or, with one role and no MULTI_ROLE, the old `role`.
    pub roles: Vec<String>,
    pub capabilities: Vec<Capability>,
    pub checkpoint: bool,
    pub failover_timeout: Duration,
    pub principal: Option<String>,
}

impl Default for InfoSpec {
    /// Mesos's proto defaults: no capabilities, `checkpoint = false`,
    /// `failover_timeout = 0`, role `*` (include/mesos/v1/mesos.proto).
    fn default() -> Self {
        InfoSpec {
            user: "root".into(),
            roles: vec!["*".into()],
            capabilities: vec![],
            checkpoint: false,
            failover_timeout: Duration::ZERO,
            principal: None,
        }
    }
}

/// A group of identical command tasks, arriving `times` times, `every` apart.
#[derive(Clone, Debug, PartialEq)]
pub struct WorkGroup {
    /// Task ids are `<name>-<n>`, n counting from 0 across arrivals.
    pub name: String,
    /// Tasks per arrival.
    pub tasks: u32,
    /// What each task asks for.
    pub resources: Resources,
    /// How long each task's command sleeps.
    pub duration: DurationDist,
    /// The command's exit status (0: TASK_FINISHED, else TASK_FAILED).
    pub exit: i32,
    /// The chance that a task exits 1 instead of `exit`, drawn per launch.
    pub fail_probability: f64,
    /// When the first arrival is (from the framework's start).
    pub at: Duration,
    /// The time between arrivals (with `times` > 1).
    pub every: Duration,
    /// How many arrivals.
    pub times: u32,
}

/// How the framework answers OFFERS.
#[derive(Clone, Debug, PartialEq)]
pub enum OfferPolicy {
    /// Launch pending tasks that fit (at most `max_per_offer`), after holding
    /// the offer `think`; DECLINE an offer it launches nothing on with
    /// `refuse_seconds`.
    Launch { max_per_offer: Option<u32>, refuse_seconds: f64, think: Duration },
    /// Never answer: the offer stays outstanding until rescinded.
    Ignore,
}

/// A task that ends other than TASK_FINISHED.
#[derive(Clone, Debug, PartialEq)]
pub struct RetryPolicy {
    /// The terminal states that make it launch the task again.
    pub on: Vec<TaskState>,
    /// How many launches after the first.
    pub max: u32,
    /// Launch it again under the same task id (else `<id>.<attempt>`).
    pub same_id: bool,
}

impl Default for RetryPolicy {
    /// No retries: a framework decides what a lost task means to it.
    fn default() -> Self {
        RetryPolicy { on: vec![], max: 0, same_id: false }
    }
}

/// RECONCILE calls.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct ReconcilePolicy {
    /// An implicit RECONCILE (no tasks) every so often.
    pub implicit_every: Option<Duration>,
    /// An explicit RECONCILE of its non-terminal tasks (and `tasks`) every so often.
    pub explicit_every: Option<Duration>,
    /// Task ids it also asks about explicitly (tasks it never launched, say).
    pub tasks: Vec<String>,
}

/// When the framework ends.
#[derive(Clone, Debug, PartialEq)]
pub enum Teardown {
    /// When every arrival has come and every task is terminal for good.
    WhenDone,
    /// At this time from its start, whatever is running.
    At(Duration),
    /// Never: it runs until the scenario stops.
    Never,
}

/// A randomised doubling backoff: each wait drawn from [0, b], b doubling
/// from `initial` up to `max`.
#[derive(Clone, Debug, PartialEq)]
pub struct Backoff {
    pub initial: Duration,
    pub max: Duration,
}

impl Default for Backoff {
    /// libmesos's: `DEFAULT_REGISTRATION_BACKOFF_FACTOR` = 2 s, capped at
    /// `REGISTRATION_RETRY_INTERVAL_MAX` = 1 min (src/sched/constants.cpp).
    fn default() -> Self {
        Backoff { initial: Duration::from_secs(2), max: Duration::from_secs(60) }
    }
}

impl ScriptedSpec {
    /// A framework with Mesos's defaults and no work: it subscribes and, done
    /// at once, tears down.
    pub fn new() -> ScriptedSpec {
        ScriptedSpec {
            info: InfoSpec::default(),
            work: vec![],
            offers: OfferPolicy::Launch { max_per_offer: None, refuse_seconds: 5.0, think: Duration::ZERO },
            suppress: false,
            ignore_rescind: false,
            retry: RetryPolicy::default(),
            reconcile: ReconcilePolicy::default(),
            kills: vec![],
            teardown: Teardown::WhenDone,
            resubscribe: Backoff::default(),
            failover_of: None,
        }
    }
}

impl Default for ScriptedSpec {
    fn default() -> Self {
        ScriptedSpec::new()
    }
}
