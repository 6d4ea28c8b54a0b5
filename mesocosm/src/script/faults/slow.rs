//! `slow = "<framework>"`: a framework that thinks `think` per offer before
//! it answers, between `after` and `before`: the world's fault book holds
//! its offers (`mesocosm_sim::faults::Slow`), as a busy scheduler would.

use std::time::Duration;

use mesocosm_sim::SimTime;
use mesocosm_sim::faults::Slow;

use super::FaultCx;
use crate::check::Checker;
use crate::cluster::Fault;
use crate::script::RawFault;
use crate::script::cast::Role;

/// The keys a `slow` takes besides its own.
pub(super) const KEYS: &[&str] = &["after", "before", "think"];

/// A `slow` table, checked: a framework (only frameworks get offers), a
/// positive `think`, and a window that opens before the run stops.
pub(super) fn check(cx: &mut Checker<'_>, f: &RawFault, k: &mut FaultCx<'_>) -> Option<Fault> {
    let (cast, until) = (k.cast, k.until);
    let v = f.slow.as_ref()?;
    let (actor, roles) = cx.actor(cast, v)?;
    if roles.iter().any(|r| *r != Role::Driver) {
        cx.error(v.span(), "only a framework (driver:<app>, scheduler:<framework>) receives offers and can be slow");
        return None;
    }
    let Some(think_v) = &f.think else {
        cx.error(v.span(), "a slow framework needs `think`: the time it takes per offer, e.g. think = \"2s\"");
        return None;
    };
    let think = cx.duration(think_v, "think")?;
    if think.is_zero() {
        cx.error(think_v.span(), "`think` must be more than 0");
        return None;
    }
    let after = cx.opt_duration(&f.after, "after").unwrap_or(Duration::ZERO);
    let before = cx.opt_duration(&f.before, "before");
    if cx.starts_after_run(&f.after, after, until) {
        return None;
    }
    Some(Fault::Slow(
        Slow::actor(actor, think)
            .between(SimTime::from_duration(after), before.map(SimTime::from_duration))
            .labelled(cx.rule_label(&v.span())),
    ))
}
