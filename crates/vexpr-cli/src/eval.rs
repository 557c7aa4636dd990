//! `vexpr eval EXPR NAME=VALUE ... [-o OUT.npy] [--threads N]`.
//!
//! Takes the expression and its variables (numbers or `.npy` files), evaluates
//! it with the library, and gives the result either as a `.npy` file (`-o`)
//! or as NumPy-style text for stdout. Fails (status 1) on an evaluation error,
//! a file that cannot be read or written, or a result too large to allocate;
//! a variable given twice is a usage error (status 2).

use crate::Failure;
use crate::value::{Binding, Source};
use std::path::PathBuf;
use vexpr::{Array, Complex64, DType, Element, Env, Expr, Options, Signature, Value};

/// The arguments of `vexpr eval`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The expression, e.g. "2*a**3 - 4*a**5 + 6*log(a)" (it may start with `-`)
    #[arg(allow_hyphen_values = true)]
    pub expr: String,

    /// A variable: NAME=FILE.npy, or NAME=NUMBER (3 is int64, 2.5 float64,
    /// True/False bool, 1+2j complex128)
    #[arg(value_name = "NAME=VALUE", value_parser = crate::value::parse_binding)]
    pub bindings: Vec<Binding>,

    /// Write the result to this .npy file instead of printing it
    #[arg(short, long, value_name = "OUT.npy")]
    pub output: Option<PathBuf>,

    /// Worker threads (default: VEXPR_NUM_THREADS or the number of cores)
    #[arg(long, value_name = "N", value_parser = crate::parse_threads)]
    pub threads: Option<usize>,
}

/// Runs `vexpr eval`: the text to print, or nothing when the result went to a file.
pub fn run(args: &Args) -> Result<Option<String>, Failure> {
    crate::check_unique(&args.bindings)?;
    // Files are read first, then borrowed by the environment.
    let mut arrays: Vec<(&str, Array)> = Vec::new();
    let mut env = Env::new();
    for binding in &args.bindings {
        match &binding.value {
            Source::Literal(scalar) => env.set(&binding.name, Value::Scalar(scalar.clone())),
            Source::File(path) => {
                let array = crate::npy::read(path).map_err(|message| {
                    Failure::Message(format!("`{}`: {message}", binding.name))
                })?;
                arrays.push((&binding.name, array));
            }
        }
    }
    for (name, array) in &arrays {
        env.set(name, array);
    }

    let mut options = Options::default();
    if let Some(threads) = args.threads {
        options.threads = threads;
    }
    let expr = Expr::compile(&args.expr, &Signature::of(&env))?;
    let shape = expr.result_shape(&env)?;
    let result = match expr.result_dtype() {
        DType::Bool => eval_new(&expr, &env, false, &shape, options)?,
        DType::Int32 => eval_new(&expr, &env, 0i32, &shape, options)?,
        DType::Int64 => eval_new(&expr, &env, 0i64, &shape, options)?,
        DType::Float32 => eval_new(&expr, &env, 0.0f32, &shape, options)?,
        DType::Float64 => eval_new(&expr, &env, 0.0f64, &shape, options)?,
        DType::Complex128 => eval_new(&expr, &env, Complex64::new(0.0, 0.0), &shape, options)?,
        // Strings have no output slice type; the library allocates them (a
        // zero-width result as `S1`, as NumPy stores b'').
        DType::Bytes(_) => expr.eval_with(&env, options)?,
    };

    match &args.output {
        Some(path) => {
            crate::npy::write(path, &result).map_err(Failure::Message)?;
            Ok(None)
        }
        None => Ok(Some(crate::format::format_array(&result))),
    }
}

/// Evaluates into an output allocated here, so that a result too large for
/// memory (say, two long vectors broadcast into a matrix) is a message rather
/// than the abort a failed allocation inside the library would be.
fn eval_new<T: Element>(
    expr: &Expr,
    env: &Env<'_>,
    zero: T,
    shape: &[usize],
    options: Options,
) -> Result<Array, Failure> {
    let len = shape.iter().try_fold(1usize, |acc, &n| acc.checked_mul(n));
    let len =
        len.ok_or_else(|| Failure::Message(format!("the result's shape {shape:?} is too large")))?;
    let mut out = crate::try_filled(zero, len)?;
    expr.eval_into_with(env, &mut out, options)?;
    Array::from_vec(out, shape).map_err(|e| Failure::Message(e.to_string()))
}
