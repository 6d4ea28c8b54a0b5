//! `registry = "unreachable" | "slow"`: the image registry misbehaves, for
//! every agent or for the agents `agents` names, between `after` and `before`.
//!
//! The agents' image stores apply it to each request a `docker pull` makes
//! inside the window (`mesocosm_agent::RegistryFault`):
//!
//! ```text
//!  unreachable ─▶ the pull's /v2/ ping is refused: docker pull exits 1 with
//!                 "dial tcp …: connect: connection refused" → TASK_FAILED,
//!                 REASON_CONTAINER_LAUNCH_FAILED
//!  slow        ─▶ bandwidth / bandwidth_divided_by, + `by` per request
//! ```
//!
//! An image already in an agent's store needs no registry (`docker inspect`
//! is local), so a window in which no pull happens did nothing and is reported.

use std::time::Duration;

use mesocosm_agent::RegistryEffect;
use mesocosm_sim::faults::Pattern;

use super::FaultCx;
use crate::check::Checker;
use crate::cluster::Fault;
use crate::script::RawFault;
use crate::script::cast::Role;
use crate::units::format_duration;

/// The keys a `registry` takes besides its own.
pub(super) const KEYS: &[&str] = &["agents", "after", "before", "by", "bandwidth_divided_by"];

/// A `registry` table, checked: the effect, agents only, a window that opens
/// before the run stops, and for `slow` at least one of `by` and
/// `bandwidth_divided_by` (a slow fault that slows nothing is a false green).
pub(super) fn check(cx: &mut Checker<'_>, f: &RawFault, k: &mut FaultCx<'_>) -> Option<Fault> {
    let (cast, until) = (k.cast, k.until);
    let v = f.registry.as_ref()?;
    let agents = match &f.agents {
        None => Pattern::any(),
        Some(a) => {
            let (p, roles) = cx.actor(cast, a)?;
            if roles.iter().any(|r| *r != Role::Agent) {
                cx.error(
                    a.span(),
                    "`agents` names agents (a hostname or a glob like \"agent-*\"): only agents pull images",
                );
                return None;
            }
            p
        }
    };
    let effect = match v.get_ref().as_str() {
        "unreachable" => {
            for (key, span) in [
                ("by", f.by.as_ref().map(|b| b.span())),
                ("bandwidth_divided_by", f.bandwidth_divided_by.as_ref().map(|b| b.span())),
            ] {
                if let Some(s) = span {
                    cx.error(
                        s,
                        format!("`{key}` slows a reachable registry; an unreachable one refuses every request"),
                    );
                    return None;
                }
            }
            RegistryEffect::Unreachable
        }
        "slow" => {
            let added_latency = cx.opt_duration(&f.by, "by").unwrap_or(Duration::ZERO);
            let divided = match &f.bandwidth_divided_by {
                None => 1,
                Some(d) if *d.get_ref() >= 1 => *d.get_ref() as u64,
                Some(d) => {
                    cx.error(
                        d.span(),
                        "`bandwidth_divided_by` must be 1 or more (the registry's bandwidth is divided by it)",
                    );
                    return None;
                }
            };
            if added_latency.is_zero() && divided == 1 {
                cx.error(
                    v.span(),
                    "a slow registry needs `by` (latency added per request, e.g. by = \"2s\") or `bandwidth_divided_by` (e.g. 10)",
                );
                return None;
            }
            RegistryEffect::Slow { bandwidth_divided_by: divided, added_latency }
        }
        other => {
            cx.error(v.span(), format!("`registry = \"{other}\"`: a registry fault is \"unreachable\" or \"slow\""));
            return None;
        }
    };
    let after = cx.opt_duration(&f.after, "after").unwrap_or(Duration::ZERO);
    if cx.starts_after_run(&f.after, after, until) {
        return None;
    }
    let before = cx.opt_duration(&f.before, "before");
    if let (Some(b), Some(bv)) = (before, &f.before)
        && b <= after
    {
        cx.error(
            bv.span(),
            format!("`before` ({}) must be later than `after` ({})", format_duration(b), format_duration(after)),
        );
        return None;
    }
    Some(Fault::Registry { agents, effect, from: after, until: before })
}
