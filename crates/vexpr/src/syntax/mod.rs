//! Syntax: expression text in, [`ast::Expr`] out.
//!
//! [`lexer`] turns text into tokens (logos), the lalrpop grammar in the
//! workspace's `grammar/vexpr.lalrpop` turns tokens into a tree, and `build`
//! holds the grammar's actions. Every failure is an [`Error`] with the span of
//! the offending text; nesting is bounded by [`crate::MAX_NESTING`].

pub mod ast;
pub(crate) mod build;
pub mod lexer;

use crate::error::{Error, ErrorKind, Span};
use lalrpop_util::{ParseError, lalrpop_mod};
use std::sync::Arc;

lalrpop_mod!(
    #[allow(
        clippy::all,
        clippy::pedantic,
        unused_parens,
        dead_code,
        unused_imports
    )]
    grammar,
    "/vexpr.rs"
);

/// Parses an expression into its syntax tree.
///
/// ```
/// use vexpr::unstable::{ExprKind, parse};
/// let ast = parse("-a**2").unwrap();
/// assert!(matches!(ast.kind, ExprKind::Unary { .. })); // -(a**2)
/// assert!(parse("a +").is_err());
/// ```
pub fn parse(source: &str) -> Result<ast::Expr, Error> {
    if source.trim().is_empty() {
        let error = Error::new(
            ErrorKind::Syntax,
            Span::new(0, source.len()),
            "empty expression",
        );
        return Err(error.with_source(&Arc::from(source)));
    }
    if source.len() > crate::MAX_SOURCE_LEN {
        let error = Error::new(
            ErrorKind::TooLarge,
            Span::new(crate::MAX_SOURCE_LEN, crate::MAX_SOURCE_LEN + 1),
            format!(
                "expression too long: {} bytes (the limit is {} bytes)",
                source.len(),
                crate::MAX_SOURCE_LEN
            ),
        );
        return Err(error.with_source(&Arc::from(source)));
    }
    grammar::ExprParser::new()
        .parse(lexer::Lexer::new(source))
        .map_err(|e| from_parse_error(e, source).with_source(&Arc::from(source)))
}

/// The variables `source` reads: every name that is not a function, a keyword
/// or `None`, sorted and without repeats (the order in which numexpr passes
/// inputs to an expression compiled without a signature). Fails only where
/// [`parse`] fails.
///
/// ```
/// let names = vexpr::variable_names("where(b > 0, a*b, sum(c, axis=None))").unwrap();
/// assert_eq!(names, ["a", "b", "c"]);
/// ```
pub fn variable_names(source: &str) -> Result<Vec<String>, Error> {
    let tree = parse(source)?;
    let mut names: Vec<String> = Vec::new();
    // An explicit stack: trees may nest up to `MAX_NESTING` deep.
    let mut pending = vec![&tree];
    while let Some(node) = pending.pop() {
        match &node.kind {
            ast::ExprKind::Literal(_) => {}
            ast::ExprKind::Name(name) if name == "None" => {}
            ast::ExprKind::Name(name) => names.push(name.clone()),
            ast::ExprKind::Unary { operand, .. } => pending.push(operand),
            ast::ExprKind::Binary { lhs, rhs, .. } => pending.extend([&**lhs, &**rhs]),
            ast::ExprKind::Call { args, keywords, .. } => {
                pending.extend(args);
                pending.extend(keywords.iter().map(|k| &k.value));
            }
        }
    }
    names.sort_unstable();
    names.dedup();
    Ok(names)
}

fn from_parse_error(error: ParseError<usize, lexer::Token<'_>, Error>, source: &str) -> Error {
    match error {
        ParseError::User { error } => error,
        ParseError::InvalidToken { location } => Error::new(
            ErrorKind::Syntax,
            Span::new(location, location + 1),
            "invalid token",
        ),
        ParseError::UnrecognizedEof { location, expected } => Error::new(
            ErrorKind::Syntax,
            Span::new(location, location),
            format!("unexpected end of expression{}", expected_list(&expected)),
        ),
        ParseError::UnrecognizedToken {
            token: (l, _, r),
            expected,
        } => Error::new(
            ErrorKind::Syntax,
            Span::new(l, r),
            format!("unexpected `{}`{}", &source[l..r], expected_list(&expected)),
        ),
        ParseError::ExtraToken { token: (l, _, r) } => Error::new(
            ErrorKind::Syntax,
            Span::new(l, r),
            format!(
                "unexpected `{}` after the end of the expression",
                &source[l..r]
            ),
        ),
    }
}

/// Turns lalrpop's terminal names (`"\"+\""`, `name`) into a readable list.
fn expected_list(expected: &[String]) -> String {
    let readable: Vec<String> = expected
        .iter()
        .map(|t| match t.trim_matches('"') {
            "name" => "a name".to_string(),
            "int" | "float" | "imag" => "a number".to_string(),
            "string" => "a string".to_string(),
            s => format!("`{}`", s.replace("\\\"", "\"")),
        })
        .fold(Vec::new(), |mut acc, s| {
            if !acc.contains(&s) {
                acc.push(s);
            }
            acc
        });
    match readable.len() {
        0 => String::new(),
        1..=6 => format!("; expected {}", readable.join(", ")),
        _ if readable.iter().any(|r| r == "a name") => {
            "; expected an operand (a name, a number, or `(`)".to_string()
        }
        _ => "; expected an operator or the end of the expression".to_string(),
    }
}

#[cfg(test)]
mod tests;
