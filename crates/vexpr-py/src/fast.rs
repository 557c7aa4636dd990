//! The per-call fast path of `evaluate`, for a call that repeats this
//! thread's previous one in the ways that matter.
//!
//! In: the call's text, its locals (`local_dict`, or the caller's), `out`
//! and `sanitize`. Out: the result, or `None` when the call is not such a
//! repeat, and the general path ([`crate::run`]) takes it.
//!
//! A loop that calls `evaluate("2*a + 3*b", local_dict=d, out=o)` on
//! small arrays spends most of each call finding out again what the last
//! call found: the cache entry of the text, the names' types, the compiled
//! form, each input's layout, whether `out` overlaps an input. After a call
//! of the general path whose inputs are all C-contiguous, aligned ndarrays
//! of NumPy's built-in numeric types, this module keeps a [`Memo`] of it:
//! the text object, the entry and compiled form, and each input's dtype
//! object. The next call is a repeat when it passes the same text, a dict
//! with every name, exact ndarrays whose dtype objects are the memo's
//! (NumPy shares one object per built-in type), all C-contiguous, aligned
//! and of one shape, and an `out` (or none) of the result's dtype object
//! and that shape, apart from every input. It then runs straight over the
//! arrays' memory ([`vexpr::unstable::eval_contiguous`]).
//!
//! Names missing from the locals are looked up in the globals, as the
//! general path does (a function reading a module's arrays). Anything else
//! (a scalar or a list among the inputs, broadcasting, mappings other than
//! dicts, `out` that is an input, a very large file mapping) is the general
//! path's: the fast path only ever declines.

use crate::cache::{self, Entry};
use crate::inputs::Input;
use crate::run;
use numpy::PyUntypedArrayMethods;
use numpy::npyffi::{self, flags};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};
use std::cell::RefCell;
use std::ffi::c_int;
use std::sync::Arc;
use vexpr::{DType, Expr};

/// The most inputs a fast call takes (more go the general way).
const MAX_INPUTS: usize = 16;

/// What the fast path checks a call against: the general path's findings
/// for this thread's last call that qualified.
pub struct Memo {
    /// [`cache::generation`] when it was made: a cleared cache drops it.
    generation: u64,
    /// The text object of the call.
    source: Py<PyString>,
    sanitize: Option<bool>,
    entry: Arc<Entry>,
    expr: Arc<Expr>,
    /// The dtype objects of the inputs, in the order of the entry's names
    /// (kept alive here, so that a pointer compared with them is theirs),
    /// and the size of their elements.
    descrs: Vec<(Py<PyAny>, usize)>,
}

thread_local! {
    static MEMO: RefCell<Option<Memo>> = const { RefCell::new(None) };
}

/// Keeps the memo for the next call, after a call of the general path with
/// the same arguments ran `expr` (the form `entry` compiled for `inputs`),
/// when the inputs qualify; forgets it otherwise.
pub fn learn(
    py: Python<'_>,
    source: &Bound<'_, PyString>,
    sanitize: Option<bool>,
    entry: &Arc<Entry>,
    expr: &Arc<Expr>,
    inputs: &[Input<'_>],
) {
    let qualifies = !inputs.is_empty()
        && inputs.len() <= MAX_INPUTS
        && vexpr::unstable::stages(expr).is_empty()
        && !expr.result_dtype().is_bytes();
    let descrs: Option<Vec<(Py<PyAny>, usize)>> = qualifies
        .then(|| {
            inputs
                .iter()
                .map(|input| match input {
                    Input::Array(array, format)
                        if format.is_native()
                            && format.storage.is_dtype()
                            && !format.storage.dtype().is_bytes()
                            && layout(array.as_any()).is_some() =>
                    {
                        // SAFETY: `array` is a live ndarray, whose `descr` is
                        // a live dtype object; the new reference is owned.
                        let descr = unsafe {
                            Bound::from_borrowed_ptr(
                                py,
                                (*array.as_array_ptr()).fields.descr.cast(),
                            )
                        }
                        .unbind();
                        Some((descr, format.storage.dtype().itemsize()))
                    }
                    _ => None,
                })
                .collect()
        })
        .flatten();
    let memo = descrs.map(|descrs| Memo {
        generation: cache::generation(),
        source: source.clone().unbind(),
        sanitize,
        entry: Arc::clone(entry),
        expr: Arc::clone(expr),
        descrs,
    });
    // The previous memo is dropped after the borrow ends: dropping its
    // references may run Python code.
    let previous = MEMO.with_borrow_mut(|slot| std::mem::replace(slot, memo));
    drop(previous);
}

/// The memory of an ndarray the fast path reads: its data, element count
/// and shape, when it is an exact ndarray (not a subclass), C-contiguous
/// and aligned.
struct Layout<'a> {
    data: *mut u8,
    len: usize,
    shape: &'a [npyffi::npy_intp],
    descr: *mut npyffi::PyArray_Descr,
    flags: c_int,
}

/// `value`'s [`Layout`], or `None` when the fast path cannot take it.
fn layout<'a>(value: &'a Bound<'_, PyAny>) -> Option<Layout<'a>> {
    let ptr = value.as_ptr();
    // SAFETY: NumPy's C API is loaded (the general path ran before any memo
    // exists); `ptr` is a live object.
    if unsafe { npyffi::PyArray_CheckExact(value.py(), ptr) } == 0 {
        return None;
    }
    let array = ptr.cast::<npyffi::PyArrayObject>();
    // SAFETY: `ptr` is an exact ndarray: its fields are an ndarray's, and
    // `dimensions` holds `nd` sizes, alive as long as `value`.
    let (data, nd, dims, descr, array_flags) = unsafe {
        let fields = &(*array).fields;
        (
            fields.data.cast::<u8>(),
            fields.nd,
            fields.dimensions,
            fields.descr,
            fields.flags,
        )
    };
    let wanted = flags::NPY_ARRAY_C_CONTIGUOUS | flags::NPY_ARRAY_ALIGNED;
    if array_flags & wanted != wanted || nd < 1 {
        return None;
    }
    // SAFETY: as above.
    let shape = unsafe { std::slice::from_raw_parts(dims, nd as usize) };
    let len = shape
        .iter()
        .try_fold(1usize, |acc, &n| acc.checked_mul(n as usize))?;
    Some(Layout {
        data,
        len,
        shape,
        descr,
        flags: array_flags,
    })
}

/// Puts the memo back when the fast call ends, however it ends (it is taken
/// out for the call, so that Python code run by a dict lookup that calls
/// `evaluate` again finds none).
struct Restore(Option<Memo>);

impl Drop for Restore {
    fn drop(&mut self) {
        if let Some(memo) = self.0.take() {
            // Dropped after the borrow ends, as in `learn`.
            let displaced = MEMO.with_borrow_mut(|slot| slot.replace(memo));
            drop(displaced);
        }
    }
}

/// The fast path of `evaluate(ex, local_dict=local, global_dict=global,
/// out=out, sanitize=sanitize)` with `order` and `casting` at their
/// defaults (`local` and `global` are the caller's locals and globals when
/// not given); `None` when the general path is to take the call.
pub fn evaluate<'py>(
    py: Python<'py>,
    ex: &Bound<'py, PyString>,
    local: &Bound<'py, PyAny>,
    global: Option<&Bound<'py, PyAny>>,
    out: Option<&Bound<'py, PyAny>>,
    sanitize: Option<bool>,
    remember_last: bool,
) -> Option<PyResult<Bound<'py, PyAny>>> {
    let local = local.cast_exact::<PyDict>().ok()?;
    let restore = Restore(MEMO.with_borrow_mut(Option::take));
    let memo = restore.0.as_ref()?;
    if memo.generation != cache::generation()
        || memo.sanitize != sanitize
        || !(ex.is(&memo.source) || ex.to_str().ok()? == &*memo.entry.source)
    {
        return None;
    }
    // The inputs, kept alive for the run (another thread may take them out
    // of the dict while the GIL is released), and their memory.
    let names = &memo.entry.names.python;
    let mut held: [Option<Bound<'py, PyAny>>; MAX_INPUTS] = Default::default();
    for (slot, key) in held.iter_mut().zip(names) {
        // A name in neither dict, or a lookup that raised: the general path
        // looks again and reports it.
        let value = match local.get_item(key).ok()? {
            Some(value) => value,
            None => global?.cast_exact::<PyDict>().ok()?.get_item(key).ok()??,
        };
        *slot = Some(value);
    }
    let mut memory: [&[u8]; MAX_INPUTS] = [&[]; MAX_INPUTS];
    let mut shape: &[npyffi::npy_intp] = &[];
    let mut len = 0;
    let mut spans: [(usize, usize); MAX_INPUTS] = [(0, 0); MAX_INPUTS];
    for (k, (value, (descr, size))) in held.iter().zip(&memo.descrs).enumerate() {
        let input = layout(value.as_ref()?)?;
        if input.descr.cast() != descr.as_ptr() {
            return None;
        }
        if k == 0 {
            (shape, len) = (input.shape, input.len);
        } else if input.shape != shape {
            return None;
        }
        let bytes = len.checked_mul(*size)?;
        spans[k] = (input.data as usize, bytes);
        // SAFETY: the array is C-contiguous and aligned, so its `len`
        // elements of `size` bytes are the `bytes` bytes from `data`, alive
        // while `held[k]` holds the array. Nothing writes them during the
        // run: `out` is checked apart from them below.
        memory[k] = unsafe { std::slice::from_raw_parts(input.data.cast_const(), bytes) };
    }
    // Empty and very large runs (file mappings) take the general path.
    if len == 0 || len >= crate::mapped::MAPPED_FROM {
        return None;
    }
    let expr = &memo.expr;
    let inputs = &memory[..names.len()];
    let dtype = expr.result_dtype();
    // `out`'s memory, when it can take the result in place.
    let target = match out {
        Some(out) => {
            let target = layout(out)?;
            if target.flags & flags::NPY_ARRAY_WRITEABLE == 0
                || target.shape != shape
                || !is_native(target.descr, dtype)
            {
                return None;
            }
            let bytes = len * dtype.itemsize();
            let (lo, hi) = (target.data as usize, target.data as usize + bytes);
            if spans[..names.len()]
                .iter()
                .any(|&(at, n)| at < hi && lo < at + n)
            {
                return None;
            }
            // SAFETY: `out` is a writeable, C-contiguous, aligned array of
            // `len` elements of the result's type (its dtype is the native
            // one of that type), alive while the caller holds it, and apart
            // from every input.
            Some((out, unsafe {
                std::slice::from_raw_parts_mut(target.data, bytes)
            }))
        }
        None => None,
    };
    if remember_last && let Err(e) = run::remember(py, &memo.entry, expr, out, "K", "same_kind") {
        return Some(Err(e));
    }
    let result = match target {
        Some((out, slice)) => run::watched(py, len, false, |opts| {
            vexpr::unstable::eval_contiguous(expr, inputs, slice, opts)
        })
        .map(|()| out.clone()),
        None => {
            // SAFETY: `npy_intp` and `usize` have one size; every extent is
            // non-negative (NumPy's invariant).
            let dims =
                unsafe { std::slice::from_raw_parts(shape.as_ptr().cast::<usize>(), shape.len()) };
            let like = spans[0].0;
            match dtype {
                DType::Bool => new_result::<bool>(py, expr, inputs, dims, like),
                DType::Int32 => new_result::<i32>(py, expr, inputs, dims, like),
                DType::Int64 => new_result::<i64>(py, expr, inputs, dims, like),
                DType::Float32 => new_result::<f32>(py, expr, inputs, dims, like),
                DType::Float64 => new_result::<f64>(py, expr, inputs, dims, like),
                DType::Complex128 => new_result::<vexpr::Complex64>(py, expr, inputs, dims, like),
                DType::Bytes(_) => unreachable!("a memo's result is never a string"),
            }
        }
    };
    Some(result)
}

/// Whether `descr` is the native dtype of `dtype`'s elements.
fn is_native(descr: *mut npyffi::PyArray_Descr, dtype: DType) -> bool {
    // SAFETY: `descr` is the live dtype object of a live array.
    unsafe { crate::inputs::native_storage(descr) }
        .is_some_and(|s| s.is_dtype() && s.dtype() == dtype)
}

/// The result in a new array of `T`, the result's type, of `shape`
/// (uninitialised, then filled).
fn new_result<'py, T: vexpr::Element + numpy::Element>(
    py: Python<'py>,
    expr: &Expr,
    inputs: &[&[u8]],
    shape: &[usize],
    like: usize,
) -> PyResult<Bound<'py, PyAny>> {
    // SAFETY: `array` is kept to the end, after the last use of `slice`;
    // the run writes every element before the array is returned (on an
    // error it is dropped unseen).
    let (array, slice) = unsafe { run::empty::<T>(py, shape, like)? };
    let len = slice.len();
    // SAFETY: the same memory as `slice` (which is not used again), as
    // bytes; the run writes valid elements of `T`, the result's type, into
    // it.
    let bytes = unsafe {
        std::slice::from_raw_parts_mut(
            slice.as_mut_ptr().cast::<u8>(),
            std::mem::size_of_val(slice),
        )
    };
    run::watched(py, len, true, |opts| {
        vexpr::unstable::eval_contiguous(expr, inputs, bytes, opts)
    })?;
    Ok(array.into_any())
}
