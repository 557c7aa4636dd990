//! Float32 operations in float64 lanes: the program the loop runs when a
//! float64 program computes some of its values in float32.
//!
//! In: a [`Program`] whose result is float64 (or booleans of float64
//! comparisons) and some of whose operations are on float32. numexpr's types
//! make such programs of ordinary expressions: of a float32 `a`, `a**2` and
//! `a*a` are float32, `1.5*a**2` is float64. Out: `None` when the program has
//! no float32 operation or one this does not cover; else a copy computed
//! wholly in float64 lanes, which the loop covers as a float64 program. Each
//! float32 value is held as the float64 of the same value; each float32
//! operation becomes its float64 operation into a register of the copy's,
//! then `to_float32` ([`JitOp::ToFloat32`]: rounded to float32 and widened
//! back) into its destination. A float32 input that a float32 operation reads
//! is widened once, into a register of the copy's, as the loop loads it.
//! The copy keeps every register of the program at its index (inputs,
//! constants, output) and appends its own, so its machine code runs on the
//! program's bindings.
//!
//! Bits: the float64 sum, difference, product, quotient or square root of
//! float32 values, rounded to float32, is the float32 operation's result.
//! A product of two float32 is exact in float64; for the others, float64's
//! 53 bits are more than twice float32's 24 plus 2, so rounding twice gives
//! the once-rounded result (Figueroa, "When is double rounding innocuous?",
//! 1995). The operations of two or three roundings (`mul_add` and the other
//! fused ones) are split into their operations, each rounded; `powi` is
//! expanded into its chain of products (`powers.rs`, the passes' order),
//! each rounded. The operations that are exact on float32 values (negation,
//! `abs`, comparisons, selects, `maximum`, `minimum`, `copysign`, `sign`, the
//! roundings to integers, the class tests) take no rounding. So every value
//! is the passes' bit for bit. Float32 math functions (`exp`, `sin`, ...)
//! have kernels of their own, other algorithms: a program with one stays
//! with the passes.
//!
//! Why: a float64 program whose float32 operations are arithmetic runs them
//! in float32 lanes, in the low half of its vectors ([`Plan::halves`]); one
//! with float32 comparisons, selects, roundings or signs cannot (their lane
//! masks would be of another width than the float64 ones'), and without this
//! ran as passes. `where(a*b > 0.5, 1.5*a**3, b - 2.5*c)` of float32 inputs:
//! 2.62 ns an element as passes, 1.36 so. This is the second choice of
//! `jit::build`: the two conversions of each rounding make a float32
//! operation several times as long as in halves (a polynomial of degree 12
//! of a float32: 4.45 ns against 2.18).
//!
//! [`Plan::halves`]: super::plan::Plan::halves

use super::plan::on_float32;
use super::powers;
use crate::dtype::{DType, Scalar};
use crate::functions::{JitOp, Op, Overload, TABLE, TypeCode};
use crate::program::{Instr, Program, Reg, Register, Role};

/// The float64 overload of the operation of `overload`, with float64 in
/// place of each of its float32 operands and result.
fn in_float64(overload: &Overload) -> Option<&'static Overload> {
    let wide = |t: TypeCode| if t == TypeCode::F { TypeCode::D } else { t };
    let args: Vec<TypeCode> = overload.args.iter().map(|&t| wide(t)).collect();
    TABLE[overload.op].overload(wide(overload.ret), &args)
}

/// How a float32 operation is computed in float64 lanes.
#[derive(Clone, Copy)]
enum Rounds {
    /// Exact on float32 values: the float64 operation alone.
    Never,
    /// One rounding: the float64 operation, then `to_float32`.
    Once,
    /// `x*y ± z`: the product and the sum, each rounded.
    ProductThen(Op),
    /// `z - x*y`: the product and the difference, each rounded.
    SubProduct,
    /// `x*y ± z*w`: the two products and the sum, each rounded.
    ProductsThen(Op),
}

/// How the float32 form of `op` is computed in float64 lanes; `None` for an
/// operation whose float32 result is not a rounding of its float64 one.
fn rounds(op: JitOp) -> Option<Rounds> {
    Some(match op {
        JitOp::Neg
        | JitOp::Abs
        | JitOp::Where(_)
        | JitOp::Select
        | JitOp::Maximum
        | JitOp::Minimum
        | JitOp::Copysign
        | JitOp::Sign
        | JitOp::Round(_)
        | JitOp::Compare(_)
        | JitOp::Test(_) => Rounds::Never,
        JitOp::Add
        | JitOp::Sub
        | JitOp::Mul
        | JitOp::Div
        | JitOp::Sqrt
        | JitOp::NegMul
        | JitOp::AbsAdd
        | JitOp::AbsSub
        | JitOp::AbsMul
        | JitOp::AddAbs => Rounds::Once,
        JitOp::MulAdd => Rounds::ProductThen(Op::Add),
        JitOp::MulSub => Rounds::ProductThen(Op::Sub),
        JitOp::SubMul => Rounds::SubProduct,
        JitOp::MulAddMul => Rounds::ProductsThen(Op::Add),
        JitOp::MulSubMul => Rounds::ProductsThen(Op::Sub),
        _ => return None,
    })
}

/// The program in float64 lanes (see the module doc), or `None`.
pub(super) fn in_float64_lanes(program: &Program) -> Option<Program> {
    let output = program.registers.get(program.output as usize)?.dtype;
    let has_float64 = (program.registers.iter()).any(|r| r.dtype == DType::Float64);
    let float64_result = output == DType::Float64 || (output == DType::Bool && has_float64);
    if !float64_result || !(program.code.iter()).any(|i| on_float32(i.overload)) {
        return None;
    }
    // Each float32 `powi` as products (its squares shared with the base's
    // other powers), which are rounded below as any product.
    let float32 = |r: Reg| program.registers[r as usize].dtype == DType::Float32;
    let expanded = powers::products(program, float32);
    let source = expanded.as_ref().unwrap_or(program);

    let mut out = source.clone();
    out.code = Vec::with_capacity(source.code.len() * 3);
    let new_register = |out: &mut Program| {
        out.registers.push(Register {
            dtype: DType::Float64,
            role: Role::Temp,
        });
        (out.registers.len() - 1) as Reg
    };
    // Float32 inputs read by a float32 operation, widened at the start
    // (their other readers, the widening casts, read them as they are).
    let mut widened: Vec<Option<Reg>> = vec![None; source.registers.len()];
    for instr in source.code.iter().filter(|i| on_float32(i.overload)) {
        for &a in &instr.args {
            let register = &source.registers[a as usize];
            if matches!(register.role, Role::Input(_))
                && register.dtype == DType::Float32
                && widened[a as usize].is_none()
            {
                let wide = new_register(&mut out);
                let cast = TABLE[Op::Cast].overload(TypeCode::D, &[TypeCode::F])?;
                out.code.push(Instr {
                    overload: cast,
                    dst: wide,
                    args: vec![a],
                    span: instr.span,
                });
                widened[a as usize] = Some(wide);
            }
        }
    }
    // The float32 constants and temporaries, as float64 of their values.
    for register in &mut out.registers {
        match (&register.role, register.dtype) {
            (&Role::Const(Scalar::Float32(c)), _) => {
                *register = Register {
                    dtype: DType::Float64,
                    role: Role::Const(Scalar::Float64(f64::from(c))),
                };
            }
            (Role::Temp, DType::Float32) => register.dtype = DType::Float64,
            (Role::Const(_) | Role::Temp | Role::Input(_) | Role::Output, _) => {}
        }
    }
    // Registers for the unrounded results, each read right after it is
    // written: none is an operand of the instruction writing it.
    let temps = [0; 3].map(|_| new_register(&mut out));
    let to_float32 = TABLE[Op::ToFloat32].overload(TypeCode::D, &[TypeCode::D])?;
    for instr in &source.code {
        if !on_float32(instr.overload) {
            // Among them the casts from float32: of a value now float64, a
            // copy in the loop (`JitOp::Widen`); of a float32 input, its
            // widening as it is loaded.
            out.code.push(instr.clone());
            continue;
        }
        let args: Vec<Reg> = (instr.args.iter())
            .map(|&a| widened[a as usize].unwrap_or(a))
            .collect();
        let mut push = |overload: &'static Overload, dst: Reg, args: Vec<Reg>| {
            out.code.push(Instr {
                overload,
                dst,
                args,
                span: instr.span,
            });
        };
        let d = TypeCode::D;
        let operation = |op: Op, arity: usize| TABLE[op].overload(d, &vec![d; arity]);
        let [t0, t1, t2] = temps;
        let rule = rounds(instr.overload.jit?)?;
        match rule {
            Rounds::Never => push(in_float64(instr.overload)?, instr.dst, args),
            Rounds::Once => {
                push(in_float64(instr.overload)?, t0, args);
                push(to_float32, instr.dst, vec![t0]);
            }
            Rounds::ProductThen(_) | Rounds::SubProduct => {
                push(operation(Op::Mul, 2)?, t0, args[..2].to_vec());
                push(to_float32, t1, vec![t0]);
                let (then, operands) = match rule {
                    Rounds::ProductThen(then) => (then, vec![t1, args[2]]),
                    _ => (Op::Sub, vec![args[2], t1]),
                };
                push(operation(then, 2)?, t0, operands);
                push(to_float32, instr.dst, vec![t0]);
            }
            Rounds::ProductsThen(then) => {
                push(operation(Op::Mul, 2)?, t0, args[..2].to_vec());
                push(to_float32, t1, vec![t0]);
                push(operation(Op::Mul, 2)?, t0, args[2..4].to_vec());
                push(to_float32, t2, vec![t0]);
                push(operation(then, 2)?, t0, vec![t1, t2]);
                push(to_float32, instr.dst, vec![t0]);
            }
        }
    }
    Some(out)
}
