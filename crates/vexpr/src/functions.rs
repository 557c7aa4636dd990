//! The one table of operators and functions.
//!
//! Every operator and function of the language is one [`Function`] here: its
//! name, arity, how its result type is chosen ([`Rule`], numexpr's rules), and
//! its [`Overload`]s, each an exact list of operand types with the kernel
//! compiled for them. The parser needs no list of functions (a call is any
//! name followed by parentheses); the type checker looks functions up here and
//! picks a signature; code generation copies the signature's kernel into the
//! instruction; `vexpr dis` prints the signature's name; the function reference
//! in the docs is printed from this table ([`reference_markdown`]).
//!
//! Overload names follow numexpr's opcodes: `add_ddd` returns a `d` (float64)
//! from two `d`s. Type codes: `b` bool, `i` int32, `l` int64, `f` float32,
//! `d` float64, `c` complex128, `s` byte string.

use crate::dtype::DType;
pub use crate::jit::{Compare, JitOp};
use crate::kernels::arith::*;
use crate::kernels::{Kernel, KernelResult, Operand, complex, kernel, slice_kernel, vmath};
use num_complex::Complex64;
use std::collections::HashMap;
use std::sync::LazyLock;

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
    /// The operation the run-time code generator ([`crate::jit`]) emits for
    /// this overload, if it covers it (float64 only).
    pub jit: Option<JitOp>,
}

/// An operator or function of the language.
#[derive(Debug)]
pub struct Function {
    /// The name used in calls, or the operator's name (`add` for `+`).
    pub name: &'static str,
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
    /// roots and powers (0.5-1.4 ns/elem measured with `vexpr bench`). The VM
    /// weighs instructions by it when it decides whether a run is worth a
    /// second thread.
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

/// All functions, by name.
pub struct Table {
    functions: Vec<Function>,
    by_name: HashMap<&'static str, usize>,
}

impl Table {
    /// Looks a function or operator up by name.
    pub fn get(&self, name: &str) -> Option<&Function> {
        self.by_name.get(name).map(|&i| &self.functions[i])
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
            .map(|f| f.name)
    }
}

/// The table, built once on first use.
pub static TABLE: LazyLock<Table> = LazyLock::new(build_table);

/// Names of the reductions, which are handled outside the element-wise table.
pub const REDUCTIONS: [&str; 4] = ["sum", "prod", "min", "max"];

struct Builder {
    functions: Vec<Function>,
}

impl Builder {
    fn add(
        &mut self,
        name: &'static str,
        symbol: Option<&'static str>,
        arity: usize,
        rule: Rule,
        doc: &'static str,
    ) -> &mut Function {
        self.functions.push(Function {
            name,
            symbol,
            arity,
            rule,
            doc,
            overloads: Vec::new(),
            cost: 1,
        });
        // Pushed on the line above.
        self.functions.last_mut().expect("just pushed")
    }
}

impl Function {
    /// Marks the overloads registered after this call as expensive.
    fn transcendental(&mut self) -> &mut Self {
        self.cost = TRANSCENDENTAL_COST;
        self
    }

    fn sig(&mut self, ret: TypeCode, args: &[TypeCode], kernel: Kernel) -> &mut Self {
        debug_assert_eq!(args.len(), self.arity, "{}: arity", self.name);
        let letters: String = std::iter::once(ret)
            .chain(args.iter().copied())
            .map(TypeCode::letter)
            .collect();
        self.overloads.push(Overload {
            ret,
            args: args.to_vec(),
            kernel,
            name: format!("{}_{}", self.name, letters),
            cost: self.cost,
            jit: None,
        });
        self
    }

    /// Names the code generator's operation for the float64 overload
    /// registered so far (the one returning float64 from float64 operands,
    /// besides `powi`'s integer exponent).
    fn jit(&mut self, op: JitOp) -> &mut Self {
        let overload = self
            .overloads
            .iter_mut()
            .find(|o| o.ret == D && o.args.first() == Some(&D));
        // The table is static and names a `JitOp` right after registering
        // its float64 overload; building it (on first use, in every test)
        // would panic here otherwise.
        overload.expect("a float64 overload").jit = Some(op);
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

/// A comparison for every ordered numeric type and for strings.
macro_rules! comparison {
    ($b:expr, $name:literal, $sym:literal, $op:tt, $ord:pat) => {{
        let f = $b.add($name, Some($sym), 2, Rule::Returns(B), concat!("`a ", $sym, " b`"));
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

/// Registers a one-operand float function computed by the vectorized slice
/// functions of [`crate::kernels::vmath`].
/// With `complex::NAME` as a last argument, it also takes complex128 operands.
macro_rules! vector_fn {
    ($b:expr, $name:literal, $doc:literal, $f32:ident, $f64:ident, complex::$c:ident) => {{
        let f = vector_fn!($b, $name, $doc, $f32, $f64);
        f.sig(C, &[C], kernel!(|z: C64| -> C64 { complex::$c(z) }));
        f
    }};
    ($b:expr, $name:literal, $doc:literal, $f32:ident, $f64:ident) => {{
        let f = $b
            .add($name, None, 1, Rule::math(Some(DType::Float32)), $doc)
            .transcendental();
        f.sig(F, &[F], slice_kernel!(f32, vmath::$f32));
        f.sig(D, &[D], slice_kernel!(f64, vmath::$f64));
        f
    }};
}

/// Registers a one-operand float function given as `f32` and `f64` methods.
macro_rules! float_fn {
    ($b:expr, $name:literal, $doc:literal, $m:ident) => {{
        let f = $b
            .add($name, None, 1, Rule::math(Some(DType::Float32)), $doc)
            .transcendental();
        floats!(f, |x| x.$m(), x.$m());
        f
    }};
}

fn build_table() -> Table {
    let mut b = Builder {
        functions: Vec::new(),
    };

    // Conversions inserted by the type checker: every upward cast.
    let f = b.add("cast", None, 1, Rule::Cast, "conversion to a higher kind");
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
    f.sig(D, &[I], kernel!(|x: i32| -> f64 { f64::from(x) }));
    f.sig(
        C,
        &[I],
        kernel!(|x: i32| -> C64 { C64::new(f64::from(x), 0.0) }),
    );
    f.sig(F, &[L], kernel!(|x: i64| -> f32 { x as f32 }));
    f.sig(D, &[L], kernel!(|x: i64| -> f64 { x as f64 }));
    f.sig(
        C,
        &[L],
        kernel!(|x: i64| -> C64 { C64::new(x as f64, 0.0) }),
    );
    f.sig(D, &[F], kernel!(|x: f32| -> f64 { f64::from(x) }));
    f.sig(
        C,
        &[F],
        kernel!(|x: f32| -> C64 { C64::new(f64::from(x), 0.0) }),
    );
    f.sig(C, &[D], kernel!(|x: f64| -> C64 { C64::new(x, 0.0) }));

    let f = b.add(
        "ones_like",
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
    f.sig(C, &[C], kernel!(|_x: C64| -> C64 { C64::new(1.0, 0.0) }));

    // Fused multiply-then-add instructions, made by the optimizer from `x*y + z` and
    // friends when the product has no other use. Each rounds the product and then
    // the sum, exactly as the two separate instructions would (Rust never contracts
    // them into an FMA), so fusing saves a pass over the block without changing a bit.
    let f = b.add(
        "mul_add",
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
    let f = b.add(
        "mul_sub",
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
    let f = b.add(
        "sub_mul",
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
    // Sums and differences of two products, `x*y ± z*w` (as in `sin(a)**2 +
    // cos(b)**2`), when neither product has another use: three roundings, as
    // the three separate instructions, in one pass.
    let f = b.add(
        "mul_add_mul",
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
    let f = b.add(
        "mul_sub_mul",
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

    let f = b.add("copy", None, 1, Rule::Common, "a copy of the operand");
    for t in [B, I, L, F, D, C, S] {
        f.sig(t, &[t], crate::kernels::copy_bytes);
    }

    // Arithmetic. Integers wrap on overflow, as NumPy's do.
    let f = b.add(
        "add",
        Some("+"),
        2,
        Rule::Common,
        "`a + b`; on booleans, logical or",
    );
    ints!(f, |x, y| x.wrapping_add(y));
    floats!(f, |x, y| x + y, x + y);
    f.jit(JitOp::Add);
    f.sig(C, &[C, C], kernel!(|x: C64, y: C64| -> C64 { x + y }));
    let f = b.add("sub", Some("-"), 2, Rule::Common, "`a - b`");
    ints!(f, |x, y| x.wrapping_sub(y));
    floats!(f, |x, y| x - y, x - y);
    f.jit(JitOp::Sub);
    f.sig(C, &[C, C], kernel!(|x: C64, y: C64| -> C64 { x - y }));
    let f = b.add(
        "mul",
        Some("*"),
        2,
        Rule::Common,
        "`a * b`; on booleans, logical and",
    );
    ints!(f, |x, y| x.wrapping_mul(y));
    floats!(f, |x, y| x * y, x * y);
    f.jit(JitOp::Mul);
    f.sig(
        C,
        &[C, C],
        kernel!(|x: C64, y: C64| -> C64 { complex::mul(x, y) }),
    );
    let f = b.add(
        "div",
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
    let f = b.add(
        "floordiv",
        Some("//"),
        2,
        Rule::Common,
        "`a // b`, Python's floor division (by zero: 0 for integers)",
    );
    ints!(f, |x, y| int_floordiv(x, y));
    floats!(f, |x, y| floordiv_f32(x, y), floordiv_f64(x, y));
    let f = b.add(
        "mod",
        Some("%"),
        2,
        Rule::Common,
        "`a % b`, Python's modulo: the sign of `b` (by zero: 0 for integers)",
    );
    ints!(f, |x, y| int_mod(x, y));
    floats!(f, |x, y| mod_f32(x, y), mod_f64(x, y));
    let f = b.add(
        "pow",
        Some("**"),
        2,
        Rule::Common,
        "`a ** b`; integers to negative integer powers are an error, as in NumPy",
    );
    f.transcendental();
    f.sig(I, &[I, I], int_pow_kernel::<i32>);
    f.sig(L, &[L, L], int_pow_kernel::<i64>);
    f.sig(F, &[F, F], slice_kernel!(f32, vmath::pow_f32, 2));
    f.sig(D, &[D, D], slice_kernel!(f64, vmath::pow_f64, 2));
    f.sig(
        C,
        &[C, C],
        kernel!(|x: C64, y: C64| -> C64 { complex::pow(x, y) }),
    );
    let f = b.add("neg", Some("-"), 1, Rule::Common, "`-a`");
    ints!(f, |x| x.wrapping_neg());
    floats!(f, |x| -x, -x);
    f.jit(JitOp::Neg);
    f.sig(C, &[C], kernel!(|x: C64| -> C64 { -x }));

    // Bitwise and logical operators.
    let f = b.add(
        "and",
        Some("&"),
        2,
        Rule::Common,
        "`a & b`: logical and on booleans, bitwise on integers",
    );
    f.sig(B, &[B, B], kernel!(|x: u8, y: u8| -> u8 { x & y }));
    ints!(f, |x, y| x & y);
    let f = b.add(
        "or",
        Some("|"),
        2,
        Rule::Common,
        "`a | b`: logical or on booleans, bitwise on integers",
    );
    f.sig(B, &[B, B], kernel!(|x: u8, y: u8| -> u8 { x | y }));
    ints!(f, |x, y| x | y);
    let f = b.add(
        "xor",
        Some("^"),
        2,
        Rule::Common,
        "`a ^ b`: exclusive or on booleans, bitwise on integers",
    );
    f.sig(B, &[B, B], kernel!(|x: u8, y: u8| -> u8 { x ^ y }));
    ints!(f, |x, y| x ^ y);
    let f = b.add(
        "invert",
        Some("~"),
        1,
        Rule::Common,
        "`~a`: logical not on booleans, bitwise not on integers",
    );
    f.sig(B, &[B], kernel!(|x: u8| -> u8 { x ^ 1 }));
    ints!(f, |x| !x);
    let f = b.add(
        "lshift",
        Some("<<"),
        2,
        Rule::Common,
        "`a << b` on integers",
    );
    ints!(f, |x, y| int_shl(x, y));
    let f = b.add(
        "rshift",
        Some(">>"),
        2,
        Rule::Common,
        "`a >> b` on integers",
    );
    ints!(f, |x, y| int_shr(x, y));

    // Comparisons.
    use std::cmp::Ordering::{Equal, Greater, Less};
    comparison!(b, "lt", "<", <, Less);
    comparison!(b, "le", "<=", <=, Less | Equal);
    comparison!(b, "gt", ">", >, Greater);
    comparison!(b, "ge", ">=", >=, Greater | Equal);
    let f = comparison!(b, "eq", "==", ==, Equal);
    f.sig(
        B,
        &[C, C],
        kernel!(|x: C64, y: C64| -> u8 { u8::from(x == y) }),
    );
    let f = comparison!(b, "ne", "!=", !=, Less | Greater);
    f.sig(
        B,
        &[C, C],
        kernel!(|x: C64, y: C64| -> u8 { u8::from(x != y) }),
    );

    let f = b.add(
        "where",
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
    select!(B, u8);
    select!(I, i32);
    select!(L, i64);
    select!(F, f32);
    select!(D, f64);
    select!(C, C64);
    f.sig(S, &[B, S, S], where_strings);

    // Fused select-on-comparison instructions, made by the optimizer from
    // `where(p OP q, x, y)` when the comparison has no other use and all four
    // operands are the same float type: one pass over the block instead of two,
    // and no boolean register. The comparison is IEEE's, as in the separate
    // instructions (false when either side is NaN).
    macro_rules! where_cmp {
        ($name:literal, $op:tt, $cmp:ident, $doc:literal) => {
            let f = b.add($name, None, 4, Rule::Fused, $doc);
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
        };
    }
    // Fused sign operations, made by the optimizer when the inner result has no
    // other use: `|x - y|` and friends, the sum of magnitudes `|x| + |y|`, and
    // `(-x) * y` (as in `exp(-a*a)`). Clearing or flipping a sign bit never
    // rounds, so the bits are those of the separate instructions.
    macro_rules! fused_float {
        ($name:literal, $op:ident, $doc:literal, |$x:ident, $y:ident| $e:expr) => {
            let f = b.add($name, None, 2, Rule::Fused, $doc);
            f.sig(F, &[F, F], kernel!(|$x: f32, $y: f32| -> f32 { $e }));
            f.sig(D, &[D, D], kernel!(|$x: f64, $y: f64| -> f64 { $e }));
            f.jit(JitOp::$op);
        };
    }
    fused_float!(
        "abs_add",
        AbsAdd,
        "`abs(x + y)`, fused by the optimizer",
        |x, y| (x + y).abs()
    );
    fused_float!(
        "abs_sub",
        AbsSub,
        "`abs(x - y)`, fused by the optimizer",
        |x, y| (x - y).abs()
    );
    fused_float!(
        "abs_mul",
        AbsMul,
        "`abs(x * y)`, fused by the optimizer",
        |x, y| (x * y).abs()
    );
    fused_float!(
        "add_abs",
        AddAbs,
        "`abs(x) + abs(y)`, fused by the optimizer",
        |x, y| x.abs() + y.abs()
    );
    fused_float!(
        "neg_mul",
        NegMul,
        "`(-x) * y`, fused by the optimizer",
        |x, y| (-x) * y
    );

    // Integer powers in one pass, made by the type checker from `x ** n` for a
    // float `x` and a constant integer `n` in POWI_MIN..=POWI_MAX: the same
    // multiplications as numexpr's expansion (so the same bits), in registers.
    let f = b.add(
        "powi",
        None,
        2,
        Rule::Fused,
        "`x ** n` for a constant integer n from 3 to 16: numexpr's multiplication chain in one pass",
    );
    f.sig(F, &[F, L], powi_f32);
    f.sig(D, &[D, L], powi_f64).jit(JitOp::Powi);

    where_cmp!("where_lt", <, Lt, "`where(p < q, x, y)`, fused by the optimizer");
    where_cmp!("where_le", <=, Le, "`where(p <= q, x, y)`, fused by the optimizer");
    where_cmp!("where_gt", >, Gt, "`where(p > q, x, y)`, fused by the optimizer");
    where_cmp!("where_ge", >=, Ge, "`where(p >= q, x, y)`, fused by the optimizer");
    where_cmp!("where_eq", ==, Eq, "`where(p == q, x, y)`, fused by the optimizer");
    where_cmp!("where_ne", !=, Ne, "`where(p != q, x, y)`, fused by the optimizer");

    let f = b.add(
        "contains",
        None,
        2,
        Rule::Returns(B),
        "`contains(s, t)`: true where string `s` contains `t`",
    );
    f.sig(B, &[S, S], contains_kernel);

    // Math functions of one float operand.
    let f = b
        .add(
            "sqrt",
            None,
            1,
            Rule::math(Some(DType::Float32)),
            "square root",
        )
        .transcendental();
    f.sig(F, &[F], kernel!(|x: f32| -> f32 { x.sqrt() }));
    f.sig(D, &[D], slice_kernel!(f64, vmath::sqrt_f64))
        .jit(JitOp::Sqrt);
    f.sig(C, &[C], kernel!(|z: C64| -> C64 { complex::sqrt(z) }));
    vector_fn!(b, "sin", "sine", sin_f32, sin_f64, complex::sin).jit(JitOp::Sin);
    vector_fn!(b, "cos", "cosine", cos_f32, cos_f64, complex::cos).jit(JitOp::Cos);
    vector_fn!(b, "tan", "tangent", tan_f32, tan_f64, complex::tan);
    vector_fn!(
        b,
        "arcsin",
        "inverse sine",
        arcsin_f32,
        arcsin_f64,
        complex::arcsin
    );
    vector_fn!(
        b,
        "arccos",
        "inverse cosine",
        arccos_f32,
        arccos_f64,
        complex::arccos
    );
    vector_fn!(
        b,
        "arctan",
        "inverse tangent",
        arctan_f32,
        arctan_f64,
        complex::arctan
    );
    vector_fn!(
        b,
        "sinh",
        "hyperbolic sine",
        sinh_f32,
        sinh_f64,
        complex::sinh
    );
    vector_fn!(
        b,
        "cosh",
        "hyperbolic cosine",
        cosh_f32,
        cosh_f64,
        complex::cosh
    );
    vector_fn!(
        b,
        "tanh",
        "hyperbolic tangent",
        tanh_f32,
        tanh_f64,
        complex::tanh
    )
    .jit(JitOp::Tanh);
    vector_fn!(
        b,
        "arcsinh",
        "inverse hyperbolic sine",
        arcsinh_f32,
        arcsinh_f64,
        complex::arcsinh
    );
    vector_fn!(
        b,
        "arccosh",
        "inverse hyperbolic cosine",
        arccosh_f32,
        arccosh_f64,
        complex::arccosh
    );
    vector_fn!(
        b,
        "arctanh",
        "inverse hyperbolic tangent",
        arctanh_f32,
        arctanh_f64,
        complex::arctanh
    );
    vector_fn!(
        b,
        "log",
        "natural logarithm",
        log_f32,
        log_f64,
        complex::log
    )
    .jit(JitOp::Log);
    vector_fn!(
        b,
        "log1p",
        "`log(1 + x)`, accurate for small `x`",
        log1p_f32,
        log1p_f64,
        complex::log1p
    );
    vector_fn!(
        b,
        "log10",
        "base-10 logarithm",
        log10_f32,
        log10_f64,
        complex::log10
    );
    vector_fn!(
        b,
        "log2",
        "base-2 logarithm",
        log2_f32,
        log2_f64,
        complex::log2
    );
    vector_fn!(b, "exp", "exponential", exp_f32, exp_f64, complex::exp).jit(JitOp::Exp);
    vector_fn!(
        b,
        "expm1",
        "`exp(x) - 1`, accurate for small `x`",
        expm1_f32,
        expm1_f64,
        complex::expm1
    );
    float_fn!(b, "ceil", "ceiling", ceil);
    float_fn!(b, "floor", "floor", floor);
    let f = b.add(
        "trunc",
        None,
        1,
        Rule::math(Some(DType::Float64)),
        "rounding toward zero",
    );
    floats!(f, |x| x.trunc(), x.trunc());
    let f = b.add(
        "abs",
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
    floats!(f, |x| x.abs(), x.abs());
    f.jit(JitOp::Abs);
    // The float64 modulus, as NumPy (numexpr returns it as a complex number).
    f.sig(D, &[C], kernel!(|z: C64| -> f64 { complex::abs(z) }));
    let f = b.add(
        "round",
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
    f.sig(
        C,
        &[C],
        kernel!(|z: C64| -> C64 { C64::new(z.re.round_ties_even(), z.im.round_ties_even()) }),
    );
    let f = b.add(
        "sign",
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
    f.sig(C, &[C], kernel!(|z: C64| -> C64 { complex::sign(z) }));

    // Math functions of two float operands.
    let f2 = Rule::math(Some(DType::Float32));
    let f = b.add(
        "arctan2",
        None,
        2,
        f2,
        "`arctan2(y, x)`: the angle of the point (x, y)",
    );
    f.transcendental();
    f.sig(F, &[F, F], slice_kernel!(f32, vmath::atan2_f32, 2));
    f.sig(D, &[D, D], slice_kernel!(f64, vmath::atan2_f64, 2))
        .jit(JitOp::Atan2);
    let f = b.add(
        "fmod",
        None,
        2,
        f2,
        "C's `fmod`: remainder with the sign of the dividend",
    );
    floats!(f, |x, y| x % y, x % y);
    // numexpr runs these in float64 at least, float32 operands included.
    let d2 = Rule::math(Some(DType::Float64));
    let f = b
        .add("hypot", None, 2, d2, "`sqrt(x**2 + y**2)` without overflow")
        .transcendental();
    f.sig(F, &[F, F], slice_kernel!(f32, vmath::hypot_f32, 2));
    f.sig(D, &[D, D], slice_kernel!(f64, vmath::hypot_f64, 2));
    let f = b.add(
        "nextafter",
        None,
        2,
        d2,
        "the next float after `x` toward `y`",
    );
    floats!(f, |x, y| nextafter_f32(x, y), nextafter_f64(x, y));
    let f = b.add("copysign", None, 2, d2, "`x` with the sign of `y`");
    floats!(f, |x, y| x.copysign(y), x.copysign(y));
    let f = b.add(
        "maximum",
        None,
        2,
        d2,
        "element-wise maximum (NaN if either is NaN)",
    );
    floats!(f, |x, y| maximum_f32(x, y), maximum_f64(x, y));
    let f = b.add(
        "minimum",
        None,
        2,
        d2,
        "element-wise minimum (NaN if either is NaN)",
    );
    floats!(f, |x, y| minimum_f32(x, y), minimum_f64(x, y));

    // Predicates.
    let f = b.add("isnan", None, 1, Rule::Returns(B), "true where NaN");
    f.sig(B, &[F], kernel!(|x: f32| -> u8 { u8::from(x.is_nan()) }));
    f.sig(B, &[D], kernel!(|x: f64| -> u8 { u8::from(x.is_nan()) }));
    f.sig(
        B,
        &[C],
        kernel!(|x: C64| -> u8 { u8::from(x.re.is_nan() || x.im.is_nan()) }),
    );
    let f = b.add("isfinite", None, 1, Rule::Returns(B), "true where finite");
    f.sig(B, &[F], kernel!(|x: f32| -> u8 { u8::from(x.is_finite()) }));
    f.sig(B, &[D], kernel!(|x: f64| -> u8 { u8::from(x.is_finite()) }));
    f.sig(
        B,
        &[C],
        kernel!(|x: C64| -> u8 { u8::from(x.re.is_finite() && x.im.is_finite()) }),
    );
    let f = b.add("isinf", None, 1, Rule::Returns(B), "true where infinite");
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
    let f = b.add(
        "signbit",
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

    // Complex parts.
    let f = b.add("real", None, 1, Rule::Returns(D), "real part");
    f.sig(D, &[C], kernel!(|x: C64| -> f64 { x.re }));
    let f = b.add("imag", None, 1, Rule::Returns(D), "imaginary part");
    f.sig(D, &[C], kernel!(|x: C64| -> f64 { x.im }));
    let f = b.add("complex", None, 2, Rule::Returns(C), "`complex(re, im)`");
    f.sig(
        C,
        &[D, D],
        kernel!(|x: f64, y: f64| -> C64 { C64::new(x, y) }),
    );
    let f = b.add(
        "conj",
        None,
        1,
        Rule::math(Some(DType::Complex128)),
        "complex conjugate",
    );
    // numexpr computes conj of integers in float64 (where it is the identity).
    f.sig(D, &[D], crate::kernels::copy_bytes);
    f.sig(C, &[C], kernel!(|x: C64| -> C64 { complex::conj(x) }));

    let by_name = b
        .functions
        .iter()
        .enumerate()
        .map(|(i, f)| (f.name, i))
        .collect();
    Table {
        functions: b.functions,
        by_name,
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
            f.name,
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
