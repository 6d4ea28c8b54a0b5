//! `kill = "<actor or glob>"`: crash every running actor that matches at
//! `at`; with `restart_after`, start each again that much later (agents keep
//! their id and re-register, drivers re-subscribe with their framework id).
//! Applied by the run's schedule (`cluster/run.rs`), as `mesos-agent` or a
//! driver process dies under SIGKILL.

use std::time::Duration;

use super::FaultCx;
use crate::check::Checker;
use crate::cluster::Fault;
use crate::script::RawFault;
use crate::script::cast::Role;
use crate::units::format_duration;

/// The keys a `kill` takes besides its own.
pub(super) const KEYS: &[&str] = &["at", "restart_after"];

/// A kill as the conflict check sees it: an actor dead from `from` (until its restart).
pub(super) struct Death {
    name: String,
    from: Duration,
    until: Option<Duration>,
    line: usize,
}

/// A `kill` table, checked: the victims resolved, no restart of an executor,
/// no kill before the driver or scheduler exists, and no kill of an actor that
/// an earlier kill left dead (`k.deaths`, in file order).
pub(super) fn check(cx: &mut Checker<'_>, f: &RawFault, k: &mut FaultCx<'_>) -> Option<Fault> {
    let (cast, at, until) = (k.cast, k.at, k.until);
    let deaths = &mut *k.deaths;
    let v = f.kill.as_ref()?;
    let (actor, roles) = cx.actor(cast, v)?;
    let restart_after = cx.opt_duration(&f.restart_after, "restart_after");
    if let (Some(r), Some(d)) = (&f.restart_after, restart_after) {
        if d.is_zero() {
            cx.error(r.span(), "`restart_after` must be more than 0");
            return None;
        }
        if roles.contains(&Role::Executor) {
            cx.error(
                r.span(),
                "an executor cannot be restarted: Mesos agents launch executors, and Spark asks for new ones through offers",
            );
            return None;
        }
    }
    // A driver does not exist before spark-submit runs, nor a scheduler before its start.
    let schedulers = cast.apps.iter().map(|(a, t)| (format!("driver:{a}"), t, "submitted"));
    let schedulers = schedulers.chain(cast.frameworks.iter().map(|(f, t)| (format!("scheduler:{f}"), t, "started")));
    for (name, submitted, verb) in schedulers {
        if actor.matches(&name) && !actor.as_str().contains('*') && at < *submitted {
            cx.error(
                v.span(),
                format!(
                    "{name} is {verb} at {}; it cannot be killed at {}",
                    format_duration(*submitted),
                    format_duration(at)
                ),
            );
            return None;
        }
    }
    let line = cx.line_of(&v.span());
    if !actor.as_str().contains('*') {
        let name = actor.as_str().to_string();
        let until_alive = restart_after.map(|r| at + r);
        if let Some(d) = deaths.iter().find(|d| d.name == name && at >= d.from && d.until.is_none_or(|u| at < u)) {
            let why = match d.until {
                Some(u) => format!("until its restart at {}", format_duration(u)),
                None => "for the rest of the run".to_string(),
            };
            cx.error(
                v.span(),
                format!("{name} is already dead at {} (killed at line {} {why})", format_duration(at), d.line),
            );
            return None;
        }
        if let Some(u) = until_alive.filter(|u| *u >= until)
            && let Some(r) = &f.restart_after
        {
            cx.error(
                r.span(),
                format!(
                    "the restart at {} never happens: the run stops at {}",
                    format_duration(u),
                    format_duration(until)
                ),
            );
            return None;
        }
        deaths.push(Death { name, from: at, until: until_alive, line });
    }
    Some(Fault::Kill { actor, at, restart_after })
}
