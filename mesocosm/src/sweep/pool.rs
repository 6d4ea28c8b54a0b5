//! The worker pool: `-j N` threads take items (seeds, cases) one at a time
//! from a shared counter and run each to completion; the results come back
//! in the items' order whatever the threads did.
//!
//! ```
//! use mesocosm::sweep::pool;
//! use std::num::NonZeroUsize;
//!
//! let seeds = [5u64, 1, 4];
//! let jobs = NonZeroUsize::new(2).unwrap();
//! let squares = pool::map(&seeds, jobs, |s| Ok::<_, String>(s * s), |_done| {});
//! assert_eq!(squares, Ok(vec![25, 1, 16]));                  // the items' order
//! ```
//!
//! Why threads and not tasks: a simulated run owns a tokio `current_thread`
//! runtime with a paused clock for its whole life, so a run is one blocking
//! call; each worker thread runs its runs one after the other, and nothing is
//! shared between runs but the counter. A run's result never depends on which
//! thread ran it or when (every random choice comes from the run's seed), so a
//! sweep's results are the same for any `-j`.

use std::num::NonZeroUsize;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// A worker's stack: as big as a main thread's, since a run nests deeply
/// (the world, tonic's HTTP/2, the actors) and `std::thread` gives 2 MiB.
const WORKER_STACK: usize = 8 << 20;

/// Every core this process may use (`std::thread::available_parallelism`),
/// the default of `-j`; 1 when the platform cannot tell.
pub fn all_cores() -> NonZeroUsize {
    std::thread::available_parallelism().unwrap_or(NonZeroUsize::MIN)
}

/// `-j N` parsed: a number of threads, at least 1.
pub fn parse_jobs(s: &str) -> Result<NonZeroUsize, String> {
    let n: usize = s.trim().parse().map_err(|e| format!("`{s}` is not a number of threads: {e}"))?;
    NonZeroUsize::new(n)
        .ok_or_else(|| "0 threads would run nothing: give at least 1 (the default is every core)".into())
}

/// Run `work` on every item with `jobs` threads (never more threads than
/// items) and return the results in the items' order. `done` sees each result
/// as it comes, on the thread that made it (for a progress bar).
///
/// The first error stops the pool: no thread starts another item, the items
/// already started finish, and the error of the earliest item that failed is
/// returned (the earliest *seen*: which items ran before the stop depends on
/// timing, so an error must mean "the input is bad", not a verdict).
///
/// A panic in `work` is not caught here: it ends the thread, and the pool
/// re-raises it once the other threads have stopped.
pub fn map<T, R, E>(
    items: &[T],
    jobs: NonZeroUsize,
    work: impl Fn(&T) -> Result<R, E> + Sync,
    done: impl Fn(&R) + Sync,
) -> Result<Vec<R>, E>
where
    T: Sync,
    R: Send,
    E: Send,
{
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let results: Mutex<Vec<(usize, R)>> = Mutex::new(Vec::with_capacity(items.len()));
    let errors: Mutex<Vec<(usize, E)>> = Mutex::new(Vec::new());
    let threads = jobs.get().min(items.len());
    std::thread::scope(|scope| {
        let worker = || {
            while !stop.load(Ordering::Relaxed) {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(item) = items.get(i) else { break };
                match work(item) {
                    Ok(r) => {
                        done(&r);
                        results.lock().unwrap_or_else(|p| p.into_inner()).push((i, r));
                    }
                    Err(e) => {
                        stop.store(true, Ordering::Relaxed);
                        errors.lock().unwrap_or_else(|p| p.into_inner()).push((i, e));
                    }
                }
            }
        };
        for w in 0..threads {
            std::thread::Builder::new()
                .name(format!("sweep-worker-{w}"))
                .stack_size(WORKER_STACK)
                .spawn_scoped(scope, worker)
                .expect("the OS starts a worker thread");
        }
    });
    let mut errors = errors.into_inner().unwrap_or_else(|p| p.into_inner());
    errors.sort_by_key(|(i, _)| *i);
    if let Some((_, e)) = errors.into_iter().next() {
        return Err(e);
    }
    let mut results = results.into_inner().unwrap_or_else(|p| p.into_inner());
    results.sort_by_key(|(i, _)| *i);
    Ok(results.into_iter().map(|(_, r)| r).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU64;

    fn jobs(n: usize) -> NonZeroUsize {
        NonZeroUsize::new(n).unwrap()
    }

    #[test]
    fn results_come_back_in_item_order_for_any_number_of_threads() {
        let items: Vec<u64> = (0..100).rev().collect();
        for j in [1, 2, 3, 8, 200] {
            let seen = AtomicU64::new(0);
            let out = pool_squares(&items, jobs(j), &seen);
            assert_eq!(out, items.iter().map(|i| i * i).collect::<Vec<_>>(), "-j {j}");
            assert_eq!(seen.load(Ordering::Relaxed), 100, "done saw every result");
        }
        assert_eq!(map(&[] as &[u64], jobs(4), |i| Ok::<_, ()>(*i), |_| {}), Ok(vec![]));
    }

    fn pool_squares(items: &[u64], j: NonZeroUsize, seen: &AtomicU64) -> Vec<u64> {
        map(
            items,
            j,
            |i| Ok::<_, ()>(i * i),
            |_| {
                seen.fetch_add(1, Ordering::Relaxed);
            },
        )
        .unwrap()
    }

    #[test]
    fn an_error_stops_the_pool_and_the_earliest_is_returned() {
        let items: Vec<u64> = (0..1000).collect();
        let ran = AtomicU64::new(0);
        let out = map(
            &items,
            jobs(1),
            |&i| {
                ran.fetch_add(1, Ordering::Relaxed);
                if i >= 10 { Err(format!("bad item {i}")) } else { Ok(i) }
            },
            |_| {},
        );
        assert_eq!(out, Err("bad item 10".to_string()));
        assert_eq!(ran.load(Ordering::Relaxed), 11, "one thread stops at the first error");
    }

    #[test]
    fn jobs_must_be_a_positive_number() {
        assert_eq!(parse_jobs("3").unwrap().get(), 3);
        assert!(parse_jobs("0").unwrap_err().contains("at least 1"));
        assert!(parse_jobs("-1").is_err() && parse_jobs("x").is_err());
    }
}
