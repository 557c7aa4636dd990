//! Threads: the global thread count ([`set_num_threads`], [`num_threads`])
//! and the `rayon` pools runs use, one per thread count, built on first use.
//!
//! The last [`MAX_POOLS`] pools used are kept; an older one is dropped from
//! the list and freed (its threads exit) as soon as no run still holds it, so
//! a program that tries many thread counts does not keep every pool's
//! threads forever.

use crate::process::PerProcess;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};

/// The most threads a run uses. [`set_num_threads`] and
/// [`Options::with_threads`](crate::Options::with_threads) clamp larger
/// counts to this (as numexpr clamps to `NUMEXPR_MAX_THREADS`): far beyond
/// any core count, low enough that a typo cannot ask the system for
/// millions of threads.
///
/// ```
/// let previous = vexpr::set_num_threads(1 << 20);
/// assert_eq!(vexpr::num_threads(), vexpr::MAX_THREADS);
/// vexpr::set_num_threads(previous);
/// ```
pub const MAX_THREADS: usize = 1024;

/// Pools kept for later runs: a program usually runs at one or two thread
/// counts; more than this many distinct counts in turn rebuild pools.
pub(crate) const MAX_POOLS: usize = 4;

/// The global thread count; 0 until set (then [`default_threads`]).
static THREADS: AtomicUsize = AtomicUsize::new(0);

/// `threads` within `1..=MAX_THREADS`.
pub(crate) fn clamp_threads(threads: usize) -> usize {
    threads.clamp(1, MAX_THREADS)
}

/// The thread count before any [`set_num_threads`]: `VEXPR_NUM_THREADS` if
/// set to a positive number, else the number of cores, at most
/// [`MAX_THREADS`].
fn default_threads() -> usize {
    static DEFAULT: OnceLock<usize> = OnceLock::new();
    *DEFAULT.get_or_init(|| {
        let threads = std::env::var("VEXPR_NUM_THREADS")
            .ok()
            .and_then(|v| v.trim().parse::<usize>().ok())
            .filter(|&n| n > 0)
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
        clamp_threads(threads)
    })
}

/// The number of threads evaluations use by default
/// ([`Options::default`](crate::Options::default) reads it): the last
/// [`set_num_threads`], else `VEXPR_NUM_THREADS` if it is set to a positive
/// number, else the number of cores; at most [`MAX_THREADS`].
///
/// ```
/// assert!((1..=vexpr::MAX_THREADS).contains(&vexpr::num_threads()));
/// ```
pub fn num_threads() -> usize {
    match THREADS.load(Ordering::Relaxed) {
        0 => default_threads(),
        n => n,
    }
}

/// Sets the number of threads evaluations use by default (for the whole
/// process, from the next [`Options::default`](crate::Options::default) on)
/// and returns the previous number, as numexpr's `set_num_threads` does.
/// Counts outside `1..=`[`MAX_THREADS`] are clamped into it.
///
/// ```
/// let previous = vexpr::set_num_threads(2);
/// assert_eq!(vexpr::num_threads(), 2);
/// assert_eq!(vexpr::Options::default().threads(), 2);
/// assert_eq!(vexpr::set_num_threads(previous), 2);
/// ```
pub fn set_num_threads(threads: usize) -> usize {
    let previous = THREADS.swap(clamp_threads(threads), Ordering::Relaxed);
    match previous {
        0 => default_threads(),
        n => n,
    }
}

/// Pools by their thread count, the most recently used last.
type Pools = Vec<(usize, Arc<rayon::ThreadPool>)>;

/// The kept pools. Per process: a child made by `fork` has none of its
/// parent's pool threads, so it builds its own.
static POOLS: PerProcess<Mutex<Pools>> = PerProcess::new();

fn pools() -> MutexGuard<'static, Pools> {
    // A panic while the lock was held leaves at worst a pool missing from
    // the list: keep using it.
    POOLS
        .get_or_init(|| Mutex::new(Vec::new()))
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
}

/// The pool of `threads` workers, built on first use; `None` if the system
/// refuses threads. The caller's `Arc` keeps the pool alive for its run even
/// if the pool leaves the kept list meanwhile.
fn pool_for(threads: usize) -> Option<Arc<rayon::ThreadPool>> {
    let mut pools = pools();
    if let Some(k) = pools.iter().position(|(n, _)| *n == threads) {
        let entry = pools.remove(k);
        let pool = Arc::clone(&entry.1);
        pools.push(entry);
        return Some(pool);
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("vexpr-{i}"))
        .build()
        .ok()?;
    let pool = Arc::new(pool);
    if pools.len() >= MAX_POOLS {
        // Out of the list; freed when the last run holding it returns
        // (dropping a rayon pool only tells its threads to exit).
        pools.remove(0);
    }
    pools.push((threads, Arc::clone(&pool)));
    Some(pool)
}

/// Runs `f` inside the pool of `threads` workers (on the calling thread for one).
pub(crate) fn with_pool<R: Send>(threads: usize, f: impl FnOnce() -> R + Send) -> R {
    if threads <= 1 {
        // One thread is the calling thread: no pool, no hand-over.
        return f();
    }
    match pool_for(threads) {
        Some(pool) => pool.install(f),
        // If the system refuses threads, the work still gets done here.
        None => f(),
    }
}

/// Runs `worker` on the calling thread and on `threads - 1` pool threads at
/// once, and returns when every copy has returned. The workers share their
/// work themselves (say, through an atomic counter).
///
/// The calling thread works instead of waiting: compared with handing the
/// whole job to the pool, one thread fewer has to be woken (2-30 µs each in
/// this virtual machine) and the caller needs no wake-up when the work is done.
pub(crate) fn run_shared(threads: usize, worker: &(dyn Fn() + Sync)) {
    let pool = if threads > 1 { pool_for(threads) } else { None };
    match pool {
        Some(pool) => pool.in_place_scope(|scope| {
            for _ in 1..threads {
                scope.spawn(|_| worker());
            }
            worker();
        }),
        None => worker(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Weak;

    fn kept() -> Vec<usize> {
        pools().iter().map(|(n, _)| *n).collect()
    }

    // Thread counts no other test uses, so that other tests running at the
    // same time can only evict these pools sooner, never keep them.
    const COUNTS: [usize; 6] = [21, 22, 23, 24, 25, 26];

    /// Held by the tests that cycle through more than `MAX_POOLS` counts, so
    /// that one does not evict the other's pools while it looks at them.
    static CYCLING: std::sync::Mutex<()> = std::sync::Mutex::new(());

    #[test]
    fn at_most_max_pools_are_kept_and_the_last_used_stays() {
        let _alone = CYCLING.lock().unwrap_or_else(|e| e.into_inner());
        for &n in &COUNTS {
            with_pool(n, || assert_eq!(rayon::current_num_threads(), n));
            assert!(kept().len() <= MAX_POOLS);
            // Not necessarily the last: another test may have used a pool
            // (of a count of its own) since.
            assert!(kept().contains(&n), "{n} in {:?}", kept());
        }
    }

    #[test]
    fn an_evicted_pool_works_for_its_holder_and_is_freed_after() {
        let _alone = CYCLING.lock().unwrap_or_else(|e| e.into_inner());
        let held = pool_for(27).expect("threads");
        let weak: Weak<rayon::ThreadPool> = Arc::downgrade(&held);
        for n in 28..28 + MAX_POOLS {
            with_pool(n, || ());
        }
        assert!(!kept().contains(&27));
        // Still whole for the run that holds it.
        assert_eq!(held.install(rayon::current_num_threads), 27);
        drop(held);
        assert!(
            weak.upgrade().is_none(),
            "the pool outlived its last holder"
        );
    }

    #[test]
    fn the_global_count_is_clamped() {
        assert_eq!(clamp_threads(0), 1);
        assert_eq!(clamp_threads(MAX_THREADS + 1), MAX_THREADS);
        assert_eq!(clamp_threads(3), 3);
    }
}
