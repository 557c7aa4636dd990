//! Run-time code generation: the element-wise part of a program as one
//! loop of machine code, for AVX-512 or for AVX2 + FMA.
//!
//! In: a [`Program`] whose registers are all float64 (besides float32
//! values held in the low half of its vectors, `Plan::half`), or all
//! float32, or
//! (at AVX2) all int32 or all int64 for wrapping arithmetic, comparisons,
//! selects, shifts and bitwise logic (`JitOp::on_integers`) (besides the
//! integer exponents of `powi`, float32 or int32 inputs of a
//! float64 program that only widen them, which the AVX2 loop loads
//! converted, and the booleans of comparisons, class tests and logic,
//! which it keeps as lane masks), and whose every instruction's
//! overload names a [`JitOp`](crate::functions::JitOp) in the function table
//! (on float32 the IEEE operations, `exp`, `log`, `log2`, `log10`, `log1p`,
//! `expm1`, `sinh`, `cosh`, `tanh`, `sin`, `cos`, `arctan` and `arctan2`,
//! no other math function), and the
//! [`Level`] to run at. Out: a `Code`, machine code that runs the whole
//! program on a vector of elements at a time (8 float64 or 16 float32 at
//! AVX-512, 4 or 8 at AVX2) with
//! its values in vector registers and the kernels of exp, log, sqrt and
//! division inlined; or `None` when the program or the level is not covered
//! (the baseline level, more than [`MAX_INPUTS`] inputs), and the VM runs
//! its block passes. An AVX-512 CPU runs the AVX2 lowering of a program the
//! AVX-512 one does not take (more than 8 inputs, more values than its
//! registers hold, integer lanes). At
//! AVX2 the values that do not fit beside the kernels' scratch are spilled
//! ([`plan::Plan::spilled`]): read from the pool, their input or the stack
//! where an instruction reads them.
//!
//! Why: the VM runs each instruction as its own pass over an L1-resident
//! block, so every instruction pays loads and stores, and two expensive ones
//! cannot overlap (exp on the FMA ports while a square root holds the
//! divider; the multiplications of a polynomial while log waits for its
//! division). In one loop the out-of-order core overlaps them.
//!
//! Layers, as in Cranelift: `plan.rs` is the target-independent part (which
//! programs a loop covers, one vector register per program value), with
//! `powers.rs` (the program the loop runs when several powers share a
//! base: their squares and shared partial products made once); each
//! instruction set lowers a plan behind the `Backend` trait, in
//! `x86/avx512.rs` and `x86/avx2.rs`, with what both share (the calling
//! convention, the constant pool, the executable memory) in `x86/mod.rs`.
//! [`compile`] picks the backend by level.
//!
//! Bits: each operation is the one the level's kernel performs, in the same
//! order, with the same constants and roundings, so the results are the VM's
//! at that level bit for bit (`tests.rs` compares them on ordinary and
//! special values, at every level the machine has). The math functions are
//! emitted as their fast paths only (`vmath::explog::exp_normal`,
//! `log_normal`, `vmath::trig::sin_small`, `cos_small`, `atan2_ordinary`;
//! float32's `vmath::explog32::exp_normal`, `log_normal`, `log2_normal`,
//! `log10_normal`, `log1p_normal`, `expm1_normal`, `sinh_normal`,
//! `cosh_normal`, `vmath::trig32::sin_small`, `cos_small`,
//! `atan2_ordinary`; `tanh` and float32 `atan` are whole):
//! a vector with a lane
//! that needs the full function (a zero, a negative, a huge argument, a NaN)
//! ends the loop early, and the VM computes the rest of the block with its
//! passes.

mod background;
mod plan;
#[cfg(target_arch = "x86_64")]
mod powers;
#[cfg(test)]
mod tests;
#[cfg(target_arch = "x86_64")]
mod x86;

use crate::cpu::Level;
// The table names the operations (it sits below this module); the emitters
// match on them.
#[cfg(target_arch = "x86_64")]
use crate::functions::Compare;
use crate::program::Program;
pub(crate) use plan::MAX_INPUTS;
#[cfg(target_arch = "x86_64")]
use plan::{Plan, Slot};
use std::sync::Arc;

/// How a run of machine code meets memory, which picks one of the three
/// functions made for each program (they differ only in these hints).
/// Ordered by how far from the core the run's data is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Traffic {
    /// Inputs and output fit in the caches near the core: no software
    /// prefetches, whose load slots and early fills only cost there.
    Cached,
    /// Inputs prefetched ahead of the loads, ordinary stores.
    Prefetched,
    /// Whole vectors stored non-temporally (past the caches): the output
    /// must be 64-byte aligned. AVX-512 prefetches the inputs as
    /// `Prefetched` does; AVX2 leaves them to the hardware's prefetcher.
    Streaming,
}

/// Machine code for one program: see the module doc.
pub(crate) struct Code {
    #[cfg(target_arch = "x86_64")]
    inner: x86::Compiled,
    /// The program's input registers the loop reads, in the order of the
    /// pointers [`Code::run`] takes.
    pub(crate) inputs: Vec<usize>,
    /// Bytes per element of the output: 8 for a float64 program, 4 for a
    /// float32 one, 1 for a boolean one.
    pub(crate) elem_bytes: usize,
    /// Bytes per element of each input, in the order of `inputs`: the
    /// program's `elem_bytes`, or 4 for a float32 or int32 input that a
    /// float64 program widens as it loads it.
    pub(crate) input_bytes: Vec<usize>,
    /// An estimate of the loop's arithmetic per element on one core, in ns
    /// (without memory traffic): the VM decides by it whether a run is worth
    /// a second thread.
    pub(crate) compute_ns: f64,
    /// The loop's one-thread time per element as measured on its serial
    /// runs, which takes over the split decision from `compute_ns` (see
    /// `vm/split.rs`).
    pub(crate) serial_time: crate::vm::SerialTime,
}

impl std::fmt::Debug for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Code")
            .field("inputs", &self.inputs)
            .finish_non_exhaustive()
    }
}

impl Program {
    /// The program compiled to machine code for the level this thread runs
    /// at ([`Level::current`]), compiling it on the first call for that
    /// level; `None` if this module does not cover the program or the level.
    /// The program keeps the code (in a slot that does not know its type, so
    /// that the bytecode does not depend on this module), so every thread and
    /// run at that level shares one copy.
    pub(crate) fn machine_code(&self) -> Option<&Code> {
        let level = Level::current();
        self.code_slot(level).get_or_make(|| compile(self, level))
    }

    /// True while the machine code for this thread's level is not made yet
    /// (it may be being made elsewhere).
    pub(crate) fn machine_code_pending(&self) -> bool {
        self.code_slot(Level::current()).get::<Code>().is_none()
    }

    /// The machine code for this thread's level if it is made; if not,
    /// `None` now, and the code is made on the code generator's thread
    /// (`background.rs`) for a later piece or call, so that no caller waits
    /// for it.
    pub(crate) fn machine_code_if_ready(&self) -> Option<&Code> {
        #[cfg(test)]
        if tests::MAKE_INLINE.get() {
            return self.machine_code();
        }
        let level = Level::current();
        let slot = self.code_slot(level);
        if let Some(made) = slot.get::<Code>() {
            return made;
        }
        if slot.claim() {
            let slots = Arc::clone(self.code_slots());
            let program = self.clone();
            background::submit(Box::new(move || {
                slots[level as usize - 1].get_or_make(|| compile(&program, level));
            }));
        }
        None
    }
}

/// Starts the code generator's thread (`background.rs`) if this thread's
/// level has machine code, so that the first run wanting code only queues
/// it: called when an expression is compiled.
pub(crate) fn prepare() {
    #[cfg(target_arch = "x86_64")]
    if Level::current() >= Level::Avx2Fma {
        background::start();
    }
}

/// One instruction set's lowering of a [`Plan`]: the layer below the
/// target-independent plan (`x86::Avx512`, `x86::Avx2`).
#[cfg(target_arch = "x86_64")]
trait Backend {
    /// The most vector registers the program's values may take (the inputs,
    /// the float constants, the temporaries and the output); the others are
    /// the kernels' scratch and resident constants.
    const MAX_VALUES: usize;

    /// Whether the lowering takes plans with values outside the registers
    /// ([`Plan::spilled`]).
    const SPILLS: bool;

    /// The loop of `program` by `plan`, or `None` when this backend does not
    /// cover some instruction (or the assembler refuses, never expected).
    fn lower(program: &Program, plan: &Plan) -> Option<x86::Compiled>;

    /// An estimate of the loop's arithmetic per element on one core, in ns.
    fn compute_ns_per_element(program: &Program) -> f64;
}

/// The plan and the lowering of `program` by backend `B`.
#[cfg(target_arch = "x86_64")]
fn build<B: Backend>(program: &Program) -> Option<Code> {
    // The program with its bases' squares shared, if that is another, else
    // the program as it is (`powers.rs`); the second when the first does
    // not fit.
    let shared = powers::share_squares(program);
    let (program, plan, inner) = (shared.iter().chain([program])).find_map(|program| {
        plans(program, B::MAX_VALUES, B::SPILLS)
            .find_map(|plan| Some((B::lower(program, &plan)?, plan)))
            .map(|(inner, plan)| (program, plan, inner))
    })?;
    // A vector holds twice as many float32 elements, at about the same
    // cycles.
    let per_f64 = plan.elem.bytes() as f64 / 8.0;
    Some(Code {
        inner,
        elem_bytes: plan.output_bytes(),
        input_bytes: (0..plan.inputs.len())
            .map(|j| plan.input_bytes(j))
            .collect(),
        inputs: plan.inputs,
        compute_ns: B::compute_ns_per_element(program) * per_f64,
        serial_time: Default::default(),
    })
}

/// The plans a backend tries for `program`, in order: every value in a
/// register, if the registers hold them; then, if the backend `spills`,
/// fewer and fewer of them in registers ([`Plan::spilled`]), so that the
/// kernels find their scratch registers beside them.
#[cfg(target_arch = "x86_64")]
fn plans(program: &Program, max_values: usize, spills: bool) -> impl Iterator<Item = Plan> + '_ {
    let fewer = (1..=max_values).rev().filter(move |_| spills);
    std::iter::once(Plan::new(program, max_values))
        .chain(fewer.map(|registers| Plan::spilled(program, registers)))
        .flatten()
}

/// Compiles `program` for `level` (which this CPU must have), or says `None`
/// when the level or the program is not covered: the baseline level, a
/// register not of the program's float type (other than a `powi` exponent), an
/// instruction without a [`JitOp`](crate::functions::JitOp) (or one the level's backend leaves out),
/// more values than the backend's `MAX_VALUES` where it does not spill, or
/// more than [`MAX_INPUTS`] inputs.
pub(crate) fn compile(program: &Program, level: Level) -> Option<Code> {
    #[cfg(target_arch = "x86_64")]
    {
        // The hardware check keeps `Code::run` sound whatever level a caller
        // passes.
        if Level::hardware() < level || program.code.is_empty() || pow_keeps_passes(program) {
            return None;
        }
        match level {
            Level::Avx512 if avx512_keeps_passes(program) => None,
            // The AVX2 lowering also takes the programs the AVX-512 one does
            // not: more values than registers (spilled), more than 8 inputs,
            // integer lanes.
            Level::Avx512 => build::<x86::Avx512>(program).or_else(|| build::<x86::Avx2>(program)),
            Level::Avx2Fma => build::<x86::Avx2>(program),
            Level::Baseline => None,
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = (program, level);
        None
    }
}

/// Whether `program`'s float64 `**` (`JitOp::Pow`, about 110 instructions
/// a vector) runs better as its pass: where it is the program's one
/// operation, or beside another math function or `**`. In one loop the
/// chain of a vector is then longer than the core looks ahead, where a pass
/// overlaps the vectors of one kernel. On a Zen 3 EPYC (`vexpr bench EXPR
/// --n 1000000 --threads 1`, float64, passes against machine code,
/// binaries alternated, three runs each, ns/elem): `a**b` 5.8 against 6.3,
/// `exp(-(a**0.3)) * sin(b) + a*b` 9.7 against 10.4, `a**0.3 + b**0.7`
/// 12.7 against 12.9, `exp(a) * b**0.7` 8.0 against 7.9; and with cheap
/// operations beside it, what machine code is kept for: `a**2.5 + b**0.3`
/// 8.6-9.8 against 6.8-7.0, `2*a**1.5 - 3*b**0.7 + c` 9.1-9.7 against 7.1-7.2,
/// `a**1.7 * b + c` 7.0-7.3 against 6.3-6.6, `(a+b)**0.3` 6.7-6.9 against
/// 6.2-6.5.
#[cfg(target_arch = "x86_64")]
fn pow_keeps_passes(program: &Program) -> bool {
    use crate::functions::JitOp;
    let ops = || program.code.iter().filter_map(|i| i.overload.jit);
    let pows = ops().filter(|&op| op == JitOp::Pow).count();
    let math = ops().filter(|op| op.is_float32_function()).count();
    let others = ops()
        .filter(|&op| op != JitOp::Pow && op != JitOp::Widen)
        .count();
    pows > 1 || (pows == 1 && (math > 0 || others == 0))
}

/// Whether an AVX-512 CPU runs `program` by its passes rather than machine
/// code: a program with float64 `**` (its lowering, by `vpermt2pd` from the
/// pool, is assembled in the tests but has not run on an AVX-512 CPU; the
/// passes' AVX-512 kernel has the same bits) or a float32 math function
/// ([`JitOp::is_float32_function`](crate::functions::JitOp::is_float32_function)).
/// Their float32 machine code (`Kernels::exp32`, `log32`, `tanh32`,
/// `sin_cos`, `atan2` in float32 lanes, `log2_32`, `log10_32`, `log1p32`,
/// `expm1_32`, `sinh32`, `cosh32`, `atan2` without `x` for `arctan`) was written and checked bit for bit against the passes on an
/// AVX2 CPU; the AVX-512 lowering assembles the first four too
/// (`vscalefps`, `vpternlogd`, `vfpclassps`; not the others,
/// `Kernels::FLOAT32_ONLY_FUNCTIONS`, and `atan2`, whose AVX-512 form is
/// float64's alone) but has not yet run on an
/// AVX-512 CPU, where the passes' own 16-lane kernels are what a loop would
/// have to beat (and whose float32 `log` and `tanh` are other algorithms,
/// `vmath/log32.rs`, `vmath/table32.rs`). Until both are measured there,
/// such CPUs keep the passes they had.
#[cfg(target_arch = "x86_64")]
fn avx512_keeps_passes(program: &Program) -> bool {
    (program.code.iter()).any(|i| {
        let float32 = program.registers[i.dst as usize].dtype == crate::DType::Float32;
        match i.overload.jit {
            Some(crate::functions::JitOp::Pow) => true,
            Some(op) => op.is_float32_function() && float32,
            None => false,
        }
    })
}

impl Code {
    /// Runs the loop over elements `0..n`: `inputs[j]` points at the first of
    /// `n` values (of [`input_bytes`](Code::input_bytes)`[j]` each: the
    /// program's float64 or float32, or a float32 or int32 that a float64
    /// program widens) of input register `self.inputs[j]`, `out`
    /// at `n` such slots. Returns how many leading elements were written:
    /// `n`, or fewer (a multiple of the vector's lanes) when a vector needed
    /// a full math function; the elements from there on are left untouched.
    ///
    /// `traffic` picks the function ([`Traffic`]). With
    /// [`Traffic::Streaming`], whole vectors are stored non-temporally (past
    /// the caches); the caller then orders them with a store fence before
    /// the output is read by another thread.
    ///
    /// # Safety
    /// Each `inputs[j]` must be valid for reading `n` values (of
    /// `input_bytes[j]` each) and `out` for writing `n` (of `elem_bytes`
    /// each); `out` may equal an input pointer only if that input is
    /// not read after the output is written (the VM never passes such a pair:
    /// an input that is the output is copied to scratch first). With
    /// [`Traffic::Streaming`], `out` must be 64-byte aligned.
    pub(crate) unsafe fn run(
        &self,
        inputs: &[*const u8],
        out: *mut u8,
        n: usize,
        traffic: Traffic,
    ) -> usize {
        debug_assert_eq!(inputs.len(), self.inputs.len());
        #[cfg(target_arch = "x86_64")]
        // SAFETY: the code reads `n` elements through each of the pointers in
        // `inputs` (as many as the plan has inputs; the last vector's loads
        // are masked, and the prefetches ahead never fault), writes `n`
        // elements through `out` (masked at the end, so never past it) and
        // reads the constant pool it was assembled with; besides, it pushes
        // the callee-saved registers it takes for inputs 4-7 and pops them
        // before its one return (every exit goes through it), and the AVX2
        // code keeps its spilled values and the pointer array (of a program
        // of more than 8 inputs) in a frame it reserves below them, and its
        // tail mask in 32 bytes below that, and releases both first. It
        // touches nothing else; its other registers are caller-saved, which
        // `extern "sysv64"` tells the compiler.
        // `compile` made the code for a level the hardware has (AVX-512
        // F/DQ/VL/BW, or AVX2 and FMA), whose instructions are the only ones
        // its backend emits. The pointers' validity, and `out`'s alignment
        // for the streaming entry's `vmovntpd`, are the caller's promise.
        unsafe {
            (self.inner.entry(traffic))(inputs.as_ptr(), out, n, self.inner.pool())
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            let _ = (inputs, out, n, traffic);
            0
        }
    }
}
