//! The code generator's own thread: machine code made away from the
//! caller's thread.
//!
//! In: jobs (a program to compile and the slot to fill). Out: the slots
//! filled, one job after another, on one thread started on first use (and
//! again in a child process after `fork`, which inherits the queue but not
//! the thread).
//!
//! Why: generating a program's code takes 25-140 µs, as long as running it
//! over a million elements. Made here, a run never waits for it: it runs its
//! passes meanwhile and takes the code up at its next piece, or its next
//! call (`Program::machine_code_if_ready`).

use std::sync::mpsc::{Sender, channel};
use std::sync::{Mutex, PoisonError};

/// One unit of work: compile a program and store its code.
pub(super) type Job = Box<dyn FnOnce() + Send>;

/// The running generator's queue, with the id of the process it runs in.
static QUEUE: Mutex<Option<(u32, Sender<Job>)>> = Mutex::new(None);

/// Queues `job` for the generator thread, starting the thread if this
/// process has none. If no thread can be started, runs `job` here: slower
/// for this caller, never wrong.
pub(super) fn submit(job: Job) {
    let me = std::process::id();
    let mut queue = QUEUE.lock().unwrap_or_else(PoisonError::into_inner);
    let job = match &*queue {
        Some((pid, sender)) if *pid == me => match sender.send(job) {
            Ok(()) => return,
            // The thread is gone (it never ends while the queue lives, so
            // only if it could not be kept): start another.
            Err(returned) => returned.0,
        },
        _ => job,
    };
    let (sender, receiver) = channel::<Job>();
    let started = std::thread::Builder::new()
        .name("vexpr-codegen".into())
        .spawn(move || {
            for job in receiver {
                // A panic while compiling (never expected) leaves that slot
                // unfilled, so its program runs its passes; the thread goes
                // on with the other jobs.
                let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
            }
        });
    match started {
        Ok(_) => {
            // A new channel's receiver is alive: the send cannot fail.
            let _ = sender.send(job);
            *queue = Some((me, sender));
        }
        Err(_) => {
            drop(queue);
            job();
        }
    }
}
