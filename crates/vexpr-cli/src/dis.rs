//! `vexpr dis EXPR [NAME=VALUE ...]`.
//!
//! Takes an expression and, optionally, values that fix its variables' types;
//! gives the bytecode listing the library compiles it to (the `Display` of
//! [`vexpr::Expr::program`]). Variables without a value are `float64`, so
//! `vexpr dis "2*a + 3*b"` needs nothing else; a `.npy` value is typed from
//! its header alone, without reading its data.

use crate::value::{Binding, Source};
use std::process::ExitCode;
use vexpr::{DType, Expr, Signature};

/// The arguments of `vexpr dis`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The expression (it may start with `-`)
    #[arg(allow_hyphen_values = true)]
    pub expr: String,

    /// A variable's type, from a value: NAME=FILE.npy or NAME=NUMBER (others are float64)
    #[arg(value_name = "NAME=VALUE", value_parser = crate::value::parse_binding)]
    pub bindings: Vec<Binding>,
}

/// Runs `vexpr dis`.
pub fn run(args: &Args) -> ExitCode {
    if let Some(name) = crate::duplicate_name(&args.bindings) {
        return crate::usage_error(&format!("`{name}` is given more than once"));
    }
    let names = match vexpr::syntax::parse(&args.expr) {
        Ok(ast) => ast.variables(),
        // Parse errors carry no expression text; render them against it here.
        Err(err) => return crate::failure_text(&err.render(&args.expr)),
    };
    let mut signature = Signature::new();
    // `None` is a keyword value (`axis=None`), never a variable.
    for name in names.iter().filter(|n| *n != "None") {
        let dtype = match args.bindings.iter().find(|b| &b.name == name) {
            None => DType::Float64,
            Some(Binding { value: Source::Literal(scalar), .. }) => scalar.dtype(),
            Some(Binding { value: Source::File(path), name }) => match crate::npy::read_dtype(path) {
                Ok((dtype, _shape)) => dtype,
                Err(message) => return crate::failure(&format!("`{name}`: {message}")),
            },
        };
        signature = signature.with(name, dtype);
    }
    match Expr::compile(&args.expr, &signature) {
        Ok(expr) => crate::print(expr.program().to_string().trim_end()),
        Err(err) => crate::eval_error(&err),
    }
}
