//! `vexpr.evaluate`'s entry point, in CPython's fastcall convention.
//!
//! In: a call such as `evaluate(ex, local_dict=d, out=o)` as CPython passes
//! it to a `METH_FASTCALL | METH_KEYWORDS` function: the argument values on
//! its stack and the keywords' names in a tuple. Out: what
//! [`run::evaluate`] returns for those arguments.
//!
//! numexpr's `evaluate` ends in `**kwargs` (for `optimization=` and
//! `truediv=`), and PyO3 gives such a function the older convention, in
//! which CPython packs the arguments into a new tuple and the keywords into a
//! new dict on every call and PyO3 matches the dict's keys against the
//! parameters: about 0.25 µs of a 0.7 µs call on 10 elements. Here the
//! parameters numexpr's signature names are read straight from the stack.
//! Any call this module does not take as it is (another keyword, a
//! parameter given twice, too many positional arguments, an `order` that is
//! not a string...) goes on, with the same stack, to the PyO3 function,
//! which parses it as before and raises numexpr's errors for it.

use crate::run;
use pyo3::ffi;
use pyo3::panic::PanicException;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyInt, PyString, PyTuple};
use std::ffi::CString;

/// `run::evaluate`'s parameters, in order: the names a keyword may take here.
const PARAMETERS: [&str; 9] = [
    "ex",
    "local_dict",
    "global_dict",
    "out",
    "order",
    "casting",
    "sanitize",
    "_frame_depth",
    "disable_cache",
];

/// The PyO3 function of [`run::evaluate`] (the `**kwargs` convention): the
/// calls this module does not take itself go to it.
static GENERAL: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// [`PARAMETERS`] as interned strings: CPython interns the keyword names of
/// a call written in Python source, so a name usually is one of these
/// objects and matches without comparing characters.
static INTERNED: PyOnceLock<[Py<PyString>; 9]> = PyOnceLock::new();

/// Adds `evaluate` to the module `m`: a fastcall function with the
/// signature and doc of [`run::evaluate`], which calls it.
pub fn add_evaluate(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    let general = wrap_pyfunction!(run::evaluate, m)?;
    // CPython reads a builtin's signature from the first lines of its doc.
    let text_signature: String = general.getattr("__text_signature__")?.extract()?;
    let doc: String = general.getattr("__doc__")?.extract()?;
    let doc = CString::new(format!("evaluate{text_signature}\n--\n\n{doc}"))?;
    GENERAL.get_or_init(py, || general.into_any().unbind());
    INTERNED.get_or_init(py, || {
        PARAMETERS.map(|name| PyString::intern(py, name).unbind())
    });
    // The definition lives as long as the function, which lives as long as
    // the process (a module is never unloaded): it is leaked, once.
    let definition: &'static mut ffi::PyMethodDef = Box::leak(Box::new(ffi::PyMethodDef {
        ml_name: c"evaluate".as_ptr(),
        ml_meth: ffi::PyMethodDefPointer {
            PyCFunctionFastWithKeywords: evaluate,
        },
        ml_flags: ffi::METH_FASTCALL | ffi::METH_KEYWORDS,
        ml_doc: doc.into_raw().cast_const(),
    }));
    let module_name = m.name()?;
    // SAFETY: `definition` is a valid method definition that outlives the
    // function; `module_name` is a live string (it becomes `__module__`).
    // The call returns a new reference, or null with an exception set.
    let function = unsafe {
        Bound::from_owned_ptr_or_err(
            py,
            ffi::PyCFunction_NewEx(definition, std::ptr::null_mut(), module_name.as_ptr()),
        )
    }?;
    m.add("evaluate", function)
}

/// The arguments of one call, by parameter (`None`: not given).
type Slots<'a, 'py> = [Option<Borrowed<'a, 'py, PyAny>>; PARAMETERS.len()];

/// The call's arguments by parameter, or `None` when the PyO3 function is to
/// take the call (a keyword not among [`PARAMETERS`], one given twice, too
/// many positional arguments).
fn slots<'a, 'py>(
    py: Python<'py>,
    args: &'a [*mut ffi::PyObject],
    nargs: usize,
    kwnames: Option<&Bound<'py, PyTuple>>,
) -> Option<Slots<'a, 'py>> {
    if nargs > PARAMETERS.len() {
        return None;
    }
    let interned = INTERNED.get(py)?;
    // SAFETY: each element of `args` is a live object, borrowed for the
    // call (CPython's fastcall contract, [`evaluate`]).
    let arg = |p: &'a *mut ffi::PyObject| unsafe { Borrowed::from_ptr(py, *p) };
    let mut slots: Slots<'a, 'py> = Default::default();
    for (slot, value) in slots.iter_mut().zip(&args[..nargs]) {
        *slot = Some(arg(value));
    }
    for (name, value) in kwnames.into_iter().flatten().zip(&args[nargs..]) {
        let position = interned.iter().position(|p| p.is(&name)).or_else(|| {
            let name = name.cast::<PyString>().ok()?.to_str().ok()?;
            PARAMETERS.iter().position(|p| *p == name)
        })?;
        if slots[position].replace(arg(value)).is_some() {
            return None;
        }
    }
    Some(slots)
}

/// A call to [`run::evaluate`] from its [`Slots`], or `None` when an
/// argument is not of the type PyO3 would take without converting it.
fn call<'py>(py: Python<'py>, slots: &Slots<'_, 'py>) -> Option<PyResult<Bound<'py, PyAny>>> {
    let [
        ex,
        local_dict,
        global_dict,
        out,
        order,
        casting,
        sanitize,
        frame_depth,
        disable_cache,
    ] = slots;
    // `None` for a parameter given as `None`, as PyO3 takes an `Option`.
    let given = |slot: &Option<Borrowed<'_, 'py, PyAny>>| {
        slot.filter(|v| !v.is_none()).map(|v| v.to_owned())
    };
    let order = text(order, "K")?;
    let casting = text(casting, "same_kind")?;
    let sanitize = match given(sanitize) {
        None => None,
        Some(v) => Some(v.cast_exact::<PyBool>().ok()?.is_true()),
    };
    let frame_depth = match frame_depth {
        None => 3,
        Some(v) => v.cast_exact::<PyInt>().ok()?.extract::<isize>().ok()?,
    };
    let disable_cache = given(disable_cache);
    Some(run::evaluate(
        py,
        &ex.as_ref()?.to_owned(),
        given(local_dict),
        given(global_dict),
        given(out),
        order,
        casting,
        sanitize,
        frame_depth,
        disable_cache.as_ref(),
        None,
    ))
}

/// A string argument's text (`default` when not given), or `None` when it
/// is not a string.
fn text<'s>(slot: &'s Option<Borrowed<'_, '_, PyAny>>, default: &'static str) -> Option<&'s str> {
    match slot {
        None => Some(default),
        Some(v) => {
            let v: &'s Bound<'_, PyAny> = v;
            v.cast::<PyString>().ok()?.to_str().ok()
        }
    }
}

/// `vexpr.evaluate(...)`: the arguments straight from CPython's stack into
/// [`run::evaluate`]; any other call to the PyO3 function, as it came.
///
/// # Safety
///
/// CPython's `METH_FASTCALL | METH_KEYWORDS` contract: the GIL is held,
/// `args` holds `nargs` positional arguments followed by one value per name
/// in `kwnames` (a tuple of strings, or null), all borrowed for the call.
unsafe extern "C" fn evaluate(
    _module: *mut ffi::PyObject,
    args: *const *mut ffi::PyObject,
    nargs: ffi::Py_ssize_t,
    kwnames: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    // SAFETY: the GIL is held (the contract above).
    let py = unsafe { Python::assume_attached() };
    into_return_value(
        py,
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let nargs = nargs as usize;
            // SAFETY: CPython's contract, as `call_stack` asks.
            let (stack, kwnames) = unsafe { call_stack(py, args, nargs, kwnames) }?;
            if let Some(result) =
                slots(py, stack, nargs, kwnames.as_ref()).and_then(|s| call(py, &s))
            {
                return result;
            }
            let general = GENERAL
                .get(py)
                .expect("`add_evaluate` made the function before this one");
            // SAFETY: the same stack, count and names CPython passed here,
            // to a live callable; the result is a new reference or null
            // with an exception set.
            unsafe {
                Bound::from_owned_ptr_or_err(
                    py,
                    ffi::PyObject_Vectorcall(
                        general.as_ptr(),
                        args,
                        nargs,
                        kwnames
                            .as_ref()
                            .map_or(std::ptr::null_mut(), |k| k.as_ptr()),
                    ),
                )
            }
        })),
    )
}

/// The arguments of a call in CPython's fastcall or vectorcall convention:
/// the stack of positional then keyword values, and the keywords' names.
///
/// # Safety
///
/// The GIL is held; `args` holds `nargs` positional arguments followed by
/// one value per name in `kwnames` (a tuple of strings, or null), all live
/// for `'a`.
pub unsafe fn call_stack<'a, 'py>(
    py: Python<'py>,
    args: *const *mut ffi::PyObject,
    nargs: usize,
    kwnames: *mut ffi::PyObject,
) -> PyResult<(&'a [*mut ffi::PyObject], Option<Bound<'py, PyTuple>>)> {
    // SAFETY: `kwnames` is null or a live tuple (the contract above).
    let kwnames = unsafe { Borrowed::from_ptr_or_opt(py, kwnames) }
        .map(|k| k.to_owned().cast_into::<PyTuple>())
        .transpose()?;
    let count = nargs + kwnames.as_ref().map_or(0, |k| k.len());
    // SAFETY: `args` holds `count` live objects (the contract above); a
    // call without arguments may pass null.
    let stack = match count {
        0 => &[][..],
        n => unsafe { std::slice::from_raw_parts(args, n) },
    };
    Ok((stack, kwnames))
}

/// What a function called by CPython returns for `outcome`: a new
/// reference, or null with the error (a panic as a `PanicException`) set.
pub fn into_return_value(
    py: Python<'_>,
    outcome: std::thread::Result<PyResult<Bound<'_, PyAny>>>,
) -> *mut ffi::PyObject {
    let result = outcome.unwrap_or_else(|payload| {
        let message = payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "panic in vexpr".to_string());
        Err(PanicException::new_err(message))
    });
    match result {
        Ok(value) => value.into_ptr(),
        Err(e) => {
            e.restore(py);
            std::ptr::null_mut()
        }
    }
}
