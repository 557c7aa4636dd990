//! Ctrl-C during a long evaluation: the work runs on a worker thread while the
//! REPL's thread waits for either its result or the SIGINT flag.
//!
//! An evaluation cannot be stopped from outside (the VM has no cancellation
//! points, and killing a thread is not possible), so an interrupted job is
//! abandoned instead: the REPL returns to the prompt at once, the worker runs
//! to its end in the background, and its result is dropped. The session's
//! variables are never touched by a job, only by the REPL's thread once a job
//! has finished, so nothing is lost. Jobs that loop (`:time`) look at their
//! [`Cancel`] flag between rounds and stop early.
//!
//! At the prompt, rustyline puts the terminal in raw mode, so Ctrl-C arrives as
//! a key (it clears the line) and not as SIGINT. When commands come from a
//! pipe, a SIGINT between jobs ends the process as it would without a handler.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

/// Set by the SIGINT handler; cleared when a job starts and when it is seen.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);
/// True while a job runs: only then does SIGINT mean "abandon the job".
static BUSY: AtomicBool = AtomicBool::new(false);
/// True when reading a script: SIGINT between jobs ends the process.
static EXIT_WHEN_IDLE: AtomicBool = AtomicBool::new(false);

/// How often the waiting thread looks at the flag: short enough to feel
/// immediate, long enough to cost nothing.
const POLL: Duration = Duration::from_millis(20);

/// The exit code of a process ended by SIGINT, as shells report it (128 + 2).
pub const EXIT_INTERRUPTED: u8 = 130;

/// Installs the SIGINT handler. Failure (another handler is installed) is
/// ignored: Ctrl-C then ends the process, which is the default anyway.
pub fn install(exit_when_idle: bool) {
    EXIT_WHEN_IDLE.store(exit_when_idle, Ordering::SeqCst);
    let _ = ctrlc::set_handler(|| {
        if !BUSY.load(Ordering::SeqCst) && EXIT_WHEN_IDLE.load(Ordering::SeqCst) {
            std::process::exit(i32::from(EXIT_INTERRUPTED));
        }
        INTERRUPTED.store(true, Ordering::SeqCst);
    });
}

/// A job's own stop flag. Each job has a fresh one, so that a later job is
/// not stopped by the flag of an abandoned one.
#[derive(Debug, Clone, Default)]
pub struct Cancel(Arc<AtomicBool>);

impl Cancel {
    /// True once the job has been abandoned.
    pub fn is_set(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }

    fn set(&self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// How a job ended.
#[derive(Debug)]
pub enum Outcome<T> {
    /// It finished with this value.
    Done(T),
    /// Ctrl-C was pressed first; the worker was abandoned.
    Interrupted,
    /// The worker panicked (its message has been printed by the panic hook).
    Panicked,
}

/// Runs `job` on a worker thread and waits for its value or for Ctrl-C.
pub fn run<T: Send + 'static>(job: impl FnOnce(&Cancel) -> T + Send + 'static) -> Outcome<T> {
    BUSY.store(true, Ordering::SeqCst);
    let outcome = run_until(&INTERRUPTED, job);
    BUSY.store(false, Ordering::SeqCst);
    outcome
}

/// [`run`], abandoning the job when `interrupted` is set (tests pass a flag
/// of their own, so that jobs of tests running in parallel stay apart).
fn run_until<T: Send + 'static>(
    interrupted: &AtomicBool,
    job: impl FnOnce(&Cancel) -> T + Send + 'static,
) -> Outcome<T> {
    // A Ctrl-C pressed before the job started is not meant for it.
    interrupted.store(false, Ordering::SeqCst);
    let cancel = Cancel::default();
    let (sender, receiver) = mpsc::channel();
    let worker_cancel = cancel.clone();
    // The handle is dropped: an abandoned worker detaches and its send fails
    // harmlessly when it ends, dropping the value. Spawning fails only when
    // the process is out of threads or memory, not for any input.
    std::thread::Builder::new()
        .name("vexpr-repl-job".to_string())
        .spawn(move || {
            let _ = sender.send(job(&worker_cancel));
        })
        .expect("the operating system refused to start a thread");
    loop {
        match receiver.recv_timeout(POLL) {
            Ok(value) => return Outcome::Done(value),
            Err(RecvTimeoutError::Disconnected) => return Outcome::Panicked,
            Err(RecvTimeoutError::Timeout) => {
                if interrupted.swap(false, Ordering::SeqCst) {
                    cancel.set();
                    return Outcome::Interrupted;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_job_gives_its_value_or_its_panic() {
        assert!(matches!(run(|_| 6 * 7), Outcome::Done(42)));
        assert!(matches!(
            run(|_| -> i32 { panic!("on purpose") }),
            Outcome::Panicked
        ));
    }

    #[test]
    fn an_interrupted_job_is_abandoned_and_told_to_stop() {
        static FLAG: AtomicBool = AtomicBool::new(false);
        let (seen_sender, seen) = mpsc::channel();
        let outcome = run_until(&FLAG, move |cancel| {
            // Ctrl-C while the job runs.
            FLAG.store(true, Ordering::SeqCst);
            while !cancel.is_set() {
                std::thread::sleep(Duration::from_millis(1));
            }
            seen_sender.send(()).unwrap();
        });
        assert!(matches!(outcome, Outcome::Interrupted));
        seen.recv_timeout(Duration::from_secs(10))
            .expect("the worker saw its flag");
        // The next job starts with a clear flag and a fresh Cancel.
        assert!(matches!(
            run_until(&FLAG, |c| c.is_set()),
            Outcome::Done(false)
        ));
    }
}
