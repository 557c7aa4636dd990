//! `NumExpr` objects: an expression compiled once for a signature, then
//! called like a function, from any number of threads at once.
//!
//! numexpr's `NumExpr(ex, signature)` takes `(name, type)` pairs; the Python
//! half turns numexpr's types (`double`, `float`, `numpy.int32`...) into
//! vexpr's dtype names before they reach the constructor. Arguments are
//! passed in signature order; an argument of another type is cast to the
//! signature's under `casting` (by NumPy, a copy), as numexpr casts.
//! String variables take strings of any width (each width is compiled once).

use crate::cache::{Entry, Names};
use crate::errors;
use crate::inputs::Input;
use crate::run::{Prepared, check_order_casting, execute};
use pyo3::exceptions::PyValueError;
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};
use std::sync::Arc;
use vexpr::{DType, Expr};

/// `NumExpr(ex, signature)`'s arguments: what a pickle holds.
type ConstructorArgs = (String, Vec<(String, String)>);

/// A reduction stage as `NumExpr.stages` lists it: operation, axis, and the
/// byte range of the call in the text.
type StageInfo = (&'static str, Option<usize>, usize, usize);

/// A compiled expression with a fixed signature.
#[pyclass(frozen, module = "vexpr._vexpr", name = "NumExpr")]
pub struct NumExpr {
    /// The function CPython calls for `f(a, b)` (the vectorcall protocol),
    /// read by CPython at the offset [`enable_vectorcall`] sets in the type:
    /// always [`vectorcall`].
    vectorcall: ffi::vectorcallfunc,
    /// The text, the argument names and the forms compiled for each list
    /// of actual input types (only string widths vary).
    entry: Entry,
    /// Each input's type; `None` for strings (any width).
    declared: Vec<Option<DType>>,
    /// The form compiled for `declared` when it names no strings: what every
    /// call runs (arguments of other types are cast to these), found
    /// without the entry's lock.
    fixed: Option<Arc<Expr>>,
}

/// vexpr's dtype for a signature type name; `Ok(None)` for `bytes`.
fn parse_type(name: &str) -> PyResult<Option<DType>> {
    if name == "bytes" {
        return Ok(None);
    }
    DType::parse(name)
        .filter(|t| !t.is_bytes())
        .map(Some)
        .ok_or_else(|| PyValueError::new_err(format!("unknown type {name:?} in the signature")))
}

impl NumExpr {
    /// The form compiled for the declared types, or the first compiled for
    /// actual string widths; `None` before that.
    fn compiled_form(&self) -> Option<Arc<Expr>> {
        self.fixed.clone().or_else(|| self.entry.first_compiled())
    }

    /// A call with the positional arguments `args`.
    fn call<'py>(
        &self,
        py: Python<'py>,
        args: impl ExactSizeIterator<Item = Bound<'py, PyAny>>,
        out: Option<&Bound<'py, PyAny>>,
        order: &str,
        casting: &str,
    ) -> PyResult<Bound<'py, PyAny>> {
        if args.len() != self.entry.names.rust.len() {
            return Err(PyValueError::new_err(format!(
                "this expression takes {} arguments ({}), {} given",
                self.entry.names.rust.len(),
                self.entry.names.rust.join(", "),
                args.len()
            )));
        }
        let mut inputs = Vec::with_capacity(args.len());
        for (arg, want) in args.zip(&self.declared) {
            let input = Input::from_py(&arg)?;
            let input = match want {
                Some(want) if input.dtype() != *want => {
                    let numpy = py.import("numpy")?;
                    let array = numpy.call_method1("asarray", (arg,))?;
                    let kwargs = pyo3::types::PyDict::new(py);
                    kwargs.set_item("casting", casting)?;
                    let cast = array.call_method("astype", (want.name(),), Some(&kwargs))?;
                    Input::from_py(&cast)?
                }
                _ => input,
            };
            inputs.push(input);
        }
        let compiled;
        let expr = match &self.fixed {
            // Every input now has its declared type.
            Some(fixed) => fixed,
            None => {
                let dtypes: Vec<DType> = inputs.iter().map(Input::dtype).collect();
                compiled = self.entry.compiled(py, &dtypes)?;
                &compiled
            }
        };
        let (order, casting) = check_order_casting(order, casting)?;
        let prepared = Prepared {
            expr,
            names: &self.entry.names,
            inputs,
        };
        execute(py, &prepared, out, order, casting)
    }
}

#[pymethods]
impl NumExpr {
    /// Compiles `ex` for `signature`, a list of `(name, dtype name)` pairs in
    /// argument order (`"float64"`, `"int32"`, ..., `"bytes"`).
    #[new]
    fn new(py: Python<'_>, ex: &str, signature: Vec<(String, String)>) -> PyResult<NumExpr> {
        let mut rust = Vec::with_capacity(signature.len());
        let mut declared = Vec::with_capacity(signature.len());
        for (name, type_name) in &signature {
            rust.push(name.clone());
            declared.push(parse_type(type_name)?);
        }
        let entry = Entry::new(ex, Names::new(py, rust), false);
        // Compile now when the types are known, so that errors show here.
        let fixed = match declared.iter().copied().collect::<Option<Vec<_>>>() {
            Some(types) => Some(entry.compiled(py, &types)?),
            None => {
                vexpr::variable_names(ex).map_err(|e| errors::to_py(&e))?;
                None
            }
        };
        Ok(NumExpr {
            vectorcall,
            entry,
            declared,
            fixed,
        })
    }

    /// Evaluates with the arguments in signature order.
    ///
    /// Calls without keywords do not come here: the type's vectorcall entry,
    /// [`vectorcall`], takes them; it sends calls with keywords here.
    #[pyo3(signature = (*args, out = None, order = "K", casting = "safe", ex_uses_vml = false))]
    fn __call__<'py>(
        &self,
        py: Python<'py>,
        args: &Bound<'py, PyTuple>,
        out: Option<Bound<'py, PyAny>>,
        order: &str,
        casting: &str,
        ex_uses_vml: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let _ = ex_uses_vml;
        self.call(py, args.iter(), out.as_ref(), order, casting)
    }

    /// The same as calling the object (numexpr's `run`).
    #[pyo3(signature = (*args, out = None, order = "K", casting = "safe", ex_uses_vml = false))]
    fn run<'py>(
        &self,
        py: Python<'py>,
        args: &Bound<'py, PyTuple>,
        out: Option<Bound<'py, PyAny>>,
        order: &str,
        casting: &str,
        ex_uses_vml: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.__call__(py, args, out, order, casting, ex_uses_vml)
    }

    /// The expression text.
    #[getter]
    fn source(&self) -> &str {
        &self.entry.source
    }

    /// The argument names, in order.
    #[getter]
    fn input_names(&self) -> Vec<String> {
        self.entry.names.rust.clone()
    }

    /// `(name, dtype name)` pairs, in argument order.
    #[getter]
    fn signature(&self) -> Vec<(String, String)> {
        self.entry
            .names
            .rust
            .iter()
            .zip(&self.declared)
            .map(|(n, t)| (n.clone(), t.map_or("bytes".to_string(), |t| t.name())))
            .collect()
    }

    /// The result's dtype (NumPy's name: `'float64'`, `'bool'`, `'S3'`...),
    /// from the signature alone: nothing is evaluated. `None` while a
    /// signature with strings has not been called (their widths are not
    /// known before).
    ///
    /// >>> import vexpr
    /// >>> vexpr.NumExpr("a > 1", [("a", "int32")]).result_dtype
    /// 'bool'
    #[getter]
    fn result_dtype(&self) -> Option<String> {
        self.compiled_form().map(|e| e.result_dtype().name())
    }

    /// The reductions, in the order they run (inner ones first), as
    /// `(operation, axis or None, start, end)`: `source[start:end]` (bytes of
    /// the UTF-8 text) is the call. Empty without reductions; `None` while a
    /// signature with strings has not been called.
    ///
    /// >>> import vexpr
    /// >>> vexpr.NumExpr("a / sum(a, axis=0)", [("a", "float64")]).stages
    /// [('sum', 0, 4, 18)]
    #[getter]
    fn stages(&self) -> Option<Vec<StageInfo>> {
        self.compiled_form().map(|e| {
            vexpr::unstable::stages(&e)
                .iter()
                .map(|s| (s.op.name(), s.axis, s.span.start, s.span.end))
                .collect()
        })
    }

    /// The bytecode listing (`vexpr dis`), of the first compiled form.
    fn disassemble(&self) -> String {
        self.entry.first_compiled().map_or_else(
            || "(not compiled yet: string widths are known at the first call)".to_string(),
            |e| e.to_string(),
        )
    }

    /// The final program's instructions, each as `[opcode, destination,
    /// arguments...]` (the shape of numexpr's `disassemble`; the opcodes are
    /// vexpr's).
    fn instructions(&self) -> Vec<Vec<String>> {
        let Some(expr) = self.entry.first_compiled() else {
            return Vec::new();
        };
        let program = vexpr::unstable::program(&expr);
        program
            .code
            .iter()
            .map(|instr| {
                let mut row = vec![
                    instr.overload.name.to_string(),
                    program.register_name(instr.dst),
                ];
                row.extend(instr.args.iter().map(|&a| program.register_name(a)));
                row
            })
            .collect()
    }

    /// Pickles as the expression and signature; unpickling recompiles.
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<(Bound<'py, PyAny>, ConstructorArgs)> {
        let this = slf.get();
        Ok((
            slf.get_type().into_any(),
            (this.entry.source.to_string(), this.signature()),
        ))
    }

    fn __repr__(&self) -> String {
        format!(
            "NumExpr({:?}, signature={:?})",
            self.entry.source,
            self.signature()
        )
    }
}

/// Makes CPython call `vectorcall` (below) for `f(...)` on `NumExpr` objects,
/// instead of the type's `tp_call` (PyO3's `__call__`), which takes its
/// arguments as a new tuple and parses keywords: some 40 ns of a 0.5 µs call
/// on a few elements. Called once, when the module is made.
pub fn enable_vectorcall(py: Python<'_>) -> PyResult<()> {
    // The offset of the `vectorcall` field from the start of the object:
    // PyO3 lays every instance out alike, so one instance gives it.
    let sample = Bound::new(
        py,
        NumExpr::new(py, "x", vec![("x".to_string(), "float64".to_string())])?,
    )?;
    let field = std::ptr::from_ref(&sample.get().vectorcall) as usize;
    let offset = field - sample.as_ptr() as usize;
    let ty = py.get_type::<NumExpr>();
    let tp = ty.as_type_ptr();
    // SAFETY: `tp` is the live type object of `NumExpr` (a heap type PyO3
    // made, kept alive by `ty`), and the GIL is held, so no other thread
    // reads it meanwhile. Every instance holds a valid `vectorcallfunc` at
    // `offset` (`NumExpr::new`, the only constructor, sets the field, and
    // the class has no subclasses: it is not declared `subclass`), which is
    // what `Py_TPFLAGS_HAVE_VECTORCALL` promises CPython. `tp_call` stays,
    // for `PyObject_Call` and for `vectorcall`'s calls with keywords.
    unsafe {
        (*tp).tp_vectorcall_offset = offset as ffi::Py_ssize_t;
        (*tp).tp_flags |= ffi::Py_TPFLAGS_HAVE_VECTORCALL;
        ffi::PyType_Modified(tp);
    }
    Ok(())
}

/// `f(a, b)` on a `NumExpr` object: the positional arguments straight from
/// CPython's stack into [`NumExpr::call`]. A call with keywords (`out=`,
/// `order=`, ...) goes to the type's `tp_call` (`__call__`, which parses
/// them), with its arguments as a tuple and a dict, as CPython would have
/// called it.
///
/// # Safety
///
/// CPython's vectorcall contract: the GIL is held, `callable` is a live
/// `NumExpr` object, `args` holds `nargsf`'s count of positional arguments
/// followed by one value per name in `kwnames` (a tuple of strings, or
/// null), all borrowed for the call.
unsafe extern "C" fn vectorcall(
    callable: *mut ffi::PyObject,
    args: *const *mut ffi::PyObject,
    nargsf: usize,
    kwnames: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    let nargs = nargsf & !ffi::PY_VECTORCALL_ARGUMENTS_OFFSET;
    // SAFETY: the GIL is held (the contract above).
    let py = unsafe { Python::assume_attached() };
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        // SAFETY: CPython's contract, as `call_stack` asks.
        let (args, kwnames) = unsafe { crate::fastcall::call_stack(py, args, nargs, kwnames) }?;
        let keywords = kwnames.as_ref().map_or(0, |k| k.len());
        // SAFETY: each is a live object, borrowed for the call.
        let arg = |p: &*mut ffi::PyObject| unsafe { Borrowed::from_ptr(py, *p) }.to_owned();
        // SAFETY: `callable` is a live `NumExpr` object (the contract above).
        let slf = unsafe { Borrowed::from_ptr(py, callable) };
        let Some(names) = kwnames.filter(|_| keywords > 0) else {
            return slf
                .cast::<NumExpr>()?
                .get()
                .call(py, args.iter().map(arg), None, "K", "safe");
        };
        let positional = PyTuple::new(py, args[..nargs].iter().map(arg))?;
        let kwargs = PyDict::new(py);
        for (name, value) in names.iter().zip(&args[nargs..]) {
            kwargs.set_item(name, arg(value))?;
        }
        // Not `PyObject_Call`, which would come back here.
        // SAFETY: `callable` is a live object; its type is `NumExpr`'s,
        // whose `tp_call` PyO3 set from `__call__`.
        let tp_call = unsafe { (*ffi::Py_TYPE(callable)).tp_call }
            .ok_or_else(|| PyValueError::new_err("NumExpr objects are callable"))?;
        // SAFETY: `tp_call`'s contract: the GIL is held, and the callable,
        // a tuple of arguments and a dict of keywords are live; it returns
        // a new reference or null with an exception set.
        unsafe {
            let result = tp_call(callable, positional.as_ptr(), kwargs.as_ptr());
            Bound::from_owned_ptr_or_err(py, result)
        }
    }));
    crate::fastcall::into_return_value(py, outcome)
}
