//! The thread count every evaluation uses, numexpr's global setting.
//!
//! The Python half reads numexpr's environment variables at import
//! (`NUMEXPR_MAX_THREADS`, `NUMEXPR_NUM_THREADS`, `OMP_NUM_THREADS`,
//! `VEXPR_NUM_THREADS`) and sets the count here; `set_num_threads` returns the
//! previous count, as numexpr's does. The process-wide count is the library's
//! own ([`vexpr::set_num_threads`]), so Rust code in the same process sees
//! it too; counts over [`vexpr::MAX_THREADS`] are clamped to it.
//!
//! A thread may override the count for its own evaluations
//! (`_set_thread_local_num_threads`), without touching the process-wide
//! setting other threads read: `vexpr.dask` runs each chunk with one vexpr
//! thread per Dask thread this way.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use std::cell::Cell;

thread_local! {
    /// This thread's own count; 0 when it follows the process-wide count.
    static LOCAL: Cell<usize> = const { Cell::new(0) };
}

/// Threads the next evaluations of the calling thread use.
pub fn current() -> usize {
    match LOCAL.with(Cell::get) {
        0 => process_wide(),
        n => n,
    }
}

/// The process-wide count.
fn process_wide() -> usize {
    vexpr::num_threads()
}

/// Sets the number of threads the calling thread's evaluations use, whatever
/// `set_num_threads` says, and returns the previous override; 0 removes the
/// override. Other threads are not affected.
///
/// >>> from vexpr import _vexpr
/// >>> previous = _vexpr._set_thread_local_num_threads(1)
/// >>> _vexpr.get_num_threads()
/// 1
/// >>> _ = _vexpr._set_thread_local_num_threads(previous)
#[pyfunction]
pub fn _set_thread_local_num_threads(nthreads: i64) -> PyResult<usize> {
    let Ok(n) = usize::try_from(nthreads) else {
        return Err(PyValueError::new_err(format!(
            "the number of threads must be at least 0, not {nthreads}"
        )));
    };
    Ok(LOCAL.with(|local| local.replace(n)))
}

/// Sets the number of threads evaluations use and returns the previous number.
#[pyfunction]
pub fn set_num_threads(nthreads: i64) -> PyResult<usize> {
    let Ok(n @ 1..) = usize::try_from(nthreads) else {
        return Err(PyValueError::new_err(format!(
            "the number of threads must be at least 1, not {nthreads}"
        )));
    };
    Ok(vexpr::set_num_threads(n))
}

/// The number of threads the calling thread's evaluations use.
#[pyfunction]
pub fn get_num_threads() -> usize {
    current()
}

/// The number of cores this process may run on.
#[pyfunction]
pub fn detect_number_of_cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}
