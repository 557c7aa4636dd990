//! vexpr evaluates array expressions such as `2*a**3 - 4*a**5 + 6*log(a)` the
//! way numexpr does for NumPy, in Rust: the string is compiled once into
//! register bytecode, and a virtual machine runs the bytecode over cache-sized
//! blocks of the inputs on all cores, writing straight into one output buffer,
//! with no full-size temporary arrays.
//!
//! ```
//! let a = [1.0, 2.0, 3.0];
//! let b = [0.5, 0.25, 0.125];
//! let env = vexpr::Env::new().with("a", &a[..]).with("b", &b[..]);
//! let c = vexpr::evaluate("a**2 + 3*b", &env).unwrap();
//! assert_eq!(c.as_slice::<f64>().unwrap(), &[2.5, 4.75, 9.375]);
//! ```
//!
//! # What is here
//!
//! - [`evaluate`] and [`evaluate_with`]: text and an [`Env`] of named arrays
//!   (or scalars) in, an [`Array`] out. The compiled expression is kept for
//!   the next call with the same text and types.
//! - [`Expr::compile`] for a [`Signature`] (names and [`DType`]s), then
//!   [`Expr::eval`], [`Expr::eval_into`] (into your buffer),
//!   [`Expr::eval_in_place`], or the positional forms that take the inputs
//!   in signature order; its `Display` is the bytecode listing.
//! - [`ArrayView`] borrows your data: any shape, strides, or raw bytes in a
//!   [`Format`] (a [`Storage`] such as `uint8` or `float16`, either byte
//!   order), converted block by block as it is read.
//! - [`Options`] (threads, block length, machine code, an [`InterruptFlag`]);
//!   [`set_num_threads`] and [`num_threads`] are the global thread count.
//! - [`Error`]: an [`ErrorKind`], a message and the [`Span`] of the place in
//!   the expression; [`Error::rendered`] shows it with a caret.
//! - [`chunked`]: evaluation over inputs and outputs too large for memory,
//!   read from a [`chunked::Source`] and written to a [`chunked::Sink`] a
//!   chunk at a time.
//!
//! The language, its functions and types are described in the repository's
//! `docs/` (`language.md`, `functions.md`, `types.md`); how the library is
//! built, stage by stage, in `docs/ARCHITECTURE.md`.

// `cargo doc` with `--cfg docsrs` (docs.rs) marks what needs a feature.
#![cfg_attr(docsrs, feature(doc_cfg))]
// Every unsafe operation states, next to it, the invariant that makes it
// sound; one operation per block keeps each argument about one thing.
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(
    clippy::undocumented_unsafe_blocks,
    clippy::multiple_unsafe_ops_per_block
)]

mod array;
mod cache;
pub mod chunked;
mod codegen;
mod cpu;
mod dtype;
mod error;
mod expr;
mod functions;
mod hir;
#[cfg(any(feature = "ndarray", feature = "arrow"))]
#[cfg_attr(docsrs, doc(cfg(any(feature = "ndarray", feature = "arrow"))))]
pub mod interop;
mod jit;
mod kernels;
mod memory;
mod optimize;
mod process;
mod program;
mod stages;
mod syntax;
#[cfg(test)]
mod testing;
mod typeck;
mod vm;

pub use array::{Array, ArrayView, Buffer, Data, Element, Env, Value};
pub use cpu::{CpuLevel, ParseCpuLevelError, cpu_level, cpu_level_from_env, set_cpu_level};
pub use dtype::{DType, Format, Scalar, Storage};
pub use error::{Error, ErrorKind, Result, Span};
pub use expr::{Expr, Signature, evaluate, evaluate_with};
pub use num_complex::Complex64;
pub use syntax::variable_names;
pub use vm::{
    DEFAULT_BLOCK_LEN, InterruptFlag, MAX_THREADS, Options, num_threads, set_num_threads,
};

/// Internals that vexpr's own tools use: the command line (its REPL's
/// generators and `:time`), the Python binding, the fuzz targets, the tests
/// and the benchmarks.
///
/// Not covered by semver; for vexpr's own tools. Anything here may change
/// or go in any release. Use the crate's documented items instead.
#[doc(hidden)]
pub mod unstable {
    pub use crate::array::c_strides;
    pub use crate::dtype::SUPPORTED;
    pub use crate::functions::{REDUCTIONS, TABLE, reference_markdown};
    pub use crate::kernels::{Operand, vmath};
    pub use crate::memory::try_filled;
    pub use crate::program::{MAX_ARGS, Program, Role};
    pub use crate::stages::Stage;
    pub use crate::syntax::ast::{ExprKind, Literal};
    pub use crate::syntax::lexer::{Lexer, Token};
    pub use crate::syntax::parse;

    /// The final program of `expr` (its reduction stages, if any, are in
    /// [`stages`]).
    pub fn program(expr: &crate::Expr) -> &Program {
        expr.program()
    }

    /// Evaluates `expr` over inputs that are each one contiguous, aligned
    /// run of elements in native byte order (`inputs[v]` for the
    /// signature's variable `v`, as bytes) into `out` (the result's
    /// elements, as many as each input has): for a binding that has made the
    /// shape checks itself (the Python extension's per-call fast path),
    /// skipping the views of [`Expr::eval_into`](crate::Expr::eval_into).
    /// An expression with reductions or strings, or inputs of the wrong
    /// length or alignment, are an `Input` error.
    ///
    /// ```
    /// use vexpr::{DType, Expr, Options, Signature};
    /// let sig = Signature::new().with("a", DType::Float64).with("b", DType::Int32);
    /// let expr = Expr::compile("a * b", &sig).unwrap();
    /// let (a, b) = ([1.5f64, 2.0], [2i32, 3]);
    /// let mut out = [0.0f64; 2];
    /// let inputs = [bytemuck::cast_slice(&a), bytemuck::cast_slice(&b)];
    /// let bytes = bytemuck::cast_slice_mut(&mut out);
    /// vexpr::unstable::eval_contiguous(&expr, &inputs, bytes, Options::default()).unwrap();
    /// assert_eq!(out, [3.0, 6.0]);
    /// ```
    pub fn eval_contiguous(
        expr: &crate::Expr,
        inputs: &[&[u8]],
        out: &mut [u8],
        options: crate::Options,
    ) -> crate::Result<()> {
        expr.eval_contiguous(inputs, out, options)
    }

    /// The reduction stages of `expr`, in the order they run.
    pub fn stages(expr: &crate::Expr) -> &[Stage] {
        expr.stages()
    }

    /// E1-E8, the benchmark expressions of `docs/performance.md`, in order.
    pub const BENCHMARKS: [&str; 8] = [
        "2*a + 3*b",
        "a**2 + 3*b",
        "2*a**3 - 4*a**5 + 6*log(a)",
        "abs(a - b) / (abs(a) + abs(b))",
        "sin(a)**2 + cos(b)**2",
        "where(a > b, a*b, a - b)",
        "exp(-a*a) * sqrt(b)",
        "arctan2(a, b) + tanh(a*b)",
    ];

    /// Whether `expr`'s final program runs as machine code at the process's
    /// CPU level (generating the code if it has none yet).
    pub fn runs_machine_code(expr: &crate::Expr) -> bool {
        expr.program().machine_code().is_some()
    }
}

/// The deepest nesting of operators and calls an expression may have.
/// Parentheses alone do not count: `((((a))))` has depth 1, `-(-(-a))` depth 4.
/// Deeper input is refused with [`ErrorKind::TooDeep`] instead of risking the stack.
///
/// ```
/// let deep = format!("{}a", "-".repeat(vexpr::MAX_NESTING + 1));
/// let err = vexpr::variable_names(&deep).unwrap_err();
/// assert_eq!(err.kind(), vexpr::ErrorKind::TooDeep);
/// ```
pub const MAX_NESTING: usize = 10_000;

/// The longest expression text, in bytes (1 MiB). Longer text is refused with
/// [`ErrorKind::TooLarge`] before it is read. Within the limits of this page,
/// compiling any expression takes time and memory linear in its length
/// (`cargo run --release -p vexpr --example compile_limits` measures the
/// worst shapes).
///
/// ```
/// let long = format!("a{}", " ".repeat(vexpr::MAX_SOURCE_LEN));
/// let err = vexpr::variable_names(&long).unwrap_err();
/// assert_eq!(err.kind(), vexpr::ErrorKind::TooLarge);
/// ```
pub const MAX_SOURCE_LEN: usize = 1 << 20;

/// The most reductions (`sum`, `prod`, `min`, `max`) one expression may have:
/// each runs as a stage of its own, with an array of its own.
///
/// ```
/// use vexpr::{DType, Expr, Signature};
/// let sums: Vec<String> = (0..=vexpr::MAX_STAGES).map(|k| format!("sum(a*{k})")).collect();
/// let sums = sums.join(" + ");
/// let err = Expr::compile(&sums, &Signature::new().with("a", DType::Float64)).unwrap_err();
/// assert_eq!(err.kind(), vexpr::ErrorKind::TooLarge);
/// ```
pub const MAX_STAGES: usize = 1024;

/// The most tokens (names, literals, operators, brackets) one expression may
/// have. Everything compiled from the text grows with its tokens (the tree,
/// the typed nodes, the registers of a program: at most a few per token), so
/// this bounds compile time and memory; more is refused with
/// [`ErrorKind::TooLarge`] as soon as the lexer reaches it.
///
/// ```
/// // A balanced sum of 2^15 ones: over 130,000 tokens, nested 15 deep.
/// fn balanced(levels: u32) -> String {
///     match levels {
///         0 => "1".to_string(),
///         _ => format!("({0}+{0})", balanced(levels - 1)),
///     }
/// }
/// let err = vexpr::variable_names(&balanced(15)).unwrap_err();
/// assert_eq!(err.kind(), vexpr::ErrorKind::TooLarge);
/// ```
pub const MAX_TOKENS: usize = 1 << 16;
