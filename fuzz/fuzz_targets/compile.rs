//! Arbitrary text through the whole pipeline: it must never panic.
//!
//! The bytes (decoded as UTF-8, invalid sequences replaced) are compiled for
//! variables of every dtype (`vexpr_fuzz::vars`). A failure must be an error
//! whose span lies inside the text, on character boundaries, and which renders
//! (with its caret) without panicking. An expression that compiles has its
//! bytecode listing printed (what `vexpr dis` shows), and is evaluated twice
//! (the second run uses machine code where the program allows it) on arrays of
//! zero to three elements on one thread; its errors must satisfy the same.
//!
//! Run with the dictionary `fuzz/vexpr.dict`, which lists the language's
//! operators, functions, keywords and awkward literals.

#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use vexpr::{ArrayView, Buffer, Complex64, DType, Env, Expr, Options, Signature};
use vexpr_fuzz::outcome::check_error;
use vexpr_fuzz::vars::{self, VARS};

/// Arrays of every variable at each length from 0 to 3, with awkward values.
struct Arrays {
    by_len: Vec<Vec<Buffer>>,
}

impl Arrays {
    /// Infinities, NaNs, signed zeros, subnormals and extreme integers among
    /// the first three elements of every dtype.
    fn new() -> Arrays {
        let floats = [1.5, -0.0, f64::NAN];
        let by_len = (0..=3)
            .map(|n| {
                VARS.iter()
                    .map(|&(_, dtype)| match dtype {
                        DType::Bool => Buffer::Bool((0..n).map(|k| k % 2 == 0).collect()),
                        DType::Int32 => Buffer::Int32([7, -3, i32::MIN][..n].to_vec()),
                        DType::Int64 => Buffer::Int64([-2, 0, i64::MAX][..n].to_vec()),
                        DType::Float32 => {
                            Buffer::Float32([0.25, f32::INFINITY, -1e-40][..n].to_vec())
                        }
                        DType::Float64 => Buffer::Float64(floats[..n].to_vec()),
                        DType::Complex128 => Buffer::Complex128(
                            (0..n).map(|k| Complex64::new(floats[k], 2.0)).collect(),
                        ),
                        DType::Bytes(width) => Buffer::Bytes {
                            data: b"abc\0b\0\0\0xyzw"
                                .iter()
                                .copied()
                                .cycle()
                                .take(n * width)
                                .collect(),
                            width,
                        },
                    })
                    .collect()
            })
            .collect();
        Arrays { by_len }
    }

    /// Every variable bound to its array of `len` elements.
    fn env(&self, len: usize) -> Env<'_> {
        let mut env = Env::new();
        for (&(name, _), buffer) in VARS.iter().zip(&self.by_len[len]) {
            let view = ArrayView::contiguous(buffer.data(), &[len]).expect("a whole buffer");
            env.set(name, view);
        }
        env
    }
}

fuzz_target!(|data: &[u8]| {
    static SIGNATURE: OnceLock<Signature> = OnceLock::new();
    static ARRAYS: OnceLock<Arrays> = OnceLock::new();
    let signature = SIGNATURE.get_or_init(vars::signature);
    let source = String::from_utf8_lossy(data);
    let expr = match Expr::compile(&source, signature) {
        Ok(expr) => expr,
        Err(err) => {
            check_error(&err, &source);
            return;
        }
    };
    let _ = expr.to_string();
    let env = ARRAYS.get_or_init(Arrays::new).env(data.len() % 4);
    let options = Options::default()
        .with_block_len(16)
        .with_threads(1)
        .with_jit(true);
    for _ in 0..2 {
        if let Err(err) = expr.eval_with(&env, options) {
            check_error(&err, &source);
        }
    }
});
