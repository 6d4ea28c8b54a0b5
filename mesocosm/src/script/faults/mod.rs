//! Checking `[[faults]]`: one table, one action key, checked by its kind.
//!
//! A fault kind is a table entry ([`KINDS`]): its action key, the other keys
//! it takes, and its `check`, which turns the table into a checked
//! [`Fault`](crate::cluster::Fault) or diagnostics. Each kind lives in its
//! own file with its `KEYS` and `check`:
//!
//! ```text
//!  [[faults]] ──exactly one action──▶ KINDS[action] ──only its KEYS──▶ check(cx, table, FaultCx) ──▶ Fault
//!              kill.rs · partition.rs · disconnect.rs · slow.rs · message.rs (drop, delay, duplicate, hold) · registry.rs · expire.rs
//! ```
//!
//! What every kind shares is checked here first, in this order (the order of
//! the diagnostics): exactly one action; no key the action does not take;
//! `at` before the run stops.

use std::ops::Range;
use std::time::Duration;

use toml::Spanned;

use super::RawFault;
use super::cast::Cast;
use crate::check::Checker;
use crate::cluster::{Fault, FaultSpec};
use crate::units::format_duration;

mod disconnect;
mod expire;
mod kill;
mod message;
mod partition;
mod registry;
mod slow;

/// What a kind's `check` gets besides the table.
pub(super) struct FaultCx<'c> {
    /// The actors the scenario has.
    cast: &'c Cast,
    /// The action key written (`drop`, `hold`, … share the message kind).
    action: &'static str,
    /// `at`, checked (zero when absent).
    at: Duration,
    /// When the run stops.
    until: Duration,
    /// The kills so far, in file order, to refuse killing the dead.
    deaths: &'c mut Vec<kill::Death>,
}

/// One action a `[[faults]]` table may name.
pub(super) struct FaultKind {
    /// Its key (`kill = …`).
    action: &'static str,
    /// Where the table wrote that key, if it did.
    written: fn(&RawFault) -> Option<Range<usize>>,
    /// The other keys it takes (`optional` is taken by every kind).
    keys: &'static [&'static str],
    /// The table, checked.
    check: fn(&mut Checker<'_>, &RawFault, &mut FaultCx<'_>) -> Option<Fault>,
}

/// Every fault kind, in the order the language lists them. Adding a kind is
/// one file here (its `KEYS` and `check`), one line in this table, any new
/// key in [`RawFault`] and [`written_keys`], and its checked form in
/// `cluster/faults.rs`.
const KINDS: &[FaultKind] = &[
    FaultKind { action: "kill", written: |f| span(&f.kill), keys: kill::KEYS, check: kill::check },
    FaultKind { action: "partition", written: |f| span(&f.partition), keys: partition::KEYS, check: partition::check },
    FaultKind {
        action: "disconnect",
        written: |f| span(&f.disconnect),
        keys: disconnect::KEYS,
        check: disconnect::check,
    },
    FaultKind { action: "drop", written: |f| span(&f.drop), keys: message::KEYS, check: message::check },
    FaultKind { action: "delay", written: |f| span(&f.delay), keys: message::DELAY_KEYS, check: message::check },
    FaultKind { action: "duplicate", written: |f| span(&f.duplicate), keys: message::KEYS, check: message::check },
    FaultKind { action: "hold", written: |f| span(&f.hold), keys: message::HOLD_KEYS, check: message::check },
    FaultKind { action: "slow", written: |f| span(&f.slow), keys: slow::KEYS, check: slow::check },
    FaultKind { action: "registry", written: |f| span(&f.registry), keys: registry::KEYS, check: registry::check },
    FaultKind {
        action: "expire_session",
        written: |f| span(&f.expire_session),
        keys: expire::KEYS,
        check: expire::check,
    },
];

/// Where an optional key was written.
fn span<T>(v: &Option<Spanned<T>>) -> Option<Range<usize>> {
    v.as_ref().map(Spanned::span)
}

/// Every key a `[[faults]]` table may write besides the actions and
/// `optional`, with where it was written; the order is the diagnostics' order.
fn written_keys(f: &RawFault) -> [(&'static str, Option<Range<usize>>); 17] {
    [
        ("at", f.at.as_ref().map(Spanned::span)),
        ("restart_after", f.restart_after.as_ref().map(Spanned::span)),
        ("heal_after", f.heal_after.as_ref().map(Spanned::span)),
        ("one_way", f.one_way.as_ref().map(Spanned::span)),
        ("from", f.from.as_ref().map(Spanned::span)),
        ("to", f.to.as_ref().map(Spanned::span)),
        ("nth", f.nth.as_ref().map(Spanned::span)),
        ("first", f.first.as_ref().map(Spanned::span)),
        ("every", f.every.as_ref().map(Spanned::span)),
        ("probability", f.probability.as_ref().map(Spanned::span)),
        ("after", f.after.as_ref().map(Spanned::span)),
        ("before", f.before.as_ref().map(Spanned::span)),
        ("by", f.by.as_ref().map(Spanned::span)),
        ("until", f.until.as_ref().map(Spanned::span)),
        ("think", f.think.as_ref().map(Spanned::span)),
        ("agents", f.agents.as_ref().map(Spanned::span)),
        ("bandwidth_divided_by", f.bandwidth_divided_by.as_ref().map(Spanned::span)),
    ]
}

impl Checker<'_> {
    pub(crate) fn faults(&mut self, raw: &[Spanned<RawFault>], cast: &Cast, until: Duration) -> Vec<FaultSpec> {
        let mut out = Vec::new();
        let mut deaths: Vec<kill::Death> = Vec::new();
        for f in raw {
            let span = f.span();
            let label = self.rule_label(&span);
            if let Some(mut fault) = self.fault(f.get_ref(), span.clone(), cast, until, &mut deaths) {
                // Every rule is named by its table's line, in reports and in the trace.
                match &mut fault {
                    Fault::Message(m) => m.label = label.clone(),
                    Fault::Partition(p) => p.label = label.clone(),
                    Fault::Slow(sl) => sl.label = label.clone(),
                    Fault::Kill { .. }
                    | Fault::Disconnect { .. }
                    | Fault::Registry { .. }
                    | Fault::ExpireSession { .. } => {}
                }
                let optional = f.get_ref().optional.as_ref().is_some_and(|o| *o.get_ref());
                out.push(FaultSpec { label, fault, optional });
            }
        }
        out
    }

    fn fault(
        &mut self,
        f: &RawFault,
        span: Range<usize>,
        cast: &Cast,
        until: Duration,
        deaths: &mut Vec<kill::Death>,
    ) -> Option<Fault> {
        let actions: Vec<(&'static str, Option<Range<usize>>)> =
            KINDS.iter().map(|kind| (kind.action, (kind.written)(f))).collect();
        let names: Vec<&str> = KINDS.iter().map(|kind| kind.action).collect();
        let (last, rest) = names.split_last().expect("there are fault kinds");
        let action = self.exactly_one(
            &actions,
            span,
            &format!("a fault needs one action: {} or {last}", rest.join(", ")),
            |second| format!("a fault has one action, but this one also has `{second}`; write two [[faults]] tables"),
        )?;
        let kind = KINDS.iter().find(|kind| kind.action == action)?;
        let keys = written_keys(f);
        // Keys that only some actions take: reject the others' keys, never ignore them.
        // `optional` applies to every action, so it is not in `keys`.
        let mut ok = self.only_allowed(&keys, kind.keys, &format!("a `{action}` fault"));
        let at = self.opt_duration(&f.at, "at").unwrap_or(Duration::ZERO);
        if let Some(a) = &f.at
            && at >= until
        {
            self.error(
                a.span(),
                format!(
                    "this fault at {} never happens: the run stops at {}",
                    format_duration(at),
                    format_duration(until)
                ),
            );
            ok = false;
        }
        let fault = (kind.check)(self, f, &mut FaultCx { cast, action, at, until, deaths })?;
        ok.then_some(fault)
    }

    /// A rule whose `after` is at or past `until` could never act (a false
    /// green): refuse it at its `after`.
    fn starts_after_run(&mut self, v: &Option<Spanned<String>>, after: Duration, until: Duration) -> bool {
        let Some(a) = v.as_ref().filter(|_| after >= until) else { return false };
        self.error(
            a.span(),
            format!(
                "this fault starts at {}, after the run stops at {}",
                format_duration(after),
                format_duration(until)
            ),
        );
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_takes_only_keys_a_table_can_write() {
        // A key a kind lists but `RawFault` cannot hold would never be seen;
        // a key it reads but does not list would be refused in every table.
        let empty: RawFault = toml::from_str("").expect("an empty table has the fault shape");
        let known: Vec<&str> = written_keys(&empty).iter().map(|(k, _)| *k).collect();
        let mut actions = Vec::new();
        for kind in KINDS {
            assert!(!actions.contains(&kind.action), "two kinds take the action `{}`", kind.action);
            assert!(!known.contains(&kind.action), "the action `{}` is also an ordinary key", kind.action);
            assert!((kind.written)(&empty).is_none(), "an empty table writes `{}`", kind.action);
            for key in kind.keys {
                assert!(known.contains(key), "`{}` takes `{key}`, which RawFault does not have", kind.action);
            }
            actions.push(kind.action);
        }
    }

    #[test]
    fn a_table_names_its_action_where_it_wrote_it() {
        let src = "hold = \"UPDATE\"\nuntil = \"1m\"\n";
        let f: RawFault = toml::from_str(src).expect("a hold table");
        let written: Vec<(&str, Range<usize>)> =
            KINDS.iter().filter_map(|k| (k.written)(&f).map(|s| (k.action, s))).collect();
        assert_eq!(written, [("hold", 7..15)], "{src}");
        assert_eq!(&src[7..15], "\"UPDATE\"");
    }
}
