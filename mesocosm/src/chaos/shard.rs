//! `--shard K/N` and the worker pool: which cases this process runs, and
//! running them on `-j` threads.
//!
//! Small and self-contained on purpose: `mesocosm sweep` has the same two
//! ideas (a shard of the seeds, a pool of workers), and the two can be folded
//! into one. The contract both keep: case `i` belongs to shard `i mod N`, and
//! its outcome does not depend on the shard or on `-j`, so N machines running
//! shards 0..N of one chaos run together run exactly the cases of one
//! unsharded run.

use std::fmt;
use std::str::FromStr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// One shard of N: this process runs the cases `i` with `i mod N == K`
/// (0-based K, as a Kubernetes Indexed Job's `JOB_COMPLETION_INDEX` or
/// `SLURM_ARRAY_TASK_ID` from 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub k: u64,
    pub n: u64,
}

impl Shard {
    /// Every case: shard 0 of 1.
    pub const ALL: Shard = Shard { k: 0, n: 1 };

    /// Whether case `i` is this shard's.
    pub fn has(&self, i: u64) -> bool {
        i % self.n == self.k
    }
}

impl FromStr for Shard {
    type Err = String;

    /// `K/N`, with N ≥ 1 and K < N.
    fn from_str(s: &str) -> Result<Shard, String> {
        let (k, n) = s.split_once('/').ok_or_else(|| format!("`{s}` is not K/N (e.g. 0/4)"))?;
        let k: u64 = k.trim().parse().map_err(|_| format!("`{k}` in `{s}` is not a whole number"))?;
        let n: u64 = n.trim().parse().map_err(|_| format!("`{n}` in `{s}` is not a whole number"))?;
        if n == 0 {
            return Err(format!("`{s}`: N must be at least 1"));
        }
        if k >= n {
            return Err(format!("`{s}`: K must be < N (shards are numbered 0 to N-1)"));
        }
        Ok(Shard { k, n })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.k, self.n)
    }
}

/// Runs `work` on every item on `jobs` threads and returns the results in
/// the items' order; `done` is called (on the worker's thread) after each.
/// The order the threads take items in cannot change a result: each is a
/// function of its item alone.
pub fn pool<T: Sync, R: Send>(
    items: &[T],
    jobs: usize,
    work: impl Fn(&T) -> R + Sync,
    done: impl Fn() + Sync,
) -> Vec<R> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<R>>> = Mutex::new(items.iter().map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..jobs.clamp(1, items.len().max(1)) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(item) = items.get(i) else { break };
                    let r = work(item);
                    results.lock().unwrap_or_else(|p| p.into_inner())[i] = Some(r);
                    done();
                }
            });
        }
    });
    results.into_inner().unwrap_or_else(|p| p.into_inner()).into_iter().map(|r| r.expect("every item ran")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_partition_the_cases() {
        let shards: Vec<Shard> = (0..4).map(|k| format!("{k}/4").parse().expect("a shard")).collect();
        for i in 0..100 {
            assert_eq!(shards.iter().filter(|s| s.has(i)).count(), 1, "case {i}");
        }
        assert_eq!("5/4".parse::<Shard>().unwrap_err(), "`5/4`: K must be < N (shards are numbered 0 to N-1)");
        assert!("0/0".parse::<Shard>().is_err());
        assert!("1".parse::<Shard>().is_err());
        assert!("a/2".parse::<Shard>().is_err());
    }

    #[test]
    fn the_pool_keeps_the_items_order() {
        let items: Vec<u64> = (0..50).collect();
        let count = AtomicUsize::new(0);
        let out = pool(
            &items,
            3,
            |i| i * i,
            || {
                count.fetch_add(1, Ordering::Relaxed);
            },
        );
        assert_eq!(out, items.iter().map(|i| i * i).collect::<Vec<_>>());
        assert_eq!(count.load(Ordering::Relaxed), 50);
    }
}
