//! `vexpr eval EXPR NAME=VALUE ... [-o OUT.npy] [--threads N]`.
//!
//! Takes the expression and its variables (numbers or `.npy` files), evaluates
//! it with the library, and gives the result either as a `.npy` file (`-o`)
//! or printed NumPy-style on stdout. Exit status 1 for an evaluation error
//! (printed with a caret under the place), a file that cannot be read or
//! written; 2 for a variable given twice.

use crate::value::{Binding, Source};
use std::path::PathBuf;
use std::process::ExitCode;
use vexpr::{Array, Env, Value};

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

/// Runs `vexpr eval`.
pub fn run(args: &Args) -> ExitCode {
    if let Some(name) = crate::duplicate_name(&args.bindings) {
        return crate::usage_error(&format!("`{name}` is given more than once"));
    }
    // Files are read first, then borrowed by the environment.
    let mut arrays: Vec<(&str, Array)> = Vec::new();
    let mut env = Env::new();
    for binding in &args.bindings {
        match &binding.value {
            Source::Literal(scalar) => env.set(&binding.name, Value::Scalar(scalar.clone())),
            Source::File(path) => match crate::npy::read(path) {
                Ok(array) => arrays.push((&binding.name, array)),
                Err(message) => return crate::failure(&format!("`{}`: {message}", binding.name)),
            },
        }
    }
    for (name, array) in &arrays {
        env.set(name, array);
    }

    let mut options = vexpr::Options::default();
    if let Some(threads) = args.threads {
        options.threads = threads;
    }
    let result = match vexpr::evaluate_with(&args.expr, &env, options) {
        Ok(result) => result,
        Err(err) => return crate::eval_error(&err),
    };

    match &args.output {
        Some(path) => match crate::npy::write(path, &result) {
            Ok(()) => ExitCode::SUCCESS,
            Err(message) => crate::failure(&message),
        },
        None => crate::print(&crate::format::format_array(&result)),
    }
}
