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
use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use vexpr::{DType, Expr, Signature};

/// Expressions kept (numexpr: 256).
pub const CACHE_SIZE: usize = 256;

/// Type lists kept per expression.
pub const SIGNATURES_PER_EXPRESSION: usize = 16;

/// What the cache knows of one expression text.
pub struct Entry {
    /// The text.
    pub source: Arc<str>,
    /// The variables it reads, sorted.
    pub names: Arc<Names>,
    /// Whether the text passed numexpr's sanitizer.
    sanitized: AtomicBool,
    /// Compiled for each list of the names' types, oldest first.
    compiled: Mutex<Vec<(Vec<DType>, Arc<Expr>)>>,
}

/// An expression's variables, sorted, as Rust and as interned Python strings.
pub struct Names {
    /// The names.
    pub rust: Vec<String>,
    /// The same names as Python strings (their hashes are computed once).
    pub python: Vec<Py<PyString>>,
}

impl Names {
    /// `names` with their Python strings.
    pub fn new(py: Python<'_>, rust: Vec<String>) -> Names {
        let python = rust
            .iter()
            .map(|n| PyString::intern(py, n).unbind())
            .collect();
        Names { rust, python }
    }
}

#[derive(Default)]
struct Cache {
    entries: HashMap<Arc<str>, Arc<Entry>>,
    /// Insertion order, for eviction.
    order: VecDeque<Arc<str>>,
}

static CACHE: Mutex<Option<Cache>> = Mutex::new(None);

/// Bumped by [`clear_cache`], so that each thread drops its [`RECENT`]
/// entries at its next lookup.
static GENERATION: AtomicU64 = AtomicU64::new(0);

/// How many times the cache has been cleared: what a thread's memo of an
/// entry (`fast.rs`) is checked against.
pub fn generation() -> u64 {
    GENERATION.load(Ordering::Relaxed)
}

/// Entries of the shared cache a thread looked up last.
const RECENT_LEN: usize = 8;

/// One of a thread's recent entries, with the input types and the form it
/// ran last on this thread (see [`Entry::compiled_recent`]).
type RecentEntry = (Arc<Entry>, Option<(Vec<DType>, Arc<Expr>)>);

/// A thread's most recently used entries (newest first), found by their
/// text without taking the shared cache's lock or hashing the text.
struct Recent {
    generation: u64,
    entries: Vec<RecentEntry>,
}

thread_local! {
    static RECENT: RefCell<Recent> = const {
        RefCell::new(Recent { generation: 0, entries: Vec::new() })
    };
}

/// Runs `f` on this thread's recent entries, emptied first if the cache has
/// been cleared since.
fn with_recent<R>(f: impl FnOnce(&mut Vec<RecentEntry>) -> R) -> R {
    let generation = GENERATION.load(Ordering::Relaxed);
    RECENT.with_borrow_mut(|recent| {
        if recent.generation != generation {
            recent.entries.clear();
            recent.generation = generation;
        }
        f(&mut recent.entries)
    })
}

fn with_cache<R>(f: impl FnOnce(&mut Cache) -> R) -> R {
    // A panic while the lock was held cannot leave the map inconsistent in a
    // way that matters (at worst an entry is missing): keep using it.
    let mut guard = CACHE.lock().unwrap_or_else(PoisonError::into_inner);
    f(guard.get_or_insert_with(Cache::default))
}

/// Whether to sanitize: `sanitize` when given, else numexpr's default (on,
/// unless the environment variable `NUMEXPR_SANITIZE` is `0`). Read only when
/// an expression is first seen, so that the hot path never reads the
/// environment.
fn sanitizing(sanitize: Option<bool>) -> bool {
    sanitize.unwrap_or_else(|| {
        std::env::var("NUMEXPR_SANITIZE")
            .ok()
            .and_then(|v| v.trim().parse::<i64>().ok())
            .is_none_or(|v| v != 0)
    })
}

/// The cache's entry for `source`: its names (parsed when first seen), and
/// numexpr's sanitizer run on it (`vexpr._sanitize.check`) the first time it
/// is asked for.
pub fn entry(py: Python<'_>, source: &str, sanitize: Option<bool>) -> PyResult<Arc<Entry>> {
    let recent = with_recent(|recent| {
        let k = recent.iter().position(|(e, _)| &*e.source == source)?;
        // Newest first: a loop over a few expressions finds each at once.
        recent[..=k].rotate_right(1);
        Some(Arc::clone(&recent[0].0))
    });
    if let Some(entry) = recent
        && (entry.sanitized.load(Ordering::Relaxed) || sanitize == Some(false))
    {
        return Ok(entry);
    }
    let entry = shared_entry(py, source, sanitize)?;
    with_recent(|recent| {
        // Replaces this text's entry, if the thread had one (it may have
        // left the shared cache since, which then made a new one).
        let last = match recent.iter().position(|(e, _)| &*e.source == source) {
            Some(k) => {
                let (old, last) = recent.remove(k);
                last.filter(|_| Arc::ptr_eq(&old, &entry))
            }
            None => {
                recent.truncate(RECENT_LEN - 1);
                None
            }
        };
        recent.insert(0, (Arc::clone(&entry), last));
    });
    Ok(entry)
}

/// [`entry`] from the cache shared by all threads.
fn shared_entry(py: Python<'_>, source: &str, sanitize: Option<bool>) -> PyResult<Arc<Entry>> {
    let known = with_cache(|c| c.entries.get(source).cloned());
    if let Some(entry) = &known
        && (entry.sanitized.load(Ordering::Relaxed) || sanitize == Some(false))
    {
        return Ok(Arc::clone(entry));
    }
    let sanitize = sanitizing(sanitize);
    if sanitize {
        py.import("vexpr._sanitize")?
            .getattr("check")?
            .call1((source,))?;
    }
    if let Some(entry) = known {
        entry.sanitized.fetch_or(sanitize, Ordering::Relaxed);
        return Ok(entry);
    }
    let names = vexpr::variable_names(source).map_err(|e| errors::to_py(&e))?;
    let entry = Arc::new(Entry::new(source, Names::new(py, names), sanitize));
    with_cache(|c| {
        if c.entries.len() >= CACHE_SIZE
            && let Some(oldest) = c.order.pop_front()
        {
            c.entries.remove(&oldest);
        }
        if c.entries
            .insert(Arc::clone(&entry.source), Arc::clone(&entry))
            .is_none()
        {
            c.order.push_back(Arc::clone(&entry.source));
        }
    });
    Ok(entry)
}

impl Entry {
    /// An entry for `source` reading `names`, with nothing compiled yet (the
    /// cache makes them; a `NumExpr` object keeps one of its own).
    pub fn new(source: &str, names: Names, sanitized: bool) -> Entry {
        Entry {
            source: Arc::from(source),
            names: Arc::new(names),
            sanitized: AtomicBool::new(sanitized),
            compiled: Mutex::new(Vec::new()),
        }
    }

    /// The first form compiled, if any.
    pub fn first_compiled(&self) -> Option<Arc<Expr>> {
        self.compiled
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .first()
            .map(|(_, e)| Arc::clone(e))
    }

    /// [`Entry::compiled`] for an entry of the shared cache: the form this
    /// thread ran last for the entry is reused without taking the entry's
    /// lock when `dtypes` are the same.
    pub fn compiled_recent(
        self: &Arc<Entry>,
        py: Python<'_>,
        dtypes: impl ExactSizeIterator<Item = DType> + Clone,
    ) -> PyResult<Arc<Expr>> {
        let same = |types: &[DType]| {
            types.len() == dtypes.len() && types.iter().copied().eq(dtypes.clone())
        };
        let hit = with_recent(|recent| {
            recent.iter().find_map(|(e, last)| match last {
                Some((types, expr)) if Arc::ptr_eq(e, self) && same(types) => {
                    Some(Arc::clone(expr))
                }
                _ => None,
            })
        });
        if let Some(expr) = hit {
            return Ok(expr);
        }
        let dtypes: Vec<DType> = dtypes.collect();
        let expr = self.compiled(py, &dtypes)?;
        with_recent(|recent| {
            if let Some((_, last)) = recent.iter_mut().find(|(e, _)| Arc::ptr_eq(e, self)) {
                *last = Some((dtypes, Arc::clone(&expr)));
            }
        });
        Ok(expr)
    }

    /// The expression compiled for its names of types `dtypes`, from this
    /// entry or compiled now (with the GIL released) and kept.
    pub fn compiled(&self, py: Python<'_>, dtypes: &[DType]) -> PyResult<Arc<Expr>> {
        let hit = self
            .compiled
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .find(|(types, _)| types == dtypes)
            .map(|(_, expr)| Arc::clone(expr));
        if let Some(expr) = hit {
            return Ok(expr);
        }
        let expr = Arc::new(compile(py, &self.source, &self.names.rust, dtypes)?);
        let mut compiled = self.compiled.lock().unwrap_or_else(PoisonError::into_inner);
        if compiled.len() >= SIGNATURES_PER_EXPRESSION {
            compiled.remove(0);
        }
        compiled.push((dtypes.to_vec(), Arc::clone(&expr)));
        Ok(expr)
    }
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
#[pyo3(signature = (source, sanitize = None))]
pub fn expression_names(
    py: Python<'_>,
    source: &str,
    sanitize: Option<bool>,
) -> PyResult<Vec<String>> {
    Ok(entry(py, source, sanitize)?.names.rust.clone())
}

/// Empties the cache of compiled expressions.
#[pyfunction]
pub fn clear_cache() {
    with_cache(|c| *c = Cache::default());
    GENERATION.fetch_add(1, Ordering::Relaxed);
}

/// The number of expressions in the cache (at most [`CACHE_SIZE`]).
#[pyfunction]
pub fn cache_len() -> usize {
    with_cache(|c| c.entries.len())
}
