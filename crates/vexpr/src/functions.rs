//! The one table of operators and functions, and the identities every stage
//! names operations by.
//!
//! Every operator and function of the language is one [`Function`] here,
//! named by an [`Op`]: its arity, how its result type is chosen ([`Rule`],
//! numexpr's rules), and its [`Overload`]s, each an exact list of operand
//! types with the kernel compiled for them. The four reductions, which run
//! outside the element-wise table, are named by a [`Reduction`]. The parser
//! needs no list of functions (a call is any name followed by parentheses);
//! the type checker turns a called name into an [`Op`] or a [`Reduction`]
//! here and picks a signature; the optimizer and code generation name the
//! entries they make by their [`Op`]; code generation copies the signature's
//! kernel into the instruction; `vexpr dis` prints the signature's name; the
//! function reference in the docs is printed from this table
//! ([`reference_markdown`]).
//!
//! Text appears only where text is the point: [`Op::from_name`] and
//! [`Reduction::from_name`] read what the user wrote, [`Op::name`] and the
//! overload names print. Everything else compares identities, so a misspelt
//! operation does not compile.
//!
//! Overload names follow numexpr's opcodes: `add_ddd` returns a `d` (float64)
//! from two `d`s. Type codes: `b` bool, `i` int32, `l` int64, `f` float32,
//! `d` float64, `c` complex128, `s` byte string.
//!
//! This module sits low in the pipeline: it depends on the element types
//! (`dtype`) and the element loops (`kernels`) only, and every stage above
//! it (type checking, optimizing, staging, code generation, machine code,
//! the VM) reads it.

use crate::dtype::DType;
use crate::kernels::arith::*;
use crate::kernels::{Kernel, KernelResult, Operand, complex, kernel, slice_kernel, vmath};
use num_complex::Complex64;
use std::sync::LazyLock;

/// Declares an enum of named identities from one list of `Variant = "name"`
/// pairs: the enum, [`Op::ALL`]-style list in declaration order, the count,
/// the names, and the lookup by name, so that the list is written once.
macro_rules! identities {
    (
        $(#[$meta:meta])*
        pub enum $enum:ident { $($variant:ident = $name:literal,)+ }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $enum {
            $(
                #[doc = concat!("`", $name, "`")]
                $variant,
            )+
        }

        impl $enum {
            /// How many there are.
            pub const COUNT: usize = [$($name,)+].len();

            /// Every one, in declaration order.
            pub const ALL: [$enum; $enum::COUNT] = [$($enum::$variant,)+];

            /// Their names, in the order of [`Self::ALL`].
            pub const NAMES: [&'static str; $enum::COUNT] = [$($name,)+];

            /// The name written in expressions and printed.
            pub const fn name(self) -> &'static str {
                match self {
                    $($enum::$variant => $name,)+
                }
            }

            /// The identity a name stands for, or `None` for any other text.
            pub fn from_name(name: &str) -> Option<$enum> {
                match name {
                    $($name => Some($enum::$variant),)+
                    _ => None,
                }
            }
        }
    };
}

identities! {
    /// An operator or function of the table, by identity: one variant per
    /// [`Function`], in the table's order (the order of the reference in
    /// `docs/functions.md`). The stages name the entries they make by these,
    /// so a misspelt entry is a compile error; [`Op::from_name`] reads a name
    /// the user wrote, [`Op::name`] prints one.
    pub enum Op {
        Cast = "cast",
        OnesLike = "ones_like",
        MulAdd = "mul_add",
        MulSub = "mul_sub",
        SubMul = "sub_mul",
        MulAddMul = "mul_add_mul",
        MulSubMul = "mul_sub_mul",
        Copy = "copy",
        Add = "add",
        Sub = "sub",
        Mul = "mul",
        Div = "div",
        FloorDiv = "floordiv",
        Mod = "mod",
        Pow = "pow",
        Neg = "neg",
        And = "and",
        Or = "or",
        Xor = "xor",
        Invert = "invert",
        AndNot = "and_not",
        OrNot = "or_not",
        LShift = "lshift",
        RShift = "rshift",
        Lt = "lt",
        Le = "le",
        Gt = "gt",
        Ge = "ge",
        Eq = "eq",
        Ne = "ne",
        Where = "where",
        AbsAdd = "abs_add",
        AbsSub = "abs_sub",
        AbsMul = "abs_mul",
        AddAbs = "add_abs",
        NegMul = "neg_mul",
        Powi = "powi",
        WhereLt = "where_lt",
        WhereLe = "where_le",
        WhereGt = "where_gt",
        WhereGe = "where_ge",
        WhereEq = "where_eq",
        WhereNe = "where_ne",
        Contains = "contains",
        Sqrt = "sqrt",
        Sin = "sin",
        Cos = "cos",
        Tan = "tan",
        Arcsin = "arcsin",
        Arccos = "arccos",
        Arctan = "arctan",
        Sinh = "sinh",
        Cosh = "cosh",
        Tanh = "tanh",
        Arcsinh = "arcsinh",
        Arccosh = "arccosh",
        Arctanh = "arctanh",
        Log = "log",
        Log1p = "log1p",
        Log10 = "log10",
        Log2 = "log2",
        Exp = "exp",
        Expm1 = "expm1",
        Ceil = "ceil",
        Floor = "floor",
        Trunc = "trunc",
        Abs = "abs",
        Round = "round",
        Sign = "sign",
        Arctan2 = "arctan2",
        Fmod = "fmod",
        Hypot = "hypot",
        Nextafter = "nextafter",
        Copysign = "copysign",
        Maximum = "maximum",
        Minimum = "minimum",
        Isnan = "isnan",
        Isfinite = "isfinite",
        Isinf = "isinf",
        Signbit = "signbit",
        Real = "real",
        Imag = "imag",
        Complex = "complex",
        Conj = "conj",
    }
}

identities! {
    /// The four reductions, which run outside the element-wise table (an
    /// array in, one value or one value per lane out; the VM's
    /// `vm/reduce.rs` computes them). They are named here, below every
    /// stage, because the type checker, the typed IR, the optimizer, the
    /// staging and the VM all name them.
    pub enum Reduction {
        Sum = "sum",
        Prod = "prod",
        Min = "min",
        Max = "max",
    }
}

impl Reduction {
    /// The result type for operands of `dtype`, or `None` if refused:
    /// `sum` and `prod` accumulate booleans and integers in int64 and keep
    /// any other type; `min` and `max` keep the type and refuse complex
    /// numbers; strings are refused.
    pub fn result(self, dtype: DType) -> Option<DType> {
        match (self, dtype) {
            (_, DType::Bytes(_)) => None,
            (Reduction::Sum | Reduction::Prod, DType::Bool | DType::Int32 | DType::Int64) => {
                Some(DType::Int64)
            }
            (Reduction::Sum | Reduction::Prod, other) => Some(other),
            (Reduction::Min | Reduction::Max, DType::Complex128) => None,
            (Reduction::Min | Reduction::Max, other) => Some(other),
        }
    }
}

/// Names of the reductions, which are handled outside the element-wise table
/// (the names of `Reduction::ALL`).
pub const REDUCTIONS: [&str; Reduction::COUNT] = Reduction::NAMES;

/// The operations the run-time code generator (`jit`) emits, named
/// by the table on the float64 overloads they implement. They live here, with
/// the table, so that the table does not depend on the code generator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JitOp {
    /// `x + y`
    Add,
    /// `x - y`
    Sub,
    /// `x * y`
    Mul,
    /// `x / y`, correctly rounded.
    Div,
    /// `-x`
    Neg,
    /// `abs(x)`
    Abs,
    /// `x*y + z`, two roundings.
    MulAdd,
    /// `x*y - z`, two roundings.
    MulSub,
    /// `z - x*y`, two roundings.
    SubMul,
    /// `x*y + z*w`, three roundings.
    MulAddMul,
    /// `x*y - z*w`, three roundings.
    MulSubMul,
    /// `(-x) * y`
    NegMul,
    /// `abs(x + y)`
    AbsAdd,
    /// `abs(x - y)`
    AbsSub,
    /// `abs(x * y)`
    AbsMul,
    /// `abs(x) + abs(y)`
    AddAbs,
    /// `x ** n` by numexpr's multiplication chain, `n` a constant operand.
    Powi,
    /// `sqrt(x)`, correctly rounded.
    Sqrt,
    /// Python's `x // y` on floats (NumPy's `floor_divide`), the fast path
    /// of the vmath kernel (quotients below its limit, finite operands).
    FloorDiv,
    /// Python's `x % y` on floats (NumPy's `remainder`), the fast path of
    /// the vmath kernel (quotients below its limit, finite operands).
    Mod,
    /// C's `fmod(x, y)`, the fast path of the vmath kernel (as [`JitOp::Mod`]).
    Fmod,
    /// Float64 `x ** y`, the table route of the vmath kernel (`vmath::pow`'s
    /// vector kernels: |x| normal, |y| times x's exponent within a bound),
    /// on float64 alone.
    Pow,
    /// `exp(x)`, the fast path of the vmath kernel.
    Exp,
    /// `log(x)`, the fast path of the vmath kernel.
    Log,
    /// `sin(x)`, the fast path of the vmath kernel (|x| <= 2^20).
    Sin,
    /// `cos(x)`, the fast path of the vmath kernel (|x| <= 2^20).
    Cos,
    /// `tanh(x)`, the whole vmath lane function.
    Tanh,
    /// `arctan2(y, x)`, the fast path of the vmath kernel (operands of
    /// magnitude in [2^-500, 2^500]).
    Atan2,
    /// `log2(x)` of float32 alone (`vmath::explog32::log2_normal`, positive
    /// normal `x`): the float64 kernels are others at each level.
    Log2,
    /// `log10(x)` of float32 alone (`vmath::explog32::log10_normal`).
    Log10,
    /// `log1p(x)` of float32 alone (`vmath::explog32::log1p_normal`,
    /// -1 < x < inf).
    Log1p,
    /// `expm1(x)` of float32 alone (`vmath::explog32::expm1_normal`,
    /// |x| <= 87).
    Expm1,
    /// `sinh(x)` of float32 alone (`vmath::explog32::sinh_normal`,
    /// |x| <= 87).
    Sinh,
    /// `cosh(x)` of float32 alone (`vmath::explog32::cosh_normal`,
    /// |x| <= 87).
    Cosh,
    /// `arctan(x)` of float32 alone (`vmath::trig32::atan`, every `x`:
    /// `atan2_ordinary(x, 1)`).
    Atan,
    /// `where(p OP q, x, y)`
    Where(Compare),
    /// `where(c, x, y)` on a boolean `c`: a lane mask in the loop (a
    /// comparison's, or a stored boolean input's bytes widened to one).
    Select,
    /// A float32 or int32 input widened to float64 (`cast_df`, `cast_di`):
    /// exact, so the loop converts the input as it loads it
    /// (`vcvtps2pd`, `vcvtdq2pd`) and this is a register copy.
    Widen,
    /// NumPy's `maximum(x, y)`: `x` where `x > y` or `x` is NaN, else `y`.
    Maximum,
    /// NumPy's `minimum(x, y)`: `x` where `x < y` or `x` is NaN, else `y`.
    Minimum,
    /// `copysign(x, y)`: the magnitude's bits of `x`, the sign bit of `y`.
    Copysign,
    /// NumPy's `sign(x)`: 1, -1 or 0 (`+0` for both zeros); NaN stays.
    Sign,
    /// `trunc`, `floor`, `ceil`, `round` (halves to even): the
    /// instruction's rounding (`vroundpd`), which the passes' loops also
    /// compile to.
    Round(Rounding),
    /// A comparison of two floats into a boolean: a lane mask in the loop,
    /// made bytes of 0 and 1 as the result is stored.
    Compare(Compare),
    /// Logic on booleans (lane masks).
    Logic(Logic),
    /// `x << y` on integers (`kernels::arith::int_shl`: 0 for a count
    /// outside `0..width`, as `vpsllvd`/`vpsllvq` give).
    ShiftLeft,
    /// `x >> y` on integers, arithmetic (`kernels::arith::int_shr`: the sign
    /// for a count outside `0..width`).
    ShiftRight,
    /// A test of a float's class into a boolean (a lane mask): `isnan`,
    /// `isfinite`, `isinf`, `signbit`.
    Test(FloatTest),
    /// `ones_like(x)`: 1 in every lane, whatever `x` holds.
    OnesLike,
}

/// The test of a [`JitOp::Test`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FloatTest {
    /// `isnan(x)`
    Nan,
    /// `isfinite(x)`: neither infinite nor NaN.
    Finite,
    /// `isinf(x)`
    Inf,
    /// `signbit(x)`: the sign bit, set for `-0.0` and negative NaNs too.
    SignBit,
}

/// The operation of a [`JitOp::Logic`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Logic {
    /// `x & y`
    And,
    /// `x | y`
    Or,
    /// `x ^ y`
    Xor,
    /// `~x`
    Not,
    /// `x & ~y`
    AndNot,
    /// `x | ~y`
    OrNot,
}

/// The rounding of a [`JitOp::Round`], as `vroundpd`'s immediate numbers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rounding {
    /// To the nearest integer, halves to even (`round`).
    Even = 0,
    /// Down (`floor`).
    Floor = 1,
    /// Up (`ceil`).
    Ceil = 2,
    /// Toward zero (`trunc`).
    Trunc = 3,
}

impl JitOp {
    /// Whether the code generator also emits the operation on float32: the
    /// IEEE operations and the roundings, whose float32 passes it matches bit
    /// for bit with the instructions' float32 forms, and `exp`, `log`,
    /// `tanh`, `sin`, `cos`, `arctan2`, `arctan`, `log2`, `log10`, `log1p`,
    /// `expm1`, `sinh` and `cosh`, whose float32 kernels
    /// (`vmath::explog32::exp_normal`, `log_normal`, `tanh`, `log2_normal`,
    /// `log10_normal`, `log1p_normal`, `expm1_normal`, `sinh_normal`,
    /// `cosh_normal`, `vmath::trig32::sin_small`, `cos_small`, `atan`,
    /// `atan2_ordinary`) it performs step by step. The other math
    /// functions' float32 kernels (`vmath::*32`) stay on passes, as does
    /// float32 `**` (its [`JitOp::Pow`] is float64's alone). (`maximum`,
    /// `minimum`, `copysign` and `sign` of float32 are computed in float64,
    /// as numexpr does: their float32 forms never run.)
    pub fn in_float32(self) -> bool {
        !matches!(
            self,
            JitOp::ShiftLeft
                | JitOp::ShiftRight
                | JitOp::Widen
                | JitOp::Maximum
                | JitOp::Minimum
                | JitOp::Copysign
                | JitOp::Sign
                | JitOp::Pow
        )
    }

    /// Whether the operation is one of the math functions the code generator
    /// emits as a float32 lane function of its own (`exp`, `log`, `tanh`,
    /// `sin`, `cos`, `arctan2`, `arctan`, `log2`, `log10`, `log1p`,
    /// `expm1`, `sinh`, `cosh`), not an
    /// IEEE operation: what a float64 program in halves weighs (`jit::plan`)
    /// and what AVX-512 CPUs leave to the passes
    /// (`jit::avx512_keeps_passes`).
    pub fn is_float32_function(self) -> bool {
        matches!(
            self,
            JitOp::Exp
                | JitOp::Log
                | JitOp::Tanh
                | JitOp::Sin
                | JitOp::Cos
                | JitOp::Atan2
                | JitOp::Log2
                | JitOp::Log10
                | JitOp::Log1p
                | JitOp::Expm1
                | JitOp::Sinh
                | JitOp::Cosh
                | JitOp::Atan
        )
    }

    /// Whether a float64 program's float32 operation runs in the low half
    /// of its vectors (`jit::plan::Plan::half`): the float32 operations
    /// ([`JitOp::in_float32`]) but the boolean logic, whose lane masks are
    /// the float64 lanes' there, and `//`, `%` and `fmod`. So the arithmetic and the
    /// roundings, whose values meet the float64 ones only through a
    /// widening; the comparisons and class tests, whose 32-bit lane masks
    /// are widened to the float64 lanes' (`Kernels::widen_mask`); `where` of
    /// a float32 comparison; and `where` of float32 values by a boolean,
    /// whose lane mask is narrowed to the float32 lanes'
    /// (`Kernels::narrow_mask`); and the float32 math functions
    /// ([`JitOp::is_float32_function`]), whose tests of the lanes their fast paths take read the
    /// low half alone (at AVX2, `Emitter::bail_if`).
    pub fn in_halves(self) -> bool {
        self.in_float32()
            && !matches!(
                self,
                JitOp::Logic(_) | JitOp::FloorDiv | JitOp::Mod | JitOp::Fmod
            )
    }

    /// Whether the code generator emits the operation on int32 and int64
    /// lanes (the AVX2 lowering, `vpaddd`/`vpaddq` and the like), with the
    /// passes' wrapping results: the arithmetic but division, the
    /// comparisons and selects, the bitwise operations (`Logic`, the same
    /// instructions as on lane masks), the shifts, and `abs`.
    pub fn on_integers(self) -> bool {
        matches!(
            self,
            JitOp::Add
                | JitOp::Sub
                | JitOp::Mul
                | JitOp::MulAdd
                | JitOp::MulSub
                | JitOp::SubMul
                | JitOp::MulAddMul
                | JitOp::MulSubMul
                | JitOp::Neg
                | JitOp::Abs
                | JitOp::ShiftLeft
                | JitOp::ShiftRight
                | JitOp::Where(_)
                | JitOp::Compare(_)
                | JitOp::Logic(_)
        )
    }

    /// Whether the operation's result depends on its operands' values:
    /// all but `ones_like`, whose operand gives only the shape. The loop
    /// does not load an input that no such operation reads.
    pub fn reads_operands(self) -> bool {
        self != JitOp::OnesLike
    }
}

/// The comparison of a fused `where`; false when either side is NaN, except
/// `Ne`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compare {
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `==`
    Eq,
    /// `!=`
    Ne,
}

/// An operand type in a signature: numexpr's type codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TypeCode {
    /// bool
    B,
    /// int32
    I,
    /// int64
    L,
    /// float32
    F,
    /// float64
    D,
    /// complex128
    C,
    /// byte string of any width
    S,
}

impl TypeCode {
    /// The code of a dtype.
    pub fn of(dtype: DType) -> TypeCode {
        match dtype {
            DType::Bool => TypeCode::B,
            DType::Int32 => TypeCode::I,
            DType::Int64 => TypeCode::L,
            DType::Float32 => TypeCode::F,
            DType::Float64 => TypeCode::D,
            DType::Complex128 => TypeCode::C,
            DType::Bytes(_) => TypeCode::S,
        }
    }

    /// The numeric dtype of a code (`None` for strings, whose width varies).
    pub fn dtype(self) -> Option<DType> {
        Some(match self {
            TypeCode::B => DType::Bool,
            TypeCode::I => DType::Int32,
            TypeCode::L => DType::Int64,
            TypeCode::F => DType::Float32,
            TypeCode::D => DType::Float64,
            TypeCode::C => DType::Complex128,
            TypeCode::S => return None,
        })
    }

    /// The letter numexpr uses.
    pub fn letter(self) -> char {
        match self {
            TypeCode::B => 'b',
            TypeCode::I => 'i',
            TypeCode::L => 'l',
            TypeCode::F => 'f',
            TypeCode::D => 'd',
            TypeCode::C => 'c',
            TypeCode::S => 's',
        }
    }
}

/// How the type in which a function runs (its "kind") is chosen from its
/// operands, following numexpr's `expressions.py`. The chosen kind is then
/// matched against the function's overloads, upcasting operands as needed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// The highest kind among the operands (`a + b`); strings only with strings.
    Common,
    /// Returns this type; operands are upcast until an overload fits
    /// (comparisons and predicates return bool, `real` returns float64).
    Returns(TypeCode),
    /// Like `Common`, but booleans and integers run in float64 (true division `/`).
    TrueDiv,
    /// A math function: booleans and integers run in float64, unless
    /// `ints_keep` (`abs`, `round`, `sign`); `min` and `max` bound the kind.
    Math {
        /// Lowest kind it runs in.
        min: Option<DType>,
        /// Highest kind it runs in.
        max: Option<DType>,
        /// Integers keep their type instead of becoming float64.
        ints_keep: bool,
        /// A complex operand gives a float64 result (`abs`).
        complex_to_real: bool,
    },
    /// `where(c, x, y)`: runs in the common kind of all three operands.
    Where,
    /// A conversion inserted by the type checker (never called by name).
    Cast,
    /// A fused instruction made by the optimizer (never called by name).
    Fused,
}

/// One exact typing of a function, with its kernel.
#[derive(Debug)]
pub struct Overload {
    /// The table entry this is a typing of.
    pub op: Op,
    /// Result type.
    pub ret: TypeCode,
    /// Operand types.
    pub args: Vec<TypeCode>,
    /// The element loop.
    pub kernel: Kernel,
    /// numexpr-style name, such as `add_ddd`.
    pub name: String,
    /// Cost per element relative to a simple arithmetic kernel (see
    /// [`Function::cost`]).
    pub cost: u32,
    /// The operation the run-time code generator (`jit`) emits for
    /// this overload, if it covers it (float64, and float32 where
    /// [`JitOp::in_float32`]).
    pub jit: Option<JitOp>,
    /// Its kernel reads a boolean operand's byte as NumPy does, zero false
    /// and any other byte true, and writes booleans as 0 or 1: a NumPy
    /// boolean input that only such overloads read needs no check for bytes
    /// other than 0 and 1 (`vm/mod.rs`, `Run::block_once`), and machine
    /// code may read it (`jit/plan.rs`).
    pub any_byte_true: bool,
}

/// An operator or function of the language.
#[derive(Debug)]
pub struct Function {
    /// Which entry this is; [`Function::name`] is its name.
    pub op: Op,
    /// The operator symbol, for operators.
    pub symbol: Option<&'static str>,
    /// Number of operands.
    pub arity: usize,
    /// How the result kind is chosen.
    pub rule: Rule,
    /// One line for the reference.
    pub doc: &'static str,
    /// The exact typings, in the order they are tried.
    pub overloads: Vec<Overload>,
    /// Rough cost per element of its kernels, in passes of a simple arithmetic
    /// kernel such as `mul_ddd` (one L1-resident pass, ~0.08 ns/elem here): 1,
    /// or [`TRANSCENDENTAL_COST`] for the vectorized math functions, square
    /// roots and powers (0.5-1.4 ns/elem measured with `vexpr bench`), half
    /// of it for the float32 overloads of the vector math functions (16
    /// lanes a vector). The VM weighs instructions by it when it decides
    /// whether a run is worth a second thread.
    pub cost: u32,
}

/// The cost of the expensive math functions, in simple passes.
pub const TRANSCENDENTAL_COST: u32 = 8;

impl Rule {
    /// A math function running in at least the kind `min`, with integers in float64.
    pub const fn math(min: Option<DType>) -> Rule {
        Rule::Math {
            min,
            max: None,
            ints_keep: false,
            complex_to_real: false,
        }
    }
}

impl Function {
    /// The name used in calls, or the operator's name (`add` for `+`).
    pub fn name(&self) -> &'static str {
        self.op.name()
    }

    /// True for the names a user may call as `name(...)`.
    pub fn is_callable(&self) -> bool {
        self.symbol.is_none() && !matches!(self.rule, Rule::Cast | Rule::Fused)
    }

    /// The signature with exactly these result and operand codes.
    pub fn overload(&self, ret: TypeCode, args: &[TypeCode]) -> Option<&Overload> {
        self.overloads
            .iter()
            .find(|s| s.ret == ret && s.args == args)
    }
}

/// All functions, indexed by [`Op`] (`TABLE[Op::Add]`) or looked up by name.
pub struct Table {
    /// One per [`Op`], at the index of its variant.
    functions: Vec<Function>,
}

impl Table {
    /// Looks a function or operator up by the name a user wrote.
    pub fn get(&self, name: &str) -> Option<&Function> {
        Op::from_name(name).map(|op| &self[op])
    }

    /// Every function, in table order.
    pub fn iter(&self) -> impl Iterator<Item = &Function> {
        self.functions.iter()
    }

    /// The names a user may call, for error suggestions and completion.
    pub fn callable_names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.functions
            .iter()
            .filter(|f| f.is_callable())
            .map(Function::name)
    }
}

impl std::ops::Index<Op> for Table {
    type Output = Function;

    /// The entry of `op`; every [`Op`] has one.
    fn index(&self, op: Op) -> &Function {
        &self.functions[op as usize]
    }
}

/// The table, built once on first use.
pub static TABLE: LazyLock<Table> = LazyLock::new(build_table);

/// A table entry with no overloads yet, of cost 1.
fn entry(
    op: Op,
    symbol: Option<&'static str>,
    arity: usize,
    rule: Rule,
    doc: &'static str,
) -> Function {
    Function {
        op,
        symbol,
        arity,
        rule,
        doc,
        overloads: Vec::new(),
        cost: 1,
    }
}

impl Function {
    /// Marks the overloads registered after this call as expensive.
    fn transcendental(&mut self) -> &mut Self {
        self.cost = TRANSCENDENTAL_COST;
        self
    }

    fn sig(&mut self, ret: TypeCode, args: &[TypeCode], kernel: Kernel) -> &mut Self {
        debug_assert_eq!(args.len(), self.arity, "{}: arity", self.name());
        let letters: String = std::iter::once(ret)
            .chain(args.iter().copied())
            .map(TypeCode::letter)
            .collect();
        self.overloads.push(Overload {
            op: self.op,
            ret,
            args: args.to_vec(),
            kernel,
            name: format!("{}_{}", self.name(), letters),
            cost: self.cost,
            jit: None,
            any_byte_true: false,
        });
        self
    }

    /// Marks the overload registered last as [`Overload::any_byte_true`]:
    /// its kernel must read a boolean's zero byte as false and any other
    /// byte as true.
    fn any_byte_true(&mut self) -> &mut Self {
        self.overloads
            .last_mut()
            .expect("an overload was just registered")
            .any_byte_true = true;
        self
    }

    /// Names the code generator's operation for the float64 overload
    /// registered so far (the one returning float64 from float64 operands,
    /// besides `powi`'s integer exponent), and for the float32 one likewise
    /// when the operation is [`in_float32`](JitOp::in_float32).
    /// Names `op` as the machine code of the overload of exactly these types.
    fn jit_on(&mut self, ret: TypeCode, args: &[TypeCode], op: JitOp) -> &mut Self {
        let overload = (self.overloads.iter_mut()).find(|o| o.ret == ret && o.args == args);
        // The static table registers the overload before naming its code.
        overload.expect("the overload exists").jit = Some(op);
        self
    }

    /// Names `op` as the machine code of the overload registered last only.
    fn jit_last(&mut self, op: JitOp) -> &mut Self {
        self.overloads
            .last_mut()
            .expect("an overload was just registered")
            .jit = Some(op);
        self
    }

    /// Names `op` as the machine code of the int32 and int64 overloads
    /// (each of its own type throughout): wrapping arithmetic, comparisons
    /// and selects, bitwise operations, as `JitOp::on_integers` lists.
    fn jit_ints(&mut self, op: JitOp) -> &mut Self {
        debug_assert!(op.on_integers(), "{op:?} on integers");
        for t in [I, L] {
            let overload =
                (self.overloads.iter_mut()).find(|o| o.ret == t && o.args.iter().all(|&a| a == t));
            // The static table registers the overloads before naming their code.
            overload.expect("an integer overload").jit = Some(op);
        }
        self
    }

    /// Halves the cost of the overload just registered, a float32 vector
    /// math kernel: 16 lanes a vector against float64's 8, so about half
    /// the time per element (at N = 10k on one thread, AVX-512: `exp` 0.41
    /// against 1.07 ns/elem, `cos` 0.33 against 1.17, `log2` 0.26 against
    /// 1.36, `arcsin` 0.53 against 1.26). At full cost a float32 function
    /// of 10k elements, about 3 µs of work, went to two threads and took
    /// 1.5x longer (`exp(a)` 0.26 → 0.44 ns/elem, `cos(a)` 0.30 → 0.47).
    fn in_sixteen_lanes(&mut self) -> &mut Self {
        let last = self.overloads.last_mut().expect("an overload");
        last.cost = last.cost.div_ceil(2);
        self
    }

    fn jit(&mut self, op: JitOp) -> &mut Self {
        let typed = |t: TypeCode| move |o: &&mut Overload| o.ret == t && o.args.first() == Some(&t);
        let overload = self.overloads.iter_mut().find(typed(D));
        // The table is static and names a `JitOp` right after registering
        // its float64 overload; building it (on first use, in every test)
        // would panic here otherwise.
        overload.expect("a float64 overload").jit = Some(op);
        if op.in_float32() {
            self.jit_float32(op);
        }
        self
    }

    /// Names `op` on the float32 overload alone, for a function whose
    /// float64 kernel the code generator does not perform.
    fn jit_float32(&mut self, op: JitOp) -> &mut Self {
        let float32 = |o: &&mut Overload| o.ret == F && o.args.first() == Some(&F);
        if let Some(overload) = self.overloads.iter_mut().find(float32) {
            overload.jit = Some(op);
        }
        self
    }
}

use TypeCode::{B, C, D, F, I, L, S};
type C64 = Complex64;

/// `$f.sig(...)` once per integer type, with the same body.
macro_rules! ints {
    ($f:expr, |$a:ident| $e:expr) => {{
        $f.sig(I, &[I], kernel!(|$a: i32| -> i32 { $e }));
        $f.sig(L, &[L], kernel!(|$a: i64| -> i64 { $e }));
    }};
    ($f:expr, |$a:ident, $b:ident| $e:expr) => {{
        $f.sig(I, &[I, I], kernel!(|$a: i32, $b: i32| -> i32 { $e }));
        $f.sig(L, &[L, L], kernel!(|$a: i64, $b: i64| -> i64 { $e }));
    }};
    ($f:expr, |$a:ident, $b:ident, $c:ident| $e:expr) => {{
        $f.sig(
            I,
            &[I, I, I],
            kernel!(|$a: i32, $b: i32, $c: i32| -> i32 { $e }),
        );
        $f.sig(
            L,
            &[L, L, L],
            kernel!(|$a: i64, $b: i64, $c: i64| -> i64 { $e }),
        );
    }};
    ($f:expr, |$a:ident, $b:ident, $c:ident, $d:ident| $e:expr) => {{
        $f.sig(
            I,
            &[I, I, I, I],
            kernel!(|$a: i32, $b: i32, $c: i32, $d: i32| -> i32 { $e }),
        );
        $f.sig(
            L,
            &[L, L, L, L],
            kernel!(|$a: i64, $b: i64, $c: i64, $d: i64| -> i64 { $e }),
        );
    }};
}

/// `$f.sig(...)` once per float type (and a kernel per type).
macro_rules! floats {
    ($f:expr, |$a:ident| $e32:expr, $e64:expr) => {{
        $f.sig(F, &[F], kernel!(|$a: f32| -> f32 { $e32 }));
        $f.sig(D, &[D], kernel!(|$a: f64| -> f64 { $e64 }));
    }};
    ($f:expr, |$a:ident, $b:ident| $e32:expr, $e64:expr) => {{
        $f.sig(F, &[F, F], kernel!(|$a: f32, $b: f32| -> f32 { $e32 }));
        $f.sig(D, &[D, D], kernel!(|$a: f64, $b: f64| -> f64 { $e64 }));
    }};
}

/// A comparison for every ordered numeric type and for strings; its float
/// ones are machine code (`JitOp::Compare`).
macro_rules! comparison {
    ($id:expr, $sym:literal, $op:tt, $ord:pat, $cmp:ident) => {{
        let mut f = entry($id, Some($sym), 2, Rule::Returns(B), concat!("`a ", $sym, " b`"));
        f.sig(B, &[B, B], kernel!(|x: u8, y: u8| -> u8 { u8::from(x $op y) }));
        f.sig(B, &[I, I], kernel!(|x: i32, y: i32| -> u8 { u8::from(x $op y) }));
        f.sig(B, &[L, L], kernel!(|x: i64, y: i64| -> u8 { u8::from(x $op y) }));
        f.sig(B, &[F, F], kernel!(|x: f32, y: f32| -> u8 { u8::from(x $op y) }));
        f.sig(B, &[D, D], kernel!(|x: f64, y: f64| -> u8 { u8::from(x $op y) }));
        f.sig(B, &[S, S], {
            fn k(out: &mut [u8], args: &[Operand<'_>], len: usize) -> KernelResult {
                strings(out, args, len, |o| matches!(o, $ord))
            }
            k
        });
        f.jit_on(B, &[F, F], JitOp::Compare(Compare::$cmp));
        f.jit_on(B, &[D, D], JitOp::Compare(Compare::$cmp));
        f.jit_on(B, &[I, I], JitOp::Compare(Compare::$cmp));
        f.jit_on(B, &[L, L], JitOp::Compare(Compare::$cmp));
        f
    }};
}

/// Applies `keep` to the ordering of each pair of strings.
fn strings(
    out: &mut [u8],
    args: &[Operand<'_>],
    len: usize,
    keep: impl Fn(std::cmp::Ordering) -> bool,
) -> KernelResult {
    let (a, b) = (&args[0], &args[1]);
    for (i, o) in out[..len].iter_mut().enumerate() {
        let x = &a.bytes[i * a.width..(i + 1) * a.width];
        let y = &b.bytes[i * b.width..(i + 1) * b.width];
        *o = u8::from(keep(compare_bytes(x, y)));
    }
    Ok(())
}

fn contains_kernel(out: &mut [u8], args: &[Operand<'_>], len: usize) -> KernelResult {
    let (a, b) = (&args[0], &args[1]);
    for (i, o) in out[..len].iter_mut().enumerate() {
        let x = &a.bytes[i * a.width..(i + 1) * a.width];
        let y = &b.bytes[i * b.width..(i + 1) * b.width];
        *o = u8::from(bytes_contain(x, y));
    }
    Ok(())
}

fn where_strings(out: &mut [u8], args: &[Operand<'_>], len: usize) -> KernelResult {
    let w = out.len() / len.max(1);
    for i in 0..len {
        let src = if args[0].bytes[i] != 0 {
            &args[1]
        } else {
            &args[2]
        };
        let dst = &mut out[i * w..(i + 1) * w];
        let s = &src.bytes[i * src.width..(i + 1) * src.width];
        let n = s.len().min(w);
        dst[..n].copy_from_slice(&s[..n]);
        dst[n..].fill(0);
    }
    Ok(())
}

/// Integer `**`, refusing negative exponents as NumPy does.
/// The smallest and largest `n` the type checker turns `x ** n` into one `powi`
/// instruction for (float bases; smaller powers are one multiplication or
/// none, larger ones stay separate multiplications).
pub const POWI_MIN: u32 = 3;
/// See [`POWI_MIN`].
pub const POWI_MAX: u32 = 16;

/// One arm of [`powi_kernel!`]: the chain for the literal power `$k`.
macro_rules! powi_arm {
    ($t:ty, $k:literal, $out:ident, $args:ident) => {
        $crate::kernels::dispatch!($out, $args, {
            $crate::kernels::map1::<$t, $t>($out, $args, powi_chain::<$t, $k>)
        })
    };
}

/// `powi(x, n)`: `x ** n` by numexpr's multiplication chain, `n` read from the
/// constant second operand and matched to a loop compiled for it.
macro_rules! powi_kernel {
    ($name:ident, $t:ty) => {
        fn $name(out: &mut [u8], args: &[Operand<'_>], _len: usize) -> KernelResult {
            let n = crate::kernels::typed::<i64>(&args[1]).first().copied();
            match n {
                Some(3) => powi_arm!($t, 3, out, args),
                Some(4) => powi_arm!($t, 4, out, args),
                Some(5) => powi_arm!($t, 5, out, args),
                Some(6) => powi_arm!($t, 6, out, args),
                Some(7) => powi_arm!($t, 7, out, args),
                Some(8) => powi_arm!($t, 8, out, args),
                Some(9) => powi_arm!($t, 9, out, args),
                Some(10) => powi_arm!($t, 10, out, args),
                Some(11) => powi_arm!($t, 11, out, args),
                Some(12) => powi_arm!($t, 12, out, args),
                Some(13) => powi_arm!($t, 13, out, args),
                Some(14) => powi_arm!($t, 14, out, args),
                Some(15) => powi_arm!($t, 15, out, args),
                Some(16) => powi_arm!($t, 16, out, args),
                // No element (an empty block), or a power the checker never emits.
                Some(_) => return Err("powi: unsupported power"),
                None => {}
            }
            Ok(())
        }
    };
}
powi_kernel!(powi_f32, f32);
powi_kernel!(powi_f64, f64);

fn int_pow_kernel<T: Int + bytemuck::Pod>(
    out: &mut [u8],
    args: &[Operand<'_>],
    _len: usize,
) -> KernelResult {
    let exponents = crate::kernels::typed::<T>(&args[1]);
    if exponents.iter().any(|e| e.is_negative()) {
        return Err("integers to negative integer powers are not allowed");
    }
    crate::kernels::map2::<T, T, T>(out, args, int_pow);
    Ok(())
}

/// The entry of a one-operand float function computed by the vectorized slice
/// functions of [`crate::kernels::vmath`].
/// With `complex::NAME` as a last argument, it also takes complex128 operands.
macro_rules! vector_fn {
    ($id:expr, $doc:literal, $f32:ident, $f64:ident, complex::$c:ident) => {{
        let mut f = vector_fn!($id, $doc, $f32, $f64);
        f.sig(C, &[C], kernel!(|z: C64| -> C64 { complex::$c(z) }));
        f
    }};
    ($id:expr, $doc:literal, $f32:ident, $f64:ident) => {{
        let mut f = entry($id, None, 1, Rule::math(Some(DType::Float32)), $doc);
        f.transcendental();
        f.sig(F, &[F], slice_kernel!(f32, vmath::$f32))
            .in_sixteen_lanes();
        f.sig(D, &[D], slice_kernel!(f64, vmath::$f64));
        f
    }};
}

/// The entry of a one-operand float function given as `f32` and `f64` methods.
macro_rules! float_fn {
    ($id:expr, $doc:literal, $m:ident) => {{
        let mut f = entry($id, None, 1, Rule::math(Some(DType::Float32)), $doc);
        f.transcendental();
        floats!(f, |x| x.$m(), x.$m());
        f
    }};
}

/// The entry of a fused select-on-comparison `where(p OP q, x, y)` on floats
/// and integers.
macro_rules! where_cmp {
    ($id:expr, $op:tt, $cmp:ident, $doc:literal) => {{
        let mut f = entry($id, None, 4, Rule::Fused, $doc);
        f.sig(
            F,
            &[F, F, F, F],
            kernel!(|p: f32, q: f32, x: f32, y: f32| -> f32 { if p $op q { x } else { y } }),
        );
        f.sig(
            D,
            &[D, D, D, D],
            kernel!(|p: f64, q: f64, x: f64, y: f64| -> f64 { if p $op q { x } else { y } }),
        );
        f.jit(JitOp::Where(Compare::$cmp));
        ints!(f, |p, q, x, y| if p $op q { x } else { y });
        f.jit_ints(JitOp::Where(Compare::$cmp));
        f
    }};
}

/// The entry of a fused two-operand float operation that the code generator
/// emits as `JitOp::$jit`.
macro_rules! fused_float {
    ($id:expr, $jit:ident, $doc:literal, |$x:ident, $y:ident| $e:expr) => {{
        let mut f = entry($id, None, 2, Rule::Fused, $doc);
        f.sig(F, &[F, F], kernel!(|$x: f32, $y: f32| -> f32 { $e }));
        f.sig(D, &[D, D], kernel!(|$x: f64, $y: f64| -> f64 { $e }));
        f.jit(JitOp::$jit);
        f
    }};
}

/// Builds the table: one entry per [`Op`], in the order of [`Op::ALL`].
fn build_table() -> Table {
    Table {
        functions: Op::ALL.into_iter().map(define).collect(),
    }
}

/// The entry of `op`: its symbol, arity, rule, description and overloads.
/// The match is exhaustive, so an [`Op`] without an entry does not compile.
fn define(op: Op) -> Function {
    use std::cmp::Ordering::{Equal, Greater, Less};
    // numexpr runs these in float64 at least, float32 operands included.
    let d2 = Rule::math(Some(DType::Float64));
    match op {
        // Conversions inserted by the type checker: every upward cast.
        Op::Cast => {
            let mut f = entry(op, None, 1, Rule::Cast, "conversion to a higher kind");
            f.sig(I, &[B], kernel!(|x: u8| -> i32 { i32::from(x) }));
            f.sig(L, &[B], kernel!(|x: u8| -> i64 { i64::from(x) }));
            f.sig(F, &[B], kernel!(|x: u8| -> f32 { f32::from(x) }));
            f.sig(D, &[B], kernel!(|x: u8| -> f64 { f64::from(x) }));
            f.sig(
                C,
                &[B],
                kernel!(|x: u8| -> C64 { C64::new(f64::from(x), 0.0) }),
            );
            f.sig(L, &[I], kernel!(|x: i32| -> i64 { i64::from(x) }));
            f.sig(F, &[I], kernel!(|x: i32| -> f32 { x as f32 }));
            f.sig(D, &[I], kernel!(|x: i32| -> f64 { f64::from(x) }))
                .jit_last(JitOp::Widen);
            f.sig(
                C,
                &[I],
                kernel!(|x: i32| -> C64 { C64::new(f64::from(x), 0.0) }),
            );
            f.sig(F, &[L], kernel!(|x: i64| -> f32 { x as f32 }));
            f.sig(D, &[L], kernel!(|x: i64| -> f64 { i64_to_f64(x) }))
                .jit_last(JitOp::Widen);
            f.sig(
                C,
                &[L],
                kernel!(|x: i64| -> C64 { C64::new(i64_to_f64(x), 0.0) }),
            );
            f.sig(D, &[F], kernel!(|x: f32| -> f64 { f64::from(x) }))
                .jit_last(JitOp::Widen);
            f.sig(
                C,
                &[F],
                kernel!(|x: f32| -> C64 { C64::new(f64::from(x), 0.0) }),
            );
            f.sig(C, &[D], kernel!(|x: f64| -> C64 { C64::new(x, 0.0) }));
            f
        }

        Op::OnesLike => {
            let mut f = entry(
                op,
                None,
                1,
                Rule::Math {
                    min: None,
                    max: None,
                    ints_keep: true,
                    complex_to_real: false,
                },
                "an array of ones of the operand's type and shape",
            );
            ints!(f, |_x| 1);
            floats!(f, |_x| 1.0, 1.0);
            f.jit(JitOp::OnesLike);
            f.sig(C, &[C], kernel!(|_x: C64| -> C64 { C64::new(1.0, 0.0) }));
            f
        }

        // Fused multiply-then-add instructions, made by the optimizer from `x*y + z` and
        // friends when the product has no other use. Each rounds the product and then
        // the sum, exactly as the two separate instructions would (Rust never contracts
        // them into an FMA), so fusing saves a pass over the block without changing a bit.
        // On integers both wrap, as the separate instructions do.
        Op::MulAdd => {
            let mut f = entry(
                op,
                None,
                3,
                Rule::Fused,
                "`x*y + z` (two roundings), fused by the optimizer",
            );
            f.sig(
                F,
                &[F, F, F],
                kernel!(|x: f32, y: f32, z: f32| -> f32 { x * y + z }),
            );
            f.sig(
                D,
                &[D, D, D],
                kernel!(|x: f64, y: f64, z: f64| -> f64 { x * y + z }),
            );
            f.jit(JitOp::MulAdd);
            ints!(f, |x, y, z| x.wrapping_mul(y).wrapping_add(z));
            f.jit_ints(JitOp::MulAdd);
            f
        }
        Op::MulSub => {
            let mut f = entry(
                op,
                None,
                3,
                Rule::Fused,
                "`x*y - z` (two roundings), fused by the optimizer",
            );
            f.sig(
                F,
                &[F, F, F],
                kernel!(|x: f32, y: f32, z: f32| -> f32 { x * y - z }),
            );
            f.sig(
                D,
                &[D, D, D],
                kernel!(|x: f64, y: f64, z: f64| -> f64 { x * y - z }),
            );
            f.jit(JitOp::MulSub);
            ints!(f, |x, y, z| x.wrapping_mul(y).wrapping_sub(z));
            f.jit_ints(JitOp::MulSub);
            f
        }
        Op::SubMul => {
            let mut f = entry(
                op,
                None,
                3,
                Rule::Fused,
                "`z - x*y` (two roundings), fused by the optimizer",
            );
            f.sig(
                F,
                &[F, F, F],
                kernel!(|x: f32, y: f32, z: f32| -> f32 { z - x * y }),
            );
            f.sig(
                D,
                &[D, D, D],
                kernel!(|x: f64, y: f64, z: f64| -> f64 { z - x * y }),
            );
            f.jit(JitOp::SubMul);
            ints!(f, |x, y, z| z.wrapping_sub(x.wrapping_mul(y)));
            f.jit_ints(JitOp::SubMul);
            f
        }
        // Sums and differences of two products, `x*y ± z*w` (as in `sin(a)**2 +
        // cos(b)**2`), when neither product has another use: three roundings, as
        // the three separate instructions, in one pass.
        Op::MulAddMul => {
            let mut f = entry(
                op,
                None,
                4,
                Rule::Fused,
                "`x*y + z*w` (three roundings), fused by the optimizer",
            );
            f.sig(
                F,
                &[F, F, F, F],
                kernel!(|x: f32, y: f32, z: f32, w: f32| -> f32 { x * y + z * w }),
            );
            f.sig(
                D,
                &[D, D, D, D],
                kernel!(|x: f64, y: f64, z: f64, w: f64| -> f64 { x * y + z * w }),
            );
            f.jit(JitOp::MulAddMul);
            ints!(f, |x, y, z, w| x
                .wrapping_mul(y)
                .wrapping_add(z.wrapping_mul(w)));
            f.jit_ints(JitOp::MulAddMul);
            f
        }
        Op::MulSubMul => {
            let mut f = entry(
                op,
                None,
                4,
                Rule::Fused,
                "`x*y - z*w` (three roundings), fused by the optimizer",
            );
            f.sig(
                F,
                &[F, F, F, F],
                kernel!(|x: f32, y: f32, z: f32, w: f32| -> f32 { x * y - z * w }),
            );
            f.sig(
                D,
                &[D, D, D, D],
                kernel!(|x: f64, y: f64, z: f64, w: f64| -> f64 { x * y - z * w }),
            );
            f.jit(JitOp::MulSubMul);
            ints!(f, |x, y, z, w| x
                .wrapping_mul(y)
                .wrapping_sub(z.wrapping_mul(w)));
            f.jit_ints(JitOp::MulSubMul);
            f
        }

        Op::Copy => {
            let mut f = entry(op, None, 1, Rule::Common, "a copy of the operand");
            for t in [B, I, L, F, D, C, S] {
                f.sig(t, &[t], crate::kernels::copy_bytes);
            }
            f
        }

        // Arithmetic. Integers wrap on overflow, as NumPy's do.
        Op::Add => {
            let mut f = entry(
                op,
                Some("+"),
                2,
                Rule::Common,
                "`a + b`; on booleans, logical or",
            );
            ints!(f, |x, y| x.wrapping_add(y));
            floats!(f, |x, y| x + y, x + y);
            f.jit(JitOp::Add);
            f.jit_ints(JitOp::Add);
            f.sig(C, &[C, C], kernel!(|x: C64, y: C64| -> C64 { x + y }));
            f
        }
        Op::Sub => {
            let mut f = entry(op, Some("-"), 2, Rule::Common, "`a - b`");
            ints!(f, |x, y| x.wrapping_sub(y));
            floats!(f, |x, y| x - y, x - y);
            f.jit(JitOp::Sub);
            f.jit_ints(JitOp::Sub);
            f.sig(C, &[C, C], kernel!(|x: C64, y: C64| -> C64 { x - y }));
            f
        }
        Op::Mul => {
            let mut f = entry(
                op,
                Some("*"),
                2,
                Rule::Common,
                "`a * b`; on booleans, logical and",
            );
            ints!(f, |x, y| x.wrapping_mul(y));
            floats!(f, |x, y| x * y, x * y);
            f.jit(JitOp::Mul);
            f.jit_ints(JitOp::Mul);
            f.sig(
                C,
                &[C, C],
                kernel!(|x: C64, y: C64| -> C64 { complex::mul(x, y) }),
            );
            f
        }
        Op::Div => {
            let mut f = entry(
                op,
                Some("/"),
                2,
                Rule::TrueDiv,
                "`a / b`, true division (integers give float64)",
            );
            f.sig(F, &[F, F], kernel!(|x: f32, y: f32| -> f32 { x / y }));
            f.sig(D, &[D, D], slice_kernel!(f64, vmath::div_f64, 2))
                .jit(JitOp::Div);
            f.sig(
                C,
                &[C, C],
                kernel!(|x: C64, y: C64| -> C64 { complex::div(x, y) }),
            );
            f
        }
        Op::FloorDiv => {
            let mut f = entry(
                op,
                Some("//"),
                2,
                Rule::Common,
                "`a // b`, Python's floor division (by zero: 0 for integers)",
            );
            f.sig(I, &[I, I], slice_kernel!(i32, vmath::floordiv_i32, 2));
            f.sig(L, &[L, L], slice_kernel!(i64, vmath::floordiv_i64, 2));
            f.sig(F, &[F, F], slice_kernel!(f32, vmath::floordiv_f32, 2));
            f.sig(D, &[D, D], slice_kernel!(f64, vmath::floordiv_f64, 2));
            f.jit(JitOp::FloorDiv);
            f
        }
        Op::Mod => {
            let mut f = entry(
                op,
                Some("%"),
                2,
                Rule::Common,
                "`a % b`, Python's modulo: the sign of `b` (by zero: 0 for integers)",
            );
            f.sig(I, &[I, I], slice_kernel!(i32, vmath::mod_i32, 2));
            f.sig(L, &[L, L], slice_kernel!(i64, vmath::mod_i64, 2));
            f.sig(F, &[F, F], slice_kernel!(f32, vmath::mod_f32, 2));
            f.sig(D, &[D, D], slice_kernel!(f64, vmath::mod_f64, 2));
            f.jit(JitOp::Mod);
            f
        }
        Op::Pow => {
            let mut f = entry(
                op,
                Some("**"),
                2,
                Rule::Common,
                "`a ** b`; integers to negative integer powers are an error, as in NumPy",
            );
            f.transcendental();
            f.sig(I, &[I, I], int_pow_kernel::<i32>);
            f.sig(L, &[L, L], int_pow_kernel::<i64>);
            f.sig(F, &[F, F], slice_kernel!(f32, vmath::pow_f32, 2));
            f.sig(D, &[D, D], slice_kernel!(f64, vmath::pow_f64, 2))
                .jit(JitOp::Pow);
            f.sig(
                C,
                &[C, C],
                kernel!(|x: C64, y: C64| -> C64 { complex::pow(x, y) }),
            );
            f
        }
        Op::Neg => {
            let mut f = entry(op, Some("-"), 1, Rule::Common, "`-a`");
            ints!(f, |x| x.wrapping_neg());
            floats!(f, |x| -x, -x);
            f.jit(JitOp::Neg);
            f.jit_ints(JitOp::Neg);
            f.sig(C, &[C], kernel!(|x: C64| -> C64 { -x }));
            f
        }

        // Bitwise and logical operators.
        Op::And => {
            let mut f = entry(
                op,
                Some("&"),
                2,
                Rule::Common,
                "`a & b`: logical and on booleans, bitwise on integers",
            );
            f.sig(
                B,
                &[B, B],
                kernel!(|x: u8, y: u8| -> u8 { u8::from((x != 0) & (y != 0)) }),
            )
            .any_byte_true()
            .jit_last(JitOp::Logic(Logic::And));
            ints!(f, |x, y| x & y);
            f.jit_ints(JitOp::Logic(Logic::And));
            f
        }
        Op::Or => {
            let mut f = entry(
                op,
                Some("|"),
                2,
                Rule::Common,
                "`a | b`: logical or on booleans, bitwise on integers",
            );
            f.sig(
                B,
                &[B, B],
                kernel!(|x: u8, y: u8| -> u8 { u8::from((x | y) != 0) }),
            )
            .any_byte_true()
            .jit_last(JitOp::Logic(Logic::Or));
            ints!(f, |x, y| x | y);
            f.jit_ints(JitOp::Logic(Logic::Or));
            f
        }
        Op::Xor => {
            let mut f = entry(
                op,
                Some("^"),
                2,
                Rule::Common,
                "`a ^ b`: exclusive or on booleans, bitwise on integers",
            );
            f.sig(
                B,
                &[B, B],
                kernel!(|x: u8, y: u8| -> u8 { u8::from((x != 0) ^ (y != 0)) }),
            )
            .any_byte_true()
            .jit_last(JitOp::Logic(Logic::Xor));
            ints!(f, |x, y| x ^ y);
            f.jit_ints(JitOp::Logic(Logic::Xor));
            f
        }
        Op::Invert => {
            let mut f = entry(
                op,
                Some("~"),
                1,
                Rule::Common,
                "`~a`: logical not on booleans, bitwise not on integers",
            );
            f.sig(B, &[B], kernel!(|x: u8| -> u8 { u8::from(x == 0) }))
                .any_byte_true()
                .jit_last(JitOp::Logic(Logic::Not));
            ints!(f, |x| !x);
            f.jit_ints(JitOp::Logic(Logic::Not));
            f
        }
        // `x & ~y` and `x | ~y`, made by the optimizer when the inverted operand has
        // no other use (as `~(a > b)` in `(a < 0.5) | ~(a > b)`): one pass over the
        // block instead of two, and no register for the inverse.
        Op::AndNot => {
            let mut f = entry(op, None, 2, Rule::Fused, "`x & ~y`, fused by the optimizer");
            f.sig(
                B,
                &[B, B],
                kernel!(|x: u8, y: u8| -> u8 { u8::from((x != 0) & (y == 0)) }),
            )
            .any_byte_true()
            .jit_last(JitOp::Logic(Logic::AndNot));
            ints!(f, |x, y| x & !y);
            f.jit_ints(JitOp::Logic(Logic::AndNot));
            f
        }
        Op::OrNot => {
            let mut f = entry(op, None, 2, Rule::Fused, "`x | ~y`, fused by the optimizer");
            f.sig(
                B,
                &[B, B],
                kernel!(|x: u8, y: u8| -> u8 { u8::from((x != 0) | (y == 0)) }),
            )
            .any_byte_true()
            .jit_last(JitOp::Logic(Logic::OrNot));
            ints!(f, |x, y| x | !y);
            f.jit_ints(JitOp::Logic(Logic::OrNot));
            f
        }
        Op::LShift => {
            let mut f = entry(op, Some("<<"), 2, Rule::Common, "`a << b` on integers");
            ints!(f, |x, y| int_shl(x, y));
            f.jit_ints(JitOp::ShiftLeft);
            f
        }
        Op::RShift => {
            let mut f = entry(op, Some(">>"), 2, Rule::Common, "`a >> b` on integers");
            ints!(f, |x, y| int_shr(x, y));
            f.jit_ints(JitOp::ShiftRight);
            f
        }

        // Comparisons.
        Op::Lt => comparison!(op, "<", <, Less, Lt),
        Op::Le => comparison!(op, "<=", <=, Less | Equal, Le),
        Op::Gt => comparison!(op, ">", >, Greater, Gt),
        Op::Ge => comparison!(op, ">=", >=, Greater | Equal, Ge),
        Op::Eq => {
            let mut f = comparison!(op, "==", ==, Equal, Eq);
            f.sig(
                B,
                &[C, C],
                kernel!(|x: C64, y: C64| -> u8 { u8::from(x == y) }),
            );
            f
        }
        Op::Ne => {
            let mut f = comparison!(op, "!=", !=, Less | Greater, Ne);
            f.sig(
                B,
                &[C, C],
                kernel!(|x: C64, y: C64| -> u8 { u8::from(x != y) }),
            );
            f
        }

        Op::Where => {
            let mut f = entry(
                op,
                None,
                3,
                Rule::Where,
                "`where(c, x, y)`: `x` where `c` is true, else `y`",
            );
            macro_rules! select {
                ($code:ident, $t:ty) => {
                    f.sig(
                        $code,
                        &[B, $code, $code],
                        kernel!(|c: u8, x: $t, y: $t| -> $t { if c != 0 { x } else { y } }),
                    )
                };
            }
            // The boolean `where` passes its operands' bytes through, so
            // only the condition of the others is read as any byte.
            select!(B, u8);
            select!(I, i32).any_byte_true();
            select!(L, i64).any_byte_true();
            select!(F, f32).any_byte_true().jit_last(JitOp::Select);
            select!(D, f64).any_byte_true().jit_last(JitOp::Select);
            select!(C, C64);
            f.sig(S, &[B, S, S], where_strings);
            f
        }

        // Fused sign operations, made by the optimizer when the inner result has no
        // other use: `|x - y|` and friends, the sum of magnitudes `|x| + |y|`, and
        // `(-x) * y` (as in `exp(-a*a)`). Clearing or flipping a sign bit never
        // rounds, so the bits are those of the separate instructions.
        Op::AbsAdd => fused_float!(
            op,
            AbsAdd,
            "`abs(x + y)`, fused by the optimizer",
            |x, y| (x + y).abs()
        ),
        Op::AbsSub => fused_float!(
            op,
            AbsSub,
            "`abs(x - y)`, fused by the optimizer",
            |x, y| (x - y).abs()
        ),
        Op::AbsMul => fused_float!(
            op,
            AbsMul,
            "`abs(x * y)`, fused by the optimizer",
            |x, y| (x * y).abs()
        ),
        Op::AddAbs => fused_float!(
            op,
            AddAbs,
            "`abs(x) + abs(y)`, fused by the optimizer",
            |x, y| x.abs() + y.abs()
        ),
        Op::NegMul => fused_float!(
            op,
            NegMul,
            "`(-x) * y`, fused by the optimizer",
            |x, y| (-x) * y
        ),

        // Integer powers in one pass, made by the type checker from `x ** n` for a
        // float `x` and a constant integer `n` in POWI_MIN..=POWI_MAX: the same
        // multiplications as numexpr's expansion (so the same bits), in registers.
        Op::Powi => {
            let mut f = entry(
                op,
                None,
                2,
                Rule::Fused,
                "`x ** n` for a constant integer n from 3 to 16: numexpr's multiplication chain in one pass",
            );
            f.sig(F, &[F, L], powi_f32);
            f.sig(D, &[D, L], powi_f64).jit(JitOp::Powi);
            f
        }

        // Fused select-on-comparison instructions, made by the optimizer from
        // `where(p OP q, x, y)` when the comparison has no other use and all four
        // operands are the same float type: one pass over the block instead of two,
        // and no boolean register. The comparison is IEEE's, as in the separate
        // instructions (false when either side is NaN).
        Op::WhereLt => where_cmp!(op, <, Lt, "`where(p < q, x, y)`, fused by the optimizer"),
        Op::WhereLe => where_cmp!(op, <=, Le, "`where(p <= q, x, y)`, fused by the optimizer"),
        Op::WhereGt => where_cmp!(op, >, Gt, "`where(p > q, x, y)`, fused by the optimizer"),
        Op::WhereGe => where_cmp!(op, >=, Ge, "`where(p >= q, x, y)`, fused by the optimizer"),
        Op::WhereEq => where_cmp!(op, ==, Eq, "`where(p == q, x, y)`, fused by the optimizer"),
        Op::WhereNe => where_cmp!(op, !=, Ne, "`where(p != q, x, y)`, fused by the optimizer"),

        Op::Contains => {
            let mut f = entry(
                op,
                None,
                2,
                Rule::Returns(B),
                "`contains(s, t)`: true where string `s` contains `t`",
            );
            f.sig(B, &[S, S], contains_kernel);
            f
        }

        // Math functions of one float operand.
        Op::Sqrt => {
            let mut f = entry(op, None, 1, Rule::math(Some(DType::Float32)), "square root");
            f.transcendental();
            f.sig(F, &[F], kernel!(|x: f32| -> f32 { x.sqrt() }));
            f.sig(D, &[D], slice_kernel!(f64, vmath::sqrt_f64))
                .jit(JitOp::Sqrt);
            f.sig(C, &[C], kernel!(|z: C64| -> C64 { complex::sqrt(z) }));
            f
        }
        Op::Sin => {
            let mut f = vector_fn!(op, "sine", sin_f32, sin_f64, complex::sin);
            f.jit(JitOp::Sin);
            f
        }
        Op::Cos => {
            let mut f = vector_fn!(op, "cosine", cos_f32, cos_f64, complex::cos);
            f.jit(JitOp::Cos);
            f
        }
        Op::Tan => vector_fn!(op, "tangent", tan_f32, tan_f64, complex::tan),
        Op::Arcsin => vector_fn!(op, "inverse sine", arcsin_f32, arcsin_f64, complex::arcsin),
        Op::Arccos => vector_fn!(
            op,
            "inverse cosine",
            arccos_f32,
            arccos_f64,
            complex::arccos
        ),
        Op::Arctan => {
            let mut f = vector_fn!(
                op,
                "inverse tangent",
                arctan_f32,
                arctan_f64,
                complex::arctan
            );
            f.jit_float32(JitOp::Atan);
            f
        }
        Op::Sinh => {
            let mut f = vector_fn!(op, "hyperbolic sine", sinh_f32, sinh_f64, complex::sinh);
            f.jit_float32(JitOp::Sinh);
            f
        }
        Op::Cosh => {
            let mut f = vector_fn!(op, "hyperbolic cosine", cosh_f32, cosh_f64, complex::cosh);
            f.jit_float32(JitOp::Cosh);
            f
        }
        Op::Tanh => {
            let mut f = vector_fn!(op, "hyperbolic tangent", tanh_f32, tanh_f64, complex::tanh);
            f.jit(JitOp::Tanh);
            f
        }
        Op::Arcsinh => vector_fn!(
            op,
            "inverse hyperbolic sine",
            arcsinh_f32,
            arcsinh_f64,
            complex::arcsinh
        ),
        Op::Arccosh => vector_fn!(
            op,
            "inverse hyperbolic cosine",
            arccosh_f32,
            arccosh_f64,
            complex::arccosh
        ),
        Op::Arctanh => vector_fn!(
            op,
            "inverse hyperbolic tangent",
            arctanh_f32,
            arctanh_f64,
            complex::arctanh
        ),
        Op::Log => {
            let mut f = vector_fn!(op, "natural logarithm", log_f32, log_f64, complex::log);
            f.jit(JitOp::Log);
            f
        }
        Op::Log1p => {
            let mut f = vector_fn!(
                op,
                "`log(1 + x)`, accurate for small `x`",
                log1p_f32,
                log1p_f64,
                complex::log1p
            );
            f.jit_float32(JitOp::Log1p);
            f
        }
        Op::Log10 => {
            let mut f = vector_fn!(
                op,
                "base-10 logarithm",
                log10_f32,
                log10_f64,
                complex::log10
            );
            f.jit_float32(JitOp::Log10);
            f
        }
        Op::Log2 => {
            let mut f = vector_fn!(op, "base-2 logarithm", log2_f32, log2_f64, complex::log2);
            f.jit_float32(JitOp::Log2);
            f
        }
        Op::Exp => {
            let mut f = vector_fn!(op, "exponential", exp_f32, exp_f64, complex::exp);
            f.jit(JitOp::Exp);
            f
        }
        Op::Expm1 => {
            let mut f = vector_fn!(
                op,
                "`exp(x) - 1`, accurate for small `x`",
                expm1_f32,
                expm1_f64,
                complex::expm1
            );
            f.jit_float32(JitOp::Expm1);
            f
        }
        Op::Ceil => {
            let mut f = float_fn!(op, "ceiling", ceil);
            f.jit(JitOp::Round(Rounding::Ceil));
            f
        }
        Op::Floor => {
            let mut f = float_fn!(op, "floor", floor);
            f.jit(JitOp::Round(Rounding::Floor));
            f
        }
        Op::Trunc => {
            let mut f = entry(
                op,
                None,
                1,
                Rule::math(Some(DType::Float64)),
                "rounding toward zero",
            );
            floats!(f, |x| x.trunc(), x.trunc());
            f.jit(JitOp::Round(Rounding::Trunc));
            f
        }
        Op::Abs => {
            let mut f = entry(
                op,
                None,
                1,
                Rule::Math {
                    min: Some(DType::Float32),
                    max: None,
                    ints_keep: true,
                    complex_to_real: true,
                },
                "absolute value (integers keep their type)",
            );
            ints!(f, |x| x.wrapping_abs());
            f.jit_ints(JitOp::Abs);
            floats!(f, |x| x.abs(), x.abs());
            f.jit(JitOp::Abs);
            // The float64 modulus, as NumPy (numexpr returns it as a complex number).
            f.sig(D, &[C], kernel!(|z: C64| -> f64 { complex::abs(z) }));
            f
        }
        Op::Round => {
            let mut f = entry(
                op,
                None,
                1,
                Rule::Math {
                    min: Some(DType::Float64),
                    max: None,
                    ints_keep: true,
                    complex_to_real: false,
                },
                "rounding to the nearest integer, halves to even",
            );
            ints!(f, |x| x);
            floats!(f, |x| x.round_ties_even(), x.round_ties_even());
            f.jit(JitOp::Round(Rounding::Even));
            f.sig(
                C,
                &[C],
                kernel!(|z: C64| -> C64 {
                    C64::new(z.re.round_ties_even(), z.im.round_ties_even())
                }),
            );
            f
        }
        Op::Sign => {
            let mut f = entry(
                op,
                None,
                1,
                Rule::Math {
                    min: Some(DType::Float64),
                    max: None,
                    ints_keep: true,
                    complex_to_real: false,
                },
                "-1, 0 or 1 by the sign (NaN stays NaN)",
            );
            ints!(f, |x| x.signum());
            floats!(f, |x| sign_f32(x), sign_f64(x));
            f.jit(JitOp::Sign);
            f.sig(C, &[C], kernel!(|z: C64| -> C64 { complex::sign(z) }));
            f
        }

        // Math functions of two float operands.
        Op::Arctan2 => {
            let mut f = entry(
                op,
                None,
                2,
                Rule::math(Some(DType::Float32)),
                "`arctan2(y, x)`: the angle of the point (x, y)",
            );
            f.transcendental();
            f.sig(F, &[F, F], slice_kernel!(f32, vmath::atan2_f32, 2));
            f.sig(D, &[D, D], slice_kernel!(f64, vmath::atan2_f64, 2))
                .jit(JitOp::Atan2);
            f
        }
        Op::Fmod => {
            let mut f = entry(
                op,
                None,
                2,
                Rule::math(Some(DType::Float32)),
                "C's `fmod`: remainder with the sign of the dividend",
            );
            f.sig(F, &[F, F], slice_kernel!(f32, vmath::fmod_f32, 2));
            f.sig(D, &[D, D], slice_kernel!(f64, vmath::fmod_f64, 2));
            f.jit(JitOp::Fmod);
            f
        }
        Op::Hypot => {
            let mut f = entry(op, None, 2, d2, "`sqrt(x**2 + y**2)` without overflow");
            f.transcendental();
            f.sig(F, &[F, F], slice_kernel!(f32, vmath::hypot_f32, 2));
            f.sig(D, &[D, D], slice_kernel!(f64, vmath::hypot_f64, 2));
            f
        }
        Op::Nextafter => {
            let mut f = entry(op, None, 2, d2, "the next float after `x` toward `y`");
            floats!(f, |x, y| nextafter_f32(x, y), nextafter_f64(x, y));
            f
        }
        Op::Copysign => {
            let mut f = entry(op, None, 2, d2, "`x` with the sign of `y`");
            floats!(f, |x, y| x.copysign(y), x.copysign(y));
            f.jit(JitOp::Copysign);
            f
        }
        Op::Maximum => {
            let mut f = entry(
                op,
                None,
                2,
                d2,
                "element-wise maximum (NaN if either is NaN)",
            );
            floats!(f, |x, y| maximum_f32(x, y), maximum_f64(x, y));
            f.jit(JitOp::Maximum);
            f
        }
        Op::Minimum => {
            let mut f = entry(
                op,
                None,
                2,
                d2,
                "element-wise minimum (NaN if either is NaN)",
            );
            floats!(f, |x, y| minimum_f32(x, y), minimum_f64(x, y));
            f.jit(JitOp::Minimum);
            f
        }

        // Predicates.
        Op::Isnan => {
            let mut f = entry(op, None, 1, Rule::Returns(B), "true where NaN");
            f.sig(B, &[F], kernel!(|x: f32| -> u8 { u8::from(x.is_nan()) }));
            f.sig(B, &[D], kernel!(|x: f64| -> u8 { u8::from(x.is_nan()) }));
            f.sig(
                B,
                &[C],
                kernel!(|x: C64| -> u8 { u8::from(x.re.is_nan() || x.im.is_nan()) }),
            );
            f.jit_on(B, &[F], JitOp::Test(FloatTest::Nan));
            f.jit_on(B, &[D], JitOp::Test(FloatTest::Nan));
            f
        }
        Op::Isfinite => {
            let mut f = entry(op, None, 1, Rule::Returns(B), "true where finite");
            f.sig(B, &[F], kernel!(|x: f32| -> u8 { u8::from(x.is_finite()) }));
            f.sig(B, &[D], kernel!(|x: f64| -> u8 { u8::from(x.is_finite()) }));
            f.sig(
                B,
                &[C],
                kernel!(|x: C64| -> u8 { u8::from(x.re.is_finite() && x.im.is_finite()) }),
            );
            f.jit_on(B, &[F], JitOp::Test(FloatTest::Finite));
            f.jit_on(B, &[D], JitOp::Test(FloatTest::Finite));
            f
        }
        Op::Isinf => {
            let mut f = entry(op, None, 1, Rule::Returns(B), "true where infinite");
            f.sig(
                B,
                &[F],
                kernel!(|x: f32| -> u8 { u8::from(x.is_infinite()) }),
            );
            f.sig(
                B,
                &[D],
                kernel!(|x: f64| -> u8 { u8::from(x.is_infinite()) }),
            );
            f.sig(
                B,
                &[C],
                kernel!(|x: C64| -> u8 { u8::from(x.re.is_infinite() || x.im.is_infinite()) }),
            );
            f.jit_on(B, &[F], JitOp::Test(FloatTest::Inf));
            f.jit_on(B, &[D], JitOp::Test(FloatTest::Inf));
            f
        }
        Op::Signbit => {
            let mut f = entry(
                op,
                None,
                1,
                Rule::Returns(B),
                "true where the sign bit is set",
            );
            f.sig(
                B,
                &[F],
                kernel!(|x: f32| -> u8 { u8::from(x.is_sign_negative()) }),
            );
            f.sig(
                B,
                &[D],
                kernel!(|x: f64| -> u8 { u8::from(x.is_sign_negative()) }),
            );
            f.jit_on(B, &[F], JitOp::Test(FloatTest::SignBit));
            f.jit_on(B, &[D], JitOp::Test(FloatTest::SignBit));
            f
        }

        // Complex parts.
        Op::Real => {
            let mut f = entry(op, None, 1, Rule::Returns(D), "real part");
            f.sig(D, &[C], kernel!(|x: C64| -> f64 { x.re }));
            f
        }
        Op::Imag => {
            let mut f = entry(op, None, 1, Rule::Returns(D), "imaginary part");
            f.sig(D, &[C], kernel!(|x: C64| -> f64 { x.im }));
            f
        }
        Op::Complex => {
            let mut f = entry(op, None, 2, Rule::Returns(C), "`complex(re, im)`");
            f.sig(
                C,
                &[D, D],
                kernel!(|x: f64, y: f64| -> C64 { C64::new(x, y) }),
            );
            f
        }
        Op::Conj => {
            let mut f = entry(
                op,
                None,
                1,
                Rule::math(Some(DType::Complex128)),
                "complex conjugate",
            );
            // numexpr computes conj of integers in float64 (where it is the identity).
            f.sig(D, &[D], crate::kernels::copy_bytes);
            // Of a float, numexpr's complex result: the value with an
            // imaginary part of -0, in one pass rather than a cast and a conj.
            f.sig(
                C,
                &[F],
                kernel!(|x: f32| -> C64 { C64::new(f64::from(x), -0.0) }),
            );
            f.sig(C, &[D], kernel!(|x: f64| -> C64 { C64::new(x, -0.0) }));
            f.sig(C, &[C], kernel!(|x: C64| -> C64 { complex::conj(x) }));
            f
        }
    }
}

/// The function reference as Markdown, printed from the table (used for
/// `docs/functions.md`; a test keeps that file in step with the table).
pub fn reference_markdown() -> String {
    let mut out = String::from(
        "# Operators and functions\n\n\
         Generated from the function table (`crates/vexpr/src/functions.rs`) by \
         `cargo run -p vexpr --example function_reference`; a test fails when this file \
         and the table disagree.\n\n\
         Signatures are numexpr's opcode names: `add_ddd` returns float64 (`d`) from two float64 operands. \
         Type codes: `b` bool, `i` int32, `l` int64, `f` float32, `d` float64, `c` complex128, `s` byte string.\n\n\
         | name | operator | arity | description | overloads |\n|---|---|---|---|---|\n",
    );
    // Casts are left out; the optimizer's fused instructions are listed because
    // `vexpr dis` shows them.
    for f in TABLE.iter().filter(|f| f.rule != Rule::Cast) {
        let sigs: Vec<&str> = f.overloads.iter().map(|s| s.name.as_str()).collect();
        out.push_str(&format!(
            "| `{}` | {} | {} | {} | {} |\n",
            f.name(),
            f.symbol
                .map(|s| format!("`{}`", s.replace('|', "\\|")))
                .unwrap_or_default(),
            f.arity,
            f.doc.replace('|', "\\|"),
            sigs.join(" ")
        ));
    }
    out.push_str(
        "\nReductions (`sum`, `prod`, `min`, `max`, with an optional `axis=`) are \
         described in `docs/language.md`.\n",
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs the table's `op` overload `ret(args)` on `operands` (each `len`
    /// elements) at the current level.
    fn run_overload<R: bytemuck::Pod + Default>(
        op: Op,
        ret: TypeCode,
        args: &[TypeCode],
        operands: &[&[u8]],
        len: usize,
    ) -> Vec<R> {
        let overload = TABLE[op].overload(ret, args).expect("the overload");
        let operands: Vec<Operand<'_>> = operands
            .iter()
            .zip(args)
            .map(|(bytes, code)| Operand {
                bytes: &bytes[..len * code.dtype().unwrap().itemsize()],
                width: code.dtype().unwrap().itemsize(),
            })
            .collect();
        let mut out = vec![R::default(); len];
        (overload.kernel)(bytemuck::cast_slice_mut(&mut out), &operands, len).unwrap();
        out
    }

    /// The boolean and integer overloads of the fused multiply-adds, selects,
    /// `and_not` and `or_not` give, at every CPU level this machine has and
    /// every length (vector bodies and tails), the bits of the separate
    /// instructions they stand for, run one element at a time at the baseline
    /// level; with wrapping products and sums, and equal comparands.
    fn fused_are_the_separate_instructions<T>(code: TypeCode)
    where
        T: bytemuck::Pod + Default + PartialEq + std::fmt::Debug,
    {
        use crate::cpu::{CpuLevel, with_run_cap};
        let mut next = crate::testing::xorshift(0x5eed_1234);
        let width = std::mem::size_of::<T>();
        let max = 300;
        // Four operands of `max` elements: large values that wrap, and a
        // quarter of small ones, so that comparands are often equal.
        let operands: Vec<Vec<T>> = (0..4)
            .map(|_| {
                let bytes: Vec<u8> = (0..max)
                    .flat_map(|_| {
                        let x = next();
                        let x = match code {
                            B => x & 1,
                            _ if x.is_multiple_of(4) => x % 3,
                            _ => x >> 1,
                        };
                        x.to_le_bytes()[..width].to_vec()
                    })
                    .collect();
                bytemuck::pod_collect_to_vec(&bytes)
            })
            .collect();
        let bytes: Vec<&[u8]> = operands.iter().map(|v| bytemuck::cast_slice(v)).collect();
        let c = code;
        // One element of `op(xs)`, at the baseline level: its bytes.
        let one = |op: Op, ret: TypeCode, args: &[TypeCode], xs: &[&[u8]]| -> Vec<u8> {
            with_run_cap(Some(CpuLevel::Baseline), || match ret {
                TypeCode::B => run_overload::<u8>(op, ret, args, xs, 1),
                _ => bytemuck::cast_slice(&run_overload::<T>(op, ret, args, xs, 1)).to_vec(),
            })
        };
        let mul = |x: &[u8], y: &[u8]| one(Op::Mul, c, &[c, c], &[x, y]);
        // One element of the separate instructions the fused `op` stands for.
        let separate = |op: Op, v: &[&[u8]]| -> Vec<u8> {
            let compare = match op {
                Op::MulAdd => return one(Op::Add, c, &[c, c], &[&mul(v[0], v[1]), v[2]]),
                Op::MulSub => return one(Op::Sub, c, &[c, c], &[&mul(v[0], v[1]), v[2]]),
                Op::SubMul => return one(Op::Sub, c, &[c, c], &[v[2], &mul(v[0], v[1])]),
                Op::MulAddMul => {
                    return one(Op::Add, c, &[c, c], &[&mul(v[0], v[1]), &mul(v[2], v[3])]);
                }
                Op::MulSubMul => {
                    return one(Op::Sub, c, &[c, c], &[&mul(v[0], v[1]), &mul(v[2], v[3])]);
                }
                Op::AndNot | Op::OrNot => {
                    let inverse = one(Op::Invert, c, &[c], &[v[1]]);
                    let op = if op == Op::AndNot { Op::And } else { Op::Or };
                    return one(op, c, &[c, c], &[v[0], &inverse]);
                }
                Op::WhereLt => Op::Lt,
                Op::WhereLe => Op::Le,
                Op::WhereGt => Op::Gt,
                Op::WhereGe => Op::Ge,
                Op::WhereEq => Op::Eq,
                _ => Op::Ne,
            };
            let holds = one(compare, B, &[c, c], &[v[0], v[1]]);
            one(Op::Where, c, &[B, c, c], &[&holds, v[2], v[3]])
        };
        let cases = [
            (Op::MulAdd, 3),
            (Op::MulSub, 3),
            (Op::SubMul, 3),
            (Op::MulAddMul, 4),
            (Op::MulSubMul, 4),
            (Op::WhereLt, 4),
            (Op::WhereLe, 4),
            (Op::WhereGt, 4),
            (Op::WhereGe, 4),
            (Op::WhereEq, 4),
            (Op::WhereNe, 4),
            (Op::AndNot, 2),
            (Op::OrNot, 2),
        ];
        let cases = cases
            .into_iter()
            .filter(|&(op, arity)| TABLE[op].overload(c, &vec![c; arity]).is_some());
        for (op, arity) in cases {
            let want: Vec<u8> = (0..max)
                .flat_map(|i| {
                    let element: Vec<&[u8]> =
                        bytes[..arity].iter().map(|b| &b[i * width..]).collect();
                    separate(op, &element)
                })
                .collect();
            for level in CpuLevel::ALL
                .into_iter()
                .filter(|&l| l <= CpuLevel::detected())
            {
                for len in (0..70).chain([255, 256, 257, max]) {
                    let got: Vec<T> = with_run_cap(Some(level), || {
                        run_overload(op, c, &vec![c; arity], &bytes[..arity], len)
                    });
                    assert_eq!(
                        bytemuck::cast_slice::<T, u8>(&got),
                        &want[..len * width],
                        "{} on {c:?} at {level}, {len} elements",
                        op.name()
                    );
                }
            }
        }
    }

    #[test]
    fn fused_bool_instructions_are_the_separate_ones() {
        fused_are_the_separate_instructions::<u8>(B);
    }

    #[test]
    fn fused_int32_instructions_are_the_separate_ones() {
        fused_are_the_separate_instructions::<i32>(I);
    }

    #[test]
    fn fused_int64_instructions_are_the_separate_ones() {
        fused_are_the_separate_instructions::<i64>(L);
    }

    #[test]
    fn every_op_is_its_own_entry_and_its_name_finds_it() {
        assert_eq!(TABLE.iter().count(), Op::COUNT);
        for op in Op::ALL {
            assert_eq!(TABLE[op].op, op);
            assert_eq!(Op::from_name(op.name()), Some(op));
            assert_eq!(TABLE.get(op.name()).map(|f| f.op), Some(op));
            for overload in &TABLE[op].overloads {
                assert_eq!(overload.op, op);
                assert!(overload.name.starts_with(&format!("{}_", op.name())));
            }
        }
        // The table is in `Op::ALL` order, which is the order of the reference.
        let order: Vec<Op> = TABLE.iter().map(|f| f.op).collect();
        assert_eq!(order, Op::ALL);
    }

    /// The layering `docs/ARCHITECTURE.md` describes ("Dependencies point
    /// down"), checked on the sources as its grep does.
    #[test]
    #[cfg_attr(miri, ignore = "reads the sources: Miri isolates the file system")]
    fn dependencies_point_down() {
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let read = |path: &std::path::Path| -> Vec<(String, String)> {
            let mut files = Vec::new();
            let mut pending = vec![path.to_path_buf()];
            while let Some(p) = pending.pop() {
                if p.is_dir() {
                    for entry in std::fs::read_dir(&p).unwrap() {
                        pending.push(entry.unwrap().path());
                    }
                } else if p.extension().is_some_and(|e| e == "rs") {
                    let text = std::fs::read_to_string(&p).unwrap();
                    files.push((p.display().to_string(), text));
                }
            }
            files
        };
        let refuse = |module: &str, forbidden: &[&str]| {
            for (path, text) in read(&src.join(module)) {
                for word in forbidden {
                    assert!(
                        !text.contains(&format!("crate::{word}")),
                        "{path} names crate::{word}"
                    );
                }
            }
        };
        // The front end and the table never reach the code generator or the VM.
        for module in [
            "syntax",
            "typeck",
            "hir.rs",
            "optimize.rs",
            "stages.rs",
            "functions.rs",
        ] {
            refuse(module, &["vm", "jit", "codegen"]);
        }
        // No cycle among the table, the bytecode and the machine code:
        // `jit` reads both, `program` reads the table, the table neither.
        refuse("functions.rs", &["program", "jit"]);
        refuse("program.rs", &["jit", "codegen", "vm"]);
    }

    #[test]
    fn reductions_are_one_list_apart_from_the_table() {
        assert_eq!(REDUCTIONS, Reduction::ALL.map(Reduction::name));
        for r in Reduction::ALL {
            assert_eq!(Reduction::from_name(r.name()), Some(r));
            // A call is either a reduction or a table entry, never both.
            assert!(Op::from_name(r.name()).is_none(), "{}", r.name());
        }
        assert_eq!(Reduction::from_name("where"), None);
        assert_eq!(Op::from_name("Sum"), None);
    }
}

/// The examples of this module's items (crate-private, so not doc tests).
#[cfg(test)]
mod examples {
    #[test]
    fn op_names_and_table_entries() {
        use crate::functions::{Op, TABLE};
        assert_eq!(Op::from_name("where_lt"), Some(Op::WhereLt));
        assert_eq!(Op::Lt.name(), "lt");
        assert_eq!(TABLE[Op::Lt].symbol, Some("<"));
        assert_eq!(Op::from_name("sum"), None); // a reduction, not a table entry
    }
    #[test]
    fn reduction_names() {
        use crate::functions::Reduction;
        assert_eq!(Reduction::from_name("prod"), Some(Reduction::Prod));
        assert_eq!(Reduction::Max.name(), "max");
        assert_eq!(Reduction::from_name("add"), None); // a table entry, not a reduction
    }
    #[test]
    fn reduction_result_types() {
        use crate::DType;
        use crate::functions::Reduction;
        assert_eq!(Reduction::Sum.result(DType::Int32), Some(DType::Int64));
        assert_eq!(Reduction::Min.result(DType::Complex128), None);
    }
    #[test]
    fn reductions_list() {
        assert_eq!(crate::functions::REDUCTIONS, ["sum", "prod", "min", "max"]);
    }
    #[test]
    fn jit_op_of_an_overload() {
        use crate::functions::{JitOp, Op, TABLE};
        let float64 = TABLE[Op::Exp]
            .overloads
            .iter()
            .find(|o| o.name == "exp_dd")
            .unwrap();
        assert_eq!(float64.jit, Some(JitOp::Exp));
    }
    #[test]
    fn compare_of_a_fused_where() {
        use crate::functions::{Compare, JitOp, Op, TABLE};
        let fused = TABLE[Op::WhereLe]
            .overloads
            .iter()
            .find(|o| o.jit.is_some())
            .unwrap();
        assert_eq!(fused.jit, Some(JitOp::Where(Compare::Le)));
    }
    #[test]
    fn function_name() {
        use crate::functions::{Op, TABLE};
        assert_eq!(TABLE[Op::FloorDiv].name(), "floordiv");
    }
    #[test]
    fn table_get_by_name() {
        use crate::functions::{Op, TABLE};
        assert_eq!(TABLE.get("arctan2").map(|f| f.op), Some(Op::Arctan2));
        assert!(TABLE.get("arctan3").is_none());
    }
}
