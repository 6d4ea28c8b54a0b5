//! A small map from resource names to values, with the names every Mesos
//! agent has kept in fixed slots.
//!
//! Mesos's `Resources` is a list of `Resource` protobufs, each carrying its
//! name as a string, and every `contains`, `+=` and `-=` compares names
//! (`src/common/resources.cpp`). An agent's resources are nearly always the
//! same five: `cpus`, `disk`, `gpus`, `mem` (scalars) and `ports` (ranges).
//! Keeping those in slots means copying, adding or comparing a bag copies and
//! compares no string and makes no allocation for them; any other name goes
//! to an ordinary ordered map beside the slots. The map behaves as a
//! `BTreeMap<String, V>` would: the same entries, iterated in name order.

use std::collections::BTreeMap;
use std::collections::btree_map;
use std::iter::Peekable;

/// The slotted names, in name (byte) order, so iteration can merge them
/// with the map's names.
const KNOWN: [&str; 5] = ["cpus", "disk", "gpus", "mem", "ports"];

fn slot(name: &str) -> Option<usize> {
    match name {
        "cpus" => Some(0),
        "disk" => Some(1),
        "gpus" => Some(2),
        "mem" => Some(3),
        "ports" => Some(4),
        _ => None,
    }
}

/// Resource name → `V`, as a `BTreeMap<String, V>` would hold it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Named<V> {
    /// The value of `KNOWN[i]`, if the name is present.
    known: [Option<V>; 5],
    /// Every other name (never one of `KNOWN`).
    other: BTreeMap<String, V>,
}

impl<V> Named<V> {
    pub(crate) fn get(&self, name: &str) -> Option<&V> {
        match slot(name) {
            Some(i) => self.known[i].as_ref(),
            None => self.other.get(name),
        }
    }

    pub(crate) fn get_mut(&mut self, name: &str) -> Option<&mut V> {
        match slot(name) {
            Some(i) => self.known[i].as_mut(),
            None => self.other.get_mut(name),
        }
    }

    /// Set `name` to `v` (replacing what was there).
    pub(crate) fn insert(&mut self, name: &str, v: V) {
        match slot(name) {
            Some(i) => self.known[i] = Some(v),
            None => {
                self.other.insert(name.to_string(), v);
            }
        }
    }

    /// The value of `name`, made with `V::default()` if absent.
    pub(crate) fn entry_or_default(&mut self, name: &str) -> &mut V
    where
        V: Default,
    {
        match slot(name) {
            Some(i) => self.known[i].get_or_insert_with(V::default),
            // Why not always `entry(name.to_string())`: it would copy the
            // name on every call, also when it is already there.
            None if self.other.contains_key(name) => self.other.get_mut(name).expect("just found"),
            None => self.other.entry(name.to_string()).or_default(),
        }
    }

    /// Keep only the entries for which `keep` holds.
    pub(crate) fn retain(&mut self, mut keep: impl FnMut(&V) -> bool) {
        for v in &mut self.known {
            if v.as_ref().is_some_and(|x| !keep(x)) {
                *v = None;
            }
        }
        self.other.retain(|_, v| keep(v));
    }

    /// Every entry, in name order.
    pub(crate) fn iter(&self) -> Iter<'_, V> {
        Iter { known: &self.known, i: 0, other: self.other.iter().peekable() }
    }

    /// Every value, in name order.
    pub(crate) fn values(&self) -> impl Iterator<Item = &V> {
        self.iter().map(|(_, v)| v)
    }
}

/// [`Named::iter`]: the slots and the map merged by name.
pub(crate) struct Iter<'a, V> {
    known: &'a [Option<V>; 5],
    i: usize,
    other: Peekable<btree_map::Iter<'a, String, V>>,
}

impl<'a, V> Iterator for Iter<'a, V> {
    type Item = (&'a str, &'a V);

    fn next(&mut self) -> Option<Self::Item> {
        while self.i < KNOWN.len() && self.known[self.i].is_none() {
            self.i += 1;
        }
        let other_first = match (self.known.get(self.i), self.other.peek()) {
            (Some(_), Some((name, _))) => name.as_str() < KNOWN[self.i],
            (Some(_), None) => false,
            (None, _) => true,
        };
        if other_first {
            return self.other.next().map(|(name, v)| (name.as_str(), v));
        }
        let v = self.known[self.i].as_ref()?;
        self.i += 1;
        Some((KNOWN[self.i - 1], v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_and_orders_entries_as_a_btreemap_does() {
        let names = ["ports", "a", "mem", "zz", "cpus", "disk0", "d", "gpus", "disk", "memory", "cpu"];
        let mut named = Named::default();
        let mut map = BTreeMap::new();
        for (i, name) in names.iter().enumerate() {
            named.insert(name, i);
            map.insert(name.to_string(), i);
            let got: Vec<(&str, &usize)> = named.iter().collect();
            let want: Vec<(&str, &usize)> = map.iter().map(|(k, v)| (k.as_str(), v)).collect();
            assert_eq!(got, want);
        }
        named.retain(|v| v % 2 == 0);
        map.retain(|_, v| *v % 2 == 0);
        let got: Vec<(&str, &usize)> = named.iter().collect();
        let want: Vec<(&str, &usize)> = map.iter().map(|(k, v)| (k.as_str(), v)).collect();
        assert_eq!(got, want);
        for name in names {
            assert_eq!(named.get(name), map.get(name), "{name}");
        }
        *named.entry_or_default("cpus") += 100;
        *named.entry_or_default("x") += 7;
        assert_eq!((named.get("cpus"), named.get("x")), (Some(&104), Some(&7)));
    }
}
