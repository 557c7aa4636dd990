//! The thread count every evaluation uses, numexpr's global setting.
//!
//! The Python half reads numexpr's environment variables at import
//! (`NUMEXPR_MAX_THREADS`, `NUMEXPR_NUM_THREADS`, `OMP_NUM_THREADS`,
//! `VEXPR_NUM_THREADS`) and sets the count here; `set_num_threads` returns the
//! previous count, as numexpr's does.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The current count; 0 until first set or read (then the cores).
static THREADS: AtomicUsize = AtomicUsize::new(0);

/// Threads the next evaluations use.
pub fn current() -> usize {
    match THREADS.load(Ordering::Relaxed) {
        0 => vexpr::default_threads(),
        n => n,
    }
}

/// Sets the number of threads evaluations use and returns the previous number.
#[pyfunction]
pub fn set_num_threads(nthreads: i64) -> PyResult<usize> {
    let Ok(n @ 1..) = usize::try_from(nthreads) else {
        return Err(PyValueError::new_err(format!(
            "the number of threads must be at least 1, not {nthreads}"
        )));
    };
    let previous = current();
    THREADS.store(n, Ordering::Relaxed);
    Ok(previous)
}

/// The number of threads evaluations use.
#[pyfunction]
pub fn get_num_threads() -> usize {
    current()
}

/// The number of cores this process may run on.
#[pyfunction]
pub fn detect_number_of_cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}
