//! Shared squares: the program the loop runs when several `powi` raise one
//! base, with the squares of the base computed once.
//!
//! In: a [`Program`]. Out: `None` when no two `powi` instructions raise the
//! same value; else a copy whose `powi`s of such a base are multiplications
//! by squares x^2, x^4, x^8, x^16 of the base kept in registers of their
//! own, made where a power first needs them. Each power multiplies the
//! same factors in the same order as the passes' chain
//! (`kernels::arith::powi_chain`: the partial product times the running
//! square), so the bits are the passes'. The copy keeps every register of
//! the program at its index (inputs, constants, output) and appends its
//! own, so its machine code runs on the program's bindings.
//!
//! Why: a polynomial written with `**` raises its variable to each power
//! anew. `0.5 + 1.5*a - 2.5*a**2 + ... - 12.5*a**12` takes 21 squarings and
//! 10 products for its powers in `powi` chains, 3 and 10 with the squares
//! shared, as a compiled loop (Numba's) computes them.

use crate::functions::{JitOp, Op, TABLE, TypeCode};
use crate::program::{Instr, Program, Reg, Register, Role};

/// The most squares a `powi` uses: its powers go up to 16
/// ([`POWI_MAX`](crate::functions::POWI_MAX)).
const SQUARES: usize = 4;

/// A `powi` instruction's base and power, if `instr` is one with a constant
/// power the loop takes.
fn powi_of(program: &Program, instr: &Instr) -> Option<(Reg, u32)> {
    if instr.overload.jit != Some(JitOp::Powi) {
        return None;
    }
    let power = program.registers.get(*instr.args.get(1)? as usize)?;
    match power.role {
        Role::Const(crate::dtype::Scalar::Int64(n)) => {
            let range = crate::functions::POWI_MIN..=crate::functions::POWI_MAX;
            u32::try_from(n)
                .ok()
                .filter(|n| range.contains(n))
                .map(|n| (instr.args[0], n))
        }
        _ => None,
    }
}

/// For each instruction, whether it is a `powi` whose base another `powi`
/// raises before the base is written again (or after, since it was last
/// written): the ones whose squares are shared.
fn shared(program: &Program) -> Vec<bool> {
    let code = &program.code;
    let mut shared = vec![false; code.len()];
    for (i, instr) in code.iter().enumerate() {
        let Some((base, _)) = powi_of(program, instr) else {
            continue;
        };
        // The next instruction that raises the base or writes it.
        let next = code[i + 1..]
            .iter()
            .enumerate()
            .find(|(_, j)| j.dst == base || powi_of(program, j).is_some_and(|(b, _)| b == base));
        if let Some((k, j)) = next
            && powi_of(program, j).is_some_and(|(b, _)| b == base)
        {
            shared[i] = true;
            shared[i + 1 + k] = true;
        }
    }
    shared
}

/// The program with shared squares (see the module doc), or `None`.
pub(super) fn share_squares(program: &Program) -> Option<Program> {
    let shared = shared(program);
    if !shared.contains(&true) {
        return None;
    }
    let mut out = program.clone();
    out.code = Vec::with_capacity(program.code.len() * 2);
    // Registers of the copy's own: per base, its squares (made so far),
    // and two for the partial products, by type.
    let mut squares: Vec<(Reg, Vec<Reg>)> = Vec::new();
    let mut partial: Vec<(crate::dtype::DType, [Reg; 2])> = Vec::new();
    let new_register = |out: &mut Program, dtype| {
        out.registers.push(Register {
            dtype,
            role: Role::Temp,
        });
        (out.registers.len() - 1) as Reg
    };
    for (i, instr) in program.code.iter().enumerate() {
        // A base written again starts its squares anew.
        squares.retain(|(base, _)| *base != instr.dst);
        let Some((base, n)) = powi_of(program, instr).filter(|_| shared[i]) else {
            out.code.push(instr.clone());
            continue;
        };
        let dtype = program.registers[base as usize].dtype;
        let code = match dtype {
            crate::dtype::DType::Float64 => TypeCode::D,
            crate::dtype::DType::Float32 => TypeCode::F,
            _ => return None,
        };
        let mul = TABLE[Op::Mul].overload(code, &[code, code])?;
        let product = |dst: Reg, a: Reg, b: Reg| Instr {
            overload: mul,
            dst,
            args: vec![a, b],
            span: instr.span,
        };
        let p = match partial.iter().find(|(t, _)| *t == dtype) {
            Some(&(_, p)) => p,
            None => {
                let p = [new_register(&mut out, dtype), new_register(&mut out, dtype)];
                partial.push((dtype, p));
                p
            }
        };
        if !squares.iter().any(|(b, _)| *b == base) {
            squares.push((base, Vec::new()));
        }
        // The chain of `powi_chain`: factors are the base and its squares,
        // taken from the lowest bit up; the partial products alternate
        // between the two registers, and the last is the destination.
        let factors: Vec<usize> = (0..=SQUARES).filter(|&bit| n & (1 << bit) != 0).collect();
        let mut result: Option<Reg> = None;
        for (f, &bit) in factors.iter().enumerate() {
            let factor = match bit {
                0 => base,
                _ => {
                    let made = &mut squares.iter_mut().find(|(b, _)| *b == base)?.1;
                    while made.len() < bit {
                        let from = made.last().copied().unwrap_or(base);
                        let square = new_register(&mut out, dtype);
                        out.code.push(product(square, from, from));
                        made.push(square);
                    }
                    made[bit - 1]
                }
            };
            result = Some(match result {
                None => factor,
                Some(r) => {
                    let dst = if f + 1 == factors.len() {
                        instr.dst
                    } else {
                        p[f % 2]
                    };
                    out.code.push(product(dst, r, factor));
                    dst
                }
            });
        }
        // A power of two is one square, held in a register of the copy's:
        // the product that made it is made again into the destination (the
        // same operands, the same bits).
        if result != Some(instr.dst) {
            let r = result?;
            let last = out.code.iter().rposition(|c| c.dst == r)?;
            let mut again = out.code[last].clone();
            again.dst = instr.dst;
            out.code.push(again);
        }
    }
    Some(out)
}
