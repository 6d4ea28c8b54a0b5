//! Compact per-partition bookkeeping, so a stage's memory follows the tasks
//! alive rather than the tasks declared.
//!
//! Spark's `TaskSetManager` keeps arrays sized by the task count
//! (`taskInfos`, `successful`, `numFailures`, the pending lists) and the
//! `MapOutputTracker` one `MapStatus` per map partition. A stage of ten
//! million tasks would then hold ten million of each; mesocosm stores the
//! same facts as runs of consecutive partitions instead. Tasks launch lowest
//! index first, so the finished ones form a few long runs, broken only where
//! a task still runs or waits to be retried:
//!
//! ```text
//!  partitions 0 ─────────────── 9,999,999
//!  successful [0, 41_200) [41_203, 41_260)    ← 2 runs: 41_200..41_203 still run
//!  pending    [41_201] [41_260, 10_000_000)   ← a retry and the untouched rest
//! ```
//!
//! The one exception is where map output lives: partitions finished on
//! different executors interleave, so [`MapOutputs`] keeps one small slot
//! number per finished map partition, as Spark's `MapOutputTracker` keeps
//! one `MapStatus` per map task.

use std::collections::BTreeMap;

/// A set of `u32` held as disjoint half-open runs `[start, end)`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct RangeSet {
    /// start → end (exclusive); runs never touch or overlap.
    runs: BTreeMap<u32, u32>,
    len: u64,
}

impl RangeSet {
    /// `[0, n)`.
    pub fn full(n: u32) -> RangeSet {
        let mut s = RangeSet::default();
        if n > 0 {
            s.runs.insert(0, n);
            s.len = u64::from(n);
        }
        s
    }

    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// How many runs hold the set: its memory, in entries.
    pub fn runs(&self) -> usize {
        self.runs.len()
    }

    /// The run holding `x`, as `(start, end)`.
    fn run_of(&self, x: u32) -> Option<(u32, u32)> {
        self.runs.range(..=x).next_back().filter(|(_, e)| x < **e).map(|(s, e)| (*s, *e))
    }

    pub fn contains(&self, x: u32) -> bool {
        self.run_of(x).is_some()
    }

    /// Adds `x`; false if it was there already.
    pub fn insert(&mut self, x: u32) -> bool {
        if self.contains(x) {
            return false;
        }
        let before = self.runs.range(..x).next_back().filter(|(_, e)| **e == x).map(|(s, _)| *s);
        let after = x.checked_add(1).and_then(|n| self.runs.get(&n).copied().map(|e| (n, e)));
        let (start, end) = match (before, after) {
            (Some(s), Some((n, e))) => {
                self.runs.remove(&n);
                (s, e)
            }
            (Some(s), None) => (s, x + 1),
            (None, Some((n, e))) => {
                self.runs.remove(&n);
                (x, e)
            }
            // `x + 1` cannot overflow here: u32::MAX is never a partition
            // (a stage has at most u32::MAX tasks, numbered from 0).
            (None, None) => (x, x.saturating_add(1)),
        };
        self.runs.insert(start, end);
        self.len += 1;
        true
    }

    /// Removes `x`; false if it was not there.
    pub fn remove(&mut self, x: u32) -> bool {
        let Some((start, end)) = self.run_of(x) else { return false };
        self.runs.remove(&start);
        if start < x {
            self.runs.insert(start, x);
        }
        if x + 1 < end {
            self.runs.insert(x + 1, end);
        }
        self.len -= 1;
        true
    }

    /// The smallest element, removed.
    pub fn pop_first(&mut self) -> Option<u32> {
        let (&start, _) = self.runs.iter().next()?;
        self.remove(start);
        Some(start)
    }

    /// The elements in order (lazily: a caller that lists them should know the set is small).
    pub fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        self.runs.iter().flat_map(|(s, e)| *s..*e)
    }

    /// The runs in order, as `(start, end)`.
    pub fn run_iter(&self) -> impl Iterator<Item = (u32, u32)> + '_ {
        self.runs.iter().map(|(s, e)| (*s, *e))
    }

    /// `[0, n)` minus this set.
    pub fn complement(&self, n: u32) -> RangeSet {
        let mut out = RangeSet::default();
        let mut at = 0;
        for (s, e) in self.run_iter() {
            if s >= n {
                break;
            }
            if at < s {
                out.runs.insert(at, s);
                out.len += u64::from(s - at);
            }
            at = e;
        }
        if at < n {
            out.runs.insert(at, n);
            out.len += u64::from(n - at);
        }
        out
    }
}

/// A task set's index → partition map: a first attempt runs every
/// partition (index = partition), a resubmitted one only the missing ones,
/// numbered from 0 in partition order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct TaskIndices {
    /// `(first index, first partition, length)` per run of consecutive partitions.
    runs: Vec<(u32, u32, u32)>,
    len: u32,
}

impl TaskIndices {
    /// One task per partition in `partitions`, in order.
    pub fn of(partitions: &RangeSet) -> TaskIndices {
        let mut runs = Vec::with_capacity(partitions.runs());
        let mut len = 0u32;
        for (s, e) in partitions.run_iter() {
            runs.push((len, s, e - s));
            len += e - s;
        }
        TaskIndices { runs, len }
    }

    pub fn len(&self) -> u32 {
        self.len
    }

    /// The partition task `index` computes.
    pub fn partition(&self, index: u32) -> Option<u32> {
        let i = self.runs.partition_point(|(first, _, _)| *first <= index).checked_sub(1)?;
        let (first, p, n) = self.runs[i];
        (index - first < n).then(|| p + (index - first))
    }

    /// The task index that computes `partition`, if this task set runs it.
    pub fn index_of(&self, partition: u32) -> Option<u32> {
        let i = self.runs.partition_point(|(_, p, _)| *p <= partition).checked_sub(1)?;
        let (first, p, n) = self.runs[i];
        (partition - p < n).then(|| first + (partition - p))
    }

    /// Every partition, in index order (for the timeline's lists).
    pub fn partitions(&self) -> impl Iterator<Item = u32> + '_ {
        self.runs.iter().flat_map(|(_, p, n)| *p..*p + *n)
    }
}

/// Where a ShuffleMapStage's map outputs live: the `MapOutputTracker`'s view.
#[derive(Clone, Debug, Default)]
pub(crate) struct MapOutputs {
    /// Per partition: 0 if no output exists, else 1 + the index into
    /// `executors` of the executor that holds it. Grown on demand up to the
    /// highest partition with output.
    holder: Vec<u32>,
    /// The executors that ever held an output of this stage.
    executors: Vec<String>,
    /// Partitions with output.
    count: u64,
}

impl MapOutputs {
    /// `registerMapOutput`: `partition`'s output now lives on `executor`.
    pub fn register(&mut self, partition: u32, executor: &str) {
        let slot = match self.executors.iter().position(|e| e == executor) {
            Some(i) => i,
            None => {
                self.executors.push(executor.to_string());
                self.executors.len() - 1
            }
        };
        let p = partition as usize;
        if self.holder.len() <= p {
            self.holder.resize(p + 1, 0);
        }
        if self.holder[p] == 0 {
            self.count += 1;
        }
        self.holder[p] = slot as u32 + 1;
    }

    /// Partitions with output.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Partitions of `[0, n)` without output (`findMissingPartitions`).
    pub fn missing(&self, n: u32) -> RangeSet {
        let mut have = RangeSet::default();
        for (p, h) in self.holder.iter().enumerate() {
            if *h != 0 {
                have.insert(p as u32);
            }
        }
        have.complement(n)
    }

    /// `removeOutputsOnExecutor`: forget the outputs `executor` held and
    /// return their partitions, in order.
    pub fn remove_executor(&mut self, executor: &str) -> Vec<u32> {
        let Some(slot) = self.executors.iter().position(|e| e == executor) else { return Vec::new() };
        let slot = slot as u32 + 1;
        let mut lost = Vec::new();
        for (p, h) in self.holder.iter_mut().enumerate() {
            if *h == slot {
                *h = 0;
                lost.push(p as u32);
            }
        }
        self.count -= lost.len() as u64;
        lost
    }

    /// How many partitions the holder table covers (its memory, in slots).
    pub fn slots(&self) -> usize {
        self.holder.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_sets_merge_and_split_runs() {
        let mut s = RangeSet::full(10);
        assert!(s.remove(3) && s.remove(4) && !s.remove(4));
        assert_eq!((s.len(), s.runs()), (8, 2));
        assert_eq!(s.pop_first(), Some(0));
        assert!(s.insert(3));
        assert_eq!(s.run_iter().collect::<Vec<_>>(), vec![(1, 4), (5, 10)]);
        assert!(s.insert(4) && !s.insert(4));
        assert_eq!(s.run_iter().collect::<Vec<_>>(), vec![(1, 10)]);
        assert_eq!(s.complement(12).run_iter().collect::<Vec<_>>(), vec![(0, 1), (10, 12)]);
        assert_eq!(RangeSet::default().complement(0).len(), 0);
    }

    #[test]
    fn task_indices_number_the_missing_partitions_in_order() {
        let mut missing = RangeSet::default();
        for p in [1, 2, 7, 9] {
            missing.insert(p);
        }
        let t = TaskIndices::of(&missing);
        assert_eq!(t.len(), 4);
        assert_eq!((0..5).map(|i| t.partition(i)).collect::<Vec<_>>(), vec![Some(1), Some(2), Some(7), Some(9), None]);
        assert_eq!([0, 2, 7, 9].map(|p| t.index_of(p)), [None, Some(1), Some(2), Some(3)]);
        assert_eq!(t.partitions().collect::<Vec<_>>(), vec![1, 2, 7, 9]);
    }

    #[test]
    fn map_outputs_are_lost_with_their_executor() {
        let mut m = MapOutputs::default();
        m.register(0, "a");
        m.register(1, "b");
        m.register(2, "a");
        assert_eq!((m.count(), m.missing(4).iter().collect::<Vec<_>>()), (3, vec![3]));
        assert_eq!(m.remove_executor("a"), vec![0, 2]);
        assert_eq!((m.count(), m.missing(4).iter().collect::<Vec<_>>()), (1, vec![0, 2, 3]));
        assert!(m.remove_executor("c").is_empty());
    }
}
