//! `drop | delay | duplicate | hold = "<message kind>"`: a rule the world's
//! fault book applies to each matching message at send time
//! (`mesocosm_sim::faults::MessageFault`), filtered by sender, receiver, which
//! match (`nth`, `first`, `every`, `probability`) and a window on the send time.

use std::ops::Range;
use std::time::Duration;

use mesocosm_sim::SimTime;
use mesocosm_sim::faults::MessageFault;
use toml::Spanned;

use super::FaultCx;
use crate::check::Checker;
use crate::cluster::Fault;
use crate::script::RawFault;
use crate::units::format_duration;

/// The keys `drop` and `duplicate` take besides their own.
pub(super) const KEYS: &[&str] = &["from", "to", "nth", "first", "every", "probability", "after", "before"];

/// The keys `delay` takes: the message keys and how long (`by`).
pub(super) const DELAY_KEYS: &[&str] = &["from", "to", "nth", "first", "every", "probability", "after", "before", "by"];

/// The keys `hold` takes: the message keys and when the messages are released (`until`).
pub(super) const HOLD_KEYS: &[&str] =
    &["from", "to", "nth", "first", "every", "probability", "after", "before", "until"];

/// A `drop`, `delay`, `duplicate` or `hold` table (`k.action` says which),
/// checked: a known message kind, its own `by` / `until`, the actors, one way
/// to pick messages, and a window that opens before the run stops.
pub(super) fn check(cx: &mut Checker<'_>, f: &RawFault, k: &mut FaultCx<'_>) -> Option<Fault> {
    let (action, cast, until) = (k.action, k.cast, k.until);
    let v = match action {
        "drop" => f.drop.as_ref(),
        "delay" => f.delay.as_ref(),
        "duplicate" => f.duplicate.as_ref(),
        _ => f.hold.as_ref(),
    }?;
    let kind = cx.kind(v, true)?;
    let label = cx.rule_label(&v.span());
    let mut rule = match action {
        "drop" => MessageFault::drop(&kind),
        "duplicate" => MessageFault::duplicate(&kind),
        "delay" => {
            let Some(by) = &f.by else {
                cx.error(v.span(), "a delay needs `by`: how much later, e.g. by = \"20s\"");
                return None;
            };
            let d = cx.duration(by, "by")?;
            if d.is_zero() {
                cx.error(by.span(), "`by` must be more than 0");
                return None;
            }
            MessageFault::delay(&kind, d)
        }
        _ => {
            let Some(u) = &f.until else {
                cx.error(v.span(), "a hold needs `until`: when the messages are released, e.g. until = \"1m\"");
                return None;
            };
            let t = cx.duration(u, "until")?;
            if t >= until {
                cx.error(
                    u.span(),
                    format!(
                        "held until {}, after the run stops at {}: use `drop`",
                        format_duration(t),
                        format_duration(until)
                    ),
                );
                return None;
            }
            MessageFault::hold(&kind, SimTime::from_duration(t))
        }
    };
    if let Some(from) = &f.from {
        rule = rule.from(cx.actor(cast, from)?.0);
    }
    if let Some(to) = &f.to {
        rule = rule.to(cx.actor(cast, to)?.0);
    }
    let picks: Vec<(&str, Range<usize>)> = [
        ("nth", f.nth.as_ref().map(Spanned::span)),
        ("first", f.first.as_ref().map(Spanned::span)),
        ("every", f.every.as_ref().map(Spanned::span)),
        ("probability", f.probability.as_ref().map(Spanned::span)),
    ]
    .into_iter()
    .filter_map(|(k, s)| s.map(|s| (k, s)))
    .collect();
    if let [_, (second, s), ..] = picks.as_slice() {
        cx.error(
            s.clone(),
            format!("choose one of nth, first, every and probability (this fault also has `{second}`)"),
        );
        return None;
    }
    if let Some(n) = &f.nth {
        match u64::try_from(*n.get_ref()) {
            Ok(k) if k >= 1 => rule = rule.nth(k),
            _ => {
                cx.error(n.span(), "`nth` counts from 1 (nth = 1 is the first matching message)");
                return None;
            }
        }
    }
    if let Some(n) = &f.first {
        match u64::try_from(*n.get_ref()) {
            Ok(k) if k >= 1 => rule = rule.first(k),
            _ => {
                cx.error(n.span(), "`first` must be at least 1");
                return None;
            }
        }
    }
    if let Some(e) = &f.every {
        if !*e.get_ref() {
            cx.error(e.span(), "`every = false` picks nothing; use nth, first or probability");
            return None;
        }
        rule = rule.every();
    }
    if let Some(p) = &f.probability {
        let p_val = *p.get_ref();
        if !(p_val > 0.0 && p_val <= 1.0) {
            cx.error(p.span(), "`probability` must be in (0, 1]");
            return None;
        }
        rule = rule.with_probability(p_val);
    }
    let after = cx.opt_duration(&f.after, "after").unwrap_or(Duration::ZERO);
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
    if cx.starts_after_run(&f.after, after, until) {
        return None;
    }
    Some(Fault::Message(
        rule.between(SimTime::from_duration(after), before.map(SimTime::from_duration)).labelled(label),
    ))
}
