//! Thread pools: one `rayon` pool per thread count, built on first use and kept.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// The default number of threads: `VEXPR_NUM_THREADS` if set to a positive
/// number, else the number of cores.
///
/// ```
/// assert!(vexpr::default_threads() >= 1);
/// ```
pub fn default_threads() -> usize {
    static DEFAULT: OnceLock<usize> = OnceLock::new();
    *DEFAULT.get_or_init(|| {
        std::env::var("VEXPR_NUM_THREADS")
            .ok()
            .and_then(|v| v.trim().parse::<usize>().ok())
            .filter(|&n| n > 0)
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
    })
}

/// The pool of `threads` workers, built on first use; `None` if the system
/// refuses threads.
fn pool_for(threads: usize) -> Option<Arc<rayon::ThreadPool>> {
    static POOLS: OnceLock<Mutex<HashMap<usize, Arc<rayon::ThreadPool>>>> = OnceLock::new();
    let pools = POOLS.get_or_init(Default::default);
    let mut map = pools
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    match map.get(&threads) {
        Some(pool) => Some(Arc::clone(pool)),
        None => rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("vexpr-{i}"))
            .build()
            .ok()
            .map(|pool| Arc::clone(map.entry(threads).or_insert_with(|| Arc::new(pool)))),
    }
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
