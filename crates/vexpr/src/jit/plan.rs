//! The target-independent half of code generation: which programs a loop
//! covers and where each program value lives. Each instruction set's backend
//! (`x86/avx512.rs`, `x86/avx2.rs`) lowers a [`Plan`] to its machine code.

// Target-neutral, but only x86-64 has a backend that lowers it so far: on
// other targets (aarch64) only `MAX_INPUTS` is read.
#![cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]

use crate::dtype::{DType, Scalar};
use crate::functions::JitOp;
use crate::program::{Program, Role};

/// The most inputs a compiled loop reads. The x86 function keeps the first
/// 8 pointers in general registers (four caller-saved ones to spare, and
/// four more it saves); at AVX2 it reads the others' from the pointer array
/// where it loads them.
pub(crate) const MAX_INPUTS: usize = 16;

/// The float64 instructions (widenings included) a float64 program needs
/// beside each float32 math function ([`JitOp::is_float32_function`]) to run in halves
/// ([`Plan::half`]). There the function takes four lanes a vector at AVX2,
/// against the eight of its float32 pass, about float64's time: the loop
/// pays where it saves passes over enough other instructions. One thread,
/// AVX2 (Zen 3), float32 inputs (`vexpr bench EXPR --n N --threads 1`
/// against `--no-jit`, two runs each, ns/elem, N = 10k and 1M):
/// `exp(a)*2.5 - b` (3 per function) 0.91-0.93 → 1.02-1.06 and 1.29-1.65
/// → 1.04; `10.5*sin(a) + 11.5*cos(b) - c` (2.5) 2.01 → 2.44-2.52 and
/// 2.57-2.65 → 2.53-3.17; `a*2.5 + b*1.5 + exp(c)` (5) 1.24-1.27 → 1.07 and
/// 2.03-2.11 → 1.16-1.37; `0.5*a + 1.5*b + 2.5*a*b + 12.5*exp(-c*c)` (7)
/// 2.06-3.78 → 1.34-1.77 and 3.41-3.48 → 1.43-1.55; the broad benchmark's
/// `terms15` (10) 10.0 → 6.5-6.9 and 11.5-12.2 → 6.9-7.4.
const FLOAT64_OPS_PER_FUNCTION_IN_HALVES: usize = 4;

/// Where each program register lives in the loop.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Slot {
    /// A vector register, by number (0..the backend's `MAX_VALUES`).
    Vector(u8),
    /// An integer constant, known when compiling (a `powi` exponent).
    Int(i64),
    /// A constant without a register of its own ([`Plan::spilled`]): each
    /// instruction that reads it loads it from the constant pool (its
    /// [`Elem::word`]).
    Pool(u64),
    /// An input without a register of its own ([`Plan::spilled`]): each
    /// instruction that reads it loads it from its array.
    Input,
    /// A temporary without a register of its own ([`Plan::spilled`]): the
    /// instruction that writes it stores it in this 32-byte stack slot, and
    /// each that reads it loads it from there.
    Stack(u16),
    /// Not used by any instruction.
    Unused,
}

/// The width and type of every value in a vector register: the loop runs
/// programs of one float type (a float64 one with its float32 arithmetic
/// in halves of vectors, [`Plan::half`]), or of one integer type in lanes
/// of the float's width ([`Plan::integer`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Elem {
    F32,
    F64,
}

impl Elem {
    /// Bytes per element.
    pub(crate) fn bytes(self) -> usize {
        match self {
            Elem::F32 => 4,
            Elem::F64 => 8,
        }
    }

    /// log2 of [`bytes`](Elem::bytes): the shift between element counts and
    /// byte offsets.
    pub(crate) fn shift(self) -> u32 {
        self.bytes().trailing_zeros()
    }

    /// The 64-bit word whose lanes of this type each hold `bits` (a float64's
    /// bits as they are, a float32's in both halves): how constants are
    /// named and stored, so that a 64-bit pool serves both types.
    pub(crate) fn word(self, bits: u64) -> u64 {
        match self {
            Elem::F64 => bits,
            Elem::F32 => (bits & 0xffff_ffff) * 0x1_0000_0001,
        }
    }

    /// The word of the sign bit alone in each lane.
    pub(crate) fn sign(self) -> u64 {
        match self {
            Elem::F64 => 1 << 63,
            Elem::F32 => self.word(1 << 31),
        }
    }

    /// The word of every bit but the sign in each lane.
    pub(crate) fn abs(self) -> u64 {
        !self.sign()
    }
}

/// An input stored as another type than the program's values: of a
/// float64 program, float32, int32 or int64, read only by a
/// [`JitOp::Widen`] (a cast to float64), so the loop loads it converted (4
/// elements of 4 or 8 bytes into a vector of 4 float64 lanes); of any
/// program, booleans read only as lane masks ([`reads_masks`]), whose bytes
/// the loop widens into one (zero false, any other byte true, as NumPy reads
/// them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Narrow {
    F32,
    I32,
    I64,
    Bool,
    /// A float32 input of a float64 program read by its float32 operations
    /// ([`Plan::half`]): loaded as it is stored, as many elements as the
    /// float64 lanes into the low half of a vector.
    Half,
}

impl Narrow {
    /// Bytes an element.
    pub(crate) fn bytes(self) -> usize {
        match self {
            Narrow::Bool => 1,
            Narrow::F32 | Narrow::I32 | Narrow::Half => 4,
            Narrow::I64 => 8,
        }
    }
}

/// Whether `instr` reads its operand `k`, a boolean, as a lane mask: the
/// boolean logic, and the condition of `where(c, x, y)`. Both read any byte
/// but zero as true ([`Overload::any_byte_true`]), as the loop's widening of
/// a stored boolean does, so their inputs need no check for other bytes.
///
/// [`Overload::any_byte_true`]: crate::functions::Overload::any_byte_true
fn reads_masks(instr: &crate::program::Instr, k: usize) -> bool {
    match instr.overload.jit {
        Some(JitOp::Logic(_)) => instr.overload.any_byte_true,
        Some(JitOp::Select) => k == 0 && instr.overload.any_byte_true,
        _ => false,
    }
}

/// Whether `overload` computes on float32 values: a float32 operand or
/// result, other than the widening of a float32 to float64.
fn on_float32(overload: &crate::functions::Overload) -> bool {
    use crate::functions::{Op, TypeCode};
    let widening = overload.op == Op::Cast && overload.ret == TypeCode::D;
    !widening && (overload.ret == TypeCode::F || overload.args.contains(&TypeCode::F))
}

/// Whether every instruction of `program` has a [`JitOp`] for which `pred`
/// holds.
fn jit_ops_all(program: &Program, pred: fn(JitOp) -> bool) -> bool {
    (program.code.iter()).all(|instr| instr.overload.jit.is_some_and(pred))
}

/// The register assignment of a program the loop covers.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    /// The type of every vector value (of a boolean program, the type its
    /// comparisons compare; its booleans are lane masks of that width).
    pub(crate) elem: Elem,
    /// The result is boolean: one byte an element, 0 or 1, made from the
    /// output's lane mask as it is stored.
    pub(crate) bool_output: bool,
    /// The values are int64 (`elem` F64) or int32 (`elem` F32) integers,
    /// each lane of the elem's width: the program's operations are
    /// [`JitOp::on_integers`], with wrapping arithmetic.
    pub(crate) integer: bool,
    /// One slot per program register.
    pub(crate) slots: Vec<Slot>,
    /// The input registers, in the order of their pointers.
    pub(crate) inputs: Vec<usize>,
    /// Per input (as `inputs`), how it is stored if narrower than `elem`.
    pub(crate) narrow: Vec<Option<Narrow>>,
    /// The constants: (vector register, [`Elem::word`] of a float's bits,
    /// an integer's two's complement).
    pub(crate) constants: Vec<(u8, u64)>,
    /// How many [`Slot::Stack`] slots the temporaries take.
    pub(crate) stack_slots: usize,
    /// Per program register, whether it is a float32 value held in the low
    /// half of a vector. Such values are those of a float64 program with
    /// float32 operations (a plan *in halves*): its float32 values
    /// (temporaries, constants, inputs those read) are held in the low half
    /// of a vector, as many lanes as a float64 vector's, and its float32
    /// operations take the float32 instructions there; a widening
    /// (`cast_df`) of such a value converts it, and the lane masks of their
    /// comparisons are widened to the float64 lanes'.
    pub(crate) half: Vec<bool>,
}

impl Plan {
    /// The plan of `program` with its values in vector registers
    /// `0..max_values`, or `None` when the program is not covered: a register
    /// of another type than the output's float64, float32, int64 or int32
    /// (of an integer output, every operation [`JitOp::on_integers`]; a
    /// boolean output takes its comparisons' type) (other than a
    /// `powi` exponent, a boolean made by a comparison, a class test or logic, or a
    /// [`Narrow`] input: a float32, int32 or int64 input of a float64 program
    /// read only by [`JitOp::Widen`], a boolean input read only as a lane
    /// mask, the float32 values of a float64 program whose float32
    /// operations all run in halves, [`Plan::half`]), an instruction
    /// without a [`JitOp`] (the table names one on a
    /// float32 overload only for IEEE operations and the math functions the
    /// backends emit in float32 lanes), more than `max_values`
    /// values or [`MAX_INPUTS`] inputs.
    pub(crate) fn new(program: &Program, max_values: usize) -> Option<Plan> {
        // Vector slots are numbered in a byte.
        let max_values = max_values.min(usize::from(u8::MAX));
        // A boolean result is of comparisons of the program's values: of
        // float64 if it has any, else of float32, int64, int32.
        let has = |dtype: DType| program.registers.iter().any(|r| r.dtype == dtype);
        let output = program.registers.get(program.output as usize)?.dtype;
        // `values`: the type of every value, as the lanes hold them.
        let (elem, values) = match output {
            DType::Float64 => (Elem::F64, DType::Float64),
            DType::Float32 => (Elem::F32, DType::Float32),
            DType::Int64 => (Elem::F64, DType::Int64),
            DType::Int32 => (Elem::F32, DType::Int32),
            DType::Bool if has(DType::Float64) => (Elem::F64, DType::Float64),
            DType::Bool if has(DType::Float32) => (Elem::F32, DType::Float32),
            DType::Bool if has(DType::Int64) => (Elem::F64, DType::Int64),
            DType::Bool if has(DType::Int32) => (Elem::F32, DType::Int32),
            _ => return None,
        };
        let integer = matches!(values, DType::Int64 | DType::Int32);
        if integer && !jit_ops_all(program, JitOp::on_integers) {
            return None;
        }
        let bool_output = output == DType::Bool;
        // Float32 arithmetic of a float64 program, in halves of vectors.
        let float32_ops = || (program.code.iter()).filter(|i| on_float32(i.overload));
        let functions = float32_ops()
            .filter(|i| i.overload.jit.is_some_and(JitOp::is_float32_function))
            .count();
        let float64_ops = program.code.len() - float32_ops().count();
        let halves = values == DType::Float64
            && float32_ops().next().is_some()
            && float32_ops().all(|i| i.overload.jit.is_some_and(JitOp::in_halves))
            && float64_ops >= FLOAT64_OPS_PER_FUNCTION_IN_HALVES * functions;
        let mut used = vec![false; program.registers.len()];
        for instr in &program.code {
            instr.overload.jit?;
            used[instr.dst as usize] = true;
            for &a in &instr.args {
                used[a as usize] = true;
            }
        }
        // Inputs of a float64 program stored as float32, int32 or int64 whose every
        // reader widens them.
        let mut widened_only = vec![elem == Elem::F64; program.registers.len()];
        for instr in &program.code {
            for &a in &instr.args {
                widened_only[a as usize] &= instr.overload.jit == Some(JitOp::Widen);
            }
        }
        // Boolean inputs whose every reader takes them as lane masks.
        let mut masks_only = vec![true; program.registers.len()];
        for instr in &program.code {
            for (k, &a) in instr.args.iter().enumerate() {
                masks_only[a as usize] &= reads_masks(instr, k);
            }
        }
        let narrow_input = |i: usize, dtype: DType| match (&program.registers[i].role, dtype) {
            (Role::Input(_), DType::Float32) if widened_only[i] => Some(Narrow::F32),
            (Role::Input(_), DType::Float32) if halves => Some(Narrow::Half),
            (Role::Input(_), DType::Int32) if widened_only[i] => Some(Narrow::I32),
            (Role::Input(_), DType::Int64) if widened_only[i] => Some(Narrow::I64),
            (Role::Input(_), DType::Bool) if masks_only[i] => Some(Narrow::Bool),
            _ => None,
        };
        let mut plan = Plan {
            elem,
            bool_output,
            integer,
            slots: Vec::with_capacity(program.registers.len()),
            inputs: Vec::new(),
            narrow: Vec::new(),
            constants: Vec::new(),
            stack_slots: 0,
            half: vec![false; program.registers.len()],
        };
        let mut next = 0u8;
        for (i, reg) in program.registers.iter().enumerate() {
            if !used[i] {
                plan.slots.push(Slot::Unused);
                continue;
            }
            let slot = match (&reg.role, reg.dtype) {
                (Role::Const(Scalar::Int64(n)), DType::Int64) if !integer => Slot::Int(*n),
                // Booleans are lane masks, made by comparisons, tests and logic
                // (and boolean inputs, as `narrow_input` says): not
                // constants.
                (Role::Temp | Role::Output, DType::Bool) => {
                    if next as usize == max_values {
                        return None;
                    }
                    next += 1;
                    Slot::Vector(next - 1)
                }
                (_, DType::Float32)
                    if halves && narrow_input(i, reg.dtype) != Some(Narrow::F32) =>
                {
                    if next as usize == max_values {
                        return None;
                    }
                    next += 1;
                    plan.half[i] = true;
                    Slot::Vector(next - 1)
                }
                (_, dtype) if dtype == values || narrow_input(i, dtype).is_some() => {
                    if next as usize == max_values {
                        return None;
                    }
                    next += 1;
                    Slot::Vector(next - 1)
                }
                _ => return None,
            };
            match (&reg.role, slot) {
                (Role::Input(_), Slot::Vector(_)) => {
                    plan.inputs.push(i);
                    plan.narrow.push(narrow_input(i, reg.dtype));
                }
                (Role::Const(Scalar::Float64(c)), Slot::Vector(v)) => {
                    plan.constants.push((v, c.to_bits()));
                }
                (Role::Const(Scalar::Float32(c)), Slot::Vector(v)) => {
                    // float32 lanes, of a float32 program or in halves.
                    plan.constants
                        .push((v, Elem::F32.word(u64::from(c.to_bits()))));
                }
                (Role::Const(Scalar::Int64(n)), Slot::Vector(v)) => {
                    plan.constants.push((v, *n as u64));
                }
                (Role::Const(Scalar::Int32(n)), Slot::Vector(v)) => {
                    plan.constants.push((v, elem.word(u64::from(*n as u32))));
                }
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

    /// The plan of `program` with only `registers` of its values in vector
    /// registers, or `None` when it needs no more (then [`Plan::new`] is
    /// the plan) or cannot have so few. The others are spilled, the cheapest
    /// to reach first: constants ([`Slot::Pool`], one load where read),
    /// inputs not stored narrower ([`Slot::Input`], one load where read,
    /// from L1 after the first), then temporaries other than the output
    /// ([`Slot::Stack`], a store where written and a load where read), each
    /// kind the least used first.
    ///
    /// Why: a polynomial with a dozen literal coefficients, or a program of
    /// many inputs and an expensive kernel, has more values than the 16
    /// registers of AVX2 hold next to the kernels' scratch; the passes
    /// would run it at several times the loop's cost.
    pub(crate) fn spilled(program: &Program, registers: usize) -> Option<Plan> {
        let mut plan = Plan::new(program, usize::MAX)?;
        let excess = plan.values().checked_sub(registers).filter(|&e| e > 0)?;
        let mut uses = vec![0usize; program.registers.len()];
        for instr in &program.code {
            for &r in instr.args.iter().chain([&instr.dst]) {
                uses[r as usize] += 1;
            }
        }
        let word = |v: u8| plan.constants.iter().find(|c| c.0 == v).map(|c| c.1);
        // (kind: 0 constant, 1 input, 2 temporary; uses; register)
        let mut candidates: Vec<(u8, usize, usize)> = Vec::new();
        for (r, slot) in plan.slots.iter().enumerate() {
            let Slot::Vector(v) = *slot else { continue };
            let kind = match program.registers[r].role {
                _ if r == program.output as usize => continue,
                Role::Const(_) if word(v).is_some() => 0,
                Role::Input(_) => {
                    let j = plan.inputs.iter().position(|&i| i == r)?;
                    match plan.narrow[j] {
                        None => 1,
                        Some(_) => continue,
                    }
                }
                Role::Temp => 2,
                _ => continue,
            };
            candidates.push((kind, uses[r], r));
        }
        if candidates.len() < excess {
            return None;
        }
        candidates.sort_unstable();
        let mut stack_slots = 0u16;
        for &(kind, _, r) in &candidates[..excess] {
            let Slot::Vector(v) = plan.slots[r] else {
                unreachable!("a candidate is a vector")
            };
            plan.slots[r] = match kind {
                0 => Slot::Pool(word(v)?),
                1 => Slot::Input,
                _ => {
                    stack_slots += 1;
                    Slot::Stack(stack_slots - 1)
                }
            };
        }
        // The registers left, numbered from 0 again.
        let mut renumbered = vec![None; usize::from(u8::MAX) + 1];
        let mut next = 0u8;
        for slot in &mut plan.slots {
            if let Slot::Vector(v) = slot {
                renumbered[usize::from(*v)] = Some(next);
                *v = next;
                next += 1;
            }
        }
        plan.constants = (plan.constants.iter())
            .filter_map(|&(v, bits)| Some((renumbered[usize::from(v)]?, bits)))
            .collect();
        plan.stack_slots = usize::from(stack_slots);
        Some(plan)
    }

    /// Whether some value has no register ([`Plan::spilled`]).
    pub(crate) fn spills(&self) -> bool {
        (self.slots.iter()).any(|s| matches!(s, Slot::Pool(_) | Slot::Input | Slot::Stack(_)))
    }

    /// The program registers an instruction reads or writes that have no
    /// register ([`Plan::spilled`]), each once: its operands in order, then
    /// its destination.
    pub(crate) fn spilled_operands(&self, instr: &crate::program::Instr) -> Vec<u32> {
        let mut spilled: Vec<u32> = Vec::new();
        for &r in instr.args.iter().chain([&instr.dst]) {
            let slot = self.slots[r as usize];
            if matches!(slot, Slot::Pool(_) | Slot::Input | Slot::Stack(_)) && !spilled.contains(&r)
            {
                spilled.push(r);
            }
        }
        spilled
    }

    /// log2 of the bytes the loop's index counts per element: the narrowest
    /// of the output's (one for booleans), the inputs' and the values'. Each
    /// pointer then steps by its own element's bytes per element (a scaled
    /// index).
    pub(crate) fn index_shift(&self) -> u32 {
        let inputs = self.narrow.iter().flatten().map(|n| n.bytes());
        let narrowest = inputs.chain([self.output_bytes()]).min();
        narrowest.unwrap_or(1).trailing_zeros()
    }

    /// Bytes per element of the output.
    pub(crate) fn output_bytes(&self) -> usize {
        if self.bool_output {
            1
        } else {
            self.elem.bytes()
        }
    }

    /// Bytes per element of input `j` (in the order of `inputs`).
    pub(crate) fn input_bytes(&self, j: usize) -> usize {
        self.narrow[j].map_or(self.elem.bytes(), Narrow::bytes)
    }

    /// The lanes `instr` computes in: float32 for a float32 operation in
    /// [`halves`](Plan::half) (one that makes such a value, or compares or
    /// tests them), else the plan's.
    pub(crate) fn lanes(&self, instr: &crate::program::Instr) -> Elem {
        let half = |r: &u32| self.half[*r as usize];
        let widen = instr.overload.jit == Some(JitOp::Widen);
        match half(&instr.dst) || (!widen && instr.args.iter().any(half)) {
            true => Elem::F32,
            false => self.elem,
        }
    }

    /// How many vector registers the program's values take.
    pub(crate) fn values(&self) -> usize {
        self.slots
            .iter()
            .filter(|s| matches!(s, Slot::Vector(_)))
            .count()
    }
}
