//! Threads: the global thread count ([`set_num_threads`], [`num_threads`])
//! and the `rayon` pools runs use, one per thread count, built on first use.
//!
//! The last [`MAX_POOLS`] pools used are kept; an older one is dropped from
//! the list and freed (its threads exit) as soon as no run still holds it, so
//! a program that tries many thread counts does not keep every pool's
//! threads forever.

use crate::process::PerProcess;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::{Duration, Instant};

/// The most threads a run uses. [`set_num_threads`] and
/// [`Options::with_threads`](crate::Options::with_threads) clamp larger
/// counts to this (as numexpr clamps to `NUMEXPR_MAX_THREADS`): far beyond
/// any core count, low enough that a typo cannot ask the system for
/// millions of threads.
///
/// ```
/// let previous = vexpr::set_num_threads(1 << 20);
/// assert_eq!(vexpr::num_threads(), vexpr::MAX_THREADS);
/// vexpr::set_num_threads(previous);
/// ```
pub const MAX_THREADS: usize = 1024;

/// Pools kept for later runs: a program usually runs at one or two thread
/// counts; more than this many distinct counts in turn rebuild pools.
pub(crate) const MAX_POOLS: usize = 4;

/// The global thread count; 0 until set (then [`default_threads`]).
static THREADS: AtomicUsize = AtomicUsize::new(0);

/// `threads` within `1..=MAX_THREADS`.
pub(crate) fn clamp_threads(threads: usize) -> usize {
    threads.clamp(1, MAX_THREADS)
}

/// The thread count before any [`set_num_threads`]: `VEXPR_NUM_THREADS` if
/// set to a positive number, else the number of cores, at most
/// [`MAX_THREADS`].
fn default_threads() -> usize {
    static DEFAULT: OnceLock<usize> = OnceLock::new();
    *DEFAULT.get_or_init(|| {
        let threads = std::env::var("VEXPR_NUM_THREADS")
            .ok()
            .and_then(|v| v.trim().parse::<usize>().ok())
            .filter(|&n| n > 0)
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
        clamp_threads(threads)
    })
}

/// The number of threads evaluations use by default
/// ([`Options::default`](crate::Options::default) reads it): the last
/// [`set_num_threads`], else `VEXPR_NUM_THREADS` if it is set to a positive
/// number, else the number of cores; at most [`MAX_THREADS`].
///
/// ```
/// assert!((1..=vexpr::MAX_THREADS).contains(&vexpr::num_threads()));
/// ```
pub fn num_threads() -> usize {
    match THREADS.load(Ordering::Relaxed) {
        0 => default_threads(),
        n => n,
    }
}

/// Sets the number of threads evaluations use by default (for the whole
/// process, from the next [`Options::default`](crate::Options::default) on)
/// and returns the previous number, as numexpr's `set_num_threads` does.
/// Counts outside `1..=`[`MAX_THREADS`] are clamped into it.
///
/// ```
/// let previous = vexpr::set_num_threads(2);
/// assert_eq!(vexpr::num_threads(), 2);
/// assert_eq!(vexpr::Options::default().threads(), 2);
/// assert_eq!(vexpr::set_num_threads(previous), 2);
/// ```
pub fn set_num_threads(threads: usize) -> usize {
    let previous = THREADS.swap(clamp_threads(threads), Ordering::Relaxed);
    match previous {
        0 => default_threads(),
        n => n,
    }
}

/// A pool of threads, and how many of them wait in [`linger`] for the next
/// run, ready to join it without being woken.
struct Pool {
    threads: rayon::ThreadPool,
    /// Shared with the jobs the pool runs, which count themselves in while
    /// they linger (not the pool itself: a job holding the pool would keep
    /// an evicted pool alive).
    lingering: Arc<AtomicUsize>,
    /// Jobs spawned for runs, for the tests.
    #[cfg(test)]
    jobs: AtomicUsize,
}

/// Pools by their thread count, the most recently used last.
type Pools = Vec<(usize, Arc<Pool>)>;

/// The kept pools. Per process: a child made by `fork` has none of its
/// parent's pool threads, so it builds its own.
static POOLS: PerProcess<Mutex<Pools>> = PerProcess::new();

fn pools() -> MutexGuard<'static, Pools> {
    // A panic while the lock was held leaves at worst a pool missing from
    // the list: keep using it.
    POOLS
        .get_or_init(|| Mutex::new(Vec::new()))
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
}

/// The pool of `threads` workers, built on first use; `None` if the system
/// refuses threads. The caller's `Arc` keeps the pool alive for its run even
/// if the pool leaves the kept list meanwhile.
fn pool_for(threads: usize) -> Option<Arc<Pool>> {
    let mut pools = pools();
    if let Some(k) = pools.iter().position(|(n, _)| *n == threads) {
        let entry = pools.remove(k);
        let pool = Arc::clone(&entry.1);
        pools.push(entry);
        return Some(pool);
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("vexpr-{i}"))
        .build()
        .ok()?;
    let pool = Arc::new(Pool {
        threads: pool,
        lingering: Arc::new(AtomicUsize::new(0)),
        #[cfg(test)]
        jobs: AtomicUsize::new(0),
    });
    if pools.len() >= MAX_POOLS {
        // Out of the list; freed when the last run holding it returns
        // (dropping a rayon pool only tells its threads to exit).
        pools.remove(0);
    }
    pools.push((threads, Arc::clone(&pool)));
    Some(pool)
}

/// Runs `f` inside the pool of `threads` workers (on the calling thread for one).
pub(crate) fn with_pool<R: Send>(threads: usize, f: impl FnOnce() -> R + Send) -> R {
    if threads <= 1 {
        // One thread is the calling thread: no pool, no hand-over.
        return f();
    }
    match pool_for(threads) {
        Some(pool) => pool.threads.install(f),
        // If the system refuses threads, the work still gets done here.
        None => f(),
    }
}

/// Runs `worker` on the calling thread and on up to `threads - 1` pool
/// threads, and returns when every copy that started has returned. The
/// workers share their work themselves (say, through an atomic counter), so
/// a copy that starts late finds less to do, or nothing.
///
/// The calling thread works instead of waiting, and it never waits for a
/// pool thread that has not started by the time its own copy is done:
/// waking a sleeping thread takes 2-30 µs in this virtual machine (at times
/// ~100), longer than a small run, and a copy that starts after the caller
/// has finished returns at once without calling `worker`. (A rayon scope
/// waits for each job spawned in it to run, however late.)
///
/// A pool thread that helped stays awake for [`LINGER`] after, and joins the
/// next run of its pool that opens meanwhile ([`linger`]): a loop of runs
/// then finds its helpers awake. A run spawns a job only for the seats the
/// lingering threads do not fill: a job wakes a sleeping pool thread (a
/// system call on the caller) for a thread that would find no seat left;
/// not spawning it saved about 0.3 µs a call at N = 10k on two threads
/// (the tuning table's "no jobs for the seats of lingering threads").
pub(crate) fn run_shared(threads: usize, worker: &(dyn Fn() + Sync)) {
    let pool = if threads > 1 { pool_for(threads) } else { None };
    let Some(pool) = pool else {
        return worker();
    };
    let key = Arc::as_ptr(&pool) as usize;
    let helping = Arc::new(Helping::new(worker, key, threads - 1));
    let latest = latest();
    latest.open(&helping);
    // Read after the run opened: a lingering thread that has joined it by
    // now is no longer counted, and the job spawned for its seat finds none
    // and returns. One counted here that times out before it sees the run
    // leaves its seat empty: the caller and the others do the work. So does
    // one that two callers' runs, opened at once, both counted: it joins
    // the later (`Latest` holds one run), and the earlier runs without it.
    let lingering = pool.lingering.load(Ordering::SeqCst);
    for _ in lingering.min(threads - 1)..threads - 1 {
        let helping = Arc::clone(&helping);
        let lingering = Arc::clone(&pool.lingering);
        #[cfg(test)]
        pool.jobs.fetch_add(1, Ordering::SeqCst);
        pool.threads.spawn(move || {
            if helping.help() {
                drop(helping);
                linger(key, &lingering);
            }
        });
    }
    // Closes the run when dropped, after `worker` returns or while it
    // unwinds: no copy calls `worker` once `run_shared` has returned.
    let closing = Closing(&helping);
    worker();
    drop(closing);
    latest.close(&helping);
    if let Some(payload) = helping
        .panic
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .take()
    {
        std::panic::resume_unwind(payload);
    }
}

/// How long a pool thread that helped with a run keeps looking for the
/// next run of its pool before it goes back to rayon, which puts an idle
/// thread to sleep within microseconds. Waking a sleeping thread took up to
/// 100-200 µs at times on this virtual machine (its vCPU halted), longer
/// than runs of 10k-100k elements: two threads were then no faster than one
/// (`2*a**3 - 4*a**5 + 6*log(a)` at N = 40k: 1.81 ns/elem on two threads,
/// 1.91 on one, the fastest sample 0.99). OpenMP runtimes spin the same way
/// (`OMP_WAIT_POLICY`, `KMP_BLOCKTIME`).
const LINGER: Duration = Duration::from_micros(500);

/// The run that lingering pool threads may join: the last one opened.
struct Latest {
    /// Bumped whenever `run` changes, so that a lingering thread watches
    /// one atomic, not the lock.
    generation: AtomicU64,
    run: Mutex<Option<Arc<Helping>>>,
}

impl Latest {
    /// Makes `run` the one to join.
    fn open(&self, run: &Arc<Helping>) {
        *self.run.lock().unwrap_or_else(PoisonError::into_inner) = Some(Arc::clone(run));
        self.generation.fetch_add(1, Ordering::Release);
    }

    /// Forgets `run` if it is still the one to join (a closed run takes no
    /// helper, so this only frees it sooner).
    fn close(&self, run: &Arc<Helping>) {
        let mut latest = self.run.lock().unwrap_or_else(PoisonError::into_inner);
        if latest.as_ref().is_some_and(|l| Arc::ptr_eq(l, run)) {
            *latest = None;
        }
    }
}

/// This process's [`Latest`] (a forked child's pools are its own).
fn latest() -> &'static Latest {
    static LATEST: PerProcess<Latest> = PerProcess::new();
    LATEST.get_or_init(|| Latest {
        generation: AtomicU64::new(0),
        run: Mutex::new(None),
    })
}

/// On a pool thread of the pool `key` that has just helped: for
/// [`LINGER`], joins each run of the same pool that opens, then returns.
/// Counted in `lingering` while it waits (not while it helps, so that a
/// long run it helps leaves the next run's seat to a spawned job).
fn linger(key: usize, lingering: &AtomicUsize) {
    let latest = latest();
    let mut seen = latest.generation.load(Ordering::Acquire);
    let mut since = Instant::now();
    lingering.fetch_add(1, Ordering::SeqCst);
    while since.elapsed() < LINGER {
        let now = latest.generation.load(Ordering::Acquire);
        if now == seen {
            std::hint::spin_loop();
            continue;
        }
        seen = now;
        let run = latest
            .run
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        if let Some(run) = run
            && run.pool == key
        {
            lingering.fetch_sub(1, Ordering::SeqCst);
            let helped = run.help();
            lingering.fetch_add(1, Ordering::SeqCst);
            if helped {
                since = Instant::now();
            }
        }
    }
    lingering.fetch_sub(1, Ordering::SeqCst);
}

/// How long [`Helping::close`] spins for the copies still running before it
/// sleeps: they share pieces with the caller, so they finish within a piece
/// of it (a few µs), and a sleeping caller would take a wake-up.
const CLOSE_SPINS: u32 = 1 << 12;

/// What the copies of one [`run_shared`] share.
struct Helping {
    /// The caller's worker, its lifetime erased. A copy calls it only after
    /// counting itself in `running` and then finding `open` still set; the
    /// caller clears `open` and then waits for `running` to be 0 before
    /// `run_shared` returns (both `SeqCst`: if a copy saw `open` set, the
    /// caller's later load sees that copy's count), so every call happens
    /// while the borrow it was made from is alive.
    worker: *const (dyn Fn() + Sync + 'static),
    open: AtomicBool,
    running: AtomicUsize,
    /// Held while `running` goes down and while the caller sleeps on
    /// `finished`, so that no wake-up is lost.
    lock: Mutex<()>,
    finished: Condvar,
    /// A copy's panic, raised again on the calling thread.
    panic: Mutex<Option<Box<dyn std::any::Any + Send>>>,
    /// The pool of the run (its address), whose lingering threads may join.
    pool: usize,
    /// Copies that may still take part: the run's thread count less the
    /// caller, shared by the spawned copies and lingering threads.
    seats: AtomicUsize,
}

// SAFETY: `worker` points at a `dyn Fn() + Sync`, which any thread may call
// through a shared reference; `Helping` only ever calls it so (see `help`).
// Every other field is `Send` and `Sync`.
unsafe impl Send for Helping {}
// SAFETY: as for `Send`.
unsafe impl Sync for Helping {}

impl Helping {
    fn new(worker: &(dyn Fn() + Sync), pool: usize, seats: usize) -> Helping {
        let worker: *const (dyn Fn() + Sync + '_) = worker;
        // SAFETY: only the trait object's lifetime bound changes (the same
        // fat pointer); `help` dereferences it only while the borrow lives.
        let worker = unsafe {
            std::mem::transmute::<*const (dyn Fn() + Sync + '_), *const (dyn Fn() + Sync + 'static)>(
                worker,
            )
        };
        Helping {
            worker,
            open: AtomicBool::new(true),
            running: AtomicUsize::new(0),
            lock: Mutex::new(()),
            finished: Condvar::new(),
            panic: Mutex::new(None),
            pool,
            seats: AtomicUsize::new(seats),
        }
    }

    /// One pool thread's copy: the worker, if the run is still open and a
    /// seat is free; `false` if no seat was.
    fn help(&self) -> bool {
        if (self.seats)
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |s| s.checked_sub(1))
            .is_err()
        {
            return false;
        }
        self.running.fetch_add(1, Ordering::SeqCst);
        if self.open.load(Ordering::SeqCst) {
            let worker = self.worker;
            // SAFETY: counted in `running` while `open` was set, so the caller
            // has not returned from `run_shared` and will not before `running`
            // drops back (see `worker`): the closure behind the pointer lives.
            let call = || unsafe { (*worker)() };
            if let Err(payload) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(call)) {
                *self.panic.lock().unwrap_or_else(PoisonError::into_inner) = Some(payload);
            }
        }
        let _held = self.lock.lock().unwrap_or_else(PoisonError::into_inner);
        self.running.fetch_sub(1, Ordering::SeqCst);
        self.finished.notify_all();
        true
    }

    /// No copy starts the worker from now on; returns once those running
    /// have returned.
    fn close(&self) {
        self.open.store(false, Ordering::SeqCst);
        for _ in 0..CLOSE_SPINS {
            if self.running.load(Ordering::SeqCst) == 0 {
                return;
            }
            std::hint::spin_loop();
        }
        let mut held = self.lock.lock().unwrap_or_else(PoisonError::into_inner);
        while self.running.load(Ordering::SeqCst) > 0 {
            held = self
                .finished
                .wait(held)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }
}

/// Closes a [`Helping`] when dropped.
struct Closing<'h>(&'h Helping);

impl Drop for Closing<'_> {
    fn drop(&mut self) {
        self.0.close();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Weak;

    fn kept() -> Vec<usize> {
        pools().iter().map(|(n, _)| *n).collect()
    }

    // Thread counts no other test uses, so that other tests running at the
    // same time can only evict these pools sooner, never keep them.
    const COUNTS: [usize; 6] = [21, 22, 23, 24, 25, 26];

    /// Held by the tests that cycle through more than `MAX_POOLS` counts, so
    /// that one does not evict the other's pools while it looks at them.
    static CYCLING: std::sync::Mutex<()> = std::sync::Mutex::new(());

    #[test]
    fn at_most_max_pools_are_kept_and_the_last_used_stays() {
        let _alone = CYCLING.lock().unwrap_or_else(|e| e.into_inner());
        for &n in &COUNTS {
            with_pool(n, || assert_eq!(rayon::current_num_threads(), n));
            assert!(kept().len() <= MAX_POOLS);
            // Not necessarily the last: another test may have used a pool
            // (of a count of its own) since.
            assert!(kept().contains(&n), "{n} in {:?}", kept());
        }
    }

    #[test]
    fn an_evicted_pool_works_for_its_holder_and_is_freed_after() {
        let _alone = CYCLING.lock().unwrap_or_else(|e| e.into_inner());
        let held = pool_for(27).expect("threads");
        let weak: Weak<Pool> = Arc::downgrade(&held);
        for n in 28..28 + MAX_POOLS {
            with_pool(n, || ());
        }
        assert!(!kept().contains(&27));
        // Still whole for the run that holds it.
        assert_eq!(held.threads.install(rayon::current_num_threads), 27);
        drop(held);
        assert!(
            weak.upgrade().is_none(),
            "the pool outlived its last holder"
        );
    }

    #[test]
    fn a_copy_that_starts_after_the_caller_is_done_never_calls_the_worker() {
        const N: usize = 33;
        let pool = pool_for(N).expect("threads");
        // Hold every pool thread, so that no copy can start during the run.
        let (release, released) = std::sync::mpsc::channel::<()>();
        let released = Arc::new(Mutex::new(released));
        let (held, holding) = std::sync::mpsc::channel();
        for _ in 0..N {
            let (released, held) = (Arc::clone(&released), held.clone());
            pool.threads.spawn(move || {
                held.send(()).unwrap();
                let _ = released.lock().unwrap().recv();
            });
        }
        for _ in 0..N {
            holding.recv().unwrap();
        }
        // A rayon scope would wait here for its jobs: for ever.
        let calls = AtomicUsize::new(0);
        run_shared(N, &|| {
            calls.fetch_add(1, Ordering::SeqCst);
        });
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        drop(release);
        // The copies start now, find the run closed and return.
        std::thread::sleep(std::time::Duration::from_millis(50));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn a_panic_on_a_pool_thread_is_raised_on_the_caller() {
        let started = AtomicBool::new(false);
        let caller = std::thread::current().id();
        let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            run_shared(34, &|| {
                if std::thread::current().id() != caller {
                    started.store(true, Ordering::SeqCst);
                    panic!("a pool thread's panic");
                }
                // The caller's copy waits (at most 10 s) for a pool copy.
                let since = std::time::Instant::now();
                while !started.load(Ordering::SeqCst) && since.elapsed().as_secs() < 10 {
                    std::thread::yield_now();
                }
            });
        }));
        assert!(
            started.load(Ordering::SeqCst),
            "no pool copy started in 10 s"
        );
        let payload = run.expect_err("the panic reaches the caller");
        assert_eq!(
            payload.downcast_ref::<&str>(),
            Some(&"a pool thread's panic")
        );
    }

    #[test]
    fn lingering_threads_join_later_runs_but_never_exceed_the_thread_count() {
        // A count of its own: no other test's runs share this pool.
        const N: usize = 3;
        let active = AtomicUsize::new(0);
        let most = AtomicUsize::new(0);
        let helpers = Mutex::new(std::collections::HashSet::new());
        let caller = std::thread::current().id();
        for _ in 0..300 {
            run_shared(N, &|| {
                let now = active.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                if std::thread::current().id() != caller {
                    helpers.lock().unwrap().insert(std::thread::current().id());
                }
                // Long enough for every copy that can start to overlap.
                std::thread::sleep(std::time::Duration::from_micros(200));
                active.fetch_sub(1, Ordering::SeqCst);
            });
        }
        assert!(
            most.load(Ordering::SeqCst) <= N,
            "{} copies at once",
            most.load(Ordering::SeqCst)
        );
        assert!(
            !helpers.lock().unwrap().is_empty(),
            "no pool thread ever helped"
        );
    }

    #[test]
    fn runs_that_lingering_threads_fill_spawn_no_jobs() {
        // A count of its own: no other test's runs share this pool.
        const N: usize = 6;
        let pool = pool_for(N).expect("threads");
        let work = || std::thread::sleep(std::time::Duration::from_micros(100));
        // Each round: a run whose helpers then linger, and at once another.
        // The second fills some seats with them (every seat, on an idle
        // machine) instead of spawning a job for each; on a loaded one a
        // round may find none lingering yet, so some round of many must.
        let fewer = (0..200).any(|_| {
            run_shared(N, &work);
            let before = pool.jobs.load(Ordering::SeqCst);
            run_shared(N, &work);
            pool.jobs.load(Ordering::SeqCst) - before < N - 1
        });
        assert!(fewer, "every run spawned a job for each of its seats");
    }

    #[test]
    fn the_global_count_is_clamped() {
        assert_eq!(clamp_threads(0), 1);
        assert_eq!(clamp_threads(MAX_THREADS + 1), MAX_THREADS);
        assert_eq!(clamp_threads(3), 3);
    }
}
