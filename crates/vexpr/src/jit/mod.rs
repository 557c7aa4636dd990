//! Run-time code generation: the element-wise float64 part of a program as one
//! loop of AVX-512 machine code.
//!
//! In: a [`Program`] whose registers are all float64 (besides the integer
//! exponents of `powi`) and whose every instruction's overload names a
//! [`JitOp`] in the function table. Out: a `Code`, machine code that runs the
//! whole program on 8 elements at a time with every value in a vector register
//! and the kernels of exp, log, sqrt and division inlined; or `None` when the
//! program or the CPU is not covered, and the VM runs its block passes.
//!
//! Why: the VM runs each instruction as its own pass over an L1-resident
//! block, so every instruction pays loads and stores, and two expensive ones
//! cannot overlap (exp on the FMA ports while a square root holds the
//! divider; the multiplications of a polynomial while log waits for its
//! division). In one loop the out-of-order core overlaps them.
//!
//! Bits: each operation is the one the kernel performs, in the same order,
//! with the same constants and roundings, so the results are the VM's bit for
//! bit (`tests.rs` compares them on ordinary and special values). exp, log,
//! sin, cos and arctan2 are emitted as their fast paths only
//! (`vmath::explog::exp_normal`, `log_normal`, `vmath::trig::sin_small`,
//! `cos_small`, `atan2_ordinary`): a vector with a lane
//! that needs the full function (a zero, a negative, a huge argument, a NaN)
//! ends the loop early, and the VM computes the rest of the block with its
//! passes.

mod background;
#[cfg(test)]
mod tests;
#[cfg(target_arch = "x86_64")]
mod x86;

use crate::cpu::Level;
use crate::dtype::{DType, Scalar};
// The table names the operations (it sits below this module); the emitter
// matches on them.
use crate::functions::{Compare, JitOp};
use crate::program::{Program, Role};
use std::sync::Arc;

/// The most vector registers the program's values may take (the inputs, the
/// float constants, the temporaries and the output); the other 16 are the
/// kernels' scratch.
pub(crate) const MAX_VALUES: usize = 16;

/// The most inputs a compiled loop reads (one general register each).
pub(crate) const MAX_INPUTS: usize = 4;

/// Machine code for one program: see the module doc.
pub(crate) struct Code {
    #[cfg(target_arch = "x86_64")]
    inner: x86::Compiled,
    /// The program's input registers the loop reads, in the order of the
    /// pointers [`Code::run`] takes.
    pub(crate) inputs: Vec<usize>,
    /// An estimate of the loop's arithmetic per element on one core, in ns
    /// (without memory traffic): the VM decides by it whether a run is worth
    /// a second thread.
    pub(crate) compute_ns: f64,
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

/// Compiles `program` for `level` (which this CPU must have), or says `None`
/// when the level or the program is not covered: a level other than
/// AVX-512, a register that is not float64 (other
/// than a `powi` exponent), an instruction without a [`JitOp`], more than
/// [`MAX_VALUES`] values or [`MAX_INPUTS`] inputs.
pub(crate) fn compile(program: &Program, level: Level) -> Option<Code> {
    #[cfg(target_arch = "x86_64")]
    {
        // The hardware check keeps `Code::run` sound whatever level a caller
        // passes.
        if level != Level::Avx512 || Level::hardware() < level || program.code.is_empty() {
            return None;
        }
        let plan = Plan::new(program)?;
        let inner = x86::compile(program, &plan)?;
        Some(Code {
            inner,
            inputs: plan.inputs,
            compute_ns: x86::compute_ns_per_element(program),
        })
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = (program, level);
        None
    }
}

impl Code {
    /// Runs the loop over elements `0..n`: `inputs[j]` points at the first of
    /// `n` float64 values of input register `self.inputs[j]`, `out` at `n`
    /// float64 slots. Returns how many leading elements were written: `n`, or
    /// fewer (a multiple of 8) when a vector needed a full math function; the
    /// elements from there on are left untouched.
    ///
    /// With `streaming`, whole vectors are stored non-temporally (past the
    /// caches); the caller then orders them with a store fence before the
    /// output is read by another thread.
    ///
    /// # Safety
    /// Each `inputs[j]` must be valid for reading `n` float64 values and `out`
    /// for writing `n`; `out` may equal an input pointer only if that input is
    /// not read after the output is written (the VM never passes such a pair:
    /// an input that is the output is copied to scratch first). With
    /// `streaming`, `out` must be 64-byte aligned.
    pub(crate) unsafe fn run(
        &self,
        inputs: &[*const f64],
        out: *mut f64,
        n: usize,
        streaming: bool,
    ) -> usize {
        debug_assert_eq!(inputs.len(), self.inputs.len());
        #[cfg(target_arch = "x86_64")]
        // SAFETY: the code reads `n` elements through each of the pointers in
        // `inputs` (as many as the plan has inputs; the last vector's loads
        // are masked, and the prefetches ahead never fault), writes `n`
        // elements through `out` (masked at the end, so never past it) and
        // reads the constant pool it was assembled with; it touches nothing
        // else and uses only caller-saved registers, which `extern "sysv64"`
        // tells the compiler. The CPU has AVX-512 F/DQ/VL/BW (`compile`
        // checked that the hardware has `Level::Avx512`), every instruction the emitter uses. The
        // pointers' validity, and `out`'s alignment for the streaming entry's
        // `vmovntpd`, are the caller's promise.
        unsafe {
            (self.inner.entry(streaming))(inputs.as_ptr(), out, n, self.inner.pool())
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            let _ = (inputs, out, n, streaming);
            0
        }
    }
}

/// Where each program register lives in the loop.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Slot {
    /// A vector register, by number (0..MAX_VALUES).
    Vector(u8),
    /// An integer constant, known when compiling (a `powi` exponent).
    Int(i64),
    /// Not used by any instruction.
    Unused,
}

/// The register assignment of a program the loop covers.
#[derive(Debug)]
pub(crate) struct Plan {
    /// One slot per program register.
    pub(crate) slots: Vec<Slot>,
    /// The input registers, in the order of their pointers.
    pub(crate) inputs: Vec<usize>,
    /// The float constants: (vector register, value).
    pub(crate) constants: Vec<(u8, f64)>,
}

impl Plan {
    fn new(program: &Program) -> Option<Plan> {
        let mut used = vec![false; program.registers.len()];
        for instr in &program.code {
            instr.overload.jit?;
            used[instr.dst as usize] = true;
            for &a in &instr.args {
                used[a as usize] = true;
            }
        }
        let mut plan = Plan {
            slots: Vec::with_capacity(program.registers.len()),
            inputs: Vec::new(),
            constants: Vec::new(),
        };
        let mut next = 0u8;
        for (i, reg) in program.registers.iter().enumerate() {
            if !used[i] {
                plan.slots.push(Slot::Unused);
                continue;
            }
            let slot = match (&reg.role, reg.dtype) {
                (Role::Const(Scalar::Int64(n)), DType::Int64) => Slot::Int(*n),
                (_, DType::Float64) => {
                    if next as usize == MAX_VALUES {
                        return None;
                    }
                    next += 1;
                    Slot::Vector(next - 1)
                }
                _ => return None,
            };
            match (&reg.role, slot) {
                (Role::Input(_), Slot::Vector(_)) => plan.inputs.push(i),
                (Role::Const(Scalar::Float64(c)), Slot::Vector(v)) => plan.constants.push((v, *c)),
                (Role::Const(_), Slot::Vector(_)) => return None,
                _ => {}
            }
            plan.slots.push(slot);
        }
        // Integer operands are only a `powi` exponent; every other operand and
        // every destination is a vector.
        for instr in &program.code {
            let vector = |r: u32| matches!(plan.slots[r as usize], Slot::Vector(_));
            let ints_ok =
                instr.args.iter().enumerate().all(|(k, &a)| {
                    vector(a) || (instr.overload.jit == Some(JitOp::Powi) && k == 1)
                });
            if !vector(instr.dst) || !ints_ok {
                return None;
            }
        }
        (plan.inputs.len() <= MAX_INPUTS).then_some(plan)
    }
}
