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

/// Runs `f` inside the pool of `threads` workers (on the calling thread for one).
pub(crate) fn with_pool<R: Send>(threads: usize, f: impl FnOnce() -> R + Send) -> R {
    if threads <= 1 {
        // One thread is the calling thread: no pool, no hand-over.
        return f();
    }
    static POOLS: OnceLock<Mutex<HashMap<usize, Arc<rayon::ThreadPool>>>> = OnceLock::new();
    let pools = POOLS.get_or_init(Default::default);
    let pool = {
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
    };
    match pool {
        Some(pool) => pool.install(f),
        // If the system refuses threads, the work still gets done here.
        None => f(),
    }
}
