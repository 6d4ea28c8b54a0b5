//! `partition = [[…], […]]`: cut every link between two groups of actors
//! from `at`, until `heal_after` later (or for good), both ways or
//! `one_way`. The world's fault book drops the messages that cross it
//! (`mesocosm_sim::faults::Partition`); the run's schedule records its start
//! and heal in the trace.

use std::ops::Range;

use mesocosm_sim::SimTime;
use mesocosm_sim::faults::{Partition, Pattern};

use super::FaultCx;
use crate::check::Checker;
use crate::cluster::Fault;
use crate::script::cast::Cast;
use crate::script::{RawFault, RawGroup};

/// The keys a `partition` takes besides its own.
pub(super) const KEYS: &[&str] = &["at", "heal_after", "one_way"];

/// A `partition` table, checked: two non-empty, disjoint sides, and a heal
/// after the start.
pub(super) fn check(cx: &mut Checker<'_>, f: &RawFault, k: &mut FaultCx<'_>) -> Option<Fault> {
    let (cast, at) = (k.cast, k.at);
    let v = f.partition.as_ref()?;
    let [a, b] = v.get_ref().as_slice() else {
        cx.error(
            v.span(),
            "a partition has two sides: partition = [[\"agent-2\"], [\"master\"]] or [\"agent-2\", \"master\"]",
        );
        return None;
    };
    let a = group(cx, cast, a, v.span())?;
    let b = group(cx, cast, b, v.span())?;
    if a.iter().any(|p| b.contains(p)) {
        cx.error(v.span(), "the two sides of a partition share an actor; it cannot be cut off from itself");
        return None;
    }
    let heal = cx.opt_duration(&f.heal_after, "heal_after");
    if let (Some(h), Some(d)) = (&f.heal_after, heal)
        && d.is_zero()
    {
        cx.error(h.span(), "`heal_after` must be more than 0");
        return None;
    }
    let mut p = Partition::between(a, b).starting(SimTime::from_duration(at));
    if let Some(h) = heal {
        p = p.healing(SimTime::from_duration(at + h));
    }
    if f.one_way.as_ref().is_some_and(|o| *o.get_ref()) {
        p = p.one_way();
    }
    Some(Fault::Partition(p.labelled(cx.rule_label(&v.span()))))
}

/// One side of a partition: each name resolved against the cast.
fn group(cx: &mut Checker<'_>, cast: &Cast, g: &RawGroup, span: Range<usize>) -> Option<Vec<Pattern>> {
    let names: Vec<String> = match g {
        RawGroup::One(n) => vec![n.clone()],
        RawGroup::Many(ns) => ns.clone(),
    };
    if names.is_empty() {
        cx.error(span, "a partition group is empty");
        return None;
    }
    let mut out = Vec::new();
    for n in names {
        match cast.resolve(&n) {
            Ok((p, _)) => out.push(p),
            Err(e) => {
                cx.error(span.clone(), e);
                return None;
            }
        }
    }
    Some(out)
}
