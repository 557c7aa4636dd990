//! The math kernels both x86 lowerings inline, written once against
//! [`Kernels`]: in, an emitter (its vector register type, its constants, its
//! scratch registers, and the few steps AVX-512 and AVX2 take with different
//! instructions); out, the kernel's instructions appended to its assembler.
//!
//! Each kernel performs the operations of the `vmath` lane function it names,
//! in the same order and with the same roundings, so that the machine code
//! gives the passes' bits at either level. What differs between the levels
//! is only how a step is reached: a test ends in a mask register or in the
//! all-ones lanes of a comparison, 2^k comes from `vscalefpd` or is built in
//! the exponent field, a select is a masked move or a blend. Those steps are
//! the trait's required methods; the algorithms are its provided ones.

use super::{ABS, Bin, Divider, GPR_INPUTS, INPUT_GPRS, Place, saved_gprs};
use crate::functions::{Compare, FloatTest, JitOp, Logic, POWI_MAX, POWI_MIN, Rounding};
use crate::jit::plan::Elem;
use crate::jit::{Plan, Slot, Traffic};
use crate::kernels::vmath::shared::pow as table_pow;
use crate::kernels::vmath::shared::{
    ATAN_A, ATAN_HALF, ATAN_HALF_32, ATAN2_32_LO, ATAN2_32_SPAN, ATAN2_ORDINARY_LO,
    ATAN2_ORDINARY_SPAN, ATAN32_A, EXP_Q, EXP32_FAST_MAX, EXP32_P, FLOORDIV_F32_LIMIT,
    FLOORDIV_F64_LIMIT, FMOD_MAX_QUOTIENT, INV_LN2, INV_LN2_32_HI, INV_LN2_32_LO, INV_LN10_32,
    INV_PI, INV_PI_32, LN2_32_HI, LN2_32_LO, LN2_HI, LN2_LO, LOG_L, LOG10_2_32_HI, LOG10_2_32_LO,
    LOG32_L, PI_32_HI_LO, PI_HI_LO, PIO2, PIO2_32, PIO2_32_HI_LO, PIO2_HI_LO, PIO4, PIO4_32, SHIFT,
    SHIFT32, SIN_WIDE, SIN32_S, TRIG_FAST_MAX, TRIG32_FAST_MAX,
};
use crate::program::Instr;
use iced_x86::IcedError;
use iced_x86::code_asm::{
    AsmMemoryOperand, CodeAssembler, CodeLabel, eax, qword_ptr, r11, rax, rdi, rdx, rsp,
};

pub(super) type R = Result<(), IcedError>;

/// A source operand: a vector register, or a pool constant by its byte
/// offset in the pool (read as the backend's memory operand: a broadcast at
/// AVX-512, four stored copies at AVX2).
#[derive(Clone, Copy)]
pub(super) enum Src<V> {
    Reg(V),
    K(i32),
}

/// The constants of `atan2_ordinary` in one lanes' type: the range of the
/// operands' magnitudes its fast path takes (their bits less `lo` at most
/// `span`), and the parts (high, low) of atan(1/2), pi/4, pi/2 and pi.
pub(super) struct Atan2Constants {
    pub(super) lo: u64,
    pub(super) span: u64,
    pub(super) atan_half: [f64; 2],
    pub(super) pio4: [f64; 2],
    pub(super) pio2: [f64; 2],
    pub(super) pi: [f64; 2],
}

impl Atan2Constants {
    /// `vmath::trig::atan2_ordinary`'s, or `vmath::trig32`'s in float32 lanes
    /// (each float32 part is exact as a float64, so `lane_k` gives it back).
    pub(super) fn of(elem: Elem) -> Atan2Constants {
        let wide = |parts: [f32; 2]| parts.map(f64::from);
        match elem {
            Elem::F64 => Atan2Constants {
                lo: ATAN2_ORDINARY_LO,
                span: ATAN2_ORDINARY_SPAN,
                atan_half: ATAN_HALF,
                pio4: PIO4,
                pio2: PIO2_HI_LO,
                pi: PI_HI_LO,
            },
            Elem::F32 => Atan2Constants {
                lo: u64::from(ATAN2_32_LO),
                span: u64::from(ATAN2_32_SPAN),
                atan_half: wide(ATAN_HALF_32),
                pio4: wide(PIO4_32),
                pio2: wide(PIO2_32_HI_LO),
                pi: wide(PI_32_HI_LO),
            },
        }
    }
}

/// The operand of `instr`, if any, that is a constant without a register
/// ([`Slot::Pool`]) which the instruction reads as a memory operand, not
/// loaded into a scratch register first: the second operand of `+` and
/// `-`, either factor of a product (the product commutes, bit for bit
/// unless the constant is a NaN, whose payload the first operand's would
/// replace), the addend of the fused forms. Only where it is the
/// instruction's one operand without a register, of a float program.
///
/// Why: a polynomial's literal coefficients are the values spilled first;
/// a load folded into its multiplication is one instruction fewer for
/// each.
pub(super) fn pool_operand(plan: &Plan, instr: &Instr) -> Option<usize> {
    let slot = |r: &u32| plan.slots[*r as usize];
    let spilled = (instr.args.iter().map(slot))
        .filter(|s| !matches!(s, Slot::Vector(_) | Slot::Int(_)))
        .count();
    if spilled != 1 || plan.integer {
        return None;
    }
    let k = instr
        .args
        .iter()
        .position(|r| matches!(slot(r), Slot::Pool(_)))?;
    let Slot::Pool(word) = slot(&instr.args[k]) else {
        unreachable!("found as a pool constant")
    };
    let nan = f64::from_bits(word).is_nan() || f32::from_bits(word as u32).is_nan();
    let position = match instr.overload.jit {
        Some(JitOp::Add | JitOp::Sub) => k == 1,
        Some(JitOp::Mul | JitOp::SubMul) => k < 2,
        Some(JitOp::MulAdd | JitOp::MulSub) => k < 3,
        _ => false,
    };
    (position && !nan).then_some(k)
}

/// The fused multiply-add kinds the kernels use (one rounding each).
#[derive(Clone, Copy)]
pub(super) enum Fma {
    /// `a*b + c`
    Add,
    /// `-(a*b) + c`
    NegAdd,
}

/// The FMA instructions with a register-or-constant last operand `b`, by
/// what they leave in `dst` (the digits are the operand order of their
/// names).
#[derive(Clone, Copy)]
pub(super) enum Fused {
    /// `dst = a*b + dst` (`vfmadd231pd`)
    Add231,
    /// `dst = -(a*b) + dst` (`vfnmadd231pd`)
    NegAdd231,
    /// `dst = a*b - dst` (`vfmsub231pd`)
    Sub231,
    /// `dst = dst*b + a` (`vfmadd132pd`)
    Add132,
    /// `dst = -(dst*b) + a` (`vfnmadd132pd`)
    NegAdd132,
    /// `dst = dst*a + b` (`vfmadd213pd`)
    Add213,
}

/// An emitter of one x86 level, as the shared kernels see it.
pub(super) trait Kernels {
    /// The vector register type (zmm or ymm).
    type V: Copy + PartialEq;

    /// The type of the lanes: which instruction forms (`ps` or `pd`) the
    /// emitter's steps take, and the bit patterns of the sign operations.
    /// Only the operations that are [`JitOp::in_float32`] meet float32.
    fn elem(&self) -> Elem;

    /// log2 of the bytes the loop's index (`rax`) counts per element: the
    /// lanes' own, unless narrower inputs are loaded widened
    /// ([`Plan::index_shift`](crate::jit::Plan::index_shift)); the wider
    /// operands' addresses then scale the index.
    fn index_shift(&self) -> u32 {
        self.elem().shift()
    }

    /// Whether 2^k is built in the exponent field from the bits of
    /// t = fma(x, c, SHIFT) (AVX2), which must then stay apart from
    /// kd = t - SHIFT, rather than by `vscalefpd` from kd (AVX-512).
    const SCALE_IN_BITS: bool;

    /// Whether the backend emits the functions the table names on float32
    /// alone (`JitOp::Log2`, `Log10`, `Log1p`, `Expm1`, `Sinh`, `Cosh`);
    /// AVX-512 CPUs run
    /// float32 math functions by the passes (`jit::avx512_keeps_passes`).
    const FLOAT32_ONLY_FUNCTIONS: bool;

    /// The current instruction's scratch registers, in the order the kernels
    /// number them.
    fn scratch(&self) -> [Self::V; 16];

    /// The assembler the code goes to.
    fn asm(&mut self) -> &mut CodeAssembler;

    /// The vector register of the plan's value `v`.
    fn value(&self, v: usize) -> Self::V;

    /// A register standing for an operand that is not a vector (a `powi`
    /// exponent, never read).
    fn not_vector(&self) -> Self::V;

    /// After a `powi`: its base, and how many of its squares x^2, x^4, ...
    /// are in scratch registers 0, 1, ... (see [`powi`](Kernels::powi)).
    fn squares(&mut self) -> &mut Option<(Self::V, usize)>;

    /// Bytes per vector.
    const VECTOR_BYTES: i32;

    /// The function being emitted: its prefetches and stores
    /// ([`Traffic`]).
    fn set_traffic(&mut self, traffic: Traffic);

    /// How many input pointers the loop reads.
    fn input_count(&self) -> usize;

    /// Bytes of stack the function reserves below the registers it saves,
    /// for values without a register (`Plan::spilled`); a multiple of 32.
    fn frame_bytes(&self) -> i32 {
        0
    }

    /// The 8 bytes of the frame that keep the input pointer array, for the
    /// inputs past [`GPR_INPUTS`]; `None` when every input has a register.
    fn pointer_array(&self) -> Option<AsmMemoryOperand> {
        None
    }

    /// The constants loaded into registers before the loop: the program's
    /// and the most used kernel constants, by their bits.
    fn preloaded(&self) -> Vec<(u64, Self::V)>;

    /// The byte offset of the pool entry with these bits (added once).
    fn pool_offset(&mut self, bits: u64) -> i32;

    /// How each vector of a main loop iteration divides.
    fn divider_pattern(&self) -> Vec<Divider>;

    /// One vector of the program at byte offset `rax + off`, at `place`:
    /// load the inputs, run every instruction, store the output (or keep
    /// it for the next vector to store with its own, where the backend
    /// pairs them). A lane needing a full math function jumps to `bail`
    /// before anything of this vector is stored. `false` when the program
    /// has an instruction it cannot compile.
    fn body(
        &mut self,
        off: i32,
        place: Place,
        divider: Divider,
        bail: CodeLabel,
    ) -> Result<bool, IcedError>;

    /// At the bail of vector `index` of a main loop iteration, before the
    /// index moves past the vectors before it: store what of them is kept
    /// unstored (see [`Kernels::body`]). Nothing by default.
    fn store_kept(&mut self, index: usize) -> R {
        let _ = index;
        Ok(())
    }

    /// The last, partial vector (from its label on), if any elements are
    /// left: its lanes' mask, its body, and `rax` set to the end; then on to
    /// what follows, or to `done` (which also takes a bail of its body).
    fn emit_tail(&mut self, done: CodeLabel) -> R;

    /// `d = sqrt(x)`, on the divider or by Newton's method.
    fn sqrt(&mut self, d: Self::V, x: Self::V, divider: Divider) -> R;

    /// `d = a / b` by Newton's method, exactly checked (the divider for a
    /// vector that fails the check).
    fn div_newton(&mut self, d: Self::V, a: Self::V, b: Self::V) -> R;

    /// `d = x` rounded to an integer by `rounding` (`vroundpd`'s, with the
    /// precision exception suppressed), as the passes' loops compile
    /// `trunc`, `floor`, `ceil` and `round_ties_even` at this level.
    fn round(&mut self, d: Self::V, x: Self::V, rounding: Rounding) -> R;

    /// Sets the lanes of the next instruction's operations ([`Kernels::elem`]):
    /// float32 for a float32 operation of a plan in halves, else the plan's.
    fn set_lanes(&mut self, lanes: Elem);

    /// `d` = the float32 lanes in the low half of `x` widened to float64
    /// ([`Plan::half`](crate::jit::Plan::half)); `false` where the
    /// backend does not emit it.
    fn widen_half(&mut self, d: Self::V, x: Self::V) -> Result<bool, IcedError>;

    /// The lane mask of float32 lanes in the low half of `d` widened in
    /// place to float64 lanes' (each 32-bit lane's bits sign-extended into
    /// 64), so that it meets the plan's other masks; `false` where the
    /// backend does not emit it.
    fn widen_mask(&mut self, d: Self::V) -> Result<bool, IcedError>;

    /// `d` = the float64 lanes' mask `mask` narrowed to float32 lanes in the
    /// low half of `d` (the inverse of [`Kernels::widen_mask`]); `false`
    /// where the backend does not emit it.
    fn narrow_mask(&mut self, d: Self::V, mask: Self::V) -> Result<bool, IcedError>;

    /// `d = x COMPARE y` as a lane mask: all ones where it holds.
    fn compare(&mut self, compare: Compare, d: Self::V, x: Self::V, y: Self::V) -> R;

    /// `d = if x COMPARE y { then } else { other }`, lane by lane, with the
    /// operands `[x, y, then, other]`.
    fn select(&mut self, compare: Compare, d: Self::V, operands: [Self::V; 4]) -> R;

    /// `d = if mask { then } else { other }`, lane by lane, on a boolean's
    /// lane mask (all ones or all zeros).
    fn blend(&mut self, d: Self::V, mask: Self::V, then: Self::V, other: Self::V) -> R;

    /// `vmath::trig::atan2_ordinary(y, x)` (in float32 lanes
    /// `vmath::trig32::atan2_ordinary`, the same steps) into `d`, after
    /// `atan2_needs_full`'s test (jumping to `bail` when a lane needs it);
    /// `false` where the backend does not emit it in the lanes' type. With
    /// no `x`, x = 1 in every lane: float32 `arctan` (`vmath::trig32::atan`),
    /// whose every y the same steps take (inf gives pi/2 through u = 1/inf,
    /// NaN stays NaN), so without the test.
    fn atan2(
        &mut self,
        d: Self::V,
        y: Self::V,
        x: Option<Self::V>,
        bail: CodeLabel,
    ) -> Result<bool, IcedError>;

    /// The constant with these bits (counted as one use): its register, or
    /// its place in the pool.
    fn bits(&mut self, bits: u64) -> Src<Self::V>;

    /// The constant `value`.
    fn k(&mut self, value: f64) -> Src<Self::V> {
        self.bits(value.to_bits())
    }

    /// The constant `value` in the program's lanes: as it is in float64
    /// ones, rounded to float32 in float32 ones.
    fn lane_k(&mut self, value: f64) -> Src<Self::V> {
        let elem = self.elem();
        match elem {
            Elem::F64 => self.k(value),
            Elem::F32 => self.bits(elem.word(u64::from((value as f32).to_bits()))),
        }
    }

    /// The float32 constant `value` in float32 lanes (a float64 lane would
    /// hold it exactly): the float32 kernels' constants.
    fn k32(&mut self, value: f32) -> Src<Self::V> {
        self.lane_k(f64::from(value))
    }

    /// The constant of `round_int_mul` in the lanes' type: `SHIFT` (1.5 *
    /// 2^52), `SHIFT32` (1.5 * 2^23) in float32 lanes.
    fn shift_constant(&mut self) -> Src<Self::V> {
        match self.elem() {
            Elem::F64 => self.k(SHIFT),
            Elem::F32 => self.k32(SHIFT32),
        }
    }

    /// `dst = a OP b`.
    fn bin(&mut self, op: Bin, dst: Self::V, a: Self::V, b: Src<Self::V>) -> R;

    /// `op` of an integer program ([`Plan::integer`]) into `d`, of the
    /// operands `v`: `false` (no machine code) where the level has no
    /// integer lanes, as AVX-512's lowering has not.
    fn integer_op(&mut self, op: JitOp, d: Self::V, v: &[Self::V]) -> Result<bool, IcedError> {
        let _ = (op, d, v);
        Ok(false)
    }

    /// The FMA instruction `form` (see [`Fused`]).
    fn fused(&mut self, form: Fused, dst: Self::V, a: Self::V, b: Src<Self::V>) -> R;

    /// `dst = src`, a register copy or a load of the constant.
    fn load_constant(&mut self, dst: Self::V, c: Src<Self::V>) -> R;

    /// `dst = c`, where a resident constant is loaded again from the pool (a
    /// load takes no vector port, a register copy may).
    fn copy(&mut self, dst: Self::V, c: Self::V) -> R;

    /// `dst = a << imm` in each lane (of 64 or 32 bits, as the lanes').
    fn shift_left(&mut self, dst: Self::V, a: Self::V, imm: i32) -> R;

    /// `dst = a >> imm`, a logical shift, in each lane (as `shift_left`).
    fn shift_right(&mut self, dst: Self::V, a: Self::V, imm: i32) -> R;

    /// `dst = table[index & 15]` in each float64 lane, the table in the
    /// pool: by a gather at AVX2 (`scratch` holds the masked indices and its
    /// mask; `dst` differs from `index` and both), by a permute of the
    /// table's two halves at AVX-512.
    fn look_up(
        &mut self,
        dst: Self::V,
        table: &[f64; 16],
        index: Self::V,
        scratch: [Self::V; 2],
    ) -> R;

    /// Jumps to `bail` if in any active lane the bits of the magnitude `v`
    /// exceed those of `limit` (or `v` is NaN). `mask` is scratch for a level
    /// without mask registers.
    fn bail_above(&mut self, v: Self::V, limit: f64, mask: Self::V, bail: CodeLabel) -> R;

    /// Jumps to `bail` if any active lane of the lane mask `mask` (all ones
    /// or all zeros a lane, as [`compare`](Kernels::compare) makes) is set.
    fn bail_if_set(&mut self, mask: Self::V, bail: CodeLabel) -> R;

    /// Jumps to `label` if no lane of the lane mask `mask` is set, active or
    /// not (to skip work the clear lanes do not need).
    fn jump_if_clear(&mut self, mask: Self::V, label: CodeLabel) -> R;

    /// Jumps to `bail` unless every active lane of `x` is a positive normal
    /// finite number. `mask` is scratch for a level without mask registers.
    fn bail_unless_positive_normal(&mut self, x: Self::V, mask: Self::V, bail: CodeLabel) -> R;

    /// `dst = p * 2^k` from kd (the integer k as a float) or, with
    /// [`SCALE_IN_BITS`](Kernels::SCALE_IN_BITS), from t (whose bits end in
    /// k); exact while 2^k and the product are normal. `t` may be clobbered.
    fn scale(&mut self, dst: Self::V, p: Self::V, kd: Self::V, t: Self::V) -> R;

    /// `dst = 2^k` for k in [0, 58], from kd or t as in
    /// [`scale`](Kernels::scale); `one` is the constant 1.
    fn pow2(&mut self, dst: Self::V, kd: Self::V, t: Self::V, one: Src<Self::V>) -> R;

    /// The exponent of log's reduction, `tmp >> 52` as a signed integer, into
    /// `dst`, possibly offset by a bias that
    /// [`log_exponent_to_f64`](Kernels::log_exponent_to_f64) removes.
    fn log_exponent(&mut self, dst: Self::V, tmp: Self::V) -> R;

    /// The exponent [`log_exponent`](Kernels::log_exponent) made, as a float
    /// in place (exactly, as `small_i64_to_f64` does).
    fn log_exponent_to_f64(&mut self, k: Self::V) -> R;

    /// The end of sin and cos: `d` = the polynomial's result `r` with its
    /// sign flipped by the sign bit in `sign` (and, for cos, flipped once
    /// more); for sin, a tiny `x` (by its magnitude `ax`) gives `x` itself.
    /// `sign`, `r` and `ax` may be clobbered.
    fn sin_cos_sign(&mut self, cos: bool, d: Self::V, x: Self::V, parts: SinCosParts<Self::V>)
    -> R;

    /// `d = copysign(num / den, sign)`; `num` and `t` may be clobbered.
    fn div_copysign(
        &mut self,
        d: Self::V,
        num: Self::V,
        den: Self::V,
        sign: Self::V,
        t: Self::V,
    ) -> R;

    /// The function of each [`Traffic`], in its order (the labels of the
    /// second and third returned); `None` when the program has an
    /// instruction it cannot compile.
    fn emit_all(&mut self) -> Result<Option<[CodeLabel; 2]>, IcedError> {
        if !self.emit_function(Traffic::Cached)? {
            return Ok(None);
        }
        let mut labels = [self.asm().create_label(), self.asm().create_label()];
        for (label, traffic) in labels
            .iter_mut()
            .zip([Traffic::Prefetched, Traffic::Streaming])
        {
            self.asm().set_label(label)?;
            if !self.emit_function(traffic)? {
                return Ok(None);
            }
        }
        Ok(Some(labels))
    }

    /// One whole function, for runs of `traffic`: a group of vectors an
    /// iteration, then whole vectors one at a time, then the last partial
    /// one; `false` when the program has an instruction it cannot compile.
    fn emit_function(&mut self, traffic: Traffic) -> Result<bool, IcedError> {
        self.set_traffic(traffic);
        let inputs = self.input_count();
        for &gpr in saved_gprs(inputs) {
            self.asm().push(gpr)?;
        }
        let frame = self.frame_bytes();
        if frame > 0 {
            self.asm().sub(rsp, frame)?;
        }
        if let Some(slot) = self.pointer_array() {
            self.asm().mov(slot, rdi)?;
        }
        // `rdi` holds the pointer array until its own pointer replaces it.
        let with_gprs = inputs.min(GPR_INPUTS);
        let (array, others): (Vec<_>, Vec<_>) = (0..with_gprs).partition(|&j| INPUT_GPRS[j] == rdi);
        for j in others.into_iter().chain(array) {
            self.asm()
                .mov(INPUT_GPRS[j], qword_ptr(rdi + 8 * j as i32))?;
        }
        for (bits, v) in self.preloaded() {
            let off = self.pool_offset(bits);
            self.load_constant(v, Src::K(off))?;
        }
        let shift = self.index_shift();
        let a = self.asm();
        // Elements to bytes, and back at the end.
        a.shl(rdx, shift)?;
        a.xor(eax, eax)?;
        let mut group = a.create_label();
        let mut single = a.create_label();
        let mut tail = a.create_label();
        let mut done = a.create_label();
        let pattern = self.divider_pattern();
        // bails[i]: the vector i of the group needed a full function.
        let mut bails: Vec<CodeLabel> = pattern.iter().map(|_| self.asm().create_label()).collect();
        // The index's bytes per vector.
        let vector = Self::VECTOR_BYTES >> (self.elem().shift() - shift);

        // A group of vectors an iteration, the loop tested at its bottom
        // (one branch an iteration: light programs spend a good share of
        // their instructions on the loop).
        let group_bytes = vector * pattern.len() as i32;
        let a = self.asm();
        a.lea(r11, qword_ptr(rax + group_bytes))?;
        a.cmp(r11, rdx)?;
        a.ja(single)?;
        a.set_label(&mut group)?;
        let len = pattern.len();
        for (index, (&bail, &divider)) in bails.iter().zip(&pattern).enumerate() {
            let place = Place::InGroup { index, len };
            if !self.body(vector * index as i32, place, divider, bail)? {
                return Ok(false);
            }
        }
        let a = self.asm();
        a.add(rax, group_bytes)?;
        a.lea(r11, qword_ptr(rax + group_bytes))?;
        a.cmp(r11, rdx)?;
        a.jbe(group)?;

        // The whole vectors left, one at a time.
        a.set_label(&mut single)?;
        a.lea(r11, qword_ptr(rax + vector))?;
        a.cmp(r11, rdx)?;
        a.ja(tail)?;
        self.body(0, Place::Alone, Divider::Hardware, done)?;
        let a = self.asm();
        a.add(rax, vector)?;
        a.jmp(single)?;

        a.set_label(&mut tail)?;
        self.emit_tail(done)?;

        for (i, bail) in bails.iter_mut().enumerate() {
            self.asm().set_label(bail)?;
            self.store_kept(i)?;
            let a = self.asm();
            if i > 0 {
                a.add(rax, vector * i as i32)?;
            }
            a.jmp(done)?;
        }
        let a = self.asm();
        a.set_label(&mut done)?;
        a.shr(rax, shift)?;
        if frame > 0 {
            a.add(rsp, frame)?;
        }
        for &gpr in saved_gprs(inputs).iter().rev() {
            a.pop(gpr)?;
        }
        a.vzeroupper()?;
        a.ret()?;
        Ok(true)
    }

    /// One instruction of the program on the current vector, into the
    /// registers of `plan`; `false` when it has no machine code here (a
    /// function without a [`JitOp`], a `powi` exponent out of range). A lane
    /// needing a full math function jumps to `bail`.
    fn instr(
        &mut self,
        plan: &Plan,
        instr: &Instr,
        divider: Divider,
        bail: CodeLabel,
    ) -> Result<bool, IcedError> {
        self.set_lanes(plan.lanes(instr));
        let emitted = self.instr_in_lanes(plan, instr, divider, bail);
        self.set_lanes(plan.elem);
        emitted
    }

    /// [`Kernels::instr`] in the lanes set for it.
    fn instr_in_lanes(
        &mut self,
        plan: &Plan,
        instr: &Instr,
        divider: Divider,
        bail: CodeLabel,
    ) -> Result<bool, IcedError> {
        let Some(op) = instr.overload.jit else {
            return Ok(false);
        };
        let elem = self.elem();
        debug_assert!(
            plan.integer || elem == Elem::F64 || op.in_float32(),
            "{op:?} on float32"
        );
        let (sign_bits, abs_bits) = (elem.sign(), elem.abs());
        if op != JitOp::Powi {
            *self.squares() = None;
        }
        let s0 = self.scratch()[0];
        let registers: Vec<Self::V> = (instr.args.iter())
            .map(|&r| match plan.slots[r as usize] {
                Slot::Vector(v) => self.value(v as usize),
                _ => self.not_vector(),
            })
            .collect();
        let vector = |k: usize| registers[k];
        let Slot::Vector(d) = plan.slots[instr.dst as usize] else {
            // `Plan::new` made every destination a vector.
            unreachable!("not a vector destination")
        };
        let d = self.value(d as usize);
        // Integer programs' own operations; their logic is the bitwise
        // logic of lane masks, below.
        if plan.integer && !matches!(op, JitOp::Logic(_)) {
            return self.integer_op(op, d, &registers);
        }
        let x = vector(0);
        let y = registers.get(1).copied().unwrap_or(x);
        // Operand k as a source: its register, or the constant it reads
        // from the pool (`pool_operand`).
        let folded = pool_operand(plan, instr).map(|k| match plan.slots[instr.args[k] as usize] {
            Slot::Pool(word) => (k, self.bits(word)),
            _ => unreachable!("a pool constant"),
        });
        let src = |k: usize| match folded {
            Some((j, constant)) if j == k => constant,
            _ => Src::Reg(registers[k]),
        };
        // The two factors of a product, a register first.
        let factors = || match folded {
            Some((0, constant)) => (y, constant),
            _ => (x, src(1)),
        };
        // Float32 lanes divide on the divider (Newton's steps are float64's).
        let divider = match elem {
            Elem::F32 => Divider::Hardware,
            Elem::F64 => divider,
        };
        match op {
            JitOp::Add => self.bin(Bin::Add, d, x, src(1))?,
            JitOp::Sub => self.bin(Bin::Sub, d, x, src(1))?,
            JitOp::Mul => {
                let (x, y) = factors();
                self.bin(Bin::Mul, d, x, y)?;
            }
            JitOp::Neg => {
                let sign = self.bits(sign_bits);
                self.bin(Bin::Xor, d, x, sign)?;
            }
            JitOp::Abs => {
                let abs = self.bits(abs_bits);
                self.bin(Bin::And, d, x, abs)?;
            }
            JitOp::NegMul => {
                // The kernel's two operations, not one FMA: `-(x*y) + (-0)`
                // has the right value and zero signs, but an FMA passes a NaN
                // operand through unchanged, where `-x` flips its sign.
                let sign = self.bits(sign_bits);
                self.bin(Bin::Xor, d, x, sign)?;
                self.bin(Bin::Mul, d, d, Src::Reg(y))?;
            }
            JitOp::AbsAdd | JitOp::AbsSub | JitOp::AbsMul => {
                let inner = match op {
                    JitOp::AbsAdd => Bin::Add,
                    JitOp::AbsSub => Bin::Sub,
                    _ => Bin::Mul,
                };
                self.bin(inner, d, x, Src::Reg(y))?;
                let abs = self.bits(abs_bits);
                self.bin(Bin::And, d, d, abs)?;
            }
            JitOp::AddAbs => {
                let abs = self.bits(abs_bits);
                self.bin(Bin::And, d, x, abs)?;
                self.bin(Bin::And, s0, y, abs)?;
                self.bin(Bin::Add, d, d, Src::Reg(s0))?;
            }
            JitOp::MulAdd | JitOp::MulSub | JitOp::SubMul => {
                let (x, y) = factors();
                self.bin(Bin::Mul, d, x, y)?;
                match op {
                    JitOp::MulAdd => self.bin(Bin::Add, d, d, src(2))?,
                    JitOp::MulSub => self.bin(Bin::Sub, d, d, src(2))?,
                    _ => self.bin(Bin::Sub, d, vector(2), Src::Reg(d))?,
                }
            }
            JitOp::MulAddMul | JitOp::MulSubMul => {
                let (z, w) = (vector(2), vector(3));
                self.bin(Bin::Mul, d, x, Src::Reg(y))?;
                self.bin(Bin::Mul, s0, z, Src::Reg(w))?;
                let combine = if op == JitOp::MulAddMul {
                    Bin::Add
                } else {
                    Bin::Sub
                };
                self.bin(combine, d, d, Src::Reg(s0))?;
            }
            JitOp::Powi => {
                let Slot::Int(n) = plan.slots[instr.args[1] as usize] else {
                    return Ok(false);
                };
                if !(i64::from(POWI_MIN)..=i64::from(POWI_MAX)).contains(&n) {
                    return Ok(false);
                }
                self.powi(d, x, n as u32)?;
            }
            // Correctly rounded either way, as the passes' `/`.
            JitOp::Div => match divider {
                Divider::Hardware => self.bin(Bin::Div, d, x, Src::Reg(y))?,
                Divider::Newton => self.div_newton(d, x, y)?,
            },
            JitOp::Sqrt => self.sqrt(d, x, divider)?,
            JitOp::FloorDiv => self.floordiv(d, x, y, bail)?,
            JitOp::Mod => self.modulo(d, x, y, bail)?,
            JitOp::Fmod => self.fmod(d, x, y, bail)?,
            JitOp::Pow if elem == Elem::F64 => self.pow(d, x, y, bail)?,
            JitOp::Pow => return Ok(false),
            JitOp::Where(compare) => {
                self.select(compare, d, [x, y, vector(2), vector(3)])?;
            }
            // In halves: the mask narrowed into `d`, which no operand is.
            JitOp::Select if elem != plan.elem => {
                if !self.narrow_mask(d, x)? {
                    return Ok(false);
                }
                self.blend(d, d, y, vector(2))?;
            }
            JitOp::Select => self.blend(d, x, y, vector(2))?,
            JitOp::Exp => self.exp(d, x, bail)?,
            JitOp::Sin => self.sin_cos(false, d, x, bail)?,
            JitOp::Cos => self.sin_cos(true, d, x, bail)?,
            JitOp::Tanh => self.tanh(d, x)?,
            JitOp::Atan2 | JitOp::Atan => {
                let x_operand = (op == JitOp::Atan2).then_some(y);
                if !self.atan2(d, x, x_operand, bail)? {
                    return Ok(false);
                }
            }
            JitOp::Log => self.log(d, x, bail)?,
            JitOp::Log2
            | JitOp::Log10
            | JitOp::Log1p
            | JitOp::Expm1
            | JitOp::Sinh
            | JitOp::Cosh
                if !Self::FLOAT32_ONLY_FUNCTIONS || elem != Elem::F32 =>
            {
                return Ok(false);
            }
            JitOp::Log2 => self.log2_32(d, x, bail)?,
            JitOp::Log10 => self.log10_32(d, x, bail)?,
            JitOp::Log1p => self.log1p32(d, x, bail)?,
            JitOp::Expm1 => self.expm1_32(d, x, bail)?,
            JitOp::Sinh => self.sinh32(d, x, bail)?,
            JitOp::Cosh => self.cosh32(d, x, bail)?,
            // The input was widened as it was loaded.
            JitOp::Widen if plan.half[instr.args[0] as usize] => return self.widen_half(d, x),
            JitOp::Widen if d != x => self.load_constant(d, Src::Reg(x))?,
            JitOp::Widen => {}
            JitOp::Maximum | JitOp::Minimum => {
                // `x` where `x OP y`, else `y`; then `x` where it is NaN
                // (`x != x`), as `kernels::arith::maximum_f64`.
                let compare = match op {
                    JitOp::Maximum => Compare::Gt,
                    _ => Compare::Lt,
                };
                let t = self.scratch()[1];
                self.select(compare, t, [x, y, x, y])?;
                self.select(Compare::Ne, d, [x, x, x, t])?;
            }
            JitOp::Copysign => {
                // The sign bit and the rest are disjoint: `^` is `|`.
                let (sign, abs) = (self.bits(sign_bits), self.bits(abs_bits));
                self.bin(Bin::And, s0, y, sign)?;
                self.bin(Bin::And, d, x, abs)?;
                self.bin(Bin::Xor, d, d, Src::Reg(s0))?;
            }
            JitOp::Sign => {
                // `kernels::arith::sign_f64`'s values: 1 with x's sign, then
                // +0 where x == 0 (either zero), then x where it is NaN.
                let s = self.scratch();
                let (t, zero) = (s[1], s[2]);
                let (sign, one) = (self.bits(sign_bits), self.k(1.0));
                self.bin(Bin::And, t, x, sign)?;
                // The sign bit and one's bits are disjoint: `^` is `|`.
                self.bin(Bin::Xor, t, t, one)?;
                let nought = self.k(0.0);
                self.load_constant(zero, nought)?;
                self.select(Compare::Eq, t, [x, zero, zero, t])?;
                self.select(Compare::Ne, d, [x, x, x, t])?;
            }
            JitOp::Round(rounding) => self.round(d, x, rounding)?,
            JitOp::OnesLike => {
                let one = self.lane_k(1.0);
                self.load_constant(d, one)?;
            }
            JitOp::Compare(compare) => self.compare(compare, d, x, y)?,
            JitOp::Test(test) => self.float_test(test, d, x)?,
            // Integer programs' alone (`integer_op`).
            JitOp::ShiftLeft | JitOp::ShiftRight => return Ok(false),
            JitOp::Logic(logic) => {
                // Lane masks of all ones or zeros (or integers' bits):
                // `& ~` from `&` and `^`, x & ~y = x ^ (x & y).
                let ones = self.bits(u64::MAX);
                match logic {
                    Logic::And => self.bin(Bin::And, d, x, Src::Reg(y))?,
                    Logic::Or => self.bin(Bin::Or, d, x, Src::Reg(y))?,
                    Logic::Xor => self.bin(Bin::Xor, d, x, Src::Reg(y))?,
                    Logic::Not => self.bin(Bin::Xor, d, x, ones)?,
                    Logic::AndNot => {
                        self.bin(Bin::And, s0, x, Src::Reg(y))?;
                        self.bin(Bin::Xor, d, x, Src::Reg(s0))?;
                    }
                    Logic::OrNot => {
                        self.bin(Bin::Xor, s0, y, ones)?;
                        self.bin(Bin::Or, d, x, Src::Reg(s0))?;
                    }
                }
            }
        }
        // A comparison in halves: its mask of the float64 lanes' width.
        if matches!(op, JitOp::Compare(_) | JitOp::Test(_)) && elem != plan.elem {
            return self.widen_mask(d);
        }
        Ok(true)
    }

    /// `d` = the lane mask of `test` on `x`, by comparisons of its bits
    /// made floats: the magnitude (`x` without its sign bit) against
    /// infinity for `isfinite` (ordered, so NaN fails) and `isinf`, `x != x`
    /// for `isnan`, and for `signbit` the sign bit on 1.0 (exact: the
    /// bits of 1.0 have no sign) against zero, so a NaN or a zero with the
    /// sign bit set tests true as the passes' `is_sign_negative` does.
    fn float_test(&mut self, test: FloatTest, d: Self::V, x: Self::V) -> R {
        let s = self.scratch();
        let (t, k) = (s[0], s[1]);
        let elem = self.elem();
        match test {
            FloatTest::Nan => return self.compare(Compare::Ne, d, x, x),
            FloatTest::Finite | FloatTest::Inf => {
                let abs = self.bits(elem.abs());
                self.bin(Bin::And, t, x, abs)?;
                let infinity = self.lane_k(f64::INFINITY);
                self.load_constant(k, infinity)?;
            }
            FloatTest::SignBit => {
                let sign = self.bits(elem.sign());
                self.bin(Bin::And, t, x, sign)?;
                let one = self.lane_k(1.0);
                self.bin(Bin::Xor, t, t, one)?;
                let zero = self.lane_k(0.0);
                self.load_constant(k, zero)?;
            }
        }
        let compare = match test {
            FloatTest::Finite | FloatTest::SignBit => Compare::Lt,
            _ => Compare::Eq,
        };
        self.compare(compare, d, t, k)
    }

    /// `kernels::arith::powi_chain`: the partial product times the running
    /// square, `r * p`, then `p * p`.
    ///
    /// The square x^(2^(i+1)) goes to scratch register i, and stays known
    /// for the next instruction if that is a `powi` of the same `x` (as in
    /// `a**3` next to `a**5`), which then starts from it.
    fn powi(&mut self, d: Self::V, x: Self::V, n: u32) -> R {
        let scratch = self.scratch();
        let s = |i: usize| scratch[i];
        let mut power = x;
        // The partial product's register: no copy for the first factor.
        let mut result: Option<Self::V> = None;
        let known = match *self.squares() {
            Some((base, known)) if base == x => known,
            _ => 0,
        };
        for bit in 0..5 {
            if n & (1 << bit) != 0 {
                result = Some(match result {
                    None => power,
                    Some(r) => {
                        self.bin(Bin::Mul, d, r, Src::Reg(power))?;
                        d
                    }
                });
            }
            if bit < 4 && n >> (bit + 1) != 0 {
                if bit >= known {
                    self.bin(Bin::Mul, s(bit), power, Src::Reg(power))?;
                }
                power = s(bit);
            }
        }
        let squared = (0..4).take_while(|&b| n >> (b + 1) != 0).count();
        *self.squares() = Some((x, known.max(squared)));
        match result {
            // A power of two: the last square.
            Some(r) if r != d => self.load_constant(d, Src::Reg(r)),
            _ => Ok(()),
        }
    }

    /// `dst = ±(a*b) + c` with one rounding. `dst` must differ from `a` and
    /// `b` unless `c` is a register.
    fn fma(&mut self, kind: Fma, dst: Self::V, a: Self::V, b: Src<Self::V>, c: Src<Self::V>) -> R {
        // The product commutes: put a `dst` operand first.
        let (a, b) = match b {
            Src::Reg(b_reg) if b_reg == dst && a != dst => (b_reg, Src::Reg(a)),
            _ => (a, b),
        };
        // 231: dst = ±(a*b) + dst.
        let f231 = match kind {
            Fma::Add => Fused::Add231,
            Fma::NegAdd => Fused::NegAdd231,
        };
        match c {
            Src::K(_) => {
                debug_assert!(dst != a && !matches!(b, Src::Reg(b) if b == dst));
                self.load_constant(dst, c)?;
                self.fused(f231, dst, a, b)
            }
            Src::Reg(c) if c == dst => self.fused(f231, dst, a, b),
            // 132: dst = ±(dst*b) + c.
            Src::Reg(c) if a == dst => match kind {
                Fma::Add => self.fused(Fused::Add132, dst, c, b),
                Fma::NegAdd => self.fused(Fused::NegAdd132, dst, c, b),
            },
            Src::Reg(c) => {
                self.copy(dst, c)?;
                self.fused(f231, dst, a, b)
            }
        }
    }

    /// `vmath::arith::horner` (`arith32::horner32` in float32 lanes, of
    /// coefficients that are float32 values): acc = c[N-1], then
    /// acc = fma(acc, x, c[i]) down to c[0], into `dst` (not `x`).
    fn horner(&mut self, dst: Self::V, x: Self::V, c: &[f64]) -> R {
        let n = c.len();
        let (top, next) = (self.lane_k(c[n - 1]), self.lane_k(c[n - 2]));
        self.fma(Fma::Add, dst, x, top, next)?;
        for &ci in c[..n - 2].iter().rev() {
            let k = self.lane_k(ci);
            self.fused(Fused::Add213, dst, x, k)?;
        }
        Ok(())
    }

    /// `vmath::remainder::floordiv_ordinary(a, b)` into `d` (neither `a` nor
    /// `b`), after `floordiv_needs_full`'s test, in the program's lanes: a
    /// lane whose quotient is NaN or at least the limit, or whose `b` is
    /// infinite or NaN, jumps to `bail`. Float32 lanes divide in float32,
    /// where the passes widen to float64: below the float32 limit (2^22)
    /// `floor(fl(a / b))` is the floor of the exact quotient or one more in
    /// either type (the integers to 2^24 are float32s, and rounding is
    /// monotonic), and the fused `a - f b` is rounded once, keeping the sign
    /// of the exact value (a nonzero multiple of the smallest subnormal
    /// never rounds to zero), so the corrections and the bits are the same.
    fn floordiv(&mut self, d: Self::V, a: Self::V, b: Self::V, bail: CodeLabel) -> R {
        let s = self.scratch();
        let (q, t, mask) = (s[0], s[1], s[2]);
        let limit = match self.elem() {
            Elem::F64 => FLOORDIV_F64_LIMIT,
            Elem::F32 => FLOORDIV_F32_LIMIT,
        };
        self.quotient_below(q, a, b, limit, [t, mask], bail)?;
        // f = floor(q); r = a - f b (fused).
        self.round(d, q, Rounding::Floor)?;
        self.fma(Fma::NegAdd, t, d, Src::Reg(b), Src::Reg(a))?;
        // Overshot: r != 0 with the sign opposite b's: f - 1 there.
        self.signs_differ(mask, t, b, [q, t])?;
        let one = self.lane_k(1.0);
        self.bin(Bin::Sub, t, d, one)?;
        self.blend(d, mask, t, d)
    }

    /// `q = a / b`, jumping to `bail` if a lane's `|q|` is NaN or at least
    /// `limit` (a float32 in float32 lanes), or its `b` infinite or NaN (a
    /// zero `b` makes an infinite or NaN quotient): `remainder.rs`'s tests
    /// of the lanes its one-division forms do not cover. `t` and `mask` are
    /// scratch.
    fn quotient_below(
        &mut self,
        q: Self::V,
        a: Self::V,
        b: Self::V,
        limit: f64,
        [t, mask]: [Self::V; 2],
        bail: CodeLabel,
    ) -> R {
        let elem = self.elem();
        // The largest lane values below the limit and at most the largest
        // finite: the bits of a magnitude above them fail.
        let (below_limit, max) = match elem {
            Elem::F64 => (f64::from_bits(limit.to_bits() - 1), f64::MAX),
            Elem::F32 => {
                let limit = limit as f32;
                (
                    f64::from(f32::from_bits(limit.to_bits() - 1)),
                    f64::from(f32::MAX),
                )
            }
        };
        self.bin(Bin::Div, q, a, Src::Reg(b))?;
        let abs = self.bits(elem.abs());
        self.bin(Bin::And, t, q, abs)?;
        self.bail_above(t, below_limit, mask, bail)?;
        self.bin(Bin::And, t, b, abs)?;
        self.bail_above(t, max, mask, bail)
    }

    /// The sign bit of `mask` set in the lanes where `r` is not zero and its
    /// sign is not `other`'s (`r` is not NaN): where a one-division form
    /// overshot. `zero` and `xor` are scratch, and `xor` may be `r`.
    fn signs_differ(
        &mut self,
        mask: Self::V,
        r: Self::V,
        other: Self::V,
        [zero, xor]: [Self::V; 2],
    ) -> R {
        let nought = self.lane_k(0.0);
        self.load_constant(zero, nought)?;
        self.compare(Compare::Ne, mask, r, zero)?;
        self.bin(Bin::Xor, xor, r, Src::Reg(other))?;
        self.bin(Bin::And, mask, mask, Src::Reg(xor))
    }

    /// C's `fmod(a, b)` into `d` (neither `a` nor `b`):
    /// `vmath::remainder::fmod_ordinary(a, b)` after `fmod_needs_full`'s
    /// test, in the program's lanes (float32 ones as `fmod_ordinary32`:
    /// see [`Kernels::modulo`]). The remainder is exact, so these are the
    /// passes' bits, zeros' signs included.
    fn fmod(&mut self, d: Self::V, a: Self::V, b: Self::V, bail: CodeLabel) -> R {
        let [remainder, sign_of_a, _] = self.remainder_before_sign(d, a, b, bail)?;
        self.copysign_of_sign(d, remainder, sign_of_a)
    }

    /// Python's `a % b` into `d` (neither `a` nor `b`):
    /// `vmath::remainder::fmod_ordinary(a, b)` after `fmod_needs_full`'s
    /// test, then `arith::mod_f64_from_fmod` (`b` is not zero here), in the
    /// program's lanes. Float32 lanes divide in float32, where the passes
    /// widen to float64, below a quotient of 2^23 instead of 2^52: then
    /// `trunc(fl(a / b))` is the integer quotient n or n + 1, both float32s,
    /// and `a - q b` is the exact `fmod` (or that less `b`) in either type,
    /// so the remainder, and what is made of it in float32, is the same.
    fn modulo(&mut self, d: Self::V, a: Self::V, b: Self::V, bail: CodeLabel) -> R {
        let [t, q, mask] = self.remainder_before_sign(d, a, b, bail)?;
        // m = fmod(a, b).
        self.copysign_of_sign(t, t, q)?;
        // From fmod to Python's modulo: m + b where the signs differ, and a
        // zero with b's sign.
        let sign = self.bits(self.elem().sign());
        self.bin(Bin::Xor, q, t, Src::Reg(b))?;
        self.bin(Bin::Add, d, t, Src::Reg(b))?;
        self.blend(d, q, d, t)?;
        let zero = self.lane_k(0.0);
        self.load_constant(q, zero)?;
        self.compare(Compare::Eq, mask, t, q)?;
        self.bin(Bin::And, q, b, sign)?;
        self.blend(d, mask, q, d)
    }

    /// `fmod`'s steps before its sign, shared by [`Kernels::fmod`] and
    /// [`Kernels::modulo`]: returns the scratch registers holding the
    /// remainder `a - trunc(a / b) b`, corrected for an overshoot (its
    /// magnitude is fmod's), and `a`'s sign bit, and a third scratch
    /// register free for the caller. `d` is scratch.
    fn remainder_before_sign(
        &mut self,
        d: Self::V,
        a: Self::V,
        b: Self::V,
        bail: CodeLabel,
    ) -> Result<[Self::V; 3], IcedError> {
        let s = self.scratch();
        let (q, t, mask) = (s[0], s[1], s[2]);
        let elem = self.elem();
        let limit = match elem {
            Elem::F64 => FMOD_MAX_QUOTIENT,
            Elem::F32 => 8388608.0, // 2^23
        };
        self.quotient_below(q, a, b, limit, [t, mask], bail)?;
        let (sign, abs) = (self.bits(elem.sign()), self.bits(elem.abs()));
        // r = a - trunc(q) b, fused: exact.
        self.round(q, q, Rounding::Trunc)?;
        self.fma(Fma::NegAdd, t, q, Src::Reg(b), Src::Reg(a))?;
        // Overshot (one b too many): r != 0 with the sign opposite a's; then
        // r + copysign(b, a).
        self.signs_differ(mask, t, a, [q, d])?;
        self.bin(Bin::And, d, b, abs)?;
        self.bin(Bin::And, q, a, sign)?;
        self.bin(Bin::Xor, d, d, Src::Reg(q))?;
        self.bin(Bin::Add, d, t, Src::Reg(d))?;
        self.blend(t, mask, d, t)?;
        Ok([t, q, mask])
    }

    /// `d = copysign(r, x)`, given `sign_bit` = `x`'s sign bit alone.
    fn copysign_of_sign(&mut self, d: Self::V, r: Self::V, sign_bit: Self::V) -> R {
        let abs = self.bits(self.elem().abs());
        self.bin(Bin::And, d, r, abs)?;
        self.bin(Bin::Xor, d, d, Src::Reg(sign_bit))
    }

    /// Float64 `x ** y` into `d`: `vmath::pow`'s vector kernels (the table
    /// route, `pow.rs` `avx2::pow_lanes`) step for step after a test at
    /// least as strict as `pow_needs_full`'s, so the bits of the passes at
    /// AVX2 and AVX-512: ln |x| as two doubles from a 16-interval table,
    /// the product with y to about 2^-64, e^p by a 16-entry table, and a
    /// negative base's sign (an odd integer y) or NaN (a fractional one).
    /// Takes scratch 0-7.
    fn pow(&mut self, d: Self::V, x: Self::V, y: Self::V, bail: CodeLabel) -> R {
        let scratch = self.scratch();
        let s = |i: usize| scratch[i];
        let abs = self.bits(ABS);
        // `pow_needs_full`, in part: |x| not normal (NaN too).
        self.bin(Bin::And, s(0), x, abs)?;
        self.bail_unless_positive_normal(s(0), s(1), bail)?;
        // ln |x| = hi + lo (`ln_two_doubles`): |x| = 2^k m, m in the
        // interval i; z = m / c_i - 1 with its rounding error z_lo.
        let off = self.bits(table_pow::OFF_BITS);
        self.bin(Bin::SubInt, s(1), s(0), off)?;
        self.shift_right(s(2), s(1), 48)?;
        self.log_exponent(s(3), s(1))?;
        self.log_exponent_to_f64(s(3))?;
        let exp_field = self.bits(0xfff << 52);
        self.bin(Bin::And, s(1), s(1), exp_field)?;
        self.bin(Bin::SubInt, s(1), s(0), Src::Reg(s(1)))?;
        // The rest of `pow_needs_full`, |y| (|e| + 1) above the bound (y
        // NaN too), as |y| (|k| + 2): m is in [0.69, 1.4), so x's exponent
        // e is k or k - 1 and |e| + 1 <= |k| + 2, and rounding is monotonic:
        // every lane this keeps, the passes' test keeps (a lane at most
        // |y| above the bound leaves for the passes, which give it the same
        // bits), without e's own shift and conversion.
        self.bin(Bin::And, s(4), s(3), abs)?;
        let two = self.k(2.0);
        self.bin(Bin::Add, s(4), s(4), two)?;
        self.bin(Bin::And, s(5), y, abs)?;
        self.bin(Bin::Mul, s(4), s(5), Src::Reg(s(4)))?;
        self.bail_above(s(4), table_pow::PRODUCT_BOUND, s(5), bail)?;
        let one = self.k(1.0);
        self.look_up(s(0), &table_pow::INV_C, s(2), [s(4), s(5)])?;
        self.bin(Bin::Mul, s(4), s(1), Src::Reg(s(0)))?;
        self.copy(s(5), s(4))?;
        self.fused(Fused::Sub231, s(5), s(1), Src::Reg(s(0)))?;
        self.bin(Bin::Sub, s(4), s(4), one)?;
        // w + w_lo = k ln2 + ln(1/c_i), each half fused.
        self.look_up(s(0), &table_pow::LN_C_HI, s(2), [s(1), s(6)])?;
        let ln2_hi = self.k(LN2_HI);
        self.fused(Fused::Add231, s(0), s(3), ln2_hi)?;
        self.look_up(s(1), &table_pow::LN_C_LO, s(2), [s(6), s(7)])?;
        let ln2_lo = self.k(LN2_LO);
        self.fused(Fused::Add231, s(1), s(3), ln2_lo)?;
        // Live: w 0, w_lo 1, z 4, z_lo 5. dz = z_lo (z^2 + (1 - z)).
        self.load_constant(s(2), one)?;
        self.bin(Bin::Sub, s(2), s(2), Src::Reg(s(4)))?;
        self.fused(Fused::Add231, s(2), s(4), Src::Reg(s(4)))?;
        self.bin(Bin::Mul, s(5), s(5), Src::Reg(s(2)))?;
        // cubic + w_lo, cubic = (z^2 z) R(z).
        self.estrin(s(2), s(4), &table_pow::LN1P_R, [s(3), s(6), s(7)])?;
        self.bin(Bin::Mul, s(3), s(4), Src::Reg(s(4)))?;
        self.bin(Bin::Mul, s(6), s(3), Src::Reg(s(4)))?;
        self.bin(Bin::Mul, s(2), s(6), Src::Reg(s(2)))?;
        self.bin(Bin::Add, s(2), s(2), Src::Reg(s(1)))?;
        // Live: w 0, zz 3, z 4, dz 5, cubic + w_lo 2. zz_lo = z z - zz.
        self.copy(s(1), s(3))?;
        self.fused(Fused::Sub231, s(1), s(4), Src::Reg(s(4)))?;
        // s1 = w + z, e1 (into w's register).
        self.sum_and_error(s(6), s(0), s(4))?;
        // h = -zz/2, hi = s1 + h, e2 (into s1's register).
        let minus_half = self.k(-0.5);
        self.bin(Bin::Mul, s(3), s(3), minus_half)?;
        self.sum_and_error(s(4), s(6), s(3))?;
        // lo = ((-zz_lo/2 + (e1 + e2)) + dz) + (cubic + w_lo).
        self.bin(Bin::Add, s(0), s(0), Src::Reg(s(6)))?;
        let minus_half = self.k(-0.5);
        self.fused(Fused::Add231, s(0), s(1), minus_half)?;
        self.bin(Bin::Add, s(0), s(0), Src::Reg(s(5)))?;
        self.bin(Bin::Add, s(0), s(0), Src::Reg(s(2)))?;
        // p + p_lo = y (hi + lo): p = y hi, p_lo = y lo + (y hi - p).
        self.bin(Bin::Mul, s(1), y, Src::Reg(s(4)))?;
        self.copy(s(2), s(1))?;
        self.fused(Fused::Sub231, s(2), y, Src::Reg(s(4)))?;
        self.fused(Fused::Add231, s(2), y, Src::Reg(s(0)))?;
        // e^(p + p_lo) (`exp_sum`): p = (n + r) ln2 / 16, the pattern of
        // the rounding sum holding n.
        let (inv, shift) = (self.k(16.0 * INV_LN2), self.k(SHIFT));
        self.fma(Fma::Add, s(0), s(1), inv, shift)?;
        self.bin(Bin::Sub, s(3), s(0), shift)?;
        let l16 = self.k(table_pow::L16[0]);
        self.fused(Fused::NegAdd231, s(1), s(3), l16)?;
        let l16 = self.k(table_pow::L16[1]);
        self.fused(Fused::NegAdd231, s(2), s(3), l16)?;
        self.bin(Bin::Add, s(3), s(1), Src::Reg(s(2)))?;
        self.estrin(s(4), s(3), &table_pow::EXP_Q, [s(5), s(6), s(7)])?;
        self.bin(Bin::Mul, s(3), s(3), Src::Reg(s(3)))?;
        self.fused(Fused::Add231, s(2), s(3), Src::Reg(s(4)))?;
        self.bin(Bin::Add, s(1), s(1), Src::Reg(s(2)))?;
        // T_hi + (T_hi e_r + T_lo), then 2^(n >> 4) into the exponent.
        self.look_up(s(3), &table_pow::EXP_T_HI, s(0), [s(4), s(5)])?;
        self.look_up(s(2), &table_pow::EXP_T_LO, s(0), [s(4), s(5)])?;
        self.fused(Fused::Add231, s(2), s(3), Src::Reg(s(1)))?;
        self.bin(Bin::Add, s(2), s(3), Src::Reg(s(2)))?;
        self.shift_right(s(0), s(0), 4)?;
        self.shift_left(s(0), s(0), 52)?;
        self.bin(Bin::AddInt, s(2), s(2), Src::Reg(s(0)))?;
        // A negative base (skipped where there is none, as the passes'
        // kernel skips it): the sign of y's parity (|y| < 1000 here, so y +
        // SHIFT rounds it to an integer whose parity is the pattern's last
        // bit), NaN where y is not an integer.
        let zero = self.k(0.0);
        self.load_constant(s(3), zero)?;
        self.compare(Compare::Lt, s(0), x, s(3))?;
        let mut positive = self.asm().create_label();
        self.jump_if_clear(s(0), positive)?;
        self.bin(Bin::Add, s(1), y, shift)?;
        self.bin(Bin::Sub, s(3), s(1), shift)?;
        self.compare(Compare::Ne, s(3), s(3), y)?;
        self.shift_left(s(1), s(1), 63)?;
        self.bin(Bin::And, s(1), s(1), Src::Reg(x))?;
        self.bin(Bin::Xor, s(2), s(2), Src::Reg(s(1)))?;
        self.bin(Bin::And, s(0), s(0), Src::Reg(s(3)))?;
        let nan = self.k(f64::NAN);
        self.load_constant(s(1), nan)?;
        self.blend(s(2), s(0), s(1), s(2))?;
        self.asm().set_label(&mut positive)?;
        self.load_constant(d, Src::Reg(s(2)))
    }

    /// `sum = a + b`, and `a` = `(a - sum) + b`, the error of the sum when
    /// |a| >= |b| (`ln_two_doubles`' steps).
    fn sum_and_error(&mut self, sum: Self::V, a: Self::V, b: Self::V) -> R {
        self.bin(Bin::Add, sum, a, Src::Reg(b))?;
        self.bin(Bin::Sub, a, a, Src::Reg(sum))?;
        self.bin(Bin::Add, a, a, Src::Reg(b))
    }

    /// `vmath::arith::estrin(x, c)` into `dst` (not `x`): c[0] + c[1] x +
    /// ... by Estrin's scheme, the same operations (each pair of terms
    /// joined by the power of x of its level, an odd term carried up), in
    /// the order of a walk from the low terms up, which needs one
    /// register per level: `free[0]` for x's powers x^2, x^4, ... (squared
    /// in place as the walk climbs), the rest for the high halves.
    fn estrin(&mut self, dst: Self::V, x: Self::V, c: &[f64], free: [Self::V; 3]) -> R {
        let [power, rest @ ..] = free;
        // `power` holds x^(2^level) once a level above 0 is reached.
        let mut level = 0;
        self.estrin_part(dst, x, c, power, &mut level, &rest)
    }

    /// `c`'s polynomial into `dst` for [`Kernels::estrin`]: the low block of
    /// the largest power of two below `c.len()` terms, then the rest as the
    /// high part, joined by x to that power.
    fn estrin_part(
        &mut self,
        dst: Self::V,
        x: Self::V,
        c: &[f64],
        power: Self::V,
        level: &mut u32,
        free: &[Self::V],
    ) -> R {
        match c {
            [c0] => {
                let k = self.k(*c0);
                self.load_constant(dst, k)
            }
            [c0, c1] => {
                let (k0, k1) = (self.k(*c0), self.k(*c1));
                self.fma(Fma::Add, dst, x, k1, k0)
            }
            _ => {
                let half = (c.len() - 1).ilog2();
                let (low, high) = c.split_at(1 << half);
                self.estrin_part(dst, x, low, power, level, free)?;
                let high_reg = match high {
                    [_] => None,
                    _ => {
                        let (&reg, free) = free.split_first().expect("a register per level");
                        self.estrin_part(reg, x, high, power, level, free)?;
                        Some(reg)
                    }
                };
                // x^(2^half): x itself at level 0, else squared up to it (a
                // high part never needs a lower power than the low part
                // left in `power` for the lengths the kernels use).
                debug_assert!(*level <= half, "Estrin's powers out of order");
                if *level == 0 && half > 0 {
                    self.bin(Bin::Mul, power, x, Src::Reg(x))?;
                    *level = 1;
                }
                while *level < half {
                    self.bin(Bin::Mul, power, power, Src::Reg(power))?;
                    *level += 1;
                }
                let factor = if half == 0 { x } else { power };
                match (high_reg, high) {
                    (Some(reg), _) => self.fused(Fused::Add231, dst, reg, Src::Reg(factor)),
                    (None, [h]) => {
                        let k = self.k(*h);
                        self.fused(Fused::Add231, dst, factor, k)
                    }
                    _ => unreachable!("a high part of one term or a register"),
                }
            }
        }
    }

    /// `vmath::explog::exp_normal`, after `exp_needs_full`'s test (in
    /// float32 lanes, [`Kernels::exp32`]).
    fn exp(&mut self, d: Self::V, x: Self::V, bail: CodeLabel) -> R {
        if self.elem() == Elem::F32 {
            return self.exp32(d, x, bail);
        }
        let scratch = self.scratch();
        let s = |i: usize| scratch[i];
        // |x| > 708 or NaN: bits(|x|) > bits(708).
        let abs = self.bits(ABS);
        self.bin(Bin::And, s(0), x, abs)?;
        self.bail_above(s(0), 708.0, s(0), bail)?;
        // (kd, k) = round_int_mul(x, INV_LN2): t = fma(x, INV_LN2, SHIFT),
        // kd = t - SHIFT
        let t = if Self::SCALE_IN_BITS { s(1) } else { s(0) };
        let (inv_ln2, shift) = (self.k(INV_LN2), self.k(SHIFT));
        self.fma(Fma::Add, t, x, inv_ln2, shift)?;
        self.bin(Bin::Sub, s(0), t, shift)?;
        // hi = fma(-kd, LN2_HI, x); lo = -kd * LN2_LO
        let ln2_hi = self.k(LN2_HI);
        self.fma(Fma::NegAdd, s(2), s(0), ln2_hi, Src::Reg(x))?;
        let neg_ln2_lo = self.k(-LN2_LO);
        self.bin(Bin::Mul, s(3), s(0), neg_ln2_lo)?;
        // tail = fma(r*r, horner(r, EXP_Q), lo) with r = hi + lo
        self.bin(Bin::Add, s(4), s(2), Src::Reg(s(3)))?;
        self.bin(Bin::Mul, s(5), s(4), Src::Reg(s(4)))?;
        self.horner(s(6), s(4), &EXP_Q)?;
        self.fma(Fma::Add, s(6), s(5), Src::Reg(s(6)), Src::Reg(s(3)))?;
        // p = 1 + (hi + tail); p * 2^k, exact: |x| <= 708 keeps 2^k and the
        // result normal.
        self.bin(Bin::Add, s(6), s(2), Src::Reg(s(6)))?;
        let one = self.k(1.0);
        self.bin(Bin::Add, s(6), s(6), one)?;
        self.scale(d, s(6), s(0), t)
    }

    /// `vmath::explog32::exp_normal`, after `exp_needs_full`'s test: float32
    /// e^x as (1 + e^r - 1) 2^k, with x = k ln2 + r reduced in float32.
    fn exp32(&mut self, d: Self::V, x: Self::V, bail: CodeLabel) -> R {
        let scratch = self.scratch();
        let s = |i: usize| scratch[i];
        // |x| > 87 or NaN: bits(|x|) > bits(87).
        let abs = self.bits(Elem::F32.abs());
        self.bin(Bin::And, s(0), x, abs)?;
        self.bail_above(s(0), f64::from(EXP32_FAST_MAX), s(0), bail)?;
        // kd over t unless 2^k is built from t's bits.
        let t = if Self::SCALE_IN_BITS { s(1) } else { s(0) };
        self.expm1_reduced32(x, [t, s(0), s(2), s(3), s(4)])?;
        // (1 + e) 2^k, exact: |x| <= 87 keeps 2^k and the result normal.
        let one = self.lane_k(1.0);
        self.bin(Bin::Add, s(3), s(3), one)?;
        self.scale(d, s(3), s(0), t)
    }

    /// The shared start of float32 `exp` and `expm1` (`explog32`'s
    /// `reduce_ln2_32` and `expm1_poly`) for `x`: t = fma(x, INV_LN2_32_HI,
    /// SHIFT32) and kd = t - SHIFT32 (into `t` and `kd`, which may be one
    /// register), r = x - kd ln2 in two fused steps, and e^r - 1 =
    /// fma(r*r, horner32(r, EXP32_P), r) into `e`; `rr` is scratch. None
    /// of them may be `x`'s register.
    fn expm1_reduced32(&mut self, x: Self::V, [t, kd, r, e, rr]: [Self::V; 5]) -> R {
        let inv_ln2 = self.k32(INV_LN2_32_HI);
        let shift = self.shift_constant();
        self.fma(Fma::Add, t, x, inv_ln2, shift)?;
        self.bin(Bin::Sub, kd, t, shift)?;
        // -(kd c) + r is fma(-kd, c, r)'s exact value, rounded once.
        let ln2_hi = self.k32(LN2_32_HI);
        self.fma(Fma::NegAdd, r, kd, ln2_hi, Src::Reg(x))?;
        let ln2_lo = self.k32(LN2_32_LO);
        self.fused(Fused::NegAdd231, r, kd, ln2_lo)?;
        self.horner(e, r, &EXP32_P.map(f64::from))?;
        self.bin(Bin::Mul, rr, r, Src::Reg(r))?;
        self.fma(Fma::Add, e, rr, Src::Reg(e), Src::Reg(r))
    }

    /// The polynomial of `vmath::trig::atan2_ordinary` on the reduced
    /// argument `u`, added to the base angle's parts: hi = hi + (lo + p) with
    /// p = fma(z u, horner(z, ATAN_A), u), z = u^2 (`ATAN32_A` in float32
    /// lanes). `z` and `p` are scratch.
    fn atan_reduced(&mut self, hi: Self::V, lo: Self::V, u: Self::V, z: Self::V, p: Self::V) -> R {
        self.bin(Bin::Mul, z, u, Src::Reg(u))?;
        match self.elem() {
            Elem::F64 => self.horner(p, z, &ATAN_A)?,
            Elem::F32 => self.horner(p, z, &ATAN32_A.map(f64::from))?,
        }
        self.bin(Bin::Mul, z, z, Src::Reg(u))?;
        self.fma(Fma::Add, p, z, Src::Reg(p), Src::Reg(u))?;
        self.bin(Bin::Add, lo, lo, Src::Reg(p))?;
        self.bin(Bin::Add, hi, hi, Src::Reg(lo))
    }

    /// `vmath::explog::log_normal`, after `log_needs_full`'s test (in
    /// float32 lanes, [`Kernels::log32`]).
    fn log(&mut self, d: Self::V, x: Self::V, bail: CodeLabel) -> R {
        if self.elem() == Elem::F32 {
            return self.log32(d, x, bail);
        }
        let scratch = self.scratch();
        let s = |i: usize| scratch[i];
        self.bail_unless_positive_normal(x, s(0), bail)?;
        // tmp = ix - bits(sqrt(2)/2); k = tmp >> 52 (arithmetic);
        // m = ix - (tmp & EXP_MASK)
        let sqrt_half = self.bits(0x3fe6_a09e_667f_3bcd);
        self.bin(Bin::SubInt, s(0), x, sqrt_half)?;
        self.log_exponent(s(1), s(0))?;
        let exp_mask = self.bits(0xfff << 52);
        self.bin(Bin::And, s(0), s(0), exp_mask)?;
        self.bin(Bin::SubInt, s(0), x, Src::Reg(s(0)))?;
        // f = m - 1; s = f / (2 + f); z = s*s; r = z * horner(z, LOG_L)
        let (one, two) = (self.k(1.0), self.k(2.0));
        self.bin(Bin::Sub, s(0), s(0), one)?;
        self.bin(Bin::Add, s(2), s(0), two)?;
        self.bin(Bin::Div, s(2), s(0), Src::Reg(s(2)))?;
        self.bin(Bin::Mul, s(3), s(2), Src::Reg(s(2)))?;
        self.horner(s(4), s(3), &LOG_L)?;
        self.bin(Bin::Mul, s(4), s(3), Src::Reg(s(4)))?;
        // hfsq = 0.5 * f * f; kd = k as f64; sr = s * (hfsq + r)
        let half = self.k(0.5);
        self.bin(Bin::Mul, s(5), s(0), half)?;
        self.bin(Bin::Mul, s(5), s(5), Src::Reg(s(0)))?;
        self.log_exponent_to_f64(s(1))?;
        self.bin(Bin::Add, s(4), s(5), Src::Reg(s(4)))?;
        self.bin(Bin::Mul, s(4), s(2), Src::Reg(s(4)))?;
        // fma(kd, LN2_HI, -((hfsq - (sr + kd * LN2_LO)) - f))
        let ln2_lo = self.k(LN2_LO);
        self.bin(Bin::Mul, s(6), s(1), ln2_lo)?;
        self.bin(Bin::Add, s(4), s(4), Src::Reg(s(6)))?;
        self.bin(Bin::Sub, s(5), s(5), Src::Reg(s(4)))?;
        self.bin(Bin::Sub, d, s(5), Src::Reg(s(0)))?;
        // kd * LN2_HI + (-t) is kd * LN2_HI - t: negating is exact.
        let ln2_hi = self.k(LN2_HI);
        self.fused(Fused::Sub231, d, s(1), ln2_hi)
    }

    /// `vmath::explog32::log_normal`, after `log_needs_full`'s test: float32
    /// log x = k ln2 + f + log1p_tail(f) for x = 2^k (1 + f), with k ln2 + f
    /// summed exactly (`log_kernel32` without its correction).
    fn log32(&mut self, d: Self::V, x: Self::V, bail: CodeLabel) -> R {
        self.log_parts32(x, Some(bail))?;
        self.log_sum32(d, None)
    }

    /// The shared start of the float32 logarithms for a positive normal `x`
    /// (`explog32`'s `log_reduce32` and `log1p_tail`), after
    /// `log_needs_full`'s test if given its `bail`: x = 2^k (1 + f), f into
    /// scratch 0, k as a float (kd) into scratch 1, log(1 + f) - f into
    /// scratch 4; scratch 2, 3 and 5 are clobbered, and `x` is read only
    /// before any of them is written but scratch 0 and 1.
    fn log_parts32(&mut self, x: Self::V, bail: Option<CodeLabel>) -> R {
        let scratch = self.scratch();
        let s = |i: usize| scratch[i];
        if let Some(bail) = bail {
            self.bail_unless_positive_normal(x, s(0), bail)?;
        }
        let word = |bits: u32| Elem::F32.word(u64::from(bits));
        // log_reduce32: tmp = ix - bits(sqrt(2)/2); k = tmp >> 23
        // (arithmetic); m = ix - (tmp & 0xff800000); f = m - 1
        let sqrt_half = self.bits(word(0x3f35_04f3));
        self.bin(Bin::SubInt, s(0), x, sqrt_half)?;
        self.log_exponent(s(1), s(0))?;
        let exp_mask = self.bits(word(0xff80_0000));
        self.bin(Bin::And, s(0), s(0), exp_mask)?;
        self.bin(Bin::SubInt, s(0), x, Src::Reg(s(0)))?;
        let one = self.lane_k(1.0);
        self.bin(Bin::Sub, s(0), s(0), one)?;
        self.log_exponent_to_f64(s(1))?; // kd
        // log1p_tail(f): s = f / (2 + f); z = s s; hfsq = 0.5 f f;
        // fma(s, fma(z, horner32(z, LOG32_L), hfsq), -hfsq)
        let two = self.lane_k(2.0);
        self.bin(Bin::Add, s(2), s(0), two)?;
        self.bin(Bin::Div, s(2), s(0), Src::Reg(s(2)))?;
        self.bin(Bin::Mul, s(3), s(2), Src::Reg(s(2)))?;
        let half = self.lane_k(0.5);
        self.bin(Bin::Mul, s(4), s(0), half)?;
        self.bin(Bin::Mul, s(4), s(4), Src::Reg(s(0)))?;
        self.horner(s(5), s(3), &LOG32_L.map(f64::from))?;
        self.fma(Fma::Add, s(5), s(3), Src::Reg(s(5)), Src::Reg(s(4)))?;
        // s t - hfsq, rounded once as fma(s, t, -hfsq)
        self.fused(Fused::Sub231, s(4), s(2), Src::Reg(s(5)))
    }

    /// The end of `explog32::log_kernel32` after
    /// [`log_parts32`](Kernels::log_parts32): d = hi + ((tail + fma(kd, LN2_32_LO, lo)) +
    /// corr) with (hi, lo) the exact sum of kd LN2_32_HI and f, `corr` (a
    /// register other than scratch 0-6) `log1p`'s correction if any. `d`
    /// may be scratch 6; scratch 3-6 are clobbered.
    fn log_sum32(&mut self, d: Self::V, corr: Option<Self::V>) -> R {
        let scratch = self.scratch();
        let s = |i: usize| scratch[i];
        // (hi, lo) = fast_two_sum32(kd LN2_32_HI, f), the product exact
        let ln2_hi = self.k32(LN2_32_HI);
        self.bin(Bin::Mul, s(5), s(1), ln2_hi)?;
        self.bin(Bin::Add, s(6), s(5), Src::Reg(s(0)))?;
        self.bin(Bin::Sub, s(3), s(6), Src::Reg(s(5)))?;
        self.bin(Bin::Sub, s(3), s(0), Src::Reg(s(3)))?;
        // hi + (tail + fma(kd, LN2_32_LO, lo) [+ corr])
        let ln2_lo = self.k32(LN2_32_LO);
        self.fused(Fused::Add231, s(3), s(1), ln2_lo)?;
        self.bin(Bin::Add, s(4), s(4), Src::Reg(s(3)))?;
        if let Some(corr) = corr {
            self.bin(Bin::Add, s(4), s(4), Src::Reg(corr))?;
        }
        self.bin(Bin::Add, d, s(6), Src::Reg(s(4)))
    }

    /// `vmath::explog32::log2_normal`, after `log_needs_full`'s test:
    /// k + fma(f, 1/ln2 hi, fma(f, 1/ln2 lo, tail / ln2 hi)), k exact.
    fn log2_32(&mut self, d: Self::V, x: Self::V, bail: CodeLabel) -> R {
        let scratch = self.scratch();
        let s = |i: usize| scratch[i];
        self.log_parts32(x, Some(bail))?;
        let (hi, lo) = (self.k32(INV_LN2_32_HI), self.k32(INV_LN2_32_LO));
        self.bin(Bin::Mul, s(5), s(4), hi)?;
        self.fused(Fused::Add231, s(5), s(0), lo)?;
        self.fused(Fused::Add231, s(5), s(0), hi)?;
        self.bin(Bin::Add, d, s(1), Src::Reg(s(5)))
    }

    /// `vmath::explog32::log10_normal`, after `log_needs_full`'s test:
    /// fma(kd, log10(2) hi, fma(f + tail, 1/ln10, kd log10(2) lo)).
    fn log10_32(&mut self, d: Self::V, x: Self::V, bail: CodeLabel) -> R {
        let scratch = self.scratch();
        let s = |i: usize| scratch[i];
        self.log_parts32(x, Some(bail))?;
        self.bin(Bin::Add, s(5), s(0), Src::Reg(s(4)))?; // lm
        let lo = self.k32(LOG10_2_32_LO);
        self.bin(Bin::Mul, s(6), s(1), lo)?;
        let inv_ln10 = self.k32(INV_LN10_32);
        self.fused(Fused::Add231, s(6), s(5), inv_ln10)?;
        let hi = self.k32(LOG10_2_32_HI);
        self.fma(Fma::Add, d, s(1), hi, Src::Reg(s(6)))
    }

    /// `vmath::explog32::log1p_normal`, after `log1p_needs_full`'s test
    /// (x <= -1, inf or NaN leave the loop): 1 + x = u + e exactly
    /// (`two_sum32`), log(u) with the correction c (1 - f + f^2) for
    /// c = e 2^-min(k, 126) (`log_pair32`), and x itself where |x| < 6e-8.
    fn log1p32(&mut self, d: Self::V, x: Self::V, bail: CodeLabel) -> R {
        let scratch = self.scratch();
        let s = |i: usize| scratch[i];
        // x <= -1, x >= inf and NaN exclude one another: `^` is `|`.
        let (minus_one, inf) = (self.lane_k(-1.0), self.lane_k(f64::INFINITY));
        self.load_constant(s(2), minus_one)?;
        self.compare(Compare::Le, s(0), x, s(2))?;
        self.load_constant(s(2), inf)?;
        self.compare(Compare::Ge, s(1), x, s(2))?;
        self.bin(Bin::Xor, s(0), s(0), Src::Reg(s(1)))?;
        self.compare(Compare::Ne, s(1), x, x)?;
        self.bin(Bin::Xor, s(0), s(0), Src::Reg(s(1)))?;
        self.bail_if_set(s(0), bail)?;
        // two_sum32(1, x): u = 1 + x; bb = u - 1; e = (1 - (u - bb)) + (x - bb)
        let one = self.lane_k(1.0);
        self.load_constant(s(2), one)?;
        self.bin(Bin::Add, s(3), x, one)?;
        self.bin(Bin::Sub, s(4), s(3), one)?;
        self.bin(Bin::Sub, s(5), s(3), Src::Reg(s(4)))?;
        self.bin(Bin::Sub, s(6), s(2), Src::Reg(s(5)))?;
        self.bin(Bin::Sub, s(5), x, Src::Reg(s(4)))?;
        self.bin(Bin::Add, s(7), s(6), Src::Reg(s(5)))?; // e
        self.log_parts32(s(3), None)?;
        // c = e 2^-min(k, 126): 2^-m from the bits of -m + SHIFT32, as exp
        // builds 2^k (or from -m itself where the backend scales by kd).
        let cap = self.lane_k(126.0);
        self.bin(Bin::Min, s(2), s(1), cap)?;
        let sign = self.bits(Elem::F32.sign());
        self.bin(Bin::Xor, s(2), s(2), sign)?;
        let shift = self.shift_constant();
        self.bin(Bin::Add, s(3), s(2), shift)?;
        self.pow2(s(5), s(2), s(3), one)?;
        self.bin(Bin::Mul, s(7), s(7), Src::Reg(s(5)))?;
        // corr = c fma(f, f - 1, 1)
        self.bin(Bin::Sub, s(3), s(0), one)?;
        self.fma(Fma::Add, s(2), s(0), Src::Reg(s(3)), one)?;
        self.bin(Bin::Mul, s(7), s(7), Src::Reg(s(2)))?;
        self.log_sum32(s(6), Some(s(7)))?;
        // x where |x| < 6e-8 (-0 stays -0)
        let abs = self.bits(Elem::F32.abs());
        self.bin(Bin::And, s(2), x, abs)?;
        let tiny = self.k32(6.0e-8_f32);
        self.load_constant(s(3), tiny)?;
        self.compare(Compare::Lt, s(2), s(2), s(3))?;
        self.blend(d, s(2), x, s(6))
    }

    /// `vmath::explog32::expm1_normal`, after `exp_needs_full`'s test:
    /// 2^k (e^r - 1) + (2^k - 1) for x (below -20: -20) = k ln2 + r, and x
    /// itself where |x| < 2e-8.
    fn expm1_32(&mut self, d: Self::V, x: Self::V, bail: CodeLabel) -> R {
        let scratch = self.scratch();
        let s = |i: usize| scratch[i];
        let abs = self.bits(Elem::F32.abs());
        self.bin(Bin::And, s(0), x, abs)?;
        self.bail_above(s(0), f64::from(EXP32_FAST_MAX), s(0), bail)?;
        // y = max(x, -20) (`sel(x < -20, -20, x)`): a tiny x is y.
        let floor = self.lane_k(-20.0);
        self.load_constant(s(4), floor)?;
        self.compare(Compare::Lt, s(2), x, s(4))?;
        self.blend(s(0), s(2), s(4), x)?;
        self.expm1_of32(d)
    }

    /// `vmath::explog32::sinh_normal`, after `exp_needs_full`'s test:
    /// copysign(h + h / (2h + 1), x) with h = expm1(|x|) / 2.
    fn sinh32(&mut self, d: Self::V, x: Self::V, bail: CodeLabel) -> R {
        let scratch = self.scratch();
        let s = |i: usize| scratch[i];
        let abs = self.bits(Elem::F32.abs());
        self.bin(Bin::And, s(0), x, abs)?;
        self.bail_above(s(0), f64::from(EXP32_FAST_MAX), s(1), bail)?;
        // expm1's clamp at -20 leaves |x| as it is.
        self.expm1_of32(s(1))?;
        let half = self.k32(0.5);
        self.bin(Bin::Mul, s(1), s(1), half)?;
        let (two, one) = (self.k32(2.0), self.k32(1.0));
        self.fma(Fma::Add, s(2), s(1), two, one)?;
        self.bin(Bin::Div, s(2), s(1), Src::Reg(s(2)))?;
        self.bin(Bin::Add, s(2), s(1), Src::Reg(s(2)))?;
        // The sum is positive: `^` of x's sign bit is copysign.
        let sign = self.bits(Elem::F32.sign());
        self.bin(Bin::And, s(3), x, sign)?;
        self.bin(Bin::Xor, d, s(2), Src::Reg(s(3)))
    }

    /// `vmath::explog32::cosh_normal`, after `exp_needs_full`'s test:
    /// h + 1/(4h) with h = e^|x| / 2 (`exp_normal`'s steps, as `exp32`).
    fn cosh32(&mut self, d: Self::V, x: Self::V, bail: CodeLabel) -> R {
        let scratch = self.scratch();
        let s = |i: usize| scratch[i];
        let abs = self.bits(Elem::F32.abs());
        self.bin(Bin::And, s(6), x, abs)?;
        // e^|x| (its test is cosh's), then h + 0.25 / h
        self.exp32(s(5), s(6), bail)?;
        let half = self.k32(0.5);
        self.bin(Bin::Mul, s(5), s(5), half)?;
        let quarter = self.k32(0.25);
        self.load_constant(s(2), quarter)?;
        self.bin(Bin::Div, s(2), s(2), Src::Reg(s(5)))?;
        self.bin(Bin::Add, d, s(5), Src::Reg(s(2)))
    }

    /// `explog32::expm1_normal` past its clamp, shared by `expm1`, `sinh` and
    /// `tanh`: for y in scratch 0 (|y| <= 87), 2^k (e^r - 1) + (2^k - 1)
    /// into `dst`, or y itself where |y| < 2e-8. Scratch 1-6 are clobbered;
    /// `dst` may be scratch 1.
    fn expm1_of32(&mut self, dst: Self::V) -> R {
        let scratch = self.scratch();
        let s = |i: usize| scratch[i];
        // kd over t unless 2^k is built from t's bits; e^r - 1 in s(5).
        let (t, kd) = (s(1), if Self::SCALE_IN_BITS { s(4) } else { s(1) });
        self.expm1_reduced32(s(0), [t, kd, s(2), s(5), s(6)])?;
        // sc = 2^k, k in [-29, 126]; fma(sc, e^r - 1, sc - 1)
        let one = self.lane_k(1.0);
        self.pow2(s(3), kd, t, one)?;
        self.bin(Bin::Sub, s(1), s(3), one)?;
        self.fused(Fused::Add231, s(1), s(3), Src::Reg(s(5)))?;
        let abs = self.bits(Elem::F32.abs());
        self.bin(Bin::And, s(2), s(0), abs)?;
        let tiny = self.k32(2.0e-8_f32);
        self.load_constant(s(4), tiny)?;
        self.compare(Compare::Lt, s(2), s(2), s(4))?;
        self.blend(dst, s(2), s(0), s(1))
    }

    /// `vmath::trig::sin_small` or `cos_small`, after `trig_needs_large`'s
    /// test; in float32 lanes `vmath::trig32::sin_small` or `cos_small`
    /// after `trig_needs_full`'s, the same steps with float32 constants
    /// (three parts of pi/2, a shorter polynomial).
    fn sin_cos(&mut self, cos: bool, d: Self::V, x: Self::V, bail: CodeLabel) -> R {
        let scratch = self.scratch();
        let s = |i: usize| scratch[i];
        let elem = self.elem();
        let f64s = |c: &[f32]| c.iter().map(|&c| f64::from(c)).collect::<Vec<f64>>();
        let (fast_max, inv_pi, pio2, poly) = match elem {
            Elem::F64 => (TRIG_FAST_MAX, INV_PI, PIO2.to_vec(), SIN_WIDE.to_vec()),
            Elem::F32 => (
                f64::from(TRIG32_FAST_MAX),
                f64::from(INV_PI_32),
                f64s(&PIO2_32),
                f64s(&SIN32_S),
            ),
        };
        // |x| above the fast path's bound or NaN: bits(|x|) > bits(bound).
        let abs = self.bits(elem.abs());
        self.bin(Bin::And, s(6), x, abs)?;
        self.bail_above(s(6), fast_max, s(0), bail)?;
        let (inv_pi, shift) = (self.lane_k(inv_pi), self.shift_constant());
        if cos {
            // (kd, k) = round_int_mul(fma(x, INV_PI, -0.5), 1); q = 2 kd + 1
            let minus_half = self.lane_k(-0.5);
            self.fma(Fma::Add, s(0), x, inv_pi, minus_half)?;
            self.bin(Bin::Add, s(0), s(0), shift)?; // fma(u, 1, SHIFT)
            self.bin(Bin::Sub, s(1), s(0), shift)?;
            let (two, one) = (self.lane_k(2.0), self.lane_k(1.0));
            self.fma(Fma::Add, s(2), s(1), two, one)?;
        } else {
            // (kd, k) = round_int_mul(x, INV_PI); q = 2 kd
            self.fma(Fma::Add, s(0), x, inv_pi, shift)?;
            self.bin(Bin::Sub, s(1), s(0), shift)?;
            self.bin(Bin::Add, s(2), s(1), Src::Reg(s(1)))?;
        }
        // r = x - q pi/2 in exact-product steps (sub_q_pio2).
        let pio2: Vec<Src<Self::V>> = pio2.iter().map(|&c| self.lane_k(c)).collect();
        self.fma(Fma::NegAdd, s(3), s(2), pio2[0], Src::Reg(x))?;
        for &c in &pio2[1..] {
            self.fma(Fma::NegAdd, s(3), s(2), c, Src::Reg(s(3)))?;
        }
        // sin_wide(r) = fma(z r, horner(z, SIN_WIDE), r) with z = r^2
        self.bin(Bin::Mul, s(4), s(3), Src::Reg(s(3)))?;
        self.horner(s(5), s(4), &poly)?;
        self.bin(Bin::Mul, s(4), s(4), Src::Reg(s(3)))?;
        self.fma(Fma::Add, s(5), s(4), Src::Reg(s(5)), Src::Reg(s(3)))?;
        // The sign flips with k's lowest bit (sin) or its complement (cos);
        // k = bits(t) - bits(SHIFT) has the low bit of bits(t), SHIFT's
        // pattern being even: moved to the lane's sign bit.
        let sign_bit = 8 * elem.bytes() as i32 - 1;
        self.shift_left(s(0), s(0), sign_bit)?;
        let parts = SinCosParts {
            sign: s(0),
            r: s(5),
            ax: s(6),
        };
        self.sin_cos_sign(cos, d, x, parts)
    }

    /// tanh's argument: y = min(2|x|, `limit`) (= 2 min(|x|, limit / 2),
    /// the doubling exact), NaN kept (`vminpd` returns its second source
    /// when either is NaN); `tmp` is scratch.
    fn twice_magnitude_at_most(&mut self, y: Self::V, x: Self::V, limit: f64, tmp: Self::V) -> R {
        let abs = self.bits(self.elem().abs());
        self.bin(Bin::And, y, x, abs)?;
        self.bin(Bin::Add, y, y, Src::Reg(y))?;
        let limit = self.lane_k(limit);
        self.load_constant(tmp, limit)?;
        self.bin(Bin::Min, y, tmp, Src::Reg(y))
    }

    /// `vmath::explog::tanh`, the whole lane function (its clamp lets every
    /// input through); in float32 lanes [`Kernels::tanh32`].
    fn tanh(&mut self, d: Self::V, x: Self::V) -> R {
        if self.elem() == Elem::F32 {
            return self.tanh32(d, x);
        }
        let scratch = self.scratch();
        let s = |i: usize| scratch[i];
        self.twice_magnitude_at_most(s(0), x, 40.0, s(1))?;
        // reduce_ln2(y): t, kd, hi = fma(-kd, LN2_HI, y), lo = -kd LN2_LO
        // (kd over t unless 2^k is built from t's bits).
        let (t, kd) = (s(1), if Self::SCALE_IN_BITS { s(4) } else { s(1) });
        let (inv_ln2, shift) = (self.k(INV_LN2), self.k(SHIFT));
        self.fma(Fma::Add, t, s(0), inv_ln2, shift)?;
        self.bin(Bin::Sub, kd, t, shift)?;
        let ln2_hi = self.k(LN2_HI);
        self.fma(Fma::NegAdd, s(2), kd, ln2_hi, Src::Reg(s(0)))?;
        let neg_ln2_lo = self.k(-LN2_LO);
        self.bin(Bin::Mul, s(3), kd, neg_ln2_lo)?;
        // sc = 2^k, k in [0, 58]
        let one = self.k(1.0);
        self.pow2(s(0), kd, t, one)?;
        // tail = fma(r*r, horner(r, EXP_Q), lo), r = hi + lo
        self.bin(Bin::Add, s(4), s(2), Src::Reg(s(3)))?;
        self.bin(Bin::Mul, s(5), s(4), Src::Reg(s(4)))?;
        self.horner(s(6), s(4), &EXP_Q)?;
        self.fma(Fma::Add, s(6), s(5), Src::Reg(s(6)), Src::Reg(s(3)))?;
        // e = fma(sc, hi, sc - 1) + sc * tail
        self.bin(Bin::Sub, s(1), s(0), one)?;
        self.fma(Fma::Add, s(1), s(0), Src::Reg(s(2)), Src::Reg(s(1)))?;
        self.bin(Bin::Mul, s(6), s(0), Src::Reg(s(6)))?;
        self.bin(Bin::Add, s(1), s(1), Src::Reg(s(6)))?;
        // copysign(e / (e + 2), x)
        let two = self.k(2.0);
        self.bin(Bin::Add, s(2), s(1), two)?;
        self.div_copysign(d, s(1), s(2), x, s(0))
    }

    /// `vmath::explog32::tanh`, the whole lane function: e / (e + 2) with
    /// e = expm1(2 min(|x|, 10)) (`expm1_normal`: 2^k (e^r - 1) + (2^k - 1),
    /// and the argument itself below 2e-8), its sign x's.
    fn tanh32(&mut self, d: Self::V, x: Self::V) -> R {
        let scratch = self.scratch();
        let s = |i: usize| scratch[i];
        self.twice_magnitude_at_most(s(0), x, 20.0, s(1))?;
        self.expm1_of32(s(1))?;
        // copysign(e / (e + 2), x)
        let two = self.lane_k(2.0);
        self.bin(Bin::Add, s(2), s(1), two)?;
        self.div_copysign(d, s(1), s(2), x, s(0))
    }
}

/// What [`Kernels::sin_cos`] hands to [`Kernels::sin_cos_sign`]: the sign
/// bit to apply, the polynomial's result, and |x|.
#[derive(Clone, Copy)]
pub(super) struct SinCosParts<V> {
    pub(super) sign: V,
    pub(super) r: V,
    pub(super) ax: V,
}
