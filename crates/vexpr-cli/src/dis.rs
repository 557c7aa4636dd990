//! `vexpr dis EXPR [NAME=VALUE ...]`.
//!
//! Takes an expression and, optionally, values that fix its variables' types;
//! gives the bytecode listing the library compiles it to (the `Display` of
//! [`vexpr::Expr`]: one program per reduction stage, then the final one). Variables without a value are `float64`, so
//! `vexpr dis "2*a + 3*b"` needs nothing else; a `.npy` value is typed from
//! its header alone, without reading its data.

use crate::Failure;
use crate::value::{Binding, Source};
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

/// Runs `vexpr dis`: the listing to print.
pub fn run(args: &Args) -> Result<Option<String>, Failure> {
    crate::check_unique(&args.bindings)?;
    let mut signature = Signature::new();
    for name in crate::variables(&args.expr)? {
        let dtype = match args.bindings.iter().find(|b| b.name == name) {
            None => DType::Float64,
            Some(Binding {
                value: Source::Literal(scalar),
                ..
            }) => scalar.dtype(),
            Some(Binding {
                value: Source::File(path),
                ..
            }) => {
                let (dtype, _shape) = crate::npy::read_dtype(path)
                    .map_err(|message| Failure::Message(format!("`{name}`: {message}")))?;
                dtype
            }
        };
        signature = signature.with(&name, dtype);
    }
    let expr = Expr::compile(&args.expr, &signature)?;
    Ok(Some(expr.to_string().trim_end().to_string()))
}
