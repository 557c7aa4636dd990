//! The AVX-512 lowering: every program value in a zmm register (8 float64
//! or 16 float32 lanes), mask registers for the tests, selects and the last
//! partial vector.
//!
//! Vector registers: the program's values in `zmm0`-`zmm15` (see
//! [`Plan`](crate::jit::Plan)), then above the kernel scratch, which starts at
//! `zmm16` (`fits`), and the most
//! used constants in the registers left over; `k1` is the mask of the last,
//! partial vector, `k2`-`k4` the kernels' tests and selects. The pool holds
//! each constant once, read by broadcast operands.
//!
//! The loop runs a group of two to four vectors per iteration, some of them
//! computing `sqrt` and `/` by Newton's method and the others on the hardware
//! divider (`Emitter::divider_pattern`), so that the divider and the vector
//! ports work at once as in `vmath::divider`; then whole vectors one at a
//! time, then the last 1-7 (float32: 1-15) elements under a mask. Float32
//! programs (IEEE operations: see `JitOp::in_float32`; float32 `exp`, `log`,
//! `tanh`, `sin` and `cos` it assembles but is not given, and `arctan2`,
//! `arctan`, `log2`, `log10`, `log1p`, `expm1`, `sinh` and `cosh` it does
//! not emit in float32 lanes:
//! `jit::avx512_keeps_passes`)
//! take the `ps` forms, dword broadcasts and a 16-lane tail mask, and divide and take
//! square roots on the divider alone. A float64 program's float32, int32 and
//! int64 inputs are widened as they load, stored booleans made lane masks
//! (`Emitter::load_input`); a boolean result is stored a byte an element.
//! The index then counts the narrowest operand's bytes.
//!
//! A float64 program's float32 operations (`Plan::half`) take the `ps` forms
//! on the eight float32 lanes in the low half (`ymm`) of each value's
//! register, one per float64 lane (`Emitter::lanes`, set per instruction).
//! Their float32 inputs load as they are stored (`vmovups` of 32 bytes,
//! under `k1` in the tail, which covers the same eight lanes), widenings
//! convert (`vcvtps2pd`), a float32 comparison's mask is widened to the
//! float64 lanes' (`vpmovsxdq`) and a boolean's narrowed for a select of
//! float32 values (`vpmovqd`). The high halves hold no input: zeros,
//! constants and what operations make of them, never read into a result.

use super::kernels::{self, Fma, Fused, Kernels, R, SinCosParts};
use super::{
    ABS, Bin, Compiled, Divider, INPUT_GPRS, PREFETCH_AHEAD, Place, Pool, by_use, counted_cycles,
    divider_pattern, lane_numbers, predicate,
};
use crate::functions::{Compare, JitOp, Rounding};
use crate::jit::plan::{Elem, Narrow};
use crate::jit::{Backend, Plan, Slot, Traffic};
use crate::kernels::vmath::shared::{
    ATAN_HALF, ATAN2_ORDINARY_LO, ATAN2_ORDINARY_SPAN, DIV_MAX, DIV_MIN, PI_HI_LO, PIO2_HI_LO,
    PIO4, SQRT_MAX, SQRT_MIN, TRIG_TINY, TRIG32_TINY,
};
use crate::program::Program;
use iced_x86::IcedError;
use iced_x86::code_asm::*;
use std::collections::HashMap;

/// The AVX-512 backend.
pub(in crate::jit) struct Avx512;

impl Backend for Avx512 {
    /// The lower 16 registers, then those above the kernels' scratch (from
    /// `zmm16` up) to `zmm30`: `lower` refuses a plan whose values do not
    /// fit beside its program's scratch (`value_register`).
    const MAX_VALUES: usize = 31;

    /// Not yet: an AVX-512 CPU runs a program whose values do not fit
    /// ([`fits`]) with the AVX2 lowering, spilled.
    const SPILLS: bool = false;

    /// Assembles `program` by `plan`; `None` if the assembler or the memory
    /// mapping refuses (never expected) or a `powi` exponent is out of range.
    fn lower(program: &Program, plan: &Plan) -> Option<Compiled> {
        // What the AVX2 lowering alone emits (`jit::compile` sends such
        // programs there): integer lanes, spills, pointers read from the
        // frame (more than 8 inputs).
        if !fits(program, plan)
            || plan.integer
            || plan.spills()
            || plan.inputs.len() > super::GPR_INPUTS
        {
            return None;
        }
        // A first emission counts how often the loop reads each constant; the
        // most used ones then live in the vector registers that neither the
        // program's values nor the kernels' scratch take.
        let mut count = Emitter::new(program, plan, HashMap::new()).ok()?;
        // The three functions read the same constants: one is enough to count.
        count.emit_function(Traffic::Cached).ok()?.then_some(())?;
        let (values, scratch) = (plan.values(), program_scratch(program));
        let above = 16 + scratch + values.saturating_sub(16);
        let free = (values.min(16)..16).chain(above..32).map(|r| ZMM[r]);
        let resident = by_use(count.uses).into_iter().zip(free).collect();
        let mut e = Emitter::new(program, plan, resident).ok()?;
        let labels = e.emit_all().ok()??;
        Compiled::assemble(e.a, labels, e.pool.words)
    }

    fn compute_ns_per_element(program: &Program) -> f64 {
        compute_ns_per_element(program)
    }
}

/// The instructions of `program`'s AVX-512 code (the first emission, all
/// constants from the pool); `None` when the backend does not cover the
/// program. A test's check of the forms the code takes: the machine running
/// the tests may have no AVX-512.
#[cfg(test)]
pub(in crate::jit) fn instructions(program: &Program) -> Option<Vec<iced_x86::Instruction>> {
    let plan = Plan::new(program, Avx512::MAX_VALUES)?;
    fits(program, &plan).then_some(())?;
    let mut e = Emitter::new(program, &plan, HashMap::new()).ok()?;
    e.emit_all().ok()??;
    Some(e.a.instructions().to_vec())
}

type Z = AsmRegisterZmm;

const ZMM: [Z; 32] = [
    zmm0, zmm1, zmm2, zmm3, zmm4, zmm5, zmm6, zmm7, zmm8, zmm9, zmm10, zmm11, zmm12, zmm13, zmm14,
    zmm15, zmm16, zmm17, zmm18, zmm19, zmm20, zmm21, zmm22, zmm23, zmm24, zmm25, zmm26, zmm27,
    zmm28, zmm29, zmm30, zmm31,
];

/// The low 256 bits of each of [`ZMM`], by the same numbers.
const YMM: [AsmRegisterYmm; 32] = [
    ymm0, ymm1, ymm2, ymm3, ymm4, ymm5, ymm6, ymm7, ymm8, ymm9, ymm10, ymm11, ymm12, ymm13, ymm14,
    ymm15, ymm16, ymm17, ymm18, ymm19, ymm20, ymm21, ymm22, ymm23, ymm24, ymm25, ymm26, ymm27,
    ymm28, ymm29, ymm30, ymm31,
];

/// The low half of `z`: where a float64 program's float32 values live
/// ([`Plan::half`]), eight lanes for the eight float64 ones.
fn low_half(z: Z) -> AsmRegisterYmm {
    let i = ZMM.iter().position(|&r| r == z).expect("a zmm register");
    YMM[i]
}

/// `z` written only in the lanes of mask register `k2`, `k3` or `k4`.
fn under(z: Z, mask: u8) -> Z {
    match mask {
        2 => z.k2(),
        3 => z.k3(),
        _ => z.k4(),
    }
}

/// Kernel scratch register `i`.
const fn s(i: usize) -> Z {
    ZMM[16 + i]
}

/// A source operand: a zmm register, or a pool constant broadcast to all
/// lanes.
type Src = kernels::Src<Z>;

/// `self.a.op(pre..., src, post...)` with `src` a register or a broadcast
/// pool constant (the assembler has one method per operand kind).
macro_rules! with_src {
    ($self:ident . $m:ident ( $($pre:expr),* ; $src:expr $(; $($post:expr),*)? )) => {
        match $src {
            Src::Reg(z) => $self.a.$m($($pre,)* z $(, $($post),*)?),
            Src::K(off) => {
                let m = $self.broadcast_operand(off);
                $self.a.$m($($pre,)* m $(, $($post),*)?)
            }
        }
    };
}

/// Cycles per vector of `op` on this machine's two 512-bit vector ports
/// (operations / 2), on the divider, and on the ports for the Newton form
/// instead of the divider: counted from the emitters below, with the
/// divider's occupancy per `vsqrtpd` (~20) and `vdivpd` (~16) as measured for
/// `vmath::divider`.
fn cycles(op: JitOp) -> (f64, f64, f64) {
    match op {
        JitOp::Sqrt => (0.0, 20.0, 12.0),
        JitOp::Div => (0.0, 16.0, 11.0),
        // Log's own division overlaps; it is counted as port work.
        JitOp::Log => (15.0, 0.0, 0.0),
        JitOp::Exp => (10.0, 0.0, 0.0),
        JitOp::Sin | JitOp::Cos => (13.0, 0.0, 0.0),
        // With their divisions, which overlap.
        JitOp::Tanh => (16.0, 0.0, 0.0),
        JitOp::Atan2 => (28.0, 0.0, 0.0),
        // About 50 operations and five permutes (not run: AVX-512 CPUs keep
        // the passes for `**`, `jit::avx512_keeps_passes`).
        JitOp::Pow => (40.0, 0.0, 0.0),
        op => (counted_cycles(op), 0.0, 0.0),
    }
}

/// The share of vectors whose `sqrt` and `/` take the Newton forms (see
/// [`Emitter::divider_pattern`]), and the cycles a vector then takes.
fn balance(program: &Program) -> (f64, f64) {
    let (mut other, mut divider, mut newton) = (0.0, 0.0, 0.0);
    for instr in &program.code {
        let (r, d, n) = cycles(instr.overload.jit.unwrap_or(JitOp::Add));
        other += r;
        divider += d;
        newton += n;
    }
    if divider == 0.0 {
        return (0.0, other);
    }
    let share = ((divider - other) / (newton + divider)).clamp(0.0, 1.0);
    (
        share,
        f64::max(other + share * newton, (1.0 - share) * divider),
    )
}

/// The time the loop's arithmetic takes per element on one core, in ns, as
/// counted by [`cycles`] at the project machine's ~3 GHz (memory traffic
/// not included). Within 15% of `vexpr bench` at N = 10k for E3, E5 and E7.
fn compute_ns_per_element(program: &Program) -> f64 {
    balance(program).1 / 8.0 / 3.0
}

/// The scratch registers (from `zmm16` up) the program's emitters use: the
/// most any instruction's takes.
fn program_scratch(program: &Program) -> usize {
    (program.code.iter())
        .filter_map(|i| i.overload.jit)
        .map(scratch_registers)
        .max()
        .unwrap_or(0)
        .max(1)
}

/// Whether `plan`'s values fit in the registers beside `program`'s scratch:
/// `zmm0`-`zmm15`, then from above the scratch to `zmm30` (`zmm31` is
/// `Kernels::not_vector`'s).
fn fits(program: &Program, plan: &Plan) -> bool {
    plan.values() <= 16 || 16 + program_scratch(program) + (plan.values() - 16) <= 31
}

/// The zmm register of program value `v` (see [`fits`]).
fn value_register(v: usize, scratch: usize) -> Z {
    if v < 16 { ZMM[v] } else { ZMM[v + scratch] }
}

/// The scratch registers (from `zmm16` up) the emitter of `op` uses.
fn scratch_registers(op: JitOp) -> usize {
    match op {
        JitOp::Div => 12,
        JitOp::Sqrt => 10,
        JitOp::Atan2 => 10,
        JitOp::Pow => 8,
        JitOp::Exp | JitOp::Log | JitOp::Sin | JitOp::Cos | JitOp::Tanh => 7,
        JitOp::Powi => 4,
        JitOp::Sign | JitOp::FloorDiv | JitOp::Mod | JitOp::Fmod => 3,
        JitOp::Maximum | JitOp::Minimum | JitOp::Logic(_) | JitOp::Test(_) => 2,
        JitOp::Copysign => 1,
        JitOp::AddAbs | JitOp::MulAddMul | JitOp::MulSubMul => 1,
        _ => 0,
    }
}

struct Emitter<'p> {
    a: CodeAssembler,
    pool: Pool,
    /// How often the loop reads each constant (by its bits).
    uses: HashMap<u64, usize>,
    /// Constants kept in registers, loaded before the loop.
    resident: HashMap<u64, Z>,
    /// The function being emitted: prefetches unless [`Traffic::Cached`],
    /// whole vectors stored with `vmovntpd` if [`Traffic::Streaming`].
    traffic: Traffic,
    /// The current vector is the last, partial one, under the mask `k1`.
    tail: bool,
    /// The lanes of the instruction being emitted ([`Kernels::set_lanes`]):
    /// float32 for a float32 operation of a plan in halves, else the plan's.
    lanes: Elem,
    /// After a `powi`: its base, and how many of its squares x^2, x^4, ...
    /// are in scratch registers 0, 1, ... (see [`Kernels::powi`]).
    squares: Option<(Z, usize)>,
    program: &'p Program,
    plan: &'p Plan,
    /// Byte offset in the pool of the lane numbers 0..8 (0..16 for float32),
    /// for the tail mask.
    lane_numbers: i32,
    /// The program's scratch registers (`program_scratch`): values past the
    /// 16th take the registers above them.
    scratch: usize,
}

impl<'p> Emitter<'p> {
    fn new(
        program: &'p Program,
        plan: &'p Plan,
        resident: HashMap<u64, Z>,
    ) -> Result<Self, IcedError> {
        Ok(Emitter {
            a: CodeAssembler::new(64)?,
            // The lane numbers first, at offset 0.
            pool: Pool::new(lane_numbers(plan.elem, 64), 1),
            uses: HashMap::new(),
            resident,
            traffic: Traffic::Cached,
            tail: false,
            lanes: plan.elem,
            squares: None,
            program,
            plan,
            lane_numbers: 0,
            scratch: program_scratch(program),
        })
    }

    /// The pool constant at byte offset `off` broadcast to every lane.
    fn broadcast_operand(&self, off: i32) -> AsmMemoryOperand {
        match self.lanes {
            Elem::F32 => dword_bcst(rcx + off),
            Elem::F64 => qword_bcst(rcx + off),
        }
    }

    /// `dst` = the pool constant at byte offset `off` in every lane.
    fn broadcast(&mut self, dst: Z, off: i32) -> R {
        match self.lanes {
            Elem::F32 => self.a.vbroadcastss(dst, dword_ptr(rcx + off)),
            Elem::F64 => self.a.vbroadcastsd(dst, qword_ptr(rcx + off)),
        }
    }

    /// The factor from the loop's index (`rax`, and the vector offsets) to
    /// the byte offsets of an operand of `bytes` an element: the index
    /// counts the narrowest operand's bytes (`Plan::index_shift`): a
    /// boolean result's or input's, or a widened 4-byte input's.
    fn index_scale(&self, bytes: usize) -> i32 {
        (bytes >> self.plan.index_shift()) as i32
    }

    /// Input `j` of the vector at index offset `off` into `z` (only the
    /// lanes of `k1` in the tail, the others zero; masked-off elements are
    /// not read), prefetched ahead unless [`Traffic::Cached`]. One stored
    /// narrower ([`Narrow`]) is widened as it loads: float32 and int32
    /// exactly, int64 rounded to nearest as `arith::i64_to_f64`, a boolean
    /// to a lane mask (any byte but zero true). The narrow elements are
    /// loaded into `zmm16`'s low part first (scratch: no instruction of the
    /// vector has run yet) when only some lanes are.
    fn load_input(&mut self, j: usize, z: Z, off: i32) -> R {
        let scale = self.index_scale(self.plan.input_bytes(j));
        let at = |extra: i32| INPUT_GPRS[j] + rax * scale + (off * scale + extra);
        if !self.tail && self.traffic != Traffic::Cached {
            self.a.prefetcht0(byte_ptr(at(PREFETCH_AHEAD)))?;
        }
        let (tail, elem) = (self.tail, self.plan.elem);
        match self.plan.narrow[j] {
            None => match (tail, elem) {
                (false, _) => self.a.vmovupd(z, zmmword_ptr(at(0))),
                (true, Elem::F32) => self.a.vmovups(z.k1().z(), zmmword_ptr(at(0))),
                (true, Elem::F64) => self.a.vmovupd(z.k1().z(), zmmword_ptr(at(0))),
            },
            // Eight 4-byte elements into the eight float64 lanes; in the
            // tail through `ymm16` (`vmovdqu32`: EVEX, which encodes it).
            Some(narrow @ (Narrow::F32 | Narrow::I32)) => {
                let src = ymmword_ptr(at(0));
                if tail {
                    self.a.vmovdqu32(ymm16.k1().z(), src)?;
                }
                match (narrow, tail) {
                    (Narrow::F32, true) => self.a.vcvtps2pd(z, ymm16),
                    (Narrow::F32, false) => self.a.vcvtps2pd(z, src),
                    (_, true) => self.a.vcvtdq2pd(z, ymm16),
                    (_, false) => self.a.vcvtdq2pd(z, src),
                }
            }
            Some(Narrow::I64) => {
                match tail {
                    true => self.a.vmovdqu64(z.k1().z(), zmmword_ptr(at(0)))?,
                    false => self.a.vmovdqu64(z, zmmword_ptr(at(0)))?,
                }
                self.a.vcvtqq2pd(z, z)
            }
            // One byte a lane, 8 (float64 lanes) or 16 (float32), zero
            // extended; in the tail through `xmm16`.
            Some(Narrow::Bool) => {
                let src = xmmword_ptr(at(0));
                if tail {
                    self.a.vmovdqu8(xmm16.k1().z(), src)?;
                }
                match (elem, tail) {
                    (Elem::F64, true) => self.a.vpmovzxbq(z, xmm16)?,
                    (Elem::F64, false) => self.a.vpmovzxbq(z, qword_ptr(at(0)))?,
                    (Elem::F32, true) => self.a.vpmovzxbd(z, xmm16)?,
                    (Elem::F32, false) => self.a.vpmovzxbd(z, src)?,
                }
                match elem {
                    Elem::F64 => {
                        self.a.vptestmq(k2, z, z)?;
                        self.a.vpmovm2q(z, k2)
                    }
                    Elem::F32 => {
                        self.a.vptestmd(k2, z, z)?;
                        self.a.vpmovm2d(z, k2)
                    }
                }
            }
            // Eight float32 elements as they are stored, into the low half
            // (a ymm write zeroes the rest).
            Some(Narrow::Half) => {
                let (y, src) = (low_half(z), ymmword_ptr(at(0)));
                match tail {
                    true => self.a.vmovups(y.k1().z(), src),
                    false => self.a.vmovups(y, src),
                }
            }
        }
    }

    /// The vector register of program register `reg`.
    fn z(&self, reg: u32) -> Z {
        match self.plan.slots[reg as usize] {
            Slot::Vector(v) => value_register(v as usize, self.scratch),
            // `Plan::new` made every operand a vector except `powi` exponents.
            _ => unreachable!("not a vector operand"),
        }
    }

    /// Jumps to `bail` if the unsigned 64-bit comparison `bits(v) PRED c`
    /// (an `vpcmpuq` predicate) holds in any (active) lane.
    fn bail_if(&mut self, v: Z, pred: i32, c: Src, tail: bool, bail: CodeLabel) -> R {
        if tail {
            with_src!(self.vpcmpuq(k2.k1(), v; c; pred))?;
        } else {
            with_src!(self.vpcmpuq(k2, v; c; pred))?;
        }
        self.a.kortestb(k2, k2)?;
        self.a.jnz(bail)
    }

    /// `d` with the sign of `sign` (`vpternlogq`: sign bit from `sign`, the
    /// rest from `d`).
    fn copysign(&mut self, d: Z, sign: Z) -> R {
        let sign_bit = self.bits(self.lanes.sign());
        match self.lanes {
            Elem::F64 => with_src!(self.vpternlogq(d, sign; sign_bit; 0xd8)),
            Elem::F32 => with_src!(self.vpternlogd(d, sign; sign_bit; 0xd8)),
        }
    }

    /// `vmath::divider::sqrt_newton`: Newton from `vrsqrt14pd`, Tuckerman's
    /// test, `vsqrtpd` for a vector with a lane outside [2^-900, 2^900].
    fn sqrt_newton(&mut self, d: Z, x: Z) -> R {
        let (half, zero) = (self.k(0.5), self.k(0.0));
        let one_bits = self.bits(1);
        self.a.vrsqrt14pd(s(0), x)?;
        self.bin(Bin::Mul, s(1), x, Src::Reg(s(0)))?; // g0 = x y
        self.bin(Bin::Mul, s(2), s(0), half)?; // h0 = y / 2
        self.fma(Fma::NegAdd, s(3), s(1), Src::Reg(s(2)), half)?; // r = 1/2 - g0 h0
        self.fma(Fma::Add, s(4), s(1), Src::Reg(s(3)), Src::Reg(s(1)))?; // g1
        self.fma(Fma::Add, s(5), s(2), Src::Reg(s(3)), Src::Reg(s(2)))?; // h1
        self.fma(Fma::NegAdd, s(6), s(4), Src::Reg(s(4)), Src::Reg(x))?; // x - g1^2
        self.fma(Fma::Add, s(6), s(6), Src::Reg(s(5)), Src::Reg(s(4)))?; // g
        with_src!(self.vpaddq(s(7), s(6); one_bits))?; // next(g)
        with_src!(self.vpsubq(s(8), s(6); one_bits))?; // prev(g)
        self.fma(Fma::NegAdd, s(9), s(6), Src::Reg(s(7)), Src::Reg(x))?;
        with_src!(self.vcmppd(k2, s(9); zero; 0x1e))?; // > 0: too low
        self.a.vmovapd(s(6).k2(), s(7))?;
        self.fma(Fma::NegAdd, s(9), s(6), Src::Reg(s(8)), Src::Reg(x))?;
        with_src!(self.vcmppd(k2, s(9); zero; 0x12))?; // <= 0: too high
        self.a.vmovapd(s(6).k2(), s(8))?;
        let (lo, hi) = (self.k(SQRT_MIN), self.k(SQRT_MAX));
        with_src!(self.vcmppd(k2, x; lo; 0x1d))?; // >=
        with_src!(self.vcmppd(k2.k2(), x; hi; 0x12))?; // <=
        self.a.vmovapd(d, s(6))?;
        self.fallback(|a| a.vsqrtpd(d, x))
    }

    /// Unless every lane of `k2` is set, runs `hardware` (which overwrites the
    /// Newton result already in place).
    fn fallback(&mut self, hardware: impl FnOnce(&mut CodeAssembler) -> R) -> R {
        let mut ok = self.a.create_label();
        self.a.kortestb(k2, k2)?;
        self.a.jc(ok)?;
        hardware(&mut self.a)?;
        self.a.set_label(&mut ok)?;
        self.a.zero_bytes()
    }
}

impl Kernels for Emitter<'_> {
    type V = Z;

    fn elem(&self) -> Elem {
        self.lanes
    }

    fn set_lanes(&mut self, lanes: Elem) {
        self.lanes = lanes;
    }

    /// `vcvtps2pd` of the low half's eight float32 lanes.
    fn widen_half(&mut self, d: Z, x: Z) -> Result<bool, IcedError> {
        self.a.vcvtps2pd(d, low_half(x))?;
        Ok(true)
    }

    /// `vpmovsxdq` of the low half's eight dword masks.
    fn widen_mask(&mut self, d: Z) -> Result<bool, IcedError> {
        self.a.vpmovsxdq(d, low_half(d))?;
        Ok(true)
    }

    /// `vpmovqd`: each qword mask truncated to its low dword, all ones or
    /// zeros either way.
    fn narrow_mask(&mut self, d: Z, mask: Z) -> Result<bool, IcedError> {
        self.a.vpmovqd(low_half(d), mask)?;
        Ok(true)
    }

    /// `vscalefpd` takes kd as it is.
    const SCALE_IN_BITS: bool = false;

    const FLOAT32_ONLY_FUNCTIONS: bool = false;

    fn scratch(&self) -> [Z; 16] {
        std::array::from_fn(s)
    }

    fn bits(&mut self, bits: u64) -> Src {
        *self.uses.entry(bits).or_insert(0) += 1;
        match self.resident.get(&bits) {
            Some(&z) => Src::Reg(z),
            None => Src::K(self.pool_offset(bits)),
        }
    }

    bin_and_fused!(Z, and: vpandd | vpandq, or: vpord | vporq, xor: vpxord | vpxorq);

    fn load_constant(&mut self, dst: Z, c: Src) -> R {
        match c {
            Src::Reg(z) => self.a.vmovapd(dst, z),
            Src::K(off) => self.broadcast(dst, off),
        }
    }

    fn copy(&mut self, dst: Z, c: Z) -> R {
        match self.resident.iter().find(|&(_, &z)| z == c) {
            Some((&bits, _)) => {
                let off = self.pool_offset(bits);
                self.broadcast(dst, off)
            }
            None => self.a.vmovapd(dst, c),
        }
    }

    fn asm(&mut self) -> &mut CodeAssembler {
        &mut self.a
    }

    fn value(&self, v: usize) -> Z {
        value_register(v, self.scratch)
    }

    fn not_vector(&self) -> Z {
        s(15)
    }

    fn squares(&mut self) -> &mut Option<(Z, usize)> {
        &mut self.squares
    }

    const VECTOR_BYTES: i32 = 64;

    /// The narrowest operand's bytes (`Plan::index_shift`): the lanes' own,
    /// 4 for a float64 program's widened 4-byte inputs, 1 for booleans.
    fn index_shift(&self) -> u32 {
        self.plan.index_shift()
    }

    fn set_traffic(&mut self, traffic: Traffic) {
        self.traffic = traffic;
    }

    fn input_count(&self) -> usize {
        self.plan.inputs.len()
    }

    fn preloaded(&self) -> Vec<(u64, Z)> {
        let program = self.plan.constants.iter();
        let program = program.map(|&(v, bits)| (bits, value_register(v as usize, self.scratch)));
        program
            .chain(self.resident.iter().map(|(&b, &z)| (b, z)))
            .collect()
    }

    /// The last 1-7 (float32: 1-15) elements: k1 = lanes below the count
    /// left.
    fn emit_tail(&mut self, done: CodeLabel) -> R {
        self.a.cmp(rax, rdx)?;
        self.a.jae(done)?;
        self.a.mov(r11, rdx)?;
        self.a.sub(r11, rax)?;
        self.a.shr(r11, self.index_shift())?;
        let lanes = zmmword_ptr(rcx + self.lane_numbers);
        // left > lane
        match self.plan.elem {
            Elem::F32 => {
                self.a.vpbroadcastd(s(0), r11d)?;
                self.a.vpcmpud(k1, s(0), lanes, 6)?;
            }
            Elem::F64 => {
                self.a.vpbroadcastq(s(0), r11)?;
                self.a.vpcmpuq(k1, s(0), lanes, 6)?;
            }
        }
        self.tail = true;
        self.body(0, Place::Alone, Divider::Hardware, done)?;
        self.tail = false;
        self.a.mov(rax, rdx)
    }

    fn sqrt(&mut self, d: Z, x: Z, divider: Divider) -> R {
        match (divider, self.lanes) {
            (_, Elem::F32) => self.a.vsqrtps(d, x),
            (Divider::Hardware, Elem::F64) => self.a.vsqrtpd(d, x),
            (Divider::Newton, Elem::F64) => self.sqrt_newton(d, x),
        }
    }

    fn compare(&mut self, compare: Compare, d: Z, x: Z, y: Z) -> R {
        match self.lanes {
            Elem::F32 => {
                self.a.vcmpps(k2, x, y, predicate(compare))?;
                self.a.vpmovm2d(d, k2)
            }
            Elem::F64 => {
                self.a.vcmppd(k2, x, y, predicate(compare))?;
                self.a.vpmovm2q(d, k2)
            }
        }
    }

    fn round(&mut self, d: Z, x: Z, rounding: Rounding) -> R {
        let imm = 8 | rounding as i32;
        match self.lanes {
            Elem::F32 => self.a.vrndscaleps(d, x, imm),
            Elem::F64 => self.a.vrndscalepd(d, x, imm),
        }
    }

    fn select(&mut self, compare: Compare, d: Z, [x, y, then, other]: [Z; 4]) -> R {
        match self.lanes {
            Elem::F32 => {
                self.a.vcmpps(k2, x, y, predicate(compare))?;
                self.a.vblendmps(d.k2(), other, then)
            }
            Elem::F64 => {
                self.a.vcmppd(k2, x, y, predicate(compare))?;
                self.a.vblendmpd(d.k2(), other, then)
            }
        }
    }

    fn blend(&mut self, d: Z, mask: Z, then: Z, other: Z) -> R {
        match self.lanes {
            Elem::F32 => {
                self.a.vpmovd2m(k2, mask)?;
                self.a.vblendmps(d.k2(), other, then)
            }
            Elem::F64 => {
                self.a.vpmovq2m(k2, mask)?;
                self.a.vblendmpd(d.k2(), other, then)
            }
        }
    }

    fn shift_left(&mut self, dst: Z, a: Z, imm: i32) -> R {
        match self.lanes {
            Elem::F64 => self.a.vpsllq(dst, a, imm),
            Elem::F32 => self.a.vpslld(dst, a, imm),
        }
    }

    fn shift_right(&mut self, dst: Z, a: Z, imm: i32) -> R {
        match self.lanes {
            Elem::F64 => self.a.vpsrlq(dst, a, imm),
            Elem::F32 => self.a.vpsrld(dst, a, imm),
        }
    }

    /// The table's low half loaded, then `vpermt2pd` with its high half
    /// from the pool: each lane's entry by the index's low 4 bits (bit 3
    /// picks the half), which are all it reads. Assembled but not run
    /// (`jit::avx512_keeps_passes`).
    fn look_up(&mut self, dst: Z, table: &[f64; 16], index: Z, _: [Z; 2]) -> R {
        debug_assert!(dst != index);
        let off = self.pool.table(table);
        self.a.vmovupd(dst, zmmword_ptr(rcx + off))?;
        self.a.vpermt2pd(dst, index, zmmword_ptr(rcx + off + 64))
    }

    /// An unsigned comparison into `k2`.
    fn bail_above(&mut self, v: Z, limit: f64, _: Z, bail: CodeLabel) -> R {
        let limit = self.lane_k(limit);
        match self.lanes {
            Elem::F64 => self.bail_if(v, 6, limit, self.tail, bail),
            // `JitOp::FloorDiv` and `JitOp::Mod` of float32.
            Elem::F32 => {
                if self.tail {
                    with_src!(self.vpcmpud(k2.k1(), v; limit; 6))?;
                } else {
                    with_src!(self.vpcmpud(k2, v; limit; 6))?;
                }
                self.a.kortestw(k2, k2)?;
                self.a.jnz(bail)
            }
        }
    }

    /// The lanes with any bit set, by `vptestmd`/`vptestmq` (under `k1` in
    /// the tail).
    fn bail_if_set(&mut self, mask: Z, bail: CodeLabel) -> R {
        let k = if self.tail { k2.k1() } else { k2 };
        match self.lanes {
            Elem::F32 => {
                self.a.vptestmd(k, mask, mask)?;
                self.a.kortestw(k2, k2)?;
            }
            Elem::F64 => {
                self.a.vptestmq(k, mask, mask)?;
                self.a.kortestb(k2, k2)?;
            }
        }
        self.a.jnz(bail)
    }

    fn jump_if_clear(&mut self, mask: Z, label: CodeLabel) -> R {
        match self.lanes {
            Elem::F32 => self.a.vptestmd(k2, mask, mask)?,
            Elem::F64 => self.a.vptestmq(k2, mask, mask)?,
        }
        self.a.kortestw(k2, k2)?;
        self.a.jz(label)
    }

    fn bail_unless_positive_normal(&mut self, x: Z, _: Z, bail: CodeLabel) -> R {
        // Not a positive normal finite number:
        // bits(x) - bits(MIN_POSITIVE) >= bits(inf) - bits(MIN_POSITIVE).
        // `vfpclasspd` with every class set (NaNs, zeros, infinities,
        // subnormals, negatives) tests that in one operation.
        let mask = if self.tail { k2.k1() } else { k2 };
        match self.lanes {
            Elem::F64 => {
                self.a.vfpclasspd(mask, x, 0xff)?;
                self.a.kortestb(k2, k2)?;
            }
            Elem::F32 => {
                self.a.vfpclassps(mask, x, 0xff)?;
                self.a.kortestw(k2, k2)?;
            }
        }
        self.a.jnz(bail)
    }

    /// p * 2^kd in one `vscalefpd` instead of building 2^k's bits from the
    /// integer k and multiplying (four operations): both are exact there.
    fn scale(&mut self, dst: Z, p: Z, kd: Z, _: Z) -> R {
        match self.lanes {
            Elem::F64 => self.a.vscalefpd(dst, p, kd),
            // Float32 `exp`, assembled but not run (`jit::avx512_keeps_passes`).
            Elem::F32 => self.a.vscalefps(dst, p, kd),
        }
    }

    /// `vscalefpd` of 1 is pow2i(k) exactly.
    fn pow2(&mut self, dst: Z, kd: Z, _: Z, one: Src) -> R {
        self.load_constant(dst, one)?;
        match self.lanes {
            Elem::F64 => self.a.vscalefpd(dst, dst, kd),
            Elem::F32 => self.a.vscalefps(dst, dst, kd),
        }
    }

    fn log_exponent(&mut self, dst: Z, tmp: Z) -> R {
        match self.lanes {
            Elem::F64 => self.a.vpsraq(dst, tmp, 52),
            Elem::F32 => self.a.vpsrad(dst, tmp, 23),
        }
    }

    fn log_exponent_to_f64(&mut self, k: Z) -> R {
        match self.lanes {
            Elem::F64 => self.a.vcvtqq2pd(k, k),
            Elem::F32 => self.a.vcvtdq2ps(k, k),
        }
    }

    /// In float32 lanes assembled but not run (`jit::avx512_keeps_passes`).
    fn sin_cos_sign(&mut self, cos: bool, d: Z, x: Z, p: SinCosParts<Z>) -> R {
        let elem = self.lanes;
        if cos {
            let sign = self.bits(elem.sign());
            // sign ^ r ^ SIGN
            match elem {
                Elem::F64 => with_src!(self.vpternlogq(p.sign, p.r; sign; 0x96))?,
                Elem::F32 => with_src!(self.vpternlogd(p.sign, p.r; sign; 0x96))?,
            }
            self.a.vmovapd(d, p.sign)
        } else {
            self.bin(Bin::Xor, d, p.sign, Src::Reg(p.r))?;
            // Tiny x: x itself (keeping -0's sign).
            match elem {
                Elem::F64 => {
                    let tiny = self.k(TRIG_TINY);
                    with_src!(self.vcmppd(k3, p.ax; tiny; 0x11))?;
                    self.a.vmovapd(d.k3(), x)
                }
                Elem::F32 => {
                    let tiny = self.k32(TRIG32_TINY);
                    with_src!(self.vcmpps(k3, p.ax; tiny; 0x11))?;
                    self.a.vmovaps(d.k3(), x)
                }
            }
        }
    }

    fn div_copysign(&mut self, d: Z, num: Z, den: Z, sign: Z, _: Z) -> R {
        self.bin(Bin::Div, d, num, Src::Reg(den))?;
        self.copysign(d, sign)
    }

    /// `vmath::divider::div_newton`: Newton from `vrcp14pd`, the exact
    /// correct-rounding test, `vdivpd` for a vector that fails it.
    fn div_newton(&mut self, d: Z, a: Z, b: Z) -> R {
        let one = self.k(1.0);
        let abs = self.bits(ABS);
        self.a.vrcp14pd(s(0), b)?;
        self.fma(Fma::NegAdd, s(1), b, Src::Reg(s(0)), one)?; // e0 = 1 - b y0
        self.fma(Fma::Add, s(2), s(0), Src::Reg(s(1)), Src::Reg(s(0)))?; // y1
        self.bin(Bin::Mul, s(3), s(1), Src::Reg(s(1)))?;
        self.fma(Fma::Add, s(4), s(2), Src::Reg(s(3)), Src::Reg(s(2)))?; // y
        self.bin(Bin::Mul, s(5), a, Src::Reg(s(4)))?; // q0
        self.fma(Fma::NegAdd, s(6), b, Src::Reg(s(5)), Src::Reg(a))?; // a - b q0
        self.fma(Fma::Add, s(6), s(6), Src::Reg(s(4)), Src::Reg(s(5)))?; // q
        self.fma(Fma::NegAdd, s(7), b, Src::Reg(s(6)), Src::Reg(a))?;
        self.bin(Bin::And, s(7), s(7), abs)?; // |a - b q|
        let below = self.k(1.0 - f64::EPSILON / 2.0);
        self.bin(Bin::Mul, s(8), s(6), below)?;
        self.bin(Bin::And, s(9), b, abs)?; // |b|
        let half_eps = self.k(f64::EPSILON / 2.0);
        self.bin(Bin::Mul, s(10), s(9), half_eps)?;
        self.a.vgetexppd(s(8), s(8))?;
        self.a.vscalefpd(s(10), s(10), s(8))?; // threshold
        self.bin(Bin::And, s(11), s(6), abs)?; // |q|
        let (lo, hi, zero) = (self.k(DIV_MIN), self.k(DIV_MAX), self.k(0.0));
        self.a.vcmppd(k2, s(7), s(10), 0x11)?; // residual < threshold
        with_src!(self.vcmppd(k2.k2(), s(11); lo; 0x1d))?;
        with_src!(self.vcmppd(k2.k2(), s(11); hi; 0x12))?;
        with_src!(self.vcmppd(k3, a; zero; 0x00))?; // a == 0
        self.a.korb(k2, k2, k3)?;
        with_src!(self.vcmppd(k2.k2(), s(9); lo; 0x1d))?;
        with_src!(self.vcmppd(k2.k2(), s(9); hi; 0x12))?;
        self.a.vmovapd(s(6).k3(), s(5))?; // a zero numerator: a y, signed
        self.a.vmovapd(d, s(6))?;
        self.fallback(|asm| asm.vdivpd(d, a, b))
    }

    /// `vmath::trig::atan2_ordinary(y, x)`, after `atan2_needs_full`'s test;
    /// not in float32 lanes (nor float32's `arctan`), whose programs an
    /// AVX-512 CPU leaves to the passes (`jit::avx512_keeps_passes`).
    fn atan2(&mut self, d: Z, y: Z, x: Option<Z>, bail: CodeLabel) -> Result<bool, IcedError> {
        let Some(x) = x.filter(|_| self.lanes == Elem::F64) else {
            return Ok(false);
        };
        let tail = self.tail;
        let abs = self.bits(ABS);
        self.bin(Bin::And, s(0), x, abs)?; // ax
        self.bin(Bin::And, s(1), y, abs)?; // ay
        // Either magnitude outside [2^-500, 2^500] (or NaN, inf, zero).
        let lo = self.bits(ATAN2_ORDINARY_LO);
        let span = self.bits(ATAN2_ORDINARY_SPAN);
        with_src!(self.vpsubq(s(2), s(0); lo))?;
        with_src!(self.vpsubq(s(3), s(1); lo))?;
        if tail {
            with_src!(self.vpcmpuq(k2.k1(), s(2); span; 6))?;
            with_src!(self.vpcmpuq(k3.k1(), s(3); span; 6))?;
        } else {
            with_src!(self.vpcmpuq(k2, s(2); span; 6))?;
            with_src!(self.vpcmpuq(k3, s(3); span; 6))?;
        }
        self.a.kortestb(k2, k3)?;
        self.a.jnz(bail)?;
        // swap = ay > ax; num = min-ish, den = max-ish (as selects)
        self.a.vcmppd(k4, s(1), s(0), 0x1e)?;
        self.a.vblendmpd(s(2).k4(), s(1), s(0))?; // num = swap ? ax : ay
        self.a.vblendmpd(s(3).k4(), s(0), s(1))?; // den = swap ? ay : ax
        // r2 = num > 0.4375 den, r3 = num > 0.6875 den
        let (c2, c3) = (self.k(0.4375), self.k(0.6875));
        self.bin(Bin::Mul, s(0), s(3), c2)?;
        self.a.vcmppd(k2, s(2), s(0), 0x1e)?;
        self.bin(Bin::Mul, s(0), s(3), c3)?;
        self.a.vcmppd(k3, s(2), s(0), 0x1e)?;
        // n = r3 ? num - den : r2 ? fma(2, num, -den) : num, and
        // dd = r3 ? den + num : r2 ? fma(2, den, num) : den, by operations
        // masked to the lanes they are selected in (r3 last: it wins).
        let two = self.k(2.0);
        self.a.vmovapd(s(0), s(2))?;
        with_src!(self.vfmsub132pd(s(0).k2(), s(3); two))?; // n*2 - den
        self.a.vsubpd(s(0).k3(), s(2), s(3))?;
        self.a.vmovapd(s(4), s(3))?;
        with_src!(self.vfmadd132pd(s(4).k2(), s(2); two))?; // dd*2 + num
        self.a.vaddpd(s(4).k3(), s(3), s(2))?;
        // u = n / dd
        self.bin(Bin::Div, s(0), s(0), Src::Reg(s(4)))?;
        // base = r3 ? pi/4 : r2 ? atan(1/2) : 0, as hi and lo parts: the
        // first moves zero the other lanes.
        for (mask, [hi, lo]) in [(2, ATAN_HALF), (3, PIO4)] {
            for (part, c) in [(s(5), hi), (s(6), lo)] {
                let dst = if mask == 2 { part.k2().z() } else { part.k3() };
                match self.k(c) {
                    Src::Reg(z) => self.a.vmovapd(dst, z)?,
                    Src::K(off) => self.a.vbroadcastsd(dst, qword_ptr(rcx + off))?,
                }
            }
        }
        // a = hi + (lo + p), p the arctangent polynomial of u
        self.atan_reduced(s(5), s(6), s(0), s(1), s(2))?;
        // swap: pi/2 - a; x negative (its sign bit): pi - a; each as
        // HI - (a - LO).
        self.a.vpmovq2m(k3, x)?;
        for (mask, [hi, lo]) in [(4, PIO2_HI_LO), (3, PI_HI_LO)] {
            let (hi, lo) = (self.k(hi), self.k(lo));
            self.bin(Bin::Sub, s(7), s(5), lo)?;
            let hi = match hi {
                Src::Reg(z) => z,
                Src::K(_) => {
                    self.load_constant(s(8), hi)?;
                    s(8)
                }
            };
            self.a.vsubpd(under(s(5), mask), hi, s(7))?;
        }
        self.a.vmovapd(d, s(5))?;
        self.copysign(d, y)?;
        Ok(true)
    }

    /// Which vectors of a loop iteration compute `sqrt` and `/` on the
    /// divider and which by Newton's method: the share of Newton vectors that
    /// keeps both the divider and the two vector ports busy, from the cycles a
    /// vector takes on each. With R cycles of other work on the ports, D on
    /// the divider and N for the Newton forms, a share f of Newton vectors
    /// balances R + f N = (1 - f) D. Measured on the project machine at N =
    /// 10k on one thread (`vexpr bench`, ns/elem; H = divider, N = Newton):
    ///
    /// | | HN | HHN | HHHN |
    /// |---|---:|---:|---:|
    /// | `exp(-a*a) * sqrt(b)` (f = 0.28) | 0.80 | 0.74 | 0.72 |
    /// | `sqrt(a)` (f = 0.63) | 0.44 | 0.58 | 0.65 |
    fn divider_pattern(&self) -> Vec<Divider> {
        match self.plan.elem {
            // The Newton forms are float64's.
            Elem::F32 => vec![Divider::Hardware; 2],
            Elem::F64 => divider_pattern(balance(self.program).0),
        }
    }

    /// One vector of the program at byte offset `rax + off`.
    /// Under the mask `k1` if `self.tail` (see [`Kernels::body`]).
    fn body(
        &mut self,
        off: i32,
        _: Place,
        divider: Divider,
        bail: CodeLabel,
    ) -> Result<bool, IcedError> {
        // Scratch registers hold the previous vector's values.
        self.squares = None;
        let tail = self.tail;
        for (j, &reg) in self.plan.inputs.clone().iter().enumerate() {
            if !(self.program.code.iter()).any(|i| super::reads_values(i, reg)) {
                continue;
            }
            let z = self.z(reg as u32);
            self.load_input(j, z, off)?;
        }
        let (program, plan) = (self.program, self.plan);
        for instr in &program.code {
            if !self.instr(plan, instr, divider, bail)? {
                return Ok(false);
            }
        }
        let out = self.z(program.output);
        if self.plan.bool_output {
            // Lane masks (all ones or zeros) to 1 or 0, truncated to a byte
            // each and stored, under `k1` in the tail: 8 bytes (float64
            // lanes) or 16 (float32).
            let t = s(0);
            let masked = |m: AsmMemoryOperand| if tail { m.k1() } else { m };
            match self.plan.elem {
                Elem::F64 => {
                    self.a.vpabsq(t, out)?;
                    self.a.vpmovqb(masked(qword_ptr(rsi + rax + off)), t)?;
                }
                Elem::F32 => {
                    self.a.vpabsd(t, out)?;
                    self.a.vpmovdb(masked(xmmword_ptr(rsi + rax + off)), t)?;
                }
            }
            return Ok(true);
        }
        let scale = self.index_scale(self.plan.elem.bytes());
        let dst = zmmword_ptr(rsi + rax * scale + off * scale);
        if tail && self.plan.elem == Elem::F32 {
            self.a.vmovups(dst.k1(), out)?;
        } else if tail {
            self.a.vmovupd(dst.k1(), out)?;
        } else if self.traffic == Traffic::Streaming {
            self.a.vmovntpd(dst, out)?;
        } else {
            self.a.vmovupd(dst, out)?;
        }
        Ok(true)
    }

    /// The byte offset of the pool entry with these bits (added once).
    fn pool_offset(&mut self, bits: u64) -> i32 {
        self.pool.offset(bits)
    }
}
