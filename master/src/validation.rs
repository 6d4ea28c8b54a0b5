//! ACCEPT validation: the checks and the words of Mesos's
//! `src/master/validation.cpp` (`validation::offer` and `validation::task`).
//!
//! Two layers, as in Mesos:
//! 1. [`offers`]: is the set of offer ids usable at all? If not, *every* LAUNCH
//!    in the call fails with TASK_LOST/TASK_DROPPED, reason
//!    `REASON_INVALID_OFFERS` and the message `Task launched with invalid
//!    offers: <error>` (`Master::accept`).
//! 2. [`task`]: is this one task launchable on what is left of the offered
//!    resources? If not, that task alone gets TASK_ERROR, reason
//!    `REASON_TASK_INVALID`, with the error as its message.
//!
//! Only the checks that mean something in mesocosm are here: no health checks,
//! kill policies, persistent volumes, reservations or task groups.
//!
//! SUBSCRIBE's FrameworkInfo is checked here too, as far as mesocosm models
//! it: [`failover_timeout`] (`validation::framework::validate`).

use mesocosm_proto::Resources;
use mesocosm_proto::v1;
use std::collections::BTreeSet;
use std::time::Duration;

/// The largest `failover_timeout` Mesos accepts: what stout's `Duration` (an
/// int64 of nanoseconds) can hold, about 292 years.
pub const MAX_FAILOVER_TIMEOUT_SECS: f64 = i64::MAX as f64 / 1e9;

/// `FrameworkInfo.failover_timeout` as a delay, checked the way
/// `validation::framework::internal::validateFailoverTimeout` checks it at
/// SUBSCRIBE: `Duration::create(seconds)` fails outside int64 nanoseconds,
/// and the subscription is refused with "The framework failover_timeout (…)
/// is invalid". Where this differs: NaN passes Mesos's range comparison and
/// then converts by undefined behaviour, so mesocosm refuses it too. A
/// negative timeout is a valid negative `Duration` whose `delay` fires at
/// once: the same as 0.
pub fn failover_timeout(info: &v1::FrameworkInfo) -> Result<Duration, String> {
    let secs = info.failover_timeout.unwrap_or(0.0);
    if secs.is_nan() || secs.abs() > MAX_FAILOVER_TIMEOUT_SECS {
        return Err(format!("The framework failover_timeout ({}) is invalid", cpp_double(secs)));
    }
    // In range, so `from_secs_f64` cannot panic.
    Ok(if secs > 0.0 { Duration::from_secs_f64(secs) } else { Duration::ZERO })
}

/// A double as C++'s `stringify` (an `ostream` at its default precision, 6
/// significant digits, `%g`) writes it: `1e+20`, `0.5`, `60`.
fn cpp_double(x: f64) -> String {
    if !x.is_finite() {
        return if x.is_nan() {
            "nan"
        } else if x > 0.0 {
            "inf"
        } else {
            "-inf"
        }
        .to_string();
    }
    let sci = format!("{x:.5e}");
    let (mantissa, exp) = sci.split_once('e').expect("`{:e}` writes an exponent");
    let exp: i32 = exp.parse().expect("`{:e}` writes an integer exponent");
    let trim = |s: String| if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.').to_string() } else { s };
    if !(-4..6).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{}e{sign}{:02}", trim(mantissa.to_string()), exp.abs())
    } else {
        let decimals = usize::try_from(5 - exp).unwrap_or(0);
        trim(format!("{x:.decimals$}"))
    }
}

/// Where an outstanding offer is: its framework and agent.
pub(crate) struct OfferPlace<'a> {
    pub framework: &'a str,
    pub agent: &'a str,
}

/// `validation::offer::validate`: unique ids, every offer outstanding, every
/// offer this framework's, all on one agent (checked in that order, as Mesos does).
pub(crate) fn offers<'a>(
    ids: &[v1::OfferId],
    lookup: impl Fn(&str) -> Option<OfferPlace<'a>>,
    framework: &str,
) -> Result<(), String> {
    if ids.is_empty() {
        return Err("No offers specified".to_string());
    }
    let mut seen = BTreeSet::new();
    for id in ids {
        if !seen.insert(id.value.as_str()) {
            return Err(format!("Duplicate offer {} in offer list", id.value));
        }
    }
    for id in ids {
        if lookup(&id.value).is_none() {
            return Err(format!("Offer {} is no longer valid", id.value));
        }
    }
    for id in ids {
        if let Some(p) = lookup(&id.value)
            && p.framework != framework
        {
            return Err(format!(
                "Offer {} has invalid framework {} while framework {} is expected",
                id.value, p.framework, framework
            ));
        }
    }
    let mut agent: Option<&str> = None;
    for id in ids {
        if let Some(p) = lookup(&id.value) {
            match agent {
                None => agent = Some(p.agent),
                Some(first) if first != p.agent => {
                    return Err(format!(
                        "Aggregated offers must belong to one single agent. Offer {} uses agent {} and agent {}",
                        id.value, p.agent, first
                    ));
                }
                Some(_) => {}
            }
        }
    }
    Ok(())
}

/// What [`task`] needs to know about the framework and the agent.
pub(crate) struct TaskContext<'a> {
    /// The framework's id (executors must carry it).
    pub framework_id: &'a str,
    /// The agent the offers are on.
    pub agent_id: &'a str,
    /// True if the framework already has a task with this id.
    pub duplicate: bool,
    /// True if the task's executor already runs on the agent (its resources are
    /// then not charged again).
    pub executor_running: bool,
    /// What is left of the offered resources.
    pub available: &'a Resources,
}

/// `validation::task::validate` for a LAUNCH task. On success, returns the
/// resources to charge: the task's, plus its executor's if the executor is new.
pub(crate) fn task(task: &v1::TaskInfo, cx: &TaskContext<'_>) -> Result<Resources, String> {
    validate_id(&task.task_id.value).map_err(|e| format!("'TaskInfo.task_id' is invalid: {e}"))?;
    if cx.duplicate {
        return Err(format!("Task has duplicate ID: {}", task.task_id.value));
    }
    if task.agent_id.value != cx.agent_id {
        return Err(format!("Task uses invalid agent {} while agent {} is expected", task.agent_id.value, cx.agent_id));
    }
    let task_resources = Resources::from_protos(&task.resources);
    if task.resources.is_empty() || task_resources.is_empty() {
        return Err("Task uses no resources".to_string());
    }
    if task.executor.is_some() == task.command.is_some() {
        return Err("Task should have at least one (but not both) of CommandInfo or ExecutorInfo present".to_string());
    }
    let mut total = task_resources;
    if let Some(executor) = &task.executor {
        match &executor.framework_id {
            None => return Err("'ExecutorInfo.framework_id' must be set".to_string()),
            Some(f) if f.value != cx.framework_id => {
                return Err(format!(
                    "ExecutorInfo has an invalid FrameworkID (Actual: {} vs Expected: {})",
                    f.value, cx.framework_id
                ));
            }
            Some(_) => {}
        }
        if executor.command.is_none() {
            return Err("'ExecutorInfo.command' must be set".to_string());
        }
        if !cx.executor_running {
            total.add(&Resources::from_protos(&executor.resources));
        }
    }
    if !cx.available.contains(&total) {
        return Err(format!("Task uses more resources {total} than available {}", cx.available));
    }
    Ok(total)
}

/// `common::validation::validateID`: not empty, not `.`/`..`, no control
/// characters or path separators (ids become sandbox directory names).
fn validate_id(id: &str) -> Result<(), String> {
    if id.is_empty() {
        return Err("ID must not be empty".to_string());
    }
    if id == "." || id == ".." {
        return Err(format!("'{id}' is disallowed"));
    }
    if id.chars().any(|c| c.is_control() || c == '/' || c == '\\') {
        return Err(format!("'{id}' contains invalid characters"));
    }
    Ok(())
}

#[cfg(test)]
mod framework_tests {
    use super::cpp_double;

    #[test]
    fn doubles_print_as_cpp_streams_print_them() {
        let cases = [(1e20, "1e+20"), (60.0, "60"), (0.5, "0.5"), (-5.0, "-5"), (1234567.0, "1.23457e+06")];
        for (x, want) in cases {
            assert_eq!(cpp_double(x), want, "{x}");
        }
        assert_eq!(cpp_double(1e-5), "1e-05");
        assert_eq!(cpp_double(f64::NAN), "nan");
        assert_eq!(cpp_double(f64::NEG_INFINITY), "-inf");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn oid(s: &str) -> v1::OfferId {
        v1::OfferId { value: s.to_string() }
    }

    fn book(id: &str) -> Option<OfferPlace<'static>> {
        match id {
            "O1" => Some(OfferPlace { framework: "F0", agent: "S0" }),
            "O2" => Some(OfferPlace { framework: "F0", agent: "S1" }),
            "O3" => Some(OfferPlace { framework: "F1", agent: "S0" }),
            "O4" => Some(OfferPlace { framework: "F0", agent: "S0" }),
            _ => None,
        }
    }

    #[test]
    fn offer_errors_in_mesos_words() {
        let cases: &[(&[&str], Result<(), &str>)] = &[
            (&["O1"], Ok(())),
            (&["O1", "O4"], Ok(())),
            (&[], Err("No offers specified")),
            (&["O1", "O1"], Err("Duplicate offer O1 in offer list")),
            (&["O9"], Err("Offer O9 is no longer valid")),
            (&["O3"], Err("Offer O3 has invalid framework F1 while framework F0 is expected")),
            (
                &["O1", "O2"],
                Err("Aggregated offers must belong to one single agent. Offer O2 uses agent S1 and agent S0"),
            ),
        ];
        for (ids, want) in cases {
            let ids: Vec<_> = ids.iter().map(|s| oid(s)).collect();
            assert_eq!(offers(&ids, book, "F0"), want.map_err(str::to_string), "{ids:?}");
        }
    }

    fn cmd_task(id: &str, cpus: f64) -> v1::TaskInfo {
        v1::TaskInfo {
            name: id.to_string(),
            task_id: v1::TaskId { value: id.to_string() },
            agent_id: v1::AgentId { value: "S0".to_string() },
            resources: Resources::scalar_of("cpus", cpus).to_protos(),
            command: Some(v1::CommandInfo { value: Some("true".to_string()), ..Default::default() }),
            ..Default::default()
        }
    }

    #[test]
    fn task_errors_in_mesos_words() {
        let avail = Resources::scalar_of("cpus", 2.0);
        let cx = |duplicate| TaskContext {
            framework_id: "F0",
            agent_id: "S0",
            duplicate,
            executor_running: false,
            available: &avail,
        };
        assert_eq!(task(&cmd_task("t", 1.5), &cx(false)), Ok(Resources::scalar_of("cpus", 1.5)));
        assert_eq!(task(&cmd_task("t", 1.5), &cx(true)), Err("Task has duplicate ID: t".to_string()));
        assert_eq!(
            task(&cmd_task("t", 3.0), &cx(false)),
            Err("Task uses more resources cpus:3 than available cpus:2".to_string())
        );
        assert_eq!(
            task(&cmd_task("a/b", 1.0), &cx(false)),
            Err("'TaskInfo.task_id' is invalid: 'a/b' contains invalid characters".to_string())
        );
        let mut none = cmd_task("t", 1.0);
        none.resources.clear();
        assert_eq!(task(&none, &cx(false)), Err("Task uses no resources".to_string()));
        let mut both = cmd_task("t", 1.0);
        both.executor = Some(v1::ExecutorInfo::default());
        assert_eq!(
            task(&both, &cx(false)),
            Err("Task should have at least one (but not both) of CommandInfo or ExecutorInfo present".to_string())
        );
        let mut elsewhere = cmd_task("t", 1.0);
        elsewhere.agent_id.value = "S7".to_string();
        assert_eq!(
            task(&elsewhere, &cx(false)),
            Err("Task uses invalid agent S7 while agent S0 is expected".to_string())
        );
    }

    #[test]
    fn a_new_executor_is_charged_with_its_first_task() {
        let avail = Resources::scalar_of("cpus", 2.0);
        let mut t = cmd_task("t", 1.0);
        t.command = None;
        t.executor = Some(v1::ExecutorInfo {
            executor_id: v1::ExecutorId { value: "e".to_string() },
            framework_id: Some(v1::FrameworkId { value: "F0".to_string() }),
            command: Some(v1::CommandInfo::default()),
            resources: Resources::scalar_of("cpus", 0.5).to_protos(),
            ..Default::default()
        });
        let mut cx = TaskContext {
            framework_id: "F0",
            agent_id: "S0",
            duplicate: false,
            executor_running: false,
            available: &avail,
        };
        assert_eq!(task(&t, &cx), Ok(Resources::scalar_of("cpus", 1.5)));
        cx.executor_running = true;
        assert_eq!(task(&t, &cx), Ok(Resources::scalar_of("cpus", 1.0)));
    }
}
