//! Whether a run is worth more than one thread: the run's length, its
//! program's cost and, for machine code, the time its serial runs were
//! measured at, in; "run it on this thread" or "split it" out.
//!
//! Passes are judged by their instruction costs ([`MIN_WORK_PER_THREAD`]).
//! Machine code is judged by an estimate of its time from its arithmetic and
//! its memory traffic until its own serial runs in the caches near the core
//! have been timed ([`SerialTime`]), then by that time. The estimate is off
//! by a quarter to a half either way for light programs, so it asks for
//! twice the time a measured run does ([`MIN_NS_PER_THREAD`] against
//! [`MIN_MEASURED_NS_PER_THREAD`]): a run split on an estimate is never
//! timed serially again, and a split that does not pay costs more than one
//! left on one thread.

use super::CACHED_UP_TO_BYTES;
use crate::jit::Code;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Instant;

/// A run of passes goes parallel only with at least this much work per
/// thread, counted in elements times the summed
/// [`Overload::cost`](crate::functions::Overload) of the instructions (1
/// per arithmetic pass, 8 per transcendental function; a unit is about 0.09
/// ns of passes). Waking a sleeping pool thread costs 2-30 µs in this
/// virtual machine, but the caller never waits for one that has not started
/// (`pool::run_shared`), so splitting pays from runs of a few µs a thread;
/// the same bound as [`MIN_NS_PER_THREAD`]'s, about 3 µs.
#[cfg(not(miri))]
pub(super) const MIN_WORK_PER_THREAD: usize = 1 << 15;
/// Under Miri, runs of a few hundred elements go parallel, so that its data
/// race checks reach the pieces and the pool in minutes, not hours (the
/// result does not depend on how a run is split).
#[cfg(miri)]
pub(super) const MIN_WORK_PER_THREAD: usize = 1 << 10;

/// A run of machine code not timed yet goes parallel only when one thread
/// would take at least this long per thread (ns, estimated from
/// `jit::Code::compute_ns` and the bytes moved). The caller works on the
/// run itself and never waits for a pool thread that has not started
/// (`pool::run_shared`), so a late wake-up costs nothing but the wake
/// call. Two threads against one at AVX2 (`vexpr bench EXPR --n N
/// --threads 2`, this bound at 200 µs against 1 µs, binaries interleaved,
/// two runs each, ns/elem): at N = 10k `2*a**3 - 4*a**5 + 6*log(a)` 1.91 →
/// 1.10, `abs(a - b) / (abs(a) + abs(b))` 0.57 → 0.41-0.46, `2*a + 3*b`
/// 0.30 → 0.31-0.32 (a run of 3 µs: the wake call is most of the gain); at
/// 30k and 100k the three 1.6-2.0x faster. 4 µs keeps runs under about 8 µs
/// on one thread serial.
pub(super) const MIN_NS_PER_THREAD: usize = 4_000;

/// A run of machine code whose serial runs were timed ([`SerialTime`]) goes
/// parallel when one thread would take at least this long per thread at
/// the measured rate. On two threads of the AMD EPYC (Zen 3) at AVX2, N =
/// 10k, each run on one thread against split, the two rules switched every
/// call in one process (2,000 samples of 4 calls, medians, ns/elem): runs
/// of 4.7-6 µs gained 9-20% split (int64 `a / b` 0.642 → 0.511, `a*b + c*d`
/// 0.631 → 0.514, `where(a == b, c, d)` 0.613 → 0.499, float32 `where(a*b >
/// 0.5, 1.5*a**3, b - 2.5*a)` 0.599 → 0.549), while a bound of 2 µs a thread
/// on the estimate split runs of 3.2-3.4 µs, which lost 17-20% (`a*b + c`
/// at 8.6k 0.400 → 0.482). From Python, in turns of 60 ms 15 ms apart as
/// `benches/broad.py` times, three runs: int64 `a / b` 0.50-0.51 → 0.42-0.47,
/// float64 `a / b` 0.43-0.45 → 0.33-0.35, the float32 `where` 0.55 → 0.48-0.52,
/// `where(a == b, c, d)` 0.53-0.56 → 0.40-0.59 and `a*b + c*d` 0.54-0.56 →
/// 0.42-0.67 (a second vCPU that the host takes away now and then). Beside
/// another engine whose threads still spin (Numba's OpenMP threads, 8 ms
/// after its calls) such runs lose 8-25% split, as any split run does.
pub(super) const MIN_MEASURED_NS_PER_THREAD: usize = 2_000;

/// One thread's time per byte of inputs and output streamed from L3 or
/// memory, in ns: `2*a + 3*b` (24 bytes an element) took 0.81-0.83 ns/elem
/// at N = 1M on one thread (`python3 benches/compare.py`).
const MEMORY_NS_PER_BYTE: f64 = 0.035;

/// One thread's time per byte of inputs and output in L2, in ns: at N = 10k,
/// `abs(a + b)` (24 bytes an element) took 0.325 ns/elem and float32 `a > b`
/// (9 bytes) 0.149 on one thread (`benches/broad.py`). Estimated at the
/// streamed rate, such runs of 2-4 µs went to two threads and took longer
/// there (0.565 and 0.257 ns/elem): the second thread's wake-up cost more
/// than its half of the work.
const CACHED_NS_PER_BYTE: f64 = 0.015;

/// Runs shorter than this are not timed: a call's fixed cost (tens of ns)
/// would weigh in their time per element, and none of them is long enough
/// to split.
const MIN_TIMED_LEN: usize = 2048;

/// Runs are timed only when a thread's share would be at least this part of
/// [`MIN_MEASURED_NS_PER_THREAD`] (by the measured rate, or the estimate
/// before there is one): shorter ones can never be split, and the clock,
/// read twice at about 30 ns a read on this machine, would cost them more.
const TIMED_FROM_SHARE: f64 = 0.25;

/// The one-thread time per element of a program's machine code, measured
/// on its serial runs in the caches near the core while more threads were
/// allowed (the only runs it decides): a running median, in ns per element.
///
/// The first [`SerialTime::SEED_SAMPLES`] samples keep their minimum (a
/// run's noise only ever adds time), then each sample moves the median a
/// sixteenth of itself towards it, up or down: one interrupted run moves it
/// no further than any other. After [`SerialTime::TRUSTED_SAMPLES`] the
/// split decision takes it instead of the estimate; from then on one run in
/// [`SerialTime::SAMPLE_EVERY`] is timed. Updates from several threads may
/// race and lose a sample, which only slows the median a little.
#[derive(Debug, Default)]
pub(crate) struct SerialTime {
    /// The median's `f32` bits; 0 before the first sample.
    ns_per_element: AtomicU32,
    /// Samples taken, saturating.
    samples: AtomicU32,
    /// Runs that asked whether to time themselves after the median was
    /// trusted, for the one-in-[`SerialTime::SAMPLE_EVERY`] rule.
    asked: AtomicU32,
}

impl SerialTime {
    const SEED_SAMPLES: u32 = 4;
    const TRUSTED_SAMPLES: u32 = 16;
    const SAMPLE_EVERY: u32 = 8;
    const STEP: f32 = 1.0 / 16.0;

    /// The measured median, once enough samples back it.
    pub(crate) fn trusted(&self) -> Option<f64> {
        (self.samples.load(Ordering::Relaxed) >= Self::TRUSTED_SAMPLES).then(|| self.median())
    }

    fn median(&self) -> f64 {
        f64::from(f32::from_bits(self.ns_per_element.load(Ordering::Relaxed)))
    }

    /// Adds one run's time per element.
    pub(crate) fn record(&self, ns_per_element: f64) {
        let x = ns_per_element as f32;
        if !(x.is_finite() && x > 0.0) {
            return;
        }
        let samples = self.samples.load(Ordering::Relaxed);
        let median = f32::from_bits(self.ns_per_element.load(Ordering::Relaxed));
        let next = if samples < Self::SEED_SAMPLES || median == 0.0 {
            if median == 0.0 { x } else { median.min(x) }
        } else if x > median {
            median * (1.0 + Self::STEP)
        } else if x < median {
            median * (1.0 - Self::STEP)
        } else {
            median
        };
        self.ns_per_element.store(next.to_bits(), Ordering::Relaxed);
        self.samples
            .store(samples.saturating_add(1), Ordering::Relaxed);
    }

    /// Whether this run should be timed: every run until the median is
    /// trusted, then one in [`SerialTime::SAMPLE_EVERY`].
    fn wants_sample(&self) -> bool {
        if self.samples.load(Ordering::Relaxed) < Self::TRUSTED_SAMPLES {
            return true;
        }
        // A load and a store, not a locked add: a count lost to a race
        // only moves the next sample.
        let asked = self.asked.load(Ordering::Relaxed);
        self.asked.store(asked.wrapping_add(1), Ordering::Relaxed);
        asked.is_multiple_of(Self::SAMPLE_EVERY)
    }
}

/// How the split decision sees one run of machine code on more than one
/// thread ([`judge`]): made once a call, it decides the split
/// ([`Judged::too_short_to_split`]) and whether a serial run is timed
/// ([`run_serial`]).
pub(crate) struct Judged {
    /// A thread's share of the run, in ns.
    per_thread_ns: f64,
    /// Whether that is from the program's measured serial runs (else from
    /// the estimate).
    measured: bool,
    /// Whether the run fits in the caches near the core.
    cached: bool,
}

/// Bytes of inputs and output one element of `code` moves.
fn bytes_per_element(code: &Code) -> usize {
    code.input_bytes.iter().sum::<usize>() + code.elem_bytes
}

/// Whether `len` elements of `code` fit in the caches near the core
/// ([`CACHED_UP_TO_BYTES`]).
fn fits_in_cache(code: &Code, len: usize) -> bool {
    len.saturating_mul(bytes_per_element(code)) <= CACHED_UP_TO_BYTES
}

/// A thread's share of `len` elements of `code` on `threads` threads, in
/// ns: at the measured serial rate when the run fits in the caches and one
/// is trusted, else estimated as the code's arithmetic or its memory
/// traffic, whichever is slower (from the caches when the run fits there,
/// else from L3 or memory).
pub(crate) fn judge(code: &Code, len: usize, threads: usize) -> Judged {
    let cached = fits_in_cache(code, len);
    let (ns_per_element, measured) = match code.serial_time.trusted().filter(|_| cached) {
        Some(measured) => (measured, true),
        None => {
            let ns_per_byte = match cached {
                true => CACHED_NS_PER_BYTE,
                false => MEMORY_NS_PER_BYTE,
            };
            let traffic = bytes_per_element(code) as f64 * ns_per_byte;
            (code.compute_ns.max(traffic), false)
        }
    };
    Judged {
        per_thread_ns: len as f64 * ns_per_element / threads as f64,
        measured,
        cached,
    }
}

impl Judged {
    /// Whether the run is too little work to split: a thread's share
    /// against [`MIN_MEASURED_NS_PER_THREAD`] when the code's serial runs
    /// were timed, else against [`MIN_NS_PER_THREAD`] (see the module doc).
    pub(crate) fn too_short_to_split(&self) -> bool {
        let bound = match self.measured {
            true => MIN_MEASURED_NS_PER_THREAD,
            false => MIN_NS_PER_THREAD,
        };
        self.per_thread_ns < bound as f64
    }
}

/// Runs `run`, a serial run of `len` elements of `code`, and times it into
/// the code's [`SerialTime`] when the time could decide a later run: more
/// than one thread allowed (`judged` is the call's judgement then, `None`
/// for a call on one thread), a run in the caches, long enough to be worth
/// timing and near enough the bound ([`TIMED_FROM_SHARE`]). The result is
/// `run`'s; a run that fails is not recorded.
pub(super) fn run_serial<T, E>(
    code: &Code,
    len: usize,
    judged: Option<&Judged>,
    run: impl FnOnce() -> Result<T, E>,
) -> Result<T, E> {
    let timed = judged.is_some_and(|judged| {
        judged.cached
            && len >= MIN_TIMED_LEN
            && judged.per_thread_ns >= TIMED_FROM_SHARE * MIN_MEASURED_NS_PER_THREAD as f64
    }) && code.serial_time.wants_sample();
    if !timed {
        return run();
    }
    let start = Instant::now();
    let result = run()?;
    let ns = start.elapsed().as_nanos() as f64;
    code.serial_time.record(ns / len as f64);
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fed(samples: &[f64]) -> SerialTime {
        let time = SerialTime::default();
        for &s in samples {
            time.record(s);
        }
        time
    }

    #[test]
    fn the_median_is_trusted_only_after_enough_samples() {
        let time = fed(&[0.5; 15]);
        assert_eq!(time.trusted(), None);
        time.record(0.5);
        assert_eq!(time.trusted(), Some(0.5));
    }

    #[test]
    fn the_seed_is_the_fastest_of_the_first_samples() {
        // A cold first run (page faults, code not in the caches) does not
        // start the median high.
        let time = fed(&[3.0, 0.6, 0.5, 0.7]);
        assert_eq!(time.median(), 0.5);
    }

    #[test]
    fn outliers_move_the_median_no_further_than_other_samples() {
        // Mostly 0.5, with one run in eight interrupted for 100 times as long:
        // the median stays within a step or two of 0.5.
        let samples: Vec<f64> = (0..400)
            .map(|i| if i % 8 == 7 { 50.0 } else { 0.5 })
            .collect();
        let median = fed(&samples).trusted().unwrap();
        assert!((0.45..0.58).contains(&median), "{median}");
    }

    #[test]
    fn the_median_follows_a_change_of_rate() {
        // A machine that gets busier: the runs take twice as long from
        // sample 100 on.
        let samples: Vec<f64> = (0..200).map(|i| if i < 100 { 0.4 } else { 0.8 }).collect();
        let median = fed(&samples).trusted().unwrap();
        assert!((0.7..0.9).contains(&median), "{median}");
    }

    #[test]
    fn meaningless_samples_are_left_out() {
        let time = fed(&[f64::NAN, 0.0, -1.0, f64::INFINITY]);
        assert_eq!(time.samples.load(Ordering::Relaxed), 0);
        assert_eq!(time.median(), 0.0);
    }

    #[test]
    fn only_one_run_in_eight_is_timed_once_the_median_is_trusted() {
        let time = fed(&[0.5; 16]);
        let wanted = (0..80).filter(|_| time.wants_sample()).count();
        assert_eq!(wanted, 10);
    }
}
