//! The AVX2 + FMA lowering: every program value in a ymm register (4
//! float64 or 8 float32 lanes), 16 vector registers in all and no mask
//! registers.
//!
//! Each operation is the one the AVX2 pass performs (the lane functions of
//! `vmath` compiled with AVX2 and FMA, which LLVM vectorizes without
//! changing an IEEE operation), so the bits are the passes'. What AVX-512
//! did in one instruction takes a few here: 2^k is added to the exponent
//! field as an integer (`vpsllq`, `vpaddq`; exact where the kernels'
//! `pow2i` product is exact, which their fast paths guarantee), the integer
//! exponent of log is made a float through the bits of 1.5 * 2^52 as
//! `small_i64_to_f64` does, unsigned comparisons are signed ones of patterns with
//! the sign bit flipped (`vpcmpgtq`), selects are `vblendvpd` on a
//! comparison's all-ones lanes or on a sign bit, and `copysign` is three
//! logical operations. Square root is the hardware instruction, and so is
//! division on some of the vectors: both are correctly rounded, as the
//! passes' `/` and `vmath::sqrt::sqrt_ordinary` are, so they give the same
//! bits. The other vectors of a loop iteration divide by Newton's method on
//! the FMA ports, exactly checked and redone with `vdivpd` when the check
//! fails (`Emitter::div_newton`), so that the divider and the vector ports
//! work at once, as at AVX-512.
//!
//! Vector registers: the program's values from `ymm0` up (see
//! [`Plan`](crate::jit::Plan)), the kernels' scratch from `ymm15` down, the
//! most used constants in the registers between. Each vector loads its
//! inputs at its start, or, when a kernel's scratch does not fit otherwise,
//! each just before the first instruction that reads it, so that before then
//! the input's register can be scratch (`first_reads`). The pool holds each
//! constant four times in a row, read as full-width memory operands.
//!
//! The loop runs a group of two to four vectors per iteration (some of them
//! dividing by Newton's method: `divider_pattern`), then one, then the last 1-3
//! elements with `vmaskmovpd` under a lane mask kept on the stack (32 bytes
//! reserved below the stack pointer, below any registers the function saved,
//! and released before returning).
//!
//! A float64 program's float32 and int32 inputs that are only widened
//! (`JitOp::Widen`) are loaded converted, four 4-byte elements into a
//! vector (`vcvtps2pd`, `vcvtdq2pd`; in the tail under the lane mask's
//! dwords, `vmaskmovps`). The loop's index then counts 4 bytes an element
//! and the float64 operands' addresses scale it by 2 (`index_scale`).
//! Int64 inputs that are only widened are loaded whole and converted in
//! six operations (`Emitter::int64_to_float64`).
//!
//! A boolean result (comparisons, `JitOp::Compare`, tests of a float's
//! class, `JitOp::Test`, and logic on them, `JitOp::Logic`) keeps its
//! booleans as the comparisons' lane masks; the
//! output's mask bits (`vmovmskpd`/`vmovmskps`) index a pool table of their
//! bytes, 4 or 8 stored at once. The loop's index then counts the output's
//! single bytes, and the float inputs' addresses scale it by 8 or 4; the last
//! partial vector stores its bytes one at a time (a call on a length that is
//! not a multiple of the lanes then needs no passes and no scratch).
//! Stored boolean inputs (read only by the logic and by `where`'s
//! `JitOp::Select`, a `vblendvpd` on the mask) are loaded the other way: 4
//! or 8 bytes widened to the lanes and compared with zero
//! (`Emitter::load_booleans`); the index then counts their bytes.
//!
//! Integer programs (`Plan::integer`, `JitOp::on_integers`) keep int64 in
//! the float64 lanes' width and int32 in float32's, so loads, stores, tails
//! and boolean results are the float programs'; their arithmetic wraps
//! (`vpaddq`, `vpmulld`; int64's product, which AVX2 lacks, is three
//! 32-bit `vpmuludq`, a square's two), comparisons are `vpcmpgt`/`vpcmpeq` (a negated one
//! selecting the other way), shifts `vpsllv`/`vpsrav` (whose counts past the
//! width give the passes' 0 and sign; int64's arithmetic shift and `abs` go
//! through the sign mask), and their logic is the lane masks' bitwise logic
//! (`Emitter::integer_op`).
//!
//! Float32 programs (IEEE operations, `exp`, `log`, `tanh`, `sin`, `cos`: see
//! `JitOp::in_float32`) take the
//! `ps` forms, 32-bit lane masks (`vpcmpgtd`, `vmaskmovps`, `vblendvps`) for
//! a tail of 1-7, and divide on the divider alone.
//!
//! A float64 program's float32 operations (`Plan::half`) take the `ps`
//! forms too, on the four float32 lanes in the low half of each value's
//! vector (`Emitter::lanes`, set per instruction). Its float32 inputs are
//! loaded as they are stored (`vmovups` of 16 bytes, which zeroes the high
//! half; in the tail `vmaskmovps` under the lane mask's dwords) and its
//! widenings convert (`vcvtps2pd`). A float32 comparison's mask is widened
//! to the float64 lanes' (`vpmovsxdq`), so that every boolean is of one
//! width; a select of float32 values narrows its boolean's mask (dwords 0
//! and 2 of each half, `vshufps`). The high halves hold no input: only
//! zeros, constants and what operations make of them, never read into a
//! result.

use super::kernels::{self, Fma, Fused, Kernels, R, SinCosParts};
use super::{
    ABS, Bin, Compiled, Divider, GPR_INPUTS, INPUT_GPRS, Place, Pool, SIGN, by_use, counted_cycles,
    divider_pattern, lane_numbers, predicate, prefetch_ahead,
};
use crate::functions::{Compare, JitOp, Rounding};
use crate::jit::plan::{Elem, Narrow};
use crate::jit::{Backend, Plan, Slot, Traffic};
use crate::kernels::vmath::shared::{SHIFT, TRIG_TINY, TRIG32_TINY};
use crate::program::{Instr, Program};
use iced_x86::IcedError;
use iced_x86::code_asm::*;
use std::collections::HashMap;

/// The AVX2 + FMA backend.
pub(in crate::jit) struct Avx2;

/// Vector registers in all.
const REGISTERS: usize = 16;

impl Backend for Avx2 {
    /// The plan's bound; [`scratch_lists`] then also needs, at each
    /// instruction, the values live there and the scratch its kernel takes
    /// to fit in the 16 registers (8 values always leave room).
    const MAX_VALUES: usize = REGISTERS - 1;

    /// Values beyond the registers are read from the pool, their input or
    /// the stack where an instruction reads them ([`Plan::spilled`]).
    const SPILLS: bool = true;

    /// Assembles `program` by `plan`; `None` if the live values and a
    /// kernel's scratch do not fit in the registers, a `powi` exponent is
    /// out of range, or the assembler or the memory mapping refuses (never
    /// expected).
    fn lower(program: &Program, plan: &Plan) -> Option<Compiled> {
        if plan.narrow.iter().skip(GPR_INPUTS).any(Option::is_some) {
            return None;
        }
        let (e, labels) = emit(program, plan)?;
        Compiled::assemble(e.a, labels, e.pool.words)
    }

    fn compute_ns_per_element(program: &Program) -> f64 {
        balance(program).1 / 4.0 / 3.0
    }
}

/// The share of vectors whose `/` takes the Newton form (see
/// [`divider_pattern`]), and the cycles a 4-lane vector then takes: the
/// vector ports and the divider work at once, and a share f of Newton
/// vectors moves f D of the divisions' divider cycles D to N f cycles on the
/// ports. `sqrt` stays on the divider.
fn balance(program: &Program) -> (f64, f64) {
    let (mut ports, mut fixed, mut divisions, mut newton) = (0.0, 0.0, 0.0, 0.0);
    for instr in &program.code {
        let (p, d, n) = cycles(instr.overload.jit.unwrap_or(JitOp::Add));
        ports += p;
        if n > 0.0 {
            divisions += d;
            newton += n;
        } else {
            fixed += d;
        }
    }
    let share = if divisions > 0.0 {
        ((fixed + divisions - ports) / (newton + divisions)).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let time = f64::max(ports + share * newton, fixed + (1.0 - share) * divisions);
    (share, time)
}

/// The two functions of `program`, not yet assembled, and the streaming
/// one's label.
fn emit<'p>(program: &'p Program, plan: &'p Plan) -> Option<(Emitter<'p>, [CodeLabel; 2])> {
    let values = plan.values();
    // Inputs are loaded at the vector's start, where their loads have the
    // most time, and just before their first reader only when the scratch
    // registers are not to be had otherwise (`first_reads`). Newton's
    // division needs scratch registers the divider does not: when they are
    // not to be had, every vector divides on the divider. It is float64's:
    // float32 divides on the divider.
    let (loads, scratch, top, pattern) = [false, true].into_iter().find_map(|late| {
        let loads = first_reads(program, plan, late);
        let mut pattern = match plan.elem {
            Elem::F32 => vec![Divider::Hardware; 2],
            Elem::F64 => divider_pattern(balance(program).0),
        };
        let newton = pattern.contains(&Divider::Newton);
        let (scratch, top) = match scratch_lists(program, plan, newton, &loads) {
            Some(lists) => lists,
            None if newton => {
                pattern = vec![Divider::Hardware; 2];
                scratch_lists(program, plan, false, &loads)?
            }
            None => return None,
        };
        Some((loads, scratch, top, pattern))
    })?;
    // A first emission counts how often the loop reads each constant; the
    // most used ones then live in the registers that neither the values nor
    // any instruction's scratch take.
    let mut count = Emitter::new(
        program,
        plan,
        HashMap::new(),
        (scratch.clone(), loads.clone()),
        pattern.clone(),
    )
    .ok()?;
    // The three functions read the same constants: one is enough to count.
    count.emit_function(Traffic::Cached).ok()?.then_some(())?;
    let mut free = (values..REGISTERS - top).map(|r| YMM[r]);
    // A float64 boolean result keeps the first of two vectors' masks in
    // the first free register, if there is one, to store the two at once.
    let pair = (plan.bool_output && plan.elem == Elem::F64 && pattern.len() > 1)
        .then(|| free.next())
        .flatten();
    let resident = by_use(count.uses).into_iter().zip(free).collect();
    let mut e = Emitter::new(program, plan, resident, (scratch, loads), pattern).ok()?;
    e.pair = pair;
    let labels = e.emit_all().ok()??;
    Some((e, labels))
}

/// The instructions of `program`'s AVX2 code, by their `iced-x86` names
/// (`VEX_Vpackssdw_ymm_ymm_ymmm256`); `None` when the backend does not cover
/// the program. For tests' checks of what the code is made of: that none
/// needs more than AVX2 and FMA (EVEX-encoded ones), which running it
/// on a machine with AVX-512 would not catch.
#[cfg(test)]
pub(in crate::jit) fn avx2_instructions(program: &Program) -> Option<Vec<String>> {
    super::super::plans(program, Avx2::MAX_VALUES, Avx2::SPILLS).find_map(|plan| {
        let (e, _) = emit(program, &plan)?;
        let names = e.a.instructions().iter().map(|i| format!("{:?}", i.code()));
        Some(names.collect())
    })
}

/// Cycles per 4-lane vector of `op` on the vector ports, on the divider, and
/// on the ports for the Newton form of `/` instead of the divider (0: there
/// is none): an estimate for the VM's choice of threads and for the share
/// of Newton vectors, at about 3 GHz. The functions
/// and `/` are from `VEXPR_CPU=avx2 vexpr bench EXPR --n 10000 --threads 1`
/// (ns/elem times 12: `exp(a)` 1.15, `log(a)` 1.20, `sin(a)` 1.06-1.11,
/// `cos(a)` 1.14, `tanh(a)` 1.43, `arctan2(a, b)` 3.10, `sqrt(a)` 1.02,
/// `a / b` 0.69), the rest counted from the emitters below; the sums came
/// within 5% of `sin(a)**2 + cos(b)**2` (2.56) and `arctan2(a, b) +
/// tanh(a*b)` (4.67).
fn cycles(op: JitOp) -> (f64, f64, f64) {
    match op {
        JitOp::Sqrt => (0.0, 12.0, 0.0),
        // Newton: `a / b` took 0.82 ns/elem with every vector by Newton,
        // 9.6 cycles. At 10k (ns/elem, H = divider, N = Newton): `a / b`
        // HN 0.48, HHN 0.46; E4 HN 0.60, HHN 0.48-0.50, HHHN 0.52; 10
        // picks HN and HHN.
        JitOp::Div if divider_is_fast() => (0.0, 5.0, 0.0),
        // The division, and nine operations on the ports.
        JitOp::FloorDiv if divider_is_fast() => (4.5, 5.0, 0.0),
        JitOp::FloorDiv => (4.5, 8.0, 0.0),
        JitOp::Mod if divider_is_fast() => (9.0, 5.0, 0.0),
        JitOp::Mod => (9.0, 8.0, 0.0),
        JitOp::Fmod if divider_is_fast() => (6.0, 5.0, 0.0),
        JitOp::Fmod => (6.0, 8.0, 0.0),
        // `a ** b` of the table route: 5.7 ns/elem (`vexpr bench "a**b"
        // --n 1000000 --threads 1`, the passes' kernel of the same steps).
        JitOp::Pow => (68.0, 0.0, 0.0),
        JitOp::Div => (0.0, 8.0, 10.0),
        JitOp::Log => (14.5, 0.0, 0.0),
        JitOp::Exp => (14.0, 0.0, 0.0),
        JitOp::Sin | JitOp::Cos => (13.5, 0.0, 0.0),
        JitOp::Tanh => (17.0, 0.0, 0.0),
        JitOp::Atan2 => (37.0, 0.0, 0.0),
        JitOp::Atan => (31.0, 0.0, 0.0),
        // Counted from the emitters (float32 alone: as float64's cycles
        // for 4 lanes, which `build` halves for 8).
        JitOp::Log2 | JitOp::Log10 => (15.5, 0.0, 0.0),
        JitOp::Log1p => (23.0, 0.0, 0.0),
        JitOp::Expm1 => (16.0, 0.0, 0.0),
        JitOp::Sinh => (20.0, 0.0, 0.0),
        JitOp::Cosh => (16.0, 0.0, 0.0),
        op => (counted_cycles(op), 0.0, 0.0),
    }
}

/// True on CPUs whose divider takes about 5 cycles for a 4-lane `vdivpd`
/// (AMD's from Zen 3 on, family 0x19 and later), where no share of Newton
/// vectors pays for itself, so every vector divides on the divider: on the
/// project machine (Zen 3), `VEXPR_CPU=avx2 vexpr bench EXPR --n 10000
/// --threads 1`, binaries interleaved, ns/elem, divider alone against the
/// shares [`balance`] picks with the 8-cycle divider of the other CPUs:
/// `a / b` 0.42-0.60 against 0.84-1.03, E4 0.42-0.73 against 0.63-1.12,
/// `(a + b) / (a - b) * c` 0.73-0.84 against 0.87-1.09; one Newton vector
/// in four was slower too (`a / b` 0.60-0.77).
fn divider_is_fast() -> bool {
    #[cfg(test)]
    if NEWTON_ANYWAY.load(std::sync::atomic::Ordering::Relaxed) {
        return false;
    }
    static FAST: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *FAST.get_or_init(|| {
        use std::arch::x86_64::__cpuid;
        // `__cpuid` became a safe function after the minimum Rust version.
        #[allow(unused_unsafe)]
        // SAFETY: this backend runs only where AVX2 was detected, so the
        // `cpuid` instruction exists; leaves 0 and 1 exist on every x86-64.
        let (vendor, signature) = unsafe { (__cpuid(0), __cpuid(1)) };
        let amd = [vendor.ebx, vendor.edx, vendor.ecx] == [0x6874_7541, 0x6974_6e65, 0x444d_4163];
        let family = ((signature.eax >> 8) & 0xf) + ((signature.eax >> 20) & 0xff);
        amd && family >= 0x19
    })
}

/// Tests set this to have float64 division take the Newton shares even
/// where [`divider_is_fast`], so that they cover `div_newton` on any
/// machine (the bits are the same either way).
#[cfg(test)]
pub(in crate::jit) static NEWTON_ANYWAY: std::sync::atomic::AtomicBool =
    std::sync::atomic::AtomicBool::new(false);

/// The scratch registers the emitter of `op` uses, with Newton's division
/// if `newton`.
fn scratch_registers(op: JitOp, newton: bool) -> usize {
    match op {
        JitOp::Atan2 | JitOp::Atan | JitOp::Log1p | JitOp::Pow => 8,
        JitOp::Div if newton => 3,
        JitOp::Exp | JitOp::Log | JitOp::Sin | JitOp::Cos | JitOp::Tanh => 7,
        JitOp::Log2 | JitOp::Log10 | JitOp::Expm1 | JitOp::Sinh | JitOp::Cosh => 7,
        JitOp::Powi => 4,
        JitOp::Sign | JitOp::FloorDiv | JitOp::Mod | JitOp::Fmod => 3,
        JitOp::Maximum | JitOp::Minimum | JitOp::Logic(_) | JitOp::Test(_) => 2,
        JitOp::Copysign => 1,
        JitOp::AddAbs | JitOp::MulAddMul | JitOp::MulSubMul | JitOp::Where(_) => 1,
        _ => 0,
    }
}

/// The scratch registers the integer emitter of `op` uses
/// (`Emitter::integer_op`): an int64 product takes two (scratch 1 and 2,
/// after the second product's 0).
fn integer_scratch_registers(op: JitOp, int64: bool) -> usize {
    match op {
        JitOp::Mul | JitOp::MulAdd | JitOp::MulSub | JitOp::SubMul if int64 => 3,
        JitOp::MulAddMul | JitOp::MulSubMul if int64 => 3,
        JitOp::MulAddMul | JitOp::MulSubMul | JitOp::Neg | JitOp::Where(_) => 1,
        JitOp::Abs | JitOp::ShiftRight if int64 => 2,
        JitOp::Logic(_) => 2,
        _ => 0,
    }
}

/// For each instruction, the inputs (by their place in `plan.inputs`) that
/// each vector loads just before it: all before the first if not `late`;
/// else each before the instruction that reads it first, so that until then
/// the input's register is free for scratch (a program of many inputs and
/// an expensive kernel early then fits in the 16 registers). An input whose
/// values no instruction needs ([`JitOp::reads_operands`]: only
/// `ones_like` reads it) is not loaded at all, and the loop then moves the
/// output's bytes alone.
fn first_reads(program: &Program, plan: &Plan, late: bool) -> Vec<Vec<usize>> {
    let mut loads = vec![Vec::new(); program.code.len()];
    for (j, &reg) in plan.inputs.iter().enumerate() {
        // A spilled input is loaded where each instruction reads it.
        if !matches!(plan.slots[reg], Slot::Vector(_)) {
            continue;
        }
        let needs = |instr: &Instr| super::reads_values(instr, reg);
        if !program.code.iter().any(needs) {
            continue;
        }
        let first = program.code.iter().position(|i| !late || needs(i));
        // `Plan::new` takes only registers some instruction uses, and
        // inputs are never written.
        if let Some(i) = first {
            loads[i].push(j);
        }
    }
    loads
}

/// The scratch registers of each instruction, and how many of the
/// registers above the values (`ymm15` down) any instruction takes; `None`
/// when an instruction's kernel does not find enough.
///
/// An instruction's scratch are the registers above the values, from
/// `ymm15` down, then the registers of values dead there (by a backward
/// liveness pass over the program: not read again before they are written,
/// and not the output), but never its own operands and destination, nor a
/// float constant (loaded once before the loop). Inputs are loaded again for
/// each vector, before the instruction `loads` names ([`first_reads`]), so
/// they are dead before it and after their last read. After the kernel's
/// scratch, the list holds a register for each operand without one
/// ([`Plan::spilled_operands`]), which the instruction reads and writes
/// there.
fn scratch_lists(
    program: &Program,
    plan: &Plan,
    newton: bool,
    loads: &[Vec<usize>],
) -> Option<(Vec<Vec<Y>>, usize)> {
    let values = plan.values();
    let vector = |r: u32| match plan.slots[r as usize] {
        Slot::Vector(v) => Some(v as usize),
        _ => None,
    };
    let mut busy = [false; REGISTERS];
    for &(v, _) in &plan.constants {
        busy[v as usize] = true;
    }
    let mut live = busy;
    live[vector(program.output)?] = true;
    let mut lists = vec![Vec::new(); program.code.len()];
    // At least one: the tail's mask register, `ymm15`.
    let mut top = 1;
    for (i, instr) in program.code.iter().enumerate().rev() {
        let op = instr.overload.jit?;
        let need = if plan.integer {
            integer_scratch_registers(op, plan.elem == Elem::F64)
        } else {
            scratch_registers(op, newton)
        };
        let mut taken = live;
        let operands = instr.args.iter().chain([&instr.dst]);
        for v in operands.filter_map(|&r| vector(r)) {
            taken[v] = true;
        }
        let dead = (0..values).rev().filter(|&v| !taken[v]);
        let mut free = (values..REGISTERS).rev().chain(dead);
        let mut list: Vec<usize> = free.by_ref().take(need).collect();
        // Then a register for each spilled operand: never the tail's mask,
        // which an input's load there needs.
        let spilled = plan.spilled_operands(instr).len();
        list.extend(free.filter(|&r| YMM[r] != MASK).take(spilled));
        if list.len() < need + spilled {
            return None;
        }
        let lowest_above = list.iter().filter(|&&r| r >= values).min();
        top = top.max(lowest_above.map_or(0, |&r| REGISTERS - r));
        lists[i] = list.into_iter().map(|r| YMM[r]).collect();
        // Live before the instruction: its operands, and what is live after
        // it but for its destination.
        if let Some(d) = vector(instr.dst) {
            live[d] = busy[d];
        }
        for v in instr.args.iter().filter_map(|&r| vector(r)) {
            live[v] = true;
        }
        // Not loaded yet before its first read.
        for &j in &loads[i] {
            if let Some(v) = vector(plan.inputs[j] as u32) {
                live[v] = false;
            }
        }
    }
    Some((lists, top))
}

type Y = AsmRegisterYmm;

const YMM: [Y; REGISTERS] = [
    ymm0, ymm1, ymm2, ymm3, ymm4, ymm5, ymm6, ymm7, ymm8, ymm9, ymm10, ymm11, ymm12, ymm13, ymm14,
    ymm15,
];

/// The low halves of [`YMM`], by the same numbers.
const XMM: [AsmRegisterXmm; REGISTERS] = [
    xmm0, xmm1, xmm2, xmm3, xmm4, xmm5, xmm6, xmm7, xmm8, xmm9, xmm10, xmm11, xmm12, xmm13, xmm14,
    xmm15,
];

/// The low half of `y`, for the loads that fill 16 bytes and widen them.
fn low_half(y: Y) -> AsmRegisterXmm {
    XMM[YMM.iter().position(|&r| r == y).expect("a ymm register")]
}

/// The tail's lane mask while the inputs are loaded and the output is
/// stored: never a value (`MAX_VALUES` < 16) nor a resident constant
/// (`scratch_lists` counts it).
const MASK: Y = ymm15;

/// The bits whose difference with those of a normal double b are an
/// estimate of 1/b within 5.1% (the least worst error of such constants to
/// 32 bits, found by a search over the significands).
const RCP_MAGIC: u64 = 0x7fde_6238_0000_0000;

/// The Newton division leaves divisors from here up to the divider: a
/// zero or subnormal quotient then never passes its test.
const DIV_B_MAX: f64 = 9007199254740992.0; // 2^53

/// Bytes per vector.
const VECTOR: i32 = 32;

/// A source operand: a ymm register, or a pool constant (four copies, a
/// full-width memory operand).
type Src = kernels::Src<Y>;

/// `self.a.op(pre..., src, post...)` with `src` a register or a pool
/// constant (the assembler has one method per operand kind).
macro_rules! with_src {
    ($self:ident . $m:ident ( $($pre:expr),* ; $src:expr $(; $($post:expr),*)? )) => {
        match $src {
            Src::Reg(y) => $self.a.$m($($pre,)* y $(, $($post),*)?),
            Src::K(off) => $self.a.$m($($pre,)* ymmword_ptr(rcx + off) $(, $($post),*)?),
        }
    };
}

struct Emitter<'p> {
    a: CodeAssembler,
    pool: Pool,
    /// How often the loop reads each constant (by its bits).
    uses: HashMap<u64, usize>,
    /// Constants kept in registers, loaded before the loop.
    resident: HashMap<u64, Y>,
    /// The function being emitted: prefetches if [`Traffic::Prefetched`]
    /// ([`Emitter::prefetches`]), whole vectors stored with `vmovntpd` if
    /// [`Traffic::Streaming`].
    traffic: Traffic,
    /// The current vector is the last, partial one: its lane mask is at
    /// `[rsp]`.
    tail: bool,
    /// After a `powi`: its base, and how many of its squares x^2, x^4, ...
    /// are in scratch registers 0, 1, ... (see [`Kernels::powi`]).
    squares: Option<(Y, usize)>,
    /// Each instruction's scratch registers ([`scratch_lists`]).
    scratch_at: Vec<Vec<Y>>,
    /// The inputs loaded before each instruction ([`first_reads`]).
    loads_at: Vec<Vec<usize>>,
    /// The current instruction's.
    scratch: [Y; REGISTERS],
    /// How each vector of a main loop iteration divides.
    pattern: Vec<Divider>,
    program: &'p Program,
    plan: &'p Plan,
    /// The current instruction's lanes ([`Plan::lanes`]): the plan's, or
    /// float32 for a float32 operation of a plan in halves.
    lanes: Elem,
    /// For a float64 boolean result: the register that keeps the lane mask
    /// of an even vector of a main loop iteration until the next one's,
    /// which stores both vectors' 8 bytes at once (`vpackssdw`, one
    /// `vmovmskps`, one read of [`PAIR_BYTES`]); one 4-byte read and store
    /// a vector took 11% longer for `a >= 0.5` at 10k elements (in L2) on
    /// Zen 3 (0.146 against 0.131 ns/elem; performance.md, "float64
    /// booleans stored in pairs"). A register neither the values nor any
    /// scratch take, or none.
    pair: Option<Y>,
}

/// Byte offset in the pool of the lane numbers 0..4 (0..8 for float32), for
/// the tail mask.
const LANES: i32 = 0;

/// Byte offset in the pool of the table [`bool_bytes`], after the lane
/// numbers' 32 bytes.
const BOOL_BYTES: i32 = LANES + VECTOR;

/// The bytes of one float64 vector's booleans (its 4 lanes, one each).
const FLOAT64_VECTOR_BOOLS: i32 = VECTOR / 8;

/// Byte offset in the pool of the table of two float64 vectors' bytes
/// ([`bool_bytes`]), after the 16 entries of one vector's.
const PAIR_BYTES: i32 = BOOL_BYTES + 64;

/// The pool words holding, for each value `m` of a vector's lane-mask bits
/// (`vmovmskpd`: 4 bits; `vmovmskps`: 8), the booleans of its lanes as
/// bytes, lane i's in byte i: 16 entries of 4 bytes for float64 lanes, 256
/// of 8 for float32 ones. Float64's are followed by the 256 entries of 8
/// bytes for two vectors x and y (at [`PAIR_BYTES`]), indexed by the
/// `vmovmskps` of their `vpackssdw`, whose dwords are x0 x1 y0 y1 x2 x3 y2
/// y3 (the pack works in each 128-bit half).
fn bool_bytes(elem: Elem) -> Vec<u64> {
    let bytes = |m: u64, lanes: u32| (0..lanes).map(|i| ((m >> i) & 1) << (8 * i)).sum::<u64>();
    match elem {
        Elem::F64 => {
            let pair = |m: u64| {
                let bit = |k: u64| (m >> k) & 1;
                let x = bit(0) | bit(1) << 1 | bit(4) << 2 | bit(5) << 3;
                let y = bit(2) | bit(3) << 1 | bit(6) << 2 | bit(7) << 3;
                bytes(x | y << 4, 8)
            };
            let one = (0..8).map(|w| bytes(2 * w, 4) | (bytes(2 * w + 1, 4) << 32));
            one.chain((0..256).map(pair)).collect()
        }
        Elem::F32 => (0..256).map(|m| bytes(m, 8)).collect(),
    }
}

/// Integer lanes (`Plan::integer`): int64 in the width of float64's,
/// int32 in float32's.
impl Emitter<'_> {
    /// `d = a * b`, wrapping. AVX2 has no 64-bit product: int64's is
    /// `lo(a) lo(b) + ((hi(a) lo(b) + lo(a) hi(b)) << 32)` modulo 2^64, from
    /// three 32 x 32 -> 64-bit products (`vpmuludq`), in scratch 1 and 2 (the
    /// high halves' product only shifts out). `d` may be `a` or `b`.
    ///
    /// A square (`a` is `b`: `a*a`, the steps of `a**n`) has its two cross
    /// products equal, `lo(a) lo(a) + (hi(a) lo(a) << 33)`: two products
    /// and five instructions instead of three and eight, as LLVM makes of
    /// Numba's `a[i]**2`. One thread, int64 (`vexpr bench EXPR --type
    /// a=int64 --threads 1`, the two binaries alternated ten times, medians
    /// of medians, ns/elem): `a**2` 0.361 → 0.305 at N = 10k and 0.754 →
    /// 0.641 at 1M, `a**3` 0.598 → 0.506 and 0.988 → 0.883, `a*a + b` 0.463
    /// → 0.428 and 1.161 → 1.063 (a noisy hour of the shared host: the
    /// ratios, not the levels).
    fn mul_int(&mut self, d: Y, a: Y, b: Y) -> R {
        if self.plan.elem == Elem::F32 {
            return self.a.vpmulld(d, a, b);
        }
        if a == b {
            let t = self.scratch[1];
            self.a.vpsrlq(t, a, 32)?;
            self.a.vpmuludq(t, t, a)?;
            self.a.vpsllq(t, t, 33)?;
            self.a.vpmuludq(d, a, a)?;
            return self.a.vpaddq(d, d, t);
        }
        let (t, u) = (self.scratch[1], self.scratch[2]);
        self.a.vpsrlq(t, a, 32)?;
        self.a.vpmuludq(t, t, b)?;
        self.a.vpsrlq(u, b, 32)?;
        self.a.vpmuludq(u, u, a)?;
        self.a.vpaddq(t, t, u)?;
        self.a.vpsllq(t, t, 32)?;
        self.a.vpmuludq(d, a, b)?;
        self.a.vpaddq(d, d, t)
    }

    /// `m` = all ones in the int64 lanes of `x` that are negative.
    fn sign_mask(&mut self, m: Y, x: Y) -> R {
        self.a.vpxor(m, m, m)?;
        self.a.vpcmpgtq(m, m, x)
    }

    /// The lane mask of `x COMPARE y` into `mask` (signed), or of its
    /// negation, `true` then: AVX2 compares integers by `>` and `==` only.
    fn int_compare(&mut self, compare: Compare, mask: Y, x: Y, y: Y) -> Result<bool, IcedError> {
        let (greater, first, second, negated) = match compare {
            Compare::Gt => (true, x, y, false),
            Compare::Lt => (true, y, x, false),
            Compare::Le => (true, x, y, true),
            Compare::Ge => (true, y, x, true),
            Compare::Eq => (false, x, y, false),
            Compare::Ne => (false, x, y, true),
        };
        match (greater, self.plan.elem) {
            (true, Elem::F64) => self.a.vpcmpgtq(mask, first, second)?,
            (true, Elem::F32) => self.a.vpcmpgtd(mask, first, second)?,
            (false, Elem::F64) => self.a.vpcmpeqq(mask, first, second)?,
            (false, Elem::F32) => self.a.vpcmpeqd(mask, first, second)?,
        }
        Ok(negated)
    }
}

impl<'p> Emitter<'p> {
    fn new(
        program: &'p Program,
        plan: &'p Plan,
        resident: HashMap<u64, Y>,
        (scratch_at, loads_at): (Vec<Vec<Y>>, Vec<Vec<usize>>),
        pattern: Vec<Divider>,
    ) -> Result<Self, IcedError> {
        Ok(Emitter {
            a: CodeAssembler::new(64)?,
            // The lane numbers first, at offset `LANES`, then the bytes of
            // the boolean masks at `BOOL_BYTES`.
            pool: Pool::new(
                [lane_numbers(plan.elem, VECTOR), bool_bytes(plan.elem)].concat(),
                4,
            ),
            uses: HashMap::new(),
            resident,
            traffic: Traffic::Cached,
            tail: false,
            squares: None,
            scratch_at,
            loads_at,
            scratch: [MASK; REGISTERS],
            pattern,
            program,
            plan,
            lanes: plan.elem,
            pair: None,
        })
    }

    /// `r11d` = the bytes of the booleans of float64 lane mask `mask`
    /// (its sign bits), 0 or 1 each, lane i's in byte i.
    fn float64_mask_bytes(&mut self, mask: Y) -> R {
        self.a.vmovmskpd(r11d, mask)?;
        self.a.mov(r11d, dword_ptr(rcx + r11 * 4 + BOOL_BYTES))
    }

    /// The vector register of program register `reg`.
    fn y(&self, reg: u32) -> Y {
        match self.plan.slots[reg as usize] {
            Slot::Vector(v) => YMM[v as usize],
            // `Plan::new` made every operand a vector except `powi` exponents.
            _ => unreachable!("not a vector operand"),
        }
    }

    /// Program register `r`, which has no register of its own
    /// ([`Plan::spilled`]), into `y` for instruction `i`, of the vector at
    /// byte offset `rax + off`: a constant from the pool, an input from its
    /// array (prefetched at its first reader), a temporary from its stack
    /// slot (nothing for a temporary only written here).
    fn reload(&mut self, r: u32, y: Y, i: usize, off: i32) -> R {
        let instr = &self.program.code[i];
        match self.plan.slots[r as usize] {
            Slot::Pool(word) => {
                let c = self.bits(word);
                self.load_constant(y, c)
            }
            Slot::Input => {
                let j = (self.plan.inputs.iter().position(|&reg| reg == r as usize))
                    .expect("an input of the plan");
                let first = (self.program.code.iter())
                    .position(|instr| instr.args.contains(&r))
                    .is_some_and(|first| first == i);
                if self.tail {
                    self.a.vmovdqu(MASK, ymmword_ptr(rsp))?;
                }
                self.load_input(j, y, off, first && self.prefetches())
            }
            Slot::Stack(k) if instr.args.contains(&r) => {
                let slot = self.stack_slot(k);
                self.a.vmovupd(y, slot)
            }
            Slot::Stack(_) => Ok(()),
            Slot::Vector(_) | Slot::Int(_) | Slot::Unused => {
                unreachable!("not a spilled value")
            }
        }
    }

    /// The memory of stack slot `k` ([`Slot::Stack`]): the function reserves
    /// the slots below the registers it saved; the tail's lane mask is
    /// below them while the last vector is computed.
    fn stack_slot(&self, k: u16) -> AsmMemoryOperand {
        let mask = if self.tail { VECTOR } else { 0 };
        ymmword_ptr(rsp + (mask + VECTOR * i32::from(k)))
    }

    /// The inputs loaded before instruction `i`, of the vector at byte
    /// offset `rax + off` (only the lanes of the mask at `[rsp]` if
    /// `self.tail`).
    fn load_inputs(&mut self, i: usize, off: i32) -> R {
        if self.loads_at[i].is_empty() {
            return Ok(());
        }
        // A load may take a register a previous `powi` kept a square in;
        // and the mask register is scratch between the loads.
        self.squares = None;
        if self.tail {
            self.a.vmovdqu(MASK, ymmword_ptr(rsp))?;
        }
        for j in self.loads_at[i].clone() {
            let y = self.y(self.plan.inputs[j] as u32);
            self.load_input(j, y, off, self.prefetches())?;
        }
        Ok(())
    }

    /// Whether the function being emitted prefetches its inputs: only the
    /// [`Traffic::Prefetched`] one. A run that streams from memory leaves
    /// it to the hardware's prefetcher, which on Zen 3 keeps up with one
    /// core's streams while the prefetch instructions take load slots:
    /// `vexpr bench EXPR --n 10000000 --threads 1 --repeat 20`, binaries
    /// alternated, `a + b` 0.80-0.90 → 0.70-0.79 ns/elem, `a < b` 0.80-0.89
    /// → 0.68-0.71 (performance.md, the tuning table).
    fn prefetches(&self) -> bool {
        self.traffic == Traffic::Prefetched
    }

    /// Input `j` of the vector at byte offset `rax + off` into `y` (only the
    /// lanes of the mask in [`MASK`] if `self.tail`), prefetching ahead if
    /// `prefetch`.
    fn load_input(&mut self, j: usize, y: Y, off: i32, prefetch: bool) -> R {
        let narrow = self.plan.narrow[j];
        let scale = self.index_scale(self.plan.input_bytes(j));
        // Past the general registers, the pointer comes from the array
        // (`r11` is free between instructions; `lower` takes such inputs
        // only when they are not stored narrower, whose loads use it).
        let pointer = match INPUT_GPRS.get(j) {
            Some(&gpr) => gpr,
            None => {
                let array = self.pointer_array().expect("more inputs than registers");
                self.a.mov(r11, array)?;
                self.a.mov(r11, qword_ptr(r11 + 8 * j as i32))?;
                r11
            }
        };
        let at = |extra: i32| pointer + rax * scale + (off * scale + extra);
        let ahead = prefetch_ahead(self.plan.inputs.len());
        if narrow == Some(Narrow::Bool) {
            return self.load_booleans(y, &at, prefetch.then_some(ahead));
        }
        if let Some(narrow @ (Narrow::F32 | Narrow::I32 | Narrow::Half)) = narrow {
            // Four 4-byte elements, widened into the four float64 lanes (or
            // as they are, into the low half: `Narrow::Half`).
            let x = low_half(y);
            if self.tail {
                // The 64-bit lane mask's dwords 0 and 2 of each half: its
                // four lanes as 32-bit ones; masked-off lanes read nothing.
                let mask = XMM[YMM.len() - 1];
                self.a.vextracti128(x, MASK, 1)?;
                self.a.vshufps(x, mask, x, 0x88)?;
                self.a.vmaskmovps(x, x, xmmword_ptr(at(0)))?;
                match narrow {
                    Narrow::F32 => self.a.vcvtps2pd(y, x)?,
                    Narrow::Half => {}
                    _ => self.a.vcvtdq2pd(y, x)?,
                }
            } else {
                if prefetch {
                    self.a.prefetcht0(byte_ptr(at(ahead)))?;
                }
                match narrow {
                    Narrow::F32 => self.a.vcvtps2pd(y, xmmword_ptr(at(0)))?,
                    // The high half zeroed (VEX): no stray values there.
                    Narrow::Half => self.a.vmovups(x, xmmword_ptr(at(0)))?,
                    _ => self.a.vcvtdq2pd(y, xmmword_ptr(at(0)))?,
                }
            }
            return Ok(());
        }
        let src = ymmword_ptr(at(0));
        if self.tail {
            // Masked-off lanes read nothing (and cannot fault): zeros.
            match self.plan.elem {
                Elem::F32 => self.a.vmaskmovps(y, MASK, src)?,
                Elem::F64 => self.a.vmaskmovpd(y, MASK, src)?,
            }
        } else {
            if prefetch {
                self.a.prefetcht0(byte_ptr(at(ahead)))?;
            }
            self.a.vmovupd(y, src)?;
        }
        if narrow == Some(Narrow::I64) {
            self.int64_to_float64(y)?;
            if self.tail {
                // The conversion took the mask register as scratch.
                self.a.vmovdqu(MASK, ymmword_ptr(rsp))?;
            }
        }
        Ok(())
    }

    /// A stored boolean input's bytes from `at(0)` on as lane masks in `y`: all
    /// ones where the byte is not zero. The bytes are widened to the lanes
    /// (`vpmovzxbq`, `vpmovzxbd`) and compared with zero as signed integers,
    /// which they are, from 0 to 255. The last, partial vector inserts its
    /// bytes one at a time (AVX2 has no masked byte load), so that nothing
    /// past the input's last element is read; its other lanes are false.
    fn load_booleans(
        &mut self,
        y: Y,
        at: &dyn Fn(i32) -> AsmMemoryOperand,
        ahead: Option<i32>,
    ) -> R {
        let x = low_half(y);
        let lanes = VECTOR / self.plan.elem.bytes() as i32;
        if self.tail {
            // The index counts the booleans' bytes (`Plan::index_shift`):
            // rdx - rax of them are left, 1 to lanes - 1.
            let mut loaded = self.a.create_label();
            self.a.vpxor(x, x, x)?;
            self.a.mov(r11, rdx)?;
            self.a.sub(r11, rax)?;
            for lane in 0..lanes - 1 {
                if lane > 0 {
                    self.a.cmp(r11, lane)?;
                    self.a.jbe(loaded)?;
                }
                self.a.vpinsrb(x, x, byte_ptr(at(lane)), lane)?;
            }
            self.a.set_label(&mut loaded)?;
            match self.plan.elem {
                Elem::F32 => self.a.vpmovzxbd(y, x)?,
                Elem::F64 => self.a.vpmovzxbq(y, x)?,
            }
        } else {
            if let Some(ahead) = ahead {
                self.a.prefetcht0(byte_ptr(at(ahead)))?;
            }
            match self.plan.elem {
                Elem::F32 => self.a.vpmovzxbd(y, qword_ptr(at(0)))?,
                Elem::F64 => self.a.vpmovzxbq(y, dword_ptr(at(0)))?,
            }
        }
        let zero = self.bits(0);
        match self.plan.elem {
            Elem::F32 => with_src!(self.vpcmpgtd(y, y; zero)),
            Elem::F64 => with_src!(self.vpcmpgtq(y, y; zero)),
        }
    }

    /// `arith::i64_to_f64` on the four int64 lanes of `y`, in place (no
    /// `vcvtqq2pd` before AVX-512DQ), with the mask register as scratch: the
    /// high halves with their sign bits flipped, in the bits of 2^84 + 2^63
    /// and less that, plus the low halves in the bits of 2^52 less that,
    /// one rounding in all.
    fn int64_to_float64(&mut self, y: Y) -> R {
        const TWO_84_AND_63: u64 = 0x4530_0000_8000_0000;
        const TWO_52: u64 = 0x4330_0000_0000_0000;
        self.a.vpsrlq(MASK, y, 32)?;
        // The shifted lanes' high 32 bits are 0: one xor flips the sign bit
        // of the high half and sets 2^84's exponent.
        let high = self.bits(TWO_84_AND_63);
        with_src!(self.vpxor(MASK, MASK; high))?;
        self.bin(Bin::Sub, MASK, MASK, high)?;
        // The low halves under the high dwords of 2^52.
        let two_52 = self.bits(TWO_52);
        with_src!(self.vpblendd(y, y; two_52; 0b1010_1010))?;
        self.bin(Bin::Sub, y, y, two_52)?;
        self.bin(Bin::Add, y, y, Src::Reg(MASK))
    }

    /// The factor from the loop's index (`rax`, and the vector offsets) to
    /// the byte offsets of an operand of `bytes` an element: 1 when the index
    /// counts its bytes; 2 for float64 operands of a program that loads
    /// 4-byte inputs widened; 4 or 8 for the float inputs of a boolean
    /// program, whose index counts the output's single bytes.
    fn index_scale(&self, bytes: usize) -> i32 {
        (bytes >> self.plan.index_shift()) as i32
    }

    /// Jumps to `bail` if any (active) lane of `mask` has its sign bit set
    /// (the all-ones lanes of a comparison). In halves (float32 lanes of a
    /// float64 program) only the low half's four lanes hold values, and in
    /// the tail those past the end are zeros: the test takes the whole low
    /// half, so such a lane may send the last vector to the passes, which
    /// compute it the same.
    fn bail_if(&mut self, mask: Y, bail: CodeLabel) -> R {
        if self.lanes != self.plan.elem {
            let low = low_half(mask);
            self.a.vptest(low, low)?;
        } else if self.tail {
            self.a.vptest(mask, ymmword_ptr(rsp))?;
        } else {
            self.a.vptest(mask, mask)?;
        }
        self.a.jnz(bail)
    }

    /// `mask` = all ones in the lanes where the unsigned `bits(v) - lo >
    /// span` (of 64 or, in float32 lanes, 32 bits), as the signed
    /// comparison of both sides with the sign bit flipped (adding 2^63 or
    /// 2^31 flips it).
    fn outside(&mut self, mask: Y, v: Y, lo: u64, span: u64) -> R {
        match self.lanes {
            Elem::F64 => {
                let flip = self.bits(SIGN.wrapping_sub(lo));
                with_src!(self.vpaddq(mask, v; flip))?;
                let span = self.bits(span ^ SIGN);
                with_src!(self.vpcmpgtq(mask, mask; span))
            }
            Elem::F32 => {
                const SIGN32: u32 = 1 << 31;
                let flip = SIGN32.wrapping_sub(lo as u32);
                let flip = self.bits(Elem::F32.word(u64::from(flip)));
                with_src!(self.vpaddd(mask, v; flip))?;
                let span = self.bits(Elem::F32.word(u64::from(span as u32 ^ SIGN32)));
                with_src!(self.vpcmpgtd(mask, mask; span))
            }
        }
    }

    /// `d` = `m` with the sign of `sign` (`m` and `sign` are kept; `t` is
    /// scratch): `vmath::arith::copysign`.
    fn copysign(&mut self, d: Y, m: Y, sign: Y, t: Y) -> R {
        let sign_bit = self.bits(self.lanes.sign());
        self.bin(Bin::And, t, sign, sign_bit)?;
        let abs = self.bits(self.lanes.abs());
        self.bin(Bin::And, d, m, abs)?;
        self.a.vorpd(d, d, t)
    }
}

impl Kernels for Emitter<'_> {
    type V = Y;

    fn elem(&self) -> Elem {
        self.lanes
    }

    fn set_lanes(&mut self, lanes: Elem) {
        self.lanes = lanes;
    }

    fn widen_half(&mut self, d: Y, x: Y) -> Result<bool, IcedError> {
        self.a.vcvtps2pd(d, low_half(x))?;
        Ok(true)
    }

    fn widen_mask(&mut self, d: Y) -> Result<bool, IcedError> {
        self.a.vpmovsxdq(d, low_half(d))?;
        Ok(true)
    }

    fn narrow_mask(&mut self, d: Y, mask: Y) -> Result<bool, IcedError> {
        // Dwords 0 and 2 of each 128-bit half: the four 64-bit lanes' lows.
        self.a.vextracti128(low_half(d), mask, 1)?;
        self.a
            .vshufps(low_half(d), low_half(mask), low_half(d), 0x88)?;
        Ok(true)
    }

    fn index_shift(&self) -> u32 {
        self.plan.index_shift()
    }

    /// Without `vscalefpd`, 2^k is added to the exponent field as an integer.
    const SCALE_IN_BITS: bool = true;

    const FLOAT32_ONLY_FUNCTIONS: bool = true;

    fn scratch(&self) -> [Y; REGISTERS] {
        self.scratch
    }

    fn bits(&mut self, bits: u64) -> Src {
        *self.uses.entry(bits).or_insert(0) += 1;
        match self.resident.get(&bits) {
            Some(&y) => Src::Reg(y),
            None => Src::K(self.pool.offset(bits)),
        }
    }

    bin_and_fused!(Y, and: vandps | vandpd, or: vorps | vorpd, xor: vxorps | vxorpd);

    fn load_constant(&mut self, dst: Y, c: Src) -> R {
        match c {
            Src::Reg(y) => self.a.vmovapd(dst, y),
            Src::K(off) => self.a.vmovupd(dst, ymmword_ptr(rcx + off)),
        }
    }

    fn copy(&mut self, dst: Y, c: Y) -> R {
        match self.resident.iter().find(|&(_, &y)| y == c) {
            Some((&bits, _)) => {
                let off = self.pool.offset(bits);
                self.a.vmovupd(dst, ymmword_ptr(rcx + off))
            }
            None => self.a.vmovapd(dst, c),
        }
    }

    fn asm(&mut self) -> &mut CodeAssembler {
        &mut self.a
    }

    fn value(&self, v: usize) -> Y {
        YMM[v]
    }

    fn not_vector(&self) -> Y {
        MASK
    }

    fn squares(&mut self) -> &mut Option<(Y, usize)> {
        &mut self.squares
    }

    const VECTOR_BYTES: i32 = VECTOR;

    fn set_traffic(&mut self, traffic: Traffic) {
        self.traffic = traffic;
    }

    fn input_count(&self) -> usize {
        self.plan.inputs.len()
    }

    fn frame_bytes(&self) -> i32 {
        let array = usize::from(self.plan.inputs.len() > GPR_INPUTS);
        VECTOR * (self.plan.stack_slots + array) as i32
    }

    fn pointer_array(&self) -> Option<AsmMemoryOperand> {
        (self.plan.inputs.len() > GPR_INPUTS).then(|| {
            let mask = if self.tail { VECTOR } else { 0 };
            qword_ptr(rsp + (mask + VECTOR * self.plan.stack_slots as i32))
        })
    }

    fn preloaded(&self) -> Vec<(u64, Y)> {
        let program = self.plan.constants.iter();
        let program = program.map(|&(v, bits)| (bits, YMM[v as usize]));
        program
            .chain(self.resident.iter().map(|(&b, &y)| (b, y)))
            .collect()
    }

    fn pool_offset(&mut self, bits: u64) -> i32 {
        self.pool.offset(bits)
    }

    fn divider_pattern(&self) -> Vec<Divider> {
        self.pattern.clone()
    }

    /// A bail of an odd vector: the even one before it kept its mask in
    /// [`Emitter::pair`] unstored.
    fn store_kept(&mut self, index: usize) -> R {
        if let (Some(kept), 1) = (self.pair, index % 2) {
            self.float64_mask_bytes(kept)?;
            let at = FLOAT64_VECTOR_BOOLS * (index as i32 - 1);
            self.a.mov(dword_ptr(rsi + rax + at), r11d)?;
        }
        Ok(())
    }

    /// The last 1-3 (float32: 1-7) elements: the lanes below the count
    /// left, as all-ones lanes of a mask, kept at [rsp] while the vector is
    /// computed.
    fn emit_tail(&mut self, done: CodeLabel) -> R {
        let mut tail_bail = self.a.create_label();
        self.a.cmp(rax, rdx)?;
        self.a.jae(done)?;
        self.a.mov(r11, rdx)?;
        self.a.sub(r11, rax)?;
        self.a.shr(r11, self.plan.index_shift())?;
        let m = MASK;
        self.a.vmovq(xmm15, r11)?;
        // left > lane
        match self.plan.elem {
            Elem::F32 => {
                self.a.vpbroadcastd(m, xmm15)?;
                self.a.vpcmpgtd(m, m, ymmword_ptr(rcx + LANES))?;
            }
            Elem::F64 => {
                self.a.vpbroadcastq(m, xmm15)?;
                self.a.vpcmpgtq(m, m, ymmword_ptr(rcx + LANES))?;
            }
        }
        self.a.sub(rsp, VECTOR)?;
        self.a.vmovdqu(ymmword_ptr(rsp), m)?;
        self.tail = true;
        self.body(0, Place::Alone, Divider::Hardware, tail_bail)?;
        self.tail = false;
        self.a.add(rsp, VECTOR)?;
        self.a.mov(rax, rdx)?;
        self.a.jmp(done)?;
        self.a.set_label(&mut tail_bail)?;
        self.a.add(rsp, VECTOR)?;
        self.a.jmp(done)
    }

    /// Always the hardware instruction: correctly rounded, as the passes'
    /// square root.
    fn sqrt(&mut self, d: Y, x: Y, _: Divider) -> R {
        match self.lanes {
            Elem::F32 => self.a.vsqrtps(d, x),
            Elem::F64 => self.a.vsqrtpd(d, x),
        }
    }

    fn compare(&mut self, compare: Compare, d: Y, x: Y, y: Y) -> R {
        match self.lanes {
            Elem::F32 => self.a.vcmpps(d, x, y, predicate(compare)),
            Elem::F64 => self.a.vcmppd(d, x, y, predicate(compare)),
        }
    }

    fn round(&mut self, d: Y, x: Y, rounding: Rounding) -> R {
        let imm = 8 | rounding as i32;
        match self.lanes {
            Elem::F32 => self.a.vroundps(d, x, imm),
            Elem::F64 => self.a.vroundpd(d, x, imm),
        }
    }

    fn select(&mut self, compare: Compare, d: Y, [x, y, then, other]: [Y; 4]) -> R {
        let mask = self.scratch[0];
        // `then` where the comparison holds, else `other` (by the sign bit of
        // each lane of the mask, so at the lanes' width).
        match self.lanes {
            Elem::F32 => {
                self.a.vcmpps(mask, x, y, predicate(compare))?;
                self.a.vblendvps(d, other, then, mask)
            }
            Elem::F64 => {
                self.a.vcmppd(mask, x, y, predicate(compare))?;
                self.a.vblendvpd(d, other, then, mask)
            }
        }
    }

    fn blend(&mut self, d: Y, mask: Y, then: Y, other: Y) -> R {
        match self.lanes {
            Elem::F32 => self.a.vblendvps(d, other, then, mask),
            Elem::F64 => self.a.vblendvpd(d, other, then, mask),
        }
    }

    fn shift_left(&mut self, dst: Y, a: Y, imm: i32) -> R {
        match self.lanes {
            Elem::F64 => self.a.vpsllq(dst, a, imm),
            Elem::F32 => self.a.vpslld(dst, a, imm),
        }
    }

    fn shift_right(&mut self, dst: Y, a: Y, imm: i32) -> R {
        match self.lanes {
            Elem::F64 => self.a.vpsrlq(dst, a, imm),
            Elem::F32 => self.a.vpsrld(dst, a, imm),
        }
    }

    /// One `vgatherqpd` from the pool's copy of the table, under a mask of
    /// all lanes; the indices masked to 0..16 keep every read in it.
    fn look_up(&mut self, dst: Y, table: &[f64; 16], index: Y, [idx, mask]: [Y; 2]) -> R {
        debug_assert!(dst != index && dst != idx && dst != mask && idx != mask);
        let fifteen = self.bits(15);
        self.bin(Bin::And, idx, index, fifteen)?;
        self.a.vpcmpeqq(mask, mask, mask)?;
        let off = self.pool.table(table);
        self.a.vgatherqpd_3(dst, ptr(rcx + idx * 8 + off), mask)
    }

    /// `v` is a magnitude (sign bit clear), so a signed comparison of the
    /// bits is the unsigned one of the kernels' tests; in float32 lanes,
    /// of 32-bit lanes against `limit` as a float32 (which it must be).
    fn bail_above(&mut self, v: Y, limit: f64, mask: Y, bail: CodeLabel) -> R {
        debug_assert!(self.lanes == Elem::F64 || f64::from(limit as f32) == limit);
        let limit = self.lane_k(limit);
        match self.lanes {
            Elem::F64 => with_src!(self.vpcmpgtq(mask, v; limit))?,
            Elem::F32 => with_src!(self.vpcmpgtd(mask, v; limit))?,
        }
        self.bail_if(mask, bail)
    }

    fn bail_if_set(&mut self, mask: Y, bail: CodeLabel) -> R {
        self.bail_if(mask, bail)
    }

    fn jump_if_clear(&mut self, mask: Y, label: CodeLabel) -> R {
        self.a.vptest(mask, mask)?;
        self.a.jz(label)
    }

    fn bail_unless_positive_normal(&mut self, x: Y, mask: Y, bail: CodeLabel) -> R {
        // bits(x) - bits(MIN_POSITIVE) >= bits(inf) - bits(MIN_POSITIVE),
        // that is > bits(inf) - bits(MIN_POSITIVE) - 1.
        let (lo, inf) = match self.lanes {
            Elem::F64 => (f64::MIN_POSITIVE.to_bits(), f64::INFINITY.to_bits()),
            Elem::F32 => (
                u64::from(f32::MIN_POSITIVE.to_bits()),
                u64::from(f32::INFINITY.to_bits()),
            ),
        };
        let span = inf - lo - 1;
        self.outside(mask, x, lo, span)?;
        self.bail_if(mask, bail)
    }

    /// p * pow2i(k), k = bits(t) - bits(SHIFT): adding k to p's exponent
    /// field is the same exact product. bits(t) << 52 is k << 52: the low 12
    /// bits of SHIFT's pattern, all that survive the shift of it, are zero.
    /// In float32 lanes the same with SHIFT32, whose low 9 bits are zero, and
    /// the exponent field at bit 23.
    fn scale(&mut self, dst: Y, p: Y, _: Y, t: Y) -> R {
        match self.lanes {
            Elem::F64 => {
                self.a.vpsllq(t, t, 52)?;
                self.a.vpaddq(dst, p, t)
            }
            Elem::F32 => {
                self.a.vpslld(t, t, 23)?;
                self.a.vpaddd(dst, p, t)
            }
        }
    }

    /// k << 52 (as in `scale`) plus the bits of 1, which this reads as a
    /// second use of the constant.
    /// (In float32 lanes k << 23 plus the bits of float32's 1.)
    fn pow2(&mut self, dst: Y, _: Y, t: Y, one: Src) -> R {
        if self.lanes == Elem::F32 {
            self.a.vpslld(dst, t, 23)?;
            return with_src!(self.vpaddd(dst, dst; one));
        }
        self.a.vpsllq(dst, t, 52)?;
        let one_bits = self.k(1.0);
        with_src!(self.vpaddq(dst, dst; one_bits))
    }

    /// AVX2 shifts 64-bit lanes logically only: (tmp ^ 2^63) >> 52 is
    /// k + 2048.
    /// (In float32 lanes `vpsrad`, which AVX2 has.)
    fn log_exponent(&mut self, dst: Y, tmp: Y) -> R {
        if self.lanes == Elem::F32 {
            return self.a.vpsrad(dst, tmp, 23);
        }
        let sign = self.bits(SIGN);
        self.bin(Bin::Xor, dst, tmp, sign)?;
        self.a.vpsrlq(dst, dst, 52)
    }

    /// kd = small_i64_to_f64(k): from_bits(bits(SHIFT) + k) - SHIFT, here
    /// from_bits(bits(SHIFT) + (k + 2048)) - (SHIFT + 2048); both exact.
    /// (In float32 lanes `vcvtdq2ps`, exact for an exponent.)
    fn log_exponent_to_f64(&mut self, k: Y) -> R {
        if self.lanes == Elem::F32 {
            return self.a.vcvtdq2ps(k, k);
        }
        let shift_bits = self.bits(SHIFT.to_bits());
        with_src!(self.vpaddq(k, k; shift_bits))?;
        let shift_2048 = self.k(SHIFT + 2048.0);
        self.bin(Bin::Sub, k, k, shift_2048)
    }

    fn sin_cos_sign(&mut self, cos: bool, d: Y, x: Y, p: SinCosParts<Y>) -> R {
        let elem = self.lanes;
        if cos {
            self.bin(Bin::Xor, p.sign, p.sign, Src::Reg(p.r))?;
            let sign = self.bits(elem.sign());
            self.bin(Bin::Xor, d, p.sign, sign)
        } else {
            self.bin(Bin::Xor, p.r, p.sign, Src::Reg(p.r))?;
            // Tiny x: x itself (keeping -0's sign).
            match elem {
                Elem::F64 => {
                    let tiny = self.k(TRIG_TINY);
                    with_src!(self.vcmppd(p.ax, p.ax; tiny; 0x11))?;
                    self.a.vblendvpd(d, p.r, x, p.ax)
                }
                Elem::F32 => {
                    let tiny = self.k32(TRIG32_TINY);
                    with_src!(self.vcmpps(p.ax, p.ax; tiny; 0x11))?;
                    self.a.vblendvps(d, p.r, x, p.ax)
                }
            }
        }
    }

    fn div_copysign(&mut self, d: Y, num: Y, den: Y, sign: Y, t: Y) -> R {
        self.bin(Bin::Div, num, num, Src::Reg(den))?;
        self.copysign(d, num, sign, t)
    }

    /// `a / b` into `d` (which is neither) without the divider when every
    /// lane passes an exact test that the result is the correctly rounded
    /// quotient, else with `vdivpd`: the same bits either way.
    ///
    /// The estimate y0 of 1/b is the double with the bits
    /// `RCP_MAGIC - bits(b)` (within 5.1% for normal b; the subtraction
    /// also flips the sign bit for negative b), refined to
    /// y = y0 (1 + e) (1 + e^2) (1 + e^4) with e = 1 - b y0 (within about
    /// 2^-34 of 1/b); q0 = a y, and one correction with the residual,
    /// q = q0 + (a - b q0) y, leaves q within about 2^-66 of a/b before its
    /// rounding. The estimate's accuracy only decides how often the test
    /// passes, never its outcome.
    ///
    /// The test is `vmath::divider::div_newton`'s: with r = RN(a - b q) and
    /// t = |b| 2^(E - 53), where 2^E is the exponent of the largest double
    /// below |q|, q = RN(a/b) if |r| < t; and r is exact whenever
    /// |a - b q| < 2t, for b and q normal with ulp(b) ulp(q) >= 2^-1074.
    /// Here t is made in the bits, bits(|b|) + bits(2^E) - bits(2^53)
    /// (2^E as `below & EXP_MASK`), whose exponent field is that of b plus
    /// E - 53 while it stays above 0, and the comparison is of the bits as
    /// signed integers. With b limited to [2^-1022, 2^53) (normal, finite,
    /// and its exponent at most 52), that covers what AVX-512 checks with
    /// range comparisons:
    /// - exponent(b) + E < -970 (where ulp(b) ulp(q) could be subnormal)
    ///   wraps into the sign bit, so t < 0 and the test fails; a field of
    ///   exactly 0 gives a t below the true one, which is only stricter;
    /// - a zero or subnormal q (zero numerators among them) has 2^E = 0,
    ///   and t's field exponent(b) - 53 is negative: the test fails;
    /// - t's field stays below 2046 (no infinity or NaN pattern), and NaNs
    ///   and infinities in a or q make |r| an infinity or NaN, whose bits
    ///   exceed every such t.
    fn div_newton(&mut self, d: Y, a: Y, b: Y) -> R {
        let scratch = self.scratch;
        let s = |i: usize| scratch[i];
        // y0 = from_bits(RCP_MAGIC - bits(b)), then
        // y = y0 (1 + e) (1 + e^2) (1 + e^4) with e = 1 - b y0.
        match self.bits(RCP_MAGIC) {
            Src::Reg(magic) => self.a.vpsubq(s(0), magic, b)?,
            magic => {
                self.load_constant(s(0), magic)?;
                self.a.vpsubq(s(0), s(0), b)?;
            }
        }
        let one = self.k(1.0);
        self.fma(Fma::NegAdd, s(1), b, Src::Reg(s(0)), one)?; // e
        for last in [false, false, true] {
            self.a.vfmadd132pd(s(0), s(0), s(1))?; // y (1 + e^k)
            if !last {
                self.bin(Bin::Mul, s(1), s(1), Src::Reg(s(1)))?;
            }
        }
        self.bin(Bin::Mul, s(1), a, Src::Reg(s(0)))?; // q0
        self.fma(Fma::NegAdd, d, b, Src::Reg(s(1)), Src::Reg(a))?; // a - b q0
        self.a.vfmadd132pd(d, s(1), s(0))?; // q
        // b outside [MIN_POSITIVE, 2^53): s(1) all ones.
        let abs = self.bits(ABS);
        self.bin(Bin::And, s(0), b, abs)?;
        let lo = f64::MIN_POSITIVE.to_bits();
        self.outside(s(1), s(0), lo, DIV_B_MAX.to_bits() - lo - 1)?;
        // t = |b| 2^(E - 53), in the bits.
        let below = self.k(1.0 - f64::EPSILON / 2.0);
        self.bin(Bin::Mul, s(2), d, below)?;
        let exponent = self.bits(0x7ff << 52);
        self.bin(Bin::And, s(2), s(2), exponent)?;
        self.a.vpaddq(s(0), s(0), s(2))?;
        let minus_2_53 = self.bits(((1023u64 + 53) << 52).wrapping_neg());
        with_src!(self.vpaddq(s(0), s(0); minus_2_53))?;
        // Failing lanes: not |a - b q| < t, or b out of range.
        self.fma(Fma::NegAdd, s(2), b, Src::Reg(d), Src::Reg(a))?;
        self.bin(Bin::And, s(2), s(2), abs)?;
        // t > |r| as 64-bit integers: the order of the doubles for t >= 0
        // (never an infinity or NaN here), false for t < 0 and for NaN r.
        self.a.vpcmpgtq(s(0), s(0), s(2))?;
        self.a.vandnpd(s(0), s(1), s(0))?;
        let mut ok = self.a.create_label();
        self.a.vmovmskpd(r11d, s(0))?;
        self.a.cmp(r11d, 0b1111)?;
        self.a.je(ok)?;
        self.bin(Bin::Div, d, a, Src::Reg(b))?;
        self.a.set_label(&mut ok)?;
        self.a.zero_bytes()
    }

    /// `vmath::trig::atan2_ordinary(y, x)`, after `atan2_needs_full`'s test;
    /// in float32 lanes `vmath::trig32`'s, the same steps with its constants
    /// (and its `atan`, x = 1 without the test, when `x` is `None`).
    fn atan2(&mut self, d: Y, y: Y, x: Option<Y>, bail: CodeLabel) -> Result<bool, IcedError> {
        let scratch = self.scratch;
        let s = |i: usize| scratch[i];
        let k = kernels::Atan2Constants::of(self.lanes);
        let abs = self.bits(self.lanes.abs());
        self.bin(Bin::And, s(1), y, abs)?; // ay
        if let Some(x) = x {
            self.bin(Bin::And, s(0), x, abs)?; // ax
            // Either magnitude outside [2^-500, 2^500] (float32: [2^-60,
            // 2^60]), or NaN, inf, zero.
            self.outside(s(2), s(0), k.lo, k.span)?;
            self.outside(s(3), s(1), k.lo, k.span)?;
            self.a.vorpd(s(2), s(2), s(3))?;
            self.bail_if(s(2), bail)?;
        } else {
            let one = self.lane_k(1.0);
            self.load_constant(s(0), one)?;
        }
        // swap = ay > ax; num = swap ? ax : ay; den = swap ? ay : ax
        self.compare(Compare::Gt, s(4), s(1), s(0))?;
        self.blend(s(2), s(4), s(0), s(1))?;
        self.blend(s(3), s(4), s(1), s(0))?;
        // r2 = num > 0.4375 den, r3 = num > 0.6875 den
        let (c2, c3) = (self.lane_k(0.4375), self.lane_k(0.6875));
        self.bin(Bin::Mul, s(0), s(3), c2)?;
        self.compare(Compare::Gt, s(0), s(2), s(0))?;
        self.bin(Bin::Mul, s(1), s(3), c3)?;
        self.compare(Compare::Gt, s(1), s(2), s(1))?;
        // n = r3 ? num - den : r2 ? fma(2, num, -den) : num
        let two = self.lane_k(2.0);
        self.a.vmovapd(s(5), s(3))?;
        self.fused(Fused::Sub231, s(5), s(2), two)?; // num*2 - den
        self.blend(s(5), s(0), s(5), s(2))?;
        self.bin(Bin::Sub, s(6), s(2), Src::Reg(s(3)))?;
        self.blend(s(5), s(1), s(6), s(5))?;
        // dd = r3 ? den + num : r2 ? fma(2, den, num) : den
        self.a.vmovapd(s(6), s(2))?;
        self.fused(Fused::Add231, s(6), s(3), two)?; // den*2 + num
        self.blend(s(6), s(0), s(6), s(3))?;
        self.bin(Bin::Add, s(7), s(3), Src::Reg(s(2)))?;
        self.blend(s(6), s(1), s(7), s(6))?;
        // u = n / dd
        self.bin(Bin::Div, s(5), s(5), Src::Reg(s(6)))?;
        // base = r3 ? pi/4 : r2 ? atan(1/2) : 0, as hi and lo parts (the
        // masks are all ones or zeros: `&` with r2 keeps the part or 0).
        let [half_hi, half_lo] = k.atan_half;
        let [pio4_hi, pio4_lo] = k.pio4;
        for (part, r2_value, r3_value) in [(s(6), half_hi, pio4_hi), (s(7), half_lo, pio4_lo)] {
            let r2_value = self.lane_k(r2_value);
            self.bin(Bin::And, part, s(0), r2_value)?;
            let r3_value = self.lane_k(r3_value);
            match self.lanes {
                Elem::F64 => with_src!(self.vblendvpd(part, part; r3_value; s(1)))?,
                Elem::F32 => {
                    self.load_constant(s(2), r3_value)?;
                    self.blend(part, s(1), s(2), part)?;
                }
            }
        }
        // a = hi + (lo + p), p the arctangent polynomial of u
        self.atan_reduced(s(6), s(7), s(5), s(0), s(1))?;
        // swap: pi/2 - a; x negative (its sign bit): pi - a; each as
        // HI - (a - LO). (x = 1 is not negative.)
        let negative_x = x.map(|x| (x, k.pi));
        for (mask, [hi, lo]) in std::iter::once((s(4), k.pio2)).chain(negative_x) {
            let (hi, lo) = (self.lane_k(hi), self.lane_k(lo));
            self.bin(Bin::Sub, s(2), s(6), lo)?;
            self.load_constant(s(3), hi)?;
            self.bin(Bin::Sub, s(3), s(3), Src::Reg(s(2)))?;
            self.blend(s(6), mask, s(3), s(6))?;
        }
        self.copysign(d, s(6), y, s(0))?;
        Ok(true)
    }

    /// One vector of the program at byte offset `rax + off`: load the inputs
    /// (where `first_reads` put them), run every instruction, store the
    /// output; the lanes of the mask at `[rsp]` only if `self.tail`. A lane
    /// needing a full math function jumps to `bail` before anything of this
    /// vector is stored.
    /// Wrapping, as the passes' `wrapping_add`, `wrapping_mul`, ...
    fn integer_op(&mut self, op: JitOp, d: Y, v: &[Y]) -> Result<bool, IcedError> {
        let (x, y) = (v[0], v.get(1).copied().unwrap_or(v[0]));
        let s0 = self.scratch[0];
        match op {
            JitOp::Add => self.bin(Bin::AddInt, d, x, Src::Reg(y))?,
            JitOp::Sub => self.bin(Bin::SubInt, d, x, Src::Reg(y))?,
            JitOp::Mul => self.mul_int(d, x, y)?,
            JitOp::MulAdd => {
                self.mul_int(d, x, y)?;
                self.bin(Bin::AddInt, d, d, Src::Reg(v[2]))?;
            }
            JitOp::MulSub => {
                self.mul_int(d, x, y)?;
                self.bin(Bin::SubInt, d, d, Src::Reg(v[2]))?;
            }
            JitOp::SubMul => {
                self.mul_int(d, x, y)?;
                self.bin(Bin::SubInt, d, v[2], Src::Reg(d))?;
            }
            JitOp::MulAddMul | JitOp::MulSubMul => {
                self.mul_int(d, x, y)?;
                self.mul_int(s0, v[2], v[3])?;
                if op == JitOp::MulAddMul {
                    self.bin(Bin::AddInt, d, d, Src::Reg(s0))?;
                } else {
                    self.bin(Bin::SubInt, d, d, Src::Reg(s0))?;
                }
            }
            JitOp::Neg => {
                self.a.vpxor(s0, s0, s0)?;
                self.bin(Bin::SubInt, d, s0, Src::Reg(x))?;
            }
            JitOp::Abs => match self.plan.elem {
                Elem::F32 => self.a.vpabsd(d, x)?,
                // No `vpabsq`: (x ^ m) - m, m the sign mask (wrapping, as
                // `wrapping_abs`: the minimum stays).
                Elem::F64 => {
                    let s1 = self.scratch[1];
                    self.sign_mask(s0, x)?;
                    self.a.vpxor(s1, x, s0)?;
                    self.a.vpsubq(d, s1, s0)?;
                }
            },
            // Counts outside `0..width` (negatives read as huge unsigned
            // ones) give 0, as `int_shl`.
            JitOp::ShiftLeft => match self.plan.elem {
                Elem::F32 => self.a.vpsllvd(d, x, y)?,
                Elem::F64 => self.a.vpsllvq(d, x, y)?,
            },
            // Counts outside `0..width` give the sign, as `int_shr`.
            JitOp::ShiftRight => match self.plan.elem {
                Elem::F32 => self.a.vpsravd(d, x, y)?,
                // No `vpsravq`: a logical shift of x ^ m, then ^ m again,
                // m the sign mask (a count past 63 leaves m itself).
                Elem::F64 => {
                    let s1 = self.scratch[1];
                    self.sign_mask(s0, x)?;
                    self.a.vpxor(s1, x, s0)?;
                    self.a.vpsrlvq(s1, s1, y)?;
                    self.a.vpxor(d, s1, s0)?;
                }
            },
            JitOp::Compare(compare) => {
                if self.int_compare(compare, d, x, y)? {
                    let ones = self.bits(u64::MAX);
                    self.bin(Bin::Xor, d, d, ones)?;
                }
            }
            JitOp::Where(compare) => {
                // The negated comparison's mask selects the other way.
                let negated = self.int_compare(compare, s0, x, y)?;
                let (then, other) = if negated { (v[3], v[2]) } else { (v[2], v[3]) };
                self.blend(d, s0, then, other)?;
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    fn body(
        &mut self,
        off: i32,
        place: Place,
        divider: Divider,
        bail: CodeLabel,
    ) -> Result<bool, IcedError> {
        // Scratch registers hold the previous vector's values.
        self.squares = None;
        let (program, plan) = (self.program, self.plan);
        for (i, instr) in program.code.iter().enumerate() {
            self.load_inputs(i, off)?;
            let spilled = plan.spilled_operands(instr);
            // A constant the instruction reads from the pool is not loaded.
            let folded = kernels::pool_operand(plan, instr).map(|k| instr.args[k]);
            let list = &self.scratch_at[i];
            let (list, reloaded) = list.split_at(list.len() - spilled.len());
            if self.scratch[..list.len()] != list[..] || !spilled.is_empty() {
                // Other registers: the squares of a previous `powi` are not
                // where this one looks (nor after loads into scratch).
                self.squares = None;
            }
            self.scratch[..list.len()].copy_from_slice(list);
            self.scratch[list.len()..].fill(MASK);
            if spilled.iter().all(|&r| Some(r) == folded) {
                if !self.instr(plan, instr, divider, bail)? {
                    return Ok(false);
                }
                continue;
            }
            // The instruction on a plan with its spilled operands in
            // registers, loaded before it; a spilled result stored after.
            let reloaded = reloaded.to_vec();
            let mut local = plan.clone();
            for (&r, &y) in spilled.iter().zip(&reloaded) {
                if Some(r) == folded {
                    continue;
                }
                self.reload(r, y, i, off)?;
                let v = YMM.iter().position(|&x| x == y).expect("a ymm register");
                local.slots[r as usize] = Slot::Vector(v as u8);
            }
            if !self.instr(&local, instr, divider, bail)? {
                return Ok(false);
            }
            if let Slot::Stack(k) = plan.slots[instr.dst as usize] {
                let y = reloaded[spilled
                    .iter()
                    .position(|&r| r == instr.dst)
                    .expect("spilled")];
                let slot = self.stack_slot(k);
                self.a.vmovupd(slot, y)?;
            }
        }
        let out = self.y(program.output);
        if let (Some(kept), Place::InGroup { index, len }) = (self.pair, place) {
            if index % 2 == 0 && index + 1 < len {
                self.a.vmovapd(kept, out)?;
                return Ok(true);
            }
            if index % 2 == 1 {
                // Both vectors' sign bits (`PAIR_BYTES`), the kept one's
                // bytes first.
                self.a.vpackssdw(kept, kept, out)?;
                self.a.vmovmskps(r11d, kept)?;
                self.a.mov(r11, qword_ptr(rcx + r11 * 8 + PAIR_BYTES))?;
                self.a
                    .mov(qword_ptr(rsi + rax + off - FLOAT64_VECTOR_BOOLS), r11)?;
                return Ok(true);
            }
        }
        if self.plan.bool_output {
            // The lanes' sign bits index the pool's table of their bytes, 0
            // or 1 each: 4 bytes (float64 lanes) or 8 (float32) stored at
            // once; in the tail, the bytes of the lanes left one at a time
            // (rax counts bytes, one an element, up to rdx: `emit_tail`
            // sets rax to rdx afterwards all the same).
            let whole = match self.plan.elem {
                Elem::F64 => {
                    self.float64_mask_bytes(out)?;
                    dword_ptr(rsi + rax + off)
                }
                Elem::F32 => {
                    self.a.vmovmskps(r11d, out)?;
                    self.a.mov(r11, qword_ptr(rcx + r11 * 8 + BOOL_BYTES))?;
                    qword_ptr(rsi + rax + off)
                }
            };
            if self.tail {
                let mut next = self.a.create_label();
                self.a.set_label(&mut next)?;
                self.a.mov(byte_ptr(rsi + rax), r11b)?;
                self.a.shr(r11, 8)?;
                self.a.inc(rax)?;
                self.a.cmp(rax, rdx)?;
                self.a.jb(next)?;
            } else {
                match self.plan.elem {
                    Elem::F64 => self.a.mov(whole, r11d)?,
                    Elem::F32 => self.a.mov(whole, r11)?,
                }
            }
            return Ok(true);
        }
        let scale = self.index_scale(self.plan.elem.bytes());
        let dst = ymmword_ptr(rsi + rax * scale + off * scale);
        if self.tail {
            self.a.vmovdqu(MASK, ymmword_ptr(rsp))?;
            match self.plan.elem {
                Elem::F32 => self.a.vmaskmovps(dst, MASK, out)?,
                Elem::F64 => self.a.vmaskmovpd(dst, MASK, out)?,
            }
        } else if self.traffic == Traffic::Streaming {
            self.a.vmovntpd(dst, out)?;
        } else {
            self.a.vmovupd(dst, out)?;
        }
        Ok(true)
    }
}
