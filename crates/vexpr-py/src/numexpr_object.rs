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
use pyo3::prelude::*;
use pyo3::types::PyTuple;
use std::sync::Arc;
use vexpr::DType;

/// `NumExpr(ex, signature)`'s arguments: what a pickle holds.
type ConstructorArgs = (String, Vec<(String, String)>);

/// A compiled expression with a fixed signature.
#[pyclass(frozen, module = "vexpr._vexpr", name = "NumExpr")]
pub struct NumExpr {
    /// The text, the argument names and the forms compiled for each list
    /// of actual input types (only string widths vary).
    entry: Entry,
    /// Each input's type; `None` for strings (any width).
    declared: Vec<Option<DType>>,
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
        let object = NumExpr {
            entry: Entry::new(ex, Names::new(py, rust), false),
            declared,
        };
        // Compile now when the types are known, so that errors show here.
        if let Some(types) = object.declared.iter().copied().collect::<Option<Vec<_>>>() {
            object.entry.compiled(py, &types)?;
        } else {
            vexpr::variable_names(ex).map_err(|e| errors::to_py(&e))?;
        }
        Ok(object)
    }

    /// Evaluates with the arguments in signature order.
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
        if args.len() != self.entry.names.rust.len() {
            return Err(PyValueError::new_err(format!(
                "this expression takes {} arguments ({}), {} given",
                self.entry.names.rust.len(),
                self.entry.names.rust.join(", "),
                args.len()
            )));
        }
        let mut inputs = Vec::with_capacity(args.len());
        for (arg, want) in args.iter().zip(&self.declared) {
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
        let dtypes: Vec<DType> = inputs.iter().map(Input::dtype).collect();
        let (order, casting) = check_order_casting(order, casting)?;
        let prepared = Prepared {
            expr: self.entry.compiled(py, &dtypes)?,
            names: Arc::clone(&self.entry.names),
            inputs,
        };
        execute(py, &prepared, out.as_ref(), order, casting)
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
        let program = expr.program();
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
