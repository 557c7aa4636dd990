//! State that belongs to one process: the thread pools, the code
//! generator's thread, and the queues and locks their threads use.
//!
//! In: a constructor. Out: [`PerProcess`], the value for the calling
//! process, made on first use, and made anew in a child process made by
//! `fork` (as Python's `multiprocessing` does on Linux).
//!
//! Why: a child of `fork` inherits its parent's memory but only the thread
//! that forked. The parent's pool threads and code generator do not exist
//! there, so a run handed to them would wait for ever, and a lock that one
//! of them held at the instant of the fork stays locked. So the child never
//! uses its copy of the parent's value, nor drops it (dropping a pool
//! signals threads that are not there, through locks that may be held): it
//! is abandoned, and the child makes its own.
//!
//! How a child knows it is one: on Linux a `pthread_atfork` handler counts
//! forks in the child, and a value records the count it was made at;
//! elsewhere the process id stands in (a system call, so only for values
//! used once per run or less).

use std::sync::atomic::{AtomicPtr, AtomicU64, Ordering};

/// A value made once per process; see the module doc.
pub(crate) struct PerProcess<T> {
    current: AtomicPtr<Made<T>>,
}

struct Made<T> {
    process: u64,
    value: T,
}

impl<T: Send + Sync + 'static> PerProcess<T> {
    pub(crate) const fn new() -> Self {
        PerProcess {
            current: AtomicPtr::new(std::ptr::null_mut()),
        }
    }

    /// This process's value, made by `make` if this process has none yet.
    /// Threads racing to make it may each call `make`; one value is kept and
    /// the others dropped unused, so `make` should start nothing (no thread).
    pub(crate) fn get_or_init(&self, make: impl Fn() -> T) -> &T {
        let process = this_process();
        loop {
            let seen = self.current.load(Ordering::Acquire);
            // SAFETY: every non-null pointer stored in `current` comes from
            // `Box::into_raw` below and is never freed (a value of a parent
            // process is abandoned, not dropped), so it stays valid for as
            // long as `self`.
            if let Some(made) = unsafe { seen.as_ref() }
                && made.process == process
            {
                return &made.value;
            }
            let fresh = Box::into_raw(Box::new(Made {
                process,
                value: make(),
            }));
            match self
                .current
                .compare_exchange(seen, fresh, Ordering::AcqRel, Ordering::Acquire)
            {
                // SAFETY: stored, so never freed (see above).
                Ok(_) => return unsafe { &(*fresh).value },
                // SAFETY: `fresh` was not stored, so no other thread has
                // seen it: this is its only owner.
                Err(_) => drop(unsafe { Box::from_raw(fresh) }),
            }
        }
    }
}

/// Forks seen by the children of this process's line, counted in each child.
static FORKS: AtomicU64 = AtomicU64::new(0);

/// A number that differs between a process and any child `fork` makes of it.
fn this_process() -> u64 {
    #[cfg(target_os = "linux")]
    {
        static REGISTER: std::sync::Once = std::sync::Once::new();
        extern "C" fn in_child() {
            // An atomic add is async-signal-safe, as a fork handler must be.
            FORKS.fetch_add(1, Ordering::Relaxed);
        }
        REGISTER.call_once(|| {
            // SAFETY: registers a handler that only increments an atomic; it
            // runs in the child, which has one thread, right after `fork`.
            // A failure (ENOMEM) leaves children to share the parent's values,
            // which is how things were before; never expected.
            let _ = unsafe { libc::pthread_atfork(None, None, Some(in_child)) };
        });
        FORKS.load(Ordering::Relaxed)
    }
    #[cfg(not(target_os = "linux"))]
    {
        u64::from(std::process::id())
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn a_forked_child_makes_its_own_value_and_its_parent_keeps_its_own() {
        static VALUE: PerProcess<u32> = PerProcess::new();
        let parents = std::ptr::from_ref(VALUE.get_or_init(std::process::id));
        // SAFETY: the child only reads memory it inherited, makes one small
        // value (glibc's allocator is usable after fork) and leaves with
        // `_exit`, running no destructors and touching no other thread's
        // state.
        let child = unsafe { libc::fork() };
        assert!(child >= 0, "fork failed");
        if child == 0 {
            let its_own = VALUE.get_or_init(std::process::id);
            let ok = *its_own == std::process::id() && !std::ptr::eq(its_own, parents);
            // SAFETY: ends the child at once, as a forked test child must.
            unsafe { libc::_exit(if ok { 0 } else { 1 }) };
        }
        let mut status = 0;
        // SAFETY: waits for the child made above, writing into a local.
        let waited = unsafe { libc::waitpid(child, &mut status, 0) };
        assert_eq!(waited, child);
        assert!(
            libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
            "{status}"
        );
        assert!(std::ptr::eq(VALUE.get_or_init(|| 0), parents));
        assert_eq!(*VALUE.get_or_init(|| 0), std::process::id());
    }
}
