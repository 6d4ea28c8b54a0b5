//! Resource arithmetic over Mesos `Resource` lists.
//!
//! The master, agents and the Spark backend all add, subtract and compare
//! resources; this module is the one place that does it. Scalars are kept in
//! thousandths, as Mesos does (`Value::Scalar` arithmetic is fixed-point with three
//! decimal digits), so `0.1 + 0.2` cpus is exactly `0.3` and repeated offers never
//! drift. Every resource here is unreserved (role `*`); reservations are outside
//! what mesocosm models so far.

use crate::mesos::v1::{Resource, value};
use crate::named::Named;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// A bag of resources: scalars (cpus, mem, disk, gpus), ranges (ports) and sets.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Resources {
    /// Scalars in thousandths of a unit (Mesos's fixed-point precision).
    /// Why [`Named`] and not a string-keyed map: an agent's `cpus`, `mem`,
    /// `disk` and `gpus` sit in slots, so copying and comparing a bag (the
    /// allocator does it for every agent of every cycle) touches no string.
    scalars: Named<i64>,
    /// Disjoint, sorted, inclusive ranges (`ports` in a slot, as above).
    ranges: Named<Vec<(u64, u64)>>,
    sets: BTreeMap<String, BTreeSet<String>>,
}

fn milli(v: f64) -> i64 {
    (v * 1000.0).round() as i64
}

impl Resources {
    /// No resources.
    pub fn new() -> Resources {
        Resources::default()
    }

    /// Only a scalar, e.g. `Resources::scalar_of("cpus", 4.0)`.
    pub fn scalar_of(name: &str, value: f64) -> Resources {
        let mut r = Resources::new();
        r.add_scalar(name, value);
        r
    }

    /// The resources of a protobuf list (unknown types are ignored as Mesos ignores
    /// resources it cannot parse).
    pub fn from_protos(list: &[Resource]) -> Resources {
        let mut r = Resources::new();
        for res in list {
            match value::Type::try_from(res.r#type) {
                Ok(value::Type::Scalar) => {
                    if let Some(s) = &res.scalar {
                        r.add_scalar(&res.name, s.value);
                    }
                }
                Ok(value::Type::Ranges) => {
                    if let Some(rs) = &res.ranges {
                        r.add_ranges(&res.name, rs.range.iter().map(|x| (x.begin, x.end)));
                    }
                }
                Ok(value::Type::Set) => {
                    if let Some(set) = &res.set {
                        r.add_set(&res.name, &set.item);
                    }
                }
                _ => {}
            }
        }
        r
    }

    /// As a protobuf list: scalars, then ranges, then sets, each sorted by name.
    pub fn to_protos(&self) -> Vec<Resource> {
        let mut out = Vec::new();
        for (name, v) in self.scalars.iter() {
            out.push(Resource {
                name: name.to_string(),
                r#type: value::Type::Scalar as i32,
                scalar: Some(value::Scalar { value: *v as f64 / 1000.0 }),
                ..Default::default()
            });
        }
        for (name, rs) in self.ranges.iter() {
            out.push(Resource {
                name: name.to_string(),
                r#type: value::Type::Ranges as i32,
                ranges: Some(value::Ranges {
                    range: rs.iter().map(|&(begin, end)| value::Range { begin, end }).collect(),
                }),
                ..Default::default()
            });
        }
        for (name, s) in &self.sets {
            out.push(Resource {
                name: name.clone(),
                r#type: value::Type::Set as i32,
                set: Some(value::Set { item: s.iter().cloned().collect() }),
                ..Default::default()
            });
        }
        out
    }

    /// Add `value` of scalar `name`.
    pub fn add_scalar(&mut self, name: &str, value: f64) {
        let v = milli(value);
        if v != 0 {
            add_milli(&mut self.scalars, name, v);
        }
    }

    /// Add the inclusive range `[begin, end]` of `name`, merging with what is there.
    /// Binary search and one splice: no sort, so adding ranges one at a time
    /// stays cheap.
    pub fn add_range(&mut self, name: &str, begin: u64, end: u64) {
        let (b, e) = (begin.min(end), begin.max(end));
        let rs = self.ranges.entry_or_default(name);
        // The ranges that overlap or touch [b, e] are exactly rs[lo..hi].
        let lo = rs.partition_point(|&(_, re)| re.saturating_add(1) < b);
        let hi = rs.partition_point(|&(rb, _)| rb <= e.saturating_add(1));
        if lo < hi {
            let joined = (b.min(rs[lo].0), e.max(rs[hi - 1].1));
            rs.splice(lo..hi, [joined]);
        } else {
            rs.insert(lo, (b, e));
        }
    }

    /// Add many inclusive ranges of `name` at once: one sort and one merge
    /// pass, so an agent with thousands of port ranges costs n log n, not n².
    /// The merge is done in place. Why: the allocator adds a grant to its
    /// agent's allocation on every grant of every cycle, and a new vector per
    /// merge was a fifth of a 10,000-agent cycle's page faults; in place, a
    /// list that has had room once keeps it.
    pub fn add_ranges(&mut self, name: &str, ranges: impl IntoIterator<Item = (u64, u64)>) {
        let mut new = ranges.into_iter().map(|(b, e)| (b.min(e), b.max(e))).peekable();
        if new.peek().is_none() {
            return;
        }
        let rs = self.ranges.entry_or_default(name);
        rs.extend(new);
        rs.sort_unstable();
        coalesce(rs);
    }

    /// Add the items of set `name`.
    pub fn add_set<'a>(&mut self, name: &str, items: impl IntoIterator<Item = &'a String>) {
        self.sets.entry(name.to_string()).or_default().extend(items.into_iter().cloned());
    }

    /// The amount of scalar `name` (0 if absent).
    pub fn scalar(&self, name: &str) -> f64 {
        self.scalars.get(name).map_or(0.0, |v| *v as f64 / 1000.0)
    }

    /// The ranges of `name`.
    pub fn ranges(&self, name: &str) -> &[(u64, u64)] {
        self.ranges.get(name).map_or(&[], |v| v.as_slice())
    }

    /// The scalar names and amounts, sorted by name.
    pub fn scalars(&self) -> impl Iterator<Item = (&str, f64)> {
        self.scalars.iter().map(|(k, v)| (k, *v as f64 / 1000.0))
    }

    /// True if there is nothing here.
    pub fn is_empty(&self) -> bool {
        self.scalars.values().all(|v| *v <= 0)
            && self.ranges.values().all(|r| r.is_empty())
            && self.sets.values().all(|s| s.is_empty())
    }

    /// `self += other`.
    pub fn add(&mut self, other: &Resources) {
        for (k, v) in other.scalars.iter() {
            add_milli(&mut self.scalars, k, *v);
        }
        for (k, rs) in other.ranges.iter() {
            self.add_ranges(k, rs.iter().copied());
        }
        for (k, s) in &other.sets {
            self.sets.entry(k.clone()).or_default().extend(s.iter().cloned());
        }
    }

    /// `self -= other`, clamping at empty (callers check [`Resources::contains`] first
    /// where going below zero would be a bug).
    pub fn subtract(&mut self, other: &Resources) {
        for (k, v) in other.scalars.iter() {
            if let Some(mine) = self.scalars.get_mut(k) {
                *mine = (*mine - v).max(0);
            }
        }
        self.scalars.retain(|v| *v > 0);
        for (k, theirs) in other.ranges.iter() {
            if let Some(mine) = self.ranges.get_mut(k) {
                subtract_ranges(mine, theirs);
            }
        }
        self.ranges.retain(|r| !r.is_empty());
        for (k, theirs) in &other.sets {
            if let Some(mine) = self.sets.get_mut(k) {
                // One pass over the smaller side.
                if theirs.len() < mine.len() {
                    for item in theirs {
                        mine.remove(item);
                    }
                } else {
                    mine.retain(|i| !theirs.contains(i));
                }
            }
        }
        self.sets.retain(|_, s| !s.is_empty());
    }

    /// The result of `self - other`.
    pub fn minus(&self, other: &Resources) -> Resources {
        let mut r = self.clone();
        r.subtract(other);
        r
    }

    /// True if every resource in `other` is also in `self` (Mesos's `contains`).
    pub fn contains(&self, other: &Resources) -> bool {
        other.scalars.iter().all(|(k, v)| *v <= 0 || self.scalars.get(k).is_some_and(|m| m >= v))
            && other.ranges.iter().all(|(k, theirs)| {
                // Both lists are sorted and disjoint: each of theirs must lie
                // inside the one of mine that starts at or before it.
                let mine = self.ranges(k);
                theirs.iter().all(|&(tb, te)| {
                    let i = mine.partition_point(|&(b, _)| b <= tb);
                    i > 0 && te <= mine[i - 1].1
                })
            })
            && other.sets.iter().all(|(k, theirs)| self.sets.get(k).is_some_and(|mine| mine.is_superset(theirs)))
    }
}

/// `scalars[name] += v`, inserting `v` if the name is absent.
fn add_milli(scalars: &mut Named<i64>, name: &str, v: i64) {
    match scalars.get_mut(name) {
        Some(mine) => *mine += v,
        None => {
            scalars.insert(name, v);
        }
    }
}

/// Merge the overlapping and touching neighbours of a sorted range list, in
/// place: each range either extends the last one kept or is kept after it.
fn coalesce(rs: &mut Vec<(u64, u64)>) {
    let mut kept = 0;
    for i in 0..rs.len() {
        let (b, e) = rs[i];
        if kept > 0 && b <= rs[kept - 1].1.saturating_add(1) {
            rs[kept - 1].1 = rs[kept - 1].1.max(e);
        } else {
            rs[kept] = (b, e);
            kept += 1;
        }
    }
    rs.truncate(kept);
}

/// What is left of `[b, e]` once the sorted, disjoint ranges `theirs[*j..]`
/// are cut out of it, piece by piece, to `piece`. `*j` moves past their
/// ranges that end before `[b, e]` starts, or that end inside it: those cannot
/// cut a later range of a sorted list.
fn cut(b: u64, e: u64, theirs: &[(u64, u64)], j: &mut usize, mut piece: impl FnMut(u64, u64)) {
    while *j < theirs.len() && theirs[*j].1 < b {
        *j += 1;
    }
    let mut start = b;
    let mut k = *j;
    while k < theirs.len() && theirs[k].0 <= e {
        let (tb, te) = theirs[k];
        if tb > start {
            piece(start, tb - 1);
        }
        if te >= e {
            // Their range k runs on past `e`: it may cut the next one of mine.
            *j = k;
            return;
        }
        start = te + 1;
        k += 1;
    }
    piece(start, e);
    *j = k;
}

/// `mine −= theirs` for sorted, disjoint, inclusive range lists, in place and
/// linear in both lengths: one pass counts the pieces, one writes them over
/// `mine` from the front.
///
/// Why the count first: a range of theirs inside one of mine splits it in
/// two, so the pieces can run ahead of the ranges they come from and would
/// overwrite ranges not read yet. The first pass finds by how many places
/// they run ahead at most; `mine` is moved up by that many first (nearly
/// always none: a grant or an offer taken back whole splits nothing), so the
/// writing never overtakes the reading, and a list with room allocates nothing.
fn subtract_ranges(mine: &mut Vec<(u64, u64)>, theirs: &[(u64, u64)]) {
    if theirs.is_empty() {
        return;
    }
    let (mut j, mut pieces, mut ahead) = (0, 0usize, 0usize);
    for (i, &(b, e)) in mine.iter().enumerate() {
        cut(b, e, theirs, &mut j, |_, _| pieces += 1);
        ahead = ahead.max(pieces.saturating_sub(i + 1));
    }
    let n = mine.len();
    if ahead > 0 {
        mine.resize(n + ahead, (0, 0));
        mine.copy_within(0..n, ahead);
    }
    let (mut j, mut written) = (0, 0);
    for read in ahead..ahead + n {
        let (b, e) = mine[read];
        cut(b, e, theirs, &mut j, |pb, pe| {
            mine[written] = (pb, pe);
            written += 1;
        });
    }
    mine.truncate(written);
}

impl fmt::Display for Resources {
    /// The agent `--resources` syntax: `cpus:4;mem:1408;ports:[31000-32000]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        let mut sep = |f: &mut fmt::Formatter<'_>| {
            if !std::mem::take(&mut first) { f.write_str(";") } else { Ok(()) }
        };
        // Mesos lists cpus, mem, disk, then the rest; keep that order for readability.
        let order = |k: &str| match k {
            "cpus" => 0,
            "gpus" => 1,
            "mem" => 2,
            "disk" => 3,
            _ => 4,
        };
        let mut scalars: Vec<_> = self.scalars.iter().filter(|(_, v)| **v > 0).collect();
        scalars.sort_by_key(|(k, _)| (order(k), k.to_string()));
        for (k, v) in scalars {
            sep(f)?;
            let x = *v as f64 / 1000.0;
            if *v % 1000 == 0 { write!(f, "{k}:{}", v / 1000)? } else { write!(f, "{k}:{x}")? }
        }
        for (k, rs) in self.ranges.iter() {
            sep(f)?;
            write!(f, "{k}:[")?;
            for (i, (b, e)) in rs.iter().enumerate() {
                if i > 0 {
                    f.write_str(",")?;
                }
                write!(f, "{b}-{e}")?;
            }
            f.write_str("]")?;
        }
        for (k, s) in &self.sets {
            sep(f)?;
            write!(f, "{k}:{{{}}}", s.iter().cloned().collect::<Vec<_>>().join(","))?;
        }
        if first {
            f.write_str("{}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agent() -> Resources {
        let mut r = Resources::new();
        r.add_scalar("cpus", 4.0);
        r.add_scalar("mem", 8192.0);
        r.add_range("ports", 31000, 32000);
        r
    }

    #[test]
    fn fixed_point_scalars_do_not_drift() {
        let mut r = Resources::new();
        for _ in 0..10 {
            r.add_scalar("cpus", 0.1);
        }
        assert_eq!(r.scalar("cpus"), 1.0);
    }

    #[test]
    fn subtract_splits_ranges_and_contains_checks_every_kind() {
        let mut used = Resources::scalar_of("cpus", 1.5);
        used.add_range("ports", 31005, 31005);
        let left = agent().minus(&used);
        assert_eq!(left.to_string(), "cpus:2.5;mem:8192;ports:[31000-31004,31006-32000]");
        assert!(agent().contains(&used));
        assert!(!left.contains(&used), "port 31005 is gone");
        assert!(!agent().contains(&Resources::scalar_of("cpus", 4.001)));
    }

    #[test]
    fn range_arithmetic_matches_a_port_by_port_model() {
        // Every pair of small range lists, checked against sets of ports.
        let lists: Vec<Vec<(u64, u64)>> = vec![
            vec![],
            vec![(0, 0)],
            vec![(1, 5)],
            vec![(0, 3), (6, 9)],
            vec![(2, 2), (4, 7)],
            vec![(0, 9)],
            vec![(5, 5), (9, 9)],
            vec![(3, 4), (8, 9)],
        ];
        let ports = |rs: &[(u64, u64)]| -> BTreeSet<u64> { rs.iter().flat_map(|&(b, e)| b..=e).collect() };
        let of = |rs: &[(u64, u64)]| {
            let mut r = Resources::new();
            r.add_ranges("ports", rs.iter().copied());
            let mut one_by_one = Resources::new();
            rs.iter().rev().for_each(|&(b, e)| one_by_one.add_range("ports", b, e));
            assert_eq!(r, one_by_one);
            r
        };
        for a in &lists {
            for b in &lists {
                let (ra, rb) = (of(a), of(b));
                let want: BTreeSet<u64> = ports(a).difference(&ports(b)).copied().collect();
                assert_eq!(ports(ra.minus(&rb).ranges("ports")), want, "{a:?} - {b:?}");
                assert_eq!(ra.contains(&rb), ports(b).is_subset(&ports(a)), "{a:?} ⊇ {b:?}");
                let mut sum = ra.clone();
                sum.add(&rb);
                let union: BTreeSet<u64> = ports(a).union(&ports(b)).copied().collect();
                assert_eq!(ports(sum.ranges("ports")), union);
            }
        }
    }

    /// The range list of the ports set in `mask` (port i is bit i): the
    /// reference model's answer, built port by port.
    fn ranges_of_mask(mask: u32) -> Vec<(u64, u64)> {
        let mut out: Vec<(u64, u64)> = Vec::new();
        for p in 0..RANGE_PORTS {
            if mask & (1 << p) != 0 {
                match out.last_mut() {
                    Some(last) if last.1 + 1 == p => last.1 = p,
                    _ => out.push((p, p)),
                }
            }
        }
        out
    }

    /// The ports of a range list as a mask.
    fn mask_of(rs: &[(u64, u64)]) -> u32 {
        rs.iter().flat_map(|&(b, e)| b..=e).fold(0, |m, p| m | 1 << p)
    }

    /// Ports 0..=7: every range list over them is one of 256 masks.
    const RANGE_PORTS: u64 = 8;

    #[test]
    fn in_place_range_arithmetic_agrees_with_a_bitset_model_on_every_small_case() {
        // Every pair of range lists over eight ports (65,536 pairs): the
        // in-place subtraction and merge against set difference and union,
        // and the results kept sorted, disjoint and not touching, as the
        // model's canonical list is.
        let all = 1u32 << RANGE_PORTS;
        let bags: Vec<Resources> = (0..all)
            .map(|m| {
                let mut r = Resources::new();
                r.add_ranges("ports", ranges_of_mask(m));
                r
            })
            .collect();
        for a in 0..all {
            for b in 0..all {
                let mut diff = bags[a as usize].clone();
                diff.subtract(&bags[b as usize]);
                assert_eq!(diff.ranges("ports"), ranges_of_mask(a & !b), "{a:08b} - {b:08b}");
                let mut sum = bags[a as usize].clone();
                sum.add(&bags[b as usize]);
                assert_eq!(sum.ranges("ports"), ranges_of_mask(a | b), "{a:08b} + {b:08b}");
            }
        }
    }

    #[test]
    fn adding_unsorted_overlapping_ranges_in_place_agrees_with_the_model() {
        // Every list of ports, plus every two ranges given in either
        // direction, overlapping or not, in either order (as a protobuf may
        // list them): the in-place sort and merge against the union of ports.
        let spans: Vec<(u64, u64)> = (0..RANGE_PORTS).flat_map(|b| (0..RANGE_PORTS).map(move |e| (b, e))).collect();
        let span_mask = |(b, e): (u64, u64)| mask_of(&[(b.min(e), b.max(e))]);
        for base in (0..1u32 << RANGE_PORTS).step_by(5) {
            for &x in &spans {
                for &y in &spans {
                    let mut r = Resources::new();
                    r.add_ranges("ports", ranges_of_mask(base));
                    r.add_ranges("ports", [x, y]);
                    let want = base | span_mask(x) | span_mask(y);
                    assert_eq!(r.ranges("ports"), ranges_of_mask(want), "{base:08b} + {x:?} + {y:?}");
                }
            }
        }
    }

    #[test]
    fn many_ranges_cost_near_linear_time() {
        // 50,000 single-port ranges: with a sort per added range and a nested
        // subtract loop this took minutes; now it is milliseconds. (Cost is
        // measured, not asserted: the old code simply does not finish here.)
        let n = 50_000u64;
        let mut agent = Resources::new();
        // One at a time, as callers do (the old add_range sorted and rebuilt
        // the whole list each time).
        for i in 0..n {
            agent.add_range("ports", 3 * i, 3 * i);
        }
        let mut used = Resources::new();
        for i in (0..n).filter(|i| i % 2 == 0) {
            used.add_range("ports", 3 * i, 3 * i);
        }
        let left = agent.minus(&used);
        assert!(agent.contains(&used) && !left.contains(&used));
        assert_eq!(left.ranges("ports").len(), (n / 2) as usize);
        let mut again = left.clone();
        again.add(&used);
        assert_eq!(again, agent);
    }

    #[test]
    fn protobuf_round_trip_keeps_everything() {
        let r = agent();
        assert_eq!(Resources::from_protos(&r.to_protos()), r);
    }
}
