//! Which seeds (or cases) a sweep runs: the range `--seeds A..B` and the
//! slice `--shard K/N` of it that this process takes.
//!
//! Both are plain values, parsed from their flag's text with an error that a
//! CLI prints beside the flag's name (clap does, when these parse functions
//! are a flag's `value_parser`):
//!
//! ```
//! use mesocosm::sweep::shard::{SeedRange, Shard};
//!
//! let seeds: SeedRange = "1..10".parse().unwrap();          // both ends included: 10 seeds
//! let shard: Shard = "1/4".parse().unwrap();                // the second of four shards (0-based)
//! let mine: Vec<u64> = shard.indices(seeds.len()).map(|i| seeds.seed(i)).collect();
//! assert_eq!(mine, [2, 6, 10]);                             // every 4th seed, from the second
//! assert!("4/4".parse::<Shard>().is_err());                 // K counts from 0: 0/4 … 3/4
//! ```
//!
//! A shard is *strided*, not a block: shard K takes the K-th, (K+N)-th, …
//! item. Seeds that happen to be slow are spread over the shards instead of
//! landing in one, and the split depends only on K, N and the count, so any
//! machine computes the same slices (the merge checks each shard holds
//! exactly its own).

use std::fmt;
use std::str::FromStr;

/// The most seeds one sweep may name (`--seeds`), checked before anything is
/// allocated for them: a million runs is days of work on one machine, and a
/// longer sweep is better split into several ranges (each its own result file).
pub const MAX_SEEDS: u64 = 1_000_000;

/// Seeds `first..last`, both included, as a shell's `{1..200}` and `seq 1 200`
/// count them: `1..200` is 200 seeds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct SeedRange {
    pub first: u64,
    pub last: u64,
}

impl SeedRange {
    /// How many seeds (at least 1, at most [`MAX_SEEDS`]).
    pub fn len(&self) -> u64 {
        self.last - self.first + 1
    }

    /// A range always holds at least one seed; this is for clippy's sake.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The `i`-th seed (0-based) of the range.
    pub fn seed(&self, i: u64) -> u64 {
        self.first + i
    }

    /// Whether `seed` is in the range.
    pub fn contains(&self, seed: u64) -> bool {
        (self.first..=self.last).contains(&seed)
    }
}

impl FromStr for SeedRange {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let (a, b) = s
            .split_once("..=")
            .or_else(|| s.split_once(".."))
            .ok_or_else(|| format!("`{s}` is not a range: write A..B, e.g. 1..200 (both ends included)"))?;
        let bound = |text: &str, which: &str| -> Result<u64, String> {
            let text = text.trim();
            if text.is_empty() {
                return Err(format!("`{s}` has no {which} seed: write A..B, e.g. 1..200"));
            }
            text.parse().map_err(|e| format!("the {which} seed `{text}` is not a seed (a number 0..=2^64-1): {e}"))
        };
        let (first, last) = (bound(a, "first")?, bound(b, "last")?);
        if last < first {
            return Err(format!("`{s}` is reversed: the last seed {last} is before the first {first}"));
        }
        // Checked before anything is sized by it (and before `len` could overflow).
        if last - first >= MAX_SEEDS {
            return Err(format!(
                "`{s}` names {} seeds; a sweep runs at most {MAX_SEEDS}: split it into ranges",
                u128::from(last - first) + 1
            ));
        }
        Ok(SeedRange { first, last })
    }
}

impl fmt::Display for SeedRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}..{}", self.first, self.last)
    }
}

/// Shard `index` of `count` (`--shard K/N`, K counted from 0, so a Kubernetes
/// Indexed Job's `$JOB_COMPLETION_INDEX` is K as it is; Slurm's
/// `$SLURM_ARRAY_TASK_ID` is too with `--array=0-(N-1)`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

impl Shard {
    /// The whole: one shard of one.
    pub const WHOLE: Shard = Shard { index: 0, count: 1 };

    /// Whether this is all of the items.
    pub fn is_whole(&self) -> bool {
        self.count == 1
    }

    /// Whether item `i` (0-based) of a sweep is this shard's.
    pub fn contains(&self, i: u64) -> bool {
        i % self.count == self.index
    }

    /// This shard's items among `0..n`, in order: `K, K+N, K+2N, …`.
    pub fn indices(&self, n: u64) -> impl Iterator<Item = u64> + use<> {
        let (k, step) = (self.index, self.count);
        std::iter::successors(Some(k).filter(|&k| k < n), move |&i| i.checked_add(step).filter(|&j| j < n))
    }

    /// How many of `0..n` are this shard's.
    pub fn len_of(&self, n: u64) -> u64 {
        if self.index >= n { 0 } else { (n - self.index - 1) / self.count + 1 }
    }
}

impl FromStr for Shard {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let (k, n) = s
            .split_once('/')
            .ok_or_else(|| format!("`{s}` is not a shard: write K/N, e.g. 0/4 (K counts from 0 to N-1)"))?;
        let number = |text: &str, what: &str| -> Result<u64, String> {
            text.trim().parse().map_err(|e| format!("the {what} `{}` in `{s}` is not a number: {e}", text.trim()))
        };
        let (index, count) = (number(k, "shard index K")?, number(n, "shard count N")?);
        if count == 0 {
            return Err(format!("`{s}` splits into 0 shards: N must be at least 1"));
        }
        if index >= count {
            return Err(format!(
                "`{s}`: there is no shard {index} of {count}; K counts from 0, so it is 0..={}",
                count - 1
            ));
        }
        Ok(Shard { index, count })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_range_includes_both_ends_and_refuses_what_is_not_one() {
        let r: SeedRange = "1..200".parse().unwrap();
        assert_eq!((r.first, r.last, r.len()), (1, 200, 200));
        assert_eq!("7..=7".parse::<SeedRange>().unwrap().len(), 1);
        for bad in ["", "..", "5..", "..5", "5", "a..b", "9..3", "-1..3"] {
            assert!(bad.parse::<SeedRange>().is_err(), "{bad:?} parsed");
        }
        assert!("9..3".parse::<SeedRange>().unwrap_err().contains("reversed"));
        let huge = format!("0..{}", u64::MAX);
        assert!(huge.parse::<SeedRange>().unwrap_err().contains("at most 1000000"), "no overflow, a bound");
        assert!(format!("1..{MAX_SEEDS}").parse::<SeedRange>().is_ok());
        assert!(format!("0..{MAX_SEEDS}").parse::<SeedRange>().is_err());
    }

    #[test]
    fn shards_are_zero_based_and_refuse_what_does_not_exist() {
        assert_eq!("3/4".parse::<Shard>().unwrap(), Shard { index: 3, count: 4 });
        for bad in ["4/4", "5/4", "0/0", "1", "a/4", "1/b", "-1/4"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn the_shards_of_a_sweep_partition_it() {
        for n in [0u64, 1, 2, 7, 10, 11] {
            for count in 1..=5 {
                let mut seen: Vec<u64> = Vec::new();
                for index in 0..count {
                    let s = Shard { index, count };
                    let mine: Vec<u64> = s.indices(n).collect();
                    assert_eq!(mine.len() as u64, s.len_of(n), "{s} of {n}");
                    assert!(mine.iter().all(|&i| s.contains(i)));
                    seen.extend(mine);
                }
                seen.sort();
                assert_eq!(seen, (0..n).collect::<Vec<_>>(), "{count} shards of {n}");
            }
        }
    }
}
