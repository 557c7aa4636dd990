//! The code generator's own thread: machine code made away from the
//! caller's thread.
//!
//! In: jobs (a program to compile and the slot to fill). Out: the slots
//! filled, one job after another, on one thread per process: started when
//! the first expression is compiled at a level that has machine code
//! ([`start`]), or by the first job. A child process made by `fork` starts
//! its own, with a queue of its own (`crate::process`).
//!
//! Why: generating a program's code takes 50-250 µs, as long as running it
//! over a million elements. Made here, a run never waits for it: it runs its
//! passes meanwhile and takes the code up at its next piece, or its next
//! call (`Program::machine_code_if_ready`).
//!
//! What handing a job over costs the caller is waking this thread. The
//! queue is a mutex and a condition variable rather than
//! `std::sync::mpsc`: on the project machine (a virtual machine, 2 cores),
//! with the thread asleep, an `mpsc` send took 10-22 µs (median) and a
//! `Condvar::notify_one` 2.6-5 µs. Starting a thread costs about 90 µs
//! for a process's first and 18 µs later, which is why [`start`] does it
//! when an expression is compiled rather than inside a run. The thread runs in Linux's
//! batch class so that waking it never takes the caller's core.

use crate::process::PerProcess;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, Once, PoisonError};

/// One unit of work: compile a program and store its code.
pub(super) type Job = Box<dyn FnOnce() + Send>;

/// The generator thread's queue. A child made by `fork` makes its own
/// (`PerProcess`): its copy of the parent's has no thread, and its mutex may
/// have been held at the instant of the fork.
struct Generator {
    jobs: Mutex<VecDeque<Job>>,
    /// Signalled when a job is queued.
    queued: Condvar,
    /// Starts the thread, once.
    start: Once,
    /// False if the thread could not be started: callers run their jobs.
    running: AtomicBool,
}

static GENERATOR: PerProcess<Generator> = PerProcess::new();

impl Generator {
    fn jobs(&self) -> MutexGuard<'_, VecDeque<Job>> {
        self.jobs.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// This process's generator, its thread started if it has none.
fn current() -> &'static Generator {
    let generator = GENERATOR.get_or_init(|| Generator {
        jobs: Mutex::new(VecDeque::new()),
        queued: Condvar::new(),
        start: Once::new(),
        running: AtomicBool::new(true),
    });
    generator.start.call_once(|| {
        let started = std::thread::Builder::new()
            .name("vexpr-codegen".into())
            .spawn(move || serve(generator));
        if started.is_err() {
            generator.running.store(false, Ordering::Release);
        }
    });
    generator
}

/// Starts the generator thread if this process has none, so that the first
/// run to want machine code does not pay for starting it.
#[cfg(target_arch = "x86_64")]
pub(super) fn start() {
    current();
}

/// Queues `job` for the generator thread, starting the thread if this
/// process has none. If no thread can be started, runs `job` here: slower
/// for this caller, never wrong.
pub(super) fn submit(job: Job) {
    let generator = current();
    if !generator.running.load(Ordering::Acquire) {
        job();
        return;
    }
    generator.jobs().push_back(job);
    generator.queued.notify_one();
}

/// The generator thread: runs the queued jobs in order, sleeping while
/// there are none.
fn serve(generator: &'static Generator) {
    never_preempt_on_waking();
    let mut jobs = generator.jobs();
    loop {
        match jobs.pop_front() {
            Some(job) => {
                drop(jobs);
                // A panic while compiling (never expected) leaves that slot
                // unfilled, so its program runs its passes; the thread goes
                // on with the other jobs.
                let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                jobs = generator.jobs();
            }
            None => {
                jobs = generator
                    .queued
                    .wait(jobs)
                    .unwrap_or_else(PoisonError::into_inner)
            }
        }
    }
}

/// Puts this thread in Linux's `SCHED_BATCH` class: same share of the CPU,
/// but waking up it does not preempt the thread running on the core. With
/// every core busy, a woken generator otherwise took the caller's core at
/// once, and the caller's call paid the whole generation (seen as an
/// involuntary context switch in that call); now it waits for the next
/// scheduling tick while the caller runs its passes. Elsewhere a no-op.
fn never_preempt_on_waking() {
    #[cfg(target_os = "linux")]
    {
        let param = libc::sched_param { sched_priority: 0 };
        // SAFETY: `sched_setscheduler` reads the `sched_param` behind the
        // pointer, a live local; pid 0 is the calling thread. A failure
        // (never expected: lowering one's own class needs no privilege)
        // leaves the thread as it was.
        let _ = unsafe { libc::sched_setscheduler(0, libc::SCHED_BATCH, &param) };
    }
}
