//! vexpr's errors as the exceptions numexpr raises for the same input.
//!
//! A [`vexpr::Error`] in, a `PyErr` out. The message is vexpr's own, with the
//! expression and a caret under the place, so that a traceback shows where
//! the problem is; the exception *type* is numexpr's, so that code written for
//! numexpr catches the same things:
//!
//! | vexpr | Python | numexpr's case |
//! |---|---|---|
//! | `Syntax` | `SyntaxError` (`TypeError` at `and`, `or`, `not`, `if`) | `2+`; Python's boolean operators |
//! | `Literal` | `OverflowError` | an integer literal beyond 64 bits |
//! | `UnknownName` | `KeyError` | a name in no dictionary |
//! | `UnknownFunction`, `Arity` | `TypeError` | `sinn(a)` |
//! | `Type`, `Unsupported` | `NotImplementedError` | "couldn't find matching opcode" |
//! | `Shape`, `Value`, `TooDeep`, `TooLarge` | `ValueError` | broadcasting, `axis`, negative integer powers |
//! | `Input` | `TypeError` | an input vexpr cannot take |
//! | `Interrupted` | `KeyboardInterrupt` | Ctrl-C during a run |

use pyo3::exceptions::{
    PyKeyError, PyKeyboardInterrupt, PyNotImplementedError, PyOverflowError, PyRuntimeError,
    PySyntaxError, PyTypeError, PyValueError,
};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use vexpr::{Error, ErrorKind};

/// The package's `UnsupportedDTypeError` (a `TypeError` and a `ValueError`,
/// defined in `vexpr/_errors.py`), raised for an input dtype vexpr does not
/// compute with.
pub fn unsupported_dtype(py: Python<'_>, message: String) -> PyErr {
    static CLASS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let class = CLASS.get_or_try_init(py, || {
        Ok::<_, PyErr>(
            py.import("vexpr._errors")?
                .getattr("UnsupportedDTypeError")?
                .unbind(),
        )
    });
    match class {
        Ok(class) => PyErr::from_type(
            class
                .bind(py)
                .cast::<pyo3::types::PyType>()
                .expect("a class")
                .clone(),
            message,
        ),
        Err(e) => e,
    }
}

/// Python's boolean keywords, which numexpr refuses with a `TypeError`.
const PYTHON_BOOLEAN_WORDS: [&str; 5] = ["and", "or", "not", "if", "else"];

/// The exception numexpr raises where vexpr reports `err`, with the
/// rendered report (its expression with a caret) as its message.
pub fn to_py(err: &Error) -> PyErr {
    let message = err.rendered();
    match err.kind() {
        ErrorKind::Syntax if at_boolean_word(err) => PyTypeError::new_err(format!(
            "{message}\nPython's `and`, `or`, `not` and `if` are not part of the language: \
             use `&`, `|`, `~` and `where(cond, x, y)`"
        )),
        ErrorKind::Syntax => PySyntaxError::new_err(message),
        ErrorKind::Literal => PyOverflowError::new_err(message),
        ErrorKind::UnknownName => PyKeyError::new_err(message),
        ErrorKind::UnknownFunction | ErrorKind::Arity | ErrorKind::Input => {
            PyTypeError::new_err(message)
        }
        ErrorKind::Type | ErrorKind::Unsupported => PyNotImplementedError::new_err(message),
        ErrorKind::Shape | ErrorKind::Value | ErrorKind::TooDeep | ErrorKind::TooLarge => {
            PyValueError::new_err(message)
        }
        ErrorKind::Interrupted => PyKeyboardInterrupt::new_err(message),
        _ => PyRuntimeError::new_err(message),
    }
}

/// True when a syntax error points at one of Python's boolean keywords.
fn at_boolean_word(err: &Error) -> bool {
    let span = err.span();
    err.source_text()
        .and_then(|text| text.get(span.start..span.end))
        .is_some_and(|word| PYTHON_BOOLEAN_WORDS.contains(&word))
}

/// A `KeyError` for a variable found in no dictionary: its argument is the
/// name, as numexpr's (`KeyError('c')`).
pub fn missing_variable(name: &str) -> PyErr {
    PyKeyError::new_err(name.to_string())
}
