//! Flags for stopping runs from another thread: [`InterruptFlag`].
//!
//! [`Options::with_interrupt`](super::Options::with_interrupt) takes a `&'static
//! AtomicBool` so that `Options` stays `Copy` and without a lifetime. A flag
//! must then live for the rest of the program: [`InterruptFlag`] leaks each
//! flag it makes once, and keeps it in a pool when its holder drops it, for
//! the next one. A program leaks as many flags as it ever holds at once.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};

/// Flags no [`InterruptFlag`] holds, cleared, for the next ones to reuse.
static POOL: Mutex<Vec<&'static AtomicBool>> = Mutex::new(Vec::new());

/// A `'static` flag for [`Options::with_interrupt`](super::Options::with_interrupt),
/// taken from a pool and given back, cleared, when dropped: hold one per
/// evaluation (or one per thread that evaluates) and set it, from any thread,
/// to stop that evaluation with
/// [`ErrorKind::Interrupted`](crate::ErrorKind::Interrupted).
///
/// Drop it only when nothing will set it any more: a copy of
/// [`InterruptFlag::flag`] kept past the drop (say, by a signal handler)
/// could interrupt the next holder's evaluations. Memory is never at risk:
/// the flags are never freed.
///
/// ```
/// use vexpr::{Env, ErrorKind, InterruptFlag, Options};
/// let stop = InterruptFlag::new();
/// let options = Options::default().with_interrupt(stop.flag());
/// let a = vec![0.5; 1000];
/// let env = Env::new().with("a", &a);
/// assert!(vexpr::evaluate_with("sin(a)", &env, options).is_ok());
/// stop.interrupt(); // from any thread, e.g. a Ctrl-C handler's
/// let err = vexpr::evaluate_with("sin(a)", &env, options).unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::Interrupted);
/// stop.clear(); // ready for the next evaluation
/// assert!(vexpr::evaluate_with("sin(a)", &env, options).is_ok());
/// ```
#[derive(Debug)]
pub struct InterruptFlag {
    flag: &'static AtomicBool,
}

impl InterruptFlag {
    /// A cleared flag: one given back by an earlier holder, or a new one.
    ///
    /// ```
    /// assert!(!vexpr::InterruptFlag::new().is_interrupted());
    /// ```
    pub fn new() -> InterruptFlag {
        let reused = POOL.lock().unwrap_or_else(PoisonError::into_inner).pop();
        InterruptFlag {
            // Leaked on purpose: `Options` holds `&'static` flags, and the
            // pool bounds how many are ever made.
            flag: reused.unwrap_or_else(|| Box::leak(Box::new(AtomicBool::new(false)))),
        }
    }

    /// The flag, for [`Options::with_interrupt`](super::Options::with_interrupt).
    ///
    /// ```
    /// use std::sync::atomic::Ordering;
    /// let stop = vexpr::InterruptFlag::new();
    /// let flag = stop.flag(); // for a signal handler, say
    /// flag.store(true, Ordering::Relaxed);
    /// assert!(stop.is_interrupted());
    /// ```
    pub fn flag(&self) -> &'static AtomicBool {
        self.flag
    }

    /// Sets the flag: evaluations given it stop at their next check.
    ///
    /// ```
    /// let stop = vexpr::InterruptFlag::new();
    /// stop.interrupt();
    /// assert!(stop.is_interrupted());
    /// ```
    pub fn interrupt(&self) {
        self.flag.store(true, Ordering::Relaxed);
    }

    /// True once [`InterruptFlag::interrupt`] was called (and not cleared).
    ///
    /// ```
    /// assert!(!vexpr::InterruptFlag::default().is_interrupted());
    /// ```
    pub fn is_interrupted(&self) -> bool {
        self.flag.load(Ordering::Relaxed)
    }

    /// Clears the flag, for the next evaluation.
    ///
    /// ```
    /// let stop = vexpr::InterruptFlag::new();
    /// stop.interrupt();
    /// stop.clear();
    /// assert!(!stop.is_interrupted());
    /// ```
    pub fn clear(&self) {
        self.flag.store(false, Ordering::Relaxed);
    }
}

impl Default for InterruptFlag {
    fn default() -> Self {
        InterruptFlag::new()
    }
}

impl Drop for InterruptFlag {
    fn drop(&mut self) {
        self.clear();
        POOL.lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(self.flag);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dropped_flags_are_reused_cleared() {
        let first = InterruptFlag::new();
        first.interrupt();
        assert!(first.is_interrupted());
        let address = std::ptr::from_ref(first.flag());
        drop(first);
        // Other tests may take flags from the pool meanwhile: look for this
        // one among a few.
        let held: Vec<InterruptFlag> = (0..64).map(|_| InterruptFlag::new()).collect();
        let again = held
            .iter()
            .find(|f| std::ptr::eq(f.flag(), address))
            .expect("a dropped flag is reused");
        assert!(!again.is_interrupted());
    }
}
