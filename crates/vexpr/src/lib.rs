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
//! # The pipeline
//! Each stage is its own module and says in its doc what it takes and gives:
//!
//! | stage | module | in | out |
//! |---|---|---|---|
//! | lexing | [`syntax::lexer`] | text | tokens |
//! | parsing | [`syntax`] (grammar in `grammar/vexpr.lalrpop`) | tokens | [`syntax::ast::Expr`] |
//! | type checking | [`typeck`] | AST + variable types | [`hir::Hir`] |
//! | optimizing | [`optimize`] | HIR | smaller HIR |
//! | staging | [`stages`] | HIR with reductions | one program per reduction + the final one |
//! | code generation | [`codegen`] | HIR | [`program::Program`] |
//! | execution | [`vm`] | program + inputs | output |
//! | machine code | [`jit`] | a float64 program (AVX-512 CPUs) | one loop of machine code the VM calls |
//! | kernels | [`kernels`] | operand blocks | result block |
//!
//! [`functions`] is the one table of operators and functions that the type
//! checker, code generation and the documentation read.

// `cargo doc` with `--cfg docsrs` (docs.rs) marks what needs a feature.
#![cfg_attr(docsrs, feature(doc_cfg))]
// Every unsafe operation states, next to it, the invariant that makes it
// sound; one operation per block keeps each argument about one thing.
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(
    clippy::undocumented_unsafe_blocks,
    clippy::multiple_unsafe_ops_per_block
)]

pub mod array;
pub mod chunked;
pub mod codegen;
pub mod dtype;
pub mod error;
pub mod functions;
pub mod hir;
#[cfg(any(feature = "ndarray", feature = "arrow"))]
#[cfg_attr(docsrs, doc(cfg(any(feature = "ndarray", feature = "arrow"))))]
pub mod interop;
pub mod jit;
pub mod kernels;
pub mod memory;
pub mod optimize;
pub mod program;
pub mod stages;
pub mod syntax;
pub mod typeck;
pub mod vm;

mod expr;

pub use array::{Array, ArrayView, Buffer, Data, Element, Env, ShapeError, Value};
pub use dtype::{DType, Format, Scalar, Storage};
pub use error::{Error, ErrorKind, Result, Span};
pub use expr::{Expr, Signature, evaluate, evaluate_with};
pub use num_complex::Complex64;
pub use syntax::variable_names;
pub use vm::{DEFAULT_BLOCK_LEN, InterruptFlag, Options, Reduction, default_threads};

/// The deepest nesting of operators and calls an expression may have.
/// Parentheses alone do not count: `((((a))))` has depth 1, `-(-(-a))` depth 4.
/// Deeper input is refused with [`ErrorKind::TooDeep`] instead of risking the stack.
pub const MAX_NESTING: usize = 10_000;

/// The longest expression text, in bytes (1 MiB). Longer text is refused with
/// [`ErrorKind::TooLarge`] before it is read. Within the limits of this page,
/// compiling any expression takes time and memory linear in its length
/// (`cargo bench -p vexpr -- compile_limits` measures the worst shapes).
pub const MAX_SOURCE_LEN: usize = 1 << 20;

/// The most reductions (`sum`, `prod`, `min`, `max`) one expression may have:
/// each runs as a stage of its own, with an array of its own.
pub const MAX_STAGES: usize = 1024;

/// The most tokens (names, literals, operators, brackets) one expression may
/// have. Everything compiled from the text grows with its tokens (the tree,
/// the typed nodes, the registers of a program: at most a few per token), so
/// this bounds compile time and memory; more is refused with
/// [`ErrorKind::TooLarge`] as soon as the lexer reaches it.
pub const MAX_TOKENS: usize = 1 << 16;
