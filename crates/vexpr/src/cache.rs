//! The compiled expressions [`evaluate`](crate::evaluate) and
//! [`evaluate_with`](crate::evaluate_with) keep, as numexpr keeps its own:
//! an expression's text and [`Signature`] in, the [`Expr`] compiled for them
//! out, compiled on the first call and found by every later one, so a loop of
//! one-off calls parses, checks and generates code (machine code included:
//! it lives in the `Expr`) once.
//!
//! The key is the text and the signature (each variable's name and dtype, in
//! the environment's order); [`Options`](crate::Options) are not part of it,
//! because they change how a program runs, never what is compiled. At most
//! [`CACHE_SIZE`] expressions are kept, the least recently used dropped
//! first; texts longer than [`MAX_CACHED_LEN`] bytes are compiled on every
//! call and never kept, so that the cache holds at most a few MiB of text.
//! One lock guards the map; compiling happens outside it, so threads
//! compiling different expressions do not wait for each other.

use crate::error::Result;
use crate::expr::{Expr, Signature};
use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, Hasher, RandomState};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

/// Expressions kept (numexpr keeps 256 too).
pub(crate) const CACHE_SIZE: usize = 256;

/// The longest text kept, in bytes (16 KiB): far longer than expressions
/// written by hand, short enough that [`CACHE_SIZE`] of them stay small.
pub(crate) const MAX_CACHED_LEN: usize = 16 << 10;

struct Entry {
    expr: Arc<Expr>,
    /// When the entry was last found or made, in lookups since the start.
    last_used: u64,
}

#[derive(Default)]
struct Cache {
    /// Entries by the hash of their text and signature; a hash shared by
    /// several keys holds all of them, told apart by comparing the keys.
    entries: HashMap<u64, Vec<Entry>>,
    len: usize,
    clock: u64,
}

static CACHE: OnceLock<(RandomState, Mutex<Cache>)> = OnceLock::new();

fn cache() -> &'static (RandomState, Mutex<Cache>) {
    CACHE.get_or_init(Default::default)
}

fn key_hash(hasher: &RandomState, source: &str, signature: &Signature) -> u64 {
    let mut h = hasher.build_hasher();
    source.hash(&mut h);
    signature.hash(&mut h);
    h.finish()
}

#[cfg(test)]
thread_local! {
    /// Compilations made by this thread through the cache, for the tests.
    static COMPILED: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// The expression `source` compiled for `signature`: the kept one, or
/// compiled now (and kept unless the text is too long). Errors are not kept:
/// a text that fails fails again, at the same cost, on every call.
pub(crate) fn compiled(source: &str, signature: &Signature) -> Result<Arc<Expr>> {
    if source.len() > MAX_CACHED_LEN {
        return Expr::compile(source, signature).map(Arc::new);
    }
    let (hasher, lock) = cache();
    let hash = key_hash(hasher, source, signature);
    if let Some(expr) = lock
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .find(hash, source, signature)
    {
        return Ok(expr);
    }
    let expr = Arc::new(Expr::compile(source, signature)?);
    #[cfg(test)]
    COMPILED.with(|c| c.set(c.get() + 1));
    // A panic while the lock was held leaves at worst an entry missing or
    // an old one kept: keep using the map.
    let mut cache = lock.lock().unwrap_or_else(PoisonError::into_inner);
    // Another thread may have compiled the same meanwhile: keep its copy,
    // so that every caller shares one (and its machine code).
    if let Some(kept) = cache.find(hash, source, signature) {
        return Ok(kept);
    }
    cache.insert(hash, Arc::clone(&expr));
    Ok(expr)
}

impl Cache {
    fn find(&mut self, hash: u64, source: &str, signature: &Signature) -> Option<Arc<Expr>> {
        self.clock += 1;
        let clock = self.clock;
        let entry = self
            .entries
            .get_mut(&hash)?
            .iter_mut()
            .find(|e| e.expr.source() == source && e.expr.signature() == signature)?;
        entry.last_used = clock;
        Some(Arc::clone(&entry.expr))
    }

    fn insert(&mut self, hash: u64, expr: Arc<Expr>) {
        if self.len >= CACHE_SIZE {
            self.evict_oldest();
        }
        self.clock += 1;
        let last_used = self.clock;
        self.entries
            .entry(hash)
            .or_default()
            .push(Entry { expr, last_used });
        self.len += 1;
    }

    /// Drops the least recently used entry: a scan of all of them, paid
    /// only when an expression is compiled, which costs far more.
    fn evict_oldest(&mut self) {
        let oldest = self
            .entries
            .iter()
            .flat_map(|(&hash, list)| {
                list.iter()
                    .enumerate()
                    .map(move |(k, e)| (e.last_used, hash, k))
            })
            .min();
        if let Some((_, hash, k)) = oldest
            && let Some(list) = self.entries.get_mut(&hash)
        {
            list.swap_remove(k);
            if list.is_empty() {
                self.entries.remove(&hash);
            }
            self.len -= 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DType, Env, Span};

    fn compilations() -> u64 {
        COMPILED.with(std::cell::Cell::get)
    }

    fn len() -> usize {
        cache().1.lock().unwrap_or_else(PoisonError::into_inner).len
    }

    #[test]
    fn one_off_evaluations_compile_once() {
        // A text no other test evaluates, so that only this test's calls
        // reach its entry.
        let text = "a * 3 + 0.125 - a * a";
        let a = [1.0, 2.0, 4.0];
        let env = Env::new().with("a", &a[..]);
        let before = compilations();
        for _ in 0..5 {
            let r = crate::evaluate(text, &env).unwrap();
            assert_eq!(r.as_slice::<f64>().unwrap(), &[2.125, 2.125, -3.875]);
        }
        assert_eq!(compilations() - before, 1);
        // The options are no part of the key.
        let options = crate::Options::default().with_threads(2).with_jit(false);
        crate::evaluate_with(text, &env, options).unwrap();
        assert_eq!(compilations() - before, 1);
    }

    #[test]
    fn other_dtypes_and_names_compile_their_own() {
        let text = "x + x // 2 + 17";
        let f = [3.0f64, 5.0];
        let i = [3i32, 5];
        let l = [3i64, 5];
        let before = compilations();
        let rf = crate::evaluate(text, &Env::new().with("x", &f[..])).unwrap();
        let ri = crate::evaluate(text, &Env::new().with("x", &i[..])).unwrap();
        let rl = crate::evaluate(text, &Env::new().with("x", &l[..])).unwrap();
        assert_eq!(compilations() - before, 3);
        assert_eq!(rf.as_slice::<f64>().unwrap(), &[21.0, 24.0]);
        assert_eq!(ri.as_slice::<i32>().unwrap(), &[21, 24]);
        assert_eq!(rl.as_slice::<i64>().unwrap(), &[21, 24]);
        // Each again, from the cache, still of its own type.
        let ri = crate::evaluate(text, &Env::new().with("x", &i[..])).unwrap();
        let rf = crate::evaluate(text, &Env::new().with("x", &f[..])).unwrap();
        assert_eq!(compilations() - before, 3);
        assert_eq!(ri.dtype(), DType::Int32);
        assert_eq!(rf.dtype(), DType::Float64);
        // Another name is another signature.
        let sig = Signature::new().with("y", DType::Float64);
        let e = compiled(text, &sig);
        assert_eq!(e.unwrap_err().span(), Span::new(0, 1));
    }

    #[test]
    fn the_same_key_gives_the_same_expression() {
        let sig = Signature::new()
            .with("p", DType::Float32)
            .with("q", DType::Int64);
        let first = compiled("p * q - 1", &sig).unwrap();
        let again = compiled("p * q - 1", &sig).unwrap();
        assert!(Arc::ptr_eq(&first, &again));
        let other = compiled("p * q - 1", &sig.clone().with("q", DType::Float64)).unwrap();
        assert!(!Arc::ptr_eq(&first, &other));
        // numexpr's kinds: int64 with float32 is float32.
        assert_eq!(first.result_dtype(), DType::Float32);
        assert_eq!(other.result_dtype(), DType::Float64);
    }

    #[test]
    fn the_cache_is_bounded_and_keeps_what_is_used() {
        let sig = Signature::new().with("k", DType::Int64);
        let kept = compiled("k + 424242", &sig).unwrap();
        for n in 0..CACHE_SIZE + 10 {
            compiled(&format!("k * {n} + 77"), &sig).unwrap();
            assert!(len() <= CACHE_SIZE);
            if n % 16 == 0 {
                // Used now and then: never the least recently used.
                assert!(Arc::ptr_eq(&kept, &compiled("k + 424242", &sig).unwrap()));
            }
        }
        assert!(Arc::ptr_eq(&kept, &compiled("k + 424242", &sig).unwrap()));
        // The first of the others was the least recently used: recompiled.
        let before = compilations();
        compiled("k * 0 + 77", &sig).unwrap();
        assert_eq!(compilations() - before, 1);
    }

    #[test]
    fn long_texts_are_compiled_but_not_kept() {
        let sig = Signature::new().with("a", DType::Float64);
        let long = format!("a{}", " + 1".repeat(MAX_CACHED_LEN / 4));
        let first = compiled(&long, &sig).unwrap();
        let again = compiled(&long, &sig).unwrap();
        assert!(!Arc::ptr_eq(&first, &again));
    }
}
