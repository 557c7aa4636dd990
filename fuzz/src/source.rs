//! Expression text generated from fuzzer bytes.
//!
//! The generator is type directed: asked for an expression of some type, it
//! picks an operator, function, reduction, variable or literal that gives that
//! type, and asks for operands of types that make the whole well typed, or
//! that the type checker upcasts (`i + a`, `where(p, a, f)`). One request in
//! twenty is for a random type instead, which gives ill-typed expressions and
//! unusual upcasts. About a third of the expressions keep to what the
//! machine-code generator covers (float64 arithmetic, `where` on comparisons,
//! `sqrt`, `exp`, `log`, `sin`, `cos`, `tanh`, `arctan2`, constant powers), so
//! that the comparison of machine code with the passes always has work.
//!
//! Every operation is written fully parenthesized, so the text parses to the
//! tree that was generated (the parser's precedence rules are the compile
//! target's business). Depth and node count are bounded, and every choice
//! falls back to a leaf (usually a variable) when the bytes run out, so any
//! byte string gives a finite expression that reads variables.

use crate::vars::VARS;
use arbitrary::{Result, Unstructured};

/// The element type an expression is asked to have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ty {
    Bool,
    Int32,
    Int64,
    Float32,
    Float64,
    Complex,
    Bytes,
}

use Ty::{Bool, Bytes, Complex, Float32, Float64, Int32, Int64};

const ALL: [Ty; 7] = [Bool, Int32, Int64, Float32, Float64, Complex, Bytes];

/// The result types of whole expressions, float64 (the most used) weighted up.
const TOP: [Ty; 10] = [
    Float64, Float64, Float64, Float32, Int32, Int64, Bool, Bool, Complex, Bytes,
];

/// Deepest nesting of operations.
const MAX_DEPTH: u32 = 5;

/// Most operations in one expression (see [`expression`]).
pub const MAX_NODES: u32 = 14;

/// Unary math functions with float32, float64 and complex overloads.
const MATH: [&str; 19] = [
    "sqrt", "sin", "cos", "tan", "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh", "arcsinh",
    "arccosh", "arctanh", "log", "log1p", "log10", "log2", "exp", "expm1",
];

/// Unary functions of real floats only (in addition to [`MATH`]).
const REAL_ONLY: [&str; 6] = ["ceil", "floor", "trunc", "abs", "round", "sign"];

/// Binary functions of real floats.
const MATH2: [&str; 7] = [
    "arctan2",
    "fmod",
    "hypot",
    "nextafter",
    "copysign",
    "maximum",
    "minimum",
];

/// What machine code covers among the unary functions.
const JIT_MATH: [&str; 7] = ["sqrt", "exp", "log", "sin", "cos", "tanh", "abs"];

const CMP: [&str; 6] = ["<", "<=", "==", "!=", ">=", ">"];

/// Exponents of constant powers: numexpr's expansions (integers and halves
/// in [-50, 50]), `powi`'s range (3 to 16) and its edges, and ones that are
/// not expanded.
const POWERS: [&str; 16] = [
    "2", "3", "0.5", "(-1)", "(-2)", "1.5", "4", "16", "17", "(-0.5)", "0", "1", "2.5", "(-3)",
    "50", "0.3",
];

/// Exponents of constant powers of integers (a negative one is an error).
const INT_POWERS: [&str; 8] = ["2", "3", "0", "1", "4", "2", "3", "(-1)"];

/// Generates one expression of at most `max_nodes` operations from `u`.
pub fn expression(u: &mut Unstructured<'_>, max_nodes: u32) -> Result<String> {
    let jit_only = u.ratio(1, 3)?;
    let mut g = Gen {
        u,
        out: String::new(),
        budget: max_nodes,
        jit_only,
        vars_written: 0,
    };
    let top = if jit_only {
        Float64
    } else {
        *g.u.choose(&TOP)?
    };
    g.expr(top, MAX_DEPTH)?;
    Ok(g.out)
}

struct Gen<'u, 'a> {
    u: &'u mut Unstructured<'a>,
    out: String,
    /// Operations still allowed.
    budget: u32,
    /// Keep to float64 operations that machine code covers.
    jit_only: bool,
    /// Variables written so far.
    vars_written: u32,
}

impl Gen<'_, '_> {
    /// True with probability `n / d`; false once the bytes run out.
    fn chance(&mut self, n: u8, d: u8) -> Result<bool> {
        Ok(!self.u.is_empty() && self.u.ratio(n, d)?)
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> Result<T> {
        Ok(*self.u.choose(items)?)
    }

    fn push(&mut self, text: &str) {
        self.out.push_str(text);
    }

    /// An expression of type `want` (or, now and then, of another type).
    fn expr(&mut self, want: Ty, depth: u32) -> Result<()> {
        let want = if !self.jit_only && self.chance(1, 20)? {
            self.pick(&ALL)?
        } else {
            want
        };
        if depth == 0 || self.budget == 0 || self.u.is_empty() || self.u.ratio(1, 4)? {
            return self.leaf(want);
        }
        self.budget -= 1;
        let depth = depth - 1;
        if self.jit_only {
            return self.jit_float64(depth);
        }
        match want {
            Float64 => self.float64(depth),
            Float32 => self.float32(depth),
            Int32 => self.int32(depth),
            Int64 => self.int64(depth),
            Bool => self.boolean(depth),
            Complex => self.complex(depth),
            Bytes => self.bytes(depth),
        }
    }

    /// `(l op r)`.
    fn binary(&mut self, op: &str, l: Ty, r: Ty, depth: u32) -> Result<()> {
        self.push("(");
        self.expr(l, depth)?;
        self.push(" ");
        self.push(op);
        self.push(" ");
        self.expr(r, depth)?;
        self.push(")");
        Ok(())
    }

    /// `(op x)`.
    fn unary(&mut self, op: &str, t: Ty, depth: u32) -> Result<()> {
        self.push("(");
        self.push(op);
        self.expr(t, depth)?;
        self.push(")");
        Ok(())
    }

    /// `name(args...)`.
    fn call(&mut self, name: &str, args: &[Ty], depth: u32) -> Result<()> {
        self.push(name);
        self.push("(");
        for (k, &t) in args.iter().enumerate() {
            if k > 0 {
                self.push(", ");
            }
            // The sign of a NaN that an operation made from two NaNs is not
            // fixed (see `nans_may_meet` in the differential target): the
            // functions that read a sign read only a variable's or a literal's.
            let reads_sign = matches!((name, k), ("signbit", 0) | ("copysign", 1));
            if reads_sign {
                self.leaf(t)?;
            } else {
                self.expr(t, depth)?;
            }
        }
        self.push(")");
        Ok(())
    }

    /// `name(x)`, `name(x, axis=k)`, `name(x, k)` or `name(x, axis=None)`;
    /// the axes are mostly valid for inputs of up to three dimensions.
    fn reduction(&mut self, name: &str, t: Ty, depth: u32) -> Result<()> {
        self.push(name);
        self.push("(");
        // A reduction of a constant is refused: the operand must read a
        // variable, so one replaces an operand that reads none.
        let (start, vars) = (self.out.len(), self.vars_written);
        self.expr(t, depth)?;
        if self.vars_written == vars {
            self.out.truncate(start);
            self.variable(t)?;
        }
        match self.u.int_in_range(0..=5)? {
            0 | 1 => {}
            2 | 3 => {
                let axis = self.pick(&["0", "1", "2", "0", "1", "0", "3", "-1"])?;
                self.push(", axis=");
                self.push(axis);
            }
            4 => {
                let axis = self.pick(&["0", "1", "2"])?;
                self.push(", ");
                self.push(axis);
            }
            _ => self.push(", axis=None"),
        }
        self.push(")");
        Ok(())
    }

    /// `(x ** c)` for a constant `c`.
    fn const_power(&mut self, t: Ty, depth: u32) -> Result<()> {
        self.push("(");
        self.expr(t, depth)?;
        self.push(" ** ");
        let c = if matches!(t, Int32 | Int64) {
            // An integer to a negative constant power is refused.
            self.pick(&INT_POWERS)?
        } else {
            self.pick(&POWERS)?
        };
        self.push(c);
        self.push(")");
        Ok(())
    }

    /// Two operand types for a binary operation in type `main`: one is
    /// `main`, the other `main` or one of `others`, in either order.
    fn operands(&mut self, main: Ty, others: &[Ty]) -> Result<(Ty, Ty)> {
        let other = if self.u.ratio(1, 2)? {
            main
        } else {
            self.pick(others)?
        };
        Ok(if self.u.ratio(1, 2)? {
            (main, other)
        } else {
            (other, main)
        })
    }

    /// The shapes the optimizer fuses into one instruction, over `t`.
    fn fusable(&mut self, t: Ty, depth: u32) -> Result<()> {
        let d = depth.saturating_sub(1);
        match self.u.int_in_range(0..=9)? {
            // x*y + z, x*y - z, z - x*y
            0..=2 => {
                let (op, product_first) = self.pick(&[("+", true), ("-", true), ("-", false)])?;
                self.push("(");
                if !product_first {
                    self.expr(t, d)?;
                    self.push(&format!(" {op} "));
                }
                self.binary("*", t, t, d)?;
                if product_first {
                    self.push(&format!(" {op} "));
                    self.expr(t, d)?;
                }
                self.push(")");
                Ok(())
            }
            // x*y ± z*w
            3 => {
                let op = self.pick(&["+", "-"])?;
                self.push("(");
                self.binary("*", t, t, d)?;
                self.push(&format!(" {op} "));
                self.binary("*", t, t, d)?;
                self.push(")");
                Ok(())
            }
            // abs(x ± y), abs(x * y)
            4 | 5 => {
                let op = self.pick(&["+", "-", "*"])?;
                self.push("abs(");
                self.binary(op, t, t, d)?;
                self.push(")");
                Ok(())
            }
            // abs(x) + abs(y)
            6 => {
                self.push("(");
                self.call("abs", &[t], d)?;
                self.push(" + ");
                self.call("abs", &[t], d)?;
                self.push(")");
                Ok(())
            }
            // (-x) * y
            7 => {
                self.push("(");
                self.unary("-", t, d)?;
                self.push(" * ");
                self.expr(t, d)?;
                self.push(")");
                Ok(())
            }
            // where(p OP q, x, y)
            _ => {
                let op = self.pick(&CMP)?;
                self.push("where(");
                self.binary(op, t, t, d)?;
                self.push(", ");
                self.expr(t, d)?;
                self.push(", ");
                self.expr(t, d)?;
                self.push(")");
                Ok(())
            }
        }
    }

    fn float64(&mut self, depth: u32) -> Result<()> {
        match self.u.int_in_range(0..=11)? {
            0 | 1 => {
                let op = self.pick(&["+", "-", "*", "/", "//", "%", "**"])?;
                let (l, r) = self.operands(Float64, &[Float64, Float32, Int32, Int64, Bool])?;
                self.binary(op, l, r, depth)
            }
            2 => {
                let (l, r) = self.operands(Int32, &[Int64])?;
                self.binary("/", l, r, depth)
            }
            3 => {
                let op = self.pick(&["-", "+"])?;
                self.unary(op, Float64, depth)
            }
            4 => {
                let f = self.pick(&[&MATH[..], &REAL_ONLY[..], &["conj"]].concat())?;
                self.call(f, &[Float64], depth)
            }
            // Math functions of integers run in float64.
            5 => {
                let f = self.pick(&MATH)?;
                let t = self.pick(&[Int32, Int64, Bool])?;
                self.call(f, &[t], depth)
            }
            6 => {
                let f = self.pick(&MATH2)?;
                let other = self.pick(&[Float64, Float64, Float32, Int32])?;
                self.call(f, &[Float64, other], depth)
            }
            7 => {
                let other = self.pick(&[Float64, Float64, Float32, Int32, Int64])?;
                self.call("where", &[Bool, Float64, other], depth)
            }
            8 => match self.u.int_in_range(0..=4)? {
                0 => self.call("real", &[Complex], depth),
                1 => self.call("imag", &[Complex], depth),
                2 => self.call("abs", &[Complex], depth),
                3 => {
                    self.push("(");
                    self.expr(Complex, depth)?;
                    self.push(").real");
                    Ok(())
                }
                _ => {
                    self.push("(");
                    self.expr(Complex, depth)?;
                    self.push(").imag");
                    Ok(())
                }
            },
            9 => {
                let r = self.pick(&["sum", "prod", "min", "max"])?;
                self.reduction(r, Float64, depth)
            }
            10 => self.const_power(Float64, depth),
            _ => self.fusable(Float64, depth),
        }
    }

    fn float32(&mut self, depth: u32) -> Result<()> {
        match self.u.int_in_range(0..=8)? {
            0 | 1 => {
                let op = self.pick(&["+", "-", "*", "/", "//", "%", "**"])?;
                let (l, r) = self.operands(Float32, &[Float32, Int32, Int64, Bool])?;
                self.binary(op, l, r, depth)
            }
            2 => self.unary("-", Float32, depth),
            3 => {
                let f = self.pick(&[&MATH[..], &REAL_ONLY[..]].concat())?;
                self.call(f, &[Float32], depth)
            }
            4 => {
                let f = self.pick(&MATH2)?;
                let other = self.pick(&[Float32, Int32])?;
                self.call(f, &[Float32, other], depth)
            }
            5 => self.call("where", &[Bool, Float32, Float32], depth),
            6 => {
                let r = self.pick(&["sum", "prod", "min", "max"])?;
                self.reduction(r, Float32, depth)
            }
            7 => self.const_power(Float32, depth),
            _ => self.fusable(Float32, depth),
        }
    }

    fn int32(&mut self, depth: u32) -> Result<()> {
        match self.u.int_in_range(0..=7)? {
            0 | 1 => {
                let op = self.pick(&["+", "-", "*", "//", "%", "**", "<<", ">>", "&", "|", "^"])?;
                let (l, r) = self.operands(Int32, &[Int32, Bool])?;
                self.binary(op, l, r, depth)
            }
            2 => {
                let op = self.pick(&["-", "~"])?;
                self.unary(op, Int32, depth)
            }
            3 => {
                let f = self.pick(&["abs", "sign", "round"])?;
                self.call(f, &[Int32], depth)
            }
            4 => self.call("where", &[Bool, Int32, Int32], depth),
            5 => self.call("ones_like", &[Int32], depth),
            6 => {
                let r = self.pick(&["min", "max"])?;
                self.reduction(r, Int32, depth)
            }
            _ => self.const_power(Int32, depth),
        }
    }

    fn int64(&mut self, depth: u32) -> Result<()> {
        match self.u.int_in_range(0..=6)? {
            0 | 1 => {
                let op = self.pick(&["+", "-", "*", "//", "%", "**", "<<", ">>", "&", "|", "^"])?;
                let (l, r) = self.operands(Int64, &[Int64, Int32, Bool])?;
                self.binary(op, l, r, depth)
            }
            2 => {
                let op = self.pick(&["-", "~"])?;
                self.unary(op, Int64, depth)
            }
            3 => {
                let f = self.pick(&["abs", "sign", "round", "ones_like"])?;
                self.call(f, &[Int64], depth)
            }
            4 => {
                let other = self.pick(&[Int64, Int32])?;
                self.call("where", &[Bool, Int64, other], depth)
            }
            // Sums and products of booleans and integers are int64.
            5 => {
                let r = self.pick(&["sum", "prod"])?;
                let t = self.pick(&[Int32, Int64, Bool])?;
                self.reduction(r, t, depth)
            }
            _ => {
                let r = self.pick(&["min", "max"])?;
                self.reduction(r, Int64, depth)
            }
        }
    }

    fn boolean(&mut self, depth: u32) -> Result<()> {
        match self.u.int_in_range(0..=8)? {
            0..=2 => {
                let op = self.pick(&CMP)?;
                let t = self.pick(&[Float64, Float64, Float32, Int32, Int64, Bool, Bytes])?;
                let (l, r) = if t == Bytes {
                    (Bytes, Bytes)
                } else {
                    self.operands(t, &[Float64, Int32, Float32, Int64])?
                };
                self.binary(op, l, r, depth)
            }
            3 => {
                let op = self.pick(&["&", "|", "^"])?;
                self.binary(op, Bool, Bool, depth)
            }
            4 => self.unary("~", Bool, depth),
            5 => {
                let op = self.pick(&["==", "!="])?;
                let (l, r) = self.operands(Complex, &[Complex, Float64])?;
                self.binary(op, l, r, depth)
            }
            6 => {
                let f = self.pick(&["isnan", "isinf", "isfinite", "signbit"])?;
                let t = if f == "signbit" {
                    self.pick(&[Float64, Float32])?
                } else {
                    self.pick(&[Float64, Float32, Complex])?
                };
                self.call(f, &[t], depth)
            }
            7 => self.call("contains", &[Bytes, Bytes], depth),
            _ => {
                if self.u.ratio(1, 2)? {
                    self.call("where", &[Bool, Bool, Bool], depth)
                } else {
                    let r = self.pick(&["min", "max"])?;
                    self.reduction(r, Bool, depth)
                }
            }
        }
    }

    fn complex(&mut self, depth: u32) -> Result<()> {
        match self.u.int_in_range(0..=7)? {
            0 | 1 => {
                let op = self.pick(&["+", "-", "*", "/", "**"])?;
                let (l, r) = self.operands(Complex, &[Complex, Float64, Int32])?;
                self.binary(op, l, r, depth)
            }
            2 => self.unary("-", Complex, depth),
            3 => {
                let f = self.pick(&[&MATH[..], &["round", "sign", "conj"]].concat())?;
                self.call(f, &[Complex], depth)
            }
            4 => self.call("complex", &[Float64, Float64], depth),
            5 => {
                let other = self.pick(&[Complex, Float64])?;
                self.call("where", &[Bool, Complex, other], depth)
            }
            6 => {
                let r = self.pick(&["sum", "prod"])?;
                self.reduction(r, Complex, depth)
            }
            _ => self.const_power(Complex, depth),
        }
    }

    fn bytes(&mut self, depth: u32) -> Result<()> {
        self.call("where", &[Bool, Bytes, Bytes], depth)
    }

    /// A float64 operation that machine code covers, on float64 operands.
    fn jit_float64(&mut self, depth: u32) -> Result<()> {
        match self.u.int_in_range(0..=7)? {
            0 | 1 => {
                let op = self.pick(&["+", "-", "*", "/"])?;
                self.binary(op, Float64, Float64, depth)
            }
            2 => self.unary("-", Float64, depth),
            3 => {
                let f = self.pick(&JIT_MATH)?;
                self.call(f, &[Float64], depth)
            }
            4 => self.call("arctan2", &[Float64, Float64], depth),
            5 => self.const_power(Float64, depth),
            _ => self.fusable(Float64, depth),
        }
    }

    /// A variable of type `t`.
    fn variable(&mut self, t: Ty) -> Result<()> {
        let names: Vec<&str> = VARS
            .iter()
            .filter(|(_, d)| ty_of(*d) == t)
            .map(|(n, _)| *n)
            .collect();
        let name = self.pick(&names)?;
        self.push(name);
        self.vars_written += 1;
        Ok(())
    }

    /// A variable (three times in four) or a literal of type `t`.
    fn leaf(&mut self, t: Ty) -> Result<()> {
        if self.u.is_empty() || self.u.ratio(3, 4)? {
            return self.variable(t);
        }
        let literal = match t {
            Bool => self.pick(&["True", "False"])?,
            Int32 => self.pick(&[
                "0",
                "1",
                "2",
                "3",
                "7",
                "(-1)",
                "31",
                "32",
                "255",
                "2147483647",
                "(-2147483648)",
                "0x7f",
                "0b101",
                "0o17",
                "1_000",
            ])?,
            Int64 => self.pick(&[
                "2147483648",
                "4294967296",
                "9223372036854775807",
                "(-9223372036854775807)",
                "(-2147483649)",
            ])?,
            // There are no float32 literals.
            Float32 => return self.variable(Float32),
            Float64 => self.pick(&[
                "0.5",
                "2.0",
                "1.5",
                "0.0",
                "(-0.0)",
                "1e308",
                "1e-308",
                "5e-324",
                "2.2250738585072014e-308",
                "3.0",
                "10.0",
                ".5",
                "1.",
                "709.78",
                "(-745.2)",
                "0.1",
                "(-1.5)",
                "1e16",
            ])?,
            Complex => self.pick(&["1j", "2.5j", "0j", "(-1j)", "1e308j", "(1 + 2j)"])?,
            Bytes => self.pick(&[
                "'ab'",
                "b'abcd'",
                "''",
                "'abcde'",
                "b'\\x00a'",
                "'b'",
                "'\\xff'",
            ])?,
        };
        self.push(literal);
        Ok(())
    }
}

/// The generator's type of a dtype.
pub fn ty_of(dtype: vexpr::DType) -> Ty {
    use vexpr::DType as D;
    match dtype {
        D::Bool => Bool,
        D::Int32 => Int32,
        D::Int64 => Int64,
        D::Float32 => Float32,
        D::Float64 => Float64,
        D::Complex128 => Complex,
        D::Bytes(_) => Bytes,
    }
}
