//! The virtual machine: a [`Program`], the bound inputs and an output buffer
//! in; the output filled.
//!
//! The output is cut into blocks of at most [`Options::block_len`] elements,
//! halved while the registers of a block would not fit in L1 ([`L1_BUDGET`]),
//! and the program runs once per block, writing the block's result straight
//! into the output. Blocks are grouped into pieces (each a quarter of what is
//! left divided by the thread count, down to one block), which the calling
//! thread and `threads - 1` workers of a `rayon` pool take one at a time
//! (`pool.rs`); a run too short to pay for a second thread stays on the
//! calling thread (`split.rs`). Runs far larger
//! than the caches stream (`stream.rs`). A program that only copies a dense
//! input (the expression is one name) copies its bytes instead of running
//! blocks. Registers live in per-thread scratch
//! (`scratch.rs`) that is allocated once per thread and reused by every call,
//! so a run allocates nothing per block and nothing of the inputs' size.
//!
//! A run checks [`Options::interrupt`] once per block (and once per slice of
//! [`INTERRUPT_SPAN`] elements of machine code) on every thread, and stops
//! as soon as it is set.

mod convert;
mod gather;
mod interrupt;
mod pool;
mod reduce;
mod reduce_chunked;
mod scratch;
mod split;
mod stream;

pub(crate) use gather::Gather;
pub use interrupt::InterruptFlag;
pub use pool::{MAX_THREADS, num_threads, set_num_threads};
pub(crate) use pool::{clamp_threads, with_pool};
pub(crate) use reduce::{PARALLEL_REDUCTION_LEN, ReduceError, reduce, reduced_shape};
pub(crate) use reduce_chunked::ChunkedReduction;
pub(crate) use split::{SerialTime, judge};

use crate::cpu::{CpuLevel, with_run_cap};
use crate::jit::{Code, Traffic};
use crate::kernels::Operand;
use crate::program::{MAX_ARGS, Program, Role};
use scratch::{Scratch, with_scratch};
use split::MIN_WORK_PER_THREAD;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};
use stream::Streaming;

/// How an input variable's elements reach the registers.
#[derive(Debug)]
pub(crate) enum Binding<'a> {
    /// Contiguous, in output order: blocks are sub-slices, nothing is copied.
    Dense(&'a [u8]),
    /// Contiguous stored booleans in output order (NumPy's `bool`, whose bytes
    /// may be anything: zero is false, any other byte true). The boolean
    /// logic, `where`'s condition and machine code read them in place as
    /// they are; for the other kernels, which rely on 0 and 1, a block whose
    /// bytes are all 0 or 1, as every block of an array NumPy computed, is
    /// read in place as `Dense`, and any other block is converted into
    /// scratch (`vm/convert.rs`).
    Booleans(&'a [u8]),
    /// One element for the whole output (scalars, size-1 broadcasts).
    Splat(Vec<u8>),
    /// Strided or broadcast: each block is gathered into scratch.
    Gathered(Gather<'a>),
    /// The output buffer itself (evaluation in place): each block is copied into
    /// scratch before any instruction writes the block's output.
    Output,
}

impl<'a> Binding<'a> {
    /// The input's contiguous bytes, in output order, if it has them: what
    /// the streaming code prefetches and counts as memory traffic.
    pub(crate) fn contiguous(&self) -> Option<&'a [u8]> {
        match *self {
            Binding::Dense(data) | Binding::Booleans(data) => Some(data),
            _ => None,
        }
    }
}

/// Settings of one run: the thread count, the block length, machine code or
/// not, and a flag to stop it. Built from [`Options::default`] with the
/// `with_` methods (new settings may come in later versions, which is why
/// there is no struct literal):
///
/// ```
/// use vexpr::Options;
/// let options = Options::default().with_threads(2).with_jit(false);
/// assert_eq!((options.threads(), options.jit()), (2, false));
/// assert_eq!(options.block_len(), vexpr::DEFAULT_BLOCK_LEN);
/// ```
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct Options {
    pub(crate) block_len: usize,
    /// No [`Options::with_block_len`]: narrow programs may get longer blocks
    /// ([`MAX_AUTO_BLOCK_LEN`]).
    pub(crate) grow_blocks: bool,
    pub(crate) threads: usize,
    pub(crate) jit: bool,
    pub(crate) interrupt: Option<&'static AtomicBool>,
    pub(crate) cpu: Option<CpuLevel>,
}

impl Options {
    /// The default options ([`Options::default`]).
    ///
    /// ```
    /// assert_eq!(vexpr::Options::new().threads(), vexpr::num_threads());
    /// ```
    pub fn new() -> Options {
        Options::default()
    }

    /// Runs on `threads` threads: the calling thread and `threads - 1`
    /// workers of a pool kept for that count (1 runs on the calling thread
    /// alone). Clamped to `1..=`[`MAX_THREADS`](crate::MAX_THREADS), as
    /// [`set_num_threads`](crate::set_num_threads) clamps. The default is
    /// [`num_threads`](crate::num_threads) when the options are made.
    ///
    /// ```
    /// use vexpr::Options;
    /// assert_eq!(Options::default().with_threads(3).threads(), 3);
    /// assert_eq!(Options::default().with_threads(0).threads(), 1);
    /// assert_eq!(Options::default().with_threads(usize::MAX).threads(), vexpr::MAX_THREADS);
    /// ```
    pub fn with_threads(mut self, threads: usize) -> Options {
        self.threads = clamp_threads(threads);
        self
    }

    /// Cuts the output into blocks of at most `block_len` elements (default
    /// [`DEFAULT_BLOCK_LEN`]). The VM halves a block, down to 256 elements,
    /// while the registers of one block would not fit in 36 KiB (three
    /// quarters of an L1 data cache), and never runs blocks of fewer than
    /// 16 elements. Without this setting, a program whose registers are all
    /// narrow (booleans, int32, float32) gets longer blocks, up to 8192
    /// elements, while they fit in the same 36 KiB. Same results at every
    /// length: this is for tuning and testing.
    ///
    /// ```
    /// assert_eq!(vexpr::Options::default().with_block_len(4096).block_len(), 4096);
    /// ```
    pub fn with_block_len(mut self, block_len: usize) -> Options {
        self.block_len = block_len;
        self.grow_blocks = false;
        self
    }

    /// Runs float64 programs as machine code generated for them (on CPUs
    /// with AVX-512, for the instructions it covers) instead of one pass per
    /// instruction; on by default. Same results either way: `false` is for
    /// comparing the two.
    ///
    /// ```
    /// assert!(!vexpr::Options::default().with_jit(false).jit());
    /// ```
    pub fn with_jit(mut self, jit: bool) -> Options {
        self.jit = jit;
        self
    }

    /// A flag that stops the evaluation when set (by any thread, say a
    /// Ctrl-C handler): every thread of the run checks it between blocks
    /// (and every 64 Ki elements of machine code), a reduction between its
    /// chunks, an expression between its stages, and the evaluation returns
    /// an [`Error`](crate::Error) of kind
    /// [`ErrorKind::Interrupted`](crate::ErrorKind::Interrupted). A flag set
    /// before the call interrupts it before any work. The flag is only read:
    /// clear it before reusing it.
    ///
    /// An interrupted [`Expr::eval_into`](crate::Expr::eval_into) or
    /// [`Expr::eval_in_place`](crate::Expr::eval_in_place) has written part
    /// of its output (and so, in place, overwritten part of its input):
    /// which part is not specified.
    ///
    /// `'static` keeps `Options` `Copy` and free of lifetimes;
    /// [`InterruptFlag`] hands out such flags from a pool, without leaking
    /// one per call. Without a flag (the default) a run is never interrupted.
    ///
    /// ```
    /// use vexpr::{InterruptFlag, Options};
    /// let stop = InterruptFlag::new();
    /// let options = Options::default().with_interrupt(stop.flag());
    /// assert!(options.interrupt().is_some());
    /// ```
    pub fn with_interrupt(mut self, flag: &'static AtomicBool) -> Options {
        self.interrupt = Some(flag);
        self
    }

    /// Runs at no higher an instruction-set level than `level`: the kernels
    /// and machine code of that level, or of the process's level
    /// ([`cpu_level`](crate::cpu_level), which `VEXPR_CPU` caps) if that is
    /// lower. Same results at every level except in the last bit of a few
    /// functions (`docs/accuracy.md`); this is for testing and measuring
    /// what a smaller CPU runs. A level this CPU does not have is an error
    /// of the evaluation ([`ErrorKind::Unsupported`](crate::ErrorKind::Unsupported)).
    ///
    /// ```
    /// use vexpr::{CpuLevel, Env, Options};
    /// let a = [1.0, 2.0];
    /// let env = Env::new().with("a", &a[..]);
    /// let baseline = Options::default().with_cpu(CpuLevel::Baseline);
    /// assert_eq!(baseline.cpu(), Some(CpuLevel::Baseline));
    /// // Square roots are correctly rounded at every level.
    /// let r = vexpr::evaluate_with("sqrt(a)", &env, baseline).unwrap();
    /// assert_eq!(r.as_slice::<f64>().unwrap(), &[1.0, 2f64.sqrt()]);
    /// ```
    pub fn with_cpu(mut self, level: CpuLevel) -> Options {
        self.cpu = Some(level);
        self
    }

    /// The level cap, if any ([`Options::with_cpu`]).
    ///
    /// ```
    /// assert_eq!(vexpr::Options::default().cpu(), None);
    /// ```
    pub fn cpu(&self) -> Option<CpuLevel> {
        self.cpu
    }

    /// The thread count ([`Options::with_threads`]).
    ///
    /// ```
    /// assert!(vexpr::Options::default().threads() >= 1);
    /// ```
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// The longest block ([`Options::with_block_len`]).
    ///
    /// ```
    /// assert_eq!(vexpr::Options::default().block_len(), vexpr::DEFAULT_BLOCK_LEN);
    /// ```
    pub fn block_len(&self) -> usize {
        self.block_len
    }

    /// Whether machine code is used ([`Options::with_jit`]).
    ///
    /// ```
    /// assert!(vexpr::Options::default().jit());
    /// ```
    pub fn jit(&self) -> bool {
        self.jit
    }

    /// The interrupt flag, if any ([`Options::with_interrupt`]).
    ///
    /// ```
    /// assert!(vexpr::Options::default().interrupt().is_none());
    /// ```
    pub fn interrupt(&self) -> Option<&'static AtomicBool> {
        self.interrupt
    }
}

/// Default (and largest automatic) elements per block: 1024 float64 values are
/// 8 KiB a register.
///
/// ```
/// assert_eq!(vexpr::Options::default().block_len(), vexpr::DEFAULT_BLOCK_LEN);
/// ```
pub const DEFAULT_BLOCK_LEN: usize = 1024;

/// Bytes that all registers of one block (inputs, constants, temporaries and the
/// output) may take before the block is halved: three quarters of a 48 KiB L1
/// data cache, so that each instruction's pass over the block reads and writes
/// L1. Measured on the project machine (`vexpr bench EXPR --block-len B`, best of
/// three to five medians, one thread): programs of 56-64 bytes an element ran
/// faster with 512-element blocks than with 1024 (`2*a**3 - 4*a**5 + 6*log(a)`
/// 1.96 against 2.10 ns/elem at 1M, 2.41 against 2.84 at 10M). At 40 bytes the
/// programs split: `where(a > b, a*b, a - b)` (whose last instruction touches
/// five arrays) 0.43 against 0.51 at 10k and 0.84 against 0.95 at 1M, and
/// `exp(-a*a) * sqrt(b)` 1.67 against 1.78 at 1M, favour 512; `a**2 + 3*b`
/// (0.318 against 0.304 at 10k) and `abs(a - b) / (abs(a) + abs(b))` (0.84
/// against 0.82 at 10k, 1.12 against 1.15 at 1M) are within 5% either way.
pub const L1_BUDGET: usize = 36 << 10;

/// Machine code runs at most this many elements per call when the run can be
/// interrupted, so that the flag is checked every ~0.1 ms even where one call
/// would cover a whole piece: 64 Ki float64 elements (512 KiB of output, a
/// multiple of the 64 bytes that non-temporal stores align to).
pub const INTERRUPT_SPAN: usize = 1 << 16;

/// The automatic halving stops here: shorter blocks pay more per-instruction
/// dispatch than they save.
pub const MIN_AUTO_BLOCK_LEN: usize = 256;

/// The automatic doubling (of a program whose registers are all at most 4
/// bytes wide and take so few bytes an element together that twice the
/// block still fits [`L1_BUDGET`]) stops here. Each block costs a few
/// hundred instructions of its own and each pass a kernel call, which a
/// 1 KiB boolean register does not pay for: `p & q`
/// (booleans, 3 bytes an element) took 0.074-0.087 ns/elem at N = 10k and
/// 0.108-0.125 at 1M with 1024-element blocks, 0.048-0.057 and 0.070-0.078
/// with 4096, 0.053-0.066 and 0.071-0.078 with 8192, 0.048-0.053 and
/// 0.068-0.070 with 16384 (`vexpr bench "p & q" --type p=bool --type q=bool
/// --threads 1 --block-len B`, three runs each); `~p` 0.056-0.074,
/// 0.029-0.037, 0.026-0.033, 0.029-0.032 at 10k.
pub const MAX_AUTO_BLOCK_LEN: usize = 8192;

/// A parallel run has at least this many blocks a thread, where blocks
/// grown past [`DEFAULT_BLOCK_LEN`] can be shrunk to it: the pieces handed
/// to the threads are whole blocks. At AVX2, N = 10k, two threads
/// (`vexpr bench EXPR --n 10000 --threads 2 --repeat 1000`, binaries
/// alternated, two runs each, ns/elem; one thread 12.0 and 3.9):
/// `arcsinh(a)` (one instruction, so in blocks of 8192 before) 7.4-8.7 →
/// 4.6-4.7, float32 `a ** b` 3.3-3.9 → 2.3-2.7; at 30k unchanged.
const PARALLEL_BLOCKS_PER_THREAD: usize = 4;

/// At most this many bytes of scratch per thread: deeply nested expressions get
/// shorter blocks instead of unbounded memory.
const SCRATCH_BUDGET: usize = 16 << 20;

/// A program's first run is compiled to machine code when it has this much
/// work (elements times instruction costs, as [`MIN_WORK_PER_THREAD`]): about
/// 0.1 ms of passes, as long as generating the code takes (50-250 µs for the
/// benchmark expressions, `examples/codegen_latency.rs`). Smaller first runs use the passes,
/// so that a one-off evaluation of a small array does not pay for code it
/// uses once; the next run of the same program compiles it.
const JIT_AT_FIRST_RUN: usize = 1 << 20;

impl Default for Options {
    /// [`num_threads`](crate::num_threads) threads (the global setting at
    /// this call), blocks of [`DEFAULT_BLOCK_LEN`], machine code, no
    /// interrupt flag.
    fn default() -> Self {
        Options {
            block_len: DEFAULT_BLOCK_LEN,
            grow_blocks: true,
            threads: num_threads(),
            jit: true,
            interrupt: None,
            cpu: None,
        }
    }
}

impl Options {
    /// True once the interrupt flag, if any, is set.
    pub(crate) fn interrupted(&self) -> bool {
        is_set(self.interrupt)
    }
}

/// True if `flag` is given and set. Relaxed: the flag carries no data, and
/// the next check (a block later) sees the store if this one did not.
pub(crate) fn is_set(flag: Option<&AtomicBool>) -> bool {
    flag.is_some_and(|f| f.load(Ordering::Relaxed))
}

/// A kernel's refusal: which instruction, at which element, and why.
///
/// A run reports the fault of the first element (in element order) at which
/// any instruction refuses, and of the first instruction that refuses there:
/// a rule about elements, so the same fault whatever the blocks and threads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Fault {
    /// Index of the instruction in the program.
    pub instr: usize,
    /// Index of the element in the output.
    pub element: usize,
    /// The kernel's message.
    pub message: &'static str,
}

/// Why a run stopped before filling its output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stop {
    /// A kernel refused its operands.
    Fault(Fault),
    /// [`Options::interrupt`] was set.
    Interrupted,
    /// [`Options::cpu`] asks for a level this CPU does not have.
    Unavailable(CpuLevel),
}

impl From<Fault> for Stop {
    fn from(fault: Fault) -> Stop {
        Stop::Fault(fault)
    }
}

/// Runs `program` over `len` elements, writing the result bytes into `out`.
///
/// `bindings[i]` binds the program's input `i`; `out` holds exactly `len`
/// elements of the result type. If a kernel refuses its operands, the
/// [`Fault`] of the first element that fails is returned (the same whatever
/// the thread count and block length); if the run is interrupted, at any
/// element, [`Stop::Interrupted`]. Every thread of the run works at the
/// level [`Options::cpu`] caps (or [`Stop::Unavailable`] if this CPU does
/// not have it).
pub(crate) fn run(
    program: &Program,
    bindings: &[Binding<'_>],
    out: &mut [u8],
    len: usize,
    options: Options,
) -> Result<(), Stop> {
    if let Some(level) = options.cpu
        && level > CpuLevel::detected()
    {
        return Err(Stop::Unavailable(level));
    }
    with_run_cap(options.cpu, || {
        run_at_level(program, bindings, out, len, options)
    })
}

/// [`run`] on the calling thread's level.
fn run_at_level(
    program: &Program,
    bindings: &[Binding<'_>],
    out: &mut [u8],
    len: usize,
    options: Options,
) -> Result<(), Stop> {
    let width = program.result_dtype().itemsize();
    debug_assert_eq!(out.len(), len * width);
    if options.interrupted() {
        return Err(Stop::Interrupted);
    }
    if len == 0 || width == 0 {
        return Ok(());
    }
    if let Some(done) = run_small(program, bindings, out, len, options) {
        return done;
    }
    let per_element = program.scratch_bytes_per_element().max(1);
    let footprint = per_element + width;
    let cost: usize = program.code.iter().map(|i| i.overload.cost as usize).sum();
    let work = len.saturating_mul(cost.max(1));
    // Generating code takes 50-250 µs (once per program), many times a small
    // run: a program's first run asks for it only when it is large. It is
    // made on the code generator's thread (`jit/background.rs`): until it is
    // there, the run goes on with its passes and takes the code up at its
    // next piece, so no call waits for it.
    let ran_before = program.ran_before();
    let wants_code = options.jit && (ran_before || work >= JIT_AT_FIRST_RUN);
    let code = if wants_code {
        program.machine_code_if_ready()
    } else {
        None
    };
    let bytes = stream::run_bytes(program, bindings, len);
    let streaming = Streaming::plan(program, bindings, bytes, code.is_some());
    // One instruction over arrays read in place writes straight into the
    // output: nothing passes through scratch, so the L1 bound does not
    // apply, and longer blocks pay the per-block dispatch less often (`-a`
    // on int64 at N = 1M: 1000 blocks of 1024 cost 0.37M of the run's 1.1M
    // instructions, counted by callgrind; 0.40-0.46 → 0.35-0.39 ns/elem).
    // Not with a constant, which is a register of the block's length in
    // scratch (`a + 1` on int64 at 10k: 0.24 → 0.35-0.43 with it).
    let one_pass = program.code.len() == 1
        && (bindings.iter()).all(|b| matches!(b, Binding::Dense(_)))
        && (program.registers.iter()).all(|r| !matches!(r.role, Role::Const(_)));
    let mut block_len = options.block_len;
    if options.grow_blocks
        && (one_pass || program.registers.iter().all(|r| r.dtype.itemsize() <= 4))
    {
        while block_len < MAX_AUTO_BLOCK_LEN && (one_pass || 2 * block_len * footprint <= L1_BUDGET)
        {
            block_len *= 2;
        }
    }
    if streaming.prefetch_inputs {
        block_len = block_len.min(stream::STREAMING_BLOCK_LEN);
    }
    while !one_pass && block_len > MIN_AUTO_BLOCK_LEN && block_len * footprint > L1_BUDGET {
        block_len /= 2;
    }
    let block_len = block_len.clamp(16, (SCRATCH_BUDGET / per_element).max(16));
    let threads = options.threads.max(1);
    let blocks = len.div_ceil(block_len);
    let pending = wants_code && code.is_none() && program.machine_code_pending();
    // Machine code does the same work in less time than the passes that
    // `work` counts: its own judgement instead.
    let judged = code
        .filter(|_| threads > 1)
        .map(|code| judge(code, len, threads));
    let small = match code {
        Some(_) => judged
            .as_ref()
            .is_none_or(split::Judged::too_short_to_split),
        None => work < threads * MIN_WORK_PER_THREAD,
    };
    let serial = threads == 1 || blocks < threads || small;
    // Pieces are whole blocks: a parallel run of few blocks grown past the
    // default (10k elements in blocks of 8192 are two, of 8192 and 1808)
    // would leave most of its work to one thread. Grown blocks are shrunk
    // back towards the default until each thread has some to take.
    let mut block_len = block_len;
    while !serial
        && block_len > DEFAULT_BLOCK_LEN
        && len.div_ceil(block_len) < PARALLEL_BLOCKS_PER_THREAD * threads
    {
        block_len /= 2;
    }
    let non_temporal_from = match serial {
        true => NON_TEMPORAL_FROM_BYTES,
        false => PARALLEL_NON_TEMPORAL_FROM_BYTES,
    };
    let run = Run {
        program,
        bindings,
        code,
        pending,
        block_len,
        streaming,
        traffic: if streaming.prefetch_inputs || bytes >= non_temporal_from {
            Traffic::Streaming
        } else if (serial || bytes <= CACHED_UP_TO_BYTES) && !prefetch_anyway() {
            Traffic::Cached
        } else {
            Traffic::Prefetched
        },
        interrupt: options.interrupt,
        unchecked_booleans: match bindings.iter().any(|b| matches!(b, Binding::Booleans(_))) {
            true => read_as_any_byte(program),
            false => 0,
        },
    };
    if serial {
        if !pending {
            return match code {
                Some(code) => {
                    split::run_serial(code, len, judged.as_ref(), || run.piece(out, 0, len))
                }
                None => run.piece(out, 0, len),
            };
        }
        // Pieces of about 100 µs of passes each, so that a long run takes up
        // the code soon after it is made.
        let step = PENDING_PIECE_LEN.next_multiple_of(block_len);
        for (i, piece) in out.chunks_mut(step * width).enumerate() {
            run.piece(piece, i * step, piece.len() / width)?;
        }
        return Ok(());
    }
    // The output is handed out in pieces to whichever thread is free, each a
    // quarter of the rest divided by the thread count (whole blocks, at least
    // one), as OpenMP's guided schedule: large pieces while much is left,
    // single blocks at the end, so that the threads finish within a block of
    // each other even when one starts late (a pool thread can take tens of µs
    // to wake in this VM). Against 16 equal pieces a thread (`vexpr bench
    // EXPR --n 1000000 --threads 2 --repeat 300`, ns/elem, interleaved runs):
    // `sin(a)**2 + cos(b)**2` 0.66-0.76 → 0.61-0.65, `2*a**3 - 4*a**5 +
    // 6*log(a)` 0.55-0.57 → 0.52-0.53. (Earlier, 16 equal pieces a thread
    // had beaten 4: 0.93-1.01 → 0.92-0.94 for the first.)
    let rest = Mutex::new((out, 0usize));
    let stops = Mutex::new(Vec::new());
    let worker = || {
        with_run_cap(options.cpu, || {
            loop {
                let (piece, first) = {
                    let mut rest = rest.lock().unwrap_or_else(PoisonError::into_inner);
                    let (left, first) = &mut *rest;
                    let count = left.len() / width;
                    if count == 0 {
                        break;
                    }
                    let n = count
                        .div_ceil(4 * threads)
                        .next_multiple_of(block_len)
                        .min(count);
                    let (piece, tail) = std::mem::take(left).split_at_mut(n * width);
                    *left = tail;
                    let at = *first;
                    *first += n;
                    (piece, at)
                };
                let n = piece.len() / width;
                if let Err(stop) = run.piece(piece, first, n) {
                    stops
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .push(stop);
                    // The other threads see the flag at their next block; none
                    // needs more pieces.
                    if stop == Stop::Interrupted {
                        break;
                    }
                }
            }
        })
    };
    pool::run_shared(threads, &worker);
    let stops = stops.into_inner().unwrap_or_else(PoisonError::into_inner);
    if stops.contains(&Stop::Interrupted) {
        // Some pieces never ran, so which element fails first is unknown.
        return Err(Stop::Interrupted);
    }
    // Each piece stops at its first failing element, so the earliest of
    // theirs is the first of all, whichever thread ran it.
    stops
        .into_iter()
        .filter_map(|stop| match stop {
            Stop::Fault(fault) => Some(fault),
            Stop::Interrupted | Stop::Unavailable(_) => None,
        })
        .min_by_key(|fault| fault.element)
        .map_or(Ok(()), |fault| Err(Stop::Fault(fault)))
}

/// The most elements [`run_small`] takes: a few µs of the slowest machine
/// code, well within [`INTERRUPT_SPAN`] and [`CACHED_UP_TO_BYTES`].
const SMALL_RUN_LEN: usize = 4096;

/// A short run of a program whose machine code is made, over dense inputs:
/// one call of the code on this thread, without the planning of
/// [`run_at_level`] (block length, streaming, threads), which on a few
/// elements costs more than the arithmetic. `None` leaves the run to
/// [`run_at_level`]: for a first run (which decides whether to make code),
/// any input that is not dense, a run the general path would split, and
/// when the code stops early for a full math function (the general path
/// then writes the whole output again).
fn run_small(
    program: &Program,
    bindings: &[Binding<'_>],
    out: &mut [u8],
    len: usize,
    options: Options,
) -> Option<Result<(), Stop>> {
    // A test that asks for prefetches wants the general path's function.
    if !options.jit || len > SMALL_RUN_LEN || !program.has_run() || prefetch_anyway() {
        return None;
    }
    let code = program.machine_code_if_ready()?;
    let judged = (options.threads > 1).then(|| judge(code, len, options.threads));
    // The general path would split this run between threads.
    if judged
        .as_ref()
        .is_some_and(|judged| !judged.too_short_to_split())
    {
        return None;
    }
    // `Run::dense_inputs`'s checks, made while taking the pointers: one
    // pass instead of two, 8 ns of a 128 ns call at N = 10.
    let mut pointers = [std::ptr::null::<u8>(); crate::jit::MAX_INPUTS];
    for ((p, &reg), &w) in pointers.iter_mut().zip(&code.inputs).zip(&code.input_bytes) {
        let Role::Input(v) = program.registers[reg].role else {
            return None;
        };
        *p = bindings[v].contiguous()?.get(..len * w)?.as_ptr();
    }
    let out = out.get_mut(..len * code.elem_bytes)?;
    // A run the code stopped early (for a full math function) is not timed:
    // the general path writes it again.
    let finished = split::run_serial(code, len, judged.as_ref(), || {
        // SAFETY: each pointer starts `len` elements of its dense input (of
        // the code's `input_bytes` for it, the slices just taken), and `out`
        // holds `len` slots of `elem_bytes`. Dense inputs are borrowed apart
        // from the output, so they do not alias it. `Traffic::Cached` makes
        // no non-temporal stores, so `out` needs no alignment.
        let written = unsafe {
            code.run(
                &pointers[..code.inputs.len()],
                out.as_mut_ptr(),
                len,
                Traffic::Cached,
            )
        };
        if written == len { Ok(()) } else { Err(()) }
    })
    .is_ok();
    #[cfg(test)]
    SMALL_RUNS.set(SMALL_RUNS.get() + usize::from(finished));
    finished.then_some(Ok(()))
}

#[cfg(test)]
thread_local! {
    /// How many runs on this thread [`run_small`] finished, for the tests
    /// that check which runs take it.
    pub(crate) static SMALL_RUNS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// What every block of one run shares.
#[derive(Clone, Copy)]
struct Run<'r, 'a> {
    program: &'r Program,
    bindings: &'r [Binding<'a>],
    /// The program's machine code, if it has some and the run may use it.
    code: Option<&'r Code>,
    /// The run would use machine code that is being made: each piece looks
    /// whether it is there yet.
    pending: bool,
    block_len: usize,
    streaming: Streaming,
    /// The machine code's memory hints ([`Traffic`]): non-temporal stores
    /// for a run that streams or moves [`NON_TEMPORAL_FROM_BYTES`] (on one
    /// thread; [`PARALLEL_NON_TEMPORAL_FROM_BYTES`] split), no
    /// prefetches for any other run on one thread and for a split one of at
    /// most [`CACHED_UP_TO_BYTES`].
    traffic: Traffic,
    /// [`Options::interrupt`].
    interrupt: Option<&'static AtomicBool>,
    /// The input registers whose stored booleans need no check
    /// ([`read_as_any_byte`]).
    unchecked_booleans: u64,
}

/// The input registers (of the first 64) that only instructions of
/// [`Overload::any_byte_true`](crate::functions::Overload::any_byte_true)
/// read: the boolean logic, which reads any byte other than zero as true,
/// as NumPy does. Their stored booleans are read in place unchecked.
fn read_as_any_byte(program: &Program) -> u64 {
    let (mut any_byte, mut zero_or_one) = (0u64, 0u64);
    for instr in &program.code {
        for &a in instr.args.iter().filter(|&&a| a < 64) {
            match instr.overload.any_byte_true {
                true => any_byte |= 1 << a,
                false => zero_or_one |= 1 << a,
            }
        }
    }
    any_byte & !zero_or_one
}

/// Machine code stores the output non-temporally (skipping the read of its
/// lines, and past the caches) when a run on one thread moves at least this
/// many bytes (contiguous inputs and output): half the 32 MiB L3 of the machine
/// measured. A smaller run keeps its output in L3, as NumPy's and Numba's
/// loops do; a larger one would push its own inputs out of it. At AVX2,
/// N = 1M (`vexpr bench EXPR --n 1000000 --threads T`, before: from 4 MiB of
/// output; binaries interleaved, two runs each, ns/elem): `-a` (16 MB, now
/// ordinary stores) 0.37 → 0.32 on one thread and 0.37 → 0.15 on two;
/// `2*a + 3*b` (24 MB) with ordinary stores took 0.54-0.64 against 0.39-0.42
/// on one thread (where it keeps them), and 0.22-0.24 against 0.36-0.38 on
/// two ([`PARALLEL_NON_TEMPORAL_FROM_BYTES`]);
/// `2*a**3 - 4*a**5 + 6*log(a)` (16 MB) was unchanged (1.96-2.01).
const NON_TEMPORAL_FROM_BYTES: usize = 16 << 20;

/// [`NON_TEMPORAL_FROM_BYTES`] for a run split between threads: the L3 of
/// the machine measured. Two cores read and write L3 at about twice one
/// core's rate, while non-temporal stores go to memory at the same rate
/// for one or two, so a parallel run that fits in L3 keeps its output
/// there. At AVX2, two threads, this bound against 16 MiB
/// (`vexpr bench EXPR --n N --threads 2 --repeat 300`, binaries
/// alternated, two runs each, ns/elem): N = 1M, `a + b` 0.33-0.35 → 0.24-0.26,
/// `2*a + 3*b` 0.33-0.34 → 0.23-0.27, float32 `a` plus float64 `b`
/// 0.35-0.39 → 0.20-0.32, int32 `a` times float64 `b` 0.34-0.35 →
/// 0.17-0.18; `a + b` at N = 1.2M (29 MB) 0.33-0.40 → 0.25-0.32, at 1.5M
/// (36 MB, now non-temporal) ordinary stores 0.31-0.34 against 0.35-0.38,
/// at 1.9M within noise.
const PARALLEL_NON_TEMPORAL_FROM_BYTES: usize = 32 << 20;

/// Machine code split between threads runs without software prefetches
/// ([`Traffic::Cached`]) when the run moves at most this many bytes
/// (contiguous inputs and output): then they are in L2 (512 KiB a core on
/// the machine measured) or near it, where the hardware's own prefetcher
/// keeps up and the prefetches only take load slots. At AVX2 (`vexpr bench
/// EXPR --n N --threads T`, the two variants in one binary and interleaved,
/// medians of three, ns/elem, with prefetches → without): N = 10k, one
/// thread: `a <= b` 0.44 → 0.23, `a + b` 0.36 → 0.28, `a*b + c*d` 0.66 →
/// 0.55, `where(a > b, a*b, a - b)` 0.34 → 0.28, float32 `a + b` 0.20 →
/// 0.14; two threads `a <= b` 0.41 → 0.34; at N = 30k alike.
///
/// On one thread every run below [`NON_TEMPORAL_FROM_BYTES`] goes without
/// them too: from L3 the hardware prefetcher keeps up with one core as well.
/// At N = 1M, one thread (with → without, medians of five runs of each,
/// alternated): float32 `a*b` (12 MB) 0.224 → 0.179, float32 `a > b` 0.164
/// → 0.165 and at N = 1.3M 0.167 → 0.153, `isnan(a)` 0.280 → 0.219, `signbit(a)` 0.185 →
/// 0.168, `a <= b` (17 MB) 0.328 → 0.275, `-a` 0.371 → 0.324, int32 `a | b`
/// 0.243 → 0.228, `a*b - c` at N = 0.9M 0.616 → 0.543; compute-bound ones
/// (`sqrt(a)`, `a**5`) the same. Two threads at N = 1.5M gained nothing
/// (`-a` 0.221 → 0.261, `a <= b` 0.269 → 0.325, within their spread), so
/// split runs keep the prefetches. (An earlier build, before the
/// non-temporal stores, took 0.85 without them for `a <= b` at 1M against
/// 0.47 with; this one does not.)
const CACHED_UP_TO_BYTES: usize = 1 << 20;

#[cfg(test)]
thread_local! {
    /// Runs started on this thread take [`Traffic::Prefetched`] however few
    /// bytes they move, so that the machine code tests reach that function
    /// with small inputs too (a run's traffic is chosen on the calling
    /// thread and shared with its pool threads).
    pub(crate) static PREFETCH_ANYWAY: std::cell::Cell<bool> =
        const { std::cell::Cell::new(false) };
}

/// Whether a test asked for [`PREFETCH_ANYWAY`] on this thread.
fn prefetch_anyway() -> bool {
    #[cfg(test)]
    {
        PREFETCH_ANYWAY.get()
    }
    #[cfg(not(test))]
    {
        false
    }
}

/// The elements of a one-thread piece while the run's machine code is being
/// made: 16 Ki elements are 20-160 µs of passes for E1-E8, about the time
/// the code takes to make.
const PENDING_PIECE_LEN: usize = 1 << 14;

impl Run<'_, '_> {
    /// True once the run's interrupt flag is set.
    fn interrupted(&self) -> bool {
        is_set(self.interrupt)
    }

    /// Runs the blocks of elements `start..start + len`, writing into `out`,
    /// with the memory hints of `streaming`.
    fn piece(&self, out: &mut [u8], start: usize, len: usize) -> Result<(), Stop> {
        let Run {
            program,
            block_len,
            streaming,
            ..
        } = *self;
        if self.pending
            && let Some(code) = program.machine_code_if_ready()
        {
            let with_code = Run {
                code: Some(code),
                pending: false,
                ..*self
            };
            return with_code.piece(out, start, len);
        }
        if let Some(code) = self.code
            && let Some(inputs) = self.dense_inputs(code)
        {
            let inputs = &inputs[..code.inputs.len()];
            // An output larger than the caches near the core is written with
            // non-temporal stores (`non_temporal`), which need it 64-byte
            // aligned: the elements before the first aligned one go first
            // with ordinary stores.
            let w = code.elem_bytes;
            let aligned = out.as_ptr().align_offset(64);
            if self.traffic != Traffic::Streaming || !aligned.is_multiple_of(w) {
                let traffic = self.traffic.min(Traffic::Prefetched);
                return self.machine_span(code, inputs, out, start, len, traffic);
            }
            let head = (aligned / w).min(len);
            let (first, rest) = out.split_at_mut(head * w);
            let result = self
                .machine_span(code, inputs, first, start, head, Traffic::Prefetched)
                .and_then(|()| {
                    let (start, len) = (start + head, len - head);
                    self.machine_span(code, inputs, rest, start, len, Traffic::Streaming)
                });
            stream::stream_fence();
            return result;
        }
        let width = program.result_dtype().itemsize();
        if let Some(src) = self.copied_input() {
            return self.copy_piece(&src[start * width..][..out.len()], out);
        }
        let block_bytes = block_len * width;
        let mut staging: Vec<scratch::Line> = Vec::new();
        if streaming.stage_output {
            staging.resize(block_bytes.div_ceil(64), scratch::Line::ZERO);
        }
        let result = with_scratch(|scratch| {
            scratch.prepare(program, self.bindings, block_len.min(len));
            for (b, block_start) in (0..out.len()).step_by(block_bytes).enumerate() {
                if self.interrupted() {
                    return Err(Stop::Interrupted);
                }
                let block_end = (block_start + block_bytes).min(out.len());
                if streaming.prefetch_output {
                    stream::prefetch(
                        &out[block_end..(block_end + block_bytes).min(out.len())],
                        true,
                    );
                }
                let block_out = &mut out[block_start..block_end];
                let n = block_out.len() / width;
                let first = start + b * block_len;
                if streaming.stage_output {
                    let stage = &mut bytemuck::cast_slice_mut(&mut staging)[..block_out.len()];
                    self.block(scratch, first, n, stage)?;
                    stream::stream_copy(stage, block_out);
                } else {
                    self.block(scratch, first, n, block_out)?;
                }
            }
            Ok(())
        });
        if streaming.stage_output {
            stream::stream_fence();
        }
        result
    }

    /// The bytes of the one array the program copies, when the program is
    /// that copy (the expression is a name) and the array is dense.
    fn copied_input(&self) -> Option<&[u8]> {
        let [copy] = self.program.code.as_slice() else {
            return None;
        };
        if copy.overload.op != crate::functions::Op::Copy || copy.dst != self.program.output {
            return None;
        }
        let Role::Input(v) = self.program.registers[copy.args[0] as usize].role else {
            return None;
        };
        // Not `Booleans`: a NumPy boolean's byte may be any value, and the
        // copy's result must be 0 or 1 (the passes convert such blocks).
        match self.bindings[v] {
            Binding::Dense(data) => Some(data),
            _ => None,
        }
    }

    /// A piece of a copy ([`Run::copied_input`]): its bytes in slices of
    /// [`INTERRUPT_SPAN`] elements' worth (a check of the interrupt flag
    /// each), stored non-temporally when machine code would be
    /// ([`Traffic::Streaming`]), instead of block by block through the
    /// passes (and, streaming, through the staging buffer).
    /// `vexpr bench a --type a=T --n 10000000 --threads 1`, the binaries
    /// before and after alternated, three runs each, ns/elem: float32
    /// 0.58-0.69 → 0.27-0.28, float64 1.53-1.56 → 0.77-1.05; on two threads
    /// float32 0.40 → 0.14, float64 0.62 → 0.29, int64 0.67 → 0.29. At
    /// N = 1M (ordinary stores) the same as before.
    fn copy_piece(&self, src: &[u8], out: &mut [u8]) -> Result<(), Stop> {
        let span = INTERRUPT_SPAN * self.program.result_dtype().itemsize();
        let non_temporal = self.traffic == Traffic::Streaming;
        for (from, to) in src.chunks(span).zip(out.chunks_mut(span)) {
            if self.interrupted() {
                return Err(Stop::Interrupted);
            }
            if non_temporal {
                stream::stream_copy(from, to);
            } else {
                to.copy_from_slice(from);
            }
        }
        if non_temporal {
            stream::stream_fence();
        }
        Ok(())
    }

    /// The elements of the machine code's inputs, if all are dense arrays.
    fn dense_inputs(&self, code: &Code) -> Option<[&[u8]; crate::jit::MAX_INPUTS]> {
        let mut inputs: [&[u8]; crate::jit::MAX_INPUTS] = [&[]; crate::jit::MAX_INPUTS];
        for (slot, &reg) in inputs.iter_mut().zip(&code.inputs) {
            let Role::Input(v) = self.program.registers[reg].role else {
                return None;
            };
            *slot = self.bindings[v].contiguous()?;
        }
        Some(inputs)
    }

    /// Elements `start..start + len` by machine code reading dense inputs
    /// straight from `inputs` in one call, not block by block (it keeps
    /// nothing in scratch); a block's worth of passes wherever a vector needs a
    /// full math function, then machine code again. A run that can be
    /// interrupted calls the code on at most [`INTERRUPT_SPAN`] elements at
    /// a time, and checks the flag before each call.
    fn machine_span(
        &self,
        code: &Code,
        inputs: &[&[u8]],
        out: &mut [u8],
        start: usize,
        len: usize,
        traffic: Traffic,
    ) -> Result<(), Stop> {
        let w = code.elem_bytes;
        let mut i = 0;
        while i < len {
            if self.interrupted() {
                return Err(Stop::Interrupted);
            }
            let end = match self.interrupt {
                Some(_) => len.min(i + INTERRUPT_SPAN),
                None => len,
            };
            let mut pointers = [std::ptr::null::<u8>(); crate::jit::MAX_INPUTS];
            for ((p, data), &iw) in pointers.iter_mut().zip(inputs).zip(&code.input_bytes) {
                *p = data[(start + i) * iw..(start + end) * iw].as_ptr();
            }
            let rest = &mut out[i * w..end * w];
            let traffic_here = match traffic {
                Traffic::Streaming if rest.as_ptr().align_offset(64) != 0 => Traffic::Prefetched,
                traffic => traffic,
            };
            // SAFETY: each pointer starts the end - i elements (of the code's
            // `input_bytes` for that input) of a dense input from element
            // start + i (the slices just taken), and `rest` holds end - i
            // slots of `elem_bytes`, the program's float type. Dense inputs are borrowed
            // apart from the output, so they do not alias it. Non-temporal
            // stores only where `rest` is 64-byte aligned, as they require.
            i += unsafe {
                code.run(
                    &pointers[..inputs.len()],
                    rest.as_mut_ptr(),
                    end - i,
                    traffic_here,
                )
            };
            if i < end {
                let m = self.block_len.min(len - i);
                let passes = Run {
                    code: None,
                    pending: false,
                    ..*self
                };
                with_scratch(|scratch| {
                    scratch.prepare(self.program, self.bindings, self.block_len.min(len));
                    passes.block(scratch, start + i, m, &mut out[i * w..(i + m) * w])
                })?;
                i += m;
            }
        }
        Ok(())
    }

    /// Runs the program once over elements `start..start + n`: as machine code if
    /// there is some, else (and for what the machine code leaves) one pass per
    /// instruction. On a kernel's refusal, finds the first failing element.
    fn block(
        &self,
        scratch: &mut Scratch,
        start: usize,
        n: usize,
        out: &mut [u8],
    ) -> Result<(), Fault> {
        match self.block_once(scratch, start, n, out) {
            Err(fault) if n > 1 => Err(self.first_fault(scratch, start, n, out).unwrap_or(fault)),
            result => result,
        }
    }

    /// The fault of the first element of `start..start + n` at which the
    /// program fails, found by running it on one element at a time (only
    /// after a block has failed, so its cost does not matter).
    ///
    /// Sound because the program is element-wise (reductions are stages of
    /// their own): an element's value, or its fault, depends on that
    /// element's inputs only. A refusing kernel writes nothing, so an input
    /// that is the output itself (in place) still holds its values here.
    fn first_fault(
        &self,
        scratch: &mut Scratch,
        start: usize,
        n: usize,
        out: &mut [u8],
    ) -> Option<Fault> {
        let width = self.program.result_dtype().itemsize();
        (0..n).find_map(|e| {
            self.block_once(scratch, start + e, 1, &mut out[e * width..(e + 1) * width])
                .err()
        })
    }

    /// [`Run::block`] without locating the failing element: a fault names the
    /// block's first element.
    fn block_once(
        &self,
        scratch: &mut Scratch,
        start: usize,
        n: usize,
        out: &mut [u8],
    ) -> Result<(), Fault> {
        let Run {
            program,
            bindings,
            streaming,
            ..
        } = *self;
        // Gathered inputs and an input that is the output itself are copied
        // into their registers before any instruction runs. Stored booleans
        // are read in place, and checked for bytes other than 0 or 1 after
        // the passes, while the block is still in the L1 cache: checked
        // first, the check was the pass that waited for memory, one input
        // after another (`p | q` at N = 10M from Python: 0.15-0.18 ns/elem
        // against 0.11 without the check). A block with such a byte is
        // converted into scratch and run again. `unchecked` marks the
        // booleans read in place (by register, the first 64; a later
        // register's booleans are always converted) that need the check:
        // those that only the boolean logic reads need none
        // (`read_as_any_byte`).
        let mut unchecked = 0u64;
        for (reg, r) in program.registers.iter().enumerate() {
            if let Role::Input(v) = r.role {
                let width = r.dtype.itemsize();
                match &bindings[v] {
                    Binding::Gathered(g) => g.gather(start, n, scratch.bytes_mut(reg, n * width)),
                    Binding::Output => scratch
                        .bytes_mut(reg, n * width)
                        .copy_from_slice(&out[..n * width]),
                    Binding::Booleans(data) if reg >= 64 => {
                        convert::boolean(&data[start..start + n], scratch.bytes_mut(reg, n));
                    }
                    Binding::Booleans(_) if self.unchecked_booleans & (1 << reg) == 0 => {
                        unchecked |= 1 << reg;
                    }
                    Binding::Booleans(_) => {}
                    Binding::Dense(_) | Binding::Splat(_) => {}
                }
            }
        }
        if let Some(code) = self.code {
            // Machine code reads stored booleans only as the boolean logic
            // and `where` do, any byte but zero as true (`jit/plan.rs`): in
            // place, unchecked (but for those from the 64th register on,
            // converted above).
            debug_assert!((code.inputs.iter()).all(|&r| r >= 64 || unchecked & (1 << r) == 0));
            if streaming.prefetch_inputs {
                stream::prefetch_inputs(program, bindings, start + n, n);
            }
            let w = code.elem_bytes;
            let mut inputs = [std::ptr::null::<u8>(); crate::jit::MAX_INPUTS];
            for ((ptr, &reg), &w) in inputs.iter_mut().zip(&code.inputs).zip(&code.input_bytes) {
                let bytes = match &program.registers[reg].role {
                    Role::Input(v) => match &bindings[*v] {
                        Binding::Dense(data) => &data[start * w..(start + n) * w],
                        Binding::Booleans(data) if reg < 64 => &data[start..start + n],
                        _ => scratch.bytes(reg, n * w),
                    },
                    _ => unreachable!("machine code inputs are input registers"),
                };
                *ptr = bytes.as_ptr();
            }
            let out_values = &mut out[..n * w];
            // SAFETY: each input pointer starts n values of its
            // `input_bytes` (the slices just taken: a dense input's elements
            // of this block, or the register in scratch that the gather above
            // filled, of the input's own type), and `out_values` holds n
            // slots of `elem_bytes` (the output of a program with machine
            // code is of the code's float type).
            // An input bound to the output was copied to scratch above, so no
            // input pointer aliases `out`.
            let done = unsafe {
                code.run(
                    &inputs[..code.inputs.len()],
                    out_values.as_mut_ptr(),
                    n,
                    Traffic::Prefetched,
                )
            };
            if done == n {
                return Ok(());
            }
            // A vector needed a full math function: the rest of the block by passes.
            let passes = Run {
                code: None,
                pending: false,
                ..*self
            };
            return passes.block_once(scratch, start + done, n - done, &mut out[done * w..]);
        }
        let result = self.passes(scratch, start, n, out, 0);
        // A fault, too, may come of a stray byte: it stands only if the
        // booleans hold 0 and 1.
        match self.convert_stray_booleans(scratch, start, n, unchecked) {
            0 => result,
            stray => self.passes(scratch, start, n, out, stray),
        }
    }

    /// Converts into scratch the stored booleans among `registers` (a mask
    /// of input registers bound to [`Binding::Booleans`]) whose bytes in
    /// elements `start..start + n` are not all 0 or 1; returns their mask.
    fn convert_stray_booleans(
        &self,
        scratch: &mut Scratch,
        start: usize,
        n: usize,
        registers: u64,
    ) -> u64 {
        let mut stray = 0;
        let mut rest = registers;
        while rest != 0 {
            let reg = rest.trailing_zeros() as usize;
            rest &= rest - 1;
            let Role::Input(v) = self.program.registers[reg].role else {
                unreachable!("only input registers are bound")
            };
            let Binding::Booleans(data) = &self.bindings[v] else {
                unreachable!("the mask holds stored booleans only")
            };
            let block = &data[start..start + n];
            if !crate::kernels::all_zero_or_one(block) {
                convert::boolean(block, scratch.bytes_mut(reg, n));
                stray |= 1 << reg;
            }
        }
        stray
    }

    /// The program's instructions over elements `start..start + n`, one
    /// pass each, reading the stored booleans of the registers in
    /// `in_scratch` (and of every register from the 64th) from scratch and
    /// the others in place.
    fn passes(
        &self,
        scratch: &mut Scratch,
        start: usize,
        n: usize,
        out: &mut [u8],
        in_scratch: u64,
    ) -> Result<(), Fault> {
        let (program, bindings, streaming) = (self.program, self.bindings, self.streaming);
        let booleans_in_place = |reg: usize| reg < 64 && in_scratch & (1 << reg) == 0;
        let steps = program.code.len().max(1);
        for (index, instr) in program.code.iter().enumerate() {
            if streaming.prefetch_inputs {
                // The next block's inputs, a slice of them before each instruction.
                let lo = start + n + n * index / steps;
                let hi = start + n + n * (index + 1) / steps;
                stream::prefetch_inputs(program, bindings, lo, hi - lo);
            }
            let mut operands = [Operand {
                bytes: &[],
                width: 0,
            }; MAX_ARGS];
            let mut dst = if instr.dst == program.output {
                None
            } else {
                Some(scratch.take(instr.dst as usize))
            };
            for (slot, &a) in operands.iter_mut().zip(&instr.args) {
                let reg = &program.registers[a as usize];
                let w = reg.dtype.itemsize();
                let bytes = match (&reg.role, bindings) {
                    (Role::Input(v), b) if matches!(b[*v], Binding::Dense(_)) => {
                        let Binding::Dense(data) = &b[*v] else {
                            unreachable!()
                        };
                        &data[start * w..(start + n) * w]
                    }
                    (Role::Input(v), b)
                        if matches!(b[*v], Binding::Booleans(_))
                            && booleans_in_place(a as usize) =>
                    {
                        let Binding::Booleans(data) = &b[*v] else {
                            unreachable!()
                        };
                        &data[start..start + n]
                    }
                    _ => scratch.bytes(a as usize, n * w),
                };
                *slot = Operand { bytes, width: w };
            }
            let args = &operands[..instr.args.len()];
            let status = match dst.as_mut() {
                None => (instr.overload.kernel)(out, args, n),
                Some(buf) => {
                    let w = program.registers[instr.dst as usize].dtype.itemsize();
                    let bytes = &mut bytemuck::cast_slice_mut::<_, u8>(buf.as_mut_slice())[..n * w];
                    (instr.overload.kernel)(bytes, args, n)
                }
            };
            if let Some(buf) = dst {
                scratch.put_back(instr.dst as usize, buf);
            }
            status.map_err(|message| Fault {
                instr: index,
                element: start,
                message,
            })?;
        }
        Ok(())
    }
}
