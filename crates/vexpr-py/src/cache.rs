//! The caches that make a repeated `evaluate` cheap.
//!
//! An expression's text in; the names it reads (sorted, as Python strings
//! ready for dictionary lookups) and its compiled [`Expr`] for each list of
//! input types out. numexpr keeps the same two caches (`_names_cache` and
//! `_numexpr_cache`, 256 entries a thread); here they are one map shared by
//! all threads (an [`Expr`] is immutable and `Sync`), bounded at
//! [`CACHE_SIZE`] expressions and [`SIGNATURES_PER_EXPRESSION`] type lists
//! each, dropping the oldest entry when full.

use crate::errors;
use pyo3::prelude::*;
use pyo3::types::PyString;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};
use vexpr::{DType, Expr, Signature};

/// Expressions kept (numexpr: 256).
pub const CACHE_SIZE: usize = 256;

/// Type lists kept per expression.
pub const SIGNATURES_PER_EXPRESSION: usize = 16;

/// What the cache knows of one expression text.
#[derive(Default)]
struct Entry {
    /// The variables it reads, sorted; `None` until asked.
    names: Option<Arc<Names>>,
    /// Whether the text passed numexpr's sanitizer.
    sanitized: bool,
    /// Compiled for each list of the names' types, oldest first.
    compiled: Vec<(Vec<DType>, Arc<Expr>)>,
}

/// An expression's variables, sorted, as Rust and as interned Python strings.
pub struct Names {
    /// The names.
    pub rust: Vec<String>,
    /// The same names as Python strings (their hashes are computed once).
    pub python: Vec<Py<PyString>>,
}

#[derive(Default)]
struct Cache {
    entries: HashMap<String, Entry>,
    /// Insertion order, for eviction.
    order: VecDeque<String>,
}

static CACHE: Mutex<Option<Cache>> = Mutex::new(None);

fn with_cache<R>(f: impl FnOnce(&mut Cache) -> R) -> R {
    // A panic while the lock was held cannot leave the maps inconsistent in a
    // way that matters (at worst an entry is missing): keep using them.
    let mut guard = CACHE.lock().unwrap_or_else(PoisonError::into_inner);
    f(guard.get_or_insert_with(Cache::default))
}

impl Cache {
    fn entry(&mut self, source: &str) -> &mut Entry {
        if !self.entries.contains_key(source) {
            if self.entries.len() >= CACHE_SIZE
                && let Some(oldest) = self.order.pop_front()
            {
                self.entries.remove(&oldest);
            }
            self.order.push_back(source.to_string());
            self.entries.insert(source.to_string(), Entry::default());
        }
        self.entries.get_mut(source).expect("inserted above")
    }
}

/// The variables `source` reads, sorted (numexpr's input order for an
/// expression without a signature). `sanitize` runs numexpr's check of the
/// text (`vexpr._sanitize.check`) the first time an expression is seen.
pub fn names(py: Python<'_>, source: &str, sanitize: bool) -> PyResult<Arc<Names>> {
    let known = with_cache(|c| {
        c.entries
            .get(source)
            .and_then(|e| Some((e.names.clone()?, e.sanitized)))
    });
    if let Some((names, sanitized)) = &known
        && (sanitized | !sanitize)
    {
        return Ok(Arc::clone(names));
    }
    if sanitize {
        py.import("vexpr._sanitize")?
            .getattr("check")?
            .call1((source,))?;
    }
    let names = match known {
        Some((names, _)) => names,
        None => {
            let rust = vexpr::variable_names(source).map_err(|e| errors::to_py(&e))?;
            let python = rust
                .iter()
                .map(|n| PyString::intern(py, n).unbind())
                .collect();
            Arc::new(Names { rust, python })
        }
    };
    with_cache(|c| {
        let entry = c.entry(source);
        entry.names = Some(Arc::clone(&names));
        entry.sanitized |= sanitize;
    });
    Ok(names)
}

/// `source` compiled for variables `names` of types `dtypes`, from the cache
/// or compiled now (with the GIL released) and cached.
pub fn compiled(
    py: Python<'_>,
    source: &str,
    names: &[String],
    dtypes: &[DType],
) -> PyResult<Arc<Expr>> {
    let hit = with_cache(|c| {
        c.entries.get(source).and_then(|e| {
            e.compiled
                .iter()
                .find(|(types, _)| types == dtypes)
                .map(|(_, expr)| Arc::clone(expr))
        })
    });
    if let Some(expr) = hit {
        return Ok(expr);
    }
    let expr = Arc::new(compile(py, source, names, dtypes)?);
    with_cache(|c| {
        let entry = c.entry(source);
        if entry.compiled.len() >= SIGNATURES_PER_EXPRESSION {
            entry.compiled.remove(0);
        }
        entry.compiled.push((dtypes.to_vec(), Arc::clone(&expr)));
    });
    Ok(expr)
}

/// Compiles without the cache.
pub fn compile(py: Python<'_>, source: &str, names: &[String], dtypes: &[DType]) -> PyResult<Expr> {
    let signature = names
        .iter()
        .zip(dtypes)
        .fold(Signature::new(), |sig, (name, &dtype)| {
            sig.with(name, dtype)
        });
    py.detach(|| Expr::compile(source, &signature))
        .map_err(|e| errors::to_py(&e))
}

/// The names an expression reads, sorted (numexpr's `getExprNames`, less its
/// VML flag).
#[pyfunction]
#[pyo3(signature = (source, sanitize = true))]
pub fn expression_names(py: Python<'_>, source: &str, sanitize: bool) -> PyResult<Vec<String>> {
    Ok(names(py, source, sanitize)?.rust.clone())
}

/// Empties the cache of compiled expressions.
#[pyfunction]
pub fn clear_cache() {
    with_cache(|c| *c = Cache::default());
}

/// The number of expressions in the cache (at most [`CACHE_SIZE`]).
#[pyfunction]
pub fn cache_len() -> usize {
    with_cache(|c| c.entries.len())
}
