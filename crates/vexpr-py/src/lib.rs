//! `vexpr._vexpr`: the Python extension module behind the `vexpr` package.
//!
//! Python objects in, NumPy arrays out. The package's Python half
//! (`python/vexpr/`) gives numexpr's API (argument defaults, the caller's
//! frame, `E`, the sanitizer, the submodules); this module does everything
//! per call that has to be fast or zero-copy:
//!
//! | module | takes | gives |
//! |---|---|---|
//! | [`inputs`] | ndarrays (any layout, byte order, alignment, dtype numexpr takes), Python scalars, array-likes | [`vexpr::Value`]s that borrow the arrays' memory |
//! | [`cache`] | an expression and its inputs' types | the names it reads, the compiled [`vexpr::Expr`] (bounded caches) |
//! | [`run`] | a compiled expression, inputs, `out`, `order`, `casting` | the result: one NumPy allocation, filled with the GIL released |
//! | [`fastcall`] | a call of `evaluate` as CPython passes it (arguments on its stack) | the arguments of [`run::evaluate`], without the tuple and dict PyO3's `**kwargs` convention makes |
//! | [`fast`] | a call that repeats the thread's last one (same text, dtypes, contiguous arrays of one shape) | the same result, without the general path's lookups and checks |
//! | [`mapped`] | inputs and `out` in shared file mappings (`np.memmap`) | the same result, read and written a chunk at a time, their pages given back to the kernel (bounded resident memory) |
//! | [`kept`] | large result arrays NumPy frees | their buffers, kept (a few, bounded) for the next result of the same size |
//! | [`errors`] | a [`vexpr::Error`] | the exception numexpr raises for the same input |
//! | [`numexpr_object`] | an expression and a signature | `NumExpr` objects: callable, reusable, shareable between threads |

use pyo3::prelude::*;

pub mod cache;
pub mod errors;
pub mod fast;
pub mod fastcall;
pub mod inputs;
pub mod kept;
pub mod mapped;
pub mod numexpr_object;
pub mod run;
pub mod threads;

/// The extension module.
#[pymodule]
fn _vexpr(m: &Bound<'_, PyModule>) -> PyResult<()> {
    fastcall::add_evaluate(m)?;
    m.add_function(wrap_pyfunction!(run::validate, m)?)?;
    m.add_function(wrap_pyfunction!(run::re_evaluate, m)?)?;
    m.add_function(wrap_pyfunction!(run::clear_last, m)?)?;
    m.add_function(wrap_pyfunction!(cache::expression_names, m)?)?;
    m.add_function(wrap_pyfunction!(cache::clear_cache, m)?)?;
    m.add_function(wrap_pyfunction!(cache::cache_len, m)?)?;
    m.add_function(wrap_pyfunction!(kept::release_memory, m)?)?;
    m.add_function(wrap_pyfunction!(threads::set_num_threads, m)?)?;
    m.add_function(wrap_pyfunction!(threads::get_num_threads, m)?)?;
    m.add_function(wrap_pyfunction!(threads::detect_number_of_cores, m)?)?;
    m.add_function(wrap_pyfunction!(threads::_set_thread_local_num_threads, m)?)?;
    m.add_function(wrap_pyfunction!(run::check_order_casting, m)?)?;
    m.add_class::<numexpr_object::NumExpr>()?;
    m.add(
        "DaskArrayInput",
        m.py().get_type::<inputs::DaskArrayInput>(),
    )?;
    numexpr_object::enable_vectorcall(m.py())?;
    m.add("CACHE_SIZE", cache::CACHE_SIZE)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
