//! Shared powers: the program the loop runs when several powers raise one
//! base, with each square and each reused partial product made once.
//!
//! In: a [`Program`]. Out: `None` when no two powers (`powi`, or a square
//! written `x*x`) raise the same value; else a copy whose powers of such a
//! base are multiplications by squares x^2, x^4, x^8, x^16 of the base kept
//! in registers of their own, made where a power first needs them. Each
//! power multiplies the same factors in the same order as the passes' chain
//! (`kernels::arith::powi_chain`: the partial product times the running
//! square), so the bits are the passes'. Then the partial products of two
//! powers' chains are the same value: `x**7` is `(x * x^2) * x^4`, whose
//! partial `x * x^2` is `x**3`. A partial product that two chains reach
//! (or a power that a later chain passes through) is made once into a
//! register of its own; a power whose value is such a register, or a
//! square, makes nothing, and the instructions that read it until it is
//! written again read that register instead. The copy keeps every register
//! of the program at its index (inputs, constants, output) and appends its
//! own, so its machine code runs on the program's bindings.
//!
//! Why: a polynomial written with `**` raises its variable to each power
//! anew. `0.5 + 1.5*a - 2.5*a**2 + ... - 12.5*a**12` takes 21 squarings and
//! 10 products for its powers in `powi` chains, 3 and 8 with the squares
//! and partial products shared, as a compiled loop (Numba's) computes
//! them.

use crate::dtype::DType;
use crate::functions::{JitOp, Op, TABLE, TypeCode};
use crate::program::{Instr, Program, Reg, Register, Role};
use std::collections::HashMap;

/// The most squares a power uses: its powers go up to 16
/// ([`POWI_MAX`](crate::functions::POWI_MAX)).
const SQUARES: u32 = 4;

/// The base and power of `instr` if it raises a float to a constant power
/// the loop takes: a `powi`, or a product of a value by itself (its
/// square, `x**2` as the optimizer writes it).
fn power_of(program: &Program, instr: &Instr) -> Option<(Reg, u32)> {
    let overload = instr.overload;
    if overload.op == Op::Mul
        && matches!(overload.ret, TypeCode::D | TypeCode::F)
        && let [x, y] = instr.args[..]
        && x == y
    {
        return Some((x, 2));
    }
    if overload.jit != Some(JitOp::Powi) {
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

/// The values a chain for `x**n` makes, in order: for each set bit of `n`
/// from the lowest, the square it multiplies by (as the bit) and the
/// partial product after it (the power so far).
fn chain(n: u32) -> impl Iterator<Item = (u32, u32)> {
    (0..=SQUARES)
        .filter(move |bit| n & (1 << bit) != 0)
        .map(move |bit| (bit, n & ((2 << bit) - 1)))
}

/// For each instruction, whether it is a power whose base another power
/// raises before the base is written again (or after, since it was last
/// written): the ones whose squares are shared.
fn shared(program: &Program) -> Vec<bool> {
    let code = &program.code;
    let mut shared = vec![false; code.len()];
    for (i, instr) in code.iter().enumerate() {
        let Some((base, _)) = power_of(program, instr) else {
            continue;
        };
        // The next instruction that raises the base or writes it.
        let next = code[i + 1..]
            .iter()
            .enumerate()
            .find(|(_, j)| j.dst == base || power_of(program, j).is_some_and(|(b, _)| b == base));
        if let Some((k, j)) = next
            && power_of(program, j).is_some_and(|(b, _)| b == base)
        {
            shared[i] = true;
            shared[i + 1 + k] = true;
        }
    }
    shared
}

/// The powers that more than one shared chain makes (as a partial product
/// or as its result) while their base holds one value: for each, the
/// base, the instruction that last wrote it (`None`: not written), and
/// the power. Squares are left out: they are always kept.
fn reused(program: &Program, shared: &[bool]) -> Vec<(Reg, Option<usize>, u32)> {
    let mut written: HashMap<Reg, usize> = HashMap::new();
    let mut made: HashMap<(Reg, Option<usize>, u32), usize> = HashMap::new();
    for (i, instr) in program.code.iter().enumerate() {
        if let Some((base, n)) = power_of(program, instr).filter(|_| shared[i]) {
            let epoch = written.get(&base).copied();
            for (_, power) in chain(n).filter(|(_, p)| !p.is_power_of_two()) {
                *made.entry((base, epoch, power)).or_default() += 1;
            }
        }
        written.insert(instr.dst, i);
    }
    let mut reused: Vec<_> = (made.into_iter())
        .filter_map(|(key, times)| (times > 1).then_some(key))
        .collect();
    reused.sort_unstable();
    reused
}

/// The program with shared powers (see the module doc), or `None`.
pub(super) fn share_squares(program: &Program) -> Option<Program> {
    let shared = shared(program);
    if !shared.contains(&true) {
        return None;
    }
    let reused = reused(program, &shared);
    let mut out = Sharing {
        program: program.clone(),
        known: Vec::new(),
        scratch: Vec::new(),
    };
    out.program.code = Vec::with_capacity(program.code.len() * 2);
    // What each register of the program is read as: itself, or the register
    // of the copy's that holds its value (until it is written again).
    let mut alias: Vec<Option<Reg>> = vec![None; program.registers.len()];
    let mut written: HashMap<Reg, usize> = HashMap::new();
    for (i, original) in program.code.iter().enumerate() {
        let mut instr = original.clone();
        for arg in &mut instr.args {
            *arg = alias[*arg as usize].unwrap_or(*arg);
        }
        // Written here: the old value's aliases and powers end.
        alias[instr.dst as usize] = None;
        out.known.retain(|k| k.base != instr.dst);
        let power = power_of(program, original).filter(|_| shared[i]);
        let epoch = power.and_then(|(base, _)| written.get(&base).copied());
        written.insert(instr.dst, i);
        let Some((original_base, n)) = power else {
            out.program.code.push(instr);
            continue;
        };
        let dtype = program.registers[original_base as usize].dtype;
        let keep = |power: u32| reused.binary_search(&(original_base, epoch, power)).is_ok();
        let value = out.power(instr.args[0], n, dtype, keep, instr.dst, instr.span)?;
        if value == instr.dst {
            continue;
        }
        if program.registers[instr.dst as usize].role == Role::Output {
            // The result must be in the output: the product that made the
            // value is made again into it (the same operands, the same bits).
            let last = out.program.code.iter().rposition(|c| c.dst == value)?;
            let mut again = out.program.code[last].clone();
            again.dst = instr.dst;
            out.program.code.push(again);
        } else {
            alias[instr.dst as usize] = Some(value);
        }
    }
    Some(out.program)
}

/// A power of a base held in a register of the copy's.
struct Known {
    base: Reg,
    power: u32,
    holder: Reg,
}

/// The copy being written, with the powers its registers hold.
struct Sharing {
    program: Program,
    /// Squares and kept partial products of bases not written since.
    known: Vec<Known>,
    /// Per type, two registers for partial products made once: a chain's
    /// consecutive partials alternate between them (an instruction never
    /// writes a register it reads).
    scratch: Vec<(DType, [Reg; 2])>,
}

impl Sharing {
    fn new_register(&mut self, dtype: DType) -> Reg {
        self.program.registers.push(Register {
            dtype,
            role: Role::Temp,
        });
        (self.program.registers.len() - 1) as Reg
    }

    fn known(&self, base: Reg, power: u32) -> Option<Reg> {
        (self.known.iter())
            .find(|k| k.base == base && k.power == power)
            .map(|k| k.holder)
    }

    fn push_product(&mut self, dst: Reg, a: Reg, b: Reg, dtype: DType, span: crate::error::Span) {
        let code = match dtype {
            DType::Float32 => TypeCode::F,
            _ => TypeCode::D,
        };
        let overload = TABLE[Op::Mul]
            .overload(code, &[code, code])
            .expect("the table multiplies floats");
        self.program.code.push(Instr {
            overload,
            dst,
            args: vec![a, b],
            span,
        });
    }

    /// The register holding `base` to the power `2^bit`, its squares made
    /// where not yet.
    fn square(&mut self, base: Reg, bit: u32, dtype: DType, span: crate::error::Span) -> Reg {
        let mut value = base;
        for b in 1..=bit {
            value = match self.known(base, 1 << b) {
                Some(holder) => holder,
                None => {
                    let holder = self.new_register(dtype);
                    self.push_product(holder, value, value, dtype, span);
                    self.known.push(Known {
                        base,
                        power: 1 << b,
                        holder,
                    });
                    holder
                }
            };
        }
        value
    }

    /// The register holding `base**n` after the chain's instructions are
    /// pushed: a known one, a kept partial (`keep`), or `dst`.
    fn power(
        &mut self,
        base: Reg,
        n: u32,
        dtype: DType,
        keep: impl Fn(u32) -> bool,
        dst: Reg,
        span: crate::error::Span,
    ) -> Option<Reg> {
        let float = matches!(dtype, DType::Float32 | DType::Float64);
        if !float || n < 2 {
            return None;
        }
        let scratch = match self.scratch.iter().find(|(t, _)| *t == dtype) {
            Some(&(_, s)) => s,
            None => {
                let s = [self.new_register(dtype), self.new_register(dtype)];
                self.scratch.push((dtype, s));
                s
            }
        };
        let mut value: Option<Reg> = None;
        for (f, (bit, power)) in chain(n).enumerate() {
            let square = self.square(base, bit, dtype, span);
            value = Some(match value {
                None => square,
                Some(_) if self.known(base, power).is_some() => self.known(base, power)?,
                Some(partial) => {
                    let holder = if keep(power) {
                        let holder = self.new_register(dtype);
                        self.known.push(Known {
                            base,
                            power,
                            holder,
                        });
                        holder
                    } else if power == n {
                        dst
                    } else {
                        scratch[f % 2]
                    };
                    self.push_product(holder, partial, square, dtype, span);
                    holder
                }
            });
        }
        value
    }
}

#[cfg(test)]
mod tests {
    use super::share_squares;
    use crate::dtype::{DType, Scalar};
    use crate::functions::Op;
    use crate::program::{Program, Role};
    use crate::{Expr, Signature};

    fn program(source: &str) -> Program {
        let signature = Signature::new().with("a", DType::Float64);
        Expr::compile(source, &signature).unwrap().program().clone()
    }

    /// `x**n` by the passes' kernel.
    fn powi(x: f64, n: i64) -> f64 {
        use crate::kernels::arith::powi_chain;
        macro_rules! by_power {
            ($($n:literal)*) => {
                match n {
                    $($n => powi_chain::<f64, $n>(x),)*
                    _ => panic!("power {n}"),
                }
            };
        }
        by_power!(3 4 5 6 7 8 9 10 11 12 13 14 15 16)
    }

    /// The output of a program of sums, differences, products and powers
    /// of `a`, run on one element.
    fn run(program: &Program, a: f64) -> f64 {
        let mut values: Vec<f64> = (program.registers.iter())
            .map(|r| match r.role {
                Role::Input(_) => a,
                Role::Const(Scalar::Float64(c)) => c,
                _ => f64::NAN,
            })
            .collect();
        for instr in &program.code {
            let x = values[instr.args[0] as usize];
            values[instr.dst as usize] = match instr.overload.op {
                Op::Mul => x * values[instr.args[1] as usize],
                Op::Add => x + values[instr.args[1] as usize],
                Op::Sub => x - values[instr.args[1] as usize],
                Op::Powi => match program.registers[instr.args[1] as usize].role {
                    Role::Const(Scalar::Int64(n)) => powi(x, n),
                    _ => panic!("not a powi"),
                },
                op => panic!("{op:?} in a test program"),
            };
        }
        values[program.output as usize]
    }

    fn products(program: &Program) -> usize {
        (program.code.iter())
            .filter(|i| i.overload.op == Op::Mul)
            .count()
    }

    /// The products of `program` with each `powi` counted as its chain's:
    /// a squaring per bit below the highest, a product per set bit but one.
    fn chain_products(program: &Program) -> usize {
        (program.code.iter())
            .map(|i| match i.overload.op {
                Op::Mul => 1,
                Op::Powi => match program.registers[i.args[1] as usize].role {
                    Role::Const(Scalar::Int64(n)) => {
                        let n = n as u64;
                        (63 - n.leading_zeros() + n.count_ones() - 1) as usize
                    }
                    _ => panic!("not a powi"),
                },
                _ => 0,
            })
            .sum()
    }

    /// Sharing changes the count of products, not the bits: each program
    /// run on values whose products round (and a NaN, an infinity).
    fn assert_same_bits(original: &Program, shared: &Program) {
        for a in [1.1, -0.9999999, 3.7e-3, 1e20, f64::NAN, f64::INFINITY, -2.5] {
            let (want, got) = (run(original, a), run(shared, a));
            assert_eq!(want.to_bits(), got.to_bits(), "a = {a}: {want} vs {got}");
        }
    }

    #[test]
    fn each_square_and_reused_partial_is_made_once() {
        // a**3 is the partial product of a**7 and a**11; a**2, a**4 and
        // a**8 are squares.
        let source =
            "a**2 * a**3 * a**4 * a**5 * a**6 * a**7 * a**8 * a**9 * a**10 * a**11 * a**12";
        let original = program(source);
        let shared = share_squares(&original).expect("shared");
        assert!(shared.code.iter().all(|i| i.overload.op == Op::Mul));
        // 11 powers (a*a among them) from 11 products, and 10 to multiply them.
        assert_eq!(products(&shared), 11 + 10);
        assert_same_bits(&original, &shared);
    }

    #[test]
    fn a_power_into_the_output_is_made_there() {
        // out = a**4 (a square) or a**7 (a kept partial's product), after a
        // power of a that shares their squares and partials.
        for (first, last) in [("a**3", "a**4"), ("a**3 * a**7", "a**11")] {
            let mut original = program(&format!("{first} * {last}"));
            // Drop the final product: the last power writes the output.
            let product = original.code.pop().expect("a product");
            assert_eq!(product.overload.op, Op::Mul);
            original.code.last_mut().expect("a power").dst = original.output;
            let shared = share_squares(&original).expect("shared");
            assert_eq!(shared.code.last().map(|i| i.dst), Some(shared.output));
            assert_same_bits(&original, &shared);
        }
    }

    /// A product of powers of `a` and of `a*a`, as text: `a*a` is a square
    /// of `a`, `(a*a)**n` a power of a computed base, `a**n` a `powi`.
    fn arb_product_of_powers() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let power = (2u32..=16, any::<bool>()).prop_map(|(n, of_square)| match (n, of_square) {
            (_, true) => format!("(a*a)**{}", n.min(8)),
            (2, false) => "a*a".to_string(),
            _ => format!("a**{n}"),
        });
        prop::collection::vec(power, 2..9).prop_map(|powers| powers.join(" * "))
    }

    proptest::proptest! {
        #[test]
        fn random_products_of_powers_keep_their_bits(source in arb_product_of_powers()) {
            let original = program(&source);
            if let Some(shared) = share_squares(&original) {
                assert_same_bits(&original, &shared);
                // Never more products than the chains made (one more where
                // a power of two is made again into the output).
                proptest::prop_assert!(products(&shared) <= chain_products(&original) + 1);
            }
        }
    }

    #[test]
    fn a_base_written_again_makes_its_powers_anew() {
        // `a - 2.5` takes the register of `a + 1.5`, the first two's base.
        let original = program("(a + 1.5)**3 * ((a + 1.5)**5 * ((a - 2.5)**3 * (a - 2.5)**6))");
        let bases: Vec<_> = (original.code.iter())
            .filter(|i| matches!(i.overload.op, Op::Add | Op::Sub))
            .map(|i| i.dst)
            .collect();
        assert!(bases.len() == 2 && bases[0] == bases[1], "{bases:?}");
        let shared = share_squares(&original).expect("shared");
        assert_same_bits(&original, &shared);
    }
}
