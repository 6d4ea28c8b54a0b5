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
    pub fn add_ranges(&mut self, name: &str, ranges: impl IntoIterator<Item = (u64, u64)>) {
        let mut new = ranges.into_iter().map(|(b, e)| (b.min(e), b.max(e))).peekable();
        if new.peek().is_none() {
            return;
        }
        let rs = self.ranges.entry_or_default(name);
        rs.extend(new);
        rs.sort_unstable();
        let mut merged: Vec<(u64, u64)> = Vec::with_capacity(rs.len());
        for &(b, e) in rs.iter() {
            match merged.last_mut() {
                Some(last) if b <= last.1.saturating_add(1) => last.1 = last.1.max(e),
                _ => merged.push((b, e)),
            }
        }
        *rs = merged;
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
                *mine = subtract_ranges(mine, theirs);
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

/// `mine − theirs` for sorted, disjoint, inclusive range lists, in one merge
/// pass (linear in both lengths).
fn subtract_ranges(mine: &[(u64, u64)], theirs: &[(u64, u64)]) -> Vec<(u64, u64)> {
    let mut out = Vec::with_capacity(mine.len());
    let mut j = 0;
    for &(b, e) in mine {
        let mut start = b;
        // Skip their ranges that end before this one starts.
        while j < theirs.len() && theirs[j].1 < start {
            j += 1;
        }
        let mut k = j;
        let mut alive = true;
        while k < theirs.len() && theirs[k].0 <= e {
            let (tb, te) = theirs[k];
            if tb > start {
                out.push((start, tb - 1));
            }
            if te >= e {
                alive = false;
                break;
            }
            start = te + 1;
            k += 1;
        }
        if alive {
            out.push((start, e));
        }
        // Their ranges past this one's end may still cut the next one of mine.
        j = k;
    }
    out
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
