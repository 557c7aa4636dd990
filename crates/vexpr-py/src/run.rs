//! Evaluation: a compiled expression and its inputs in, a NumPy array out.
//!
//! The result is the one allocation of the output's size: NumPy allocates it
//! (uninitialised, as `numpy.empty`) and the VM writes every element straight
//! into it, with the GIL released. `out=` is written in place when it has the
//! result's type, shape and a contiguous layout (and through
//! `Expr::eval_in_place` when it is also one of the inputs); any other `out`
//! (another dtype under `casting=`, strided, or larger, to broadcast into)
//! receives the result through `numpy.copyto`. Results of expressions with
//! reductions, and string results, come back as vexpr arrays that NumPy
//! adopts without a copy.
//!
//! Large `np.memmap` inputs (or `out`) in shared file mappings go through
//! [`crate::mapped`] instead: a chunk at a time, their pages given back to the
//! kernel as it goes, so that the resident memory stays bounded.
//!
//! Ctrl-C: a run of more than [`WATCHED_FROM`] elements goes to a helper
//! thread while the calling thread checks Python's signals every
//! [`SIGNAL_POLL`]; on `KeyboardInterrupt` the run stops at its next block and
//! the exception propagates. With `out=`, the run finishes first, so that
//! `out` is never left half written.

use crate::cache::{self, Entry, Names};
use crate::errors;
use crate::inputs::{DaskArrayInput, Input, data_ptr, has_flag, memory_of};
use crate::threads;
use numpy::{
    Element as NumpyElement, PyArray, PyArrayDescrMethods, PyArrayMethods, PyUntypedArray,
    PyUntypedArrayMethods, npyffi,
};
use pyo3::exceptions::{PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyString, PyTuple, PyWeakrefMethods, PyWeakrefReference};
use std::cell::RefCell;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::Duration;
use vexpr::{Buffer, DType, Env, Expr, InterruptFlag, Options, Value};

/// Runs of at least this many elements are watched for Ctrl-C (a helper
/// thread costs some 20-50 µs; a million elements take a millisecond or more).
pub const WATCHED_FROM: usize = 1 << 20;

/// Runs of fewer elements keep the GIL: they take about as long as handing
/// it over and back (some hundreds of ns) would.
pub const RELEASE_GIL_FROM: usize = 1 << 12;

/// How often a watched run checks for Ctrl-C.
pub const SIGNAL_POLL: Duration = Duration::from_millis(20);

/// An expression ready to run: compiled for its inputs' types, with the inputs
/// (borrowing the compiled form and names from whoever holds them: no
/// reference counts change per call).
pub struct Prepared<'py, 'e> {
    pub expr: &'e Expr,
    pub names: &'e Names,
    pub inputs: Vec<Input<'py>>,
}

/// What `re_evaluate` repeats: numexpr's `_numexpr_last`, one per thread.
struct Last {
    entry: Arc<Entry>,
    expr: Arc<Expr>,
    /// A weak reference to `out`, so that the cache does not keep it alive.
    out: Option<Py<PyWeakrefReference>>,
    order: &'static str,
    casting: &'static str,
}

thread_local! {
    static LAST: RefCell<Option<Last>> = const { RefCell::new(None) };
}

/// Looks up `names` in `local`, then `global` (dicts or any mappings), and
/// takes each value as an input.
pub fn lookup<'py>(
    py: Python<'py>,
    names: &Names,
    local: Option<&Bound<'py, PyAny>>,
    global: Option<&Bound<'py, PyAny>>,
) -> PyResult<Vec<Input<'py>>> {
    let mut inputs = Vec::with_capacity(names.python.len());
    for (key, name) in names.python.iter().zip(&names.rust) {
        let key = key.bind(py);
        let found = match find(local, key)? {
            Some(value) => Some(value),
            None => find(global, key)?,
        };
        let value = found.ok_or_else(|| errors::missing_variable(name))?;
        inputs.push(Input::from_py(&value)?);
    }
    Ok(inputs)
}

/// `mapping[key]`, or `None` when the key is missing.
fn find<'py>(
    mapping: Option<&Bound<'py, PyAny>>,
    key: &Bound<'py, pyo3::types::PyString>,
) -> PyResult<Option<Bound<'py, PyAny>>> {
    let Some(mapping) = mapping else {
        return Ok(None);
    };
    // An exact dict directly; a subclass through its `__getitem__`, which
    // may be overridden (numexpr indexes the mapping).
    if let Ok(dict) = mapping.cast_exact::<PyDict>() {
        return dict.get_item(key);
    }
    match mapping.get_item(key) {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.is_instance_of::<pyo3::exceptions::PyKeyError>(mapping.py()) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The cache entry of `source`, its inputs (its names looked up) and the
/// expression compiled for their types: what a [`Prepared`] borrows.
pub fn prepare<'py>(
    py: Python<'py>,
    source: &str,
    local: Option<&Bound<'py, PyAny>>,
    global: Option<&Bound<'py, PyAny>>,
    sanitize: Option<bool>,
) -> PyResult<(Arc<Entry>, Arc<Expr>, Vec<Input<'py>>)> {
    let entry = cache::entry(py, source, sanitize)?;
    let inputs = lookup(py, &entry.names, local, global)?;
    let expr = entry.compiled_recent(py, inputs.iter().map(Input::dtype))?;
    Ok((entry, expr, inputs))
}

/// Keeps the call for `re_evaluate` (unless it repeats the kept one).
pub(crate) fn remember(
    py: Python<'_>,
    entry: &Arc<Entry>,
    expr: &Arc<Expr>,
    out: Option<&Bound<'_, PyAny>>,
    order: &'static str,
    casting: &'static str,
) -> PyResult<()> {
    // The same call as last time (the common case of a loop): nothing to
    // change, which saves making a weak reference to `out` on every call.
    let unchanged = LAST.with_borrow(|last| {
        last.as_ref().is_some_and(|l| {
            Arc::ptr_eq(&l.entry, entry)
                && Arc::ptr_eq(&l.expr, expr)
                && l.order == order
                && l.casting == casting
                && match (&l.out, out) {
                    (None, None) => true,
                    (Some(weak), Some(o)) => weak.bind(py).upgrade().is_some_and(|w| w.is(o)),
                    _ => false,
                }
        })
    });
    if unchanged {
        return Ok(());
    }
    let out = match out {
        Some(o) => Some(PyWeakrefReference::new(o)?.unbind()),
        None => None,
    };
    let last = Last {
        entry: Arc::clone(entry),
        expr: Arc::clone(expr),
        out,
        order,
        casting,
    };
    // The previous one is dropped after the borrow ends: dropping its `out`
    // reference may run Python code.
    let previous = LAST.with_borrow_mut(|slot| slot.replace(last));
    drop(previous);
    Ok(())
}

/// Evaluates the array expression `ex` element-wise (numexpr's `evaluate`,
/// which the package exports as `vexpr.evaluate`).
///
/// Variables are looked up in `local_dict`, then `global_dict` (any
/// mappings: dicts, a pandas `DataFrame`...), by default the caller's locals
/// and globals. `out` receives the result (cast under `casting`); `order` is
/// the result's memory order (`'K'` keeps the inputs'). Compiled expressions
/// are cached by text and input types.
///
/// >>> import numpy as np, vexpr as ne
/// >>> a = np.arange(4.0); b = 2.0
/// >>> ne.evaluate("a * b + 1")
/// array([1., 3., 5., 7.])
#[pyfunction]
#[pyo3(signature = (
    ex,
    local_dict = None,
    global_dict = None,
    out = None,
    order = "K",
    casting = "same_kind",
    sanitize = None,
    _frame_depth = 3,
    disable_cache = None,
    **kwargs
), text_signature = "(ex, local_dict=None, global_dict=None, out=None, order='K', casting='same_kind', sanitize=None, _frame_depth=3, disable_cache=False, **kwargs)")]
#[allow(clippy::too_many_arguments)]
pub fn evaluate<'py>(
    py: Python<'py>,
    ex: &Bound<'py, PyAny>,
    local_dict: Option<Bound<'py, PyAny>>,
    global_dict: Option<Bound<'py, PyAny>>,
    out: Option<Bound<'py, PyAny>>,
    order: &str,
    casting: &str,
    sanitize: Option<bool>,
    _frame_depth: isize,
    disable_cache: Option<&Bound<'py, PyAny>>,
    kwargs: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyAny>> {
    let Ok(ex) = ex.cast::<PyString>() else {
        return Err(PyValueError::new_err("must specify expression as a string"));
    };
    if let Some(kwargs) = kwargs
        && !kwargs.is_empty()
    {
        check_context(py, kwargs)?;
    }
    let remember_last = match disable_cache {
        Some(flag) => !flag.is_truthy()?,
        None => true,
    };
    // numexpr's defaults but the dicts (given, or the caller's): a repeat of
    // this thread's last such call may take the fast path.
    let defaults = order == "K" && casting == "same_kind";
    // numexpr's default depth, 3, is the caller's frame: this function has
    // none of its own.
    let scope = Scope::of(py, local_dict, global_dict, _frame_depth - 3)?;
    if defaults
        && let Some(local) = &scope.local
        && let Some(result) = crate::fast::evaluate(
            py,
            ex,
            local,
            scope.global.as_ref(),
            out.as_ref(),
            sanitize,
            remember_last,
        )
    {
        scope.finish();
        return result;
    }
    let result = (|| {
        let (order, casting) = check_order_casting(order, casting)?;
        let (entry, expr, inputs) = prepare(
            py,
            ex.to_str()?,
            scope.local.as_ref(),
            scope.global.as_ref(),
            sanitize,
        )?;
        if remember_last {
            remember(py, &entry, &expr, out.as_ref(), order, casting)?;
        }
        if defaults {
            crate::fast::learn(py, ex, sanitize, &entry, &expr, &inputs);
        }
        let prepared = Prepared {
            expr: &expr,
            names: &entry.names,
            inputs,
        };
        execute(py, &prepared, out.as_ref(), order, casting)
    })();
    // A Dask array among the inputs (found before anything computes it):
    // the same call, to `vexpr.dask.evaluate`, which builds a lazy graph.
    let result = match result {
        Err(e) if e.is_instance_of::<DaskArrayInput>(py) => (|| {
            let call = PyDict::new(py);
            if let Some(kwargs) = kwargs {
                call.update(kwargs.as_mapping())?;
            }
            call.set_item("local_dict", &scope.local)?;
            call.set_item("global_dict", &scope.global)?;
            call.set_item("out", &out)?;
            call.set_item("order", order)?;
            call.set_item("casting", casting)?;
            call.set_item("sanitize", sanitize)?;
            py.import("vexpr.dask")?
                .getattr("evaluate")?
                .call((ex,), Some(&call))
        })(),
        other => other,
    };
    scope.finish();
    result
}

/// numexpr's `optimization=` and `truediv=` keywords, checked by the
/// package's `_check_context` (they change nothing).
fn check_context(py: Python<'_>, kwargs: &Bound<'_, PyDict>) -> PyResult<()> {
    py.import("vexpr")?
        .getattr("_check_context")?
        .call1((kwargs,))?;
    Ok(())
}

/// The mappings names are looked up in, and the frame's locals to clear
/// afterwards (so that they keep no arrays alive, as numexpr does).
pub struct Scope<'py> {
    pub local: Option<Bound<'py, PyAny>>,
    pub global: Option<Bound<'py, PyAny>>,
    clear: Option<Bound<'py, PyDict>>,
}

impl<'py> Scope<'py> {
    /// `local` and `global` when given, else the locals and globals of the
    /// calling Python frame, or of the frame `up` levels above it; the
    /// frame's locals are to be cleared afterwards unless they are its
    /// globals (at module level).
    pub fn of(
        py: Python<'py>,
        local: Option<Bound<'py, PyAny>>,
        global: Option<Bound<'py, PyAny>>,
        up: isize,
    ) -> PyResult<Scope<'py>> {
        if local.is_some() && global.is_some() {
            return Ok(Scope {
                local,
                global,
                clear: None,
            });
        }
        let (frame_local, frame_global) = if up <= 0 {
            caller_namespaces(py, local.is_none())?
        } else {
            static GETFRAME: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
            let getframe = GETFRAME.get_or_try_init(py, || {
                Ok::<_, PyErr>(py.import("sys")?.getattr("_getframe")?.unbind())
            })?;
            // Called from here, `sys._getframe(0)` is the caller's frame.
            let frame = getframe.bind(py).call1((up,))?;
            let frame_local = match local {
                None => Some(frame.getattr("f_locals")?),
                Some(_) => None,
            };
            (frame_local, frame.getattr("f_globals")?)
        };
        let clear = match &frame_local {
            Some(l) if !l.is(&frame_global) => l.cast::<PyDict>().ok().cloned(),
            _ => None,
        };
        Ok(Scope {
            local: local.or(frame_local),
            global: global.or(Some(frame_global)),
            clear,
        })
    }

    /// Clears the frame's locals if they were taken.
    pub fn finish(self) {
        if let Some(locals) = self.clear {
            locals.clear();
        }
    }
}

/// The calling frame's locals (when `locals`) and globals: what `locals()`
/// and `globals()` give there.
fn caller_namespaces(
    py: Python<'_>,
    locals: bool,
) -> PyResult<(Option<Bound<'_, PyAny>>, Bound<'_, PyAny>)> {
    // SAFETY: with the GIL held, `PyEval_GetGlobals` returns a borrowed
    // reference to the globals of the innermost Python frame (this function
    // is called from Python code, and a builtin function has no frame of its
    // own), or null when there is no Python frame; the reference is made an
    // owned one at once.
    let global = unsafe { Bound::from_borrowed_ptr_or_opt(py, pyo3::ffi::PyEval_GetGlobals()) };
    let Some(global) = global else {
        return Err(PyValueError::new_err("call stack is not deep enough"));
    };
    if !locals {
        return Ok((None, global));
    }
    // SAFETY: as above: a borrowed reference to the frame's locals mapping
    // (updated from its fast locals, as `frame.f_locals` is), made owned at
    // once; null with an exception set on failure.
    let local = unsafe { Bound::from_borrowed_ptr_or_err(py, pyo3::ffi::PyEval_GetLocals()) }?;
    Ok((Some(local), global))
}

/// numexpr's `validate`: prepares `ex` for `re_evaluate` (raising what
/// `evaluate` would raise before running).
#[pyfunction]
#[pyo3(signature = (ex, local_dict, global_dict, out, order, casting, sanitize))]
#[allow(clippy::too_many_arguments)]
pub fn validate<'py>(
    py: Python<'py>,
    ex: &str,
    local_dict: Option<Bound<'py, PyAny>>,
    global_dict: Option<Bound<'py, PyAny>>,
    out: Option<Bound<'py, PyAny>>,
    order: &str,
    casting: &str,
    sanitize: Option<bool>,
) -> PyResult<()> {
    let (order, casting) = check_order_casting(order, casting)?;
    let (entry, expr, _) = prepare(py, ex, local_dict.as_ref(), global_dict.as_ref(), sanitize)?;
    remember(py, &entry, &expr, out.as_ref(), order, casting)
}

/// numexpr's `re_evaluate`: the last expression this thread evaluated or
/// validated, on the current values of its names.
#[pyfunction]
#[pyo3(signature = (local_dict, global_dict))]
pub fn re_evaluate<'py>(
    py: Python<'py>,
    local_dict: Option<Bound<'py, PyAny>>,
    global_dict: Option<Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let last = LAST.with_borrow(|last| {
        last.as_ref().map(|l| {
            (
                Arc::clone(&l.entry),
                Arc::clone(&l.expr),
                l.out.as_ref().map(|o| o.clone_ref(py)),
                l.order,
                l.casting,
            )
        })
    });
    let Some((entry, expr, out, order, casting)) = last else {
        return Err(PyRuntimeError::new_err(
            "A previous evaluate() execution was not found, please call `validate` or `evaluate` once before `re_evaluate`",
        ));
    };
    let inputs = lookup(py, &entry.names, local_dict.as_ref(), global_dict.as_ref())?;
    let dtypes: Vec<DType> = inputs.iter().map(Input::dtype).collect();
    let same_types = entry
        .names
        .rust
        .iter()
        .zip(&dtypes)
        .all(|(n, t)| expr.signature().get(n) == Some(*t));
    let expr = if same_types {
        expr
    } else {
        entry.compiled(py, &dtypes)?
    };
    // A dead weak reference means `out` is gone: evaluate into a new array.
    let out = match out {
        Some(weak) => weak.bind(py).upgrade(),
        None => None,
    };
    let prepared = Prepared {
        expr: &expr,
        names: &entry.names,
        inputs,
    };
    execute(py, &prepared, out.as_ref(), order, casting)
}

/// Forgets this thread's last expression (numexpr's `disable_cache`).
#[pyfunction]
pub fn clear_last() {
    LAST.with_borrow_mut(|last| *last = None);
}

/// `order` and `casting` checked, as the static strings they equal.
#[pyfunction]
#[pyo3(name = "_check_order_casting")]
pub fn check_order_casting(order: &str, casting: &str) -> PyResult<(&'static str, &'static str)> {
    const ORDERS: [&str; 4] = ["K", "C", "F", "A"];
    const CASTINGS: [&str; 5] = ["same_kind", "safe", "unsafe", "no", "equiv"];
    let Some(order) = ORDERS.iter().find(|&&o| o == order) else {
        return Err(PyValueError::new_err(format!(
            "order must be one of 'C', 'F', 'A', 'K', not {order:?}"
        )));
    };
    let Some(casting) = CASTINGS.iter().find(|&&c| c == casting) else {
        return Err(PyValueError::new_err(format!(
            "casting must be one of 'no', 'equiv', 'safe', 'same_kind', 'unsafe', not {casting:?}"
        )));
    };
    Ok((order, casting))
}

/// Runs a prepared expression: into a new array, or into `out`.
pub fn execute<'py>(
    py: Python<'py>,
    p: &Prepared<'py, '_>,
    out: Option<&Bound<'py, PyAny>>,
    order: &str,
    casting: &str,
) -> PyResult<Bound<'py, PyAny>> {
    let fortran = fortran_order(order, &p.inputs);
    let ndim = p
        .inputs
        .iter()
        .filter_map(Input::array)
        .map(|a| a.ndim())
        .max()
        .unwrap_or(0);
    let reversed = fortran.then_some(ndim);
    // Large inputs (or `out`) in shared file mappings: a chunk at a time,
    // giving their pages back as it goes (bounded resident memory).
    if let Some(plan) = crate::mapped::plan(py, p, out, reversed)? {
        return crate::mapped::run(py, p, plan, out, casting);
    }
    match out {
        None => {
            let values = values(p, reversed)?;
            let result = new_result(py, p.expr, &p.names.rust, &values, true)?;
            Ok(if fortran {
                result.getattr("T")?
            } else {
                result
            })
        }
        Some(out) => into_out(py, p, out, reversed, casting),
    }
}

/// Whether to run in Fortran order (over the transposed views, so that the
/// VM reads them in memory order and the result is Fortran-ordered as
/// numexpr's): with `order='F'`, or with `'K'`/`'A'` when every input of two
/// or more dimensions is Fortran- and not C-contiguous.
fn fortran_order(order: &str, inputs: &[Input<'_>]) -> bool {
    match order {
        "F" => true,
        "K" | "A" => {
            let mut arrays = inputs
                .iter()
                .filter_map(Input::array)
                .filter(|a| a.ndim() >= 2)
                .peekable();
            arrays.peek().is_some()
                && arrays.all(|a| a.is_fortran_contiguous() && !a.is_c_contiguous())
        }
        _ => false,
    }
}

/// The inputs' values, in the expression's signature order.
fn values<'a>(p: &'a Prepared<'_, '_>, reversed: Option<usize>) -> PyResult<Vec<Value<'a>>> {
    values_except(p, reversed, None)
}

/// The inputs' values, except that input `skip` (whose memory is the output
/// of an evaluation in place) gets a placeholder, so that no view of the
/// output's memory exists while it is written.
fn values_except<'a>(
    p: &'a Prepared<'_, '_>,
    reversed: Option<usize>,
    skip: Option<usize>,
) -> PyResult<Vec<Value<'a>>> {
    let mut values = Vec::with_capacity(p.inputs.len());
    for (k, input) in p.inputs.iter().enumerate() {
        values.push(match skip {
            Some(s) if s == k => Value::Scalar(vexpr::Scalar::Bool(false)),
            _ => input.value(reversed)?,
        });
    }
    Ok(values)
}

/// The inputs as an environment, leaving out `skip` (the in-place input),
/// for the calls that take names.
fn environment<'a>(names: &[String], values: &[Value<'a>], skip: Option<usize>) -> Env<'a> {
    let mut env = Env::new();
    for (k, (name, value)) in names.iter().zip(values).enumerate() {
        if Some(k) != skip {
            env.set(name, value.clone());
        }
    }
    env
}

fn options() -> Options {
    Options::default().with_threads(threads::current())
}

/// Evaluates into a new NumPy array (C order over the views `values` of the
/// variables `names`). `cancellable`: Ctrl-C may stop the run (the result is
/// then discarded).
fn new_result<'py>(
    py: Python<'py>,
    expr: &Expr,
    names: &[String],
    values: &[Value<'_>],
    cancellable: bool,
) -> PyResult<Bound<'py, PyAny>> {
    let dtype = expr.result_dtype();
    if !vexpr::unstable::stages(expr).is_empty() || dtype.is_bytes() {
        let len_hint = values
            .iter()
            .map(|v| v.shape().iter().product::<usize>())
            .max()
            .unwrap_or(0);
        let env = environment(names, values, None);
        let array = watched(py, len_hint, cancellable, |opts| expr.eval_with(&env, opts))?;
        return adopt(py, array);
    }
    match dtype {
        DType::Bool => fill_new::<bool>(py, expr, values, cancellable),
        DType::Int32 => fill_new::<i32>(py, expr, values, cancellable),
        DType::Int64 => fill_new::<i64>(py, expr, values, cancellable),
        DType::Float32 => fill_new::<f32>(py, expr, values, cancellable),
        DType::Float64 => fill_new::<f64>(py, expr, values, cancellable),
        DType::Complex128 => fill_new::<vexpr::Complex64>(py, expr, values, cancellable),
        DType::Bytes(_) => unreachable!("string results take the branch above"),
    }
}

fn fill_new<'py, T: vexpr::Element + NumpyElement>(
    py: Python<'py>,
    expr: &Expr,
    values: &[Value<'_>],
    cancellable: bool,
) -> PyResult<Bound<'py, PyAny>> {
    if size_bound(values) < RELEASE_GIL_FROM {
        return fill_new_small::<T>(py, expr, values);
    }
    let shape = expr
        .result_shape_positional(values)
        .map_err(|e| errors::to_py(&e))?;
    // SAFETY: `array` lives to the end of this function, after the last use
    // of `slice`; `eval_into_positional` writes every element before the
    // array is returned (on an error or interruption it is dropped unseen).
    let (array, slice) = unsafe { empty::<T>(py, &shape, widest_address(values))? };
    watched(py, slice.len(), cancellable, |opts| {
        expr.eval_into_positional(values, slice, opts)
    })?;
    Ok(array.into_any())
}

/// A small result in one pass over the inputs (shape, allocation and run),
/// keeping the GIL: the per-call cost is what matters at this size.
fn fill_new_small<'py, T: vexpr::Element + NumpyElement>(
    py: Python<'py>,
    expr: &Expr,
    values: &[Value<'_>],
) -> PyResult<Bound<'py, PyAny>> {
    let mut array = None;
    let outcome = expr.eval_positional_with(values, options(), |shape: &[usize]| {
        // SAFETY: `array` keeps the new array to the end of this function,
        // after the run's last write into `slice`; the run writes every
        // element before the array is returned (on an error it is dropped
        // unseen).
        let (new, slice) = unsafe { empty::<T>(py, shape, 0).map_err(Failed)? };
        array = Some(new);
        Ok::<_, Failed>(slice)
    });
    outcome.map_err(|Failed(e)| e)?;
    Ok(array.expect("allocated before the run").into_any())
}

/// Why a run into a new NumPy array failed: the library refused, or NumPy
/// could not allocate.
struct Failed(PyErr);

impl From<vexpr::Error> for Failed {
    fn from(e: vexpr::Error) -> Failed {
        Failed(errors::to_py(&e))
    }
}

/// A new NumPy array of `T` of `shape` (C order, uninitialised, as
/// `numpy.empty`), and its elements as a slice for the VM to fill. A large
/// one starts at the same offset within a cache line as the address `like`
/// (see `kept`).
///
/// # Safety
///
/// The slice borrows the array's memory, which only the returned array
/// object keeps alive: the caller must keep the array while it uses the
/// slice. The elements are uninitialised (every bit pattern is a valid `T`,
/// but the values are garbage): the caller writes every one of them before
/// the array reaches Python, or drops the array unseen.
pub(crate) unsafe fn empty<'py, T: vexpr::Element + NumpyElement>(
    py: Python<'py>,
    shape: &[usize],
    like: usize,
) -> PyResult<(Bound<'py, PyUntypedArray>, &'py mut [T])> {
    let len = shape
        .iter()
        .try_fold(1usize, |acc, &n| acc.checked_mul(n))
        .ok_or_else(|| {
            PyValueError::new_err(format!("the result's shape {shape:?} is too large"))
        })?;
    // A large result's memory comes from (and goes back to) the kept
    // buffers, while the guard lives.
    let _kept = (len.saturating_mul(std::mem::size_of::<T>()) >= crate::kept::KEPT_FROM)
        .then(|| crate::kept::for_results(py, like));
    // SAFETY: NumPy's C API is loaded (rust-numpy imports it on first use,
    // with the GIL held, as here); this is its ndarray type object.
    let subtype = unsafe { npyffi::get_type_object(py, npyffi::NpyTypes::PyArray_Type) };
    // SAFETY: `PyArray_NewFromDescr` steals the new reference to the
    // descriptor; `shape` is `shape.len()` sizes, read (not written) by
    // NumPy, which takes them as `npy_intp` (the same size as `usize`; a size
    // above `isize::MAX` reads as negative, which NumPy refuses). Null
    // strides, data and flags 0 ask for a new C-ordered array of its own.
    let ptr = unsafe {
        npyffi::PY_ARRAY_API.PyArray_NewFromDescr(
            py,
            subtype,
            T::get_dtype(py).into_dtype_ptr(),
            shape.len() as std::ffi::c_int,
            shape.as_ptr().cast::<npyffi::npy_intp>().cast_mut(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            0,
            std::ptr::null_mut(),
        )
    };
    // SAFETY: a new reference to an ndarray, or null with an exception set.
    let array =
        unsafe { Bound::from_owned_ptr_or_err(py, ptr)?.cast_into_unchecked::<PyUntypedArray>() };
    let data = if len == 0 {
        std::ptr::NonNull::<T>::dangling().as_ptr()
    } else {
        data_ptr(&array).cast::<T>()
    };
    // SAFETY: `data` points at the `len` elements of `T` of the new
    // C-contiguous array (its dtype is `T::get_dtype`, aligned as NumPy
    // allocates), or is a dangling aligned pointer for no elements. Nothing
    // else refers to them until the array is returned; the caller keeps
    // `array`, and so the memory, alive while it uses the slice.
    let slice = unsafe { std::slice::from_raw_parts_mut(data, len) };
    Ok((array, slice))
}

/// The address of the first element of the input with the most elements
/// (0 without arrays): the result's elements line up with its.
fn widest_address(values: &[Value<'_>]) -> usize {
    values
        .iter()
        .filter_map(|v| match v {
            Value::Array(a) => Some(a),
            Value::Scalar(_) => None,
        })
        .max_by_key(|a| a.len())
        .map_or(0, |a| {
            let unit = a.format().map_or(a.dtype().itemsize(), |_| 1);
            a.bytes().as_ptr() as usize + a.offset() * unit
        })
}

/// At least the result's element count: the product of the largest extent
/// of each (right-aligned) dimension over the inputs, the broadcast shape's
/// size when they broadcast.
fn size_bound(values: &[Value<'_>]) -> usize {
    let ndim = values.iter().map(|v| v.shape().len()).max().unwrap_or(0);
    (0..ndim)
        .map(|d| {
            values
                .iter()
                .filter_map(|v| {
                    let shape = v.shape();
                    (d + shape.len()).checked_sub(ndim).map(|i| shape[i])
                })
                .max()
                .unwrap_or(1)
        })
        .fold(1usize, |acc, n| acc.saturating_mul(n))
}

/// A vexpr array as a NumPy array: numeric buffers are adopted without a
/// copy; strings are copied into a NumPy `S` array.
pub(crate) fn adopt(py: Python<'_>, array: vexpr::Array) -> PyResult<Bound<'_, PyAny>> {
    let shape = array.shape().to_vec();
    fn shaped<'py, T: NumpyElement>(
        py: Python<'py>,
        v: Vec<T>,
        shape: &[usize],
    ) -> PyResult<Bound<'py, PyAny>> {
        Ok(PyArray::from_vec(py, v).reshape(shape)?.into_any())
    }
    match array.into_buffer() {
        Buffer::Bool(v) => shaped(py, v, &shape),
        Buffer::Int32(v) => shaped(py, v, &shape),
        Buffer::Int64(v) => shaped(py, v, &shape),
        Buffer::Float32(v) => shaped(py, v, &shape),
        Buffer::Float64(v) => shaped(py, v, &shape),
        Buffer::Complex128(v) => shaped(py, v, &shape),
        Buffer::Bytes { data, width } => {
            let numpy = py.import("numpy")?;
            let bytes = pyo3::types::PyBytes::new(py, &data);
            let flat = numpy.call_method1("frombuffer", (bytes, format!("S{width}")))?;
            flat.call_method1("reshape", (PyTuple::new(py, &shape)?,))?
                .call_method0("copy")
        }
    }
}

/// Evaluates into `out`.
fn into_out<'py>(
    py: Python<'py>,
    p: &Prepared<'py, '_>,
    out: &Bound<'py, PyAny>,
    reversed: Option<usize>,
    casting: &str,
) -> PyResult<Bound<'py, PyAny>> {
    let Ok(out_array) = out.cast::<PyUntypedArray>() else {
        return Err(PyTypeError::new_err("out must be a NumPy array"));
    };
    if !has_flag(out_array, npyffi::flags::NPY_ARRAY_WRITEABLE) {
        return Err(PyValueError::new_err("out is read-only"));
    }
    let expr = p.expr;
    let dtype = expr.result_dtype();
    let out_format = crate::inputs::format_of(out_array).ok();
    let native = out_format
        .is_some_and(|f| f.is_native() && f.storage.is_dtype() && f.storage.dtype() == dtype);
    let contiguous = if reversed.is_some() {
        out_array.is_fortran_contiguous()
    } else {
        out_array.is_c_contiguous()
    };
    let aligned = has_flag(out_array, npyffi::flags::NPY_ARRAY_ALIGNED);
    if native && contiguous && aligned && vexpr::unstable::stages(expr).is_empty() {
        // The input that is `out` itself (same memory, layout and type) is
        // evaluated in place; any other overlap goes through a copy below.
        let (out_bytes, _) = memory_of(out_array);
        let mut same = None;
        let mut overlap = false;
        for (k, input) in p.inputs.iter().enumerate() {
            let Some(a) = input.array() else { continue };
            let (bytes, _) = memory_of(a);
            if !overlaps(bytes, out_bytes) {
                continue;
            }
            if a.is(out_array) || same_view(a, out_array) {
                same = Some(k);
            } else {
                overlap = true;
            }
        }
        if !overlap {
            let values = values_except(p, reversed, same)?;
            let mut shape = out_array.shape().to_vec();
            if reversed.is_some() {
                shape.reverse();
            }
            let target = Target {
                names: &p.names.rust,
                values: &values,
                in_place: same,
            };
            let filled = match dtype {
                DType::Bool => fill_out::<bool>(py, expr, &target, out_array, &shape)?,
                DType::Int32 => fill_out::<i32>(py, expr, &target, out_array, &shape)?,
                DType::Int64 => fill_out::<i64>(py, expr, &target, out_array, &shape)?,
                DType::Float32 => fill_out::<f32>(py, expr, &target, out_array, &shape)?,
                DType::Float64 => fill_out::<f64>(py, expr, &target, out_array, &shape)?,
                DType::Complex128 => {
                    fill_out::<vexpr::Complex64>(py, expr, &target, out_array, &shape)?
                }
                DType::Bytes(_) => unreachable!("`native` excludes strings"),
            };
            if filled {
                return Ok(out.clone());
            }
        }
    }
    // Every other case: the result, then NumPy's copy into `out` under
    // `casting` (which also broadcasts it to `out`'s shape).
    let values = values(p, reversed)?;
    let mut result = new_result(py, expr, &p.names.rust, &values, false)?;
    if reversed.is_some() {
        result = result.getattr("T")?;
    }
    copy_into(py, out, &result, casting)
}

/// NumPy's copy of `result` into `out` under `casting` (which also
/// broadcasts it to `out`'s shape); `out`.
pub(crate) fn copy_into<'py>(
    py: Python<'py>,
    out: &Bound<'py, PyAny>,
    result: &Bound<'py, PyAny>,
    casting: &str,
) -> PyResult<Bound<'py, PyAny>> {
    static COPYTO: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let copyto = COPYTO.get_or_try_init(py, || {
        Ok::<_, PyErr>(py.import("numpy")?.getattr("copyto")?.unbind())
    })?;
    let kwargs = PyDict::new(py);
    kwargs.set_item("casting", casting)?;
    copyto.bind(py).call((out, result), Some(&kwargs))?;
    Ok(out.clone())
}

/// The inputs of an evaluation into `out`, and which of them (if any) is
/// `out` itself.
struct Target<'t, 'a> {
    names: &'t [String],
    values: &'t [Value<'a>],
    in_place: Option<usize>,
}

/// Writes the result into `out`'s memory (a contiguous, aligned, native array
/// of the result's type and of `shape`), in place of input
/// `target.in_place` if given; `false`, writing nothing, when the result's
/// shape is not `shape` (a broadcast into `out`, which the caller leaves to
/// NumPy). The shape is checked in the same call that runs the expression,
/// so the inputs are checked and broadcast once.
fn fill_out<T: vexpr::Element>(
    py: Python<'_>,
    expr: &Expr,
    target: &Target<'_, '_>,
    out: &Bound<'_, PyUntypedArray>,
    shape: &[usize],
) -> PyResult<bool> {
    let len: usize = shape.iter().product();
    let data = if len == 0 {
        std::ptr::NonNull::<T>::dangling().as_ptr()
    } else {
        data_ptr(out).cast::<T>()
    };
    // The in-place input is left out of the environment: its memory is `out`.
    let env = target
        .in_place
        .map(|k| environment(target.names, target.values, Some(k)));
    // SAFETY: `out` is writeable, aligned, contiguous and holds `len`
    // elements of `T` (its dtype is `T`'s, checked by the caller). No view in
    // `target.values` overlaps it: the caller sends overlapping inputs down
    // the copying path, except the one that is `out` itself, which has a
    // placeholder there and is read through this slice (`eval_in_place`).
    let slice = unsafe { std::slice::from_raw_parts_mut(data, len) };
    watched(py, len, false, |opts| match (&env, target.in_place) {
        (Some(env), Some(k)) => expr
            .eval_in_place_with(env, &target.names[k], shape, slice, opts)
            .map(|()| true),
        // `Err(None)`: the result's shape is not `out`'s.
        _ => match expr.eval_positional_with(target.values, opts, |result: &[usize]| {
            if result == shape {
                Ok(slice)
            } else {
                Err(None)
            }
        }) {
            Ok(()) => Ok(true),
            Err(None) => Ok(false),
            Err(Some(e)) => Err(e),
        },
    })
}

pub(crate) fn overlaps(a: &[u8], b: &[u8]) -> bool {
    let (a0, a1) = (a.as_ptr() as usize, a.as_ptr() as usize + a.len());
    let (b0, b1) = (b.as_ptr() as usize, b.as_ptr() as usize + b.len());
    !a.is_empty() && !b.is_empty() && a0 < b1 && b0 < a1
}

pub(crate) fn same_view(a: &Bound<'_, PyUntypedArray>, b: &Bound<'_, PyUntypedArray>) -> bool {
    data_ptr(a) == data_ptr(b)
        && a.shape() == b.shape()
        && a.strides() == b.strides()
        && a.dtype().is(b.dtype())
}

/// Runs `run` with the GIL released. A run of `len` ≥ [`WATCHED_FROM`]
/// elements goes to a helper thread while this one checks for Ctrl-C; with
/// `cancellable` the run is then stopped, else it finishes first. Either way
/// the `KeyboardInterrupt` is raised.
pub(crate) fn watched<R: Send>(
    py: Python<'_>,
    len: usize,
    cancellable: bool,
    run: impl FnOnce(Options) -> vexpr::Result<R> + Send,
) -> PyResult<R> {
    let opts = options();
    if len < RELEASE_GIL_FROM {
        return run(opts).map_err(|e| errors::to_py(&e));
    }
    if len < WATCHED_FROM {
        return py.detach(|| run(opts)).map_err(|e| errors::to_py(&e));
    }
    let stop = InterruptFlag::new();
    let opts = opts.with_interrupt(stop.flag());
    let mut interrupt: Option<PyErr> = None;
    let done = (Mutex::new(false), Condvar::new());
    let result = std::thread::scope(|scope| {
        let done = &done;
        let worker = scope.spawn(move || {
            let result = run(opts);
            *done.0.lock().unwrap_or_else(PoisonError::into_inner) = true;
            done.1.notify_all();
            result
        });
        loop {
            let finished = py.detach(|| {
                let guard = done.0.lock().unwrap_or_else(PoisonError::into_inner);
                let (guard, _) = done
                    .1
                    .wait_timeout_while(guard, SIGNAL_POLL, |finished| !*finished)
                    .unwrap_or_else(PoisonError::into_inner);
                *guard
            });
            if finished {
                break;
            }
            if interrupt.is_none()
                && let Err(e) = py.check_signals()
            {
                interrupt = Some(e);
                if cancellable {
                    stop.interrupt();
                }
            }
        }
        py.detach(|| worker.join())
    });
    drop(stop);
    let result = result.map_err(|_| PyRuntimeError::new_err("the evaluation thread panicked"))?;
    if let Some(e) = interrupt {
        return Err(e);
    }
    result.map_err(|e| errors::to_py(&e))
}
