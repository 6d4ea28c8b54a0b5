//! What a benchmark reads about the process running it: resident memory and
//! CPU time, from Linux's `/proc` (elsewhere these read as unknown), and the
//! percentiles of a set of timings.
//!
//! - **Peak resident set** is `VmHWM` in `/proc/self/status`. Writing `5` to
//!   `/proc/self/clear_refs` resets it to the current resident set (Linux ≥
//!   4.0), so each run of a `--runs R` series has its own peak.
//! - **CPU time** is the calling thread's time on a CPU,
//!   `clock_gettime(CLOCK_THREAD_CPUTIME_ID)` (through `rustix`, since the
//!   workspace forbids `unsafe`). The world runs on one `current_thread`
//!   runtime on the calling thread, so this is the simulation's CPU time; on
//!   a loaded machine wall time also counts the waits for a core, and this
//!   does not. Why not `/proc/thread-self/schedstat`, which says the same
//!   sum: the kernel brings that figure up to date only at a scheduler tick
//!   or a context switch, so a reading can be a tick (1–4 ms) stale, as much
//!   as a tenth of an allocation cycle; the clock adds the running slice.

use std::time::Duration;

/// A field of `/proc/self/status` in bytes (`VmRSS`, `VmHWM`), if the system says.
fn status_bytes(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb = status.lines().find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))?;
    kb.trim().trim_end_matches("kB").trim().parse::<u64>().ok().map(|kb| kb * 1024)
}

/// The resident set now, in bytes.
pub fn rss() -> Option<u64> {
    status_bytes("VmRSS")
}

/// The peak resident set since the process started or [`reset_peak_rss`] last ran.
pub fn peak_rss() -> Option<u64> {
    status_bytes("VmHWM")
}

/// Reset the peak resident set to the current one; false where the system
/// cannot (then the peak covers every earlier run too).
pub fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// This thread's time on a CPU so far, if the system says.
#[cfg(unix)]
pub fn thread_cpu() -> Option<Duration> {
    use rustix::time::{ClockId, clock_gettime};
    let t = clock_gettime(ClockId::ThreadCPUTime);
    Some(Duration::new(u64::try_from(t.tv_sec).ok()?, u32::try_from(t.tv_nsec).ok()?))
}

/// This thread's time on a CPU so far: unknown off Unix.
#[cfg(not(unix))]
pub fn thread_cpu() -> Option<Duration> {
    None
}

/// The `p`-th percentile (0 < p ≤ 100) of `sorted` by nearest rank: the
/// smallest value with at least p% of the values at or below it.
pub fn percentile(sorted: &[Duration], p: f64) -> Option<Duration> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// Min, median and max of `values` (the median of an even count is the lower middle).
pub fn min_median_max(values: &[f64]) -> Option<(f64, f64, f64)> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    Some((v[0], v[(v.len() - 1) / 2], v[v.len() - 1]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: &[u64]) -> Vec<Duration> {
        v.iter().map(|&m| Duration::from_millis(m)).collect()
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let v = ms(&(1..=100).collect::<Vec<_>>());
        assert_eq!(percentile(&v, 50.0), Some(Duration::from_millis(50)));
        assert_eq!(percentile(&v, 99.0), Some(Duration::from_millis(99)));
        assert_eq!(percentile(&v, 100.0), Some(Duration::from_millis(100)));
        assert_eq!(percentile(&ms(&[7]), 90.0), Some(Duration::from_millis(7)));
        assert_eq!(percentile(&[], 50.0), None);
    }

    #[test]
    fn min_median_max_skips_unknowns() {
        assert_eq!(min_median_max(&[3.0, f64::NAN, 1.0, 2.0]), Some((1.0, 2.0, 3.0)));
        assert_eq!(min_median_max(&[4.0, 1.0]), Some((1.0, 1.0, 4.0)));
        assert_eq!(min_median_max(&[]), None);
    }

    #[test]
    fn the_thread_clock_counts_this_threads_work_to_the_microsecond() {
        if cfg!(unix) {
            let start = thread_cpu().expect("a thread CPU clock on Unix");
            let wall = std::time::Instant::now();
            let (mut last, mut x) = (start, 0u64);
            // Spin until 5 ms of CPU have passed; each reading is at least the
            // one before, and a reading moves on between ticks (steps below 1 ms).
            let mut smallest_step = Duration::MAX;
            while last - start < Duration::from_millis(5) {
                for i in 0..10_000u64 {
                    x = x.wrapping_mul(31).wrapping_add(i);
                }
                let now = thread_cpu().expect("clock");
                assert!(now >= last, "the thread clock went back: {last:?} then {now:?}");
                if now > last {
                    smallest_step = smallest_step.min(now - last);
                }
                last = now;
                assert!(wall.elapsed() < Duration::from_secs(60), "5 ms of CPU within a minute");
            }
            assert!(smallest_step < Duration::from_millis(1), "steps of {smallest_step:?} ({x})");
        }
    }

    #[test]
    fn the_process_reads_its_own_memory_on_linux() {
        if cfg!(target_os = "linux") {
            let (now, peak) = (rss().expect("VmRSS"), peak_rss().expect("VmHWM"));
            assert!(now > 0 && peak >= now, "rss {now}, peak {peak}");
            assert!(thread_cpu().is_some());
        }
    }
}
